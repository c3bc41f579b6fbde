//! The in-process fixture itself: it serves sync and async tests alike, the users it makes get
//! what their policy allows and no more, a refused start is an error, and dropping it stops
//! the server in its shutdown order and removes its files.

use crate::common::{self, TestServer};

use aws_sdk_s3::primitives::ByteStream;
use labstore::db::DbError;

#[tokio::test]
async fn users_get_what_their_policy_allows_and_stopping_closes_the_server() {
    let server = TestServer::start();
    server.with_bucket("shared").await;
    let reader = server.with_user(&common::allow("s3:GetObject")).await;
    let writer = server.with_user(&common::allow("s3:PutObject")).await;
    assert_ne!(reader.name, writer.name);
    let put = |s3: &aws_sdk_s3::Client| {
        s3.put_object()
            .bucket("shared")
            .key("k")
            .body(ByteStream::from_static(b"v"))
            .send()
    };
    put(&writer.s3).await.unwrap();
    let denied = ("AccessDenied".to_owned(), 403);
    assert_eq!(common::error_code_status(put(&reader.s3).await), denied);
    let got = reader
        .s3
        .get_object()
        .bucket("shared")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(got.body.collect().await.unwrap().into_bytes(), "v");
    // The user's IAM client signs with a working key: refused for want of a permission.
    let listed = reader.iam.list_users().send().await;
    assert_eq!(common::error_code(listed), "AccessDenied");

    let state = server.state().clone();
    let dir = server.dir.clone();
    server.stop();
    assert!(!dir.exists(), "the temp dir outlived the server");
    let late = state.iam.db().write(|_| Ok::<_, DbError>(())).await;
    assert!(
        matches!(late, Err(DbError::Closed(_))),
        "the writer was not closed: {late:?}"
    );
}

#[test]
fn a_sync_test_reaches_the_fixtures_through_block_on() {
    let server = TestServer::start();
    server.block_on(server.with_bucket("sync"));
    let user = server.block_on(server.with_user(&common::allow("s3:ListBucket")));
    let listed = server
        .block_on(user.s3.list_objects_v2().bucket("sync").send())
        .unwrap();
    assert_eq!(listed.key_count(), Some(0));
    let put = server.block_on(user.s3.put_object().bucket("sync").key("k").send());
    assert_eq!(
        common::error_code_status(put),
        ("AccessDenied".to_owned(), 403)
    );
    assert_eq!(common::get(server.admin, "/ready").status, 200);
}

#[test]
fn a_refused_start_is_an_error_naming_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let env = [("LABSTORE_BACKEND_S3_SERVER_PORT", port.as_str())];
    let refused = TestServer::start_with(dir.path(), &env).err().unwrap();
    assert!(refused.contains("cannot bind the s3 listener"), "{refused}");
    let bad = [("LABSTORE_BACKEND_S3_SERVER_PORT", "not-a-port")];
    let refused = TestServer::start_with(dir.path(), &bad).err().unwrap();
    assert!(refused.contains("backend.s3.server.port"), "{refused}");
}
