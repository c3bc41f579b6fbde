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

#[cfg(test)]
mod tests {
    use super::*;

    /// The counters are process-wide (other tests use the pool too): only what this test's
    /// own task must have changed is checked.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_task_is_counted_running_then_started() {
        let started = STARTED.load(Ordering::Relaxed);
        let waits = WAIT.count();
        let (running_tx, running_rx) = std::sync::mpsc::channel::<()>();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let task = spawn(move || {
            running_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            7
        });
        tokio::task::spawn_blocking(move || running_rx.recv().unwrap())
            .await
            .unwrap();
        assert!(RUNNING.load(Ordering::Relaxed) >= 1);
        assert!(STARTED.load(Ordering::Relaxed) > started);
        assert!(WAIT.count() > waits);
        let mut text = String::new();
        render(&mut text);
        let running: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("labstore_blocking_tasks{state=\"running\"} "))
            .unwrap()
            .parse()
            .unwrap();
        assert!(running >= 1, "{text}");
        assert!(text.contains("labstore_blocking_queue_wait_seconds_bucket{le=\"+Inf\"} "));
        release_tx.send(()).unwrap();
        assert_eq!(task.await.unwrap(), 7);
    }
}
