//! The error model shared by every baas crate.
//!
//! Every error in baas has an [`ErrorKind`]. The kind decides whether an operation may be
//! retried ([`ErrorKind::is_retryable`]) and, behind the `http` feature, which status an
//! HTTP response carries. Each crate keeps its own `thiserror` enum and converts it into
//! [`Error`], so a caller matches on the kind whatever backend produced it.
//!
//! ```
//! use baas_core::{Error, ErrorKind};
//! use std::time::Duration;
//!
//! let err = Error::new(ErrorKind::RateLimited, "slow down")
//!     .with_retry_after(Duration::from_secs(2));
//! assert!(err.kind().is_retryable());
//! assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
//! ```

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

/// A type-erased error, as tower services use.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, independent of which backend or crate noticed it.
///
/// The kind decides retryability and, in one place (the `http` feature), the HTTP status.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The resource does not exist, or belongs to another tenant.
    NotFound,
    /// The resource already exists, or a concurrent operation holds it.
    Conflict,
    /// An expected version or precondition did not hold.
    PreconditionFailed,
    /// The input could not be parsed: body, path, query, header or key.
    Malformed,
    /// The input parsed but a value is unacceptable.
    Invalid,
    /// The payload is larger than allowed.
    PayloadTooLarge,
    /// No valid credential was presented.
    Unauthenticated,
    /// The credential is valid but not allowed to do this.
    Forbidden,
    /// A tenant's quota would be exceeded.
    QuotaExceeded,
    /// Too many requests; try again later.
    RateLimited,
    /// A dependency is unavailable or the service is overloaded.
    Unavailable,
    /// The operation did not finish in time.
    Timeout,
    /// A bug or an unexpected failure.
    Internal,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 13] = [
        ErrorKind::NotFound,
        ErrorKind::Conflict,
        ErrorKind::PreconditionFailed,
        ErrorKind::Malformed,
        ErrorKind::Invalid,
        ErrorKind::PayloadTooLarge,
        ErrorKind::Unauthenticated,
        ErrorKind::Forbidden,
        ErrorKind::QuotaExceeded,
        ErrorKind::RateLimited,
        ErrorKind::Unavailable,
        ErrorKind::Timeout,
        ErrorKind::Internal,
    ];

    /// Whether an operation that failed with this kind may succeed if tried again
    /// unchanged: `RateLimited`, `Unavailable` and `Timeout`.
    ///
    /// ```
    /// use baas_core::ErrorKind;
    /// assert!(ErrorKind::Timeout.is_retryable());
    /// assert!(!ErrorKind::Invalid.is_retryable());
    /// ```
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited | ErrorKind::Unavailable | ErrorKind::Timeout
        )
    }

    /// Whether the caller is at fault (bad input, missing credential, limits): the
    /// kinds that map to a 4xx status.
    pub fn is_client_error(self) -> bool {
        !matches!(
            self,
            ErrorKind::Unavailable | ErrorKind::Timeout | ErrorKind::Internal
        )
    }

    /// A stable, snake_case name, used in metrics labels and problem types.
    ///
    /// ```
    /// use baas_core::ErrorKind;
    /// assert_eq!(ErrorKind::PreconditionFailed.as_str(), "precondition_failed");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::PreconditionFailed => "precondition_failed",
            ErrorKind::Malformed => "malformed",
            ErrorKind::Invalid => "invalid",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::QuotaExceeded => "quota_exceeded",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Internal => "internal",
        }
    }

    /// A short human title, used as the problem+json `title`.
    pub fn title(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "Not Found",
            ErrorKind::Conflict => "Conflict",
            ErrorKind::PreconditionFailed => "Precondition Failed",
            ErrorKind::Malformed => "Bad Request",
            ErrorKind::Invalid => "Unprocessable Content",
            ErrorKind::PayloadTooLarge => "Content Too Large",
            ErrorKind::Unauthenticated => "Unauthorized",
            ErrorKind::Forbidden => "Forbidden",
            ErrorKind::QuotaExceeded => "Quota Exceeded",
            ErrorKind::RateLimited => "Too Many Requests",
            ErrorKind::Unavailable => "Service Unavailable",
            ErrorKind::Timeout => "Timeout",
            ErrorKind::Internal => "Internal Server Error",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Anything that can say which [`ErrorKind`] it is.
///
/// Every crate's public error enum implements it; the layers use it to decide what to
/// retry, what trips a circuit breaker, and which status to answer.
pub trait Classify {
    /// The kind of this error.
    fn kind(&self) -> ErrorKind;

    /// How long the caller should wait before trying again, when known.
    fn retry_after(&self) -> Option<Duration> {
        None
    }
}

/// One field that failed validation, reported in problem+json `errors`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The field's name or JSON pointer.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// The error type of baas-core, and the common currency every crate converts into.
///
/// It carries a kind, a message that is safe to show a client (never a secret), an
/// optional retry-after hint, field errors, and the underlying `source`, which is kept
/// for logs but never shown to clients.
pub struct Error {
    kind: ErrorKind,
    message: Cow<'static, str>,
    retry_after: Option<Duration>,
    fields: Vec<FieldError>,
    source: Option<BoxError>,
}

impl Error {
    /// A new error of `kind` with a client-safe `message`.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Error {
            kind,
            message: message.into(),
            retry_after: None,
            fields: Vec::new(),
            source: None,
        }
    }

    /// Shorthand for `Error::new(ErrorKind::NotFound, message)`.
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// Shorthand for `Error::new(ErrorKind::Malformed, message)`.
    pub fn malformed(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Malformed, message)
    }

    /// Shorthand for `Error::new(ErrorKind::Invalid, message)`.
    pub fn invalid(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Invalid, message)
    }

    /// Shorthand for `Error::new(ErrorKind::Internal, message)`.
    pub fn internal(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// An `Invalid` error naming one field.
    ///
    /// ```
    /// use baas_core::{Error, ErrorKind};
    /// let err = Error::field("email", "is not an email address");
    /// assert_eq!(err.kind(), ErrorKind::Invalid);
    /// assert_eq!(err.fields()[0].field, "email");
    /// ```
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = message.into();
        Error::new(ErrorKind::Invalid, format!("{field}: {message}")).with_field(field, message)
    }

    /// Attach a retry-after hint.
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// Attach a field error.
    pub fn with_field(mut self, field: impl Into<String>, message: impl Into<String>) -> Self {
        self.fields.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
        self
    }

    /// Attach the underlying cause (kept for logs, never shown to clients).
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The client-safe message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The retry-after hint, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The field errors, if any.
    pub fn fields(&self) -> &[FieldError] {
        &self.fields
    }

    /// Classify any boxed error: an [`Error`] (or anything wrapping one in its source
    /// chain) keeps its kind; tower's timeout becomes `Timeout`, its load-shed
    /// `Overloaded` becomes `Unavailable`; anything else is `Internal`.
    ///
    /// ```
    /// use baas_core::{BoxError, Error, ErrorKind};
    /// let boxed: BoxError = Error::new(ErrorKind::Conflict, "taken").into();
    /// assert_eq!(Error::classify(&*boxed).0, ErrorKind::Conflict);
    /// let boxed: BoxError = tower::timeout::error::Elapsed::new().into();
    /// assert_eq!(Error::classify(&*boxed).0, ErrorKind::Timeout);
    /// ```
    pub fn classify(err: &(dyn std::error::Error + 'static)) -> (ErrorKind, Option<Duration>) {
        let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
        while let Some(e) = current {
            if let Some(e) = e.downcast_ref::<Error>() {
                return (e.kind, e.retry_after);
            }
            if e.is::<tower::timeout::error::Elapsed>() {
                return (ErrorKind::Timeout, None);
            }
            if e.is::<tower::load_shed::error::Overloaded>() {
                return (ErrorKind::Unavailable, None);
            }
            current = e.source();
        }
        (ErrorKind::Internal, None)
    }

    /// Turn any boxed error into an [`Error`], keeping the kind found by
    /// [`Error::classify`]. An `Error` inside the box is returned as it is.
    pub fn from_boxed(err: BoxError) -> Error {
        match err.downcast::<Error>() {
            Ok(e) => *e,
            Err(other) => {
                let (kind, retry_after) = Error::classify(&*other);
                let message = match kind {
                    ErrorKind::Internal => "internal error".to_owned(),
                    _ => other.to_string(),
                };
                let mut e = Error::new(kind, message).with_source(other);
                e.retry_after = retry_after;
                e
            }
        }
    }
}

impl Classify for Error {
    fn kind(&self) -> ErrorKind {
        self.kind
    }
    fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

impl Classify for BoxError {
    fn kind(&self) -> ErrorKind {
        Error::classify(&**self).0
    }
    fn retry_after(&self) -> Option<Duration> {
        Error::classify(&**self).1
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(after) = self.retry_after {
            d.field("retry_after", &after);
        }
        if !self.fields.is_empty() {
            d.field("fields", &self.fields);
        }
        if let Some(source) = &self.source {
            d.field("source", &format_args!("{source}"));
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_kinds_are_retryable() {
        let retryable: Vec<_> = ErrorKind::ALL
            .into_iter()
            .filter(|k| k.is_retryable())
            .collect();
        assert_eq!(
            retryable,
            [
                ErrorKind::RateLimited,
                ErrorKind::Unavailable,
                ErrorKind::Timeout
            ]
        );
    }

    #[test]
    fn classify_walks_the_source_chain() {
        #[derive(Debug, thiserror::Error)]
        #[error("wrapper")]
        struct Wrapper(#[source] Error);
        let inner = Error::new(ErrorKind::QuotaExceeded, "full");
        let boxed: BoxError = Box::new(Wrapper(inner));
        assert_eq!(boxed.kind(), ErrorKind::QuotaExceeded);
    }

    #[test]
    fn unknown_errors_are_internal_and_hide_their_text() {
        let boxed: BoxError = "database password is hunter2".into();
        let err = Error::from_boxed(boxed);
        assert_eq!(err.kind(), ErrorKind::Internal);
        assert_eq!(err.message(), "internal error");
    }
}
