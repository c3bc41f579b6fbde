//! Bucket configuration documents: one table, `bucket_configs (bucket, kind, document)`, and
//! one write path for every kind. A bucket's `BucketState` holds the parsed form of each of its
//! documents, so that the request path never reads SQLite or parses a document.
//!
//! Adding a kind: one line in `config_kinds!` below (variant, field, stored name, type) and a
//! type implementing `ConfigDocument` (its load-time parse and its stored text). The handler
//! validates the client's document, builds the type, and calls `put_bucket_config`; it reads
//! the parsed form from `BucketState::configs`. No migration is needed.

use std::sync::Arc;

use crate::db::sql::Connection;

use super::buckets::BucketState;
use super::{now_ms, require_bucket, IndexResult, ObjectIndex};

/// A configuration kind's parsed form, as kept in memory.
pub trait ConfigDocument: Sized {
    /// A stored document, parsed again when the index opens. It never fails: every stored
    /// document passed validation when it was written, so a failure means damage or a stricter
    /// parser, and each kind decides what is safe then (a policy denies everything).
    fn load(bucket: &str, document: String) -> Self;

    /// The text stored: what the kind's Get operation returns, or renders its answer from.
    fn document(&self) -> &str;
}

/// Declares the configuration kinds: `ConfigKind` (the `kind` column), `BucketConfig` (one
/// parsed document of any kind) and `BucketConfigs` (a bucket's documents, a field per kind).
macro_rules! config_kinds {
    ($($(#[$doc:meta])* $variant:ident, $field:ident, $name:literal, $ty:ty;)+) => {
        /// What a configuration document configures; stored by `name` in `bucket_configs.kind`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ConfigKind {
            $($(#[$doc])* $variant,)+
        }

        impl ConfigKind {
            pub const ALL: &'static [ConfigKind] = &[$(ConfigKind::$variant,)+];

            /// The value of `bucket_configs.kind`; never change one once released.
            pub fn name(self) -> &'static str {
                match self {
                    $(ConfigKind::$variant => $name,)+
                }
            }

            pub fn from_name(name: &str) -> Option<ConfigKind> {
                ConfigKind::ALL.iter().copied().find(|kind| kind.name() == name)
            }
        }

        /// One configuration document, parsed.
        #[derive(Debug, Clone)]
        pub enum BucketConfig {
            $($(#[$doc])* $variant(Arc<$ty>),)+
        }

        impl BucketConfig {
            pub fn kind(&self) -> ConfigKind {
                match self {
                    $(BucketConfig::$variant(_) => ConfigKind::$variant,)+
                }
            }

            /// The text to store.
            pub fn document(&self) -> &str {
                match self {
                    $(BucketConfig::$variant(config) => config.document(),)+
                }
            }

            /// A stored row, as read at open.
            fn load(kind: ConfigKind, bucket: &str, document: String) -> BucketConfig {
                match kind {
                    $(ConfigKind::$variant => {
                        BucketConfig::$variant(Arc::new(<$ty>::load(bucket, document)))
                    })+
                }
            }
        }

        /// A bucket's configuration documents, parsed: `None` where it has none of a kind.
        #[derive(Debug, Clone, Default)]
        pub struct BucketConfigs {
            $($(#[$doc])* pub $field: Option<Arc<$ty>>,)+
        }

        impl BucketConfigs {
            pub(super) fn set(&mut self, config: BucketConfig) {
                match config {
                    $(BucketConfig::$variant(config) => self.$field = Some(config),)+
                }
            }

            pub(super) fn remove(&mut self, kind: ConfigKind) {
                match kind {
                    $(ConfigKind::$variant => self.$field = None,)+
                }
            }
        }
    };
}

config_kinds! {
    /// The bucket policy: authorization evaluates it on every request to the bucket.
    Policy, policy, "policy", super::BucketPolicy;
    /// The bucket's tags (PutBucketTagging): served by GetBucketTagging.
    Tagging, tagging, "tagging", super::BucketTagging;
    /// S3 Object Ownership: whether ACLs apply. None on buckets created before it existed,
    /// which behave as `ObjectWriter` (ACLs apply), as S3's older buckets do.
    Ownership, ownership, "ownership", super::OwnershipControls;
    /// Block Public Access: None on buckets created before it existed (nothing blocked).
    PublicAccessBlock, public_access_block, "public_access_block", super::PublicAccessBlock;
    /// The bucket's ACL. None: the owner's FULL_CONTROL only.
    Acl, acl, "acl", super::BucketAcl;
    /// The versioning status. None: never versioned. Writes read it inside their transaction
    /// (`versions`), not from here.
    Versioning, versioning, "versioning", super::Versioning;
    /// Object Lock: present when the bucket has it enabled (versioning then stays Enabled).
    ObjectLock, object_lock, "object_lock", super::ObjectLockConfig;
    /// Lifecycle rules: what the lifecycle worker applies, and `x-amz-expiration`.
    Lifecycle, lifecycle, "lifecycle", super::LifecycleConfig;
    /// The CORS rules (PutBucketCors): preflights and cross-origin requests are answered from
    /// them.
    Cors, cors, "cors", super::CorsConfig;
    /// Static website hosting: what the website endpoint serves for the bucket.
    Website, website, "website", super::BucketWebsite;
    /// Default encryption (PutBucketEncryption): SSE-S3 for writes that do not ask.
    Encryption, encryption, "encryption", super::BucketEncryption;
}

impl BucketConfigs {
    /// A stored row added at open; a kind this binary does not know (a damaged row: a database
    /// written by a newer binary is refused before this) is logged and left out.
    pub(super) fn load(&mut self, bucket: &str, kind: &str, document: String) {
        match ConfigKind::from_name(kind) {
            Some(kind) => self.set(BucketConfig::load(kind, bucket, document)),
            None => tracing::error!(
                bucket,
                kind,
                "a stored bucket configuration of a kind this binary does not know; ignored"
            ),
        }
    }
}

impl ObjectIndex {
    /// Stores `config` as the bucket's document of its kind, replacing any, and puts its parsed
    /// form into the bucket's state before answering. `NoSuchBucket` when the bucket does not
    /// exist. The caller has validated the document.
    pub async fn put_bucket_config(&self, bucket: String, config: BucketConfig) -> IndexResult<()> {
        let name = bucket.clone();
        let kind = config.kind().name();
        let document = config.document().to_owned();
        let work = move |conn: &Connection| {
            require_bucket(conn, &name)?;
            conn.cached_execute(
                "INSERT INTO bucket_configs (bucket, kind, document, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (bucket, kind) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at",
                (&name, kind, &document, now_ms()),
            )?;
            Ok(())
        };
        self.write_buckets(work, move |map, _| {
            map.update(&bucket, |configs| configs.set(config))
        })
        .await
    }

    /// Removes the bucket's document of `kind`; succeeds when it had none, as S3 does for the
    /// Delete operations. `NoSuchBucket` when the bucket does not exist.
    pub async fn delete_bucket_config(&self, bucket: String, kind: ConfigKind) -> IndexResult<()> {
        let name = bucket.clone();
        let work = move |conn: &Connection| {
            require_bucket(conn, &name)?;
            conn.cached_execute(
                "DELETE FROM bucket_configs WHERE bucket = ?1 AND kind = ?2",
                (&name, kind.name()),
            )?;
            Ok(())
        };
        self.write_buckets(work, move |map, _| {
            map.update(&bucket, |configs| configs.remove(kind))
        })
        .await
    }
}

impl BucketState {
    /// A copy of this state with `change` applied to its configurations.
    pub(super) fn with_configs(&self, change: impl FnOnce(&mut BucketConfigs)) -> BucketState {
        let mut state = self.clone();
        change(&mut state.configs);
        state
    }
}
