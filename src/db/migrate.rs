//! Schema migrations: numbered SQL files embedded in the binary, applied in order at startup,
//! each in its own transaction, with `PRAGMA user_version` recording the last one applied
//! (SQLite), or the row of `labstore_schema` (PostgreSQL, whose migrations are their own
//! files, `migrations/postgres/`).

use rusqlite::{Connection, OptionalExtension};

use super::sql::{self, postgres::PgConn};
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
            return Err(DbError::from(rusqlite::Error::SqliteFailure(
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

/// PostgreSQL's `apply`: the schema's version is the one row of `labstore_schema`, locked
/// (`FOR UPDATE`) by the transaction of each migration, so that nodes starting together apply
/// each migration once: the second waits, then finds it applied.
pub(super) fn apply_postgres(
    db: &'static str,
    conn: &PgConn,
    schema: &str,
    migrations: &[Migration],
) -> Result<(), DbError> {
    let known = migrations.last().map_or(0, |m| m.version);
    conn.batch(
        "CREATE TABLE IF NOT EXISTS labstore_schema (
             id BIGINT PRIMARY KEY CHECK (id = 1),
             version BIGINT NOT NULL
         );
         INSERT INTO labstore_schema (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
    )?;
    let version = |conn: &PgConn| -> Result<u32, DbError> {
        let row = conn
            .client()
            .query_one(
                "SELECT version FROM labstore_schema WHERE id = 1 FOR UPDATE",
                &[],
            )
            .map_err(sql::Error::from)?;
        let v: i64 = row.get(0);
        Ok(u32::try_from(v).unwrap_or(u32::MAX))
    };
    conn.batch("BEGIN")?;
    let found = version(conn);
    conn.batch("COMMIT")?;
    let found = found?;
    if found > known {
        return Err(DbError::TooNew { db, found, known });
    }
    for migration in migrations.iter().filter(|m| m.version > found) {
        conn.batch("BEGIN")?;
        let applied = (|| {
            if version(conn)? >= migration.version {
                return Ok(false);
            }
            conn.batch(migration.sql)?;
            conn.client()
                .execute(
                    "UPDATE labstore_schema SET version = $1 WHERE id = 1",
                    &[&i64::from(migration.version)],
                )
                .map_err(sql::Error::from)?;
            Ok::<_, DbError>(true)
        })();
        match applied {
            Ok(applied) => {
                conn.batch("COMMIT")?;
                if applied {
                    tracing::info!(
                        db,
                        schema,
                        version = migration.version,
                        name = migration.name,
                        "applied migration"
                    );
                }
            }
            Err(e) => {
                let _ = conn.batch("ROLLBACK");
                return Err(e);
            }
        }
    }
    Ok(())
}

/// The PostgreSQL schema history of database `name`.
pub(super) fn postgres(name: &'static str) -> Result<&'static [Migration], DbError> {
    static IAM: &[Migration] = &[Migration {
        version: 1,
        name: "schema",
        sql: include_str!("../../migrations/postgres/iam/0001_schema.sql"),
    }];
    static OBJECTS: &[Migration] = &[Migration {
        version: 1,
        name: "schema",
        sql: include_str!("../../migrations/postgres/objects/0001_schema.sql"),
    }];
    match name {
        "iam" => Ok(IAM),
        "objects" => Ok(OBJECTS),
        other => Err(DbError::Sql(sql::Error::Invalid(format!(
            "no PostgreSQL schema for database {other}"
        )))),
    }
}
