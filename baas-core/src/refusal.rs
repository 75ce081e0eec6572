//! How a layer that turns a request away hands the refusal back to its caller.
//!
//! The rate limiter, [`RequireRole`](crate::require_role::RequireRole) and the circuit
//! breaker wrap any `tower::Service`. When they refuse a request they must produce the
//! inner service's `Result<Response, Error>` without calling it. [`Refuse`], implemented
//! on the *error* type, says how:
//!
//! | inner service's error | a refusal becomes |
//! |---|---|
//! | [`Error`] | `Err(error)` |
//! | [`BoxError`] | `Err(Box::new(error))`, which [`Error::classify`] still classifies |
//! | `Infallible` with response `axum::response::Response` (feature `http`) | `Ok(problem+json response)` via [`Error::into_response`](axum::response::IntoResponse), plus the refusal's headers |
//!
//! Your own error type can implement [`Refuse`] too (usually `Err(error.into())`).

#[cfg(feature = "http")]
use std::convert::Infallible;

use http::HeaderMap;

use crate::error::{BoxError, Error};

/// A refused request: the error, and headers an HTTP answer should carry.
#[derive(Debug)]
pub struct Refusal {
    /// Why the request was refused.
    pub error: Error,
    /// Extra headers for an HTTP answer (e.g. `RateLimit-Policy`); ignored elsewhere.
    pub headers: HeaderMap,
}

impl Refusal {
    /// A refusal without extra headers.
    pub fn new(error: Error) -> Self {
        Refusal {
            error,
            headers: HeaderMap::new(),
        }
    }
}

impl From<Error> for Refusal {
    fn from(error: Error) -> Self {
        Refusal::new(error)
    }
}

/// How a refusal travels through a service whose response is `Res` and whose error is
/// `Self`. See the [module docs](self).
pub trait Refuse<Res>: Sized {
    /// Whether [`Refuse::annotate`] does anything, so layers skip building headers
    /// nobody reads.
    const ANNOTATES: bool = false;

    /// The outcome a refused call resolves to.
    fn refuse(refusal: Refusal) -> Result<Res, Self>;

    /// Add informational headers to a successful response (e.g. `RateLimit`). Does
    /// nothing unless the response is HTTP.
    fn annotate(_response: &mut Res, _headers: &HeaderMap) {}
}

impl<Res> Refuse<Res> for Error {
    fn refuse(refusal: Refusal) -> Result<Res, Self> {
        Err(refusal.error)
    }
}

impl<Res> Refuse<Res> for BoxError {
    fn refuse(refusal: Refusal) -> Result<Res, Self> {
        Err(Box::new(refusal.error))
    }
}

#[cfg(feature = "http")]
impl Refuse<axum::response::Response> for Infallible {
    const ANNOTATES: bool = true;

    fn refuse(refusal: Refusal) -> Result<axum::response::Response, Self> {
        use axum::response::IntoResponse as _;
        let mut response = refusal.error.into_response();
        annotate_headers(response.headers_mut(), &refusal.headers);
        Ok(response)
    }

    fn annotate(response: &mut axum::response::Response, headers: &HeaderMap) {
        annotate_headers(response.headers_mut(), headers);
    }
}

#[cfg(feature = "http")]
fn annotate_headers(target: &mut HeaderMap, headers: &HeaderMap) {
    for (name, value) in headers {
        target.insert(name.clone(), value.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Classify as _, ErrorKind};

    #[test]
    fn errors_become_err_and_keep_their_kind() {
        let r: Result<(), Error> = Error::refuse(Error::new(ErrorKind::Forbidden, "no").into());
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Forbidden);
        let r: Result<(), BoxError> =
            BoxError::refuse(Error::new(ErrorKind::RateLimited, "slow").into());
        assert_eq!(r.unwrap_err().kind(), ErrorKind::RateLimited);
    }
}
