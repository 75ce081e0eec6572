//! [`KeyRing`]: a verifier's cached view of the public keys, reloaded when stale or
//! when a token names an unknown `kid` (at most once per `min_reload_interval`).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use baas_core::SharedClock;
use jsonwebtoken::DecodingKey;
use parking_lot::{Mutex, RwLock};

use super::generate::decoding_key;
use super::model::{KeyState, SigningAlgorithm, verifies_at};
use super::store::DynKeyStore;
use crate::error::AuthError;
use crate::token::TokenConfig;

/// A public key a verifier may check signatures with.
pub struct VerifyingKey {
    pub(crate) kid: Arc<str>,
    pub(crate) algorithm: SigningAlgorithm,
    pub(crate) state: KeyState,
    pub(crate) retire_after: Option<SystemTime>,
    pub(crate) decoding: DecodingKey,
}

impl VerifyingKey {
    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The key's state when the ring was loaded.
    pub fn state(&self) -> KeyState {
        self.state
    }

    /// Whether this key may verify a token at `now`.
    pub fn verifies_at(&self, now: SystemTime) -> bool {
        verifies_at(self.state, self.retire_after, now)
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("state", &self.state)
            .field("retire_after", &self.retire_after)
            .finish()
    }
}

struct Snapshot {
    loaded_at: Option<Instant>,
    keys: HashMap<Arc<str>, Arc<VerifyingKey>>,
}

/// The verifier's view of the key store: public halves only, never from a token's
/// `jku`, `x5u` or `jwk` header.
pub struct KeyRing {
    store: Arc<DynKeyStore>,
    clock: SharedClock,
    config: TokenConfig,
    snapshot: RwLock<Arc<Snapshot>>,
    reload: tokio::sync::Mutex<()>,
    last_reload: Mutex<Option<Instant>>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("store", &self.store)
            .field("keys", &self.snapshot.read().keys.len())
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// A ring over `store`; it loads on first use.
    pub fn new(store: Arc<DynKeyStore>, clock: SharedClock, config: TokenConfig) -> Self {
        KeyRing {
            store,
            clock,
            config,
            snapshot: RwLock::new(Arc::new(Snapshot {
                loaded_at: None,
                keys: HashMap::new(),
            })),
            reload: tokio::sync::Mutex::new(()),
            last_reload: Mutex::new(None),
        }
    }

    /// The key `kid`: from the cached view while it is fresh; otherwise reloaded first.
    /// An unknown `kid` causes one reload, unless one happened within
    /// `min_reload_interval` (so garbage kids cannot hammer the store).
    pub async fn get(&self, kid: &str) -> Result<Option<Arc<VerifyingKey>>, AuthError> {
        let now = self.clock.monotonic();
        let snapshot = Arc::clone(&self.snapshot.read());
        let fresh = snapshot
            .loaded_at
            .is_some_and(|t| now.saturating_duration_since(t) < self.config.key_refresh);
        if fresh && let Some(key) = snapshot.keys.get(kid) {
            return Ok(Some(Arc::clone(key)));
        }
        match self.reload(!fresh).await {
            Ok(snapshot) => Ok(snapshot.keys.get(kid).cloned()),
            // The store is unreachable: a key we already knew keeps verifying (its state
            // as last seen still applies); an unknown one cannot be trusted.
            Err(err) => match snapshot.keys.get(kid) {
                Some(key) => {
                    tracing::warn!(target: "baas_auth::keys", error = %err, "key store unreachable; using the cached keys");
                    Ok(Some(Arc::clone(key)))
                }
                None => Err(err),
            },
        }
    }

    /// Read the store again now, unless `forced` is false and a reload happened within
    /// `min_reload_interval`. Returns the view in force afterwards.
    async fn reload(&self, forced: bool) -> Result<Arc<Snapshot>, AuthError> {
        let asked_at = self.clock.monotonic();
        let _one_at_a_time = self.reload.lock().await;
        let last = *self.last_reload.lock();
        if let Some(last) = last {
            // Someone reloaded while we waited for the lock: use theirs.
            if last >= asked_at {
                return Ok(Arc::clone(&self.snapshot.read()));
            }
            if !forced && asked_at.saturating_duration_since(last) < self.config.min_reload_interval
            {
                return Ok(Arc::clone(&self.snapshot.read()));
            }
        }
        let stored = self.store.list().await?;
        let keys = stored
            .into_iter()
            // Retired keys stay in the view so their tokens get a precise refusal.
            .map(|k| {
                let kid: Arc<str> = Arc::from(k.kid.as_str());
                let key = VerifyingKey {
                    kid: Arc::clone(&kid),
                    algorithm: k.algorithm,
                    state: k.state,
                    retire_after: k.retire_after,
                    decoding: decoding_key(k.algorithm, &k.public_key),
                };
                (kid, Arc::new(key))
            })
            .collect();
        let now = self.clock.monotonic();
        let snapshot = Arc::new(Snapshot {
            loaded_at: Some(now),
            keys,
        });
        *self.snapshot.write() = Arc::clone(&snapshot);
        *self.last_reload.lock() = Some(now);
        Ok(snapshot)
    }
}
