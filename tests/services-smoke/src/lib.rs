//! Smoke tests for the real backing services on loopback (issue 3).
//!
//! This crate has no API. Its integration tests (`tests/smoke/`) prove that each server
//! started by `scripts/services.sh` answers through the Rust client the project uses:
//!
//! | server | client | variables |
//! |---|---|---|
//! | PostgreSQL 15 | `sea-orm` | `BAAS_TEST_POSTGRES_URL` |
//! | RabbitMQ | `lapin` (publisher confirms, `basic.get`) | `BAAS_TEST_AMQP_URL`, `BAAS_TEST_AMQP_MANAGEMENT_URL` |
//! | S3 (SeaweedFS) | `object_store` (feature `aws`) | `BAAS_TEST_S3_ENDPOINT`, `BAAS_TEST_S3_BUCKET`, `BAAS_TEST_S3_ACCESS_KEY_ID`, `BAAS_TEST_S3_SECRET_ACCESS_KEY` |
//! | SMTP (aiosmtpd, Maildir) | `lettre` | `BAAS_TEST_SMTP_ADDR`, `BAAS_TEST_SMTP_MAILDIR` |
//!
//! Each test follows the one policy in `baas_core::testing::service`: it runs when its
//! variables are set, prints `SKIPPED: …` when they are not, and fails under
//! `BAAS_REQUIRE_SERVICES=1`.
//!
//! ```sh
//! scripts/services.sh start
//! eval "$(scripts/services.sh env)"
//! cargo test -p baas-services-smoke
//! ```
