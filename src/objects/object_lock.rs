//! The `object_lock` bucket configuration kind: present when the bucket has Object Lock
//! enabled (it cannot be disabled), with its default retention, if any. And the writes of one
//! version's retention and legal hold, under S3's rules (`versions::retention_change_allowed`).
//!
//! The stored document is this server's own short form: `Enabled`, or
//! `Enabled <MODE> Days <n>` / `Enabled <MODE> Years <n>`.

use crate::db::sql::{Connection, OptionalExtension};

use super::versions::{self, LockState, RetentionMode, VersionRef};
use super::{now_ms, require_bucket, version_of, IndexError, IndexResult, ObjectIndex};

/// A milliseconds day; a year of the default retention is 365 of them.
const DAY_MS: i64 = 86_400_000;

/// The period of a default retention, as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionPeriod {
    Days(u32),
    Years(u32),
}

impl RetentionPeriod {
    /// The period in milliseconds (a year is 365 days).
    pub fn millis(self) -> i64 {
        match self {
            RetentionPeriod::Days(d) => i64::from(d) * DAY_MS,
            RetentionPeriod::Years(y) => i64::from(y) * 365 * DAY_MS,
        }
    }
}

/// A bucket's default retention: what a new version that names none gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultRetention {
    pub mode: RetentionMode,
    pub period: RetentionPeriod,
}

impl DefaultRetention {
    /// The retention of a version written at `written_ms`.
    pub fn from(&self, written_ms: i64) -> (RetentionMode, i64) {
        (self.mode, written_ms.saturating_add(self.period.millis()))
    }
}

/// A bucket's Object Lock configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectLockConfig {
    pub default_retention: Option<DefaultRetention>,
    document: String,
}

impl ObjectLockConfig {
    pub fn new(default_retention: Option<DefaultRetention>) -> ObjectLockConfig {
        let document = match default_retention {
            None => "Enabled".to_owned(),
            Some(d) => {
                let (unit, n) = match d.period {
                    RetentionPeriod::Days(n) => ("Days", n),
                    RetentionPeriod::Years(n) => ("Years", n),
                };
                format!("Enabled {} {unit} {n}", d.mode.as_str())
            }
        };
        ObjectLockConfig {
            default_retention,
            document,
        }
    }

    /// The stored form; `None` when it is not one this server writes.
    pub fn parse(document: &str) -> Option<ObjectLockConfig> {
        let words: Vec<&str> = document.split(' ').collect();
        let default_retention = match words[..] {
            ["Enabled"] => None,
            ["Enabled", mode, unit, n] => {
                let mode = RetentionMode::parse(mode)?;
                let n: u32 = n.parse().ok().filter(|n| *n > 0)?;
                let period = match unit {
                    "Days" => RetentionPeriod::Days(n),
                    "Years" => RetentionPeriod::Years(n),
                    _ => return None,
                };
                Some(DefaultRetention { mode, period })
            }
            _ => return None,
        };
        Some(ObjectLockConfig::new(default_retention))
    }
}

impl super::ConfigDocument for ObjectLockConfig {
    fn load(bucket: &str, document: String) -> ObjectLockConfig {
        ObjectLockConfig::parse(&document).unwrap_or_else(|| {
            // Damage: Object Lock stays enabled (it can never be disabled); only the default
            // retention, which cannot be read, is lost.
            tracing::error!(
                bucket,
                "a stored Object Lock configuration does not parse; read as enabled without a default retention"
            );
            ObjectLockConfig::new(None)
        })
    }

    fn document(&self) -> &str {
        &self.document
    }
}

/// The bucket's Object Lock configuration, read in the writer's transaction: a write that
/// commits after PutObjectLockConfiguration gets the default retention it set.
pub(super) fn config_in(conn: &Connection, bucket: &str) -> IndexResult<Option<ObjectLockConfig>> {
    let document: Option<String> = conn
        .cached_row(
            "SELECT document FROM bucket_configs WHERE bucket = ?1 AND kind = 'object_lock'",
            [bucket],
            |r| r.get(0),
        )
        .optional()?;
    Ok(document.map(|d| <ObjectLockConfig as super::ConfigDocument>::load(bucket, d)))
}

/// The lock state of row `id`.
fn lock_of(conn: &Connection, id: i64) -> IndexResult<LockState> {
    Ok(conn.cached_row(
        "SELECT lock_mode, lock_until, legal_hold FROM objects WHERE id = ?1",
        [id],
        |r| {
            Ok(LockState::from_columns(
                r.get_ref(0)?.as_str_or_null()?,
                r.get(1)?,
                r.get(2)?,
            ))
        },
    )?)
}

impl ObjectIndex {
    /// Stores a bucket's Object Lock configuration. Enabling it needs versioning Enabled,
    /// checked in the same transaction (`VersioningNotEnabled`).
    pub async fn put_object_lock_config(
        &self,
        bucket: String,
        config: ObjectLockConfig,
    ) -> IndexResult<()> {
        let name = bucket.clone();
        let document = <ObjectLockConfig as super::ConfigDocument>::document(&config).to_owned();
        let work = move |conn: &Connection| {
            require_bucket(conn, &name)?;
            let versioning: Option<String> = conn
                .cached_row(
                    "SELECT document FROM bucket_configs WHERE bucket = ?1 AND kind = 'versioning'",
                    [&name],
                    |r| r.get(0),
                )
                .optional()?;
            if versioning.as_deref() != Some("Enabled") {
                return Err(IndexError::VersioningNotEnabled);
            }
            conn.cached_execute(
                "INSERT INTO bucket_configs (bucket, kind, document, updated_at) VALUES (?1, 'object_lock', ?2, ?3)
                 ON CONFLICT (bucket, kind) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at",
                (&name, &document, now_ms()),
            )?;
            Ok(())
        };
        self.write_buckets(work, move |map, ()| {
            map.update(&bucket, |configs| {
                configs.set(super::BucketConfig::ObjectLock(config.into()));
            });
        })
        .await
    }

    /// Stores a bucket's versioning status; `Suspended` is refused (`ObjectLockPresent`) when
    /// the bucket has Object Lock, checked in the same transaction, so that no
    /// PutObjectLockConfiguration committing meanwhile can leave a locked bucket suspended.
    pub async fn put_versioning(
        &self,
        bucket: String,
        status: super::VersioningStatus,
    ) -> IndexResult<()> {
        let name = bucket.clone();
        let work = move |conn: &Connection| {
            require_bucket(conn, &name)?;
            if status == super::VersioningStatus::Suspended && config_in(conn, &name)?.is_some() {
                return Err(IndexError::ObjectLockPresent);
            }
            conn.cached_execute(
                "INSERT INTO bucket_configs (bucket, kind, document, updated_at) VALUES (?1, 'versioning', ?2, ?3)
                 ON CONFLICT (bucket, kind) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at",
                (&name, status.as_str(), now_ms()),
            )?;
            Ok(())
        };
        self.write_buckets(work, move |map, ()| {
            map.update(&bucket, |configs| {
                configs.set(super::BucketConfig::Versioning(
                    super::Versioning::new(status).into(),
                ));
            });
        })
        .await
    }

    /// The lock state of the version `version` names, and its version id; the errors of
    /// `versions::resolve`.
    pub async fn object_lock(
        &self,
        bucket: String,
        key: String,
        version: VersionRef,
    ) -> IndexResult<(LockState, String)> {
        self.bucket(&bucket)?;
        self.db
            .read(move |conn| {
                let id = versions::resolve(conn, &bucket, &key, &version)?;
                Ok((lock_of(conn, id)?, version_of(conn, id)?))
            })
            .await
    }

    /// Sets (or with `None` removes) the retention of one version, as S3 allows it
    /// (`versions::retention_change_allowed`; `bypass` is a governance bypass the caller was
    /// authorized for): `ObjectLocked` otherwise. Returns its version id.
    pub async fn set_retention(
        &self,
        bucket: String,
        key: String,
        version: VersionRef,
        retention: Option<(RetentionMode, i64)>,
        bypass: bool,
    ) -> IndexResult<String> {
        self.db
            .write(move |conn| {
                require_bucket(conn, &bucket)?;
                let id = versions::resolve(conn, &bucket, &key, &version)?;
                let old = lock_of(conn, id)?;
                if !versions::retention_change_allowed(old.retention, retention, now_ms(), bypass) {
                    return Err(IndexError::ObjectLocked);
                }
                let new = LockState {
                    retention,
                    legal_hold: old.legal_hold,
                };
                let (mode, until, _) = new.columns();
                conn.cached_execute(
                    "UPDATE objects SET lock_mode = ?2, lock_until = ?3 WHERE id = ?1",
                    (id, mode, until),
                )?;
                version_of(conn, id)
            })
            .await
    }

    /// Places or removes the legal hold of one version (anyone allowed to may do either).
    /// Returns its version id.
    pub async fn set_legal_hold(
        &self,
        bucket: String,
        key: String,
        version: VersionRef,
        hold: bool,
    ) -> IndexResult<String> {
        let sql = "UPDATE objects SET legal_hold = ?2 WHERE id = ?1";
        self.update_version(bucket, key, version, sql, hold).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_round_trip() {
        for config in [
            ObjectLockConfig::new(None),
            ObjectLockConfig::new(Some(DefaultRetention {
                mode: RetentionMode::Governance,
                period: RetentionPeriod::Days(30),
            })),
            ObjectLockConfig::new(Some(DefaultRetention {
                mode: RetentionMode::Compliance,
                period: RetentionPeriod::Years(7),
            })),
        ] {
            let text = <ObjectLockConfig as super::super::ConfigDocument>::document(&config);
            assert_eq!(ObjectLockConfig::parse(text), Some(config.clone()));
        }
        for bad in [
            "",
            "Disabled",
            "Enabled GOVERNANCE Days 0",
            "Enabled X Days 1",
        ] {
            assert_eq!(ObjectLockConfig::parse(bad), None, "{bad}");
        }
        let d = DefaultRetention {
            mode: RetentionMode::Governance,
            period: RetentionPeriod::Years(1),
        };
        assert_eq!(d.from(0), (RetentionMode::Governance, 365 * DAY_MS));
    }
}
