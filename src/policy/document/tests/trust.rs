//! Role trust policies (`PolicyKind::Trust`): what AWS accepts in an
//! `AssumeRolePolicyDocument`, and its messages for what it refuses.

use super::super::*;

fn trust(statement: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{{{statement}}}]}}"#)
}

fn refused(statement: &str) -> String {
    match parse(&trust(statement), PolicyKind::Trust) {
        Ok(doc) => panic!("accepted {statement}: {doc:?}"),
        Err(e) => e.0,
    }
}

#[test]
fn a_trust_statement_has_a_principal_and_no_resource() {
    let doc = parse(
        &trust(r#""Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole""#),
        PolicyKind::Trust,
    )
    .unwrap();
    let statement = &doc.statements[0];
    assert_eq!(statement.resources, None);
    assert_eq!(
        statement.principals,
        Some(PrincipalSpec::Principal(Principals::Typed(vec![(
            PrincipalType::Service,
            vec!["ec2.amazonaws.com".to_owned()]
        )])))
    );
    let p = r#""Principal":{"AWS":"*"}"#;
    for (statement, message) in [
        (
            format!(r#""Effect":"Allow",{p},"Action":"sts:AssumeRole","Resource":"*""#),
            "Has prohibited field Resource",
        ),
        (
            format!(r#""Effect":"Allow",{p},"Action":"sts:AssumeRole","NotResource":"*""#),
            "Has prohibited field NotResource",
        ),
        (
            r#""Effect":"Allow","Action":"sts:AssumeRole""#.to_owned(),
            "Missing required field Principal",
        ),
        (
            r#""Effect":"Deny","NotPrincipal":{"AWS":"*"},"Action":"sts:AssumeRole""#.to_owned(),
            "Has prohibited field NotPrincipal",
        ),
    ] {
        assert_eq!(refused(&statement), message, "{statement}");
    }
}

#[test]
fn only_sts_actions_that_take_on_a_role() {
    let p = r#""Effect":"Allow","Principal":"*""#;
    for ok in [
        r#""sts:AssumeRole""#,
        r#""sts:assumerolewithwebidentity""#,
        r#"["sts:TagSession","sts:SetSourceIdentity"]"#,
        r#""sts:*""#,
        r#""sts:Assume?ole""#,
        r#""*""#,
    ] {
        parse(&trust(&format!(r#"{p},"Action":{ok}"#)), PolicyKind::Trust)
            .unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for bad in [
        r#""Action":"s3:GetObject""#,
        r#""Action":"iam:*""#,
        r#""Action":["sts:AssumeRole","s3:*"]"#,
        r#""Action":"sts:GetCallerIdentity""#,
        r#""NotAction":"s3:*""#,
    ] {
        assert_eq!(
            refused(&format!("{p},{bad}")),
            "AssumeRole policy may only specify STS AssumeRole actions.",
            "{bad}"
        );
    }
}

#[test]
fn aws_principals_are_accounts_roots_users_roles_or_sessions() {
    let with = |id: &str| {
        format!(r#""Effect":"Allow","Principal":{{"AWS":"{id}"}},"Action":"sts:AssumeRole""#)
    };
    for ok in [
        "*",
        "123456789012",
        "arn:aws:iam::123456789012:root",
        "arn:aws:iam::123456789012:user/alice",
        "arn:aws:iam::123456789012:user/team/alice",
        "arn:aws:iam::123456789012:role/r",
        "arn:aws:sts::123456789012:assumed-role/r/session",
    ] {
        parse(&trust(&with(ok)), PolicyKind::Trust).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for bad in [
        "alice",
        "12345678901",
        "arn:aws:iam::12345678901a:root",
        "arn:aws:iam::123456789012:group/g",
        "arn:aws:iam::123456789012:user/",
        "arn:aws:s3:::bucket",
    ] {
        assert_eq!(
            refused(&with(bad)),
            format!(r#"Invalid principal in policy: "AWS":"{bad}""#)
        );
    }
    let canonical =
        r#""Effect":"Allow","Principal":{"CanonicalUser":"abc"},"Action":"sts:AssumeRole""#;
    assert_eq!(
        refused(canonical),
        r#"Invalid principal in policy: "CanonicalUser":"abc""#
    );
    // Federated and Service principals are kept as given.
    let other = r#""Effect":"Allow","Principal":{"Federated":"accounts.google.com","Service":["a.amazonaws.com","b"]},"Action":"sts:AssumeRoleWithWebIdentity""#;
    parse(&trust(other), PolicyKind::Trust).unwrap();
}

#[test]
fn identity_and_bucket_policies_are_unchanged() {
    // A statement without Resource is still refused where one is required.
    let doc =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject"}]}"#;
    assert!(parse(doc, PolicyKind::Identity).is_err());
}

#[test]
fn web_identity_condition_keys_are_named_by_the_providers_url() {
    let p = r#""Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}"#;
    for key in [
        "token.actions.githubusercontent.com:sub",
        "oidc.example.com:8443/realms/lab:aud",
        "127.0.0.1:38513:azp",
        "accounts.google.com:amr",
    ] {
        let statement = format!(
            r#""Effect":"Allow",{p},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"{key}":"x"}}}}"#
        );
        parse(&trust(&statement), PolicyKind::Trust).unwrap_or_else(|e| panic!("{key}: {e:?}"));
    }
    for key in [
        ":sub",
        "example.com:",
        "example.com:s ub",
        "exa mple.com:sub",
    ] {
        let statement = format!(
            r#""Effect":"Allow",{p},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"{key}":"x"}}}}"#
        );
        assert_eq!(
            refused(&statement),
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
            "{key}"
        );
    }
}
