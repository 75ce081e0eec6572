//! Start the real `platform` binary on a free port, in its own temporary directory, and
//! talk to it over HTTP.

#![allow(dead_code, unreachable_pub)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running platform process; stopped with SIGTERM (then killed) when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The process's working directory (its `./data`).
    pub dir: tempfile::TempDir,
    /// A client for it.
    pub http: reqwest::Client,
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Server {
    /// Start with the default configuration plus `env`.
    pub async fn start(env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::start_in(dir, env).await
    }

    /// Start in `dir` with `env`.
    pub async fn start_in(dir: tempfile::TempDir, env: &[(&str, &str)]) -> Server {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_platform"));
        cmd.current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("BAAS_BIND", format!("127.0.0.1:{port}"))
            .env("BAAS_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start the platform binary");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            dir,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(res) = self.http.get(self.url("/healthz")).send().await
                && res.status() == 200
            {
                return;
            }
            assert!(Instant::now() < deadline, "platform did not start in 60 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stop the process with SIGTERM and wait for it; returns whether it exited cleanly.
    pub fn terminate(&mut self) -> bool {
        #[cfg(unix)]
        {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(self.child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(status)) = self.child.try_wait() {
                    return status.success();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.terminate();
        }
    }
}

/// A response's status, headers and JSON body (`Null` when not JSON).
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: serde_json::Value,
}

impl Answer {
    /// Read `res` whole.
    pub async fn read(res: reqwest::Response) -> Answer {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("body");
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        Answer {
            status,
            headers,
            json,
        }
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Assert an RFC 9457 problem with `status`.
    pub fn assert_problem(&self, status: u16) {
        assert_eq!(self.status, status, "body: {}", self.json);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "status {status}"
        );
        assert_eq!(self.json["status"], status);
        assert!(self.json["type"].is_string() && self.json["title"].is_string());
    }
}

/// A signed-up user's credentials.
pub struct User {
    pub id: String,
    pub tenant: String,
    pub email: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
}

/// A password that passes the policy.
pub const PASSWORD: &str = "correct horse battery staple";

impl Server {
    /// `POST path` with a JSON body and optional bearer token.
    pub async fn post_json(
        &self,
        path: &str,
        token: Option<&str>,
        body: serde_json::Value,
    ) -> Answer {
        let mut req = self.http.post(self.url(path)).json(&body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        Answer::read(req.send().await.expect("request")).await
    }

    /// `GET path` with an optional bearer token.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut req = self.http.get(self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        Answer::read(req.send().await.expect("request")).await
    }

    /// `DELETE path` with a bearer token.
    pub async fn delete(&self, path: &str, token: &str) -> Answer {
        Answer::read(
            self.http
                .delete(self.url(path))
                .bearer_auth(token)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    /// Sign up `email` in `tenant` and log in with a password grant.
    pub async fn user(&self, tenant: &str, email: &str) -> User {
        let signup = self
            .post_json(
                "/v1/auth/signup",
                None,
                serde_json::json!({"tenant": tenant, "email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(signup.status, 201, "signup: {}", signup.json);
        let token = self.login(tenant, email, PASSWORD).await;
        assert_eq!(token.status, 200, "token: {}", token.json);
        User {
            id: signup.json["user"]["id"]
                .as_str()
                .expect("user id")
                .to_owned(),
            tenant: tenant.to_owned(),
            email: email.to_owned(),
            password: PASSWORD.to_owned(),
            access_token: token.json["access_token"]
                .as_str()
                .expect("access token")
                .to_owned(),
            refresh_token: token.json["refresh_token"]
                .as_str()
                .expect("refresh token")
                .to_owned(),
        }
    }

    /// A password grant.
    pub async fn login(&self, tenant: &str, email: &str, password: &str) -> Answer {
        self.post_json(
            "/v1/auth/token",
            None,
            serde_json::json!({"grant_type": "password", "tenant": tenant, "email": email, "password": password}),
        )
        .await
    }
}
