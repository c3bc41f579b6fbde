//! Evaluation tests: every table goes through [`check`], which parses real JSON documents with
//! the grammar, compiles them and evaluates one request, so each row exercises the same path
//! the S3 and IAM handlers will.
//!
//! - `boundary`: permissions boundaries intersected with identity policies;
//! - `logic`: actions, resources, principals, deny-wins, `matched`;
//! - `conditions`: every operator, qualifier, `IfExists`, `Null`, missing keys;
//! - `variables`: policy variables, defaults and escapes, version 2008 literals.

mod boundary;
mod conditions;
mod logic;
mod variables;

use super::*;
use crate::policy::document::{parse, PolicyKind};

pub(super) const ACCOUNT: &str = "111122223333";

pub(super) const ALICE: Caller<'static> = Caller {
    arn: "arn:aws:iam::111122223333:user/alice",
    account: ACCOUNT,
    is_root: false,
    role_arn: None,
};

pub(super) const BOB: Caller<'static> = Caller {
    arn: "arn:aws:iam::111122223333:user/bob",
    account: ACCOUNT,
    is_root: false,
    role_arn: None,
};

pub(super) const ROOT: Caller<'static> = Caller {
    arn: "arn:aws:iam::111122223333:root",
    account: ACCOUNT,
    is_root: true,
    role_arn: None,
};

/// A user of another account.
pub(super) const CAROL: Caller<'static> = Caller {
    arn: "arn:aws:iam::444455556666:user/carol",
    account: "444455556666",
    is_root: false,
    role_arn: None,
};

/// Context keys and their values, as a table row writes them.
pub(super) type Pairs<'a> = &'a [(&'a str, &'a [&'a str])];

pub(super) fn context(pairs: Pairs<'_>) -> Context {
    let mut context = Context::new();
    for (key, values) in pairs {
        context.set(key, values.iter().copied());
    }
    context
}

/// Parses `policies` as identity policies and `resource_policy` as a bucket policy, compiles
/// them, evaluates `request`, asserts the decision and returns the evaluation for further
/// checks (`matched`).
pub(super) fn check(
    policies: &[&str],
    resource_policy: Option<&str>,
    request: &Request<'_>,
    expected: Decision,
) -> Evaluation {
    let compile = |json: &str, kind| match parse(json, kind) {
        Ok(doc) => CompiledPolicy::compile(&doc),
        Err(e) => panic!("{kind:?} policy refused ({e}): {json}"),
    };
    let identity: Vec<CompiledPolicy> = policies
        .iter()
        .map(|json| compile(json, PolicyKind::Identity))
        .collect();
    let identity: Vec<&CompiledPolicy> = identity.iter().collect();
    let bucket = resource_policy.map(|json| compile(json, PolicyKind::Resource));
    let evaluation = evaluate(&identity, bucket.as_ref(), request);
    assert_eq!(
        evaluation.decision, expected,
        "\nrequest: {request:?}\nidentity: {policies:#?}\nbucket: {resource_policy:#?}\n\
         matched: {:?}",
        evaluation.matched
    );
    evaluation
}

/// A statement without `Resource` cannot come out of `parse` (both policy kinds require one),
/// so this one is built by hand; it must never apply.
#[test]
fn statement_without_resource_never_matches() {
    use crate::policy::document::{ActionSpec, PolicyDocument, Statement, Version};
    let doc = PolicyDocument {
        version: Version::V2012_10_17,
        id: None,
        statements: vec![Statement {
            sid: None,
            effect: Effect::Allow,
            actions: ActionSpec::Action(vec!["*".into()]),
            resources: None,
            principals: None,
            conditions: Vec::new(),
        }],
    };
    let policy = CompiledPolicy::compile(&doc);
    let context = Context::new();
    let request = Request {
        action: "s3:GetObject",
        resource: "arn:aws:s3:::b/k",
        caller: Some(ALICE),
        context: &context,
    };
    let evaluation = evaluate(&[&policy], None, &request);
    assert_eq!(evaluation.decision, Decision::ImplicitDeny);
}

#[test]
fn context_keys_fold_case_and_set_replaces() {
    let mut context = Context::new();
    context.set("aws:SourceIp", ["203.0.113.7"]);
    context.set("AWS:SOURCEIP", ["198.51.100.1"]);
    assert_eq!(
        context.get("aws:sourceip"),
        Some(&["198.51.100.1".to_string()][..])
    );
    context.set("aws:TagKeys", Vec::<String>::new());
    assert_eq!(context.get("aws:tagkeys"), Some(&[][..]));
    assert_eq!(context.get("aws:username"), None);
}

#[test]
fn context_keys_are_those_of_the_statements_naming_the_action() {
    let json = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b",
         "Condition":{"StringLike":{"s3:prefix":"home/${aws:username}/*"},
                      "IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
        {"Effect":"Deny","NotAction":"s3:*","Resource":"*",
         "Condition":{"Bool":{"aws:SecureTransport":"false"}}},
        {"Effect":"Allow","Action":"s3:Get*",
         "Resource":"arn:aws:s3:::b/${aws:userid}/${aws:username, 'none'}/*",
         "Condition":{"NotIpAddress":{"AWS:SOURCEIP":"192.0.2.0/24"}}}]}"#;
    let policy = CompiledPolicy::compile(&parse(json, PolicyKind::Identity).unwrap());
    let sorted = |action: &str| {
        let mut keys = policy.context_keys(action);
        keys.sort_by_key(|k| k.to_ascii_lowercase());
        keys
    };
    // Condition keys as written, variables without a default, each key once.
    assert_eq!(
        sorted("s3:listbucket"),
        ["aws:SourceIp", "aws:username", "s3:prefix"]
    );
    assert_eq!(sorted("s3:GetObject"), ["AWS:SOURCEIP", "aws:userid"]);
    // Only the NotAction statement names an IAM action.
    assert_eq!(sorted("iam:GetUser"), ["aws:SecureTransport"]);
    let both = CompiledPolicy::compile(&parse(
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
            {"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"NotIpAddress":{"aws:sourceip":"10.0.0.0/8"}}}]}"#,
        PolicyKind::Identity,
    ).unwrap());
    assert_eq!(both.context_keys("s3:GetObject"), ["aws:SourceIp"]);
    // Version 2008-10-17 has no variables.
    let old = CompiledPolicy::compile(&parse(
        r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*"}}"#,
        PolicyKind::Identity,
    ).unwrap());
    assert!(old.context_keys("s3:GetObject").is_empty());
}

#[test]
fn keys_read_answer_prefix_questions_whatever_the_action() {
    let policy = CompiledPolicy::compile(&parse(
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
             "Condition":{"StringEquals":{"S3:EXISTINGOBJECTTAG/team":"blue"}}},
            {"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/${s3:RequestObjectTag/dir}/*"}]}"#,
        PolicyKind::Identity,
    ).unwrap());
    assert!(policy.reads_keys_starting_with("s3:ExistingObjectTag/"));
    assert!(policy.reads_keys_starting_with("s3:existingobjecttag/team"));
    assert!(policy.reads_keys_starting_with("s3:RequestObjectTag/"));
    assert!(!policy.reads_keys_starting_with("s3:ExistingObjectTag/other"));
    assert!(!policy.reads_keys_starting_with("aws:"));
    let plain = CompiledPolicy::compile(
        &parse(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*",
            "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}"#,
            PolicyKind::Identity,
        )
        .unwrap(),
    );
    assert!(!plain.reads_keys_starting_with("s3:ExistingObjectTag/"));
    assert!(!CompiledPolicy::deny_all().reads_keys_starting_with("s3:"));
}
