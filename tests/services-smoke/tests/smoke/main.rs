//! Each backing service answers through the Rust client the project uses.
//!
//! One test binary (one link) for the four servers; each test skips, runs or fails by
//! `baas_core::testing::service`, and isolates itself with a unique name so the tests can
//! run in parallel against shared servers.

mod amqp;
mod postgres;
mod s3;
mod smtp;

/// Two rustls crypto providers are in the graph: pick one as the process default.
fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
