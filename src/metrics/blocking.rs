//! Tokio's blocking pool, as LabStore uses it: every `spawn_blocking` of the server goes
//! through `spawn`, which counts the tasks waiting for a blocking thread and those running
//! on one, and how long each waited. Tokio's own blocking-pool metrics are unstable
//! (`tokio_unstable`); these are ours, and measure only our tasks (which are all there are).
//! The pool is saturated when tasks wait: `queued` above zero and rising wait times.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;
use std::time::Instant;

use super::histogram::{self, Histogram};

static QUEUED: AtomicU64 = AtomicU64::new(0);
static RUNNING: AtomicU64 = AtomicU64::new(0);
static STARTED: AtomicU64 = AtomicU64::new(0);
static WAIT: LazyLock<Histogram> = LazyLock::new(|| Histogram::seconds(histogram::SECONDS));

/// `tokio::task::spawn_blocking`, counted.
pub fn spawn<F, R>(f: F) -> tokio::task::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    QUEUED.fetch_add(1, Ordering::Relaxed);
    let queued = Queued(Instant::now());
    tokio::task::spawn_blocking(move || {
        let _running = queued.start();
        f()
    })
}

/// A task waiting for a thread; dropped unstarted when the runtime shuts down first.
struct Queued(Instant);

impl Queued {
    fn start(self) -> Running {
        WAIT.observe_duration(self.0.elapsed());
        STARTED.fetch_add(1, Ordering::Relaxed);
        RUNNING.fetch_add(1, Ordering::Relaxed);
        Running
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        QUEUED.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Running;

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The blocking pool's families.
pub fn render(out: &mut String) {
    let (queued, running, started) = (
        QUEUED.load(Ordering::Relaxed),
        RUNNING.load(Ordering::Relaxed),
        STARTED.load(Ordering::Relaxed),
    );
    out.push_str(&format!(
        "# HELP labstore_blocking_tasks Tasks on tokio's blocking pool (file and SQLite I/O), by state: waiting for a thread, or running on one.\n\
         # TYPE labstore_blocking_tasks gauge\n\
         labstore_blocking_tasks{{state=\"queued\"}} {queued}\n\
         labstore_blocking_tasks{{state=\"running\"}} {running}\n\
         # HELP labstore_blocking_tasks_started_total Tasks that started on tokio's blocking pool.\n\
         # TYPE labstore_blocking_tasks_started_total counter\n\
         labstore_blocking_tasks_started_total {started}\n\
         # HELP labstore_blocking_queue_wait_seconds Time a task waited for a blocking-pool thread.\n\
         # TYPE labstore_blocking_queue_wait_seconds histogram\n"
    ));
    WAIT.render(out, "labstore_blocking_queue_wait_seconds", "");
}
