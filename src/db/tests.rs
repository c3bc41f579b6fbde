use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use super::*;
use std::sync::atomic::Ordering;

static TEST_MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "items",
    sql: "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT;",
}];

fn config(write_chan_cap: usize, timeout_ms: u64) -> DbConfig {
    DbConfig {
        max_open_conns: 3,
        max_idle_conns: 3,
        write_chan_cap,
        timeout: Duration::from_millis(timeout_ms),
        read_cache_size_kib: 1024,
        writer_cache_size_kib: 1024,
        durable: false,
        postgres: None,
    }
}

fn open(dir: &tempfile::TempDir, cap: usize, timeout_ms: u64) -> Db {
    let path = dir.path().join("metadata").join("test.db");
    Db::open("test", &path, &config(cap, timeout_ms), TEST_MIGRATIONS).unwrap()
}

fn insert(name: String) -> impl FnOnce(&Connection) -> Result<(), DbError> + Send + 'static {
    move |conn| {
        conn.execute("INSERT INTO items (name) VALUES (?1)", [name])?;
        Ok(())
    }
}

async fn count(db: &Db) -> i64 {
    db.read(|c| Ok::<_, DbError>(c.query_row("SELECT count(*) FROM items", [], |r| r.get(0))?))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_are_all_committed() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir, 8, 5000);
    let mut handles = Vec::new();
    for i in 0..200 {
        let db = db.clone();
        handles.push(tokio::spawn(async move {
            db.write(insert(format!("item-{i}"))).await
        }));
    }
    for h in handles {
        h.await.unwrap().unwrap();
    }
    assert_eq!(count(&db).await, 200);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_task_does_not_fail_its_batch_neighbours() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir, 16, 5000);
    // Hold the writer so that the next tasks queue up and are committed as one group.
    let (release, held) = std_mpsc::channel::<()>();
    let blocker = {
        let db = db.clone();
        tokio::spawn(async move {
            db.write(move |_| {
                held.recv().ok();
                Ok::<_, DbError>(())
            })
            .await
        })
    };
    let ok1 = tokio::spawn({
        let db = db.clone();
        async move { db.write(insert("a".into())).await }
    });
    let failing = tokio::spawn({
        let db = db.clone();
        async move {
            db.write(|conn| {
                conn.execute("INSERT INTO items (name) VALUES ('doomed')", [])?;
                // Fails whatever order the queued tasks run in (a UNIQUE clash with 'a' would
                // fail 'a' instead when this one runs first): this task's own insert of
                // 'doomed' must be undone too.
                conn.execute("INSERT INTO no_such_table (name) VALUES ('x')", [])?;
                Ok::<_, DbError>(())
            })
            .await
        }
    });
    let ok2 = tokio::spawn({
        let db = db.clone();
        async move { db.write(insert("b".into())).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    release.send(()).unwrap();
    blocker.await.unwrap().unwrap();
    ok1.await.unwrap().unwrap();
    ok2.await.unwrap().unwrap();
    assert!(failing.await.unwrap().is_err());
    let names: Vec<String> = db
        .read(|c| {
            let mut stmt = c.prepare("SELECT name FROM items ORDER BY name")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok::<_, DbError>(rows.collect::<Result<_, _>>()?)
        })
        .await
        .unwrap();
    assert_eq!(names, ["a", "b"]);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_task_is_answered_and_the_writer_lives_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir, 4, 5000);
    let err = db
        .write(|_| -> Result<(), DbError> { panic!("task bug") })
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::TaskPanicked));
    db.write(insert("after".into())).await.unwrap();
    assert_eq!(count(&db).await, 1);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_fails_with_busy_after_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir, 1, 200);
    let (release, held) = std_mpsc::channel::<()>();
    let (started_tx, started) = std_mpsc::channel::<()>();
    let blocker = tokio::spawn({
        let db = db.clone();
        async move {
            db.write(move |_| {
                started_tx.send(()).ok();
                held.recv().ok();
                Ok::<_, DbError>(())
            })
            .await
        }
    });
    tokio::task::spawn_blocking(move || started.recv().unwrap())
        .await
        .unwrap();
    // The writer is busy; this one takes the single queue slot.
    let queued = tokio::spawn({
        let db = db.clone();
        async move { db.write(insert("queued".into())).await }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(db.queue_depth(), 1, "the queued write waits in the queue");
    assert_eq!(db.stats().busy_writer_queue.load(Ordering::Relaxed), 0);
    let begun = Instant::now();
    let err = db.write(insert("refused".into())).await.unwrap_err();
    let waited = begun.elapsed();
    assert!(matches!(err, DbError::Busy { .. }), "{err:?}");
    assert_eq!(db.stats().busy_writer_queue.load(Ordering::Relaxed), 1);
    assert!(
        waited >= Duration::from_millis(190),
        "gave up after {waited:?}"
    );
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");
    release.send(()).unwrap();
    blocker.await.unwrap().unwrap();
    queued.await.unwrap().unwrap();
    assert_eq!(count(&db).await, 1);
    assert_eq!(db.queue_depth(), 0);
    // Two group commits (the blocker's, then the queued write's), one task each; the
    // refused write never reached the writer.
    assert_eq!(db.stats().batch_tasks.count(), 2);
    assert_eq!(db.stats().commit_seconds.count(), 2);
    let mut text = String::new();
    db.stats().batch_tasks.render(&mut text, "b", "db=\"test\"");
    assert!(text.contains("b_sum{db=\"test\"} 2\n"), "{text}");
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_without_a_pooled_connection_is_busy_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = config(4, 200);
    settings.max_open_conns = 1;
    settings.max_idle_conns = 1;
    let path = dir.path().join("metadata").join("test.db");
    let db = Db::open("test", &path, &settings, TEST_MIGRATIONS).unwrap();
    let (release, held) = std_mpsc::channel::<()>();
    let (started_tx, started) = std_mpsc::channel::<()>();
    let holder = tokio::spawn({
        let db = db.clone();
        async move {
            db.read(move |_| {
                started_tx.send(()).ok();
                held.recv().ok();
                Ok::<_, DbError>(())
            })
            .await
        }
    });
    tokio::task::spawn_blocking(move || started.recv().unwrap())
        .await
        .unwrap();
    let waits_before = db.stats().read_pool_wait_seconds.count();
    let err = count_result(&db).await.unwrap_err();
    assert!(matches!(err, DbError::Busy { .. }), "{err:?}");
    assert_eq!(db.stats().busy_read_pool.load(Ordering::Relaxed), 1);
    assert_eq!(db.stats().read_pool_wait_seconds.count(), waits_before + 1);
    assert_eq!(
        db.read_connections(),
        (1, 0),
        "the one connection is in use"
    );
    release.send(()).unwrap();
    holder.await.unwrap().unwrap();
    assert_eq!(count(&db).await, 0);
    assert_eq!(db.read_connections(), (1, 1));
    db.close().await;
}

async fn count_result(db: &Db) -> Result<i64, DbError> {
    db.read(|c| Ok::<_, DbError>(c.query_row("SELECT count(*) FROM items", [], |r| r.get(0))?))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_commits_queued_writes_and_refuses_later_ones() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir, 64, 5000);
    let (release, held) = std_mpsc::channel::<()>();
    let blocker = tokio::spawn({
        let db = db.clone();
        async move {
            db.write(move |_| {
                held.recv().ok();
                Ok::<_, DbError>(())
            })
            .await
        }
    });
    let mut queued = Vec::new();
    for i in 0..20 {
        let db = db.clone();
        queued.push(tokio::spawn(async move {
            db.write(insert(format!("q{i}"))).await
        }));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let closing = tokio::spawn({
        let db = db.clone();
        async move { db.close().await }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    release.send(()).unwrap();
    closing.await.unwrap();
    blocker.await.unwrap().unwrap();
    for q in queued {
        q.await.unwrap().unwrap();
    }
    let err = db.write(insert("late".into())).await.unwrap_err();
    assert!(matches!(err, DbError::Closed(_)), "{err:?}");
    drop(db);
    let conn = rusqlite::Connection::open(dir.path().join("metadata").join("test.db")).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pragmas_are_set_on_reader_connections() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir, 4, 1234);
    let (mode, sync, fk, cache, busy): (String, i64, i64, i64, i64) = db
        .read(|c| {
            let q = |p: &str| c.query_row(&format!("PRAGMA {p}"), [], |r| r.get::<_, i64>(0));
            let mode = c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
            Ok::<_, DbError>((
                mode,
                q("synchronous")?,
                q("foreign_keys")?,
                q("cache_size")?,
                q("busy_timeout")?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(sync, 1, "NORMAL");
    assert_eq!(fk, 1);
    assert_eq!(cache, -1024);
    assert_eq!(busy, 1234);
    // Readers are read-only: only the writer thread may mutate the database.
    let write = db
        .read(|c| Ok::<_, DbError>(c.execute("INSERT INTO items (name) VALUES ('x')", [])?))
        .await;
    assert!(write.is_err());
    db.close().await;
}

#[test]
fn a_database_newer_than_the_binary_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 7)
        .unwrap();
    let Err(err) = Db::open("test", &path, &config(4, 100), TEST_MIGRATIONS) else {
        panic!("a newer schema was accepted")
    };
    assert!(
        matches!(
            err,
            DbError::TooNew {
                found: 7,
                known: 1,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn migrations_are_applied_once_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.db");
    for _ in 0..2 {
        let db = Db::open("test", &path, &config(4, 100), TEST_MIGRATIONS).unwrap();
        drop(db);
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    let v: u32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, 1);
}

/// Migration numbers may skip (they are handed out ahead to parallel work): each listed one
/// is applied once, the database is recorded at the last, and one past it is still too new.
#[test]
fn migration_numbers_may_skip() {
    static SKIPPING: &[Migration] = &[
        Migration {
            version: 1,
            name: "items",
            sql: "CREATE TABLE items (id INTEGER PRIMARY KEY) STRICT;",
        },
        Migration {
            version: 4,
            name: "more",
            sql: "ALTER TABLE items ADD COLUMN name TEXT;",
        },
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.db");
    // From nothing, and from a database at the first step.
    Db::open("test", &path, &config(4, 100), &SKIPPING[..1]).unwrap();
    for _ in 0..2 {
        drop(Db::open("test", &path, &config(4, 100), SKIPPING).unwrap());
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    let v: u32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, 4);
    conn.execute("INSERT INTO items (id, name) VALUES (1, 'x')", [])
        .unwrap();
    conn.pragma_update(None, "user_version", 5).unwrap();
    drop(conn);
    let Err(err) = Db::open("test", &path, &config(4, 100), SKIPPING) else {
        panic!("a newer schema was accepted")
    };
    assert!(
        matches!(
            err,
            DbError::TooNew {
                found: 5,
                known: 4,
                ..
            }
        ),
        "{err}"
    );
}

/// A paged query rebinds its `LIMIT` on every call; without the planner stability guarantee
/// SQLite would parse and plan the cached statement again each time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_paged_queries_are_not_prepared_again_when_rebound() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir, 8, 5000);
    for i in 0..5 {
        db.write(insert(format!("item-{i}"))).await.unwrap();
    }
    let reprepared = db
        .read(|c| {
            let sql = "SELECT name FROM items WHERE name > ?1 ORDER BY name LIMIT ?2";
            for limit in 1..=4_u8 {
                let mut stmt = c.prepare_cached(sql)?;
                let names = stmt
                    .query_map(("item-0", limit), |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()?;
                assert_eq!(names.len(), usize::from(limit));
            }
            let mut stmt = c.prepare_cached(sql)?;
            Ok::<_, DbError>(
                stmt.as_sqlite()
                    .unwrap()
                    .get_status(rusqlite::StatementStatus::RePrepare),
            )
        })
        .await
        .unwrap();
    assert_eq!(reprepared, 0);
    db.close().await;
}

async fn count_point(db: &Db) -> Result<i64, DbError> {
    db.read_point(|c| {
        Ok::<_, DbError>(c.query_row("SELECT count(*) FROM items", [], |r| r.get(0))?)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn point_reads_run_in_place_on_a_multi_thread_runtime_and_see_commits() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir, 8, 1000);
    assert_eq!(count_point(&db).await.unwrap(), 0);
    db.write(insert("a".into())).await.unwrap();
    // The thread-local connection holds no snapshot between reads: the commit is seen.
    assert_eq!(count_point(&db).await.unwrap(), 1);
    let stats = db.point_read_stats();
    assert_eq!((stats.in_place, stats.pooled, stats.trips), (2, 0, 0));
}

#[tokio::test(flavor = "current_thread")]
async fn point_reads_never_run_in_place_on_a_current_thread_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir, 8, 1000);
    db.write(insert("a".into())).await.unwrap();
    assert_eq!(count_point(&db).await.unwrap(), 1);
    let stats = db.point_read_stats();
    assert_eq!((stats.in_place, stats.pooled), (0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_breaker_sends_point_reads_through_the_pool_until_the_cool_down_ends() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir, 8, 1000);
    db.trip_point_reads();
    assert_eq!(count_point(&db).await.unwrap(), 0);
    let stats = db.point_read_stats();
    assert_eq!((stats.in_place, stats.pooled, stats.trips), (0, 1, 1));
    tokio::time::sleep(point::COOL_DOWN + Duration::from_millis(50)).await;
    assert_eq!(count_point(&db).await.unwrap(), 0);
    assert_eq!(db.point_read_stats().in_place, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_point_read_in_place_opens_the_breaker() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir, 8, 1000);
    let slow = db
        .read_point(|_| {
            std::thread::sleep(point::BUDGET * 3);
            Ok::<_, DbError>(())
        })
        .await;
    assert!(slow.is_ok());
    assert_eq!(db.point_read_stats().trips, 1);
    count_point(&db).await.unwrap();
    let stats = db.point_read_stats();
    assert_eq!((stats.in_place, stats.pooled), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_point_read_sees_one_snapshot_and_a_panic_leaves_none_open() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir, 8, 1000);
    db.write(insert("a".into())).await.unwrap();
    // Two statements of one read see the same state although a write commits between them
    // (the write runs on the writer thread while the read waits for it).
    let writer = db.clone();
    let (first, second) = db
        .read_point(move |c| {
            let count = |c: &Connection| -> sql::Result<i64> {
                c.query_row("SELECT count(*) FROM items", [], |r| r.get(0))
            };
            let first = count(c)?;
            let w = writer.clone();
            std::thread::scope(|s| {
                s.spawn(|| {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(w.write(insert(format!("b{first}")))).unwrap();
                });
            });
            Ok::<_, DbError>((first, count(c)?))
        })
        .await
        .unwrap();
    assert_eq!((first, second), (1, 1));
    let panicked = db
        .read_point(|c| -> Result<(), DbError> {
            c.query_row("SELECT count(*) FROM items", [], |r| r.get::<_, i64>(0))?;
            panic!("a read that panics mid-transaction")
        })
        .await;
    assert!(matches!(panicked, Err(DbError::TaskPanicked)));
    db.write(insert("c".into())).await.unwrap();
    // Whichever connection ran the panicking read, none keeps its old snapshot.
    for _ in 0..4 {
        assert_eq!(count_point(&db).await.unwrap(), 3);
    }
}
