//! # baas-core
//!
//! The foundation every baas crate stands on: one error model, tenancy, request
//! context, an injected clock, health checks, the installation's master key, and the
//! tower layers that give every HTTP request, queue job and notification delivery the
//! same retries, timeouts, idempotency, rate limits, circuit breaking, metrics and traces.
//!
//! ## The one idea
//!
//! Every unit of work is a [`tower::Service`]. So one stack of layers wraps an axum
//! handler, a queue handler and a delivery the same way, and capabilities sit behind
//! object-safe traits whose backends are chosen at start-up.
//!
//! ```
//! use baas_core::{Error, ErrorKind, TenantId};
//!
//! // Tenancy is validated at the edge and carried explicitly.
//! let tenant = TenantId::new("acme")?;
//! assert_eq!(tenant.as_str(), "acme");
//!
//! // Errors carry their kind; the kind decides retries and HTTP status.
//! let err = Error::new(ErrorKind::Unavailable, "database is down");
//! assert!(err.kind().is_retryable());
//! # Ok::<(), baas_core::Error>(())
//! ```
//!
//! ## Features
//!
//! | feature | what it adds |
//! |---|---|
//! | `http` | axum integration: problem+json (RFC 9457) responses for every error and for axum's own rejections |
//! | `otel` | an OpenTelemetry OTLP exporter under `tracing` |
//! | `testing` | the conformance suites ([`testing`]) and the service-test policy |
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod clock;
pub mod context;
pub mod error;
pub mod health;
pub mod housekeeping;
pub mod idempotency;
pub mod master_key;
pub mod metrics;
pub mod principal;
pub mod shutdown;
pub mod slo;
pub mod telemetry;
pub mod tenant;
pub mod trace;

pub mod circuit_breaker;
pub mod limit;
pub mod rate_limit;
pub mod refusal;
pub mod require_role;
pub mod retry;

#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;

#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod stack;

#[cfg(any(test, feature = "testing"))]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use context::{RequestContext, RequestId};
pub use error::{BoxError, Classify, Error, ErrorKind, FieldError, Result};
pub use health::{HealthCheck, HealthRegistry};
pub use master_key::MasterKey;
pub use principal::{Principal, PrincipalKind};
pub use tenant::TenantId;
