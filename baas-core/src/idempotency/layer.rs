//! [`IdempotencyLayer`]: configuration and the `Layer` impl.

use std::sync::Arc;
use std::time::Duration;

use http::Method;
use tower_layer::Layer;

use super::config::Config;
use super::service::Idempotency;
use super::store::DynIdempotencyStore;
use crate::master_key::MasterKey;

/// Applies API.md's `Idempotency-Key` convention to an HTTP service.
///
/// For a request whose method is covered (POST by default), whose path is not excluded
/// (`/v1/auth/token` and `/v1/auth/revoke` by default) and which carries an
/// `Idempotency-Key` header:
///
/// | situation | answer |
/// |---|---|
/// | key not 1–255 visible ASCII characters, or the header repeated | 400 problem+json |
/// | request body over [`max_request_body`](Self::max_request_body) | 413 problem+json |
/// | first time seen | the inner service runs; a 2xx or 4xx answer (not 429) is stored |
/// | same key and fingerprint, completed | the stored response, byte for byte, plus `Idempotent-Replayed: true` and the current `X-Request-Id` |
/// | same key and fingerprint, still in flight | 409 problem+json |
/// | same key, different fingerprint | 422 problem+json |
/// | the store fails | 503 problem+json with `Retry-After` |
///
/// Requests without the header (or with another method, or to an excluded path) pass
/// straight through at the cost of a header lookup.
///
/// **Fingerprint**: [`fingerprint`](super::fingerprint()) of method, path, `Content-Type`
/// and body. The body is buffered (bounded) and handed to the inner service again.
///
/// **Scope**: the tenant and subject of the [`Principal`](crate::Principal) in the request
/// extensions (or of a [`RequestContext`](crate::RequestContext)'s principal); otherwise
/// the route: axum's `MatchedPath` when the layer runs inside a router (feature `http`,
/// apply it with `Router::layer`), else the request path. Exclusions match the path or
/// the matched route.
///
/// **Claims** last [`lease`](Self::lease): set it to the request timeout, so a claim
/// expires with its request. A 5xx, a 429, a response that cannot be stored (body over
/// [`max_stored_body`](Self::max_stored_body), trailers, a body error), an inner-service
/// error, or the response future being dropped (the client went away, the timeout
/// fired) releases the key so the client may retry; a drop releases it from a spawned
/// task, best effort. If storing the completed response fails, the claim is kept until
/// its lease ends (so a retry meanwhile gets 409, not a second run).
///
/// **Secrets**: a handler whose response carries a secret inserts the
/// [`SealResponse`](super::SealResponse) marker into the response extensions (with axum:
/// return `(Extension(SealResponse), body)`); such a response is stored sealed with the
/// [`master_key`](Self::master_key), bound to its scope and key. [`seal_all`](Self::seal_all)
/// seals every response. A response to be sealed when no master key is configured is
/// sent but not stored (a warning is logged), so no secret ever rests in clear.
///
/// **Records** are kept [`ttl`](Self::ttl) (24 h by default); run
/// [`spawn_sweeper`](super::spawn_sweeper) to remove expired ones.
///
/// The layer's own problem documents are built without axum, so it wraps any
/// `Service<http::Request<B>>` whose body type can be rebuilt from `Bytes`
/// (`axum::body::Body`, `http_body_util::Full<Bytes>` …).
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use baas_core::idempotency::{IdempotencyLayer, MemoryIdempotencyStore};
/// use bytes::Bytes;
/// use http::{Request, Response, StatusCode};
/// use http_body_util::{BodyExt as _, Full};
/// use tower::{ServiceBuilder, ServiceExt as _};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let svc = ServiceBuilder::new()
///     .layer(IdempotencyLayer::new(Arc::new(MemoryIdempotencyStore::new())).lease(Duration::from_secs(10)))
///     .service_fn(|_req: Request<Full<Bytes>>| async {
///         let mut res = Response::new(Full::new(Bytes::from_static(b"created")));
///         *res.status_mut() = StatusCode::CREATED;
///         Ok::<_, std::convert::Infallible>(res)
///     });
///
/// let request = || Request::post("/v1/orders")
///     .header("idempotency-key", "order-1")
///     .body(Full::new(Bytes::from_static(b"{}")))
///     .unwrap();
/// let first = svc.clone().oneshot(request()).await.unwrap();
/// assert_eq!(first.status(), StatusCode::CREATED);
/// let again = svc.clone().oneshot(request()).await.unwrap();
/// assert_eq!(again.headers()["idempotent-replayed"], "true");
/// assert_eq!(again.into_body().collect().await.unwrap().to_bytes(), "created");
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct IdempotencyLayer {
    store: Arc<DynIdempotencyStore>,
    config: Arc<Config>,
}

impl IdempotencyLayer {
    /// A layer over `store` with the defaults: POST only, API.md's exclusions, a 30 s
    /// lease, 24 h records, 1 MiB request and stored bodies, nothing sealed without a
    /// marker and no master key.
    pub fn new(store: Arc<DynIdempotencyStore>) -> Self {
        IdempotencyLayer {
            store,
            config: Arc::new(Config::default()),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(Arc::make_mut(&mut self.config));
        self
    }

    /// The methods a key applies to (default: POST only).
    pub fn methods(self, methods: impl IntoIterator<Item = Method>) -> Self {
        let methods = methods.into_iter().collect();
        self.edit(|c| c.methods = methods)
    }

    /// Replace the excluded paths (default: [`DEFAULT_EXCLUDED_PATHS`](super::DEFAULT_EXCLUDED_PATHS)).
    /// An entry matches the request path or the matched route template exactly.
    pub fn excluded_paths<I, P>(self, paths: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        let paths = paths.into_iter().map(Into::into).collect();
        self.edit(|c| c.excluded_paths = paths)
    }

    /// Add one excluded path.
    pub fn exclude_path(self, path: impl Into<String>) -> Self {
        let path = path.into();
        self.edit(|c| c.excluded_paths.push(path))
    }

    /// How long an in-flight claim holds its key: the request timeout (default 30 s).
    pub fn lease(self, lease: Duration) -> Self {
        self.edit(|c| c.lease = lease)
    }

    /// How long a completed response is kept for replay (default 24 h).
    pub fn ttl(self, ttl: Duration) -> Self {
        self.edit(|c| c.ttl = ttl)
    }

    /// The largest request body buffered for the fingerprint; larger ones get 413
    /// (default 1 MiB).
    pub fn max_request_body(self, bytes: usize) -> Self {
        self.edit(|c| c.max_request_body = bytes)
    }

    /// The largest response body stored; larger responses are sent but not stored, and
    /// the key is released (default 1 MiB).
    pub fn max_stored_body(self, bytes: usize) -> Self {
        self.edit(|c| c.max_stored_body = bytes)
    }

    /// The master key that seals responses marked [`SealResponse`](super::SealResponse)
    /// (or all, with [`seal_all`](Self::seal_all)). Also needed to replay sealed records.
    pub fn master_key(self, key: Arc<MasterKey>) -> Self {
        self.edit(|c| c.master_key = Some(key))
    }

    /// Seal every stored response, marked or not (default: only marked ones).
    pub fn seal_all(self, seal_all: bool) -> Self {
        self.edit(|c| c.seal_all = seal_all)
    }
}

impl<S> Layer<S> for IdempotencyLayer {
    type Service = Idempotency<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Idempotency::new(inner, self.store.clone(), self.config.clone())
    }
}
