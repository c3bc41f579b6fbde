//! `labstore admin ...`: recovery commands on a stopped server's data directory. Each takes the
//! data directory's lock (`lockfile`), so it refuses to run beside a server, and works on the
//! databases directly. No secret is ever printed, but the one `root reset-secret` generates.
//!
//! - `admin root show`: the root's access key id, where its secret comes from, and the root's
//!   own access keys (ids and status);
//! - `admin root reset-secret`: a new generated root secret, sealed as the first start seals
//!   one, printed once (refused when the configuration sets the secret);
//! - `admin users`: every user and its access keys with their status;
//! - `admin check-db`: `PRAGMA integrity_check` on both databases.

use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::config::Config;
use crate::crypto::{MasterKey, Secret, MASTER_KEY_FILE};
use crate::lockfile::{DataDirLock, LockError};

/// The `meta` row of the generated root secret, and its associated data.
const ROOT_SECRET: &str = "root_secret";
/// As the first start generates it (`iam_store`): 40 characters, as AWS secret keys.
const ROOT_SECRET_LEN: usize = 40;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("{context}: {source}")]
    Sqlite {
        context: String,
        source: rusqlite::Error,
    },
}

fn sql(context: String) -> impl FnOnce(rusqlite::Error) -> AdminError {
    move |source| AdminError::Sqlite { context, source }
}

/// The data directory, locked: refused when it does not exist or a server runs on it.
fn lock(config: &Config) -> Result<(DataDirLock, &Path), AdminError> {
    let data_dir = &config.backend.storage.data_dir;
    if !data_dir.is_dir() {
        return Err(AdminError::Refused(format!(
            "{} does not exist (backend.storage.data_dir)",
            data_dir.display()
        )));
    }
    Ok((DataDirLock::acquire(data_dir)?, data_dir))
}

fn database(data_dir: &Path, name: &str) -> PathBuf {
    data_dir.join("metadata").join(format!("{name}.db"))
}

/// Opens an existing database, read-only unless `write`.
fn open(path: &Path, write: bool) -> Result<Connection, AdminError> {
    if !path.is_file() {
        return Err(AdminError::Refused(format!(
            "{} does not exist: the server has not run on this data directory",
            path.display()
        )));
    }
    let flags = if write {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    } else {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    };
    Connection::open_with_flags(path, flags).map_err(sql(format!("opening {}", path.display())))
}

fn time(seconds: i64) -> String {
    crate::timefmt::format_iso8601(crate::timefmt::from_unix_seconds(seconds))
}

/// `admin root show`.
pub fn root_show(config: &Config, out: &mut dyn Write) -> Result<(), AdminError> {
    let (_lock, data_dir) = lock(config)?;
    let auth = &config.backend.admin.auth;
    let path = crate::iam_store::db_path(data_dir);
    let _ = writeln!(out, "root access key id: {}", auth.access_key);
    let conn = if path.is_file() {
        Some(open(&path, false)?)
    } else {
        None
    };
    let generated = match &conn {
        Some(conn) => conn
            .query_row("SELECT 1 FROM meta WHERE name = ?1", [ROOT_SECRET], |_| {
                Ok(())
            })
            .optional()
            .map_err(sql(format!("reading {}", path.display())))?
            .is_some(),
        None => false,
    };
    let source = if auth.secret_key.is_some() {
        "the configuration (backend.admin.auth.secret_key); a secret generated earlier, if \
         any, is not used"
            .to_owned()
    } else if generated {
        format!(
            "generated on the first start, sealed in {} (`labstore admin root reset-secret` \
             replaces it)",
            path.display()
        )
    } else {
        "none yet: the first start generates one and prints it once".to_owned()
    };
    let _ = writeln!(out, "root secret: {source}");
    let keys = match &conn {
        Some(conn) => conn
            .prepare("SELECT id, status, created_at FROM root_access_keys ORDER BY id")
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<Result<Vec<(String, String, i64)>, _>>()
            })
            .map_err(sql(format!("reading {}", path.display())))?,
        None => Vec::new(),
    };
    let _ = writeln!(out, "root's own access keys: {}", keys.len());
    for (id, status, created) in keys {
        let _ = writeln!(out, "  {id}  {status}  created {}", time(created));
    }
    Ok(())
}

/// `admin root reset-secret`: returns the new secret, also printed once on `out`.
pub fn root_reset_secret(config: &Config, out: &mut dyn Write) -> Result<Secret, AdminError> {
    if config.backend.admin.auth.secret_key.is_some() {
        return Err(AdminError::Refused(
            "the root secret comes from the configuration (backend.admin.auth.secret_key, or \
             LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY): change it there; nothing was reset"
                .into(),
        ));
    }
    let (_lock, data_dir) = lock(config)?;
    let path = crate::iam_store::db_path(data_dir);
    let conn = open(&path, true)?;
    let keys_dir = &config.backend.storage.keys_dir;
    let key_path = keys_dir.join(MASTER_KEY_FILE);
    let key = match MasterKey::load(keys_dir) {
        Ok(Some(key)) => key,
        Ok(None) => {
            return Err(AdminError::Refused(format!(
                "{} is missing: the root secret is sealed with the master key; restore it first",
                key_path.display()
            )))
        }
        Err(e) => {
            return Err(AdminError::Refused(format!(
                "cannot read {}: {e}",
                key_path.display()
            )))
        }
    };
    let context = || format!("updating {}", path.display());
    let check: Option<Vec<u8>> = conn
        .query_row("SELECT value FROM meta WHERE name = 'key_check'", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(sql(context()))?;
    if check.is_some_and(|check| key.open(&check, b"key_check").is_err()) {
        return Err(AdminError::Refused(format!(
            "{} is not the key that sealed {}; restore the right key first",
            key_path.display(),
            path.display()
        )));
    }
    let secret = Secret::generate(ROOT_SECRET_LEN);
    conn.execute(
        "INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (
            ROOT_SECRET,
            key.seal_secret(&secret, ROOT_SECRET.as_bytes()),
        ),
    )
    .map_err(sql(context()))?;
    drop(conn);
    let _ = writeln!(
        out,
        "A new root secret was generated; it is shown only once.\n\n    access key: {}\n    \
         secret key: {}\n\nKeep it somewhere safe: it is stored sealed and will not be printed \
         again. The old secret no longer works once the server starts.",
        config.backend.admin.auth.access_key,
        secret.expose()
    );
    Ok(secret)
}

/// `admin users`: every user, and its access keys with their status.
pub fn users(config: &Config, out: &mut dyn Write) -> Result<(), AdminError> {
    let (_lock, data_dir) = lock(config)?;
    let path = crate::iam_store::db_path(data_dir);
    let conn = open(&path, false)?;
    let context = || format!("reading {}", path.display());
    let users: Vec<(String, String, String, i64)> = conn
        .prepare("SELECT id, name, path, created_at FROM users ORDER BY name")
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect()
        })
        .map_err(sql(context()))?;
    let mut keys = conn
        .prepare(
            "SELECT id, status, created_at, last_used_at FROM access_keys WHERE user_id = ?1
             ORDER BY id",
        )
        .map_err(sql(context()))?;
    let _ = writeln!(out, "users: {}", users.len());
    for (id, name, user_path, created) in users {
        let _ = writeln!(
            out,
            "{name}  {id}  path {user_path}  created {}",
            time(created)
        );
        let rows: Vec<(String, String, i64, Option<i64>)> = keys
            .query_map([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .and_then(Iterator::collect)
            .map_err(sql(context()))?;
        for (key, status, created, used) in rows {
            let used = used.map_or_else(
                || "never used".to_owned(),
                |t| format!("last used {}", time(t)),
            );
            let _ = writeln!(out, "  {key}  {status}  created {}  {used}", time(created));
        }
    }
    Ok(())
}

/// `admin check-db`: `PRAGMA integrity_check` on both databases; `true` when both are sound.
pub fn check_db(config: &Config, out: &mut dyn Write) -> Result<bool, AdminError> {
    let (_lock, data_dir) = lock(config)?;
    let mut sound = true;
    for name in ["objects", "iam"] {
        let path = database(data_dir, name);
        if !path.is_file() {
            let _ = writeln!(out, "{name}: {} does not exist", path.display());
            sound = false;
            continue;
        }
        let problems: Result<Vec<String>, rusqlite::Error> =
            Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).and_then(|conn| {
                conn.prepare("PRAGMA integrity_check")?
                    .query_map([], |r| r.get(0))?
                    .collect()
            });
        match problems {
            Ok(lines) if lines == ["ok"] => {
                let _ = writeln!(out, "{name}: ok ({})", path.display());
            }
            Ok(lines) => {
                sound = false;
                let _ = writeln!(out, "{name}: DAMAGED ({})", path.display());
                for line in lines {
                    let _ = writeln!(out, "  {line}");
                }
            }
            Err(e) => {
                sound = false;
                let _ = writeln!(out, "{name}: DAMAGED ({}): {e}", path.display());
            }
        }
    }
    Ok(sound)
}
