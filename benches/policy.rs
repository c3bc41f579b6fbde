//! Policy evaluation cost per decision: a user with three attached policies of ten statements
//! each (actions with and without wildcards, resource patterns, a policy variable, a few
//! conditions), asked for an allowed, an explicitly denied and an implicitly denied request.
//!
//! A second benchmark measures the whole request-path decision: building the request's
//! condition keys for the caller, the authorizer, and the decision.
//!
//! Run with `cargo bench --bench policy`. Compilation is outside the measured loop: the
//! server compiles a policy once, when it is attached or changed, not per request.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion};
use labstore::auth;
use labstore::authz::context::{self, Origin};
use labstore::authz::Authorizer;
use labstore::iam_store::view::{PolicyEntry, PolicySource, Principal};
use labstore::policy::document::{parse, PolicyKind};
use labstore::policy::eval::{evaluate, Caller, CompiledPolicy, Context, Decision, Request};

/// Day-to-day access: the data bucket, a home folder, logs and shared objects.
const DATA: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
   "Resource": "arn:aws:s3:::data/*"},
  {"Sid": "Upload", "Effect": "Allow", "Action": "s3:PutObject",
   "Resource": "arn:aws:s3:::data/uploads/*"},
  {"Sid": "List", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::data",
   "Condition": {"StringLike": {"s3:prefix": ["", "uploads/*", "home/${aws:username}/*"]}}},
  {"Sid": "Home", "Effect": "Allow", "Action": "s3:*",
   "Resource": "arn:aws:s3:::data/home/${aws:username}/*"},
  {"Sid": "Console", "Effect": "Allow",
   "Action": ["s3:GetBucketLocation", "s3:ListAllMyBuckets"], "Resource": "*"},
  {"Sid": "Logs", "Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::logs-*/2024/*"},
  {"Sid": "Tags", "Effect": "Allow", "Action": "s3:PutObjectTagging",
   "Resource": "arn:aws:s3:::data/tags/*"},
  {"Sid": "Multipart", "Effect": "Allow",
   "Action": ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
   "Resource": "arn:aws:s3:::data/uploads/*"},
  {"Sid": "Shared", "Effect": "Allow", "Action": "s3:GetObjectAcl",
   "Resource": "arn:aws:s3:::shared/*"},
  {"Sid": "Uploads", "Effect": "Allow", "Action": "s3:ListBucketMultipartUploads",
   "Resource": "arn:aws:s3:::data"}
]}"#;

/// Guardrails: every statement a Deny, so every one is checked on every request.
const GUARDRAILS: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "NoBucketDelete", "Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
  {"Sid": "NoSecret", "Effect": "Deny", "Action": "s3:*",
   "Resource": ["arn:aws:s3:::secret", "arn:aws:s3:::secret/*"]},
  {"Sid": "TlsWrites", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*",
   "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
  {"Sid": "KeepArchive", "Effect": "Deny", "Action": "s3:DeleteObject",
   "Resource": "arn:aws:s3:::data/archive/*"},
  {"Sid": "NoPolicyEdits", "Effect": "Deny",
   "Action": ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"], "Resource": "*"},
  {"Sid": "NoIam", "Effect": "Deny", "Action": "iam:*", "Resource": "*"},
  {"Sid": "Private", "Effect": "Deny", "Action": "s3:GetObject",
   "Resource": "arn:aws:s3:::data/private/*"},
  {"Sid": "Lifecycle", "Effect": "Deny", "Action": "s3:PutLifecycleConfiguration", "Resource": "*"},
  {"Sid": "Versioning", "Effect": "Deny", "Action": "s3:PutBucketVersioning", "Resource": "*"},
  {"Sid": "OfficeHours", "Effect": "Deny", "Action": "s3:Delete*", "Resource": "*",
   "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}}
]}"#;

/// Team buckets, with wildcards of every shape and two conditions.
const TEAMS: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "TeamA", "Effect": "Allow", "Action": "s3:*",
   "Resource": ["arn:aws:s3:::team-a", "arn:aws:s3:::team-a/*"]},
  {"Sid": "TeamBRead", "Effect": "Allow", "Action": ["s3:Get*", "s3:List*"],
   "Resource": "arn:aws:s3:::team-b*"},
  {"Sid": "TeamBWrite", "Effect": "Allow", "Action": "s3:PutObject",
   "Resource": "arn:aws:s3:::team-b/incoming/*"},
  {"Sid": "Public", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::public-*/*"},
  {"Sid": "Reports", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::reports",
   "Condition": {"StringEquals": {"s3:prefix": "2024/"}}},
  {"Sid": "Csv", "Effect": "Allow", "Action": "s3:GetObject",
   "Resource": "arn:aws:s3:::reports/2024/??/*.csv"},
  {"Sid": "Internal", "Effect": "Allow", "Action": "s3:GetObject",
   "Resource": "arn:aws:s3:::internal/*",
   "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}}},
  {"Sid": "ScratchWrite", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::scratch/*"},
  {"Sid": "ScratchDelete", "Effect": "Allow", "Action": "s3:DeleteObject",
   "Resource": "arn:aws:s3:::scratch/*"},
  {"Sid": "Media", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::media/*.jpg"}
]}"#;

const ALICE: Caller<'static> = Caller {
    arn: "arn:aws:iam::111122223333:user/alice",
    account: "111122223333",
    is_root: false,
    role_arn: None,
};

fn compile(json: &str) -> CompiledPolicy {
    match parse(json, PolicyKind::Identity) {
        Ok(doc) => CompiledPolicy::compile(&doc),
        Err(e) => panic!("benchmark policy refused: {e}"),
    }
}

/// What the S3 front end would collect for a signed HTTPS request.
fn request_context() -> Context {
    let mut context = Context::new();
    context
        .set("aws:username", ["alice"])
        .set("aws:userid", ["AIDAEXAMPLEALICE"])
        .set("aws:PrincipalType", ["User"])
        .set("aws:SecureTransport", ["true"])
        .set("aws:SourceIp", ["10.1.2.3"])
        .set("aws:CurrentTime", ["2025-03-01T12:00:00Z"])
        .set("aws:EpochTime", ["1740830400"]);
    context
}

fn decisions(c: &mut Criterion) {
    let policies = [compile(DATA), compile(GUARDRAILS), compile(TEAMS)];
    let identity: Vec<&CompiledPolicy> = policies.iter().collect();
    let context = request_context();
    let cases = [
        (
            "allowed",
            "arn:aws:s3:::reports/2024/03/sales.csv",
            Decision::Allowed,
        ),
        (
            "explicit_deny",
            "arn:aws:s3:::data/private/payroll.csv",
            Decision::ExplicitDeny,
        ),
        (
            "implicit_deny",
            "arn:aws:s3:::elsewhere/file.txt",
            Decision::ImplicitDeny,
        ),
    ];
    let mut group = c.benchmark_group("evaluate_3x10_statements");
    for (name, resource, expected) in cases {
        let request = Request {
            action: "s3:GetObject",
            resource,
            caller: Some(ALICE),
            context: &context,
        };
        // A benchmark of the wrong answer measures nothing.
        assert_eq!(
            evaluate(&identity, None, &request).decision,
            expected,
            "{name}"
        );
        group.bench_function(name, |b| {
            b.iter(|| evaluate(black_box(&identity), None, black_box(&request)))
        });
    }
    group.finish();
}

/// The whole per-request cost on the request path: the global context keys built for the
/// caller (`authz::context::global`), the authorizer, and one decision.
fn authorize_request(c: &mut Criterion) {
    let policies = [DATA, GUARDRAILS, TEAMS]
        .iter()
        .enumerate()
        .map(|(i, json)| PolicyEntry {
            source: PolicySource::UserAttached {
                policy: format!("policy-{i}"),
                aws: false,
            },
            document: Arc::from(*json),
            compiled: Arc::new(compile(json)),
        })
        .collect();
    let principal = Arc::new(Principal {
        id: "AIDAEXAMPLEALICE".into(),
        name: "alice".into(),
        path: "/".into(),
        arn: ALICE.arn.into(),
        groups: Vec::new(),
        policies,
        boundary: None,
    });
    let caller = auth::Caller::User {
        access_key: "AKIAEXAMPLE".into(),
        principal,
        session: None,
    };
    let origin = Origin {
        source_ip: "10.1.2.3".parse().unwrap(),
        secure: true,
    };
    let now = SystemTime::now();
    let decide = || {
        let context = context::global(Some(&caller), ALICE.account, &origin, now);
        let authorizer = Authorizer::new(Some(&caller), ALICE.account, context);
        authorizer.allows(
            "s3:GetObject",
            "arn:aws:s3:::reports/2024/03/sales.csv",
            None,
        )
    };
    assert!(decide());
    c.bench_function("authorize_request_3x10_statements", |b| {
        b.iter(|| black_box(decide()))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = decisions, authorize_request
}
criterion_main!(benches);
