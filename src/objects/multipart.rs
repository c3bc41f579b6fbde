//! Multipart uploads: parts are blobs of their own (or, up to `backend.s3.inline_max` bytes,
//! rows holding their bytes) until CompleteMultipartUpload turns the chosen ones, in order,
//! into an object's segments in one commit.

use crate::db::sql::{Connection, OptionalExtension};

use super::{
    blob_at, decode_tags, encode_tags, now_ms, require_bucket, versions, Acl, IndexError,
    IndexResult, LockState, ObjectHeaders, ObjectIndex, ObjectMeta, Segment, Stored, Tags,
    WriteCondition,
};
use crate::storage::BlobId;

/// S3's largest object: 5 TiB.
pub const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024 * 1024;

/// S3's smallest part other than the last.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Upload {
    pub id: String,
    pub bucket: String,
    pub key: String,
    pub initiated: i64,
    pub headers: ObjectHeaders,
    pub checksum_algorithm: Option<String>,
    /// `FULL_OBJECT` or `COMPOSITE` when there is a checksum algorithm.
    pub checksum_type: Option<String>,
    /// The ACL the object gets when the upload completes; `None` is the default.
    pub acl: Option<Acl>,
    /// The Object Lock retention and legal hold the object gets when the upload completes
    /// (`x-amz-object-lock-*` on CreateMultipartUpload).
    pub lock: LockState,
    /// The upload's encryption record: its parts, and the object, are encrypted with its
    /// data key (`docs/encryption.md`).
    pub sse: Option<crate::crypto::sse::Record>,
}

#[derive(Debug, Clone)]
pub struct Part {
    pub number: u32,
    /// The part's blob; `None` for a part stored inline (its bytes are read only by
    /// completion).
    pub blob: Option<BlobId>,
    pub size: u64,
    /// Hex MD5 of the part, without quotes.
    pub etag: String,
    pub checksum: Option<String>,
    pub last_modified: i64,
}

/// What the caller computes from the chosen parts: the object's ETag and checksum.
pub struct Completion {
    pub etag: String,
    pub checksum: Option<String>,
    pub checksum_type: Option<String>,
}

const UPLOAD_COLUMNS: &str =
    "SELECT id, bucket, key, initiated, headers, checksum_algorithm, checksum_type, acl, lock_mode, lock_until, legal_hold, sse FROM uploads";

fn upload_from(r: &crate::db::sql::Row<'_>) -> crate::db::sql::Result<Upload> {
    Ok(Upload {
        id: r.get(0)?,
        bucket: r.get(1)?,
        key: r.get(2)?,
        initiated: r.get(3)?,
        headers: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or_default(),
        checksum_algorithm: r.get(5)?,
        checksum_type: r.get(6)?,
        acl: r
            .get::<_, Option<String>>(7)?
            .as_deref()
            .map(Acl::from_text),
        lock: LockState::from_columns(r.get_ref(8)?.as_str_or_null()?, r.get(9)?, r.get(10)?),
        sse: super::sse_at(r, 11)?,
    })
}

fn upload_row(conn: &Connection, bucket: &str, key: &str, id: &str) -> IndexResult<Upload> {
    require_bucket(conn, bucket)?;
    conn.cached_row(
        &format!("{UPLOAD_COLUMNS} WHERE id = ?1 AND bucket = ?2 AND key = ?3"),
        (id, bucket, key),
        upload_from,
    )
    .optional()?
    .ok_or(IndexError::NoSuchUpload)
}

fn parts_of(conn: &Connection, upload: &str, after: u32, limit: i64) -> IndexResult<Vec<Part>> {
    let mut stmt = conn.prepare_cached(
        "SELECT number, blob, size, etag, checksum, last_modified FROM parts
         WHERE upload_id = ?1 AND number > ?2 ORDER BY number LIMIT ?3",
    )?;
    let rows = stmt.query_map((upload, after, limit), |r| {
        Ok(Part {
            number: r.get(0)?,
            blob: match r.get_ref(1)? {
                crate::db::sql::ValueRef::Null => None,
                _ => Some(blob_at(r, 1)?),
            },
            size: r.get(2)?,
            etag: r.get(3)?,
            checksum: r.get(4)?,
            last_modified: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Where a chosen part's bytes are: its blob, or its inline bytes, read here (listings of
/// parts never read them).
/// A part a scrub found damaged is refused (`InvalidPart`): uploading it again replaces it.
fn part_stored(conn: &Connection, upload: &str, part: &Part) -> IndexResult<Stored> {
    let damaged: Option<i64> = conn.cached_row(
        "SELECT damaged FROM parts WHERE upload_id = ?1 AND number = ?2",
        (upload, part.number),
        |r| r.get(0),
    )?;
    if damaged.is_some_and(|d| d != 0) {
        return Err(IndexError::InvalidPart(format!(
            "Part {} cannot be used: the server found its stored bytes damaged. Upload the part again.",
            part.number
        )));
    }
    if let Some(blob) = &part.blob {
        return Ok(Stored::Blob(blob.clone()));
    }
    let data: Vec<u8> = conn.cached_row(
        "SELECT data FROM parts WHERE upload_id = ?1 AND number = ?2 AND data IS NOT NULL",
        (upload, part.number),
        |r| r.get(0),
    )?;
    Ok(Stored::Inline(data.into()))
}

impl ObjectIndex {
    /// Starts an upload; `tags` (from `x-amz-tagging`) are kept with it and become the
    /// object's at completion.
    #[expect(
        clippy::too_many_arguments,
        reason = "each is one thing the upload keeps for its object; a struct would only name them again"
    )]
    pub async fn create_upload(
        &self,
        bucket: String,
        key: String,
        headers: ObjectHeaders,
        checksum: Option<(String, String)>,
        tags: Tags,
        acl: Option<Acl>,
        lock: LockState,
        sse: Option<crate::crypto::sse::Record>,
    ) -> IndexResult<Upload> {
        let id = format!(
            "{:032x}{:032x}",
            rand::random::<u128>(),
            rand::random::<u128>()
        );
        let upload = Upload {
            id,
            bucket,
            key,
            initiated: now_ms(),
            headers,
            checksum_algorithm: checksum.as_ref().map(|(a, _)| a.clone()),
            checksum_type: checksum.map(|(_, t)| t),
            acl,
            lock,
            sse,
        };
        let row = upload.clone();
        self.db
            .write(move |conn| {
                require_bucket(conn, &row.bucket)?;
                let headers = serde_json::to_string(&row.headers).unwrap_or_else(|_| "{}".into());
                let acl = row.acl.as_ref().map(Acl::to_text);
                let (lock_mode, lock_until, legal_hold) = row.lock.columns();
                conn.cached_execute(
                    "INSERT INTO uploads (id, bucket, key, initiated, headers, checksum_algorithm, checksum_type, tags, acl, lock_mode, lock_until, legal_hold, sse) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                    crate::sql_params![&row.id, &row.bucket, &row.key, row.initiated, headers, &row.checksum_algorithm, &row.checksum_type, encode_tags(&tags), acl, lock_mode, lock_until, legal_hold, row.sse.as_ref().map(crate::crypto::sse::Record::to_bytes)],
                )?;
                Ok::<_, IndexError>(())
            })
            .await?;
        Ok(upload)
    }

    pub async fn upload(&self, bucket: String, key: String, id: String) -> IndexResult<Upload> {
        self.db
            .read(move |conn| upload_row(conn, &bucket, &key, &id))
            .await
    }

    /// Records a part stored as `stored` (its `blob` is ignored), replacing an earlier one
    /// with the same number; returns the replaced part's blob.
    pub async fn put_part(
        &self,
        bucket: String,
        key: String,
        id: String,
        part: Part,
        stored: Stored,
    ) -> IndexResult<Option<BlobId>> {
        self.db
            .write(move |conn| {
                upload_row(conn, &bucket, &key, &id)?;
                // Another node's upload of the same part waits (the replaced blob is returned
                // for removal by exactly one of them).
                super::versions::lock_key(conn, &id, &part.number.to_string())?;
                let old: Option<Option<String>> = conn
                    .cached_row("SELECT blob FROM parts WHERE upload_id = ?1 AND number = ?2", (&id, part.number), |r| r.get(0))
                    .optional()?;
                let (blob, data) = stored.columns().ok_or_else(super::unread)?;
                conn.cached_execute(
                    "INSERT INTO parts (upload_id, number, blob, size, etag, checksum, last_modified, data)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (upload_id, number) DO UPDATE SET blob = excluded.blob, size = excluded.size,
                         etag = excluded.etag, checksum = excluded.checksum, last_modified = excluded.last_modified,
                         data = excluded.data, damaged = NULL",
                    crate::sql_params![id, part.number, blob, part.size, part.etag, part.checksum, part.last_modified, data],
                )?;
                Ok(old.flatten().and_then(|b| BlobId::parse(&b)))
            })
            .await
    }

    /// One page of an upload's parts after part number `after`; `true` when more follow.
    pub async fn list_parts(
        &self,
        bucket: String,
        key: String,
        id: String,
        after: u32,
        max: usize,
    ) -> IndexResult<(Upload, Vec<Part>, bool)> {
        self.db
            .read(move |conn| {
                let upload = upload_row(conn, &bucket, &key, &id)?;
                // One more than asked: whether it comes back says whether the listing is truncated.
                let limit = i64::try_from(max.saturating_add(1)).unwrap_or(i64::MAX);
                let mut parts = parts_of(conn, &id, after, limit)?;
                let truncated = parts.len() > max;
                parts.truncate(max);
                Ok((upload, parts, truncated))
            })
            .await
    }

    /// Turns the chosen parts into the object, in one commit; returns the object and the
    /// blobs no longer referenced (unchosen parts, the object it replaced). `finish` sees the
    /// upload and the chosen parts in order, inside the transaction, and computes the
    /// object's ETag and checksum, or refuses with its caller's error.
    pub async fn complete_upload<F, E>(
        &self,
        bucket: String,
        key: String,
        id: String,
        chosen: Vec<(u32, String)>,
        condition: WriteCondition,
        finish: F,
    ) -> Result<(ObjectMeta, Vec<BlobId>, Option<String>), E>
    where
        F: FnOnce(&Upload, &[Part]) -> Result<Completion, E> + Send + 'static,
        E: From<IndexError> + From<crate::db::DbError> + Send + 'static,
    {
        self.db
            .write(move |conn| {
                let upload = upload_row(conn, &bucket, &key, &id)?;
                let all = parts_of(conn, &id, 0, i64::MAX)?;
                let parts = choose(&all, &chosen)?;
                // Never fails: `choose` keeps distinct u32 part numbers.
                let count = u32::try_from(parts.len())
                    .map_err(|_| IndexError::InvalidPart("more parts than part numbers".into()))?;
                let done = finish(&upload, &parts)?;
                let tags: Option<String> = conn
                    .cached_row("SELECT tags FROM uploads WHERE id = ?1", [&id], |r| {
                        r.get(0)
                    })
                    .map_err(IndexError::from)?;
                let object = ObjectMeta {
                    bucket: bucket.clone(),
                    key: key.clone(),
                    size: parts.iter().map(|p| p.size).sum(),
                    etag: done.etag,
                    last_modified: now_ms(),
                    headers: upload.headers.clone(),
                    checksum_algorithm: upload.checksum_algorithm.clone(),
                    checksum_type: done.checksum.as_ref().and(done.checksum_type),
                    checksum: done.checksum,
                    parts: Some(count),
                    segments: parts
                        .iter()
                        .map(|p| {
                            Ok(Segment {
                                stored: part_stored(conn, &id, p)?,
                                size: p.size,
                                etag: Some(p.etag.clone()),
                                checksum: p.checksum.clone(),
                                part_number: Some(p.number),
                            })
                        })
                        .collect::<IndexResult<_>>()?,
                    tags: decode_tags(tags),
                    acl: upload.acl.clone(),
                    version: String::new(),
                    null_version: false,
                    lock: upload.lock.clone(),
                    sse: upload.sse.clone(),
                };
                let mut object = object;
                let published = versions::publish(conn, &mut object, &condition)?;
                let mut unused = published.replaced;
                unused.extend(
                    all.iter()
                        .filter(|p| !parts.iter().any(|c| c.number == p.number))
                        .filter_map(|p| p.blob.clone()),
                );
                conn.cached_execute("DELETE FROM uploads WHERE id = ?1", [&id])
                    .map_err(IndexError::from)?;
                Ok((object, unused, published.version_id))
            })
            .await
    }

    /// Abandons an upload; returns its parts' blobs.
    pub async fn abort_upload(
        &self,
        bucket: String,
        key: String,
        id: String,
    ) -> IndexResult<Vec<BlobId>> {
        self.db
            .write(move |conn| {
                upload_row(conn, &bucket, &key, &id)?;
                let blobs = parts_of(conn, &id, 0, i64::MAX)?
                    .into_iter()
                    .filter_map(|p| p.blob)
                    .collect();
                conn.cached_execute("DELETE FROM uploads WHERE id = ?1", [&id])?;
                Ok(blobs)
            })
            .await
    }

    /// One page of the uploads in progress in a bucket, by key then upload id, after the
    /// markers; with a delimiter, keys roll up into common prefixes as in object listings.
    pub async fn list_uploads(&self, bucket: String, q: UploadQuery) -> IndexResult<UploadListing> {
        self.db
            .read(move |conn| {
                require_bucket(conn, &bucket)?;
                list_uploads(conn, &bucket, &q)
            })
            .await
    }
}

/// What ListMultipartUploads asks for.
#[derive(Debug, Clone, Default)]
pub struct UploadQuery {
    pub prefix: String,
    pub delimiter: Option<String>,
    pub key_marker: Option<String>,
    pub upload_id_marker: Option<String>,
    pub max: usize,
}

#[derive(Debug, Default)]
pub struct UploadListing {
    pub uploads: Vec<Upload>,
    pub prefixes: Vec<String>,
    pub truncated: bool,
    /// Where the next page starts: the last key (or common prefix) and upload id returned.
    pub next: Option<(String, Option<String>)>,
}

/// Where a scan of the uploads resumes, in (key, id) order.
enum Bound {
    /// Keys at or after this one.
    From(String),
    /// Keys after this one, and this key's uploads with a greater id.
    After(String, Option<String>),
}

fn list_uploads(conn: &Connection, bucket: &str, q: &UploadQuery) -> IndexResult<UploadListing> {
    let mut listing = UploadListing::default();
    if q.max == 0 {
        return Ok(listing);
    }
    let mut bound = match &q.key_marker {
        Some(k) if *k >= q.prefix => Bound::After(k.clone(), q.upload_id_marker.clone()),
        _ => Bound::From(q.prefix.clone()),
    };
    let delimiter = q.delimiter.as_deref().filter(|d| !d.is_empty());
    let columns = UPLOAD_COLUMNS;
    let mut from = conn.prepare_cached(&format!(
        "{columns} WHERE bucket = ?1 AND key >= ?2 ORDER BY key, id LIMIT ?3"
    ))?;
    let mut after = conn.prepare_cached(&format!(
        "{columns} WHERE bucket = ?1 AND (key > ?2 OR (key = ?2 AND CAST(?3 AS TEXT) IS NOT NULL AND id > ?3))
         ORDER BY key, id LIMIT ?4"
    ))?;
    let row = upload_from;
    'seek: loop {
        let batch = (q.max - listing.uploads.len() - listing.prefixes.len() + 1).min(1001);
        let rows: Vec<Upload> = match &bound {
            Bound::From(k) => from.query_map(crate::sql_params![bucket, k, batch], row)?,
            Bound::After(k, id) => {
                after.query_map(crate::sql_params![bucket, k, id, batch], row)?
            }
        }
        .collect::<Result<_, _>>()?;
        let seen = rows.len();
        for upload in rows {
            if !upload.key.starts_with(&q.prefix) {
                return Ok(listing);
            }
            let rest = &upload.key[q.prefix.len()..];
            let common = delimiter
                .and_then(|d| rest.find(d).map(|p| p + d.len()))
                .map(|end| upload.key[..q.prefix.len() + end].to_owned());
            // A common prefix at or before the key marker was listed on an earlier page.
            let listed_before = common
                .as_ref()
                .is_some_and(|c| q.key_marker.as_ref().is_some_and(|m| c <= m));
            if !listed_before && listing.uploads.len() + listing.prefixes.len() >= q.max {
                listing.truncated = true;
                return Ok(listing);
            }
            if let Some(common) = common {
                if !listed_before {
                    listing.next = Some((common.clone(), None));
                    listing.prefixes.push(common.clone());
                }
                match super::list::successor(&common) {
                    Some(next) => bound = Bound::From(next),
                    None => return Ok(listing),
                }
                continue 'seek;
            }
            listing.next = Some((upload.key.clone(), Some(upload.id.clone())));
            bound = Bound::After(upload.key.clone(), Some(upload.id.clone()));
            listing.uploads.push(upload);
        }
        if seen < batch {
            return Ok(listing);
        }
    }
}

/// Checks the client's part list against the uploaded parts, as S3 does.
pub(super) fn choose(all: &[Part], chosen: &[(u32, String)]) -> IndexResult<Vec<Part>> {
    if chosen.is_empty() {
        return Err(IndexError::InvalidPart(
            "You must specify at least one part".into(),
        ));
    }
    let mut parts = Vec::with_capacity(chosen.len());
    let mut previous = 0;
    for (number, etag) in chosen {
        if *number <= previous {
            return Err(IndexError::InvalidPartOrder);
        }
        previous = *number;
        let etag = etag.trim_matches('"');
        let part = all.iter().find(|p| p.number == *number && p.etag == etag).ok_or_else(|| {
            IndexError::InvalidPart(format!(
                "One or more of the specified parts could not be found. The part may not have been uploaded, or the \
                 specified entity tag may not match the part's entity tag. (part {number})"
            ))
        })?;
        parts.push(part.clone());
    }
    if parts[..parts.len() - 1]
        .iter()
        .any(|p| p.size < MIN_PART_SIZE)
    {
        return Err(IndexError::EntityTooSmall);
    }
    if parts.iter().map(|p| p.size).sum::<u64>() > MAX_OBJECT_SIZE {
        return Err(IndexError::EntityTooLarge);
    }
    Ok(parts)
}
