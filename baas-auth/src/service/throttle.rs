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
//!   are refused until the window rolls over — temporary by construction, so nobody can
//!   lock a victim out for good.
//!
//! The state is per process (a multi-process installation multiplies the budget by its
//! process count, which still bounds guessing) and bounded: entries whose window and
//! lockout have passed are swept as new ones arrive.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use baas_core::{SharedClock, TenantId};
use parking_lot::Mutex;

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
    /// How many entries the throttle keeps before sweeping stale ones. Default 100 000.
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

type Account = (TenantId, String);

#[derive(Debug, Clone, Copy)]
struct PairState {
    failures: u32,
    locked_until: SystemTime,
    last: SystemTime,
}

#[derive(Debug, Clone, Copy)]
struct AccountState {
    window_start: SystemTime,
    failures: u32,
}

#[derive(Debug, Default)]
struct State {
    pairs: HashMap<(Account, Option<IpAddr>), PairState>,
    accounts: HashMap<Account, AccountState>,
}

/// Counts failed logins and says when an account (from an address) is locked; the
/// limits are in [`ThrottleConfig`].
///
/// ```
/// use std::time::Duration;
/// use baas_auth::service::{LoginThrottle, ThrottleConfig};
/// use baas_core::{ManualClock, TenantId};
///
/// let clock = ManualClock::new();
/// let throttle = LoginThrottle::new(ThrottleConfig::default(), clock.shared());
/// let acme = TenantId::new("acme").unwrap();
/// let ip = Some("203.0.113.9".parse().unwrap());
/// for _ in 0..6 {
///     assert!(throttle.check(&acme, "a@example.com", ip).is_none());
///     throttle.failed(&acme, "a@example.com", ip);
/// }
/// // The sixth failure locked this address out for a second; others are unaffected.
/// assert_eq!(throttle.check(&acme, "a@example.com", ip), Some(Duration::from_secs(1)));
/// assert!(throttle.check(&acme, "a@example.com", Some("198.51.100.1".parse().unwrap())).is_none());
/// clock.advance(Duration::from_secs(1));
/// assert!(throttle.check(&acme, "a@example.com", ip).is_none());
/// ```
#[derive(Debug)]
pub struct LoginThrottle {
    config: ThrottleConfig,
    clock: SharedClock,
    state: Mutex<State>,
}

impl LoginThrottle {
    /// A throttle with `config`, reading `clock`.
    pub fn new(config: ThrottleConfig, clock: SharedClock) -> Self {
        LoginThrottle {
            config,
            clock,
            state: Mutex::new(State::default()),
        }
    }

    fn account(tenant: &TenantId, email: &str) -> Account {
        (tenant.clone(), email.to_owned())
    }

    /// `None` when a login for `email` of `tenant` from `ip` may be tried now; else how
    /// long until it may.
    pub fn check(&self, tenant: &TenantId, email: &str, ip: Option<IpAddr>) -> Option<Duration> {
        let now = self.clock.now();
        let account = Self::account(tenant, email);
        let state = self.state.lock();
        let mut wait = Duration::ZERO;
        if let Some(a) = state.accounts.get(&account) {
            let ends = a.window_start + self.config.window;
            if a.failures >= self.config.account_failures_per_window && ends > now {
                wait = wait.max(ends.duration_since(now).unwrap_or_default());
            }
        }
        if let Some(p) = state.pairs.get(&(account, ip))
            && p.locked_until > now
        {
            wait = wait.max(p.locked_until.duration_since(now).unwrap_or_default());
        }
        (!wait.is_zero()).then_some(wait)
    }

    /// Record a failed login.
    pub fn failed(&self, tenant: &TenantId, email: &str, ip: Option<IpAddr>) {
        let now = self.clock.now();
        let account = Self::account(tenant, email);
        let mut state = self.state.lock();
        if state.pairs.len() + state.accounts.len() >= self.config.max_entries {
            self.sweep(&mut state, now);
        }
        let a = state
            .accounts
            .entry(account.clone())
            .or_insert(AccountState {
                window_start: now,
                failures: 0,
            });
        if a.window_start + self.config.window <= now {
            *a = AccountState {
                window_start: now,
                failures: 0,
            };
        }
        a.failures = a.failures.saturating_add(1);
        let p = state.pairs.entry((account, ip)).or_insert(PairState {
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
    pub fn succeeded(&self, tenant: &TenantId, email: &str, ip: Option<IpAddr>) {
        let account = Self::account(tenant, email);
        self.state.lock().pairs.remove(&(account, ip));
    }

    fn sweep(&self, state: &mut State, now: SystemTime) {
        let window = self.config.window;
        let max_lockout = self.config.max_lockout;
        state.accounts.retain(|_, a| a.window_start + window > now);
        state
            .pairs
            .retain(|_, p| p.locked_until > now || p.last + window.max(max_lockout) > now);
        if state.pairs.len() + state.accounts.len() >= self.config.max_entries {
            // Everything is fresh: start over rather than grow without bound.
            state.pairs.clear();
            state.accounts.clear();
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

    #[test]
    fn lockouts_double_and_are_capped() {
        let clock = ManualClock::new();
        let config = ThrottleConfig {
            max_lockout: Duration::from_secs(8),
            ..ThrottleConfig::default()
        };
        let t = LoginThrottle::new(config, clock.shared());
        let ip = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..5 {
            t.failed(&acme(), "a@x.io", ip);
            assert_eq!(t.check(&acme(), "a@x.io", ip), None);
        }
        for expected in [1, 2, 4, 8, 8] {
            t.failed(&acme(), "a@x.io", ip);
            assert_eq!(
                t.check(&acme(), "a@x.io", ip),
                Some(Duration::from_secs(expected))
            );
            clock.advance(Duration::from_secs(expected));
            assert_eq!(t.check(&acme(), "a@x.io", ip), None);
        }
        // Another tenant's account of the same email is untouched; success clears.
        assert_eq!(t.check(&TenantId::new("b").unwrap(), "a@x.io", ip), None);
        t.failed(&acme(), "a@x.io", ip);
        assert!(t.check(&acme(), "a@x.io", ip).is_some());
        t.succeeded(&acme(), "a@x.io", ip);
        assert_eq!(t.check(&acme(), "a@x.io", ip), None);
    }

    #[test]
    fn account_budget_is_per_window_and_temporary() {
        let clock = ManualClock::new();
        let t = LoginThrottle::new(ThrottleConfig::default(), clock.shared());
        // 100 failures from 100 addresses (each under its own threshold).
        for n in 0..100u8 {
            t.failed(&acme(), "v@x.io", Some(IpAddr::from([10, 0, 1, n])));
        }
        let victim = Some(IpAddr::from([192, 0, 2, 1]));
        let wait = t.check(&acme(), "v@x.io", victim).expect("locked");
        assert!(wait <= Duration::from_secs(3600));
        assert_eq!(t.check(&acme(), "w@x.io", victim), None);
        clock.advance(Duration::from_secs(3600));
        assert_eq!(t.check(&acme(), "v@x.io", victim), None);
    }

    #[test]
    fn stays_bounded() {
        let clock = ManualClock::new();
        let config = ThrottleConfig {
            max_entries: 50,
            ..ThrottleConfig::default()
        };
        let t = LoginThrottle::new(config, clock.shared());
        for n in 0..1000u32 {
            t.failed(&acme(), &format!("u{n}@x.io"), None);
            let s = t.state.lock();
            assert!(s.pairs.len() + s.accounts.len() <= 52);
        }
    }
}
