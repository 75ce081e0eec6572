//! The Prometheus exporter: install the recorder once, render `/metrics` yourself.
//!
//! No HTTP listener is started; a binary serves [`PrometheusHandle::render`] on its own
//! router (with the `http` feature, [`response`] builds the response).
//!
//! ```
//! use baas_core::metrics::exporter;
//!
//! let handle = exporter::install_prometheus()?;
//! metrics::counter!("baas_example_total").increment(1);
//! assert!(handle.render().contains("baas_example_total 1"));
//! // Installing again returns the same handle.
//! exporter::install_prometheus()?;
//! # Ok::<(), baas_core::Error>(())
//! ```
//!
//! Histograms are kept as Prometheus histograms (not summaries) with the buckets in
//! [`DURATION_BUCKETS`] for every metric ending in `_seconds`. Rendering also runs the
//! recorder's upkeep; if nothing scrapes for a long time, call
//! [`PrometheusHandle::run_upkeep`] now and then.

use std::sync::{Mutex, OnceLock};

use metrics_exporter_prometheus::Matcher;
pub use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::error::{Error, ErrorKind};

/// Histogram buckets (seconds) for every metric ending in `_seconds`: 1 ms to 5 min, so
/// they fit HTTP requests and long jobs alike.
pub const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    120.0, 300.0,
];

/// The content type of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A [`PrometheusBuilder`] with baas's histogram buckets, for callers who want to add
/// their own settings (global labels, more buckets) before installing it.
pub fn prometheus_builder() -> PrometheusBuilder {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), DURATION_BUCKETS)
        .expect("DURATION_BUCKETS is not empty")
}

/// Install [`prometheus_builder`]'s recorder as the process's global `metrics` recorder
/// and describe baas's metrics; returns the handle that renders the `/metrics` text.
///
/// Calling it again returns the handle installed the first time.
///
/// # Errors
///
/// `Internal` when another global recorder was installed first.
pub fn install_prometheus() -> Result<PrometheusHandle, Error> {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    static INSTALLING: Mutex<()> = Mutex::new(());

    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let _guard = INSTALLING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let handle = prometheus_builder().install_recorder().map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            "could not install the Prometheus metrics recorder",
        )
        .with_source(e)
    })?;
    super::describe();
    crate::slo::describe();
    Ok(HANDLE.get_or_init(|| handle).clone())
}

/// The `/metrics` response: the rendered text with the Prometheus content type.
///
/// ```
/// # use baas_core::metrics::exporter;
/// let handle = exporter::install_prometheus()?;
/// let res = exporter::response(&handle);
/// assert_eq!(res.status(), 200);
/// # Ok::<(), baas_core::Error>(())
/// ```
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub fn response(handle: &PrometheusHandle) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(http::header::CONTENT_TYPE, CONTENT_TYPE)],
        handle.render(),
    )
        .into_response()
}
