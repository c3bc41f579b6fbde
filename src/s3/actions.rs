//! What each S3 operation asks permission for: the IAM action(s) and the resource ARN(s), as
//! AWS defines them. Bucket-level operations name `arn:aws:s3:::bucket`; object-level ones
//! `arn:aws:s3:::bucket/key`. Consulted by authorization (one row per operation, each tested);
//! DeleteObjects is checked per key by its handler.
//! <https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html>

use super::operations::{Operation, Permission};

/// One permission a request needs: an action on a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needed {
    pub action: &'static str,
    pub resource: String,
}

pub fn bucket_arn(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}")
}

pub fn object_arn(bucket: &str, key: &str) -> String {
    format!("arn:aws:s3:::{bucket}/{key}")
}

/// What a request acts on: the bucket, the key (empty for bucket operations), and whether it
/// names a version (`versionId`), which asks for the `…Version` form of an object action.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub version_named: bool,
}

/// The action on an object, or its `…Version` form when the request names a version, as AWS
/// asks for it (`s3:GetObjectVersion` for a GetObject with `versionId`).
fn versioned(action: &'static str, version_named: bool) -> &'static str {
    match (action, version_named) {
        ("s3:GetObject", true) => "s3:GetObjectVersion",
        ("s3:DeleteObject", true) => "s3:DeleteObjectVersion",
        ("s3:GetObjectAcl", true) => "s3:GetObjectVersionAcl",
        ("s3:PutObjectAcl", true) => "s3:PutObjectVersionAcl",
        ("s3:GetObjectTagging", true) => "s3:GetObjectVersionTagging",
        ("s3:PutObjectTagging", true) => "s3:PutObjectVersionTagging",
        ("s3:DeleteObjectTagging", true) => "s3:DeleteObjectVersionTagging",
        ("s3:GetObjectAttributes", true) => "s3:GetObjectVersionAttributes",
        (action, _) => action,
    }
}

/// The action DeleteObjects asks of each entry: `s3:DeleteObject`, or
/// `s3:DeleteObjectVersion` for an entry that names a version.
pub fn delete_action(version_named: bool) -> &'static str {
    versioned("s3:DeleteObject", version_named)
}

/// The permissions `operation` needs on `target`, as its row in the operation table says.
/// `copy_source` is what `x-amz-copy-source` names, for the copy operations.
pub fn needed(
    operation: Operation,
    target: &Target<'_>,
    copy_source: Option<&Target<'_>>,
) -> Vec<Needed> {
    let (bucket, key) = (target.bucket, target.key);
    let one = |action, resource| vec![Needed { action, resource }];
    match operation.permission() {
        Permission::Service(action) => one(action, "arn:aws:s3:::*".into()),
        Permission::Bucket(action) => one(action, bucket_arn(bucket)),
        Permission::Object(action) => one(action, object_arn(bucket, key)),
        Permission::ObjectVersion(action) => one(
            versioned(action, target.version_named),
            object_arn(bucket, key),
        ),
        // Checked per key by the handler, which reports denied keys as AccessDenied entries.
        Permission::PerKey(_) => Vec::new(),
        // Answered from the bucket's CORS rules, without credentials.
        Permission::Preflight => Vec::new(),
        // Checked by the handler as the form's signer (PostObject).
        Permission::Form(_) => Vec::new(),
        Permission::Copy(action) => {
            let mut needs = Vec::with_capacity(2);
            if let Some(source) = copy_source {
                needs.push(Needed {
                    action: versioned("s3:GetObject", source.version_named),
                    resource: object_arn(source.bucket, source.key),
                });
            }
            needs.push(Needed {
                action,
                resource: object_arn(bucket, key),
            });
            needs
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Operation::*;

    #[test]
    fn every_operation_names_its_action_and_resource() {
        let b = "arn:aws:s3:::bkt";
        let o = "arn:aws:s3:::bkt/dir/k";
        let rows: &[(Operation, &[(&str, &str)])] = &[
            (ListBuckets, &[("s3:ListAllMyBuckets", "arn:aws:s3:::*")]),
            (CreateBucket, &[("s3:CreateBucket", b)]),
            (DeleteBucket, &[("s3:DeleteBucket", b)]),
            (HeadBucket, &[("s3:ListBucket", b)]),
            (ListObjects, &[("s3:ListBucket", b)]),
            (ListObjectsV2, &[("s3:ListBucket", b)]),
            (ListObjectVersions, &[("s3:ListBucketVersions", b)]),
            (GetBucketLocation, &[("s3:GetBucketLocation", b)]),
            (GetBucketAcl, &[("s3:GetBucketAcl", b)]),
            (PutBucketAcl, &[("s3:PutBucketAcl", b)]),
            (
                GetBucketOwnershipControls,
                &[("s3:GetBucketOwnershipControls", b)],
            ),
            (
                PutBucketOwnershipControls,
                &[("s3:PutBucketOwnershipControls", b)],
            ),
            (
                DeleteBucketOwnershipControls,
                &[("s3:PutBucketOwnershipControls", b)],
            ),
            (
                GetPublicAccessBlock,
                &[("s3:GetBucketPublicAccessBlock", b)],
            ),
            (
                PutPublicAccessBlock,
                &[("s3:PutBucketPublicAccessBlock", b)],
            ),
            (
                DeletePublicAccessBlock,
                &[("s3:PutBucketPublicAccessBlock", b)],
            ),
            (GetBucketVersioning, &[("s3:GetBucketVersioning", b)]),
            (PutBucketVersioning, &[("s3:PutBucketVersioning", b)]),
            (
                GetBucketRequestPayment,
                &[("s3:GetBucketRequestPayment", b)],
            ),
            (
                GetBucketAccelerateConfiguration,
                &[("s3:GetAccelerateConfiguration", b)],
            ),
            (GetBucketLogging, &[("s3:GetBucketLogging", b)]),
            (
                GetBucketNotificationConfiguration,
                &[("s3:GetBucketNotification", b)],
            ),
            (GetBucketWebsite, &[("s3:GetBucketWebsite", b)]),
            (PutBucketWebsite, &[("s3:PutBucketWebsite", b)]),
            (DeleteBucketWebsite, &[("s3:DeleteBucketWebsite", b)]),
            (GetBucketCors, &[("s3:GetBucketCORS", b)]),
            (PutBucketCors, &[("s3:PutBucketCORS", b)]),
            (DeleteBucketCors, &[("s3:PutBucketCORS", b)]),
            (OptionsBucket, &[]),
            (OptionsObject, &[]),
            (
                GetBucketLifecycleConfiguration,
                &[("s3:GetLifecycleConfiguration", b)],
            ),
            (
                PutBucketLifecycleConfiguration,
                &[("s3:PutLifecycleConfiguration", b)],
            ),
            (
                DeleteBucketLifecycle,
                &[("s3:PutLifecycleConfiguration", b)],
            ),
            (
                GetBucketReplication,
                &[("s3:GetReplicationConfiguration", b)],
            ),
            (GetBucketEncryption, &[("s3:GetEncryptionConfiguration", b)]),
            (PutBucketEncryption, &[("s3:PutEncryptionConfiguration", b)]),
            (
                DeleteBucketEncryption,
                &[("s3:PutEncryptionConfiguration", b)],
            ),
            (
                GetObjectLockConfiguration,
                &[("s3:GetBucketObjectLockConfiguration", b)],
            ),
            (
                ListBucketAnalyticsConfigurations,
                &[("s3:GetAnalyticsConfiguration", b)],
            ),
            (
                GetBucketAnalyticsConfiguration,
                &[("s3:GetAnalyticsConfiguration", b)],
            ),
            (
                ListBucketMetricsConfigurations,
                &[("s3:GetMetricsConfiguration", b)],
            ),
            (
                GetBucketMetricsConfiguration,
                &[("s3:GetMetricsConfiguration", b)],
            ),
            (
                ListBucketInventoryConfigurations,
                &[("s3:GetInventoryConfiguration", b)],
            ),
            (
                GetBucketInventoryConfiguration,
                &[("s3:GetInventoryConfiguration", b)],
            ),
            (
                ListBucketIntelligentTieringConfigurations,
                &[("s3:GetIntelligentTieringConfiguration", b)],
            ),
            (
                GetBucketIntelligentTieringConfiguration,
                &[("s3:GetIntelligentTieringConfiguration", b)],
            ),
            (GetObjectRetention, &[("s3:GetObjectRetention", o)]),
            (PutObjectRetention, &[("s3:PutObjectRetention", o)]),
            (PutObjectLegalHold, &[("s3:PutObjectLegalHold", o)]),
            (
                PutObjectLockConfiguration,
                &[("s3:PutBucketObjectLockConfiguration", b)],
            ),
            (GetObjectAttributes, &[("s3:GetObjectAttributes", o)]),
            (GetObjectLegalHold, &[("s3:GetObjectLegalHold", o)]),
            (PutBucketPolicy, &[("s3:PutBucketPolicy", b)]),
            (GetBucketTagging, &[("s3:GetBucketTagging", b)]),
            (PutBucketTagging, &[("s3:PutBucketTagging", b)]),
            (DeleteBucketTagging, &[("s3:PutBucketTagging", b)]),
            (GetObjectTagging, &[("s3:GetObjectTagging", o)]),
            (PutObjectTagging, &[("s3:PutObjectTagging", o)]),
            (DeleteObjectTagging, &[("s3:DeleteObjectTagging", o)]),
            (GetBucketPolicy, &[("s3:GetBucketPolicy", b)]),
            (DeleteBucketPolicy, &[("s3:DeleteBucketPolicy", b)]),
            (GetBucketPolicyStatus, &[("s3:GetBucketPolicyStatus", b)]),
            (
                ListMultipartUploads,
                &[("s3:ListBucketMultipartUploads", b)],
            ),
            (DeleteObjects, &[]),
            (GetObject, &[("s3:GetObject", o)]),
            (HeadObject, &[("s3:GetObject", o)]),
            (PutObject, &[("s3:PutObject", o)]),
            (CreateMultipartUpload, &[("s3:PutObject", o)]),
            (UploadPart, &[("s3:PutObject", o)]),
            (CompleteMultipartUpload, &[("s3:PutObject", o)]),
            (DeleteObject, &[("s3:DeleteObject", o)]),
            (GetObjectAcl, &[("s3:GetObjectAcl", o)]),
            (PutObjectAcl, &[("s3:PutObjectAcl", o)]),
            (AbortMultipartUpload, &[("s3:AbortMultipartUpload", o)]),
            (ListParts, &[("s3:ListMultipartUploadParts", o)]),
            (
                CopyObject,
                &[
                    ("s3:GetObject", "arn:aws:s3:::src/a b"),
                    ("s3:PutObject", o),
                ],
            ),
            (
                UploadPartCopy,
                &[
                    ("s3:GetObject", "arn:aws:s3:::src/a b"),
                    ("s3:PutObject", o),
                ],
            ),
            // Checked by its handler, as the form's signer, on the key the form names.
            (PostObject, &[]),
        ];
        let target = Target {
            bucket: "bkt",
            key: "dir/k",
            version_named: false,
        };
        let source = Target {
            bucket: "src",
            key: "a b",
            version_named: false,
        };
        assert_eq!(
            rows.len(),
            Operation::ALL.len(),
            "every operation has a row here"
        );
        for (operation, expected) in rows {
            let got = needed(*operation, &target, Some(&source));
            let got: Vec<(&str, &str)> = got
                .iter()
                .map(|n| (n.action, n.resource.as_str()))
                .collect();
            assert_eq!(got, *expected, "{operation:?}");
        }
    }

    #[test]
    fn a_named_version_asks_for_the_version_actions() {
        let target = Target {
            bucket: "b",
            key: "k",
            version_named: true,
        };
        let action = |op| needed(op, &target, None)[0].action;
        assert_eq!(action(GetObject), "s3:GetObjectVersion");
        assert_eq!(action(HeadObject), "s3:GetObjectVersion");
        assert_eq!(action(DeleteObject), "s3:DeleteObjectVersion");
        assert_eq!(action(GetObjectAcl), "s3:GetObjectVersionAcl");
        assert_eq!(action(PutObjectAcl), "s3:PutObjectVersionAcl");
        assert_eq!(action(GetObjectTagging), "s3:GetObjectVersionTagging");
        assert_eq!(action(PutObjectTagging), "s3:PutObjectVersionTagging");
        assert_eq!(action(DeleteObjectTagging), "s3:DeleteObjectVersionTagging");
        assert_eq!(action(GetObjectAttributes), "s3:GetObjectVersionAttributes");
        assert_eq!(action(PutObject), "s3:PutObject");
        assert_eq!(action(GetObjectRetention), "s3:GetObjectRetention");
        assert_eq!(action(PutObjectRetention), "s3:PutObjectRetention");
        assert_eq!(action(GetObjectLegalHold), "s3:GetObjectLegalHold");
        assert_eq!(action(PutObjectLegalHold), "s3:PutObjectLegalHold");
        let copy = needed(CopyObject, &target, Some(&target));
        assert_eq!(
            (copy[0].action, copy[1].action),
            ("s3:GetObjectVersion", "s3:PutObject")
        );
        assert_eq!(delete_action(true), "s3:DeleteObjectVersion");
        assert_eq!(
            DeleteObjects.permission(),
            Permission::PerKey(delete_action(false))
        );
    }
}
