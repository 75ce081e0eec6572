//! [`MemoryLoginFailureStore`]: failure windows in process memory.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use baas_core::{SharedClock, TenantId};
use parking_lot::Mutex;

use super::store::{AccountDigest, FailureWindow, LoginFailureStore};
use crate::error::AuthError;

/// How many windows a [`MemoryLoginFailureStore`] keeps by default.
pub(crate) const DEFAULT_MAX_ENTRIES: usize = 100_000;

/// A [`LoginFailureStore`] in memory: for tests, development and single-process
/// installations (each process counts on its own). One mutex makes every operation
/// atomic.
///
/// Bounded: when a new account would exceed `max_entries`, windows that have passed are
/// dropped; if that frees nothing, the half with the fewest failures goes, so an account
/// under attack keeps its count while a flood of one-off addresses is forgotten.
#[derive(Debug)]
pub struct MemoryLoginFailureStore {
    clock: SharedClock,
    max_entries: usize,
    windows: Mutex<HashMap<(TenantId, AccountDigest), FailureWindow>>,
}

impl MemoryLoginFailureStore {
    /// An empty store reading time from `clock`, keeping at most 100 000 windows.
    pub fn new(clock: SharedClock) -> Self {
        Self::with_max_entries(clock, DEFAULT_MAX_ENTRIES)
    }

    /// An empty store keeping at most `max_entries` windows (at least one).
    pub fn with_max_entries(clock: SharedClock, max_entries: usize) -> Self {
        Self {
            clock,
            max_entries: max_entries.max(1),
            windows: Mutex::default(),
        }
    }

    /// How many windows are held (passed ones included until swept).
    pub fn len(&self) -> usize {
        self.windows.lock().len()
    }

    /// Whether no window is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn running(w: &FailureWindow, window: Duration, now: SystemTime) -> bool {
    w.ends_at(window) > now
}

fn make_room(
    windows: &mut HashMap<(TenantId, AccountDigest), FailureWindow>,
    max: usize,
    window: Duration,
    now: SystemTime,
) {
    windows.retain(|_, w| running(w, window, now));
    if windows.len() < max {
        return;
    }
    let mut counts: Vec<u32> = windows.values().map(|w| w.failures).collect();
    let mid = counts.len() / 2;
    let (_, median, _) = counts.select_nth_unstable(mid);
    let median = *median;
    windows.retain(|_, w| w.failures > median);
}

#[async_trait]
impl LoginFailureStore for MemoryLoginFailureStore {
    async fn record_failure(
        &self,
        tenant: &TenantId,
        account: &AccountDigest,
        window: Duration,
    ) -> Result<FailureWindow, AuthError> {
        let now = self.clock.now();
        let mut windows = self.windows.lock();
        let key = (tenant.clone(), *account);
        if !windows.contains_key(&key) && windows.len() >= self.max_entries {
            make_room(&mut windows, self.max_entries, window, now);
        }
        let fresh = FailureWindow {
            started_at: now,
            failures: 0,
        };
        let w = windows.entry(key).or_insert(fresh);
        if !running(w, window, now) {
            *w = fresh;
        }
        w.failures = w.failures.saturating_add(1);
        Ok(*w)
    }

    async fn current(
        &self,
        tenant: &TenantId,
        account: &AccountDigest,
        window: Duration,
    ) -> Result<Option<FailureWindow>, AuthError> {
        let now = self.clock.now();
        Ok(self
            .windows
            .lock()
            .get(&(tenant.clone(), *account))
            .filter(|w| running(w, window, now))
            .copied())
    }

    async fn sweep(&self, window: Duration) -> Result<u64, AuthError> {
        let now = self.clock.now();
        let mut windows = self.windows.lock();
        let before = windows.len();
        windows.retain(|_, w| running(w, window, now));
        Ok((before - windows.len()) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baas_core::ManualClock;

    #[tokio::test]
    async fn stays_bounded_and_keeps_the_account_under_attack() {
        let clock = ManualClock::new();
        let store = MemoryLoginFailureStore::with_max_entries(clock.shared(), 50);
        let acme = TenantId::new("acme").unwrap();
        let hour = Duration::from_secs(3600);
        let victim = AccountDigest::of("victim@x.io");
        for _ in 0..90 {
            store.record_failure(&acme, &victim, hour).await.unwrap();
        }
        for n in 0..1000u32 {
            let other = AccountDigest::of(&format!("u{n}@x.io"));
            store.record_failure(&acme, &other, hour).await.unwrap();
            assert!(store.len() <= 50);
        }
        assert_eq!(
            store
                .current(&acme, &victim, hour)
                .await
                .unwrap()
                .map(|w| w.failures),
            Some(90),
            "a flood of one-off addresses does not reset the attacked account"
        );
    }
}
