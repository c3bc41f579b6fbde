//! How the console does anything: as a client of the server's own S3 and IAM APIs, in
//! process. Each call is an ordinary request through the request skeleton (`api::serve`),
//! authenticated as the signed-in principal (`auth::Delegated` in its extensions, instead of a
//! signature) and authorized by the same evaluator, with the browser's address and transport
//! for the condition keys. So the console can do exactly what the principal's policies allow,
//! through the same validation, errors, metrics and audit as the API; it holds no second copy
//! of any rule.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;

use crate::auth::Delegated;
use crate::http::{Body, OverTls, RequestBody};
use crate::state::{Listener, State};

/// Who the console acts for, and where the browser is.
#[derive(Clone)]
pub struct Client {
    pub state: State,
    pub delegated: Delegated,
    pub peer: SocketAddr,
    pub tls: bool,
}

/// A whole (small) API response: listings, configurations, IAM answers.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// An API's refusal, as its error document says it.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.message.is_empty() {
            true => f.write_str(&self.code),
            false => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

/// The most of a response the console reads into memory (listings are a page at a time).
const REPLY_LIMIT: usize = 16 << 20;

impl Reply {
    /// The API's refusal, if it refused: `<Error><Code>` (S3) or
    /// `<ErrorResponse><Error><Code>` (IAM).
    pub fn refusal(&self) -> Option<Refusal> {
        if self.status.is_success() || self.status.is_redirection() {
            return None;
        }
        Some(Refusal {
            code: super::xml::element(&self.body, "Code")
                .unwrap_or_else(|| self.status.to_string()),
            message: super::xml::element(&self.body, "Message").unwrap_or_default(),
        })
    }

    /// The body, or the refusal.
    pub fn ok(self) -> Result<Reply, Refusal> {
        match self.refusal() {
            Some(refusal) => Err(refusal),
            None => Ok(self),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Client {
    fn request(&self, method: Method, uri: &str, body: RequestBody) -> Request<RequestBody> {
        let mut request = Request::new(body);
        *request.method_mut() = method;
        // A URI the console built from escaped parts; a bad one is the console's bug.
        *request.uri_mut() = uri.parse().unwrap_or_else(|_| http::Uri::from_static("/"));
        request.extensions_mut().insert(self.delegated.clone());
        if self.tls {
            request.extensions_mut().insert(OverTls);
        }
        request
    }

    /// Sends an S3 request and returns its response as the API made it (streamed).
    pub async fn s3_response(&self, request: Request<RequestBody>) -> Response<Body> {
        let (mut parts, body) = request.into_parts();
        parts.extensions.insert(self.delegated.clone());
        if self.tls {
            parts.extensions.insert(OverTls);
        }
        let request = Request::from_parts(parts, body);
        crate::api::serve::<crate::s3::S3Api>(
            self.state.clone(),
            Listener::Admin,
            request,
            self.peer,
        )
        .await
    }

    /// An S3 request with `headers` and a small `body`; the whole reply.
    pub async fn s3(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Reply {
        // S3 asks for Content-MD5 on the configuration puts and DeleteObjects; the console
        // sends it with every body it makes.
        let md5 = (!body.is_empty()
            && !headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case("content-md5")))
        .then(|| {
            use base64::Engine as _;
            use md5::Digest as _;
            base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(&body))
        });
        let mut request = self.request(method, uri, RequestBody::from_bytes(body));
        if let Some(md5) = md5 {
            if let Ok(value) = http::HeaderValue::from_str(&md5) {
                request.headers_mut().insert("content-md5", value);
            }
        }
        for (name, value) in headers {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_str(value),
            ) {
                request.headers_mut().append(name, value);
            }
        }
        let response = self.s3_response(request).await;
        collect(response).await
    }

    /// An S3 GET of `uri`.
    pub async fn s3_get(&self, uri: &str) -> Reply {
        self.s3(Method::GET, uri, &[], Bytes::new()).await
    }

    /// Whether the principal may send `method uri` (authorization only: nothing is run).
    pub async fn s3_allows(&self, method: Method, uri: &str) -> bool {
        let request = self.request(method, uri, RequestBody::from_bytes(Bytes::new()));
        crate::api::authorizes::<crate::s3::S3Api>(&self.state, request, self.peer).await
    }

    /// Whether the principal may call IAM `action` with `params` (nothing is run).
    pub async fn iam_allows(&self, action: &str, params: &[(&str, &str)]) -> bool {
        let request = self.iam_request(action, params);
        crate::api::authorizes::<crate::iam::IamApi>(&self.state, request, self.peer).await
    }

    /// Whether the principal's identity policies allow `action` on `resource` (no request
    /// behind it: for what the console itself shows, such as the dashboard's denials).
    pub fn allows_action(&self, action: &str, resource: &str) -> bool {
        let Ok(caller) = crate::auth::delegated(&self.state, &self.delegated, "console") else {
            return false;
        };
        let account = self.state.config.backend.iam.account_id.as_str();
        let authorizer = crate::authz::Authorizer::new(
            Some(&caller),
            account,
            crate::policy::eval::Context::new(),
        );
        authorizer.allows(action, resource, None)
    }

    /// An IAM (or STS) Query API action with `params`.
    pub async fn iam(&self, action: &str, params: &[(&str, &str)]) -> Reply {
        let request = self.iam_request(action, params);
        let response =
            crate::iam::handle(self.state.clone(), Listener::Admin, request, self.peer).await;
        collect(response).await
    }

    fn iam_request(&self, action: &str, params: &[(&str, &str)]) -> Request<RequestBody> {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("Action", action);
        form.append_pair("Version", "2010-05-08");
        for (name, value) in params {
            form.append_pair(name, value);
        }
        let mut request = self.request(
            Method::POST,
            "/",
            RequestBody::from_bytes(Bytes::from(form.finish())),
        );
        request.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
        );
        request
    }
}

pub(super) async fn collect(response: Response<Body>) -> Reply {
    let (parts, body) = response.into_parts();
    let limited = http_body_util::Limited::new(body, REPLY_LIMIT);
    let body = match limited.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            tracing::warn!(error = %e, "console: an API response could not be read");
            return Reply {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                headers: HeaderMap::new(),
                body: Bytes::from_static(
                    b"<Error><Code>InternalError</Code><Message>The response could not be read.</Message></Error>",
                ),
            };
        }
    };
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}
