//! Authentication: who sent a request. `sigv4` verifies AWS Signature Version 4 (pure
//! functions, no I/O); `authenticate` looks the access key up in the root credentials and the
//! IAM store's in-memory view and says who the caller is.
//!
//! Boundary: no SQLite on this path. The view is rebuilt by every IAM write before that write
//! is acknowledged, so a key deleted or deactivated is refused by the very next request.

pub mod chunked;
pub mod session;
pub mod signing_keys;
pub mod sigv2;
pub mod sigv4;

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use http::request;

use crate::crypto::Secret;
use crate::iam_store::view::{KeyOwner, Principal, RoleEntry};
use crate::state::State;
use session::{Session, Subject, TokenError};
use sigv4::{Presented, SigV4Error};

/// Who a verified request comes from.
#[derive(Debug, Clone)]
pub enum Caller {
    /// The account root: bypasses policies. `session`: signed with temporary credentials
    /// from GetSessionToken.
    Root {
        access_key: String,
        arn: String,
        session: Option<Arc<Session>>,
    },
    /// An IAM user, with everything needed to evaluate its policies. `session`: signed with
    /// temporary credentials from GetSessionToken.
    User {
        access_key: String,
        principal: Arc<Principal>,
        session: Option<Arc<Session>>,
    },
    /// A role session (AssumeRole, AssumeRoleWithWebIdentity): the role as the view holds it
    /// now, and the session. `arn` is the session's,
    /// `arn:aws:sts::<acct>:assumed-role/<role>/<session>`.
    Role {
        access_key: String,
        arn: String,
        role: Arc<RoleEntry>,
        session: Arc<Session>,
    },
}

impl Caller {
    pub fn arn(&self) -> &str {
        match self {
            Caller::Root { arn, .. } | Caller::Role { arn, .. } => arn,
            Caller::User { principal, .. } => &principal.arn,
        }
    }

    pub fn access_key(&self) -> &str {
        match self {
            Caller::Root { access_key, .. }
            | Caller::User { access_key, .. }
            | Caller::Role { access_key, .. } => access_key,
        }
    }

    /// The temporary credentials the request was signed with, if any.
    pub fn session(&self) -> Option<&Arc<Session>> {
        match self {
            Caller::Root { session, .. } | Caller::User { session, .. } => session.as_ref(),
            Caller::Role { session, .. } => Some(session),
        }
    }
}

/// The ARN of a role session.
pub fn assumed_role_arn(account: &str, role_name: &str, session_name: &str) -> String {
    format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}")
}

/// Why authentication failed, independent of protocol; each listener maps it to its codes.
#[derive(Debug, PartialEq, Eq)]
pub enum AuthError {
    /// No credentials at all (anonymous).
    Missing,
    /// An Authorization scheme other than SigV4.
    UnsupportedAlgorithm,
    Malformed(String),
    /// Unknown or inactive access key.
    UnknownKey,
    SignatureMismatch,
    Skewed,
    Expired,
    NotYetValid,
    /// `x-amz-*` headers the signature does not cover (their names).
    UnsignedHeaders(Vec<String>),
    /// A session token that is not this server's, is damaged, names another access key, or
    /// whose role or user no longer exists; or a token sent with a long-term key.
    InvalidToken,
    /// A session token past its expiry.
    ExpiredToken,
}

impl From<SigV4Error> for AuthError {
    fn from(e: SigV4Error) -> AuthError {
        match e {
            SigV4Error::UnsupportedAlgorithm => AuthError::UnsupportedAlgorithm,
            SigV4Error::Malformed(m) => AuthError::Malformed(m),
            SigV4Error::SignatureMismatch => AuthError::SignatureMismatch,
            SigV4Error::Skewed => AuthError::Skewed,
            SigV4Error::Expired => AuthError::Expired,
            SigV4Error::NotYetValid => AuthError::NotYetValid,
        }
    }
}

/// A verified SigV4 request: who sent it, what it presented, and (when asked for) the
/// derived signing key, which aws-chunked bodies need to verify their chunk signatures.
#[derive(Debug)]
pub struct Verified {
    pub caller: Caller,
    pub presented: Presented,
    pub signing_key: Option<[u8; 32]>,
}

/// Looks `access_key` up (the configured root, an active key of the root or of an IAM user in
/// the view, or with `token` a session's temporary key), runs `verify` with its secret, and on
/// success records a long-term key's use for `service` in `region`. Shared by SigV4 and SigV2
/// so that both resolve callers the same way; `refused` maps a refusal to the caller's error.
pub fn with_key<T, E>(
    state: &State,
    access_key: &str,
    token: Option<&str>,
    (service, region): (&'static str, &str),
    refused: impl Fn(AuthError) -> E,
    verify: impl FnOnce(&Secret) -> Result<T, E>,
) -> Result<(Caller, T), E> {
    if let Some(token) = token {
        return with_session(state, access_key, token, verify, refused);
    }
    let root = &state.root;
    if access_key == root.access_key {
        let verified = verify(&root.secret)?;
        let caller = Caller::Root {
            access_key: root.access_key.clone(),
            arn: root.arn.clone(),
            session: None,
        };
        return Ok((caller, verified));
    }
    let view = state.iam.view();
    let Some(entry) = view.key(access_key).filter(|k| k.active) else {
        return Err(refused(AuthError::UnknownKey));
    };
    let verified = verify(&entry.secret)?;
    state
        .iam
        .pending_last_used()
        .record(access_key, service, region);
    let caller = match &entry.owner {
        KeyOwner::Root => Caller::Root {
            access_key: access_key.to_owned(),
            arn: root.arn.clone(),
            session: None,
        },
        KeyOwner::User(principal) => Caller::User {
            access_key: access_key.to_owned(),
            principal: Arc::clone(principal),
            session: None,
        },
    };
    Ok((caller, verified))
}

/// In the extensions of a request the console makes in-process for its signed-in principal
/// (`console`): the credentials it signed in with, proven then. The APIs take the caller from
/// here instead of a signature, looking the key (or the session token) up again on every
/// request, so a key deactivated, a user deleted or a session expired since sign-in is refused
/// as it would be over the wire. Extensions are never set from a client's bytes: a request from
/// the network cannot carry one.
#[derive(Clone)]
pub struct Delegated {
    pub access_key: String,
    /// The session token of temporary credentials (kept in the server's memory only).
    pub token: Option<Secret>,
}

impl fmt::Debug for Delegated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delegated")
            .field("access_key", &self.access_key)
            .field("token", &self.token.as_ref().map(|_| "********"))
            .finish()
    }
}

/// Proves a sign-in: `secret` (and `token`, for temporary credentials) against what the
/// server holds for `access_key`, in constant time; the caller they belong to.
pub fn sign_in(
    state: &State,
    access_key: &str,
    secret: &Secret,
    token: Option<&Secret>,
) -> Result<Caller, AuthError> {
    let region = state.config.backend.s3.region.as_str();
    let (caller, ()) = with_key(
        state,
        access_key,
        token.map(Secret::expose),
        ("console", region),
        |e| e,
        |held| match held == secret {
            true => Ok(()),
            false => Err(AuthError::SignatureMismatch),
        },
    )?;
    Ok(caller)
}

/// The caller behind a console request's `Delegated` credentials, as it stands now.
pub fn delegated(
    state: &State,
    delegated: &Delegated,
    service: &'static str,
) -> Result<Caller, AuthError> {
    let region = state.config.backend.s3.region.as_str();
    let (caller, ()) = with_key(
        state,
        &delegated.access_key,
        delegated.token.as_ref().map(Secret::expose),
        (service, region),
        |e| e,
        |_| Ok(()),
    )?;
    Ok(caller)
}

/// A request signed with temporary credentials: the token opened (or found in the cache),
/// checked against the access key and the clock, the signature verified with the session's
/// secret, and the caller resolved from the view as it is now: a deleted role or user makes
/// its sessions invalid from the next request.
fn with_session<T, E>(
    state: &State,
    access_key: &str,
    token: &str,
    verify: impl FnOnce(&Secret) -> Result<T, E>,
    refused: impl Fn(AuthError) -> E,
) -> Result<(Caller, T), E> {
    let now = crate::timefmt::unix_seconds(SystemTime::now());
    let session = state
        .iam
        .sessions()
        .session(
            (state.iam.master_key(), state.iam.previous_key()),
            access_key,
            token,
            now,
        )
        .map_err(|e| {
            refused(match e {
                TokenError::Invalid => AuthError::InvalidToken,
                TokenError::Expired => AuthError::ExpiredToken,
            })
        })?;
    let verified = verify(&session.secret)?;
    let view = state.iam.view();
    let account = state.config.backend.iam.account_id.as_str();
    let caller = match &session.claims.subject {
        Subject::Root => Caller::Root {
            access_key: access_key.to_owned(),
            arn: state.root.arn.clone(),
            session: Some(Arc::clone(&session)),
        },
        Subject::User { user_id } => {
            let principal = view
                .user_with_id(user_id)
                .ok_or_else(|| refused(AuthError::InvalidToken))?;
            Caller::User {
                access_key: access_key.to_owned(),
                principal: Arc::clone(principal),
                session: Some(Arc::clone(&session)),
            }
        }
        Subject::Role {
            role_id,
            role_name,
            session_name,
            ..
        } => {
            let role = view
                .role(role_id)
                .ok_or_else(|| refused(AuthError::InvalidToken))?;
            Caller::Role {
                access_key: access_key.to_owned(),
                arn: assumed_role_arn(account, role_name, session_name),
                role: Arc::clone(role),
                session: Arc::clone(&session),
            }
        }
    };
    Ok((caller, verified))
}

/// The session token a request carries: the `X-Amz-Security-Token` header, or the query
/// parameter of a presigned request.
pub fn security_token(parts: &request::Parts) -> Option<std::borrow::Cow<'_, str>> {
    if let Some(value) = parts.headers.get("x-amz-security-token") {
        return value.to_str().ok().map(std::borrow::Cow::Borrowed);
    }
    sigv4::query_value(parts.uri.query()?, "X-Amz-Security-Token")
}

/// Verifies a SigV4-signed request whose payload hash is `payload_hash` and says who sent it.
/// The time is checked first, so that a stale request is refused before any key lookup.
pub fn authenticate(
    state: &State,
    parts: &request::Parts,
    payload_hash: &str,
    now: SystemTime,
    want_signing_key: bool,
) -> Result<Verified, AuthError> {
    let presented = sigv4::presented(parts)?.ok_or(AuthError::Missing)?;
    sigv4::check_time(&presented, now)?;
    let c = &presented.credential;
    let service = match c.service() {
        "s3" => "s3",
        "sts" => "sts",
        _ => "iam",
    };
    // Before the key and the token are looked at: an unsigned token header is refused as
    // unsigned, not opened.
    let unsigned = sigv4::unsigned_amz_headers(parts, &presented);
    if !unsigned.is_empty() {
        return Err(AuthError::UnsignedHeaders(unsigned));
    }
    let token = security_token(parts);
    let (caller, signing_key) = with_key(
        state,
        c.access_key(),
        token.as_deref(),
        (service, c.region()),
        |e| e,
        |secret| {
            let key = state.iam.signing_keys().signing_key(c, secret);
            sigv4::verify(parts, &presented, payload_hash, &key)?;
            Ok(want_signing_key.then(|| *key))
        },
    )?;
    Ok(Verified {
        caller,
        presented,
        signing_key,
    })
}

/// Verifies a SigV4 browser form upload (POST Object): `x-amz-signature` over the base64
/// policy with the signing key of `credential`'s scope (from the cache), and says who signed
/// it. The form's time rules are the policy's expiration, which the caller checks.
pub fn authenticate_form(
    state: &State,
    credential: &sigv4::Credential,
    token: Option<&str>,
    policy_base64: &str,
    signature: &str,
) -> Result<Caller, AuthError> {
    let (caller, ()) = with_key(
        state,
        credential.access_key(),
        token,
        ("s3", credential.region()),
        |e| e,
        |secret| {
            let key = state.iam.signing_keys().signing_key(credential, secret);
            Ok(sigv4::verify_form(policy_base64, signature, &key)?)
        },
    )?;
    Ok(caller)
}
