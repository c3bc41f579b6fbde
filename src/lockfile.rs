//! The data directory's lock: one process at a time owns `data_dir` (`labstore serve`, or an
//! offline maintenance command such as `labstore keys rotate`). An advisory `flock` on
//! `data_dir/labstore.lock`, released by the kernel when the process ends however it ends.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

pub const LOCK_FILE: &str = "labstore.lock";

/// Held while the process owns the data directory.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another labstore process is using {0} (a running server, or a maintenance command); \
         stop it first"
    )]
    Held(PathBuf),
    #[error("cannot lock {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

impl DataDirLock {
    /// Takes the lock without waiting: `Held` when another process has it.
    pub fn acquire(data_dir: &Path) -> Result<DataDirLock, LockError> {
        DataDirLock::take(data_dir, libc::LOCK_EX)
    }

    /// The lock of one node among several on a shared data directory (metadata on
    /// PostgreSQL): shared with the other nodes' servers, exclusive of every offline command.
    pub fn acquire_shared(data_dir: &Path) -> Result<DataDirLock, LockError> {
        DataDirLock::take(data_dir, libc::LOCK_SH)
    }

    fn take(data_dir: &Path, mode: libc::c_int) -> Result<DataDirLock, LockError> {
        let path = data_dir.join(LOCK_FILE);
        let io_error = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(data_dir).map_err(io_error)?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_error)?;
        // SAFETY: flock on a file descriptor this function owns; no memory is involved.
        let locked = unsafe { libc::flock(file.as_raw_fd(), mode | libc::LOCK_NB) };
        if locked != 0 {
            let e = io::Error::last_os_error();
            return Err(match e.kind() {
                io::ErrorKind::WouldBlock => LockError::Held(data_dir.to_path_buf()),
                _ => io_error(e),
            });
        }
        Ok(DataDirLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path()).unwrap();
        assert!(matches!(
            DataDirLock::acquire(dir.path()),
            Err(LockError::Held(_))
        ));
        drop(first);
        DataDirLock::acquire(dir.path()).unwrap();
    }

    #[test]
    fn nodes_share_the_lock_and_an_offline_command_is_kept_out() {
        let dir = tempfile::tempdir().unwrap();
        let a = DataDirLock::acquire_shared(dir.path()).unwrap();
        let b = DataDirLock::acquire_shared(dir.path()).unwrap();
        assert!(matches!(
            DataDirLock::acquire(dir.path()),
            Err(LockError::Held(_))
        ));
        drop((a, b));
        let offline = DataDirLock::acquire(dir.path()).unwrap();
        assert!(matches!(
            DataDirLock::acquire_shared(dir.path()),
            Err(LockError::Held(_))
        ));
        drop(offline);
    }
}
