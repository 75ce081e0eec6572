//! The installation's master key: seals secrets at rest and derives sub-keys.
//!
//! Every process of one installation shares the master key (`BAAS_MASTER_KEY`, 32 bytes
//! in base64), so a secret sealed by one is opened by another and a URL signed by one is
//! verified by another. Sealing uses XChaCha20-Poly1305 with a random 192-bit nonce and
//! caller-supplied associated data (bind a sealed value to its row: tenant, id, purpose).
//! Sub-keys are HMAC-SHA256(master, label): independent keys per purpose.
//!
//! ```
//! use baas_core::MasterKey;
//!
//! let key = MasterKey::generate();
//! let sealed = key.seal(b"webhook secret", b"endpoint:42").unwrap();
//! assert_eq!(key.open(&sealed, b"endpoint:42").unwrap(), b"webhook secret");
//! assert!(key.open(&sealed, b"endpoint:43").is_err()); // wrong associated data
//!
//! let a = key.derive("signed-urls");
//! let b = key.derive("signed-urls");
//! assert_eq!(a, b);
//! assert_ne!(a, key.derive("other"));
//! ```

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox};
use sha2::Sha256;

use crate::error::{Error, ErrorKind};

/// The environment variable holding the master key.
pub const MASTER_KEY_ENV: &str = "BAAS_MASTER_KEY";

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const VERSION: u8 = 1;

/// The 32-byte master key of an installation. Its `Debug` never shows the key.
pub struct MasterKey {
    key: SecretBox<[u8; KEY_LEN]>,
}

/// A 32-byte key derived from the master key for one purpose. Equality is constant-time.
#[derive(Clone)]
pub struct DerivedKey([u8; KEY_LEN]);

impl PartialEq for DerivedKey {
    fn eq(&self, other: &Self) -> bool {
        subtle::ConstantTimeEq::ct_eq(&self.0[..], &other.0[..]).into()
    }
}

impl Eq for DerivedKey {}

impl DerivedKey {
    /// The key bytes.
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for DerivedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DerivedKey([REDACTED])")
    }
}

impl Drop for DerivedKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl Clone for MasterKey {
    fn clone(&self) -> Self {
        MasterKey::from_bytes(*self.key.expose_secret())
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([REDACTED])")
    }
}

impl MasterKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; KEY_LEN];
        rand::rng().fill_bytes(&mut bytes);
        Self::from_bytes(bytes)
    }

    /// Wrap raw key bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        MasterKey {
            key: SecretBox::new(Box::new(bytes)),
        }
    }

    /// Decode a base64 key of exactly 32 bytes.
    pub fn from_base64(encoded: &str) -> Result<Self, Error> {
        let bytes = B64
            .decode(encoded.trim())
            .map_err(|_| Error::new(ErrorKind::Invalid, "master key is not valid base64"))?;
        let bytes: [u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|_| Error::new(ErrorKind::Invalid, "master key must be exactly 32 bytes"))?;
        Ok(Self::from_bytes(bytes))
    }

    /// The key in base64, for writing to a key file or a secret manager.
    pub fn to_base64(&self) -> secrecy::SecretString {
        B64.encode(self.key.expose_secret()).into()
    }

    /// Load from `BAAS_MASTER_KEY` if set; otherwise from `path`, generating the file
    /// (mode 0600 on Unix) the first time.
    pub fn from_env_or_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        match std::env::var(MASTER_KEY_ENV) {
            Ok(v) if !v.trim().is_empty() => Self::from_base64(&v),
            _ => Self::load_or_generate(path),
        }
    }

    /// Read the key file at `path`, or create it with a fresh key. Creation is atomic
    /// (`create_new`), so two processes starting together agree on one key.
    pub fn load_or_generate(path: impl AsRef<Path>) -> Result<Self, Error> {
        use std::io::Write as _;
        let path = path.as_ref();
        let io = |e: std::io::Error| {
            Error::new(
                ErrorKind::Internal,
                "cannot read or write the master key file",
            )
            .with_source(e)
        };
        if let Ok(text) = std::fs::read_to_string(path) {
            return Self::from_base64(&text);
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let key = Self::generate();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                file.write_all(key.to_base64().expose_secret().as_bytes())
                    .map_err(io)?;
                file.sync_all().map_err(io)?;
                Ok(key)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                // Another process won the race; use its key.
                Self::from_base64(&std::fs::read_to_string(path).map_err(io)?)
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Encrypt and authenticate `plaintext`, bound to `aad`. The output is
    /// `version ‖ nonce ‖ ciphertext+tag`.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, Error> {
        let cipher = XChaCha20Poly1305::new(self.key.expose_secret().into());
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| Error::new(ErrorKind::Internal, "sealing failed"))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// Decrypt what [`MasterKey::seal`] produced with the same `aad`. Any tampering, a
    /// different key or different associated data gives an `Internal` error.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, Error> {
        let fail = || Error::new(ErrorKind::Internal, "sealed value cannot be opened");
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != VERSION {
            return Err(fail());
        }
        let (nonce, ciphertext) = sealed[1..].split_at(NONCE_LEN);
        let cipher = XChaCha20Poly1305::new(self.key.expose_secret().into());
        cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| fail())
    }

    /// A sub-key for one purpose: HMAC-SHA256(master, `label`). Every process with the
    /// same master key derives the same sub-key.
    pub fn derive(&self, label: &str) -> DerivedKey {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.expose_secret())
            .expect("HMAC takes any key length");
        mac.update(b"baas/derive/v1/");
        mac.update(label.as_bytes());
        DerivedKey(mac.finalize().into_bytes().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let key = MasterKey::from_bytes([7; 32]);
        let shown = format!("{key:?} {:?}", key.derive("x"));
        assert!(!shown.contains('7'), "{shown}");
        assert!(shown.contains("REDACTED"));
    }

    #[test]
    fn tampering_is_detected() {
        let key = MasterKey::generate();
        let mut sealed = key.seal(b"secret", b"").unwrap();
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(key.open(&sealed, b"").is_err());
        assert!(
            MasterKey::generate()
                .open(&key.seal(b"x", b"").unwrap(), b"")
                .is_err()
        );
        assert!(key.open(b"short", b"").is_err());
    }

    #[test]
    fn base64_must_be_32_bytes() {
        assert!(MasterKey::from_base64("AAAA").is_err());
        assert!(MasterKey::from_base64("not base64!").is_err());
        let key = MasterKey::generate();
        let again = MasterKey::from_base64(key.to_base64().expose_secret()).unwrap();
        assert_eq!(key.derive("a"), again.derive("a"));
    }

    #[test]
    fn key_file_is_generated_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/master.key");
        let first = MasterKey::load_or_generate(&path).unwrap();
        let second = MasterKey::load_or_generate(&path).unwrap();
        assert_eq!(first.derive("x"), second.derive("x"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
