//! AssumeRole and AssumeRoleWithWebIdentity: the request checked as STS checks it, the role
//! read from the view, the trust policy and the caller's own policies evaluated together
//! (`Authorizer::may_assume`), and a session issued.

use std::time::SystemTime;

use super::credentials::{self, min_duration, Issue};
use super::{assumed_role_user, Ctx, StsError};
use crate::auth::session::Subject;
use crate::auth::Caller;
use crate::authz::{context, Authorizer};
use crate::iam::error::{Code, IamError};
use crate::iam::params::Params;
use crate::iam::validate;
use crate::iam_store::policies::PolicyRef;
use crate::iam_store::view::RoleEntry;
use crate::policy::document::{parse, PolicyKind};
use crate::xml::XmlWriter;

/// AWS's limit on the packed session policies and tags.
const PACKED_LIMIT: usize = 2048;
/// The longest session a role chain (a role session assuming a role) may ask for.
const CHAINED_MAX: i64 = 3600;
const MAX_DURATION: i64 = 43_200;
const MAX_POLICY_ARNS: usize = 10;
const MAX_SESSION_TAGS: usize = 50;

/// What AssumeRole and AssumeRoleWithWebIdentity share in their request.
struct Request<'a> {
    role: std::sync::Arc<RoleEntry>,
    session_name: &'a str,
    duration: i64,
    policies: Vec<String>,
    packed: usize,
}

pub(super) async fn assume_role(ctx: &Ctx<'_>, p: &Params) -> Result<String, StsError> {
    let caller = ctx
        .caller
        .ok_or_else(|| StsError::from(Code::MissingAuthenticationToken))?;
    let role_arn = p.required("RoleArn", "roleArn")?;
    validate::length(role_arn, "roleArn", 20, 2048)?;
    let session_name = p.required("RoleSessionName", "roleSessionName")?;
    session_name_valid(session_name)?;
    let denied = || {
        StsError::from(IamError::new(
            Code::AccessDenied,
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                caller.arn()
            ),
        ))
    };
    let external_id = p.get("ExternalId");
    if let Some(id) = external_id {
        validate::length(id, "externalId", 2, 1224)?;
        pattern(id, "externalId", "[\\w+=,.@:\\/-]*", |c| {
            "+=,.@:/-".contains(c)
        })?;
    }
    let source_identity = source_identity(p, caller)?;
    let (tags, transitive) = session_tags(p, caller)?;
    // An unknown role, or one of another account or path, is refused as a role the caller may
    // not assume: whether it exists is not for this caller to learn.
    let view = ctx.state.iam.view();
    let role = role_named(&view, ctx.account(), role_arn).ok_or_else(denied)?;
    let chained = matches!(caller, Caller::Role { .. });
    let duration = credentials::duration(p, min_duration(ctx), MAX_DURATION, 3600)?;
    if chained && duration > CHAINED_MAX {
        return Err(StsError::from(IamError::new(
            Code::ValidationError,
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        )));
    }
    if duration > role.max_session_duration {
        return Err(StsError::from(IamError::new(
            Code::ValidationError,
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        )));
    }
    let (policies, policy_chars) = session_policies(ctx, p).await?;
    let tag_chars: usize = tags.iter().map(|(k, v)| k.len() + v.len()).sum();
    let packed = packed(policy_chars + tag_chars)?;

    let origin = context::origin(
        ctx.peer,
        &ctx.parts.headers,
        &ctx.state.trusted_proxies,
        crate::http::over_tls(&ctx.parts.extensions),
    );
    let mut keys = context::global(Some(caller), ctx.account(), &origin, SystemTime::now());
    keys.set("sts:RoleSessionName", [session_name]);
    if let Some(id) = external_id {
        keys.set("sts:ExternalId", [id]);
    }
    if let Some(source) = &source_identity {
        keys.set("sts:SourceIdentity", [source.as_str()]);
    }
    for (key, value) in &tags {
        keys.set(&format!("aws:RequestTag/{key}"), [value.as_str()]);
    }
    if !tags.is_empty() {
        keys.set("aws:TagKeys", tags.iter().map(|(k, _)| k.clone()));
    }
    let authorizer = Authorizer::new(Some(caller), ctx.account(), keys);
    let mut actions = vec!["sts:AssumeRole"];
    if !tags.is_empty() {
        actions.push("sts:TagSession");
    }
    if source_identity.is_some() && !chained_source(caller) {
        actions.push("sts:SetSourceIdentity");
    }
    if !actions
        .iter()
        .all(|action| authorizer.may_assume(action, &role.arn, &role.trust))
    {
        return Err(denied());
    }
    let request = Request {
        role,
        session_name,
        duration,
        policies,
        packed,
    };
    Ok(respond(
        ctx,
        request,
        tags,
        transitive,
        source_identity,
        None,
    ))
}

/// AssumeRoleWithWebIdentity: unsigned; the web identity token (an OpenID Connect ID token)
/// is the credential. Its issuer names the provider (`oidc-provider/<iss without https://>`,
/// which must exist); `state.oidc` verifies the token against the provider's keys and client
/// ids; the role's trust policy alone decides, with the token's `<issuer>:sub`, `:aud`, `:azp`
/// and `:amr` keys.
pub(super) async fn assume_role_with_web_identity(
    ctx: &Ctx<'_>,
    p: &Params,
) -> Result<String, StsError> {
    let role_arn = p.required("RoleArn", "roleArn")?;
    validate::length(role_arn, "roleArn", 20, 2048)?;
    let session_name = p.required("RoleSessionName", "roleSessionName")?;
    session_name_valid(session_name)?;
    let token = p.required("WebIdentityToken", "webIdentityToken")?;
    validate::length(token, "webIdentityToken", 4, 20_000)?;
    if p.get("ProviderId").is_some() {
        return Err(StsError::from(IamError::new(
            Code::InvalidParameterValue,
            "ProviderId names OAuth 2.0 providers, which this server does not offer; OpenID Connect ID tokens need none.",
        )));
    }
    let invalid =
        |message: String| StsError::from(IamError::new(Code::InvalidIdentityToken, message));
    let issuer = unverified_issuer(token)
        .ok_or_else(|| invalid("The token is not a well-formed JWT.".to_owned()))?;
    let url = issuer
        .strip_prefix("https://")
        .unwrap_or(&issuer)
        .to_owned();
    let provider_arn = crate::iam_store::oidc::provider_arn(ctx.account(), &url);
    let provider = ctx
        .state
        .iam
        .oidc_provider_by_arn(&provider_arn)
        .await
        .map_err(|_| {
            invalid(format!(
                "No OpenIDConnect provider found in your account for {issuer}"
            ))
        })?;
    let now = crate::timefmt::unix_seconds(SystemTime::now());
    let identity = ctx
        .state
        .oidc
        .verify(&provider, token, now)
        .await
        .map_err(|e| {
            tracing::info!(provider = %provider_arn, error = %e, "web identity token refused");
            let code = match e.code() {
                "ExpiredTokenException" => Code::ExpiredTokenException,
                "IDPCommunicationError" => Code::IDPCommunicationError,
                _ => Code::InvalidIdentityToken,
            };
            StsError::from(IamError::new(code, e.public_message().to_owned()))
        })?;
    let view = ctx.state.iam.view();
    let denied = || {
        StsError::from(IamError::new(
            Code::AccessDenied,
            "Not authorized to perform sts:AssumeRoleWithWebIdentity",
        ))
    };
    let role = role_named(&view, ctx.account(), role_arn).ok_or_else(denied)?;
    let duration = credentials::duration(p, min_duration(ctx), MAX_DURATION, 3600)?;
    if duration > role.max_session_duration {
        return Err(StsError::from(IamError::new(
            Code::ValidationError,
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        )));
    }
    let (policies, policy_chars) = session_policies(ctx, p).await?;
    let packed = packed(policy_chars)?;

    let origin = context::origin(
        ctx.peer,
        &ctx.parts.headers,
        &ctx.state.trusted_proxies,
        crate::http::over_tls(&ctx.parts.extensions),
    );
    let mut keys = context::global(None, ctx.account(), &origin, SystemTime::now());
    let issuer_key = identity.issuer.as_str();
    keys.set("sts:RoleSessionName", [session_name])
        .set("aws:FederatedProvider", [provider_arn.as_str()])
        .set(&format!("{issuer_key}:sub"), [identity.subject.as_str()])
        .set(&format!("{issuer_key}:aud"), [identity.audience.as_str()]);
    if let Some(azp) = &identity.azp {
        keys.set(&format!("{issuer_key}:azp"), [azp.as_str()]);
    }
    if !identity.amr.is_empty() {
        keys.set(&format!("{issuer_key}:amr"), identity.amr.iter().cloned());
    }
    let trusted = crate::authz::trusts_web_identity(
        &role.trust,
        "sts:AssumeRoleWithWebIdentity",
        &role.arn,
        &provider_arn,
        ctx.account(),
        &keys,
    );
    if !trusted {
        return Err(denied());
    }
    let web = crate::auth::session::WebIdentity {
        provider_arn: provider_arn.clone(),
        issuer: identity.issuer.clone(),
        sub: identity.subject.clone(),
        aud: identity.audience.clone(),
    };
    let request = Request {
        role,
        session_name,
        duration,
        policies,
        packed,
    };
    let mut out = respond(ctx, request, Vec::new(), Vec::new(), None, Some(web));
    let mut w = XmlWriter::new();
    w.elem("SubjectFromWebIdentityToken", &identity.subject)
        .elem("Audience", &identity.audience)
        .elem("Provider", &identity.issuer);
    out.push_str(&w.finish());
    Ok(out)
}

/// The `iss` claim of a JWT, read without verifying it: only to find the provider whose keys
/// then verify the token (which checks `iss` again).
fn unverified_issuer(token: &str) -> Option<String> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("iss")?.as_str().map(str::to_owned)
}

/// The session issued and the result written.
fn respond(
    ctx: &Ctx<'_>,
    request: Request<'_>,
    tags: Vec<(String, String)>,
    transitive: Vec<String>,
    source_identity: Option<String>,
    web: Option<crate::auth::session::WebIdentity>,
) -> String {
    let Request {
        role,
        session_name,
        duration,
        policies,
        packed,
    } = request;
    let mut tail = XmlWriter::new();
    tail.elem("PackedPolicySize", &packed.to_string());
    if let Some(source) = &source_identity {
        tail.elem("SourceIdentity", source);
    }
    let credentials = credentials::issue(
        ctx,
        Issue {
            subject: Subject::Role {
                role_id: role.id.clone(),
                role_name: role.name.clone(),
                role_arn: role.arn.clone(),
                session_name: session_name.to_owned(),
            },
            duration,
            policies,
            tags,
            transitive,
            source_identity,
            web,
        },
    );
    let mut out = credentials;
    out.push_str(&assumed_role_user(
        ctx.account(),
        &role.id,
        &role.name,
        session_name,
    ));
    out.push_str(&tail.finish());
    out
}

/// The role an ARN names, if it is of this account and its path and name are the role's.
fn role_named(
    view: &crate::iam_store::view::AuthView,
    account: &str,
    arn: &str,
) -> Option<std::sync::Arc<RoleEntry>> {
    let rest = arn.strip_prefix(&format!("arn:aws:iam::{account}:role/"))?;
    let name = rest.rsplit('/').next()?;
    let role = view.role_by_name(name)?;
    (role.arn == arn).then(|| std::sync::Arc::clone(role))
}

fn session_name_valid(name: &str) -> Result<(), IamError> {
    validate::length(name, "roleSessionName", 2, 64)?;
    pattern(name, "roleSessionName", "[\\w+=,.@-]*", |c| {
        "+=,.@-".contains(c)
    })
}

/// Word characters and `extra`, or AWS's pattern error naming `regex`.
fn pattern(
    value: &str,
    field: &str,
    regex: &str,
    extra: impl Fn(char) -> bool,
) -> Result<(), IamError> {
    match value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || extra(c))
    {
        true => Ok(()),
        false => Err(IamError::invalid(
            value,
            field,
            &format!("Member must satisfy regular expression pattern: {regex}"),
        )),
    }
}

/// Whether the caller's own session already carries a source identity (a role chain keeps
/// it, and then needs no `sts:SetSourceIdentity`).
fn chained_source(caller: &Caller) -> bool {
    caller
        .session()
        .is_some_and(|s| s.claims.source_identity.is_some())
}

/// `SourceIdentity`, checked; in a role chain it must equal the caller's session's.
fn source_identity(p: &Params, caller: &Caller) -> Result<Option<String>, IamError> {
    let inherited = caller
        .session()
        .and_then(|s| s.claims.source_identity.clone());
    let Some(value) = p.get("SourceIdentity") else {
        return Ok(inherited);
    };
    validate::length(value, "sourceIdentity", 2, 64)?;
    pattern(value, "sourceIdentity", "[\\w+=,.@-]*", |c| {
        "+=,.@-".contains(c)
    })?;
    if value.to_ascii_lowercase().starts_with("aws:") {
        return Err(IamError::new(
            Code::ValidationError,
            "SourceIdentity cannot start with the reserved prefix 'aws:'",
        ));
    }
    if inherited.as_deref().is_some_and(|i| i != value) {
        return Err(IamError::new(
            Code::AccessDenied,
            "SourceIdentity cannot be changed in a role chain.",
        ));
    }
    Ok(Some(value.to_owned()))
}

/// A session's tags, and which of their keys are transitive.
type SessionTags = (Vec<(String, String)>, Vec<String>);

/// `Tags` and `TransitiveTagKeys`, with the caller's transitive session tags carried over (a
/// role chain cannot override them).
fn session_tags(p: &Params, caller: &Caller) -> Result<SessionTags, IamError> {
    let mut tags: Vec<(String, String)> = Vec::new();
    for i in 1.. {
        let Some(key) = p.get(&format!("Tags.member.{i}.Key")) else {
            break;
        };
        let value = p.get(&format!("Tags.member.{i}.Value")).unwrap_or("");
        validate::tag(key, value)?;
        if tags.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
            return Err(IamError::new(
                Code::InvalidInput,
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
        tags.push((key.to_owned(), value.to_owned()));
    }
    if tags.len() > MAX_SESSION_TAGS {
        return Err(IamError::invalid(
            &tags.len().to_string(),
            "tags",
            "Member must have length less than or equal to 50",
        ));
    }
    let mut transitive: Vec<String> = Vec::new();
    for key in p.members("TransitiveTagKeys.member.") {
        if !tags.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
            return Err(IamError::new(
                Code::InvalidInput,
                format!("The transitive tag key {key} is not among the session tags."),
            ));
        }
        transitive.push(key.to_owned());
    }
    if let Some(session) = caller.session() {
        for key in &session.claims.transitive {
            let Some((_, value)) = session.claims.tags.iter().find(|(k, _)| k == key) else {
                continue;
            };
            if tags.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
                return Err(IamError::new(
                    Code::InvalidInput,
                    format!(
                        "The transitive session tag {key} cannot be overridden in a role chain."
                    ),
                ));
            }
            tags.push((key.clone(), value.clone()));
            transitive.push(key.clone());
        }
    }
    Ok((tags, transitive))
}

/// `Policy` and the documents of `PolicyArns` (their default versions now), each checked,
/// with their packed size (characters outside whitespace).
async fn session_policies(ctx: &Ctx<'_>, p: &Params) -> Result<(Vec<String>, usize), StsError> {
    let mut policies = Vec::new();
    if let Some(text) = p.get("Policy") {
        validate::length(text, "policy", 1, PACKED_LIMIT)?;
        parse(text, PolicyKind::Identity).map_err(|e| {
            StsError::from(IamError::new(Code::MalformedPolicyDocument, e.to_string()))
        })?;
        policies.push(text.to_owned());
    }
    let arns: Vec<String> = (1..)
        .map_while(|i| {
            p.get(&format!("PolicyArns.member.{i}.arn"))
                .map(str::to_owned)
        })
        .collect();
    if arns.len() > MAX_POLICY_ARNS {
        return Err(StsError::from(IamError::invalid(
            &arns.len().to_string(),
            "policyArns",
            "Member must have length less than or equal to 10",
        )));
    }
    for arn in arns {
        let r: PolicyRef = crate::iam::policies::policy_ref_of(ctx.account(), &arn, "arn")?;
        let store = &ctx.state.iam;
        let policy = store.get_policy(r.clone()).await.map_err(|_| {
            StsError::from(IamError::new(
                Code::InvalidParameterValue,
                format!("Policy {arn} does not exist or is not attachable."),
            ))
        })?;
        let version = store
            .get_policy_version(r, policy.default_version)
            .await
            .map_err(IamError::from)?;
        policies.extend(version.document);
    }
    let chars = policies
        .iter()
        .map(|text| text.chars().filter(|c| !c.is_whitespace()).count())
        .sum();
    Ok((policies, chars))
}

/// The packed size as STS reports it, a percentage of the limit; over it,
/// `PackedPolicyTooLarge`.
fn packed(chars: usize) -> Result<usize, IamError> {
    let percent = (chars * 100).div_ceil(PACKED_LIMIT);
    if percent > 100 {
        return Err(IamError::new(
            Code::PackedPolicyTooLarge,
            format!(
                "Packed size of session policies and session tags combined is {percent}% of the limit."
            ),
        ));
    }
    Ok(percent)
}
