//! Buckets in memory: every bucket's `BucketState` (name, creation time, region, owner and its
//! parsed configuration documents), loaded when the index opens, so that HeadBucket,
//! GetBucketLocation, ListBuckets, a handler's "does the bucket exist" and authorization (the
//! bucket policy) are a read lock and an `Arc` clone: no SQLite, no parsing.
//!
//! Invariant: the map equals the committed `buckets` and `bucket_configs` tables after every
//! acknowledged write. Every write that changes them (CreateBucket, DeleteBucket, a
//! configuration put or delete) runs as one spawned task that holds `Buckets::writes` from
//! before its transaction is queued until its outcome is in the map. Holding the lock orders
//! the map's updates as the commits are ordered; spawning makes the pair finish even when the
//! request that asked for it is dropped mid-way (a client hanging up), which would otherwise
//! leave a committed write out of the map: a deleted bucket's policy applying to a bucket of
//! the same name created later, or a created bucket answering NoSuchBucket.
//!
//! Object writes do not take the lock. They check the bucket again inside their transaction
//! (`require_bucket`), so a PutObject racing DeleteBucket either commits first (and the
//! deletion finds the bucket not empty) or fails with NoSuchBucket, whatever the map said when
//! the request began. The map is the fast path that refuses a request before its body is read,
//! and what reads rely on: a read that finds the bucket in the map and then no row reads the
//! bucket as it was just before its deletion, which was empty.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::db::sql::{Connection, OptionalExtension};
use crate::db::Db;

use super::bucket_config::{BucketConfig, BucketConfigs};
use super::{blob_at, now_ms, require_bucket, IndexError, IndexResult, ObjectIndex};
use crate::db::DbError;
use crate::storage::BlobId;

/// A bucket as committed, with its configuration documents parsed. Immutable: a change
/// replaces the whole `Arc` in the map, so a request keeps one consistent view of its bucket.
#[derive(Debug, Clone)]
pub struct BucketState {
    pub name: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// The LocationConstraint it was created with (or `backend.s3.region`).
    pub region: String,
    /// The account that created it. `None` for buckets created before owners were recorded:
    /// they belong to the one account LabStore serves.
    pub owner: Option<String>,
    pub configs: BucketConfigs,
}

/// Every bucket by name, as write tasks see it (under the write lock).
#[derive(Default)]
pub(super) struct BucketMap(HashMap<String, Arc<BucketState>>);

impl BucketMap {
    fn insert(&mut self, state: BucketState) {
        self.0.insert(state.name.clone(), Arc::new(state));
    }

    fn remove(&mut self, name: &str) {
        self.0.remove(name);
    }

    /// Replaces the bucket's state with one whose configurations `change` has changed. The
    /// bucket is there: the write checked it in the transaction that just committed, and no
    /// deletion can have committed since (it would have waited for the lock).
    pub(super) fn update(&mut self, name: &str, change: impl FnOnce(&mut BucketConfigs)) {
        if let Some(state) = self.0.get_mut(name) {
            *state = Arc::new(state.with_configs(change));
        }
    }
}

/// The in-memory copy of every bucket.
#[derive(Default)]
pub(super) struct Buckets {
    /// Readers hold the lock only to clone an `Arc` (or, for ListBuckets, every `Arc`).
    map: RwLock<BucketMap>,
    /// Held across a bucket write and its map update; see the module comment.
    writes: tokio::sync::Mutex<()>,
}

impl Buckets {
    /// Every bucket and every configuration document, read at open.
    pub(super) fn load(db: &Db) -> Result<Buckets, DbError> {
        db.read_now(Buckets::read_all)
    }

    fn read_all(conn: &Connection) -> Result<Buckets, DbError> {
        let mut map = HashMap::new();
        let mut stmt = conn.prepare("SELECT name, created_at, region, owner FROM buckets")?;
        let rows = stmt.query_map([], |r| {
            Ok(BucketState {
                name: r.get(0)?,
                created_at: r.get(1)?,
                region: r.get(2)?,
                owner: r.get(3)?,
                configs: BucketConfigs::default(),
            })
        })?;
        for state in rows {
            let state = state?;
            map.insert(state.name.clone(), state);
        }
        let mut stmt = conn.prepare("SELECT bucket, kind, document FROM bucket_configs")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
        })?;
        for row in rows {
            let (bucket, kind, document) = row?;
            // The foreign key keeps every row's bucket in `buckets`.
            if let Some(state) = map.get_mut(&bucket) {
                state.configs.load(&bucket, &kind, document);
            }
        }
        let map = map.into_iter().map(|(k, v)| (k, Arc::new(v))).collect();
        Ok(Buckets {
            map: RwLock::new(BucketMap(map)),
            writes: tokio::sync::Mutex::new(()),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BucketMap> {
        // A panic while the lock was held left no half-done map: every update is one insert or
        // remove of a whole `Arc`.
        self.map
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BucketMap> {
        self.map
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl ObjectIndex {
    /// The bucket as last committed, if it exists. Cheap: a read lock and an `Arc` clone.
    pub fn bucket_state(&self, name: &str) -> Option<Arc<BucketState>> {
        self.buckets.read().0.get(name).cloned()
    }

    /// The bucket as last committed; `NoSuchBucket` when it does not exist. What a handler
    /// calls before it reads a body or the index.
    pub fn bucket(&self, name: &str) -> IndexResult<Arc<BucketState>> {
        self.bucket_state(name).ok_or(IndexError::NoSuchBucket)
    }

    /// Every bucket, by name.
    pub fn list_buckets(&self) -> Vec<Arc<BucketState>> {
        let mut all: Vec<_> = self.buckets.read().0.values().cloned().collect();
        all.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        all
    }

    /// Creates a bucket with no configuration. `BucketExists` when the name is taken.
    pub async fn create_bucket(
        &self,
        name: String,
        region: String,
        owner: String,
    ) -> IndexResult<()> {
        self.create_bucket_with(name, region, owner, Vec::new())
            .await
    }

    /// Creates a bucket with the configuration documents it starts with (its Object
    /// Ownership, Block Public Access, ACL), in the same commit: no request sees the bucket
    /// without them. `BucketExists` when the name is taken.
    pub async fn create_bucket_with(
        &self,
        name: String,
        region: String,
        owner: String,
        configs: Vec<BucketConfig>,
    ) -> IndexResult<()> {
        let mut state = BucketState {
            name,
            created_at: now_ms(),
            region,
            owner: Some(owner),
            configs: BucketConfigs::default(),
        };
        let rows: Vec<(&'static str, String)> = configs
            .iter()
            .map(|c| (c.kind().name(), c.document().to_owned()))
            .collect();
        for config in configs {
            state.configs.set(config);
        }
        let row = state.clone();
        let work = move |conn: &Connection| {
            let inserted = conn.cached_execute(
                "INSERT INTO buckets (name, created_at, region, owner) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                (&row.name, row.created_at, &row.region, &row.owner),
            )?;
            if inserted == 0 {
                return Err(IndexError::BucketExists);
            }
            for (kind, document) in &rows {
                conn.cached_execute(
                    "INSERT INTO bucket_configs (bucket, kind, document, updated_at) VALUES (?1, ?2, ?3, ?4)",
                    (&row.name, kind, document, row.created_at),
                )?;
            }
            Ok(())
        };
        self.write_buckets(work, move |map, _| map.insert(state))
            .await
    }

    /// Deletes a bucket that holds no object, with its configuration, so that a bucket
    /// created later under the same name starts without any. Multipart uploads still in
    /// progress do not keep it: they are aborted in the same transaction, as S3 does, and
    /// their parts' blobs returned for the caller to remove after the commit.
    pub async fn delete_bucket(&self, name: String) -> IndexResult<Vec<BlobId>> {
        let bucket = name.clone();
        let work = move |conn: &Connection| {
            require_bucket(conn, &bucket)?;
            let busy: Option<i64> = conn
                .cached_row(
                    "SELECT 1 WHERE EXISTS (SELECT 1 FROM objects WHERE bucket = ?1)",
                    [&bucket],
                    |r| r.get(0),
                )
                .optional()?;
            if busy.is_some() {
                return Err(IndexError::BucketNotEmpty);
            }
            let mut parts = conn.prepare_cached(
                "SELECT p.blob FROM parts p JOIN uploads u ON u.id = p.upload_id WHERE u.bucket = ?1 AND p.blob IS NOT NULL",
            )?;
            let blobs = parts
                .query_map([&bucket], |r| blob_at(r, 0))?
                .collect::<Result<Vec<_>, _>>()?;
            // Parts go with their uploads (ON DELETE CASCADE).
            conn.cached_execute("DELETE FROM uploads WHERE bucket = ?1", [&bucket])?;
            conn.cached_execute("DELETE FROM bucket_configs WHERE bucket = ?1", [&bucket])?;
            conn.cached_execute("DELETE FROM buckets WHERE name = ?1", [&bucket])?;
            Ok(blobs)
        };
        self.write_buckets(work, move |map, _| map.remove(&name))
            .await
    }

    /// Every bucket and its configuration read again, whole: another node changed them
    /// (`crate::cluster`). Under the bucket write lock, so no write of this node's interleaves.
    pub async fn reload_buckets(&self) -> IndexResult<()> {
        let _serial = self.buckets.writes.lock().await;
        let fresh = self
            .db
            .read(|conn| Buckets::read_all(conn).map_err(IndexError::from))
            .await?;
        let map = fresh
            .map
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *self.buckets.write() = map;
        Ok(())
    }

    /// Commits `work`, then applies `update` to the map before answering. A failed `work` was
    /// rolled back and leaves the map as it was. See the module comment for the lock and the
    /// spawned task.
    pub(super) async fn write_buckets<T, F, U>(&self, work: F, update: U) -> IndexResult<T>
    where
        F: FnOnce(&Connection) -> IndexResult<T> + Send + 'static,
        U: FnOnce(&mut BucketMap, &T) + Send + 'static,
        T: Send + 'static,
    {
        let index = self.clone();
        let task = tokio::spawn(async move {
            let _serial = index.buckets.writes.lock().await;
            let done = index
                .db
                .write(|conn| {
                    let done = work(conn)?;
                    // The other nodes read the buckets again once this commits (PostgreSQL).
                    crate::cluster::notify(conn, crate::cluster::Change::Buckets)?;
                    Ok::<T, IndexError>(done)
                })
                .await?;
            update(&mut index.buckets.write(), &done);
            Ok(done)
        });
        match task.await {
            Ok(result) => result,
            Err(_) => Err(IndexError::Db(DbError::TaskPanicked)),
        }
    }
}
