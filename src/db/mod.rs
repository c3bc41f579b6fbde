//! The SQLite pattern every LabStore database shares: a pool of read-only connections and
//! exactly one writer thread, fed by a bounded channel, that owns the only read-write
//! connection and commits queued tasks in groups.
//!
//! Invariant: only the writer thread mutates the database. Readers open their connections
//! read-only, so a stray write through the pool fails loudly instead of racing the writer.

mod migrate;
mod point;
pub mod sql;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::config::DbConfig as SqliteConfig;
use rusqlite::OpenFlags;
pub use sql::Connection;
use tokio::sync::{mpsc, oneshot};

pub use migrate::Migration;
pub use point::{
    Breaker, PointReadStats, BUDGET as POINT_READ_BUDGET, COOL_DOWN as POINT_READ_COOL_DOWN,
};
use writer::{Msg, Task};

use crate::metrics::histogram::{self, Histogram};

/// What the writer thread and the read pool of one database measure, for `/metrics`.
pub struct DbStats {
    /// Tasks per group commit.
    pub batch_tasks: Histogram,
    /// A group transaction's time, `BEGIN IMMEDIATE` to `COMMIT` returned (durable when
    /// `durable` is on): what every task of the group waited for once it was taken.
    pub commit_seconds: Histogram,
    /// Time a read waited for a pooled connection.
    pub read_pool_wait_seconds: Histogram,
    /// Writes refused `Busy`: no queue slot within the timeout.
    pub busy_writer_queue: std::sync::atomic::AtomicU64,
    /// Reads refused `Busy`: no pooled connection within the timeout.
    pub busy_read_pool: std::sync::atomic::AtomicU64,
}

impl DbStats {
    fn new() -> DbStats {
        DbStats {
            batch_tasks: Histogram::counts(histogram::COUNTS),
            commit_seconds: Histogram::seconds(histogram::SECONDS),
            read_pool_wait_seconds: Histogram::seconds(histogram::SECONDS),
            busy_writer_queue: std::sync::atomic::AtomicU64::new(0),
            busy_read_pool: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

/// What a database's owner runs on the writer thread around group commits: a view kept in
/// memory that follows committed rows (the object index's storage per bucket).
pub trait WriterHook: Send + 'static {
    /// Once, on the writer thread, before the first task runs (to install SQLite hooks).
    fn attach(&mut self, conn: &Connection);
    /// After each group transaction, before any of its tasks is answered: `committed` says
    /// whether it was committed or rolled back whole.
    fn after(&mut self, conn: &Connection, committed: bool);
}

/// Tuning for one database, taken from `backend.<api>.db` in the configuration.
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// Upper bound on read connections (r2d2 `max_size`).
    pub max_open_conns: u32,
    /// Read connections kept open while idle (r2d2 `min_idle`); extra ones are closed after
    /// a minute of idleness.
    pub max_idle_conns: u32,
    /// Capacity of the writer's queue: the most writes that may wait for a commit.
    pub write_chan_cap: usize,
    /// How long a caller waits for a queue slot or a read connection, and SQLite's
    /// `busy_timeout`.
    pub timeout: Duration,
    /// Page cache per read connection, in KiB.
    pub read_cache_size_kib: u32,
    /// Page cache of the writer connection, in KiB.
    pub writer_cache_size_kib: u32,
    /// `synchronous=FULL` instead of `NORMAL`: every commit reaches the disk before it is
    /// acknowledged, so it survives power loss and not only a process crash.
    pub durable: bool,
    /// On PostgreSQL (`backend.metadata.engine: postgres`): where; `None` for SQLite's file.
    pub postgres: Option<PgTarget>,
}

/// Why a database call failed. Callers map these onto their protocol's errors: `Busy` becomes
/// a 503 (`SlowDown` on S3, `ServiceUnavailable` on IAM); everything else is an internal error.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "database {db} is busy: no writer queue slot or read connection within {waited_ms} ms"
    )]
    Busy { db: &'static str, waited_ms: u128 },
    #[error("database {0} is closed")]
    Closed(&'static str),
    #[error(
        "this node's views are not confirmed fresh within the staleness bound (the cluster \
         notification connection is down): refusing to serve from them"
    )]
    Stale,
    #[error("database {db} schema version {found} is newer than this binary knows ({known}); run a newer labstore")]
    TooNew {
        db: &'static str,
        found: u32,
        known: u32,
    },
    #[error("a write task panicked")]
    TaskPanicked,
    #[error("group commit failed: {message}")]
    CommitFailed { storage_full: bool, message: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Sql(#[from] sql::Error),
    #[error(transparent)]
    Pool(#[from] r2d2::Error),
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> DbError {
        DbError::Sql(sql::Error::Sqlite(e))
    }
}

impl DbError {
    /// A refusal clients should retry (503): no queue slot or connection in time, views not
    /// confirmed fresh, or the database unreachable for now.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Busy { .. } | DbError::Stale => true,
            DbError::Sql(e) => e.is_unavailable(),
            _ => false,
        }
    }

    /// Whether the database could not write because its volume is full (`SQLITE_FULL`, or
    /// `ENOSPC` from a file it wrote): a condition that clears when space is freed.
    pub fn is_storage_full(&self) -> bool {
        match self {
            DbError::Sql(e) => e.is_storage_full(),
            DbError::CommitFailed { storage_full, .. } => *storage_full,
            DbError::Io { source, .. } => crate::storage::is_storage_full(source),
            _ => false,
        }
    }
}

/// A cheap, cloneable handle to one database.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("name", &self.inner.name)
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

struct Inner {
    /// Short name used in logs and errors ("iam", "objects").
    name: &'static str,
    engine: sql::Engine,
    /// The SQLite file (empty on PostgreSQL).
    path: PathBuf,
    /// For the thread-local connections of point reads.
    config: DbConfig,
    point: point::PointReads,
    pool: r2d2::Pool<Manager>,
    tx: mpsc::Sender<Msg>,
    timeout: Duration,
    /// The writer threads (one on SQLite), joined once by `close`.
    writer: Mutex<Vec<JoinHandle<()>>>,
    stats: Arc<DbStats>,
}

/// Where a database lives on PostgreSQL: the server, and the schema (namespace) its tables
/// are in, which every connection puts first on its `search_path`.
#[derive(Clone)]
pub struct PgTarget {
    pub url: String,
    /// A plain identifier (`[a-z_][a-z0-9_]*`), checked by the configuration.
    pub schema: String,
    /// Read connections at most (the writer has one more).
    pub pool_size: u32,
    /// `statement_timeout` of every connection.
    pub statement_timeout: Duration,
    /// Writer connections (and threads).
    pub writers: usize,
    /// Where commits that change a cached view are announced (`crate::cluster`), and this
    /// node's name in the announcements.
    pub channel: String,
    pub node: String,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.debug_struct("PgTarget")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Opens (creating if needed) the database at `path`, applies `migrations` and starts the
    /// writer thread. A database whose schema is newer than `migrations` is refused.
    pub fn open(
        name: &'static str,
        path: &Path,
        config: &DbConfig,
        migrations: &'static [Migration],
    ) -> Result<Db, DbError> {
        Db::open_with_hook(name, path, config, migrations, None)
    }

    /// `open`, with `hook` run by the writer thread around every group commit.
    pub fn open_with_hook(
        name: &'static str,
        path: &Path,
        config: &DbConfig,
        migrations: &'static [Migration],
        hook: Option<Box<dyn WriterHook>>,
    ) -> Result<Db, DbError> {
        if let Some(target) = &config.postgres {
            return Db::open_postgres(name, target, config, migrate::postgres(name)?, hook);
        }
        if let Some(dir) = path.parent() {
            create_private_dir(dir)?;
        }
        let mut conn = rusqlite::Connection::open(path)?;
        apply_pragmas(&conn, config, config.writer_cache_size_kib)?;
        migrate::apply(name, &mut conn, migrations)?;

        // Readers are opened after the writer so that WAL mode is already on the file.
        let pool = r2d2::Pool::builder()
            .max_size(config.max_open_conns)
            .min_idle(Some(config.max_idle_conns.min(config.max_open_conns)))
            .idle_timeout(Some(Duration::from_secs(60)))
            .connection_timeout(config.timeout)
            .build(Manager::Sqlite {
                path: path.to_path_buf(),
                config: config.clone(),
            })?;
        Db::start(
            name,
            sql::Engine::Sqlite,
            path,
            config,
            pool,
            (Connection::from(conn), hook, None),
        )
    }

    /// Opens the database in `target`'s schema on PostgreSQL (creating the schema and applying
    /// `migrations` if needed) and starts the writer thread, with its own connection.
    pub fn open_postgres(
        name: &'static str,
        target: &PgTarget,
        config: &DbConfig,
        migrations: &'static [Migration],
        hook: Option<Box<dyn WriterHook>>,
    ) -> Result<Db, DbError> {
        // On a thread of its own: the client blocks on a runtime of its own, which it cannot
        // do on a thread already driving one (a store may be opened from async code).
        let conn = std::thread::scope(|s| {
            s.spawn(|| -> Result<_, DbError> {
                let conn = pg_connect(target, config.timeout, false)?;
                migrate::apply_postgres(name, &conn, &target.schema, migrations)?;
                Ok(conn)
            })
            .join()
            .map_err(|_| DbError::TaskPanicked)?
        })?;
        let pool = r2d2::Pool::builder()
            .max_size(target.pool_size.max(1))
            .min_idle(Some(1))
            .idle_timeout(Some(Duration::from_secs(60)))
            .connection_timeout(config.timeout)
            // A broken connection is found by `has_broken`; a round trip per checkout is not
            // worth it.
            .test_on_check_out(false)
            .build(Manager::Postgres {
                target: target.clone(),
                timeout: config.timeout,
            })?;
        let (again, timeout) = (target.clone(), config.timeout);
        let reconnect: writer::Reconnect =
            Box::new(move || Ok(Connection::postgres(pg_connect(&again, timeout, false)?)));
        Db::start(
            name,
            sql::Engine::Postgres,
            Path::new(""),
            config,
            pool,
            (Connection::postgres(conn), hook, Some(reconnect)),
        )
    }

    fn start(
        name: &'static str,
        engine: sql::Engine,
        path: &Path,
        config: &DbConfig,
        pool: r2d2::Pool<Manager>,
        (conn, hook, reconnect): (
            Connection,
            Option<Box<dyn WriterHook>>,
            Option<writer::Reconnect>,
        ),
    ) -> Result<Db, DbError> {
        let (tx, rx) = mpsc::channel(config.write_chan_cap);
        let stats = Arc::new(DbStats::new());
        let rx = Arc::new(writer::SharedQueue::new(rx));
        let hook: Option<Arc<writer::SharedHook>> =
            hook.map(|h| Arc::new(std::sync::Mutex::new(h)));
        // SQLite: one writer, its commits grouped. PostgreSQL: several writers on connections
        // of their own, each task its own transaction (the database orders them; a group
        // would hold several tasks' key locks at once, inviting deadlocks between writers).
        let (writers, batch_cap) = match engine {
            sql::Engine::Sqlite => (1, config.write_chan_cap.max(1)),
            sql::Engine::Postgres => (config.postgres.as_ref().map_or(1, |t| t.writers.max(1)), 1),
        };
        let reconnect: Option<Arc<writer::Reconnect>> = reconnect.map(Arc::new);
        let mut handles = Vec::with_capacity(writers);
        let mut conn = Some(conn);
        for n in 0..writers {
            let first = conn.take();
            let (rx, hook, reconnect) = (Arc::clone(&rx), hook.clone(), reconnect.clone());
            let writer_stats = Arc::clone(&stats);
            let handle = std::thread::Builder::new()
                .name(format!("{name}-db-writer"))
                .spawn(move || {
                    // The first writer has the connection the migrations ran on; the others
                    // connect here, off any runtime (the client blocks on one of its own).
                    let conn = match (first, reconnect.as_deref()) {
                        (Some(conn), _) => conn,
                        (None, Some(again)) => match again() {
                            Ok(conn) => conn,
                            Err(e) => {
                                tracing::warn!(db = name, error = %e, "a database writer could not connect; the others write");
                                return;
                            }
                        },
                        (None, None) => return,
                    };
                    writer::run(
                        name,
                        conn,
                        &rx,
                        batch_cap,
                        &writer_stats,
                        hook.as_deref(),
                        n == 0,
                        reconnect.as_deref(),
                    );
                })
                .map_err(|source| DbError::Io {
                    context: format!("starting the {name} database writer"),
                    source,
                })?;
            handles.push(handle);
        }
        Ok(Db {
            inner: Arc::new(Inner {
                name,
                engine,
                path: path.to_path_buf(),
                config: config.clone(),
                point: point::PointReads::new(),
                pool,
                tx,
                timeout: config.timeout,
                writer: Mutex::new(handles),
                stats,
            }),
        })
    }

    pub fn engine(&self) -> sql::Engine {
        self.inner.engine
    }

    pub fn name(&self) -> &'static str {
        self.inner.name
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` on the writer thread inside a savepoint of the current group transaction and
    /// answers once that transaction is committed. If `f` fails, only its own changes are
    /// rolled back; the tasks committed with it are unaffected. When the queue stays full for
    /// the configured timeout the call fails with `DbError::Busy` instead of waiting on.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let task = Task::boxed(f, reply);
        let inner = &self.inner;
        match inner.tx.send_timeout(Msg::Task(task), inner.timeout).await {
            Ok(()) => {}
            Err(mpsc::error::SendTimeoutError::Timeout(_)) => {
                inner
                    .stats
                    .busy_writer_queue
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return Err(E::from(DbError::Busy {
                    db: inner.name,
                    waited_ms: inner.timeout.as_millis(),
                }));
            }
            Err(mpsc::error::SendTimeoutError::Closed(_)) => {
                return Err(E::from(DbError::Closed(inner.name)))
            }
        }
        match answer.await {
            Ok(result) => result,
            // The writer dropped the task without answering: it was shut down mid-batch.
            Err(_) => Err(E::from(DbError::Closed(inner.name))),
        }
    }

    /// Runs `f` with a pooled read-only connection on a blocking thread.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        let joined = crate::metrics::blocking::spawn(move || {
            let asked = std::time::Instant::now();
            let conn = inner.pool.get();
            inner
                .stats
                .read_pool_wait_seconds
                .observe_duration(asked.elapsed());
            let conn = conn.map_err(|_| {
                inner
                    .stats
                    .busy_read_pool
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                DbError::Busy {
                    db: inner.name,
                    waited_ms: inner.timeout.as_millis(),
                }
            })?;
            f(&conn)
        })
        .await;
        match joined {
            Ok(result) => result,
            Err(_) => Err(E::from(DbError::TaskPanicked)),
        }
    }

    /// Runs `f` with a pooled read connection on the calling thread: for what a store reads
    /// while it opens, before anything is served (never on the runtime's threads).
    pub fn read_now<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send,
        T: Send,
        E: From<DbError> + Send,
    {
        let read = || {
            let conn = self.inner.pool.get().map_err(DbError::from)?;
            f(&conn)
        };
        match self.inner.engine {
            sql::Engine::Sqlite => read(),
            // The PostgreSQL client blocks on a runtime of its own: not on a thread that may
            // be driving one.
            sql::Engine::Postgres => std::thread::scope(|s| {
                s.spawn(read)
                    .join()
                    .unwrap_or_else(|_| Err(E::from(DbError::TaskPanicked)))
            }),
        }
    }

    /// A point read: a short lookup (an object's row by key) that SQLite answers from its page
    /// cache. Runs `f` in place on the runtime worker that asks, with that thread's own
    /// read-only connection, when the breaker allows (see `point`); otherwise, or when that
    /// connection finds the database busy, through the blocking pool as `read` does. Either
    /// way `f` runs inside one read transaction: its statements see one committed state.
    /// `f` may run twice (a busy attempt in place is discarded and read again through the
    /// pool), hence `Fn`; it must not write.
    pub async fn read_point<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: Fn(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let inner = &self.inner;
        match point::try_in_place(inner, |conn| point::in_snapshot(conn, &f)) {
            point::InPlace::Done(Ok(Ok(answer))) => return answer,
            point::InPlace::Done(Ok(Err(e)) | Err(e)) => return Err(E::from(e)),
            point::InPlace::Pool => {}
        }
        inner
            .point
            .pooled
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.read(move |conn| match point::in_snapshot(conn, &f) {
            Ok(answer) => answer,
            Err(e) => Err(E::from(e)),
        })
        .await
    }

    /// The writer's and read pool's measurements.
    pub fn stats(&self) -> &DbStats {
        &self.inner.stats
    }

    /// Writes queued for the writer and not yet taken into a group.
    pub fn queue_depth(&self) -> usize {
        self.inner.tx.max_capacity() - self.inner.tx.capacity()
    }

    /// Read connections open, and how many of them are idle in the pool.
    pub fn read_connections(&self) -> (u32, u32) {
        let state = self.inner.pool.state();
        (state.connections, state.idle_connections)
    }

    /// Where this database's point reads went so far.
    pub fn point_read_stats(&self) -> PointReadStats {
        self.inner.point.stats()
    }

    /// Sends the point reads of the next cool-down through the blocking pool, as a slow read
    /// in place does (for tests, and for an operator's tooling that knows the disk is slow).
    pub fn trip_point_reads(&self) {
        self.inner.point.breaker.trip(std::time::Instant::now());
    }

    /// Checks that the writer thread is alive and answering, for readiness probes.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.write(|_| Ok::<(), DbError>(())).await
    }

    /// Closes the writer queue and waits for the writer thread to finish. Every write queued
    /// before the call is committed or answered with an error; later writes fail with
    /// `DbError::Closed`. Safe to call more than once.
    pub async fn close(&self) {
        // Ask the writer to close its receiving end; if the queue is already closed, the
        // writer is gone and there is nothing to ask.
        let _ = self.inner.tx.send(Msg::Close).await;
        let handles = self
            .inner
            .writer
            .lock()
            .map(|mut h| std::mem::take(&mut *h))
            .unwrap_or_default();
        for handle in handles {
            let name = self.inner.name;
            let joined = crate::metrics::blocking::spawn(move || handle.join()).await;
            if !matches!(joined, Ok(Ok(()))) {
                tracing::error!(db = name, "database writer thread ended abnormally");
            }
        }
    }
}

/// Creates `dir` (and parents) with mode 0700 when it does not exist yet.
pub fn create_private_dir(dir: &Path) -> Result<(), DbError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| DbError::Io {
            context: format!("creating directory {}", dir.display()),
            source,
        })
}

fn apply_pragmas(
    conn: &rusqlite::Connection,
    config: &DbConfig,
    cache_kib: u32,
) -> rusqlite::Result<()> {
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "journal_mode is {mode}, expected wal"
        )));
    }
    let synchronous = if config.durable { "FULL" } else { "NORMAL" };
    conn.pragma_update(None, "synchronous", synchronous)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // A negative cache_size is in KiB rather than pages.
    conn.pragma_update(None, "cache_size", -i64::from(cache_kib))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // The query planner stability guarantee: a statement's plan never depends on the values
    // bound to it. Without it SQLite treats a bound `LIMIT ?` as a constant and marks the
    // statement stale whenever that parameter is rebound, so every execution of a cached
    // paged query is parsed and planned again (a delimiter listing runs one such query per
    // common prefix). `prepare_cached` only pays off with it.
    conn.set_db_config(SqliteConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.busy_timeout(config.timeout)?;
    Ok(())
}

/// A read-write connection of its own to `target`'s schema (for `labstore migrate`, which
/// copies into one transaction of its own). Blocks: not on a runtime's thread.
pub fn connect_postgres(target: &PgTarget, timeout: Duration) -> Result<Connection, DbError> {
    Ok(Connection::postgres(pg_connect(target, timeout, false)?))
}

/// Opens one PostgreSQL connection to `target` with its session settings: the schema first
/// on the search path, the statement timeout, and for readers read-only transactions.
fn pg_connect(
    target: &PgTarget,
    timeout: Duration,
    read_only: bool,
) -> Result<sql::postgres::PgConn, DbError> {
    use std::str::FromStr;
    let mut config = postgres::Config::from_str(&target.url).map_err(sql::Error::from)?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(timeout);
    }
    config.application_name("labstore");
    let client = config.connect(postgres::NoTls).map_err(sql::Error::from)?;
    let mut conn = sql::postgres::PgConn::new(client);
    conn.set_announce(&target.channel, &target.node);
    // The server's notices ("already exists, skipping") are not worth a log line each.
    conn.batch("SET client_min_messages = warning")?;
    let schema = &target.schema;
    if !read_only {
        conn.batch(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))?;
    }
    conn.batch(&format!(
        "SET search_path TO \"{schema}\"; SET statement_timeout = {}; \
         SET default_transaction_read_only = {}",
        target.statement_timeout.as_millis(),
        if read_only { "on" } else { "off" },
    ))?;
    Ok(conn)
}

/// r2d2 manager for read connections: SQLite's opened read-only with the shared pragmas,
/// PostgreSQL's in read-only transactions.
enum Manager {
    Sqlite { path: PathBuf, config: DbConfig },
    Postgres { target: PgTarget, timeout: Duration },
}

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = DbError;

    fn connect(&self) -> Result<Connection, DbError> {
        match self {
            Manager::Sqlite { path, config } => {
                let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let conn = rusqlite::Connection::open_with_flags(path, flags)?;
                apply_pragmas(&conn, config, config.read_cache_size_kib)?;
                Ok(Connection::from(conn))
            }
            Manager::Postgres { target, timeout } => {
                Ok(Connection::postgres(pg_connect(target, *timeout, true)?))
            }
        }
    }

    fn is_valid(&self, conn: &mut Connection) -> Result<(), DbError> {
        Ok(conn.execute_batch("")?)
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.as_postgres()
            .is_some_and(sql::postgres::PgConn::is_closed)
    }
}

#[cfg(test)]
mod tests;
