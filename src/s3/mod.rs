//! The S3 listener: route (an `Operation` named after the AWS API) -> authenticate (SigV4 in
//! every payload mode, or SigV2) -> authorize -> execute -> respond. Errors are S3's XML
//! `<Error>` (no body on HEAD); every response carries `x-amz-request-id`.

mod access;
mod acl;
pub mod actions;
mod attributes;
mod auth;
mod body;
mod bucket;
mod bucket_access;
mod bucket_policy;
pub mod checksum;
mod copy;
mod cors;
mod delete;
pub mod error;
mod fields;
mod lifecycle;
mod list;
mod multipart;
mod object;
mod object_lock;
pub mod operations;
mod post;
mod query;
mod read;
mod rfc2047;
pub mod router;
mod sse;
mod tagging;
mod unconfigured;
mod version;
mod versioning;
mod website;
mod xml;

// For benches/listing.rs, which measures a page's rendering.
#[doc(hidden)]
pub use list::list_objects_v2_body;

use http::{request, Request, Response};

use std::net::SocketAddr;
use std::sync::Arc;

use crate::api::{self, Api, ApiError, Fault};
use crate::auth::Caller;
use crate::http::{request_id, Body, RequestBody};
use crate::objects::{BucketState, ObjectIndex, Tags};
use crate::state::Listener;
use crate::state::State;
use crate::storage::BlobStore;
use access::Access;
use auth::{Payload, Signed};
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

    /// The largest object (or part) stored inline in the object index.
    pub fn inline_max(&self) -> u64 {
        u64::from(self.state.config.backend.s3.inline_max)
    }

    pub fn account(&self) -> &str {
        &self.state.config.backend.iam.account_id
    }
}

/// One request, as a handler gets it: what it addresses (the router guarantees a bucket for
/// bucket operations and a non-empty key for object operations; the others read as ""), its
/// head and parsed query, and its verified body.
pub(crate) struct Req<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub parts: &'a request::Parts,
    pub query: &'a Query,
    pub body: BodyReader,
    /// The bucket's state, resolved once (a memory read) when the request is dispatched.
    pub found: Found,
    /// PutObjectTagging's tag set, read from its body and checked by authorization (its tags
    /// are condition keys); `None` for every other operation.
    pub tags: Option<Tags>,
    /// PutObjectRetention's and PutObjectLegalHold's body, read and verified by authorization
    /// (its Object Lock values are condition keys); `None` for every other operation.
    pub lock_body: Option<bytes::Bytes>,
    /// The version the request names (`versionId`), for the operations that take one;
    /// `Current` for the others.
    pub version: &'a Version,
}

/// The addressed bucket as the request found it, if it exists.
pub(crate) struct Found(Option<Arc<BucketState>>);

impl Found {
    /// The bucket; `NoSuchBucket` when it does not exist. Handlers ask where S3 checks, so
    /// that errors keep S3's order.
    pub fn existing(&self) -> S3Result<&Arc<BucketState>> {
        self.0.as_ref().ok_or_else(|| Code::NoSuchBucket.into())
    }
}

/// Completes a response builder, turning an invalid header value into an internal error.
pub(crate) fn finish(builder: http::response::Builder, body: Body) -> Reply {
    builder
        .body(body)
        .map_err(|e| S3Error::internal("building a response", e))
}

/// Serves one S3 request through the request skeleton.
pub async fn handle(state: State, req: Request<RequestBody>, peer: SocketAddr) -> Response<Body> {
    // A Host under the website base domain is the website endpoint, never a REST request.
    if website::website_bucket(&state.config.backend.s3, req.headers()).is_some() {
        return api::serve::<website::WebsiteApi>(state, Listener::S3, req, peer).await;
    }
    api::serve::<S3Api>(state, Listener::S3, req, peer).await
}

/// The S3 REST API's steps.
pub(crate) struct S3Api;

/// An S3 request once routed; authentication adds how its body is to be verified.
pub(crate) struct Parsed {
    route: Route,
    /// The version the request names; an error here is raised after authentication.
    version: S3Result<Version>,
    body: Option<RequestBody>,
    payload: Option<Payload>,
    signed: Option<Signed>,
}

impl Api for S3Api {
    const REQUEST_ID_HEADER: &'static str = request_id::S3_HEADER;
    const LISTENER: Listener = Listener::S3;
    type Parsed = Parsed;
    type Caller = Option<Caller>;
    type Granted<'a> = Access<'a>;
    type Error = S3Error;

    fn request_id() -> String {
        request_id::s3()
    }

    async fn parse(state: &State, parts: &request::Parts, body: RequestBody) -> S3Result<Parsed> {
        let route = router::route(
            &parts.method,
            parts.uri.path(),
            parts.uri.query(),
            &parts.headers,
            state.config.backend.s3.base_domain.as_deref(),
        )?;
        Ok(Parsed {
            version: requested_version(&route),
            route,
            body: Some(body),
            payload: None,
            signed: None,
        })
    }

    fn operation(parsed: &Parsed) -> Option<&'static str> {
        Some(parsed.route.operation.name())
    }

    fn audit_target(parsed: &Parsed) -> (Option<&str>, Option<&str>) {
        (parsed.route.bucket.as_deref(), parsed.route.key.as_deref())
    }

    fn audit_caller(caller: &Option<Caller>) -> Option<&Caller> {
        caller.as_ref()
    }

    fn authenticate(
        state: &State,
        parts: &request::Parts,
        parsed: &mut Parsed,
    ) -> S3Result<Option<Caller>> {
        let route = &parsed.route;
        // A browser sends a preflight without credentials; it is answered from the bucket's
        // CORS rules alone, so nothing it carries is verified (a presigned URL's query
        // included).
        if route.operation.is_preflight() {
            parsed.payload = Some(Payload::Unsigned);
            return Ok(None);
        }
        let bucket_from_host = route
            .virtual_host
            .then_some(route.bucket.as_deref())
            .flatten();
        let authenticated = auth::authenticate(state, parts, bucket_from_host)?;
        parsed.payload = Some(authenticated.payload);
        parsed.signed = authenticated.signed;
        Ok(authenticated.caller)
    }

    fn authorize<'a>(
        state: &'a State,
        parts: &request::Parts,
        parsed: &Parsed,
        caller: &'a Option<Caller>,
        peer: SocketAddr,
    ) -> S3Result<Access<'a>> {
        let version = parsed.version.as_ref().map_err(Clone::clone)?;
        access::authorize(
            state,
            &parsed.route,
            version,
            parts,
            caller.as_ref(),
            parsed.signed,
            peer,
        )
    }

    /// The CORS headers of an actual request that carries `Origin`, on a bucket with CORS
    /// rules, whatever its answer (a browser must be able to read a 403 or a 404). A request
    /// without `Origin` costs one header lookup.
    fn decorate(
        state: &State,
        parts: &request::Parts,
        parsed: Option<&Parsed>,
        response: &mut Response<Body>,
    ) {
        let Some(origin) = parts.headers.get(http::header::ORIGIN) else {
            return;
        };
        let Some(route) = parsed.map(|p| &p.route) else {
            return;
        };
        if route.operation.is_preflight() {
            return;
        }
        let Some(bucket) = route
            .bucket
            .as_deref()
            .and_then(|b| state.objects.bucket_state(b))
        else {
            return;
        };
        if let Some(config) = bucket.configs.cors.as_deref() {
            cors::decorate(config, origin, parts, response.headers_mut());
        }
    }

    async fn dispatch<'a>(
        state: &'a State,
        parts: &request::Parts,
        parsed: &mut Parsed,
        mut access: Access<'a>,
        _request_id: &str,
    ) -> Reply {
        let route = &parsed.route;
        let version = parsed.version.as_ref().map_err(Clone::clone)?;
        let (Some(body), Some(payload)) = (parsed.body.take(), parsed.payload.take()) else {
            return Err(S3Error::internal(
                "dispatching",
                "the request was not authenticated",
            ));
        };
        // Below the free-space floor, a write is refused before any byte of it is read.
        if route.operation.writes_data() {
            state.blobs.space().admit().map_err(error::storage_low)?;
        }
        let mut reader = BodyReader::new(body, payload, &parts.headers, MAX_PUT);
        // A decision that needed I/O (tag condition keys) is made here, before any handler.
        let completed = access.complete(&mut reader, &parts.headers).await?;
        let ctx = Ctx {
            state,
            access: &access,
            query: &route.query,
        };
        let result = dispatch(&ctx, route, parts, reader, version, completed).await;
        settle(result, route, &access)
    }
}

/// A handler's answer as the client may see it: a missing key hidden from a caller who may
/// not list the bucket, a permission left to an object's ACL never decided refused.
fn settle(result: Reply, route: &Route, access: &Access<'_>) -> Reply {
    match result {
        Err(e) if e.code == Code::NoSuchKey && hides_missing_keys(route, access) => {
            // S3 answers 403, not 404, to a caller who may not list the bucket: whether a
            // key exists is itself something only a lister may learn.
            Err(access::denied())
        }
        // A lister may learn what is absent, whatever else it may do.
        Err(e) if e.code == Code::NoSuchKey => Err(e),
        // A permission left to an object's ACL that the handler never decided: refused
        // rather than answered (a handler that forgot to read the object through
        // `read::lookup`).
        Ok(_) if access.undecided() => Err(S3Error::internal(
            "authorizing by object ACL",
            "a permission left to the object's ACL was never decided",
        )),
        // A request refused before its object was read (a version that does not exist,
        // a malformed header) by a caller no ACL has allowed yet: it learns nothing more
        // than a caller without any permission.
        Err(_) if access.undecided() => Err(access::denied()),
        other => other,
    }
}

impl ApiError for S3Error {
    fn code(&self) -> &str {
        self.code.as_str()
    }

    /// Only the server's own failures are errors; a client's mistake (NotImplemented
    /// included, though it is a 501) is an ordinary refusal.
    fn fault(&self) -> Fault {
        match self.code {
            Code::InternalError => Fault::Server,
            Code::SlowDown => Fault::Shed,
            _ => Fault::Client,
        }
    }

    fn render(&self, parts: &request::Parts, request_id: &str) -> Response<Body> {
        S3Error::render(self, &parts.method, parts.uri.path(), request_id)
    }

    /// A refusal may leave a body unread (a request refused before its upload).
    fn closes_connection(&self, parts: &request::Parts) -> bool {
        carries_body(parts)
    }
}

/// Whether a missing key must read as AccessDenied: for reads by a caller without
/// `s3:ListBucket` on the bucket.
fn hides_missing_keys(route: &Route, access: &Access<'_>) -> bool {
    let reads = matches!(
        route.operation,
        Operation::GetObject | Operation::HeadObject | Operation::GetObjectAttributes
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

/// The version a request names, for the operations that take `versionId`; other operations
/// ignore the parameter, as S3 does.
fn requested_version(route: &Route) -> S3Result<Version> {
    match route.operation.takes_version() {
        true => version::of(&route.query),
        false => Ok(Version::Current),
    }
}

/// Runs the operation; the handlers of operations that take `versionId` act on `version`.
async fn dispatch(
    ctx: &Ctx<'_>,
    route: &Route,
    parts: &request::Parts,
    reader: BodyReader,
    version: &Version,
    completed: access::Completed,
) -> Reply {
    let req = Req {
        bucket: route.bucket.as_deref().unwrap_or_default(),
        key: route.key.as_deref().unwrap_or_default(),
        parts,
        query: &route.query,
        body: reader,
        found: Found(
            route
                .bucket
                .as_deref()
                .and_then(|b| ctx.index().bucket_state(b)),
        ),
        tags: completed.tags,
        lock_body: completed.lock_body,
        version,
    };
    operations::call(route.operation, ctx, req).await
}
