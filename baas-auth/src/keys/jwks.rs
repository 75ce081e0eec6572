//! The JWKS document (RFC 7517) of the keys that may verify a live token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::model::{SigningAlgorithm, StoredKey};

/// A JSON Web Key Set: `{"keys": [...]}`, served at `/.well-known/jwks.json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// One public signing key (RFC 7517, RFC 8037 for OKP).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Jwk {
    /// Key type: `OKP` for Ed25519, `EC` for P-256.
    pub kty: String,
    /// Curve: `Ed25519` or `P-256`.
    pub crv: String,
    /// The public key (OKP) or its x coordinate (EC), base64url.
    pub x: String,
    /// The y coordinate (EC only), base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// The key id.
    pub kid: String,
    /// The algorithm (`EdDSA` or `ES256`).
    pub alg: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub use_: String,
}

impl Jwk {
    /// The JWK of a stored key's public half; `None` if the public key is malformed.
    pub fn from_stored(key: &StoredKey) -> Option<Jwk> {
        let (kty, crv, x, y) = match key.algorithm {
            SigningAlgorithm::EdDSA => {
                if key.public_key.len() != 32 {
                    return None;
                }
                (
                    "OKP",
                    "Ed25519",
                    URL_SAFE_NO_PAD.encode(&key.public_key),
                    None,
                )
            }
            SigningAlgorithm::ES256 => {
                if key.public_key.len() != 65 || key.public_key[0] != 0x04 {
                    return None;
                }
                let (x, y) = key.public_key[1..].split_at(32);
                (
                    "EC",
                    "P-256",
                    URL_SAFE_NO_PAD.encode(x),
                    Some(URL_SAFE_NO_PAD.encode(y)),
                )
            }
        };
        Some(Jwk {
            kty: kty.into(),
            crv: crv.into(),
            x,
            y,
            kid: key.kid.clone(),
            alg: key.algorithm.as_str().into(),
            use_: "sig".into(),
        })
    }
}
