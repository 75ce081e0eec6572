//! The OpenTelemetry parent of a span, from an incoming `traceparent`.

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::traceparent::TRACEPARENT;

struct One<'a>(&'a str);

impl Extractor for One<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        key.eq_ignore_ascii_case(TRACEPARENT).then_some(self.0)
    }

    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT]
    }
}

/// Make the caller's span (from a validated `traceparent` value) the OpenTelemetry
/// parent of `span`. Without an OpenTelemetry layer in the subscriber this does nothing.
pub(super) fn set_remote_parent(span: &tracing::Span, traceparent: &str) {
    let cx = TraceContextPropagator::new().extract(&One(traceparent));
    // LayerNotFound: no OpenTelemetry layer installed, nothing to join.
    let _ = span.set_parent(cx);
}
