//! Writing one blob: buffered in memory up to `buffer_size`, then appended to a temporary file
//! on a blocking thread; committed by fsync + rename + directory fsync (shared with concurrent
//! commits, `dirsync.rs`). A small object costs a single trip to the blocking pool.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use std::sync::Arc;

use bytes::BytesMut;

use super::{create_dir_0700, is_storage_full, BlobId, DirSyncs, FreeSpace};

pub struct BlobWriter {
    id: BlobId,
    tmp: PathBuf,
    path: PathBuf,
    /// Present when `backend.s3.io.fsync` is on: the file is fsynced, and the directory by a
    /// shared fsync.
    fsync: Option<Arc<DirSyncs>>,
    buffer_size: usize,
    buf: BytesMut,
    /// Opened when the first full buffer is written; small blobs never open it early.
    file: Option<File>,
    len: u64,
    committed: bool,
    /// Told of what is committed, and of a full volume.
    space: Arc<FreeSpace>,
}

impl BlobWriter {
    pub(super) fn new(
        id: BlobId,
        tmp: PathBuf,
        path: PathBuf,
        fsync: Option<Arc<DirSyncs>>,
        buffer_size: usize,
        space: Arc<FreeSpace>,
    ) -> BlobWriter {
        BlobWriter {
            id,
            tmp,
            path,
            fsync,
            buffer_size,
            buf: BytesMut::new(),
            file: None,
            len: 0,
            committed: false,
            space,
        }
    }

    /// The id the blob will have (for tests).
    #[cfg(test)]
    pub(super) fn id(&self) -> &BlobId {
        &self.id
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `data`, writing to disk each time the buffer fills.
    pub async fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(data);
        self.len += data.len() as u64;
        if self.buf.len() >= self.buffer_size {
            self.flush().await?;
        }
        Ok(())
    }

    /// Appends `data` straight to the temporary file on the calling thread, which must be
    /// one that may block: for callers that run their own pipeline of blocking work (see
    /// `s3::object::write_body`). Bytes buffered by `write` go first, so order is kept.
    pub fn write_blocking(&mut self, data: &[u8]) -> io::Result<()> {
        let written = self.append_blocking(data);
        self.noticed(written)
    }

    /// A full volume makes the next free-space check read it again.
    fn noticed<T>(&self, result: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &result {
            if is_storage_full(e) {
                self.space.full();
            }
        }
        result
    }

    fn append_blocking(&mut self, data: &[u8]) -> io::Result<()> {
        let file = match &mut self.file {
            Some(file) => file,
            None => self.file.insert(create(&self.tmp)?),
        };
        if !self.buf.is_empty() {
            file.write_all(&self.buf)?;
            self.buf.clear();
        }
        file.write_all(data)?;
        self.len += data.len() as u64;
        Ok(())
    }

    async fn flush(&mut self) -> io::Result<()> {
        let buf = self.buf.split().freeze();
        let file = self.file.take();
        let tmp = self.tmp.clone();
        let file = blocking(move || {
            let mut file = match file {
                Some(file) => file,
                None => create(&tmp)?,
            };
            file.write_all(&buf)?;
            Ok(file)
        })
        .await;
        self.file = Some(self.noticed(file)?);
        Ok(())
    }

    /// Makes the blob durable and moves it to its final place; returns its id and length.
    /// After this the bytes exist but nothing refers to them until the index commit.
    pub async fn commit(mut self) -> io::Result<(BlobId, u64)> {
        let buf = self.buf.split().freeze();
        let file = self.file.take();
        let (tmp, path, fsync) = (self.tmp.clone(), self.path.clone(), self.fsync.clone());
        let committed = blocking(move || {
            let mut file = match file {
                Some(file) => file,
                None => create(&tmp)?,
            };
            file.write_all(&buf)?;
            if fsync.is_some() {
                file.sync_data()?;
            }
            drop(file);
            let dir = path
                .parent()
                .ok_or_else(|| io::Error::other("blob path has no parent"))?;
            if let Err(e) = std::fs::rename(&tmp, &path) {
                if e.kind() != io::ErrorKind::NotFound {
                    return Err(e);
                }
                // The fan-out directory does not exist yet.
                create_dir_0700(dir)?;
                std::fs::rename(&tmp, &path)?;
            }
            if let Some(dir_syncs) = fsync {
                // Shared with the concurrent commits into `dir`: returns after an fsync of
                // it that started after the rename above has completed.
                dir_syncs.sync(dir)?;
            }
            Ok(())
        })
        .await;
        self.noticed(committed)?;
        self.space.wrote(self.len);
        self.committed = true;
        Ok((self.id.clone(), self.len))
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if !self.committed {
            // Failed or abandoned upload: its bytes must never become visible.
            drop(self.file.take());
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

fn create(path: &PathBuf) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    crate::metrics::blocking::spawn(f)
        .await
        .map_err(io::Error::other)?
}
