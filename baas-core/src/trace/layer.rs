use tower_layer::Layer;

use super::service::TraceService;

/// Request ids, a span per request and `traceparent` propagation for HTTP services; see
/// the [module docs](super).
///
/// Add it with axum's `Router::layer` so the span sees the matched route template;
/// outside the router the `route` field reads `unmatched`.
#[derive(Debug, Clone, Default)]
pub struct TraceLayer {
    _priv: (),
}

impl TraceLayer {
    /// The layer.
    pub fn new() -> Self {
        TraceLayer { _priv: () }
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = TraceService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TraceService::new(inner)
    }
}
