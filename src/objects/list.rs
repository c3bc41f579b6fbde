//! Listing objects in UTF-8 binary key order, with prefix, delimiter (common prefixes) and
//! paging, by range queries on the (bucket, key) index. A run of keys that rolls up into one
//! common prefix is skipped with a single seek past the prefix, so a page costs at most
//! about `max` index lookups however many keys share a prefix.

use crate::db::sql::Connection;

use super::{IndexResult, ObjectIndex};

/// Where a listing starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    Start,
    /// Strictly after this key (`marker`, `start-after`, a continuation after a key).
    After(String),
    /// At or after this key (a continuation after a common prefix: its successor).
    From(String),
}

impl Cursor {
    /// Whether an entry (a key or a common prefix) comes after the cursor, so that a listing
    /// from it includes the entry.
    pub fn precedes(&self, entry: &str) -> bool {
        match self {
            Cursor::Start => true,
            Cursor::After(k) => entry > k.as_str(),
            Cursor::From(k) => entry >= k.as_str(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ListQuery {
    pub prefix: String,
    pub delimiter: Option<String>,
    pub cursor: Cursor,
    pub max: usize,
}

#[derive(Debug, Clone)]
pub struct ObjectSummary {
    pub key: String,
    pub size: u64,
    pub etag: String,
    pub last_modified: i64,
    /// The checksum's algorithm and type, when the object has a checksum.
    pub checksum: Option<(String, String)>,
    /// `None` for STANDARD.
    pub storage_class: Option<String>,
}

#[derive(Debug, Default)]
pub struct Listing {
    pub objects: Vec<ObjectSummary>,
    pub prefixes: Vec<String>,
    /// More entries follow the last one returned.
    pub truncated: bool,
    /// The last entry returned: a key, or a common prefix (`true`).
    pub last: Option<(String, bool)>,
}

impl Listing {
    fn len(&self) -> usize {
        self.objects.len() + self.prefixes.len()
    }

    /// Where the next page starts.
    pub fn next_cursor(&self) -> Option<Cursor> {
        match &self.last {
            Some((prefix, true)) => {
                Some(successor(prefix).map_or(Cursor::After(prefix.clone()), Cursor::From))
            }
            Some((key, false)) => Some(Cursor::After(key.clone())),
            None => None,
        }
    }
}

/// The smallest string greater than every string that starts with `prefix`, if any: the
/// prefix with its last character replaced by the next Unicode scalar value. UTF-8 byte
/// order is code point order, so this is exact under SQLite's BINARY collation.
pub fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = last as u32 + 1;
        if next == 0xD800 {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

impl ObjectIndex {
    pub async fn list_objects(&self, bucket: String, query: ListQuery) -> IndexResult<Listing> {
        // From memory: see `buckets` for why a read needs no check in its snapshot.
        self.bucket(&bucket)?;
        self.db.read(move |conn| list(conn, &bucket, &query)).await
    }
}

/// The page's seeks: current versions only, every column from the covering index
/// `objects_listed` (migration 9), so a page never reads the table.
pub(super) const FROM_KEY: &str = "SELECT key, size, etag, last_modified, checksum_algorithm, checksum_type, storage_class FROM objects INDEXED BY objects_listed WHERE bucket = ?1 AND key >= ?2 AND current = 1 ORDER BY key LIMIT ?3";
pub(super) const AFTER_KEY: &str = "SELECT key, size, etag, last_modified, checksum_algorithm, checksum_type, storage_class FROM objects INDEXED BY objects_listed WHERE bucket = ?1 AND key > ?2 AND current = 1 ORDER BY key LIMIT ?3";

fn list(conn: &Connection, bucket: &str, q: &ListQuery) -> IndexResult<Listing> {
    // One read transaction for the whole page: every seek reads the same snapshot, and the
    // WAL read lock is taken once rather than once per query (a delimiter page runs one
    // query per common prefix). Read-only, so ending it by rollback on drop loses nothing.
    let _snapshot = conn.snapshot()?;
    let mut listing = Listing::default();
    if q.max == 0 {
        // As S3: max-keys=0 returns an empty, untruncated page.
        return Ok(listing);
    }
    let (mut from, mut inclusive) = match &q.cursor {
        Cursor::Start => (q.prefix.clone(), true),
        Cursor::After(k) => (k.clone(), false),
        Cursor::From(k) => (k.clone(), true),
    };
    if from < q.prefix {
        (from, inclusive) = (q.prefix.clone(), true);
    }
    let delimiter = q.delimiter.as_deref().filter(|d| !d.is_empty());
    // `storage_class` is the row's own column (migration 7), NULL for STANDARD.
    let mut ge = conn.prepare_cached(FROM_KEY)?;
    let mut gt = conn.prepare_cached(AFTER_KEY)?;
    'seek: loop {
        let batch = (q.max.saturating_sub(listing.len()) + 1).clamp(1, 1001);
        let stmt = if inclusive { &mut ge } else { &mut gt };
        let rows = stmt.query_map((bucket, &from, batch), |r| {
            Ok(ObjectSummary {
                key: r.get(0)?,
                size: r.get(1)?,
                etag: r.get(2)?,
                last_modified: r.get(3)?,
                checksum: Option::zip(r.get(4)?, r.get(5)?),
                storage_class: r.get(6)?,
            })
        })?;
        let mut seen = 0;
        for row in rows {
            let object = row?;
            seen += 1;
            if !object.key.starts_with(&q.prefix) {
                return Ok(listing);
            }
            let rest = &object.key[q.prefix.len()..];
            let rolled = delimiter.and_then(|d| rest.find(d).map(|p| p + d.len()));
            let prefix = rolled.map(|pos| object.key[..q.prefix.len() + pos].to_owned());
            // A key after the cursor may roll up into a common prefix at or before it (the
            // cursor is that prefix, or a key under it): S3 lists only entries after the
            // cursor, so the whole prefix is skipped, not listed again.
            let listed_before = prefix.as_ref().is_some_and(|p| !q.cursor.precedes(p));
            if !listed_before && listing.len() >= q.max {
                listing.truncated = true;
                return Ok(listing);
            }
            if let Some(prefix) = prefix {
                if !listed_before {
                    listing.last = Some((prefix.clone(), true));
                    listing.prefixes.push(prefix.clone());
                }
                match successor(&prefix) {
                    Some(next) => (from, inclusive) = (next, true),
                    None => return Ok(listing),
                }
                continue 'seek;
            }
            listing.last = Some((object.key.clone(), false));
            (from, inclusive) = (object.key.clone(), false);
            listing.objects.push(object);
        }
        if seen < batch {
            return Ok(listing);
        }
    }
}
