//! S3 Object Ownership, ACLs and Block Public Access through `aws-sdk-s3` at default
//! settings: the ownership controls and public access block configurations (CRUD), every way
//! an ACL can be sent refused on a bucket with ACLs disabled (the default), canned and
//! explicit grants stored and returned where ACLs are enabled, and what grants allow:
//! anonymous reads of `public-read` objects, a policy's Deny beating an ACL's grant, and each
//! Block Public Access setting. Anonymous requests are plain HTTP, unsigned.

use crate::common;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    AccessControlPolicy, BucketCannedAcl, CompletedMultipartUpload, CompletedPart, Grant, Grantee,
    ObjectCannedAcl, ObjectOwnership, Owner, OwnershipControls, OwnershipControlsRule, Permission,
    PublicAccessBlockConfiguration, Type,
};
use aws_sdk_s3::Client;
use common::{allow, error_code_status, TestServer};

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

fn controls(ownership: ObjectOwnership) -> OwnershipControls {
    OwnershipControls::builder()
        .rules(
            OwnershipControlsRule::builder()
                .object_ownership(ownership)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

fn blocks([acls, ignore, policy, restrict]: [bool; 4]) -> PublicAccessBlockConfiguration {
    PublicAccessBlockConfiguration::builder()
        .block_public_acls(acls)
        .ignore_public_acls(ignore)
        .block_public_policy(policy)
        .restrict_public_buckets(restrict)
        .build()
}

async fn set_blocks(s3: &Client, bucket: &str, config: PublicAccessBlockConfiguration) {
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(config)
        .send()
        .await
        .unwrap();
}

/// A bucket whose ACLs apply (`ObjectWriter`) and that blocks no public access: where a
/// public ACL takes effect.
async fn open_bucket(s3: &Client, bucket: &str) {
    s3.create_bucket()
        .bucket(bucket)
        .object_ownership(ObjectOwnership::ObjectWriter)
        .send()
        .await
        .unwrap();
    set_blocks(s3, bucket, blocks([false, false, false, false])).await;
}

async fn put(s3: &Client, bucket: &str, key: &str, acl: Option<ObjectCannedAcl>) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .set_acl(acl)
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutObject {bucket}/{key}: {e:?}"));
}

async fn owner_id(s3: &Client) -> String {
    let listed = s3.list_buckets().send().await.unwrap();
    listed.owner().and_then(|o| o.id()).unwrap().to_owned()
}

/// The grants of an ACL as (grantee, permission): `id:<canonical id>` or the group's URI.
fn grants(list: &[Grant]) -> Vec<(String, Permission)> {
    list.iter()
        .map(|g| {
            let grantee = g.grantee().unwrap();
            let who = match grantee.r#type() {
                Type::CanonicalUser => format!("id:{}", grantee.id().unwrap()),
                Type::Group => grantee.uri().unwrap().to_owned(),
                other => panic!("unexpected grantee type {other:?}"),
            };
            (who, g.permission().unwrap().clone())
        })
        .collect()
}

async fn object_grants(s3: &Client, bucket: &str, key: &str) -> Vec<(String, Permission)> {
    let acl = s3
        .get_object_acl()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    grants(acl.grants())
}

async fn bucket_grants(s3: &Client, bucket: &str) -> Vec<(String, Permission)> {
    let acl = s3.get_bucket_acl().bucket(bucket).send().await.unwrap();
    grants(acl.grants())
}

fn anonymous_get(server: &TestServer, path: &str) -> (u16, String) {
    let r = common::get(server.s3, path);
    (r.status, r.body)
}

#[tokio::test]
async fn ownership_controls_are_created_read_replaced_and_deleted() {
    let server = TestServer::start();
    let s3 = server.with_bucket("owned").await;
    let ownership = |s3: Client, bucket: &'static str| async move {
        s3.get_bucket_ownership_controls()
            .bucket(bucket)
            .send()
            .await
            .map(|out| {
                out.ownership_controls().unwrap().rules()[0]
                    .object_ownership()
                    .clone()
            })
    };
    // A new bucket: ACLs disabled.
    assert_eq!(
        ownership(s3.clone(), "owned").await.unwrap(),
        ObjectOwnership::BucketOwnerEnforced
    );
    for choice in [
        ObjectOwnership::BucketOwnerPreferred,
        ObjectOwnership::ObjectWriter,
        ObjectOwnership::BucketOwnerEnforced,
    ] {
        s3.put_bucket_ownership_controls()
            .bucket("owned")
            .ownership_controls(controls(choice.clone()))
            .send()
            .await
            .unwrap();
        assert_eq!(ownership(s3.clone(), "owned").await.unwrap(), choice);
    }
    s3.delete_bucket_ownership_controls()
        .bucket("owned")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code_status(ownership(s3.clone(), "owned").await),
        ("OwnershipControlsNotFoundError".to_owned(), 404)
    );
    // Deleting again is fine, as in S3.
    s3.delete_bucket_ownership_controls()
        .bucket("owned")
        .send()
        .await
        .unwrap();

    // x-amz-object-ownership on CreateBucket.
    s3.create_bucket()
        .bucket("preferred")
        .object_ownership(ObjectOwnership::BucketOwnerPreferred)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ownership(s3.clone(), "preferred").await.unwrap(),
        ObjectOwnership::BucketOwnerPreferred
    );

    // Refusals: an unknown ownership (the SDK sends any string), a missing bucket.
    let unknown = s3
        .put_bucket_ownership_controls()
        .bucket("owned")
        .ownership_controls(controls(ObjectOwnership::from("Everybody")))
        .send()
        .await;
    assert_eq!(error_code_status(unknown), ("MalformedXML".to_owned(), 400));
    let unknown = s3
        .create_bucket()
        .bucket("unknown-owner")
        .object_ownership(ObjectOwnership::from("Everybody"))
        .send()
        .await;
    assert_eq!(
        error_code_status(unknown),
        ("InvalidArgument".to_owned(), 400)
    );
    assert!(s3
        .head_bucket()
        .bucket("unknown-owner")
        .send()
        .await
        .is_err());
    assert_eq!(
        error_code_status(ownership(s3.clone(), "missing").await),
        ("NoSuchBucket".to_owned(), 404)
    );

    // Disabling ACLs on a bucket whose ACL grants others is refused.
    let s3b = s3.clone();
    open_bucket(&s3b, "granting").await;
    s3.put_bucket_acl()
        .bucket("granting")
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    let refused = s3
        .put_bucket_ownership_controls()
        .bucket("granting")
        .ownership_controls(controls(ObjectOwnership::BucketOwnerEnforced))
        .send()
        .await;
    assert_eq!(
        error_code_status(refused),
        ("InvalidBucketAclWithObjectOwnership".to_owned(), 400)
    );
    assert_eq!(
        ownership(s3.clone(), "granting").await.unwrap(),
        ObjectOwnership::ObjectWriter
    );
}

/// With ACLs disabled (a new bucket), every way of sending an ACL that grants more than the
/// owner's access is refused before anything is written; `private` and
/// `bucket-owner-full-control` are accepted, and the ACLs read show the owner alone.
#[tokio::test]
async fn buckets_with_acls_disabled_refuse_every_acl_but_the_owners() {
    let server = TestServer::start();
    let s3 = server.with_bucket("enforced").await;
    let owner = owner_id(&s3).await;
    put(&s3, "enforced", "k", None).await;
    let body = || ByteStream::from_static(b"x");
    let not_supported = || ("AccessControlListNotSupported".to_owned(), 400);
    let grant_all = format!("uri=\"{ALL_USERS}\"");
    let grant_owner = format!("id=\"{owner}\"");

    let cases = [
        (
            "PutObject --acl public-read",
            error_code_status(
                s3.put_object()
                    .bucket("enforced")
                    .key("new")
                    .acl(ObjectCannedAcl::PublicRead)
                    .body(body())
                    .send()
                    .await,
            ),
        ),
        (
            "PutObject --acl authenticated-read",
            error_code_status(
                s3.put_object()
                    .bucket("enforced")
                    .key("new")
                    .acl(ObjectCannedAcl::AuthenticatedRead)
                    .body(body())
                    .send()
                    .await,
            ),
        ),
        (
            "PutObject --grant-read",
            error_code_status(
                s3.put_object()
                    .bucket("enforced")
                    .key("new")
                    .grant_read(&grant_all)
                    .body(body())
                    .send()
                    .await,
            ),
        ),
        (
            "PutObject --grant-full-control to the owner",
            error_code_status(
                s3.put_object()
                    .bucket("enforced")
                    .key("new")
                    .grant_full_control(&grant_owner)
                    .body(body())
                    .send()
                    .await,
            ),
        ),
        (
            "CopyObject --acl public-read",
            error_code_status(
                s3.copy_object()
                    .bucket("enforced")
                    .key("new")
                    .copy_source("enforced/k")
                    .acl(ObjectCannedAcl::PublicRead)
                    .send()
                    .await,
            ),
        ),
        (
            "CopyObject --grant-read",
            error_code_status(
                s3.copy_object()
                    .bucket("enforced")
                    .key("new")
                    .copy_source("enforced/k")
                    .grant_read(&grant_all)
                    .send()
                    .await,
            ),
        ),
        (
            "CreateMultipartUpload --acl public-read-write",
            error_code_status(
                s3.create_multipart_upload()
                    .bucket("enforced")
                    .key("new")
                    .acl(ObjectCannedAcl::PublicReadWrite)
                    .send()
                    .await,
            ),
        ),
        (
            "CreateMultipartUpload --grant-write-acp",
            error_code_status(
                s3.create_multipart_upload()
                    .bucket("enforced")
                    .key("new")
                    .grant_write_acp(&grant_all)
                    .send()
                    .await,
            ),
        ),
        (
            "PutObjectAcl --acl public-read",
            error_code_status(
                s3.put_object_acl()
                    .bucket("enforced")
                    .key("k")
                    .acl(ObjectCannedAcl::PublicRead)
                    .send()
                    .await,
            ),
        ),
        (
            "PutObjectAcl --grant-read",
            error_code_status(
                s3.put_object_acl()
                    .bucket("enforced")
                    .key("k")
                    .grant_read(&grant_all)
                    .send()
                    .await,
            ),
        ),
        (
            "PutObjectAcl with a body granting AllUsers",
            error_code_status(
                s3.put_object_acl()
                    .bucket("enforced")
                    .key("k")
                    .access_control_policy(policy_granting(&owner, Some(ALL_USERS)))
                    .send()
                    .await,
            ),
        ),
        (
            "PutBucketAcl --acl public-read",
            error_code_status(
                s3.put_bucket_acl()
                    .bucket("enforced")
                    .acl(BucketCannedAcl::PublicRead)
                    .send()
                    .await,
            ),
        ),
        (
            "PutBucketAcl --grant-read",
            error_code_status(
                s3.put_bucket_acl()
                    .bucket("enforced")
                    .grant_read(&grant_all)
                    .send()
                    .await,
            ),
        ),
        (
            "PutBucketAcl with a body granting AuthenticatedUsers",
            error_code_status(
                s3.put_bucket_acl()
                    .bucket("enforced")
                    .access_control_policy(policy_granting(&owner, Some(AUTHENTICATED_USERS)))
                    .send()
                    .await,
            ),
        ),
    ];
    for (what, got) in cases {
        assert_eq!(got, not_supported(), "{what}");
    }
    // Nothing was written by the refused requests.
    assert!(s3
        .head_object()
        .bucket("enforced")
        .key("new")
        .send()
        .await
        .is_err());
    let uploads = s3
        .list_multipart_uploads()
        .bucket("enforced")
        .send()
        .await
        .unwrap();
    assert!(uploads.uploads().is_empty());

    // CreateBucket with a public ACL and the default ownership.
    for result in [
        error_code_status(
            s3.create_bucket()
                .bucket("public-new")
                .acl(BucketCannedAcl::PublicRead)
                .send()
                .await,
        ),
        error_code_status(
            s3.create_bucket()
                .bucket("public-new")
                .grant_read(&grant_all)
                .send()
                .await,
        ),
    ] {
        assert_eq!(
            result,
            ("InvalidBucketAclWithObjectOwnership".to_owned(), 400)
        );
    }
    assert!(s3.head_bucket().bucket("public-new").send().await.is_err());

    // What a bucket with ACLs disabled accepts.
    for acl in [
        ObjectCannedAcl::Private,
        ObjectCannedAcl::BucketOwnerFullControl,
    ] {
        put(&s3, "enforced", "accepted", Some(acl)).await;
    }
    s3.put_bucket_acl()
        .bucket("enforced")
        .acl(BucketCannedAcl::Private)
        .send()
        .await
        .unwrap();
    s3.put_object_acl()
        .bucket("enforced")
        .key("k")
        .access_control_policy(policy_granting(&owner, None))
        .send()
        .await
        .unwrap();
    s3.create_bucket()
        .bucket("private-new")
        .acl(BucketCannedAcl::Private)
        .send()
        .await
        .unwrap();
    let owner_only = vec![(format!("id:{owner}"), Permission::FullControl)];
    assert_eq!(object_grants(&s3, "enforced", "accepted").await, owner_only);
    assert_eq!(bucket_grants(&s3, "enforced").await, owner_only);
    // The object is private: nobody outside the account reads it.
    assert_eq!(anonymous_get(&server, "/enforced/accepted").0, 403);
}

/// An `AccessControlPolicy` body: the owner's FULL_CONTROL, and READ to `group` if given.
fn policy_granting(owner: &str, group: Option<&str>) -> AccessControlPolicy {
    let mut policy = AccessControlPolicy::builder()
        .owner(Owner::builder().id(owner).build())
        .grants(
            Grant::builder()
                .grantee(
                    Grantee::builder()
                        .r#type(Type::CanonicalUser)
                        .id(owner)
                        .build()
                        .unwrap(),
                )
                .permission(Permission::FullControl)
                .build(),
        );
    if let Some(uri) = group {
        policy = policy.grants(
            Grant::builder()
                .grantee(
                    Grantee::builder()
                        .r#type(Type::Group)
                        .uri(uri)
                        .build()
                        .unwrap(),
                )
                .permission(Permission::Read)
                .build(),
        );
    }
    policy.build()
}

/// With ACLs enabled, canned ACLs, grant headers and ACL bodies are stored and read back,
/// on buckets, objects, copies and multipart uploads; bad grants are refused.
#[tokio::test]
async fn enabled_acls_round_trip_canned_and_explicit_grants() {
    let server = TestServer::start();
    let s3 = server.root_s3();
    open_bucket(&s3, "open").await;
    let owner = owner_id(&s3).await;
    let me = || (format!("id:{owner}"), Permission::FullControl);

    let rows = [
        (ObjectCannedAcl::Private, vec![me()]),
        (
            ObjectCannedAcl::PublicRead,
            vec![me(), (ALL_USERS.to_owned(), Permission::Read)],
        ),
        (
            ObjectCannedAcl::PublicReadWrite,
            vec![
                me(),
                (ALL_USERS.to_owned(), Permission::Read),
                (ALL_USERS.to_owned(), Permission::Write),
            ],
        ),
        (
            ObjectCannedAcl::AuthenticatedRead,
            vec![me(), (AUTHENTICATED_USERS.to_owned(), Permission::Read)],
        ),
        (ObjectCannedAcl::BucketOwnerRead, vec![me()]),
        (ObjectCannedAcl::BucketOwnerFullControl, vec![me()]),
    ];
    for (acl, want) in &rows {
        put(&s3, "open", "canned", Some(acl.clone())).await;
        assert_eq!(&object_grants(&s3, "open", "canned").await, want, "{acl:?}");
        // The same ACL set afterwards.
        put(&s3, "open", "later", None).await;
        s3.put_object_acl()
            .bucket("open")
            .key("later")
            .acl(acl.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(&object_grants(&s3, "open", "later").await, want, "{acl:?}");
    }
    // Overwriting an object replaces its ACL.
    put(&s3, "open", "canned", None).await;
    assert_eq!(object_grants(&s3, "open", "canned").await, vec![me()]);

    // Grant headers.
    s3.put_object_acl()
        .bucket("open")
        .key("later")
        .grant_read(format!("uri=\"{ALL_USERS}\""))
        .grant_full_control(format!("id=\"{owner}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(
        object_grants(&s3, "open", "later").await,
        vec![(ALL_USERS.to_owned(), Permission::Read), me()]
    );

    // A body, on the bucket.
    s3.put_bucket_acl()
        .bucket("open")
        .access_control_policy(policy_granting(&owner, Some(ALL_USERS)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        bucket_grants(&s3, "open").await,
        vec![me(), (ALL_USERS.to_owned(), Permission::Read)]
    );
    s3.put_bucket_acl()
        .bucket("open")
        .acl(BucketCannedAcl::Private)
        .send()
        .await
        .unwrap();
    assert_eq!(bucket_grants(&s3, "open").await, vec![me()]);

    // A copy takes its own request's ACL, not the source's.
    put(&s3, "open", "src", Some(ObjectCannedAcl::PublicRead)).await;
    s3.copy_object()
        .bucket("open")
        .key("copied")
        .copy_source("open/src")
        .send()
        .await
        .unwrap();
    assert_eq!(object_grants(&s3, "open", "copied").await, vec![me()]);
    s3.copy_object()
        .bucket("open")
        .key("copied")
        .copy_source("open/src")
        .acl(ObjectCannedAcl::AuthenticatedRead)
        .send()
        .await
        .unwrap();
    assert_eq!(
        object_grants(&s3, "open", "copied").await,
        vec![me(), (AUTHENTICATED_USERS.to_owned(), Permission::Read)]
    );

    // A multipart upload keeps its ACL until it completes.
    let upload = s3
        .create_multipart_upload()
        .bucket("open")
        .key("parts")
        .acl(ObjectCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    let id = upload.upload_id().unwrap();
    let part = s3
        .upload_part()
        .bucket("open")
        .key("parts")
        .upload_id(id)
        .part_number(1)
        .body(ByteStream::from_static(b"part"))
        .send()
        .await
        .unwrap();
    s3.complete_multipart_upload()
        .bucket("open")
        .key("parts")
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
    assert_eq!(
        object_grants(&s3, "open", "parts").await,
        vec![me(), (ALL_USERS.to_owned(), Permission::Read)]
    );
    assert_eq!(anonymous_get(&server, "/open/parts"), (200, "part".into()));

    // Refusals.
    let bad = [
        (
            "a grant to another account",
            error_code_status(
                s3.put_object_acl()
                    .bucket("open")
                    .key("later")
                    .grant_read("id=\"0123456789abcdef\"")
                    .send()
                    .await,
            ),
            ("InvalidArgument", 400),
        ),
        (
            "a grant by e-mail address",
            error_code_status(
                s3.put_object_acl()
                    .bucket("open")
                    .key("later")
                    .grant_read("emailAddress=\"someone@example.com\"")
                    .send()
                    .await,
            ),
            ("UnresolvableGrantByEmailAddress", 400),
        ),
        (
            "a canned ACL and a grant header",
            error_code_status(
                s3.put_object()
                    .bucket("open")
                    .key("later")
                    .acl(ObjectCannedAcl::Private)
                    .grant_read(format!("id=\"{owner}\""))
                    .body(ByteStream::from_static(b"x"))
                    .send()
                    .await,
            ),
            ("InvalidRequest", 400),
        ),
        (
            "an unknown canned ACL",
            error_code_status(
                s3.put_object()
                    .bucket("open")
                    .key("later")
                    .acl(ObjectCannedAcl::from("world-readable"))
                    .body(ByteStream::from_static(b"x"))
                    .send()
                    .await,
            ),
            ("InvalidArgument", 400),
        ),
        (
            "the ACL of a missing key",
            error_code_status(
                s3.put_object_acl()
                    .bucket("open")
                    .key("missing")
                    .acl(ObjectCannedAcl::PublicRead)
                    .send()
                    .await,
            ),
            ("NoSuchKey", 404),
        ),
        (
            "PutBucketAcl with no ACL at all",
            error_code_status(s3.put_bucket_acl().bucket("open").send().await),
            ("MissingSecurityHeader", 400),
        ),
    ];
    for (what, got, (code, status)) in bad {
        assert_eq!(got, (code.to_owned(), status), "{what}");
    }
}

/// What ACL grants allow, and what wins over them.
#[tokio::test]
async fn acl_grants_are_enforced_and_a_policy_deny_wins() {
    let server = TestServer::start();
    let s3 = server.root_s3();
    open_bucket(&s3, "site").await;
    put(&s3, "site", "public.txt", Some(ObjectCannedAcl::PublicRead)).await;
    put(&s3, "site", "private.txt", None).await;
    put(
        &s3,
        "site",
        "members.txt",
        Some(ObjectCannedAcl::AuthenticatedRead),
    )
    .await;

    assert_eq!(
        anonymous_get(&server, "/site/public.txt"),
        (200, "hello".into())
    );
    assert_eq!(
        common::request(server.s3, "HEAD", "/site/public.txt", "").status,
        200
    );
    assert_eq!(anonymous_get(&server, "/site/private.txt").0, 403);
    assert_eq!(anonymous_get(&server, "/site/members.txt").0, 403);
    // READ on the object is not READ_ACP, nor a listing of the bucket.
    assert_eq!(anonymous_get(&server, "/site/public.txt?acl").0, 403);
    assert_eq!(anonymous_get(&server, "/site").0, 403);
    // A missing key is 403 to a caller who may not list, as for policies; so is any error
    // met before the object's ACL could allow the caller.
    assert_eq!(anonymous_get(&server, "/site/missing.txt").0, 403);
    assert_eq!(
        anonymous_get(
            &server,
            "/site/private.txt?versionId=7ffa0b1c2d3e4f50a1b2c3d4e5f60718"
        )
        .0,
        403
    );
    assert_eq!(
        anonymous_get(
            &server,
            "/site/public.txt?versionId=7ffa0b1c2d3e4f50a1b2c3d4e5f60718"
        )
        .0,
        403
    );

    // A user of the account with no policy at all: the public grants reach it (it is one of
    // "all users" and signs its requests); the account's own grants do not.
    let nobody = server.with_user(&allow("iam:GetUser")).await;
    let read = |s3: Client, key: &'static str| async move {
        s3.get_object()
            .bucket("site")
            .key(key)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| e.into_service_error().to_string())
    };
    assert!(read(nobody.s3.clone(), "public.txt").await.is_ok());
    assert!(read(nobody.s3.clone(), "members.txt").await.is_ok());
    assert!(read(nobody.s3.clone(), "private.txt").await.is_err());

    // A bucket ACL granting READ lets everyone list.
    s3.put_bucket_acl()
        .bucket("site")
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    let (status, body) = anonymous_get(&server, "/site?list-type=2");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<Key>private.txt</Key>"), "{body}");
    // Now a missing key is 404: the caller may list.
    assert_eq!(anonymous_get(&server, "/site/missing.txt").0, 404);
    // Listing is no read of a private object.
    assert_eq!(anonymous_get(&server, "/site/private.txt").0, 403);

    // An explicit Deny in the bucket policy beats the ACL's grant.
    s3.put_bucket_policy()
        .bucket("site")
        .policy(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*",
                "Action":"s3:GetObject","Resource":"arn:aws:s3:::site/public.txt"}]}"#,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous_get(&server, "/site/public.txt").0, 403);
    assert!(read(nobody.s3.clone(), "public.txt").await.is_err());
    s3.delete_bucket_policy()
        .bucket("site")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous_get(&server, "/site/public.txt").0, 200);

    // Turning ACLs off makes every grant ineffective (the ACLs are kept, not shown).
    s3.put_bucket_acl()
        .bucket("site")
        .acl(BucketCannedAcl::Private)
        .send()
        .await
        .unwrap();
    s3.put_bucket_ownership_controls()
        .bucket("site")
        .ownership_controls(controls(ObjectOwnership::BucketOwnerEnforced))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous_get(&server, "/site/public.txt").0, 403);
    assert!(read(nobody.s3.clone(), "public.txt").await.is_err());

    // A user may set a public ACL only with s3:PutObjectAcl besides s3:PutObject.
    set_blocks(&s3, "site", blocks([false, false, false, false])).await;
    s3.put_bucket_ownership_controls()
        .bucket("site")
        .ownership_controls(controls(ObjectOwnership::ObjectWriter))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous_get(&server, "/site/public.txt").0, 200);
    let writer = server.with_user(&allow("s3:PutObject")).await;
    let public_put = writer
        .s3
        .put_object()
        .bucket("site")
        .key("by-writer")
        .acl(ObjectCannedAcl::PublicRead)
        .body(ByteStream::from_static(b"w"))
        .send()
        .await;
    assert_eq!(
        error_code_status(public_put),
        ("AccessDenied".to_owned(), 403)
    );
    writer
        .s3
        .put_object()
        .bucket("site")
        .key("by-writer")
        .acl(ObjectCannedAcl::BucketOwnerFullControl)
        .body(ByteStream::from_static(b"w"))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn public_access_blocks_are_created_read_replaced_and_deleted() {
    let server = TestServer::start();
    let s3 = server.with_bucket("blocked").await;
    let get = |s3: Client| async move {
        s3.get_public_access_block()
            .bucket("blocked")
            .send()
            .await
            .map(|out| {
                let c = out.public_access_block_configuration().unwrap();
                (
                    c.block_public_acls(),
                    c.ignore_public_acls(),
                    c.block_public_policy(),
                    c.restrict_public_buckets(),
                )
            })
    };
    let all = Some(true);
    assert_eq!(get(s3.clone()).await.unwrap(), (all, all, all, all));
    // A setting left out is false.
    s3.put_public_access_block()
        .bucket("blocked")
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_policy(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (f, t) = (Some(false), Some(true));
    assert_eq!(get(s3.clone()).await.unwrap(), (f, f, t, f));
    s3.delete_public_access_block()
        .bucket("blocked")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code_status(get(s3.clone()).await),
        ("NoSuchPublicAccessBlockConfiguration".to_owned(), 404)
    );
    let missing = s3.get_public_access_block().bucket("nope").send().await;
    assert_eq!(error_code_status(missing), ("NoSuchBucket".to_owned(), 404));
}

fn public_policy(bucket: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*",
            "Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
    )
}

/// Each Block Public Access setting does what S3 says, on its own.
#[tokio::test]
async fn each_block_public_access_setting_is_enforced() {
    let server = TestServer::start();
    let s3 = server.root_s3();
    open_bucket(&s3, "pab").await;
    put(&s3, "pab", "public.txt", Some(ObjectCannedAcl::PublicRead)).await;
    assert_eq!(anonymous_get(&server, "/pab/public.txt").0, 200);

    // BlockPublicPolicy: a public policy is refused; a non-public one is not.
    set_blocks(&s3, "pab", blocks([false, false, true, false])).await;
    let refused = s3
        .put_bucket_policy()
        .bucket("pab")
        .policy(public_policy("pab"))
        .send()
        .await;
    assert_eq!(error_code_status(refused), ("AccessDenied".to_owned(), 403));
    assert!(s3.get_bucket_policy().bucket("pab").send().await.is_err());
    let pinned = public_policy("pab").replace(
        r#""Resource""#,
        r#""Condition":{"IpAddress":{"aws:SourceIp":"10.1.2.0/24"}},"Resource""#,
    );
    s3.put_bucket_policy()
        .bucket("pab")
        .policy(pinned)
        .send()
        .await
        .unwrap();
    s3.delete_bucket_policy()
        .bucket("pab")
        .send()
        .await
        .unwrap();

    // BlockPublicAcls: writes carrying a public ACL are refused; existing ones still apply.
    set_blocks(&s3, "pab", blocks([true, false, false, false])).await;
    let refused = s3
        .put_object()
        .bucket("pab")
        .key("new.txt")
        .acl(ObjectCannedAcl::PublicRead)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await;
    assert_eq!(error_code_status(refused), ("AccessDenied".to_owned(), 403));
    let refused = s3
        .put_object_acl()
        .bucket("pab")
        .key("public.txt")
        .acl(ObjectCannedAcl::AuthenticatedRead)
        .send()
        .await;
    assert_eq!(error_code_status(refused), ("AccessDenied".to_owned(), 403));
    let refused = s3
        .put_bucket_acl()
        .bucket("pab")
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await;
    assert_eq!(error_code_status(refused), ("AccessDenied".to_owned(), 403));
    assert!(s3
        .head_object()
        .bucket("pab")
        .key("new.txt")
        .send()
        .await
        .is_err());
    put(&s3, "pab", "new.txt", Some(ObjectCannedAcl::Private)).await;
    assert_eq!(anonymous_get(&server, "/pab/public.txt").0, 200);

    // IgnorePublicAcls: public grants grant nothing while it is on; the ACL is kept.
    set_blocks(&s3, "pab", blocks([false, true, false, false])).await;
    assert_eq!(anonymous_get(&server, "/pab/public.txt").0, 403);
    assert_eq!(
        object_grants(&s3, "pab", "public.txt").await.len(),
        2,
        "the ACL is kept"
    );
    set_blocks(&s3, "pab", blocks([false, false, false, false])).await;
    assert_eq!(anonymous_get(&server, "/pab/public.txt").0, 200);

    // RestrictPublicBuckets: a public policy's grants no longer reach anonymous callers;
    // users of the account keep them.
    put(&s3, "pab", "by-policy.txt", None).await;
    s3.put_bucket_policy()
        .bucket("pab")
        .policy(public_policy("pab"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous_get(&server, "/pab/by-policy.txt").0, 200);
    let user = server.with_user(&allow("iam:GetUser")).await;
    set_blocks(&s3, "pab", blocks([false, false, false, true])).await;
    assert_eq!(anonymous_get(&server, "/pab/by-policy.txt").0, 403);
    user.s3
        .get_object()
        .bucket("pab")
        .key("by-policy.txt")
        .send()
        .await
        .unwrap();
    // The policy is still public: the setting decides who it reaches.
    let status = s3
        .get_bucket_policy_status()
        .bucket("pab")
        .send()
        .await
        .unwrap();
    assert_eq!(
        status.policy_status().and_then(|s| s.is_public()),
        Some(true)
    );
    // An ACL is not a policy: RestrictPublicBuckets leaves it alone.
    assert_eq!(anonymous_get(&server, "/pab/public.txt").0, 200);
}

/// `backend.s3.new_buckets.block_public_access`: on by default; off, a new bucket has no
/// Block Public Access configuration and a public policy takes effect at once.
#[tokio::test]
async fn new_buckets_block_public_access_unless_configured_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(
        dir.path(),
        &[(
            "LABSTORE_BACKEND_S3_NEW_BUCKETS_BLOCK_PUBLIC_ACCESS",
            "false",
        )],
    )
    .unwrap();
    let s3 = server.with_bucket("unblocked").await;
    let got = s3
        .get_public_access_block()
        .bucket("unblocked")
        .send()
        .await;
    assert_eq!(
        error_code_status(got),
        ("NoSuchPublicAccessBlockConfiguration".to_owned(), 404)
    );
    put(&s3, "unblocked", "k", None).await;
    s3.put_bucket_policy()
        .bucket("unblocked")
        .policy(public_policy("unblocked"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous_get(&server, "/unblocked/k").0, 200);
    // CreateBucket may enable ACLs and give the bucket a public ACL at once.
    s3.create_bucket()
        .bucket("listed")
        .object_ownership(ObjectOwnership::ObjectWriter)
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    let owner = owner_id(&s3).await;
    assert_eq!(
        bucket_grants(&s3, "listed").await,
        vec![
            (format!("id:{owner}"), Permission::FullControl),
            (ALL_USERS.to_owned(), Permission::Read)
        ]
    );
    assert_eq!(anonymous_get(&server, "/listed?list-type=2").0, 200);
    // Ownership still defaults to ACLs disabled.
    let ownership = s3
        .get_bucket_ownership_controls()
        .bucket("unblocked")
        .send()
        .await
        .unwrap();
    assert_eq!(
        ownership.ownership_controls().unwrap().rules()[0].object_ownership(),
        &ObjectOwnership::BucketOwnerEnforced
    );
    drop(server);

    let server = TestServer::start();
    let s3 = server.with_bucket("default").await;
    let refused = s3
        .put_bucket_policy()
        .bucket("default")
        .policy(public_policy("default"))
        .send()
        .await;
    assert_eq!(error_code_status(refused), ("AccessDenied".to_owned(), 403));
    // With ACLs enabled, a public ACL on CreateBucket meets the new bucket's BlockPublicAcls.
    let refused = s3
        .create_bucket()
        .bucket("listed")
        .object_ownership(ObjectOwnership::ObjectWriter)
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await;
    assert_eq!(error_code_status(refused), ("AccessDenied".to_owned(), 403));
    assert!(s3.head_bucket().bucket("listed").send().await.is_err());
}

/// A bucket that existed before ownership controls and public access blocks (created
/// without them, as a migrated one is) behaves as S3's older buckets: ACLs apply, nothing
/// is blocked, and the Get operations say it has neither.
#[tokio::test]
async fn buckets_from_before_behave_as_they_did() {
    let server = TestServer::start();
    let account = server.state().config.backend.iam.account_id.clone();
    server
        .state()
        .objects
        .create_bucket("legacy".into(), "us-east-1".into(), account)
        .await
        .unwrap();
    let s3 = server.root_s3();
    let ownership = s3
        .get_bucket_ownership_controls()
        .bucket("legacy")
        .send()
        .await;
    assert_eq!(
        error_code_status(ownership),
        ("OwnershipControlsNotFoundError".to_owned(), 404)
    );
    let block = s3.get_public_access_block().bucket("legacy").send().await;
    assert_eq!(
        error_code_status(block),
        ("NoSuchPublicAccessBlockConfiguration".to_owned(), 404)
    );
    put(&s3, "legacy", "old.txt", None).await;
    s3.put_bucket_policy()
        .bucket("legacy")
        .policy(public_policy("legacy"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous_get(&server, "/legacy/old.txt").0, 200);
    put(
        &s3,
        "legacy",
        "shared.txt",
        Some(ObjectCannedAcl::PublicRead),
    )
    .await;
    s3.delete_bucket_policy()
        .bucket("legacy")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous_get(&server, "/legacy/shared.txt").0, 200);
    assert_eq!(anonymous_get(&server, "/legacy/old.txt").0, 403);
}

/// The ACL condition keys `s3:x-amz-acl` and `s3:x-amz-grant-*` are the request's headers, as
/// sent: a user whose policy denies `s3:PutObject` unless `s3:x-amz-grant-full-control` is
/// `id=<owner>` may upload only with that header (`id="<owner>"` is another string), and one
/// denied Put…Acl whenever a grant header is present, or `x-amz-acl` is `public-read`, may set
/// only the ACLs without them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acl_condition_keys_are_the_requests_acl_headers() {
    let server = TestServer::start();
    let s3 = server.root_s3();
    open_bucket(&s3, "grants").await;
    let owner = owner_id(&s3).await;
    let deny_when_present = |key: &str| {
        format!(
            r#"{{"Effect": "Deny", "Action": ["s3:PutObjectAcl", "s3:PutBucketAcl"],
                "Resource": ["arn:aws:s3:::grants", "arn:aws:s3:::grants/*"],
                "Condition": {{"Null": {{"{key}": "false"}}}}}}"#
        )
    };
    let policy = format!(
        r#"{{"Version": "2012-10-17", "Statement": [
            {{"Effect": "Allow", "Action": ["s3:PutObject", "s3:PutObjectAcl", "s3:PutBucketAcl"],
              "Resource": ["arn:aws:s3:::grants", "arn:aws:s3:::grants/*"]}},
            {{"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::grants/*",
              "Condition": {{"StringNotEquals": {{"s3:x-amz-grant-full-control": "id={owner}"}}}}}},
            {{"Effect": "Deny", "Action": ["s3:PutObjectAcl", "s3:PutBucketAcl"],
              "Resource": ["arn:aws:s3:::grants", "arn:aws:s3:::grants/*"],
              "Condition": {{"StringEquals": {{"s3:x-amz-acl": "public-read"}}}}}},
            {}, {}, {}, {}]}}"#,
        deny_when_present("s3:x-amz-grant-read"),
        deny_when_present("s3:x-amz-grant-write"),
        deny_when_present("s3:x-amz-grant-read-acp"),
        deny_when_present("s3:x-amz-grant-write-acp"),
    );
    let user = server.with_user(&policy).await;
    let denied = ("AccessDenied".to_owned(), 403);
    let upload = |grant: Option<String>, acl: Option<ObjectCannedAcl>| {
        user.s3
            .put_object()
            .bucket("grants")
            .key("k")
            .set_grant_full_control(grant)
            .set_acl(acl)
            .body(ByteStream::from_static(b"hello"))
            .send()
    };
    assert_eq!(error_code_status(upload(None, None).await), denied);
    assert_eq!(
        error_code_status(upload(None, Some(ObjectCannedAcl::BucketOwnerFullControl)).await),
        denied
    );
    assert_eq!(
        error_code_status(upload(Some(format!("id=\"{owner}\"")), None).await),
        denied,
        "a quoted id is another string"
    );
    upload(Some(format!("id={owner}")), None).await.unwrap();

    let full = format!("id=\"{owner}\"");
    let object_acl = user
        .s3
        .put_object_acl()
        .bucket("grants")
        .key("k")
        .grant_full_control(&full);
    for refused in [
        object_acl.clone().grant_read(&full),
        object_acl.clone().grant_read_acp(&full),
        object_acl.clone().grant_write_acp(&full),
    ] {
        assert_eq!(error_code_status(refused.send().await), denied);
    }
    object_acl.send().await.unwrap();

    let bucket_acl = user.s3.put_bucket_acl().bucket("grants");
    assert_eq!(
        error_code_status(
            bucket_acl
                .clone()
                .grant_full_control(&full)
                .grant_write(&full)
                .send()
                .await
        ),
        denied
    );
    assert_eq!(
        error_code_status(
            bucket_acl
                .clone()
                .acl(BucketCannedAcl::PublicRead)
                .send()
                .await
        ),
        denied
    );
    bucket_acl
        .acl(BucketCannedAcl::Private)
        .send()
        .await
        .unwrap();
}
