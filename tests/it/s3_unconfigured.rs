//! The bucket and object sub-resources LabStore does not configure yet, read through
//! `aws-sdk-s3` at default settings: each answers as S3 answers a bucket that never set it
//! (a 404 naming the configuration, an empty list, or S3's 400 for a bucket without Object
//! Lock), `NoSuchBucket` for a bucket that does not exist, and asks for its own IAM action.

use crate::common;

use aws_sdk_s3::primitives::ByteStream;
use common::{error_code_status, TestServer};

/// Every read on a fresh bucket (and on an object in it), with S3's code and status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_bucket_answers_every_configuration_read_as_s3_does() {
    let server = TestServer::start();
    let s3 = server.with_bucket("fresh").await;
    s3.put_object()
        .bucket("fresh")
        .key("k")
        .body(ByteStream::from_static(b"data"))
        .send()
        .await
        .unwrap();
    let b = "fresh";
    let not_found = |code: &str| (code.to_owned(), 404);
    let cases = [
        (
            "GetBucketWebsite",
            error_code_status(s3.get_bucket_website().bucket(b).send().await),
            not_found("NoSuchWebsiteConfiguration"),
        ),
        (
            "GetBucketCors",
            error_code_status(s3.get_bucket_cors().bucket(b).send().await),
            not_found("NoSuchCORSConfiguration"),
        ),
        (
            "GetBucketLifecycleConfiguration",
            error_code_status(
                s3.get_bucket_lifecycle_configuration()
                    .bucket(b)
                    .send()
                    .await,
            ),
            not_found("NoSuchLifecycleConfiguration"),
        ),
        (
            "GetBucketReplication",
            error_code_status(s3.get_bucket_replication().bucket(b).send().await),
            not_found("ReplicationConfigurationNotFoundError"),
        ),
        (
            "GetObjectLockConfiguration",
            error_code_status(s3.get_object_lock_configuration().bucket(b).send().await),
            not_found("ObjectLockConfigurationNotFoundError"),
        ),
        (
            "GetObjectRetention",
            error_code_status(s3.get_object_retention().bucket(b).key("k").send().await),
            ("InvalidRequest".to_owned(), 400),
        ),
        (
            "GetObjectLegalHold",
            error_code_status(s3.get_object_legal_hold().bucket(b).key("k").send().await),
            ("InvalidRequest".to_owned(), 400),
        ),
        (
            "GetObjectRetention of a missing key",
            error_code_status(
                s3.get_object_retention()
                    .bucket(b)
                    .key("missing")
                    .send()
                    .await,
            ),
            ("InvalidRequest".to_owned(), 400),
        ),
        (
            "GetBucketAnalyticsConfiguration",
            error_code_status(
                s3.get_bucket_analytics_configuration()
                    .bucket(b)
                    .id("a")
                    .send()
                    .await,
            ),
            not_found("NoSuchConfiguration"),
        ),
        (
            "GetBucketMetricsConfiguration",
            error_code_status(
                s3.get_bucket_metrics_configuration()
                    .bucket(b)
                    .id("m")
                    .send()
                    .await,
            ),
            not_found("NoSuchConfiguration"),
        ),
        (
            "GetBucketInventoryConfiguration",
            error_code_status(
                s3.get_bucket_inventory_configuration()
                    .bucket(b)
                    .id("i")
                    .send()
                    .await,
            ),
            not_found("NoSuchConfiguration"),
        ),
        (
            "GetBucketIntelligentTieringConfiguration",
            error_code_status(
                s3.get_bucket_intelligent_tiering_configuration()
                    .bucket(b)
                    .id("t")
                    .send()
                    .await,
            ),
            not_found("NoSuchConfiguration"),
        ),
    ];
    for (operation, got, want) in cases {
        assert_eq!(got, want, "{operation}");
    }
    let message = s3
        .get_object_legal_hold()
        .bucket(b)
        .key("k")
        .send()
        .await
        .unwrap_err()
        .into_service_error()
        .meta()
        .message()
        .map(str::to_owned);
    assert_eq!(
        message.as_deref(),
        Some("Bucket is missing Object Lock Configuration")
    );

    let analytics = s3
        .list_bucket_analytics_configurations()
        .bucket(b)
        .send()
        .await
        .unwrap();
    assert_eq!(analytics.is_truncated(), Some(false));
    assert!(analytics.analytics_configuration_list().is_empty());
    let metrics = s3
        .list_bucket_metrics_configurations()
        .bucket(b)
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.is_truncated(), Some(false));
    assert!(metrics.metrics_configuration_list().is_empty());
    let inventory = s3
        .list_bucket_inventory_configurations()
        .bucket(b)
        .send()
        .await
        .unwrap();
    assert_eq!(inventory.is_truncated(), Some(false));
    assert!(inventory.inventory_configuration_list().is_empty());
    let tiering = s3
        .list_bucket_intelligent_tiering_configurations()
        .bucket(b)
        .send()
        .await
        .unwrap();
    assert_eq!(tiering.is_truncated(), Some(false));
    assert!(tiering.intelligent_tiering_configuration_list().is_empty());
    // No list has a second page: a token LabStore never gave is refused.
    let r = s3
        .list_bucket_metrics_configurations()
        .bucket(b)
        .continuation_token("made-up")
        .send()
        .await;
    assert_eq!(error_code_status(r), ("InvalidArgument".to_owned(), 400));
    // An empty one is no token.
    let out = s3
        .list_bucket_inventory_configurations()
        .bucket(b)
        .continuation_token("")
        .send()
        .await
        .unwrap();
    assert_eq!(out.is_truncated(), Some(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_reads_of_a_missing_bucket_are_no_such_bucket() {
    let server = TestServer::start();
    let s3 = server.root_s3();
    let m = "never-created";
    let codes = [
        error_code_status(s3.get_bucket_website().bucket(m).send().await),
        error_code_status(s3.get_bucket_cors().bucket(m).send().await),
        error_code_status(
            s3.get_bucket_lifecycle_configuration()
                .bucket(m)
                .send()
                .await,
        ),
        error_code_status(s3.get_bucket_replication().bucket(m).send().await),
        error_code_status(s3.get_bucket_encryption().bucket(m).send().await),
        error_code_status(s3.get_object_lock_configuration().bucket(m).send().await),
        error_code_status(s3.get_object_retention().bucket(m).key("k").send().await),
        error_code_status(s3.get_object_legal_hold().bucket(m).key("k").send().await),
        error_code_status(
            s3.list_bucket_analytics_configurations()
                .bucket(m)
                .send()
                .await,
        ),
        error_code_status(
            s3.get_bucket_metrics_configuration()
                .bucket(m)
                .id("x")
                .send()
                .await,
        ),
    ];
    for code in codes {
        assert_eq!(code, ("NoSuchBucket".to_owned(), 404));
    }
}

/// Each read asks for its own action: a user allowed only `s3:GetBucketCORS` learns that
/// there is no CORS configuration, and is denied the website and the lifecycle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_configuration_read_asks_for_its_own_action() {
    let server = TestServer::start();
    server.with_bucket("guarded").await;
    let user = server.with_user(&common::allow("s3:GetBucketCORS")).await;
    let r = user.s3.get_bucket_cors().bucket("guarded").send().await;
    assert_eq!(
        error_code_status(r),
        ("NoSuchCORSConfiguration".to_owned(), 404)
    );
    let denied = ("AccessDenied".to_owned(), 403);
    let r = user.s3.get_bucket_website().bucket("guarded").send().await;
    assert_eq!(error_code_status(r), denied);
    let r = user
        .s3
        .get_bucket_lifecycle_configuration()
        .bucket("guarded")
        .send()
        .await;
    assert_eq!(error_code_status(r), denied);
    let user = server
        .with_user(&common::allow("s3:GetObjectRetention"))
        .await;
    let r = user
        .s3
        .get_object_retention()
        .bucket("guarded")
        .key("k")
        .send()
        .await;
    assert_eq!(error_code_status(r), ("InvalidRequest".to_owned(), 400));
    let r = user
        .s3
        .get_object_legal_hold()
        .bucket("guarded")
        .key("k")
        .send()
        .await;
    assert_eq!(error_code_status(r), denied);
}

/// The writes stay unimplemented: nothing is accepted and ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_writes_stay_not_implemented() {
    let server = TestServer::start();
    let s3 = server.with_bucket("writes").await;
    let r = s3.delete_bucket_replication().bucket("writes").send().await;
    assert_eq!(error_code_status(r), ("NotImplemented".to_owned(), 501));
    let r = s3
        .delete_bucket_metrics_configuration()
        .bucket("writes")
        .id("m")
        .send()
        .await;
    assert_eq!(error_code_status(r), ("NotImplemented".to_owned(), 501));
}
