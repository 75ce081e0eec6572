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

use baas_core::clock::{self, SharedClock};
use baas_core::{Error, MasterKey, TenantId};
use secrecy::SecretString;
use uuid::Uuid;

use crate::error::NotifyError;
use crate::signing::WebhookSecret;
use crate::ssrf::TargetPolicy;
use crate::store::{Endpoint, EndpointStore};

/// The most event types one endpoint may list.
pub const MAX_EVENT_TYPES: usize = 64;

/// Registers webhook endpoints and opens their secrets.
#[derive(Debug, Clone)]
pub struct WebhookEndpoints {
    store: Arc<dyn EndpointStore>,
    key: MasterKey,
    policy: TargetPolicy,
    clock: SharedClock,
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
        }
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
        self.store.insert(&endpoint).await?;
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

    /// The enabled endpoints of `tenant` that want `event_type`.
    pub async fn matching(
        &self,
        tenant: &TenantId,
        event_type: &str,
    ) -> Result<Vec<Endpoint>, Error> {
        Ok(self
            .store
            .list(tenant)
            .await?
            .into_iter()
            .filter(|e| e.wants(event_type))
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

    /// Disable (or re-enable) an endpoint.
    pub async fn set_disabled(
        &self,
        tenant: &TenantId,
        id: Uuid,
        disabled: bool,
    ) -> Result<(), Error> {
        self.store.set_disabled(tenant, id, disabled).await
    }

    /// Delete an endpoint.
    pub async fn delete(&self, tenant: &TenantId, id: Uuid) -> Result<(), Error> {
        self.store.delete(tenant, id).await
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
