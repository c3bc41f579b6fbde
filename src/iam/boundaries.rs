//! PutUserPermissionsBoundary, DeleteUserPermissionsBoundary, PutRolePermissionsBoundary,
//! DeleteRolePermissionsBoundary. The boundary is a managed policy (customer or AWS managed)
//! that must exist; removing a boundary an entity does not have changes nothing.

use super::error::IamError;
use super::params::Params;
use super::policies::boundary_ref;
use super::roles::role_name;
use super::users::user_name;
use super::{Ctx, Reply};
use crate::iam_store::boundaries::Bounded;

fn name(p: &Params, kind: Bounded) -> Result<String, IamError> {
    Ok(match kind {
        Bounded::User => user_name(p, "UserName", "userName")?,
        Bounded::Role => role_name(p)?,
    }
    .to_owned())
}

pub async fn put_permissions_boundary(ctx: &Ctx<'_>, p: &Params, kind: Bounded) -> Reply {
    let name = name(p, kind)?;
    let boundary = boundary_ref(ctx, p)?.ok_or_else(|| IamError::missing("permissionsBoundary"))?;
    ctx.store()
        .put_permissions_boundary(kind, name, boundary)
        .await?;
    Ok(None)
}

pub async fn delete_permissions_boundary(ctx: &Ctx<'_>, p: &Params, kind: Bounded) -> Reply {
    let name = name(p, kind)?;
    ctx.store().delete_permissions_boundary(kind, name).await?;
    Ok(None)
}
