//! Conformance suites and test helpers (feature `testing`).
//!
//! Each trait's whole contract is a plain `pub async fn` here, run by every backend's
//! own test — the way `object_store` runs one suite against every store (DESIGN.md
//! rule 2). A backend is done when it passes its suite against the real server.
//!
//! [`service`] is the one policy for tests that need a real server (Postgres, RabbitMQ,
//! S3, SMTP): they run when the variable is set, say that they skipped when it is not,
//! and fail under `BAAS_REQUIRE_SERVICES=1`.

mod idempotency_suite;
mod services;

pub use idempotency_suite::idempotency_store_suite;
pub use services::{REQUIRE_SERVICES_ENV, service, unique_name};
