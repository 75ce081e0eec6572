//! SQL backends on baas-store's [`Database`](baas_store::Database) (SQLite and
//! Postgres): [`SqlUserStore`], [`SqlSessionStore`], [`SqlApiKeyStore`],
//! [`SqlKeyStore`], [`SqlInstallationStore`] and [`SqlLoginFailureStore`], with their
//! tables in baas-auth's own [`Migrator`].
//!
//! Run the migrations once at start-up, after the framework's, under one lock:
//!
//! ```no_run
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use baas_auth::sql::{Migrator, SqlUserStore};
//! use baas_store::Database;
//!
//! let db = Database::connect("sqlite://./data/baas.db").await?;
//! db.migrate_with::<Migrator>().await?;
//! let users = SqlUserStore::new(db.clone(), baas_core::clock::system());
//! # let _ = users;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! Times are stored as milliseconds since the Unix epoch (`BIGINT`), ids as their
//! hyphenated text (which sorts like the UUID), roles as a JSON array, secrets only as
//! SHA-256 digests (and the throttle's accounts as digests of the email).

mod api_keys;
mod error;
mod installation;
mod keys;
mod login_failures;
mod migration;
mod schema;
mod sessions;
mod users;

pub use api_keys::SqlApiKeyStore;
pub use installation::SqlInstallationStore;
pub use keys::SqlKeyStore;
pub use login_failures::SqlLoginFailureStore;
pub use migration::Migrator;
pub use sessions::SqlSessionStore;
pub use users::SqlUserStore;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A wall-clock time as milliseconds since the epoch.
pub(crate) fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Milliseconds since the epoch back to a time (the epoch for negative values).
pub(crate) fn from_millis(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// A duration in milliseconds, saturating.
pub(crate) fn duration_millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

pub(crate) fn roles_json(roles: &[String]) -> String {
    serde_json::to_string(roles).unwrap_or_else(|_| "[]".to_owned())
}

pub(crate) fn roles_from_json(text: &str) -> Result<Vec<String>, crate::AuthError> {
    serde_json::from_str(text).map_err(crate::AuthError::internal)
}
