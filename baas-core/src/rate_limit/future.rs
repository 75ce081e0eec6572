//! The response future.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::HeaderMap;
use pin_project_lite::pin_project;

use crate::refusal::Refuse;

pin_project! {
    /// The future of [`RateLimit`](super::RateLimit): the inner call, whose successful
    /// response gets the `RateLimit` headers when it is HTTP, or the refusal.
    #[derive(Debug)]
    pub struct ResponseFuture<F, Res, E> {
        #[pin]
        state: State<F, Res, E>,
    }
}

pin_project! {
    #[project = Proj]
    #[derive(Debug)]
    enum State<F, Res, E> {
        Called {
            #[pin]
            future: F,
            headers: Option<HeaderMap>,
            _marker: PhantomData<fn() -> (Res, E)>,
        },
        Refused {
            outcome: Option<Result<Res, E>>,
        },
    }
}

impl<F, Res, E> ResponseFuture<F, Res, E> {
    pub(super) fn called(future: F, headers: Option<HeaderMap>) -> Self {
        ResponseFuture {
            state: State::Called {
                future,
                headers,
                _marker: PhantomData,
            },
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

impl<F, Res, E> Future for ResponseFuture<F, Res, E>
where
    F: Future<Output = Result<Res, E>>,
    E: Refuse<Res>,
{
    type Output = Result<Res, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            Proj::Called {
                future, headers, ..
            } => {
                let mut outcome = ready!(future.poll(cx));
                if let (Ok(response), Some(headers)) = (&mut outcome, headers.as_ref()) {
                    E::annotate(response, headers);
                }
                Poll::Ready(outcome)
            }
            Proj::Refused { outcome } => {
                Poll::Ready(outcome.take().expect("polled after completion"))
            }
        }
    }
}
