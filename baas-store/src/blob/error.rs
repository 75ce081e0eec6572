//! How backend errors become [`baas_core::Error`]s, so a caller matches on the kind
//! whatever backend produced it. Sources are kept for logs; messages never show paths
//! or credentials.

use baas_core::{Error, ErrorKind};

/// Turn an object_store error into an [`Error`] of the matching kind.
pub(crate) fn from_object_store(err: object_store::Error) -> Error {
    use object_store::Error as E;
    let (kind, message) = match &err {
        E::NotFound { .. } => (ErrorKind::NotFound, "object not found"),
        E::AlreadyExists { .. } => (ErrorKind::Conflict, "object already exists"),
        E::Precondition { .. } | E::NotModified { .. } => {
            (ErrorKind::PreconditionFailed, "object precondition failed")
        }
        E::InvalidPath { .. } => (ErrorKind::Malformed, "invalid object key"),
        E::NotSupported { .. } | E::NotImplemented { .. } => (
            ErrorKind::Internal,
            "operation not supported by the object store",
        ),
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => {
            (ErrorKind::Internal, "object store refused the credentials")
        }
        _ => match io_kind(&err) {
            // On local files a key cannot be both an object and the prefix of another.
            Some(
                std::io::ErrorKind::NotADirectory
                | std::io::ErrorKind::IsADirectory
                | std::io::ErrorKind::AlreadyExists
                | std::io::ErrorKind::DirectoryNotEmpty,
            ) => (
                ErrorKind::Conflict,
                "key conflicts with an existing key or prefix",
            ),
            Some(std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded) => {
                (ErrorKind::Unavailable, "object storage is full")
            }
            _ => (ErrorKind::Unavailable, "object storage is unavailable"),
        },
    };
    Error::new(kind, message).with_source(err)
}

fn io_kind(err: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        current = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let nf = object_store::Error::NotFound {
            path: "tenants/a/objects/k".into(),
            source: "gone".into(),
        };
        let e = from_object_store(nf);
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(!e.message().contains("tenants/"), "no paths in messages");

        let io = std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a dir");
        let generic = object_store::Error::Generic {
            store: "LocalFileSystem",
            source: Box::new(io),
        };
        assert_eq!(from_object_store(generic).kind(), ErrorKind::Conflict);

        let generic = object_store::Error::Generic {
            store: "S3",
            source: "connection reset".into(),
        };
        assert_eq!(from_object_store(generic).kind(), ErrorKind::Unavailable);
    }
}
