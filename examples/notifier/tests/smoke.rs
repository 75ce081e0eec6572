//! Start the real binary in a temporary directory (SQLite, mail to the log), mint a
//! token the way auth-service would (baas-auth on the same database and master key),
//! send a `welcome` email through the routes, watch the dispatcher deliver it, and stop
//! the process with SIGTERM.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use baas_auth::TokenConfig;
use baas_auth::service::{ClientInfo, IdentityConfig, IdentityService, Stores};
use baas_core::MasterKey;
use baas_store::Database;
use secrecy::SecretString;
use serde_json::{Value, json};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Send SIGTERM and wait; whether the process exited with success.
fn terminate(child: &mut Child) -> bool {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return status.success();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

/// An access token for a new user of `tenant`, issued on the notifier's database with
/// its master key (what auth-service does over HTTP).
async fn token_for(dir: &std::path::Path, tenant: &str) -> String {
    let key = MasterKey::load_or_generate(dir.join("data/master.key")).expect("master key");
    let url = format!("sqlite://{}/data/baas.db?mode=rwc", dir.display());
    let db = Database::connect(&url).await.expect("database");
    let clock = baas_core::clock::system();
    let identity = Arc::new(IdentityService::new(
        Stores::sql(&db, clock.clone()),
        key,
        IdentityConfig::new(TokenConfig::new("baas", "baas")),
        clock,
    ));
    identity.start().await.expect("identity");
    let password = SecretString::from("correct horse battery staple");
    let client = ClientInfo::new(None, None);
    identity
        .signup(tenant, "alice@example.com", &password, &client)
        .await
        .expect("signup");
    let tokens = identity
        .login(tenant, "alice@example.com", &password, &client)
        .await
        .expect("login");
    tokens.access_token().to_owned()
}

#[tokio::test]
async fn sends_a_welcome_email_and_stops_on_sigterm() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_notifier"))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("BAAS_BIND", format!("127.0.0.1:{port}"))
        .env("BAAS_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start notifier");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(res) = http.get(format!("{base}/healthz")).send().await
            && res.status() == 200
        {
            break;
        }
        assert!(Instant::now() < deadline, "notifier did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let token = token_for(dir.path(), "acme").await;
    let welcome = json!({"channel": "email", "to": "bob@example.com", "template": "welcome", "data": {"name": "Bob"}});

    // Without a credential the routes answer 401 problem+json.
    let anonymous = http
        .post(format!("{base}/v1/notifications"))
        .json(&welcome)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        anonymous.headers()["content-type"],
        "application/problem+json"
    );

    // An unknown template is refused before anything is queued.
    let unknown = http
        .post(format!("{base}/v1/notifications"))
        .bearer_auth(&token)
        .json(&json!({"channel": "email", "to": "bob@example.com", "template": "farewell", "data": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 422);

    let accepted = http
        .post(format!("{base}/v1/notifications"))
        .bearer_auth(&token)
        .header("idempotency-key", "welcome-bob")
        .json(&welcome)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 202);
    let id = accepted.json::<Value>().await.unwrap()["id"]
        .as_str()
        .expect("an id")
        .to_owned();

    // The in-process dispatcher delivers it (to the log).
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        let status: Value = http
            .get(format!("{base}/v1/notifications/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if status["status"] == "sent" {
            break status;
        }
        assert!(Instant::now() < deadline, "not delivered: {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status["attempts"], 1);

    // Another tenant cannot see it.
    let other = token_for(dir.path(), "globex").await;
    let hidden = http
        .get(format!("{base}/v1/notifications/{id}"))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), 404);

    assert!(terminate(&mut child), "notifier did not stop cleanly");
}
