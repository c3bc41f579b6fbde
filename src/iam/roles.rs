//! CreateRole, GetRole, ListRoles, UpdateRole, UpdateRoleDescription, UpdateAssumeRolePolicy,
//! DeleteRole, TagRole, UntagRole, ListRoleTags. A role's inline and attached policies are
//! `policies`' (as `Holder::Role`). STS's AssumeRole and AssumeRoleWithWebIdentity issue their
//! sessions (`super::sts`).

use super::error::{Code, IamError};
use super::params::Params;
use super::policies::boundary_ref;
use super::policies::encode_document;
use super::users::{write_boundary, write_tags};
use super::{iso8601, validate, write_page_end, Ctx, Reply};
use crate::iam_store::roles::{Role, RoleUpdate, DEFAULT_MAX_SESSION_DURATION};
use crate::iam_store::{ids, Tag};
use crate::policy::document::{non_whitespace_len, parse, PolicyKind};
use crate::xml::XmlWriter;

/// AWS's quota on a trust policy's size (characters other than whitespace).
pub const TRUST_POLICY_QUOTA: usize = 2048;

/// How much of a role a response shows: ListRoles leaves out tags and last use.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Detail {
    Listed,
    Full,
}

fn write_role(w: &mut XmlWriter, tag: &str, account: &str, role: &Role, tags: &[Tag], d: Detail) {
    w.open(tag)
        .elem("Path", &role.path)
        .elem("RoleName", &role.name)
        .elem("RoleId", &role.id)
        .elem("Arn", &ids::role_arn(account, &role.path, &role.name))
        .elem("CreateDate", &iso8601(role.created_at))
        .elem(
            "AssumeRolePolicyDocument",
            &encode_document(&role.trust_policy),
        );
    w.elem_opt("Description", role.description.as_deref())
        .elem("MaxSessionDuration", &role.max_session_duration.to_string());
    if d == Detail::Full {
        if let Some(arn) = &role.permissions_boundary {
            write_boundary(w, arn);
        }
        if !tags.is_empty() {
            write_tags(w, tags);
        }
        // Never used: no session can be issued for a role yet.
        w.open("RoleLastUsed").close("RoleLastUsed");
    }
    w.close(tag);
}

/// The `RoleName` parameter, validated.
pub fn role_name(p: &Params) -> Result<&str, IamError> {
    let name = p.required("RoleName", "roleName")?;
    validate::role_name(name, "roleName")?;
    Ok(name)
}

/// A trust policy parameter: checked as text, then as AWS checks a trust policy.
fn trust_document(p: &Params, param: &str, field: &str) -> Result<String, IamError> {
    let doc = p.required(param, field)?;
    validate::policy_document(doc, field)?;
    parse(doc, PolicyKind::Trust).map_err(|e| IamError::new(Code::MalformedPolicyDocument, e.0))?;
    if non_whitespace_len(doc) > TRUST_POLICY_QUOTA {
        return Err(IamError::new(
            Code::LimitExceeded,
            format!("Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_QUOTA}"),
        ));
    }
    Ok(doc.to_owned())
}

fn description(p: &Params) -> Result<Option<String>, IamError> {
    p.get("Description")
        .map(|d| validate::role_description(d).map(|()| d.to_owned()))
        .transpose()
}

fn max_session_duration(p: &Params) -> Result<Option<i64>, IamError> {
    p.get("MaxSessionDuration")
        .map(validate::max_session_duration)
        .transpose()
}

pub async fn create_role(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let name = role_name(p)?;
    let path = p.path("Path", "path")?;
    let trust_policy = trust_document(p, "AssumeRolePolicyDocument", "assumeRolePolicyDocument")?;
    let description = description(p)?;
    let max_session_duration = max_session_duration(p)?.unwrap_or(DEFAULT_MAX_SESSION_DURATION);
    let tags = p.tags()?;
    let boundary = boundary_ref(ctx, p)?;
    let role = Role {
        id: String::new(),
        name: name.to_owned(),
        path,
        description,
        max_session_duration,
        trust_policy,
        created_at: 0,
        permissions_boundary: None,
    };
    let (role, tags) = ctx.store().create_role(role, tags, boundary).await?;
    let mut w = XmlWriter::new();
    write_role(&mut w, "Role", ctx.account(), &role, &tags, Detail::Full);
    Ok(Some(w.finish()))
}

pub async fn get_role(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let (role, tags) = ctx.store().get_role(role_name(p)?.to_owned()).await?;
    let mut w = XmlWriter::new();
    write_role(&mut w, "Role", ctx.account(), &role, &tags, Detail::Full);
    Ok(Some(w.finish()))
}

pub async fn list_roles(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let page = ctx
        .store()
        .list_roles(p.path_prefix()?, p.marker()?, p.max_items()?)
        .await?;
    let mut w = XmlWriter::new();
    w.open("Roles");
    for role in &page.items {
        write_role(&mut w, "member", ctx.account(), role, &[], Detail::Listed);
    }
    w.close("Roles");
    write_page_end(&mut w, page.next_marker.as_deref());
    Ok(Some(w.finish()))
}

/// UpdateRole: `Description` and/or `MaxSessionDuration`; an empty result.
pub async fn update_role(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let name = role_name(p)?.to_owned();
    let update = RoleUpdate {
        description: description(p)?,
        max_session_duration: max_session_duration(p)?,
    };
    ctx.store().update_role(name, update).await?;
    Ok(Some(String::new()))
}

/// UpdateRoleDescription: answers with the role as it now is.
pub async fn update_role_description(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let name = role_name(p)?.to_owned();
    let text = p.required("Description", "description")?;
    validate::role_description(text)?;
    let update = RoleUpdate {
        description: Some(text.to_owned()),
        max_session_duration: None,
    };
    ctx.store().update_role(name.clone(), update).await?;
    let (role, tags) = ctx.store().get_role(name).await?;
    let mut w = XmlWriter::new();
    write_role(&mut w, "Role", ctx.account(), &role, &tags, Detail::Full);
    Ok(Some(w.finish()))
}

pub async fn update_assume_role_policy(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let name = role_name(p)?.to_owned();
    let doc = trust_document(p, "PolicyDocument", "policyDocument")?;
    ctx.store().update_trust_policy(name, doc).await?;
    Ok(None)
}

pub async fn delete_role(ctx: &Ctx<'_>, p: &Params) -> Reply {
    ctx.store().delete_role(role_name(p)?.to_owned()).await?;
    Ok(None)
}

pub async fn tag_role(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let name = role_name(p)?.to_owned();
    let tags = p.tags()?;
    if tags.is_empty() {
        return Err(IamError::missing("tags"));
    }
    ctx.store().tag_role(name, tags).await?;
    Ok(None)
}

pub async fn untag_role(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let name = role_name(p)?.to_owned();
    let keys: Vec<String> = p
        .members("TagKeys")
        .into_iter()
        .map(str::to_owned)
        .collect();
    if keys.is_empty() {
        return Err(IamError::missing("tagKeys"));
    }
    ctx.store().untag_role(name, keys).await?;
    Ok(None)
}

pub async fn list_role_tags(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let name = role_name(p)?.to_owned();
    let page = ctx
        .store()
        .list_role_tags(name, p.marker()?, p.max_items()?)
        .await?;
    let mut w = XmlWriter::new();
    w.open("Tags");
    for tag in &page.items {
        w.open("member")
            .elem("Key", &tag.key)
            .elem("Value", &tag.value)
            .close("member");
    }
    w.close("Tags");
    write_page_end(&mut w, page.next_marker.as_deref());
    Ok(Some(w.finish()))
}
