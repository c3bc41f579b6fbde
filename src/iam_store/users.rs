//! Users and their tags.

use crate::db::sql::{Connection, OptionalExtension};

use super::boundaries::{boundary_arn, boundary_policy};
use super::error::{is_unique_violation, StoreError, StoreResult};
use super::policies::PolicyRef;
use super::view::Touched;
use super::{ids, now, page, IamStore, Page, Tag, MAX_TAGS};

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub name: String,
    pub path: String,
    pub created_at: i64,
    /// The permissions boundary's ARN: read by CreateUser and GetUser only (AWS's listings
    /// leave it out).
    pub permissions_boundary: Option<String>,
}

impl User {
    fn from_row(row: &crate::db::sql::Row<'_>) -> crate::db::sql::Result<User> {
        Ok(User {
            id: row.get(0)?,
            name: row.get(1)?,
            path: row.get(2)?,
            created_at: row.get(3)?,
            permissions_boundary: None,
        })
    }
}

pub(super) fn no_such_user(name: &str) -> StoreError {
    StoreError::NoSuchEntity(format!("The user with name {name} cannot be found."))
}

/// The user named `name` (case-insensitively), inside a read or a write.
pub(super) fn user_by_name(conn: &Connection, name: &str) -> StoreResult<User> {
    conn.query_row(
        "SELECT id, name, path, created_at FROM users WHERE name = ?1",
        [name],
        User::from_row,
    )
    .optional()?
    .ok_or_else(|| no_such_user(name))
}

fn tags_of(conn: &Connection, user_id: &str) -> StoreResult<Vec<Tag>> {
    tags_in(conn, "user_tags", "user_id", user_id)
}

/// An entity's tags from `table` (`user_tags`, `role_tags`), whose owner column is `column`.
pub(super) fn tags_in(
    conn: &Connection,
    table: &str,
    column: &str,
    id: &str,
) -> StoreResult<Vec<Tag>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT key, value FROM {table} WHERE {column} = ?1 ORDER BY key"
    ))?;
    let rows = stmt.query_map([id], |r| {
        Ok(Tag {
            key: r.get(0)?,
            value: r.get(1)?,
        })
    })?;
    let mut tags: Vec<Tag> = rows.collect::<Result<_, _>>()?;
    // SQLite's NOCASE order (ASCII letters folded, then bytes), whatever the engine's own
    // case-insensitive collation orders by: `tag_page` pages in it.
    tags.sort_by_key(|t| t.key.to_ascii_lowercase());
    Ok(tags)
}

fn put_tags(conn: &Connection, user_id: &str, tags: &[Tag]) -> StoreResult<()> {
    put_tags_in(conn, "user_tags", "user_id", user_id, tags)
}

/// Removes the tags of `keys` (absent ones are no error, as AWS answers).
pub(super) fn remove_tags_in(
    conn: &Connection,
    table: &str,
    column: &str,
    id: &str,
    keys: &[String],
) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(&format!(
        "DELETE FROM {table} WHERE {column} = ?1 AND key = ?2"
    ))?;
    for key in keys {
        stmt.execute((id, key))?;
    }
    Ok(())
}

/// Adds or replaces tags, refusing to go past the per-entity limit.
pub(super) fn put_tags_in(
    conn: &Connection,
    table: &str,
    column: &str,
    id: &str,
    tags: &[Tag],
) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(&format!(
        "INSERT INTO {table} ({column}, key, value) VALUES (?1, ?2, ?3)
         ON CONFLICT ({column}, key) DO UPDATE SET value = excluded.value"
    ))?;
    for tag in tags {
        stmt.execute((id, &tag.key, &tag.value))?;
    }
    let count: usize = conn.query_row(
        &format!("SELECT count(*) FROM {table} WHERE {column} = ?1"),
        [id],
        |r| r.get(0),
    )?;
    if count > MAX_TAGS {
        return Err(StoreError::LimitExceeded(format!(
            "The number of tags has reached the maximum limit of {MAX_TAGS}."
        )));
    }
    Ok(())
}

/// One page of tags (as `tags_in` returns them) after `marker`.
pub(super) fn tag_page(tags: Vec<Tag>, marker: Option<&str>, max: usize) -> Page<Tag> {
    // `tags_in` orders as SQLite's NOCASE collation does, folding ASCII letters only; the
    // marker must compare the same way, or keys with other letters (which tag keys
    // allow) are skipped or repeated across pages.
    let tags: Vec<Tag> = tags
        .into_iter()
        .filter(|t| marker.is_none_or(|m| t.key.to_ascii_lowercase() > m.to_ascii_lowercase()))
        .take(max + 1)
        .collect();
    page(tags, max, |t: &Tag| t.key.clone())
}

impl IamStore {
    /// Creates a user, with the permissions boundary `boundary` names (an existing managed
    /// policy) when given.
    pub async fn create_user(
        &self,
        name: String,
        path: String,
        tags: Vec<Tag>,
        boundary: Option<PolicyRef>,
    ) -> StoreResult<(User, Vec<Tag>)> {
        let user = User {
            id: ids::user_id(),
            name,
            path,
            created_at: now(),
            permissions_boundary: boundary.as_ref().map(|r| r.arn.clone()),
        };
        let created = user.clone();
        let result = self
            .write(move |conn, touched| {
                let policy = boundary
                    .as_ref()
                    .map(|r| boundary_policy(conn, r))
                    .transpose()?;
                conn.execute(
                    "INSERT INTO users (id, name, path, created_at, permissions_boundary)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    (&user.id, &user.name, &user.path, user.created_at, &policy),
                )?;
                touched.user(&user.id);
                put_tags(conn, &user.id, &tags)?;
                tags_of(conn, &user.id)
            })
            .await;
        match result {
            Ok(tags) => Ok((created, tags)),
            Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyExists(format!(
                "User with name {} already exists.",
                created.name
            ))),
            Err(e) => Err(e),
        }
    }

    pub async fn get_user(&self, name: String) -> StoreResult<(User, Vec<Tag>)> {
        let account = self.account_id().to_owned();
        self.read(move |conn| {
            let mut user = user_by_name(conn, &name)?;
            user.permissions_boundary = boundary_arn(conn, "users", &user.id, &account)?;
            let tags = tags_of(conn, &user.id)?;
            Ok((user, tags))
        })
        .await
    }

    pub async fn get_user_by_id(&self, id: String) -> StoreResult<User> {
        self.read(move |conn| {
            conn.query_row(
                "SELECT id, name, path, created_at FROM users WHERE id = ?1",
                [&id],
                User::from_row,
            )
            .optional()?
            .ok_or_else(|| {
                StoreError::NoSuchEntity(format!("The user with id {id} cannot be found."))
            })
        })
        .await
    }

    pub async fn list_users(
        &self,
        path_prefix: String,
        marker: Option<String>,
        max: usize,
    ) -> StoreResult<Page<User>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, name, path, created_at FROM users
                 WHERE substr(path, 1, length(?1)) = ?1 AND (CAST(?2 AS TEXT) IS NULL OR name > ?2)
                 ORDER BY name LIMIT ?3",
            )?;
            let rows = stmt.query_map((&path_prefix, &marker, max + 1), User::from_row)?;
            Ok(page(rows.collect::<Result<_, _>>()?, max, |u: &User| {
                u.name.clone()
            }))
        })
        .await
    }

    /// Renames and/or moves a user; keys, groups and policies follow (they refer to its id).
    pub async fn update_user(
        &self,
        name: String,
        new_name: Option<String>,
        new_path: Option<String>,
    ) -> StoreResult<()> {
        let rename = super::Rename {
            table: "users",
            noun: "User",
            name,
            new_name,
            new_path,
            touch: Touched::user,
        };
        self.rename(rename, |conn, name| Ok(user_by_name(conn, name)?.id))
            .await
    }

    /// Deletes a user that has no access keys, groups or policies left, as AWS requires.
    pub async fn delete_user(&self, name: String) -> StoreResult<()> {
        self.write(move |conn, touched| {
            let user = user_by_name(conn, &name)?;
            let holds = |sql: &str| -> StoreResult<bool> {
                Ok(conn.query_row(sql, [&user.id], |r| r.get::<_, i64>(0))? > 0)
            };
            let conflict = |what: &str| {
                StoreError::DeleteConflict(format!("Cannot delete entity, must {what} first."))
            };
            if holds("SELECT count(*) FROM access_keys WHERE user_id = ?1")? {
                return Err(conflict("delete access keys"));
            }
            if holds("SELECT count(*) FROM group_members WHERE user_id = ?1")? {
                return Err(conflict("remove users from group"));
            }
            if holds("SELECT count(*) FROM user_attached_policies WHERE user_id = ?1")? {
                return Err(conflict("detach all policies"));
            }
            if holds("SELECT count(*) FROM user_inline_policies WHERE user_id = ?1")? {
                return Err(conflict("delete policies"));
            }
            conn.execute("DELETE FROM users WHERE id = ?1", [&user.id])?;
            touched.user(&user.id);
            Ok(())
        })
        .await
    }

    /// Tags feed no condition key (`authz::context` sets no `aws:PrincipalTag/*`, and IAM
    /// requests no `iam:ResourceTag/*`), so tag writes leave the view alone. Should principal
    /// tags ever feed policies, these must touch the user.
    pub async fn tag_user(&self, name: String, tags: Vec<Tag>) -> StoreResult<()> {
        self.write(move |conn, _| {
            let user = user_by_name(conn, &name)?;
            put_tags(conn, &user.id, &tags)
        })
        .await
    }

    pub async fn untag_user(&self, name: String, keys: Vec<String>) -> StoreResult<()> {
        self.write(move |conn, _| {
            let user = user_by_name(conn, &name)?;
            remove_tags_in(conn, "user_tags", "user_id", &user.id, &keys)
        })
        .await
    }

    pub async fn list_user_tags(
        &self,
        name: String,
        marker: Option<String>,
        max: usize,
    ) -> StoreResult<Page<Tag>> {
        self.read(move |conn| {
            let user = user_by_name(conn, &name)?;
            Ok(tag_page(tags_of(conn, &user.id)?, marker.as_deref(), max))
        })
        .await
    }
}
