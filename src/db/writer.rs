//! The writer thread: drains queued tasks into one transaction (group commit), isolates each
//! task in a savepoint, and answers every task only after its transaction is committed.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::sql::{Connection, Engine};
use tokio::sync::{mpsc, oneshot};

use super::{DbError, DbStats, WriterHook};

pub(super) enum Msg {
    Task(Box<dyn ErasedTask>),
    /// Stop accepting new tasks; the ones already queued are still committed.
    Close,
}

/// A queued write with its result type erased so that one channel carries every kind of task.
pub(super) trait ErasedTask: Send {
    /// Runs the task inside a savepoint; returns whether its savepoint was closed (released,
    /// or rolled back to): when not, the group transaction cannot commit.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Answers the caller once the group transaction has committed (or failed to).
    fn finish(self: Box<Self>, commit: &Result<(), CommitFailed>);
}

pub(super) struct Task<T, E, F> {
    work: Option<F>,
    outcome: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<T, E, F> Task<T, E, F>
where
    F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    pub(super) fn boxed(work: F, reply: oneshot::Sender<Result<T, E>>) -> Box<dyn ErasedTask> {
        Box::new(Task {
            work: Some(work),
            outcome: None,
            reply,
        })
    }
}

const SAVEPOINT: &str = "SAVEPOINT task";
const RELEASE: &str = "RELEASE task";
const ROLLBACK: &str = "ROLLBACK TO task; RELEASE task";

impl<T, E, F> ErasedTask for Task<T, E, F>
where
    F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(work) = self.work.take() else {
            return true;
        };
        if let Err(e) = conn.cached_execute(SAVEPOINT, []) {
            self.outcome = Some(Err(E::from(DbError::Sql(e))));
            // Nothing ran; on PostgreSQL the failed statement aborts the transaction.
            return conn.engine() == Engine::Sqlite;
        }
        let outcome = match catch_unwind(AssertUnwindSafe(|| work(conn))) {
            Ok(outcome) => outcome,
            Err(_) => Err(E::from(DbError::TaskPanicked)),
        };
        let undone = match outcome.is_ok() {
            true => conn.cached_execute(RELEASE, []).map(|_| ()),
            false => conn.execute_batch(ROLLBACK),
        };
        let closed = match undone {
            Ok(()) => true,
            Err(e) => {
                // The savepoint could not be closed; the whole group is rolled back.
                tracing::error!(error = %e, "closing a task savepoint failed");
                false
            }
        };
        self.outcome = Some(outcome);
        closed
    }

    fn finish(self: Box<Self>, commit: &Result<(), CommitFailed>) {
        let answer = match (self.outcome, commit) {
            (Some(Ok(_)), Err(e)) => Err(E::from(DbError::CommitFailed {
                storage_full: e.storage_full,
                message: e.message.clone(),
            })),
            (Some(outcome), _) => outcome,
            (None, _) => Err(E::from(DbError::TaskPanicked)),
        };
        // The caller may have gone away (request cancelled); the write stands regardless.
        let _ = self.reply.send(answer);
    }
}

/// Why a group transaction did not commit: whether the storage was full (a condition that
/// clears when space is freed, told apart by callers), and the engine's message.
#[derive(Debug)]
pub(super) struct CommitFailed {
    storage_full: bool,
    message: String,
}

impl CommitFailed {
    fn from_sql(e: &super::sql::Error) -> CommitFailed {
        CommitFailed {
            storage_full: e.is_storage_full(),
            message: e.to_string(),
        }
    }
}

impl std::fmt::Display for CommitFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The writer thread's loop. Ends when the queue is closed and drained.
/// Opens the writer's connection again after it was lost (PostgreSQL).
pub(super) type Reconnect = Box<dyn Fn() -> Result<Connection, DbError> + Send + Sync>;

/// A database's writers share one queue (SQLite has one writer; PostgreSQL several, each
/// with its own connection) and the hook.
pub(super) type SharedQueue = std::sync::Mutex<mpsc::Receiver<Msg>>;
pub(super) type SharedHook = std::sync::Mutex<Box<dyn WriterHook>>;

fn locked<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[allow(clippy::too_many_arguments)] // the writer's whole world, each piece used once here
pub(super) fn run(
    name: &'static str,
    mut conn: Connection,
    rx: &SharedQueue,
    batch_cap: usize,
    stats: &DbStats,
    hook: Option<&SharedHook>,
    first: bool,
    reconnect: Option<&Reconnect>,
) {
    tracing::debug!(db = name, "database writer started");
    if let (Some(hook), true) = (hook, first) {
        locked(hook).attach(&conn);
    }
    let mut batch: Vec<Box<dyn ErasedTask>> = Vec::with_capacity(batch_cap);
    loop {
        {
            // One writer takes a group at a time; the others wait for the queue.
            let mut rx = locked(rx);
            let Some(first) = rx.blocking_recv() else {
                break;
            };
            take(&mut rx, first, &mut batch);
            while batch.len() < batch_cap {
                match rx.try_recv() {
                    Ok(msg) => take(&mut rx, msg, &mut batch),
                    Err(_) => break,
                }
            }
        }
        if let Some(reconnect) = reconnect {
            let lost = conn
                .as_postgres()
                .is_some_and(super::sql::postgres::PgConn::is_closed);
            if lost {
                match reconnect() {
                    Ok(fresh) => {
                        tracing::info!(db = name, "database writer reconnected");
                        conn = fresh;
                    }
                    // The batch fails on the closed connection and is answered 503.
                    Err(e) => {
                        tracing::warn!(db = name, error = %e, "database writer could not reconnect")
                    }
                }
            }
        }
        if !batch.is_empty() {
            commit_batch(&conn, &mut batch, stats, hook);
        }
    }
    if let Some(conn) = conn.into_sqlite() {
        if let Err((_, e)) = conn.close() {
            tracing::error!(db = name, error = %e, "closing the database writer connection failed");
        }
    }
    tracing::debug!(db = name, "database writer stopped");
}

fn take(rx: &mut mpsc::Receiver<Msg>, msg: Msg, batch: &mut Vec<Box<dyn ErasedTask>>) {
    match msg {
        Msg::Task(task) => batch.push(task),
        // Closing the receiver refuses new sends but keeps what is queued for us to drain.
        Msg::Close => rx.close(),
    }
}

fn commit_batch(
    conn: &Connection,
    batch: &mut Vec<Box<dyn ErasedTask>>,
    stats: &DbStats,
    hook: Option<&SharedHook>,
) {
    let began = std::time::Instant::now();
    // SQLite: take the write lock at once, so that no statement of the group can meet
    // `SQLITE_BUSY` half-way.
    let begin = match conn.engine() {
        Engine::Sqlite => "BEGIN IMMEDIATE",
        Engine::Postgres => "BEGIN",
    };
    let commit = match conn.cached_execute(begin, []) {
        Ok(_) => {
            let mut closed = true;
            for task in batch.iter_mut() {
                closed &= task.run(conn);
            }
            if closed {
                conn.cached_execute("COMMIT", []).map(|_| ()).map_err(|e| {
                    let _ = conn.execute_batch("ROLLBACK");
                    CommitFailed::from_sql(&e)
                })
            } else {
                // PostgreSQL would answer COMMIT of an aborted transaction by rolling it back
                // without an error: never ask it to.
                let _ = conn.execute_batch("ROLLBACK");
                Err(CommitFailed {
                    storage_full: false,
                    message: "a task's savepoint could not be closed".into(),
                })
            }
        }
        Err(e) => Err(CommitFailed::from_sql(&e)),
    };
    stats.commit_seconds.observe_duration(began.elapsed());
    stats.batch_tasks.observe_count(batch.len() as u64);
    if let Err(e) = &commit {
        tracing::error!(error = %e, tasks = batch.len(), "group commit failed");
    }
    if let Some(hook) = hook {
        locked(hook).after(conn, commit.is_ok());
    }
    for task in batch.drain(..) {
        task.finish(&commit);
    }
}
