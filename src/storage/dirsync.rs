//! Shared directory fsyncs: a group commit of the fsyncs that publish blob renames.
//!
//! One fsync of a directory makes durable every rename into it that happened before the fsync
//! started. So a writer that has just renamed its blob needs *an* fsync of that directory that
//! starts after its rename and completes; it need not issue its own. Per directory, fsyncs are
//! numbered (generations) under a mutex: a writer asks for the generation after the last one
//! started (the one running, if any, may have started before its rename and does not count),
//! and waits on a condition variable until that generation has completed. When no fsync is
//! running, the first waiter whose generation is due runs it for everyone waiting on it. At most
//! one fsync of a directory runs at a time, and all writers that arrive while one runs share the
//! next one.
//!
//! Errors reach every writer whose generation failed: a waiter succeeds only if no fsync from
//! its own generation up to the last completed one failed (conservatively: a later failure
//! fails it too), so a write is acknowledged only after a directory fsync that began after its
//! rename has completed successfully.
//!
//! Waiting blocks the calling thread; callers run on the blocking pool (as `BlobWriter::commit`
//! does).

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

/// The coalescers of every blob directory, created on first use.
#[derive(Debug, Default)]
pub struct DirSyncs {
    dirs: Mutex<HashMap<PathBuf, Arc<DirSync>>>,
    /// Directory fsyncs issued, across all directories.
    fsyncs: AtomicU64,
    /// Writers that asked for a directory fsync.
    requests: AtomicU64,
}

impl DirSyncs {
    /// Returns once an fsync of `dir` that started after this call has completed: every
    /// rename into `dir` done before the call is then durable.
    pub fn sync(&self, dir: &Path) -> io::Result<()> {
        self.sync_with(dir, || std::fs::File::open(dir)?.sync_all())
    }

    /// `sync` with the fsync itself supplied: what tests use to hold, fail and count it.
    pub fn sync_with(&self, dir: &Path, fsync: impl FnOnce() -> io::Result<()>) -> io::Result<()> {
        let state = {
            let mut dirs = self.dirs.lock().unwrap_or_else(PoisonError::into_inner);
            match dirs.get(dir) {
                Some(state) => Arc::clone(state),
                None => Arc::clone(dirs.entry(dir.to_owned()).or_default()),
            }
        };
        self.requests.fetch_add(1, Ordering::Relaxed);
        state.sync_with(|| {
            self.fsyncs.fetch_add(1, Ordering::Relaxed);
            fsync()
        })
    }

    /// How many threads wait for (or run) an fsync of `dir` (for tests).
    #[cfg(test)]
    pub fn waiting(&self, dir: &Path) -> usize {
        let dirs = self.dirs.lock().unwrap_or_else(PoisonError::into_inner);
        dirs.get(dir).map_or(0, |state| state.waiting())
    }

    /// Directory fsyncs issued so far.
    pub fn fsyncs(&self) -> u64 {
        self.fsyncs.load(Ordering::Relaxed)
    }

    /// Directory fsyncs asked for so far (one per committed blob when fsync is on).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

/// The group commit of one directory's fsyncs.
#[derive(Debug, Default)]
pub struct DirSync {
    state: Mutex<State>,
    done: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// The generation of the last fsync started (0: none yet).
    started: u64,
    /// The generation of the last fsync completed; `completed < started` while one runs.
    completed: u64,
    /// The last generation whose fsync failed, and how.
    failed: Option<(u64, io::ErrorKind, String)>,
    /// Threads waiting for a generation (for tests).
    waiting: usize,
}

impl DirSync {
    /// Waits for (or runs) an fsync that starts after this call, and returns its outcome.
    pub fn sync_with(&self, fsync: impl FnOnce() -> io::Result<()>) -> io::Result<()> {
        let mut fsync = Some(fsync);
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        // The running fsync (generation `started`, when `completed < started`) may have begun
        // before the caller's rename: only the next one covers it.
        let target = state.started + 1;
        state.waiting += 1;
        while state.completed < target {
            if state.completed == state.started {
                // Nothing runs: start generation `target` (no other can be due first, since
                // `started < target` here means `started == target - 1`).
                state.started += 1;
                debug_assert_eq!(state.started, target);
                drop(state);
                let fsync = fsync.take().expect("a waiter runs at most one fsync");
                // A panic must not leave the generation running forever for the others.
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(fsync))
                    .unwrap_or_else(|_| Err(io::Error::other("the directory fsync panicked")));
                state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                state.completed = state.started;
                if let Err(e) = outcome {
                    state.failed = Some((state.completed, e.kind(), e.to_string()));
                }
                self.done.notify_all();
            } else {
                state = self
                    .done
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
        state.waiting -= 1;
        match &state.failed {
            Some((generation, kind, message)) if *generation >= target => Err(io::Error::new(
                *kind,
                format!("directory fsync failed: {message}"),
            )),
            _ => Ok(()),
        }
    }

    /// How many threads wait for an fsync of this directory (for tests).
    #[cfg(test)]
    pub fn waiting(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .waiting
    }
}
