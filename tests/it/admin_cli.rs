//! `labstore admin ...` on a stopped server's data directory, through the real binary: root
//! show (never the secret), root reset-secret (printed once, signs afterwards; refused when the
//! configuration sets the secret), users (keys and status, no secrets), check-db (exit status
//! follows `PRAGMA integrity_check`); each refused while a server holds the data directory.

use std::path::Path;
use std::process::Output;

use crate::common::{self, command, start_with_root, Server};

fn admin(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["admin"];
    all.extend_from_slice(args);
    command(dir, &all).output().expect("run labstore admin")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn secret_line(stdout: &str) -> String {
    stdout
        .lines()
        .find(|l| l.trim_start().starts_with("secret key:"))
        .unwrap_or_else(|| panic!("no secret in {stdout}"))
        .split(':')
        .nth(1)
        .unwrap()
        .trim()
        .to_owned()
}

const COMMANDS: [&[&str]; 4] = [
    &["root", "show"],
    &["root", "reset-secret"],
    &["users"],
    &["check-db"],
];

#[test]
fn every_admin_command_is_refused_while_the_server_runs() {
    if crate::common::postgres::sqlite_only("the offline admin commands work on the SQLite files") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    for args in COMMANDS {
        let out = admin(dir.path(), args);
        assert!(!out.status.success(), "{args:?} ran beside the server");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("another labstore process"),
            "{args:?}: {stderr}"
        );
    }
    drop(server);
    // And on a data directory that does not exist, each says so.
    let empty = tempfile::tempdir().unwrap();
    for args in COMMANDS {
        let out = admin(empty.path(), args);
        assert!(!out.status.success());
        assert!(
            text(&out.stderr).contains("does not exist"),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_reset_root_secret_is_printed_once_and_replaces_the_generated_one() {
    if crate::common::postgres::sqlite_only("the offline admin commands work on the SQLite files") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let (stdout, _) = server.stop();
    let old = secret_line(&stdout);

    let shown = admin(dir.path(), &["root", "show"]);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    let shown = text(&shown.stdout);
    assert!(shown.contains("root access key id: admin"), "{shown}");
    assert!(shown.contains("generated on the first start"), "{shown}");
    assert!(!shown.contains(&old));

    let reset = admin(dir.path(), &["root", "reset-secret"]);
    assert!(reset.status.success(), "{}", text(&reset.stderr));
    let new = secret_line(&text(&reset.stdout));
    assert_eq!(new.len(), 40);
    assert_ne!(new, old);
    // Not in the database in plaintext.
    let db = std::fs::read(dir.path().join("data/metadata/iam.db")).unwrap();
    assert!(!db.windows(new.len()).any(|w| w == new.as_bytes()));

    let server = Server::start(dir.path());
    assert!(
        !server.stdout().contains("secret key:"),
        "no new secret generated at start"
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let with_new = common::s3_client_as(&server, "admin", &new);
    runtime.block_on(with_new.list_buckets().send()).unwrap();
    let with_old = common::s3_client_as(&server, "admin", &old);
    assert!(runtime.block_on(with_old.list_buckets().send()).is_err());
}

#[test]
fn a_configured_root_secret_is_shown_as_such_and_never_reset() {
    if crate::common::postgres::sqlite_only("the offline admin commands work on the SQLite files") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    drop(common::spawn_with_root(dir.path()));
    let configured = |args: &[&str]| {
        let mut all = vec!["admin"];
        all.extend_from_slice(args);
        command(dir.path(), &all)
            .env(
                "LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY",
                common::ROOT_SECRET,
            )
            .output()
            .unwrap()
    };
    let shown = configured(&["root", "show"]);
    assert!(shown.status.success());
    let stdout = text(&shown.stdout);
    assert!(stdout.contains("the configuration"), "{stdout}");
    assert!(!stdout.contains(common::ROOT_SECRET));
    let refused = configured(&["root", "reset-secret"]);
    assert!(!refused.status.success());
    let stderr = text(&refused.stderr);
    assert!(stderr.contains("comes from the configuration"), "{stderr}");
    assert!(text(&refused.stdout).is_empty());
}

#[test]
fn users_are_listed_with_their_keys_and_status_and_no_secret() {
    if crate::common::postgres::sqlite_only("the offline admin commands work on the SQLite files") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (key, secret, root_key) = {
        let server = start_with_root(dir.path());
        server.block_on(async {
            let iam = server.root_iam();
            let (key, secret) = common::user_with_key(&iam, "carol").await;
            iam.update_access_key()
                .user_name("carol")
                .access_key_id(&key)
                .status(aws_sdk_iam::types::StatusType::Inactive)
                .send()
                .await
                .unwrap();
            iam.create_user().user_name("dave").send().await.unwrap();
            let root_key = iam.create_access_key().send().await.unwrap();
            let root_key = root_key.access_key().unwrap().access_key_id().to_owned();
            (key, secret, root_key)
        })
    };
    let out = admin(dir.path(), &["users"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("users: 2"), "{stdout}");
    let carol = stdout
        .lines()
        .position(|l| l.starts_with("carol "))
        .unwrap();
    let line = stdout.lines().nth(carol + 1).unwrap();
    assert!(line.contains(&key) && line.contains("Inactive"), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("dave ")), "{stdout}");
    assert!(!stdout.contains(&secret));

    let shown = text(&admin(dir.path(), &["root", "show"]).stdout);
    assert!(
        shown.contains(&root_key) && shown.contains("Active"),
        "{shown}"
    );
}

#[test]
fn check_db_passes_sound_databases_and_fails_a_damaged_one() {
    if crate::common::postgres::sqlite_only("the offline admin commands work on the SQLite files") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    {
        let server = start_with_root(dir.path());
        server.block_on(async {
            let s3 = server.with_bucket("bkt").await;
            for n in 0..200 {
                s3.put_object()
                    .bucket("bkt")
                    .key(format!("object-{n:04}"))
                    .body(vec![b'x'; 2000].into())
                    .send()
                    .await
                    .unwrap();
            }
        });
    }
    let out = admin(dir.path(), &["check-db"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("objects: ok") && stdout.contains("iam: ok"),
        "{stdout}"
    );

    // Garbage over the object index's pages after the first.
    let path = dir.path().join("data/metadata/objects.db");
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 64 * 1024, "{} bytes", bytes.len());
    for b in &mut bytes[8192..40_000] {
        *b = 0x5a;
    }
    std::fs::write(&path, bytes).unwrap();
    let out = admin(dir.path(), &["check-db"]);
    assert!(!out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("objects: DAMAGED") && stdout.contains("iam: ok"),
        "{stdout}"
    );
}

#[test]
fn on_postgres_the_offline_commands_refuse_and_change_nothing() {
    if !crate::common::postgres::enabled() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["admin", "users"][..],
        &["admin", "root", "reset-secret"],
        &["admin", "check-db"],
        &["keys", "rotate"],
        &["scrub"],
        &["backup", "--to", "backup"],
    ] {
        let out = crate::common::command(dir.path(), args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("SQLite metadata engine only"),
            "{args:?}: {stderr}"
        );
    }
    assert!(!dir.path().join("data").exists() && !dir.path().join("backup").exists());
}
