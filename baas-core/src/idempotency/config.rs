//! The layer's settings and their defaults.

use std::sync::Arc;
use std::time::Duration;

use http::Method;

use crate::master_key::MasterKey;

/// How long an in-flight claim holds its key by default: set it to the request timeout.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
/// How long a completed response is kept for replay by default (API.md: 24 h).
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// The largest request body buffered for fingerprinting by default (1 MiB); beyond, 413.
pub const DEFAULT_MAX_REQUEST_BODY: usize = 1024 * 1024;
/// The largest response body stored for replay by default (1 MiB).
pub const DEFAULT_MAX_STORED_BODY: usize = 1024 * 1024;
/// The POST routes API.md exempts from `Idempotency-Key` (OAuth token and revocation
/// endpoints), the default exclusion list.
pub const DEFAULT_EXCLUDED_PATHS: [&str; 2] = ["/v1/auth/token", "/v1/auth/revoke"];

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) methods: Vec<Method>,
    pub(crate) excluded_paths: Vec<String>,
    pub(crate) lease: Duration,
    pub(crate) ttl: Duration,
    pub(crate) max_request_body: usize,
    pub(crate) max_stored_body: usize,
    pub(crate) master_key: Option<Arc<MasterKey>>,
    pub(crate) seal_all: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            methods: vec![Method::POST],
            excluded_paths: DEFAULT_EXCLUDED_PATHS.map(String::from).to_vec(),
            lease: DEFAULT_LEASE,
            ttl: DEFAULT_TTL,
            max_request_body: DEFAULT_MAX_REQUEST_BODY,
            max_stored_body: DEFAULT_MAX_STORED_BODY,
            master_key: None,
            seal_all: false,
        }
    }
}

impl Config {
    /// Whether requests with this method may use a key at all.
    pub(crate) fn covers_method(&self, method: &Method) -> bool {
        self.methods.iter().any(|m| m == method)
    }

    /// Whether the path (or the matched route template) is excluded.
    pub(crate) fn excludes(&self, path: &str, matched: Option<&str>) -> bool {
        self.excluded_paths
            .iter()
            .any(|p| p == path || matched.is_some_and(|m| m == p))
    }
}
