//! [`LoginThrottle`]: brute-force protection for password logins.
//!
//! Two counters, both keyed by what the attacker types (tenant and normalised email),
//! whether or not the account exists, so the throttle reveals nothing about which
//! accounts exist:
//!
//! * per account **and client IP**: the first [`ThrottleConfig::free_failures`] failures
//!   cost nothing; each further one doubles a lockout starting at
//!   [`ThrottleConfig::base_lockout`], capped at [`ThrottleConfig::max_lockout`]. A
//!   success from that IP clears it. An attacker locks out only their own address.
//! * per **account**, across all addresses: at most
//!   [`ThrottleConfig::account_failures_per_window`] failures per
//!   [`ThrottleConfig::window`] (OWASP ASVS 2.2.1: at most 100 an hour). Past it, logins
//!   are refused until the window rolls over. Refused attempts are not counted and a
//!   window never stretches, so the lock is temporary by construction: nobody can lock a
//!   victim out for good. A success does **not** reset this window (ASVS counts
//!   failures, and a success from one address must not wipe what an attacker at others
//!   has spent).
//!
//! ## Where the state lives
//!
//! The account windows live in a
//! [`LoginFailureStore`](crate::login_failures::LoginFailureStore). The
//! [`IdentityService`](super::IdentityService) uses the one in its
//! [`Stores`](super::Stores): with [`Stores::sql`](super::Stores::sql) that is the
//! database, so every process of an installation spends **one** budget per account.
//! [`LoginThrottle::new`] keeps them in memory (one budget per process).
//!
//! The per-(account, IP) lockouts stay in process memory, on purpose: they only ever lock
//! the attacker's own address, so sharing them would buy little — on another process the
//! address gets its free failures again, each of them still spent from the shared account
//! budget — and would cost a write on every success. They are bounded by
//! [`ThrottleConfig::max_entries`]: stale entries are swept as new ones arrive.
//!
//! ## Cost per login
//!
//! [`check`](LoginThrottle::check) is a map lookup and, unless the address is already
//! locked, one read of the store; [`failed`](LoginThrottle::failed) one atomic upsert;
//! a success costs no write. The identity service also reads the account window once
//! more after a correct password ([`account_locked`](LoginThrottle::account_locked)):
//! logins that passed `check` together and then queued for the password hasher could
//! otherwise have their guesses answered past the budget. With it, once the budget is
//! spent even a right guess is refused, so an attacker learns the outcome of at most
//! the budget plus the guesses being hashed at that moment.
//!
//! ## Retention
//!
//! A window is reset by the account's next failure once it has passed; windows of
//! accounts that are not tried again stay in the store until
//! [`sweep`](LoginThrottle::sweep) deletes them (DESIGN.md rule 11). Run it
//! periodically (every few minutes) on one process or all — it is idempotent.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use baas_core::{SharedClock, TenantId};
use parking_lot::Mutex;

use crate::error::AuthError;
use crate::login_failures::{AccountDigest, DynLoginFailureStore, MemoryLoginFailureStore};

/// The throttle's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Failures per account and IP before lockouts start. Default 5.
    pub free_failures: u32,
    /// The first lockout. Default 1 s; it doubles with every further failure.
    pub base_lockout: Duration,
    /// The longest lockout. Default 15 minutes.
    pub max_lockout: Duration,
    /// Failures per account, all addresses together, per window. Default 100.
    pub account_failures_per_window: u32,
    /// The account-wide window. Default 1 hour.
    pub window: Duration,
    /// How many (account, IP) entries the throttle keeps in process before sweeping
    /// stale ones; also the bound of the memory store [`LoginThrottle::new`] makes.
    /// Default 100 000.
    pub max_entries: usize,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            free_failures: 5,
            base_lockout: Duration::from_secs(1),
            max_lockout: Duration::from_secs(15 * 60),
            account_failures_per_window: 100,
            window: Duration::from_secs(60 * 60),
            max_entries: 100_000,
        }
    }
}

type PairKey = (TenantId, AccountDigest, Option<IpAddr>);

#[derive(Debug, Clone, Copy)]
struct PairState {
    failures: u32,
    locked_until: SystemTime,
    last: SystemTime,
}

/// Counts failed logins and says when an account (from an address) is locked; the
/// limits are in [`ThrottleConfig`], the account windows in a
/// [`LoginFailureStore`](crate::login_failures::LoginFailureStore).
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::time::Duration;
/// use baas_auth::service::{LoginThrottle, ThrottleConfig};
/// use baas_core::{ManualClock, TenantId};
///
/// let clock = ManualClock::new();
/// let throttle = LoginThrottle::new(ThrottleConfig::default(), clock.shared());
/// let acme = TenantId::new("acme")?;
/// let ip = Some("203.0.113.9".parse()?);
/// for _ in 0..6 {
///     assert!(throttle.check(&acme, "a@example.com", ip).await?.is_none());
///     throttle.failed(&acme, "a@example.com", ip).await?;
/// }
/// // The sixth failure locked this address out for a second; others are unaffected.
/// assert_eq!(throttle.check(&acme, "a@example.com", ip).await?, Some(Duration::from_secs(1)));
/// assert!(throttle.check(&acme, "a@example.com", Some("198.51.100.1".parse()?)).await?.is_none());
/// clock.advance(Duration::from_secs(1));
/// assert!(throttle.check(&acme, "a@example.com", ip).await?.is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct LoginThrottle {
    config: ThrottleConfig,
    clock: SharedClock,
    pairs: Mutex<HashMap<PairKey, PairState>>,
    accounts: Arc<DynLoginFailureStore>,
}

impl LoginThrottle {
    /// A throttle with `config`, reading `clock`, keeping the account windows in memory
    /// (so each process has its own budget).
    pub fn new(config: ThrottleConfig, clock: SharedClock) -> Self {
        let accounts = Arc::new(MemoryLoginFailureStore::with_max_entries(
            clock.clone(),
            config.max_entries,
        ));
        Self::with_store(config, clock, accounts)
    }

    /// A throttle keeping the account windows in `accounts` — an
    /// [`SqlLoginFailureStore`](crate::sql::SqlLoginFailureStore) makes the account
    /// budget hold across every process on the database.
    pub fn with_store(
        config: ThrottleConfig,
        clock: SharedClock,
        accounts: Arc<DynLoginFailureStore>,
    ) -> Self {
        LoginThrottle {
            config,
            clock,
            pairs: Mutex::default(),
            accounts,
        }
    }

    /// The settings.
    pub fn config(&self) -> &ThrottleConfig {
        &self.config
    }

    /// The store of account windows.
    pub fn store(&self) -> &Arc<DynLoginFailureStore> {
        &self.accounts
    }

    fn pair(tenant: &TenantId, email: &str, ip: Option<IpAddr>) -> PairKey {
        (tenant.clone(), AccountDigest::of(email), ip)
    }

    /// `None` when a login for `email` (normalised) of `tenant` from `ip` may be tried
    /// now; else how long until it may. An address locked out in this process is
    /// answered without asking the store.
    pub async fn check(
        &self,
        tenant: &TenantId,
        email: &str,
        ip: Option<IpAddr>,
    ) -> Result<Option<Duration>, AuthError> {
        let now = self.clock.now();
        let key = Self::pair(tenant, email, ip);
        let pair_wait = self
            .pairs
            .lock()
            .get(&key)
            .and_then(|p| p.locked_until.duration_since(now).ok())
            .filter(|wait| !wait.is_zero());
        if pair_wait.is_some() {
            return Ok(pair_wait);
        }
        self.account_wait(tenant, &key.1).await
    }

    /// `None` unless the account-wide budget of `email` (normalised) in `tenant` is spent
    /// now, whatever the address; else how long until its window ends.
    pub async fn account_locked(
        &self,
        tenant: &TenantId,
        email: &str,
    ) -> Result<Option<Duration>, AuthError> {
        self.account_wait(tenant, &AccountDigest::of(email)).await
    }

    async fn account_wait(
        &self,
        tenant: &TenantId,
        account: &AccountDigest,
    ) -> Result<Option<Duration>, AuthError> {
        let window = self.config.window;
        let Some(current) = self.accounts.current(tenant, account, window).await? else {
            return Ok(None);
        };
        if current.failures < self.config.account_failures_per_window {
            return Ok(None);
        }
        let wait = current
            .ends_at(window)
            .duration_since(self.clock.now())
            .unwrap_or_default();
        Ok((!wait.is_zero()).then_some(wait))
    }

    /// Record a failed login: one more failure in the account's window (the store) and
    /// for this address (in process). The in-process part is recorded even when the
    /// store fails.
    pub async fn failed(
        &self,
        tenant: &TenantId,
        email: &str,
        ip: Option<IpAddr>,
    ) -> Result<(), AuthError> {
        let key = Self::pair(tenant, email, ip);
        self.failed_from(&key);
        let spent = self
            .accounts
            .record_failure(tenant, &key.1, self.config.window)
            .await?;
        if spent.failures == self.config.account_failures_per_window {
            tracing::warn!(target: "baas_auth::login", tenant = %tenant, account = ?key.1, "account-wide login budget spent: logins refused until the window ends");
        }
        Ok(())
    }

    fn failed_from(&self, key: &PairKey) {
        let now = self.clock.now();
        let mut pairs = self.pairs.lock();
        if pairs.len() >= self.config.max_entries {
            self.sweep_pairs(&mut pairs, now);
        }
        let p = pairs.entry(key.clone()).or_insert(PairState {
            failures: 0,
            locked_until: now,
            last: now,
        });
        p.failures = p.failures.saturating_add(1);
        p.last = now;
        if p.failures > self.config.free_failures {
            let doublings = (p.failures - self.config.free_failures - 1).min(30);
            let lockout = self
                .config
                .base_lockout
                .saturating_mul(1u32 << doublings)
                .min(self.config.max_lockout);
            p.locked_until = now + lockout;
        }
    }

    /// Record a successful login: the account's counter for this address starts over.
    /// The account-wide window is left as it is, and nothing is written to the store.
    pub fn succeeded(&self, tenant: &TenantId, email: &str, ip: Option<IpAddr>) {
        self.pairs.lock().remove(&Self::pair(tenant, email, ip));
    }

    /// Delete account windows that have passed from the store (every tenant) and stale
    /// address entries from this process. Returns how many windows the store deleted.
    pub async fn sweep(&self) -> Result<u64, AuthError> {
        {
            let now = self.clock.now();
            let mut pairs = self.pairs.lock();
            self.sweep_pairs(&mut pairs, now);
        }
        self.accounts.sweep(self.config.window).await
    }

    fn sweep_pairs(&self, pairs: &mut HashMap<PairKey, PairState>, now: SystemTime) {
        let keep = self.config.window.max(self.config.max_lockout);
        pairs.retain(|_, p| p.locked_until > now || p.last + keep > now);
        if pairs.len() >= self.config.max_entries {
            // Everything is fresh: start over rather than grow without bound. These
            // entries only lock attackers' own addresses; the account budget is kept.
            pairs.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baas_core::ManualClock;

    fn acme() -> TenantId {
        TenantId::new("acme").unwrap()
    }

    #[tokio::test]
    async fn lockouts_double_and_are_capped() {
        let clock = ManualClock::new();
        let config = ThrottleConfig {
            max_lockout: Duration::from_secs(8),
            ..ThrottleConfig::default()
        };
        let t = LoginThrottle::new(config, clock.shared());
        let ip = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..5 {
            t.failed(&acme(), "a@x.io", ip).await.unwrap();
            assert_eq!(t.check(&acme(), "a@x.io", ip).await.unwrap(), None);
        }
        for expected in [1, 2, 4, 8, 8] {
            t.failed(&acme(), "a@x.io", ip).await.unwrap();
            assert_eq!(
                t.check(&acme(), "a@x.io", ip).await.unwrap(),
                Some(Duration::from_secs(expected))
            );
            clock.advance(Duration::from_secs(expected));
            assert_eq!(t.check(&acme(), "a@x.io", ip).await.unwrap(), None);
        }
        // Another tenant's account of the same email is untouched; success clears.
        let b = TenantId::new("b").unwrap();
        assert_eq!(t.check(&b, "a@x.io", ip).await.unwrap(), None);
        t.failed(&acme(), "a@x.io", ip).await.unwrap();
        assert!(t.check(&acme(), "a@x.io", ip).await.unwrap().is_some());
        t.succeeded(&acme(), "a@x.io", ip);
        assert_eq!(t.check(&acme(), "a@x.io", ip).await.unwrap(), None);
    }

    #[tokio::test]
    async fn account_budget_is_per_window_and_temporary() {
        let clock = ManualClock::new();
        let t = LoginThrottle::new(ThrottleConfig::default(), clock.shared());
        // 100 failures from 100 addresses (each under its own threshold).
        for n in 0..100u8 {
            let ip = Some(IpAddr::from([10, 0, 1, n]));
            assert_eq!(t.check(&acme(), "v@x.io", ip).await.unwrap(), None);
            t.failed(&acme(), "v@x.io", ip).await.unwrap();
        }
        let victim = Some(IpAddr::from([192, 0, 2, 1]));
        let wait = t.check(&acme(), "v@x.io", victim).await.unwrap();
        assert_eq!(wait, Some(Duration::from_secs(3600)));
        assert_eq!(
            t.account_locked(&acme(), "v@x.io").await.unwrap(),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(t.check(&acme(), "w@x.io", victim).await.unwrap(), None);
        // A success from the victim's address does not reset the account window.
        t.succeeded(&acme(), "v@x.io", victim);
        assert!(t.check(&acme(), "v@x.io", victim).await.unwrap().is_some());
        clock.advance(Duration::from_secs(3600));
        assert_eq!(t.check(&acme(), "v@x.io", victim).await.unwrap(), None);
    }

    #[tokio::test]
    async fn address_entries_stay_bounded_and_sweep_empties_the_store() {
        let clock = ManualClock::new();
        let config = ThrottleConfig {
            max_entries: 50,
            ..ThrottleConfig::default()
        };
        let t = LoginThrottle::new(config, clock.shared());
        for n in 0..1000u32 {
            t.failed(&acme(), &format!("u{n}@x.io"), None)
                .await
                .unwrap();
            assert!(t.pairs.lock().len() <= 50);
        }
        assert_eq!(t.sweep().await.unwrap(), 0, "every window still runs");
        clock.advance(Duration::from_secs(3600));
        assert!(t.sweep().await.unwrap() > 0);
        assert!(t.pairs.lock().is_empty());
        assert_eq!(t.sweep().await.unwrap(), 0);
    }
}
