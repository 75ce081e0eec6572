//! What the layer reads from a request: the key, the scope, the route and the request id.

use http::request::Parts;
use http::{HeaderMap, HeaderValue};

use super::store::{IdempotencyScope, validate_key};
use super::{IDEMPOTENCY_KEY, X_REQUEST_ID};
use crate::context::{RequestContext, RequestId};
use crate::error::{Error, ErrorKind};
use crate::principal::Principal;

/// The `Idempotency-Key` of a request: `Ok(None)` without the header, `Err` when it is
/// present but unusable (repeated, not ASCII, not 1–255 characters).
///
/// The IETF draft makes the header a structured-field String (`"abc"`); plain tokens
/// (`abc`) are accepted too, and `"abc"` and `abc` name the same key.
pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Error> {
    let mut values = headers.get_all(&IDEMPOTENCY_KEY).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Error::new(
            ErrorKind::Malformed,
            "send exactly one Idempotency-Key header",
        ));
    }
    let raw = value.to_str().map_err(|_| {
        Error::new(
            ErrorKind::Malformed,
            "Idempotency-Key must be visible ASCII",
        )
    })?;
    let key = unquote(raw.trim())?;
    validate_key(&key)?;
    Ok(Some(key))
}

/// An RFC 8941 String (`"…"` with `\"` and `\\` escapes) unwrapped; anything not starting
/// with a quote is taken as is.
fn unquote(raw: &str) -> Result<String, Error> {
    let bad = || {
        Error::new(
            ErrorKind::Malformed,
            "Idempotency-Key is not a valid string",
        )
    };
    let Some(inner) = raw.strip_prefix('"') else {
        return Ok(raw.to_owned());
    };
    let inner = inner.strip_suffix('"').ok_or_else(bad)?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('"' | '\\')) => out.push(e),
                _ => return Err(bad()),
            },
            '"' => return Err(bad()),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// The route of an anonymous request: axum's matched route template when the layer runs
/// inside a router (feature `http`), else the request path.
pub(crate) fn route(parts: &Parts) -> &str {
    matched_path(parts).unwrap_or_else(|| parts.uri.path())
}

/// axum's `MatchedPath`, when present.
pub(crate) fn matched_path(parts: &Parts) -> Option<&str> {
    #[cfg(feature = "http")]
    {
        parts
            .extensions
            .get::<axum::extract::MatchedPath>()
            .map(axum::extract::MatchedPath::as_str)
    }
    #[cfg(not(feature = "http"))]
    {
        let _ = parts;
        None
    }
}

/// Whose key this is: the principal (a [`Principal`] extension, or the principal of a
/// [`RequestContext`] extension), else the route.
pub(crate) fn scope(parts: &Parts) -> IdempotencyScope {
    let principal = parts.extensions.get::<Principal>().or_else(|| {
        parts
            .extensions
            .get::<RequestContext>()
            .and_then(|cx| cx.principal.as_ref())
    });
    match principal {
        Some(p) => IdempotencyScope::Principal {
            tenant: p.tenant.clone(),
            subject: p.subject.clone(),
        },
        None => IdempotencyScope::Anonymous {
            route: route(parts).to_owned(),
        },
    }
}

/// The current request's id: its `X-Request-Id` header, else a [`RequestId`] or
/// [`RequestContext`] extension.
pub(crate) fn request_id(parts: &Parts) -> Option<HeaderValue> {
    if let Some(value) = parts.headers.get(&X_REQUEST_ID) {
        return Some(value.clone());
    }
    let id = parts.extensions.get::<RequestId>().or_else(|| {
        parts
            .extensions
            .get::<RequestContext>()
            .map(|cx| &cx.request_id)
    })?;
    HeaderValue::from_str(id.as_str()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(values: &[&str]) -> Result<Option<String>, Error> {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(&IDEMPOTENCY_KEY, HeaderValue::from_str(v).unwrap());
        }
        idempotency_key(&headers)
    }

    #[test]
    fn keys_plain_and_quoted() {
        assert_eq!(key_of(&[]).unwrap(), None);
        assert_eq!(key_of(&["abc"]).unwrap().as_deref(), Some("abc"));
        assert_eq!(key_of(&["\"abc\""]).unwrap().as_deref(), Some("abc"));
        assert_eq!(
            key_of(&[r#""a\"b\\c""#]).unwrap().as_deref(),
            Some(r#"a"b\c"#)
        );
        assert_eq!(
            key_of(&[&"k".repeat(255)]).unwrap().map(|k| k.len()),
            Some(255)
        );
    }

    #[test]
    fn bad_keys_are_malformed() {
        for bad in [
            &["\"\""][..],
            &["\"abc"],
            &[r#""a\b""#],
            &["a", "b"],
            &[&"k".repeat(256)],
        ] {
            let err = key_of(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Malformed, "{bad:?}");
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            &IDEMPOTENCY_KEY,
            HeaderValue::from_bytes(b"caf\xe9").unwrap(),
        );
        assert!(idempotency_key(&headers).is_err());
    }
}
