use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use metrics::{Label, SharedString};

use crate::error::Classify;

use super::{
    DELIVERY_ATTEMPTS_TOTAL, DELIVERY_DURATION_SECONDS, HTTP_REQUEST_DURATION_SECONDS,
    HTTP_REQUESTS_TOTAL, JOB_DURATION_SECONDS, JOB_RUNS_TOTAL, UNMATCHED_ROUTE,
};

/// Decides what [`MetricsLayer`](super::MetricsLayer) records for a request of type `Req`.
///
/// [`observe`](MetricsPolicy::observe) sees the request before the inner service takes
/// it and returns an [`Observation`], which records the outcome once the response (or
/// error) is known.
pub trait MetricsPolicy<Req> {
    /// What is kept from the request until the call finishes.
    type Observation;

    /// Look at the request before it is handed to the inner service.
    fn observe(&self, req: &Req) -> Self::Observation;
}

/// The second half of a [`MetricsPolicy`]: records one finished call.
pub trait Observation<Res, E> {
    /// Record the result of the call and how long it took.
    fn finish(self, result: Result<&Res, &E>, elapsed: Duration);
}

/// The route template axum matched for a request (its
/// [`MatchedPath`](axum::extract::MatchedPath)), if any.
///
/// Without the `http` feature there is no router to ask, and this is always `None`.
pub fn matched_route(extensions: &http::Extensions) -> Option<&str> {
    #[cfg(feature = "http")]
    {
        extensions
            .get::<axum::extract::MatchedPath>()
            .map(axum::extract::MatchedPath::as_str)
    }
    #[cfg(not(feature = "http"))]
    {
        let _ = extensions;
        None
    }
}

/// HTTP RED metrics: `baas_http_requests_total` and
/// `baas_http_request_duration_seconds`, labelled `route`, `method`, `status`.
///
/// `route` is the matched route template ([`matched_route`]) or the fallback label
/// ([`UNMATCHED_ROUTE`] by default) — never the raw path. Methods outside the standard
/// nine are labelled `other`, so a client cannot grow the label set. A service error
/// (rather than an error response) is labelled `status="error"`.
#[derive(Debug, Clone)]
pub struct HttpMetrics {
    unmatched: SharedString,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpMetrics {
    /// The default policy (fallback route label `unmatched`).
    pub fn new() -> Self {
        HttpMetrics {
            unmatched: SharedString::const_str(UNMATCHED_ROUTE),
        }
    }

    /// Use `label` as the `route` of requests without a matched route template.
    pub fn with_unmatched(mut self, label: impl Into<String>) -> Self {
        self.unmatched = shared(label.into());
        self
    }
}

/// What [`HttpMetrics`] keeps from a request.
#[derive(Debug)]
pub struct HttpObservation {
    route: SharedString,
    method: &'static str,
}

impl<B> MetricsPolicy<http::Request<B>> for HttpMetrics {
    type Observation = HttpObservation;

    fn observe(&self, req: &http::Request<B>) -> HttpObservation {
        let route = match matched_route(req.extensions()) {
            Some(route) => SharedString::from_owned(route.to_owned()),
            None => self.unmatched.clone(),
        };
        HttpObservation {
            route,
            method: method_label(req.method()),
        }
    }
}

impl<B, E> Observation<http::Response<B>, E> for HttpObservation {
    fn finish(self, result: Result<&http::Response<B>, &E>, elapsed: Duration) {
        let status = match result {
            Ok(res) => SharedString::from_owned(res.status().as_str().to_owned()),
            Err(_) => SharedString::const_str("error"),
        };
        let labels = vec![
            Label::new("route", self.route),
            Label::new("method", self.method),
            Label::new("status", status),
        ];
        metrics::counter!(HTTP_REQUESTS_TOTAL, labels.clone()).increment(1);
        metrics::histogram!(HTTP_REQUEST_DURATION_SECONDS, labels).record(elapsed.as_secs_f64());
    }
}

fn method_label(method: &http::Method) -> &'static str {
    use http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

fn shared(s: String) -> SharedString {
    SharedString::from_shared(Arc::<str>::from(s))
}

/// The area a [`WorkMetrics`] records under.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkArea {
    /// Queue jobs: `baas_job_runs_total` and `baas_job_duration_seconds`, labelled
    /// `job` and `outcome`.
    Jobs,
    /// Notification deliveries: `baas_delivery_attempts_total` and
    /// `baas_delivery_duration_seconds`, labelled `channel` and `outcome`.
    Deliveries,
}

impl WorkArea {
    /// The counter's name.
    pub fn counter_name(self) -> &'static str {
        match self {
            WorkArea::Jobs => JOB_RUNS_TOTAL,
            WorkArea::Deliveries => DELIVERY_ATTEMPTS_TOTAL,
        }
    }

    /// The histogram's name.
    pub fn histogram_name(self) -> &'static str {
        match self {
            WorkArea::Jobs => JOB_DURATION_SECONDS,
            WorkArea::Deliveries => DELIVERY_DURATION_SECONDS,
        }
    }

    /// The label naming the queue or channel.
    pub fn name_label(self) -> &'static str {
        match self {
            WorkArea::Jobs => "job",
            WorkArea::Deliveries => "channel",
        }
    }
}

/// RED metrics for non-HTTP work (jobs, deliveries) around any `Service<Req>` whose error
/// implements [`Classify`]: `outcome` is `ok` or the error's kind
/// ([`ErrorKind::as_str`](crate::ErrorKind::as_str)).
#[derive(Clone)]
pub struct WorkMetrics {
    area: WorkArea,
    name: SharedString,
}

impl fmt::Debug for WorkMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkMetrics")
            .field("area", &self.area)
            .field("name", &&*self.name)
            .finish()
    }
}

impl WorkMetrics {
    /// Metrics in `area` for the queue, job type or channel `name` (keep it a bounded set:
    /// it becomes a label).
    pub fn new(area: WorkArea, name: impl Into<String>) -> Self {
        WorkMetrics {
            area,
            name: shared(name.into()),
        }
    }

    /// The area.
    pub fn area(&self) -> WorkArea {
        self.area
    }
}

/// What [`WorkMetrics`] keeps from a call.
#[derive(Debug)]
pub struct WorkObservation {
    area: WorkArea,
    name: SharedString,
}

impl<Req> MetricsPolicy<Req> for WorkMetrics {
    type Observation = WorkObservation;

    fn observe(&self, _req: &Req) -> WorkObservation {
        WorkObservation {
            area: self.area,
            name: self.name.clone(),
        }
    }
}

impl<Res, E: Classify> Observation<Res, E> for WorkObservation {
    fn finish(self, result: Result<&Res, &E>, elapsed: Duration) {
        let outcome = match result {
            Ok(_) => "ok",
            Err(e) => e.kind().as_str(),
        };
        let labels = vec![
            Label::new(self.area.name_label(), self.name),
            Label::new("outcome", outcome),
        ];
        metrics::counter!(self.area.counter_name(), labels.clone()).increment(1);
        metrics::histogram!(self.area.histogram_name(), labels).record(elapsed.as_secs_f64());
    }
}
