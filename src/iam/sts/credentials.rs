//! Issuing temporary credentials: a fresh `ASIA…` access key id and secret sealed with the
//! session's claims into the session token, and GetSessionToken.

use super::{Ctx, StsError};
use crate::auth::session::{self, Claims, Subject, WebIdentity};
use crate::auth::Caller;
use crate::crypto::Secret;
use crate::iam::error::{Code, IamError};
use crate::iam::params::Params;
use crate::iam_store::ids;
use crate::xml::XmlWriter;

/// GetSessionToken's default and bounds: 12 hours, 15 minutes to 36 hours (1 hour for the
/// root).
const SESSION_TOKEN_DEFAULT: i64 = 43_200;
const SESSION_TOKEN_MAX: i64 = 129_600;
const ROOT_SESSION_TOKEN_MAX: i64 = 3_600;

/// The shortest session: 900 seconds as on AWS (`backend.iam.sts.min_duration_seconds`).
pub(super) fn min_duration(ctx: &Ctx<'_>) -> i64 {
    i64::from(ctx.state.config.backend.iam.sts.min_duration_seconds)
}

/// What a new session is, besides its fresh key and secret.
pub(super) struct Issue {
    pub subject: Subject,
    pub duration: i64,
    pub policies: Vec<String>,
    pub tags: Vec<(String, String)>,
    pub transitive: Vec<String>,
    pub source_identity: Option<String>,
    pub web: Option<WebIdentity>,
}

/// Seals a new session and writes its `<Credentials>`.
pub(super) fn issue(ctx: &Ctx<'_>, issue: Issue) -> String {
    let now = crate::timefmt::unix_seconds(std::time::SystemTime::now());
    let secret = Secret::generate(40);
    let claims = Claims {
        access_key: ids::session_access_key_id(),
        secret: secret.expose().to_owned(),
        subject: issue.subject,
        issued: now,
        expires: now + issue.duration,
        policies: issue.policies,
        tags: issue.tags,
        transitive: issue.transitive,
        source_identity: issue.source_identity,
        web: issue.web,
    };
    let token = session::seal(ctx.state.iam.master_key(), &claims);
    let mut w = XmlWriter::new();
    w.open("Credentials")
        .elem("AccessKeyId", &claims.access_key)
        .elem("SecretAccessKey", secret.expose())
        .elem("SessionToken", &token)
        .elem("Expiration", &crate::iam::iso8601(claims.expires))
        .close("Credentials");
    w.finish()
}

/// `DurationSeconds` within `min..=max`, or `default` when absent.
pub(super) fn duration(p: &Params, min: i64, max: i64, default: i64) -> Result<i64, IamError> {
    let Some(text) = p.get("DurationSeconds") else {
        return Ok(default);
    };
    let value: i64 = text
        .parse()
        .map_err(|_| IamError::invalid(text, "durationSeconds", "Member must be a number"))?;
    if value < min {
        return Err(IamError::invalid(
            text,
            "durationSeconds",
            &format!("Member must have value greater than or equal to {min}"),
        ));
    }
    if value > max {
        return Err(IamError::invalid(
            text,
            "durationSeconds",
            &format!("Member must have value less than or equal to {max}"),
        ));
    }
    Ok(value)
}

/// GetSessionToken: temporary credentials with the caller's own permissions (long-term
/// credentials only; `authorize` refused sessions). MFA is not offered, so `SerialNumber`
/// and `TokenCode` are refused rather than ignored.
pub(super) fn get_session_token(ctx: &Ctx<'_>, p: &Params) -> Result<String, StsError> {
    if p.get("SerialNumber").is_some() || p.get("TokenCode").is_some() {
        return Err(StsError::from(IamError::new(
            Code::AccessDenied,
            "MFA authentication is not supported by this server: SerialNumber and TokenCode cannot be used.",
        )));
    }
    let caller = ctx
        .caller
        .ok_or_else(|| StsError::from(Code::MissingAuthenticationToken))?;
    let (subject, max) = match caller {
        Caller::Root { .. } => (Subject::Root, ROOT_SESSION_TOKEN_MAX),
        Caller::User { principal, .. } => (
            Subject::User {
                user_id: principal.id.clone(),
            },
            SESSION_TOKEN_MAX,
        ),
        Caller::Role { .. } => {
            return Err(StsError::from(IamError::new(
                Code::AccessDenied,
                "Cannot call GetSessionToken with session credentials",
            )))
        }
    };
    let duration = duration(
        p,
        min_duration(ctx),
        SESSION_TOKEN_MAX,
        SESSION_TOKEN_DEFAULT,
    )?
    .min(max);
    let credentials = issue(
        ctx,
        Issue {
            subject,
            duration,
            policies: Vec::new(),
            tags: Vec::new(),
            transitive: Vec::new(),
            source_identity: None,
            web: None,
        },
    );
    Ok(credentials)
}
