//! Lifecycle rules with the AWS SDK: the configuration API, and the worker applying rules
//! with a shortened day (`backend.s3.lifecycle.day_seconds` = 1, a step every 50 ms):
//! expiration of current versions, noncurrent versions, lone delete markers and incomplete
//! uploads, a version under legal hold surviving, and a pass over more keys than one step
//! examines.

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketVersioningStatus,
    ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
    NoncurrentVersionExpiration, ObjectLockLegalHold, ObjectLockLegalHoldStatus, Transition,
    TransitionStorageClass, VersioningConfiguration,
};
use aws_sdk_s3::Client;
use common::TestServer;

const B: &str = "aging";

fn start(dir: &Path, keys_per_tick: &str) -> (TestServer, Client) {
    let server = TestServer::start_with(
        dir,
        &[
            ("LABSTORE_BACKEND_S3_LIFECYCLE_DAY_SECONDS", "1"),
            ("LABSTORE_BACKEND_S3_LIFECYCLE_INTERVAL_MS", "50"),
            ("LABSTORE_BACKEND_S3_LIFECYCLE_KEYS_PER_TICK", keys_per_tick),
        ],
    )
    .unwrap_or_else(|e| panic!("the server did not start: {e}"));
    let s3 = server.root_s3();
    (server, s3)
}

fn rule(id: &str, prefix: &str) -> aws_sdk_s3::types::builders::LifecycleRuleBuilder {
    LifecycleRule::builder()
        .id(id)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix(prefix).build())
}

/// PutBucketLifecycleConfiguration of `rules`; the error code when refused.
async fn try_rules(s3: &Client, rules: Vec<LifecycleRule>) -> Result<(), String> {
    let sent = s3
        .put_bucket_lifecycle_configuration()
        .bucket(B)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .set_rules(Some(rules))
                .build()
                .unwrap(),
        )
        .send()
        .await;
    match sent {
        Ok(_) => Ok(()),
        Err(_) => Err(common::error_code(sent)),
    }
}

async fn set_rules(s3: &Client, rules: Vec<LifecycleRule>) {
    try_rules(s3, rules).await.unwrap();
}

async fn put(s3: &Client, key: &str, body: &'static [u8]) -> Option<String> {
    s3.put_object()
        .bucket(B)
        .key(key)
        .body(ByteStream::from_static(body))
        .send()
        .await
        .unwrap()
        .version_id()
        .map(str::to_owned)
}

/// Every (key, version id, is a delete marker) in the bucket.
async fn versions(s3: &Client) -> Vec<(String, String, bool)> {
    let out = s3.list_object_versions().bucket(B).send().await.unwrap();
    let mut all: Vec<(String, String, bool)> = out
        .versions()
        .iter()
        .map(|v| {
            (
                v.key().unwrap().to_owned(),
                v.version_id().unwrap_or("null").to_owned(),
                false,
            )
        })
        .chain(out.delete_markers().iter().map(|m| {
            (
                m.key().unwrap().to_owned(),
                m.version_id().unwrap_or("null").to_owned(),
                true,
            )
        }))
        .collect();
    all.sort();
    all
}

/// Polls `done` until it holds, for at most 15 s.
async fn eventually<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done().await {
        assert!(Instant::now() < deadline, "lifecycle never got to: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn the_configuration_is_kept_answered_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start(dir.path(), "1000");
    server.block_on(async {
        s3.create_bucket().bucket(B).send().await.unwrap();
        let none = s3
            .get_bucket_lifecycle_configuration()
            .bucket(B)
            .send()
            .await;
        assert_eq!(common::error_code(none), "NoSuchLifecycleConfiguration");
        let rules = vec![
            rule("logs", "logs/")
                .expiration(LifecycleExpiration::builder().days(30).build())
                .noncurrent_version_expiration(
                    NoncurrentVersionExpiration::builder()
                        .noncurrent_days(7)
                        .newer_noncurrent_versions(2)
                        .build(),
                )
                .abort_incomplete_multipart_upload(
                    AbortIncompleteMultipartUpload::builder()
                        .days_after_initiation(3)
                        .build(),
                )
                .build()
                .unwrap(),
            rule("markers", "")
                .expiration(
                    LifecycleExpiration::builder()
                        .expired_object_delete_marker(true)
                        .build(),
                )
                .build()
                .unwrap(),
        ];
        set_rules(&s3, rules).await;
        let got = s3
            .get_bucket_lifecycle_configuration()
            .bucket(B)
            .send()
            .await
            .unwrap();
        let rules = got.rules();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].id(), Some("logs"));
        assert_eq!(rules[0].expiration().unwrap().days(), Some(30));
        let noncurrent = rules[0].noncurrent_version_expiration().unwrap();
        assert_eq!(
            (
                noncurrent.noncurrent_days(),
                noncurrent.newer_noncurrent_versions()
            ),
            (Some(7), Some(2))
        );
        assert_eq!(
            rules[0].filter().unwrap().prefix(),
            Some("logs/"),
            "{rules:?}"
        );
        assert_eq!(
            rules[1]
                .expiration()
                .unwrap()
                .expired_object_delete_marker(),
            Some(true)
        );

        // A transition names a storage class this server does not have.
        let transition = rule("cold", "")
            .transitions(
                Transition::builder()
                    .days(30)
                    .storage_class(TransitionStorageClass::Glacier)
                    .build(),
            )
            .build()
            .unwrap();
        assert_eq!(
            try_rules(&s3, vec![transition]).await,
            Err("InvalidStorageClass".to_owned())
        );
        let zero = rule("zero", "")
            .expiration(LifecycleExpiration::builder().days(0).build())
            .build()
            .unwrap();
        assert_eq!(
            try_rules(&s3, vec![zero]).await,
            Err("InvalidArgument".to_owned())
        );

        s3.delete_bucket_lifecycle().bucket(B).send().await.unwrap();
        let gone = s3
            .get_bucket_lifecycle_configuration()
            .bucket(B)
            .send()
            .await;
        assert_eq!(common::error_code(gone), "NoSuchLifecycleConfiguration");
        let missing = s3
            .get_bucket_lifecycle_configuration()
            .bucket("no-such-bucket")
            .send()
            .await;
        assert_eq!(common::error_code(missing), "NoSuchBucket");
    });
    server.stop();
}

/// The lifecycle operations are authorized as AWS names them: reading needs
/// `s3:GetLifecycleConfiguration`, putting and deleting `s3:PutLifecycleConfiguration`.
#[test]
fn the_configuration_needs_its_own_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start(dir.path(), "1000");
    server.block_on(async {
        s3.create_bucket().bucket(B).send().await.unwrap();
        let days = |id: &str| {
            rule(id, "")
                .expiration(LifecycleExpiration::builder().days(1).build())
                .build()
                .unwrap()
        };
        set_rules(&s3, vec![days("root")]).await;
        let reader = server
            .with_user(&format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetLifecycleConfiguration","Resource":"arn:aws:s3:::{B}"}}]}}"#
            ))
            .await;
        let got = reader
            .s3
            .get_bucket_lifecycle_configuration()
            .bucket(B)
            .send()
            .await
            .unwrap();
        assert_eq!(got.rules()[0].id(), Some("root"));
        assert_eq!(
            try_rules(&reader.s3, vec![days("mine")]).await,
            Err("AccessDenied".to_owned())
        );
        let delete = reader.s3.delete_bucket_lifecycle().bucket(B).send().await;
        assert_eq!(common::error_code(delete), "AccessDenied");
        let writer = server
            .with_user(&format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:PutLifecycleConfiguration","Resource":"arn:aws:s3:::{B}"}}]}}"#
            ))
            .await;
        try_rules(&writer.s3, vec![days("writer")]).await.unwrap();
        writer
            .s3
            .delete_bucket_lifecycle()
            .bucket(B)
            .send()
            .await
            .unwrap();
        let read = writer.s3.get_bucket_lifecycle_configuration().bucket(B).send().await;
        assert_eq!(common::error_code(read), "AccessDenied");
        let missing = s3.delete_bucket_lifecycle().bucket("no-such-bucket").send().await;
        assert_eq!(common::error_code(missing), "NoSuchBucket");
    });
    server.stop();
}

#[test]
fn current_versions_expire_under_their_prefix_and_announce_it() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start(dir.path(), "2");
    server.block_on(async {
        s3.create_bucket().bucket(B).send().await.unwrap();
        set_rules(
            &s3,
            vec![rule("old", "old/")
                .expiration(LifecycleExpiration::builder().days(2).build())
                .build()
                .unwrap()],
        )
        .await;
        // More keys than one step examines: the pass goes on where the last step stopped.
        for key in ["old/a", "old/b", "old/c", "old/d", "old/e", "keep/x"] {
            put(&s3, key, b"data").await;
        }
        let head = s3
            .head_object()
            .bucket(B)
            .key("old/a")
            .send()
            .await
            .unwrap();
        let announced = head.expiration().unwrap_or_default().to_owned();
        assert!(
            announced.starts_with("expiry-date=\"") && announced.ends_with("rule-id=\"old\""),
            "{announced}"
        );
        let kept = s3
            .head_object()
            .bucket(B)
            .key("keep/x")
            .send()
            .await
            .unwrap();
        assert_eq!(kept.expiration(), None);
        eventually("expiring old/*", || async {
            versions(&s3).await.len() == 1
        })
        .await;
        assert_eq!(versions(&s3).await[0].0, "keep/x");
    });
    let metrics = common::get(server.admin, "/metrics").body;
    assert!(
        metrics.contains("labstore_lifecycle_actions_total{action=\"expire_current\"} 5"),
        "{metrics}"
    );
    server.stop();
}

#[test]
fn versioned_keys_age_out_version_by_version_and_a_held_one_stays() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start(dir.path(), "1000");
    server.block_on(async {
        s3.create_bucket()
            .bucket(B)
            .object_lock_enabled_for_bucket(true)
            .send()
            .await
            .unwrap();
        s3.put_bucket_versioning()
            .bucket(B)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let held = put(&s3, "held", b"v1").await.unwrap();
        s3.put_object_legal_hold()
            .bucket(B)
            .key("held")
            .version_id(&held)
            .legal_hold(
                ObjectLockLegalHold::builder()
                    .status(ObjectLockLegalHoldStatus::On)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        put(&s3, "held", b"v2").await;
        put(&s3, "k", b"v1").await;
        put(&s3, "k", b"v2").await;
        set_rules(
            &s3,
            vec![
                rule("age", "")
                    .expiration(LifecycleExpiration::builder().days(2).build())
                    .noncurrent_version_expiration(
                        NoncurrentVersionExpiration::builder()
                            .noncurrent_days(1)
                            .build(),
                    )
                    .build()
                    .unwrap(),
                rule("markers", "k")
                    .expiration(
                        LifecycleExpiration::builder()
                            .expired_object_delete_marker(true)
                            .build(),
                    )
                    .build()
                    .unwrap(),
            ],
        )
        .await;
        // k: v1 goes (noncurrent), v2 expires into a delete marker, then goes too, and the
        // marker left alone goes last. held: its held v1 stays through all of it.
        eventually("k's versions and marker removed", || async {
            let all = versions(&s3).await;
            !all.iter().any(|(key, _, _)| key == "k")
                && all.iter().any(|(key, _, marker)| key == "held" && *marker)
        })
        .await;
        let all = versions(&s3).await;
        assert!(
            all.iter().any(|(key, id, _)| key == "held" && *id == held),
            "the held version survives: {all:?}"
        );
        let read = s3
            .get_object()
            .bucket(B)
            .key("held")
            .version_id(&held)
            .send()
            .await
            .unwrap();
        assert_eq!(read.body.collect().await.unwrap().to_vec(), b"v1");
    });
    server.stop();
}

#[test]
fn incomplete_uploads_are_aborted_with_their_parts() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start(dir.path(), "1000");
    server.block_on(async {
        s3.create_bucket().bucket(B).send().await.unwrap();
        let upload = s3
            .create_multipart_upload()
            .bucket(B)
            .key("tmp/big")
            .send()
            .await
            .unwrap();
        let id = upload.upload_id().unwrap();
        s3.upload_part()
            .bucket(B)
            .key("tmp/big")
            .upload_id(id)
            .part_number(1)
            .body(ByteStream::from(vec![1u8; 100 * 1024]))
            .send()
            .await
            .unwrap();
        let other = s3
            .create_multipart_upload()
            .bucket(B)
            .key("keep/big")
            .send()
            .await
            .unwrap();
        assert_eq!(common::blob_files(dir.path()), 1);
        set_rules(
            &s3,
            vec![rule("abort", "tmp/")
                .abort_incomplete_multipart_upload(
                    AbortIncompleteMultipartUpload::builder()
                        .days_after_initiation(1)
                        .build(),
                )
                .build()
                .unwrap()],
        )
        .await;
        eventually("aborting tmp/big", || async {
            let listed = s3.list_multipart_uploads().bucket(B).send().await.unwrap();
            listed.uploads().len() == 1
        })
        .await;
        let listed = s3.list_multipart_uploads().bucket(B).send().await.unwrap();
        assert_eq!(listed.uploads()[0].upload_id(), other.upload_id());
        assert_eq!(
            common::blob_files(dir.path()),
            0,
            "the part's file went too"
        );
    });
    server.stop();
}
