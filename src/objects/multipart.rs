//! Multipart uploads: parts are blobs of their own until CompleteMultipartUpload turns the
//! chosen ones, in order, into an object's segments in one commit.

use rusqlite::{Connection, OptionalExtension};

use super::{
    blob_of, now_ms, replace_object, require_bucket, IndexError, IndexResult, ObjectHeaders,
    ObjectIndex, ObjectMeta, Segment, WriteCondition,
};
use crate::storage::BlobId;

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
}

#[derive(Debug, Clone)]
pub struct Part {
    pub number: u32,
    pub blob: BlobId,
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
}

fn upload_row(conn: &Connection, bucket: &str, key: &str, id: &str) -> IndexResult<Upload> {
    require_bucket(conn, bucket)?;
    conn.query_row(
        "SELECT id, bucket, key, initiated, headers, checksum_algorithm FROM uploads WHERE id = ?1 AND bucket = ?2 AND key = ?3",
        (id, bucket, key),
        |r| {
            Ok(Upload {
                id: r.get(0)?,
                bucket: r.get(1)?,
                key: r.get(2)?,
                initiated: r.get(3)?,
                headers: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or_default(),
                checksum_algorithm: r.get(5)?,
            })
        },
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
            blob: blob_of(r.get(1)?)?,
            size: r.get::<_, i64>(2)? as u64,
            etag: r.get(3)?,
            checksum: r.get(4)?,
            last_modified: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

impl ObjectIndex {
    pub async fn create_upload(
        &self,
        bucket: String,
        key: String,
        headers: ObjectHeaders,
        checksum_algorithm: Option<String>,
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
            checksum_algorithm,
        };
        let row = upload.clone();
        self.db
            .write(move |conn| {
                require_bucket(conn, &row.bucket)?;
                let headers = serde_json::to_string(&row.headers).unwrap_or_else(|_| "{}".into());
                conn.execute(
                    "INSERT INTO uploads (id, bucket, key, initiated, headers, checksum_algorithm) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    (&row.id, &row.bucket, &row.key, row.initiated, headers, &row.checksum_algorithm),
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

    /// Records a part, replacing an earlier one with the same number; returns its blob.
    pub async fn put_part(
        &self,
        bucket: String,
        key: String,
        id: String,
        part: Part,
    ) -> IndexResult<Option<BlobId>> {
        self.db
            .write(move |conn| {
                upload_row(conn, &bucket, &key, &id)?;
                let old: Option<String> = conn
                    .query_row("SELECT blob FROM parts WHERE upload_id = ?1 AND number = ?2", (&id, part.number), |r| r.get(0))
                    .optional()?;
                conn.execute(
                    "INSERT OR REPLACE INTO parts (upload_id, number, blob, size, etag, checksum, last_modified)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    rusqlite::params![id, part.number, part.blob.as_str(), part.size as i64, part.etag, part.checksum, part.last_modified],
                )?;
                Ok(old.and_then(|b| BlobId::parse(&b)))
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
                let mut parts = parts_of(conn, &id, after, max as i64 + 1)?;
                let truncated = parts.len() > max;
                parts.truncate(max);
                Ok((upload, parts, truncated))
            })
            .await
    }

    /// Turns the chosen parts into the object, in one commit; returns the object and the
    /// blobs no longer referenced (unchosen parts, the object it replaced).
    pub async fn complete_upload<F>(
        &self,
        bucket: String,
        key: String,
        id: String,
        chosen: Vec<(u32, String)>,
        condition: WriteCondition,
        finish: F,
    ) -> IndexResult<(ObjectMeta, Vec<BlobId>)>
    where
        F: FnOnce(&Upload, &[Part]) -> IndexResult<Completion> + Send + 'static,
    {
        self.db
            .write(move |conn| {
                let upload = upload_row(conn, &bucket, &key, &id)?;
                let all = parts_of(conn, &id, 0, i64::MAX)?;
                let parts = choose(&all, &chosen)?;
                let done = finish(&upload, &parts)?;
                let object = ObjectMeta {
                    bucket: bucket.clone(),
                    key: key.clone(),
                    size: parts.iter().map(|p| p.size).sum(),
                    etag: done.etag,
                    last_modified: now_ms(),
                    headers: upload.headers.clone(),
                    checksum_algorithm: upload.checksum_algorithm.clone(),
                    checksum: done.checksum,
                    parts: Some(parts.len() as u32),
                    segments: parts
                        .iter()
                        .map(|p| Segment {
                            blob: p.blob.clone(),
                            size: p.size,
                            etag: Some(p.etag.clone()),
                            checksum: p.checksum.clone(),
                        })
                        .collect(),
                };
                let mut unused = replace_object(conn, &object, &condition)?;
                unused.extend(
                    all.iter()
                        .filter(|p| !parts.iter().any(|c| c.number == p.number))
                        .map(|p| p.blob.clone()),
                );
                conn.execute("DELETE FROM uploads WHERE id = ?1", [&id])?;
                Ok((object, unused))
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
                    .map(|p| p.blob)
                    .collect();
                conn.execute("DELETE FROM uploads WHERE id = ?1", [&id])?;
                Ok(blobs)
            })
            .await
    }

    /// Uploads in progress in a bucket, by key then initiation time, after the markers.
    pub async fn list_uploads(
        &self,
        bucket: String,
        prefix: String,
        key_marker: Option<String>,
        upload_id_marker: Option<String>,
        max: usize,
    ) -> IndexResult<(Vec<Upload>, bool)> {
        self.db
            .read(move |conn| {
                require_bucket(conn, &bucket)?;
                let mut stmt = conn.prepare_cached(
                    "SELECT id, bucket, key, initiated, headers, checksum_algorithm FROM uploads
                     WHERE bucket = ?1 AND substr(key, 1, length(?2)) = ?2
                       AND (?3 IS NULL OR key > ?3 OR (key = ?3 AND ?4 IS NOT NULL AND id > ?4))
                     ORDER BY key, id LIMIT ?5",
                )?;
                let rows = stmt.query_map(
                    rusqlite::params![bucket, prefix, key_marker, upload_id_marker, max as i64 + 1],
                    |r| {
                        Ok(Upload {
                            id: r.get(0)?,
                            bucket: r.get(1)?,
                            key: r.get(2)?,
                            initiated: r.get(3)?,
                            headers: serde_json::from_str(&r.get::<_, String>(4)?)
                                .unwrap_or_default(),
                            checksum_algorithm: r.get(5)?,
                        })
                    },
                )?;
                let mut uploads: Vec<Upload> = rows.collect::<Result<_, _>>()?;
                let truncated = uploads.len() > max;
                uploads.truncate(max);
                Ok((uploads, truncated))
            })
            .await
    }
}

/// Checks the client's part list against the uploaded parts, as S3 does.
fn choose(all: &[Part], chosen: &[(u32, String)]) -> IndexResult<Vec<Part>> {
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
    Ok(parts)
}
