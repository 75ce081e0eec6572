//! The BlobStore suite on S3 (SeaweedFS from `scripts/services.sh` in CI), when
//! `BAAS_TEST_S3_ENDPOINT` is set; plus a multipart upload and a presigned URL fetched
//! over HTTP.
#![cfg(feature = "s3")]

use std::sync::Arc;

use baas_core::{ManualClock, MasterKey};
use baas_store::blob::testing::{
    SUITE_LIMITS, blob_store_suite, chunked, fresh_tenant, test_s3_client,
};
use baas_store::blob::{
    BlobLimits, BlobStore, MemoryBlobLedger, ObjectBlobStore, SignedUrlKind, UrlSigner,
};
use object_store::aws::AmazonS3;

fn s3() -> Option<AmazonS3> {
    let endpoint = baas_core::testing::service("BAAS_TEST_S3_ENDPOINT")?;
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    Some(test_s3_client(&endpoint))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_passes_the_suite_with_presigned_urls() {
    let Some(s3) = s3() else { return };
    let clock = ManualClock::new();
    let signer = UrlSigner::new(&MasterKey::generate(), clock.shared());
    let store = ObjectBlobStore::s3(s3, Arc::new(MemoryBlobLedger::new()), signer)
        .with_limits(SUITE_LIMITS)
        .with_part_size(5 << 20);
    blob_store_suite(&store, &|d| clock.advance(d)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_passes_the_suite_with_hmac_urls() {
    let Some(s3) = s3() else { return };
    let clock = ManualClock::new();
    let signer = UrlSigner::new(&MasterKey::generate(), clock.shared());
    let store = ObjectBlobStore::s3(s3, Arc::new(MemoryBlobLedger::new()), signer)
        .with_presigner(None)
        .with_limits(SUITE_LIMITS)
        .with_part_size(5 << 20);
    blob_store_suite(&store, &|d| clock.advance(d)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_multipart_upload_and_presigned_get() {
    let Some(s3) = s3() else { return };
    let clock = ManualClock::new();
    let signer = UrlSigner::new(&MasterKey::generate(), clock.shared());
    let store = ObjectBlobStore::s3(s3, Arc::new(MemoryBlobLedger::new()), signer)
        .with_limits(BlobLimits {
            max_object_bytes: 64 << 20,
            tenant_quota_bytes: 64 << 20,
        })
        .with_part_size(5 << 20);
    let t = fresh_tenant();
    let data: Vec<u8> = (0..(11 << 20) + 7)
        .map(|i: usize| (i % 251) as u8)
        .collect();
    let out = store
        .put(
            &t,
            "big/file.bin",
            "application/octet-stream",
            chunked(&data, 64 << 10),
        )
        .await
        .expect("multipart put");
    assert_eq!(out.meta.size, data.len() as u64);
    let got = store
        .get(&t, "big/file.bin", None)
        .await
        .expect("get")
        .bytes()
        .await
        .expect("body");
    assert!(got[..] == data[..], "multipart round trip");

    let url = store
        .signed_url(&t, "big/file.bin", std::time::Duration::from_secs(60))
        .await
        .expect("presign");
    assert_eq!(url.kind, SignedUrlKind::Presigned);
    let client = reqwest::Client::new();
    let resp = client
        .get(&url.url)
        .header("range", "bytes=0-9")
        .send()
        .await
        .expect("GET presigned");
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(&resp.bytes().await.expect("body")[..], &data[..10]);
    assert!(store.delete(&t, "big/file.bin").await.expect("delete"));
}
