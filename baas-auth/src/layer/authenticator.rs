//! The [`Authenticator`] trait and [`TokenAuthenticator`], which accepts access tokens
//! and (optionally) API keys.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use baas_core::SharedClock;

use async_trait::async_trait;
use baas_core::principal::ROLE_ADMIN;
use baas_core::{Principal, TenantId};
use parking_lot::{Mutex, RwLock};

use crate::error::AuthError;
use crate::installation::DynInstallationStore;
use crate::secret::API_KEY_PREFIX;
use crate::token::TokenVerifier;

/// Turns a bearer credential into a [`Principal`], or refuses it.
///
/// A refused credential is an [`AuthError`] of kind `Unauthenticated` (the layer answers
/// 401 `invalid_token`); any other error (a store that cannot answer) is passed on as it
/// is, so an outage is a 503 rather than a silent anonymous request.
#[async_trait]
pub trait Authenticator: Send + Sync + fmt::Debug + 'static {
    /// Authenticate `credential` (the text after `Bearer `).
    async fn authenticate(&self, credential: &str) -> Result<Principal, AuthError>;
}

/// An authenticator chosen at run time.
pub type DynAuthenticator = dyn Authenticator;

fn _object_safe(_: Box<dyn Authenticator>) {}

/// Which tenant is the operator tenant: fixed by configuration (`BAAS_OPERATOR_TENANT`)
/// or read from an [`InstallationStore`](crate::InstallationStore), where the first
/// tenant created on an empty database claims it. Once known it never changes, so it is
/// cached for good; while unknown, the store is asked at most once a second.
#[derive(Clone)]
pub struct OperatorTenant {
    inner: Arc<OperatorInner>,
}

struct OperatorInner {
    known: RwLock<Option<TenantId>>,
    source: Option<(Arc<DynInstallationStore>, SharedClock)>,
    last_asked: Mutex<Option<Instant>>,
}

impl fmt::Debug for OperatorTenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperatorTenant")
            .field("known", &*self.inner.known.read())
            .finish_non_exhaustive()
    }
}

impl OperatorTenant {
    fn build(
        known: Option<TenantId>,
        source: Option<(Arc<DynInstallationStore>, SharedClock)>,
    ) -> Self {
        OperatorTenant {
            inner: Arc::new(OperatorInner {
                known: RwLock::new(known),
                source,
                last_asked: Mutex::new(None),
            }),
        }
    }

    /// A fixed operator tenant.
    pub fn fixed(tenant: TenantId) -> Self {
        Self::build(Some(tenant), None)
    }

    /// No operator tenant at all (nobody is an operator).
    pub fn none() -> Self {
        Self::build(None, None)
    }

    /// The operator tenant as recorded in `store`, asked at most once a second by
    /// `clock` while unknown.
    pub fn from_store(store: Arc<DynInstallationStore>, clock: SharedClock) -> Self {
        Self::build(None, Some((store, clock)))
    }

    /// Record a tenant learnt elsewhere (the service's claim at the first signup).
    pub fn learn(&self, tenant: TenantId) {
        *self.inner.known.write() = Some(tenant);
    }

    /// The operator tenant, if one is known.
    pub async fn get(&self) -> Result<Option<TenantId>, AuthError> {
        if let Some(known) = &*self.inner.known.read() {
            return Ok(Some(known.clone()));
        }
        let Some((source, clock)) = &self.inner.source else {
            return Ok(None);
        };
        {
            let mut last = self.inner.last_asked.lock();
            let now = clock.monotonic();
            if last.is_some_and(|t| now.saturating_duration_since(t) < Duration::from_secs(1)) {
                return Ok(None);
            }
            *last = Some(now);
        }
        let found = source.operator_tenant().await?;
        if let Some(tenant) = &found {
            self.learn(tenant.clone());
        }
        Ok(found)
    }

    /// Whether `principal` is an operator: an admin of the operator tenant.
    pub async fn is_operator(&self, principal: &Principal) -> Result<bool, AuthError> {
        if !principal.roles.contains(ROLE_ADMIN) {
            return Ok(false);
        }
        Ok(self.get().await?.as_ref() == Some(&principal.tenant))
    }
}

/// The standard [`Authenticator`]: API keys (credentials starting with
/// [`API_KEY_PREFIX`](crate::API_KEY_PREFIX), `baas_`) go to the API-key authenticator, everything else to the
/// [`TokenVerifier`]; the operator flag is set for admins of the [`OperatorTenant`].
#[derive(Debug, Clone)]
pub struct TokenAuthenticator {
    tokens: Arc<TokenVerifier>,
    api_keys: Option<Arc<DynAuthenticator>>,
    operator: OperatorTenant,
}

impl TokenAuthenticator {
    /// Access tokens only; no operator tenant.
    pub fn new(tokens: Arc<TokenVerifier>) -> Self {
        TokenAuthenticator {
            tokens,
            api_keys: None,
            operator: OperatorTenant::none(),
        }
    }

    /// Accept API keys through `api_keys`.
    pub fn with_api_keys(mut self, api_keys: Arc<DynAuthenticator>) -> Self {
        self.api_keys = Some(api_keys);
        self
    }

    /// Decide the operator flag with `operator`.
    pub fn with_operator(mut self, operator: OperatorTenant) -> Self {
        self.operator = operator;
        self
    }
}

#[async_trait]
impl Authenticator for TokenAuthenticator {
    async fn authenticate(&self, credential: &str) -> Result<Principal, AuthError> {
        let principal = if credential.starts_with(API_KEY_PREFIX) {
            match &self.api_keys {
                Some(keys) => keys.authenticate(credential).await?,
                None => return Err(AuthError::MalformedToken),
            }
        } else {
            self.tokens.verify(credential).await?.principal.clone()
        };
        let operator = principal.operator || self.operator.is_operator(&principal).await?;
        Ok(principal.with_operator(operator))
    }
}
