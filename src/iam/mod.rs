//! The IAM listener: the AWS IAM Query API. Parse (form + query) -> authenticate (SigV4) ->
//! authorize -> execute (one handler per action) -> render the `<{Action}Response>`.
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_Operations.html>

mod access_keys;
mod auth;
pub mod error;
mod groups;
mod params;
mod permissions;
mod policies;
mod router;
mod simulate;
mod users;
mod validate;

use std::net::SocketAddr;
use std::time::SystemTime;

use bytes::Bytes;
use http::{header, request, HeaderValue, Request, Response};
use http_body_util::{BodyExt, Limited};

use crate::auth::Caller;
use crate::authz::{context, Authorizer};
use crate::http::{full, request_id, Body, BodyError};
use crate::iam_store::IamStore;
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

pub async fn handle<B>(state: State, req: Request<B>, peer: SocketAddr) -> Response<Body>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let id = request_id::iam();
    let (parts, body) = req.into_parts();
    match process(&state, &parts, body, peer).await {
        Ok((action, result)) => {
            tracing::debug!(request_id = %id, action = action.name(), "iam request");
            render(action, result.as_deref(), &id)
        }
        Err(e) => {
            // Logged here, once, with the cause underneath if there is one. By kind, not
            // status class: a 501 NotImplemented is the client's request, not our failure.
            let cause = e.cause();
            if e.is_internal() {
                tracing::error!(request_id = %id, code = e.code(), cause, "iam request failed");
            } else {
                tracing::info!(request_id = %id, code = e.code(), message = %e, cause, "iam request refused");
            }
            let mut response = e.render(&id);
            if matches!(e.code, Code::RequestEntityTooLarge | Code::RequestTimeout) {
                // The rest of the body is unread: it must not be taken for another request.
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            response
        }
    }
}

async fn process<B>(
    state: &State,
    parts: &request::Parts,
    body: B,
    peer: SocketAddr,
) -> Result<(Action, Option<String>), IamError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return Err(IamError::new(
                Code::RequestEntityTooLarge,
                format!("The request body is larger than {MAX_BODY} bytes."),
            ))
        }
        Err(e) if BodyError::is_timeout(&*e) => return Err(IamError::from(Code::RequestTimeout)),
        Err(e) => {
            return Err(IamError::new(
                Code::IncompleteSignature,
                "The request body could not be read.",
            )
            .caused_by(e))
        }
    };
    let caller = auth::authenticate(state, parts, &body)?;
    let form = is_form(parts).then_some(&body[..]);
    let params = Params::parse(parts.uri.query(), form);
    let name = params
        .get("Action")
        .ok_or(IamError::from(Code::MissingAction))?;
    let action = Action::parse(name).ok_or_else(|| {
        IamError::new(
            Code::InvalidAction,
            format!("Could not find operation {name} for version 2010-05-08"),
        )
    })?;
    authorize(state, parts, &caller, action, &params, peer)?;
    let ctx = Ctx {
        state,
        caller: &caller,
    };
    let result = router::dispatch(action, &ctx, &params).await?;
    Ok((action, result))
}

/// Decides whether `caller` may perform `action`: `iam:<Action>` on every resource it acts on
/// (`permissions::resources`), under the caller's identity policies (IAM has no resource
/// policies). The root is always allowed.
fn authorize(
    state: &State,
    parts: &request::Parts,
    caller: &Caller,
    action: Action,
    params: &Params,
    peer: SocketAddr,
) -> Result<(), IamError> {
    let Caller::User { principal, .. } = caller else {
        return Ok(());
    };
    let account = state.config.backend.iam.account_id.as_str();
    let view = state.iam.view();
    let resources = permissions::resources(action, params, caller, &view, account);
    let origin = context::origin(peer, &parts.headers, &state.trusted_proxies);
    let context = context::global(Some(caller), account, &origin, SystemTime::now());
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
                principal.arn
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
