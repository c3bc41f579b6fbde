//! Backup holds: how a running server and `labstore backup` agree that no blob file the
//! backup's snapshot refers to is removed before the backup has copied it.
//!
//! The ordering (argued in `docs/operations.md`, "Backup and restore"):
//!
//! 1. The backup commits its hold (a row of `backup_holds`) and only then takes its snapshot of
//!    the object index.
//! 2. The server removes a blob file only after the commit that dropped the last row referring
//!    to it, and only after a read, started after that commit, found no hold (`removable`).
//!
//! A blob in the snapshot still had its row when the snapshot began, so the commit that
//! dropped the row came after the snapshot, hence after the hold's commit: the server's read
//! after it sees the hold, and the removal is deferred instead (`deferred_blobs`, in the same
//! write transaction that checks the hold again, so that a release cannot slip between the
//! check and the record). A read that sees no hold proves the reverse: any later backup's
//! snapshot is after the row's removal and does not refer to the blob.
//!
//! A hold lives until `expires`, which the backup renews every `HEARTBEAT`; a crashed backup's
//! hold therefore stops deferring removals after at most `HOLD_TTL_SECS`, and the next removal
//! (or start) of the server deletes it and removes what it deferred.

use std::time::Duration;

use crate::db::sql::{Connection, OptionalExtension};

use crate::db::{Db, DbError};
use crate::storage::BlobId;

/// How long a hold stays live without being renewed.
pub const HOLD_TTL_SECS: i64 = 300;
/// How often a running backup renews its hold.
pub const HEARTBEAT: Duration = Duration::from_secs(10);

/// Now, in Unix seconds.
fn now() -> i64 {
    crate::timefmt::unix_seconds(std::time::SystemTime::now())
}

/// Server side, after the commit that dropped the rows referring to `ids`: the blobs to remove
/// now. Empty when a live hold defers them (they are recorded in `deferred_blobs`); `ids` and
/// the blobs deferred before when no hold is live any more.
pub async fn removable(db: &Db, ids: Vec<BlobId>) -> Result<Vec<BlobId>, DbError> {
    // The common case, no backup ever ran or none is running: one point read.
    let any_hold = db
        .read_point(|conn| {
            Ok::<bool, DbError>(conn.cached_row(
                "SELECT EXISTS (SELECT 1 FROM backup_holds)",
                [],
                |r| r.get(0),
            )?)
        })
        .await?;
    if !any_hold {
        return Ok(ids);
    }
    db.write(move |conn| defer_or_release(conn, ids, now()))
        .await
}

/// In the writer's transaction: deletes expired holds; while a live one remains, records `ids`
/// as deferred and answers nothing to remove; otherwise answers `ids` and every deferred blob
/// (taken out of `deferred_blobs`).
fn defer_or_release(conn: &Connection, ids: Vec<BlobId>, now: i64) -> Result<Vec<BlobId>, DbError> {
    drop_expired(conn, now)?;
    if live_holds(conn, now)? > 0 {
        let mut insert = conn.prepare_cached(
            "INSERT INTO deferred_blobs (blob) VALUES (?1) ON CONFLICT DO NOTHING",
        )?;
        for id in &ids {
            insert.execute([id.as_str()])?;
        }
        return Ok(Vec::new());
    }
    let mut all = ids;
    all.extend(take_deferred(conn)?);
    Ok(all)
}

/// Deletes the holds that expired (their backups died), saying so.
fn drop_expired(conn: &Connection, now: i64) -> crate::db::sql::Result<()> {
    let expired: Vec<(i64, i64, i64)> = conn
        .prepare_cached("SELECT id, pid, started FROM backup_holds WHERE expires <= ?1")?
        .query_map([now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (id, pid, started) in expired {
        tracing::warn!(
            hold = id,
            pid,
            started,
            "a backup's hold expired without being released (the backup stopped); that backup \
             is incomplete, and the blob removals it deferred go ahead"
        );
        conn.execute("DELETE FROM backup_holds WHERE id = ?1", [id])?;
    }
    Ok(())
}

fn live_holds(conn: &Connection, now: i64) -> crate::db::sql::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM backup_holds WHERE expires > ?1",
        [now],
        |r| r.get(0),
    )
}

/// Every deferred blob, taken out of the table. Rows whose text is not a blob id (a damaged
/// index) are dropped without naming a file.
fn take_deferred(conn: &Connection) -> crate::db::sql::Result<Vec<BlobId>> {
    let deferred: Vec<String> = conn
        .prepare_cached("SELECT blob FROM deferred_blobs")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    conn.execute("DELETE FROM deferred_blobs", [])?;
    Ok(deferred.iter().filter_map(|b| BlobId::parse(b)).collect())
}

/// Server side, at startup, before the sweep of unreferenced blobs (in the writer's
/// transaction): whether a live hold exists (then the sweep is skipped: a backup may still be
/// copying a deferred blob). Without one, expired holds and the deferred list are cleared: the
/// sweep removes those files, which no row refers to.
pub fn at_startup(conn: &Connection) -> Result<bool, DbError> {
    let now = now();
    drop_expired(conn, now)?;
    let held = live_holds(conn, now)? > 0;
    if !held {
        conn.execute("DELETE FROM deferred_blobs", [])?;
    }
    Ok(held)
}

/// Backup side: a hold, committed on `conn` (a read-write connection to the object index of a
/// server that may be running).
#[derive(Debug)]
pub struct Hold {
    pub id: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum HoldError {
    #[error(
        "the object index has no backup_holds table: its schema predates backups; start this \
         version of labstore on it once, then back up"
    )]
    OldSchema,
    #[error(
        "this backup's hold on the data directory expired (it was not renewed within {HOLD_TTL_SECS} \
         seconds): the server may have removed blob files the snapshot refers to; run the \
         backup again"
    )]
    Lapsed,
    #[error(transparent)]
    Sql(#[from] crate::db::sql::Error),
}

impl From<rusqlite::Error> for HoldError {
    fn from(e: rusqlite::Error) -> HoldError {
        HoldError::Sql(e.into())
    }
}

impl Hold {
    /// Commits a new hold for this process.
    pub fn take(conn: &Connection) -> Result<Hold, HoldError> {
        // PostgreSQL's schema starts with the table (`migrations/postgres/`).
        if conn.engine() == crate::db::sql::Engine::Sqlite {
            let table: Option<String> = conn
                .query_row(
                    "SELECT name FROM sqlite_schema WHERE type = 'table' AND name = 'backup_holds'",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            if table.is_none() {
                return Err(HoldError::OldSchema);
            }
        }
        let now = now();
        let id = conn.query_row(
            "INSERT INTO backup_holds (started, pid, expires) VALUES (?1, ?2, ?3) RETURNING id",
            (now, std::process::id(), now + HOLD_TTL_SECS),
            |r| r.get(0),
        )?;
        Ok(Hold { id })
    }

    /// Extends the hold; `Lapsed` when it expired (or was deleted as expired) meanwhile.
    pub fn renew(&self, conn: &Connection) -> Result<(), HoldError> {
        let now = now();
        let renewed = conn.execute(
            "UPDATE backup_holds SET expires = ?2 WHERE id = ?1 AND expires > ?3",
            (self.id, now + HOLD_TTL_SECS, now),
        )?;
        if renewed == 1 {
            Ok(())
        } else {
            Err(HoldError::Lapsed)
        }
    }

    /// Deletes the hold; when no other live hold remains, takes the deferred blobs, which the
    /// caller removes (they are no longer referenced by the index).
    pub fn release(self, conn: &Connection) -> Result<Vec<BlobId>, HoldError> {
        conn.transaction(|tx| {
            tx.execute("DELETE FROM backup_holds WHERE id = ?1", [self.id])?;
            let now = now();
            drop_expired(tx, now)?;
            if live_holds(tx, now)? == 0 {
                Ok(take_deferred(tx)?)
            } else {
                Ok(Vec::new())
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn =
            Connection::from(rusqlite::Connection::open(dir.path().join("objects.db")).unwrap());
        conn.execute_batch(include_str!(
            "../../migrations/objects/0014_backup_holds.sql"
        ))
        .unwrap();
        (dir, conn)
    }

    fn id(n: u8) -> BlobId {
        BlobId::parse(&format!("{n:032x}")).unwrap()
    }

    #[test]
    fn without_a_hold_blobs_are_removable_at_once() {
        let (_dir, conn) = index();
        assert_eq!(
            defer_or_release(&conn, vec![id(1)], now()).unwrap(),
            vec![id(1)]
        );
    }

    #[test]
    fn a_live_hold_defers_removals_until_it_is_released() {
        let (_dir, conn) = index();
        let hold = Hold::take(&conn).unwrap();
        assert!(defer_or_release(&conn, vec![id(1), id(2)], now())
            .unwrap()
            .is_empty());
        hold.renew(&conn).unwrap();
        let mut released = hold.release(&conn).unwrap();
        released.sort();
        assert_eq!(released, vec![id(1), id(2)]);
        let left: i64 = conn
            .query_row("SELECT count(*) FROM deferred_blobs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0);
    }

    #[test]
    fn a_release_leaves_the_deferred_blobs_of_another_live_hold() {
        let (_dir, conn) = index();
        let first = Hold::take(&conn).unwrap();
        let _second = Hold::take(&conn).unwrap();
        defer_or_release(&conn, vec![id(3)], now()).unwrap();
        assert!(first.release(&conn).unwrap().is_empty());
        assert!(defer_or_release(&conn, vec![id(4)], now())
            .unwrap()
            .is_empty());
    }

    #[test]
    fn an_expired_hold_stops_deferring_and_its_backup_learns_it_lapsed() {
        let (_dir, conn) = index();
        let hold = Hold::take(&conn).unwrap();
        defer_or_release(&conn, vec![id(5)], now()).unwrap();
        // Past the hold's expiry: the server drops it and removes what it deferred too.
        let later = now() + HOLD_TTL_SECS + 1;
        let mut removable = defer_or_release(&conn, vec![id(6)], later).unwrap();
        removable.sort();
        assert_eq!(removable, vec![id(5), id(6)]);
        assert!(matches!(hold.renew(&conn), Err(HoldError::Lapsed)));
    }

    #[test]
    fn startup_skips_the_sweep_only_while_a_hold_is_live() {
        let (_dir, conn) = index();
        conn.execute("INSERT INTO deferred_blobs (blob) VALUES ('x')", [])
            .unwrap();
        let hold = Hold::take(&conn).unwrap();
        assert!(at_startup(&conn).unwrap());
        conn.execute(
            "UPDATE backup_holds SET expires = 0 WHERE id = ?1",
            [hold.id],
        )
        .unwrap();
        assert!(!at_startup(&conn).unwrap());
        let (holds, deferred): (i64, i64) = conn
            .query_row(
                "SELECT (SELECT count(*) FROM backup_holds), (SELECT count(*) FROM deferred_blobs)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((holds, deferred), (0, 0));
    }

    #[test]
    fn an_old_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::from(rusqlite::Connection::open(dir.path().join("old.db")).unwrap());
        assert!(matches!(Hold::take(&conn), Err(HoldError::OldSchema)));
    }
}
