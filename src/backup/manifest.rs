//! The backup directory's layout and its manifest: what a complete backup holds, with sizes
//! and SHA-256 checksums. The manifest is written last, atomically (temp file, fsync, rename,
//! directory fsync): a backup directory without one, or whose manifest names files that are
//! missing or differ, is not restorable.
//!
//! ```text
//! DIR/manifest.json             the last complete backup
//! DIR/runs/<run>/objects.db     its databases (SQLite files, no WAL)
//! DIR/runs/<run>/iam.db
//! DIR/blobs/<xx>/<id>           the blob files, shared by runs (ids are never reused)
//! DIR/tmp/                      files being copied
//! ```

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::storage::BlobId;

pub const MANIFEST: &str = "manifest.json";
/// The manifest format this binary writes and reads.
pub const FORMAT: u32 = 1;
/// The databases a backup holds, by name (`metadata/<name>.db` in a data directory).
pub const DATABASES: [&str; 2] = ["objects", "iam"];

pub const MASTER_KEY_NOTE: &str = "the master key (keys_dir/master.key) is NOT in this backup: \
     it seals the access key secrets, the generated root secret and the data keys of encrypted \
     objects; back it up separately, and keep it apart from this backup";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    /// When the snapshot was taken (ISO 8601, UTC).
    pub created: String,
    pub labstore_version: String,
    /// This backup's run: its databases are under `runs/<run>/`.
    pub run: String,
    pub master_key: String,
    pub databases: Vec<FileEntry>,
    pub blobs: Vec<BlobEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    pub name: String,
    /// Relative to the backup directory.
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlobEntry {
    pub id: String,
    pub size: u64,
    pub sha256: String,
}

/// Where a database of run `run` lives, relative to the backup directory.
pub fn database_path(run: &str, name: &str) -> String {
    format!("runs/{run}/{name}.db")
}

/// Where blob `id` lives below `root` (`blobs/` of a backup, `objects/` of a data directory).
pub fn blob_path(root: &Path, id: &BlobId) -> PathBuf {
    root.join(&id.as_str()[..2]).join(id.as_str())
}

/// A run's name: its snapshot time and process, letters, digits and `-` only.
pub fn valid_run(run: &str) -> bool {
    !run.is_empty()
        && run.len() <= 64
        && run.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl Manifest {
    /// Reads `DIR/manifest.json`: `Ok(None)` when there is none.
    pub fn read(dir: &Path) -> Result<Option<Manifest>, String> {
        let path = dir.join(MANIFEST);
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let manifest: Manifest = serde_json::from_slice(&text)
            .map_err(|e| format!("{} is not a LabStore backup manifest: {e}", path.display()))?;
        manifest
            .check()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Some(manifest))
    }

    /// The manifest's own consistency: its format, run, database paths and blob ids, so that
    /// nothing it names can reach outside the backup directory.
    fn check(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!(
                "manifest format {} is not the one this labstore reads ({FORMAT})",
                self.format
            ));
        }
        if !valid_run(&self.run) {
            return Err(format!("invalid run name {:?}", self.run));
        }
        let names: Vec<&str> = self.databases.iter().map(|d| d.name.as_str()).collect();
        if names != DATABASES {
            return Err(format!(
                "the databases are {names:?}, expected {DATABASES:?}"
            ));
        }
        for db in &self.databases {
            if db.path != database_path(&self.run, &db.name) {
                return Err(format!("unexpected database path {:?}", db.path));
            }
            check_sha(&db.sha256)?;
        }
        for blob in &self.blobs {
            if BlobId::parse(&blob.id).is_none() {
                return Err(format!("invalid blob id {:?}", blob.id));
            }
            check_sha(&blob.sha256)?;
        }
        Ok(())
    }

    /// Writes `DIR/manifest.json` atomically and durably.
    pub fn write(&self, dir: &Path) -> io::Result<()> {
        let tmp = dir.join(format!("{MANIFEST}.tmp"));
        let mut file = create_private(&tmp)?;
        serde_json::to_writer_pretty(&mut file, self)?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, dir.join(MANIFEST))?;
        sync_dir(dir)
    }
}

fn check_sha(text: &str) -> Result<(), String> {
    if text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(format!("invalid SHA-256 {text:?}"))
    }
}

/// Copies `from` into `to` (both open), returning the size and SHA-256 of what went through.
pub fn copy_hashing(from: &mut impl Read, to: &mut impl Write) -> io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0_u8; 256 * 1024];
    let mut size = 0_u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n])?;
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// The size and SHA-256 of a file.
pub fn hash_file(path: &Path) -> io::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    copy_hashing(&mut file, &mut io::sink())
}

/// Copies `from` to `to` through `tmp` (same file system as `to`): written, fsynced, renamed.
/// Returns the size and SHA-256 of the bytes copied. The caller fsyncs `to`'s directory.
pub fn copy_durably(from: &Path, tmp: &Path, to: &Path) -> io::Result<(u64, String)> {
    let mut source = std::fs::File::open(from)?;
    let copied = (|| {
        let mut out = create_private(tmp)?;
        let hashed = copy_hashing(&mut source, &mut out)?;
        out.sync_all()?;
        Ok::<_, io::Error>(hashed)
    })();
    let hashed = match copied {
        Ok(hashed) => hashed,
        Err(e) => {
            let _ = std::fs::remove_file(tmp);
            return Err(e);
        }
    };
    std::fs::rename(tmp, to)?;
    Ok(hashed)
}

/// Creates (truncating) a file only its owner can read: backups hold everything the data
/// directory does.
fn create_private(path: &Path) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

pub fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        let sha = "ab".repeat(32);
        Manifest {
            format: FORMAT,
            created: "2026-01-01T00:00:00.000Z".into(),
            labstore_version: "0".into(),
            run: "20260101T000000Z-1".into(),
            master_key: MASTER_KEY_NOTE.into(),
            databases: DATABASES
                .iter()
                .map(|name| FileEntry {
                    name: (*name).into(),
                    path: database_path("20260101T000000Z-1", name),
                    size: 1,
                    sha256: sha.clone(),
                })
                .collect(),
            blobs: vec![BlobEntry {
                id: "0".repeat(32),
                size: 1,
                sha256: sha,
            }],
        }
    }

    #[test]
    fn a_written_manifest_reads_back_and_a_missing_one_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Manifest::read(dir.path()).unwrap().is_none());
        manifest().write(dir.path()).unwrap();
        let read = Manifest::read(dir.path()).unwrap().unwrap();
        assert_eq!(read.blobs.len(), 1);
        assert!(!dir.path().join("manifest.json.tmp").exists());
    }

    #[test]
    fn nothing_a_manifest_names_reaches_outside_the_backup() {
        let dir = tempfile::tempdir().unwrap();
        let mut bad = manifest();
        bad.blobs[0].id = "../../../../etc/passwd".into();
        bad.write(dir.path()).unwrap();
        assert!(Manifest::read(dir.path()).unwrap_err().contains("blob id"));
        let mut bad = manifest();
        bad.databases[0].path = "/etc/passwd".into();
        bad.write(dir.path()).unwrap();
        assert!(Manifest::read(dir.path())
            .unwrap_err()
            .contains("database path"));
        let mut bad = manifest();
        bad.run = "../x".into();
        bad.write(dir.path()).unwrap();
        assert!(Manifest::read(dir.path()).unwrap_err().contains("run"));
        let mut bad = manifest();
        bad.format = 2;
        bad.write(dir.path()).unwrap();
        assert!(Manifest::read(dir.path()).unwrap_err().contains("format"));
    }

    #[test]
    fn copies_are_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("a");
        std::fs::write(&from, b"abc").unwrap();
        let (size, sha) =
            copy_durably(&from, &dir.path().join("t"), &dir.path().join("b")).unwrap();
        assert_eq!(size, 3);
        assert_eq!(
            sha,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(hash_file(&dir.path().join("b")).unwrap(), (size, sha));
    }
}
