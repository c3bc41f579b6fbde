//! Tests for the policy grammar: AWS documentation examples parsed field by field, then
//! tables of accepted documents; `refusals` holds the refused ones.

mod refusals;
mod trust;

use super::*;
use PolicyKind::{Identity, Resource};

const NO_VENDOR: &str =
    "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
const INVALID_PRINCIPAL: &str = "Invalid principal in policy";
const BOTH_KINDS: [PolicyKind; 2] = [Identity, Resource];

/// A 2012-10-17 document whose one statement has `members`; bucket policies get
/// `"Principal": "*"` added so the statement fails (or passes) on `members` alone.
fn doc_with(kind: PolicyKind, members: &str) -> String {
    let principal = match kind {
        Identity => "",
        Resource | PolicyKind::Trust => r#""Principal": "*", "#,
    };
    format!(r#"{{"Version": "2012-10-17", "Statement": [{{{principal}{members}}}]}}"#)
}

/// A statement that passes, with `extra` members added.
fn valid_with(kind: PolicyKind, extra: &str) -> String {
    doc_with(
        kind,
        &format!(r#""Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"{extra}"#),
    )
}

fn parse_ok(json: &str, kind: PolicyKind) -> PolicyDocument {
    match parse(json, kind) {
        Ok(doc) => doc,
        Err(e) => panic!("{kind:?} refused {json}: {e}"),
    }
}

fn only_statement(json: &str, kind: PolicyKind) -> Statement {
    let mut doc = parse_ok(json, kind);
    assert_eq!(doc.statements.len(), 1, "{json}");
    doc.statements.remove(0)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn op(base: BaseOp, if_exists: bool, set: Option<SetQualifier>) -> Operator {
    Operator {
        base,
        if_exists,
        set,
    }
}

fn cond(op: Operator, key: &str, values: &[&str]) -> Condition {
    Condition {
        op,
        key: key.to_string(),
        values: strings(values),
    }
}

/// The home-folder policy from "Amazon S3: Allows IAM users access to their S3 home directory"
/// (reference_policies_examples_s3_home-directory-console.html), trimmed to two statements.
#[test]
fn aws_example_s3_home_folder() {
    let json = r#"{
      "Version": "2012-10-17",
      "Statement": [
        {
          "Sid": "AllowListingOfUserFolder",
          "Effect": "Allow",
          "Action": "s3:ListBucket",
          "Resource": "arn:aws:s3:::amzn-s3-demo-bucket",
          "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*", "home/${aws:username}"]}}
        },
        {
          "Sid": "AllowAllS3ActionsInUserFolder",
          "Effect": "Allow",
          "Action": ["s3:*"],
          "Resource": ["arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"]
        }
      ]
    }"#;
    let doc = parse_ok(json, Identity);
    assert_eq!(doc.version, Version::V2012_10_17);
    assert_eq!(doc.id, None);
    let [list, all] = &doc.statements[..] else {
        panic!("two statements expected: {doc:?}");
    };
    assert_eq!(list.sid.as_deref(), Some("AllowListingOfUserFolder"));
    assert_eq!(list.effect, Effect::Allow);
    assert_eq!(
        list.actions,
        ActionSpec::Action(strings(&["s3:ListBucket"]))
    );
    let bucket = ResourceSpec::Resource(strings(&["arn:aws:s3:::amzn-s3-demo-bucket"]));
    assert_eq!(list.resources, Some(bucket));
    assert_eq!(list.principals, None);
    let like = op(BaseOp::StringLike, false, None);
    let prefixes = ["home/${aws:username}/*", "home/${aws:username}"];
    assert_eq!(list.conditions, vec![cond(like, "s3:prefix", &prefixes)]);
    assert_eq!(all.actions, ActionSpec::Action(strings(&["s3:*"])));
    let folder = "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*";
    assert_eq!(
        all.resources,
        Some(ResourceSpec::Resource(strings(&[folder])))
    );
    assert!(all.conditions.is_empty());
}

/// "Granting read-only permission to a public anonymous user" from the S3 bucket policy
/// examples (example-bucket-policies.html).
#[test]
fn aws_example_public_read_bucket_policy() {
    let json = r#"{
      "Version": "2012-10-17",
      "Statement": [{
        "Sid": "PublicRead",
        "Effect": "Allow",
        "Principal": "*",
        "Action": ["s3:GetObject", "s3:GetObjectVersion"],
        "Resource": ["arn:aws:s3:::amzn-s3-demo-bucket/*"]
      }]
    }"#;
    let statement = only_statement(json, Resource);
    assert_eq!(
        statement.principals,
        Some(PrincipalSpec::Principal(Principals::Any))
    );
    let actions = strings(&["s3:GetObject", "s3:GetObjectVersion"]);
    assert_eq!(statement.actions, ActionSpec::Action(actions));
    // The same document is not an identity policy.
    assert_eq!(
        parse(json, Identity).unwrap_err().0,
        "Policy document should not specify a principal."
    );
}

/// After "AWS: Denies access to AWS based on the requested Region"
/// (reference_policies_examples_aws_deny-requested-region.html): a Deny with NotAction, here
/// with `IfExists` added to its `StringNotEquals`.
#[test]
fn aws_example_deny_with_not_action() {
    let json = r#"{
      "Version": "2012-10-17",
      "Statement": [{
        "Sid": "DenyAllOutsideRequestedRegions",
        "Effect": "Deny",
        "NotAction": ["cloudfront:*", "iam:*", "route53:*", "support:*"],
        "Resource": "*",
        "Condition": {"StringNotEqualsIfExists": {"aws:RequestedRegion": ["eu-central-1", "eu-west-1"]}}
      }]
    }"#;
    let statement = only_statement(json, Identity);
    assert_eq!(statement.effect, Effect::Deny);
    let not = strings(&["cloudfront:*", "iam:*", "route53:*", "support:*"]);
    assert_eq!(statement.actions, ActionSpec::NotAction(not));
    assert_eq!(
        statement.resources,
        Some(ResourceSpec::Resource(strings(&["*"])))
    );
    let [c] = &statement.conditions[..] else {
        panic!("one condition expected: {statement:?}");
    };
    assert_eq!(c.op, op(BaseOp::StringNotEquals, true, None));
    assert!(c.op.base.is_negated());
    assert_eq!(c.values, strings(&["eu-central-1", "eu-west-1"]));
}

/// Several operator blocks in one statement, keys already in sorted order so the expected
/// list does not depend on whether serde_json keeps document order.
#[test]
fn aws_example_condition_block() {
    let conditions = r#", "Condition": {
        "Bool": {"aws:SecureTransport": false},
        "ForAnyValue:StringLike": {"aws:TagKeys": ["team*", "cost?"]},
        "IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]},
        "Null": {"aws:TokenIssueTime": "true"},
        "NumericLessThanEquals": {"s3:max-keys": 10}
    }"#;
    let statement = only_statement(&valid_with(Identity, conditions), Identity);
    let any_like = op(BaseOp::StringLike, false, Some(SetQualifier::ForAnyValue));
    let expected = vec![
        cond(
            op(BaseOp::Bool, false, None),
            "aws:SecureTransport",
            &["false"],
        ),
        cond(any_like, "aws:TagKeys", &["team*", "cost?"]),
        cond(
            op(BaseOp::IpAddress, false, None),
            "aws:SourceIp",
            &["192.0.2.0/24", "203.0.113.0/24"],
        ),
        cond(
            op(BaseOp::Null, false, None),
            "aws:TokenIssueTime",
            &["true"],
        ),
        cond(
            op(BaseOp::NumericLessThanEquals, false, None),
            "s3:max-keys",
            &["10"],
        ),
    ];
    assert_eq!(statement.conditions, expected);
}

#[test]
fn bucket_policy_principal_forms() {
    let json = r#"{"Statement": [{
        "Sid": "Cross account read, then some",
        "Effect": "Allow",
        "Principal": {
            "AWS": ["arn:aws:iam::111122223333:root", "444455556666", "*"],
            "CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
            "Service": "logging.s3.amazonaws.com"
        },
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*"
    }]}"#;
    let statement = only_statement(json, Resource);
    assert_eq!(
        statement.sid.as_deref(),
        Some("Cross account read, then some")
    );
    let Some(PrincipalSpec::Principal(Principals::Typed(mut typed))) = statement.principals else {
        panic!("typed principal expected: {statement:?}");
    };
    // Compare as a set of types: the order follows serde_json's map.
    typed.sort_by_key(|(t, _)| *t as u8);
    let aws = ["arn:aws:iam::111122223333:root", "444455556666", "*"];
    let canonical = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";
    let expected = vec![
        (PrincipalType::Aws, strings(&aws)),
        (
            PrincipalType::Service,
            strings(&["logging.s3.amazonaws.com"]),
        ),
        (PrincipalType::CanonicalUser, strings(&[canonical])),
    ];
    assert_eq!(typed, expected);

    let not = doc_with(
        Identity, // no automatic Principal: this statement brings NotPrincipal itself
        r#""Effect": "Deny", "NotPrincipal": {"Federated": "cognito-identity.amazonaws.com"},
           "Action": "s3:*", "Resource": "arn:aws:s3:::b/*""#,
    );
    let statement = only_statement(&not, Resource);
    let federated = vec![(
        PrincipalType::Federated,
        strings(&["cognito-identity.amazonaws.com"]),
    )];
    let expected = PrincipalSpec::NotPrincipal(Principals::Typed(federated));
    assert_eq!(statement.principals, Some(expected));
}

#[test]
fn version_id_and_single_statement_object() {
    let cases = [
        (
            r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#,
            Version::V2008_10_17,
        ),
        (
            r#"{"Version": "2008-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#,
            Version::V2008_10_17,
        ),
        (
            r#"{"Id": "p1", "Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#,
            Version::V2012_10_17,
        ),
    ];
    for (json, version) in cases {
        let doc = parse_ok(json, Identity);
        assert_eq!(doc.version, version, "{json}");
        assert_eq!(doc.statements.len(), 1, "{json}");
        assert_eq!(
            doc.statements[0].actions,
            ActionSpec::Action(strings(&["*"]))
        );
    }
    let with_id = parse_ok(cases[2].0, Identity);
    assert_eq!(with_id.id.as_deref(), Some("p1"));
}

/// Statements that must be accepted, for the kinds listed; `doc_with` supplies the
/// principal a bucket policy needs.
#[test]
fn accepted_statements() {
    let ok = r#""Effect": "Allow", "Action": "s3:GetObject", "Resource": "*""#;
    let rows: &[(&str, &[PolicyKind], String)] = &[
        ("action star", &BOTH_KINDS, r#""Effect": "Allow", "Action": "*", "Resource": "*""#.into()),
        ("wildcards in action pattern", &BOTH_KINDS, r#""Effect": "Allow", "Action": ["s3:Get*", "s3:Get?bject"], "Resource": "*""#.into()),
        ("dash in vendor", &BOTH_KINDS, r#""Effect": "Allow", "Action": "aws-marketplace:ViewSubscriptions", "Resource": "*""#.into()),
        ("NotResource", &BOTH_KINDS, r#""Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]"#.into()),
        ("resource with colons in its last part", &BOTH_KINDS, r#""Effect": "Allow", "Action": "logs:*", "Resource": "arn:aws:logs:eu-west-1:111122223333:log-group:g:*""#.into()),
        ("policy variable in account field", &BOTH_KINDS, r#""Effect": "Allow", "Action": "iam:GetUser", "Resource": "arn:aws:iam::${aws:PrincipalAccount}:user/${aws:username}""#.into()),
        ("empty condition block", &BOTH_KINDS, format!(r#"{ok}, "Condition": {{}}"#)),
        ("operator with no keys", &BOTH_KINDS, format!(r#"{ok}, "Condition": {{"StringEquals": {{}}}}"#)),
        ("tag key with colons", &BOTH_KINDS, format!(r#"{ok}, "Condition": {{"StringEquals": {{"aws:ResourceTag/aws:cloudformation:stack-name": "prod"}}}}"#)),
        ("set and IfExists forms", &BOTH_KINDS, format!(r#"{ok}, "Condition": {{"ForAllValues:StringEqualsIgnoreCaseIfExists": {{"aws:TagKeys": "a"}}, "ForAnyValue:ArnNotLike": {{"aws:PrincipalArn": "arn:aws:iam::*:role/x"}}, "DateGreaterThanIfExists": {{"aws:CurrentTime": "2024-01-01T00:00:00Z"}}, "BinaryEquals": {{"s3:x-amz-content-sha256": "QmFzZTY0"}}}}"#)),
        ("alphanumeric Sid", &BOTH_KINDS, format!(r#""Sid": "Stmt1700000000000", {ok}"#)),
        ("empty Sid", &BOTH_KINDS, format!(r#""Sid": "", {ok}"#)),
        ("bucket Sid with spaces and dashes", &[Resource], format!(r#""Sid": "Allow read - public", {ok}"#)),
    ];
    for (name, kinds, members) in rows {
        for &kind in *kinds {
            let json = doc_with(kind, members);
            if let Err(e) = parse(&json, kind) {
                panic!("{name} ({kind:?}) refused: {e}\n{json}");
            }
        }
    }
}

/// Whole documents that must be accepted.
#[test]
fn accepted_documents() {
    let rows: &[(&str, PolicyKind, &str)] = &[
        (
            "empty Sids repeat (Terraform writes them)",
            Identity,
            r#"{"Version": "2012-10-17", "Statement": [
                {"Sid": "", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
                {"Sid": "", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"}]}"#,
        ),
        (
            "AWS star principal",
            Resource,
            r#"{"Statement": {"Effect": "Allow", "Principal": {"AWS": "*"},
                "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}"#,
        ),
        (
            "different Sids",
            Resource,
            r#"{"Statement": [
                {"Sid": "a", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"},
                {"Sid": "A", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]}"#,
        ),
    ];
    for (name, kind, json) in rows {
        if let Err(e) = parse(json, *kind) {
            panic!("{name} ({kind:?}) refused: {e}\n{json}");
        }
    }
}

#[test]
fn condition_values_become_text() {
    let block = r#", "Condition": {"StringEquals": {"aws:a": ["x", 1, 2.5, true, -3]}, "NumericEquals": {"s3:max-keys": 0}}"#;
    let statement = only_statement(&valid_with(Identity, block), Identity);
    let mut got: Vec<(&str, Vec<String>)> = statement
        .conditions
        .iter()
        .map(|c| (c.key.as_str(), c.values.clone()))
        .collect();
    got.sort();
    let expected = vec![
        ("aws:a", strings(&["x", "1", "2.5", "true", "-3"])),
        ("s3:max-keys", strings(&["0"])),
    ];
    assert_eq!(got, expected);
}

/// serde_json keeps the last of duplicate keys; pinned so a change is noticed.
#[test]
fn duplicate_json_keys_keep_the_last() {
    let json = doc_with(
        Identity,
        r#""Effect": "Deny", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*""#,
    );
    assert_eq!(only_statement(&json, Identity).effect, Effect::Allow);
}

#[test]
fn operator_names() {
    use SetQualifier::{ForAllValues, ForAnyValue};
    let rows = [
        ("StringEquals", op(BaseOp::StringEquals, false, None)),
        ("StringLikeIfExists", op(BaseOp::StringLike, true, None)),
        (
            "ForAllValues:StringEquals",
            op(BaseOp::StringEquals, false, Some(ForAllValues)),
        ),
        (
            "ForAnyValue:ArnLikeIfExists",
            op(BaseOp::ArnLike, true, Some(ForAnyValue)),
        ),
        ("NotIpAddressIfExists", op(BaseOp::NotIpAddress, true, None)),
        ("Null", op(BaseOp::Null, false, None)),
        (
            "ForAllValues:Null",
            op(BaseOp::Null, false, Some(ForAllValues)),
        ),
        ("BoolIfExists", op(BaseOp::Bool, true, None)),
    ];
    for (name, expected) in rows {
        assert_eq!(Operator::from_name(name), Ok(expected), "{name}");
    }
    // Every base name round-trips, alone and with both decorations.
    for base in BaseOp::ALL {
        let plain = Operator::from_name(base.as_str());
        assert_eq!(plain, Ok(op(base, false, None)), "{base:?}");
        let decorated = format!("ForAnyValue:{}IfExists", base.as_str());
        let expected = match base {
            BaseOp::Null => Err(()),
            _ => Ok(op(base, true, Some(ForAnyValue))),
        };
        assert_eq!(
            Operator::from_name(&decorated).map_err(|_| ()),
            expected,
            "{decorated}"
        );
    }
}

#[test]
fn negated_operators() {
    use BaseOp::*;
    let negated = [
        StringNotEquals,
        StringNotEqualsIgnoreCase,
        StringNotLike,
        NumericNotEquals,
        DateNotEquals,
        NotIpAddress,
        ArnNotEquals,
        ArnNotLike,
    ];
    for base in BaseOp::ALL {
        assert_eq!(base.is_negated(), negated.contains(&base), "{base:?}");
    }
}

#[test]
fn non_whitespace_length() {
    let rows: &[(&str, usize)] = &[
        ("", 0),
        (" \t\r\n", 0),
        ("{}", 2),
        ("{ }", 2),
        ("{\n\t\"a\" : \"b c\"\r\n}", 10),
        // Multi-byte characters count once each: 10 chars, 15 bytes.
        ("{\"é\":\"日本\"}", 10),
        ("{ \"é\" :\n  \"日本\" }", 10),
        // Only JSON's four whitespace characters are free; NBSP and U+3000 are not.
        ("\u{a0}\u{3000}", 2),
    ];
    for (json, expected) in rows {
        assert_eq!(non_whitespace_len(json), *expected, "{json:?}");
    }
    assert_eq!("{\"é\":\"日本\"}".len(), 15);
}
