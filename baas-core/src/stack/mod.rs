//! The standard HTTP stack (DESIGN.md rule 10), as one builder a binary applies to its
//! router.
//!
//! Outermost first: request id and trace → metrics → load shed → timeout → per-IP rate
//! limit → authentication (optional, supplied by the caller — baas-auth's layer) →
//! per-principal rate limit → idempotency → the handler.
//!
//! Every layer is applied with [`axum::Router::layer`], so it runs after routing and the
//! metrics see the matched route template. Load shedding uses one limit for the whole
//! router ([`GlobalConcurrencyLimitLayer`]), not one per route. Timeouts and overload
//! answer 503 problem+json with `Retry-After`; the rate limits answer 429 with the IETF
//! `RateLimit` headers. Serve the router with
//! `into_make_service_with_connect_info::<SocketAddr>()` so the per-IP limit sees the
//! peer address.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use axum::{Router, routing::get};
//! use baas_core::idempotency::MemoryIdempotencyStore;
//! use baas_core::stack::StandardStack;
//!
//! let app: Router = Router::new().route("/hello", get(|| async { "hi" }));
//! let app = StandardStack::new()
//!     .request_timeout(Duration::from_secs(15))
//!     .rate_limit(100, 200)
//!     .idempotency(Arc::new(MemoryIdempotencyStore::new()))
//!     .apply(app);
//! # let _ = app;
//! ```

use std::convert::Infallible;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::Request;
use axum::response::IntoResponse;
use axum::routing::Route;
use governor::Quota;
use tower::ServiceBuilder;
use tower_layer::{Identity, Layer};
use tower_service::Service;

use crate::clock::{self, SharedClock};
use crate::idempotency::{DynIdempotencyStore, IdempotencyLayer};
use crate::limit::{self, GlobalConcurrencyLimitLayer, LoadShedLayer, TimeoutLayer};
use crate::master_key::MasterKey;
use crate::metrics::MetricsLayer;
use crate::rate_limit::{
    ByClientIp, ByPrincipal, KeyExtractor as _, RateLimitLayer, TrustedProxies,
};
use crate::trace::TraceLayer;

/// The key of the per-principal limit: the principal, or the client IP when anonymous.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Caller {
    Principal((crate::TenantId, String)),
    Ip(std::net::IpAddr),
}

fn quota(per_second: u32, burst: u32) -> Option<Quota> {
    NonZeroU32::new(per_second).map(|rps| {
        let burst = NonZeroU32::new(burst).unwrap_or(rps);
        Quota::per_second(rps).allow_burst(burst)
    })
}

/// The builder of the standard stack. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct StandardStack {
    request_timeout: Duration,
    max_in_flight: usize,
    rate: Option<Quota>,
    ip_rate: Option<Option<Quota>>,
    trusted_proxies: TrustedProxies,
    idempotency: Option<Arc<DynIdempotencyStore>>,
    master_key: Option<Arc<MasterKey>>,
    idempotency_excluded: Vec<String>,
    metrics: bool,
    clock: SharedClock,
}

impl Default for StandardStack {
    fn default() -> Self {
        Self::new()
    }
}

impl StandardStack {
    /// Defaults: 30 s request timeout, 1024 requests in flight, no rate limit, no
    /// idempotency, metrics on, no trusted proxies.
    pub fn new() -> Self {
        StandardStack {
            request_timeout: Duration::from_secs(30),
            max_in_flight: 1024,
            rate: None,
            ip_rate: None,
            trusted_proxies: TrustedProxies::none(),
            idempotency: None,
            master_key: None,
            idempotency_excluded: Vec::new(),
            metrics: true,
            clock: clock::system(),
        }
    }

    /// The request timeout (also the lease of an idempotency claim).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How many requests may be in flight before new ones are shed with 503.
    pub fn max_in_flight(mut self, max: usize) -> Self {
        self.max_in_flight = max.max(1);
        self
    }

    /// Rate limit: `per_second` sustained with bursts of `burst`, per principal (or per
    /// client IP when anonymous), counted after authentication. Zero disables it.
    pub fn rate_limit(mut self, per_second: u32, burst: u32) -> Self {
        self.rate = quota(per_second, burst);
        self
    }

    /// The flood guard in front of authentication, per client IP, counting every
    /// request (credentials or not). Defaults to four times the
    /// [`rate_limit`](Self::rate_limit), so many users behind one address are limited by
    /// their own buckets first. Zero disables it.
    pub fn ip_rate_limit(mut self, per_second: u32, burst: u32) -> Self {
        self.ip_rate = Some(quota(per_second, burst));
        self
    }

    /// Proxies whose `X-Forwarded-For` is believed for the per-IP limit.
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.trusted_proxies = proxies;
        self
    }

    /// Turn on the `Idempotency-Key` layer with this store.
    pub fn idempotency(mut self, store: Arc<DynIdempotencyStore>) -> Self {
        self.idempotency = Some(store);
        self
    }

    /// Seal stored responses that carry secrets with this key.
    pub fn master_key(mut self, key: Arc<MasterKey>) -> Self {
        self.master_key = Some(key);
        self
    }

    /// Paths the idempotency layer leaves alone (API.md: `/v1/auth/token`,
    /// `/v1/auth/revoke`), in addition to its defaults.
    pub fn idempotency_exclude(mut self, path: impl Into<String>) -> Self {
        self.idempotency_excluded.push(path.into());
        self
    }

    /// Record RED metrics (default on). Install the exporter with
    /// [`crate::metrics::install_prometheus`] to read them.
    pub fn metrics(mut self, on: bool) -> Self {
        self.metrics = on;
        self
    }

    /// The clock the rate limits read.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Apply the stack without an authentication layer.
    pub fn apply<S>(self, router: Router<S>) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        self.apply_with_auth(router, Identity::new())
    }

    /// Apply the stack with `auth` in the authentication slot (it should put a
    /// [`Principal`](crate::Principal) in the request extensions when a credential is
    /// valid, and may let public routes through without one).
    pub fn apply_with_auth<S, A>(self, router: Router<S>, auth: A) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
        A: Layer<Route> + Clone + Send + Sync + 'static,
        A::Service: Service<Request> + Clone + Send + Sync + 'static,
        <A::Service as Service<Request>>::Response: IntoResponse + 'static,
        <A::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <A::Service as Service<Request>>::Future: Send + 'static,
    {
        // Router::layer wraps what is already there, so apply innermost first.
        let mut router = router;
        if let Some(store) = self.idempotency.clone() {
            let mut layer = IdempotencyLayer::new(store).lease(self.request_timeout);
            for path in &self.idempotency_excluded {
                layer = layer.exclude_path(path.clone());
            }
            if let Some(key) = self.master_key.clone() {
                layer = layer.master_key(key);
            }
            router = router.layer(layer);
        }
        let by_ip = ByClientIp::new(self.trusted_proxies.clone());
        if let Some(quota) = self.rate {
            let by_ip = by_ip.clone();
            let principal_or_ip = move |req: &Request| -> Option<Caller> {
                match ByPrincipal.extract(req) {
                    Some(principal) => Some(Caller::Principal(principal)),
                    None => by_ip.extract(req).map(Caller::Ip),
                }
            };
            router = router.layer(RateLimitLayer::with_clock(
                quota,
                principal_or_ip,
                self.clock.clone(),
            ));
        }
        router = router.layer(auth);
        let ip_quota = match self.ip_rate {
            Some(explicit) => explicit,
            None => self.rate.map(|q| {
                let burst = q
                    .burst_size()
                    .saturating_mul(NonZeroU32::new(4).expect("4 > 0"));
                Quota::with_period(q.replenish_interval() / 4)
                    .unwrap_or(q)
                    .allow_burst(burst)
            }),
        };
        if let Some(quota) = ip_quota {
            router = router.layer(
                RateLimitLayer::with_clock(quota, by_ip, self.clock.clone())
                    .headers_only_when_limited(),
            );
        }
        router = router.layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(limit::error_response))
                .layer(LoadShedLayer::new())
                .layer(GlobalConcurrencyLimitLayer::new(self.max_in_flight))
                .layer(TimeoutLayer::new(self.request_timeout)),
        );
        if self.metrics {
            router = router.layer(MetricsLayer::http());
        }
        router.layer(TraceLayer::new())
    }
}

#[cfg(test)]
mod tests;
