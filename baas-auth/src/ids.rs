//! Ids of users, sessions and API keys: UUIDv7 newtypes, so they sort by creation time
//! and cannot be mixed up.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::error::AuthError;

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh id (UUIDv7).
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wrap an existing UUID.
            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// Parse the hyphenated form; anything else is [`AuthError::InvalidId`].
            pub fn parse(input: &str) -> Result<Self, AuthError> {
                if input.len() != 36 {
                    return Err(AuthError::InvalidId { what: $what });
                }
                Uuid::try_parse(input)
                    .map(Self)
                    .map_err(|_| AuthError::InvalidId { what: $what })
            }

            /// The UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.hyphenated())
            }
        }

        impl FromStr for $name {
            type Err = AuthError;
            fn from_str(s: &str) -> Result<Self, AuthError> {
                Self::parse(s)
            }
        }
    };
}

uuid_id!(
    /// A user's id, unique across the installation; the `sub` of its access tokens.
    ///
    /// ```
    /// use baas_auth::UserId;
    ///
    /// let id = UserId::generate();
    /// assert_eq!(UserId::parse(&id.to_string()).unwrap(), id);
    /// assert!(UserId::parse("not-a-uuid").is_err());
    /// ```
    UserId,
    "user"
);

uuid_id!(
    /// A session's id: the `sid` claim of the access tokens issued in it. One session is
    /// one refresh-token family.
    SessionId,
    "session"
);

uuid_id!(
    /// An API key's id: the public part of the key, used to look it up.
    ApiKeyId,
    "API key"
);
