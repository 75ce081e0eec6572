use std::convert::Infallible;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use metrics_util::CompositeKey;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use tower::{Layer, Service, ServiceExt, service_fn};

use super::*;
use crate::{Error, ErrorKind};

type Snap = Vec<(
    CompositeKey,
    Option<metrics::Unit>,
    Option<metrics::SharedString>,
    DebugValue,
)>;

/// Everything recorded since the last snapshot (a snapshot drains the recorder).
fn snap(snapshotter: &Snapshotter) -> Snap {
    snapshotter.snapshot().into_vec()
}

/// The value of the metric `name` whose labels are exactly `labels`.
fn value<'a>(snap: &'a Snap, name: &str, labels: &[(&str, &str)]) -> Option<&'a DebugValue> {
    snap.iter()
        .find(|(key, _, _, _)| {
            let key = key.key();
            let mut have: Vec<(&str, &str)> = key.labels().map(|l| (l.key(), l.value())).collect();
            let mut want = labels.to_vec();
            have.sort_unstable();
            want.sort_unstable();
            key.name() == name && have == want
        })
        .map(|(_, _, _, v)| v)
}

fn counter(snapshotter: &Snap, name: &str, labels: &[(&str, &str)]) -> u64 {
    match value(snapshotter, name, labels) {
        Some(DebugValue::Counter(n)) => *n,
        None => 0,
        Some(other) => panic!("{name} is not a counter: {other:?}"),
    }
}

fn histogram_len(snapshotter: &Snap, name: &str, labels: &[(&str, &str)]) -> usize {
    match value(snapshotter, name, labels) {
        Some(DebugValue::Histogram(values)) => values.len(),
        None => 0,
        Some(other) => panic!("{name} is not a histogram: {other:?}"),
    }
}

fn all_label_values(snapshotter: &Snap, label: &str) -> Vec<String> {
    snapshotter
        .iter()
        .flat_map(|(key, _, _, _)| {
            key.key()
                .labels()
                .filter(|l| l.key() == label)
                .map(|l| l.value().to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn app() -> Router {
    Router::new()
        .route("/users/{id}", get(|| async { "ok" }))
        .route(
            "/fail",
            get(|| async { Err::<(), _>(Error::new(ErrorKind::Unavailable, "down")) }),
        )
        .layer(MetricsLayer::http())
}

async fn send(app: &Router, method: &str, uri: &str) -> http::StatusCode {
    let req = http::Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap();
    app.clone().oneshot(req).await.unwrap().status()
}

#[tokio::test]
async fn http_route_label_is_the_template_not_the_raw_path() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let app = app();

    assert_eq!(send(&app, "GET", "/users/42").await, 200);
    assert_eq!(send(&app, "GET", "/users/43").await, 200);
    assert_eq!(send(&app, "GET", "/fail").await, 503);

    let snapshotter = snap(&snapshotter);
    let ok = [
        ("route", "/users/{id}"),
        ("method", "GET"),
        ("status", "200"),
    ];
    assert_eq!(counter(&snapshotter, HTTP_REQUESTS_TOTAL, &ok), 2);
    let failed = [("route", "/fail"), ("method", "GET"), ("status", "503")];
    assert_eq!(counter(&snapshotter, HTTP_REQUESTS_TOTAL, &failed), 1);
    let routes = all_label_values(&snapshotter, "route");
    assert!(
        !routes.iter().any(|r| r.contains("42") || r.contains("43")),
        "{routes:?}"
    );
}

#[tokio::test]
async fn http_histogram_records_one_sample_per_request() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let app = app();
    for id in 0..3 {
        send(&app, "GET", &format!("/users/{id}")).await;
    }
    let snapshotter = snap(&snapshotter);
    let labels = [
        ("route", "/users/{id}"),
        ("method", "GET"),
        ("status", "200"),
    ];
    assert_eq!(
        histogram_len(&snapshotter, HTTP_REQUEST_DURATION_SECONDS, &labels),
        3
    );
}

#[tokio::test]
async fn unmatched_requests_get_the_fallback_route_and_odd_methods_are_bounded() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let app = app();

    assert_eq!(send(&app, "GET", "/no/such/thing/123").await, 404);
    assert_eq!(send(&app, "BREW", "/users/1").await, 405);

    let snapshotter = snap(&snapshotter);
    let unmatched = [("route", "unmatched"), ("method", "GET"), ("status", "404")];
    assert_eq!(counter(&snapshotter, HTTP_REQUESTS_TOTAL, &unmatched), 1);
    let routes = all_label_values(&snapshotter, "route");
    assert!(!routes.iter().any(|r| r.contains("123")), "{routes:?}");
    let methods = all_label_values(&snapshotter, "method");
    assert!(!methods.iter().any(|m| m == "BREW"), "{methods:?}");
}

#[tokio::test]
async fn a_layer_outside_the_router_uses_the_configured_fallback() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let inner = service_fn(|_req: http::Request<Body>| async {
        Ok::<_, Infallible>(http::Response::new(Body::empty()))
    });
    let layer = MetricsLayer::new(HttpMetrics::new().with_unmatched("outside"));
    let req = http::Request::post("/raw/path/77")
        .body(Body::empty())
        .unwrap();
    layer.layer(inner).oneshot(req).await.unwrap();
    let snapshotter = snap(&snapshotter);
    let labels = [("route", "outside"), ("method", "POST"), ("status", "200")];
    assert_eq!(counter(&snapshotter, HTTP_REQUESTS_TOTAL, &labels), 1);
}

#[tokio::test]
async fn jobs_and_deliveries_record_outcome_by_error_kind() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _guard = metrics::set_default_local_recorder(&recorder);

    let handler = service_fn(|n: u32| async move {
        match n {
            0 => Ok(()),
            1 => Err(Error::new(ErrorKind::Conflict, "taken")),
            _ => Err(Error::new(ErrorKind::Timeout, "slow")),
        }
    });
    let mut jobs = MetricsLayer::jobs("emails").layer(handler);
    for n in [0, 0, 1, 2] {
        let _ = jobs.ready().await.unwrap().call(n).await;
    }
    let jobs_snap = snap(&snapshotter);
    assert_eq!(
        counter(
            &jobs_snap,
            JOB_RUNS_TOTAL,
            &[("job", "emails"), ("outcome", "ok")]
        ),
        2
    );
    assert_eq!(
        counter(
            &jobs_snap,
            JOB_RUNS_TOTAL,
            &[("job", "emails"), ("outcome", "conflict")]
        ),
        1
    );

    // Boxed errors are classified too.
    let delivery = service_fn(|_: ()| async {
        Err::<(), crate::BoxError>(Error::new(ErrorKind::Unavailable, "smtp down").into())
    });
    let _ = MetricsLayer::deliveries("smtp")
        .layer(delivery)
        .oneshot(())
        .await;
    let snapshotter = snap(&snapshotter);
    let labels = [("channel", "smtp"), ("outcome", "unavailable")];
    assert_eq!(counter(&snapshotter, DELIVERY_ATTEMPTS_TOTAL, &labels), 1);
    assert_eq!(
        histogram_len(&snapshotter, DELIVERY_DURATION_SECONDS, &labels),
        1
    );
}

#[test]
fn the_exporter_renders_recorded_metrics_with_buckets() {
    let recorder = prometheus_builder().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        let labels = vec![metrics::Label::new("job", "emails")];
        metrics::histogram!(JOB_DURATION_SECONDS, labels).record(0.02);
    });
    let text = handle.render();
    assert!(
        text.contains(r#"baas_job_duration_seconds_bucket{job="emails",le="0.025"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"baas_job_duration_seconds_bucket{job="emails",le="0.01"} 0"#),
        "{text}"
    );
}
