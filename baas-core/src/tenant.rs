//! Tenants: the unit of isolation.
//!
//! Every method that touches tenant data takes a [`TenantId`] explicitly (DESIGN.md
//! rule 1). A `TenantId` is validated when it is made, so a backend can use it as a key
//! prefix or a column value without escaping.

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, ErrorKind};

/// The longest tenant id accepted.
pub const MAX_TENANT_LEN: usize = 64;

/// A validated tenant identifier: 1–64 characters of `[a-z0-9_-]`, starting with a
/// lowercase letter or digit.
///
/// ```
/// use baas_core::TenantId;
///
/// let acme = TenantId::new("acme").unwrap();
/// assert_eq!(acme.to_string(), "acme");
/// assert!(TenantId::new("").is_err());
/// assert!(TenantId::new("../etc").is_err());
/// assert!(TenantId::new("Acme").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(Arc<str>);

impl TenantId {
    /// Validate and wrap a tenant id. Errors are [`ErrorKind::Invalid`].
    pub fn new(id: impl AsRef<str>) -> Result<Self, Error> {
        let id = id.as_ref();
        validate(id)?;
        Ok(TenantId(Arc::from(id)))
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn validate(id: &str) -> Result<(), Error> {
    let invalid = |why: &str| {
        Err(Error::new(ErrorKind::Invalid, format!("invalid tenant id: {why}"))
            .with_field("tenant", why.to_owned()))
    };
    if id.is_empty() {
        return invalid("must not be empty");
    }
    if id.len() > MAX_TENANT_LEN {
        return invalid("must be at most 64 characters");
    }
    let first = id.as_bytes()[0];
    if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
        return invalid("must start with a lowercase letter or a digit");
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    {
        return invalid("may only contain a-z, 0-9, '_' and '-'");
    }
    Ok(())
}

impl fmt::Debug for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TenantId({:?})", &*self.0)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for TenantId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for TenantId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        TenantId::new(s)
    }
}

impl serde::Serialize for TenantId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for TenantId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        TenantId::new(&*s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabet() {
        for ok in ["a", "acme", "a-b_c", "0tenant", &"x".repeat(64)] {
            assert!(TenantId::new(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "", "-a", "_a", "A", "a/b", "a.b", "a b", "a\n", "é", &"x".repeat(65),
        ] {
            let err = TenantId::new(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Invalid, "{bad:?}");
        }
    }

    #[test]
    fn deserialising_validates() {
        assert!(serde_json::from_str::<TenantId>("\"acme\"").is_ok());
        assert!(serde_json::from_str::<TenantId>("\"../x\"").is_err());
    }
}
