//! [`MemoryUserStore`]: users in process memory.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use async_trait::async_trait;
use baas_core::{SharedClock, TenantId};
use parking_lot::Mutex;

use super::model::{NewUser, User};
use super::store::UserStore;
use crate::email::Email;
use crate::error::AuthError;
use crate::ids::UserId;
use crate::page::{Page, PageRequest};
use crate::roles::normalise_roles;

/// A [`UserStore`] in memory, for tests and development. One mutex serialises every
/// change; users are lost when the process exits.
#[derive(Debug)]
pub struct MemoryUserStore {
    clock: SharedClock,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    users: BTreeMap<(TenantId, UserId), User>,
    by_email: HashMap<(TenantId, Email), UserId>,
}

impl MemoryUserStore {
    /// An empty store reading time from `clock`.
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            inner: Mutex::default(),
        }
    }
}

pub(crate) fn cursor_id(page: &PageRequest) -> Result<Option<UserId>, AuthError> {
    page.cursor()
        .map(|c| UserId::parse(c).map_err(|_| AuthError::InvalidCursor))
        .transpose()
}

#[async_trait]
impl UserStore for MemoryUserStore {
    async fn create(&self, tenant: &TenantId, user: NewUser) -> Result<User, AuthError> {
        let roles = normalise_roles(&user.roles)?;
        let first_roles = user
            .first_user_roles
            .as_deref()
            .map(normalise_roles)
            .transpose()?;
        let now = self.clock.now();
        let mut inner = self.inner.lock();
        let key = (tenant.clone(), user.email.clone());
        if inner.by_email.contains_key(&key) {
            return Err(AuthError::EmailTaken);
        }
        let first = !inner.by_email.keys().any(|(t, _)| t == tenant);
        let id = UserId::generate();
        let created = User {
            id,
            tenant: tenant.clone(),
            email: user.email,
            password_hash: user.password_hash,
            roles: match first_roles {
                Some(r) if first => r,
                _ => roles,
            },
            disabled: false,
            created_at: now,
            updated_at: now,
        };
        inner.by_email.insert(key, id);
        inner.users.insert((tenant.clone(), id), created.clone());
        Ok(created)
    }

    async fn find_by_email(
        &self,
        tenant: &TenantId,
        email: &Email,
    ) -> Result<Option<User>, AuthError> {
        let inner = self.inner.lock();
        Ok(inner
            .by_email
            .get(&(tenant.clone(), email.clone()))
            .and_then(|id| inner.users.get(&(tenant.clone(), *id)))
            .cloned())
    }

    async fn get(&self, tenant: &TenantId, id: &UserId) -> Result<Option<User>, AuthError> {
        Ok(self.inner.lock().users.get(&(tenant.clone(), *id)).cloned())
    }

    async fn list(&self, tenant: &TenantId, page: &PageRequest) -> Result<Page<User>, AuthError> {
        let after = cursor_id(page)?;
        let inner = self.inner.lock();
        let start = match after {
            Some(id) => Bound::Excluded((tenant.clone(), id)),
            None => Bound::Included((tenant.clone(), UserId::from_uuid(uuid::Uuid::nil()))),
        };
        let mut items: Vec<User> = inner
            .users
            .range((start, Bound::Unbounded))
            .take_while(|((t, _), _)| t == tenant)
            .take(page.limit() + 1)
            .map(|(_, u)| u.clone())
            .collect();
        let next_cursor = if items.len() > page.limit() {
            items.truncate(page.limit());
            items.last().map(|u| u.id.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    async fn set_password_hash(
        &self,
        tenant: &TenantId,
        id: &UserId,
        password_hash: &str,
    ) -> Result<(), AuthError> {
        let now = self.clock.now();
        let mut inner = self.inner.lock();
        let user = inner
            .users
            .get_mut(&(tenant.clone(), *id))
            .ok_or(AuthError::UserNotFound)?;
        password_hash.clone_into(&mut user.password_hash);
        user.updated_at = now;
        Ok(())
    }

    async fn set_roles(
        &self,
        tenant: &TenantId,
        id: &UserId,
        roles: &[String],
    ) -> Result<User, AuthError> {
        let roles = normalise_roles(roles)?;
        let now = self.clock.now();
        let mut inner = self.inner.lock();
        let user = inner
            .users
            .get_mut(&(tenant.clone(), *id))
            .ok_or(AuthError::UserNotFound)?;
        user.roles = roles;
        user.updated_at = now;
        Ok(user.clone())
    }

    async fn disable(&self, tenant: &TenantId, id: &UserId) -> Result<(), AuthError> {
        let now = self.clock.now();
        let mut inner = self.inner.lock();
        let user = inner
            .users
            .get_mut(&(tenant.clone(), *id))
            .ok_or(AuthError::UserNotFound)?;
        if !user.disabled {
            user.disabled = true;
            user.updated_at = now;
        }
        Ok(())
    }
}
