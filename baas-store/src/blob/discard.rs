//! Deleting the bytes of replaced versions off the request path, in batches.
//!
//! Once a replacing put has committed, the version it replaced belongs to no one: the
//! ledger no longer names it, so no read can reach it through the store. Deleting its
//! bytes is clean-up the caller need not wait for — on S3 it is one more round trip,
//! costlier to the server than the upload itself. So the store queues it for one
//! background task per store, which gathers what is queued for up to [`LINGER`] (or
//! [`MAX_BATCH`] paths) and deletes the lot through
//! [`ObjectStore::delete_stream`] — on S3 one bulk `DeleteObjects` request for the whole
//! batch. A process waits for the queue to drain before it exits
//! ([`ObjectBlobStore::wait_for_discards`](super::ObjectBlobStore::wait_for_discards),
//! which also cuts the linger short), and the queue is bounded: past
//! [`MAX_BACKGROUND`] paths waiting, a put deletes inline (back-pressure instead of an
//! unbounded backlog).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use baas_core::TenantId;
use futures::StreamExt as _;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt as _};
use parking_lot::Mutex;
use tokio::sync::{Notify, mpsc};
use tracing::Instrument as _;

/// Paths waiting for deletion past which a put deletes inline.
pub(crate) const MAX_BACKGROUND: usize = 4096;

/// Most paths deleted by one request (S3's `DeleteObjects` limit).
pub(crate) const MAX_BATCH: usize = 1000;

/// How long the background task gathers paths before it deletes them.
pub(crate) const LINGER: Duration = Duration::from_millis(25);

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
    shared: Arc<Shared>,
    /// The queue of the background task, once one runs.
    queue: Mutex<Option<mpsc::UnboundedSender<Queued>>>,
}

/// What the queued paths and the background task share (never the queue itself, so
/// that dropping the store ends the task).
#[derive(Debug, Default)]
struct Shared {
    waiting: AtomicUsize,
    idle: Notify,
    flush: Notify,
}

/// A path waiting for deletion; counted as waiting until dropped, also when the
/// background task is dropped unrun at runtime shutdown.
struct Queued {
    path: Path,
    _waiting: Waiting,
}

struct Waiting(Arc<Shared>);

impl Drop for Waiting {
    fn drop(&mut self) {
        if self.0.waiting.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Discards {
    /// Queue `path` for deletion in the background, or delete it inline when outside a
    /// runtime or when too many paths are already waiting.
    pub(crate) async fn discard(
        &self,
        store: &Arc<dyn ObjectStore>,
        tenant: &TenantId,
        path: Path,
    ) {
        let handle = match tokio::runtime::Handle::try_current() {
            Ok(handle) if self.shared.waiting.load(Ordering::Acquire) < MAX_BACKGROUND => handle,
            _ => return delete_quietly(store.as_ref(), tenant, &path).await,
        };
        self.shared.waiting.fetch_add(1, Ordering::AcqRel);
        let mut item = Queued {
            path,
            _waiting: Waiting(self.shared.clone()),
        };
        let mut queue = self.queue.lock();
        if let Some(sender) = queue.as_ref() {
            match sender.send(item) {
                Ok(()) => return,
                // The task's runtime has shut down: start another on this one.
                Err(mpsc::error::SendError(back)) => item = back,
            }
        }
        let (sender, receiver) = mpsc::unbounded_channel();
        // The task outlives this put and serves every tenant: its own span, not the
        // span of the request that happened to start it.
        let span = tracing::info_span!(parent: None, "blob.discards");
        handle.spawn(
            delete_in_batches(store.clone(), receiver, self.shared.clone()).instrument(span),
        );
        // A fresh channel whose receiver was just moved into a spawned task: it is open.
        let _ = sender.send(item);
        *queue = Some(sender);
    }

    /// Wait until no path is waiting for deletion, asking the background task not to
    /// linger.
    pub(crate) async fn wait(&self) {
        loop {
            let idle = self.shared.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.shared.waiting.load(Ordering::Acquire) == 0 {
                return;
            }
            self.shared.flush.notify_one();
            idle.await;
        }
    }
}

/// The background task: gather queued paths for up to [`LINGER`], delete them in one
/// call, until the store (and with it the queue's sender) is dropped.
async fn delete_in_batches(
    store: Arc<dyn ObjectStore>,
    mut queue: mpsc::UnboundedReceiver<Queued>,
    shared: Arc<Shared>,
) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        let linger = tokio::time::sleep(LINGER);
        tokio::pin!(linger);
        while batch.len() < MAX_BATCH {
            tokio::select! {
                biased;
                next = queue.recv() => match next {
                    Some(item) => batch.push(item),
                    None => break,
                },
                () = shared.flush.notified() => break,
                () = &mut linger => break,
            }
        }
        let paths: Vec<_> = batch.iter().map(|q| Ok(q.path.clone())).collect();
        let mut deleted = store.delete_stream(futures::stream::iter(paths).boxed());
        while let Some(result) = deleted.next().await {
            match result {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(err) => {
                    tracing::warn!(error = %err, "could not delete the bytes of a replaced object");
                }
            }
        }
        // Dropping the batch counts its paths done.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    async fn gone(store: &Arc<dyn ObjectStore>, path: &str) -> bool {
        matches!(
            store.head(&Path::from(path)).await,
            Err(object_store::Error::NotFound { .. })
        )
    }

    #[tokio::test]
    async fn deletes_in_the_background_and_waits() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let tenant = TenantId::new("acme").unwrap();
        let discards = Discards::default();
        for i in 0..10 {
            let path = Path::from(format!("p/{i}"));
            store.put(&path, "x".into()).await.unwrap();
            discards.discard(&store, &tenant, path).await;
        }
        discards.wait().await;
        assert_eq!(discards.shared.waiting.load(Ordering::Acquire), 0);
        for i in 0..10 {
            assert!(gone(&store, &format!("p/{i}")).await, "p/{i} is deleted");
        }
        // Nothing waiting: returns at once; a missing path is not an error.
        discards.wait().await;
        discards
            .discard(&store, &tenant, Path::from("p/missing"))
            .await;
        discards.wait().await;
        assert_eq!(discards.shared.waiting.load(Ordering::Acquire), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn deletes_after_the_linger_without_a_wait() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let tenant = TenantId::new("acme").unwrap();
        let discards = Discards::default();
        store.put(&Path::from("p/x"), "x".into()).await.unwrap();
        discards.discard(&store, &tenant, Path::from("p/x")).await;
        tokio::task::yield_now().await;
        assert!(!gone(&store, "p/x").await, "kept while the task lingers");
        tokio::time::sleep(LINGER * 2).await;
        assert!(gone(&store, "p/x").await, "deleted once the linger is over");
        assert_eq!(discards.shared.waiting.load(Ordering::Acquire), 0);
    }

    #[test]
    fn a_new_runtime_gets_a_new_task_and_a_dropped_one_counts_its_paths_done() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let tenant = TenantId::new("acme").unwrap();
        let discards = Discards::default();
        let first = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        first.block_on(async {
            store.put(&Path::from("p/a"), "x".into()).await.unwrap();
            discards.discard(&store, &tenant, Path::from("p/a")).await;
        });
        // The runtime goes with its task and the path it held: none is left waiting.
        drop(first);
        assert_eq!(discards.shared.waiting.load(Ordering::Acquire), 0);
        let second = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        second.block_on(async {
            store.put(&Path::from("p/b"), "x".into()).await.unwrap();
            discards.discard(&store, &tenant, Path::from("p/b")).await;
            discards.wait().await;
            assert!(
                gone(&store, "p/b").await,
                "deleted by the second runtime's task"
            );
        });
    }

    #[test]
    fn deletes_inline_outside_a_runtime() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let tenant = TenantId::new("acme").unwrap();
        let discards = Discards::default();
        let path = Path::from("p/x");
        futures::executor::block_on(async {
            store.put(&path, "x".into()).await.unwrap();
            discards.discard(&store, &tenant, path.clone()).await;
            assert!(store.head(&path).await.is_err(), "deleted before returning");
        });
    }
}
