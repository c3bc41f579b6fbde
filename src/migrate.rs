//! `labstore migrate --from sqlite --to postgres`: moves a single-node store's metadata (the
//! object index and the IAM data, both SQLite files under `data_dir/metadata`) into the
//! PostgreSQL schemas `backend.metadata.postgres` names. The blobs stay where they are; the
//! nodes then use the same data directory. Offline: it takes the data directory's lock, so no
//! server runs on the files meanwhile. The target schemas must hold no rows yet.
//!
//! Every table is copied row by row in the order its foreign keys need, a page of rows at a time
//! (memory stays bounded whatever the store's size), each database in one PostgreSQL
//! transaction (all of it or nothing). Storage per bucket is not copied: the
//! PostgreSQL triggers count the rows as they arrive. Backup holds and deferred removals
//! belong to the SQLite server's life and are not copied either. Identity sequences are moved
//! past the copied ids.

use std::io::Write;

use crate::config::Config;
use crate::db::sql::{Connection, Value, ValueRef};
use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Lock(#[from] crate::lockfile::LockError),
    #[error("{context}: {source}")]
    Db { context: String, source: DbError },
}

fn db(context: impl Into<String>) -> impl FnOnce(DbError) -> MigrateError {
    let context = context.into();
    move |source| MigrateError::Db { context, source }
}

/// Tables not copied: kept by triggers on the target, or meaningful only to a running SQLite
/// server.
const SKIPPED: &[&str] = &["bucket_stats", "backup_holds", "deferred_blobs"];

pub fn sqlite_to_postgres(config: &Config, out: &mut dyn Write) -> Result<(), MigrateError> {
    let storage = &config.backend.storage;
    let node = crate::cluster::new_node_name();
    let metadata = &config.backend.metadata;
    if metadata.engine != crate::config::MetadataEngine::Postgres || metadata.postgres.url.is_none()
    {
        return Err(MigrateError::Refused(
            "the target is the PostgreSQL of backend.metadata: set backend.metadata.engine: \
             postgres and backend.metadata.postgres.url"
                .into(),
        ));
    }
    let _lock = crate::lockfile::DataDirLock::acquire(&storage.data_dir)?;
    for name in ["iam", "objects"] {
        let path = storage.data_dir.join("metadata").join(format!("{name}.db"));
        if !path.is_file() {
            return Err(MigrateError::Refused(format!(
                "{} does not exist: nothing to migrate",
                path.display()
            )));
        }
        // Opening applies this binary's SQLite migrations first: the source is at the schema
        // the PostgreSQL files mirror.
        let mut sqlite_config = config.backend.s3.db.to_db_config();
        sqlite_config.postgres = None;
        let migrations = match name {
            "iam" => crate::iam_store::MIGRATIONS,
            _ => crate::objects::MIGRATIONS,
        };
        let migrated = crate::db::Db::open(name, &path, &sqlite_config, migrations)
            .map_err(db(format!("opening {}", path.display())))?;
        drop(migrated);
        let mut target_config = sqlite_config.clone();
        let pg = metadata.postgres_target(name, &node);
        target_config.postgres.clone_from(&pg);
        // Opening creates the schema and its tables (the PostgreSQL migrations).
        let target = crate::db::Db::open(name, &path, &target_config, migrations)
            .map_err(db(format!("opening the PostgreSQL schema of {name}")))?;
        let to = match &pg {
            Some(pg) => crate::db::connect_postgres(pg, target_config.timeout)
                .map_err(db(format!("connecting to the PostgreSQL schema of {name}")))?,
            None => unreachable!("the engine is postgres"),
        };
        // The source's own connection, on this thread (the data directory's lock keeps every
        // writer out).
        let from = rusqlite::Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .map(Connection::from)
        .map_err(|e| MigrateError::Db {
            context: format!("opening {}", path.display()),
            source: DbError::from(e),
        })?;
        let copied = to
            .transaction(|to| copy_database(&from, to))
            .map_err(db(format!("copying {name}")))?;
        drop(to);
        drop(target);
        let _ = writeln!(out, "{name}: {copied} rows copied");
    }
    let _ = writeln!(
        out,
        "done: start the nodes with backend.metadata.engine: postgres on this data directory"
    );
    Ok(())
}

/// Rows read from the source at a time.
const PAGE: i64 = 1000;

/// Every table of `from` into `to` (inside the caller's transaction), a page at a time.
fn copy_database(from: &Connection, to: &Connection) -> Result<u64, DbError> {
    let mut copied = 0u64;
    for table in &tables_in_order(from)? {
        let columns = columns(from, table)?;
        let any = to
            .query_row(&format!("SELECT 1 FROM {table} LIMIT 1"), [], |_| Ok(()))
            .map(|()| true)
            .or_else(|e| if e.is_no_rows() { Ok(false) } else { Err(e) })?;
        if any {
            return Err(DbError::Sql(crate::db::sql::Error::Invalid(format!(
                "the target already holds rows in {table}: migrate into empty schemas"
            ))));
        }
        let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
        let insert = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            columns.join(", "),
            marks.join(", ")
        );
        let select = format!(
            "SELECT rowid, {} FROM {table} WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
            columns.join(", ")
        );
        let mut after = i64::MIN;
        loop {
            let mut page: Vec<Vec<Owned>> = Vec::new();
            {
                let mut stmt = from.prepare_cached(&select)?;
                let mut rows = stmt.query((after, PAGE))?;
                while let Some(row) = rows.next()? {
                    after = row.get(0)?;
                    let mut values = Vec::with_capacity(columns.len());
                    for i in 0..columns.len() {
                        values.push(Owned::from(row.get_ref(i + 1)?));
                    }
                    page.push(values);
                }
            }
            let mut stmt = to.prepare_cached(&insert)?;
            for row in &page {
                let values: Vec<Value<'_>> = row.iter().map(Owned::value).collect();
                stmt.execute(values)?;
                copied += 1;
            }
            if page.len() < usize::try_from(PAGE).unwrap_or(usize::MAX) {
                break;
            }
        }
        if table == "objects" {
            to.execute_batch(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
            ))?;
        }
    }
    Ok(copied)
}

/// The tables of the database, parents before the tables whose foreign keys name them.
fn tables_in_order(conn: &Connection) -> Result<Vec<String>, DbError> {
    let sqlite = conn
        .as_sqlite()
        .ok_or_else(|| DbError::Sql(crate::db::sql::Error::Invalid("not SQLite".into())))?;
    let names: Vec<String> = sqlite
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let names: Vec<String> = names
        .into_iter()
        .filter(|n| !SKIPPED.contains(&n.as_str()))
        .collect();
    let mut parents = std::collections::HashMap::new();
    for name in &names {
        let refs: Vec<String> = sqlite
            .prepare(&format!(
                "SELECT \"table\" FROM pragma_foreign_key_list('{name}')"
            ))?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        parents.insert(name.clone(), refs);
    }
    let mut ordered: Vec<String> = Vec::new();
    while ordered.len() < names.len() {
        let before = ordered.len();
        for name in &names {
            let ready = !ordered.contains(name)
                && parents[name]
                    .iter()
                    .all(|p| p == name || ordered.contains(p) || !names.contains(p));
            if ready {
                ordered.push(name.clone());
            }
        }
        if ordered.len() == before {
            return Err(DbError::Sql(crate::db::sql::Error::Invalid(
                "the tables' foreign keys form a cycle".into(),
            )));
        }
    }
    Ok(ordered)
}

fn columns(conn: &Connection, table: &str) -> Result<Vec<String>, DbError> {
    let sqlite = conn
        .as_sqlite()
        .ok_or_else(|| DbError::Sql(crate::db::sql::Error::Invalid("not SQLite".into())))?;
    let names: Vec<String> = sqlite
        .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(names)
}

/// A column's value, owned: a page is read whole before it is written.
enum Owned {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<ValueRef<'_>> for Owned {
    fn from(v: ValueRef<'_>) -> Owned {
        match v {
            ValueRef::Null => Owned::Null,
            ValueRef::Integer(i) => Owned::Integer(i),
            ValueRef::Real(r) => Owned::Real(r),
            ValueRef::Text(t) => Owned::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Owned::Blob(b.to_vec()),
        }
    }
}

impl Owned {
    fn value(&self) -> Value<'_> {
        match self {
            Owned::Null => Value::Null,
            Owned::Integer(i) => Value::Integer(*i),
            Owned::Real(r) => Value::Real(*r),
            Owned::Text(t) => Value::Text(t),
            Owned::Blob(b) => Value::Blob(b),
        }
    }
}
