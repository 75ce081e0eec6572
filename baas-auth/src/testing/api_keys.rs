//! The [`ApiKeyStore`] suite.

use std::time::Duration;

use crate::api_keys::{ApiKeyStore, LAST_USED_GRANULARITY, NewApiKey};
use crate::error::AuthError;
use crate::ids::ApiKeyId;
use crate::page::PageRequest;
use crate::secret::{API_KEY_PREFIX, ApiKeySecret};

use super::fresh_tenant;

fn roles(r: &[&str]) -> Vec<String> {
    r.iter().map(|s| (*s).to_owned()).collect()
}

/// The [`ApiKeyStore`] contract: create (shown once, stored hashed), authenticate
/// (wrong, malformed, expired, deleted keys refused alike), last-used time, listing,
/// deletion, validation, sweeping and tenant isolation.
pub async fn api_key_store_suite(store: &dyn ApiKeyStore, advance: &dyn Fn(Duration)) {
    let a = fresh_tenant();
    let b = fresh_tenant();

    // ---- create ----------------------------------------------------------------------
    let (key, secret) = store
        .create(
            &a,
            NewApiKey::new("ci deploys", roles(&["member", "admin", "member"]))
                .created_by("user-1"),
        )
        .await
        .unwrap();
    assert_eq!(key.tenant, a);
    assert_eq!(key.name, "ci deploys");
    assert_eq!(key.roles, roles(&["admin", "member"]));
    assert_eq!(key.created_by.as_deref(), Some("user-1"));
    assert_eq!(key.expires_at, None);
    assert_eq!(key.last_used_at, None);
    assert!(secret.expose_secret().starts_with(API_KEY_PREFIX));
    assert_eq!(secret.id(), Some(key.id));
    assert!(!format!("{secret:?}").contains(secret.expose_secret()));
    assert_eq!(
        store.get(&a, &key.id).await.unwrap().unwrap(),
        key,
        "round trip"
    );
    assert!(
        store.get(&b, &key.id).await.unwrap().is_none(),
        "tenant B cannot read A's key"
    );

    // ---- authenticate ------------------------------------------------------------------
    let found = store.authenticate(&secret).await.unwrap();
    assert_eq!(found.id, key.id);
    assert_eq!(found.tenant, a);
    assert_eq!(found.roles, key.roles);
    let first_use = found.last_used_at.expect("use recorded");
    assert_eq!(
        store.get(&a, &key.id).await.unwrap().unwrap().last_used_at,
        Some(first_use)
    );
    // Within the granularity the time is not rewritten; after it, it is.
    advance(Duration::from_secs(10));
    assert_eq!(
        store.authenticate(&secret).await.unwrap().last_used_at,
        Some(first_use)
    );
    advance(LAST_USED_GRANULARITY);
    let later = store
        .authenticate(&secret)
        .await
        .unwrap()
        .last_used_at
        .unwrap();
    assert_eq!(
        later,
        first_use + Duration::from_secs(10) + LAST_USED_GRANULARITY
    );

    // Right id, wrong secret; malformed; unknown: all the same error.
    let text = secret.expose_secret();
    let mut tampered = text.to_owned();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let unknown = ApiKeySecret::generate(ApiKeyId::generate());
    for bad in [
        ApiKeySecret::new(tampered),
        ApiKeySecret::new(""),
        ApiKeySecret::new("baas_"),
        ApiKeySecret::new(format!("{text}x")),
        ApiKeySecret::new(text.replacen(API_KEY_PREFIX, "sk_", 1)),
        unknown,
    ] {
        let err = store.authenticate(&bad).await.unwrap_err();
        assert!(matches!(err, AuthError::InvalidApiKey), "{err:?}");
    }

    // ---- validation: nothing stored ----------------------------------------------------
    for bad in [
        NewApiKey::new("", roles(&["member"])),
        NewApiKey::new("   ", roles(&["member"])),
        NewApiKey::new("x".repeat(101), roles(&["member"])),
        NewApiKey::new("bell\u{7}", roles(&["member"])),
    ] {
        assert!(matches!(
            store.create(&a, bad).await,
            Err(AuthError::InvalidName { .. })
        ));
    }
    assert!(matches!(
        store
            .create(&a, NewApiKey::new("ok", roles(&["Admin"])))
            .await,
        Err(AuthError::InvalidRole { .. })
    ));
    assert_eq!(
        store
            .list(&a, &PageRequest::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );

    // ---- list ----------------------------------------------------------------------------
    let mut ids = vec![key.id];
    for i in 0..4 {
        ids.push(
            store
                .create(&a, NewApiKey::new(format!("k{i}"), vec![]))
                .await
                .unwrap()
                .0
                .id,
        );
    }
    let (kb, secret_b) = store
        .create(&b, NewApiKey::new("b's", roles(&["member"])))
        .await
        .unwrap();
    ids.sort();
    let mut seen = Vec::new();
    let mut page = PageRequest::new(2).unwrap();
    loop {
        let got = store.list(&a, &page).await.unwrap();
        assert!(got.items.len() <= 2);
        assert!(got.items.iter().all(|k| k.tenant == a));
        seen.extend(got.items.iter().map(|k| k.id));
        match got.next_cursor {
            Some(c) => page = PageRequest::new(2).unwrap().after(Some(c)),
            None => break,
        }
    }
    assert_eq!(seen, ids, "every key once, in id order, only A's");
    let bad_cursor = PageRequest::new(2).unwrap().after(Some("zz".into()));
    assert!(matches!(
        store.list(&a, &bad_cursor).await,
        Err(AuthError::InvalidCursor)
    ));
    assert_eq!(store.authenticate(&secret_b).await.unwrap().tenant, b);

    // ---- delete ----------------------------------------------------------------------------
    assert!(matches!(
        store.delete(&b, &key.id).await,
        Err(AuthError::ApiKeyNotFound)
    ));
    assert!(
        store.authenticate(&secret).await.is_ok(),
        "B's delete changed nothing"
    );
    store.delete(&a, &key.id).await.unwrap();
    assert!(matches!(
        store.authenticate(&secret).await,
        Err(AuthError::InvalidApiKey)
    ));
    assert!(store.get(&a, &key.id).await.unwrap().is_none());
    assert!(matches!(
        store.delete(&a, &key.id).await,
        Err(AuthError::ApiKeyNotFound)
    ));
    assert!(store.authenticate(&secret_b).await.is_ok());

    // ---- expiry and sweep --------------------------------------------------------------------
    let (short, short_secret) = store
        .create(
            &a,
            NewApiKey::new("short", roles(&["member"])).expires_in(Duration::from_secs(60)),
        )
        .await
        .unwrap();
    assert_eq!(
        short.expires_at,
        Some(short.created_at + Duration::from_secs(60))
    );
    advance(Duration::from_secs(59));
    assert!(store.authenticate(&short_secret).await.is_ok());
    advance(Duration::from_secs(1));
    assert!(matches!(
        store.authenticate(&short_secret).await,
        Err(AuthError::InvalidApiKey)
    ));
    assert!(
        store.get(&a, &short.id).await.unwrap().is_some(),
        "expired keys are still listed"
    );
    assert_eq!(
        store.sweep(Duration::from_secs(3600)).await.unwrap(),
        0,
        "within retention"
    );
    advance(Duration::from_secs(3600));
    assert!(store.sweep(Duration::from_secs(3600)).await.unwrap() >= 1);
    assert!(store.get(&a, &short.id).await.unwrap().is_none());
    assert!(
        store.get(&b, &kb.id).await.unwrap().is_some(),
        "keys without expiry stay"
    );
}
