//! S3 versioning through `aws-sdk-s3`: the bucket's status, versions kept by overwrites and
//! deletes, delete markers, addressing a version, restoring one by copying it, and the `null`
//! version of never-versioned and Suspended buckets.

use crate::common;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketVersioningStatus, CompletedMultipartUpload, CompletedPart, Delete, MfaDelete,
    ObjectIdentifier, Tag, Tagging, VersioningConfiguration,
};
use aws_sdk_s3::Client;
use common::{error_code_status, start_with_bucket};

const B: &str = "versions";

async fn set_status(s3: &Client, status: BucketVersioningStatus) {
    s3.put_bucket_versioning()
        .bucket(B)
        .versioning_configuration(VersioningConfiguration::builder().status(status).build())
        .send()
        .await
        .unwrap();
}

async fn put(s3: &Client, key: &str, body: &str) -> Option<String> {
    s3.put_object()
        .bucket(B)
        .key(key)
        .body(ByteStream::from(body.as_bytes().to_vec()))
        .send()
        .await
        .unwrap()
        .version_id()
        .map(str::to_owned)
}

async fn body_of(s3: &Client, key: &str, version: Option<&str>) -> String {
    let got = s3
        .get_object()
        .bucket(B)
        .key(key)
        .set_version_id(version.map(str::to_owned))
        .send()
        .await
        .unwrap();
    let bytes = got.body.collect().await.unwrap().into_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn is_version_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The status of an SDK error's raw response and one of its headers.
fn raw_header<E, T: std::fmt::Debug>(
    result: Result<T, aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>>,
    name: &str,
) -> (u16, Option<String>) {
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => {
            let raw = e.raw_response().expect("a response");
            (
                raw.status().as_u16(),
                raw.headers().get(name).map(str::to_owned),
            )
        }
    }
}

async fn keys(s3: &Client) -> Vec<String> {
    s3.list_objects_v2()
        .bucket(B)
        .send()
        .await
        .unwrap()
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versioning_status_is_set_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start_with_bucket(dir.path(), B).await;
    let status = s3.get_bucket_versioning().bucket(B).send().await.unwrap();
    assert_eq!(status.status(), None, "never versioned: no status");
    // A bucket never versioned shows no version ids.
    assert_eq!(put(&s3, "k", "one").await, None);
    let head = s3.head_object().bucket(B).key("k").send().await.unwrap();
    assert_eq!(head.version_id(), None);

    set_status(&s3, BucketVersioningStatus::Enabled).await;
    let status = s3.get_bucket_versioning().bucket(B).send().await.unwrap();
    assert_eq!(status.status(), Some(&BucketVersioningStatus::Enabled));
    set_status(&s3, BucketVersioningStatus::Suspended).await;
    let status = s3.get_bucket_versioning().bucket(B).send().await.unwrap();
    assert_eq!(status.status(), Some(&BucketVersioningStatus::Suspended));

    // MFA delete is not built: asking for it is refused, not ignored.
    let r = s3
        .put_bucket_versioning()
        .bucket(B)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .mfa_delete(MfaDelete::Enabled)
                .build(),
        )
        .send()
        .await;
    assert_eq!(error_code_status(r), ("NotImplemented".to_owned(), 501));
    let r = s3
        .put_bucket_versioning()
        .bucket(B)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::from("Sometimes"))
                .build(),
        )
        .send()
        .await;
    assert_eq!(error_code_status(r), ("MalformedXML".to_owned(), 400));
    let status = s3.get_bucket_versioning().bucket(B).send().await.unwrap();
    assert_eq!(status.status(), Some(&BucketVersioningStatus::Suspended));
    let r = s3
        .get_bucket_versioning()
        .bucket("never-created")
        .send()
        .await;
    assert_eq!(error_code_status(r), ("NoSuchBucket".to_owned(), 404));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overwrites_and_deletes_keep_every_version() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start_with_bucket(dir.path(), B).await;
    // Written before versioning: becomes the null version, kept when versioning starts.
    put(&s3, "k", "zero").await;
    set_status(&s3, BucketVersioningStatus::Enabled).await;
    let v1 = put(&s3, "k", "one").await.unwrap();
    let v2 = put(&s3, "k", "two").await.unwrap();
    assert!(
        is_version_id(&v1) && is_version_id(&v2) && v1 != v2,
        "{v1} {v2}"
    );
    // Ids sort newest first.
    assert!(v2 < v1);
    assert_eq!(body_of(&s3, "k", None).await, "two");
    assert_eq!(body_of(&s3, "k", Some(&v1)).await, "one");
    assert_eq!(body_of(&s3, "k", Some("null")).await, "zero");
    let head = s3.head_object().bucket(B).key("k").send().await.unwrap();
    assert_eq!(head.version_id(), Some(v2.as_str()));
    let head = s3
        .head_object()
        .bucket(B)
        .key("k")
        .version_id(&v1)
        .send()
        .await
        .unwrap();
    assert_eq!(head.version_id(), Some(v1.as_str()));

    // A delete adds a marker; the key is gone from GET, HEAD and listings, its versions kept.
    let deleted = s3.delete_object().bucket(B).key("k").send().await.unwrap();
    assert_eq!(deleted.delete_marker(), Some(true));
    let marker = deleted.version_id().unwrap().to_owned();
    assert!(is_version_id(&marker) && marker < v2);
    let r = s3.get_object().bucket(B).key("k").send().await;
    let (status, header) = raw_header(r, "x-amz-delete-marker");
    assert_eq!((status, header.as_deref()), (404, Some("true")));
    let r = s3.get_object().bucket(B).key("k").send().await;
    assert_eq!(error_code_status(r), ("NoSuchKey".to_owned(), 404));
    let r = s3.head_object().bucket(B).key("k").send().await;
    let (status, header) = raw_header(r, "x-amz-version-id");
    assert_eq!((status, header), (404, Some(marker.clone())));
    assert!(keys(&s3).await.is_empty());
    // A marker named by its id: 405, as S3 answers.
    let r = s3
        .get_object()
        .bucket(B)
        .key("k")
        .version_id(&marker)
        .send()
        .await;
    let (status, header) = raw_header(r, "x-amz-delete-marker");
    assert_eq!((status, header.as_deref()), (405, Some("true")));
    assert_eq!(body_of(&s3, "k", Some(&v2)).await, "two");

    // Deleting the marker by id undeletes.
    let removed = s3
        .delete_object()
        .bucket(B)
        .key("k")
        .version_id(&marker)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.delete_marker(), Some(true));
    assert_eq!(removed.version_id(), Some(marker.as_str()));
    assert_eq!(body_of(&s3, "k", None).await, "two");
    assert_eq!(keys(&s3).await, ["k"]);

    // Deleting the current version by id makes the previous one current.
    s3.delete_object()
        .bucket(B)
        .key("k")
        .version_id(&v2)
        .send()
        .await
        .unwrap();
    assert_eq!(body_of(&s3, "k", None).await, "one");
    let r = s3
        .get_object()
        .bucket(B)
        .key("k")
        .version_id(&v2)
        .send()
        .await;
    assert_eq!(error_code_status(r), ("NoSuchVersion".to_owned(), 404));

    // A bucket with versions or markers is not empty.
    s3.delete_object().bucket(B).key("k").send().await.unwrap();
    let r = s3.delete_bucket().bucket(B).send().await;
    assert_eq!(error_code_status(r), ("BucketNotEmpty".to_owned(), 409));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_version_is_restored_by_copying_it() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start_with_bucket(dir.path(), B).await;
    set_status(&s3, BucketVersioningStatus::Enabled).await;
    let good = put(&s3, "doc", "good").await.unwrap();
    put(&s3, "doc", "bad").await.unwrap();
    let copied = s3
        .copy_object()
        .bucket(B)
        .key("doc")
        .copy_source(format!("{B}/doc?versionId={good}"))
        .send()
        .await
        .unwrap();
    assert_eq!(copied.copy_source_version_id(), Some(good.as_str()));
    let restored = copied.version_id().unwrap().to_owned();
    assert!(is_version_id(&restored) && restored != good);
    assert_eq!(body_of(&s3, "doc", None).await, "good");
    // The copy of the current version needs no id; the source's is reported.
    let current = s3
        .copy_object()
        .bucket(B)
        .key("other")
        .copy_source(format!("{B}/doc"))
        .send()
        .await
        .unwrap();
    assert_eq!(current.copy_source_version_id(), Some(restored.as_str()));
    // UploadPartCopy takes a version of its source too.
    let upload = s3
        .create_multipart_upload()
        .bucket(B)
        .key("from-part")
        .send()
        .await
        .unwrap();
    let id = upload.upload_id().unwrap();
    let part = s3
        .upload_part_copy()
        .bucket(B)
        .key("from-part")
        .upload_id(id)
        .part_number(1)
        .copy_source(format!("{B}/doc?versionId={good}"))
        .send()
        .await
        .unwrap();
    assert_eq!(part.copy_source_version_id(), Some(good.as_str()));
    let etag = part.copy_part_result().unwrap().e_tag().unwrap().to_owned();
    s3.complete_multipart_upload()
        .bucket(B)
        .key("from-part")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(CompletedPart::builder().part_number(1).e_tag(etag).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(body_of(&s3, "from-part", None).await, "good");
    // A delete marker is no copy source.
    let marker = s3
        .delete_object()
        .bucket(B)
        .key("doc")
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned();
    let r = s3
        .copy_object()
        .bucket(B)
        .key("x")
        .copy_source(format!("{B}/doc"))
        .send()
        .await;
    assert_eq!(error_code_status(r), ("NoSuchKey".to_owned(), 404));
    let r = s3
        .copy_object()
        .bucket(B)
        .key("x")
        .copy_source(format!("{B}/doc?versionId={marker}"))
        .send()
        .await;
    assert_eq!(error_code_status(r), ("InvalidRequest".to_owned(), 400));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_bucket_replaces_only_the_null_version() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start_with_bucket(dir.path(), B).await;
    set_status(&s3, BucketVersioningStatus::Enabled).await;
    let kept = put(&s3, "k", "kept").await.unwrap();
    set_status(&s3, BucketVersioningStatus::Suspended).await;
    assert_eq!(put(&s3, "k", "null one").await.as_deref(), Some("null"));
    assert_eq!(put(&s3, "k", "null two").await.as_deref(), Some("null"));
    assert_eq!(body_of(&s3, "k", None).await, "null two");
    assert_eq!(body_of(&s3, "k", Some("null")).await, "null two");
    assert_eq!(body_of(&s3, "k", Some(&kept)).await, "kept");
    // A delete replaces the null version with a null marker; the Enabled version stays.
    let deleted = s3.delete_object().bucket(B).key("k").send().await.unwrap();
    assert_eq!(
        (deleted.delete_marker(), deleted.version_id()),
        (Some(true), Some("null"))
    );
    let r = s3.get_object().bucket(B).key("k").send().await;
    assert_eq!(error_code_status(r), ("NoSuchKey".to_owned(), 404));
    assert_eq!(body_of(&s3, "k", Some(&kept)).await, "kept");
    // Removing the null marker brings the Enabled version back.
    s3.delete_object()
        .bucket(B)
        .key("k")
        .version_id("null")
        .send()
        .await
        .unwrap();
    assert_eq!(body_of(&s3, "k", None).await, "kept");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_are_addressed_by_tagging_attributes_and_batches() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start_with_bucket(dir.path(), B).await;
    set_status(&s3, BucketVersioningStatus::Enabled).await;
    let v1 = put(&s3, "k", "one").await.unwrap();
    let v2 = put(&s3, "k", "two").await.unwrap();
    let tagging = Tagging::builder()
        .tag_set(Tag::builder().key("age").value("old").build().unwrap())
        .build()
        .unwrap();
    let out = s3
        .put_object_tagging()
        .bucket(B)
        .key("k")
        .version_id(&v1)
        .tagging(tagging)
        .send()
        .await
        .unwrap();
    assert_eq!(out.version_id(), Some(v1.as_str()));
    let old = s3
        .get_object_tagging()
        .bucket(B)
        .key("k")
        .version_id(&v1)
        .send()
        .await
        .unwrap();
    assert_eq!(old.tag_set().len(), 1);
    assert_eq!(old.version_id(), Some(v1.as_str()));
    let current = s3
        .get_object_tagging()
        .bucket(B)
        .key("k")
        .send()
        .await
        .unwrap();
    assert!(current.tag_set().is_empty());
    assert_eq!(current.version_id(), Some(v2.as_str()));
    let attributes = s3
        .get_object_attributes()
        .bucket(B)
        .key("k")
        .version_id(&v1)
        .object_attributes(aws_sdk_s3::types::ObjectAttributes::ObjectSize)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (attributes.object_size(), attributes.version_id()),
        (Some(3), Some(v1.as_str()))
    );

    // A multipart upload completes into a new version.
    let upload = s3
        .create_multipart_upload()
        .bucket(B)
        .key("k")
        .send()
        .await
        .unwrap();
    let id = upload.upload_id().unwrap();
    let part = s3
        .upload_part()
        .bucket(B)
        .key("k")
        .upload_id(id)
        .part_number(1)
        .body(ByteStream::from_static(b"three"))
        .send()
        .await
        .unwrap();
    let done = s3
        .complete_multipart_upload()
        .bucket(B)
        .key("k")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .e_tag(part.e_tag().unwrap())
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let v3 = done.version_id().unwrap().to_owned();
    assert!(is_version_id(&v3) && v3 < v2);
    assert_eq!(body_of(&s3, "k", None).await, "three");

    // DeleteObjects: a version by id, and a key (a marker added, and said).
    let batch = Delete::builder()
        .objects(
            ObjectIdentifier::builder()
                .key("k")
                .version_id(&v1)
                .build()
                .unwrap(),
        )
        .objects(ObjectIdentifier::builder().key("k").build().unwrap())
        .build()
        .unwrap();
    let out = s3
        .delete_objects()
        .bucket(B)
        .delete(batch)
        .send()
        .await
        .unwrap();
    assert!(out.errors().is_empty(), "{:?}", out.errors());
    let deleted: Vec<_> = out
        .deleted()
        .iter()
        .map(|d| {
            (
                d.version_id().map(str::to_owned),
                d.delete_marker(),
                d.delete_marker_version_id().is_some(),
            )
        })
        .collect();
    assert_eq!(
        deleted,
        [(Some(v1.clone()), None, false), (None, Some(true), true)]
    );
    let r = s3
        .get_object()
        .bucket(B)
        .key("k")
        .version_id(&v1)
        .send()
        .await;
    assert_eq!(error_code_status(r), ("NoSuchVersion".to_owned(), 404));
    assert_eq!(body_of(&s3, "k", Some(&v2)).await, "two");
    assert!(keys(&s3).await.is_empty());
    server.stop();
}

/// Listings show each key's current version only: overwritten keys once, deleted keys not at
/// all, whatever their histories.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_show_current_versions_only() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start_with_bucket(dir.path(), B).await;
    set_status(&s3, BucketVersioningStatus::Enabled).await;
    for key in ["a", "b/1", "b/2", "c", "d"] {
        for round in 0..3 {
            put(&s3, key, &format!("{key}{round}")).await;
        }
    }
    for key in ["b/2", "c"] {
        s3.delete_object().bucket(B).key(key).send().await.unwrap();
    }
    assert_eq!(keys(&s3).await, ["a", "b/1", "d"]);
    let page = s3
        .list_objects_v2()
        .bucket(B)
        .delimiter("/")
        .max_keys(2)
        .send()
        .await
        .unwrap();
    let prefixes: Vec<_> = page
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["b/"]);
    assert_eq!(page.contents().len(), 1);
    let v1 = s3.list_objects().bucket(B).send().await.unwrap();
    assert_eq!(v1.contents().len(), 3);
    server.stop();
}

/// Who may do what: the status needs `s3:PutBucketVersioning` / `s3:GetBucketVersioning`;
/// reading or deleting a named version needs the `…Version` action, not the plain one; a
/// missing bucket is `NoSuchBucket` to the root.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versioning_permissions_are_the_version_actions() {
    let server = common::TestServer::start();
    let s3 = server.with_bucket(B).await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*",
        "Action":["s3:GetObject","s3:DeleteObject","s3:GetBucketVersioning","s3:ListBucket"]}]}"#;
    let plain = server.with_user(policy).await;
    let r = plain
        .s3
        .put_bucket_versioning()
        .bucket(B)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await;
    assert_eq!(error_code_status(r), ("AccessDenied".to_owned(), 403));
    let status = s3.get_bucket_versioning().bucket(B).send().await.unwrap();
    assert_eq!(status.status(), None, "a refused put changed nothing");
    set_status(&s3, BucketVersioningStatus::Enabled).await;
    plain
        .s3
        .get_bucket_versioning()
        .bucket(B)
        .send()
        .await
        .unwrap();
    let v1 = put(&s3, "k", "one").await.unwrap();
    put(&s3, "k", "two").await.unwrap();
    // The current version with s3:GetObject; a named one needs s3:GetObjectVersion.
    plain
        .s3
        .get_object()
        .bucket(B)
        .key("k")
        .send()
        .await
        .unwrap();
    let r = plain
        .s3
        .get_object()
        .bucket(B)
        .key("k")
        .version_id(&v1)
        .send()
        .await;
    assert_eq!(error_code_status(r), ("AccessDenied".to_owned(), 403));
    let r = plain
        .s3
        .delete_object()
        .bucket(B)
        .key("k")
        .version_id(&v1)
        .send()
        .await;
    assert_eq!(error_code_status(r), ("AccessDenied".to_owned(), 403));
    assert_eq!(
        body_of(&s3, "k", Some(&v1)).await,
        "one",
        "a refused delete kept it"
    );
    let versions = server
        .with_user(&common::allow("s3:GetObjectVersion"))
        .await;
    let got = versions
        .s3
        .get_object()
        .bucket(B)
        .key("k")
        .version_id(&v1)
        .send()
        .await
        .unwrap();
    assert_eq!(got.version_id(), Some(v1.as_str()));
    let r = s3
        .put_bucket_versioning()
        .bucket("never-created")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await;
    assert_eq!(error_code_status(r), ("NoSuchBucket".to_owned(), 404));
}
