//! What each S3 operation asks permission for: the IAM action(s) and the resource ARN(s), as
//! AWS defines them. Bucket-level operations name `arn:aws:s3:::bucket`; object-level ones
//! `arn:aws:s3:::bucket/key`. Consulted by authorization (one row per operation, each tested);
//! DeleteObjects is checked per key by its handler.
//! <https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html>

use super::router::Operation;

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

/// The permissions `operation` needs. `copy_source` is the (bucket, key) of
/// `x-amz-copy-source` for the copy operations.
pub fn needed(
    operation: Operation,
    bucket: &str,
    key: &str,
    copy_source: Option<(&str, &str)>,
) -> Vec<Needed> {
    use Operation::*;
    let on_bucket = |action| {
        vec![Needed {
            action,
            resource: bucket_arn(bucket),
        }]
    };
    let on_object = |action| {
        vec![Needed {
            action,
            resource: object_arn(bucket, key),
        }]
    };
    match operation {
        ListBuckets => vec![Needed {
            action: "s3:ListAllMyBuckets",
            resource: "arn:aws:s3:::*".into(),
        }],
        CreateBucket => on_bucket("s3:CreateBucket"),
        DeleteBucket => on_bucket("s3:DeleteBucket"),
        HeadBucket | ListObjects | ListObjectsV2 => on_bucket("s3:ListBucket"),
        GetBucketLocation => on_bucket("s3:GetBucketLocation"),
        GetBucketAcl => on_bucket("s3:GetBucketAcl"),
        PutBucketAcl => on_bucket("s3:PutBucketAcl"),
        GetBucketVersioning => on_bucket("s3:GetBucketVersioning"),
        PutBucketPolicy => on_bucket("s3:PutBucketPolicy"),
        GetBucketPolicy => on_bucket("s3:GetBucketPolicy"),
        DeleteBucketPolicy => on_bucket("s3:DeleteBucketPolicy"),
        GetBucketPolicyStatus => on_bucket("s3:GetBucketPolicyStatus"),
        ListMultipartUploads => on_bucket("s3:ListBucketMultipartUploads"),
        // Checked per key by the handler, which reports denied keys as AccessDenied entries.
        DeleteObjects => Vec::new(),
        GetObject | HeadObject => on_object("s3:GetObject"),
        PutObject | CreateMultipartUpload | UploadPart | CompleteMultipartUpload => {
            on_object("s3:PutObject")
        }
        DeleteObject => on_object("s3:DeleteObject"),
        GetObjectAcl => on_object("s3:GetObjectAcl"),
        PutObjectAcl => on_object("s3:PutObjectAcl"),
        AbortMultipartUpload => on_object("s3:AbortMultipartUpload"),
        ListParts => on_object("s3:ListMultipartUploadParts"),
        CopyObject | UploadPartCopy => {
            let mut needs = Vec::with_capacity(2);
            if let Some((src_bucket, src_key)) = copy_source {
                needs.push(Needed {
                    action: "s3:GetObject",
                    resource: object_arn(src_bucket, src_key),
                });
            }
            needs.push(Needed {
                action: "s3:PutObject",
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
            (GetBucketLocation, &[("s3:GetBucketLocation", b)]),
            (GetBucketAcl, &[("s3:GetBucketAcl", b)]),
            (PutBucketAcl, &[("s3:PutBucketAcl", b)]),
            (GetBucketVersioning, &[("s3:GetBucketVersioning", b)]),
            (PutBucketPolicy, &[("s3:PutBucketPolicy", b)]),
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
        ];
        for (operation, expected) in rows {
            let got = needed(*operation, "bkt", "dir/k", Some(("src", "a b")));
            let got: Vec<(&str, &str)> = got
                .iter()
                .map(|n| (n.action, n.resource.as_str()))
                .collect();
            assert_eq!(got, *expected, "{operation:?}");
        }
    }
}
