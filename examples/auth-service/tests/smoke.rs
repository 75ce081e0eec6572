//! Start the real binary in a temporary directory (SQLite, a generated master key), walk
//! signup → token → me over HTTP, and stop it with SIGTERM.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
    let deadline = Instant::now() + Duration::from_secs(20);
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

#[tokio::test]
async fn signs_up_logs_in_and_stops_on_sigterm() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_auth-service"))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("BAAS_BIND", format!("127.0.0.1:{port}"))
        .env("BAAS_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start auth-service");
    let http = reqwest::Client::new();

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(res) = http.get(format!("{base}/healthz")).send().await
            && res.status() == 200
        {
            break;
        }
        assert!(Instant::now() < deadline, "auth-service did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(dir.path().join("data/master.key").exists());
    assert!(dir.path().join("data/baas.db").exists());

    let signup = http
        .post(format!("{base}/v1/auth/signup"))
        .header("idempotency-key", "signup-1")
        .json(&json!({"tenant": "acme", "email": "Alice@Example.com", "password": "correct horse battery staple"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), 201);
    let user: Value = signup.json().await.unwrap();
    assert_eq!(user["user"]["roles"], json!(["admin"]));

    let token: Value = http
        .post(format!("{base}/v1/auth/token"))
        .json(&json!({"grant_type": "password", "tenant": "acme", "email": "alice@example.com", "password": "correct horse battery staple"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = token["access_token"].as_str().expect("an access token");

    let me = http
        .get(format!("{base}/v1/auth/me"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["email"], "alice@example.com");
    assert_eq!(me["tenant"], "acme");

    // The auth layer refuses a forged token; the stack answers problem+json.
    let forged = http
        .get(format!("{base}/v1/auth/me"))
        .bearer_auth("not.a.token")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    assert_eq!(forged.headers()["content-type"], "application/problem+json");

    assert!(terminate(&mut child), "auth-service did not stop cleanly");
}
