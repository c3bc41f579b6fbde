//! Managed policies and their versions, attachments, and inline policies. Documents are
//! validated on write (`MalformedPolicyDocument`) and returned URL-encoded, as AWS does.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::error::{Code, IamError};
use super::groups::group_name;
use super::params::Params;
use super::roles::role_name;
use super::users::user_name;
use super::{iso8601, validate, write_page_end, Ctx, Reply};
use crate::iam_store::attachments::Holder;
use crate::iam_store::aws_policies::AWS_ACCOUNT;
use crate::iam_store::ids;
use crate::iam_store::policies::{EntityFilter, Policy, PolicyRef, PolicyVersion, Usage};
use crate::policy::document::{non_whitespace_len, parse, PolicyKind};
use crate::xml::XmlWriter;

/// AWS's size quota for one managed policy document (characters other than whitespace).
const MANAGED_POLICY_QUOTA: usize = 6144;

/// Everything but RFC 3986's unreserved characters is escaped.
const DOCUMENT_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub fn encode_document(document: &str) -> String {
    utf8_percent_encode(document, DOCUMENT_ESCAPES).to_string()
}

/// A `PolicyDocument` parameter: checked as text, then as an identity policy.
fn document(p: &Params) -> Result<String, IamError> {
    let doc = p.required("PolicyDocument", "policyDocument")?;
    validate::policy_document(doc, "policyDocument")?;
    parse(doc, PolicyKind::Identity)
        .map_err(|e| IamError::new(Code::MalformedPolicyDocument, e.0))?;
    Ok(doc.to_owned())
}

fn managed_document(p: &Params) -> Result<String, IamError> {
    let doc = document(p)?;
    if non_whitespace_len(&doc) > MANAGED_POLICY_QUOTA {
        return Err(IamError::new(
            Code::LimitExceeded,
            format!("Cannot exceed quota for PolicySize: {MANAGED_POLICY_QUOTA}"),
        ));
    }
    Ok(doc)
}

fn policy_ref(ctx: &Ctx<'_>, p: &Params) -> Result<PolicyRef, IamError> {
    let arn = p.required("PolicyArn", "policyArn")?;
    policy_ref_of(ctx.account(), arn, "policyArn")
}

/// A managed policy named by ARN, the account's or AWS's (length checked as `field`).
pub(super) fn policy_ref_of(account: &str, arn: &str, field: &str) -> Result<PolicyRef, IamError> {
    if !(20..=2048).contains(&arn.len()) {
        return Err(IamError::invalid(
            arn,
            field,
            "Member must have length greater than or equal to 20",
        ));
    }
    Ok(arn_ref(account, arn))
}

/// The optional `PermissionsBoundary` parameter (CreateUser, CreateRole; required by the
/// Put…PermissionsBoundary actions): 20 to 2,048 characters (`ValidationError`), and a
/// managed policy's ARN (`InvalidInput` for anything else). Whether the policy exists is the
/// store's to say (`NoSuchEntity`).
pub fn boundary_ref(ctx: &Ctx<'_>, p: &Params) -> Result<Option<PolicyRef>, IamError> {
    let Some(arn) = p.get("PermissionsBoundary") else {
        return Ok(None);
    };
    validate::length(arn, "permissionsBoundary", 20, 2048)?;
    let is_policy = arn
        .strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(_, resource)| resource.starts_with("policy/"));
    if !is_policy {
        return Err(IamError::new(
            Code::InvalidInput,
            format!("ARN {arn} is not valid."),
        ));
    }
    Ok(Some(arn_ref(ctx.account(), arn)))
}

fn arn_ref(account: &str, arn: &str) -> PolicyRef {
    let own = ids::parse_policy_arn(account, arn).map(|(p, n)| (p.to_owned(), n.to_owned()));
    let aws = own.is_none() && ids::parse_policy_arn(AWS_ACCOUNT, arn).is_some();
    let path_name = own.or_else(|| {
        ids::parse_policy_arn(AWS_ACCOUNT, arn).map(|(p, n)| (p.to_owned(), n.to_owned()))
    });
    PolicyRef {
        arn: arn.to_owned(),
        path_name,
        aws,
    }
}

/// A policy reference that a change may name: AWS managed policies are read-only, and AWS
/// refuses every change to them as a caller without permission on another account's
/// resource (`AccessDenied`).
fn changeable_ref(ctx: &Ctx<'_>, p: &Params, action: &str) -> Result<PolicyRef, IamError> {
    let r = policy_ref(ctx, p)?;
    if r.aws {
        return Err(IamError::new(
            Code::AccessDenied,
            format!(
                "Not authorized to perform: iam:{action} on resource: policy {}: AWS managed policies cannot be changed.",
                r.arn
            ),
        ));
    }
    Ok(r)
}

fn version_param(p: &Params) -> Result<i64, IamError> {
    validate::version_id(p.required("VersionId", "versionId")?)
}

fn flag(p: &Params, name: &str, field: &str) -> Result<bool, IamError> {
    match p.get(name) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(IamError::invalid(
            other,
            field,
            "Member must be true or false",
        )),
    }
}

fn write_policy(
    w: &mut XmlWriter,
    tag: &str,
    account: &str,
    policy: &Policy,
    with_description: bool,
) {
    w.open(tag)
        .elem("PolicyName", &policy.name)
        .elem("DefaultVersionId", &format!("v{}", policy.default_version))
        .elem("PolicyId", &policy.id)
        .elem("Path", &policy.path)
        .elem(
            "Arn",
            &ids::policy_arn(
                if policy.aws { AWS_ACCOUNT } else { account },
                &policy.path,
                &policy.name,
            ),
        )
        .elem("AttachmentCount", &policy.attachment_count.to_string())
        .elem(
            "PermissionsBoundaryUsageCount",
            &policy.boundary_count.to_string(),
        )
        .elem("IsAttachable", "true");
    if with_description {
        w.elem_opt("Description", policy.description.as_deref());
    }
    w.elem("CreateDate", &iso8601(policy.created_at))
        .elem("UpdateDate", &iso8601(policy.updated_at))
        .close(tag);
}

fn write_version(w: &mut XmlWriter, tag: &str, version: &PolicyVersion) {
    w.open(tag);
    if let Some(doc) = &version.document {
        w.elem("Document", &encode_document(doc));
    }
    w.elem("VersionId", &format!("v{}", version.version))
        .elem(
            "IsDefaultVersion",
            if version.is_default { "true" } else { "false" },
        )
        .elem("CreateDate", &iso8601(version.created_at))
        .close(tag);
}

pub async fn create_policy(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let name = p.required("PolicyName", "policyName")?;
    validate::policy_name(name, "policyName")?;
    let path = p.path("Path", "path")?;
    let description = p.get("Description").map(str::to_owned);
    if let Some(d) = &description {
        validate::description(d)?;
    }
    if p.get("Tags.member.1.Key").is_some() {
        return Err(IamError::new(
            Code::InvalidInput,
            "Tags on managed policies are not supported by this server.",
        ));
    }
    let doc = managed_document(p)?;
    let policy = ctx
        .store()
        .create_policy(name.to_owned(), path, description, doc)
        .await?;
    let mut w = XmlWriter::new();
    write_policy(&mut w, "Policy", ctx.account(), &policy, true);
    Ok(Some(w.finish()))
}

pub async fn get_policy(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let policy = ctx.store().get_policy(policy_ref(ctx, p)?).await?;
    let mut w = XmlWriter::new();
    write_policy(&mut w, "Policy", ctx.account(), &policy, true);
    Ok(Some(w.finish()))
}

/// `PolicyUsageFilter`'s values, in the order AWS's message lists them.
const POLICY_USAGE_TYPES: &[&str] = &["PermissionsBoundary", "PermissionsPolicy"];

/// `PolicyUsageFilter` (ListPolicies, ListEntitiesForPolicy): as a permissions policy, as a
/// permissions boundary, or (absent) either.
fn usage(p: &Params) -> Result<Option<Usage>, IamError> {
    let usage = p.one_of("PolicyUsageFilter", "policyUsageFilter", POLICY_USAGE_TYPES)?;
    Ok(usage.map(|u| match u {
        "PermissionsBoundary" => Usage::Boundary,
        _ => Usage::Permissions,
    }))
}

pub async fn list_policies(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let scope = p.one_of("Scope", "scope", &["All", "AWS", "Local"])?;
    let only_attached = flag(p, "OnlyAttached", "onlyAttached")?;
    let usage = usage(p)?;
    let (prefix, marker, max) = (p.path_prefix()?, p.marker()?, p.max_items()?);
    let aws = match scope {
        Some("AWS") => Some(true),
        Some("Local") => Some(false),
        _ => None,
    };
    let page = ctx
        .store()
        .list_policies(aws, usage, only_attached, prefix, marker, max)
        .await?;
    let mut w = XmlWriter::new();
    w.open("Policies");
    for policy in &page.items {
        write_policy(&mut w, "member", ctx.account(), policy, false);
    }
    w.close("Policies");
    write_page_end(&mut w, page.next_marker.as_deref());
    Ok(Some(w.finish()))
}

pub async fn delete_policy(ctx: &Ctx<'_>, p: &Params) -> Reply {
    ctx.store()
        .delete_policy(changeable_ref(ctx, p, "DeletePolicy")?)
        .await?;
    Ok(None)
}

pub async fn create_policy_version(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let r = changeable_ref(ctx, p, "CreatePolicyVersion")?;
    let doc = managed_document(p)?;
    let set_default = flag(p, "SetAsDefault", "setAsDefault")?;
    let version = ctx
        .store()
        .create_policy_version(r, doc, set_default)
        .await?;
    let mut w = XmlWriter::new();
    write_version(&mut w, "PolicyVersion", &version);
    Ok(Some(w.finish()))
}

pub async fn get_policy_version(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let version = ctx
        .store()
        .get_policy_version(policy_ref(ctx, p)?, version_param(p)?)
        .await?;
    let mut w = XmlWriter::new();
    write_version(&mut w, "PolicyVersion", &version);
    Ok(Some(w.finish()))
}

pub async fn list_policy_versions(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let page = ctx
        .store()
        .list_policy_versions(policy_ref(ctx, p)?, p.marker()?, p.max_items()?)
        .await?;
    let mut w = XmlWriter::new();
    w.open("Versions");
    for version in &page.items {
        write_version(&mut w, "member", version);
    }
    w.close("Versions");
    write_page_end(&mut w, page.next_marker.as_deref());
    Ok(Some(w.finish()))
}

pub async fn set_default_policy_version(ctx: &Ctx<'_>, p: &Params) -> Reply {
    ctx.store()
        .set_default_policy_version(
            changeable_ref(ctx, p, "SetDefaultPolicyVersion")?,
            version_param(p)?,
        )
        .await?;
    Ok(None)
}

pub async fn delete_policy_version(ctx: &Ctx<'_>, p: &Params) -> Reply {
    ctx.store()
        .delete_policy_version(
            changeable_ref(ctx, p, "DeletePolicyVersion")?,
            version_param(p)?,
        )
        .await?;
    Ok(None)
}

/// The user, group or role an attachment or inline-policy call names.
fn holder_name(p: &Params, holder: Holder) -> Result<String, IamError> {
    Ok(match holder {
        Holder::User => user_name(p, "UserName", "userName")?.to_owned(),
        Holder::Group => group_name(p, "GroupName", "groupName")?.to_owned(),
        Holder::Role => role_name(p)?.to_owned(),
    })
}

pub async fn attach_policy(ctx: &Ctx<'_>, p: &Params, holder: Holder) -> Reply {
    let name = holder_name(p, holder)?;
    ctx.store()
        .attach_policy(holder, name, policy_ref(ctx, p)?)
        .await?;
    Ok(None)
}

pub async fn detach_policy(ctx: &Ctx<'_>, p: &Params, holder: Holder) -> Reply {
    let name = holder_name(p, holder)?;
    ctx.store()
        .detach_policy(holder, name, policy_ref(ctx, p)?)
        .await?;
    Ok(None)
}

pub async fn list_attached_policies(ctx: &Ctx<'_>, p: &Params, holder: Holder) -> Reply {
    let name = holder_name(p, holder)?;
    let page = ctx
        .store()
        .list_attached_policies(holder, name, p.path_prefix()?, p.marker()?, p.max_items()?)
        .await?;
    let mut w = XmlWriter::new();
    w.open("AttachedPolicies");
    for attached in &page.items {
        w.open("member")
            .elem("PolicyName", &attached.name)
            .elem("PolicyArn", &attached.arn)
            .close("member");
    }
    w.close("AttachedPolicies");
    write_page_end(&mut w, page.next_marker.as_deref());
    Ok(Some(w.finish()))
}

pub async fn list_entities_for_policy(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let r = policy_ref(ctx, p)?;
    let entity_types = [
        "User",
        "Role",
        "LocalManagedPolicy",
        "Group",
        "AWSManagedPolicy",
    ];
    let usage = usage(p)?;
    let filter = match p.one_of("EntityFilter", "entityFilter", &entity_types)? {
        None => Some(EntityFilter::All),
        Some("User") => Some(EntityFilter::Users),
        Some("Group") => Some(EntityFilter::Groups),
        Some("Role") => Some(EntityFilter::Roles),
        // LabStore has no policies attached to policies.
        Some(_) => None,
    };
    let (prefix, marker, max) = (p.path_prefix()?, p.marker()?, p.max_items()?);
    let (entities, next) = match filter {
        Some(filter) => {
            ctx.store()
                .list_entities_for_policy(r, usage, filter, prefix, marker, max)
                .await?
        }
        None => {
            ctx.store().get_policy(r).await?;
            Default::default()
        }
    };
    let mut w = XmlWriter::new();
    w.open("PolicyGroups");
    for (name, id) in &entities.groups {
        w.open("member")
            .elem("GroupName", name)
            .elem("GroupId", id)
            .close("member");
    }
    w.close("PolicyGroups").open("PolicyUsers");
    for (name, id) in &entities.users {
        w.open("member")
            .elem("UserName", name)
            .elem("UserId", id)
            .close("member");
    }
    w.close("PolicyUsers").open("PolicyRoles");
    for (name, id) in &entities.roles {
        w.open("member")
            .elem("RoleName", name)
            .elem("RoleId", id)
            .close("member");
    }
    w.close("PolicyRoles");
    write_page_end(&mut w, next.as_deref());
    Ok(Some(w.finish()))
}

fn inline_name(p: &Params) -> Result<String, IamError> {
    let name = p.required("PolicyName", "policyName")?;
    validate::policy_name(name, "policyName")?;
    Ok(name.to_owned())
}

pub async fn put_inline_policy(ctx: &Ctx<'_>, p: &Params, holder: Holder) -> Reply {
    let owner = holder_name(p, holder)?;
    let name = inline_name(p)?;
    let doc = document(p)?;
    ctx.store()
        .put_inline_policy(holder, owner, name, doc)
        .await?;
    Ok(None)
}

pub async fn get_inline_policy(ctx: &Ctx<'_>, p: &Params, holder: Holder) -> Reply {
    let owner = holder_name(p, holder)?;
    let (name, doc) = ctx
        .store()
        .get_inline_policy(holder, owner.clone(), inline_name(p)?)
        .await?;
    let mut w = XmlWriter::new();
    match holder {
        Holder::User => w.elem("UserName", &owner),
        Holder::Group => w.elem("GroupName", &owner),
        Holder::Role => w.elem("RoleName", &owner),
    };
    w.elem("PolicyName", &name)
        .elem("PolicyDocument", &encode_document(&doc));
    Ok(Some(w.finish()))
}

pub async fn list_inline_policies(ctx: &Ctx<'_>, p: &Params, holder: Holder) -> Reply {
    let owner = holder_name(p, holder)?;
    let page = ctx
        .store()
        .list_inline_policies(holder, owner, p.marker()?, p.max_items()?)
        .await?;
    let mut w = XmlWriter::new();
    w.open("PolicyNames");
    for name in &page.items {
        w.elem("member", name);
    }
    w.close("PolicyNames");
    write_page_end(&mut w, page.next_marker.as_deref());
    Ok(Some(w.finish()))
}

pub async fn delete_inline_policy(ctx: &Ctx<'_>, p: &Params, holder: Holder) -> Reply {
    let owner = holder_name(p, holder)?;
    ctx.store()
        .delete_inline_policy(holder, owner, inline_name(p)?)
        .await?;
    Ok(None)
}

/// GetAccountSummary: the counts LabStore keeps, and AWS's quotas it enforces.
pub async fn get_account_summary(ctx: &Ctx<'_>, _p: &Params) -> Reply {
    let mut entries = ctx.store().account_counts().await?;
    entries.extend([
        ("UsersQuota", 5000),
        ("GroupsQuota", 300),
        ("PoliciesQuota", 1500),
        (
            "PolicySizeQuota",
            i64::try_from(MANAGED_POLICY_QUOTA).expect("a quota fits i64"),
        ),
        ("PolicyVersionsInUseQuota", 10000),
        ("VersionsPerPolicyQuota", 5),
        ("AccessKeysPerUserQuota", 2),
        ("GroupsPerUserQuota", 10),
        ("AttachedPoliciesPerUserQuota", 10),
        ("AttachedPoliciesPerGroupQuota", 10),
        ("UserPolicySizeQuota", 2048),
        ("GroupPolicySizeQuota", 5120),
        ("RolesQuota", 1000),
        ("AttachedPoliciesPerRoleQuota", 10),
        ("RolePolicySizeQuota", 10240),
        (
            "AssumeRolePolicySizeQuota",
            i64::try_from(super::roles::TRUST_POLICY_QUOTA).expect("a quota fits i64"),
        ),
        ("MFADevices", 0),
        ("AccountMFAEnabled", 0),
        ("ServerCertificates", 0),
    ]);
    let mut w = XmlWriter::new();
    w.open("SummaryMap");
    for (key, value) in entries {
        w.open("entry")
            .elem("key", key)
            .elem("value", &value.to_string())
            .close("entry");
    }
    w.close("SummaryMap");
    Ok(Some(w.finish()))
}
