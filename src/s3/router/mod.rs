//! Turns a request line into the S3 operation it names (path-style `/bucket/key`, or
//! virtual-hosted `bucket.<base_domain>/key`), by method, target, sub-resource keyword and
//! the refinements the operation table names. Pure: no state, no I/O.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html>
//!
//! Invariant: a request is routed to the operation AWS defines for its method, target and
//! sub-resource, to `NotImplemented` when LabStore does not perform that operation, or to an
//! error; never to another operation. `ROWS` lists every operation of the S3 API (the
//! unimplemented ones by name), so an unknown sub-resource can never be dropped and fall
//! through to the method's base operation (`DELETE /b?metadataTable` is not DeleteBucket).

use http::{HeaderMap, Method};
use percent_encoding::percent_decode_str;

use super::error::{Code, S3Error, S3Result};
pub use super::operations::Operation;
use super::operations::{OpRow, When, OPERATIONS};
use super::query::Query;

/// What a request addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub operation: Operation,
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// The bucket came from the Host header (virtual-hosted style).
    pub virtual_host: bool,
    /// The query string, parsed once: authorization and the handler read the same values.
    pub query: Query,
}

/// What a method names on a path: the account's buckets, one bucket, or one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    Service,
    Bucket,
    Object,
}

/// An operation of the S3 API that LabStore does not perform: its method, target and
/// sub-resource keyword (`None` for the method's base operation on that target), and its AWS
/// name for the `NotImplemented` message.
pub struct Row {
    pub method: &'static str,
    pub target: Target,
    pub keyword: Option<&'static str>,
    pub name: &'static str,
}

const fn row(
    method: &'static str,
    target: Target,
    keyword: Option<&'static str>,
    name: &'static str,
) -> Row {
    Row {
        method,
        target,
        keyword,
        name,
    }
}

use Target::{Bucket, Object};

/// Every operation of the S3 API on general purpose buckets that LabStore does not perform, by
/// method, target and keyword. The List… and Get… forms of object annotations share a row.
/// `docs/s3.md` lists every operation with its status; a test holds it equal to this list and
/// to the operation table.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html>
#[rustfmt::skip]
pub const NOT_IMPLEMENTED: &[Row] = &[
    row("GET", Bucket, Some("abac"), "GetBucketAbac"),
    row("PUT", Bucket, Some("abac"), "PutBucketAbac"),
    row("PUT", Bucket, Some("accelerate"), "PutBucketAccelerateConfiguration"),
    row("PUT", Bucket, Some("analytics"), "PutBucketAnalyticsConfiguration"),
    row("DELETE", Bucket, Some("analytics"), "DeleteBucketAnalyticsConfiguration"),
    row("PUT", Bucket, Some("intelligent-tiering"), "PutBucketIntelligentTieringConfiguration"),
    row("DELETE", Bucket, Some("intelligent-tiering"), "DeleteBucketIntelligentTieringConfiguration"),
    row("PUT", Bucket, Some("inventory"), "PutBucketInventoryConfiguration"),
    row("DELETE", Bucket, Some("inventory"), "DeleteBucketInventoryConfiguration"),
    row("PUT", Bucket, Some("logging"), "PutBucketLogging"),
    row("PUT", Bucket, Some("metadataAnnotationTable"), "UpdateBucketMetadataAnnotationTableConfiguration"),
    row("GET", Bucket, Some("metadataConfiguration"), "GetBucketMetadataConfiguration"),
    row("POST", Bucket, Some("metadataConfiguration"), "CreateBucketMetadataConfiguration"),
    row("DELETE", Bucket, Some("metadataConfiguration"), "DeleteBucketMetadataConfiguration"),
    row("PUT", Bucket, Some("metadataInventoryTable"), "UpdateBucketMetadataInventoryTableConfiguration"),
    row("PUT", Bucket, Some("metadataJournalTable"), "UpdateBucketMetadataJournalTableConfiguration"),
    row("GET", Bucket, Some("metadataTable"), "GetBucketMetadataTableConfiguration"),
    row("POST", Bucket, Some("metadataTable"), "CreateBucketMetadataTableConfiguration"),
    row("DELETE", Bucket, Some("metadataTable"), "DeleteBucketMetadataTableConfiguration"),
    row("PUT", Bucket, Some("metrics"), "PutBucketMetricsConfiguration"),
    row("DELETE", Bucket, Some("metrics"), "DeleteBucketMetricsConfiguration"),
    row("PUT", Bucket, Some("notification"), "PutBucketNotificationConfiguration"),
    row("PUT", Bucket, Some("replication"), "PutBucketReplication"),
    row("DELETE", Bucket, Some("replication"), "DeleteBucketReplication"),
    row("PUT", Bucket, Some("requestPayment"), "PutBucketRequestPayment"),
    row("GET", Bucket, Some("session"), "CreateSession"),
    row("GET", Object, Some("annotation"), "GetObjectAnnotation"),
    row("PUT", Object, Some("annotation"), "PutObjectAnnotation"),
    row("DELETE", Object, Some("annotation"), "DeleteObjectAnnotation"),
    row("PUT", Object, Some("encryption"), "UpdateObjectEncryption"),
    row("PUT", Object, Some("renameObject"), "RenameObject"),
    row("POST", Object, Some("restore"), "RestoreObject"),
    row("POST", Object, Some("select"), "SelectObjectContent"),
    row("GET", Object, Some("torrent"), "GetObjectTorrent"),
];

/// Parses the request line. `query` is the raw query string; `headers` give the Host (for
/// virtual-hosted style) and the headers a row's refinement names.
pub fn route(
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    base_domain: Option<&str>,
) -> S3Result<Route> {
    let query = Query::parse(query);
    let decoded = percent_decode_str(path).decode_utf8().map_err(|_| {
        S3Error::new(
            Code::InvalidArgument,
            "The request path is not valid UTF-8.",
        )
    })?;
    let host = headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok());
    let (bucket, key, virtual_host) = match host_bucket(host, base_domain) {
        Some(bucket) => (
            Some(bucket),
            decoded.strip_prefix('/').unwrap_or(&decoded).to_owned(),
            true,
        ),
        None => {
            let rest = decoded.strip_prefix('/').unwrap_or(&decoded);
            match rest.split_once('/') {
                Some((b, k)) => (Some(b.to_owned()), k.to_owned(), false),
                None if rest.is_empty() => (None, String::new(), false),
                None => (Some(rest.to_owned()), String::new(), false),
            }
        }
    };
    // `/b` and `/b/` both name the bucket: S3 has no object with an empty key.
    let key = (!key.is_empty()).then_some(key);
    let target = match (&bucket, &key) {
        (None, _) => Target::Service,
        (Some(_), None) => Target::Bucket,
        (Some(_), Some(_)) => Target::Object,
    };
    let operation = operation(method, target, &query, headers)?;
    Ok(Route {
        operation,
        bucket,
        key,
        virtual_host,
        query,
    })
}

/// The operation for a method on a target: the rows with the sub-resource keyword present,
/// the one whose refinement holds before the one without.
fn operation(
    method: &Method,
    target: Target,
    query: &Query,
    headers: &HeaderMap,
) -> S3Result<Operation> {
    // A preflight carries the query of the request it asks about (`OPTIONS /b/k?uploads`):
    // every OPTIONS request on a bucket or object is the preflight, whatever its query names.
    let keyword = if *method == Method::OPTIONS {
        None
    } else {
        keyword(query)?
    };
    let holds = |when: &When| match *when {
        When::Param(name) => query.has(name),
        When::Header(name) => headers.contains_key(name),
    };
    let rows = || {
        OPERATIONS
            .iter()
            .filter(|r| r.method == method.as_str() && r.target == target && r.keyword == keyword)
    };
    let refined = rows().find(|r| r.when.as_ref().is_some_and(holds));
    if let Some(row) = refined.or_else(|| rows().find(|r| r.when.is_none())) {
        return check(row, query);
    }
    let unimplemented = NOT_IMPLEMENTED
        .iter()
        .find(|r| r.method == method.as_str() && r.target == target && r.keyword == keyword);
    match unimplemented {
        Some(row) => Err(S3Error::new(
            Code::NotImplemented,
            format!("{} is not implemented by this server.", row.name),
        )),
        None => Err(Code::MethodNotAllowed.into()),
    }
}

/// Every sub-resource keyword of the S3 API.
fn keywords() -> impl Iterator<Item = &'static str> {
    OPERATIONS
        .iter()
        .filter_map(|r| r.keyword)
        .chain(NOT_IMPLEMENTED.iter().filter_map(|r| r.keyword))
}

/// The one sub-resource keyword a query names, if any. Two different keywords name two
/// operations; S3 documents no meaning for that, so it is refused rather than guessed.
fn keyword(query: &Query) -> S3Result<Option<&'static str>> {
    let mut found: Option<&'static str> = None;
    for name in query.names() {
        let Some(keyword) = keywords().find(|k| *k == name) else {
            continue;
        };
        match found {
            Some(first) if first != keyword => {
                return Err(S3Error::new(
                    Code::InvalidArgument,
                    format!("The sub-resources {first} and {keyword} cannot be combined."),
                ))
            }
            _ => found = Some(keyword),
        }
    }
    Ok(found)
}

/// Parameters a chosen row cannot take.
fn check(row: &OpRow, query: &Query) -> S3Result<Operation> {
    match row.operation {
        // A part number narrows a write to one part of an upload; without the upload it
        // would silently become a whole-object PutObject (or CopyObject).
        Operation::PutObject | Operation::CopyObject if query.has("partNumber") => {
            Err(S3Error::new(
                Code::InvalidRequest,
                "partNumber is only valid with an uploadId.",
            ))
        }
        op => Ok(op),
    }
}

/// The bucket named by a virtual-hosted-style Host header (`bucket.<base_domain>[:port]`).
pub(crate) fn host_bucket(host: Option<&str>, base_domain: Option<&str>) -> Option<String> {
    let base = base_domain?.trim_matches('.');
    let host = host?;
    let host = host
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(h, _)| h);
    let bucket = host.strip_suffix(base)?.strip_suffix('.')?;
    (!bucket.is_empty()).then(|| bucket.to_ascii_lowercase())
}

#[cfg(test)]
mod tests;
