//! The website endpoint: a request on the S3 port whose Host is
//! `<bucket>.<backend.s3.website.base_domain>` (any port) is served as S3's website endpoint
//! serves it, never as a REST operation. GET and HEAD only (anything else: 405); anonymous
//! (an `Authorization` header or a query string is ignored: the endpoint has no
//! sub-resources and serves only what anyone may read); each object it reads (the page, the
//! index document, the error document) is authorized as an anonymous `s3:GetObject` through
//! the REST path's own evaluator, bucket policy, ACLs and Block Public Access included, and
//! read by the GetObject/HeadObject handlers themselves. Errors are HTML pages.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/WebsiteEndpoints.html>
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/IndexDocumentSupport.html>
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/CustomErrorDocSupport.html>
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/how-to-page-redirect.html>

use std::fmt::Write as _;
use std::net::SocketAddr;

use http::{header, request, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::super::access;
use super::super::body::BodyReader;
use super::super::cors;
use super::super::error::{Code, S3Error, S3Result};
use super::super::query::Query;
use super::super::router::{host_bucket, Operation, Route};
use super::super::version::Version;
use super::super::{carries_body, dispatch, Ctx, Reply};
use crate::api::{Api, ApiError, Fault};
use crate::config::S3 as S3Config;
use crate::http::{empty, full, request_id, Body, RequestBody};
use crate::objects::{RoutingRule, WebsiteConfig};
use crate::state::State;
use crate::xml::escape;

/// The bucket a website request addresses: the Host names a bucket under the website base
/// domain, and not under a longer REST base domain (`backend.s3.base_domain`, which the
/// configuration keeps different): the longer, more specific domain decides.
pub(crate) fn website_bucket(config: &S3Config, headers: &HeaderMap) -> Option<String> {
    let website = config.website.base_domain.as_deref()?;
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let bucket = host_bucket(host, Some(website))?;
    let longer_rest = config.base_domain.as_deref().is_some_and(|rest| {
        rest.trim_matches('.').len() > website.trim_matches('.').len()
            && host_bucket(host, Some(rest)).is_some()
    });
    (!longer_rest).then_some(bucket)
}

/// The website endpoint's steps for the request skeleton.
pub(crate) struct WebsiteApi;

/// A website request: its bucket and the key its path names ("" for the root).
pub(crate) struct Parsed {
    bucket: String,
    key: String,
}

/// A website error: rendered as S3's HTML error page, with the failure of the error
/// document when one was configured and could not be served.
#[derive(Debug)]
pub(crate) struct WebsiteError {
    error: S3Error,
    error_document: Option<Box<S3Error>>,
}

impl From<S3Error> for WebsiteError {
    fn from(error: S3Error) -> WebsiteError {
        WebsiteError {
            error,
            error_document: None,
        }
    }
}

impl From<crate::db::DbError> for WebsiteError {
    fn from(e: crate::db::DbError) -> WebsiteError {
        WebsiteError::from(S3Error::from(e))
    }
}

impl std::fmt::Display for WebsiteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for WebsiteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.error)
    }
}

impl ApiError for WebsiteError {
    fn code(&self) -> &str {
        self.error.code()
    }

    fn fault(&self) -> Fault {
        ApiError::fault(&self.error)
    }

    fn render(&self, parts: &request::Parts, request_id: &str) -> Response<Body> {
        let status = self.error.status();
        let head = parts.method == Method::HEAD;
        let body = match head {
            true => empty(),
            false => full(error_page(
                status,
                &self.error,
                self.error_document.as_deref(),
                request_id,
            )),
        };
        let mut response = Response::new(body);
        *response.status_mut() = status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        response
    }

    fn closes_connection(&self, parts: &request::Parts) -> bool {
        carries_body(parts)
    }
}

/// S3's website error page: the status as title and heading, then the code, the message,
/// the error's details (Key, BucketName…) and the request id as a list.
fn error_page(
    status: StatusCode,
    error: &S3Error,
    error_document: Option<&S3Error>,
    request_id: &str,
) -> String {
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or_default()
    );
    let mut page =
        format!("<html>\n<head><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n");
    list(&mut page, error, request_id);
    if let Some(e) = error_document {
        page.push_str(
            "<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>\n",
        );
        list(&mut page, e, request_id);
    }
    page.push_str("<hr/>\n</body>\n</html>\n");
    page
}

fn list(page: &mut String, error: &S3Error, request_id: &str) {
    let _ = write!(
        page,
        "<ul>\n<li>Code: {}</li>\n<li>Message: {}</li>\n",
        error.code(),
        escape(&error.message)
    );
    for (name, value) in &error.details {
        let _ = writeln!(page, "<li>{name}: {}</li>", escape(value));
    }
    let _ = write!(page, "<li>RequestId: {request_id}</li>\n</ul>\n");
}

impl Api for WebsiteApi {
    const REQUEST_ID_HEADER: &'static str = request_id::S3_HEADER;
    const LISTENER: crate::state::Listener = crate::state::Listener::S3;
    type Parsed = Parsed;
    type Caller = ();
    /// The client's address: the grants themselves are made per object read (`read`),
    /// which needs it for `aws:SourceIp`.
    type Granted<'a> = SocketAddr;
    type Error = WebsiteError;

    fn request_id() -> String {
        request_id::s3()
    }

    async fn parse(
        state: &State,
        parts: &request::Parts,
        _body: RequestBody,
    ) -> Result<Parsed, WebsiteError> {
        let bucket = website_bucket(&state.config.backend.s3, &parts.headers)
            .ok_or_else(|| S3Error::internal("website", "not a website request"))?;
        let path = parts.uri.path();
        let key = percent_decode_str(path.strip_prefix('/').unwrap_or(path))
            .decode_utf8()
            .map_err(|_| {
                S3Error::new(
                    Code::InvalidArgument,
                    "The request path is not valid UTF-8.",
                )
            })?
            .into_owned();
        Ok(Parsed { bucket, key })
    }

    fn operation(_parsed: &Parsed) -> Option<&'static str> {
        Some("Website")
    }

    fn audit_target(parsed: &Parsed) -> (Option<&str>, Option<&str>) {
        (Some(&parsed.bucket), Some(&parsed.key))
    }

    /// Nothing: the website endpoint serves anonymous requests only.
    fn authenticate(
        _state: &State,
        _parts: &request::Parts,
        _parsed: &mut Parsed,
    ) -> Result<(), WebsiteError> {
        Ok(())
    }

    /// Each object read is authorized where it is read (`read`): which objects a request
    /// reads (the page, an index document, the error document) depends on what exists.
    fn authorize<'a>(
        _state: &'a State,
        _parts: &request::Parts,
        _parsed: &Parsed,
        _caller: &'a (),
        peer: SocketAddr,
    ) -> Result<SocketAddr, WebsiteError> {
        Ok(peer)
    }

    /// The bucket's CORS headers on every answer to a request with a matching `Origin`
    /// (pages, redirects, error pages), as on the REST API: a page on another origin may read
    /// the site with `fetch`. Preflights are not answered here (`OPTIONS` is 405).
    fn decorate(
        state: &State,
        parts: &request::Parts,
        parsed: Option<&Parsed>,
        response: &mut Response<Body>,
    ) {
        let Some(origin) = parts.headers.get(header::ORIGIN) else {
            return;
        };
        let Some(bucket) = parsed.and_then(|p| state.objects.bucket_state(&p.bucket)) else {
            return;
        };
        if let Some(config) = bucket.configs.cors.as_deref() {
            cors::decorate(config, origin, parts, response.headers_mut());
        }
    }

    async fn dispatch(
        state: &State,
        parts: &request::Parts,
        parsed: &mut Parsed,
        peer: SocketAddr,
        _request_id: &str,
    ) -> Result<Response<Body>, WebsiteError> {
        serve(state, parts, peer, parsed).await
    }
}

/// What goes in a URL path unescaped: RFC 3986's unreserved characters and `/`.
const PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn redirect(status: StatusCode, location: &str) -> Result<Response<Body>, WebsiteError> {
    let value = HeaderValue::from_str(location)
        .map_err(|e| S3Error::internal("building a website redirect", e))?;
    let mut response = Response::new(empty());
    *response.status_mut() = status;
    response.headers_mut().insert(header::LOCATION, value);
    Ok(response)
}

/// The `Location` a routing rule sends `key` to.
fn rule_location(rule: &RoutingRule, key: &str, parts: &request::Parts) -> String {
    let r = &rule.redirect;
    let new_key = match (&r.replace_key, &r.replace_key_prefix) {
        (Some(whole), _) => whole.clone(),
        (None, Some(prefix)) => {
            let matched = rule.key_prefix.as_deref().unwrap_or_default();
            format!("{prefix}{}", key.strip_prefix(matched).unwrap_or(key))
        }
        (None, None) => key.to_owned(),
    };
    let protocol = r.protocol.as_deref().unwrap_or(request_protocol(parts));
    let host = r.host.clone().unwrap_or_else(|| {
        parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    });
    format!(
        "{protocol}://{host}/{}",
        utf8_percent_encode(&new_key, PATH)
    )
}

/// A redirect without a `Protocol` keeps the request's, as S3 does: `https` when it came over
/// TLS to the listener.
fn request_protocol(parts: &request::Parts) -> &'static str {
    if crate::http::over_tls(&parts.extensions) {
        "https"
    } else {
        "http"
    }
}

fn rule_status(rule: &RoutingRule) -> StatusCode {
    rule.redirect
        .code
        .and_then(|c| StatusCode::from_u16(c).ok())
        .unwrap_or(StatusCode::MOVED_PERMANENTLY)
}

/// Whether a rule's key prefix (if any) matches.
fn prefix_matches(rule: &RoutingRule, key: &str) -> bool {
    rule.key_prefix
        .as_deref()
        .is_none_or(|p| key.starts_with(p))
}

async fn serve(
    state: &State,
    parts: &request::Parts,
    peer: SocketAddr,
    parsed: &Parsed,
) -> Result<Response<Body>, WebsiteError> {
    let head = match parts.method {
        Method::GET => false,
        Method::HEAD => true,
        _ => {
            return Err(S3Error::from(Code::MethodNotAllowed)
                .with("Method", parts.method.as_str())
                .with("ResourceType", "OBJECT")
                .into())
        }
    };
    let (name, key) = (parsed.bucket.as_str(), parsed.key.as_str());
    let bucket = state
        .objects
        .bucket_state(name)
        .ok_or_else(|| S3Error::from(Code::NoSuchBucket).with("BucketName", name))?;
    let website = bucket.configs.website.as_ref();
    let Some(config) = website.and_then(|w| w.config.as_ref()) else {
        return Err(S3Error::from(Code::NoSuchWebsiteConfiguration)
            .with("BucketName", name)
            .into());
    };
    if let Some(all) = &config.redirect_all {
        let protocol = all.protocol.as_deref().unwrap_or(request_protocol(parts));
        return redirect(
            StatusCode::MOVED_PERMANENTLY,
            &format!("{protocol}://{}{}", all.host, parts.uri.path()),
        );
    }
    // Rules without an error code apply before anything is read.
    if let Some(rule) = config
        .rules
        .iter()
        .find(|r| r.error_code.is_none() && prefix_matches(r, key))
    {
        return redirect(rule_status(rule), &rule_location(rule, key, parts));
    }
    let error = match page(state, parts, peer, config, name, key, head).await? {
        Ok(response) => return Ok(response),
        Err(error) => error,
    };
    let status = error.status().as_u16();
    if let Some(rule) = config
        .rules
        .iter()
        .find(|r| r.error_code == Some(status) && prefix_matches(r, key))
    {
        return redirect(rule_status(rule), &rule_location(rule, key, parts));
    }
    let Some(error_key) = config
        .error_key
        .as_deref()
        .filter(|_| matches!(status, 403 | 404))
    else {
        return Err(error.into());
    };
    // The error document is read whole, whatever the request's range or conditions.
    let plain = inner_parts(parts, false);
    match read(state, &plain, peer, name, error_key, head)
        .await
        .result
    {
        Ok(mut response) => {
            *response.status_mut() = error.status();
            Ok(response)
        }
        Err(e) => Err(WebsiteError {
            error,
            error_document: Some(Box::new(e)),
        }),
    }
}

/// The page a key names: the object, the index document of a "directory", a redirect to
/// the directory of a key without its slash, or the object's own redirect. `Err` inside:
/// the error to answer (after routing rules and the error document).
async fn page(
    state: &State,
    parts: &request::Parts,
    peer: SocketAddr,
    config: &WebsiteConfig,
    bucket: &str,
    key: &str,
    head: bool,
) -> Result<S3Result<Response<Body>>, WebsiteError> {
    let suffix = config.index_suffix.as_deref().unwrap_or_default();
    let object = match key.is_empty() || key.ends_with('/') {
        true => format!("{key}{suffix}"),
        false => key.to_owned(),
    };
    let forwarded = inner_parts(parts, true);
    let first = read(state, &forwarded, peer, bucket, &object, head).await;
    match first.result {
        Ok(response) => match response.headers().get("x-amz-website-redirect-location") {
            Some(location) => {
                let location = location.to_str().unwrap_or("/").to_owned();
                Ok(Ok(redirect(StatusCode::MOVED_PERMANENTLY, &location)?))
            }
            None => Ok(Ok(response)),
        },
        // `key` without its slash names a directory whose index document exists: 302 to it.
        Err(e) if first.missing && object == key && !suffix.is_empty() => {
            let plain = inner_parts(parts, false);
            let index = format!("{key}/{suffix}");
            match read(state, &plain, peer, bucket, &index, true).await.result {
                Ok(_) => Ok(Ok(redirect(
                    StatusCode::FOUND,
                    &format!("/{}/", utf8_percent_encode(key, PATH)),
                )?)),
                Err(_) => Ok(Err(e)),
            }
        }
        Err(e) => Ok(Err(e)),
    }
}

/// One object read on behalf of a website request.
struct Read {
    result: Reply,
    /// The object does not exist (whatever `result` says: a caller who may not list the
    /// bucket is told AccessDenied).
    missing: bool,
}

/// Reads `key` as an anonymous GetObject (or HeadObject) through the REST path: the same
/// authorization, the same handler, the same rules about what a missing key reveals.
async fn read(
    state: &State,
    parts: &request::Parts,
    peer: SocketAddr,
    bucket: &str,
    key: &str,
    head: bool,
) -> Read {
    let route = Route {
        operation: match head {
            true => Operation::HeadObject,
            false => Operation::GetObject,
        },
        bucket: Some(bucket.to_owned()),
        key: Some(key.to_owned()),
        virtual_host: false,
        query: Query::parse(None),
    };
    let failed = |e: S3Error| Read {
        result: Err(e),
        missing: false,
    };
    if key.is_empty() || key.len() > super::super::object::MAX_KEY_BYTES {
        return failed(S3Error::from(Code::NoSuchKey).with("Key", key));
    }
    let version = Version::Current;
    let mut access = match access::authorize(state, &route, &version, parts, None, None, peer) {
        Ok(access) => access,
        Err(e) => return failed(e),
    };
    let mut reader = BodyReader::empty();
    let completed = match access.complete(&mut reader, &parts.headers).await {
        Ok(completed) => completed,
        Err(e) => return failed(e),
    };
    let ctx = Ctx {
        state,
        access: &access,
        query: &route.query,
    };
    let result = dispatch(&ctx, &route, parts, reader, &version, completed).await;
    let missing = matches!(&result, Err(e) if e.code == Code::NoSuchKey);
    let result = super::super::settle(result, &route, &access).map_err(|e| match e.code {
        Code::NoSuchKey => e.with("Key", key),
        _ => e,
    });
    Read { result, missing }
}

/// The head of an object read made for a website request: the client's headers but its
/// credentials and `x-amz-*` headers (the endpoint is anonymous and takes no S3 options),
/// and without its range and conditions when `conditions` is false (an error document or
/// an index probe is read whole).
fn inner_parts(parts: &request::Parts, conditions: bool) -> request::Parts {
    let (mut inner, ()) = Request::new(()).into_parts();
    inner.method = match parts.method == Method::HEAD {
        true => Method::HEAD,
        false => Method::GET,
    };
    inner.uri = parts.uri.clone();
    inner.version = parts.version;
    let dropped = |name: &str| {
        name == "authorization"
            || name.starts_with("x-amz-")
            || (!conditions
                && matches!(
                    name,
                    "range"
                        | "if-match"
                        | "if-none-match"
                        | "if-modified-since"
                        | "if-unmodified-since"
                ))
    };
    for (name, value) in &parts.headers {
        if !dropped(name.as_str()) {
            inner.headers.append(name.clone(), value.clone());
        }
    }
    inner
}
