//! Liveness and readiness.
//!
//! Each backend implements [`HealthCheck`]; a binary registers them in a
//! [`HealthRegistry`] and answers `/healthz` (liveness: the process lives) and `/readyz`
//! (readiness: every check answers) from it.
//!
//! ```
//! use baas_core::health::{HealthCheck, HealthRegistry, Status};
//! use baas_core::Error;
//!
//! #[derive(Debug)]
//! struct AlwaysUp;
//!
//! #[async_trait::async_trait]
//! impl HealthCheck for AlwaysUp {
//!     fn name(&self) -> &str { "always" }
//!     async fn check(&self) -> Result<(), Error> { Ok(()) }
//! }
//!
//! # tokio_test(async {
//! let mut registry = HealthRegistry::new();
//! registry.register(AlwaysUp);
//! let report = registry.readiness().await;
//! assert_eq!(report.status, Status::Ready);
//! assert_eq!(report.checks["always"].status, "up");
//! # });
//! # fn tokio_test(f: impl std::future::Future<Output = ()>) {
//! #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
//! # }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;

/// A dependency that can say whether it answers.
#[async_trait::async_trait]
pub trait HealthCheck: Send + Sync + fmt::Debug {
    /// The name shown in the readiness report (`database`, `queue`, `objects`…).
    fn name(&self) -> &str;

    /// `Ok` when the dependency answers.
    async fn check(&self) -> Result<(), Error>;
}

/// Overall readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every check answered.
    Ready,
    /// At least one check failed.
    Unavailable,
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckResult {
    /// `"up"` or `"down"`.
    pub status: &'static str,
    /// Why the check is down (client-safe message).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A readiness report, serialised as
/// `{"status":"ready","checks":{"<name>":{"status":"up"}}}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Readiness {
    /// Overall status.
    pub status: Status,
    /// Each check by name.
    pub checks: BTreeMap<String, CheckResult>,
}

impl Readiness {
    /// Whether every check is up.
    pub fn is_ready(&self) -> bool {
        self.status == Status::Ready
    }
}

/// The set of health checks of a process.
#[derive(Debug, Clone)]
pub struct HealthRegistry {
    checks: Vec<Arc<dyn HealthCheck>>,
    timeout: Duration,
}

impl Default for HealthRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl HealthRegistry {
    /// An empty registry; each check gets 2 s before it counts as down.
    pub fn new() -> Self {
        HealthRegistry {
            checks: Vec::new(),
            timeout: Duration::from_secs(2),
        }
    }

    /// Change the per-check timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Add a check.
    pub fn register(&mut self, check: impl HealthCheck + 'static) -> &mut Self {
        self.checks.push(Arc::new(check));
        self
    }

    /// Add a shared check.
    pub fn register_shared(&mut self, check: Arc<dyn HealthCheck>) -> &mut Self {
        self.checks.push(check);
        self
    }

    /// Liveness: always true while the process can answer.
    pub fn liveness(&self) -> bool {
        true
    }

    /// Run every check concurrently, each bounded by the timeout.
    pub async fn readiness(&self) -> Readiness {
        let runs = self.checks.iter().map(|check| {
            let check = Arc::clone(check);
            let timeout = self.timeout;
            async move {
                let outcome = match tokio::time::timeout(timeout, check.check()).await {
                    Ok(Ok(())) => CheckResult {
                        status: "up",
                        error: None,
                    },
                    Ok(Err(e)) => CheckResult {
                        status: "down",
                        // The report is public: an internal error's message stays in the logs.
                        error: Some(match e.kind() {
                            crate::ErrorKind::Internal => {
                                tracing::warn!(check = check.name(), error = ?e, "health check failed");
                                "internal error".to_owned()
                            }
                            _ => e.message().to_owned(),
                        }),
                    },
                    Err(_) => CheckResult {
                        status: "down",
                        error: Some(format!("no answer within {timeout:?}")),
                    },
                };
                (check.name().to_owned(), outcome)
            }
        });
        let checks: BTreeMap<_, _> = futures_util::future::join_all(runs)
            .await
            .into_iter()
            .collect();
        let status = if checks.values().all(|c| c.status == "up") {
            Status::Ready
        } else {
            Status::Unavailable
        };
        Readiness { status, checks }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[derive(Debug)]
    struct Fixed(&'static str, bool);

    #[async_trait::async_trait]
    impl HealthCheck for Fixed {
        fn name(&self) -> &str {
            self.0
        }
        async fn check(&self) -> Result<(), Error> {
            if self.1 {
                Ok(())
            } else {
                Err(Error::new(ErrorKind::Unavailable, "connection refused"))
            }
        }
    }

    #[derive(Debug)]
    struct Hangs;

    #[async_trait::async_trait]
    impl HealthCheck for Hangs {
        fn name(&self) -> &str {
            "hangs"
        }
        async fn check(&self) -> Result<(), Error> {
            std::future::pending().await
        }
    }

    #[tokio::test]
    async fn one_failing_check_makes_the_process_unready() {
        let mut r = HealthRegistry::new();
        r.register(Fixed("db", true))
            .register(Fixed("queue", false));
        let report = r.readiness().await;
        assert_eq!(report.status, Status::Unavailable);
        assert_eq!(report.checks["db"].status, "up");
        assert_eq!(report.checks["queue"].status, "down");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["status"], "unavailable");
        assert_eq!(json["checks"]["queue"]["error"], "connection refused");
        assert!(json["checks"]["db"].get("error").is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_check_times_out_as_down() {
        let mut r = HealthRegistry::new().with_timeout(Duration::from_millis(50));
        r.register(Hangs);
        let report = r.readiness().await;
        assert!(!report.is_ready());
        assert_eq!(report.checks["hangs"].status, "down");
    }
}
