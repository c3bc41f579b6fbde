//! The rows the view is made from: all of them for a whole build (`snapshot`), or one user,
//! group or key at a time for an update. Both read policies in the same order (inline, then
//! attached, each by name), so that an updated entry equals the one a whole build makes.

use std::collections::HashMap;

use crate::db::sql::{Connection, OptionalExtension};

use crate::iam_store::access_keys::{all_keys, keys_of_user, root_keys, SealedKey};
use crate::iam_store::error::StoreResult;

/// One policy document of a user or group, as stored (an attached one: its default version).
pub(in crate::iam_store) struct PolicyRow {
    pub name: String,
    pub document: String,
    pub attached: bool,
    /// An attached AWS managed policy.
    pub aws: bool,
}

pub(in crate::iam_store) struct GroupRow {
    pub id: String,
    pub name: String,
    pub path: String,
    pub policies: Vec<PolicyRow>,
}

/// A user's permissions boundary: the managed policy and its default version's document.
pub(in crate::iam_store) struct BoundaryRow {
    pub name: String,
    pub path: String,
    pub document: String,
    /// An AWS managed policy.
    pub aws: bool,
}

pub(in crate::iam_store) struct UserRow {
    pub id: String,
    pub name: String,
    pub path: String,
    pub boundary: Option<BoundaryRow>,
    /// The user's own policies; its groups' come from the groups.
    pub policies: Vec<PolicyRow>,
    /// Ids of the groups it is in, in id order.
    pub groups: Vec<String>,
    pub keys: Vec<SealedKey>,
}

/// A role as its sessions are evaluated: its trust policy, its policies (inline, then
/// attached), its permissions boundary and its tags.
pub(in crate::iam_store) struct RoleRow {
    pub id: String,
    pub name: String,
    pub path: String,
    pub max_session_duration: i64,
    pub trust_policy: String,
    pub policies: Vec<PolicyRow>,
    pub boundary: Option<BoundaryRow>,
    pub tags: Vec<(String, String)>,
}

/// What a member of a changed group needs read again: its own policies are as they were.
pub(in crate::iam_store) struct MemberRow {
    /// Ids of the groups it is in, in id order.
    pub groups: Vec<String>,
    pub keys: Vec<SealedKey>,
}

/// Every row, for a whole build.
pub(in crate::iam_store) struct Snapshot {
    pub groups: Vec<GroupRow>,
    pub users: Vec<UserRow>,
    pub roles: Vec<RoleRow>,
    /// The account root's own keys.
    pub root_keys: Vec<SealedKey>,
}

const ROLES: &str = "SELECT id FROM roles";
const USERS: &str = "SELECT id, name, path FROM users";
const USER_BOUNDARIES: &str = "SELECT u.id, p.name, p.path, v.document, p.aws FROM users u
     JOIN policies p ON p.id = u.permissions_boundary
     JOIN policy_versions v ON v.policy_id = p.id AND v.version = p.default_version";
const BOUNDARY: &str = "SELECT p.name, p.path, v.document, p.aws FROM policies p
     JOIN policy_versions v ON v.policy_id = p.id AND v.version = p.default_version
     WHERE p.id = ?1";
const GROUPS: &str = "SELECT id, name, path FROM groups";
const MEMBERS: &str = "SELECT user_id, group_id FROM group_members ORDER BY user_id, group_id";
const USER_INLINE: &str =
    "SELECT user_id, name, document FROM user_inline_policies ORDER BY user_id, name";
const USER_ATTACHED: &str =
    "SELECT a.user_id, p.name, v.document, p.aws FROM user_attached_policies a
     JOIN policies p ON p.id = a.policy_id
     JOIN policy_versions v ON v.policy_id = p.id AND v.version = p.default_version
     ORDER BY a.user_id, p.name";
const GROUP_INLINE: &str =
    "SELECT group_id, name, document FROM group_inline_policies ORDER BY group_id, name";
const GROUP_ATTACHED: &str =
    "SELECT a.group_id, p.name, v.document, p.aws FROM group_attached_policies a
     JOIN policies p ON p.id = a.policy_id
     JOIN policy_versions v ON v.policy_id = p.id AND v.version = p.default_version
     ORDER BY a.group_id, p.name";

pub(in crate::iam_store) fn snapshot(conn: &Connection) -> StoreResult<Snapshot> {
    let mut groups: HashMap<String, GroupRow> = HashMap::new();
    each_row(conn, GROUPS, |r| {
        let id: String = r.get(0)?;
        let row = GroupRow {
            id: id.clone(),
            name: r.get(1)?,
            path: r.get(2)?,
            policies: Vec::new(),
        };
        groups.insert(id, row);
        Ok(())
    })?;
    for (sql, attached) in [(GROUP_INLINE, false), (GROUP_ATTACHED, true)] {
        each_row(conn, sql, |r| {
            if let Some(group) = groups.get_mut(&r.get::<_, String>(0)?) {
                group.policies.push(policy_row(r, 1, attached)?);
            }
            Ok(())
        })?;
    }
    let mut users: HashMap<String, UserRow> = HashMap::new();
    each_row(conn, USERS, |r| {
        let id: String = r.get(0)?;
        let row = UserRow {
            id: id.clone(),
            name: r.get(1)?,
            path: r.get(2)?,
            boundary: None,
            policies: Vec::new(),
            groups: Vec::new(),
            keys: Vec::new(),
        };
        users.insert(id, row);
        Ok(())
    })?;
    each_row(conn, USER_BOUNDARIES, |r| {
        if let Some(user) = users.get_mut(&r.get::<_, String>(0)?) {
            user.boundary = Some(boundary_row(r, 1)?);
        }
        Ok(())
    })?;
    for (sql, attached) in [(USER_INLINE, false), (USER_ATTACHED, true)] {
        each_row(conn, sql, |r| {
            if let Some(user) = users.get_mut(&r.get::<_, String>(0)?) {
                user.policies.push(policy_row(r, 1, attached)?);
            }
            Ok(())
        })?;
    }
    each_row(conn, MEMBERS, |r| {
        if let Some(user) = users.get_mut(&r.get::<_, String>(0)?) {
            user.groups.push(r.get(1)?);
        }
        Ok(())
    })?;
    for key in all_keys(conn)? {
        if let Some(user) = key.user_id.as_ref().and_then(|id| users.get_mut(id)) {
            user.keys.push(key);
        }
    }
    let mut roles = Vec::new();
    for id in ids(conn, ROLES, "")? {
        roles.extend(role_row(conn, &id)?);
    }
    Ok(Snapshot {
        groups: groups.into_values().collect(),
        users: users.into_values().collect(),
        roles,
        root_keys: root_keys(conn)?,
    })
}

/// Group `id` as committed now; `None` when it no longer exists.
pub(super) fn group_row(conn: &Connection, id: &str) -> StoreResult<Option<GroupRow>> {
    let found = conn
        .prepare_cached("SELECT name, path FROM groups WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((name, path)) = found else {
        return Ok(None);
    };
    let mut policies = Vec::new();
    for (sql, attached) in [
        (
            "SELECT name, document FROM group_inline_policies WHERE group_id = ?1 ORDER BY name",
            false,
        ),
        (
            "SELECT p.name, v.document, p.aws FROM group_attached_policies a
             JOIN policies p ON p.id = a.policy_id
             JOIN policy_versions v ON v.policy_id = p.id AND v.version = p.default_version
             WHERE a.group_id = ?1 ORDER BY p.name",
            true,
        ),
    ] {
        policies.extend(policies_of(conn, sql, id, attached)?);
    }
    Ok(Some(GroupRow {
        id: id.to_owned(),
        name,
        path,
        policies,
    }))
}

/// User `id` as committed now, with its keys; `None` when it no longer exists.
pub(super) fn user_row(conn: &Connection, id: &str) -> StoreResult<Option<UserRow>> {
    let found = conn
        .prepare_cached("SELECT name, path, permissions_boundary FROM users WHERE id = ?1")?
        .query_row([id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get::<_, Option<String>>(2)?))
        })
        .optional()?;
    let Some((name, path, boundary_id)) = found else {
        return Ok(None);
    };
    let boundary = match boundary_id {
        Some(policy) => conn
            .prepare_cached(BOUNDARY)?
            .query_row([policy], |r| boundary_row(r, 0))
            .optional()?,
        None => None,
    };
    let mut policies = Vec::new();
    for (sql, attached) in [
        (
            "SELECT name, document FROM user_inline_policies WHERE user_id = ?1 ORDER BY name",
            false,
        ),
        (
            "SELECT p.name, v.document, p.aws FROM user_attached_policies a
             JOIN policies p ON p.id = a.policy_id
             JOIN policy_versions v ON v.policy_id = p.id AND v.version = p.default_version
             WHERE a.user_id = ?1 ORDER BY p.name",
            true,
        ),
    ] {
        policies.extend(policies_of(conn, sql, id, attached)?);
    }
    let MemberRow { groups, keys } = member_row(conn, id)?;
    Ok(Some(UserRow {
        id: id.to_owned(),
        name,
        path,
        boundary,
        policies,
        groups,
        keys,
    }))
}

/// Role `id` as committed now; `None` when it no longer exists. A role is read whole, also by
/// a whole build: roles are few beside users, and this keeps the two reads one.
pub(super) fn role_row(conn: &Connection, id: &str) -> StoreResult<Option<RoleRow>> {
    let found = conn
        .prepare_cached(
            "SELECT name, path, max_session_duration, trust_policy, permissions_boundary
             FROM roles WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .optional()?;
    let Some((name, path, max_session_duration, trust_policy, boundary)) = found else {
        return Ok(None);
    };
    let mut policies = Vec::new();
    for (sql, attached) in [
        (
            "SELECT name, document FROM role_inline_policies WHERE role_id = ?1 ORDER BY name",
            false,
        ),
        (
            "SELECT p.name, v.document, p.aws FROM role_attached_policies a
             JOIN policies p ON p.id = a.policy_id
             JOIN policy_versions v ON v.policy_id = p.id AND v.version = p.default_version
             WHERE a.role_id = ?1 ORDER BY p.name",
            true,
        ),
    ] {
        policies.extend(policies_of(conn, sql, id, attached)?);
    }
    let boundary = match boundary {
        Some(policy) => conn
            .prepare_cached(BOUNDARY)?
            .query_row([policy], |r| boundary_row(r, 0))
            .optional()?,
        None => None,
    };
    let mut stmt =
        conn.prepare_cached("SELECT key, value FROM role_tags WHERE role_id = ?1 ORDER BY key")?;
    let tags = stmt
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(Some(RoleRow {
        id: id.to_owned(),
        name,
        path,
        max_session_duration,
        trust_policy,
        policies,
        boundary,
        tags,
    }))
}

/// The roles managed policy `id` is attached to or is the permissions boundary of.
pub(super) fn role_holders(conn: &Connection, policy_id: &str) -> StoreResult<Vec<String>> {
    ids(
        conn,
        "SELECT role_id FROM role_attached_policies WHERE policy_id = ?1
         UNION SELECT id FROM roles WHERE permissions_boundary = ?1",
        policy_id,
    )
}

/// The groups and keys of user `id`.
pub(super) fn member_row(conn: &Connection, id: &str) -> StoreResult<MemberRow> {
    let groups = ids(
        conn,
        "SELECT group_id FROM group_members WHERE user_id = ?1 ORDER BY group_id",
        id,
    )?;
    Ok(MemberRow {
        groups,
        keys: keys_of_user(conn, id)?,
    })
}

/// The members of group `id`.
pub(super) fn members(conn: &Connection, group_id: &str) -> StoreResult<Vec<String>> {
    ids(
        conn,
        "SELECT user_id FROM group_members WHERE group_id = ?1",
        group_id,
    )
}

/// The users and the groups managed policy `id` applies to: attached, or a user's
/// permissions boundary.
pub(super) fn holders(
    conn: &Connection,
    policy_id: &str,
) -> StoreResult<(Vec<String>, Vec<String>)> {
    let mut users = ids(
        conn,
        "SELECT user_id FROM user_attached_policies WHERE policy_id = ?1",
        policy_id,
    )?;
    users.extend(ids(
        conn,
        "SELECT id FROM users WHERE permissions_boundary = ?1",
        policy_id,
    )?);
    let groups = ids(
        conn,
        "SELECT group_id FROM group_attached_policies WHERE policy_id = ?1",
        policy_id,
    )?;
    Ok((users, groups))
}

fn policy_row(
    r: &crate::db::sql::Row<'_>,
    first: usize,
    attached: bool,
) -> crate::db::sql::Result<PolicyRow> {
    Ok(PolicyRow {
        name: r.get(first)?,
        document: r.get(first + 1)?,
        attached,
        aws: if attached { r.get(first + 2)? } else { false },
    })
}

fn boundary_row(r: &crate::db::sql::Row<'_>, first: usize) -> crate::db::sql::Result<BoundaryRow> {
    Ok(BoundaryRow {
        name: r.get(first)?,
        path: r.get(first + 1)?,
        document: r.get(first + 2)?,
        aws: r.get(first + 3)?,
    })
}

fn policies_of(
    conn: &Connection,
    sql: &str,
    owner: &str,
    attached: bool,
) -> StoreResult<Vec<PolicyRow>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map([owner], |r| policy_row(r, 0, attached))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The first column of `sql`'s rows; `param` is its `?1`, if it has one.
fn ids(conn: &Connection, sql: &str, param: &str) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows: crate::db::sql::Result<Vec<String>> = match stmt.parameter_count() {
        0 => stmt.query_map([], |r| r.get(0))?.collect(),
        _ => stmt.query_map([param], |r| r.get(0))?.collect(),
    };
    Ok(rows?)
}

fn each_row(
    conn: &Connection,
    sql: &str,
    mut f: impl FnMut(&crate::db::sql::Row<'_>) -> StoreResult<()>,
) -> StoreResult<()> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        f(&row)?;
    }
    Ok(())
}
