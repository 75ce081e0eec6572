//! problem+json responses.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use crate::error::{Error, ErrorKind, FieldError};

/// The problem+json media type.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The HTTP status of an error kind — the one mapping of API.md.
///
/// ```
/// use baas_core::ErrorKind;
/// use baas_core::http::status_of;
/// use http::StatusCode;
/// assert_eq!(status_of(ErrorKind::Invalid), StatusCode::UNPROCESSABLE_ENTITY);
/// assert_eq!(status_of(ErrorKind::QuotaExceeded), StatusCode::FORBIDDEN);
/// assert_eq!(status_of(ErrorKind::Timeout), StatusCode::SERVICE_UNAVAILABLE);
/// ```
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
        ErrorKind::Malformed => StatusCode::BAD_REQUEST,
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden | ErrorKind::QuotaExceeded => StatusCode::FORBIDDEN,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable | ErrorKind::Timeout => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The problem `type` URI of a kind: `https://baas.dev/problems/<kind-with-dashes>`.
pub fn problem_type(kind: ErrorKind) -> String {
    format!(
        "https://baas.dev/problems/{}",
        kind.as_str().replace('_', "-")
    )
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI naming the problem type.
    #[serde(rename = "type")]
    pub type_: String,
    /// A short summary of the type.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened, for this occurrence.
    pub detail: String,
    /// Field errors, when the input had some.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    /// The problem document of an error. An `Internal` error never shows its message.
    pub fn from_error(err: &Error) -> Self {
        let kind = err.kind();
        let detail = match kind {
            ErrorKind::Internal => "an internal error occurred".to_owned(),
            _ => err.message().to_owned(),
        };
        Problem {
            type_: problem_type(kind),
            title: kind.title().to_owned(),
            status: status_of(kind).as_u16(),
            detail,
            errors: err.fields().to_vec(),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let kind = self.kind();
        if kind == ErrorKind::Internal {
            tracing::error!(error = ?self, "internal error");
        }
        let problem = Problem::from_error(&self);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status_of(kind), body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if matches!(
            kind,
            ErrorKind::RateLimited | ErrorKind::Unavailable | ErrorKind::Timeout
        ) {
            let secs = self
                .retry_after()
                .map_or(1, |d| d.as_secs_f64().ceil().max(1.0) as u64);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if kind == ErrorKind::Unauthenticated {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response.extensions_mut().insert(kind);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt as _;
    use std::time::Duration;

    async fn render(err: Error) -> (Response, serde_json::Value) {
        let response = err.into_response();
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap();
        (Response::from_parts(parts, axum::body::Body::empty()), json)
    }

    #[tokio::test]
    async fn every_kind_renders_problem_json_with_its_status() {
        for kind in ErrorKind::ALL {
            let (response, json) = render(Error::new(kind, "detail")).await;
            assert_eq!(response.status(), status_of(kind));
            assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
            assert_eq!(json["status"], status_of(kind).as_u16());
            assert!(json["type"].as_str().unwrap().starts_with("https://"));
            assert!(json["title"].is_string());
        }
    }

    #[tokio::test]
    async fn rate_limited_carries_retry_after_rounded_up() {
        let err = Error::new(ErrorKind::RateLimited, "slow")
            .with_retry_after(Duration::from_millis(1500));
        let (response, _) = render(err).await;
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
    }

    #[tokio::test]
    async fn unauthenticated_asks_for_a_bearer_token() {
        let (response, _) = render(Error::new(ErrorKind::Unauthenticated, "no token")).await;
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }

    #[tokio::test]
    async fn internal_errors_hide_their_message_and_fields_are_listed() {
        let (_, json) = render(Error::internal("password=hunter2")).await;
        assert!(!json.to_string().contains("hunter2"));
        let (_, json) = render(Error::field("email", "not an email")).await;
        assert_eq!(json["errors"][0]["field"], "email");
    }
}
