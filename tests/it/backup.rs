//! `labstore backup` and `labstore restore`: a backup taken while writes keep running restores
//! every object acknowledged before it (inline, blob, multipart, SSE-S3, several versions) and
//! every IAM entity; later backups copy only new blobs; a blob the server removes during a
//! backup is still in it (the hold); damaged backups and non-empty targets are refused.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::types::{
    BucketVersioningStatus, CompletedMultipartUpload, CompletedPart, ServerSideEncryption,
    VersioningConfiguration,
};

use crate::common::{self, command, start_with_root, TestServer};

fn run(dir: &Path, args: &[&str]) -> Output {
    command(dir, args).output().expect("run labstore")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `labstore backup --to to` for the data directory of a server in `dir`; its stdout.
fn backup(dir: &Path, to: &Path) -> String {
    let out = run(dir, &["backup", "--to", to.to_str().unwrap()]);
    assert!(out.status.success(), "backup failed: {}", text(&out.stderr));
    text(&out.stdout)
}

fn restore(dir: &Path, from: &Path, to: &str) -> Output {
    run(
        dir,
        &["restore", "--from", from.to_str().unwrap(), "--to", to],
    )
}

/// A keys directory copied from `from`'s server to `to`'s: "the same keys dir".
fn copy_keys(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.join("keys")).unwrap();
    for entry in std::fs::read_dir(from.join("keys")).unwrap().flatten() {
        std::fs::copy(entry.path(), to.join("keys").join(entry.file_name())).unwrap();
    }
}

/// The "backup complete" line's counts: (blobs, copied).
fn counts(stdout: &str) -> (usize, usize) {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("backup complete: "))
        .unwrap_or_else(|| panic!("no summary in {stdout}"));
    let mut numbers = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().unwrap());
    (numbers.next().unwrap(), numbers.next().unwrap())
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: Vec<u8>) -> Option<String> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into())
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutObject {key}: {e:?}"))
        .version_id()
        .map(str::to_owned)
}

async fn get(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, version: Option<&str>) -> Vec<u8> {
    s3.get_object()
        .bucket(bucket)
        .key(key)
        .set_version_id(version.map(str::to_owned))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetObject {key} {version:?}: {e:?}"))
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes()
        .to_vec()
}

/// A churn object's body: its key and generation, repeated past the inline threshold.
fn churn_body(key: &str, generation: usize) -> Vec<u8> {
    let unit = format!("{key}:{generation:08};");
    unit.as_bytes().repeat(100_000 / unit.len() + 1)
}

/// What the server held before the backup: (bucket, key, version, bytes).
type Expected = Vec<(String, String, Option<String>, Vec<u8>)>;

async fn write_fixture(server: &TestServer) -> Expected {
    let s3 = server.with_bucket("kept").await;
    let mut expected = Vec::new();
    for (key, size, seed) in [("inline", 1_000, 1), ("blob", 300_000, 2), ("empty", 0, 3)] {
        let body = common::pattern(size, seed);
        put(&s3, "kept", key, body.clone()).await;
        expected.push(("kept".into(), key.into(), None, body));
    }
    for (key, size) in [("sse-small", 500), ("sse-large", 200_000)] {
        let body = common::pattern(size, 4);
        s3.put_object()
            .bucket("kept")
            .key(key)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .body(body.clone().into())
            .send()
            .await
            .unwrap();
        expected.push(("kept".into(), key.into(), None, body));
    }
    // Multipart: a 5 MiB part and a small last one.
    let upload = s3
        .create_multipart_upload()
        .bucket("kept")
        .key("multipart")
        .send()
        .await
        .unwrap();
    let id = upload.upload_id().unwrap();
    let parts = [
        common::pattern(5 * 1024 * 1024, 5),
        common::pattern(70_000, 6),
    ];
    let mut completed = Vec::new();
    for (n, part) in parts.iter().enumerate() {
        let number = i32::try_from(n + 1).unwrap();
        let etag = s3
            .upload_part()
            .bucket("kept")
            .key("multipart")
            .upload_id(id)
            .part_number(number)
            .body(part.clone().into())
            .send()
            .await
            .unwrap()
            .e_tag()
            .unwrap()
            .to_owned();
        completed.push(
            CompletedPart::builder()
                .part_number(number)
                .e_tag(etag)
                .build(),
        );
    }
    s3.complete_multipart_upload()
        .bucket("kept")
        .key("multipart")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(completed))
                .build(),
        )
        .send()
        .await
        .unwrap();
    expected.push(("kept".into(), "multipart".into(), None, parts.concat()));
    // Several versions of one key, small and large.
    s3.create_bucket().bucket("versioned").send().await.unwrap();
    s3.put_bucket_versioning()
        .bucket("versioned")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    for (n, size) in [10, 150_000, 20, 90_000].into_iter().enumerate() {
        let body = common::pattern(size, 10 + u32::try_from(n).unwrap());
        let version = put(&s3, "versioned", "doc", body.clone()).await;
        expected.push(("versioned".into(), "doc".into(), version, body));
    }
    expected
}

/// Users, keys, a group, a managed policy and a role: (user, key id, secret).
async fn write_iam(server: &TestServer) -> (String, String) {
    let iam = server.root_iam();
    let (key, secret) = common::user_with_key(&iam, "alice").await;
    iam.create_group().group_name("team").send().await.unwrap();
    iam.add_user_to_group()
        .group_name("team")
        .user_name("alice")
        .send()
        .await
        .unwrap();
    let policy = iam
        .create_policy()
        .policy_name("read-kept")
        .policy_document(common::allow("s3:GetObject"))
        .send()
        .await
        .unwrap();
    iam.attach_group_policy()
        .group_name("team")
        .policy_arn(policy.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("deployer")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    (key, secret)
}

async fn check_restored(server: &TestServer, expected: &Expected, key: &str, secret: &str) {
    let s3 = server.root_s3();
    for (bucket, object, version, body) in expected {
        let got = get(&s3, bucket, object, version.as_deref()).await;
        assert!(
            got == *body,
            "{bucket}/{object} {version:?}: {} bytes, expected {}",
            got.len(),
            body.len()
        );
    }
    let versions = s3
        .list_object_versions()
        .bucket("versioned")
        .send()
        .await
        .unwrap();
    assert_eq!(versions.versions().len(), 4);
    // Alice's key still authenticates, and her group's policy still decides.
    let alice = common::s3_client_as(server, key, secret);
    assert_eq!(
        get(&alice, "kept", "inline", None).await,
        common::pattern(1_000, 1)
    );
    let denied = alice.list_buckets().send().await;
    assert!(denied.is_err(), "ListBuckets is not in alice's policies");
    let iam = server.root_iam();
    let groups = iam
        .list_groups_for_user()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(groups.groups()[0].group_name(), "team");
    let attached = iam
        .list_attached_group_policies()
        .group_name("team")
        .send()
        .await
        .unwrap();
    assert_eq!(
        attached.attached_policies()[0].policy_name(),
        Some("read-kept")
    );
    iam.get_role().role_name("deployer").send().await.unwrap();
}

/// PUT/overwrite/DELETE in a loop on bucket `churn` until `stop`; counts acknowledged writes.
fn churn(
    server: &TestServer,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicUsize>,
) -> std::thread::JoinHandle<()> {
    let s3 = server.root_s3();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut generation = 0;
            while !stop.load(Ordering::Relaxed) {
                generation += 1;
                let key = format!("k{}", generation % 7);
                if generation % 3 == 0 {
                    s3.delete_object()
                        .bucket("churn")
                        .key(&key)
                        .send()
                        .await
                        .unwrap();
                } else {
                    put(&s3, "churn", &key, churn_body(&key, generation)).await;
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
        });
    })
}

#[test]
fn a_backup_taken_during_writes_restores_every_acknowledged_object_and_iam_entity() {
    if crate::common::postgres::sqlite_only("backup and restore copy the SQLite files") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let target = tempfile::tempdir().unwrap();
    let copy = dir.path().join("backup");
    let server = start_with_root(dir.path());
    let expected = server.block_on(write_fixture(&server));
    let (key, secret) = server.block_on(write_iam(&server));
    server.block_on(server.with_bucket("churn"));

    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let writer = churn(&server, Arc::clone(&stop), Arc::clone(&done));
    while done.load(Ordering::Relaxed) < 20 {
        std::thread::sleep(Duration::from_millis(10));
    }
    let before = done.load(Ordering::Relaxed);
    let stdout = backup(dir.path(), &copy);
    let during = done.load(Ordering::Relaxed) - before;
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert!(during > 0, "no write completed while the backup ran");
    assert!(stdout.contains("master.key"), "{stdout}");
    server.stop();

    // Without the master key, restore refuses before writing anything.
    let refused = restore(target.path(), &copy, "data");
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("master.key"),
        "{}",
        text(&refused.stderr)
    );
    assert!(!target.path().join("data").exists());

    copy_keys(dir.path(), target.path());
    let restored = restore(target.path(), &copy, "data");
    assert!(restored.status.success(), "{}", text(&restored.stderr));
    assert!(text(&restored.stdout).contains("master.key"));

    let server = start_with_root(target.path());
    server.block_on(check_restored(&server, &expected, &key, &secret));
    // Every churn object the backup kept reads back whole: its blob was copied.
    server.block_on(async {
        let s3 = server.root_s3();
        let listed = s3.list_objects_v2().bucket("churn").send().await.unwrap();
        for object in listed.contents() {
            let key = object.key().unwrap();
            let body = get(&s3, "churn", key, None).await;
            let unit = String::from_utf8_lossy(&body[..key.len() + 10]).into_owned();
            let generation: usize = unit[key.len() + 1..key.len() + 9].parse().unwrap();
            assert!(body == churn_body(key, generation), "churn/{key} torn");
        }
    });
}

#[test]
fn a_second_backup_copies_only_new_blobs_and_drops_unreferenced_ones() {
    if crate::common::postgres::sqlite_only("backup and restore copy the SQLite files") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("backup");
    let server = start_with_root(dir.path());
    let s3 = server.block_on(server.with_bucket("bkt"));
    server.block_on(async {
        for n in 0..3 {
            put(&s3, "bkt", &format!("o{n}"), common::pattern(100_000, n)).await;
        }
        put(&s3, "bkt", "small", b"inline".to_vec()).await;
    });
    assert_eq!(counts(&backup(dir.path(), &copy)), (3, 3));
    assert_eq!(counts(&backup(dir.path(), &copy)), (3, 0));
    server.block_on(async {
        for n in 3..5 {
            put(&s3, "bkt", &format!("o{n}"), common::pattern(100_000, n)).await;
        }
        s3.delete_object()
            .bucket("bkt")
            .key("o0")
            .send()
            .await
            .unwrap();
    });
    assert_eq!(counts(&backup(dir.path(), &copy)), (4, 2));
    // One run's databases, the four blobs it names, nothing else.
    assert_eq!(std::fs::read_dir(copy.join("runs")).unwrap().count(), 1);
    let blobs: usize = std::fs::read_dir(copy.join("blobs"))
        .unwrap()
        .flatten()
        .map(|d| std::fs::read_dir(d.path()).unwrap().count())
        .sum();
    assert_eq!(blobs, 4);
    server.stop();

    let target = tempfile::tempdir().unwrap();
    copy_keys(dir.path(), target.path());
    let out = restore(target.path(), &copy, "data");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let server = start_with_root(target.path());
    server.block_on(async {
        let s3 = server.root_s3();
        for n in 1..5 {
            assert_eq!(
                get(&s3, "bkt", &format!("o{n}"), None).await,
                common::pattern(100_000, n)
            );
        }
        assert_eq!(get(&s3, "bkt", "small", None).await, b"inline");
        assert!(s3
            .head_object()
            .bucket("bkt")
            .key("o0")
            .send()
            .await
            .is_err());
    });
}

#[test]
fn a_blob_the_server_removes_during_a_backup_is_still_in_it() {
    if crate::common::postgres::sqlite_only("backup and restore copy the SQLite files") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("backup");
    let gate = dir.path().join("gate");
    let server = start_with_root(dir.path());
    let s3 = server.block_on(server.with_bucket("bkt"));
    let (deleted, replaced) = (common::pattern(200_000, 1), common::pattern(200_000, 2));
    server.block_on(async {
        put(&s3, "bkt", "deleted", deleted.clone()).await;
        put(&s3, "bkt", "replaced", replaced.clone()).await;
    });
    assert_eq!(common::blob_files(dir.path()), 2);

    let mut child = command(
        dir.path(),
        &[
            "backup",
            "--to",
            copy.to_str().unwrap(),
            "--wait-for",
            gate.to_str().unwrap(),
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("snapshot taken"), "{first}");

    // After the snapshot, before the copy: both blobs lose their rows.
    server.block_on(async {
        s3.delete_object()
            .bucket("bkt")
            .key("deleted")
            .send()
            .await
            .unwrap();
        put(&s3, "bkt", "replaced", common::pattern(200_000, 3)).await;
    });
    // Held: the two old files stay (and the new one is there).
    assert_eq!(common::blob_files(dir.path()), 3);
    std::fs::write(&gate, b"").unwrap();
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "{rest:?}");
    assert_eq!(counts(&rest.join("\n")), (2, 2));
    // Released: the deferred removals happened.
    assert_eq!(common::blob_files(dir.path()), 1);
    server.stop();

    let target = tempfile::tempdir().unwrap();
    copy_keys(dir.path(), target.path());
    let out = restore(target.path(), &copy, "data");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let server = start_with_root(target.path());
    server.block_on(async {
        let s3 = server.root_s3();
        assert_eq!(get(&s3, "bkt", "deleted", None).await, deleted);
        assert_eq!(get(&s3, "bkt", "replaced", None).await, replaced);
    });
}

#[test]
fn a_crashed_backups_hold_defers_removals_only_until_it_expires() {
    if crate::common::postgres::sqlite_only("backup and restore copy the SQLite files") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let s3 = server.block_on(server.with_bucket("bkt"));
    server.block_on(async {
        for key in ["one", "two"] {
            put(&s3, "bkt", key, common::pattern(100_000, 1)).await;
        }
    });
    // A backup that died after taking its hold.
    let index = rusqlite::Connection::open(dir.path().join("data/metadata/objects.db")).unwrap();
    index
        .execute(
            "INSERT INTO backup_holds (started, pid, expires) VALUES (0, 1, unixepoch() + 300)",
            [],
        )
        .unwrap();
    server.block_on(async {
        s3.delete_object()
            .bucket("bkt")
            .key("one")
            .send()
            .await
            .unwrap();
    });
    assert_eq!(common::blob_files(dir.path()), 2, "the live hold defers");
    index
        .execute("UPDATE backup_holds SET expires = 0", [])
        .unwrap();
    server.block_on(async {
        s3.delete_object()
            .bucket("bkt")
            .key("two")
            .send()
            .await
            .unwrap();
    });
    assert_eq!(common::blob_files(dir.path()), 0, "expired: both removed");
    let holds: i64 = index
        .query_row("SELECT count(*) FROM backup_holds", [], |r| r.get(0))
        .unwrap();
    assert_eq!(holds, 0);
}

#[test]
fn a_damaged_or_incomplete_backup_is_refused_and_nothing_is_restored() {
    if crate::common::postgres::sqlite_only("backup and restore copy the SQLite files") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("backup");
    let server = start_with_root(dir.path());
    let s3 = server.block_on(server.with_bucket("bkt"));
    server.block_on(put(&s3, "bkt", "o", common::pattern(100_000, 1)));
    backup(dir.path(), &copy);
    server.stop();
    let target = tempfile::tempdir().unwrap();
    copy_keys(dir.path(), target.path());

    // One byte of a blob flipped.
    let shard = std::fs::read_dir(copy.join("blobs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let blob = std::fs::read_dir(shard.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let original = std::fs::read(&blob).unwrap();
    let mut tampered = original.clone();
    tampered[500] ^= 1;
    std::fs::write(&blob, &tampered).unwrap();
    let out = restore(target.path(), &copy, "data");
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("damaged") && stderr.contains("SHA-256"),
        "{stderr}"
    );
    assert!(!target.path().join("data").exists());
    std::fs::write(&blob, &original).unwrap();

    // A database cut short.
    let run_dir = std::fs::read_dir(copy.join("runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let iam = std::fs::read(run_dir.join("iam.db")).unwrap();
    std::fs::write(run_dir.join("iam.db"), &iam[..iam.len() - 1]).unwrap();
    let out = restore(target.path(), &copy, "data");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("damaged"),
        "{}",
        text(&out.stderr)
    );
    std::fs::write(run_dir.join("iam.db"), &iam).unwrap();

    // No manifest: an interrupted backup.
    std::fs::rename(copy.join("manifest.json"), dir.path().join("m")).unwrap();
    let out = restore(target.path(), &copy, "data");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no complete backup"),
        "{}",
        text(&out.stderr)
    );
    assert!(!target.path().join("data").exists());
    std::fs::rename(dir.path().join("m"), copy.join("manifest.json")).unwrap();

    // A key that is not the one: refused.
    let other = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(other.path().join("keys")).unwrap();
    std::fs::write(other.path().join("keys/master.key"), [7_u8; 32]).unwrap();
    let out = run(
        target.path(),
        &[
            "restore",
            "--from",
            copy.to_str().unwrap(),
            "--to",
            "data",
            "--keys-dir",
            other.path().join("keys").to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not the master key"),
        "{}",
        text(&out.stderr)
    );

    // Put back as it was, it restores.
    let out = restore(target.path(), &copy, "data");
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn restore_refuses_a_non_empty_data_directory() {
    if crate::common::postgres::sqlite_only("backup and restore copy the SQLite files") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("backup");
    let server = start_with_root(dir.path());
    server.block_on(server.with_bucket("bkt"));
    backup(dir.path(), &copy);
    // Into the running server's own data directory, and into any directory with a file.
    let out = restore(dir.path(), &copy, "data");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not empty"),
        "{}",
        text(&out.stderr)
    );
    server.stop();
    let target = tempfile::tempdir().unwrap();
    copy_keys(dir.path(), target.path());
    std::fs::create_dir_all(target.path().join("data")).unwrap();
    std::fs::write(target.path().join("data/notes.txt"), b"mine").unwrap();
    let out = restore(target.path(), &copy, "data");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not empty"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_dir(target.path().join("data"))
            .unwrap()
            .count(),
        1
    );
}

#[test]
fn a_backup_is_refused_while_a_master_key_rotation_is_unfinished() {
    if crate::common::postgres::sqlite_only("backup and restore copy the SQLite files") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    drop(start_with_root(dir.path()));
    std::fs::write(dir.path().join("keys/master.key.next"), [1_u8; 32]).unwrap();
    let copy = dir.path().join("backup");
    let out = run(dir.path(), &["backup", "--to", copy.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("rotation is in progress"),
        "{}",
        text(&out.stderr)
    );
    assert!(!copy.join("manifest.json").exists());
}

#[test]
fn a_backup_inside_the_data_directory_is_refused() {
    if crate::common::postgres::sqlite_only("backup and restore copy the SQLite files") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    drop(start_with_root(dir.path()));
    let out = run(dir.path(), &["backup", "--to", "data/backup"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("must not contain one another"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.path().join("data/backup").exists());
}

#[test]
fn without_key_restores_and_the_server_waits_for_the_key() {
    if crate::common::postgres::sqlite_only("backup and restore copy the SQLite files") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("backup");
    let server = start_with_root(dir.path());
    let s3 = server.block_on(server.with_bucket("bkt"));
    server.block_on(put(&s3, "bkt", "o", common::pattern(100_000, 1)));
    backup(dir.path(), &copy);
    server.stop();
    let target = tempfile::tempdir().unwrap();
    let out = run(
        target.path(),
        &[
            "restore",
            "--from",
            copy.to_str().unwrap(),
            "--to",
            "data",
            "--without-key",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("warning"),
        "{}",
        text(&out.stdout)
    );
    // The server refuses to start until the key is there, then serves the data.
    let refused = TestServer::start_with(target.path(), &[]).err().unwrap();
    assert!(refused.contains("master.key"), "{refused}");
    copy_keys(dir.path(), target.path());
    let server = start_with_root(target.path());
    server.block_on(async {
        assert_eq!(
            get(&server.root_s3(), "bkt", "o", None).await,
            common::pattern(100_000, 1)
        );
    });
}
