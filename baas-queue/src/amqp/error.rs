//! The backend's private errors, converted into [`baas_core::Error`] at the boundary.

use std::fmt;

use baas_core::{Error, ErrorKind};
use lapin::protocol::{AMQPErrorKind, AMQPHardError, AMQPSoftError};

/// What went wrong talking to RabbitMQ. Never shown to clients: the conversion keeps a
/// fixed, client-safe message and the original as `source`.
#[derive(Debug)]
pub(crate) enum AmqpError {
    /// A broker call failed (`op` names it, for logs).
    Broker {
        op: &'static str,
        source: lapin::Error,
    },
    /// The broker nacked a publish (it could not store the message).
    Nacked,
    /// A mandatory publish came back unroutable (its queue is gone).
    Unroutable,
    /// No confirm arrived in time.
    ConfirmTimeout,
    /// The management API failed.
    Management(reqwest::Error),
}

impl AmqpError {
    pub(crate) fn broker(op: &'static str) -> impl FnOnce(lapin::Error) -> Self {
        move |source| Self::Broker { op, source }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::Broker { source, .. } => lapin_kind(source),
            Self::Nacked | Self::ConfirmTimeout | Self::Management(_) => ErrorKind::Unavailable,
            Self::Unroutable => ErrorKind::NotFound,
        }
    }

    fn message(&self) -> &'static str {
        match self {
            Self::Broker { source, .. } => match lapin_kind(source) {
                ErrorKind::NotFound => "the queue does not exist on the broker",
                ErrorKind::Forbidden => "the broker refused access",
                ErrorKind::Unavailable => "the message broker is unavailable",
                _ => "the message broker failed",
            },
            Self::Nacked => "the message broker did not accept the message",
            Self::Unroutable => "the queue does not exist on the broker",
            Self::ConfirmTimeout => "the message broker did not confirm in time",
            Self::Management(_) => "the broker's management API is unavailable",
        }
    }
}

/// The kind a lapin error maps to: connection trouble is retryable `Unavailable`;
/// the broker's own refusals keep their meaning.
pub(crate) fn lapin_kind(error: &lapin::Error) -> ErrorKind {
    use lapin::ErrorKind as K;
    match error.kind() {
        K::ProtocolError(amqp) => match amqp.kind() {
            AMQPErrorKind::Soft(AMQPSoftError::NOTFOUND) => ErrorKind::NotFound,
            AMQPErrorKind::Soft(AMQPSoftError::ACCESSREFUSED) => ErrorKind::Forbidden,
            AMQPErrorKind::Soft(AMQPSoftError::RESOURCELOCKED) => ErrorKind::Conflict,
            AMQPErrorKind::Soft(AMQPSoftError::PRECONDITIONFAILED) => ErrorKind::PreconditionFailed,
            AMQPErrorKind::Soft(AMQPSoftError::CONTENTTOOLARGE) => ErrorKind::PayloadTooLarge,
            AMQPErrorKind::Soft(_) => ErrorKind::Internal,
            AMQPErrorKind::Hard(AMQPHardError::CONNECTIONFORCED | AMQPHardError::RESOURCEERROR) => {
                ErrorKind::Unavailable
            }
            AMQPErrorKind::Hard(AMQPHardError::NOTALLOWED) => ErrorKind::Forbidden,
            AMQPErrorKind::Hard(_) => ErrorKind::Internal,
        },
        K::IOError(_)
        | K::InvalidChannelState(..)
        | K::InvalidConnectionState(_)
        | K::InvalidChannel(_)
        | K::MissingHeartbeatError
        | K::ChannelsLimitReached => ErrorKind::Unavailable,
        K::AuthProviderError(_) => ErrorKind::Unauthenticated,
        _ => ErrorKind::Internal,
    }
}

impl fmt::Display for AmqpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Broker { op, source } => write!(f, "RabbitMQ {op} failed: {source}"),
            Self::Nacked => f.write_str("RabbitMQ nacked the publish"),
            Self::Unroutable => f.write_str("RabbitMQ returned the publish as unroutable"),
            Self::ConfirmTimeout => f.write_str("no publisher confirm arrived in time"),
            Self::Management(source) => write!(f, "RabbitMQ management API: {source}"),
        }
    }
}

impl std::error::Error for AmqpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Broker { source, .. } => Some(source),
            Self::Management(source) => Some(source),
            _ => None,
        }
    }
}

impl From<AmqpError> for Error {
    fn from(error: AmqpError) -> Self {
        Error::new(error.kind(), error.message()).with_source(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_client_safe_and_keep_the_source() {
        let error: Error = AmqpError::Unroutable.into();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        assert!(!error.message().contains("RabbitMQ returned"));
        let error: Error = AmqpError::Nacked.into();
        assert!(error.kind().is_retryable());
        assert!(std::error::Error::source(&error).is_some());
    }
}
