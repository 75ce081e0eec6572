//! The service.

use std::borrow::Cow;
use std::future::{Ready, ready};
use std::task::{Context, Poll};

use futures_util::future::Either;
use tower_service::Service;

use super::principal::HasPrincipal;
use crate::error::{Error, ErrorKind};
use crate::principal::Principal;
use crate::refusal::{Refusal, Refuse};

/// What a [`RequireRole`] demands of the caller.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// A role within the caller's tenant.
    Role(Cow<'static, str>),
    /// An operator of the installation.
    Operator,
}

impl Requirement {
    /// Check a (possibly absent) principal: `Unauthenticated` without one, `Forbidden`
    /// when it lacks the requirement.
    pub fn check(&self, principal: Option<&Principal>) -> Result<(), Error> {
        let Some(principal) = principal else {
            return Err(Error::new(
                ErrorKind::Unauthenticated,
                "this operation needs a valid credential",
            ));
        };
        let allowed = match self {
            Requirement::Role(role) => principal.has_role(role),
            Requirement::Operator => principal.is_operator(),
        };
        if allowed {
            Ok(())
        } else {
            let message = match self {
                Requirement::Role(role) => format!("this operation needs the role `{role}`"),
                Requirement::Operator => "this operation needs an operator".to_owned(),
            };
            Err(Error::new(ErrorKind::Forbidden, message))
        }
    }
}

/// The future of [`RequireRole`]: the refusal, ready, or the inner service's future.
pub type ResponseFuture<F, Res, E> = Either<Ready<Result<Res, E>>, F>;

/// Lets a request through only if its principal meets a [`Requirement`].
#[derive(Debug, Clone)]
pub struct RequireRole<S> {
    inner: S,
    requirement: Requirement,
}

impl<S> RequireRole<S> {
    /// Wrap `inner`.
    pub fn new(inner: S, requirement: Requirement) -> Self {
        RequireRole { inner, requirement }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, consuming the wrapper.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, Req> Service<Req> for RequireRole<S>
where
    Req: HasPrincipal,
    S: Service<Req>,
    S::Error: Refuse<S::Response>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        match self.requirement.check(req.principal()) {
            Ok(()) => Either::Right(self.inner.call(req)),
            Err(error) => Either::Left(ready(S::Error::refuse(Refusal::new(error)))),
        }
    }
}
