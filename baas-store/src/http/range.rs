//! Serving an object: the `Range` header (RFC 9110 §14), 200/206/416 and the headers.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use baas_core::http::{PROBLEM_JSON, Problem};
use baas_core::{Error, TenantId};
use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::blob::{BlobBody, ByteRange, DynBlobStore};

/// What the `Range` header asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeRequest {
    /// No usable `Range` header, or several ranges: the whole object (200).
    Whole,
    /// One range (206, or 416 when unsatisfiable).
    One(ByteRange),
}

/// Read the `Range` header. A header that does not parse is ignored (RFC 9110 §14.2),
/// and so is a request for several ranges (API.md: several ranges → 200 whole).
pub(crate) fn parse_range(headers: &HeaderMap) -> RangeRequest {
    let mut values = headers.get_all(header::RANGE).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return RangeRequest::Whole;
    };
    let Some(spec) = value.to_str().ok().and_then(|v| {
        let (unit, set) = v.trim().split_once('=')?;
        unit.trim().eq_ignore_ascii_case("bytes").then_some(set)
    }) else {
        return RangeRequest::Whole;
    };
    let specs: Vec<&str> = spec
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    match specs.as_slice() {
        [one] => parse_spec(one).map_or(RangeRequest::Whole, RangeRequest::One),
        _ => RangeRequest::Whole,
    }
}

fn parse_spec(spec: &str) -> Option<ByteRange> {
    let (first, last) = spec.split_once('-')?;
    let digits = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    match (first.trim(), last.trim()) {
        ("", n) => digits(n).map(ByteRange::Suffix),
        (f, "") => digits(f).map(ByteRange::From),
        (f, l) => {
            let (f, l) = (digits(f)?, digits(l)?);
            (f <= l).then_some(ByteRange::FromTo(f, l))
        }
    }
}

/// 416 with `Content-Range: bytes */<size>`, as problem+json.
fn not_satisfiable(size: u64) -> Response {
    let problem = Problem {
        type_: "https://baas.dev/problems/range-not-satisfiable".to_owned(),
        title: "Range Not Satisfiable".to_owned(),
        status: 416,
        detail: format!("the object has {size} bytes; the requested range is outside it"),
        errors: Vec::new(),
    };
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let mut response = (StatusCode::RANGE_NOT_SATISFIABLE, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    headers.insert(
        header::CONTENT_RANGE,
        HeaderValue::from_str(&format!("bytes */{size}")).expect("ascii"),
    );
    response
}

/// Read `key` of `tenant` as the `Range` header in `headers` asks, and answer 200, 206
/// or 416 with `Content-Type`, `Content-Length`, `ETag`, `Accept-Ranges` and (206)
/// `Content-Range`. The bytes stream from the store.
pub(crate) async fn serve_object(
    store: &DynBlobStore,
    tenant: &TenantId,
    key: &str,
    headers: &HeaderMap,
) -> Result<Response, Error> {
    let range = match parse_range(headers) {
        RangeRequest::Whole => None,
        RangeRequest::One(r) => Some(r),
    };
    let object = match store.get(tenant, key, range).await {
        Ok(object) => object,
        Err(err) => {
            // Whatever error the backend uses for an unsatisfiable range, answer 416
            // when the range does not fit the object.
            if let Some(r) = range
                && let Ok(meta) = store.head(tenant, key).await
                && r.resolve(meta.size).is_none()
            {
                return Ok(not_satisfiable(meta.size));
            }
            return Err(err);
        }
    };
    Ok(object_response(object))
}

fn object_response(object: BlobBody) -> Response {
    let BlobBody {
        meta,
        range,
        partial,
        body,
    } = object;
    let status = if partial {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let mut response = Response::new(Body::from_stream(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    let content_type = HeaderValue::from_str(&meta.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(range.end - range.start),
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(tag) = HeaderValue::from_str(&format!("\"{}\"", meta.sha256)) {
        headers.insert(header::ETAG, tag);
    }
    if partial {
        let value = format!(
            "bytes {}-{}/{}",
            range.start,
            range.end.saturating_sub(1),
            meta.size
        );
        headers.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&value).expect("ascii"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(v: &str) -> RangeRequest {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, HeaderValue::from_str(v).unwrap());
        parse_range(&h)
    }

    #[test]
    fn parses_single_ranges() {
        use ByteRange::*;
        assert_eq!(range("bytes=0-4"), RangeRequest::One(FromTo(0, 4)));
        assert_eq!(range("bytes=5-"), RangeRequest::One(From(5)));
        assert_eq!(range("bytes=-3"), RangeRequest::One(Suffix(3)));
        assert_eq!(range("Bytes = 1-1 "), RangeRequest::One(FromTo(1, 1)));
        assert_eq!(range("bytes=100-200"), RangeRequest::One(FromTo(100, 200)));
    }

    #[test]
    fn ignores_junk_and_several_ranges() {
        for v in [
            "bytes=0-1,3-4",
            "items=0-1",
            "bytes=",
            "bytes=a-b",
            "bytes=5-1",
            "bytes=-",
            "bytes=+1-2",
            "0-1",
        ] {
            assert_eq!(range(v), RangeRequest::Whole, "{v}");
        }
        assert_eq!(parse_range(&HeaderMap::new()), RangeRequest::Whole);
    }
}
