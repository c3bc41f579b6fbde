//! The authorization view: every access key with its decrypted secret and the principal it
//! signs as, and every user and group with the compiled policies that apply to it. Requests
//! are authenticated and authorized from this view alone, never from SQLite, and no policy is
//! parsed on the request path.
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
use crate::policy::document::{parse, PolicyKind};
use crate::policy::eval::CompiledPolicy;

/// Where a policy document that applies to a user comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    UserInline(String),
    UserAttached(String),
    GroupInline { group: String, name: String },
    GroupAttached { group: String, policy: String },
}

/// One policy document that applies to a principal, as stored and compiled.
#[derive(Debug, Clone)]
pub struct PolicyEntry {
    pub source: PolicySource,
    pub document: Arc<str>,
    pub compiled: Arc<CompiledPolicy>,
}

/// An IAM user, with everything its policies are evaluated with.
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
    pub policies: Vec<PolicyEntry>,
}

impl Principal {
    /// The compiled identity policies, in the order of `policies`.
    pub fn compiled(&self) -> Vec<&CompiledPolicy> {
        self.policies.iter().map(|p| &*p.compiled).collect()
    }
}

/// An IAM group and the policies attached to or embedded in it.
#[derive(Debug)]
pub struct GroupEntry {
    pub name: String,
    pub path: String,
    pub arn: String,
    pub policies: Vec<PolicyEntry>,
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
    users: HashMap<String, Arc<Principal>>,
    groups: HashMap<String, Arc<GroupEntry>>,
}

impl AuthView {
    pub fn key(&self, access_key: &str) -> Option<&KeyEntry> {
        self.keys.get(access_key)
    }

    /// A user by name; names are unique without regard to ASCII case, as in the store.
    pub fn user(&self, name: &str) -> Option<&Arc<Principal>> {
        self.users.get(&name.to_ascii_lowercase())
    }

    /// A group by name, without regard to ASCII case.
    pub fn group(&self, name: &str) -> Option<&Arc<GroupEntry>> {
        self.groups.get(&name.to_ascii_lowercase())
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Rows read for a rebuild, before secrets are opened and documents compiled.
pub(super) struct Snapshot {
    account: String,
    /// id -> (name, path)
    users: HashMap<String, (String, String)>,
    groups: HashMap<String, (String, String)>,
    /// (user id, group id)
    members: Vec<(String, String)>,
    /// (owner id, policy name, document, attached?) for users and for groups.
    user_policies: Vec<(String, String, String, bool)>,
    group_policies: Vec<(String, String, String, bool)>,
    keys: Vec<SealedKey>,
}

pub(super) fn snapshot(conn: &Connection, account: &str) -> StoreResult<Snapshot> {
    let mut snap = Snapshot {
        account: account.to_owned(),
        users: HashMap::new(),
        groups: HashMap::new(),
        members: Vec::new(),
        user_policies: Vec::new(),
        group_policies: Vec::new(),
        keys: Vec::new(),
    };
    each_row(conn, "SELECT id, name, path FROM users", |r| {
        snap.users.insert(r.get(0)?, (r.get(1)?, r.get(2)?));
        Ok(())
    })?;
    each_row(conn, "SELECT id, name, path FROM groups", |r| {
        snap.groups.insert(r.get(0)?, (r.get(1)?, r.get(2)?));
        Ok(())
    })?;
    each_row(conn, MEMBERS, |r| {
        snap.members.push((r.get(0)?, r.get(1)?));
        Ok(())
    })?;
    for (sql, attached) in [(USER_INLINE, false), (USER_ATTACHED, true)] {
        each_row(conn, sql, |r| {
            snap.user_policies
                .push((r.get(0)?, r.get(1)?, r.get(2)?, attached));
            Ok(())
        })?;
    }
    for (sql, attached) in [(GROUP_INLINE, false), (GROUP_ATTACHED, true)] {
        each_row(conn, sql, |r| {
            snap.group_policies
                .push((r.get(0)?, r.get(1)?, r.get(2)?, attached));
            Ok(())
        })?;
    }
    snap.keys = all_keys(conn)?;
    Ok(snap)
}

const MEMBERS: &str = "SELECT user_id, group_id FROM group_members ORDER BY user_id, group_id";
const USER_INLINE: &str = "SELECT user_id, name, document FROM user_inline_policies";
const USER_ATTACHED: &str = "SELECT a.user_id, p.name, v.document FROM user_attached_policies a
     JOIN policies p ON p.id = a.policy_id
     JOIN policy_versions v ON v.policy_id = p.id AND v.version = p.default_version";
const GROUP_INLINE: &str = "SELECT group_id, name, document FROM group_inline_policies";
const GROUP_ATTACHED: &str = "SELECT a.group_id, p.name, v.document FROM group_attached_policies a
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

/// Compiles each distinct document once per rebuild, reusing what the previous view compiled
/// (documents are immutable text, so equal text means an equal policy).
struct Compiler {
    known: HashMap<Arc<str>, Arc<CompiledPolicy>>,
}

impl Compiler {
    fn new(previous: &AuthView) -> Compiler {
        let users = previous.users.values().flat_map(|u| &u.policies);
        let groups = previous.groups.values().flat_map(|g| &g.policies);
        let known = users
            .chain(groups)
            .map(|p| (Arc::clone(&p.document), Arc::clone(&p.compiled)))
            .collect();
        Compiler { known }
    }

    fn entry(&mut self, source: PolicySource, text: String) -> PolicyEntry {
        if let Some((document, compiled)) = self.known.get_key_value(text.as_str()) {
            return PolicyEntry {
                source,
                document: Arc::clone(document),
                compiled: Arc::clone(compiled),
            };
        }
        let compiled = Arc::new(match parse(&text, PolicyKind::Identity) {
            Ok(doc) => CompiledPolicy::compile(&doc),
            Err(e) => {
                // Stored documents were validated when written; one that no longer parses
                // must not silently drop a Deny.
                tracing::error!(?source, error = %e, "a stored policy does not parse; it denies everything until replaced");
                CompiledPolicy::deny_all()
            }
        });
        let document: Arc<str> = Arc::from(text);
        self.known
            .insert(Arc::clone(&document), Arc::clone(&compiled));
        PolicyEntry {
            source,
            document,
            compiled,
        }
    }
}

/// Builds the view from a snapshot, reusing secrets already opened by `previous` (a key's
/// secret never changes) so that a rebuild only decrypts new keys, and compiled documents
/// so that it only compiles new ones.
pub(super) fn build(snapshot: Snapshot, previous: &AuthView, key: &MasterKey) -> AuthView {
    let Snapshot {
        account,
        users,
        groups,
        members,
        user_policies,
        group_policies,
        keys: sealed_keys,
    } = snapshot;
    let mut compiler = Compiler::new(previous);
    let mut group_entries: HashMap<String, GroupEntry> = groups
        .into_iter()
        .map(|(id, (name, path))| {
            let arn = ids::group_arn(&account, &path, &name);
            let entry = GroupEntry {
                name,
                path,
                arn,
                policies: Vec::new(),
            };
            (id, entry)
        })
        .collect();
    for (group_id, name, text, attached) in group_policies {
        let Some(group) = group_entries.get_mut(&group_id) else {
            continue;
        };
        let group_name = group.name.clone();
        let source = match attached {
            true => PolicySource::GroupAttached {
                group: group_name,
                policy: name,
            },
            false => PolicySource::GroupInline {
                group: group_name,
                name,
            },
        };
        group.policies.push(compiler.entry(source, text));
    }
    let mut principals: HashMap<String, Principal> = users
        .into_iter()
        .map(|(id, (name, path))| {
            let arn = ids::user_arn(&account, &path, &name);
            let principal = Principal {
                id: id.clone(),
                name,
                path,
                arn,
                groups: Vec::new(),
                policies: Vec::new(),
            };
            (id, principal)
        })
        .collect();
    for (user_id, name, text, attached) in user_policies {
        let Some(user) = principals.get_mut(&user_id) else {
            continue;
        };
        let source = match attached {
            true => PolicySource::UserAttached(name),
            false => PolicySource::UserInline(name),
        };
        user.policies.push(compiler.entry(source, text));
    }
    for (user_id, group_id) in members {
        let (Some(user), Some(group)) =
            (principals.get_mut(&user_id), group_entries.get(&group_id))
        else {
            continue;
        };
        user.groups.push(group.name.clone());
        user.policies.extend(group.policies.iter().cloned());
    }
    let principals: HashMap<String, Arc<Principal>> = principals
        .into_iter()
        .map(|(id, p)| (id, Arc::new(p)))
        .collect();
    let mut keys = HashMap::with_capacity(sealed_keys.len());
    for SealedKey {
        id: key_id,
        user_id,
        sealed,
        active,
    } in sealed_keys
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
    let users = principals
        .into_values()
        .map(|p| (p.name.to_ascii_lowercase(), p))
        .collect();
    let groups = group_entries
        .into_values()
        .map(|g| (g.name.to_ascii_lowercase(), Arc::new(g)))
        .collect();
    AuthView {
        keys,
        users,
        groups,
    }
}
