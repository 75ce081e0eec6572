//! The wait before a retry.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::time::Sleep;

pin_project! {
    /// Waits for both the backoff and the error's retry-after hint, i.e. for the longer
    /// of the two.
    #[derive(Debug)]
    pub struct RetryDelay<F> {
        #[pin]
        backoff: F,
        backoff_done: bool,
        #[pin]
        hint: Option<Sleep>,
    }
}

impl<F> RetryDelay<F> {
    /// Wait for `backoff` and, if given, at least `hint`.
    pub fn new(backoff: F, hint: Option<Duration>) -> Self {
        RetryDelay {
            backoff,
            backoff_done: false,
            hint: hint.map(tokio::time::sleep),
        }
    }
}

impl<F: Future<Output = ()>> Future for RetryDelay<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if !*this.backoff_done && this.backoff.poll(cx).is_ready() {
            *this.backoff_done = true;
        }
        if let Some(hint) = this.hint.as_pin_mut()
            && hint.poll(cx).is_pending()
        {
            return Poll::Pending;
        }
        if *this.backoff_done {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
