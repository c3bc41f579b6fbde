//! Inline policies embedded in users, groups and roles, with AWS's size quota on the total of each
//! principal's inline documents (characters other than whitespace).

use crate::db::sql::{Connection, OptionalExtension};

use super::attachments::Holder;
use super::error::{StoreError, StoreResult};
use super::{page, IamStore, Page};
use crate::policy::document::non_whitespace_len;

/// Total size of all inline policies of one user / one group.
pub const USER_INLINE_QUOTA: usize = 2048;
pub const GROUP_INLINE_QUOTA: usize = 5120;
pub const ROLE_INLINE_QUOTA: usize = 10240;

impl Holder {
    fn inline_table(self) -> (&'static str, &'static str) {
        match self {
            Holder::User => ("user_inline_policies", "user_id"),
            Holder::Group => ("group_inline_policies", "group_id"),
            Holder::Role => ("role_inline_policies", "role_id"),
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Holder::User => "user",
            Holder::Group => "group",
            Holder::Role => "role",
        }
    }
}

fn no_such_policy(holder: Holder, name: &str) -> StoreError {
    StoreError::NoSuchEntity(format!(
        "The {} policy with name {name} cannot be found.",
        holder.noun()
    ))
}

fn holder_id(conn: &Connection, holder: Holder, name: &str) -> StoreResult<String> {
    Ok(match holder {
        Holder::User => super::users::user_by_name(conn, name)?.id,
        Holder::Group => super::groups::group_by_name(conn, name)?.id,
        Holder::Role => super::roles::role_by_name(conn, name)?.id,
    })
}

impl IamStore {
    /// Adds or replaces an inline policy, keeping the principal's total within its quota.
    pub async fn put_inline_policy(
        &self,
        holder: Holder,
        owner: String,
        name: String,
        document: String,
    ) -> StoreResult<()> {
        self.write(move |conn, touched| {
            let id = holder_id(conn, holder, &owner)?;
            let (table, column) = holder.inline_table();
            conn.execute(
                &format!(
                    "INSERT INTO {table} ({column}, name, document) VALUES (?1, ?2, ?3)
                     ON CONFLICT ({column}, name) DO UPDATE SET document = excluded.document"
                ),
                (&id, &name, &document),
            )?;
            let mut stmt =
                conn.prepare_cached(&format!("SELECT document FROM {table} WHERE {column} = ?1"))?;
            let total: usize = stmt
                .query_map([&id], |r| r.get::<_, String>(0))?
                .map(|d| d.map(|d| non_whitespace_len(&d)))
                .sum::<Result<usize, _>>()?;
            let quota = match holder {
                Holder::User => USER_INLINE_QUOTA,
                Holder::Group => GROUP_INLINE_QUOTA,
                Holder::Role => ROLE_INLINE_QUOTA,
            };
            if total > quota {
                return Err(StoreError::LimitExceeded(format!(
                    "Maximum policy size of {quota} bytes exceeded for {} {owner}",
                    holder.noun()
                )));
            }
            holder.touch(touched, &id);
            Ok(())
        })
        .await
    }

    pub async fn get_inline_policy(
        &self,
        holder: Holder,
        owner: String,
        name: String,
    ) -> StoreResult<(String, String)> {
        self.read(move |conn| {
            let id = holder_id(conn, holder, &owner)?;
            let (table, column) = holder.inline_table();
            conn.query_row(
                &format!("SELECT name, document FROM {table} WHERE {column} = ?1 AND name = ?2"),
                (&id, &name),
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or_else(|| no_such_policy(holder, &name))
        })
        .await
    }

    pub async fn list_inline_policies(
        &self,
        holder: Holder,
        owner: String,
        marker: Option<String>,
        max: usize,
    ) -> StoreResult<Page<String>> {
        self.read(move |conn| {
            let id = holder_id(conn, holder, &owner)?;
            let (table, column) = holder.inline_table();
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT name FROM {table} WHERE {column} = ?1 AND (CAST(?2 AS TEXT) IS NULL OR name > ?2) ORDER BY name LIMIT ?3"
            ))?;
            let rows = stmt.query_map((&id, &marker, max + 1), |r| r.get(0))?;
            Ok(page(rows.collect::<Result<_, _>>()?, max, String::clone))
        })
        .await
    }

    pub async fn delete_inline_policy(
        &self,
        holder: Holder,
        owner: String,
        name: String,
    ) -> StoreResult<()> {
        self.write(move |conn, touched| {
            let id = holder_id(conn, holder, &owner)?;
            let (table, column) = holder.inline_table();
            let deleted = conn.execute(
                &format!("DELETE FROM {table} WHERE {column} = ?1 AND name = ?2"),
                (&id, &name),
            )?;
            if deleted == 0 {
                return Err(no_such_policy(holder, &name));
            }
            holder.touch(touched, &id);
            Ok(())
        })
        .await
    }

    /// Counts for GetAccountSummary.
    pub async fn account_counts(&self) -> StoreResult<Vec<(&'static str, i64)>> {
        self.read(|conn| {
            let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0));
            Ok(vec![
                ("Users", count("SELECT count(*) FROM users")?),
                ("Roles", count("SELECT count(*) FROM roles")?),
                ("Groups", count("SELECT count(*) FROM groups")?),
                ("Policies", count("SELECT count(*) FROM policies WHERE aws = 0")?),
                // Identity providers: OpenID Connect ones (no SAML providers are kept).
                ("Providers", count("SELECT count(*) FROM oidc_providers")?),
                ("PolicyVersionsInUse", count(
                    "SELECT (SELECT count(*) FROM user_attached_policies) + (SELECT count(*) FROM group_attached_policies)
                     + (SELECT count(*) FROM role_attached_policies)",
                )?),
                // 1 when the root has keys of its own (the configured credentials aside).
                ("AccountAccessKeysPresent", count(
                    "SELECT EXISTS (SELECT 1 FROM root_access_keys)",
                )?),
            ])
        })
        .await
    }
}
