//! Idempotency: API.md's `Idempotency-Key` convention as a tower layer, and the
//! [`IdempotencyStore`] it keeps its records in.
//!
//! - [`IdempotencyLayer`] / [`Idempotency`]: the layer and its service, around any
//!   `Service<http::Request<B>>` (see the layer's docs for the whole contract).
//! - [`IdempotencyStore`]: where records live, per scope and key: the fingerprint of the
//!   first request and, once it completes, its stored response. [`MemoryIdempotencyStore`]
//!   is always here; the SQL backend comes with baas-store. Every backend passes
//!   `baas_core::testing::idempotency_store_suite`.
//! - [`StoredResponse`]: the versioned record format of a stored response.
//! - [`spawn_sweeper`]: removes expired records periodically.
//! - [`SealResponse`]: the marker a handler puts on a response that carries a secret.
//!
//! In the standard HTTP stack the layer sits innermost, right after authentication and
//! the per-principal rate limit (DESIGN.md rule 10), so the principal is known and
//! throttled requests never claim a key.

mod body;
mod config;
mod fingerprint;
mod future;
mod guard;
mod layer;
mod memory;
mod problem;
mod request;
mod response;
mod service;
mod store;
mod sweeper;

#[cfg(test)]
mod tests;

use http::HeaderName;

pub use body::IdempotencyBody;
pub use config::{
    DEFAULT_EXCLUDED_PATHS, DEFAULT_LEASE, DEFAULT_MAX_REQUEST_BODY, DEFAULT_MAX_STORED_BODY,
    DEFAULT_TTL,
};
pub use fingerprint::fingerprint;
pub use future::ResponseFuture;
pub use layer::IdempotencyLayer;
pub use memory::MemoryIdempotencyStore;
pub use response::{RECORD_VERSION, StoredResponse};
pub use service::Idempotency;
pub use store::{
    Claim, ClaimToken, DynIdempotencyStore, Fingerprint, IdempotencyScope, IdempotencyStore,
    MAX_IDEMPOTENCY_KEY_LEN, validate_key,
};
pub use sweeper::spawn_sweeper;

/// The request header naming an idempotency key.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// The header marking a replayed response (`Idempotent-Replayed: true`).
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// The request id header, carried over from the current request onto a replay.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Put this in a response's extensions when its body or headers carry a secret (an API
/// key shown once, a token): the [`IdempotencyLayer`] then stores it sealed with the
/// master key. With axum, return `(Extension(SealResponse), body)` from the handler.
///
/// ```
/// use baas_core::idempotency::SealResponse;
/// let mut response = http::Response::new("{\"key\":\"…\"}");
/// response.extensions_mut().insert(SealResponse);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SealResponse;
