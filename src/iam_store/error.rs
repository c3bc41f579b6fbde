//! What an IAM store operation can refuse, in IAM's own terms; `iam::error` maps each to its
//! AWS code. Messages are worded as AWS words them.

use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    NoSuchEntity(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    DeleteConflict(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    MalformedPolicy(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::Db(DbError::from(e))
    }
}

impl From<crate::db::sql::Error> for StoreError {
    fn from(e: crate::db::sql::Error) -> StoreError {
        StoreError::Db(DbError::Sql(e))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Whether `e` is a UNIQUE or PRIMARY KEY violation (a duplicate name).
pub fn is_unique_violation(e: &StoreError) -> bool {
    matches!(e, StoreError::Db(DbError::Sql(e)) if e.is_unique_violation())
}
