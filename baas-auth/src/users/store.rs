//! The [`UserStore`] trait.

use async_trait::async_trait;
use baas_core::TenantId;

use super::model::{NewUser, User};
use crate::email::Email;
use crate::error::AuthError;
use crate::ids::UserId;
use crate::page::{Page, PageRequest};

/// Where users live. Every method takes the tenant (DESIGN.md rule 1): a user of one
/// tenant is invisible to, and cannot be changed through, another.
///
/// Guarantees every backend gives:
/// * Emails are unique per tenant after normalisation ([`Email`] is already
///   normalised): [`create`](UserStore::create) of a taken email is
///   [`AuthError::EmailTaken`] and changes nothing, also under concurrency.
/// * [`create`](UserStore::create) decides atomically whether the user is the tenant's
///   first (see [`NewUser::first_user_roles`]).
/// * Roles are validated and kept sorted and deduplicated
///   ([`normalise_roles`](crate::normalise_roles)); invalid roles are
///   [`AuthError::InvalidRole`] and change nothing.
/// * Changing a user that does not exist in the tenant is [`AuthError::UserNotFound`].
/// * [`list`](UserStore::list) orders by id (creation order), disabled users included.
#[async_trait]
pub trait UserStore: Send + Sync + std::fmt::Debug + 'static {
    /// Create a user with a fresh id.
    async fn create(&self, tenant: &TenantId, user: NewUser) -> Result<User, AuthError>;

    /// The user with this email in the tenant, if any.
    async fn find_by_email(
        &self,
        tenant: &TenantId,
        email: &Email,
    ) -> Result<Option<User>, AuthError>;

    /// The user with this id in the tenant, if any.
    async fn get(&self, tenant: &TenantId, id: &UserId) -> Result<Option<User>, AuthError>;

    /// One page of the tenant's users, by id. A cursor that is not an id is
    /// [`AuthError::InvalidCursor`].
    async fn list(&self, tenant: &TenantId, page: &PageRequest) -> Result<Page<User>, AuthError>;

    /// Replace the password hash (a PHC string).
    async fn set_password_hash(
        &self,
        tenant: &TenantId,
        id: &UserId,
        password_hash: &str,
    ) -> Result<(), AuthError>;

    /// Replace the roles; returns the user as changed.
    async fn set_roles(
        &self,
        tenant: &TenantId,
        id: &UserId,
        roles: &[String],
    ) -> Result<User, AuthError>;

    /// Disable the user (idempotent). Revoking its sessions is the caller's next step
    /// ([`SessionStore::revoke_all_for_user`](crate::sessions::SessionStore::revoke_all_for_user)).
    async fn disable(&self, tenant: &TenantId, id: &UserId) -> Result<(), AuthError>;
}

/// A user store chosen at run time.
pub type DynUserStore = dyn UserStore;

fn _object_safe(_: Box<dyn UserStore>) {}
