use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use baas_core::{MasterKey, Principal, PrincipalKind, TenantId};
use baas_queue::{MemoryQueue, Queue};
use http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::{NotifyState, routes};
use crate::store::{MemoryDeliveryLog, MemoryEndpointStore, MemoryPreferenceStore};
use crate::{Notifier, TargetPolicy, TemplateSource, Templates, WebhookEndpoints};

struct World {
    app: Router,
    queue: Arc<MemoryQueue>,
}

fn world(policy: TargetPolicy) -> World {
    let queue = Arc::new(MemoryQueue::new());
    let endpoints = WebhookEndpoints::new(
        Arc::new(MemoryEndpointStore::new()),
        MasterKey::generate(),
        policy,
    );
    let mut templates = Templates::new("en");
    templates
        .add(
            "welcome",
            "en",
            TemplateSource::new("Welcome {{ name }}", "Hello {{ name }}"),
        )
        .unwrap();
    let notifier = Notifier::new(
        Arc::new(MemoryDeliveryLog::new()),
        Arc::new(MemoryPreferenceStore::new()),
        Arc::new(templates),
        queue.clone(),
    )
    .with_endpoints(endpoints.clone());
    World {
        app: routes(NotifyState::new(notifier, endpoints)),
        queue,
    }
}

fn admin(tenant: &str) -> Principal {
    Principal::new(
        "u-admin",
        TenantId::new(tenant).unwrap(),
        PrincipalKind::User,
    )
    .with_roles(["admin"])
}

fn member(tenant: &str) -> Principal {
    Principal::new(
        "u-member",
        TenantId::new(tenant).unwrap(),
        PrincipalKind::User,
    )
    .with_roles(["member"])
}

async fn call(
    app: &Router,
    who: Option<Principal>,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let mut req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    if let Some(p) = who {
        req.extensions_mut().insert(p);
    }
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, value)
}

#[tokio::test]
async fn endpoints_are_for_admins_and_refuse_private_targets() {
    let w = world(TargetPolicy::new().allow_private(true));
    let body = json!({"url": "http://127.0.0.1:9/hook", "event_types": ["user.created"]});
    let (s, _) = call(
        &w.app,
        None,
        "POST",
        "/v1/webhooks/endpoints",
        Some(body.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = call(
        &w.app,
        Some(member("acme")),
        "POST",
        "/v1/webhooks/endpoints",
        Some(body.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, created) = call(
        &w.app,
        Some(admin("acme")),
        "POST",
        "/v1/webhooks/endpoints",
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    let id = created["id"].as_str().unwrap().to_owned();

    let (s, page) = call(
        &w.app,
        Some(admin("acme")),
        "GET",
        "/v1/webhooks/endpoints",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(page["items"][0]["id"], json!(id));
    assert!(page["items"][0].get("secret").is_none());
    let (_, other) = call(
        &w.app,
        Some(admin("globex")),
        "GET",
        "/v1/webhooks/endpoints",
        None,
    )
    .await;
    assert_eq!(other["items"], json!([]));
    let path = format!("/v1/webhooks/endpoints/{id}");
    let (s, _) = call(&w.app, Some(admin("globex")), "DELETE", &path, None).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "another tenant's endpoint is not found"
    );
    let (s, _) = call(&w.app, Some(admin("acme")), "DELETE", &path, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = call(&w.app, Some(admin("acme")), "DELETE", &path, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let strict = world(TargetPolicy::new());
    for url in [
        "http://127.0.0.1/x",
        "http://[::1]/x",
        "http://169.254.169.254/",
        "ftp://example.com/",
    ] {
        let body = json!({"url": url, "event_types": ["*"]});
        let (s, problem) = call(
            &strict.app,
            Some(admin("acme")),
            "POST",
            "/v1/webhooks/endpoints",
            Some(body),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {problem}");
        assert_eq!(problem["status"], json!(422));
    }
    let (s, _) = call(
        &strict.app,
        Some(admin("acme")),
        "GET",
        "/v1/webhooks/endpoints",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn events_fan_out_to_matching_endpoints_through_the_queue() {
    let w = world(TargetPolicy::new().allow_private(true));
    for types in [json!(["user.created"]), json!(["*"]), json!(["order.paid"])] {
        let body = json!({"url": "http://127.0.0.1:9/hook", "event_types": types});
        let (s, _) = call(
            &w.app,
            Some(admin("acme")),
            "POST",
            "/v1/webhooks/endpoints",
            Some(body),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let event = json!({"event_type": "user.created", "payload": {"id": 7}});
    let (s, accepted) = call(
        &w.app,
        Some(member("acme")),
        "POST",
        "/v1/events",
        Some(event),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert!(accepted["id"].as_str().unwrap().starts_with("evt_"));
    let stats = w.queue.stats(crate::notifier::DEFAULT_QUEUE).await.unwrap();
    assert_eq!(stats.depth, Some(2), "two endpoints match");

    let bad = json!({"event_type": "bad type!", "payload": {}});
    let (s, _) = call(
        &w.app,
        Some(member("acme")),
        "POST",
        "/v1/events",
        Some(bad),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = call(
        &w.app,
        None,
        "POST",
        "/v1/events",
        Some(json!({"event_type": "x", "payload": 1})),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let stats = w.queue.stats(crate::notifier::DEFAULT_QUEUE).await.unwrap();
    assert_eq!(stats.depth, Some(2), "refused events enqueue nothing");
}

#[tokio::test]
async fn notifications_are_validated_queued_and_tenant_scoped() {
    let w = world(TargetPolicy::new());
    let send = json!({"channel": "email", "to": "ada@example.com", "template": "welcome", "data": {"name": "Ada"}});
    let (s, accepted) = call(
        &w.app,
        Some(member("acme")),
        "POST",
        "/v1/notifications",
        Some(send),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{accepted}");
    let id = accepted["id"].as_str().unwrap();
    let path = format!("/v1/notifications/{id}");
    let (s, status) = call(&w.app, Some(member("acme")), "GET", &path, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(status, json!({"id": id, "status": "queued", "attempts": 0}));
    let (s, _) = call(&w.app, Some(member("globex")), "GET", &path, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        &w.app,
        Some(member("acme")),
        "GET",
        "/v1/notifications/not-a-uuid",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let refused = [
        json!({"channel": "email", "to": "ada@example.com", "template": "nope", "data": {}}),
        json!({"channel": "email", "to": "ada@example.com", "template": "welcome", "data": {}}),
        json!({"channel": "email", "to": "not an address", "template": "welcome", "data": {"name": "A"}}),
        json!({"channel": "email", "to": "a@b.c\r\nBcc: x@y.z", "template": "welcome", "data": {"name": "A"}}),
        json!({"channel": "webhook", "to": "x", "template": "welcome", "data": {"name": "A"}}),
        json!({"channel": "pigeon", "to": "x", "template": "welcome", "data": {"name": "A"}}),
    ];
    for body in refused {
        let (s, problem) = call(
            &w.app,
            Some(member("acme")),
            "POST",
            "/v1/notifications",
            Some(body.clone()),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {problem}");
    }
    let stats = w.queue.stats(crate::notifier::DEFAULT_QUEUE).await.unwrap();
    assert_eq!(
        stats.depth,
        Some(1),
        "only the accepted notification was queued"
    );
}
