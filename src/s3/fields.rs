//! The typed request fields a row of the operation table names: each reads and checks one
//! query parameter or header, before the handler runs, with S3's error for a bad value.

use super::error::{Code, S3Error, S3Result};
use super::{Ctx, Req};

/// A value read from the request for a handler.
pub(crate) trait Field: Sized {
    fn read(ctx: &Ctx<'_>, req: &Req<'_>) -> S3Result<Self>;
}

/// The `uploadId` of a multipart upload operation. Any string: an unknown one is
/// `NoSuchUpload` from the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UploadId(pub String);

impl Field for UploadId {
    fn read(_ctx: &Ctx<'_>, req: &Req<'_>) -> S3Result<UploadId> {
        Ok(UploadId(
            req.query.get("uploadId").unwrap_or_default().to_owned(),
        ))
    }
}

/// The `partNumber` of UploadPart and UploadPartCopy: 1 to 10000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartNumber(pub u32);

impl Field for PartNumber {
    fn read(_ctx: &Ctx<'_>, req: &Req<'_>) -> S3Result<PartNumber> {
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

/// `max-keys` of ListObjects and ListObjectsV2: a non-negative integer, capped at the
/// configured page size (`backend.s3.paging.max_keys`), which is also its default. The policy
/// condition key `s3:max-keys` reads the same parsed query value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MaxKeys(pub usize);

impl Field for MaxKeys {
    fn read(ctx: &Ctx<'_>, req: &Req<'_>) -> S3Result<MaxKeys> {
        let cap =
            usize::try_from(ctx.state.config.backend.s3.paging.max_keys).unwrap_or(usize::MAX);
        let Some(v) = req.query.get("max-keys") else {
            return Ok(MaxKeys(cap));
        };
        v.parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            // Past `usize` (never on 64-bit) is past the cap.
            .map(|n| MaxKeys(usize::try_from(n).map_or(cap, |n| n.min(cap))))
            .ok_or_else(|| out_of_range("max-keys"))
    }
}

/// `max-uploads` of ListMultipartUploads: 0 to 1000, 1000 when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MaxUploads(pub usize);

impl Field for MaxUploads {
    fn read(_ctx: &Ctx<'_>, req: &Req<'_>) -> S3Result<MaxUploads> {
        page_size(req, "max-uploads").map(MaxUploads)
    }
}

/// `max-parts` of ListParts: 0 to 1000, 1000 when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MaxParts(pub usize);

impl Field for MaxParts {
    fn read(_ctx: &Ctx<'_>, req: &Req<'_>) -> S3Result<MaxParts> {
        page_size(req, "max-parts").map(MaxParts)
    }
}

/// `max-buckets` of ListBuckets: 1 to 10000; `None` when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MaxBuckets(pub Option<usize>);

impl Field for MaxBuckets {
    fn read(_ctx: &Ctx<'_>, req: &Req<'_>) -> S3Result<MaxBuckets> {
        let Some(v) = req.query.get("max-buckets") else {
            return Ok(MaxBuckets(None));
        };
        v.parse::<usize>()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .map(|n| MaxBuckets(Some(n)))
            .ok_or_else(|| {
                S3Error::new(
                    Code::InvalidArgument,
                    "max-buckets must be an integer between 1 and 10000",
                )
            })
    }
}

/// The most entries a page of uploads or parts holds, S3's limit.
const MAX_PAGE: usize = 1000;

fn page_size(req: &Req<'_>, name: &str) -> S3Result<usize> {
    match req.query.get(name) {
        None => Ok(MAX_PAGE),
        Some(v) => v
            .parse::<usize>()
            .map(|n| n.min(MAX_PAGE))
            .map_err(|_| out_of_range(name)),
    }
}

fn out_of_range(name: &str) -> S3Error {
    S3Error::new(
        Code::InvalidArgument,
        format!("Provided {name} not an integer or within integer range"),
    )
}
