//! API.md's conventions — idempotency keys, rate limits, request ids — over HTTP against
//! the real binary.

mod common;

use common::{Answer, Server};
use serde_json::json;

async fn post_with_key(server: &Server, token: &str, key: &str, body: serde_json::Value) -> Answer {
    let res = server
        .http
        .post(server.url("/v1/collections/notes/documents"))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .header("x-request-id", format!("rid-{key}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    Answer::read(res).await
}

#[tokio::test]
async fn idempotency_keys_replay_refuse_changes_and_bound_their_length() {
    let server = Server::start(&[]).await;
    let alice = server.user("acme", "alice@example.com").await;
    let t = alice.access_token.as_str();
    let first = post_with_key(&server, t, "k1", json!({"a": 1})).await;
    assert_eq!(first.status, 201);
    assert!(first.header("idempotent-replayed").is_none());
    let again = post_with_key(&server, t, "k1", json!({"a": 1})).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json, first.json, "the stored response is replayed");
    assert_eq!(again.header("x-request-id"), Some("rid-k1"));
    post_with_key(&server, t, "k1", json!({"a": 2}))
        .await
        .assert_problem(422);
    post_with_key(&server, t, &"k".repeat(256), json!({"a": 1}))
        .await
        .assert_problem(400);
    let list = server.get("/v1/collections/notes/documents", Some(t)).await;
    assert_eq!(
        list.json["items"].as_array().unwrap().len(),
        1,
        "one document for one key"
    );
}

#[tokio::test]
async fn rate_limits_answer_429_with_their_headers() {
    let server =
        Server::start(&[("BAAS_RATE_LIMIT_RPS", "1"), ("BAAS_RATE_LIMIT_BURST", "4")]).await;
    let alice = server.user("acme", "alice@example.com").await;
    let mut limited = None;
    for _ in 0..10 {
        let res = server.get("/v1/auth/me", Some(&alice.access_token)).await;
        if res.status == 429 {
            limited = Some(res);
            break;
        }
    }
    let limited = limited.expect("a 429 within 10 requests at 1 rps, burst 4");
    limited.assert_problem(429);
    assert!(limited.header("retry-after").is_some());
    assert!(
        limited
            .header("ratelimit-policy")
            .unwrap()
            .starts_with("\"default\";q=")
    );
    let remaining = limited.header("ratelimit").unwrap();
    assert!(remaining.starts_with("\"default\";r=0"), "{remaining}");
}
