//! Logging and tracing set-up for binaries: [`init`] reads the environment and installs a
//! global `tracing` subscriber.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `BAAS_LOG` | what to log, in [`EnvFilter`] syntax (`info`, `baas_queue=debug,info`, …) | `info` |
//! | `BAAS_LOG_FORMAT` | `json` for one JSON object a line (with the current span's fields); anything else for human-readable lines | human |
//!
//! ```no_run
//! fn main() -> Result<(), baas_core::Error> {
//!     let _telemetry = baas_core::telemetry::init()?;
//!     tracing::info!("started");
//!     Ok(())
//! }
//! ```
//!
//! With the `otel` feature, [`Telemetry::with_otel`] also exports spans to an
//! OpenTelemetry collector over OTLP (HTTP, protobuf); see [`OtelConfig`].
//!
//! **Secrets are never logged.** Passwords, keys, tokens and provider credentials are
//! `secrecy` types whose `Debug` prints a placeholder and which have no `Display`, and
//! the spans baas opens record ids (request, tenant, principal subject), never
//! credentials or bodies. Keep it so: never log a `SecretString` exposed with
//! `expose_secret()`.

use std::fmt;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::error::{Error, ErrorKind};

/// The variable holding the log filter.
pub const LOG_ENV: &str = "BAAS_LOG";
/// The variable choosing the log format (`json` or human).
pub const LOG_FORMAT_ENV: &str = "BAAS_LOG_FORMAT";
/// The filter used when `BAAS_LOG` is unset.
pub const DEFAULT_FILTER: &str = "info";

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Human,
    /// One JSON object a line.
    Json,
}

impl LogFormat {
    /// `json` (any case) is [`LogFormat::Json`]; anything else is human.
    pub fn parse(value: &str) -> Self {
        if value.trim().eq_ignore_ascii_case("json") {
            LogFormat::Json
        } else {
            LogFormat::Human
        }
    }
}

/// What [`Telemetry::init`] installs. [`init`] is `Telemetry::from_env().init()`.
///
/// ```
/// use baas_core::telemetry::{LogFormat, Telemetry};
/// let t = Telemetry::new().with_filter("baas_core=debug,info").with_format(LogFormat::Json);
/// assert_eq!(t.filter(), "baas_core=debug,info");
/// ```
#[derive(Debug, Clone)]
pub struct Telemetry {
    filter: String,
    format: LogFormat,
    #[cfg(feature = "otel")]
    otel: Option<OtelConfig>,
}

impl Default for Telemetry {
    fn default() -> Self {
        Self::new()
    }
}

impl Telemetry {
    /// Human logs at `info`.
    pub fn new() -> Self {
        Telemetry {
            filter: DEFAULT_FILTER.to_owned(),
            format: LogFormat::Human,
            #[cfg(feature = "otel")]
            otel: None,
        }
    }

    /// The settings from `BAAS_LOG` and `BAAS_LOG_FORMAT`.
    pub fn from_env() -> Self {
        let mut t = Self::new();
        if let Ok(filter) = std::env::var(LOG_ENV)
            && !filter.trim().is_empty()
        {
            t.filter = filter;
        }
        if let Ok(format) = std::env::var(LOG_FORMAT_ENV) {
            t.format = LogFormat::parse(&format);
        }
        t
    }

    /// Log what `filter` ([`EnvFilter`] syntax) lets through.
    pub fn with_filter(mut self, filter: impl Into<String>) -> Self {
        self.filter = filter.into();
        self
    }

    /// Log in `format`.
    pub fn with_format(mut self, format: LogFormat) -> Self {
        self.format = format;
        self
    }

    /// Also export spans over OTLP.
    #[cfg(feature = "otel")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otel")))]
    pub fn with_otel(mut self, config: OtelConfig) -> Self {
        self.otel = Some(config);
        self
    }

    /// The filter.
    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// The format.
    pub fn format(&self) -> LogFormat {
        self.format
    }

    /// Install the global subscriber.
    ///
    /// Idempotent in effect: when a global subscriber is already installed (a second
    /// call, or a test harness), nothing changes and the guard says so
    /// ([`TelemetryGuard::installed`] is false).
    ///
    /// # Errors
    ///
    /// `Invalid` when the filter does not parse; `Internal` when the OTLP exporter
    /// cannot be built.
    pub fn init(self) -> Result<TelemetryGuard, Error> {
        let filter = EnvFilter::try_new(&self.filter).map_err(|e| {
            Error::new(
                ErrorKind::Invalid,
                format!("{LOG_ENV} is not a valid log filter: {e}"),
            )
        })?;
        let fmt = match self.format {
            LogFormat::Human => tracing_subscriber::fmt::layer().boxed(),
            LogFormat::Json => tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .with_span_list(false)
                .boxed(),
        };
        let registry = tracing_subscriber::registry().with(filter).with(fmt);

        #[cfg(feature = "otel")]
        if let Some(config) = self.otel {
            let (layer, provider) = otel::layer(&config)?;
            let installed = registry.with(layer).try_init().is_ok();
            if installed {
                otel::set_propagator();
            }
            return Ok(TelemetryGuard {
                installed,
                provider: installed.then_some(provider),
            });
        }

        let installed = registry.try_init().is_ok();
        Ok(TelemetryGuard {
            installed,
            #[cfg(feature = "otel")]
            provider: None,
        })
    }
}

/// Install logging as `BAAS_LOG` and `BAAS_LOG_FORMAT` say; see the [module docs](self).
///
/// # Errors
///
/// `Invalid` when `BAAS_LOG` is not a valid filter.
pub fn init() -> Result<TelemetryGuard, Error> {
    Telemetry::from_env().init()
}

use tracing_subscriber::Layer as _;

/// Keep it alive for the life of the program: with OpenTelemetry, dropping it flushes
/// and shuts down the exporter.
#[must_use = "dropping the guard shuts the span exporter down"]
pub struct TelemetryGuard {
    installed: bool,
    #[cfg(feature = "otel")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl fmt::Debug for TelemetryGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelemetryGuard")
            .field("installed", &self.installed)
            .finish_non_exhaustive()
    }
}

impl TelemetryGuard {
    /// Whether this call installed the global subscriber (false when one was already
    /// installed).
    pub fn installed(&self) -> bool {
        self.installed
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        #[cfg(feature = "otel")]
        if let Some(provider) = self.provider.take() {
            // Nothing useful to do with a failed flush at exit.
            let _ = provider.shutdown();
        }
    }
}

#[cfg(feature = "otel")]
#[cfg_attr(docsrs, doc(cfg(feature = "otel")))]
pub use otel::{OtelConfig, OtelLayer, otel_layer};

#[cfg(feature = "otel")]
mod otel {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_otlp::WithExportConfig as _;
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::propagation::TraceContextPropagator;
    use opentelemetry_sdk::trace::{SdkTracerProvider, Tracer};

    use crate::error::{Error, ErrorKind};

    /// The OpenTelemetry layer [`otel_layer`] builds, for a subscriber `S`.
    pub type OtelLayer<S> = tracing_opentelemetry::OpenTelemetryLayer<S, Tracer>;

    /// Where and as whom to export spans over OTLP (HTTP, protobuf).
    ///
    /// The exporter also honours the standard `OTEL_EXPORTER_OTLP_*` variables
    /// (`OTEL_EXPORTER_OTLP_ENDPOINT`, `…_HEADERS`, `…_TIMEOUT`); an endpoint set here wins.
    /// The default endpoint is `http://localhost:4318/v1/traces`. `https` endpoints use
    /// rustls; a binary installs its rustls crypto provider first, or this installs
    /// aws-lc-rs.
    ///
    /// ```
    /// use baas_core::telemetry::{OtelConfig, Telemetry};
    /// let t = Telemetry::from_env().with_otel(OtelConfig::new("platform"));
    /// # let _ = t;
    /// ```
    #[derive(Debug, Clone)]
    pub struct OtelConfig {
        service_name: String,
        endpoint: Option<String>,
    }

    impl OtelConfig {
        /// Export as the service `service_name`.
        pub fn new(service_name: impl Into<String>) -> Self {
            OtelConfig {
                service_name: service_name.into(),
                endpoint: None,
            }
        }

        /// Send to `endpoint` (the full traces URL, e.g. `http://collector:4318/v1/traces`).
        pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
            self.endpoint = Some(endpoint.into());
            self
        }

        /// The service name.
        pub fn service_name(&self) -> &str {
            &self.service_name
        }
    }

    /// The tracing layer exporting spans over OTLP, and the provider to shut down at
    /// exit (`provider.shutdown()` flushes). [`Telemetry::with_otel`](super::Telemetry::with_otel)
    /// does this for you; use this to build your own subscriber.
    ///
    /// Spans are exported in batches from a background thread; nothing connects until
    /// the first batch is sent.
    ///
    /// # Errors
    ///
    /// `Internal` when the exporter cannot be built (for example a malformed endpoint).
    pub fn otel_layer<S>(config: &OtelConfig) -> Result<(OtelLayer<S>, SdkTracerProvider), Error>
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        layer(config)
    }

    pub(super) fn layer<S>(config: &OtelConfig) -> Result<(OtelLayer<S>, SdkTracerProvider), Error>
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        // reqwest's rustls needs a process-wide crypto provider; keep the binary's if set.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let mut builder = opentelemetry_otlp::SpanExporter::builder().with_http();
        if let Some(endpoint) = &config.endpoint {
            builder = builder.with_endpoint(endpoint.clone());
        }
        let exporter = builder.build().map_err(|e| {
            Error::new(
                ErrorKind::Internal,
                "could not build the OTLP span exporter",
            )
            .with_source(e)
        })?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                Resource::builder()
                    .with_service_name(config.service_name.clone())
                    .build(),
            )
            .build();
        let tracer = provider.tracer("baas");
        let layer = tracing_opentelemetry::layer().with_tracer(tracer);
        Ok((layer, provider))
    }

    /// W3C trace context as the global propagator, for clients that inject it.
    pub(super) fn set_propagator() {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_and_filter_come_from_their_values() {
        assert_eq!(LogFormat::parse("json"), LogFormat::Json);
        assert_eq!(LogFormat::parse(" JSON "), LogFormat::Json);
        assert_eq!(LogFormat::parse("pretty"), LogFormat::Human);
        assert_eq!(Telemetry::new().filter(), DEFAULT_FILTER);
    }

    #[test]
    fn a_bad_filter_is_refused_and_a_second_init_changes_nothing() {
        let err = Telemetry::new().with_filter("[[[").init().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid);
        let first = Telemetry::new().with_filter("warn").init().unwrap();
        let second = Telemetry::new()
            .with_format(LogFormat::Json)
            .init()
            .unwrap();
        // Tests share a process: whoever came first installed; the second never does.
        assert!(!second.installed());
        let _ = first;
    }

    #[cfg(feature = "otel")]
    #[test]
    fn the_otel_layer_builds_without_a_collector() {
        let config = OtelConfig::new("baas-test").with_endpoint("http://127.0.0.1:9/v1/traces");
        let (layer, provider) = otel_layer::<tracing_subscriber::Registry>(&config).unwrap();
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", route = "/x");
            let _e = span.enter();
        });
        drop(provider); // shutting down with nothing exported
    }
}
