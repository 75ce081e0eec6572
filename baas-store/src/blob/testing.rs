//! The conformance suite for [`BlobStore`] (feature `testing`).
//!
//! Every backend's tests call [`blob_store_suite`] on a store built with
//! [`SUITE_LIMITS`] and the default signed-URL prefix. Each check uses fresh tenants
//! ([`unique_name`]), so stores sharing a bucket or database can run it side by side.
//!
//! `a` and `a/b` may both be objects: bytes live under version ids, not keys.

use std::collections::BTreeSet;
use std::time::Duration;

use baas_core::testing::unique_name;
use baas_core::{ErrorKind, TenantId};
use bytes::Bytes;
use futures::StreamExt as _;
use sha2::{Digest as _, Sha256};

use super::error::BlobError;
use super::signed_url::{DEFAULT_SIGNED_URL_PREFIX, SignedUrlParts};
use super::store::{BlobLimits, BlobStore, ByteRange, PutBody, SignedUrlKind};

/// The limits the suite expects the store under test to enforce: 2 KiB per object,
/// 4 KiB per tenant.
pub const SUITE_LIMITS: BlobLimits = BlobLimits {
    max_object_bytes: 2048,
    tenant_quota_bytes: 4096,
};

/// Run the whole [`BlobStore`] contract against `store`, which must enforce
/// [`SUITE_LIMITS`] and sign HMAC URLs (if it does not presign) under the default
/// prefix. `advance` moves the store's clock forward (a `ManualClock` in tests).
///
/// # Panics
///
/// On the first broken guarantee, naming it.
pub async fn blob_store_suite(store: &dyn BlobStore, advance: &dyn Fn(Duration)) {
    assert_eq!(store.limits(), SUITE_LIMITS, "the suite needs SUITE_LIMITS");
    put_get_head_delete_round_trip(store).await;
    ranged_get(store).await;
    list_pagination(store).await;
    tenant_isolation(store).await;
    bad_keys_write_nothing(store).await;
    size_limit(store).await;
    quota_under_concurrency(store).await;
    replace_at_a_full_quota(store).await;
    signed_urls(store, advance).await;
}

/// A fresh tenant for one check.
pub fn fresh_tenant() -> TenantId {
    TenantId::new(unique_name("blob")).expect("unique names are valid tenant ids")
}

/// A body of `data` streamed in chunks of `chunk` bytes.
pub fn chunked(data: &[u8], chunk: usize) -> PutBody {
    let chunks: Vec<Result<Bytes, baas_core::BoxError>> = data
        .chunks(chunk.max(1))
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures::stream::iter(chunks).boxed()
}

/// A client for the S3 test bucket that `scripts/services.sh` runs (SeaweedFS): the
/// server at `endpoint`, the bucket and credentials from `BAAS_TEST_S3_BUCKET`,
/// `BAAS_TEST_S3_ACCESS_KEY_ID` and `BAAS_TEST_S3_SECRET_ACCESS_KEY`, region
/// `us-east-1`, plain HTTP allowed for an `http://` endpoint. Install a rustls crypto
/// provider as the process default first.
///
/// ```no_run
/// let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
/// if let Some(endpoint) = baas_core::testing::service("BAAS_TEST_S3_ENDPOINT") {
///     let _s3 = baas_store::blob::testing::test_s3_client(&endpoint);
/// }
/// ```
///
/// # Panics
///
/// When one of the variables is unset or the client cannot be built.
#[cfg(feature = "s3")]
#[cfg_attr(docsrs, doc(cfg(feature = "s3")))]
pub fn test_s3_client(endpoint: &str) -> object_store::aws::AmazonS3 {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} must be set"));
    object_store::aws::AmazonS3Builder::new()
        .with_endpoint(endpoint)
        .with_allow_http(endpoint.starts_with("http://"))
        .with_region("us-east-1")
        .with_bucket_name(var("BAAS_TEST_S3_BUCKET"))
        .with_access_key_id(var("BAAS_TEST_S3_ACCESS_KEY_ID"))
        .with_secret_access_key(var("BAAS_TEST_S3_SECRET_ACCESS_KEY"))
        .build()
        .expect("S3 client for the test bucket")
}

fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

async fn read(store: &dyn BlobStore, tenant: &TenantId, key: &str) -> Vec<u8> {
    store
        .get(tenant, key, None)
        .await
        .unwrap_or_else(|e| panic!("get {key}: {e:?}"))
        .bytes()
        .await
        .expect("read body")
        .to_vec()
}

async fn put(store: &dyn BlobStore, tenant: &TenantId, key: &str, data: &[u8]) -> bool {
    store
        .put(tenant, key, "application/octet-stream", chunked(data, 100))
        .await
        .unwrap_or_else(|e| panic!("put {key}: {e:?}"))
        .created
}

/// Put, get, head and delete, with SHA-256, content type, replacement and an empty
/// object; usage follows.
pub async fn put_get_head_delete_round_trip(store: &dyn BlobStore) {
    let t = fresh_tenant();
    let data = b"hello, world".to_vec();
    let out = store
        .put(
            &t,
            "dir/a.txt",
            "text/plain; charset=utf-8",
            chunked(&data, 5),
        )
        .await
        .expect("put");
    assert!(out.created, "a new key is created");
    assert_eq!(out.meta.key, "dir/a.txt");
    assert_eq!(out.meta.size, data.len() as u64);
    assert_eq!(
        out.meta.sha256,
        sha256_hex(&data),
        "sha256 of the streamed bytes"
    );
    assert_eq!(out.meta.content_type, "text/plain; charset=utf-8");
    assert_eq!(
        store.head(&t, "dir/a.txt").await.expect("head"),
        out.meta,
        "head = put"
    );

    let got = store.get(&t, "dir/a.txt", None).await.expect("get");
    assert!(!got.partial);
    assert_eq!(got.range, 0..data.len() as u64);
    assert_eq!(got.meta, out.meta);
    assert_eq!(got.bytes().await.expect("body").to_vec(), data);

    // Replacement: created = false, new bytes and metadata, usage of the new size.
    let bigger = pattern(1536, 7); // larger than a small part size: multipart path
    let out2 = store
        .put(&t, "dir/a.txt", "application/x-test", chunked(&bigger, 100))
        .await
        .expect("replace");
    assert!(!out2.created, "replacing answers created = false");
    assert_eq!(out2.meta.sha256, sha256_hex(&bigger));
    assert_eq!(read(store, &t, "dir/a.txt").await, bigger);
    assert_eq!(
        store
            .head(&t, "dir/a.txt")
            .await
            .expect("head")
            .content_type,
        "application/x-test"
    );
    let usage = store.usage(&t).await.expect("usage");
    assert_eq!(usage.bytes_used, 1536, "usage counts the replacement only");
    assert_eq!(usage.bytes_reserved, 0, "no reservation left behind");

    // A small object replaced by one of the same size: new bytes, usage unchanged.
    let small = pattern(100, 1);
    assert!(put(store, &t, "dir/b.txt", &small).await);
    let same = pattern(100, 9);
    let out3 = store
        .put(&t, "dir/b.txt", "application/x-test", chunked(&same, 100))
        .await
        .expect("replace, same size");
    assert!(!out3.created);
    assert_eq!(out3.meta.sha256, sha256_hex(&same));
    assert_eq!(read(store, &t, "dir/b.txt").await, same);
    let usage = store.usage(&t).await.expect("usage");
    assert_eq!(
        (usage.bytes_used, usage.bytes_reserved),
        (1536 + 100, 0),
        "a same-size replacement moves no usage"
    );
    assert!(store.delete(&t, "dir/b.txt").await.expect("delete b"));

    // An empty object.
    assert!(put(store, &t, "empty", b"").await);
    let empty = store.head(&t, "empty").await.expect("head empty");
    assert_eq!(
        (empty.size, empty.sha256.as_str()),
        (0, sha256_hex(b"").as_str())
    );
    assert!(read(store, &t, "empty").await.is_empty());

    // Delete.
    assert!(
        store.delete(&t, "dir/a.txt").await.expect("delete"),
        "delete reports it existed"
    );
    assert_eq!(
        store.head(&t, "dir/a.txt").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        store.get(&t, "dir/a.txt", None).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert!(
        !store.delete(&t, "dir/a.txt").await.expect("delete again"),
        "second delete finds nothing"
    );
    assert!(store.delete(&t, "empty").await.expect("delete empty"));
    assert_eq!(
        store.usage(&t).await.expect("usage").bytes_used,
        0,
        "deletes give the bytes back"
    );
}

/// Single byte ranges: bounded, open, suffix, clipped, unsatisfiable.
pub async fn ranged_get(store: &dyn BlobStore) {
    let t = fresh_tenant();
    put(store, &t, "digits", b"0123456789").await;
    for (range, want, span) in [
        (ByteRange::FromTo(2, 4), &b"234"[..], 2..5),
        (ByteRange::From(7), b"789", 7..10),
        (ByteRange::Suffix(3), b"789", 7..10),
        (ByteRange::FromTo(5, 100), b"56789", 5..10),
        (ByteRange::FromTo(0, 0), b"0", 0..1),
    ] {
        let got = store
            .get(&t, "digits", Some(range))
            .await
            .expect("ranged get");
        assert!(got.partial, "{range:?} is partial");
        assert_eq!(got.range, span, "{range:?}");
        assert_eq!(got.meta.size, 10, "meta keeps the whole size");
        assert_eq!(&got.bytes().await.expect("body")[..], want, "{range:?}");
    }
    for range in [
        ByteRange::From(10),
        ByteRange::FromTo(20, 30),
        ByteRange::Suffix(0),
    ] {
        let err = store.get(&t, "digits", Some(range)).await.unwrap_err();
        assert_eq!(
            BlobError::find(&err),
            Some(&BlobError::RangeNotSatisfiable { size: 10 }),
            "{range:?} is unsatisfiable (416, Content-Range: bytes */10): {err:?}"
        );
        assert_eq!(err.kind(), ErrorKind::Invalid, "{range:?}");
    }
    let err = store
        .get(&t, "missing", Some(ByteRange::From(10)))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::NotFound,
        "a missing object is 404 first"
    );
    assert!(BlobError::find(&err).is_none());
}

/// Listing by prefix with pagination returns every key exactly once, in order.
pub async fn list_pagination(store: &dyn BlobStore) {
    let t = fresh_tenant();
    let mut want = BTreeSet::new();
    for i in 0..7 {
        let key = format!("p/{i:02}-{}", ["x", "y/z", "é"][i % 3]);
        put(store, &t, &key, b"x").await;
        want.insert(key);
    }
    for other in ["p.txt", "q/x", "pp/1"] {
        put(store, &t, other, b"x").await;
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = store
            .list(&t, "p/", cursor.as_deref(), 3)
            .await
            .expect("list page");
        assert!(page.items.len() <= 3, "page size respected");
        pages += 1;
        assert!(pages <= 4, "pagination terminates");
        seen.extend(page.items.iter().map(|m| m.key.clone()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(
        seen,
        want.iter().cloned().collect::<Vec<_>>(),
        "every key once, in order"
    );
    let all = store.list(&t, "", None, 100).await.expect("list all");
    assert_eq!(all.items.len(), 10);
    assert!(all.next_cursor.is_none());
    assert!(all.items.windows(2).all(|w| w[0].key < w[1].key), "sorted");
    let none = store
        .list(&t, "nothing/", None, 10)
        .await
        .expect("empty prefix");
    assert!(none.items.is_empty() && none.next_cursor.is_none());

    assert_eq!(
        store
            .list(&t, "", Some("not a cursor!"), 3)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Malformed
    );
    assert_eq!(
        store.list(&t, "", None, 0).await.unwrap_err().kind(),
        ErrorKind::Malformed,
        "a limit out of range is a bad query (400)"
    );
    assert_eq!(
        store.list(&t, "../", None, 3).await.unwrap_err().kind(),
        ErrorKind::Malformed
    );
}

/// Tenant A cannot read, list, overwrite or delete B's objects; one key in two tenants
/// is two objects.
pub async fn tenant_isolation(store: &dyn BlobStore) {
    let a = fresh_tenant();
    let b = fresh_tenant();
    assert!(put(store, &a, "shared/k", b"from A").await);
    assert!(put(store, &a, "only-a", b"secret").await);
    assert!(
        put(store, &b, "shared/k", b"from B").await,
        "same key in B is a new object"
    );
    assert_eq!(read(store, &a, "shared/k").await, b"from A");
    assert_eq!(read(store, &b, "shared/k").await, b"from B");

    assert_eq!(
        store.head(&b, "only-a").await.unwrap_err().kind(),
        ErrorKind::NotFound,
        "B reads A"
    );
    assert_eq!(
        store.get(&b, "only-a", None).await.unwrap_err().kind(),
        ErrorKind::NotFound,
        "B reads A"
    );
    let listed = store.list(&b, "", None, 100).await.expect("list B");
    assert_eq!(
        listed
            .items
            .iter()
            .map(|m| m.key.as_str())
            .collect::<Vec<_>>(),
        ["shared/k"],
        "B lists A"
    );
    assert!(
        !store.delete(&b, "only-a").await.expect("B delete"),
        "B deletes A"
    );
    assert_eq!(
        read(store, &a, "only-a").await,
        b"secret",
        "A's object survives B's delete"
    );
    assert!(
        put(store, &b, "only-a", b"overwrite?").await,
        "B's write makes B's own object"
    );
    assert_eq!(
        read(store, &a, "only-a").await,
        b"secret",
        "A's object survives B's write"
    );
    assert!(
        store
            .delete(&b, "shared/k")
            .await
            .expect("B deletes its own")
    );
    assert_eq!(read(store, &a, "shared/k").await, b"from A");
    for name in ["..", "a/../..", "../x"] {
        let err = store.get(&b, name, None).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Malformed, "traversal key {name:?}");
    }
    assert_eq!(store.usage(&a).await.expect("usage").bytes_used, 12);
    assert_eq!(store.usage(&b).await.expect("usage").bytes_used, 10);
}

/// Bad keys and content types are `Malformed` and write nothing.
pub async fn bad_keys_write_nothing(store: &dyn BlobStore) {
    let t = fresh_tenant();
    let long = "k".repeat(1025);
    for key in [
        "",
        "/a",
        "a/",
        "a//b",
        "..",
        "a/../b",
        "a..b",
        ".",
        "a\nb",
        "a\u{7}b",
        long.as_str(),
    ] {
        let err = store
            .put(&t, key, "text/plain", chunked(b"data", 2))
            .await
            .expect_err(key);
        assert_eq!(err.kind(), ErrorKind::Malformed, "key {key:?}");
        assert_eq!(
            store.delete(&t, key).await.unwrap_err().kind(),
            ErrorKind::Malformed
        );
    }
    let err = store
        .put(&t, "fine", "text/plain\r\nx: y", chunked(b"data", 2))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Malformed, "bad content type");
    assert!(
        store
            .list(&t, "", None, 10)
            .await
            .expect("list")
            .items
            .is_empty(),
        "nothing written"
    );
    assert_eq!(store.usage(&t).await.expect("usage"), Default::default());
}

/// An object over the size limit is `PayloadTooLarge` and leaves nothing (and an
/// existing object under the key untouched).
pub async fn size_limit(store: &dyn BlobStore) {
    let t = fresh_tenant();
    let max = usize::try_from(store.limits().max_object_bytes).expect("small limit");
    let exact = pattern(max, 1);
    assert!(
        put(store, &t, "exact", &exact).await,
        "exactly the limit is fine"
    );
    let err = store
        .put(
            &t,
            "big",
            "application/octet-stream",
            chunked(&pattern(max + 1, 2), 256),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PayloadTooLarge);
    assert_eq!(
        store.head(&t, "big").await.unwrap_err().kind(),
        ErrorKind::NotFound,
        "nothing left"
    );
    let err = store
        .put(
            &t,
            "exact",
            "application/octet-stream",
            chunked(&pattern(max + 1, 3), 256),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PayloadTooLarge);
    assert_eq!(
        read(store, &t, "exact").await,
        exact,
        "a failed replace keeps the old object"
    );
    let usage = store.usage(&t).await.expect("usage");
    assert_eq!((usage.bytes_used, usage.bytes_reserved), (max as u64, 0));
    let keys: Vec<_> = store
        .list(&t, "", None, 10)
        .await
        .expect("list")
        .items
        .into_iter()
        .map(|m| m.key)
        .collect();
    assert_eq!(keys, ["exact"]);
}

/// Concurrent uploads never together exceed the quota; failed ones leave nothing; an
/// upload crossing the quota mid-stream is aborted; deleting frees room.
pub async fn quota_under_concurrency(store: &dyn BlobStore) {
    let t = fresh_tenant();
    let quota = store.limits().tenant_quota_bytes;
    let size = usize::try_from(quota / 4).expect("small quota");
    let uploads = (0..8).map(|i| {
        let t = t.clone();
        async move {
            let key = format!("c/{i}");
            let res = store
                .put(
                    &t,
                    &key,
                    "application/octet-stream",
                    chunked(&pattern(size, i), size),
                )
                .await;
            (key, res)
        }
    });
    let results = futures::future::join_all(uploads).await;
    let mut ok = 0u64;
    for (key, res) in &results {
        match res {
            Ok(_) => ok += 1,
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::QuotaExceeded, "{key}: {e:?}");
                assert_eq!(
                    store.head(&t, key).await.unwrap_err().kind(),
                    ErrorKind::NotFound,
                    "{key} left behind"
                );
            }
        }
    }
    assert!(
        (1..=4).contains(&ok),
        "{ok} of 8 uploads of a quarter quota succeeded"
    );
    let usage = store.usage(&t).await.expect("usage");
    assert_eq!(usage.bytes_used, ok * size as u64);
    assert!(usage.bytes_used <= quota, "usage within quota");
    assert_eq!(
        usage.bytes_reserved, 0,
        "failed uploads released their reservations"
    );

    // Fill to the brim, then a streamed upload that crosses mid-way is aborted.
    let mut n = 100;
    while store.usage(&t).await.expect("usage").bytes_used + size as u64 <= quota {
        put(store, &t, &format!("fill/{n}"), &pattern(size, 9)).await;
        n += 1;
    }
    let victim = store
        .list(&t, "", None, 1)
        .await
        .expect("list")
        .items
        .remove(0)
        .key;
    assert!(store.delete(&t, &victim).await.expect("delete"));
    let err = store
        .put(
            &t,
            "crossing",
            "application/octet-stream",
            chunked(&pattern(size * 2, 4), 128),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QuotaExceeded);
    assert_eq!(
        store.head(&t, "crossing").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let usage = store.usage(&t).await.expect("usage");
    assert_eq!(usage.bytes_used, quota - size as u64);
    assert_eq!(usage.bytes_reserved, 0);
    assert!(
        put(store, &t, "fits", &pattern(size, 5)).await,
        "the freed room is usable"
    );
    assert_eq!(store.usage(&t).await.expect("usage").bytes_used, quota);
}

/// Replacing an object counts only the new bytes: at a full quota, a replacement of
/// the same size (or smaller) succeeds; a bigger one fails and keeps the old object.
pub async fn replace_at_a_full_quota(store: &dyn BlobStore) {
    let t = fresh_tenant();
    let limits = store.limits();
    let half = usize::try_from(limits.tenant_quota_bytes / 2).expect("small quota");
    assert!(
        half as u64 <= limits.max_object_bytes,
        "the suite needs quota <= 2 objects"
    );
    put(store, &t, "a", &pattern(half, 1)).await;
    put(store, &t, "b", &pattern(half, 2)).await;
    assert_eq!(
        store.usage(&t).await.expect("usage").bytes_used,
        limits.tenant_quota_bytes,
        "full"
    );
    let same = pattern(half, 3);
    assert!(
        !put(store, &t, "a", &same).await,
        "a same-size replace at a full quota succeeds"
    );
    assert_eq!(read(store, &t, "a").await, same);
    let quarter = pattern(half / 2, 4);
    assert!(
        !put(store, &t, "b", &quarter).await,
        "a smaller replace succeeds"
    );
    put(store, &t, "c", &pattern(half / 2, 5)).await;
    let bigger = pattern(half / 2 + 1, 6);
    let err = store
        .put(&t, "b", "application/octet-stream", chunked(&bigger, 100))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QuotaExceeded, "one byte too many");
    assert_eq!(
        read(store, &t, "b").await,
        quarter,
        "the old object is kept"
    );
    let usage = store.usage(&t).await.expect("usage");
    assert_eq!(
        (usage.bytes_used, usage.bytes_reserved),
        (limits.tenant_quota_bytes, 0)
    );
}

/// Signed URLs verify until they expire; tampering is refused; expiry is bounded.
pub async fn signed_urls(store: &dyn BlobStore, advance: &dyn Fn(Duration)) {
    let t = fresh_tenant();
    let other = fresh_tenant();
    put(store, &t, "docs/report v1.pdf", b"%PDF").await;
    for secs in [0, 604_801] {
        let err = store
            .signed_url(&t, "docs/report v1.pdf", Duration::from_secs(secs))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid, "expiry {secs}");
    }
    let err = store
        .signed_url(&t, "../x", Duration::from_secs(60))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Malformed);

    let url = store
        .signed_url(&t, "docs/report v1.pdf", Duration::from_secs(60))
        .await
        .expect("signed url");
    match url.kind {
        SignedUrlKind::Presigned => {
            assert!(
                url.url.starts_with("http"),
                "presigned URLs are absolute: {}",
                url.url
            );
            assert!(
                url.url.contains(t.as_str()),
                "presigned URL names the object"
            );
            return;
        }
        SignedUrlKind::Hmac => {}
    }
    let p = SignedUrlParts::parse(&url.url, DEFAULT_SIGNED_URL_PREFIX).expect("parse");
    assert_eq!((&p.tenant, p.key.as_str()), (&t, "docs/report v1.pdf"));
    store
        .verify_signed_url(&p.tenant, &p.key, p.expires, &p.signature)
        .await
        .expect("fresh URL verifies");
    let forbidden = |r: Result<(), baas_core::Error>, what: &str| {
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Forbidden, "{what}");
    };
    forbidden(
        store
            .verify_signed_url(&other, &p.key, p.expires, &p.signature)
            .await,
        "other tenant",
    );
    forbidden(
        store
            .verify_signed_url(&p.tenant, "docs/other.pdf", p.expires, &p.signature)
            .await,
        "other key",
    );
    forbidden(
        store
            .verify_signed_url(&p.tenant, &p.key, p.expires + 3600, &p.signature)
            .await,
        "later expiry",
    );
    let mut sig = p.signature.clone().into_bytes();
    sig[0] = if sig[0] == b'A' { b'B' } else { b'A' };
    let sig = String::from_utf8(sig).expect("ascii");
    forbidden(
        store
            .verify_signed_url(&p.tenant, &p.key, p.expires, &sig)
            .await,
        "altered signature",
    );
    advance(Duration::from_secs(59));
    store
        .verify_signed_url(&p.tenant, &p.key, p.expires, &p.signature)
        .await
        .expect("still valid before expiry");
    advance(Duration::from_secs(2));
    forbidden(
        store
            .verify_signed_url(&p.tenant, &p.key, p.expires, &p.signature)
            .await,
        "expired",
    );
}
