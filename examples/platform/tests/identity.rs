//! API.md's "Identity" section over HTTP against the real binary.

mod common;

use common::{Answer, PASSWORD, Server};
use serde_json::json;

#[tokio::test]
async fn signup_roles_duplicates_and_policy() {
    let server = Server::start(&[]).await;
    let first = server
        .post_json(
            "/v1/auth/signup",
            None,
            json!({"tenant": "acme", "email": "Alice@Example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.json);
    assert_eq!(first.json["user"]["tenant"], "acme");
    assert_eq!(first.json["user"]["email"], "alice@example.com");
    assert_eq!(first.json["user"]["roles"], json!(["admin"]));
    let second = server
        .post_json(
            "/v1/auth/signup",
            None,
            json!({"tenant": "acme", "email": "bob@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(second.json["user"]["roles"], json!(["member"]));
    server
        .post_json(
            "/v1/auth/signup",
            None,
            json!({"tenant": "acme", "email": "ALICE@example.com", "password": PASSWORD}),
        )
        .await
        .assert_problem(409);
    for (email, password) in [
        ("carol@example.com", "short"),
        ("carol@example.com", "password"),
        ("not-an-email", PASSWORD),
    ] {
        server
            .post_json(
                "/v1/auth/signup",
                None,
                json!({"tenant": "acme", "email": email, "password": password}),
            )
            .await
            .assert_problem(422);
    }
}

#[tokio::test]
async fn token_grants_follow_rfc_6749() {
    let server = Server::start(&[]).await;
    let alice = server.user("acme", "alice@example.com").await;
    let bad = server
        .login("acme", "alice@example.com", "wrong password!")
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json["error"], "invalid_grant");
    assert_eq!(bad.header("cache-control"), Some("no-store"));
    let unknown = server.login("acme", "nobody@example.com", PASSWORD).await;
    assert_eq!(unknown.json["error"], "invalid_grant");

    let form = server
        .http
        .post(server.url("/v1/auth/token"))
        .form(&[
            ("grant_type", "password"),
            ("tenant", "acme"),
            ("email", "alice@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let form = Answer::read(form).await;
    assert_eq!(form.status, 200, "{}", form.json);
    assert_eq!(form.json["token_type"], "Bearer");
    assert!(form.json["expires_in"].as_u64().unwrap() > 0);

    let refresh = |token: String| {
        let server = &server;
        async move {
            server
                .post_json(
                    "/v1/auth/token",
                    None,
                    json!({"grant_type": "refresh_token", "refresh_token": token}),
                )
                .await
        }
    };
    let rotated = refresh(alice.refresh_token.clone()).await;
    assert_eq!(rotated.status, 200, "{}", rotated.json);
    let next = rotated.json["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(next, alice.refresh_token, "refresh tokens rotate");
    // Two refreshes within the grace window are not reuse…
    let racing = refresh(alice.refresh_token.clone()).await;
    assert_eq!(racing.status, 200, "{}", racing.json);
    // …a third presentation is: the whole family goes.
    let reuse = refresh(alice.refresh_token.clone()).await;
    assert_eq!(reuse.status, 400);
    assert_eq!(reuse.json["error"], "invalid_grant");
    assert_eq!(
        refresh(next).await.json["error"],
        "invalid_grant",
        "the family is revoked"
    );
    server
        .get("/v1/auth/me", Some(&alice.access_token))
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn me_logout_revoke_and_password_change() {
    let server = Server::start(&[]).await;
    let alice = server.user("acme", "alice@example.com").await;
    let me = server.get("/v1/auth/me", Some(&alice.access_token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json["id"], alice.id.as_str());
    assert_eq!(me.json["email"], "alice@example.com");
    let anonymous = server.get("/v1/auth/me", None).await;
    anonymous.assert_problem(401);
    assert!(
        anonymous
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );
    server
        .get("/v1/auth/me", Some("not.a.token"))
        .await
        .assert_problem(401);

    // Revoke (RFC 7009): unknown tokens are fine too.
    let unknown = server
        .post_json("/v1/auth/revoke", None, json!({"token": "garbage"}))
        .await;
    assert_eq!(unknown.status, 200);
    let second = server.login("acme", "alice@example.com", PASSWORD).await;
    let second_access = second.json["access_token"].as_str().unwrap().to_owned();
    let revoked = server
        .post_json(
            "/v1/auth/revoke",
            None,
            json!({"token": second.json["refresh_token"]}),
        )
        .await;
    assert_eq!(revoked.status, 200);
    server
        .get("/v1/auth/me", Some(&second_access))
        .await
        .assert_problem(401);

    // Password change revokes the other sessions, keeps this one.
    let other = server.login("acme", "alice@example.com", PASSWORD).await;
    let other_access = other.json["access_token"].as_str().unwrap().to_owned();
    let changed = server
        .post_json(
            "/v1/auth/password",
            Some(&alice.access_token),
            json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.json);
    server
        .get("/v1/auth/me", Some(&other_access))
        .await
        .assert_problem(401);
    assert_eq!(
        server
            .get("/v1/auth/me", Some(&alice.access_token))
            .await
            .status,
        200
    );
    assert_eq!(
        server
            .login("acme", "alice@example.com", PASSWORD)
            .await
            .status,
        400
    );
    assert_eq!(
        server
            .login("acme", "alice@example.com", "a brand new passphrase")
            .await
            .status,
        200
    );

    let logout = server
        .http
        .post(server.url("/v1/auth/logout"))
        .bearer_auth(&alice.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    server
        .get("/v1/auth/me", Some(&alice.access_token))
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn admins_manage_users_and_api_keys() {
    let server = Server::start(&[]).await;
    let admin = server.user("acme", "admin@example.com").await;
    let bob = server.user("acme", "bob@example.com").await;
    let a = Some(admin.access_token.as_str());

    let users = server.get("/v1/users", a).await;
    assert_eq!(users.status, 200, "{}", users.json);
    assert_eq!(users.json["items"].as_array().unwrap().len(), 2);
    server
        .get("/v1/users", Some(&bob.access_token))
        .await
        .assert_problem(403);

    let roles = server
        .http
        .put(server.url(&format!("/v1/users/{}/roles", bob.id)))
        .bearer_auth(&admin.access_token)
        .json(&json!({"roles": ["member", "editor"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(roles.status(), 200);

    let key = server
        .post_json(
            "/v1/api-keys",
            a,
            json!({"name": "ci", "roles": ["member"]}),
        )
        .await;
    assert_eq!(key.status, 201, "{}", key.json);
    let secret = key.json["key"].as_str().unwrap().to_owned();
    let me = server
        .get("/v1/collections/notes/documents", Some(&secret))
        .await;
    assert_eq!(me.status, 200, "an API key authenticates: {}", me.json);
    server
        .post_json(
            "/v1/api-keys",
            Some(&bob.access_token),
            json!({"name": "x", "roles": ["admin"]}),
        )
        .await
        .assert_problem(403);
    let deleted = server
        .delete(
            &format!("/v1/api-keys/{}", key.json["id"].as_str().unwrap()),
            &admin.access_token,
        )
        .await;
    assert_eq!(deleted.status, 204);
    server
        .get("/v1/collections/notes/documents", Some(&secret))
        .await
        .assert_problem(401);

    let disabled = server
        .http
        .post(server.url(&format!("/v1/users/{}/disable", bob.id)))
        .bearer_auth(&admin.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), 204);
    assert_eq!(
        server.login("acme", "bob@example.com", PASSWORD).await.json["error"],
        "invalid_grant"
    );
    server
        .get("/v1/auth/me", Some(&bob.access_token))
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn jwks_and_operator_key_rotation() {
    let server = Server::start(&[]).await;
    let operator = server.user("ops", "root@example.com").await;
    let tenant_admin = server.user("acme", "admin@example.com").await;
    let jwks = server.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks.status, 200);
    assert!(!jwks.json["keys"].as_array().unwrap().is_empty());
    server
        .post_json(
            "/v1/admin/signing-keys/rotate",
            Some(&tenant_admin.access_token),
            json!({}),
        )
        .await
        .assert_problem(403);
    let rotated = server
        .post_json(
            "/v1/admin/signing-keys/rotate",
            Some(&operator.access_token),
            json!({}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.json);
    assert!(rotated.json["kid"].is_string());
    assert_eq!(
        server
            .get("/v1/auth/me", Some(&operator.access_token))
            .await
            .status,
        200,
        "old tokens still verify"
    );
    let fresh = server.login("ops", "root@example.com", PASSWORD).await;
    assert_eq!(fresh.status, 200);
    let kids: Vec<_> = server.get("/.well-known/jwks.json", None).await.json["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    assert!(kids.contains(&rotated.json["kid"].as_str().unwrap().to_owned()));
}
