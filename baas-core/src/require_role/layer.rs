//! The layer.

use std::borrow::Cow;

use tower_layer::Layer;

use super::service::{RequireRole, Requirement};

/// Wraps a service in [`RequireRole`]. See the [module docs](super).
#[derive(Debug, Clone)]
pub struct RequireRoleLayer {
    requirement: Requirement,
}

impl RequireRoleLayer {
    /// Demand `role` within the caller's tenant (`admin` includes `member`).
    pub fn new(role: impl Into<Cow<'static, str>>) -> Self {
        RequireRoleLayer {
            requirement: Requirement::Role(role.into()),
        }
    }

    /// Demand an operator of the installation.
    pub fn operator() -> Self {
        RequireRoleLayer {
            requirement: Requirement::Operator,
        }
    }

    /// What this layer demands.
    pub fn requirement(&self) -> &Requirement {
        &self.requirement
    }
}

impl<S> Layer<S> for RequireRoleLayer {
    type Service = RequireRole<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireRole::new(inner, self.requirement.clone())
    }
}
