//! Reading a token's JOSE header before anything is trusted: the fields the verifier
//! decides on (`alg`, `typ`, `kid`, `crit`), parsed strictly by us rather than by
//! jsonwebtoken, so `alg: none` or an unknown algorithm gets a precise error.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::AuthError;

#[derive(serde::Deserialize)]
pub(crate) struct RawHeader {
    pub(crate) alg: String,
    #[serde(default)]
    pub(crate) typ: Option<String>,
    #[serde(default)]
    pub(crate) kid: Option<String>,
    #[serde(default)]
    pub(crate) crit: Option<serde_json::Value>,
}

/// The longest encoded header looked at.
const MAX_HEADER_LEN: usize = 1024;

pub(crate) fn parse(token: &str) -> Result<RawHeader, AuthError> {
    let mut parts = token.split('.');
    // An empty payload or signature is left to the signature check, so that an
    // unsigned `alg: none` token is refused for its algorithm, the clearer reason.
    let (Some(header), Some(_payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::MalformedToken);
    };
    if header.is_empty() || header.len() > MAX_HEADER_LEN {
        return Err(AuthError::MalformedToken);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| AuthError::MalformedToken)?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::MalformedToken)
}

/// Whether `typ` names an access token: `at+jwt`, or the full media type
/// `application/at+jwt` (RFC 7515 §4.1.9), compared case-insensitively.
pub(crate) fn is_access_token_typ(typ: &str) -> bool {
    let typ = typ
        .get(..12)
        .filter(|p| p.eq_ignore_ascii_case("application/"))
        .map_or(typ, |_| &typ[12..]);
    typ.eq_ignore_ascii_case(super::ACCESS_TOKEN_TYP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typ_variants() {
        assert!(is_access_token_typ("at+jwt"));
        assert!(is_access_token_typ("AT+JWT"));
        assert!(is_access_token_typ("application/at+jwt"));
        assert!(!is_access_token_typ("JWT"));
        assert!(!is_access_token_typ("application/jwt"));
        assert!(!is_access_token_typ(""));
        assert!(!is_access_token_typ("applicatioé/at+jwt"));
    }

    #[test]
    fn shape_is_checked() {
        for bad in ["", "a", "a.b", "a.b.c.d", ".b.c", "!!.b.c", "e30.b"] {
            assert!(
                matches!(parse(bad), Err(AuthError::MalformedToken)),
                "{bad}"
            );
        }
    }
}
