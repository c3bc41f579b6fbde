//! `labstore keys rotate`: every sealed secret re-sealed under a new master key, offline,
//! resumable after a kill -9 mid-way; the server refuses to start while a rotation is
//! unfinished and to share the data directory with one; after it, every key signs as before
//! and session tokens sealed by the old key still open.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use labstore::state::Listener;

use crate::common::{self, command, start_with_root, Endpoints, Server};

const USERS: usize = 60;

fn rotate(dir: &std::path::Path, batch: &str) -> std::process::Output {
    command(dir, &["keys", "rotate", "--batch", batch])
        .output()
        .expect("run labstore keys rotate")
}

#[test]
fn a_rotation_killed_mid_way_resumes_and_every_secret_opens_with_the_new_key() {
    if crate::common::postgres::sqlite_only(
        "the key rotation is an offline command on the SQLite files",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let keys_dir = dir.path().join("keys");
    let mut keys = Vec::new();
    let session;
    {
        let server = start_with_root(dir.path());
        server.block_on(async {
            let iam = server.root_iam();
            for n in 0..USERS {
                keys.push(common::user_with_key(&iam, &format!("rot{n:03}")).await);
            }
            // Encrypted objects: their data keys are sealed by the master key too.
            let s3 = server.with_bucket("rotated").await;
            for (key, size) in [("small", 1000), ("large", 300_000)] {
                s3.put_object()
                    .bucket("rotated")
                    .key(key)
                    .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256)
                    .body(common::pattern(size, 7).into())
                    .send()
                    .await
                    .unwrap();
            }
            let root_key = iam.create_access_key().send().await.unwrap();
            let k = root_key.access_key().unwrap();
            keys.push((
                k.access_key_id().to_owned(),
                k.secret_access_key().to_owned(),
            ));
        });
        // A session sealed with the key about to be replaced.
        let sts = crate::sts::sts_client(
            server.addr(Listener::Iam),
            "admin",
            common::ROOT_SECRET,
            None,
        );
        let out = server.block_on(sts.get_session_token().send()).unwrap();
        let c = out.credentials().unwrap();
        session = (
            c.access_key_id().to_owned(),
            c.secret_access_key().to_owned(),
            c.session_token().to_owned(),
        );
        // While the server runs, a rotation is refused: it is offline.
        let refused = rotate(dir.path(), "10");
        assert!(!refused.status.success());
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains("another labstore process"), "{stderr}");
    }
    let old_key = std::fs::read(keys_dir.join("master.key")).unwrap();

    // One value per transaction, killed after a few.
    let mut child = command(dir.path(), &["keys", "rotate", "--batch", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        let line = lines.next().expect("progress before the end").unwrap();
        assert!(
            !line.starts_with("done"),
            "finished before it could be killed: {line}"
        );
        if line.contains(": 10 re-sealed so far") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(keys_dir.join("master.key.next").exists());
    assert_eq!(std::fs::read(keys_dir.join("master.key")).unwrap(), old_key);

    // The server will not start on a half-rotated directory.
    let Err(refused) = Server::start_with(
        dir.path(),
        &[(
            "LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY",
            common::ROOT_SECRET,
        )],
    ) else {
        panic!("a server started on an unfinished rotation");
    };
    assert!(
        refused.stderr.contains("rotation is in progress"),
        "{}",
        refused.stderr
    );

    // Run again: it carries on and finishes.
    let out = rotate(dir.path(), "7");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("resuming the rotation"), "{stdout}");
    assert!(stdout.contains("already were"), "{stdout}");
    assert!(!keys_dir.join("master.key.next").exists());
    assert_eq!(
        std::fs::read(keys_dir.join("master.key.previous")).unwrap(),
        old_key
    );
    assert_ne!(std::fs::read(keys_dir.join("master.key")).unwrap(), old_key);

    // Every key signs as before (users' and the root's own), and the old session still works.
    let server = start_with_root(dir.path());
    server.block_on(async {
        // GetCallerIdentity needs no permission: it answers whoever signs.
        for (id, secret) in keys.iter().step_by(7).chain(keys.last()) {
            let sts = crate::sts::sts_client(server.addr(Listener::Iam), id, secret, None);
            sts.get_caller_identity()
                .send()
                .await
                .unwrap_or_else(|e| panic!("{id}: {e:?}"));
        }
        let sts = crate::sts::sts_client(
            server.addr(Listener::Iam),
            &session.0,
            &session.1,
            Some(&session.2),
        );
        sts.get_caller_identity().send().await.unwrap();
        let s3 = server.root_s3();
        for (key, size) in [("small", 1000), ("large", 300_000)] {
            let got = s3
                .get_object()
                .bucket("rotated")
                .key(key)
                .send()
                .await
                .unwrap();
            let body = got.body.collect().await.unwrap().into_bytes();
            assert_eq!(body.as_ref(), common::pattern(size, 7).as_slice(), "{key}");
        }
    });
    drop(server);

    // Without the previous key the old session no longer opens; the keys still work.
    std::fs::remove_file(keys_dir.join("master.key.previous")).unwrap();
    let server = start_with_root(dir.path());
    server.block_on(async {
        let sts = crate::sts::sts_client(
            server.addr(Listener::Iam),
            &session.0,
            &session.1,
            Some(&session.2),
        );
        let e = sts.get_caller_identity().send().await.unwrap_err();
        assert_eq!(
            e.as_service_error()
                .and_then(|s| aws_sdk_sts::error::ProvideErrorMetadata::code(s)),
            Some("InvalidClientTokenId")
        );
        let (id, secret) = &keys[0];
        crate::sts::sts_client(server.addr(Listener::Iam), id, secret, None)
            .get_caller_identity()
            .send()
            .await
            .unwrap();
    });
}

#[test]
fn a_rotation_without_a_key_or_with_the_wrong_key_is_refused() {
    if crate::common::postgres::sqlite_only(
        "the key rotation is an offline command on the SQLite files",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = rotate(dir.path(), "10");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to rotate"));
    drop(start_with_root(dir.path()));
    // Another key in place of the one that sealed the data.
    let keys_dir = dir.path().join("keys");
    std::fs::remove_file(keys_dir.join("master.key")).unwrap();
    labstore::crypto::MasterKey::create(&keys_dir).unwrap();
    let out = rotate(dir.path(), "10");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is not the key that sealed this data"),
        "{stderr}"
    );
    assert!(!keys_dir.join("master.key.next").exists());
}
