//! GetObjectAttributes through `aws-sdk-s3` at default settings: each attribute on its own,
//! multipart objects' parts (paged with `x-amz-max-parts` and `x-amz-part-number-marker`),
//! the header's checks, `Last-Modified`, and the IAM action of each form.

use crate::common;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart, ObjectAttributes, StorageClass,
};
use aws_sdk_s3::Client;
use common::{error_code_status, TestServer};

const B: &str = "attributes";
const PART: usize = 5 * 1024 * 1024;
const PART_SIZE: i64 = 5 * 1024 * 1024;

/// A three-part object, uploaded with a CRC32 checksum when `algorithm` is given.
async fn multipart(s3: &Client, key: &str, algorithm: Option<ChecksumAlgorithm>) {
    let upload = s3
        .create_multipart_upload()
        .bucket(B)
        .key(key)
        .set_checksum_algorithm(algorithm.clone())
        .storage_class(StorageClass::StandardIa)
        .send()
        .await
        .unwrap();
    let id = upload.upload_id().unwrap();
    let mut parts = Vec::new();
    for (number, fill, size) in [(1, b'b', PART), (2, b'c', PART), (3, b'd', 10)] {
        let out = s3
            .upload_part()
            .bucket(B)
            .key(key)
            .upload_id(id)
            .part_number(number)
            .set_checksum_algorithm(algorithm.clone())
            .body(ByteStream::from(vec![fill; size]))
            .send()
            .await
            .unwrap();
        parts.push(
            CompletedPart::builder()
                .part_number(number)
                .e_tag(out.e_tag().unwrap())
                // Only an upload with an algorithm takes part checksums in its completion,
                // as S3 answers (the SDK checksums every part it sends either way).
                .set_checksum_crc32(
                    out.checksum_crc32()
                        .filter(|_| algorithm.is_some())
                        .map(str::to_owned),
                )
                .build(),
        );
    }
    s3.complete_multipart_upload()
        .bucket(B)
        .key(key)
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attributes_of_a_simple_object() {
    let server = TestServer::start();
    let s3 = server.with_bucket(B).await;
    let put = s3
        .put_object()
        .bucket(B)
        .key("simple")
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .body(ByteStream::from_static(b"hello attributes"))
        .send()
        .await
        .unwrap();
    let head = s3
        .head_object()
        .bucket(B)
        .key("simple")
        .send()
        .await
        .unwrap();
    let all = s3
        .get_object_attributes()
        .bucket(B)
        .key("simple")
        .object_attributes(ObjectAttributes::Etag)
        .object_attributes(ObjectAttributes::Checksum)
        .object_attributes(ObjectAttributes::ObjectParts)
        .object_attributes(ObjectAttributes::StorageClass)
        .object_attributes(ObjectAttributes::ObjectSize)
        .send()
        .await
        .unwrap();
    // The ETag without its quotes, as S3 shows it here.
    assert_eq!(all.e_tag(), Some(put.e_tag().unwrap().trim_matches('"')));
    assert_eq!(all.object_size(), Some(16));
    assert_eq!(all.storage_class(), Some(&StorageClass::Standard));
    let checksum = all.checksum().unwrap();
    assert_eq!(checksum.checksum_sha256(), put.checksum_sha256());
    assert_eq!(
        checksum.checksum_type().map(|t| t.as_str()),
        Some("FULL_OBJECT")
    );
    // Not uploaded in parts: no ObjectParts.
    assert!(all.object_parts().is_none());
    assert_eq!(all.last_modified(), head.last_modified());

    // Only what was asked for.
    let some = s3
        .get_object_attributes()
        .bucket(B)
        .key("simple")
        .object_attributes(ObjectAttributes::ObjectSize)
        .send()
        .await
        .unwrap();
    assert_eq!(some.object_size(), Some(16));
    assert_eq!(
        (some.e_tag(), some.checksum(), some.storage_class()),
        (None, None, None)
    );

    let r = s3
        .get_object_attributes()
        .bucket(B)
        .key("missing")
        .object_attributes(ObjectAttributes::Etag)
        .send()
        .await;
    assert_eq!(error_code_status(r), ("NoSuchKey".to_owned(), 404));
    let r = s3
        .get_object_attributes()
        .bucket("no-such-bucket")
        .key("k")
        .object_attributes(ObjectAttributes::Etag)
        .send()
        .await;
    assert_eq!(error_code_status(r), ("NoSuchBucket".to_owned(), 404));
    let r = s3
        .get_object_attributes()
        .bucket(B)
        .key("simple")
        .object_attributes(ObjectAttributes::from("ETags"))
        .send()
        .await;
    assert_eq!(error_code_status(r), ("InvalidArgument".to_owned(), 400));
    // The null version is the object; any other is NoSuchVersion.
    let null = s3
        .get_object_attributes()
        .bucket(B)
        .key("simple")
        .version_id("null")
        .object_attributes(ObjectAttributes::ObjectSize)
        .send()
        .await
        .unwrap();
    assert_eq!(null.version_id(), Some("null"));
    let r = s3
        .get_object_attributes()
        .bucket(B)
        .key("simple")
        .version_id("7ffa0b1c2d3e4f50a1b2c3d4e5f60718")
        .object_attributes(ObjectAttributes::ObjectSize)
        .send()
        .await;
    assert_eq!(error_code_status(r), ("NoSuchVersion".to_owned(), 404));
}

/// The header is required: missing or empty is S3's `InvalidRequest`.
#[test]
fn the_attributes_header_is_required() {
    let server = TestServer::start();
    let signer = common::signing::Signer::s3("admin", common::ROOT_SECRET);
    let r = common::signing::s3_call(server.s3, &signer, "PUT", "/attrs", &[], "");
    assert_eq!(r.status, 200, "{}", r.body);
    let r = common::signing::s3_call(server.s3, &signer, "PUT", "/attrs/k", &[], "x");
    assert_eq!(r.status, 200, "{}", r.body);
    for headers in [vec![], vec![("x-amz-object-attributes", "")]] {
        let r = common::signing::s3_call(
            server.s3,
            &signer,
            "GET",
            "/attrs/k?attributes",
            &headers,
            "",
        );
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.body.contains("<Code>InvalidRequest</Code>"), "{}", r.body);
        assert!(
            r.body.contains("x-amz-object-attributes header"),
            "{}",
            r.body
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_of_a_multipart_object_page_with_their_checksums() {
    let server = TestServer::start();
    let s3 = server.with_bucket(B).await;
    multipart(&s3, "summed", Some(ChecksumAlgorithm::Crc32)).await;
    let get = |marker: Option<&str>, max: Option<i32>| {
        s3.get_object_attributes()
            .bucket(B)
            .key("summed")
            .object_attributes(ObjectAttributes::ObjectParts)
            .object_attributes(ObjectAttributes::StorageClass)
            .object_attributes(ObjectAttributes::Checksum)
            .set_part_number_marker(marker.map(str::to_owned))
            .set_max_parts(max)
            .send()
    };
    let all = get(None, None).await.unwrap();
    assert_eq!(all.storage_class(), Some(&StorageClass::StandardIa));
    assert_eq!(
        all.checksum().unwrap().checksum_type().map(|t| t.as_str()),
        Some("COMPOSITE")
    );
    let parts = all.object_parts().unwrap();
    assert_eq!(parts.total_parts_count(), Some(3));
    assert_eq!(parts.is_truncated(), Some(false));
    let listed: Vec<(Option<i32>, Option<i64>, bool)> = parts
        .parts()
        .iter()
        .map(|p| (p.part_number(), p.size(), p.checksum_crc32().is_some()))
        .collect();
    assert_eq!(
        listed,
        [
            (Some(1), Some(PART_SIZE), true),
            (Some(2), Some(PART_SIZE), true),
            (Some(3), Some(10), true)
        ]
    );
    let first = get(None, Some(2)).await.unwrap();
    let page = first.object_parts().unwrap();
    assert_eq!(page.is_truncated(), Some(true));
    assert_eq!(page.max_parts(), Some(2));
    assert_eq!(page.parts().len(), 2);
    let next = page.next_part_number_marker().unwrap().to_owned();
    assert_eq!(next, "2");
    let rest = get(Some(&next), Some(2)).await.unwrap();
    let page = rest.object_parts().unwrap();
    assert_eq!(page.is_truncated(), Some(false));
    assert_eq!(page.part_number_marker(), Some("2"));
    let numbers: Vec<Option<i32>> = page.parts().iter().map(|p| p.part_number()).collect();
    assert_eq!(numbers, [Some(3)]);

    // Without a checksum algorithm only the count is shown, as S3 does.
    multipart(&s3, "plain", None).await;
    let plain = s3
        .get_object_attributes()
        .bucket(B)
        .key("plain")
        .object_attributes(ObjectAttributes::ObjectParts)
        .object_attributes(ObjectAttributes::Checksum)
        .send()
        .await
        .unwrap();
    let parts = plain.object_parts().unwrap();
    assert_eq!(parts.total_parts_count(), Some(3));
    assert!(parts.parts().is_empty());
    assert!(plain.checksum().is_none());
}

/// `s3:GetObjectAttributes`, or `s3:GetObjectVersionAttributes` for a request naming a
/// version; a caller who may not list the bucket learns nothing of a missing key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attributes_ask_for_their_own_actions() {
    let server = TestServer::start();
    let s3 = server.with_bucket(B).await;
    s3.put_object()
        .bucket(B)
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let plain = server
        .with_user(&common::allow("s3:GetObjectAttributes"))
        .await;
    let versioned = server
        .with_user(&common::allow("s3:GetObjectVersionAttributes"))
        .await;
    let ask = |client: &Client, key: &str, version: Option<&str>| {
        client
            .get_object_attributes()
            .bucket(B)
            .key(key)
            .set_version_id(version.map(str::to_owned))
            .object_attributes(ObjectAttributes::ObjectSize)
            .send()
    };
    assert_eq!(
        ask(&plain.s3, "k", None).await.unwrap().object_size(),
        Some(1)
    );
    let denied = ("AccessDenied".to_owned(), 403);
    assert_eq!(
        error_code_status(ask(&plain.s3, "k", Some("null")).await),
        denied
    );
    assert_eq!(
        ask(&versioned.s3, "k", Some("null"))
            .await
            .unwrap()
            .object_size(),
        Some(1)
    );
    assert_eq!(
        error_code_status(ask(&versioned.s3, "k", None).await),
        denied
    );
    // No s3:ListBucket: a missing key reads as AccessDenied, as for GetObject.
    assert_eq!(
        error_code_status(ask(&plain.s3, "missing", None).await),
        denied
    );
}

/// The body of a refused SDK call, as the server sent it.
fn error_body<T: std::fmt::Debug, E: std::fmt::Debug>(
    result: Result<T, aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>>,
) -> (u16, String) {
    match result {
        Ok(v) => panic!("expected a refusal, got {v:?}"),
        Err(aws_sdk_s3::error::SdkError::ServiceError(e)) => (
            e.raw().status().as_u16(),
            String::from_utf8_lossy(e.raw().body().bytes().unwrap_or_default()).into_owned(),
        ),
        Err(e) => panic!("not a service error: {e:?}"),
    }
}

/// An upload completed from parts 1, 3 and 7 keeps those numbers: GetObjectAttributes lists
/// them, pages by part number (`x-amz-part-number-marker` 2 lists 3 and 7), and GetObject and
/// HeadObject `partNumber` find them, with `x-amz-mp-parts-count` 3; a number the object has
/// no part for (2, 4, 8) is `416 InvalidPartNumber` naming the number and the count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_keep_the_numbers_they_were_uploaded_as() {
    let server = TestServer::start();
    let s3 = server.with_bucket(B).await;
    let key = "sparse";
    let algorithm = ChecksumAlgorithm::Crc64Nvme;
    let id = s3
        .create_multipart_upload()
        .bucket(B)
        .key(key)
        .checksum_algorithm(algorithm.clone())
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_owned();
    let sizes = [(1, b'b', PART), (3, b'c', PART), (7, b'd', 10)];
    let mut parts = Vec::new();
    for (number, fill, size) in sizes {
        let out = s3
            .upload_part()
            .bucket(B)
            .key(key)
            .upload_id(&id)
            .part_number(number)
            .checksum_algorithm(algorithm.clone())
            .body(ByteStream::from(vec![fill; size]))
            .send()
            .await
            .unwrap();
        parts.push(
            CompletedPart::builder()
                .part_number(number)
                .e_tag(out.e_tag().unwrap())
                .build(),
        );
    }
    // A part uploaded but left out of the completion is not one of the object's.
    s3.upload_part()
        .bucket(B)
        .key(key)
        .upload_id(&id)
        .part_number(2)
        .checksum_algorithm(algorithm.clone())
        .body(ByteStream::from(vec![b'x'; 10]))
        .send()
        .await
        .unwrap();
    s3.complete_multipart_upload()
        .bucket(B)
        .key(key)
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap();

    let page = |marker: Option<&str>, max: Option<i32>| {
        s3.get_object_attributes()
            .bucket(B)
            .key(key)
            .object_attributes(ObjectAttributes::ObjectParts)
            .set_part_number_marker(marker.map(str::to_owned))
            .set_max_parts(max)
            .send()
    };
    let numbers =
        |out: &aws_sdk_s3::operation::get_object_attributes::GetObjectAttributesOutput| {
            let parts = out.object_parts().unwrap();
            (
                parts
                    .parts()
                    .iter()
                    .map(|p| (p.part_number().unwrap(), p.size().unwrap()))
                    .collect::<Vec<_>>(),
                parts.next_part_number_marker().map(str::to_owned),
                parts.is_truncated(),
            )
        };
    let all = page(None, None).await.unwrap();
    assert_eq!(all.object_parts().unwrap().total_parts_count(), Some(3));
    assert_eq!(
        numbers(&all),
        (
            vec![(1, PART_SIZE), (3, PART_SIZE), (7, 10)],
            Some("7".to_owned()),
            Some(false)
        )
    );
    let first = page(None, Some(1)).await.unwrap();
    assert_eq!(
        numbers(&first),
        (vec![(1, PART_SIZE)], Some("1".to_owned()), Some(true))
    );
    let second = page(Some("1"), Some(1)).await.unwrap();
    assert_eq!(
        numbers(&second),
        (vec![(3, PART_SIZE)], Some("3".to_owned()), Some(true))
    );
    assert_eq!(
        second.object_parts().unwrap().part_number_marker(),
        Some("1")
    );
    // The marker is a part number: after 2 come 3 and 7 (a position would skip 3).
    let after_two = page(Some("2"), None).await.unwrap();
    assert_eq!(
        numbers(&after_two),
        (
            vec![(3, PART_SIZE), (7, 10)],
            Some("7".to_owned()),
            Some(false)
        )
    );
    let after_last = page(Some("7"), None).await.unwrap();
    assert_eq!(numbers(&after_last), (vec![], None, Some(false)));

    let total = 2 * PART_SIZE + 10;
    for (number, start, len, fill) in [
        (1, 0, PART_SIZE, b'b'),
        (3, PART_SIZE, PART_SIZE, b'c'),
        (7, 2 * PART_SIZE, 10, b'd'),
    ] {
        let out = s3
            .get_object()
            .bucket(B)
            .key(key)
            .part_number(number)
            .send()
            .await
            .unwrap();
        assert_eq!(out.parts_count(), Some(3), "part {number}");
        let range = format!("bytes {start}-{}/{total}", start + len - 1);
        assert_eq!(out.content_range(), Some(range.as_str()), "part {number}");
        let got = out.body.collect().await.unwrap().into_bytes();
        assert_eq!(i64::try_from(got.len()).unwrap(), len, "part {number}");
        assert!(got.iter().all(|b| *b == fill), "part {number}: wrong bytes");
        let head = s3
            .head_object()
            .bucket(B)
            .key(key)
            .part_number(number)
            .send()
            .await
            .unwrap();
        assert_eq!(head.parts_count(), Some(3), "HEAD part {number}");
        assert_eq!(head.content_length(), Some(len), "HEAD part {number}");
    }
    for missing in [2, 4, 8] {
        let (status, body) = error_body(
            s3.get_object()
                .bucket(B)
                .key(key)
                .part_number(missing)
                .send()
                .await,
        );
        assert_eq!(status, 416, "part {missing}");
        assert!(
            body.contains("<Code>InvalidPartNumber</Code>")
                && body.contains(&format!(
                    "<PartNumberRequested>{missing}</PartNumberRequested>\
                     <ActualPartCount>3</ActualPartCount>"
                )),
            "part {missing}: {body}"
        );
        let (status, _) = error_body(
            s3.head_object()
                .bucket(B)
                .key(key)
                .part_number(missing)
                .send()
                .await,
        );
        assert_eq!(status, 416, "HEAD part {missing}");
    }
}
