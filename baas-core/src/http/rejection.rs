//! axum's own rejections as problem+json.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use crate::error::{Error, ErrorKind};

/// A drop-in for `axum::Json` whose rejections are problem+json: an unparseable body or
/// one nested too deep is 400, the wrong content type is 400, wrong field types or
/// missing fields are 422, a body over the limit is 413.
///
/// ```
/// use baas_core::http::Json;
///
/// async fn create(Json(body): Json<serde_json::Value>) -> Json<serde_json::Value> {
///     Json(body)
/// }
/// let _app: axum::Router = axum::Router::new().route("/", axum::routing::post(create));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn json_rejection(rejection: &JsonRejection) -> Error {
    let kind = match rejection {
        JsonRejection::JsonDataError(_) => ErrorKind::Invalid,
        JsonRejection::JsonSyntaxError(_) | JsonRejection::MissingJsonContentType(_) => {
            ErrorKind::Malformed
        }
        JsonRejection::BytesRejection(_) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ErrorKind::PayloadTooLarge
        }
        _ => match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ErrorKind::PayloadTooLarge,
            s if s.is_server_error() => ErrorKind::Internal,
            _ => ErrorKind::Malformed,
        },
    };
    Error::new(kind, rejection.body_text())
}

/// A router fallback: 404 problem+json for unknown routes.
pub async fn fallback_not_found() -> Error {
    Error::new(ErrorKind::NotFound, "no route matches this path")
}

/// A router method-not-allowed fallback: 405 problem+json.
pub async fn method_not_allowed() -> Response {
    let problem = super::Problem {
        type_: "https://baas.dev/problems/method-not-allowed".into(),
        title: "Method Not Allowed".into(),
        status: 405,
        detail: "this route does not accept that method".into(),
        errors: Vec::new(),
    };
    let mut response = (StatusCode::METHOD_NOT_ALLOWED, axum::Json(problem)).into_response();
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(super::PROBLEM_JSON),
    );
    response
}

/// Install both fallbacks on a router.
///
/// ```
/// let app: axum::Router = baas_core::http::problem_rejections(axum::Router::new());
/// ```
pub fn problem_rejections<S: Clone + Send + Sync + 'static>(
    router: axum::Router<S>,
) -> axum::Router<S> {
    router
        .fallback(fallback_not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::post;
    use tower::ServiceExt as _;

    fn app() -> axum::Router {
        async fn echo(Json(v): Json<std::collections::BTreeMap<String, u32>>) -> Json<usize> {
            Json(v.len())
        }
        problem_rejections(axum::Router::new().route("/echo", post(echo)))
            .layer(axum::extract::DefaultBodyLimit::max(64))
    }

    async fn send(req: http::Request<Body>) -> (StatusCode, String) {
        let res = app().oneshot(req).await.unwrap();
        let status = res.status();
        let ct = res.headers()[http::header::CONTENT_TYPE].to_str().unwrap().to_owned();
        (status, ct)
    }

    fn json_post(body: &'static str) -> http::Request<Body> {
        http::Request::post("/echo")
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap()
    }

    #[tokio::test]
    async fn framework_rejections_are_problem_json() {
        let cases = [
            (json_post("{not json"), StatusCode::BAD_REQUEST),
            (json_post(r#"{"a":"text"}"#), StatusCode::UNPROCESSABLE_ENTITY),
            (
                json_post(r#"{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa":1,"bbbbbbbbbbbbbbbbbbbbbbbbbb":2}"#),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            (
                http::Request::post("/echo").body(Body::from("{}")).unwrap(),
                StatusCode::BAD_REQUEST,
            ),
            (
                http::Request::get("/nowhere").body(Body::empty()).unwrap(),
                StatusCode::NOT_FOUND,
            ),
            (
                http::Request::get("/echo").body(Body::empty()).unwrap(),
                StatusCode::METHOD_NOT_ALLOWED,
            ),
        ];
        for (req, expected) in cases {
            let uri = req.uri().clone();
            let (status, ct) = send(req).await;
            assert_eq!(status, expected, "{uri}");
            assert_eq!(ct, super::super::PROBLEM_JSON, "{uri}");
        }
    }
}
