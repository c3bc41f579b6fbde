//! Policy variables in `Resource`, `NotResource` and condition values, their defaults and
//! escapes, and version 2008-10-17, under which they are plain text.
//!
//! Rows write their context as `key=value` entries (one value each; no test value holds `=`).

use super::*;
use Decision::{Allowed, ImplicitDeny as Denied};

const V2012: &str = r#""Version": "2012-10-17","#;
const V2008: &str = r#""Version": "2008-10-17","#;
/// Resource rows are relative to this bucket, to keep them on one line.
const BUCKET: &str = "arn:aws:s3:::b/";

fn key_values(entries: &[&str]) -> Context {
    let mut context = Context::new();
    for entry in entries {
        let (key, value) = entry.split_once('=').unwrap_or((entry, ""));
        context.set(key, [value]);
    }
    context
}

/// Alice asks for `action` on `resource` with `entries` as context.
fn run(
    policy: &str,
    action: &str,
    resource: &str,
    entries: &[&str],
    expected: Decision,
) -> Evaluation {
    let context = key_values(entries);
    let request = Request {
        action,
        resource,
        caller: Some(ALICE),
        context: &context,
    };
    check(&[policy], None, &request, expected)
}

/// `(version, resource pattern, requested key, context, decision)`: an Allow of `s3:GetObject`
/// on `BUCKET` + pattern, asked for `BUCKET` + key.
type ResourceRow<'a> = (&'a str, &'a str, &'a str, &'a [&'a str], Decision);

fn run_resources(element: &str, rows: &[ResourceRow<'_>]) {
    for &(version, pattern, key, entries, expected) in rows {
        let policy = format!(
            r#"{{{version} "Statement": {{"Effect": "Allow", "Action": "s3:GetObject",
                "{element}": "{BUCKET}{pattern}"}}}}"#
        );
        run(
            &policy,
            "s3:GetObject",
            &format!("{BUCKET}{key}"),
            entries,
            expected,
        );
    }
}

const HOME: &str = "home/${aws:username}/*";
const ALICE_NAME: &[&str] = &["aws:username=alice"];
const NO_CONTEXT: &[&str] = &[];

#[test]
fn variables_in_resources() {
    // One row per line: the table reads across (hence no rustfmt here).
    #[rustfmt::skip]
    let rows: &[ResourceRow<'_>] = &[
        (V2012, HOME, "home/alice/notes", ALICE_NAME, Allowed),
        (V2012, HOME, "home/bob/notes", ALICE_NAME, Denied),
        // No username (anonymous, or the root): the entry matches nothing.
        (V2012, HOME, "home/alice/notes", NO_CONTEXT, Denied),
        (V2012, HOME, "home//notes", NO_CONTEXT, Denied),
        // Key names fold case, in the variable and in the context.
        (V2012, "${AWS:UserName}", "alice", &["Aws:USERNAME=alice"], Allowed),
        (V2012, "${aws:userid}/*", "AIDAEXAMPLE/x", &["aws:userid=AIDAEXAMPLE"], Allowed),
        (V2012, "${aws:PrincipalType}/*", "User/x", &["aws:PrincipalType=User"], Allowed),
        // Any key of the context can be a variable.
        (V2012, "${aws:PrincipalTag/team}/*", "ops/x", &["aws:PrincipalTag/team=ops"], Allowed),
        // Defaults: used only when the key is absent.
        (V2012, "${aws:username, 'anonymous'}/*", "anonymous/x", NO_CONTEXT, Allowed),
        (V2012, "${aws:username, 'anonymous'}/*", "anonymous/x", ALICE_NAME, Denied),
        (V2012, "${aws:username, 'anonymous'}/*", "alice/x", ALICE_NAME, Allowed),
        (V2012, "${aws:username,'it''s'}", "it's", NO_CONTEXT, Allowed),
        // Substituted values are literal: `*` and `?` in a user name are not wildcards.
        (V2012, HOME, "home/a*/x", &["aws:username=a*"], Allowed),
        (V2012, HOME, "home/alice/x", &["aws:username=a*"], Denied),
        (V2012, HOME, "home/ab/x", &["aws:username=a?"], Denied),
        (V2012, "${k:k, '*'}", "anything", NO_CONTEXT, Denied),
        // Escapes: literal characters, never wildcards.
        (V2012, "${*}", "*", NO_CONTEXT, Allowed),
        (V2012, "${*}", "x", NO_CONTEXT, Denied),
        (V2012, "file${?}", "file?", NO_CONTEXT, Allowed),
        (V2012, "file${?}", "filex", NO_CONTEXT, Denied),
        (V2012, "${$}{x}", "${x}", NO_CONTEXT, Allowed),
        (V2012, "price${$}*", "price$100", NO_CONTEXT, Allowed),
        // Version 2008-10-17, and no Version at all: literal text, wildcards still live.
        (V2008, HOME, "home/alice/notes", ALICE_NAME, Denied),
        (V2008, HOME, "home/${aws:username}/notes", ALICE_NAME, Allowed),
        ("", HOME, "home/${aws:username}/notes", ALICE_NAME, Allowed),
        (V2008, "${*}", "${anything}", NO_CONTEXT, Allowed),
        (V2008, "${*}", "*", NO_CONTEXT, Denied),
    ];
    run_resources("Resource", rows);
}

/// A key with several values cannot be a variable; `Context::set` in `key_values` takes one
/// value per entry, so this row builds its context itself.
#[test]
fn multi_valued_key_is_not_a_variable() {
    let policy = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${s3:tags}"}}"#;
    let mut context = Context::new();
    context.set("s3:tags", ["a", "b"]);
    let request = Request {
        action: "s3:GetObject",
        resource: "arn:aws:s3:::b/a",
        caller: Some(ALICE),
        context: &context,
    };
    check(&[policy], None, &request, Denied);
}

/// An unresolvable variable in `NotResource` keeps the statement from applying: a missing key
/// must not widen an Allow.
#[test]
fn variables_in_not_resource() {
    let private = "private/${aws:username}/*";
    let rows: &[ResourceRow<'_>] = &[
        (V2012, private, "public/x", ALICE_NAME, Allowed),
        (V2012, private, "private/alice/x", ALICE_NAME, Denied),
        (V2012, private, "private/bob/x", ALICE_NAME, Allowed),
        (V2012, private, "public/x", NO_CONTEXT, Denied),
    ];
    run_resources("NotResource", rows);
}

#[test]
fn variables_in_conditions() {
    let block = |version: &str, condition: &str| {
        format!(
            r#"{{{version} "Statement": {{"Effect": "Allow", "Action": "*", "Resource": "*",
                "Condition": {condition}}}}}"#
        )
    };
    let eq_home = r#"{"StringEquals": {"s3:prefix": "home/${aws:username}/"}}"#;
    let eq_ic = r#"{"StringEqualsIgnoreCase": {"s3:prefix": "${aws:username}"}}"#;
    let like_home = r#"{"StringLike": {"s3:prefix": "home/${aws:username}/*"}}"#;
    let like_star = r#"{"StringLike": {"s3:prefix": "${*}"}}"#;
    let ne_user = r#"{"StringNotEquals": {"s3:prefix": "${aws:username}"}}"#;
    let not_like = r#"{"StringNotLike": {"s3:prefix": ["${aws:username}/*", "tmp/*"]}}"#;
    let ne_default = r#"{"StringNotEquals": {"s3:prefix": "${aws:username, 'nobody'}"}}"#;
    let arn_user =
        r#"{"ArnEquals": {"aws:SourceArn": "arn:aws:iam::111122223333:user/${aws:username}"}}"#;
    let arn_whole = r#"{"ArnLike": {"aws:SourceArn": "${aws:PrincipalArn}"}}"#;
    let eq_user = r#"{"StringEquals": {"s3:prefix": "${aws:username}"}}"#;
    const ALICE_ARN: &str = "aws:SourceArn=arn:aws:iam::111122223333:user/alice";
    const BOB_ARN: &str = "aws:SourceArn=arn:aws:iam::111122223333:user/bob";
    const ALICE_PRINCIPAL: &str = "aws:PrincipalArn=arn:aws:iam::111122223333:user/alice";
    const ME: &str = "aws:username=alice";
    // One row per line: the table reads across (hence no rustfmt here).
    #[rustfmt::skip]
    let rows: &[(&str, &str, &[&str], Decision)] = &[
        (V2012, eq_home, &[ME, "s3:prefix=home/alice/"], Allowed),
        (V2012, eq_home, &[ME, "s3:prefix=home/bob/"], Denied),
        (V2012, eq_home, &["s3:prefix=home//"], Denied),
        (V2012, eq_ic, &["aws:username=Alice", "s3:prefix=ALICE"], Allowed),
        (V2012, like_home, &[ME, "s3:prefix=home/alice/docs"], Allowed),
        (V2012, like_home, &["aws:username=a*", "s3:prefix=home/abc/docs"], Denied),
        (V2012, like_star, &["s3:prefix=anything"], Denied),
        (V2012, like_star, &["s3:prefix=*"], Allowed),
        // Negated operators: a resolvable value behaves as usual...
        (V2012, ne_user, &[ME, "s3:prefix=bob"], Allowed),
        (V2012, ne_user, &[ME, "s3:prefix=alice"], Denied),
        // ...an unresolvable one makes the condition false rather than vacuously true.
        (V2012, ne_user, &["s3:prefix=bob"], Denied),
        (V2012, not_like, &["s3:prefix=x"], Denied),
        // A default keeps it resolvable.
        (V2012, ne_default, &["s3:prefix=bob"], Allowed),
        // ARN operators take variables too; a value may span components.
        (V2012, arn_user, &[ME, ALICE_ARN], Allowed),
        (V2012, arn_user, &["aws:username=*", BOB_ARN], Denied),
        (V2012, arn_whole, &[ALICE_PRINCIPAL, ALICE_ARN], Allowed),
        // Under 2008-10-17 the value is compared as written.
        (V2008, eq_user, &[ME, "s3:prefix=alice"], Denied),
        (V2008, eq_user, &[ME, "s3:prefix=${aws:username}"], Allowed),
    ];
    for &(version, condition, entries, expected) in rows {
        let policy = block(version, condition);
        run(
            &policy,
            "s3:ListBucket",
            "arn:aws:s3:::b",
            entries,
            expected,
        );
    }
}
