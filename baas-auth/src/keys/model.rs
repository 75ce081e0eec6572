//! Signing keys as stored: algorithm, lifecycle state, public half, sealed private half.

use std::fmt;
use std::time::SystemTime;

/// The JWS algorithm an installation signs access tokens with.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum SigningAlgorithm {
    /// Ed25519 (RFC 8037). The default: small keys, fast, deterministic signatures.
    #[default]
    EdDSA,
    /// ECDSA with P-256 and SHA-256 (RFC 7518), for verifiers that lack Ed25519.
    ES256,
}

impl SigningAlgorithm {
    /// The JOSE name (`EdDSA`, `ES256`).
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlgorithm::EdDSA => "EdDSA",
            SigningAlgorithm::ES256 => "ES256",
        }
    }

    /// The JOSE name parsed back; `None` for anything else (including `none`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "EdDSA" => Some(SigningAlgorithm::EdDSA),
            "ES256" => Some(SigningAlgorithm::ES256),
            _ => None,
        }
    }

    pub(crate) fn jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            SigningAlgorithm::EdDSA => jsonwebtoken::Algorithm::EdDSA,
            SigningAlgorithm::ES256 => jsonwebtoken::Algorithm::ES256,
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a key is in its life: `Next` → `Current` → `Retiring` → `Retired`.
///
/// * `Next` is published in the JWKS but signs nothing yet, so every verifier and
///   client cache knows it before the first token it signs appears.
/// * `Current` signs new tokens (exactly one key is current).
/// * `Retiring` signs nothing but still verifies until `retire_after`, when the last
///   token it signed has expired.
/// * `Retired` verifies nothing; its private half has been deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Published, not yet signing.
    Next,
    /// Signing.
    Current,
    /// Verifying only, until its window closes.
    Retiring,
    /// Neither signing nor verifying; private half deleted.
    Retired,
}

impl KeyState {
    /// A stable lowercase name, for storage and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Next => "next",
            KeyState::Current => "current",
            KeyState::Retiring => "retiring",
            KeyState::Retired => "retired",
        }
    }
}

/// One signing key as a [`KeyStore`](super::KeyStore) holds it.
///
/// The private half is a PKCS#8 document sealed with the installation's
/// [`MasterKey`](baas_core::MasterKey), with the `kid` as associated data, so a sealed
/// blob cannot be moved to another key's row. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// The key id, as in the JWS header and the JWKS.
    pub kid: String,
    /// The algorithm the key is for.
    pub algorithm: SigningAlgorithm,
    /// Lifecycle state.
    pub state: KeyState,
    /// The public key: 32 raw bytes for Ed25519, the 65-byte uncompressed point for P-256.
    pub public_key: Vec<u8>,
    /// The sealed PKCS#8 private key; `None` once retired.
    pub sealed_private: Option<Vec<u8>>,
    /// When the key was generated (and published).
    pub created_at: SystemTime,
    /// When it became current.
    pub activated_at: Option<SystemTime>,
    /// For a retiring key: when it stops verifying.
    pub retire_after: Option<SystemTime>,
}

impl StoredKey {
    /// Whether a token signed by this key may still verify at `now`: `Next` and
    /// `Current` keys always, a `Retiring` key until `retire_after`, a `Retired` key never.
    pub fn verifies_at(&self, now: SystemTime) -> bool {
        verifies_at(self.state, self.retire_after, now)
    }
}

pub(crate) fn verifies_at(
    state: KeyState,
    retire_after: Option<SystemTime>,
    now: SystemTime,
) -> bool {
    match state {
        KeyState::Next | KeyState::Current => true,
        KeyState::Retiring => retire_after.is_none_or(|t| now < t),
        KeyState::Retired => false,
    }
}

impl fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("state", &self.state)
            .field(
                "sealed_private",
                &if self.sealed_private.is_some() {
                    "[SEALED]"
                } else {
                    "[DELETED]"
                },
            )
            .field("created_at", &self.created_at)
            .field("activated_at", &self.activated_at)
            .field("retire_after", &self.retire_after)
            .finish_non_exhaustive()
    }
}
