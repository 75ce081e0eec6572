//! Bounded counters of good and bad events: a ring of fixed-width time buckets.

/// One bucket: the events of one time slot.
#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    /// The slot this bucket holds (seconds since the epoch / width); a bucket whose
    /// slot is not the expected one is stale and counts as empty.
    slot: u64,
    good: u64,
    bad: u64,
}

/// Good and bad counts over `len` buckets of `width_secs` each.
#[derive(Debug, Clone)]
pub(super) struct BucketRing {
    width_secs: u64,
    buckets: Box<[Bucket]>,
}

impl BucketRing {
    pub(super) fn new(width_secs: u64, len: usize) -> Self {
        assert!(width_secs > 0 && len > 0);
        BucketRing {
            width_secs,
            // Slot u64::MAX is never current, so every bucket starts stale.
            buckets: vec![
                Bucket {
                    slot: u64::MAX,
                    ..Bucket::default()
                };
                len
            ]
            .into_boxed_slice(),
        }
    }

    fn position(&self, slot: u64) -> usize {
        // The remainder is below `len`, a usize.
        (slot % self.buckets.len() as u64) as usize
    }

    pub(super) fn record(&mut self, unix_secs: u64, good: u64, bad: u64) {
        let slot = unix_secs / self.width_secs;
        let position = self.position(slot);
        let bucket = &mut self.buckets[position];
        if bucket.slot != slot {
            *bucket = Bucket {
                slot,
                good: 0,
                bad: 0,
            };
        }
        bucket.good += good;
        bucket.bad += bad;
    }

    /// `(good, bad)` over the last `n` buckets, the current (partial) one included.
    pub(super) fn sum(&self, unix_secs: u64, n: u64) -> (u64, u64) {
        let now = unix_secs / self.width_secs;
        let n = n.min(self.buckets.len() as u64);
        let mut totals = (0, 0);
        for slot in now.saturating_sub(n - 1)..=now {
            let bucket = &self.buckets[self.position(slot)];
            if bucket.slot == slot {
                totals.0 += bucket.good;
                totals.1 += bucket.bad;
            }
        }
        totals
    }

    /// How many buckets cover `secs` (rounded up).
    pub(super) fn buckets_for(&self, secs: u64) -> u64 {
        secs.div_ceil(self.width_secs).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_buckets_are_forgotten_and_stale_slots_ignored() {
        let mut ring = BucketRing::new(60, 5);
        ring.record(0, 1, 0);
        ring.record(59, 1, 1);
        ring.record(60, 0, 1);
        assert_eq!(ring.sum(60, 1), (0, 1));
        assert_eq!(ring.sum(60, 2), (2, 2));
        // Five minutes on, minute 0 has left a five-bucket window…
        assert_eq!(ring.sum(300, 5), (0, 1));
        // …and its slot is reused without counting the old events.
        ring.record(300, 7, 0);
        assert_eq!(ring.sum(300, 5), (7, 1));
        // Asking for more than the ring holds is capped at the ring.
        assert_eq!(ring.sum(300, 50), (7, 1));
        assert_eq!(ring.buckets_for(3600), 60);
        assert_eq!(ring.buckets_for(61), 2);
    }
}
