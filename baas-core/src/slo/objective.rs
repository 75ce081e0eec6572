use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, ErrorKind};

/// A declared service-level objective: a name, the share of good events promised, and
/// the window it is promised over.
///
/// ```
/// use baas_core::slo::{HttpSelector, Slo};
/// use std::time::Duration;
///
/// let slo = Slo::new("api_availability", 0.999)?
///     .with_description("non-5xx responses of the public API")
///     .with_http(HttpSelector::all());
/// assert_eq!(slo.window(), Duration::from_secs(30 * 86_400));
/// assert!((slo.error_budget() - 0.001).abs() < 1e-12);
/// assert!(Slo::new("bad name!", 0.999).is_err());
/// assert!(Slo::new("x", 1.0).is_err());
/// # Ok::<(), baas_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Slo {
    name: String,
    objective: f64,
    window: Duration,
    description: String,
    http: Option<HttpSelector>,
}

/// The default SLO window: 30 days.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(30 * 86_400);

impl Slo {
    /// An SLO named `name` (1–64 of `a-z A-Z 0-9 _ -`; it becomes a label value) whose
    /// `objective` (strictly between 0 and 1, e.g. `0.999`) is the share of events that
    /// must be good over the window (30 days unless [`with_window`](Self::with_window)).
    ///
    /// # Errors
    ///
    /// `Invalid` for a bad name or objective.
    pub fn new(name: impl Into<String>, objective: f64) -> Result<Self, Error> {
        let name = name.into();
        let name_ok = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !name_ok {
            return Err(Error::field(
                "name",
                "an SLO name is 1-64 characters of a-z, A-Z, 0-9, '_' and '-'",
            ));
        }
        if !(objective > 0.0 && objective < 1.0) {
            return Err(Error::field(
                "objective",
                "an SLO objective is strictly between 0 and 1, such as 0.999",
            ));
        }
        Ok(Slo {
            name,
            objective,
            window: DEFAULT_WINDOW,
            description: String::new(),
            http: None,
        })
    }

    /// Use `window` instead of 30 days: whole hours, from 1 hour to 90 days.
    ///
    /// # Errors
    ///
    /// `Invalid` for any other window.
    pub fn with_window(mut self, window: Duration) -> Result<Self, Error> {
        let secs = window.as_secs();
        if window.subsec_nanos() != 0
            || !secs.is_multiple_of(3600)
            || !(3600..=90 * 86_400).contains(&secs)
        {
            return Err(Error::new(
                ErrorKind::Invalid,
                "an SLO window is a whole number of hours between 1 hour and 90 days",
            ));
        }
        self.window = window;
        Ok(self)
    }

    /// A human description, used in the alert annotations.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Count HTTP responses chosen by `selector`
    /// ([`SloRegistry::record_http`](super::SloRegistry::record_http)).
    pub fn with_http(mut self, selector: HttpSelector) -> Self {
        self.http = Some(selector);
        self
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The objective, such as `0.999`.
    pub fn objective(&self) -> f64 {
        self.objective
    }

    /// The error budget: `1 - objective`, the share of events allowed to be bad.
    pub fn error_budget(&self) -> f64 {
        1.0 - self.objective
    }

    /// The window.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// The description.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The HTTP selector, if any.
    pub fn http(&self) -> Option<&HttpSelector> {
        self.http.as_ref()
    }
}

/// Which HTTP responses an SLO counts (its "total"), and which of them are good.
///
/// By default every route counts and a response is good unless its status is 5xx.
///
/// ```
/// use baas_core::slo::HttpSelector;
///
/// let sel = HttpSelector::routes(["/v1/documents/{id}"]).good_when(|status| status < 500 && status != 429);
/// assert_eq!(sel.classify("/v1/documents/{id}", 200), Some(true));
/// assert_eq!(sel.classify("/v1/documents/{id}", 429), Some(false));
/// assert_eq!(sel.classify("/healthz", 500), None); // not counted
/// ```
#[derive(Clone)]
pub struct HttpSelector {
    routes: Option<Vec<String>>,
    good: Arc<dyn Fn(u16) -> bool + Send + Sync>,
}

impl fmt::Debug for HttpSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpSelector")
            .field("routes", &self.routes)
            .finish_non_exhaustive()
    }
}

impl HttpSelector {
    /// Every route.
    pub fn all() -> Self {
        HttpSelector {
            routes: None,
            good: Arc::new(|status| status < 500),
        }
    }

    /// Only these route templates (as in the metrics' `route` label).
    pub fn routes<I, S>(routes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        HttpSelector {
            routes: Some(routes.into_iter().map(Into::into).collect()),
            ..Self::all()
        }
    }

    /// Decide good responses by status with `good` instead of "not 5xx".
    pub fn good_when(mut self, good: impl Fn(u16) -> bool + Send + Sync + 'static) -> Self {
        self.good = Arc::new(good);
        self
    }

    /// `None` when the response is not counted, else whether it is good.
    pub fn classify(&self, route: &str, status: u16) -> Option<bool> {
        if let Some(routes) = &self.routes
            && !routes.iter().any(|r| r == route)
        {
            return None;
        }
        Some((self.good)(status))
    }
}
