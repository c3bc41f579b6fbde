//! CopyObject through `aws-sdk-s3` at default settings: the COPY and REPLACE metadata
//! directives, copying an object onto itself, the `x-amz-copy-source-if-*` conditions,
//! URL-encoded source keys, and missing sources.

use crate::common;

use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::MetadataDirective;
use aws_sdk_s3::Client;
use common::{error_code_status, s3_client, start_with_root};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

const B: &str = "copies";

/// What `x-amz-copy-source` needs encoded: everything but unreserved characters and `/`.
const SOURCE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

fn source(bucket: &str, key: &str) -> String {
    format!("{bucket}/{}", utf8_percent_encode(key, SOURCE))
}

async fn setup(dir: &std::path::Path) -> (common::TestServer, Client) {
    let server = start_with_root(dir);
    let s3 = s3_client(&server);
    s3.create_bucket().bucket(B).send().await.unwrap();
    s3.put_object()
        .bucket(B)
        .key("original")
        .body(ByteStream::from_static(b"original bytes"))
        .content_type("text/plain")
        .cache_control("no-cache")
        .metadata("owner", "alice")
        .metadata("stage", "draft")
        .send()
        .await
        .unwrap();
    (server, s3)
}

async fn body_of(s3: &Client, bucket: &str, key: &str) -> Vec<u8> {
    let out = s3.get_object().bucket(bucket).key(key).send().await;
    let out = out.unwrap_or_else(|e| panic!("get {key:?}: {e:?}"));
    out.body.collect().await.unwrap().into_bytes().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_keeps_metadata_and_replace_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    s3.create_bucket().bucket("elsewhere").send().await.unwrap();
    let original = s3
        .head_object()
        .bucket(B)
        .key("original")
        .send()
        .await
        .unwrap();

    // COPY (the default) and an explicit COPY, in the same bucket and across buckets.
    let copies = [
        (B, "copied", None),
        (
            "elsewhere",
            "copied-explicitly",
            Some(MetadataDirective::Copy),
        ),
    ];
    for (bucket, key, directive) in copies {
        let out = s3
            .copy_object()
            .bucket(bucket)
            .key(key)
            .copy_source(source(B, "original"))
            .set_metadata_directive(directive)
            // Ignored under COPY: the source's metadata is what the copy gets.
            .metadata("ignored", "yes")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{key}: {e:?}"));
        let result = out.copy_object_result().unwrap();
        assert_eq!(
            result.e_tag(),
            original.e_tag(),
            "{key}: same bytes, same ETag"
        );
        assert!(result.last_modified().is_some());
        let head = s3
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .unwrap();
        assert_eq!(head.metadata(), original.metadata(), "{key}");
        assert_eq!(head.content_type(), Some("text/plain"), "{key}");
        assert_eq!(head.cache_control(), Some("no-cache"), "{key}");
        assert_eq!(body_of(&s3, bucket, key).await, b"original bytes");
    }

    let out = s3
        .copy_object()
        .bucket(B)
        .key("replaced")
        .copy_source(source(B, "original"))
        .metadata_directive(MetadataDirective::Replace)
        .content_type("application/json")
        .metadata("stage", "final")
        .send()
        .await
        .unwrap();
    assert_eq!(out.copy_object_result().unwrap().e_tag(), original.e_tag());
    let head = s3
        .head_object()
        .bucket(B)
        .key("replaced")
        .send()
        .await
        .unwrap();
    let meta = head.metadata().unwrap();
    assert_eq!(meta.len(), 1, "{meta:?}");
    assert_eq!(meta.get("stage").map(String::as_str), Some("final"));
    assert_eq!(head.content_type(), Some("application/json"));
    assert_eq!(
        head.cache_control(),
        None,
        "REPLACE drops what it does not give"
    );
    assert_eq!(body_of(&s3, B, "replaced").await, b"original bytes");

    // The source is untouched, and the copy is independent of it.
    s3.delete_object()
        .bucket(B)
        .key("original")
        .send()
        .await
        .unwrap();
    assert_eq!(body_of(&s3, B, "copied").await, b"original bytes");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copying_onto_itself_needs_replace() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    for directive in [None, Some(MetadataDirective::Copy)] {
        let same = s3
            .copy_object()
            .bucket(B)
            .key("original")
            .copy_source(source(B, "original"))
            .set_metadata_directive(directive.clone())
            .send()
            .await;
        assert_eq!(
            error_code_status(same),
            ("InvalidRequest".to_owned(), 400),
            "{directive:?}"
        );
    }
    s3.copy_object()
        .bucket(B)
        .key("original")
        .copy_source(source(B, "original"))
        .metadata_directive(MetadataDirective::Replace)
        .metadata("stage", "reviewed")
        .send()
        .await
        .unwrap();
    let head = s3
        .head_object()
        .bucket(B)
        .key("original")
        .send()
        .await
        .unwrap();
    let meta = head.metadata().unwrap();
    assert_eq!(meta.get("stage").map(String::as_str), Some("reviewed"));
    assert_eq!(meta.get("owner"), None);
    assert_eq!(body_of(&s3, B, "original").await, b"original bytes");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_source_conditions_fail_with_412() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let head = s3
        .head_object()
        .bucket(B)
        .key("original")
        .send()
        .await
        .unwrap();
    let etag = head.e_tag().unwrap().to_owned();
    let modified = *head.last_modified().unwrap();
    let earlier = DateTime::from_secs(modified.secs() - 3600);
    let other = "\"0123456789abcdef0123456789abcdef\"";
    // (what, if-match, if-none-match, if-modified-since, if-unmodified-since, copies)
    #[rustfmt::skip]
    let cases = [
        ("if-match current", Some(etag.as_str()), None, None, None, true),
        ("if-match other", Some(other), None, None, None, false),
        ("if-none-match current", None, Some(etag.as_str()), None, None, false),
        ("if-none-match other", None, Some(other), None, None, true),
        ("if-modified-since earlier", None, None, Some(earlier), None, true),
        ("if-modified-since now", None, None, Some(modified), None, false),
        ("if-unmodified-since now", None, None, None, Some(modified), true),
        ("if-unmodified-since earlier", None, None, None, Some(earlier), false),
        ("if-match true, if-unmodified-since false", Some(etag.as_str()), None, None, Some(earlier), true),
        ("if-none-match false, if-modified-since true", None, Some(etag.as_str()), Some(earlier), None, false),
    ];
    for (i, (what, if_match, if_none_match, modified_since, unmodified_since, copies)) in
        cases.into_iter().enumerate()
    {
        let key = format!("conditional-{i}");
        let r = s3
            .copy_object()
            .bucket(B)
            .key(&key)
            .copy_source(source(B, "original"))
            .set_copy_source_if_match(if_match.map(str::to_owned))
            .set_copy_source_if_none_match(if_none_match.map(str::to_owned))
            .set_copy_source_if_modified_since(modified_since)
            .set_copy_source_if_unmodified_since(unmodified_since)
            .send()
            .await;
        if copies {
            r.unwrap_or_else(|e| panic!("{what}: {e:?}"));
            assert_eq!(body_of(&s3, B, &key).await, b"original bytes", "{what}");
        } else {
            assert_eq!(
                error_code_status(r),
                ("PreconditionFailed".to_owned(), 412),
                "{what}"
            );
            let (_, status) = error_code_status(s3.head_object().bucket(B).key(&key).send().await);
            assert_eq!(status, 404, "{what}: nothing was copied");
        }
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_encoded_source_keys_and_missing_sources() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let keys = [
        "with space/and more",
        "ünïcödé ✓/日本語",
        "plus+and%percent",
        "question?mark#hash&amp=1",
        "emoji 😀",
    ];
    for (i, key) in keys.iter().enumerate() {
        s3.put_object()
            .bucket(B)
            .key(*key)
            .body(ByteStream::from(key.as_bytes().to_vec()))
            .send()
            .await
            .unwrap();
        let destination = format!("copy of {key} {i}");
        s3.copy_object()
            .bucket(B)
            .key(&destination)
            .copy_source(source(B, key))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{key}: {e:?}"));
        assert_eq!(body_of(&s3, B, &destination).await, key.as_bytes(), "{key}");
    }

    let missing = s3
        .copy_object()
        .bucket(B)
        .key("from-nothing")
        .copy_source(source(B, "no such key"))
        .send()
        .await;
    assert_eq!(error_code_status(missing), ("NoSuchKey".to_owned(), 404));
    let missing = s3
        .copy_object()
        .bucket(B)
        .key("from-nowhere")
        .copy_source(source("no-such-bucket", "original"))
        .send()
        .await;
    assert_eq!(error_code_status(missing), ("NoSuchBucket".to_owned(), 404));
    let into_nowhere = s3
        .copy_object()
        .bucket("no-such-bucket")
        .key("copy")
        .copy_source(source(B, "original"))
        .send()
        .await;
    assert_eq!(
        error_code_status(into_nowhere),
        ("NoSuchBucket".to_owned(), 404)
    );
    server.stop();
}
