//! The [`LoginFailureStore`] suite.

use std::time::Duration;

use crate::login_failures::{AccountDigest, FailureWindow, LoginFailureStore};

use super::fresh_tenant;

const WINDOW: Duration = Duration::from_secs(3600);

/// The [`LoginFailureStore`] contract: counting in a window, the window's end (not a
/// moment later), roll-over into a new window, atomic concurrent counting, tenant and
/// account isolation, and sweeping windows that have passed.
///
/// `advance` moves the clock the store was built with. The suite works in tenants of its
/// own; its sweep checks hold on a store other tests share.
pub async fn login_failure_store_suite(store: &dyn LoginFailureStore, advance: &dyn Fn(Duration)) {
    let a = fresh_tenant();
    let b = fresh_tenant();
    let victim = AccountDigest::of("victim@example.com");
    let other = AccountDigest::of("other@example.com");

    // ---- counting ----------------------------------------------------------------------
    assert_eq!(store.current(&a, &victim, WINDOW).await.unwrap(), None);
    let first = store.record_failure(&a, &victim, WINDOW).await.unwrap();
    assert_eq!(first.failures, 1);
    for n in 2..=3 {
        let w = store.record_failure(&a, &victim, WINDOW).await.unwrap();
        assert_eq!(
            w,
            FailureWindow {
                failures: n,
                ..first
            },
            "same window"
        );
    }
    assert_eq!(
        store.current(&a, &victim, WINDOW).await.unwrap(),
        Some(FailureWindow {
            failures: 3,
            ..first
        }),
        "round trip"
    );

    // ---- isolation: another tenant, another account -------------------------------------
    assert_eq!(
        store.current(&b, &victim, WINDOW).await.unwrap(),
        None,
        "tenant A's failures do not count in tenant B"
    );
    assert_eq!(store.current(&a, &other, WINDOW).await.unwrap(), None);
    assert_eq!(
        store
            .record_failure(&b, &victim, WINDOW)
            .await
            .unwrap()
            .failures,
        1
    );
    assert_eq!(
        store
            .current(&a, &victim, WINDOW)
            .await
            .unwrap()
            .map(|w| w.failures),
        Some(3),
        "tenant B's failures do not count in tenant A"
    );

    // ---- the window is fixed: later failures do not stretch it --------------------------
    advance(WINDOW - Duration::from_secs(1));
    let late = store.record_failure(&a, &victim, WINDOW).await.unwrap();
    assert_eq!(late.failures, 4);
    assert_eq!(late.started_at, first.started_at);
    assert_eq!(late.ends_at(WINDOW), first.started_at + WINDOW);
    assert!(store.current(&a, &victim, WINDOW).await.unwrap().is_some());

    // ---- roll-over: at the window's end it is over --------------------------------------
    advance(Duration::from_secs(1));
    assert_eq!(
        store.current(&a, &victim, WINDOW).await.unwrap(),
        None,
        "a window that has passed does not count"
    );
    let next = store.record_failure(&a, &victim, WINDOW).await.unwrap();
    assert_eq!(next.failures, 1, "a new window starts");
    assert_eq!(next.started_at, first.started_at + WINDOW);
    // A shorter window length is honoured on reads (the caller's setting decides).
    advance(Duration::from_secs(10));
    assert_eq!(
        store
            .current(&a, &victim, Duration::from_secs(10))
            .await
            .unwrap(),
        None
    );
    assert!(store.current(&a, &victim, WINDOW).await.unwrap().is_some());

    // ---- concurrency: each failure counts once, each sees its own count ------------------
    let f = || store.record_failure(&a, &other, WINDOW);
    let (r1, r2, r3, r4, r5, r6) = tokio::join!(f(), f(), f(), f(), f(), f());
    let mut counts: Vec<u32> = [r1, r2, r3, r4, r5, r6]
        .into_iter()
        .map(|r| r.unwrap().failures)
        .collect();
    counts.sort_unstable();
    assert_eq!(counts, [1, 2, 3, 4, 5, 6]);
    assert_eq!(
        store
            .current(&a, &other, WINDOW)
            .await
            .unwrap()
            .map(|w| w.failures),
        Some(6)
    );

    // ---- sweep: windows that have passed go, running ones stay --------------------------
    // Now: victim's window started 10 s ago (a), other's just now (a), b's victim
    // window over an hour ago — passed.
    let swept = store.sweep(WINDOW).await.unwrap();
    assert!(swept >= 1, "b's passed window is deleted (got {swept})");
    assert!(store.current(&a, &victim, WINDOW).await.unwrap().is_some());
    assert_eq!(
        store
            .current(&a, &other, WINDOW)
            .await
            .unwrap()
            .map(|w| w.failures),
        Some(6),
        "a running window survives a sweep"
    );
    // After the sweep, b's account starts afresh.
    assert_eq!(
        store
            .record_failure(&b, &victim, WINDOW)
            .await
            .unwrap()
            .failures,
        1
    );
    advance(WINDOW);
    assert!(store.sweep(WINDOW).await.unwrap() >= 3);
    assert_eq!(store.current(&a, &victim, WINDOW).await.unwrap(), None);
    assert_eq!(store.current(&a, &other, WINDOW).await.unwrap(), None);
    assert_eq!(store.current(&b, &victim, WINDOW).await.unwrap(), None);
}
