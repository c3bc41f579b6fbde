//! IAM roles through `aws-sdk-iam` against the server: CreateRole, GetRole, ListRoles,
//! UpdateRole, UpdateRoleDescription, UpdateAssumeRolePolicy, DeleteRole, their inline and
//! attached policies, tags, the trust policy's validation, and who may manage them.
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html> (and siblings)

use crate::common;

use aws_sdk_iam::types::{EntityType, SummaryKeyType, Tag};
use aws_sdk_iam::Client;
use common::{
    all_pages, allow, decode_document, error_code, error_code_status, root_iam, start_with_root,
};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}"#;

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}

/// The code and message of a failed SDK call.
fn code_message<T: std::fmt::Debug, E, R>(
    result: Result<T, aws_sdk_iam::error::SdkError<E, R>>,
) -> (String, String)
where
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    let e = result.expect_err("expected an error");
    let service = e.as_service_error().expect("a service error");
    (
        service.code().unwrap_or_default().to_owned(),
        service.message().unwrap_or_default().to_owned(),
    )
}

async fn create(iam: &Client, name: &str) {
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateRole {name}: {e:?}"));
}

async fn managed_policy(iam: &Client, name: &str) -> String {
    let out = iam
        .create_policy()
        .policy_name(name)
        .policy_document(allow("s3:GetObject"))
        .send()
        .await
        .unwrap();
    out.policy().unwrap().arn().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_get_update_and_delete_a_role() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);

    let out = iam
        .create_role()
        .role_name("Deployer")
        .path("/ci/")
        .assume_role_policy_document(TRUST)
        .description("deploys things")
        .max_session_duration(7200)
        .tags(tag("team", "ops"))
        .send()
        .await
        .unwrap();
    let role = out.role().unwrap();
    assert_eq!(role.role_name(), "Deployer");
    assert_eq!(role.path(), "/ci/");
    assert_eq!(role.arn(), "arn:aws:iam::000000000000:role/ci/Deployer");
    assert!(role.role_id().starts_with("AROA") && role.role_id().len() == 21);
    assert_eq!(role.description(), Some("deploys things"));
    assert_eq!(role.max_session_duration(), Some(7200));
    assert_eq!(role.tags().len(), 1);
    let sent: serde_json::Value = serde_json::from_str(TRUST).unwrap();
    assert_eq!(
        decode_document(role.assume_role_policy_document().unwrap()),
        sent
    );

    // Looked up regardless of case, shown as created.
    let got = iam.get_role().role_name("deployer").send().await.unwrap();
    let got = got.role().unwrap();
    assert_eq!(got.role_name(), "Deployer");
    assert_eq!(got.role_id(), role.role_id());
    assert_eq!(got.tags()[0].key(), "team");

    iam.update_role()
        .role_name("Deployer")
        .max_session_duration(43200)
        .send()
        .await
        .unwrap();
    let updated = iam
        .update_role_description()
        .role_name("Deployer")
        .description("ships releases")
        .send()
        .await
        .unwrap();
    let updated = updated.role().unwrap();
    assert_eq!(updated.description(), Some("ships releases"));
    assert_eq!(updated.max_session_duration(), Some(43200));

    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#;
    iam.update_assume_role_policy()
        .role_name("Deployer")
        .policy_document(trust)
        .send()
        .await
        .unwrap();
    let got = iam.get_role().role_name("Deployer").send().await.unwrap();
    let got = got.role().unwrap();
    assert_eq!(
        decode_document(got.assume_role_policy_document().unwrap()),
        serde_json::from_str::<serde_json::Value>(trust).unwrap()
    );
    assert_eq!(got.max_session_duration(), Some(43200));

    iam.delete_role()
        .role_name("DEPLOYER")
        .send()
        .await
        .unwrap();
    let (code, status) = error_code_status(iam.get_role().role_name("Deployer").send().await);
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_are_unique_regardless_of_case_and_unknown_roles_are_no_such_entity() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    create(&iam, "Builder").await;

    let result = iam
        .create_role()
        .role_name("BUILDER")
        .assume_role_policy_document(TRUST)
        .send()
        .await;
    let (code, message) = code_message(result);
    assert_eq!(code, "EntityAlreadyExists");
    assert_eq!(message, "Role with name BUILDER already exists.");

    let (code, message) = code_message(iam.get_role().role_name("ghost").send().await);
    assert_eq!(code, "NoSuchEntity");
    assert_eq!(message, "The role with name ghost cannot be found.");
    for result in [
        error_code(iam.delete_role().role_name("ghost").send().await),
        error_code(
            iam.update_role()
                .role_name("ghost")
                .description("x")
                .send()
                .await,
        ),
        error_code(
            iam.update_assume_role_policy()
                .role_name("ghost")
                .policy_document(TRUST)
                .send()
                .await,
        ),
        error_code(iam.list_role_policies().role_name("ghost").send().await),
        error_code(iam.list_role_tags().role_name("ghost").send().await),
    ] {
        assert_eq!(result, "NoSuchEntity");
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_roles_pages_and_filters_by_path_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    for (name, path) in [
        ("e", "/x/"),
        ("d", "/team/"),
        ("c", "/team/sub/"),
        ("b", "/"),
        ("a", "/"),
    ] {
        iam.create_role()
            .role_name(name)
            .path(path)
            .assume_role_policy_document(TRUST)
            .send()
            .await
            .unwrap();
    }
    let pages = all_pages(10, |marker| {
        let iam = iam.clone();
        async move {
            let out = iam
                .list_roles()
                .max_items(2)
                .set_marker(marker)
                .send()
                .await
                .unwrap();
            let names = out
                .roles()
                .iter()
                .map(|r| r.role_name().to_owned())
                .collect();
            (names, out.is_truncated(), out.marker().map(str::to_owned))
        }
    })
    .await;
    assert_eq!(pages, [vec!["a", "b"], vec!["c", "d"], vec!["e"]]);

    let out = iam.list_roles().path_prefix("/team/").send().await.unwrap();
    let names: Vec<_> = out.roles().iter().map(|r| r.role_name()).collect();
    assert_eq!(names, ["c", "d"]);
    // Listings leave out tags and last use, as AWS's do; they keep the trust policy.
    assert!(out.roles()[0].assume_role_policy_document().is_some());
    assert!(out.roles()[0].role_last_used().is_none());
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_are_validation_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let create = |name: String| {
        iam.create_role()
            .role_name(name)
            .assume_role_policy_document(TRUST)
    };
    create("r".repeat(64)).send().await.unwrap();
    assert_eq!(
        error_code(create("r".repeat(65)).send().await),
        "ValidationError"
    );
    assert_eq!(
        error_code(create("a b".into()).send().await),
        "ValidationError"
    );
    assert_eq!(
        error_code(create("p".into()).path("nopath").send().await),
        "ValidationError"
    );
    assert_eq!(
        error_code(
            create("d".into())
                .description("x".repeat(1001))
                .send()
                .await
        ),
        "ValidationError"
    );
    create("d".into())
        .description("x".repeat(1000))
        .send()
        .await
        .unwrap();
    for bad in [3599, 43201] {
        let (code, message) =
            code_message(create("m".into()).max_session_duration(bad).send().await);
        assert_eq!(code, "ValidationError", "{bad}");
        assert!(message.contains("maxSessionDuration"), "{message}");
    }
    for bad in [0, 43201] {
        let result = iam
            .update_role()
            .role_name("d")
            .max_session_duration(bad)
            .send()
            .await;
        assert_eq!(error_code(result), "ValidationError");
    }
    let (code, _) = code_message(
        create("b".into())
            .permissions_boundary("arn:aws:iam::000000000000:policy/b")
            .send()
            .await,
    );
    // A boundary must be an existing managed policy.
    assert_eq!(code, "NoSuchEntity");
    // Nothing was created by the refused requests.
    let out = iam.list_roles().send().await.unwrap();
    assert_eq!(out.roles().len(), 2);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_policies_are_validated_as_aws_validates_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let statement = |body: &str| format!(r#"{{"Version":"2012-10-17","Statement":[{{{body}}}]}}"#);
    let cases = [
        (
            r#""Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Resource":"*""#,
            "Has prohibited field Resource",
        ),
        (
            r#""Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","NotResource":"*""#,
            "Has prohibited field NotResource",
        ),
        (
            r#""Effect":"Allow","Action":"sts:AssumeRole""#,
            "Missing required field Principal",
        ),
        (
            r#""Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject""#,
            "AssumeRole policy may only specify STS AssumeRole actions.",
        ),
        (
            r#""Effect":"Allow","Principal":{"AWS":"alice"},"Action":"sts:AssumeRole""#,
            r#"Invalid principal in policy: "AWS":"alice""#,
        ),
    ];
    for (body, message) in cases {
        let result = iam
            .create_role()
            .role_name("t")
            .assume_role_policy_document(statement(body))
            .send()
            .await;
        let (code, got) = code_message(result);
        assert_eq!(
            (code.as_str(), got.as_str()),
            ("MalformedPolicyDocument", message)
        );
    }
    let (code, _) = code_message(
        iam.create_role()
            .role_name("t")
            .assume_role_policy_document("{not json")
            .send()
            .await,
    );
    assert_eq!(code, "MalformedPolicyDocument");

    // Each kind of principal AWS accepts.
    let ok = statement(
        r#""Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::123456789012:root","arn:aws:iam::000000000000:user/ci/bot","arn:aws:iam::000000000000:role/r"],"Federated":"arn:aws:iam::000000000000:oidc-provider/issuer.example","Service":"ec2.amazonaws.com"},"Action":["sts:AssumeRole","sts:AssumeRoleWithWebIdentity","sts:TagSession","sts:SetSourceIdentity","sts:Assume*"]"#,
    );
    create(&iam, "t").await;
    iam.update_assume_role_policy()
        .role_name("t")
        .policy_document(&ok)
        .send()
        .await
        .unwrap();
    let bad = statement(r#""Effect":"Allow","Principal":"*","Action":"iam:*""#);
    let (code, _) = code_message(
        iam.update_assume_role_policy()
            .role_name("t")
            .policy_document(bad)
            .send()
            .await,
    );
    assert_eq!(code, "MalformedPolicyDocument");
    // The refused update left the trust policy as it was.
    let got = iam.get_role().role_name("t").send().await.unwrap();
    assert_eq!(
        decode_document(got.role().unwrap().assume_role_policy_document().unwrap()),
        serde_json::from_str::<serde_json::Value>(&ok).unwrap()
    );

    // 2,048 characters at most, whitespace not counted.
    let long = statement(&format!(
        r#""Sid":"{}","Effect":"Allow","Principal":{{"AWS":"*"}},"Action":"sts:AssumeRole""#,
        "s".repeat(2048)
    ));
    let (code, _) = code_message(
        iam.update_assume_role_policy()
            .role_name("t")
            .policy_document(long)
            .send()
            .await,
    );
    assert_eq!(code, "LimitExceeded");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_policies_of_a_role() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    create(&iam, "r").await;
    for name in ["b", "a"] {
        iam.put_role_policy()
            .role_name("r")
            .policy_name(name)
            .policy_document(allow("s3:*"))
            .send()
            .await
            .unwrap();
    }
    let got = iam
        .get_role_policy()
        .role_name("R")
        .policy_name("A")
        .send()
        .await
        .unwrap();
    assert_eq!(got.role_name(), "R");
    assert_eq!(got.policy_name(), "a");
    assert_eq!(
        decode_document(got.policy_document()),
        serde_json::from_str::<serde_json::Value>(&allow("s3:*")).unwrap()
    );
    let listed = iam
        .list_role_policies()
        .role_name("r")
        .max_items(1)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.policy_names(), ["a"]);
    assert!(listed.is_truncated());

    let (code, message) = code_message(
        iam.get_role_policy()
            .role_name("r")
            .policy_name("zz")
            .send()
            .await,
    );
    assert_eq!(code, "NoSuchEntity");
    assert_eq!(message, "The role policy with name zz cannot be found.");
    let bad = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}"#;
    let result = iam
        .put_role_policy()
        .role_name("r")
        .policy_name("c")
        .policy_document(bad)
        .send()
        .await;
    assert_eq!(error_code(result), "MalformedPolicyDocument");

    let (code, message) = code_message(iam.delete_role().role_name("r").send().await);
    assert_eq!(code, "DeleteConflict");
    assert_eq!(message, "Cannot delete entity, must delete policies first.");
    for name in ["a", "b"] {
        iam.delete_role_policy()
            .role_name("r")
            .policy_name(name)
            .send()
            .await
            .unwrap();
    }
    iam.delete_role().role_name("r").send().await.unwrap();
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attached_policies_count_and_block_deletion() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    create(&iam, "r").await;
    let arn = managed_policy(&iam, "read").await;
    iam.attach_role_policy()
        .role_name("r")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    // Twice is not an error.
    iam.attach_role_policy()
        .role_name("r")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();

    let attached = iam
        .list_attached_role_policies()
        .role_name("r")
        .send()
        .await
        .unwrap();
    assert_eq!(attached.attached_policies().len(), 1);
    assert_eq!(
        attached.attached_policies()[0].policy_arn(),
        Some(arn.as_str())
    );
    let none = iam
        .list_attached_role_policies()
        .role_name("r")
        .path_prefix("/other/")
        .send()
        .await
        .unwrap();
    assert!(none.attached_policies().is_empty());

    let policy = iam.get_policy().policy_arn(&arn).send().await.unwrap();
    assert_eq!(policy.policy().unwrap().attachment_count(), Some(1));
    let entities = iam
        .list_entities_for_policy()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(entities.policy_roles().len(), 1);
    assert_eq!(entities.policy_roles()[0].role_name(), Some("r"));
    let only_users = iam
        .list_entities_for_policy()
        .policy_arn(&arn)
        .entity_filter(EntityType::User)
        .send()
        .await
        .unwrap();
    assert!(only_users.policy_roles().is_empty());
    let only_roles = iam
        .list_entities_for_policy()
        .policy_arn(&arn)
        .entity_filter(EntityType::Role)
        .send()
        .await
        .unwrap();
    assert_eq!(only_roles.policy_roles().len(), 1);
    let attached_only = iam
        .list_policies()
        .only_attached(true)
        .send()
        .await
        .unwrap();
    assert_eq!(attached_only.policies().len(), 1);

    let (code, _) = code_message(iam.delete_policy().policy_arn(&arn).send().await);
    assert_eq!(code, "DeleteConflict");
    let (code, message) = code_message(iam.delete_role().role_name("r").send().await);
    assert_eq!(code, "DeleteConflict");
    assert_eq!(
        message,
        "Cannot delete entity, must detach all policies first."
    );

    let summary = iam.get_account_summary().send().await.unwrap();
    let map = summary.summary_map().unwrap();
    assert_eq!(map.get(&SummaryKeyType::Roles), Some(&1));
    assert_eq!(map.get(&SummaryKeyType::RolesQuota), Some(&1000));
    assert_eq!(map.get(&SummaryKeyType::PolicyVersionsInUse), Some(&1));

    iam.detach_role_policy()
        .role_name("r")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    let result = iam
        .detach_role_policy()
        .role_name("r")
        .policy_arn(&arn)
        .send()
        .await;
    assert_eq!(error_code(result), "NoSuchEntity");
    iam.delete_role().role_name("r").send().await.unwrap();
    iam.delete_policy().policy_arn(&arn).send().await.unwrap();
    let summary = iam.get_account_summary().send().await.unwrap();
    assert_eq!(
        summary.summary_map().unwrap().get(&SummaryKeyType::Roles),
        Some(&0)
    );

    // A role's quota of ten attached policies.
    create(&iam, "many").await;
    for i in 0..10 {
        let arn = managed_policy(&iam, &format!("p{i}")).await;
        iam.attach_role_policy()
            .role_name("many")
            .policy_arn(arn)
            .send()
            .await
            .unwrap();
    }
    let arn = managed_policy(&iam, "p10").await;
    let result = iam
        .attach_role_policy()
        .role_name("many")
        .policy_arn(arn)
        .send()
        .await;
    assert_eq!(error_code(result), "LimitExceeded");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_follow_the_rules_of_user_tags() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    create(&iam, "r").await;
    iam.tag_role()
        .role_name("r")
        .tags(tag("b", "1"))
        .tags(tag("a", "2"))
        .send()
        .await
        .unwrap();
    // Keys are unique regardless of case: this replaces `a`'s value.
    iam.tag_role()
        .role_name("r")
        .tags(tag("A", "3"))
        .send()
        .await
        .unwrap();
    let out = iam.list_role_tags().role_name("r").send().await.unwrap();
    let tags: Vec<_> = out.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(tags, [("a", "3"), ("b", "1")]);
    let page = iam
        .list_role_tags()
        .role_name("r")
        .max_items(1)
        .send()
        .await
        .unwrap();
    assert!(page.is_truncated());
    let rest = iam
        .list_role_tags()
        .role_name("r")
        .marker(page.marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.tags()[0].key(), "b");

    let reserved = iam
        .tag_role()
        .role_name("r")
        .tags(tag("AWS:x", "1"))
        .send()
        .await;
    assert_eq!(error_code(reserved), "InvalidInput");
    let duplicate = iam
        .tag_role()
        .role_name("r")
        .tags(tag("k", "1"))
        .tags(tag("K", "2"))
        .send()
        .await;
    assert_eq!(error_code(duplicate), "InvalidInput");
    let mut too_many = iam.tag_role().role_name("r");
    for i in 0..49 {
        too_many = too_many.tags(tag(&format!("k{i}"), "v"));
    }
    assert_eq!(error_code(too_many.send().await), "LimitExceeded");

    iam.untag_role()
        .role_name("r")
        .tag_keys("B")
        .send()
        .await
        .unwrap();
    let out = iam.list_role_tags().role_name("r").send().await.unwrap();
    assert_eq!(out.tags().len(), 1);
    // Tags go with the role.
    iam.delete_role().role_name("r").send().await.unwrap();
    create(&iam, "r").await;
    let out = iam.list_role_tags().role_name("r").send().await.unwrap();
    assert!(out.tags().is_empty());
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_need_iam_permission_on_the_role() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let root = root_iam(&server);
    let on_ci = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["iam:CreateRole","iam:GetRole","iam:DeleteRole"],"Resource":"arn:aws:iam::000000000000:role/ci/*"},
        {"Effect":"Deny","Action":"iam:DeleteRole","Resource":"arn:aws:iam::000000000000:role/ci/keep*"}]}"#;
    let user = server.with_user(on_ci).await;

    let create_at = |name: &str, path: &str| {
        user.iam
            .create_role()
            .role_name(name)
            .path(path)
            .assume_role_policy_document(TRUST)
    };
    create_at("built", "/ci/").send().await.unwrap();
    create_at("keeper", "/ci/").send().await.unwrap();
    let (code, status) = error_code_status(create_at("other", "/").send().await);
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    assert_eq!(
        error_code(user.iam.list_roles().send().await),
        "AccessDenied"
    );

    // Named without its path, a role is authorized at its ARN (path included).
    user.iam.get_role().role_name("built").send().await.unwrap();
    user.iam
        .delete_role()
        .role_name("built")
        .send()
        .await
        .unwrap();
    let denied = user.iam.delete_role().role_name("KEEPER").send().await;
    assert_eq!(error_code(denied), "AccessDenied");
    create(&root, "outside").await;
    let denied = user.iam.get_role().role_name("outside").send().await;
    assert_eq!(error_code(denied), "AccessDenied");
    server.stop();

    // After a restart the roles' paths are known again: the deny on `/ci/keep*` still holds.
    let server = start_with_root(dir.path());
    let iam = common::iam_client(server.iam, &user.access_key, &user.secret);
    iam.get_role().role_name("keeper").send().await.unwrap();
    let denied = iam.delete_role().role_name("keeper").send().await;
    assert_eq!(error_code(denied), "AccessDenied");
    server.stop();
}
