//! API.md's "Events, webhooks and notifications" section over HTTP against the real
//! binary, with a local receiver that checks each Standard Webhooks signature itself.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::Server;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// One delivery the receiver accepted as correctly signed.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    body: Value,
}

#[derive(Clone, Default)]
struct Receiver {
    secret: Arc<Mutex<Vec<u8>>>,
    /// Statuses to answer, in order; 200 once exhausted.
    script: Arc<Mutex<Vec<u16>>>,
    received: Arc<Mutex<Vec<Received>>>,
    bad_signatures: Arc<Mutex<usize>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (id, timestamp, signatures) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(&r.secret.lock().unwrap()).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    if !signatures.split(' ').any(|s| s == expected) {
        *r.bad_signatures.lock().unwrap() += 1;
        return StatusCode::BAD_REQUEST;
    }
    let status = {
        let mut script = r.script.lock().unwrap();
        if script.is_empty() {
            200
        } else {
            script.remove(0)
        }
    };
    r.received.lock().unwrap().push(Received {
        id,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    StatusCode::from_u16(status).unwrap()
}

async fn start_receiver(receiver: Receiver) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(receiver);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/hook")
}

/// Poll `check` every 100 ms for up to 20 s.
async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..200 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn events_reach_matching_endpoints_signed_and_retried() {
    let receiver = Receiver::default();
    receiver.script.lock().unwrap().push(500);
    let url = start_receiver(receiver.clone()).await;
    let server = Server::start(&[
        ("BAAS_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("BAAS_WEBHOOK_RETRY_SCHEDULE", "0s,1s,1s"),
    ])
    .await;
    let admin = server.user("acme", "admin@example.com").await;
    let member = server.user("acme", "member@example.com").await;

    let body = json!({"url": url, "event_types": ["user.created"]});
    server
        .post_json(
            "/v1/webhooks/endpoints",
            Some(&member.access_token),
            body.clone(),
        )
        .await
        .assert_problem(403);
    let created = server
        .post_json("/v1/webhooks/endpoints", Some(&admin.access_token), body)
        .await;
    assert_eq!(created.status, 201, "{}", created.json);
    let secret = created.json["secret"].as_str().unwrap();
    let raw = secret.strip_prefix("whsec_").expect("whsec_ prefix");
    let key = STANDARD.decode(raw).expect("base64 secret");
    assert!((24..=64).contains(&key.len()));
    *receiver.secret.lock().unwrap() = key;

    // Another type reaches nobody; the matching one is delivered, first answered 500.
    let other = server
        .post_json(
            "/v1/events",
            Some(&member.access_token),
            json!({"event_type": "order.paid", "payload": {}}),
        )
        .await;
    assert_eq!(other.status, 202);
    let event = server
        .post_json(
            "/v1/events",
            Some(&member.access_token),
            json!({"event_type": "user.created", "payload": {"id": 7, "name": "Ada"}}),
        )
        .await;
    assert_eq!(event.status, 202, "{}", event.json);
    let event_id = event.json["id"].as_str().unwrap().to_owned();

    let got = eventually("the retried delivery", async || {
        let got = receiver.received.lock().unwrap().clone();
        (got.len() >= 2).then_some(got)
    })
    .await;
    assert_eq!(*receiver.bad_signatures.lock().unwrap(), 0);
    assert!(got.iter().all(|r| r.id == event_id), "a stable webhook-id");
    assert_eq!(got[0].body["type"], "user.created");
    assert_eq!(got[0].body["data"], json!({"id": 7, "name": "Ada"}));
    assert!(got[0].body["timestamp"].is_string());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        receiver.received.lock().unwrap().len(),
        2,
        "one failure, one success, nothing more"
    );

    // Bad input changes nothing.
    for bad in [
        json!({"event_type": "", "payload": {}}),
        json!({"event_type": "a b", "payload": {}}),
        json!({"payload": {}}),
    ] {
        server
            .post_json("/v1/events", Some(&member.access_token), bad)
            .await
            .assert_problem(422);
    }
    server
        .post_json(
            "/v1/events",
            None,
            json!({"event_type": "x", "payload": {}}),
        )
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn private_webhook_targets_are_refused_by_default() {
    let server = Server::start(&[]).await;
    let admin = server.user("acme", "admin@example.com").await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost/hook",
        "ftp://example.com/hook",
        "not a url",
    ] {
        let answer = server
            .post_json(
                "/v1/webhooks/endpoints",
                Some(&admin.access_token),
                json!({"url": url, "event_types": ["*"]}),
            )
            .await;
        answer.assert_problem(422);
    }
    let list = server
        .get("/v1/webhooks/endpoints", Some(&admin.access_token))
        .await;
    assert_eq!(list.json["items"], json!([]), "nothing was registered");
}

#[tokio::test]
async fn notifications_are_queued_sent_and_tracked() {
    let server = Server::start(&[]).await;
    let alice = server.user("acme", "alice@example.com").await;
    let bob = server.user("globex", "bob@example.com").await;
    let sent = server
        .post_json(
            "/v1/notifications",
            Some(&alice.access_token),
            json!({"channel": "email", "to": "ada@example.com", "template": "welcome", "data": {"name": "Ada"}}),
        )
        .await;
    assert_eq!(sent.status, 202, "{}", sent.json);
    let path = format!("/v1/notifications/{}", sent.json["id"].as_str().unwrap());
    let status = eventually("the notification to be sent", async || {
        let answer = server.get(&path, Some(&alice.access_token)).await;
        (answer.json["status"] == "sent").then_some(answer.json)
    })
    .await;
    assert_eq!(status["attempts"], 1);
    assert_eq!(status["id"], sent.json["id"]);
    server
        .get(&path, Some(&bob.access_token))
        .await
        .assert_problem(404);
    server.get(&path, None).await.assert_problem(401);
    server
        .get("/v1/notifications/not-an-id", Some(&alice.access_token))
        .await
        .assert_problem(404);

    for bad in [
        json!({"channel": "email", "to": "ada@example.com", "template": "nope", "data": {}}),
        json!({"channel": "email", "to": "ada@example.com", "template": "welcome", "data": {}}),
        json!({"channel": "email", "to": "not-an-address", "template": "welcome", "data": {"name": "A"}}),
        json!({"channel": "email", "to": "a@b.example\r\nBcc: x@y.example", "template": "welcome", "data": {"name": "A"}}),
    ] {
        server
            .post_json("/v1/notifications", Some(&alice.access_token), bad)
            .await
            .assert_problem(422);
    }
}
