//! CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey, GetAccessKeyLastUsed.

use super::error::{Code, IamError};
use super::params::Params;
use super::users::user_name;
use super::{iso8601, validate, write_page_end, Ctx, Reply};
use crate::auth::Caller;
use crate::xml::XmlWriter;

/// The user an access-key call is about: `UserName`, or else the calling user. The root has
/// no IAM user, so it must name one.
fn target_user(ctx: &Ctx<'_>, p: &Params) -> Result<String, IamError> {
    if p.get("UserName").is_some() {
        return Ok(user_name(p, "UserName", "userName")?.to_owned());
    }
    match ctx.caller {
        Caller::User { principal, .. } => Ok(principal.name.clone()),
        Caller::Root { .. } => Err(IamError::new(
            Code::ValidationError,
            "Must specify userName when calling with non-User credentials",
        )),
    }
}

pub async fn create_access_key(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let user = target_user(ctx, p)?;
    let (key, secret) = ctx.store().create_access_key(user).await?;
    let mut w = XmlWriter::new();
    w.open("AccessKey")
        .elem("UserName", &key.user_name)
        .elem("AccessKeyId", &key.id)
        .elem("Status", "Active")
        .elem("SecretAccessKey", secret.expose())
        .elem("CreateDate", &iso8601(key.created_at))
        .close("AccessKey");
    Ok(Some(w.finish()))
}

pub async fn list_access_keys(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let user = target_user(ctx, p)?;
    let page = ctx
        .store()
        .list_access_keys(user.clone(), p.marker()?, p.max_items()?)
        .await?;
    let mut w = XmlWriter::new();
    w.elem(
        "UserName",
        page.items
            .first()
            .map_or(user.as_str(), |k| k.user_name.as_str()),
    );
    w.open("AccessKeyMetadata");
    for key in &page.items {
        w.open("member")
            .elem("UserName", &key.user_name)
            .elem("AccessKeyId", &key.id)
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
    let user = target_user(ctx, p)?;
    ctx.store()
        .update_access_key(user, key_id.to_owned(), active)
        .await?;
    Ok(None)
}

pub async fn delete_access_key(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let key_id = p.required("AccessKeyId", "accessKeyId")?;
    validate::access_key_id(key_id)?;
    let user = target_user(ctx, p)?;
    ctx.store()
        .delete_access_key(user, key_id.to_owned())
        .await?;
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
    w.elem("UserName", &user).open("AccessKeyLastUsed");
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
