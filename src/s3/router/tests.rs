use super::*;
use Operation::*;

fn headers(host: &str, copy: bool) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(http::header::HOST, host.parse().unwrap());
    if copy {
        headers.insert("x-amz-copy-source", "/src/k".parse().unwrap());
    }
    headers
}

fn op_with(method: &str, target: &str, copy: bool) -> S3Result<Route> {
    let (path, query) = target
        .split_once('?')
        .map_or((target, None), |(p, q)| (p, Some(q)));
    route(
        &method.parse().unwrap(),
        path,
        query,
        &headers("localhost:6789", copy),
        None,
    )
}

fn op(method: &str, target: &str) -> S3Result<Route> {
    op_with(method, target, false)
}

/// Every operation the AWS SDK for Rust sends, as it sends it: method, path, query (with
/// `x-id` and every optional parameter it may add), and the operation's AWS name.
/// Written from the SDK's request serializers, independently of the tables.
#[rustfmt::skip]
const SDK: &[(&str, &str, &str, &str)] = &[
        ("DELETE", "/b/k", "x-id=AbortMultipartUpload&uploadId", "AbortMultipartUpload"),
        ("POST", "/b/k", "uploadId", "CompleteMultipartUpload"),
        ("PUT", "/b/k", "x-id=CopyObject", "CopyObject"),
        ("PUT", "/b", "", "CreateBucket"),
        ("POST", "/b", "metadataConfiguration", "CreateBucketMetadataConfiguration"),
        ("POST", "/b", "metadataTable", "CreateBucketMetadataTableConfiguration"),
        ("POST", "/b/k", "uploads", "CreateMultipartUpload"),
        ("GET", "/b", "session", "CreateSession"),
        ("DELETE", "/b", "", "DeleteBucket"),
        ("DELETE", "/b", "analytics&id", "DeleteBucketAnalyticsConfiguration"),
        ("DELETE", "/b", "cors", "DeleteBucketCors"),
        ("OPTIONS", "/b", "", "OptionsBucket"),
        ("OPTIONS", "/b/k", "", "OptionsObject"),
        ("DELETE", "/b", "encryption", "DeleteBucketEncryption"),
        ("DELETE", "/b", "intelligent-tiering&id", "DeleteBucketIntelligentTieringConfiguration"),
        ("DELETE", "/b", "inventory&id", "DeleteBucketInventoryConfiguration"),
        ("DELETE", "/b", "lifecycle", "DeleteBucketLifecycle"),
        ("DELETE", "/b", "metadataConfiguration", "DeleteBucketMetadataConfiguration"),
        ("DELETE", "/b", "metadataTable", "DeleteBucketMetadataTableConfiguration"),
        ("DELETE", "/b", "metrics&id", "DeleteBucketMetricsConfiguration"),
        ("DELETE", "/b", "ownershipControls", "DeleteBucketOwnershipControls"),
        ("DELETE", "/b", "policy", "DeleteBucketPolicy"),
        ("DELETE", "/b", "replication", "DeleteBucketReplication"),
        ("DELETE", "/b", "tagging", "DeleteBucketTagging"),
        ("DELETE", "/b", "website", "DeleteBucketWebsite"),
        ("DELETE", "/b/k", "x-id=DeleteObject&versionId", "DeleteObject"),
        ("DELETE", "/b/k", "annotation&annotationName&versionId", "DeleteObjectAnnotation"),
        ("DELETE", "/b/k", "tagging&versionId", "DeleteObjectTagging"),
        ("POST", "/b", "delete", "DeleteObjects"),
        ("DELETE", "/b", "publicAccessBlock", "DeletePublicAccessBlock"),
        ("GET", "/b", "abac", "GetBucketAbac"),
        ("GET", "/b", "accelerate", "GetBucketAccelerateConfiguration"),
        ("GET", "/b", "acl", "GetBucketAcl"),
        ("GET", "/b", "analytics&x-id=GetBucketAnalyticsConfiguration&id", "GetBucketAnalyticsConfiguration"),
        ("GET", "/b", "cors", "GetBucketCors"),
        ("GET", "/b", "encryption", "GetBucketEncryption"),
        ("GET", "/b", "intelligent-tiering&x-id=GetBucketIntelligentTieringConfiguration&id", "GetBucketIntelligentTieringConfiguration"),
        ("GET", "/b", "inventory&x-id=GetBucketInventoryConfiguration&id", "GetBucketInventoryConfiguration"),
        ("GET", "/b", "lifecycle", "GetBucketLifecycleConfiguration"),
        ("GET", "/b", "location", "GetBucketLocation"),
        ("GET", "/b", "logging", "GetBucketLogging"),
        ("GET", "/b", "metadataConfiguration", "GetBucketMetadataConfiguration"),
        ("GET", "/b", "metadataTable", "GetBucketMetadataTableConfiguration"),
        ("GET", "/b", "metrics&x-id=GetBucketMetricsConfiguration&id", "GetBucketMetricsConfiguration"),
        ("GET", "/b", "notification", "GetBucketNotificationConfiguration"),
        ("GET", "/b", "ownershipControls", "GetBucketOwnershipControls"),
        ("GET", "/b", "policy", "GetBucketPolicy"),
        ("GET", "/b", "policyStatus", "GetBucketPolicyStatus"),
        ("GET", "/b", "replication", "GetBucketReplication"),
        ("GET", "/b", "requestPayment", "GetBucketRequestPayment"),
        ("GET", "/b", "tagging", "GetBucketTagging"),
        ("GET", "/b", "versioning", "GetBucketVersioning"),
        ("GET", "/b", "website", "GetBucketWebsite"),
        ("GET", "/b/k", "x-id=GetObject&response-cache-control&response-content-disposition&response-content-encoding&response-content-language&response-content-type&versionId&partNumber", "GetObject"),
        ("GET", "/b/k", "acl&versionId", "GetObjectAcl"),
        ("GET", "/b/k", "annotation&x-id=GetObjectAnnotation&annotationName&versionId", "GetObjectAnnotation"),
        ("GET", "/b/k", "attributes&versionId", "GetObjectAttributes"),
        ("GET", "/b/k", "legal-hold&versionId", "GetObjectLegalHold"),
        ("GET", "/b", "object-lock", "GetObjectLockConfiguration"),
        ("GET", "/b/k", "retention&versionId", "GetObjectRetention"),
        ("GET", "/b/k", "tagging&versionId", "GetObjectTagging"),
        ("GET", "/b/k", "torrent", "GetObjectTorrent"),
        ("GET", "/b", "publicAccessBlock", "GetPublicAccessBlock"),
        ("HEAD", "/b", "", "HeadBucket"),
        ("HEAD", "/b/k", "response-cache-control&response-content-disposition&response-content-encoding&response-content-language&response-content-type&versionId&partNumber", "HeadObject"),
        ("GET", "/b", "analytics&x-id=ListBucketAnalyticsConfigurations&continuation-token", "ListBucketAnalyticsConfigurations"),
        ("GET", "/b", "intelligent-tiering&x-id=ListBucketIntelligentTieringConfigurations&continuation-token", "ListBucketIntelligentTieringConfigurations"),
        ("GET", "/b", "inventory&x-id=ListBucketInventoryConfigurations&continuation-token", "ListBucketInventoryConfigurations"),
        ("GET", "/b", "metrics&x-id=ListBucketMetricsConfigurations&continuation-token", "ListBucketMetricsConfigurations"),
        ("GET", "/", "x-id=ListBuckets&max-buckets&continuation-token&prefix&bucket-region", "ListBuckets"),
        ("GET", "/b", "uploads&delimiter&encoding-type&key-marker&max-uploads&prefix&upload-id-marker", "ListMultipartUploads"),
        ("GET", "/b/k", "annotation&x-id=ListObjectAnnotations&versionId&max-annotation-results&annotation-prefix&continuation-token", "ListObjectAnnotations"),
        ("GET", "/b", "versions&delimiter&encoding-type&key-marker&max-keys&prefix&version-id-marker", "ListObjectVersions"),
        ("GET", "/b", "delimiter&encoding-type&marker&max-keys&prefix", "ListObjects"),
        ("GET", "/b", "list-type=2&delimiter&encoding-type&max-keys&prefix&continuation-token&fetch-owner&start-after", "ListObjectsV2"),
        ("GET", "/b/k", "x-id=ListParts&max-parts&part-number-marker&uploadId", "ListParts"),
        ("PUT", "/b", "abac", "PutBucketAbac"),
        ("PUT", "/b", "accelerate", "PutBucketAccelerateConfiguration"),
        ("PUT", "/b", "acl", "PutBucketAcl"),
        ("PUT", "/b", "analytics&id", "PutBucketAnalyticsConfiguration"),
        ("PUT", "/b", "cors", "PutBucketCors"),
        ("PUT", "/b", "encryption", "PutBucketEncryption"),
        ("PUT", "/b", "intelligent-tiering&id", "PutBucketIntelligentTieringConfiguration"),
        ("PUT", "/b", "inventory&id", "PutBucketInventoryConfiguration"),
        ("PUT", "/b", "lifecycle", "PutBucketLifecycleConfiguration"),
        ("PUT", "/b", "logging", "PutBucketLogging"),
        ("PUT", "/b", "metrics&id", "PutBucketMetricsConfiguration"),
        ("PUT", "/b", "notification", "PutBucketNotificationConfiguration"),
        ("PUT", "/b", "ownershipControls", "PutBucketOwnershipControls"),
        ("PUT", "/b", "policy", "PutBucketPolicy"),
        ("PUT", "/b", "replication", "PutBucketReplication"),
        ("PUT", "/b", "requestPayment", "PutBucketRequestPayment"),
        ("PUT", "/b", "tagging", "PutBucketTagging"),
        ("PUT", "/b", "versioning", "PutBucketVersioning"),
        ("PUT", "/b", "website", "PutBucketWebsite"),
        ("PUT", "/b/k", "x-id=PutObject", "PutObject"),
        ("PUT", "/b/k", "acl&versionId", "PutObjectAcl"),
        ("PUT", "/b/k", "annotation&versionId&annotationName", "PutObjectAnnotation"),
        ("PUT", "/b/k", "legal-hold&versionId", "PutObjectLegalHold"),
        ("PUT", "/b", "object-lock", "PutObjectLockConfiguration"),
        ("PUT", "/b/k", "retention&versionId", "PutObjectRetention"),
        ("PUT", "/b/k", "tagging&versionId", "PutObjectTagging"),
        ("PUT", "/b", "publicAccessBlock", "PutPublicAccessBlock"),
        ("PUT", "/b/k", "renameObject", "RenameObject"),
        ("POST", "/b/k", "restore&versionId", "RestoreObject"),
        ("POST", "/b/k", "select&select-type=2", "SelectObjectContent"),
        ("PUT", "/b", "metadataAnnotationTable", "UpdateBucketMetadataAnnotationTableConfiguration"),
        ("PUT", "/b", "metadataInventoryTable", "UpdateBucketMetadataInventoryTableConfiguration"),
        ("PUT", "/b", "metadataJournalTable", "UpdateBucketMetadataJournalTableConfiguration"),
        ("PUT", "/b/k", "encryption&versionId", "UpdateObjectEncryption"),
        ("PUT", "/b/k", "x-id=UploadPart&partNumber&uploadId", "UploadPart"),
        ("PUT", "/b/k", "x-id=UploadPartCopy&partNumber&uploadId", "UploadPartCopy"),
    ("POST", "/b", "", "PostObject"),
];

/// The operation a request becomes, with or without `x-amz-copy-source`.
fn routed(method: &str, path: &str, query: &str, copy: bool) -> S3Result<Operation> {
    let target = match query {
        "" => path.to_owned(),
        q => format!("{path}?{q}"),
    };
    op_with(method, &target, copy).map(|r| r.operation)
}

#[test]
fn every_sdk_operation_routes_to_itself_or_not_implemented() {
    for &(method, path, query, name) in SDK {
        let copy = name.ends_with("Copy") || name == "CopyObject";
        match routed(method, path, query, copy) {
            Ok(operation) => assert_eq!(format!("{operation:?}"), name, "{method} {path}?{query}"),
            Err(e) => assert_eq!(e.code, Code::NotImplemented, "{name}: {e}"),
        }
    }
}

/// Every keyword × method × target: the route is an operation AWS defines there (with that
/// keyword), `NotImplemented` for one it defines there, or an error; never another operation.
#[test]
fn no_keyword_falls_through_to_another_operation() {
    let mut keywords: Vec<Option<&str>> = OPERATIONS
        .iter()
        .map(|r| r.keyword)
        .chain(NOT_IMPLEMENTED.iter().map(|r| r.keyword))
        .collect();
    keywords.sort();
    keywords.dedup();
    let defined = |method: &str, path: &str, keyword: Option<&str>| {
        SDK.iter()
            .filter(|(m, p, _, _)| *m == method && *p == path)
            .filter(|(_, _, q, _)| {
                let names: Vec<&str> = q.split('&').map(|p| p.split('=').next().unwrap()).collect();
                match keyword {
                    Some(k) => names.contains(&k),
                    None => !names.iter().any(|n| keywords.contains(&Some(n))),
                }
            })
            .map(|(_, _, _, name)| *name)
            .collect::<Vec<_>>()
    };
    for keyword in &keywords {
        for method in ["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"] {
            for path in ["/", "/b", "/b/k"] {
                let query = keyword.unwrap_or("");
                let names = defined(method, path, *keyword);
                let case = format!("{method} {path}?{query}");
                for copy in [false, true] {
                    match routed(method, path, query, copy) {
                        // A preflight carries the query of the request it asks about.
                        Ok(operation) if method == "OPTIONS" => {
                            let expected = match path {
                                "/b" => Operation::OptionsBucket,
                                _ => Operation::OptionsObject,
                            };
                            assert_eq!(operation, expected, "{case}");
                        }
                        Ok(operation) => {
                            let name = format!("{operation:?}");
                            assert!(names.contains(&name.as_str()), "{case} became {name}");
                        }
                        Err(e) if e.code == Code::NotImplemented => {
                            assert!(!names.is_empty(), "{case}: NotImplemented for nothing")
                        }
                        Err(e) => assert!(names.is_empty(), "{case}: {e}"),
                    }
                }
            }
        }
    }
}

#[test]
fn recent_sub_resources_never_reach_the_base_operation() {
    for (method, target) in [
        ("DELETE", "/b?metadataTable"),
        ("DELETE", "/b?metadataConfiguration"),
        ("PUT", "/b?metadataJournalTable"),
        ("PUT", "/b?metadataInventoryTable"),
        ("GET", "/b?metadataTable"),
        ("GET", "/b?session"),
        ("GET", "/b?abac"),
        ("PUT", "/b/k?renameObject"),
        ("PUT", "/b/k?encryption"),
    ] {
        assert_eq!(
            op(method, target).unwrap_err().code,
            Code::NotImplemented,
            "{method} {target}"
        );
    }
    // Object-level sub-resources sent to the wrong target, or to a method that has none.
    for (method, target) in [
        ("DELETE", "/b/k?renameObject"),
        ("DELETE", "/b/k?metadataTable"),
        ("GET", "/b?delete"),
        ("POST", "/b/k"),
        ("GET", "/?acl"),
    ] {
        assert_eq!(
            op(method, target).unwrap_err().code,
            Code::MethodNotAllowed,
            "{method} {target}"
        );
    }
    assert_eq!(
        op("GET", "/b?acl&policy").unwrap_err().code,
        Code::InvalidArgument
    );
    assert_eq!(
        op("PUT", "/b/k?partNumber=1").unwrap_err().code,
        Code::InvalidRequest
    );
    // Parameters that are not sub-resources are ignored, as S3 ignores them.
    assert_eq!(
        op("GET", "/b/k?x-id=GetObject&foo=1").unwrap().operation,
        GetObject
    );
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
        (
            "GET",
            "/b?lifecycle",
            GetBucketLifecycleConfiguration,
            Some("b"),
            None,
        ),
        (
            "GET",
            "/b?analytics",
            ListBucketAnalyticsConfigurations,
            Some("b"),
            None,
        ),
        (
            "GET",
            "/b?analytics&id=a",
            GetBucketAnalyticsConfiguration,
            Some("b"),
            None,
        ),
        (
            "GET",
            "/b?metrics&id=m",
            GetBucketMetricsConfiguration,
            Some("b"),
            None,
        ),
        (
            "GET",
            "/b?inventory",
            ListBucketInventoryConfigurations,
            Some("b"),
            None,
        ),
        (
            "GET",
            "/b?intelligent-tiering&id=t",
            GetBucketIntelligentTieringConfiguration,
            Some("b"),
            None,
        ),
        (
            "GET",
            "/b/k?retention",
            GetObjectRetention,
            Some("b"),
            Some("k"),
        ),
        (
            "GET",
            "/b/k?legal-hold",
            GetObjectLegalHold,
            Some("b"),
            Some("k"),
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
        op("PUT", "/b?logging").unwrap_err().code,
        Code::NotImplemented
    );
    assert_eq!(
        op("PUT", "/b/k?renameObject").unwrap_err().code,
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
        &headers("media.s3.lab:6789", false),
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
        &headers("media.s3.lab", false),
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
        &headers("s3.lab:6789", false),
        Some("s3.lab"),
    )
    .unwrap();
    assert_eq!((r.bucket.as_deref(), r.virtual_host), (Some("b"), false));
    let copy = |target| op_with("PUT", target, true).map(|r| r.operation);
    assert_eq!(copy("/b/k").unwrap(), CopyObject);
    assert_eq!(
        copy("/b/k?partNumber=1&uploadId=u").unwrap(),
        UploadPartCopy
    );
    assert_eq!(
        copy("/b/k?partNumber=1").unwrap_err().code,
        Code::InvalidRequest
    );
}

/// Precedence is by specificity: for each method, target and keyword there is at most one
/// row without a refinement and at most one with each refinement, every refined row has a
/// base row it refines, and every operation has one row.
#[test]
fn rows_never_tie() {
    use std::collections::HashSet;
    let mut seen = HashSet::new();
    for r in OPERATIONS {
        let slot = (r.method, r.target, r.keyword, r.when);
        assert!(seen.insert(slot), "two rows for {slot:?}");
        if r.when.is_some() {
            assert!(
                OPERATIONS
                    .iter()
                    .any(|b| (b.method, b.target, b.keyword, b.when)
                        == (r.method, r.target, r.keyword, None)),
                "{:?} refines no row",
                r.operation
            );
        }
        let implemented = NOT_IMPLEMENTED
            .iter()
            .any(|u| (u.method, u.target, u.keyword) == (r.method, r.target, r.keyword));
        assert!(
            !implemented,
            "{:?} is also listed as not implemented",
            r.operation
        );
    }
    let ops: HashSet<_> = OPERATIONS.iter().map(|r| r.operation).collect();
    assert_eq!(ops.len(), Operation::ALL.len());
    assert_eq!(OPERATIONS.len(), Operation::ALL.len());
}

/// `docs/s3.md` lists every operation of the S3 API with its status here; the rows marked
/// `implemented` or `unconfigured` are exactly the operation table's, the `NotImplemented`
/// rows exactly `NOT_IMPLEMENTED`, and a `same as X` row names a listed operation.
#[test]
fn the_documented_operation_table_is_the_routers() {
    use std::collections::BTreeSet;
    let docs = include_str!("../../../docs/s3.md");
    let begin = docs
        .find("<!-- operations: begin -->")
        .expect("the table's start");
    let end = docs
        .find("<!-- operations: end -->")
        .expect("the table's end");
    let mut served = BTreeSet::new();
    let mut refused = BTreeSet::new();
    let mut all = BTreeSet::new();
    let mut aliases = Vec::new();
    for line in docs[begin..end]
        .lines()
        .filter(|l| l.starts_with("| "))
        .skip(1)
    {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (name, status) = (cells[1], cells[2]);
        if name.starts_with("---") {
            continue;
        }
        assert!(all.insert(name), "{name} is listed twice");
        match status {
            "implemented" | "unconfigured" => {
                served.insert(name);
            }
            "NotImplemented" => {
                refused.insert(name);
            }
            "not served" => {}
            other => match other.strip_prefix("same as ") {
                Some(target) => aliases.push((name, target)),
                None => panic!("{name}: unknown status {other}"),
            },
        }
    }
    let table: BTreeSet<&str> = Operation::ALL.iter().map(|o| o.name()).collect();
    assert_eq!(
        served, table,
        "implemented/unconfigured rows = the operation table"
    );
    let not_implemented: BTreeSet<&str> = NOT_IMPLEMENTED.iter().map(|r| r.name).collect();
    assert_eq!(
        refused, not_implemented,
        "NotImplemented rows = NOT_IMPLEMENTED"
    );
    for (name, target) in aliases {
        assert!(
            all.contains(target),
            "{name} is the same as {target}, not listed"
        );
    }
}
