//! Stored headers through `aws-sdk-s3` at default settings: the content headers, `Expires`,
//! `x-amz-meta-*` (its 2 KB limit, non-ASCII values) and the `response-*` overrides of GET.

use crate::common;

use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::Client;
use common::error_code_status;

const B: &str = "metadata";

async fn setup(dir: &std::path::Path) -> (common::TestServer, Client) {
    common::start_with_bucket(dir, B).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_headers_and_user_metadata_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let expires = DateTime::from_secs(2_000_000_000);
    s3.put_object()
        .bucket(B)
        .key("page.html.gz")
        .body(ByteStream::from_static(b"<html></html>"))
        .content_type("text/html; charset=utf-8")
        .content_encoding("gzip")
        .content_disposition("attachment; filename=\"page.html\"")
        .content_language("en-GB")
        .cache_control("max-age=3600, public")
        .expires(expires)
        .metadata("color", "blue")
        .metadata("Mixed-Case", "Value With Spaces")
        .send()
        .await
        .unwrap();
    let head = s3
        .head_object()
        .bucket(B)
        .key("page.html.gz")
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object()
        .bucket(B)
        .key("page.html.gz")
        .send()
        .await
        .unwrap();
    let views = [
        (
            "HEAD",
            head.content_type(),
            head.content_encoding(),
            head.content_disposition(),
            head.content_language(),
            head.cache_control(),
            head.expires_string(),
            head.metadata(),
        ),
        (
            "GET",
            got.content_type(),
            got.content_encoding(),
            got.content_disposition(),
            got.content_language(),
            got.cache_control(),
            got.expires_string(),
            got.metadata(),
        ),
    ];
    for (what, ctype, encoding, disposition, language, cache, expires_at, meta) in views {
        assert_eq!(ctype, Some("text/html; charset=utf-8"), "{what}");
        assert_eq!(encoding, Some("gzip"), "{what}");
        assert_eq!(
            disposition,
            Some("attachment; filename=\"page.html\""),
            "{what}"
        );
        assert_eq!(language, Some("en-GB"), "{what}");
        assert_eq!(cache, Some("max-age=3600, public"), "{what}");
        assert_eq!(expires_at, Some("Wed, 18 May 2033 03:33:20 GMT"), "{what}");
        let meta = meta.unwrap();
        assert_eq!(meta.len(), 2, "{what}: {meta:?}");
        assert_eq!(
            meta.get("color").map(String::as_str),
            Some("blue"),
            "{what}"
        );
        assert_eq!(
            meta.get("mixed-case").map(String::as_str),
            Some("Value With Spaces"),
            "{what}: names are stored lowercase"
        );
    }

    // response-* query parameters override what GET answers, not what is stored.
    let overridden = s3
        .get_object()
        .bucket(B)
        .key("page.html.gz")
        .response_content_type("application/octet-stream")
        .response_content_disposition("inline")
        .response_content_encoding("identity")
        .response_content_language("fr")
        .response_cache_control("no-store")
        .response_expires(DateTime::from_secs(0))
        .send()
        .await
        .unwrap();
    assert_eq!(overridden.content_type(), Some("application/octet-stream"));
    assert_eq!(overridden.content_disposition(), Some("inline"));
    assert_eq!(overridden.content_encoding(), Some("identity"));
    assert_eq!(overridden.content_language(), Some("fr"));
    assert_eq!(overridden.cache_control(), Some("no-store"));
    assert_eq!(
        overridden.expires_string(),
        Some("Thu, 01 Jan 1970 00:00:00 GMT")
    );
    let head = s3
        .head_object()
        .bucket(B)
        .key("page.html.gz")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("text/html; charset=utf-8"));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_metadata_is_limited_to_2_kb() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let put_meta = |key: &'static str, pairs: Vec<(String, String)>| {
        let mut req = s3
            .put_object()
            .bucket(B)
            .key(key)
            .body(ByteStream::from_static(b"m"));
        for (name, value) in pairs {
            req = req.metadata(name, value);
        }
        req.send()
    };
    let fits = vec![
        ("a".to_owned(), "x".repeat(1000)),
        ("b".to_owned(), "y".repeat(1000)),
    ];
    put_meta("fits", fits).await.unwrap();
    let too_large = vec![
        ("a".to_owned(), "x".repeat(1100)),
        ("b".to_owned(), "y".repeat(1000)),
    ];
    assert_eq!(
        error_code_status(put_meta("too-large", too_large).await),
        ("MetadataTooLarge".to_owned(), 400)
    );
    let (_, status) = error_code_status(s3.head_object().bucket(B).key("too-large").send().await);
    assert_eq!(status, 404, "a refused upload stores nothing");
    server.stop();
}

/// S3 stores a non-ASCII metadata value and returns it RFC 2047-encoded ("mail-safe"):
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html#UserMetadata>
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_ascii_metadata_values_round_trip_rfc2047_encoded() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let values = [
        "café",
        "日本語のメタデータ",
        "emoji 😀 and ascii",
        "plain ascii",
    ];
    for (i, value) in values.iter().enumerate() {
        let key = format!("meta-{i}");
        s3.put_object()
            .bucket(B)
            .key(&key)
            .metadata("note", *value)
            .body(ByteStream::from_static(b"m"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{value}: {e:?}"));
        let head = s3.head_object().bucket(B).key(&key).send().await.unwrap();
        let got = head.metadata().unwrap().get("note").unwrap().clone();
        assert!(got.is_ascii(), "{value}: returned as {got:?}");
        assert_eq!(decode_rfc2047(&got), *value, "{value}: returned as {got:?}");
        if value.is_ascii() {
            assert_eq!(got, *value, "ASCII is returned as is");
        }
    }
    // A value sent as an encoded-word is decoded before it is stored: it comes back in the
    // canonical form, whatever form it was sent in.
    s3.put_object()
        .bucket(B)
        .key("meta-q")
        .metadata("note", "=?utf-8?Q?caf=C3=A9?=")
        .body(ByteStream::from_static(b"m"))
        .send()
        .await
        .unwrap();
    let head = s3
        .head_object()
        .bucket(B)
        .key("meta-q")
        .send()
        .await
        .unwrap();
    let got = head.metadata().unwrap().get("note").unwrap();
    assert_eq!(got, "=?UTF-8?B?Y2Fmw6k=?=");
    server.stop();
}

/// Decodes one RFC 2047 encoded-word in UTF-8 (`=?UTF-8?B?...?=` or `=?UTF-8?Q?...?=`); any
/// other text is returned unchanged.
fn decode_rfc2047(value: &str) -> String {
    use base64::Engine;
    let Some(inner) = value.strip_prefix("=?").and_then(|v| v.strip_suffix("?=")) else {
        return value.to_owned();
    };
    let mut fields = inner.splitn(3, '?');
    let (charset, encoding, text) = (
        fields.next().unwrap(),
        fields.next().unwrap(),
        fields.next().unwrap(),
    );
    assert!(charset.eq_ignore_ascii_case("utf-8"), "{value}");
    let bytes = match encoding {
        "B" | "b" => base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap(),
        "Q" | "q" => {
            let text = text.replace('_', " ");
            percent_encoding::percent_decode_str(&text.replace('=', "%")).collect()
        }
        other => panic!("unknown encoding {other} in {value}"),
    };
    String::from_utf8(bytes).unwrap()
}

/// A metadata value that decodes to a control character (RFC 2047 `=?UTF-8?B?YQ1i?=` is
/// "a\rb") cannot be sent back in a header: it is refused when written, by PutObject,
/// CreateMultipartUpload and CopyObject with REPLACE, so no object answers 500 on every
/// later read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_that_cannot_be_a_header_is_refused_when_written() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, s3) = setup(dir.path()).await;
    s3.put_object()
        .bucket(B)
        .key("src")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let bad = [
        "=?UTF-8?B?YQ1i?=",
        "=?UTF-8?B?YQpi?=",
        "=?UTF-8?B?YQBi?=",
        "=?UTF-8?Q?a=7Fb?=",
    ];
    let invalid = ("InvalidArgument".to_owned(), 400);
    for value in bad {
        let r = s3
            .put_object()
            .bucket(B)
            .key("bad")
            .metadata("v", value)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await;
        assert_eq!(error_code_status(r), invalid, "PutObject {value}");
        let r = s3
            .create_multipart_upload()
            .bucket(B)
            .key("bad")
            .metadata("v", value)
            .send()
            .await;
        assert_eq!(
            error_code_status(r),
            invalid,
            "CreateMultipartUpload {value}"
        );
        let r = s3
            .copy_object()
            .bucket(B)
            .key("bad")
            .copy_source(format!("{B}/src"))
            .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
            .metadata("v", value)
            .send()
            .await;
        assert_eq!(error_code_status(r), invalid, "CopyObject {value}");
    }
    let r = s3.head_object().bucket(B).key("bad").send().await;
    assert_eq!(error_code_status(r).1, 404);
    let uploads = s3.list_multipart_uploads().bucket(B).send().await.unwrap();
    assert!(uploads.uploads().is_empty());
}

/// A valid storage class is stored and reported back as sent: `x-amz-storage-class` on
/// GET/HEAD (absent for STANDARD, as S3 answers), `StorageClass` in both listings, ListParts
/// and ListMultipartUploads; CompleteMultipartUpload keeps the upload's class, CopyObject
/// takes the one it names (STANDARD when none), and a copy onto itself may change it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_classes_are_stored_and_reported_as_sent() {
    use aws_sdk_s3::types::StorageClass;
    let dir = tempfile::tempdir().unwrap();
    let (_server, s3) = setup(dir.path()).await;
    let put = |key: &'static str, class: Option<StorageClass>| {
        s3.put_object()
            .bucket(B)
            .key(key)
            .set_storage_class(class)
            .body(ByteStream::from_static(b"x"))
            .send()
    };
    put("plain", None).await.unwrap();
    put("std", Some(StorageClass::Standard)).await.unwrap();
    put("cold", Some(StorageClass::Glacier)).await.unwrap();
    put("ia", Some(StorageClass::StandardIa)).await.unwrap();
    for (key, want) in [
        ("plain", None),
        ("std", None),
        ("cold", Some(StorageClass::Glacier)),
        ("ia", Some(StorageClass::StandardIa)),
    ] {
        let head = s3.head_object().bucket(B).key(key).send().await.unwrap();
        assert_eq!(head.storage_class(), want.as_ref(), "HEAD {key}");
        let get = s3.get_object().bucket(B).key(key).send().await.unwrap();
        assert_eq!(get.storage_class(), want.as_ref(), "GET {key}");
    }
    let v2 = s3.list_objects_v2().bucket(B).send().await.unwrap();
    let listed: Vec<(&str, &str)> = v2
        .contents()
        .iter()
        .map(|o| (o.key().unwrap(), o.storage_class().unwrap().as_str()))
        .collect();
    let want = [
        ("cold", "GLACIER"),
        ("ia", "STANDARD_IA"),
        ("plain", "STANDARD"),
        ("std", "STANDARD"),
    ];
    assert_eq!(listed, want);
    let v1 = s3.list_objects().bucket(B).send().await.unwrap();
    let listed: Vec<(&str, &str)> = v1
        .contents()
        .iter()
        .map(|o| (o.key().unwrap(), o.storage_class().unwrap().as_str()))
        .collect();
    assert_eq!(listed, want);

    // Multipart: the upload's class is listed with it and its parts, and the object keeps it.
    let upload = s3
        .create_multipart_upload()
        .bucket(B)
        .key("archive")
        .storage_class(StorageClass::DeepArchive)
        .send()
        .await
        .unwrap();
    let id = upload.upload_id().unwrap();
    let uploads = s3.list_multipart_uploads().bucket(B).send().await.unwrap();
    assert_eq!(
        uploads.uploads()[0].storage_class(),
        Some(&StorageClass::DeepArchive)
    );
    let part = s3
        .upload_part()
        .bucket(B)
        .key("archive")
        .upload_id(id)
        .part_number(1)
        .body(ByteStream::from_static(b"part"))
        .send()
        .await
        .unwrap();
    let parts = s3
        .list_parts()
        .bucket(B)
        .key("archive")
        .upload_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(parts.storage_class(), Some(&StorageClass::DeepArchive));
    s3.complete_multipart_upload()
        .bucket(B)
        .key("archive")
        .upload_id(id)
        .multipart_upload(
            aws_sdk_s3::types::CompletedMultipartUpload::builder()
                .parts(
                    aws_sdk_s3::types::CompletedPart::builder()
                        .part_number(1)
                        .e_tag(part.e_tag().unwrap())
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let head = s3
        .head_object()
        .bucket(B)
        .key("archive")
        .send()
        .await
        .unwrap();
    assert_eq!(head.storage_class(), Some(&StorageClass::DeepArchive));

    // A copy takes the class it names, or STANDARD: never the source's.
    s3.copy_object()
        .bucket(B)
        .key("copied")
        .copy_source(format!("{B}/cold"))
        .send()
        .await
        .unwrap();
    let head = s3
        .head_object()
        .bucket(B)
        .key("copied")
        .send()
        .await
        .unwrap();
    assert_eq!(head.storage_class(), None);
    // Onto itself, naming a class, is a change S3 allows.
    s3.copy_object()
        .bucket(B)
        .key("cold")
        .copy_source(format!("{B}/cold"))
        .storage_class(StorageClass::GlacierIr)
        .send()
        .await
        .unwrap();
    let head = s3.head_object().bucket(B).key("cold").send().await.unwrap();
    assert_eq!(head.storage_class(), Some(&StorageClass::GlacierIr));
    let r = s3
        .copy_object()
        .bucket(B)
        .key("cold")
        .copy_source(format!("{B}/cold"))
        .send()
        .await;
    assert_eq!(error_code_status(r), ("InvalidRequest".to_owned(), 400));
}

/// A class S3 does not know, or one that belongs to another kind of bucket (directory
/// buckets, Outposts, Snowball, FSx), is `InvalidStorageClass` on every write, and nothing is
/// written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_classes_a_general_purpose_bucket_has_not_are_refused() {
    use aws_sdk_s3::types::StorageClass;
    let dir = tempfile::tempdir().unwrap();
    let (_server, s3) = setup(dir.path()).await;
    s3.put_object()
        .bucket(B)
        .key("std")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    for class in [
        StorageClass::from("BOGUS"),
        StorageClass::from("standard"),
        StorageClass::ExpressOnezone,
        StorageClass::Outposts,
        StorageClass::Snow,
        StorageClass::from("FSX_OPENZFS"),
    ] {
        let r = s3
            .put_object()
            .bucket(B)
            .key("other")
            .storage_class(class.clone())
            .body(ByteStream::from_static(b"x"))
            .send()
            .await;
        assert_eq!(
            error_code_status(r),
            ("InvalidStorageClass".to_owned(), 400),
            "{class:?}"
        );
        let r = s3
            .create_multipart_upload()
            .bucket(B)
            .key("other")
            .storage_class(class.clone())
            .send()
            .await;
        assert_eq!(error_code_status(r).0, "InvalidStorageClass");
        let r = s3
            .copy_object()
            .bucket(B)
            .key("other")
            .copy_source(format!("{B}/std"))
            .storage_class(class)
            .send()
            .await;
        assert_eq!(error_code_status(r).0, "InvalidStorageClass");
    }
    let r = s3.head_object().bucket(B).key("other").send().await;
    assert_eq!(error_code_status(r).1, 404);
    let uploads = s3.list_multipart_uploads().bucket(B).send().await.unwrap();
    assert!(uploads.uploads().is_empty());
}

/// `Content-Encoding` comes back exactly as sent: a list keeps its spacing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_encoding_is_returned_as_sent() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, s3) = setup(dir.path()).await;
    for (key, encoding) in [("a", "deflate, gzip"), ("b", "gzip,br"), ("c", "identity")] {
        s3.put_object()
            .bucket(B)
            .key(key)
            .content_encoding(encoding)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
        let got = s3.get_object().bucket(B).key(key).send().await.unwrap();
        assert_eq!(got.content_encoding(), Some(encoding));
        let head = s3.head_object().bucket(B).key(key).send().await.unwrap();
        assert_eq!(head.content_encoding(), Some(encoding));
    }
}
