//! Authorization on the S3 port: the permissions an operation needs (`actions::needed`), the
//! request's condition keys (the global ones plus S3's), and the bucket policy of each bucket
//! a permission names, decided by `authz::Authorizer`.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html>
//!
//! Denials are 403 AccessDenied with S3's plain "Access Denied": the message names neither
//! the policy nor whether the bucket or key exists.
//!
//! Tag condition keys. `s3:RequestObjectTag/<key>` and `s3:RequestObjectTagKeys` come from
//! `x-amz-tagging` (PutObject, CopyObject, CreateMultipartUpload): a header, known here. Two
//! kinds of key need I/O, so the decision is deferred from the skeleton's authorize step to
//! the start of dispatch (`Access::complete`), before any handler runs:
//! - `s3:ExistingObjectTag/<key>`, the tags of the object a read, ACL or tagging request
//!   addresses (or a copy's source): read from the index only when a policy in play (the
//!   caller's, or the bucket policy of a bucket the request names) reads such a key. Without
//!   one, the key could change no decision, and the request costs no extra read.
//! - PutObjectTagging's tags, which are in its body: the body (small, bounded) is read,
//!   verified and checked first. A body that fails its checks is reported only to a caller
//!   that the request's other keys already allow; anyone else gets AccessDenied.
//! - PutObjectRetention's and PutObjectLegalHold's Object Lock keys
//!   (`s3:object-lock-mode`, `s3:object-lock-retain-until-date`,
//!   `s3:object-lock-remaining-retention-days`, `s3:object-lock-legal-hold`), also in their
//!   bodies: read, verified and handed to the handler the same way. The writes that carry
//!   them as headers (PutObject, CopyObject, CreateMultipartUpload) set them here.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::SystemTime;

use http::request;

use bytes::Bytes;

use super::acl;
use super::actions::{self, Needed, Target};
use super::auth::Signed;
use super::body::read_small;
use super::body::BodyReader;
use super::copy;
use super::error::{Code, S3Error, S3Result};
use super::object;
use super::object_lock::{self, LockBody};
use super::router::{Operation, Route};
use super::tagging::{self, Tagged};
use super::version::Version;
use super::xml::Owner;
use crate::auth::Caller;
use crate::authz::{context, Authorizer};
use crate::objects::{Acl, AclPermission, PublicAccessSettings, Tags};
use crate::policy::eval::{Context, Decision};
use crate::state::State;

/// What a request may do: the authorizer for its caller and keys, the bucket policies, and
/// the ACLs of buckets whose ACLs are enabled.
pub(crate) struct Access<'a> {
    state: &'a State,
    authorizer: Authorizer<'a>,
    /// The permissions still to check once the keys that need I/O are known (tag keys).
    pending: Option<Pending>,
    /// Object permissions no policy granted that the object's ACL still may: the handler
    /// decides them when it reads the object (`check_object_acl`), since ACLs of objects live
    /// in their rows and authorization reads no SQLite. The request skeleton refuses a
    /// response whose deferred permissions were never decided.
    deferred: Mutex<Vec<Deferred>>,
    /// Where the request comes from, for a decision made again as another caller (a browser
    /// form upload, whose signer is known only from its body).
    origin: context::Origin,
}

/// A permission left to the object's ACL.
#[derive(Debug)]
struct Deferred {
    action: &'static str,
    bucket: String,
    key: String,
    decided: bool,
}

/// What policies (and the bucket's ACL) say about one permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Allowed,
    /// An explicit Deny: nothing else can allow it.
    Denied,
    /// Nothing allowed it; an object's ACL still may.
    NotAllowed,
}

/// A decision left to `Access::complete`: the permissions, and what to read first.
struct Pending {
    needs: Vec<Needed>,
    /// What the request's ACL headers need besides (`s3:PutObjectAcl`).
    header_needs: Vec<Needed>,
    /// Whether what no policy allows may still be left to the object's ACL.
    deferrable: bool,
    /// The object whose tags are `s3:ExistingObjectTag/<key>`.
    existing: Option<(String, String, Version)>,
    /// PutObjectTagging: the body's tags are `s3:RequestObjectTag/<key>`.
    body_tags: bool,
    /// PutObjectRetention, PutObjectLegalHold: the body's Object Lock keys.
    lock_body: Option<LockBody>,
}

/// What `Access::complete` read for the handler: PutObjectTagging's tags, checked; the
/// Object Lock body of PutObjectRetention or PutObjectLegalHold, verified.
#[derive(Default)]
pub(crate) struct Completed {
    pub tags: Option<Tags>,
    pub lock_body: Option<Bytes>,
}

/// The prefix of the keys that name an existing object's tags.
const EXISTING_OBJECT_TAG: &str = "s3:ExistingObjectTag/";

impl Access<'_> {
    /// Whether the caller may perform `action` on `resource` (an S3 ARN), under the identity
    /// policies, the policy of the bucket the ARN names, and that bucket's ACL (not the
    /// object's: see `require`).
    pub fn allows(&self, action: &str, resource: &str) -> bool {
        let verdict = self.verdict(action, resource);
        if verdict != Verdict::Allowed {
            self.log_denial(action, resource, verdict);
        }
        verdict == Verdict::Allowed
    }

    fn verdict(&self, action: &str, resource: &str) -> Verdict {
        let bucket = bucket_of(resource).and_then(|b| self.state.objects.bucket_state(b));
        let policy = bucket.as_ref().and_then(|b| b.configs.policy.clone());
        // The root may always manage a bucket's policy, so that a policy that denies
        // everyone cannot lock the account out of its own bucket.
        let policy = policy.filter(|_| !(self.authorizer.is_root() && is_policy_action(action)));
        let evaluation =
            self.authorizer
                .evaluate(action, resource, policy.as_deref().map(|p| &p.compiled));
        let settings = bucket
            .as_deref()
            .map(acl::public_access)
            .unwrap_or_default();
        match evaluation.decision {
            Decision::ExplicitDeny => return Verdict::Denied,
            // An anonymous caller's Allow can only come from the bucket policy; a public one
            // reaches no anonymous caller under RestrictPublicBuckets.
            Decision::Allowed
                if self.authorizer.caller().is_none()
                    && settings.restrict_public_buckets
                    && policy.as_ref().is_some_and(|p| p.public) =>
            {
                crate::audit::decided(action, resource, false, || {
                    "Block Public Access (RestrictPublicBuckets) sets aside the public bucket policy"
                        .to_owned()
                });
            }
            Decision::Allowed => return Verdict::Allowed,
            Decision::ImplicitDeny => {}
        }
        let granted = bucket.as_deref().is_some_and(|b| {
            acl::ownership(b).acls_enabled()
                && acl::bucket_permission(action).is_some_and(|permission| {
                    let bucket_acl = b.configs.acl.as_ref().map(|a| &a.acl);
                    self.acl_grants(bucket_acl, permission, settings)
                })
        });
        if granted {
            crate::audit::decided(action, resource, true, || "bucket ACL".to_owned());
        }
        match granted {
            true => Verdict::Allowed,
            false => Verdict::NotAllowed,
        }
    }

    /// Whether `acl` (`None`: the default, the owner's FULL_CONTROL) grants the caller
    /// `permission`.
    fn acl_grants(
        &self,
        acl: Option<&Acl>,
        permission: AclPermission,
        settings: PublicAccessSettings,
    ) -> bool {
        let owner = self.owner_id();
        let caller = self.authorizer.caller();
        let default;
        let acl = match acl {
            Some(acl) => acl,
            None => {
                default = Acl::private(&owner);
                &default
            }
        };
        acl::grants(acl, permission, caller, &owner, settings.ignore_public_acls)
    }

    fn owner_id(&self) -> String {
        Owner::of(&self.state.config.backend.iam.account_id).id
    }

    /// Checks every permission the request needs; the first one refused refuses the request.
    /// A permission on an object that only its ACL could grant (`deferrable`) is left for the
    /// handler, which reads the object.
    pub fn require(&self, needs: &[Needed], deferrable: bool) -> S3Result<()> {
        for need in needs {
            match self.verdict(need.action, &need.resource) {
                Verdict::Allowed => {}
                Verdict::NotAllowed if deferrable => match self.deferrable(need) {
                    Some(deferred) => self.lock().push(deferred),
                    None => return Err(self.refuse(need, Verdict::NotAllowed)),
                },
                verdict => return Err(self.refuse(need, verdict)),
            }
        }
        Ok(())
    }

    /// The permission as one the object's ACL may grant: an object action (`s3:GetObject`,
    /// the ACL actions) on an object of a bucket whose ACLs are enabled.
    fn deferrable(&self, need: &Needed) -> Option<Deferred> {
        acl::object_permission(need.action)?;
        let rest = need.resource.strip_prefix("arn:aws:s3:::")?;
        let (bucket, key) = rest.split_once('/')?;
        let state = self.state.objects.bucket_state(bucket)?;
        acl::ownership(&state).acls_enabled().then(|| Deferred {
            action: need.action,
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            decided: false,
        })
    }

    /// Decides the permissions left to the ACL of the object at (bucket, key), now read:
    /// `AccessDenied` unless its ACL grants each. A request with none left passes.
    pub fn check_object_acl(&self, bucket: &str, key: &str, acl: Option<&Acl>) -> S3Result<()> {
        let state = self.state.objects.bucket_state(bucket);
        let settings = state.as_deref().map(acl::public_access).unwrap_or_default();
        let enabled = state
            .as_deref()
            .is_some_and(|b| acl::ownership(b).acls_enabled());
        let mut deferred = self.lock();
        for d in deferred
            .iter_mut()
            .filter(|d| !d.decided && d.bucket == bucket && d.key == key)
        {
            d.decided = true;
            let granted = enabled
                && acl::object_permission(d.action)
                    .is_some_and(|p| self.acl_grants(acl, p, settings));
            if crate::audit::active() {
                let resource = actions::object_arn(bucket, key);
                crate::audit::decided(d.action, &resource, granted, || match granted {
                    true => "object ACL".to_owned(),
                    false => "no statement allows, and the object's ACL grants nothing".to_owned(),
                });
            }
            if !granted {
                let resource = actions::object_arn(bucket, key);
                self.log_denial(d.action, &resource, Verdict::NotAllowed);
                return Err(denied());
            }
        }
        Ok(())
    }

    /// Whether a permission was left to an object's ACL and never decided: the handler did
    /// not read that object. The skeleton refuses the response then.
    pub fn undecided(&self) -> bool {
        self.lock().iter().any(|d| !d.decided)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Deferred>> {
        // Every change is one push or one flag: a panic leaves nothing half-done.
        self.deferred
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn refuse(&self, need: &Needed, verdict: Verdict) -> S3Error {
        self.log_denial(need.action, &need.resource, verdict);
        denied()
    }

    fn log_denial(&self, action: &str, resource: &str, verdict: Verdict) {
        tracing::info!(
            caller = self.authorizer.caller().map_or("anonymous", Caller::arn),
            action,
            resource,
            decision = ?verdict,
            "request denied by policy"
        );
    }

    /// Whether a policy that may decide `needs` reads a key starting with `prefix`: one of
    /// the caller's identity policies or permissions boundary, or the policy of a bucket a
    /// permission names.
    fn policies_read(&self, prefix: &str, needs: &[Needed]) -> bool {
        let identity = self.authorizer.identity().iter();
        identity
            .copied()
            .chain(self.authorizer.boundary())
            .any(|p| p.reads_keys_starting_with(prefix))
            || needs
                .iter()
                .filter_map(|n| bucket_of(&n.resource))
                .any(|bucket| {
                    self.state
                        .objects
                        .bucket_policy(bucket)
                        .is_some_and(|p| p.compiled.reads_keys_starting_with(prefix))
                })
    }

    /// Makes a deferred decision (see the module comment): reads what its keys need, adds
    /// them, and checks the permissions. Returns PutObjectTagging's tag set, read from the
    /// body and checked, for its handler. Nothing happens for a request decided already.
    pub async fn complete(
        &mut self,
        reader: &mut BodyReader,
        headers: &http::HeaderMap,
    ) -> S3Result<Completed> {
        let Some(pending) = self.pending.take() else {
            return Ok(Completed::default());
        };
        if let Some((bucket, key, version)) = pending.existing {
            if let Some(tags) = self.state.objects.object_tags(bucket, key, version).await? {
                set_tag_keys(self.authorizer.context_mut(), EXISTING_OBJECT_TAG, &tags);
            }
        }
        let mut body_tags = None;
        if pending.body_tags {
            match tagging::read_tagging(reader, headers, Tagged::Object).await {
                Ok(tags) => {
                    set_request_tag_keys(self.authorizer.context_mut(), &tags);
                    body_tags = Some(tags);
                }
                Err(e) => {
                    // Only a caller allowed without the body's keys learns what is wrong
                    // with the body.
                    self.require(&pending.needs, pending.deferrable)?;
                    return Err(e);
                }
            }
        }
        let mut lock_body = None;
        if let Some(kind) = pending.lock_body {
            let read = async {
                let want = object::expected(headers)?;
                let body = read_small(reader, 64 * 1024).await?;
                object::check_whole_body(&body, &want, reader.trailers())?;
                let now = crate::objects::now_ms();
                object_lock::body_condition_keys(self.authorizer.context_mut(), kind, &body, now)?;
                Ok::<_, S3Error>(body)
            };
            match read.await {
                Ok(body) => lock_body = Some(body),
                Err(e) => {
                    // As for the tags: only a caller allowed without the body's keys learns
                    // what is wrong with the body.
                    self.require(&pending.needs, pending.deferrable)?;
                    return Err(e);
                }
            }
        }
        self.require(&pending.needs, pending.deferrable)?;
        self.require(&pending.header_needs, false)?;
        Ok(Completed {
            tags: body_tags,
            lock_body,
        })
    }
}

/// `<prefix><key>` for each tag. Keys differing only in ASCII case share one context key
/// (keys are looked up case-insensitively), which then holds all their values, so that
/// neither hides the other from a condition.
fn set_tag_keys(context: &mut Context, prefix: &str, tags: &Tags) {
    let mut keys: Vec<(String, Vec<&str>)> = Vec::with_capacity(tags.len());
    for (key, value) in tags {
        let name = format!("{prefix}{key}");
        match keys.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(&name)) {
            Some((_, values)) => values.push(value),
            None => keys.push((name, vec![value.as_str()])),
        }
    }
    for (name, values) in keys {
        context.set(&name, values);
    }
}

/// `s3:RequestObjectTag/<key>` for each tag the request sets, and `s3:RequestObjectTagKeys`,
/// multivalued, the keys (absent when it sets none).
fn set_request_tag_keys(context: &mut Context, tags: &Tags) {
    set_tag_keys(context, "s3:RequestObjectTag/", tags);
    if !tags.is_empty() {
        context.set(
            "s3:RequestObjectTagKeys",
            tags.iter().map(|(k, _)| k.as_str()),
        );
    }
}

/// The object whose existing tags are condition keys of `operation`, as AWS lists
/// `s3:ExistingObjectTag/<key>`: the reads, ACL and tagging operations on an object, and a
/// copy's source (read with `s3:GetObject`). Never PutObject or DeleteObject (AWS: "not
/// supported"), and nothing on a bucket.
fn existing_object<'r>(
    operation: Operation,
    object: (&Target<'r>, &Version),
    source: Option<(&Target<'r>, &Version)>,
) -> Option<(String, String, Version)> {
    let target = match operation {
        Operation::GetObject
        | Operation::HeadObject
        | Operation::GetObjectAcl
        | Operation::PutObjectAcl
        | Operation::GetObjectTagging
        | Operation::PutObjectTagging
        | Operation::DeleteObjectTagging => Some(object),
        Operation::CopyObject | Operation::UploadPartCopy => source,
        _ => None,
    }?;
    Some((
        target.0.bucket.to_owned(),
        target.0.key.to_owned(),
        target.1.clone(),
    ))
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
    let origin = context::origin(
        peer,
        &parts.headers,
        &state.trusted_proxies,
        crate::http::over_tls(&parts.extensions),
    );
    let mut context = context::global(caller, account, &origin, SystemTime::now());
    s3_keys(&mut context, route, version, parts, signed);
    let mut access = Access {
        state,
        authorizer: Authorizer::new(caller, account, context),
        pending: None,
        deferred: Mutex::new(Vec::new()),
        origin,
    };
    let copy_source = match route.operation {
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
    let source = copy_source.as_ref().map(|s| Target {
        bucket: &s.bucket,
        key: &s.key,
        version_named: s.version.is_named(),
    });
    let needs = actions::needed(route.operation, &object, source.as_ref());
    // Only the operations whose handlers read the object (or the copy source) can decide
    // what its ACL grants, and only for the permissions their rows name.
    let deferrable = matches!(
        route.operation,
        Operation::GetObject
            | Operation::HeadObject
            | Operation::GetObjectAcl
            | Operation::PutObjectAcl
            | Operation::CopyObject
            | Operation::UploadPartCopy
    );
    let header_needs = acl::needed_for_headers(route.operation, &object, &parts.headers);
    let source_version = copy_source.as_ref().map(|s| &s.version);
    let existing = existing_object(
        route.operation,
        (&object, version),
        source.as_ref().zip(source_version),
    )
    .filter(|_| access.policies_read(EXISTING_OBJECT_TAG, &needs));
    let body_tags = route.operation == Operation::PutObjectTagging;
    let lock_body = match route.operation {
        Operation::PutObjectRetention => Some(LockBody::Retention),
        Operation::PutObjectLegalHold => Some(LockBody::LegalHold),
        _ => None,
    };
    if existing.is_some() || body_tags || lock_body.is_some() {
        access.pending = Some(Pending {
            needs,
            header_needs,
            deferrable,
            existing,
            body_tags,
            lock_body,
        });
        return Ok(access);
    }
    access.require(&needs, deferrable)?;
    access.require(&header_needs, false)?;
    Ok(access)
}

/// How a browser form upload was signed: SigV4 or SigV2 (`None`: anonymous, no policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FormSignature {
    V4,
    V2,
}

impl Access<'_> {
    /// Whether the client spoke TLS (through a trusted proxy that says so).
    pub fn secure(&self) -> bool {
        self.origin.secure
    }

    /// Authorizes a browser form upload (PostObject) of `bucket`/`key` as the form's signer
    /// (`None`: anonymous), as PutObject is authorized: `s3:PutObject` on the object, and
    /// `s3:PutObjectAcl` for an ACL beyond the owner's, under the same condition keys, with
    /// the form's fields as the headers they stand for (`acl` as `x-amz-acl`) and `tags`
    /// (from its `tagging` field) as the request's tags. `s3:authType` is `POST`.
    pub fn for_form<'b>(
        &self,
        caller: Option<&'b Caller>,
        signature: Option<FormSignature>,
        (bucket, key): (&str, &str),
        headers: &http::HeaderMap,
        tags: &Tags,
    ) -> S3Result<Access<'b>>
    where
        Self: 'b,
    {
        let state: &'b State = self.state;
        let account = state.config.backend.iam.account_id.as_str();
        let mut context = context::global(caller, account, &self.origin, SystemTime::now());
        if let Some(signature) = signature {
            let version = match signature {
                FormSignature::V4 => "AWS4-HMAC-SHA256",
                FormSignature::V2 => "AWS",
            };
            context
                .set("s3:signatureversion", [version])
                .set("s3:authType", ["POST"]);
        }
        for name in ACL_KEY_HEADERS {
            if let Some(value) = headers.get(name).and_then(|v| v.to_str().ok()) {
                context.set(&format!("s3:{name}"), [value.trim()]);
            }
        }
        if !tags.is_empty() {
            set_request_tag_keys(&mut context, tags);
        }
        object_lock::header_condition_keys(&mut context, headers, crate::objects::now_ms());
        let access = Access {
            state,
            authorizer: Authorizer::new(caller, account, context),
            pending: None,
            deferred: Mutex::new(Vec::new()),
            origin: self.origin,
        };
        let object = Target {
            bucket,
            key,
            version_named: false,
        };
        access.require(&actions::needed(Operation::PutObject, &object, None), false)?;
        access.require(
            &acl::needed_for_headers(Operation::PutObject, &object, headers),
            false,
        )?;
        Ok(access)
    }
}

/// The headers whose values are the ACL condition keys `s3:<header>`.
const ACL_KEY_HEADERS: [&str; 6] = [
    "x-amz-acl",
    "x-amz-grant-read",
    "x-amz-grant-write",
    "x-amz-grant-read-acp",
    "x-amz-grant-write-acp",
    "x-amz-grant-full-control",
];

/// The S3 condition keys a request carries: how it was signed, its `x-amz-content-sha256`,
/// its ACL headers (`x-amz-acl`, `x-amz-grant-*`) on the writes that set an ACL, the
/// `versionId` it names, the tags `x-amz-tagging` sets, and for
/// listings their `prefix`,
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
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(value) = header("x-amz-content-sha256") {
        context.set("s3:x-amz-content-sha256", [value]);
    }
    // The ACL keys, on the requests whose actions AWS lists them for (s3:PutObject,
    // s3:PutObjectAcl, s3:PutObjectVersionAcl, s3:PutBucketAcl, s3:CreateBucket) and that can
    // carry the headers: each header's value as sent (trimmed), one string, as AWS compares
    // it (`id=…` is not `id="…"`).
    if matches!(
        route.operation,
        Operation::PutObject
            | Operation::CopyObject
            | Operation::CreateMultipartUpload
            | Operation::PutObjectAcl
            | Operation::PutBucketAcl
            | Operation::CreateBucket
    ) {
        for name in ACL_KEY_HEADERS {
            if let Some(value) = header(name) {
                context.set(&format!("s3:{name}"), [value]);
            }
        }
    }
    if let Some(id) = version.named_id() {
        context.set("s3:versionid", [id]);
    }
    if matches!(
        route.operation,
        Operation::PutObject | Operation::CopyObject | Operation::CreateMultipartUpload
    ) {
        // A header the handler will refuse sets no keys: the request fails anyway.
        if let Ok(Some(tags)) = tagging::header_tags(&parts.headers) {
            set_request_tag_keys(context, &tags);
        }
        object_lock::header_condition_keys(context, &parts.headers, crate::objects::now_ms());
        // The encryption the request asks for, as sent (a bucket default sets no key, as on
        // AWS).
        if let Some(value) = header("x-amz-server-side-encryption") {
            context.set("s3:x-amz-server-side-encryption", [value]);
        }
        if let Some(value) = header("x-amz-server-side-encryption-customer-algorithm") {
            context.set(
                "s3:x-amz-server-side-encryption-customer-algorithm",
                [value],
            );
        }
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
