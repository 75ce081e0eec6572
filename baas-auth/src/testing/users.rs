//! The [`UserStore`] suite.

use std::time::Duration;

use crate::email::Email;
use crate::error::AuthError;
use crate::ids::UserId;
use crate::page::PageRequest;
use crate::users::{NewUser, UserStore};

use super::fresh_tenant;

fn email(s: &str) -> Email {
    Email::parse(s).expect("valid email")
}

fn roles(r: &[&str]) -> Vec<String> {
    r.iter().map(|s| (*s).to_owned()).collect()
}

fn new_user(address: &str) -> NewUser {
    NewUser::new(
        email(address),
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        roles(&["member"]),
    )
    .first_user_roles(roles(&["admin"]))
}

/// The [`UserStore`] contract: creation and the first user's roles, unique normalised
/// emails, lookups, paging, updates, disabling, tenant isolation and concurrency.
pub async fn user_store_suite(store: &dyn UserStore, advance: &dyn Fn(Duration)) {
    let a = fresh_tenant();
    let b = fresh_tenant();

    // ---- create: the first user of a tenant gets the first-user roles -----------------
    let ada = store.create(&a, new_user("Ada@Example.com")).await.unwrap();
    assert_eq!(ada.tenant, a);
    assert_eq!(ada.email.as_str(), "ada@example.com");
    assert_eq!(ada.roles, roles(&["admin"]));
    assert!(!ada.disabled);
    assert_eq!(ada.created_at, ada.updated_at);
    let bob = store.create(&a, new_user("bob@example.com")).await.unwrap();
    assert_eq!(
        bob.roles,
        roles(&["member"]),
        "only the first user is admin"
    );
    assert_ne!(ada.id, bob.id);

    // Unique per tenant after normalisation; a refused create changes nothing.
    let err = store
        .create(&a, new_user("ADA@example.com"))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::EmailTaken), "{err:?}");
    // Invalid roles are refused.
    let bad = NewUser::new(email("eve@example.com"), "x", roles(&["Not A Role"]));
    assert!(matches!(
        store.create(&a, bad).await,
        Err(AuthError::InvalidRole { .. })
    ));
    assert!(
        store
            .find_by_email(&a, &email("eve@example.com"))
            .await
            .unwrap()
            .is_none()
    );
    // Roles are kept sorted and deduplicated.
    let carol = store
        .create(
            &a,
            NewUser::new(email("carol@example.com"), "h", roles(&["z", "b", "z"])),
        )
        .await
        .unwrap();
    assert_eq!(carol.roles, roles(&["b", "z"]));

    // The same email in another tenant is another user, and that tenant's first.
    let ada_b = store.create(&b, new_user("ada@example.com")).await.unwrap();
    assert_ne!(ada_b.id, ada.id);
    assert_eq!(ada_b.roles, roles(&["admin"]));

    // ---- lookups ---------------------------------------------------------------------
    let found = store
        .find_by_email(&a, &email("ada@EXAMPLE.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, ada, "round trip");
    assert_eq!(
        store
            .find_by_email(&b, &email("ada@example.com"))
            .await
            .unwrap()
            .unwrap()
            .id,
        ada_b.id
    );
    assert!(
        store
            .find_by_email(&b, &email("bob@example.com"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.get(&a, &bob.id).await.unwrap().unwrap(), bob);
    assert!(
        store.get(&b, &bob.id).await.unwrap().is_none(),
        "tenant B cannot read A's user"
    );
    assert!(store.get(&a, &UserId::generate()).await.unwrap().is_none());

    // ---- list: by id, paged, only the tenant's own -----------------------------------
    let mut ids = vec![ada.id, bob.id, carol.id];
    for i in 0..3 {
        ids.push(
            store
                .create(&a, new_user(&format!("u{i}@example.com")))
                .await
                .unwrap()
                .id,
        );
    }
    ids.sort();
    let mut seen = Vec::new();
    let mut page = PageRequest::new(4).unwrap();
    loop {
        let got = store.list(&a, &page).await.unwrap();
        assert!(got.items.len() <= 4);
        seen.extend(got.items.iter().map(|u| u.id));
        match got.next_cursor {
            Some(c) => page = PageRequest::new(4).unwrap().after(Some(c)),
            None => break,
        }
    }
    assert_eq!(seen, ids, "every user once, in id order");
    let exact = store.list(&a, &PageRequest::new(6).unwrap()).await.unwrap();
    assert_eq!(exact.items.len(), 6);
    assert_eq!(exact.next_cursor, None, "no cursor when nothing follows");
    let only_b = store.list(&b, &PageRequest::default()).await.unwrap();
    assert_eq!(
        only_b.items.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![ada_b.id]
    );
    let bad_cursor = PageRequest::new(10).unwrap().after(Some("nope".into()));
    assert!(matches!(
        store.list(&a, &bad_cursor).await,
        Err(AuthError::InvalidCursor)
    ));

    // ---- updates ---------------------------------------------------------------------
    advance(Duration::from_secs(5));
    store
        .set_password_hash(&a, &bob.id, "$argon2id$new")
        .await
        .unwrap();
    let bob2 = store.get(&a, &bob.id).await.unwrap().unwrap();
    assert_eq!(bob2.password_hash, "$argon2id$new");
    assert_eq!(bob2.updated_at, bob.updated_at + Duration::from_secs(5));
    assert!(matches!(
        store.set_password_hash(&b, &bob.id, "$stolen").await,
        Err(AuthError::UserNotFound)
    ));
    assert!(matches!(
        store.set_password_hash(&a, &UserId::generate(), "$x").await,
        Err(AuthError::UserNotFound)
    ));
    assert_eq!(
        store.get(&a, &bob.id).await.unwrap().unwrap().password_hash,
        "$argon2id$new"
    );

    let bob3 = store
        .set_roles(&a, &bob.id, &roles(&["member", "admin", "admin"]))
        .await
        .unwrap();
    assert_eq!(bob3.roles, roles(&["admin", "member"]));
    assert_eq!(
        store.get(&a, &bob.id).await.unwrap().unwrap().roles,
        bob3.roles
    );
    assert!(matches!(
        store.set_roles(&a, &bob.id, &roles(&[""])).await,
        Err(AuthError::InvalidRole { .. })
    ));
    assert!(matches!(
        store.set_roles(&b, &bob.id, &roles(&["admin"])).await,
        Err(AuthError::UserNotFound)
    ));
    assert_eq!(
        store.get(&a, &bob.id).await.unwrap().unwrap().roles,
        bob3.roles
    );

    // ---- disable ---------------------------------------------------------------------
    assert!(matches!(
        store.disable(&b, &bob.id).await,
        Err(AuthError::UserNotFound)
    ));
    assert!(!store.get(&a, &bob.id).await.unwrap().unwrap().disabled);
    store.disable(&a, &bob.id).await.unwrap();
    store.disable(&a, &bob.id).await.unwrap();
    let disabled = store.get(&a, &bob.id).await.unwrap().unwrap();
    assert!(disabled.disabled);
    assert!(
        store
            .find_by_email(&a, &email("bob@example.com"))
            .await
            .unwrap()
            .unwrap()
            .disabled
    );
    assert!(
        store
            .list(&a, &PageRequest::default())
            .await
            .unwrap()
            .items
            .iter()
            .any(|u| u.id == bob.id),
        "disabled users are listed"
    );

    // ---- concurrency -----------------------------------------------------------------
    // Two sign-ups with one email: exactly one wins.
    let (x, y) = tokio::join!(
        store.create(&a, new_user("race@example.com")),
        store.create(&a, new_user("Race@example.com"))
    );
    assert_eq!(
        usize::from(x.is_ok()) + usize::from(y.is_ok()),
        1,
        "one of two racing sign-ups wins"
    );
    for r in [x, y] {
        if let Err(e) = r {
            assert!(matches!(e, AuthError::EmailTaken), "{e:?}");
        }
    }
    // Two first sign-ups to an empty tenant: exactly one admin.
    let c = fresh_tenant();
    let (x, y) = tokio::join!(
        store.create(&c, new_user("one@example.com")),
        store.create(&c, new_user("two@example.com"))
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    let admins = [&x, &y]
        .iter()
        .filter(|u| u.roles == roles(&["admin"]))
        .count();
    assert_eq!(admins, 1, "exactly one first user");
}
