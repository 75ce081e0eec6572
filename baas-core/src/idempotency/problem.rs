//! The layer's own problem+json answers (400, 409, 413, 422, 500, 503).
//!
//! The layer builds these itself rather than through `Error`'s axum `IntoResponse`, so
//! it works on any `http` service without the `http` feature. The document has the same
//! shape (`type`, `title`, `status`, `detail`) and the statuses are those of the one
//! mapping (`baas_core::http::status_of`), which a test checks.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};

use super::body::IdempotencyBody;
use crate::error::{Error, ErrorKind};

const PROBLEM_JSON: &str = "application/problem+json";

/// The status of the kinds the layer answers with (kept equal to `http::status_of`).
pub(crate) fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Malformed => StatusCode::BAD_REQUEST,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Unavailable | ErrorKind::Timeout => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A problem+json response for `err`. An `Internal` error never shows its message.
pub(crate) fn response<B: http_body::Body>(err: &Error) -> Response<IdempotencyBody<B>> {
    let kind = err.kind();
    let status = status(kind);
    let detail = match kind {
        ErrorKind::Internal => "an internal error occurred",
        _ => err.message(),
    };
    let doc = serde_json::json!({
        "type": format!("https://baas.dev/problems/{}", kind.as_str().replace('_', "-")),
        "title": kind.title(),
        "status": status.as_u16(),
        "detail": detail,
    });
    let body = Bytes::from(serde_json::to_vec(&doc).unwrap_or_default());
    let mut response = Response::new(IdempotencyBody::full(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response.extensions_mut().insert(kind);
    response
}

#[cfg(all(test, feature = "http"))]
mod tests {
    use super::*;
    use http_body_util::{BodyExt as _, Full};

    #[tokio::test]
    async fn same_statuses_and_shape_as_the_one_mapping() {
        for kind in [
            ErrorKind::Malformed,
            ErrorKind::Conflict,
            ErrorKind::PayloadTooLarge,
            ErrorKind::Invalid,
            ErrorKind::Unavailable,
            ErrorKind::Internal,
        ] {
            let err = Error::new(kind, "detail");
            let response = response::<Full<Bytes>>(&err);
            assert_eq!(response.status(), crate::http::status_of(kind), "{kind:?}");
            assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            let ours: crate::http::Problem = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(ours, crate::http::Problem::from_error(&err), "{kind:?}");
        }
    }
}
