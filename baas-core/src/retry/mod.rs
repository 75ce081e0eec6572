//! Retry failed calls whose error kind says a retry may help.
//!
//! [`RetryLayer`] is tower's own [`Retry`](tower::retry::Retry) service driven by a
//! [`RetryPolicy`] that decides by [`ErrorKind`](crate::ErrorKind), so it wraps an
//! outbound HTTP client, a queue handler or a notification delivery alike. A call is
//! retried only when all of these hold:
//!
//! - its error's kind [is retryable](crate::ErrorKind::is_retryable) (`RateLimited`,
//!   `Unavailable`, `Timeout`), as told by [`Classify`](crate::Classify) — implemented by
//!   [`Error`](crate::Error) and by [`BoxError`](crate::BoxError), which classifies
//!   tower's own timeout and load-shed errors too;
//! - fewer than [`max_attempts`](RetryPolicy::max_attempts) calls were made;
//! - the shared retry [budget](tower::retry::budget) has a token (tower's
//!   [`TpsBudget`](tower::retry::budget::TpsBudget) by default: every request deposits,
//!   every retry withdraws), so a struggling dependency is not hammered by retries;
//! - the error's retry-after hint, if any, is no longer than
//!   [`max_retry_after`](RetryPolicy::max_retry_after).
//!
//! Before each retry it waits for the backoff — [`FullJitterBackoff`] (exponential,
//! "full jitter": a uniform delay in `[0, min(max, base·2ⁿ)]`) or any tower
//! [`Backoff`](tower::retry::backoff::Backoff) such as tower's `ExponentialBackoff` — and
//! at least the retry-after hint. Waiting uses tokio's timer, so tests run in paused time.
//!
//! Requests must be `Clone` (each attempt sends a copy) and the inner service must be
//! `Clone` (use tower's `Buffer` if it is not).
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use std::time::Duration;
//! use baas_core::retry::{FullJitterBackoff, RetryLayer, RetryPolicy};
//! use baas_core::{Error, ErrorKind};
//! use tower::{Layer as _, ServiceExt as _};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
//! let calls = Arc::new(AtomicU32::new(0));
//! let seen = calls.clone();
//! // A delivery that fails twice with a transient error, then succeeds.
//! let deliver = tower::service_fn(move |msg: String| {
//!     let n = seen.fetch_add(1, Ordering::SeqCst);
//!     async move {
//!         if n < 2 { Err(Error::new(ErrorKind::Unavailable, "smtp is down")) } else { Ok(msg) }
//!     }
//! });
//! let policy = RetryPolicy::new()
//!     .max_attempts(5)
//!     .backoff(FullJitterBackoff::new(Duration::from_millis(100), Duration::from_secs(5)));
//! let svc = RetryLayer::new(policy).layer(deliver);
//! assert_eq!(svc.oneshot("hello".to_owned()).await?, "hello");
//! assert_eq!(calls.load(Ordering::SeqCst), 3);
//! # Ok::<(), Error>(()) }).unwrap();
//! ```

mod backoff;
mod future;
mod layer;
mod policy;

pub use backoff::FullJitterBackoff;
pub use future::RetryDelay;
pub use layer::{Retry, RetryLayer};
pub use policy::RetryPolicy;

#[cfg(test)]
mod tests;
