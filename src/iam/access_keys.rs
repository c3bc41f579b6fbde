//! CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey, GetAccessKeyLastUsed.

use super::error::IamError;
use super::params::Params;
use super::users::{not_a_user, user_name};
use super::{iso8601, validate, write_page_end, Ctx, Reply};
use crate::auth::Caller;
use crate::xml::XmlWriter;

/// Whose keys an access-key call is about: `UserName`, or else the caller itself (an IAM
/// user's own keys, or the account root's own keys, as AWS does for the root user).
enum Target {
    User(String),
    Root,
}

fn target(ctx: &Ctx<'_>, p: &Params) -> Result<Target, IamError> {
    if p.get("UserName").is_some() {
        return Ok(Target::User(
            user_name(p, "UserName", "userName")?.to_owned(),
        ));
    }
    Ok(match ctx.caller {
        Caller::User { principal, .. } => Target::User(principal.name.clone()),
        Caller::Root { .. } => Target::Root,
        Caller::Role { .. } => return Err(not_a_user()),
    })
}

pub async fn create_access_key(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let (key, secret) = match target(ctx, p)? {
        Target::User(user) => ctx.store().create_access_key(user).await?,
        Target::Root => ctx.store().create_root_access_key().await?,
    };
    let mut w = XmlWriter::new();
    w.open("AccessKey");
    if let Some(user) = &key.user_name {
        w.elem("UserName", user);
    }
    w.elem("AccessKeyId", &key.id)
        .elem("Status", "Active")
        .elem("SecretAccessKey", secret.expose())
        .elem("CreateDate", &iso8601(key.created_at))
        .close("AccessKey");
    Ok(Some(w.finish()))
}

pub async fn list_access_keys(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let (marker, max) = (p.marker()?, p.max_items()?);
    let (user, page) = match target(ctx, p)? {
        Target::User(user) => {
            let page = ctx
                .store()
                .list_access_keys(user.clone(), marker, max)
                .await?;
            (Some(user), page)
        }
        Target::Root => (None, ctx.store().list_root_access_keys(marker, max).await?),
    };
    let mut w = XmlWriter::new();
    // The stored spelling of the name, when a key shows it; the root's keys name no user.
    if let Some(user) = page
        .items
        .first()
        .and_then(|k| k.user_name.as_deref())
        .or(user.as_deref())
    {
        w.elem("UserName", user);
    }
    w.open("AccessKeyMetadata");
    for key in &page.items {
        w.open("member");
        if let Some(user) = &key.user_name {
            w.elem("UserName", user);
        }
        w.elem("AccessKeyId", &key.id)
            .elem("Status", if key.active { "Active" } else { "Inactive" })
            .elem("CreateDate", &iso8601(key.created_at))
            .close("member");
    }
    w.close("AccessKeyMetadata");
    write_page_end(&mut w, page.next_marker.as_deref());
    Ok(Some(w.finish()))
}

pub async fn update_access_key(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let key_id = p.required("AccessKeyId", "accessKeyId")?;
    validate::access_key_id(key_id)?;
    let active = validate::status(p.required("Status", "status")?)?;
    match target(ctx, p)? {
        Target::User(user) => {
            ctx.store()
                .update_access_key(user, key_id.to_owned(), active)
                .await?;
        }
        Target::Root => {
            ctx.store()
                .update_root_access_key(key_id.to_owned(), active)
                .await?;
        }
    }
    Ok(None)
}

pub async fn delete_access_key(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let key_id = p.required("AccessKeyId", "accessKeyId")?;
    validate::access_key_id(key_id)?;
    match target(ctx, p)? {
        Target::User(user) => {
            ctx.store()
                .delete_access_key(user, key_id.to_owned())
                .await?;
        }
        Target::Root => {
            ctx.store()
                .delete_root_access_key(key_id.to_owned())
                .await?
        }
    }
    Ok(None)
}

pub async fn get_access_key_last_used(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let key_id = p.required("AccessKeyId", "accessKeyId")?;
    validate::access_key_id(key_id)?;
    let (user, last) = ctx
        .store()
        .get_access_key_last_used(key_id.to_owned())
        .await?;
    let mut w = XmlWriter::new();
    if let Some(user) = &user {
        w.elem("UserName", user);
    }
    w.open("AccessKeyLastUsed");
    if let Some(at) = last.at {
        w.elem("LastUsedDate", &iso8601(at));
    }
    w.elem("ServiceName", last.service.as_deref().unwrap_or("N/A"))
        .elem(
            "Region",
            last.region
                .as_deref()
                .filter(|r| !r.is_empty())
                .unwrap_or("N/A"),
        )
        .close("AccessKeyLastUsed");
    Ok(Some(w.finish()))
}
