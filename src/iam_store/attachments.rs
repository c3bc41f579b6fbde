//! Managed policies attached to users, groups and roles. Attaching twice changes nothing, as in AWS.

use crate::db::sql::Connection;

use super::aws_policies::AWS_ACCOUNT;
use super::error::{StoreError, StoreResult};
use super::groups::group_by_name;
use super::policies::{
    list_marker, policy_by_ref, split_marker, Entities, EntityFilter, PolicyRef, Usage,
    MAX_ATTACHED,
};
use super::roles::role_by_name;
use super::users::user_by_name;
use super::view::Touched;
use super::{ids, page, IamStore, Page};

/// Users, groups or roles: the table and id resolution for each kind of principal.
#[derive(Debug, Clone, Copy)]
pub enum Holder {
    User,
    Group,
    Role,
}

impl Holder {
    fn table(self) -> &'static str {
        match self {
            Holder::User => "user_attached_policies",
            Holder::Group => "group_attached_policies",
            Holder::Role => "role_attached_policies",
        }
    }

    fn column(self) -> &'static str {
        match self {
            Holder::User => "user_id",
            Holder::Group => "group_id",
            Holder::Role => "role_id",
        }
    }

    fn quota(self) -> &'static str {
        match self {
            Holder::User => "PoliciesPerUser",
            Holder::Group => "PoliciesPerGroup",
            Holder::Role => "PoliciesPerRole",
        }
    }

    /// Records the holder in the view's update: its policies changed.
    pub(super) fn touch(self, touched: &mut Touched, id: &str) {
        match self {
            Holder::User => touched.user(id),
            Holder::Group => touched.group(id),
            Holder::Role => touched.role(id),
        }
    }

    fn id_of(self, conn: &Connection, name: &str) -> StoreResult<String> {
        Ok(match self {
            Holder::User => user_by_name(conn, name)?.id,
            Holder::Group => group_by_name(conn, name)?.id,
            Holder::Role => role_by_name(conn, name)?.id,
        })
    }
}

/// An attached policy as listings show it: (name, ARN).
#[derive(Debug, Clone)]
pub struct Attached {
    pub name: String,
    pub arn: String,
    pub aws: bool,
}

impl IamStore {
    pub async fn attach_policy(
        &self,
        holder: Holder,
        name: String,
        r: PolicyRef,
    ) -> StoreResult<()> {
        self.write(move |conn, touched| {
            let id = holder.id_of(conn, &name)?;
            let policy = policy_by_ref(conn, &r)?;
            let (table, column) = (holder.table(), holder.column());
            let added = conn.execute(
                &format!("INSERT INTO {table} ({column}, policy_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING"),
                (&id, &policy.id),
            )?;
            let count: i64 = conn.query_row(
                &format!("SELECT count(*) FROM {table} WHERE {column} = ?1"),
                [&id],
                |r| r.get(0),
            )?;
            if added > 0 && count > MAX_ATTACHED {
                return Err(StoreError::LimitExceeded(format!(
                    "Cannot exceed quota for {}: {MAX_ATTACHED}",
                    holder.quota()
                )));
            }
            if added > 0 {
                holder.touch(touched, &id);
            }
            Ok(())
        })
        .await
    }

    pub async fn detach_policy(
        &self,
        holder: Holder,
        name: String,
        r: PolicyRef,
    ) -> StoreResult<()> {
        self.write(move |conn, touched| {
            let id = holder.id_of(conn, &name)?;
            let policy = policy_by_ref(conn, &r)?;
            let (table, column) = (holder.table(), holder.column());
            let removed = conn.execute(
                &format!("DELETE FROM {table} WHERE {column} = ?1 AND policy_id = ?2"),
                (&id, &policy.id),
            )?;
            if removed == 0 {
                return Err(StoreError::NoSuchEntity(format!(
                    "Policy {} was not found.",
                    r.arn
                )));
            }
            holder.touch(touched, &id);
            Ok(())
        })
        .await
    }

    pub async fn list_attached_policies(
        &self,
        holder: Holder,
        name: String,
        path_prefix: String,
        marker: Option<String>,
        max: usize,
    ) -> StoreResult<Page<Attached>> {
        let account = self.account_id().to_owned();
        self.read(move |conn| {
            let id = holder.id_of(conn, &name)?;
            let (table, column) = (holder.table(), holder.column());
            let (after_aws, after) = split_marker(marker.as_deref());
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT p.name, p.path, p.aws FROM {table} a JOIN policies p ON p.id = a.policy_id
                 WHERE a.{column} = ?1 AND substr(p.path, 1, length(?2)) = ?2
                 AND (CAST(?3 AS TEXT) IS NULL OR (p.name, 1 - p.aws) > (?3, ?5))
                 ORDER BY p.name, 1 - p.aws LIMIT ?4"
            ))?;
            let rows = stmt.query_map(
                (&id, &path_prefix, &after, max + 1, i64::from(!after_aws)),
                |r| {
                    let (name, path, aws): (String, String, bool) =
                        (r.get(0)?, r.get(1)?, r.get(2)?);
                    let owner = if aws { AWS_ACCOUNT } else { account.as_str() };
                    Ok(Attached {
                        arn: ids::policy_arn(owner, &path, &name),
                        name,
                        aws,
                    })
                },
            )?;
            Ok(page(
                rows.collect::<Result<_, _>>()?,
                max,
                |a: &Attached| list_marker(a.aws, &a.name),
            ))
        })
        .await
    }

    /// The groups, roles and users a policy is attached to (`Usage::Permissions`), has as
    /// their permissions boundary (`Usage::Boundary`: roles and users), or either (`None`;
    /// each entity once). Paging runs over groups first, then roles, then users (the order of
    /// their kind letters); the marker is `g:<name>`, `r:<name>` or `u:<name>`.
    pub async fn list_entities_for_policy(
        &self,
        r: PolicyRef,
        usage: Option<Usage>,
        filter: EntityFilter,
        path_prefix: String,
        marker: Option<String>,
        max: usize,
    ) -> StoreResult<(Entities, Option<String>)> {
        self.read(move |conn| {
            let policy = policy_by_ref(conn, &r)?;
            let mut all: Vec<(char, String, String)> = Vec::new();
            let queries = [
                ('g', EntityFilter::Groups, "SELECT g.name, g.id, g.path FROM group_attached_policies a JOIN groups g ON g.id = a.group_id WHERE a.policy_id = ?1 ORDER BY g.name"),
                ('r', EntityFilter::Roles, "SELECT r.name, r.id, r.path FROM role_attached_policies a JOIN roles r ON r.id = a.role_id WHERE a.policy_id = ?1 ORDER BY r.name"),
                ('u', EntityFilter::Users, "SELECT u.name, u.id, u.path FROM user_attached_policies a JOIN users u ON u.id = a.user_id WHERE a.policy_id = ?1 ORDER BY u.name"),
            ];
            let bounded = [
                ('r', EntityFilter::Roles, "SELECT name, id, path FROM roles WHERE permissions_boundary = ?1 ORDER BY name"),
                ('u', EntityFilter::Users, "SELECT name, id, path FROM users WHERE permissions_boundary = ?1 ORDER BY name"),
            ];
            let attached = usage != Some(Usage::Boundary);
            let boundaries = usage != Some(Usage::Permissions);
            let chosen = queries
                .iter()
                .filter(|_| attached)
                .chain(bounded.iter().filter(|_| boundaries));
            for &(kind, wanted, sql) in chosen {
                if filter != EntityFilter::All && filter != wanted {
                    continue;
                }
                let mut stmt = conn.prepare_cached(sql)?;
                let rows = stmt.query_map([&policy.id], |row| Ok((row.get::<_, String>(0)?, row.get(1)?, row.get::<_, String>(2)?)))?;
                for row in rows {
                    let (name, id, path) = row?;
                    if path.starts_with(&path_prefix) {
                        all.push((kind, name, id));
                    }
                }
            }
            // In the order the queries sort each kind (names without regard to ASCII case),
            // each entity once though it both holds the policy and has it as its boundary.
            all.sort_by_cached_key(|e| (e.0, e.1.to_ascii_lowercase()));
            all.dedup_by(|a, b| a.0 == b.0 && a.2 == b.2);
            let key = |e: &(char, String, String)| format!("{}:{}", e.0, e.1);
            // Resume after the marker's place in the order (groups, then users, names without
            // regard to ASCII case, as the queries sort), not at its position: the entity it
            // names may have been detached since the previous page.
            let start = match &marker {
                Some(m) => {
                    let (kind, name) = m.split_once(':').unwrap_or(("u", m.as_str()));
                    let mark = (kind.chars().next().unwrap_or('u'), name.to_ascii_lowercase());
                    all.iter().position(|e| (e.0, e.1.to_ascii_lowercase()) > mark).unwrap_or(all.len())
                }
                None => 0,
            };
            let cut = page(all.split_off(start.min(all.len())), max, key);
            let mut entities = Entities::default();
            for (kind, name, id) in cut.items {
                match kind {
                    'g' => entities.groups.push((name, id)),
                    'r' => entities.roles.push((name, id)),
                    _ => entities.users.push((name, id)),
                }
            }
            Ok((entities, cut.next_marker))
        })
        .await
    }
}
