//! Standard Webhooks signing (<https://www.standardwebhooks.com>) and the receiver-side
//! [`Verifier`].
//!
//! A delivery carries three headers: `webhook-id` (stable across retries),
//! `webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature`, a
//! space-separated list of `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per
//! secret that is currently valid (several while a secret rotates). The HMAC key is the
//! base64-decoded part of the secret after `whsec_`.
//!
//! ```
//! use baas_notify::signing::{Verifier, WebhookSecret, sign_headers};
//! use baas_notify::core::ManualClock;
//!
//! let secret = WebhookSecret::generate();
//! let clock = ManualClock::new();
//! let now = baas_notify::core::Clock::unix_seconds(&clock);
//! let headers = sign_headers(std::slice::from_ref(&secret), "evt_1", now, br#"{"a":1}"#);
//!
//! let verifier = Verifier::new(secret).with_clock(clock.shared());
//! verifier.verify_parts(&headers.id, &headers.timestamp, &headers.signature, br#"{"a":1}"#)?;
//! assert!(verifier.verify_parts(&headers.id, &headers.timestamp, &headers.signature, b"{}").is_err());
//! # Ok::<(), baas_notify::signing::VerifyError>(())
//! ```

use std::fmt;
use std::time::Duration;

use baas_core::clock::{self, SharedClock};
use baas_core::{Classify, ErrorKind};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::Sha256;

use crate::error::NotifyError;

/// The `webhook-id` header.
pub const WEBHOOK_ID: &str = "webhook-id";
/// The `webhook-timestamp` header.
pub const WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
/// The `webhook-signature` header.
pub const WEBHOOK_SIGNATURE: &str = "webhook-signature";
/// The prefix of a serialised secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// The shortest secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 24;
/// The longest secret accepted, in bytes.
pub const MAX_SECRET_BYTES: usize = 64;
/// The default timestamp tolerance of a [`Verifier`]: five minutes either way.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

type HmacSha256 = Hmac<Sha256>;

/// A webhook signing secret (24–64 random bytes). Never shown by `Debug`.
pub struct WebhookSecret {
    key: SecretBox<[u8]>,
}

impl Clone for WebhookSecret {
    fn clone(&self) -> Self {
        Self::from_bytes(self.key.expose_secret().to_vec())
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([REDACTED])")
    }
}

impl WebhookSecret {
    /// A fresh secret of 32 random bytes.
    pub fn generate() -> Self {
        Self::generate_len(32).unwrap_or_else(|_| unreachable!("32 is in range"))
    }

    /// A fresh secret of `len` random bytes (24–64).
    pub fn generate_len(len: usize) -> Result<Self, baas_core::Error> {
        if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&len) {
            return Err(NotifyError::InvalidSecret("a secret is 24 to 64 bytes").into());
        }
        let mut bytes = vec![0u8; len];
        rand::rng().fill_bytes(&mut bytes);
        Ok(Self::from_bytes(bytes))
    }

    fn from_bytes(bytes: Vec<u8>) -> Self {
        WebhookSecret {
            key: SecretBox::new(bytes.into_boxed_slice()),
        }
    }

    /// Parse `whsec_<base64>` (the prefix is optional, as in the reference
    /// implementations). The key must decode to 24–64 bytes.
    pub fn parse(text: &str) -> Result<Self, baas_core::Error> {
        let encoded = text.trim();
        let encoded = encoded.strip_prefix(SECRET_PREFIX).unwrap_or(encoded);
        let bytes = B64
            .decode(encoded)
            .map_err(|_| NotifyError::InvalidSecret("a secret is whsec_ and base64"))?;
        if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&bytes.len()) {
            return Err(NotifyError::InvalidSecret("a secret is 24 to 64 bytes").into());
        }
        Ok(Self::from_bytes(bytes))
    }

    /// The secret as `whsec_<base64>`, to show once to the endpoint's owner.
    pub fn to_whsec(&self) -> SecretString {
        format!("{SECRET_PREFIX}{}", B64.encode(self.key.expose_secret())).into()
    }

    /// The raw key bytes (for sealing at rest).
    pub fn expose_bytes(&self) -> &[u8] {
        self.key.expose_secret()
    }

    /// Rebuild a secret from raw key bytes (after opening a sealed copy).
    pub fn from_raw(bytes: &[u8]) -> Result<Self, baas_core::Error> {
        if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&bytes.len()) {
            return Err(NotifyError::InvalidSecret("a secret is 24 to 64 bytes").into());
        }
        Ok(Self::from_bytes(bytes.to_vec()))
    }

    fn mac(&self, id: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
        // HMAC accepts keys of any length.
        let mut mac = HmacSha256::new_from_slice(self.key.expose_secret())
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// One signature: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
    ///
    /// ```
    /// use baas_notify::signing::WebhookSecret;
    /// // The Standard Webhooks test vector.
    /// let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
    /// assert_eq!(
    ///     secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#),
    ///     "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    /// );
    /// # Ok::<(), baas_notify::core::Error>(())
    /// ```
    pub fn sign(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        let tag = self
            .mac(id, &timestamp.to_string(), body)
            .finalize()
            .into_bytes();
        format!("v1,{}", B64.encode(tag))
    }

    /// Whether `candidate` (the base64 part after `v1,`) is this secret's signature,
    /// compared in constant time.
    fn matches(&self, id: &str, timestamp: &str, body: &[u8], candidate: &str) -> bool {
        let Ok(tag) = B64.decode(candidate) else {
            return false;
        };
        self.mac(id, timestamp, body).verify_slice(&tag).is_ok()
    }
}

/// The three Standard Webhooks headers of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp` (Unix seconds, decimal).
    pub timestamp: String,
    /// `webhook-signature`: one `v1,…` per secret, space-separated.
    pub signature: String,
}

/// Sign `body` with every secret in `secrets` (the newest first, while a secret
/// rotates).
pub fn sign_headers(
    secrets: &[WebhookSecret],
    id: &str,
    timestamp: u64,
    body: &[u8],
) -> SignedHeaders {
    let signature = secrets
        .iter()
        .map(|s| s.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ");
    SignedHeaders {
        id: id.to_owned(),
        timestamp: timestamp.to_string(),
        signature,
    }
}

/// Why a [`Verifier`] refused a request.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A required header is missing or not text.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// `webhook-timestamp` is not a Unix time in seconds.
    #[error("invalid webhook-timestamp")]
    InvalidTimestamp,
    /// The timestamp is older than the tolerance.
    #[error("message timestamp too old")]
    TooOld,
    /// The timestamp is further in the future than the tolerance.
    #[error("message timestamp too new")]
    TooNew,
    /// No `v1` signature matched any secret.
    #[error("no matching signature")]
    NoMatch,
}

impl Classify for VerifyError {
    fn kind(&self) -> ErrorKind {
        match self {
            VerifyError::MissingHeader(_) | VerifyError::InvalidTimestamp => ErrorKind::Malformed,
            _ => ErrorKind::Unauthenticated,
        }
    }
}

impl From<VerifyError> for baas_core::Error {
    fn from(err: VerifyError) -> Self {
        baas_core::Error::new(err.kind(), err.to_string())
    }
}

/// Checks Standard Webhooks signatures on the receiving side: a signature by any of
/// its secrets, and a timestamp within the tolerance of its clock.
pub struct Verifier {
    secrets: Vec<WebhookSecret>,
    tolerance: Duration,
    clock: SharedClock,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("secrets", &self.secrets.len())
            .field("tolerance", &self.tolerance)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier for `secret`, with a 5-minute tolerance on the system clock.
    pub fn new(secret: WebhookSecret) -> Self {
        Verifier {
            secrets: vec![secret],
            tolerance: DEFAULT_TOLERANCE,
            clock: clock::system(),
        }
    }

    /// Also accept signatures by `secret` (while a secret rotates).
    pub fn with_secret(mut self, secret: WebhookSecret) -> Self {
        self.secrets.push(secret);
        self
    }

    /// Accept timestamps this far from now, either way.
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Read the time from `clock`.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Verify a request's headers and raw body.
    pub fn verify(&self, headers: &http::HeaderMap, body: &[u8]) -> Result<(), VerifyError> {
        let get = |name: &'static str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .ok_or(VerifyError::MissingHeader(name))
        };
        self.verify_parts(
            get(WEBHOOK_ID)?,
            get(WEBHOOK_TIMESTAMP)?,
            get(WEBHOOK_SIGNATURE)?,
            body,
        )
    }

    /// Verify from the three header values and the raw body.
    pub fn verify_parts(
        &self,
        id: &str,
        timestamp: &str,
        signature: &str,
        body: &[u8],
    ) -> Result<(), VerifyError> {
        let ts: u64 = timestamp
            .trim()
            .parse()
            .map_err(|_| VerifyError::InvalidTimestamp)?;
        let now = self.clock.unix_seconds();
        let tol = self.tolerance.as_secs();
        if now > ts && now - ts > tol {
            return Err(VerifyError::TooOld);
        }
        if ts > now && ts - now > tol {
            return Err(VerifyError::TooNew);
        }
        let timestamp = timestamp.trim();
        // Check every candidate against every secret: no early exit on the first
        // mismatch, so timing does not say which one was close.
        let mut matched = false;
        for part in signature.split_whitespace() {
            let Some(candidate) = part.strip_prefix("v1,") else {
                continue;
            };
            for secret in &self.secrets {
                matched |= secret.matches(id, timestamp, body, candidate);
            }
        }
        if matched {
            Ok(())
        } else {
            Err(VerifyError::NoMatch)
        }
    }
}

#[cfg(test)]
mod tests {
    use baas_core::ManualClock;
    use baas_core::clock::Clock as _;

    use super::*;

    const VECTOR_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const VECTOR_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const VECTOR_TS: u64 = 1_614_265_330;
    const VECTOR_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const VECTOR_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn clock_at(ts: u64) -> ManualClock {
        ManualClock::starting_at(std::time::UNIX_EPOCH + Duration::from_secs(ts))
    }

    #[test]
    fn standard_webhooks_test_vector() {
        let secret = WebhookSecret::parse(VECTOR_SECRET).unwrap();
        assert_eq!(secret.sign(VECTOR_ID, VECTOR_TS, VECTOR_BODY), VECTOR_SIG);
        // The prefix is optional.
        let bare = WebhookSecret::parse(&VECTOR_SECRET[6..]).unwrap();
        assert_eq!(bare.sign(VECTOR_ID, VECTOR_TS, VECTOR_BODY), VECTOR_SIG);
        let v = Verifier::new(secret).with_clock(clock_at(VECTOR_TS).shared());
        v.verify_parts(VECTOR_ID, "1614265330", VECTOR_SIG, VECTOR_BODY)
            .unwrap();
    }

    #[test]
    fn verifier_refuses_tampering_and_stale_timestamps() {
        let secret = WebhookSecret::parse(VECTOR_SECRET).unwrap();
        let clock = clock_at(VECTOR_TS);
        let v = Verifier::new(secret).with_clock(clock.shared());
        let ts = "1614265330";
        assert_eq!(
            v.verify_parts(VECTOR_ID, ts, VECTOR_SIG, b"{\"test\": 1}"),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            v.verify_parts("msg_other", ts, VECTOR_SIG, VECTOR_BODY),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            v.verify_parts(VECTOR_ID, "1614265331", VECTOR_SIG, VECTOR_BODY),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            v.verify_parts(VECTOR_ID, "soon", VECTOR_SIG, VECTOR_BODY),
            Err(VerifyError::InvalidTimestamp)
        );
        assert_eq!(
            v.verify_parts(VECTOR_ID, ts, "v1,bm9wZQ== v2,x", VECTOR_BODY),
            Err(VerifyError::NoMatch)
        );
        clock.advance(Duration::from_secs(301));
        assert_eq!(
            v.verify_parts(VECTOR_ID, ts, VECTOR_SIG, VECTOR_BODY),
            Err(VerifyError::TooOld)
        );
        let early = clock_at(VECTOR_TS - 301);
        let v =
            Verifier::new(WebhookSecret::parse(VECTOR_SECRET).unwrap()).with_clock(early.shared());
        assert_eq!(
            v.verify_parts(VECTOR_ID, ts, VECTOR_SIG, VECTOR_BODY),
            Err(VerifyError::TooNew)
        );
    }

    #[test]
    fn rotation_signs_with_every_secret_and_either_verifies() {
        let old = WebhookSecret::generate();
        let new = WebhookSecret::generate();
        let clock = ManualClock::new();
        let now = clock.unix_seconds();
        let h = sign_headers(&[new.clone(), old.clone()], "evt", now, b"x");
        assert_eq!(h.signature.split(' ').count(), 2);
        for s in [old, new] {
            Verifier::new(s)
                .with_clock(clock.shared())
                .verify_parts(&h.id, &h.timestamp, &h.signature, b"x")
                .unwrap();
        }
        let stranger = Verifier::new(WebhookSecret::generate()).with_clock(clock.shared());
        assert!(
            stranger
                .verify_parts(&h.id, &h.timestamp, &h.signature, b"x")
                .is_err()
        );
    }

    #[test]
    fn verify_reads_headers() {
        let s = WebhookSecret::generate();
        let clock = ManualClock::new();
        let h = sign_headers(std::slice::from_ref(&s), "evt", clock.unix_seconds(), b"x");
        let mut map = http::HeaderMap::new();
        let v = Verifier::new(s).with_clock(clock.shared());
        assert_eq!(
            v.verify(&map, b"x"),
            Err(VerifyError::MissingHeader(WEBHOOK_ID))
        );
        map.insert(WEBHOOK_ID, h.id.parse().unwrap());
        map.insert(WEBHOOK_TIMESTAMP, h.timestamp.parse().unwrap());
        map.insert(WEBHOOK_SIGNATURE, h.signature.parse().unwrap());
        v.verify(&map, b"x").unwrap();
    }

    #[test]
    fn secrets_generate_parse_and_hide() {
        let s = WebhookSecret::generate();
        let text = s.to_whsec();
        assert!(text.expose_secret().starts_with("whsec_"));
        let back = WebhookSecret::parse(text.expose_secret()).unwrap();
        assert_eq!(back.expose_bytes(), s.expose_bytes());
        assert_eq!(s.expose_bytes().len(), 32);
        assert!(!format!("{s:?}").contains(&text.expose_secret()[6..]));
        assert!(WebhookSecret::parse("whsec_c2hvcnQ=").is_err());
        assert!(WebhookSecret::parse("whsec_!!!").is_err());
        assert!(WebhookSecret::generate_len(23).is_err());
        assert!(WebhookSecret::generate_len(65).is_err());
        assert_eq!(
            WebhookSecret::generate_len(64)
                .unwrap()
                .expose_bytes()
                .len(),
            64
        );
    }
}
