//! `labstore scrub` and `labstore admin verify`: offline, on a stopped server's data
//! directory (its lock, `lockfile`, keeps a server out while they run). `scrub` reads every
//! byte, marks damage and removes orphans past the grace period; `verify` compares the index
//! with the blob files by length only and changes nothing.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use crate::db::sql::OptionalExtension;
use tokio_util::sync::CancellationToken;

use super::{Mode, Options, Report, Scrub, ScrubError, ScrubStats};
use crate::config::Config;
use crate::crypto::{CryptoError, MasterKey, MASTER_KEY_FILE, NEXT_KEY_FILE};
use crate::db::{Db, DbError};
use crate::lockfile::{DataDirLock, LockError};
use crate::objects::ObjectIndex;
use crate::storage::BlobStore;

#[derive(Debug, thiserror::Error)]
pub enum OfflineError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Scrub(#[from] ScrubError),
    #[error("{0}")]
    Refused(String),
    #[error("cannot open the object storage under {path}: {source}")]
    Storage {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write the report to {path}: {source}")]
    Report {
        path: String,
        source: std::io::Error,
    },
}

/// Runs a pass of `mode` over the data directory `config` names, `rate` bytes per second
/// (`None`: unthrottled); prints a summary to `out` and, with `report`, writes the report
/// there as JSON. Stops early (the report says `complete: false`) when `stop` is cancelled.
pub async fn run(
    config: &Config,
    mode: Mode,
    rate: Option<u64>,
    report: Option<&Path>,
    stop: CancellationToken,
    out: &mut (dyn Write + Send),
) -> Result<Report, OfflineError> {
    let storage = &config.backend.storage;
    let _lock = DataDirLock::acquire(&storage.data_dir)?;
    let s3 = &config.backend.s3;
    let index = ObjectIndex::open(&storage.data_dir, &s3.db.to_db_config())?;
    let blobs = BlobStore::open(&storage.data_dir, s3.io.fsync, s3.io.buffer_size as usize)
        .map_err(|source| OfflineError::Storage {
            path: storage.data_dir.join("objects").display().to_string(),
            source,
        })?;
    let master = match mode {
        Mode::Scrub => master_key(config, out).await?,
        Mode::Verify => None,
    };
    let stats = ScrubStats::default();
    let options = Options {
        mode,
        rate,
        grace: Duration::from_secs(s3.scrub.orphan_grace_seconds),
        buffer: s3.io.buffer_size as usize,
    };
    let mut scrub = Scrub::new(&index, &blobs, master.as_ref(), options, &stats, stop);
    let outcome = scrub.pass().await;
    let done = scrub.finish();
    index.db().close().await;
    outcome?;
    summarize(&done, out);
    if let Some(path) = report {
        let text = serde_json::to_vec_pretty(&done).unwrap_or_default();
        std::fs::write(path, text).map_err(|source| OfflineError::Report {
            path: path.display().to_string(),
            source,
        })?;
    }
    Ok(done)
}

/// The master key, checked against the IAM database's key check (as the server does at
/// startup); `None`, with a warning, when there is none: encrypted objects then get their
/// lengths checked only.
async fn master_key(
    config: &Config,
    out: &mut (dyn Write + Send),
) -> Result<Option<MasterKey>, OfflineError> {
    let storage = &config.backend.storage;
    let keys_dir = &storage.keys_dir;
    if keys_dir.join(NEXT_KEY_FILE).exists() {
        return Err(OfflineError::Refused(format!(
            "a master key rotation is in progress ({} exists): finish it with `labstore keys rotate` first",
            keys_dir.join(NEXT_KEY_FILE).display()
        )));
    }
    let key = MasterKey::load(keys_dir)?;
    let iam = Db::open(
        "iam",
        &crate::iam_store::db_path(&storage.data_dir),
        &config.backend.iam.db.to_db_config(),
        crate::iam_store::MIGRATIONS,
    )?;
    let check: Option<Vec<u8>> = iam
        .read(|conn| {
            Ok::<_, DbError>(
                conn.query_row("SELECT value FROM meta WHERE name = 'key_check'", [], |r| {
                    r.get(0)
                })
                .optional()?,
            )
        })
        .await?;
    iam.close().await;
    match (key, check) {
        (Some(key), Some(check)) if key.open(&check, b"key_check").is_err() => {
            Err(OfflineError::Refused(format!(
                "{} is not the key that sealed this data; restore the right key",
                keys_dir.join(MASTER_KEY_FILE).display()
            )))
        }
        (Some(key), _) => Ok(Some(key)),
        (None, check) => {
            if check.is_some() {
                let _ = writeln!(
                    out,
                    "warning: {} is missing: encrypted objects get their lengths checked only",
                    keys_dir.join(MASTER_KEY_FILE).display()
                );
            }
            Ok(None)
        }
    }
}

fn summarize(report: &Report, out: &mut (dyn Write + Send)) {
    let verb = match report.mode {
        Some(Mode::Verify) => "verify",
        _ => "scrub",
    };
    let _ = writeln!(
        out,
        "{verb}: {} object versions and {} upload parts ({} segments, {} bytes read)",
        report.objects_scanned, report.parts_scanned, report.segments_scanned, report.bytes_scanned
    );
    let _ = writeln!(
        out,
        "{verb}: {} corrupt, {} missing, {} orphaned blob files {}",
        report.corrupt,
        report.missing,
        report.orphans,
        match report.mode {
            Some(Mode::Verify) => "found",
            _ => "removed",
        }
    );
    if report.orphans_too_recent > 0 {
        let _ = writeln!(
            out,
            "{verb}: {} unreferenced blob files younger than the grace period left alone",
            report.orphans_too_recent
        );
    }
    if report.orphans_held > 0 {
        let _ = writeln!(
            out,
            "{verb}: {} unreferenced blob files held by a running backup, removed when it ends",
            report.orphans_held
        );
    }
    if report.length_only > 0 {
        let _ = writeln!(
            out,
            "{verb}: {} encrypted segments checked by length only (no master key)",
            report.length_only
        );
    }
    for f in &report.findings {
        let _ = writeln!(
            out,
            "  {}: {}{}{}{}{}: {}",
            f.kind,
            f.bucket
                .as_deref()
                .map_or(String::new(), |b| format!("{b}/")),
            f.key.as_deref().unwrap_or_default(),
            f.version_id
                .as_deref()
                .map_or(String::new(), |v| format!(" version {v}")),
            f.upload_id
                .as_deref()
                .map_or(String::new(), |u| format!(" upload {u}")),
            f.blob
                .as_deref()
                .map_or(String::new(), |b| format!(" blob {b}")),
            f.detail
        );
    }
    if report.findings_left_out > 0 {
        let _ = writeln!(
            out,
            "  … and {} more (counted above)",
            report.findings_left_out
        );
    }
    if !report.complete {
        let _ = writeln!(out, "{verb}: stopped before the end of the pass");
    }
}
