//! Whether bytes and names survive, through `aws-sdk-s3` at default settings: additional
//! checksums (each algorithm, stored and returned), Content-MD5 and checksum mismatches, key
//! names that look like paths (none escapes the data directory), key length, and overwrites
//! that readers never see half-done.

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode};
use aws_sdk_s3::Client;
use common::signing::{s3_call, send, Signer};
use common::{error_code_status, Response, ROOT_SECRET};
use md5::{Digest, Md5};

const B: &str = "integrity";

async fn setup(dir: &Path) -> (common::TestServer, Client) {
    common::start_with_bucket(dir, B).await
}

async fn body_of(s3: &Client, key: &str) -> Vec<u8> {
    let out = s3.get_object().bucket(B).key(key).send().await;
    let out = out.unwrap_or_else(|e| panic!("get {key:?}: {e:?}"));
    out.body.collect().await.unwrap().into_bytes().to_vec()
}

/// The checksums of "hello world", computed independently of the server (Python's hashlib and
/// zlib, and a bitwise CRC-64/NVME).
const HELLO_WORLD: [(ChecksumAlgorithm, &str); 5] = [
    (ChecksumAlgorithm::Crc32, "DUoRhQ=="),
    (ChecksumAlgorithm::Crc32C, "yZRlqg=="),
    (ChecksumAlgorithm::Sha1, "Kq5sNclPz7QV2+lfQIuc6R7oRu0="),
    (
        ChecksumAlgorithm::Sha256,
        "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=",
    ),
    (ChecksumAlgorithm::Crc64Nvme, "jSnVw/bqjr4="),
];

/// The checksum of `algorithm` among a response's checksum fields.
fn pick(
    algorithm: &ChecksumAlgorithm,
    crc32: Option<&str>,
    crc32c: Option<&str>,
    sha1: Option<&str>,
    sha256: Option<&str>,
    crc64nvme: Option<&str>,
) -> Option<String> {
    let value = match algorithm {
        ChecksumAlgorithm::Crc32 => crc32,
        ChecksumAlgorithm::Crc32C => crc32c,
        ChecksumAlgorithm::Sha1 => sha1,
        ChecksumAlgorithm::Sha256 => sha256,
        ChecksumAlgorithm::Crc64Nvme => crc64nvme,
        other => panic!("not in this suite: {other:?}"),
    };
    value.map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_checksum_algorithm_is_verified_stored_and_returned() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    for (algorithm, expected) in HELLO_WORLD {
        let key = format!("hello-{}", algorithm.as_str());
        let put = s3
            .put_object()
            .bucket(B)
            .key(&key)
            .checksum_algorithm(algorithm.clone())
            .body(ByteStream::from_static(b"hello world"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{algorithm:?}: {e:?}"));
        let got = pick(
            &algorithm,
            put.checksum_crc32(),
            put.checksum_crc32_c(),
            put.checksum_sha1(),
            put.checksum_sha256(),
            put.checksum_crc64_nvme(),
        );
        assert_eq!(got.as_deref(), Some(expected), "PutObject {algorithm:?}");

        let head = s3
            .head_object()
            .bucket(B)
            .key(&key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .unwrap();
        let got = pick(
            &algorithm,
            head.checksum_crc32(),
            head.checksum_crc32_c(),
            head.checksum_sha1(),
            head.checksum_sha256(),
            head.checksum_crc64_nvme(),
        );
        assert_eq!(got.as_deref(), Some(expected), "HeadObject {algorithm:?}");

        // With checksum mode the SDK also checks the body against the returned value.
        let get = s3
            .get_object()
            .bucket(B)
            .key(&key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .unwrap();
        let got = pick(
            &algorithm,
            get.checksum_crc32(),
            get.checksum_crc32_c(),
            get.checksum_sha1(),
            get.checksum_sha256(),
            get.checksum_crc64_nvme(),
        );
        assert_eq!(got.as_deref(), Some(expected), "GetObject {algorithm:?}");
        let body = get.body.collect().await.unwrap().into_bytes();
        assert_eq!(&body[..], b"hello world", "{algorithm:?}");

        // Without checksum mode, no checksum is returned.
        let plain = s3.head_object().bucket(B).key(&key).send().await.unwrap();
        assert_eq!(plain.checksum_crc32(), None, "{algorithm:?}");
        assert_eq!(plain.checksum_sha256(), None, "{algorithm:?}");
    }
    server.stop();
}

/// The headers of the last request a client sent.
#[derive(Debug, Clone, Default)]
struct SentHeaders(std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>);

impl aws_sdk_s3::config::Intercept for SentHeaders {
    fn name(&self) -> &'static str {
        "SentHeaders"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_s3::config::RuntimeComponents,
        _: &mut aws_sdk_s3::config::ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        let headers = context.request().headers();
        *self.0.lock().unwrap() = headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.to_owned()))
            .collect();
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_upload_carries_its_checksum_in_the_trailer() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    // A file body is streamed: the SDK sends it aws-chunked, its CRC32 in a trailer.
    let data: Vec<u8> = (0..=250).cycle().take(3 * 1024 * 1024 + 17).collect();
    let path = dir.path().join("upload.bin");
    std::fs::write(&path, &data).unwrap();
    let sent = SentHeaders::default();
    let config = s3.config().to_builder().interceptor(sent.clone()).build();
    let recording = Client::from_conf(config);
    let md5 = format!("\"{}\"", hex::encode(Md5::digest(&data)));
    let crc = crc32fast::hash(&data).to_be_bytes();
    let crc = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, crc);
    for encoding in [None, Some("gzip")] {
        let put = recording
            .put_object()
            .bucket(B)
            .key("streamed")
            .set_content_encoding(encoding.map(str::to_owned))
            .body(ByteStream::from_path(&path).await.unwrap())
            .send()
            .await
            .unwrap();
        let headers = sent.0.lock().unwrap().clone();
        let header = |name: &str| {
            let found = headers.iter().find(|(n, _)| n == name);
            found.map(|(_, v)| v.clone())
        };
        assert_eq!(
            header("x-amz-trailer").as_deref(),
            Some("x-amz-checksum-crc32")
        );
        // Over plain HTTP the SDK signs each chunk and the trailer.
        assert_eq!(
            header("x-amz-content-sha256").as_deref(),
            Some("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")
        );
        assert_eq!(put.e_tag(), Some(md5.as_str()));
        assert_eq!(put.checksum_crc32(), Some(crc.as_str()));
        assert!(body_of(&s3, "streamed").await == data);
        // aws-chunked, if the request says so, is how the body travelled, not how the object
        // is encoded.
        let sent_encoding = header("content-encoding");
        let head = s3
            .head_object()
            .bucket(B)
            .key("streamed")
            .send()
            .await
            .unwrap();
        assert_eq!(head.content_encoding(), encoding, "sent {sent_encoding:?}");
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_does_not_match_its_digest_is_bad_digest_and_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    // Content-MD5 through the SDK: the MD5 of "" for a body that is not empty.
    let wrong_md5 = s3
        .put_object()
        .bucket(B)
        .key("md5")
        .content_md5("1B2M2Y8AsgTpgAmY7PhCfg==")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await;
    assert_eq!(error_code_status(wrong_md5), ("BadDigest".to_owned(), 400));
    let right_md5 = s3
        .put_object()
        .bucket(B)
        .key("md5")
        .content_md5("XUFAKrxLKna5cZ2REBfFkg==")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await;
    right_md5.unwrap();

    // A checksum value given in a header that the body does not match.
    let wrong_crc = s3
        .put_object()
        .bucket(B)
        .key("crc")
        .checksum_crc32("AAAAAA==")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await;
    assert_eq!(error_code_status(wrong_crc), ("BadDigest".to_owned(), 400));

    // The same, signed raw: a wrong Content-MD5 is BadDigest, a malformed one InvalidDigest.
    let signer = Signer::new("admin", ROOT_SECRET);
    let cases = [
        ("XUFAKrxLKna5cZ2REBfFkg==", 200, ""),
        ("1B2M2Y8AsgTpgAmY7PhCfg==", 400, "<Code>BadDigest</Code>"),
        ("not an md5", 400, "<Code>InvalidDigest</Code>"),
    ];
    for (md5, status, code) in cases {
        let r = s3_call(
            server.s3,
            &signer,
            "PUT",
            "/integrity/raw",
            &[("content-md5", md5)],
            "hello",
        );
        assert_eq!(r.status, status, "{md5}: {}", r.body);
        assert!(r.body.contains(code), "{md5}: {}", r.body);
        s3.delete_object()
            .bucket(B)
            .key("raw")
            .send()
            .await
            .unwrap();
    }
    for key in ["crc", "raw"] {
        let (_, status) = error_code_status(s3.head_object().bucket(B).key(key).send().await);
        assert_eq!(status, 404, "{key}: a refused upload stores nothing");
    }
    assert_eq!(body_of(&s3, "md5").await, b"hello");
    server.stop();
}

/// Every file under `root`, relative to it.
fn files(root: &Path) -> BTreeSet<PathBuf> {
    let mut found = BTreeSet::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                found.insert(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_that_look_like_paths_round_trip_and_stay_inside_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let before = files(dir.path());
    let keys = [
        "..",
        "../../etc/passwd",
        "../outside",
        "./dot",
        "a",
        "a/b",
        "a/",
        "dir/",
        "dir//double",
        "/leading-slash",
        "trailing/",
        "日本語/キー",
        "émoji 😀",
        "with space",
        "plus+sign",
        "100% sure",
        "%2F encoded",
        "question?mark",
        "hash#tag",
        "amp&ersand=1",
        "<xml> \"quotes\" 'apos'",
        "back\\slash",
        "tilde~star*",
        "semi;colon,comma",
        // XML 1.0 turns a raw CR (or CRLF) into LF and has no raw C0 controls: listings
        // must write them as character references.
        "carriage\rreturn",
        "crlf\r\nline",
        "line\nfeed",
        "tab\tkey",
        "bell\u{7}and\u{1}",
    ];
    for key in keys {
        s3.put_object()
            .bucket(B)
            .key(key)
            .body(ByteStream::from(key.as_bytes().to_vec()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("put {key:?}: {e:?}"));
    }
    for key in keys {
        assert_eq!(body_of(&s3, key).await, key.as_bytes(), "{key:?}");
    }
    let listed = s3.list_objects_v2().bucket(B).send().await.unwrap();
    let listed: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    let mut expected = keys.to_vec();
    expected.sort_unstable();
    assert_eq!(listed, expected);

    // Nothing new outside data/objects, and no file is named after a key.
    let objects = Path::new("data").join("objects");
    for path in files(dir.path()).difference(&before) {
        let inside = path.starts_with(&objects) || path.starts_with(Path::new("data/metadata"));
        assert!(inside, "a file outside the data dir's stores: {path:?}");
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(!keys.iter().any(|k| k.ends_with(&*name)), "{path:?}");
    }
    assert!(!dir.path().join("etc").exists());
    assert!(!dir.path().join("data").join("etc").exists());
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_at_most_1024_bytes_of_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let cases = [
        ("k".repeat(1024), true),
        ("é".repeat(512), true),
        ("k".repeat(1025), false),
        (format!("{}k", "é".repeat(512)), false),
    ];
    for (key, fits) in cases {
        let put = s3
            .put_object()
            .bucket(B)
            .key(&key)
            .body(ByteStream::from_static(b"long"))
            .send()
            .await;
        if fits {
            put.unwrap_or_else(|e| panic!("{} bytes: {e:?}", key.len()));
            assert_eq!(body_of(&s3, &key).await, b"long");
        } else {
            assert_eq!(
                error_code_status(put),
                ("KeyTooLongError".to_owned(), 400),
                "{} bytes",
                key.len()
            );
        }
    }
    let listed = s3.list_objects_v2().bucket(B).send().await.unwrap();
    assert_eq!(listed.key_count(), Some(2));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_see_one_complete_version_during_concurrent_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let a = vec![b'A'; 2 * 1024 * 1024 + 3];
    let b: Vec<u8> = vec![b'B'; 1024 * 1024 + 5];
    let put = |body: Vec<u8>| {
        let s3 = s3.clone();
        tokio::spawn(async move {
            s3.put_object()
                .bucket(B)
                .key("contended")
                .body(ByteStream::from(body))
                .send()
                .await
                .unwrap();
        })
    };
    put(a.clone()).await.unwrap();
    let mut seen = (0, 0);
    for _ in 0..20 {
        let writers = [
            put(a.clone()),
            put(b.clone()),
            put(a.clone()),
            put(b.clone()),
        ];
        let readers: Vec<_> = (0..6)
            .map(|_| {
                let s3 = s3.clone();
                tokio::spawn(async move { body_of(&s3, "contended").await })
            })
            .collect();
        for reader in readers {
            let got = reader.await.unwrap();
            if got == a {
                seen.0 += 1;
            } else if got == b {
                seen.1 += 1;
            } else {
                panic!("a torn read: {} bytes", got.len());
            }
        }
        for writer in writers {
            writer.await.unwrap();
        }
    }
    assert_eq!(seen.0 + seen.1, 120);
    server.stop();
}

const UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
/// "hello world" aws-chunked, up to its final (empty) chunk; trailers follow.
const HELLO_CHUNKS: &str = "b\r\nhello world\r\n0\r\n";
const CRC32_TRAILER: &str = "x-amz-checksum-crc32:DUoRhQ==\r\n";

/// The `<Code>` of a raw error response.
fn code(r: &Response) -> &str {
    let start = r.body.find("<Code>").map(|i| i + 6).unwrap_or(0);
    &r.body[start..r.body.find("</Code>").unwrap_or(start)]
}

/// A raw PUT of `body` to `key`, signed by the root with `payload` as its
/// `x-amz-content-sha256`, with `headers` besides.
fn raw_put(
    server: &common::TestServer,
    key: &str,
    payload: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Response {
    let signer = Signer {
        payload: Some(payload),
        ..Signer::s3("admin", ROOT_SECRET)
    };
    let mut all = vec![("x-amz-content-sha256", payload)];
    if payload.starts_with("STREAMING-") {
        all.push(("content-encoding", "aws-chunked"));
    }
    all.extend_from_slice(headers);
    let (path, signed) = signer.sign(server.s3, "PUT", &format!("/{B}/{key}"), &all, b"");
    send(server.s3, "PUT", &path, &signed, body)
}

/// What a raw PUT tries, its `x-amz-content-sha256`, its other headers, its body, and the
/// expected status and code.
type TrailerCase<'a> = (
    &'a str,
    &'a str,
    Vec<(&'a str, &'a str)>,
    String,
    (u16, &'a str),
);

/// Every way a checksum declared for the trailer could go unchecked is refused, and nothing
/// is written: the key keeps what it held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checksum_announced_in_x_amz_trailer_is_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    s3.put_object()
        .bucket(B)
        .key("kept")
        .body(ByteStream::from_static(b"original"))
        .send()
        .await
        .unwrap();
    let announce = [("x-amz-trailer", "x-amz-checksum-crc32")];
    let sha256 = "x-amz-checksum-sha256:uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=\r\n";
    let bad_crc32 = "x-amz-checksum-crc32:AAAAAA==\r\n";
    let cases: Vec<TrailerCase> = vec![
        (
            "announced, missing",
            UNSIGNED_TRAILER,
            announce.to_vec(),
            format!("{HELLO_CHUNKS}\r\n"),
            (400, "MalformedTrailerError"),
        ),
        (
            "announced, sent under another name",
            UNSIGNED_TRAILER,
            announce.to_vec(),
            format!("{HELLO_CHUNKS}{sha256}\r\n"),
            (400, "MalformedTrailerError"),
        ),
        (
            "a good value, then a bad one",
            UNSIGNED_TRAILER,
            announce.to_vec(),
            format!("{HELLO_CHUNKS}{CRC32_TRAILER}{bad_crc32}\r\n"),
            (400, "MalformedTrailerError"),
        ),
        (
            "announced, with a value that is no checksum",
            UNSIGNED_TRAILER,
            announce.to_vec(),
            format!("{HELLO_CHUNKS}x-amz-checksum-crc32:hello\r\n\r\n"),
            (400, "InvalidRequest"),
        ),
        (
            "sent, never announced",
            UNSIGNED_TRAILER,
            vec![],
            format!("{HELLO_CHUNKS}{bad_crc32}\r\n"),
            (400, "MalformedTrailerError"),
        ),
        (
            "announced under no checksum's name",
            UNSIGNED_TRAILER,
            vec![("x-amz-trailer", "x-amz-meta-note")],
            format!("{HELLO_CHUNKS}x-amz-meta-note:hi\r\n\r\n"),
            (400, "InvalidRequest"),
        ),
        (
            "announced twice",
            UNSIGNED_TRAILER,
            vec![(
                "x-amz-trailer",
                "x-amz-checksum-crc32,x-amz-checksum-sha256",
            )],
            format!("{HELLO_CHUNKS}{CRC32_TRAILER}{sha256}\r\n"),
            (400, "InvalidRequest"),
        ),
        (
            "announced, and another checksum in a header",
            UNSIGNED_TRAILER,
            vec![
                ("x-amz-trailer", "x-amz-checksum-crc32"),
                (
                    "x-amz-checksum-sha256",
                    "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=",
                ),
            ],
            format!("{HELLO_CHUNKS}{bad_crc32}\r\n"),
            (400, "InvalidRequest"),
        ),
        (
            "announced for a body that cannot carry trailers",
            "UNSIGNED-PAYLOAD",
            announce.to_vec(),
            "hello world".to_owned(),
            (400, "InvalidRequest"),
        ),
        (
            "two checksum headers, one of them wrong",
            "UNSIGNED-PAYLOAD",
            vec![
                ("x-amz-checksum-crc32", "AAAAAA=="),
                (
                    "x-amz-checksum-sha256",
                    "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=",
                ),
            ],
            "hello world".to_owned(),
            (400, "InvalidRequest"),
        ),
    ];
    for (what, payload, headers, body, expected) in cases {
        let r = raw_put(&server, "kept", payload, &headers, &body);
        assert_eq!((r.status, code(&r)), expected, "{what}: {}", r.body);
        assert_eq!(body_of(&s3, "kept").await, b"original", "{what}");
    }
    // The same request with its trailer as announced is stored.
    let body = format!("{HELLO_CHUNKS}{CRC32_TRAILER}\r\n");
    let r = raw_put(&server, "kept", UNSIGNED_TRAILER, &announce, &body);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(body_of(&s3, "kept").await, b"hello world");
    server.stop();
}

/// What an aws-chunked PUT tries, its headers and its body.
type TailCase<'a> = (&'a str, &'a [(&'a str, &'a str)], String);

/// An aws-chunked body ends with its final chunk (and trailers): nothing may follow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_after_the_final_chunk_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let announce = [("x-amz-trailer", "x-amz-checksum-crc32")];
    let cases: [TailCase; 3] = [
        (
            "after the final chunk",
            &[],
            format!("{HELLO_CHUNKS}\r\nextra"),
        ),
        (
            "after the trailers",
            &announce,
            format!("{HELLO_CHUNKS}{CRC32_TRAILER}\r\nextra"),
        ),
        (
            "a second final chunk",
            &[],
            format!("{HELLO_CHUNKS}\r\n0\r\n\r\n"),
        ),
    ];
    for (what, headers, body) in cases {
        let r = raw_put(&server, "tail", UNSIGNED_TRAILER, headers, &body);
        assert_eq!(
            (r.status, code(&r)),
            (400, "MalformedTrailerError"),
            "{what}: {}",
            r.body
        );
        let (_, status) = error_code_status(s3.head_object().bucket(B).key("tail").send().await);
        assert_eq!(status, 404, "{what}: nothing is stored");
    }
    let r = raw_put(
        &server,
        "tail",
        UNSIGNED_TRAILER,
        &[],
        &format!("{HELLO_CHUNKS}\r\n"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    server.stop();
}
