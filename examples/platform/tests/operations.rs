//! The operations routes and conventions of API.md, over HTTP against the real binary.

mod common;

use common::{Answer, Server};

#[tokio::test]
async fn health_readiness_metrics_and_openapi() {
    let server = Server::start(&[]).await;
    let live = Answer::read(
        server
            .http
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(live.status, 200);
    assert!(live.header("x-request-id").is_some());

    let ready = Answer::read(server.http.get(server.url("/readyz")).send().await.unwrap()).await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json["status"], "ready");
    assert_eq!(ready.json["checks"]["database"]["status"], "up");

    let text = server
        .http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("baas_http_requests_total{route=\"/readyz\",method=\"GET\",status=\"200\"}"),
        "{text}"
    );
    assert!(
        text.contains("baas_http_request_duration_seconds"),
        "{text}"
    );
    assert!(text.contains("baas_slo_burn_rate"), "{text}");

    let doc = Answer::read(
        server
            .http
            .get(server.url("/openapi.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(doc.status, 200);
    assert!(doc.json["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc.json["paths"]["/readyz"].is_object());
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
        "/v1/collections/{collection}/documents",
        "/v1/collections/{collection}/documents/{id}",
        "/v1/files/{key}",
        "/v1/files",
        "/v1/webhooks/endpoints",
        "/v1/events",
        "/v1/notifications",
        "/v1/notifications/{id}",
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/v1/admin/queues",
        "/v1/admin/queues/{queue}/redrive",
    ] {
        assert!(
            doc.json["paths"][path].is_object(),
            "{path} is in /openapi.json"
        );
    }
}

#[tokio::test]
async fn operators_see_queues_and_redrive_dead_letters() {
    // One attempt only, to a port nobody listens on: the delivery is dead at once.
    let server = Server::start(&[
        ("BAAS_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("BAAS_WEBHOOK_RETRY_SCHEDULE", "0s"),
    ])
    .await;
    let operator = server.user("ops", "root@example.com").await;
    let admin = server.user("acme", "admin@example.com").await;
    let port = common::free_port();
    let endpoint = server
        .post_json(
            "/v1/webhooks/endpoints",
            Some(&admin.access_token),
            serde_json::json!({"url": format!("http://127.0.0.1:{port}/hook"), "event_types": ["*"]}),
        )
        .await;
    assert_eq!(endpoint.status, 201, "{}", endpoint.json);
    let event = server
        .post_json(
            "/v1/events",
            Some(&admin.access_token),
            serde_json::json!({"event_type": "ping", "payload": {}}),
        )
        .await;
    assert_eq!(event.status, 202);

    server
        .get("/v1/admin/queues", Some(&admin.access_token))
        .await
        .assert_problem(403);
    server
        .get("/v1/admin/queues", None)
        .await
        .assert_problem(401);
    let mut dead = serde_json::Value::Null;
    for _ in 0..200 {
        let queues = server
            .get("/v1/admin/queues", Some(&operator.access_token))
            .await;
        assert_eq!(queues.status, 200, "{}", queues.json);
        if let Some(q) = queues.json["queues"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["name"] == "baas-notify" && q["dead"] == 1)
        {
            dead = q.clone();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(dead["dead"], 1, "the failed delivery was dead-lettered");
    assert_eq!(dead["depth"], 0);
    assert!(dead["oldest_age_seconds"].is_number());

    let text = server
        .http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("baas_queue_dead_letters{queue=\"baas-notify\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("baas_queue_depth{queue=\"baas-notify\"}"),
        "{text}"
    );
    assert!(text.contains("baas_notify_attempts_total"), "{text}");

    server
        .post_json(
            "/v1/admin/queues/baas-notify/redrive",
            Some(&admin.access_token),
            serde_json::json!({}),
        )
        .await
        .assert_problem(403);
    server
        .post_json(
            "/v1/admin/queues/bad%20name/redrive",
            Some(&operator.access_token),
            serde_json::json!({}),
        )
        .await
        .assert_problem(400);
    let moved = server
        .post_json(
            "/v1/admin/queues/baas-notify/redrive",
            Some(&operator.access_token),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.json);
    assert_eq!(moved.json["moved"], 1);
}

#[tokio::test]
async fn framework_rejections_are_problems_and_request_ids_echo() {
    let server = Server::start(&[]).await;
    let res = server
        .http
        .get(server.url("/no/such/route"))
        .header("x-request-id", "req-123")
        .send()
        .await
        .unwrap();
    let missing = Answer::read(res).await;
    missing.assert_problem(404);
    assert_eq!(missing.header("x-request-id"), Some("req-123"));

    let wrong_method = Answer::read(
        server
            .http
            .delete(server.url("/healthz"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    wrong_method.assert_problem(405);
}

#[tokio::test]
async fn embedded_defaults_create_the_data_directory_and_stop_on_sigterm() {
    let mut server = Server::start(&[]).await;
    let data = server.dir.path().join("data");
    assert!(data.join("baas.db").exists());
    assert!(data.join("master.key").exists());
    assert!(data.join("objects").is_dir());
    assert!(server.terminate(), "SIGTERM ends the process cleanly");
}

#[tokio::test]
async fn a_bad_setting_stops_start_up_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_platform"))
        .current_dir(dir.path())
        .env("BAAS_MAX_JSON_BYTES", "lots")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("BAAS_MAX_JSON_BYTES"), "{stderr}");
}
