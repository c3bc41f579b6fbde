//! The table of the S3 operations LabStore performs: one row per operation. A row names the
//! operation (as AWS names it), what selects it (method, target, sub-resource keyword, and a
//! header or parameter that refines the row), the permission it needs, its handler and the
//! typed fields the handler takes. Routing (`router`), the permission lookup (`actions`), the
//! operation's name in logs and metrics, and dispatch are all generated from it, so adding an
//! operation is one row and one handler, and a row cannot compile without its permission.
//!
//! Precedence is by specificity, never by order: a row with a `when` refinement is chosen
//! over the row with the same method, target and keyword without one. At most one row may
//! refine a given (method, target, keyword); `router::tests` checks that no two rows tie.

use super::fields::{MaxBuckets, MaxKeys, MaxParts, MaxUploads, PartNumber, UploadId};
use super::{
    acl, attributes, bucket, bucket_access, bucket_policy, copy, cors, delete, lifecycle, list,
    multipart, object, object_lock, post, read, sse, tagging, unconfigured, versioning, website,
};
use super::{Ctx, Reply, Req};

/// What a row needs permission for, besides its refinement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// An action on `arn:aws:s3:::*` (the account's buckets).
    Service(&'static str),
    /// An action on the bucket's ARN.
    Bucket(&'static str),
    /// An action on the object's ARN.
    Object(&'static str),
    /// An action on the object's ARN that takes `versionId`: its `…Version` form when the
    /// request names a version (`s3:GetObject` becomes `s3:GetObjectVersion`).
    ObjectVersion(&'static str),
    /// `s3:GetObject` (or its version form) on the copy source and this action on the
    /// destination object.
    Copy(&'static str),
    /// Checked by the handler for each key it acts on (DeleteObjects).
    PerKey(&'static str),
    /// None: a CORS preflight, which a browser sends without credentials. It is neither
    /// authenticated nor authorized, and answers from the bucket's CORS rules only; it reads
    /// and changes nothing else.
    Preflight,
    /// Checked by the handler on the object the form names, as the form's signer, once it
    /// has read the form's fields (PostObject: the credentials are in the body).
    Form(&'static str),
}

/// What refines a row beyond its keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum When {
    /// The query names this parameter (ListObjectsV2 by `list-type`).
    Param(&'static str),
    /// The request carries this header (CopyObject by `x-amz-copy-source`).
    Header(&'static str),
}

/// One row of the table, as the router reads it.
#[derive(Debug, Clone, Copy)]
pub struct OpRow {
    pub operation: Operation,
    pub method: &'static str,
    pub target: super::router::Target,
    pub keyword: Option<&'static str>,
    pub when: Option<When>,
}

macro_rules! keyword {
    () => {
        None
    };
    ($kw:literal) => {
        Some($kw)
    };
}

macro_rules! when {
    () => {
        None
    };
    (param $name:literal) => {
        Some(When::Param($name))
    };
    (header $name:literal) => {
        Some(When::Header($name))
    };
}

/// `Name: METHOD Target ?"keyword" when header|param "name", needs Permission("action")
/// => handler(field: Type, …);` (`needs Preflight` takes no action).
macro_rules! operations {
    ($(
        $op:ident : $method:ident $target:ident $(? $kw:literal)? $(when $w:ident $wname:literal)?,
        needs $perm:ident $(($action:literal))?
        => $($handler:ident)::+ ( $($field:ident : $fty:ty),* );
    )*) => {
        /// An S3 operation LabStore performs, named exactly as AWS names it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            $($op,)*
        }

        impl Operation {
            /// Every operation, in table order.
            pub const ALL: &'static [Operation] = &[$(Operation::$op,)*];

            /// The AWS name, for logs and metrics.
            pub fn name(self) -> &'static str {
                match self {
                    $(Operation::$op => stringify!($op),)*
                }
            }

            /// The permission the operation needs.
            pub fn permission(self) -> Permission {
                match self {
                    $(Operation::$op => Permission::$perm $(($action))?,)*
                }
            }
        }

        /// The rows, for the router.
        pub const OPERATIONS: &[OpRow] = &[$(
            OpRow {
                operation: Operation::$op,
                method: stringify!($method),
                target: super::router::Target::$target,
                keyword: keyword!($($kw)?),
                when: when!($($w $wname)?),
            },
        )*];

        /// Runs the operation's handler with the fields its row names, read from the request.
        ///
        /// Each handler's future is boxed: unboxed, this future would be as large as the
        /// largest handler's (kilobytes), and every layer above it (the request skeleton, the
        /// span, hyper's dispatch) moves it whole, a profile's top user-space cost on HEAD.
        pub(super) async fn call(operation: Operation, ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
            match operation {
                $(Operation::$op => {
                    $(let $field = <$fty as super::fields::Field>::read(ctx, &req)?;)*
                    Box::pin($($handler)::+(ctx, req $(, $field)*)).await
                })*
            }
        }
    };
}

// The S3 API reference names each operation's method, path and keyword:
// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html>
// and the actions in <https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html>.
operations! {
    ListBuckets: GET Service, needs Service("s3:ListAllMyBuckets")
        => bucket::list_buckets(max: MaxBuckets);
    CreateBucket: PUT Bucket, needs Bucket("s3:CreateBucket") => bucket::create_bucket();
    HeadBucket: HEAD Bucket, needs Bucket("s3:ListBucket") => bucket::head_bucket();
    DeleteBucket: DELETE Bucket, needs Bucket("s3:DeleteBucket") => bucket::delete_bucket();
    GetBucketLocation: GET Bucket ?"location", needs Bucket("s3:GetBucketLocation")
        => bucket::get_bucket_location();
    GetBucketAcl: GET Bucket ?"acl", needs Bucket("s3:GetBucketAcl") => acl::get_bucket_acl();
    PutBucketAcl: PUT Bucket ?"acl", needs Bucket("s3:PutBucketAcl") => acl::put_bucket_acl();
    GetBucketOwnershipControls: GET Bucket ?"ownershipControls",
        needs Bucket("s3:GetBucketOwnershipControls") => bucket_access::get_bucket_ownership_controls();
    PutBucketOwnershipControls: PUT Bucket ?"ownershipControls",
        needs Bucket("s3:PutBucketOwnershipControls") => bucket_access::put_bucket_ownership_controls();
    // AWS authorizes the deletion with the Put action.
    DeleteBucketOwnershipControls: DELETE Bucket ?"ownershipControls",
        needs Bucket("s3:PutBucketOwnershipControls") => bucket_access::delete_bucket_ownership_controls();
    GetPublicAccessBlock: GET Bucket ?"publicAccessBlock",
        needs Bucket("s3:GetBucketPublicAccessBlock") => bucket_access::get_public_access_block();
    PutPublicAccessBlock: PUT Bucket ?"publicAccessBlock",
        needs Bucket("s3:PutBucketPublicAccessBlock") => bucket_access::put_public_access_block();
    DeletePublicAccessBlock: DELETE Bucket ?"publicAccessBlock",
        needs Bucket("s3:PutBucketPublicAccessBlock") => bucket_access::delete_public_access_block();
    GetBucketRequestPayment: GET Bucket ?"requestPayment",
        needs Bucket("s3:GetBucketRequestPayment") => bucket::get_bucket_request_payment();
    GetBucketAccelerateConfiguration: GET Bucket ?"accelerate",
        needs Bucket("s3:GetAccelerateConfiguration") => bucket::get_bucket_accelerate_configuration();
    GetBucketLogging: GET Bucket ?"logging", needs Bucket("s3:GetBucketLogging")
        => bucket::get_bucket_logging();
    GetBucketNotificationConfiguration: GET Bucket ?"notification",
        needs Bucket("s3:GetBucketNotification") => bucket::get_bucket_notification_configuration();
    GetBucketWebsite: GET Bucket ?"website", needs Bucket("s3:GetBucketWebsite")
        => website::get_bucket_website();
    PutBucketWebsite: PUT Bucket ?"website", needs Bucket("s3:PutBucketWebsite")
        => website::put_bucket_website();
    DeleteBucketWebsite: DELETE Bucket ?"website", needs Bucket("s3:DeleteBucketWebsite")
        => website::delete_bucket_website();
    GetBucketCors: GET Bucket ?"cors", needs Bucket("s3:GetBucketCORS") => cors::get_bucket_cors();
    PutBucketCors: PUT Bucket ?"cors", needs Bucket("s3:PutBucketCORS") => cors::put_bucket_cors();
    // AWS authorizes the deletion with the Put action.
    DeleteBucketCors: DELETE Bucket ?"cors", needs Bucket("s3:PutBucketCORS")
        => cors::delete_bucket_cors();
    // The CORS preflight ("OPTIONS object" in AWS's reference), on a bucket's path and on an
    // object's; the router sends every OPTIONS request on a bucket or object here, whatever
    // its query names.
    OptionsBucket: OPTIONS Bucket, needs Preflight => cors::preflight();
    OptionsObject: OPTIONS Object, needs Preflight => cors::preflight();
    GetBucketLifecycleConfiguration: GET Bucket ?"lifecycle",
        needs Bucket("s3:GetLifecycleConfiguration")
        => lifecycle::get_bucket_lifecycle_configuration();
    PutBucketLifecycleConfiguration: PUT Bucket ?"lifecycle",
        needs Bucket("s3:PutLifecycleConfiguration")
        => lifecycle::put_bucket_lifecycle_configuration();
    // AWS has no s3:DeleteLifecycleConfiguration: removing the rules is authorized as putting them.
    DeleteBucketLifecycle: DELETE Bucket ?"lifecycle",
        needs Bucket("s3:PutLifecycleConfiguration")
        => lifecycle::delete_bucket_lifecycle();
    GetBucketReplication: GET Bucket ?"replication", needs Bucket("s3:GetReplicationConfiguration")
        => unconfigured::get_bucket_replication();
    GetBucketEncryption: GET Bucket ?"encryption", needs Bucket("s3:GetEncryptionConfiguration")
        => sse::get_bucket_encryption();
    PutBucketEncryption: PUT Bucket ?"encryption", needs Bucket("s3:PutEncryptionConfiguration")
        => sse::put_bucket_encryption();
    // AWS has no s3:DeleteEncryptionConfiguration: removing it is authorized as putting it.
    DeleteBucketEncryption: DELETE Bucket ?"encryption",
        needs Bucket("s3:PutEncryptionConfiguration")
        => sse::delete_bucket_encryption();
    GetObjectLockConfiguration: GET Bucket ?"object-lock",
        needs Bucket("s3:GetBucketObjectLockConfiguration")
        => object_lock::get_object_lock_configuration();
    PutObjectLockConfiguration: PUT Bucket ?"object-lock",
        needs Bucket("s3:PutBucketObjectLockConfiguration")
        => object_lock::put_object_lock_configuration();
    ListBucketAnalyticsConfigurations: GET Bucket ?"analytics",
        needs Bucket("s3:GetAnalyticsConfiguration")
        => unconfigured::list_bucket_analytics_configurations();
    GetBucketAnalyticsConfiguration: GET Bucket ?"analytics" when param "id",
        needs Bucket("s3:GetAnalyticsConfiguration")
        => unconfigured::get_bucket_analytics_configuration();
    ListBucketMetricsConfigurations: GET Bucket ?"metrics",
        needs Bucket("s3:GetMetricsConfiguration")
        => unconfigured::list_bucket_metrics_configurations();
    GetBucketMetricsConfiguration: GET Bucket ?"metrics" when param "id",
        needs Bucket("s3:GetMetricsConfiguration")
        => unconfigured::get_bucket_metrics_configuration();
    ListBucketInventoryConfigurations: GET Bucket ?"inventory",
        needs Bucket("s3:GetInventoryConfiguration")
        => unconfigured::list_bucket_inventory_configurations();
    GetBucketInventoryConfiguration: GET Bucket ?"inventory" when param "id",
        needs Bucket("s3:GetInventoryConfiguration")
        => unconfigured::get_bucket_inventory_configuration();
    ListBucketIntelligentTieringConfigurations: GET Bucket ?"intelligent-tiering",
        needs Bucket("s3:GetIntelligentTieringConfiguration")
        => unconfigured::list_bucket_intelligent_tiering_configurations();
    GetBucketIntelligentTieringConfiguration: GET Bucket ?"intelligent-tiering" when param "id",
        needs Bucket("s3:GetIntelligentTieringConfiguration")
        => unconfigured::get_bucket_intelligent_tiering_configuration();
    GetBucketVersioning: GET Bucket ?"versioning", needs Bucket("s3:GetBucketVersioning")
        => versioning::get_bucket_versioning();
    PutBucketVersioning: PUT Bucket ?"versioning", needs Bucket("s3:PutBucketVersioning")
        => versioning::put_bucket_versioning();
    PutBucketPolicy: PUT Bucket ?"policy", needs Bucket("s3:PutBucketPolicy")
        => bucket_policy::put_bucket_policy();
    GetBucketPolicy: GET Bucket ?"policy", needs Bucket("s3:GetBucketPolicy")
        => bucket_policy::get_bucket_policy();
    DeleteBucketPolicy: DELETE Bucket ?"policy", needs Bucket("s3:DeleteBucketPolicy")
        => bucket_policy::delete_bucket_policy();
    GetBucketPolicyStatus: GET Bucket ?"policyStatus", needs Bucket("s3:GetBucketPolicyStatus")
        => bucket_policy::get_bucket_policy_status();
    GetBucketTagging: GET Bucket ?"tagging", needs Bucket("s3:GetBucketTagging")
        => tagging::get_bucket_tagging();
    PutBucketTagging: PUT Bucket ?"tagging", needs Bucket("s3:PutBucketTagging")
        => tagging::put_bucket_tagging();
    // AWS has no s3:DeleteBucketTagging: removing a bucket's tags is authorized as putting them.
    DeleteBucketTagging: DELETE Bucket ?"tagging", needs Bucket("s3:PutBucketTagging")
        => tagging::delete_bucket_tagging();
    ListObjects: GET Bucket, needs Bucket("s3:ListBucket")
        => list::list_objects(max_keys: MaxKeys);
    ListObjectsV2: GET Bucket when param "list-type", needs Bucket("s3:ListBucket")
        => list::list_objects_v2(max_keys: MaxKeys);
    ListObjectVersions: GET Bucket ?"versions", needs Bucket("s3:ListBucketVersions")
        => list::list_object_versions(max_keys: MaxKeys);
    ListMultipartUploads: GET Bucket ?"uploads", needs Bucket("s3:ListBucketMultipartUploads")
        => multipart::list_multipart_uploads(max: MaxUploads);
    DeleteObjects: POST Bucket ?"delete", needs PerKey("s3:DeleteObject")
        => delete::delete_objects();
    // A browser form upload: a POST to the bucket with no sub-resource keyword.
    PostObject: POST Bucket, needs Form("s3:PutObject") => post::post_object();
    PutObject: PUT Object, needs Object("s3:PutObject") => object::put_object();
    CopyObject: PUT Object when header "x-amz-copy-source", needs Copy("s3:PutObject")
        => copy::copy_object();
    GetObject: GET Object, needs ObjectVersion("s3:GetObject") => read::get_object();
    HeadObject: HEAD Object, needs ObjectVersion("s3:GetObject") => read::head_object();
    GetObjectAttributes: GET Object ?"attributes", needs ObjectVersion("s3:GetObjectAttributes")
        => attributes::get_object_attributes();
    DeleteObject: DELETE Object, needs ObjectVersion("s3:DeleteObject")
        => object::delete_object();
    GetObjectAcl: GET Object ?"acl", needs ObjectVersion("s3:GetObjectAcl")
        => acl::get_object_acl();
    PutObjectAcl: PUT Object ?"acl", needs ObjectVersion("s3:PutObjectAcl")
        => acl::put_object_acl();
    GetObjectTagging: GET Object ?"tagging", needs ObjectVersion("s3:GetObjectTagging")
        => tagging::get_object_tagging();
    PutObjectTagging: PUT Object ?"tagging", needs ObjectVersion("s3:PutObjectTagging")
        => tagging::put_object_tagging();
    DeleteObjectTagging: DELETE Object ?"tagging", needs ObjectVersion("s3:DeleteObjectTagging")
        => tagging::delete_object_tagging();
    // AWS has no …Version form of the Object Lock actions: a versionId is authorized as the
    // action itself (with `s3:versionid` set).
    GetObjectRetention: GET Object ?"retention", needs ObjectVersion("s3:GetObjectRetention")
        => object_lock::get_object_retention();
    PutObjectRetention: PUT Object ?"retention", needs ObjectVersion("s3:PutObjectRetention")
        => object_lock::put_object_retention();
    GetObjectLegalHold: GET Object ?"legal-hold", needs ObjectVersion("s3:GetObjectLegalHold")
        => object_lock::get_object_legal_hold();
    PutObjectLegalHold: PUT Object ?"legal-hold", needs ObjectVersion("s3:PutObjectLegalHold")
        => object_lock::put_object_legal_hold();
    CreateMultipartUpload: POST Object ?"uploads", needs Object("s3:PutObject")
        => multipart::create_multipart_upload();
    UploadPart: PUT Object ?"uploadId", needs Object("s3:PutObject")
        => multipart::upload_part(upload: UploadId, number: PartNumber);
    UploadPartCopy: PUT Object ?"uploadId" when header "x-amz-copy-source", needs Copy("s3:PutObject")
        => copy::upload_part_copy(upload: UploadId, number: PartNumber);
    CompleteMultipartUpload: POST Object ?"uploadId", needs Object("s3:PutObject")
        => multipart::complete_multipart_upload(upload: UploadId);
    AbortMultipartUpload: DELETE Object ?"uploadId", needs Object("s3:AbortMultipartUpload")
        => multipart::abort_multipart_upload(upload: UploadId);
    ListParts: GET Object ?"uploadId", needs Object("s3:ListMultipartUploadParts")
        => multipart::list_parts(upload: UploadId, max: MaxParts);
}

impl Operation {
    /// Whether the operation takes `versionId` (and asks for the `…Version` actions).
    pub fn takes_version(self) -> bool {
        matches!(self.permission(), Permission::ObjectVersion(_))
    }

    /// Whether the operation writes object data: refused below the free-space floor
    /// (`storage::FreeSpace`). Deletes, which free space, and metadata writes are not.
    pub fn writes_data(self) -> bool {
        matches!(
            self,
            Operation::PutObject
                | Operation::PostObject
                | Operation::CopyObject
                | Operation::UploadPart
                | Operation::UploadPartCopy
                | Operation::CompleteMultipartUpload
        )
    }

    /// Whether the operation is a CORS preflight: answered without credentials.
    pub fn is_preflight(self) -> bool {
        self.permission() == Permission::Preflight
    }
}
