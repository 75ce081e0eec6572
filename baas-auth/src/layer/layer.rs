//! The layer.

use std::sync::Arc;

use tower_layer::Layer;

use super::authenticator::DynAuthenticator;
use super::service::Auth;

/// Wraps a service in [`Auth`]. See the [module docs](super).
#[derive(Debug, Clone)]
pub struct AuthLayer {
    authenticator: Arc<DynAuthenticator>,
}

impl AuthLayer {
    /// Authenticate bearer credentials with `authenticator`.
    pub fn new(authenticator: Arc<DynAuthenticator>) -> Self {
        AuthLayer { authenticator }
    }

    /// The authenticator.
    pub fn authenticator(&self) -> &Arc<DynAuthenticator> {
        &self.authenticator
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Auth::new(inner, Arc::clone(&self.authenticator))
    }
}
