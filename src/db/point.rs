//! Point reads in place: a read-only connection per runtime worker thread, used on that
//! thread for short lookups that SQLite answers from its page cache, instead of a pooled
//! connection on tokio's blocking pool (one thread hop per request).
//!
//! The bound that keeps a slow disk from stalling the runtime is a circuit breaker shared by
//! every thread of one database: an in-place read that went to the disk (the thread's count of
//! blocks read, `getrusage(RUSAGE_THREAD)`, grew across it) or that took longer than the budget
//! opens the breaker, so that the reads of the following cool-down go through the blocking pool
//! as every read did before. Reads answered from SQLite's or the kernel's page cache never
//! open it, however the scheduler delays the worker: on a busy machine a wall-time limit alone
//! tripped on descheduling, not on the disk. After the cool-down the next read tries in place again; one more slow read opens it
//! again. A reader that SQLite reports busy (it never sleeps in place: its busy handler gives
//! up at once) also opens the breaker, and that read is answered through the pool, where the
//! configured `busy_timeout` applies as before.
//!
//! Never in place: outside a tokio runtime, or on a current-thread runtime (where the one
//! thread is the whole runtime).

use std::cell::{Cell, RefCell};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use rusqlite::OpenFlags;

use super::sql::{Connection, Engine};
use tokio::runtime::{Handle, RuntimeFlavor};

use super::{apply_pragmas, DbError, Inner};

/// A read in place longer than this opens the breaker, whatever it read: a point lookup
/// answered from the page cache takes tens of microseconds, so this is a read that waited on
/// something else (a disk the block count missed, a lock) or a worker descheduled for long.
pub const BUDGET: Duration = Duration::from_millis(10);
/// How long reads go through the blocking pool once the breaker is open.
pub const COOL_DOWN: Duration = Duration::from_millis(500);

/// Opens on one slow read and closes itself after the cool-down. Lock-free: one atomic read
/// per request while closed.
#[derive(Debug)]
pub struct Breaker {
    budget: Duration,
    cool_down_ns: u64,
    /// Times are nanoseconds since `origin`.
    origin: Instant,
    /// Reads go through the pool until then.
    open_until: AtomicU64,
    trips: AtomicU64,
}

impl Breaker {
    pub fn new(budget: Duration, cool_down: Duration) -> Breaker {
        Breaker {
            budget,
            cool_down_ns: u64::try_from(cool_down.as_nanos()).unwrap_or(u64::MAX),
            origin: Instant::now(),
            open_until: AtomicU64::new(0),
            trips: AtomicU64::new(0),
        }
    }

    fn at(&self, when: Instant) -> u64 {
        u64::try_from(when.saturating_duration_since(self.origin).as_nanos()).unwrap_or(u64::MAX)
    }

    /// Whether a read at `when` may run in place.
    pub fn allows(&self, when: Instant) -> bool {
        self.at(when) >= self.open_until.load(Ordering::Relaxed)
    }

    /// Records an in-place read that took `took` and ended at `when`; true when it opened
    /// the breaker.
    pub fn record(&self, took: Duration, when: Instant) -> bool {
        if took <= self.budget {
            return false;
        }
        self.trip(when);
        true
    }

    /// Opens the breaker from `when` for the cool-down.
    pub fn trip(&self, when: Instant) {
        let until = self.at(when).saturating_add(self.cool_down_ns);
        self.open_until.fetch_max(until, Ordering::Relaxed);
        self.trips.fetch_add(1, Ordering::Relaxed);
    }

    /// How many times the breaker has opened.
    pub fn trips(&self) -> u64 {
        self.trips.load(Ordering::Relaxed)
    }
}

/// Where a database's point reads went, for tests and the benchmark notes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PointReadStats {
    /// Answered on the runtime worker that asked.
    pub in_place: u64,
    /// Answered through the blocking pool (breaker open, no multi-thread runtime, busy).
    pub pooled: u64,
    /// Times the breaker opened.
    pub trips: u64,
}

/// Per-database state of the in-place path.
pub(super) struct PointReads {
    /// Tells this database's thread-local connections from another's (several databases,
    /// and in tests several servers, share the runtime's threads).
    id: u64,
    pub(super) breaker: Breaker,
    pub(super) in_place: AtomicU64,
    pub(super) pooled: AtomicU64,
}

impl PointReads {
    pub(super) fn new() -> PointReads {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        PointReads {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            breaker: Breaker::new(BUDGET, COOL_DOWN),
            in_place: AtomicU64::new(0),
            pooled: AtomicU64::new(0),
        }
    }

    pub(super) fn stats(&self) -> PointReadStats {
        PointReadStats {
            in_place: self.in_place.load(Ordering::Relaxed),
            pooled: self.pooled.load(Ordering::Relaxed),
            trips: self.breaker.trips(),
        }
    }
}

/// One thread's connection to one database.
struct Local {
    id: u64,
    /// Dead once the database is dropped: its connection is then closed at the next open.
    db: Weak<Inner>,
    conn: Connection,
}

thread_local! {
    static LOCALS: RefCell<Vec<Local>> = const { RefCell::new(Vec::new()) };
    /// Set by the busy handler of this thread's in-place connections.
    static WAS_BUSY: Cell<bool> = const { Cell::new(false) };
}

/// The busy handler of in-place connections: never wait on the runtime's thread.
fn give_up_when_busy(_attempt: i32) -> bool {
    WAS_BUSY.with(|b| b.set(true));
    false
}

/// Whether this thread may run a read in place: a worker of a multi-thread runtime.
fn on_multi_thread_runtime() -> bool {
    Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread)
}

/// What an attempt in place came to.
pub(super) enum InPlace<R> {
    /// Answered in place.
    Done(R),
    /// Not run, or its answer discarded (busy): read through the pool.
    Pool,
}

/// Runs `f` in place when the runtime and the breaker allow it.
pub(super) fn try_in_place<R>(
    inner: &Arc<Inner>,
    f: impl FnOnce(&Connection) -> R,
) -> InPlace<Result<R, DbError>> {
    let point = &inner.point;
    // PostgreSQL is across a network: a read always waits on it, so never on the runtime.
    if inner.engine != Engine::Sqlite
        || !point.breaker.allows(Instant::now())
        || !on_multi_thread_runtime()
    {
        return InPlace::Pool;
    }
    LOCALS.with(|locals| {
        let Ok(mut locals) = locals.try_borrow_mut() else {
            return InPlace::Pool;
        };
        let idx = match locals.iter().position(|l| l.id == point.id) {
            Some(idx) => idx,
            None => {
                let Ok(conn) = open(inner) else {
                    return InPlace::Pool;
                };
                locals.retain(|l| l.db.strong_count() > 0);
                locals.push(Local {
                    id: point.id,
                    db: Arc::downgrade(inner),
                    conn,
                });
                locals.len() - 1
            }
        };
        let conn = &locals[idx].conn;
        WAS_BUSY.with(|b| b.set(false));
        let blocks = blocks_read();
        let start = Instant::now();
        let answer = std::panic::catch_unwind(AssertUnwindSafe(|| f(conn)));
        let end = Instant::now();
        if WAS_BUSY.with(Cell::get) {
            point.breaker.trip(end);
            return InPlace::Pool;
        }
        settle(&point.breaker, (blocks, blocks_read()), end - start, end);
        point.in_place.fetch_add(1, Ordering::Relaxed);
        InPlace::Done(answer.map_err(|_| DbError::TaskPanicked))
    })
}

/// After an in-place read that took `took` and saw the thread's block count go from
/// `blocks.0` to `blocks.1`: one that read from the disk trips the breaker (the next ones may
/// too); any other is held to the time budget.
fn settle(breaker: &Breaker, blocks: (i64, i64), took: Duration, end: Instant) {
    if blocks.1 > blocks.0 {
        breaker.trip(end);
    } else {
        breaker.record(took, end);
    }
}

/// Blocks this thread has read from storage (`ru_inblock`); 0 where the count is not
/// available, which leaves the wall-time budget as the only bound.
fn blocks_read() -> i64 {
    // SAFETY: getrusage writes one `rusage` into the zeroed value it is given and reads
    // nothing else.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_THREAD, &raw mut usage) == 0 {
            usage.ru_inblock
        } else {
            0
        }
    }
}

/// A read-only connection for this thread, with the database's pragmas and a busy handler
/// that never sleeps.
fn open(inner: &Inner) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = rusqlite::Connection::open_with_flags(&inner.path, flags)?;
    apply_pragmas(&conn, &inner.config, inner.config.read_cache_size_kib)?;
    conn.busy_handler(Some(give_up_when_busy))?;
    Ok(Connection::from(conn))
}

/// Runs `f` inside one read transaction, so that its statements see one committed state;
/// the transaction ends however `f` ends (a panic included), so that neither a pooled nor a
/// thread-local connection is left holding an old snapshot.
pub(super) fn in_snapshot<R>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> R,
) -> Result<R, DbError> {
    struct End<'c>(&'c Connection);
    impl Drop for End<'_> {
        fn drop(&mut self) {
            let open = self.0.as_sqlite().is_none_or(|c| !c.is_autocommit());
            if open {
                if let Err(e) = self.0.cached_execute("ROLLBACK", []) {
                    tracing::error!(error = %e, "ending a read transaction failed");
                }
            }
        }
    }
    // On PostgreSQL the snapshot must be asked for: its default isolation gives each
    // statement its own.
    let begin = match conn.engine() {
        Engine::Sqlite => "BEGIN",
        Engine::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
    };
    conn.cached_execute(begin, [])?;
    let _end = End(conn);
    Ok(f(conn))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fast_read_from_the_disk_opens_the_breaker() {
        let b = Breaker::new(Duration::from_millis(10), Duration::from_millis(500));
        let now = Instant::now();
        settle(&b, (7, 7), Duration::from_micros(30), now);
        assert!(b.allows(now), "no block read, within the budget");
        settle(&b, (7, 8), Duration::from_micros(30), now);
        assert!(
            !b.allows(now),
            "one block read from storage trips it, however fast"
        );
        assert!(b.allows(now + Duration::from_millis(501)));
        assert_eq!(b.trips(), 1);
    }

    #[test]
    fn a_fast_read_keeps_the_breaker_closed() {
        let b = Breaker::new(Duration::from_millis(1), Duration::from_millis(500));
        let now = Instant::now();
        assert!(b.allows(now));
        assert!(!b.record(Duration::from_micros(30), now));
        assert!(
            !b.record(Duration::from_millis(1), now),
            "the budget itself is allowed"
        );
        assert!(b.allows(now));
        assert_eq!(b.trips(), 0);
    }

    #[test]
    fn a_slow_read_opens_the_breaker_for_the_cool_down_only() {
        let b = Breaker::new(Duration::from_millis(1), Duration::from_millis(500));
        let now = Instant::now();
        assert!(b.record(Duration::from_millis(3), now));
        assert_eq!(b.trips(), 1);
        assert!(!b.allows(now));
        assert!(!b.allows(now + Duration::from_millis(499)));
        assert!(b.allows(now + Duration::from_millis(500)));
        assert!(b.allows(now + Duration::from_secs(60)));
    }

    #[test]
    fn a_later_trip_extends_and_an_earlier_one_never_shortens() {
        let b = Breaker::new(Duration::from_millis(1), Duration::from_millis(500));
        let now = Instant::now();
        b.trip(now + Duration::from_millis(300));
        // A read that ended earlier (recorded late by another thread) must not shorten it.
        b.trip(now);
        assert!(!b.allows(now + Duration::from_millis(799)));
        assert!(b.allows(now + Duration::from_millis(800)));
        assert_eq!(b.trips(), 2);
    }

    #[test]
    fn after_the_cool_down_one_more_slow_read_opens_it_again() {
        let b = Breaker::new(Duration::from_millis(1), Duration::from_millis(500));
        let now = Instant::now();
        b.trip(now);
        let later = now + Duration::from_secs(1);
        assert!(b.allows(later));
        assert!(b.record(Duration::from_millis(2), later));
        assert!(!b.allows(later + Duration::from_millis(100)));
        assert!(b.allows(later + Duration::from_millis(500)));
    }

    #[test]
    fn a_breaker_is_closed_when_made() {
        let b = Breaker::new(BUDGET, COOL_DOWN);
        assert!(b.allows(b.origin));
        assert!(b.allows(Instant::now()));
    }
}
