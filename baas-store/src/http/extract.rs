//! The caller's tenant as an extractor, and the page-size rule. Path and query
//! parameters use [`baas_core::http::Path`] and [`baas_core::http::Query`].

use axum::extract::FromRequestParts;
use baas_core::http::Caller;
use baas_core::{Error, TenantId};
use http::request::Parts;

#[cfg(test)]
use baas_core::ErrorKind;

/// The tenant of the authenticated caller ([`Caller`]); 401 without one.
#[derive(Debug, Clone)]
pub(crate) struct CallerTenant(pub(crate) TenantId);

impl<S: Send + Sync> FromRequestParts<S> for CallerTenant {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        Ok(CallerTenant(caller.0.tenant))
    }
}

/// Parse a positive page size: 1–`max`, `default` when absent, else 400.
pub(crate) fn page_limit(raw: Option<&str>, default: u32, max: u32) -> Result<u32, Error> {
    let Some(raw) = raw else {
        return Ok(default);
    };
    match raw.trim().parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(
            Error::malformed(format!("limit must be between 1 and {max}"))
                .with_field("limit", format!("must be an integer from 1 to {max}")),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(page_limit(None, 50, 1000).unwrap(), 50);
        assert_eq!(page_limit(Some("1000"), 50, 1000).unwrap(), 1000);
        assert_eq!(page_limit(Some("1"), 50, 1000).unwrap(), 1);
        for bad in ["0", "1001", "-1", "x", "", "1.5"] {
            assert_eq!(
                page_limit(Some(bad), 50, 1000).unwrap_err().kind(),
                ErrorKind::Malformed,
                "{bad}"
            );
        }
    }
}
