//! The bounded verification cache: SHA-256 of the whole token → the verified result.
//!
//! Two generations of a hash map: inserts go to the young one; when it is full, the old
//! generation is dropped and the young one becomes old. A hit in the old generation is
//! moved to the young one. So the cache never holds more than `capacity` entries and
//! keeps the recently used ones — an LRU approximation at the cost of two map lookups.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use sha2::{Digest as _, Sha256};

use super::verifier::VerifiedToken;

pub(crate) type TokenHash = [u8; 32];

pub(crate) fn hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

#[derive(Debug)]
pub(crate) struct VerifyCache {
    half: usize,
    maps: Mutex<Generations>,
}

#[derive(Debug, Default)]
struct Generations {
    young: HashMap<TokenHash, Arc<VerifiedToken>>,
    old: HashMap<TokenHash, Arc<VerifiedToken>>,
}

impl VerifyCache {
    /// A cache of at most `capacity` entries; `None` when `capacity` is 0.
    pub(crate) fn new(capacity: usize) -> Option<Self> {
        (capacity > 0).then(|| VerifyCache {
            half: capacity.div_ceil(2),
            maps: Mutex::new(Generations::default()),
        })
    }

    pub(crate) fn get(&self, key: &TokenHash) -> Option<Arc<VerifiedToken>> {
        let mut maps = self.maps.lock();
        if let Some(hit) = maps.young.get(key) {
            return Some(Arc::clone(hit));
        }
        let hit = maps.old.remove(key)?;
        Self::insert_young(&mut maps, self.half, *key, Arc::clone(&hit));
        Some(hit)
    }

    pub(crate) fn insert(&self, key: TokenHash, value: Arc<VerifiedToken>) {
        let mut maps = self.maps.lock();
        Self::insert_young(&mut maps, self.half, key, value);
    }

    pub(crate) fn remove(&self, key: &TokenHash) {
        let mut maps = self.maps.lock();
        maps.young.remove(key);
        maps.old.remove(key);
    }

    fn insert_young(
        maps: &mut Generations,
        half: usize,
        key: TokenHash,
        value: Arc<VerifiedToken>,
    ) {
        if maps.young.len() >= half && !maps.young.contains_key(&key) {
            maps.old = std::mem::take(&mut maps.young);
        }
        maps.young.insert(key, value);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        let maps = self.maps.lock();
        maps.young.len() + maps.old.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::AccessClaims;
    use baas_core::{Principal, PrincipalKind, TenantId};

    fn entry(n: u64) -> Arc<VerifiedToken> {
        let tenant = TenantId::new("t").unwrap();
        Arc::new(VerifiedToken {
            principal: Principal::new("u", tenant.clone(), PrincipalKind::User),
            claims: AccessClaims {
                iss: "i".into(),
                aud: "a".into(),
                sub: "u".into(),
                client_id: "c".into(),
                exp: n,
                nbf: 0,
                iat: 0,
                jti: n.to_string(),
                tenant,
                roles: vec![],
                sid: "s".into(),
            },
            kid: Arc::from("k"),
        })
    }

    #[test]
    fn bounded_and_keeps_recently_used_entries() {
        let cache = VerifyCache::new(10).unwrap();
        let keys: Vec<TokenHash> = (0..100u64).map(|n| hash(&n.to_string())).collect();
        cache.insert(keys[0], entry(0));
        for (n, key) in keys.iter().enumerate().skip(1) {
            cache.insert(*key, entry(n as u64));
            // Touch the first entry every time: it must survive.
            assert!(cache.get(&keys[0]).is_some(), "evicted at {n}");
            assert!(cache.len() <= 10, "{}", cache.len());
        }
        assert!(cache.get(&keys[1]).is_none());
        assert_eq!(cache.get(&keys[99]).unwrap().claims.exp, 99);
        cache.remove(&keys[99]);
        assert!(cache.get(&keys[99]).is_none());
        assert!(VerifyCache::new(0).is_none());
    }
}
