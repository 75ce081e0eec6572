//! [`ApiKey`] and [`NewApiKey`].

use std::time::{Duration, SystemTime};

use baas_core::TenantId;

use crate::error::AuthError;
use crate::ids::ApiKeyId;

/// The longest API key name, in characters.
pub const MAX_NAME_LEN: usize = 100;

/// `last_used_at` is written at most this often per key, so authenticating is a read
/// in the common case.
pub const LAST_USED_GRANULARITY: Duration = Duration::from_secs(60);

/// An API key as stored (the secret itself is never kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// The id (UUIDv7), also the key's public part.
    pub id: ApiKeyId,
    /// The tenant the key acts in.
    pub tenant: TenantId,
    /// A name for people.
    pub name: String,
    /// The roles it grants, sorted and deduplicated.
    pub roles: Vec<String>,
    /// Who created it (a user id or subject), if known.
    pub created_by: Option<String>,
    /// When it was created.
    pub created_at: SystemTime,
    /// When it stops working, if ever.
    pub expires_at: Option<SystemTime>,
    /// When it was last used to authenticate (to [`LAST_USED_GRANULARITY`]).
    pub last_used_at: Option<SystemTime>,
}

impl ApiKey {
    /// Whether the key still authenticates at `now`.
    pub fn is_valid_at(&self, now: SystemTime) -> bool {
        self.expires_at.is_none_or(|e| now < e)
    }
}

/// What [`ApiKeyStore::create`](super::ApiKeyStore::create) needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    /// A name for people: 1–[`MAX_NAME_LEN`] characters, no control characters.
    pub name: String,
    /// The roles it grants. Checking that they are a subset of the creator's is the
    /// caller's job.
    pub roles: Vec<String>,
    /// Lifetime from creation; `None`: until deleted.
    pub expires_in: Option<Duration>,
    /// Who created it.
    pub created_by: Option<String>,
}

impl NewApiKey {
    /// A key named `name` granting `roles`, without expiry.
    pub fn new(name: impl Into<String>, roles: Vec<String>) -> Self {
        Self {
            name: name.into(),
            roles,
            expires_in: None,
            created_by: None,
        }
    }

    /// Expire `ttl` after creation.
    pub fn expires_in(mut self, ttl: Duration) -> Self {
        self.expires_in = Some(ttl);
        self
    }

    /// Record who created it.
    pub fn created_by(mut self, who: impl Into<String>) -> Self {
        self.created_by = Some(who.into());
        self
    }
}

/// Check an API key name: 1–[`MAX_NAME_LEN`] characters, not blank, no control
/// characters.
pub fn validate_name(name: &str) -> Result<(), AuthError> {
    if name.trim().is_empty() {
        return Err(AuthError::InvalidName {
            reason: "must not be empty",
        });
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(AuthError::InvalidName {
            reason: "must be at most 100 characters",
        });
    }
    if name.chars().any(char::is_control) {
        return Err(AuthError::InvalidName {
            reason: "must not contain control characters",
        });
    }
    Ok(())
}
