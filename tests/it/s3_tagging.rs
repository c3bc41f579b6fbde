//! Object and bucket tagging through `aws-sdk-s3` at default settings: the six tagging
//! operations, `x-amz-tagging` on PutObject, CreateMultipartUpload and CopyObject (with
//! `x-amz-tagging-directive`), `x-amz-tagging-count`, S3's limits and errors, and the tag
//! condition keys (`s3:ExistingObjectTag/<key>`, `s3:RequestObjectTag/<key>`,
//! `s3:RequestObjectTagKeys`) in identity and bucket policies. Raw signed requests only for
//! bodies no SDK sends (malformed XML, no Content-MD5).

use crate::common;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, Tag, Tagging, TaggingDirective};
use aws_sdk_s3::Client;
use base64::Engine;
use common::signing::{s3_call, Signer};
use common::{error_code_status, s3_client, start_with_root, TestServer, ROOT_SECRET};
use md5::{Digest, Md5};

const B: &str = "tagged";

/// A tag as a test writes it.
type Pair<'a> = (&'a str, &'a str);
/// An error code and status.
type Refusal = (String, u16);

async fn setup(dir: &std::path::Path) -> (TestServer, Client) {
    common::start_with_bucket(dir, B).await
}

async fn put(s3: &Client, key: &str, tagging: Option<&str>) -> Result<(), (String, u16)> {
    s3.put_object()
        .bucket(B)
        .key(key)
        .body(ByteStream::from_static(b"bytes"))
        .set_tagging(tagging.map(str::to_owned))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| error_code_status(Err::<(), _>(e)))
}

fn tagging(pairs: &[(&str, &str)]) -> Tagging {
    let tags = pairs
        .iter()
        .map(|(k, v)| Tag::builder().key(*k).value(*v).build().unwrap())
        .collect();
    Tagging::builder().set_tag_set(Some(tags)).build().unwrap()
}

fn pairs(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn object_tags(
    s3: &Client,
    bucket: &str,
    key: &str,
) -> Result<Vec<(String, String)>, (String, u16)> {
    match s3.get_object_tagging().bucket(bucket).key(key).send().await {
        Ok(out) => Ok(pairs(out.tag_set())),
        Err(e) => Err(error_code_status(Err::<(), _>(e))),
    }
}

async fn put_object_tags(
    s3: &Client,
    key: &str,
    tags: &[(&str, &str)],
) -> Result<(), (String, u16)> {
    s3.put_object_tagging()
        .bucket(B)
        .key(key)
        .tagging(tagging(tags))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| error_code_status(Err::<(), _>(e)))
}

async fn bucket_tags(s3: &Client, bucket: &str) -> Result<Vec<(String, String)>, (String, u16)> {
    match s3.get_bucket_tagging().bucket(bucket).send().await {
        Ok(out) => Ok(pairs(out.tag_set())),
        Err(e) => Err(error_code_status(Err::<(), _>(e))),
    }
}

async fn put_bucket_tags(s3: &Client, tags: &[(&str, &str)]) -> Result<(), (String, u16)> {
    s3.put_bucket_tagging()
        .bucket(B)
        .tagging(tagging(tags))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| error_code_status(Err::<(), _>(e)))
}

/// `x-amz-tagging-count` as GET and HEAD report it.
async fn counts(s3: &Client, key: &str) -> (Option<i32>, Option<i32>) {
    let head = s3.head_object().bucket(B).key(key).send().await.unwrap();
    let get = s3.get_object().bucket(B).key(key).send().await.unwrap();
    (head.tag_count(), get.tag_count())
}

fn not_found(code: &str) -> Result<Vec<(String, String)>, (String, u16)> {
    Err((code.to_owned(), 404))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_tags_are_put_read_counted_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    put(&s3, "k", None).await.unwrap();
    // No tags: 200 with an empty TagSet, and no count on GET or HEAD.
    assert_eq!(object_tags(&s3, B, "k").await, Ok(Vec::new()));
    assert_eq!(counts(&s3, "k").await, (None, None));

    let set = [
        ("team", "blue"),
        ("empty", ""),
        ("ключ", "значение 1"),
        ("+-=._:/@", "a b"),
    ];
    put_object_tags(&s3, "k", &set).await.unwrap();
    assert_eq!(object_tags(&s3, B, "k").await, Ok(owned(&set)));
    assert_eq!(counts(&s3, "k").await, (Some(4), Some(4)));
    // The object itself is unchanged.
    let got = s3.get_object().bucket(B).key("k").send().await.unwrap();
    assert_eq!(
        &got.body.collect().await.unwrap().into_bytes()[..],
        b"bytes"
    );

    // A new set replaces the old one whole.
    put_object_tags(&s3, "k", &[("only", "one")]).await.unwrap();
    assert_eq!(
        object_tags(&s3, B, "k").await,
        Ok(owned(&[("only", "one")]))
    );
    // An empty set removes them.
    put_object_tags(&s3, "k", &[]).await.unwrap();
    assert_eq!(object_tags(&s3, B, "k").await, Ok(Vec::new()));

    put_object_tags(&s3, "k", &set).await.unwrap();
    for attempt in ["tagged", "untagged"] {
        let out = s3.delete_object_tagging().bucket(B).key("k").send().await;
        out.unwrap_or_else(|e| panic!("{attempt}: {e:?}"));
    }
    assert_eq!(object_tags(&s3, B, "k").await, Ok(Vec::new()));
    assert_eq!(counts(&s3, "k").await, (None, None));

    // The null version is the object; any other version does not exist.
    put_object_tags(&s3, "k", &[("v", "null")]).await.unwrap();
    let out = s3
        .get_object_tagging()
        .bucket(B)
        .key("k")
        .version_id("null")
        .send()
        .await
        .unwrap();
    assert_eq!(pairs(out.tag_set()), owned(&[("v", "null")]));
    assert_eq!(out.version_id(), Some("null"));
    let other = s3
        .get_object_tagging()
        .bucket(B)
        .key("k")
        .version_id("7ffa0b1c2d3e4f50a1b2c3d4e5f60718")
        .send()
        .await;
    assert_eq!(error_code_status(other), ("NoSuchVersion".into(), 404));

    // Missing objects and buckets.
    assert_eq!(object_tags(&s3, B, "missing").await, not_found("NoSuchKey"));
    assert_eq!(
        put_object_tags(&s3, "missing", &[("a", "b")]).await,
        Err(("NoSuchKey".into(), 404))
    );
    let deleted = s3
        .delete_object_tagging()
        .bucket(B)
        .key("missing")
        .send()
        .await;
    assert_eq!(error_code_status(deleted), ("NoSuchKey".into(), 404));
    assert_eq!(
        object_tags(&s3, "nobucket", "k").await,
        not_found("NoSuchBucket")
    );

    // Deleting the object deletes its tags: the key has none once written again.
    s3.delete_object().bucket(B).key("k").send().await.unwrap();
    assert_eq!(object_tags(&s3, B, "k").await, not_found("NoSuchKey"));
    put(&s3, "k", None).await.unwrap();
    assert_eq!(object_tags(&s3, B, "k").await, Ok(Vec::new()));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_sets_are_checked_whole_as_s3_checks_them() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    put(&s3, "k", None).await.unwrap();
    put_object_tags(&s3, "k", &[("kept", "yes")]).await.unwrap();
    let long_key = "k".repeat(129);
    let long_value = "v".repeat(257);
    let eleven: Vec<(String, String)> = (0..11).map(|i| (format!("k{i}"), "v".into())).collect();
    let eleven: Vec<(&str, &str)> = eleven
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let invalid = |_: &str| ("InvalidTag".to_owned(), 400);
    let long_key = [(long_key.as_str(), "v")];
    let long_value = [("k", long_value.as_str())];
    let cases: Vec<(&[Pair], Refusal)> = vec![
        (&eleven, ("BadRequest".into(), 400)),
        (&[("", "v")], invalid("empty key")),
        (&long_key, invalid("key too long")),
        (&long_value, invalid("value too long")),
        (&[("a,b", "v")], invalid("comma in a key")),
        (&[("k", "a&b")], invalid("ampersand in a value")),
        (&[("k", "tab\there")], invalid("tab")),
        (&[("aws:team", "v")], invalid("reserved prefix")),
        (&[("a", "1"), ("a", "2")], invalid("duplicate")),
        // The first tags are fine: nothing is stored unless all are.
        (&[("fine", "1"), ("bad!", "2")], invalid("one bad tag")),
    ];
    for (set, expected) in cases {
        assert_eq!(
            put_object_tags(&s3, "k", set).await,
            Err(expected),
            "{set:?}"
        );
    }
    assert_eq!(
        object_tags(&s3, B, "k").await,
        Ok(owned(&[("kept", "yes")]))
    );
    // At the limits.
    let ten = &eleven[..10];
    put_object_tags(&s3, "k", ten).await.unwrap();
    put_object_tags(&s3, "k", &[(&"é".repeat(128), &"ü".repeat(256))])
        .await
        .unwrap();
    // Keys are case-sensitive.
    put_object_tags(&s3, "k", &[("a", "1"), ("A", "2")])
        .await
        .unwrap();
    assert_eq!(
        object_tags(&s3, B, "k").await,
        Ok(owned(&[("a", "1"), ("A", "2")]))
    );

    // Messages as S3 words them.
    let message = |set: &'static [(&'static str, &'static str)]| {
        let s3 = s3.clone();
        async move {
            let e = s3
                .put_object_tagging()
                .bucket(B)
                .key("k")
                .tagging(tagging(set))
                .send()
                .await
                .unwrap_err();
            aws_sdk_s3::error::ProvideErrorMetadata::message(&e)
                .unwrap_or_default()
                .to_owned()
        }
    };
    assert_eq!(
        message(&[("a", "1"), ("a", "2")]).await,
        "Cannot provide multiple Tags with the same key"
    );
    assert_eq!(
        message(&[("a*", "1")]).await,
        "The TagKey you have provided is invalid"
    );
    assert_eq!(
        message(&[("a", "1*")]).await,
        "The TagValue you have provided is invalid"
    );
    assert_eq!(
        message(&[("aws:x", "1")]).await,
        "Your TagKey cannot be prefixed with aws:"
    );
    server.stop();
}

fn content_md5(body: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(body.as_bytes()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tagging_bodies_must_be_well_formed_and_carry_their_digest() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    put(&s3, "k", None).await.unwrap();
    let signer = Signer::s3("admin", ROOT_SECRET);
    for path in [format!("/{B}/k?tagging"), format!("/{B}?tagging")] {
        for body in [
            "<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>",
            "<Tagging><Tag><Key>k</Key><Value>v</Value></Tag></Tagging>",
            "<Tagging><TagSet>",
            "not xml",
        ] {
            let md5 = content_md5(body);
            let r = s3_call(
                server.s3,
                &signer,
                "PUT",
                &path,
                &[("content-md5", &md5)],
                body,
            );
            assert_eq!(r.status, 400, "{path} {body}: {}", r.body);
            assert!(
                r.body.contains("<Code>MalformedXML</Code>"),
                "{path} {body}: {}",
                r.body
            );
        }
        let body = "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>";
        let r = s3_call(server.s3, &signer, "PUT", &path, &[], body);
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(
            r.body
                .contains("Missing required header for this request: Content-MD5"),
            "{}",
            r.body
        );
        let wrong = content_md5("other");
        let r = s3_call(
            server.s3,
            &signer,
            "PUT",
            &path,
            &[("content-md5", &wrong)],
            body,
        );
        assert!(r.body.contains("<Code>BadDigest</Code>"), "{}", r.body);
        let md5 = content_md5(body);
        let r = s3_call(
            server.s3,
            &signer,
            "PUT",
            &path,
            &[("content-md5", &md5)],
            body,
        );
        assert!(
            r.status == 200 || r.status == 204,
            "{path}: {} {}",
            r.status,
            r.body
        );
    }
    assert_eq!(object_tags(&s3, B, "k").await, Ok(owned(&[("k", "v")])));
    assert_eq!(bucket_tags(&s3, B).await, Ok(owned(&[("k", "v")])));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bucket_tags_are_a_bucket_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    assert_eq!(bucket_tags(&s3, B).await, not_found("NoSuchTagSet"));
    let set = [("Project", "Project One"), ("User", "jsmith"), ("ключ", "")];
    put_bucket_tags(&s3, &set).await.unwrap();
    assert_eq!(bucket_tags(&s3, B).await, Ok(owned(&set)));

    let fifty: Vec<(String, String)> = (0..51).map(|i| (format!("k{i}"), "v".into())).collect();
    let fifty: Vec<(&str, &str)> = fifty
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    put_bucket_tags(&s3, &fifty[..50]).await.unwrap();
    assert_eq!(bucket_tags(&s3, B).await.unwrap().len(), 50);
    assert_eq!(
        put_bucket_tags(&s3, &fifty).await,
        Err(("BadRequest".into(), 400))
    );
    for bad in [
        &[("aws:createdBy", "me")][..],
        &[("a", "1"), ("a", "1")][..],
        &[("", "v")][..],
        &[("k", "v;")][..],
    ] {
        assert_eq!(
            put_bucket_tags(&s3, bad).await,
            Err(("InvalidTag".into(), 400)),
            "{bad:?}"
        );
    }
    assert_eq!(
        bucket_tags(&s3, B).await.unwrap().len(),
        50,
        "refusals change nothing"
    );

    // The bucket's tags survive a restart: they are stored, not only in memory.
    server.stop();
    let server = start_with_root(dir.path());
    let s3 = s3_client(&server);
    assert_eq!(bucket_tags(&s3, B).await.unwrap().len(), 50);

    // An empty TagSet leaves the bucket without tags.
    put_bucket_tags(&s3, &[]).await.unwrap();
    assert_eq!(bucket_tags(&s3, B).await, not_found("NoSuchTagSet"));
    put_bucket_tags(&s3, &set).await.unwrap();
    for attempt in ["tagged", "untagged"] {
        let out = s3.delete_bucket_tagging().bucket(B).send().await;
        out.unwrap_or_else(|e| panic!("{attempt}: {e:?}"));
    }
    assert_eq!(bucket_tags(&s3, B).await, not_found("NoSuchTagSet"));

    // A deleted bucket's tags go with it.
    put_bucket_tags(&s3, &set).await.unwrap();
    s3.delete_bucket().bucket(B).send().await.unwrap();
    assert_eq!(bucket_tags(&s3, B).await, not_found("NoSuchBucket"));
    let deleted = s3.delete_bucket_tagging().bucket(B).send().await;
    assert_eq!(error_code_status(deleted), ("NoSuchBucket".into(), 404));
    let put_missing = put_bucket_tags(&s3, &set).await;
    assert_eq!(put_missing, Err(("NoSuchBucket".into(), 404)));
    s3.create_bucket().bucket(B).send().await.unwrap();
    assert_eq!(bucket_tags(&s3, B).await, not_found("NoSuchTagSet"));
    // Bucket tags are not object tags.
    put(&s3, "k", None).await.unwrap();
    put_bucket_tags(&s3, &set).await.unwrap();
    assert_eq!(object_tags(&s3, B, "k").await, Ok(Vec::new()));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tagging_header_tags_new_objects_and_overwrites_replace_tags() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    put(&s3, "k", Some("team=blue&note=a%20b%2Bc&flag"))
        .await
        .unwrap();
    assert_eq!(
        object_tags(&s3, B, "k").await,
        Ok(owned(&[("team", "blue"), ("note", "a b+c"), ("flag", "")]))
    );
    assert_eq!(counts(&s3, "k").await, (Some(3), Some(3)));
    // An overwrite has the new write's tags, or none.
    put(&s3, "k", Some("team=red")).await.unwrap();
    assert_eq!(
        object_tags(&s3, B, "k").await,
        Ok(owned(&[("team", "red")]))
    );
    put(&s3, "k", None).await.unwrap();
    assert_eq!(object_tags(&s3, B, "k").await, Ok(Vec::new()));
    assert_eq!(counts(&s3, "k").await, (None, None));

    // Refused headers store nothing.
    let eleven: Vec<String> = (0..11).map(|i| format!("k{i}=v")).collect();
    for (header, expected) in [
        ("a=1&a=2", "InvalidArgument"),
        ("=v", "InvalidArgument"),
        ("k=%FF", "InvalidArgument"),
        ("k=a%26b", "InvalidTag"),
        ("aws:k=v", "InvalidTag"),
        (&eleven.join("&"), "BadRequest"),
    ] {
        assert_eq!(
            put(&s3, "new", Some(header)).await,
            Err((expected.into(), 400)),
            "{header}"
        );
    }
    assert_eq!(object_tags(&s3, B, "new").await, not_found("NoSuchKey"));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_uploads_keep_their_tags_until_completion() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    put(&s3, "mp", Some("old=tag")).await.unwrap();
    let created = s3
        .create_multipart_upload()
        .bucket(B)
        .key("mp")
        .tagging("team=blue&stage=raw")
        .send()
        .await
        .unwrap();
    let id = created.upload_id().unwrap();
    // Until completion, the object at the key keeps its own tags.
    assert_eq!(
        object_tags(&s3, B, "mp").await,
        Ok(owned(&[("old", "tag")]))
    );
    let part = s3
        .upload_part()
        .bucket(B)
        .key("mp")
        .upload_id(id)
        .part_number(1)
        .body(ByteStream::from_static(b"part one"))
        .send()
        .await
        .unwrap();
    s3.complete_multipart_upload()
        .bucket(B)
        .key("mp")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .set_e_tag(part.e_tag)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        object_tags(&s3, B, "mp").await,
        Ok(owned(&[("team", "blue"), ("stage", "raw")]))
    );
    assert_eq!(counts(&s3, "mp").await, (Some(2), Some(2)));

    let refused = s3
        .create_multipart_upload()
        .bucket(B)
        .key("bad")
        .tagging("a=1&a=2")
        .send()
        .await;
    assert_eq!(error_code_status(refused), ("InvalidArgument".into(), 400));
    let uploads = s3.list_multipart_uploads().bucket(B).send().await.unwrap();
    assert!(
        uploads.uploads().is_empty(),
        "a refused upload is not started"
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_keep_or_replace_tags_by_directive() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    put(&s3, "src", Some("team=blue&tier=1")).await.unwrap();
    let source = format!("{B}/src");
    let copy = |key: &'static str| s3.copy_object().bucket(B).key(key).copy_source(&source);
    copy("default").send().await.unwrap();
    assert_eq!(
        object_tags(&s3, B, "default").await,
        Ok(owned(&[("team", "blue"), ("tier", "1")]))
    );
    copy("copy")
        .tagging_directive(TaggingDirective::Copy)
        .send()
        .await
        .unwrap();
    assert_eq!(
        object_tags(&s3, B, "copy").await,
        object_tags(&s3, B, "src").await
    );
    copy("replace")
        .tagging_directive(TaggingDirective::Replace)
        .tagging("team=red")
        .send()
        .await
        .unwrap();
    assert_eq!(
        object_tags(&s3, B, "replace").await,
        Ok(owned(&[("team", "red")]))
    );
    copy("cleared")
        .tagging_directive(TaggingDirective::Replace)
        .send()
        .await
        .unwrap();
    assert_eq!(object_tags(&s3, B, "cleared").await, Ok(Vec::new()));
    // A copy overwriting a tagged object replaces its tags.
    copy("replace").send().await.unwrap();
    assert_eq!(
        object_tags(&s3, B, "replace").await,
        object_tags(&s3, B, "src").await
    );

    for (request, expected) in [
        (
            copy("x").tagging_directive(TaggingDirective::from("MERGE")),
            "InvalidArgument",
        ),
        // With COPY, x-amz-tagging would be ignored: refused instead.
        (copy("x").tagging("team=red"), "InvalidArgument"),
        (
            copy("x")
                .tagging_directive(TaggingDirective::Replace)
                .tagging("a=1&a=2"),
            "InvalidArgument",
        ),
        (
            copy("x")
                .tagging_directive(TaggingDirective::Replace)
                .tagging("a=b*"),
            "InvalidTag",
        ),
    ] {
        assert_eq!(
            error_code_status(request.send().await),
            (expected.into(), 400)
        );
    }
    assert_eq!(object_tags(&s3, B, "x").await, not_found("NoSuchKey"));
    server.stop();
}

/// A user allowed GetObject (and HeadObject) only on objects tagged `team=blue`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_object_tags_decide_reads() {
    let server = TestServer::start();
    let s3 = server.with_bucket(B).await;
    let user = server
        .with_user(&format!(
            r#"{{"Version":"2012-10-17","Statement":[
                {{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{B}/*",
                  "Condition":{{"StringEquals":{{"s3:ExistingObjectTag/team":"blue"}}}}}},
                {{"Effect":"Allow","Action":["s3:GetObjectTagging","s3:ListBucket"],"Resource":"*"}}]}}"#
        ))
        .await;
    put(&s3, "blue", Some("team=blue")).await.unwrap();
    put(&s3, "red", Some("team=red")).await.unwrap();
    put(&s3, "untagged", None).await.unwrap();
    let get = |key: &'static str| user.s3.get_object().bucket(B).key(key).send();
    let head = |key: &'static str| user.s3.head_object().bucket(B).key(key).send();
    assert!(get("blue").await.is_ok());
    assert!(head("blue").await.is_ok());
    for key in ["red", "untagged"] {
        assert_eq!(
            error_code_status(get(key).await),
            ("AccessDenied".into(), 403),
            "{key}"
        );
        assert_eq!(error_code_status(head(key).await).1, 403, "{key}");
    }
    // The decision reads the tags as they are now.
    put_object_tags(&s3, "red", &[("team", "blue")])
        .await
        .unwrap();
    assert!(get("red").await.is_ok());
    put_object_tags(&s3, "blue", &[("team", "green")])
        .await
        .unwrap();
    assert_eq!(error_code_status(get("blue").await).1, 403);
    // Actions whose statement has no tag condition are unaffected.
    assert_eq!(
        object_tags(&user.s3, B, "blue").await,
        Ok(owned(&[("team", "green")]))
    );
    server.stop();
}

/// A bucket policy's Deny on an existing tag binds the root too, on reads and copy sources.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_policy_can_deny_by_existing_tag() {
    let server = TestServer::start();
    let s3 = server.with_bucket(B).await;
    put(&s3, "secret", Some("class=secret")).await.unwrap();
    put(&s3, "open", Some("class=public")).await.unwrap();
    s3.put_bucket_policy()
        .bucket(B)
        .policy(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Principal":"*",
                "Action":["s3:GetObject","s3:GetObjectTagging"],"Resource":"arn:aws:s3:::{B}/*",
                "Condition":{{"StringEquals":{{"s3:ExistingObjectTag/class":"secret"}}}}}}]}}"#
        ))
        .send()
        .await
        .unwrap();
    let denied = s3.get_object().bucket(B).key("secret").send().await;
    assert_eq!(error_code_status(denied), ("AccessDenied".into(), 403));
    assert_eq!(
        object_tags(&s3, B, "secret").await,
        Err(("AccessDenied".into(), 403))
    );
    assert!(s3.get_object().bucket(B).key("open").send().await.is_ok());
    let copied = s3
        .copy_object()
        .bucket(B)
        .key("leak")
        .copy_source(format!("{B}/secret"))
        .send()
        .await;
    assert_eq!(error_code_status(copied), ("AccessDenied".into(), 403));
    s3.copy_object()
        .bucket(B)
        .key("fine")
        .copy_source(format!("{B}/open"))
        .send()
        .await
        .unwrap();
    server.stop();
}

/// A user allowed PutObject only when the request tags the object `class=public`, and
/// PutObjectTagging only with tag keys from a list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_tags_decide_writes() {
    let server = TestServer::start();
    let s3 = server.with_bucket(B).await;
    let user = server
        .with_user(&format!(
            r#"{{"Version":"2012-10-17","Statement":[
                {{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::{B}/*",
                  "Condition":{{"StringEquals":{{"s3:RequestObjectTag/class":"public"}}}}}},
                {{"Effect":"Allow","Action":"s3:PutObjectTagging","Resource":"arn:aws:s3:::{B}/*",
                  "Condition":{{"ForAllValues:StringEquals":{{"s3:RequestObjectTagKeys":["class","team"]}},
                                "Null":{{"s3:RequestObjectTagKeys":"false"}}}}}}]}}"#
        ))
        .await;
    assert_eq!(put(&user.s3, "a", Some("class=public&x=1")).await, Ok(()));
    assert_eq!(
        object_tags(&s3, B, "a").await,
        Ok(owned(&[("class", "public"), ("x", "1")]))
    );
    for tagging in [Some("class=secret"), None, Some("other=public")] {
        assert_eq!(
            put(&user.s3, "b", tagging).await,
            Err(("AccessDenied".into(), 403)),
            "{tagging:?}"
        );
    }
    let upload = |tagging: &'static str| {
        user.s3
            .create_multipart_upload()
            .bucket(B)
            .key("mp")
            .tagging(tagging)
            .send()
    };
    assert!(upload("class=public").await.is_ok());
    assert_eq!(error_code_status(upload("class=private").await).1, 403);
    let copy = |tagging: &'static str| {
        user.s3
            .copy_object()
            .bucket(B)
            .key("c")
            .copy_source(format!("{B}/a"))
            .tagging_directive(TaggingDirective::Replace)
            .tagging(tagging)
            .send()
    };
    // The copy also needs s3:GetObject on its source, which the root grants in a bucket
    // policy, so that only the request tags decide. A policy for `*` is public: the bucket's
    // Block Public Access is lifted first, as on S3.
    common::allow_public_access(&s3, B).await;
    s3.put_bucket_policy()
        .bucket(B)
        .policy(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*",
                "Action":"s3:GetObject","Resource":"arn:aws:s3:::{B}/*"}}]}}"#
        ))
        .send()
        .await
        .unwrap();
    assert!(copy("class=public").await.is_ok());
    assert_eq!(error_code_status(copy("class=other").await).1, 403);

    // PutObjectTagging: the body's tags are the request's.
    put_object_tags(&user.s3, "a", &[("class", "x"), ("team", "y")])
        .await
        .unwrap();
    assert_eq!(
        object_tags(&s3, B, "a").await,
        Ok(owned(&[("class", "x"), ("team", "y")]))
    );
    assert_eq!(
        put_object_tags(&user.s3, "a", &[("class", "x"), ("owner", "me")]).await,
        Err(("AccessDenied".into(), 403))
    );
    // No tags: the Null condition refuses.
    assert_eq!(
        put_object_tags(&user.s3, "a", &[]).await,
        Err(("AccessDenied".into(), 403))
    );
    assert_eq!(
        object_tags(&s3, B, "a").await,
        Ok(owned(&[("class", "x"), ("team", "y")]))
    );
    // A malformed body is reported only to a caller allowed without the body's keys.
    let signer = Signer::s3(&user.access_key, &user.secret);
    let body = "<Tagging><TagSet>";
    let md5 = content_md5(body);
    let path = format!("/{B}/a?tagging");
    let r = s3_call(
        server.s3,
        &signer,
        "PUT",
        &path,
        &[("content-md5", &md5)],
        body,
    );
    assert!(r.body.contains("<Code>AccessDenied</Code>"), "{}", r.body);
    let root = Signer::s3("admin", ROOT_SECRET);
    let r = s3_call(
        server.s3,
        &root,
        "PUT",
        &path,
        &[("content-md5", &md5)],
        body,
    );
    assert!(r.body.contains("<Code>MalformedXML</Code>"), "{}", r.body);
    server.stop();
}

/// Naming a version asks for the `…VersionTagging` actions; DeleteBucketTagging needs
/// `s3:PutBucketTagging`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versioned_tagging_actions_are_asked_for_a_named_version() {
    let server = TestServer::start();
    let s3 = server.with_bucket(B).await;
    put(&s3, "k", Some("a=1")).await.unwrap();
    let user = server
        .with_user(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
                "Action":["s3:GetObjectTagging","s3:PutObjectTagging","s3:DeleteObjectTagging"],
                "Resource":"arn:aws:s3:::{B}/*"}}]}}"#
        ))
        .await;
    assert!(user
        .s3
        .get_object_tagging()
        .bucket(B)
        .key("k")
        .send()
        .await
        .is_ok());
    let named = user
        .s3
        .get_object_tagging()
        .bucket(B)
        .key("k")
        .version_id("null")
        .send()
        .await;
    assert_eq!(error_code_status(named), ("AccessDenied".into(), 403));
    let named = user
        .s3
        .delete_object_tagging()
        .bucket(B)
        .key("k")
        .version_id("null")
        .send()
        .await;
    assert_eq!(error_code_status(named).1, 403);
    // DeleteBucketTagging is authorized as s3:PutBucketTagging, as in AWS.
    let tagger = server
        .with_user(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
                "Action":"s3:PutBucketTagging","Resource":"arn:aws:s3:::{B}"}}]}}"#
        ))
        .await;
    tagger
        .s3
        .put_bucket_tagging()
        .bucket(B)
        .tagging(tagging(&[("a", "b")]))
        .send()
        .await
        .unwrap();
    tagger
        .s3
        .delete_bucket_tagging()
        .bucket(B)
        .send()
        .await
        .unwrap();
    let read = tagger.s3.get_bucket_tagging().bucket(B).send().await;
    assert_eq!(error_code_status(read), ("AccessDenied".into(), 403));
    server.stop();
}

/// Tag keys differing only in case cannot hide a value from a condition: the context key
/// holds every value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_in_another_case_cannot_hide_from_a_deny() {
    let server = TestServer::start();
    let s3 = server.with_bucket(B).await;
    s3.put_bucket_policy()
        .bucket(B)
        .policy(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Principal":"*",
                "Action":"s3:PutObject","Resource":"arn:aws:s3:::{B}/*",
                "Condition":{{"StringEquals":{{"s3:RequestObjectTag/class":"secret"}}}}}}]}}"#
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(put(&s3, "a", Some("class=public")).await, Ok(()));
    for tagging in [
        "class=secret",
        "class=public&CLASS=secret",
        "CLASS=secret&class=public",
    ] {
        assert_eq!(
            put(&s3, "b", Some(tagging)).await,
            Err(("AccessDenied".into(), 403)),
            "{tagging}"
        );
    }
    server.stop();
}

/// S3's `InvalidTag` body names the refused tag: `<TagKey>` for a refused or repeated key,
/// `<TagKey>` and `<TagValue>` for a refused value (escaped as XML), on PutObjectTagging,
/// PutBucketTagging and `x-amz-tagging` alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_tags_are_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    put(&s3, "k", None).await.unwrap();
    fn body<T: std::fmt::Debug, E: std::fmt::Debug>(
        result: Result<T, aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>>,
    ) -> String {
        match result {
            Err(aws_sdk_s3::error::SdkError::ServiceError(e)) => {
                assert_eq!(e.raw().status().as_u16(), 400);
                String::from_utf8_lossy(e.raw().body().bytes().unwrap_or_default()).into_owned()
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    let tagging = |pairs: &[(&str, &str)]| {
        Tagging::builder()
            .set_tag_set(Some(
                pairs
                    .iter()
                    .map(|(k, v)| Tag::builder().key(*k).value(*v).build().unwrap())
                    .collect(),
            ))
            .build()
            .unwrap()
    };
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[("key", "inv&alid")],
            "<Message>The TagValue you have provided is invalid</Message>\
             <TagKey>key</TagKey><TagValue>inv&amp;alid</TagValue>",
        ),
        (
            &[("ke&y", "v")],
            "<Message>The TagKey you have provided is invalid</Message><TagKey>ke&amp;y</TagKey><",
        ),
        (
            &[("key", "1"), ("key", "2")],
            "<Message>Cannot provide multiple Tags with the same key</Message>\
             <TagKey>key</TagKey><",
        ),
    ];
    for (pairs, expected) in cases {
        let object = body(
            s3.put_object_tagging()
                .bucket(B)
                .key("k")
                .tagging(tagging(pairs))
                .send()
                .await,
        );
        assert!(object.contains("<Code>InvalidTag</Code>"), "{object}");
        assert!(object.contains(expected), "{pairs:?}: {object}");
        let bucket = body(
            s3.put_bucket_tagging()
                .bucket(B)
                .tagging(tagging(pairs))
                .send()
                .await,
        );
        assert!(bucket.contains(expected), "{pairs:?}: {bucket}");
    }
    let header = body(
        s3.put_object()
            .bucket(B)
            .key("h")
            .tagging("k=a%26b")
            .body(ByteStream::from_static(b"bytes"))
            .send()
            .await,
    );
    assert!(
        header.contains("<TagKey>k</TagKey><TagValue>a&amp;b</TagValue>"),
        "{header}"
    );
    server.stop();
}
