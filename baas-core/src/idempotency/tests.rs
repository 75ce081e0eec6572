//! The layer, tested through tower's `Service` API.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use parking_lot::Mutex;
use tokio::sync::Notify;
use tower::{BoxError, Service, ServiceExt as _};

use super::*;
use crate::clock::ManualClock;
use crate::context::RequestId;
use crate::error::Error;
use crate::master_key::MasterKey;
use crate::principal::{Principal, PrincipalKind};
use crate::tenant::TenantId;

/// What the inner service answers.
#[derive(Clone)]
struct Answer {
    status: StatusCode,
    body: &'static str,
    seal: bool,
    fail: bool,
}

impl Answer {
    fn ok(status: StatusCode, body: &'static str) -> Self {
        Answer {
            status,
            body,
            seal: false,
            fail: false,
        }
    }
}

/// A counting inner service; it can block each call on a gate until told to go on.
#[derive(Clone)]
struct Handler {
    calls: Arc<AtomicUsize>,
    answer: Arc<Mutex<Answer>>,
    started: Arc<Notify>,
    gate: Option<Arc<Notify>>,
}

impl Handler {
    fn new(answer: Answer) -> Self {
        Handler {
            calls: Arc::new(AtomicUsize::new(0)),
            answer: Arc::new(Mutex::new(answer)),
            started: Arc::new(Notify::new()),
            gate: None,
        }
    }

    fn gated(answer: Answer) -> (Self, Arc<Notify>) {
        let gate = Arc::new(Notify::new());
        let mut handler = Self::new(answer);
        handler.gate = Some(gate.clone());
        (handler, gate)
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn answer(&self, answer: Answer) {
        *self.answer.lock() = answer;
    }
}

impl Service<Request<Full<Bytes>>> for Handler {
    type Response = Response<Full<Bytes>>;
    type Error = BoxError;
    type Future = futures_util::future::BoxFuture<'static, Result<Self::Response, BoxError>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), BoxError>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Full<Bytes>>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            this.calls.fetch_add(1, Ordering::SeqCst);
            this.started.notify_one();
            if let Some(gate) = &this.gate {
                gate.notified().await;
            }
            let answer = this.answer.lock().clone();
            if answer.fail {
                return Err("inner failure".into());
            }
            // Echo a request detail so the test sees the body reached the handler.
            let seen = req.into_body().collect().await?.to_bytes();
            let mut res = Response::new(Full::new(Bytes::from(answer.body)));
            *res.status_mut() = answer.status;
            let headers = res.headers_mut();
            headers.insert("content-type", "application/json".parse().unwrap());
            headers.append("set-cookie", "a=1".parse().unwrap());
            headers.append("set-cookie", "b=2".parse().unwrap());
            headers.insert("x-seen-body-len", seen.len().into());
            headers.insert("x-request-id", "req-original".parse().unwrap());
            if answer.seal {
                res.extensions_mut().insert(SealResponse);
            }
            Ok(res)
        })
    }
}

type Svc = Idempotency<Handler>;

fn setup(
    handler: &Handler,
    f: impl FnOnce(IdempotencyLayer) -> IdempotencyLayer,
) -> (Svc, Arc<MemoryIdempotencyStore>, ManualClock) {
    let clock = ManualClock::new();
    let store = Arc::new(MemoryIdempotencyStore::with_clock(clock.shared()));
    let layer = f(IdempotencyLayer::new(store.clone()));
    (
        tower_layer::Layer::layer(&layer, handler.clone()),
        store,
        clock,
    )
}

fn post(key: Option<&str>, body: &'static str) -> Request<Full<Bytes>> {
    let mut builder = Request::post("/v1/orders").header("content-type", "application/json");
    if let Some(key) = key {
        builder = builder.header("idempotency-key", key);
    }
    builder.body(Full::new(Bytes::from(body))).unwrap()
}

struct Got {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

async fn send(svc: &Svc, req: Request<Full<Bytes>>) -> Result<Got, BoxError> {
    let response = svc.clone().oneshot(req).await?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(Got {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}

async fn ok(svc: &Svc, req: Request<Full<Bytes>>) -> Got {
    send(svc, req).await.expect("service call")
}

fn problem_kind(got: &Got) -> String {
    assert_eq!(got.headers["content-type"], "application/problem+json");
    let json: serde_json::Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(json["status"], got.status.as_u16());
    json["type"].as_str().unwrap().to_owned()
}

fn principal(tenant: &str, subject: &str) -> Principal {
    Principal::new(subject, TenantId::new(tenant).unwrap(), PrincipalKind::User)
}

#[tokio::test]
async fn replay_is_byte_identical_and_the_handler_runs_once() {
    let handler = Handler::new(Answer::ok(StatusCode::CREATED, r#"{"id":42}"#));
    let (svc, _, _) = setup(&handler, |l| l);

    let first = ok(&svc, post(Some("k1"), r#"{"n":1}"#)).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert!(first.headers.get(&IDEMPOTENT_REPLAYED).is_none());
    assert_eq!(
        first.headers["x-seen-body-len"], "7",
        "the buffered body reached the handler"
    );

    let again = ok(&svc, post(Some("k1"), r#"{"n":1}"#)).await;
    assert_eq!(handler.calls(), 1, "the handler ran once");
    assert_eq!(again.status, first.status);
    assert_eq!(again.body, first.body);
    assert_eq!(again.headers[&IDEMPOTENT_REPLAYED], "true");
    let mut replayed = again.headers.clone();
    replayed.remove(&IDEMPOTENT_REPLAYED);
    assert_eq!(
        replayed, first.headers,
        "every header replayed, repeated ones included"
    );
    let cookies: Vec<_> = again.headers.get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
}

#[tokio::test]
async fn the_current_request_id_replaces_the_stored_one() {
    let handler = Handler::new(Answer::ok(StatusCode::OK, "{}"));
    let (svc, _, _) = setup(&handler, |l| l);
    ok(&svc, post(Some("k"), "{}")).await;

    let mut req = post(Some("k"), "{}");
    req.headers_mut()
        .insert("x-request-id", "req-now".parse().unwrap());
    assert_eq!(ok(&svc, req).await.headers["x-request-id"], "req-now");

    let mut req = post(Some("k"), "{}");
    req.extensions_mut()
        .insert(RequestId::from_header("req-ext").unwrap());
    assert_eq!(ok(&svc, req).await.headers["x-request-id"], "req-ext");
    assert_eq!(handler.calls(), 1);
}

#[tokio::test]
async fn requests_without_a_key_or_out_of_scope_pass_through() {
    let handler = Handler::new(Answer::ok(StatusCode::CREATED, "{}"));
    let (svc, store, _) = setup(&handler, |l| l);

    ok(&svc, post(None, "{}")).await;
    ok(&svc, post(None, "{}")).await;
    assert_eq!(handler.calls(), 2, "no key, no deduplication");

    for _ in 0..2 {
        let mut req = post(Some("g"), "");
        *req.method_mut() = Method::PUT;
        assert!(
            ok(&svc, req)
                .await
                .headers
                .get(&IDEMPOTENT_REPLAYED)
                .is_none()
        );
    }
    assert_eq!(handler.calls(), 4, "PUT is not covered by default");

    for _ in 0..2 {
        let req = Request::post("/v1/auth/token")
            .header("idempotency-key", "t")
            .body(Full::new(Bytes::new()))
            .unwrap();
        assert!(
            ok(&svc, req)
                .await
                .headers
                .get(&IDEMPOTENT_REPLAYED)
                .is_none()
        );
    }
    assert_eq!(handler.calls(), 6, "/v1/auth/token is excluded");
    assert!(store.is_empty(), "nothing was claimed");
}

#[tokio::test]
async fn configured_methods_and_exclusions_apply() {
    let handler = Handler::new(Answer::ok(StatusCode::OK, "{}"));
    let (svc, _, _) = setup(&handler, |l| {
        l.methods([Method::POST, Method::PATCH])
            .excluded_paths(["/v1/orders"])
    });
    ok(&svc, post(Some("k"), "{}")).await;
    ok(&svc, post(Some("k"), "{}")).await;
    assert_eq!(handler.calls(), 2, "/v1/orders excluded");
    for _ in 0..2 {
        let req = Request::patch("/v1/other")
            .header("idempotency-key", "k")
            .body(Full::new(Bytes::new()))
            .unwrap();
        ok(&svc, req).await;
    }
    assert_eq!(handler.calls(), 3, "PATCH covered");
}

#[tokio::test]
async fn a_different_request_with_the_same_key_is_422() {
    let handler = Handler::new(Answer::ok(StatusCode::CREATED, "{}"));
    let (svc, _, _) = setup(&handler, |l| l);
    ok(&svc, post(Some("k"), r#"{"n":1}"#)).await;

    let other_body = ok(&svc, post(Some("k"), r#"{"n":2}"#)).await;
    assert_eq!(other_body.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem_kind(&other_body).ends_with("/invalid"));

    let mut other_type = post(Some("k"), r#"{"n":1}"#);
    other_type
        .headers_mut()
        .insert("content-type", "text/plain".parse().unwrap());
    assert_eq!(
        ok(&svc, other_type).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(handler.calls(), 1);
}

#[tokio::test]
async fn a_concurrent_duplicate_is_409_and_the_handler_runs_once() {
    let (handler, gate) = Handler::gated(Answer::ok(StatusCode::CREATED, r#"{"id":1}"#));
    let (svc, _, _) = setup(&handler, |l| l);

    let first = tokio::spawn({
        let svc = svc.clone();
        async move { ok(&svc, post(Some("k"), "{}")).await }
    });
    handler.started.notified().await;

    let second = ok(&svc, post(Some("k"), "{}")).await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert!(problem_kind(&second).ends_with("/conflict"));

    gate.notify_one();
    let first = first.await.unwrap();
    assert_eq!(first.status, StatusCode::CREATED);

    let third = ok(&svc, post(Some("k"), "{}")).await;
    assert_eq!(third.headers[&IDEMPOTENT_REPLAYED], "true");
    assert_eq!(third.body, first.body);
    assert_eq!(handler.calls(), 1, "the handler ran exactly once");
}

#[tokio::test]
async fn server_errors_and_429_release_the_key() {
    for status in [
        StatusCode::INTERNAL_SERVER_ERROR,
        StatusCode::SERVICE_UNAVAILABLE,
        StatusCode::TOO_MANY_REQUESTS,
    ] {
        let handler = Handler::new(Answer::ok(status, "{}"));
        let (svc, store, _) = setup(&handler, |l| l);
        assert_eq!(ok(&svc, post(Some("k"), "{}")).await.status, status);
        assert!(store.is_empty(), "{status}: key released");

        handler.answer(Answer::ok(StatusCode::CREATED, "{}"));
        let retry = ok(&svc, post(Some("k"), "{}")).await;
        assert_eq!(retry.status, StatusCode::CREATED, "{status}: retry runs");
        assert!(retry.headers.get(&IDEMPOTENT_REPLAYED).is_none());
        assert_eq!(handler.calls(), 2, "{status}: the handler ran again");
    }
}

#[tokio::test]
async fn client_errors_are_stored() {
    let handler = Handler::new(Answer::ok(StatusCode::NOT_FOUND, "{}"));
    let (svc, _, _) = setup(&handler, |l| l);
    ok(&svc, post(Some("k"), "{}")).await;
    let again = ok(&svc, post(Some("k"), "{}")).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.headers[&IDEMPOTENT_REPLAYED], "true");
    assert_eq!(handler.calls(), 1);
}

#[tokio::test]
async fn an_inner_error_releases_the_key_and_propagates() {
    let mut answer = Answer::ok(StatusCode::OK, "{}");
    answer.fail = true;
    let handler = Handler::new(answer);
    let (svc, store, _) = setup(&handler, |l| l);
    assert!(send(&svc, post(Some("k"), "{}")).await.is_err());
    assert!(store.is_empty());
}

#[tokio::test]
async fn a_dropped_request_releases_its_key() {
    let (handler, gate) = Handler::gated(Answer::ok(StatusCode::OK, "{}"));
    let (svc, store, _) = setup(&handler, |l| l);
    let abandoned = tokio::spawn({
        let svc = svc.clone();
        async move { send(&svc, post(Some("k"), "{}")).await.is_ok() }
    });
    handler.started.notified().await;
    assert_eq!(store.len(), 1);
    abandoned.abort();
    assert!(abandoned.await.unwrap_err().is_cancelled());
    // The release runs on a spawned task; let it.
    for _ in 0..100 {
        if store.is_empty() {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(store.is_empty(), "the abandoned claim was released");
    gate.notify_one();
    let retry = ok(&svc, post(Some("k"), "{}")).await;
    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(handler.calls(), 2);
}

#[tokio::test]
async fn bad_keys_are_400() {
    let handler = Handler::new(Answer::ok(StatusCode::OK, "{}"));
    let (svc, store, _) = setup(&handler, |l| l);
    let long = "k".repeat(256);
    let got = ok(&svc, post(Some(&long), "{}")).await;
    assert_eq!(got.status, StatusCode::BAD_REQUEST);
    assert!(problem_kind(&got).ends_with("/malformed"));
    assert_eq!(
        ok(&svc, post(Some(""), "{}")).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(handler.calls(), 0);
    assert!(store.is_empty());

    let longest = "k".repeat(255);
    assert_eq!(
        ok(&svc, post(Some(&longest), "{}")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_oversized_request_body_is_413() {
    let handler = Handler::new(Answer::ok(StatusCode::OK, "{}"));
    let (svc, store, _) = setup(&handler, |l| l.max_request_body(4));
    let got = ok(&svc, post(Some("k"), "12345")).await;
    assert_eq!(got.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(problem_kind(&got).ends_with("/payload-too-large"));
    assert_eq!(handler.calls(), 0);
    assert!(store.is_empty());
    assert_eq!(
        ok(&svc, post(Some("k"), "1234")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_oversized_response_is_sent_but_not_stored() {
    let handler = Handler::new(Answer::ok(StatusCode::OK, "0123456789"));
    let (svc, store, _) = setup(&handler, |l| l.max_stored_body(5));
    let got = ok(&svc, post(Some("k"), "{}")).await;
    assert_eq!(got.body, "0123456789");
    assert!(store.is_empty(), "released");
    ok(&svc, post(Some("k"), "{}")).await;
    assert_eq!(handler.calls(), 2);
}

#[tokio::test]
async fn keys_are_scoped_by_tenant_and_principal() {
    let handler = Handler::new(Answer::ok(StatusCode::CREATED, "{}"));
    let (svc, _, _) = setup(&handler, |l| l);
    let as_ = |tenant: &str, subject: &str| {
        let mut req = post(Some("same-key"), "{}");
        req.extensions_mut().insert(principal(tenant, subject));
        req
    };
    ok(&svc, as_("acme", "u1")).await;
    ok(&svc, as_("globex", "u1")).await;
    assert_eq!(handler.calls(), 2, "two tenants, two runs");
    ok(&svc, as_("acme", "u2")).await;
    assert_eq!(handler.calls(), 3, "two principals of one tenant, two runs");
    let again = ok(&svc, as_("acme", "u1")).await;
    assert_eq!(again.headers[&IDEMPOTENT_REPLAYED], "true");
    ok(&svc, post(Some("same-key"), "{}")).await;
    assert_eq!(handler.calls(), 4, "anonymous is its own scope");
}

/// A store that remembers what was completed, to inspect the stored bytes.
#[derive(Debug, Default)]
struct Recording {
    inner: MemoryIdempotencyStore,
    completed: Mutex<Vec<Bytes>>,
}

#[async_trait::async_trait]
impl IdempotencyStore for Recording {
    async fn claim(
        &self,
        scope: &IdempotencyScope,
        key: &str,
        fp: &Fingerprint,
        lease: Duration,
    ) -> Result<Claim, Error> {
        self.inner.claim(scope, key, fp, lease).await
    }
    async fn complete(
        &self,
        scope: &IdempotencyScope,
        key: &str,
        token: &ClaimToken,
        fp: &Fingerprint,
        response: Bytes,
        ttl: Duration,
    ) -> Result<bool, Error> {
        self.completed.lock().push(response.clone());
        self.inner
            .complete(scope, key, token, fp, response, ttl)
            .await
    }
    async fn release(
        &self,
        scope: &IdempotencyScope,
        key: &str,
        token: &ClaimToken,
    ) -> Result<(), Error> {
        self.inner.release(scope, key, token).await
    }
    async fn sweep(&self) -> Result<u64, Error> {
        self.inner.sweep().await
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_marked_response_is_stored_sealed_and_replays() {
    const SECRET: &str = r#"{"key":"sk_live_TOPSECRET"}"#;
    let mut answer = Answer::ok(StatusCode::CREATED, SECRET);
    answer.seal = true;
    let handler = Handler::new(answer);
    let store = Arc::new(Recording::default());
    let layer = IdempotencyLayer::new(store.clone()).master_key(Arc::new(MasterKey::generate()));
    let svc = tower_layer::Layer::layer(&layer, handler.clone());

    let first = ok(&svc, post(Some("k"), "{}")).await;
    assert_eq!(first.body, SECRET);
    let stored = store.completed.lock().clone();
    assert_eq!(stored.len(), 1);
    assert!(StoredResponse::is_sealed(&stored[0]));
    assert!(
        !contains(&stored[0], b"TOPSECRET"),
        "the secret is not in the stored bytes"
    );
    assert!(
        !contains(&stored[0], b"set-cookie"),
        "headers are sealed too"
    );

    let again = ok(&svc, post(Some("k"), "{}")).await;
    assert_eq!(again.body, SECRET);
    assert_eq!(again.headers[&IDEMPOTENT_REPLAYED], "true");
    assert_eq!(handler.calls(), 1);
}

#[tokio::test]
async fn seal_all_seals_unmarked_responses_and_unmarked_ones_stay_plain() {
    let handler = Handler::new(Answer::ok(StatusCode::OK, "plain-body"));
    let store = Arc::new(Recording::default());
    let key = Arc::new(MasterKey::generate());
    let plain = tower_layer::Layer::layer(
        &IdempotencyLayer::new(store.clone()).master_key(key.clone()),
        handler.clone(),
    );
    ok(&plain, post(Some("a"), "{}")).await;
    let sealed_all = tower_layer::Layer::layer(
        &IdempotencyLayer::new(store.clone())
            .master_key(key)
            .seal_all(true),
        handler.clone(),
    );
    ok(&sealed_all, post(Some("b"), "{}")).await;
    let stored = store.completed.lock().clone();
    assert!(contains(&stored[0], b"plain-body") && !StoredResponse::is_sealed(&stored[0]));
    assert!(!contains(&stored[1], b"plain-body") && StoredResponse::is_sealed(&stored[1]));
    assert_eq!(
        ok(&sealed_all, post(Some("b"), "{}")).await.body,
        "plain-body"
    );
}

#[tokio::test]
async fn a_marked_response_without_a_master_key_is_not_stored() {
    let mut answer = Answer::ok(StatusCode::CREATED, "secret");
    answer.seal = true;
    let handler = Handler::new(answer);
    let (svc, store, _) = setup(&handler, |l| l);
    assert_eq!(ok(&svc, post(Some("k"), "{}")).await.body, "secret");
    assert!(store.is_empty(), "never stored in clear");
    ok(&svc, post(Some("k"), "{}")).await;
    assert_eq!(handler.calls(), 2);
}

#[tokio::test]
async fn an_expired_claim_can_be_retaken() {
    let (handler, gate) = Handler::gated(Answer::ok(StatusCode::OK, "{}"));
    let (svc, _, clock) = setup(&handler, |l| l.lease(Duration::from_secs(10)));
    let stuck = tokio::spawn({
        let svc = svc.clone();
        async move { ok(&svc, post(Some("k"), "{}")).await }
    });
    handler.started.notified().await;
    assert_eq!(
        ok(&svc, post(Some("k"), "{}")).await.status,
        StatusCode::CONFLICT
    );

    clock.advance(Duration::from_secs(11));
    let retaken = tokio::spawn({
        let svc = svc.clone();
        async move { ok(&svc, post(Some("k"), "{}")).await }
    });
    handler.started.notified().await;
    assert_eq!(
        handler.calls(),
        2,
        "the expired claim was retaken and the handler ran"
    );
    gate.notify_one();
    gate.notify_one();
    assert_eq!(stuck.await.unwrap().status, StatusCode::OK);
    assert_eq!(retaken.await.unwrap().status, StatusCode::OK);
}

#[tokio::test]
async fn completed_records_expire_with_their_ttl() {
    let handler = Handler::new(Answer::ok(StatusCode::OK, "{}"));
    let (svc, _, clock) = setup(&handler, |l| l.ttl(Duration::from_secs(60)));
    ok(&svc, post(Some("k"), "{}")).await;
    clock.advance(Duration::from_secs(59));
    ok(&svc, post(Some("k"), "{}")).await;
    assert_eq!(handler.calls(), 1);
    clock.advance(Duration::from_secs(2));
    ok(&svc, post(Some("k"), "{}")).await;
    assert_eq!(handler.calls(), 2, "expired record forgotten");
}

/// A store whose every call fails.
#[derive(Debug)]
struct Broken;

#[async_trait::async_trait]
impl IdempotencyStore for Broken {
    async fn claim(
        &self,
        _: &IdempotencyScope,
        _: &str,
        _: &Fingerprint,
        _: Duration,
    ) -> Result<Claim, Error> {
        Err(Error::new(crate::ErrorKind::Unavailable, "db down"))
    }
    async fn complete(
        &self,
        _: &IdempotencyScope,
        _: &str,
        _: &ClaimToken,
        _: &Fingerprint,
        _: Bytes,
        _: Duration,
    ) -> Result<bool, Error> {
        Err(Error::new(crate::ErrorKind::Unavailable, "db down"))
    }
    async fn release(&self, _: &IdempotencyScope, _: &str, _: &ClaimToken) -> Result<(), Error> {
        Err(Error::new(crate::ErrorKind::Unavailable, "db down"))
    }
    async fn sweep(&self) -> Result<u64, Error> {
        Err(Error::new(crate::ErrorKind::Unavailable, "db down"))
    }
}

#[tokio::test]
async fn a_failing_store_answers_503_without_running_the_handler() {
    let handler = Handler::new(Answer::ok(StatusCode::OK, "{}"));
    let svc = tower_layer::Layer::layer(&IdempotencyLayer::new(Arc::new(Broken)), handler.clone());
    let got = ok(&svc, post(Some("k"), "{}")).await;
    assert_eq!(got.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(got.headers["retry-after"], "1");
    assert!(!String::from_utf8_lossy(&got.body).contains("db down"));
    assert_eq!(handler.calls(), 0);
}

/// Counts sweeps.
#[derive(Debug, Default)]
struct CountingSweeps(AtomicUsize);

#[async_trait::async_trait]
impl IdempotencyStore for CountingSweeps {
    async fn claim(
        &self,
        _: &IdempotencyScope,
        _: &str,
        _: &Fingerprint,
        _: Duration,
    ) -> Result<Claim, Error> {
        Ok(Claim::Acquired(ClaimToken::generate()))
    }
    async fn complete(
        &self,
        _: &IdempotencyScope,
        _: &str,
        _: &ClaimToken,
        _: &Fingerprint,
        _: Bytes,
        _: Duration,
    ) -> Result<bool, Error> {
        Ok(true)
    }
    async fn release(&self, _: &IdempotencyScope, _: &str, _: &ClaimToken) -> Result<(), Error> {
        Ok(())
    }
    async fn sweep(&self) -> Result<u64, Error> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(0)
    }
}

#[tokio::test(start_paused = true)]
async fn the_sweeper_sweeps_every_interval() {
    let store = Arc::new(CountingSweeps::default());
    let sweeper = spawn_sweeper(store.clone(), Duration::from_secs(60));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(store.0.load(Ordering::SeqCst), 1, "sweeps at once");
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert_eq!(store.0.load(Ordering::SeqCst), 3, "then every interval");
    sweeper.abort();
}

#[tokio::test(start_paused = true)]
async fn the_sweeper_removes_expired_records() {
    let clock = ManualClock::new();
    let store = Arc::new(MemoryIdempotencyStore::with_clock(clock.shared()));
    let scope = IdempotencyScope::Anonymous { route: "/r".into() };
    store
        .claim(&scope, "k", &[0; 32], Duration::from_secs(5))
        .await
        .unwrap();
    clock.advance(Duration::from_secs(6));
    let sweeper = spawn_sweeper(store.clone(), Duration::from_secs(60));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(store.is_empty());
    sweeper.abort();
}

#[cfg(feature = "http")]
mod with_axum {
    use super::*;
    use axum::body::Body;
    use axum::routing::post;
    use axum::{Extension, Router};

    fn app(store: Arc<MemoryIdempotencyStore>, calls: Arc<AtomicUsize>) -> Router {
        Router::new()
            .route(
                "/v1/things/{id}",
                post(move |body: String| {
                    let calls = calls.clone();
                    async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        (
                            StatusCode::CREATED,
                            Extension(SealResponse),
                            format!("made {body}"),
                        )
                    }
                }),
            )
            .layer(IdempotencyLayer::new(store).master_key(Arc::new(MasterKey::generate())))
    }

    fn req(path: &str, key: &str) -> Request<Body> {
        Request::post(path)
            .header("idempotency-key", key)
            .body(Body::from("x"))
            .unwrap()
    }

    #[tokio::test]
    async fn inside_a_router_anonymous_keys_are_scoped_by_the_matched_route() {
        let store = Arc::new(MemoryIdempotencyStore::new());
        let calls = Arc::new(AtomicUsize::new(0));
        let app = app(store.clone(), calls.clone());

        let first = app.clone().oneshot(req("/v1/things/1", "k")).await.unwrap();
        assert_eq!(first.status(), StatusCode::CREATED);
        let again = app.clone().oneshot(req("/v1/things/1", "k")).await.unwrap();
        assert_eq!(again.headers()[&IDEMPOTENT_REPLAYED], "true");
        assert_eq!(
            again.into_body().collect().await.unwrap().to_bytes(),
            "made x"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        // Same route template, same key, another path: same scope, another fingerprint.
        let other = app.clone().oneshot(req("/v1/things/2", "k")).await.unwrap();
        assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let scope = IdempotencyScope::Anonymous {
            route: "/v1/things/{id}".into(),
        };
        let fp = fingerprint(&Method::POST, "/v1/things/1", None, b"x");
        assert!(matches!(
            store.claim(&scope, "k", &fp, Duration::from_secs(1)).await.unwrap(),
            Claim::Replay(record) if StoredResponse::is_sealed(&record)
        ));
    }
}
