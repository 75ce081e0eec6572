//! The [`KeyStore`] trait: where an installation's signing keys live.

use std::time::SystemTime;

use async_trait::async_trait;

use super::model::StoredKey;
use crate::error::AuthError;

/// One atomic rotation, as [`KeyStore::rotate`] applies it.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// The kid that must be `Current` now; it becomes `Retiring`.
    pub expected_current: String,
    /// The kid that must be `Next` now; it becomes `Current` with `activated_at = now`.
    pub expected_next: String,
    /// The freshly generated key to insert as `Next`.
    pub new_next: StoredKey,
    /// The time of the rotation.
    pub now: SystemTime,
    /// When the outgoing key stops verifying (its last token's expiry plus leeway).
    pub retire_after: SystemTime,
}

/// The installation's signing keys (installation-wide, so no tenant argument).
///
/// Guarantees every backend gives:
/// * [`initialise`](KeyStore::initialise) and [`rotate`](KeyStore::rotate) are atomic
///   and serialised against each other across every process sharing the store: the
///   memory backend holds a mutex; the SQL backend runs each in one transaction under a
///   database lock (an advisory lock on Postgres, `BEGIN IMMEDIATE` on SQLite). So two
///   processes starting together create one first key pair, and two concurrent
///   rotations leave exactly one `Current` key — the loser gets
///   [`AuthError::RotationConflict`].
/// * At most one key is `Current` and at most one is `Next`.
/// * [`retire_expired`](KeyStore::retire_expired) deletes the sealed private half of
///   every key it retires.
#[async_trait]
pub trait KeyStore: Send + Sync + std::fmt::Debug + 'static {
    /// Every key in any state, oldest first.
    async fn list(&self) -> Result<Vec<StoredKey>, AuthError>;

    /// Insert the first `current` and `next` keys if, and only if, no key is `Current`.
    /// Returns whether they were inserted (`false`: another process was first).
    async fn initialise(&self, current: StoredKey, next: StoredKey) -> Result<bool, AuthError>;

    /// Apply `rotation` atomically: next → current, current → retiring (until
    /// `retire_after`), insert `new_next`. If the current or next key is not the
    /// expected one, nothing changes and the result is [`AuthError::RotationConflict`].
    async fn rotate(&self, rotation: Rotation) -> Result<(), AuthError>;

    /// Move every `Retiring` key whose `retire_after` is at or before `now` to
    /// `Retired`, deleting its private half. Returns the kids retired.
    async fn retire_expired(&self, now: SystemTime) -> Result<Vec<String>, AuthError>;
}

/// A key store chosen at run time.
pub type DynKeyStore = dyn KeyStore;

fn _object_safe(_: Box<dyn KeyStore>) {}
