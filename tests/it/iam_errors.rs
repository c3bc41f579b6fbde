//! Errors every IAM action shares, through `aws-sdk-iam` against the server: paging
//! parameters out of range, entities that do not exist, and callers that are not who they say
//! or may not act.
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html>

use crate::common;

use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_iam::Client;
use common::{allow, error_code, error_code_status, iam_client, request, root_iam};
use common::{start_with_root, ROOT_SECRET};

type Outcome = Result<(), (String, u16)>;

fn outcome<T, E>(result: Result<T, SdkError<E, aws_sdk_iam::config::http::HttpResponse>>) -> Outcome
where
    T: std::fmt::Debug,
    E: ProvideErrorMetadata + std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(()),
        Err(e) => Err(error_code_status(Err::<T, _>(e))),
    }
}

/// Every paginated IAM action, by its AWS name.
const LISTINGS: [&str; 13] = [
    "ListUsers",
    "ListGroups",
    "ListPolicies",
    "GetGroup",
    "ListGroupsForUser",
    "ListAccessKeys",
    "ListUserTags",
    "ListAttachedUserPolicies",
    "ListAttachedGroupPolicies",
    "ListUserPolicies",
    "ListGroupPolicies",
    "ListPolicyVersions",
    "ListEntitiesForPolicy",
];

/// Sends a request and keeps only its outcome.
macro_rules! sent {
    ($request:expr) => {
        outcome($request.send().await)
    };
}

/// Sends a listing request with the given paging parameters.
macro_rules! paged {
    ($request:expr, $max:expr, $marker:expr) => {
        sent!($request.set_max_items($max).set_marker($marker))
    };
}

/// Calls the listing `action` about user "u", group "g" and policy `arn`.
async fn list(iam: &Client, action: &str, arn: &str, max: Option<i32>, m: Option<&str>) -> Outcome {
    let m = m.map(str::to_owned);
    match action {
        "ListUsers" => paged!(iam.list_users(), max, m),
        "ListGroups" => paged!(iam.list_groups(), max, m),
        "ListPolicies" => paged!(iam.list_policies(), max, m),
        "GetGroup" => paged!(iam.get_group().group_name("g"), max, m),
        "ListGroupsForUser" => paged!(iam.list_groups_for_user().user_name("u"), max, m),
        "ListAccessKeys" => paged!(iam.list_access_keys().user_name("u"), max, m),
        "ListUserTags" => paged!(iam.list_user_tags().user_name("u"), max, m),
        "ListAttachedUserPolicies" => {
            paged!(iam.list_attached_user_policies().user_name("u"), max, m)
        }
        "ListAttachedGroupPolicies" => {
            paged!(iam.list_attached_group_policies().group_name("g"), max, m)
        }
        "ListUserPolicies" => paged!(iam.list_user_policies().user_name("u"), max, m),
        "ListGroupPolicies" => paged!(iam.list_group_policies().group_name("g"), max, m),
        "ListPolicyVersions" => paged!(iam.list_policy_versions().policy_arn(arn), max, m),
        "ListEntitiesForPolicy" => {
            paged!(iam.list_entities_for_policy().policy_arn(arn), max, m)
        }
        other => panic!("no listing {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_items_must_be_between_1_and_1000_on_every_listing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    iam.create_user().user_name("u").send().await.unwrap();
    iam.create_group().group_name("g").send().await.unwrap();
    let policy = iam
        .create_policy()
        .policy_name("p")
        .policy_document(allow("s3:*"))
        .send()
        .await
        .unwrap();
    let arn = policy.policy().unwrap().arn().unwrap().to_owned();

    let invalid = Err(("ValidationError".to_owned(), 400));
    for action in LISTINGS {
        for max in [0, -1, 1001] {
            let got = list(&iam, action, &arn, Some(max), None).await;
            assert_eq!(got, invalid, "{action} MaxItems={max}");
        }
        for max in [None, Some(1), Some(1000)] {
            let got = list(&iam, action, &arn, max, None).await;
            assert_eq!(got, Ok(()), "{action} MaxItems={max:?}");
        }
        let got = list(&iam, action, &arn, None, Some("")).await;
        assert_eq!(got, invalid, "{action} empty Marker");
    }
    server.stop();
}

/// Every action that names one user, group, policy or key, other than the listings.
const NAMING: [&str; 29] = [
    "GetUser",
    "UpdateUser",
    "DeleteUser",
    "TagUser",
    "UntagUser",
    "CreateAccessKey",
    "UpdateAccessKey",
    "DeleteAccessKey",
    "GetAccessKeyLastUsed",
    "UpdateGroup",
    "DeleteGroup",
    "AddUserToGroup",
    "RemoveUserFromGroup",
    "GetPolicy",
    "DeletePolicy",
    "CreatePolicyVersion",
    "GetPolicyVersion",
    "SetDefaultPolicyVersion",
    "DeletePolicyVersion",
    "AttachUserPolicy",
    "DetachUserPolicy",
    "AttachGroupPolicy",
    "DetachGroupPolicy",
    "PutUserPolicy",
    "GetUserPolicy",
    "DeleteUserPolicy",
    "PutGroupPolicy",
    "GetGroupPolicy",
    "DeleteGroupPolicy",
];

const MISSING_ARN: &str = "arn:aws:iam::000000000000:policy/missing";
const MISSING_KEY: &str = "AKIAAAAAAAAAAAAAAAAA";

/// Calls `action` about user "u", group "g", policy `MISSING_ARN`, key `MISSING_KEY`,
/// inline policy "p" and version "v2".
async fn call(iam: &Client, action: &str) -> Outcome {
    let (arn, key, doc) = (MISSING_ARN, MISSING_KEY, allow("s3:*"));
    let tag = aws_sdk_iam::types::Tag::builder()
        .key("k")
        .value("v")
        .build();
    match action {
        "GetUser" => sent!(iam.get_user().user_name("u")),
        "UpdateUser" => sent!(iam.update_user().user_name("u").new_path("/x/")),
        "DeleteUser" => sent!(iam.delete_user().user_name("u")),
        "TagUser" => sent!(iam.tag_user().user_name("u").tags(tag.unwrap())),
        "UntagUser" => sent!(iam.untag_user().user_name("u").tag_keys("k")),
        "CreateAccessKey" => sent!(iam.create_access_key().user_name("u")),
        "UpdateAccessKey" => {
            let update = iam.update_access_key().user_name("u").access_key_id(key);
            sent!(update.status("Inactive".into()))
        }
        "DeleteAccessKey" => sent!(iam.delete_access_key().user_name("u").access_key_id(key)),
        "GetAccessKeyLastUsed" => sent!(iam.get_access_key_last_used().access_key_id(key)),
        "UpdateGroup" => sent!(iam.update_group().group_name("g").new_path("/x/")),
        "DeleteGroup" => sent!(iam.delete_group().group_name("g")),
        "AddUserToGroup" => sent!(iam.add_user_to_group().group_name("g").user_name("u")),
        "RemoveUserFromGroup" => {
            sent!(iam.remove_user_from_group().group_name("g").user_name("u"))
        }
        "GetPolicy" => sent!(iam.get_policy().policy_arn(arn)),
        "DeletePolicy" => sent!(iam.delete_policy().policy_arn(arn)),
        "CreatePolicyVersion" => {
            sent!(iam
                .create_policy_version()
                .policy_arn(arn)
                .policy_document(doc))
        }
        "GetPolicyVersion" => sent!(iam.get_policy_version().policy_arn(arn).version_id("v2")),
        "SetDefaultPolicyVersion" => {
            sent!(iam
                .set_default_policy_version()
                .policy_arn(arn)
                .version_id("v2"))
        }
        "DeletePolicyVersion" => {
            sent!(iam.delete_policy_version().policy_arn(arn).version_id("v2"))
        }
        "AttachUserPolicy" => sent!(iam.attach_user_policy().user_name("u").policy_arn(arn)),
        "DetachUserPolicy" => sent!(iam.detach_user_policy().user_name("u").policy_arn(arn)),
        "AttachGroupPolicy" => sent!(iam.attach_group_policy().group_name("g").policy_arn(arn)),
        "DetachGroupPolicy" => sent!(iam.detach_group_policy().group_name("g").policy_arn(arn)),
        "PutUserPolicy" => {
            let put = iam.put_user_policy().user_name("u").policy_name("p");
            sent!(put.policy_document(doc))
        }
        "GetUserPolicy" => sent!(iam.get_user_policy().user_name("u").policy_name("p")),
        "DeleteUserPolicy" => sent!(iam.delete_user_policy().user_name("u").policy_name("p")),
        "PutGroupPolicy" => {
            let put = iam.put_group_policy().group_name("g").policy_name("p");
            sent!(put.policy_document(doc))
        }
        "GetGroupPolicy" => sent!(iam.get_group_policy().group_name("g").policy_name("p")),
        "DeleteGroupPolicy" => sent!(iam.delete_group_policy().group_name("g").policy_name("p")),
        other => panic!("no action {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_naming_a_missing_entity_answer_no_such_entity() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let not_found = Err(("NoSuchEntity".to_owned(), 404));
    // Nothing exists yet.
    for action in NAMING {
        assert_eq!(call(&iam, action).await, not_found, "{action}");
    }
    let global = ["ListUsers", "ListGroups", "ListPolicies"];
    for action in LISTINGS.into_iter().filter(|a| !global.contains(a)) {
        let got = list(&iam, action, MISSING_ARN, None, None).await;
        assert_eq!(got, not_found, "{action}");
    }
    // The user, group and policy exist but the key, inline policy, version and attachments
    // named do not.
    iam.create_user().user_name("u").send().await.unwrap();
    iam.create_group().group_name("g").send().await.unwrap();
    let create = iam.create_policy().policy_name("missing");
    create.policy_document(allow("s3:*")).send().await.unwrap();
    let still_missing = [
        "UpdateAccessKey",
        "DeleteAccessKey",
        "GetAccessKeyLastUsed",
        "RemoveUserFromGroup",
        "GetPolicyVersion",
        "SetDefaultPolicyVersion",
        "DeletePolicyVersion",
        "DetachUserPolicy",
        "DetachGroupPolicy",
        "GetUserPolicy",
        "DeleteUserPolicy",
        "GetGroupPolicy",
        "DeleteGroupPolicy",
    ];
    for action in still_missing {
        assert_eq!(call(&iam, action).await, not_found, "{action} (2)");
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_that_cannot_authenticate_are_refused_with_403() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    iam.create_user().user_name("u").send().await.unwrap();
    let key = iam.create_access_key().user_name("u").send().await.unwrap();
    let key_id = key.access_key().unwrap().access_key_id().to_owned();

    let cases = [
        (
            "AKIAUNKNOWNUNKNOWN22",
            "x".repeat(40),
            "InvalidClientTokenId",
        ),
        (key_id.as_str(), "y".repeat(40), "SignatureDoesNotMatch"),
        (
            "admin",
            format!("{ROOT_SECRET}-wrong"),
            "SignatureDoesNotMatch",
        ),
    ];
    for (access, secret, expected) in cases {
        let client = iam_client(server.iam, access, &secret);
        let created = client.create_user().user_name("intruder").send().await;
        assert_eq!(
            error_code_status(created),
            (expected.to_owned(), 403),
            "{access}"
        );
    }
    let unsigned = request(
        server.iam,
        "POST",
        "/?Action=ListUsers&Version=2010-05-08",
        "",
    );
    assert_eq!(unsigned.status, 403);
    assert!(
        unsigned
            .body
            .contains("<Code>MissingAuthenticationToken</Code>"),
        "{}",
        unsigned.body
    );
    assert!(
        unsigned.body.contains("<Type>Sender</Type>"),
        "{}",
        unsigned.body
    );
    let intruder = iam.get_user().user_name("intruder").send().await;
    assert_eq!(error_code(intruder), "NoSuchEntity");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_denied_every_action_and_change_nothing() {
    // Until policies are evaluated, only the root may call IAM: a user's authenticated
    // request is refused with AccessDenied and has no effect.
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    iam.create_user().user_name("u").send().await.unwrap();
    let key = iam.create_access_key().user_name("u").send().await.unwrap();
    let key = key.access_key().unwrap();
    let user = iam_client(server.iam, key.access_key_id(), key.secret_access_key());
    let doc = allow("s3:*");

    let calls: Vec<(&str, Outcome)> = vec![
        ("GetUser", outcome(user.get_user().send().await)),
        (
            "CreateUser",
            outcome(user.create_user().user_name("x").send().await),
        ),
        (
            "DeleteUser",
            outcome(user.delete_user().user_name("u").send().await),
        ),
        (
            "CreateAccessKey",
            outcome(user.create_access_key().send().await),
        ),
        (
            "ListAccessKeys",
            outcome(user.list_access_keys().send().await),
        ),
        (
            "CreateGroup",
            outcome(user.create_group().group_name("x").send().await),
        ),
        (
            "CreatePolicy",
            outcome(
                user.create_policy()
                    .policy_name("x")
                    .policy_document(&doc)
                    .send()
                    .await,
            ),
        ),
        (
            "PutUserPolicy",
            outcome(
                user.put_user_policy()
                    .user_name("u")
                    .policy_name("x")
                    .policy_document(&doc)
                    .send()
                    .await,
            ),
        ),
        (
            "GetAccountSummary",
            outcome(user.get_account_summary().send().await),
        ),
    ];
    for (action, got) in calls {
        assert_eq!(got, Err(("AccessDenied".to_owned(), 403)), "{action}");
    }
    let users = iam.list_users().send().await.unwrap();
    let names: Vec<&str> = users.users().iter().map(|u| u.user_name()).collect();
    assert_eq!(names, ["u"]);
    let keys = iam.list_access_keys().user_name("u").send().await.unwrap();
    assert_eq!(keys.access_key_metadata().len(), 1);
    assert!(iam.list_groups().send().await.unwrap().groups().is_empty());
    assert!(iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .unwrap()
        .policies()
        .is_empty());
    let inline = iam
        .list_user_policies()
        .user_name("u")
        .send()
        .await
        .unwrap();
    assert!(inline.policy_names().is_empty());
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_required_parameters_are_validation_errors() {
    // aws-sdk-iam sends a request without its required members, so the server's check is
    // what answers.
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    iam.create_user().user_name("u").send().await.unwrap();
    iam.create_group().group_name("g").send().await.unwrap();
    let create = iam
        .create_policy()
        .policy_name("p")
        .policy_document(allow("s3:*"));
    let policy = create.send().await.unwrap();
    let arn = policy.policy().unwrap().arn().unwrap().to_owned();
    let (doc, key) = (allow("s3:*"), MISSING_KEY);

    let calls: Vec<(&str, Outcome)> = vec![
        ("CreateUser UserName", sent!(iam.create_user())),
        (
            "UpdateUser UserName",
            sent!(iam.update_user().new_path("/x/")),
        ),
        ("DeleteUser UserName", sent!(iam.delete_user())),
        ("TagUser Tags", sent!(iam.tag_user().user_name("u"))),
        ("UntagUser TagKeys", sent!(iam.untag_user().user_name("u"))),
        ("ListUserTags UserName", sent!(iam.list_user_tags())),
        ("UpdateAccessKey Status", {
            sent!(iam.update_access_key().user_name("u").access_key_id(key))
        }),
        ("UpdateAccessKey AccessKeyId", {
            sent!(iam
                .update_access_key()
                .user_name("u")
                .status("Active".into()))
        }),
        (
            "DeleteAccessKey AccessKeyId",
            sent!(iam.delete_access_key().user_name("u")),
        ),
        (
            "GetAccessKeyLastUsed AccessKeyId",
            sent!(iam.get_access_key_last_used()),
        ),
        ("CreateGroup GroupName", sent!(iam.create_group())),
        ("GetGroup GroupName", sent!(iam.get_group())),
        ("DeleteGroup GroupName", sent!(iam.delete_group())),
        (
            "AddUserToGroup UserName",
            sent!(iam.add_user_to_group().group_name("g")),
        ),
        ("RemoveUserFromGroup GroupName", {
            sent!(iam.remove_user_from_group().user_name("u"))
        }),
        (
            "CreatePolicy PolicyName",
            sent!(iam.create_policy().policy_document(&doc)),
        ),
        (
            "CreatePolicy PolicyDocument",
            sent!(iam.create_policy().policy_name("q")),
        ),
        ("GetPolicy PolicyArn", sent!(iam.get_policy())),
        ("CreatePolicyVersion PolicyDocument", {
            sent!(iam.create_policy_version().policy_arn(&arn))
        }),
        (
            "GetPolicyVersion VersionId",
            sent!(iam.get_policy_version().policy_arn(&arn)),
        ),
        ("SetDefaultPolicyVersion VersionId", {
            sent!(iam.set_default_policy_version().policy_arn(&arn))
        }),
        (
            "AttachUserPolicy PolicyArn",
            sent!(iam.attach_user_policy().user_name("u")),
        ),
        (
            "AttachGroupPolicy GroupName",
            sent!(iam.attach_group_policy().policy_arn(&arn)),
        ),
        (
            "ListEntitiesForPolicy PolicyArn",
            sent!(iam.list_entities_for_policy()),
        ),
        ("PutUserPolicy PolicyDocument", {
            sent!(iam.put_user_policy().user_name("u").policy_name("i"))
        }),
        ("PutGroupPolicy PolicyName", {
            sent!(iam.put_group_policy().group_name("g").policy_document(&doc))
        }),
        (
            "GetUserPolicy PolicyName",
            sent!(iam.get_user_policy().user_name("u")),
        ),
    ];
    for (what, got) in calls {
        assert_eq!(got, Err(("ValidationError".to_owned(), 400)), "{what}");
    }
    // Nothing was created or changed by the refused calls.
    let users = iam.list_users().send().await.unwrap();
    assert_eq!(users.users().len(), 1);
    let local = aws_sdk_iam::types::PolicyScopeType::Local;
    let policies = iam.list_policies().scope(local).send().await.unwrap();
    assert_eq!(policies.policies().len(), 1);
    server.stop();
}
