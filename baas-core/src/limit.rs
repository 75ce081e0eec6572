//! Timeouts, concurrency limits and load shedding: tower's own, re-exported.
//!
//! These are not rewritten; this module gathers them so a stack reads the same in every
//! crate, and says how their errors classify (by [`Error::classify`](crate::Error::classify), the one place that
//! knows):
//!
//! | layer | refuses with | classified as | HTTP (feature `http`) |
//! |---|---|---|---|
//! | [`TimeoutLayer`] | [`Elapsed`] | `Timeout` (retryable) | 503 + `Retry-After` |
//! | [`LoadShedLayer`] | [`Overloaded`] when the inner service is not ready | `Unavailable` (retryable) | 503 + `Retry-After` |
//! | [`ConcurrencyLimitLayer`] | nothing: it makes callers wait (put `LoadShedLayer` outside it to refuse instead) | — | — |
//! | [`GlobalConcurrencyLimitLayer`] | as above, one limit shared by several services | — | — |
//!
//! Their error type is [`BoxError`](crate::BoxError). In front of an axum router, turn it into
//! problem+json with axum's `HandleErrorLayer` and [`error_response`]:
//!
//! ```
//! # #[cfg(feature = "http")] {
//! use std::time::Duration;
//! use axum::{Router, error_handling::HandleErrorLayer, routing::get};
//! use baas_core::limit::{self, ConcurrencyLimitLayer, LoadShedLayer, TimeoutLayer};
//! use tower::ServiceBuilder;
//!
//! let app: Router = Router::new().route("/", get(|| async { "hi" })).layer(
//!     ServiceBuilder::new()
//!         .layer(HandleErrorLayer::new(limit::error_response))
//!         .layer(LoadShedLayer::new())
//!         .layer(ConcurrencyLimitLayer::new(512))
//!         .layer(TimeoutLayer::new(Duration::from_secs(10))),
//! );
//! # }
//! ```
//!
//! Around a queue handler the `BoxError` goes to the worker, which classifies it (a
//! timed-out job is `Timeout`, so retried).

pub use tower::limit::{ConcurrencyLimit, ConcurrencyLimitLayer, GlobalConcurrencyLimitLayer};
pub use tower::load_shed::error::Overloaded;
pub use tower::load_shed::{LoadShed, LoadShedLayer};
pub use tower::timeout::error::Elapsed;
pub use tower::timeout::{Timeout, TimeoutLayer};

/// Turn a stack's [`BoxError`](crate::BoxError) into a problem+json response, keeping
/// its kind ([`Error::from_boxed`](crate::Error::from_boxed)): for axum's
/// `HandleErrorLayer`.
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub async fn error_response(error: crate::BoxError) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    crate::Error::from_boxed(error).into_response()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tower::{Service as _, ServiceBuilder, ServiceExt as _};

    use super::*;
    use crate::{BoxError, Classify as _, ErrorKind};

    #[tokio::test(start_paused = true)]
    async fn shed_load_behind_a_concurrency_limit_is_unavailable() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let rx = std::sync::Arc::new(tokio::sync::Mutex::new(Some(rx)));
        let slow = tower::service_fn(move |()| {
            let rx = rx.clone();
            async move {
                if let Some(rx) = rx.lock().await.take() {
                    let _ = rx.await;
                }
                Ok::<_, BoxError>("done")
            }
        });
        let mut svc = ServiceBuilder::new()
            .layer(LoadShedLayer::new())
            .layer(ConcurrencyLimitLayer::new(1))
            .service(slow);

        // The first call takes the only permit and waits.
        let first = svc.ready().await.unwrap().call(());
        let first = tokio::spawn(first);
        // The second is shed at once.
        let err = svc.ready().await.unwrap().call(()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert!(err.kind().is_retryable());

        tx.send(()).unwrap();
        assert_eq!(first.await.unwrap().unwrap(), "done");
        assert_eq!(svc.ready().await.unwrap().call(()).await.unwrap(), "done");
    }

    #[tokio::test(start_paused = true)]
    async fn timeouts_are_classified_timeout() {
        let never = tower::service_fn(|()| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok::<_, BoxError>(())
        });
        let svc = ServiceBuilder::new()
            .layer(TimeoutLayer::new(Duration::from_secs(1)))
            .service(never);
        let err = svc.oneshot(()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
    }

    #[cfg(feature = "http")]
    #[tokio::test]
    async fn error_response_is_503_problem_json() {
        let response = error_response(Box::new(Overloaded::new())).await;
        assert_eq!(response.status(), http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers()[http::header::CONTENT_TYPE],
            crate::http::PROBLEM_JSON
        );
        assert!(response.headers().contains_key(http::header::RETRY_AFTER));
    }
}
