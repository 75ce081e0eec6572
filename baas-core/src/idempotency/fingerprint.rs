//! The request fingerprint: SHA-256 of method, path, content type and body.

use http::Method;
use sha2::{Digest, Sha256};

use super::store::Fingerprint;

const DOMAIN: &[u8] = b"baas/idempotency/fingerprint/v1";

/// The fingerprint of a request (API.md): SHA-256 over its method, path, content type
/// and body, each part length-prefixed (u64, big-endian) so that no two different
/// requests share an encoding (`/a` + body `b` is not `/ab` + empty body). The path is
/// the URI path without the query; a missing `Content-Type` counts as empty.
///
/// ```
/// use baas_core::idempotency::fingerprint;
/// use http::Method;
///
/// let a = fingerprint(&Method::POST, "/v1/things", Some(b"application/json"), b"{}");
/// assert_eq!(a, fingerprint(&Method::POST, "/v1/things", Some(b"application/json"), b"{}"));
/// assert_ne!(a, fingerprint(&Method::POST, "/v1/things", Some(b"application/json"), b"{ }"));
/// assert_ne!(a, fingerprint(&Method::PUT, "/v1/things", Some(b"application/json"), b"{}"));
/// ```
pub fn fingerprint(
    method: &Method,
    path: &str,
    content_type: Option<&[u8]>,
    body: &[u8],
) -> Fingerprint {
    let mut hash = Sha256::new();
    for part in [
        DOMAIN,
        method.as_str().as_bytes(),
        path.as_bytes(),
        content_type.unwrap_or_default(),
        body,
    ] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cannot_be_shifted_into_each_other() {
        let ct = Some(&b"text/plain"[..]);
        assert_ne!(
            fingerprint(&Method::POST, "/a", ct, b"b"),
            fingerprint(&Method::POST, "/ab", ct, b"")
        );
        assert_ne!(
            fingerprint(&Method::POST, "/a", Some(b"x"), b"y"),
            fingerprint(&Method::POST, "/a", Some(b"xy"), b"")
        );
        assert_ne!(
            fingerprint(&Method::POST, "/a", ct, b""),
            fingerprint(&Method::POST, "/a", None, b"")
        );
    }

    #[test]
    fn is_deterministic_sha256() {
        let a = fingerprint(&Method::POST, "/x", None, b"body");
        assert_eq!(a, fingerprint(&Method::POST, "/x", None, b"body"));
        assert_eq!(a.len(), 32);
    }
}
