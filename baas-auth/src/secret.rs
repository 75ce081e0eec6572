//! Opaque secrets handed to clients (refresh tokens, API keys) and the SHA-256 digests
//! stores keep instead of them.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::ids::ApiKeyId;

/// Random bytes in every refresh token and API key secret (256 bits).
pub(crate) const SECRET_BYTES: usize = 32;

/// `SECRET_BYTES` random bytes, base64url without padding (43 characters).
pub(crate) fn random_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let out = URL_SAFE_NO_PAD.encode(bytes);
    zeroize::Zeroize::zeroize(&mut bytes);
    out
}

/// The SHA-256 digest of a secret, as stores keep it. Equality is constant-time.
///
/// A digest of a 256-bit random secret needs no salt or slow hash: it cannot be
/// brute-forced, and a leaked table of digests gives no usable credential.
#[derive(Clone, Copy)]
pub struct SecretDigest([u8; 32]);

impl SecretDigest {
    /// The digest of `secret`.
    pub fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
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

impl PartialEq for SecretDigest {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SecretDigest {}

impl fmt::Debug for SecretDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretDigest([REDACTED])")
    }
}

/// An opaque refresh token: 256 random bits, base64url. Shown to the client once;
/// stores keep only its [`SecretDigest`]. Never in `Debug`.
#[derive(Clone)]
pub struct RefreshToken(SecretString);

impl RefreshToken {
    /// A fresh random token.
    pub fn generate() -> Self {
        Self(random_secret().into())
    }

    /// Wrap a token a client presented.
    pub fn new(token: impl Into<String>) -> Self {
        Self(SecretString::from(token.into()))
    }

    /// The token text, to send to the client.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }

    /// Its digest.
    pub fn digest(&self) -> SecretDigest {
        SecretDigest::of(self.expose_secret())
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken([REDACTED])")
    }
}

/// The prefix of every API key.
pub const API_KEY_PREFIX: &str = "baas_";

/// An API key as the client holds it: `baas_<id: 32 hex>_<secret: 43 base64url>`.
///
/// The id part finds the stored key; the whole key's SHA-256 is compared with the
/// stored digest in constant time. Never in `Debug`.
///
/// ```
/// use baas_auth::ApiKeySecret;
///
/// let key = ApiKeySecret::new("baas_not-a-key");
/// assert!(key.id().is_none());
/// assert_eq!(format!("{key:?}"), "ApiKeySecret([REDACTED])");
/// ```
#[derive(Clone)]
pub struct ApiKeySecret(SecretString);

impl ApiKeySecret {
    /// A fresh key for `id`.
    pub fn generate(id: ApiKeyId) -> Self {
        let text = format!(
            "{API_KEY_PREFIX}{}_{}",
            id.as_uuid().simple(),
            random_secret()
        );
        Self(text.into())
    }

    /// Wrap a key a client presented.
    pub fn new(key: impl Into<String>) -> Self {
        Self(SecretString::from(key.into()))
    }

    /// The key text, to show to its creator once.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }

    /// The id the key names, if it is well formed.
    pub fn id(&self) -> Option<ApiKeyId> {
        let rest = self.expose_secret().strip_prefix(API_KEY_PREFIX)?;
        let (id, secret) = rest.split_once('_')?;
        if id.len() != 32 || secret.len() != 43 {
            return None;
        }
        if !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        Uuid::try_parse(id).ok().map(ApiKeyId::from_uuid)
    }

    /// Whether the text looks like an API key (prefix and shape), without any lookup.
    pub fn looks_like(text: &str) -> bool {
        ApiKeySecret::new(text).id().is_some()
    }

    /// Its digest.
    pub fn digest(&self) -> SecretDigest {
        SecretDigest::of(self.expose_secret())
    }
}

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeySecret([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_api_keys_parse_back_to_their_id() {
        let id = ApiKeyId::generate();
        let key = ApiKeySecret::generate(id);
        assert_eq!(key.id(), Some(id));
        assert!(ApiKeySecret::looks_like(key.expose_secret()));
        assert!(!ApiKeySecret::looks_like("eyJhbGciOi.x.y"));
    }

    #[test]
    fn refresh_tokens_are_distinct_and_long() {
        let a = RefreshToken::generate();
        let b = RefreshToken::generate();
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_eq!(a.expose_secret().len(), 43);
        assert_eq!(a.digest(), RefreshToken::new(a.expose_secret()).digest());
        assert_ne!(a.digest(), b.digest());
    }
}
