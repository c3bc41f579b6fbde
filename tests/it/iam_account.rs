//! GetAccountSummary through `aws-sdk-iam` against the server: AWS's quotas, and the
//! entity counts following creations and deletions.
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountSummary.html>

use crate::common;

use std::collections::HashMap;

use aws_sdk_iam::types::SummaryKeyType;
use aws_sdk_iam::Client;
use common::{allow, root_iam, start_with_root};

async fn summary(iam: &Client) -> HashMap<String, i32> {
    let out = iam.get_account_summary().send().await.unwrap();
    let map = out.summary_map().expect("a SummaryMap");
    for key in map.keys() {
        assert!(
            SummaryKeyType::values().contains(&key.as_str()),
            "a key AWS does not define: {key:?}"
        );
    }
    map.iter()
        .map(|(k, v)| (k.as_str().to_owned(), *v))
        .collect()
}

/// The four counts LabStore keeps: Users, Groups, Policies, PolicyVersionsInUse.
async fn counts(iam: &Client) -> [i32; 4] {
    let map = summary(iam).await;
    ["Users", "Groups", "Policies", "PolicyVersionsInUse"].map(|k| map[k])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_reports_aws_quotas() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let map = summary(&iam).await;
    let quotas = [
        ("UsersQuota", 5000),
        ("GroupsQuota", 300),
        ("PoliciesQuota", 1500),
        ("PolicySizeQuota", 6144),
        ("VersionsPerPolicyQuota", 5),
        ("AccessKeysPerUserQuota", 2),
        ("GroupsPerUserQuota", 10),
        ("AttachedPoliciesPerUserQuota", 10),
        ("AttachedPoliciesPerGroupQuota", 10),
        ("UserPolicySizeQuota", 2048),
        ("GroupPolicySizeQuota", 5120),
    ];
    for (key, value) in quotas {
        assert_eq!(map.get(key), Some(&value), "{key}");
    }
    assert_eq!(counts(&iam).await, [0, 0, 0, 0]);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_follow_creations_attachments_and_deletions() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);

    for user in ["a", "b", "c"] {
        iam.create_user().user_name(user).send().await.unwrap();
    }
    assert_eq!(counts(&iam).await, [3, 0, 0, 0]);
    for group in ["g1", "g2"] {
        iam.create_group().group_name(group).send().await.unwrap();
    }
    assert_eq!(counts(&iam).await, [3, 2, 0, 0]);
    let mut arns = Vec::new();
    for name in ["p1", "p2"] {
        let out = iam
            .create_policy()
            .policy_name(name)
            .policy_document(allow("s3:GetObject"))
            .send()
            .await
            .unwrap();
        arns.push(out.policy().unwrap().arn().unwrap().to_owned());
    }
    // Versions that are not attached anywhere are not "in use".
    let version = iam.create_policy_version().policy_arn(&arns[0]);
    let version = version.policy_document(allow("s3:PutObject"));
    version.send().await.unwrap();
    assert_eq!(counts(&iam).await, [3, 2, 2, 0]);

    let attach = iam.attach_user_policy().user_name("a").policy_arn(&arns[0]);
    attach.send().await.unwrap();
    assert_eq!(counts(&iam).await, [3, 2, 2, 1]);
    let attach = iam
        .attach_group_policy()
        .group_name("g1")
        .policy_arn(&arns[1]);
    attach.send().await.unwrap();
    assert_eq!(counts(&iam).await, [3, 2, 2, 2]);
    // Inline policies, memberships and keys are not counted as any of these.
    let put = iam.put_user_policy().user_name("b").policy_name("i");
    put.policy_document(allow("s3:*")).send().await.unwrap();
    let add = iam.add_user_to_group().group_name("g2").user_name("c");
    add.send().await.unwrap();
    iam.create_access_key().user_name("c").send().await.unwrap();
    assert_eq!(counts(&iam).await, [3, 2, 2, 2]);

    let detach = iam.detach_user_policy().user_name("a").policy_arn(&arns[0]);
    detach.send().await.unwrap();
    assert_eq!(counts(&iam).await, [3, 2, 2, 1]);
    iam.delete_user().user_name("a").send().await.unwrap();
    let delete = iam
        .delete_policy_version()
        .policy_arn(&arns[0])
        .version_id("v2");
    delete.send().await.unwrap();
    iam.delete_policy()
        .policy_arn(&arns[0])
        .send()
        .await
        .unwrap();
    let remove = iam.remove_user_from_group().group_name("g2").user_name("c");
    remove.send().await.unwrap();
    iam.delete_group().group_name("g2").send().await.unwrap();
    assert_eq!(counts(&iam).await, [2, 1, 1, 1]);
    server.stop();
}
