//! What the data directory's filesystem must do for LabStore's blob writes to be atomic and
//! durable (`docs/scale-out.md`, "The filesystem contract"), checked at startup with scratch
//! files in `objects/tmp`, so that a data directory on a filesystem that cannot keep those
//! promises (a FUSE mount over an object store without atomic rename, say) is refused before
//! anything is written, rather than found out after a crash:
//!
//! 1. an exclusive create (`O_CREAT | O_EXCL`) makes a new file and refuses an existing one
//!    (blob names are claimed that way);
//! 2. written bytes, `fsync`ed, read back;
//! 3. `rename` onto an existing name in the same directory replaces it whole (how a blob, and
//!    every overwrite, is published), the old name gone;
//! 4. a directory can be `fsync`ed (how a rename is made durable).
//!
//! What cannot be checked from one machine (that a sync reaches stable storage, close-to-open
//! consistency between nodes) is the operator's to ensure; the document says which
//! filesystems do.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;

/// A promise the filesystem did not keep, and what the attempt answered.
#[derive(Debug, thiserror::Error)]
#[error("the filesystem of {dir} does not {promise} ({detail}); see docs/scale-out.md, \"The filesystem contract\"")]
pub struct ContractError {
    pub dir: String,
    pub promise: &'static str,
    pub detail: String,
    /// The attempt failed for want of space (ENOSPC, EDQUOT), not for a broken promise.
    no_space: bool,
}

/// Whether `e` says the volume (or the quota) is full.
fn no_space(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    ) || matches!(e.raw_os_error(), Some(code) if code == libc::ENOSPC || code == libc::EDQUOT)
}

/// Checks the contract in `tmp` (an existing, otherwise unused directory); leaves nothing
/// behind.
///
/// A volume with no room for the scratch files is not a broken promise: the check is skipped
/// with a warning, so that a server on a full disk still starts and serves the reads and
/// deletes that free it (`docs/operations.md`, "Disk full").
pub fn check(tmp: &Path) -> Result<(), ContractError> {
    let nonce: u64 = rand::random();
    let a = tmp.join(format!(".contract-{nonce:016x}-a"));
    let b = tmp.join(format!(".contract-{nonce:016x}-b"));
    let result = steps(tmp, &a, &b);
    let _ = std::fs::remove_file(&a);
    let _ = std::fs::remove_file(&b);
    match result {
        Err(e) if e.no_space => {
            tracing::warn!(dir = %tmp.display(), "the data volume is full: the filesystem contract was not checked at this start");
            Ok(())
        }
        other => other,
    }
}

fn steps(tmp: &Path, a: &Path, b: &Path) -> Result<(), ContractError> {
    let fail = |promise: &'static str, detail: String| ContractError {
        dir: tmp.display().to_string(),
        promise,
        detail,
        no_space: false,
    };
    let failed = |promise: &'static str, e: std::io::Error| ContractError {
        no_space: no_space(&e),
        ..fail(promise, e.to_string())
    };
    let create = |path: &Path| OpenOptions::new().write(true).create_new(true).open(path);
    let write = |path: &Path, bytes: &[u8]| -> std::io::Result<()> {
        let mut file = create(path)?;
        file.write_all(bytes)?;
        file.sync_all()
    };
    const EXCLUSIVE: &str = "create files exclusively (O_EXCL)";
    write(a, b"new").map_err(|e| failed(EXCLUSIVE, e))?;
    match create(a) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(fail(EXCLUSIVE, e.to_string())),
        Ok(_) => {
            return Err(fail(
                EXCLUSIVE,
                "a second exclusive create succeeded".into(),
            ))
        }
    }
    const DURABLE: &str = "keep fsynced bytes";
    let read = |path: &Path| -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        File::open(path)?.read_to_end(&mut bytes)?;
        Ok(bytes)
    };
    match read(a) {
        Ok(bytes) if bytes == b"new" => {}
        Ok(bytes) => {
            return Err(fail(
                DURABLE,
                format!("read back {} other bytes", bytes.len()),
            ))
        }
        Err(e) => return Err(fail(DURABLE, e.to_string())),
    }
    const RENAME: &str = "replace a file atomically by rename";
    write(b, b"old").map_err(|e| failed(RENAME, e))?;
    std::fs::rename(a, b).map_err(|e| fail(RENAME, e.to_string()))?;
    match (read(b), a.exists()) {
        (Ok(bytes), false) if bytes == b"new" => {}
        (Ok(_), false) => return Err(fail(RENAME, "the target kept its old bytes".into())),
        (Ok(_), true) => return Err(fail(RENAME, "the source name is still there".into())),
        (Err(e), _) => return Err(fail(RENAME, e.to_string())),
    }
    File::open(tmp)
        .and_then(|dir| dir.sync_all())
        .map_err(|e| fail("fsync a directory", e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_filesystem_keeps_the_contract_and_nothing_is_left() {
        let dir = tempfile::tempdir().unwrap();
        check(dir.path()).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_full_volume_is_not_a_broken_promise() {
        let full = std::io::Error::from_raw_os_error(libc::ENOSPC);
        assert!(no_space(&full));
        assert!(!no_space(&std::io::Error::from_raw_os_error(libc::EXDEV)));
    }

    #[test]
    fn a_directory_that_cannot_hold_files_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let not_a_dir = dir.path().join("file");
        std::fs::write(&not_a_dir, b"x").unwrap();
        let e = check(&not_a_dir).unwrap_err();
        assert_eq!(e.promise, "create files exclusively (O_EXCL)");
        assert!(e.to_string().contains("docs/scale-out.md"), "{e}");
    }
}
