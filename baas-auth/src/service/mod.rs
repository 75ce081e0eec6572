//! [`IdentityService`]: the identity flows of API.md over the stores — sign-up, password
//! login with brute-force protection, refresh rotation with reuse detection, revocation
//! (RFC 7009), logout, password change, user administration, API keys and signing-key
//! rotation — each recorded in the audit log with the client's IP and user agent.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use baas_auth::service::{ClientInfo, IdentityConfig, IdentityService, Stores};
//! use baas_auth::password::{HashConfig, PasswordHasher};
//! use baas_auth::TokenConfig;
//! use baas_core::{MasterKey, SystemClock};
//! use secrecy::SecretString;
//!
//! let clock = Arc::new(SystemClock);
//! let stores = Stores::memory(clock.clone());
//! let config = IdentityConfig::new(TokenConfig::new("baas", "baas"));
//! let identity = IdentityService::new(stores, MasterKey::generate(), config, clock)
//!     // Small argon2 parameters keep the example fast; the default is OWASP's.
//!     .with_hasher(PasswordHasher::new(HashConfig { memory_kib: 1024, iterations: 1, ..HashConfig::default() })?);
//! identity.start().await?;
//!
//! let client = ClientInfo::default();
//! let password = SecretString::from("violet-otter-mandolin");
//! let user = identity.signup("acme", "Alice@Example.com", &password, &client).await?;
//! assert_eq!(user.roles, ["admin"]); // the tenant's first user
//!
//! let tokens = identity.login("acme", "alice@example.com", &password, &client).await?;
//! let principal = identity.authenticator().authenticate(tokens.access_token()).await?;
//! assert_eq!(principal.subject, user.id.to_string());
//! assert!(principal.is_operator()); // the first tenant is the operator tenant
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod admin;
mod api_key_auth;
mod client;
mod revocations;
mod throttle;
mod tokens;
mod users;

use std::fmt;
use std::sync::Arc;

use baas_core::{MasterKey, SharedClock, TenantId};
use baas_store::audit::{DynAuditLog, MemoryAuditLog};

use crate::api_keys::{DynApiKeyStore, MemoryApiKeyStore};
use crate::error::AuthError;
use crate::installation::{DynInstallationStore, MemoryInstallationStore};
use crate::keys::{DynKeyStore, KeyManager, KeyRing, MemoryKeyStore};
use crate::layer::{AuthLayer, DynAuthenticator, OperatorTenant, TokenAuthenticator};
use crate::login_failures::{DynLoginFailureStore, MemoryLoginFailureStore};
use crate::password::{PasswordHasher, PasswordPolicy};
use crate::sessions::{DynSessionStore, MemorySessionStore, RefreshPolicy};
use crate::token::{TokenConfig, TokenIssuer, TokenVerifier};
use crate::users::{DynUserStore, MemoryUserStore};

pub use api_key_auth::ApiKeyAuthenticator;
pub use client::ClientInfo;
pub use revocations::SessionRevocations;
pub use throttle::{LoginThrottle, ThrottleConfig};
pub use tokens::TokenResponse;

/// The client id written into tokens issued through the password grant.
pub const DEFAULT_CLIENT_ID: &str = "baas";

/// The longest lifetime an API key may be given: ten years.
pub const MAX_API_KEY_LIFETIME: std::time::Duration =
    std::time::Duration::from_secs(10 * 365 * 24 * 60 * 60);

/// Every store the service works over.
#[derive(Debug, Clone)]
pub struct Stores {
    /// Users.
    pub users: Arc<DynUserStore>,
    /// Sessions and refresh-token families.
    pub sessions: Arc<DynSessionStore>,
    /// API keys.
    pub api_keys: Arc<DynApiKeyStore>,
    /// Signing keys.
    pub keys: Arc<DynKeyStore>,
    /// Installation settings (the operator tenant).
    pub installation: Arc<DynInstallationStore>,
    /// The audit log.
    pub audit: Arc<DynAuditLog>,
    /// Failed-login windows per account: the account-wide budget of the
    /// [`LoginThrottle`]. Shared through SQL, it holds for the whole installation.
    pub login_failures: Arc<DynLoginFailureStore>,
}

impl Stores {
    /// Memory backends for everything (tests, development).
    pub fn memory(clock: SharedClock) -> Self {
        Stores {
            users: Arc::new(MemoryUserStore::new(clock.clone())),
            sessions: Arc::new(MemorySessionStore::new(clock.clone())),
            api_keys: Arc::new(MemoryApiKeyStore::new(clock.clone())),
            keys: Arc::new(MemoryKeyStore::new()),
            installation: Arc::new(MemoryInstallationStore::new()),
            audit: Arc::new(MemoryAuditLog::with_clock(clock.clone())),
            login_failures: Arc::new(MemoryLoginFailureStore::new(clock)),
        }
    }
}

#[cfg(feature = "sql")]
impl Stores {
    /// SQL backends for everything on `db` (SQLite or Postgres). Run baas-auth's
    /// migrations first: `db.migrate_with::<baas_auth::sql::Migrator>()`.
    #[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
    pub fn sql(db: &baas_store::Database, clock: SharedClock) -> Self {
        use crate::sql::{
            SqlApiKeyStore, SqlInstallationStore, SqlKeyStore, SqlLoginFailureStore,
            SqlSessionStore, SqlUserStore,
        };
        Stores {
            users: Arc::new(SqlUserStore::new(db.clone(), clock.clone())),
            sessions: Arc::new(SqlSessionStore::new(db.clone(), clock.clone())),
            api_keys: Arc::new(SqlApiKeyStore::new(db.clone(), clock.clone())),
            keys: Arc::new(SqlKeyStore::new(db.clone())),
            installation: Arc::new(SqlInstallationStore::new(db.clone())),
            audit: Arc::new(baas_store::audit::SqlAuditLog::with_clock(
                db.clone(),
                clock.clone(),
            )),
            login_failures: Arc::new(SqlLoginFailureStore::new(db.clone(), clock)),
        }
    }
}

/// How the service behaves.
#[derive(Debug, Clone)]
pub struct IdentityConfig {
    /// Access tokens: issuer, audience, algorithm, lifetime. Its `operator_tenant`, when
    /// set (`BAAS_OPERATOR_TENANT`), fixes the operator tenant; otherwise the first
    /// tenant created on an empty database becomes it.
    pub token: TokenConfig,
    /// Refresh tokens: lifetime (`BAAS_REFRESH_TOKEN_TTL`) and grace window.
    pub refresh: RefreshPolicy,
    /// What a new password must satisfy.
    pub password_policy: PasswordPolicy,
    /// Brute-force protection.
    pub throttle: ThrottleConfig,
    /// The `client_id` of tokens from the password grant.
    pub client_id: String,
}

impl IdentityConfig {
    /// Defaults around `token`.
    pub fn new(token: TokenConfig) -> Self {
        IdentityConfig {
            token,
            refresh: RefreshPolicy::default(),
            password_policy: PasswordPolicy::default(),
            throttle: ThrottleConfig::default(),
            client_id: DEFAULT_CLIENT_ID.to_owned(),
        }
    }
}

/// The identity service. See the [module docs](self). Cheap to share behind an `Arc`;
/// every method takes `&self`.
pub struct IdentityService {
    pub(crate) stores: Stores,
    pub(crate) config: IdentityConfig,
    pub(crate) clock: SharedClock,
    pub(crate) hasher: PasswordHasher,
    pub(crate) keys: Arc<KeyManager>,
    pub(crate) issuer: TokenIssuer,
    pub(crate) verifier: Arc<TokenVerifier>,
    pub(crate) operator: OperatorTenant,
    pub(crate) authenticator: Arc<TokenAuthenticator>,
    pub(crate) throttle: LoginThrottle,
    pub(crate) revocations: Arc<SessionRevocations>,
}

impl fmt::Debug for IdentityService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityService")
            .field("stores", &self.stores)
            .field("operator", &self.operator)
            .finish_non_exhaustive()
    }
}

impl IdentityService {
    /// A service over `stores`, sealing signing keys with `master`. Call
    /// [`start`](Self::start) before serving.
    pub fn new(
        stores: Stores,
        master: MasterKey,
        config: IdentityConfig,
        clock: SharedClock,
    ) -> Self {
        let keys = Arc::new(KeyManager::new(
            Arc::clone(&stores.keys),
            master,
            clock.clone(),
            config.token.clone(),
        ));
        let ring = Arc::new(KeyRing::new(
            Arc::clone(&stores.keys),
            clock.clone(),
            config.token.clone(),
        ));
        let revocations = Arc::new(SessionRevocations::new(
            Arc::clone(&stores.sessions),
            clock.clone(),
        ));
        let verifier = Arc::new(TokenVerifier::new(
            ring,
            Arc::clone(&revocations) as Arc<crate::revocation::DynRevocationView>,
            clock.clone(),
            config.token.clone(),
        ));
        let operator = match &config.token.operator_tenant {
            Some(tenant) => OperatorTenant::fixed(tenant.clone()),
            None => OperatorTenant::from_store(Arc::clone(&stores.installation), clock.clone()),
        };
        let api_keys = Arc::new(ApiKeyAuthenticator::new(Arc::clone(&stores.api_keys)));
        let authenticator = Arc::new(
            TokenAuthenticator::new(Arc::clone(&verifier))
                .with_api_keys(api_keys)
                .with_operator(operator.clone()),
        );
        IdentityService {
            issuer: TokenIssuer::new(Arc::clone(&keys), clock.clone()),
            throttle: LoginThrottle::with_store(
                config.throttle,
                clock.clone(),
                Arc::clone(&stores.login_failures),
            ),
            hasher: PasswordHasher::default(),
            stores,
            config,
            clock,
            keys,
            verifier,
            operator,
            authenticator,
            revocations,
        }
    }

    /// Use `hasher` instead of the default (OWASP parameters).
    pub fn with_hasher(mut self, hasher: PasswordHasher) -> Self {
        self.hasher = hasher;
        self
    }

    /// Start-up work, safe on every process: create the first signing keys if there are
    /// none, and read the operator tenant.
    pub async fn start(&self) -> Result<(), AuthError> {
        self.keys.ensure().await?;
        self.operator.get().await?;
        Ok(())
    }

    /// The authenticator of bearer credentials (access tokens and API keys), with the
    /// operator flag set for admins of the operator tenant.
    pub fn authenticator(&self) -> Arc<DynAuthenticator> {
        Arc::clone(&self.authenticator) as Arc<DynAuthenticator>
    }

    /// The [`AuthLayer`] for `StandardStack::apply_with_auth`.
    pub fn layer(&self) -> AuthLayer {
        AuthLayer::new(self.authenticator())
    }

    /// The operator tenant, if chosen.
    pub async fn operator_tenant(&self) -> Result<Option<TenantId>, AuthError> {
        self.operator.get().await
    }

    /// The key manager (rotation, JWKS).
    pub fn keys(&self) -> &Arc<KeyManager> {
        &self.keys
    }

    /// The access-token verifier.
    pub fn verifier(&self) -> &Arc<TokenVerifier> {
        &self.verifier
    }

    /// The login throttle; run its [`sweep`](LoginThrottle::sweep) periodically to
    /// delete failed-login windows that have passed (DESIGN.md rule 11).
    pub fn throttle(&self) -> &LoginThrottle {
        &self.throttle
    }

    /// The stores.
    pub fn stores(&self) -> &Stores {
        &self.stores
    }

    /// The configuration.
    pub fn config(&self) -> &IdentityConfig {
        &self.config
    }
}

#[cfg(test)]
pub(crate) mod tests;
