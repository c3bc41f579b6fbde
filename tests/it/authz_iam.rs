//! Authorization of IAM requests from IAM users, against the server through
//! aws-sdk-iam: `iam:<Action>` on the target's ARN (path included), `${aws:username}` for
//! self-service, and refusals that say nothing about whether the target exists.

use crate::common;

use common::{error_code, iam_client, root_iam, start_with_root, user_with_key};

fn policy(statements: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#)
}

async fn put_user_policy(iam: &aws_sdk_iam::Client, user: &str, document: &str) {
    iam.put_user_policy()
        .user_name(user)
        .policy_name("p")
        .policy_document(document)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_user_allowed_only_list_users_can_list_users_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let root = root_iam(&server);
    let (key, secret) = user_with_key(&root, "auditor").await;
    root.create_user().user_name("bob").send().await.unwrap();
    let auditor = iam_client(server.iam, &key, &secret);
    assert_eq!(
        error_code(auditor.list_users().send().await),
        "AccessDenied"
    );
    put_user_policy(&root, "auditor", &common::allow("iam:ListUsers")).await;

    let listed = auditor.list_users().send().await.unwrap();
    let mut names: Vec<_> = listed.users().iter().map(|u| u.user_name()).collect();
    names.sort_unstable();
    assert_eq!(names, ["auditor", "bob"]);
    assert_eq!(
        error_code(auditor.list_groups().send().await),
        "AccessDenied"
    );
    assert_eq!(error_code(auditor.get_user().send().await), "AccessDenied");
    let created = auditor.create_user().user_name("mallory").send().await;
    assert_eq!(error_code(created), "AccessDenied");
    let deleted = auditor.delete_user().user_name("bob").send().await;
    assert_eq!(error_code(deleted), "AccessDenied");
    let attached = auditor
        .put_user_policy()
        .user_name("auditor")
        .policy_name("escalate")
        .policy_document(common::allow("*"))
        .send()
        .await;
    assert_eq!(error_code(attached), "AccessDenied");
    // Nothing was changed by the refused calls.
    let names = root.list_users().send().await.unwrap();
    assert_eq!(names.users().len(), 2);
}

/// The self-service policy: each user manages its own access keys and nobody else's.
#[tokio::test]
async fn users_manage_their_own_keys_through_aws_username() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let root = root_iam(&server);
    let account = root.get_user().send().await.unwrap();
    let account = account
        .user()
        .unwrap()
        .arn()
        .split(':')
        .nth(4)
        .unwrap()
        .to_owned();
    let (key, secret) = user_with_key(&root, "alice").await;
    user_with_key(&root, "bob").await;
    let own_keys = policy(&format!(
        r#"{{"Effect":"Allow","Action":["iam:*AccessKey*","iam:GetUser"],
             "Resource":"arn:aws:iam::{account}:user/${{aws:username}}"}}"#
    ));
    put_user_policy(&root, "alice", &own_keys).await;
    let alice = iam_client(server.iam, &key, &secret);

    let me = alice.get_user().send().await.unwrap();
    assert_eq!(me.user().unwrap().user_name(), "alice");
    let second = alice.create_access_key().send().await.unwrap();
    assert_eq!(second.access_key().unwrap().user_name(), "alice");
    let mine = alice.list_access_keys().send().await.unwrap();
    assert_eq!(mine.access_key_metadata().len(), 2);
    let theirs = alice.list_access_keys().user_name("bob").send().await;
    assert_eq!(error_code(theirs), "AccessDenied");
    let for_bob = alice.create_access_key().user_name("bob").send().await;
    assert_eq!(error_code(for_bob), "AccessDenied");
    let bobs = alice.get_user().user_name("bob").send().await;
    assert_eq!(error_code(bobs), "AccessDenied");
    assert_eq!(
        root.list_access_keys()
            .user_name("bob")
            .send()
            .await
            .unwrap()
            .access_key_metadata()
            .len(),
        1
    );
}

/// A user's ARN includes its path; so a grant on a path covers the users under it.
#[tokio::test]
async fn targets_are_named_with_their_paths() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let root = root_iam(&server);
    let (key, secret) = user_with_key(&root, "operator").await;
    root.create_user()
        .user_name("deploy")
        .path("/ci/")
        .send()
        .await
        .unwrap();
    root.create_user().user_name("carol").send().await.unwrap();
    let ci_only = policy(
        r#"{"Effect":"Allow","Action":["iam:GetUser","iam:TagUser","iam:CreateUser"],
            "Resource":"arn:aws:iam::*:user/ci/*"}"#,
    );
    put_user_policy(&root, "operator", &ci_only).await;
    let operator = iam_client(server.iam, &key, &secret);

    let deploy = operator
        .get_user()
        .user_name("deploy")
        .send()
        .await
        .unwrap();
    assert_eq!(deploy.user().unwrap().path(), "/ci/");
    let carol = operator.get_user().user_name("carol").send().await;
    assert_eq!(error_code(carol), "AccessDenied");
    operator
        .create_user()
        .user_name("runner")
        .path("/ci/")
        .send()
        .await
        .unwrap();
    let outside = operator.create_user().user_name("runner2").send().await;
    assert_eq!(error_code(outside), "AccessDenied");
    // Refusals read the same whether or not the target exists.
    let missing = operator.get_user().user_name("nobody").send().await;
    let existing = operator.get_user().user_name("carol").send().await;
    let message = |r: Result<_, aws_sdk_iam::error::SdkError<_, _>>| {
        let e = r.unwrap_err();
        let e = e.as_service_error().unwrap();
        aws_sdk_iam::error::ProvideErrorMetadata::message(e)
            .unwrap()
            .to_owned()
    };
    assert_eq!(message(missing), message(existing));
}

/// Renaming or moving a user or group acts on it as it is and as it will be: AWS asks for
/// `iam:UpdateUser` (`iam:UpdateGroup`) on both, so a grant on `user/alice` alone cannot take
/// her to another name or path, where other grants (or none) apply.
/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateUser.html>
#[tokio::test]
async fn a_rename_or_move_needs_permission_on_the_source_and_the_destination() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let root = root_iam(&server);
    let (key, secret) = user_with_key(&root, "operator").await;
    root.create_user().user_name("alice").send().await.unwrap();
    root.create_group().group_name("devs").send().await.unwrap();
    let grant = |action: &str, arns: &[&str]| {
        let resources: Vec<String> = arns
            .iter()
            .map(|arn| format!("\"arn:aws:iam::*:{arn}\""))
            .collect();
        policy(&format!(
            r#"{{"Effect":"Allow","Action":"{action}","Resource":[{}]}}"#,
            resources.join(",")
        ))
    };
    put_user_policy(&root, "operator", &grant("iam:UpdateUser", &["user/alice"])).await;
    let operator = iam_client(server.iam, &key, &secret);

    let rename = operator
        .update_user()
        .user_name("alice")
        .new_user_name("mallory");
    assert_eq!(error_code(rename.send().await), "AccessDenied");
    let moved = operator
        .update_user()
        .user_name("alice")
        .new_path("/admins/");
    assert_eq!(error_code(moved.send().await), "AccessDenied");
    let alice = root.get_user().user_name("alice").send().await.unwrap();
    assert_eq!(alice.user().unwrap().path(), "/");
    let mallory = root.get_user().user_name("mallory").send().await;
    assert_eq!(error_code(mallory), "NoSuchEntity");

    // Allowed on both ends, each step goes through.
    let both = grant(
        "iam:UpdateUser",
        &["user/alice", "user/mallory", "user/admins/mallory"],
    );
    put_user_policy(&root, "operator", &both).await;
    let rename = operator
        .update_user()
        .user_name("alice")
        .new_user_name("mallory");
    rename.send().await.unwrap();
    let moved = operator
        .update_user()
        .user_name("mallory")
        .new_path("/admins/");
    moved.send().await.unwrap();
    let mallory = root.get_user().user_name("mallory").send().await.unwrap();
    assert_eq!(mallory.user().unwrap().path(), "/admins/");
    // Nor back out of /admins/ to a name the grant does not cover.
    let out = operator
        .update_user()
        .user_name("mallory")
        .new_path("/")
        .new_user_name("eve");
    assert_eq!(error_code(out.send().await), "AccessDenied");

    // Groups the same way.
    put_user_policy(
        &root,
        "operator",
        &grant("iam:UpdateGroup", &["group/devs"]),
    )
    .await;
    let group = operator
        .update_group()
        .group_name("devs")
        .new_group_name("admins");
    assert_eq!(error_code(group.send().await), "AccessDenied");
    let group = operator.update_group().group_name("devs").new_path("/ops/");
    assert_eq!(error_code(group.send().await), "AccessDenied");
    let both = grant("iam:UpdateGroup", &["group/devs", "group/ops/devs"]);
    put_user_policy(&root, "operator", &both).await;
    let group = operator.update_group().group_name("devs").new_path("/ops/");
    group.send().await.unwrap();
    let devs = root.get_group().group_name("devs").send().await.unwrap();
    assert_eq!(devs.group().unwrap().path(), "/ops/");

    // The root needs no grant.
    root.update_user()
        .user_name("mallory")
        .new_user_name("alice")
        .new_path("/")
        .send()
        .await
        .unwrap();
    root.update_group()
        .group_name("devs")
        .new_group_name("admins")
        .send()
        .await
        .unwrap();
    root.get_user().user_name("alice").send().await.unwrap();
    root.get_group().group_name("admins").send().await.unwrap();
}
