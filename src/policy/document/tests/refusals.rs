//! Refused documents: one table per level (document, statement, condition) and per kind,
//! each row with the exact message a client would see.

use super::*;

/// Statement-level mistakes, refused the same way for both kinds.
#[test]
fn refused_statements_both_kinds() {
    let syntax = "Syntax errors in policy.";
    let list_type = "must be a string or an array of strings.";
    let rows: &[(&str, &str, String)] = &[
        (
            "missing Effect",
            r#""Action": "s3:GetObject", "Resource": "*""#,
            "Missing required field Effect".into(),
        ),
        (
            "lower-case effect",
            r#""Effect": "allow", "Action": "s3:GetObject", "Resource": "*""#,
            "Invalid effect: allow".into(),
        ),
        (
            "numeric effect",
            r#""Effect": 1, "Action": "s3:GetObject", "Resource": "*""#,
            format!(r#"{syntax} Effect must be "Allow" or "Deny"."#),
        ),
        (
            "missing actions",
            r#""Effect": "Allow", "Resource": "*""#,
            "Policy statement must contain actions.".into(),
        ),
        (
            "empty action list",
            r#""Effect": "Allow", "Action": [], "Resource": "*""#,
            "Policy statement must contain actions.".into(),
        ),
        (
            "Action and NotAction",
            r#""Effect": "Allow", "Action": "s3:*", "NotAction": "iam:*", "Resource": "*""#,
            "Statement cannot contain both Action and NotAction.".into(),
        ),
        (
            "Action object",
            r#""Effect": "Allow", "Action": {}, "Resource": "*""#,
            format!("{syntax} Action {list_type}"),
        ),
        (
            "Action number in list",
            r#""Effect": "Allow", "Action": ["s3:GetObject", 1], "Resource": "*""#,
            format!("{syntax} Action {list_type}"),
        ),
        (
            "NotAction number",
            r#""Effect": "Allow", "NotAction": 5, "Resource": "*""#,
            format!("{syntax} NotAction {list_type}"),
        ),
        (
            "action without vendor",
            r#""Effect": "Allow", "Action": "GetObject", "Resource": "*""#,
            NO_VENDOR.into(),
        ),
        (
            "empty action",
            r#""Effect": "Allow", "Action": "", "Resource": "*""#,
            NO_VENDOR.into(),
        ),
        (
            "empty action name",
            r#""Effect": "Allow", "Action": "s3:", "Resource": "*""#,
            NO_VENDOR.into(),
        ),
        (
            "empty vendor",
            r#""Effect": "Allow", "Action": ":GetObject", "Resource": "*""#,
            NO_VENDOR.into(),
        ),
        (
            "space in vendor",
            r#""Effect": "Allow", "Action": "s 3:GetObject", "Resource": "*""#,
            NO_VENDOR.into(),
        ),
        (
            "wildcard vendor",
            r#""Effect": "Allow", "Action": "*:Untag*", "Resource": "*""#,
            "Action vendors (e.g., aws, ec2, etc.) must not contain wildcards".into(),
        ),
        (
            "two colons in action",
            r#""Effect": "Allow", "Action": "s3:Get:Object", "Resource": "*""#,
            "Actions/Condition can contain only one colon.".into(),
        ),
        (
            "missing resources",
            r#""Effect": "Allow", "Action": "s3:GetObject""#,
            "Policy statement must contain resources.".into(),
        ),
        (
            "empty resource list",
            r#""Effect": "Allow", "Action": "s3:GetObject", "Resource": []"#,
            "Policy statement must contain resources.".into(),
        ),
        (
            "Resource and NotResource",
            r#""Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "NotResource": "*""#,
            "Statement cannot contain both Resource and NotResource.".into(),
        ),
        (
            "Resource number",
            r#""Effect": "Allow", "Action": "s3:GetObject", "Resource": 7"#,
            format!("{syntax} Resource {list_type}"),
        ),
        (
            "bare bucket name",
            r#""Effect": "Allow", "Action": "s3:GetObject", "Resource": "bucket""#,
            r#"Resource bucket must be in ARN format or "*"."#.into(),
        ),
        (
            "empty resource",
            r#""Effect": "Allow", "Action": "s3:GetObject", "Resource": """#,
            r#"Resource  must be in ARN format or "*"."#.into(),
        ),
        (
            "short ARN",
            r#""Effect": "Allow", "Action": "s3:GetObject", "NotResource": ["*", "arn:aws:s3:b"]"#,
            r#"Resource arn:aws:s3:b must be in ARN format or "*"."#.into(),
        ),
        (
            "ARN one part short",
            r#""Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3::b""#,
            r#"Resource arn:aws:s3::b must be in ARN format or "*"."#.into(),
        ),
        (
            "upper-case arn prefix",
            r#""Effect": "Allow", "Action": "s3:GetObject", "Resource": "ARN:aws:s3:::b""#,
            r#"Resource ARN:aws:s3:::b must be in ARN format or "*"."#.into(),
        ),
        (
            "unknown statement key",
            r#""Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Effects": "Allow""#,
            format!("{syntax} Unknown field Effects."),
        ),
        (
            "lower-case statement key",
            r#""effect": "Allow", "Action": "s3:GetObject", "Resource": "*""#,
            format!("{syntax} Unknown field effect."),
        ),
        (
            "Sid number",
            r#""Sid": 5, "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*""#,
            format!("{syntax} Sid must be a string."),
        ),
    ];
    for (name, members, message) in rows {
        for kind in BOTH_KINDS {
            let json = doc_with(kind, members);
            assert_refused(name, kind, &json, message);
        }
    }
}

/// `Condition` mistakes, refused the same way for both kinds.
#[test]
fn refused_conditions_both_kinds() {
    let syntax = "Syntax errors in policy.";
    let values = "must be a string, number, boolean or a non-empty array of them.";
    let rows: &[(&str, &str, String)] = &[
        (
            "condition string",
            r#""x""#,
            format!("{syntax} Condition must be an object."),
        ),
        (
            "condition array",
            r"[]",
            format!("{syntax} Condition must be an object."),
        ),
        (
            "operator block string",
            r#"{"StringEquals": "x"}"#,
            format!("{syntax} Condition StringEquals must be an object."),
        ),
        (
            "unknown operator",
            r#"{"StringEqual": {"aws:username": "a"}}"#,
            "Invalid condition operator: StringEqual".into(),
        ),
        (
            "lower-case operator",
            r#"{"stringEquals": {"aws:username": "a"}}"#,
            "Invalid condition operator: stringEquals".into(),
        ),
        (
            "misspelled set qualifier",
            r#"{"ForAllValue:StringEquals": {"aws:TagKeys": "a"}}"#,
            "Invalid condition operator: ForAllValue:StringEquals".into(),
        ),
        (
            "lower-case IfExists",
            r#"{"StringEqualsifexists": {"aws:username": "a"}}"#,
            "Invalid condition operator: StringEqualsifexists".into(),
        ),
        (
            "IfExists twice",
            r#"{"StringEqualsIfExistsIfExists": {"aws:username": "a"}}"#,
            "Invalid condition operator: StringEqualsIfExistsIfExists".into(),
        ),
        (
            "IfExists alone",
            r#"{"IfExists": {"aws:username": "a"}}"#,
            "Invalid condition operator: IfExists".into(),
        ),
        (
            "NullIfExists",
            r#"{"NullIfExists": {"aws:TokenIssueTime": "true"}}"#,
            "Invalid condition operator: NullIfExists (Null cannot take IfExists)".into(),
        ),
        (
            "set NullIfExists",
            r#"{"ForAnyValue:NullIfExists": {"aws:TagKeys": "true"}}"#,
            "Invalid condition operator: ForAnyValue:NullIfExists (Null cannot take IfExists)"
                .into(),
        ),
        (
            "key without vendor",
            r#"{"StringEquals": {"username": "a"}}"#,
            NO_VENDOR.into(),
        ),
        (
            "empty key",
            r#"{"StringEquals": {"": "a"}}"#,
            NO_VENDOR.into(),
        ),
        (
            "key with empty name",
            r#"{"StringEquals": {"aws:": "a"}}"#,
            NO_VENDOR.into(),
        ),
        (
            "null value",
            r#"{"StringEquals": {"aws:username": null}}"#,
            format!("{syntax} Condition StringEquals aws:username {values}"),
        ),
        (
            "object value",
            r#"{"StringEquals": {"aws:username": {}}}"#,
            format!("{syntax} Condition StringEquals aws:username {values}"),
        ),
        (
            "nested array value",
            r#"{"StringEquals": {"aws:username": [["a"]]}}"#,
            format!("{syntax} Condition StringEquals aws:username {values}"),
        ),
        (
            "null in value list",
            r#"{"StringEquals": {"aws:username": ["a", null]}}"#,
            format!("{syntax} Condition StringEquals aws:username {values}"),
        ),
        (
            "empty value list",
            r#"{"StringEquals": {"aws:username": []}}"#,
            "Condition StringEquals aws:username must have at least one value.".into(),
        ),
    ];
    for (name, block, message) in rows {
        for kind in BOTH_KINDS {
            let json = valid_with(kind, &format!(r#", "Condition": {block}"#));
            assert_refused(name, kind, &json, message);
        }
    }
}

/// Document-level mistakes, refused the same way for both kinds.
#[test]
fn refused_documents_both_kinds() {
    let syntax = "Syntax errors in policy.";
    let ok_statement = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}"#;
    let with = |members: &str| format!("{{{members}}}");
    let rows: Vec<(&str, String, String)> = vec![
        ("not JSON", "Version: 2012-10-17".into(), syntax.into()),
        ("empty body", String::new(), syntax.into()),
        (
            "top-level array",
            format!("[{ok_statement}]"),
            syntax.into(),
        ),
        ("top-level string", r#""policy""#.into(), syntax.into()),
        (
            "trailing garbage",
            format!(r#"{{"Statement": {ok_statement}}} x"#),
            syntax.into(),
        ),
        (
            "unknown top-level key",
            with(&format!(
                r#""Statement": {ok_statement}, "Condition": {{}}"#
            )),
            format!("{syntax} Unknown field Condition."),
        ),
        (
            "lower-case Statement",
            with(&format!(r#""statement": {ok_statement}"#)),
            format!("{syntax} Unknown field statement."),
        ),
        (
            "unknown version",
            with(&format!(
                r#""Version": "2012-10-18", "Statement": {ok_statement}"#
            )),
            "The policy failed legacy parsing".into(),
        ),
        (
            "empty version",
            with(&format!(r#""Version": "", "Statement": {ok_statement}"#)),
            "The policy failed legacy parsing".into(),
        ),
        (
            "numeric version",
            with(&format!(r#""Version": 2012, "Statement": {ok_statement}"#)),
            "The policy failed legacy parsing".into(),
        ),
        (
            "missing Statement",
            with(r#""Version": "2012-10-17""#),
            "Missing required field Statement".into(),
        ),
        (
            "empty Statement",
            with(r#""Version": "2012-10-17", "Statement": []"#),
            "Could not parse the policy: Statement is empty!".into(),
        ),
        (
            "Statement string",
            with(r#""Statement": "Allow""#),
            format!("{syntax} Statement must be an object or an array of objects."),
        ),
        (
            "Statement null",
            with(r#""Statement": null"#),
            format!("{syntax} Statement must be an object or an array of objects."),
        ),
        (
            "number in Statement",
            with(&format!(r#""Statement": [{ok_statement}, 1]"#)),
            format!("{syntax} Statement must be an object or an array of objects."),
        ),
        (
            "Id number",
            with(&format!(r#""Id": 5, "Statement": {ok_statement}"#)),
            format!("{syntax} Id must be a string."),
        ),
    ];
    for (name, json, message) in &rows {
        for kind in BOTH_KINDS {
            assert_refused(name, kind, json, message);
        }
    }
    let duplicate_sids = r#"{"Statement": [
        {"Sid": "A1", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"},
        {"Sid": "A1", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "*"}]}"#;
    assert_refused(
        "duplicate Sid",
        Resource,
        duplicate_sids,
        "Statement IDs (SID) in a single policy must be unique.",
    );
    let identity_duplicates = duplicate_sids.replace(r#""Principal": "*", "#, "");
    assert_refused(
        "duplicate Sid",
        Identity,
        &identity_duplicates,
        "Statement IDs (SID) in a single policy must be unique.",
    );
}

#[test]
fn refused_identity_only() {
    let sid_message = "Statement IDs (SID) must be alpha-numeric. \
                       Check that your input satisfies the regular expression [0-9A-Za-z]*";
    let principal = "Policy document should not specify a principal.";
    let rows: &[(&str, &str, &str)] = &[
        ("Principal star", r#""Principal": "*""#, principal),
        (
            "typed Principal",
            r#""Principal": {"AWS": "arn:aws:iam::111122223333:root"}"#,
            principal,
        ),
        ("NotPrincipal", r#""NotPrincipal": {"AWS": "*"}"#, principal),
        (
            "malformed Principal still a principal",
            r#""Principal": 5"#,
            principal,
        ),
        ("Sid with space", r#""Sid": "My Sid""#, sid_message),
        ("Sid with dash", r#""Sid": "a-b""#, sid_message),
        (
            "Sid with non-ASCII letter",
            r#""Sid": "Statemént""#,
            sid_message,
        ),
    ];
    for (name, extra, message) in rows {
        let json = valid_with(Identity, &format!(", {extra}"));
        assert_refused(name, Identity, &json, message);
    }
}

#[test]
fn refused_bucket_policy_only() {
    let rows: &[(&str, &str, &str)] = &[
        ("missing Principal", "", "Missing required field Principal"),
        (
            "Principal and NotPrincipal",
            r#""Principal": "*", "NotPrincipal": "*","#,
            "Statement cannot contain both Principal and NotPrincipal.",
        ),
        (
            "Principal other string",
            r#""Principal": "everyone","#,
            INVALID_PRINCIPAL,
        ),
        (
            "Principal array",
            r#""Principal": ["*"],"#,
            INVALID_PRINCIPAL,
        ),
        ("Principal number", r#""Principal": 5,"#, INVALID_PRINCIPAL),
        (
            "Principal empty object",
            r#""Principal": {},"#,
            INVALID_PRINCIPAL,
        ),
        (
            "lower-case principal type",
            r#""Principal": {"aws": "*"},"#,
            INVALID_PRINCIPAL,
        ),
        (
            "unknown principal type",
            r#""Principal": {"User": "alice"},"#,
            INVALID_PRINCIPAL,
        ),
        (
            "empty principal list",
            r#""Principal": {"AWS": []},"#,
            INVALID_PRINCIPAL,
        ),
        (
            "number in principal list",
            r#""Principal": {"AWS": ["111122223333", 1]},"#,
            INVALID_PRINCIPAL,
        ),
        (
            "empty principal value",
            r#""Principal": {"Service": ""},"#,
            INVALID_PRINCIPAL,
        ),
        (
            "NotPrincipal star object",
            r#""NotPrincipal": {"AWS": {}},"#,
            INVALID_PRINCIPAL,
        ),
    ];
    for (name, principal, message) in rows {
        let members = format!(
            r#"{principal} "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*""#
        );
        // `doc_with(Identity, ..)`: the row decides the principal, not the helper.
        let json = doc_with(Identity, &members);
        assert_refused(name, Resource, &json, message);
    }
}

fn assert_refused(name: &str, kind: PolicyKind, json: &str, message: &str) {
    match parse(json, kind) {
        Ok(doc) => panic!("{name} ({kind:?}) accepted: {doc:?}\n{json}"),
        Err(MalformedPolicy(got)) => {
            assert_eq!(got, message, "{name} ({kind:?})\n{json}");
        }
    }
}
