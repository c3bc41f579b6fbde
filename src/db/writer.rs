//! The writer thread: drains queued tasks into one transaction (group commit), isolates each
//! task in a savepoint, and answers every task only after its transaction is committed.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::CachedRow;
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::{DbError, DbStats, WriterHook};

pub(super) enum Msg {
    Task(Box<dyn ErasedTask>),
    /// Stop accepting new tasks; the ones already queued are still committed.
    Close,
}

/// A queued write with its result type erased so that one channel carries every kind of task.
pub(super) trait ErasedTask: Send {
    /// Runs the task inside a savepoint; returns whether it succeeded.
    fn run(&mut self, conn: &Connection);
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
    fn run(&mut self, conn: &Connection) {
        let Some(work) = self.work.take() else { return };
        if let Err(e) = conn.cached_execute(SAVEPOINT, []) {
            self.outcome = Some(Err(E::from(DbError::Sqlite(e))));
            return;
        }
        let outcome = match catch_unwind(AssertUnwindSafe(|| work(conn))) {
            Ok(outcome) => outcome,
            Err(_) => Err(E::from(DbError::TaskPanicked)),
        };
        let undone = match outcome.is_ok() {
            true => conn.cached_execute(RELEASE, []).map(|_| ()),
            false => conn.execute_batch(ROLLBACK),
        };
        if let Err(e) = undone {
            // The savepoint could not be closed; the whole group will fail at commit.
            tracing::error!(error = %e, "closing a task savepoint failed");
        }
        self.outcome = Some(outcome);
    }

    fn finish(self: Box<Self>, commit: &Result<(), CommitFailed>) {
        let answer = match (self.outcome, commit) {
            (Some(Ok(_)), Err(e)) => Err(E::from(DbError::Sqlite(commit_error(e)))),
            (Some(outcome), _) => outcome,
            (None, _) => Err(E::from(DbError::TaskPanicked)),
        };
        // The caller may have gone away (request cancelled); the write stands regardless.
        let _ = self.reply.send(answer);
    }
}

/// Why a group transaction did not commit: SQLite's (extended) result code, so that callers
/// can tell a full disk (`SQLITE_FULL`) from other failures, and its message.
#[derive(Debug)]
pub(super) struct CommitFailed {
    code: std::ffi::c_int,
    message: String,
}

impl CommitFailed {
    fn from_sqlite(e: &rusqlite::Error) -> CommitFailed {
        let code = match e {
            rusqlite::Error::SqliteFailure(err, _) => err.extended_code,
            _ => rusqlite::ffi::SQLITE_ERROR,
        };
        CommitFailed {
            code,
            message: e.to_string(),
        }
    }
}

impl std::fmt::Display for CommitFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn commit_error(failed: &CommitFailed) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(failed.code),
        Some(format!("group commit failed: {}", failed.message)),
    )
}

/// The writer thread's loop. Ends when the queue is closed and drained.
pub(super) fn run(
    name: &'static str,
    conn: Connection,
    mut rx: mpsc::Receiver<Msg>,
    batch_cap: usize,
    stats: &DbStats,
    mut hook: Option<Box<dyn WriterHook>>,
) {
    tracing::debug!(db = name, "database writer started");
    if let Some(hook) = hook.as_mut() {
        hook.attach(&conn);
    }
    let mut batch: Vec<Box<dyn ErasedTask>> = Vec::with_capacity(batch_cap);
    while let Some(first) = rx.blocking_recv() {
        take(&mut rx, first, &mut batch);
        while batch.len() < batch_cap {
            match rx.try_recv() {
                Ok(msg) => take(&mut rx, msg, &mut batch),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            commit_batch(&conn, &mut batch, stats, hook.as_deref_mut());
        }
    }
    if let Err((_, e)) = conn.close() {
        tracing::error!(db = name, error = %e, "closing the database writer connection failed");
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
    hook: Option<&mut dyn WriterHook>,
) {
    let began = std::time::Instant::now();
    let commit = match conn.cached_execute("BEGIN IMMEDIATE", []) {
        Ok(_) => {
            for task in batch.iter_mut() {
                task.run(conn);
            }
            conn.cached_execute("COMMIT", []).map(|_| ()).map_err(|e| {
                let _ = conn.execute_batch("ROLLBACK");
                CommitFailed::from_sqlite(&e)
            })
        }
        Err(e) => Err(CommitFailed::from_sqlite(&e)),
    };
    stats.commit_seconds.observe_duration(began.elapsed());
    stats.batch_tasks.observe_count(batch.len() as u64);
    if let Err(e) = &commit {
        tracing::error!(error = %e, tasks = batch.len(), "group commit failed");
    }
    if let Some(hook) = hook {
        hook.after(conn, commit.is_ok());
    }
    for task in batch.drain(..) {
        task.finish(&commit);
    }
}
