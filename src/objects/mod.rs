//! The object index (`data_dir/metadata/objects.db`): buckets, objects and the segments that
//! hold their bytes, and multipart uploads. Listings are answered from it.
//!
//! Invariant: a row refers only to committed blobs (see `storage`). Operations that stop
//! referring to blobs return their ids so the caller removes the files after the commit.
//!
//! Buckets live here too, each with its configuration documents, and in memory as
//! `BucketState`s (`buckets`, `bucket_config`, `bucket_policy`).

mod access;
mod bucket_config;
mod bucket_encryption;
mod bucket_policy;
mod bucket_stats;
mod bucket_tagging;
mod bucket_website;
mod buckets;
mod cors;
pub mod lifecycle;
pub mod list;
mod list_versions;
pub mod multipart;
mod object_lock;
pub mod scrub;
pub mod versions;

use std::sync::Arc;

use crate::db::sql::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::db::{Db, DbConfig, DbError, Migration};
use crate::storage::BlobId;
pub use access::{
    Acl, AclPermission, BucketAcl, Grant, Grantee, Ownership, OwnershipControls, PublicAccessBlock,
    PublicAccessSettings,
};
pub use bucket_config::{BucketConfig, BucketConfigs, ConfigDocument, ConfigKind};
pub use bucket_encryption::BucketEncryption;
pub use bucket_policy::BucketPolicy;
pub use bucket_stats::{BucketUsage, StorageStats};
pub use bucket_tagging::BucketTagging;
pub use bucket_website::{BucketWebsite, Redirect, RedirectAll, RoutingRule, WebsiteConfig};
pub use buckets::BucketState;
use buckets::Buckets;
pub use cors::{CorsConfig, CorsRule};
pub use lifecycle::LifecycleConfig;
pub use list::{Cursor, ListQuery, Listing, ObjectSummary};
pub use list_versions::{VersionEntry, VersionListing, VersionQuery};
pub use multipart::{Part, Upload};
pub use object_lock::{DefaultRetention, ObjectLockConfig, RetentionPeriod};
pub use versions::{
    retention_change_allowed, Deleted, LockState, Published, RetentionMode, VersionRef, Versioning,
    VersioningStatus,
};

pub static MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "index",
        sql: include_str!("../../migrations/objects/0001_index.sql"),
    },
    Migration {
        version: 2,
        name: "bucket_policies",
        sql: include_str!("../../migrations/objects/0002_bucket_policies.sql"),
    },
    Migration {
        version: 3,
        name: "bucket_configs",
        sql: include_str!("../../migrations/objects/0003_bucket_configs.sql"),
    },
    Migration {
        version: 4,
        name: "object_tags",
        sql: include_str!("../../migrations/objects/0004_object_tags.sql"),
    },
    Migration {
        version: 5,
        name: "object_acls",
        sql: include_str!("../../migrations/objects/0005_object_acls.sql"),
    },
    Migration {
        version: 6,
        name: "checksum_type",
        sql: include_str!("../../migrations/objects/0006_checksum_type.sql"),
    },
    Migration {
        version: 7,
        name: "storage_class",
        sql: include_str!("../../migrations/objects/0007_storage_class.sql"),
    },
    Migration {
        version: 8,
        name: "segment_part_numbers",
        sql: include_str!("../../migrations/objects/0008_segment_part_numbers.sql"),
    },
    Migration {
        version: 9,
        name: "versions",
        sql: include_str!("../../migrations/objects/0009_versions.sql"),
    },
    Migration {
        version: 10,
        name: "inline_data",
        sql: include_str!("../../migrations/objects/0010_inline_data.sql"),
    },
    Migration {
        version: 11,
        name: "lifecycle_progress",
        sql: include_str!("../../migrations/objects/0011_lifecycle_progress.sql"),
    },
    Migration {
        version: 12,
        name: "sse",
        sql: include_str!("../../migrations/objects/0012_sse.sql"),
    },
    Migration {
        version: 13,
        name: "bucket_stats",
        sql: include_str!("../../migrations/objects/0013_bucket_stats.sql"),
    },
    Migration {
        version: 14,
        name: "backup_holds",
        sql: include_str!("../../migrations/objects/0014_backup_holds.sql"),
    },
    Migration {
        version: 15,
        name: "scrub",
        sql: include_str!("../../migrations/objects/0015_scrub.sql"),
    },
];

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("no such bucket")]
    NoSuchBucket,
    #[error("bucket already exists")]
    BucketExists,
    #[error("bucket not empty")]
    BucketNotEmpty,
    #[error("no such key")]
    NoSuchKey,
    #[error("no such version")]
    NoSuchVersion,
    /// The version addressed is a delete marker: named by its id (`named`), or the newest
    /// row of a key whose current version was asked for.
    #[error("the version is a delete marker")]
    DeleteMarker { version_id: String, named: bool },
    /// Object Lock retention or a legal hold keeps the version.
    #[error("the version is protected by Object Lock")]
    ObjectLocked,
    /// Object Lock needs versioning Enabled on the bucket.
    #[error("versioning is not enabled on the bucket")]
    VersioningNotEnabled,
    /// The bucket has Object Lock: its versioning cannot be suspended.
    #[error("the bucket has Object Lock")]
    ObjectLockPresent,
    #[error("no such upload")]
    NoSuchUpload,
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("{0}")]
    InvalidPart(String),
    #[error("the list of parts was not in ascending order")]
    InvalidPartOrder,
    #[error("a part other than the last is smaller than the minimum allowed size")]
    EntityTooSmall,
    #[error("the object would be larger than 5 TiB")]
    EntityTooLarge,
    /// A scrub found the stored bytes of one of the version's segments corrupt or missing:
    /// they are never served (`scrub`).
    #[error("the object's stored bytes are damaged (found by a scrub)")]
    Damaged,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for IndexError {
    fn from(e: rusqlite::Error) -> IndexError {
        IndexError::Db(DbError::from(e))
    }
}

impl From<crate::db::sql::Error> for IndexError {
    fn from(e: crate::db::sql::Error) -> IndexError {
        IndexError::Db(DbError::Sql(e))
    }
}

pub type IndexResult<T> = Result<T, IndexError>;

/// The headers stored with an object and returned on GET/HEAD.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectHeaders {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// `x-amz-meta-*`: names lowercased without the prefix, in the order given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub meta: Vec<(String, String)>,
    /// The storage class the object (or upload) was written with, as sent; `None` for
    /// `STANDARD` (and for every object stored before classes were kept). Listings read it
    /// from the JSON with SQLite's `json_extract`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// `x-amz-website-redirect-location`: where the website endpoint redirects a request for
    /// the object (301).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website_redirect: Option<String>,
}

impl ObjectHeaders {
    /// The storage class, as S3 names it in listings.
    pub fn storage_class(&self) -> &str {
        self.storage_class.as_deref().unwrap_or("STANDARD")
    }
}

/// Where a segment's (or a part's) bytes are: a blob file, or the index row itself for an
/// object (or part) of at most `backend.s3.inline_max` bytes (`docs/inline.md`).
#[derive(Clone, PartialEq, Eq)]
pub enum Stored {
    Blob(BlobId),
    Inline(bytes::Bytes),
    /// Inline bytes a metadata read (`ObjectIndex::get_object`: HEAD, ACLs, attributes) left
    /// in the index. Never written back: only reads with the bytes (`get_object_bytes`) feed
    /// a body or a copy.
    Unread,
}

impl Stored {
    /// The blob file, when the bytes are in one.
    pub fn blob(&self) -> Option<&BlobId> {
        match self {
            Stored::Blob(id) => Some(id),
            Stored::Inline(_) | Stored::Unread => None,
        }
    }

    /// The `blob` and `data` columns; `None` for bytes this value does not hold.
    pub(crate) fn columns(&self) -> Option<(Option<&str>, Option<&[u8]>)> {
        match self {
            Stored::Blob(id) => Some((Some(id.as_str()), None)),
            Stored::Inline(data) => Some((None, Some(data))),
            Stored::Unread => None,
        }
    }

    /// Reads the `blob` and `data` columns at `blob` and `blob + 1` (exactly one is set: the
    /// tables' CHECK); a statement that did not select the bytes has NULL at `blob + 1`, and
    /// says so with `with_data` false.
    pub(crate) fn at(
        row: &crate::db::sql::Row<'_>,
        blob: usize,
        with_data: bool,
    ) -> crate::db::sql::Result<Stored> {
        match (row.get_ref(blob)?, with_data) {
            (crate::db::sql::ValueRef::Null, true) => Ok(Stored::Inline(
                bytes::Bytes::copy_from_slice(row.get_ref(blob + 1)?.as_blob()?),
            )),
            (crate::db::sql::ValueRef::Null, false) => Ok(Stored::Unread),
            _ => blob_at(row, blob).map(Stored::Blob),
        }
    }
}

/// Writing `Stored::Unread`: a bug in the caller, refused rather than stored without bytes.
pub(crate) fn unread() -> IndexError {
    IndexError::Db(DbError::Io {
        context: "writing a segment".into(),
        source: std::io::Error::other("its inline bytes were not read"),
    })
}

/// Inline bytes are object data: Debug shows their length only.
impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stored::Blob(id) => f.debug_tuple("Blob").field(id).finish(),
            Stored::Inline(data) => write!(f, "Inline({} bytes)", data.len()),
            Stored::Unread => f.write_str("Unread"),
        }
    }
}

/// A run of an object's bytes: one blob file, or inline in its row.
#[derive(Debug, Clone)]
pub struct Segment {
    pub stored: Stored,
    pub size: u64,
    /// The part's ETag (multipart objects), for `partNumber` reads.
    pub etag: Option<String>,
    pub checksum: Option<String>,
    /// The part number it was uploaded as (multipart objects); `None` means its position,
    /// `idx + 1` (a simple object, or a segment stored before numbers were kept).
    pub part_number: Option<u32>,
}

impl Segment {
    /// The part number of the segment at position `idx` (from 0) of its object.
    pub fn number(&self, idx: usize) -> u32 {
        self.part_number
            .unwrap_or_else(|| u32::try_from(idx + 1).unwrap_or(u32::MAX))
    }
}

#[derive(Debug, Clone)]
pub struct ObjectMeta {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    /// Without quotes.
    pub etag: String,
    /// Unix milliseconds.
    pub last_modified: i64,
    pub headers: ObjectHeaders,
    pub checksum_algorithm: Option<String>,
    pub checksum: Option<String>,
    /// `FULL_OBJECT` or `COMPOSITE` when there is a checksum (`s3::checksum::ChecksumType`).
    pub checksum_type: Option<String>,
    /// Part count of a multipart object.
    pub parts: Option<u32>,
    pub segments: Vec<Segment>,
    /// The object's ACL; `None` is the default, the owner's FULL_CONTROL only.
    pub acl: Option<Acl>,
    /// The object's tags, in the order they were given; empty when it has none.
    pub tags: Tags,
    /// The version's ordering id (`versions`); set by the write that publishes it.
    pub version: String,
    /// Whether this is the key's `null` version.
    pub null_version: bool,
    /// Object Lock retention and legal hold.
    pub lock: LockState,
    /// Server-side encryption: the sealed data key of an encrypted version
    /// (`docs/encryption.md`); `None` when its bytes are stored in plaintext.
    pub sse: Option<crate::crypto::sse::Record>,
}

impl ObjectMeta {
    /// The version id clients see (`null` for the null version).
    pub fn version_id(&self) -> String {
        versions::visible_id(&self.version, self.null_version)
    }

    /// A delete marker's row: no bytes, no headers.
    pub(crate) fn delete_marker(bucket: &str, key: &str) -> ObjectMeta {
        ObjectMeta {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            size: 0,
            etag: String::new(),
            last_modified: now_ms(),
            headers: ObjectHeaders::default(),
            checksum_algorithm: None,
            checksum: None,
            checksum_type: None,
            parts: None,
            segments: Vec::new(),
            acl: None,
            tags: Tags::new(),
            version: String::new(),
            null_version: false,
            lock: LockState::default(),
            sse: None,
        }
    }
}

/// An object's tag set: (key, value) pairs, keys distinct, in the order the client gave them.
/// Validated by the S3 layer before it reaches the index.
pub type Tags = Vec<(String, String)>;

/// The `tags` column: a JSON array of pairs, NULL for none.
pub(crate) fn encode_tags(tags: &Tags) -> Option<String> {
    (!tags.is_empty()).then(|| serde_json::to_string(tags).unwrap_or_else(|_| "[]".into()))
}

/// A stored `tags` column. A value that does not parse (damage) reads as no tags rather than
/// failing every read of the object; the tags were validated when they were written.
pub(crate) fn decode_tags(column: Option<String>) -> Tags {
    column
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// A conditional write (`If-None-Match: *`, `If-Match: <etag>`), checked inside the commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteCondition {
    Always,
    IfAbsent,
    IfEtag(String),
}

#[derive(Clone)]
pub struct ObjectIndex {
    db: Db,
    /// Every bucket with its configuration, for the request path.
    buckets: Arc<Buckets>,
    /// Storage per bucket, following `bucket_stats` (for `/metrics`).
    stats: Arc<StorageStats>,
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The blob id in `row`'s column `column`.
fn blob_at(row: &crate::db::sql::Row<'_>, column: usize) -> crate::db::sql::Result<BlobId> {
    BlobId::parse(&row.get::<_, String>(column)?).ok_or_else(|| {
        crate::db::sql::Error::Invalid(format!("column {column}: {}", "malformed blob id"))
    })
}

fn require_bucket(conn: &Connection, bucket: &str) -> IndexResult<()> {
    let found: Option<i64> = conn
        .cached_row("SELECT 1 FROM buckets WHERE name = ?1", [bucket], |r| {
            r.get(0)
        })
        .optional()?;
    found.map(|_| ()).ok_or(IndexError::NoSuchBucket)
}

/// Inserts a version's row and its segments (`versions` keeps the key's invariants).
fn insert_object(
    conn: &Connection,
    o: &ObjectMeta,
    current: bool,
    delete_marker: bool,
) -> IndexResult<()> {
    let headers = serde_json::to_string(&o.headers).map_err(|e| {
        IndexError::Db(DbError::Io {
            context: "encoding object headers".into(),
            source: std::io::Error::other(e),
        })
    })?;
    let acl = o.acl.as_ref().map(Acl::to_text);
    let (lock_mode, lock_until, legal_hold) = o.lock.columns();
    let id: i64 = conn.cached_row(
        "INSERT INTO objects (bucket, key, size, etag, last_modified, headers, checksum_algorithm, checksum, parts, tags, checksum_type, acl, storage_class,
                              version, null_version, current, delete_marker, lock_mode, lock_until, legal_hold, sse)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)
         RETURNING id",
        crate::sql_params![o.bucket, o.key, o.size, o.etag, o.last_modified, headers, o.checksum_algorithm, o.checksum, o.parts, encode_tags(&o.tags), o.checksum_type, acl, o.headers.storage_class,
                          o.version, o.null_version, current, delete_marker, lock_mode, lock_until, legal_hold,
                          o.sse.as_ref().map(crate::crypto::sse::Record::to_bytes)],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO segments (object_id, idx, blob, size, etag, checksum, part_number, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for (idx, s) in o.segments.iter().enumerate() {
        let (blob, data) = s.stored.columns().ok_or_else(unread)?;
        stmt.execute(crate::sql_params![
            id,
            idx,
            blob,
            s.size,
            s.etag,
            s.checksum,
            s.part_number,
            data
        ])?;
    }
    Ok(())
}

/// A statement reading an object row: the columns `object_columns` reads, then `$tail`.
macro_rules! object_sql {
    ($tail:literal) => {
        concat!(
            "SELECT id, size, etag, last_modified, headers, checksum_algorithm, checksum, parts, tags, checksum_type, acl, version, null_version, lock_mode, lock_until, legal_hold, sse FROM objects",
            $tail
        )
    };
}

/// An object row, without its segments.
fn object_columns(
    r: &crate::db::sql::Row<'_>,
    bucket: &str,
    key: &str,
) -> crate::db::sql::Result<(i64, ObjectMeta)> {
    let headers: String = r.get(4)?;
    let acl: Option<String> = r.get(10)?;
    Ok((
        r.get(0)?,
        ObjectMeta {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            size: r.get(1)?,
            etag: r.get(2)?,
            last_modified: r.get(3)?,
            headers: serde_json::from_str(&headers).unwrap_or_default(),
            checksum_algorithm: r.get(5)?,
            checksum: r.get(6)?,
            parts: r.get(7)?,
            tags: decode_tags(r.get(8)?),
            checksum_type: r.get(9)?,
            acl: acl.as_deref().map(Acl::from_text),
            segments: Vec::new(),
            version: r.get(11)?,
            null_version: r.get(12)?,
            lock: LockState::from_columns(r.get_ref(13)?.as_str_or_null()?, r.get(14)?, r.get(15)?),
            sse: sse_at(r, 16)?,
        },
    ))
}

/// The encryption record in column `column`: NULL for plaintext. A record this binary cannot
/// read fails the read (never served as if it were plaintext).
pub(crate) fn sse_at(
    r: &crate::db::sql::Row<'_>,
    column: usize,
) -> crate::db::sql::Result<Option<crate::crypto::sse::Record>> {
    match r.get_ref(column)?.as_blob_or_null()? {
        None => Ok(None),
        Some(bytes) => crate::crypto::sse::Record::from_bytes(bytes)
            .map(Some)
            .ok_or_else(|| {
                crate::db::sql::Error::Invalid(format!(
                    "column {column}: {}",
                    "an encryption record of an unknown format"
                ))
            }),
    }
}

/// The version `version` names, with its segments (and their inline bytes when `with_data`);
/// the errors of `versions::resolve`.
fn object_from_row(
    conn: &Connection,
    bucket: &str,
    key: &str,
    version: &VersionRef,
    with_data: bool,
) -> IndexResult<ObjectMeta> {
    // The current version, the common case, in one indexed read; the error, or another
    // version, through `resolve`.
    let found = match version {
        VersionRef::Current => conn
            .cached_row(
                object_sql!(
                    " INDEXED BY objects_current WHERE bucket = ?1 AND key = ?2 AND current = 1"
                ),
                (bucket, key),
                |r| object_columns(r, bucket, key),
            )
            .optional()?,
        _ => None,
    };
    let (id, mut object) = match found {
        Some(found) => found,
        None => {
            let id = versions::resolve(conn, bucket, key, version)?;
            conn.cached_row(object_sql!(" WHERE id = ?1"), [id], |r| {
                object_columns(r, bucket, key)
            })?
        }
    };
    // `data` is named only when it is wanted: SQLite then never reads its overflow pages.
    // A read of the bytes also reads the scrub's mark, which follows them in the row.
    let mut stmt = conn.prepare_cached(match with_data {
        true => "SELECT blob, data, size, etag, checksum, part_number, damaged FROM segments WHERE object_id = ?1 ORDER BY idx",
        false => "SELECT blob, NULL, size, etag, checksum, part_number, NULL FROM segments WHERE object_id = ?1 ORDER BY idx",
    })?;
    let mut damaged = false;
    object.segments = stmt
        .query_map([id], |r| {
            Ok((
                Segment {
                    stored: Stored::at(r, 0, with_data)?,
                    size: r.get(2)?,
                    etag: r.get(3)?,
                    checksum: r.get(4)?,
                    part_number: r.get(5)?,
                },
                r.get::<_, Option<i64>>(6)?.is_some_and(|d| d != 0),
            ))
        })?
        .map(|row| {
            row.map(|(segment, bad)| {
                damaged |= bad;
                segment
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if damaged {
        return Err(IndexError::Damaged);
    }
    Ok(object)
}

impl ObjectIndex {
    pub fn open(data_dir: &std::path::Path, config: &DbConfig) -> Result<ObjectIndex, DbError> {
        let path = data_dir.join("metadata").join("objects.db");
        let stats = Arc::new(StorageStats::default());
        let follow = bucket_stats::Follow::new(Arc::clone(&stats));
        let db = Db::open_with_hook("objects", &path, config, MIGRATIONS, Some(Box::new(follow)))?;
        let buckets = Arc::new(Buckets::load(&db)?);
        // No write can run before `open` returns: the map is read whole before it follows.
        stats.load(&db)?;
        Ok(ObjectIndex { db, buckets, stats })
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Storage per bucket as last committed (`bucket_stats`).
    /// Storage per bucket read again, whole (other nodes' writes change it too).
    pub async fn reload_storage_stats(&self) -> IndexResult<()> {
        let stats = Arc::clone(&self.stats);
        self.db
            .read(move |conn| stats.refresh_all(conn).map_err(IndexError::from))
            .await
    }

    pub fn storage_stats(&self) -> &StorageStats {
        &self.stats
    }

    /// Publishes an object as its key's new version (replacing the previous one atomically on
    /// a bucket without versioning).
    pub async fn put_object(
        &self,
        mut object: ObjectMeta,
        condition: WriteCondition,
    ) -> IndexResult<Published> {
        self.db
            .write(move |conn| versions::publish(conn, &mut object, &condition))
            .await
    }

    /// A version's metadata and segments, inline bytes left in the index
    /// (`Stored::Unread`): HEAD and every read that does not send or copy the bytes.
    pub async fn get_object(
        &self,
        bucket: String,
        key: String,
        version: VersionRef,
    ) -> IndexResult<ObjectMeta> {
        self.read_object(bucket, key, version, false).await
    }

    /// A version with its inline bytes: GET and copies.
    pub async fn get_object_bytes(
        &self,
        bucket: String,
        key: String,
        version: VersionRef,
    ) -> IndexResult<ObjectMeta> {
        self.read_object(bucket, key, version, true).await
    }

    async fn read_object(
        &self,
        bucket: String,
        key: String,
        version: VersionRef,
        with_data: bool,
    ) -> IndexResult<ObjectMeta> {
        // From memory: see `buckets` for why a read needs no check in its snapshot.
        self.bucket(&bucket)?;
        self.db
            .read_point(move |conn| object_from_row(conn, &bucket, &key, &version, with_data))
            .await
    }

    /// The tags of the version `version` names: `None` when there is no such version (or
    /// bucket), or it is a delete marker. One indexed read of one column; authorization calls
    /// it only when a policy in play reads `s3:ExistingObjectTag/…`.
    pub async fn object_tags(
        &self,
        bucket: String,
        key: String,
        version: VersionRef,
    ) -> IndexResult<Option<Tags>> {
        if self.bucket_state(&bucket).is_none() {
            return Ok(None);
        }
        // A point read, as the object lookup is: authorization asks it on the request path.
        self.db
            .read_point(move |conn| {
                let id = match versions::resolve(conn, &bucket, &key, &version) {
                    Ok(id) => id,
                    Err(IndexError::Db(e)) => return Err(e.into()),
                    Err(_) => return Ok(None),
                };
                let tags: Option<String> =
                    conn.cached_row("SELECT tags FROM objects WHERE id = ?1", [id], |r| r.get(0))?;
                Ok(Some(decode_tags(tags)))
            })
            .await
    }

    /// Replaces the tags of one version, leaving everything else about it as it is; returns
    /// its version id. The errors of `versions::resolve`, and `NoSuchBucket`. An empty set
    /// removes them (DeleteObjectTagging).
    pub async fn set_object_tags(
        &self,
        bucket: String,
        key: String,
        version: VersionRef,
        tags: Tags,
    ) -> IndexResult<String> {
        let sql = "UPDATE objects SET tags = ?2 WHERE id = ?1";
        self.update_version(bucket, key, version, sql, encode_tags(&tags))
            .await
    }

    /// Sets one column of the version `version` names, by `sql` (`?1` the row id, `?2`
    /// `value`), in the writer; returns the version's id. The errors of `versions::resolve`,
    /// and `NoSuchBucket`.
    pub(crate) async fn update_version<T>(
        &self,
        bucket: String,
        key: String,
        version: VersionRef,
        sql: &'static str,
        value: T,
    ) -> IndexResult<String>
    where
        T: crate::db::sql::Param + Send + 'static,
    {
        self.db
            .write(move |conn| {
                require_bucket(conn, &bucket)?;
                let id = versions::resolve(conn, &bucket, &key, &version)?;
                conn.cached_execute(sql, (id, value))?;
                version_of(conn, id)
            })
            .await
    }

    /// Replaces the ACL of one version; returns its version id.
    pub async fn set_object_acl(
        &self,
        bucket: String,
        key: String,
        version: VersionRef,
        acl: Acl,
    ) -> IndexResult<String> {
        let sql = "UPDATE objects SET acl = ?2 WHERE id = ?1";
        self.update_version(bucket, key, version, sql, acl.to_text())
            .await
    }

    /// Deletes a key or one version of it (`versions::delete`), in one commit.
    pub async fn delete_object(
        &self,
        bucket: String,
        key: String,
        version: VersionRef,
        bypass_governance: bool,
    ) -> IndexResult<Deleted> {
        self.db
            .write(move |conn| versions::delete(conn, &bucket, &key, &version, bypass_governance))
            .await
    }

    /// Deletes keys or versions in one commit: per entry what it did, or why it did not (a
    /// version under Object Lock); the blobs to remove are in the entries.
    pub async fn delete_objects(
        &self,
        bucket: String,
        entries: Vec<(String, VersionRef)>,
        bypass_governance: bool,
    ) -> IndexResult<Vec<IndexResult<Deleted>>> {
        self.db
            .write(move |conn| {
                require_bucket(conn, &bucket)?;
                let mut done = Vec::with_capacity(entries.len());
                for (key, version) in &entries {
                    match versions::delete(conn, &bucket, key, version, bypass_governance) {
                        Err(IndexError::Db(e)) => return Err(e.into()),
                        outcome => done.push(outcome),
                    }
                }
                Ok(done)
            })
            .await
    }

    /// Which of `ids` the index refers to (objects or parts), for the startup sweep.
    pub fn referenced_blobs(
        &self,
        ids: &[BlobId],
    ) -> std::io::Result<std::collections::HashSet<BlobId>> {
        self.db
            .read_now(|conn| referenced(conn, ids).map_err(DbError::from))
            .map_err(std::io::Error::other)
    }
}

fn referenced(
    conn: &Connection,
    ids: &[BlobId],
) -> crate::db::sql::Result<std::collections::HashSet<BlobId>> {
    {
        let mut known = std::collections::HashSet::new();
        let mut seg = conn.prepare(
            "SELECT 1 FROM segments INDEXED BY segments_by_blob WHERE blob = ?1 LIMIT 1",
        )?;
        let mut part =
            conn.prepare("SELECT 1 FROM parts INDEXED BY parts_by_blob WHERE blob = ?1 LIMIT 1")?;
        for id in ids {
            let used = seg.exists([id.as_str()])? || part.exists([id.as_str()])?;
            if used {
                known.insert(id.clone());
            }
        }
        Ok(known)
    }
}

/// The version id clients see for row `id`.
fn version_of(conn: &Connection, id: i64) -> IndexResult<String> {
    Ok(conn.cached_row(
        "SELECT version, null_version FROM objects WHERE id = ?1",
        [id],
        |r| Ok(versions::visible_id(&r.get::<_, String>(0)?, r.get(1)?)),
    )?)
}

#[cfg(test)]
mod tests;
