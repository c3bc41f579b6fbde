//! The IAM database (`data_dir/metadata/iam.db`): users, access keys, groups, policies; the
//! master-key check that ties the database to the key that sealed its secrets; the root
//! credentials; and the in-memory authentication view (`view`).
//!
//! Invariant: every mutation goes through `IamStore::write`, which puts what it touched into
//! the view (`view::Touched`) after the commit and before returning, in commit order. Writes
//! that touch nothing the view holds (tags; last-used times, which `flush_last_used` writes
//! outside it) leave the view alone.
//!
//! Invariant: a master key is only ever generated for a database that holds no sealed data;
//! a missing or different key over existing data stops startup.

mod access_keys;
pub mod attachments;
pub mod aws_policies;
pub mod boundaries;
pub mod error;
pub mod groups;
pub mod ids;
mod inline;
pub mod oidc;
pub mod policies;
pub mod roles;
mod users;
pub mod view;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::db::sql::OptionalExtension;

use access_keys::PendingLastUsed;
pub use access_keys::{AccessKey, LastUsed, MAX_KEYS_PER_USER};
pub use error::{StoreError, StoreResult};
pub use users::User;
use view::{AuthView, Documents, Touched};

use crate::auth::session::SessionCache;
use crate::auth::signing_keys::SigningKeyCache;
use crate::config::AdminAuth;
use crate::crypto::{CryptoError, MasterKey, Secret, MASTER_KEY_FILE};
use crate::db::{Db, DbConfig, DbError, Migration};

pub static MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "meta",
        sql: include_str!("../../migrations/iam/0001_meta.sql"),
    },
    Migration {
        version: 2,
        name: "iam",
        sql: include_str!("../../migrations/iam/0002_iam.sql"),
    },
    Migration {
        version: 3,
        name: "roles",
        sql: include_str!("../../migrations/iam/0003_roles.sql"),
    },
    Migration {
        version: 4,
        name: "aws_managed_policies",
        sql: include_str!("../../migrations/iam/0004_aws_managed_policies.sql"),
    },
    Migration {
        version: 5,
        name: "root_access_keys",
        sql: include_str!("../../migrations/iam/0005_root_access_keys.sql"),
    },
    Migration {
        version: 6,
        name: "permissions_boundaries",
        sql: include_str!("../../migrations/iam/0006_permissions_boundaries.sql"),
    },
    Migration {
        version: 7,
        name: "oidc_providers",
        sql: include_str!("../../migrations/iam/0007_oidc_providers.sql"),
    },
];

/// AWS's limit of tags on one IAM entity.
pub const MAX_TAGS: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// One page of a listing; `next_marker` is set when more items follow.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_marker: Option<String>,
}

/// Cuts `items` (fetched with one extra) to `max`, setting the marker to the last kept item's
/// sort key when more followed.
pub(crate) fn page<T>(mut items: Vec<T>, max: usize, key: impl Fn(&T) -> String) -> Page<T> {
    let next_marker = if items.len() > max {
        items.truncate(max);
        items.last().map(key)
    } else {
        None
    };
    Page { items, next_marker }
}

/// A rename and/or move of a user or group (UpdateUser, UpdateGroup).
struct Rename {
    pub table: &'static str,
    /// "User" or "Group", for the duplicate-name message.
    pub noun: &'static str,
    pub name: String,
    pub new_name: Option<String>,
    pub new_path: Option<String>,
    /// Records the renamed entity in the view's update (`Touched::user` or `Touched::group`).
    pub touch: fn(&mut Touched, &str),
}

/// Now, in Unix seconds.
pub(crate) fn now() -> i64 {
    crate::timefmt::unix_seconds(std::time::SystemTime::now())
}

/// Where the IAM database lives below `data_dir`.
pub fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join("metadata").join("iam.db")
}

const KEY_CHECK: &str = "key_check";
const KEY_CHECK_PLAINTEXT: &[u8] = b"labstore master key check v1";
const ROOT_SECRET: &str = "root_secret";
/// Length of a generated root secret, as AWS secret access keys.
const ROOT_SECRET_LEN: usize = 40;

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "{key} is missing, but the database {db} holds secrets sealed with it. Restore \
         master.key from your backup into the keys directory; LabStore will not generate a \
         new key over existing data"
    )]
    MasterKeyMissing { key: PathBuf, db: PathBuf },
    #[error(
        "{key} is not the key that sealed the secrets in {db}. Restore the original \
         master.key (or point backend.storage.keys_dir at it); LabStore will not use a \
         different key over existing data"
    )]
    MasterKeyMismatch { key: PathBuf, db: PathBuf },
    #[error(
        "a master key rotation is in progress in {dir} (master.key.next exists); run \
         `labstore keys rotate` again to finish it before starting the server"
    )]
    RotationInProgress { dir: PathBuf },
}

/// The account root: may call everything.
#[derive(Debug, Clone)]
pub struct RootCredentials {
    pub access_key: String,
    pub secret: Secret,
    pub arn: String,
}

/// What the writes keep beside the view, under the write lock.
#[derive(Default)]
struct Follow {
    /// The compiled documents the view holds, by text, with their use counts.
    documents: Documents,
    /// A write committed but did not update the view (its task died): build it whole next.
    behind: bool,
}

/// Handle to the IAM database, the key that seals its secrets and the views kept from it.
#[derive(Clone)]
pub struct IamStore {
    inner: Arc<StoreInner>,
}

struct StoreInner {
    db: Db,
    key: MasterKey,
    account_id: String,
    /// Swapped after each write that changes it; readers clone the `Arc` and let go of the
    /// lock.
    view: RwLock<Arc<AuthView>>,
    /// Held by each write from before its commit until the view shows it, so that views
    /// follow one another in commit order.
    writes: tokio::sync::Mutex<Follow>,
    /// How many times the view was built whole: at open, and after a write whose update did
    /// not finish. Tests and the benchmark check that other writes do not.
    rebuilds: AtomicU64,
    pending_last_used: PendingLastUsed,
    signing_keys: SigningKeyCache,
    /// The master key a rotation replaced (`master.key.previous`), if kept: it opens session
    /// tokens sealed before the rotation, and seals nothing.
    previous_key: Option<MasterKey>,
    /// Opened session tokens (STS temporary credentials).
    sessions: SessionCache,
    /// Every role's path, for the ARN that authorizing a call on it needs.
    role_paths: roles::RolePaths,
}

impl IamStore {
    /// Opens the database (migrating it) and the master key, creating the key only when the
    /// database holds nothing sealed.
    pub async fn open(
        data_dir: &Path,
        keys_dir: &Path,
        config: &DbConfig,
        account_id: &str,
    ) -> Result<IamStore, OpenError> {
        let db_path = db_path(data_dir);
        if keys_dir.join(crate::crypto::NEXT_KEY_FILE).exists() {
            return Err(OpenError::RotationInProgress {
                dir: keys_dir.to_path_buf(),
            });
        }
        let db = Db::open("iam", &db_path, config, MIGRATIONS)?;
        let check = get_meta(&db, KEY_CHECK).await?;
        let key_path = keys_dir.join(MASTER_KEY_FILE);
        let key = match (MasterKey::load(keys_dir)?, check) {
            (Some(key), Some(check)) => {
                if key.open(&check, KEY_CHECK.as_bytes()).is_err() {
                    return Err(OpenError::MasterKeyMismatch {
                        key: key_path,
                        db: db_path,
                    });
                }
                key
            }
            // A database with nothing sealed yet adopts the key it is given.
            (Some(key), None) => store_key_check(&db, key).await?,
            (None, Some(_)) => {
                return Err(OpenError::MasterKeyMissing {
                    key: key_path,
                    db: db_path,
                })
            }
            (None, None) => {
                let key = MasterKey::create(keys_dir)?;
                tracing::info!(path = %key_path.display(), "created a new master key; back it up apart from the data");
                store_key_check(&db, key).await?
            }
        };
        let previous_key = MasterKey::load_named(keys_dir, crate::crypto::PREVIOUS_KEY_FILE)?;
        let store = IamStore {
            inner: Arc::new(StoreInner {
                db,
                key,
                previous_key,
                account_id: account_id.to_owned(),
                view: RwLock::default(),
                writes: tokio::sync::Mutex::new(Follow::default()),
                rebuilds: AtomicU64::new(0),
                pending_last_used: PendingLastUsed::default(),
                signing_keys: SigningKeyCache::new(),
                sessions: SessionCache::default(),
                role_paths: roles::RolePaths::default(),
            }),
        };
        store.inner.db.write(aws_policies::install).await?;
        store.refresh_view().await?;
        store.load_role_paths().await?;
        Ok(store)
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub fn master_key(&self) -> &MasterKey {
        &self.inner.key
    }

    /// The key a rotation replaced, kept to open older session tokens.
    pub fn previous_key(&self) -> Option<&MasterKey> {
        self.inner.previous_key.as_ref()
    }

    pub fn account_id(&self) -> &str {
        &self.inner.account_id
    }

    /// The current authentication view.
    pub fn view(&self) -> Arc<AuthView> {
        match self.inner.view.read() {
            Ok(view) => Arc::clone(&view),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Every role's name and path, written before a role write commits (for authorizing IAM
    /// calls on the role).
    pub fn role_paths(&self) -> &roles::RolePaths {
        &self.inner.role_paths
    }

    pub fn signing_keys(&self) -> &SigningKeyCache {
        &self.inner.signing_keys
    }

    pub fn sessions(&self) -> &SessionCache {
        &self.inner.sessions
    }

    pub fn pending_last_used(&self) -> &PendingLastUsed {
        &self.inner.pending_last_used
    }

    /// Runs a mutation on the writer thread and puts what it touched into the view before
    /// answering. The work runs as a spawned task, so that a request dropped mid-write cannot
    /// leave its commit out of the view.
    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&crate::db::sql::Connection, &mut Touched) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.clone();
        match tokio::spawn(async move { store.commit_and_follow(f).await }).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::Db(DbError::TaskPanicked)),
        }
    }

    /// Commits `f` and, in its transaction, reads back what it touched; then replaces those
    /// entries in the view. All under the write lock: the next commit waits for this update.
    async fn commit_and_follow<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&crate::db::sql::Connection, &mut Touched) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let mut follow = self.inner.writes.lock().await;
        let was_behind = follow.behind;
        // Stays set if this task dies between the commit and the update: the next write then
        // builds the view whole.
        follow.behind = true;
        let committed = self
            .inner
            .db
            .write(move |conn| {
                let mut touched = Touched::default();
                let value = f(conn, &mut touched)?;
                // The other nodes rebuild their views once this commits (PostgreSQL).
                crate::cluster::notify(conn, crate::cluster::Change::Iam)?;
                let delta = match was_behind {
                    true => None,
                    false => Some(touched.read(conn)?),
                };
                Ok((value, delta))
            })
            .await;
        let (value, delta) = match committed {
            Ok(committed) => committed,
            // A failed write committed nothing; a closed queue may have dropped a batch
            // unanswered, and a rebuild costs little then.
            Err(e) => {
                follow.behind = was_behind || matches!(e, StoreError::Db(DbError::Closed(_)));
                return Err(e);
            }
        };
        match delta {
            Some(delta) if delta.is_empty() => {}
            Some(delta) => {
                tracing::debug!(entries = delta.len(), "updating the iam view");
                let next = view::apply(
                    &self.view(),
                    delta,
                    &mut follow.documents,
                    &self.inner.account_id,
                    &self.inner.key,
                );
                self.swap(next);
            }
            None => self.rebuild(&mut follow).await?,
        }
        follow.behind = false;
        Ok(value)
    }

    /// Renames and/or moves an entity; what refers to it (keys, memberships, policies) uses its
    /// id and follows. A name taken by another entity is `EntityAlreadyExists`.
    async fn rename(
        &self,
        r: Rename,
        id_of: fn(&crate::db::sql::Connection, &str) -> StoreResult<String>,
    ) -> StoreResult<()> {
        let (table, noun, wanted) = (r.table, r.noun, r.new_name.clone());
        let result = self
            .write(move |conn, touched| {
                let id = id_of(conn, &r.name)?;
                let sql = format!("UPDATE {table} SET name = coalesce(?2, name), path = coalesce(?3, path) WHERE id = ?1");
                conn.execute(&sql, (&id, &r.new_name, &r.new_path))?;
                (r.touch)(touched, &id);
                Ok(())
            })
            .await;
        match (result, wanted) {
            (Err(e), Some(n)) if error::is_unique_violation(&e) => Err(StoreError::AlreadyExists(
                format!("{noun} with name {n} already exists."),
            )),
            (result, _) => result,
        }
    }

    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&crate::db::sql::Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.inner.db.read(f).await
    }

    /// Builds the authentication view whole from what is committed now (at open; writes
    /// update it in place of this).
    pub async fn refresh_view(&self) -> StoreResult<()> {
        let mut follow = self.inner.writes.lock().await;
        self.rebuild(&mut follow).await?;
        follow.behind = false;
        Ok(())
    }

    /// How many times the view was built whole since open (open included).
    pub fn view_rebuilds(&self) -> u64 {
        self.inner.rebuilds.load(Ordering::Relaxed)
    }

    async fn rebuild(&self, follow: &mut Follow) -> StoreResult<()> {
        let snapshot = self.inner.db.read(view::snapshot).await?;
        let fresh = view::build(
            snapshot,
            &self.view(),
            &mut follow.documents,
            &self.inner.account_id,
            &self.inner.key,
        );
        self.swap(fresh);
        self.inner.rebuilds.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn swap(&self, fresh: AuthView) {
        let fresh = Arc::new(fresh);
        let old = match self.inner.view.write() {
            Ok(mut view) => std::mem::replace(&mut *view, fresh),
            Err(poisoned) => std::mem::replace(&mut *poisoned.into_inner(), fresh),
        };
        // The old view (and the maps only it held) goes outside the lock readers take.
        drop(old);
    }

    #[cfg(test)]
    async fn documents(&self) -> std::collections::BTreeMap<String, usize> {
        self.inner.writes.lock().await.documents.uses()
    }

    /// The root credentials: the configured secret if there is one, else the one generated
    /// on first start. Returns `true` alongside when the secret was generated just now, so
    /// that the caller shows it once.
    pub async fn root_credentials(
        &self,
        auth: &AdminAuth,
        account_id: &str,
    ) -> Result<(RootCredentials, bool), OpenError> {
        let arn = format!("arn:aws:iam::{account_id}:root");
        let root = |secret| RootCredentials {
            access_key: auth.access_key.clone(),
            secret,
            arn: arn.clone(),
        };
        if let Some(secret) = &auth.secret_key {
            return Ok((root(secret.clone()), false));
        }
        if let Some(sealed) = get_meta(&self.inner.db, ROOT_SECRET).await? {
            return Ok((
                root(
                    self.inner
                        .key
                        .open_secret(&sealed, ROOT_SECRET.as_bytes())?,
                ),
                false,
            ));
        }
        let secret = Secret::generate(ROOT_SECRET_LEN);
        put_meta(
            &self.inner.db,
            ROOT_SECRET,
            self.inner.key.seal_secret(&secret, ROOT_SECRET.as_bytes()),
        )
        .await?;
        Ok((root(secret), true))
    }
}

/// Records which key seals this database's secrets.
async fn store_key_check(db: &Db, key: MasterKey) -> Result<MasterKey, DbError> {
    let check = key.seal(KEY_CHECK_PLAINTEXT, KEY_CHECK.as_bytes());
    put_meta(db, KEY_CHECK, check).await?;
    Ok(key)
}

async fn get_meta(db: &Db, name: &'static str) -> Result<Option<Vec<u8>>, DbError> {
    db.read(move |conn| {
        Ok(conn
            .query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?)
    })
    .await
}

async fn put_meta(db: &Db, name: &'static str, value: Vec<u8>) -> Result<(), DbError> {
    db.write(move |conn| {
        conn.execute(
            "INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )?;
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests;
