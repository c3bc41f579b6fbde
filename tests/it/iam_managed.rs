//! AWS managed policies (`arn:aws:iam::aws:policy/…`) through `aws-sdk-iam`, enforced on S3
//! through `aws-sdk-s3`: present in every account without being created, attachable to users,
//! groups and roles, listed by scope, readable, and refused every change.
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html#aws-managed-policies>

use crate::common;

use aws_sdk_iam::types::{EntityType, PolicyScopeType};
use aws_sdk_iam::Client;
use aws_sdk_s3::primitives::ByteStream;
use common::{
    allow, decode_document, error_code, error_code_status, root_iam, s3_client, s3_client_as,
    start_with_root, user_with_key,
};

const S3_READ_ONLY: &str = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

const ALL: [&str; 7] = [
    "AdministratorAccess",
    "AmazonS3FullAccess",
    "AmazonS3ReadOnlyAccess",
    "IAMFullAccess",
    "IAMReadOnlyAccess",
    "PowerUserAccess",
    "ReadOnlyAccess",
];

async fn names(iam: &Client, scope: Option<&str>) -> Vec<String> {
    let out = iam
        .list_policies()
        .set_scope(scope.map(PolicyScopeType::from))
        .send()
        .await
        .unwrap();
    out.policies()
        .iter()
        .map(|p| p.policy_name().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_policies_exist_read_only_and_are_listed_by_scope() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);

    let got = iam
        .get_policy()
        .policy_arn(S3_READ_ONLY)
        .send()
        .await
        .unwrap();
    let policy = got.policy().unwrap();
    assert_eq!(policy.arn(), Some(S3_READ_ONLY));
    assert_eq!(policy.path(), Some("/"));
    assert_eq!(policy.default_version_id(), Some("v3"));
    assert_eq!(policy.attachment_count(), Some(0));
    assert!(policy.is_attachable());

    let version = iam
        .get_policy_version()
        .policy_arn(S3_READ_ONLY)
        .version_id("v3")
        .send()
        .await
        .unwrap();
    let version = version.policy_version().unwrap();
    assert!(version.is_default_version());
    let doc = decode_document(version.document().unwrap());
    assert_eq!(doc["Statement"][0]["Action"][0], "s3:Get*");
    let versions = iam
        .list_policy_versions()
        .policy_arn(S3_READ_ONLY)
        .send()
        .await
        .unwrap();
    let ids: Vec<_> = versions
        .versions()
        .iter()
        .map(|v| v.version_id().unwrap())
        .collect();
    assert_eq!(ids, ["v3"]);

    // A customer policy may share an AWS policy's name; each scope lists its own.
    let mine = iam
        .create_policy()
        .policy_name("AdministratorAccess")
        .policy_document(allow("s3:GetObject"))
        .send()
        .await
        .unwrap();
    let mine_arn = mine.policy().unwrap().arn().unwrap().to_owned();
    assert_eq!(
        mine_arn,
        "arn:aws:iam::000000000000:policy/AdministratorAccess"
    );
    assert_eq!(names(&iam, Some("AWS")).await, ALL);
    assert_eq!(names(&iam, Some("Local")).await, ["AdministratorAccess"]);
    let mut all: Vec<String> = ALL.iter().map(|s| (*s).to_owned()).collect();
    all.insert(1, "AdministratorAccess".into());
    assert_eq!(names(&iam, Some("All")).await, all);
    assert_eq!(names(&iam, None).await, all);
    // Paging one at a time crosses the two policies of the same name without loss.
    let mut paged = Vec::new();
    let mut marker = None;
    loop {
        let out = iam
            .list_policies()
            .max_items(1)
            .set_marker(marker)
            .send()
            .await
            .unwrap();
        paged.extend(out.policies().iter().map(|p| p.arn().unwrap().to_owned()));
        marker = out.marker().map(str::to_owned);
        if !out.is_truncated() {
            break;
        }
    }
    assert_eq!(paged.len(), 8);
    assert_eq!(paged[0], ADMIN);
    assert_eq!(paged[1], mine_arn);

    // Every change is refused: 403 AccessDenied, and the policy is unchanged.
    let refused = [
        error_code_status(iam.delete_policy().policy_arn(ADMIN).send().await),
        error_code_status(
            iam.create_policy_version()
                .policy_arn(ADMIN)
                .policy_document(allow("s3:GetObject"))
                .set_as_default(true)
                .send()
                .await,
        ),
        error_code_status(
            iam.set_default_policy_version()
                .policy_arn(ADMIN)
                .version_id("v1")
                .send()
                .await,
        ),
        error_code_status(
            iam.delete_policy_version()
                .policy_arn(ADMIN)
                .version_id("v1")
                .send()
                .await,
        ),
    ];
    for refusal in refused {
        assert_eq!(refusal, ("AccessDenied".to_owned(), 403));
    }
    let admin = iam.get_policy().policy_arn(ADMIN).send().await.unwrap();
    assert_eq!(admin.policy().unwrap().default_version_id(), Some("v1"));

    // An AWS ARN that names no built-in policy is NoSuchEntity.
    let missing = iam
        .get_policy()
        .policy_arn("arn:aws:iam::aws:policy/NoSuchThing");
    assert_eq!(error_code(missing.send().await), "NoSuchEntity");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attached_aws_policies_are_counted_listed_and_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let root_s3 = s3_client(&server);
    root_s3.create_bucket().bucket("data").send().await.unwrap();
    let put = root_s3
        .put_object()
        .bucket("data")
        .key("k")
        .body(ByteStream::from_static(b"hi"));
    put.send().await.unwrap();

    let (key, secret) = user_with_key(&iam, "reader").await;
    let reader = s3_client_as(&server, &key, &secret);
    // Nothing attached yet: no access.
    assert!(reader
        .get_object()
        .bucket("data")
        .key("k")
        .send()
        .await
        .is_err());

    iam.attach_user_policy()
        .user_name("reader")
        .policy_arn(S3_READ_ONLY)
        .send()
        .await
        .unwrap();
    let got = reader
        .get_object()
        .bucket("data")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"hi"
    );
    reader
        .list_objects_v2()
        .bucket("data")
        .send()
        .await
        .unwrap();
    let denied = reader
        .put_object()
        .bucket("data")
        .key("new")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&denied.into_service_error()),
        Some("AccessDenied")
    );

    // The simulator names the policy as AWS does, with its own source type.
    let simulated = iam
        .simulate_principal_policy()
        .policy_source_arn("arn:aws:iam::000000000000:user/reader")
        .action_names("s3:GetObject")
        .action_names("s3:PutObject")
        .resource_arns("arn:aws:s3:::data/k")
        .send()
        .await
        .unwrap();
    let results = simulated.evaluation_results();
    assert_eq!(results[0].eval_decision().as_str(), "allowed");
    let matched = &results[0].matched_statements()[0];
    assert_eq!(matched.source_policy_id(), Some("AmazonS3ReadOnlyAccess"));
    assert_eq!(
        matched.source_policy_type().map(|t| t.as_str()),
        Some("aws-managed")
    );
    assert_eq!(results[1].eval_decision().as_str(), "implicitDeny");

    // Groups and roles take them too; the count and the entity listing follow.
    iam.create_group().group_name("ops").send().await.unwrap();
    iam.attach_group_policy()
        .group_name("ops")
        .policy_arn(S3_READ_ONLY)
        .send()
        .await
        .unwrap();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role()
        .role_name("r")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("r")
        .policy_arn(S3_READ_ONLY)
        .send()
        .await
        .unwrap();
    let policy = iam
        .get_policy()
        .policy_arn(S3_READ_ONLY)
        .send()
        .await
        .unwrap();
    assert_eq!(policy.policy().unwrap().attachment_count(), Some(3));
    let attached = iam
        .list_attached_user_policies()
        .user_name("reader")
        .send()
        .await
        .unwrap();
    let arns: Vec<_> = attached
        .attached_policies()
        .iter()
        .map(|p| p.policy_arn().unwrap())
        .collect();
    assert_eq!(arns, [S3_READ_ONLY]);
    let entities = iam
        .list_entities_for_policy()
        .policy_arn(S3_READ_ONLY)
        .send()
        .await
        .unwrap();
    assert_eq!(entities.policy_users()[0].user_name(), Some("reader"));
    assert_eq!(entities.policy_groups()[0].group_name(), Some("ops"));
    assert_eq!(entities.policy_roles()[0].role_name(), Some("r"));
    let users_only = iam
        .list_entities_for_policy()
        .policy_arn(S3_READ_ONLY)
        .entity_filter(EntityType::User)
        .send()
        .await
        .unwrap();
    assert!(users_only.policy_groups().is_empty() && users_only.policy_roles().is_empty());
    let only_attached = iam
        .list_policies()
        .scope(PolicyScopeType::Aws)
        .only_attached(true);
    let only_attached = only_attached.send().await.unwrap();
    let listed: Vec<_> = only_attached
        .policies()
        .iter()
        .map(|p| p.policy_name().unwrap())
        .collect();
    assert_eq!(listed, ["AmazonS3ReadOnlyAccess"]);

    // Detaching takes the access away at once; an AWS policy attached to nobody still exists.
    iam.detach_user_policy()
        .user_name("reader")
        .policy_arn(S3_READ_ONLY)
        .send()
        .await
        .unwrap();
    assert!(reader
        .get_object()
        .bucket("data")
        .key("k")
        .send()
        .await
        .is_err());
    let detach_again = iam
        .detach_user_policy()
        .user_name("reader")
        .policy_arn(S3_READ_ONLY);
    assert_eq!(error_code(detach_again.send().await), "NoSuchEntity");
    server.stop();
}

/// The attachments and the policies' rows survive a restart (the rows are written again at
/// open from the binary, without disturbing the attachments that refer to them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_to_aws_policies_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let (key, secret) = user_with_key(&iam, "admin-user").await;
    iam.attach_user_policy()
        .user_name("admin-user")
        .policy_arn(ADMIN)
        .send()
        .await
        .unwrap();
    server.stop();

    let server = start_with_root(dir.path());
    let s3 = s3_client_as(&server, &key, &secret);
    s3.create_bucket().bucket("mine").send().await.unwrap();
    let iam = root_iam(&server);
    let policy = iam.get_policy().policy_arn(ADMIN).send().await.unwrap();
    assert_eq!(policy.policy().unwrap().attachment_count(), Some(1));
    server.stop();
}
