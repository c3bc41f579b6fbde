//! The authorization view: every access key with its decrypted secret and the principal it
//! signs as, and every user and group with the compiled policies that apply to it. Requests
//! are authenticated and authorized from this view alone, never from SQLite, and no policy is
//! parsed on the request path.
//!
//! Invariant: a committed IAM write that changes what the view holds is in the view before it
//! is acknowledged, and views follow one another in commit order. The whole view is built from
//! SQLite only at open (and after a write whose update did not finish); every other write
//! names the users, groups, policies and keys it touched (`Touched`), reads them back inside
//! its own transaction (`Delta`) and replaces just those entries in a copy of the current
//! view that shares every shard of its maps the write did not change (`shared`,
//! `delta::apply`). Writes that touch nothing the view holds (tags, last-used
//! times) leave the view as it is. `IamStore::write` holds the lock and spawns the task that
//! makes this so.

mod delta;
mod documents;
mod rows;
mod shared;

use std::sync::Arc;

pub(super) use delta::{apply, build, Touched};
pub(super) use documents::Documents;
pub(super) use rows::snapshot;
use rows::{BoundaryRow, GroupRow, MemberRow, PolicyRow, RoleRow, UserRow};
use shared::Shared;

use super::access_keys::SealedKey;
use super::ids;
use crate::crypto::{MasterKey, Secret};
use crate::policy::document::{parse, PolicyKind};
use crate::policy::eval::CompiledPolicy;

/// Where a policy document that applies to a user comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    UserInline(String),
    UserAttached {
        policy: String,
        aws: bool,
    },
    GroupInline {
        group: String,
        name: String,
    },
    GroupAttached {
        group: String,
        policy: String,
        aws: bool,
    },
    RoleInline(String),
    RoleAttached {
        policy: String,
        aws: bool,
    },
    /// A user's or role's permissions boundary (a managed policy, by name and ARN).
    Boundary {
        policy: String,
        arn: String,
        aws: bool,
    },
}

impl PolicySource {
    /// The policy in words, for the audit trail: `user inline policy P`, `managed policy
    /// P`, `group G managed policy P`, `permissions boundary P`, ….
    pub fn describe(&self) -> String {
        let managed = |aws: bool| {
            if aws {
                "AWS managed policy"
            } else {
                "managed policy"
            }
        };
        match self {
            PolicySource::UserInline(name) => format!("user inline policy {name}"),
            PolicySource::UserAttached { policy, aws }
            | PolicySource::RoleAttached { policy, aws } => {
                format!("{} {policy}", managed(*aws))
            }
            PolicySource::GroupInline { group, name } => {
                format!("group {group} inline policy {name}")
            }
            PolicySource::GroupAttached { group, policy, aws } => {
                format!("group {group} {} {policy}", managed(*aws))
            }
            PolicySource::RoleInline(name) => format!("role inline policy {name}"),
            PolicySource::Boundary { policy, .. } => format!("permissions boundary {policy}"),
        }
    }
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
    /// The permissions boundary (its policy's default version), which caps what `policies`
    /// grant; its source is `PolicySource::Boundary`.
    pub boundary: Option<PolicyEntry>,
}

impl Principal {
    /// The ARN of the user's permissions boundary, if it has one.
    pub fn boundary_arn(&self) -> Option<&str> {
        match self.boundary.as_ref().map(|b| &b.source) {
            Some(PolicySource::Boundary { arn, .. }) => Some(arn),
            _ => None,
        }
    }

    /// The compiled identity policies, in the order of `policies`.
    pub fn compiled(&self) -> Vec<&CompiledPolicy> {
        self.policies.iter().map(|p| &*p.compiled).collect()
    }
}

/// An IAM group and the policies attached to or embedded in it.
#[derive(Debug)]
pub struct GroupEntry {
    pub id: String,
    pub name: String,
    pub path: String,
    pub arn: String,
    pub policies: Vec<PolicyEntry>,
}

/// An IAM role, with everything its sessions are evaluated with.
#[derive(Debug)]
pub struct RoleEntry {
    pub id: String,
    pub name: String,
    pub path: String,
    pub arn: String,
    pub max_session_duration: i64,
    /// Who may assume it: compiled as the role's resource policy.
    pub trust: CompiledPolicy,
    /// Inline, then attached (default version).
    pub policies: Vec<PolicyEntry>,
    pub boundary: Option<PolicyEntry>,
    /// Its tags, as `aws:PrincipalTag/*` reads them for its sessions.
    pub tags: Vec<(String, String)>,
}

impl RoleEntry {
    /// The compiled identity policies, in the order of `policies`.
    pub fn compiled(&self) -> Vec<&CompiledPolicy> {
        self.policies.iter().map(|p| &*p.compiled).collect()
    }
}

#[derive(Debug)]
pub struct KeyEntry {
    pub secret: Secret,
    pub active: bool,
    pub owner: KeyOwner,
}

/// Whom an access key signs as.
#[derive(Debug)]
pub enum KeyOwner {
    /// The account root: one of its own keys (not the configured root credentials).
    Root,
    User(Arc<Principal>),
}

/// Cloning is cheap (five shard tables): an update clones the current view and replaces
/// entries, copying only the shards they are in.
#[derive(Debug, Default, Clone)]
pub struct AuthView {
    /// Access key id -> its secret and owner.
    keys: Shared<Arc<KeyEntry>>,
    /// Lower-cased name -> user: names are unique without regard to ASCII case.
    users: Shared<Arc<Principal>>,
    groups: Shared<Arc<GroupEntry>>,
    /// Id -> lower-cased name: the store names what a write touched by id.
    user_names: Shared<Arc<str>>,
    group_names: Shared<Arc<str>>,
    /// Role id -> role: sessions name their role by id.
    roles: Shared<Arc<RoleEntry>>,
    /// Lower-cased role name -> id.
    role_ids: Shared<Arc<str>>,
}

impl AuthView {
    pub fn key(&self, access_key: &str) -> Option<&KeyEntry> {
        self.keys.get(access_key).map(|entry| &**entry)
    }

    /// A user by name; names are unique without regard to ASCII case, as in the store.
    pub fn user(&self, name: &str) -> Option<&Arc<Principal>> {
        self.users.get(name.to_ascii_lowercase().as_str())
    }

    /// A group by name, without regard to ASCII case.
    pub fn group(&self, name: &str) -> Option<&Arc<GroupEntry>> {
        self.groups.get(name.to_ascii_lowercase().as_str())
    }

    /// A role by id (what a session names).
    pub fn role(&self, id: &str) -> Option<&Arc<RoleEntry>> {
        self.roles.get(id)
    }

    /// A role by name, without regard to ASCII case.
    pub fn role_by_name(&self, name: &str) -> Option<&Arc<RoleEntry>> {
        self.role(self.role_ids.get(name.to_ascii_lowercase().as_str())?)
    }

    /// A user by id (what a GetSessionToken session names).
    pub fn user_with_id(&self, id: &str) -> Option<&Arc<Principal>> {
        self.user_by_id(id)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn user_by_id(&self, id: &str) -> Option<&Arc<Principal>> {
        self.users.get(self.user_names.get(id)?)
    }

    fn group_by_id(&self, id: &str) -> Option<&Arc<GroupEntry>> {
        self.groups.get(self.group_names.get(id)?)
    }

    /// Drops group `id` and gives back its documents. Its members must be put again after.
    fn remove_group(&mut self, documents: &mut Documents, id: &str) {
        let Some(name) = self.group_names.remove(id) else {
            return;
        };
        if let Some(old) = self.groups.remove(&name) {
            documents.release(&old.policies);
        }
    }

    /// Puts group `row` in place of the one with its id, if any. Its members must be put
    /// again after.
    fn put_group(&mut self, documents: &mut Documents, account: &str, row: GroupRow) {
        let GroupRow {
            id,
            name,
            path,
            policies,
        } = row;
        // Counted before the old entry is let go, so that a document both use stays compiled.
        let policies = policies
            .into_iter()
            .map(
                |PolicyRow {
                     name: policy,
                     document,
                     attached,
                     aws,
                 }| {
                    let group = name.clone();
                    let source = match attached {
                        true => PolicySource::GroupAttached { group, policy, aws },
                        false => PolicySource::GroupInline {
                            group,
                            name: policy,
                        },
                    };
                    documents.entry(source, document)
                },
            )
            .collect();
        self.remove_group(documents, &id);
        let key: Arc<str> = Arc::from(name.to_ascii_lowercase());
        let entry = GroupEntry {
            arn: ids::group_arn(account, &path, &name),
            id: id.clone(),
            name,
            path,
            policies,
        };
        self.group_names.insert(Arc::from(id), Arc::clone(&key));
        self.groups.insert(key, Arc::new(entry));
    }

    /// Drops user `id` and gives back its documents. Its keys stay until they are removed or
    /// put again (a user with keys cannot be deleted).
    fn remove_user(&mut self, documents: &mut Documents, id: &str) {
        let Some(name) = self.user_names.remove(id) else {
            return;
        };
        if let Some(old) = self.users.remove(&name) {
            documents.release(&old.policies);
            documents.release(old.boundary.as_slice());
        }
    }

    /// Puts user `row` in place of the one with its id.
    fn put_user(&mut self, documents: &mut Documents, ctx: &Ctx<'_>, row: UserRow) {
        let own = row
            .policies
            .into_iter()
            .map(
                |PolicyRow {
                     name,
                     document,
                     attached,
                     aws,
                 }| {
                    let source = match attached {
                        true => PolicySource::UserAttached { policy: name, aws },
                        false => PolicySource::UserInline(name),
                    };
                    documents.entry(source, document)
                },
            )
            .collect();
        let boundary = row
            .boundary
            .map(|row| boundary_entry(documents, ctx.account, row));
        let user = User {
            id: row.id,
            name: row.name,
            path: row.path,
            boundary,
        };
        self.insert_user(documents, ctx, user, own, &row.groups, row.keys);
    }

    /// Puts user `id` again with its own policies as they were and its groups' as this view
    /// holds them now: for the members of a group that changed. A user the view does not
    /// hold is left out.
    fn put_member(&mut self, documents: &mut Documents, ctx: &Ctx<'_>, id: &str, row: MemberRow) {
        let Some(old) = self.user_by_id(id).map(Arc::clone) else {
            return;
        };
        let own: Vec<PolicyEntry> = old
            .policies
            .iter()
            .filter(|p| {
                matches!(
                    p.source,
                    PolicySource::UserInline(_) | PolicySource::UserAttached { .. }
                )
            })
            .cloned()
            .collect();
        documents.retain(&own);
        documents.retain(old.boundary.as_slice());
        let user = User {
            id: old.id.clone(),
            name: old.name.clone(),
            path: old.path.clone(),
            boundary: old.boundary.clone(),
        };
        self.insert_user(documents, ctx, user, own, &row.groups, row.keys);
    }

    /// Replaces the user with `own` (already counted) and the policies of `group_ids`, and
    /// points its keys at the new entry. Secrets are taken from `ctx.known` when it has them
    /// (a key's secret never changes), else opened.
    fn insert_user(
        &mut self,
        documents: &mut Documents,
        ctx: &Ctx<'_>,
        user: User,
        own: Vec<PolicyEntry>,
        group_ids: &[String],
        keys: Vec<SealedKey>,
    ) {
        let User {
            id,
            name,
            path,
            boundary,
        } = user;
        let mut policies = own;
        let mut groups = Vec::with_capacity(group_ids.len());
        for group in group_ids.iter().filter_map(|id| self.group_by_id(id)) {
            groups.push(group.name.clone());
            documents.retain(&group.policies);
            policies.extend(group.policies.iter().cloned());
        }
        self.remove_user(documents, &id);
        let key: Arc<str> = Arc::from(name.to_ascii_lowercase());
        let principal = Principal {
            arn: ids::user_arn(ctx.account, &path, &name),
            id: id.clone(),
            name,
            path,
            groups,
            policies,
            boundary,
        };
        self.user_names.insert(Arc::from(id), Arc::clone(&key));
        self.users.insert(key, Arc::new(principal));
        for sealed in keys {
            self.put_key(ctx, sealed);
        }
    }

    /// Drops role `id` and gives back its documents.
    fn remove_role(&mut self, documents: &mut Documents, id: &str) {
        let Some(old) = self.roles.remove(id) else {
            return;
        };
        self.role_ids.remove(old.name.to_ascii_lowercase().as_str());
        documents.release(&old.policies);
        if let Some(boundary) = &old.boundary {
            documents.release(std::slice::from_ref(boundary));
        }
    }

    /// Puts role `row` in place of the one with its id, if any.
    fn put_role(&mut self, documents: &mut Documents, account: &str, row: RoleRow) {
        let RoleRow {
            id,
            name,
            path,
            max_session_duration,
            trust_policy,
            policies,
            boundary,
            tags,
        } = row;
        // Counted before the old entry is let go, so that a document both use stays compiled.
        let policies = policies
            .into_iter()
            .map(|p| {
                let source = match p.attached {
                    true => PolicySource::RoleAttached {
                        policy: p.name,
                        aws: p.aws,
                    },
                    false => PolicySource::RoleInline(p.name),
                };
                documents.entry(source, p.document)
            })
            .collect();
        let boundary = boundary.map(|row| boundary_entry(documents, account, row));
        let trust = match parse(&trust_policy, PolicyKind::Trust) {
            Ok(doc) => CompiledPolicy::compile_trust(&doc),
            Err(e) => {
                tracing::error!(role = %name, error = %e, "a stored trust policy does not parse; nobody may assume the role until it is replaced");
                CompiledPolicy::deny_all()
            }
        };
        self.remove_role(documents, &id);
        let entry = RoleEntry {
            arn: ids::role_arn(account, &path, &name),
            id: id.clone(),
            name,
            path,
            max_session_duration,
            trust,
            policies,
            boundary,
            tags,
        };
        self.role_ids.insert(
            Arc::from(entry.name.to_ascii_lowercase()),
            Arc::from(id.as_str()),
        );
        self.roles.insert(Arc::from(id), Arc::new(entry));
    }

    fn remove_key(&mut self, id: &str) {
        self.keys.remove(id);
    }

    /// Puts an access key, pointing at its user as this view holds it. A key whose secret
    /// cannot be opened is left out (logged): it is unusable.
    fn put_key(&mut self, ctx: &Ctx<'_>, sealed: SealedKey) {
        let SealedKey {
            id,
            user_id,
            sealed,
            active,
        } = sealed;
        let owner = match user_id {
            None => KeyOwner::Root,
            Some(user_id) => match self.user_by_id(&user_id) {
                Some(principal) => KeyOwner::User(Arc::clone(principal)),
                None => return self.remove_key(&id),
            },
        };
        let secret = match ctx.known.keys.get(id.as_str()) {
            Some(known) => known.secret.clone(),
            None => match ctx.master.open_secret(&sealed, id.as_bytes()) {
                Ok(secret) => secret,
                Err(e) => {
                    tracing::error!(access_key = %id, error = %e, "cannot open an access key's secret; the key is unusable");
                    return self.remove_key(&id);
                }
            },
        };
        let entry = KeyEntry {
            secret,
            active,
            owner,
        };
        self.keys.insert(Arc::from(id), Arc::new(entry));
    }
}

impl AuthView {
    /// How many shards of its five maps `self` shares with `other`, for tests that check
    /// an update copied only what it changed.
    #[cfg(test)]
    pub(super) fn shared_shards(&self, other: &AuthView) -> usize {
        self.keys.shared_shards(&other.keys)
            + self.users.shared_shards(&other.users)
            + self.groups.shared_shards(&other.groups)
            + self.user_names.shared_shards(&other.user_names)
            + self.group_names.shared_shards(&other.group_names)
            + self.roles.shared_shards(&other.roles)
            + self.role_ids.shared_shards(&other.role_ids)
    }

    /// Everything the view holds, in a canonical order, for tests that compare an updated
    /// view with one built whole. Checks on the way that every entry is reachable both ways
    /// and that each key points at its user's current entry.
    #[cfg(test)]
    pub(super) fn dump(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let mut users: Vec<_> = self.users.iter().collect();
        users.sort_by_key(|(name, _)| name.to_string());
        for (name, user) in users {
            assert_eq!(self.user_names.get(user.id.as_str()), Some(name));
            let _ = writeln!(
                out,
                "user {} {} {} {:?}",
                user.id, user.arn, name, user.groups
            );
            for p in user.policies.iter().chain(&user.boundary) {
                let _ = writeln!(out, "  {:?} {}", p.source, p.document);
            }
        }
        let mut groups: Vec<_> = self.groups.iter().collect();
        groups.sort_by_key(|(name, _)| name.to_string());
        for (name, group) in groups {
            assert_eq!(self.group_names.get(group.id.as_str()), Some(name));
            let _ = writeln!(out, "group {} {} {}", group.id, group.arn, name);
            for p in &group.policies {
                let _ = writeln!(out, "  {:?} {}", p.source, p.document);
            }
        }
        assert_eq!(self.users.len(), self.user_names.len());
        assert_eq!(self.groups.len(), self.group_names.len());
        let mut keys: Vec<_> = self.keys.iter().collect();
        keys.sort_by_key(|(id, _)| id.to_string());
        for (id, key) in keys {
            let owner = match &key.owner {
                KeyOwner::Root => "root",
                KeyOwner::User(principal) => {
                    let current = self
                        .user(&principal.name)
                        .expect("a key's user is in the view");
                    assert!(
                        Arc::ptr_eq(current, principal),
                        "key {id} points at an old entry"
                    );
                    &principal.id
                }
            };
            let secret = key.secret.expose();
            let _ = writeln!(out, "key {id} {} {owner} {secret}", key.active);
        }
        assert_eq!(self.roles.len(), self.role_ids.len());
        let mut roles: Vec<_> = self.roles.iter().collect();
        roles.sort_by_key(|(id, _)| id.to_string());
        for (id, role) in roles {
            assert!(self
                .role_by_name(&role.name)
                .is_some_and(|r| Arc::ptr_eq(r, role)));
            let _ = writeln!(
                out,
                "role {id} {} {} {} {:?}",
                role.arn, role.name, role.max_session_duration, role.tags
            );
            for p in role.policies.iter().chain(&role.boundary) {
                let _ = writeln!(out, "  {:?} {}", p.source, p.document);
            }
        }
        out
    }
}

/// The entry of a permissions boundary (counted), named by its policy's ARN.
fn boundary_entry(documents: &mut Documents, account: &str, row: BoundaryRow) -> PolicyEntry {
    let BoundaryRow {
        name,
        path,
        document,
        aws,
    } = row;
    let owner = if aws {
        ids::AWS_POLICY_ACCOUNT
    } else {
        account
    };
    let source = PolicySource::Boundary {
        arn: ids::policy_arn(owner, &path, &name),
        policy: name,
        aws,
    };
    documents.entry(source, document)
}

/// Who a user is, and its boundary (counted), apart from the policies that apply to it.
struct User {
    id: String,
    name: String,
    path: String,
    boundary: Option<PolicyEntry>,
}

/// What putting entries needs besides the view: the account (for ARNs), a view whose opened
/// secrets can be reused, and the key to open the others.
struct Ctx<'a> {
    account: &'a str,
    known: &'a AuthView,
    master: &'a MasterKey,
}
