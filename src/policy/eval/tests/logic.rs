//! Evaluation logic: action and resource matching, Principal/NotPrincipal, deny-wins across
//! identity and bucket policies, and which statements `matched` reports.

use super::*;
use Decision::{Allowed, ExplicitDeny, ImplicitDeny};

/// One request against identity policies and an optional bucket policy, with the decision
/// and the deciding statements as (policy index, statement index, Sid).
struct Row<'a> {
    name: &'a str,
    identity: &'a [&'a str],
    bucket: Option<&'a str>,
    action: &'a str,
    resource: &'a str,
    caller: Option<Caller<'a>>,
    context: Pairs<'a>,
    expected: Decision,
    matched: &'a [(usize, usize, &'a str)],
}

fn run(rows: &[Row<'_>]) {
    for row in rows {
        // Shown by the test harness only when a row fails.
        eprintln!("row: {}", row.name);
        let context = context(row.context);
        let request = Request {
            action: row.action,
            resource: row.resource,
            caller: row.caller,
            context: &context,
        };
        let evaluation = check(row.identity, row.bucket, &request, row.expected);
        let matched: Vec<(usize, usize, &str)> = evaluation
            .matched
            .iter()
            .map(|m| (m.policy, m.statement, m.sid.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            matched, row.matched,
            "matched statements of row {}",
            row.name
        );
        let effect = match row.expected {
            ExplicitDeny => Some(Effect::Deny),
            Allowed => Some(Effect::Allow),
            ImplicitDeny => None,
        };
        assert!(
            evaluation.matched.iter().all(|m| Some(m.effect) == effect),
            "{}",
            row.name
        );
    }
}

/// A default row: alice asks for `s3:GetObject` on `arn:aws:s3:::b/k`, no context.
const BASE: Row<'static> = Row {
    name: "",
    identity: &[],
    bucket: None,
    action: "s3:GetObject",
    resource: "arn:aws:s3:::b/k",
    caller: Some(ALICE),
    context: &[],
    expected: ImplicitDeny,
    matched: &[],
};

// Identity policies.
const READ: &str = r#"{"Version": "2012-10-17", "Statement": {"Sid": "Read",
    "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}"#;
const READ_LOWER: &str = r#"{"Version": "2012-10-17", "Statement": {"Sid": "Lower",
    "Effect": "Allow", "Action": "s3:getobject", "Resource": "arn:aws:s3:::b/*"}}"#;
const GET_UPPER: &str = r#"{"Version": "2012-10-17", "Statement": {"Sid": "Upper",
    "Effect": "Allow", "Action": "S3:GET*", "Resource": "arn:aws:s3:::b/*"}}"#;
const READ_CAPITAL_B: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
    "Action": "s3:GetObject", "Resource": "arn:aws:s3:::B/*"}}"#;
const LIST: &str = r#"{"Version": "2012-10-17", "Statement": {"Sid": "List",
    "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b"}}"#;
const LIST_ON_OBJECTS: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
    "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b/*"}}"#;
const READ_ON_BUCKET: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
    "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b"}}"#;
const LIST_B_STAR: &str = r#"{"Version": "2012-10-17", "Statement": {"Sid": "Trap",
    "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b*"}}"#;
const ALL_BUT_DELETE: &str = r#"{"Version": "2012-10-17", "Statement": {"Sid": "NoDeleteVerbs",
    "Effect": "Allow", "NotAction": "s3:Delete*", "Resource": "*"}}"#;
const ALL_BUT_SECRET: &str = r#"{"Version": "2012-10-17", "Statement": {"Sid": "NotSecret",
    "Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b/secret/*"}}"#;
const FULL_EXCEPT_DELETE: &str = r#"{"Version": "2012-10-17", "Statement": [
    {"Sid": "All", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
    {"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]}"#;
const FULL: &str = r#"{"Version": "2012-10-17", "Statement": {"Sid": "Everything",
    "Effect": "Allow", "Action": "*", "Resource": "*"}}"#;
const DENY_DELETE: &str = r#"{"Version": "2012-10-17", "Statement": {"Sid": "NoDelete",
    "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}}"#;
const DENY_INSECURE: &str = r#"{"Version": "2012-10-17", "Statement": {"Sid": "TlsOnly",
    "Effect": "Deny", "Action": "*", "Resource": "*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}}}}"#;

// Bucket policies.
const PUBLIC_READ: &str = r#"{"Version": "2012-10-17", "Statement": {"Sid": "PublicRead",
    "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::b/*"}}"#;
const PUBLIC_READ_AWS_STAR: &str = r#"{"Version": "2012-10-17", "Statement": {"Sid": "AwsStar",
    "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::b/*"}}"#;
const PUBLIC_ALL: &str = r#"{"Version": "2012-10-17", "Statement": {"Sid": "PublicAll",
    "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}}"#;
const ACCOUNT_READ: &str = r#"{"Version": "2012-10-17", "Statement": {"Sid": "Account",
    "Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::b/*"}}"#;
const ACCOUNT_DENY: &str = r#"{"Version": "2012-10-17", "Statement": {"Sid": "NoAccount",
    "Effect": "Deny", "Principal": {"AWS": "111122223333"}, "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::b/*"}}"#;
const ACCOUNT_ROOT_READ: &str = r#"{"Version": "2012-10-17", "Statement": {"Sid": "Root",
    "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root"]},
    "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}"#;
const ALICE_READ: &str = r#"{"Version": "2012-10-17", "Statement": {"Sid": "Alice",
    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"},
    "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}"#;
const USER_STAR_READ: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:user/*"}, "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::b/*"}}"#;
const SERVICE_READ: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
    "Principal": {"Service": "cloudtrail.amazonaws.com", "CanonicalUser": "79a59df900b949e5"},
    "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}"#;
const BUCKET_DENY_DELETE: &str = r#"{"Version": "2012-10-17", "Statement": {
    "Sid": "BucketNoDelete", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject",
    "Resource": "arn:aws:s3:::b/*"}}"#;
const ONLY_ALICE: &str = r#"{"Version": "2012-10-17", "Statement": [
    {"Sid": "OnlyAlice", "Effect": "Deny",
     "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:user/alice"},
     "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
    {"Sid": "AllowAll", "Effect": "Allow", "Principal": "*", "Action": "s3:*",
     "Resource": "arn:aws:s3:::b/*"}]}"#;
const ONLY_OUR_ACCOUNT: &str = r#"{"Version": "2012-10-17", "Statement": [
    {"Sid": "Outsiders", "Effect": "Deny", "NotPrincipal": {"AWS": "111122223333"},
     "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
    {"Sid": "AllowAll", "Effect": "Allow", "Principal": "*", "Action": "s3:*",
     "Resource": "arn:aws:s3:::b/*"}]}"#;

#[test]
fn actions_and_resources() {
    run(&[
        Row {
            name: "no policy at all",
            ..BASE
        },
        Row {
            name: "identity allow",
            identity: &[READ],
            expected: Allowed,
            matched: &[(0, 0, "Read")],
            ..BASE
        },
        Row {
            name: "other action",
            identity: &[READ],
            action: "s3:PutObject",
            ..BASE
        },
        Row {
            name: "action folds case (policy lower)",
            identity: &[READ_LOWER],
            action: "S3:GETOBJECT",
            expected: Allowed,
            matched: &[(0, 0, "Lower")],
            ..BASE
        },
        Row {
            name: "action folds case (wildcard)",
            identity: &[GET_UPPER],
            action: "s3:getObjectAcl",
            expected: Allowed,
            matched: &[(0, 0, "Upper")],
            ..BASE
        },
        Row {
            name: "resource is case-sensitive",
            identity: &[READ_CAPITAL_B],
            ..BASE
        },
        Row {
            name: "bucket ARN for a bucket operation",
            identity: &[LIST],
            action: "s3:ListBucket",
            resource: "arn:aws:s3:::b",
            expected: Allowed,
            matched: &[(0, 0, "List")],
            ..BASE
        },
        Row {
            name: "b/* does not cover the bucket",
            identity: &[LIST_ON_OBJECTS],
            action: "s3:ListBucket",
            resource: "arn:aws:s3:::b",
            ..BASE
        },
        Row {
            name: "the bucket ARN does not cover objects",
            identity: &[READ_ON_BUCKET],
            ..BASE
        },
        Row {
            name: "b* also covers other buckets",
            identity: &[LIST_B_STAR],
            action: "s3:ListBucket",
            resource: "arn:aws:s3:::bother",
            expected: Allowed,
            matched: &[(0, 0, "Trap")],
            ..BASE
        },
        Row {
            name: "NotAction: other action",
            identity: &[ALL_BUT_DELETE],
            expected: Allowed,
            matched: &[(0, 0, "NoDeleteVerbs")],
            ..BASE
        },
        Row {
            name: "NotAction: listed action",
            identity: &[ALL_BUT_DELETE],
            action: "s3:DeleteObject",
            ..BASE
        },
        Row {
            name: "NotResource: other resource",
            identity: &[ALL_BUT_SECRET],
            resource: "arn:aws:s3:::b/public/x",
            expected: Allowed,
            matched: &[(0, 0, "NotSecret")],
            ..BASE
        },
        Row {
            name: "NotResource: listed resource",
            identity: &[ALL_BUT_SECRET],
            resource: "arn:aws:s3:::b/secret/x",
            ..BASE
        },
    ]);
}

#[test]
fn deny_wins_and_matched_lists_the_deciding_statements() {
    run(&[
        Row {
            name: "deny in the same policy",
            identity: &[FULL_EXCEPT_DELETE],
            action: "s3:DeleteObject",
            expected: ExplicitDeny,
            matched: &[(0, 1, "NoDelete")],
            ..BASE
        },
        Row {
            name: "same policy, not denied",
            identity: &[FULL_EXCEPT_DELETE],
            expected: Allowed,
            matched: &[(0, 0, "All")],
            ..BASE
        },
        Row {
            name: "deny in another identity policy",
            identity: &[FULL, DENY_DELETE],
            action: "s3:DeleteObject",
            expected: ExplicitDeny,
            matched: &[(1, 0, "NoDelete")],
            ..BASE
        },
        Row {
            name: "every allow is listed",
            identity: &[READ, FULL, DENY_DELETE],
            expected: Allowed,
            matched: &[(0, 0, "Read"), (1, 0, "Everything")],
            ..BASE
        },
        Row {
            name: "every deny is listed",
            identity: &[FULL_EXCEPT_DELETE, DENY_DELETE],
            action: "s3:DeleteObject",
            expected: ExplicitDeny,
            matched: &[(0, 1, "NoDelete"), (1, 0, "NoDelete")],
            ..BASE
        },
        Row {
            name: "bucket deny beats identity allow",
            identity: &[FULL],
            bucket: Some(BUCKET_DENY_DELETE),
            action: "s3:DeleteObject",
            expected: ExplicitDeny,
            matched: &[(1, 0, "BucketNoDelete")],
            ..BASE
        },
        Row {
            name: "identity deny beats bucket allow",
            identity: &[DENY_DELETE],
            bucket: Some(PUBLIC_ALL),
            action: "s3:DeleteObject",
            expected: ExplicitDeny,
            matched: &[(0, 0, "NoDelete")],
            ..BASE
        },
        Row {
            name: "allowed by identity and bucket",
            identity: &[READ],
            bucket: Some(PUBLIC_READ),
            expected: Allowed,
            matched: &[(0, 0, "Read"), (1, 0, "PublicRead")],
            ..BASE
        },
        Row {
            name: "conditional deny applies",
            identity: &[FULL, DENY_INSECURE],
            context: &[("aws:SecureTransport", &["false"])],
            expected: ExplicitDeny,
            matched: &[(1, 0, "TlsOnly")],
            ..BASE
        },
        Row {
            name: "conditional deny does not apply",
            identity: &[FULL, DENY_INSECURE],
            context: &[("aws:SecureTransport", &["true"])],
            expected: Allowed,
            matched: &[(0, 0, "Everything")],
            ..BASE
        },
    ]);
}

#[test]
fn principals_in_bucket_policies() {
    run(&[
        Row {
            name: "bucket policy alone allows alice",
            bucket: Some(ALICE_READ),
            expected: Allowed,
            matched: &[(0, 0, "Alice")],
            ..BASE
        },
        Row {
            name: "bucket policy names someone else",
            bucket: Some(ALICE_READ),
            caller: Some(BOB),
            ..BASE
        },
        Row {
            name: "anonymous, Principal *",
            bucket: Some(PUBLIC_READ),
            caller: None,
            expected: Allowed,
            matched: &[(0, 0, "PublicRead")],
            ..BASE
        },
        Row {
            name: "anonymous, AWS *",
            bucket: Some(PUBLIC_READ_AWS_STAR),
            caller: None,
            expected: Allowed,
            matched: &[(0, 0, "AwsStar")],
            ..BASE
        },
        Row {
            name: "anonymous, no bucket policy",
            caller: None,
            ..BASE
        },
        Row {
            name: "anonymous is in no account",
            bucket: Some(ACCOUNT_READ),
            caller: None,
            ..BASE
        },
        Row {
            name: "an account's Allow grants its users nothing by itself",
            bucket: Some(ACCOUNT_READ),
            ..BASE
        },
        Row {
            name: "an account's Allow and the user's own Allow",
            identity: &[READ],
            bucket: Some(ACCOUNT_READ),
            expected: Allowed,
            matched: &[(0, 0, "Read")],
            ..BASE
        },
        Row {
            name: "an account's Deny binds its users",
            identity: &[READ],
            bucket: Some(ACCOUNT_DENY),
            expected: ExplicitDeny,
            matched: &[(1, 0, "NoAccount")],
            ..BASE
        },
        Row {
            name: "account id covers its root",
            bucket: Some(ACCOUNT_READ),
            caller: Some(ROOT),
            expected: Allowed,
            matched: &[(0, 0, "Account")],
            ..BASE
        },
        Row {
            name: "account id, other account",
            bucket: Some(ACCOUNT_READ),
            caller: Some(CAROL),
            ..BASE
        },
        Row {
            name: "account root ARN grants its users nothing by itself",
            bucket: Some(ACCOUNT_ROOT_READ),
            ..BASE
        },
        Row {
            name: "account root ARN covers its root",
            bucket: Some(ACCOUNT_ROOT_READ),
            caller: Some(ROOT),
            expected: Allowed,
            matched: &[(0, 0, "Root")],
            ..BASE
        },
        Row {
            name: "account root ARN, other account",
            bucket: Some(ACCOUNT_ROOT_READ),
            caller: Some(CAROL),
            ..BASE
        },
        Row {
            name: "no wildcards in principal ARNs",
            bucket: Some(USER_STAR_READ),
            ..BASE
        },
        Row {
            name: "service and canonical principals never match",
            bucket: Some(SERVICE_READ),
            ..BASE
        },
        Row {
            name: "service principal, anonymous",
            bucket: Some(SERVICE_READ),
            caller: None,
            ..BASE
        },
        Row {
            name: "NotPrincipal spares alice",
            bucket: Some(ONLY_ALICE),
            action: "s3:DeleteObject",
            expected: Allowed,
            matched: &[(0, 1, "AllowAll")],
            ..BASE
        },
        Row {
            name: "NotPrincipal denies bob",
            bucket: Some(ONLY_ALICE),
            caller: Some(BOB),
            action: "s3:DeleteObject",
            expected: ExplicitDeny,
            matched: &[(0, 0, "OnlyAlice")],
            ..BASE
        },
        Row {
            name: "NotPrincipal denies anonymous",
            bucket: Some(ONLY_ALICE),
            caller: None,
            expected: ExplicitDeny,
            matched: &[(0, 0, "OnlyAlice")],
            ..BASE
        },
        Row {
            name: "NotPrincipal account spares its root",
            bucket: Some(ONLY_OUR_ACCOUNT),
            caller: Some(ROOT),
            expected: Allowed,
            matched: &[(0, 1, "AllowAll")],
            ..BASE
        },
        Row {
            name: "NotPrincipal account does not spare its users",
            bucket: Some(ONLY_OUR_ACCOUNT),
            caller: Some(BOB),
            expected: ExplicitDeny,
            matched: &[(0, 0, "Outsiders")],
            ..BASE
        },
        Row {
            name: "NotPrincipal account denies outsiders",
            bucket: Some(ONLY_OUR_ACCOUNT),
            caller: Some(CAROL),
            expected: ExplicitDeny,
            matched: &[(0, 0, "Outsiders")],
            ..BASE
        },
    ]);
}

/// `a*a*…b` against a 10,000-character key: answered without exponential backtracking.
#[test]
fn pathological_resource_pattern() {
    let policy = |pattern: &str| {
        format!(
            r#"{{"Version": "2012-10-17", "Statement": {{"Effect": "Allow",
                "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/{pattern}"}}}}"#
        )
    };
    let key = format!("arn:aws:s3:::b/{}", "a".repeat(10_000));
    let context = Context::new();
    let request = Request {
        resource: &key,
        context: &context,
        ..request_base(&context)
    };
    check(
        &[&policy("a*a*a*a*a*a*a*a*b")],
        None,
        &request,
        ImplicitDeny,
    );
    check(
        &[&policy("*a*a*a*a*a*a*a*a*b*a")],
        None,
        &request,
        ImplicitDeny,
    );
    check(&[&policy("a*a*a*a*a*a*a*a*a")], None, &request, Allowed);
}

fn request_base(context: &Context) -> Request<'_> {
    Request {
        action: "s3:GetObject",
        resource: "arn:aws:s3:::b/k",
        caller: Some(ALICE),
        context,
    }
}

#[test]
fn deny_all_denies_everyone_everything() {
    let context = Context::new();
    let deny = CompiledPolicy::deny_all();
    let allow = match parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        PolicyKind::Identity,
    ) {
        Ok(doc) => CompiledPolicy::compile(&doc),
        Err(e) => panic!("{e}"),
    };
    for caller in [Some(ALICE), Some(ROOT), None] {
        let request = Request {
            action: "s3:GetObject",
            resource: "arn:aws:s3:::b/k",
            caller,
            context: &context,
        };
        let evaluation = evaluate(&[&allow, &deny], None, &request);
        assert_eq!(evaluation.decision, ExplicitDeny, "{caller:?}");
        assert_eq!(evaluate(&[], Some(&deny), &request).decision, ExplicitDeny);
    }
}
