//! Trust-policy evaluation (`Authorizer::may_assume`, `trusts_web_identity`) as a table:
//! callers (the root, users with and without their own allow, a role session) against trust
//! policies naming them, their account, everyone, or someone else, with denies and conditions.

use std::sync::Arc;

use super::{trusts_web_identity, Authorizer};
use crate::auth::session::{Claims, Session, Subject};
use crate::auth::Caller;
use crate::iam_store::view::{PolicyEntry, PolicySource, Principal, RoleEntry};
use crate::policy::document::{parse, PolicyKind};
use crate::policy::eval::{CompiledPolicy, Context};

const ACCOUNT: &str = "111122223333";
const ROLE: &str = "arn:aws:iam::111122223333:role/Deploy";

fn identity(text: &str) -> PolicyEntry {
    PolicyEntry {
        source: PolicySource::UserInline("p".into()),
        document: Arc::from(text),
        compiled: Arc::new(CompiledPolicy::compile(
            &parse(text, PolicyKind::Identity).unwrap(),
        )),
    }
}

fn trust(statements: &str) -> CompiledPolicy {
    let text = format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#);
    CompiledPolicy::compile_trust(&parse(&text, PolicyKind::Trust).unwrap())
}

fn allow_assume() -> &'static str {
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#
}

fn user(name: &str, policies: &[&str]) -> Caller {
    Caller::User {
        access_key: "AKIAEXAMPLE".into(),
        principal: Arc::new(Principal {
            id: format!("AIDA{name}"),
            name: name.into(),
            path: "/".into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
            groups: Vec::new(),
            policies: policies.iter().map(|p| identity(p)).collect(),
            boundary: None,
        }),
        session: None,
    }
}

fn root() -> Caller {
    Caller::Root {
        access_key: "admin".into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:root"),
        session: None,
    }
}

/// A session of role `Builder`, whose own policy is `policy`.
fn role_session(policy: &str) -> Caller {
    let role = RoleEntry {
        id: "AROABUILDER".into(),
        name: "Builder".into(),
        path: "/".into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:role/Builder"),
        max_session_duration: 3600,
        trust: trust(r#"{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole"}"#),
        policies: vec![identity(policy)],
        boundary: None,
        tags: Vec::new(),
    };
    let claims = Claims {
        access_key: "ASIAEXAMPLE".into(),
        secret: "x".into(),
        subject: Subject::Role {
            role_id: role.id.clone(),
            role_name: role.name.clone(),
            role_arn: role.arn.clone(),
            session_name: "ci".into(),
        },
        issued: 0,
        expires: i64::MAX,
        policies: Vec::new(),
        tags: Vec::new(),
        transitive: Vec::new(),
        source_identity: None,
        web: None,
    };
    Caller::Role {
        access_key: "ASIAEXAMPLE".into(),
        arn: format!("arn:aws:sts::{ACCOUNT}:assumed-role/Builder/ci"),
        role: Arc::new(role),
        session: Arc::new(Session::for_tests(claims)),
    }
}

#[test]
fn trust_and_the_callers_policies_decide_together() {
    let aws = |principal: &str| {
        format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"}}"#
        )
    };
    let account = aws(ACCOUNT);
    let account_root = aws(&format!("arn:aws:iam::{ACCOUNT}:root"));
    let alice = aws(&format!("arn:aws:iam::{ACCOUNT}:user/alice"));
    let builder_role = aws(&format!("arn:aws:iam::{ACCOUNT}:role/Builder"));
    let builder_session = aws(&format!("arn:aws:sts::{ACCOUNT}:assumed-role/Builder/ci"));
    let everyone = aws("*");
    let other_account = aws("444455556666");
    let deny_alice = format!(
        r#"{account},{{"Effect":"Deny","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:user/alice"}},"Action":"sts:AssumeRole"}}"#
    );
    let with_external_id = format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"{ACCOUNT}"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":"42"}}}}}}"#
    );
    let deny_own = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"},{"Effect":"Deny","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111122223333:role/Deploy"}]}"#;

    let alice_plain = user("alice", &[]);
    let alice_allowed = user("alice", &[allow_assume()]);
    let alice_denying = user("alice", &[deny_own]);
    let bob_allowed = user("bob", &[allow_assume()]);
    let root = root();
    let session_allowed = role_session(allow_assume());
    let session_plain = role_session(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
    );

    let external = {
        let mut c = Context::new();
        c.set("sts:ExternalId", ["42"]);
        c
    };
    let rows: &[(&str, &Caller, &str, &Context, bool)] = &[
        (
            "account trusted, no own allow",
            &alice_plain,
            &account,
            &Context::new(),
            false,
        ),
        (
            "account trusted, own allow",
            &alice_allowed,
            &account,
            &Context::new(),
            true,
        ),
        (
            "account root ARN trusted, own allow",
            &alice_allowed,
            &account_root,
            &Context::new(),
            true,
        ),
        (
            "named in trust, no own allow",
            &alice_plain,
            &alice,
            &Context::new(),
            true,
        ),
        (
            "someone else named",
            &bob_allowed,
            &alice,
            &Context::new(),
            false,
        ),
        (
            "everyone trusted, no own allow",
            &alice_plain,
            &everyone,
            &Context::new(),
            true,
        ),
        (
            "another account trusted",
            &alice_allowed,
            &other_account,
            &Context::new(),
            false,
        ),
        (
            "trust denies the caller",
            &alice_allowed,
            &deny_alice,
            &Context::new(),
            false,
        ),
        (
            "own policy denies",
            &alice_denying,
            &account,
            &Context::new(),
            false,
        ),
        (
            "own deny beats a naming trust",
            &alice_denying,
            &alice,
            &Context::new(),
            false,
        ),
        (
            "root, account trusted",
            &root,
            &account,
            &Context::new(),
            true,
        ),
        (
            "root, only a user named",
            &root,
            &alice,
            &Context::new(),
            false,
        ),
        (
            "session, role named",
            &session_plain,
            &builder_role,
            &Context::new(),
            true,
        ),
        (
            "session, session named",
            &session_plain,
            &builder_session,
            &Context::new(),
            true,
        ),
        (
            "session, account trusted, role allows",
            &session_allowed,
            &account,
            &Context::new(),
            true,
        ),
        (
            "session, account trusted, role silent",
            &session_plain,
            &account,
            &Context::new(),
            false,
        ),
        (
            "condition unmet",
            &alice_allowed,
            &with_external_id,
            &Context::new(),
            false,
        ),
        (
            "condition met",
            &alice_allowed,
            &with_external_id,
            &external,
            true,
        ),
    ];
    for (name, caller, statements, context, want) in rows {
        let authorizer = Authorizer::new(Some(caller), ACCOUNT, (*context).clone());
        let got = authorizer.may_assume("sts:AssumeRole", ROLE, &trust(statements));
        assert_eq!(got, *want, "{name}");
    }
    // Anonymous callers never assume a role, whatever the trust policy says.
    let anonymous = Authorizer::new(None, ACCOUNT, Context::new());
    assert!(!anonymous.may_assume("sts:AssumeRole", ROLE, &trust(&everyone)));
}

#[test]
fn a_web_identity_is_trusted_only_through_its_provider_and_conditions() {
    let provider = format!("arn:aws:iam::{ACCOUNT}:oidc-provider/token.example.com");
    let other = format!("arn:aws:iam::{ACCOUNT}:oidc-provider/other.example.com");
    let statement = |principal: &str| {
        format!(
            r#"{{"Effect":"Allow","Principal":{{"Federated":"{principal}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"token.example.com:sub":"repo:main"}}}}}}"#
        )
    };
    let keys = |sub: &str| {
        let mut c = Context::new();
        c.set("token.example.com:sub", [sub]);
        c
    };
    let action = "sts:AssumeRoleWithWebIdentity";
    let rows: &[(&str, String, &str, Context, bool)] = &[
        (
            "its provider, its subject",
            statement(&provider),
            &provider,
            keys("repo:main"),
            true,
        ),
        (
            "another subject",
            statement(&provider),
            &provider,
            keys("repo:fork"),
            false,
        ),
        (
            "another provider",
            statement(&other),
            &provider,
            keys("repo:main"),
            false,
        ),
        (
            "an AWS principal is not a provider",
            format!(
                r#"{{"Effect":"Allow","Principal":{{"AWS":"{ACCOUNT}"}},"Action":"sts:AssumeRoleWithWebIdentity"}}"#
            ),
            &provider,
            keys("repo:main"),
            false,
        ),
        (
            "an explicit deny",
            format!(
                r#"{},{{"Effect":"Deny","Principal":{{"Federated":"{provider}"}},"Action":"sts:AssumeRoleWithWebIdentity"}}"#,
                statement(&provider)
            ),
            &provider,
            keys("repo:main"),
            false,
        ),
    ];
    for (name, statements, caller, context, want) in rows {
        let got = trusts_web_identity(&trust(statements), action, ROLE, caller, ACCOUNT, context);
        assert_eq!(got, *want, "{name}");
    }
}
