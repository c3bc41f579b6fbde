//! Turns a request line into the S3 operation it names (path-style `/bucket/key`, or
//! virtual-hosted `bucket.<base_domain>/key`), by method, target and sub-resource keyword.
//! Pure: no state, no I/O.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html>
//!
//! Invariant: a request is routed to the operation AWS defines for its method, target and
//! sub-resource, to `NotImplemented` when LabStore does not perform that operation, or to an
//! error; never to another operation. `ROWS` lists every operation of the S3 API (the
//! unimplemented ones by name), so an unknown sub-resource can never be dropped and fall
//! through to the method's base operation (`DELETE /b?metadataTable` is not DeleteBucket).

use http::Method;
use percent_encoding::percent_decode_str;

use super::error::{Code, S3Error, S3Result};
use super::query::Query;

/// An S3 operation LabStore performs, named exactly as AWS names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    ListBuckets,
    CreateBucket,
    HeadBucket,
    DeleteBucket,
    GetBucketLocation,
    GetBucketAcl,
    PutBucketAcl,
    GetBucketVersioning,
    PutBucketPolicy,
    GetBucketPolicy,
    DeleteBucketPolicy,
    GetBucketPolicyStatus,
    ListObjects,
    ListObjectsV2,
    ListMultipartUploads,
    DeleteObjects,
    PutObject,
    CopyObject,
    GetObject,
    HeadObject,
    DeleteObject,
    GetObjectAcl,
    PutObjectAcl,
    CreateMultipartUpload,
    UploadPart,
    UploadPartCopy,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListParts,
}

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Service,
    Bucket,
    Object,
}

/// What a row of the table selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selects {
    /// An operation LabStore performs.
    Op(Operation),
    /// An operation of the S3 API that LabStore does not perform: `NotImplemented`.
    Unimplemented(&'static str),
}

/// One operation: method, target and the sub-resource keyword that selects it (`None` for
/// the method's base operation on that target).
pub struct Row {
    pub method: &'static str,
    pub target: Target,
    pub keyword: Option<&'static str>,
    pub selects: Selects,
}

const fn row(
    method: &'static str,
    target: Target,
    keyword: Option<&'static str>,
    selects: Selects,
) -> Row {
    Row {
        method,
        target,
        keyword,
        selects,
    }
}

use Operation::*;
use Selects::{Op, Unimplemented};
use Target::{Bucket, Object, Service};

/// Every operation of the S3 API on general purpose buckets, by method, target and keyword.
/// Operations told apart by something else than the keyword (ListObjectsV2 by `list-type`,
/// CopyObject and UploadPartCopy by `x-amz-copy-source`, the List… and Get… forms of the
/// analytics, inventory, metrics and annotation configurations by `id`) share a row.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html>
#[rustfmt::skip]
pub const ROWS: &[Row] = &[
    row("GET", Service, None, Op(ListBuckets)),
    row("GET", Bucket, None, Op(ListObjects)),
    row("PUT", Bucket, None, Op(CreateBucket)),
    row("HEAD", Bucket, None, Op(HeadBucket)),
    row("DELETE", Bucket, None, Op(DeleteBucket)),
    // Browser-based uploads with an HTML form.
    row("POST", Bucket, None, Unimplemented("PostObject")),
    row("GET", Bucket, Some("abac"), Unimplemented("GetBucketAbac")),
    row("PUT", Bucket, Some("abac"), Unimplemented("PutBucketAbac")),
    row("GET", Bucket, Some("accelerate"), Unimplemented("GetBucketAccelerateConfiguration")),
    row("PUT", Bucket, Some("accelerate"), Unimplemented("PutBucketAccelerateConfiguration")),
    row("GET", Bucket, Some("acl"), Op(GetBucketAcl)),
    row("PUT", Bucket, Some("acl"), Op(PutBucketAcl)),
    row("GET", Bucket, Some("analytics"), Unimplemented("GetBucketAnalyticsConfiguration")),
    row("PUT", Bucket, Some("analytics"), Unimplemented("PutBucketAnalyticsConfiguration")),
    row("DELETE", Bucket, Some("analytics"), Unimplemented("DeleteBucketAnalyticsConfiguration")),
    row("GET", Bucket, Some("cors"), Unimplemented("GetBucketCors")),
    row("PUT", Bucket, Some("cors"), Unimplemented("PutBucketCors")),
    row("DELETE", Bucket, Some("cors"), Unimplemented("DeleteBucketCors")),
    row("POST", Bucket, Some("delete"), Op(DeleteObjects)),
    row("GET", Bucket, Some("encryption"), Unimplemented("GetBucketEncryption")),
    row("PUT", Bucket, Some("encryption"), Unimplemented("PutBucketEncryption")),
    row("DELETE", Bucket, Some("encryption"), Unimplemented("DeleteBucketEncryption")),
    row("GET", Bucket, Some("intelligent-tiering"), Unimplemented("GetBucketIntelligentTieringConfiguration")),
    row("PUT", Bucket, Some("intelligent-tiering"), Unimplemented("PutBucketIntelligentTieringConfiguration")),
    row("DELETE", Bucket, Some("intelligent-tiering"), Unimplemented("DeleteBucketIntelligentTieringConfiguration")),
    row("GET", Bucket, Some("inventory"), Unimplemented("GetBucketInventoryConfiguration")),
    row("PUT", Bucket, Some("inventory"), Unimplemented("PutBucketInventoryConfiguration")),
    row("DELETE", Bucket, Some("inventory"), Unimplemented("DeleteBucketInventoryConfiguration")),
    row("GET", Bucket, Some("lifecycle"), Unimplemented("GetBucketLifecycleConfiguration")),
    row("PUT", Bucket, Some("lifecycle"), Unimplemented("PutBucketLifecycleConfiguration")),
    row("DELETE", Bucket, Some("lifecycle"), Unimplemented("DeleteBucketLifecycle")),
    row("GET", Bucket, Some("location"), Op(GetBucketLocation)),
    row("GET", Bucket, Some("logging"), Unimplemented("GetBucketLogging")),
    row("PUT", Bucket, Some("logging"), Unimplemented("PutBucketLogging")),
    row("PUT", Bucket, Some("metadataAnnotationTable"), Unimplemented("UpdateBucketMetadataAnnotationTableConfiguration")),
    row("GET", Bucket, Some("metadataConfiguration"), Unimplemented("GetBucketMetadataConfiguration")),
    row("POST", Bucket, Some("metadataConfiguration"), Unimplemented("CreateBucketMetadataConfiguration")),
    row("DELETE", Bucket, Some("metadataConfiguration"), Unimplemented("DeleteBucketMetadataConfiguration")),
    row("PUT", Bucket, Some("metadataInventoryTable"), Unimplemented("UpdateBucketMetadataInventoryTableConfiguration")),
    row("PUT", Bucket, Some("metadataJournalTable"), Unimplemented("UpdateBucketMetadataJournalTableConfiguration")),
    row("GET", Bucket, Some("metadataTable"), Unimplemented("GetBucketMetadataTableConfiguration")),
    row("POST", Bucket, Some("metadataTable"), Unimplemented("CreateBucketMetadataTableConfiguration")),
    row("DELETE", Bucket, Some("metadataTable"), Unimplemented("DeleteBucketMetadataTableConfiguration")),
    row("GET", Bucket, Some("metrics"), Unimplemented("GetBucketMetricsConfiguration")),
    row("PUT", Bucket, Some("metrics"), Unimplemented("PutBucketMetricsConfiguration")),
    row("DELETE", Bucket, Some("metrics"), Unimplemented("DeleteBucketMetricsConfiguration")),
    row("GET", Bucket, Some("notification"), Unimplemented("GetBucketNotificationConfiguration")),
    row("PUT", Bucket, Some("notification"), Unimplemented("PutBucketNotificationConfiguration")),
    row("GET", Bucket, Some("object-lock"), Unimplemented("GetObjectLockConfiguration")),
    row("PUT", Bucket, Some("object-lock"), Unimplemented("PutObjectLockConfiguration")),
    row("GET", Bucket, Some("ownershipControls"), Unimplemented("GetBucketOwnershipControls")),
    row("PUT", Bucket, Some("ownershipControls"), Unimplemented("PutBucketOwnershipControls")),
    row("DELETE", Bucket, Some("ownershipControls"), Unimplemented("DeleteBucketOwnershipControls")),
    row("GET", Bucket, Some("policy"), Op(GetBucketPolicy)),
    row("PUT", Bucket, Some("policy"), Op(PutBucketPolicy)),
    row("DELETE", Bucket, Some("policy"), Op(DeleteBucketPolicy)),
    row("GET", Bucket, Some("policyStatus"), Op(GetBucketPolicyStatus)),
    row("GET", Bucket, Some("publicAccessBlock"), Unimplemented("GetPublicAccessBlock")),
    row("PUT", Bucket, Some("publicAccessBlock"), Unimplemented("PutPublicAccessBlock")),
    row("DELETE", Bucket, Some("publicAccessBlock"), Unimplemented("DeletePublicAccessBlock")),
    row("GET", Bucket, Some("replication"), Unimplemented("GetBucketReplication")),
    row("PUT", Bucket, Some("replication"), Unimplemented("PutBucketReplication")),
    row("DELETE", Bucket, Some("replication"), Unimplemented("DeleteBucketReplication")),
    row("GET", Bucket, Some("requestPayment"), Unimplemented("GetBucketRequestPayment")),
    row("PUT", Bucket, Some("requestPayment"), Unimplemented("PutBucketRequestPayment")),
    row("GET", Bucket, Some("session"), Unimplemented("CreateSession")),
    row("GET", Bucket, Some("tagging"), Unimplemented("GetBucketTagging")),
    row("PUT", Bucket, Some("tagging"), Unimplemented("PutBucketTagging")),
    row("DELETE", Bucket, Some("tagging"), Unimplemented("DeleteBucketTagging")),
    row("GET", Bucket, Some("uploads"), Op(ListMultipartUploads)),
    row("GET", Bucket, Some("versioning"), Op(GetBucketVersioning)),
    row("PUT", Bucket, Some("versioning"), Unimplemented("PutBucketVersioning")),
    row("GET", Bucket, Some("versions"), Unimplemented("ListObjectVersions")),
    row("GET", Bucket, Some("website"), Unimplemented("GetBucketWebsite")),
    row("PUT", Bucket, Some("website"), Unimplemented("PutBucketWebsite")),
    row("DELETE", Bucket, Some("website"), Unimplemented("DeleteBucketWebsite")),
    row("GET", Object, None, Op(GetObject)),
    row("HEAD", Object, None, Op(HeadObject)),
    row("PUT", Object, None, Op(PutObject)),
    row("DELETE", Object, None, Op(DeleteObject)),
    row("GET", Object, Some("acl"), Op(GetObjectAcl)),
    row("PUT", Object, Some("acl"), Op(PutObjectAcl)),
    row("GET", Object, Some("annotation"), Unimplemented("GetObjectAnnotation")),
    row("PUT", Object, Some("annotation"), Unimplemented("PutObjectAnnotation")),
    row("DELETE", Object, Some("annotation"), Unimplemented("DeleteObjectAnnotation")),
    row("GET", Object, Some("attributes"), Unimplemented("GetObjectAttributes")),
    row("PUT", Object, Some("encryption"), Unimplemented("UpdateObjectEncryption")),
    row("GET", Object, Some("legal-hold"), Unimplemented("GetObjectLegalHold")),
    row("PUT", Object, Some("legal-hold"), Unimplemented("PutObjectLegalHold")),
    row("PUT", Object, Some("renameObject"), Unimplemented("RenameObject")),
    row("POST", Object, Some("restore"), Unimplemented("RestoreObject")),
    row("GET", Object, Some("retention"), Unimplemented("GetObjectRetention")),
    row("PUT", Object, Some("retention"), Unimplemented("PutObjectRetention")),
    row("POST", Object, Some("select"), Unimplemented("SelectObjectContent")),
    row("GET", Object, Some("tagging"), Unimplemented("GetObjectTagging")),
    row("PUT", Object, Some("tagging"), Unimplemented("PutObjectTagging")),
    row("DELETE", Object, Some("tagging"), Unimplemented("DeleteObjectTagging")),
    row("GET", Object, Some("torrent"), Unimplemented("GetObjectTorrent")),
    row("GET", Object, Some("uploadId"), Op(ListParts)),
    row("PUT", Object, Some("uploadId"), Op(UploadPart)),
    row("POST", Object, Some("uploadId"), Op(CompleteMultipartUpload)),
    row("DELETE", Object, Some("uploadId"), Op(AbortMultipartUpload)),
    row("POST", Object, Some("uploads"), Op(CreateMultipartUpload)),
];

/// Parses the request line. `query` is the raw query string; `host` the Host header.
pub fn route(
    method: &Method,
    path: &str,
    query: Option<&str>,
    host: Option<&str>,
    base_domain: Option<&str>,
) -> S3Result<Route> {
    let query = Query::parse(query);
    let decoded = percent_decode_str(path).decode_utf8().map_err(|_| {
        S3Error::new(
            Code::InvalidArgument,
            "The request path is not valid UTF-8.",
        )
    })?;
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
    let key = (!key.is_empty()).then_some(key);
    let target = match (&bucket, &key) {
        (None, _) => Target::Service,
        (Some(_), None) => Target::Bucket,
        (Some(_), Some(_)) => Target::Object,
    };
    let operation = operation(method, target, &query)?;
    Ok(Route {
        operation,
        bucket,
        key,
        virtual_host,
        query,
    })
}

/// The operation for a method on a target, selected by the sub-resource keyword present.
fn operation(method: &Method, target: Target, query: &Query) -> S3Result<Operation> {
    let keyword = keyword(query)?;
    let row = ROWS
        .iter()
        .find(|r| r.method == method.as_str() && r.target == target && r.keyword == keyword);
    match row.map(|r| r.selects) {
        Some(Selects::Op(operation)) => refine(operation, query),
        Some(Selects::Unimplemented(name)) => Err(S3Error::new(
            Code::NotImplemented,
            format!("{name} is not implemented by this server."),
        )),
        None => Err(Code::MethodNotAllowed.into()),
    }
}

/// The one sub-resource keyword a query names, if any. Two different keywords name two
/// operations; S3 documents no meaning for that, so it is refused rather than guessed.
fn keyword(query: &Query) -> S3Result<Option<&'static str>> {
    let mut found: Option<&'static str> = None;
    for name in query.names() {
        let Some(keyword) = ROWS.iter().filter_map(|r| r.keyword).find(|k| *k == name) else {
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

/// Operations told apart by a parameter other than the keyword.
fn refine(operation: Operation, query: &Query) -> S3Result<Operation> {
    match operation {
        Operation::ListObjects if query.has("list-type") => Ok(Operation::ListObjectsV2),
        // A part number narrows a write to one part of an upload; without the upload it
        // would silently become a whole-object PutObject.
        Operation::PutObject if query.has("partNumber") => Err(S3Error::new(
            Code::InvalidRequest,
            "partNumber is only valid with an uploadId.",
        )),
        op => Ok(op),
    }
}

/// Refines PutObject/UploadPart into their copy forms when `x-amz-copy-source` is present.
pub fn with_copy_source(operation: Operation, copy_source: bool) -> Operation {
    match (operation, copy_source) {
        (Operation::PutObject, true) => Operation::CopyObject,
        (Operation::UploadPart, true) => Operation::UploadPartCopy,
        (op, _) => op,
    }
}

/// The bucket named by a virtual-hosted-style Host header (`bucket.<base_domain>[:port]`).
fn host_bucket(host: Option<&str>, base_domain: Option<&str>) -> Option<String> {
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
