//! What each IAM action asks permission for: `iam:<Action>` on the resource it acts on, as
//! AWS's service authorization reference defines it. A user's ARN includes its path, so the
//! target's ARN comes from the view when the target exists; a name that does not exist (or
//! a create) is named with the path the request gives, `/` by default. Actions without
//! resource-level permissions (the account-wide listings) ask for `*`.
//! <https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html>
//!
//! One exhaustive match: a new action does not compile until it says what it needs.

use super::params::Params;
use super::Action;
use crate::auth::Caller;
use crate::iam_store::ids;
use crate::iam_store::view::AuthView;

/// The resource ARN `action` with parameters `p` is authorized against.
pub(super) fn resource(
    action: Action,
    p: &Params,
    caller: &Caller,
    view: &AuthView,
    account: &str,
) -> String {
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
    match action {
        CreateUser => ids::user_arn(account, path, p.get("UserName").unwrap_or_default()),
        GetUser | CreateAccessKey | ListAccessKeys | UpdateAccessKey | DeleteAccessKey => {
            user_or_caller()
        }
        UpdateUser
        | DeleteUser
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
        | DeleteUserPolicy => user(),
        // The key's owner; an unknown key names nothing, so only `*` can allow asking.
        GetAccessKeyLastUsed => p
            .get("AccessKeyId")
            .and_then(|id| view.key(id))
            .map_or_else(|| "*".to_owned(), |key| key.principal.arn.clone()),
        CreateGroup => ids::group_arn(account, path, p.get("GroupName").unwrap_or_default()),
        GetGroup
        | UpdateGroup
        | DeleteGroup
        | AddUserToGroup
        | RemoveUserFromGroup
        | AttachGroupPolicy
        | DetachGroupPolicy
        | ListAttachedGroupPolicies
        | PutGroupPolicy
        | GetGroupPolicy
        | ListGroupPolicies
        | DeleteGroupPolicy => group(),
        CreatePolicy => ids::policy_arn(account, path, p.get("PolicyName").unwrap_or_default()),
        GetPolicy
        | DeletePolicy
        | CreatePolicyVersion
        | GetPolicyVersion
        | ListPolicyVersions
        | SetDefaultPolicyVersion
        | DeletePolicyVersion
        | ListEntitiesForPolicy => policy(),
        // Whose policies are disclosed: the user or group named.
        SimulatePrincipalPolicy => p.get("PolicySourceArn").unwrap_or_default().to_owned(),
        // Only the caller's own documents: no resource-level permissions.
        ListUsers | ListGroups | ListPolicies | GetAccountSummary | SimulateCustomPolicy => {
            "*".to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "111122223333";

    fn resource_of(action: Action, query: &str) -> String {
        let caller = Caller::Root {
            access_key: "AKROOT".into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:root"),
        };
        let params = Params::parse(Some(query), None);
        resource(action, &params, &caller, &AuthView::default(), ACCOUNT)
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
            (GetAccountSummary, "", "*".into()),
        ];
        for (action, query, want) in rows {
            assert_eq!(&resource_of(*action, query), want, "{action:?} {query}");
        }
    }
}
