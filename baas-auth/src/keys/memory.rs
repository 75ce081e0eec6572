//! [`MemoryKeyStore`]: signing keys in process memory, for tests and development.

use std::time::SystemTime;

use async_trait::async_trait;
use parking_lot::Mutex;

use super::model::{KeyState, StoredKey};
use super::store::{KeyStore, Rotation};
use crate::error::AuthError;

/// A [`KeyStore`] in memory. One mutex serialises every change, which is what makes
/// `initialise` and `rotate` atomic here; keys are lost when the process exits.
#[derive(Debug, Default)]
pub struct MemoryKeyStore {
    keys: Mutex<Vec<StoredKey>>,
}

impl MemoryKeyStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

fn kid_of(keys: &[StoredKey], state: KeyState) -> Option<&str> {
    keys.iter()
        .find(|k| k.state == state)
        .map(|k| k.kid.as_str())
}

#[async_trait]
impl KeyStore for MemoryKeyStore {
    async fn list(&self) -> Result<Vec<StoredKey>, AuthError> {
        Ok(self.keys.lock().clone())
    }

    async fn initialise(&self, current: StoredKey, next: StoredKey) -> Result<bool, AuthError> {
        let mut keys = self.keys.lock();
        if kid_of(&keys, KeyState::Current).is_some() {
            return Ok(false);
        }
        if current.kid == next.kid
            || keys
                .iter()
                .any(|k| k.kid == current.kid || k.kid == next.kid)
        {
            return Err(AuthError::KeyExists);
        }
        // A stray `Next` without a `Current` (impossible through this API) is replaced.
        keys.retain(|k| k.state != KeyState::Next);
        keys.push(current);
        keys.push(next);
        Ok(true)
    }

    async fn rotate(&self, rotation: Rotation) -> Result<(), AuthError> {
        let mut keys = self.keys.lock();
        if kid_of(&keys, KeyState::Current) != Some(rotation.expected_current.as_str())
            || kid_of(&keys, KeyState::Next) != Some(rotation.expected_next.as_str())
        {
            return Err(AuthError::RotationConflict);
        }
        if keys.iter().any(|k| k.kid == rotation.new_next.kid) {
            return Err(AuthError::KeyExists);
        }
        for key in keys.iter_mut() {
            if key.kid == rotation.expected_current {
                key.state = KeyState::Retiring;
                key.retire_after = Some(rotation.retire_after);
            } else if key.kid == rotation.expected_next {
                key.state = KeyState::Current;
                key.activated_at = Some(rotation.now);
            }
        }
        let mut new_next = rotation.new_next;
        new_next.state = KeyState::Next;
        keys.push(new_next);
        Ok(())
    }

    async fn retire_expired(&self, now: SystemTime) -> Result<Vec<String>, AuthError> {
        let mut keys = self.keys.lock();
        let mut retired = Vec::new();
        for key in keys.iter_mut() {
            if key.state == KeyState::Retiring && key.retire_after.is_some_and(|t| t <= now) {
                key.state = KeyState::Retired;
                key.sealed_private = None;
                retired.push(key.kid.clone());
            }
        }
        Ok(retired)
    }
}
