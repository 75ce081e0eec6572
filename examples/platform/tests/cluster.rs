//! Two platform processes sharing Postgres, S3 (SeaweedFS), RabbitMQ and one master key
//! behave as one service (API.md, last paragraph). Needs the services of
//! `scripts/services.sh`; skipped with a message otherwise (and failing under
//! `BAAS_REQUIRE_SERVICES=1`).

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use baas_core::testing::service;
use common::{PASSWORD, Server};
use secrecy::ExposeSecret;
use serde_json::json;

/// The environment both processes share: a fresh Postgres database, the S3 bucket,
/// RabbitMQ, one master key.
async fn shared_env() -> Option<Vec<(String, String)>> {
    let pg = service("BAAS_TEST_POSTGRES_URL")?;
    let amqp = service("BAAS_TEST_AMQP_URL")?;
    let s3 = service("BAAS_TEST_S3_ENDPOINT")?;
    let bucket = service("BAAS_TEST_S3_BUCKET")?;
    let access = service("BAAS_TEST_S3_ACCESS_KEY_ID")?;
    let secret = service("BAAS_TEST_S3_SECRET_ACCESS_KEY")?;
    let management = service("BAAS_TEST_AMQP_MANAGEMENT_URL")?;
    let name = baas_core::testing::unique_name("cluster").replace('-', "_");
    let admin = baas_store::Database::connect(&pg).await.expect("connect");
    use baas_store::sea_orm::ConnectionTrait;
    // DDL takes no parameters; the name is [a-z0-9_] by construction.
    admin
        .connection()
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create the database");
    let (base, _) = pg.rsplit_once('/').expect("a database in the URL");
    let key = baas_core::MasterKey::generate().to_base64();
    Some(vec![
        ("BAAS_DATABASE_URL".into(), format!("{base}/{name}")),
        ("BAAS_OBJECT_STORE_URL".into(), format!("s3://{bucket}")),
        ("AWS_ENDPOINT".into(), s3),
        ("AWS_ACCESS_KEY_ID".into(), access),
        ("AWS_SECRET_ACCESS_KEY".into(), secret),
        ("AWS_REGION".into(), "us-east-1".into()),
        ("AWS_ALLOW_HTTP".into(), "true".into()),
        ("BAAS_QUEUE_URL".into(), amqp),
        ("BAAS_AMQP_MANAGEMENT_URL".into(), management),
        ("BAAS_MASTER_KEY".into(), key.expose_secret().to_owned()),
        // Installations sharing one broker keep apart by prefix (tests run in parallel).
        ("BAAS_AMQP_PREFIX".into(), name.clone()),
        ("BAAS_WEBHOOK_ALLOW_PRIVATE".into(), "true".into()),
    ])
}

/// A figure for the run's log: straight to stderr, so it shows in a plain run.
fn report(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

async fn start_pair(env: &[(String, String)]) -> (Server, Server) {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let a = Server::start(&env).await;
    let b = Server::start(&env).await;
    (a, b)
}

/// How long until `check` holds, polling every 20 ms for up to `limit`.
async fn time_until(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

#[tokio::test]
async fn two_processes_behave_as_one() {
    let Some(env) = shared_env().await else {
        return;
    };
    let (a, b) = start_pair(&env).await;
    let tenant = baas_core::testing::unique_name("t");

    // A user made on A logs in on B; the first tenant is the operator's.
    let root = a.user(&tenant, "root@example.com").await;
    let on_b = b.login(&tenant, "root@example.com", PASSWORD).await;
    assert_eq!(on_b.status, 200, "{}", on_b.json);

    // A key rotated on A verifies on B (an unknown kid reloads B's key store).
    let rotated = a
        .post_json(
            "/v1/admin/signing-keys/rotate",
            Some(&root.access_token),
            json!({}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.json);
    let fresh = a.login(&tenant, "root@example.com", PASSWORD).await;
    let fresh_token = fresh.json["access_token"].as_str().unwrap().to_owned();
    assert_eq!(b.get("/v1/auth/me", Some(&fresh_token)).await.status, 200);
    let kids = b.get("/.well-known/jwks.json", None).await.json["keys"].clone();
    assert!(
        kids.as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == rotated.json["kid"]),
        "B publishes A's new key"
    );

    // A revocation on A is refused by B within a second (the revocation cache's TTL).
    assert_eq!(b.get("/v1/auth/me", Some(&fresh_token)).await.status, 200);
    let logout = a
        .http
        .post(a.url("/v1/auth/logout"))
        .bearer_auth(&fresh_token)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    let refused = time_until(Duration::from_secs(5), async || {
        b.get("/v1/auth/me", Some(&fresh_token)).await.status == 401
    })
    .await
    .expect("B refuses the revoked session");
    report(&format!("revocation on A refused by B after {refused:?}"));

    // An API key deleted on A is refused by B.
    let created = a
        .post_json(
            "/v1/api-keys",
            Some(&root.access_token),
            json!({"name": "ci", "roles": ["member"]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.json);
    let api_key = created.json["key"].as_str().unwrap().to_owned();
    assert_eq!(b.get("/v1/auth/me", Some(&api_key)).await.status, 200);
    let path = format!("/v1/api-keys/{}", created.json["id"].as_str().unwrap());
    assert_eq!(a.delete(&path, &root.access_token).await.status, 204);
    let refused = time_until(Duration::from_secs(5), async || {
        b.get("/v1/auth/me", Some(&api_key)).await.status == 401
    })
    .await
    .expect("B refuses the deleted API key");
    report(&format!(
        "API key deleted on A refused by B after {refused:?}"
    ));

    // A signed URL made by A works without A: served by B when it is the platform's own
    // (root-relative), or by S3 itself when presigned (absolute).
    let put = a
        .http
        .put(a.url("/v1/files/cluster/hello.txt"))
        .bearer_auth(&root.access_token)
        .header("content-type", "text/plain")
        .body("hello from A")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
    let signed = a
        .post_json(
            "/v1/files/cluster/hello.txt/signed-url",
            Some(&root.access_token),
            json!({"expires_in": 60}),
        )
        .await;
    assert_eq!(signed.status, 200, "{}", signed.json);
    let url = signed.json["url"].as_str().unwrap();
    let absolute = if url.starts_with('/') {
        b.url(url)
    } else {
        url.to_owned()
    };
    let got = b.http.get(absolute).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.text().await.unwrap(), "hello from A");
}

#[derive(Clone, Default)]
struct Counter {
    ids: Arc<Mutex<Vec<String>>>,
}

async fn count(State(c): State<Counter>, headers: HeaderMap, _body: Bytes) -> &'static str {
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    c.ids.lock().unwrap().push(id);
    "ok"
}

#[tokio::test]
async fn each_event_reaches_its_endpoint_once_across_processes() {
    let Some(env) = shared_env().await else {
        return;
    };
    let counter = Counter::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/hook", axum::routing::post(count))
        .with_state(counter.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let (a, b) = start_pair(&env).await;
    let tenant = baas_core::testing::unique_name("t");
    let admin = a.user(&tenant, "admin@example.com").await;
    let endpoint = a
        .post_json(
            "/v1/webhooks/endpoints",
            Some(&admin.access_token),
            json!({"url": hook, "event_types": ["*"]}),
        )
        .await;
    assert_eq!(endpoint.status, 201, "{}", endpoint.json);
    let mut sent = Vec::new();
    for i in 0..20 {
        let server = if i % 2 == 0 { &a } else { &b };
        let event = server
            .post_json(
                "/v1/events",
                Some(&admin.access_token),
                json!({"event_type": "tick", "payload": {"i": i}}),
            )
            .await;
        assert_eq!(event.status, 202, "{}", event.json);
        sent.push(event.json["id"].as_str().unwrap().to_owned());
    }
    let all = time_until(Duration::from_secs(30), async || {
        counter.ids.lock().unwrap().len() >= sent.len()
    })
    .await;
    assert!(all.is_some(), "every event was delivered");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut got = counter.ids.lock().unwrap().clone();
    got.sort();
    sent.sort();
    assert_eq!(got, sent, "each event once, no duplicates");
}
