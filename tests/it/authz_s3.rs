//! Authorization of S3 requests, against the server, through aws-sdk-s3 at default
//! settings: two IAM users (alice, bob) and groups, each test setting up one classic case
//! with real IAM calls and checking what each user may and may not do.

use crate::common;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier};
use aws_sdk_s3::Client;
use common::{
    error_code_status, root_iam, s3_client, s3_client_as, start_with_root, TestServer, ROOT_SECRET,
};

struct World {
    server: TestServer,
    root: Client,
    iam: aws_sdk_iam::Client,
    alice: Client,
    bob: Client,
    alice_key: String,
    alice_secret: String,
}

/// A server with buckets `data` and `other`, and users alice and bob (no policies yet).
async fn world(dir: &std::path::Path) -> World {
    world_on(start_with_root(dir)).await
}

async fn world_on(server: TestServer) -> World {
    let root = s3_client(&server);
    for bucket in ["data", "other"] {
        root.create_bucket().bucket(bucket).send().await.unwrap();
    }
    let iam = root_iam(&server);
    let (alice_key, alice_secret) = common::user_with_key(&iam, "alice").await;
    let (bob_key, bob_secret) = common::user_with_key(&iam, "bob").await;
    World {
        alice: s3_client_as(&server, &alice_key, &alice_secret),
        alice_secret,
        bob: s3_client_as(&server, &bob_key, &bob_secret),
        alice_key,
        root,
        iam,
        server,
    }
}

fn policy(statements: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#)
}

async fn put_user_policy(iam: &aws_sdk_iam::Client, user: &str, name: &str, document: &str) {
    iam.put_user_policy()
        .user_name(user)
        .policy_name(name)
        .policy_document(document)
        .send()
        .await
        .unwrap();
}

async fn put(s3: &Client, bucket: &str, key: &str, body: &str) -> Result<(), (String, u16)> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.as_bytes().to_vec()))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| error_code_status(Err::<(), _>(e)))
}

async fn get(s3: &Client, bucket: &str, key: &str) -> Result<String, (String, u16)> {
    match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => {
            let bytes = out.body.collect().await.unwrap().into_bytes();
            Ok(String::from_utf8(bytes.to_vec()).unwrap())
        }
        Err(e) => Err(error_code_status(Err::<(), _>(e))),
    }
}

async fn list(
    s3: &Client,
    bucket: &str,
    prefix: Option<&str>,
) -> Result<Vec<String>, (String, u16)> {
    let out = s3
        .list_objects_v2()
        .bucket(bucket)
        .set_prefix(prefix.map(str::to_owned))
        .send()
        .await
        .map_err(|e| error_code_status(Err::<(), _>(e)))?;
    Ok(out
        .contents()
        .iter()
        .map(|o| o.key().unwrap().to_owned())
        .collect())
}

fn denied() -> (String, u16) {
    ("AccessDenied".to_owned(), 403)
}

#[tokio::test]
async fn a_per_bucket_read_only_user_reads_that_bucket_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    put(&w.root, "data", "a.txt", "alpha").await.unwrap();
    put(&w.root, "other", "b.txt", "beta").await.unwrap();
    let read_data = policy(
        r#"{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::data"},
           {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}"#,
    );
    put_user_policy(&w.iam, "alice", "read-data", &read_data).await;

    assert_eq!(list(&w.alice, "data", None).await.unwrap(), ["a.txt"]);
    assert_eq!(get(&w.alice, "data", "a.txt").await.unwrap(), "alpha");
    w.alice.head_bucket().bucket("data").send().await.unwrap();
    assert_eq!(put(&w.alice, "data", "x", "x").await, Err(denied()));
    assert_eq!(get(&w.alice, "other", "b.txt").await, Err(denied()));
    assert_eq!(list(&w.alice, "other", None).await, Err(denied()));
    let deleted = w
        .alice
        .delete_object()
        .bucket("data")
        .key("a.txt")
        .send()
        .await;
    assert_eq!(error_code_status(deleted), denied());
    assert_eq!(
        error_code_status(w.alice.list_buckets().send().await),
        denied()
    );
    // bob has no policy at all.
    assert_eq!(get(&w.bob, "data", "a.txt").await, Err(denied()));
    assert_eq!(get(&w.root, "data", "a.txt").await.unwrap(), "alpha");
}

#[tokio::test]
async fn a_prefix_restricted_writer_writes_only_under_its_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    let backups = policy(
        r#"{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::data/backups/*"}"#,
    );
    put_user_policy(&w.iam, "bob", "backups", &backups).await;

    put(&w.bob, "data", "backups/db.tar", "dump").await.unwrap();
    assert_eq!(
        put(&w.bob, "data", "elsewhere.txt", "x").await,
        Err(denied())
    );
    assert_eq!(
        put(&w.bob, "other", "backups/db.tar", "x").await,
        Err(denied())
    );
    // Writing is not reading.
    assert_eq!(get(&w.bob, "data", "backups/db.tar").await, Err(denied()));
    assert_eq!(
        get(&w.root, "data", "backups/db.tar").await.unwrap(),
        "dump"
    );
    assert_eq!(
        list(&w.root, "data", None).await.unwrap(),
        ["backups/db.tar"]
    );
}

/// The classic home-folder policy, attached once to a group of both users: each user lists
/// and uses `home/<own name>/` and cannot see into the other's.
#[tokio::test]
async fn the_home_folder_policy_gives_each_user_its_own_folder() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    let home = policy(
        r#"{"Sid":"ListOwnHome","Effect":"Allow","Action":"s3:ListBucket",
            "Resource":"arn:aws:s3:::data",
            "Condition":{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/*"]}}},
           {"Sid":"OwnHome","Effect":"Allow",
            "Action":["s3:GetObject","s3:PutObject","s3:DeleteObject"],
            "Resource":"arn:aws:s3:::data/home/${aws:username}/*"}"#,
    );
    let created = w
        .iam
        .create_policy()
        .policy_name("home-folders")
        .policy_document(home)
        .send()
        .await
        .unwrap();
    let arn = created.policy().unwrap().arn().unwrap().to_owned();
    w.iam
        .create_group()
        .group_name("staff")
        .send()
        .await
        .unwrap();
    w.iam
        .attach_group_policy()
        .group_name("staff")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    for user in ["alice", "bob"] {
        w.iam
            .add_user_to_group()
            .group_name("staff")
            .user_name(user)
            .send()
            .await
            .unwrap();
    }

    put(&w.alice, "data", "home/alice/notes.txt", "mine")
        .await
        .unwrap();
    put(&w.bob, "data", "home/bob/todo.txt", "his")
        .await
        .unwrap();
    assert_eq!(
        get(&w.alice, "data", "home/alice/notes.txt").await.unwrap(),
        "mine"
    );
    assert_eq!(
        list(&w.alice, "data", Some("home/alice/")).await.unwrap(),
        ["home/alice/notes.txt"]
    );
    assert_eq!(
        list(&w.alice, "data", Some("home/bob/")).await,
        Err(denied())
    );
    assert_eq!(
        get(&w.alice, "data", "home/bob/todo.txt").await,
        Err(denied())
    );
    assert_eq!(
        put(&w.alice, "data", "home/bob/evil.txt", "x").await,
        Err(denied())
    );
    assert_eq!(
        get(&w.bob, "data", "home/alice/notes.txt").await,
        Err(denied())
    );
    assert_eq!(
        put(&w.alice, "data", "shared.txt", "x").await,
        Err(denied())
    );
    // Browsing down to one's folder: the bucket's top and `home/` with a delimiter.
    let top = w
        .alice
        .list_objects_v2()
        .bucket("data")
        .prefix("home/")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let folders: Vec<_> = top
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(folders, ["home/alice/", "home/bob/"]);
    w.alice
        .list_objects_v2()
        .bucket("data")
        .prefix("")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    // A listing that does not say its prefix carries no s3:prefix, so no condition on it
    // can hold (docs/authorization.md).
    assert_eq!(list(&w.alice, "data", None).await, Err(denied()));
    // The folder of a user is named by the caller, not by the request.
    let deleted = w
        .bob
        .delete_object()
        .bucket("data")
        .key("home/bob/todo.txt")
        .send()
        .await;
    deleted.unwrap();
}

#[tokio::test]
async fn an_explicit_deny_on_a_user_overrides_its_groups_allow() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    w.iam
        .create_group()
        .group_name("writers")
        .send()
        .await
        .unwrap();
    let all = policy(
        r#"{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::data","arn:aws:s3:::data/*"]}"#,
    );
    w.iam
        .put_group_policy()
        .group_name("writers")
        .policy_name("all-of-data")
        .policy_document(all)
        .send()
        .await
        .unwrap();
    for user in ["alice", "bob"] {
        w.iam
            .add_user_to_group()
            .group_name("writers")
            .user_name(user)
            .send()
            .await
            .unwrap();
    }
    let no_delete =
        policy(r#"{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::data/*"}"#);
    put_user_policy(&w.iam, "alice", "no-delete", &no_delete).await;
    put(&w.root, "data", "keep.txt", "k").await.unwrap();
    put(&w.root, "data", "gone.txt", "g").await.unwrap();

    put(&w.alice, "data", "new.txt", "n").await.unwrap();
    let refused = w
        .alice
        .delete_object()
        .bucket("data")
        .key("keep.txt")
        .send()
        .await;
    assert_eq!(error_code_status(refused), denied());
    w.bob
        .delete_object()
        .bucket("data")
        .key("gone.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        list(&w.root, "data", None).await.unwrap(),
        ["keep.txt", "new.txt"]
    );
}

#[tokio::test]
async fn copies_need_read_on_the_source_and_multipart_needs_its_own_actions() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    put(&w.root, "data", "public/src.txt", "shareable")
        .await
        .unwrap();
    put(&w.root, "data", "private/secret.txt", "secret")
        .await
        .unwrap();
    let uploads = policy(
        r#"{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::data/uploads/*"},
           {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/public/*"}"#,
    );
    put_user_policy(&w.iam, "alice", "uploads", &uploads).await;

    let copy = |source: &str, key: &str| {
        w.alice
            .copy_object()
            .bucket("data")
            .key(key)
            .copy_source(format!("data/{source}"))
            .send()
    };
    copy("public/src.txt", "uploads/copy.txt").await.unwrap();
    assert_eq!(
        get(&w.root, "data", "uploads/copy.txt").await.unwrap(),
        "shareable"
    );
    let stolen = copy("private/secret.txt", "uploads/stolen.txt").await;
    assert_eq!(error_code_status(stolen), denied());
    let misplaced = copy("public/src.txt", "elsewhere.txt").await;
    assert_eq!(error_code_status(misplaced), denied());
    assert_eq!(
        list(&w.root, "data", Some("uploads/")).await.unwrap(),
        ["uploads/copy.txt"]
    );

    // Create, upload and complete are s3:PutObject; listing parts, listing uploads and
    // aborting are actions of their own.
    let created = w
        .alice
        .create_multipart_upload()
        .bucket("data")
        .key("uploads/big.bin")
        .send()
        .await
        .unwrap();
    let upload_id = created.upload_id().unwrap();
    let part = w
        .alice
        .upload_part()
        .bucket("data")
        .key("uploads/big.bin")
        .upload_id(upload_id)
        .part_number(1)
        .body(ByteStream::from_static(b"part one"))
        .send()
        .await
        .unwrap();
    let copied_part = w
        .alice
        .upload_part_copy()
        .bucket("data")
        .key("uploads/big.bin")
        .upload_id(upload_id)
        .part_number(2)
        .copy_source("data/private/secret.txt")
        .send()
        .await;
    assert_eq!(error_code_status(copied_part), denied());
    let parts = w
        .alice
        .list_parts()
        .bucket("data")
        .key("uploads/big.bin")
        .upload_id(upload_id)
        .send()
        .await;
    assert_eq!(error_code_status(parts), denied());
    let uploads = w.alice.list_multipart_uploads().bucket("data").send().await;
    assert_eq!(error_code_status(uploads), denied());
    let aborted = w
        .alice
        .abort_multipart_upload()
        .bucket("data")
        .key("uploads/big.bin")
        .upload_id(upload_id)
        .send()
        .await;
    assert_eq!(error_code_status(aborted), denied());
    let completed = CompletedMultipartUpload::builder()
        .parts(
            CompletedPart::builder()
                .part_number(1)
                .e_tag(part.e_tag().unwrap())
                .build(),
        )
        .build();
    w.alice
        .complete_multipart_upload()
        .bucket("data")
        .key("uploads/big.bin")
        .upload_id(upload_id)
        .multipart_upload(completed)
        .send()
        .await
        .unwrap();
    assert_eq!(
        get(&w.root, "data", "uploads/big.bin").await.unwrap(),
        "part one"
    );
    let outside = w
        .alice
        .create_multipart_upload()
        .bucket("data")
        .key("big.bin")
        .send()
        .await;
    assert_eq!(error_code_status(outside), denied());
}

#[tokio::test]
async fn delete_objects_deletes_the_allowed_keys_and_reports_the_denied_ones() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    for key in ["tmp/a", "tmp/b", "keep/c"] {
        put(&w.root, "data", key, "x").await.unwrap();
    }
    let tmp = policy(
        r#"{"Effect":"Allow","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::data/tmp/*"}"#,
    );
    put_user_policy(&w.iam, "alice", "tmp", &tmp).await;

    let objects = ["tmp/a", "keep/c", "tmp/b"]
        .iter()
        .map(|k| ObjectIdentifier::builder().key(*k).build().unwrap())
        .collect();
    let out = w
        .alice
        .delete_objects()
        .bucket("data")
        .delete(
            Delete::builder()
                .set_objects(Some(objects))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let mut deleted: Vec<_> = out.deleted().iter().filter_map(|d| d.key()).collect();
    deleted.sort_unstable();
    assert_eq!(deleted, ["tmp/a", "tmp/b"]);
    let errors: Vec<_> = out
        .errors()
        .iter()
        .map(|e| (e.key().unwrap(), e.code().unwrap()))
        .collect();
    assert_eq!(errors, [("keep/c", "AccessDenied")]);
    assert_eq!(list(&w.root, "data", None).await.unwrap(), ["keep/c"]);
}

/// Every IAM change that alters a user's effective policies holds from the next request.
#[tokio::test]
async fn policy_changes_take_effect_on_the_next_request() {
    use aws_sdk_iam::types::StatusType;
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    put(&w.root, "data", "a.txt", "alpha").await.unwrap();
    let iam = &w.iam;
    let read =
        policy(r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}"#);
    let arn = iam
        .create_policy()
        .policy_name("read-data")
        .policy_document(read)
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    iam.create_group()
        .group_name("readers")
        .send()
        .await
        .unwrap();
    iam.attach_group_policy()
        .group_name("readers")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    let reads = || async { get(&w.alice, "data", "a.txt").await.map(|_| ()) };
    assert_eq!(reads().await, Err(denied()));
    let membership = |add: bool| async move {
        match add {
            true => {
                let added = iam
                    .add_user_to_group()
                    .group_name("readers")
                    .user_name("alice");
                added.send().await.unwrap();
            }
            false => {
                let removed = iam.remove_user_from_group().group_name("readers");
                removed.user_name("alice").send().await.unwrap();
            }
        }
    };
    membership(true).await;
    assert_eq!(reads().await, Ok(()));
    membership(false).await;
    assert_eq!(reads().await, Err(denied()));
    membership(true).await;
    assert_eq!(reads().await, Ok(()));
    iam.detach_group_policy()
        .group_name("readers")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(reads().await, Err(denied()));
    iam.attach_user_policy()
        .user_name("alice")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(reads().await, Ok(()));
    // A new default version that reads another bucket; then back to the first.
    let other =
        policy(r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}"#);
    iam.create_policy_version()
        .policy_arn(&arn)
        .policy_document(other)
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    assert_eq!(reads().await, Err(denied()));
    iam.set_default_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .unwrap();
    assert_eq!(reads().await, Ok(()));
    let deny = policy(r#"{"Effect":"Deny","Action":"s3:*","Resource":"*"}"#);
    put_user_policy(iam, "alice", "freeze", &deny).await;
    assert_eq!(reads().await, Err(denied()));
    iam.delete_user_policy()
        .user_name("alice")
        .policy_name("freeze")
        .send()
        .await
        .unwrap();
    assert_eq!(reads().await, Ok(()));
    let status = |status: StatusType| {
        iam.update_access_key()
            .user_name("alice")
            .access_key_id(&w.alice_key)
            .status(status)
            .send()
    };
    status(StatusType::Inactive).await.unwrap();
    assert_eq!(reads().await, Err(("InvalidAccessKeyId".to_owned(), 403)));
    status(StatusType::Active).await.unwrap();
    assert_eq!(reads().await, Ok(()));
}

/// Whether a key exists is for those who may list the bucket: others get 403 either way.
#[tokio::test]
async fn a_missing_key_is_access_denied_unless_the_caller_may_list() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    let read =
        policy(r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}"#);
    put_user_policy(&w.iam, "alice", "read", &read).await;
    assert_eq!(get(&w.alice, "data", "missing").await, Err(denied()));
    let head = w
        .alice
        .head_object()
        .bucket("data")
        .key("missing")
        .send()
        .await;
    assert_eq!(error_code_status(head).1, 403);
    let list =
        policy(r#"{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::data"}"#);
    put_user_policy(&w.iam, "alice", "list", &list).await;
    assert_eq!(
        get(&w.alice, "data", "missing").await,
        Err(("NoSuchKey".to_owned(), 404))
    );
    let head = w
        .alice
        .head_object()
        .bucket("data")
        .key("missing")
        .send()
        .await;
    assert_eq!(error_code_status(head).1, 404);
}

#[tokio::test]
async fn anonymous_requests_are_denied_without_a_bucket_policy() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    put(&w.root, "data", "a.txt", "alpha").await.unwrap();
    for path in ["/data/a.txt", "/data", "/"] {
        let r = common::get(w.server.s3, path);
        assert_eq!(r.status, 403, "{path}: {}", r.body);
        assert!(r.body.contains("<Code>AccessDenied</Code>"), "{}", r.body);
    }
    // An Authorization header in an unknown scheme is refused, never taken as anonymous.
    let headers = [
        ("Host".to_owned(), w.server.s3.to_string()),
        ("Authorization".to_owned(), "Bearer token".to_owned()),
    ];
    let r = common::signing::send(w.server.s3, "GET", "/data/a.txt", &headers, "");
    assert!([400, 403].contains(&r.status), "{}: {}", r.status, r.body);
    assert!(
        r.body.contains("<Error>") && !r.body.contains("alpha"),
        "{}",
        r.body
    );
}

/// `aws:SourceIp` is the peer's address; `X-Forwarded-For` counts only from a configured
/// trusted proxy, so a client cannot claim an address its policy trusts.
#[tokio::test]
async fn source_ip_conditions_believe_forwarding_headers_only_from_trusted_proxies() {
    let from_lan = policy(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*",
            "Condition":{"IpAddress":{"aws:SourceIp":"198.51.100.0/24"}}}"#,
    );
    for trusted in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let mut env = vec![("LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY", ROOT_SECRET)];
        if trusted {
            env.push(("LABSTORE_BACKEND_TRUSTED_PROXIES", "127.0.0.0/8, ::1"));
        }
        let server = TestServer::start_with(dir.path(), &env).unwrap();
        let w = world_on(server).await;
        put(&w.root, "data", "a.txt", "alpha").await.unwrap();
        put_user_policy(&w.iam, "alice", "lan", &from_lan).await;
        let forwarded = |client: &str| {
            let client = client.to_owned();
            w.alice
                .get_object()
                .bucket("data")
                .key("a.txt")
                .customize()
                .mutate_request(move |req| {
                    req.headers_mut().insert("x-forwarded-for", client.clone());
                })
                .send()
        };
        // Directly, the source is 127.0.0.1: outside the range either way.
        assert_eq!(get(&w.alice, "data", "a.txt").await, Err(denied()));
        let inside = forwarded("198.51.100.7").await;
        match trusted {
            true => assert!(inside.is_ok(), "{inside:?}"),
            false => assert_eq!(error_code_status(inside), denied()),
        }
        let outside = forwarded("203.0.113.5").await;
        assert_eq!(error_code_status(outside), denied());
    }
}

async fn put_bucket_policy(s3: &Client, bucket: &str, document: &str) {
    s3.put_bucket_policy()
        .bucket(bucket)
        .policy(document)
        .send()
        .await
        .unwrap();
}

/// The static-website case: a bucket policy grants `s3:GetObject` on one prefix to
/// everyone, and a browser (no credentials) reads it; nothing else opens up.
#[tokio::test]
async fn anonymous_callers_read_what_a_bucket_policy_grants_to_everyone() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    put(&w.root, "data", "site/index.html", "<h1>hello</h1>")
        .await
        .unwrap();
    put(&w.root, "data", "private.txt", "secret").await.unwrap();
    let public_site = policy(
        r#"{"Sid":"PublicSite","Effect":"Allow","Principal":"*","Action":"s3:GetObject",
            "Resource":"arn:aws:s3:::data/site/*"}"#,
    );
    // New buckets block public policies, as in S3: one call lifts that.
    common::allow_public_access(&w.root, "data").await;
    put_bucket_policy(&w.root, "data", &public_site).await;

    let page = common::get(w.server.s3, "/data/site/index.html");
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.body, "<h1>hello</h1>");
    let head = common::request(w.server.s3, "HEAD", "/data/site/index.html", "");
    assert_eq!(head.status, 200);
    for (method, path) in [
        ("GET", "/data/private.txt"),
        ("GET", "/data"),
        ("GET", "/"),
        ("PUT", "/data/site/defaced.html"),
        ("DELETE", "/data/site/index.html"),
        ("GET", "/other/b.txt"),
    ] {
        let r = common::request(w.server.s3, method, path, "");
        assert_eq!(r.status, 403, "{method} {path}: {}", r.body);
    }
    // A missing page under the public prefix: 403, since anonymous callers may not list.
    assert_eq!(
        common::get(w.server.s3, "/data/site/missing.html").status,
        403
    );
    // The grant applies to signed callers too: bob has no identity policy at all.
    assert_eq!(
        get(&w.bob, "data", "site/index.html").await.unwrap(),
        "<h1>hello</h1>"
    );
    assert_eq!(get(&w.bob, "data", "private.txt").await, Err(denied()));
    // Deleting the policy closes the site on the next request.
    w.root
        .delete_bucket_policy()
        .bucket("data")
        .send()
        .await
        .unwrap();
    assert_eq!(
        common::get(w.server.s3, "/data/site/index.html").status,
        403
    );
}

/// A bucket policy names users to grant them access without identity policies, and its
/// Deny binds everyone, the root included, except for managing the policy itself.
#[tokio::test]
async fn bucket_policies_grant_to_named_users_and_their_denies_bind_even_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    let account = w.iam.get_user().user_name("alice").send().await.unwrap();
    let alice_arn = account.user().unwrap().arn().to_owned();
    let account_id = alice_arn.split(':').nth(4).unwrap().to_owned();
    put(&w.root, "data", "keep.txt", "k").await.unwrap();
    let all = policy(r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"}"#);
    put_user_policy(&w.iam, "bob", "all", &all).await;
    let document = policy(&format!(
        r#"{{"Sid":"DropBox","Effect":"Allow","Principal":{{"AWS":"{alice_arn}"}},
             "Action":"s3:PutObject","Resource":"arn:aws:s3:::data/drop/*"}},
           {{"Sid":"NoDeletes","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject",
             "Resource":"arn:aws:s3:::data/*"}},
           {{"Sid":"AccountRead","Effect":"Allow","Principal":{{"AWS":"{account_id}"}},
             "Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}}"#
    ));
    put_bucket_policy(&w.root, "data", &document).await;

    put(&w.alice, "data", "drop/report.pdf", "r").await.unwrap();
    // Naming the account delegates to its identity policies: alice has none that reads.
    assert_eq!(get(&w.alice, "data", "keep.txt").await, Err(denied()));
    assert_eq!(get(&w.bob, "data", "keep.txt").await.unwrap(), "k");
    assert_eq!(
        put(&w.alice, "data", "elsewhere.txt", "x").await,
        Err(denied())
    );
    assert_eq!(put(&w.bob, "other", "fine.txt", "x").await, Ok(()));
    for client in [&w.bob, &w.root] {
        let refused = client
            .delete_object()
            .bucket("data")
            .key("keep.txt")
            .send()
            .await;
        assert_eq!(error_code_status(refused), denied());
    }
    // Under a policy that denies everything to everyone, only the root may still manage
    // the policy: the way out of a lock-out.
    let lock_out = policy(
        r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::data","arn:aws:s3:::data/*"]}"#,
    );
    put_bucket_policy(&w.root, "data", &lock_out).await;
    assert_eq!(get(&w.root, "data", "keep.txt").await, Err(denied()));
    let read_back = w
        .root
        .get_bucket_policy()
        .bucket("data")
        .send()
        .await
        .unwrap();
    assert_eq!(read_back.policy(), Some(lock_out.as_str()));
    let refused = w.bob.get_bucket_policy().bucket("data").send().await;
    assert_eq!(error_code_status(refused), denied());
    w.root
        .delete_bucket_policy()
        .bucket("data")
        .send()
        .await
        .unwrap();
    w.root
        .delete_object()
        .bucket("data")
        .key("keep.txt")
        .send()
        .await
        .unwrap();
}

/// A repeated query parameter is read once, the same way, by the policy and the listing: the
/// first occurrence, as S3 reads it. Before, the policy saw the last `prefix` while the
/// listing used the first, and `?prefix=&prefix=home/alice/` listed the whole bucket.
#[tokio::test]
async fn a_repeated_listing_parameter_means_the_same_to_the_policy_and_the_listing() {
    use common::signing::{send, Signer};
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    for key in ["home/alice/a", "home/bob/b", "payroll"] {
        put(&w.root, "data", key, "x").await.unwrap();
    }
    let document = policy(
        r#"{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::data",
            "Condition":{"StringLike":{"s3:prefix":"home/${aws:username}/*"},
                         "StringEqualsIfExists":{"s3:delimiter":"/"},
                         "NumericLessThanEqualsIfExists":{"s3:max-keys":"10"}}}"#,
    );
    put_user_policy(&w.iam, "alice", "home", &document).await;
    let alice = Signer::s3(&w.alice_key, &w.alice_secret);
    let list = |query: &str| {
        let path = format!("/data?list-type=2&{query}");
        let (path, headers) = alice.sign(w.server.s3, "GET", &path, &[], b"");
        send(w.server.s3, "GET", &path, &headers, b"")
    };
    for query in [
        "prefix=&prefix=home%2Falice%2F",
        "prefix=home%2Falice%2F&delimiter=%7C&delimiter=%2F",
        "prefix=home%2Falice%2F&max-keys=1000&max-keys=5",
    ] {
        let r = list(query);
        assert_eq!(r.status, 403, "{query}: {}", r.body);
        assert!(!r.body.contains("payroll"), "{query}: {}", r.body);
    }
    let r = list("prefix=home%2Falice%2F&prefix=&max-keys=5&max-keys=1000");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<Key>home/alice/a</Key>"), "{}", r.body);
    assert!(
        !r.body.contains("payroll") && !r.body.contains("home/bob"),
        "{}",
        r.body
    );
    assert!(r.body.contains("<MaxKeys>5</MaxKeys>"), "{}", r.body);
}

/// A request naming a version needs the `…Version` action, as in AWS: `s3:GetObject` alone
/// does not read `?versionId=null`.
#[tokio::test]
async fn a_named_version_needs_the_version_actions() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    put(&w.root, "data", "k", "x").await.unwrap();
    let read =
        policy(r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}"#);
    put_user_policy(&w.iam, "alice", "read", &read).await;
    assert_eq!(get(&w.alice, "data", "k").await.unwrap(), "x");
    let versioned = w
        .alice
        .get_object()
        .bucket("data")
        .key("k")
        .version_id("null")
        .send()
        .await;
    assert_eq!(error_code_status(versioned), denied());
    let both = policy(
        r#"{"Effect":"Allow","Action":["s3:GetObject","s3:GetObjectVersion"],"Resource":"arn:aws:s3:::data/*"}"#,
    );
    put_user_policy(&w.iam, "alice", "read", &both).await;
    let out = w
        .alice
        .get_object()
        .bucket("data")
        .key("k")
        .version_id("null")
        .send()
        .await
        .unwrap();
    assert_eq!(out.version_id(), Some("null"));
}
