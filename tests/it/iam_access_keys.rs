//! Access keys through `aws-sdk-iam` against the server: CreateAccessKey, ListAccessKeys,
//! UpdateAccessKey, DeleteAccessKey, GetAccessKeyLastUsed, and what a key's status does to
//! the requests it signs.
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html> (and siblings)

use crate::common;

use std::path::Path;

use aws_sdk_iam::types::StatusType;
use aws_sdk_iam::Client;
use common::{all_pages, error_code, error_code_status, iam_client, recording_root_iam, root_iam};
use common::{spawn_with_root, start_with_root, Endpoints};
use labstore::state::Listener;

struct Key {
    id: String,
    secret: String,
}

async fn new_key(iam: &Client, user: &str) -> Key {
    let out = iam
        .create_access_key()
        .user_name(user)
        .send()
        .await
        .unwrap();
    let key = out.access_key().unwrap();
    Key {
        id: key.access_key_id().to_owned(),
        secret: key.secret_access_key().to_owned(),
    }
}

/// What a request signed with `key` gets: "AccessDenied" while the key works (its user has
/// no policy that allows ListUsers), "InvalidClientTokenId" when it does not.
async fn probe(server: &impl Endpoints, key: &Key) -> String {
    let client = iam_client(server.addr(Listener::Iam), &key.id, &key.secret);
    error_code(client.list_users().send().await)
}

/// (id, status) of each of `user`'s keys, sorted by id.
async fn listed(iam: &Client, user: &str) -> Vec<(String, String)> {
    let out = iam.list_access_keys().user_name(user).send().await.unwrap();
    assert!(!out.is_truncated());
    let mut keys: Vec<_> = out
        .access_key_metadata()
        .iter()
        .map(|k| {
            assert_eq!(k.user_name(), Some(user));
            let status = k.status().unwrap().as_str().to_owned();
            (k.access_key_id().unwrap().to_owned(), status)
        })
        .collect();
    keys.sort();
    keys
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_key_has_aws_shape_and_its_secret_is_shown_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let (iam, bodies) = recording_root_iam(&server);
    iam.create_user().user_name("alice").send().await.unwrap();

    let out = iam.create_access_key().user_name("alice").send().await;
    let out = out.unwrap();
    let key = out.access_key().unwrap();
    let id = key.access_key_id();
    assert_eq!(id.len(), 20, "{id}");
    assert!(id.starts_with("AKIA"), "{id}");
    assert!(
        id.bytes()
            .all(|b| b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".contains(&b)),
        "{id}"
    );
    let secret = key.secret_access_key().to_owned();
    assert_eq!(secret.len(), 40);
    assert_eq!(key.user_name(), "alice");
    assert_eq!(key.status(), &StatusType::Active);
    assert!((key.create_date().unwrap().secs() - now_secs()).abs() < 60);
    let id = id.to_owned();

    assert_eq!(listed(&iam, "alice").await, [(id.clone(), "Active".into())]);
    let last = iam.get_access_key_last_used().access_key_id(&id).send();
    last.await.unwrap();
    iam.get_user().user_name("alice").send().await.unwrap();

    let bodies = bodies.all();
    assert_eq!(bodies.len(), 5);
    assert!(bodies[1].contains(&secret), "CreateAccessKey returns it");
    for body in &bodies[2..] {
        assert!(body.contains("alice"), "{body}");
        assert!(!body.contains(&secret), "the secret came back: {body}");
        assert!(!body.contains("SecretAccessKey"), "{body}");
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inactive_keys_are_refused_and_active_ones_accepted_again() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    iam.create_user().user_name("bob").send().await.unwrap();
    let first = new_key(&iam, "bob").await;
    let second = new_key(&iam, "bob").await;
    assert_eq!(probe(&server, &first).await, "AccessDenied");

    let steps = [
        (StatusType::Inactive, "InvalidClientTokenId"),
        // Setting the status it already has changes nothing.
        (StatusType::Inactive, "InvalidClientTokenId"),
        (StatusType::Active, "AccessDenied"),
    ];
    for (status, expected) in steps {
        iam.update_access_key()
            .user_name("bob")
            .access_key_id(&first.id)
            .status(status.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(probe(&server, &first).await, expected, "{status:?}");
        // The other key is unaffected.
        assert_eq!(probe(&server, &second).await, "AccessDenied");
        let mut expected = vec![
            (first.id.clone(), status.as_str().to_owned()),
            (second.id.clone(), "Active".to_owned()),
        ];
        expected.sort();
        assert_eq!(listed(&iam, "bob").await, expected);
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_access_key_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    for user in ["bob", "eve"] {
        iam.create_user().user_name(user).send().await.unwrap();
    }
    let bobs = new_key(&iam, "bob").await;
    let cases = [
        // Another user's key is not found under this user.
        ("eve", bobs.id.as_str(), "Inactive", ("NoSuchEntity", 404)),
        (
            "bob",
            "AKIAAAAAAAAAAAAAAAAA",
            "Inactive",
            ("NoSuchEntity", 404),
        ),
        (
            "nobody",
            bobs.id.as_str(),
            "Inactive",
            ("NoSuchEntity", 404),
        ),
        (
            "bob",
            bobs.id.as_str(),
            "Disabled",
            ("ValidationError", 400),
        ),
        ("bob", "short", "Inactive", ("ValidationError", 400)),
    ];
    for (user, id, status, (code, http)) in cases {
        let call = iam
            .update_access_key()
            .user_name(user)
            .access_key_id(id)
            .status(StatusType::from(status));
        let got = error_code_status(call.send().await);
        assert_eq!(got, (code.to_owned(), http), "{user} {id} {status}");
    }
    assert_eq!(probe(&server, &bobs).await, "AccessDenied");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_keys_stop_working_and_a_third_key_exceeds_the_quota() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    iam.create_user().user_name("carol").send().await.unwrap();
    let first = new_key(&iam, "carol").await;
    let second = new_key(&iam, "carol").await;

    let third = iam.create_access_key().user_name("carol").send().await;
    assert_eq!(error_code_status(third), ("LimitExceeded".into(), 409));
    assert_eq!(listed(&iam, "carol").await.len(), 2);

    iam.delete_access_key()
        .user_name("carol")
        .access_key_id(&first.id)
        .send()
        .await
        .unwrap();
    assert_eq!(probe(&server, &first).await, "InvalidClientTokenId");
    assert_eq!(probe(&server, &second).await, "AccessDenied");
    assert_eq!(
        listed(&iam, "carol").await,
        [(second.id.clone(), "Active".into())]
    );
    let again = iam
        .delete_access_key()
        .user_name("carol")
        .access_key_id(&first.id);
    assert_eq!(
        error_code_status(again.send().await),
        ("NoSuchEntity".into(), 404)
    );
    let last_used = iam.get_access_key_last_used().access_key_id(&first.id);
    assert_eq!(error_code(last_used.send().await), "NoSuchEntity");

    // The freed slot can be used again.
    let replacement = new_key(&iam, "carol").await;
    assert_eq!(probe(&server, &replacement).await, "AccessDenied");
    assert_eq!(listed(&iam, "carol").await.len(), 2);

    let elsewhere = iam
        .delete_access_key()
        .user_name("nobody")
        .access_key_id(&second.id);
    assert_eq!(error_code(elsewhere.send().await), "NoSuchEntity");
    let nobody = iam.create_access_key().user_name("nobody").send().await;
    assert_eq!(error_code_status(nobody), ("NoSuchEntity".into(), 404));
    let list = iam.list_access_keys().user_name("nobody").send().await;
    assert_eq!(error_code(list), "NoSuchEntity");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_used_is_unset_until_the_key_signs_a_request() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    iam.create_user().user_name("dan").send().await.unwrap();
    let used = new_key(&iam, "dan").await;
    let unused = new_key(&iam, "dan").await;

    let never = iam.get_access_key_last_used().access_key_id(&used.id);
    let never = never.send().await.unwrap();
    assert_eq!(never.user_name(), Some("dan"));
    let info = never.access_key_last_used().unwrap();
    assert_eq!(info.last_used_date(), None);
    assert_eq!(info.service_name(), "N/A");
    assert_eq!(info.region(), "N/A");

    let before = now_secs();
    // Refused by policy, but authenticated: that is a use of the key.
    assert_eq!(probe(&server, &used).await, "AccessDenied");
    let after = iam.get_access_key_last_used().access_key_id(&used.id);
    let after = after.send().await.unwrap();
    assert_eq!(after.user_name(), Some("dan"));
    let info = after.access_key_last_used().unwrap();
    let at = info.last_used_date().expect("LastUsedDate set").secs();
    assert!(at >= before - 1 && at <= now_secs() + 1, "{at} vs {before}");
    assert_eq!(info.service_name(), "iam");
    assert_eq!(info.region(), "us-east-1");

    // A request with the right key id but a wrong signature is not a use.
    let forged = Key {
        id: unused.id.clone(),
        secret: "x".repeat(40),
    };
    assert_eq!(probe(&server, &forged).await, "SignatureDoesNotMatch");
    let other = iam.get_access_key_last_used().access_key_id(&unused.id);
    let other = other.send().await.unwrap();
    let info = other.access_key_last_used().unwrap();
    assert_eq!(info.last_used_date(), None);
    assert_eq!(info.service_name(), "N/A");

    let unknown = iam
        .get_access_key_last_used()
        .access_key_id("AKIAAAAAAAAAAAAAAAAA");
    assert_eq!(
        error_code_status(unknown.send().await),
        ("NoSuchEntity".into(), 404)
    );
    server.stop();
}

/// Every byte SQLite holds for the IAM database right now: the main file and its WAL.
fn database_bytes(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for name in ["iam.db", "iam.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.join("data/metadata").join(name)) {
            all.extend(bytes);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_access_keys_are_never_stored_in_plaintext() {
    if crate::common::postgres::sqlite_only("scans the SQLite files") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = spawn_with_root(dir.path());
    let iam = root_iam(&server);
    let mut keys = Vec::new();
    for user in ["u1", "u2", "u3"] {
        iam.create_user().user_name(user).send().await.unwrap();
        keys.push(new_key(&iam, user).await);
        keys.push(new_key(&iam, user).await);
    }
    // Used once each, so that authentication has opened every secret.
    for key in &keys {
        assert_eq!(probe(&server, key).await, "AccessDenied");
    }

    let running = database_bytes(dir.path());
    let (_, logs) = server.stop();
    let stopped = database_bytes(dir.path());
    let logs: String = logs.iter().map(|l| l.to_string()).collect();
    for (when, bytes) in [("running", &running), ("stopped", &stopped)] {
        for key in &keys {
            // The key ids are there, so these are the right files with the keys in them.
            assert!(
                contains(bytes, &key.id),
                "{when}: key id {} missing",
                key.id
            );
            assert!(
                !contains(bytes, &key.secret),
                "{when}: a secret in plaintext"
            );
        }
    }
    for key in &keys {
        assert!(!logs.contains(&key.secret), "a secret in the logs");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_key_creation_stops_at_the_quota() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    iam.create_user().user_name("eager").send().await.unwrap();
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let call = iam.create_access_key().user_name("eager");
            tokio::spawn(async move { call.send().await })
        })
        .collect();
    let mut created = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(out) => created.push(out.access_key().unwrap().access_key_id().to_owned()),
            Err(e) => assert_eq!(
                error_code_status(Err::<(), _>(e)),
                ("LimitExceeded".into(), 409)
            ),
        }
    }
    created.sort();
    let ids: Vec<String> = listed(&iam, "eager")
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, created);
    assert_eq!(created.len(), 2);

    // One key per page.
    let pages = all_pages(5, |marker| {
        let iam = iam.clone();
        async move {
            let out = iam
                .list_access_keys()
                .user_name("eager")
                .max_items(1)
                .set_marker(marker)
                .send()
                .await
                .unwrap();
            let ids = out.access_key_metadata().iter();
            let ids = ids.map(|k| k.access_key_id().unwrap().to_owned()).collect();
            (ids, out.is_truncated(), out.marker().map(Into::into))
        }
    })
    .await;
    assert_eq!(pages.len(), 2);
    let mut paged = pages.concat();
    paged.sort();
    assert_eq!(paged, created);
    server.stop();
}
