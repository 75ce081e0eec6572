//! Extractors whose rejections are problem+json: the caller's tenant, path and query.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query};
use baas_core::{Error, ErrorKind, Principal, RequestContext, TenantId};
use http::request::Parts;
use serde::de::DeserializeOwned;

/// The tenant of the authenticated [`Principal`] in the request extensions (directly or
/// inside a [`RequestContext`]); 401 without one.
#[derive(Debug, Clone)]
pub(crate) struct CallerTenant(pub(crate) TenantId);

impl<S: Send + Sync> FromRequestParts<S> for CallerTenant {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let principal = parts.extensions.get::<Principal>().or_else(|| {
            parts
                .extensions
                .get::<RequestContext>()
                .and_then(|cx| cx.principal.as_ref())
        });
        match principal {
            Some(p) => Ok(CallerTenant(p.tenant.clone())),
            None => Err(Error::new(
                ErrorKind::Unauthenticated,
                "authentication is required",
            )),
        }
    }
}

/// `axum::extract::Path` answering 400 problem+json when the path does not decode.
#[derive(Debug)]
pub(crate) struct PathParams<T>(pub(crate) T);

impl<T, S> FromRequestParts<S> for PathParams<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(PathParams(value)),
            Err(rejection) => Err(path_rejection(&rejection)),
        }
    }
}

fn path_rejection(rejection: &PathRejection) -> Error {
    match rejection {
        PathRejection::FailedToDeserializePathParams(_) => {
            Error::malformed(format!("invalid path: {}", rejection.body_text()))
        }
        _ => Error::internal("path parameters are missing").with_source(rejection.body_text()),
    }
}

/// `axum::extract::Query` answering 400 problem+json when the query does not decode.
#[derive(Debug)]
pub(crate) struct QueryParams<T>(pub(crate) T);

impl<T, S> FromRequestParts<S> for QueryParams<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(QueryParams(value)),
            Err(rejection) => Err(query_rejection(&rejection)),
        }
    }
}

fn query_rejection(rejection: &QueryRejection) -> Error {
    Error::malformed(format!("invalid query: {}", rejection.body_text()))
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
