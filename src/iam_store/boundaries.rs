//! Permissions boundaries: the managed policy (customer or AWS managed) that caps what a user's
//! or a role's identity policies may grant, kept by id in the `permissions_boundary` column of
//! `users` and `roles`. Setting or removing a user's boundary touches the user in the view;
//! a role's is kept in `RolePaths` beside it (for the `iam:PermissionsBoundary` condition key
//! of IAM calls on the role), in commit order.

use crate::db::sql::{Connection, OptionalExtension};

use super::error::StoreResult;
use super::ids;
use super::policies::{policy_by_ref, PolicyRef};
use super::roles::role_by_name;
use super::users::user_by_name;
use super::IamStore;

/// Who can have a boundary: a user or a role (AWS has none for groups).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bounded {
    User,
    Role,
}

impl Bounded {
    fn table(self) -> &'static str {
        match self {
            Bounded::User => "users",
            Bounded::Role => "roles",
        }
    }

    /// The entity's id and its name as stored.
    fn find(self, conn: &Connection, name: &str) -> StoreResult<(String, String)> {
        Ok(match self {
            Bounded::User => {
                let user = user_by_name(conn, name)?;
                (user.id, user.name)
            }
            Bounded::Role => {
                let role = role_by_name(conn, name)?;
                (role.id, role.name)
            }
        })
    }
}

/// The id of the managed policy `r` names, which must exist: AWS's `NoSuchEntity` ("Policy …
/// does not exist or is not attachable.") otherwise.
pub(super) fn boundary_policy(conn: &Connection, r: &PolicyRef) -> StoreResult<String> {
    Ok(policy_by_ref(conn, r)?.id)
}

/// The ARN of the boundary of the entity with `id` in `table`, if it has one.
pub(super) fn boundary_arn(
    conn: &Connection,
    table: &str,
    id: &str,
    account: &str,
) -> StoreResult<Option<String>> {
    let sql = format!(
        "SELECT p.name, p.path, p.aws FROM {table} e JOIN policies p ON p.id = e.permissions_boundary
         WHERE e.id = ?1"
    );
    let found = conn
        .prepare_cached(&sql)?
        .query_row([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
            ))
        })
        .optional()?;
    Ok(found.map(|(name, path, aws)| {
        let owner = if aws {
            ids::AWS_POLICY_ACCOUNT
        } else {
            account
        };
        ids::policy_arn(owner, &path, &name)
    }))
}

impl IamStore {
    /// Sets (or replaces) the boundary of user or role `name` to the managed policy `r`.
    pub async fn put_permissions_boundary(
        &self,
        kind: Bounded,
        name: String,
        r: PolicyRef,
    ) -> StoreResult<()> {
        let arn = r.arn.clone();
        self.set_boundary(kind, name, Some((r, arn))).await
    }

    /// Removes the boundary of user or role `name`; one without a boundary is left as it is.
    pub async fn delete_permissions_boundary(
        &self,
        kind: Bounded,
        name: String,
    ) -> StoreResult<()> {
        self.set_boundary(kind, name, None).await
    }

    async fn set_boundary(
        &self,
        kind: Bounded,
        name: String,
        boundary: Option<(PolicyRef, String)>,
    ) -> StoreResult<()> {
        let store = self.clone();
        let lookup = name.clone();
        let result = self
            .write(move |conn, touched| {
                let (id, stored_name) = kind.find(conn, &name)?;
                let (policy, arn) = match &boundary {
                    Some((r, arn)) => (Some(boundary_policy(conn, r)?), Some(arn.clone())),
                    None => (None, None),
                };
                conn.execute(
                    &format!(
                        "UPDATE {} SET permissions_boundary = ?2 WHERE id = ?1",
                        kind.table()
                    ),
                    (&id, &policy),
                )?;
                match kind {
                    Bounded::User => touched.user(&id),
                    // In commit order, on the writer: see `RolePaths`.
                    Bounded::Role => {
                        touched.role(&id);
                        store.role_paths().set_boundary(&id, &stored_name, arn);
                    }
                }
                Ok(())
            })
            .await;
        if result.is_err() && kind == Bounded::Role {
            // The map may hold what did not commit: read back what did.
            self.sync_role_boundary(lookup).await;
        }
        result
    }

    /// Puts role `name`'s committed boundary into `RolePaths` (after a failed write).
    async fn sync_role_boundary(&self, name: String) {
        let account = self.account_id().to_owned();
        let read = self
            .read(move |conn| match role_by_name(conn, &name) {
                Ok(role) => {
                    let arn = boundary_arn(conn, "roles", &role.id, &account)?;
                    Ok(Some((role.id, role.name, arn)))
                }
                Err(_) => Ok(None),
            })
            .await;
        match read {
            Ok(Some((id, name, arn))) => self.role_paths().set_boundary(&id, &name, arn),
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "cannot read a role's permissions boundary back");
            }
        }
    }
}
