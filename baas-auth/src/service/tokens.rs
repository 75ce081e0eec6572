//! The token flows: password login, refresh rotation, revocation (RFC 7009), logout.

use std::fmt;

use baas_core::{Classify as _, Error, ErrorKind, Principal, TenantId};
use secrecy::SecretString;

use super::{ClientInfo, IdentityService};
use crate::email::Email;
use crate::error::AuthError;
use crate::ids::SessionId;
use crate::password::Verified;
use crate::secret::RefreshToken;
use crate::sessions::{NewSession, RefreshOutcome, Session};
use crate::token::TokenRequest;
use crate::users::User;

/// What the token endpoint answers: an access token and a refresh token. `Debug` shows
/// neither.
#[derive(Clone)]
pub struct TokenResponse {
    access_token: String,
    refresh_token: RefreshToken,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The session the tokens belong to.
    pub session_id: SessionId,
}

impl TokenResponse {
    /// The access token (a JWT).
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// The refresh token.
    pub fn refresh_token(&self) -> &str {
        self.refresh_token.expose_secret()
    }
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[REDACTED]")
            .field("refresh_token", &"[REDACTED]")
            .field("expires_in", &self.expires_in)
            .field("session_id", &self.session_id)
            .finish()
    }
}

/// The one refusal of a password login, whatever went wrong.
fn invalid_credentials() -> Error {
    AuthError::InvalidCredentials.into()
}

impl IdentityService {
    async fn issue(
        &self,
        user: &User,
        session: &Session,
        refresh_token: RefreshToken,
    ) -> Result<TokenResponse, Error> {
        let issued = self
            .issuer
            .issue(&TokenRequest {
                subject: user.id.to_string(),
                tenant: user.tenant.clone(),
                roles: user.roles.clone(),
                session_id: session.id.to_string(),
                client_id: session.client_id.clone(),
            })
            .await?;
        let expires_in = issued.claims.exp.saturating_sub(self.clock.unix_seconds());
        Ok(TokenResponse {
            access_token: issued.into_string(),
            refresh_token,
            expires_in,
            session_id: session.id,
        })
    }

    /// The password grant. Every refusal — unknown tenant or user, wrong password,
    /// disabled user, a throttled account — is the same `Unauthenticated`
    /// [`AuthError::InvalidCredentials`] (the route answers `invalid_grant`), and an
    /// unknown user costs the same hashing work as a known one.
    pub async fn login(
        &self,
        tenant: &str,
        email: &str,
        password: &SecretString,
        client: &ClientInfo,
    ) -> Result<TokenResponse, Error> {
        let (Ok(tenant), Ok(email)) = (TenantId::new(tenant), Email::parse(email)) else {
            self.hasher.verify_dummy(password).await?;
            return Err(invalid_credentials());
        };
        if let Some(wait) = self
            .throttle
            .check(&tenant, email.as_str(), client.ip)
            .await?
        {
            return Err(self.throttled(&tenant, &email, wait, client).await);
        }
        let user = self.stores.users.find_by_email(&tenant, &email).await?;
        let verified = match &user {
            Some(user) => {
                self.hasher
                    .verify_and_upgrade(password, &user.password_hash)
                    .await?
            }
            None => {
                self.hasher.verify_dummy(password).await?;
                Verified::Invalid
            }
        };
        let user = match (user, verified) {
            (Some(user), Verified::Valid { rehash }) if !user.disabled => {
                // Logins that passed `check` together may have spent the account's
                // budget while this one waited for the hasher: past it, not even a right
                // guess is let through. A read, never a write, on success.
                if let Some(wait) = self
                    .throttle
                    .account_locked(&tenant, email.as_str())
                    .await?
                {
                    return Err(self.throttled(&tenant, &email, wait, client).await);
                }
                if let Some(fresh) = rehash {
                    self.stores
                        .users
                        .set_password_hash(&tenant, &user.id, &fresh)
                        .await?;
                }
                user
            }
            (user, _) => {
                self.count_failure(&tenant, &email, client).await;
                let actor = user
                    .as_ref()
                    .map_or_else(|| email.to_string(), |u| u.id.to_string());
                self.audit(&tenant, &actor, "login.failure", email.as_str(), client)
                    .await;
                return Err(invalid_credentials());
            }
        };
        self.throttle.succeeded(&tenant, email.as_str(), client.ip);
        let (session, refresh) = self
            .stores
            .sessions
            .create(
                &tenant,
                NewSession::new(
                    user.id,
                    self.config.client_id.clone(),
                    self.config.refresh.ttl,
                ),
            )
            .await?;
        let user_id = user.id.to_string();
        self.audit(
            &tenant,
            &user_id,
            "login.success",
            &session.id.to_string(),
            client,
        )
        .await;
        self.issue(&user, &session, refresh).await
    }

    /// Answer a throttled login: logged, audited, and refused like a wrong password.
    async fn throttled(
        &self,
        tenant: &TenantId,
        email: &Email,
        wait: std::time::Duration,
        client: &ClientInfo,
    ) -> Error {
        tracing::info!(target: "baas_auth::login", tenant = %tenant, wait_s = wait.as_secs(), "login throttled");
        self.audit(
            tenant,
            email.as_str(),
            "login.throttled",
            email.as_str(),
            client,
        )
        .await;
        invalid_credentials()
    }

    /// Count a failed password check in the throttle. A store that cannot record it is
    /// logged, not fatal: the caller still answers with the refusal the client is owed.
    pub(crate) async fn count_failure(
        &self,
        tenant: &TenantId,
        email: &Email,
        client: &ClientInfo,
    ) {
        if let Err(err) = self
            .throttle
            .failed(tenant, email.as_str(), client.ip)
            .await
        {
            tracing::error!(target: "baas_auth::login", tenant = %tenant, error = %err, "could not record a failed login");
        }
    }

    /// The refresh grant: rotate `refresh_token` and issue a fresh access token with the
    /// user's current roles. An unknown, expired or revoked token, a reused one (whose
    /// whole family is then revoked) and a token of a disabled user are all
    /// [`AuthError::InvalidRefreshToken`].
    pub async fn refresh(
        &self,
        refresh_token: &str,
        client: &ClientInfo,
    ) -> Result<TokenResponse, Error> {
        let presented = RefreshToken::new(refresh_token);
        let (session, token) = match self
            .stores
            .sessions
            .rotate(&presented, &self.config.refresh)
            .await?
        {
            RefreshOutcome::Rotated { session, token } => (session, token),
            RefreshOutcome::ReuseDetected { session } => {
                self.revocations.clear();
                tracing::warn!(target: "baas_auth::refresh", tenant = %session.tenant, session = %session.id, "refresh token reuse: family revoked");
                self.audit(
                    &session.tenant,
                    &session.user_id.to_string(),
                    "refresh.reuse_detected",
                    &session.id.to_string(),
                    client,
                )
                .await;
                return Err(AuthError::InvalidRefreshToken.into());
            }
        };
        let user = self
            .stores
            .users
            .get(&session.tenant, &session.user_id)
            .await?;
        let Some(user) = user.filter(|u| !u.disabled) else {
            self.stores
                .sessions
                .revoke(&session.tenant, &session.id)
                .await?;
            return Err(AuthError::InvalidRefreshToken.into());
        };
        self.audit(
            &session.tenant,
            &user.id.to_string(),
            "token.refresh",
            &session.id.to_string(),
            client,
        )
        .await;
        self.issue(&user, &session, token).await
    }

    /// RFC 7009: revoke the session of `token`, an access token or a refresh token.
    /// An unknown, invalid, expired or already revoked token is also a success; only a
    /// store that cannot answer is an error.
    pub async fn revoke(&self, token: &str, client: &ClientInfo) -> Result<(), Error> {
        if token.is_empty() || token.len() > self.config.token.max_token_len {
            return Ok(());
        }
        let session = if token.contains('.') {
            match self.verifier.verify(token).await {
                Ok(verified) => match SessionId::parse(&verified.claims.sid) {
                    Ok(sid) => {
                        let tenant = verified.claims.tenant.clone();
                        if self.stores.sessions.revoke(&tenant, &sid).await? {
                            self.stores.sessions.get(&tenant, &sid).await?
                        } else {
                            None
                        }
                    }
                    Err(_) => None,
                },
                Err(err) if err.kind() == ErrorKind::Unauthenticated => None,
                Err(err) => return Err(err.into()),
            }
        } else {
            self.stores
                .sessions
                .revoke_family(&RefreshToken::new(token))
                .await?
        };
        if let Some(session) = session {
            self.revocations.clear();
            self.audit(
                &session.tenant,
                &session.user_id.to_string(),
                "session.revoke",
                &session.id.to_string(),
                client,
            )
            .await;
        }
        Ok(())
    }

    /// Revoke the caller's own session. A principal without a session (an API key) has
    /// nothing to log out of; that is a success too.
    pub async fn logout(&self, principal: &Principal, client: &ClientInfo) -> Result<(), Error> {
        let Some(sid) = principal.session.as_deref() else {
            return Ok(());
        };
        let sid = SessionId::parse(sid)?;
        if self.stores.sessions.revoke(&principal.tenant, &sid).await? {
            self.revocations.clear();
            self.audit(
                &principal.tenant,
                &principal.subject,
                "session.logout",
                &sid.to_string(),
                client,
            )
            .await;
        }
        Ok(())
    }
}
