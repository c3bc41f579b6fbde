//! S3 Object Lock: a bucket's Object Lock configuration and each version's retention and legal
//! hold. Enforcement is in `objects::versions` (a locked version is never removed).
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html>

use crate::objects::BucketState;

/// Whether the bucket has Object Lock enabled (created with
/// `x-amz-bucket-object-lock-enabled: true`, or configured since): its versioning cannot be
/// suspended.
pub fn lock_enabled(bucket: &BucketState) -> bool {
    bucket.configs.object_lock.is_some()
}
