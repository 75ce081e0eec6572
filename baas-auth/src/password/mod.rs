//! Passwords: argon2id hashing on a bounded blocking pool, and the password policy.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use baas_auth::password::{HashConfig, PasswordHasher, PasswordPolicy};
//! use secrecy::SecretString;
//!
//! let policy = PasswordPolicy::default();
//! let password = SecretString::from("correct horse battery staple");
//! policy.check(&password)?;
//! assert!(policy.check(&SecretString::from("password123")).is_err()); // too common
//!
//! // Small parameters keep the example fast; the default is OWASP's m = 19 MiB, t = 2.
//! let hasher = PasswordHasher::new(HashConfig { memory_kib: 1024, iterations: 1, ..HashConfig::default() })?;
//! let phc = hasher.hash(&password).await?;
//! assert!(phc.starts_with("$argon2id$"));
//! assert!(hasher.verify(&password, &phc).await?);
//! assert!(!hasher.verify(&SecretString::from("wrong"), &phc).await?);
//! assert!(!hasher.needs_rehash(&phc));
//! # Ok::<(), baas_auth::AuthError>(())
//! # }).unwrap();
//! ```

mod common;
mod hasher;
mod memory;
mod policy;

pub use common::is_common;
pub use hasher::{HashConfig, PasswordHasher, Verified};
pub use policy::PasswordPolicy;
