//! Turns a request line into the S3 operation it names (path-style `/bucket/key`, or
//! virtual-hosted `bucket.<base_domain>/key`), by method, path and sub-resource query
//! parameters. Pure: no state, no I/O.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html>

use http::Method;
use percent_encoding::percent_decode_str;

use super::error::{Code, S3Error, S3Result};

/// An S3 operation, named exactly as AWS names it.
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
}

/// Sub-resources that name operations LabStore does not offer (yet).
const UNSUPPORTED: &[&str] = &[
    "accelerate",
    "analytics",
    "cors",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "tagging",
    "torrent",
    "versions",
    "website",
    "attributes",
];

/// Parses the request line. `query` is the raw query string; `host` the Host header.
pub fn route(
    method: &Method,
    path: &str,
    query: Option<&str>,
    host: Option<&str>,
    base_domain: Option<&str>,
) -> S3Result<Route> {
    let params: Vec<(String, String)> = query
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    let has = |name: &str| params.iter().any(|(k, _)| k == name);
    if let Some((name, _)) = params
        .iter()
        .find(|(k, _)| UNSUPPORTED.contains(&k.as_str()))
    {
        return Err(S3Error::new(
            Code::NotImplemented,
            format!("The {name} sub-resource is not supported."),
        ));
    }
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
    let operation = operation(method, bucket.is_some(), key.is_some(), &has)?;
    Ok(Route {
        operation,
        bucket,
        key,
        virtual_host,
    })
}

/// The operation for a method on a bucket or object, with the sub-resources present.
fn operation(
    method: &Method,
    bucket: bool,
    key: bool,
    has: &dyn Fn(&str) -> bool,
) -> S3Result<Operation> {
    use Operation::*;
    let op = match (method.as_str(), bucket, key) {
        ("GET", false, _) => ListBuckets,
        ("GET", true, false) if has("location") => GetBucketLocation,
        ("GET", true, false) if has("acl") => GetBucketAcl,
        ("PUT", true, false) if has("acl") => PutBucketAcl,
        ("GET", true, false) if has("versioning") => GetBucketVersioning,
        ("PUT", true, false) if has("policy") => PutBucketPolicy,
        ("GET", true, false) if has("policy") => GetBucketPolicy,
        ("DELETE", true, false) if has("policy") => DeleteBucketPolicy,
        ("GET", true, false) if has("policyStatus") => GetBucketPolicyStatus,
        // Policies belong to buckets; an object has none.
        (_, true, true) if has("policy") || has("policyStatus") => {
            return Err(Code::MethodNotAllowed.into())
        }
        ("GET", true, false) if has("uploads") => ListMultipartUploads,
        ("GET", true, false) if has("list-type") => ListObjectsV2,
        ("GET", true, false) => ListObjects,
        ("PUT", true, false) => CreateBucket,
        ("HEAD", true, false) => HeadBucket,
        ("DELETE", true, false) => DeleteBucket,
        ("POST", true, false) if has("delete") => DeleteObjects,
        ("GET", true, true) if has("uploadId") => ListParts,
        ("GET", true, true) if has("acl") => GetObjectAcl,
        ("PUT", true, true) if has("acl") => PutObjectAcl,
        ("GET", true, true) => GetObject,
        ("HEAD", true, true) => HeadObject,
        ("PUT", true, true) if has("partNumber") && has("uploadId") => UploadPart,
        ("PUT", true, true) => PutObject,
        ("DELETE", true, true) if has("uploadId") => AbortMultipartUpload,
        ("DELETE", true, true) => DeleteObject,
        ("POST", true, true) if has("uploads") => CreateMultipartUpload,
        ("POST", true, true) if has("uploadId") => CompleteMultipartUpload,
        _ => return Err(Code::MethodNotAllowed.into()),
    };
    Ok(op)
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
mod tests {
    use super::*;
    use Operation::*;

    fn op(method: &str, target: &str) -> S3Result<Route> {
        let (path, query) = target
            .split_once('?')
            .map_or((target, None), |(p, q)| (p, Some(q)));
        route(
            &method.parse().unwrap(),
            path,
            query,
            Some("localhost:6789"),
            None,
        )
    }

    #[test]
    fn path_style_routes() {
        let cases = [
            ("GET", "/", ListBuckets, None, None),
            ("PUT", "/b", CreateBucket, Some("b"), None),
            ("PUT", "/b/", CreateBucket, Some("b"), None),
            ("HEAD", "/b", HeadBucket, Some("b"), None),
            ("GET", "/b?location", GetBucketLocation, Some("b"), None),
            (
                "GET",
                "/b?list-type=2&prefix=a",
                ListObjectsV2,
                Some("b"),
                None,
            ),
            ("GET", "/b?uploads", ListMultipartUploads, Some("b"), None),
            ("GET", "/b", ListObjects, Some("b"), None),
            ("POST", "/b?delete", DeleteObjects, Some("b"), None),
            ("PUT", "/b/k", PutObject, Some("b"), Some("k")),
            ("GET", "/b/a/b/c", GetObject, Some("b"), Some("a/b/c")),
            ("GET", "/b/dir/", GetObject, Some("b"), Some("dir/")),
            (
                "GET",
                "/b/%E2%82%AC%20x",
                GetObject,
                Some("b"),
                Some("\u{20ac} x"),
            ),
            (
                "GET",
                "/b/..%2F..%2Fetc",
                GetObject,
                Some("b"),
                Some("../../etc"),
            ),
            ("HEAD", "/b/k", HeadObject, Some("b"), Some("k")),
            ("DELETE", "/b/k", DeleteObject, Some("b"), Some("k")),
            (
                "POST",
                "/b/k?uploads",
                CreateMultipartUpload,
                Some("b"),
                Some("k"),
            ),
            (
                "PUT",
                "/b/k?partNumber=1&uploadId=u",
                UploadPart,
                Some("b"),
                Some("k"),
            ),
            (
                "POST",
                "/b/k?uploadId=u",
                CompleteMultipartUpload,
                Some("b"),
                Some("k"),
            ),
            (
                "DELETE",
                "/b/k?uploadId=u",
                AbortMultipartUpload,
                Some("b"),
                Some("k"),
            ),
            ("GET", "/b/k?uploadId=u", ListParts, Some("b"), Some("k")),
            ("GET", "/b/k?acl", GetObjectAcl, Some("b"), Some("k")),
            ("PUT", "/b?policy", PutBucketPolicy, Some("b"), None),
            ("GET", "/b?policy", GetBucketPolicy, Some("b"), None),
            ("GET", "/b/?policy=", GetBucketPolicy, Some("b"), None),
            ("DELETE", "/b?policy", DeleteBucketPolicy, Some("b"), None),
            (
                "GET",
                "/b?policyStatus",
                GetBucketPolicyStatus,
                Some("b"),
                None,
            ),
        ];
        for (method, target, operation, bucket, key) in cases {
            let r = op(method, target).unwrap_or_else(|e| panic!("{method} {target}: {e}"));
            assert_eq!(
                (r.operation, r.bucket.as_deref(), r.key.as_deref()),
                (operation, bucket, key),
                "{method} {target}"
            );
        }
    }

    #[test]
    fn unknown_and_unsupported() {
        assert_eq!(op("POST", "/").unwrap_err().code, Code::MethodNotAllowed);
        assert_eq!(
            op("PATCH", "/b/k").unwrap_err().code,
            Code::MethodNotAllowed
        );
        assert_eq!(
            op("GET", "/b?lifecycle").unwrap_err().code,
            Code::NotImplemented
        );
        assert_eq!(
            op("PUT", "/b/k?tagging").unwrap_err().code,
            Code::NotImplemented
        );
        assert_eq!(op("GET", "/b/%FF").unwrap_err().code, Code::InvalidArgument);
        for (method, target) in [
            ("POST", "/b?policy"),
            ("GET", "/b/k?policy"),
            ("PUT", "/b/k?policy"),
            ("GET", "/b/k?policyStatus"),
        ] {
            assert_eq!(
                op(method, target).unwrap_err().code,
                Code::MethodNotAllowed,
                "{method} {target}"
            );
        }
    }

    #[test]
    fn virtual_hosted_style() {
        let r = route(
            &Method::GET,
            "/photos/cat.jpg",
            None,
            Some("media.s3.lab:6789"),
            Some("s3.lab"),
        )
        .unwrap();
        assert_eq!(
            (
                r.operation,
                r.bucket.as_deref(),
                r.key.as_deref(),
                r.virtual_host
            ),
            (GetObject, Some("media"), Some("photos/cat.jpg"), true)
        );
        let r = route(
            &Method::GET,
            "/",
            None,
            Some("media.s3.lab"),
            Some("s3.lab"),
        )
        .unwrap();
        assert_eq!(
            (r.operation, r.bucket.as_deref()),
            (ListObjects, Some("media"))
        );
        // The base domain itself, or another host: path style.
        let r = route(
            &Method::GET,
            "/b/k",
            None,
            Some("s3.lab:6789"),
            Some("s3.lab"),
        )
        .unwrap();
        assert_eq!((r.bucket.as_deref(), r.virtual_host), (Some("b"), false));
        assert_eq!(with_copy_source(PutObject, true), CopyObject);
        assert_eq!(with_copy_source(UploadPart, true), UploadPartCopy);
    }
}
