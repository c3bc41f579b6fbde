//! Whether a bucket policy is public, as GetBucketPolicyStatus reports it: S3's "The meaning
//! of public", as far as LabStore's policies can express it.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status>
//!
//! A policy is public when one of its `Allow` statements grants to everyone (`Principal` `"*"`
//! or `{"AWS": "*"}`, or any `NotPrincipal`) and no condition of that statement pins it to
//! fixed values of a key S3 counts as limiting. A condition pins when:
//! - it is `IpAddress` on `aws:SourceIp` and no value is a `/0` range, or
//! - it is `StringEquals`, `StringEqualsIgnoreCase`, `StringLike`, `ArnEquals` or `ArnLike` on
//!   one of [`FIXED_KEYS`], and no value holds a wildcard (`*`, `?`) or a policy variable;
//!
//! and a request without the key fails it: `...IfExists` and `ForAllValues:` (both true when
//! the key is absent) never pin. `Deny` statements never make a policy public.

use crate::policy::document::{
    BaseOp, Condition, Effect, PolicyDocument, PrincipalSpec, PrincipalType, Principals,
    SetQualifier, Statement,
};

/// Condition keys that S3 counts as limiting a grant when their values are fixed: the caller's
/// account, organization or identity, and the network or service the request comes through.
pub const FIXED_KEYS: &[&str] = &[
    "aws:SourceArn",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "aws:SourceOwner",
    "aws:SourceAccount",
    "aws:PrincipalOrgID",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:userid",
    "s3:DataAccessPointArn",
    "s3:DataAccessPointAccount",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
];

pub fn is_public(document: &PolicyDocument) -> bool {
    document
        .statements
        .iter()
        .any(|s| s.effect == Effect::Allow && grants_everyone(s) && !s.conditions.iter().any(pins))
}

fn grants_everyone(statement: &Statement) -> bool {
    match &statement.principals {
        Some(PrincipalSpec::Principal(Principals::Any)) => true,
        Some(PrincipalSpec::Principal(Principals::Typed(typed))) => typed
            .iter()
            .any(|(kind, values)| *kind == PrincipalType::Aws && values.iter().any(|v| v == "*")),
        // Everyone but the listed principals, anonymous callers included.
        Some(PrincipalSpec::NotPrincipal(_)) => true,
        None => false,
    }
}

/// Whether `condition` confines a statement to fixed values of a limiting key.
fn pins(condition: &Condition) -> bool {
    let op = condition.op;
    if op.if_exists || op.set == Some(SetQualifier::ForAllValues) {
        return false;
    }
    let key = condition.key.as_str();
    match op.base {
        BaseOp::IpAddress => {
            key.eq_ignore_ascii_case("aws:SourceIp")
                && condition.values.iter().all(|v| !is_everywhere(v))
        }
        BaseOp::StringEquals
        | BaseOp::StringEqualsIgnoreCase
        | BaseOp::StringLike
        | BaseOp::ArnEquals
        | BaseOp::ArnLike => {
            FIXED_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
                && condition.values.iter().all(|v| is_fixed(v))
        }
        _ => false,
    }
}

/// No wildcard and no policy variable.
fn is_fixed(value: &str) -> bool {
    !value.contains(['*', '?']) && !value.contains("${")
}

/// A range that covers every address: `0.0.0.0/0`, `::/0`.
fn is_everywhere(cidr: &str) -> bool {
    cidr.trim()
        .split_once('/')
        .is_some_and(|(_, prefix)| prefix.trim().parse::<u8>() == Ok(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::document::{parse, PolicyKind};

    /// A one-statement bucket policy with the given effect, principal and condition JSON.
    fn policy(effect: &str, principal: &str, condition: Option<&str>) -> PolicyDocument {
        let condition = condition.map_or(String::new(), |c| format!(",\"Condition\":{c}"));
        let json = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"{effect}",{principal},
                "Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"{condition}}}]}}"#
        );
        parse(&json, PolicyKind::Resource).unwrap_or_else(|e| panic!("{e}: {json}"))
    }

    #[test]
    fn principals_decide_without_conditions() {
        let rows = [
            (r#""Principal":"*""#, true),
            (r#""Principal":{"AWS":"*"}"#, true),
            (
                r#""Principal":{"AWS":["arn:aws:iam::111122223333:user/a","*"]}"#,
                true,
            ),
            (
                r#""NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/a"}"#,
                true,
            ),
            (
                r#""Principal":{"AWS":"arn:aws:iam::111122223333:user/a"}"#,
                false,
            ),
            (r#""Principal":{"AWS":"111122223333"}"#, false),
            (r#""Principal":{"AWS":"arn:aws:iam::*:root"}"#, false),
            (
                r#""Principal":{"Service":"cloudfront.amazonaws.com"}"#,
                false,
            ),
            (
                r#""Principal":{"CanonicalUser":"79a59df900b949e55d96a1e698fbace"}"#,
                false,
            ),
        ];
        for (principal, public) in rows {
            assert_eq!(
                is_public(&policy("Allow", principal, None)),
                public,
                "{principal}"
            );
            assert!(
                !is_public(&policy("Deny", principal, None)),
                "Deny {principal}"
            );
        }
    }

    #[test]
    fn fixed_limiting_conditions_make_everyone_grants_non_public() {
        let rows = [
            (r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#, false),
            (
                r#"{"IpAddress":{"aws:sourceip":["203.0.113.7","2001:db8::/32"]}}"#,
                false,
            ),
            (
                r#"{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","0.0.0.0/0"]}}"#,
                true,
            ),
            (r#"{"IpAddress":{"aws:SourceIp":"::/0"}}"#, true),
            (
                r#"{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
                true,
            ),
            (
                r#"{"IpAddressIfExists":{"aws:SourceIp":"203.0.113.0/24"}}"#,
                true,
            ),
            (
                r#"{"StringEquals":{"aws:SourceVpc":"vpc-91237329"}}"#,
                false,
            ),
            (r#"{"StringLike":{"aws:SourceVpc":"vpc-*"}}"#, true),
            (
                r#"{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}"#,
                false,
            ),
            (
                r#"{"StringEquals":{"aws:PrincipalOrgID":"o-abcdefghij"}}"#,
                false,
            ),
            (
                r#"{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}"#,
                false,
            ),
            (
                r#"{"StringEquals":{"aws:SourceAccount":["111122223333","444455556666"]}}"#,
                false,
            ),
            (
                r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:cloudfront::111122223333:distribution/E1"}}"#,
                false,
            ),
            (
                r#"{"ArnLike":{"aws:SourceArn":"arn:aws:cloudfront::111122223333:*"}}"#,
                true,
            ),
            (r#"{"StringEquals":{"aws:userid":"AIDAEXAMPLE"}}"#, false),
            (r#"{"StringEquals":{"aws:userid":"${aws:username}"}}"#, true),
            (
                r#"{"StringEqualsIfExists":{"aws:SourceVpc":"vpc-91237329"}}"#,
                true,
            ),
            (
                r#"{"StringNotEquals":{"aws:SourceVpc":"vpc-91237329"}}"#,
                true,
            ),
            (
                r#"{"ForAllValues:StringEquals":{"aws:SourceVpc":"vpc-91237329"}}"#,
                true,
            ),
            (
                r#"{"ForAnyValue:StringEquals":{"aws:SourceVpc":"vpc-91237329"}}"#,
                false,
            ),
            (r#"{"StringEquals":{"s3:prefix":"home/"}}"#, true),
            (r#"{"Bool":{"aws:SecureTransport":"true"}}"#, true),
            // One pinning condition is enough: conditions are AND-ed.
            (
                r#"{"Bool":{"aws:SecureTransport":"true"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
                false,
            ),
        ];
        for (condition, public) in rows {
            let doc = policy("Allow", r#""Principal":"*""#, Some(condition));
            assert_eq!(is_public(&doc), public, "{condition}");
        }
    }

    #[test]
    fn one_public_statement_is_enough() {
        let json = r#"{"Statement":[
            {"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"},
            {"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*"},
            {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/public/*"}]}"#;
        assert!(is_public(&parse(json, PolicyKind::Resource).unwrap()));
    }
}
