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
