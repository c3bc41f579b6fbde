//! What every console response carries, and the pieces of a page request: the session from
//! the cookie, the form of a POST, its CSRF check.

use std::collections::HashMap;

use bytes::Bytes;
use http::{header, request, HeaderValue, Response, StatusCode};
use http_body_util::BodyExt;

use super::session::{Session, COOKIE};
use crate::http::{full, Body, RequestBody};

/// No script but the console's own file, no inline script or style, no frames, forms only to
/// the console: a key that sneaks markup past the escaping still runs nothing.
pub const CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The headers every console response carries.
pub fn secure(mut response: Response<Body>) -> Response<Body> {
    let headers = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", CSP),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        // Share links are presigned URLs: never let one leak in a Referer to another site.
        // (Not `no-referrer`: under it a browser sends `Origin: null` with a form POST, and
        // the same-origin check needs the real origin.)
        ("referrer-policy", "same-origin"),
        ("cross-origin-opener-policy", "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// An HTML page.
pub fn html(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// A template rendered into a page; a template error (a bug) is a 500 with a log line.
pub fn render(status: StatusCode, template: &impl askama::Template) -> Response<Body> {
    match template.render() {
        Ok(body) => html(status, body),
        Err(e) => {
            tracing::error!(error = %e, "console: a page could not be rendered");
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be rendered.",
            )
        }
    }
}

pub fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(full(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// 303 See Other to `location` (after a POST, so that a reload does not post again).
pub fn see_other(location: &str) -> Response<Body> {
    let mut response = Response::new(full(Bytes::new()));
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// The `Set-Cookie` that gives the browser session `id` (`Secure` over TLS), or clears it.
pub fn cookie(id: Option<&str>, tls: bool) -> HeaderValue {
    let secure = if tls { "; Secure" } else { "" };
    let text = match id {
        Some(id) => format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict{secure}"),
        None => format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    };
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The most of a form the console reads (a bucket policy is at most 20 KiB; IAM documents
/// less).
const FORM_LIMIT: usize = 1 << 20;

/// A POSTed `application/x-www-form-urlencoded` form.
#[derive(Debug, Default)]
pub struct Form(pub HashMap<String, Vec<String>>);

impl Form {
    pub async fn read(body: RequestBody) -> Option<Form> {
        let bytes = http_body_util::Limited::new(body, FORM_LIMIT)
            .collect()
            .await
            .ok()?
            .to_bytes();
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in form_urlencoded::parse(&bytes) {
            map.entry(name.into_owned())
                .or_default()
                .push(value.into_owned());
        }
        Some(Form(map))
    }

    /// The field's (first) value; empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .get(name)
            .and_then(|v| v.first())
            .map_or("", String::as_str)
    }

    /// Every value of a repeated field (checkboxes).
    pub fn all(&self, name: &str) -> &[String] {
        self.0.get(name).map_or(&[], Vec::as_slice)
    }
}

/// Whether a change request may proceed: it comes from the console's own pages (a
/// cross-site `Origin` or `Sec-Fetch-Site` refuses it) and carries the session's CSRF token
/// (`_csrf` field or `x-csrf-token` header).
pub fn same_origin(parts: &request::Parts) -> bool {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        if site != "same-origin" && site != "none" {
            return false;
        }
    }
    match (header("origin"), header("host")) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host)),
        (Some(_), None) => false,
    }
}

pub fn csrf_ok(parts: &request::Parts, session: &Session, form: Option<&Form>) -> bool {
    let presented = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .or_else(|| form.map(|f| f.get("_csrf")))
        .unwrap_or("");
    same_origin(parts) && session.csrf_matches(presented)
}

/// A query string's parameters.
pub fn query(parts: &request::Parts) -> HashMap<String, String> {
    form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A value for a URL's query string.
pub fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
