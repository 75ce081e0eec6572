//! Request context: the request id, and the tenant and principal once authenticated.

use std::fmt;

use crate::principal::Principal;
use crate::tenant::TenantId;

/// The id of one request (or job), generated or echoed from `X-Request-Id`.
///
/// ```
/// use baas_core::RequestId;
/// let a = RequestId::generate();
/// let b = RequestId::generate();
/// assert_ne!(a, b);
/// assert_eq!(RequestId::from_header("abc-123").unwrap().as_str(), "abc-123");
/// assert!(RequestId::from_header("bad\nid").is_none());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RequestId(String);

/// The longest request id echoed from a client.
pub const MAX_REQUEST_ID_LEN: usize = 128;

impl RequestId {
    /// A new random id (UUIDv7, so ids sort by time).
    pub fn generate() -> Self {
        RequestId(uuid::Uuid::now_v7().to_string())
    }

    /// Accept a client's id if it is 1–128 visible ASCII characters; else `None`, and the
    /// caller generates one.
    pub fn from_header(value: &str) -> Option<Self> {
        let ok = !value.is_empty()
            && value.len() <= MAX_REQUEST_ID_LEN
            && value.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| RequestId(value.to_owned()))
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({})", self.0)
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a handler knows about the request it serves.
///
/// Layers put it in the request extensions; handlers read it.
///
/// ```
/// use baas_core::{RequestContext, RequestId};
/// let cx = RequestContext::new(RequestId::generate());
/// assert!(cx.tenant().is_none());
/// ```
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The request id.
    pub request_id: RequestId,
    /// The authenticated principal, if any.
    pub principal: Option<Principal>,
}

impl RequestContext {
    /// A context for an anonymous request.
    pub fn new(request_id: RequestId) -> Self {
        RequestContext {
            request_id,
            principal: None,
        }
    }

    /// The tenant of the authenticated principal.
    pub fn tenant(&self) -> Option<&TenantId> {
        self.principal.as_ref().map(|p| &p.tenant)
    }
}
