//! [`BlobCache`]: the bytes of small objects kept in memory, by version.
//!
//! Every put writes a new version at a path of its own and no version's bytes ever
//! change, so an entry can never go stale: not after a replace, not after a delete, not
//! when another process of the installation wrote the object. The ledger decides which
//! version a key reads; the cache only spares the object store the read. A version a
//! put replaced or a delete removed is dropped from the cache with its bytes, and
//! whatever is not read for a while is evicted (S3-FIFO, by bytes held).

use bytes::Bytes;
use object_store::path::Path;
use quick_cache::Weighter;
use quick_cache::sync::Cache;

/// The largest object the cache keeps: 64 KiB. Bigger objects stream from the store.
pub const MAX_CACHED_OBJECT_BYTES: u64 = 64 << 10;

/// An entry weighs its bytes plus its path, and at least one.
#[derive(Debug, Clone, Copy, Default)]
struct ByteWeight;

impl Weighter<Path, Bytes> for ByteWeight {
    fn weight(&self, path: &Path, bytes: &Bytes) -> u64 {
        (bytes.len() + path.as_ref().len()).max(1) as u64
    }
}

/// Small objects' bytes by version path, up to a number of bytes in total.
pub(crate) struct BlobCache {
    entries: Cache<Path, Bytes, ByteWeight>,
    capacity: u64,
}

impl BlobCache {
    /// A cache holding at most `capacity` bytes.
    pub(crate) fn new(capacity: u64) -> Self {
        // quick_cache sizes its tables from an estimate of the number of entries.
        let estimated = (capacity / (4 << 10)).clamp(16, 1 << 20) as usize;
        BlobCache {
            entries: Cache::with_weighter(estimated, capacity, ByteWeight),
            capacity,
        }
    }

    /// Whether an object of `size` bytes is kept.
    pub(crate) fn keeps(&self, size: u64) -> bool {
        (1..=MAX_CACHED_OBJECT_BYTES).contains(&size) && size <= self.capacity
    }

    /// The bytes of the version at `path`, if held.
    pub(crate) fn get(&self, path: &Path) -> Option<Bytes> {
        let found = self.entries.get(path);
        crate::telemetry::blob_cache(found.is_some());
        found
    }

    /// Keep `bytes`, the whole of the version at `path`.
    pub(crate) fn insert(&self, path: Path, bytes: Bytes) {
        self.entries.insert(path, bytes);
    }

    /// Forget the version at `path` (its object was replaced or deleted).
    pub(crate) fn remove(&self, path: &Path) {
        self.entries.remove(path);
    }

    /// Bytes held now.
    #[cfg(test)]
    pub(crate) fn weight(&self) -> u64 {
        self.entries.weight()
    }
}

impl std::fmt::Debug for BlobCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobCache")
            .field("capacity", &self.capacity)
            .field("entries", &self.entries.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_small_objects_only_and_stays_within_its_capacity() {
        let cache = BlobCache::new(64 << 10);
        assert!(!cache.keeps(0), "an empty object is not worth an entry");
        assert!(cache.keeps(4 << 10));
        assert!(cache.keeps(MAX_CACHED_OBJECT_BYTES));
        assert!(!cache.keeps(MAX_CACHED_OBJECT_BYTES + 1));
        assert!(
            !BlobCache::new(1024).keeps(4096),
            "larger than the whole cache"
        );

        for i in 0..64 {
            cache.insert(
                Path::from(format!("tenants/t/blobs/00/{i}")),
                Bytes::from(vec![i as u8; 4 << 10]),
            );
        }
        assert!(cache.weight() <= 64 << 10, "held {}", cache.weight());
    }

    #[test]
    fn gives_back_what_it_holds_until_removed() {
        let cache = BlobCache::new(1 << 20);
        let path = Path::from("tenants/t/blobs/00/v1");
        assert_eq!(cache.get(&path), None);
        cache.insert(path.clone(), Bytes::from_static(b"hello"));
        assert_eq!(cache.get(&path), Some(Bytes::from_static(b"hello")));
        cache.remove(&path);
        assert_eq!(cache.get(&path), None);
    }
}
