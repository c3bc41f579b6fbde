//! Where audit records go: one bounded queue, drained by one thread that writes them to a
//! file (rotated by size, the oldest beyond `keep` removed), to standard output, or posts
//! them in batches to an HTTP webhook.
//!
//! A request's only cost is a push under an uncontended lock: the thread is not woken per
//! record (a wake-up is a system call and a context switch on both sides, which cost more
//! than the rest of the trail together), it takes what has queued every `TICK`, sooner when
//! the queue is half full or on `flush`, and turns the records into JSON lines itself.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::config::{Audit, AuditSink};

use super::{Counters, Record};

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("the audit log file {path} cannot be opened: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("backend.audit.webhook.url: {0}")]
    Webhook(String),
    #[error("the audit log's writer thread cannot be started: {0}")]
    Thread(std::io::Error),
}

/// The producers' end of the queue.
pub struct Queue {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<Pending>,
    /// The thread waits on it between batches.
    wake: Condvar,
    /// `flush` waits on it for the queue to empty.
    idle: Condvar,
    capacity: usize,
}

#[derive(Default)]
struct Pending {
    records: Vec<Record>,
    /// Records the thread has taken and not finished writing.
    in_flight: usize,
    /// Take what has queued now (a flush, or the queue half full).
    hurry: bool,
    closed: bool,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        // Every change under the lock is a push, a take or a flag: nothing is left half done.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// How long records may wait before the thread takes them.
const TICK: Duration = Duration::from_millis(20);

impl Queue {
    /// Queues `record`; `false` (the record dropped) when the queue is full.
    pub fn offer(&self, record: Record) -> bool {
        let shared = &self.shared;
        let mut state = shared.lock();
        if state.records.len() >= shared.capacity {
            return false;
        }
        state.records.push(record);
        if state.records.len() == shared.capacity.div_ceil(2) && !state.hurry {
            state.hurry = true;
            shared.wake.notify_one();
        }
        true
    }

    /// Waits (at most `limit`) until every record queued so far is written or dropped.
    pub fn flush(&self, limit: Duration) {
        let shared = &self.shared;
        let mut state = shared.lock();
        state.hurry = true;
        shared.wake.notify_one();
        let _ = shared
            .idle
            .wait_timeout_while(state, limit, |s| !s.records.is_empty() || s.in_flight > 0);
    }
}

impl Drop for Queue {
    /// The thread writes what is queued and ends.
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.closed = true;
        self.shared.wake.notify_one();
    }
}

/// Starts the sink `config` names on its own thread.
pub fn start(config: &Audit, counters: Arc<Counters>) -> Result<Queue, SinkError> {
    let writer: Box<dyn Writer> = match config.sink {
        AuditSink::Stdout => Box::new(Stream(std::io::stdout())),
        AuditSink::File => Box::new(Rotating::open(
            &config.file.path,
            config.file.max_bytes,
            config.file.keep,
        )?),
        AuditSink::Webhook => Box::new(super::webhook::Webhook::new(&config.webhook)?),
    };
    let capacity = usize::try_from(config.queue).unwrap_or(usize::MAX);
    start_with(writer, capacity, counters)
}

/// A queue of `capacity` records drained into `writer` by a thread of its own.
pub fn start_with(
    writer: Box<dyn Writer>,
    capacity: usize,
    counters: Arc<Counters>,
) -> Result<Queue, SinkError> {
    let shared = Arc::new(Shared {
        state: Mutex::new(Pending::default()),
        wake: Condvar::new(),
        idle: Condvar::new(),
        capacity: capacity.max(1),
    });
    let drained = Arc::clone(&shared);
    std::thread::Builder::new()
        .name("audit-log".into())
        .spawn(move || drain(&drained, writer, &counters))
        .map_err(SinkError::Thread)?;
    Ok(Queue { shared })
}

/// What a sink does with a batch of lines: all written, or an error for the whole batch.
pub trait Writer: Send {
    fn write_batch(&mut self, lines: &[Vec<u8>]) -> std::io::Result<()>;
}

/// Most lines handed to a sink at once (a webhook POST carries at most this many).
const BATCH: usize = 512;

fn drain(shared: &Shared, mut writer: Box<dyn Writer>, counters: &Counters) {
    // Line buffers, reused from batch to batch.
    let mut lines: Vec<Vec<u8>> = Vec::new();
    loop {
        let (records, closed) = {
            let mut state = shared.lock();
            let deadline = std::time::Instant::now() + TICK;
            while !state.hurry && !state.closed {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    break;
                }
                state = shared
                    .wake
                    .wait_timeout(state, left)
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .0;
            }
            state.hurry = false;
            state.in_flight = state.records.len();
            (std::mem::take(&mut state.records), state.closed)
        };
        for chunk in records.chunks(BATCH) {
            lines.resize_with(chunk.len(), Vec::new);
            let mut unwritable = 0;
            for (line, record) in lines.iter_mut().zip(chunk) {
                line.clear();
                match serde_json::to_writer(&mut *line, record) {
                    Ok(()) => line.push(b'\n'),
                    Err(e) => {
                        tracing::error!(error = %e, "an audit record could not be written");
                        line.clear();
                        unwritable += 1;
                    }
                }
            }
            let n = chunk.len() as u64;
            counters.dropped.fetch_add(unwritable, Ordering::Relaxed);
            match writer.write_batch(&lines[..chunk.len()]) {
                Ok(()) => counters
                    .written
                    .fetch_add(n - unwritable, Ordering::Relaxed),
                Err(e) => {
                    tracing::error!(error = %e, records = n, "audit records could not be written");
                    counters
                        .dropped
                        .fetch_add(n - unwritable, Ordering::Relaxed)
                }
            };
        }
        let mut state = shared.lock();
        state.in_flight = 0;
        if state.records.is_empty() {
            shared.idle.notify_all();
            if closed {
                return;
            }
        }
    }
}

/// Standard output (or any stream), flushed after each batch.
struct Stream<W: Write + Send>(W);

impl<W: Write + Send> Writer for Stream<W> {
    fn write_batch(&mut self, lines: &[Vec<u8>]) -> std::io::Result<()> {
        for line in lines {
            self.0.write_all(line)?;
        }
        self.0.flush()
    }
}

/// A file that is rotated when it would pass `max_bytes`: `audit.log` becomes `audit.log.1`,
/// `.1` becomes `.2`, …, and the file beyond `.keep` is removed.
pub struct Rotating {
    path: PathBuf,
    file: File,
    size: u64,
    max_bytes: u64,
    keep: u32,
}

impl Rotating {
    pub fn open(path: &Path, max_bytes: u64, keep: u32) -> Result<Rotating, SinkError> {
        let error = |source| SinkError::File {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(error)?;
        }
        let file = append(path).map_err(error)?;
        let size = file.metadata().map_err(error)?.len();
        Ok(Rotating {
            path: path.to_owned(),
            file,
            size,
            max_bytes,
            keep,
        })
    }

    fn numbered(&self, n: u32) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        self.file.sync_all()?;
        let _ = std::fs::remove_file(self.numbered(self.keep));
        for n in (1..self.keep).rev() {
            let from = self.numbered(n);
            if from.exists() {
                std::fs::rename(&from, self.numbered(n + 1))?;
            }
        }
        std::fs::rename(&self.path, self.numbered(1))?;
        self.file = append(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

fn append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

impl Writer for Rotating {
    fn write_batch(&mut self, lines: &[Vec<u8>]) -> std::io::Result<()> {
        let mut buffer = Vec::with_capacity(lines.iter().map(Vec::len).sum());
        for line in lines {
            let len = line.len() as u64;
            if self.size > 0 && self.size + (buffer.len() as u64) + len > self.max_bytes {
                self.file.write_all(&buffer)?;
                self.size += buffer.len() as u64;
                buffer.clear();
                self.rotate()?;
            }
            buffer.extend_from_slice(line);
        }
        self.file.write_all(&buffer)?;
        self.size += buffer.len() as u64;
        Ok(())
    }
}
