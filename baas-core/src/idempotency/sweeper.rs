//! [`spawn_sweeper`]: removes expired idempotency records periodically.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::store::DynIdempotencyStore;

/// Spawn a task that calls [`IdempotencyStore::sweep`](super::IdempotencyStore::sweep)
/// now and then every `interval`, for as long as it runs (DESIGN.md rule 11). A failed
/// sweep is logged and retried at the next tick. Abort the returned handle to stop it
/// (at shutdown); dropping the handle leaves the task running.
///
/// Every process may run one: sweeping is idempotent. An interval of a few minutes
/// suits the 24 h default retention, since replay correctness never depends on sweeping
/// (expired records are ignored by `claim`); sweeping only bounds storage.
///
/// # Panics
///
/// If `interval` is zero, or when called outside a tokio runtime.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use baas_core::idempotency::{MemoryIdempotencyStore, spawn_sweeper};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let store = Arc::new(MemoryIdempotencyStore::new());
/// let sweeper = spawn_sweeper(store.clone(), Duration::from_secs(300));
/// // … serve …
/// sweeper.abort();
/// # });
/// ```
pub fn spawn_sweeper(store: Arc<DynIdempotencyStore>, interval: Duration) -> JoinHandle<()> {
    assert!(!interval.is_zero(), "sweeper interval must be positive");
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match store.sweep().await {
                Ok(removed) => {
                    tracing::debug!(removed, "swept expired idempotency records");
                }
                Err(err) => {
                    tracing::warn!(error = ?err, "idempotency sweep failed; retrying at the next tick");
                }
            }
        }
    })
}
