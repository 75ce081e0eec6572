//! A held claim that is released unless it was settled.

use std::sync::Arc;

use super::store::{ClaimToken, DynIdempotencyStore, IdempotencyScope};

/// The claim on `(scope, key)` the layer acquired. Settle it with [`release`](Self::release)
/// or [`disarm`](Self::disarm) (after `complete`); if it is dropped unsettled — the
/// response future was dropped, or a panic unwound through it — it releases the key from
/// a spawned task (best effort: without a tokio runtime the claim simply expires with
/// its lease).
///
/// Release and complete carry the claim's token, so a request whose lease ended (and
/// whose key another request retook) cannot settle that other request's claim.
pub(crate) struct ClaimGuard {
    store: Arc<DynIdempotencyStore>,
    scope: IdempotencyScope,
    key: String,
    token: ClaimToken,
    armed: bool,
}

impl ClaimGuard {
    pub(crate) fn new(
        store: Arc<DynIdempotencyStore>,
        scope: IdempotencyScope,
        key: String,
        token: ClaimToken,
    ) -> Self {
        ClaimGuard {
            store,
            scope,
            key,
            token,
            armed: true,
        }
    }

    pub(crate) fn token(&self) -> &ClaimToken {
        &self.token
    }

    pub(crate) fn scope(&self) -> &IdempotencyScope {
        &self.scope
    }

    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    pub(crate) fn store(&self) -> &DynIdempotencyStore {
        &*self.store
    }

    /// Give the key back now.
    pub(crate) async fn release(mut self) {
        self.armed = false;
        if let Err(err) = self
            .store
            .release(&self.scope, &self.key, &self.token)
            .await
        {
            tracing::warn!(error = ?err, "could not release an idempotency key; it expires with its lease");
        }
    }

    /// The claim is settled (its response stored, or left to expire).
    pub(crate) fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let store = self.store.clone();
        let scope = self.scope.clone();
        let key = std::mem::take(&mut self.key);
        let token = self.token;
        tracing::debug!("idempotent request abandoned; releasing its key");
        runtime.spawn(async move {
            if let Err(err) = store.release(&scope, &key, &token).await {
                tracing::warn!(error = ?err, "could not release an abandoned idempotency key; it expires with its lease");
            }
        });
    }
}
