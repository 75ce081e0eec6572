//! The conformance suite for [`IdempotencyStore`].

use std::time::Duration;

use bytes::Bytes;

use crate::idempotency::{Claim, ClaimToken, IdempotencyScope, IdempotencyStore};
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
    let token = acquired(claim(store, &scope_a, &k, &fp, lease).await, "first claim");
    assert_eq!(
        claim(store, &scope_a, &k, &fp, lease).await,
        Claim::InFlight,
        "second claim while in flight"
    );
    assert_eq!(
        claim(store, &scope_a, &k, &other_fp, lease).await,
        Claim::Mismatch,
        "other fingerprint while in flight"
    );

    // Completion stores the response byte for byte; it replays.
    let response = Bytes::from_static(b"\x00stored response\xff");
    assert!(
        !store
            .complete(
                &scope_a,
                &k,
                &ClaimToken::generate(),
                &fp,
                response.clone(),
                ttl
            )
            .await
            .expect("complete with another token"),
        "another token cannot complete the claim"
    );
    assert_eq!(
        claim(store, &scope_a, &k, &fp, lease).await,
        Claim::InFlight,
        "still in flight after a foreign complete"
    );
    assert!(
        store
            .complete(&scope_a, &k, &token, &fp, response.clone(), ttl)
            .await
            .expect("complete"),
        "the holder completes"
    );
    assert!(
        !store
            .complete(&scope_a, &k, &token, &fp, Bytes::from_static(b"again"), ttl)
            .await
            .expect("complete again"),
        "a completed record is not completed twice"
    );
    assert_eq!(
        claim(store, &scope_a, &k, &fp, lease).await,
        Claim::Replay(response.clone()),
        "replay after completion"
    );
    assert_eq!(
        claim(store, &scope_a, &k, &other_fp, lease).await,
        Claim::Mismatch,
        "other fingerprint after completion"
    );

    // Scopes are isolated: the same key in another tenant, or anonymously, is free.
    acquired(
        claim(store, &scope_b, &k, &fp, lease).await,
        "tenant B sees tenant A's key",
    );
    acquired(
        claim(store, &anon, &k, &fp, lease).await,
        "anonymous scope sees tenant A's key",
    );

    // Release frees an in-flight claim, but never a completed record.
    let k2 = key("release");
    let t2 = acquired(claim(store, &scope_a, &k2, &fp, lease).await, "release");
    store
        .release(&scope_a, &k2, &ClaimToken::generate())
        .await
        .expect("release with another token");
    assert_eq!(
        claim(store, &scope_a, &k2, &fp, lease).await,
        Claim::InFlight,
        "another token cannot release the claim"
    );
    store.release(&scope_a, &k2, &t2).await.expect("release");
    acquired(
        claim(store, &scope_a, &k2, &other_fp, lease).await,
        "released key claimable",
    );
    store
        .release(&scope_a, &k, &token)
        .await
        .expect("release completed");
    assert_eq!(
        claim(store, &scope_a, &k, &fp, lease).await,
        Claim::Replay(response.clone()),
        "release must not drop a completed record"
    );

    // An abandoned claim expires with its lease.
    let k3 = key("lease");
    let stale = acquired(
        claim(store, &scope_a, &k3, &fp, Duration::from_secs(5)).await,
        "lease",
    );
    advance(Duration::from_secs(6));
    let fresh = acquired(
        claim(store, &scope_a, &k3, &fp, lease).await,
        "expired lease reclaimable",
    );
    assert_ne!(stale, fresh, "every claim has its own token");

    // The stale holder (whose lease ended) can neither complete nor release the new
    // holder's claim.
    assert!(
        !store
            .complete(
                &scope_a,
                &k3,
                &stale,
                &fp,
                Bytes::from_static(b"stale"),
                ttl
            )
            .await
            .expect("stale complete"),
        "a stale holder completed another's claim"
    );
    store
        .release(&scope_a, &k3, &stale)
        .await
        .expect("stale release");
    assert_eq!(
        claim(store, &scope_a, &k3, &fp, lease).await,
        Claim::InFlight,
        "a stale holder settled another's claim"
    );
    assert!(
        store
            .complete(
                &scope_a,
                &k3,
                &fresh,
                &fp,
                Bytes::from_static(b"fresh"),
                ttl
            )
            .await
            .expect("complete"),
        "the current holder completes"
    );
    assert_eq!(
        claim(store, &scope_a, &k3, &fp, lease).await,
        Claim::Replay(Bytes::from_static(b"fresh")),
        "the current holder's response is stored"
    );

    // Concurrent claims of one free key: exactly one wins.
    let k4 = key("race");
    let mut wins = 0;
    let outcomes =
        futures_util::future::join_all((0..16).map(|_| claim(store, &scope_a, &k4, &fp, lease)))
            .await;
    for outcome in outcomes {
        match outcome {
            Claim::Acquired(_) => wins += 1,
            Claim::InFlight => {}
            other => panic!("unexpected concurrent claim outcome {other:?}"),
        }
    }
    assert_eq!(wins, 1, "exactly one concurrent claim may acquire");

    // Completed records expire with their ttl and the sweeper removes them.
    let k5 = key("ttl");
    let t5 = acquired(claim(store, &scope_a, &k5, &fp, lease).await, "ttl");
    assert!(
        store
            .complete(
                &scope_a,
                &k5,
                &t5,
                &fp,
                Bytes::from_static(b"r"),
                Duration::from_secs(60),
            )
            .await
            .expect("complete")
    );
    advance(Duration::from_secs(61));
    let swept = store.sweep().await.expect("sweep");
    assert!(swept >= 1, "sweep removed nothing");
    acquired(
        claim(store, &scope_a, &k5, &other_fp, lease).await,
        "expired record still answers",
    );
}

fn acquired(claim: Claim, what: &str) -> ClaimToken {
    match claim {
        Claim::Acquired(token) => token,
        other => panic!("{what}: expected Acquired, got {other:?}"),
    }
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
