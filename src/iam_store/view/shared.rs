//! A map shared between successive views, in shards: an update copies the table of shards
//! (64 pointers) and the shards it changes, not the whole map, so that replacing one user
//! costs the same with ten users or a hundred thousand. Readers pay one short hash more.

use std::collections::HashMap;
use std::sync::Arc;

const SHARDS: usize = 64;

type Shard<V> = Arc<HashMap<Arc<str>, V>>;

#[derive(Debug, Clone)]
pub(super) struct Shared<V> {
    shards: Arc<[Shard<V>; SHARDS]>,
    len: usize,
}

impl<V> Default for Shared<V> {
    fn default() -> Self {
        Shared {
            shards: Arc::new(std::array::from_fn(|_| Arc::default())),
            len: 0,
        }
    }
}

/// FNV-1a over the key's bytes: cheap for short keys, and spreads names that differ only in
/// a digit.
fn shard_of(key: &str) -> usize {
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    usize::try_from(hash % SHARDS as u64).expect("a shard index is below SHARDS")
}

impl<V: Clone> Shared<V> {
    pub fn get(&self, key: &str) -> Option<&V> {
        self.shards[shard_of(key)].get(key)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.shards[shard_of(key)].contains_key(key)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The shard `key` belongs in, copied first if another view shares it.
    fn shard_mut(&mut self, key: &str) -> &mut HashMap<Arc<str>, V> {
        let shards = Arc::make_mut(&mut self.shards);
        Arc::make_mut(&mut shards[shard_of(key)])
    }

    pub fn insert(&mut self, key: Arc<str>, value: V) {
        if self.shard_mut(&key).insert(key, value).is_none() {
            self.len += 1;
        }
    }

    /// Removes `key`; copies nothing when it is absent.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        if !self.contains_key(key) {
            return None;
        }
        let removed = self.shard_mut(key).remove(key);
        self.len -= usize::from(removed.is_some());
        removed
    }

    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &V)> {
        self.shards.iter().flat_map(|shard| shard.iter())
    }

    /// How many shards `self` shares with `other`.
    #[cfg(test)]
    pub fn shared_shards(&self, other: &Shared<V>) -> usize {
        self.shards
            .iter()
            .zip(other.shards.iter())
            .filter(|(a, b)| Arc::ptr_eq(a, b))
            .count()
    }
}
