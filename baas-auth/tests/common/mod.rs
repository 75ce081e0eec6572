//! A token fixture: manual clock, memory key store, key manager, issuer, verifier.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use baas_auth::keys::{KeyManager, KeyRing, KeyStore, MemoryKeyStore, Rotation, StoredKey};
use baas_auth::{
    AccessClaims, AuthError, IssuedToken, MemoryRevocations, TokenConfig, TokenIssuer,
    TokenRequest, TokenVerifier,
};
use baas_core::{ManualClock, MasterKey, SharedClock, TenantId};
use jsonwebtoken::{EncodingKey, Header};

pub const ISSUER: &str = "https://id.example.com";
pub const AUDIENCE: &str = "https://api.example.com";

/// A key store that counts `list` calls (each is a reload).
#[derive(Debug, Default)]
pub struct CountingStore {
    pub inner: MemoryKeyStore,
    pub lists: AtomicUsize,
}

impl CountingStore {
    pub async fn inner_list(&self) -> Vec<StoredKey> {
        self.inner.list().await.unwrap()
    }

    pub fn lists(&self) -> usize {
        self.lists.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl KeyStore for CountingStore {
    async fn list(&self) -> Result<Vec<StoredKey>, AuthError> {
        self.lists.fetch_add(1, Ordering::SeqCst);
        self.inner.list().await
    }
    async fn initialise(&self, current: StoredKey, next: StoredKey) -> Result<bool, AuthError> {
        self.inner.initialise(current, next).await
    }
    async fn rotate(&self, rotation: Rotation) -> Result<(), AuthError> {
        self.inner.rotate(rotation).await
    }
    async fn retire_expired(&self, now: std::time::SystemTime) -> Result<Vec<String>, AuthError> {
        self.inner.retire_expired(now).await
    }
}

pub struct Fixture {
    pub clock: ManualClock,
    pub config: TokenConfig,
    pub store: Arc<CountingStore>,
    pub master: MasterKey,
    pub keys: Arc<KeyManager>,
    pub issuer: TokenIssuer,
    pub revocations: Arc<MemoryRevocations>,
    pub verifier: TokenVerifier,
}

pub fn acme() -> TenantId {
    TenantId::new("acme").unwrap()
}

pub fn request(session: &str) -> TokenRequest {
    TokenRequest {
        subject: "user-1".into(),
        tenant: acme(),
        roles: vec!["member".into()],
        session_id: session.into(),
        client_id: "web".into(),
    }
}

impl Fixture {
    pub async fn new() -> Self {
        Self::with_config(TokenConfig::new(ISSUER, AUDIENCE)).await
    }

    pub async fn with_config(config: TokenConfig) -> Self {
        let clock = ManualClock::new();
        let store = Arc::new(CountingStore::default());
        let master = MasterKey::generate();
        let keys = Arc::new(KeyManager::new(
            store.clone(),
            master.clone(),
            clock.shared(),
            config.clone(),
        ));
        keys.ensure().await.unwrap();
        let issuer = TokenIssuer::new(keys.clone(), clock.shared());
        let revocations = Arc::new(MemoryRevocations::new());
        let verifier = Self::verifier_on(&store, &revocations, clock.shared(), config.clone());
        Fixture {
            clock,
            config,
            store,
            master,
            keys,
            issuer,
            revocations,
            verifier,
        }
    }

    pub fn verifier_on(
        store: &Arc<CountingStore>,
        revocations: &Arc<MemoryRevocations>,
        clock: SharedClock,
        config: TokenConfig,
    ) -> TokenVerifier {
        let ring = Arc::new(KeyRing::new(store.clone(), clock.clone(), config.clone()));
        TokenVerifier::new(ring, revocations.clone(), clock, config)
    }

    /// Another verifier (as in another process) on the same store with `config`.
    pub fn verifier_with(&self, config: TokenConfig) -> TokenVerifier {
        Self::verifier_on(&self.store, &self.revocations, self.clock.shared(), config)
    }

    pub async fn issue(&self) -> IssuedToken {
        self.issuer.issue(&request("s1")).await.unwrap()
    }

    /// The current key's private half, opened, as an attacker who stole it would hold it
    /// (used to sign tokens the verifier must refuse for other reasons).
    pub async fn current_private(&self) -> (String, EncodingKey) {
        let keys = self.store.inner.list().await.unwrap();
        let current = keys
            .iter()
            .find(|k| k.state == baas_auth::keys::KeyState::Current)
            .unwrap();
        let pkcs8 = self
            .master
            .open(
                current.sealed_private.as_ref().unwrap(),
                current.kid.as_bytes(),
            )
            .unwrap();
        (current.kid.clone(), EncodingKey::from_ed_der(&pkcs8))
    }

    /// Valid claims for now.
    pub fn claims(&self) -> AccessClaims {
        let now = baas_core::Clock::unix_seconds(&self.clock);
        AccessClaims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: "user-1".into(),
            client_id: "web".into(),
            exp: now + 900,
            nbf: now,
            iat: now,
            jti: "j1".into(),
            tenant: acme(),
            roles: vec!["member".into()],
            sid: "s1".into(),
        }
    }

    /// Sign `claims` with the real current key and a header built by `edit`.
    pub async fn sign(&self, claims: &AccessClaims, edit: impl FnOnce(&mut Header)) -> String {
        let (kid, key) = self.current_private().await;
        let mut header = Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.typ = Some("at+jwt".into());
        header.kid = Some(kid);
        edit(&mut header);
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }
}
