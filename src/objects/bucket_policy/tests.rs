//! The in-memory copy follows every committed policy write, survives a reopen, and turns a
//! stored document that no longer parses into a policy that denies everything; the generic
//! configuration store around it (kinds, state replacement, migration 3).

use std::future::Future;
use std::time::{Duration, Instant};

use std::path::Path;

use super::*;
use crate::objects::tests::config;
use crate::objects::{BucketConfig, ConfigKind, IndexError};
use crate::policy::eval::{evaluate, Caller, Context, Decision, Request};

fn public_read(bucket: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*",
            "Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
    )
}

fn policy(text: &str) -> BucketConfig {
    let document = document::parse(text, PolicyKind::Resource).expect("a valid policy");
    BucketConfig::Policy(Arc::new(BucketPolicy::new(text.to_owned(), &document)))
}

async fn open_with_bucket(dir: &Path) -> ObjectIndex {
    let index = ObjectIndex::open(dir, &config()).unwrap();
    index
        .create_bucket("b".into(), "us-east-1".into(), "111122223333".into())
        .await
        .unwrap();
    index
}

/// `open_with_bucket`, then bucket `b` given the `public_read` policy, whose text is returned.
async fn open_with_policy(dir: &Path) -> (ObjectIndex, String) {
    let index = open_with_bucket(dir).await;
    let text = public_read("b");
    index
        .put_bucket_config("b".into(), policy(&text))
        .await
        .unwrap();
    (index, text)
}

/// What the stored row says, read through SQLite rather than the copy.
async fn stored(index: &ObjectIndex, bucket: &str) -> Option<String> {
    let bucket = bucket.to_owned();
    index
        .db()
        .read(move |conn| {
            use crate::db::sql::OptionalExtension;
            let text = conn
                .query_row(
                    "SELECT document FROM bucket_configs WHERE bucket = ?1 AND kind = 'policy'",
                    [&bucket],
                    |r| r.get(0),
                )
                .optional()?;
            Ok::<_, IndexError>(text)
        })
        .await
        .unwrap()
}

fn cached(index: &ObjectIndex, bucket: &str) -> Option<String> {
    index.bucket_policy(bucket).map(|p| p.text.clone())
}

/// An anonymous GetObject of `b/k` under the bucket's cached policy.
fn anonymous_read(index: &ObjectIndex) -> Decision {
    let policy = index.bucket_policy("b").expect("a cached policy");
    let context = Context::new();
    let request = Request {
        action: "s3:GetObject",
        resource: "arn:aws:s3:::b/k",
        caller: None,
        context: &context,
    };
    evaluate(&[], Some(&policy.compiled), &request).decision
}

#[tokio::test]
async fn the_copy_follows_put_replace_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let index = open_with_bucket(dir.path()).await;
    assert!(index.bucket_policy("b").is_none());

    // Spacing and key order are the client's and must come back unchanged.
    let first = public_read("b");
    index
        .put_bucket_config("b".into(), policy(&first))
        .await
        .unwrap();
    assert_eq!(cached(&index, "b").as_deref(), Some(first.as_str()));
    assert_eq!(stored(&index, "b").await, Some(first.clone()));
    assert_eq!(anonymous_read(&index), Decision::Allowed);

    let second = first.replace("Allow", "Deny");
    index
        .put_bucket_config("b".into(), policy(&second))
        .await
        .unwrap();
    assert_eq!(cached(&index, "b").as_deref(), Some(second.as_str()));
    assert_eq!(anonymous_read(&index), Decision::ExplicitDeny);

    index
        .delete_bucket_config("b".into(), ConfigKind::Policy)
        .await
        .unwrap();
    assert!(index.bucket_policy("b").is_none());
    assert_eq!(stored(&index, "b").await, None);
    // Deleting a policy that is not there succeeds, as in S3.
    index
        .delete_bucket_config("b".into(), ConfigKind::Policy)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_missing_bucket_is_refused_and_cached_as_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let index = open_with_bucket(dir.path()).await;
    let put = index
        .put_bucket_config("nope".into(), policy(&public_read("nope")))
        .await;
    assert!(matches!(put, Err(IndexError::NoSuchBucket)), "{put:?}");
    assert!(index.bucket_policy("nope").is_none());
    let delete = index
        .delete_bucket_config("nope".into(), ConfigKind::Policy)
        .await;
    assert!(
        matches!(delete, Err(IndexError::NoSuchBucket)),
        "{delete:?}"
    );
}

#[tokio::test]
async fn deleting_the_bucket_deletes_its_policy() {
    let dir = tempfile::tempdir().unwrap();
    let (index, _) = open_with_policy(dir.path()).await;
    index.delete_bucket("b".into()).await.unwrap();
    assert!(index.bucket_policy("b").is_none());
    index
        .create_bucket("b".into(), "us-east-1".into(), "111122223333".into())
        .await
        .unwrap();
    assert!(index.bucket_policy("b").is_none());
    assert_eq!(stored(&index, "b").await, None);
}

#[tokio::test]
async fn a_refused_bucket_deletion_keeps_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let (index, text) = open_with_policy(dir.path()).await;
    index
        .put_object(
            crate::objects::tests::object("b", "k", "e"),
            crate::objects::WriteCondition::Always,
        )
        .await
        .unwrap();
    let deleted = index.delete_bucket("b".into()).await;
    assert!(
        matches!(deleted, Err(IndexError::BucketNotEmpty)),
        "{deleted:?}"
    );
    assert_eq!(cached(&index, "b"), Some(text));
}

#[tokio::test]
async fn policies_are_loaded_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let text = {
        let (index, text) = open_with_policy(dir.path()).await;
        index.db().close().await;
        text
    };
    let index = ObjectIndex::open(dir.path(), &config()).unwrap();
    assert_eq!(cached(&index, "b"), Some(text));
    assert_eq!(anonymous_read(&index), Decision::Allowed);
}

#[tokio::test]
async fn a_stored_policy_that_no_longer_parses_denies_everything() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (index, _) = open_with_policy(dir.path()).await;
        // Damage the row behind the index's back.
        index
            .db()
            .write(|conn| {
                conn.execute("UPDATE bucket_configs SET document = '{\"Statement\":'", [])?;
                Ok::<_, IndexError>(())
            })
            .await
            .unwrap();
        index.db().close().await;
    }
    let index = ObjectIndex::open(dir.path(), &config()).unwrap();
    assert_eq!(cached(&index, "b").as_deref(), Some("{\"Statement\":"));
    assert_eq!(anonymous_read(&index), Decision::ExplicitDeny);
    let policy = index.bucket_policy("b").unwrap();
    let context = Context::new();
    let root = Caller {
        arn: "arn:aws:iam::111122223333:root",
        account: "111122223333",
        is_root: true,
        role_arn: None,
    };
    let request = Request {
        action: "s3:ListBucket",
        resource: "arn:aws:s3:::b",
        caller: Some(root),
        context: &context,
    };
    let decision = evaluate(&[], Some(&policy.compiled), &request).decision;
    assert_eq!(decision, Decision::ExplicitDeny);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_leave_the_copy_equal_to_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let index = open_with_bucket(dir.path()).await;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let index = index.clone();
        tasks.push(tokio::spawn(async move {
            if i % 3 == 0 {
                index
                    .delete_bucket_config("b".into(), ConfigKind::Policy)
                    .await
            } else {
                let text = public_read("b")
                    .replace("\"Statement\"", &format!("\"Id\":\"p{i}\",\"Statement\""));
                index.put_bucket_config("b".into(), policy(&text)).await
            }
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(cached(&index, "b"), stored(&index, "b").await);
}

/// A request dropped while its policy write is in flight (a client hanging up) must not leave
/// the commit out of the copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_request_still_updates_the_copy() {
    let dir = tempfile::tempdir().unwrap();
    let index = open_with_bucket(dir.path()).await;
    let text = public_read("b");
    let mut put = Box::pin(index.put_bucket_config("b".into(), policy(&text)));
    // Polled once (the write is queued, its answer not yet in), then dropped.
    let _ = std::future::poll_fn(|cx| std::task::Poll::Ready(put.as_mut().poll(cx))).await;
    drop(put);
    let deadline = Instant::now() + Duration::from_secs(10);
    while stored(&index, "b").await.is_none() || cached(&index, "b").is_none() {
        assert!(
            Instant::now() < deadline,
            "the write never landed in the copy"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(cached(&index, "b"), Some(text));
}

#[tokio::test]
async fn a_configuration_write_replaces_the_state_and_keeps_the_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let index = open_with_bucket(dir.path()).await;
    let before = index.bucket("b").unwrap();
    let text = public_read("b");
    index
        .put_bucket_config("b".into(), policy(&text))
        .await
        .unwrap();
    let after = index.bucket("b").unwrap();
    assert_eq!(
        (&after.region, after.created_at, &after.owner),
        (&before.region, before.created_at, &before.owner)
    );
    assert_eq!(
        after.configs.policy.as_ref().map(|p| p.text.as_str()),
        Some(text.as_str())
    );
    // A request that read the state before the write keeps what it read.
    assert!(before.configs.policy.is_none());
}

#[test]
fn every_kind_has_its_own_stored_name() {
    let mut names = std::collections::HashSet::new();
    for kind in ConfigKind::ALL {
        assert!(names.insert(kind.name()), "{kind:?}");
        assert_eq!(ConfigKind::from_name(kind.name()), Some(*kind));
    }
    assert_eq!(ConfigKind::from_name("nonsense"), None);
}

#[tokio::test]
async fn a_stored_configuration_of_an_unknown_kind_is_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let text = {
        let (index, text) = open_with_policy(dir.path()).await;
        index
            .db()
            .write(|conn| {
                conn.execute(
                    "INSERT INTO bucket_configs (bucket, kind, document, updated_at)
                     VALUES ('b', 'from-the-future', '<x/>', 0)",
                    [],
                )?;
                Ok::<_, IndexError>(())
            })
            .await
            .unwrap();
        index.db().close().await;
        text
    };
    let index = ObjectIndex::open(dir.path(), &config()).unwrap();
    assert_eq!(cached(&index, "b"), Some(text));
}

/// Migration 3 moves every policy of `bucket_policies` (migration 2) into `bucket_configs` and
/// drops the old table.
#[tokio::test]
async fn the_migration_carries_stored_policies_over() {
    use crate::db::Db;
    use crate::objects::MIGRATIONS;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metadata").join("objects.db");
    let text = public_read("b");
    {
        let old = Db::open("objects", &path, &config(), &MIGRATIONS[..2]).unwrap();
        let row = text.clone();
        old.write(move |conn| {
            conn.execute(
                "INSERT INTO buckets (name, created_at, region) VALUES ('b', 5, 'eu-west-3')",
                [],
            )?;
            conn.execute(
                "INSERT INTO bucket_policies (bucket, policy, updated_at) VALUES ('b', ?1, 6)",
                [&row],
            )?;
            Ok::<_, IndexError>(())
        })
        .await
        .unwrap();
        old.close().await;
    }
    let index = ObjectIndex::open(dir.path(), &config()).unwrap();
    assert_eq!(cached(&index, "b"), Some(text.clone()));
    assert_eq!(stored(&index, "b").await, Some(text));
    assert_eq!(anonymous_read(&index), Decision::Allowed);
    let bucket = index.bucket("b").unwrap();
    assert_eq!((bucket.created_at, bucket.owner.as_deref()), (5, None));
    let old_table: Option<String> = index
        .db()
        .read(|conn| {
            use crate::db::sql::OptionalExtension;
            let name = conn
                .query_row(
                    "SELECT name FROM sqlite_master WHERE name = 'bucket_policies'",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            Ok::<_, IndexError>(name)
        })
        .await
        .unwrap();
    assert_eq!(old_table, None);
}
