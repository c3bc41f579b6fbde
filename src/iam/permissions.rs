//! What each IAM action asks permission for: `iam:<Action>` on every resource it acts on, as
//! AWS's service authorization reference defines it. A user's ARN includes its path, so the
//! target's ARN comes from the view when the target exists; a name that does not exist (or
//! a create) is named with the path the request gives, `/` by default. Actions without
//! resource-level permissions (the account-wide listings) ask for `*`.
//! <https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html>
//!
//! Most actions act on one resource. A rename or move (UpdateUser, UpdateGroup with
//! `NewPath` / `New…Name`) acts on two: the entity as it is and as it will be, and AWS asks
//! for permission on both ("to change Bob to Robert, the entity making the request must have
//! permission on Bob and Robert"), so a grant on one user cannot move it out from under the
//! policies that name its path, or into a name another grant covers.
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateUser.html>
//!
//! One exhaustive match: a new action does not compile until it says what it needs.

use super::oidc_providers;
use super::params::Params;
use super::Action;
use crate::auth::Caller;
use crate::iam_store::ids;
use crate::iam_store::oidc;
use crate::iam_store::roles::RolePaths;
use crate::iam_store::view::AuthView;
use crate::iam_store::view::KeyOwner;

/// Every resource ARN `action` with parameters `p` needs `iam:<Action>` on; the request is
/// allowed only if each of them is.
pub(super) fn resources(
    action: Action,
    p: &Params,
    caller: &Caller,
    view: &AuthView,
    store_roles: &RolePaths,
    account: &str,
) -> Vec<String> {
    use Action::*;
    let path = p.get("Path").unwrap_or("/");
    let named_user = |name: &str| match view.user(name) {
        Some(user) => user.arn.clone(),
        None => ids::user_arn(account, "/", name),
    };
    // Actions whose UserName defaults to the caller.
    let user_or_caller = || match p.get("UserName") {
        Some(name) => named_user(name),
        None => caller.arn().to_owned(),
    };
    let user = || named_user(p.get("UserName").unwrap_or_default());
    let group = || {
        let name = p.get("GroupName").unwrap_or_default();
        match view.group(name) {
            Some(group) => group.arn.clone(),
            None => ids::group_arn(account, "/", name),
        }
    };
    let policy = || p.get("PolicyArn").unwrap_or_default().to_owned();
    // Roles are never renamed or moved: an existing role's ARN is its name and path as created.
    let role = || {
        let name = p.get("RoleName").unwrap_or_default();
        match store_roles.get(name) {
            Some((name, path)) => ids::role_arn(account, &path, &name),
            None => ids::role_arn(account, "/", name),
        }
    };
    match action {
        CreateUser => vec![ids::user_arn(
            account,
            path,
            p.get("UserName").unwrap_or_default(),
        )],
        GetUser | CreateAccessKey | ListAccessKeys | UpdateAccessKey | DeleteAccessKey => {
            vec![user_or_caller()]
        }
        UpdateUser => user_moved(p, view, account),
        DeleteUser
        | TagUser
        | UntagUser
        | ListUserTags
        | ListGroupsForUser
        | AttachUserPolicy
        | DetachUserPolicy
        | ListAttachedUserPolicies
        | PutUserPolicy
        | GetUserPolicy
        | ListUserPolicies
        | DeleteUserPolicy
        | PutUserPermissionsBoundary
        | DeleteUserPermissionsBoundary => vec![user()],
        // The key's owner (a root key: the account root); an unknown key names nothing, so
        // only `*` can allow asking.
        GetAccessKeyLastUsed => vec![p
            .get("AccessKeyId")
            .and_then(|id| view.key(id))
            .map_or_else(
                || "*".to_owned(),
                |key| match &key.owner {
                    KeyOwner::Root => format!("arn:aws:iam::{account}:root"),
                    KeyOwner::User(principal) => principal.arn.clone(),
                },
            )],
        CreateGroup => vec![ids::group_arn(
            account,
            path,
            p.get("GroupName").unwrap_or_default(),
        )],
        UpdateGroup => group_moved(p, view, account),
        GetGroup
        | DeleteGroup
        | AddUserToGroup
        | RemoveUserFromGroup
        | AttachGroupPolicy
        | DetachGroupPolicy
        | ListAttachedGroupPolicies
        | PutGroupPolicy
        | GetGroupPolicy
        | ListGroupPolicies
        | DeleteGroupPolicy => vec![group()],
        CreatePolicy => vec![ids::policy_arn(
            account,
            path,
            p.get("PolicyName").unwrap_or_default(),
        )],
        GetPolicy
        | DeletePolicy
        | CreatePolicyVersion
        | GetPolicyVersion
        | ListPolicyVersions
        | SetDefaultPolicyVersion
        | DeletePolicyVersion
        | ListEntitiesForPolicy => vec![policy()],
        CreateRole => vec![ids::role_arn(
            account,
            path,
            p.get("RoleName").unwrap_or_default(),
        )],
        GetRole
        | UpdateRole
        | UpdateRoleDescription
        | UpdateAssumeRolePolicy
        | DeleteRole
        | TagRole
        | UntagRole
        | ListRoleTags
        | AttachRolePolicy
        | DetachRolePolicy
        | ListAttachedRolePolicies
        | PutRolePolicy
        | GetRolePolicy
        | ListRolePolicies
        | DeleteRolePolicy
        | PutRolePermissionsBoundary
        | DeleteRolePermissionsBoundary => vec![role()],
        // A provider's ARN is its URL without the scheme, as the request gives it (checked by
        // the handler after authorization: a malformed URL names a resource nothing grants).
        CreateOpenIDConnectProvider => vec![oidc::provider_arn(
            account,
            &oidc_providers::provider_url(p.get("Url").unwrap_or_default())
                .unwrap_or_else(|_| p.get("Url").unwrap_or_default().to_owned()),
        )],
        GetOpenIDConnectProvider
        | DeleteOpenIDConnectProvider
        | AddClientIDToOpenIDConnectProvider
        | RemoveClientIDFromOpenIDConnectProvider
        | UpdateOpenIDConnectProviderThumbprint
        | TagOpenIDConnectProvider
        | UntagOpenIDConnectProvider
        | ListOpenIDConnectProviderTags => vec![p
            .get("OpenIDConnectProviderArn")
            .unwrap_or_default()
            .to_owned()],
        // Whose policies are disclosed: the user, group or role named.
        SimulatePrincipalPolicy => vec![p.get("PolicySourceArn").unwrap_or_default().to_owned()],
        // Only the caller's own documents: no resource-level permissions.
        ListUsers
        | ListGroups
        | ListRoles
        | ListPolicies
        | GetAccountSummary
        | SimulateCustomPolicy
        | ListOpenIDConnectProviders => {
            vec!["*".to_owned()]
        }
    }
}

/// The value of the `iam:PermissionsBoundary` condition key, on the actions AWS's service
/// authorization reference sets it for: the boundary ARN the request sets (CreateUser,
/// CreateRole, Put…PermissionsBoundary), or the one the user or role has now (its policy
/// changes and Delete…PermissionsBoundary). `None` leaves the key absent: another action, no
/// boundary asked for, or an entity without one.
pub(super) fn boundary_key(
    action: Action,
    p: &Params,
    view: &AuthView,
    store_roles: &RolePaths,
) -> Option<String> {
    use Action::*;
    let user = || {
        view.user(p.get("UserName")?)?
            .boundary_arn()
            .map(str::to_owned)
    };
    let role = || store_roles.boundary(p.get("RoleName")?);
    match action {
        CreateUser | CreateRole | PutUserPermissionsBoundary | PutRolePermissionsBoundary => {
            p.get("PermissionsBoundary").map(str::to_owned)
        }
        DeleteUserPermissionsBoundary
        | AttachUserPolicy
        | DetachUserPolicy
        | PutUserPolicy
        | DeleteUserPolicy => user(),
        DeleteRolePermissionsBoundary
        | AttachRolePolicy
        | DetachRolePolicy
        | PutRolePolicy
        | DeleteRolePolicy => role(),
        _ => None,
    }
}

/// UpdateUser: the user as it is (`UserName`) and as `NewPath` / `NewUserName` make it.
fn user_moved(p: &Params, view: &AuthView, account: &str) -> Vec<String> {
    let name = p.get("UserName").unwrap_or_default();
    let (path, name) = match view.user(name) {
        Some(user) => (user.path.as_str(), user.name.as_str()),
        None => ("/", name),
    };
    let moved = Moved::new(p, path, name, "NewUserName");
    moved.arns(|path, name| ids::user_arn(account, path, name))
}

/// UpdateGroup: the group as it is (`GroupName`) and as `NewPath` / `NewGroupName` make it.
fn group_moved(p: &Params, view: &AuthView, account: &str) -> Vec<String> {
    let name = p.get("GroupName").unwrap_or_default();
    let (path, name) = match view.group(name) {
        Some(group) => (group.path.as_str(), group.name.as_str()),
        None => ("/", name),
    };
    let moved = Moved::new(p, path, name, "NewGroupName");
    moved.arns(|path, name| ids::group_arn(account, path, name))
}

/// An entity's path and name before and after a rename or move.
struct Moved<'a> {
    path: &'a str,
    name: &'a str,
    new_path: &'a str,
    new_name: &'a str,
}

impl<'a> Moved<'a> {
    /// What is not changed keeps its current value.
    fn new(p: &'a Params, path: &'a str, name: &'a str, new_name_param: &str) -> Moved<'a> {
        Moved {
            path,
            name,
            new_path: p.get("NewPath").unwrap_or(path),
            new_name: p.get(new_name_param).unwrap_or(name),
        }
    }

    /// The source ARN, then the destination's when it differs (ARNs compare exactly: a
    /// change of case alone is a new name).
    fn arns(&self, arn: impl Fn(&str, &str) -> String) -> Vec<String> {
        let source = arn(self.path, self.name);
        let destination = arn(self.new_path, self.new_name);
        match destination == source {
            true => vec![source],
            false => vec![source, destination],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "111122223333";

    fn resources_of(action: Action, query: &str) -> Vec<String> {
        let caller = Caller::Root {
            access_key: "AKROOT".into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:root"),
            session: None,
        };
        let params = Params::parse(Some(query), None);
        resources(
            action,
            &params,
            &caller,
            &AuthView::default(),
            &RolePaths::default(),
            ACCOUNT,
        )
    }

    #[test]
    fn each_kind_of_action_names_its_target() {
        use Action::*;
        let user = |name: &str| format!("arn:aws:iam::{ACCOUNT}:user{name}");
        let rows: &[(Action, &str, String)] = &[
            (
                CreateUser,
                "UserName=alice&Path=%2Fops%2F",
                user("/ops/alice"),
            ),
            (CreateUser, "UserName=alice", user("/alice")),
            (DeleteUser, "UserName=alice", user("/alice")),
            (PutUserPolicy, "UserName=bob&PolicyName=p", user("/bob")),
            (GetUser, "", format!("arn:aws:iam::{ACCOUNT}:root")),
            (ListAccessKeys, "UserName=bob", user("/bob")),
            (GetAccessKeyLastUsed, "AccessKeyId=AKIAUNKNOWN", "*".into()),
            (
                CreateGroup,
                "GroupName=devs&Path=%2Fteam%2F",
                format!("arn:aws:iam::{ACCOUNT}:group/team/devs"),
            ),
            (
                AddUserToGroup,
                "GroupName=devs&UserName=bob",
                format!("arn:aws:iam::{ACCOUNT}:group/devs"),
            ),
            (
                CreatePolicy,
                "PolicyName=read",
                format!("arn:aws:iam::{ACCOUNT}:policy/read"),
            ),
            (
                GetPolicy,
                "PolicyArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Apolicy%2Fread",
                format!("arn:aws:iam::{ACCOUNT}:policy/read"),
            ),
            (
                SimulatePrincipalPolicy,
                "PolicySourceArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Auser%2Fops%2Fbob",
                user("/ops/bob"),
            ),
            (
                SimulateCustomPolicy,
                "PolicyInputList.member.1=%7B%7D",
                "*".into(),
            ),
            (ListUsers, "", "*".into()),
            (
                CreateOpenIDConnectProvider,
                "Url=https%3A%2F%2FIdP.example.com%2Ft1",
                format!("arn:aws:iam::{ACCOUNT}:oidc-provider/idp.example.com/t1"),
            ),
            (
                AddClientIDToOpenIDConnectProvider,
                "OpenIDConnectProviderArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Aoidc-provider%2Fidp.example.com&ClientID=app",
                format!("arn:aws:iam::{ACCOUNT}:oidc-provider/idp.example.com"),
            ),
            (ListOpenIDConnectProviders, "", "*".into()),
            (GetAccountSummary, "", "*".into()),
        ];
        for (action, query, want) in rows {
            assert_eq!(
                resources_of(*action, query),
                std::slice::from_ref(want),
                "{action:?} {query}"
            );
        }
    }

    /// `iam:PermissionsBoundary`: the ARN a request sets on the actions that set one; absent
    /// on every other action, whatever it sends, and for entities without a boundary (the
    /// current boundary of an existing user or role is covered by `tests/it/iam_boundaries`).
    #[test]
    fn the_permissions_boundary_key_is_set_where_aws_sets_it() {
        use Action::*;
        let arn = "arn:aws:iam::111122223333:policy/cap";
        let query = "UserName=u&RoleName=r&PermissionsBoundary=arn%3Aaws%3Aiam%3A%3A111122223333%3Apolicy%2Fcap";
        let params = Params::parse(Some(query), None);
        let key =
            |action| boundary_key(action, &params, &AuthView::default(), &RolePaths::default());
        for action in [
            CreateUser,
            CreateRole,
            PutUserPermissionsBoundary,
            PutRolePermissionsBoundary,
        ] {
            assert_eq!(key(action).as_deref(), Some(arn), "{action:?}");
        }
        for action in [
            // The entity's own boundary, which an unknown user or role does not have.
            DeleteUserPermissionsBoundary,
            AttachUserPolicy,
            DetachUserPolicy,
            PutUserPolicy,
            DeleteUserPolicy,
            DeleteRolePermissionsBoundary,
            AttachRolePolicy,
            DetachRolePolicy,
            PutRolePolicy,
            DeleteRolePolicy,
            // Actions AWS does not set the key for.
            GetUser,
            UpdateUser,
            DeleteUser,
            GetRole,
            UpdateRole,
            TagUser,
            CreatePolicy,
        ] {
            assert_eq!(key(action), None, "{action:?}");
        }
        let without = Params::parse(Some("UserName=u"), None);
        let none = boundary_key(
            CreateUser,
            &without,
            &AuthView::default(),
            &RolePaths::default(),
        );
        assert_eq!(none, None);
    }

    /// A rename or move needs the entity as it is and as it will be; a no-op update only
    /// the entity.
    #[test]
    fn renames_and_moves_name_source_and_destination() {
        use Action::*;
        let user = |name: &str| format!("arn:aws:iam::{ACCOUNT}:user{name}");
        let group = |name: &str| format!("arn:aws:iam::{ACCOUNT}:group{name}");
        let rows: &[(Action, &str, Vec<String>)] = &[
            (UpdateUser, "UserName=alice", vec![user("/alice")]),
            (
                UpdateUser,
                "UserName=alice&NewUserName=mallory",
                vec![user("/alice"), user("/mallory")],
            ),
            (
                UpdateUser,
                "UserName=alice&NewPath=%2Fadmins%2F",
                vec![user("/alice"), user("/admins/alice")],
            ),
            (
                UpdateUser,
                "UserName=alice&NewPath=%2Fadmins%2F&NewUserName=root2",
                vec![user("/alice"), user("/admins/root2")],
            ),
            (
                UpdateUser,
                "UserName=alice&NewPath=%2F&NewUserName=alice",
                vec![user("/alice")],
            ),
            (
                UpdateGroup,
                "GroupName=devs&NewGroupName=admins",
                vec![group("/devs"), group("/admins")],
            ),
            (
                UpdateGroup,
                "GroupName=devs&NewPath=%2Fops%2F",
                vec![group("/devs"), group("/ops/devs")],
            ),
            (UpdateGroup, "GroupName=devs", vec![group("/devs")]),
        ];
        for (action, query, want) in rows {
            assert_eq!(&resources_of(*action, query), want, "{action:?} {query}");
        }
    }
}
