//! Helpers for the HTTP route tests: an app over memory backends and a tiny client.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use baas_core::{ManualClock, MasterKey, Principal, PrincipalKind, TenantId};
use baas_store::blob::{
    BlobLimits, DEFAULT_SIGNED_URL_PREFIX, DynBlobStore, ObjectBlobStore, UrlSigner,
};
use baas_store::documents::MemoryDocumentStore;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

/// The app under test and its clock.
pub struct App {
    pub router: Router,
    pub clock: ManualClock,
    pub blobs: Arc<DynBlobStore>,
}

/// Limits small enough to cross in a test.
pub const MAX_OBJECT: u64 = 64;
pub const QUOTA: u64 = 100;

/// The app over memory backends.
pub fn app() -> App {
    let clock = ManualClock::new();
    let signer = UrlSigner::new(&MasterKey::generate(), clock.shared());
    with_blobs(clock, ObjectBlobStore::memory(signer))
}

/// The app with objects as local files under `dir` (the default backend of the example).
pub fn local_app(dir: &std::path::Path) -> App {
    let clock = ManualClock::new();
    let signer = UrlSigner::new(&MasterKey::generate(), clock.shared());
    let ledger = Arc::new(baas_store::blob::MemoryBlobLedger::new());
    with_blobs(clock, ObjectBlobStore::local(dir, ledger, signer).unwrap())
}

fn with_blobs(clock: ManualClock, store: ObjectBlobStore) -> App {
    let blobs: Arc<DynBlobStore> = Arc::new(store.with_limits(BlobLimits {
        max_object_bytes: MAX_OBJECT,
        tenant_quota_bytes: QUOTA,
    }));
    let docs = Arc::new(MemoryDocumentStore::new());
    let router =
        baas_core::http::problem_rejections(baas_store::http::routes(docs, blobs.clone()).merge(
            baas_store::http::signed_file_routes(blobs.clone(), DEFAULT_SIGNED_URL_PREFIX),
        ));
    App {
        router,
        clock,
        blobs,
    }
}

/// A response read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// Assert the status and, for errors, a problem+json body with that status.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        if status >= 400 {
            assert_eq!(
                self.header("content-type"),
                Some("application/problem+json"),
                "{status}"
            );
            assert_eq!(self.json()["status"], status);
        }
        self
    }
}

/// A request builder.
pub struct Call {
    req: http::request::Builder,
    tenant: Option<String>,
    body: Body,
}

pub fn call(method: Method, uri: &str) -> Call {
    Call {
        req: Request::builder().method(method).uri(uri),
        tenant: None,
        body: Body::empty(),
    }
}

impl Call {
    /// Authenticate as a member of `tenant`.
    pub fn tenant(mut self, tenant: &str) -> Self {
        self.tenant = Some(tenant.to_owned());
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.req = self.req.header(name, value);
        self
    }

    #[allow(clippy::needless_pass_by_value)] // call sites pass `json!(…)`
    pub fn json(mut self, value: serde_json::Value) -> Self {
        self.req = self.req.header("content-type", "application/json");
        self.body = Body::from(value.to_string());
        self
    }

    pub fn raw(mut self, content_type: &str, bytes: impl Into<Body>) -> Self {
        self.req = self.req.header("content-type", content_type);
        self.body = bytes.into();
        self
    }

    pub fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    pub async fn send(self, app: &App) -> Reply {
        let mut req = self.req.body(self.body).unwrap();
        if let Some(t) = self.tenant {
            let principal =
                Principal::new("user-1", TenantId::new(t).unwrap(), PrincipalKind::User)
                    .with_roles(["member"]);
            req.extensions_mut().insert(principal);
        }
        let res = app.router.clone().oneshot(req).await.unwrap();
        let (parts, body) = res.into_parts();
        let body = body.collect().await.unwrap().to_bytes().to_vec();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }
}
