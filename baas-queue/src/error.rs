//! The crate's public error, [`QueueError`], and its mapping to [`ErrorKind`].
//!
//! Every backend keeps its own private error type and converts it into `QueueError`, so
//! a caller matches [`QueueError::LeaseLost`] (or the kind) whatever the backend.
//!
//! ```
//! use baas_queue::QueueError;
//! use baas_queue::core::{Classify, ErrorKind};
//!
//! let err = QueueError::LeaseLost;
//! assert_eq!(err.kind(), ErrorKind::Conflict);
//! let core: baas_queue::core::Error = err.into();
//! assert_eq!(core.kind(), ErrorKind::Conflict);
//! ```

use std::borrow::Cow;
use std::time::Duration;

use baas_core::{BoxError, Classify, Error, ErrorKind};

/// What went wrong in a queue operation.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// A queue name is empty, too long or uses characters outside `[A-Za-z0-9._:-]`.
    #[error("invalid queue name: {0}")]
    InvalidQueueName(Cow<'static, str>),
    /// A message, header, dedupe key or argument is unacceptable; nothing was changed.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// The offending field (`headers`, `dedupe_key`, `max`, `lease` …).
        field: &'static str,
        /// What is wrong with it.
        message: Cow<'static, str>,
    },
    /// The payload is larger than the backend accepts.
    #[error("payload of {size} bytes exceeds the limit of {max} bytes")]
    PayloadTooLarge {
        /// The payload's size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The lease is no longer held: it expired, was acked, nacked or dead-lettered, or
    /// the message was delivered again under a newer lease. The operation changed
    /// nothing; another delivery owns the message now (or nobody does).
    #[error("the lease is no longer held")]
    LeaseLost,
    /// A named message or dead letter does not exist.
    #[error("{0} not found")]
    NotFound(Cow<'static, str>),
    /// A payload could not be encoded or decoded as JSON.
    #[error("payload is not valid JSON for the expected type")]
    Json(#[source] serde_json::Error),
    /// The backend cannot do this (see [`Capabilities`](crate::Capabilities)).
    #[error("not supported by this backend: {0}")]
    Unsupported(&'static str),
    /// The queue or its worker is shutting down.
    #[error("the queue is shutting down")]
    ShuttingDown,
    /// The backend is unreachable or overloaded; retrying later may succeed.
    #[error("queue backend unavailable: {message}")]
    Unavailable {
        /// A client-safe description.
        message: Cow<'static, str>,
        /// The cause, kept for logs.
        #[source]
        source: Option<BoxError>,
    },
    /// Any other failure, already classified (for example a database error mapped by
    /// baas-store).
    #[error(transparent)]
    Other(#[from] Error),
}

impl QueueError {
    /// An [`QueueError::Invalid`] for `field`.
    pub fn invalid(field: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        QueueError::Invalid {
            field,
            message: message.into(),
        }
    }

    /// An [`QueueError::Unavailable`] with a cause.
    pub fn unavailable(message: impl Into<Cow<'static, str>>, source: impl Into<BoxError>) -> Self {
        QueueError::Unavailable {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// Whether this error means the caller's lease is gone ([`QueueError::LeaseLost`]).
    pub fn is_lease_lost(&self) -> bool {
        matches!(self, QueueError::LeaseLost)
    }
}

impl Classify for QueueError {
    fn kind(&self) -> ErrorKind {
        match self {
            QueueError::InvalidQueueName(_) => ErrorKind::Malformed,
            QueueError::Invalid { .. } => ErrorKind::Invalid,
            QueueError::PayloadTooLarge { .. } => ErrorKind::PayloadTooLarge,
            QueueError::LeaseLost => ErrorKind::Conflict,
            QueueError::NotFound(_) => ErrorKind::NotFound,
            QueueError::Json(_) => ErrorKind::Malformed,
            QueueError::Unsupported(_) => ErrorKind::Internal,
            QueueError::ShuttingDown | QueueError::Unavailable { .. } => ErrorKind::Unavailable,
            QueueError::Other(e) => e.kind(),
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            QueueError::Other(e) => e.retry_after(),
            _ => None,
        }
    }
}

impl From<QueueError> for Error {
    fn from(err: QueueError) -> Self {
        match err {
            QueueError::Other(e) => e,
            QueueError::Invalid { field, message } => Error::field(field, message.into_owned()),
            QueueError::Unsupported(what) => {
                Error::internal("operation not supported by the queue backend")
                    .with_source(QueueError::Unsupported(what))
            }
            other => {
                let kind = other.kind();
                let message = match kind {
                    ErrorKind::Internal => "internal error".to_owned(),
                    _ => other.to_string(),
                };
                Error::new(kind, message).with_source(other)
            }
        }
    }
}

/// A shorthand for results of queue operations.
pub type QueueResult<T> = Result<T, QueueError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map() {
        assert_eq!(QueueError::LeaseLost.kind(), ErrorKind::Conflict);
        assert_eq!(
            QueueError::InvalidQueueName("empty".into()).kind(),
            ErrorKind::Malformed
        );
        assert_eq!(
            QueueError::invalid("max", "must be 1-1000").kind(),
            ErrorKind::Invalid
        );
        assert_eq!(
            QueueError::PayloadTooLarge { size: 2, max: 1 }.kind(),
            ErrorKind::PayloadTooLarge
        );
        assert!(QueueError::ShuttingDown.kind().is_retryable());
        let core = Error::new(ErrorKind::Timeout, "slow");
        assert_eq!(QueueError::from(core).kind(), ErrorKind::Timeout);
    }

    #[test]
    fn converts_to_core_error_keeping_kind() {
        let e: Error = QueueError::invalid("headers", "too many").into();
        assert_eq!(e.kind(), ErrorKind::Invalid);
        assert_eq!(e.fields()[0].field, "headers");
        let e: Error = QueueError::unavailable("db down", "connection refused").into();
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        assert!(!e.message().contains("refused"));
    }
}
