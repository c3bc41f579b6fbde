//! CreateUser, GetUser, ListUsers, UpdateUser, DeleteUser, TagUser, UntagUser, ListUserTags.

use super::error::{Code, IamError};
use super::params::Params;
use super::policies::boundary_ref;
use super::{iso8601, validate, write_page_end, Ctx, Reply};
use crate::auth::Caller;
use crate::iam_store::{ids, Tag, User};
use crate::xml::XmlWriter;

/// `<{tag}>` with a user's fields (`User`, or `member` in lists), with tags when given.
pub fn write_user(w: &mut XmlWriter, tag: &str, account: &str, user: &User, tags: Option<&[Tag]>) {
    w.open(tag)
        .elem("Path", &user.path)
        .elem("UserName", &user.name)
        .elem("UserId", &user.id)
        .elem("Arn", &ids::user_arn(account, &user.path, &user.name))
        .elem("CreateDate", &iso8601(user.created_at));
    if let Some(arn) = &user.permissions_boundary {
        write_boundary(w, arn);
    }
    if let Some(tags) = tags.filter(|t| !t.is_empty()) {
        write_tags(w, tags);
    }
    w.close(tag);
}

/// `<PermissionsBoundary>`, as GetUser and GetRole show it.
pub fn write_boundary(w: &mut XmlWriter, arn: &str) {
    w.open("PermissionsBoundary")
        .elem("PermissionsBoundaryType", "Policy")
        .elem("PermissionsBoundaryArn", arn)
        .close("PermissionsBoundary");
}

pub fn write_tags(w: &mut XmlWriter, tags: &[Tag]) {
    w.open("Tags");
    for tag in tags {
        w.open("member")
            .elem("Key", &tag.key)
            .elem("Value", &tag.value)
            .close("member");
    }
    w.close("Tags");
}

/// The `UserName` parameter, validated.
pub fn user_name<'p>(p: &'p Params, param: &str, field: &str) -> Result<&'p str, IamError> {
    let name = p.required(param, field)?;
    validate::user_name(name, field)?;
    Ok(name)
}

pub async fn create_user(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let name = user_name(p, "UserName", "userName")?;
    let path = p.path("Path", "path")?;
    let tags = p.tags()?;
    let boundary = boundary_ref(ctx, p)?;
    let (user, tags) = ctx
        .store()
        .create_user(name.to_owned(), path, tags, boundary)
        .await?;
    let mut w = XmlWriter::new();
    write_user(&mut w, "User", ctx.account(), &user, Some(&tags));
    Ok(Some(w.finish()))
}

/// What IAM answers a role session that leaves out the user name of an action on "the caller".
pub(super) fn not_a_user() -> IamError {
    IamError::new(
        Code::ValidationError,
        "Must specify userName when calling with non-User credentials",
    )
}

/// GetUser; without `UserName`, the caller itself (the root's ARN ends in `:root`).
pub async fn get_user(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let name = match p.get("UserName") {
        Some(_) => user_name(p, "UserName", "userName")?.to_owned(),
        None => match ctx.caller {
            Caller::Root { arn, .. } => {
                let mut w = XmlWriter::new();
                w.open("User")
                    .elem("UserId", ctx.account())
                    .elem("Arn", arn)
                    .elem("CreateDate", &iso8601(0))
                    .close("User");
                return Ok(Some(w.finish()));
            }
            Caller::User { principal, .. } => principal.name.clone(),
            Caller::Role { .. } => return Err(not_a_user()),
        },
    };
    let (user, tags) = ctx.store().get_user(name).await?;
    let mut w = XmlWriter::new();
    write_user(&mut w, "User", ctx.account(), &user, Some(&tags));
    Ok(Some(w.finish()))
}

pub async fn list_users(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let page = ctx
        .store()
        .list_users(p.path_prefix()?, p.marker()?, p.max_items()?)
        .await?;
    let mut w = XmlWriter::new();
    w.open("Users");
    for user in &page.items {
        write_user(&mut w, "member", ctx.account(), user, None);
    }
    w.close("Users");
    write_page_end(&mut w, page.next_marker.as_deref());
    Ok(Some(w.finish()))
}

pub async fn update_user(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let name = user_name(p, "UserName", "userName")?;
    let new_name = match p.get("NewUserName") {
        Some(_) => Some(user_name(p, "NewUserName", "newUserName")?.to_owned()),
        None => None,
    };
    let new_path = match p.get("NewPath") {
        Some(_) => Some(p.path("NewPath", "newPath")?),
        None => None,
    };
    ctx.store()
        .update_user(name.to_owned(), new_name, new_path)
        .await?;
    Ok(None)
}

pub async fn delete_user(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let name = user_name(p, "UserName", "userName")?;
    ctx.store().delete_user(name.to_owned()).await?;
    Ok(None)
}

pub async fn tag_user(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let name = user_name(p, "UserName", "userName")?;
    let tags = p.tags()?;
    if tags.is_empty() {
        return Err(IamError::missing("tags"));
    }
    ctx.store().tag_user(name.to_owned(), tags).await?;
    Ok(None)
}

pub async fn untag_user(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let name = user_name(p, "UserName", "userName")?;
    let keys: Vec<String> = p
        .members("TagKeys")
        .into_iter()
        .map(str::to_owned)
        .collect();
    if keys.is_empty() {
        return Err(IamError::missing("tagKeys"));
    }
    ctx.store().untag_user(name.to_owned(), keys).await?;
    Ok(None)
}

pub async fn list_user_tags(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let name = user_name(p, "UserName", "userName")?;
    let page = ctx
        .store()
        .list_user_tags(name.to_owned(), p.marker()?, p.max_items()?)
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
