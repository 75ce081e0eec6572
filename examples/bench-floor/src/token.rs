//! Refresh tokens (random, stored as SHA-256 digests) and Ed25519-signed access JWTs.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::Ed25519KeyPair;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// A new random refresh token: 32 bytes, base64url.
pub(crate) fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a refresh token.
pub(crate) fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Signs access tokens with one Ed25519 key made at start-up.
pub(crate) struct Signer {
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").finish_non_exhaustive()
    }
}

impl Signer {
    /// A fresh key pair.
    pub(crate) fn generate() -> Result<Self, Box<dyn std::error::Error>> {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| "Ed25519 keygen failed")?;
        let pair =
            Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| "Ed25519 key rejected")?;
        Ok(Signer { pair })
    }

    /// An RFC 9068-shaped access token for `sub` in `tenant`, valid `ttl` seconds.
    pub(crate) fn access_token(
        &self,
        tenant: &str,
        sub: &str,
        sid: &str,
        now: i64,
        ttl: i64,
    ) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","typ":"at+jwt","kid":"floor"}"#);
        let claims = serde_json::json!({
            "iss": "floor", "aud": "floor", "sub": sub, "client_id": "floor",
            "exp": now + ttl, "iat": now, "nbf": now,
            "jti": uuid::Uuid::now_v7().to_string(),
            "tenant": tenant, "roles": ["admin"], "sid": sid,
        });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{claims}");
        let signature = self.pair.sign(signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        )
    }
}
