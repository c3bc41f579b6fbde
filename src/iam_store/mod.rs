//! The IAM database (`data_dir/metadata/iam.db`): its migrations, the master-key check that
//! ties the database to the key that sealed its secrets, and the root credentials.
//!
//! Invariant: a master key is only ever generated for a database that holds no sealed data;
//! a missing or different key over existing data stops startup.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::OptionalExtension;

use crate::config::AdminAuth;
use crate::crypto::{CryptoError, MasterKey, Secret, MASTER_KEY_FILE};
use crate::db::{Db, DbConfig, DbError, Migration};

pub static MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "meta",
    sql: include_str!("../../migrations/iam/0001_meta.sql"),
}];

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
}

/// The account root: may call everything.
#[derive(Debug, Clone)]
pub struct RootCredentials {
    pub access_key: String,
    pub secret: Secret,
    pub arn: String,
}

/// Handle to the IAM database and the key that seals its secrets.
#[derive(Clone)]
pub struct IamStore {
    db: Db,
    key: Arc<MasterKey>,
}

impl IamStore {
    /// Opens the database (migrating it) and the master key, creating the key only when the
    /// database holds nothing sealed.
    pub async fn open(
        data_dir: &Path,
        keys_dir: &Path,
        config: &DbConfig,
    ) -> Result<IamStore, OpenError> {
        let db_path = db_path(data_dir);
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
        Ok(IamStore {
            db,
            key: Arc::new(key),
        })
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn master_key(&self) -> &MasterKey {
        &self.key
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
        if let Some(sealed) = get_meta(&self.db, ROOT_SECRET).await? {
            return Ok((
                root(self.key.open_secret(&sealed, ROOT_SECRET.as_bytes())?),
                false,
            ));
        }
        let secret = Secret::generate(ROOT_SECRET_LEN);
        put_meta(
            &self.db,
            ROOT_SECRET,
            self.key.seal_secret(&secret, ROOT_SECRET.as_bytes()),
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
            "INSERT OR REPLACE INTO meta (name, value) VALUES (?1, ?2)",
            (name, value),
        )?;
        Ok(())
    })
    .await
}
