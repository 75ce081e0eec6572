//! [`spawn_sweeper`]: removes expired idempotency records periodically.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::store::DynIdempotencyStore;
use crate::housekeeping::Housekeeper;

/// Spawn a task that calls [`IdempotencyStore::sweep`](super::IdempotencyStore::sweep)
/// now and then every `interval`, for as long as it runs (DESIGN.md rule 11): a
/// [`Housekeeper`] with this one task. A failed
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
    Housekeeper::new(interval)
        .task("idempotency", move || {
            let store = store.clone();
            async move { store.sweep().await }
        })
        .spawn()
}
