//! Lifecycle: the `lifecycle` kind of bucket configuration (its rules, stored as JSON and
//! parsed once into memory), what a rule asks of one key's versions (`plan`, pure), and the
//! index reads and writes the lifecycle worker (`crate::lifecycle`) makes: a page of keys with
//! their versions, one action applied in its own small transaction after checking that the
//! version is still what was planned, the uploads a rule aborts, and the worker's resumable
//! place in each bucket.

use crate::db::sql::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::bucket_config::ConfigDocument;
use super::versions::{self, LockState, VersionRef};
use super::{decode_tags, IndexError, IndexResult, ObjectIndex, Tags};
use crate::storage::BlobId;

/// Which objects a rule applies to: every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleFilter {
    pub prefix: String,
    pub tags: Tags,
    pub size_greater_than: Option<u64>,
    pub size_less_than: Option<u64>,
    /// How the client wrote it, so that GetBucketLifecycleConfiguration answers the same shape.
    pub shape: FilterShape,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum FilterShape {
    /// The rule's own `<Prefix>` (the older grammar).
    Legacy,
    /// `<Filter/>` or `<Filter><Prefix/></Filter>`-style single conditions.
    #[default]
    Empty,
    Prefix,
    Tag,
    GreaterThan,
    LessThan,
    And,
}

impl RuleFilter {
    /// Whether the filter selects an object of `key`, `size` bytes and tags `tags`.
    pub fn matches(&self, key: &str, size: u64, tags: &Tags) -> bool {
        key.starts_with(&self.prefix)
            && self.size_greater_than.is_none_or(|n| size > n)
            && self.size_less_than.is_none_or(|n| size < n)
            && self
                .tags
                .iter()
                .all(|(k, v)| tags.iter().any(|(tk, tv)| tk == k && tv == v))
    }
}

/// `<Expiration>`: exactly one of the three.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiration {
    pub days: Option<u32>,
    /// Unix milliseconds of a UTC midnight.
    pub date: Option<i64>,
    pub expired_object_delete_marker: bool,
}

/// `<NoncurrentVersionExpiration>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoncurrentExpiration {
    pub days: u32,
    /// How many of the newest noncurrent versions are kept whatever their age.
    pub newer: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub id: String,
    pub enabled: bool,
    pub filter: RuleFilter,
    pub expiration: Option<Expiration>,
    pub noncurrent: Option<NoncurrentExpiration>,
    pub abort_after_days: Option<u32>,
}

/// A bucket's lifecycle rules, validated by the S3 layer before they are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleConfig {
    text: String,
    pub rules: Vec<Rule>,
}

impl LifecycleConfig {
    pub fn new(rules: Vec<Rule>) -> LifecycleConfig {
        LifecycleConfig {
            text: serde_json::to_string(&rules).unwrap_or_else(|_| "[]".into()),
            rules,
        }
    }
}

impl ConfigDocument for LifecycleConfig {
    /// A stored document that no longer parses (damage) is logged and read as no rules: the
    /// harmless failure is to expire nothing.
    fn load(bucket: &str, text: String) -> LifecycleConfig {
        match serde_json::from_str::<Vec<Rule>>(&text) {
            Ok(rules) => LifecycleConfig { text, rules },
            Err(e) => {
                tracing::error!(bucket, error = %e, "the stored lifecycle rules do not parse; none apply");
                LifecycleConfig {
                    text,
                    rules: Vec::new(),
                }
            }
        }
    }

    fn document(&self) -> &str {
        &self.text
    }
}

/// One row of a key, as the worker sees it.
#[derive(Debug, Clone)]
pub struct VersionRow {
    /// The ordering id (`versions`), which names the row in `VersionRef::Id`.
    pub version: String,
    pub current: bool,
    pub delete_marker: bool,
    pub size: u64,
    pub last_modified: i64,
    pub tags: Tags,
    pub lock: LockState,
}

/// A key and its rows, newest first.
#[derive(Debug, Clone)]
pub struct KeyVersions {
    pub key: String,
    pub rows: Vec<VersionRow>,
}

/// What a rule does to one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Expire the current version (a delete marker on a versioned bucket, removal otherwise).
    ExpireCurrent { key: String, version: String },
    /// Remove a noncurrent version for good.
    RemoveNoncurrent { key: String, version: String },
    /// Remove a delete marker that has no version left behind it.
    RemoveMarker { key: String, version: String },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::ExpireCurrent { .. } => "expire_current",
            Action::RemoveNoncurrent { .. } => "expire_noncurrent",
            Action::RemoveMarker { .. } => "remove_delete_marker",
        }
    }
}

/// When an object written at `written` (Unix ms) is `days` old. With S3's day, the time is
/// rounded up to the next midnight UTC, as S3 computes expiry dates; a shortened day (tests)
/// counts from the write itself.
pub fn after_days(written: i64, days: u32, day_ms: i64) -> i64 {
    let at = written.saturating_add(i64::from(days).saturating_mul(day_ms));
    if day_ms == 86_400_000 {
        at.saturating_add(day_ms - 1).div_euclid(day_ms) * day_ms
    } else {
        at
    }
}

/// What the enabled rules ask of one key at `now` (Unix ms), with a day of `day_ms`.
pub fn plan(rules: &[Rule], key: &KeyVersions, now: i64, day_ms: i64) -> Vec<Action> {
    let mut actions = Vec::new();
    let rules: Vec<&Rule> = rules.iter().filter(|r| r.enabled).collect();
    let Some(newest) = key.rows.first() else {
        return actions;
    };
    // The current version.
    if newest.current && !newest.delete_marker {
        let expired = rules.iter().any(|r| {
            r.filter.matches(&key.key, newest.size, &newest.tags)
                && r.expiration.as_ref().is_some_and(|e| {
                    e.days
                        .is_some_and(|d| now >= after_days(newest.last_modified, d, day_ms))
                        || e.date.is_some_and(|d| now >= d)
                })
        });
        if expired {
            actions.push(Action::ExpireCurrent {
                key: key.key.clone(),
                version: newest.version.clone(),
            });
        }
    }
    // Noncurrent versions: each became noncurrent when the next newer row was written.
    let mut kept = 0u32;
    for pair in key.rows.windows(2) {
        let (newer, row) = (&pair[0], &pair[1]);
        let expires = rules.iter().any(|r| {
            r.filter.matches(&key.key, row.size, &row.tags)
                && r.noncurrent.as_ref().is_some_and(|n| {
                    kept >= n.newer.unwrap_or(0)
                        && now >= after_days(newer.last_modified, n.days, day_ms)
                })
        });
        if expires && row.lock.allows_removal(now, false) {
            actions.push(Action::RemoveNoncurrent {
                key: key.key.clone(),
                version: row.version.clone(),
            });
        } else {
            kept += 1;
        }
    }
    // A delete marker with nothing behind it.
    if key.rows.len() == 1 && newest.delete_marker {
        let remove = rules.iter().any(|r| {
            r.filter.matches(&key.key, 0, &Tags::new())
                && r.expiration
                    .as_ref()
                    .is_some_and(|e| e.expired_object_delete_marker)
        });
        if remove {
            actions.push(Action::RemoveMarker {
                key: key.key.clone(),
                version: newest.version.clone(),
            });
        }
    }
    actions
}

/// What applying one action did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Whether it changed anything (the version was still as planned and not locked).
    pub done: bool,
    /// Whether Object Lock kept the version.
    pub locked: bool,
    pub blobs: Vec<BlobId>,
}

impl ObjectIndex {
    /// Up to `limit` keys of `bucket` after `after`, each with every row, newest first; the
    /// keys come in key order, so the last one is where the next page starts.
    pub async fn lifecycle_page(
        &self,
        bucket: String,
        after: String,
        limit: usize,
    ) -> IndexResult<Vec<KeyVersions>> {
        self.db
            .read(move |conn| lifecycle_page(conn, &bucket, &after, limit))
            .await
    }

    /// Applies `action` in its own transaction, if the row it names is still as planned.
    pub async fn lifecycle_apply(&self, bucket: String, action: Action) -> IndexResult<Applied> {
        self.db
            .write(move |conn| lifecycle_apply(conn, &bucket, &action))
            .await
    }

    /// Uploads of `bucket` under `prefix` initiated before `before` (Unix ms): (key, id).
    pub async fn stale_uploads(
        &self,
        bucket: String,
        prefix: String,
        before: i64,
    ) -> IndexResult<Vec<(String, String)>> {
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT key, id FROM uploads WHERE bucket = ?1 AND initiated < ?2 ORDER BY key, id LIMIT 1000",
                )?;
                let rows = stmt.query_map((&bucket, before), |r| Ok((r.get(0)?, r.get(1)?)))?;
                let all: Vec<(String, String)> = rows.collect::<Result<_, _>>()?;
                Ok(all.into_iter().filter(|(k, _)| k.starts_with(&prefix)).collect())
            })
            .await
    }

    /// Where the worker left off in `bucket` ("" for the start of a pass).
    pub async fn lifecycle_cursor(&self, bucket: String) -> IndexResult<String> {
        self.db
            .read(move |conn| {
                let after: Option<String> = conn
                    .cached_row(
                        "SELECT after_key FROM lifecycle_progress WHERE bucket = ?1",
                        [&bucket],
                        |r| r.get(0),
                    )
                    .optional()?;
                Ok(after.unwrap_or_default())
            })
            .await
    }

    pub async fn set_lifecycle_cursor(&self, bucket: String, after: String) -> IndexResult<()> {
        self.db
            .write(move |conn| {
                conn.cached_execute(
                    "INSERT INTO lifecycle_progress (bucket, after_key) VALUES (?1, ?2)
                     ON CONFLICT (bucket) DO UPDATE SET after_key = excluded.after_key",
                    (&bucket, &after),
                )?;
                Ok::<_, IndexError>(())
            })
            .await
    }
}

fn lifecycle_page(
    conn: &Connection,
    bucket: &str,
    after: &str,
    limit: usize,
) -> IndexResult<Vec<KeyVersions>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let last: Option<String> = conn
        .cached_row(
            "SELECT max(key) FROM (SELECT DISTINCT key FROM objects WHERE bucket = ?1 AND key > ?2 ORDER BY key LIMIT ?3) AS page",
            (bucket, after, limit),
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let Some(last) = last else {
        return Ok(Vec::new());
    };
    let mut stmt = conn.prepare_cached(
        "SELECT key, version, current, delete_marker, size, last_modified, tags, lock_mode, lock_until, legal_hold
         FROM objects WHERE bucket = ?1 AND key > ?2 AND key <= ?3 ORDER BY key, version",
    )?;
    let mut rows = stmt.query((bucket, after, &last))?;
    let mut keys: Vec<KeyVersions> = Vec::new();
    while let Some(r) = rows.next()? {
        let key: String = r.get(0)?;
        let row = VersionRow {
            version: r.get(1)?,
            current: r.get(2)?,
            delete_marker: r.get(3)?,
            size: r.get(4)?,
            last_modified: r.get(5)?,
            tags: decode_tags(r.get(6)?),
            lock: LockState::from_columns(r.get_ref(7)?.as_str_or_null()?, r.get(8)?, r.get(9)?),
        };
        match keys.last_mut() {
            Some(k) if k.key == key => k.rows.push(row),
            _ => keys.push(KeyVersions {
                key,
                rows: vec![row],
            }),
        }
    }
    Ok(keys)
}

fn lifecycle_apply(conn: &Connection, bucket: &str, action: &Action) -> IndexResult<Applied> {
    let row = |key: &str, version: &str| -> IndexResult<Option<(bool, bool)>> {
        Ok(conn
            .cached_row(
                "SELECT current, delete_marker FROM objects WHERE bucket = ?1 AND key = ?2 AND version = ?3",
                (bucket, key, version),
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    };
    let removed = |result: IndexResult<versions::Deleted>| match result {
        Ok(deleted) => Ok(Applied {
            done: true,
            locked: false,
            blobs: deleted.blobs,
        }),
        Err(IndexError::ObjectLocked) => Ok(Applied {
            locked: true,
            ..Applied::default()
        }),
        Err(e) => Err(e),
    };
    match action {
        Action::ExpireCurrent { key, version } => {
            // Still the current version: an overwrite since the plan is not expired.
            if row(key, version)? != Some((true, false)) {
                return Ok(Applied::default());
            }
            removed(versions::delete(
                conn,
                bucket,
                key,
                &VersionRef::Current,
                false,
            ))
        }
        Action::RemoveNoncurrent { key, version } => {
            if !matches!(row(key, version)?, Some((false, _))) {
                return Ok(Applied::default());
            }
            let id = VersionRef::Id(version.clone());
            removed(versions::delete(conn, bucket, key, &id, false))
        }
        Action::RemoveMarker { key, version } => {
            let count: i64 = conn.cached_row(
                "SELECT count(*) FROM objects WHERE bucket = ?1 AND key = ?2",
                (bucket, key),
                |r| r.get(0),
            )?;
            if count != 1 || row(key, version)?.is_none_or(|(_, marker)| !marker) {
                return Ok(Applied::default());
            }
            let id = VersionRef::Id(version.clone());
            removed(versions::delete(conn, bucket, key, &id, false))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 1000;

    fn row(version: &str, current: bool, marker: bool, written: i64) -> VersionRow {
        VersionRow {
            version: version.into(),
            current,
            delete_marker: marker,
            size: 10,
            last_modified: written,
            tags: Tags::new(),
            lock: LockState::default(),
        }
    }

    fn rule(expiration: Option<Expiration>, noncurrent: Option<NoncurrentExpiration>) -> Rule {
        Rule {
            id: "r".into(),
            enabled: true,
            filter: RuleFilter {
                prefix: "logs/".into(),
                ..RuleFilter::default()
            },
            expiration,
            noncurrent,
            abort_after_days: None,
        }
    }

    #[test]
    fn current_versions_expire_after_their_days_under_the_prefix_only() {
        let rules = [rule(
            Some(Expiration {
                days: Some(2),
                ..Expiration::default()
            }),
            None,
        )];
        let key = |name: &str| KeyVersions {
            key: name.into(),
            rows: vec![row("a", true, false, 0)],
        };
        assert!(plan(&rules, &key("logs/x"), 1999, DAY).is_empty());
        assert_eq!(plan(&rules, &key("logs/x"), 2000, DAY).len(), 1);
        assert!(plan(&rules, &key("other/x"), 9999, DAY).is_empty());
        let mut off = rules.clone();
        off[0].enabled = false;
        assert!(plan(&off, &key("logs/x"), 9999, DAY).is_empty());
    }

    #[test]
    fn noncurrent_versions_count_from_their_successor_and_keep_the_newest() {
        let rules = [rule(
            None,
            Some(NoncurrentExpiration {
                days: 1,
                newer: Some(1),
            }),
        )];
        let key = KeyVersions {
            key: "logs/k".into(),
            rows: vec![
                row("a", true, false, 5000),
                row("b", false, false, 3000),
                row("c", false, false, 1000),
            ],
        };
        // b became noncurrent at 5000, c at 3000; one noncurrent version is kept (b).
        let actions = plan(&rules, &key, 6500, DAY);
        assert_eq!(
            actions,
            [Action::RemoveNoncurrent {
                key: "logs/k".into(),
                version: "c".into()
            }]
        );
        assert!(plan(&rules, &key, 3999, DAY).is_empty());
    }

    #[test]
    fn a_locked_version_is_never_planned_for_removal() {
        let rules = [rule(
            None,
            Some(NoncurrentExpiration {
                days: 1,
                newer: None,
            }),
        )];
        let mut locked = row("b", false, false, 0);
        locked.lock = LockState::from_columns(None, None, Some(true));
        let key = KeyVersions {
            key: "logs/k".into(),
            rows: vec![row("a", true, false, 1000), locked],
        };
        assert!(plan(&rules, &key, 99_999, DAY).is_empty());
    }

    #[test]
    fn a_lone_delete_marker_is_removed_when_a_rule_says_so() {
        let rules = [rule(
            Some(Expiration {
                expired_object_delete_marker: true,
                ..Expiration::default()
            }),
            None,
        )];
        let lone = KeyVersions {
            key: "logs/k".into(),
            rows: vec![row("m", false, true, 0)],
        };
        assert_eq!(plan(&rules, &lone, 0, DAY).len(), 1);
        let behind = KeyVersions {
            key: "logs/k".into(),
            rows: vec![row("m", false, true, 0), row("v", false, false, 0)],
        };
        assert!(plan(&rules, &behind, 0, DAY).is_empty());
    }

    #[test]
    fn filters_select_by_prefix_tags_and_size_together() {
        let filter = RuleFilter {
            prefix: "a/".into(),
            tags: vec![("k".into(), "v".into())],
            size_greater_than: Some(10),
            size_less_than: Some(100),
            shape: FilterShape::And,
        };
        let tags: Tags = vec![("x".into(), "y".into()), ("k".into(), "v".into())];
        assert!(filter.matches("a/1", 50, &tags));
        assert!(!filter.matches("b/1", 50, &tags), "prefix");
        assert!(!filter.matches("a/1", 10, &tags), "greater than is strict");
        assert!(!filter.matches("a/1", 100, &tags), "less than is strict");
        assert!(
            !filter.matches("a/1", 50, &vec![("k".into(), "w".into())]),
            "tag value"
        );
        assert!(RuleFilter::default().matches("anything", 0, &Tags::new()));
    }

    #[tokio::test]
    async fn pages_follow_key_order_and_the_cursor_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let index = ObjectIndex::open(dir.path(), &super::super::tests::config()).unwrap();
        index
            .create_bucket("b".into(), "us-east-1".into(), "111122223333".into())
            .await
            .unwrap();
        for key in ["c", "a", "b", "d"] {
            let object = super::super::tests::object("b", key, "e");
            index
                .put_object(object, super::super::WriteCondition::Always)
                .await
                .unwrap();
        }
        let page = index
            .lifecycle_page("b".into(), String::new(), 3)
            .await
            .unwrap();
        let keys: Vec<&str> = page.iter().map(|k| k.key.as_str()).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        let rest = index
            .lifecycle_page("b".into(), "c".into(), 3)
            .await
            .unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].key, "d");
        assert!(rest[0].rows[0].current);
        index
            .set_lifecycle_cursor("b".into(), "c".into())
            .await
            .unwrap();
        index.db().close().await;
        drop(index);
        let index = ObjectIndex::open(dir.path(), &super::super::tests::config()).unwrap();
        assert_eq!(index.lifecycle_cursor("b".into()).await.unwrap(), "c");
    }

    #[test]
    fn s3_days_end_at_the_next_utc_midnight() {
        let day = 86_400_000;
        assert_eq!(after_days(0, 1, day), day);
        assert_eq!(after_days(1, 1, day), 2 * day);
        assert_eq!(after_days(5, 3, 1000), 3005);
    }
}
