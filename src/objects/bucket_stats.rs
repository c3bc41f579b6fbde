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
use std::sync::{Arc, Mutex};

use crate::db::sql::{Connection, OptionalExtension};
use crate::db::Db;
use bytes::Bytes;

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

/// Buckets are rendered in groups of `1 << GROUP_BITS` consecutive rowids: each group keeps
/// its text per family until one of its buckets changes, so a scrape copies nothing for the
/// groups no write touched (their chunks are shared `Bytes`).
const GROUP_BITS: u32 = 6;

/// Every bucket's usage, by the rowid of its `bucket_stats` row, and the rendered text of
/// each group of them.
#[derive(Default)]
pub struct StorageStats {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: BTreeMap<i64, Entry>,
    /// Per group that has entries: its text per family, `None` once a bucket in it changed.
    groups: BTreeMap<i64, Option<[Bytes; FAMILIES.len()]>>,
}

impl Inner {
    fn set(&mut self, rowid: i64, entry: Option<Entry>) {
        let group = rowid >> GROUP_BITS;
        match entry {
            Some(entry) => {
                self.entries.insert(rowid, entry);
                self.groups.insert(group, None);
            }
            None => {
                if self.entries.remove(&rowid).is_some() {
                    let span = (group << GROUP_BITS)..((group + 1) << GROUP_BITS);
                    if self.entries.range(span).next().is_some() {
                        self.groups.insert(group, None);
                    } else {
                        self.groups.remove(&group);
                    }
                }
            }
        }
    }

    /// Group `group`'s lines of every family.
    fn render_group(&self, group: i64) -> [Bytes; FAMILIES.len()] {
        let span = (group << GROUP_BITS)..((group + 1) << GROUP_BITS);
        let mut digits = itoa::Buffer::new();
        std::array::from_fn(|f| {
            let (name, _, field) = FAMILIES[f];
            let mut out = String::with_capacity(64 << GROUP_BITS);
            for entry in self.entries.range(span.clone()).map(|(_, e)| e) {
                out.push_str(name);
                out.push_str(&entry.labels);
                out.push_str(digits.format(field(&entry.usage)));
                out.push('\n');
            }
            Bytes::from(out)
        })
    }
}

const SELECT: &str = "SELECT rowid, bucket, objects, bytes, noncurrent, noncurrent_bytes, delete_markers, uploads FROM bucket_stats";

fn row(r: &crate::db::sql::Row<'_>) -> crate::db::sql::Result<(i64, String, BucketUsage)> {
    // The triggers keep every count at zero or above; a negative one (damage) reads as zero.
    let count = |i: usize| -> crate::db::sql::Result<u64> {
        Ok(u64::try_from(r.get::<_, i64>(i)?).unwrap_or(0))
    };
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
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Each update replaces whole entries: a panic cannot leave one half written.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads every row, at open (before any write runs).
    pub(super) fn load(&self, db: &Db) -> Result<(), DbError> {
        db.read_now(|conn| self.read(conn))
    }

    fn read(&self, conn: &Connection) -> Result<(), DbError> {
        let mut stmt = conn.prepare(SELECT)?;
        let rows = stmt.query_map([], row)?;
        let mut inner = self.lock();
        for r in rows {
            let (rowid, name, usage) = r?;
            inner.set(rowid, Some(Entry::new(name, usage)));
        }
        Ok(())
    }

    /// The bucket's usage as last committed; `None` for a bucket that does not exist.
    pub fn usage(&self, bucket: &str) -> Option<BucketUsage> {
        self.lock()
            .entries
            .values()
            .find(|e| e.name == bucket)
            .map(|e| e.usage)
    }

    /// Buckets counted.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().entries.is_empty()
    }

    /// The per-bucket families in Prometheus text, as chunks appended to `out`: the groups no
    /// write changed since the last scrape are shared, not copied.
    pub fn render(&self, out: &mut Vec<Bytes>) {
        let mut inner = self.lock();
        let stale: Vec<i64> = inner
            .groups
            .iter()
            .filter(|(_, text)| text.is_none())
            .map(|(group, _)| *group)
            .collect();
        for group in stale {
            let text = inner.render_group(group);
            inner.groups.insert(group, Some(text));
        }
        for (f, (name, help, _)) in FAMILIES.iter().enumerate() {
            out.push(Bytes::from(format!(
                "# HELP {name} {help}\n# TYPE {name} gauge\n"
            )));
            out.extend(inner.groups.values().flatten().map(|text| text[f].clone()));
        }
    }

    /// Reads the whole table again (PostgreSQL, which has no update hook to say which rows a
    /// commit changed): every row's value, and the removal of rows gone.
    pub(super) fn refresh_all(&self, conn: &Connection) -> crate::db::sql::Result<()> {
        let rows: Vec<(i64, String, BucketUsage)> = conn
            .prepare_cached(SELECT)?
            .query_map([], row)?
            .collect::<Result<_, _>>()?;
        let present: std::collections::HashSet<i64> =
            rows.iter().map(|(rowid, ..)| *rowid).collect();
        let mut inner = self.lock();
        let gone: Vec<i64> = inner
            .entries
            .keys()
            .filter(|k| !present.contains(k))
            .copied()
            .collect();
        for rowid in gone {
            inner.set(rowid, None);
        }
        for (rowid, name, usage) in rows {
            let unchanged = inner
                .entries
                .get(&rowid)
                .is_some_and(|e| e.name == name && e.usage == usage);
            if !unchanged {
                inner.entries.remove(&rowid);
                inner.set(rowid, Some(Entry::new(name, usage)));
            }
        }
        Ok(())
    }

    /// Reads the rows `rowids` again after a commit: each one's new value, or its removal.
    fn refresh(&self, conn: &Connection, rowids: &[i64]) -> crate::db::sql::Result<()> {
        let mut stmt = conn.prepare_cached(
            "SELECT rowid, bucket, objects, bytes, noncurrent, noncurrent_bytes, delete_markers, uploads FROM bucket_stats WHERE rowid = ?1",
        )?;
        let mut read = Vec::with_capacity(rowids.len());
        for rowid in rowids {
            read.push((*rowid, stmt.query_row([rowid], row).optional()?));
        }
        let mut inner = self.lock();
        for (rowid, found) in read {
            let entry = found.map(|(_, name, usage)| match inner.entries.remove(&rowid) {
                Some(mut entry) if entry.name == name => {
                    entry.usage = usage;
                    entry
                }
                _ => Entry::new(name, usage),
            });
            inner.set(rowid, entry);
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
        let Some(conn) = conn.as_sqlite() else {
            return;
        };
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
        if conn.as_sqlite().is_none() {
            if committed {
                if let Err(e) = self.stats.refresh_all(conn) {
                    tracing::error!(error = %e, "reading storage per bucket after a commit failed");
                }
            }
            return;
        }
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
            map.set(
                1,
                Some(Entry::new(
                    "photos".into(),
                    BucketUsage {
                        objects: 3,
                        bytes: 4096,
                        noncurrent: 1,
                        noncurrent_bytes: 10,
                        delete_markers: 2,
                        uploads: 5,
                    },
                )),
            );
            map.set(2, Some(Entry::new("empty".into(), BucketUsage::default())));
        }
        let out = text(&stats);
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

    fn text(stats: &StorageStats) -> String {
        let mut chunks = Vec::new();
        stats.render(&mut chunks);
        chunks
            .iter()
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect()
    }

    fn bucket(n: u64) -> Entry {
        Entry::new(
            format!("b{n}"),
            BucketUsage {
                objects: n,
                ..BucketUsage::default()
            },
        )
    }

    /// Groups no change touched are shared from one scrape to the next; a changed or removed
    /// bucket's group is rendered again, and a group left empty goes.
    #[test]
    fn only_changed_groups_are_rendered_again() {
        let stats = StorageStats::default();
        let per_group = 1i64 << GROUP_BITS;
        for rowid in 1..=3 * per_group {
            stats
                .lock()
                .set(rowid, Some(bucket(u64::try_from(rowid).unwrap())));
        }
        let chunks = |stats: &StorageStats| {
            let mut chunks = Vec::new();
            stats.render(&mut chunks);
            chunks
        };
        let first = chunks(&stats);
        let second = chunks(&stats);
        // Per family: its HELP/TYPE chunk, then one chunk per group (four groups: rowids
        // 1..=192 span 0..64, 64..128, 128..192 and 192).
        assert_eq!(first.len(), 6 * (1 + 4));
        let shared = |a: &Bytes, b: &Bytes| a.as_ptr() == b.as_ptr();
        assert!(first
            .iter()
            .zip(&second)
            .skip(1)
            .take(4)
            .all(|(a, b)| shared(a, b)));
        stats.lock().set(70, Some(bucket(7000)));
        let third = chunks(&stats);
        assert!(shared(&second[1], &third[1]), "group 0 untouched");
        assert!(!shared(&second[2], &third[2]), "group 1 rendered again");
        assert!(text(&stats).contains("labstore_bucket_objects{bucket=\"b7000\"} 7000\n"));
        // Removing rowid 192, the only one of group 3, removes the group.
        stats.lock().set(3 * per_group, None);
        assert_eq!(chunks(&stats).len(), 6 * (1 + 3));
        assert!(!text(&stats).contains("{bucket=\"b192\"}"));
        assert_eq!(stats.len(), 191);
    }
}
