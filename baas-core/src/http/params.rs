//! [`Path`] and [`Query`]: axum's extractors with problem+json rejections.

use axum::extract::FromRequestParts;
use axum::extract::rejection::{PathRejection, QueryRejection};
use http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// A drop-in for `axum::extract::Path` whose rejection is 400 problem+json (a path
/// segment that does not decode or parse).
///
/// ```
/// use baas_core::http::Path;
///
/// async fn show(Path(id): Path<u64>) -> String {
///     id.to_string()
/// }
/// let _app: axum::Router = axum::Router::new().route("/items/{id}", axum::routing::get(show));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
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

/// A drop-in for `axum::extract::Query` whose rejection is 400 problem+json.
///
/// ```
/// use baas_core::http::Query;
///
/// #[derive(serde::Deserialize)]
/// struct Page { limit: Option<u32> }
///
/// async fn list(Query(page): Query<Page>) -> String {
///     page.limit.unwrap_or(50).to_string()
/// }
/// let _app: axum::Router = axum::Router::new().route("/items", axum::routing::get(list));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(query_rejection(&rejection)),
        }
    }
}

fn query_rejection(rejection: &QueryRejection) -> Error {
    Error::malformed(format!("invalid query: {}", rejection.body_text()))
}
