//! The [`IdempotencyStore`] trait and its types.

use std::time::Duration;

use bytes::Bytes;

use crate::error::{Error, ErrorKind};
use crate::tenant::TenantId;

/// The longest `Idempotency-Key` accepted (API.md: 1–255 characters).
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// SHA-256 of what identifies a request (method, path, content type, body).
pub type Fingerprint = [u8; 32];

/// Check an `Idempotency-Key`: 1–255 visible ASCII characters, else `Malformed`.
///
/// ```
/// use baas_core::idempotency::validate_key;
/// assert!(validate_key("order-42").is_ok());
/// assert!(validate_key("").is_err());
/// assert!(validate_key(&"k".repeat(256)).is_err());
/// ```
pub fn validate_key(key: &str) -> Result<(), Error> {
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_LEN {
        return Err(Error::new(
            ErrorKind::Malformed,
            "Idempotency-Key must be 1-255 characters",
        ));
    }
    if !key.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(Error::new(
            ErrorKind::Malformed,
            "Idempotency-Key must be visible ASCII",
        ));
    }
    Ok(())
}

/// Whose keys a record belongs to: a tenant's principal, or, for anonymous requests,
/// the route. Keys of different scopes never collide.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IdempotencyScope {
    /// An authenticated principal within its tenant.
    Principal {
        /// The tenant.
        tenant: TenantId,
        /// The principal's subject.
        subject: String,
    },
    /// An anonymous request to a route (the matched route template).
    Anonymous {
        /// The route.
        route: String,
    },
}

impl IdempotencyScope {
    /// The tenant, when the scope has one.
    pub fn tenant(&self) -> Option<&TenantId> {
        match self {
            IdempotencyScope::Principal { tenant, .. } => Some(tenant),
            IdempotencyScope::Anonymous { .. } => None,
        }
    }

    /// A stable, unambiguous string form for storage (`p:<tenant>:<len>:<subject>` or
    /// `a:<route>`).
    pub fn storage_key(&self) -> String {
        match self {
            IdempotencyScope::Principal { tenant, subject } => {
                format!("p:{tenant}:{}:{subject}", subject.len())
            }
            IdempotencyScope::Anonymous { route } => format!("a:{route}"),
        }
    }
}

/// Proof of holding a claim, handed out by [`Claim::Acquired`]. `complete` and `release`
/// take it, so a holder whose lease ran out (and whose key another request then
/// claimed) can neither complete nor release that other request's claim.
///
/// ```
/// use baas_core::idempotency::ClaimToken;
/// assert_ne!(ClaimToken::generate(), ClaimToken::generate());
/// let t = ClaimToken::generate();
/// assert_eq!(ClaimToken::from_bytes(*t.as_bytes()), t);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClaimToken([u8; 16]);

impl ClaimToken {
    /// A fresh random token.
    pub fn generate() -> Self {
        ClaimToken(rand::random())
    }

    /// A token from its bytes (as a backend stored them).
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        ClaimToken(bytes)
    }

    /// The token's bytes, for storage.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

/// The answer to [`IdempotencyStore::claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The caller now holds the key and must run the request, then `complete` or
    /// `release` it with this token.
    Acquired(ClaimToken),
    /// The request already completed: here is its stored response (opaque bytes the
    /// layer wrote).
    Replay(Bytes),
    /// The same request is still being processed by someone else.
    InFlight,
    /// The key was used for a different request (another fingerprint).
    Mismatch,
}

/// Where idempotency records live.
///
/// Guarantees every backend gives (checked by
/// `baas_core::testing::idempotency_store_suite`):
/// - `claim` is atomic: of concurrent claims of one free key, exactly one is `Acquired`.
/// - A claim not completed within its `lease` expires and the key may be claimed again.
/// - A completed record is kept for its `ttl`, then `sweep` removes it.
/// - Scopes are isolated: the same key in two scopes is two records.
/// - Only the current holder settles a claim: `complete` and `release` with any other
///   token (a holder whose lease ended and whose key was claimed again) change nothing.
#[async_trait::async_trait]
pub trait IdempotencyStore: Send + Sync + std::fmt::Debug {
    /// Claim `key` in `scope` for a request with `fingerprint`, holding it for at most
    /// `lease` unless completed.
    async fn claim(
        &self,
        scope: &IdempotencyScope,
        key: &str,
        fingerprint: &Fingerprint,
        lease: Duration,
    ) -> Result<Claim, Error>;

    /// Store the response of the request holding the claim `token`, kept for `ttl`.
    /// Returns `false`, storing nothing, when `token` no longer holds the claim (it was
    /// released, swept, or expired and claimed again).
    async fn complete(
        &self,
        scope: &IdempotencyScope,
        key: &str,
        token: &ClaimToken,
        fingerprint: &Fingerprint,
        response: Bytes,
        ttl: Duration,
    ) -> Result<bool, Error>;

    /// Give the claim `token` back without storing anything (the request failed with a
    /// 5xx or was rate limited), so the client may retry with the same key. Does nothing
    /// when `token` no longer holds the claim, or the record is completed.
    async fn release(
        &self,
        scope: &IdempotencyScope,
        key: &str,
        token: &ClaimToken,
    ) -> Result<(), Error>;

    /// Remove expired records; returns how many went.
    async fn sweep(&self) -> Result<u64, Error>;
}

/// A shared idempotency store.
pub type DynIdempotencyStore = dyn IdempotencyStore;

#[allow(dead_code)]
fn _object_safe(_: Box<dyn IdempotencyStore>) {}
