//! The IAM listener: the AWS IAM Query API. Parse (form + query) -> authenticate (SigV4) ->
//! authorize -> execute (one handler per action) -> render the `<{Action}Response>`.
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_Operations.html>

mod access_keys;
mod auth;
mod boundaries;
pub mod error;
mod groups;
mod oidc_providers;
mod params;
mod permissions;
mod policies;
mod roles;
mod router;
mod simulate;
pub mod sts;
mod users;
mod validate;

use std::net::SocketAddr;
use std::time::SystemTime;

use bytes::Bytes;
use http::{header, request, HeaderValue, Request, Response};
use http_body_util::{BodyExt, Limited};

use crate::api::{self, Api, ApiError, Fault};
use crate::auth::session::Subject;
use crate::auth::Caller;
use crate::authz::{context, Authorizer};
use crate::http::{full, request_id, Body, BodyError, RequestBody};
use crate::iam_store::IamStore;
use crate::state::Listener;
use crate::state::State;
use crate::xml::XmlWriter;
use error::{Code, IamError, XMLNS};
use params::Params;
pub use router::Action;

/// Largest request body: policy documents (131072 characters) arrive URL-encoded.
const MAX_BODY: usize = 1 << 20;

/// What a handler returns: the inner XML of `<{Action}Result>`, or `None` for actions whose
/// response carries only the metadata.
pub(crate) type Reply = Result<Option<String>, IamError>;

/// What every handler gets: the state and who is calling.
pub(crate) struct Ctx<'a> {
    pub state: &'a State,
    pub caller: &'a Caller,
}

impl Ctx<'_> {
    pub fn store(&self) -> &IamStore {
        &self.state.iam
    }

    pub fn account(&self) -> &str {
        &self.state.config.backend.iam.account_id
    }
}

/// Serves one IAM request through the request skeleton, on whichever listener it arrived.
pub async fn handle(
    state: State,
    listener: Listener,
    req: Request<RequestBody>,
    peer: SocketAddr,
) -> Response<Body> {
    api::serve::<IamApi>(state, listener, req, peer).await
}

/// The IAM Query API's steps.
pub(crate) struct IamApi;

/// An IAM request once its (small) body is read: the body, for the signature, its
/// parameters, and the action they name.
pub(crate) struct Parsed {
    body: Bytes,
    params: Params,
    action: Option<Action>,
}

impl Api for IamApi {
    const REQUEST_ID_HEADER: &'static str = request_id::IAM_HEADER;
    const LISTENER: Listener = Listener::Iam;
    type Parsed = Parsed;
    type Caller = Caller;
    /// The caller, authorized for the action.
    type Granted<'a> = &'a Caller;
    type Error = IamError;

    fn request_id() -> String {
        request_id::iam()
    }

    async fn parse(
        _state: &State,
        parts: &request::Parts,
        body: RequestBody,
    ) -> Result<Parsed, IamError> {
        let (body, params) = read_params(parts, body).await?;
        let action = params.get("Action").and_then(Action::parse);
        Ok(Parsed {
            body,
            params,
            action,
        })
    }

    fn operation(parsed: &Parsed) -> Option<&'static str> {
        parsed.action.map(Action::name)
    }

    fn audit_caller(caller: &Caller) -> Option<&Caller> {
        Some(caller)
    }

    /// The signature first: a caller learns whether the action exists only once signed.
    fn authenticate(
        state: &State,
        parts: &request::Parts,
        parsed: &mut Parsed,
    ) -> Result<Caller, IamError> {
        let caller = auth::authenticate(state, parts, &parsed.body)?;
        let name = parsed
            .params
            .get("Action")
            .ok_or_else(|| IamError::from(Code::MissingAction))?;
        if parsed.action.is_none() {
            if router::NOT_IMPLEMENTED.contains(&name) {
                return Err(IamError::new(
                    Code::NotImplemented,
                    format!("{name} is not implemented by this server."),
                ));
            }
            return Err(IamError::new(
                Code::InvalidAction,
                format!("Could not find operation {name} for version 2010-05-08"),
            ));
        }
        Ok(caller)
    }

    fn authorize<'a>(
        state: &'a State,
        parts: &request::Parts,
        parsed: &Parsed,
        caller: &'a Caller,
        peer: SocketAddr,
    ) -> Result<&'a Caller, IamError> {
        let action = parsed
            .action
            .ok_or_else(|| IamError::from(Code::MissingAction))?;
        authorize(state, parts, caller, action, &parsed.params, peer)?;
        Ok(caller)
    }

    async fn dispatch<'a>(
        state: &'a State,
        _parts: &request::Parts,
        parsed: &mut Parsed,
        caller: &'a Caller,
        request_id: &str,
    ) -> Result<Response<Body>, IamError> {
        // `authenticate` refused a request without a known action.
        let action = parsed
            .action
            .ok_or_else(|| IamError::from(Code::MissingAction))?;
        let ctx = Ctx { state, caller };
        let result = router::dispatch(action, &ctx, &parsed.params).await?;
        Ok(render(action, result.as_deref(), request_id))
    }
}

/// The body and the parameters of a Query API request (IAM's or STS's): the query string's and,
/// for a form, the body's.
pub(crate) async fn read_params(
    parts: &request::Parts,
    body: RequestBody,
) -> Result<(Bytes, Params), IamError> {
    let body = read_body(body).await?;
    let form = is_form(parts).then_some(&body[..]);
    let params = Params::parse(parts.uri.query(), form);
    Ok((body, params))
}

/// Reads the whole (small) body: larger than `MAX_BODY` is `RequestEntityTooLarge`, a stalled
/// one `RequestTimeout`.
async fn read_body(body: RequestBody) -> Result<Bytes, IamError> {
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(IamError::new(
                Code::RequestEntityTooLarge,
                format!("The request body is larger than {MAX_BODY} bytes."),
            ))
        }
        Err(e) if BodyError::is_timeout(&*e) => Err(IamError::from(Code::RequestTimeout)),
        Err(e) => Err(IamError::new(
            Code::IncompleteSignature,
            "The request body could not be read.",
        )
        .caused_by(e)),
    }
}

impl ApiError for IamError {
    fn code(&self) -> &str {
        IamError::code(self)
    }

    /// By kind, not status class: a 501 NotImplemented is the client's request, not our
    /// failure.
    fn fault(&self) -> Fault {
        match self.code {
            Code::ServiceUnavailable => Fault::Shed,
            Code::InternalFailure => Fault::Server,
            _ => Fault::Client,
        }
    }

    fn render(&self, _parts: &request::Parts, request_id: &str) -> Response<Body> {
        IamError::render(self, request_id)
    }

    /// The rest of the body is unread: it must not be taken for another request.
    fn closes_connection(&self, _parts: &request::Parts) -> bool {
        matches!(
            self.code,
            Code::RequestEntityTooLarge | Code::RequestTimeout
        )
    }
}

/// Decides whether `caller` may perform `action`: `iam:<Action>` on every resource it acts on
/// (`permissions::resources`), under the caller's identity policies and boundary (IAM has no
/// resource policies), with `iam:PermissionsBoundary` where AWS sets it
/// (`permissions::boundary_key`). The root is always allowed.
fn authorize(
    state: &State,
    parts: &request::Parts,
    caller: &Caller,
    action: Action,
    params: &Params,
    peer: SocketAddr,
) -> Result<(), IamError> {
    // As on AWS, credentials from GetSessionToken cannot call IAM.
    if let Some(session) = caller.session() {
        if !matches!(session.claims.subject, Subject::Role { .. }) {
            return Err(IamError::new(
                Code::AccessDenied,
                format!(
                    "User: {} is not authorized to perform: iam:{} because no identity-based policy allows it with credentials from GetSessionToken",
                    caller.arn(),
                    action.name()
                ),
            ));
        }
    }
    let root = matches!(caller, Caller::Root { .. });
    // The root needs no decision; the audit trail still names its target.
    if root && !crate::audit::active() {
        return Ok(());
    }
    let account = state.config.backend.iam.account_id.as_str();
    let view = state.iam.view();
    let resources = permissions::resources(
        action,
        params,
        caller,
        &view,
        state.iam.role_paths(),
        account,
    );
    if root {
        let name = format!("iam:{}", action.name());
        for resource in &resources {
            crate::audit::decided(&name, resource, true, || "root".to_owned());
        }
        return Ok(());
    }
    let origin = context::origin(
        peer,
        &parts.headers,
        &state.trusted_proxies,
        crate::http::over_tls(&parts.extensions),
    );
    let mut context = context::global(Some(caller), account, &origin, SystemTime::now());
    if let Some(arn) = permissions::boundary_key(action, params, &view, state.iam.role_paths()) {
        context.set("iam:PermissionsBoundary", [arn.as_str()]);
    }
    let authorizer = Authorizer::new(Some(caller), account, context);
    let name = format!("iam:{}", action.name());
    // Each resource on its own: a rename needs the source and the destination.
    match resources.iter().all(|r| authorizer.allows(&name, r, None)) {
        true => Ok(()),
        // The message names the caller and the action, never the target: whether it exists
        // is not for this caller to learn.
        false => Err(IamError::new(
            Code::AccessDenied,
            format!(
                "User: {} is not authorized to perform: {name}",
                caller.arn()
            ),
        )),
    }
}

fn is_form(parts: &request::Parts) -> bool {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

fn render(action: Action, result: Option<&str>, request_id: &str) -> Response<Body> {
    let name = action.name();
    let mut xml =
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{name}Response xmlns=\"{XMLNS}\">");
    if let Some(result) = result {
        xml.push_str(&format!("<{name}Result>{result}</{name}Result>"));
    }
    xml.push_str(&format!(
        "<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{name}Response>"
    ));
    let mut response = Response::new(full(xml));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert(request_id::IAM_HEADER, id);
    }
    response
}

/// `2015-08-30T12:36:00Z` for a time in Unix seconds.
pub(crate) fn iso8601(secs: i64) -> String {
    crate::timefmt::format_iso8601(crate::timefmt::from_unix_seconds(secs))
}

/// `<IsTruncated>` and, when truncated, `<Marker>`.
pub(crate) fn write_page_end(w: &mut XmlWriter, next_marker: Option<&str>) {
    match next_marker {
        Some(marker) => w.elem("IsTruncated", "true").elem("Marker", marker),
        None => w.elem("IsTruncated", "false"),
    };
}

/// `docs/iam.md`'s action table: (action, status) for each row of `api` (`IAM` or `STS`), so
/// that tests hold the table to what the routers answer.
#[cfg(test)]
pub(crate) fn documented_actions(api: &str) -> Vec<(String, String)> {
    let doc = include_str!("../../docs/iam.md");
    let section = doc
        .split("\n## Actions\n")
        .nth(1)
        .expect("an Actions section");
    let section = section.split("\n## ").next().unwrap_or_default();
    section
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            match cells.as_slice() {
                [name, row_api, _area, status] if *row_api == api => {
                    Some((name.trim_matches('`').to_owned(), (*status).to_owned()))
                }
                _ => None,
            }
        })
        .collect()
}
