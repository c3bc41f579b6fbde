//! `labstore backup --to DIR`: a consistent copy of a data directory, taken while the server
//! runs (it does not take the data directory's lock), and `labstore restore` (`restore.rs`).
//!
//! 1. The backup directory's own lock (`DIR/labstore.lock`): one backup into it at a time.
//! 2. A hold on the object index (`holds.rs`), committed before the snapshot, renewed every
//!    `holds::HEARTBEAT` by a thread while the backup runs: the server defers removing any
//!    blob file meanwhile.
//! 3. Both databases copied by SQLite's online backup API, each in one step (one read
//!    transaction: one point in time per database), into `DIR/runs/<run>/`; the copies lose
//!    the holds and deferred blobs (they describe this server's processes, not the data) and
//!    are switched out of WAL mode, so each is one self-contained file.
//! 4. Every blob file the snapshot's rows name (segments and parts) copied into
//!    `DIR/blobs/<xx>/<id>`, unless the previous complete backup in `DIR` already has it
//!    (incremental: blob ids are random and never reused, and a blob never changes).
//! 5. The hold renewed one last time (a lapsed hold fails the backup), then the manifest
//!    written last, atomically (`manifest.rs`).
//! 6. The hold released (removing the blob files it deferred, when no other backup holds
//!    them), then what the new manifest does not name is pruned: older runs' databases and
//!    blob files no longer referenced. `DIR` holds one backup, the last complete one.

pub mod holds;
pub mod manifest;
mod restore;

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::config::Config;
use crate::lockfile::{DataDirLock, LockError};
use crate::storage::BlobId;
use holds::{Hold, HoldError};
use manifest::{BlobEntry, FileEntry, Manifest};

pub use restore::{restore, RestoreOptions, Restored};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Hold(#[from] HoldError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("{context}: {source}")]
    Sqlite {
        context: String,
        source: rusqlite::Error,
    },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackupError {
    let context = context.into();
    move |source| BackupError::Io { context, source }
}

fn sql(context: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> BackupError {
    let context = context.into();
    move |source| BackupError::Sqlite { context, source }
}

/// How a backup runs.
#[derive(Debug, Default, Clone)]
pub struct BackupOptions {
    /// After the snapshot, wait until this file exists before copying blobs (tests: a window,
    /// known to be open, in which the server removes what the snapshot refers to).
    pub wait_for: Option<PathBuf>,
}

/// What a backup did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BackedUp {
    /// Blob files the snapshot refers to.
    pub blobs: usize,
    /// Of those, copied by this run (the rest were in the previous backup).
    pub copied: usize,
    /// Bytes copied (blobs and databases).
    pub bytes: u64,
}

/// Backs up the data directory of the server configured by `config` into `to`, writing
/// progress to `out`.
pub fn backup(
    config: &Config,
    to: &Path,
    options: &BackupOptions,
    out: &mut dyn Write,
) -> Result<BackedUp, BackupError> {
    let data_dir = &config.backend.storage.data_dir;
    let objects_db = data_dir.join("metadata").join("objects.db");
    let iam_db = crate::iam_store::db_path(data_dir);
    for db in [&objects_db, &iam_db] {
        if !db.is_file() {
            return Err(BackupError::Refused(format!(
                "{} does not exist: is {} a LabStore data directory (backend.storage.data_dir)?",
                db.display(),
                data_dir.display()
            )));
        }
    }
    let keys_dir = &config.backend.storage.keys_dir;
    rotation_in_progress(keys_dir)?;
    crate::db::create_private_dir(to)
        .map_err(|e| BackupError::Refused(format!("cannot create the backup directory: {e}")))?;
    let inside = |dir: &Path, outer: &Path| match (dir.canonicalize(), outer.canonicalize()) {
        (Ok(dir), Ok(outer)) => dir.starts_with(outer),
        _ => false,
    };
    if inside(to, data_dir) || inside(data_dir, to) {
        // Only if this run created it empty.
        let _ = std::fs::remove_dir(to);
        return Err(BackupError::Refused(format!(
            "the backup directory {} and the data directory {} must not contain one another",
            to.display(),
            data_dir.display()
        )));
    }
    let _lock = DataDirLock::acquire(to)?;
    let previous = Manifest::read(to).map_err(BackupError::Refused)?;
    let tmp = to.join("tmp");
    let blobs_dir = to.join("blobs");
    for dir in [&tmp, &blobs_dir] {
        crate::storage::create_dir_0700(dir).map_err(io(format!("creating {}", dir.display())))?;
    }

    let conn = Connection::open(&objects_db).map_err(sql("opening the object index"))?;
    conn.busy_timeout(Duration::from_secs(60))
        .map_err(sql("opening the object index"))?;
    let conn = crate::db::sql::Connection::from(conn);
    let hold = Hold::take(&conn)?;
    let heartbeat = Heartbeat::start(&objects_db, hold.id);
    let result = copy_all(
        keys_dir,
        &objects_db,
        &iam_db,
        data_dir,
        to,
        previous.as_ref(),
        options,
        &heartbeat,
        out,
    );
    heartbeat.stop();
    // Removals the hold deferred: no index row refers to these blobs any more. Done whether
    // or not the backup succeeded (after a failure to release, the hold expires instead).
    let deferred = hold.release(&conn);
    let objects = data_dir.join("objects");
    for id in deferred.as_deref().unwrap_or_default() {
        let path = manifest::blob_path(&objects, id);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                let _ = writeln!(out, "warning: cannot remove {}: {e}", path.display());
            }
        }
    }
    let (manifest, done) = result?;
    deferred?;
    prune(to, &manifest, out);
    let _ = writeln!(
        out,
        "backup complete: {} blobs ({} copied, {} already in {}), {} bytes copied; \
         manifest {}",
        done.blobs,
        done.copied,
        done.blobs - done.copied,
        to.display(),
        done.bytes,
        to.join(manifest::MANIFEST).display()
    );
    let _ = writeln!(out, "note: {}", manifest::MASTER_KEY_NOTE);
    Ok(done)
}

/// Steps 3 to 5: the snapshot, the blobs, the manifest.
#[allow(clippy::too_many_arguments)]
fn copy_all(
    keys_dir: &Path,
    objects_db: &Path,
    iam_db: &Path,
    data_dir: &Path,
    to: &Path,
    previous: Option<&Manifest>,
    options: &BackupOptions,
    heartbeat: &Heartbeat,
    out: &mut dyn Write,
) -> Result<(Manifest, BackedUp), BackupError> {
    let now = std::time::SystemTime::now();
    let run = format!(
        "{}-{}",
        crate::timefmt::format_amz_date(now),
        std::process::id()
    );
    let run_dir = to.join("runs").join(&run);
    crate::storage::create_dir_0700(&run_dir)
        .map_err(io(format!("creating {}", run_dir.display())))?;
    let mut done = BackedUp::default();

    let objects_copy = run_dir.join("objects.db");
    let referenced = snapshot(objects_db, &objects_copy, true)?;
    snapshot(iam_db, &run_dir.join("iam.db"), false)?;
    done.blobs = referenced.len();
    let _ = writeln!(
        out,
        "snapshot taken: run {run}, {} blob files referenced",
        referenced.len()
    );
    let _ = out.flush();
    if let Some(gate) = &options.wait_for {
        while !gate.exists() {
            heartbeat.check()?;
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    let mut databases = Vec::new();
    for name in manifest::DATABASES {
        let path = manifest::database_path(&run, name);
        let (size, sha256) =
            manifest::hash_file(&to.join(&path)).map_err(io(format!("reading back {path}")))?;
        done.bytes += size;
        databases.push(FileEntry {
            name: name.into(),
            path,
            size,
            sha256,
        });
    }

    let known: HashMap<&str, &BlobEntry> = previous
        .map(|m| m.blobs.iter().map(|b| (b.id.as_str(), b)).collect())
        .unwrap_or_default();
    let objects = data_dir.join("objects");
    let blobs_dir = to.join("blobs");
    let tmp = to.join("tmp");
    let mut dirs = HashSet::new();
    let mut blobs = Vec::with_capacity(referenced.len());
    for id in &referenced {
        heartbeat.check()?;
        let target = manifest::blob_path(&blobs_dir, id);
        if let Some(entry) = known.get(id.as_str()) {
            let present = std::fs::metadata(&target).is_ok_and(|m| m.len() == entry.size);
            if present {
                blobs.push((*entry).clone());
                continue;
            }
        }
        let source = manifest::blob_path(&objects, id);
        let dir = target.parent().expect("a blob path has a directory");
        if dirs.insert(dir.to_path_buf()) {
            crate::storage::create_dir_0700(dir)
                .map_err(io(format!("creating {}", dir.display())))?;
        }
        let (size, sha256) = manifest::copy_durably(&source, &tmp.join(id.as_str()), &target)
            .map_err(io(format!(
                "copying blob {} (referenced by the object index)",
                source.display()
            )))?;
        done.copied += 1;
        done.bytes += size;
        blobs.push(BlobEntry {
            id: id.as_str().to_owned(),
            size,
            sha256,
        });
    }
    for dir in dirs.iter().chain([&blobs_dir, &run_dir]) {
        manifest::sync_dir(dir).map_err(io(format!("syncing {}", dir.display())))?;
    }
    // The last renewal: had the hold lapsed, a blob may have been removed before its copy.
    heartbeat.check()?;
    rotation_in_progress(keys_dir)?;
    heartbeat.renew_now()?;
    let manifest = Manifest {
        format: manifest::FORMAT,
        created: crate::timefmt::format_iso8601(now),
        labstore_version: env!("CARGO_PKG_VERSION").into(),
        run,
        master_key: manifest::MASTER_KEY_NOTE.into(),
        databases,
        blobs,
    };
    manifest.write(to).map_err(io(format!(
        "writing {}",
        to.join(manifest::MANIFEST).display()
    )))?;
    Ok((manifest, done))
}

/// A master key rotation (offline, on a stopped server) re-seals values in both databases one
/// batch at a time: a snapshot taken meanwhile could hold values sealed by either key.
fn rotation_in_progress(keys_dir: &Path) -> Result<(), BackupError> {
    let next = keys_dir.join(crate::crypto::NEXT_KEY_FILE);
    if next.exists() {
        return Err(BackupError::Refused(format!(
            "a master key rotation is in progress ({} exists): finish it with `labstore keys              rotate`, then back up",
            next.display()
        )));
    }
    Ok(())
}

/// Copies database `from` into `to` with SQLite's online backup API, in one step (one read
/// transaction). The copy is a single file (no WAL). For the object index, the copy loses the
/// holds and deferred blobs, and the blob ids its rows refer to are returned, sorted.
fn snapshot(from: &Path, to: &Path, objects: bool) -> Result<Vec<BlobId>, BackupError> {
    let context = format!("backing up {}", from.display());
    let source = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(sql(context.clone()))?;
    source
        .busy_timeout(Duration::from_secs(60))
        .map_err(sql(context.clone()))?;
    let mut copy = Connection::open(to).map_err(sql(context.clone()))?;
    {
        use rusqlite::backup::{Backup, StepResult};
        let backup = Backup::new(&source, &mut copy).map_err(sql(context.clone()))?;
        loop {
            match backup.step(-1).map_err(sql(context.clone()))? {
                StepResult::Done => break,
                _ => {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }
    drop(source);
    let mut referenced = Vec::new();
    if objects {
        copy.execute_batch("DELETE FROM backup_holds; DELETE FROM deferred_blobs;")
            .map_err(sql(context.clone()))?;
        let ids: Vec<String> = copy
            .prepare(
                "SELECT blob FROM segments WHERE blob IS NOT NULL
                 UNION SELECT blob FROM parts WHERE blob IS NOT NULL",
            )
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(sql(context.clone()))?;
        for text in ids {
            let id = BlobId::parse(&text).ok_or_else(|| {
                BackupError::Refused(format!(
                    "the object index refers to a blob with a malformed id {text:?}; run \
                     `labstore admin check-db`"
                ))
            })?;
            referenced.push(id);
        }
        referenced.sort();
    }
    let mode: String = copy
        .pragma_update_and_check(None, "journal_mode", "DELETE", |r| r.get(0))
        .map_err(sql(context.clone()))?;
    if !mode.eq_ignore_ascii_case("delete") {
        return Err(BackupError::Refused(format!(
            "{context}: the copy stayed in journal mode {mode}"
        )));
    }
    copy.close().map_err(|(_, e)| sql(context)(e))?;
    std::fs::File::open(to)
        .and_then(|f| f.sync_all())
        .map_err(io(format!("syncing {}", to.display())))?;
    Ok(referenced)
}

/// Removes what the manifest does not name: other runs, blob files no longer referenced,
/// leftovers of interrupted copies. Failures are reported, not fatal: the backup is complete.
fn prune(to: &Path, manifest: &Manifest, out: &mut dyn Write) {
    let mut warn = |what: &Path, e: std::io::Error| {
        let _ = writeln!(out, "warning: cannot prune {}: {e}", what.display());
    };
    if let Ok(runs) = std::fs::read_dir(to.join("runs")) {
        for run in runs.flatten() {
            if run.file_name() != manifest.run.as_str() {
                if let Err(e) = std::fs::remove_dir_all(run.path()) {
                    warn(&run.path(), e);
                }
            }
        }
    }
    if let Ok(leftovers) = std::fs::read_dir(to.join("tmp")) {
        for file in leftovers.flatten() {
            let _ = std::fs::remove_file(file.path());
        }
    }
    let named: HashSet<&str> = manifest.blobs.iter().map(|b| b.id.as_str()).collect();
    let Ok(shards) = std::fs::read_dir(to.join("blobs")) else {
        return;
    };
    for shard in shards.flatten() {
        let Ok(files) = std::fs::read_dir(shard.path()) else {
            continue;
        };
        for file in files.flatten() {
            let keep = file
                .file_name()
                .to_str()
                .is_some_and(|name| named.contains(name));
            if !keep {
                if let Err(e) = std::fs::remove_file(file.path()) {
                    warn(&file.path(), e);
                }
            }
        }
    }
}

/// The thread that renews the hold every `holds::HEARTBEAT` on its own connection, and
/// remembers a failure for the copying thread to see.
struct Heartbeat {
    stop: mpsc::Sender<Renew>,
    failed: std::sync::Arc<std::sync::Mutex<Option<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

enum Renew {
    Stop,
    Now(mpsc::Sender<Result<(), String>>),
}

impl Heartbeat {
    fn start(objects_db: &Path, hold: i64) -> Heartbeat {
        let (stop, ticks) = mpsc::channel();
        let failed = std::sync::Arc::new(std::sync::Mutex::new(None));
        let seen = std::sync::Arc::clone(&failed);
        let path = objects_db.to_path_buf();
        let thread = std::thread::spawn(move || {
            let hold = Hold { id: hold };
            let renew = || -> Result<(), String> {
                let conn = Connection::open(&path).map_err(|e| e.to_string())?;
                conn.busy_timeout(Duration::from_secs(30))
                    .map_err(|e| e.to_string())?;
                hold.renew(&crate::db::sql::Connection::from(conn))
                    .map_err(|e| e.to_string())
            };
            loop {
                let answer = match ticks.recv_timeout(holds::HEARTBEAT) {
                    Ok(Renew::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
                    Ok(Renew::Now(answer)) => Some(answer),
                    Err(mpsc::RecvTimeoutError::Timeout) => None,
                };
                let renewed = renew();
                if let Err(e) = &renewed {
                    if let Ok(mut failed) = seen.lock() {
                        failed.get_or_insert_with(|| e.clone());
                    }
                }
                if let Some(answer) = answer {
                    let _ = answer.send(renewed);
                }
            }
        });
        Heartbeat {
            stop,
            failed,
            thread: Some(thread),
        }
    }

    /// Fails once a renewal has failed.
    fn check(&self) -> Result<(), BackupError> {
        match self.failed.lock().ok().and_then(|f| f.clone()) {
            Some(e) => Err(BackupError::Refused(format!(
                "the backup's hold could not be renewed ({e}); run the backup again"
            ))),
            None => Ok(()),
        }
    }

    /// Renews the hold now and waits for the answer.
    fn renew_now(&self) -> Result<(), BackupError> {
        let (answer, renewed) = mpsc::channel();
        let refused = |e: String| {
            BackupError::Refused(format!(
                "the backup's hold could not be renewed ({e}); run the backup again"
            ))
        };
        self.stop
            .send(Renew::Now(answer))
            .map_err(|_| refused("the heartbeat stopped".into()))?;
        renewed
            .recv()
            .map_err(|_| refused("the heartbeat stopped".into()))?
            .map_err(refused)
    }

    fn stop(mut self) {
        let _ = self.stop.send(Renew::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
