//! The response future.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use baas_core::Principal;
use baas_core::refusal::Refuse;
use pin_project_lite::pin_project;
use tower_service::Service;

use super::service::refusal;
use crate::error::AuthError;

type Check = Pin<Box<dyn Future<Output = Result<Principal, AuthError>> + Send>>;

pin_project! {
    /// The future of [`Auth`](super::Auth): the credential check, then the inner call
    /// with the principal in the extensions — or the refusal.
    pub struct ResponseFuture<S, B>
    where
        S: Service<http::Request<B>>,
    {
        #[pin]
        state: State<S, B>,
    }
}

pin_project! {
    #[project = Proj]
    enum State<S, B>
    where
        S: Service<http::Request<B>>,
    {
        Checking {
            check: Check,
            request: Option<http::Request<B>>,
            inner: S,
        },
        Called {
            #[pin]
            future: S::Future,
        },
        Refused {
            outcome: Option<Result<S::Response, S::Error>>,
        },
    }
}

impl<S, B> fmt::Debug for ResponseFuture<S, B>
where
    S: Service<http::Request<B>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Checking { .. } => "checking",
            State::Called { .. } => "called",
            State::Refused { .. } => "refused",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}

impl<S, B> ResponseFuture<S, B>
where
    S: Service<http::Request<B>>,
{
    pub(super) fn called(future: S::Future) -> Self {
        ResponseFuture {
            state: State::Called { future },
        }
    }

    pub(super) fn refused(outcome: Result<S::Response, S::Error>) -> Self {
        ResponseFuture {
            state: State::Refused {
                outcome: Some(outcome),
            },
        }
    }

    pub(super) fn authenticating(check: Check, request: http::Request<B>, inner: S) -> Self {
        ResponseFuture {
            state: State::Checking {
                check,
                request: Some(request),
                inner,
            },
        }
    }
}

impl<S, B> Future for ResponseFuture<S, B>
where
    S: Service<http::Request<B>>,
    S::Error: Refuse<S::Response>,
{
    type Output = Result<S::Response, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let next = match self.as_mut().project().state.project() {
                Proj::Checking {
                    check,
                    request,
                    inner,
                } => {
                    let outcome = ready!(check.as_mut().poll(cx));
                    let mut request = request.take().expect("polled after completion");
                    match outcome {
                        Ok(principal) => {
                            request.extensions_mut().insert(principal);
                            State::Called {
                                future: inner.call(request),
                            }
                        }
                        Err(err) => State::Refused {
                            outcome: Some(S::Error::refuse(refusal(err))),
                        },
                    }
                }
                Proj::Called { future } => return future.poll(cx),
                Proj::Refused { outcome } => {
                    return Poll::Ready(outcome.take().expect("polled after completion"));
                }
            };
            self.as_mut().project().state.set(next);
        }
    }
}
