//! CreateGroup, GetGroup, ListGroups, ListGroupsForUser, UpdateGroup, DeleteGroup,
//! AddUserToGroup, RemoveUserFromGroup.

use super::error::IamError;
use super::params::Params;
use super::users::{user_name, write_user};
use super::{iso8601, validate, write_page_end, Ctx, Reply};
use crate::iam_store::groups::Group;
use crate::iam_store::ids;
use crate::xml::XmlWriter;

fn write_group(w: &mut XmlWriter, tag: &str, account: &str, group: &Group) {
    w.open(tag)
        .elem("Path", &group.path)
        .elem("GroupName", &group.name)
        .elem("GroupId", &group.id)
        .elem("Arn", &ids::group_arn(account, &group.path, &group.name))
        .elem("CreateDate", &iso8601(group.created_at))
        .close(tag);
}

/// The `GroupName` parameter, validated.
pub fn group_name<'p>(p: &'p Params, param: &str, field: &str) -> Result<&'p str, IamError> {
    let name = p.required(param, field)?;
    validate::group_name(name, field)?;
    Ok(name)
}

fn write_groups(w: &mut XmlWriter, account: &str, groups: &[Group], next: Option<&str>) {
    w.open("Groups");
    for group in groups {
        write_group(w, "member", account, group);
    }
    w.close("Groups");
    write_page_end(w, next);
}

pub async fn create_group(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let name = group_name(p, "GroupName", "groupName")?;
    let path = p.path("Path", "path")?;
    let group = ctx.store().create_group(name.to_owned(), path).await?;
    let mut w = XmlWriter::new();
    write_group(&mut w, "Group", ctx.account(), &group);
    Ok(Some(w.finish()))
}

pub async fn get_group(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let name = group_name(p, "GroupName", "groupName")?;
    let (group, users) = ctx
        .store()
        .get_group(name.to_owned(), p.marker()?, p.max_items()?)
        .await?;
    let mut w = XmlWriter::new();
    write_group(&mut w, "Group", ctx.account(), &group);
    w.open("Users");
    for user in &users.items {
        write_user(&mut w, "member", ctx.account(), user, None);
    }
    w.close("Users");
    write_page_end(&mut w, users.next_marker.as_deref());
    Ok(Some(w.finish()))
}

pub async fn list_groups(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let page = ctx
        .store()
        .list_groups(p.path_prefix()?, p.marker()?, p.max_items()?)
        .await?;
    let mut w = XmlWriter::new();
    write_groups(
        &mut w,
        ctx.account(),
        &page.items,
        page.next_marker.as_deref(),
    );
    Ok(Some(w.finish()))
}

pub async fn list_groups_for_user(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let user = user_name(p, "UserName", "userName")?;
    let page = ctx
        .store()
        .list_groups_for_user(user.to_owned(), p.marker()?, p.max_items()?)
        .await?;
    let mut w = XmlWriter::new();
    write_groups(
        &mut w,
        ctx.account(),
        &page.items,
        page.next_marker.as_deref(),
    );
    Ok(Some(w.finish()))
}

pub async fn update_group(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let name = group_name(p, "GroupName", "groupName")?;
    let new_name = match p.get("NewGroupName") {
        Some(_) => Some(group_name(p, "NewGroupName", "newGroupName")?.to_owned()),
        None => None,
    };
    let new_path = match p.get("NewPath") {
        Some(_) => Some(p.path("NewPath", "newPath")?),
        None => None,
    };
    ctx.store()
        .update_group(name.to_owned(), new_name, new_path)
        .await?;
    Ok(None)
}

pub async fn delete_group(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let name = group_name(p, "GroupName", "groupName")?;
    ctx.store().delete_group(name.to_owned()).await?;
    Ok(None)
}

pub async fn add_user_to_group(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let group = group_name(p, "GroupName", "groupName")?;
    let user = user_name(p, "UserName", "userName")?;
    ctx.store()
        .add_user_to_group(group.to_owned(), user.to_owned())
        .await?;
    Ok(None)
}

pub async fn remove_user_from_group(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let group = group_name(p, "GroupName", "groupName")?;
    let user = user_name(p, "UserName", "userName")?;
    ctx.store()
        .remove_user_from_group(group.to_owned(), user.to_owned())
        .await?;
    Ok(None)
}
