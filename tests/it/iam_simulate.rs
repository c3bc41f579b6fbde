//! The IAM decision API through `aws-sdk-iam` against the server: SimulatePrincipalPolicy
//! over stored user, group and role policies (a role's boundary and session keys included), SimulateCustomPolicy over supplied ones, context
//! entries and missing keys, resource policies with a caller, paging, errors, and who may ask.
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html>
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulateCustomPolicy.html>

use crate::common;

use aws_sdk_iam::types::{ContextEntry, ContextKeyTypeEnum, EvaluationResult};
use aws_sdk_iam::Client;
use common::{all_pages, error_code_status, iam_client, root_iam, start_with_root};

const ACCOUNT: &str = "000000000000";

fn user_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/{name}")
}

fn policy(effect: &str, action: &str, resource: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"{effect}","Action":"{action}","Resource":"{resource}"}}]}}"#
    )
}

/// A result as a row: (action, resource, decision, [(policy id, policy type)], missing keys).
type Row = (String, String, String, Vec<(String, String)>, Vec<String>);

fn row(result: &EvaluationResult) -> Row {
    let matched = result
        .matched_statements()
        .iter()
        .map(|s| {
            let kind = s.source_policy_type().map(|t| t.as_str().to_owned());
            (s.source_policy_id().unwrap().to_owned(), kind.unwrap())
        })
        .collect();
    (
        result.eval_action_name().to_owned(),
        result.eval_resource_name().unwrap().to_owned(),
        result.eval_decision().as_str().to_owned(),
        matched,
        result.missing_context_values().to_vec(),
    )
}

fn expect(
    action: &str,
    resource: &str,
    decision: &str,
    matched: &[(&str, &str)],
    missing: &[&str],
) -> Row {
    (
        action.to_owned(),
        resource.to_owned(),
        decision.to_owned(),
        matched
            .iter()
            .map(|(id, kind)| (id.to_string(), kind.to_string()))
            .collect(),
        missing.iter().map(|k| k.to_string()).collect(),
    )
}

fn entry(key: &str, values: &[&str], kind: ContextKeyTypeEnum) -> ContextEntry {
    let mut entry = ContextEntry::builder()
        .context_key_name(key)
        .context_key_type(kind);
    for value in values {
        entry = entry.context_key_values(*value);
    }
    entry.build()
}

/// SimulatePrincipalPolicy for `source` on `actions` x `resources`, as rows.
async fn simulate_principal(
    iam: &Client,
    source: &str,
    actions: &[&str],
    resources: &[&str],
    context: Vec<ContextEntry>,
) -> Vec<Row> {
    let mut call = iam.simulate_principal_policy().policy_source_arn(source);
    for action in actions {
        call = call.action_names(*action);
    }
    for resource in resources {
        call = call.resource_arns(*resource);
    }
    let out = call
        .set_context_entries(Some(context))
        .send()
        .await
        .unwrap();
    assert!(!out.is_truncated());
    out.evaluation_results().iter().map(row).collect()
}

async fn create_user_in(iam: &Client, user: &str, group: Option<&str>) {
    iam.create_user().user_name(user).send().await.unwrap();
    if let Some(group) = group {
        let add = iam.add_user_to_group().group_name(group).user_name(user);
        add.send().await.unwrap();
    }
}

async fn put_user_policy(iam: &Client, user: &str, name: &str, document: &str) {
    let put = iam.put_user_policy().user_name(user).policy_name(name);
    put.policy_document(document).send().await.unwrap();
}

async fn put_group_policy(iam: &Client, group: &str, name: &str, document: &str) {
    let put = iam.put_group_policy().group_name(group).policy_name(name);
    put.policy_document(document).send().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_inline_and_group_policies_decide_together() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    iam.create_group().group_name("devs").send().await.unwrap();
    create_user_in(&iam, "alice", Some("devs")).await;
    let read_write = r#"{"Version":"2012-10-17","Statement":[{"Sid":"RW","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::data/*"}]}"#;
    put_user_policy(&iam, "alice", "alice-rw", read_write).await;
    let list = iam.create_policy().policy_name("devs-list");
    let list = list.policy_document(policy("Allow", "s3:ListBucket", "arn:aws:s3:::data"));
    let list_arn = list
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    let attach = iam
        .attach_group_policy()
        .group_name("devs")
        .policy_arn(list_arn);
    attach.send().await.unwrap();
    let deny = policy("Deny", "s3:PutObject", "arn:aws:s3:::data/secret/*");
    put_group_policy(&iam, "devs", "no-secret-writes", &deny).await;

    let (bucket, secret) = ("arn:aws:s3:::data", "arn:aws:s3:::data/secret/x");
    let actions = [
        "s3:GetObject",
        "s3:ListBucket",
        "s3:PutObject",
        "s3:DeleteObject",
    ];
    let rows = simulate_principal(
        &iam,
        &user_arn("alice"),
        &actions,
        &[bucket, secret],
        vec![],
    )
    .await;
    let user_rw = [("alice-rw", "user")];
    let group_list = [("devs-list", "user-managed")];
    let group_deny = [("no-secret-writes", "group")];
    assert_eq!(
        rows,
        [
            expect("s3:GetObject", bucket, "implicitDeny", &[], &[]),
            expect("s3:GetObject", secret, "allowed", &user_rw, &[]),
            expect("s3:ListBucket", bucket, "allowed", &group_list, &[]),
            expect("s3:ListBucket", secret, "implicitDeny", &[], &[]),
            expect("s3:PutObject", bucket, "implicitDeny", &[], &[]),
            // The group's Deny beats the user's Allow, and is the only statement named.
            expect("s3:PutObject", secret, "explicitDeny", &group_deny, &[]),
            expect("s3:DeleteObject", bucket, "implicitDeny", &[], &[]),
            expect("s3:DeleteObject", secret, "implicitDeny", &[], &[]),
        ]
    );

    // Positions point into the stored text; named resources get per-resource results.
    let call = iam
        .simulate_principal_policy()
        .policy_source_arn(user_arn("alice"));
    let out = call
        .action_names("s3:GetObject")
        .resource_arns(secret)
        .send()
        .await
        .unwrap();
    let result = &out.evaluation_results()[0];
    let statement = &result.matched_statements()[0];
    let (start, end) = (
        statement.start_position().unwrap(),
        statement.end_position().unwrap(),
    );
    assert_eq!((start.line(), end.line()), (1, 1));
    let text: String = read_write
        .chars()
        .skip(usize::try_from(start.column() - 2).unwrap())
        .take(usize::try_from(end.column() - start.column() + 1).unwrap())
        .collect();
    assert!(
        text.starts_with("{\"Sid\":\"RW\"") && text.ends_with("data/*\"}"),
        "{text}"
    );
    assert!(result.eval_decision_details().unwrap().is_empty());
    let specific = result.resource_specific_results();
    assert_eq!(specific.len(), 1);
    assert_eq!(specific[0].eval_resource_name(), secret);
    assert_eq!(specific[0].eval_resource_decision().as_str(), "allowed");
    assert_eq!(specific[0].matched_statements().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn username_variables_simulate_as_on_real_requests() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    create_user_in(&iam, "bob", None).await;
    let home = policy("Allow", "s3:*", "arn:aws:s3:::home/${aws:username}/*");
    put_user_policy(&iam, "bob", "home", &home).await;
    let (own, other) = ("arn:aws:s3:::home/bob/f", "arn:aws:s3:::home/carol/f");
    let rows = simulate_principal(
        &iam,
        &user_arn("bob"),
        &["s3:GetObject"],
        &[own, other],
        vec![],
    )
    .await;
    assert_eq!(
        rows,
        [
            expect("s3:GetObject", own, "allowed", &[("home", "user")], &[]),
            expect("s3:GetObject", other, "implicitDeny", &[], &[]),
        ]
    );
    // A context entry overrides the key the simulation fills in.
    let as_carol = vec![entry(
        "aws:username",
        &["carol"],
        ContextKeyTypeEnum::String,
    )];
    let rows = simulate_principal(
        &iam,
        &user_arn("bob"),
        &["s3:GetObject"],
        &[other],
        as_carol,
    )
    .await;
    assert_eq!(rows[0].2, "allowed");
    // Without a user, nothing fills the key in: it is reported missing.
    let custom = iam.simulate_custom_policy().policy_input_list(&home);
    let out = custom
        .action_names("s3:GetObject")
        .resource_arns(own)
        .send()
        .await
        .unwrap();
    let missing = ["aws:username"];
    let want = expect("s3:GetObject", own, "implicitDeny", &[], &missing);
    assert_eq!(row(&out.evaluation_results()[0]), want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditions_read_context_entries_and_missing_keys_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let document = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::data",
         "Condition":{"StringLike":{"s3:prefix":"reports/*"}}},
        {"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
         "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#;
    let run = |context: Vec<ContextEntry>| {
        let call = iam.simulate_custom_policy().policy_input_list(document);
        // Resources are matched as given: `*`, the default, is not the bucket's ARN.
        let call = call
            .action_names("s3:ListBucket")
            .action_names("s3:GetObject")
            .resource_arns("arn:aws:s3:::data");
        async move {
            let out = call
                .set_context_entries(Some(context))
                .send()
                .await
                .unwrap();
            let rows: Vec<Row> = out.evaluation_results().iter().map(row).collect();
            rows.into_iter()
                .map(|r| (r.2, r.3.len(), r.4))
                .collect::<Vec<_>>()
        }
    };
    let implicit = |missing: &str| ("implicitDeny".to_owned(), 0, vec![missing.to_owned()]);
    assert_eq!(
        run(vec![]).await,
        [implicit("s3:prefix"), implicit("aws:SourceIp")]
    );
    let allowed = ("allowed".to_owned(), 1, vec![]);
    let inside = vec![
        entry("s3:prefix", &["reports/2024/"], ContextKeyTypeEnum::String),
        entry("aws:SourceIp", &["10.1.2.3"], ContextKeyTypeEnum::Ip),
    ];
    assert_eq!(run(inside).await, [allowed.clone(), allowed]);
    let outside = vec![
        entry("s3:prefix", &["private/"], ContextKeyTypeEnum::String),
        entry("aws:sourceip", &["192.0.2.1"], ContextKeyTypeEnum::Ip),
    ];
    let denied = ("implicitDeny".to_owned(), 0, vec![]);
    assert_eq!(run(outside).await, [denied.clone(), denied]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_policies_with_a_resource_policy_and_a_caller() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let read = policy("Allow", "s3:GetObject", "arn:aws:s3:::shared/*");
    let deny = policy("Deny", "s3:GetObject", "arn:aws:s3:::shared/private/*");
    let bucket_policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":"s3:PutObject","Resource":"arn:aws:s3:::shared/*"}}]}}"#,
        user_arn("alice")
    );
    let (public, private) = ("arn:aws:s3:::shared/a", "arn:aws:s3:::shared/private/a");
    let simulate = |caller: &str| {
        iam.simulate_custom_policy()
            .policy_input_list(&read)
            .policy_input_list(&deny)
            .resource_policy(&bucket_policy)
            .caller_arn(caller)
            .action_names("s3:GetObject")
            .action_names("s3:PutObject")
            .resource_arns(public)
            .resource_arns(private)
    };
    let out = simulate(&user_arn("alice")).send().await.unwrap();
    let rows: Vec<Row> = out.evaluation_results().iter().map(row).collect();
    let (first, second, bucket) = (
        [("PolicyInputList.1", "none")],
        [("PolicyInputList.2", "none")],
        [("ResourcePolicy", "resource")],
    );
    assert_eq!(
        rows,
        [
            expect("s3:GetObject", public, "allowed", &first, &[]),
            expect("s3:GetObject", private, "explicitDeny", &second, &[]),
            expect("s3:PutObject", public, "allowed", &bucket, &[]),
            expect("s3:PutObject", private, "allowed", &bucket, &[]),
        ]
    );
    // Another caller is not the bucket policy's principal.
    let out = simulate(&user_arn("bob"))
        .max_items(4)
        .send()
        .await
        .unwrap();
    let decisions: Vec<&str> = out
        .evaluation_results()
        .iter()
        .map(|r| r.eval_decision().as_str())
        .collect();
    assert_eq!(
        decisions,
        ["allowed", "explicitDeny", "implicitDeny", "implicitDeny"]
    );

    // One result a page: the pages together are the whole list, in order.
    let pages = all_pages(10, |marker| {
        let call = simulate(&user_arn("alice")).max_items(1).set_marker(marker);
        async move {
            let out = call.send().await.unwrap();
            let items = out.evaluation_results().iter().map(|r| {
                let resource = r.eval_resource_name().unwrap();
                format!(
                    "{} {resource} {}",
                    r.eval_action_name(),
                    r.eval_decision().as_str()
                )
            });
            let marker = out.marker().map(str::to_owned);
            (items.collect(), out.is_truncated(), marker)
        }
    })
    .await;
    assert_eq!(pages.len(), 4);
    assert_eq!(pages[3], [format!("s3:PutObject {private} allowed")]);

    // A resource policy needs a caller for its Principal.
    let call = iam.simulate_custom_policy().policy_input_list(&read);
    let call = call
        .resource_policy(&bucket_policy)
        .action_names("s3:GetObject");
    assert_eq!(
        error_code_status(call.send().await),
        ("InvalidInput".into(), 400)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_source_simulates_the_groups_policies() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let make = iam.create_group().group_name("auditors").path("/audit/");
    make.send().await.unwrap();
    let read = policy("Allow", "iam:Get*", "*");
    put_group_policy(&iam, "auditors", "read-iam", &read).await;
    let group = format!("arn:aws:iam::{ACCOUNT}:group/audit/auditors");
    let rows = simulate_principal(
        &iam,
        &group,
        &["iam:GetUser", "iam:DeleteUser"],
        &[],
        vec![],
    )
    .await;
    assert_eq!(
        rows,
        [
            expect("iam:GetUser", "*", "allowed", &[("read-iam", "group")], &[]),
            expect("iam:DeleteUser", "*", "implicitDeny", &[], &[]),
        ]
    );
    // A group is no caller: a resource policy needs CallerArn, then it decides for that user.
    let bucket_policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"iam:GetUser","Resource":"*"}]}"#;
    let call = |caller: Option<String>| {
        let call = iam.simulate_principal_policy().policy_source_arn(&group);
        let call = call
            .action_names("iam:GetUser")
            .resource_policy(bucket_policy);
        call.set_caller_arn(caller).send()
    };
    assert_eq!(
        error_code_status(call(None).await),
        ("InvalidInput".into(), 400)
    );
    let out = call(Some(user_arn("anyone"))).await.unwrap();
    let want = expect(
        "iam:GetUser",
        "*",
        "explicitDeny",
        &[("ResourcePolicy", "resource")],
        &[],
    );
    assert_eq!(row(&out.evaluation_results()[0]), want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_sources_and_documents_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let make = iam.create_user().user_name("frank").path("/ops/");
    make.send().await.unwrap();
    let principal = |source: &str| {
        let call = iam.simulate_principal_policy().policy_source_arn(source);
        call.action_names("s3:GetObject").send()
    };
    assert!(principal(&format!("arn:aws:iam::{ACCOUNT}:user/ops/frank"))
        .await
        .is_ok());
    let not_found = ("NoSuchEntity".to_owned(), 404);
    for missing in [
        "user/nobody",
        "user/frank",
        "user/other/frank",
        "group/nobody",
        "role/frank",
    ] {
        let arn = format!("arn:aws:iam::{ACCOUNT}:{missing}");
        assert_eq!(error_code_status(principal(&arn).await), not_found, "{arn}");
    }
    let invalid = ("InvalidInput".to_owned(), 400);
    for arn in [
        format!("arn:aws:iam::{ACCOUNT}:policy/frank"),
        format!("arn:aws:iam::{ACCOUNT}:instance-profile/frank"),
        "arn:aws:iam::111122223333:user/ops/frank".to_owned(),
        "not an arn at all, but long".to_owned(),
    ] {
        assert_eq!(error_code_status(principal(&arn).await), invalid, "{arn}");
    }
    let short = principal("arn:aws:iam::1:user").await;
    assert_eq!(error_code_status(short), ("ValidationError".into(), 400));

    let custom = |document: &str, action: &str| {
        let call = iam.simulate_custom_policy().policy_input_list(document);
        call.action_names(action).send()
    };
    let valid = policy("Allow", "s3:*", "*");
    for malformed in ["{", r#"{"Statement":[]}"#, &policy("Maybe", "s3:*", "*")] {
        let refused = custom(malformed, "s3:GetObject").await;
        assert_eq!(error_code_status(refused), invalid, "{malformed}");
    }
    for action in ["s3:*", "GetObject", "s3:Get?bject"] {
        let refused = custom(&valid, action).await;
        assert_eq!(error_code_status(refused), invalid, "{action}");
    }
    let boundary = iam
        .simulate_principal_policy()
        .policy_source_arn(user_arn("ops/frank"));
    let boundary = boundary.action_names("s3:GetObject");
    // One boundary at most, and a well-formed one.
    let two = boundary
        .clone()
        .permissions_boundary_policy_input_list(&valid)
        .permissions_boundary_policy_input_list(&valid)
        .send()
        .await;
    assert_eq!(error_code_status(two), invalid);
    let malformed = boundary
        .permissions_boundary_policy_input_list("{")
        .send()
        .await;
    assert_eq!(error_code_status(malformed), invalid);
    // A resource policy must say whom it is about; a marker must come from a page.
    let call = iam.simulate_custom_policy().policy_input_list(&valid);
    let call = call
        .caller_arn(user_arn("ops/frank"))
        .action_names("s3:GetObject");
    let no_principal = call.clone().resource_policy(&valid).send().await;
    assert_eq!(error_code_status(no_principal), invalid);
    let bad_marker = call.marker("7").send().await;
    assert_eq!(error_code_status(bad_marker), invalid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_may_simulate_what_its_policies_allow_it_to() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    create_user_in(&iam, "dave", None).await;
    create_user_in(&iam, "erin", None).await;
    let own = format!("arn:aws:iam::{ACCOUNT}:user/${{aws:username}}");
    let may_simulate_self = policy("Allow", "iam:SimulatePrincipalPolicy", &own);
    put_user_policy(&iam, "dave", "simulate-self", &may_simulate_self).await;
    let key = iam
        .create_access_key()
        .user_name("dave")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let dave = iam_client(server.iam, key.access_key_id(), key.secret_access_key());

    let ask = |source: String| {
        let call = dave.simulate_principal_policy().policy_source_arn(source);
        call.action_names("iam:SimulatePrincipalPolicy")
            .resource_arns(user_arn("dave"))
            .resource_arns(user_arn("erin"))
            .send()
    };
    let out = ask(user_arn("dave")).await.unwrap();
    let decisions: Vec<&str> = out
        .evaluation_results()
        .iter()
        .map(|r| r.eval_decision().as_str())
        .collect();
    assert_eq!(decisions, ["allowed", "implicitDeny"]);
    let denied = ("AccessDenied".to_owned(), 403);
    assert_eq!(error_code_status(ask(user_arn("erin")).await), denied);
    let custom = dave
        .simulate_custom_policy()
        .policy_input_list(&may_simulate_self);
    let custom = custom.action_names("s3:GetObject").send().await;
    assert_eq!(error_code_status(custom), denied);
}

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}"#;

/// A managed policy of the account, by its ARN.
async fn managed_policy(iam: &Client, name: &str, document: &str) -> String {
    let create = iam
        .create_policy()
        .policy_name(name)
        .policy_document(document);
    let out = create.send().await.unwrap();
    out.policy().unwrap().arn().unwrap().to_owned()
}

/// Whether each result carries a boundary detail, and what it says.
fn boundary_details(results: &[EvaluationResult]) -> Vec<Option<bool>> {
    results
        .iter()
        .map(|r| {
            r.permissions_boundary_decision_detail()
                .map(|d| d.allowed_by_permissions_boundary())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_source_simulates_its_policies_boundary_and_session_keys() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let tag = aws_sdk_iam::types::Tag::builder()
        .key("team")
        .value("blue")
        .build()
        .unwrap();
    let create = iam.create_role().role_name("Deployer").path("/ci/");
    let create = create.assume_role_policy_document(TRUST).tags(tag);
    create.send().await.unwrap();
    let role = format!("arn:aws:iam::{ACCOUNT}:role/ci/Deployer");
    // Inline: reads and writes under the team's prefix, for role sessions only.
    let own_prefix = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::data/${aws:PrincipalTag/team}/*","Condition":{"StringEquals":{"aws:PrincipalType":"AssumedRole","aws:PrincipalArn":"arn:aws:iam::000000000000:role/ci/Deployer"}}}]}"#;
    let put = iam
        .put_role_policy()
        .role_name("Deployer")
        .policy_name("own-prefix");
    put.policy_document(own_prefix).send().await.unwrap();
    // Attached: deletes anywhere, and reads of a key the context must supply.
    let delete = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:DeleteObject","Resource":"*"},{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#;
    let delete_arn = managed_policy(&iam, "deleter", delete).await;
    let attach = iam.attach_role_policy().role_name("Deployer");
    attach.policy_arn(&delete_arn).send().await.unwrap();

    let (blue, red) = ("arn:aws:s3:::data/blue/a", "arn:aws:s3:::data/red/a");
    let actions = [
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:ListBucket",
        "s3:PutBucketPolicy",
    ];
    let rows = simulate_principal(&iam, &role, &actions, &[blue, red], vec![]).await;
    let inline = [("own-prefix", "role")];
    let attached = [("deleter", "user-managed")];
    let ip = ["aws:SourceIp"];
    assert_eq!(
        rows,
        [
            expect("s3:GetObject", blue, "allowed", &inline, &[]),
            expect("s3:GetObject", red, "implicitDeny", &[], &[]),
            expect("s3:DeleteObject", blue, "allowed", &attached, &[]),
            expect("s3:DeleteObject", red, "allowed", &attached, &[]),
            expect("s3:ListBucket", blue, "implicitDeny", &[], &ip),
            expect("s3:ListBucket", red, "implicitDeny", &[], &ip),
            expect("s3:PutBucketPolicy", blue, "implicitDeny", &[], &[]),
            expect("s3:PutBucketPolicy", red, "implicitDeny", &[], &[]),
        ]
    );
    // A role has no session here: aws:userid is not made up, so a policy reading it misses it.
    let by_userid = policy("Allow", "s3:GetObject", "arn:aws:s3:::data/${aws:userid}/*");
    let call = iam.simulate_principal_policy().policy_source_arn(&role);
    let call = call.action_names("s3:GetObject").resource_arns(blue);
    let out = call.policy_input_list(&by_userid).send().await.unwrap();
    let result = &out.evaluation_results()[0];
    assert_eq!(result.missing_context_values(), ["aws:userid"]);
    // PolicyInputList adds to the role's policies: now a red read is allowed too.
    let extra = policy("Allow", "s3:GetObject", "arn:aws:s3:::data/red/*");
    let call = iam.simulate_principal_policy().policy_source_arn(&role);
    let call = call.action_names("s3:GetObject").resource_arns(red);
    let out = call.policy_input_list(&extra).send().await.unwrap();
    assert_eq!(
        row(&out.evaluation_results()[0]),
        expect(
            "s3:GetObject",
            red,
            "allowed",
            &[("PolicyInputList.1", "none")],
            &[]
        )
    );

    // The role's boundary caps it: deletes only.
    let cap = managed_policy(
        &iam,
        "only-deletes",
        &policy("Allow", "s3:DeleteObject", "*"),
    )
    .await;
    let bound = iam.put_role_permissions_boundary().role_name("Deployer");
    bound.permissions_boundary(&cap).send().await.unwrap();
    let ask = |boundary: Option<String>| {
        let call = iam.simulate_principal_policy().policy_source_arn(&role);
        let call = call
            .action_names("s3:GetObject")
            .action_names("s3:DeleteObject");
        let call = call.resource_arns(blue);
        call.set_permissions_boundary_policy_input_list(boundary.map(|b| vec![b]))
            .send()
    };
    let out = ask(None).await.unwrap();
    let decisions: Vec<Row> = out.evaluation_results().iter().map(row).collect();
    assert_eq!(
        decisions,
        [
            expect("s3:GetObject", blue, "implicitDeny", &[], &[]),
            expect(
                "s3:DeleteObject",
                blue,
                "allowed",
                &[
                    ("deleter", "user-managed"),
                    ("only-deletes", "user-managed")
                ],
                &[]
            ),
        ]
    );
    assert_eq!(
        boundary_details(out.evaluation_results()),
        [Some(false), Some(true)]
    );
    // A boundary given replaces the role's.
    let reads = policy("Allow", "s3:GetObject", "*");
    let out = ask(Some(reads)).await.unwrap();
    let decisions: Vec<&str> = out
        .evaluation_results()
        .iter()
        .map(|r| r.eval_decision().as_str())
        .collect();
    assert_eq!(decisions, ["allowed", "implicitDeny"]);
    assert_eq!(
        boundary_details(out.evaluation_results()),
        [Some(true), Some(false)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_source_is_no_caller_and_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let create = iam.create_role().role_name("Reader").path("/apps/");
    create
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    let read = policy("Allow", "s3:GetObject", "*");
    let put = iam
        .put_role_policy()
        .role_name("Reader")
        .policy_name("read");
    put.policy_document(&read).send().await.unwrap();
    let role = format!("arn:aws:iam::{ACCOUNT}:role/apps/Reader");
    let call = |source: String| {
        let call = iam.simulate_principal_policy().policy_source_arn(source);
        call.action_names("s3:GetObject").send()
    };
    assert!(call(role.clone()).await.is_ok());
    // Unknown, or named without its path or with another: not found.
    let not_found = ("NoSuchEntity".to_owned(), 404);
    for missing in ["role/Nobody", "role/Reader", "role/other/Reader"] {
        let arn = format!("arn:aws:iam::{ACCOUNT}:{missing}");
        assert_eq!(
            error_code_status(call(arn.clone()).await),
            not_found,
            "{arn}"
        );
    }
    let invalid = ("InvalidInput".to_owned(), 400);
    let other_account = "arn:aws:iam::111122223333:role/apps/Reader".to_owned();
    assert_eq!(error_code_status(call(other_account).await), invalid);
    // CallerArn must be a user, as AWS allows; a resource policy then needs one.
    let with = |caller: Option<&str>| {
        let call = iam.simulate_principal_policy().policy_source_arn(&role);
        let call = call
            .action_names("s3:GetObject")
            .resource_arns("arn:aws:s3:::b/k");
        let deny_all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}"#;
        call.resource_policy(deny_all)
            .set_caller_arn(caller.map(str::to_owned))
            .send()
    };
    assert_eq!(error_code_status(with(None).await), invalid);
    assert_eq!(error_code_status(with(Some(&role)).await), invalid);
    let out = with(Some(&user_arn("anyone"))).await.unwrap();
    assert_eq!(
        out.evaluation_results()[0].eval_decision().as_str(),
        "explicitDeny"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulating_a_role_needs_the_permission_on_the_roles_arn() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    create_user_in(&iam, "gina", None).await;
    let create = iam.create_role().role_name("Ops").path("/team/");
    create
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    let users_only = policy(
        "Allow",
        "iam:SimulatePrincipalPolicy",
        &format!("arn:aws:iam::{ACCOUNT}:user/*"),
    );
    put_user_policy(&iam, "gina", "simulate-users", &users_only).await;
    let key = iam
        .create_access_key()
        .user_name("gina")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let gina = iam_client(server.iam, key.access_key_id(), key.secret_access_key());
    let ask = |source: String| {
        let call = gina.simulate_principal_policy().policy_source_arn(source);
        call.action_names("s3:GetObject").send()
    };
    assert!(ask(user_arn("gina")).await.is_ok());
    let role = format!("arn:aws:iam::{ACCOUNT}:role/team/Ops");
    let denied = ("AccessDenied".to_owned(), 403);
    assert_eq!(error_code_status(ask(role.clone()).await), denied);
    // Allowed on roles under /team/, the same call succeeds.
    let roles = policy(
        "Allow",
        "iam:SimulatePrincipalPolicy",
        &format!("arn:aws:iam::{ACCOUNT}:role/team/*"),
    );
    put_user_policy(&iam, "gina", "simulate-team-roles", &roles).await;
    assert!(ask(role).await.is_ok());
}
