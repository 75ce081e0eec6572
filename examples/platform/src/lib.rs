//! # platform — the composed baas server
//!
//! Every baas crate behind one HTTP API: the contract is `../shared/API.md` (identity,
//! documents, files, events, notifications, operations). This is the template a
//! platform team copies.
//!
//! ```sh
//! cargo run -p platform                 # SQLite + local files + SQL queue + mail to the log, in ./data
//! cargo run -p platform -- --role api   # the HTTP API only (or `worker`, or `all`, the default)
//! ```
//!
//! Every setting is an environment variable of API.md's configuration table
//! (`BAAS_BIND`, `BAAS_DATABASE_URL`, `BAAS_OBJECT_STORE_URL`, …); see [`config`].
//! SIGTERM or SIGINT stop it gracefully: it stops accepting, drains in-flight requests
//! and lets the workers finish or release their leases.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod app;
pub mod config;
pub mod events;
pub mod housekeeping;
pub mod identity;
pub mod openapi;
pub mod ops;
pub mod storage;
