//! The standard stack, end to end through axum.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::routing::{get, post};
use http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

use super::StandardStack;
use crate::idempotency::MemoryIdempotencyStore;
use crate::{ManualClock, Principal, PrincipalKind, TenantId};

fn peer(req: &mut Request<Body>, ip: [u8; 4]) {
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((ip, 40000))));
}

fn get_req(path: &str, ip: [u8; 4]) -> Request<Body> {
    let mut req = Request::get(path).body(Body::empty()).unwrap();
    peer(&mut req, ip);
    req
}

async fn body_of(res: http::Response<Body>) -> String {
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

#[tokio::test]
async fn every_response_gets_a_request_id_and_errors_are_problem_json() {
    let app = StandardStack::new().apply(crate::http::problem_rejections(
        Router::new().route("/ok", get(|| async { "ok" })),
    ));
    let res = app
        .clone()
        .oneshot(get_req("/ok", [10, 0, 0, 1]))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().contains_key("x-request-id"));
    let res = app
        .oneshot(get_req("/missing", [10, 0, 0, 1]))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.headers().contains_key("x-request-id"));
    assert_eq!(res.headers()["content-type"], crate::http::PROBLEM_JSON);
}

#[tokio::test]
async fn anonymous_callers_are_limited_per_ip_with_ratelimit_headers() {
    let clock = ManualClock::new();
    let app = StandardStack::new()
        .clock(clock.shared())
        .rate_limit(1, 2)
        .apply(Router::new().route("/ok", get(|| async { "ok" })));
    for _ in 0..2 {
        let res = app
            .clone()
            .oneshot(get_req("/ok", [10, 0, 0, 1]))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = app
        .clone()
        .oneshot(get_req("/ok", [10, 0, 0, 1]))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    // The headers describe the limit that refused (burst 2), not the wider per-IP
    // limit stacked outside it (burst 8), which let the request through.
    let policy = res.headers()["ratelimit-policy"].to_str().unwrap();
    assert!(policy.starts_with("\"default\";q=2;"), "{policy}");
    let remaining = res.headers()["ratelimit"].to_str().unwrap();
    assert!(remaining.starts_with("\"default\";r=0;"), "{remaining}");
    assert!(res.headers().contains_key("x-request-id"));
    // Another address has its own bucket, and the first recovers with time.
    let res = app
        .clone()
        .oneshot(get_req("/ok", [10, 0, 0, 2]))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    clock.advance(Duration::from_secs(1));
    let res = app.oneshot(get_req("/ok", [10, 0, 0, 1])).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// A stand-in for baas-auth's layer: every request is principal `x-user` of tenant acme.
#[derive(Clone)]
struct FakeAuth;

impl<S> tower_layer::Layer<S> for FakeAuth {
    type Service = FakeAuthService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        FakeAuthService(inner)
    }
}

#[derive(Clone)]
struct FakeAuthService<S>(S);

impl<S: tower_service::Service<Request<Body>>> tower_service::Service<Request<Body>>
    for FakeAuthService<S>
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;
    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }
    fn call(&mut self, mut req: Request<Body>) -> Self::Future {
        if let Some(user) = req.headers().get("x-user").and_then(|v| v.to_str().ok()) {
            let principal = Principal::new(
                user.to_owned(),
                TenantId::new("acme").unwrap(),
                PrincipalKind::User,
            );
            req.extensions_mut().insert(principal);
        }
        self.0.call(req)
    }
}

#[tokio::test]
async fn authenticated_callers_behind_one_address_have_their_own_buckets() {
    let clock = ManualClock::new();
    let app = StandardStack::new()
        .clock(clock.shared())
        .rate_limit(1, 1)
        .apply_with_auth(Router::new().route("/ok", get(|| async { "ok" })), FakeAuth);
    let as_user = |user: &str| {
        let mut req = Request::get("/ok")
            .header("x-user", user)
            .body(Body::empty())
            .unwrap();
        peer(&mut req, [192, 168, 1, 1]);
        req
    };
    assert_eq!(
        app.clone()
            .oneshot(as_user("alice"))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.clone().oneshot(as_user("bob")).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        app.oneshot(as_user("alice")).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn idempotent_posts_replay_through_the_stack() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let handler = move || {
        let counter = counter.clone();
        async move {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            (StatusCode::CREATED, format!("created {n}"))
        }
    };
    let app = StandardStack::new()
        .idempotency(Arc::new(MemoryIdempotencyStore::new()))
        .apply(Router::new().route("/things", post(handler)));
    let post_req = || {
        let mut req = Request::post("/things")
            .header("idempotency-key", "k-1")
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap();
        peer(&mut req, [10, 0, 0, 1]);
        req
    };
    let first = app.clone().oneshot(post_req()).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first_id = first.headers()["x-request-id"].clone();
    let first_body = body_of(first).await;
    let second = app.oneshot(post_req()).await.unwrap();
    assert_eq!(second.status(), StatusCode::CREATED);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    assert_ne!(
        second.headers()["x-request-id"],
        first_id,
        "replay carries the current request id"
    );
    assert_eq!(body_of(second).await, first_body);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn slow_handlers_time_out_with_503() {
    let app = StandardStack::new()
        .request_timeout(Duration::from_secs(1))
        .apply(Router::new().route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        ));
    let res = app.oneshot(get_req("/slow", [10, 0, 0, 1])).await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(res.headers()["content-type"], crate::http::PROBLEM_JSON);
}

#[tokio::test]
async fn requests_beyond_the_in_flight_limit_are_shed() {
    let gate = Arc::new(tokio::sync::Notify::new());
    let entered = Arc::new(tokio::sync::Notify::new());
    let (g, e) = (gate.clone(), entered.clone());
    let app = StandardStack::new()
        .max_in_flight(1)
        .apply(Router::new().route(
            "/block",
            get(move || {
                let (g, e) = (g.clone(), e.clone());
                async move {
                    e.notify_one();
                    g.notified().await;
                    "done"
                }
            }),
        ));
    let first = tokio::spawn(app.clone().oneshot(get_req("/block", [10, 0, 0, 1])));
    entered.notified().await;
    let shed = app.oneshot(get_req("/block", [10, 0, 0, 1])).await.unwrap();
    assert_eq!(shed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(shed.headers().contains_key("retry-after"));
    gate.notify_one();
    assert_eq!(first.await.unwrap().unwrap().status(), StatusCode::OK);
}
