//! PutObject, GetObject, HeadObject and DeleteObject through `aws-sdk-s3` at default settings:
//! ETags, empty objects, ranges, `partNumber`, conditional reads and writes, stored headers and
//! `response-*` overrides, against the real binary.

use crate::common;

use aws_sdk_s3::primitives::{ByteStream, DateTime, DateTimeFormat};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use common::signing::{s3_call, Signer};
use common::{error_code_status, ROOT_SECRET};
use labstore::db;
use md5::{Digest, Md5};

const B: &str = "objects";

async fn setup(dir: &std::path::Path) -> (common::TestServer, Client) {
    common::start_with_bucket(dir, B).await
}

async fn put(s3: &Client, key: &str, body: &[u8]) -> String {
    let out = s3
        .put_object()
        .bucket(B)
        .key(key)
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {key:?}: {e:?}"));
    out.e_tag().unwrap().to_owned()
}

async fn get(s3: &Client, key: &str) -> Vec<u8> {
    let out = s3.get_object().bucket(B).key(key).send().await;
    let out = out.unwrap_or_else(|e| panic!("get {key:?}: {e:?}"));
    out.body.collect().await.unwrap().into_bytes().to_vec()
}

fn quoted_md5(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(Md5::digest(body)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_get_head_delete_with_md5_etags() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let body = b"The quick brown fox jumps over the lazy dog";
    let etag = put(&s3, "fox.txt", body).await;
    assert_eq!(etag, quoted_md5(body));
    assert_eq!(etag, "\"9e107d9d372bb6826bd81d3542a419d6\"");

    let got = s3
        .get_object()
        .bucket(B)
        .key("fox.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(got.e_tag(), Some(etag.as_str()));
    assert_eq!(
        got.content_length(),
        Some(i64::try_from(body.len()).unwrap())
    );
    assert!(got.last_modified().is_some());
    assert_eq!(got.body.collect().await.unwrap().into_bytes(), &body[..]);

    let head = s3
        .head_object()
        .bucket(B)
        .key("fox.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(head.e_tag(), Some(etag.as_str()));
    assert_eq!(
        head.content_length(),
        Some(i64::try_from(body.len()).unwrap())
    );
    assert_eq!(head.accept_ranges(), Some("bytes"));

    // Overwrite, then delete: DeleteObject answers 204 whether or not the key exists.
    let etag2 = put(&s3, "fox.txt", b"replaced").await;
    assert_eq!(get(&s3, "fox.txt").await, b"replaced");
    assert_ne!(etag, etag2);
    let signer = Signer::new("admin", ROOT_SECRET);
    for attempt in ["existing", "missing"] {
        let r = s3_call(server.s3, &signer, "DELETE", "/objects/fox.txt", &[], "");
        assert_eq!(r.status, 204, "{attempt}: {}", r.body);
    }
    s3.delete_object()
        .bucket(B)
        .key("never-was")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code_status(s3.get_object().bucket(B).key("fox.txt").send().await),
        ("NoSuchKey".to_owned(), 404)
    );
    let (_, status) = error_code_status(s3.head_object().bucket(B).key("fox.txt").send().await);
    assert_eq!(status, 404);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_objects_and_zero_byte_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let etag = put(&s3, "empty", b"").await;
    assert_eq!(etag, "\"d41d8cd98f00b204e9800998ecf8427e\"");
    assert_eq!(get(&s3, "empty").await, b"");
    let head = s3
        .head_object()
        .bucket(B)
        .key("empty")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(0));

    put(&s3, "shrinks", &vec![7u8; 100_000]).await;
    let etag = put(&s3, "shrinks", b"").await;
    assert_eq!(etag, "\"d41d8cd98f00b204e9800998ecf8427e\"");
    assert_eq!(get(&s3, "shrinks").await, b"");
    let head = s3
        .head_object()
        .bucket(B)
        .key("shrinks")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(0));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn byte_ranges_are_partial_content_and_unsatisfiable_ones_416() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let body: Vec<u8> = (0..100u8).collect();
    put(&s3, "hundred", &body).await;
    let cases = [
        ("bytes=0-9", 0..10),
        ("bytes=10-19", 10..20),
        ("bytes=90-", 90..100),
        ("bytes=-7", 93..100),
        ("bytes=95-500", 95..100),
        ("bytes=-500", 0..100),
        ("bytes=99-99", 99..100),
    ];
    for (range, want) in cases {
        let out = s3
            .get_object()
            .bucket(B)
            .key("hundred")
            .range(range)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{range}: {e:?}"));
        let content_range = format!("bytes {}-{}/100", want.start, want.end - 1);
        assert_eq!(out.content_range(), Some(content_range.as_str()), "{range}");
        assert_eq!(
            out.content_length(),
            Some(i64::try_from(want.len()).unwrap()),
            "{range}"
        );
        let got = out.body.collect().await.unwrap().into_bytes();
        assert_eq!(&got[..], &body[want], "{range}");
    }
    for range in ["bytes=100-", "bytes=500-600", "bytes=-0"] {
        let r = s3
            .get_object()
            .bucket(B)
            .key("hundred")
            .range(range)
            .send()
            .await;
        assert_eq!(
            error_code_status(r),
            ("InvalidRange".to_owned(), 416),
            "{range}"
        );
    }
    // On the wire: 206 with the range, 416 with the size of what there is.
    let signer = Signer::new("admin", ROOT_SECRET);
    let r = s3_call(
        server.s3,
        &signer,
        "GET",
        "/objects/hundred",
        &[("range", "bytes=1-2")],
        "",
    );
    assert_eq!(
        (r.status, r.header("content-range")),
        (206, Some("bytes 1-2/100"))
    );
    let r = s3_call(
        server.s3,
        &signer,
        "GET",
        "/objects/hundred",
        &[("range", "bytes=200-")],
        "",
    );
    assert_eq!(r.status, 416, "{}", r.body);
    assert!(r.body.contains("<Code>InvalidRange</Code>"), "{}", r.body);
    // HEAD with a range describes the partial response.
    let head = s3
        .head_object()
        .bucket(B)
        .key("hundred")
        .range("bytes=10-29")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(20));
    assert_eq!(head.content_range(), Some("bytes 10-29/100"));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part_number_reads_one_part_of_a_multipart_object() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let first = vec![b'1'; 5 * 1024 * 1024];
    let second = vec![b'2'; 1234];
    let upload = s3
        .create_multipart_upload()
        .bucket(B)
        .key("mp")
        .send()
        .await
        .unwrap();
    let id = upload.upload_id().unwrap();
    let mut completed = Vec::new();
    for (n, part) in [(1, &first), (2, &second)] {
        let out = s3
            .upload_part()
            .bucket(B)
            .key("mp")
            .upload_id(id)
            .part_number(n)
            .body(ByteStream::from(part.clone()))
            .send()
            .await
            .unwrap();
        completed.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(out.e_tag().unwrap())
                .build(),
        );
    }
    let parts = CompletedMultipartUpload::builder()
        .set_parts(Some(completed))
        .build();
    s3.complete_multipart_upload()
        .bucket(B)
        .key("mp")
        .upload_id(id)
        .multipart_upload(parts)
        .send()
        .await
        .unwrap();

    let total = first.len() + second.len();
    let cases = [(1, 0, &first), (2, first.len(), &second)];
    for (n, start, bytes) in cases {
        let out = s3
            .get_object()
            .bucket(B)
            .key("mp")
            .part_number(n)
            .send()
            .await
            .unwrap();
        assert_eq!(out.parts_count(), Some(2), "part {n}");
        let range = format!("bytes {start}-{}/{total}", start + bytes.len() - 1);
        assert_eq!(out.content_range(), Some(range.as_str()), "part {n}");
        let got = out.body.collect().await.unwrap().into_bytes();
        assert!(got[..] == bytes[..], "part {n}: wrong bytes");

        let head = s3
            .head_object()
            .bucket(B)
            .key("mp")
            .part_number(n)
            .send()
            .await
            .unwrap();
        assert_eq!(head.parts_count(), Some(2), "HEAD part {n}");
        assert_eq!(
            head.content_length(),
            Some(i64::try_from(bytes.len()).unwrap()),
            "part {n}"
        );
    }
    let beyond = s3
        .get_object()
        .bucket(B)
        .key("mp")
        .part_number(3)
        .send()
        .await;
    assert_eq!(
        error_code_status(beyond),
        ("InvalidPartNumber".to_owned(), 416)
    );
    let (_, status) = error_code_status(
        s3.head_object()
            .bucket(B)
            .key("mp")
            .part_number(3)
            .send()
            .await,
    );
    assert_eq!(status, 416);
    let both = s3
        .get_object()
        .bucket(B)
        .key("mp")
        .part_number(1)
        .range("bytes=0-1")
        .send()
        .await;
    assert_eq!(error_code_status(both), ("InvalidRequest".to_owned(), 400));

    // A simple object is one part: partNumber=1 is all of it, 2 is not satisfiable.
    put(&s3, "simple", b"just one part").await;
    let out = s3
        .get_object()
        .bucket(B)
        .key("simple")
        .part_number(1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        &out.body.collect().await.unwrap().into_bytes()[..],
        b"just one part"
    );
    let two = s3
        .get_object()
        .bucket(B)
        .key("simple")
        .part_number(2)
        .send()
        .await;
    assert_eq!(
        error_code_status(two),
        ("InvalidPartNumber".to_owned(), 416)
    );
    server.stop();
}

/// What a conditional GET/HEAD should answer: 200, 304 or 412.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Answer {
    Served,
    NotModified,
    Failed,
}

struct Conditions {
    if_match: Option<String>,
    if_none_match: Option<String>,
    if_modified_since: Option<DateTime>,
    if_unmodified_since: Option<DateTime>,
}

async fn conditional_get(s3: &Client, c: &Conditions, head: bool) -> Answer {
    let status = if head {
        let r = s3
            .head_object()
            .bucket(B)
            .key("cond")
            .set_if_match(c.if_match.clone())
            .set_if_none_match(c.if_none_match.clone())
            .set_if_modified_since(c.if_modified_since)
            .set_if_unmodified_since(c.if_unmodified_since)
            .send()
            .await;
        r.map(|_| 200)
            .map_err(|e| e.raw_response().unwrap().status().as_u16())
    } else {
        let r = s3
            .get_object()
            .bucket(B)
            .key("cond")
            .set_if_match(c.if_match.clone())
            .set_if_none_match(c.if_none_match.clone())
            .set_if_modified_since(c.if_modified_since)
            .set_if_unmodified_since(c.if_unmodified_since)
            .send()
            .await;
        if let Err(e) = &r {
            let raw = e.raw_response().unwrap();
            if raw.status().as_u16() == 412 {
                let code = e.as_service_error().and_then(|s| {
                    aws_sdk_s3::error::ProvideErrorMetadata::code(s).map(str::to_owned)
                });
                assert_eq!(code.as_deref(), Some("PreconditionFailed"));
            }
        }
        r.map(|_| 200)
            .map_err(|e| e.raw_response().unwrap().status().as_u16())
    };
    match status {
        Ok(200) => Answer::Served,
        Err(304) => Answer::NotModified,
        Err(412) => Answer::Failed,
        other => panic!("unexpected answer {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_reads_follow_s3_precedence() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let etag = put(&s3, "cond", b"conditional").await;
    let head = s3.head_object().bucket(B).key("cond").send().await.unwrap();
    let modified = *head.last_modified().unwrap();
    let earlier = DateTime::from_secs(modified.secs() - 3600);
    let (now, then) = (Some(modified), Some(earlier));
    let (current, other) = (
        Some(etag.as_str()),
        Some("\"0123456789abcdef0123456789abcdef\""),
    );
    use Answer::*;
    // (what, If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since, answer): kept
    // one row per case, as a table.
    #[rustfmt::skip]
    let cases = [
        ("no condition", None, None, None, None, Served),
        ("If-Match current", current, None, None, None, Served),
        ("If-Match *", Some("*"), None, None, None, Served),
        ("If-Match other", other, None, None, None, Failed),
        (
            "If-None-Match current",
            None,
            current,
            None,
            None,
            NotModified,
        ),
        ("If-None-Match other", None, other, None, None, Served),
        ("If-Modified-Since now", None, None, now, None, NotModified),
        ("If-Modified-Since earlier", None, None, then, None, Served),
        ("If-Unmodified-Since now", None, None, None, now, Served),
        (
            "If-Unmodified-Since earlier",
            None,
            None,
            None,
            then,
            Failed,
        ),
        // S3: a true If-Match overrides a false If-Unmodified-Since...
        (
            "If-Match true, If-Unmodified-Since false",
            current,
            None,
            None,
            then,
            Served,
        ),
        (
            "If-Match false, If-Unmodified-Since true",
            other,
            None,
            None,
            now,
            Failed,
        ),
        // ...and a false If-None-Match with a true If-Modified-Since is 304.
        (
            "If-None-Match false, If-Modified-Since true",
            None,
            current,
            then,
            None,
            NotModified,
        ),
        (
            "If-None-Match true, If-Modified-Since false",
            None,
            other,
            now,
            None,
            Served,
        ),
        (
            "If-Match false, If-None-Match true",
            other,
            other,
            None,
            None,
            Failed,
        ),
    ];
    for (what, if_match, if_none_match, if_modified_since, if_unmodified_since, want) in cases {
        let conditions = Conditions {
            if_match: if_match.map(str::to_owned),
            if_none_match: if_none_match.map(str::to_owned),
            if_modified_since,
            if_unmodified_since,
        };
        for head in [false, true] {
            let got = conditional_get(&s3, &conditions, head).await;
            assert_eq!(got, want, "{what} ({})", if head { "HEAD" } else { "GET" });
        }
    }
    server.stop();
}

/// A 304 names the version the client has: `ETag` and `Last-Modified`, as S3 sends them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_modified_carries_the_etag_and_last_modified() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let etag = put(&s3, "cond", b"conditional").await;
    let head = s3.head_object().bucket(B).key("cond").send().await.unwrap();
    let modified = head
        .last_modified()
        .unwrap()
        .fmt(DateTimeFormat::HttpDate)
        .unwrap();
    let get = s3
        .get_object()
        .bucket(B)
        .key("cond")
        .if_none_match(&etag)
        .send()
        .await
        .unwrap_err();
    let head = s3
        .head_object()
        .bucket(B)
        .key("cond")
        .if_modified_since(*head.last_modified().unwrap())
        .send()
        .await
        .unwrap_err();
    for raw in [get.raw_response().unwrap(), head.raw_response().unwrap()] {
        assert_eq!(raw.status().as_u16(), 304);
        assert_eq!(raw.headers().get("etag"), Some(etag.as_str()));
        assert_eq!(raw.headers().get("last-modified"), Some(modified.as_str()));
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_writes_refuse_to_overwrite_or_to_lose_an_update() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let put_if =
        |key: &'static str, body: &'static [u8], none: Option<&str>, matching: Option<&str>| {
            s3.put_object()
                .bucket(B)
                .key(key)
                .body(ByteStream::from_static(body))
                .set_if_none_match(none.map(str::to_owned))
                .set_if_match(matching.map(str::to_owned))
                .send()
        };
    // If-None-Match: * creates only.
    put_if("once", b"first", Some("*"), None).await.unwrap();
    let again = put_if("once", b"second", Some("*"), None).await;
    assert_eq!(
        error_code_status(again),
        ("PreconditionFailed".to_owned(), 412)
    );
    assert_eq!(get(&s3, "once").await, b"first");

    // If-Match: replaces only the version the writer saw.
    let v1 = put(&s3, "cas", b"v1").await;
    let v2 = put_if("cas", b"v2", None, Some(&v1)).await.unwrap();
    assert_eq!(get(&s3, "cas").await, b"v2");
    let stale = put_if("cas", b"lost update", None, Some(&v1)).await;
    assert_eq!(
        error_code_status(stale),
        ("PreconditionFailed".to_owned(), 412)
    );
    assert_eq!(get(&s3, "cas").await, b"v2");
    put_if("cas", b"v3", None, v2.e_tag()).await.unwrap();
    assert_eq!(get(&s3, "cas").await, b"v3");

    // If-Match on a key that does not exist: NoSuchKey, and nothing is created.
    let missing = put_if("absent", b"x", None, Some(&v1)).await;
    assert_eq!(error_code_status(missing), ("NoSuchKey".to_owned(), 404));
    let (_, status) = error_code_status(s3.head_object().bucket(B).key("absent").send().await);
    assert_eq!(status, 404);
    server.stop();
}

/// Every operation that reads a body refuses one declared over its limit from the headers
/// alone, whichever way the size is declared, and writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_declared_over_their_limit_are_refused_before_they_are_read() {
    use common::signing::send_head;
    use std::time::Duration;

    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    put(&s3, "kept", b"original").await;
    let six_gib = (6u64 << 30).to_string();
    let six_gib = six_gib.as_str();
    let kept = format!("/{B}/kept");
    let unsigned = |length| {
        vec![
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
            ("content-length", length),
        ]
    };
    let chunked = |mode, decoded| {
        vec![
            ("x-amz-content-sha256", mode),
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", decoded),
            ("content-length", "1000"),
        ]
    };
    let cases = [
        (
            "PutObject, unsigned trailer, x-amz-decoded-content-length",
            "PUT",
            kept.clone(),
            chunked("STREAMING-UNSIGNED-PAYLOAD-TRAILER", six_gib),
            "EntityTooLarge",
        ),
        (
            "PutObject, signed chunks, x-amz-decoded-content-length",
            "PUT",
            kept.clone(),
            chunked("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", six_gib),
            "EntityTooLarge",
        ),
        (
            "PutObject, x-amz-decoded-content-length over Content-Length",
            "PUT",
            kept.clone(),
            chunked("STREAMING-UNSIGNED-PAYLOAD-TRAILER", "5000"),
            "IncompleteBody",
        ),
        (
            "PutBucketPolicy",
            "PUT",
            format!("/{B}?policy"),
            unsigned("1048576"),
            "PolicyTooLarge",
        ),
        (
            "DeleteObjects",
            "POST",
            format!("/{B}?delete"),
            unsigned("104857600"),
            "MalformedXML",
        ),
        (
            "CreateBucket",
            "PUT",
            "/another-bucket".to_owned(),
            unsigned("104857600"),
            "MalformedXML",
        ),
    ];
    for (what, method, path, headers, expected) in cases {
        let signer = Signer {
            payload: Some(headers[0].1),
            ..Signer::s3("admin", ROOT_SECRET)
        };
        let (path, signed) = signer.sign(server.s3, method, &path, &headers, b"");
        // Well within the server's body timeouts: the answer must not wait for the body.
        let wait = Duration::from_secs(10);
        let r = send_head(server.s3, method, &path, &signed, b"", wait)
            .unwrap_or_else(|e| panic!("{what}: no answer without the body: {e}"));
        let code = r
            .body
            .split("<Code>")
            .nth(1)
            .and_then(|c| c.split("</Code>").next());
        assert_eq!(
            (r.status, code),
            (400, Some(expected)),
            "{what}: {}",
            r.body
        );
    }
    assert_eq!(get(&s3, "kept").await, b"original");
    let policy = s3.get_bucket_policy().bucket(B).send().await;
    assert_eq!(error_code_status(policy).0, "NoSuchBucketPolicy");
    let buckets = s3.list_buckets().send().await.unwrap();
    assert_eq!(buckets.buckets().len(), 1, "no bucket was created");
    server.stop();
}

/// HEAD and GET read the object's row in place on the server's runtime worker, and answer the
/// same once the breaker sends point reads through the blocking pool (a slow disk), including
/// a missing key and a key overwritten while the breaker is open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_and_get_answer_alike_in_place_and_through_the_pool() {
    if crate::common::postgres::sqlite_only("point reads run in place on SQLite only") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let db = server.state().objects.db().clone();
    let body = vec![7u8; 4096];
    let etag = put(&s3, "small", &body).await;

    // HEAD, GET and a HEAD of a missing key; with `pooled`, each after opening the breaker
    // (so that no cool-down ends during the check, however slow this machine is).
    let check = |pooled: bool, want: Vec<u8>, etag: String| {
        let (s3, db) = (s3.clone(), db.clone());
        async move {
            let trip = || {
                if pooled {
                    db.trip_point_reads();
                }
            };
            trip();
            let head = s3
                .head_object()
                .bucket(B)
                .key("small")
                .send()
                .await
                .unwrap();
            assert_eq!(head.e_tag(), Some(etag.as_str()));
            assert_eq!(
                head.content_length(),
                Some(i64::try_from(want.len()).unwrap())
            );
            trip();
            assert_eq!(get(&s3, "small").await, want);
            trip();
            let missing = s3.head_object().bucket(B).key("missing").send().await;
            assert_eq!(
                missing
                    .unwrap_err()
                    .raw_response()
                    .unwrap()
                    .status()
                    .as_u16(),
                404
            );
        }
    };

    let before = db.point_read_stats();
    check(false, body.clone(), etag).await;
    let after = db.point_read_stats();
    assert!(after.in_place > before.in_place, "{before:?} -> {after:?}");
    if after.trips == before.trips {
        // No read was slow enough to open the breaker: every one ran in place.
        assert_eq!(after.pooled, before.pooled, "{before:?} -> {after:?}");
    }

    let other = vec![9u8; 4096];
    db.trip_point_reads();
    let etag = put(&s3, "small", &other).await;
    let before = db.point_read_stats();
    check(true, other.clone(), etag.clone()).await;
    let after = db.point_read_stats();
    assert!(after.pooled >= before.pooled + 3, "{before:?} -> {after:?}");
    assert_eq!(after.in_place, before.in_place, "{before:?} -> {after:?}");

    // After the cool-down, in place again.
    tokio::time::sleep(db::POINT_READ_COOL_DOWN + std::time::Duration::from_millis(100)).await;
    let before = db.point_read_stats();
    check(false, other, etag).await;
    let stats = db.point_read_stats();
    assert!(stats.in_place > before.in_place);

    // The admin port shows the same counters.
    let metrics = common::get(server.admin, "/metrics").body;
    for line in [
        format!(
            "labstore_point_reads_total{{db=\"objects\",path=\"in_place\"}} {}\n",
            stats.in_place
        ),
        format!(
            "labstore_point_reads_total{{db=\"objects\",path=\"pool\"}} {}\n",
            stats.pooled
        ),
        format!(
            "labstore_point_read_breaker_trips_total{{db=\"objects\"}} {}\n",
            stats.trips
        ),
    ] {
        assert!(metrics.contains(&line), "{line} not in {metrics}");
    }
}
