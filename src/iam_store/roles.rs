//! Roles, their trust policies and tags. A role's inline and attached policies are kept by
//! `inline` and `attachments` (as `Holder::Role`). Every role write touches the role in the
//! authorization view (its sessions are evaluated from it); the roles' ARNs, which authorizing
//! IAM calls on a role needs, are also kept in `RolePaths`, written before the commit.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::db::sql::{Connection, OptionalExtension};

use super::boundaries::{boundary_arn, boundary_policy};
use super::error::{is_unique_violation, StoreError, StoreResult};
use super::policies::PolicyRef;
use super::{ids, now, page, IamStore, Page, Tag};

/// AWS's default `MaxSessionDuration`, one hour.
pub const DEFAULT_MAX_SESSION_DURATION: i64 = 3600;

#[derive(Debug, Clone)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub path: String,
    pub description: Option<String>,
    pub max_session_duration: i64,
    pub trust_policy: String,
    pub created_at: i64,
    /// The permissions boundary's ARN: read by CreateRole and GetRole only (AWS's listings
    /// leave it out).
    pub permissions_boundary: Option<String>,
}

const ROLE_COLUMNS: &str =
    "id, name, path, description, max_session_duration, trust_policy, created_at";

impl Role {
    fn from_row(row: &crate::db::sql::Row<'_>) -> crate::db::sql::Result<Role> {
        Ok(Role {
            id: row.get(0)?,
            name: row.get(1)?,
            path: row.get(2)?,
            description: row.get(3)?,
            max_session_duration: row.get(4)?,
            trust_policy: row.get(5)?,
            created_at: row.get(6)?,
            permissions_boundary: None,
        })
    }
}

/// A role's changes by UpdateRole / UpdateRoleDescription: each `Some` replaces.
#[derive(Debug, Default)]
pub struct RoleUpdate {
    pub description: Option<String>,
    pub max_session_duration: Option<i64>,
}

pub(super) fn no_such_role(name: &str) -> StoreError {
    StoreError::NoSuchEntity(format!("The role with name {name} cannot be found."))
}

/// The role named `name` (case-insensitively), inside a read or a write.
pub(super) fn role_by_name(conn: &Connection, name: &str) -> StoreResult<Role> {
    conn.query_row(
        &format!("SELECT {ROLE_COLUMNS} FROM roles WHERE name = ?1"),
        [name],
        Role::from_row,
    )
    .optional()?
    .ok_or_else(|| no_such_role(name))
}

/// Every role's name, path and permissions boundary, by its name in lower case: what
/// authorizing an IAM call on a role needs (its ARN, and its boundary for the
/// `iam:PermissionsBoundary` condition key), without a database read on the request path.
/// Roles are never renamed or moved, so only CreateRole and DeleteRole add and remove
/// entries: a role is added before its creation commits and removed after its deletion has,
/// so an existing role is always in it (an entry for a role whose creation failed names a
/// role that does not exist). Entries carry the role's id, so that a deletion's late removal
/// cannot take out the entry of a role created under the same name in between. A boundary
/// is set on the writer inside the write that changes it (so in commit order), and read back
/// from the database when that write fails.
#[derive(Debug, Default)]
pub struct RolePaths(RwLock<HashMap<String, RolePath>>);

#[derive(Debug, Clone)]
struct RolePath {
    id: String,
    name: String,
    path: String,
    /// The ARN of the role's permissions boundary.
    boundary: Option<String>,
}

impl RolePaths {
    /// The role's (name as created, path).
    pub fn get(&self, name: &str) -> Option<(String, String)> {
        let map = self
            .0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(&name.to_ascii_lowercase())
            .map(|r| (r.name.clone(), r.path.clone()))
    }

    /// The ARN of the role's permissions boundary, if the role exists and has one.
    pub fn boundary(&self, name: &str) -> Option<String> {
        let map = self
            .0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(&name.to_ascii_lowercase())
            .and_then(|r| r.boundary.clone())
    }

    fn insert(&self, id: &str, name: &str, path: &str, boundary: Option<String>) {
        let mut map = self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = RolePath {
            id: id.to_owned(),
            name: name.to_owned(),
            path: path.to_owned(),
            boundary,
        };
        map.insert(name.to_ascii_lowercase(), entry);
    }

    /// Sets the boundary of the role with `id`, if it is the one under its name.
    pub(super) fn set_boundary(&self, id: &str, name: &str, boundary: Option<String>) {
        let mut map = self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(entry) = map
            .get_mut(&name.to_ascii_lowercase())
            .filter(|r| r.id == id)
        {
            entry.boundary = boundary;
        }
    }

    /// Removes the entry of the role with `id`, if it is still the one under its name.
    fn remove(&self, id: &str, name: &str) {
        let mut map = self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = name.to_ascii_lowercase();
        if map.get(&key).is_some_and(|r| r.id == id) {
            map.remove(&key);
        }
    }
}

impl IamStore {
    /// Fills `role_paths` from the database, at open; again, whole, when another node changed
    /// IAM (`replace`: roles gone there are dropped here).
    pub(super) async fn load_role_paths(&self) -> StoreResult<()> {
        self.fill_role_paths(false).await
    }

    async fn fill_role_paths(&self, replace: bool) -> StoreResult<()> {
        let account = self.account_id().to_owned();
        let all: Vec<(String, String, String, Option<String>)> = self
            .read(move |conn| {
                let mut stmt = conn.prepare("SELECT id, name, path FROM roles")?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                let rows: Vec<(String, String, String)> = rows.collect::<Result<_, _>>()?;
                let mut all = Vec::with_capacity(rows.len());
                for (id, name, path) in rows {
                    let boundary = boundary_arn(conn, "roles", &id, &account)?;
                    all.push((id, name, path, boundary));
                }
                Ok(all)
            })
            .await?;
        if replace {
            self.role_paths()
                .0
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clear();
        }
        for (id, name, path, boundary) in all {
            self.role_paths().insert(&id, &name, &path, boundary);
        }
        Ok(())
    }

    /// What another node's IAM commit may have changed, read again: the view, built whole,
    /// and every role's path (`crate::cluster`).
    pub async fn follow_other_node(&self) -> StoreResult<()> {
        self.refresh_view().await?;
        self.fill_role_paths(true).await
    }

    /// Creates a role, with the permissions boundary `boundary` names (an existing managed
    /// policy) when given.
    pub async fn create_role(
        &self,
        role: Role,
        tags: Vec<Tag>,
        boundary: Option<PolicyRef>,
    ) -> StoreResult<(Role, Vec<Tag>)> {
        let created = Role {
            id: ids::role_id(),
            created_at: now(),
            permissions_boundary: boundary.as_ref().map(|r| r.arn.clone()),
            ..role
        };
        let row = created.clone();
        let store = self.clone();
        let result = self
            .write(move |conn, touched| {
                touched.role(&row.id);
                let policy = boundary
                    .as_ref()
                    .map(|r| boundary_policy(conn, r))
                    .transpose()?;
                conn.execute(
                    "INSERT INTO roles (id, name, path, description, max_session_duration,
                     trust_policy, created_at, permissions_boundary)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    (
                        &row.id,
                        &row.name,
                        &row.path,
                        &row.description,
                        row.max_session_duration,
                        &row.trust_policy,
                        row.created_at,
                        &policy,
                    ),
                )?;
                super::users::put_tags_in(conn, "role_tags", "role_id", &row.id, &tags)?;
                let tags = super::users::tags_in(conn, "role_tags", "role_id", &row.id)?;
                // Before the commit: see `RolePaths`.
                store.role_paths().insert(
                    &row.id,
                    &row.name,
                    &row.path,
                    row.permissions_boundary.clone(),
                );
                Ok(tags)
            })
            .await;
        match result {
            Ok(tags) => Ok((created, tags)),
            Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyExists(format!(
                "Role with name {} already exists.",
                created.name
            ))),
            Err(e) => Err(e),
        }
    }

    pub async fn get_role(&self, name: String) -> StoreResult<(Role, Vec<Tag>)> {
        let account = self.account_id().to_owned();
        self.read(move |conn| {
            let mut role = role_by_name(conn, &name)?;
            role.permissions_boundary = boundary_arn(conn, "roles", &role.id, &account)?;
            let tags = super::users::tags_in(conn, "role_tags", "role_id", &role.id)?;
            Ok((role, tags))
        })
        .await
    }

    pub async fn list_roles(
        &self,
        path_prefix: String,
        marker: Option<String>,
        max: usize,
    ) -> StoreResult<Page<Role>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {ROLE_COLUMNS} FROM roles
                 WHERE substr(path, 1, length(?1)) = ?1 AND (CAST(?2 AS TEXT) IS NULL OR name > ?2)
                 ORDER BY name LIMIT ?3"
            ))?;
            let rows = stmt.query_map((&path_prefix, &marker, max + 1), Role::from_row)?;
            Ok(page(rows.collect::<Result<_, _>>()?, max, |r: &Role| {
                r.name.clone()
            }))
        })
        .await
    }

    /// Changes a role's description and/or maximum session duration; returns the role.
    pub async fn update_role(&self, name: String, update: RoleUpdate) -> StoreResult<Role> {
        self.write(move |conn, touched| {
            let role = role_by_name(conn, &name)?;
            touched.role(&role.id);
            if let Some(description) = &update.description {
                conn.execute(
                    "UPDATE roles SET description = ?2 WHERE id = ?1",
                    (&role.id, description),
                )?;
            }
            if let Some(duration) = update.max_session_duration {
                conn.execute(
                    "UPDATE roles SET max_session_duration = ?2 WHERE id = ?1",
                    (&role.id, duration),
                )?;
            }
            role_by_name(conn, &name)
        })
        .await
    }

    pub async fn update_trust_policy(&self, name: String, document: String) -> StoreResult<()> {
        self.write(move |conn, touched| {
            let role = role_by_name(conn, &name)?;
            touched.role(&role.id);
            conn.execute(
                "UPDATE roles SET trust_policy = ?2 WHERE id = ?1",
                (&role.id, &document),
            )?;
            Ok(())
        })
        .await
    }

    /// Deletes a role that has no policies left, as AWS requires.
    pub async fn delete_role(&self, name: String) -> StoreResult<()> {
        let deleted = self
            .write(move |conn, touched| {
                let role = role_by_name(conn, &name)?;
                touched.role(&role.id);
                let holds = |sql: &str| -> StoreResult<bool> {
                    Ok(conn.query_row(sql, [&role.id], |r| r.get::<_, i64>(0))? > 0)
                };
                let conflict = |what: &str| {
                    StoreError::DeleteConflict(format!("Cannot delete entity, must {what} first."))
                };
                if holds("SELECT count(*) FROM role_attached_policies WHERE role_id = ?1")? {
                    return Err(conflict("detach all policies"));
                }
                if holds("SELECT count(*) FROM role_inline_policies WHERE role_id = ?1")? {
                    return Err(conflict("delete policies"));
                }
                conn.execute("DELETE FROM roles WHERE id = ?1", [&role.id])?;
                Ok((role.id, role.name))
            })
            .await?;
        // After the commit: see `RolePaths`.
        self.role_paths().remove(&deleted.0, &deleted.1);
        Ok(())
    }

    /// A role's tags are its sessions' `aws:PrincipalTag/*`: tag writes touch the role.
    pub async fn tag_role(&self, name: String, tags: Vec<Tag>) -> StoreResult<()> {
        self.write(move |conn, touched| {
            let role = role_by_name(conn, &name)?;
            touched.role(&role.id);
            super::users::put_tags_in(conn, "role_tags", "role_id", &role.id, &tags)
        })
        .await
    }

    pub async fn untag_role(&self, name: String, keys: Vec<String>) -> StoreResult<()> {
        self.write(move |conn, touched| {
            let role = role_by_name(conn, &name)?;
            touched.role(&role.id);
            super::users::remove_tags_in(conn, "role_tags", "role_id", &role.id, &keys)
        })
        .await
    }

    pub async fn list_role_tags(
        &self,
        name: String,
        marker: Option<String>,
        max: usize,
    ) -> StoreResult<Page<Tag>> {
        self.read(move |conn| {
            let role = role_by_name(conn, &name)?;
            let tags = super::users::tags_in(conn, "role_tags", "role_id", &role.id)?;
            Ok(super::users::tag_page(tags, marker.as_deref(), max))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::RolePaths;

    #[test]
    fn a_late_removal_leaves_a_newer_role_of_the_same_name() {
        let paths = RolePaths::default();
        paths.insert("AROAOLD", "Deployer", "/old/", None);
        assert_eq!(
            paths.get("deployer"),
            Some(("Deployer".into(), "/old/".into()))
        );
        paths.insert("AROANEW", "deployer", "/new/", None);
        paths.set_boundary("AROAOLD", "Deployer", Some("arn:old".into()));
        assert_eq!(paths.boundary("deployer"), None);
        paths.set_boundary("AROANEW", "Deployer", Some("arn:new".into()));
        assert_eq!(paths.boundary("DEPLOYER").as_deref(), Some("arn:new"));
        paths.remove("AROAOLD", "Deployer");
        assert_eq!(
            paths.get("DEPLOYER"),
            Some(("deployer".into(), "/new/".into()))
        );
        paths.remove("AROANEW", "deployer");
        assert_eq!(paths.get("deployer"), None);
    }
}
