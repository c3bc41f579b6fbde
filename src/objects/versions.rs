//! Object versions (docs/versioning.md): every write and every delete of a key, as S3's
//! versioning defines them, over one table that holds every version and delete marker.
//!
//! Invariants, each kept by the writer transaction that changes a key:
//! - At most one row of a key has `current = 1`: its newest version, and only when that is not
//!   a delete marker (the partial index `objects_current` enforces the "at most one").
//! - At most one row of a key has `null_version = 1` (`objects_null`).
//! - `version` orders a key's rows newest first: a new row's stamp is greater than every stamp
//!   the key has, whatever the clock says.
//! - A row under Object Lock retention or legal hold is never removed, and never by a write of
//!   its key.

use crate::db::sql::{Connection, OptionalExtension};

use super::{
    insert_object, now_ms, require_bucket, IndexError, IndexResult, ObjectMeta, WriteCondition,
};
use crate::storage::BlobId;

/// The version id clients see for the null version.
pub const NULL: &str = "null";

/// Which version of a key an operation addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionRef {
    /// No `versionId`: the current version.
    Current,
    /// `versionId=null`.
    Null,
    /// A version id, as this server makes them (`is_version_id`).
    Id(String),
}

impl VersionRef {
    /// Whether the request named a version, so that it needs the `…Version` permission.
    pub fn is_named(&self) -> bool {
        !matches!(self, VersionRef::Current)
    }

    /// The id a response names, when the request named one.
    pub fn named_id(&self) -> Option<&str> {
        match self {
            VersionRef::Current => None,
            VersionRef::Null => Some(NULL),
            VersionRef::Id(id) => Some(id),
        }
    }
}

/// Whether `id` has the form of the version ids this server makes: 32 lowercase hex digits.
pub fn is_version_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A bucket's versioning status (PutBucketVersioning).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersioningStatus {
    Enabled,
    Suspended,
}

impl VersioningStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VersioningStatus::Enabled => "Enabled",
            VersioningStatus::Suspended => "Suspended",
        }
    }

    pub fn parse(text: &str) -> Option<VersioningStatus> {
        match text {
            "Enabled" => Some(VersioningStatus::Enabled),
            "Suspended" => Some(VersioningStatus::Suspended),
            _ => None,
        }
    }
}

/// The `versioning` configuration kind: the status, stored as its word. A bucket without one
/// was never versioned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioning {
    pub status: VersioningStatus,
}

impl Versioning {
    pub fn new(status: VersioningStatus) -> Versioning {
        Versioning { status }
    }
}

impl super::ConfigDocument for Versioning {
    fn load(bucket: &str, document: String) -> Versioning {
        let status = VersioningStatus::parse(&document).unwrap_or_else(|| {
            // Damage: keeping every version loses nothing.
            tracing::error!(
                bucket,
                "a stored versioning status does not parse; read as Enabled"
            );
            VersioningStatus::Enabled
        });
        Versioning { status }
    }

    fn document(&self) -> &str {
        self.status.as_str()
    }
}

/// Object Lock retention modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionMode {
    Governance,
    Compliance,
}

impl RetentionMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RetentionMode::Governance => "GOVERNANCE",
            RetentionMode::Compliance => "COMPLIANCE",
        }
    }

    pub fn parse(text: &str) -> Option<RetentionMode> {
        match text {
            "GOVERNANCE" => Some(RetentionMode::Governance),
            "COMPLIANCE" => Some(RetentionMode::Compliance),
            _ => None,
        }
    }
}

/// A version's Object Lock state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockState {
    /// The retention mode and its end (Unix milliseconds).
    pub retention: Option<(RetentionMode, i64)>,
    /// `Some(true)` on, `Some(false)` off, `None` never set.
    pub legal_hold: Option<bool>,
}

impl LockState {
    /// Whether the version may be removed at `now`; `bypass` is a governance bypass the
    /// caller was authorized for.
    pub fn allows_removal(&self, now: i64, bypass: bool) -> bool {
        if self.legal_hold == Some(true) {
            return false;
        }
        match self.retention {
            Some((_, until)) if until <= now => true,
            Some((RetentionMode::Governance, _)) => bypass,
            Some((RetentionMode::Compliance, _)) => false,
            None => true,
        }
    }

    /// The retention, unless it has ended by `now`.
    pub fn active_retention(&self, now: i64) -> Option<(RetentionMode, i64)> {
        self.retention.filter(|(_, until)| *until > now)
    }

    pub(super) fn columns(&self) -> (Option<&'static str>, Option<i64>, Option<bool>) {
        (
            self.retention.map(|(mode, _)| mode.as_str()),
            self.retention.map(|(_, until)| until),
            self.legal_hold,
        )
    }

    pub(super) fn from_columns(
        mode: Option<&str>,
        until: Option<i64>,
        hold: Option<bool>,
    ) -> LockState {
        LockState {
            retention: mode.and_then(RetentionMode::parse).zip(until),
            legal_hold: hold,
        }
    }
}

/// Whether a version's retention may change from `old` to `new` (`None`: no retention) at
/// `now`, as S3 allows it: anything once `old` has ended; COMPLIANCE only kept or extended,
/// by anyone, the root included; GOVERNANCE extended (same mode, same or later date) by anyone
/// allowed to put retention, and shortened, removed or changed in mode only with `bypass`, a
/// governance bypass the caller was authorized for.
pub fn retention_change_allowed(
    old: Option<(RetentionMode, i64)>,
    new: Option<(RetentionMode, i64)>,
    now: i64,
    bypass: bool,
) -> bool {
    match old {
        None => true,
        Some((_, until)) if until <= now => true,
        Some((RetentionMode::Compliance, until)) => {
            matches!(new, Some((RetentionMode::Compliance, to)) if to >= until)
        }
        Some((RetentionMode::Governance, until)) => {
            bypass || matches!(new, Some((RetentionMode::Governance, to)) if to >= until)
        }
    }
}

/// What a write of a key did.
#[derive(Debug)]
pub struct Published {
    /// Blobs no longer referenced (the null version it replaced).
    pub replaced: Vec<BlobId>,
    /// The new version's id, for `x-amz-version-id`; `None` on a bucket never versioned.
    pub version_id: Option<String>,
}

/// What a delete of a key or of a version did.
#[derive(Debug, Default)]
pub struct Deleted {
    /// A delete marker was added, or the version removed was one.
    pub delete_marker: bool,
    /// The marker added or the version named, for `x-amz-version-id`.
    pub version_id: Option<String>,
    /// Blobs no longer referenced.
    pub blobs: Vec<BlobId>,
}

/// One row of a key, as the writes need it.
struct Row {
    id: i64,
    version: String,
    null_version: bool,
    current: bool,
    delete_marker: bool,
    etag: String,
    lock: LockState,
}

impl Row {
    fn visible_id(&self) -> String {
        visible_id(&self.version, self.null_version)
    }
}

/// The id a client sees for a row.
pub fn visible_id(version: &str, null_version: bool) -> String {
    if null_version {
        NULL.to_owned()
    } else {
        version.to_owned()
    }
}

/// A statement reading `Row`s: the columns, then `$tail` (a constant string, so that the
/// statement cache is looked up without building the text each time).
macro_rules! row_sql {
    ($tail:literal) => {
        concat!(
            "SELECT id, version, null_version, current, delete_marker, etag, lock_mode, lock_until, legal_hold FROM objects",
            $tail
        )
    };
}

fn row_from(r: &crate::db::sql::Row<'_>) -> crate::db::sql::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        version: r.get(1)?,
        null_version: r.get(2)?,
        current: r.get(3)?,
        delete_marker: r.get(4)?,
        etag: r.get(5)?,
        lock: LockState::from_columns(r.get_ref(6)?.as_str_or_null()?, r.get(7)?, r.get(8)?),
    })
}

/// The row `version` names, if it exists.
fn find(
    conn: &Connection,
    bucket: &str,
    key: &str,
    version: &VersionRef,
) -> IndexResult<Option<Row>> {
    let row = match version {
        VersionRef::Current => conn.cached_row(
            row_sql!(" INDEXED BY objects_current WHERE bucket = ?1 AND key = ?2 AND current = 1"),
            (bucket, key),
            row_from,
        ),
        VersionRef::Null => conn.cached_row(
            row_sql!(
                " INDEXED BY objects_null WHERE bucket = ?1 AND key = ?2 AND null_version = 1"
            ),
            (bucket, key),
            row_from,
        ),
        VersionRef::Id(id) => conn.cached_row(
            row_sql!(" WHERE bucket = ?1 AND key = ?2 AND version = ?3"),
            (bucket, key, id),
            row_from,
        ),
    };
    Ok(row.optional()?)
}

/// The key's newest row (a version or a delete marker).
fn newest(conn: &Connection, bucket: &str, key: &str) -> IndexResult<Option<Row>> {
    Ok(conn
        .cached_row(
            row_sql!(" WHERE bucket = ?1 AND key = ?2 ORDER BY version LIMIT 1"),
            (bucket, key),
            row_from,
        )
        .optional()?)
}

/// The bucket's versioning status, read in the writer's transaction: a write that began
/// before PutBucketVersioning and commits after it follows the status it commits under.
fn status_in(conn: &Connection, bucket: &str) -> IndexResult<Option<VersioningStatus>> {
    let document: Option<String> = conn
        .cached_row(
            "SELECT document FROM bucket_configs WHERE bucket = ?1 AND kind = 'versioning'",
            [bucket],
            |r| r.get(0),
        )
        .optional()?;
    Ok(document.map(|d| VersioningStatus::parse(&d).unwrap_or(VersioningStatus::Enabled)))
}

/// The ordering id of a new row of the key: newer than every row it has.
fn next_version(conn: &Connection, bucket: &str, key: &str) -> IndexResult<String> {
    let newest = newest(conn, bucket, key)?;
    Ok(version_after(
        newest.as_ref().map(|row| row.version.as_str()),
    ))
}

/// A new ordering id newer than `newest`, the key's newest row's (if it has any).
fn version_after(newest: Option<&str>) -> String {
    let now_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    let newest_stamp = newest
        .and_then(|version| i64::from_str_radix(version.get(..16)?, 16).ok())
        .map(|inverted| i64::MAX - inverted);
    let stamp = match newest_stamp {
        Some(stamp) if stamp >= now_us => stamp.saturating_add(1),
        _ => now_us,
    };
    version_id(stamp, rand::random())
}

/// A version id: the inverted stamp, so that ascending text is newest first, then 64 random
/// bits, so that ids are not enumerable.
pub(super) fn version_id(stamp_us: i64, random: u64) -> String {
    format!("{:016x}{random:016x}", i64::MAX - stamp_us.max(0))
}

/// Removes a row and its segments, returning its blobs.
fn remove(conn: &Connection, id: i64) -> IndexResult<Vec<BlobId>> {
    let mut stmt =
        conn.prepare_cached("SELECT blob FROM segments WHERE object_id = ?1 AND blob IS NOT NULL")?;
    let blobs = stmt
        .query_map([id], |r| super::blob_at(r, 0))?
        .collect::<Result<Vec<_>, _>>()?;
    conn.cached_execute("DELETE FROM objects WHERE id = ?1", [id])?;
    Ok(blobs)
}

fn set_current(conn: &Connection, id: i64, current: bool) -> IndexResult<()> {
    conn.cached_execute(
        "UPDATE objects SET current = ?2 WHERE id = ?1",
        (id, current),
    )?;
    Ok(())
}

/// Removes the key's null version, if any, for a write that replaces it. A null version
/// under Object Lock is kept and the write refused.
fn remove_null(conn: &Connection, bucket: &str, key: &str) -> IndexResult<Vec<BlobId>> {
    Ok(remove_null_row(conn, bucket, key)?.map_or_else(Vec::new, |(_, blobs)| blobs))
}

/// `remove_null`, saying which row it removed.
fn remove_null_row(
    conn: &Connection,
    bucket: &str,
    key: &str,
) -> IndexResult<Option<(i64, Vec<BlobId>)>> {
    match find(conn, bucket, key, &VersionRef::Null)? {
        Some(row) if !row.lock.allows_removal(now_ms(), false) => Err(IndexError::ObjectLocked),
        Some(row) => Ok(Some((row.id, remove(conn, row.id)?))),
        None => Ok(None),
    }
}

/// What a write of an object reads of its bucket's configuration inside its transaction: the
/// versioning status and the Object Lock configuration, in one statement.
fn write_configs(
    conn: &Connection,
    bucket: &str,
) -> IndexResult<(Option<VersioningStatus>, Option<super::ObjectLockConfig>)> {
    let mut stmt = conn.prepare_cached(
        "SELECT kind, document FROM bucket_configs WHERE bucket = ?1 AND kind IN ('versioning', 'object_lock')",
    )?;
    let mut rows = stmt.query([bucket])?;
    let (mut status, mut lock) = (None, None);
    while let Some(row) = rows.next()? {
        let (kind, document): (String, String) = (row.get(0)?, row.get(1)?);
        match kind.as_str() {
            "versioning" => {
                status =
                    Some(VersioningStatus::parse(&document).unwrap_or(VersioningStatus::Enabled));
            }
            _ => {
                lock = Some(<super::ObjectLockConfig as super::ConfigDocument>::load(
                    bucket, document,
                ));
            }
        }
    }
    Ok((status, lock))
}

/// Publishes `o` as the key's new current version, as the bucket's versioning status says
/// (the table in docs/versioning.md), honouring `condition` against the current version.
/// Sets `o.version` and `o.null_version`.
/// Holds the key against every other writer of it until the transaction ends. On SQLite the
/// writer thread is the only writer: nothing to do. On PostgreSQL other nodes write too, and
/// a write reads the key's rows before it changes them: a transaction-scoped advisory lock on
/// the key makes the second writer wait for the first's commit, then read what it left (the
/// last writer wins, as on S3; no row or blob is lost between them).
pub(super) fn lock_key(conn: &Connection, bucket: &str, key: &str) -> IndexResult<()> {
    if conn.engine() != crate::db::sql::Engine::Postgres {
        return Ok(());
    }
    conn.cached_row(
        "SELECT pg_advisory_xact_lock(?1)",
        [key_lock_id(bucket, key)],
        |_| Ok(()),
    )?;
    Ok(())
}

/// The advisory lock id of a key (`cluster::advisory_id`).
fn key_lock_id(bucket: &str, key: &str) -> i64 {
    crate::cluster::advisory_id(&[bucket.as_bytes(), key.as_bytes()])
}

pub(super) fn publish(
    conn: &Connection,
    o: &mut ObjectMeta,
    condition: &WriteCondition,
) -> IndexResult<Published> {
    require_bucket(conn, &o.bucket)?;
    lock_key(conn, &o.bucket, &o.key)?;
    let current = find(conn, &o.bucket, &o.key, &VersionRef::Current)?;
    match (condition, &current) {
        (WriteCondition::IfAbsent, Some(_)) => return Err(IndexError::PreconditionFailed),
        (WriteCondition::IfEtag(want), Some(have)) if *want != have.etag && want != "*" => {
            return Err(IndexError::PreconditionFailed)
        }
        (WriteCondition::IfEtag(_), None) => return Err(IndexError::NoSuchKey),
        _ => {}
    }
    let (status, lock_config) = write_configs(conn, &o.bucket)?;
    if o.lock.retention.is_none() {
        // The bucket's default retention, as committed when this version is.
        if let Some(default) = lock_config.and_then(|c| c.default_retention) {
            o.lock.retention = Some(default.from(o.last_modified));
        }
    }
    // A key of a bucket never versioned has one row at most, its current version: no need to
    // look for its newest.
    o.version = match status {
        None => version_after(current.as_ref().map(|row| row.version.as_str())),
        Some(_) => next_version(conn, &o.bucket, &o.key)?,
    };
    o.null_version = status != Some(VersioningStatus::Enabled);
    let mut current = current.map(|row| row.id);
    let mut replaced = Vec::new();
    if o.null_version {
        if let Some((removed, blobs)) = remove_null_row(conn, &o.bucket, &o.key)? {
            if current == Some(removed) {
                current = None;
            }
            replaced = blobs;
        }
    }
    if let Some(id) = current {
        set_current(conn, id, false)?;
    }
    insert_object(conn, o, true, false)?;
    Ok(Published {
        replaced,
        version_id: status.map(|_| visible_id(&o.version, o.null_version)),
    })
}

/// After the key's newest row was removed: the row now newest becomes current, unless it is
/// a delete marker.
fn promote_newest(conn: &Connection, bucket: &str, key: &str) -> IndexResult<()> {
    if let Some(row) = newest(conn, bucket, key)? {
        if !row.delete_marker && !row.current {
            set_current(conn, row.id, true)?;
        }
    }
    Ok(())
}

/// Deletes the key (`VersionRef::Current`: removes it on a bucket never versioned, adds a
/// delete marker otherwise) or one version of it. `bypass` is a governance bypass the caller
/// was authorized for. A version that does not exist is deleted already: nothing changes.
pub(super) fn delete(
    conn: &Connection,
    bucket: &str,
    key: &str,
    version: &VersionRef,
    bypass: bool,
) -> IndexResult<Deleted> {
    require_bucket(conn, bucket)?;
    lock_key(conn, bucket, key)?;
    if *version == VersionRef::Current {
        let status = status_in(conn, bucket)?;
        if status.is_none() {
            let blobs = remove_null(conn, bucket, key)?;
            return Ok(Deleted {
                blobs,
                ..Deleted::default()
            });
        }
        let mut marker = ObjectMeta::delete_marker(bucket, key);
        marker.version = next_version(conn, bucket, key)?;
        marker.null_version = status == Some(VersioningStatus::Suspended);
        let blobs = if marker.null_version {
            remove_null(conn, bucket, key)?
        } else {
            Vec::new()
        };
        if let Some(current) = find(conn, bucket, key, &VersionRef::Current)? {
            set_current(conn, current.id, false)?;
        }
        insert_object(conn, &marker, false, true)?;
        return Ok(Deleted {
            delete_marker: true,
            version_id: Some(visible_id(&marker.version, marker.null_version)),
            blobs,
        });
    }
    let Some(row) = find(conn, bucket, key, version)? else {
        return Ok(Deleted {
            version_id: version.named_id().map(str::to_owned),
            ..Deleted::default()
        });
    };
    if !row.lock.allows_removal(now_ms(), bypass) {
        return Err(IndexError::ObjectLocked);
    }
    let was_newest = newest(conn, bucket, key)?.is_some_and(|n| n.id == row.id);
    let blobs = remove(conn, row.id)?;
    if was_newest {
        promote_newest(conn, bucket, key)?;
    }
    Ok(Deleted {
        delete_marker: row.delete_marker,
        version_id: Some(row.visible_id()),
        blobs,
    })
}

/// The row id of the version `version` names, for reads and for updates of one version's
/// tags or ACL: `NoSuchKey` (the current version of a key that has none, or whose newest row
/// is a delete marker: `DeleteMarker`), `NoSuchVersion`, or `DeleteMarker` for a marker named.
pub(super) fn resolve(
    conn: &Connection,
    bucket: &str,
    key: &str,
    version: &VersionRef,
) -> IndexResult<i64> {
    match find(conn, bucket, key, version)? {
        Some(row) if row.delete_marker => Err(IndexError::DeleteMarker {
            version_id: row.visible_id(),
            named: true,
        }),
        Some(row) => Ok(row.id),
        None if *version == VersionRef::Current => match newest(conn, bucket, key)? {
            Some(row) if row.delete_marker => Err(IndexError::DeleteMarker {
                version_id: row.visible_id(),
                named: false,
            }),
            _ => Err(IndexError::NoSuchKey),
        },
        None => Err(IndexError::NoSuchVersion),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_ids_sort_newest_first_and_have_their_form() {
        let older = version_id(1_700_000_000_000_000, u64::MAX);
        let newer = version_id(1_700_000_000_000_001, 0);
        assert!(newer < older);
        assert!(is_version_id(&older) && is_version_id(&newer));
        assert!(!is_version_id("null"));
        assert!(!is_version_id(&older.to_uppercase()));
        assert!(!is_version_id(&older[1..]));
    }

    #[test]
    fn locks_yield_only_as_s3_says() {
        let now = 1_000;
        let governed = LockState {
            retention: Some((RetentionMode::Governance, now + 1)),
            legal_hold: None,
        };
        assert!(!governed.allows_removal(now, false));
        assert!(governed.allows_removal(now, true));
        let compliant = LockState {
            retention: Some((RetentionMode::Compliance, now + 1)),
            legal_hold: Some(false),
        };
        assert!(!compliant.allows_removal(now, true));
        assert!(compliant.allows_removal(now + 1, false));
        let held = LockState {
            retention: None,
            legal_hold: Some(true),
        };
        assert!(!held.allows_removal(now, true));
        assert!(LockState::default().allows_removal(now, false));
    }

    #[test]
    fn retention_changes_as_s3_allows_them() {
        use RetentionMode::{Compliance as C, Governance as G};
        let now = 1_000;
        let allowed = |old, new, bypass| retention_change_allowed(old, new, now, bypass);
        // Nothing, or an ended retention: anything.
        assert!(allowed(None, Some((C, 5_000)), false));
        assert!(allowed(Some((C, now)), None, false));
        // COMPLIANCE: kept or extended only, bypass or not.
        assert!(allowed(Some((C, 5_000)), Some((C, 5_000)), false));
        assert!(allowed(Some((C, 5_000)), Some((C, 6_000)), false));
        for bypass in [false, true] {
            assert!(!allowed(Some((C, 5_000)), Some((C, 4_999)), bypass));
            assert!(!allowed(Some((C, 5_000)), Some((G, 6_000)), bypass));
            assert!(!allowed(Some((C, 5_000)), None, bypass));
        }
        // GOVERNANCE: extended by anyone; shortened, removed or changed only with a bypass.
        assert!(allowed(Some((G, 5_000)), Some((G, 6_000)), false));
        assert!(!allowed(Some((G, 5_000)), Some((G, 4_000)), false));
        assert!(!allowed(Some((G, 5_000)), None, false));
        assert!(!allowed(Some((G, 5_000)), Some((C, 6_000)), false));
        assert!(allowed(Some((G, 5_000)), Some((G, 4_000)), true));
        assert!(allowed(Some((G, 5_000)), None, true));
        assert!(allowed(Some((G, 5_000)), Some((C, 6_000)), true));
    }
}
