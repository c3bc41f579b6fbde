//! Checksum types through `aws-sdk-s3` at default settings (which sends a CRC32 with every
//! upload unless told otherwise): `FULL_OBJECT` multipart uploads for CRC32, CRC32C and
//! CRC64NVME, whose checksum is the CRC of the whole object combined from the parts'; S3's
//! defaults and refusals of algorithm/type combinations; part checksums and the object
//! checksum a CompleteMultipartUpload asserts, checked; `x-amz-checksum-type` on PutObject,
//! CopyObject, GetObject and HeadObject; which checksum a `partNumber` or ranged read reports.
//! (Composite checksums of each algorithm: `s3_multipart.rs`; single-request checksums and
//! trailers: `s3_integrity.rs`.)

use crate::common;

use aws_sdk_s3::config::RequestChecksumCalculation;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, ChecksumType, CompletedMultipartUpload, CompletedPart,
};
use aws_sdk_s3::Client;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use common::pattern;

const B: &str = "checksums";
const MIB: usize = 1024 * 1024;

async fn setup(dir: &std::path::Path) -> (common::TestServer, Client) {
    common::start_with_bucket(dir, B).await
}

/// The CRC of `data`, base64 of its big-endian bytes as S3 sends it, computed here by the CRC
/// crates directly (not through the server's code).
fn crc(algorithm: &ChecksumAlgorithm, data: &[u8]) -> String {
    let raw = match algorithm {
        ChecksumAlgorithm::Crc32 => crc32fast::hash(data).to_be_bytes().to_vec(),
        ChecksumAlgorithm::Crc32C => crc32c::crc32c(data).to_be_bytes().to_vec(),
        ChecksumAlgorithm::Crc64Nvme => {
            let mut digest = crc64fast_nvme::Digest::new();
            digest.write(data);
            digest.sum64().to_be_bytes().to_vec()
        }
        other => panic!("not a CRC: {other:?}"),
    };
    BASE64.encode(raw)
}

/// The field of `algorithm` among a response's CRC fields (CRC32, CRC32C, CRC64NVME).
fn crc_field<'a>(algorithm: &ChecksumAlgorithm, fields: [Option<&'a str>; 3]) -> Option<&'a str> {
    match algorithm {
        ChecksumAlgorithm::Crc32 => fields[0],
        ChecksumAlgorithm::Crc32C => fields[1],
        ChecksumAlgorithm::Crc64Nvme => fields[2],
        other => panic!("not a CRC: {other:?}"),
    }
}

/// A part as CompleteMultipartUpload lists it, with the checksum of `algorithm` when given.
fn listed(
    number: i32,
    etag: &str,
    checksum: Option<(&ChecksumAlgorithm, String)>,
) -> CompletedPart {
    let (algorithm, value) = checksum.map_or((None, None), |(a, v)| (Some(a.clone()), Some(v)));
    let of = |a: ChecksumAlgorithm| value.clone().filter(|_| algorithm.as_ref() == Some(&a));
    CompletedPart::builder()
        .part_number(number)
        .e_tag(etag)
        .set_checksum_crc32(of(ChecksumAlgorithm::Crc32))
        .set_checksum_crc32_c(of(ChecksumAlgorithm::Crc32C))
        .set_checksum_crc64_nvme(of(ChecksumAlgorithm::Crc64Nvme))
        .set_checksum_sha1(of(ChecksumAlgorithm::Sha1))
        .set_checksum_sha256(of(ChecksumAlgorithm::Sha256))
        .build()
}

fn all(parts: Vec<CompletedPart>) -> CompletedMultipartUpload {
    CompletedMultipartUpload::builder()
        .set_parts(Some(parts))
        .build()
}

/// The code, status and message of a refused request.
fn refusal<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>>,
) -> (String, u16, String) {
    match result {
        Ok(v) => panic!("expected a refusal, got {v:?}"),
        Err(aws_sdk_s3::error::SdkError::ServiceError(e)) => (
            e.err().code().unwrap_or_default().to_owned(),
            e.raw().status().as_u16(),
            e.err().message().unwrap_or_default().to_owned(),
        ),
        Err(e) => panic!("not a service error: {e:?}"),
    }
}

/// Uploads `body` as part `number` with a checksum of `algorithm`; returns its ETag and the
/// checksum the server answered.
async fn upload_part(
    s3: &Client,
    key: &str,
    id: &str,
    number: i32,
    algorithm: &ChecksumAlgorithm,
    body: &[u8],
) -> (String, Option<String>) {
    let out = s3
        .upload_part()
        .bucket(B)
        .key(key)
        .upload_id(id)
        .part_number(number)
        .checksum_algorithm(algorithm.clone())
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{key} part {number}: {e:?}"));
    let checksum = [
        out.checksum_crc32(),
        out.checksum_crc32_c(),
        out.checksum_crc64_nvme(),
        out.checksum_sha1(),
        out.checksum_sha256(),
    ]
    .into_iter()
    .flatten()
    .next()
    .map(str::to_owned);
    (out.e_tag().unwrap().to_owned(), checksum)
}

async fn create(
    s3: &Client,
    key: &str,
    algorithm: &ChecksumAlgorithm,
    kind: Option<ChecksumType>,
) -> String {
    let created = s3
        .create_multipart_upload()
        .bucket(B)
        .key(key)
        .checksum_algorithm(algorithm.clone())
        .set_checksum_type(kind)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {key}: {e:?}"));
    created.upload_id().unwrap().to_owned()
}

/// A FULL_OBJECT multipart upload of each CRC: its checksum is the CRC of the whole object,
/// computed here over the concatenated bytes, whether or not the completion asserts it; it is
/// returned with its type by CompleteMultipartUpload, HeadObject and GetObject (whose body the
/// SDK then checks against it), and ListParts and ListMultipartUploads show the type.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_object_multipart_checksums_are_the_crc_of_the_whole_object() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let bodies = [
        pattern(5 * MIB, 1),
        pattern(5 * MIB + 17, 2),
        pattern(1000, 3),
    ];
    let whole: Vec<u8> = bodies.concat();
    let algorithms = [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32C,
        ChecksumAlgorithm::Crc64Nvme,
    ];
    for (i, algorithm) in algorithms.iter().enumerate() {
        let assert_it = i % 2 == 0;
        let key = format!("full-{}", algorithm.as_str());
        let created = s3
            .create_multipart_upload()
            .bucket(B)
            .key(&key)
            .checksum_algorithm(algorithm.clone())
            .checksum_type(ChecksumType::FullObject)
            .send()
            .await
            .unwrap();
        assert_eq!(created.checksum_type(), Some(&ChecksumType::FullObject));
        assert_eq!(created.checksum_algorithm(), Some(algorithm));
        let id = created.upload_id().unwrap();
        let mut parts = Vec::new();
        for (number, body) in (1..).zip(&bodies) {
            let (etag, checksum) = upload_part(&s3, &key, id, number, algorithm, body).await;
            assert_eq!(checksum, Some(crc(algorithm, body)), "{key} part {number}");
            parts.push(listed(number, &etag, checksum.map(|c| (algorithm, c))));
        }
        let listing = s3
            .list_parts()
            .bucket(B)
            .key(&key)
            .upload_id(id)
            .send()
            .await
            .unwrap();
        assert_eq!(listing.checksum_type(), Some(&ChecksumType::FullObject));
        let uploads = s3.list_multipart_uploads().bucket(B).send().await.unwrap();
        let mine = uploads
            .uploads()
            .iter()
            .find(|u| u.upload_id() == Some(id))
            .unwrap();
        assert_eq!(mine.checksum_type(), Some(&ChecksumType::FullObject));
        assert_eq!(mine.checksum_algorithm(), Some(algorithm));

        let want = crc(algorithm, &whole);
        let of = |a: &ChecksumAlgorithm| (a == algorithm).then(|| want.clone());
        let mut complete = s3
            .complete_multipart_upload()
            .bucket(B)
            .key(&key)
            .upload_id(id)
            .multipart_upload(all(parts));
        if assert_it {
            // The whole object's CRC, as a client that computed it asserts it.
            complete = complete
                .checksum_type(ChecksumType::FullObject)
                .set_checksum_crc32(of(&ChecksumAlgorithm::Crc32))
                .set_checksum_crc32_c(of(&ChecksumAlgorithm::Crc32C))
                .set_checksum_crc64_nvme(of(&ChecksumAlgorithm::Crc64Nvme))
                .mpu_object_size(i64::try_from(whole.len()).unwrap());
        }
        let done = complete.send().await.unwrap();
        let got = [
            done.checksum_crc32(),
            done.checksum_crc32_c(),
            done.checksum_crc64_nvme(),
        ];
        assert_eq!(crc_field(algorithm, got), Some(want.as_str()), "{key}");
        assert_eq!(done.checksum_type(), Some(&ChecksumType::FullObject));

        let head = s3
            .head_object()
            .bucket(B)
            .key(&key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .unwrap();
        let got = [
            head.checksum_crc32(),
            head.checksum_crc32_c(),
            head.checksum_crc64_nvme(),
        ];
        assert_eq!(crc_field(algorithm, got), Some(want.as_str()), "{key} HEAD");
        assert_eq!(head.checksum_type(), Some(&ChecksumType::FullObject));
        let get = s3
            .get_object()
            .bucket(B)
            .key(&key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .unwrap();
        assert_eq!(get.checksum_type(), Some(&ChecksumType::FullObject));
        let got = [
            get.checksum_crc32(),
            get.checksum_crc32_c(),
            get.checksum_crc64_nvme(),
        ];
        assert_eq!(crc_field(algorithm, got), Some(want.as_str()), "{key} GET");
        let body = get.body.collect().await.unwrap().into_bytes();
        assert!(body[..] == whole[..], "{key}: the bytes");

        // A part of a full-object checksum has no checksum of its own to report.
        let part = s3
            .head_object()
            .bucket(B)
            .key(&key)
            .part_number(2)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .unwrap();
        assert_eq!(part.checksum_type(), None, "{key} partNumber=2");
        assert_eq!(part.checksum_crc32().or(part.checksum_crc64_nvme()), None);
    }
    server.stop();
}

/// CreateMultipartUpload's checksum type when only an algorithm is named is S3's default:
/// FULL_OBJECT for CRC64NVME, COMPOSITE for the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_algorithm_alone_takes_s3s_default_type() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let cases = [
        (ChecksumAlgorithm::Crc32, ChecksumType::Composite),
        (ChecksumAlgorithm::Crc32C, ChecksumType::Composite),
        (ChecksumAlgorithm::Sha1, ChecksumType::Composite),
        (ChecksumAlgorithm::Sha256, ChecksumType::Composite),
        (ChecksumAlgorithm::Crc64Nvme, ChecksumType::FullObject),
    ];
    for (algorithm, kind) in cases {
        let created = s3
            .create_multipart_upload()
            .bucket(B)
            .key("default")
            .checksum_algorithm(algorithm.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(created.checksum_type(), Some(&kind), "{algorithm:?}");
        let listing = s3
            .list_parts()
            .bucket(B)
            .key("default")
            .upload_id(created.upload_id().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(listing.checksum_type(), Some(&kind), "{algorithm:?}");
    }
    // A CRC64NVME upload is full-object: completed without part checksums in the body.
    let algorithm = ChecksumAlgorithm::Crc64Nvme;
    let id = create(&s3, "nvme", &algorithm, None).await;
    let body = pattern(3000, 9);
    let (etag, _) = upload_part(&s3, "nvme", &id, 1, &algorithm, &body).await;
    let done = s3
        .complete_multipart_upload()
        .bucket(B)
        .key("nvme")
        .upload_id(&id)
        .multipart_upload(all(vec![listed(1, &etag, None)]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        done.checksum_crc64_nvme(),
        Some(crc(&algorithm, &body).as_str())
    );
    assert_eq!(done.checksum_type(), Some(&ChecksumType::FullObject));
    // Without an algorithm there is no type.
    let plain = s3
        .create_multipart_upload()
        .bucket(B)
        .key("plain")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.checksum_type(), None);
    assert_eq!(plain.checksum_algorithm(), None);
    server.stop();
}

/// The combinations S3 refuses, with its words; nothing is created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_algorithm_and_type_combinations_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let cases = [
        (
            Some(ChecksumAlgorithm::Sha1),
            Some(ChecksumType::FullObject),
            "The FULL_OBJECT checksum type cannot be used with the sha1 checksum algorithm.",
        ),
        (
            Some(ChecksumAlgorithm::Sha256),
            Some(ChecksumType::FullObject),
            "The FULL_OBJECT checksum type cannot be used with the sha256 checksum algorithm.",
        ),
        (
            Some(ChecksumAlgorithm::Crc64Nvme),
            Some(ChecksumType::Composite),
            "The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.",
        ),
        (
            None,
            Some(ChecksumType::FullObject),
            "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm \
             header.",
        ),
        (
            Some(ChecksumAlgorithm::Crc32),
            Some(ChecksumType::from("PARTIAL")),
            "Value for x-amz-checksum-type header is invalid.",
        ),
        (
            Some(ChecksumAlgorithm::from("MD4")),
            None,
            "Checksum algorithm provided is unsupported. Please try again with any of the valid \
             types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
        ),
    ];
    for (algorithm, kind, message) in cases {
        let refused = s3
            .create_multipart_upload()
            .bucket(B)
            .key("refused")
            .set_checksum_algorithm(algorithm.clone())
            .set_checksum_type(kind.clone())
            .send()
            .await;
        assert_eq!(
            refusal(refused),
            ("InvalidRequest".to_owned(), 400, message.to_owned()),
            "{algorithm:?} {kind:?}"
        );
    }
    let uploads = s3.list_multipart_uploads().bucket(B).send().await.unwrap();
    assert!(uploads.uploads().is_empty(), "nothing was created");
    server.stop();
}

/// A part's checksum in the CompleteMultipartUpload body is compared with the stored part's,
/// for both types: a mismatch is InvalidPart, and the upload stays. A checksum of another
/// algorithm is BadDigest; a composite upload needs each part's; an upload without an
/// algorithm takes none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part_checksums_in_the_completion_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let body = pattern(2000, 5);
    let wrong = crc(&ChecksumAlgorithm::Crc32, b"something else");
    for kind in [ChecksumType::Composite, ChecksumType::FullObject] {
        let algorithm = ChecksumAlgorithm::Crc32;
        let key = format!("parts-{}", kind.as_str());
        let id = create(&s3, &key, &algorithm, Some(kind.clone())).await;
        let (etag, checksum) = upload_part(&s3, &key, &id, 1, &algorithm, &body).await;
        let complete = |part: CompletedPart| {
            s3.complete_multipart_upload()
                .bucket(B)
                .key(&key)
                .upload_id(&id)
                .multipart_upload(all(vec![part]))
                .send()
        };
        let (code, status, message) =
            refusal(complete(listed(1, &etag, Some((&algorithm, wrong.clone())))).await);
        assert_eq!((code.as_str(), status), ("InvalidPart", 400), "{kind:?}");
        assert!(message.starts_with("One or more of the specified parts could not be found."));

        let sha = BASE64.encode(<sha2::Sha256 as sha2::Digest>::digest(&body));
        let other = listed(1, &etag, Some((&ChecksumAlgorithm::Sha256, sha)));
        assert_eq!(
            refusal(complete(other).await),
            (
                "BadDigest".to_owned(),
                400,
                "The sha256 you specified for part 1 did not match what we received.".to_owned()
            ),
            "{kind:?}"
        );
        let without = complete(listed(1, &etag, None)).await;
        if kind == ChecksumType::Composite {
            assert_eq!(
                refusal(without),
                (
                    "InvalidRequest".to_owned(),
                    400,
                    "The upload was created using a crc32 checksum. The complete request must \
                     include the checksum for each part. It was missing for part 1 in the \
                     request."
                        .to_owned()
                )
            );
            // The refusals left the upload as it was.
            complete(listed(1, &etag, checksum.map(|c| (&algorithm, c))))
                .await
                .unwrap();
        } else {
            without.unwrap();
        }
    }
    // An upload without an algorithm: a listed checksum cannot match any, as in S3.
    let id = s3
        .create_multipart_upload()
        .bucket(B)
        .key("plain")
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_owned();
    let (etag, checksum) =
        upload_part(&s3, "plain", &id, 1, &ChecksumAlgorithm::Crc32, &body).await;
    let refused = s3
        .complete_multipart_upload()
        .bucket(B)
        .key("plain")
        .upload_id(&id)
        .multipart_upload(all(vec![listed(
            1,
            &etag,
            checksum.map(|c| (&ChecksumAlgorithm::Crc32, c)),
        )]))
        .send()
        .await;
    assert_eq!(refusal(refused).0, "InvalidPart");
    server.stop();
}

/// The object checksum a completion asserts is compared with the one computed: a wrong value,
/// a full-object value without `x-amz-checksum-type`, another algorithm's value, another type,
/// a wrong `x-amz-mp-object-size` are each refused as S3 refuses them, and the upload stays
/// to be completed rightly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mismatching_full_object_checksum_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let algorithm = ChecksumAlgorithm::Crc32C;
    let bodies = [pattern(5 * MIB, 11), pattern(4321, 12)];
    let whole = bodies.concat();
    let right = crc(&algorithm, &whole);
    let id = create(&s3, "k", &algorithm, Some(ChecksumType::FullObject)).await;
    let mut parts = Vec::new();
    for (number, body) in (1..).zip(&bodies) {
        let (etag, _) = upload_part(&s3, "k", &id, number, &algorithm, body).await;
        parts.push(listed(number, &etag, None));
    }
    let complete = || {
        s3.complete_multipart_upload()
            .bucket(B)
            .key("k")
            .upload_id(&id)
            .multipart_upload(all(parts.clone()))
    };
    let mismatch = "The crc32c you specified did not match the calculated checksum.";
    let bad_digest = ("BadDigest".to_owned(), 400, mismatch.to_owned());
    let first_part_only = crc(&algorithm, &bodies[0]);
    let refused = complete()
        .checksum_type(ChecksumType::FullObject)
        .checksum_crc32_c(first_part_only)
        .send()
        .await;
    assert_eq!(refusal(refused), bad_digest, "a wrong value");
    let refused = complete().checksum_crc32_c(right.clone()).send().await;
    assert_eq!(refusal(refused), bad_digest, "no x-amz-checksum-type");
    let refused = complete()
        .checksum_type(ChecksumType::FullObject)
        .checksum_crc32(crc(&ChecksumAlgorithm::Crc32, &whole))
        .send()
        .await;
    assert_eq!(refusal(refused), bad_digest, "another algorithm");
    let refused = complete()
        .checksum_type(ChecksumType::Composite)
        .send()
        .await;
    assert_eq!(
        refusal(refused),
        (
            "InvalidRequest".to_owned(),
            400,
            "The upload was created using the FULL_OBJECT checksum mode. The complete request \
             must use the same checksum mode."
                .to_owned()
        )
    );
    let size = i64::try_from(whole.len()).unwrap();
    let refused = complete().mpu_object_size(size + 1).send().await;
    assert_eq!(
        refusal(refused),
        (
            "InvalidRequest".to_owned(),
            400,
            format!(
                "The provided 'x-amz-mp-object-size' header value {} does not match what was \
                 computed: {size}",
                size + 1
            )
        )
    );
    let missing = s3.head_object().bucket(B).key("k").send().await;
    assert!(missing.is_err(), "no refused completion created the object");
    let done = complete()
        .checksum_type(ChecksumType::FullObject)
        .checksum_crc32_c(right.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(done.checksum_crc32_c(), Some(right.as_str()));
    server.stop();
}

/// UploadPart refuses a checksum of another algorithm than its upload's, before storing
/// anything; a composite upload's part must come with its checksum, a full-object upload's
/// part CRC is computed when the client sends none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_must_carry_their_uploads_algorithm() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let body = pattern(1000, 21);
    let id = create(&s3, "sha", &ChecksumAlgorithm::Sha256, None).await;
    let refused = s3
        .upload_part()
        .bucket(B)
        .key("sha")
        .upload_id(&id)
        .part_number(1)
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .body(ByteStream::from(body.clone()))
        .send()
        .await;
    assert_eq!(
        refusal(refused),
        (
            "InvalidRequest".to_owned(),
            400,
            "Checksum Type mismatch occurred, expected checksum Type: sha256, actual checksum \
             Type: crc32"
                .to_owned()
        )
    );
    // A client that sends checksums only where required sends none with a part.
    let bare = Client::from_conf(
        s3.config()
            .to_builder()
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .build(),
    );
    let refused = bare
        .upload_part()
        .bucket(B)
        .key("sha")
        .upload_id(&id)
        .part_number(1)
        .body(ByteStream::from(body.clone()))
        .send()
        .await;
    assert_eq!(
        refusal(refused),
        (
            "InvalidRequest".to_owned(),
            400,
            "Checksum Type mismatch occurred, expected checksum Type: sha256, actual checksum \
             Type: null"
                .to_owned()
        )
    );
    let parts = s3
        .list_parts()
        .bucket(B)
        .key("sha")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    assert!(parts.parts().is_empty(), "nothing was stored");

    let algorithm = ChecksumAlgorithm::Crc32C;
    let id = create(&s3, "full", &algorithm, Some(ChecksumType::FullObject)).await;
    let out = bare
        .upload_part()
        .bucket(B)
        .key("full")
        .upload_id(&id)
        .part_number(1)
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.checksum_crc32_c(),
        Some(crc(&algorithm, &body).as_str())
    );
    server.stop();
}

/// PutObject and CopyObject answer the checksum type (always FULL_OBJECT); GetObject and
/// HeadObject give it with checksum mode, and neither without.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_request_objects_have_full_object_checksums() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let put = s3
        .put_object()
        .bucket(B)
        .key("one")
        .checksum_algorithm(ChecksumAlgorithm::Crc32C)
        .body(ByteStream::from_static(b"hello world"))
        .send()
        .await
        .unwrap();
    assert_eq!(put.checksum_crc32_c(), Some("yZRlqg=="));
    assert_eq!(put.checksum_type(), Some(&ChecksumType::FullObject));
    let head = s3
        .head_object()
        .bucket(B)
        .key("one")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.checksum_type(), Some(&ChecksumType::FullObject));
    let get = s3
        .get_object()
        .bucket(B)
        .key("one")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(get.checksum_type(), Some(&ChecksumType::FullObject));
    assert_eq!(get.checksum_crc32_c(), Some("yZRlqg=="));
    let plain = s3.head_object().bucket(B).key("one").send().await.unwrap();
    assert_eq!(
        (plain.checksum_type(), plain.checksum_crc32_c()),
        (None, None)
    );
    s3.put_object()
        .bucket(B)
        .key("two")
        .body(ByteStream::from_static(b"no checksum"))
        .customize()
        .config_override(
            aws_sdk_s3::config::Config::builder()
                .request_checksum_calculation(RequestChecksumCalculation::WhenRequired),
        )
        .send()
        .await
        .unwrap();
    // Listings show each object's checksum algorithm and type, when it has a checksum.
    let listed = s3.list_objects_v2().bucket(B).send().await.unwrap();
    let shown: Vec<_> = listed
        .contents()
        .iter()
        .map(|o| (o.key().unwrap(), o.checksum_algorithm(), o.checksum_type()))
        .collect();
    assert_eq!(
        shown,
        [
            (
                "one",
                &[ChecksumAlgorithm::Crc32C][..],
                Some(&ChecksumType::FullObject)
            ),
            ("two", &[][..], None),
        ]
    );

    let copy = s3
        .copy_object()
        .bucket(B)
        .key("copy")
        .copy_source(format!("{B}/one"))
        .send()
        .await
        .unwrap();
    let result = copy.copy_object_result().unwrap();
    assert_eq!(result.checksum_crc32_c(), Some("yZRlqg=="));
    assert_eq!(result.checksum_type(), Some(&ChecksumType::FullObject));
    let refused = s3
        .copy_object()
        .bucket(B)
        .key("copy2")
        .copy_source(format!("{B}/one"))
        .checksum_algorithm(ChecksumAlgorithm::from("MD4"))
        .send()
        .await;
    assert_eq!(refusal(refused).0, "InvalidRequest");
    server.stop();
}

/// Reads of part of a composite object: a `partNumber` read reports the part's own checksum
/// (the SDK checks the part's bytes against it), type COMPOSITE; a range that is not the whole
/// object reports none; one that is, the object's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part_and_range_reads_report_what_their_bytes_match() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let algorithm = ChecksumAlgorithm::Crc32;
    let bodies = [pattern(5 * MIB, 31), pattern(777, 32)];
    let id = create(&s3, "composite", &algorithm, None).await;
    let mut parts = Vec::new();
    for (number, body) in (1..).zip(&bodies) {
        let (etag, checksum) = upload_part(&s3, "composite", &id, number, &algorithm, body).await;
        parts.push(listed(number, &etag, checksum.map(|c| (&algorithm, c))));
    }
    let done = s3
        .complete_multipart_upload()
        .bucket(B)
        .key("composite")
        .upload_id(&id)
        .multipart_upload(all(parts))
        .send()
        .await
        .unwrap();
    let composite = done.checksum_crc32().unwrap().to_owned();
    assert!(composite.ends_with("-2"), "{composite}");
    for (number, body) in (1..).zip(&bodies) {
        let get = s3
            .get_object()
            .bucket(B)
            .key("composite")
            .part_number(number)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .unwrap();
        assert_eq!(get.checksum_crc32(), Some(crc(&algorithm, body).as_str()));
        assert_eq!(get.checksum_type(), Some(&ChecksumType::Composite));
        let got = get.body.collect().await.unwrap().into_bytes();
        assert!(got[..] == body[..], "part {number}");
    }
    let ranged = s3
        .get_object()
        .bucket(B)
        .key("composite")
        .range("bytes=10-99")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (ranged.checksum_crc32(), ranged.checksum_type()),
        (None, None)
    );
    let everything = s3
        .head_object()
        .bucket(B)
        .key("composite")
        .range("bytes=0-")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(everything.checksum_crc32(), Some(composite.as_str()));
    assert_eq!(everything.checksum_type(), Some(&ChecksumType::Composite));
    server.stop();
}

/// The CompleteMultipartUpload body, the part list, is checked against a `Content-MD5` it
/// carries (no SDK sends a wrong one, so the request is signed by hand): a mismatch is
/// BadDigest, a malformed value InvalidDigest, and the upload stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_completion_body_is_checked_against_its_content_md5() {
    use common::signing::{s3_call, Signer};
    use md5::{Digest, Md5};
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let id = s3
        .create_multipart_upload()
        .bucket(B)
        .key("md5")
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_owned();
    let (etag, _) = upload_part(&s3, "md5", &id, 1, &ChecksumAlgorithm::Crc32, b"part").await;
    let body = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part>\
         </CompleteMultipartUpload>"
    );
    let signer = Signer::s3("admin", common::ROOT_SECRET);
    let path = format!("/{B}/md5?uploadId={id}");
    let of = |text: &str| BASE64.encode(Md5::digest(text.as_bytes()));
    let code = |r: &common::Response| {
        let start = r.body.find("<Code>").map_or(0, |i| i + 6);
        r.body[start..r.body.find("</Code>").unwrap_or(start)].to_owned()
    };
    let wrong = of("another body");
    let r = s3_call(
        server.s3,
        &signer,
        "POST",
        &path,
        &[("content-md5", &wrong)],
        &body,
    );
    assert_eq!(
        (r.status, code(&r).as_str()),
        (400, "BadDigest"),
        "{}",
        r.body
    );
    let r = s3_call(
        server.s3,
        &signer,
        "POST",
        &path,
        &[("content-md5", "nope")],
        &body,
    );
    assert_eq!(
        (r.status, code(&r).as_str()),
        (400, "InvalidDigest"),
        "{}",
        r.body
    );
    let right = of(&body);
    let r = s3_call(
        server.s3,
        &signer,
        "POST",
        &path,
        &[("content-md5", &right)],
        &body,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    server.stop();
}

/// An upload created without a checksum algorithm keeps no part checksums to compute an
/// object checksum from: a whole-object checksum sent with its completion is ignored, as S3
/// ignores it (even a wrong one), and the object has no checksum; the same value with
/// `x-amz-checksum-type` is still refused, as S3 refuses a checksum mode the upload lacks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_checksum_is_ignored_for_an_upload_without_an_algorithm() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let body = pattern(3000, 21);
    let id = s3
        .create_multipart_upload()
        .bucket(B)
        .key("plain")
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_owned();
    let (etag, _) = upload_part(&s3, "plain", &id, 1, &ChecksumAlgorithm::Crc32, &body).await;
    let complete = || {
        s3.complete_multipart_upload()
            .bucket(B)
            .key("plain")
            .upload_id(&id)
            .multipart_upload(all(vec![listed(1, &etag, None)]))
    };
    let refused = complete()
        .checksum_type(ChecksumType::FullObject)
        .checksum_crc32(crc(&ChecksumAlgorithm::Crc32, &body))
        .send()
        .await;
    assert_eq!(
        refusal(refused),
        (
            "InvalidRequest".to_owned(),
            400,
            "The upload was created using the null checksum mode. The complete request must \
             use the same checksum mode."
                .to_owned()
        )
    );
    let done = complete()
        .checksum_crc32(crc(&ChecksumAlgorithm::Crc32, b"not these bytes"))
        .send()
        .await
        .unwrap();
    assert_eq!(done.checksum_crc32(), None);
    assert_eq!(done.checksum_type(), None);
    let head = s3
        .head_object()
        .bucket(B)
        .key("plain")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(3000));
    assert_eq!(head.checksum_crc32(), None);
    assert_eq!(head.checksum_type(), None);
    server.stop();
}
