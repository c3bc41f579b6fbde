//! Schema migrations: numbered SQL files embedded in the binary, applied in order at startup,
//! each in its own transaction, with `PRAGMA user_version` recording the last one applied.

use rusqlite::Connection;

use super::DbError;

/// One step of a database's schema history. `version` is the file's number and must equal
/// its position in the list plus one.
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
    let known = u32::try_from(migrations.len()).unwrap_or(u32::MAX);
    let found: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > known {
        return Err(DbError::TooNew { db, found, known });
    }
    for (i, migration) in migrations.iter().enumerate().skip(found as usize) {
        debug_assert_eq!(migration.version as usize, i + 1, "migrations out of order");
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
