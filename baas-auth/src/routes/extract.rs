//! Extractors: the authenticated caller and the client's address.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use baas_core::{Error, ErrorKind, Principal};
use http::header;
use http::request::Parts;

use super::IdentityState;
use crate::service::ClientInfo;

/// The authenticated caller, put in the extensions by the
/// [`AuthLayer`](crate::layer::AuthLayer); without one the handler is not called and the
/// answer is 401 problem+json with `WWW-Authenticate: Bearer`.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Unauthenticated,
                    "this operation needs a valid credential",
                )
            })
    }
}

impl FromRequestParts<IdentityState> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &IdentityState,
    ) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| state.proxies.client_ip(peer.ip(), &parts.headers));
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok());
        Ok(ClientInfo::new(ip, user_agent))
    }
}
