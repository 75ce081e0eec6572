//! The [`LoginFailureStore`] trait and its types.

use std::fmt;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use baas_core::TenantId;
use sha2::{Digest, Sha256};

use crate::error::AuthError;

/// An account as the throttle keys it: the SHA-256 of the normalised email (what the
/// client typed, after [`Email`](crate::Email) normalisation), whether or not such a user
/// exists. Stores keep these 32 bytes, never the address.
///
/// It hides the address from a casual reader of the table (and whatever else was typed
/// into the email field); it is not a secret against someone who guesses addresses and
/// hashes them — the users table holds the addresses anyway.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccountDigest([u8; 32]);

impl AccountDigest {
    /// The digest of `normalised_email`.
    pub fn of(normalised_email: &str) -> Self {
        Self(Sha256::digest(normalised_email.as_bytes()).into())
    }

    /// Wrap stored bytes; `None` unless exactly 32.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for AccountDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AccountDigest({:02x}{:02x}{:02x}{:02x}…)",
            self.0[0], self.0[1], self.0[2], self.0[3]
        )
    }
}

/// One account's current window of failed logins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureWindow {
    /// When the window started: the time of its first failure.
    pub started_at: SystemTime,
    /// Failures counted in it, the first included.
    pub failures: u32,
}

impl FailureWindow {
    /// When a window of length `window` ends; from then on it no longer counts.
    pub fn ends_at(&self, window: Duration) -> SystemTime {
        self.started_at + window
    }
}

/// Failed-login windows per tenant and account: the account-wide budget of
/// [`LoginThrottle`](crate::service::LoginThrottle). Backends read time from the clock
/// they were built with; `window` is the window length, passed on every call.
///
/// Guarantees every backend gives:
/// * A window that started at `s` counts while `now < s + window`; from `s + window` on
///   it is over: [`current`](Self::current) no longer returns it and the next failure
///   starts a new one.
/// * [`record_failure`](Self::record_failure) is one atomic step (one statement in SQL):
///   of any number of concurrent calls for one account, each counts exactly once and
///   each sees a distinct count, across every process sharing the store.
/// * Tenancy (DESIGN.md rule 1): the tenant is part of the key, so tenant A's failures
///   never count against the same address in tenant B.
/// * Nothing but a failure writes: there is no "success" call, so a login that succeeds
///   costs no write, and a success from one address does not reset the window an
///   attacker elsewhere is filling.
/// * [`sweep`](Self::sweep) is installation-wide housekeeping (DESIGN.md rule 11).
#[async_trait]
pub trait LoginFailureStore: Send + Sync + fmt::Debug + 'static {
    /// Count one failed login of `account` in `tenant` now: a new window with one failure
    /// if there is none or the stored one has passed, else one more in the stored
    /// window. Returns the window as it stands afterwards.
    async fn record_failure(
        &self,
        tenant: &TenantId,
        account: &AccountDigest,
        window: Duration,
    ) -> Result<FailureWindow, AuthError>;

    /// The account's window if one is running now; `None` if there is none or it has
    /// passed.
    async fn current(
        &self,
        tenant: &TenantId,
        account: &AccountDigest,
        window: Duration,
    ) -> Result<Option<FailureWindow>, AuthError>;

    /// Delete every window that has passed (started at least `window` ago), in every
    /// tenant. Returns how many were deleted.
    async fn sweep(&self, window: Duration) -> Result<u64, AuthError>;
}

/// A login failure store chosen at run time.
pub type DynLoginFailureStore = dyn LoginFailureStore;

fn _object_safe(_: Box<dyn LoginFailureStore>) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_stable_and_debug_shows_no_address() {
        let a = AccountDigest::of("alice@example.com");
        assert_eq!(a, AccountDigest::of("alice@example.com"));
        assert_ne!(a, AccountDigest::of("bob@example.com"));
        assert_eq!(AccountDigest::from_bytes(a.as_bytes()), Some(a));
        assert_eq!(AccountDigest::from_bytes(&[1, 2, 3]), None);
        let shown = format!("{a:?}");
        assert!(!shown.contains("alice"), "{shown}");
        assert!(shown.starts_with("AccountDigest("), "{shown}");
    }
}
