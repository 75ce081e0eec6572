//! The identity service (baas-auth) on the platform's database, configured from
//! API.md's settings: issuer, audience, token lifetimes, the operator tenant.

use std::sync::Arc;

use baas_auth::TokenConfig;
use baas_auth::service::{IdentityConfig, IdentityService, Stores};
use baas_core::{Error, MasterKey, SharedClock, TenantId};
use baas_store::Database;

use crate::config::Config;

/// Build the identity service over `db` and run its start-up work (the first signing
/// key, serialised across processes; the operator tenant).
pub async fn start(
    config: &Config,
    db: &Database,
    master_key: &MasterKey,
    clock: SharedClock,
) -> Result<Arc<IdentityService>, Error> {
    let mut token = TokenConfig::new(config.issuer.clone(), config.audience.clone());
    token.access_ttl = config.access_token_ttl;
    token.operator_tenant = config
        .operator_tenant
        .as_deref()
        .map(TenantId::new)
        .transpose()?;
    let mut identity = IdentityConfig::new(token);
    identity.refresh.ttl = config.refresh_token_ttl;
    let service = Arc::new(IdentityService::new(
        Stores::sql(db, clock.clone()),
        master_key.clone(),
        identity,
        clock,
    ));
    service.start().await?;
    Ok(service)
}
