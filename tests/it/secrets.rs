//! The master key and the root credentials, through the real binary: created private, reused,
//! never regenerated over existing data, and no secret stored in plaintext.

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::Server;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn generated_secret(stdout: &str) -> String {
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("secret key:"))
        .expect("secret printed");
    line.split(':').nth(1).unwrap().trim().to_owned()
}

/// Every byte SQLite keeps for the IAM database: the main file and its WAL.
fn database_bytes(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for name in ["iam.db", "iam.db-wal", "iam.db-shm"] {
        if let Ok(bytes) = std::fs::read(dir.join("data/metadata").join(name)) {
            all.extend(bytes);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn master_key_is_private_and_reused_and_the_root_secret_is_shown_once() {
    if crate::common::postgres::sqlite_only("reads the SQLite file") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let (stdout, logs) = server.stop();
    let secret = generated_secret(&stdout);
    assert_eq!(secret.len(), 40);
    let keys = dir.path().join("keys");
    assert_eq!(mode(&keys), 0o700);
    assert_eq!(mode(&keys.join("master.key")), 0o600);
    let key = std::fs::read(keys.join("master.key")).unwrap();
    assert_eq!(key.len(), 32);
    // Secrets reach neither the logs nor the database in plaintext.
    let all_logs: String = logs.iter().map(|l| l.to_string()).collect();
    assert!(!all_logs.contains(&secret));
    let db = database_bytes(dir.path());
    assert!(!db.is_empty());
    assert!(
        !contains(&db, secret.as_bytes()),
        "the root secret is stored in plaintext"
    );

    let again = Server::start(dir.path());
    let (stdout, _) = again.stop();
    assert!(
        !stdout.contains(&secret),
        "the secret was shown a second time"
    );
    assert_eq!(
        std::fs::read(keys.join("master.key")).unwrap(),
        key,
        "the master key changed"
    );
}

#[test]
fn a_missing_master_key_over_existing_data_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    Server::start(dir.path()).stop();
    let key = dir.path().join("keys/master.key");
    std::fs::remove_file(&key).unwrap();
    let refused = Server::start_with(dir.path(), &[])
        .err()
        .expect("started without its master key");
    assert!(!refused.status.success());
    assert!(
        refused.stderr.contains("master.key is missing"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("Restore"), "{}", refused.stderr);
    assert!(!key.exists(), "a new key was generated over existing data");
}

#[test]
fn a_replaced_master_key_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    Server::start(dir.path()).stop();
    let key = dir.path().join("keys/master.key");
    std::fs::write(&key, [7u8; 32]).unwrap();
    let refused = Server::start_with(dir.path(), &[])
        .err()
        .expect("started with another master key");
    assert!(!refused.status.success());
    assert!(
        refused.stderr.contains("is not the key that sealed"),
        "{}",
        refused.stderr
    );
    assert_eq!(std::fs::read(&key).unwrap(), [7u8; 32]);
}

#[test]
fn a_configured_root_secret_is_used_and_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "configured-root-secret-0123";
    let server = Server::start_with(
        dir.path(),
        &[("LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY", secret)],
    )
    .unwrap();
    let (stdout, logs) = server.stop();
    assert!(
        !stdout.contains("secret key:"),
        "a configured secret is not generated"
    );
    assert!(!logs.iter().any(|l| l.to_string().contains(secret)));
    assert!(!contains(&database_bytes(dir.path()), secret.as_bytes()));
}

#[test]
fn a_short_configured_root_secret_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::command(dir.path(), &["serve"])
        .env("LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY", "short")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("backend.admin.auth.secret_key"), "{stderr}");
    assert!(
        !stderr.contains("short ") && !stderr.contains("\"short\""),
        "{stderr}"
    );
}
