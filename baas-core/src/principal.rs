//! Who is making a request: the [`Principal`].

use std::collections::BTreeSet;

use crate::tenant::TenantId;

/// The name of the role that administers a tenant. `admin` includes `member`.
pub const ROLE_ADMIN: &str = "admin";
/// The name of the ordinary role.
pub const ROLE_MEMBER: &str = "member";

/// What kind of credential a principal presented.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// A person, authenticated by a token.
    User,
    /// An API key.
    ApiKey,
    /// A service of the installation itself (workers, relays).
    Service,
}

/// An authenticated caller: subject, tenant, roles, and whether it operates the
/// installation.
///
/// ```
/// use baas_core::{Principal, PrincipalKind, TenantId};
///
/// let p = Principal::new("user-1", TenantId::new("acme").unwrap(), PrincipalKind::User)
///     .with_roles(["admin"]);
/// assert!(p.has_role("admin"));
/// assert!(p.has_role("member")); // admin includes member
/// assert!(!p.is_operator());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Principal {
    /// The subject: a user id, an API key id or a service name.
    pub subject: String,
    /// The tenant the credential belongs to.
    pub tenant: TenantId,
    /// The roles granted within that tenant.
    pub roles: BTreeSet<String>,
    /// Whether this principal is an admin of the operator tenant.
    pub operator: bool,
    /// The kind of credential.
    pub kind: PrincipalKind,
    /// The session id, for principals authenticated by a session's token.
    pub session: Option<String>,
}

impl Principal {
    /// A principal with no roles.
    pub fn new(subject: impl Into<String>, tenant: TenantId, kind: PrincipalKind) -> Self {
        Principal {
            subject: subject.into(),
            tenant,
            roles: BTreeSet::new(),
            operator: false,
            kind,
            session: None,
        }
    }

    /// Replace the roles.
    pub fn with_roles<I, S>(mut self, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// Mark as an operator (an admin of the operator tenant).
    pub fn with_operator(mut self, operator: bool) -> Self {
        self.operator = operator;
        self
    }

    /// Set the session id.
    pub fn with_session(mut self, session: impl Into<String>) -> Self {
        self.session = Some(session.into());
        self
    }

    /// Whether the principal holds `role`. `admin` implies `member`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.contains(role) || (role == ROLE_MEMBER && self.roles.contains(ROLE_ADMIN))
    }

    /// Whether the principal operates the installation.
    pub fn is_operator(&self) -> bool {
        self.operator
    }
}
