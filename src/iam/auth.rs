//! Authentication on the IAM API: SigV4 over the whole (small) body, with IAM's error codes.

use std::time::SystemTime;

use http::request;

use super::error::{Code, IamError};
use crate::auth::{self, sigv4, AuthError, Caller};
use crate::state::State;

/// IAM's authentication: the payload hash is always the body's SHA-256 (IAM requests are
/// small and fully read), and failures use IAM's error codes.
/// <https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html>
pub fn authenticate(
    state: &State,
    parts: &request::Parts,
    body: &[u8],
) -> Result<Caller, IamError> {
    // The console's in-process request for its signed-in principal (`auth::Delegated`).
    let verified = match parts.extensions.get::<auth::Delegated>() {
        Some(delegated) => auth::delegated(state, delegated, "iam"),
        None => {
            let hash = sigv4::sha256_hex(body);
            auth::authenticate(state, parts, &hash, SystemTime::now(), false).map(|v| v.caller)
        }
    };
    match verified {
        Ok(caller) => Ok(caller),
        Err(e) => Err(match e {
            AuthError::Missing => IamError::from(Code::MissingAuthenticationToken),
            AuthError::UnsupportedAlgorithm => IamError::new(
                Code::IncompleteSignature,
                "Only AWS4-HMAC-SHA256 signatures are supported.",
            ),
            AuthError::Malformed(m) => IamError::new(Code::IncompleteSignature, m),
            AuthError::UnknownKey | AuthError::InvalidToken => {
                IamError::from(Code::InvalidClientTokenId)
            }
            AuthError::ExpiredToken => IamError::from(Code::ExpiredToken),
            AuthError::SignatureMismatch => IamError::from(Code::SignatureDoesNotMatch),
            AuthError::Skewed => IamError::new(
                Code::RequestExpired,
                "Signature expired: the request time is more than 15 minutes from the server time.",
            ),
            AuthError::Expired => IamError::new(Code::RequestExpired, "Request has expired."),
            AuthError::NotYetValid => {
                IamError::new(Code::RequestExpired, "Request is not yet valid.")
            }
            AuthError::UnsignedHeaders(names) => IamError::new(
                Code::IncompleteSignature,
                format!(
                    "There were headers present in the request which were not signed: {}",
                    names.join(", ")
                ),
            ),
        }),
    }
}
