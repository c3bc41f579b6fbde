//! Disk full: below `backend.s3.min_free_bytes` every write of object data (PutObject,
//! CopyObject, UploadPart, UploadPartCopy, CompleteMultipartUpload) is refused with 503
//! SlowDown naming the cause before any byte is written, while reads, deletes and metadata
//! go on; `/ready` says degraded, `/health` stays ok, and writes are accepted again once the
//! volume is above the floor. (Running out of space for real, ENOSPC mid-write, is
//! `tests/e2e/checks_diskfull.py`: it needs a small tmpfs, so root.)

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

use crate::common::{self, TestServer};
use crate::scrub::no_retries;

/// Far above any disk's free space (the key's maximum: 1 PiB).
const HUGE: &str = "1125899906842624";

fn refused<T: std::fmt::Debug, E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>>,
) {
    match result {
        Err(aws_sdk_s3::error::SdkError::ServiceError(e)) => {
            assert_eq!(e.raw().status().as_u16(), 503);
            assert_eq!(e.err().code(), Some("SlowDown"));
            let message = e.err().message().unwrap_or_default();
            assert!(message.contains("short of storage space"), "{message}");
        }
        other => panic!("expected 503 SlowDown, got {other:?}"),
    }
}

fn ready(server: &TestServer) -> (u16, serde_json::Value) {
    let response = common::get(server.admin, "/ready");
    (
        response.status,
        serde_json::from_str(&response.body).unwrap(),
    )
}

fn metric(server: &TestServer, series: &str) -> u64 {
    let body = common::get(server.admin, "/metrics").body;
    body.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {series}"))
        .parse()
        .unwrap()
}

#[test]
fn below_the_floor_writes_are_refused_and_reads_and_deletes_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = common::start_with_root(dir.path());
    let s3 = no_retries(&server);
    let body = common::pattern(100_000, 3);
    let upload = server.block_on(async {
        s3.create_bucket().bucket("full").send().await.unwrap();
        for key in ["kept", "deleted"] {
            s3.put_object()
                .bucket("full")
                .key(key)
                .body(ByteStream::from(body.clone()))
                .send()
                .await
                .unwrap();
        }
        let upload = s3
            .create_multipart_upload()
            .bucket("full")
            .key("multi")
            .send()
            .await
            .unwrap();
        let id = upload.upload_id().unwrap().to_owned();
        let part = s3
            .upload_part()
            .bucket("full")
            .key("multi")
            .upload_id(&id)
            .part_number(1)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap();
        (id, part.e_tag().unwrap().to_owned())
    });
    assert_eq!(ready(&server).1["status"], "ready");
    let files = common::blob_files(dir.path());

    server.state().blobs.space().set_floor(u64::MAX);
    server.block_on(async {
        refused(
            s3.put_object()
                .bucket("full")
                .key("new")
                .body(ByteStream::from(body.clone()))
                .send()
                .await,
        );
        refused(
            s3.copy_object()
                .bucket("full")
                .key("copy")
                .copy_source("full/kept")
                .send()
                .await,
        );
        refused(
            s3.upload_part()
                .bucket("full")
                .key("multi")
                .upload_id(&upload.0)
                .part_number(2)
                .body(ByteStream::from(body.clone()))
                .send()
                .await,
        );
        refused(
            s3.upload_part_copy()
                .bucket("full")
                .key("multi")
                .upload_id(&upload.0)
                .part_number(3)
                .copy_source("full/kept")
                .send()
                .await,
        );
        let completion = CompletedMultipartUpload::builder()
            .parts(
                CompletedPart::builder()
                    .part_number(1)
                    .e_tag(&upload.1)
                    .build(),
            )
            .build();
        refused(
            s3.complete_multipart_upload()
                .bucket("full")
                .key("multi")
                .upload_id(&upload.0)
                .multipart_upload(completion)
                .send()
                .await,
        );
        // Reads, listings and deletes (which free space) go on; so do metadata writes.
        let got = s3
            .get_object()
            .bucket("full")
            .key("kept")
            .send()
            .await
            .unwrap();
        assert_eq!(
            got.body.collect().await.unwrap().into_bytes().to_vec(),
            body
        );
        s3.list_objects_v2().bucket("full").send().await.unwrap();
        s3.delete_object()
            .bucket("full")
            .key("deleted")
            .send()
            .await
            .unwrap();
        s3.create_bucket().bucket("metadata").send().await.unwrap();
        // Nothing was written by the refused writes: one blob fewer (the delete), no temp file.
        assert_eq!(common::blob_files(dir.path()), files - 1);
        let tmp = std::fs::read_dir(dir.path().join("data/objects/tmp"))
            .unwrap()
            .count();
        assert_eq!(tmp, 0);
    });
    let (status, json) = ready(&server);
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["status"], "degraded", "{json}");
    assert!(json["degraded"][0]
        .as_str()
        .unwrap()
        .contains("min_free_bytes"));
    assert_eq!(common::get(server.admin, "/health").status, 200);
    assert_eq!(metric(&server, "labstore_storage_low"), 1);
    assert!(metric(&server, "labstore_storage_writes_refused_total") >= 5);
    assert!(metric(&server, "labstore_storage_free_bytes") > 0);

    // Space back (here: the floor lowered): writes are accepted again.
    server.state().blobs.space().set_floor(1);
    assert_eq!(ready(&server).1["status"], "ready");
    assert_eq!(metric(&server, "labstore_storage_low"), 0);
    server.block_on(async {
        s3.put_object()
            .bucket("full")
            .key("new")
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap();
        let completion = CompletedMultipartUpload::builder()
            .parts(
                CompletedPart::builder()
                    .part_number(1)
                    .e_tag(&upload.1)
                    .build(),
            )
            .build();
        s3.complete_multipart_upload()
            .bucket("full")
            .key("multi")
            .upload_id(&upload.0)
            .multipart_upload(completion)
            .send()
            .await
            .unwrap();
    });
}

/// The floor comes from the configuration, and is checked from the first request.
#[test]
fn the_configured_floor_refuses_writes_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let server =
        TestServer::start_with(dir.path(), &[("LABSTORE_BACKEND_S3_MIN_FREE_BYTES", HUGE)])
            .unwrap();
    let s3 = no_retries(&server);
    server.block_on(async {
        s3.create_bucket().bucket("floor").send().await.unwrap();
        refused(
            s3.put_object()
                .bucket("floor")
                .key("k")
                .body(ByteStream::from_static(b"x"))
                .send()
                .await,
        );
    });
    assert_eq!(ready(&server).1["status"], "degraded");
    assert_eq!(metric(&server, "labstore_storage_min_free_bytes"), 1 << 50);
}

/// A write whose index commit meets a full volume (here: the writer connection's
/// `max_page_count` at the database's size, which SQLite answers as it answers a full disk,
/// SQLITE_FULL) is answered 503 SlowDown, leaves no row and no blob, and the server goes on
/// serving; once there is room, writes succeed.
#[test]
fn a_full_object_index_answers_503_and_leaves_nothing_behind() {
    if crate::common::postgres::sqlite_only("fills the SQLite index's volume") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = common::start_with_root(dir.path());
    let s3 = no_retries(&server);
    let set_max_pages = |pages: Option<i64>| {
        server
            .block_on(server.state().objects.db().write(move |conn| {
                let now: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
                let max = pages.unwrap_or(now);
                conn.query_row(&format!("PRAGMA max_page_count = {max}"), [], |r| {
                    r.get::<_, i64>(0)
                })?;
                Ok::<_, labstore::db::DbError>(())
            }))
            .unwrap();
    };
    server.block_on(async {
        s3.create_bucket().bucket("index").send().await.unwrap();
    });
    set_max_pages(None);
    let body = common::pattern(60_000, 9);
    let (mut stored, mut failed) = (Vec::new(), None);
    server.block_on(async {
        for n in 0..50 {
            let key = format!("k{n}");
            for (name, size) in [("inline", 60_000), ("blob", 100_000)] {
                let key = format!("{key}-{name}");
                let put = s3
                    .put_object()
                    .bucket("index")
                    .key(&key)
                    .body(ByteStream::from(common::pattern(size, 9)))
                    .send()
                    .await;
                match put {
                    Ok(_) => stored.push(key),
                    Err(e) => {
                        refused::<(), _>(Err(e));
                        failed = Some(key);
                    }
                }
            }
            if failed.is_some() {
                break;
            }
        }
    });
    let failed = failed.expect("the capped index never filled up");
    server.block_on(async {
        let absent = s3.head_object().bucket("index").key(&failed).send().await;
        assert!(absent.is_err(), "{failed} was stored");
        for key in &stored {
            let got = s3
                .get_object()
                .bucket("index")
                .key(key)
                .send()
                .await
                .unwrap();
            let size = if key.ends_with("inline") {
                60_000
            } else {
                100_000
            };
            assert_eq!(
                got.body.collect().await.unwrap().into_bytes().to_vec(),
                common::pattern(size, 9)
            );
        }
    });
    // The refused write's blob (if it had one) was removed: only the stored objects' remain.
    let blobs = stored.iter().filter(|k| k.ends_with("blob")).count();
    assert_eq!(common::blob_files(dir.path()), blobs);
    set_max_pages(Some(1 << 30));
    server.block_on(async {
        s3.put_object()
            .bucket("index")
            .key(&failed)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap();
    });
}
