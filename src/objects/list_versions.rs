//! Listing every version and delete marker of a bucket (ListObjectVersions) in S3's order: keys
//! in UTF-8 binary order, each key's versions newest first. That is the order of the index
//! `UNIQUE (bucket, key, version)` (`docs/versioning.md`: ascending `version` is newest first),
//! so a page is range seeks on it, as `list.rs` pages the current objects: a `key-marker` with a
//! `version-id-marker` is itself the seek position (`key = ?km AND version > ?vm`, then
//! `key > ?km`), and a run of keys that rolls up into one common prefix is skipped with one
//! seek past the prefix. Rows are stepped lazily, so a page costs about `max` index steps
//! plus one seek per common prefix, however many versions the keys have.

use crate::db::sql::{Connection, OptionalExtension, Statement as CachedStatement};

use super::list::successor;
use super::versions::visible_id;
use super::{IndexResult, ObjectIndex, VersionRef};

/// What ListObjectVersions asks for.
#[derive(Debug, Clone)]
pub struct VersionQuery {
    pub prefix: String,
    pub delimiter: Option<String>,
    /// Start after every version of this key, or (with `version_id_marker`) after that
    /// version of it.
    pub key_marker: Option<String>,
    /// `VersionRef::Current` when the request named none.
    pub version_id_marker: VersionRef,
    pub max: usize,
}

/// One version or delete marker, as ListObjectVersions shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionEntry {
    pub key: String,
    /// The id clients see: the version id, or `null`.
    pub version_id: String,
    /// The key's newest row, a version or a delete marker.
    pub is_latest: bool,
    pub delete_marker: bool,
    pub size: u64,
    pub etag: String,
    pub last_modified: i64,
    /// The checksum's algorithm and type, when the version has a checksum.
    pub checksum: Option<(String, String)>,
    /// `None` for STANDARD.
    pub storage_class: Option<String>,
}

#[derive(Debug, Default)]
pub struct VersionListing {
    /// Versions and delete markers, in list order.
    pub entries: Vec<VersionEntry>,
    pub prefixes: Vec<String>,
    /// More entries follow the last one returned.
    pub truncated: bool,
    /// The last entry returned: its key (or common prefix) and version id (none for a common
    /// prefix): `NextKeyMarker` and `NextVersionIdMarker` when the page is truncated.
    pub last: Option<(String, Option<String>)>,
}

impl VersionListing {
    fn len(&self) -> usize {
        self.entries.len() + self.prefixes.len()
    }
}

impl ObjectIndex {
    pub async fn list_versions(
        &self,
        bucket: String,
        query: VersionQuery,
    ) -> IndexResult<VersionListing> {
        // From memory: see `buckets` for why a read needs no check in its snapshot.
        self.bucket(&bucket)?;
        self.db
            .read(move |conn| list_versions(conn, &bucket, &query))
            .await
    }
}

/// Where a seek of `UNIQUE (bucket, key, version)` starts.
#[derive(Debug, Clone)]
enum Bound {
    /// Keys at or after this one, from their newest version.
    From(String),
    /// Keys after this one.
    AfterKey(String),
    /// This key's versions older than this ordering id; then `AfterKey`.
    Within(String, String),
}

/// A query of the listed columns, `$rest` its `WHERE` and after.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT key, version, null_version, delete_marker, size, etag, last_modified, checksum_algorithm, checksum_type, storage_class FROM objects ",
            $rest
        )
    };
}

/// A row as the scan reads it.
struct Row {
    key: String,
    version: String,
    null_version: bool,
    delete_marker: bool,
    size: u64,
    etag: String,
    last_modified: i64,
    checksum: Option<(String, String)>,
    storage_class: Option<String>,
}

fn row_from(r: &crate::db::sql::Row<'_>) -> crate::db::sql::Result<Row> {
    Ok(Row {
        key: r.get(0)?,
        version: r.get(1)?,
        null_version: r.get(2)?,
        delete_marker: r.get(3)?,
        size: r.get(4)?,
        etag: r.get(5)?,
        last_modified: r.get(6)?,
        checksum: Option::zip(r.get(7)?, r.get(8)?),
        storage_class: r.get(9)?,
    })
}

/// The prepared seeks, one per kind of bound.
struct Seeks<'c> {
    from: CachedStatement<'c>,
    after_key: CachedStatement<'c>,
    within: CachedStatement<'c>,
}

/// The ordering id where a listing resumes within `key`: after the version the marker names.
/// `null` names the key's null version; when the key has none (it was removed since the
/// marker was handed out), the listing resumes at the key's newest version, which repeats
/// entries rather than skipping any.
fn marker_version(
    conn: &Connection,
    bucket: &str,
    key: &str,
    marker: &VersionRef,
) -> IndexResult<Option<String>> {
    Ok(match marker {
        VersionRef::Current => None,
        VersionRef::Id(id) => Some(id.clone()),
        VersionRef::Null => Some(
            conn.prepare_cached(
                "SELECT version FROM objects INDEXED BY objects_null WHERE bucket = ?1 AND key = ?2 AND null_version = 1",
            )?
            .query_row((bucket, key), |r| r.get(0))
            .optional()?
            .unwrap_or_default(),
        ),
    })
}

fn list_versions(conn: &Connection, bucket: &str, q: &VersionQuery) -> IndexResult<VersionListing> {
    // One read transaction for the page: every seek reads the same snapshot. Read-only, so
    // ending it by rollback on drop loses nothing.
    let _snapshot = conn.snapshot()?;
    let mut listing = VersionListing::default();
    if q.max == 0 {
        // As the object listings: max-keys=0 returns an empty, untruncated page.
        return Ok(listing);
    }
    let mut bound = match &q.key_marker {
        Some(k) if *k >= q.prefix => match marker_version(conn, bucket, k, &q.version_id_marker)? {
            Some(v) => Bound::Within(k.clone(), v),
            None => Bound::AfterKey(k.clone()),
        },
        _ => Bound::From(q.prefix.clone()),
    };
    // A scan from `Within` starts inside the marker's key, whose newest row it may reach only
    // when the version the marker named was removed since: that row is then the latest.
    let marker_newest: Option<(String, String)> = match &bound {
        Bound::Within(k, _) => conn
            .prepare_cached(
                "SELECT version FROM objects WHERE bucket = ?1 AND key = ?2 ORDER BY version LIMIT 1",
            )?
            .query_row((bucket, k), |r| r.get(0))
            .optional()?
            .map(|newest| (k.clone(), newest)),
        _ => None,
    };
    let delimiter = q.delimiter.as_deref().filter(|d| !d.is_empty());
    let mut seeks = Seeks {
        from: conn.prepare_cached(select!(
            "WHERE bucket = ?1 AND key >= ?2 ORDER BY key, version LIMIT ?3"
        ))?,
        after_key: conn.prepare_cached(select!(
            "WHERE bucket = ?1 AND key > ?2 ORDER BY key, version LIMIT ?3"
        ))?,
        within: conn.prepare_cached(select!(
            "WHERE bucket = ?1 AND key = ?2 AND version > ?3 ORDER BY version LIMIT ?4"
        ))?,
    };
    // The key of the previous row the scan read: a row of another key is its key's newest,
    // since every seek but `Within` starts at a key's newest row.
    let mut previous_key: Option<String> = match &bound {
        Bound::Within(k, _) => Some(k.clone()),
        _ => None,
    };
    'seek: loop {
        let batch = (q.max.saturating_sub(listing.len()) + 1).clamp(1, 1001);
        let within = matches!(bound, Bound::Within(..));
        let rows = match &bound {
            Bound::From(k) => seeks.from.query_map((bucket, k, batch), row_from)?,
            Bound::AfterKey(k) => seeks.after_key.query_map((bucket, k, batch), row_from)?,
            Bound::Within(k, v) => seeks.within.query_map((bucket, k, v, batch), row_from)?,
        };
        let mut seen = 0;
        for row in rows {
            let row = row?;
            seen += 1;
            if !row.key.starts_with(&q.prefix) {
                return Ok(listing);
            }
            let rest = &row.key[q.prefix.len()..];
            let common = delimiter
                .and_then(|d| rest.find(d).map(|p| p + d.len()))
                .map(|end| row.key[..q.prefix.len() + end].to_owned());
            // A common prefix at or before the key marker was listed on an earlier page (the
            // marker is that prefix, or a key under it): skipped whole, not listed again.
            let listed_before = common
                .as_ref()
                .is_some_and(|c| q.key_marker.as_ref().is_some_and(|m| c <= m));
            if !listed_before && listing.len() >= q.max {
                listing.truncated = true;
                return Ok(listing);
            }
            if let Some(common) = common {
                if !listed_before {
                    listing.last = Some((common.clone(), None));
                    listing.prefixes.push(common.clone());
                }
                match successor(&common) {
                    Some(next) => bound = Bound::From(next),
                    None => return Ok(listing),
                }
                previous_key = None;
                continue 'seek;
            }
            let is_latest = if previous_key.as_deref() == Some(row.key.as_str()) {
                marker_newest
                    .as_ref()
                    .is_some_and(|(k, v)| *k == row.key && *v == row.version)
            } else {
                true
            };
            let entry = VersionEntry {
                version_id: visible_id(&row.version, row.null_version),
                is_latest,
                delete_marker: row.delete_marker,
                size: row.size,
                etag: row.etag,
                last_modified: row.last_modified,
                checksum: row.checksum,
                storage_class: row.storage_class,
                key: row.key,
            };
            listing.last = Some((entry.key.clone(), Some(entry.version_id.clone())));
            previous_key = Some(entry.key.clone());
            bound = Bound::Within(entry.key.clone(), row.version);
            listing.entries.push(entry);
        }
        if seen < batch {
            match bound {
                // A seek inside a key read all its remaining versions: the keys after it.
                Bound::Within(k, _) if within => bound = Bound::AfterKey(k),
                _ => return Ok(listing),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::objects::tests::{config, object};
    use crate::objects::{BucketConfig, Versioning, VersioningStatus, WriteCondition};

    /// A versioned bucket `b` whose keys have several versions, delete markers, a null
    /// version written before versioning was enabled, and keys under prefixes.
    async fn history() -> (tempfile::TempDir, ObjectIndex) {
        let dir = tempfile::tempdir().unwrap();
        let index = ObjectIndex::open(dir.path(), &config()).unwrap();
        index
            .create_bucket("b".into(), "us-east-1".into(), "111122223333".into())
            .await
            .unwrap();
        let put = |key: &'static str| {
            let index = &index;
            async move {
                index
                    .put_object(object("b", key, "e"), WriteCondition::Always)
                    .await
                    .unwrap();
            }
        };
        put("a").await;
        index
            .put_bucket_config(
                "b".into(),
                BucketConfig::Versioning(Arc::new(Versioning::new(VersioningStatus::Enabled))),
            )
            .await
            .unwrap();
        for key in ["a", "a", "b/1", "b/2", "b/2", "c", "d/x/1", "e"] {
            put(key).await;
        }
        for key in ["a", "c"] {
            index
                .delete_object("b".into(), key.into(), VersionRef::Current, false)
                .await
                .unwrap();
        }
        put("c").await;
        (dir, index)
    }

    fn query(prefix: &str, delimiter: Option<&str>, max: usize) -> VersionQuery {
        VersionQuery {
            prefix: prefix.into(),
            delimiter: delimiter.map(Into::into),
            key_marker: None,
            version_id_marker: VersionRef::Current,
            max,
        }
    }

    /// Every page, following NextKeyMarker and NextVersionIdMarker, as "key version-id latest
    /// marker" or "prefix (prefix)", in list order.
    async fn all_pages(index: &ObjectIndex, base: &VersionQuery) -> Vec<String> {
        let mut out = Vec::new();
        let mut q = base.clone();
        loop {
            let page = index.list_versions("b".into(), q.clone()).await.unwrap();
            assert!(page.len() <= q.max.max(1));
            // A page keeps versions and prefixes apart; in list order they interleave by key.
            let mut items: Vec<(String, String)> = page
                .entries
                .iter()
                .map(|e| {
                    let text = format!("{} {} {}", e.version_id, e.is_latest, e.delete_marker);
                    (e.key.clone(), text)
                })
                .chain(page.prefixes.iter().map(|p| (p.clone(), "(prefix)".into())))
                .collect();
            items.sort_by(|a, b| a.0.cmp(&b.0));
            out.extend(items.into_iter().map(|(k, text)| format!("{k} {text}")));
            if !page.truncated {
                return out;
            }
            let (key, version) = page.last.unwrap();
            q.key_marker = Some(key);
            q.version_id_marker = match version.as_deref() {
                None => VersionRef::Current,
                Some("null") => VersionRef::Null,
                Some(id) => VersionRef::Id(id.to_owned()),
            };
        }
    }

    #[tokio::test]
    async fn every_page_size_lists_every_version_once_in_order() {
        let (_dir, index) = history().await;
        let whole = index
            .list_versions("b".into(), query("", None, 1000))
            .await
            .unwrap();
        assert!(!whole.truncated);
        let keys: Vec<(&str, bool, bool)> = whole
            .entries
            .iter()
            .map(|e| (e.key.as_str(), e.is_latest, e.delete_marker))
            .collect();
        assert_eq!(
            keys,
            [
                ("a", true, true),
                ("a", false, false),
                ("a", false, false),
                ("a", false, false),
                ("b/1", true, false),
                ("b/2", true, false),
                ("b/2", false, false),
                ("c", true, false),
                ("c", false, true),
                ("c", false, false),
                ("d/x/1", true, false),
                ("e", true, false),
            ]
        );
        // The version written before versioning is the null version, listed last of `a`.
        assert_eq!(whole.entries[3].version_id, "null");
        for e in &whole.entries[..3] {
            assert!(crate::objects::versions::is_version_id(&e.version_id));
        }
        // Newest first within a key: ascending ordering ids.
        for pair in whole.entries.windows(2) {
            if pair[0].key == pair[1].key && pair[1].version_id != "null" {
                assert!(pair[0].version_id < pair[1].version_id);
            }
        }
        for (prefix, delimiter) in [("", None), ("", Some("/")), ("b", None), ("d/", Some("/"))] {
            let expected = all_pages(&index, &query(prefix, delimiter, 1000)).await;
            for max in 1..=13 {
                assert_eq!(
                    all_pages(&index, &query(prefix, delimiter, max)).await,
                    expected,
                    "prefix {prefix:?} delimiter {delimiter:?} max {max}"
                );
            }
        }
        let rolled = index
            .list_versions("b".into(), query("", Some("/"), 1000))
            .await
            .unwrap();
        let keys: Vec<(&str, bool, bool)> = rolled
            .entries
            .iter()
            .map(|e| (e.key.as_str(), e.is_latest, e.delete_marker))
            .collect();
        assert_eq!(
            keys[..4],
            whole
                .entries
                .iter()
                .take(4)
                .map(|e| (e.key.as_str(), e.is_latest, e.delete_marker))
                .collect::<Vec<_>>()[..]
        );
        assert_eq!(keys.len(), 8, "a's 4, c's 3, e's 1");
        assert_eq!(rolled.prefixes, ["b/", "d/"]);
    }

    /// A marker that names a version removed since resumes after where it was; the key's
    /// newest row is still shown as the latest. `null` without a null version resumes at the
    /// key's newest row.
    #[tokio::test]
    async fn markers_resume_where_they_say() {
        let (_dir, index) = history().await;
        let whole = index
            .list_versions("b".into(), query("", None, 1000))
            .await
            .unwrap();
        let after = |key: &str, version: VersionRef| {
            let mut q = query("", None, 1000);
            q.key_marker = Some(key.into());
            q.version_id_marker = version;
            let index = &index;
            async move {
                index
                    .list_versions("b".into(), q)
                    .await
                    .unwrap()
                    .entries
                    .into_iter()
                    .map(|e| (e.key, e.version_id, e.is_latest))
                    .collect::<Vec<_>>()
            }
        };
        let all: Vec<_> = whole
            .entries
            .iter()
            .map(|e| (e.key.clone(), e.version_id.clone(), e.is_latest))
            .collect();
        // key-marker alone: after every version of the key.
        assert_eq!(after("a", VersionRef::Current).await, all[4..]);
        assert_eq!(after("", VersionRef::Current).await, all);
        assert_eq!(after("b", VersionRef::Current).await, all[4..]);
        // With a version: after that version.
        let second = VersionRef::Id(all[1].1.clone());
        assert_eq!(after("a", second).await, all[2..]);
        assert_eq!(after("a", VersionRef::Null).await, all[4..]);
        // `c` has no null version: all of it again.
        assert_eq!(after("c", VersionRef::Null).await, all[7..]);
        // The newest row of `a` (its delete marker) named, then removed: `a`'s next row is
        // now its newest and the latest.
        let marker = all[0].1.clone();
        index
            .delete_object(
                "b".into(),
                "a".into(),
                VersionRef::Id(marker.clone()),
                false,
            )
            .await
            .unwrap();
        let resumed = after("a", VersionRef::Id(marker)).await;
        assert_eq!(resumed[0], (all[1].0.clone(), all[1].1.clone(), true));
        assert_eq!(resumed[1..], all[2..]);
    }

    /// Every seek reads `UNIQUE (bucket, key, version)`, never the table.
    #[tokio::test]
    async fn seeks_use_the_version_index() {
        let (_dir, index) = history().await;
        let plans = index
            .db
            .read(|conn| -> IndexResult<Vec<String>> {
                let mut plans = Vec::new();
                let seeks: [(&str, &[&dyn crate::db::sql::Param]); 3] = [
                    (
                        select!("WHERE bucket = ?1 AND key >= ?2 ORDER BY key, version LIMIT ?3"),
                        &[&"b", &"a", &5],
                    ),
                    (
                        select!("WHERE bucket = ?1 AND key > ?2 ORDER BY key, version LIMIT ?3"),
                        &[&"b", &"a", &5],
                    ),
                    (
                        select!(
                            "WHERE bucket = ?1 AND key = ?2 AND version > ?3 ORDER BY version LIMIT ?4"
                        ),
                        &[&"b", &"a", &"0", &5],
                    ),
                ];
                for (sql, params) in seeks {
                    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                    let rows = stmt.query_map(params, |r| r.get::<_, String>(3))?;
                    plans.push(rows.collect::<Result<Vec<_>, _>>()?.join("; "));
                }
                Ok(plans)
            })
            .await
            .unwrap();
        for plan in plans {
            assert!(
                plan.contains("USING INDEX sqlite_autoindex_objects"),
                "{plan}"
            );
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        }
    }
}
