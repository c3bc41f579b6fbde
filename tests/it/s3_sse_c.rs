//! SSE-C (`docs/encryption.md`): objects encrypted with a key the client brings on every
//! request (`x-amz-server-side-encryption-customer-*`), on PUT, GET, HEAD,
//! GetObjectAttributes, CopyObject (with the `x-amz-copy-source-` forms for the source),
//! multipart create, part, completion and UploadPartCopy; S3's refusals of a missing or wrong
//! key; the key never stored; refused over plain HTTP unless configured. Most servers here
//! allow plain HTTP (`backend.s3.sse_c.allow_plain_http`) so that the SDK at its defaults can
//! talk to them; one test runs over HTTPS with the setting off, as S3 requires.

use crate::common;

use std::path::Path;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ObjectAttributes};
use aws_sdk_s3::Client;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::{error_code_status, pattern, TestServer};
use md5::Digest;

const B: &str = "bkt";

/// A customer key as the SDK's three fields: algorithm, key and key MD5, base64.
struct Key {
    key: String,
    md5: String,
    raw: [u8; 32],
}

fn key(seed: u8) -> Key {
    let raw: [u8; 32] =
        std::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(u8::try_from(i).unwrap()));
    Key {
        key: STANDARD.encode(raw),
        md5: STANDARD.encode(md5::Md5::digest(raw)),
        raw,
    }
}

/// Sets the three SSE-C fields of any request builder that has them.
macro_rules! with_key {
    ($builder:expr, $key:expr) => {
        $builder
            .sse_customer_algorithm("AES256")
            .sse_customer_key(&$key.key)
            .sse_customer_key_md5(&$key.md5)
    };
}

/// And the copy-source forms.
macro_rules! with_source_key {
    ($builder:expr, $key:expr) => {
        $builder
            .copy_source_sse_customer_algorithm("AES256")
            .copy_source_sse_customer_key(&$key.key)
            .copy_source_sse_customer_key_md5(&$key.md5)
    };
}

/// A server that accepts customer keys over plain HTTP, with new buckets' default encryption
/// on (a customer key overrides it), and a bucket.
fn start(dir: &Path) -> (TestServer, Client) {
    let server = TestServer::start_with(
        dir,
        &[
            ("LABSTORE_BACKEND_S3_SSE_C_ALLOW_PLAIN_HTTP", "true"),
            ("LABSTORE_BACKEND_S3_INLINE_MAX", "4096"),
        ],
    )
    .unwrap_or_else(|e| panic!("the server did not start: {e}"));
    let s3 = server.root_s3();
    server.block_on(async { s3.create_bucket().bucket(B).send().await.unwrap() });
    (server, s3)
}

async fn put(
    s3: &Client,
    k: &str,
    body: &[u8],
    key: &Key,
) -> aws_sdk_s3::operation::put_object::PutObjectOutput {
    with_key!(s3.put_object().bucket(B).key(k), key)
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {k}: {e:?}"))
}

async fn get(s3: &Client, k: &str, key: &Key, range: Option<&str>) -> Vec<u8> {
    let out = with_key!(s3.get_object().bucket(B).key(k), key)
        .set_range(range.map(str::to_owned))
        .send()
        .await
        .unwrap_or_else(|e| panic!("get {k} {range:?}: {e:?}"));
    assert_eq!(out.sse_customer_algorithm(), Some("AES256"));
    assert_eq!(out.sse_customer_key_md5(), Some(key.md5.as_str()));
    assert_eq!(out.server_side_encryption(), None);
    out.body.collect().await.unwrap().to_vec()
}

fn md5_hex(body: &[u8]) -> String {
    hex::encode(md5::Md5::digest(body))
}

#[test]
fn objects_read_back_with_their_key_and_are_refused_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start(dir.path());
    let (k1, k2) = (key(1), key(2));
    // Inline (under 4 KiB here), read whole (under 128 KiB), and streamed.
    let bodies = [
        ("small", pattern(1000, 1)),
        ("medium", pattern(100 * 1024, 2)),
        ("large", pattern(3 * 1024 * 1024 + 17, 3)),
    ];
    server.block_on(async {
        for (name, body) in &bodies {
            let out = put(&s3, name, body, &k1).await;
            assert_eq!(out.sse_customer_algorithm(), Some("AES256"));
            assert_eq!(out.sse_customer_key_md5(), Some(k1.md5.as_str()));
            // The bucket's default SSE-S3 does not apply: the customer's key did.
            assert_eq!(out.server_side_encryption(), None);
            // S3's SSE-C ETags are not the MD5 of the data.
            let etag = out.e_tag().unwrap().trim_matches('"').to_owned();
            assert_ne!(etag, md5_hex(body), "{name}");
            assert_eq!(etag.len(), 32);
            assert!(get(&s3, name, &k1, None).await == *body, "{name}");
            let head = with_key!(s3.head_object().bucket(B).key(*name), k1)
                .send()
                .await
                .unwrap();
            assert_eq!(
                head.content_length(),
                Some(i64::try_from(body.len()).unwrap())
            );
            assert_eq!(head.sse_customer_algorithm(), Some("AES256"));
            assert_eq!(head.e_tag(), out.e_tag());
            // Without the key: 400; with another: 403, GET and HEAD alike.
            let bare = s3.get_object().bucket(B).key(*name).send().await;
            assert_eq!(error_code_status(bare), ("InvalidRequest".to_owned(), 400));
            let other = with_key!(s3.get_object().bucket(B).key(*name), k2)
                .send()
                .await;
            assert_eq!(error_code_status(other), ("AccessDenied".to_owned(), 403));
            let bare = s3.head_object().bucket(B).key(*name).send().await;
            assert_eq!(
                bare.unwrap_err().raw_response().unwrap().status().as_u16(),
                400
            );
            let other = with_key!(s3.head_object().bucket(B).key(*name), k2)
                .send()
                .await;
            assert_eq!(
                other.unwrap_err().raw_response().unwrap().status().as_u16(),
                403
            );
        }
        // Ranges decrypt what they cover.
        let large = &bodies[2].1;
        let part = get(&s3, "large", &k1, Some("bytes=1000000-2100000")).await;
        assert!(part == large[1_000_000..=2_100_000]);
        let tail = get(&s3, "large", &k1, Some("bytes=-5")).await;
        assert_eq!(tail, &large[large.len() - 5..]);
        // Conditions compare the ETag the object shows.
        let etag = with_key!(s3.head_object().bucket(B).key("medium"), k1)
            .send()
            .await
            .unwrap()
            .e_tag()
            .unwrap()
            .to_owned();
        let matched = with_key!(s3.get_object().bucket(B).key("medium"), k1)
            .if_match(&etag)
            .send()
            .await;
        assert!(matched.is_ok());
        // GetObjectAttributes also needs the key.
        let attrs = with_key!(s3.get_object_attributes().bucket(B).key("small"), k1)
            .object_attributes(ObjectAttributes::ObjectSize)
            .send()
            .await
            .unwrap();
        assert_eq!(attrs.object_size(), Some(1000));
        let bare = s3
            .get_object_attributes()
            .bucket(B)
            .key("small")
            .object_attributes(ObjectAttributes::ObjectSize)
            .send()
            .await;
        assert_eq!(error_code_status(bare), ("InvalidRequest".to_owned(), 400));
        // A key for an object that has none (SSE-S3 here, the bucket's default): 400.
        s3.put_object()
            .bucket(B)
            .key("plain")
            .body(ByteStream::from_static(b"plain"))
            .send()
            .await
            .unwrap();
        let stray = with_key!(s3.get_object().bucket(B).key("plain"), k1)
            .send()
            .await;
        assert_eq!(error_code_status(stray), ("InvalidRequest".to_owned(), 400));
        // An overwrite with another key: the new key reads it, the old one no longer does.
        put(&s3, "small", b"second", &k2).await;
        assert_eq!(get(&s3, "small", &k2, None).await, b"second");
        let old = with_key!(s3.get_object().bucket(B).key("small"), k1)
            .send()
            .await;
        assert_eq!(error_code_status(old).1, 403);
    });
}

#[test]
fn malformed_keys_get_s3s_errors_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start(dir.path());
    let k = key(3);
    server.block_on(async {
        let try_put = |algorithm: Option<&str>, key: Option<&str>, md5: Option<&str>| {
            s3.put_object()
                .bucket(B)
                .key("k")
                .set_sse_customer_algorithm(algorithm.map(str::to_owned))
                .set_sse_customer_key(key.map(str::to_owned))
                .set_sse_customer_key_md5(md5.map(str::to_owned))
                .body(ByteStream::from_static(b"x"))
                .send()
        };
        let short = STANDARD.encode([1u8; 16]);
        let short_md5 = STANDARD.encode(md5::Md5::digest([1u8; 16]));
        let cases = [
            (
                None,
                Some(k.key.as_str()),
                Some(k.md5.as_str()),
                "InvalidArgument",
            ),
            (
                Some("AES256"),
                None,
                Some(k.md5.as_str()),
                "InvalidArgument",
            ),
            (
                Some("AES256"),
                Some(k.key.as_str()),
                None,
                "InvalidArgument",
            ),
            (
                Some("AES128"),
                Some(k.key.as_str()),
                Some(k.md5.as_str()),
                "InvalidEncryptionAlgorithmError",
            ),
            (
                Some("AES256"),
                Some(short.as_str()),
                Some(short_md5.as_str()),
                "InvalidArgument",
            ),
            (
                Some("AES256"),
                Some(k.key.as_str()),
                Some(short_md5.as_str()),
                "InvalidArgument",
            ),
        ];
        for (i, (algorithm, key, md5, code)) in cases.into_iter().enumerate() {
            let refused = try_put(algorithm, key, md5).await;
            assert_eq!(
                error_code_status(refused),
                (code.to_owned(), 400),
                "case {i}"
            );
        }
        // With SSE-S3's header too: incompatible.
        let both = with_key!(s3.put_object().bucket(B).key("k"), k)
            .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await;
        assert_eq!(error_code_status(both), ("InvalidArgument".to_owned(), 400));
        let listed = s3.list_objects_v2().bucket(B).send().await.unwrap();
        assert_eq!(listed.key_count(), Some(0));
    });
}

/// Every file under `dir` (data directory, databases, WAL) that holds `needle`.
fn holding(dir: &Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    found.push(path);
                }
            }
        }
    }
    found
}

#[test]
fn neither_the_key_nor_the_plaintext_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start(dir.path());
    let k = key(4);
    let marker = b"SSE-C plaintext marker that must never reach the disk. ".repeat(400);
    server.block_on(async {
        put(&s3, "inline", &marker[..3000], &k).await;
        put(&s3, "blob", &marker, &k).await;
        assert!(get(&s3, "blob", &k, None).await == marker);
    });
    let data = dir.path().join("data");
    for (what, needle) in [
        ("the plaintext", &marker[..48]),
        ("the key", &k.raw[..]),
        ("the key in base64", k.key.as_bytes()),
        ("the key's MD5", &md5::Md5::digest(k.raw)[..]),
        ("the key's MD5 in base64", k.md5.as_bytes()),
    ] {
        assert!(
            holding(&data, needle).is_empty(),
            "{what} is stored: {:?}",
            holding(&data, needle)
        );
    }
    drop(server);
}

#[test]
fn copies_read_with_the_source_key_and_write_with_the_destination_key() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start(dir.path());
    let (k1, k2) = (key(5), key(6));
    let body = pattern(300 * 1024, 7);
    server.block_on(async {
        put(&s3, "src", &body, &k1).await;
        // SSE-C to SSE-C under another key.
        let out = with_source_key!(
            with_key!(
                s3.copy_object()
                    .bucket(B)
                    .key("dst")
                    .copy_source(format!("{B}/src")),
                k2
            ),
            k1
        )
        .send()
        .await
        .unwrap();
        assert_eq!(out.sse_customer_algorithm(), Some("AES256"));
        assert_eq!(out.sse_customer_key_md5(), Some(k2.md5.as_str()));
        assert!(get(&s3, "dst", &k2, None).await == body);
        // The key of an object changed in place: a copy onto itself with a new key is a change.
        with_source_key!(
            with_key!(
                s3.copy_object()
                    .bucket(B)
                    .key("src")
                    .copy_source(format!("{B}/src")),
                k2
            ),
            k1
        )
        .send()
        .await
        .unwrap();
        assert!(get(&s3, "src", &k2, None).await == body);
        // SSE-C to the bucket's default (SSE-S3), and back.
        let out = with_source_key!(
            s3.copy_object()
                .bucket(B)
                .key("plain")
                .copy_source(format!("{B}/dst")),
            k2
        )
        .send()
        .await
        .unwrap();
        assert_eq!(
            out.server_side_encryption().map(|s| s.as_str()),
            Some("AES256")
        );
        let plain = s3.get_object().bucket(B).key("plain").send().await.unwrap();
        assert!(plain.body.collect().await.unwrap().to_vec() == body);
        with_key!(
            s3.copy_object()
                .bucket(B)
                .key("back")
                .copy_source(format!("{B}/plain")),
            k1
        )
        .send()
        .await
        .unwrap();
        assert!(get(&s3, "back", &k1, None).await == body);
        // A source without its key: 400; with another: 403; a key for a source without SSE-C: 400.
        let bare = s3
            .copy_object()
            .bucket(B)
            .key("x")
            .copy_source(format!("{B}/back"))
            .send()
            .await;
        assert_eq!(error_code_status(bare), ("InvalidRequest".to_owned(), 400));
        let wrong = with_source_key!(
            s3.copy_object()
                .bucket(B)
                .key("x")
                .copy_source(format!("{B}/back")),
            k2
        )
        .send()
        .await;
        assert_eq!(error_code_status(wrong), ("AccessDenied".to_owned(), 403));
        let stray = with_source_key!(
            s3.copy_object()
                .bucket(B)
                .key("x")
                .copy_source(format!("{B}/plain")),
            k2
        )
        .send()
        .await;
        assert_eq!(error_code_status(stray), ("InvalidRequest".to_owned(), 400));
        let head = s3.head_object().bucket(B).key("x").send().await;
        assert_eq!(
            head.unwrap_err().raw_response().unwrap().status().as_u16(),
            404
        );
    });
}

#[test]
fn multipart_uploads_take_the_key_on_every_part() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start(dir.path());
    let (k1, k2) = (key(7), key(8));
    let part1 = pattern(5 * 1024 * 1024, 11);
    let part3 = pattern(1000, 12); // inline, and last
    let source = pattern(5 * 1024 * 1024 + 100, 13);
    let copied = 5 * 1024 * 1024;
    server.block_on(async {
        put(&s3, "source", &source, &k2).await;
        let created = with_key!(s3.create_multipart_upload().bucket(B).key("mp"), k1)
            .send()
            .await
            .unwrap();
        assert_eq!(created.sse_customer_algorithm(), Some("AES256"));
        assert_eq!(created.sse_customer_key_md5(), Some(k1.md5.as_str()));
        let id = created.upload_id().unwrap();
        let upload = |n: i32, body: &[u8]| {
            s3.upload_part()
                .bucket(B)
                .key("mp")
                .upload_id(id)
                .part_number(n)
                .body(ByteStream::from(body.to_vec()))
        };
        // A part without the key, or with another: refused.
        let bare = upload(1, &part1).send().await;
        assert_eq!(error_code_status(bare), ("InvalidRequest".to_owned(), 400));
        let wrong = with_key!(upload(1, &part1), k2).send().await;
        assert_eq!(error_code_status(wrong), ("AccessDenied".to_owned(), 403));
        let p1 = with_key!(upload(1, &part1), k1).send().await.unwrap();
        assert_eq!(p1.sse_customer_algorithm(), Some("AES256"));
        assert_ne!(p1.e_tag().unwrap().trim_matches('"'), md5_hex(&part1));
        let p3 = with_key!(upload(3, &part3), k1).send().await.unwrap();
        // A part copied from an SSE-C source: the source's key and the upload's.
        let copy_part = |n: i32| {
            s3.upload_part_copy()
                .bucket(B)
                .key("mp")
                .upload_id(id)
                .part_number(n)
                .copy_source(format!("{B}/source"))
                .copy_source_range(format!("bytes=0-{}", copied - 1))
        };
        let bare = with_key!(copy_part(2), k1).send().await;
        assert_eq!(error_code_status(bare), ("InvalidRequest".to_owned(), 400));
        let no_dest_key = with_source_key!(copy_part(2), k2).send().await;
        assert_eq!(
            error_code_status(no_dest_key),
            ("InvalidRequest".to_owned(), 400)
        );
        let p2 = with_source_key!(with_key!(copy_part(2), k1), k2)
            .send()
            .await
            .unwrap();
        let parts = [
            (1, p1.e_tag().unwrap().to_owned()),
            (
                2,
                p2.copy_part_result().unwrap().e_tag().unwrap().to_owned(),
            ),
            (3, p3.e_tag().unwrap().to_owned()),
        ];
        let completed = CompletedMultipartUpload::builder()
            .set_parts(Some(
                parts
                    .iter()
                    .map(|(n, e)| CompletedPart::builder().part_number(*n).e_tag(e).build())
                    .collect(),
            ))
            .build();
        // Completing with another key: refused; without one: fine (the parts are encrypted).
        let wrong = with_key!(
            s3.complete_multipart_upload()
                .bucket(B)
                .key("mp")
                .upload_id(id),
            k2
        )
        .multipart_upload(completed.clone())
        .send()
        .await;
        assert_eq!(error_code_status(wrong), ("AccessDenied".to_owned(), 403));
        s3.complete_multipart_upload()
            .bucket(B)
            .key("mp")
            .upload_id(id)
            .multipart_upload(completed)
            .send()
            .await
            .unwrap();
        let mut whole = part1.clone();
        whole.extend_from_slice(&source[..copied]);
        whole.extend_from_slice(&part3);
        assert!(get(&s3, "mp", &k1, None).await == whole);
        // Part by part, and a range across the first two.
        let third = with_key!(s3.get_object().bucket(B).key("mp"), k1)
            .part_number(3)
            .send()
            .await
            .unwrap();
        assert_eq!(third.body.collect().await.unwrap().to_vec(), part3);
        let across = get(
            &s3,
            "mp",
            &k1,
            Some(&format!("bytes={}-{}", part1.len() - 10, part1.len() + 9)),
        )
        .await;
        assert_eq!(across, &whole[part1.len() - 10..part1.len() + 10]);
        let bare = s3.get_object().bucket(B).key("mp").send().await;
        assert_eq!(error_code_status(bare), ("InvalidRequest".to_owned(), 400));
        // A key on a part of an upload created without one: refused.
        let plain = s3
            .create_multipart_upload()
            .bucket(B)
            .key("plain-mp")
            .send()
            .await
            .unwrap();
        let stray = with_key!(
            s3.upload_part()
                .bucket(B)
                .key("plain-mp")
                .upload_id(plain.upload_id().unwrap())
                .part_number(1)
                .body(ByteStream::from_static(b"x")),
            k1
        )
        .send()
        .await;
        assert_eq!(error_code_status(stray), ("InvalidRequest".to_owned(), 400));
    });
}

#[test]
fn policies_read_the_customer_algorithm_as_a_condition_key() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = start(dir.path());
    let k = key(9);
    server.block_on(async {
        let user = server
            .with_user(
                r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::bkt/*",
                    "Condition": {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}}}]}"#,
            )
            .await;
        let plain = user
            .s3
            .put_object()
            .bucket(B)
            .key("k")
            .body(ByteStream::from_static(b"x"))
            .send()
            .await;
        assert_eq!(error_code_status(plain), ("AccessDenied".to_owned(), 403));
        with_key!(user.s3.put_object().bucket(B).key("k"), k)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    });
}

#[test]
fn customer_keys_need_https_unless_configured() {
    let dir = tempfile::tempdir().unwrap();
    let ca = crate::tls::issue(dir.path(), "server");
    let server = crate::tls::start(dir.path(), &crate::tls::tls_env(dir.path(), "server")).unwrap();
    let s3 = crate::tls::s3_https(server.s3, &ca, "admin", common::ROOT_SECRET);
    let k = key(10);
    let body = pattern(200 * 1024, 14);
    server.block_on(async {
        s3.create_bucket().bucket(B).send().await.unwrap();
        put(&s3, "k", &body, &k).await;
        assert!(get(&s3, "k", &k, None).await == body);
    });
    drop(server);
    // The same data directory served over plain HTTP with the setting off: refused, before
    // the key is looked at.
    let server = TestServer::start_with(dir.path(), &[]).unwrap();
    let s3 = server.root_s3();
    server.block_on(async {
        let refused = with_key!(s3.get_object().bucket(B).key("k"), k)
            .send()
            .await;
        assert_eq!(
            error_code_status(refused),
            ("InvalidRequest".to_owned(), 400)
        );
        let refused = with_key!(s3.put_object().bucket(B).key("k2"), k)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await;
        assert_eq!(
            error_code_status(refused),
            ("InvalidRequest".to_owned(), 400)
        );
        let message = format!("{:?}", refused_message(&s3, &k).await);
        assert!(message.contains("secure connection"), "{message}");
    });
}

async fn refused_message(s3: &Client, k: &Key) -> Option<String> {
    use aws_sdk_s3::error::ProvideErrorMetadata;
    let e = with_key!(s3.get_object().bucket(B).key("k"), k)
        .send()
        .await
        .unwrap_err();
    e.message().map(str::to_owned)
}
