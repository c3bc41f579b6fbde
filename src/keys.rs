//! `labstore keys rotate`: a new master key, and every sealed value re-sealed under it. Offline
//! (the data directory's lock keeps a server out while it runs), crash-safe and resumable:
//!
//! 1. `master.key.next` is created (or, when a rotation was interrupted, reused). While it
//!    exists the server refuses to start: a rotation is in progress.
//! 2. Every sealed value (the data keys of encrypted object versions and uploads, then
//!    `SEALED`: access key secrets, the root's own keys, the generated root secret, and last the
//!    key check) is re-sealed, a batch per transaction: a value that
//!    already opens with the new key is left alone, so a second run carries on where the
//!    first stopped, and each value is at every moment sealed by exactly one of the two keys.
//! 3. Once every value opens with the new key, the old key is kept as `master.key.previous`
//!    (session tokens it sealed stay valid until they expire, at most 12 hours; it is never
//!    used to seal) and `master.key.next` is renamed over `master.key`.
//!
//! `docs/security.md` says what an operator backs up before and after.

use std::io::Write;
use std::path::Path;

use crate::db::sql::{Connection, OptionalExtension};

use crate::config::Config;
use crate::crypto::{CryptoError, MasterKey, MASTER_KEY_FILE, NEXT_KEY_FILE, PREVIOUS_KEY_FILE};
use crate::db::{Db, DbError};
use crate::lockfile::{DataDirLock, LockError};

/// One kind of sealed value: where it is stored and what its associated data is.
pub(crate) struct SealedColumn {
    /// `iam` or `objects`.
    pub db: &'static str,
    pub table: &'static str,
    /// The row's key (text), also the value's associated data unless `aad` says otherwise.
    pub key: &'static str,
    pub column: &'static str,
    /// A fixed associated data, for rows whose key is not it.
    pub aad: Option<&'static str>,
    /// Only rows matching this (SQL), if any.
    pub filter: Option<&'static str>,
}

/// Every sealed value, the key check last: once it opens with the new key, so does every
/// other value, and a rotation that stopped after it has only the files left to do.
pub(crate) const SEALED: &[SealedColumn] = &[
    SealedColumn {
        db: "iam",
        table: "access_keys",
        key: "id",
        column: "secret",
        aad: None,
        filter: None,
    },
    SealedColumn {
        db: "iam",
        table: "root_access_keys",
        key: "id",
        column: "secret",
        aad: None,
        filter: None,
    },
    SealedColumn {
        db: "iam",
        table: "meta",
        key: "name",
        column: "value",
        aad: Some("root_secret"),
        filter: Some("name = 'root_secret'"),
    },
    SealedColumn {
        db: "iam",
        table: "meta",
        key: "name",
        column: "value",
        aad: Some("key_check"),
        filter: Some("name = 'key_check'"),
    },
];

#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Refused(String),
    #[error("cannot publish the new key in {dir}: {source}")]
    Publish { dir: String, source: std::io::Error },
}

/// What a rotation did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rotated {
    /// Values re-sealed by this run.
    pub resealed: u64,
    /// Values already under the new key (an interrupted run's work).
    pub already: u64,
}

/// Rotates the master key of the server configured by `config`, `batch` values per
/// transaction, writing progress lines to `out`.
pub async fn rotate(
    config: &Config,
    batch: usize,
    out: &mut (dyn Write + Send),
) -> Result<Rotated, RotateError> {
    let storage = &config.backend.storage;
    let _lock = DataDirLock::acquire(&storage.data_dir)?;
    let keys_dir = &storage.keys_dir;
    let Some(current) = MasterKey::load(keys_dir)? else {
        return Err(RotateError::Refused(format!(
            "{} does not exist: there is nothing to rotate",
            keys_dir.join(MASTER_KEY_FILE).display()
        )));
    };
    let iam = Db::open(
        "iam",
        &crate::iam_store::db_path(&storage.data_dir),
        &config.backend.iam.db.to_db_config(),
        crate::iam_store::MIGRATIONS,
    )?;
    let next = match MasterKey::load_named(keys_dir, NEXT_KEY_FILE)? {
        Some(next) => {
            let _ = writeln!(out, "resuming the rotation to {NEXT_KEY_FILE}");
            next
        }
        None => {
            // The key check must open with the current key: never rotate away from a key that
            // is not the one that sealed the data.
            let check: Option<Vec<u8>> = iam
                .read(|conn| {
                    Ok::<_, DbError>(
                        conn.query_row(
                            "SELECT value FROM meta WHERE name = 'key_check'",
                            [],
                            |r| r.get(0),
                        )
                        .optional()?,
                    )
                })
                .await?;
            if let Some(check) = check {
                if current.open(&check, b"key_check").is_err() {
                    return Err(RotateError::Refused(format!(
                        "{} is not the key that sealed this data; restore the right key before rotating",
                        keys_dir.join(MASTER_KEY_FILE).display()
                    )));
                }
            }
            let next = MasterKey::create_named(keys_dir, NEXT_KEY_FILE)?;
            let _ = writeln!(
                out,
                "created {NEXT_KEY_FILE}; re-sealing every secret under it"
            );
            next
        }
    };
    let keys = std::sync::Arc::new((current, next));
    let mut rotated = Rotated::default();
    // Object data keys first: the key check, last of all, says everything else is done.
    let mut objects_db = config.backend.s3.db.to_db_config();
    objects_db.durable = config.backend.s3.io.fsync;
    let objects = Db::open(
        "objects",
        &storage.data_dir.join("metadata").join("objects.db"),
        &objects_db,
        crate::objects::MIGRATIONS,
    )?;
    for table in ["objects", "uploads"] {
        let mut after = 0_i64;
        loop {
            let keys = std::sync::Arc::clone(&keys);
            let step = objects
                .write(move |conn| reseal_data_keys(conn, table, after, batch, &keys))
                .await?;
            rotated.resealed += step.resealed;
            rotated.already += step.already;
            let _ = writeln!(out, "{table}.sse: {} re-sealed so far", rotated.resealed);
            match step.last {
                Some(last) => after = last,
                None => break,
            }
        }
    }
    objects.close().await;
    for column in SEALED {
        let db = match column.db {
            "iam" => &iam,
            other => unreachable!("no database {other}"),
        };
        let mut after: Option<String> = None;
        loop {
            let keys = std::sync::Arc::clone(&keys);
            let from = after.clone();
            let step = db
                .write(move |conn| reseal_batch(conn, column, from.as_deref(), batch, &keys))
                .await?;
            rotated.resealed += step.resealed;
            rotated.already += step.already;
            let _ = writeln!(
                out,
                "{}.{}: {} re-sealed so far",
                column.table, column.column, rotated.resealed
            );
            match step.last {
                Some(last) => after = Some(last),
                None => break,
            }
        }
    }
    iam.close().await;
    publish(keys_dir)?;
    let _ = writeln!(
        out,
        "done: {} values re-sealed ({} already were); the old key is {PREVIOUS_KEY_FILE}: \
         back up the new {MASTER_KEY_FILE} now; delete the old one after 12 hours",
        rotated.resealed, rotated.already
    );
    Ok(rotated)
}

/// One batch: the values after `after` (by key), re-sealed unless they already open with the
/// new key. `last` is the batch's last key, or `None` when it was the final batch.
struct Step {
    resealed: u64,
    already: u64,
    last: Option<String>,
}

fn reseal_batch(
    conn: &Connection,
    column: &SealedColumn,
    after: Option<&str>,
    batch: usize,
    keys: &(MasterKey, MasterKey),
) -> Result<Step, DbError> {
    let (current, next) = keys;
    let SealedColumn {
        table,
        key,
        column: value,
        ..
    } = column;
    let filter = column.filter.unwrap_or("TRUE");
    let rows: Vec<(String, Vec<u8>)> = conn
        .prepare(&format!(
            "SELECT {key}, {value} FROM {table} WHERE {filter} AND (CAST(?1 AS TEXT) IS NULL OR {key} > ?1)
             ORDER BY {key} LIMIT ?2"
        ))?
        .query_map((after, i64::try_from(batch).unwrap_or(i64::MAX)), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut step = Step {
        resealed: 0,
        already: 0,
        last: None,
    };
    for (id, sealed) in &rows {
        let aad = column.aad.unwrap_or(id).as_bytes();
        if next.open(sealed, aad).is_ok() {
            step.already += 1;
            continue;
        }
        let plain = current.open(sealed, aad).map_err(|e| DbError::Io {
            context: format!("opening {table}.{value} of {id} with the current key"),
            source: std::io::Error::other(e.to_string()),
        })?;
        let resealed = next.seal(&plain, aad);
        conn.execute(
            &format!("UPDATE {table} SET {value} = ?2 WHERE {key} = ?1"),
            (id, resealed),
        )?;
        step.resealed += 1;
    }
    if rows.len() == batch {
        step.last = rows.last().map(|(id, _)| id.clone());
    }
    Ok(step)
}

/// One batch of encryption records (`objects.sse`, `uploads.sse`) after row `after`, each
/// data key re-sealed unless it already opens with the new key.
fn reseal_data_keys(
    conn: &Connection,
    table: &'static str,
    after: i64,
    batch: usize,
    keys: &(MasterKey, MasterKey),
) -> Result<DataKeyStep, DbError> {
    // `objects.id` is SQLite's rowid of the table; PostgreSQL's has no hidden one, and the
    // name `rowid` only on `uploads`, where the schema makes it a column.
    let row = if table == "objects" { "id" } else { "rowid" };
    let rows: Vec<(i64, String, String, Vec<u8>)> = conn
        .prepare_cached(&format!(
            "SELECT {row}, bucket, key, sse FROM {table}
             WHERE sse IS NOT NULL AND {row} > ?1 ORDER BY {row} LIMIT ?2"
        ))?
        .query_map((after, i64::try_from(batch).unwrap_or(i64::MAX)), |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut step = DataKeyStep {
        resealed: 0,
        already: 0,
        last: None,
    };
    for (rowid, bucket, key, bytes) in &rows {
        let failed = |what: &str| DbError::Io {
            context: format!("{what} the data key of {bucket}/{key} ({table} row {rowid})"),
            source: std::io::Error::other(
                "the encryption record does not open with the current key",
            ),
        };
        let record =
            crate::crypto::sse::Record::from_bytes(bytes).ok_or_else(|| failed("reading"))?;
        match record
            .resealed((&keys.0, &keys.1), bucket, key)
            .map_err(|_| failed("opening"))?
        {
            None => step.already += 1,
            Some(resealed) => {
                conn.execute(
                    &format!("UPDATE {table} SET sse = ?2 WHERE {row} = ?1"),
                    (rowid, resealed.to_bytes()),
                )?;
                step.resealed += 1;
            }
        }
    }
    if rows.len() == batch {
        step.last = rows.last().map(|(rowid, ..)| *rowid);
    }
    Ok(step)
}

struct DataKeyStep {
    resealed: u64,
    already: u64,
    last: Option<i64>,
}

/// The new key in place: the old one kept as `master.key.previous`, `master.key.next` renamed
/// over `master.key`, the directory synced. Each step can be repeated after a crash.
fn publish(keys_dir: &Path) -> Result<(), RotateError> {
    let error = |source| RotateError::Publish {
        dir: keys_dir.display().to_string(),
        source,
    };
    let current = keys_dir.join(MASTER_KEY_FILE);
    let previous = keys_dir.join(PREVIOUS_KEY_FILE);
    let next = keys_dir.join(NEXT_KEY_FILE);
    match std::fs::remove_file(&previous) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(error(e)),
    }
    std::fs::hard_link(&current, &previous).map_err(error)?;
    std::fs::rename(&next, &current).map_err(error)?;
    std::fs::File::open(keys_dir)
        .and_then(|dir| dir.sync_all())
        .map_err(error)
}
