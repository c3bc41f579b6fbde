//! Groups and their members.

use crate::db::sql::{Connection, OptionalExtension};

use super::error::{is_unique_violation, StoreError, StoreResult};
use super::users::{no_such_user, user_by_name, User};
use super::view::Touched;
use super::{ids, now, page, IamStore, Page};

/// AWS's quota of groups one user may belong to.
pub const MAX_GROUPS_PER_USER: i64 = 10;

#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub path: String,
    pub created_at: i64,
}

impl Group {
    fn from_row(row: &crate::db::sql::Row<'_>) -> crate::db::sql::Result<Group> {
        Ok(Group {
            id: row.get(0)?,
            name: row.get(1)?,
            path: row.get(2)?,
            created_at: row.get(3)?,
        })
    }
}

pub(super) fn no_such_group(name: &str) -> StoreError {
    StoreError::NoSuchEntity(format!("The group with name {name} cannot be found."))
}

pub(super) fn group_by_name(conn: &Connection, name: &str) -> StoreResult<Group> {
    conn.query_row(
        "SELECT id, name, path, created_at FROM groups WHERE name = ?1",
        [name],
        Group::from_row,
    )
    .optional()?
    .ok_or_else(|| no_such_group(name))
}

fn exists(conn: &Connection, sql: &str, id: &str) -> StoreResult<bool> {
    Ok(conn.query_row(sql, [id], |r| r.get::<_, i64>(0))? > 0)
}

impl IamStore {
    pub async fn create_group(&self, name: String, path: String) -> StoreResult<Group> {
        let group = Group {
            id: ids::group_id(),
            name,
            path,
            created_at: now(),
        };
        let created = group.clone();
        let result = self
            .write(move |conn, touched| {
                conn.execute(
                    "INSERT INTO groups (id, name, path, created_at) VALUES (?1, ?2, ?3, ?4)",
                    (&group.id, &group.name, &group.path, group.created_at),
                )?;
                touched.group(&group.id);
                Ok(())
            })
            .await;
        match result {
            Ok(()) => Ok(created),
            Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyExists(format!(
                "Group with name {} already exists.",
                created.name
            ))),
            Err(e) => Err(e),
        }
    }

    /// A group and one page of its members.
    pub async fn get_group(
        &self,
        name: String,
        marker: Option<String>,
        max: usize,
    ) -> StoreResult<(Group, Page<User>)> {
        self.read(move |conn| {
            let group = group_by_name(conn, &name)?;
            let mut stmt = conn.prepare_cached(
                "SELECT u.id, u.name, u.path, u.created_at FROM group_members m JOIN users u ON u.id = m.user_id
                 WHERE m.group_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR u.name > ?2) ORDER BY u.name LIMIT ?3",
            )?;
            let rows = stmt.query_map((&group.id, &marker, max + 1), |r| {
                Ok(User { id: r.get(0)?, name: r.get(1)?, path: r.get(2)?, created_at: r.get(3)?, permissions_boundary: None })
            })?;
            let users = page(rows.collect::<Result<_, _>>()?, max, |u: &User| u.name.clone());
            Ok((group, users))
        })
        .await
    }

    pub async fn list_groups(
        &self,
        path_prefix: String,
        marker: Option<String>,
        max: usize,
    ) -> StoreResult<Page<Group>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, name, path, created_at FROM groups
                 WHERE substr(path, 1, length(?1)) = ?1 AND (CAST(?2 AS TEXT) IS NULL OR name > ?2) ORDER BY name LIMIT ?3",
            )?;
            let rows = stmt.query_map((&path_prefix, &marker, max + 1), Group::from_row)?;
            Ok(page(rows.collect::<Result<_, _>>()?, max, |g: &Group| g.name.clone()))
        })
        .await
    }

    pub async fn list_groups_for_user(
        &self,
        user: String,
        marker: Option<String>,
        max: usize,
    ) -> StoreResult<Page<Group>> {
        self.read(move |conn| {
            let user = user_by_name(conn, &user)?;
            let mut stmt = conn.prepare_cached(
                "SELECT g.id, g.name, g.path, g.created_at FROM group_members m JOIN groups g ON g.id = m.group_id
                 WHERE m.user_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR g.name > ?2) ORDER BY g.name LIMIT ?3",
            )?;
            let rows = stmt.query_map((&user.id, &marker, max + 1), Group::from_row)?;
            Ok(page(rows.collect::<Result<_, _>>()?, max, |g: &Group| g.name.clone()))
        })
        .await
    }

    pub async fn update_group(
        &self,
        name: String,
        new_name: Option<String>,
        new_path: Option<String>,
    ) -> StoreResult<()> {
        let rename = super::Rename {
            table: "groups",
            noun: "Group",
            name,
            new_name,
            new_path,
            touch: Touched::group,
        };
        self.rename(rename, |conn, name| Ok(group_by_name(conn, name)?.id))
            .await
    }

    /// Deletes a group with no members or policies left, as AWS requires.
    pub async fn delete_group(&self, name: String) -> StoreResult<()> {
        self.write(move |conn, touched| {
            let group = group_by_name(conn, &name)?;
            let conflict = |what: &str| {
                StoreError::DeleteConflict(format!("Cannot delete entity, must {what} first."))
            };
            if exists(
                conn,
                "SELECT count(*) FROM group_members WHERE group_id = ?1",
                &group.id,
            )? {
                return Err(conflict("remove users from group"));
            }
            if exists(
                conn,
                "SELECT count(*) FROM group_attached_policies WHERE group_id = ?1",
                &group.id,
            )? {
                return Err(conflict("detach all policies"));
            }
            if exists(
                conn,
                "SELECT count(*) FROM group_inline_policies WHERE group_id = ?1",
                &group.id,
            )? {
                return Err(conflict("delete policies"));
            }
            conn.execute("DELETE FROM groups WHERE id = ?1", [&group.id])?;
            touched.group(&group.id);
            Ok(())
        })
        .await
    }

    /// Adds a user to a group; adding a member again changes nothing, as in AWS.
    pub async fn add_user_to_group(&self, group: String, user: String) -> StoreResult<()> {
        self.write(move |conn, touched| {
            let group = group_by_name(conn, &group)?;
            let user = user_by_name(conn, &user)?;
            let added = conn.execute(
                "INSERT INTO group_members (group_id, user_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                (&group.id, &user.id),
            )?;
            let count: i64 = conn.query_row(
                "SELECT count(*) FROM group_members WHERE user_id = ?1",
                [&user.id],
                |r| r.get(0),
            )?;
            if added > 0 && count > MAX_GROUPS_PER_USER {
                return Err(StoreError::LimitExceeded(format!(
                    "Cannot exceed quota for GroupsPerUser: {MAX_GROUPS_PER_USER}"
                )));
            }
            if added > 0 {
                touched.user(&user.id);
            }
            Ok(())
        })
        .await
    }

    pub async fn remove_user_from_group(&self, group: String, user: String) -> StoreResult<()> {
        self.write(move |conn, touched| {
            let group = group_by_name(conn, &group)?;
            let member = user_by_name(conn, &user)?;
            let removed = conn.execute(
                "DELETE FROM group_members WHERE group_id = ?1 AND user_id = ?2",
                (&group.id, &member.id),
            )?;
            if removed == 0 {
                return Err(no_such_user(&user));
            }
            touched.user(&member.id);
            Ok(())
        })
        .await
    }
}
