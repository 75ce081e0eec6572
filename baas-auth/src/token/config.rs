//! [`TokenConfig`]: the settings shared by the key manager, the issuer and the verifier.

use std::time::Duration;

use baas_core::TenantId;

use crate::keys::SigningAlgorithm;

/// How access tokens are issued and verified. Every process of an installation must use
/// the same issuer, audience, algorithm, lifetime and leeway.
///
/// ```
/// use baas_auth::TokenConfig;
/// use std::time::Duration;
///
/// let config = TokenConfig::new("https://id.example.com", "https://api.example.com");
/// assert_eq!(config.access_ttl, Duration::from_secs(900));
/// assert_eq!(config.max_token_len, 8 * 1024);
/// ```
#[derive(Debug, Clone)]
pub struct TokenConfig {
    /// The `iss` claim written and required.
    pub issuer: String,
    /// The `aud` claim written and required.
    pub audience: String,
    /// The signing algorithm; the verifier accepts no other.
    pub algorithm: SigningAlgorithm,
    /// Lifetime of an access token. Default 15 minutes.
    pub access_ttl: Duration,
    /// Clock-skew allowance for `exp` and `nbf`. Default 30 seconds.
    pub leeway: Duration,
    /// How long a process may use its cached view of the keys before reading the store
    /// again (the signer's current key, the verifier's key states). Default 60 seconds.
    /// It is part of a retiring key's window, so a process that has not yet noticed a
    /// rotation never signs a token that outlives its key.
    pub key_refresh: Duration,
    /// The least time between two reloads caused by an unknown `kid`. Default 1 second.
    pub min_reload_interval: Duration,
    /// Tokens longer than this many bytes are refused unread. Default 8 KiB.
    pub max_token_len: usize,
    /// How many verified tokens the verification cache holds; 0 disables it.
    /// Default 10 000.
    pub cache_capacity: usize,
    /// The operator tenant: its admins are operators of the installation.
    pub operator_tenant: Option<TenantId>,
}

impl TokenConfig {
    /// Defaults for `issuer` and `audience`.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        TokenConfig {
            issuer: issuer.into(),
            audience: audience.into(),
            algorithm: SigningAlgorithm::EdDSA,
            access_ttl: Duration::from_secs(15 * 60),
            leeway: Duration::from_secs(30),
            key_refresh: Duration::from_secs(60),
            min_reload_interval: Duration::from_secs(1),
            max_token_len: 8 * 1024,
            cache_capacity: 10_000,
            operator_tenant: None,
        }
    }

    /// How long a key keeps verifying after it stops being current: the longest a
    /// process may still sign with it (`key_refresh`), plus the token lifetime, plus the
    /// leeway.
    pub fn retire_window(&self) -> Duration {
        self.key_refresh + self.access_ttl + self.leeway
    }
}
