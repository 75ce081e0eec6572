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
//! [`DURATION_BUCKETS`] for every metric ending in `_seconds`. The recorder holds every
//! recorded sample until its upkeep folds them into the buckets; rendering runs it, and
//! so does a thread that [`install_prometheus`] starts, every [`UPKEEP_INTERVAL`], so
//! memory stays bounded when nothing scrapes.

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use metrics_exporter_prometheus::Matcher;
pub use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::error::{Error, ErrorKind};

/// Histogram buckets (seconds) for every metric ending in `_seconds`: 1 ms to 5 min, so
/// they fit HTTP requests and long jobs alike.
pub const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    120.0, 300.0,
];

/// How often [`install_prometheus`]'s thread runs the recorder's upkeep: the samples
/// recorded since are folded into their histograms and their memory freed.
pub const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

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
/// It also starts a thread (`baas-metrics-upkeep`) that runs the recorder's upkeep every
/// [`UPKEEP_INTERVAL`]: without it, a histogram keeps every sample recorded since the
/// last scrape (8 bytes each, several per request), so a process nothing scrapes grows
/// without bound.
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
    let handle = HANDLE.get_or_init(|| handle).clone();
    let upkeep = handle.clone();
    std::thread::Builder::new()
        .name("baas-metrics-upkeep".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_INTERVAL);
                upkeep.run_upkeep();
            }
        })
        .map_err(|e| {
            Error::new(
                ErrorKind::Internal,
                "could not start the metrics upkeep thread",
            )
            .with_source(e)
        })?;
    Ok(handle)
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
