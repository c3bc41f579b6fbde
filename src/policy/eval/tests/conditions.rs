//! Condition operators, one table per family. Each row is a `Condition` block placed in an
//! Allow statement for `s3:GetObject` on `*`, a request context, and the decision: `Allowed`
//! when the block holds, `ImplicitDeny` when it does not.

use super::*;
use Decision::{Allowed, ImplicitDeny as Denied};

type Row<'a> = (&'a str, Pairs<'a>, Decision);

fn run(rows: &[Row<'_>]) {
    for &(block, pairs, expected) in rows {
        let policy = format!(
            r#"{{"Version": "2012-10-17", "Statement": {{"Sid": "Cond", "Effect": "Allow",
                "Action": "s3:GetObject", "Resource": "*", "Condition": {block}}}}}"#
        );
        let context = context(pairs);
        let request = Request {
            action: "s3:GetObject",
            resource: "arn:aws:s3:::b/k",
            caller: Some(ALICE),
            context: &context,
        };
        check(&[&policy], None, &request, expected);
    }
}

const NONE: Pairs<'static> = &[];
const PREFIX: &str = "s3:prefix";
const MAX_KEYS: &str = "s3:max-keys";
const TAGS: &str = "aws:TagKeys";
const NOW: &str = "aws:CurrentTime";
const SOURCE: &str = "aws:SourceArn";
const SECURE: &str = "aws:SecureTransport";
const META: &str = "s3:x-amz-meta-key";
const IP: &str = "aws:SourceIp";

#[test]
fn string_operators() {
    let eq = r#"{"StringEquals": {"s3:prefix": "home/"}}"#;
    let eq_ab = r#"{"StringEquals": {"s3:prefix": ["a", "b"]}}"#;
    let eq_star = r#"{"StringEquals": {"s3:prefix": "a*"}}"#;
    let ne_ab = r#"{"StringNotEquals": {"s3:prefix": ["a", "b"]}}"#;
    let eq_ic = r#"{"StringEqualsIgnoreCase": {"s3:prefix": "Home"}}"#;
    let ne_ic = r#"{"StringNotEqualsIgnoreCase": {"s3:prefix": "Home"}}"#;
    let like = r#"{"StringLike": {"s3:prefix": "home/*"}}"#;
    let like_one = r#"{"StringLike": {"s3:prefix": "h?me"}}"#;
    let not_like = r#"{"StringNotLike": {"s3:prefix": "secret/*"}}"#;
    let vpce = r#"{"StringEquals": {"AWS:SourceVpce": "vpce-1"}}"#;
    run(&[
        (eq, &[(PREFIX, &["home/"])], Allowed),
        (eq, &[(PREFIX, &["Home/"])], Denied),
        (eq, NONE, Denied),
        (eq_ab, &[(PREFIX, &["b"])], Allowed),
        // No wildcards in StringEquals: `*` is a character.
        (eq_star, &[(PREFIX, &["abc"])], Denied),
        (eq_star, &[(PREFIX, &["a*"])], Allowed),
        // Negated with several values: none may match.
        (ne_ab, &[(PREFIX, &["c"])], Allowed),
        (ne_ab, &[(PREFIX, &["a"])], Denied),
        (ne_ab, &[(PREFIX, &["b"])], Denied),
        (ne_ab, NONE, Allowed),
        (eq_ic, &[(PREFIX, &["hOME"])], Allowed),
        (eq_ic, &[(PREFIX, &["hOMEr"])], Denied),
        (ne_ic, &[(PREFIX, &["HOME"])], Denied),
        (ne_ic, &[(PREFIX, &["away"])], Allowed),
        (like, &[(PREFIX, &["home/a/b"])], Allowed),
        (like, &[(PREFIX, &["Home/a"])], Denied),
        (like_one, &[(PREFIX, &["home"])], Allowed),
        (like_one, &[(PREFIX, &["hoome"])], Denied),
        (not_like, &[(PREFIX, &["public/x"])], Allowed),
        (not_like, &[(PREFIX, &["secret/x"])], Denied),
        (not_like, NONE, Allowed),
        // Key names fold case.
        (vpce, &[("aws:sourcevpce", &["vpce-1"])], Allowed),
    ]);
}

#[test]
fn numeric_operators() {
    let eq = r#"{"NumericEquals": {"s3:max-keys": "10"}}"#;
    let eq_number = r#"{"NumericEquals": {"s3:max-keys": 10}}"#;
    let ne = r#"{"NumericNotEquals": {"s3:max-keys": "10"}}"#;
    let lt = r#"{"NumericLessThan": {"s3:max-keys": "10"}}"#;
    let le = r#"{"NumericLessThanEquals": {"s3:max-keys": "10"}}"#;
    let gt = r#"{"NumericGreaterThan": {"s3:max-keys": "10"}}"#;
    let ge = r#"{"NumericGreaterThanEquals": {"s3:max-keys": "10"}}"#;
    run(&[
        (eq, &[(MAX_KEYS, &["10"])], Allowed),
        (eq_number, &[(MAX_KEYS, &["10.0"])], Allowed),
        (eq, &[(MAX_KEYS, &["11"])], Denied),
        (eq, &[(MAX_KEYS, &["ten"])], Denied),
        (eq, NONE, Denied),
        (ne, &[(MAX_KEYS, &["11"])], Allowed),
        (ne, &[(MAX_KEYS, &["10"])], Denied),
        // Unparsable request value: matches nothing, so the negation holds.
        (ne, &[(MAX_KEYS, &["ten"])], Allowed),
        (ne, NONE, Allowed),
        (lt, &[(MAX_KEYS, &["9"])], Allowed),
        (lt, &[(MAX_KEYS, &["10"])], Denied),
        (le, &[(MAX_KEYS, &["10"])], Allowed),
        (le, &[(MAX_KEYS, &["10.5"])], Denied),
        (gt, &[(MAX_KEYS, &["11"])], Allowed),
        (gt, &[(MAX_KEYS, &["10"])], Denied),
        (ge, &[(MAX_KEYS, &["10"])], Allowed),
        (ge, &[(MAX_KEYS, &["-3"])], Denied),
    ]);
}

#[test]
fn date_operators() {
    let block = |op: &str| format!(r#"{{"{op}": {{"{NOW}": "2019-07-16T12:00:00Z"}}}}"#);
    let (eq, ne, lt, le, gt, ge) = (
        block("DateEquals"),
        block("DateNotEquals"),
        block("DateLessThan"),
        block("DateLessThanEquals"),
        block("DateGreaterThan"),
        block("DateGreaterThanEquals"),
    );
    // Epoch seconds in the policy, ISO 8601 in the request.
    let epoch = r#"{"DateGreaterThan": {"aws:EpochTime": "1563278400"}}"#;
    let epoch_ctx: Pairs<'_> = &[("aws:EpochTime", &["2019-07-16T12:00:00.5Z"])];
    let noon: Pairs<'_> = &[(NOW, &["2019-07-16T12:00:00Z"])];
    let noon_epoch: Pairs<'_> = &[(NOW, &["1563278400"])];
    let noon_paris: Pairs<'_> = &[(NOW, &["2019-07-16T14:00:00+02:00"])];
    let before: Pairs<'_> = &[(NOW, &["2019-07-16T11:59:59.999Z"])];
    let after: Pairs<'_> = &[(NOW, &["2019-07-16T12:00:01Z"])];
    let garbage: Pairs<'_> = &[(NOW, &["not a date"])];
    run(&[
        (&eq, noon, Allowed),
        (&eq, noon_epoch, Allowed),
        (&eq, noon_paris, Allowed),
        (&eq, after, Denied),
        (&eq, garbage, Denied),
        (&eq, NONE, Denied),
        (&ne, after, Allowed),
        (&ne, noon_epoch, Denied),
        (&ne, NONE, Allowed),
        (&lt, before, Allowed),
        (&lt, noon, Denied),
        (&le, noon, Allowed),
        (&le, after, Denied),
        (&gt, after, Allowed),
        (&gt, noon, Denied),
        (&ge, noon_paris, Allowed),
        (&ge, before, Denied),
        (epoch, epoch_ctx, Allowed),
    ]);
}

#[test]
fn bool_binary_and_ip_operators() {
    let secure = r#"{"Bool": {"aws:SecureTransport": "true"}}"#;
    let insecure = r#"{"Bool": {"aws:SecureTransport": false}}"#;
    let binary = r#"{"BinaryEquals": {"s3:x-amz-meta-key": "QmluYXJ5VmFsdWU="}}"#;
    let in_range = r#"{"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}}"#;
    let out_of_range = r#"{"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}"#;
    run(&[
        (secure, &[(SECURE, &["true"])], Allowed),
        (secure, &[(SECURE, &["TRUE"])], Allowed),
        (secure, &[(SECURE, &["false"])], Denied),
        (secure, &[(SECURE, &["yes"])], Denied),
        (secure, NONE, Denied),
        (insecure, &[(SECURE, &["false"])], Allowed),
        (binary, &[(META, &["QmluYXJ5VmFsdWU="])], Allowed),
        (binary, &[(META, &["QmluYXJ5"])], Denied),
        (binary, &[(META, &["not base64!"])], Denied),
        (in_range, &[(IP, &["203.0.113.7"])], Allowed),
        (in_range, &[(IP, &["::ffff:203.0.113.7"])], Allowed),
        (in_range, &[(IP, &["2001:db8::1"])], Allowed),
        (in_range, &[(IP, &["198.51.100.1"])], Denied),
        (in_range, &[(IP, &["not an address"])], Denied),
        (out_of_range, &[(IP, &["198.51.100.1"])], Allowed),
        (out_of_range, &[(IP, &["203.0.113.7"])], Denied),
        (out_of_range, NONE, Allowed),
    ]);
}

#[test]
fn arn_operators() {
    const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:topic";
    const STREAM: &str = "arn:aws:logs:us-east-1:111122223333:log-group:g:log-stream:s";
    let equals = format!(r#"{{"ArnEquals": {{"{SOURCE}": "{TOPIC}"}}}}"#);
    let like = r#"{"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:111122223333:*"}}"#;
    // ArnEquals takes wildcards too: AWS documents the two as the same.
    let equals_wild = r#"{"ArnEquals": {"aws:SourceArn": "arn:aws:sns:*:111122223333:topic"}}"#;
    // `*` stays within its component: `s*` cannot swallow "ns:x:y".
    let per_component =
        r#"{"ArnLike": {"aws:SourceArn": "arn:aws:s*:us-east-1:111122223333:topic"}}"#;
    // The sixth component keeps its colons.
    let log_group =
        r#"{"ArnLike": {"aws:SourceArn": "arn:aws:logs:us-east-1:111122223333:log-group:*"}}"#;
    let not_equals = format!(r#"{{"ArnNotEquals": {{"{SOURCE}": "{TOPIC}"}}}}"#);
    let not_like = r#"{"ArnNotLike": {"aws:SourceArn": "arn:aws:sns:*:111122223333:*"}}"#;
    // Five components is no ARN: it matches nothing.
    let short = r#"{"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*"}}"#;
    let topic_ctx: Pairs<'_> = &[(SOURCE, &[TOPIC])];
    let other_account: Pairs<'_> = &[(SOURCE, &["arn:aws:sns:us-east-1:444455556666:topic"])];
    let colons: Pairs<'_> = &[(SOURCE, &["arn:aws:sns:x:y:us-east-1:111122223333:topic"])];
    let stream: Pairs<'_> = &[(SOURCE, &[STREAM])];
    let garbage: Pairs<'_> = &[(SOURCE, &["not-an-arn"])];
    run(&[
        (&equals, topic_ctx, Allowed),
        (&equals, other_account, Denied),
        (like, topic_ctx, Allowed),
        (like, other_account, Denied),
        (like, garbage, Denied),
        (like, NONE, Denied),
        (equals_wild, topic_ctx, Allowed),
        (per_component, colons, Denied),
        (log_group, stream, Allowed),
        (&not_equals, other_account, Allowed),
        (&not_equals, topic_ctx, Denied),
        (&not_equals, NONE, Allowed),
        (not_like, topic_ctx, Denied),
        (not_like, garbage, Allowed),
        (short, topic_ctx, Denied),
    ]);
}

#[test]
fn null_and_if_exists() {
    let absent = r#"{"Null": {"aws:TokenIssueTime": "true"}}"#;
    let present = r#"{"Null": {"aws:TokenIssueTime": false}}"#;
    let issued: Pairs<'static> = &[("aws:TokenIssueTime", &["2019-07-16T12:00:00Z"])];
    let empty: Pairs<'static> = &[("aws:TokenIssueTime", &[])];
    let micro = r#"{"StringEqualsIfExists": {"ec2:InstanceType": "t2.micro"}}"#;
    let small = r#"{"NumericLessThanIfExists": {"s3:max-keys": "100"}}"#;
    let not_micro = r#"{"StringNotEqualsIfExists": {"ec2:InstanceType": "t2.micro"}}"#;
    // IfExists decides an absent key before the qualifier does.
    let any_micro = r#"{"ForAnyValue:StringEqualsIfExists": {"ec2:InstanceType": "t2.micro"}}"#;
    run(&[
        (absent, NONE, Allowed),
        (absent, issued, Denied),
        // A key with no values counts as absent.
        (absent, empty, Allowed),
        (present, issued, Allowed),
        (present, NONE, Denied),
        (present, empty, Denied),
        (micro, NONE, Allowed),
        (micro, &[("ec2:InstanceType", &["t2.micro"])], Allowed),
        (micro, &[("ec2:InstanceType", &["m5.large"])], Denied),
        (small, NONE, Allowed),
        (small, &[("s3:max-keys", &["1000"])], Denied),
        (not_micro, NONE, Allowed),
        (not_micro, &[("ec2:InstanceType", &["t2.micro"])], Denied),
        (any_micro, NONE, Allowed),
    ]);
}

#[test]
fn set_qualifiers_and_multi_valued_keys() {
    let any_ab = r#"{"ForAnyValue:StringEquals": {"aws:TagKeys": ["a", "b"]}}"#;
    let all_ab = r#"{"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}"#;
    let all_key1 = r#"{"ForAllValues:StringLike": {"aws:TagKeys": "key1*"}}"#;
    // From the multi-valued keys examples page: ForAllValues over a negated operator.
    let all_not_key1 = r#"{"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}}"#;
    let any_not_a = r#"{"ForAnyValue:StringNotEquals": {"aws:TagKeys": "a"}}"#;
    let all_small = r#"{"ForAllValues:NumericLessThan": {"s3:sizes": "10"}}"#;
    // No qualifier on a multi-valued key: any value for the plain operator, none for the
    // negated one.
    let plain = r#"{"StringEquals": {"aws:TagKeys": "a"}}"#;
    let plain_not = r#"{"StringNotEquals": {"aws:TagKeys": "a"}}"#;
    run(&[
        (any_ab, &[(TAGS, &["c", "a"])], Allowed),
        (any_ab, &[(TAGS, &["c", "d"])], Denied),
        (any_ab, NONE, Denied),
        (any_ab, &[(TAGS, &[])], Denied),
        (all_ab, &[(TAGS, &["a", "b"])], Allowed),
        (all_ab, &[(TAGS, &["a"])], Allowed),
        (all_ab, &[(TAGS, &["a", "c"])], Denied),
        (all_ab, NONE, Allowed),
        (all_ab, &[(TAGS, &[])], Allowed),
        (all_key1, &[(TAGS, &["key1a", "key1b"])], Allowed),
        (all_key1, &[(TAGS, &["key1a", "key2"])], Denied),
        (all_not_key1, &[(TAGS, &["key1:legal"])], Denied),
        (
            all_not_key1,
            &[(TAGS, &["key1:hr", "key1:personnel"])],
            Denied,
        ),
        (all_not_key1, &[(TAGS, &["key2:audit"])], Allowed),
        (all_not_key1, NONE, Allowed),
        (any_not_a, &[(TAGS, &["a", "b"])], Allowed),
        (any_not_a, &[(TAGS, &["a"])], Denied),
        (any_not_a, NONE, Denied),
        (all_small, &[("s3:sizes", &["1", "2"])], Allowed),
        (all_small, &[("s3:sizes", &["1", "20"])], Denied),
        (plain, &[(TAGS, &["b", "a"])], Allowed),
        (plain, &[(TAGS, &["b", "c"])], Denied),
        (plain_not, &[(TAGS, &["b", "a"])], Denied),
        (plain_not, &[(TAGS, &["b", "c"])], Allowed),
    ]);
}

#[test]
fn blocks_and_keys_are_anded() {
    let two_operators =
        r#"{"StringEquals": {"s3:prefix": "p"}, "Bool": {"aws:SecureTransport": "true"}}"#;
    let two_keys = r#"{"StringEquals": {"s3:prefix": "p", "s3:delimiter": "/"}}"#;
    run(&[
        (
            two_operators,
            &[("s3:prefix", &["p"]), ("aws:SecureTransport", &["true"])],
            Allowed,
        ),
        (
            two_operators,
            &[("s3:prefix", &["p"]), ("aws:SecureTransport", &["false"])],
            Denied,
        ),
        (
            two_keys,
            &[("s3:prefix", &["p"]), ("s3:delimiter", &["/"])],
            Allowed,
        ),
        (two_keys, &[("s3:prefix", &["p"])], Denied),
        // An empty block restricts nothing.
        ("{}", NONE, Allowed),
    ]);
}
