//! Customer-managed policies and their versions through `aws-sdk-iam` against the server:
//! CreatePolicy, GetPolicy, ListPolicies, DeletePolicy, CreatePolicyVersion, GetPolicyVersion,
//! ListPolicyVersions, SetDefaultPolicyVersion, DeletePolicyVersion; document validation and
//! the size quota. Attachments are in `iam_policy_attachments.rs`.
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html> (and siblings)

use crate::common;

use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::types::{EntityType, PolicyScopeType, PolicyUsageType};
use aws_sdk_iam::Client;
use common::{
    all_pages, allow, decode_document, document_of_size, error_code, error_code_status, root_iam,
    start_with_root,
};

const ACCOUNT: &str = "000000000000";

async fn create(iam: &Client, name: &str, path: &str, document: &str) -> String {
    let out = iam
        .create_policy()
        .policy_name(name)
        .path(path)
        .policy_document(document)
        .send()
        .await
        .unwrap();
    out.policy().unwrap().arn().unwrap().to_owned()
}

/// The document of `version`, percent-decoded to the exact text AWS stores.
async fn document_text(iam: &Client, arn: &str, version: &str) -> String {
    let out = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
        .unwrap();
    let encoded = out.policy_version().unwrap().document().unwrap();
    percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

async fn default_version(iam: &Client, arn: &str) -> String {
    let out = iam.get_policy().policy_arn(arn).send().await.unwrap();
    let policy = out.policy().unwrap();
    policy.default_version_id().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_and_get_a_policy_whose_document_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    // Spaces, newlines, '+', '/', '&', '=', '%' and a policy variable: all must come back.
    let document = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\n    \"Sid\": \"Home\",\n    \
                    \"Effect\": \"Allow\",\n    \"Action\": [\"s3:GetObject\", \"s3:PutObject\"],\n    \
                    \"Resource\": \"arn:aws:s3:::bucket/home/${aws:username}/a+b&c=d%20e/*\"\n  }]\n}";

    let out = iam
        .create_policy()
        .policy_name("HomeAccess")
        .path("/team/")
        .description("Each user's own prefix: <home> & \"more\"")
        .policy_document(document)
        .send()
        .await
        .unwrap();
    let created = out.policy().unwrap();
    let arn = format!("arn:aws:iam::{ACCOUNT}:policy/team/HomeAccess");
    assert_eq!(created.arn(), Some(arn.as_str()));
    assert_eq!(created.policy_name(), Some("HomeAccess"));
    assert_eq!(created.path(), Some("/team/"));
    assert_eq!(created.default_version_id(), Some("v1"));
    assert_eq!(created.attachment_count(), Some(0));
    assert!(created.is_attachable());
    let id = created.policy_id().unwrap().to_owned();
    assert!(id.starts_with("ANPA") && id.len() == 21, "{id}");

    let got = iam.get_policy().policy_arn(&arn).send().await.unwrap();
    let got = got.policy().unwrap();
    assert_eq!(got.policy_id(), Some(id.as_str()));
    assert_eq!(
        got.description(),
        Some("Each user's own prefix: <home> & \"more\"")
    );
    assert_eq!(got.default_version_id(), Some("v1"));
    assert!(got.create_date().is_some() && got.update_date().is_some());

    assert_eq!(document_text(&iam, &arn, "v1").await, document);
    let v1 = iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .unwrap();
    let v1 = v1.policy_version().unwrap();
    assert!(v1.is_default_version());
    assert_eq!(v1.version_id(), Some("v1"));
    let parsed = decode_document(v1.document().unwrap());
    assert_eq!(parsed["Statement"][0]["Sid"], "Home");

    let missing = [
        format!("arn:aws:iam::{ACCOUNT}:policy/HomeAccess"),
        format!("arn:aws:iam::{ACCOUNT}:policy/team/Nope"),
        "arn:aws:iam::111111111111:policy/team/HomeAccess".to_owned(),
        // An AWS managed policy this server does not have.
        "arn:aws:iam::aws:policy/AmazonEC2FullAccess".to_owned(),
    ];
    for arn in missing {
        let got = iam.get_policy().policy_arn(&arn).send().await;
        assert_eq!(
            error_code_status(got),
            ("NoSuchEntity".into(), 404),
            "{arn}"
        );
    }
    let short = iam.get_policy().policy_arn("arn:aws:iam::").send().await;
    assert_eq!(error_code_status(short), ("ValidationError".into(), 400));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_names_are_unique_regardless_of_case_and_validated() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    create(&iam, "ReadOnly", "/", &allow("s3:Get*")).await;
    for (name, path) in [
        ("ReadOnly", "/"),
        ("readonly", "/"),
        ("READONLY", "/other/"),
    ] {
        let again = iam
            .create_policy()
            .policy_name(name)
            .path(path)
            .policy_document(allow("s3:Get*"));
        assert_eq!(
            error_code_status(again.send().await),
            ("EntityAlreadyExists".into(), 409),
            "{name} {path}"
        );
    }
    let too_long = "p".repeat(129);
    let long_description = "d".repeat(1001);
    let cases = [
        ("has space", "/", None),
        (too_long.as_str(), "/", None),
        ("ok", "no-slash/", None),
        ("ok", "/no-trailing", None),
        ("ok", "/", Some(long_description.as_str())),
    ];
    for (name, path, description) in cases {
        let call = iam
            .create_policy()
            .policy_name(name)
            .path(path)
            .set_description(description.map(str::to_owned))
            .policy_document(allow("s3:Get*"));
        assert_eq!(
            error_code_status(call.send().await),
            ("ValidationError".into(), 400),
            "{name} {path}"
        );
    }
    let all = iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    assert_eq!(all.policies().len(), 1);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_documents_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let statement = |body: &str| format!(r#"{{"Version":"2012-10-17","Statement":[{{{body}}}]}}"#);
    let cases = [
        ("not JSON", "this is not json".to_owned()),
        ("truncated JSON", r#"{"Version":"2012-10-17","Statement":["#.to_owned()),
        ("an array", "[]".to_owned()),
        (
            "unknown Version",
            r#"{"Version":"2012-10-18","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#
                .to_owned(),
        ),
        ("no Statement", r#"{"Version":"2012-10-17"}"#.to_owned()),
        ("missing Effect", statement(r#""Action":"s3:*","Resource":"*""#)),
        ("bad Effect", statement(r#""Effect":"Maybe","Action":"s3:*","Resource":"*""#)),
        ("Action without vendor", statement(r#""Effect":"Allow","Action":"GetObject","Resource":"*""#)),
        ("no Action", statement(r#""Effect":"Allow","Resource":"*""#)),
        ("no Resource", statement(r#""Effect":"Allow","Action":"s3:*""#)),
        (
            "Principal in an identity policy",
            statement(r#""Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*""#),
        ),
        (
            "unknown condition operator",
            statement(
                r#""Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringSortOf":{"aws:username":"x"}}"#,
            ),
        ),
        ("unknown field", statement(r#""Effect":"Allow","Action":"s3:*","Resource":"*","Extra":1"#)),
    ];
    let arn = create(&iam, "Good", "/", &allow("s3:*")).await;
    for (what, document) in &cases {
        let call = iam
            .create_policy()
            .policy_name("Bad")
            .policy_document(document);
        assert_eq!(
            error_code_status(call.send().await),
            ("MalformedPolicyDocument".into(), 400),
            "{what}"
        );
        let version = iam
            .create_policy_version()
            .policy_arn(&arn)
            .policy_document(document);
        assert_eq!(
            error_code(version.send().await),
            "MalformedPolicyDocument",
            "{what}"
        );
    }
    let bad = iam
        .get_policy()
        .policy_arn(arn.replace("Good", "Bad"))
        .send();
    assert_eq!(error_code(bad.await), "NoSuchEntity");
    let versions = iam.list_policy_versions().policy_arn(&arn).send().await;
    assert_eq!(versions.unwrap().versions().len(), 1);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_documents_over_6144_characters_exceed_the_quota() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let at_quota = document_of_size(6144);
    let over = document_of_size(6145);

    let arn = create(&iam, "Big", "/", &at_quota).await;
    assert_eq!(document_text(&iam, &arn, "v1").await, at_quota);
    let call = iam
        .create_policy()
        .policy_name("TooBig")
        .policy_document(&over);
    assert_eq!(
        error_code_status(call.send().await),
        ("LimitExceeded".into(), 409)
    );
    let version = iam.create_policy_version().policy_arn(&arn);
    let version = version.policy_document(&over).send().await;
    assert_eq!(error_code_status(version), ("LimitExceeded".into(), 409));
    let version = iam.create_policy_version().policy_arn(&arn);
    version.policy_document(&at_quota).send().await.unwrap();
    let names: Vec<_> = iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .send()
        .await
        .unwrap()
        .policies()
        .iter()
        .map(|p| p.policy_name().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["Big"]);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_up_to_five_default_switching_and_deletion() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let doc = |n: usize| allow(&format!("s3:Action{n}"));
    let arn = create(&iam, "Versioned", "/", &doc(1)).await;

    for n in 2..=5 {
        let out = iam
            .create_policy_version()
            .policy_arn(&arn)
            .policy_document(doc(n))
            .set_as_default(n == 3)
            .send()
            .await
            .unwrap();
        let version = out.policy_version().unwrap();
        assert_eq!(version.version_id(), Some(format!("v{n}").as_str()));
        assert_eq!(version.is_default_version(), n == 3);
    }
    assert_eq!(default_version(&iam, &arn).await, "v3");
    let sixth = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(doc(6))
        .send()
        .await;
    assert_eq!(error_code_status(sixth), ("LimitExceeded".into(), 409));

    let listed = iam.list_policy_versions().policy_arn(&arn).send().await;
    let listed = listed.unwrap();
    assert!(!listed.is_truncated());
    let mut versions: Vec<(String, bool)> = listed
        .versions()
        .iter()
        .map(|v| (v.version_id().unwrap().to_owned(), v.is_default_version()))
        .collect();
    versions.sort();
    let expected: Vec<(String, bool)> = (1..=5).map(|n| (format!("v{n}"), n == 3)).collect();
    assert_eq!(versions, expected);
    for n in 1..=5 {
        let text = document_text(&iam, &arn, &format!("v{n}")).await;
        assert_eq!(text, doc(n));
    }

    let set = iam.set_default_policy_version().policy_arn(&arn);
    set.version_id("v1").send().await.unwrap();
    assert_eq!(default_version(&iam, &arn).await, "v1");
    let v3 = iam.get_policy_version().policy_arn(&arn).version_id("v3");
    let v3 = v3.send().await.unwrap();
    assert!(!v3.policy_version().unwrap().is_default_version());

    let delete_default = iam
        .delete_policy_version()
        .policy_arn(&arn)
        .version_id("v1");
    assert_eq!(
        error_code_status(delete_default.send().await),
        ("DeleteConflict".into(), 409)
    );
    let delete = iam
        .delete_policy_version()
        .policy_arn(&arn)
        .version_id("v2");
    delete.clone().send().await.unwrap();
    assert_eq!(
        error_code_status(delete.send().await),
        ("NoSuchEntity".into(), 404)
    );
    let gone = iam.get_policy_version().policy_arn(&arn).version_id("v2");
    assert_eq!(error_code(gone.send().await), "NoSuchEntity");
    let set_gone = iam
        .set_default_policy_version()
        .policy_arn(&arn)
        .version_id("v2");
    assert_eq!(error_code(set_gone.send().await), "NoSuchEntity");

    // A freed slot takes a new number: version ids are never reused.
    let next = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(doc(6))
        .send()
        .await
        .unwrap();
    assert_eq!(next.policy_version().unwrap().version_id(), Some("v6"));
    assert_eq!(default_version(&iam, &arn).await, "v1");

    for bad in ["1", "v0", "version1", "v"] {
        let call = iam.get_policy_version().policy_arn(&arn).version_id(bad);
        assert_eq!(error_code(call.send().await), "ValidationError", "{bad}");
    }
    let unknown = format!("arn:aws:iam::{ACCOUNT}:policy/Unknown");
    let calls = [
        error_code(iam.list_policy_versions().policy_arn(&unknown).send().await),
        error_code(
            iam.create_policy_version()
                .policy_arn(&unknown)
                .policy_document(doc(1))
                .send()
                .await,
        ),
        error_code(
            iam.set_default_policy_version()
                .policy_arn(&unknown)
                .version_id("v1")
                .send()
                .await,
        ),
    ];
    assert_eq!(calls, ["NoSuchEntity", "NoSuchEntity", "NoSuchEntity"]);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_policy_needs_its_extra_versions_gone_first() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let arn = create(&iam, "Doomed", "/", &allow("s3:GetObject")).await;
    let version = iam.create_policy_version().policy_arn(&arn);
    version
        .policy_document(allow("s3:PutObject"))
        .send()
        .await
        .unwrap();

    let delete = iam.delete_policy().policy_arn(&arn);
    assert_eq!(
        error_code_status(delete.clone().send().await),
        ("DeleteConflict".into(), 409)
    );
    let drop_v2 = iam
        .delete_policy_version()
        .policy_arn(&arn)
        .version_id("v2");
    drop_v2.send().await.unwrap();
    delete.clone().send().await.unwrap();
    assert_eq!(
        error_code_status(iam.get_policy().policy_arn(&arn).send().await),
        ("NoSuchEntity".into(), 404)
    );
    assert_eq!(
        error_code_status(delete.send().await),
        ("NoSuchEntity".into(), 404)
    );
    // The name is free again; the new policy starts at v1 with only its own document.
    create(&iam, "Doomed", "/", &allow("s3:ListBucket")).await;
    let versions = iam.list_policy_versions().policy_arn(&arn).send().await;
    let versions = versions.unwrap();
    let ids: Vec<_> = versions
        .versions()
        .iter()
        .map(|v| v.version_id().unwrap())
        .collect();
    assert_eq!(ids, ["v1"]);
    assert_eq!(
        document_text(&iam, &arn, "v1").await,
        allow("s3:ListBucket")
    );
    server.stop();
}

type ListCase<'a> = (
    Option<&'a str>,
    Option<bool>,
    Option<&'a str>,
    &'a [&'a str],
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_policies_by_scope_attachment_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let a = create(&iam, "a-attached", "/", &allow("s3:*")).await;
    create(&iam, "b-loose", "/team/", &allow("s3:*")).await;
    let c = create(&iam, "c-attached", "/team/x/", &allow("s3:*")).await;
    iam.create_user().user_name("u").send().await.unwrap();
    iam.create_group().group_name("g").send().await.unwrap();
    let attach = iam.attach_user_policy().user_name("u").policy_arn(&a);
    attach.send().await.unwrap();
    let attach = iam.attach_group_policy().group_name("g").policy_arn(&c);
    attach.send().await.unwrap();

    let all = ["a-attached", "b-loose", "c-attached"].as_slice();
    let aws = [
        "AdministratorAccess",
        "AmazonS3FullAccess",
        "AmazonS3ReadOnlyAccess",
        "IAMFullAccess",
        "IAMReadOnlyAccess",
        "PowerUserAccess",
        "ReadOnlyAccess",
    ];
    // Sorted by name without regard to case, as the listing is.
    let mut everything: Vec<&str> = all.iter().chain(aws.iter()).copied().collect();
    everything.sort_by_key(|n| n.to_ascii_lowercase());
    // (Scope, OnlyAttached, PathPrefix) -> names listed.
    let cases: [ListCase; 9] = [
        (None, None, None, &everything),
        (Some("All"), None, None, &everything),
        (Some("Local"), None, None, all),
        // The built-in AWS managed policies, attached to nobody here.
        (Some("AWS"), None, None, &aws),
        (
            Some("Local"),
            Some(true),
            None,
            &["a-attached", "c-attached"],
        ),
        (Some("Local"), Some(false), None, all),
        (None, None, Some("/team/"), &["b-loose", "c-attached"]),
        (None, Some(true), Some("/team/"), &["c-attached"]),
        (Some("Local"), None, Some("/nope/"), &[]),
    ];
    for (scope, only_attached, prefix, expected) in cases {
        let out = iam
            .list_policies()
            .set_scope(scope.map(PolicyScopeType::from))
            .set_only_attached(only_attached)
            .set_path_prefix(prefix.map(str::to_owned))
            .send()
            .await
            .unwrap();
        let names: Vec<&str> = out
            .policies()
            .iter()
            .map(|p| p.policy_name().unwrap())
            .collect();
        assert_eq!(names, expected, "{scope:?} {only_attached:?} {prefix:?}");
        let own = out
            .policies()
            .iter()
            .filter(|p| !p.arn().unwrap().contains("::aws:"));
        for policy in own {
            let attached = policy.policy_name().unwrap().ends_with("-attached");
            assert_eq!(policy.attachment_count(), Some(i32::from(attached)));
            assert_eq!(policy.default_version_id(), Some("v1"));
        }
    }
    let bad = iam
        .list_policies()
        .scope(PolicyScopeType::from("Everything"));
    assert_eq!(error_code(bad.send().await), "ValidationError");
    server.stop();
}

/// `PolicyUsageFilter` is an enum like `Scope`: a value outside it is AWS's 400
/// `ValidationError`, never ignored. A policy attached but no one's boundary is listed for
/// `PermissionsPolicy` and not for `PermissionsBoundary` (`iam_boundaries` covers the rest).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_usage_filter_is_validated_and_applied() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let arn = create(&iam, "read", "/", &allow("s3:Get*")).await;
    iam.create_user().user_name("u").send().await.unwrap();
    let attach = iam.attach_user_policy().user_name("u").policy_arn(&arn);
    attach.send().await.unwrap();

    let listed = |usage: &str| {
        iam.list_policies()
            .scope(PolicyScopeType::Local)
            .policy_usage_filter(PolicyUsageType::from(usage))
            .send()
    };
    let names = |out: aws_sdk_iam::operation::list_policies::ListPoliciesOutput| -> Vec<String> {
        let policies = out.policies().iter();
        policies
            .map(|p| p.policy_name().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(listed("PermissionsPolicy").await.unwrap()), ["read"]);
    assert!(names(listed("PermissionsBoundary").await.unwrap()).is_empty());
    let entities = |usage: &str| {
        iam.list_entities_for_policy()
            .policy_arn(&arn)
            .policy_usage_filter(PolicyUsageType::from(usage))
            .send()
    };
    let users = entities("PermissionsPolicy").await.unwrap();
    assert_eq!(users.policy_users()[0].user_name(), Some("u"));
    let users = entities("PermissionsBoundary").await.unwrap();
    assert!(users.policy_users().is_empty());

    let expected = |field: &str, value: &str, set: &str| {
        format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy \
             constraint: Member must satisfy enum value set: [{set}]"
        )
    };
    let usage_set = "PermissionsBoundary, PermissionsPolicy";
    for bad in ["x", "permissionspolicy"] {
        let e = listed(bad).await.unwrap_err();
        let e = e.into_service_error();
        assert_eq!(e.code(), Some("ValidationError"), "{bad}");
        assert_eq!(
            e.message(),
            Some(&*expected("policyUsageFilter", bad, usage_set))
        );
        let e = entities(bad).await.unwrap_err().into_service_error();
        assert_eq!(e.code(), Some("ValidationError"), "{bad}");
    }
    let status = error_code_status(listed("x").await);
    assert_eq!(status, ("ValidationError".into(), 400));
    // The other enumerated parameters answer the same way.
    let scope = iam.list_policies().scope(PolicyScopeType::from("x")).send();
    let e = scope.await.unwrap_err().into_service_error();
    assert_eq!(
        e.message(),
        Some(&*expected("scope", "x", "All, AWS, Local"))
    );
    let filter = iam
        .list_entities_for_policy()
        .policy_arn(&arn)
        .entity_filter(EntityType::from("Users"))
        .send();
    let e = filter.await.unwrap_err().into_service_error();
    let entity_set = "User, Role, LocalManagedPolicy, Group, AWSManagedPolicy";
    assert_eq!(
        e.message(),
        Some(&*expected("entityFilter", "Users", entity_set))
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_policies_pages_cover_every_policy_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let names: Vec<String> = (0..14).map(|i| format!("policy{i:02}")).collect();
    for name in names.iter().rev() {
        create(&iam, name, "/", &allow("s3:GetObject")).await;
    }
    let pages = all_pages(10, |marker| {
        let iam = iam.clone();
        async move {
            let out = iam
                .list_policies()
                .scope(PolicyScopeType::Local)
                .max_items(4)
                .set_marker(marker)
                .send()
                .await
                .unwrap();
            let names = out
                .policies()
                .iter()
                .map(|p| p.policy_name().unwrap().to_owned());
            (
                names.collect(),
                out.is_truncated(),
                out.marker().map(Into::into),
            )
        }
    })
    .await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 4, 2]);
    assert_eq!(pages.concat(), names);
    server.stop();
}
