//! ListObjectsV2 page cost: one page of 1000 entries from a bucket of one million keys, through
//! `ObjectIndex::list_objects`, the call the S3 handler makes (a pooled read-only connection on
//! a blocking thread, the index range queries, the rows turned into summaries). The XML
//! rendering of a page (1000 keys; 1000 common prefixes) is measured on its own, as
//! `render_list_objects_v2`: the response body the handler sends for it.
//!
//! The keys are `dir{0..999}/file{0..999}`, so a `/` delimiter at the root rolls each
//! directory's thousand keys up into one common prefix: that page costs a thousand seeks.
//! Pages measured: the first plain page, a plain page resumed in the middle (a continuation),
//! the root with a delimiter (1000 common prefixes), and one directory with a delimiter.
//!
//! Inserting a million objects through the index writer would take minutes, so the database
//! is built once by bulk SQL inserts in one transaction (the schema comes from opening the
//! index, which runs the migrations) and kept under `$CARGO_TARGET_DIR/bench-data/` (else
//! `target/bench-data/`); later runs reuse it when it holds exactly the expected keys (and
//! segments). Rows of the plain and versioned buckets have no segments: listing does not read
//! them.
//!
//! The same pages are measured on a versioned bucket of the same million keys with five
//! versions each, where a fifth of the keys end in a delete marker (`versioned_*`): five
//! million rows, of which 800,000 are current. The listing reads the partial index of current
//! versions, so a page costs what the unversioned page costs (issue target: within 2×).
//!
//! Issue 14 (small objects inline): the same pages on two more buckets of the same million
//! keys, one version each, every object 4096 bytes in one segment: in `blobs_*` the segment
//! names a blob file (none exists: listing never opens blobs), in `inline_*` it holds the
//! object's bytes (`segments.data`, different bytes per object), about 5 GB of database.
//! Listing reads only the covering index `objects_listed`, never `segments`, so a page of
//! inline objects should cost what a page of blob-stored ones does (issue target: within 2×).
//! `cargo bench --bench listing -- 'blobs_|inline_'` runs only those (the plain and versioned
//! databases are still built if missing: each bucket is opened before criterion filters).
//!
//! Run with `cargo bench --bench listing`. Target: under 5 ms per page.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use labstore::config;
use labstore::objects::{Cursor, ListQuery, Listing, ObjectIndex};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use tokio::runtime::Runtime;

const BUCKET: &str = "bench";
const DIRS: usize = 1000;
const FILES_PER_DIR: usize = 1000;
const KEYS: usize = DIRS * FILES_PER_DIR;
const PAGE: usize = 1000;

/// Versions per key in the versioned bucket.
const VERSIONS: usize = 5;

/// The size of every object in the `blobs_` and `inline_` buckets (issue 14: 4 KiB objects,
/// under the default `backend.s3.inline_max`).
const OBJECT_SIZE: usize = 4096;

/// What each object of a benchmark bucket has besides its row in `objects`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Contents {
    /// No segment rows (the plain and versioned buckets).
    Nothing,
    /// One segment naming a blob file by id (the file is never created: listing does not open
    /// blobs).
    Blob,
    /// One segment holding the object's `OBJECT_SIZE` bytes in `segments.data`.
    Inline,
}

/// A cached benchmark bucket: its directory under `bench-data/`, versions per key, segments,
/// and the prefix of its benchmark names.
struct Bucket {
    data: &'static str,
    versions: usize,
    contents: Contents,
    label: &'static str,
}

const BUCKETS: [Bucket; 4] = [
    Bucket {
        data: "listing-1m",
        versions: 1,
        contents: Contents::Nothing,
        label: "",
    },
    Bucket {
        data: "listing-1m-x5",
        versions: VERSIONS,
        contents: Contents::Nothing,
        label: "versioned_",
    },
    Bucket {
        data: "listing-1m-blobs",
        versions: 1,
        contents: Contents::Blob,
        label: "blobs_",
    },
    Bucket {
        data: "listing-1m-inline",
        versions: 1,
        contents: Contents::Inline,
        label: "inline_",
    },
];

/// Object number `n`'s bytes in the inline bucket: splitmix64 outputs `n << 32` onwards, a
/// stretch of the sequence of its own (2^32 outputs per object), so that no two objects share
/// a run of bytes and pages do not compress.
fn object_bytes(n: u64, into: &mut [u8]) {
    let mut state = (n << 32).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for chunk in into.chunks_mut(8) {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
    }
}

/// `bench-data/<name>` under the target directory cargo builds into.
fn data_dir(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("bench-data").join(name)
}

/// Whether key number `n` of the versioned bucket ends in a delete marker: a fifth of them.
fn deleted(n: usize) -> bool {
    n % 5 == 4
}

fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join("metadata").join("objects.db")
}

/// `0, 1, 10, 100, 101, ...`: numbers in the order of their decimal strings, so that keys are
/// inserted in index order.
fn names_in_key_order(prefix: &str, count: usize) -> Vec<String> {
    let mut names: Vec<String> = (0..count).map(|n| format!("{prefix}{n}")).collect();
    names.sort_unstable();
    names
}

/// Whether the cached database holds the benchmark's rows: the count and the last key, and
/// the segments (none, or one per key holding a blob id, or one per key holding data), in the
/// current schema. One built by an older binary is built again rather than migrated: a
/// migration that rebuilds a table leaves the file with the old table's pages free and a
/// large WAL, which is not what a page costs on a database written by this version.
fn is_populated(path: &Path, versions: usize, contents: Contents) -> bool {
    let Ok(conn) = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY) else {
        return false;
    };
    let schema: Option<u32> = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .ok();
    if schema != labstore::objects::MIGRATIONS.last().map(|m| m.version) {
        return false;
    }
    let found = conn
        .query_row(
            "SELECT count(*), max(key) FROM objects WHERE bucket = ?1",
            [BUCKET],
            |r| Ok((r.get::<_, usize>(0)?, r.get::<_, Option<String>>(1)?)),
        )
        .optional();
    let expected_last = format!("dir{}/file{}", DIRS - 1, FILES_PER_DIR - 1);
    if !matches!(found, Ok(Some((n, Some(last)))) if n == KEYS * versions && last == expected_last)
    {
        return false;
    }
    // Both counts read an index (the primary key's, the partial `segments_by_blob`), not the
    // 4.5 GB table; the table's CHECK makes every segment without a blob one with data.
    let segments = conn.query_row(
        "SELECT (SELECT count(*) FROM segments), (SELECT count(*) FROM segments WHERE blob IS NOT NULL)",
        [],
        |r| Ok((r.get::<_, usize>(0)?, r.get::<_, usize>(1)?)),
    );
    let expected = match contents {
        Contents::Nothing => (0, 0),
        Contents::Blob => (KEYS, KEYS),
        Contents::Inline => (KEYS, 0),
    };
    matches!(segments, Ok(found) if found == expected)
}

/// One transaction of `KEYS × versions` inserts through one prepared statement, in index
/// order. With one version, every key is its null version (a bucket never versioned); with
/// more, the newest row of a fifth of the keys is a delete marker, and every other key's
/// newest version is current. With contents, each object is `OBJECT_SIZE` bytes and gets its
/// one segment right after its row, as the index writer inserts them.
fn bulk_insert(path: &Path, versions: usize, contents: Contents) -> rusqlite::Result<()> {
    let mut conn = Connection::open(path)?;
    // A lost benchmark database is rebuilt, so it need not survive a crash.
    conn.pragma_update(None, "synchronous", "OFF")?;
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO buckets (name, created_at, region) VALUES (?1, 0, 'us-east-1')",
        [BUCKET],
    )?;
    {
        let mut insert = tx.prepare(
            "INSERT INTO objects (bucket, key, size, etag, last_modified, headers, version, null_version, current, delete_marker)
             VALUES (?1, ?2, ?3, ?4, ?5, '{}', ?6, ?7, ?8, ?9)",
        )?;
        let mut segment = tx.prepare(
            "INSERT INTO segments (object_id, idx, blob, size, data) VALUES (?1, 0, ?2, ?3, ?4)",
        )?;
        let mut data = vec![0_u8; OBJECT_SIZE];
        let object_size = i64::try_from(OBJECT_SIZE).expect("an object size fits a column");
        let files = names_in_key_order("file", FILES_PER_DIR);
        let mut n: i64 = 0;
        for dir in names_in_key_order("dir", DIRS) {
            for file in &files {
                let key = format!("{dir}/{file}");
                let etag = format!(
                    "{:032x}",
                    n.unsigned_abs().wrapping_mul(0x9e37_79b9_7f4a_7c15)
                );
                let marked = versions > 1 && deleted(usize::try_from(n).unwrap_or(0));
                // Newest first: the ordering id grows as the stamp falls.
                for age in 0..versions {
                    let stamp = 1_740_830_400_000_000 + n * 10 - i64::try_from(age).unwrap_or(0);
                    let version = format!("{:016x}{:016x}", i64::MAX - stamp, n);
                    let marker = marked && age == 0;
                    let current = age == 0 && !marker;
                    let size = match contents {
                        _ if marker => 0,
                        Contents::Nothing => 1024 + n % 4096,
                        Contents::Blob | Contents::Inline => object_size,
                    };
                    insert.execute(rusqlite::params![
                        BUCKET,
                        &key,
                        size,
                        if marker { "" } else { etag.as_str() },
                        stamp / 1000,
                        version,
                        versions == 1,
                        current,
                        marker
                    ])?;
                    let object = tx.last_insert_rowid();
                    match contents {
                        _ if marker => {}
                        Contents::Nothing => {}
                        Contents::Blob => {
                            let blob = format!(
                                "{:032x}",
                                n.unsigned_abs().wrapping_mul(0xbf58_476d_1ce4_e5b9)
                            );
                            segment.execute(rusqlite::params![
                                object,
                                blob,
                                size,
                                None::<Vec<u8>>
                            ])?;
                        }
                        Contents::Inline => {
                            object_bytes(n.unsigned_abs(), &mut data);
                            segment.execute(rusqlite::params![
                                object,
                                None::<String>,
                                size,
                                &data
                            ])?;
                        }
                    }
                }
                n += 1;
            }
        }
    }
    tx.commit()?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
}

/// Opens the cached index, building it first if it is missing or not what this benchmark
/// expects.
fn open_index(runtime: &Runtime, bucket: &Bucket) -> ObjectIndex {
    let Bucket {
        data: name,
        versions,
        contents,
        ..
    } = *bucket;
    let dir = data_dir(name);
    let db_config = config::S3::default().db.to_db_config();
    if !is_populated(&db_path(&dir), versions, contents) {
        let started = Instant::now();
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("removing the stale benchmark index");
        }
        // Opening creates the file and applies the migrations.
        let index = ObjectIndex::open(&dir, &db_config).expect("creating the benchmark index");
        runtime.block_on(index.db().close());
        drop(index);
        bulk_insert(&db_path(&dir), versions, contents).expect("filling the benchmark index");
        assert!(
            is_populated(&db_path(&dir), versions, contents),
            "the bulk insert left wrong keys"
        );
        eprintln!(
            "listing: built {KEYS} keys × {versions} in {} in {:.1?}",
            dir.display(),
            started.elapsed()
        );
    }
    ObjectIndex::open(&dir, &db_config).expect("opening the benchmark index")
}

fn query(prefix: &str, delimiter: Option<&str>, cursor: Cursor) -> ListQuery {
    ListQuery {
        prefix: prefix.to_owned(),
        delimiter: delimiter.map(str::to_owned),
        cursor,
        max: PAGE,
    }
}

fn pages(c: &mut Criterion) {
    let runtime = Runtime::new().expect("a tokio runtime");
    let mut rendered = Vec::new();
    let mut group = c.benchmark_group("list_objects_v2_1m_keys");
    group.throughput(Throughput::Elements(PAGE as u64));
    // Up to milliseconds an iteration: equal samples fit the measurement time, growing ones
    // do not.
    group.sampling_mode(SamplingMode::Flat);
    for bucket in &BUCKETS {
        let (versions, label) = (bucket.versions, bucket.label);
        let index = open_index(&runtime, bucket);
        // dir500 holds keys 500000..500999; in the versioned bucket a fifth are deleted.
        let in_dir500 = if versions == 1 { 1000 } else { 800 };
        let cases = [
            ("plain_first_page", query("", None, Cursor::Start), 1000, 0),
            (
                "plain_continuation",
                query("", None, Cursor::After("dir500/file500".into())),
                1000,
                0,
            ),
            (
                "delimiter_root",
                query("", Some("/"), Cursor::Start),
                0,
                1000,
            ),
            (
                "delimiter_one_dir",
                query("dir500/", Some("/"), Cursor::Start),
                in_dir500,
                0,
            ),
        ];
        for (name, query, keys, prefixes) in cases {
            let name = format!("{label}{name}");
            let list = || runtime.block_on(index.list_objects(BUCKET.to_owned(), query.clone()));
            let listing = list().expect("listing the benchmark bucket");
            // A benchmark of the wrong answer measures nothing.
            assert_eq!(
                (listing.objects.len(), listing.prefixes.len()),
                (keys, prefixes),
                "{name}"
            );
            eprintln!(
                "listing/{name}: {} keys, {} common prefixes per page, truncated: {}",
                listing.objects.len(),
                listing.prefixes.len(),
                listing.truncated
            );
            group.bench_function(&name, |b| b.iter(|| black_box(list())));
            // Rendering depends on the page, not on where the objects' bytes are: the plain
            // bucket's pages only.
            if label.is_empty() && matches!(name.as_str(), "plain_first_page" | "delimiter_root") {
                rendered.push((name, query.delimiter.clone(), listing));
            }
        }
        runtime.block_on(index.db().close());
    }
    group.finish();
    render(c, &rendered);
}

/// The response body of a page already listed: the XML document, its declaration, control
/// characters as references.
fn render(c: &mut Criterion, pages: &[(String, Option<String>, Listing)]) {
    let mut group = c.benchmark_group("render_list_objects_v2");
    group.throughput(Throughput::Elements(PAGE as u64));
    for (name, delimiter, listing) in pages {
        let body = || labstore::s3::list_objects_v2_body(BUCKET, delimiter.as_deref(), listing);
        eprintln!("render/{name}: {} bytes", body().len());
        group.bench_function(name.as_str(), |b| b.iter(|| black_box(body())));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = pages
}
criterion_main!(benches);
