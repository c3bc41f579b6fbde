//! Object bytes on disk: files under `data_dir/objects/`, named by a random id (whose first
//! two hex digits, the fan-out directory, rotate so that concurrent writes share a directory
//! and its fsync) and never by the key, so that no key (`..`, a trailing `/`, 1024 bytes of anything) can reach outside
//! the data directory or collide with another.
//!
//! Invariant: a blob becomes visible to readers only through the object index, and the index
//! only ever refers to complete blobs: bytes are written to `objects/tmp/`, fsynced (when
//! `backend.s3.io.fsync` is on), renamed into `objects/<xx>/<id>` and the directory entry
//! fsynced, all before the index commit that publishes them. Replaced or deleted blobs are
//! removed after the commit that stops referring to them; readers that already opened one
//! keep reading it (an unlinked file stays readable), so an overwrite is atomic for them.

pub mod contract;
mod dirsync;
mod space;
mod writer;

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::db::Db;

pub use dirsync::DirSyncs;
pub use space::{is_storage_full, FreeSpace, Low};
pub use writer::BlobWriter;

/// A blob's id: 32 lowercase hex digits (128 random bits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobId(String);

impl BlobId {
    /// A fresh id in fan-out directory `dir` (its first two hex digits); the other 120 bits
    /// are random.
    fn random_in(dir: u8) -> BlobId {
        let random = rand::random::<u128>() & (u128::MAX >> 8);
        BlobId(format!("{:032x}", (u128::from(dir) << 120) | random))
    }

    /// An id read back from the index; refused unless it has the shape ids are made with,
    /// so that a damaged index cannot name a path outside the blob directories.
    pub fn parse(text: &str) -> Option<BlobId> {
        let ok = text.len() == 32
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| BlobId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The blob directory tree and how writes are made durable.
#[derive(Debug, Clone)]
pub struct BlobStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    root: PathBuf,
    tmp: PathBuf,
    fsync: bool,
    buffer_size: usize,
    /// Directory fsyncs shared by concurrent commits (`dirsync.rs`).
    dir_syncs: Arc<DirSyncs>,
    /// Writers started: picks the fan-out directory of the next blob.
    created: AtomicU64,
    /// The object index, whose backup holds defer removals (`backup::holds`); unset in unit
    /// tests of the store alone.
    holds: OnceLock<Db>,
    /// The volume's free space and the floor below which writes are refused.
    space: Arc<FreeSpace>,
}

/// A temporary file unchanged for this long belongs to no upload in flight: every upload
/// writes at least every `body_read_timeout_ms` (at most an hour) or fails.
pub const ABANDONED_TMP: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// How many consecutive blobs go to the same fan-out directory: more than the concurrent
/// uploads a small server sees, so that they share directory fsyncs.
const BLOBS_PER_DIR: u64 = 64;

impl BlobStore {
    /// Opens (creating) `data_dir/objects`, discarding leftovers of interrupted uploads.
    pub fn open(data_dir: &Path, fsync: bool, buffer_size: usize) -> io::Result<BlobStore> {
        BlobStore::open_shared(data_dir, fsync, buffer_size, false)
    }

    /// `open`; when `shared` (several nodes on one data directory), a temporary file is
    /// another node's upload in flight unless it has not changed for `ABANDONED_TMP`: only
    /// those are discarded.
    pub fn open_shared(
        data_dir: &Path,
        fsync: bool,
        buffer_size: usize,
        shared: bool,
    ) -> io::Result<BlobStore> {
        let root = data_dir.join("objects");
        let tmp = root.join("tmp");
        create_dir_0700(&tmp)?;
        let mut discarded = 0;
        for entry in std::fs::read_dir(&tmp)? {
            let entry = entry?;
            if shared {
                let idle = entry.metadata()?.modified()?.elapsed().unwrap_or_default();
                if idle < ABANDONED_TMP {
                    continue;
                }
            }
            match std::fs::remove_file(entry.path()) {
                Ok(()) => discarded += 1,
                // Another node's cleanup, or its upload committed, in between.
                Err(e) if shared && e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        if discarded > 0 {
            tracing::info!(
                discarded,
                "removed the temporary files of interrupted uploads"
            );
        }
        contract::check(&tmp).map_err(io::Error::other)?;
        Ok(BlobStore {
            inner: Arc::new(Inner {
                root,
                tmp,
                fsync,
                buffer_size,
                dir_syncs: Arc::default(),
                created: AtomicU64::new(rand::random::<u64>() % 256 * BLOBS_PER_DIR),
                holds: OnceLock::new(),
                // No floor until the caller sets one (`FreeSpace::set_floor`).
                space: Arc::new(FreeSpace::new(data_dir, 0)),
            }),
        })
    }

    pub fn buffer_size(&self) -> usize {
        self.inner.buffer_size
    }

    /// The data volume's free space (`backend.s3.min_free_bytes`).
    pub fn space(&self) -> &FreeSpace {
        &self.inner.space
    }

    /// Starts a new blob. Dropping the writer without `commit` removes what it wrote.
    pub fn writer(&self) -> BlobWriter {
        // Consecutive blobs share a fan-out directory (`BLOBS_PER_DIR` in a row, then the
        // next one, round the 256): concurrent commits then rename into the same directory
        // and share its fsync, where random directories would almost never coincide. Over
        // time every directory gets the same share.
        let n = self.inner.created.fetch_add(1, Ordering::Relaxed);
        let dir = u8::try_from((n / BLOBS_PER_DIR) % 256).expect("below 256");
        let id = BlobId::random_in(dir);
        let tmp = self.inner.tmp.join(id.as_str());
        let path = self.path(&id);
        BlobWriter::new(
            id,
            tmp,
            path,
            self.inner.fsync.then(|| Arc::clone(&self.inner.dir_syncs)),
            self.inner.buffer_size,
            Arc::clone(&self.inner.space),
        )
    }

    /// The directory fsyncs of this store: how many were asked for and how many were issued.
    pub fn dir_syncs(&self) -> &DirSyncs {
        &self.inner.dir_syncs
    }

    /// Where a committed blob lives: `objects/<first two hex digits>/<id>`.
    pub fn path(&self, id: &BlobId) -> PathBuf {
        self.inner.root.join(&id.0[..2]).join(&id.0)
    }

    /// Opens committed blobs for reading, in order, in one trip to the blocking pool.
    pub async fn open_blobs(&self, ids: &[BlobId]) -> io::Result<Vec<std::fs::File>> {
        let paths: Vec<PathBuf> = ids.iter().map(|id| self.path(id)).collect();
        crate::metrics::blocking::spawn(move || {
            paths.into_iter().map(std::fs::File::open).collect()
        })
        .await
        .map_err(io::Error::other)?
    }

    /// Makes removals wait for backups: from now on `remove` asks the object index `index`
    /// whether a backup holds the blobs (`backup::holds`). Set once, at startup.
    pub fn defer_removals_to(&self, index: Db) {
        let _ = self.inner.holds.set(index);
    }

    /// Removes blobs no longer referenced, called after the commit that stopped referring to
    /// them; while a backup holds the data directory, records them for later instead
    /// (`backup::holds`). Missing files are not an error (a previous removal may have been
    /// interrupted after the unlink). When the index cannot say whether a backup runs, the
    /// files stay: the next start's sweep removes them.
    pub async fn remove(&self, ids: Vec<BlobId>) {
        if ids.is_empty() {
            return;
        }
        let ids = match self.inner.holds.get() {
            None => ids,
            Some(index) => match crate::backup::holds::removable(index, ids).await {
                Ok(ids) => ids,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot tell whether a backup holds replaced blobs; they stay until the next start");
                    return;
                }
            },
        };
        if ids.is_empty() {
            return;
        }
        let paths: Vec<PathBuf> = ids.iter().map(|id| self.path(id)).collect();
        let removed = crate::metrics::blocking::spawn(move || {
            for path in paths {
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => tracing::warn!(path = %path.display(), error = %e, "removing a replaced blob failed"),
                }
            }
        })
        .await;
        if removed.is_err() {
            tracing::error!("the blob removal task panicked");
        }
    }

    /// Removes committed blobs that the index does not refer to: what a crash between the
    /// rename and the index commit, or between a commit and the removal, leaves behind.
    /// `referenced` answers, for one directory's ids, which of them the index knows.
    /// Runs at startup, before any request can create a blob.
    pub fn sweep(
        &self,
        mut referenced: impl FnMut(&[BlobId]) -> io::Result<HashSet<BlobId>>,
    ) -> io::Result<usize> {
        let mut removed = 0;
        for dir in std::fs::read_dir(&self.inner.root)? {
            let dir = dir?.path();
            if dir == self.inner.tmp || !dir.is_dir() {
                continue;
            }
            let mut ids = Vec::new();
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                match entry.file_name().to_str().and_then(BlobId::parse) {
                    Some(id) => ids.push(id),
                    None => {
                        tracing::warn!(path = %entry.path().display(), "unexpected file among blobs; left alone")
                    }
                }
            }
            let known = referenced(&ids)?;
            for id in ids.iter().filter(|id| !known.contains(id)) {
                std::fs::remove_file(self.path(id))?;
                removed += 1;
            }
        }
        if removed > 0 {
            tracing::info!(removed, "removed blobs no object referred to");
        }
        Ok(removed)
    }
}

/// A committed blob file, as a scrub finds it on disk.
#[derive(Debug, Clone)]
pub struct BlobFile {
    pub id: BlobId,
    /// When it was last written (a blob is never written after its commit).
    pub modified: std::time::SystemTime,
    pub len: u64,
}

impl BlobStore {
    /// The fan-out directories (`objects/<xx>`), by name, in order.
    pub fn fan_out_dirs(&self) -> io::Result<Vec<String>> {
        let mut dirs = Vec::new();
        for entry in std::fs::read_dir(&self.inner.root)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let fan_out = name.len() == 2 && name.bytes().all(|b| b.is_ascii_hexdigit());
            if fan_out && entry.file_type()?.is_dir() {
                dirs.push(name.to_owned());
            }
        }
        dirs.sort();
        Ok(dirs)
    }

    /// The blobs in fan-out directory `dir` (a name `fan_out_dirs` gave), in id order; files
    /// whose name is not a blob id are left out (and alone).
    pub fn blobs_in(&self, dir: &str) -> io::Result<Vec<BlobFile>> {
        let mut blobs = Vec::new();
        let entries = match std::fs::read_dir(self.inner.root.join(dir)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(blobs),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let Some(id) = entry.file_name().to_str().and_then(BlobId::parse) else {
                continue;
            };
            // Removed since the listing (a replaced blob): not there to judge.
            let meta = match entry.metadata() {
                Ok(meta) => meta,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            blobs.push(BlobFile {
                id,
                modified: meta.modified()?,
                len: meta.len(),
            });
        }
        blobs.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(blobs)
    }
}

pub(crate) fn create_dir_0700(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(test)]
mod tests;
