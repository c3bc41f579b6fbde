//! Scrub: `labstore scrub` (offline) finds a flipped byte (plaintext and SSE-S3), a deleted
//! blob and a damaged upload part, marks them so that GET and the copies refuse them (500),
//! removes an orphan older than the grace and keeps a fresh one, and says so in its exit
//! status, summary and JSON report; a later pass clears a mark once the bytes are whole
//! again. `labstore admin verify` finds missing, short and orphaned blobs and changes
//! nothing. The background scrub finds the same.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ServerSideEncryption};

use crate::common::{self, command, TestServer};

const SIZE: usize = 200_000;

/// Plaintext by default, so that SSE is what a test asks for.
const PLAIN: (&str, &str) = (
    "LABSTORE_BACKEND_S3_NEW_BUCKETS_DEFAULT_ENCRYPTION",
    "false",
);

fn start(dir: &Path, env: &[(&str, &str)]) -> TestServer {
    let mut all = vec![PLAIN];
    all.extend_from_slice(env);
    TestServer::start_with(dir, &all).unwrap_or_else(|e| panic!("did not start: {e}"))
}

/// The blob file of `key`'s current version (its first segment).
fn blob_of(dir: &Path, key: &str) -> PathBuf {
    let db = rusqlite::Connection::open_with_flags(
        dir.join("data/metadata/objects.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let blob: String = db
        .query_row(
            "SELECT s.blob FROM segments s JOIN objects o ON o.id = s.object_id
              WHERE o.key = ?1 AND o.current = 1 ORDER BY s.idx LIMIT 1",
            [key],
            |r| r.get(0),
        )
        .unwrap();
    dir.join("data/objects").join(&blob[..2]).join(&blob)
}

/// The blob file of an upload's part.
fn part_blob(dir: &Path, upload: &str, number: u32) -> PathBuf {
    let db = rusqlite::Connection::open_with_flags(
        dir.join("data/metadata/objects.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let blob: String = db
        .query_row(
            "SELECT blob FROM parts WHERE upload_id = ?1 AND number = ?2",
            rusqlite::params![upload, number],
            |r| r.get(0),
        )
        .unwrap();
    dir.join("data/objects").join(&blob[..2]).join(&blob)
}

fn flip_byte(path: &Path, at: u64) {
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut byte = [0u8];
    file.seek(SeekFrom::Start(at)).unwrap();
    file.read_exact(&mut byte).unwrap();
    byte[0] ^= 0x40;
    file.seek(SeekFrom::Start(at)).unwrap();
    file.write_all(&byte).unwrap();
}

/// A file in the blob tree that no row refers to, last written `age` ago.
fn orphan(dir: &Path, id: &str, age: Duration) -> PathBuf {
    let shard = dir.join("data/objects").join(&id[..2]);
    std::fs::create_dir_all(&shard).unwrap();
    let path = shard.join(id);
    std::fs::write(&path, b"left behind").unwrap();
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
    path
}

fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = command(dir, args).output().expect("run labstore");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn report(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, seed: u32, sse: bool) -> Vec<u8> {
    let body = common::pattern(SIZE, seed);
    let mut put = s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.clone()));
    if sse {
        put = put.server_side_encryption(ServerSideEncryption::Aes256);
    }
    put.send().await.unwrap();
    body
}

/// The S3 error code and status of a failed call.
fn code_status<E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug, T: std::fmt::Debug>(
    result: Result<T, aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>>,
) -> (String, u16) {
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(aws_sdk_s3::error::SdkError::ServiceError(e)) => (
            e.err().code().unwrap_or_default().to_owned(),
            e.raw().status().as_u16(),
        ),
        Err(e) => panic!("not a service error: {e:?}"),
    }
}

/// The root's client without retries: a refusal is answered at once.
pub fn no_retries(server: &TestServer) -> aws_sdk_s3::Client {
    let config = server.root_s3().config().to_builder();
    aws_sdk_s3::Client::from_conf(
        config
            .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
            .build(),
    )
}

async fn get_bytes(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    out.body.collect().await.unwrap().into_bytes().to_vec()
}

#[test]
fn scrub_finds_flipped_bytes_and_missing_blobs_and_get_refuses_them() {
    if crate::common::postgres::sqlite_only(
        "damages rows of the SQLite index and runs the offline scrub",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bucket = "scrubbed";
    let (upload_id, sealed_body) = {
        let server = start(d, &[]);
        let s3 = server.root_s3();
        let written = server.block_on(async {
            s3.create_bucket().bucket(bucket).send().await.unwrap();
            put(&s3, bucket, "plain", 1, false).await;
            let sealed_body = put(&s3, bucket, "sealed", 2, true).await;
            put(&s3, bucket, "gone", 3, false).await;
            put(&s3, bucket, "fine", 4, false).await;
            s3.put_object()
                .bucket(bucket)
                .key("small")
                .body(ByteStream::from_static(b"inline bytes"))
                .send()
                .await
                .unwrap();
            let upload = s3
                .create_multipart_upload()
                .bucket(bucket)
                .key("parts")
                .send()
                .await
                .unwrap();
            let upload_id = upload.upload_id().unwrap().to_owned();
            s3.upload_part()
                .bucket(bucket)
                .key("parts")
                .upload_id(&upload_id)
                .part_number(1)
                .body(ByteStream::from(common::pattern(SIZE, 5)))
                .send()
                .await
                .unwrap();
            (upload_id, sealed_body)
        });
        // Offline only: the server holds the data directory.
        let (status, _, stderr) = run(d, &["scrub"]);
        assert_eq!(status, Some(1), "{stderr}");
        assert!(stderr.contains("another labstore process"), "{stderr}");
        written
    };
    // A clean store scrubs clean.
    let (status, stdout, stderr) = run(d, &["scrub"]);
    assert_eq!(status, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("0 corrupt, 0 missing"), "{stdout}");

    let sealed_blob = blob_of(d, "sealed");
    flip_byte(&blob_of(d, "plain"), 100_000);
    flip_byte(&sealed_blob, 70_000);
    std::fs::remove_file(blob_of(d, "gone")).unwrap();
    flip_byte(&part_blob(d, &upload_id, 1), 10);
    let old = orphan(
        d,
        "ab00000000000000000000000000cafe",
        Duration::from_secs(7200),
    );
    let fresh = orphan(
        d,
        "ab00000000000000000000000000beef",
        Duration::from_secs(5),
    );

    let report_file = d.join("scrub.json");
    let (status, stdout, stderr) = run(d, &["scrub", "--report", report_file.to_str().unwrap()]);
    assert_eq!(status, Some(3), "{stdout}{stderr}");
    assert!(
        stdout.contains("3 corrupt, 1 missing, 1 orphaned blob files removed"),
        "{stdout}"
    );
    let r = report(&report_file);
    assert_eq!(r["mode"], "scrub");
    assert_eq!(r["complete"], true);
    assert_eq!(r["objects_scanned"], 5, "{r}");
    assert_eq!(r["parts_scanned"], 1, "{r}");
    assert_eq!(
        (r["corrupt"].as_u64(), r["missing"].as_u64()),
        (Some(3), Some(1)),
        "{r}"
    );
    assert_eq!(r["marked_damaged"], 4, "{r}");
    assert_eq!(
        (r["orphans"].as_u64(), r["orphans_too_recent"].as_u64()),
        (Some(1), Some(1))
    );
    let findings = r["findings"].as_array().unwrap();
    let find = |kind: &str, key: &str| {
        findings
            .iter()
            .find(|f| f["kind"] == kind && f["key"] == key)
            .unwrap_or_else(|| panic!("no {kind} finding for {key}: {r}"))
    };
    assert_eq!(find("corrupt", "plain")["bucket"], bucket);
    assert!(find("corrupt", "plain")["version_id"].is_string());
    assert!(find("corrupt", "sealed")["detail"]
        .as_str()
        .unwrap()
        .contains("authentication"));
    assert_eq!(find("missing", "gone")["bucket"], bucket);
    assert_eq!(find("corrupt", "parts")["upload_id"], upload_id.as_str());
    assert!(findings
        .iter()
        .any(|f| f["kind"] == "orphan" && f["blob"] == "ab00000000000000000000000000cafe"));
    // The old orphan is gone, the fresh one (maybe an upload about to commit) kept.
    assert!(!old.exists());
    assert!(fresh.exists());
    // The log names what is damaged, at ERROR.
    assert!(
        stderr.contains("\"level\":\"ERROR\"") && stderr.contains("stored object data is corrupt"),
        "{stderr}"
    );

    let server = start(d, &[]);
    let s3 = no_retries(&server);
    server.block_on(async {
        for key in ["plain", "sealed", "gone"] {
            let refused = s3.get_object().bucket(bucket).key(key).send().await;
            assert_eq!(code_status(refused), ("InternalError".into(), 500), "{key}");
        }
        // Nor copied: a copy would spread wrong bytes.
        let copy = s3
            .copy_object()
            .bucket(bucket)
            .key("copy")
            .copy_source(format!("{bucket}/plain"))
            .send()
            .await;
        assert_eq!(code_status(copy), ("InternalError".into(), 500));
        // HEAD still tells what the object is.
        s3.head_object()
            .bucket(bucket)
            .key("plain")
            .send()
            .await
            .unwrap();
        assert_eq!(
            get_bytes(&s3, bucket, "fine").await,
            common::pattern(SIZE, 4)
        );
        assert_eq!(get_bytes(&s3, bucket, "small").await, b"inline bytes");
        // A damaged part cannot complete an upload; uploading it again can.
        let complete = |etag: String| {
            s3.complete_multipart_upload()
                .bucket(bucket)
                .key("parts")
                .upload_id(&upload_id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .parts(CompletedPart::builder().part_number(1).e_tag(etag).build())
                        .build(),
                )
                .send()
        };
        let etag = format!("\"{:x}\"", md5_of(&common::pattern(SIZE, 5)));
        assert_eq!(
            code_status(complete(etag.clone()).await),
            ("InvalidPart".into(), 400)
        );
        s3.upload_part()
            .bucket(bucket)
            .key("parts")
            .upload_id(&upload_id)
            .part_number(1)
            .body(ByteStream::from(common::pattern(SIZE, 5)))
            .send()
            .await
            .unwrap();
        complete(etag).await.unwrap();
        // A new version of a damaged key is whole.
        put(&s3, bucket, "plain", 6, false).await;
        assert_eq!(
            get_bytes(&s3, bucket, "plain").await,
            common::pattern(SIZE, 6)
        );
    });
    drop(server);

    // The encrypted blob restored (the byte flipped back): the next pass clears its mark.
    flip_byte(&sealed_blob, 70_000);
    let (status, stdout, stderr) = run(d, &["scrub", "--report", report_file.to_str().unwrap()]);
    assert_eq!(status, Some(3), "{stdout}{stderr}");
    let r = report(&report_file);
    assert_eq!(
        (r["corrupt"].as_u64(), r["missing"].as_u64()),
        (Some(0), Some(1)),
        "{r}"
    );
    assert_eq!(r["repaired"], 1, "{r}");
    let server = start(d, &[]);
    let s3 = server.root_s3();
    server.block_on(async {
        assert_eq!(get_bytes(&s3, bucket, "sealed").await, sealed_body);
    });
}

fn md5_of(data: &[u8]) -> impl std::fmt::LowerHex {
    use md5::Digest;
    md5::Md5::digest(data)
}

#[test]
fn admin_verify_compares_lengths_and_changes_nothing() {
    if crate::common::postgres::sqlite_only(
        "damages rows of the SQLite index and runs the offline scrub",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    {
        let server = start(d, &[]);
        let s3 = server.root_s3();
        server.block_on(async {
            s3.create_bucket().bucket("verified").send().await.unwrap();
            for (n, key) in ["short", "gone", "fine"].into_iter().enumerate() {
                put(&s3, "verified", key, u32::try_from(n).unwrap(), n == 2).await;
            }
        });
    }
    let (status, stdout, stderr) = run(d, &["admin", "verify"]);
    assert_eq!(status, Some(0), "{stdout}{stderr}");

    let short = blob_of(d, "short");
    std::fs::File::options()
        .write(true)
        .open(&short)
        .unwrap()
        .set_len(1000)
        .unwrap();
    std::fs::remove_file(blob_of(d, "gone")).unwrap();
    // A flipped byte keeps the length: verify does not read contents.
    flip_byte(&blob_of(d, "fine"), 5);
    let stray = orphan(
        d,
        "cd00000000000000000000000000f00d",
        Duration::from_secs(1),
    );
    let report_file = d.join("verify.json");
    let (status, stdout, stderr) = run(
        d,
        &["admin", "verify", "--report", report_file.to_str().unwrap()],
    );
    assert_eq!(status, Some(3), "{stdout}{stderr}");
    let r = report(&report_file);
    assert_eq!(r["mode"], "verify");
    assert_eq!(
        (
            r["corrupt"].as_u64(),
            r["missing"].as_u64(),
            r["orphans"].as_u64()
        ),
        (Some(1), Some(1), Some(1)),
        "{r}"
    );
    assert_eq!(r["bytes_scanned"], 0, "{r}");
    assert!(r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["key"] == "short"
            && f["detail"]
                .as_str()
                .unwrap()
                .contains("stored length is 1000 bytes")));
    // Nothing changed: the orphan is there, nothing is marked (the short object is served
    // as it is on disk: GET answers what the index cannot vouch for only after a scrub).
    assert!(stray.exists());
    let db = rusqlite::Connection::open(d.join("data/metadata/objects.db")).unwrap();
    let marked: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM segments WHERE damaged IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(marked, 0);
}

/// The value of the metric line starting `series `.
fn metric(server: &TestServer, series: &str) -> u64 {
    let body = common::get(server.admin, "/metrics").body;
    body.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {series} in {body}"))
        .parse()
        .unwrap()
}

#[test]
fn the_background_scrub_finds_damage_removes_old_orphans_and_counts_them() {
    if crate::common::postgres::sqlite_only(
        "damages rows of the SQLite index and runs the offline scrub",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = start(
        d,
        &[
            ("LABSTORE_BACKEND_S3_SCRUB_ENABLED", "true"),
            ("LABSTORE_BACKEND_S3_SCRUB_BYTES_PER_SECOND", "1073741824"),
            ("LABSTORE_BACKEND_S3_SCRUB_INTERVAL_SECONDS", "1"),
        ],
    );
    let s3 = server.root_s3();
    server.block_on(async {
        s3.create_bucket()
            .bucket("background")
            .send()
            .await
            .unwrap();
        put(&s3, "background", "rotting", 7, true).await;
        put(&s3, "background", "sound", 8, false).await;
    });
    let s3 = no_retries(&server);
    flip_byte(&blob_of(d, "rotting"), 150_000);
    let old = orphan(
        d,
        "ef00000000000000000000000000dead",
        Duration::from_secs(7200),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while metric(&server, "labstore_scrub_corrupt_total") < 1
        || old.exists()
        || metric(&server, "labstore_scrub_passes_total") < 1
    {
        assert!(
            Instant::now() < deadline,
            "the background scrub found nothing"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(metric(&server, "labstore_scrub_passes_total") >= 1);
    assert!(metric(&server, "labstore_scrub_bytes_scanned_total") >= SIZE as u64);
    assert!(metric(&server, "labstore_scrub_orphans_removed_total") >= 1);
    assert_eq!(metric(&server, "labstore_scrub_missing_total"), 0);
    server.block_on(async {
        let refused = s3
            .get_object()
            .bucket("background")
            .key("rotting")
            .send()
            .await;
        assert_eq!(code_status(refused), ("InternalError".into(), 500));
        assert_eq!(
            get_bytes(&s3, "background", "sound").await,
            common::pattern(SIZE, 8)
        );
    });
    // Its place in the pass is kept in the index, for a restart to resume.
    let db = rusqlite::Connection::open_with_flags(
        d.join("data/metadata/objects.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let rows: i64 = db
        .query_row("SELECT COUNT(*) FROM scrub_progress", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1);
}

#[test]
fn the_background_scrub_is_off_by_default() {
    if crate::common::postgres::sqlite_only(
        "damages rows of the SQLite index and runs the offline scrub",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let old = orphan(
        dir.path(),
        "ef00000000000000000000000000aaaa",
        Duration::from_secs(7200),
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(metric(&server, "labstore_scrub_running"), 0);
    assert_eq!(metric(&server, "labstore_scrub_passes_total"), 0);
    assert!(old.exists());
}

/// An unreferenced blob may still be in a running backup's snapshot: while a backup's hold is
/// live, the scrub leaves it to the hold (recorded for removal when the backup ends) instead of
/// removing it, and says so; once no hold is live, the next pass removes it.
#[test]
fn the_scrub_leaves_orphans_to_a_running_backups_hold() {
    if crate::common::postgres::sqlite_only(
        "damages rows of the SQLite index and runs the offline scrub",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    drop(start(d, &[]));
    let index = d.join("data/metadata/objects.db");
    let db = rusqlite::Connection::open(&index).unwrap();
    let now = i64::try_from(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    db.execute(
        "INSERT INTO backup_holds (started, pid, expires) VALUES (?1, 1, ?2)",
        (now, now + 3600),
    )
    .unwrap();
    let id = "cd00000000000000000000000000d00d";
    let old = orphan(d, id, Duration::from_secs(7200));

    let report_file = d.join("held.json");
    let (status, stdout, stderr) = run(d, &["scrub", "--report", report_file.to_str().unwrap()]);
    assert_eq!(status, Some(0), "{stdout}{stderr}");
    assert!(old.exists(), "a blob a backup may be copying was removed");
    let r = report(&report_file);
    assert_eq!(
        (r["orphans"].as_u64(), r["orphans_held"].as_u64()),
        (Some(0), Some(1)),
        "{r}"
    );
    assert!(stdout.contains("held by a running backup"), "{stdout}");
    let deferred: i64 = db
        .query_row(
            "SELECT count(*) FROM deferred_blobs WHERE blob = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(deferred, 1, "left for the hold's release to remove");

    db.execute("DELETE FROM backup_holds", []).unwrap();
    let (status, stdout, stderr) = run(d, &["scrub"]);
    assert_eq!(status, Some(0), "{stdout}{stderr}");
    assert!(!old.exists(), "no hold left: the orphan is removed");
}
