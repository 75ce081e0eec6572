//! Idempotency: the [`IdempotencyStore`] trait, its in-memory backend, and the
//! `Idempotency-Key` layer.
//!
//! The store records, per scope and key, the fingerprint of the first request and —
//! once it completes — its stored response. The layer (see the submodules) turns that
//! into API.md's semantics: replay, 422 on a different fingerprint, 409 while in flight.

mod memory;
mod store;

pub use memory::MemoryIdempotencyStore;
pub use store::{
    Claim, DynIdempotencyStore, Fingerprint, IdempotencyScope, IdempotencyStore,
    MAX_IDEMPOTENCY_KEY_LEN, validate_key,
};
