//! Storage per bucket for `/metrics`: objects, bytes, noncurrent versions, delete markers and
//! multipart uploads in progress, never counted by a scan per scrape.
//!
//! The `bucket_stats` table (migration 0013) is kept by triggers on `buckets`, `objects` and
//! `uploads`, so every write that changes what it counts changes it in the same transaction,
//! whatever the path (PutObject, inline or not, copies, versions and delete markers,
//! multipart completion and abort, lifecycle expiry, DeleteBucket). Memory follows the table:
//! the writer thread's SQLite update hook notes which `bucket_stats` rows a group transaction
//! touched, and once it has committed (before any of its tasks is answered) the writer reads
//! those rows again into `StorageStats`. A row rolled back with its savepoint is read back as
//! it was; a row deleted with its bucket leaves the map. At open the map is read whole.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::db::{DbError, WriterHook};

/// One bucket's storage, as last committed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BucketUsage {
    /// Current versions (what a listing shows).
    pub objects: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Older versions that are not delete markers.
    pub noncurrent: u64,
    pub noncurrent_bytes: u64,
    /// Delete markers, current or not.
    pub delete_markers: u64,
    /// Multipart uploads in progress.
    pub uploads: u64,
}

struct Entry {
    name: String,
    /// `{bucket="<name>"} `, ready to be written after a family's name.
    labels: String,
    usage: BucketUsage,
}

impl Entry {
    fn new(name: String, usage: BucketUsage) -> Entry {
        let labels = format!("{{bucket=\"{}\"}} ", crate::metrics::escape_label(&name));
        Entry {
            name,
            labels,
            usage,
        }
    }
}

/// Every bucket's usage, by the rowid of its `bucket_stats` row.
#[derive(Default)]
pub struct StorageStats {
    map: Mutex<BTreeMap<i64, Entry>>,
}

const SELECT: &str = "SELECT rowid, bucket, objects, bytes, noncurrent, noncurrent_bytes, delete_markers, uploads FROM bucket_stats";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, BucketUsage)> {
    // The triggers keep every count at zero or above; a negative one (damage) reads as zero.
    let count =
        |i: usize| -> rusqlite::Result<u64> { Ok(u64::try_from(r.get::<_, i64>(i)?).unwrap_or(0)) };
    Ok((
        r.get(0)?,
        r.get(1)?,
        BucketUsage {
            objects: count(2)?,
            bytes: count(3)?,
            noncurrent: count(4)?,
            noncurrent_bytes: count(5)?,
            delete_markers: count(6)?,
            uploads: count(7)?,
        },
    ))
}

/// The families, in the order they are rendered: name, help, and the field.
type Field = fn(&BucketUsage) -> u64;
const FAMILIES: [(&str, &str, Field); 6] = [
    (
        "labstore_bucket_objects",
        "Current object versions in the bucket (what a listing shows).",
        |u| u.objects,
    ),
    (
        "labstore_bucket_bytes",
        "Bytes of the bucket's current object versions.",
        |u| u.bytes,
    ),
    (
        "labstore_bucket_noncurrent_versions",
        "Noncurrent object versions in the bucket (delete markers excluded).",
        |u| u.noncurrent,
    ),
    (
        "labstore_bucket_noncurrent_bytes",
        "Bytes of the bucket's noncurrent object versions.",
        |u| u.noncurrent_bytes,
    ),
    (
        "labstore_bucket_delete_markers",
        "Delete markers in the bucket, current or not.",
        |u| u.delete_markers,
    ),
    (
        "labstore_bucket_multipart_uploads",
        "Multipart uploads in progress in the bucket.",
        |u| u.uploads,
    ),
];

impl StorageStats {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<i64, Entry>> {
        // Each update replaces whole entries: a panic cannot leave one half written.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads every row, at open (before any write runs).
    pub(super) fn load(&self, path: &Path) -> Result<(), DbError> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let mut stmt = conn.prepare(SELECT)?;
        let rows = stmt.query_map([], row)?;
        let mut map = self.lock();
        for r in rows {
            let (rowid, name, usage) = r?;
            map.insert(rowid, Entry::new(name, usage));
        }
        Ok(())
    }

    /// The bucket's usage as last committed; `None` for a bucket that does not exist.
    pub fn usage(&self, bucket: &str) -> Option<BucketUsage> {
        self.lock()
            .values()
            .find(|e| e.name == bucket)
            .map(|e| e.usage)
    }

    /// Buckets counted.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// The per-bucket families in Prometheus text.
    pub fn render(&self, out: &mut String) {
        let map = self.lock();
        let mut digits = itoa::Buffer::new();
        for (name, help, field) in FAMILIES {
            out.push_str("# HELP ");
            out.push_str(name);
            out.push(' ');
            out.push_str(help);
            out.push_str("\n# TYPE ");
            out.push_str(name);
            out.push_str(" gauge\n");
            for entry in map.values() {
                out.push_str(name);
                out.push_str(&entry.labels);
                out.push_str(digits.format(field(&entry.usage)));
                out.push('\n');
            }
        }
    }

    /// Reads the rows `rowids` again after a commit: each one's new value, or its removal.
    fn refresh(&self, conn: &Connection, rowids: &[i64]) -> rusqlite::Result<()> {
        let mut stmt = conn.prepare_cached(
            "SELECT rowid, bucket, objects, bytes, noncurrent, noncurrent_bytes, delete_markers, uploads FROM bucket_stats WHERE rowid = ?1",
        )?;
        let mut read = Vec::with_capacity(rowids.len());
        for rowid in rowids {
            read.push((*rowid, stmt.query_row([rowid], row).optional()?));
        }
        let mut map = self.lock();
        for (rowid, found) in read {
            match found {
                Some((_, name, usage)) => match map.get_mut(&rowid) {
                    Some(entry) if entry.name == name => entry.usage = usage,
                    _ => {
                        map.insert(rowid, Entry::new(name, usage));
                    }
                },
                None => {
                    map.remove(&rowid);
                }
            }
        }
        Ok(())
    }
}

/// The writer hook that keeps `StorageStats` following the table.
pub(super) struct Follow {
    stats: Arc<StorageStats>,
    /// Rowids of `bucket_stats` changed since the last group transaction ended. Filled by
    /// SQLite's update hook, on the writer thread (the mutex is never contended).
    touched: Arc<Mutex<Vec<i64>>>,
}

impl Follow {
    pub(super) fn new(stats: Arc<StorageStats>) -> Follow {
        Follow {
            stats,
            touched: Arc::default(),
        }
    }
}

impl WriterHook for Follow {
    fn attach(&mut self, conn: &Connection) {
        let touched = Arc::clone(&self.touched);
        conn.update_hook(Some(
            move |_: rusqlite::hooks::Action, _: &str, table: &str, rowid: i64| {
                if table == "bucket_stats" {
                    touched
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(rowid);
                }
            },
        ));
    }

    fn after(&mut self, conn: &Connection, committed: bool) {
        let mut rowids =
            std::mem::take(&mut *self.touched.lock().unwrap_or_else(|e| e.into_inner()));
        if !committed || rowids.is_empty() {
            // Rolled back whole: the table is as it was, and so is the map.
            return;
        }
        rowids.sort_unstable();
        rowids.dedup();
        if let Err(e) = self.stats.refresh(conn, &rowids) {
            // The map keeps the old values of these buckets until their next write.
            tracing::error!(error = %e, "reading storage per bucket after a commit failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_one_line_per_bucket_and_family() {
        let stats = StorageStats::default();
        {
            let mut map = stats.lock();
            map.insert(
                1,
                Entry::new(
                    "photos".into(),
                    BucketUsage {
                        objects: 3,
                        bytes: 4096,
                        noncurrent: 1,
                        noncurrent_bytes: 10,
                        delete_markers: 2,
                        uploads: 5,
                    },
                ),
            );
            map.insert(2, Entry::new("empty".into(), BucketUsage::default()));
        }
        let mut out = String::new();
        stats.render(&mut out);
        for line in [
            "# TYPE labstore_bucket_objects gauge",
            "labstore_bucket_objects{bucket=\"photos\"} 3",
            "labstore_bucket_bytes{bucket=\"photos\"} 4096",
            "labstore_bucket_noncurrent_versions{bucket=\"photos\"} 1",
            "labstore_bucket_noncurrent_bytes{bucket=\"photos\"} 10",
            "labstore_bucket_delete_markers{bucket=\"photos\"} 2",
            "labstore_bucket_multipart_uploads{bucket=\"photos\"} 5",
            "labstore_bucket_multipart_uploads{bucket=\"empty\"} 0",
        ] {
            assert!(out.lines().any(|l| l == line), "{line} missing from\n{out}");
        }
        assert_eq!(out.lines().count(), 6 * 2 + 6 * 2);
        assert_eq!(stats.usage("photos").map(|u| u.uploads), Some(5));
        assert_eq!(stats.usage("nothing"), None);
    }
}
