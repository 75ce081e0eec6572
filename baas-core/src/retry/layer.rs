//! The layer.

use tower_layer::Layer;

use super::backoff::FullJitterBackoff;
use super::policy::RetryPolicy;

/// The retrying service: tower's own [`Retry`](tower::retry::Retry) with a
/// [`RetryPolicy`].
pub type Retry<S, B = FullJitterBackoff> = tower::retry::Retry<RetryPolicy<B>, S>;

/// Wraps a service in [`Retry`]. Every service made by one layer shares its policy's
/// retry budget. See the [module docs](super).
#[derive(Debug, Clone)]
pub struct RetryLayer<B = FullJitterBackoff> {
    policy: RetryPolicy<B>,
}

impl<B> RetryLayer<B> {
    /// A layer retrying by `policy`.
    pub fn new(policy: RetryPolicy<B>) -> Self {
        RetryLayer { policy }
    }

    /// The policy.
    pub fn policy(&self) -> &RetryPolicy<B> {
        &self.policy
    }
}

impl Default for RetryLayer {
    /// A layer with [`RetryPolicy::new`].
    fn default() -> Self {
        RetryLayer::new(RetryPolicy::new())
    }
}

impl<S, B: Clone> Layer<S> for RetryLayer<B> {
    type Service = Retry<S, B>;

    fn layer(&self, inner: S) -> Self::Service {
        tower::retry::Retry::new(self.policy.clone(), inner)
    }
}
