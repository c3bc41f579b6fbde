//! Bucket operations through `aws-sdk-s3` at default settings: ListBuckets, CreateBucket (name
//! rules, LocationConstraint), HeadBucket, DeleteBucket, GetBucketLocation, GetBucketVersioning
//! and the ACLs, against the server.

use crate::common;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Permission, Type as GranteeType,
};
use common::{error_code_status, s3_client, spawn_with_root, start_with_root};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buckets_are_created_listed_in_order_with_the_owner_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let s3 = s3_client(&server);

    let empty = s3.list_buckets().send().await.unwrap();
    assert!(empty.buckets().is_empty());
    let owner = empty.owner().expect("ListBuckets names the owner");
    let owner_id = owner.id().expect("an owner ID").to_owned();
    assert!(!owner_id.is_empty());
    assert!(owner.display_name().is_some_and(|n| !n.is_empty()));

    for name in ["zeta-bucket", "alpha.bucket", "mid-1"] {
        s3.create_bucket().bucket(name).send().await.unwrap();
    }
    let listed = s3.list_buckets().send().await.unwrap();
    let names: Vec<&str> = listed.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, ["alpha.bucket", "mid-1", "zeta-bucket"]);
    assert!(listed.buckets().iter().all(|b| b.creation_date().is_some()));
    assert_eq!(listed.owner().and_then(|o| o.id()), Some(owner_id.as_str()));

    s3.head_bucket().bucket("mid-1").send().await.unwrap();
    s3.delete_bucket().bucket("mid-1").send().await.unwrap();
    let (_, status) = error_code_status(s3.head_bucket().bucket("mid-1").send().await);
    assert_eq!(status, 404);
    assert_eq!(
        error_code_status(s3.delete_bucket().bucket("mid-1").send().await),
        ("NoSuchBucket".to_owned(), 404)
    );
    let listed = s3.list_buckets().send().await.unwrap();
    assert_eq!(listed.buckets().len(), 2);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bucket_names_follow_the_naming_rules() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let s3 = s3_client(&server);
    let long = "a".repeat(64);
    let invalid = [
        "ab",
        long.as_str(),
        "UpperCase",
        "under_score",
        "-leading-hyphen",
        "trailing-hyphen-",
        "double..dot",
        "dot.-hyphen",
        "192.168.5.4",
        "xn--punycode",
        "name-s3alias",
    ];
    for name in invalid {
        assert_eq!(
            error_code_status(s3.create_bucket().bucket(name).send().await),
            ("InvalidBucketName".to_owned(), 400),
            "{name}"
        );
    }
    let max = "b".repeat(63);
    for name in ["abc", "a.b-c.1", "123", max.as_str()] {
        s3.create_bucket()
            .bucket(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
    let listed = s3.list_buckets().send().await.unwrap();
    assert_eq!(listed.buckets().len(), 4, "no invalid name was created");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_an_existing_bucket_is_200_in_us_east_1_and_already_owned_elsewhere() {
    for (region, answer) in [
        ("us-east-1", None),
        (
            "eu-west-3",
            Some(("BucketAlreadyOwnedByYou".to_owned(), 409)),
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let server =
            common::TestServer::start_with(dir.path(), &[("LABSTORE_BACKEND_S3_REGION", region)])
                .unwrap();
        let s3 = s3_client(&server);
        s3.create_bucket().bucket("mine").send().await.unwrap();
        s3.put_object()
            .bucket("mine")
            .key("kept")
            .body(ByteStream::from_static(b"still here"))
            .send()
            .await
            .unwrap();
        let again = s3.create_bucket().bucket("mine").send().await;
        match &answer {
            None => assert!(again.is_ok(), "{region}: {again:?}"),
            Some(refused) => assert_eq!(&error_code_status(again), refused, "{region}"),
        }
        // Either way the second create changed nothing.
        let got = s3.get_object().bucket("mine").key("kept").send().await;
        let body = got.unwrap().body.collect().await.unwrap().into_bytes();
        assert_eq!(&body[..], b"still here");
        let head = s3.head_bucket().bucket("mine").send().await.unwrap();
        assert_eq!(head.bucket_region(), Some(region));
        server.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn location_constraint_is_accepted_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let s3 = s3_client(&server);
    let config = CreateBucketConfiguration::builder()
        .location_constraint(BucketLocationConstraint::EuWest1)
        .build();
    s3.create_bucket()
        .bucket("in-ireland")
        .create_bucket_configuration(config)
        .send()
        .await
        .unwrap();
    s3.create_bucket()
        .bucket("default-region")
        .send()
        .await
        .unwrap();

    let located = s3
        .get_bucket_location()
        .bucket("in-ireland")
        .send()
        .await
        .unwrap();
    assert_eq!(
        located.location_constraint(),
        Some(&BucketLocationConstraint::EuWest1)
    );
    let head = s3.head_bucket().bucket("in-ireland").send().await.unwrap();
    assert_eq!(head.bucket_region(), Some("eu-west-1"));

    // us-east-1 is reported as an empty LocationConstraint, as S3 does.
    let located = s3
        .get_bucket_location()
        .bucket("default-region")
        .send()
        .await
        .unwrap();
    let constraint = located.location_constraint().map(|c| c.as_str());
    assert!(
        matches!(constraint, None | Some("")),
        "us-east-1 is the empty constraint: {constraint:?}"
    );
    let head = s3
        .head_bucket()
        .bucket("default-region")
        .send()
        .await
        .unwrap();
    assert_eq!(head.bucket_region(), Some("us-east-1"));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_with_objects_is_not_empty_and_its_uploads_are_aborted_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let s3 = s3_client(&server);
    s3.create_bucket().bucket("busy").send().await.unwrap();

    s3.put_object()
        .bucket("busy")
        .key("dir/object")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code_status(s3.delete_bucket().bucket("busy").send().await),
        ("BucketNotEmpty".to_owned(), 409)
    );
    s3.delete_object()
        .bucket("busy")
        .key("dir/object")
        .send()
        .await
        .unwrap();

    // Uploads in progress do not keep the bucket (as in S3): they are aborted with it, and
    // their parts' files removed (a part too large to be stored inline has one, a small one
    // none).
    let upload = s3
        .create_multipart_upload()
        .bucket("busy")
        .key("pending")
        .send()
        .await
        .unwrap();
    let upload_id = upload.upload_id().unwrap();
    s3.upload_part()
        .bucket("busy")
        .key("pending")
        .upload_id(upload_id)
        .part_number(1)
        .body(ByteStream::from(vec![7u8; 100 * 1024]))
        .send()
        .await
        .unwrap();
    s3.upload_part()
        .bucket("busy")
        .key("pending")
        .upload_id(upload_id)
        .part_number(2)
        .body(ByteStream::from_static(b"part"))
        .send()
        .await
        .unwrap();
    assert_eq!(common::blob_files(dir.path()), 1);
    s3.delete_bucket().bucket("busy").send().await.unwrap();
    let listed = s3.list_buckets().send().await.unwrap();
    assert!(listed.buckets().is_empty());
    assert_eq!(
        common::blob_files(dir.path()),
        0,
        "the part's file is removed"
    );
    s3.create_bucket().bucket("busy").send().await.unwrap();
    let uploads = s3
        .list_multipart_uploads()
        .bucket("busy")
        .send()
        .await
        .unwrap();
    assert!(uploads.uploads().is_empty());
    let r = s3
        .list_parts()
        .bucket("busy")
        .key("pending")
        .upload_id(upload_id)
        .send()
        .await;
    assert_eq!(error_code_status(r), ("NoSuchUpload".to_owned(), 404));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acls_grant_the_owner_full_control_and_versioning_is_unset() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let s3 = s3_client(&server);
    s3.create_bucket().bucket("acls").send().await.unwrap();
    s3.put_object()
        .bucket("acls")
        .key("obj")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let owner_id = s3
        .list_buckets()
        .send()
        .await
        .unwrap()
        .owner()
        .and_then(|o| o.id())
        .unwrap()
        .to_owned();

    let bucket_acl = s3.get_bucket_acl().bucket("acls").send().await.unwrap();
    let object_acl = s3
        .get_object_acl()
        .bucket("acls")
        .key("obj")
        .send()
        .await
        .unwrap();
    let cases = [
        ("bucket", bucket_acl.owner(), bucket_acl.grants()),
        ("object", object_acl.owner(), object_acl.grants()),
    ];
    for (what, owner, grants) in cases {
        assert_eq!(
            owner.and_then(|o| o.id()),
            Some(owner_id.as_str()),
            "{what}"
        );
        assert_eq!(grants.len(), 1, "{what}: {grants:?}");
        let grant = &grants[0];
        assert_eq!(grant.permission(), Some(&Permission::FullControl), "{what}");
        let grantee = grant.grantee().unwrap();
        assert_eq!(grantee.r#type(), &GranteeType::CanonicalUser, "{what}");
        assert_eq!(grantee.id(), Some(owner_id.as_str()), "{what}");
    }

    let missing = s3.get_object_acl().bucket("acls").key("nope").send().await;
    assert_eq!(error_code_status(missing), ("NoSuchKey".to_owned(), 404));
    let missing = s3.get_bucket_acl().bucket("no-such-bucket").send().await;
    assert_eq!(error_code_status(missing), ("NoSuchBucket".to_owned(), 404));

    let versioning = s3
        .get_bucket_versioning()
        .bucket("acls")
        .send()
        .await
        .unwrap();
    assert_eq!(versioning.status(), None);
    assert_eq!(versioning.mfa_delete(), None);
    let missing = s3
        .get_bucket_versioning()
        .bucket("no-such-bucket")
        .send()
        .await;
    assert_eq!(error_code_status(missing), ("NoSuchBucket".to_owned(), 404));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_on_a_missing_bucket_are_no_such_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let s3 = s3_client(&server);
    let b = "never-created";
    let cases = [
        (
            "GetBucketLocation",
            error_code_status(s3.get_bucket_location().bucket(b).send().await),
        ),
        (
            "ListObjectsV2",
            error_code_status(s3.list_objects_v2().bucket(b).send().await),
        ),
        (
            "ListObjects",
            error_code_status(s3.list_objects().bucket(b).send().await),
        ),
        (
            "PutObject",
            error_code_status(
                s3.put_object()
                    .bucket(b)
                    .key("k")
                    .body(ByteStream::from_static(b"x"))
                    .send()
                    .await,
            ),
        ),
        (
            "GetObject",
            error_code_status(s3.get_object().bucket(b).key("k").send().await),
        ),
        (
            "CreateMultipartUpload",
            error_code_status(s3.create_multipart_upload().bucket(b).key("k").send().await),
        ),
        (
            "ListMultipartUploads",
            error_code_status(s3.list_multipart_uploads().bucket(b).send().await),
        ),
    ];
    for (operation, got) in cases {
        assert_eq!(got, ("NoSuchBucket".to_owned(), 404), "{operation}");
    }
    server.stop();
}

/// A sub-resource LabStore does not implement answers NotImplemented and changes nothing: it
/// never falls through to the method's base operation (DeleteBucket, CreateBucket,
/// ListObjects, DeleteObject).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unimplemented_sub_resources_never_reach_the_base_operation() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn_with_root(dir.path());
    let s3 = s3_client(&server);
    s3.create_bucket().bucket("kept").send().await.unwrap();
    s3.put_object()
        .bucket("kept")
        .key("k")
        .body(ByteStream::from_static(b"data"))
        .send()
        .await
        .unwrap();
    let not_implemented = ("NotImplemented".to_owned(), 501);
    let r = s3
        .delete_bucket_metadata_table_configuration()
        .bucket("kept")
        .send()
        .await;
    assert_eq!(error_code_status(r), not_implemented);
    let r = s3
        .get_bucket_metadata_table_configuration()
        .bucket("kept")
        .send()
        .await;
    assert_eq!(error_code_status(r), not_implemented);
    let r = s3
        .rename_object()
        .bucket("kept")
        .key("renamed")
        .rename_source("k")
        .send()
        .await;
    assert_eq!(error_code_status(r), not_implemented);
    // DELETE /kept/k?renameObject names no operation: refused, the object stays.
    let signer = common::signing::Signer::s3("admin", common::ROOT_SECRET);
    let r = common::signing::s3_call(
        server.s3,
        &signer,
        "DELETE",
        "/kept/k?renameObject",
        &[],
        "",
    );
    assert_eq!(r.status, 405, "{}", r.body);
    s3.head_bucket().bucket("kept").send().await.unwrap();
    s3.head_object()
        .bucket("kept")
        .key("k")
        .send()
        .await
        .unwrap();
    let names: Vec<String> = s3
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_owned))
        .collect();
    assert_eq!(names, ["kept"]);
    // A client's mistake, though a 501, is logged as a refusal (INFO), not as an error.
    let refusals = |logs: &[serde_json::Value]| {
        logs.iter()
            .filter(|l| l["code"] == "NotImplemented")
            .map(|l| l["level"].as_str().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while refusals(&server.logs()).len() < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let levels = refusals(&server.logs());
    assert!(
        levels.len() >= 3 && levels.iter().all(|l| l == "INFO"),
        "{levels:?}"
    );
}

/// A LocationConstraint that could not go back into HeadBucket's `x-amz-bucket-region` is
/// refused at CreateBucket, so the bucket never exists to answer 500 later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_location_constraint_that_is_no_region_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let s3 = s3_client(&server);
    let signer = common::signing::Signer::s3("admin", common::ROOT_SECRET);
    let body = "<CreateBucketConfiguration><LocationConstraint>us&#13;&#10;east-1</LocationConstraint></CreateBucketConfiguration>";
    let r = common::signing::s3_call(server.s3, &signer, "PUT", "/crlf", &[], body);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("InvalidLocationConstraint"), "{}", r.body);
    let r = s3.head_bucket().bucket("crlf").send().await;
    assert_eq!(error_code_status(r).1, 404);
    let config = CreateBucketConfiguration::builder()
        .location_constraint(BucketLocationConstraint::from("eu-west-3"))
        .build();
    s3.create_bucket()
        .bucket("paris")
        .create_bucket_configuration(config)
        .send()
        .await
        .unwrap();
    let head = s3.head_bucket().bucket("paris").send().await.unwrap();
    assert_eq!(head.bucket_region(), Some("eu-west-3"));
}

/// The bucket reads infrastructure tools make on every refresh, answered as S3 answers a
/// bucket without that configuration; `NoSuchBucket` for a bucket that does not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unconfigured_bucket_settings_read_as_s3_defaults() {
    use aws_sdk_s3::types::Payer;
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let s3 = s3_client(&server);
    s3.create_bucket().bucket("tf-state").send().await.unwrap();

    let payment = s3
        .get_bucket_request_payment()
        .bucket("tf-state")
        .send()
        .await
        .unwrap();
    assert_eq!(payment.payer(), Some(&Payer::BucketOwner));
    let accelerate = s3
        .get_bucket_accelerate_configuration()
        .bucket("tf-state")
        .send()
        .await
        .unwrap();
    assert_eq!(accelerate.status(), None);
    let logging = s3
        .get_bucket_logging()
        .bucket("tf-state")
        .send()
        .await
        .unwrap();
    assert!(logging.logging_enabled().is_none());
    let notification = s3
        .get_bucket_notification_configuration()
        .bucket("tf-state")
        .send()
        .await
        .unwrap();
    assert!(notification.topic_configurations().is_empty());
    assert!(notification.queue_configurations().is_empty());
    assert!(notification.lambda_function_configurations().is_empty());
    assert!(notification.event_bridge_configuration().is_none());

    let missing = "no-such-bucket";
    let codes = [
        error_code_status(s3.get_bucket_request_payment().bucket(missing).send().await),
        error_code_status(
            s3.get_bucket_accelerate_configuration()
                .bucket(missing)
                .send()
                .await,
        ),
        error_code_status(s3.get_bucket_logging().bucket(missing).send().await),
        error_code_status(
            s3.get_bucket_notification_configuration()
                .bucket(missing)
                .send()
                .await,
        ),
    ];
    for code in codes {
        assert_eq!(code, ("NoSuchBucket".to_owned(), 404));
    }
}

/// ListBuckets pages as S3 does: `max-buckets` (1 to 10000), an opaque `continuation-token`,
/// `prefix` and `bucket-region` filters; each bucket names its region; the SDK's paginator
/// walks every page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_buckets_pages_and_filters() {
    let server = common::TestServer::start();
    let s3 = server.root_s3();
    let mut names = Vec::new();
    for i in 0..7 {
        let name = format!("page-{i}");
        let mut create = s3.create_bucket().bucket(&name);
        if i % 3 == 0 {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from("eu-west-3"))
                    .build(),
            );
        }
        create.send().await.unwrap();
        names.push(name);
    }
    s3.create_bucket().bucket("other").send().await.unwrap();
    let named = |out: &aws_sdk_s3::operation::list_buckets::ListBucketsOutput| -> Vec<String> {
        out.buckets()
            .iter()
            .map(|b| b.name().unwrap().to_owned())
            .collect()
    };

    // Unpaginated: everything, no token.
    let all = s3.list_buckets().send().await.unwrap();
    assert_eq!(all.buckets().len(), 8);
    assert_eq!(all.continuation_token(), None);
    assert_eq!(all.prefix(), None);
    let regions: Vec<Option<&str>> = all.buckets().iter().map(|b| b.bucket_region()).collect();
    assert_eq!(regions[0], Some("us-east-1"), "other");
    assert_eq!(regions[1], Some("eu-west-3"), "page-0");

    // Pages of 3 under a prefix, walked by hand.
    let mut walked = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = s3
            .list_buckets()
            .max_buckets(3)
            .prefix("page-")
            .set_continuation_token(token.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(out.prefix(), Some("page-"));
        pages += 1;
        walked.extend(named(&out));
        match out.continuation_token() {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!((walked, pages), (names.clone(), 3));

    // The SDK's paginator.
    let mut paginated = Vec::new();
    let mut stream = s3.list_buckets().max_buckets(2).into_paginator().send();
    while let Some(page) = stream.next().await {
        paginated.extend(named(&page.unwrap()));
    }
    assert_eq!(paginated.len(), 8);

    let west = s3
        .list_buckets()
        .bucket_region("eu-west-3")
        .send()
        .await
        .unwrap();
    assert_eq!(named(&west), ["page-0", "page-3", "page-6"]);

    for bad in [0, 10_001, -1] {
        let r = s3.list_buckets().max_buckets(bad).send().await;
        assert_eq!(
            error_code_status(r),
            ("InvalidArgument".to_owned(), 400),
            "{bad}"
        );
    }
    let r = s3
        .list_buckets()
        .continuation_token("&&not a token&&")
        .send()
        .await;
    assert_eq!(error_code_status(r), ("InvalidArgument".to_owned(), 400));
    // Only the caller's permission matters: a user without s3:ListAllMyBuckets is refused.
    let user = server.with_user(&common::allow("s3:ListBucket")).await;
    let r = user.s3.list_buckets().max_buckets(1).send().await;
    assert_eq!(error_code_status(r), ("AccessDenied".to_owned(), 403));
}
