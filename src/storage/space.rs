//! The data volume's free space against `backend.s3.min_free_bytes` (`docs/operations.md`,
//! "Disk full"). Below the floor, writes are refused before any byte is written; reads and
//! deletes go on. `statvfs` of the data directory is cached: asked again at most every
//! `REFRESH`, or sooner once `LARGE_WRITES` bytes were committed since (or a write met a full
//! disk), so a check on the request path is an atomic load almost every time.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The longest a cached reading is believed.
const REFRESH: Duration = Duration::from_millis(500);
/// Bytes committed after which the cached reading is refreshed at the next check.
const LARGE_WRITES: u64 = 16 << 20;

/// Free space on the data volume, and the floor below which writes are refused.
#[derive(Debug)]
pub struct FreeSpace {
    dir: PathBuf,
    floor: AtomicU64,
    /// Bytes available to the server's user at the last reading.
    free: AtomicU64,
    /// Whether the last reading was below the floor.
    low: AtomicBool,
    /// Bytes committed since the last reading.
    written: AtomicU64,
    /// When the last reading was taken; held only to take the next one.
    read_at: Mutex<Option<Instant>>,
    /// Writes refused because of the floor.
    refused: AtomicU64,
}

/// A write refused: free bytes on the volume and the floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Low {
    pub free: u64,
    pub floor: u64,
}

impl FreeSpace {
    pub fn new(dir: &Path, floor: u64) -> FreeSpace {
        let space = FreeSpace {
            dir: dir.to_path_buf(),
            floor: AtomicU64::new(floor),
            free: AtomicU64::new(u64::MAX),
            low: AtomicBool::new(false),
            written: AtomicU64::new(0),
            read_at: Mutex::new(None),
            refused: AtomicU64::new(0),
        };
        space.refresh_if_due(true);
        space
    }

    /// The floor in bytes (0: off).
    pub fn floor(&self) -> u64 {
        self.floor.load(Ordering::Relaxed)
    }

    /// Changes the floor (tests; a future reload); takes effect at the next check.
    pub fn set_floor(&self, floor: u64) {
        self.floor.store(floor, Ordering::Relaxed);
        self.refresh_if_due(true);
    }

    /// Free bytes at the last reading.
    pub fn free(&self) -> u64 {
        self.free.load(Ordering::Relaxed)
    }

    /// Writes refused so far.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Whether the volume is below the floor (reading it again if the cached reading is old).
    pub fn is_low(&self) -> bool {
        self.refresh_if_due(false);
        self.low.load(Ordering::Relaxed)
    }

    /// `Ok` when a write may start; `Err` (counted) when the volume is below the floor.
    pub fn admit(&self) -> Result<(), Low> {
        if self.floor() == 0 {
            return Ok(());
        }
        if !self.is_low() {
            return Ok(());
        }
        self.refused.fetch_add(1, Ordering::Relaxed);
        Err(Low {
            free: self.free(),
            floor: self.floor(),
        })
    }

    /// Records `bytes` committed to the volume: enough of them make the next check read it.
    pub fn wrote(&self, bytes: u64) {
        self.written.fetch_add(bytes, Ordering::Relaxed);
    }

    /// A write met a full volume: the next check reads it again.
    pub fn full(&self) {
        self.written.store(LARGE_WRITES, Ordering::Relaxed);
    }

    fn refresh_if_due(&self, force: bool) {
        if self.floor() == 0 && !force {
            return;
        }
        let Ok(mut read_at) = self.read_at.try_lock() else {
            // Another thread is reading it now: its answer is as good.
            return;
        };
        let due = force
            || self.written.load(Ordering::Relaxed) >= LARGE_WRITES
            || read_at.is_none_or(|at| at.elapsed() >= REFRESH);
        if !due {
            return;
        }
        *read_at = Some(Instant::now());
        self.written.store(0, Ordering::Relaxed);
        match available(&self.dir) {
            Ok(free) => {
                self.free.store(free, Ordering::Relaxed);
                let floor = self.floor();
                let low = floor > 0 && free < floor;
                let was = self.low.swap(low, Ordering::Relaxed);
                if low && !was {
                    tracing::warn!(
                        free_bytes = free,
                        min_free_bytes = floor,
                        dir = %self.dir.display(),
                        "the data volume is below backend.s3.min_free_bytes: writes are refused (503 SlowDown) until space is freed; reads and deletes go on"
                    );
                } else if was && !low {
                    tracing::info!(
                        free_bytes = free,
                        min_free_bytes = floor,
                        "the data volume is above backend.s3.min_free_bytes again: writes accepted"
                    );
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, dir = %self.dir.display(), "cannot read the data volume's free space")
            }
        }
    }
}

/// Bytes available to this (unprivileged) process on the volume holding `dir`.
fn available(dir: &Path) -> io::Result<u64> {
    let path = CString::new(dir.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: `statvfs` writes into the zeroed struct we own; `path` is a valid C string.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    let done = unsafe { libc::statvfs(path.as_ptr(), &raw mut stat) };
    if done != 0 {
        return Err(io::Error::last_os_error());
    }
    #[allow(
        clippy::useless_conversion,
        reason = "the field types differ between targets"
    )]
    Ok(u64::from(stat.f_bavail).saturating_mul(u64::from(stat.f_frsize)))
}

/// Whether an I/O error says the volume is full.
pub fn is_storage_full(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::StorageFull || e.raw_os_error() == Some(libc::ENOSPC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_floor_above_the_free_space_refuses_and_zero_never_does() {
        let dir = tempfile::tempdir().unwrap();
        let space = FreeSpace::new(dir.path(), 0);
        assert_eq!(space.admit(), Ok(()));
        assert!(space.free() > 0 && space.free() < u64::MAX);
        space.set_floor(u64::MAX);
        let low = space.admit().unwrap_err();
        assert_eq!(low.floor, u64::MAX);
        assert!(space.is_low());
        assert_eq!(space.refused(), 1);
        space.set_floor(1);
        assert_eq!(space.admit(), Ok(()));
        assert!(!space.is_low());
    }

    #[test]
    fn enospc_reads_as_full() {
        assert!(is_storage_full(&io::Error::from_raw_os_error(libc::ENOSPC)));
        assert!(!is_storage_full(&io::Error::from_raw_os_error(libc::EIO)));
    }
}
