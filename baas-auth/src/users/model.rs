//! [`User`] and [`NewUser`].

use std::fmt;
use std::time::SystemTime;

use baas_core::TenantId;

use crate::email::Email;
use crate::ids::UserId;

/// A user as a [`UserStore`](super::UserStore) holds it.
///
/// `Debug` never shows the password hash.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// The id (UUIDv7).
    pub id: UserId,
    /// The tenant the user belongs to.
    pub tenant: TenantId,
    /// The normalised email, unique within the tenant.
    pub email: Email,
    /// The password as a PHC string (argon2id).
    pub password_hash: String,
    /// Roles, sorted and deduplicated.
    pub roles: Vec<String>,
    /// A disabled user cannot log in and has no live sessions.
    pub disabled: bool,
    /// When the user was created.
    pub created_at: SystemTime,
    /// When the user last changed (password, roles, disabled).
    pub updated_at: SystemTime,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("tenant", &self.tenant)
            .field("email", &self.email)
            .field("password_hash", &"[REDACTED]")
            .field("roles", &self.roles)
            .field("disabled", &self.disabled)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// What [`UserStore::create`](super::UserStore::create) needs.
#[derive(Clone)]
pub struct NewUser {
    /// The normalised email.
    pub email: Email,
    /// The password as a PHC string, already hashed.
    pub password_hash: String,
    /// The roles to give.
    pub roles: Vec<String>,
    /// If set, the roles to give instead when this is the tenant's first user. The store
    /// decides "first" atomically, so of two concurrent sign-ups to an empty tenant
    /// exactly one gets them.
    pub first_user_roles: Option<Vec<String>>,
}

impl NewUser {
    /// A user with `email`, `password_hash` and `roles`.
    pub fn new(email: Email, password_hash: impl Into<String>, roles: Vec<String>) -> Self {
        Self {
            email,
            password_hash: password_hash.into(),
            roles,
            first_user_roles: None,
        }
    }

    /// Give `roles` instead if this turns out to be the tenant's first user.
    pub fn first_user_roles(mut self, roles: Vec<String>) -> Self {
        self.first_user_roles = Some(roles);
        self
    }
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field("password_hash", &"[REDACTED]")
            .field("roles", &self.roles)
            .field("first_user_roles", &self.first_user_roles)
            .finish()
    }
}
