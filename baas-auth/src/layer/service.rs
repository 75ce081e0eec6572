//! The service.

use std::sync::Arc;
use std::task::{Context, Poll};

use baas_core::refusal::{Refusal, Refuse};
use baas_core::{Error, ErrorKind};
use http::{HeaderMap, HeaderValue, header};
use tower_service::Service;

use super::authenticator::DynAuthenticator;
use super::future::ResponseFuture;
use crate::error::AuthError;

/// Authenticates the request's bearer credential before calling the inner service. See
/// the [module docs](super).
#[derive(Debug, Clone)]
pub struct Auth<S> {
    inner: S,
    authenticator: Arc<DynAuthenticator>,
}

impl<S> Auth<S> {
    /// Wrap `inner`.
    pub fn new(inner: S, authenticator: Arc<DynAuthenticator>) -> Self {
        Auth {
            inner,
            authenticator,
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, consuming the wrapper.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// The credential of an `Authorization` header: `Ok(None)` without the header,
/// `Ok(Some(token))` for `Bearer <token>` (scheme case-insensitive), and an error for
/// anything else (another scheme, an empty token, bytes that are not visible ASCII).
///
/// ```
/// use baas_auth::layer::bearer_credential;
/// let mut headers = http::HeaderMap::new();
/// assert_eq!(bearer_credential(&headers).unwrap(), None);
/// headers.insert("authorization", "bearer abc.def".parse().unwrap());
/// assert_eq!(bearer_credential(&headers).unwrap(), Some("abc.def"));
/// headers.insert("authorization", "Basic dXNlcjpwdw==".parse().unwrap());
/// assert!(bearer_credential(&headers).is_err());
/// ```
pub fn bearer_credential(headers: &HeaderMap) -> Result<Option<&str>, AuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| AuthError::MalformedToken)?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::MalformedToken)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::MalformedToken);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::MalformedToken);
    }
    Ok(Some(token))
}

/// The refusal for an authentication failure: 401 with
/// `WWW-Authenticate: Bearer error="invalid_token"` for a refused credential; the error
/// as it is for anything else (an unavailable store).
pub(super) fn refusal(err: AuthError) -> Refusal {
    let error: Error = err.into();
    if error.kind() != ErrorKind::Unauthenticated {
        return Refusal::new(error);
    }
    let description = error.message().replace(['"', '\\'], "");
    let mut refusal = Refusal::new(error);
    let challenge = format!("Bearer error=\"invalid_token\", error_description=\"{description}\"");
    let value = HeaderValue::from_str(&challenge)
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer error=\"invalid_token\""));
    refusal.headers.insert(header::WWW_AUTHENTICATE, value);
    refusal
}

impl<S, B> Service<http::Request<B>> for Auth<S>
where
    S: Service<http::Request<B>> + Clone + Send + 'static,
    S::Error: Refuse<S::Response>,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let credential = match bearer_credential(req.headers()) {
            Ok(None) => {
                // Anonymous: a principal smuggled in by an outer layer is not trusted.
                req.extensions_mut().remove::<baas_core::Principal>();
                return ResponseFuture::called(self.inner.call(req));
            }
            Ok(Some(credential)) => credential.to_owned(),
            Err(err) => return ResponseFuture::refused(S::Error::refuse(refusal(err))),
        };
        // The ready service goes into the future; a clone stays for the next call.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let authenticator = Arc::clone(&self.authenticator);
        let check = Box::pin(async move { authenticator.authenticate(&credential).await });
        ResponseFuture::authenticating(check, req, inner)
    }
}
