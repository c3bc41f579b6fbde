//! DeleteObjects through `aws-sdk-s3` at default settings (which sends the body's CRC32, the
//! integrity check S3 requires): up to 1000 keys, a `Deleted` entry per key unless `Quiet`,
//! and more than 1000 keys refused as MalformedXML.

use crate::common;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use aws_sdk_s3::Client;
use common::{error_code_status, s3_client, start_with_root};

const B: &str = "deletes";

async fn put_all(s3: &Client, keys: &[String]) {
    let mut tasks = Vec::new();
    for chunk in keys.chunks(keys.len() / 8 + 1) {
        let (s3, chunk) = (s3.clone(), chunk.to_vec());
        tasks.push(tokio::spawn(async move {
            for key in chunk {
                s3.put_object()
                    .bucket(B)
                    .key(&key)
                    .body(ByteStream::from_static(b"x"))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{key}: {e:?}"));
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

fn delete_of(keys: &[String], quiet: bool) -> Delete {
    let objects = keys
        .iter()
        .map(|k| ObjectIdentifier::builder().key(k).build().unwrap())
        .collect();
    Delete::builder()
        .set_objects(Some(objects))
        .quiet(quiet)
        .build()
        .unwrap()
}

async fn count(s3: &Client) -> usize {
    let mut pages = s3.list_objects_v2().bucket(B).into_paginator().send();
    let mut n = 0;
    while let Some(page) = pages.next().await {
        n += page.unwrap().contents().len();
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_keys_are_deleted_with_an_entry_each() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let s3 = s3_client(&server);
    s3.create_bucket().bucket(B).send().await.unwrap();
    let mut keys: Vec<String> = (0..988).map(|i| format!("batch/{i:04}")).collect();
    let odd = [
        "a & b",
        "<tag>",
        "ünïcödé/キー",
        "quote\"s",
        "emoji 😀",
        "cr\r\nlf",
        "bell\u{7}",
    ];
    keys.extend(odd.map(String::from));
    put_all(&s3, &keys).await;
    keys.extend((0..5).map(|i| format!("never-existed-{i}")));
    assert_eq!(keys.len(), 1000);

    let out = s3
        .delete_objects()
        .bucket(B)
        .delete(delete_of(&keys, false))
        .send()
        .await
        .unwrap();
    assert!(out.errors().is_empty(), "{:?}", out.errors());
    let mut deleted: Vec<String> = out
        .deleted()
        .iter()
        .map(|d| d.key().unwrap().to_owned())
        .collect();
    deleted.sort();
    let mut want = keys.clone();
    want.sort();
    assert_eq!(
        deleted, want,
        "a Deleted entry per key, missing ones included"
    );
    assert_eq!(count(&s3).await, 0);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quiet_mode_reports_nothing_but_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let s3 = s3_client(&server);
    s3.create_bucket().bucket(B).send().await.unwrap();
    let keys: Vec<String> = (0..20).map(|i| format!("quiet/{i}")).collect();
    put_all(&s3, &keys).await;
    let kept = "quiet/kept".to_owned();
    put_all(&s3, std::slice::from_ref(&kept)).await;

    let out = s3
        .delete_objects()
        .bucket(B)
        .delete(delete_of(&keys, true))
        .send()
        .await
        .unwrap();
    assert!(out.deleted().is_empty(), "{:?}", out.deleted());
    assert!(out.errors().is_empty(), "{:?}", out.errors());
    assert_eq!(count(&s3).await, 1);
    s3.head_object().bucket(B).key(&kept).send().await.unwrap();
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_a_thousand_keys_is_malformed_xml() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let s3 = s3_client(&server);
    s3.create_bucket().bucket(B).send().await.unwrap();
    let keys: Vec<String> = (0..1001).map(|i| format!("k{i}")).collect();
    put_all(&s3, &keys[..3]).await;
    let r = s3
        .delete_objects()
        .bucket(B)
        .delete(delete_of(&keys, false))
        .send()
        .await;
    assert_eq!(error_code_status(r), ("MalformedXML".to_owned(), 400));
    assert_eq!(count(&s3).await, 3, "nothing was deleted");

    let missing = s3
        .delete_objects()
        .bucket("no-such-bucket")
        .delete(delete_of(&keys[..1], false))
        .send()
        .await;
    assert_eq!(error_code_status(missing), ("NoSuchBucket".to_owned(), 404));
    server.stop();
}

/// `versionId` on a server without versioning: `null` names the object, any other id a
/// version that does not exist, which changes nothing. Before, every version id deleted or
/// returned the current object.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_id_never_acts_on_another_version() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let s3 = s3_client(&server);
    s3.create_bucket().bucket(B).send().await.unwrap();
    put_all(
        &s3,
        &["keep".to_owned(), "gone".to_owned(), "batch".to_owned()],
    )
    .await;
    // An id of this server's form that names no version, and one it never makes.
    let other = "7ffa0b1c2d3e4f50a1b2c3d4e5f60718";
    let malformed = "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrH";
    let r = s3
        .get_object()
        .bucket(B)
        .key("keep")
        .version_id(malformed)
        .send()
        .await;
    assert_eq!(error_code_status(r), ("InvalidArgument".to_owned(), 400));
    let r = s3
        .get_object()
        .bucket(B)
        .key("keep")
        .version_id(other)
        .send()
        .await;
    assert_eq!(error_code_status(r), ("NoSuchVersion".to_owned(), 404));
    let r = s3
        .head_object()
        .bucket(B)
        .key("keep")
        .version_id(other)
        .send()
        .await;
    assert_eq!(error_code_status(r).1, 404);
    let r = s3
        .get_object_acl()
        .bucket(B)
        .key("keep")
        .version_id(other)
        .send()
        .await;
    assert_eq!(error_code_status(r), ("NoSuchVersion".to_owned(), 404));
    let r = s3
        .get_object()
        .bucket(B)
        .key("keep")
        .version_id("")
        .send()
        .await;
    assert_eq!(error_code_status(r), ("InvalidArgument".to_owned(), 400));
    // Deleting a version that does not exist succeeds and deletes nothing, as S3 answers.
    let out = s3
        .delete_object()
        .bucket(B)
        .key("keep")
        .version_id(other)
        .send()
        .await
        .unwrap();
    assert_eq!(out.version_id(), Some(other));
    let batch = Delete::builder()
        .objects(
            ObjectIdentifier::builder()
                .key("batch")
                .version_id(malformed)
                .build()
                .unwrap(),
        )
        .objects(
            ObjectIdentifier::builder()
                .key("gone")
                .version_id("null")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let out = s3
        .delete_objects()
        .bucket(B)
        .delete(batch)
        .send()
        .await
        .unwrap();
    let errors: Vec<_> = out.errors().iter().map(|e| (e.key(), e.code())).collect();
    assert_eq!(errors, [(Some("batch"), Some("NoSuchVersion"))]);
    let deleted: Vec<_> = out
        .deleted()
        .iter()
        .map(|d| (d.key(), d.version_id()))
        .collect();
    assert_eq!(deleted, [(Some("gone"), Some("null"))]);
    for key in ["keep", "batch"] {
        s3.head_object().bucket(B).key(key).send().await.unwrap();
    }
    // `null` is the object itself.
    let got = s3
        .get_object()
        .bucket(B)
        .key("keep")
        .version_id("null")
        .send()
        .await
        .unwrap();
    assert_eq!(got.version_id(), Some("null"));
    s3.delete_object()
        .bucket(B)
        .key("keep")
        .version_id("null")
        .send()
        .await
        .unwrap();
    let r = s3.head_object().bucket(B).key("keep").send().await;
    assert_eq!(error_code_status(r).1, 404);
    let r = s3.head_object().bucket(B).key("gone").send().await;
    assert_eq!(error_code_status(r).1, 404);
}

/// A copy whose source names a version that does not exist copies nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_of_a_missing_version_copies_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let s3 = s3_client(&server);
    s3.create_bucket().bucket(B).send().await.unwrap();
    put_all(&s3, &["src".to_owned()]).await;
    let r = s3
        .copy_object()
        .bucket(B)
        .key("dst")
        .copy_source(format!("{B}/src?versionId=nonexistent"))
        .send()
        .await;
    assert_eq!(error_code_status(r), ("InvalidArgument".to_owned(), 400));
    let r = s3
        .copy_object()
        .bucket(B)
        .key("dst")
        .copy_source(format!(
            "{B}/src?versionId=7ffa0b1c2d3e4f50a1b2c3d4e5f60718"
        ))
        .send()
        .await;
    assert_eq!(error_code_status(r), ("NoSuchVersion".to_owned(), 404));
    let r = s3.head_object().bucket(B).key("dst").send().await;
    assert_eq!(error_code_status(r).1, 404);
    s3.copy_object()
        .bucket(B)
        .key("dst")
        .copy_source(format!("{B}/src?versionId=null"))
        .send()
        .await
        .unwrap();
    s3.head_object().bucket(B).key("dst").send().await.unwrap();
}
