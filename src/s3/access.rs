//! Authorization on the S3 port: the permissions an operation needs (`actions::needed`), the
//! request's condition keys (the global ones plus S3's), and the bucket policy of each bucket
//! a permission names, decided by `authz::Authorizer`.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html>
//!
//! Denials are 403 AccessDenied with S3's plain "Access Denied": the message names neither
//! the policy nor whether the bucket or key exists.

use std::net::SocketAddr;
use std::time::SystemTime;

use http::request;

use super::actions::{self, Needed, Target};
use super::auth::Signed;
use super::copy;
use super::error::{Code, S3Error, S3Result};
use super::router::{Operation, Route};
use super::version::Version;
use crate::auth::Caller;
use crate::authz::{context, Authorizer};
use crate::policy::eval::Context;
use crate::state::State;

/// What a request may do: the authorizer for its caller and keys, and the bucket policies.
pub(crate) struct Access<'a> {
    state: &'a State,
    authorizer: Authorizer<'a>,
}

impl Access<'_> {
    /// Whether the caller may perform `action` on `resource` (an S3 ARN), under the identity
    /// policies and the policy of the bucket the ARN names.
    pub fn allows(&self, action: &str, resource: &str) -> bool {
        let policy = bucket_of(resource).and_then(|b| self.state.objects.bucket_policy(b));
        // The root may always manage a bucket's policy, so that a policy that denies
        // everyone cannot lock the account out of its own bucket.
        let policy = policy.filter(|_| !(self.authorizer.is_root() && is_policy_action(action)));
        self.authorizer
            .allows(action, resource, policy.as_deref().map(|p| &p.compiled))
    }

    /// Checks every permission the request needs; the first one refused refuses the request.
    pub fn require(&self, needs: &[Needed]) -> S3Result<()> {
        match needs.iter().all(|n| self.allows(n.action, &n.resource)) {
            true => Ok(()),
            false => Err(denied()),
        }
    }
}

pub(crate) fn denied() -> S3Error {
    S3Error::new(Code::AccessDenied, "Access Denied")
}

fn is_policy_action(action: &str) -> bool {
    matches!(
        action,
        "s3:GetBucketPolicy" | "s3:PutBucketPolicy" | "s3:DeleteBucketPolicy"
    )
}

/// The bucket an S3 ARN names: `arn:aws:s3:::bucket` or `arn:aws:s3:::bucket/key`.
fn bucket_of(resource: &str) -> Option<&str> {
    let rest = resource.strip_prefix("arn:aws:s3:::")?;
    let bucket = rest.split_once('/').map_or(rest, |(bucket, _)| bucket);
    (!bucket.is_empty() && bucket != "*").then_some(bucket)
}

/// Authorizes `route` for the authenticated caller (or anonymous), returning what later
/// per-key checks (DeleteObjects) need.
pub(crate) fn authorize<'a>(
    state: &'a State,
    route: &Route,
    version: &Version,
    parts: &request::Parts,
    caller: Option<&'a Caller>,
    signed: Option<Signed>,
    peer: SocketAddr,
) -> S3Result<Access<'a>> {
    let account = state.config.backend.iam.account_id.as_str();
    let origin = context::origin(peer, &parts.headers, &state.trusted_proxies);
    let mut context = context::global(caller, account, &origin, SystemTime::now());
    s3_keys(&mut context, route, version, parts, signed);
    let access = Access {
        state,
        authorizer: Authorizer::new(caller, account, context),
    };
    let source = match route.operation {
        Operation::CopyObject | Operation::UploadPartCopy => {
            // An unreadable source is the handler's InvalidArgument; the destination is
            // still checked first, so that error says nothing to a caller without access.
            copy::copy_source(&parts.headers).ok()
        }
        _ => None,
    };
    let bucket = route.bucket.as_deref().unwrap_or_default();
    let key = route.key.as_deref().unwrap_or_default();
    let object = Target {
        bucket,
        key,
        version_named: version.is_named(),
    };
    let source = source.as_ref().map(|s| Target {
        bucket: &s.bucket,
        key: &s.key,
        version_named: s.version.is_named(),
    });
    access.require(&actions::needed(route.operation, &object, source.as_ref()))?;
    Ok(access)
}

/// The S3 condition keys a request carries: how it was signed, its `x-amz-acl` and
/// `x-amz-content-sha256`, the `versionId` it names, and for listings their `prefix`,
/// `delimiter` and `max-keys`, read from the route's parsed query: the very values the
/// handler will act on. A key is present only when the request says it: a listing without
/// `prefix` has no `s3:prefix`, so an `s3:prefix` condition never matches a request that did
/// not ask.
fn s3_keys(
    context: &mut Context,
    route: &Route,
    version: &Version,
    parts: &request::Parts,
    signed: Option<Signed>,
) {
    if let Some(signed) = signed {
        context
            .set("s3:signatureversion", [signed.version()])
            .set("s3:authType", [signed.auth_type()]);
    }
    for (header, key) in [
        ("x-amz-content-sha256", "s3:x-amz-content-sha256"),
        ("x-amz-acl", "s3:x-amz-acl"),
    ] {
        if let Some(value) = parts.headers.get(header).and_then(|v| v.to_str().ok()) {
            context.set(key, [value.trim()]);
        }
    }
    if let Some(id) = version.header() {
        context.set("s3:versionid", [id]);
    }
    if matches!(
        route.operation,
        Operation::ListObjects | Operation::ListObjectsV2
    ) {
        for (param, key) in [
            ("prefix", "s3:prefix"),
            ("delimiter", "s3:delimiter"),
            ("max-keys", "s3:max-keys"),
        ] {
            if let Some(value) = route.query.get(param) {
                context.set(key, [value]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_of_arns() {
        assert_eq!(bucket_of("arn:aws:s3:::b"), Some("b"));
        assert_eq!(bucket_of("arn:aws:s3:::b/k/x"), Some("b"));
        assert_eq!(bucket_of("arn:aws:s3:::*"), None);
        assert_eq!(bucket_of("arn:aws:iam::1:user/a"), None);
    }
}
