//! argon2's working memory, reused from one hash to the next.
//!
//! Each argon2id call needs `m` KiB of blocks (19 MiB by default). Allocating and
//! freeing that on every login leaves glibc's heap fragmented across its per-thread
//! arenas: a login storm once grew the platform to 486 MiB resident. Instead, each
//! running hash takes a block arena from a free list and puts it back: since the
//! hasher's semaphore lets at most `max_concurrent` hashes run, at most that many
//! arenas ever exist, and resident memory stays at `max_concurrent × m` KiB.

use std::sync::Mutex;

use argon2::password_hash::{Output, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};

use crate::error::AuthError;

/// The free block arenas of one hasher.
pub(super) struct Arenas {
    free: Mutex<Vec<Vec<Block>>>,
    /// The largest arena kept (the hasher's own parameters). A stored hash with more
    /// memory than that is verified on a temporary allocation instead.
    keep_blocks: usize,
}

impl Arenas {
    /// Arenas for hashes of `params` (and anything smaller).
    pub(super) fn new(params: &Params) -> Self {
        Arenas {
            free: Mutex::new(Vec::new()),
            keep_blocks: params.block_count(),
        }
    }

    /// How many arenas exist now (for tests).
    #[cfg(test)]
    pub(super) fn count(&self) -> usize {
        self.free.lock().map_or(0, |free| free.len())
    }

    /// Fill `out` with the argon2 hash of `password` and `salt` under `argon`'s
    /// algorithm, version and parameters, working in a reused arena.
    fn hash_into(
        &self,
        argon: &Argon2<'_>,
        params: &Params,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> argon2::Result<()> {
        let needed = params.block_count();
        if needed > self.keep_blocks {
            return argon.hash_password_into(password, salt, out);
        }
        let mut arena = self
            .free
            .lock()
            .ok()
            .and_then(|mut free| free.pop())
            .unwrap_or_default();
        if arena.len() < needed {
            arena.resize(needed, Block::default());
        }
        let result =
            argon.hash_password_into_with_memory(password, salt, out, &mut arena[..needed]);
        if let Ok(mut free) = self.free.lock() {
            free.push(arena);
        }
        result
    }

    /// argon2id of `password` under `params` with a fresh 128-bit salt, as a PHC string.
    pub(super) fn hash(
        &self,
        params: &Params,
        password: &SecretString,
    ) -> Result<String, AuthError> {
        let mut salt = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt);
        let salt_string = SaltString::encode_b64(&salt).map_err(AuthError::internal)?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let output = Output::init_with(output_len, |out| {
            self.hash_into(
                &argon,
                params,
                password.expose_secret().as_bytes(),
                &salt,
                out,
            )
            .map_err(Into::into)
        })
        .map_err(AuthError::internal)?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: params.try_into().map_err(AuthError::internal)?,
            salt: Some(salt_string.as_salt()),
            hash: Some(output),
        };
        Ok(phc.to_string())
    }

    /// Whether `password` matches the PHC string `phc`, hashed with the algorithm,
    /// version and parameters `phc` names (so old hashes keep verifying); the
    /// comparison is constant-time. A PHC string that is not an argon2 hash is an
    /// internal error (the store is corrupt), not a mismatch.
    pub(super) fn verify(&self, password: &SecretString, phc: &str) -> Result<bool, AuthError> {
        let hash = PasswordHash::new(phc).map_err(AuthError::internal)?;
        let algorithm = Algorithm::try_from(hash.algorithm).map_err(AuthError::internal)?;
        let version = hash
            .version
            .map(Version::try_from)
            .transpose()
            .map_err(AuthError::internal)?
            .unwrap_or_default();
        let params = Params::try_from(&hash).map_err(AuthError::internal)?;
        let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
            return Err(AuthError::internal("PHC string without a salt or a hash"));
        };
        let mut salt_buf = [0u8; Salt::MAX_LENGTH];
        let salt = salt
            .decode_b64(&mut salt_buf)
            .map_err(AuthError::internal)?;
        let argon = Argon2::new(algorithm, version, params.clone());
        let computed = Output::init_with(expected.len(), |out| {
            self.hash_into(
                &argon,
                &params,
                password.expose_secret().as_bytes(),
                salt,
                out,
            )
            .map_err(Into::into)
        })
        .map_err(AuthError::internal)?;
        // `Output`'s equality is constant-time.
        Ok(computed == expected)
    }
}
