//! The [`SessionStore`] suite.

use std::time::Duration;

use crate::error::AuthError;
use crate::ids::{SessionId, UserId};
use crate::secret::RefreshToken;
use crate::sessions::{NewSession, RefreshOutcome, RefreshPolicy, SessionStore};

use super::fresh_tenant;

const DAY: Duration = Duration::from_secs(86_400);

fn rotated(outcome: RefreshOutcome) -> RefreshToken {
    match outcome {
        RefreshOutcome::Rotated { token, .. } => token,
        other => panic!("expected a rotation, got {other:?}"),
    }
}

fn is_reuse(outcome: &RefreshOutcome) -> bool {
    matches!(outcome, RefreshOutcome::ReuseDetected { .. })
}

/// The [`SessionStore`] contract: creation, rotation with sliding expiry, reuse
/// detection and the grace window, concurrent refreshes, revocation (one, a family, a
/// user's, all but one), the revocation list, expiry, sweeping and tenant isolation.
pub async fn session_store_suite(store: &dyn SessionStore, advance: &dyn Fn(Duration)) {
    let a = fresh_tenant();
    let b = fresh_tenant();
    let user = UserId::generate();
    let policy = RefreshPolicy {
        ttl: DAY,
        grace: Duration::from_secs(10),
    };

    // ---- create ----------------------------------------------------------------------
    let (s1, t0) = store
        .create(&a, NewSession::new(user, "web", DAY))
        .await
        .unwrap();
    assert_eq!(s1.tenant, a);
    assert_eq!(s1.user_id, user);
    assert_eq!(s1.client_id, "web");
    assert_eq!(s1.expires_at, s1.created_at + DAY);
    assert_eq!(s1.last_rotated_at, None);
    assert_eq!(s1.revoked_at, None);
    assert!(t0.expose_secret().len() >= 22, "at least 128 bits");
    assert_eq!(
        store.get(&a, &s1.id).await.unwrap().unwrap(),
        s1,
        "round trip"
    );
    assert!(
        store.get(&b, &s1.id).await.unwrap().is_none(),
        "tenant B cannot read A's session"
    );
    assert!(!store.is_revoked(&a, &s1.id).await.unwrap());
    assert!(
        store.is_revoked(&b, &s1.id).await.unwrap(),
        "unknown in B: refused (fail closed)"
    );
    assert!(store.is_revoked(&a, &SessionId::generate()).await.unwrap());
    assert_eq!(format!("{t0:?}"), "RefreshToken([REDACTED])");

    // ---- rotate: a fresh successor, sliding expiry -----------------------------------
    advance(Duration::from_secs(60));
    let RefreshOutcome::Rotated { session, token: t1 } = store.rotate(&t0, &policy).await.unwrap()
    else {
        panic!("a fresh token rotates");
    };
    assert_eq!(session.id, s1.id);
    assert_eq!(
        session.last_rotated_at,
        Some(s1.created_at + Duration::from_secs(60))
    );
    assert_eq!(
        session.expires_at,
        s1.created_at + Duration::from_secs(60) + DAY
    );
    assert_ne!(t1.expose_secret(), t0.expose_secret());
    let t2 = rotated(store.rotate(&t1, &policy).await.unwrap());

    // Unknown tokens are refused and change nothing.
    assert!(matches!(
        store.rotate(&RefreshToken::generate(), &policy).await,
        Err(AuthError::InvalidRefreshToken)
    ));
    assert!(matches!(
        store.rotate(&RefreshToken::new(""), &policy).await,
        Err(AuthError::InvalidRefreshToken)
    ));

    // ---- grace: the just-rotated t1 rotates once more, to a fresh successor ----------
    advance(Duration::from_secs(5));
    let t2b = rotated(store.rotate(&t1, &policy).await.unwrap());
    assert_ne!(t2b.expose_secret(), t2.expose_secret());
    assert!(
        !store.is_revoked(&a, &s1.id).await.unwrap(),
        "a grace rotation is not reuse"
    );
    // Both branches work.
    let t3 = rotated(store.rotate(&t2, &policy).await.unwrap());
    let t3b = rotated(store.rotate(&t2b, &policy).await.unwrap());
    // A third presentation of t1, even within the window, is reuse: family revoked.
    let before = store.get(&a, &s1.id).await.unwrap().unwrap();
    let outcome = store.rotate(&t1, &policy).await.unwrap();
    let RefreshOutcome::ReuseDetected { session } = outcome else {
        panic!("a third use is reuse");
    };
    assert_eq!(session.id, s1.id);
    assert_eq!(session.tenant, a);
    assert!(session.revoked_at.is_some());
    assert!(store.is_revoked(&a, &s1.id).await.unwrap());
    let revoked_at = session.revoked_at.unwrap();
    assert!(revoked_at >= before.last_rotated_at.unwrap());
    for t in [&t3, &t3b, &t0, &t1, &t2] {
        assert!(
            matches!(
                store.rotate(t, &policy).await,
                Err(AuthError::InvalidRefreshToken)
            ),
            "no token of a revoked family rotates"
        );
    }
    assert_eq!(
        store.get(&a, &s1.id).await.unwrap().unwrap().revoked_at,
        Some(revoked_at),
        "revoked once, for good"
    );

    // ---- reuse after the window ------------------------------------------------------
    let (s2, u0) = store
        .create(&a, NewSession::new(user, "web", DAY))
        .await
        .unwrap();
    let u1 = rotated(store.rotate(&u0, &policy).await.unwrap());
    advance(policy.grace);
    assert!(
        is_reuse(&store.rotate(&u0, &policy).await.unwrap()),
        "reuse at the window's end"
    );
    assert!(store.is_revoked(&a, &s2.id).await.unwrap());
    assert!(matches!(
        store.rotate(&u1, &policy).await,
        Err(AuthError::InvalidRefreshToken)
    ));

    // ---- concurrent refreshes of one token: two succeed, a third is reuse ------------
    let (s3, v0) = store
        .create(&a, NewSession::new(user, "web", DAY))
        .await
        .unwrap();
    let (x, y) = tokio::join!(store.rotate(&v0, &policy), store.rotate(&v0, &policy));
    let (vx, vy) = (rotated(x.unwrap()), rotated(y.unwrap()));
    assert!(
        !store.is_revoked(&a, &s3.id).await.unwrap(),
        "two concurrent refreshes: no logout"
    );
    rotated(store.rotate(&vx, &policy).await.unwrap());
    rotated(store.rotate(&vy, &policy).await.unwrap());
    let (_s4, w0) = store
        .create(&a, NewSession::new(user, "web", DAY))
        .await
        .unwrap();
    let (x, y, z) = tokio::join!(
        store.rotate(&w0, &policy),
        store.rotate(&w0, &policy),
        store.rotate(&w0, &policy)
    );
    let outcomes = [x.unwrap(), y.unwrap(), z.unwrap()];
    assert_eq!(
        outcomes.iter().filter(|o| is_reuse(o)).count(),
        1,
        "{outcomes:?}"
    );

    // ---- many sessions refreshed at once (grouped on some backends), an unknown token
    // among them: each rotates alone, the unknown one is refused, nobody is logged out.
    let burst_user = UserId::generate();
    let mut sessions = Vec::new();
    for _ in 0..24 {
        sessions.push(
            store
                .create(&a, NewSession::new(burst_user, "burst", DAY))
                .await
                .unwrap(),
        );
    }
    let unknown = RefreshToken::generate();
    let rotations = sessions.iter().map(|(_, t)| store.rotate(t, &policy));
    let (outcomes, refused) = tokio::join!(
        futures_util::future::join_all(rotations),
        store.rotate(&unknown, &policy)
    );
    assert!(
        matches!(refused, Err(AuthError::InvalidRefreshToken)),
        "{refused:?}"
    );
    let mut successors = std::collections::HashSet::new();
    for ((session, _), outcome) in sessions.iter().zip(outcomes) {
        match outcome.unwrap() {
            RefreshOutcome::Rotated { session: s, token } => {
                assert_eq!(s.id, session.id, "each rotation is its own session's");
                assert!(successors.insert(token.expose_secret().to_owned()));
                assert!(!store.is_revoked(&a, &session.id).await.unwrap());
                rotated(store.rotate(&token, &policy).await.unwrap());
            }
            other => panic!("expected a rotation, got {other:?}"),
        }
    }

    // ---- expiry (sliding) ------------------------------------------------------------
    let short = RefreshPolicy {
        ttl: Duration::from_secs(100),
        grace: policy.grace,
    };
    let (s5, e0) = store
        .create(&a, NewSession::new(user, "cli", Duration::from_secs(100)))
        .await
        .unwrap();
    advance(Duration::from_secs(60));
    let e1 = rotated(store.rotate(&e0, &short).await.unwrap());
    advance(Duration::from_secs(60));
    let e2 = rotated(store.rotate(&e1, &short).await.unwrap());
    advance(Duration::from_secs(100));
    assert!(
        matches!(
            store.rotate(&e2, &short).await,
            Err(AuthError::InvalidRefreshToken)
        ),
        "an expired session does not refresh"
    );
    assert!(
        !store.is_revoked(&a, &s5.id).await.unwrap(),
        "expiry alone is not revocation"
    );

    // ---- revoke one session ------------------------------------------------------------
    let (s6, r0) = store
        .create(&a, NewSession::new(user, "web", DAY))
        .await
        .unwrap();
    assert!(
        !store.revoke(&b, &s6.id).await.unwrap(),
        "tenant B cannot revoke A's session"
    );
    assert!(!store.is_revoked(&a, &s6.id).await.unwrap());
    assert!(store.revoke(&a, &s6.id).await.unwrap());
    assert!(!store.revoke(&a, &s6.id).await.unwrap(), "already revoked");
    assert!(!store.revoke(&a, &SessionId::generate()).await.unwrap());
    assert!(store.is_revoked(&a, &s6.id).await.unwrap());
    assert!(matches!(
        store.rotate(&r0, &policy).await,
        Err(AuthError::InvalidRefreshToken)
    ));

    // ---- revoke a family by any of its tokens -----------------------------------------
    let (s7, f0) = store
        .create(&a, NewSession::new(user, "web", DAY))
        .await
        .unwrap();
    let f1 = rotated(store.rotate(&f0, &policy).await.unwrap());
    let revoked = store
        .revoke_family(&f0)
        .await
        .unwrap()
        .expect("known token");
    assert_eq!(revoked.id, s7.id);
    assert_eq!(revoked.tenant, a);
    assert!(revoked.revoked_at.is_some());
    assert!(matches!(
        store.rotate(&f1, &policy).await,
        Err(AuthError::InvalidRefreshToken)
    ));
    assert!(
        store
            .revoke_family(&RefreshToken::generate())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store.revoke_family(&f1).await.unwrap().is_some(),
        "already revoked: still known"
    );

    // ---- revoke all of a user's sessions but one --------------------------------------
    let other = UserId::generate();
    let (keep, k0) = store
        .create(&a, NewSession::new(user, "web", DAY))
        .await
        .unwrap();
    let (gone, g0) = store
        .create(&a, NewSession::new(user, "web", DAY))
        .await
        .unwrap();
    let (theirs, o0) = store
        .create(&a, NewSession::new(other, "web", DAY))
        .await
        .unwrap();
    let (in_b, b0) = store
        .create(&b, NewSession::new(user, "web", DAY))
        .await
        .unwrap();
    let count = store
        .revoke_all_for_user(&a, &user, Some(&keep.id))
        .await
        .unwrap();
    // Live sessions of `user` in A other than `keep`: s3, s4 and `gone`.
    assert_eq!(count, 3);
    assert!(!store.is_revoked(&a, &keep.id).await.unwrap());
    assert!(store.is_revoked(&a, &gone.id).await.unwrap());
    assert!(
        !store.is_revoked(&a, &theirs.id).await.unwrap(),
        "another user's is untouched"
    );
    assert!(
        !store.is_revoked(&b, &in_b.id).await.unwrap(),
        "another tenant's is untouched"
    );
    assert!(matches!(
        store.rotate(&g0, &policy).await,
        Err(AuthError::InvalidRefreshToken)
    ));
    let k1 = rotated(store.rotate(&k0, &policy).await.unwrap());
    rotated(store.rotate(&o0, &policy).await.unwrap());
    rotated(store.rotate(&b0, &policy).await.unwrap());
    assert_eq!(store.revoke_all_for_user(&a, &user, None).await.unwrap(), 1);
    assert!(matches!(
        store.rotate(&k1, &policy).await,
        Err(AuthError::InvalidRefreshToken)
    ));
    assert_eq!(store.revoke_all_for_user(&a, &user, None).await.unwrap(), 0);

    // ---- the revocation list -------------------------------------------------------------
    advance(Duration::from_secs(1));
    let since = store
        .get(&a, &keep.id)
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .unwrap()
        + Duration::from_secs(1);
    let (late, _) = store
        .create(&a, NewSession::new(other, "web", DAY))
        .await
        .unwrap();
    store.revoke(&a, &late.id).await.unwrap();
    let (late_b, _) = store
        .create(&b, NewSession::new(other, "web", DAY))
        .await
        .unwrap();
    store.revoke(&b, &late_b.id).await.unwrap();
    let list = store.revoked_since(since, 1000).await.unwrap();
    let ours: Vec<_> = list
        .iter()
        .filter(|r| r.tenant == a || r.tenant == b)
        .collect();
    assert_eq!(ours.len(), 2, "{list:?}");
    assert!(
        ours.iter()
            .any(|r| r.session_id == late.id && r.tenant == a && r.user_id == other)
    );
    assert!(
        ours.iter()
            .any(|r| r.session_id == late_b.id && r.tenant == b)
    );
    assert!(list.iter().all(|r| r.revoked_at >= since));
    assert!(
        list.windows(2).all(|w| w[0].revoked_at <= w[1].revoked_at),
        "oldest first"
    );
    assert!(store.revoked_since(since, 1).await.unwrap().len() <= 1);
    let all = store.revoked_since(s1.created_at, 1000).await.unwrap();
    assert!(
        all.iter().any(|r| r.session_id == s1.id),
        "reuse revocations are listed"
    );

    // ---- sweep ---------------------------------------------------------------------------
    // Everything above is revoked or expires within a day. Retain for an hour.
    let (fresh, fresh0) = store
        .create(&a, NewSession::new(user, "web", 30 * DAY))
        .await
        .unwrap();
    advance(Duration::from_secs(3600) + Duration::from_secs(1));
    let swept = store.sweep(Duration::from_secs(3600)).await.unwrap();
    assert!(swept >= 7, "revoked sessions past retention go: {swept}");
    assert!(store.get(&a, &s1.id).await.unwrap().is_none());
    assert!(
        store.is_revoked(&a, &s1.id).await.unwrap(),
        "a swept session stays refused"
    );
    assert!(
        store.get(&a, &fresh.id).await.unwrap().is_some(),
        "a live session stays"
    );
    assert!(
        store.get(&a, &theirs.id).await.unwrap().is_some(),
        "not yet expired: stays"
    );
    advance(2 * DAY);
    store.sweep(Duration::from_secs(3600)).await.unwrap();
    assert!(
        store.get(&a, &theirs.id).await.unwrap().is_none(),
        "expired past retention goes"
    );
    assert!(
        store.revoke_family(&o0).await.unwrap().is_none(),
        "its tokens went with it"
    );
    rotated(store.rotate(&fresh0, &policy).await.unwrap());
}
