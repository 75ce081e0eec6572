//! [`Idempotency`]: the service the layer builds.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body::Body;
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use tower_service::Service;

use super::body::{Buffered, IdempotencyBody, buffer};
use super::config::Config;
use super::fingerprint::fingerprint;
use super::future::ResponseFuture;
use super::guard::ClaimGuard;
use super::response::StoredResponse;
use super::store::{Claim, DynIdempotencyStore, IdempotencyScope};
use super::{IDEMPOTENT_REPLAYED, SealResponse, X_REQUEST_ID, problem, request};
use crate::error::{BoxError, Error, ErrorKind};

/// The service of an [`IdempotencyLayer`](super::IdempotencyLayer); see there for the
/// semantics.
#[derive(Debug, Clone)]
pub struct Idempotency<S> {
    inner: S,
    store: Arc<DynIdempotencyStore>,
    config: Arc<Config>,
}

impl<S> Idempotency<S> {
    pub(crate) fn new(inner: S, store: Arc<DynIdempotencyStore>, config: Arc<Config>) -> Self {
        Idempotency {
            inner,
            store,
            config,
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwrap the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Idempotency<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: Body + From<Bytes> + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<BoxError>,
    ResBody: Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Send + 'static,
{
    type Response = Response<IdempotencyBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let config = &self.config;
        if !config.covers_method(req.method())
            || !req.headers().contains_key(&super::IDEMPOTENCY_KEY)
        {
            return ResponseFuture::pass_through(self.inner.call(req));
        }
        let (parts, body) = req.into_parts();
        if config.excludes(parts.uri.path(), request::matched_path(&parts)) {
            return ResponseFuture::pass_through(self.inner.call(Request::from_parts(parts, body)));
        }
        let key = match request::idempotency_key(&parts.headers) {
            Ok(Some(key)) => key,
            Ok(None) => {
                return ResponseFuture::pass_through(
                    self.inner.call(Request::from_parts(parts, body)),
                );
            }
            Err(err) => return ResponseFuture::ready(problem::response(&err)),
        };
        // The inner service was made ready for this call: take that one, leave a clone.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let run = Keyed {
            inner,
            store: self.store.clone(),
            config: self.config.clone(),
        };
        ResponseFuture::keyed(Box::pin(run.call(Request::from_parts(parts, body), key)))
    }
}

/// One keyed request, from buffering its body to storing its response.
struct Keyed<S> {
    inner: S,
    store: Arc<DynIdempotencyStore>,
    config: Arc<Config>,
}

impl<S> Keyed<S> {
    async fn call<ReqBody, ResBody>(
        mut self,
        req: Request<ReqBody>,
        key: String,
    ) -> Result<Response<IdempotencyBody<ResBody>>, S::Error>
    where
        S: Service<Request<ReqBody>, Response = Response<ResBody>>,
        ReqBody: Body + From<Bytes>,
        ReqBody::Error: Into<BoxError>,
        ResBody: Body<Data = Bytes>,
    {
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, self.config.max_request_body)
            .collect()
            .await
        {
            Ok(collected) => collected.to_bytes(),
            Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => {
                let err = Error::new(ErrorKind::PayloadTooLarge, "the request body is too large");
                return Ok(problem::response(&err));
            }
            Err(_) => {
                let err = Error::malformed("the request body could not be read");
                return Ok(problem::response(&err));
            }
        };
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .map(HeaderValue::as_bytes);
        let fp = fingerprint(&parts.method, parts.uri.path(), content_type, &body);
        let scope = request::scope(&parts);
        let request_id = request::request_id(&parts);

        let token = match self.store.claim(&scope, &key, &fp, self.config.lease).await {
            Ok(Claim::Acquired(token)) => token,
            Ok(Claim::Replay(record)) => {
                return Ok(self.replay(&scope, &key, &record, request_id));
            }
            Ok(Claim::InFlight) => {
                let err = Error::new(
                    ErrorKind::Conflict,
                    "a request with this Idempotency-Key is still being processed; retry later",
                );
                return Ok(problem::response(&err));
            }
            Ok(Claim::Mismatch) => {
                let err =
                    Error::invalid("this Idempotency-Key was already used for a different request");
                return Ok(problem::response(&err));
            }
            Err(err) => {
                tracing::error!(error = ?err, "idempotency store could not claim a key");
                let err = Error::new(ErrorKind::Unavailable, "idempotency store unavailable");
                return Ok(problem::response(&err));
            }
        };

        let guard = ClaimGuard::new(self.store.clone(), scope, key, token);
        let response = match self
            .inner
            .call(Request::from_parts(parts, ReqBody::from(body)))
            .await
        {
            Ok(response) => response,
            Err(err) => {
                guard.release().await;
                return Err(err);
            }
        };
        if !storable(response.status()) {
            guard.release().await;
            return Ok(response.map(IdempotencyBody::inner));
        }
        let (mut parts, body) = response.into_parts();
        let body = match buffer(body, self.config.max_stored_body).await {
            Buffered::Complete(body) => body,
            Buffered::Partial(body) => {
                tracing::warn!(
                    limit = self.config.max_stored_body,
                    "response not stored for replay (too large, trailers or a body error); key released"
                );
                guard.release().await;
                return Ok(Response::from_parts(parts, body));
            }
        };
        let seal = self.config.seal_all || parts.extensions.get::<SealResponse>().is_some();
        let stored = StoredResponse {
            status: parts.status,
            headers: std::mem::take(&mut parts.headers),
            body,
        };
        let record = if seal {
            match &self.config.master_key {
                Some(master) => stored.encode_sealed(master, &aad(guard.scope(), guard.key())),
                None => Err(Error::internal(
                    "no master key configured to seal this response",
                )),
            }
        } else {
            Ok(stored.encode())
        };
        let StoredResponse { headers, body, .. } = stored;
        parts.headers = headers;
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                tracing::warn!(error = ?err, "response to be sealed not stored for replay; key released");
                guard.release().await;
                return Ok(Response::from_parts(parts, IdempotencyBody::full(body)));
            }
        };
        let stored = guard
            .store()
            .complete(
                guard.scope(),
                guard.key(),
                guard.token(),
                &fp,
                record,
                self.config.ttl,
            )
            .await;
        match stored {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(
                    "idempotency claim expired before the response was stored; not stored for replay"
                );
            }
            Err(err) => {
                tracing::error!(error = ?err, "idempotency store could not store a response; the key stays claimed until its lease ends");
            }
        }
        guard.disarm();
        Ok(Response::from_parts(parts, IdempotencyBody::full(body)))
    }

    fn replay<B: Body>(
        &self,
        scope: &IdempotencyScope,
        key: &str,
        record: &[u8],
        request_id: Option<HeaderValue>,
    ) -> Response<IdempotencyBody<B>> {
        let master = self.config.master_key.as_deref();
        let stored = match StoredResponse::decode(record, master, &aad(scope, key)) {
            Ok(stored) => stored,
            Err(err) => {
                tracing::error!(error = ?err, "stored idempotent response cannot be replayed");
                return problem::response(&err);
            }
        };
        let mut response = Response::new(IdempotencyBody::full(stored.body));
        *response.status_mut() = stored.status;
        *response.headers_mut() = stored.headers;
        let headers = response.headers_mut();
        headers.insert(&IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
        if let Some(id) = request_id {
            headers.insert(&X_REQUEST_ID, id);
        }
        response
    }
}

/// Only 2xx and 4xx answers are stored; a 429 (like any 5xx) releases the key.
fn storable(status: StatusCode) -> bool {
    (status.is_success() || status.is_client_error()) && status != StatusCode::TOO_MANY_REQUESTS
}

/// The associated data binding a sealed record to its scope and key.
fn aad(scope: &IdempotencyScope, key: &str) -> Vec<u8> {
    let scope = scope.storage_key();
    let mut aad = Vec::with_capacity(32 + scope.len() + key.len());
    aad.extend_from_slice(b"baas/idempotency/v1");
    for part in [scope.as_bytes(), key.as_bytes()] {
        aad.extend_from_slice(&(part.len() as u64).to_be_bytes());
        aad.extend_from_slice(part);
    }
    aad
}
