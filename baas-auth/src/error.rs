//! [`AuthError`]: everything baas-auth can refuse, mapped onto [`baas_core::ErrorKind`].
//!
//! Every token failure is [`ErrorKind::Unauthenticated`] with a short message that says
//! what was wrong without echoing the token or any key material.

use baas_core::{BoxError, Classify, Error, ErrorKind};

/// The public error of baas-auth.
///
/// ```
/// use baas_auth::AuthError;
/// use baas_core::{Classify, ErrorKind};
///
/// assert_eq!(AuthError::Expired.kind(), ErrorKind::Unauthenticated);
/// let err: baas_core::Error = AuthError::PasswordTooCommon.into();
/// assert_eq!(err.kind(), ErrorKind::Invalid);
/// assert_eq!(err.fields()[0].field, "password");
/// ```
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    // ---- access tokens: all Unauthenticated -------------------------------------------
    /// The token is not a well-formed JWS compact serialisation (three base64url parts
    /// with JSON header and claims of the expected shape).
    #[error("access token is malformed")]
    MalformedToken,
    /// The token is longer than the verifier accepts.
    #[error("access token is too large")]
    TokenTooLarge,
    /// The header's `typ` is not `at+jwt`.
    #[error("access token type must be at+jwt")]
    WrongTokenType,
    /// The header's `alg` is not the installation's algorithm (this covers `none` and
    /// HMAC algorithm-confusion attempts).
    #[error("access token algorithm is not accepted")]
    WrongAlgorithm,
    /// The header names no `kid`, or one that no signing key has, even after a reload.
    #[error("access token signing key is unknown")]
    UnknownKey,
    /// The signing key has been rotated out past its verification window.
    #[error("access token signing key is no longer valid")]
    KeyRetired,
    /// The signature does not match the header and claims.
    #[error("access token signature is invalid")]
    BadSignature,
    /// `exp` has passed (beyond the clock-skew leeway).
    #[error("access token has expired")]
    Expired,
    /// `nbf` is in the future (beyond the clock-skew leeway).
    #[error("access token is not yet valid")]
    NotYetValid,
    /// `iss` is not this installation's issuer.
    #[error("access token issuer is not accepted")]
    WrongIssuer,
    /// `aud` does not name this audience.
    #[error("access token audience is not accepted")]
    WrongAudience,
    /// The token's session has been revoked.
    #[error("session has been revoked")]
    SessionRevoked,

    // ---- credentials ------------------------------------------------------------------
    /// A login presented a wrong email or password (deliberately not saying which).
    #[error("invalid email or password")]
    InvalidCredentials,

    // ---- input validation: Invalid ----------------------------------------------------
    /// The password is shorter than the policy allows.
    #[error("password must be at least {min} characters long")]
    PasswordTooShort {
        /// The minimum, in characters.
        min: usize,
    },
    /// The password is longer than the policy allows.
    #[error("password must be at most {max} characters long")]
    PasswordTooLong {
        /// The maximum, in characters.
        max: usize,
    },
    /// The password is on the list of the most common passwords.
    #[error("password is too common; choose another")]
    PasswordTooCommon,
    /// The email address is not acceptable.
    #[error("email address is invalid: {reason}")]
    InvalidEmail {
        /// Why, in a few words.
        reason: &'static str,
    },
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),

    // ---- keys and stores --------------------------------------------------------------
    /// A signing key with this `kid` already exists.
    #[error("signing key already exists")]
    KeyExists,
    /// No signing key with this `kid` exists.
    #[error("signing key not found")]
    KeyNotFound,
    /// Another process rotated the keys at the same time; reload and try again.
    #[error("signing keys changed concurrently; try again")]
    RotationConflict,
    /// There is no current signing key yet (call `KeyManager::ensure`).
    #[error("no signing key is available")]
    NoSigningKey,
    /// A backing store failed.
    #[error("authentication store is unavailable")]
    Unavailable(#[source] BoxError),
    /// A bug or an unexpected failure (crypto, sealing, a panicked worker).
    #[error("internal error in authentication")]
    Internal(#[source] BoxError),

    // ---- users, sessions and API keys -------------------------------------------------
    /// A user with this (normalised) email already exists in the tenant.
    #[error("a user with this email already exists")]
    EmailTaken,
    /// No user with this id exists in the tenant.
    #[error("user not found")]
    UserNotFound,
    /// No API key with this id exists in the tenant.
    #[error("API key not found")]
    ApiKeyNotFound,
    /// The refresh token is unknown, expired, revoked or was reused (the route answers
    /// `invalid_grant`).
    #[error("refresh token is invalid")]
    InvalidRefreshToken,
    /// The API key is malformed, unknown, expired or deleted (deliberately not saying
    /// which).
    #[error("API key is invalid")]
    InvalidApiKey,
    /// An id (user, session, API key) is not well formed.
    #[error("{what} id is malformed")]
    InvalidId {
        /// Which kind of id.
        what: &'static str,
    },
    /// A list cursor was not produced by this listing.
    #[error("cursor is malformed")]
    InvalidCursor,
    /// A list limit is outside 1 to the maximum.
    #[error("limit must be between 1 and {max}")]
    InvalidLimit {
        /// The largest limit accepted.
        max: usize,
    },
    /// A role name, or the set of roles, is not acceptable.
    #[error("roles are invalid: {reason}")]
    InvalidRole {
        /// Why, in a few words.
        reason: &'static str,
    },
    /// A name (of an API key) is not acceptable.
    #[error("name is invalid: {reason}")]
    InvalidName {
        /// Why, in a few words.
        reason: &'static str,
    },
}

impl AuthError {
    /// An [`AuthError::Internal`] wrapping `source`.
    pub fn internal(source: impl Into<BoxError>) -> Self {
        AuthError::Internal(source.into())
    }

    /// The field a validation error is about, if any.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            AuthError::PasswordTooShort { .. }
            | AuthError::PasswordTooLong { .. }
            | AuthError::PasswordTooCommon => Some("password"),
            AuthError::InvalidEmail { .. } => Some("email"),
            AuthError::InvalidRole { .. } => Some("roles"),
            AuthError::InvalidName { .. } => Some("name"),
            AuthError::InvalidLimit { .. } => Some("limit"),
            AuthError::InvalidCursor => Some("cursor"),
            _ => None,
        }
    }
}

impl Classify for AuthError {
    fn kind(&self) -> ErrorKind {
        match self {
            AuthError::MalformedToken
            | AuthError::TokenTooLarge
            | AuthError::WrongTokenType
            | AuthError::WrongAlgorithm
            | AuthError::UnknownKey
            | AuthError::KeyRetired
            | AuthError::BadSignature
            | AuthError::Expired
            | AuthError::NotYetValid
            | AuthError::WrongIssuer
            | AuthError::WrongAudience
            | AuthError::SessionRevoked
            | AuthError::InvalidCredentials => ErrorKind::Unauthenticated,
            AuthError::PasswordTooShort { .. }
            | AuthError::PasswordTooLong { .. }
            | AuthError::PasswordTooCommon
            | AuthError::InvalidEmail { .. } => ErrorKind::Invalid,
            AuthError::KeyExists | AuthError::RotationConflict => ErrorKind::Conflict,
            AuthError::KeyNotFound => ErrorKind::NotFound,
            AuthError::NoSigningKey | AuthError::Unavailable(_) => ErrorKind::Unavailable,
            AuthError::Config(_) | AuthError::Internal(_) => ErrorKind::Internal,
            AuthError::EmailTaken => ErrorKind::Conflict,
            AuthError::UserNotFound | AuthError::ApiKeyNotFound => ErrorKind::NotFound,
            AuthError::InvalidRefreshToken | AuthError::InvalidApiKey => ErrorKind::Unauthenticated,
            AuthError::InvalidId { .. }
            | AuthError::InvalidCursor
            | AuthError::InvalidLimit { .. } => ErrorKind::Malformed,
            AuthError::InvalidRole { .. } | AuthError::InvalidName { .. } => ErrorKind::Invalid,
        }
    }
}

impl From<AuthError> for Error {
    fn from(err: AuthError) -> Self {
        let kind = err.kind();
        let message = err.to_string();
        let field = err.field();
        let mut out = Error::new(kind, message);
        if let Some(field) = field {
            let reason = err.to_string();
            out = out.with_field(field, reason);
        }
        out.with_source(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_failures_are_unauthenticated() {
        for err in [
            AuthError::MalformedToken,
            AuthError::TokenTooLarge,
            AuthError::WrongTokenType,
            AuthError::WrongAlgorithm,
            AuthError::UnknownKey,
            AuthError::KeyRetired,
            AuthError::BadSignature,
            AuthError::Expired,
            AuthError::NotYetValid,
            AuthError::WrongIssuer,
            AuthError::WrongAudience,
            AuthError::SessionRevoked,
        ] {
            let core: Error = err.into();
            assert_eq!(core.kind(), ErrorKind::Unauthenticated);
            assert!(!core.message().is_empty());
        }
    }

    #[test]
    fn internal_errors_keep_their_source_but_not_in_the_message() {
        let err = AuthError::internal("sealed key for kid abc cannot be opened");
        let core: Error = err.into();
        assert_eq!(core.kind(), ErrorKind::Internal);
        assert!(!core.message().contains("abc"));
    }
}
