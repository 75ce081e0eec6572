//! The conformance suite for [`IdempotencyStore`].

use std::time::Duration;

use bytes::Bytes;

use crate::idempotency::{Claim, IdempotencyScope, IdempotencyStore};
use crate::tenant::TenantId;

/// Run the whole [`IdempotencyStore`] contract against `store`.
///
/// `advance` moves the store's clock forward (a `ManualClock` in tests). The suite uses
/// keys unique to each run, so backends that share a database can run it in parallel.
///
/// # Panics
///
/// On the first broken guarantee, naming it.
pub async fn idempotency_store_suite(store: &dyn IdempotencyStore, advance: &dyn Fn(Duration)) {
    let run = super::unique_name("idem");
    let tenant_a = TenantId::new("tenant-a").expect("valid");
    let tenant_b = TenantId::new("tenant-b").expect("valid");
    let scope_a = IdempotencyScope::Principal {
        tenant: tenant_a.clone(),
        subject: "user-1".into(),
    };
    let scope_b = IdempotencyScope::Principal {
        tenant: tenant_b,
        subject: "user-1".into(),
    };
    let anon = IdempotencyScope::Anonymous {
        route: "/v1/things".into(),
    };
    let lease = Duration::from_secs(30);
    let ttl = Duration::from_secs(24 * 3600);
    let fp = [1u8; 32];
    let other_fp = [2u8; 32];
    let key = |name: &str| format!("{run}-{name}");

    // A free key is acquired; the same request again is in flight; another is a mismatch.
    let k = key("basic");
    assert_eq!(claim(store, &scope_a, &k, &fp, lease).await, Claim::Acquired, "first claim");
    assert_eq!(claim(store, &scope_a, &k, &fp, lease).await, Claim::InFlight, "second claim while in flight");
    assert_eq!(claim(store, &scope_a, &k, &other_fp, lease).await, Claim::Mismatch, "other fingerprint while in flight");

    // Completion stores the response byte for byte; it replays.
    let response = Bytes::from_static(b"\x00stored response\xff");
    store
        .complete(&scope_a, &k, &fp, response.clone(), ttl)
        .await
        .expect("complete");
    assert_eq!(
        claim(store, &scope_a, &k, &fp, lease).await,
        Claim::Replay(response.clone()),
        "replay after completion"
    );
    assert_eq!(claim(store, &scope_a, &k, &other_fp, lease).await, Claim::Mismatch, "other fingerprint after completion");

    // Scopes are isolated: the same key in another tenant, or anonymously, is free.
    assert_eq!(claim(store, &scope_b, &k, &fp, lease).await, Claim::Acquired, "tenant B sees tenant A's key");
    assert_eq!(claim(store, &anon, &k, &fp, lease).await, Claim::Acquired, "anonymous scope sees tenant A's key");

    // Release frees an in-flight claim, but never a completed record.
    let k2 = key("release");
    assert_eq!(claim(store, &scope_a, &k2, &fp, lease).await, Claim::Acquired);
    store.release(&scope_a, &k2).await.expect("release");
    assert_eq!(claim(store, &scope_a, &k2, &other_fp, lease).await, Claim::Acquired, "released key claimable");
    store.release(&scope_a, &k).await.expect("release completed");
    assert_eq!(
        claim(store, &scope_a, &k, &fp, lease).await,
        Claim::Replay(response.clone()),
        "release must not drop a completed record"
    );

    // An abandoned claim expires with its lease.
    let k3 = key("lease");
    assert_eq!(claim(store, &scope_a, &k3, &fp, Duration::from_secs(5)).await, Claim::Acquired);
    advance(Duration::from_secs(6));
    assert_eq!(claim(store, &scope_a, &k3, &fp, lease).await, Claim::Acquired, "expired lease reclaimable");

    // Concurrent claims of one free key: exactly one wins.
    let k4 = key("race");
    let mut wins = 0;
    let outcomes = futures_util::future::join_all(
        (0..16).map(|_| claim(store, &scope_a, &k4, &fp, lease)),
    )
    .await;
    for outcome in outcomes {
        match outcome {
            Claim::Acquired => wins += 1,
            Claim::InFlight => {}
            other => panic!("unexpected concurrent claim outcome {other:?}"),
        }
    }
    assert_eq!(wins, 1, "exactly one concurrent claim may acquire");

    // Completed records expire with their ttl and the sweeper removes them.
    let k5 = key("ttl");
    assert_eq!(claim(store, &scope_a, &k5, &fp, lease).await, Claim::Acquired);
    store
        .complete(&scope_a, &k5, &fp, Bytes::from_static(b"r"), Duration::from_secs(60))
        .await
        .expect("complete");
    advance(Duration::from_secs(61));
    let swept = store.sweep().await.expect("sweep");
    assert!(swept >= 1, "sweep removed nothing");
    assert_eq!(claim(store, &scope_a, &k5, &other_fp, lease).await, Claim::Acquired, "expired record still answers");
}

async fn claim(
    store: &dyn IdempotencyStore,
    scope: &IdempotencyScope,
    key: &str,
    fp: &[u8; 32],
    lease: Duration,
) -> Claim {
    store
        .claim(scope, key, fp, lease)
        .await
        .expect("claim must not fail")
}
