//! S3 (SeaweedFS) through object_store.

use baas_core::testing::{service, unique_name};
use futures_util::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

#[tokio::test]
async fn s3_put_get_list_delete_through_object_store() {
    super::install_crypto_provider();
    let (Some(endpoint), Some(bucket), Some(key_id), Some(secret)) = (
        service("BAAS_TEST_S3_ENDPOINT"),
        service("BAAS_TEST_S3_BUCKET"),
        service("BAAS_TEST_S3_ACCESS_KEY_ID"),
        service("BAAS_TEST_S3_SECRET_ACCESS_KEY"),
    ) else {
        return;
    };
    let store = AmazonS3Builder::new()
        .with_endpoint(endpoint)
        .with_bucket_name(bucket)
        .with_access_key_id(key_id)
        .with_secret_access_key(secret)
        .with_region("us-east-1")
        .with_allow_http(true)
        .build()
        .expect("s3 store");

    // A key prefix of its own, so parallel tests never meet.
    let prefix = Path::from(unique_name("smoke"));
    let path = prefix.clone().join("hello.txt");
    let body = b"hello s3".as_slice();

    store
        .put(&path, PutPayload::from_static(body))
        .await
        .expect("put");
    let got = store
        .get(&path)
        .await
        .expect("get")
        .bytes()
        .await
        .expect("body");
    assert_eq!(got.as_ref(), body);

    let listed: Vec<_> = store.list(Some(&prefix)).try_collect().await.expect("list");
    assert_eq!(
        listed.len(),
        1,
        "exactly the one object under the prefix: {listed:?}"
    );
    assert_eq!(listed[0].location, path);
    assert_eq!(listed[0].size, body.len() as u64);

    store.delete(&path).await.expect("delete");
    match store.get(&path).await {
        Err(object_store::Error::NotFound { .. }) => {}
        other => panic!("expected NotFound after delete, got {other:?}"),
    }
}
