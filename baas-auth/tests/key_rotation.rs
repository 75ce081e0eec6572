//! The issue's done-when test: rotate keys repeatedly while verifying tokens issued
//! before and after each rotation — zero failures for tokens within their lifetime.

mod common;

use std::sync::Arc;
use std::time::Duration;

use baas_auth::keys::{KeyManager, KeyState};
use baas_auth::{AuthError, IssuedToken, TokenIssuer};
use baas_core::Clock as _;
use common::{Fixture, request};

#[tokio::test]
async fn twenty_rotations_never_fail_a_live_token() {
    let f = Fixture::new().await;
    // A second process: its own key manager (with its own cached signer) and its own
    // verifier, on the same store.
    let keys_b = Arc::new(KeyManager::new(
        f.store.clone(),
        f.master.clone(),
        f.clock.shared(),
        f.config.clone(),
    ));
    keys_b.ensure().await.unwrap();
    let issuer_b = TokenIssuer::new(keys_b, f.clock.shared());
    let verifier_b = f.verifier_with(f.config.clone());
    let mut uncached = f.config.clone();
    uncached.cache_capacity = 0;
    let verifier_c = f.verifier_with(uncached);
    let verifiers = [&f.verifier, &verifier_b, &verifier_c];

    let mut tokens: Vec<IssuedToken> = Vec::new();
    let (mut live_checks, mut expired_checks, mut failures) = (0, 0, Vec::new());
    let mut signed_by_retiring = 0;
    // Steps of varied length: shorter than key_refresh, between it and the TTL, longer.
    let steps = [20u64, 45, 61, 130, 300, 420, 610, 905, 1200, 75];
    for round in 0..20 {
        tokens.push(f.issue().await);
        tokens.push(issuer_b.issue(&request("s-b")).await.unwrap());
        let report = f.keys.rotate().await.unwrap();
        tokens.push(f.issue().await);
        assert_eq!(f.keys.signer().await.unwrap().kid(), report.current);
        // Process B has not noticed the rotation yet: within key_refresh it may still
        // sign with the key that is now retiring.
        for seconds in [50, steps[round % steps.len()]] {
            // Advance in small increments, verifying every token each time.
            let mut left = seconds;
            while left > 0 {
                let by = left.min(10);
                left -= by;
                f.advance(Duration::from_secs(by));
                let now = f.clock.unix_seconds();
                let leeway = f.config.leeway.as_secs();
                for token in &tokens {
                    for verifier in verifiers {
                        let result = verifier.verify(token.as_str()).await;
                        if now <= token.claims.exp {
                            live_checks += 1;
                            if let Err(err) = result {
                                failures.push(format!(
                                    "round {round}: live token of {} refused: {err}",
                                    token.kid
                                ));
                            }
                        } else if now > token.claims.exp + leeway {
                            expired_checks += 1;
                            assert!(
                                matches!(result, Err(AuthError::Expired | AuthError::KeyRetired)),
                                "round {round}: expired token accepted or refused oddly: {result:?}"
                            );
                        }
                    }
                }
                // Forget tokens long dead.
                tokens.retain(|t| now <= t.claims.exp + 120);
            }
            if seconds == 50 {
                let late = issuer_b.issue(&request("s-b")).await.unwrap();
                if late.kid == report.retiring {
                    signed_by_retiring += 1;
                }
                tokens.push(late);
            }
        }
        // At most one current and one next, and JWKS lists exactly the keys that verify.
        let stored = f.store.inner_list().await;
        assert_eq!(
            stored
                .iter()
                .filter(|k| k.state == KeyState::Current)
                .count(),
            1
        );
        assert_eq!(
            stored.iter().filter(|k| k.state == KeyState::Next).count(),
            1
        );
        let now_t = f.clock.now();
        let jwks = f.keys.jwks().await.unwrap();
        let verifying: Vec<_> = stored
            .iter()
            .filter(|k| k.verifies_at(now_t))
            .map(|k| k.kid.clone())
            .collect();
        let published: Vec<_> = jwks.keys.iter().map(|k| k.kid.clone()).collect();
        assert_eq!(published, verifying);
        assert!(
            stored
                .iter()
                .filter(|k| k.state == KeyState::Retired)
                .all(|k| k.sealed_private.is_none())
        );
    }
    assert!(
        signed_by_retiring > 0,
        "the stale-signer case was not exercised"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(live_checks > 200, "{live_checks}");
    assert!(expired_checks > 50, "{expired_checks}");
    let stored = f.store.inner_list().await;
    assert!(
        stored
            .iter()
            .filter(|k| k.state == KeyState::Retired)
            .count()
            >= 10
    );
}

#[tokio::test]
async fn concurrent_first_key_creation_makes_one_pair() {
    let f = Fixture::new().await; // already ensured once
    let before = f.store.inner_list().await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let keys = KeyManager::new(
            f.store.clone(),
            f.master.clone(),
            f.clock.shared(),
            f.config.clone(),
        );
        tasks.push(tokio::spawn(async move { keys.ensure().await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(f.store.inner_list().await, before);

    let fresh = Arc::new(common::CountingStore::default());
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let keys = KeyManager::new(
            fresh.clone(),
            f.master.clone(),
            f.clock.shared(),
            f.config.clone(),
        );
        tasks.push(tokio::spawn(async move { keys.ensure().await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let keys = fresh.inner_list().await;
    assert_eq!(keys.len(), 2);
    assert_eq!(
        keys.iter().filter(|k| k.state == KeyState::Current).count(),
        1
    );
}

#[tokio::test]
async fn concurrent_rotations_conflict_instead_of_forking() {
    let f = Fixture::new().await;
    let other = KeyManager::new(
        f.store.clone(),
        f.master.clone(),
        f.clock.shared(),
        f.config.clone(),
    );
    let (a, b) = tokio::join!(f.keys.rotate(), other.rotate());
    assert!(a.is_ok() || b.is_ok());
    let keys = f.store.inner_list().await;
    assert_eq!(
        keys.iter().filter(|k| k.state == KeyState::Current).count(),
        1
    );
    assert_eq!(keys.iter().filter(|k| k.state == KeyState::Next).count(), 1);
    if a.is_err() || b.is_err() {
        let err = a.err().or(b.err()).unwrap();
        assert!(matches!(err, AuthError::RotationConflict), "{err:?}");
    }
}
