//! The STS Query API (`sts`, version 2011-06-15): temporary credentials. It shares IAM's
//! Query-API pieces (parameters, body, SigV4, the error table) and answers in STS's namespace.
//! Requests signed for `sts` reach it on the IAM port and on the S3 port; an unsigned request
//! on the IAM port (AssumeRoleWithWebIdentity needs no signature) too.
//! <https://docs.aws.amazon.com/STS/latest/APIReference/API_Operations.html>
//!
//! Sessions are self-contained sealed tokens (`auth::session`, `docs/sts.md`): issuing one
//! writes nothing.

mod assume;
mod credentials;

use std::net::SocketAddr;

use http::{header, request, HeaderValue, Request, Response};

use super::error::{Code, IamError};
use super::params::Params;
use crate::api::{self, Api, ApiError, Fault};
use crate::auth::session::Subject;
use crate::auth::{assumed_role_arn, Caller};
use crate::http::{full, request_id, Body, RequestBody};
use crate::state::{Listener, State};
use crate::xml::XmlWriter;

pub const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// Serves one STS request through the request skeleton.
pub async fn handle(
    state: State,
    listener: Listener,
    req: Request<RequestBody>,
    peer: SocketAddr,
) -> Response<Body> {
    api::serve::<StsApi>(state, listener, req, peer).await
}

/// Every STS action by its AWS name; the ones this server has no counterpart for answer
/// `NotImplemented` by name, never another action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    AssumeRole,
    AssumeRoleWithWebIdentity,
    GetCallerIdentity,
    GetSessionToken,
    GetAccessKeyInfo,
}

/// STS actions of AWS's API this server does not offer: refused as `NotImplemented`.
const NOT_IMPLEMENTED: &[&str] = &[
    "AssumeRoleWithSAML",
    "AssumeRoot",
    "DecodeAuthorizationMessage",
    "GetDelegatedAccessToken",
    "GetFederationToken",
    "GetWebIdentityToken",
];

impl Action {
    /// Every action this server offers.
    #[cfg(test)]
    const ALL: &[Action] = &[
        Action::AssumeRole,
        Action::AssumeRoleWithWebIdentity,
        Action::GetCallerIdentity,
        Action::GetSessionToken,
        Action::GetAccessKeyInfo,
    ];

    fn parse(name: &str) -> Option<Action> {
        Some(match name {
            "AssumeRole" => Action::AssumeRole,
            "AssumeRoleWithWebIdentity" => Action::AssumeRoleWithWebIdentity,
            "GetCallerIdentity" => Action::GetCallerIdentity,
            "GetSessionToken" => Action::GetSessionToken,
            "GetAccessKeyInfo" => Action::GetAccessKeyInfo,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Action::AssumeRole => "AssumeRole",
            Action::AssumeRoleWithWebIdentity => "AssumeRoleWithWebIdentity",
            Action::GetCallerIdentity => "GetCallerIdentity",
            Action::GetSessionToken => "GetSessionToken",
            Action::GetAccessKeyInfo => "GetAccessKeyInfo",
        }
    }
}

/// STS's errors are IAM's codes in STS's namespace (or IAM's, for an unsigned IAM call that
/// the IAM port handed to STS).
#[derive(Debug)]
pub(crate) struct StsError {
    error: IamError,
    xmlns: &'static str,
}

impl From<IamError> for StsError {
    fn from(error: IamError) -> StsError {
        StsError {
            error,
            xmlns: XMLNS,
        }
    }
}

impl From<crate::db::DbError> for StsError {
    fn from(e: crate::db::DbError) -> StsError {
        StsError::from(IamError::from(e))
    }
}

impl From<Code> for StsError {
    fn from(code: Code) -> StsError {
        StsError::from(IamError::from(code))
    }
}

impl std::fmt::Display for StsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for StsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

impl ApiError for StsError {
    fn code(&self) -> &str {
        self.error.code()
    }

    fn fault(&self) -> Fault {
        ApiError::fault(&self.error)
    }

    fn render(&self, _parts: &request::Parts, request_id: &str) -> Response<Body> {
        self.error.render_in(self.xmlns, request_id)
    }

    fn closes_connection(&self, parts: &request::Parts) -> bool {
        self.error.closes_connection(parts)
    }
}

pub(crate) struct StsApi;

pub(crate) struct Parsed {
    body: bytes::Bytes,
    params: Params,
    action: Option<Action>,
}

/// What a handler gets: the state, who is calling (none for web identity) and where from.
pub(crate) struct Ctx<'a> {
    pub state: &'a State,
    pub caller: Option<&'a Caller>,
    pub parts: &'a request::Parts,
    pub peer: SocketAddr,
}

impl Ctx<'_> {
    fn account(&self) -> &str {
        &self.state.config.backend.iam.account_id
    }
}

/// Who may proceed: the caller (none for AssumeRoleWithWebIdentity) and where from.
pub(crate) struct Granted<'a> {
    caller: Option<&'a Caller>,
    peer: SocketAddr,
}

impl Api for StsApi {
    const REQUEST_ID_HEADER: &'static str = request_id::IAM_HEADER;
    const LISTENER: Listener = Listener::Iam;
    type Parsed = Parsed;
    type Caller = Option<Caller>;
    type Granted<'a> = Granted<'a>;
    type Error = StsError;

    fn request_id() -> String {
        request_id::iam()
    }

    async fn parse(
        _state: &State,
        parts: &request::Parts,
        body: RequestBody,
    ) -> Result<Parsed, StsError> {
        let (body, params) = super::read_params(parts, body).await?;
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

    fn audit_caller(caller: &Option<Caller>) -> Option<&Caller> {
        caller.as_ref()
    }

    /// AssumeRoleWithWebIdentity is the one unsigned action (the web identity token is the
    /// credential); every other needs a signature, checked before the action is looked at.
    fn authenticate(
        state: &State,
        parts: &request::Parts,
        parsed: &mut Parsed,
    ) -> Result<Option<Caller>, StsError> {
        let signed = crate::auth::sigv4::presented(parts)
            .ok()
            .flatten()
            .is_some()
            || parts.headers.contains_key(header::AUTHORIZATION);
        if parsed.action == Some(Action::AssumeRoleWithWebIdentity) && !signed {
            return Ok(None);
        }
        // The IAM port's own service is IAM: an unsigned request that names no STS action is
        // an IAM call.
        let is_iam_call = parsed.action.is_none();
        if !signed && is_iam_call {
            // Handed here by the IAM port: refused in IAM's shape.
            return Err(StsError {
                error: IamError::from(Code::MissingAuthenticationToken),
                xmlns: super::error::XMLNS,
            });
        }
        let caller = super::auth::authenticate(state, parts, &parsed.body)?;
        let name = parsed
            .params
            .get("Action")
            .ok_or_else(|| StsError::from(Code::MissingAction))?;
        if parsed.action.is_none() {
            if NOT_IMPLEMENTED.contains(&name) {
                return Err(StsError::from(IamError::new(
                    Code::NotImplemented,
                    format!("{name} is not implemented by this server."),
                )));
            }
            return Err(StsError::from(IamError::new(
                Code::InvalidAction,
                format!("Could not find operation {name} for version 2011-06-15"),
            )));
        }
        Ok(Some(caller))
    }

    /// GetCallerIdentity and GetSessionToken need no permission (as on AWS); AssumeRole is
    /// decided in its handler, where the role is read, by the caller's policies and the role's
    /// trust policy together. A session from GetSessionToken may call only AssumeRole and
    /// GetCallerIdentity; GetSessionToken is for long-term credentials only.
    fn authorize<'a>(
        _state: &'a State,
        _parts: &request::Parts,
        parsed: &Parsed,
        caller: &'a Option<Caller>,
        peer: SocketAddr,
    ) -> Result<Granted<'a>, StsError> {
        let action = parsed
            .action
            .ok_or_else(|| StsError::from(Code::MissingAction))?;
        let caller = caller.as_ref();
        if let Some(session) = caller.and_then(Caller::session) {
            let from_session_token = !matches!(session.claims.subject, Subject::Role { .. });
            let refused = match action {
                Action::GetSessionToken => {
                    Some("Cannot call GetSessionToken with session credentials")
                }
                Action::AssumeRole | Action::GetCallerIdentity => None,
                _ if from_session_token => {
                    Some("Cannot call this action with GetSessionToken credentials")
                }
                _ => None,
            };
            if let Some(message) = refused {
                return Err(StsError::from(IamError::new(Code::AccessDenied, message)));
            }
        }
        Ok(Granted { caller, peer })
    }

    async fn dispatch<'a>(
        state: &'a State,
        parts: &request::Parts,
        parsed: &mut Parsed,
        granted: Granted<'a>,
        request_id: &str,
    ) -> Result<Response<Body>, StsError> {
        let action = parsed
            .action
            .ok_or_else(|| StsError::from(Code::MissingAction))?;
        let ctx = Ctx {
            state,
            caller: granted.caller,
            parts,
            peer: granted.peer,
        };
        let p = &parsed.params;
        let result = match action {
            Action::AssumeRole => assume::assume_role(&ctx, p).await?,
            Action::AssumeRoleWithWebIdentity => {
                assume::assume_role_with_web_identity(&ctx, p).await?
            }
            Action::GetSessionToken => credentials::get_session_token(&ctx, p)?,
            Action::GetCallerIdentity => get_caller_identity(&ctx)?,
            Action::GetAccessKeyInfo => get_access_key_info(&ctx, p)?,
        };
        Ok(render(action, &result, request_id))
    }
}

/// GetCallerIdentity: who signed the request. No permission is needed, as on AWS.
fn get_caller_identity(ctx: &Ctx<'_>) -> Result<String, StsError> {
    let caller = ctx
        .caller
        .ok_or_else(|| StsError::from(Code::MissingAuthenticationToken))?;
    let account = ctx.account();
    let user_id = match caller {
        Caller::Root { .. } => account.to_owned(),
        Caller::User { principal, .. } => principal.id.clone(),
        Caller::Role { role, session, .. } => match &session.claims.subject {
            Subject::Role { session_name, .. } => format!("{}:{session_name}", role.id),
            _ => role.id.clone(),
        },
    };
    let mut w = XmlWriter::new();
    w.elem("UserId", &user_id)
        .elem("Account", account)
        .elem("Arn", caller.arn());
    Ok(w.finish())
}

/// GetAccessKeyInfo: the account an access key id belongs to. Every key this server issues
/// is of its one account; the key itself is not looked up, as on AWS.
fn get_access_key_info(ctx: &Ctx<'_>, p: &Params) -> Result<String, StsError> {
    let key = p.required("AccessKeyId", "accessKeyId")?;
    super::validate::length(key, "accessKeyId", 16, 128)?;
    let mut w = XmlWriter::new();
    w.elem("Account", ctx.account());
    Ok(w.finish())
}

/// `arn:aws:sts::<acct>:assumed-role/<role>/<session>` and `AROA…:<session>`.
pub(crate) fn assumed_role_user(
    account: &str,
    role_id: &str,
    role_name: &str,
    session_name: &str,
) -> String {
    let mut w = XmlWriter::new();
    w.open("AssumedRoleUser")
        .elem("AssumedRoleId", &format!("{role_id}:{session_name}"))
        .elem("Arn", &assumed_role_arn(account, role_name, session_name))
        .close("AssumedRoleUser");
    w.finish()
}

fn render(action: Action, result: &str, request_id: &str) -> Response<Body> {
    let name = action.name();
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{name}Response xmlns=\"{XMLNS}\">\
         <{name}Result>{result}</{name}Result>\
         <ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{name}Response>"
    );
    let mut response = Response::new(full(xml));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert(request_id::IAM_HEADER, id);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::{Action, NOT_IMPLEMENTED};
    use crate::iam::documented_actions;

    #[test]
    fn the_docs_table_lists_every_sts_action_as_the_router_answers_it() {
        let table = documented_actions("STS");
        // AWS's STS API reference: 11 actions.
        assert_eq!(table.len(), 11);
        for (name, status) in &table {
            let expected = match Action::parse(name) {
                Some(action) => {
                    assert_eq!(action.name(), name);
                    "implemented"
                }
                None => {
                    assert!(NOT_IMPLEMENTED.contains(&name.as_str()), "{name}");
                    "refused: `NotImplemented`"
                }
            };
            assert_eq!(status, expected, "{name}");
        }
        let documented = |name: &str| table.iter().any(|(n, _)| n == name);
        for action in Action::ALL {
            assert!(documented(action.name()), "{action:?}");
        }
        for name in NOT_IMPLEMENTED {
            assert!(documented(name), "{name}");
        }
    }
}
