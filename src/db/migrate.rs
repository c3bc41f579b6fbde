//! Schema migrations: numbered SQL files embedded in the binary, applied in order at startup,
//! each in its own transaction, with `PRAGMA user_version` recording the last one applied.

use rusqlite::{Connection, OptionalExtension};

use super::DbError;

/// One step of a database's schema history. `version` is the file's number; versions
/// increase along the list. A number may be missing (numbers are handed out ahead to work
/// done in parallel); a database already recorded at a higher version never applies it, so
/// every missing number is filled in (or the later ones renumbered) before a release.
#[derive(Debug)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

pub(super) fn apply(
    db: &'static str,
    conn: &mut Connection,
    migrations: &[Migration],
) -> Result<(), DbError> {
    debug_assert!(
        migrations.windows(2).all(|w| w[0].version < w[1].version),
        "migrations out of order"
    );
    let known = migrations.last().map_or(0, |m| m.version);
    let found: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > known {
        return Err(DbError::TooNew { db, found, known });
    }
    // Foreign keys are off while migrations run, so that a migration may rebuild a table
    // (create, copy, drop, rename: SQLite's way of changing a constraint) without the drop
    // cascading to the rows that refer to it. Each migration checks every foreign key before
    // it commits, so none can leave a dangling reference. The pragma cannot change inside a
    // transaction, hence around the loop.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let applied = apply_each(db, conn, migrations, found);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    applied
}

fn apply_each(
    db: &'static str,
    conn: &mut Connection,
    migrations: &[Migration],
    found: u32,
) -> Result<(), DbError> {
    for migration in migrations.iter().filter(|m| m.version > found) {
        let tx = conn.transaction()?;
        tx.execute_batch(migration.sql)?;
        let dangling: Option<String> = tx
            .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
            .optional()?;
        if let Some(table) = dangling {
            return Err(DbError::Sqlite(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
                Some(format!(
                    "migration {} leaves a dangling foreign key in {table}",
                    migration.version
                )),
            )));
        }
        tx.pragma_update(None, "user_version", migration.version)?;
        tx.commit()?;
        tracing::info!(
            db,
            version = migration.version,
            name = migration.name,
            "applied migration"
        );
    }
    Ok(())
}
