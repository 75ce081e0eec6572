//! The webhook endpoint registry: validates targets, generates secrets, seals them.
//!
//! ```
//! use std::sync::Arc;
//! use baas_notify::endpoints::WebhookEndpoints;
//! use baas_notify::store::MemoryEndpointStore;
//! use baas_notify::ssrf::TargetPolicy;
//! use baas_notify::core::{MasterKey, TenantId, ErrorKind};
//! use secrecy::ExposeSecret as _;
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let endpoints = WebhookEndpoints::new(Arc::new(MemoryEndpointStore::new()), MasterKey::generate(), TargetPolicy::new());
//! let acme = TenantId::new("acme")?;
//! // Private targets are refused with `Invalid` (422).
//! let err = endpoints.create(&acme, "http://169.254.169.254/", vec!["user.created".into()]).await.unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::Invalid);
//! # Ok::<(), baas_notify::core::Error>(())
//! # }).unwrap();
//! ```

use std::sync::Arc;
use std::time::Duration;

use baas_core::clock::{self, SharedClock};
use baas_core::{Error, MasterKey, TenantId};
use secrecy::SecretString;
use uuid::Uuid;

use crate::error::NotifyError;
use crate::signing::WebhookSecret;
use crate::ssrf::TargetPolicy;
use crate::store::{Endpoint, EndpointStore};

mod cache;

use cache::EndpointCache;
pub use cache::OpenedEndpoint;

/// The most event types one endpoint may list.
pub const MAX_EVENT_TYPES: usize = 64;

/// How long [`WebhookEndpoints::open`] keeps an opened endpoint by default: the bound
/// on how long another process keeps delivering to an endpoint after it was disabled or
/// deleted (this process stops at once).
pub const ENDPOINT_CACHE_TTL: Duration = Duration::from_secs(1);

/// Registers webhook endpoints and opens their secrets.
///
/// Clones share one cache of opened endpoints ([`open`](Self::open)): an endpoint
/// disabled or deleted through any clone is dropped from it at once; one changed by
/// another process (or straight through the [`EndpointStore`]) is seen within the
/// cache's TTL ([`ENDPOINT_CACHE_TTL`] unless set with
/// [`with_cache_ttl`](Self::with_cache_ttl)).
#[derive(Debug, Clone)]
pub struct WebhookEndpoints {
    store: Arc<dyn EndpointStore>,
    key: MasterKey,
    policy: TargetPolicy,
    clock: SharedClock,
    cache: Arc<EndpointCache>,
}

/// Validate an event type: 1–128 of `[A-Za-z0-9._:-]`, or `*` (endpoints only).
pub fn validate_event_type(t: &str, allow_wildcard: bool) -> Result<(), Error> {
    if allow_wildcard && t == "*" {
        return Ok(());
    }
    let ok = !t.is_empty()
        && t.len() <= 128
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(NotifyError::Invalid {
            field: "event_type",
            message: "1–128 of [A-Za-z0-9._:-]".into(),
        }
        .into())
    }
}

impl WebhookEndpoints {
    /// A registry over `store`, sealing with `key`, checking targets with `policy`.
    pub fn new(store: Arc<dyn EndpointStore>, key: MasterKey, policy: TargetPolicy) -> Self {
        WebhookEndpoints {
            store,
            key,
            policy,
            clock: clock::system(),
            cache: Arc::new(EndpointCache::new(ENDPOINT_CACHE_TTL)),
        }
    }

    /// Keep opened endpoints for `ttl` ([`Duration::ZERO`]: read the store and open the
    /// secret on every [`open`](Self::open)). Clones made before this keep the old
    /// cache.
    pub fn with_cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache = Arc::new(EndpointCache::new(ttl));
        self
    }

    /// The TTL of the opened-endpoint cache.
    pub fn cache_ttl(&self) -> Duration {
        self.cache.ttl()
    }

    /// Read the time from `clock`.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn EndpointStore> {
        &self.store
    }

    /// The target policy.
    pub fn policy(&self) -> TargetPolicy {
        self.policy
    }

    fn aad(tenant: &TenantId, id: Uuid) -> Vec<u8> {
        format!("baas-notify:endpoint:{}:{id}", tenant.as_str()).into_bytes()
    }

    /// Register `url` for `event_types` (`*` = every type). The URL must be `http` or
    /// `https` and resolve only to allowed addresses (`Invalid` otherwise). Returns the
    /// endpoint and its secret (`whsec_…`), which is shown once.
    pub async fn create(
        &self,
        tenant: &TenantId,
        url: &str,
        event_types: Vec<String>,
    ) -> Result<(Endpoint, SecretString), Error> {
        if event_types.is_empty() || event_types.len() > MAX_EVENT_TYPES {
            return Err(NotifyError::Invalid {
                field: "event_types",
                message: format!("1 to {MAX_EVENT_TYPES} event types"),
            }
            .into());
        }
        for t in &event_types {
            validate_event_type(t, true).map_err(|_| {
                Error::from(NotifyError::Invalid {
                    field: "event_types",
                    message: "each is 1–128 of [A-Za-z0-9._:-], or *".into(),
                })
            })?;
        }
        if url.len() > 2048 {
            return Err(
                NotifyError::TargetRefused("the URL is longer than 2048 bytes".into()).into(),
            );
        }
        let checked = self.policy.check(url).await?;
        let id = Uuid::now_v7();
        let secret = WebhookSecret::generate();
        let sealed = self
            .key
            .seal(secret.expose_bytes(), &Self::aad(tenant, id))?;
        let endpoint = Endpoint {
            id,
            tenant: tenant.clone(),
            url: checked.to_string(),
            event_types,
            disabled: false,
            created_at: self.clock.now(),
            sealed_secret: sealed,
        };
        let stored = self.store.insert(&endpoint).await;
        self.cache.invalidate(tenant, id);
        stored?;
        Ok((endpoint, secret.to_whsec()))
    }

    /// The endpoint's signing secrets (today one; the newest first while rotating).
    pub fn secrets(&self, endpoint: &Endpoint) -> Result<Vec<WebhookSecret>, Error> {
        let raw = self.key.open(
            &endpoint.sealed_secret,
            &Self::aad(&endpoint.tenant, endpoint.id),
        )?;
        Ok(vec![WebhookSecret::from_raw(&raw)?])
    }

    /// The endpoint `id` of `tenant` with its secrets opened, ready to deliver to —
    /// disabled or not (the caller checks). Served from the cache when read within its
    /// TTL; `None` when missing.
    pub async fn open(
        &self,
        tenant: &TenantId,
        id: Uuid,
    ) -> Result<Option<Arc<OpenedEndpoint>>, Error> {
        let (hit, generation) = self.cache.get(tenant, id);
        if let Some(hit) = hit {
            return Ok(Some(hit));
        }
        let Some(endpoint) = self.store.get(tenant, id).await? else {
            return Ok(None);
        };
        let secrets = self.secrets(&endpoint)?.into();
        let opened = Arc::new(OpenedEndpoint { endpoint, secrets });
        self.cache.insert(generation, opened.clone());
        Ok(Some(opened))
    }

    /// The enabled endpoints of `tenant` that want `event_type`.
    ///
    /// Served from the tenant's cached endpoint list when read within the cache's TTL
    /// (as [`open`](Self::open)): an endpoint created, disabled or deleted through this
    /// registry (or a clone) is seen at once; one changed by another process within the
    /// TTL.
    pub async fn matching(
        &self,
        tenant: &TenantId,
        event_type: &str,
    ) -> Result<Vec<Endpoint>, Error> {
        let (hit, generation) = self.cache.get_list(tenant);
        let list = match hit {
            Some(list) => list,
            None => {
                let list: Arc<[Endpoint]> = self.store.list(tenant).await?.into();
                self.cache.insert_list(generation, tenant, list.clone());
                list
            }
        };
        Ok(list
            .iter()
            .filter(|e| e.tenant == *tenant && e.wants(event_type))
            .cloned()
            .collect())
    }

    /// One endpoint.
    pub async fn get(&self, tenant: &TenantId, id: Uuid) -> Result<Option<Endpoint>, Error> {
        self.store.get(tenant, id).await
    }

    /// Every endpoint of `tenant`.
    pub async fn list(&self, tenant: &TenantId) -> Result<Vec<Endpoint>, Error> {
        self.store.list(tenant).await
    }

    /// Disable (or re-enable) an endpoint; [`open`](Self::open) sees it at once.
    pub async fn set_disabled(
        &self,
        tenant: &TenantId,
        id: Uuid,
        disabled: bool,
    ) -> Result<(), Error> {
        let result = self.store.set_disabled(tenant, id, disabled).await;
        self.cache.invalidate(tenant, id);
        result
    }

    /// Delete an endpoint.
    pub async fn delete(&self, tenant: &TenantId, id: Uuid) -> Result<(), Error> {
        let result = self.store.delete(tenant, id).await;
        self.cache.invalidate(tenant, id);
        result
    }
}

#[cfg(test)]
mod tests {
    use baas_core::ErrorKind;
    use secrecy::ExposeSecret as _;

    use super::*;
    use crate::store::MemoryEndpointStore;

    #[tokio::test]
    async fn create_seals_and_opens_the_secret() {
        let key = MasterKey::generate();
        let store = Arc::new(MemoryEndpointStore::new());
        let reg =
            WebhookEndpoints::new(store.clone(), key, TargetPolicy::new().allow_private(true));
        let acme = TenantId::new("acme").unwrap();
        let (ep, secret) = reg
            .create(&acme, "http://127.0.0.1:9/hook", vec!["a.b".into()])
            .await
            .unwrap();
        assert!(secret.expose_secret().starts_with("whsec_"));
        let raw = WebhookSecret::parse(secret.expose_secret()).unwrap();
        assert!(
            !ep.sealed_secret
                .windows(raw.expose_bytes().len())
                .any(|w| w == raw.expose_bytes())
        );
        let opened = reg.secrets(&ep).unwrap();
        assert_eq!(opened[0].expose_bytes(), raw.expose_bytes());
        assert_eq!(reg.matching(&acme, "a.b").await.unwrap().len(), 1);
        assert!(reg.matching(&acme, "a.c").await.unwrap().is_empty());
        // A row moved to another tenant does not open.
        let mut moved = ep.clone();
        moved.tenant = TenantId::new("globex").unwrap();
        assert!(reg.secrets(&moved).is_err());
    }

    /// Counts reads; `stale` makes the next read return the row as it was, then wait
    /// for the gate (a read that raced a write).
    #[derive(Debug, Default)]
    struct Spy {
        inner: MemoryEndpointStore,
        gets: parking_lot::Mutex<usize>,
        lists: parking_lot::Mutex<usize>,
        stale: parking_lot::Mutex<Option<tokio::sync::oneshot::Receiver<()>>>,
    }

    #[async_trait::async_trait]
    impl EndpointStore for Spy {
        async fn insert(&self, e: &Endpoint) -> Result<(), Error> {
            self.inner.insert(e).await
        }
        async fn get(&self, tenant: &TenantId, id: Uuid) -> Result<Option<Endpoint>, Error> {
            *self.gets.lock() += 1;
            let row = self.inner.get(tenant, id).await;
            let gate = self.stale.lock().take();
            if let Some(gate) = gate {
                let _ = gate.await;
            }
            row
        }
        async fn list(&self, tenant: &TenantId) -> Result<Vec<Endpoint>, Error> {
            *self.lists.lock() += 1;
            self.inner.list(tenant).await
        }
        async fn set_disabled(&self, t: &TenantId, id: Uuid, d: bool) -> Result<(), Error> {
            self.inner.set_disabled(t, id, d).await
        }
        async fn delete(&self, tenant: &TenantId, id: Uuid) -> Result<(), Error> {
            self.inner.delete(tenant, id).await
        }
    }

    async fn spied() -> (Arc<Spy>, WebhookEndpoints, Endpoint, TenantId) {
        let spy = Arc::new(Spy::default());
        let reg = WebhookEndpoints::new(
            spy.clone(),
            MasterKey::generate(),
            TargetPolicy::new().allow_private(true),
        );
        let acme = TenantId::new("acme").unwrap();
        let (ep, _) = reg
            .create(&acme, "http://127.0.0.1:9/hook", vec!["*".into()])
            .await
            .unwrap();
        (spy, reg, ep, acme)
    }

    #[tokio::test(start_paused = true)]
    async fn open_is_cached_for_the_ttl_and_dropped_on_disable_or_delete() {
        let (spy, reg, ep, acme) = spied().await;
        assert_eq!(reg.cache_ttl(), ENDPOINT_CACHE_TTL);
        let first = reg.open(&acme, ep.id).await.unwrap().unwrap();
        assert_eq!(
            first.secrets[0].expose_bytes(),
            reg.secrets(&ep).unwrap()[0].expose_bytes()
        );
        let again = reg.open(&acme, ep.id).await.unwrap().unwrap();
        assert!(Arc::ptr_eq(&first, &again), "served from the cache");
        assert_eq!(*spy.gets.lock(), 1);
        // Tenancy: another tenant's key is not served the cached endpoint.
        let globex = TenantId::new("globex").unwrap();
        assert!(reg.open(&globex, ep.id).await.unwrap().is_none());

        // Disabled behind the registry's back (another process): seen within the TTL.
        spy.inner.set_disabled(&acme, ep.id, true).await.unwrap();
        tokio::time::advance(ENDPOINT_CACHE_TTL - Duration::from_millis(1)).await;
        assert!(
            !reg.open(&acme, ep.id)
                .await
                .unwrap()
                .unwrap()
                .endpoint
                .disabled
        );
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(
            reg.open(&acme, ep.id)
                .await
                .unwrap()
                .unwrap()
                .endpoint
                .disabled
        );

        // Through the registry (or a clone of it): seen at once.
        let clone = reg.clone();
        clone.set_disabled(&acme, ep.id, false).await.unwrap();
        assert!(
            !reg.open(&acme, ep.id)
                .await
                .unwrap()
                .unwrap()
                .endpoint
                .disabled
        );
        clone.set_disabled(&acme, ep.id, true).await.unwrap();
        assert!(
            reg.open(&acme, ep.id)
                .await
                .unwrap()
                .unwrap()
                .endpoint
                .disabled
        );
        reg.delete(&acme, ep.id).await.unwrap();
        assert!(clone.open(&acme, ep.id).await.unwrap().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_racing_a_disable_is_not_cached() {
        let (spy, reg, ep, acme) = spied().await;
        let (release, gate) = tokio::sync::oneshot::channel();
        *spy.stale.lock() = Some(gate);
        let racing = tokio::spawn({
            let reg = reg.clone();
            let acme = acme.clone();
            async move { reg.open(&acme, ep.id).await }
        });
        while *spy.gets.lock() == 0 {
            tokio::task::yield_now().await;
        }
        // The read has the enabled row in hand; now the endpoint is disabled.
        reg.set_disabled(&acme, ep.id, true).await.unwrap();
        release.send(()).unwrap();
        let stale = racing.await.unwrap().unwrap().unwrap();
        assert!(!stale.endpoint.disabled, "that read saw the old row");
        assert!(
            reg.open(&acme, ep.id)
                .await
                .unwrap()
                .unwrap()
                .endpoint
                .disabled,
            "but it was not kept"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn matching_is_cached_per_tenant_and_dropped_on_create_disable_or_delete() {
        let (spy, reg, ep, acme) = spied().await;
        let ids = |v: Vec<Endpoint>| v.into_iter().map(|e| e.id).collect::<Vec<_>>();
        assert_eq!(ids(reg.matching(&acme, "a.b").await.unwrap()), [ep.id]);
        assert_eq!(ids(reg.matching(&acme, "c.d").await.unwrap()), [ep.id]);
        assert_eq!(*spy.lists.lock(), 1, "the second was served from the cache");
        // Tenancy: another tenant gets its own (empty) list, never acme's.
        let globex = TenantId::new("globex").unwrap();
        assert!(reg.matching(&globex, "a.b").await.unwrap().is_empty());
        assert_eq!(*spy.lists.lock(), 2);

        // Created through a clone of the registry: seen at once.
        let (second, _) = reg
            .clone()
            .create(&acme, "http://127.0.0.1:9/other", vec!["a.b".into()])
            .await
            .unwrap();
        assert_eq!(
            ids(reg.matching(&acme, "a.b").await.unwrap()),
            [ep.id, second.id]
        );
        assert_eq!(ids(reg.matching(&acme, "c.d").await.unwrap()), [ep.id]);
        assert!(reg.matching(&globex, "a.b").await.unwrap().is_empty());

        // Disabled behind the registry's back (another process): seen within the TTL.
        spy.inner.set_disabled(&acme, ep.id, true).await.unwrap();
        tokio::time::advance(ENDPOINT_CACHE_TTL - Duration::from_millis(1)).await;
        assert_eq!(reg.matching(&acme, "c.d").await.unwrap().len(), 1, "stale");
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(reg.matching(&acme, "c.d").await.unwrap().is_empty());

        // Through the registry: at once.
        reg.set_disabled(&acme, second.id, true).await.unwrap();
        assert!(reg.matching(&acme, "a.b").await.unwrap().is_empty());
        reg.set_disabled(&acme, second.id, false).await.unwrap();
        assert_eq!(ids(reg.matching(&acme, "a.b").await.unwrap()), [second.id]);
        reg.delete(&acme, second.id).await.unwrap();
        assert!(reg.matching(&acme, "a.b").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_zero_ttl_reads_every_time() {
        let (spy, reg, ep, acme) = spied().await;
        let reg = reg.with_cache_ttl(Duration::ZERO);
        for _ in 0..3 {
            reg.open(&acme, ep.id).await.unwrap().unwrap();
            reg.matching(&acme, "a.b").await.unwrap();
        }
        assert_eq!(*spy.gets.lock(), 3);
        assert_eq!(*spy.lists.lock(), 3);
    }

    #[tokio::test]
    async fn bad_input_changes_nothing() {
        let store = Arc::new(MemoryEndpointStore::new());
        let reg = WebhookEndpoints::new(store.clone(), MasterKey::generate(), TargetPolicy::new());
        let acme = TenantId::new("acme").unwrap();
        for (url, types) in [
            ("http://10.0.0.1/", vec!["x".to_owned()]),
            ("https://example.com/", vec![]),
            ("https://example.com/", vec!["bad type".to_owned()]),
            ("file:///etc/passwd", vec!["x".to_owned()]),
        ] {
            let e = reg.create(&acme, url, types).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Invalid, "{url}");
        }
        assert!(reg.list(&acme).await.unwrap().is_empty());
    }
}
