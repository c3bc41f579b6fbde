//! Web identity tokens: verifying an OpenID Connect ID token (a JWT) for an IAM OIDC
//! provider as STS's AssumeRoleWithWebIdentity does. `State::oidc` holds the one verifier.
//!
//! Order: the header is read and only RS256 and ES256 go on (`none`, HS*, every other
//! algorithm is `InvalidIdentityToken` before any key is looked up); the key is found
//! (`keys`: a JWKS file or the issuer's, fetched and cached) by `kid`, or the only key fit
//! for the algorithm; the signature is verified by `jsonwebtoken` (never by code of ours);
//! then the claims (`claims`: `iss`, `aud`/`azp`, `exp`/`nbf`/`iat` within
//! `claims::SKEW_SECONDS`, `sub`).

pub mod claims;
pub mod keys;
mod tls;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::config::Oidc as OidcConfig;
use crate::iam_store::oidc::OidcProvider;
use keys::KeySource;
pub use keys::KeySourceError;

/// STS's bounds on `WebIdentityToken`'s length.
const MAX_TOKEN: usize = 20_000;

/// What a verified token says, for STS: the session's source identity and condition keys.
#[derive(Debug, Clone)]
pub struct WebIdentity {
    /// The provider's URL without `https://` (as in its ARN and the condition keys).
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// The client id the token was accepted for: the first `aud` the provider knows, or
    /// `azp` when no `aud` is known.
    pub audience: String,
    pub azp: Option<String>,
    /// `amr`, as a list (a single string becomes one item); empty when absent.
    pub amr: Vec<String>,
    /// `iat`, Unix seconds.
    pub issued_at: Option<i64>,
    /// `exp`, Unix seconds.
    pub expires_at: i64,
    /// Every claim of the token.
    pub claims: Map<String, Value>,
}

/// Why a token was refused, by the STS error code the refusal is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebIdentityError {
    /// Malformed, an algorithm other than RS256/ES256, no key for it, a bad signature, the
    /// wrong issuer or audience, not valid yet, no subject (400).
    #[error("{0}")]
    InvalidIdentityToken(String),
    /// Past its `exp` (400).
    #[error("{0}")]
    ExpiredToken(String),
    /// The issuer's keys could not be had (400). The message is for the log; STS shows its
    /// own (`public_message`).
    #[error("{0}")]
    IdpCommunication(String),
}

impl WebIdentityError {
    /// The STS error code.
    pub fn code(&self) -> &'static str {
        match self {
            WebIdentityError::InvalidIdentityToken(_) => "InvalidIdentityToken",
            WebIdentityError::ExpiredToken(_) => "ExpiredTokenException",
            WebIdentityError::IdpCommunication(_) => "IDPCommunicationError",
        }
    }

    /// What the client may be shown: the reason for a token refusal; for a failure to reach
    /// the issuer, STS's fixed wording (the details, addresses included, are for the log).
    pub fn public_message(&self) -> &str {
        match self {
            WebIdentityError::InvalidIdentityToken(m) | WebIdentityError::ExpiredToken(m) => m,
            WebIdentityError::IdpCommunication(_) => {
                "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements"
            }
        }
    }
}

fn invalid(message: &str) -> WebIdentityError {
    WebIdentityError::InvalidIdentityToken(message.to_owned())
}

/// The web identity token verifier: the key source (files, fetches, cache) and the checks.
pub struct OidcVerifier {
    keys: KeySource,
}

impl OidcVerifier {
    pub fn new(config: &OidcConfig) -> Result<OidcVerifier, KeySourceError> {
        Ok(OidcVerifier {
            keys: KeySource::new(config)?,
        })
    }

    /// How many times an issuer's keys were fetched over the network since start.
    pub fn fetches(&self) -> u64 {
        self.keys.fetches()
    }

    /// Verifies `token` as a web identity token of `provider` at `now` (Unix seconds).
    pub async fn verify(
        &self,
        provider: &OidcProvider,
        token: &str,
        now: i64,
    ) -> Result<WebIdentity, WebIdentityError> {
        if token.len() < 4 || token.len() > MAX_TOKEN {
            return Err(invalid("The token is not a well-formed JWT."));
        }
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| invalid("The token is not a well-formed JWT."))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(invalid(
                "The token's signing algorithm is not supported (RS256 and ES256 are).",
            ));
        }
        let kid = header.kid.as_deref();
        let set = self.keys.keys(provider, kid).await?;
        let jwk = set
            .select(kid, header.alg)
            .ok_or_else(|| invalid("No key of the issuer verifies the token (kid)."))?;
        let key = DecodingKey::from_jwk(jwk)
            .map_err(|_| invalid("No key of the issuer verifies the token (kid)."))?;
        let claims = verify_signature(token, &key, header.alg)?;
        claims::check(claims, provider, now)
    }
}

/// The token's claims, once its signature verifies with `key` under `alg`; nothing else is
/// checked here (`claims::check` does it, with STS's rules and skew).
fn verify_signature(
    token: &str,
    key: &DecodingKey,
    alg: Algorithm,
) -> Result<Map<String, Value>, WebIdentityError> {
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                invalid("The token's signature is not valid.")
            }
            _ => invalid("The token is not a well-formed JWT."),
        })
}

#[cfg(test)]
mod tests;
