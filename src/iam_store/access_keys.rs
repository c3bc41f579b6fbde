//! Access keys: at most two per user, secrets sealed with the key id as associated data, and
//! last-used times recorded in memory on the request path and written in batches.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::db::sql::{Connection, OptionalExtension};
use rand::Rng;

use super::error::{StoreError, StoreResult};
use super::users::user_by_name;
use super::{ids, now, page, IamStore, Page};
use crate::crypto::Secret;

/// AWS's quota of access keys per user.
pub const MAX_KEYS_PER_USER: i64 = 2;
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

#[derive(Debug, Clone)]
pub struct AccessKey {
    pub id: String,
    /// The owning user; `None` for a key of the account root.
    pub user_name: Option<String>,
    pub active: bool,
    pub created_at: i64,
}

/// When and where a key was last used. `None` fields: never used.
#[derive(Debug, Clone, Default)]
pub struct LastUsed {
    pub at: Option<i64>,
    pub service: Option<String>,
    pub region: Option<String>,
}

/// Last-used records waiting to be written: the request path only touches this map.
#[derive(Debug, Default)]
pub struct PendingLastUsed(Mutex<HashMap<String, (i64, &'static str, String)>>);

impl PendingLastUsed {
    pub fn record(&self, key_id: &str, service: &'static str, region: &str) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(key_id.to_owned(), (now(), service, region.to_owned()));
        }
    }

    fn take(&self) -> HashMap<String, (i64, &'static str, String)> {
        self.0
            .lock()
            .map(|mut m| std::mem::take(&mut *m))
            .unwrap_or_default()
    }

    fn peek(&self, key_id: &str) -> Option<(i64, &'static str, String)> {
        self.0.lock().ok().and_then(|m| m.get(key_id).cloned())
    }
}

/// A 40-character secret in the alphabet AWS secrets use.
fn generate_secret() -> Secret {
    let mut rng = rand::rng();
    let text = (0..40)
        .map(|_| SECRET_ALPHABET[rng.random_range(0..SECRET_ALPHABET.len())] as char)
        .collect();
    Secret::new(text)
}

fn no_such_key(id: &str) -> StoreError {
    StoreError::NoSuchEntity(format!("The Access Key with id {id} cannot be found."))
}

/// The user id owning `key_id`, checking it belongs to `user_name`.
fn key_of_user(conn: &Connection, user_name: &str, key_id: &str) -> StoreResult<String> {
    let user = user_by_name(conn, user_name)?;
    conn.query_row(
        "SELECT id FROM access_keys WHERE id = ?1 AND user_id = ?2",
        (key_id, &user.id),
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| no_such_key(key_id))
}

impl IamStore {
    /// Creates a key of the account root (at most two, as for a user); the secret is returned
    /// here and never again.
    pub async fn create_root_access_key(&self) -> StoreResult<(AccessKey, Secret)> {
        let id = ids::access_key_id();
        let secret = generate_secret();
        let sealed = self.master_key().seal_secret(&secret, id.as_bytes());
        let key_id = id.clone();
        let created_at = now();
        self.write(move |conn, touched| {
            let count: i64 =
                conn.query_row("SELECT count(*) FROM root_access_keys", [], |r| r.get(0))?;
            if count >= MAX_KEYS_PER_USER {
                return Err(StoreError::LimitExceeded(format!(
                    "Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}"
                )));
            }
            conn.execute(
                "INSERT INTO root_access_keys (id, secret, status, created_at) VALUES (?1, ?2, 'Active', ?3)",
                (&key_id, &sealed, created_at),
            )?;
            touched.key(&key_id);
            Ok(())
        })
        .await?;
        let key = AccessKey {
            id,
            user_name: None,
            active: true,
            created_at,
        };
        Ok((key, secret))
    }

    /// The account root's keys, by id.
    pub async fn list_root_access_keys(
        &self,
        marker: Option<String>,
        max: usize,
    ) -> StoreResult<Page<AccessKey>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, status, created_at FROM root_access_keys
                 WHERE (CAST(?1 AS TEXT) IS NULL OR id > ?1) ORDER BY id LIMIT ?2",
            )?;
            let rows = stmt.query_map((&marker, max + 1), |r| {
                Ok(AccessKey {
                    id: r.get(0)?,
                    user_name: None,
                    active: r.get::<_, String>(1)? == "Active",
                    created_at: r.get(2)?,
                })
            })?;
            Ok(page(
                rows.collect::<Result<_, _>>()?,
                max,
                |k: &AccessKey| k.id.clone(),
            ))
        })
        .await
    }

    pub async fn update_root_access_key(&self, key_id: String, active: bool) -> StoreResult<()> {
        self.write(move |conn, touched| {
            let status = if active { "Active" } else { "Inactive" };
            let changed = conn.execute(
                "UPDATE root_access_keys SET status = ?2 WHERE id = ?1",
                (&key_id, status),
            )?;
            if changed == 0 {
                return Err(no_such_key(&key_id));
            }
            touched.key(&key_id);
            Ok(())
        })
        .await
    }

    pub async fn delete_root_access_key(&self, key_id: String) -> StoreResult<()> {
        let forgotten = key_id.clone();
        self.write(move |conn, touched| {
            let deleted = conn.execute("DELETE FROM root_access_keys WHERE id = ?1", [&key_id])?;
            if deleted == 0 {
                return Err(no_such_key(&key_id));
            }
            touched.key(&key_id);
            Ok(())
        })
        .await?;
        self.signing_keys().forget(&forgotten);
        Ok(())
    }

    /// Creates a key for `user_name`; the secret is returned here and never again.
    pub async fn create_access_key(&self, user_name: String) -> StoreResult<(AccessKey, Secret)> {
        let id = ids::access_key_id();
        let secret = generate_secret();
        let sealed = self.master_key().seal_secret(&secret, id.as_bytes());
        let key_id = id.clone();
        let created_at = now();
        let user_name = self
            .write(move |conn, touched| {
                let user = user_by_name(conn, &user_name)?;
                let count: i64 =
                    conn.query_row("SELECT count(*) FROM access_keys WHERE user_id = ?1", [&user.id], |r| r.get(0))?;
                if count >= MAX_KEYS_PER_USER {
                    return Err(StoreError::LimitExceeded(format!(
                        "Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}"
                    )));
                }
                conn.execute(
                    "INSERT INTO access_keys (id, user_id, secret, status, created_at) VALUES (?1, ?2, ?3, 'Active', ?4)",
                    (&key_id, &user.id, &sealed, created_at),
                )?;
                touched.key(&key_id);
                Ok(user.name)
            })
            .await?;
        let key = AccessKey {
            id,
            user_name: Some(user_name),
            active: true,
            created_at,
        };
        Ok((key, secret))
    }

    pub async fn list_access_keys(
        &self,
        user_name: String,
        marker: Option<String>,
        max: usize,
    ) -> StoreResult<Page<AccessKey>> {
        self.read(move |conn| {
            let user = user_by_name(conn, &user_name)?;
            let mut stmt = conn.prepare_cached(
                "SELECT id, status, created_at FROM access_keys
                 WHERE user_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR id > ?2) ORDER BY id LIMIT ?3",
            )?;
            let rows = stmt.query_map((&user.id, &marker, max + 1), |r| {
                Ok(AccessKey {
                    id: r.get(0)?,
                    user_name: Some(user.name.clone()),
                    active: r.get::<_, String>(1)? == "Active",
                    created_at: r.get(2)?,
                })
            })?;
            Ok(page(
                rows.collect::<Result<_, _>>()?,
                max,
                |k: &AccessKey| k.id.clone(),
            ))
        })
        .await
    }

    pub async fn update_access_key(
        &self,
        user_name: String,
        key_id: String,
        active: bool,
    ) -> StoreResult<()> {
        self.write(move |conn, touched| {
            let id = key_of_user(conn, &user_name, &key_id)?;
            let status = if active { "Active" } else { "Inactive" };
            conn.execute(
                "UPDATE access_keys SET status = ?2 WHERE id = ?1",
                (&id, status),
            )?;
            touched.key(&id);
            Ok(())
        })
        .await
    }

    pub async fn delete_access_key(&self, user_name: String, key_id: String) -> StoreResult<()> {
        let forgotten = key_id.clone();
        self.write(move |conn, touched| {
            let id = key_of_user(conn, &user_name, &key_id)?;
            conn.execute("DELETE FROM access_keys WHERE id = ?1", [&id])?;
            touched.key(&id);
            Ok(())
        })
        .await?;
        self.signing_keys().forget(&forgotten);
        Ok(())
    }

    /// The owner's name (`None`: the account root) and the last use of `key_id`, including
    /// uses not yet written.
    pub async fn get_access_key_last_used(
        &self,
        key_id: String,
    ) -> StoreResult<(Option<String>, LastUsed)> {
        let pending = self.pending_last_used().peek(&key_id);
        let (user, mut last) = self
            .read(move |conn| {
                conn.query_row(
                    "SELECT u.name, k.last_used_at, k.last_used_service, k.last_used_region
                     FROM access_keys k JOIN users u ON u.id = k.user_id WHERE k.id = ?1
                     UNION ALL
                     SELECT NULL, last_used_at, last_used_service, last_used_region
                     FROM root_access_keys WHERE id = ?1",
                    [&key_id],
                    |r| {
                        Ok((
                            r.get(0)?,
                            LastUsed {
                                at: r.get(1)?,
                                service: r.get(2)?,
                                region: r.get(3)?,
                            },
                        ))
                    },
                )
                .optional()?
                .ok_or_else(|| no_such_key(&key_id))
            })
            .await?;
        if let Some((at, service, region)) = pending {
            last = LastUsed {
                at: Some(at),
                service: Some(service.to_owned()),
                region: Some(region),
            };
        }
        Ok((user, last))
    }

    /// Writes the last-used records gathered since the previous flush, in one transaction.
    /// Straight to the database, not through `write`: no decision reads a last-used time, so
    /// the view is left alone.
    pub async fn flush_last_used(&self) -> StoreResult<()> {
        let pending = self.pending_last_used().take();
        if pending.is_empty() {
            return Ok(());
        }
        self.db()
            .write(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "UPDATE access_keys SET last_used_at = ?2, last_used_service = ?3, last_used_region = ?4 WHERE id = ?1",
                )?;
                let mut root = conn.prepare_cached(
                    "UPDATE root_access_keys SET last_used_at = ?2, last_used_service = ?3, last_used_region = ?4 WHERE id = ?1",
                )?;
                for (id, (at, service, region)) in &pending {
                    if stmt.execute((id, at, service, region))? == 0 {
                        root.execute((id, at, service, region))?;
                    }
                }
                Ok(())
            })
            .await
    }
}

/// An access key row as the authentication view needs it, secret still sealed.
pub(super) struct SealedKey {
    pub id: String,
    /// The owning user's id; `None` for a key of the account root.
    pub user_id: Option<String>,
    pub sealed: Vec<u8>,
    pub active: bool,
}

/// Reads every key's sealed secret, for building the authentication view.
pub(super) fn all_keys(conn: &Connection) -> StoreResult<Vec<SealedKey>> {
    let mut stmt = conn.prepare("SELECT id, user_id, secret, status FROM access_keys")?;
    let rows = stmt.query_map([], sealed_key)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The keys of one user, for updating the view.
pub(super) fn keys_of_user(conn: &Connection, user_id: &str) -> StoreResult<Vec<SealedKey>> {
    let mut stmt = conn
        .prepare_cached("SELECT id, user_id, secret, status FROM access_keys WHERE user_id = ?1")?;
    let rows = stmt.query_map([user_id], sealed_key)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every key of the account root, for building the authentication view.
pub(super) fn root_keys(conn: &Connection) -> StoreResult<Vec<SealedKey>> {
    let mut stmt = conn.prepare("SELECT id, NULL, secret, status FROM root_access_keys")?;
    let rows = stmt.query_map([], sealed_key)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One key (a user's or the root's), for updating the view; `None` when it no longer exists.
pub(super) fn key_by_id(conn: &Connection, id: &str) -> StoreResult<Option<SealedKey>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, user_id, secret, status FROM access_keys WHERE id = ?1
             UNION ALL SELECT id, NULL, secret, status FROM root_access_keys WHERE id = ?1",
        )?
        .query_row([id], sealed_key)
        .optional()?)
}

fn sealed_key(r: &crate::db::sql::Row<'_>) -> crate::db::sql::Result<SealedKey> {
    Ok(SealedKey {
        id: r.get(0)?,
        user_id: r.get(1)?,
        sealed: r.get(2)?,
        active: r.get::<_, String>(3)? == "Active",
    })
}
