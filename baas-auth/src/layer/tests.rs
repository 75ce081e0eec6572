use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::routing::get;
use baas_core::stack::StandardStack;
use baas_core::{ManualClock, MasterKey, Principal, PrincipalKind, TenantId};
use http::{StatusCode, header};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

use super::*;
use crate::keys::{KeyManager, KeyRing, MemoryKeyStore};
use crate::{
    AuthError, MemoryInstallationStore, MemoryRevocations, TokenConfig, TokenIssuer, TokenRequest,
    TokenVerifier,
};

struct Fixture {
    issuer: TokenIssuer,
    revocations: Arc<MemoryRevocations>,
    verifier: Arc<TokenVerifier>,
}

async fn fixture() -> Fixture {
    let clock = ManualClock::new();
    let config = TokenConfig::new("iss", "aud");
    let store = Arc::new(MemoryKeyStore::new());
    let keys = Arc::new(KeyManager::new(
        store.clone(),
        MasterKey::generate(),
        clock.shared(),
        config.clone(),
    ));
    keys.ensure().await.unwrap();
    let revocations = Arc::new(MemoryRevocations::new());
    let ring = Arc::new(KeyRing::new(store, clock.shared(), config.clone()));
    Fixture {
        issuer: TokenIssuer::new(keys, clock.shared()),
        verifier: Arc::new(TokenVerifier::new(
            ring,
            revocations.clone(),
            clock.shared(),
            config,
        )),
        revocations,
    }
}

fn acme() -> TenantId {
    TenantId::new("acme").unwrap()
}

async fn token(f: &Fixture, tenant: &str, roles: &[&str], sid: &str) -> String {
    f.issuer
        .issue(&TokenRequest {
            subject: "user-1".into(),
            tenant: TenantId::new(tenant).unwrap(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            session_id: sid.into(),
            client_id: "web".into(),
        })
        .await
        .unwrap()
        .into_string()
}

/// Echoes who the caller is: `anonymous`, or `subject tenant operator`.
async fn whoami(req: Request) -> String {
    match req.extensions().get::<Principal>() {
        None => "anonymous".into(),
        Some(p) => format!("{} {} {}", p.subject, p.tenant, p.operator),
    }
}

fn app(authenticator: Arc<DynAuthenticator>) -> Router {
    Router::new()
        .route("/", get(whoami))
        .layer(AuthLayer::new(authenticator))
}

async fn call(app: Router, authorization: Option<&str>) -> (StatusCode, http::HeaderMap, String) {
    let mut req = Request::get("/");
    if let Some(a) = authorization {
        req = req.header(header::AUTHORIZATION, a);
    }
    let res = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let (parts, body) = res.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

fn assert_invalid_token(status: StatusCode, headers: &http::HeaderMap) {
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers[header::CONTENT_TYPE], baas_core::http::PROBLEM_JSON);
    let challenge = headers[header::WWW_AUTHENTICATE].to_str().unwrap();
    assert!(
        challenge.starts_with("Bearer error=\"invalid_token\""),
        "{challenge}"
    );
}

#[tokio::test]
async fn no_header_passes_through_anonymous() {
    let f = fixture().await;
    let (status, _, body) = call(
        app(Arc::new(TokenAuthenticator::new(f.verifier.clone()))),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "anonymous");
}

#[tokio::test]
async fn a_valid_token_puts_the_principal_in_the_extensions() {
    let f = fixture().await;
    let token = token(&f, "acme", &["member"], "s1").await;
    let app = app(Arc::new(TokenAuthenticator::new(f.verifier.clone())));
    let (status, _, body) = call(app.clone(), Some(&format!("Bearer {token}"))).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "user-1 acme false")
    );
    // The scheme is case-insensitive.
    let (status, _, _) = call(app, Some(&format!("bearer {token}"))).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn bad_credentials_are_401_invalid_token() {
    let f = fixture().await;
    let good = token(&f, "acme", &["member"], "s1").await;
    let mut tampered = good.clone();
    tampered.pop();
    tampered.push(if good.ends_with('A') { 'B' } else { 'A' });
    let app = app(Arc::new(TokenAuthenticator::new(f.verifier.clone())));
    for bad in [
        "Bearer not-a-jwt".to_owned(),
        format!("Bearer {tampered}"),
        "Basic dXNlcjpwYXNz".to_owned(),
        "Bearer ".to_owned(),
        "Bearer baas_somekey_secret".to_owned(), // no API keys configured
    ] {
        let (status, headers, body) = call(app.clone(), Some(&bad)).await;
        assert_invalid_token(status, &headers);
        assert!(!body.contains("dXNlcjpwYXNz") && !body.contains(&tampered));
    }
}

#[tokio::test]
async fn a_revoked_session_is_refused() {
    let f = fixture().await;
    let token = token(&f, "acme", &["member"], "s1").await;
    let app = app(Arc::new(TokenAuthenticator::new(f.verifier.clone())));
    let bearer = format!("Bearer {token}");
    assert_eq!(call(app.clone(), Some(&bearer)).await.0, StatusCode::OK);
    f.revocations.revoke(&acme(), "s1");
    let (status, headers, body) = call(app, Some(&bearer)).await;
    assert_invalid_token(status, &headers);
    assert!(body.contains("revoked"), "{body}");
}

#[tokio::test]
async fn a_smuggled_principal_is_dropped_for_anonymous_requests() {
    let f = fixture().await;
    let app = app(Arc::new(TokenAuthenticator::new(f.verifier.clone())));
    let mut req = Request::get("/").body(Body::empty()).unwrap();
    req.extensions_mut()
        .insert(Principal::new("evil", acme(), PrincipalKind::Service));
    let res = app.oneshot(req).await.unwrap();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"anonymous");
}

#[derive(Debug)]
struct Down;

#[async_trait]
impl Authenticator for Down {
    async fn authenticate(&self, _: &str) -> Result<Principal, AuthError> {
        Err(AuthError::Unavailable("database is down".into()))
    }
}

#[tokio::test]
async fn an_unavailable_authenticator_is_503_not_anonymous() {
    let (status, headers, body) = call(app(Arc::new(Down)), Some("Bearer x")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(headers.get(header::WWW_AUTHENTICATE).is_none());
    assert!(!body.contains("database is down"));
}

#[derive(Debug)]
struct Keys;

#[async_trait]
impl Authenticator for Keys {
    async fn authenticate(&self, credential: &str) -> Result<Principal, AuthError> {
        if credential == "baas_k1_secret" {
            Ok(Principal::new("k1", acme(), PrincipalKind::ApiKey).with_roles(["admin"]))
        } else {
            Err(AuthError::MalformedToken)
        }
    }
}

#[tokio::test]
async fn api_keys_are_routed_by_prefix_and_operators_flagged() {
    let f = fixture().await;
    let installation = Arc::new(MemoryInstallationStore::new());
    let operator = OperatorTenant::from_store(installation.clone(), ManualClock::new().shared());
    let authenticator = TokenAuthenticator::new(f.verifier.clone())
        .with_api_keys(Arc::new(Keys))
        .with_operator(operator.clone());
    let app = app(Arc::new(authenticator));
    let (status, _, body) = call(app.clone(), Some("Bearer baas_k1_secret")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "k1 acme false"));
    let (status, headers, _) = call(app.clone(), Some("Bearer baas_k1_wrong")).await;
    assert_invalid_token(status, &headers);

    // acme becomes the operator tenant: its admins are operators, members are not.
    crate::InstallationStore::claim_operator_tenant(&*installation, &acme())
        .await
        .unwrap();
    operator.learn(acme());
    let (_, _, body) = call(app.clone(), Some("Bearer baas_k1_secret")).await;
    assert_eq!(body, "k1 acme true");
    let member = token(&f, "acme", &["member"], "s1").await;
    let (_, _, body) = call(app.clone(), Some(&format!("Bearer {member}"))).await;
    assert_eq!(body, "user-1 acme false");
    let other_admin = token(&f, "other", &["admin"], "s2").await;
    let (_, _, body) = call(app, Some(&format!("Bearer {other_admin}"))).await;
    assert_eq!(body, "user-1 other false");
}

#[tokio::test]
async fn operator_tenant_is_read_from_the_store_when_unknown() {
    let clock = ManualClock::new();
    let installation = Arc::new(MemoryInstallationStore::new());
    let operator = OperatorTenant::from_store(installation.clone(), clock.shared());
    assert_eq!(operator.get().await.unwrap(), None);
    crate::InstallationStore::claim_operator_tenant(&*installation, &acme())
        .await
        .unwrap();
    // Asked less than a second ago: not yet re-read; `fixed` needs no store.
    assert_eq!(
        OperatorTenant::fixed(acme()).get().await.unwrap(),
        Some(acme())
    );
    assert_eq!(
        operator.get().await.unwrap(),
        None,
        "asked less than a second ago"
    );
    clock.advance(std::time::Duration::from_secs(1));
    assert_eq!(operator.get().await.unwrap(), Some(acme()));
}

#[tokio::test]
async fn fits_the_standard_stack() {
    let f = fixture().await;
    let token = token(&f, "acme", &["member"], "s1").await;
    let router: Router = Router::new().route("/", get(whoami));
    let layer = AuthLayer::new(Arc::new(TokenAuthenticator::new(f.verifier.clone())));
    let app = StandardStack::new()
        .metrics(false)
        .apply_with_auth(router, layer);
    let (status, _, body) = call(app.clone(), Some(&format!("Bearer {token}"))).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "user-1 acme false")
    );
    let (status, headers, _) = call(app, Some("Bearer nope")).await;
    assert_invalid_token(status, &headers);
}
