use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use tower::{Layer, ServiceExt, service_fn};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};

use super::*;
use crate::{Error, ErrorKind, Principal, PrincipalKind, RequestContext, RequestId, TenantId};

/// The spans seen, by name, with their fields as strings.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<SpanSeen>>>);

/// A span's name and fields.
type SpanSeen = (String, BTreeMap<String, String>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S> tracing_subscriber::Layer<S> for Capture
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let span = ctx.span(id).unwrap();
        let mut spans = self.0.lock().unwrap();
        span.extensions_mut().insert(spans.len());
        spans.push((attrs.metadata().name().to_owned(), fields));
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let span = ctx.span(id).unwrap();
        let index = *span.extensions().get::<usize>().unwrap();
        values.record(&mut Fields(&mut self.0.lock().unwrap()[index].1));
    }
}

impl Capture {
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::registry().with(self.clone());
        tracing::subscriber::set_default(subscriber)
    }
    fn spans(&self, name: &str) -> Vec<BTreeMap<String, String>> {
        let spans = self.0.lock().unwrap();
        spans
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, f)| f.clone())
            .collect()
    }
}

const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn app() -> Router {
    Router::new()
        .route(
            "/items/{id}",
            get(
                |cx: axum::Extension<RequestContext>, tp: axum::Extension<TraceParent>| async move {
                    format!("{} {}", cx.request_id, tp.0)
                },
            ),
        )
        .route(
            "/boom",
            get(|| async { Err::<(), _>(Error::new(ErrorKind::Internal, "boom")) }),
        )
        .layer(TraceLayer::new())
}

async fn get_with(uri: &str, headers: &[(&str, &str)]) -> http::Response<Body> {
    let mut req = http::Request::get(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    app()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

async fn body_text(res: http::Response<Body>) -> String {
    let bytes = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn a_valid_request_id_is_echoed_and_reaches_the_handler() {
    let res = get_with("/items/1", &[(X_REQUEST_ID, "client-id-1")]).await;
    assert_eq!(res.headers()[X_REQUEST_ID], "client-id-1");
    assert!(body_text(res).await.starts_with("client-id-1 "));
}

#[tokio::test]
async fn a_missing_or_invalid_request_id_is_replaced_by_a_generated_one() {
    let res = get_with("/items/1", &[]).await;
    let generated = res.headers()[X_REQUEST_ID].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");
    assert!(body_text(res).await.starts_with(&generated));

    let too_long = "x".repeat(crate::context::MAX_REQUEST_ID_LEN + 1);
    for bad in ["has space", too_long.as_str()] {
        let res = get_with("/items/1", &[(X_REQUEST_ID, bad)]).await;
        let id = res.headers()[X_REQUEST_ID].to_str().unwrap();
        assert_ne!(id, bad);
        assert!(uuid::Uuid::parse_str(id).is_ok());
    }
}

#[tokio::test]
async fn error_responses_and_unknown_routes_carry_the_request_id() {
    let res = get_with("/boom", &[(X_REQUEST_ID, "e-1")]).await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.headers()[X_REQUEST_ID], "e-1");
    let res = get_with("/nowhere", &[(X_REQUEST_ID, "e-2")]).await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()[X_REQUEST_ID], "e-2");
}

#[tokio::test]
async fn an_incoming_traceparent_is_continued_and_passed_on() {
    let res = get_with("/items/1", &[("traceparent", TP)]).await;
    let body = body_text(res).await;
    let next = TraceParent::parse(body.split(' ').nth(1).unwrap()).unwrap();
    assert_eq!(next.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_ne!(next.parent_id_hex(), "00f067aa0ba902b7");
    assert!(next.is_sampled());
}

#[tokio::test]
async fn an_invalid_traceparent_starts_a_new_trace() {
    let bad = "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"; // uppercase
    let res = get_with("/items/1", &[("traceparent", bad)]).await;
    let body = body_text(res).await;
    let next = TraceParent::parse(body.split(' ').nth(1).unwrap()).unwrap();
    assert_ne!(next.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
}

#[test]
fn traceparent_parsing_follows_the_w3c_rules() {
    let tp = TraceParent::parse(TP).unwrap();
    assert_eq!(tp.parent_id_hex(), "00f067aa0ba902b7");
    assert_eq!(tp.flags(), 1);
    assert_eq!(tp.to_string(), TP);
    let unsampled = TraceParent::parse(&TP.replace("-01", "-00")).unwrap();
    assert!(!unsampled.is_sampled());
    // A later version may append fields.
    let future = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future";
    assert!(TraceParent::parse(future).is_some());
    for bad in [
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", // v00 is exact
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
    ] {
        assert!(TraceParent::parse(bad).is_none(), "{bad:?} accepted");
    }
    let root = TraceParent::new_root();
    assert_eq!(TraceParent::parse(&root.to_string()), Some(root));
}

#[tokio::test]
async fn the_request_span_records_route_ids_principal_and_status() {
    let capture = Capture::default();
    let _guard = capture.install();
    let tenant = TenantId::new("acme").unwrap();
    let principal = Principal::new("user-7", tenant, PrincipalKind::User);
    let app = Router::new()
        .route(
            "/items/{id}",
            get(|| async {
                // What an authentication layer does once it knows the caller.
                let p = Principal::new(
                    "user-9",
                    TenantId::new("beta").unwrap(),
                    PrincipalKind::User,
                );
                record_principal(&tracing::Span::current(), &p);
                "ok"
            }),
        )
        .layer(TraceLayer::new());
    let req = http::Request::get("/items/55")
        .header(X_REQUEST_ID, "span-1")
        .header("traceparent", TP)
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), 200);

    // A context already carrying a principal is recorded at the start.
    let mut req = http::Request::get("/nowhere").body(Body::empty()).unwrap();
    let mut cx = RequestContext::new(RequestId::generate());
    cx.principal = Some(principal);
    req.extensions_mut().insert(cx);
    assert_eq!(app.oneshot(req).await.unwrap().status(), 404);

    let spans = capture.spans("request");
    assert_eq!(spans.len(), 2, "{spans:?}");
    let first = &spans[0];
    assert_eq!(first["method"], "GET");
    assert_eq!(first["route"], "/items/{id}");
    assert_eq!(first["request_id"], "span-1");
    assert_eq!(first["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(first["tenant"], "beta");
    assert_eq!(first["principal"], "user-9");
    assert_eq!(first["status"], "200");
    let second = &spans[1];
    assert_eq!(second["route"], "unmatched");
    assert_eq!(second["tenant"], "acme");
    assert_eq!(second["principal"], "user-7");
    assert_eq!(second["status"], "404");
}

#[tokio::test]
async fn a_job_span_is_opened_per_job_with_its_outcome() {
    let capture = Capture::default();
    let _guard = capture.install();
    let tp = TraceParent::parse(TP).unwrap();
    let layer = WorkTraceLayer::jobs("emails").with_info(move |n: &u32| WorkInfo {
        request_id: RequestId::from_header(&format!("job-{n}")),
        traceparent: Some(tp),
        tenant: Some(TenantId::new("acme").unwrap()),
        principal: None,
    });
    let svc = layer.layer(service_fn(|n: u32| async move {
        if n == 0 {
            Ok(())
        } else {
            Err(Error::new(ErrorKind::Unavailable, "later"))
        }
    }));
    svc.clone().oneshot(0).await.unwrap();
    svc.oneshot(1).await.unwrap_err();

    let delivery =
        WorkTraceLayer::deliveries("smtp").layer(service_fn(|()| async { Ok::<_, Error>(()) }));
    delivery.oneshot(()).await.unwrap();

    let jobs = capture.spans("job");
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert_eq!(jobs[0]["job"], "emails");
    assert_eq!(jobs[0]["request_id"], "job-0");
    assert_eq!(jobs[0]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(jobs[0]["tenant"], "acme");
    assert_eq!(jobs[0]["outcome"], "ok");
    assert_eq!(jobs[1]["outcome"], "unavailable");
    let deliveries = capture.spans("delivery");
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0]["channel"], "smtp");
    assert_eq!(deliveries[0]["outcome"], "ok");
    assert!(!deliveries[0].contains_key("tenant"));
}

#[tokio::test]
async fn a_service_error_passes_through_untouched() {
    let svc = TraceLayer::new().layer(service_fn(|_: http::Request<Body>| async {
        Err::<http::Response<Body>, _>(Error::new(ErrorKind::Timeout, "slow"))
    }));
    let err = svc
        .oneshot(http::Request::new(Body::empty()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    let ok = TraceLayer::new().layer(service_fn(|_: http::Request<Body>| async {
        Ok::<_, Infallible>(http::Response::new(Body::empty()))
    }));
    let res = ok.oneshot(http::Request::new(Body::empty())).await.unwrap();
    assert!(res.headers().contains_key(X_REQUEST_ID));
}
