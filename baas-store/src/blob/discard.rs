//! Deleting the bytes of replaced versions off the request path.
//!
//! Once a replacing put has committed, the version it replaced belongs to no one: the
//! ledger no longer names it, so no read can reach it through the store. Deleting its
//! bytes is clean-up the caller need not wait for — on S3 it is one more round trip,
//! as long as the upload itself. So the store hands it to a background task, tracked
//! here so that a process can wait for the clean-up before it exits
//! ([`ObjectBlobStore::wait_for_discards`](super::ObjectBlobStore::wait_for_discards)),
//! and bounded: past [`MAX_BACKGROUND`] deletions in flight, a put deletes inline
//! (back-pressure instead of an unbounded backlog).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use baas_core::TenantId;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt as _};
use tokio::sync::Notify;
use tracing::Instrument as _;

/// Background deletions in flight past which a put deletes inline.
pub(crate) const MAX_BACKGROUND: usize = 256;

/// Delete `path`; absent is fine, a failure is logged (it leaves unreferenced bytes,
/// never a dangling ledger entry).
pub(crate) async fn delete_quietly(store: &dyn ObjectStore, tenant: &TenantId, path: &Path) {
    match store.delete(path).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
        Err(err) => {
            tracing::warn!(tenant = %tenant, error = %err, "could not delete the bytes of a replaced, deleted or uncommitted object");
        }
    }
}

/// The background deletions of one store.
#[derive(Debug, Default)]
pub(crate) struct Discards {
    running: AtomicUsize,
    idle: Notify,
}

/// Counts one deletion in flight until dropped (also when its task is dropped unrun
/// at runtime shutdown).
struct Running(Arc<Discards>);

impl Drop for Running {
    fn drop(&mut self) {
        if self.0.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Discards {
    /// Delete `path` in the background, or inline when outside a runtime or when too
    /// many deletions are already in flight.
    pub(crate) async fn discard(
        self: &Arc<Self>,
        store: &Arc<dyn ObjectStore>,
        tenant: &TenantId,
        path: Path,
    ) {
        let handle = match tokio::runtime::Handle::try_current() {
            Ok(handle) if self.running.load(Ordering::Acquire) < MAX_BACKGROUND => handle,
            _ => return delete_quietly(store.as_ref(), tenant, &path).await,
        };
        self.running.fetch_add(1, Ordering::AcqRel);
        let running = Running(self.clone());
        let (store, tenant) = (store.clone(), tenant.clone());
        handle.spawn(
            async move {
                let _running = running;
                delete_quietly(store.as_ref(), &tenant, &path).await;
            }
            .in_current_span(),
        );
    }

    /// Wait until no deletion is in flight.
    pub(crate) async fn wait(&self) {
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.running.load(Ordering::Acquire) == 0 {
                return;
            }
            idle.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    #[tokio::test]
    async fn deletes_in_the_background_and_waits() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let tenant = TenantId::new("acme").unwrap();
        let discards = Arc::new(Discards::default());
        for i in 0..10 {
            let path = Path::from(format!("p/{i}"));
            store.put(&path, "x".into()).await.unwrap();
            discards.discard(&store, &tenant, path).await;
        }
        discards.wait().await;
        assert_eq!(discards.running.load(Ordering::Acquire), 0);
        for i in 0..10 {
            let err = store.head(&Path::from(format!("p/{i}"))).await.unwrap_err();
            assert!(matches!(err, object_store::Error::NotFound { .. }), "{err}");
        }
        // Nothing in flight: returns at once; a missing path is not an error.
        discards.wait().await;
        discards
            .discard(&store, &tenant, Path::from("p/missing"))
            .await;
        discards.wait().await;
    }

    #[test]
    fn deletes_inline_outside_a_runtime() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let tenant = TenantId::new("acme").unwrap();
        let discards = Arc::new(Discards::default());
        let path = Path::from("p/x");
        futures::executor::block_on(async {
            store.put(&path, "x".into()).await.unwrap();
            discards.discard(&store, &tenant, path.clone()).await;
            assert!(store.head(&path).await.is_err(), "deleted before returning");
        });
    }
}
