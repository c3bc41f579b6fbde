//! What a scrub (`crate::scrub`) reads from the index and what it writes back: pages of object
//! versions and of upload parts with where their bytes are and what they should digest to,
//! the `damaged` marks (`migrations/objects/0015_scrub.sql`), and the background scrub's
//! progress through its pass.

use crate::db::sql::{Connection, OptionalExtension};

use super::{sse_at, versions, IndexResult, ObjectIndex, Stored};
use crate::crypto::sse::Record;
use crate::storage::BlobId;

/// One stored run of bytes of a version or an upload, as a scrub checks it.
#[derive(Debug, Clone)]
pub struct ScrubSegment {
    /// Its position in its version (0 for a part).
    pub idx: u32,
    /// The blob, or the inline bytes (read when the page was asked `with_data`).
    pub stored: Stored,
    /// Plaintext bytes.
    pub size: u64,
    /// The hex MD5 of its plaintext, when the index knows it: a part's ETag, or a simple
    /// object's.
    pub md5: Option<String>,
    /// The part its encrypted chunks are bound to (0 for a simple object).
    pub sse_part: u32,
    /// Marked damaged by an earlier scrub.
    pub damaged: bool,
}

/// An object version (not a delete marker) and its segments.
#[derive(Debug, Clone)]
pub struct ScrubObject {
    pub id: i64,
    pub bucket: String,
    pub key: String,
    /// The ordering id (`versions`); `version_id` is what clients see.
    pub version: String,
    pub version_id: String,
    pub sse: Option<Record>,
    pub segments: Vec<ScrubSegment>,
}

/// A part of a multipart upload in progress.
#[derive(Debug, Clone)]
pub struct ScrubPart {
    pub upload_id: String,
    pub bucket: String,
    pub key: String,
    pub number: u32,
    pub etag: String,
    pub last_modified: i64,
    pub sse: Option<Record>,
    pub segment: ScrubSegment,
}

/// Where the background scrub is (`scrub_progress`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScrubProgress {
    /// `objects`, `parts` or `orphans`.
    pub phase: String,
    pub after_object: i64,
    pub after_upload: String,
    pub after_part: u32,
    pub after_dir: String,
    /// Unix milliseconds; `None` when no pass is under way.
    pub pass_started: Option<i64>,
    pub last_finished: Option<i64>,
}

/// Whether a hex ETag is a plain MD5 (not a multipart `…-N`).
fn md5_etag(etag: &str) -> Option<String> {
    (etag.len() == 32 && etag.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| etag.to_ascii_lowercase())
}

fn flag(value: Option<i64>) -> bool {
    value.is_some_and(|v| v != 0)
}

fn objects_page(
    conn: &Connection,
    after: i64,
    limit: usize,
    with_data: bool,
) -> IndexResult<Vec<ScrubObject>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, bucket, key, version, null_version, etag, parts, sse FROM objects
          WHERE id > ?1 AND delete_marker = 0 ORDER BY id LIMIT ?2",
    )?;
    let mut objects = stmt
        .query_map(
            crate::sql_params![after, i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| {
                let version: String = r.get(3)?;
                let etag: String = r.get(5)?;
                let parts: Option<u32> = r.get(6)?;
                Ok((
                    ScrubObject {
                        id: r.get(0)?,
                        bucket: r.get(1)?,
                        key: r.get(2)?,
                        version_id: versions::visible_id(&version, r.get(4)?),
                        version,
                        sse: sse_at(r, 7)?,
                        segments: Vec::new(),
                    },
                    parts.is_none().then(|| md5_etag(&etag)).flatten(),
                ))
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let mut segments = conn.prepare_cached(match with_data {
        true => "SELECT blob, data, idx, size, etag, part_number, damaged FROM segments WHERE object_id = ?1 ORDER BY idx",
        false => "SELECT blob, NULL, idx, size, etag, part_number, damaged FROM segments WHERE object_id = ?1 ORDER BY idx",
    })?;
    for (object, simple_md5) in &mut objects {
        object.segments = segments
            .query_map([object.id], |r| {
                let part_number: Option<u32> = r.get(5)?;
                let etag: Option<String> = r.get(4)?;
                Ok(ScrubSegment {
                    stored: Stored::at(r, 0, with_data)?,
                    idx: r.get(2)?,
                    size: r.get(3)?,
                    md5: etag.as_deref().and_then(md5_etag),
                    sse_part: part_number.unwrap_or(0),
                    damaged: flag(r.get(6)?),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        // A simple object's ETag is the MD5 of its one segment's plaintext.
        if let ([segment], Some(md5)) = (object.segments.as_mut_slice(), simple_md5.take()) {
            segment.md5.get_or_insert(md5);
        }
    }
    Ok(objects.into_iter().map(|(object, _)| object).collect())
}

fn parts_page(
    conn: &Connection,
    after: &(String, u32),
    limit: usize,
    with_data: bool,
) -> IndexResult<Vec<ScrubPart>> {
    let mut stmt = conn.prepare_cached(match with_data {
        true => "SELECT p.blob, p.data, p.upload_id, p.number, p.size, p.etag, p.last_modified, p.damaged, u.bucket, u.key, u.sse
                   FROM parts p JOIN uploads u ON u.id = p.upload_id
                  WHERE (p.upload_id, p.number) > (?1, ?2) ORDER BY p.upload_id, p.number LIMIT ?3",
        false => "SELECT p.blob, NULL, p.upload_id, p.number, p.size, p.etag, p.last_modified, p.damaged, u.bucket, u.key, u.sse
                   FROM parts p JOIN uploads u ON u.id = p.upload_id
                  WHERE (p.upload_id, p.number) > (?1, ?2) ORDER BY p.upload_id, p.number LIMIT ?3",
    })?;
    let parts = stmt
        .query_map(
            crate::sql_params![after.0, after.1, i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| {
                let number: u32 = r.get(3)?;
                let etag: String = r.get(5)?;
                Ok(ScrubPart {
                    upload_id: r.get(2)?,
                    bucket: r.get(8)?,
                    key: r.get(9)?,
                    number,
                    last_modified: r.get(6)?,
                    sse: sse_at(r, 10)?,
                    segment: ScrubSegment {
                        stored: Stored::at(r, 0, with_data)?,
                        idx: 0,
                        size: r.get(4)?,
                        md5: md5_etag(&etag),
                        sse_part: number,
                        damaged: flag(r.get(7)?),
                    },
                    etag,
                })
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(parts)
}

impl ObjectIndex {
    /// The next `limit` object versions after row `after` (delete markers have no bytes),
    /// with their inline bytes when `with_data`.
    pub async fn scrub_objects(
        &self,
        after: i64,
        limit: usize,
        with_data: bool,
    ) -> IndexResult<Vec<ScrubObject>> {
        self.db
            .read(move |conn| objects_page(conn, after, limit, with_data))
            .await
    }

    /// The next `limit` parts of uploads in progress after (upload id, part number) `after`.
    pub async fn scrub_parts(
        &self,
        after: (String, u32),
        limit: usize,
        with_data: bool,
    ) -> IndexResult<Vec<ScrubPart>> {
        self.db
            .read(move |conn| parts_page(conn, &after, limit, with_data))
            .await
    }

    /// The largest object row id (0 for none): how far a pass over the objects has to go.
    pub async fn last_object_id(&self) -> IndexResult<i64> {
        self.db
            .read(|conn| {
                Ok(conn.cached_row("SELECT COALESCE(MAX(id), 0) FROM objects", [], |r| r.get(0))?)
            })
            .await
    }

    /// Marks (or clears) a version's segment as damaged, if the row is still the version the
    /// scrub read (a version removed meanwhile is left alone); answers whether it did.
    pub async fn mark_segment(
        &self,
        object: &ScrubObject,
        idx: u32,
        damaged: bool,
    ) -> IndexResult<bool> {
        let (id, bucket, key, version) = (
            object.id,
            object.bucket.clone(),
            object.key.clone(),
            object.version.clone(),
        );
        self.db
            .write(move |conn| {
                let changed = conn.cached_execute(
                    "UPDATE segments SET damaged = ?5 WHERE object_id = ?1 AND idx = ?2
                        AND EXISTS (SELECT 1 FROM objects WHERE id = ?1 AND version = ?3 AND bucket = ?4 AND key = ?6)",
                    crate::sql_params![id, idx, version, bucket, damaged.then_some(1), key],
                )?;
                Ok(changed > 0)
            })
            .await
    }

    /// Marks (or clears) an upload's part as damaged, if it is still the part the scrub read
    /// (not uploaded again meanwhile); answers whether it did.
    pub async fn mark_part(&self, part: &ScrubPart, damaged: bool) -> IndexResult<bool> {
        let (upload, number, etag, at) = (
            part.upload_id.clone(),
            part.number,
            part.etag.clone(),
            part.last_modified,
        );
        let blob = part.segment.stored.blob().map(|b| b.as_str().to_owned());
        self.db
            .write(move |conn| {
                let changed = conn.cached_execute(
                    "UPDATE parts SET damaged = ?6 WHERE upload_id = ?1 AND number = ?2
                        AND etag = ?3 AND last_modified = ?4 AND blob IS NOT DISTINCT FROM ?5",
                    crate::sql_params![upload, number, etag, at, blob, damaged.then_some(1)],
                )?;
                Ok(changed > 0)
            })
            .await
    }

    /// Where the background scrub stopped; `None` before its first pass.
    pub async fn scrub_progress(&self) -> IndexResult<Option<ScrubProgress>> {
        self.db
            .read(|conn| {
                Ok(conn
                    .cached_row(
                        "SELECT phase, after_object, after_upload, after_part, after_dir, pass_started, last_finished
                           FROM scrub_progress WHERE id = 1",
                        [],
                        |r| {
                            Ok(ScrubProgress {
                                phase: r.get(0)?,
                                after_object: r.get(1)?,
                                after_upload: r.get(2)?,
                                after_part: r.get(3)?,
                                after_dir: r.get(4)?,
                                pass_started: r.get(5)?,
                                last_finished: r.get(6)?,
                            })
                        },
                    )
                    .optional()?)
            })
            .await
    }

    /// Records where the background scrub is.
    pub async fn save_scrub_progress(&self, progress: ScrubProgress) -> IndexResult<()> {
        self.db
            .write(move |conn| {
                conn.cached_execute(
                    "INSERT INTO scrub_progress (id, phase, after_object, after_upload, after_part, after_dir, pass_started, last_finished)
                     VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (id) DO UPDATE SET phase = ?1, after_object = ?2, after_upload = ?3,
                        after_part = ?4, after_dir = ?5, pass_started = ?6, last_finished = ?7",
                    crate::sql_params![
                        progress.phase,
                        progress.after_object,
                        progress.after_upload,
                        progress.after_part,
                        progress.after_dir,
                        progress.pass_started,
                        progress.last_finished
                    ],
                )?;
                Ok(())
            })
            .await
    }
}

/// A blob id, for reports: the id itself (never a path outside the blob tree).
pub fn blob_name(stored: &Stored) -> Option<&str> {
    stored.blob().map(BlobId::as_str)
}

impl ObjectIndex {
    /// Which of `ids` a segment or a part refers to, both looked up in one snapshot: a
    /// multipart completion moving a blob from its part to its object's segment, committed
    /// between two separate lookups, would otherwise read as unreferenced.
    pub async fn referenced_in_snapshot(
        &self,
        ids: Vec<BlobId>,
    ) -> IndexResult<std::collections::HashSet<BlobId>> {
        self.db
            .read(move |conn| {
                let tx = conn.snapshot()?;
                let mut known = std::collections::HashSet::new();
                {
                    let mut seg = tx.prepare_cached(
                        "SELECT 1 FROM segments INDEXED BY segments_by_blob WHERE blob = ?1 LIMIT 1",
                    )?;
                    let mut part = tx.prepare_cached(
                        "SELECT 1 FROM parts INDEXED BY parts_by_blob WHERE blob = ?1 LIMIT 1",
                    )?;
                    for id in ids {
                        if seg.exists([id.as_str()])? || part.exists([id.as_str()])? {
                            known.insert(id);
                        }
                    }
                }
                drop(tx);
                Ok(known)
            })
            .await
    }
}
