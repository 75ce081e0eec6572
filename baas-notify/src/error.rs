//! The crate's error enum, converted into [`baas_core::Error`] (DESIGN.md rule 4).

use baas_core::{Classify, Error, ErrorKind};

/// What went wrong in baas-notify, before it becomes a [`baas_core::Error`].
///
/// Public functions return [`baas_core::Error`]; this enum names the cases and their
/// kinds in one place. Messages never carry a secret.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// No template of that name (in any locale).
    #[error("unknown template `{0}`")]
    UnknownTemplate(String),
    /// A template failed to compile or render (e.g. a variable is missing).
    #[error("template `{name}`: {detail}")]
    Template {
        /// The template's name.
        name: String,
        /// What the engine said (no data values).
        detail: String,
    },
    /// The recipient is not a valid address for its channel.
    #[error("invalid recipient: {0}")]
    InvalidRecipient(String),
    /// A webhook target is not allowed (scheme, or an address in a refused range).
    #[error("webhook target refused: {0}")]
    TargetRefused(String),
    /// A secret is malformed.
    #[error("invalid secret: {0}")]
    InvalidSecret(&'static str),
    /// A retry schedule could not be parsed.
    #[error("invalid retry schedule: {0}")]
    InvalidSchedule(String),
    /// Any other invalid input, naming the field.
    #[error("{field}: {message}")]
    Invalid {
        /// The offending field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The thing asked for does not exist (or belongs to another tenant).
    #[error("{0} not found")]
    NotFound(&'static str),
}

impl Classify for NotifyError {
    fn kind(&self) -> ErrorKind {
        match self {
            NotifyError::NotFound(_) => ErrorKind::NotFound,
            _ => ErrorKind::Invalid,
        }
    }
}

impl From<NotifyError> for Error {
    fn from(err: NotifyError) -> Self {
        let kind = err.kind();
        let message = err.to_string();
        let field = match &err {
            NotifyError::UnknownTemplate(_) | NotifyError::Template { .. } => Some("template"),
            NotifyError::InvalidRecipient(_) => Some("to"),
            NotifyError::TargetRefused(_) => Some("url"),
            NotifyError::InvalidSecret(_) => Some("secret"),
            NotifyError::Invalid { field, .. } => Some(*field),
            _ => None,
        };
        let detail = match &err {
            NotifyError::Invalid { message, .. } => message.clone(),
            _ => message.clone(),
        };
        let mut out = Error::new(kind, message);
        if let Some(field) = field {
            out = out.with_field(field, detail);
        }
        out.with_source(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_fields() {
        let e: Error = NotifyError::UnknownTemplate("welcome".into()).into();
        assert_eq!(e.kind(), ErrorKind::Invalid);
        assert_eq!(e.fields()[0].field, "template");
        let e: Error = NotifyError::NotFound("endpoint").into();
        assert_eq!(e.kind(), ErrorKind::NotFound);
    }
}
