//! SSE-S3 (`docs/encryption.md`): `x-amz-server-side-encryption: AES256` on every write and
//! in every answer S3 shows it in, the bucket default encryption, copies both ways,
//! multipart, versions, inline and blob sizes, no plaintext byte on disk, and tamper
//! evidence (a flipped byte fails the read; a range that avoids it still reads).

use crate::common;

use std::path::{Path, PathBuf};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketVersioningStatus, CompletedMultipartUpload, CompletedPart, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    VersioningConfiguration,
};
use aws_sdk_s3::Client;
use common::{error_code_status, pattern, TestServer};

/// A server whose new buckets get no default encryption (unless `default_on`).
fn start(dir: &Path, default_on: bool) -> (TestServer, Client) {
    let on = if default_on { "true" } else { "false" };
    let server = TestServer::start_with(
        dir,
        &[("LABSTORE_BACKEND_S3_NEW_BUCKETS_DEFAULT_ENCRYPTION", on)],
    )
    .unwrap_or_else(|e| panic!("the server did not start: {e}"));
    let s3 = server.root_s3();
    (server, s3)
}

async fn put_sse(s3: &Client, bucket: &str, key: &str, body: &[u8], sse: bool) -> Option<String> {
    let out = s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .set_server_side_encryption(sse.then_some(ServerSideEncryption::Aes256))
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
    out.server_side_encryption().map(|s| s.as_str().to_owned())
}

async fn get(
    s3: &Client,
    bucket: &str,
    key: &str,
    range: Option<&str>,
) -> (Vec<u8>, Option<String>) {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .set_range(range.map(str::to_owned))
        .send()
        .await
        .unwrap_or_else(|e| panic!("get {key} {range:?}: {e:?}"));
    let sse = out.server_side_encryption().map(|s| s.as_str().to_owned());
    (out.body.collect().await.unwrap().to_vec(), sse)
}

async fn head_sse(s3: &Client, bucket: &str, key: &str) -> Option<String> {
    s3.head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("head {key}: {e:?}"))
        .server_side_encryption()
        .map(|s| s.as_str().to_owned())
}

#[expect(
    clippy::unnecessary_wraps,
    reason = "compared with the Option the helpers return"
)]
fn aes() -> Option<String> {
    Some("AES256".to_owned())
}

#[test]
fn the_header_encrypts_and_every_answer_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start(dir.path(), false);
    server.block_on(async {
        s3.create_bucket().bucket("bkt").send().await.unwrap();
        // Inline (empty, small, at the threshold) and blob sizes (read whole, streamed).
        for (i, len) in [0usize, 10, 65_536, 65_537, 300 * 1024, 3 * 1024 * 1024 + 5]
            .into_iter()
            .enumerate()
        {
            let body = pattern(len, u32::try_from(i).unwrap());
            let key = format!("enc-{len}");
            assert_eq!(put_sse(&s3, "bkt", &key, &body, true).await, aes(), "{len}");
            assert_eq!(head_sse(&s3, "bkt", &key).await, aes());
            let (read, sse) = get(&s3, "bkt", &key, None).await;
            assert!(read == body, "{len}: the bytes read back differ");
            assert_eq!(sse, aes());
            if len > 100 {
                let (read, sse) = get(&s3, "bkt", &key, Some("bytes=50-99")).await;
                assert_eq!(read, &body[50..100]);
                assert_eq!(sse, aes());
                let from = len - 70_000.min(len - 1);
                let (read, _) = get(&s3, "bkt", &key, Some(&format!("bytes={from}-"))).await;
                assert!(read == body[from..], "{len}: tail range");
            }
        }
        // Without the header, on a bucket without a default: plain, and no header.
        assert_eq!(put_sse(&s3, "bkt", "plain", b"plain", false).await, None);
        assert_eq!(head_sse(&s3, "bkt", "plain").await, None);
        assert_eq!(get(&s3, "bkt", "plain", None).await.1, None);
    });
}

#[test]
fn kms_is_not_implemented_and_other_values_are_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start(dir.path(), false);
    server.block_on(async {
        s3.create_bucket().bucket("bkt").send().await.unwrap();
        let put = |sse: ServerSideEncryption| {
            s3.put_object()
                .bucket("bkt")
                .key("k")
                .server_side_encryption(sse)
                .body(ByteStream::from_static(b"x"))
                .send()
        };
        for kms in [
            ServerSideEncryption::AwsKms,
            ServerSideEncryption::AwsKmsDsse,
        ] {
            let (code, status) = error_code_status(put(kms).await);
            assert_eq!((code.as_str(), status), ("NotImplemented", 501));
        }
        let (code, status) = error_code_status(put(ServerSideEncryption::from("DES")).await);
        assert_eq!((code.as_str(), status), ("InvalidArgument", 400));
        let with_key_id = s3
            .put_object()
            .bucket("bkt")
            .key("k")
            .server_side_encryption(ServerSideEncryption::Aes256)
            .ssekms_key_id("some-key")
            .body(ByteStream::from_static(b"x"))
            .send()
            .await;
        assert_eq!(error_code_status(with_key_id).0, "NotImplemented");
        let sse_c = s3
            .put_object()
            .bucket("bkt")
            .key("k")
            .sse_customer_algorithm("AES256")
            .sse_customer_key("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
            .sse_customer_key_md5("ZXZ0aGluZw==")
            .body(ByteStream::from_static(b"x"))
            .send()
            .await;
        // SSE-C is implemented (`s3_sse_c.rs`), but not over plain HTTP.
        assert_eq!(error_code_status(sse_c), ("InvalidRequest".to_owned(), 400));
        let multipart = s3
            .create_multipart_upload()
            .bucket("bkt")
            .key("k")
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .send()
            .await;
        assert_eq!(error_code_status(multipart).0, "NotImplemented");
        // Nothing was stored by the refusals.
        let listed = s3.list_objects_v2().bucket("bkt").send().await.unwrap();
        assert_eq!(listed.key_count(), Some(0));
    });
}

fn sse_s3_config(bucket_key: Option<bool>) -> ServerSideEncryptionConfiguration {
    ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(
                    ServerSideEncryptionByDefault::builder()
                        .sse_algorithm(ServerSideEncryption::Aes256)
                        .build()
                        .unwrap(),
                )
                .set_bucket_key_enabled(bucket_key)
                .build(),
        )
        .build()
        .unwrap()
}

async fn default_encryption(s3: &Client, bucket: &str) -> Result<(String, Option<bool>), String> {
    match s3.get_bucket_encryption().bucket(bucket).send().await {
        Ok(out) => {
            let rule = &out.server_side_encryption_configuration().unwrap().rules()[0];
            let algorithm = rule
                .apply_server_side_encryption_by_default()
                .unwrap()
                .sse_algorithm()
                .as_str()
                .to_owned();
            Ok((algorithm, rule.bucket_key_enabled()))
        }
        Err(e) => Err(error_code_status(Err::<(), _>(e)).0),
    }
}

#[test]
fn bucket_default_encryption_applies_to_writes_without_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start(dir.path(), false);
    server.block_on(async {
        s3.create_bucket().bucket("bkt").send().await.unwrap();
        assert_eq!(
            default_encryption(&s3, "bkt").await,
            Err("ServerSideEncryptionConfigurationNotFoundError".to_owned())
        );
        s3.put_bucket_encryption()
            .bucket("bkt")
            .server_side_encryption_configuration(sse_s3_config(Some(true)))
            .send()
            .await
            .unwrap();
        assert_eq!(
            default_encryption(&s3, "bkt").await,
            Ok(("AES256".to_owned(), Some(true)))
        );
        assert_eq!(put_sse(&s3, "bkt", "k", b"by default", false).await, aes());
        assert_eq!(head_sse(&s3, "bkt", "k").await, aes());
        assert_eq!(
            get(&s3, "bkt", "k", None).await,
            (b"by default".to_vec(), aes())
        );
        // A multipart upload takes the default too.
        let created = s3
            .create_multipart_upload()
            .bucket("bkt")
            .key("mp")
            .send()
            .await
            .unwrap();
        assert_eq!(
            created.server_side_encryption(),
            Some(&ServerSideEncryption::Aes256)
        );
        s3.abort_multipart_upload()
            .bucket("bkt")
            .key("mp")
            .upload_id(created.upload_id().unwrap())
            .send()
            .await
            .unwrap();
        // KMS defaults are not implemented.
        let kms = ServerSideEncryptionConfiguration::builder()
            .rules(
                ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(
                        ServerSideEncryptionByDefault::builder()
                            .sse_algorithm(ServerSideEncryption::AwsKms)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .build()
            .unwrap();
        let refused = s3
            .put_bucket_encryption()
            .bucket("bkt")
            .server_side_encryption_configuration(kms)
            .send()
            .await;
        assert_eq!(error_code_status(refused).0, "NotImplemented");
        // Removed: new writes are plain again; the encrypted object stays readable.
        s3.delete_bucket_encryption()
            .bucket("bkt")
            .send()
            .await
            .unwrap();
        assert_eq!(
            default_encryption(&s3, "bkt").await,
            Err("ServerSideEncryptionConfigurationNotFoundError".to_owned())
        );
        assert_eq!(put_sse(&s3, "bkt", "after", b"plain", false).await, None);
        assert_eq!(
            get(&s3, "bkt", "k", None).await,
            (b"by default".to_vec(), aes())
        );
        let missing = s3.get_bucket_encryption().bucket("nope").send().await;
        assert_eq!(error_code_status(missing).0, "NoSuchBucket");
    });
}

#[test]
fn new_buckets_get_sse_s3_by_default_and_delete_resets_it() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start(dir.path(), true);
    server.block_on(async {
        s3.create_bucket().bucket("bkt").send().await.unwrap();
        assert_eq!(
            default_encryption(&s3, "bkt").await,
            Ok(("AES256".to_owned(), None))
        );
        assert_eq!(put_sse(&s3, "bkt", "k", b"x", false).await, aes());
        // As on S3: deleting the configuration resets it to SSE-S3.
        s3.delete_bucket_encryption()
            .bucket("bkt")
            .send()
            .await
            .unwrap();
        assert_eq!(
            default_encryption(&s3, "bkt").await,
            Ok(("AES256".to_owned(), None))
        );
        assert_eq!(put_sse(&s3, "bkt", "k2", b"x", false).await, aes());
    });
    drop(server);
    // A bucket made before the key was turned on keeps what it had.
    let (server, s3) = start(dir.path(), false);
    server.block_on(async {
        assert_eq!(
            default_encryption(&s3, "bkt").await,
            Ok(("AES256".to_owned(), None))
        );
        s3.create_bucket().bucket("plain").send().await.unwrap();
        assert!(default_encryption(&s3, "plain").await.is_err());
    });
}

#[test]
fn copies_take_the_destination_setting_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start(dir.path(), false);
    server.block_on(async {
        s3.create_bucket().bucket("bkt").send().await.unwrap();
        for len in [100usize, 200 * 1024] {
            let body = pattern(len, 7);
            let plain = format!("plain-{len}");
            let enc = format!("enc-{len}");
            put_sse(&s3, "bkt", &plain, &body, false).await;
            // Plain to encrypted.
            let copied = s3
                .copy_object()
                .bucket("bkt")
                .key(&enc)
                .copy_source(format!("bkt/{plain}"))
                .server_side_encryption(ServerSideEncryption::Aes256)
                .send()
                .await
                .unwrap();
            assert_eq!(
                copied.server_side_encryption(),
                Some(&ServerSideEncryption::Aes256)
            );
            assert_eq!(get(&s3, "bkt", &enc, None).await, (body.clone(), aes()));
            // Encrypted to plain: the source's encryption is not copied.
            let back = format!("back-{len}");
            let copied = s3
                .copy_object()
                .bucket("bkt")
                .key(&back)
                .copy_source(format!("bkt/{enc}"))
                .send()
                .await
                .unwrap();
            assert_eq!(copied.server_side_encryption(), None);
            assert_eq!(get(&s3, "bkt", &back, None).await, (body.clone(), None));
            // Encrypted onto itself with the header: a change S3 allows; a new key.
            s3.copy_object()
                .bucket("bkt")
                .key(&enc)
                .copy_source(format!("bkt/{enc}"))
                .server_side_encryption(ServerSideEncryption::Aes256)
                .send()
                .await
                .unwrap();
            assert_eq!(get(&s3, "bkt", &enc, None).await, (body.clone(), aes()));
        }
    });
}

#[test]
fn multipart_parts_are_encrypted_and_completion_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start(dir.path(), false);
    server.block_on(async {
        s3.create_bucket().bucket("bkt").send().await.unwrap();
        let created = s3
            .create_multipart_upload()
            .bucket("bkt")
            .key("mp")
            .server_side_encryption(ServerSideEncryption::Aes256)
            .send()
            .await
            .unwrap();
        assert_eq!(
            created.server_side_encryption(),
            Some(&ServerSideEncryption::Aes256)
        );
        let id = created.upload_id().unwrap();
        let parts = [pattern(5 * 1024 * 1024 + 3, 1), pattern(5 * 1024 * 1024, 2)];
        let mut done = Vec::new();
        for (i, body) in parts.iter().enumerate() {
            let n = i32::try_from(i).unwrap() + 1;
            let out = s3
                .upload_part()
                .bucket("bkt")
                .key("mp")
                .upload_id(id)
                .part_number(n)
                .body(ByteStream::from(body.clone()))
                .send()
                .await
                .unwrap();
            assert_eq!(
                out.server_side_encryption(),
                Some(&ServerSideEncryption::Aes256)
            );
            done.push(
                CompletedPart::builder()
                    .part_number(n)
                    .e_tag(out.e_tag().unwrap())
                    .build(),
            );
        }
        // A part copied from a plain object is encrypted under the upload's key.
        put_sse(&s3, "bkt", "src", &pattern(3000, 3), false).await;
        let copied = s3
            .upload_part_copy()
            .bucket("bkt")
            .key("mp")
            .upload_id(id)
            .part_number(3)
            .copy_source("bkt/src")
            .send()
            .await
            .unwrap();
        assert_eq!(
            copied.server_side_encryption(),
            Some(&ServerSideEncryption::Aes256)
        );
        done.push(
            CompletedPart::builder()
                .part_number(3)
                .e_tag(copied.copy_part_result().unwrap().e_tag().unwrap())
                .build(),
        );
        let completed = s3
            .complete_multipart_upload()
            .bucket("bkt")
            .key("mp")
            .upload_id(id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(done))
                    .build(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            completed.server_side_encryption(),
            Some(&ServerSideEncryption::Aes256)
        );
        let whole: Vec<u8> = [parts[0].clone(), parts[1].clone(), pattern(3000, 3)].concat();
        let (read, sse) = get(&s3, "bkt", "mp", None).await;
        assert!(read == whole, "the completed object differs");
        assert_eq!(sse, aes());
        // A range across the part boundary, and a part by number.
        let edge = parts[0].len();
        let (read, _) = get(
            &s3,
            "bkt",
            "mp",
            Some(&format!("bytes={}-{}", edge - 10, edge + 9)),
        )
        .await;
        assert_eq!(read, &whole[edge - 10..edge + 10]);
        let part2 = s3
            .get_object()
            .bucket("bkt")
            .key("mp")
            .part_number(2)
            .send()
            .await
            .unwrap();
        assert_eq!(part2.body.collect().await.unwrap().to_vec(), parts[1]);
        assert_eq!(head_sse(&s3, "bkt", "mp").await, aes());
    });
}

#[test]
fn every_version_has_its_own_key() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start(dir.path(), true);
    server.block_on(async {
        s3.create_bucket().bucket("ver").send().await.unwrap();
        s3.put_bucket_versioning()
            .bucket("ver")
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let mut ids = Vec::new();
        for i in 0..3u32 {
            let out = s3
                .put_object()
                .bucket("ver")
                .key("k")
                .body(ByteStream::from(pattern(70_000, i)))
                .send()
                .await
                .unwrap();
            assert_eq!(
                out.server_side_encryption(),
                Some(&ServerSideEncryption::Aes256)
            );
            ids.push(out.version_id().unwrap().to_owned());
        }
        for (i, id) in ids.iter().enumerate() {
            let out = s3
                .get_object()
                .bucket("ver")
                .key("k")
                .version_id(id)
                .send()
                .await
                .unwrap();
            assert_eq!(
                out.server_side_encryption(),
                Some(&ServerSideEncryption::Aes256)
            );
            let read = out.body.collect().await.unwrap().to_vec();
            assert!(
                read == pattern(70_000, u32::try_from(i).unwrap()),
                "version {i}"
            );
        }
    });
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn files_holding(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    files(dir)
        .into_iter()
        .filter(|f| {
            std::fs::read(f).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
        })
        .collect()
}

#[test]
fn no_plaintext_byte_of_an_encrypted_object_is_on_disk() {
    if crate::common::postgres::sqlite_only("damages or scans the SQLite index") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start(dir.path(), true);
    let marker = b"LABSTORE-SSE-PLAINTEXT-MARKER-7f3a9c";
    let body = |len: usize| -> Vec<u8> { marker.iter().copied().cycle().take(len).collect() };
    server.block_on(async {
        s3.create_bucket().bucket("bkt").send().await.unwrap();
        // Inline, blob, and a multipart upload with an inline and a blob part.
        put_sse(&s3, "bkt", "inline", &body(1000), false).await;
        put_sse(&s3, "bkt", "blob", &body(500 * 1024), false).await;
        let id = s3
            .create_multipart_upload()
            .bucket("bkt")
            .key("mp")
            .send()
            .await
            .unwrap()
            .upload_id()
            .unwrap()
            .to_owned();
        let mut done = Vec::new();
        for (n, len) in [(1, 5 * 1024 * 1024), (2, 100)] {
            let out = s3
                .upload_part()
                .bucket("bkt")
                .key("mp")
                .upload_id(&id)
                .part_number(n)
                .body(ByteStream::from(body(len)))
                .send()
                .await
                .unwrap();
            done.push(
                CompletedPart::builder()
                    .part_number(n)
                    .e_tag(out.e_tag().unwrap())
                    .build(),
            );
        }
        // Before completion the parts are on disk too.
        assert_eq!(
            files_holding(&dir.path().join("data"), marker),
            Vec::<PathBuf>::new()
        );
        s3.complete_multipart_upload()
            .bucket("bkt")
            .key("mp")
            .upload_id(&id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(done))
                    .build(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(get(&s3, "bkt", "inline", None).await.0, body(1000));
    });
    let data = dir.path().join("data");
    // Blob files, the object index, its WAL and shared memory: no plaintext run.
    assert_eq!(files_holding(&data, marker), Vec::<PathBuf>::new());
    drop(server);
    let (server, s3) = start(dir.path(), false);
    server.block_on(async {
        s3.create_bucket().bucket("plain2").send().await.unwrap();
        put_sse(&s3, "plain2", "control", &body(1000), false).await;
    });
    // The same bytes written plain are found: the scan sees the index and its WAL.
    assert!(
        !files_holding(&data, marker).is_empty(),
        "the scan finds plaintext"
    );
}

/// The blob file of `key`'s (only) segment in bucket `b`.
fn blob_of(dir: &Path, key: &str) -> PathBuf {
    let db = rusqlite::Connection::open_with_flags(
        dir.join("data/metadata/objects.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let blob: String = db
        .query_row(
            "SELECT s.blob FROM segments s JOIN objects o ON o.id = s.object_id
             WHERE o.bucket = 'bkt' AND o.key = ?1 AND o.current = 1",
            [key],
            |r| r.get(0),
        )
        .unwrap();
    dir.join("data/objects").join(&blob[..2]).join(&blob)
}

fn flip(path: &Path, at: u64) {
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    let mut byte = [0u8];
    f.read_exact(&mut byte).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(&[byte[0] ^ 0x01]).unwrap();
    f.sync_all().unwrap();
}

#[test]
fn a_flipped_byte_fails_the_read_and_ranges_around_it_still_read() {
    if crate::common::postgres::sqlite_only("damages or scans the SQLite index") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start(dir.path(), true);
    let big = pattern(2 * 1024 * 1024, 9);
    let small = pattern(100 * 1024, 10);
    server.block_on(async {
        s3.create_bucket().bucket("bkt").send().await.unwrap();
        put_sse(&s3, "bkt", "big", &big, false).await;
        put_sse(&s3, "bkt", "small", &small, false).await;
        put_sse(&s3, "bkt", "inline", &pattern(5000, 11), false).await;
    });
    // A byte in the 20th chunk (about 1.25 MiB in) of the streamed object; one in the second
    // chunk of the one read whole.
    flip(&blob_of(dir.path(), "big"), 8 + 20 * (65_536 + 16) + 100);
    flip(&blob_of(dir.path(), "small"), 8 + (65_536 + 16) + 5);
    // And a byte of the inline row's stored bytes.
    {
        let db = rusqlite::Connection::open(dir.path().join("data/metadata/objects.db")).unwrap();
        db.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
        let (id, mut data): (i64, Vec<u8>) = db
            .query_row(
                "SELECT object_id, data FROM segments
                 WHERE object_id = (SELECT id FROM objects WHERE bucket = 'bkt' AND key = 'inline')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        data[100] ^= 0x01;
        db.execute(
            "UPDATE segments SET data = ?2 WHERE object_id = ?1",
            rusqlite::params![id, data],
        )
        .unwrap();
    }
    server.block_on(async {
        // Streamed: the status went out first; the body fails, never completes cleanly.
        let out = s3
            .get_object()
            .bucket("bkt")
            .key("big")
            .send()
            .await
            .unwrap();
        let body = out.body.collect().await;
        assert!(body.is_err(), "a tampered object must not read to the end");
        // Read whole: an error answer.
        let refused = s3.get_object().bucket("bkt").key("small").send().await;
        assert_eq!(
            error_code_status(refused),
            ("InternalError".to_owned(), 500)
        );
        let refused = s3.get_object().bucket("bkt").key("inline").send().await;
        assert_eq!(error_code_status(refused).1, 500);
        // Ranges that avoid the damaged chunk read.
        let (read, _) = get(&s3, "bkt", "big", Some("bytes=0-1048575")).await;
        assert!(read == big[..1024 * 1024], "the undamaged range");
        let (read, _) = get(&s3, "bkt", "big", Some("bytes=1500000-")).await;
        assert!(read == big[1_500_000..], "the undamaged tail");
        let (read, _) = get(&s3, "bkt", "small", Some("bytes=0-100")).await;
        assert_eq!(read, &small[..=100]);
        // A copy of the damaged object fails too, and leaves no copy.
        let copy = s3
            .copy_object()
            .bucket("bkt")
            .key("copy")
            .copy_source("bkt/big")
            .send()
            .await;
        assert!(copy.is_err());
        assert!(s3
            .head_object()
            .bucket("bkt")
            .key("copy")
            .send()
            .await
            .is_err());
    });
}

#[test]
fn policies_read_the_requested_encryption_as_a_condition_key() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start(dir.path(), true);
    server.block_on(async {
        s3.create_bucket().bucket("bkt").send().await.unwrap();
        // Uploads allowed only when they ask for SSE-S3 themselves: the bucket default sets
        // no key, as on AWS.
        let user = server
            .with_user(
                r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Action": "s3:PutObject", "Resource": "arn:aws:s3:::bkt/*",
                    "Condition": {"StringEquals": {"s3:x-amz-server-side-encryption": "AES256"}}}]}"#,
            )
            .await;
        let plain = user
            .s3
            .put_object()
            .bucket("bkt")
            .key("k")
            .body(ByteStream::from_static(b"x"))
            .send()
            .await;
        assert_eq!(error_code_status(plain), ("AccessDenied".to_owned(), 403));
        let asked = user
            .s3
            .put_object()
            .bucket("bkt")
            .key("k")
            .server_side_encryption(ServerSideEncryption::Aes256)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
        assert_eq!(asked.server_side_encryption(), Some(&ServerSideEncryption::Aes256));
    });
}

#[test]
fn reads_name_no_encryption() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = start(dir.path(), true);
    server.block_on(async {
        s3.create_bucket().bucket("bkt").send().await.unwrap();
        put_sse(&s3, "bkt", "k", b"x", false).await;
        // S3: x-amz-server-side-encryption "should not be sent for GetObject requests" (400).
        let sent = s3
            .get_object()
            .bucket("bkt")
            .key("k")
            .customize()
            .mutate_request(|r| {
                r.headers_mut()
                    .insert("x-amz-server-side-encryption", "AES256");
            })
            .send()
            .await;
        assert_eq!(error_code_status(sent), ("InvalidArgument".to_owned(), 400));
        let sse_c = s3
            .get_object()
            .bucket("bkt")
            .key("k")
            .sse_customer_algorithm("AES256")
            .sse_customer_key("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
            .sse_customer_key_md5("ZXZ0aGluZw==")
            .send()
            .await;
        // A customer key over plain HTTP is refused before anything else (`s3_sse_c.rs`).
        assert_eq!(error_code_status(sse_c), ("InvalidRequest".to_owned(), 400));
        assert_eq!(get(&s3, "bkt", "k", None).await, (b"x".to_vec(), aes()));
    });
}

#[test]
fn tampering_is_logged_at_error_with_the_objects_identity() {
    if crate::common::postgres::sqlite_only("damages or scans the SQLite index") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = common::Server::start_with(
        dir.path(),
        &[(
            "LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY",
            common::ROOT_SECRET,
        )],
    )
    .unwrap();
    let s3 = common::s3_client(&server);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let big = pattern(1024 * 1024, 21);
    let version = runtime.block_on(async {
        s3.create_bucket().bucket("bkt").send().await.unwrap();
        s3.put_bucket_versioning()
            .bucket("bkt")
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let put = s3
            .put_object()
            .bucket("bkt")
            .key("logged")
            .body(ByteStream::from(big.clone()))
            .send()
            .await
            .unwrap();
        assert_eq!(
            put.server_side_encryption(),
            Some(&ServerSideEncryption::Aes256)
        );
        put.version_id().unwrap().to_owned()
    });
    flip(&blob_of(dir.path(), "logged"), 8 + 3 * (65_536 + 16) + 7);
    runtime.block_on(async {
        let out = s3
            .get_object()
            .bucket("bkt")
            .key("logged")
            .send()
            .await
            .unwrap();
        assert!(out.body.collect().await.is_err());
    });
    let (_, logs) = server.stop();
    let line = logs
        .iter()
        .find(|l| l["level"] == "ERROR" && l["key"] == "logged")
        .unwrap_or_else(|| panic!("no error line names the object: {logs:#?}"));
    assert_eq!(line["bucket"], "bkt");
    assert_eq!(line["version_id"], version.as_str());
    assert_eq!(line["part"], 0);
    let message = line["message"].as_str().unwrap();
    assert!(message.contains("failed authentication"), "{message}");
    assert!(
        line["error"].as_str().unwrap().contains("does not open"),
        "{line}"
    );
}
