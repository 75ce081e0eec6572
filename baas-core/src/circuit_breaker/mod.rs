//! Stop calling a downstream that keeps failing, and probe it before trusting it again.
//!
//! [`CircuitBreakerLayer`] keeps one circuit per downstream (a key picked from each
//! request, or one for the whole service), each with three states:
//!
//! - **closed**: calls flow. A call whose error is of a server-side kind
//!   (`Unavailable`, `Timeout`, `Internal`, as [`Classify`](crate::Classify) tells) is a
//!   failure; any other outcome — success, or a client error such as `Invalid`, which
//!   proves the downstream answered — resets the count. After
//!   [`failure_threshold`](BreakerPolicy::failure_threshold) consecutive failures the
//!   circuit opens.
//! - **open**: calls are refused at once with `Unavailable` and a retry-after of the
//!   remaining [`cool_down`](BreakerPolicy::cool_down), without touching the downstream.
//! - **half-open**: once the cool-down is over, up to
//!   [`half_open_probes`](BreakerPolicy::half_open_probes) calls go through as probes
//!   (others are refused). [`success_threshold`](BreakerPolicy::success_threshold)
//!   successful probes close the circuit; a failed probe opens it for another cool-down.
//!
//! Time comes from the injected [`Clock`](crate::Clock). Each circuit is observable
//! through the `metrics` facade: the gauge `baas_circuit_breaker_state` (0 closed, 1 open,
//! 2 half-open) and the counter `baas_circuit_breaker_transitions_total` (labels
//! `breaker`, `downstream`, and `from`/`to` on the counter).
//!
//! Refusals travel as [`Refuse`](crate::refusal::Refuse) says (an `Err` for [`Error`](crate::Error)
//! and [`BoxError`](crate::BoxError) services); the inner error type must implement
//! [`Classify`](crate::Classify). Put the breaker inside the retry layer, so retries see
//! its fast `Unavailable` and its retry-after.
//!
//! ```
//! use std::time::Duration;
//! use baas_core::circuit_breaker::{BreakerPolicy, CircuitBreakerLayer, CircuitState};
//! use baas_core::{Classify as _, Error, ErrorKind, ManualClock};
//! use tower::{Layer as _, ServiceExt as _};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let clock = ManualClock::new();
//! let layer = CircuitBreakerLayer::with_clock(
//!     "smtp",
//!     BreakerPolicy::new().failure_threshold(2).cool_down(Duration::from_secs(10)),
//!     clock.shared(),
//! );
//! let breakers = layer.breakers().clone();
//! let smtp = layer.layer(tower::service_fn(|_: ()| async {
//!     Err::<(), _>(Error::new(ErrorKind::Unavailable, "connection refused"))
//! }));
//!
//! for _ in 0..2 {
//!     let _ = smtp.clone().oneshot(()).await;
//! }
//! assert_eq!(breakers.state(&"all"), CircuitState::Open);
//! let err = smtp.clone().oneshot(()).await.unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::Unavailable);
//! assert_eq!(err.retry_after(), Some(Duration::from_secs(10)));
//! # }) ;
//! ```

mod future;
mod layer;
mod policy;
mod service;
mod state;

pub use future::ResponseFuture;
pub use layer::CircuitBreakerLayer;
pub use policy::BreakerPolicy;
pub use service::{CircuitBreaker, Whole};
pub use state::{Breakers, CircuitKey, CircuitState, STATE_GAUGE, TRANSITIONS_COUNTER};

#[cfg(test)]
mod tests;
