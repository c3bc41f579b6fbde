//! `labstore restore --from DIR --to DATA_DIR`: a backup into an empty (or absent) data
//! directory.
//!
//! 1. The manifest is read and checked (format, names); no manifest, no restore: an
//!    interrupted backup has none.
//! 2. The target must be empty (its lock file aside) or absent.
//! 3. Every file the manifest names is read and its size and SHA-256 compared, before anything
//!    is written: a damaged backup restores nothing.
//! 4. The master key: when the backup's IAM database holds sealed values, the key in the keys
//!    directory must open its key check (a missing key is refused unless `--without-key`).
//! 5. The target's lock is taken; blobs are copied into `objects/<xx>/<id>` (each through a
//!    temp file, hashed again and fsynced), the databases last into `metadata/`, then every
//!    directory is fsynced. A server started on a directory whose restore stopped half-way
//!    finds no index or blob files without one; the message says to empty it and start again.

use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::manifest::{self, Manifest};
use super::{io, BackupError};
use crate::crypto::{MasterKey, MASTER_KEY_FILE};
use crate::lockfile::{DataDirLock, LOCK_FILE};
use crate::storage::BlobId;

#[derive(Debug, Clone)]
pub struct RestoreOptions {
    /// Where the master key the backup's secrets are sealed with is expected.
    pub keys_dir: PathBuf,
    /// Restore even when that key is missing (it must be put there before the server starts).
    pub without_key: bool,
}

/// What a restore wrote.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Restored {
    pub blobs: usize,
    pub bytes: u64,
}

pub fn restore(
    from: &Path,
    data_dir: &Path,
    options: &RestoreOptions,
    out: &mut dyn Write,
) -> Result<Restored, BackupError> {
    let Some(manifest) = Manifest::read(from).map_err(BackupError::Refused)? else {
        return Err(BackupError::Refused(format!(
            "{} has no {}: it holds no complete backup (an interrupted backup has no manifest)",
            from.display(),
            manifest::MANIFEST
        )));
    };
    refuse_non_empty(data_dir)?;
    verify(from, &manifest)?;
    let _ = writeln!(
        out,
        "verified {} databases and {} blob files of the backup taken {}",
        manifest.databases.len(),
        manifest.blobs.len(),
        manifest.created
    );
    check_key(from, &manifest, options, out)?;

    crate::storage::create_dir_0700(data_dir)
        .map_err(io(format!("creating {}", data_dir.display())))?;
    let _lock = DataDirLock::acquire(data_dir)?;
    refuse_non_empty(data_dir)?;
    let objects = data_dir.join("objects");
    let metadata = data_dir.join("metadata");
    let tmp = objects.join("tmp");
    for dir in [&tmp, &metadata] {
        crate::storage::create_dir_0700(dir).map_err(io(format!("creating {}", dir.display())))?;
    }
    let mut restored = Restored::default();
    let mut dirs = std::collections::HashSet::new();
    let blobs = from.join("blobs");
    for blob in &manifest.blobs {
        let id = BlobId::parse(&blob.id).expect("checked with the manifest");
        let target = manifest::blob_path(&objects, &id);
        let dir = target.parent().expect("a blob path has a directory");
        if dirs.insert(dir.to_path_buf()) {
            crate::storage::create_dir_0700(dir)
                .map_err(io(format!("creating {}", dir.display())))?;
        }
        let copied = manifest::copy_durably(
            &manifest::blob_path(&blobs, &id),
            &tmp.join(id.as_str()),
            &target,
        )
        .map_err(io(format!("restoring blob {}", id.as_str())))?;
        same(&copied, blob.size, &blob.sha256, &blob.id)?;
        restored.blobs += 1;
        restored.bytes += blob.size;
    }
    for db in &manifest.databases {
        let target = metadata.join(format!("{}.db", db.name));
        let copied = manifest::copy_durably(
            &from.join(&db.path),
            &metadata.join(format!("{}.db.tmp", db.name)),
            &target,
        )
        .map_err(io(format!("restoring {}", db.path)))?;
        same(&copied, db.size, &db.sha256, &db.path)?;
        restored.bytes += db.size;
    }
    for dir in
        dirs.iter()
            .map(PathBuf::as_path)
            .chain([objects.as_path(), metadata.as_path(), data_dir])
    {
        manifest::sync_dir(dir).map_err(io(format!("syncing {}", dir.display())))?;
    }
    let _ = writeln!(
        out,
        "restored {} blob files and the object and IAM databases ({} bytes) into {}",
        restored.blobs,
        restored.bytes,
        data_dir.display()
    );
    let _ = writeln!(out, "note: {}", manifest::MASTER_KEY_NOTE);
    Ok(restored)
}

/// Refuses a data directory that holds anything but its lock file.
fn refuse_non_empty(data_dir: &Path) -> Result<(), BackupError> {
    let entries = match std::fs::read_dir(data_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(format!("reading {}", data_dir.display()))(e)),
    };
    let found: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name != LOCK_FILE)
        .collect();
    if found.is_empty() {
        Ok(())
    } else {
        Err(BackupError::Refused(format!(
            "{} is not empty (it holds {}): restore only into an empty or new data directory; \
             nothing was restored",
            data_dir.display(),
            found.join(", ")
        )))
    }
}

/// Every file the manifest names, read back and compared: size and SHA-256.
fn verify(from: &Path, manifest: &Manifest) -> Result<(), BackupError> {
    let blobs = from.join("blobs");
    let files = manifest
        .databases
        .iter()
        .map(|d| (from.join(&d.path), d.size, d.sha256.as_str()))
        .chain(manifest.blobs.iter().map(|b| {
            let id = BlobId::parse(&b.id).expect("checked with the manifest");
            (manifest::blob_path(&blobs, &id), b.size, b.sha256.as_str())
        }));
    let mut failed = Vec::new();
    let mut total = 0;
    for (path, size, sha256) in files {
        total += 1;
        let problem = match manifest::hash_file(&path) {
            Ok((found, _)) if found != size => Some(format!(
                "{} is {found} bytes, expected {size}",
                path.display()
            )),
            Ok((_, found)) if found != sha256 => {
                Some(format!("{} fails its SHA-256 checksum", path.display()))
            }
            Ok(_) => None,
            Err(e) => Some(format!("{}: {e}", path.display())),
        };
        failed.extend(problem);
    }
    if failed.is_empty() {
        return Ok(());
    }
    let shown = failed.len().min(10);
    Err(BackupError::Refused(format!(
        "the backup in {} is damaged: {} of {total} files fail verification ({}{}); nothing \
         was restored",
        from.display(),
        failed.len(),
        failed[..shown].join("; "),
        if failed.len() > shown { "; …" } else { "" }
    )))
}

/// The backup's secrets open only with the key that sealed them: that key must be in the keys
/// directory (or `--without-key` says it will be put there before the server starts).
fn check_key(
    from: &Path,
    manifest: &Manifest,
    options: &RestoreOptions,
    out: &mut dyn Write,
) -> Result<(), BackupError> {
    let iam = manifest
        .databases
        .iter()
        .find(|d| d.name == "iam")
        .expect("checked with the manifest");
    let path = from.join(&iam.path);
    let check: Option<Vec<u8>> =
        Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|conn| {
                conn.query_row("SELECT value FROM meta WHERE name = 'key_check'", [], |r| {
                    r.get(0)
                })
                .optional()
            })
            .map_err(super::sql(format!("reading {}", path.display())))?;
    let Some(check) = check else {
        return Ok(());
    };
    let key_path = options.keys_dir.join(MASTER_KEY_FILE);
    match MasterKey::load(&options.keys_dir) {
        Ok(Some(key)) if key.open(&check, b"key_check").is_ok() => {
            let _ = writeln!(
                out,
                "{} is the key that sealed this backup's secrets",
                key_path.display()
            );
            Ok(())
        }
        Ok(Some(_)) => Err(BackupError::Refused(format!(
            "{} is not the master key this backup's secrets are sealed with; put the master key \
             backed up with this data there (or pass --keys-dir); nothing was restored",
            key_path.display()
        ))),
        Ok(None) if options.without_key => {
            let _ = writeln!(
                out,
                "warning: {} is missing; the server will refuse to start until the master key \
                 backed up with this data is put there",
                key_path.display()
            );
            Ok(())
        }
        Ok(None) => Err(BackupError::Refused(format!(
            "{} is missing: this backup's secrets are sealed with a master key that is not in \
             the backup; put the backed-up master.key there first (or pass --keys-dir, or \
             --without-key to restore now and install the key before starting the server); \
             nothing was restored",
            key_path.display()
        ))),
        Err(e) => Err(BackupError::Refused(format!(
            "cannot read {}: {e}; nothing was restored",
            key_path.display()
        ))),
    }
}

/// A copy made during the restore must be what was verified.
fn same(copied: &(u64, String), size: u64, sha256: &str, what: &str) -> Result<(), BackupError> {
    if copied.0 == size && copied.1 == sha256 {
        Ok(())
    } else {
        Err(BackupError::Refused(format!(
            "{what} changed in the backup while it was restored; empty the data directory and \
             restore again"
        )))
    }
}
