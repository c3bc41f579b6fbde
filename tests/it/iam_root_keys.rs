//! The account root's own access keys: CreateAccessKey, ListAccessKeys, UpdateAccessKey and
//! DeleteAccessKey called by the root without `UserName` manage the root's keys, as AWS does
//! for the root user; a request signed with one is the root's, on S3 and IAM.
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html>
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user_manage_add-key.html>

use crate::common;

use std::path::Path;

use aws_sdk_iam::types::{StatusType, SummaryKeyType};
use aws_sdk_iam::Client;
use common::{error_code, error_code_status, iam_client, root_iam, s3_client_as};
use common::{spawn_with_root, start_with_root, user_with_key, Endpoints};
use labstore::state::Listener;

struct Key {
    id: String,
    secret: String,
}

/// A new key of whoever `iam` signs as (no `UserName`).
async fn own_key(iam: &Client) -> Key {
    let out = iam.create_access_key().send().await.unwrap();
    let key = out.access_key().unwrap();
    Key {
        id: key.access_key_id().to_owned(),
        secret: key.secret_access_key().to_owned(),
    }
}

/// The root's keys as ListAccessKeys without `UserName` shows them: (id, status), by id.
async fn root_listed(iam: &Client) -> Vec<(String, String)> {
    let out = iam.list_access_keys().send().await.unwrap();
    assert!(!out.is_truncated());
    let mut keys: Vec<_> = out
        .access_key_metadata()
        .iter()
        .map(|k| {
            assert_eq!(k.user_name(), None, "a root key names no user");
            let status = k.status().unwrap().as_str().to_owned();
            (k.access_key_id().unwrap().to_owned(), status)
        })
        .collect();
    keys.sort();
    keys
}

/// What S3 and IAM say to a request signed with `key`: ("ok", "ok") while it is the root's
/// and works, the error codes otherwise.
async fn probe(server: &impl Endpoints, key: &Key) -> (String, String) {
    let s3 = s3_client_as(server, &key.id, &key.secret);
    let s3 = match s3.list_buckets().send().await {
        Ok(_) => "ok".to_owned(),
        Err(e) => error_code(Err::<(), _>(e)),
    };
    let iam = iam_client(server.addr(Listener::Iam), &key.id, &key.secret);
    let iam = match iam.list_users().send().await {
        Ok(_) => "ok".to_owned(),
        Err(e) => error_code(Err::<(), _>(e)),
    };
    (s3, iam)
}

/// GetAccountSummary's `AccountAccessKeysPresent`: whether the root has keys of its own.
async fn account_keys_present(iam: &Client) -> i32 {
    let out = iam.get_account_summary().send().await.unwrap();
    let map = out.summary_map().unwrap();
    map[&SummaryKeyType::AccountAccessKeysPresent]
}

fn ok() -> (String, String) {
    ("ok".into(), "ok".into())
}

fn refused() -> (String, String) {
    ("InvalidAccessKeyId".into(), "InvalidClientTokenId".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_key_signs_as_the_root_until_deactivated_or_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);

    let out = iam.create_access_key().send().await.unwrap();
    let created = out.access_key().unwrap();
    assert!(created.access_key_id().starts_with("AKIA"));
    assert_eq!(created.access_key_id().len(), 20);
    assert_eq!(created.secret_access_key().len(), 40);
    assert_eq!(created.user_name(), "", "a root key names no user");
    assert_eq!(created.status(), &StatusType::Active);
    let key = Key {
        id: created.access_key_id().to_owned(),
        secret: created.secret_access_key().to_owned(),
    };
    assert_eq!(account_keys_present(&iam).await, 1);
    assert_eq!(root_listed(&iam).await, [(key.id.clone(), "Active".into())]);

    // The root's powers, on both listeners: a bucket, a user, and keys of its own.
    assert_eq!(probe(&server, &key).await, ok());
    let as_root = s3_client_as(&server, &key.id, &key.secret);
    as_root
        .create_bucket()
        .bucket("rooted")
        .send()
        .await
        .unwrap();
    let as_root_iam = iam_client(server.addr(Listener::Iam), &key.id, &key.secret);
    as_root_iam
        .create_user()
        .user_name("made")
        .send()
        .await
        .unwrap();
    assert_eq!(root_listed(&as_root_iam).await.len(), 1);

    let last = iam.get_access_key_last_used().access_key_id(&key.id).send();
    let last = last.await.unwrap();
    assert_eq!(last.user_name(), None);
    let used = last.access_key_last_used().unwrap();
    assert!(used.last_used_date().is_some());
    assert!(["s3", "iam"].contains(&used.service_name()), "{used:?}");

    let status = |s| {
        iam.update_access_key()
            .access_key_id(&key.id)
            .status(s)
            .send()
    };
    status(StatusType::Inactive).await.unwrap();
    assert_eq!(
        root_listed(&iam).await,
        [(key.id.clone(), "Inactive".into())]
    );
    assert_eq!(probe(&server, &key).await, refused());
    status(StatusType::Active).await.unwrap();
    assert_eq!(probe(&server, &key).await, ok());

    iam.delete_access_key()
        .access_key_id(&key.id)
        .send()
        .await
        .unwrap();
    assert_eq!(probe(&server, &key).await, refused());
    assert!(root_listed(&iam).await.is_empty());
    assert_eq!(account_keys_present(&iam).await, 0);
    let again = iam.delete_access_key().access_key_id(&key.id).send().await;
    assert_eq!(error_code_status(again), ("NoSuchEntity".into(), 404));
    let update = status(StatusType::Active).await;
    assert_eq!(error_code_status(update), ("NoSuchEntity".into(), 404));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_has_at_most_two_keys_apart_from_the_configured_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let first = own_key(&iam).await;
    let second = own_key(&iam).await;
    let third = iam.create_access_key().send().await;
    assert_eq!(error_code_status(third), ("LimitExceeded".into(), 409));
    // Inactive keys count too.
    iam.update_access_key()
        .access_key_id(&first.id)
        .status(StatusType::Inactive)
        .send()
        .await
        .unwrap();
    let third = iam.create_access_key().send().await;
    assert_eq!(error_code_status(third), ("LimitExceeded".into(), 409));
    let mut ids = vec![first.id.clone(), second.id.clone()];
    ids.sort();
    let listed: Vec<String> = root_listed(&iam).await.into_iter().map(|k| k.0).collect();
    assert_eq!(
        listed, ids,
        "the configured root credentials are not listed"
    );

    // The configured credentials are not one of these keys: not updatable or deletable here.
    let configured = iam
        .delete_access_key()
        .access_key_id("AKIAADMINNOTSTORED00")
        .send();
    assert_eq!(error_code(configured.await), "NoSuchEntity");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_keep_their_own_keys_apart_from_the_roots() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let (user_id, user_secret) = user_with_key(&iam, "alice").await;
    iam.put_user_policy()
        .user_name("alice")
        .policy_name("own-keys")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let root_key = own_key(&iam).await;

    // Alice without UserName: her own keys, not the root's.
    let alice = iam_client(server.addr(Listener::Iam), &user_id, &user_secret);
    let out = alice.list_access_keys().send().await.unwrap();
    let keys = out.access_key_metadata();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].access_key_id(), Some(user_id.as_str()));
    assert_eq!(keys[0].user_name(), Some("alice"));
    let theirs = alice
        .delete_access_key()
        .access_key_id(&root_key.id)
        .send()
        .await;
    assert_eq!(error_code(theirs), "NoSuchEntity");
    let theirs = alice
        .update_access_key()
        .access_key_id(&root_key.id)
        .status(StatusType::Inactive)
        .send()
        .await;
    assert_eq!(error_code(theirs), "NoSuchEntity");

    // The root naming alice still manages hers; its own list holds only its key.
    let out = iam
        .list_access_keys()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(out.access_key_metadata().len(), 1);
    assert_eq!(
        root_listed(&iam).await,
        [(root_key.id.clone(), "Active".into())]
    );
    // The root deleting its key by id leaves alice's alone, and cannot reach hers unnamed.
    let hers = iam.delete_access_key().access_key_id(&user_id).send().await;
    assert_eq!(error_code(hers), "NoSuchEntity");
    assert_eq!(probe(&server, &root_key).await, ok());
    let alice_s3 = s3_client_as(&server, &user_id, &user_secret);
    let denied = alice_s3.list_buckets().send().await;
    assert_eq!(
        error_code(denied),
        "AccessDenied",
        "alice is still not the root"
    );
    server.stop();
}

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
async fn root_keys_survive_a_restart_sealed() {
    if crate::common::postgres::sqlite_only("reads the SQLite file") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = spawn_with_root(dir.path());
    let iam = root_iam(&server);
    let active = own_key(&iam).await;
    let inactive = own_key(&iam).await;
    iam.update_access_key()
        .access_key_id(&inactive.id)
        .status(StatusType::Inactive)
        .send()
        .await
        .unwrap();
    assert_eq!(probe(&server, &active).await, ok());
    let (_, logs) = server.stop();
    let logs: String = logs.iter().map(ToString::to_string).collect();
    let bytes = database_bytes(dir.path());
    for key in [&active, &inactive] {
        assert!(contains(&bytes, &key.id), "key id {} not stored", key.id);
        assert!(!contains(&bytes, &key.secret), "a secret in plaintext");
        assert!(!logs.contains(&key.secret), "a secret in the logs");
    }

    let server = spawn_with_root(dir.path());
    assert_eq!(probe(&server, &active).await, ok());
    assert_eq!(probe(&server, &inactive).await, refused());
    let iam = root_iam(&server);
    let mut expected = vec![
        (active.id.clone(), "Active".to_owned()),
        (inactive.id.clone(), "Inactive".to_owned()),
    ];
    expected.sort();
    assert_eq!(root_listed(&iam).await, expected);
    let last = iam
        .get_access_key_last_used()
        .access_key_id(&active.id)
        .send();
    let used = last.await.unwrap();
    assert!(used
        .access_key_last_used()
        .unwrap()
        .last_used_date()
        .is_some());
    server.stop();
}
