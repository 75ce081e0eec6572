//! [`KeyManager`]: first key, rotation, retirement, the JWKS and the current signer.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use baas_core::{MasterKey, SharedClock};
use jsonwebtoken::EncodingKey;
use parking_lot::RwLock;
use zeroize::Zeroizing;

use super::generate::{encoding_key, generate};
use super::jwks::{Jwk, Jwks};
use super::model::{KeyState, SigningAlgorithm, StoredKey};
use super::store::{DynKeyStore, Rotation};
use crate::error::AuthError;
use crate::token::TokenConfig;

/// The key that signs tokens now: its `kid`, algorithm and opened private half.
pub struct Signer {
    pub(crate) kid: String,
    pub(crate) algorithm: SigningAlgorithm,
    pub(crate) key: EncodingKey,
}

impl Signer {
    /// The key id written into the JWS header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm.
    pub fn algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("key", &"[REDACTED]")
            .finish()
    }
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationReport {
    /// The kid that became current (the former next).
    pub current: String,
    /// The kid that started retiring (the former current).
    pub retiring: String,
    /// The kid of the freshly generated next key.
    pub next: String,
    /// Kids retired in the same step because their window had closed.
    pub retired: Vec<String>,
}

/// Manages an installation's signing keys on top of a [`KeyStore`](super::KeyStore).
///
/// * [`ensure`](KeyManager::ensure) creates the first `Current` and `Next` keys once.
///   In one process a mutex serialises it; across processes the store's atomic
///   `initialise` does (the SQL store takes a database lock).
/// * [`rotate`](KeyManager::rotate) promotes next → current (it has been in the JWKS
///   since the previous rotation, so verifiers know it before it signs), current →
///   retiring until [`TokenConfig::retire_window`] from now, creates a new next, and
///   retires keys whose window has closed (deleting their private half).
/// * [`jwks`](KeyManager::jwks) lists every key that may still verify a live token,
///   plus the next key.
/// * [`signer`](KeyManager::signer) gives the current key, opened with the master key,
///   cached for [`TokenConfig::key_refresh`].
pub struct KeyManager {
    store: Arc<DynKeyStore>,
    master: MasterKey,
    clock: SharedClock,
    config: TokenConfig,
    create: tokio::sync::Mutex<()>,
    signer: RwLock<Option<(Arc<Signer>, Instant)>>,
}

impl fmt::Debug for KeyManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyManager")
            .field("store", &self.store)
            .field("algorithm", &self.config.algorithm)
            .finish_non_exhaustive()
    }
}

impl KeyManager {
    /// A manager over `store`, sealing private keys with `master`.
    pub fn new(
        store: Arc<DynKeyStore>,
        master: MasterKey,
        clock: SharedClock,
        config: TokenConfig,
    ) -> Self {
        KeyManager {
            store,
            master,
            clock,
            config,
            create: tokio::sync::Mutex::new(()),
            signer: RwLock::new(None),
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<DynKeyStore> {
        &self.store
    }

    /// The configuration.
    pub fn config(&self) -> &TokenConfig {
        &self.config
    }

    fn new_key(&self, state: KeyState) -> Result<StoredKey, AuthError> {
        let generated = generate(self.config.algorithm)?;
        let sealed = self
            .master
            .seal(&generated.pkcs8, generated.kid.as_bytes())
            .map_err(AuthError::internal)?;
        let now = self.clock.now();
        Ok(StoredKey {
            kid: generated.kid,
            algorithm: self.config.algorithm,
            state,
            public_key: generated.public_key,
            sealed_private: Some(sealed),
            created_at: now,
            activated_at: (state == KeyState::Current).then_some(now),
            retire_after: None,
        })
    }

    /// Make sure a current and a next key exist, creating them the first time. Safe to
    /// call from every process at start-up: exactly one pair is created.
    pub async fn ensure(&self) -> Result<(), AuthError> {
        let _serialised = self.create.lock().await;
        let keys = self.store.list().await?;
        if keys.iter().any(|k| k.state == KeyState::Current) {
            return Ok(());
        }
        let current = self.new_key(KeyState::Current)?;
        let next = self.new_key(KeyState::Next)?;
        let created = self.store.initialise(current, next).await?;
        if created {
            tracing::info!(target: "baas_auth::keys", "created the first signing keys");
        }
        Ok(())
    }

    /// Rotate the keys once (see the type's docs). A concurrent rotation by another
    /// process makes this one fail with [`AuthError::RotationConflict`] and change nothing.
    pub async fn rotate(&self) -> Result<RotationReport, AuthError> {
        let keys = self.store.list().await?;
        let find = |state| {
            keys.iter()
                .find(|k| k.state == state)
                .map(|k| k.kid.clone())
        };
        let current = find(KeyState::Current).ok_or(AuthError::NoSigningKey)?;
        let next = find(KeyState::Next).ok_or(AuthError::NoSigningKey)?;
        let new_next = self.new_key(KeyState::Next)?;
        let new_next_kid = new_next.kid.clone();
        let now = self.clock.now();
        self.store
            .rotate(Rotation {
                expected_current: current.clone(),
                expected_next: next.clone(),
                new_next,
                now,
                retire_after: now + self.config.retire_window(),
            })
            .await?;
        *self.signer.write() = None;
        let retired = self.retire_expired().await?;
        tracing::info!(target: "baas_auth::keys", current = %next, retiring = %current, next = %new_next_kid, "rotated signing keys");
        Ok(RotationReport {
            current: next,
            retiring: current,
            next: new_next_kid,
            retired,
        })
    }

    /// Retire the keys whose verification window has closed, deleting their private half.
    pub async fn retire_expired(&self) -> Result<Vec<String>, AuthError> {
        let retired = self.store.retire_expired(self.clock.now()).await?;
        if !retired.is_empty() {
            tracing::info!(target: "baas_auth::keys", count = retired.len(), "retired signing keys");
        }
        Ok(retired)
    }

    /// The JWKS: the next and current keys and every retiring key still in its window.
    pub async fn jwks(&self) -> Result<Jwks, AuthError> {
        let now = self.clock.now();
        let keys = self.store.list().await?;
        Ok(Jwks {
            keys: keys
                .iter()
                .filter(|k| k.verifies_at(now))
                .filter_map(Jwk::from_stored)
                .collect(),
        })
    }

    /// The current signing key, opened. Cached for [`TokenConfig::key_refresh`].
    pub async fn signer(&self) -> Result<Arc<Signer>, AuthError> {
        let now = self.clock.monotonic();
        if let Some((signer, loaded)) = &*self.signer.read()
            && now.saturating_duration_since(*loaded) < self.config.key_refresh
        {
            return Ok(Arc::clone(signer));
        }
        let keys = self.store.list().await?;
        let current = keys
            .into_iter()
            .find(|k| k.state == KeyState::Current)
            .ok_or(AuthError::NoSigningKey)?;
        let sealed = current
            .sealed_private
            .as_deref()
            .ok_or(AuthError::NoSigningKey)?;
        let pkcs8 = Zeroizing::new(
            self.master
                .open(sealed, current.kid.as_bytes())
                .map_err(AuthError::internal)?,
        );
        let signer = Arc::new(Signer {
            key: encoding_key(current.algorithm, &pkcs8),
            kid: current.kid,
            algorithm: current.algorithm,
        });
        *self.signer.write() = Some((Arc::clone(&signer), now));
        Ok(signer)
    }
}
