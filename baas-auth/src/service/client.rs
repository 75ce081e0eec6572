//! [`ClientInfo`]: who is calling from where, for the audit log and the throttle.

use std::net::IpAddr;

use baas_core::TenantId;
use baas_store::audit::AuditEntry;

use super::IdentityService;

/// The client's address and user agent, as the HTTP edge saw them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's IP address (after trusted proxies), if known.
    pub ip: Option<IpAddr>,
    /// The `User-Agent` header, if sent (cut to 512 bytes).
    pub user_agent: Option<String>,
}

impl ClientInfo {
    /// A client at `ip` with `user_agent`.
    pub fn new(ip: Option<IpAddr>, user_agent: Option<&str>) -> Self {
        let user_agent = user_agent.map(|ua| {
            let mut end = ua.len().min(512);
            while !ua.is_char_boundary(end) {
                end -= 1;
            }
            ua[..end].to_owned()
        });
        ClientInfo { ip, user_agent }
    }
}

impl IdentityService {
    /// Append an audit record; a failing audit log is logged, not fatal to the flow.
    pub(crate) async fn audit(
        &self,
        tenant: &TenantId,
        actor: &str,
        action: &str,
        target: &str,
        client: &ClientInfo,
    ) {
        let entry = AuditEntry::new(tenant.clone(), actor, action, target).from_client(
            client.ip.map(|ip| ip.to_string()),
            client.user_agent.clone(),
        );
        if let Err(err) = self.stores.audit.append(entry).await {
            tracing::warn!(target: "baas_auth::audit", error = %err, action, "could not record an audit event");
        }
    }
}
