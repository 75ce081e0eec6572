//! HMAC-signed, expiring URLs for stores that cannot presign.
//!
//! A URL looks like `/v1/files-signed/<tenant>/<key>?expires=<unix seconds>&sig=<base64url>`
//! (the path prefix is configurable). The signature is HMAC-SHA256 over the tenant, key
//! and expiry, keyed by a sub-key of the installation's master key
//! (`MasterKey::derive("baas-store/signed-urls")`), so any process of the installation
//! verifies a URL any other made. Verification is constant-time; an expired or altered
//! URL is `Forbidden`.
//!
//! ```
//! use std::time::Duration;
//! use baas_core::{ManualClock, MasterKey, TenantId};
//! use baas_store::blob::{SignedUrlParts, UrlSigner};
//!
//! let clock = ManualClock::new();
//! let signer = UrlSigner::new(&MasterKey::generate(), clock.shared());
//! let tenant = TenantId::new("acme")?;
//! let url = signer.sign(&tenant, "photos/cat.png", Duration::from_secs(60))?;
//! assert!(url.url.starts_with("/v1/files-signed/acme/photos/cat.png?expires="));
//!
//! let parts = SignedUrlParts::parse(&url.url, signer.prefix())?;
//! signer.verify(&parts.tenant, &parts.key, parts.expires, &parts.signature)?;
//!
//! clock.advance(Duration::from_secs(61));
//! assert!(signer.verify(&parts.tenant, &parts.key, parts.expires, &parts.signature).is_err());
//! # Ok::<(), baas_core::Error>(())
//! ```

use std::fmt;
use std::time::{Duration, UNIX_EPOCH};

use baas_core::{Error, ErrorKind, MasterKey, SharedClock, TenantId};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::key::validate_key;
use super::store::{MAX_SIGNED_URL_EXPIRY, SignedUrl, SignedUrlKind};

/// The label the signing key is derived under.
pub const SIGNED_URL_KEY_LABEL: &str = "baas-store/signed-urls";

/// The default path prefix of signed URLs.
pub const DEFAULT_SIGNED_URL_PREFIX: &str = "/v1/files-signed";

/// Makes and checks HMAC-signed URLs.
#[derive(Clone)]
pub struct UrlSigner {
    mac: Hmac<Sha256>,
    clock: SharedClock,
    prefix: String,
}

impl fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UrlSigner")
            .field("key", &"[REDACTED]")
            .field("clock", &self.clock)
            .field("prefix", &self.prefix)
            .finish()
    }
}

fn forbidden(message: &'static str) -> Error {
    Error::new(ErrorKind::Forbidden, message)
}

impl UrlSigner {
    /// A signer keyed from the installation's master key, with the default prefix.
    pub fn new(master: &MasterKey, clock: SharedClock) -> Self {
        let key = master.derive(SIGNED_URL_KEY_LABEL);
        let mac =
            <Hmac<Sha256> as Mac>::new_from_slice(key.expose()).expect("HMAC takes any key length");
        UrlSigner {
            mac,
            clock,
            prefix: DEFAULT_SIGNED_URL_PREFIX.to_owned(),
        }
    }

    /// Use another path prefix (for example where the routes are mounted). Trailing
    /// slashes are dropped.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into().trim_end_matches('/').to_owned();
        self
    }

    /// The path prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The clock expiry is measured by.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    fn signature(&self, tenant: &TenantId, key: &str, expires: u64) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(b"baas-signed-url/v1\n");
        mac.update(tenant.as_str().as_bytes());
        mac.update(b"\n");
        mac.update(key.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// A root-relative URL for GETting `key` of `tenant` for `expires_in` (whole
    /// seconds, 1 s–7 days, else `Invalid`).
    pub fn sign(
        &self,
        tenant: &TenantId,
        key: &str,
        expires_in: Duration,
    ) -> Result<SignedUrl, Error> {
        validate_key(key)?;
        validate_expiry(expires_in)?;
        let expires = self.clock.unix_seconds() + expires_in.as_secs();
        let sig = URL_SAFE_NO_PAD.encode(self.signature(tenant, key, expires));
        let url = format!(
            "{}/{}/{}?expires={expires}&sig={sig}",
            self.prefix,
            tenant.as_str(),
            encode_key(key)
        );
        Ok(SignedUrl {
            url,
            expires_at: UNIX_EPOCH + Duration::from_secs(expires),
            kind: SignedUrlKind::Hmac,
        })
    }

    /// Check a signature made by [`sign`](Self::sign): `Forbidden` when it does not
    /// match (in constant time) or the URL has expired.
    pub fn verify(
        &self,
        tenant: &TenantId,
        key: &str,
        expires: u64,
        signature: &str,
    ) -> Result<(), Error> {
        let given = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| forbidden("signed URL is not valid"))?;
        let expected = self.signature(tenant, key, expires);
        if !bool::from(given.as_slice().ct_eq(&expected)) {
            return Err(forbidden("signed URL is not valid"));
        }
        if self.clock.unix_seconds() >= expires {
            return Err(forbidden("signed URL has expired"));
        }
        Ok(())
    }
}

/// Check a signed URL's lifetime: whole seconds from 1 to 604800 (7 days).
pub fn validate_expiry(expires_in: Duration) -> Result<(), Error> {
    if expires_in < Duration::from_secs(1) || expires_in > MAX_SIGNED_URL_EXPIRY {
        return Err(Error::field(
            "expires_in",
            "must be between 1 and 604800 seconds",
        ));
    }
    Ok(())
}

/// The parts of an HMAC-signed URL, as the route serving it sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedUrlParts {
    /// The tenant.
    pub tenant: TenantId,
    /// The object key (percent-decoded).
    pub key: String,
    /// Expiry, Unix seconds.
    pub expires: u64,
    /// The base64url signature.
    pub signature: String,
}

impl SignedUrlParts {
    /// Split a signed URL — absolute or root-relative — made under `prefix`. Anything
    /// that is not such a URL is `Forbidden`.
    pub fn parse(url: &str, prefix: &str) -> Result<Self, Error> {
        let bad = || forbidden("not a signed URL");
        // Drop scheme and authority of an absolute URL.
        let rest = match url.split_once("://") {
            Some((_, after)) => &after[after.find('/').ok_or_else(bad)?..],
            None => url,
        };
        let prefix = prefix.trim_end_matches('/');
        let rest = rest
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('/'))
            .ok_or_else(bad)?;
        let (path, query) = rest.split_once('?').ok_or_else(bad)?;
        let (tenant, key) = path.split_once('/').ok_or_else(bad)?;
        let tenant = TenantId::new(tenant).map_err(|_| bad())?;
        let key = decode_key(key).ok_or_else(bad)?;
        let (mut expires, mut signature) = (None, None);
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("expires", v)) => expires = Some(v.parse::<u64>().map_err(|_| bad())?),
                Some(("sig", v)) => signature = Some(v.to_owned()),
                _ => {}
            }
        }
        Ok(SignedUrlParts {
            tenant,
            key,
            expires: expires.ok_or_else(bad)?,
            signature: signature.ok_or_else(bad)?,
        })
    }
}

/// Percent-encode a key for a URL path, keeping `/` and the unreserved characters.
pub(crate) fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode_key(encoded: &str) -> Option<String> {
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use baas_core::ManualClock;

    fn signer(clock: &ManualClock, key: &MasterKey) -> UrlSigner {
        UrlSigner::new(key, clock.shared())
    }

    #[test]
    fn round_trip_across_processes_and_expiry() {
        let clock = ManualClock::new();
        let master = MasterKey::generate();
        let a = signer(&clock, &master);
        let b = signer(&clock, &master); // another process, same master key
        let t = TenantId::new("acme").unwrap();
        let key = "dir/we ird#name?.txt";
        let url = a.sign(&t, key, Duration::from_secs(10)).unwrap();
        let p = SignedUrlParts::parse(
            &format!("https://files.example{}", url.url),
            "/v1/files-signed/",
        )
        .unwrap();
        assert_eq!(p.key, key);
        b.verify(&p.tenant, &p.key, p.expires, &p.signature)
            .unwrap();
        clock.advance(Duration::from_secs(10));
        let err = b
            .verify(&p.tenant, &p.key, p.expires, &p.signature)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Forbidden);
    }

    #[test]
    fn tampering_is_forbidden() {
        let clock = ManualClock::new();
        let s = signer(&clock, &MasterKey::generate());
        let t = TenantId::new("acme").unwrap();
        let u = s.sign(&t, "a/b", Duration::from_secs(100)).unwrap();
        let p = SignedUrlParts::parse(&u.url, s.prefix()).unwrap();
        let other = TenantId::new("evil").unwrap();
        for (tenant, key, expires, sig) in [
            (&other, "a/b", p.expires, p.signature.clone()),
            (&t, "a/c", p.expires, p.signature.clone()),
            (&t, "a/b", p.expires + 1000, p.signature.clone()),
            (&t, "a/b", p.expires, format!("{}A", p.signature)),
            (&t, "a/b", p.expires, "!!".to_owned()),
        ] {
            let err = s.verify(tenant, key, expires, &sig).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Forbidden);
        }
        let other_install = signer(&clock, &MasterKey::generate());
        assert!(
            other_install
                .verify(&t, "a/b", p.expires, &p.signature)
                .is_err()
        );
    }

    #[test]
    fn debug_hides_the_signature() {
        let clock = ManualClock::new();
        let s = signer(&clock, &MasterKey::generate());
        let t = TenantId::new("acme").unwrap();
        let url = s.sign(&t, "a/b", Duration::from_secs(100)).unwrap();
        let p = SignedUrlParts::parse(&url.url, s.prefix()).unwrap();
        let shown = format!("{url:?}");
        assert!(!shown.contains(&p.signature), "{shown}");
        assert!(
            shown.contains("/v1/files-signed/acme/a/b?[REDACTED]"),
            "{shown}"
        );
    }

    #[test]
    fn expiry_bounds() {
        let clock = ManualClock::new();
        let s = signer(&clock, &MasterKey::generate());
        let t = TenantId::new("acme").unwrap();
        for secs in [0, 604_801] {
            let err = s.sign(&t, "k", Duration::from_secs(secs)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Invalid);
        }
        s.sign(&t, "k", Duration::from_secs(604_800)).unwrap();
        assert_eq!(
            s.sign(&t, "../k", Duration::from_secs(1))
                .unwrap_err()
                .kind(),
            ErrorKind::Malformed
        );
    }

    #[test]
    fn parse_rejects_junk() {
        for url in [
            "/other/acme/k?expires=1&sig=x",
            "/v1/files-signed/acme/k",
            "/v1/files-signed/ACME/k?expires=1&sig=x",
            "/v1/files-signed/acme/k?expires=x&sig=x",
            "/v1/files-signed/acme/k%ZZ?expires=1&sig=x",
        ] {
            assert_eq!(
                SignedUrlParts::parse(url, DEFAULT_SIGNED_URL_PREFIX)
                    .unwrap_err()
                    .kind(),
                ErrorKind::Forbidden,
                "{url}"
            );
        }
        assert!(
            !format!("{:?}", signer(&ManualClock::new(), &MasterKey::generate())).contains("mac")
        );
    }
}
