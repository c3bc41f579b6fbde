//! ACLs as S3 has had them since April 2023: read and enforced only on buckets whose Object
//! Ownership enables them (`BucketOwnerPreferred`, `ObjectWriter`, or none, as on buckets
//! created before it existed); refused on `BucketOwnerEnforced` buckets (the default), except
//! for the ACLs that grant nothing beyond the owner.
//!
//! An ACL arrives as a canned ACL (`x-amz-acl`), as grant headers (`x-amz-grant-*`), or, for
//! PutBucketAcl and PutObjectAcl, as an `<AccessControlPolicy>` body. What it grants is one
//! more source of Allow in authorization (`access`): a grant to `AllUsers` reaches everyone,
//! one to `AuthenticatedUsers` every signed caller, one to the account's canonical user the
//! root only (an IAM user is governed by its policies, as in AWS). Block Public Access can
//! refuse public ACLs (`BlockPublicAcls`) or make them grant nothing (`IgnorePublicAcls`).
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html>
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html>
#![expect(
    clippy::unused_async,
    reason = "handlers share the async signature the operation table dispatches to; a bucket ACL is answered from memory"
)]

mod documents;

use http::{HeaderMap, Response};

use super::actions::{bucket_arn, object_arn, Needed, Target};
use super::body::read_small;
use super::error::{Code, S3Error, S3Result};
use super::object::{check_whole_body, expected};
use super::operations::Operation;
use super::read::lookup;
use super::xml::{document, read, Owner};
use super::{finish, Ctx, Reply, Req};
use crate::auth::Caller;
use crate::objects::{
    Acl, AclPermission, BucketAcl, BucketConfig, BucketState, Grant, Grantee, Ownership,
    PublicAccessSettings,
};
use documents::{AccessControlPolicy, AccessControlPolicyIn};

pub const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
pub const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";

/// S3's limit on the grants of one ACL.
const MAX_GRANTS: usize = 100;

/// The grant headers and the permission each grants.
const GRANT_HEADERS: [(&str, AclPermission); 5] = [
    ("x-amz-grant-read", AclPermission::Read),
    ("x-amz-grant-write", AclPermission::Write),
    ("x-amz-grant-read-acp", AclPermission::ReadAcp),
    ("x-amz-grant-write-acp", AclPermission::WriteAcp),
    ("x-amz-grant-full-control", AclPermission::FullControl),
];

/// The bucket's Object Ownership; a bucket without one (created before it existed, or after
/// DeleteBucketOwnershipControls) behaves as `ObjectWriter`, as in S3.
pub fn ownership(bucket: &BucketState) -> Ownership {
    bucket
        .configs
        .ownership
        .as_ref()
        .map_or(Ownership::ObjectWriter, |o| o.ownership)
}

/// The bucket's Block Public Access settings; none set when it has no configuration.
pub fn public_access(bucket: &BucketState) -> PublicAccessSettings {
    bucket
        .configs
        .public_access_block
        .as_ref()
        .map(|b| b.settings)
        .unwrap_or_default()
}

/// The bucket ACL permission that grants `action`, after AWS's "Mapping of ACL permissions
/// and access policy permissions". WRITE lets a grantee other than the owner create objects
/// only (deleting and overwriting stay the owner's).
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#acl-access-policy-permission-mapping>
pub fn bucket_permission(action: &str) -> Option<AclPermission> {
    match action {
        "s3:ListBucket" | "s3:ListBucketVersions" | "s3:ListBucketMultipartUploads" => {
            Some(AclPermission::Read)
        }
        "s3:PutObject" => Some(AclPermission::Write),
        "s3:GetBucketAcl" => Some(AclPermission::ReadAcp),
        "s3:PutBucketAcl" => Some(AclPermission::WriteAcp),
        _ => None,
    }
}

/// The object ACL permission that grants `action` (same mapping).
pub fn object_permission(action: &str) -> Option<AclPermission> {
    match action {
        "s3:GetObject" | "s3:GetObjectVersion" => Some(AclPermission::Read),
        "s3:GetObjectAcl" | "s3:GetObjectVersionAcl" => Some(AclPermission::ReadAcp),
        "s3:PutObjectAcl" | "s3:PutObjectVersionAcl" => Some(AclPermission::WriteAcp),
        _ => None,
    }
}

/// Whether `acl` grants `caller` (`None`: anonymous) `permission`. `owner` is the account's
/// canonical user id; a grant to it reaches the root only. With `ignore_public`
/// (IgnorePublicAcls), grants to the global groups grant nothing.
pub fn grants(
    acl: &Acl,
    permission: AclPermission,
    caller: Option<&Caller>,
    owner: &str,
    ignore_public: bool,
) -> bool {
    acl.grants.iter().any(|g| {
        let reaches = match &g.grantee {
            Grantee::AllUsers => !ignore_public,
            Grantee::AuthenticatedUsers => !ignore_public && caller.is_some(),
            Grantee::CanonicalUser(id) => {
                id == owner && matches!(caller, Some(Caller::Root { .. }))
            }
        };
        reaches && (g.permission == permission || g.permission == AclPermission::FullControl)
    })
}

/// An ACL a request sets, and how it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedAcl {
    pub acl: Acl,
    source: Source,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Canned(&'static str),
    Grants,
    Body,
}

impl RequestedAcl {
    /// Whether a bucket with ACLs disabled accepts it: `private` and
    /// `bucket-owner-full-control`, or a body granting only the owner; never grant headers.
    fn accepted_when_disabled(&self, owner: &str) -> bool {
        match self.source {
            Source::Canned(name) => matches!(name, "private" | "bucket-owner-full-control"),
            Source::Grants => false,
            Source::Body => self.acl.owner_only(owner),
        }
    }

    /// The ACL to store: `None` for the default one, the owner's FULL_CONTROL alone.
    pub fn stored(self, owner: &str) -> Option<Acl> {
        (self.acl != Acl::private(owner)).then_some(self.acl)
    }
}

/// The canned ACLs, as S3 defines them. `bucket-owner-read` and `bucket-owner-full-control`
/// add nothing here: the bucket owner is the object owner (one account), and S3 ignores them
/// on a bucket.
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#canned-acl>
fn canned(name: &str, owner: &str) -> S3Result<RequestedAcl> {
    let (name, extra): (&'static str, &[(Grantee, AclPermission)]) = match name {
        "private" => ("private", &[]),
        "public-read" => ("public-read", &[(Grantee::AllUsers, AclPermission::Read)]),
        "public-read-write" => (
            "public-read-write",
            &[
                (Grantee::AllUsers, AclPermission::Read),
                (Grantee::AllUsers, AclPermission::Write),
            ],
        ),
        "authenticated-read" => (
            "authenticated-read",
            &[(Grantee::AuthenticatedUsers, AclPermission::Read)],
        ),
        "bucket-owner-read" => ("bucket-owner-read", &[]),
        "bucket-owner-full-control" => ("bucket-owner-full-control", &[]),
        "log-delivery-write" | "aws-exec-read" => {
            return Err(S3Error::new(
                Code::NotImplemented,
                format!(
                    "The canned ACL {name} grants to an AWS service this server does not have."
                ),
            ))
        }
        _ => return Err(S3Error::new(Code::InvalidArgument, "Invalid canned ACL")),
    };
    let mut acl = Acl::private(owner);
    acl.grants
        .extend(extra.iter().map(|(grantee, permission)| Grant {
            grantee: grantee.clone(),
            permission: *permission,
        }));
    Ok(RequestedAcl {
        acl,
        source: Source::Canned(name),
    })
}

/// A grantee as a grant header or a body names it: the account's canonical user id, one of
/// S3's global groups, or an e-mail address (which matches no account here).
fn grantee(kind: &str, value: &str, owner: &str) -> S3Result<Grantee> {
    match kind {
        "id" if value == owner => Ok(Grantee::CanonicalUser(value.to_owned())),
        "id" => Err(S3Error::new(Code::InvalidArgument, "Invalid id")),
        "uri" => match value {
            ALL_USERS => Ok(Grantee::AllUsers),
            AUTHENTICATED_USERS => Ok(Grantee::AuthenticatedUsers),
            LOG_DELIVERY => Err(S3Error::new(
                Code::NotImplemented,
                "Grants to the LogDelivery group are not supported: this server writes no access logs.",
            )),
            _ => Err(S3Error::new(Code::InvalidArgument, "Invalid group uri")),
        },
        "emailaddress" => Err(Code::UnresolvableGrantByEmailAddress.into()),
        _ => Err(S3Error::new(
            Code::InvalidArgument,
            "Grantees are named by id, uri or emailAddress",
        )),
    }
}

/// The grants of one `x-amz-grant-*` header: `id="…", uri="…"`, comma-separated.
fn header_grants(
    value: &str,
    permission: AclPermission,
    owner: &str,
    into: &mut Vec<Grant>,
) -> S3Result<()> {
    for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (kind, quoted) = item.split_once('=').ok_or_else(|| {
            S3Error::new(
                Code::InvalidArgument,
                "Grant headers name grantees as type=\"value\"",
            )
        })?;
        let value = quoted.trim().trim_matches('"');
        into.push(Grant {
            grantee: grantee(&kind.trim().to_ascii_lowercase(), value, owner)?,
            permission,
        });
    }
    Ok(())
}

/// The ACL a request's headers set, if any: a canned ACL or grant headers (not both).
pub fn from_headers(headers: &HeaderMap, owner: &str) -> S3Result<Option<RequestedAcl>> {
    let canned_name = match headers.get("x-amz-acl") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| S3Error::new(Code::InvalidArgument, "Invalid canned ACL"))?
                .trim(),
        ),
    };
    let mut grants = Vec::new();
    let mut any_grant = false;
    for (header, permission) in GRANT_HEADERS {
        for value in headers.get_all(header) {
            any_grant = true;
            let value = value.to_str().map_err(|_| {
                S3Error::new(Code::InvalidArgument, format!("Invalid {header} header"))
            })?;
            header_grants(value, permission, owner, &mut grants)?;
        }
    }
    match (canned_name, any_grant) {
        (Some(_), true) => Err(S3Error::new(
            Code::InvalidRequest,
            "Specifying both Canned ACLs and Header Grants is not allowed",
        )),
        (Some(name), false) => canned(name, owner).map(Some),
        (None, true) => {
            check_grant_count(grants.len())?;
            Ok(Some(RequestedAcl {
                acl: Acl { grants },
                source: Source::Grants,
            }))
        }
        (None, false) => Ok(None),
    }
}

fn check_grant_count(count: usize) -> S3Result<()> {
    match count > MAX_GRANTS {
        true => Err(S3Error::new(
            Code::MalformedACLError,
            "An ACL holds at most 100 grants.",
        )),
        false => Ok(()),
    }
}

/// The ACL of a PutBucketAcl or PutObjectAcl body. The owner, when named, must be the
/// account; every grant needs a grantee and one of S3's permissions.
fn from_body(body: &[u8], owner: &str) -> S3Result<RequestedAcl> {
    let malformed = || S3Error::from(Code::MalformedACLError);
    let doc: AccessControlPolicyIn = read(body).map_err(|_| malformed())?;
    if let Some(id) = doc.owner.and_then(|o| o.id) {
        if id.trim() != owner {
            return Err(S3Error::new(
                Code::AccessDenied,
                "The Owner of an ACL must be the bucket's owner.",
            ));
        }
    }
    let listed = doc
        .access_control_list
        .map(|l| l.grants)
        .unwrap_or_default();
    check_grant_count(listed.len())?;
    let mut grants = Vec::with_capacity(listed.len());
    for grant in listed {
        let permission = grant
            .permission
            .as_deref()
            .map(str::trim)
            .and_then(AclPermission::from_name)
            .ok_or_else(malformed)?;
        let who = grant.grantee.ok_or_else(malformed)?;
        let grantee = match (who.id, who.uri, who.email) {
            (Some(id), None, None) => grantee("id", id.trim(), owner)?,
            (None, Some(uri), None) => grantee("uri", uri.trim(), owner)?,
            (None, None, Some(email)) => grantee("emailaddress", email.trim(), owner)?,
            _ => return Err(malformed()),
        };
        grants.push(Grant {
            grantee,
            permission,
        });
    }
    Ok(RequestedAcl {
        acl: Acl { grants },
        source: Source::Body,
    })
}

/// Checks an ACL a request sets against the bucket's settings: with ACLs disabled, only the
/// ACLs that grant nothing beyond the owner (`AccessControlListNotSupported`); under
/// BlockPublicAcls, no public grant (`AccessDenied`).
pub fn check_settable(bucket: &BucketState, requested: &RequestedAcl, owner: &str) -> S3Result<()> {
    if !ownership(bucket).acls_enabled() && !requested.accepted_when_disabled(owner) {
        return Err(Code::AccessControlListNotSupported.into());
    }
    if public_access(bucket).block_public_acls && requested.acl.is_public() {
        return Err(S3Error::new(
            Code::AccessDenied,
            "Public ACLs are blocked by the BlockPublicAcls block public access setting.",
        ));
    }
    Ok(())
}

/// The ACL an object write (PutObject, CopyObject, CreateMultipartUpload) sets from its
/// headers, checked against the bucket: `None` for the default.
pub fn for_object_write(
    ctx: &Ctx<'_>,
    bucket: &BucketState,
    headers: &HeaderMap,
) -> S3Result<Option<Acl>> {
    let owner = owner_id(ctx);
    let Some(requested) = from_headers(headers, &owner)? else {
        return Ok(None);
    };
    check_settable(bucket, &requested, &owner)?;
    Ok(match ownership(bucket).acls_enabled() {
        true => requested.stored(&owner),
        false => None,
    })
}

/// The extra permissions a write that sets an ACL needs, as in AWS: `s3:PutObjectAcl` for an
/// object write, `s3:PutBucketAcl` for CreateBucket, whenever the ACL grants beyond the owner
/// (a canned ACL other than `private`, `bucket-owner-read` or `bucket-owner-full-control`, or
/// any grant header); and `s3:PutBucketOwnershipControls` for CreateBucket with
/// `x-amz-object-ownership`.
pub fn needed_for_headers(
    operation: Operation,
    target: &Target<'_>,
    headers: &HeaderMap,
) -> Vec<Needed> {
    let canned = headers
        .get("x-amz-acl")
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    let grants_beyond_owner = !matches!(
        canned,
        None | Some("private" | "bucket-owner-read" | "bucket-owner-full-control")
    ) || GRANT_HEADERS.iter().any(|(h, _)| headers.contains_key(*h));
    let mut needs = Vec::new();
    match operation {
        Operation::PutObject | Operation::CopyObject | Operation::CreateMultipartUpload
            if grants_beyond_owner =>
        {
            needs.push(Needed {
                action: "s3:PutObjectAcl",
                resource: object_arn(target.bucket, target.key),
            });
        }
        Operation::CreateBucket => {
            if grants_beyond_owner {
                needs.push(Needed {
                    action: "s3:PutBucketAcl",
                    resource: bucket_arn(target.bucket),
                });
            }
            if headers.contains_key("x-amz-object-ownership") {
                needs.push(Needed {
                    action: "s3:PutBucketOwnershipControls",
                    resource: bucket_arn(target.bucket),
                });
            }
        }
        _ => {}
    }
    needs
}

pub fn owner_id(ctx: &Ctx<'_>) -> String {
    Owner::of(ctx.account()).id
}

/// The ACL shown for `acl` on a bucket with `ownership`: with ACLs disabled, always the
/// owner's FULL_CONTROL, as S3 answers.
fn shown(ctx: &Ctx<'_>, ownership: Ownership, acl: Option<&Acl>) -> Reply {
    let owner = Owner::of(ctx.account());
    let default = Acl::private(&owner.id);
    let acl = match (ownership.acls_enabled(), acl) {
        (true, Some(acl)) => acl,
        _ => &default,
    };
    document(&AccessControlPolicy::of(owner, acl))
}

pub async fn get_bucket_acl(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let bucket = req.found.existing()?;
    shown(
        ctx,
        ownership(bucket),
        bucket.configs.acl.as_ref().map(|a| &a.acl),
    )
}

pub async fn get_object_acl(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let bucket = req.found.existing()?.clone();
    let object = lookup(ctx, req.bucket, req.key, req.version).await?;
    shown(ctx, ownership(&bucket), object.acl.as_ref())
}

/// The ACL a PutBucketAcl or PutObjectAcl sets: from its headers or from its body, never
/// both, and never neither (`MissingSecurityHeader`, as S3 answers).
async fn requested(ctx: &Ctx<'_>, req: Req<'_>) -> S3Result<RequestedAcl> {
    let owner = owner_id(ctx);
    let (parts, mut reader) = (req.parts, req.body);
    let want = expected(&parts.headers)?;
    let from_headers = from_headers(&parts.headers, &owner)?;
    let body = read_small(&mut reader, 64 * 1024).await?;
    check_whole_body(&body, &want, reader.trailers())?;
    let has_body = !body.iter().all(u8::is_ascii_whitespace);
    match (from_headers, has_body) {
        (Some(_), true) => Err(S3Error::new(
            Code::UnexpectedContent,
            "This request does not support content",
        )),
        (Some(requested), false) => Ok(requested),
        (None, true) => from_body(&body, &owner),
        (None, false) => Err(Code::MissingSecurityHeader.into()),
    }
}

pub async fn put_bucket_acl(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let bucket = req.found.existing()?.clone();
    let name = req.bucket.to_owned();
    let requested = requested(ctx, req).await?;
    let owner = owner_id(ctx);
    check_settable(&bucket, &requested, &owner)?;
    if ownership(&bucket).acls_enabled() {
        let acl = requested.stored(&owner);
        match acl {
            Some(acl) => {
                let config = BucketConfig::Acl(BucketAcl::new(acl).into());
                ctx.index().put_bucket_config(name, config).await?;
            }
            None => {
                ctx.index()
                    .delete_bucket_config(name, crate::objects::ConfigKind::Acl)
                    .await?;
            }
        }
    }
    finish(Response::builder(), crate::http::empty())
}

pub async fn put_object_acl(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let bucket = req.found.existing()?.clone();
    let (name, key) = (req.bucket.to_owned(), req.key.to_owned());
    let version = req.version.clone();
    // The object is read first: its ACL may be what lets the caller change it.
    lookup(ctx, &name, &key, &version).await?;
    let requested = requested(ctx, req).await?;
    let owner = owner_id(ctx);
    check_settable(&bucket, &requested, &owner)?;
    if ownership(&bucket).acls_enabled() {
        let acl = requested
            .stored(&owner)
            .unwrap_or_else(|| Acl::private(&owner));
        ctx.index().set_object_acl(name, key, version, acl).await?;
    }
    finish(Response::builder(), crate::http::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: &str = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    fn grant(grantee: Grantee, permission: AclPermission) -> Grant {
        Grant {
            grantee,
            permission,
        }
    }

    #[test]
    fn canned_acls_grant_as_s3_defines_them() {
        let owner = grant(
            Grantee::CanonicalUser(OWNER.into()),
            AclPermission::FullControl,
        );
        let rows: &[(&str, Vec<Grant>)] = &[
            ("private", vec![owner.clone()]),
            (
                "public-read",
                vec![owner.clone(), grant(Grantee::AllUsers, AclPermission::Read)],
            ),
            (
                "public-read-write",
                vec![
                    owner.clone(),
                    grant(Grantee::AllUsers, AclPermission::Read),
                    grant(Grantee::AllUsers, AclPermission::Write),
                ],
            ),
            (
                "authenticated-read",
                vec![
                    owner.clone(),
                    grant(Grantee::AuthenticatedUsers, AclPermission::Read),
                ],
            ),
            ("bucket-owner-read", vec![owner.clone()]),
            ("bucket-owner-full-control", vec![owner.clone()]),
        ];
        for (name, want) in rows {
            let got = from_headers(&headers(&[("x-amz-acl", name)]), OWNER)
                .unwrap()
                .unwrap();
            assert_eq!(&got.acl.grants, want, "{name}");
        }
        let err = |pairs: &[(&str, &str)]| from_headers(&headers(pairs), OWNER).unwrap_err().code;
        assert_eq!(err(&[("x-amz-acl", "public")]), Code::InvalidArgument);
        assert_eq!(
            err(&[("x-amz-acl", "log-delivery-write")]),
            Code::NotImplemented
        );
        assert_eq!(
            err(&[
                ("x-amz-acl", "private"),
                ("x-amz-grant-read", &format!("id=\"{OWNER}\""))
            ]),
            Code::InvalidRequest
        );
        assert_eq!(from_headers(&HeaderMap::new(), OWNER).unwrap(), None);
    }

    #[test]
    fn grant_headers_name_the_account_and_the_global_groups() {
        let got = from_headers(
            &headers(&[
                (
                    "x-amz-grant-read",
                    &format!("uri=\"{ALL_USERS}\", id=\"{OWNER}\""),
                ),
                (
                    "x-amz-grant-write-acp",
                    &format!("uri={AUTHENTICATED_USERS}"),
                ),
            ]),
            OWNER,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            got.acl.grants,
            vec![
                grant(Grantee::AllUsers, AclPermission::Read),
                grant(Grantee::CanonicalUser(OWNER.into()), AclPermission::Read),
                grant(Grantee::AuthenticatedUsers, AclPermission::WriteAcp),
            ]
        );
        let err = |value: &str| {
            from_headers(&headers(&[("x-amz-grant-full-control", value)]), OWNER)
                .unwrap_err()
                .code
        };
        assert_eq!(err("id=\"someone-else\""), Code::InvalidArgument);
        assert_eq!(
            err("uri=\"http://example.com/group\""),
            Code::InvalidArgument
        );
        assert_eq!(
            err(&format!("uri=\"{LOG_DELIVERY}\"")),
            Code::NotImplemented
        );
        assert_eq!(
            err("emailAddress=\"a@example.com\""),
            Code::UnresolvableGrantByEmailAddress
        );
        assert_eq!(err("nonsense"), Code::InvalidArgument);
        let many = vec![format!("id=\"{OWNER}\""); 101].join(",");
        assert_eq!(err(&many), Code::MalformedACLError);
    }

    #[test]
    fn acl_bodies_are_checked() {
        let body = |grants: &str, owner: &str| {
            format!(
                "<AccessControlPolicy><Owner><ID>{owner}</ID></Owner>\
                 <AccessControlList>{grants}</AccessControlList></AccessControlPolicy>"
            )
        };
        let g = |grantee: &str, permission: &str| {
            format!(
                "<Grant><Grantee>{grantee}</Grantee><Permission>{permission}</Permission></Grant>"
            )
        };
        let mine = format!("<ID>{OWNER}</ID>");
        let all = format!("<URI>{ALL_USERS}</URI>");
        let ok = from_body(
            body(&(g(&mine, "FULL_CONTROL") + &g(&all, "READ")), OWNER).as_bytes(),
            OWNER,
        )
        .unwrap();
        assert!(ok.acl.is_public());
        assert!(!ok.accepted_when_disabled(OWNER));
        let only_owner =
            from_body(body(&g(&mine, "FULL_CONTROL"), OWNER).as_bytes(), OWNER).unwrap();
        assert!(only_owner.accepted_when_disabled(OWNER));
        let code = |text: String| from_body(text.as_bytes(), OWNER).unwrap_err().code;
        assert_eq!(
            code(body(&g(&mine, "EVERYTHING"), OWNER)),
            Code::MalformedACLError
        );
        assert_eq!(code(body(&g("", "READ"), OWNER)), Code::MalformedACLError);
        assert_eq!(code(body(&g(&mine, "READ"), "other")), Code::AccessDenied);
        assert_eq!(
            code("<AccessControlPolicy>".into()),
            Code::MalformedACLError
        );
        assert_eq!(
            code(body(
                &g("<EmailAddress>a@b.c</EmailAddress>", "READ"),
                OWNER
            )),
            Code::UnresolvableGrantByEmailAddress
        );
    }

    #[test]
    fn grants_reach_whom_s3_says() {
        let root = Caller::Root {
            access_key: "AK".into(),
            arn: "arn:aws:iam::1:root".into(),
            session: None,
        };
        let acl = |grantee| Acl {
            grants: vec![grant(grantee, AclPermission::Read)],
        };
        let public = acl(Grantee::AllUsers);
        assert!(grants(&public, AclPermission::Read, None, OWNER, false));
        assert!(!grants(&public, AclPermission::Read, None, OWNER, true));
        assert!(!grants(&public, AclPermission::Write, None, OWNER, false));
        let signed = acl(Grantee::AuthenticatedUsers);
        assert!(!grants(&signed, AclPermission::Read, None, OWNER, false));
        assert!(grants(
            &signed,
            AclPermission::Read,
            Some(&root),
            OWNER,
            false
        ));
        let owners = acl(Grantee::CanonicalUser(OWNER.into()));
        assert!(grants(
            &owners,
            AclPermission::Read,
            Some(&root),
            OWNER,
            true
        ));
        assert!(!grants(&owners, AclPermission::Read, None, OWNER, false));
        let full = Acl::private(OWNER);
        assert!(grants(
            &full,
            AclPermission::WriteAcp,
            Some(&root),
            OWNER,
            false
        ));
    }
}
