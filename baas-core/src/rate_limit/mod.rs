//! Per-key rate limits: GCRA buckets from the [`governor`] crate.
//!
//! [`RateLimitLayer`] counts each request against the bucket of its key — by principal
//! ([`ByPrincipal`]), by tenant ([`ByTenant`]), by client IP (`ByClientIp`, feature
//! `http`, which believes `X-Forwarded-For` only from [`TrustedProxies`]) or by any
//! closure. A request over quota is refused without calling the inner service, with an
//! error of kind `RateLimited` whose retry-after is the time until the next request
//! conforms. How the refusal reaches the caller follows
//! [`Refuse`](crate::refusal::Refuse):
//!
//! - around a queue handler or delivery (error [`Error`](crate::Error) or
//!   [`BoxError`](crate::BoxError)) it is an `Err`, which the retry layer and the worker
//!   understand;
//! - around an axum service (feature `http`) it is `429 Too Many Requests`
//!   problem+json with `Retry-After`, `RateLimit-Policy: "default";q=<n>;w=<seconds>`
//!   and `RateLimit: "default";r=<remaining>;t=<seconds>` (IETF ratelimit-headers
//!   draft, API.md "Rate limits"); successful responses carry the two `RateLimit`
//!   headers too.
//!
//! Key memory stays bounded: see [`KeyedLimiter`]. Time comes from the injected
//! [`Clock`](crate::Clock), so tests use a [`ManualClock`](crate::ManualClock).
//!
//! ```
//! use std::time::Duration;
//! use baas_core::rate_limit::{RateLimitLayer, quota};
//! use baas_core::{Classify as _, Error, ErrorKind, ManualClock};
//! use tower::{Layer as _, ServiceExt as _};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let clock = ManualClock::new();
//! // 2 jobs a minute per tenant, keyed by a closure.
//! let layer = RateLimitLayer::with_clock(
//!     quota(2, Duration::from_secs(60))?,
//!     |job: &(String, u32)| Some(job.0.clone()),
//!     clock.shared(),
//! );
//! let handler = layer.layer(tower::service_fn(|job: (String, u32)| async move { Ok::<_, Error>(job.1) }));
//!
//! assert_eq!(handler.clone().oneshot(("acme".into(), 1)).await?, 1);
//! assert_eq!(handler.clone().oneshot(("acme".into(), 2)).await?, 2);
//! let err = handler.clone().oneshot(("acme".into(), 3)).await.unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::RateLimited);
//! assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
//! // Another key has its own bucket; and the bucket refills.
//! assert!(handler.clone().oneshot(("globex".into(), 4)).await.is_ok());
//! clock.advance(Duration::from_secs(30));
//! assert!(handler.oneshot(("acme".into(), 5)).await.is_ok());
//! # Ok::<(), Error>(()) }).unwrap();
//! ```

mod client_ip;
mod future;
mod key;
mod layer;
mod limiter;
mod service;

#[cfg(feature = "http")]
pub use client_ip::ByClientIp;
pub use client_ip::{TrustedProxies, X_FORWARDED_FOR};
pub use future::ResponseFuture;
pub use governor::Quota;
pub use key::{ByPrincipal, ByTenant, KeyExtractor};
pub use layer::RateLimitLayer;
pub use limiter::{Decision, KeyedLimiter, RATELIMIT, RATELIMIT_POLICY, quota};
pub use service::RateLimit;

#[cfg(all(test, feature = "http"))]
mod tests;
