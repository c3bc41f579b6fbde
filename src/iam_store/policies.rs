//! Customer-managed policies: versions (at most five, ids never reused), attachments to users
//! and groups, and the rules AWS applies when deleting them.

use crate::db::sql::{Connection, OptionalExtension};

use super::error::{is_unique_violation, StoreError, StoreResult};
use super::{ids, now, page, IamStore, Page};

/// AWS's quotas.
pub const MAX_VERSIONS: i64 = 5;
pub const MAX_ATTACHED: i64 = 10;

#[derive(Debug, Clone)]
pub struct Policy {
    pub id: String,
    pub name: String,
    pub path: String,
    pub description: Option<String>,
    pub default_version: i64,
    pub attachment_count: i64,
    /// How many users and roles have it as their permissions boundary.
    pub boundary_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// An AWS managed policy (`arn:aws:iam::aws:policy/…`): read-only.
    pub aws: bool,
}

#[derive(Debug, Clone)]
pub struct PolicyVersion {
    pub version: i64,
    pub document: Option<String>,
    pub is_default: bool,
    pub created_at: i64,
}

/// Who a policy is attached to: (name, id) of each group, user and role.
#[derive(Debug, Default)]
pub struct Entities {
    pub groups: Vec<(String, String)>,
    pub users: Vec<(String, String)>,
    pub roles: Vec<(String, String)>,
}

/// How a policy is used (`PolicyUsageFilter`): attached as a permissions policy, or as a
/// user's or role's permissions boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    Permissions,
    Boundary,
}

/// Which kinds of entity `list_entities_for_policy` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityFilter {
    All,
    Users,
    Groups,
    Roles,
}

const POLICY_COLUMNS: &str = "p.id, p.name, p.path, p.description, p.default_version,
    (SELECT count(*) FROM user_attached_policies WHERE policy_id = p.id)
      + (SELECT count(*) FROM group_attached_policies WHERE policy_id = p.id)
      + (SELECT count(*) FROM role_attached_policies WHERE policy_id = p.id),
    p.created_at, p.updated_at, p.aws,
    (SELECT count(*) FROM users WHERE permissions_boundary = p.id)
      + (SELECT count(*) FROM roles WHERE permissions_boundary = p.id)";

fn policy_from_row(r: &crate::db::sql::Row<'_>) -> crate::db::sql::Result<Policy> {
    Ok(Policy {
        id: r.get(0)?,
        name: r.get(1)?,
        path: r.get(2)?,
        description: r.get(3)?,
        default_version: r.get(4)?,
        attachment_count: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
        aws: r.get(8)?,
        boundary_count: r.get(9)?,
    })
}

/// A policy reference: its ARN as given, and the (path, name) it parses to, if it names a
/// policy of this account at all.
#[derive(Debug, Clone)]
pub struct PolicyRef {
    pub arn: String,
    pub path_name: Option<(String, String)>,
    /// Whether the ARN's account is `aws` (an AWS managed policy).
    pub aws: bool,
}

fn not_found(arn: &str) -> StoreError {
    StoreError::NoSuchEntity(format!("Policy {arn} does not exist or is not attachable."))
}

pub(super) fn policy_by_ref(conn: &Connection, r: &PolicyRef) -> StoreResult<Policy> {
    let Some((path, name)) = &r.path_name else {
        return Err(not_found(&r.arn));
    };
    let sql = format!(
        "SELECT {POLICY_COLUMNS} FROM policies p WHERE p.name = ?1 AND p.path = ?2 AND p.aws = ?3"
    );
    conn.query_row(&sql, (name, path, r.aws), policy_from_row)
        .optional()?
        .filter(|p| p.name == *name)
        .ok_or_else(|| not_found(&r.arn))
}

/// A listing's marker: the last policy's scope and name (names hold no `:`).
pub(super) fn list_marker(aws: bool, name: &str) -> String {
    format!("{}:{name}", if aws { "aws" } else { "local" })
}

/// (after an AWS policy, name) from a listing's marker.
pub(super) fn split_marker(marker: Option<&str>) -> (bool, Option<String>) {
    match marker.map(|m| m.split_once(':').unwrap_or(("local", m))) {
        Some((scope, name)) => (scope == "aws", Some(name.to_owned())),
        None => (false, None),
    }
}

fn version_count(conn: &Connection, policy_id: &str) -> StoreResult<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM policy_versions WHERE policy_id = ?1",
        [policy_id],
        |r| r.get(0),
    )?)
}

fn no_such_version(r: &PolicyRef, version: i64) -> StoreError {
    StoreError::NoSuchEntity(format!(
        "Policy {} version v{version} does not exist or is not attachable.",
        r.arn
    ))
}

fn touch(conn: &Connection, policy_id: &str) -> StoreResult<()> {
    conn.execute(
        "UPDATE policies SET updated_at = ?2 WHERE id = ?1",
        (policy_id, now()),
    )?;
    Ok(())
}

impl IamStore {
    pub async fn create_policy(
        &self,
        name: String,
        path: String,
        description: Option<String>,
        document: String,
    ) -> StoreResult<Policy> {
        let at = now();
        let policy = Policy {
            id: ids::policy_id(),
            name,
            path,
            description,
            default_version: 1,
            attachment_count: 0,
            boundary_count: 0,
            created_at: at,
            updated_at: at,
            aws: false,
        };
        let created = policy.clone();
        let result = self
            // Attached nowhere yet: nothing for the view.
            .write(move |conn, _| {
                conn.execute(
                    "INSERT INTO policies (id, name, path, description, default_version, next_version, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, 1, 2, ?5, ?5)",
                    (&policy.id, &policy.name, &policy.path, &policy.description, at),
                )?;
                conn.execute(
                    "INSERT INTO policy_versions (policy_id, version, document, created_at) VALUES (?1, 1, ?2, ?3)",
                    (&policy.id, &document, at),
                )?;
                Ok(())
            })
            .await;
        match result {
            Ok(()) => Ok(created),
            Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyExists(format!(
                "A policy called {} already exists. Duplicate names are not allowed.",
                created.name
            ))),
            Err(e) => Err(e),
        }
    }

    pub async fn get_policy(&self, r: PolicyRef) -> StoreResult<Policy> {
        self.read(move |conn| policy_by_ref(conn, &r)).await
    }

    /// `aws`: `None` lists every policy, `Some(true)` only AWS managed ones, `Some(false)`
    /// only the account's own. `Usage::Boundary` lists only the policies some user or role has
    /// as its permissions boundary (any policy may serve as a permissions policy, so
    /// `Usage::Permissions` filters nothing). Sorted by name (AWS's before the account's of the
    /// same name).
    pub async fn list_policies(
        &self,
        aws: Option<bool>,
        usage: Option<Usage>,
        only_attached: bool,
        path_prefix: String,
        marker: Option<String>,
        max: usize,
    ) -> StoreResult<Page<Policy>> {
        self.read(move |conn| {
            let (after_aws, after) = split_marker(marker.as_deref());
            let sql = format!(
                "SELECT {POLICY_COLUMNS} FROM policies p
                 WHERE substr(p.path, 1, length(?1)) = ?1 AND (CAST(?2 AS TEXT) IS NULL OR (p.name, 1 - p.aws) > (?2, ?5))
                 AND (CAST(?6 AS BIGINT) IS NULL OR p.aws = ?6)
                 AND (?3 = 0 OR EXISTS (SELECT 1 FROM user_attached_policies WHERE policy_id = p.id)
                             OR EXISTS (SELECT 1 FROM group_attached_policies WHERE policy_id = p.id)
                             OR EXISTS (SELECT 1 FROM role_attached_policies WHERE policy_id = p.id))
                 AND (?7 = 0 OR EXISTS (SELECT 1 FROM users WHERE permissions_boundary = p.id)
                             OR EXISTS (SELECT 1 FROM roles WHERE permissions_boundary = p.id))
                 ORDER BY p.name, 1 - p.aws LIMIT ?4"
            );
            let only_boundaries = usage == Some(Usage::Boundary);
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(
                (&path_prefix, &after, only_attached, max + 1, i64::from(!after_aws), aws, only_boundaries),
                policy_from_row,
            )?;
            Ok(page(rows.collect::<Result<_, _>>()?, max, |p: &Policy| {
                list_marker(p.aws, &p.name)
            }))
        })
        .await
    }

    /// Deletes a policy that is attached nowhere, is no one's permissions boundary and has
    /// only its default version left (so the view, which holds only policies in use, does
    /// not change).
    pub async fn delete_policy(&self, r: PolicyRef) -> StoreResult<()> {
        self.write(move |conn, _| {
            let policy = policy_by_ref(conn, &r)?;
            if policy.attachment_count > 0 || policy.boundary_count > 0 {
                return Err(StoreError::DeleteConflict("Cannot delete a policy attached to entities.".into()));
            }
            if version_count(conn, &policy.id)? > 1 {
                return Err(StoreError::DeleteConflict(
                    "This policy has more than one version. Before you delete a policy, you must delete the policy's \
                     versions. The default version is deleted with the policy."
                        .into(),
                ));
            }
            conn.execute("DELETE FROM policies WHERE id = ?1", [&policy.id])?;
            Ok(())
        })
        .await
    }

    pub async fn create_policy_version(
        &self,
        r: PolicyRef,
        document: String,
        set_default: bool,
    ) -> StoreResult<PolicyVersion> {
        self.write(move |conn, touched| {
            let policy = policy_by_ref(conn, &r)?;
            if version_count(conn, &policy.id)? >= MAX_VERSIONS {
                return Err(StoreError::LimitExceeded(format!(
                    "A managed policy can have up to {MAX_VERSIONS} versions. Before you create a new version, you \
                     must delete an existing version."
                )));
            }
            let version: i64 =
                conn.query_row("SELECT next_version FROM policies WHERE id = ?1", [&policy.id], |row| row.get(0))?;
            let at = now();
            conn.execute(
                "INSERT INTO policy_versions (policy_id, version, document, created_at) VALUES (?1, ?2, ?3, ?4)",
                (&policy.id, version, &document, at),
            )?;
            conn.execute(
                "UPDATE policies SET next_version = CAST(?2 AS BIGINT) + 1,
                 default_version = CASE WHEN ?3 = 1 THEN ?2 ELSE default_version END, updated_at = ?4 WHERE id = ?1",
                (&policy.id, version, set_default, at),
            )?;
            // Only the default version applies to anyone.
            if set_default {
                touched.policy(&policy.id);
            }
            Ok(PolicyVersion { version, document: None, is_default: set_default, created_at: at })
        })
        .await
    }

    pub async fn get_policy_version(
        &self,
        r: PolicyRef,
        version: i64,
    ) -> StoreResult<PolicyVersion> {
        self.read(move |conn| {
            let policy = policy_by_ref(conn, &r)?;
            conn.query_row(
                "SELECT document, created_at FROM policy_versions WHERE policy_id = ?1 AND version = ?2",
                (&policy.id, version),
                |row| {
                    Ok(PolicyVersion {
                        version,
                        document: Some(row.get(0)?),
                        is_default: version == policy.default_version,
                        created_at: row.get(1)?,
                    })
                },
            )
            .optional()?
            .ok_or_else(|| no_such_version(&r, version))
        })
        .await
    }

    pub async fn list_policy_versions(
        &self,
        r: PolicyRef,
        marker: Option<String>,
        max: usize,
    ) -> StoreResult<Page<PolicyVersion>> {
        self.read(move |conn| {
            let policy = policy_by_ref(conn, &r)?;
            let after: i64 = marker.as_deref().and_then(|m| m.parse().ok()).unwrap_or(0);
            let mut stmt = conn.prepare_cached(
                "SELECT version, created_at FROM policy_versions WHERE policy_id = ?1 AND version > ?2
                 ORDER BY version LIMIT ?3",
            )?;
            let rows = stmt.query_map((&policy.id, after, max + 1), |row| {
                let version: i64 = row.get(0)?;
                Ok(PolicyVersion {
                    version,
                    document: None,
                    is_default: version == policy.default_version,
                    created_at: row.get(1)?,
                })
            })?;
            Ok(page(rows.collect::<Result<_, _>>()?, max, |v: &PolicyVersion| v.version.to_string()))
        })
        .await
    }

    pub async fn set_default_policy_version(&self, r: PolicyRef, version: i64) -> StoreResult<()> {
        self.write(move |conn, touched| {
            let policy = policy_by_ref(conn, &r)?;
            let exists: i64 = conn.query_row(
                "SELECT count(*) FROM policy_versions WHERE policy_id = ?1 AND version = ?2",
                (&policy.id, version),
                |row| row.get(0),
            )?;
            if exists == 0 {
                return Err(no_such_version(&r, version));
            }
            conn.execute(
                "UPDATE policies SET default_version = ?2 WHERE id = ?1",
                (&policy.id, version),
            )?;
            touched.policy(&policy.id);
            touch(conn, &policy.id)
        })
        .await
    }

    /// Deletes a version other than the default, which is the only one the view holds.
    pub async fn delete_policy_version(&self, r: PolicyRef, version: i64) -> StoreResult<()> {
        self.write(move |conn, _| {
            let policy = policy_by_ref(conn, &r)?;
            if version == policy.default_version {
                return Err(StoreError::DeleteConflict(
                    "Cannot delete the default version of a policy.".into(),
                ));
            }
            let deleted = conn.execute(
                "DELETE FROM policy_versions WHERE policy_id = ?1 AND version = ?2",
                (&policy.id, version),
            )?;
            if deleted == 0 {
                return Err(no_such_version(&r, version));
            }
            touch(conn, &policy.id)
        })
        .await
    }
}
