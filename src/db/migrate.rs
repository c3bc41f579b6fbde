//! Schema migrations: numbered SQL files embedded in the binary, applied in order at startup,
//! each in its own transaction, with `PRAGMA user_version` recording the last one applied.

use rusqlite::Connection;

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
    for migration in migrations.iter().filter(|m| m.version > found) {
        let tx = conn.transaction()?;
        tx.execute_batch(migration.sql)?;
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
