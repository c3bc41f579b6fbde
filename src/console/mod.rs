//! The web console (`docs/console.md`): server-rendered pages on the admin listener, at `/`
//! beside `/health`, `/ready` and `/metrics`. Sign-in proves an access key once and starts a
//! server-side session (`session`); every page and change is then a request to the S3 or IAM
//! API made in-process as the signed-in principal (`call`), so the console can do exactly
//! what that principal's policies allow. Pages are askama templates (`templates/console/`,
//! escaped by default); the one script and stylesheet are files of this crate (`static/`),
//! served from the binary under a strict Content-Security-Policy (`page`).

mod bucket;
mod buckets;
mod call;
mod dashboard;
mod editor;
pub mod history;
mod iam;
mod objects;
pub mod page;
mod session;
mod simulator;
mod svg;
mod tree;
mod xml;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{header, HeaderValue, Method, Request, Response, StatusCode};

use crate::auth::Delegated;
use crate::config::Config;
use crate::crypto::Secret;
use crate::http::{Body, RequestBody};
use crate::state::State;

pub use call::{Client, Refusal, Reply};
pub use session::{Session, Sessions};

impl Sessions {
    /// The console's sessions when the configuration turns it on.
    pub fn configured(config: &Config) -> Option<Sessions> {
        let c = &config.backend.admin.console;
        c.enabled.then(|| {
            Sessions::new(
                Duration::from_secs(c.idle_timeout_seconds),
                Duration::from_secs(c.max_session_seconds),
                c.sign_ins_per_minute,
            )
        })
    }
}

/// What a page handler has: the signed-in session and a client acting for it.
pub struct Ctx {
    pub session: Arc<Session>,
    pub client: Client,
}

impl Ctx {
    /// Says on the next page what a change did: `done` when the API took it, else
    /// `refused: <the API's code and message>`.
    pub fn report(&self, reply: &Reply, done: impl Into<String>, refused: &str) {
        match reply.refusal() {
            None => self.session.set_flash(true, done),
            Some(refusal) => self
                .session
                .set_flash(false, format!("{refused}: {refusal}")),
        }
    }

    /// The layout's fields.
    pub fn layout(&self, section: &'static str) -> Layout {
        Layout {
            principal: Some(self.session.arn.clone()),
            csrf: self.session.csrf.clone(),
            flash: self.session.take_flash(),
            section,
        }
    }
}

/// What `base.html` shows around every page.
pub struct Layout {
    pub principal: Option<String>,
    pub csrf: String,
    pub flash: Option<session::Flash>,
    pub section: &'static str,
}

/// Serves one console request (any admin path but `/health`, `/ready`, `/metrics`).
pub async fn handle(state: State, req: Request<RequestBody>, peer: SocketAddr) -> Response<Body> {
    let response = route(state, req, peer).await;
    page::secure(response)
}

async fn route(state: State, req: Request<RequestBody>, peer: SocketAddr) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    match (&method, path.as_str()) {
        (&Method::GET | &Method::HEAD, "/static/console.css") => asset(
            include_str!("static/console.css"),
            "text/css; charset=utf-8",
        ),
        (&Method::GET | &Method::HEAD, "/static/console.js") => asset(
            include_str!("static/console.js"),
            "text/javascript; charset=utf-8",
        ),
        (&Method::GET | &Method::HEAD, "/static/favicon.svg" | "/favicon.ico") => {
            asset(include_str!("static/favicon.svg"), "image/svg+xml")
        }
        (&Method::GET | &Method::HEAD, "/signin") => sign_in_page(None, "", StatusCode::OK),
        (&Method::POST, "/signin") => sign_in(&state, req, peer).await,
        _ => {
            let Some(ctx) = signed_in(&state, &req, peer) else {
                return match method {
                    Method::GET | Method::HEAD => page::see_other("/signin"),
                    _ => page::plain(
                        StatusCode::FORBIDDEN,
                        "Not signed in (or the session expired): sign in again.",
                    ),
                };
            };
            authed(ctx, method, &path, req).await
        }
    }
}

/// The pages behind sign-in.
async fn authed(ctx: Ctx, method: Method, path: &str, req: Request<RequestBody>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    if method == Method::PUT && matches!(path, "/upload/part" | "/upload/object") {
        // A file's bytes, streamed on to the API: the CSRF token comes in `x-csrf-token`.
        if !page::csrf_ok(&parts, &ctx.session, None) {
            tracing::warn!(principal = %ctx.session.arn, path, "console: an upload without this session's CSRF token refused");
            return page::plain(StatusCode::FORBIDDEN, "CSRF check failed: reload the page.");
        }
        return objects::upload_put(&ctx, path, parts, body).await;
    }
    if method == Method::POST {
        // Every change needs the session's CSRF token and a same-origin request; a form is
        // read once here and handed on.
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let form = match is_form {
            true => match page::Form::read(body).await {
                Some(form) => form,
                None => return page::plain(StatusCode::BAD_REQUEST, "The form could not be read."),
            },
            false => {
                return page::plain(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "Changes are posted as forms.",
                )
            }
        };
        if !page::csrf_ok(&parts, &ctx.session, Some(&form)) {
            tracing::warn!(principal = %ctx.session.arn, path, "console: a change without this session's CSRF token, or from another site, refused");
            return page::plain(
                StatusCode::FORBIDDEN,
                "This change did not come from this console session (CSRF check failed): reload the page and try again.",
            );
        }
        return match path {
            "/signout" => sign_out(&ctx),
            "/buckets" => buckets::create(&ctx, &form).await,
            "/buckets/delete" => buckets::delete(&ctx, &form).await,
            "/bucket/setting" => bucket::setting(&ctx, &form).await,
            "/bucket/document" => bucket::document(&ctx, &form).await,
            "/iam/do" => iam::act(&ctx, &form).await,
            "/iam/document" => iam::document(&ctx, &form).await,
            "/iam/user/keys" => iam::create_key(&ctx, &form).await,
            "/simulator" => simulator::run(&ctx, &form).await,
            "/objects/delete" => objects::delete(&ctx, &form).await,
            "/object/restore" => objects::restore(&ctx, &form).await,
            "/object/delete-version" => objects::delete_version(&ctx, &form).await,
            "/object/tags" => objects::put_tags(&ctx, &form).await,
            "/share" => objects::share(&ctx, &parts, &form).await,
            "/upload/create" => objects::upload_create(&ctx, &form).await,
            "/upload/complete" => objects::upload_complete(&ctx, &form).await,
            "/upload/abort" => objects::upload_abort(&ctx, &form).await,
            _ => page::plain(StatusCode::NOT_FOUND, "No such console page."),
        };
    }
    if method != Method::GET && method != Method::HEAD {
        return page::plain(StatusCode::METHOD_NOT_ALLOWED, "Use GET or POST.");
    }
    match path {
        "/" => page::see_other("/buckets"),
        "/buckets" => buckets::list(&ctx).await,
        "/dashboard" => dashboard::show(&ctx).await,
        "/bucket" => {
            let query = page::query(&parts);
            let bucket = query.get("bucket").map_or("", String::as_str);
            bucket::page(&ctx, bucket).await
        }
        "/iam" | "/iam/" => page::see_other("/iam/users"),
        "/iam/users" => iam::list(&ctx, &parts, "users").await,
        "/iam/groups" => iam::list(&ctx, &parts, "groups").await,
        "/iam/roles" => iam::list(&ctx, &parts, "roles").await,
        "/iam/policies" => iam::list(&ctx, &parts, "policies").await,
        "/iam/user" => iam::user(&ctx, &parts).await,
        "/iam/group" => iam::group(&ctx, &parts).await,
        "/iam/role" => iam::role(&ctx, &parts).await,
        "/iam/policy" => iam::policy(&ctx, &parts).await,
        "/iam/oidc" => iam::oidc(&ctx).await,
        "/simulator" => simulator::show(&ctx).await,
        "/objects" => objects::list(&ctx, &parts).await,
        "/object" => objects::details(&ctx, &parts).await,
        "/download" => objects::download(&ctx, &parts).await,
        _ => page::plain(StatusCode::NOT_FOUND, "No such console page."),
    }
}

fn asset(text: &'static str, content_type: &'static str) -> Response<Body> {
    let mut response = Response::new(crate::http::full(text));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    response
}

/// The session the request's cookie names, if it is live.
fn signed_in(state: &State, req: &Request<RequestBody>, peer: SocketAddr) -> Option<Ctx> {
    let sessions = state.console.as_ref()?;
    let id = cookie_of(req)?;
    let session = sessions.get(id)?;
    // The credentials must still stand: a key deactivated or deleted, a user removed or a
    // session token expired since sign-in ends the console session too.
    if let Err(e) = crate::auth::delegated(state, &session.delegated, "console") {
        tracing::info!(principal = %session.arn, reason = ?e, "console: the session's credentials no longer stand; signed out");
        sessions.end(&session.id);
        return None;
    }
    Some(Ctx {
        client: Client {
            state: state.clone(),
            delegated: session.delegated.clone(),
            peer,
            tls: crate::http::over_tls(req.extensions()),
        },
        session,
    })
}

fn cookie_of(req: &Request<RequestBody>) -> Option<&str> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == session::COOKIE).then_some(value)
        })
}

#[derive(askama::Template)]
#[template(path = "console/signin.html")]
struct SignInPage<'a> {
    principal: Option<String>,
    csrf: String,
    flash: Option<session::Flash>,
    section: &'static str,
    error: Option<&'a str>,
    access_key: &'a str,
}

fn sign_in_page(error: Option<&str>, access_key: &str, status: StatusCode) -> Response<Body> {
    page::render(
        status,
        &SignInPage {
            principal: None,
            csrf: String::new(),
            flash: None,
            section: "",
            error,
            access_key,
        },
    )
}

/// Checks the credentials; on success starts a session and sets its cookie.
async fn sign_in(state: &State, req: Request<RequestBody>, peer: SocketAddr) -> Response<Body> {
    let Some(sessions) = state.console.as_ref() else {
        return page::plain(StatusCode::NOT_FOUND, "The console is off.");
    };
    let tls = crate::http::over_tls(req.extensions());
    let (parts, body) = req.into_parts();
    if !page::same_origin(&parts) {
        return page::plain(
            StatusCode::FORBIDDEN,
            "Sign in from the console's own page.",
        );
    }
    if !sessions.attempt(peer.ip()) {
        tracing::warn!(source = %peer.ip(), "console: sign-in refused, too many attempts from this address");
        return sign_in_page(
            Some("Too many sign-in attempts from your address: wait a minute and try again."),
            "",
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let Some(form) = page::Form::read(body).await else {
        return page::plain(StatusCode::BAD_REQUEST, "The form could not be read.");
    };
    let access_key = form.get("access_key").trim();
    let secret = Secret::new(form.get("secret_key").to_owned());
    let token = Some(form.get("session_token").trim())
        .filter(|t| !t.is_empty())
        .map(|t| Secret::new(t.to_owned()));
    match crate::auth::sign_in(state, access_key, &secret, token.as_ref()) {
        Ok(caller) => {
            let session = sessions.start(
                Delegated {
                    access_key: access_key.to_owned(),
                    token,
                },
                caller.arn().to_owned(),
            );
            tracing::info!(principal = %session.arn, access_key, source = %peer.ip(), "console: signed in");
            let mut response = page::see_other("/buckets");
            response
                .headers_mut()
                .insert(header::SET_COOKIE, page::cookie(Some(&session.id), tls));
            response
        }
        Err(e) => {
            tracing::warn!(access_key, source = %peer.ip(), reason = ?e, "console: sign-in failed");
            let text = match e {
                crate::auth::AuthError::ExpiredToken => "Those temporary credentials have expired.",
                _ => "The access key ID, secret or session token is not right (or the key is inactive).",
            };
            sign_in_page(Some(text), access_key, StatusCode::UNAUTHORIZED)
        }
    }
}

fn sign_out(ctx: &Ctx) -> Response<Body> {
    if let Some(sessions) = ctx.client.state.console.as_ref() {
        sessions.end(&ctx.session.id);
    }
    tracing::info!(principal = %ctx.session.arn, "console: signed out");
    let mut response = page::see_other("/signin");
    response
        .headers_mut()
        .insert(header::SET_COOKIE, page::cookie(None, ctx.client.tls));
    response
}

/// Bytes for people: `1.5 MiB`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut unit = 0;
    let mut whole = bytes;
    let mut tenths = 0;
    while whole >= 1024 && unit < UNITS.len() - 1 {
        tenths = (whole % 1024) * 10 / 1024;
        whole /= 1024;
        unit += 1;
    }
    match unit {
        0 => format!("{bytes} B"),
        _ => format!("{whole}.{tenths} {}", UNITS[unit]),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_as_people_read_them() {
        assert_eq!(super::size(0), "0 B");
        assert_eq!(super::size(1023), "1023 B");
        assert_eq!(super::size(1536), "1.5 KiB");
        assert_eq!(super::size(20 << 20), "20.0 MiB");
    }
}
