//! S3 authentication with raw signed requests, for what no SDK sends: forged and stale
//! signatures, a payload that does not match its signed hash, a tampered chunk in the middle
//! of a signed stream, expired presigned URLs, SigV2, and keys that try to climb out of the
//! data directory.

use crate::common;

use std::time::{Duration, SystemTime};

use base64::Engine;
use common::signing::{send, Signer};
use common::{start_with_root, Response, TestServer, ROOT_SECRET};
use hmac::{Hmac, Mac};
use labstore::auth::sigv4::{hmac_sha256, sha256_hex, signing_key};

fn code(r: &Response) -> &str {
    let start = r.body.find("<Code>").map(|i| i + 6).unwrap_or(0);
    &r.body[start..r.body.find("</Code>").unwrap_or(start)]
}

fn root() -> Signer<'static> {
    Signer::s3("admin", ROOT_SECRET)
}

fn call(
    server: &TestServer,
    signer: &Signer<'_>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let (path, headers) = signer.sign(server.s3, method, path, headers, body);
    send(server.s3, method, &path, &headers, body)
}

fn server_with_bucket(dir: &std::path::Path) -> TestServer {
    let server = start_with_root(dir);
    let r = call(&server, &root(), "PUT", "/bkt", &[], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    server
}

#[test]
fn forged_unknown_stale_and_anonymous_requests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_bucket(dir.path());
    let now = SystemTime::now();
    let cases: Vec<(&str, Signer<'_>, u16, &str)> = vec![
        (
            "unknown key",
            Signer::s3("AKIAIOSFODNN7EXAMPLE", ROOT_SECRET),
            403,
            "InvalidAccessKeyId",
        ),
        (
            "wrong secret",
            Signer::s3("admin", "not-the-root-secret"),
            403,
            "SignatureDoesNotMatch",
        ),
        (
            "16 minutes old",
            Signer {
                time: now - Duration::from_secs(960),
                ..root()
            },
            403,
            "RequestTimeTooSkewed",
        ),
        (
            "16 minutes ahead",
            Signer {
                time: now + Duration::from_secs(960),
                ..root()
            },
            403,
            "RequestTimeTooSkewed",
        ),
    ];
    for (what, signer, status, expected) in cases {
        let r = call(&server, &signer, "GET", "/bkt", &[], b"");
        assert_eq!(
            (r.status, code(&r)),
            (status, expected),
            "{what}: {}",
            r.body
        );
        assert_eq!(r.header("x-amz-request-id").map(str::len), Some(16));
    }
    let anonymous = send(
        server.s3,
        "GET",
        "/bkt",
        &[("host".into(), server.s3.to_string())],
        b"",
    );
    assert_eq!((anonymous.status, code(&anonymous)), (403, "AccessDenied"));
    // HEAD errors carry the status and no body.
    let r = call(&server, &root(), "HEAD", "/bkt/missing", &[], b"");
    assert_eq!((r.status, r.body.as_str()), (404, ""));
}

#[test]
fn a_body_that_does_not_match_its_signed_hash_is_refused_and_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_bucket(dir.path());
    let claimed = sha256_hex(b"what was signed");
    let signer = Signer {
        payload: Some(&claimed),
        ..root()
    };
    let r = call(
        &server,
        &signer,
        "PUT",
        "/bkt/k",
        &[("x-amz-content-sha256", &claimed)],
        b"what was sent",
    );
    assert_eq!(
        (r.status, code(&r)),
        (400, "XAmzContentSHA256Mismatch"),
        "{}",
        r.body
    );
    let r = call(&server, &root(), "GET", "/bkt/k", &[], b"");
    assert_eq!((r.status, code(&r)), (404, "NoSuchKey"));
    assert_eq!(
        std::fs::read_dir(dir.path().join("data/objects/tmp"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn unsigned_payloads_and_presigned_urls_until_they_expire() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_bucket(dir.path());
    let signer = Signer {
        payload: Some("UNSIGNED-PAYLOAD"),
        ..root()
    };
    let r = call(
        &server,
        &signer,
        "PUT",
        "/bkt/u",
        &[("x-amz-content-sha256", "UNSIGNED-PAYLOAD")],
        b"unsigned body",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let fresh = Signer {
        presign: Some(Duration::from_secs(60)),
        payload: Some("UNSIGNED-PAYLOAD"),
        ..root()
    };
    let r = call(&server, &fresh, "GET", "/bkt/u", &[], b"");
    assert_eq!((r.status, r.body.as_str()), (200, "unsigned body"));
    let stale = Signer {
        presign: Some(Duration::from_secs(60)),
        payload: Some("UNSIGNED-PAYLOAD"),
        time: SystemTime::now() - Duration::from_secs(120),
        ..root()
    };
    let r = call(&server, &stale, "GET", "/bkt/u", &[], b"");
    assert_eq!((r.status, code(&r)), (403, "AccessDenied"), "{}", r.body);
}

const STREAMING: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";

/// A signed aws-chunked PUT of `chunks`, optionally corrupting one chunk after signing.
fn streaming_put(
    server: &TestServer,
    key: &str,
    chunks: &[Vec<u8>],
    corrupt: Option<usize>,
) -> Response {
    let total: usize = chunks.iter().map(Vec::len).sum();
    let encoded_len = total.to_string();
    let headers = [
        ("x-amz-content-sha256", STREAMING),
        ("x-amz-decoded-content-length", encoded_len.as_str()),
        ("content-encoding", "aws-chunked"),
    ];
    let signer = Signer {
        payload: Some(STREAMING),
        ..root()
    };
    let path = format!("/bkt/{key}");
    let (path, mut signed) = signer.sign(server.s3, "PUT", &path, &headers, b"");
    let auth = signed
        .iter()
        .find(|(n, _)| n == "authorization")
        .unwrap()
        .1
        .clone();
    let seed = auth.rsplit("Signature=").next().unwrap().to_owned();
    let amz_date = signed
        .iter()
        .find(|(n, _)| n == "x-amz-date")
        .unwrap()
        .1
        .clone();
    let scope = format!("{}/us-east-1/s3/aws4_request", &amz_date[..8]);
    let key_bytes = signing_key(ROOT_SECRET, &amz_date[..8], "us-east-1", "s3");
    let mut body = Vec::new();
    let mut previous = seed;
    let empty = sha256_hex(b"");
    for (i, chunk) in chunks
        .iter()
        .map(Vec::as_slice)
        .chain([&[][..]])
        .enumerate()
    {
        let to_sign = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{empty}\n{}",
            sha256_hex(chunk)
        );
        let signature = hex::encode(hmac_sha256(&key_bytes, to_sign.as_bytes()));
        body.extend(format!("{:x};chunk-signature={signature}\r\n", chunk.len()).into_bytes());
        let mut data = chunk.to_vec();
        if corrupt == Some(i) {
            data[0] ^= 1;
        }
        body.extend(data);
        body.extend(b"\r\n");
        previous = signature;
    }
    signed.retain(|(n, _)| n != "content-length");
    send(server.s3, "PUT", &path, &signed, &body)
}

#[test]
fn streaming_uploads_verify_every_chunk_signature() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_bucket(dir.path());
    let chunks: Vec<Vec<u8>> = vec![vec![b'a'; 65536], vec![b'b'; 65536], vec![b'c'; 1000]];
    let r = streaming_put(&server, "stream", &chunks, None);
    assert_eq!(r.status, 200, "{}", r.body);
    let got = call(&server, &root(), "GET", "/bkt/stream", &[], b"");
    assert_eq!(got.body.len(), 65536 * 2 + 1000);
    let original_etag = got.header("etag").unwrap().to_owned();
    for corrupt in [1, 2] {
        let r = streaming_put(
            &server,
            "stream",
            &[vec![b'x'; 65536], vec![b'y'; 65536], vec![b'z'; 10]],
            Some(corrupt),
        );
        assert_eq!(
            (r.status, code(&r)),
            (403, "SignatureDoesNotMatch"),
            "chunk {corrupt}: {}",
            r.body
        );
        // The object is unchanged: a failed upload is never visible.
        let after = call(&server, &root(), "HEAD", "/bkt/stream", &[], b"");
        assert_eq!(after.header("etag").unwrap(), original_etag);
    }
    assert_eq!(
        std::fs::read_dir(dir.path().join("data/objects/tmp"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn sigv2_signed_requests_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_bucket(dir.path());
    let date = labstore::timefmt::format_http_date(SystemTime::now());
    let sign = |method: &str, content_type: &str, resource: &str| {
        let to_sign = format!("{method}\n\n{content_type}\n{date}\n{resource}");
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(ROOT_SECRET.as_bytes()).unwrap();
        mac.update(to_sign.as_bytes());
        let signature =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        vec![
            ("host".to_owned(), server.s3.to_string()),
            ("date".to_owned(), date.clone()),
            ("content-type".to_owned(), content_type.to_owned()),
            ("authorization".to_owned(), format!("AWS admin:{signature}")),
        ]
    };
    let r = send(
        server.s3,
        "PUT",
        "/bkt/v2",
        &sign("PUT", "text/plain", "/bkt/v2"),
        b"signed with v2",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = send(
        server.s3,
        "GET",
        "/bkt/v2",
        &sign("GET", "", "/bkt/v2"),
        b"",
    );
    assert_eq!((r.status, r.body.as_str()), (200, "signed with v2"));
    let mut forged = sign("GET", "", "/bkt/v2");
    forged[3].1 = "AWS admin:AAAAAAAAAAAAAAAAAAAAAAAAAAA=".into();
    let r = send(server.s3, "GET", "/bkt/v2", &forged, b"");
    assert_eq!(
        (r.status, code(&r)),
        (403, "SignatureDoesNotMatch"),
        "{}",
        r.body
    );
}

#[test]
fn keys_that_look_like_paths_stay_keys() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_bucket(dir.path());
    let keys = [
        "..%2F..%2F..%2Fescape-one",
        "a%2F..%2F..%2F..%2Fescape-two",
        "..",
        "%2E%2E%2Fescape-three",
        "dir%2F",
        "dir",
    ];
    for (i, key) in keys.iter().enumerate() {
        let body = format!("body {i}");
        let r = call(
            &server,
            &root(),
            "PUT",
            &format!("/bkt/{key}"),
            &[],
            body.as_bytes(),
        );
        assert_eq!(r.status, 200, "{key}: {}", r.body);
        let r = call(&server, &root(), "GET", &format!("/bkt/{key}"), &[], b"");
        assert_eq!((r.status, r.body.as_str()), (200, body.as_str()), "{key}");
    }
    let listing = call(&server, &root(), "GET", "/bkt?list-type=2", &[], b"");
    for key in [
        "../../../escape-one",
        "a/../../../escape-two",
        "../escape-three",
        "dir/",
    ] {
        assert!(
            listing.body.contains(&format!("<Key>{key}</Key>")),
            "{key} not listed: {}",
            listing.body
        );
    }
    // Nothing was written anywhere but the blob directories.
    let mut stray = Vec::new();
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .contains("escape")
            {
                stray.push(path);
            }
        }
    }
    assert!(stray.is_empty(), "{stray:?}");
}

#[test]
fn virtual_hosted_style_addresses_the_bucket_by_host() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY", ROOT_SECRET),
        ("LABSTORE_BACKEND_S3_BASE_DOMAIN", "s3.lab"),
    ];
    let server = TestServer::start_with(dir.path(), &env).unwrap();
    assert_eq!(call(&server, &root(), "PUT", "/vbkt", &[], b"").status, 200);
    let host = format!("vbkt.s3.lab:{}", server.s3.port());
    let r = call(
        &server,
        &root(),
        "PUT",
        "/photos/cat.txt",
        &[("host", &host)],
        b"meow",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // The same object, path style.
    let r = call(&server, &root(), "GET", "/vbkt/photos/cat.txt", &[], b"");
    assert_eq!((r.status, r.body.as_str()), (200, "meow"));
    let r = call(
        &server,
        &root(),
        "GET",
        "/?list-type=2",
        &[("host", &host)],
        b"",
    );
    assert!(
        r.body.contains("<Name>vbkt</Name>") && r.body.contains("<Key>photos/cat.txt</Key>"),
        "{}",
        r.body
    );
    // Without the base domain in the Host, the first path segment is the bucket again.
    let r = call(&server, &root(), "GET", "/photos/cat.txt", &[], b"");
    assert_eq!((r.status, code(&r)), (404, "NoSuchBucket"), "{}", r.body);
}

#[test]
fn a_refused_upload_does_not_poison_its_keep_alive_connection() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_bucket(dir.path());
    // A PUT refused before its body is read (no such bucket), then a second request on the
    // same connection: its answer must be its own, not the unread body parsed as a request.
    let (path, headers) = root().sign(
        server.s3,
        "PUT",
        "/no-such-bucket/k",
        &[],
        b"GET / HTTP/1.1\r\n\r\n",
    );
    let mut stream = std::net::TcpStream::connect(server.s3).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = format!("PUT {path} HTTP/1.1\r\n");
    for (n, v) in &headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("Content-Length: 18\r\n\r\nGET / HTTP/1.1\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 404"), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("connection: close"),
        "{text}"
    );
    assert_eq!(
        text.matches("HTTP/1.1 ").count(),
        1,
        "a second response came from the unread body: {text}"
    );
}

/// Sends a signed PUT's head with `Expect: 100-continue` and returns the first bytes the
/// server answers with before any body is sent.
fn expect_continue_head(
    server: &TestServer,
    path: &str,
    body: &[u8],
) -> (std::net::TcpStream, String) {
    use std::io::{Read, Write};
    let len = body.len().to_string();
    let headers = [("expect", "100-continue"), ("content-length", len.as_str())];
    let (path, signed) = root().sign(server.s3, "PUT", path, &headers, body);
    let mut stream = std::net::TcpStream::connect(server.s3).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = format!("PUT {path} HTTP/1.1\r\n");
    for (n, v) in &signed {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).unwrap();
    (stream, String::from_utf8_lossy(&buf[..n]).into_owned())
}

#[test]
fn expect_100_continue_is_honoured() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_bucket(dir.path());
    // A good upload is invited to send its body, then stored.
    let (mut stream, first) = expect_continue_head(&server, "/bkt/continued", b"the body");
    assert!(first.starts_with("HTTP/1.1 100 Continue"), "{first}");
    stream.write_all(b"the body").unwrap();
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    let rest = String::from_utf8_lossy(&rest);
    assert!(rest.contains("HTTP/1.1 200"), "{rest}");
    let r = call(&server, &root(), "GET", "/bkt/continued", &[], b"");
    assert_eq!((r.status, r.body.as_str()), (200, "the body"));
    // A refused upload is answered at once: the client never has to send the body.
    let (_stream, first) = expect_continue_head(&server, "/no-such-bucket/k", b"never sent");
    assert!(first.starts_with("HTTP/1.1 404"), "{first}");
    assert!(first.contains("<Code>NoSuchBucket</Code>"), "{first}");
}

#[test]
fn a_response_override_that_cannot_be_a_header_is_a_client_error() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_bucket(dir.path());
    assert_eq!(
        call(&server, &root(), "PUT", "/bkt/o", &[], b"x").status,
        200
    );
    let r = call(
        &server,
        &root(),
        "GET",
        "/bkt/o?response-content-type=text%2Fplain",
        &[],
        b"",
    );
    assert_eq!(
        (r.status, r.header("content-type")),
        (200, Some("text/plain"))
    );
    let r = call(
        &server,
        &root(),
        "GET",
        "/bkt/o?response-content-type=a%0Ab",
        &[],
        b"",
    );
    assert_eq!((r.status, code(&r)), (400, "InvalidArgument"), "{}", r.body);
}

/// Every `x-amz-*` header must be signed: an unsigned one added to a presigned URL (or to a
/// header-signed request) could turn a PUT into a copy of an object the holder was never
/// given, or store metadata the signer never chose.
#[test]
fn unsigned_amz_headers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_bucket(dir.path());
    let r = call(&server, &root(), "PUT", "/bkt/private", &[], b"payroll");
    assert_eq!(r.status, 200, "{}", r.body);
    let presigner = Signer {
        presign: Some(Duration::from_secs(60)),
        payload: Some("UNSIGNED-PAYLOAD"),
        ..root()
    };
    let presigned_with = |method: &str, path: &str, extra: (&str, &str), body: &[u8]| {
        let (path, mut headers) = presigner.sign(server.s3, method, path, &[], body);
        headers.push((extra.0.to_owned(), extra.1.to_owned()));
        send(server.s3, method, &path, &headers, body)
    };
    let copy_source = ("x-amz-copy-source", "/bkt/private");
    let r = presigned_with("PUT", "/bkt/drop", copy_source, b"");
    assert_eq!((r.status, code(&r)), (403, "AccessDenied"), "{}", r.body);
    assert!(r.body.contains("x-amz-copy-source"), "{}", r.body);
    let r = presigned_with("PUT", "/bkt/meta", ("x-amz-meta-owner", "mallory"), b"x");
    assert_eq!((r.status, code(&r)), (403, "AccessDenied"), "{}", r.body);
    for key in ["drop", "meta"] {
        let r = call(&server, &root(), "HEAD", &format!("/bkt/{key}"), &[], b"");
        assert_eq!(r.status, 404, "{key} must not exist");
    }
    // A presigned UploadPart must not become UploadPartCopy.
    let r = call(&server, &root(), "POST", "/bkt/mp?uploads", &[], b"");
    let start = r.body.find("<UploadId>").unwrap() + "<UploadId>".len();
    let upload = &r.body[start..r.body.find("</UploadId>").unwrap()];
    let part = format!("/bkt/mp?partNumber=1&uploadId={upload}");
    let r = presigned_with("PUT", &part, copy_source, b"");
    assert_eq!((r.status, code(&r)), (403, "AccessDenied"), "{}", r.body);
    let r = call(
        &server,
        &root(),
        "GET",
        &format!("/bkt/mp?uploadId={upload}"),
        &[],
        b"",
    );
    assert!(!r.body.contains("<Part>"), "no part was stored: {}", r.body);
    // Header-signed requests too.
    let (path, mut headers) = root().sign(server.s3, "PUT", "/bkt/signed", &[], b"");
    headers.push(("x-amz-copy-source".into(), "/bkt/private".into()));
    let r = send(server.s3, "PUT", &path, &headers, b"");
    assert_eq!((r.status, code(&r)), (403, "AccessDenied"), "{}", r.body);
    // The same presigned PUT, as it was signed, is accepted; so is a header the SDKs leave
    // out of presigned URLs.
    let r = presigned_with("PUT", "/bkt/drop", ("x-amz-user-agent", "aws-sdk"), b"ok");
    assert_eq!(r.status, 200, "{}", r.body);
    // x-amz-content-sha256 need not be listed: its value is the canonical request's payload
    // line, so the value the URL was signed with passes and any other breaks the signature.
    let sha256 = ("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
    let r = presigned_with("PUT", "/bkt/sha", sha256, b"ok");
    assert_eq!(r.status, 200, "{}", r.body);
    let streaming = ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
    let r = presigned_with("PUT", "/bkt/streamed", streaming, b"0\r\n\r\n");
    assert_eq!(
        (r.status, code(&r)),
        (403, "SignatureDoesNotMatch"),
        "{}",
        r.body
    );
}

/// An empty Authorization header presents no credentials: the request is anonymous, and one
/// that needs credentials is refused `403 AccessDenied` (not a 400 about a missing header).
#[test]
fn an_empty_authorization_header_is_anonymous() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_bucket(dir.path());
    let host = ("host".to_owned(), server.s3.to_string());
    for extra in [
        vec![("authorization".to_owned(), String::new())],
        vec![("authorization".to_owned(), "  ".to_owned())],
        vec![
            ("authorization".to_owned(), String::new()),
            (
                "x-amz-content-sha256".to_owned(),
                "UNSIGNED-PAYLOAD".to_owned(),
            ),
        ],
    ] {
        let mut headers = vec![host.clone()];
        headers.extend(extra.clone());
        for (method, path) in [("GET", "/bkt"), ("GET", "/bkt/k"), ("GET", "/")] {
            let r = send(server.s3, method, path, &headers, b"");
            assert_eq!(
                (r.status, code(&r)),
                (403, "AccessDenied"),
                "{method} {path} {extra:?}: {}",
                r.body
            );
        }
    }
}

/// `X-Amz-Date` is the request time when both it and `Date` are present: a stale, malformed
/// or empty `Date` beside a valid `X-Amz-Date` does not matter (SigV4 and SigV2).
#[test]
fn x_amz_date_wins_over_date() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_bucket(dir.path());
    let r = call(&server, &root(), "PUT", "/bkt/k", &[], b"data");
    assert_eq!(r.status, 200, "{}", r.body);
    for date in ["", "Tue, 27 Mar 2007 19:36:42 GMT", "not a date"] {
        // SigV4: the signer adds X-Amz-Date; Date is sent beside it, unsigned.
        let (path, mut headers) = root().sign(server.s3, "GET", "/bkt/k", &[], b"");
        headers.push(("date".to_owned(), date.to_owned()));
        let r = send(server.s3, "GET", &path, &headers, b"");
        assert_eq!(
            (r.status, r.body.as_str()),
            (200, "data"),
            "SigV4, Date {date:?}"
        );
        // SigV2 with x-amz-date: the Date line of the string to sign is empty.
        let amz_date = labstore::timefmt::format_http_date(SystemTime::now());
        let to_sign = format!("GET\n\n\n\nx-amz-date:{amz_date}\n/bkt/k");
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(ROOT_SECRET.as_bytes()).unwrap();
        mac.update(to_sign.as_bytes());
        let signature =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        let headers = vec![
            ("host".to_owned(), server.s3.to_string()),
            ("date".to_owned(), date.to_owned()),
            ("x-amz-date".to_owned(), amz_date),
            ("authorization".to_owned(), format!("AWS admin:{signature}")),
        ];
        let r = send(server.s3, "GET", "/bkt/k", &headers, b"");
        assert_eq!(
            (r.status, r.body.as_str()),
            (200, "data"),
            "SigV2, Date {date:?}"
        );
    }
}

/// A presigned URL lives 1 second to a week: `X-Amz-Expires` of 0, a negative number, more
/// than 604800 or no number is refused with S3's code and message.
#[test]
fn presigned_expiry_outside_a_week_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_bucket(dir.path());
    let presigner = Signer {
        presign: Some(Duration::from_secs(60)),
        ..root()
    };
    let (path, headers) = presigner.sign(server.s3, "GET", "/bkt/k", &[], b"");
    assert!(path.contains("X-Amz-Expires=60&"), "{path}");
    let week = "X-Amz-Expires must be less than a week (in seconds); that is, the given \
                X-Amz-Expires must be less than 604800 seconds";
    for (expires, message) in [
        ("0", "X-Amz-Expires must be non-negative"),
        ("-1", "X-Amz-Expires must be non-negative"),
        ("604801", week),
        ("99999999999999999999", "X-Amz-Expires should be a number"),
        ("1h", "X-Amz-Expires should be a number"),
    ] {
        let path = path.replace("X-Amz-Expires=60&", &format!("X-Amz-Expires={expires}&"));
        let r = send(server.s3, "GET", &path, &headers, b"");
        assert_eq!(
            (r.status, code(&r)),
            (400, "AuthorizationQueryParametersError"),
            "{expires}: {}",
            r.body
        );
        assert!(
            r.body.contains(&format!("<Message>{message}</Message>")),
            "{expires}: {}",
            r.body
        );
    }
}
