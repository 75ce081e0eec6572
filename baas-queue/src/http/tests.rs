use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use baas_core::{ManualClock, Principal, PrincipalKind, RequestContext, RequestId, TenantId};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::*;
use crate::{MemoryQueue, Queue, QueueExt};

fn acme() -> TenantId {
    TenantId::new("acme").unwrap()
}

fn operator() -> Principal {
    Principal::new("ops-1", TenantId::new("ops").unwrap(), PrincipalKind::User)
        .with_roles(["admin"])
        .with_operator(true)
}

fn tenant_admin() -> Principal {
    Principal::new("u-1", acme(), PrincipalKind::User).with_roles(["admin"])
}

/// A queue with `emails`: one waiting, one leased, two dead (after `age` has passed),
/// and `hooks`: one waiting.
async fn seeded(clock: &ManualClock) -> Arc<DynQueue> {
    let queue = MemoryQueue::with_clock(clock.shared());
    for n in 0..4 {
        queue.enqueue_json("emails", &acme(), &n).await.unwrap();
    }
    for _ in 0..2 {
        let d = queue
            .reserve_one("emails", Duration::from_secs(600))
            .await
            .unwrap()
            .unwrap();
        queue.dead_letter(&d.lease, "smtp refused").await.unwrap();
    }
    let _leased = queue
        .reserve_one("emails", Duration::from_secs(600))
        .await
        .unwrap()
        .unwrap();
    queue.enqueue_json("hooks", &acme(), &"x").await.unwrap();
    Arc::new(queue)
}

async fn call(
    queue: Arc<DynQueue>,
    method: &str,
    uri: &str,
    who: Option<Principal>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let app: Router = admin_routes(queue);
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap();
    if let Some(p) = who {
        request.extensions_mut().insert(p);
    }
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let json = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap()
    };
    (status, headers, json)
}

fn assert_problem(headers: &axum::http::HeaderMap, body: &Value, status: StatusCode) {
    assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
    assert_eq!(body["status"], status.as_u16(), "{body}");
    assert!(body["type"].is_string() && body["title"].is_string() && body["detail"].is_string());
}

#[tokio::test]
async fn lists_every_queue_with_its_figures() {
    let clock = ManualClock::new();
    let queue = seeded(&clock).await;
    clock.advance(Duration::from_millis(1500));
    let (status, _, body) = call(queue, "GET", "/v1/admin/queues", Some(operator())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"queues": [
            {"name": "emails", "depth": 1, "in_flight": 1, "dead": 2, "oldest_age_seconds": 1.5},
            {"name": "hooks", "depth": 1, "in_flight": 0, "dead": 0, "oldest_age_seconds": 1.5},
        ]})
    );
}

#[tokio::test]
async fn an_empty_installation_lists_no_queue() {
    let queue: Arc<DynQueue> = Arc::new(MemoryQueue::new());
    let (status, _, body) = call(queue, "GET", "/v1/admin/queues", Some(operator())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"queues": []}));
}

#[test]
fn unknown_figures_are_null() {
    let summary = QueueSummary::new(
        "rabbit",
        &crate::QueueStats {
            depth: Some(3),
            in_flight: None,
            dead: Some(0),
            oldest_age: None,
        },
    );
    assert_eq!(
        serde_json::to_value(summary).unwrap(),
        json!({"name": "rabbit", "depth": 3, "in_flight": null, "dead": 0, "oldest_age_seconds": null})
    );
}

#[tokio::test]
async fn redrive_moves_dead_letters_back() {
    let clock = ManualClock::new();
    let queue = seeded(&clock).await;
    let (status, _, body) = call(
        queue.clone(),
        "POST",
        "/v1/admin/queues/emails/redrive",
        Some(operator()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"moved": 2}));
    let stats = queue.stats("emails").await.unwrap();
    assert_eq!((stats.depth, stats.dead), (Some(3), Some(0)));
    // The redriven messages are delivered again, attempts reset.
    let again = queue
        .reserve("emails", crate::Reserve::new(10, Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!(again.len(), 3);
    assert!(again.iter().all(|d| d.attempt == 1));

    // Nothing left to move; an unknown queue moves nothing either.
    for uri in [
        "/v1/admin/queues/emails/redrive",
        "/v1/admin/queues/nowhere/redrive",
    ] {
        let (status, _, body) = call(queue.clone(), "POST", uri, Some(operator())).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_eq!(body, json!({"moved": 0}), "{uri}");
    }
}

#[tokio::test]
async fn a_principal_inside_the_request_context_counts() {
    let clock = ManualClock::new();
    let queue = seeded(&clock).await;
    let app: Router = admin_routes(queue);
    let mut request = Request::get("/v1/admin/queues")
        .body(Body::empty())
        .unwrap();
    let mut cx = RequestContext::new(RequestId::generate());
    cx.principal = Some(operator());
    request.extensions_mut().insert(cx);
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn without_a_principal_is_401() {
    let clock = ManualClock::new();
    let queue = seeded(&clock).await;
    for (method, uri) in [
        ("GET", "/v1/admin/queues"),
        ("POST", "/v1/admin/queues/emails/redrive"),
        ("POST", "/v1/admin/queues/bad%20name/redrive"),
    ] {
        let (status, headers, body) = call(queue.clone(), method, uri, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
        assert_problem(&headers, &body, status);
    }
    assert_eq!(queue.stats("emails").await.unwrap().dead, Some(2));
}

#[tokio::test]
async fn a_tenant_admin_is_forbidden() {
    let clock = ManualClock::new();
    let queue = seeded(&clock).await;
    for (method, uri) in [
        ("GET", "/v1/admin/queues"),
        ("POST", "/v1/admin/queues/emails/redrive"),
        ("POST", "/v1/admin/queues/bad%20name/redrive"),
    ] {
        let (status, headers, body) = call(queue.clone(), method, uri, Some(tenant_admin())).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}");
        assert_problem(&headers, &body, status);
        assert!(!body.to_string().contains("emails"), "{body}");
    }
    assert_eq!(queue.stats("emails").await.unwrap().dead, Some(2));
}

#[tokio::test]
async fn a_bad_queue_name_is_400() {
    let clock = ManualClock::new();
    let queue = seeded(&clock).await;
    let long = "q".repeat(256);
    for name in ["bad%20name", "bad!name", "caf%C3%A9", long.as_str()] {
        let uri = format!("/v1/admin/queues/{name}/redrive");
        let (status, headers, body) = call(queue.clone(), "POST", &uri, Some(operator())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {body}");
        assert_problem(&headers, &body, status);
        assert_eq!(body["errors"][0]["field"], "queue", "{body}");
    }
    assert_eq!(queue.stats("emails").await.unwrap().dead, Some(2));
}

#[test]
fn the_description_names_both_operations_and_their_problems() {
    let spec = openapi();
    let json = serde_json::to_value(&spec).unwrap();
    let list = &json["paths"]["/v1/admin/queues"]["get"];
    let redrive = &json["paths"]["/v1/admin/queues/{queue}/redrive"]["post"];
    assert_eq!(list["operationId"], "list_queues");
    assert_eq!(redrive["operationId"], "redrive_queue");
    for op in [list, redrive] {
        for status in ["200", "401", "403"] {
            assert!(op["responses"][status].is_object(), "{status}: {op}");
        }
        assert!(
            op["responses"]["403"]["content"]["application/problem+json"].is_object(),
            "{op}"
        );
        assert_eq!(op["security"], json!([{"bearer": []}]));
    }
    assert!(redrive["responses"]["400"].is_object());
    let schemas = &json["components"]["schemas"];
    for name in ["QueueList", "QueueSummary", "Redriven", "Problem"] {
        assert!(schemas[name].is_object(), "{name}");
    }
    assert!(json["components"]["securitySchemes"]["bearer"].is_object());
}
