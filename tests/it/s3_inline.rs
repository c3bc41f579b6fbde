//! Small objects stored inline in the object index (`backend.s3.inline_max`,
//! `docs/inline.md`): they read, range, answer conditions and checksums, version, copy and
//! complete multipart uploads exactly like objects in blob files, and have no file. Servers
//! here use small thresholds, and restart with another one to make copies cross it both ways.

use crate::common;

use std::path::Path;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketVersioningStatus, ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload,
    CompletedPart, VersioningConfiguration,
};
use aws_sdk_s3::Client;
use base64::Engine;
use common::{pattern, TestServer};

const B: &str = "inline";

fn start(dir: &Path, inline_max: &str) -> (TestServer, Client) {
    let server = TestServer::start_with(dir, &[("LABSTORE_BACKEND_S3_INLINE_MAX", inline_max)])
        .unwrap_or_else(|e| panic!("the server did not start: {e}"));
    let s3 = server.root_s3();
    (server, s3)
}

/// Segments and parts whose bytes are in the index.
fn inline_rows(dir: &Path) -> (i64, i64) {
    let db = rusqlite::Connection::open_with_flags(
        dir.join("data/metadata/objects.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let count = |table: &str| {
        db.query_row(
            &format!("SELECT count(*) FROM {table} WHERE data IS NOT NULL"),
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    (count("segments"), count("parts"))
}

async fn put(s3: &Client, key: &str, body: &[u8]) -> String {
    s3.put_object()
        .bucket(B)
        .key(key)
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {key}: {e:?}"))
        .e_tag()
        .unwrap()
        .to_owned()
}

async fn get(s3: &Client, key: &str, range: Option<&str>) -> Vec<u8> {
    s3.get_object()
        .bucket(B)
        .key(key)
        .set_range(range.map(str::to_owned))
        .send()
        .await
        .unwrap_or_else(|e| panic!("get {key} {range:?}: {e:?}"))
        .body
        .collect()
        .await
        .unwrap()
        .to_vec()
}

/// The HTTP status of a refused call.
fn status<E: std::fmt::Debug>(
    result: Result<impl std::fmt::Debug, SdkError<E, HttpResponse>>,
) -> u16 {
    match result {
        Ok(r) => panic!("expected a refusal, got {r:?}"),
        Err(e) => e
            .raw_response()
            .map(|r| r.status().as_u16())
            .unwrap_or_else(|| panic!("no response: {e:?}")),
    }
}

#[test]
fn small_objects_live_in_the_index_and_read_like_any_other() {
    if crate::common::postgres::sqlite_only("reads the inline rows in the SQLite index") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start(dir.path(), "1024");
    server.block_on(async {
        s3.create_bucket().bucket(B).send().await.unwrap();
        let (small, edge, over) = (pattern(1000, 1), pattern(1024, 2), pattern(1025, 3));
        let etag = put(&s3, "small", &small).await;
        put(&s3, "edge", &edge).await;
        put(&s3, "over", &over).await;
        put(&s3, "empty", b"").await;
        // Up to the threshold, inclusive, in the index; one byte more, in a file.
        assert_eq!(common::blob_files(dir.path()), 1);
        assert_eq!(inline_rows(dir.path()), (3, 0));

        assert_eq!(get(&s3, "small", None).await, small);
        assert_eq!(get(&s3, "edge", None).await, edge);
        assert_eq!(get(&s3, "over", None).await, over);
        assert!(get(&s3, "empty", None).await.is_empty());
        assert_eq!(get(&s3, "small", Some("bytes=10-19")).await, &small[10..20]);
        assert_eq!(get(&s3, "small", Some("bytes=-7")).await, &small[993..]);
        assert_eq!(get(&s3, "small", Some("bytes=990-")).await, &small[990..]);
        let unsatisfiable = s3
            .get_object()
            .bucket(B)
            .key("small")
            .range("bytes=1000-")
            .send()
            .await;
        assert_eq!(status(unsatisfiable), 416);

        // Conditions and checksums as for any object.
        let not_modified = s3
            .get_object()
            .bucket(B)
            .key("small")
            .if_none_match(&etag)
            .send()
            .await;
        assert_eq!(status(not_modified), 304);
        let failed = s3
            .get_object()
            .bucket(B)
            .key("small")
            .if_match("\"0123\"")
            .send()
            .await;
        assert_eq!(status(failed), 412);
        let read = s3
            .get_object()
            .bucket(B)
            .key("small")
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .unwrap();
        let expected =
            base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(&small).to_be_bytes());
        assert_eq!(read.checksum_crc32(), Some(expected.as_str()));
        let head = s3
            .head_object()
            .bucket(B)
            .key("small")
            .send()
            .await
            .unwrap();
        assert_eq!(head.content_length(), Some(1000));
        assert_eq!(head.e_tag(), Some(etag.as_str()));

        // Overwrites across the threshold replace the bytes wherever they were.
        put(&s3, "small", &over).await;
        assert_eq!(common::blob_files(dir.path()), 2);
        put(&s3, "small", &small).await;
        assert_eq!(common::blob_files(dir.path()), 1);
        assert_eq!(get(&s3, "small", None).await, small);
        s3.delete_object()
            .bucket(B)
            .key("small")
            .send()
            .await
            .unwrap();
        assert_eq!(inline_rows(dir.path()), (2, 0));
    });
    server.stop();
    // The bytes are in the database, so they survive a restart as it does.
    let (server, s3) = start(dir.path(), "1024");
    server.block_on(async {
        assert_eq!(get(&s3, "edge", None).await, pattern(1024, 2));
    });
    server.stop();
}

#[test]
fn versions_of_small_objects_keep_their_own_bytes() {
    if crate::common::postgres::sqlite_only("reads the inline rows in the SQLite index") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start(dir.path(), "4096");
    server.block_on(async {
        s3.create_bucket().bucket(B).send().await.unwrap();
        s3.put_bucket_versioning()
            .bucket(B)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let mut ids = Vec::new();
        for seed in 0..3u32 {
            let out = s3
                .put_object()
                .bucket(B)
                .key("k")
                .body(ByteStream::from(pattern(100 + seed as usize, seed)))
                .send()
                .await
                .unwrap();
            ids.push(out.version_id().unwrap().to_owned());
        }
        for (seed, id) in (0..3u32).zip(&ids) {
            let read = s3
                .get_object()
                .bucket(B)
                .key("k")
                .version_id(id)
                .send()
                .await
                .unwrap();
            let body = read.body.collect().await.unwrap().to_vec();
            assert_eq!(body, pattern(100 + seed as usize, seed));
        }
        s3.delete_object()
            .bucket(B)
            .key("k")
            .version_id(&ids[1])
            .send()
            .await
            .unwrap();
        // The deleted version's bytes went with its row.
        assert_eq!(inline_rows(dir.path()), (2, 0));
        assert_eq!(get(&s3, "k", None).await, pattern(102, 2));
        assert_eq!(common::blob_files(dir.path()), 0);
    });
    server.stop();
}

#[test]
fn copies_and_parts_cross_the_threshold_both_ways() {
    if crate::common::postgres::sqlite_only("reads the inline rows in the SQLite index") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (blobbed, inlined) = (pattern(2000, 4), pattern(3000, 5));
    // Stored in a blob: nothing is inline.
    let (server, s3) = start(dir.path(), "0");
    server.block_on(async {
        s3.create_bucket().bucket(B).send().await.unwrap();
        put(&s3, "blobbed", &blobbed).await;
    });
    server.stop();
    assert_eq!(
        (common::blob_files(dir.path()), inline_rows(dir.path())),
        (1, (0, 0))
    );

    // A copy small enough is stored inline, from a blob source; an object written now is too.
    let (server, s3) = start(dir.path(), "4096");
    server.block_on(async {
        let copy = |to: &'static str, from: &'static str| {
            s3.copy_object()
                .bucket(B)
                .key(to)
                .copy_source(format!("{B}/{from}"))
                .send()
        };
        copy("copy-in", "blobbed").await.unwrap();
        put(&s3, "inlined", &inlined).await;
        assert_eq!(get(&s3, "copy-in", None).await, blobbed);
    });
    server.stop();
    assert_eq!(
        (common::blob_files(dir.path()), inline_rows(dir.path())),
        (1, (2, 0))
    );

    // With a lower threshold, a copy of an inline source too large for it goes to a blob, and
    // a multipart upload mixes a part in a blob with a small part copied inline.
    let (server, s3) = start(dir.path(), "1024");
    server.block_on(async {
        s3.copy_object()
            .bucket(B)
            .key("copy-out")
            .copy_source(format!("{B}/inlined"))
            .send()
            .await
            .unwrap();
        assert_eq!(get(&s3, "copy-out", None).await, inlined);
        assert_eq!(common::blob_files(dir.path()), 2);

        let upload = s3
            .create_multipart_upload()
            .bucket(B)
            .key("mixed")
            .send()
            .await
            .unwrap();
        let id = upload.upload_id().unwrap();
        let first = pattern(5 * 1024 * 1024, 6);
        let one = s3
            .upload_part()
            .bucket(B)
            .key("mixed")
            .upload_id(id)
            .part_number(1)
            .body(ByteStream::from(first.clone()))
            .send()
            .await
            .unwrap();
        let two = s3
            .upload_part_copy()
            .bucket(B)
            .key("mixed")
            .upload_id(id)
            .part_number(2)
            .copy_source(format!("{B}/inlined"))
            .copy_source_range("bytes=100-899")
            .send()
            .await
            .unwrap();
        assert_eq!(inline_rows(dir.path()).1, 1, "the small part is inline");
        let parts = [
            (1, one.e_tag().unwrap().to_owned()),
            (
                2,
                two.copy_part_result().unwrap().e_tag().unwrap().to_owned(),
            ),
        ];
        s3.complete_multipart_upload()
            .bucket(B)
            .key("mixed")
            .upload_id(id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(
                        parts
                            .iter()
                            .map(|(n, e)| CompletedPart::builder().part_number(*n).e_tag(e).build())
                            .collect(),
                    ))
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let mut whole = first.clone();
        whole.extend_from_slice(&inlined[100..900]);
        assert_eq!(get(&s3, "mixed", None).await, whole);
        let boundary = format!("bytes={}-{}", first.len() - 10, first.len() + 9);
        assert_eq!(
            get(&s3, "mixed", Some(&boundary)).await,
            &whole[first.len() - 10..first.len() + 10]
        );
        let part = s3
            .get_object()
            .bucket(B)
            .key("mixed")
            .part_number(2)
            .send()
            .await
            .unwrap();
        assert_eq!(part.content_length(), Some(800));
        assert_eq!(
            part.body.collect().await.unwrap().to_vec(),
            &inlined[100..900]
        );
        // Completion moved the inline part into the object's segments.
        assert_eq!(inline_rows(dir.path()), (3, 0));
        assert_eq!(common::blob_files(dir.path()), 3);

        // An upload of one small part completes into an object stored inline.
        let upload = s3
            .create_multipart_upload()
            .bucket(B)
            .key("tiny")
            .send()
            .await
            .unwrap();
        let id = upload.upload_id().unwrap();
        let part = s3
            .upload_part()
            .bucket(B)
            .key("tiny")
            .upload_id(id)
            .part_number(3)
            .body(ByteStream::from_static(b"tiny part"))
            .send()
            .await
            .unwrap();
        s3.complete_multipart_upload()
            .bucket(B)
            .key("tiny")
            .upload_id(id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .parts(
                        CompletedPart::builder()
                            .part_number(3)
                            .e_tag(part.e_tag().unwrap())
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(get(&s3, "tiny", None).await, b"tiny part");
        assert_eq!(inline_rows(dir.path()), (4, 0));
        assert_eq!(common::blob_files(dir.path()), 3);
    });
    server.stop();
}
