//! Derived SigV4 signing keys, kept so that a request costs one HMAC rather than five. State
//! (a shared map), so it lives beside the pure `sigv4` core rather than in it: `authenticate`
//! takes the key from here and hands it to `sigv4::verify`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use zeroize::Zeroizing;

use super::sigv4::{signing_key, Credential};
use crate::crypto::Secret;

/// Past this many derived keys the cache starts over: it bounds memory whatever access keys,
/// dates and regions clients make up, and a refill costs four HMACs per entry.
const CACHE_CAPACITY: usize = 4096;

/// Keyed by the whole credential scope, what a derived key is valid for: looking a presented
/// credential up then copies nothing.
type KeyMap = HashMap<Credential, Zeroizing<[u8; 32]>>;

/// Derived signing keys, cached by (access key id, date, region, service) because deriving
/// costs four HMACs per request. Bounded: past 4096 entries it is cleared. Thread-safe: a std
/// `Mutex` held only for a lookup or an insert, never while deriving. Keys are wiped when
/// dropped or cleared.
///
/// Invariant: an access key id names one secret for its whole life (AWS never changes a key's
/// secret), so the secret is not part of the cache key. A deleted key must be `forget`-ten.
pub struct SigningKeyCache {
    keys: Mutex<KeyMap>,
}

impl SigningKeyCache {
    pub fn new() -> Self {
        SigningKeyCache {
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Drops every key derived for `access_key` (call it when the access key is deleted).
    pub fn forget(&self, access_key: &str) {
        self.lock()
            .retain(|scope, _| scope.access_key() != access_key);
    }

    /// The signing key for `credential`'s scope, derived from `secret` unless it is cached.
    pub fn signing_key(&self, credential: &Credential, secret: &Secret) -> Zeroizing<[u8; 32]> {
        if let Some(key) = self.lock().get(credential) {
            return key.clone();
        }
        let c = credential;
        let key = Zeroizing::new(signing_key(
            secret.expose(),
            c.date(),
            c.region(),
            c.service(),
        ));
        let mut keys = self.lock();
        if keys.len() >= CACHE_CAPACITY {
            keys.clear();
        }
        keys.insert(credential.clone(), key.clone());
        key
    }

    /// A panic elsewhere while holding the lock cannot leave the map half-updated in a way
    /// that matters (each entry is whole), so a poisoned lock is used as is.
    fn lock(&self) -> MutexGuard<'_, KeyMap> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for SigningKeyCache {
    fn default() -> Self {
        SigningKeyCache::new()
    }
}

impl fmt::Debug for SigningKeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyCache")
            .field("entries", &self.lock().len())
            .finish()
    }
}

#[cfg(test)]
mod tests;
