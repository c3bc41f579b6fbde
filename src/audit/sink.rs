//! Where audit records go: one bounded queue, drained by one thread that writes them to a
//! file (rotated by size, the oldest beyond `keep` removed), to standard output, or posts
//! them in batches to an HTTP webhook. The thread writes whatever has queued and flushes when
//! the queue is empty, so records reach the file promptly without a flush per record.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::config::{Audit, AuditSink};

use super::Counters;

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

/// The producers' end: a bounded queue, and how many records it holds (for `flush`).
pub struct Queue {
    tx: SyncSender<Vec<u8>>,
    /// Records queued and not yet handled by the sink, with a signal when it reaches zero.
    outstanding: Arc<(Mutex<u64>, Condvar)>,
}

impl Queue {
    /// Queues a line unless the queue is full.
    pub fn offer(&self, line: Vec<u8>) -> bool {
        let (count, _) = &*self.outstanding;
        *count
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) += 1;
        match self.tx.try_send(line) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.handled(1);
                false
            }
        }
    }

    fn handled(&self, n: u64) {
        handled(&self.outstanding, n);
    }

    /// Waits until every queued record was handled, or `limit`.
    pub fn flush(&self, limit: Duration) {
        let (count, done) = &*self.outstanding;
        let guard = count
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = done.wait_timeout_while(guard, limit, |n| *n > 0);
    }
}

fn handled(outstanding: &(Mutex<u64>, Condvar), n: u64) {
    let (count, done) = outstanding;
    let mut count = count
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    *count = count.saturating_sub(n);
    if *count == 0 {
        done.notify_all();
    }
}

/// Starts the sink `config` names on its own thread.
pub fn start(config: &Audit, counters: Arc<Counters>) -> Result<Queue, SinkError> {
    let capacity = usize::try_from(config.queue).unwrap_or(usize::MAX);
    let (tx, rx) = sync_channel::<Vec<u8>>(capacity);
    let outstanding = Arc::new((Mutex::new(0u64), Condvar::new()));
    let done = Arc::clone(&outstanding);
    let mut writer: Box<dyn Writer> = match config.sink {
        AuditSink::Stdout => Box::new(Stream(std::io::stdout())),
        AuditSink::File => Box::new(Rotating::open(
            &config.file.path,
            config.file.max_bytes,
            config.file.keep,
        )?),
        AuditSink::Webhook => Box::new(super::webhook::Webhook::new(&config.webhook)?),
    };
    std::thread::Builder::new()
        .name("audit-log".into())
        .spawn(move || drain(&rx, writer.as_mut(), &counters, &done))
        .map_err(SinkError::Thread)?;
    Ok(Queue { tx, outstanding })
}

/// What a sink does with a batch of lines: all written, or an error for the whole batch.
pub trait Writer: Send {
    fn write_batch(&mut self, lines: &[Vec<u8>]) -> std::io::Result<()>;
}

/// Largest batch the thread takes from the queue at once.
const BATCH: usize = 512;

fn drain(
    rx: &Receiver<Vec<u8>>,
    writer: &mut dyn Writer,
    counters: &Counters,
    outstanding: &(Mutex<u64>, Condvar),
) {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(line) => batch.push(line),
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        }
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(line) => batch.push(line),
                Err(_) => break,
            }
        }
        let n = batch.len() as u64;
        match writer.write_batch(&batch) {
            Ok(()) => counters.written.fetch_add(n, Ordering::Relaxed),
            Err(e) => {
                tracing::error!(error = %e, records = n, "audit records could not be written");
                counters.dropped.fetch_add(n, Ordering::Relaxed)
            }
        };
        batch.clear();
        handled(outstanding, n);
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
