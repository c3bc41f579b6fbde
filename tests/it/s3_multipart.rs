//! Multipart uploads through `aws-sdk-s3` at default settings: a 20 MiB object in 5 MiB parts,
//! the errors S3 gives for bad part lists and gone uploads, UploadPartCopy with ranges,
//! composite checksums and conditional completion. (Listing uploads and parts:
//! `s3_multipart_lists.rs`.)

use crate::common;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use common::{error_code_status, pattern};
use md5::{Digest, Md5};
use sha2::Sha256;

const B: &str = "multipart";
const MIB: usize = 1024 * 1024;

async fn setup(dir: &std::path::Path) -> (common::TestServer, Client) {
    common::start_with_bucket(dir, B).await
}

async fn create(s3: &Client, key: &str) -> String {
    let out = s3.create_multipart_upload().bucket(B).key(key).send().await;
    out.unwrap().upload_id().unwrap().to_owned()
}

async fn upload(s3: &Client, key: &str, id: &str, number: i32, body: &[u8]) -> CompletedPart {
    let out = s3
        .upload_part()
        .bucket(B)
        .key(key)
        .upload_id(id)
        .part_number(number)
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("part {number}: {e:?}"));
    CompletedPart::builder()
        .part_number(number)
        .e_tag(out.e_tag().unwrap())
        .build()
}

fn parts(list: Vec<CompletedPart>) -> CompletedMultipartUpload {
    CompletedMultipartUpload::builder()
        .set_parts(Some(list))
        .build()
}

/// S3's multipart ETag: the MD5 of the parts' binary MD5s, then `-<parts>`.
fn multipart_etag(bodies: &[&[u8]]) -> String {
    let mut md5 = Md5::new();
    for body in bodies {
        md5.update(Md5::digest(body));
    }
    format!("\"{}-{}\"", hex::encode(md5.finalize()), bodies.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_20_mib_object_in_5_mib_parts() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let bodies: Vec<Vec<u8>> = (0..4).map(|i| pattern(5 * MIB, i)).collect();
    let id = create(&s3, "big/object.bin").await;
    let mut completed = Vec::new();
    for (number, body) in (1..).zip(&bodies) {
        completed.push(upload(&s3, "big/object.bin", &id, number, body).await);
    }
    let listed = s3
        .list_parts()
        .bucket(B)
        .key("big/object.bin")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    let sizes: Vec<i64> = listed.parts().iter().map(|p| p.size().unwrap()).collect();
    assert_eq!(sizes, [i64::try_from(5 * MIB).unwrap(); 4]);
    for (part, body) in listed.parts().iter().zip(&bodies) {
        let md5 = format!("\"{}\"", hex::encode(Md5::digest(body)));
        assert_eq!(part.e_tag(), Some(md5.as_str()));
    }

    let done = s3
        .complete_multipart_upload()
        .bucket(B)
        .key("big/object.bin")
        .upload_id(&id)
        .multipart_upload(parts(completed))
        .send()
        .await
        .unwrap();
    let slices: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    let etag = multipart_etag(&slices);
    assert_eq!(done.e_tag(), Some(etag.as_str()));
    let hex_part = etag.trim_matches('"').split_once('-').unwrap();
    assert_eq!((hex_part.0.len(), hex_part.1), (32, "4"));

    let got = s3
        .get_object()
        .bucket(B)
        .key("big/object.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(got.e_tag(), Some(etag.as_str()));
    assert_eq!(got.content_length(), Some(i64::try_from(20 * MIB).unwrap()));
    let got = got.body.collect().await.unwrap().into_bytes();
    let whole = bodies.concat();
    assert_eq!(
        Sha256::digest(&got),
        Sha256::digest(&whole),
        "the bytes, in order"
    );

    // The upload is gone once complete.
    let after = s3
        .list_parts()
        .bucket(B)
        .key("big/object.bin")
        .upload_id(&id)
        .send()
        .await;
    assert_eq!(error_code_status(after), ("NoSuchUpload".to_owned(), 404));
    let uploads = s3.list_multipart_uploads().bucket(B).send().await.unwrap();
    assert!(uploads.uploads().is_empty());
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_part_lists_are_refused_as_s3_refuses_them() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let id = create(&s3, "bad").await;
    let big = pattern(5 * MIB, 1);
    let p1 = upload(&s3, "bad", &id, 1, &big).await;
    let p2 = upload(&s3, "bad", &id, 2, b"too small for a part before the last").await;
    let p3 = upload(&s3, "bad", &id, 3, b"last").await;
    let wrong_etag = CompletedPart::builder()
        .part_number(3)
        .e_tag("\"0123456789abcdef0123456789abcdef\"")
        .build();
    let never = CompletedPart::builder()
        .part_number(7)
        .e_tag(p1.e_tag().unwrap())
        .build();
    let cases = [
        ("no parts", vec![], "MalformedXML"),
        ("wrong ETag", vec![wrong_etag], "InvalidPart"),
        ("never uploaded", vec![never], "InvalidPart"),
        (
            "descending",
            vec![p3.clone(), p1.clone()],
            "InvalidPartOrder",
        ),
        ("repeated", vec![p1.clone(), p1.clone()], "InvalidPartOrder"),
        (
            "small non-last",
            vec![p2.clone(), p3.clone()],
            "EntityTooSmall",
        ),
    ];
    for (what, list, code) in cases {
        let r = s3
            .complete_multipart_upload()
            .bucket(B)
            .key("bad")
            .upload_id(&id)
            .multipart_upload(parts(list))
            .send()
            .await;
        assert_eq!(error_code_status(r), (code.to_owned(), 400), "{what}");
    }
    // Each refusal left the upload as it was: a valid list still completes it.
    s3.complete_multipart_upload()
        .bucket(B)
        .key("bad")
        .upload_id(&id)
        .multipart_upload(parts(vec![p1, p3]))
        .send()
        .await
        .unwrap();
    let got = s3.get_object().bucket(B).key("bad").send().await.unwrap();
    let got = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(got.len(), big.len() + 4);
    assert!(got[..big.len()] == big[..] && &got[big.len()..] == b"last");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborted_and_completed_uploads_are_no_such_upload() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let aborted = create(&s3, "gone").await;
    let part = upload(&s3, "gone", &aborted, 1, b"bytes").await;
    s3.abort_multipart_upload()
        .bucket(B)
        .key("gone")
        .upload_id(&aborted)
        .send()
        .await
        .unwrap();
    let completed = create(&s3, "done").await;
    let done_part = upload(&s3, "done", &completed, 1, b"bytes").await;
    s3.complete_multipart_upload()
        .bucket(B)
        .key("done")
        .upload_id(&completed)
        .multipart_upload(parts(vec![done_part.clone()]))
        .send()
        .await
        .unwrap();

    for (key, id, part) in [("gone", &aborted, &part), ("done", &completed, &done_part)] {
        let results = [
            error_code_status(
                s3.upload_part()
                    .bucket(B)
                    .key(key)
                    .upload_id(id)
                    .part_number(2)
                    .body(ByteStream::from_static(b"late"))
                    .send()
                    .await,
            ),
            error_code_status(
                s3.complete_multipart_upload()
                    .bucket(B)
                    .key(key)
                    .upload_id(id)
                    .multipart_upload(parts(vec![part.clone()]))
                    .send()
                    .await,
            ),
            error_code_status(
                s3.list_parts()
                    .bucket(B)
                    .key(key)
                    .upload_id(id)
                    .send()
                    .await,
            ),
            error_code_status(
                s3.abort_multipart_upload()
                    .bucket(B)
                    .key(key)
                    .upload_id(id)
                    .send()
                    .await,
            ),
        ];
        for (operation, got) in ["UploadPart", "Complete", "ListParts", "Abort"]
            .iter()
            .zip(results)
        {
            assert_eq!(got, ("NoSuchUpload".to_owned(), 404), "{key}: {operation}");
        }
    }
    let (_, status) = error_code_status(s3.head_object().bucket(B).key("gone").send().await);
    assert_eq!(status, 404, "an aborted upload creates nothing");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_part_copy_takes_ranges_of_a_source() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let source = pattern(6 * MIB + 100, 9);
    s3.put_object()
        .bucket(B)
        .key("source object")
        .body(ByteStream::from(source.clone()))
        .send()
        .await
        .unwrap();
    let id = create(&s3, "assembled").await;
    let copy_part = |number: i32, range: Option<&str>| {
        s3.upload_part_copy()
            .bucket(B)
            .key("assembled")
            .upload_id(&id)
            .part_number(number)
            .copy_source(format!("{B}/source%20object"))
            .set_copy_source_range(range.map(str::to_owned))
            .send()
    };
    let whole = copy_part(1, None).await.unwrap();
    let middle = copy_part(2, Some(&format!("bytes={MIB}-{}", 6 * MIB - 1)));
    let middle = middle.await.unwrap();
    let last = copy_part(3, Some("bytes=10-19")).await.unwrap();
    let beyond = copy_part(4, Some(&format!("bytes=0-{}", source.len()))).await;
    assert_eq!(error_code_status(beyond), ("InvalidRange".to_owned(), 416));

    let ranges = [0..source.len(), MIB..6 * MIB, 10..20];
    let results = [&whole, &middle, &last];
    let mut completed = Vec::new();
    for (number, (range, result)) in (1..).zip(ranges.iter().zip(results)) {
        let etag = result.copy_part_result().unwrap().e_tag().unwrap();
        let md5 = format!("\"{}\"", hex::encode(Md5::digest(&source[range.clone()])));
        assert_eq!(etag, md5, "part {number}");
        completed.push(
            CompletedPart::builder()
                .part_number(number)
                .e_tag(etag)
                .build(),
        );
    }
    s3.complete_multipart_upload()
        .bucket(B)
        .key("assembled")
        .upload_id(&id)
        .multipart_upload(parts(completed))
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object()
        .bucket(B)
        .key("assembled")
        .send()
        .await
        .unwrap();
    let got = got.body.collect().await.unwrap().into_bytes();
    let want: Vec<u8> = ranges
        .iter()
        .flat_map(|r| source[r.clone()].to_vec())
        .collect();
    assert!(
        got[..] == want[..],
        "{} bytes, want {}",
        got.len(),
        want.len()
    );
    server.stop();
}

/// The raw digest of `algorithm` over `data`, as S3 encodes checksums (CRCs big-endian).
fn digest(algorithm: &ChecksumAlgorithm, data: &[u8]) -> Vec<u8> {
    match algorithm {
        ChecksumAlgorithm::Crc32 => crc32fast::hash(data).to_be_bytes().to_vec(),
        ChecksumAlgorithm::Crc32C => crc32c::crc32c(data).to_be_bytes().to_vec(),
        ChecksumAlgorithm::Sha1 => sha1::Sha1::digest(data).to_vec(),
        ChecksumAlgorithm::Sha256 => Sha256::digest(data).to_vec(),
        other => panic!("not in this suite: {other:?}"),
    }
}

/// The field for `algorithm` among a response's (CRC32, CRC32C, SHA1, SHA256) checksums.
fn field<'a>(algorithm: &ChecksumAlgorithm, fields: [Option<&'a str>; 4]) -> Option<&'a str> {
    let at = [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32C,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ]
    .iter()
    .position(|a| a == algorithm)
    .unwrap();
    fields[at]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completing_with_part_checksums_gives_the_composite_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let bodies = [pattern(5 * MIB, 3), pattern(1000, 4)];
    use ChecksumAlgorithm::{Crc32, Crc32C, Sha1, Sha256 as Sha2};
    for algorithm in [Crc32, Crc32C, Sha1, Sha2] {
        let key = format!("composite-{}", algorithm.as_str());
        let created = s3
            .create_multipart_upload()
            .bucket(B)
            .key(&key)
            .checksum_algorithm(algorithm.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(created.checksum_algorithm(), Some(&algorithm));
        let id = created.upload_id().unwrap();
        let (mut completed, mut raw) = (Vec::new(), Vec::new());
        for (number, body) in (1..).zip(&bodies) {
            let out = s3
                .upload_part()
                .bucket(B)
                .key(&key)
                .upload_id(id)
                .part_number(number)
                .checksum_algorithm(algorithm.clone())
                .body(ByteStream::from(body.clone()))
                .send()
                .await
                .unwrap();
            let part_digest = digest(&algorithm, body);
            let value = BASE64.encode(&part_digest);
            let returned = [
                out.checksum_crc32(),
                out.checksum_crc32_c(),
                out.checksum_sha1(),
                out.checksum_sha256(),
            ];
            let returned = field(&algorithm, returned);
            assert_eq!(returned, Some(value.as_str()), "{key} part {number}");
            raw.extend(part_digest);
            let only = |a: ChecksumAlgorithm| (a == algorithm).then(|| value.clone());
            let part = CompletedPart::builder()
                .part_number(number)
                .e_tag(out.e_tag().unwrap())
                .set_checksum_crc32(only(Crc32))
                .set_checksum_crc32_c(only(Crc32C))
                .set_checksum_sha1(only(Sha1))
                .set_checksum_sha256(only(Sha2));
            completed.push(part.build());
        }
        let done = s3
            .complete_multipart_upload()
            .bucket(B)
            .key(&key)
            .upload_id(id)
            .multipart_upload(parts(completed))
            .send()
            .await
            .unwrap();
        let composite = format!("{}-2", BASE64.encode(digest(&algorithm, &raw)));
        let head = s3
            .head_object()
            .bucket(B)
            .key(&key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .unwrap();
        let completed = [
            done.checksum_crc32(),
            done.checksum_crc32_c(),
            done.checksum_sha1(),
            done.checksum_sha256(),
        ];
        let headed = [
            head.checksum_crc32(),
            head.checksum_crc32_c(),
            head.checksum_sha1(),
            head.checksum_sha256(),
        ];
        let want = Some(composite.as_str());
        assert_eq!(field(&algorithm, completed), want, "{key}: Complete");
        assert_eq!(field(&algorithm, headed), want, "{key}: HEAD");
        assert_eq!(done.checksum_type().map(|t| t.as_str()), Some("COMPOSITE"));
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_honours_if_none_match_and_if_match() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let existing = s3
        .put_object()
        .bucket(B)
        .key("target")
        .body(ByteStream::from_static(b"already here"))
        .send()
        .await
        .unwrap();
    let id = create(&s3, "target").await;
    let part = upload(&s3, "target", &id, 1, b"new bytes").await;
    let complete = |none: Option<&str>, matching: Option<&str>| {
        s3.complete_multipart_upload()
            .bucket(B)
            .key("target")
            .upload_id(&id)
            .multipart_upload(parts(vec![part.clone()]))
            .set_if_none_match(none.map(str::to_owned))
            .set_if_match(matching.map(str::to_owned))
            .send()
    };
    let refused = complete(Some("*"), None).await;
    assert_eq!(
        error_code_status(refused),
        ("PreconditionFailed".to_owned(), 412)
    );
    let stale = complete(None, Some("\"0123456789abcdef0123456789abcdef\"")).await;
    assert_eq!(
        error_code_status(stale),
        ("PreconditionFailed".to_owned(), 412)
    );
    // The refusals kept both the object and the upload.
    let got = s3
        .get_object()
        .bucket(B)
        .key("target")
        .send()
        .await
        .unwrap();
    assert_eq!(
        &got.body.collect().await.unwrap().into_bytes()[..],
        b"already here"
    );
    s3.list_parts()
        .bucket(B)
        .key("target")
        .upload_id(&id)
        .send()
        .await
        .unwrap();

    complete(None, existing.e_tag()).await.unwrap();
    let got = s3
        .get_object()
        .bucket(B)
        .key("target")
        .send()
        .await
        .unwrap();
    assert_eq!(
        &got.body.collect().await.unwrap().into_bytes()[..],
        b"new bytes"
    );
    server.stop();
}

/// A part declared over 5 GiB, by its Content-Length or (aws-chunked) by
/// `x-amz-decoded-content-length`, is refused from its headers: the client hears so at once,
/// not after sending 5 GiB. The same for a CompleteMultipartUpload document declared too big.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_declared_over_their_limit_are_refused_before_their_body() {
    use common::signing::{send_head, Signer};
    use std::time::Duration;

    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let id = create(&s3, "big").await;
    let six_gib = (6u64 << 30).to_string();
    let six_gib = six_gib.as_str();
    let part = format!("/{B}/big?partNumber=1&uploadId={id}");
    let complete = format!("/{B}/big?uploadId={id}");
    fn chunked<'a>(decoded: &'a str, wire: &'a str) -> Vec<(&'a str, &'a str)> {
        vec![
            ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", decoded),
            ("content-length", wire),
        ]
    }
    let cases = [
        (
            "UploadPart, Content-Length",
            "PUT",
            &part,
            vec![
                ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
                ("content-length", six_gib),
            ],
            "EntityTooLarge",
        ),
        (
            "UploadPart, x-amz-decoded-content-length",
            "PUT",
            &part,
            chunked(six_gib, "1000"),
            "EntityTooLarge",
        ),
        (
            "UploadPart, aws-chunked Content-Length",
            "PUT",
            &part,
            chunked("1000", six_gib),
            "EntityTooLarge",
        ),
        (
            "CompleteMultipartUpload, Content-Length",
            "POST",
            &complete,
            vec![
                ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
                ("content-length", "104857600"),
            ],
            "MalformedXML",
        ),
    ];
    for (what, method, path, headers, expected) in cases {
        let signer = Signer {
            payload: Some(headers[0].1),
            ..Signer::s3("admin", common::ROOT_SECRET)
        };
        let (path, signed) = signer.sign(server.s3, method, path, &headers, b"");
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
    let listed = s3
        .list_parts()
        .bucket(B)
        .key("big")
        .upload_id(&id)
        .send()
        .await;
    assert!(listed.unwrap().parts().is_empty(), "no part was stored");
    server.stop();
}
