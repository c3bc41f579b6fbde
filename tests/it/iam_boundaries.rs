//! Permissions boundaries through `aws-sdk-iam` and `aws-sdk-s3` against the server:
//! Put/Delete{User,Role}PermissionsBoundary, `PermissionsBoundary` on CreateUser and
//! CreateRole, what GetUser, GetRole, GetPolicy, ListPolicies and ListEntitiesForPolicy report,
//! DeletePolicy's conflict, a boundary cutting a user's S3 access on the next request, the
//! `iam:PermissionsBoundary` delegation, and simulation with boundaries.
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html>

use crate::common;

use aws_sdk_iam::types::{EntityType, PolicyUsageType};
use aws_sdk_iam::Client;
use common::{allow, error_code, error_code_status, root_iam, start_with_root};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}"#;
const S3_READ_ONLY: &str = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";

async fn managed_policy(iam: &Client, name: &str, document: &str) -> String {
    let out = iam
        .create_policy()
        .policy_name(name)
        .policy_document(document)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreatePolicy {name}: {e:?}"));
    out.policy().unwrap().arn().unwrap().to_owned()
}

async fn user_boundary(iam: &Client, name: &str) -> Option<String> {
    let out = iam.get_user().user_name(name).send().await.unwrap();
    let boundary = out.user().unwrap().permissions_boundary()?;
    assert_eq!(
        boundary.permissions_boundary_type().map(|t| t.as_str()),
        Some("Policy")
    );
    boundary.permissions_boundary_arn().map(str::to_owned)
}

async fn role_boundary(iam: &Client, name: &str) -> Option<String> {
    let out = iam.get_role().role_name(name).send().await.unwrap();
    let boundary = out.role().unwrap().permissions_boundary()?;
    assert_eq!(
        boundary.permissions_boundary_type().map(|t| t.as_str()),
        Some("Policy")
    );
    boundary.permissions_boundary_arn().map(str::to_owned)
}

async fn usage_count(iam: &Client, arn: &str) -> i32 {
    let out = iam.get_policy().policy_arn(arn).send().await.unwrap();
    out.policy()
        .unwrap()
        .permissions_boundary_usage_count()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boundaries_are_set_reported_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let cap = managed_policy(&iam, "cap", &allow("s3:GetObject")).await;

    // CreateUser with a boundary reports it, and so does GetUser.
    let out = iam
        .create_user()
        .user_name("alice")
        .permissions_boundary(&cap)
        .send()
        .await
        .unwrap();
    let created = out.user().unwrap().permissions_boundary().unwrap();
    assert_eq!(created.permissions_boundary_arn(), Some(cap.as_str()));
    assert_eq!(
        user_boundary(&iam, "alice").await.as_deref(),
        Some(cap.as_str())
    );
    // Listings leave it out, as AWS's do.
    let listed = iam.list_users().send().await.unwrap();
    assert!(listed.users()[0].permissions_boundary().is_none());
    assert_eq!(usage_count(&iam, &cap).await, 1);

    // Replaced by an AWS managed policy, then removed; removing none is no error.
    let put = iam.put_user_permissions_boundary().user_name("ALICE");
    put.permissions_boundary(S3_READ_ONLY).send().await.unwrap();
    assert_eq!(
        user_boundary(&iam, "alice").await.as_deref(),
        Some(S3_READ_ONLY)
    );
    assert_eq!(usage_count(&iam, &cap).await, 0);
    assert_eq!(usage_count(&iam, S3_READ_ONLY).await, 1);
    let delete = iam.delete_user_permissions_boundary().user_name("alice");
    delete.clone().send().await.unwrap();
    assert_eq!(user_boundary(&iam, "alice").await, None);
    delete.send().await.unwrap();

    // Roles the same way.
    let out = iam
        .create_role()
        .role_name("deployer")
        .assume_role_policy_document(TRUST)
        .permissions_boundary(&cap)
        .send()
        .await
        .unwrap();
    let created = out.role().unwrap().permissions_boundary().unwrap();
    assert_eq!(created.permissions_boundary_arn(), Some(cap.as_str()));
    assert_eq!(
        role_boundary(&iam, "deployer").await.as_deref(),
        Some(cap.as_str())
    );
    let listed = iam.list_roles().send().await.unwrap();
    assert!(listed.roles()[0].permissions_boundary().is_none());
    let put = iam.put_role_permissions_boundary().role_name("deployer");
    put.permissions_boundary(S3_READ_ONLY).send().await.unwrap();
    assert_eq!(
        role_boundary(&iam, "deployer").await.as_deref(),
        Some(S3_READ_ONLY)
    );
    let delete = iam.delete_role_permissions_boundary().role_name("deployer");
    delete.send().await.unwrap();
    assert_eq!(role_boundary(&iam, "deployer").await, None);

    // An entity with a boundary is deleted with it.
    let put = iam.put_user_permissions_boundary().user_name("alice");
    put.permissions_boundary(&cap).send().await.unwrap();
    let put = iam.put_role_permissions_boundary().role_name("deployer");
    put.permissions_boundary(&cap).send().await.unwrap();
    assert_eq!(usage_count(&iam, &cap).await, 2);
    iam.delete_user().user_name("alice").send().await.unwrap();
    iam.delete_role()
        .role_name("deployer")
        .send()
        .await
        .unwrap();
    assert_eq!(usage_count(&iam, &cap).await, 0);
    iam.delete_policy().policy_arn(&cap).send().await.unwrap();
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_boundaries_are_refused_as_aws_refuses_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let cap = managed_policy(&iam, "cap", &allow("s3:GetObject")).await;
    iam.create_user().user_name("bob").send().await.unwrap();
    iam.create_role()
        .role_name("r")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();

    let missing = "arn:aws:iam::000000000000:policy/nope";
    let not_policy = "arn:aws:iam::000000000000:user/bob";
    for (arn, expected) in [
        (missing, ("NoSuchEntity".to_owned(), 404)),
        (
            "arn:aws:iam::aws:policy/NoSuchManagedPolicy",
            ("NoSuchEntity".to_owned(), 404),
        ),
        (not_policy, ("InvalidInput".to_owned(), 400)),
        ("arn:aws:iam::0", ("ValidationError".to_owned(), 400)),
    ] {
        let user = iam
            .create_user()
            .user_name("carol")
            .permissions_boundary(arn);
        assert_eq!(
            error_code_status(user.send().await),
            expected,
            "CreateUser {arn}"
        );
        let role = iam
            .create_role()
            .role_name("r2")
            .assume_role_policy_document(TRUST)
            .permissions_boundary(arn);
        assert_eq!(
            error_code_status(role.send().await),
            expected,
            "CreateRole {arn}"
        );
        let put = iam.put_user_permissions_boundary().user_name("bob");
        let put = put.permissions_boundary(arn).send().await;
        assert_eq!(
            error_code_status(put),
            expected,
            "PutUserPermissionsBoundary {arn}"
        );
        let put = iam.put_role_permissions_boundary().role_name("r");
        let put = put.permissions_boundary(arn).send().await;
        assert_eq!(
            error_code_status(put),
            expected,
            "PutRolePermissionsBoundary {arn}"
        );
    }
    // Nothing was created or changed by the refusals.
    assert_eq!(
        error_code(iam.get_user().user_name("carol").send().await),
        "NoSuchEntity"
    );
    assert_eq!(
        error_code(iam.get_role().role_name("r2").send().await),
        "NoSuchEntity"
    );
    assert_eq!(user_boundary(&iam, "bob").await, None);
    assert_eq!(role_boundary(&iam, "r").await, None);

    // Unknown entities; a missing parameter.
    let put = iam.put_user_permissions_boundary().user_name("nobody");
    assert_eq!(
        error_code(put.permissions_boundary(&cap).send().await),
        "NoSuchEntity"
    );
    let put = iam.put_role_permissions_boundary().role_name("nobody");
    assert_eq!(
        error_code(put.permissions_boundary(&cap).send().await),
        "NoSuchEntity"
    );
    let delete = iam.delete_user_permissions_boundary().user_name("nobody");
    assert_eq!(error_code(delete.send().await), "NoSuchEntity");
    let delete = iam.delete_role_permissions_boundary().role_name("nobody");
    assert_eq!(error_code(delete.send().await), "NoSuchEntity");
    let put = iam
        .put_user_permissions_boundary()
        .user_name("bob")
        .send()
        .await;
    assert_eq!(error_code(put), "ValidationError");

    // A policy in use as a boundary cannot be deleted.
    let put = iam.put_user_permissions_boundary().user_name("bob");
    put.permissions_boundary(&cap).send().await.unwrap();
    let (code, status) = error_code_status(iam.delete_policy().policy_arn(&cap).send().await);
    assert_eq!((code.as_str(), status), ("DeleteConflict", 409));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_filters_tell_boundaries_from_permissions_policies() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let cap = managed_policy(&iam, "cap", &allow("s3:GetObject")).await;
    let other = managed_policy(&iam, "other", &allow("s3:PutObject")).await;
    iam.create_user()
        .user_name("attached")
        .send()
        .await
        .unwrap();
    iam.create_user().user_name("both").send().await.unwrap();
    iam.create_user()
        .user_name("bounded")
        .permissions_boundary(&cap)
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("role")
        .assume_role_policy_document(TRUST)
        .permissions_boundary(&cap)
        .send()
        .await
        .unwrap();
    for user in ["attached", "both"] {
        let attach = iam.attach_user_policy().user_name(user).policy_arn(&cap);
        attach.send().await.unwrap();
    }
    let put = iam.put_user_permissions_boundary().user_name("both");
    put.permissions_boundary(&cap).send().await.unwrap();

    let entities = |usage: Option<&str>| {
        let call = iam.list_entities_for_policy().policy_arn(&cap);
        let call = call.set_policy_usage_filter(usage.map(PolicyUsageType::from));
        async move {
            let out = call.send().await.unwrap();
            let users: Vec<String> = out
                .policy_users()
                .iter()
                .map(|u| u.user_name().unwrap().to_owned())
                .collect();
            let roles: Vec<String> = out
                .policy_roles()
                .iter()
                .map(|r| r.role_name().unwrap().to_owned())
                .collect();
            (users, roles)
        }
    };
    assert_eq!(
        entities(Some("PermissionsPolicy")).await,
        (vec!["attached".into(), "both".into()], vec![])
    );
    assert_eq!(
        entities(Some("PermissionsBoundary")).await,
        (vec!["both".into(), "bounded".into()], vec!["role".into()])
    );
    assert_eq!(
        entities(None).await,
        (
            vec!["attached".into(), "both".into(), "bounded".into()],
            vec!["role".into()]
        )
    );
    let roles_only = iam
        .list_entities_for_policy()
        .policy_arn(&cap)
        .policy_usage_filter(PolicyUsageType::PermissionsBoundary)
        .entity_filter(EntityType::User)
        .send()
        .await
        .unwrap();
    assert_eq!(roles_only.policy_users().len(), 2);
    assert!(roles_only.policy_roles().is_empty());

    let listed = |usage: PolicyUsageType| {
        let call = iam
            .list_policies()
            .scope(aws_sdk_iam::types::PolicyScopeType::Local);
        let call = call.policy_usage_filter(usage);
        async move {
            let out = call.send().await.unwrap();
            let names: Vec<String> = out
                .policies()
                .iter()
                .map(|p| p.policy_name().unwrap().to_owned())
                .collect();
            names
        }
    };
    assert_eq!(listed(PolicyUsageType::PermissionsBoundary).await, ["cap"]);
    assert_eq!(
        listed(PolicyUsageType::PermissionsPolicy).await,
        ["cap", "other"]
    );
    assert_eq!(usage_count(&iam, &cap).await, 3);
    assert_eq!(usage_count(&iam, &other).await, 0);
    server.stop();
}

async fn get(s3: &aws_sdk_s3::Client, key: &str) -> bool {
    s3.get_object().bucket("data").key(key).send().await.is_ok()
}

async fn put(s3: &aws_sdk_s3::Client, key: &str) -> bool {
    let body = aws_sdk_s3::primitives::ByteStream::from_static(b"x");
    s3.put_object()
        .bucket("data")
        .key(key)
        .body(body)
        .send()
        .await
        .is_ok()
}

/// A boundary cuts what the user's own policies grant on the next request; a new default
/// version of the boundary policy, and removing the boundary, take effect at once too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_boundary_cuts_s3_access_on_the_next_request() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let root_s3 = server.with_bucket("data").await;
    let iam = root_iam(&server);
    let user = server.with_user(&allow("s3:*")).await;
    assert!(put(&user.s3, "a").await);
    assert!(get(&user.s3, "a").await);

    let cap = managed_policy(&iam, "put-only", &allow("s3:PutObject")).await;
    let boundary = iam.put_user_permissions_boundary().user_name(&user.name);
    boundary.permissions_boundary(&cap).send().await.unwrap();
    assert!(put(&user.s3, "b").await);
    assert!(
        !get(&user.s3, "a").await,
        "the boundary does not allow GetObject"
    );
    // A boundary grants nothing by itself: an action it allows still needs an identity Allow.
    let own = iam
        .put_user_policy()
        .user_name(&user.name)
        .policy_name("fixture");
    own.policy_document(allow("s3:GetObject"))
        .send()
        .await
        .unwrap();
    assert!(
        !put(&user.s3, "c").await,
        "no identity policy allows PutObject now"
    );
    own_policy(&iam, &user.name, &allow("s3:*")).await;

    // The boundary policy's new default version applies at once.
    let both = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject","s3:GetObject"],"Resource":"*"}]}"#;
    let version = iam.create_policy_version().policy_arn(&cap);
    version
        .policy_document(both)
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    assert!(get(&user.s3, "a").await);
    let list = user.s3.list_objects_v2().bucket("data").send().await;
    assert!(list.is_err(), "ListBucket is outside the boundary");

    // A bucket policy naming the user grants past the boundary, as AWS's logic says.
    let bucket_policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/fixture-user-1"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::data"}]}"#;
    root_s3
        .put_bucket_policy()
        .bucket("data")
        .policy(bucket_policy)
        .send()
        .await
        .unwrap();
    assert!(user
        .s3
        .list_objects_v2()
        .bucket("data")
        .send()
        .await
        .is_ok());
    root_s3
        .delete_bucket_policy()
        .bucket("data")
        .send()
        .await
        .unwrap();

    // Removing the boundary restores what the user's policies grant.
    let delete = iam.delete_user_permissions_boundary().user_name(&user.name);
    delete.send().await.unwrap();
    assert!(user
        .s3
        .list_objects_v2()
        .bucket("data")
        .send()
        .await
        .is_ok());
    server.stop();
}

fn assert_denied<T: std::fmt::Debug, E, R>(result: Result<T, aws_sdk_iam::error::SdkError<E, R>>)
where
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    assert_eq!(error_code(result), "AccessDenied");
}

async fn own_policy(iam: &Client, user: &str, document: &str) {
    let own = iam.put_user_policy().user_name(user).policy_name("fixture");
    own.policy_document(document).send().await.unwrap();
}

/// "Create users, but only with this boundary": an administrator allowed `iam:CreateUser`
/// and the user policy actions under `iam:PermissionsBoundary` = the boundary's ARN.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iam_permissions_boundary_delegates_user_creation() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let cap = managed_policy(&iam, "cap", &allow("s3:GetObject")).await;
    let other = managed_policy(&iam, "other", &allow("s3:*")).await;
    let delegation = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Action":["iam:CreateUser","iam:PutUserPolicy","iam:AttachUserPolicy","iam:PutUserPermissionsBoundary","iam:PutRolePolicy"],"Resource":"*",
              "Condition":{{"StringEquals":{{"iam:PermissionsBoundary":"{cap}"}}}}}},
            {{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}}]}}"#
    );
    let admin = server.with_user(&delegation).await;
    let admin = &admin.iam;

    assert_denied(admin.create_user().user_name("u1").send().await);
    let wrong = admin
        .create_user()
        .user_name("u1")
        .permissions_boundary(&other);
    assert_denied(wrong.send().await);
    let right = admin
        .create_user()
        .user_name("u1")
        .permissions_boundary(&cap);
    right.send().await.unwrap();
    assert_eq!(
        user_boundary(admin, "u1").await.as_deref(),
        Some(cap.as_str())
    );

    // On an existing user the key is the user's boundary as it is now.
    let inline = |user: &str| {
        admin
            .put_user_policy()
            .user_name(user)
            .policy_name("p")
            .policy_document(allow("s3:*"))
            .send()
    };
    inline("u1").await.unwrap();
    iam.create_user().user_name("free").send().await.unwrap();
    assert_denied(inline("free").await);
    let attach = admin
        .attach_user_policy()
        .user_name("free")
        .policy_arn(&other);
    assert_denied(attach.send().await);
    // Setting the allowed boundary is allowed, another is not; removing is not granted.
    let put = admin.put_user_permissions_boundary().user_name("free");
    assert_denied(put.clone().permissions_boundary(&other).send().await);
    put.permissions_boundary(&cap).send().await.unwrap();
    inline("free").await.unwrap();
    let delete = admin.delete_user_permissions_boundary().user_name("free");
    assert_denied(delete.send().await);

    // Roles: the key is the role's boundary as it is now.
    let role_policy = |role: &str| {
        admin
            .put_role_policy()
            .role_name(role)
            .policy_name("p")
            .policy_document(allow("s3:*"))
            .send()
    };
    iam.create_role()
        .role_name("capped")
        .assume_role_policy_document(TRUST)
        .permissions_boundary(&cap)
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("open")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    role_policy("capped").await.unwrap();
    assert_denied(role_policy("open").await);
    let put = iam.put_role_permissions_boundary().role_name("open");
    put.permissions_boundary(&cap).send().await.unwrap();
    role_policy("open").await.unwrap();
    let delete = iam.delete_role_permissions_boundary().role_name("capped");
    delete.send().await.unwrap();
    assert_denied(role_policy("capped").await);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulation_applies_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let cap = managed_policy(&iam, "cap", &allow("s3:PutObject")).await;
    iam.create_user()
        .user_name("sim")
        .permissions_boundary(&cap)
        .send()
        .await
        .unwrap();
    own_policy(&iam, "sim", &allow("s3:*")).await;
    let arn = "arn:aws:iam::000000000000:user/sim";

    let principal = iam
        .simulate_principal_policy()
        .policy_source_arn(arn)
        .action_names("s3:GetObject")
        .action_names("s3:PutObject");
    let out = principal.clone().send().await.unwrap();
    let results = out.evaluation_results();
    let detail = |i: usize| {
        results[i]
            .permissions_boundary_decision_detail()
            .map(|d| d.allowed_by_permissions_boundary())
    };
    assert_eq!(results[0].eval_decision().as_str(), "implicitDeny");
    assert_eq!(detail(0), Some(false));
    assert_eq!(results[1].eval_decision().as_str(), "allowed");
    assert_eq!(detail(1), Some(true));
    let sources: Vec<&str> = results[1]
        .matched_statements()
        .iter()
        .map(|m| m.source_policy_id().unwrap())
        .collect();
    assert_eq!(sources, ["fixture", "cap"]);

    // A boundary given replaces the user's.
    let out = principal
        .permissions_boundary_policy_input_list(allow("s3:GetObject"))
        .send()
        .await
        .unwrap();
    let results = out.evaluation_results();
    assert_eq!(results[0].eval_decision().as_str(), "allowed");
    assert_eq!(results[1].eval_decision().as_str(), "implicitDeny");
    let matched = results[0].matched_statements();
    assert_eq!(
        matched[1].source_policy_id(),
        Some("PermissionsBoundaryPolicyInputList.1")
    );

    // SimulateCustomPolicy: the boundary caps the supplied policies; an explicit deny in it
    // denies; without one there is no detail.
    let custom = iam
        .simulate_custom_policy()
        .policy_input_list(allow("s3:*"))
        .action_names("s3:GetObject")
        .resource_arns("arn:aws:s3:::b/k");
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}"#;
    let out = custom
        .clone()
        .permissions_boundary_policy_input_list(deny)
        .send()
        .await
        .unwrap();
    let result = &out.evaluation_results()[0];
    assert_eq!(result.eval_decision().as_str(), "explicitDeny");
    let detail = result.permissions_boundary_decision_detail().unwrap();
    assert!(!detail.allowed_by_permissions_boundary());
    let specific = &result.resource_specific_results()[0];
    assert!(specific.permissions_boundary_decision_detail().is_some());
    let out = custom.send().await.unwrap();
    let result = &out.evaluation_results()[0];
    assert_eq!(result.eval_decision().as_str(), "allowed");
    assert!(result.permissions_boundary_decision_detail().is_none());
    server.stop();
}
