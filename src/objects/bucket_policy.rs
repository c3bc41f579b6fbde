//! Bucket policies: one JSON document per bucket in `bucket_policies`, and an in-memory copy
//! of every one of them, parsed and compiled, so that authorizing a request neither queries
//! SQLite nor parses JSON.
//!
//! Invariant: the copy equals the committed table after every acknowledged write. Every write
//! that changes a bucket's policy (PutBucketPolicy, DeleteBucketPolicy, DeleteBucket) runs as
//! one spawned task that holds `PolicyCache::writes` from before its transaction is queued until
//! its outcome is in the copy. Holding the lock orders the copy's updates as the commits are
//! ordered; spawning makes the pair finish even when the request that asked for it is dropped
//! mid-way (a client hanging up), which would otherwise leave a committed write out of the
//! copy — a deleted bucket's policy applying to a bucket of the same name created later.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use rusqlite::{Connection, OpenFlags};

use super::{now_ms, require_bucket, IndexError, IndexResult, ObjectIndex};
use crate::db::DbError;
use crate::policy::document::{
    self, ActionSpec, Effect, PolicyDocument, PolicyKind, PrincipalSpec, Principals, ResourceSpec,
    Statement, Version,
};
use crate::policy::eval::CompiledPolicy;

/// A bucket's policy: the document as the client sent it, and its compiled form.
#[derive(Debug)]
pub struct BucketPolicy {
    /// Returned by GetBucketPolicy byte for byte.
    pub text: String,
    /// What the authorizer evaluates.
    pub compiled: CompiledPolicy,
}

impl BucketPolicy {
    /// A policy from a document the caller has already parsed and validated.
    pub fn new(text: String, document: &PolicyDocument) -> BucketPolicy {
        BucketPolicy {
            text,
            compiled: CompiledPolicy::compile(document),
        }
    }

    /// A stored document, parsed again at startup. Every stored document passed validation
    /// when it was written, so a failure here means the table was damaged or a newer parser
    /// is stricter. Such a policy denies every request to the bucket: losing access until the
    /// policy is replaced or deleted is safer than granting what the owner may have denied.
    fn load(bucket: &str, text: String) -> BucketPolicy {
        match document::parse(&text, PolicyKind::Resource) {
            Ok(document) => BucketPolicy::new(text, &document),
            Err(e) => {
                tracing::error!(
                    bucket,
                    error = %e,
                    "the stored bucket policy does not parse; denying every request to the bucket until it is replaced or deleted"
                );
                BucketPolicy {
                    text,
                    compiled: CompiledPolicy::compile(&deny_everything()),
                }
            }
        }
    }
}

/// `Deny` of every action on every resource to everyone.
fn deny_everything() -> PolicyDocument {
    PolicyDocument {
        version: Version::V2012_10_17,
        id: None,
        statements: vec![Statement {
            sid: Some("UnreadableStoredPolicy".into()),
            effect: Effect::Deny,
            actions: ActionSpec::Action(vec!["*".into()]),
            resources: Some(ResourceSpec::Resource(vec!["*".into()])),
            principals: Some(PrincipalSpec::Principal(Principals::Any)),
            conditions: Vec::new(),
        }],
    }
}

/// The in-memory copy of every bucket policy.
#[derive(Default)]
pub(super) struct PolicyCache {
    /// Bucket name -> policy. Readers hold the lock only to clone an `Arc`.
    policies: RwLock<HashMap<String, Arc<BucketPolicy>>>,
    /// Held across a policy write and its copy update; see the module comment.
    writes: tokio::sync::Mutex<()>,
}

impl PolicyCache {
    /// Every stored policy, read at open through a read-only connection of its own (the read
    /// pool is async and `ObjectIndex::open` is not).
    pub(super) fn load(path: &Path) -> Result<PolicyCache, DbError> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let mut stmt = conn.prepare("SELECT bucket, policy FROM bucket_policies")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut policies = HashMap::new();
        for row in rows {
            let (bucket, text) = row?;
            let policy = BucketPolicy::load(&bucket, text);
            policies.insert(bucket, Arc::new(policy));
        }
        Ok(PolicyCache {
            policies: RwLock::new(policies),
            writes: tokio::sync::Mutex::new(()),
        })
    }

    fn get(&self, bucket: &str) -> Option<Arc<BucketPolicy>> {
        let policies = match self.policies.read() {
            Ok(policies) => policies,
            Err(poisoned) => poisoned.into_inner(),
        };
        policies.get(bucket).cloned()
    }

    fn set(&self, bucket: String, policy: Option<Arc<BucketPolicy>>) {
        let mut policies = match self.policies.write() {
            Ok(policies) => policies,
            Err(poisoned) => poisoned.into_inner(),
        };
        match policy {
            Some(policy) => policies.insert(bucket, policy),
            None => policies.remove(&bucket),
        };
    }
}

impl ObjectIndex {
    /// The bucket's policy as last committed, if it has one. Cheap: a read lock and an `Arc`
    /// clone; no SQLite, no parsing. Meant for the request path (authorization).
    pub fn bucket_policy(&self, bucket: &str) -> Option<Arc<BucketPolicy>> {
        self.policies.get(bucket)
    }

    /// Sets (or replaces) the bucket's policy. `NoSuchBucket` when the bucket does not exist.
    pub async fn put_bucket_policy(&self, bucket: String, policy: BucketPolicy) -> IndexResult<()> {
        let text = policy.text.clone();
        let name = bucket.clone();
        self.write_policy(bucket, Some(Arc::new(policy)), move |conn| {
            require_bucket(conn, &name)?;
            conn.execute(
                "INSERT INTO bucket_policies (bucket, policy, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (bucket) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at",
                (&name, &text, now_ms()),
            )?;
            Ok(())
        })
        .await
    }

    /// Removes the bucket's policy; succeeds when it had none, as S3 does. `NoSuchBucket` when
    /// the bucket does not exist.
    pub async fn delete_bucket_policy(&self, bucket: String) -> IndexResult<()> {
        let name = bucket.clone();
        self.write_policy(bucket, None, move |conn| {
            require_bucket(conn, &name)?;
            conn.execute("DELETE FROM bucket_policies WHERE bucket = ?1", [&name])?;
            Ok(())
        })
        .await
    }

    /// Commits `work`, after which `bucket` has the policy `after` (`None`: no policy), and
    /// puts that into the in-memory copy before answering. A failed `work` was rolled back and
    /// leaves the copy as it was. See the module comment for the lock and the spawned task.
    pub(super) async fn write_policy<F>(
        &self,
        bucket: String,
        after: Option<Arc<BucketPolicy>>,
        work: F,
    ) -> IndexResult<()>
    where
        F: FnOnce(&Connection) -> IndexResult<()> + Send + 'static,
    {
        let index = self.clone();
        let task = tokio::spawn(async move {
            let _serial = index.policies.writes.lock().await;
            index.db.write(work).await?;
            index.policies.set(bucket, after);
            Ok(())
        });
        match task.await {
            Ok(result) => result,
            Err(_) => Err(IndexError::Db(DbError::TaskPanicked)),
        }
    }
}

#[cfg(test)]
mod tests;
