//! The operator as an extractor (401 without a credential, 403 for anyone else).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use baas_core::http::Caller;
use baas_core::{Error, Principal};

/// The authenticated [`Principal`] in the request extensions (directly or inside a
/// [`RequestContext`](baas_core::RequestContext)), required to be an operator: 401 without one, 403 when it is not
/// an operator.
#[derive(Debug, Clone)]
pub(crate) struct Operator(pub(crate) Principal);

impl<S: Send + Sync> FromRequestParts<S> for Operator {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.require_operator()?;
        Ok(Operator(caller.0))
    }
}
