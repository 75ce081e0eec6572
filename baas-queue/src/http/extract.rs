//! Extractors whose rejections are problem+json: the operator and the path.

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use baas_core::http::Caller;
use baas_core::{Error, Principal};
use serde::de::DeserializeOwned;

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
