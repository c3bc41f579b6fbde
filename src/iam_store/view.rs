//! The authentication view: every access key with its decrypted secret and the principal it
//! signs as, including all the policy documents that apply to that principal. Requests are
//! authenticated from this map alone, never from SQLite.
//!
//! Invariant: the view is rebuilt after every committed IAM write and before that write is
//! acknowledged, under a lock, from the committed state; so the request after a write sees
//! it, and concurrent writes cannot leave an older state in place.

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::Connection;

use super::access_keys::{all_keys, SealedKey};
use super::error::StoreResult;
use super::ids;
use crate::crypto::{MasterKey, Secret};

/// Where a policy document that applies to a user comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    UserInline(String),
    UserAttached(String),
    GroupInline { group: String, name: String },
    GroupAttached { group: String, policy: String },
}

#[derive(Debug)]
pub struct Principal {
    pub id: String,
    pub name: String,
    pub path: String,
    pub arn: String,
    /// Names of all the groups the user is in.
    pub groups: Vec<String>,
    /// Every document that applies: inline and attached (default version) on the user and
    /// on each of its groups.
    pub policies: Vec<(PolicySource, Arc<str>)>,
}

#[derive(Debug)]
pub struct KeyEntry {
    pub secret: Secret,
    pub active: bool,
    pub principal: Arc<Principal>,
}

#[derive(Debug, Default)]
pub struct AuthView {
    keys: HashMap<String, KeyEntry>,
}

impl AuthView {
    pub fn key(&self, access_key: &str) -> Option<&KeyEntry> {
        self.keys.get(access_key)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Rows read for a rebuild, before secrets are opened.
pub(super) struct Snapshot {
    principals: HashMap<String, Principal>,
    keys: Vec<SealedKey>,
}

pub(super) fn snapshot(conn: &Connection, account: &str) -> StoreResult<Snapshot> {
    let mut principals = HashMap::new();
    each_row(conn, "SELECT id, name, path FROM users", |r| {
        let (id, name, path): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let arn = ids::user_arn(account, &path, &name);
        let principal = Principal {
            id: id.clone(),
            name,
            path,
            arn,
            groups: Vec::new(),
            policies: Vec::new(),
        };
        principals.insert(id, principal);
        Ok(())
    })?;
    let mut add = |user_id: String, f: &mut dyn FnMut(&mut Principal)| {
        if let Some(p) = principals.get_mut(&user_id) {
            f(p);
        }
    };
    each_row(conn, GROUPS, |r| {
        let group: String = r.get(1)?;
        add(r.get(0)?, &mut |p| p.groups.push(group.clone()));
        Ok(())
    })?;
    each_row(conn, USER_INLINE, |r| {
        let (name, doc): (String, String) = (r.get(1)?, r.get(2)?);
        add(r.get(0)?, &mut |p| {
            p.policies.push((
                PolicySource::UserInline(name.clone()),
                Arc::from(doc.as_str()),
            ))
        });
        Ok(())
    })?;
    each_row(conn, USER_ATTACHED, |r| {
        let (name, doc): (String, String) = (r.get(1)?, r.get(2)?);
        add(r.get(0)?, &mut |p| {
            p.policies.push((
                PolicySource::UserAttached(name.clone()),
                Arc::from(doc.as_str()),
            ))
        });
        Ok(())
    })?;
    each_row(conn, GROUP_INLINE, |r| {
        let (group, name, doc): (String, String, String) = (r.get(1)?, r.get(2)?, r.get(3)?);
        let source = PolicySource::GroupInline { group, name };
        add(r.get(0)?, &mut |p| {
            p.policies.push((source.clone(), Arc::from(doc.as_str())))
        });
        Ok(())
    })?;
    each_row(conn, GROUP_ATTACHED, |r| {
        let (group, policy, doc): (String, String, String) = (r.get(1)?, r.get(2)?, r.get(3)?);
        let source = PolicySource::GroupAttached { group, policy };
        add(r.get(0)?, &mut |p| {
            p.policies.push((source.clone(), Arc::from(doc.as_str())))
        });
        Ok(())
    })?;
    let keys = all_keys(conn)?;
    Ok(Snapshot { principals, keys })
}

const GROUPS: &str =
    "SELECT m.user_id, g.name FROM group_members m JOIN groups g ON g.id = m.group_id";
const USER_INLINE: &str = "SELECT user_id, name, document FROM user_inline_policies";
const USER_ATTACHED: &str = "SELECT a.user_id, p.name, v.document FROM user_attached_policies a
     JOIN policies p ON p.id = a.policy_id
     JOIN policy_versions v ON v.policy_id = p.id AND v.version = p.default_version";
const GROUP_INLINE: &str = "SELECT m.user_id, g.name, i.name, i.document FROM group_members m
     JOIN groups g ON g.id = m.group_id JOIN group_inline_policies i ON i.group_id = g.id";
const GROUP_ATTACHED: &str = "SELECT m.user_id, g.name, p.name, v.document FROM group_members m
     JOIN groups g ON g.id = m.group_id JOIN group_attached_policies a ON a.group_id = g.id
     JOIN policies p ON p.id = a.policy_id
     JOIN policy_versions v ON v.policy_id = p.id AND v.version = p.default_version";

fn each_row(
    conn: &Connection,
    sql: &str,
    mut f: impl FnMut(&rusqlite::Row<'_>) -> StoreResult<()>,
) -> StoreResult<()> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        f(row)?;
    }
    Ok(())
}

/// Builds the view from a snapshot, reusing secrets already opened by `previous` (a key's
/// secret never changes) so that a rebuild only decrypts new keys.
pub(super) fn build(snapshot: Snapshot, previous: &AuthView, key: &MasterKey) -> AuthView {
    let principals: HashMap<String, Arc<Principal>> = snapshot
        .principals
        .into_iter()
        .map(|(id, p)| (id, Arc::new(p)))
        .collect();
    let mut keys = HashMap::with_capacity(snapshot.keys.len());
    for SealedKey {
        id: key_id,
        user_id,
        sealed,
        active,
    } in snapshot.keys
    {
        let Some(principal) = principals.get(&user_id) else {
            continue;
        };
        let secret = match previous.keys.get(&key_id) {
            Some(known) => known.secret.clone(),
            None => match key.open_secret(&sealed, key_id.as_bytes()) {
                Ok(secret) => secret,
                Err(e) => {
                    tracing::error!(access_key = %key_id, error = %e, "cannot open an access key's secret; the key is unusable");
                    continue;
                }
            },
        };
        keys.insert(
            key_id,
            KeyEntry {
                secret,
                active,
                principal: Arc::clone(principal),
            },
        );
    }
    AuthView { keys }
}
