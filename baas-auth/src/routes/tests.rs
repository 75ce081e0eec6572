use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use baas_core::stack::StandardStack;
use baas_core::{ManualClock, TenantId};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use super::*;
use crate::service::Stores;
use crate::service::tests::service_over;

const PASSWORD: &str = "violet-otter-mandolin";

struct App {
    router: Router,
    service: Arc<IdentityService>,
    clock: ManualClock,
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Value,
}

async fn app() -> App {
    let clock = ManualClock::new();
    let service = Arc::new(service_over(Stores::memory(clock.shared()), &clock, 1024));
    service.start().await.unwrap();
    let router = StandardStack::new()
        .metrics(false)
        .apply_with_auth(router(IdentityState::new(service.clone())), service.layer());
    App {
        router,
        service,
        clock,
    }
}

impl App {
    async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<(&str, String)>,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(token) = bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some((content_type, text)) => {
                req = req.header(header::CONTENT_TYPE, content_type);
                Body::from(text)
            }
            None => Body::empty(),
        };
        let mut req = req.body(body).unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 1], 4000))));
        let res = self.router.clone().oneshot(req).await.unwrap();
        let (parts, body) = res.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    async fn json(&self, method: Method, path: &str, bearer: Option<&str>, body: Value) -> Reply {
        self.call(
            method,
            path,
            bearer,
            Some(("application/json", body.to_string())),
        )
        .await
    }

    async fn get(&self, path: &str, bearer: Option<&str>) -> Reply {
        self.call(Method::GET, path, bearer, None).await
    }

    async fn post(&self, path: &str, bearer: Option<&str>) -> Reply {
        self.call(Method::POST, path, bearer, None).await
    }

    async fn signup(&self, tenant: &str, email: &str) -> Reply {
        self.json(
            Method::POST,
            "/v1/auth/signup",
            None,
            json!({"tenant": tenant, "email": email, "password": PASSWORD}),
        )
        .await
    }

    async fn login(&self, tenant: &str, email: &str) -> Reply {
        self.json(
            Method::POST,
            "/v1/auth/token",
            None,
            json!({"grant_type": "password", "tenant": tenant, "email": email, "password": PASSWORD}),
        )
        .await
    }

    /// Sign up and log in; returns (user id, access token, refresh token).
    async fn user(&self, tenant: &str, email: &str) -> (String, String, String) {
        let signed = self.signup(tenant, email).await;
        assert_eq!(signed.status, StatusCode::CREATED, "{:?}", signed.body);
        let tokens = self.login(tenant, email).await;
        assert_eq!(tokens.status, StatusCode::OK, "{:?}", tokens.body);
        (
            signed.body["user"]["id"].as_str().unwrap().to_owned(),
            tokens.body["access_token"].as_str().unwrap().to_owned(),
            tokens.body["refresh_token"].as_str().unwrap().to_owned(),
        )
    }
}

fn assert_problem(reply: &Reply, status: StatusCode) {
    assert_eq!(reply.status, status, "{:?}", reply.body);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        baas_core::http::PROBLEM_JSON,
        "{:?}",
        reply.body
    );
    assert_eq!(reply.body["status"], status.as_u16());
    if status == StatusCode::UNAUTHORIZED {
        assert!(
            reply.headers[header::WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
    }
}

fn assert_oauth_error(reply: &Reply, status: StatusCode, error: &str) {
    assert_eq!(reply.status, status, "{:?}", reply.body);
    assert_eq!(reply.body["error"], error, "{:?}", reply.body);
    assert!(reply.body["error_description"].is_string());
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn signup_statuses() {
    let app = app().await;
    let first = app.signup("acme", "Alice@Example.com").await;
    assert_eq!(first.status, StatusCode::CREATED);
    let user = &first.body["user"];
    assert_eq!(user["tenant"], "acme");
    assert_eq!(user["email"], "alice@example.com");
    assert_eq!(user["roles"], json!(["admin"]));
    assert!(user["id"].is_string());
    let second = app.signup("acme", "bob@example.com").await;
    assert_eq!(second.body["user"]["roles"], json!(["member"]));

    assert_problem(
        &app.signup("acme", "ALICE@example.com").await,
        StatusCode::CONFLICT,
    );
    for body in [
        json!({"tenant": "acme", "email": "c@example.com", "password": "short"}),
        json!({"tenant": "acme", "email": "c@example.com", "password": "password123"}),
        json!({"tenant": "acme", "email": "c@example.com", "password": "x".repeat(129)}),
        json!({"tenant": "acme", "email": "not-an-email", "password": PASSWORD}),
    ] {
        let reply = app.json(Method::POST, "/v1/auth/signup", None, body).await;
        assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.body["errors"][0]["field"].is_string());
    }
    let reply = app
        .call(
            Method::POST,
            "/v1/auth/signup",
            None,
            Some(("application/json", "{".into())),
        )
        .await;
    assert_problem(&reply, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn token_password_grant_json_and_form() {
    let app = app().await;
    app.signup("acme", "a@example.com").await;
    let reply = app.login("acme", "a@example.com").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 900);
    assert!(
        reply.body["access_token"]
            .as_str()
            .unwrap()
            .split('.')
            .count()
            == 3
    );
    assert!(reply.body["refresh_token"].is_string());

    let form = format!("grant_type=password&tenant=acme&email=a%40example.com&password={PASSWORD}");
    let reply = app
        .call(
            Method::POST,
            "/v1/auth/token",
            None,
            Some(("application/x-www-form-urlencoded", form)),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn token_errors_are_rfc6749() {
    let app = app().await;
    app.signup("acme", "a@example.com").await;
    let wrong = app
        .json(
            Method::POST,
            "/v1/auth/token",
            None,
            json!({"grant_type": "password", "tenant": "acme", "email": "a@example.com", "password": "wrong-wrong-wrong"}),
        )
        .await;
    assert_oauth_error(&wrong, StatusCode::BAD_REQUEST, "invalid_grant");
    let unknown = app.login("acme", "nobody@example.com").await;
    assert_oauth_error(&unknown, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_eq!(wrong.body, unknown.body, "no user enumeration");

    let missing = app
        .json(
            Method::POST,
            "/v1/auth/token",
            None,
            json!({"tenant": "acme"}),
        )
        .await;
    assert_oauth_error(&missing, StatusCode::BAD_REQUEST, "invalid_request");
    let no_password = app
        .json(
            Method::POST,
            "/v1/auth/token",
            None,
            json!({"grant_type": "password", "tenant": "acme", "email": "a@example.com"}),
        )
        .await;
    assert_oauth_error(&no_password, StatusCode::BAD_REQUEST, "invalid_request");
    let unsupported = app
        .json(
            Method::POST,
            "/v1/auth/token",
            None,
            json!({"grant_type": "client_credentials"}),
        )
        .await;
    assert_oauth_error(
        &unsupported,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
    );
    let text = app
        .call(
            Method::POST,
            "/v1/auth/token",
            None,
            Some(("text/plain", "hello".into())),
        )
        .await;
    assert_oauth_error(&text, StatusCode::BAD_REQUEST, "invalid_request");
    let broken = app
        .call(
            Method::POST,
            "/v1/auth/token",
            None,
            Some(("application/json", "{".into())),
        )
        .await;
    assert_oauth_error(&broken, StatusCode::BAD_REQUEST, "invalid_request");
    let bad_refresh = app
        .json(
            Method::POST,
            "/v1/auth/token",
            None,
            json!({"grant_type": "refresh_token", "refresh_token": "nope"}),
        )
        .await;
    assert_oauth_error(&bad_refresh, StatusCode::BAD_REQUEST, "invalid_grant");
}

async fn refresh(app: &App, token: &str) -> Reply {
    app.json(
        Method::POST,
        "/v1/auth/token",
        None,
        json!({"grant_type": "refresh_token", "refresh_token": token}),
    )
    .await
}

#[tokio::test]
async fn refresh_rotation_grace_and_reuse_detection() {
    let app = app().await;
    let (_, _, r0) = app.user("acme", "a@example.com").await;
    let first = refresh(&app, &r0).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(first.headers[header::CACHE_CONTROL], "no-store");
    let r1 = first.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r0);
    // A second refresh with r0 within the grace window (a concurrent client) is not reuse.
    let concurrent = refresh(&app, &r0).await;
    assert_eq!(concurrent.status, StatusCode::OK, "{:?}", concurrent.body);
    let r1b = concurrent.body["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let a1 = first.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/v1/auth/me", Some(&a1)).await.status,
        StatusCode::OK
    );

    // After the grace window, r0 again is reuse: the whole family goes.
    app.clock
        .advance(app.service.config().refresh.grace + Duration::from_secs(1));
    let reused = refresh(&app, &r0).await;
    assert_oauth_error(&reused, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_oauth_error(
        &refresh(&app, &r1).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    assert_oauth_error(
        &refresh(&app, &r1b).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    assert_problem(
        &app.get("/v1/auth/me", Some(&a1)).await,
        StatusCode::UNAUTHORIZED,
    );
}

#[tokio::test]
async fn revoke_is_rfc7009() {
    let app = app().await;
    let (_, access, refresh_token) = app.user("acme", "a@example.com").await;
    let reply = app
        .call(
            Method::POST,
            "/v1/auth/revoke",
            None,
            Some((
                "application/x-www-form-urlencoded",
                format!("token={refresh_token}"),
            )),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    assert_problem(
        &app.get("/v1/auth/me", Some(&access)).await,
        StatusCode::UNAUTHORIZED,
    );
    assert_oauth_error(
        &refresh(&app, &refresh_token).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );

    // An access token revokes its session too.
    let tokens = app.login("acme", "a@example.com").await;
    let access = tokens.body["access_token"].as_str().unwrap();
    let reply = app
        .json(
            Method::POST,
            "/v1/auth/revoke",
            None,
            json!({"token": access}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_problem(
        &app.get("/v1/auth/me", Some(access)).await,
        StatusCode::UNAUTHORIZED,
    );

    // Unknown, invalid and already revoked tokens: still 200.
    for token in ["garbage", "a.b.c", access] {
        let reply = app
            .json(
                Method::POST,
                "/v1/auth/revoke",
                None,
                json!({"token": token}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{token}");
    }
    let missing = app
        .json(Method::POST, "/v1/auth/revoke", None, json!({}))
        .await;
    assert_oauth_error(&missing, StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn logout_me_and_password() {
    let app = app().await;
    let (id, access, _) = app.user("acme", "a@example.com").await;
    let me = app.get("/v1/auth/me", Some(&access)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(
        me.body,
        json!({"id": id, "tenant": "acme", "email": "a@example.com", "roles": ["admin"]})
    );
    assert_problem(
        &app.get("/v1/auth/me", None).await,
        StatusCode::UNAUTHORIZED,
    );
    let bad = app.get("/v1/auth/me", Some("not-a-token")).await;
    assert_problem(&bad, StatusCode::UNAUTHORIZED);
    assert!(
        bad.headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );

    // Password change: wrong current → 422; right → 204, other sessions revoked.
    let other = app.login("acme", "a@example.com").await;
    let other_access = other.body["access_token"].as_str().unwrap();
    let wrong = app
        .json(
            Method::POST,
            "/v1/auth/password",
            Some(&access),
            json!({"current_password": "nope-nope-nope", "new_password": "fresh-lovely-words"}),
        )
        .await;
    assert_problem(&wrong, StatusCode::UNPROCESSABLE_ENTITY);
    let weak = app
        .json(
            Method::POST,
            "/v1/auth/password",
            Some(&access),
            json!({"current_password": PASSWORD, "new_password": "password"}),
        )
        .await;
    assert_problem(&weak, StatusCode::UNPROCESSABLE_ENTITY);
    let changed = app
        .json(
            Method::POST,
            "/v1/auth/password",
            Some(&access),
            json!({"current_password": PASSWORD, "new_password": "fresh-lovely-words"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/v1/auth/me", Some(&access)).await.status,
        StatusCode::OK
    );
    assert_problem(
        &app.get("/v1/auth/me", Some(other_access)).await,
        StatusCode::UNAUTHORIZED,
    );
    let anonymous = app
        .json(
            Method::POST,
            "/v1/auth/password",
            None,
            json!({"current_password": "a", "new_password": "b"}),
        )
        .await;
    assert_problem(&anonymous, StatusCode::UNAUTHORIZED);

    // Logout: 204, then the token is refused.
    assert_problem(
        &app.post("/v1/auth/logout", None).await,
        StatusCode::UNAUTHORIZED,
    );
    assert_eq!(
        app.post("/v1/auth/logout", Some(&access)).await.status,
        StatusCode::NO_CONTENT
    );
    assert_problem(
        &app.get("/v1/auth/me", Some(&access)).await,
        StatusCode::UNAUTHORIZED,
    );
}

#[tokio::test]
async fn user_administration_and_tenant_isolation() {
    let app = app().await;
    let (_, admin, _) = app.user("acme", "admin@example.com").await;
    let (member_id, member, member_refresh) = app.user("acme", "m@example.com").await;
    let (other_id, other_admin, _) = app.user("other", "o@example.com").await;

    let list = app.get("/v1/users", Some(&admin)).await;
    assert_eq!(list.status, StatusCode::OK);
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "only the caller's tenant");
    assert_eq!(
        items[1],
        json!({"id": member_id, "email": "m@example.com", "roles": ["member"], "disabled": false})
    );
    assert_eq!(list.body["next_cursor"], Value::Null);
    let paged = app.get("/v1/users?limit=1", Some(&admin)).await;
    assert_eq!(paged.body["items"].as_array().unwrap().len(), 1);
    let cursor = paged.body["next_cursor"].as_str().unwrap();
    let next = app
        .get(&format!("/v1/users?limit=1&cursor={cursor}"), Some(&admin))
        .await;
    assert_eq!(next.body["items"][0]["id"], member_id);
    assert_problem(
        &app.get("/v1/users?limit=0", Some(&admin)).await,
        StatusCode::BAD_REQUEST,
    );
    assert_problem(
        &app.get("/v1/users?limit=x", Some(&admin)).await,
        StatusCode::BAD_REQUEST,
    );
    assert_problem(
        &app.get("/v1/users?cursor=zzz", Some(&admin)).await,
        StatusCode::BAD_REQUEST,
    );
    assert_problem(
        &app.get("/v1/users", Some(&member)).await,
        StatusCode::FORBIDDEN,
    );
    assert_problem(&app.get("/v1/users", None).await, StatusCode::UNAUTHORIZED);

    // Roles.
    let path = format!("/v1/users/{member_id}/roles");
    let set = app
        .json(
            Method::PUT,
            &path,
            Some(&admin),
            json!({"roles": ["member", "editor"]}),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    assert_eq!(set.body["roles"], json!(["editor", "member"]));
    assert_problem(
        &app.json(
            Method::PUT,
            &path,
            Some(&admin),
            json!({"roles": ["Bad Role"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    assert_problem(
        &app.json(
            Method::PUT,
            &path,
            Some(&member),
            json!({"roles": ["admin"]}),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    assert_problem(
        &app.json(
            Method::PUT,
            &path,
            Some(&other_admin),
            json!({"roles": ["admin"]}),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    assert_problem(
        &app.json(
            Method::PUT,
            &format!("/v1/users/{other_id}/roles"),
            Some(&admin),
            json!({"roles": ["admin"]}),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    assert_problem(
        &app.json(
            Method::PUT,
            "/v1/users/not-an-id/roles",
            Some(&admin),
            json!({"roles": []}),
        )
        .await,
        StatusCode::NOT_FOUND,
    );

    // Disable: another tenant's admin gets 404; a member 403; the admin 204.
    let disable = format!("/v1/users/{member_id}/disable");
    assert_problem(
        &app.post(&disable, Some(&other_admin)).await,
        StatusCode::NOT_FOUND,
    );
    assert_problem(
        &app.post(&disable, Some(&member)).await,
        StatusCode::FORBIDDEN,
    );
    assert_problem(&app.post(&disable, None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.post(&disable, Some(&admin)).await.status,
        StatusCode::NO_CONTENT
    );
    assert_problem(
        &app.get("/v1/auth/me", Some(&member)).await,
        StatusCode::UNAUTHORIZED,
    );
    assert_oauth_error(
        &app.login("acme", "m@example.com").await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    assert_oauth_error(
        &refresh(&app, &member_refresh).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    let list = app.get("/v1/users", Some(&admin)).await;
    assert_eq!(list.body["items"][1]["disabled"], true);
}

#[tokio::test]
async fn jwks_and_signing_key_rotation() {
    let app = app().await;
    let (_, operator, _) = app.user("ops", "root@example.com").await;
    let (_, tenant_admin, _) = app.user("acme", "boss@example.com").await;
    let jwks = app.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks.status, StatusCode::OK);
    assert_eq!(jwks.body["keys"].as_array().unwrap().len(), 2);
    assert_eq!(jwks.body["keys"][0]["kty"], "OKP");

    assert_problem(
        &app.post("/v1/admin/signing-keys/rotate", None).await,
        StatusCode::UNAUTHORIZED,
    );
    assert_problem(
        &app.post("/v1/admin/signing-keys/rotate", Some(&tenant_admin))
            .await,
        StatusCode::FORBIDDEN,
    );
    let rotated = app
        .post("/v1/admin/signing-keys/rotate", Some(&operator))
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{:?}", rotated.body);
    let kid = rotated.body["kid"].as_str().unwrap();
    let jwks = app.get("/.well-known/jwks.json", None).await;
    let keys = jwks.body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3);
    assert!(keys.iter().any(|k| k["kid"] == kid));
    // Tokens signed by the old key keep working; new ones are signed by `kid`.
    assert_eq!(
        app.get("/v1/auth/me", Some(&tenant_admin)).await.status,
        StatusCode::OK
    );
    let fresh = app.login("acme", "boss@example.com").await;
    let token = fresh.body["access_token"].as_str().unwrap();
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap(),
    )
    .unwrap();
    assert_eq!(header["kid"], kid);
    assert_eq!(header["typ"], "at+jwt");
}

#[tokio::test]
async fn api_keys_create_use_and_delete() {
    let app = app().await;
    let (_, admin, _) = app.user("acme", "admin@example.com").await;
    let (_, member, _) = app.user("acme", "m@example.com").await;
    let (_, other_admin, _) = app.user("other", "o@example.com").await;

    let created = app
        .json(
            Method::POST,
            "/v1/api-keys",
            Some(&admin),
            json!({"name": "ci", "roles": ["member"], "expires_in": 3600}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.headers[header::CACHE_CONTROL], "no-store");
    let id = created.body["id"].as_str().unwrap().to_owned();
    let key = created.body["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("baas_"));

    // The key is a bearer credential.
    let me = app.get("/v1/auth/me", Some(&key)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["id"], id);
    assert_eq!(me.body["tenant"], "acme");
    assert_eq!(me.body["roles"], json!(["member"]));
    // A member key cannot list users (admin only).
    assert_problem(
        &app.get("/v1/users", Some(&key)).await,
        StatusCode::FORBIDDEN,
    );

    // Escalation: roles the caller lacks → 403; members cannot create keys at all.
    assert_problem(
        &app.json(
            Method::POST,
            "/v1/api-keys",
            Some(&admin),
            json!({"name": "x", "roles": ["superuser"]}),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    assert_problem(
        &app.json(
            Method::POST,
            "/v1/api-keys",
            Some(&member),
            json!({"name": "x", "roles": ["member"]}),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    assert_problem(
        &app.json(
            Method::POST,
            "/v1/api-keys",
            Some(&key),
            json!({"name": "x", "roles": ["admin"]}),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    assert_problem(
        &app.json(
            Method::POST,
            "/v1/api-keys",
            None,
            json!({"name": "x", "roles": []}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
    );
    assert_problem(
        &app.json(
            Method::POST,
            "/v1/api-keys",
            Some(&admin),
            json!({"name": "", "roles": ["member"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    assert_problem(
        &app.json(
            Method::POST,
            "/v1/api-keys",
            Some(&admin),
            json!({"name": "x", "roles": ["member"], "expires_in": 0}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    // An admin key may mint member keys.
    let admin_key = app
        .json(
            Method::POST,
            "/v1/api-keys",
            Some(&admin),
            json!({"name": "ops", "roles": ["admin"]}),
        )
        .await;
    assert_eq!(admin_key.status, StatusCode::CREATED);
    let admin_key = admin_key.body["key"].as_str().unwrap().to_owned();
    let minted = app
        .json(
            Method::POST,
            "/v1/api-keys",
            Some(&admin_key),
            json!({"name": "m", "roles": ["member"]}),
        )
        .await;
    assert_eq!(minted.status, StatusCode::CREATED);

    // Delete: another tenant → 404; member → 403; admin → 204; then the key is refused.
    let path = format!("/v1/api-keys/{id}");
    assert_problem(
        &app.call(Method::DELETE, &path, Some(&other_admin), None)
            .await,
        StatusCode::NOT_FOUND,
    );
    assert_problem(
        &app.call(Method::DELETE, &path, Some(&member), None).await,
        StatusCode::FORBIDDEN,
    );
    assert_problem(
        &app.call(Method::DELETE, &path, None, None).await,
        StatusCode::UNAUTHORIZED,
    );
    assert_eq!(
        app.call(Method::DELETE, &path, Some(&admin), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_problem(
        &app.get("/v1/auth/me", Some(&key)).await,
        StatusCode::UNAUTHORIZED,
    );
    assert_problem(
        &app.call(Method::DELETE, &path, Some(&admin), None).await,
        StatusCode::NOT_FOUND,
    );
    assert_problem(
        &app.call(Method::DELETE, "/v1/api-keys/not-an-id", Some(&admin), None)
            .await,
        StatusCode::NOT_FOUND,
    );
}

#[tokio::test]
async fn the_operator_tenant_is_the_first_one() {
    let app = app().await;
    app.user("first", "a@example.com").await;
    assert_eq!(
        app.service.operator_tenant().await.unwrap(),
        Some(TenantId::new("first").unwrap())
    );
}

#[test]
fn openapi_documents_every_route() {
    use utoipa::OpenApi as _;
    let doc = IdentityApi::openapi();
    for path in [
        "/v1/auth/signup",
        "/v1/auth/token",
        "/v1/auth/revoke",
        "/v1/auth/logout",
        "/v1/auth/me",
        "/v1/auth/password",
        "/v1/users",
        "/v1/users/{id}/roles",
        "/v1/users/{id}/disable",
        "/.well-known/jwks.json",
        "/v1/admin/signing-keys/rotate",
        "/v1/api-keys",
        "/v1/api-keys/{id}",
    ] {
        assert!(doc.paths.paths.contains_key(path), "{path}");
    }
    let json = doc.to_json().unwrap();
    assert!(json.contains("application/problem+json"));
    assert!(json.contains("\"bearer\""));
}
