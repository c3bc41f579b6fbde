//! AWS managed policies: a built-in, read-only set under `arn:aws:iam::aws:policy/…` that
//! exists in every account. Their rows (`policies.aws = 1`, one version each) are written
//! from this table at every open, so a new binary brings new documents; attachments refer to
//! them like to any policy, and the view compiles them like any attached policy.

use crate::db::sql::Connection;

use super::error::StoreResult;

/// The account part of an AWS managed policy's ARN.
pub const AWS_ACCOUNT: &str = "aws";

pub struct AwsPolicy {
    pub name: &'static str,
    pub id: &'static str,
    pub path: &'static str,
    pub description: &'static str,
    /// AWS's current default version id.
    pub version: i64,
    /// Creation and last edit, Unix seconds (UTC), as AWS's reference gives them.
    pub created_at: i64,
    pub updated_at: i64,
    pub document: &'static str,
}

/// AWS's documents, as its managed policy reference publishes them. `ReadOnlyAccess` keeps
/// only its statements for the services this server has (s3, iam, sts).
pub static AWS_POLICIES: &[AwsPolicy] = &[
    AwsPolicy {
        name: "AdministratorAccess",
        id: "ANPAIWMBCKSKIEE64ZLYK",
        path: "/",
        description: "Provides full access to AWS services and resources.",
        version: 1,
        created_at: 1_423_248_366,
        updated_at: 1_423_248_366,
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    },
    AwsPolicy {
        name: "AmazonS3FullAccess",
        id: "ANPAIFIR6V6BVTRAHWINE",
        path: "/",
        description: "Provides full access to all buckets via the AWS Management Console.",
        version: 2,
        created_at: 1_423_248_438,
        updated_at: 1_632_773_817,
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","s3-object-lambda:*"],"Resource":"*"}]}"#,
    },
    AwsPolicy {
        name: "AmazonS3ReadOnlyAccess",
        id: "ANPAIZTJ4DXE7G6AGAE6M",
        path: "/",
        description: "Provides read only access to all buckets via the AWS Management Console.",
        version: 3,
        created_at: 1_423_248_400,
        updated_at: 1_691_703_060,
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3:Describe*","s3-object-lambda:Get*","s3-object-lambda:List*"],"Resource":"*"}]}"#,
    },
    AwsPolicy {
        name: "IAMFullAccess",
        id: "ANPAI7XKCFMBPM3QQRRVQ",
        path: "/",
        description: "Provides full access to IAM via the AWS Management Console.",
        version: 2,
        created_at: 1_423_248_400,
        updated_at: 1_561_146_000,
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","organizations:DescribeAccount","organizations:DescribeOrganization","organizations:DescribeOrganizationalUnit","organizations:DescribePolicy","organizations:ListChildren","organizations:ListParents","organizations:ListPoliciesForTarget","organizations:ListRoots","organizations:ListPolicies","organizations:ListTargetsForPolicy"],"Resource":"*"}]}"#,
    },
    AwsPolicy {
        name: "IAMReadOnlyAccess",
        id: "ANPAJKSO7NDY4T57MWDSQ",
        path: "/",
        description: "Provides read only access to IAM via the AWS Management Console.",
        version: 4,
        created_at: 1_423_248_400,
        updated_at: 1_516_907_460,
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GenerateCredentialReport","iam:GenerateServiceLastAccessedDetails","iam:Get*","iam:List*","iam:SimulateCustomPolicy","iam:SimulatePrincipalPolicy"],"Resource":"*"}]}"#,
    },
    AwsPolicy {
        name: "PowerUserAccess",
        id: "ANPAJYRXTHIB4FOVS3ZXS",
        path: "/",
        description: "Provides full access to AWS services and resources, but does not allow management of Users and groups.",
        version: 12,
        created_at: 1_423_248_340,
        updated_at: 1_770_919_140,
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},{"Effect":"Allow","Action":["account:GetAccountInformation","account:GetGovCloudAccountInformation","account:GetPrimaryEmail","account:ListRegions","iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeEffectivePolicy","organizations:DescribeOrganization"],"Resource":"*"}]}"#,
    },
    AwsPolicy {
        name: "ReadOnlyAccess",
        id: "ANPAILL3HVNFSB6DCOWYQ",
        path: "/",
        description: "Provides read-only access to AWS services and resources.",
        version: 1,
        created_at: 1_423_248_330,
        updated_at: 1_423_248_330,
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Generate*","iam:Get*","iam:List*","iam:Simulate*","s3:Describe*","s3:Get*","s3:List*","s3-object-lambda:Get*","s3-object-lambda:List*","sts:GetAccessKeyInfo","sts:GetCallerIdentity","sts:GetSessionToken"],"Resource":"*"}]}"#,
    },
];

/// Writes every AWS managed policy's row and its one version, replacing what an older binary
/// wrote; attachments (keyed by the policy's id) stay.
pub(super) fn install(conn: &Connection) -> StoreResult<()> {
    for p in AWS_POLICIES {
        conn.execute(
            "INSERT INTO policies (id, name, path, description, default_version, next_version, created_at, updated_at, aws)
             VALUES (?1, ?2, ?3, ?4, ?5, CAST(?5 AS BIGINT) + 1, ?6, ?7, 1)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, path = excluded.path,
               description = excluded.description, default_version = excluded.default_version,
               next_version = excluded.next_version, created_at = excluded.created_at,
               updated_at = excluded.updated_at, aws = 1",
            (p.id, p.name, p.path, p.description, p.version, p.created_at, p.updated_at),
        )?;
        conn.execute(
            "DELETE FROM policy_versions WHERE policy_id = ?1 AND version != ?2",
            (p.id, p.version),
        )?;
        conn.execute(
            "INSERT INTO policy_versions (policy_id, version, document, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (policy_id, version) DO UPDATE SET document = excluded.document, created_at = excluded.created_at",
            (p.id, p.version, p.document, p.updated_at),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::document::{parse, PolicyKind};

    #[test]
    fn every_document_parses_as_an_identity_policy() {
        for p in AWS_POLICIES {
            assert!(
                parse(p.document, PolicyKind::Identity).is_ok(),
                "{}",
                p.name
            );
            assert!(p.id.starts_with("ANPA"), "{}", p.name);
        }
    }
}
