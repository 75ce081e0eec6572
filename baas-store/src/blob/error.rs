//! How backend errors become [`baas_core::Error`]s, so a caller matches on the kind
//! whatever backend produced it. Sources are kept for logs; messages never show paths
//! or credentials.

use baas_core::{Error, ErrorKind};

/// Blob outcomes a caller may need to tell apart beyond their [`ErrorKind`]. They travel
/// as the `source` of a [`baas_core::Error`]; find one with [`BlobError::find`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), baas_core::Error> {
/// use baas_core::{ManualClock, MasterKey, TenantId};
/// use baas_store::blob::{BlobError, BlobStore, ByteRange, ObjectBlobStore, UrlSigner, body_from_bytes};
///
/// let store = ObjectBlobStore::memory(UrlSigner::new(&MasterKey::generate(), ManualClock::new().shared()));
/// let t = TenantId::new("acme")?;
/// store.put(&t, "k", "text/plain", body_from_bytes("0123456789")).await?;
/// let err = store.get(&t, "k", Some(ByteRange::From(10))).await.unwrap_err();
/// // HTTP: 416 Range Not Satisfiable with `Content-Range: bytes */10`.
/// assert_eq!(BlobError::find(&err), Some(&BlobError::RangeNotSatisfiable { size: 10 }));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BlobError {
    /// The asked-for byte range selects nothing of an object of `size` bytes (HTTP 416,
    /// `Content-Range: bytes */<size>`). Its kind is [`ErrorKind::Invalid`], for callers
    /// that do not look closer.
    #[error("range not satisfiable (object is {size} bytes)")]
    RangeNotSatisfiable {
        /// The object's size.
        size: u64,
    },
}

impl BlobError {
    /// The kind this maps to.
    pub fn kind(&self) -> ErrorKind {
        match self {
            BlobError::RangeNotSatisfiable { .. } => ErrorKind::Invalid,
        }
    }

    /// This as a [`baas_core::Error`] of its kind, keeping itself as the source.
    pub fn into_error(self) -> Error {
        let message = self.to_string();
        let err = match self {
            BlobError::RangeNotSatisfiable { .. } => {
                Error::new(self.kind(), message).with_field("range", "not satisfiable")
            }
        };
        err.with_source(self)
    }

    /// The `BlobError` inside `err`, if it came from one.
    pub fn find(err: &Error) -> Option<&BlobError> {
        let mut current = std::error::Error::source(err);
        while let Some(e) = current {
            if let Some(found) = e.downcast_ref::<BlobError>() {
                return Some(found);
            }
            current = e.source();
        }
        None
    }
}

impl From<BlobError> for Error {
    fn from(err: BlobError) -> Self {
        err.into_error()
    }
}

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
