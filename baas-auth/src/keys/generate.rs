//! Key generation with aws-lc-rs, and conversion into jsonwebtoken's key types.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use rand::RngCore as _;
use zeroize::Zeroizing;

use super::model::SigningAlgorithm;
use crate::error::AuthError;

/// A freshly generated key pair.
pub(crate) struct Generated {
    pub(crate) kid: String,
    pub(crate) public_key: Vec<u8>,
    pub(crate) pkcs8: Zeroizing<Vec<u8>>,
}

/// A random, URL-safe key id (128 bits).
pub(crate) fn new_kid() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn generate(algorithm: SigningAlgorithm) -> Result<Generated, AuthError> {
    let rng = SystemRandom::new();
    let fail = |_| AuthError::internal("signing key generation failed");
    let (public_key, pkcs8) = match algorithm {
        SigningAlgorithm::EdDSA => {
            let doc = Ed25519KeyPair::generate_pkcs8(&rng).map_err(fail)?;
            let pair = Ed25519KeyPair::from_pkcs8(doc.as_ref())
                .map_err(|_| AuthError::internal("generated Ed25519 key rejected"))?;
            (
                pair.public_key().as_ref().to_vec(),
                Zeroizing::new(doc.as_ref().to_vec()),
            )
        }
        SigningAlgorithm::ES256 => {
            let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(fail)?;
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref())
                .map_err(|_| AuthError::internal("generated P-256 key rejected"))?;
            (
                pair.public_key().as_ref().to_vec(),
                Zeroizing::new(doc.as_ref().to_vec()),
            )
        }
    };
    Ok(Generated {
        kid: new_kid(),
        public_key,
        pkcs8,
    })
}

/// jsonwebtoken's signing key from a PKCS#8 document.
pub(crate) fn encoding_key(algorithm: SigningAlgorithm, pkcs8: &[u8]) -> EncodingKey {
    match algorithm {
        SigningAlgorithm::EdDSA => EncodingKey::from_ed_der(pkcs8),
        SigningAlgorithm::ES256 => EncodingKey::from_ec_der(pkcs8),
    }
}

/// jsonwebtoken's verifying key from the raw public key (Ed25519: 32 bytes; P-256: the
/// uncompressed point), which is what its aws-lc-rs backend verifies with.
pub(crate) fn decoding_key(algorithm: SigningAlgorithm, public_key: &[u8]) -> DecodingKey {
    match algorithm {
        SigningAlgorithm::EdDSA => DecodingKey::from_ed_der(public_key),
        SigningAlgorithm::ES256 => DecodingKey::from_ec_der(public_key),
    }
}
