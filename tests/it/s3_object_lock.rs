//! S3 Object Lock through `aws-sdk-s3` at default settings: CreateBucket with Object Lock,
//! Put/GetObjectLockConfiguration and the default retention, Put/GetObjectRetention,
//! Put/GetObjectLegalHold, the `x-amz-object-lock-*` headers on PutObject, CopyObject and
//! CreateMultipartUpload (and on GET/HEAD for callers who may read them), and what a lock
//! keeps: a version under retention or legal hold is never removed, GOVERNANCE yields only
//! to an authorized bypass, COMPLIANCE to nobody, the root included.

use crate::common;

use aws_sdk_s3::config::RequestChecksumCalculation;
use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{
    BucketVersioningStatus, CompletedMultipartUpload, CompletedPart, DefaultRetention, Delete,
    ObjectIdentifier, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockLegalHold,
    ObjectLockLegalHoldStatus, ObjectLockMode, ObjectLockRetention, ObjectLockRetentionMode,
    ObjectLockRule, VersioningConfiguration,
};
use aws_sdk_s3::Client;
use common::{error_code_status, TestServer};

const DAY: i64 = 86_400;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}

/// `days` from now, to the second.
fn in_days(days: i64) -> DateTime {
    DateTime::from_secs(now() + days * DAY)
}

/// A PutObjectLegalHold body.
fn hold(status: ObjectLockLegalHoldStatus) -> ObjectLockLegalHold {
    ObjectLockLegalHold::builder().status(status).build()
}

fn refusal(code: &str, status: u16) -> (String, u16) {
    (code.to_owned(), status)
}

async fn lock_bucket(s3: &Client, bucket: &str) {
    s3.create_bucket()
        .bucket(bucket)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
}

/// Puts `key` and returns its version id.
async fn put(
    s3: &Client,
    bucket: &str,
    key: &str,
    lock: Option<(ObjectLockMode, DateTime)>,
) -> String {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from_static(b"locked bytes"))
        .set_object_lock_mode(lock.as_ref().map(|(m, _)| m.clone()))
        .set_object_lock_retain_until_date(lock.map(|(_, d)| d))
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned()
}

async fn delete_version(
    s3: &Client,
    bucket: &str,
    key: &str,
    version: &str,
    bypass: bool,
) -> Result<(), (String, u16)> {
    s3.delete_object()
        .bucket(bucket)
        .key(key)
        .version_id(version)
        .set_bypass_governance_retention(bypass.then_some(true))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| error_code_status(Err::<(), _>(e)))
}

async fn retention(
    s3: &Client,
    bucket: &str,
    key: &str,
    version: &str,
    new: Option<(ObjectLockRetentionMode, DateTime)>,
    bypass: bool,
) -> Result<(), (String, u16)> {
    let mut r = ObjectLockRetention::builder();
    if let Some((mode, until)) = new {
        r = r.mode(mode).retain_until_date(until);
    }
    s3.put_object_retention()
        .bucket(bucket)
        .key(key)
        .version_id(version)
        .retention(r.build())
        .set_bypass_governance_retention(bypass.then_some(true))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| error_code_status(Err::<(), _>(e)))
}

async fn version_exists(s3: &Client, bucket: &str, key: &str, version: &str) -> bool {
    s3.head_object()
        .bucket(bucket)
        .key(key)
        .version_id(version)
        .send()
        .await
        .is_ok()
}

fn config(
    rule: Option<(ObjectLockRetentionMode, Option<i32>, Option<i32>)>,
) -> ObjectLockConfiguration {
    let mut c = ObjectLockConfiguration::builder().object_lock_enabled(ObjectLockEnabled::Enabled);
    if let Some((mode, days, years)) = rule {
        c = c.rule(
            ObjectLockRule::builder()
                .default_retention(
                    DefaultRetention::builder()
                        .mode(mode)
                        .set_days(days)
                        .set_years(years)
                        .build(),
                )
                .build(),
        );
    }
    c.build()
}

/// A bucket created with Object Lock has versioning Enabled (which cannot be suspended) and
/// Object Lock without a default retention.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_bucket_with_object_lock_enables_versioning_and_lock() {
    let server = TestServer::start();
    let s3 = server.root_s3();
    lock_bucket(&s3, "locked").await;
    let v = s3
        .get_bucket_versioning()
        .bucket("locked")
        .send()
        .await
        .unwrap();
    assert_eq!(v.status(), Some(&BucketVersioningStatus::Enabled));
    let c = s3
        .get_object_lock_configuration()
        .bucket("locked")
        .send()
        .await
        .unwrap();
    let c = c.object_lock_configuration().unwrap();
    assert_eq!(c.object_lock_enabled(), Some(&ObjectLockEnabled::Enabled));
    assert!(c.rule().is_none());
    let r = s3
        .put_bucket_versioning()
        .bucket("locked")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Suspended)
                .build(),
        )
        .send()
        .await;
    assert_eq!(error_code_status(r), refusal("InvalidBucketState", 409));
    // Created with `false`: neither.
    s3.create_bucket()
        .bucket("plain")
        .object_lock_enabled_for_bucket(false)
        .send()
        .await
        .unwrap();
    let r = s3
        .get_object_lock_configuration()
        .bucket("plain")
        .send()
        .await;
    assert_eq!(
        error_code_status(r),
        refusal("ObjectLockConfigurationNotFoundError", 404)
    );
    let v = s3
        .get_bucket_versioning()
        .bucket("plain")
        .send()
        .await
        .unwrap();
    assert_eq!(v.status(), None);
}

/// CreateBucket with Object Lock also needs s3:PutBucketObjectLockConfiguration and
/// s3:PutBucketVersioning, as AWS asks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_bucket_with_object_lock_needs_its_permissions() {
    let server = TestServer::start();
    let only_create = server.with_user(&common::allow("s3:CreateBucket")).await;
    let r = only_create
        .s3
        .create_bucket()
        .bucket("nolock")
        .object_lock_enabled_for_bucket(true)
        .send()
        .await;
    assert_eq!(error_code_status(r), refusal("AccessDenied", 403));
    let r = server.root_s3().head_bucket().bucket("nolock").send().await;
    assert!(r.is_err(), "no bucket was created");
    let all = server
        .with_user(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:CreateBucket","s3:PutBucketObjectLockConfiguration","s3:PutBucketVersioning"],"Resource":"*"}]}"#,
        )
        .await;
    all.s3
        .create_bucket()
        .bucket("withlock")
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
}

/// PutObjectLockConfiguration: S3's checks, versioning Enabled required, the rule set, read
/// back, and cleared; GetObjectLockConfiguration of a bucket without it is S3's 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_lock_configuration_is_put_and_read_as_s3_does() {
    let server = TestServer::start();
    let s3 = server.with_bucket("later").await;
    let put = |c: ObjectLockConfiguration| {
        let s3 = s3.clone();
        async move {
            s3.put_object_lock_configuration()
                .bucket("later")
                .object_lock_configuration(c)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| error_code_status(Err::<(), _>(e)))
        }
    };
    let r = s3
        .get_object_lock_configuration()
        .bucket("later")
        .send()
        .await;
    assert_eq!(
        error_code_status(r),
        refusal("ObjectLockConfigurationNotFoundError", 404)
    );
    // Versioning must be Enabled first.
    assert_eq!(
        put(config(None)).await,
        Err(refusal("InvalidBucketState", 409))
    );
    s3.put_bucket_versioning()
        .bucket("later")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    use ObjectLockRetentionMode::{Compliance, Governance};
    for (bad, code) in [
        ((Governance, Some(1), Some(1)), "MalformedXML"),
        ((Governance, None, None), "MalformedXML"),
        ((Governance, Some(0), None), "InvalidArgument"),
        ((Compliance, None, Some(-1)), "InvalidArgument"),
        ((Compliance, None, Some(101)), "InvalidArgument"),
    ] {
        assert_eq!(
            put(config(Some(bad.clone()))).await,
            Err(refusal(code, 400)),
            "{bad:?}"
        );
    }
    let r = s3
        .get_object_lock_configuration()
        .bucket("later")
        .send()
        .await;
    assert!(r.is_err(), "a refused configuration enables nothing");
    put(config(Some((Governance, Some(30), None))))
        .await
        .unwrap();
    let got = s3
        .get_object_lock_configuration()
        .bucket("later")
        .send()
        .await
        .unwrap();
    let rule = got.object_lock_configuration().unwrap().rule().unwrap();
    let d = rule.default_retention().unwrap();
    assert_eq!(
        (d.mode(), d.days(), d.years()),
        (Some(&Governance), Some(30), None)
    );
    put(config(Some((Compliance, None, Some(2)))))
        .await
        .unwrap();
    let got = s3
        .get_object_lock_configuration()
        .bucket("later")
        .send()
        .await
        .unwrap();
    let d = got
        .object_lock_configuration()
        .unwrap()
        .rule()
        .unwrap()
        .default_retention()
        .unwrap();
    assert_eq!(
        (d.mode(), d.days(), d.years()),
        (Some(&Compliance), None, Some(2))
    );
    // No rule: no default, Object Lock still enabled.
    put(config(None)).await.unwrap();
    let got = s3
        .get_object_lock_configuration()
        .bucket("later")
        .send()
        .await
        .unwrap();
    let c = got.object_lock_configuration().unwrap();
    assert_eq!(c.object_lock_enabled(), Some(&ObjectLockEnabled::Enabled));
    assert!(c.rule().is_none());
    // Now versioning cannot be suspended.
    let r = s3
        .put_bucket_versioning()
        .bucket("later")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Suspended)
                .build(),
        )
        .send()
        .await;
    assert_eq!(error_code_status(r), refusal("InvalidBucketState", 409));
}

/// A GOVERNANCE version: DeleteObject(versionId) is refused until the caller asks for the
/// bypass and may (s3:BypassGovernanceRetention); a caller without it is refused even when
/// asking. The version survives every refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn governance_yields_only_to_an_authorized_bypass() {
    let server = TestServer::start();
    let s3 = server.root_s3();
    lock_bucket(&s3, "gov").await;
    let v = put(
        &s3,
        "gov",
        "k",
        Some((ObjectLockMode::Governance, in_days(1))),
    )
    .await;
    let got = s3
        .get_object_retention()
        .bucket("gov")
        .key("k")
        .version_id(&v)
        .send()
        .await
        .unwrap();
    let r = got.retention().unwrap();
    assert_eq!(r.mode(), Some(&ObjectLockRetentionMode::Governance));
    assert!(r.retain_until_date().unwrap().secs() > now());
    assert_eq!(
        delete_version(&s3, "gov", "k", &v, false).await,
        Err(refusal("AccessDenied", 403))
    );
    let no_bypass = server
        .with_user(&common::allow("s3:DeleteObjectVersion"))
        .await;
    assert_eq!(
        delete_version(&no_bypass.s3, "gov", "k", &v, true).await,
        Err(refusal("AccessDenied", 403))
    );
    assert!(version_exists(&s3, "gov", "k", &v).await);
    let bypasser = server
        .with_user(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:DeleteObjectVersion","s3:BypassGovernanceRetention"],"Resource":"*"}]}"#,
        )
        .await;
    assert_eq!(
        delete_version(&bypasser.s3, "gov", "k", &v, false).await,
        Err(refusal("AccessDenied", 403)),
        "the permission alone is not a bypass: the header asks for it"
    );
    delete_version(&bypasser.s3, "gov", "k", &v, true)
        .await
        .unwrap();
    assert!(!version_exists(&s3, "gov", "k", &v).await);
}

/// A COMPLIANCE version is kept from everyone, the root with a bypass included; its
/// retention can be extended, never shortened, removed or turned into GOVERNANCE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compliance_yields_to_nobody() {
    let server = TestServer::start();
    let s3 = server.root_s3();
    lock_bucket(&s3, "comp").await;
    let v = put(
        &s3,
        "comp",
        "k",
        Some((ObjectLockMode::Compliance, in_days(2))),
    )
    .await;
    for bypass in [false, true] {
        assert_eq!(
            delete_version(&s3, "comp", "k", &v, bypass).await,
            Err(refusal("AccessDenied", 403))
        );
    }
    use ObjectLockRetentionMode::{Compliance, Governance};
    for bypass in [false, true] {
        for change in [
            Some((Compliance, in_days(1))),
            Some((Governance, in_days(3))),
            None,
        ] {
            assert_eq!(
                retention(&s3, "comp", "k", &v, change.clone(), bypass).await,
                Err(refusal("AccessDenied", 403)),
                "{change:?} bypass {bypass}"
            );
        }
    }
    retention(&s3, "comp", "k", &v, Some((Compliance, in_days(3))), false)
        .await
        .unwrap();
    let got = s3
        .get_object_retention()
        .bucket("comp")
        .key("k")
        .version_id(&v)
        .send()
        .await
        .unwrap();
    let until = got.retention().unwrap().retain_until_date().unwrap().secs();
    assert!(until > now() + 2 * DAY, "extended");
    // Nor DeleteObjects, bypass or not: the entry is refused.
    let d = s3
        .delete_objects()
        .bucket("comp")
        .bypass_governance_retention(true)
        .delete(
            Delete::builder()
                .objects(
                    ObjectIdentifier::builder()
                        .key("k")
                        .version_id(&v)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert!(d.deleted().is_empty());
    assert_eq!(d.errors().len(), 1);
    assert_eq!(d.errors()[0].code(), Some("AccessDenied"));
    // DeleteBucket cannot take it either: the version remains.
    let r = s3.delete_bucket().bucket("comp").send().await;
    assert_eq!(error_code_status(r), refusal("BucketNotEmpty", 409));
    let body = s3
        .get_object()
        .bucket("comp")
        .key("k")
        .version_id(&v)
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    assert_eq!(&body[..], b"locked bytes");
}

/// GOVERNANCE retention: extended by anyone allowed to put retention; shortened, removed or
/// made COMPLIANCE only with the bypass. Past dates are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn governance_retention_changes_need_the_bypass() {
    let server = TestServer::start();
    let s3 = server.root_s3();
    lock_bucket(&s3, "govr").await;
    let v = put(&s3, "govr", "k", None).await;
    use ObjectLockRetentionMode::{Compliance, Governance};
    // No retention yet: GetObjectRetention is S3's 404.
    let r = s3
        .get_object_retention()
        .bucket("govr")
        .key("k")
        .send()
        .await;
    assert_eq!(
        error_code_status(r),
        refusal("NoSuchObjectLockConfiguration", 404)
    );
    assert_eq!(
        retention(
            &s3,
            "govr",
            "k",
            &v,
            Some((Governance, DateTime::from_secs(now() - 10))),
            false
        )
        .await,
        Err(refusal("InvalidArgument", 400))
    );
    retention(&s3, "govr", "k", &v, Some((Governance, in_days(2))), false)
        .await
        .unwrap();
    retention(&s3, "govr", "k", &v, Some((Governance, in_days(3))), false)
        .await
        .unwrap();
    assert_eq!(
        retention(&s3, "govr", "k", &v, Some((Governance, in_days(1))), false).await,
        Err(refusal("AccessDenied", 403))
    );
    assert_eq!(
        retention(&s3, "govr", "k", &v, Some((Compliance, in_days(4))), false).await,
        Err(refusal("AccessDenied", 403))
    );
    assert_eq!(
        retention(&s3, "govr", "k", &v, None, false).await,
        Err(refusal("AccessDenied", 403))
    );
    retention(&s3, "govr", "k", &v, Some((Governance, in_days(1))), true)
        .await
        .unwrap();
    retention(&s3, "govr", "k", &v, None, true).await.unwrap();
    let r = s3
        .get_object_retention()
        .bucket("govr")
        .key("k")
        .send()
        .await;
    assert_eq!(
        error_code_status(r),
        refusal("NoSuchObjectLockConfiguration", 404)
    );
    delete_version(&s3, "govr", "k", &v, false).await.unwrap();
}

/// A legal hold blocks deletion, whatever the bypass, until it is removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legal_hold_blocks_until_removed() {
    let server = TestServer::start();
    let s3 = server.root_s3();
    lock_bucket(&s3, "held").await;
    let v = put(&s3, "held", "k", None).await;
    let hold = |status: ObjectLockLegalHoldStatus| {
        let s3 = s3.clone();
        let v = v.clone();
        async move {
            s3.put_object_legal_hold()
                .bucket("held")
                .key("k")
                .version_id(v)
                .legal_hold(hold(status))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| error_code_status(Err::<(), _>(e)))
        }
    };
    let status = || async {
        s3.get_object_legal_hold()
            .bucket("held")
            .key("k")
            .send()
            .await
            .unwrap()
            .legal_hold()
            .unwrap()
            .status()
            .cloned()
    };
    // A hold never set is no configuration, as S3 answers; HEAD shows none.
    let never = s3
        .get_object_legal_hold()
        .bucket("held")
        .key("k")
        .send()
        .await;
    assert_eq!(
        error_code_status(never),
        ("NoSuchObjectLockConfiguration".to_owned(), 404)
    );
    let head = s3
        .head_object()
        .bucket("held")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(head.object_lock_legal_hold_status(), None);
    hold(ObjectLockLegalHoldStatus::On).await.unwrap();
    assert_eq!(status().await, Some(ObjectLockLegalHoldStatus::On));
    for bypass in [false, true] {
        assert_eq!(
            delete_version(&s3, "held", "k", &v, bypass).await,
            Err(refusal("AccessDenied", 403))
        );
    }
    assert_eq!(
        hold(ObjectLockLegalHoldStatus::from("MAYBE")).await,
        Err(refusal("InvalidArgument", 400))
    );
    let head = s3
        .head_object()
        .bucket("held")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.object_lock_legal_hold_status(),
        Some(&ObjectLockLegalHoldStatus::On)
    );
    hold(ObjectLockLegalHoldStatus::Off).await.unwrap();
    assert_eq!(status().await, Some(ObjectLockLegalHoldStatus::Off));
    // Once set, an OFF hold is shown as S3 shows it.
    let head = s3
        .head_object()
        .bucket("held")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.object_lock_legal_hold_status(),
        Some(&ObjectLockLegalHoldStatus::Off)
    );
    delete_version(&s3, "held", "k", &v, false).await.unwrap();
}

/// DeleteObject without a version id on a locked key adds a delete marker, as S3 allows; the
/// locked version stays, and Object Lock reads of the marker answer as S3 does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_without_version_adds_a_marker_and_keeps_the_version() {
    let server = TestServer::start();
    let s3 = server.root_s3();
    lock_bucket(&s3, "mark").await;
    let v = put(
        &s3,
        "mark",
        "k",
        Some((ObjectLockMode::Compliance, in_days(1))),
    )
    .await;
    let d = s3
        .delete_object()
        .bucket("mark")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(d.delete_marker(), Some(true));
    let marker = d.version_id().unwrap().to_owned();
    assert!(version_exists(&s3, "mark", "k", &v).await);
    let r = s3
        .get_object_retention()
        .bucket("mark")
        .key("k")
        .version_id(&marker)
        .send()
        .await;
    assert_eq!(error_code_status(r), refusal("MethodNotAllowed", 405));
    let r = s3
        .get_object_retention()
        .bucket("mark")
        .key("k")
        .send()
        .await;
    assert_eq!(error_code_status(r), refusal("NoSuchKey", 404));
    let r = s3
        .get_object_legal_hold()
        .bucket("mark")
        .key("k")
        .version_id("7ffa0b1c2d3e4f50a1b2c3d4e5f60718")
        .send()
        .await;
    assert_eq!(error_code_status(r), refusal("NoSuchVersion", 404));
    // The marker itself is not locked: removing it brings the version back.
    delete_version(&s3, "mark", "k", &marker, false)
        .await
        .unwrap();
    s3.head_object()
        .bucket("mark")
        .key("k")
        .send()
        .await
        .unwrap();
}

/// The bucket's default retention is given to new versions that name none; a version that
/// names its own keeps it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_retention_is_applied_to_new_versions() {
    let server = TestServer::start();
    let s3 = server.root_s3();
    lock_bucket(&s3, "dflt").await;
    s3.put_object_lock_configuration()
        .bucket("dflt")
        .object_lock_configuration(config(Some((
            ObjectLockRetentionMode::Governance,
            Some(1),
            None,
        ))))
        .send()
        .await
        .unwrap();
    let before = now();
    let v = put(&s3, "dflt", "k", None).await;
    let head = s3
        .head_object()
        .bucket("dflt")
        .key("k")
        .version_id(&v)
        .send()
        .await
        .unwrap();
    assert_eq!(head.object_lock_mode(), Some(&ObjectLockMode::Governance));
    let until = head.object_lock_retain_until_date().unwrap().secs();
    assert!(
        (before + DAY - 5..=now() + DAY + 5).contains(&until),
        "{until}"
    );
    assert_eq!(
        delete_version(&s3, "dflt", "k", &v, false).await,
        Err(refusal("AccessDenied", 403))
    );
    let own = put(
        &s3,
        "dflt",
        "k",
        Some((ObjectLockMode::Compliance, in_days(3))),
    )
    .await;
    let head = s3
        .head_object()
        .bucket("dflt")
        .key("k")
        .version_id(&own)
        .send()
        .await
        .unwrap();
    assert_eq!(head.object_lock_mode(), Some(&ObjectLockMode::Compliance));
    // A copy gets the default too, never its source's lock.
    let c = s3
        .copy_object()
        .bucket("dflt")
        .key("copy")
        .copy_source(format!("dflt/k?versionId={own}"))
        .send()
        .await
        .unwrap();
    let cv = c.version_id().unwrap();
    let head = s3
        .head_object()
        .bucket("dflt")
        .key("copy")
        .version_id(cv)
        .send()
        .await
        .unwrap();
    assert_eq!(head.object_lock_mode(), Some(&ObjectLockMode::Governance));
    // A PutObject to a bucket with a default retention needs Content-MD5 or a checksum.
    let bare = Client::from_conf(
        s3.config()
            .to_builder()
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .build(),
    );
    let r = bare
        .put_object()
        .bucket("dflt")
        .key("bare")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await;
    assert_eq!(error_code_status(r), refusal("InvalidRequest", 400));
    bare.put_object()
        .bucket("dflt")
        .key("bare")
        .content_md5("ndTkYSaMgDT1yFZOFVxnpg==")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    // Bucket without a default: the lock headers need the digest too; plain puts do not.
    lock_bucket(&s3, "nodflt").await;
    let r = bare
        .put_object()
        .bucket("nodflt")
        .key("k")
        .object_lock_legal_hold_status(ObjectLockLegalHoldStatus::On)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await;
    assert_eq!(error_code_status(r), refusal("InvalidRequest", 400));
    bare.put_object()
        .bucket("nodflt")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
}

/// The lock headers' errors, as S3 answers them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_headers_are_checked_as_s3_checks_them() {
    let server = TestServer::start();
    let s3 = server.with_bucket("nolock").await;
    lock_bucket(&s3, "lkb").await;
    let try_put = |bucket: &'static str,
                   mode: Option<ObjectLockMode>,
                   until: Option<DateTime>,
                   hold: Option<ObjectLockLegalHoldStatus>| {
        let s3 = s3.clone();
        async move {
            s3.put_object()
                .bucket(bucket)
                .key("k")
                .body(ByteStream::from_static(b"x"))
                .set_object_lock_mode(mode)
                .set_object_lock_retain_until_date(until)
                .set_object_lock_legal_hold_status(hold)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| error_code_status(Err::<(), _>(e)))
        }
    };
    let g = || Some(ObjectLockMode::Governance);
    assert_eq!(
        try_put("nolock", g(), Some(in_days(1)), None).await,
        Err(refusal("InvalidRequest", 400))
    );
    assert_eq!(
        try_put("nolock", None, None, Some(ObjectLockLegalHoldStatus::On)).await,
        Err(refusal("InvalidRequest", 400))
    );
    for (mode, until, hold) in [
        (g(), None, None),
        (None, Some(in_days(1)), None),
        (g(), Some(DateTime::from_secs(now() - 60)), None),
        (
            Some(ObjectLockMode::from("FOREVER")),
            Some(in_days(1)),
            None,
        ),
        (None, None, Some(ObjectLockLegalHoldStatus::from("MAYBE"))),
    ] {
        assert_eq!(
            try_put("lkb", mode.clone(), until, hold.clone()).await,
            Err(refusal("InvalidArgument", 400)),
            "{mode:?} {hold:?}"
        );
    }
    let r = s3.head_object().bucket("lkb").key("k").send().await;
    assert_eq!(error_code_status(r).1, 404, "nothing refused was stored");
    // The Object Lock operations on a bucket without it.
    s3.put_object()
        .bucket("nolock")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let r = s3
        .put_object_retention()
        .bucket("nolock")
        .key("k")
        .retention(
            ObjectLockRetention::builder()
                .mode(ObjectLockRetentionMode::Governance)
                .retain_until_date(in_days(1))
                .build(),
        )
        .send()
        .await;
    assert_eq!(error_code_status(r), refusal("InvalidRequest", 400));
    let r = s3
        .put_object_legal_hold()
        .bucket("nolock")
        .key("k")
        .legal_hold(hold(ObjectLockLegalHoldStatus::On))
        .send()
        .await;
    assert_eq!(error_code_status(r), refusal("InvalidRequest", 400));
    let r = s3
        .get_object_legal_hold()
        .bucket("nolock")
        .key("k")
        .send()
        .await;
    assert_eq!(error_code_status(r), refusal("InvalidRequest", 400));
    // A missing key on a lock bucket.
    let r = s3
        .get_object_legal_hold()
        .bucket("lkb")
        .key("absent")
        .send()
        .await;
    assert_eq!(error_code_status(r), refusal("NoSuchKey", 404));
}

/// CreateMultipartUpload's lock headers are kept with the upload and given to the object at
/// completion; the version is then kept as any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_uploads_carry_their_lock_to_the_object() {
    let server = TestServer::start();
    let s3 = server.root_s3();
    lock_bucket(&s3, "mpu").await;
    let until = in_days(1);
    let up = s3
        .create_multipart_upload()
        .bucket("mpu")
        .key("big")
        .object_lock_mode(ObjectLockMode::Governance)
        .object_lock_retain_until_date(until)
        .object_lock_legal_hold_status(ObjectLockLegalHoldStatus::On)
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap();
    let part = s3
        .upload_part()
        .bucket("mpu")
        .key("big")
        .upload_id(id)
        .part_number(1)
        .body(ByteStream::from_static(b"part one"))
        .send()
        .await
        .unwrap();
    let done = s3
        .complete_multipart_upload()
        .bucket("mpu")
        .key("big")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .e_tag(part.e_tag().unwrap())
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let v = done.version_id().unwrap().to_owned();
    let head = s3
        .head_object()
        .bucket("mpu")
        .key("big")
        .send()
        .await
        .unwrap();
    assert_eq!(head.object_lock_mode(), Some(&ObjectLockMode::Governance));
    assert_eq!(
        head.object_lock_retain_until_date().map(DateTime::secs),
        Some(until.secs())
    );
    assert_eq!(
        head.object_lock_legal_hold_status(),
        Some(&ObjectLockLegalHoldStatus::On)
    );
    for bypass in [false, true] {
        assert_eq!(
            delete_version(&s3, "mpu", "big", &v, bypass).await,
            Err(refusal("AccessDenied", 403))
        );
    }
    assert!(version_exists(&s3, "mpu", "big", &v).await);
    // Headers on a CopyObject, too.
    let c = s3
        .copy_object()
        .bucket("mpu")
        .key("copy")
        .copy_source("mpu/big")
        .object_lock_mode(ObjectLockMode::Compliance)
        .object_lock_retain_until_date(in_days(1))
        .send()
        .await
        .unwrap();
    let cv = c.version_id().unwrap();
    assert_eq!(
        delete_version(&s3, "mpu", "copy", cv, true).await,
        Err(refusal("AccessDenied", 403))
    );
}

/// GET and HEAD show the lock only to callers who may read it; PutObjectRetention and
/// PutObject are decided with the Object Lock condition keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_headers_and_condition_keys_follow_permissions() {
    let server = TestServer::start();
    let s3 = server.root_s3();
    lock_bucket(&s3, "perm").await;
    let v = put(
        &s3,
        "perm",
        "k",
        Some((ObjectLockMode::Governance, in_days(1))),
    )
    .await;
    s3.put_object_legal_hold()
        .bucket("perm")
        .key("k")
        .legal_hold(hold(ObjectLockLegalHoldStatus::On))
        .send()
        .await
        .unwrap();
    let reader = server.with_user(&common::allow("s3:GetObject")).await;
    let head = reader
        .s3
        .head_object()
        .bucket("perm")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(head.object_lock_mode(), None);
    assert_eq!(head.object_lock_retain_until_date(), None);
    assert_eq!(head.object_lock_legal_hold_status(), None);
    let retention_reader = server
        .with_user(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:GetObjectRetention"],"Resource":"*"}]}"#,
        )
        .await;
    let got = retention_reader
        .s3
        .get_object()
        .bucket("perm")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(got.object_lock_mode(), Some(&ObjectLockMode::Governance));
    assert_eq!(got.object_lock_legal_hold_status(), None);
    // At most 10 days of retention, through s3:object-lock-remaining-retention-days.
    let capped = server
        .with_user(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObjectRetention","Resource":"*","Condition":{"NumericLessThanEquals":{"s3:object-lock-remaining-retention-days":"10"}}}]}"#,
        )
        .await;
    use ObjectLockRetentionMode::Governance;
    retention(
        &capped.s3,
        "perm",
        "k",
        &v,
        Some((Governance, in_days(5))),
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        retention(
            &capped.s3,
            "perm",
            "k",
            &v,
            Some((Governance, in_days(30))),
            false
        )
        .await,
        Err(refusal("AccessDenied", 403))
    );
    // Only GOVERNANCE writes, through s3:object-lock-mode.
    let governance_only = server
        .with_user(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"},{"Effect":"Deny","Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"s3:object-lock-mode":"COMPLIANCE"}}}]}"#,
        )
        .await;
    put(
        &governance_only.s3,
        "perm",
        "g",
        Some((ObjectLockMode::Governance, in_days(1))),
    )
    .await;
    let r = governance_only
        .s3
        .put_object()
        .bucket("perm")
        .key("c")
        .body(ByteStream::from_static(b"x"))
        .object_lock_mode(ObjectLockMode::Compliance)
        .object_lock_retain_until_date(in_days(1))
        .send()
        .await;
    assert_eq!(error_code_status(r), refusal("AccessDenied", 403));
    // No legal holds removed, through s3:object-lock-legal-hold.
    let no_release = server
        .with_user(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObjectLegalHold","Resource":"*"},{"Effect":"Deny","Action":"s3:PutObjectLegalHold","Resource":"*","Condition":{"StringEquals":{"s3:object-lock-legal-hold":"OFF"}}}]}"#,
        )
        .await;
    let r = no_release
        .s3
        .put_object_legal_hold()
        .bucket("perm")
        .key("k")
        .legal_hold(hold(ObjectLockLegalHoldStatus::Off))
        .send()
        .await;
    assert_eq!(error_code_status(r), refusal("AccessDenied", 403));
    let r = s3
        .get_object_legal_hold()
        .bucket("perm")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.legal_hold().unwrap().status(),
        Some(&ObjectLockLegalHoldStatus::On)
    );
}
