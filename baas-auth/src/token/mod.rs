//! Access tokens (RFC 9068): [`TokenIssuer`] signs, [`TokenVerifier`] verifies.

mod cache;
mod claims;
mod config;
mod header;
mod issuer;
mod verifier;

pub use claims::{ACCESS_TOKEN_TYP, AccessClaims};
pub use config::TokenConfig;
pub use issuer::{IssuedToken, TokenIssuer, TokenRequest};
pub use verifier::{TokenVerifier, VerifiedToken};
