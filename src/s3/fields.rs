//! The typed request fields a row of the operation table names: each reads and checks one
//! query parameter or header, before the handler runs, with S3's error for a bad value.

use super::error::{Code, S3Error, S3Result};
use super::Req;

/// A value read from the request for a handler.
pub(crate) trait Field: Sized {
    fn read(req: &Req<'_>) -> S3Result<Self>;
}

/// The `uploadId` of a multipart upload operation. Any string: an unknown one is
/// `NoSuchUpload` from the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UploadId(pub String);

impl Field for UploadId {
    fn read(req: &Req<'_>) -> S3Result<UploadId> {
        Ok(UploadId(
            req.query.get("uploadId").unwrap_or_default().to_owned(),
        ))
    }
}

/// The `partNumber` of UploadPart and UploadPartCopy: 1 to 10000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartNumber(pub u32);

impl Field for PartNumber {
    fn read(req: &Req<'_>) -> S3Result<PartNumber> {
        req.query
            .get("partNumber")
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|n| (1..=10_000).contains(n))
            .map(PartNumber)
            .ok_or_else(|| {
                S3Error::new(
                    Code::InvalidArgument,
                    "Part number must be an integer between 1 and 10000, inclusive",
                )
            })
    }
}
