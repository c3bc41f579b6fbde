//! Updating the view: what a write touched (`Touched`), those entries read back inside the
//! write's transaction (`Delta`), and the new view with only them replaced (`apply`); and the
//! whole build from every row (`build`), which puts entries the same way.

use std::collections::BTreeSet;

use crate::db::sql::Connection;

use super::rows::{self, GroupRow, MemberRow, RoleRow, Snapshot, UserRow};
use super::{AuthView, Ctx, Documents};
use crate::crypto::MasterKey;
use crate::iam_store::access_keys::{key_by_id, SealedKey};
use crate::iam_store::error::StoreResult;

/// What a write changed that the view holds, by id. A write records each user, group, managed
/// policy (whose default version changed) and access key it created, changed or deleted;
/// one that records nothing leaves the view as it is.
#[derive(Debug, Default)]
pub(in crate::iam_store) struct Touched {
    users: BTreeSet<String>,
    groups: BTreeSet<String>,
    policies: BTreeSet<String>,
    keys: BTreeSet<String>,
    roles: BTreeSet<String>,
}

impl Touched {
    /// The user's name, path, own policies, groups or keys changed (or it was created or
    /// deleted).
    pub fn user(&mut self, id: &str) {
        self.users.insert(id.to_owned());
    }

    /// The group's name, path or policies changed (or it was created or deleted): its members
    /// are put again too.
    pub fn group(&mut self, id: &str) {
        self.groups.insert(id.to_owned());
    }

    /// The policy's default version changed: every user and group it is attached to is put
    /// again.
    pub fn policy(&mut self, id: &str) {
        self.policies.insert(id.to_owned());
    }

    /// The role's trust policy, policies, boundary, tags or maximum session duration changed
    /// (or it was created or deleted).
    pub fn role(&mut self, id: &str) {
        self.roles.insert(id.to_owned());
    }

    /// The key was created, deleted, or its status changed.
    pub fn key(&mut self, id: &str) {
        self.keys.insert(id.to_owned());
    }

    /// Reads what was touched as the write's transaction now holds it, widening policies to
    /// their holders and groups to their members. A member whose own rows the write did not
    /// touch keeps its own policies; only its groups and keys are read.
    pub fn read(self, conn: &Connection) -> StoreResult<Delta> {
        let Touched {
            mut users,
            mut groups,
            policies,
            keys,
            mut roles,
        } = self;
        for policy in &policies {
            let (holding_users, holding_groups) = rows::holders(conn, policy)?;
            users.extend(holding_users);
            groups.extend(holding_groups);
            roles.extend(rows::role_holders(conn, policy)?);
        }
        let mut delta = Delta::default();
        let mut members = BTreeSet::new();
        for id in groups {
            let row = rows::group_row(conn, &id)?;
            if row.is_some() {
                members.extend(rows::members(conn, &id)?);
            }
            delta.groups.push((id, row));
        }
        for id in users {
            members.remove(&id);
            let row = rows::user_row(conn, &id)?;
            delta.users.push((id, row));
        }
        for id in members {
            let row = rows::member_row(conn, &id)?;
            delta.members.push((id, row));
        }
        for id in keys {
            let row = key_by_id(conn, &id)?;
            delta.keys.push((id, row));
        }
        for id in roles {
            let row = rows::role_row(conn, &id)?;
            delta.roles.push((id, row));
        }
        Ok(delta)
    }
}

/// The touched entries as committed: `None` for one that no longer exists.
#[derive(Default)]
pub(in crate::iam_store) struct Delta {
    groups: Vec<(String, Option<GroupRow>)>,
    users: Vec<(String, Option<UserRow>)>,
    members: Vec<(String, MemberRow)>,
    keys: Vec<(String, Option<SealedKey>)>,
    roles: Vec<(String, Option<RoleRow>)>,
}

impl Delta {
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many entries it replaces or removes, for the log.
    pub fn len(&self) -> usize {
        self.groups.len()
            + self.users.len()
            + self.members.len()
            + self.keys.len()
            + self.roles.len()
    }
}

/// `previous` with the entries of `delta` replaced: groups first, since users take their
/// groups' policies from the view, then users and members (with their keys), then keys. The maps no entry
/// of `delta` is in are shared with `previous`, the others copied (pointers only).
pub(in crate::iam_store) fn apply(
    previous: &AuthView,
    delta: Delta,
    documents: &mut Documents,
    account: &str,
    master: &MasterKey,
) -> AuthView {
    let mut view = previous.clone();
    let ctx = Ctx {
        account,
        known: previous,
        master,
    };
    for (id, row) in delta.groups {
        match row {
            Some(row) => view.put_group(documents, account, row),
            None => view.remove_group(documents, &id),
        }
    }
    for (id, row) in delta.users {
        match row {
            Some(row) => view.put_user(documents, &ctx, row),
            None => view.remove_user(documents, &id),
        }
    }
    for (id, row) in delta.members {
        view.put_member(documents, &ctx, &id, row);
    }
    for (id, row) in delta.keys {
        match row {
            Some(sealed) => view.put_key(&ctx, sealed),
            None => view.remove_key(&id),
        }
    }
    for (id, row) in delta.roles {
        match row {
            Some(row) => view.put_role(documents, account, row),
            None => view.remove_role(documents, &id),
        }
    }
    view
}

/// The whole view from every row. `documents` is replaced by the documents of the new view;
/// those it already held are not compiled again, and secrets `previous` holds are not opened
/// again.
pub(in crate::iam_store) fn build(
    snapshot: Snapshot,
    previous: &AuthView,
    documents: &mut Documents,
    account: &str,
    master: &MasterKey,
) -> AuthView {
    let mut fresh = std::mem::take(documents).unused();
    let ctx = Ctx {
        account,
        known: previous,
        master,
    };
    let mut view = AuthView::default();
    for row in snapshot.groups {
        view.put_group(&mut fresh, account, row);
    }
    for row in snapshot.users {
        view.put_user(&mut fresh, &ctx, row);
    }
    for sealed in snapshot.root_keys {
        view.put_key(&ctx, sealed);
    }
    for row in snapshot.roles {
        view.put_role(&mut fresh, account, row);
    }
    fresh.forget_unused();
    *documents = fresh;
    view
}
