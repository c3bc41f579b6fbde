//! The IAM API through `aws-sdk-iam`, end to end: the root manages users and keys, and a new
//! user's key authenticates (and is refused IAM calls until policies are evaluated).

use crate::common;

use common::{error_code, iam_client, root_iam, start_with_root};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_creates_a_user_and_its_key_authenticates() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);

    let created = iam
        .create_user()
        .user_name("alice")
        .path("/team/")
        .send()
        .await
        .unwrap();
    let user = created.user().unwrap();
    assert_eq!(user.user_name(), "alice");
    assert_eq!(user.arn(), "arn:aws:iam::000000000000:user/team/alice");
    assert!(user.user_id().starts_with("AIDA"));

    let key = iam
        .create_access_key()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    assert!(key.access_key_id().starts_with("AKIA"));
    assert_eq!(key.secret_access_key().len(), 40);

    let as_alice = iam_client(server.iam, key.access_key_id(), key.secret_access_key());
    assert_eq!(
        error_code(as_alice.list_users().send().await),
        "AccessDenied"
    );
    let wrong = iam_client(
        server.iam,
        key.access_key_id(),
        "not-the-secret-at-all-xxxxxxxxxxxxxxxxxx",
    );
    assert_eq!(
        error_code(wrong.list_users().send().await),
        "SignatureDoesNotMatch"
    );

    let me = iam.get_user().send().await.unwrap();
    assert_eq!(me.user().unwrap().arn(), "arn:aws:iam::000000000000:root");

    iam.delete_access_key()
        .user_name("alice")
        .access_key_id(key.access_key_id())
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(as_alice.list_users().send().await),
        "InvalidClientTokenId"
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_last_use_is_recorded_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    iam.create_user().user_name("dave").send().await.unwrap();
    let key = iam
        .create_access_key()
        .user_name("dave")
        .send()
        .await
        .unwrap();
    let id = key.access_key().unwrap().access_key_id().to_owned();
    let secret = key.access_key().unwrap().secret_access_key().to_owned();

    let unused = iam
        .get_access_key_last_used()
        .access_key_id(&id)
        .send()
        .await
        .unwrap();
    let last = unused.access_key_last_used().unwrap();
    assert_eq!((last.service_name(), last.region()), ("N/A", "N/A"));
    assert!(last.last_used_date().is_none());

    let as_dave = iam_client(server.iam, &id, &secret);
    let _ = as_dave.list_users().send().await;
    let used = iam
        .get_access_key_last_used()
        .access_key_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(used.user_name(), Some("dave"));
    let last = used.access_key_last_used().unwrap();
    assert_eq!((last.service_name(), last.region()), ("iam", "us-east-1"));
    assert!(last.last_used_date().is_some());

    // Written to the database at shutdown at the latest.
    server.stop();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let after = iam
        .get_access_key_last_used()
        .access_key_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(after.access_key_last_used().unwrap().service_name(), "iam");
    server.stop();
}
