//! Every IAM action LabStore serves, by its AWS name, and the handler each one runs.

use super::params::Params;
use super::{
    access_keys, boundaries, groups, oidc_providers, policies, roles, simulate, users, Ctx, Reply,
};
use crate::iam_store::attachments::Holder::{Group, Role, User};
use crate::iam_store::boundaries::Bounded;

macro_rules! actions {
    ($($name:ident),* $(,)?) => {
        /// An IAM API action, named exactly as AWS names it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Action { $($name),* }

        impl Action {
            /// Every action, in the order above.
            #[cfg(test)]
            pub const ALL: &[Action] = &[$(Action::$name),*];

            pub fn parse(name: &str) -> Option<Action> {
                match name { $(stringify!($name) => Some(Action::$name),)* _ => None }
            }

            pub fn name(self) -> &'static str {
                match self { $(Action::$name => stringify!($name)),* }
            }
        }
    };
}

actions!(
    CreateUser,
    GetUser,
    ListUsers,
    UpdateUser,
    DeleteUser,
    TagUser,
    UntagUser,
    ListUserTags,
    CreateAccessKey,
    ListAccessKeys,
    UpdateAccessKey,
    DeleteAccessKey,
    GetAccessKeyLastUsed,
    CreateGroup,
    GetGroup,
    ListGroups,
    ListGroupsForUser,
    UpdateGroup,
    DeleteGroup,
    AddUserToGroup,
    RemoveUserFromGroup,
    CreatePolicy,
    GetPolicy,
    ListPolicies,
    DeletePolicy,
    CreatePolicyVersion,
    GetPolicyVersion,
    ListPolicyVersions,
    SetDefaultPolicyVersion,
    DeletePolicyVersion,
    AttachUserPolicy,
    DetachUserPolicy,
    AttachGroupPolicy,
    DetachGroupPolicy,
    ListAttachedUserPolicies,
    ListAttachedGroupPolicies,
    ListEntitiesForPolicy,
    PutUserPolicy,
    GetUserPolicy,
    ListUserPolicies,
    DeleteUserPolicy,
    PutGroupPolicy,
    GetGroupPolicy,
    ListGroupPolicies,
    DeleteGroupPolicy,
    GetAccountSummary,
    SimulatePrincipalPolicy,
    SimulateCustomPolicy,
    CreateRole,
    GetRole,
    ListRoles,
    UpdateRole,
    UpdateRoleDescription,
    UpdateAssumeRolePolicy,
    DeleteRole,
    TagRole,
    UntagRole,
    ListRoleTags,
    AttachRolePolicy,
    DetachRolePolicy,
    ListAttachedRolePolicies,
    PutRolePolicy,
    GetRolePolicy,
    ListRolePolicies,
    DeleteRolePolicy,
    PutUserPermissionsBoundary,
    DeleteUserPermissionsBoundary,
    PutRolePermissionsBoundary,
    DeleteRolePermissionsBoundary,
    CreateOpenIDConnectProvider,
    GetOpenIDConnectProvider,
    DeleteOpenIDConnectProvider,
    ListOpenIDConnectProviders,
    AddClientIDToOpenIDConnectProvider,
    RemoveClientIDFromOpenIDConnectProvider,
    UpdateOpenIDConnectProviderThumbprint,
    TagOpenIDConnectProvider,
    UntagOpenIDConnectProvider,
    ListOpenIDConnectProviderTags,
);

/// The actions of AWS's IAM API this server does not offer, answered `NotImplemented` (501)
/// by name (as STS's and S3's are), so that a client learns the action is real but absent
/// here; a name that is no IAM action stays `InvalidAction`. Sorted; with `Action`, every
/// action of AWS's API reference (and of the AWS SDKs' IAM model), which `docs/iam.md`'s
/// action table lists with the same status (checked by the tests below).
pub const NOT_IMPLEMENTED: &[&str] = &[
    "AcceptDelegationRequest",
    "AcquireRole",
    "AddRoleToInstanceProfile",
    "AssociateDelegationRequest",
    "ChangePassword",
    "CreateAccountAlias",
    "CreateDelegationRequest",
    "CreateInstanceProfile",
    "CreateLoginProfile",
    "CreateSAMLProvider",
    "CreateServiceLinkedRole",
    "CreateServiceSpecificCredential",
    "CreateVirtualMFADevice",
    "DeactivateMFADevice",
    "DeleteAccountAlias",
    "DeleteAccountPasswordPolicy",
    "DeleteInstanceProfile",
    "DeleteLoginProfile",
    "DeleteSAMLProvider",
    "DeleteSSHPublicKey",
    "DeleteServerCertificate",
    "DeleteServiceLinkedRole",
    "DeleteServiceSpecificCredential",
    "DeleteSigningCertificate",
    "DeleteVirtualMFADevice",
    "DisableOrganizationsRootCredentialsManagement",
    "DisableOrganizationsRootSessions",
    "DisableOutboundWebIdentityFederation",
    "EnableMFADevice",
    "EnableOrganizationsRootCredentialsManagement",
    "EnableOrganizationsRootSessions",
    "EnableOutboundWebIdentityFederation",
    "GenerateCredentialReport",
    "GenerateOrganizationsAccessReport",
    "GenerateServiceLastAccessedDetails",
    "GetAccountAuthorizationDetails",
    "GetAccountPasswordPolicy",
    "GetAccountProperties",
    "GetContextKeysForCustomPolicy",
    "GetContextKeysForPrincipalPolicy",
    "GetCredentialReport",
    "GetDelegationRequest",
    "GetHumanReadableSummary",
    "GetInstanceProfile",
    "GetLoginProfile",
    "GetMFADevice",
    "GetOrganizationsAccessReport",
    "GetOutboundWebIdentityFederationInfo",
    "GetRoleTemplateVersion",
    "GetSAMLProvider",
    "GetSSHPublicKey",
    "GetServerCertificate",
    "GetServiceLastAccessedDetails",
    "GetServiceLastAccessedDetailsWithEntities",
    "GetServiceLinkedRoleDeletionStatus",
    "ListAccountAliases",
    "ListDelegationRequests",
    "ListInstanceProfileTags",
    "ListInstanceProfiles",
    "ListInstanceProfilesForRole",
    "ListMFADeviceTags",
    "ListMFADevices",
    "ListOrganizationsFeatures",
    "ListPoliciesGrantingServiceAccess",
    "ListPolicyTags",
    "ListSAMLProviderTags",
    "ListSAMLProviders",
    "ListSSHPublicKeys",
    "ListServerCertificateTags",
    "ListServerCertificates",
    "ListServiceSpecificCredentials",
    "ListSigningCertificates",
    "ListVirtualMFADevices",
    "PutAccountProperties",
    "RejectDelegationRequest",
    "RemoveRoleFromInstanceProfile",
    "ResetServiceSpecificCredential",
    "ResyncMFADevice",
    "SendDelegationToken",
    "SetSecurityTokenServicePreferences",
    "TagInstanceProfile",
    "TagMFADevice",
    "TagPolicy",
    "TagSAMLProvider",
    "TagServerCertificate",
    "UntagInstanceProfile",
    "UntagMFADevice",
    "UntagPolicy",
    "UntagSAMLProvider",
    "UntagServerCertificate",
    "UpdateAccountPasswordPolicy",
    "UpdateDelegationRequest",
    "UpdateLoginProfile",
    "UpdateSAMLProvider",
    "UpdateSSHPublicKey",
    "UpdateServerCertificate",
    "UpdateServiceSpecificCredential",
    "UpdateSigningCertificate",
    "UploadSSHPublicKey",
    "UploadServerCertificate",
    "UploadSigningCertificate",
];

pub(super) async fn dispatch(action: Action, ctx: &Ctx<'_>, p: &Params) -> Reply {
    use Action::*;
    match action {
        CreateUser => users::create_user(ctx, p).await,
        GetUser => users::get_user(ctx, p).await,
        ListUsers => users::list_users(ctx, p).await,
        UpdateUser => users::update_user(ctx, p).await,
        DeleteUser => users::delete_user(ctx, p).await,
        TagUser => users::tag_user(ctx, p).await,
        UntagUser => users::untag_user(ctx, p).await,
        ListUserTags => users::list_user_tags(ctx, p).await,
        CreateAccessKey => access_keys::create_access_key(ctx, p).await,
        ListAccessKeys => access_keys::list_access_keys(ctx, p).await,
        UpdateAccessKey => access_keys::update_access_key(ctx, p).await,
        DeleteAccessKey => access_keys::delete_access_key(ctx, p).await,
        GetAccessKeyLastUsed => access_keys::get_access_key_last_used(ctx, p).await,
        CreateGroup => groups::create_group(ctx, p).await,
        GetGroup => groups::get_group(ctx, p).await,
        ListGroups => groups::list_groups(ctx, p).await,
        ListGroupsForUser => groups::list_groups_for_user(ctx, p).await,
        UpdateGroup => groups::update_group(ctx, p).await,
        DeleteGroup => groups::delete_group(ctx, p).await,
        AddUserToGroup => groups::add_user_to_group(ctx, p).await,
        RemoveUserFromGroup => groups::remove_user_from_group(ctx, p).await,
        CreatePolicy => policies::create_policy(ctx, p).await,
        GetPolicy => policies::get_policy(ctx, p).await,
        ListPolicies => policies::list_policies(ctx, p).await,
        DeletePolicy => policies::delete_policy(ctx, p).await,
        CreatePolicyVersion => policies::create_policy_version(ctx, p).await,
        GetPolicyVersion => policies::get_policy_version(ctx, p).await,
        ListPolicyVersions => policies::list_policy_versions(ctx, p).await,
        SetDefaultPolicyVersion => policies::set_default_policy_version(ctx, p).await,
        DeletePolicyVersion => policies::delete_policy_version(ctx, p).await,
        AttachUserPolicy => policies::attach_policy(ctx, p, User).await,
        DetachUserPolicy => policies::detach_policy(ctx, p, User).await,
        AttachGroupPolicy => policies::attach_policy(ctx, p, Group).await,
        DetachGroupPolicy => policies::detach_policy(ctx, p, Group).await,
        ListAttachedUserPolicies => policies::list_attached_policies(ctx, p, User).await,
        ListAttachedGroupPolicies => policies::list_attached_policies(ctx, p, Group).await,
        ListEntitiesForPolicy => policies::list_entities_for_policy(ctx, p).await,
        PutUserPolicy => policies::put_inline_policy(ctx, p, User).await,
        GetUserPolicy => policies::get_inline_policy(ctx, p, User).await,
        ListUserPolicies => policies::list_inline_policies(ctx, p, User).await,
        DeleteUserPolicy => policies::delete_inline_policy(ctx, p, User).await,
        PutGroupPolicy => policies::put_inline_policy(ctx, p, Group).await,
        GetGroupPolicy => policies::get_inline_policy(ctx, p, Group).await,
        ListGroupPolicies => policies::list_inline_policies(ctx, p, Group).await,
        DeleteGroupPolicy => policies::delete_inline_policy(ctx, p, Group).await,
        GetAccountSummary => policies::get_account_summary(ctx, p).await,
        SimulatePrincipalPolicy => simulate::simulate_principal_policy(ctx, p).await,
        SimulateCustomPolicy => simulate::simulate_custom_policy(ctx, p).await,
        CreateRole => roles::create_role(ctx, p).await,
        GetRole => roles::get_role(ctx, p).await,
        ListRoles => roles::list_roles(ctx, p).await,
        UpdateRole => roles::update_role(ctx, p).await,
        UpdateRoleDescription => roles::update_role_description(ctx, p).await,
        UpdateAssumeRolePolicy => roles::update_assume_role_policy(ctx, p).await,
        DeleteRole => roles::delete_role(ctx, p).await,
        TagRole => roles::tag_role(ctx, p).await,
        UntagRole => roles::untag_role(ctx, p).await,
        ListRoleTags => roles::list_role_tags(ctx, p).await,
        AttachRolePolicy => policies::attach_policy(ctx, p, Role).await,
        DetachRolePolicy => policies::detach_policy(ctx, p, Role).await,
        ListAttachedRolePolicies => policies::list_attached_policies(ctx, p, Role).await,
        PutRolePolicy => policies::put_inline_policy(ctx, p, Role).await,
        GetRolePolicy => policies::get_inline_policy(ctx, p, Role).await,
        ListRolePolicies => policies::list_inline_policies(ctx, p, Role).await,
        DeleteRolePolicy => policies::delete_inline_policy(ctx, p, Role).await,
        PutUserPermissionsBoundary => {
            boundaries::put_permissions_boundary(ctx, p, Bounded::User).await
        }
        DeleteUserPermissionsBoundary => {
            boundaries::delete_permissions_boundary(ctx, p, Bounded::User).await
        }
        PutRolePermissionsBoundary => {
            boundaries::put_permissions_boundary(ctx, p, Bounded::Role).await
        }
        DeleteRolePermissionsBoundary => {
            boundaries::delete_permissions_boundary(ctx, p, Bounded::Role).await
        }
        CreateOpenIDConnectProvider => oidc_providers::create_provider(ctx, p).await,
        GetOpenIDConnectProvider => oidc_providers::get_provider(ctx, p).await,
        DeleteOpenIDConnectProvider => oidc_providers::delete_provider(ctx, p).await,
        ListOpenIDConnectProviders => oidc_providers::list_providers(ctx, p).await,
        AddClientIDToOpenIDConnectProvider => oidc_providers::add_client_id(ctx, p).await,
        RemoveClientIDFromOpenIDConnectProvider => oidc_providers::remove_client_id(ctx, p).await,
        UpdateOpenIDConnectProviderThumbprint => oidc_providers::update_thumbprint(ctx, p).await,
        TagOpenIDConnectProvider => oidc_providers::tag_provider(ctx, p).await,
        UntagOpenIDConnectProvider => oidc_providers::untag_provider(ctx, p).await,
        ListOpenIDConnectProviderTags => oidc_providers::list_provider_tags(ctx, p).await,
    }
}

#[cfg(test)]
mod tests {
    use super::{Action, NOT_IMPLEMENTED};
    use crate::iam::documented_actions;

    #[test]
    fn the_docs_table_lists_every_iam_action_as_the_router_answers_it() {
        let table = documented_actions("IAM");
        // AWS's IAM API: 176 actions in its reference, 4 more in the SDKs' model.
        assert_eq!(table.len(), 180);
        for (name, status) in &table {
            let served = Action::parse(name).is_some();
            match status.as_str() {
                "implemented" => assert!(served, "{name} is documented as implemented"),
                "refused: `NotImplemented`" => {
                    assert!(
                        NOT_IMPLEMENTED.contains(&name.as_str()),
                        "{name} is not refused"
                    );
                }
                other => panic!("{name}: unknown status {other}"),
            }
        }
        let status = |name: &str| {
            table
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, s)| s.as_str())
        };
        for action in Action::ALL {
            assert_eq!(status(action.name()), Some("implemented"), "{action:?}");
        }
        for name in NOT_IMPLEMENTED {
            assert_eq!(status(name), Some("refused: `NotImplemented`"), "{name}");
            assert!(Action::parse(name).is_none(), "{name} is both");
        }
    }

    #[test]
    fn not_implemented_is_sorted_without_duplicates() {
        assert!(NOT_IMPLEMENTED.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn names_round_trip_and_are_case_sensitive() {
        for name in [
            "CreateUser",
            "ListEntitiesForPolicy",
            "GetAccountSummary",
            "ListRoles",
        ] {
            assert_eq!(Action::parse(name).unwrap().name(), name);
        }
        assert_eq!(Action::parse("createuser"), None);
        assert_eq!(Action::parse("AssumeRole"), None);
    }
}
