//! The user flows: sign-up, the caller's profile, password change and user
//! administration.

use baas_core::principal::{ROLE_ADMIN, ROLE_MEMBER};
use baas_core::require_role::Requirement;
use baas_core::{Error, ErrorKind, Principal, PrincipalKind, TenantId};
use secrecy::SecretString;

use super::{ClientInfo, IdentityService};
use crate::email::Email;
use crate::error::AuthError;
use crate::ids::{SessionId, UserId};
use crate::page::{Page, PageRequest};
use crate::password::Verified;
use crate::users::{NewUser, User};

/// The caller, as `GET /v1/auth/me` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Me {
    /// The user id, or the API key id.
    pub id: String,
    /// The tenant.
    pub tenant: TenantId,
    /// The email; `None` for an API key.
    pub email: Option<Email>,
    /// The roles.
    pub roles: Vec<String>,
}

pub(crate) fn require_admin(principal: &Principal) -> Result<(), Error> {
    Requirement::Role(ROLE_ADMIN.into()).check(Some(principal))
}

fn user_id(id: &str) -> Result<UserId, Error> {
    // A malformed id names no user: 404, exactly as a missing one.
    UserId::parse(id).map_err(|_| Error::from(AuthError::UserNotFound))
}

impl IdentityService {
    /// Create a user in `tenant`. The tenant's first user becomes `admin`, later ones
    /// `member`; the first tenant created on an empty installation becomes the operator
    /// tenant (unless configured). A taken email is `Conflict`; a bad tenant, email or
    /// password is `Invalid` with the field named.
    pub async fn signup(
        &self,
        tenant: &str,
        email: &str,
        password: &SecretString,
        client: &ClientInfo,
    ) -> Result<User, Error> {
        let tenant = TenantId::new(tenant)?;
        let email = Email::parse(email)?;
        self.config.password_policy.check(password)?;
        let hash = self.hasher.hash(password).await?;
        let new = NewUser::new(email, hash, vec![ROLE_MEMBER.to_owned()])
            .first_user_roles(vec![ROLE_ADMIN.to_owned()]);
        let user = self.stores.users.create(&tenant, new).await?;
        if user.roles.iter().any(|r| r == ROLE_ADMIN) && self.config.token.operator_tenant.is_none()
        {
            let operator = self
                .stores
                .installation
                .claim_operator_tenant(&tenant)
                .await?;
            self.operator.learn(operator);
        }
        let id = user.id.to_string();
        self.audit(&tenant, &id, "user.signup", &id, client).await;
        Ok(user)
    }

    /// The caller: a user's profile, or an API key's id, tenant and roles.
    pub async fn me(&self, principal: &Principal) -> Result<Me, Error> {
        if principal.kind != PrincipalKind::User {
            return Ok(Me {
                id: principal.subject.clone(),
                tenant: principal.tenant.clone(),
                email: None,
                roles: principal.roles.iter().cloned().collect(),
            });
        }
        let user = self.current_user(principal).await?;
        Ok(Me {
            id: user.id.to_string(),
            tenant: user.tenant,
            email: Some(user.email),
            roles: user.roles,
        })
    }

    async fn current_user(&self, principal: &Principal) -> Result<User, Error> {
        let unauthenticated =
            || Error::new(ErrorKind::Unauthenticated, "the user no longer exists");
        let id = UserId::parse(&principal.subject).map_err(|_| unauthenticated())?;
        self.stores
            .users
            .get(&principal.tenant, &id)
            .await?
            .filter(|u| !u.disabled)
            .ok_or_else(unauthenticated)
    }

    /// Change the caller's password. The current password must match (else `Invalid`
    /// on `current_password`, counted by the login throttle); every other session of the
    /// user is revoked.
    pub async fn change_password(
        &self,
        principal: &Principal,
        current: &SecretString,
        new: &SecretString,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        if principal.kind != PrincipalKind::User {
            return Err(Error::new(
                ErrorKind::Forbidden,
                "only a user can change a password",
            ));
        }
        let user = self.current_user(principal).await?;
        let tenant = &user.tenant;
        let wrong = || Error::field("current_password", "is not the current password");
        if self
            .throttle
            .check(tenant, user.email.as_str(), client.ip)
            .await?
            .is_some()
        {
            return Err(wrong());
        }
        match self
            .hasher
            .verify_and_upgrade(current, &user.password_hash)
            .await?
        {
            Verified::Valid { .. } => {}
            Verified::Invalid => {
                self.count_failure(tenant, &user.email, client).await;
                return Err(wrong());
            }
        }
        self.config.password_policy.check(new).map_err(|err| {
            let message = err.to_string();
            Error::from(err).with_field("new_password", message)
        })?;
        let hash = self.hasher.hash(new).await?;
        self.stores
            .users
            .set_password_hash(tenant, &user.id, &hash)
            .await?;
        let keep = principal
            .session
            .as_deref()
            .and_then(|s| SessionId::parse(s).ok());
        let revoked = self
            .stores
            .sessions
            .revoke_all_for_user(tenant, &user.id, keep.as_ref())
            .await?;
        self.revocations.clear();
        tracing::info!(target: "baas_auth::users", revoked, "password changed; other sessions revoked");
        let id = user.id.to_string();
        self.audit(tenant, &id, "user.password_change", &id, client)
            .await;
        Ok(())
    }

    /// One page of the caller's tenant's users (admin).
    pub async fn list_users(
        &self,
        principal: &Principal,
        page: &PageRequest,
    ) -> Result<Page<User>, Error> {
        require_admin(principal)?;
        Ok(self.stores.users.list(&principal.tenant, page).await?)
    }

    /// Replace the roles of user `id` of the caller's tenant (admin). Another tenant's
    /// user is `NotFound`, as a missing one.
    pub async fn set_roles(
        &self,
        principal: &Principal,
        id: &str,
        roles: &[String],
        client: &ClientInfo,
    ) -> Result<User, Error> {
        require_admin(principal)?;
        let id = user_id(id)?;
        let user = self
            .stores
            .users
            .set_roles(&principal.tenant, &id, roles)
            .await?;
        self.audit(
            &principal.tenant,
            &principal.subject,
            "user.set_roles",
            &id.to_string(),
            client,
        )
        .await;
        Ok(user)
    }

    /// Disable user `id` of the caller's tenant (admin) and revoke all its sessions; its
    /// logins then fail with `invalid_grant`.
    pub async fn disable_user(
        &self,
        principal: &Principal,
        id: &str,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        require_admin(principal)?;
        let id = user_id(id)?;
        self.stores.users.disable(&principal.tenant, &id).await?;
        self.stores
            .sessions
            .revoke_all_for_user(&principal.tenant, &id, None)
            .await?;
        self.revocations.clear();
        self.audit(
            &principal.tenant,
            &principal.subject,
            "user.disable",
            &id.to_string(),
            client,
        )
        .await;
        Ok(())
    }
}
