//! The S3 listener: route (an `Operation` named after the AWS API) -> authenticate (SigV4 in
//! every payload mode, or SigV2) -> authorize -> execute -> respond. Errors are S3's XML
//! `<Error>` (no body on HEAD); every response carries `x-amz-request-id`.

mod access;
pub mod actions;
mod auth;
mod body;
mod bucket;
mod bucket_policy;
pub mod checksum;
mod copy;
mod delete;
pub mod error;
mod list;
mod multipart;
mod object;
mod public;
mod query;
mod read;
mod rfc2047;
pub mod router;
mod version;
mod xml;

use http::{request, HeaderValue, Request, Response};

use std::net::SocketAddr;

use crate::http::{request_id, Body, RequestBody};
use crate::objects::ObjectIndex;
use crate::state::State;
use crate::storage::BlobStore;
use access::Access;
use body::{BodyReader, MAX_PUT};
use error::{Code, S3Error, S3Result};
use query::Query;
use router::{Operation, Route};
use version::Version;

/// What a handler returns: a complete response, or the error to render.
pub(crate) type Reply = S3Result<Response<Body>>;

/// What every handler gets.
pub(crate) struct Ctx<'a> {
    pub state: &'a State,
    /// What the caller may do, for checks a handler makes itself (DeleteObjects per key).
    pub access: &'a Access<'a>,
    /// The query string, parsed once by the router; authorization read the same values.
    pub query: &'a Query,
}

impl Ctx<'_> {
    pub fn index(&self) -> &ObjectIndex {
        &self.state.objects
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.state.blobs
    }

    pub fn account(&self) -> &str {
        &self.state.config.backend.iam.account_id
    }
}

/// Completes a response builder, turning an invalid header value into an internal error.
pub(crate) fn finish(builder: http::response::Builder, body: Body) -> Reply {
    builder
        .body(body)
        .map_err(|e| S3Error::internal("building a response", e))
}

pub async fn handle(state: State, req: Request<RequestBody>, peer: SocketAddr) -> Response<Body> {
    let id = request_id::s3();
    let method = req.method().clone();
    let resource = req.uri().path().to_owned();
    let (parts, body) = req.into_parts();
    let has_body = carries_body(&parts);
    let mut response = match process(&state, &parts, body, peer).await {
        Ok((operation, response)) => {
            tracing::debug!(request_id = %id, operation = ?operation, status = response.status().as_u16(), "s3 request");
            response
        }
        Err(e) => {
            // Only the server's own failures are errors; a client's mistake (NotImplemented
            // included, though it is a 501) is an ordinary refusal.
            if e.code == Code::InternalError {
                tracing::error!(request_id = %id, %method, path = %resource, code = e.code(), "s3 request failed");
            } else if e.code == Code::SlowDown {
                tracing::warn!(request_id = %id, %method, path = %resource, code = e.code(), "s3 request shed");
            } else {
                tracing::info!(request_id = %id, %method, path = %resource, code = e.code(), message = %e.message, "s3 request refused");
            }
            let mut response = e.render(&method, &resource, &id);
            if has_body {
                // The body may be unread (a request refused before its upload); its bytes
                // must not be taken for the next request on this connection.
                response
                    .headers_mut()
                    .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
            }
            response
        }
    };
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(request_id::S3_HEADER, v);
    }
    response
}

/// Whether a missing key must read as AccessDenied: for reads by a caller without
/// `s3:ListBucket` on the bucket.
fn hides_missing_keys(route: &Route, access: &Access<'_>) -> bool {
    let reads = matches!(
        route.operation,
        Operation::GetObject | Operation::HeadObject
    );
    let bucket = route.bucket.as_deref().unwrap_or_default();
    reads && !access.allows("s3:ListBucket", &actions::bucket_arn(bucket))
}

/// Whether a request has a body that a refusal might leave unread.
fn carries_body(parts: &request::Parts) -> bool {
    let length = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok());
    parts.headers.contains_key(http::header::TRANSFER_ENCODING)
        || length.is_some_and(|v| v.trim() != "0")
}

async fn process(
    state: &State,
    parts: &request::Parts,
    body: RequestBody,
    peer: SocketAddr,
) -> S3Result<(Operation, Response<Body>)> {
    let s3 = &state.config.backend.s3;
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok());
    let mut route = router::route(
        &parts.method,
        parts.uri.path(),
        parts.uri.query(),
        host,
        s3.base_domain.as_deref(),
    )?;
    route.operation = router::with_copy_source(
        route.operation,
        parts.headers.contains_key("x-amz-copy-source"),
    );
    let bucket_from_host = route.virtual_host.then(|| route.bucket.clone()).flatten();
    let authenticated = auth::authenticate(state, parts, bucket_from_host.as_deref())?;
    let auth::Authenticated {
        caller,
        payload,
        signed,
    } = authenticated;
    let version = requested_version(&route)?;
    let access = access::authorize(
        state,
        &route,
        &version,
        parts,
        caller.as_ref(),
        signed,
        peer,
    )?;
    let ctx = Ctx {
        state,
        access: &access,
        query: &route.query,
    };
    let reader = BodyReader::new(body, payload, &parts.headers, MAX_PUT);
    match dispatch(&ctx, &route, parts, reader, &version).await {
        Ok(response) => Ok((route.operation, response)),
        Err(e) if e.code() == Code::NoSuchKey.as_str() && hides_missing_keys(&route, &access) => {
            // S3 answers 403, not 404, to a caller who may not list the bucket: whether a
            // key exists is itself something only a lister may learn.
            Err(access::denied())
        }
        Err(e) => Err(e),
    }
}

/// The version a request names, for the operations that take `versionId`; other operations
/// ignore the parameter, as S3 does.
fn requested_version(route: &Route) -> S3Result<Version> {
    use Operation::*;
    match route.operation {
        GetObject | HeadObject | DeleteObject | GetObjectAcl | PutObjectAcl => {
            Version::of(&route.query)
        }
        _ => Ok(Version::Current),
    }
}

/// Runs the operation on the version the request names. A version that does not exist is
/// `NoSuchVersion` before anything runs; DeleteObject of one succeeds and changes nothing, as
/// S3 answers it.
async fn dispatch(
    ctx: &Ctx<'_>,
    route: &Route,
    parts: &request::Parts,
    reader: BodyReader,
    version: &Version,
) -> Reply {
    let mut response = match (route.operation, version) {
        (Operation::DeleteObject, Version::Missing(_)) => {
            ctx.index()
                .bucket(route.bucket.as_deref().unwrap_or_default())?;
            finish(
                Response::builder().status(http::StatusCode::NO_CONTENT),
                crate::http::empty(),
            )?
        }
        _ => {
            version.existing()?;
            execute(ctx, route, parts, reader).await?
        }
    };
    if let Some(id) = version.header().and_then(|v| HeaderValue::from_str(v).ok()) {
        response.headers_mut().insert("x-amz-version-id", id);
    }
    Ok(response)
}

async fn execute(
    ctx: &Ctx<'_>,
    route: &Route,
    parts: &request::Parts,
    reader: BodyReader,
) -> Reply {
    use Operation::*;
    let bucket = route.bucket.as_deref().unwrap_or_default();
    let key = route.key.as_deref().unwrap_or_default();
    match route.operation {
        ListBuckets => bucket::list_buckets(ctx).await,
        CreateBucket => bucket::create_bucket(ctx, bucket, reader).await,
        HeadBucket => bucket::head_bucket(ctx, bucket).await,
        DeleteBucket => bucket::delete_bucket(ctx, bucket).await,
        GetBucketLocation => bucket::get_bucket_location(ctx, bucket).await,
        GetBucketVersioning => bucket::get_bucket_versioning(ctx, bucket).await,
        GetBucketAcl => {
            ctx.index().bucket(bucket)?;
            bucket::acl(ctx)
        }
        GetObjectAcl => {
            ctx.index()
                .get_object(bucket.to_owned(), key.to_owned())
                .await?;
            bucket::acl(ctx)
        }
        PutBucketAcl | PutObjectAcl => bucket::put_acl(parts),
        PutBucketPolicy => bucket_policy::put_bucket_policy(ctx, bucket, parts, reader).await,
        GetBucketPolicy => bucket_policy::get_bucket_policy(ctx, bucket).await,
        DeleteBucketPolicy => bucket_policy::delete_bucket_policy(ctx, bucket).await,
        GetBucketPolicyStatus => bucket_policy::get_bucket_policy_status(ctx, bucket).await,
        PutObject => object::put_object(ctx, bucket, key, parts, reader).await,
        GetObject => read::get_object(ctx, bucket, key, parts, false).await,
        HeadObject => read::get_object(ctx, bucket, key, parts, true).await,
        DeleteObject => object::delete_object(ctx, bucket, key).await,
        DeleteObjects => delete::delete_objects(ctx, bucket, parts, reader).await,
        ListObjects => list::list_objects(ctx, bucket, ctx.query).await,
        ListObjectsV2 => list::list_objects_v2(ctx, bucket, ctx.query).await,
        CopyObject => copy::copy_object(ctx, bucket, key, parts).await,
        CreateMultipartUpload => multipart::create_multipart_upload(ctx, bucket, key, parts).await,
        UploadPart => multipart::upload_part(ctx, bucket, key, parts, reader).await,
        UploadPartCopy => {
            let number = multipart::part_number(ctx.query)?;
            let upload_id = multipart::upload_id(ctx.query);
            copy::upload_part_copy(ctx, bucket, key, parts, number, &upload_id).await
        }
        CompleteMultipartUpload => {
            multipart::complete_multipart_upload(ctx, bucket, key, parts, reader).await
        }
        AbortMultipartUpload => multipart::abort_multipart_upload(ctx, bucket, key).await,
        ListParts => multipart::list_parts(ctx, bucket, key).await,
        ListMultipartUploads => multipart::list_multipart_uploads(ctx, bucket).await,
    }
}
