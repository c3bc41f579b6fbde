//! Authentication: who sent a request. `sigv4` verifies AWS Signature Version 4 (pure
//! functions, no I/O); `authenticate` looks the access key up in the root credentials and the
//! IAM store's in-memory view and says who the caller is.
//!
//! Boundary: no SQLite on this path. The view is rebuilt by every IAM write before that write
//! is acknowledged, so a key deleted or deactivated is refused by the very next request.

pub mod chunked;
pub mod signing_keys;
pub mod sigv2;
pub mod sigv4;

use std::sync::Arc;
use std::time::SystemTime;

use http::request;

use crate::crypto::Secret;
use crate::iam_store::view::{KeyOwner, Principal};
use crate::state::State;
use sigv4::{Presented, SigV4Error};

/// Who a verified request comes from.
#[derive(Debug, Clone)]
pub enum Caller {
    /// The account root: bypasses policies.
    Root { access_key: String, arn: String },
    /// An IAM user, with everything needed to evaluate its policies.
    User {
        access_key: String,
        principal: Arc<Principal>,
    },
}

impl Caller {
    pub fn arn(&self) -> &str {
        match self {
            Caller::Root { arn, .. } => arn,
            Caller::User { principal, .. } => &principal.arn,
        }
    }
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

/// Looks `access_key` up (the configured root, or an active key of the root or of an IAM user
/// in the view), runs `verify`
/// with its secret, and on success records the key's use for `service` in `region`. Shared by
/// SigV4 and SigV2 so that both resolve callers the same way.
pub fn with_key<T, E>(
    state: &State,
    access_key: &str,
    (service, region): (&'static str, &str),
    unknown: E,
    verify: impl FnOnce(&Secret) -> Result<T, E>,
) -> Result<(Caller, T), E> {
    let root = &state.root;
    if access_key == root.access_key {
        let verified = verify(&root.secret)?;
        let caller = Caller::Root {
            access_key: root.access_key.clone(),
            arn: root.arn.clone(),
        };
        return Ok((caller, verified));
    }
    let view = state.iam.view();
    let Some(entry) = view.key(access_key).filter(|k| k.active) else {
        return Err(unknown);
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
        },
        KeyOwner::User(principal) => Caller::User {
            access_key: access_key.to_owned(),
            principal: Arc::clone(principal),
        },
    };
    Ok((caller, verified))
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
    let service = if c.service() == "s3" { "s3" } else { "iam" };
    let (caller, signing_key) = with_key(
        state,
        c.access_key(),
        (service, c.region()),
        AuthError::UnknownKey,
        |secret| {
            let key = state.iam.signing_keys().signing_key(c, secret);
            sigv4::verify(parts, &presented, payload_hash, &key)?;
            Ok(want_signing_key.then(|| *key))
        },
    )?;
    let unsigned = sigv4::unsigned_amz_headers(parts, &presented);
    if !unsigned.is_empty() {
        return Err(AuthError::UnsignedHeaders(unsigned));
    }
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
    policy_base64: &str,
    signature: &str,
) -> Result<Caller, AuthError> {
    let (caller, ()) = with_key(
        state,
        credential.access_key(),
        ("s3", credential.region()),
        AuthError::UnknownKey,
        |secret| {
            let key = state.iam.signing_keys().signing_key(credential, secret);
            Ok(sigv4::verify_form(policy_base64, signature, &key)?)
        },
    )?;
    Ok(caller)
}
