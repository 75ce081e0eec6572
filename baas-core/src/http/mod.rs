//! HTTP integration (feature `http`): every error as RFC 9457 problem+json.
//!
//! One mapping from [`ErrorKind`](crate::ErrorKind) to status, used by every crate and
//! example ([`status_of`]); [`Error`](crate::Error) implements axum's `IntoResponse`; and
//! [`Json`], [`fallback_not_found`] and [`method_not_allowed`] turn axum's own
//! rejections into problem+json too; [`Path`] and [`Query`] do the same for
//! path and query parameters; [`Caller`] extracts the authenticated principal.

mod caller;
mod listen;
#[cfg(feature = "openapi")]
#[cfg_attr(docsrs, doc(cfg(feature = "openapi")))]
pub mod openapi;
mod params;
mod problem;
mod rejection;

pub use caller::Caller;
pub use listen::{NoDelayListener, bind};
pub use params::{Path, Query};

pub use problem::{PROBLEM_JSON, Problem, problem_type, status_of};
pub use rejection::{Json, fallback_not_found, method_not_allowed, problem_rejections};
