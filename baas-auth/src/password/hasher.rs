//! argon2id hashing and verification on tokio's blocking pool, behind a semaphore.

use std::fmt;
use std::sync::Arc;

use argon2::password_hash::PasswordHash;
use argon2::{Params, Version};
use rand::RngCore as _;
use secrecy::SecretString;
use tokio::sync::{OnceCell, Semaphore};

use super::memory::Arenas;
use crate::error::AuthError;

/// argon2id parameters and the concurrency bound.
///
/// The defaults are OWASP's recommendation for argon2id: m = 19 MiB (19 456 KiB),
/// t = 2 iterations, p = 1 lane; at most as many hashes at once as there are CPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashConfig {
    /// Memory cost in KiB.
    pub memory_kib: u32,
    /// Iterations (time cost).
    pub iterations: u32,
    /// Lanes (parallelism).
    pub parallelism: u32,
    /// How many hashes or verifications may run at once; further requests wait.
    pub max_concurrent: usize,
}

impl Default for HashConfig {
    fn default() -> Self {
        HashConfig {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
            max_concurrent: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// The outcome of [`PasswordHasher::verify_and_upgrade`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// The password does not match.
    Invalid,
    /// The password matches. When the stored hash used other parameters, `rehash` is a
    /// fresh PHC string with the current ones, to store in its place.
    Valid {
        /// A replacement hash, when the stored one is out of date.
        rehash: Option<String>,
    },
}

/// Hashes and verifies passwords with argon2id, producing PHC strings
/// (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`).
///
/// Every hash and verification runs on tokio's blocking pool and holds a permit of a
/// semaphore sized [`HashConfig::max_concurrent`], so a storm of logins queues up instead
/// of occupying every thread and starving other requests. Comparison of the computed and
/// stored hash is constant-time (argon2's `PasswordVerifier`).
#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    semaphore: Arc<Semaphore>,
    dummy: OnceCell<String>,
    /// argon2's working memory, one arena per running hash, reused.
    arenas: Arenas,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("m_cost", &self.inner.params.m_cost())
            .field("t_cost", &self.inner.params.t_cost())
            .field("p_cost", &self.inner.params.p_cost())
            .field(
                "available_permits",
                &self.inner.semaphore.available_permits(),
            )
            .finish()
    }
}

impl Default for PasswordHasher {
    fn default() -> Self {
        PasswordHasher::new(HashConfig::default()).expect("the default parameters are valid")
    }
}

impl PasswordHasher {
    /// A hasher with `config`; an error if argon2 refuses the parameters or the
    /// concurrency is zero.
    pub fn new(config: HashConfig) -> Result<Self, AuthError> {
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            None,
        )
        .map_err(|e| AuthError::Config(format!("argon2 parameters: {e}")))?;
        if config.max_concurrent == 0 {
            return Err(AuthError::Config(
                "max_concurrent must be at least 1".into(),
            ));
        }
        Ok(PasswordHasher {
            inner: Arc::new(Inner {
                arenas: Arenas::new(&params),
                params,
                semaphore: Arc::new(Semaphore::new(config.max_concurrent)),
                dummy: OnceCell::new(),
            }),
        })
    }

    /// Run `work` on the blocking pool while holding a permit.
    async fn run<T, F>(&self, work: F) -> Result<T, AuthError>
    where
        F: FnOnce() -> Result<T, AuthError> + Send + 'static,
        T: Send + 'static,
    {
        let permit = Arc::clone(&self.inner.semaphore)
            .acquire_owned()
            .await
            .map_err(AuthError::internal)?;
        let joined = tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await;
        joined.map_err(AuthError::internal)?
    }

    /// Hash `password` with a fresh 128-bit salt; returns the PHC string.
    pub async fn hash(&self, password: &SecretString) -> Result<String, AuthError> {
        let this = self.clone();
        let password = password.clone();
        self.run(move || this.inner.arenas.hash(&this.inner.params, &password))
            .await
    }

    /// Whether `password` matches the PHC string `phc`. A PHC string that cannot be
    /// parsed is an internal error (the store is corrupt), not a mismatch.
    pub async fn verify(&self, password: &SecretString, phc: &str) -> Result<bool, AuthError> {
        let this = self.clone();
        let password = password.clone();
        let phc = phc.to_owned();
        self.run(move || this.inner.arenas.verify(&password, &phc))
            .await
    }

    /// Verify `password` against `phc` and, when it matches but [`needs_rehash`] says
    /// the parameters are out of date, compute the replacement hash in the same step.
    ///
    /// [`needs_rehash`]: PasswordHasher::needs_rehash
    pub async fn verify_and_upgrade(
        &self,
        password: &SecretString,
        phc: &str,
    ) -> Result<Verified, AuthError> {
        let password = password.clone();
        let phc = phc.to_owned();
        let this = self.clone();
        self.run(move || {
            let inner = &this.inner;
            if !inner.arenas.verify(&password, &phc)? {
                return Ok(Verified::Invalid);
            }
            let rehash = if this.needs_rehash(&phc) {
                Some(inner.arenas.hash(&inner.params, &password)?)
            } else {
                None
            };
            Ok(Verified::Valid { rehash })
        })
        .await
    }

    /// Spend the same work as a verification against a hash of the current parameters
    /// and return `false`: call it when a login names an unknown account, so response
    /// time does not reveal which accounts exist.
    pub async fn verify_dummy(&self, password: &SecretString) -> Result<bool, AuthError> {
        let dummy = self
            .inner
            .dummy
            .get_or_try_init(|| async {
                let mut random = [0u8; 24];
                rand::rng().fill_bytes(&mut random);
                let throwaway = SecretString::from(hex_string(&random));
                self.hash(&throwaway).await
            })
            .await?
            .clone();
        self.verify(password, &dummy).await.map(|_| false)
    }

    /// Whether a stored PHC string was made with other parameters (or another
    /// algorithm or version) than this hasher's, so it should be replaced at the next
    /// successful login. An unparseable string also needs a rehash.
    pub fn needs_rehash(&self, phc: &str) -> bool {
        let Ok(hash) = PasswordHash::new(phc) else {
            return true;
        };
        if hash.algorithm != argon2::ARGON2ID_IDENT || hash.version != Some(Version::V0x13.into()) {
            return true;
        }
        let Ok(stored) = Params::try_from(&hash) else {
            return true;
        };
        let current = &self.inner.params;
        stored.m_cost() != current.m_cost()
            || stored.t_cost() != current.t_cost()
            || stored.p_cost() != current.p_cost()
            || hash.hash.map(|h| h.len())
                != Some(current.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN))
    }
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;

    fn small(m: u32, t: u32) -> PasswordHasher {
        PasswordHasher::new(HashConfig {
            memory_kib: m,
            iterations: t,
            parallelism: 1,
            max_concurrent: 2,
        })
        .unwrap()
    }

    #[test]
    fn defaults_are_owasp() {
        let c = HashConfig::default();
        assert_eq!((c.memory_kib, c.iterations, c.parallelism), (19456, 2, 1));
        assert!(c.max_concurrent >= 1);
    }

    #[tokio::test]
    async fn hashes_are_salted_phc_strings_that_verify() {
        let h = small(1024, 1);
        let pw = SecretString::from("violet-otter-mandolin");
        let a = h.hash(&pw).await.unwrap();
        let b = h.hash(&pw).await.unwrap();
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{a}");
        assert!(h.verify(&pw, &a).await.unwrap());
        assert!(
            !h.verify(&SecretString::from("violet-otter-mandolin!"), &a)
                .await
                .unwrap()
        );
        assert!(h.verify(&pw, "not a phc string").await.is_err());
    }

    #[tokio::test]
    async fn parameter_changes_ask_for_a_rehash_at_login() {
        let old = small(1024, 1);
        let new = small(2048, 1);
        let pw = SecretString::from("violet-otter-mandolin");
        let phc = old.hash(&pw).await.unwrap();
        assert!(!old.needs_rehash(&phc));
        assert!(new.needs_rehash(&phc));
        assert!(
            new.needs_rehash("$argon2i$v=19$m=2048,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
        );
        assert!(new.needs_rehash("garbage"));

        match new.verify_and_upgrade(&pw, &phc).await.unwrap() {
            Verified::Valid {
                rehash: Some(fresh),
            } => {
                assert!(fresh.contains("m=2048"));
                assert!(!new.needs_rehash(&fresh));
                assert!(new.verify(&pw, &fresh).await.unwrap());
            }
            other => panic!("expected a rehash, got {other:?}"),
        }
        assert_eq!(
            new.verify_and_upgrade(&SecretString::from("nope-nope-nope"), &phc)
                .await
                .unwrap(),
            Verified::Invalid
        );
        let current = new.hash(&pw).await.unwrap();
        assert_eq!(
            new.verify_and_upgrade(&pw, &current).await.unwrap(),
            Verified::Valid { rehash: None }
        );
    }

    #[tokio::test]
    async fn hashes_agree_with_the_argon2_crate_both_ways() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _, SaltString};
        let h = small(1024, 1);
        let pw = SecretString::from("violet-otter-mandolin");
        let ours = h.hash(&pw).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        let stock = argon2::Argon2::default();
        assert!(
            stock
                .verify_password(pw.expose_secret().as_bytes(), &parsed)
                .is_ok()
        );
        assert!(
            stock
                .verify_password(b"violet-otter-mandolin!", &parsed)
                .is_err()
        );

        // Hashes the stock crate made, of another variant and parameters, still verify.
        let salt = SaltString::encode_b64(b"sixteen byte slt").unwrap();
        for algorithm in [argon2::Algorithm::Argon2i, argon2::Algorithm::Argon2id] {
            let params = Params::new(512, 2, 1, Some(40)).unwrap();
            let theirs = argon2::Argon2::new(algorithm, Version::V0x13, params)
                .hash_password(pw.expose_secret().as_bytes(), &salt)
                .unwrap()
                .to_string();
            assert!(h.verify(&pw, &theirs).await.unwrap(), "{theirs}");
            assert!(
                !h.verify(&SecretString::from("other-password-1"), &theirs)
                    .await
                    .unwrap()
            );
        }
    }

    #[tokio::test]
    async fn working_memory_is_reused_one_arena_per_permit() {
        let h = small(1024, 1); // max_concurrent: 2
        let pw = SecretString::from("violet-otter-mandolin");
        let phc = h.hash(&pw).await.unwrap();
        let tasks: Vec<_> = (0..12)
            .map(|i| {
                let h = h.clone();
                let pw = pw.clone();
                let phc = phc.clone();
                tokio::spawn(async move {
                    if i % 2 == 0 {
                        h.verify(&pw, &phc).await.map(|_| ())
                    } else {
                        h.hash(&pw).await.map(|_| ())
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let arenas = h.inner.arenas.count();
        assert!((1..=2).contains(&arenas), "{arenas} arenas for 2 permits");

        // A stored hash bigger than the hasher's own parameters verifies on a temporary
        // allocation: no arena of that size is kept.
        let bigger = small(4096, 1).hash(&pw).await.unwrap();
        assert!(h.verify(&pw, &bigger).await.unwrap());
        assert_eq!(h.inner.arenas.count(), arenas);
    }

    #[tokio::test]
    async fn dummy_verification_always_fails() {
        let h = small(1024, 1);
        assert!(
            !h.verify_dummy(&SecretString::from("anything-at-all"))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn concurrency_is_bounded_by_the_semaphore() {
        let h = PasswordHasher::new(HashConfig {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
            max_concurrent: 1,
        })
        .unwrap();
        // Hold the only permit: a hash must wait for it.
        let permit = Arc::clone(&h.inner.semaphore)
            .acquire_owned()
            .await
            .unwrap();
        let h2 = h.clone();
        let task = tokio::spawn(async move { h2.hash(&SecretString::from("x-y-z-w-v-u")).await });
        tokio::task::yield_now().await;
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(!task.is_finished());
        drop(permit);
        assert!(task.await.unwrap().is_ok());
    }

    #[test]
    fn bad_configuration_is_refused() {
        assert!(
            PasswordHasher::new(HashConfig {
                memory_kib: 1,
                ..HashConfig::default()
            })
            .is_err()
        );
        assert!(
            PasswordHasher::new(HashConfig {
                max_concurrent: 0,
                ..HashConfig::default()
            })
            .is_err()
        );
    }
}
