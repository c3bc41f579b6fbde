//! Permissions boundaries: identity policies grant only what the boundary allows too; an
//! explicit deny anywhere wins; a same-account bucket policy naming the user's ARN grants past
//! the boundary, one granting to everyone does not.

use super::*;
use Decision::{Allowed, ExplicitDeny, ImplicitDeny};

const ALLOW_GET: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Get","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
const ALLOW_S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"S3","Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
const ALLOW_PUT: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Put","Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}"#;
const DENY_GET: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"S3","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"NoGet","Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}"#;
const BUCKET_NAMES_ALICE: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Alice","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
const BUCKET_EVERYONE: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"All","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
const BUCKET_ACCOUNT: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Acct","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
const BUCKET_DENY_ALICE: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoAlice","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;

struct Row {
    name: &'static str,
    identity: &'static [&'static str],
    boundary: Option<&'static str>,
    bucket: Option<&'static str>,
    expected: Decision,
    /// The boundary's own verdict (`PermissionsBoundaryDecisionDetail`).
    boundary_allows: Option<bool>,
    /// (policy index, Sid); the boundary is index `identity.len() + 1`.
    matched: &'static [(usize, &'static str)],
}

fn compile(json: &str, kind: PolicyKind) -> CompiledPolicy {
    match parse(json, kind) {
        Ok(doc) => CompiledPolicy::compile(&doc),
        Err(e) => panic!("{kind:?} policy refused ({e}): {json}"),
    }
}

#[test]
fn boundaries_intersect_identity_policies() {
    let rows = [
        Row {
            name: "no boundary: identity alone",
            identity: &[ALLOW_GET],
            boundary: None,
            bucket: None,
            expected: Allowed,
            boundary_allows: None,
            matched: &[(0, "Get")],
        },
        Row {
            name: "identity and boundary allow",
            identity: &[ALLOW_GET],
            boundary: Some(ALLOW_S3),
            bucket: None,
            expected: Allowed,
            boundary_allows: Some(true),
            matched: &[(0, "Get"), (2, "S3")],
        },
        Row {
            name: "boundary silent",
            identity: &[ALLOW_GET],
            boundary: Some(ALLOW_PUT),
            bucket: None,
            expected: ImplicitDeny,
            boundary_allows: Some(false),
            matched: &[],
        },
        Row {
            name: "boundary allows, identity silent",
            identity: &[ALLOW_PUT],
            boundary: Some(ALLOW_GET),
            bucket: None,
            expected: ImplicitDeny,
            boundary_allows: Some(true),
            matched: &[],
        },
        Row {
            name: "no identity policy at all",
            identity: &[],
            boundary: Some(ALLOW_S3),
            bucket: None,
            expected: ImplicitDeny,
            boundary_allows: Some(true),
            matched: &[],
        },
        Row {
            name: "explicit deny in the boundary",
            identity: &[ALLOW_GET],
            boundary: Some(DENY_GET),
            bucket: None,
            expected: ExplicitDeny,
            boundary_allows: Some(false),
            matched: &[(2, "NoGet")],
        },
        Row {
            name: "explicit deny in identity",
            identity: &[DENY_GET],
            boundary: Some(ALLOW_S3),
            bucket: None,
            expected: ExplicitDeny,
            boundary_allows: Some(true),
            matched: &[(0, "NoGet")],
        },
        Row {
            name: "bucket policy naming the user grants past a silent boundary",
            identity: &[],
            boundary: Some(ALLOW_PUT),
            bucket: Some(BUCKET_NAMES_ALICE),
            expected: Allowed,
            boundary_allows: Some(false),
            matched: &[(0, "Alice")],
        },
        Row {
            name: "bucket policy naming the user does not pass a boundary's deny",
            identity: &[],
            boundary: Some(DENY_GET),
            bucket: Some(BUCKET_NAMES_ALICE),
            expected: ExplicitDeny,
            boundary_allows: Some(false),
            matched: &[(1, "NoGet")],
        },
        Row {
            name: "bucket policy for everyone does not grant past the boundary",
            identity: &[],
            boundary: Some(ALLOW_PUT),
            bucket: Some(BUCKET_EVERYONE),
            expected: ImplicitDeny,
            boundary_allows: Some(false),
            matched: &[],
        },
        Row {
            name: "bucket policy for everyone adds to an allowed request",
            identity: &[ALLOW_GET],
            boundary: Some(ALLOW_GET),
            bucket: Some(BUCKET_EVERYONE),
            expected: Allowed,
            boundary_allows: Some(true),
            matched: &[(0, "Get"), (2, "Get"), (1, "All")],
        },
        Row {
            name: "account principal delegates to identity, which the boundary cuts",
            identity: &[ALLOW_GET],
            boundary: Some(ALLOW_PUT),
            bucket: Some(BUCKET_ACCOUNT),
            expected: ImplicitDeny,
            boundary_allows: Some(false),
            matched: &[],
        },
        Row {
            name: "bucket deny beats identity and boundary",
            identity: &[ALLOW_GET],
            boundary: Some(ALLOW_GET),
            bucket: Some(BUCKET_DENY_ALICE),
            expected: ExplicitDeny,
            boundary_allows: Some(true),
            matched: &[(1, "NoAlice")],
        },
    ];
    for row in rows {
        let context = Context::new();
        let request = Request {
            action: "s3:GetObject",
            resource: "arn:aws:s3:::b/k",
            caller: Some(ALICE),
            context: &context,
        };
        let identity: Vec<CompiledPolicy> = row
            .identity
            .iter()
            .map(|j| compile(j, PolicyKind::Identity))
            .collect();
        let identity: Vec<&CompiledPolicy> = identity.iter().collect();
        let boundary = row.boundary.map(|j| compile(j, PolicyKind::Identity));
        let bucket = row.bucket.map(|j| compile(j, PolicyKind::Resource));
        let (evaluation, boundary_allows) =
            evaluate_bounded(&identity, boundary.as_ref(), bucket.as_ref(), &request);
        assert_eq!(evaluation.decision, row.expected, "{}", row.name);
        assert_eq!(boundary_allows, row.boundary_allows, "{}", row.name);
        let matched: Vec<(usize, &str)> = evaluation
            .matched
            .iter()
            .map(|m| (m.policy, m.sid.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(matched, row.matched, "{}", row.name);
        if row.boundary.is_none() {
            assert_eq!(
                evaluation,
                evaluate(&identity, bucket.as_ref(), &request),
                "{}",
                row.name
            );
        }
    }
}
