//! The response future and the guard recording each call's outcome.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;

use super::policy::BreakerPolicy;
use super::state::{Breakers, CircuitKey, Outcome, Ticket};
use crate::error::Classify;

/// Records the outcome of an admitted call once; a call dropped before it ends (e.g.
/// cancelled by a timeout further out) frees its probe slot without counting.
pub(super) struct Guard<K: CircuitKey> {
    breakers: Arc<Breakers<K>>,
    key: K,
    ticket: Ticket,
    done: bool,
}

impl<K: CircuitKey> Guard<K> {
    pub(super) fn new(breakers: Arc<Breakers<K>>, key: K, ticket: Ticket) -> Self {
        Guard {
            breakers,
            key,
            ticket,
            done: false,
        }
    }

    fn finish(&mut self, outcome: Outcome) {
        if !self.done {
            self.done = true;
            self.breakers.record(&self.key, self.ticket, outcome);
        }
    }
}

impl<K: CircuitKey> Drop for Guard<K> {
    fn drop(&mut self) {
        self.finish(Outcome::Cancelled);
    }
}

impl<K: CircuitKey> fmt::Debug for Guard<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("downstream", &format_args!("{}", self.key))
            .field("ticket", &self.ticket)
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// The future of [`CircuitBreaker`](super::CircuitBreaker).
    #[derive(Debug)]
    pub struct ResponseFuture<F, Res, E, K: CircuitKey> {
        #[pin]
        state: State<F, Res, E, K>,
    }
}

pin_project! {
    #[project = Proj]
    #[derive(Debug)]
    enum State<F, Res, E, K: CircuitKey> {
        Called {
            #[pin]
            future: F,
            guard: Option<Guard<K>>,
        },
        Refused {
            outcome: Option<Result<Res, E>>,
        },
    }
}

impl<F, Res, E, K: CircuitKey> ResponseFuture<F, Res, E, K> {
    pub(super) fn called(future: F, guard: Option<Guard<K>>) -> Self {
        ResponseFuture {
            state: State::Called { future, guard },
        }
    }

    pub(super) fn refused(outcome: Result<Res, E>) -> Self {
        ResponseFuture {
            state: State::Refused {
                outcome: Some(outcome),
            },
        }
    }
}

impl<F, Res, E, K> Future for ResponseFuture<F, Res, E, K>
where
    F: Future<Output = Result<Res, E>>,
    E: Classify,
    K: CircuitKey,
{
    type Output = Result<Res, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            Proj::Called { future, guard } => {
                let outcome = ready!(future.poll(cx));
                if let Some(guard) = guard.as_mut() {
                    let failed = outcome
                        .as_ref()
                        .is_err_and(|e| BreakerPolicy::is_failure(e.kind()));
                    guard.finish(if failed {
                        Outcome::Failure
                    } else {
                        Outcome::Success
                    });
                }
                Poll::Ready(outcome)
            }
            Proj::Refused { outcome } => {
                Poll::Ready(outcome.take().expect("polled after completion"))
            }
        }
    }
}
