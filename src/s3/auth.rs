//! Authentication on the S3 port: SigV4 (header or presigned) with every payload mode real
//! clients send in `x-amz-content-sha256`, and SigV2 (header or query), which the aws CLI v1
//! presigns with and older tools sign with. Failures use S3's codes.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html>

use std::time::SystemTime;

use http::request;

use super::error::{Code, S3Error, S3Result};
use crate::auth::chunked::{ChunkSigning, Mode};
use crate::auth::sigv2::{self, SigV2Error};
use crate::auth::{self, AuthError, Caller};
use crate::state::State;

/// How the body's integrity is to be checked while it is read.
#[derive(Debug)]
pub enum Payload {
    /// `UNSIGNED-PAYLOAD`, presigned URLs and SigV2: no hash to check.
    Unsigned,
    /// The hex SHA-256 the client signed; the body must hash to it.
    Sha256(String),
    /// aws-chunked: decoded (and, when signed, each chunk verified) as it is read.
    Chunked {
        mode: Mode,
        signing: Option<ChunkSigning>,
        decoded_length: Option<u64>,
    },
}

/// How a request was signed, for the `s3:signatureversion` and `s3:authType` keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed {
    pub v4: bool,
    /// In the query string (a presigned URL) rather than the Authorization header.
    pub in_query: bool,
}

impl Signed {
    /// `s3:signatureversion`: what S3 puts there.
    pub fn version(self) -> &'static str {
        match self.v4 {
            true => "AWS4-HMAC-SHA256",
            false => "AWS",
        }
    }

    /// `s3:authType`.
    pub fn auth_type(self) -> &'static str {
        match self.in_query {
            true => "REST-QUERY-STRING",
            false => "REST-HEADER",
        }
    }
}

#[derive(Debug)]
pub struct Authenticated {
    /// `None` for an anonymous request: no signature of any kind. Only a bucket policy can
    /// allow one.
    pub caller: Option<Caller>,
    pub payload: Payload,
    /// `None` exactly when `caller` is.
    pub signed: Option<Signed>,
}

const CONTENT_SHA256: &str = "x-amz-content-sha256";

/// Verifies the request's signature. A request with no credentials at all is anonymous;
/// authorization decides what it may do.
pub fn authenticate(
    state: &State,
    parts: &request::Parts,
    bucket_from_host: Option<&str>,
) -> S3Result<Authenticated> {
    // The console's in-process request for its signed-in principal (`auth::Delegated`): its
    // body comes from the console, which checks what it forwards, as a signed-header request
    // with an unsigned payload.
    if let Some(delegated) = parts.extensions.get::<auth::Delegated>() {
        let caller = auth::delegated(state, delegated, "s3").map_err(|e| sigv4_error(e, false))?;
        return Ok(Authenticated {
            caller: Some(caller),
            payload: Payload::Unsigned,
            signed: Some(Signed {
                v4: true,
                in_query: false,
            }),
        });
    }
    let presigned = parts
        .uri
        .query()
        .is_some_and(|q| q.contains("X-Amz-Signature="));
    let declared = parts
        .headers
        .get(CONTENT_SHA256)
        .and_then(|v| v.to_str().ok());
    let payload_hash = match (declared, presigned) {
        (Some(v), _) => v.to_owned(),
        (None, true) => "UNSIGNED-PAYLOAD".to_owned(),
        (None, false) if has_authorization(parts) => {
            if is_sigv2_header(parts) {
                return authenticate_v2(state, parts, bucket_from_host);
            }
            return Err(S3Error::new(
                Code::InvalidRequest,
                "Missing required header for this request: x-amz-content-sha256",
            ));
        }
        (None, false) => return authenticate_v2(state, parts, bucket_from_host),
    };
    let mode = Mode::from_content_sha256(&payload_hash);
    if mode.is_none() && payload_hash != "UNSIGNED-PAYLOAD" && !is_sha256_hex(&payload_hash) {
        return Err(S3Error::new(
            Code::InvalidArgument,
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-*, or a valid sha256 value.",
        ));
    }
    let signed_chunks = matches!(
        mode,
        Some(Mode::SignedChunks | Mode::SignedChunksWithTrailer)
    );
    let verified = match auth::authenticate(
        state,
        parts,
        &payload_hash,
        SystemTime::now(),
        signed_chunks,
    ) {
        Ok(v) => v,
        Err(AuthError::UnsupportedAlgorithm | AuthError::Missing) => {
            return authenticate_v2(state, parts, bucket_from_host)
        }
        Err(e) => return Err(sigv4_error(e, presigned)),
    };
    let payload = match mode {
        Some(mode) => {
            let signing = verified.signing_key.map(|key| {
                let c = &verified.presented.credential;
                ChunkSigning {
                    key,
                    amz_date: verified.presented.amz_date.clone(),
                    scope: format!("{}/{}/{}/aws4_request", c.date(), c.region(), c.service()),
                    seed_signature: verified.presented.signature,
                }
            });
            Payload::Chunked {
                mode,
                signing,
                decoded_length: decoded_length(parts)?,
            }
        }
        None if payload_hash == "UNSIGNED-PAYLOAD" => Payload::Unsigned,
        None => Payload::Sha256(payload_hash.to_ascii_lowercase()),
    };
    Ok(Authenticated {
        caller: Some(verified.caller),
        payload,
        signed: Some(Signed {
            v4: true,
            in_query: presigned,
        }),
    })
}

/// Whether the request carries an Authorization header with something in it: an empty one
/// presents no credentials (`sigv4::authorization_headers`).
fn has_authorization(parts: &request::Parts) -> bool {
    crate::auth::sigv4::authorization_headers(parts)
        .next()
        .is_some()
}

fn is_sigv2_header(parts: &request::Parts) -> bool {
    parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS ") && !v.starts_with("AWS4-"))
}

fn is_sha256_hex(v: &str) -> bool {
    v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())
}

fn decoded_length(parts: &request::Parts) -> S3Result<Option<u64>> {
    match parts.headers.get("x-amz-decoded-content-length") {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .map(Some)
            .ok_or_else(|| {
                S3Error::new(
                    Code::InvalidArgument,
                    "x-amz-decoded-content-length is not a number",
                )
            }),
    }
}

fn sigv4_error(e: AuthError, presigned: bool) -> S3Error {
    match e {
        AuthError::Missing => Code::AccessDenied.into(),
        AuthError::UnsupportedAlgorithm => {
            S3Error::new(Code::InvalidArgument, "Unsupported Authorization Type")
        }
        AuthError::Malformed(m) if presigned => {
            S3Error::new(Code::AuthorizationQueryParametersError, m)
        }
        AuthError::Malformed(m) => S3Error::new(Code::AuthorizationHeaderMalformed, m),
        AuthError::UnknownKey => Code::InvalidAccessKeyId.into(),
        AuthError::InvalidToken => Code::InvalidToken.into(),
        AuthError::ExpiredToken => Code::ExpiredToken.into(),
        AuthError::SignatureMismatch => Code::SignatureDoesNotMatch.into(),
        AuthError::Skewed => Code::RequestTimeTooSkewed.into(),
        AuthError::Expired => S3Error::new(Code::AccessDenied, "Request has expired"),
        AuthError::NotYetValid => S3Error::new(Code::AccessDenied, "Request is not valid yet"),
        AuthError::UnsignedHeaders(names) => S3Error::new(
            Code::AccessDenied,
            format!(
                "There were headers present in the request which were not signed: {}",
                names.join(", ")
            ),
        ),
    }
}

/// SigV2, header or query; anonymous when neither is present.
fn authenticate_v2(
    state: &State,
    parts: &request::Parts,
    bucket_from_host: Option<&str>,
) -> S3Result<Authenticated> {
    let presented = match sigv2::presented(parts) {
        Ok(Some(p)) => p,
        // An Authorization header in no scheme we know is not anonymity; refuse it.
        Ok(None) if has_authorization(parts) => {
            return Err(S3Error::new(
                Code::AccessDenied,
                "Access Denied: unsupported Authorization scheme",
            ))
        }
        Ok(None) => {
            return Ok(Authenticated {
                caller: None,
                payload: Payload::Unsigned,
                signed: None,
            })
        }
        Err(e) => return Err(sigv2_error(e)),
    };
    sigv2::check_time(&presented, SystemTime::now()).map_err(sigv2_error)?;
    // The header, or for a presigned URL the query parameter (as botocore moves it there).
    let token: Option<std::borrow::Cow<'_, str>> = match parts.headers.get("x-amz-security-token") {
        Some(v) => Some(v.to_str().unwrap_or_default().into()),
        None => parts.uri.query().and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(name, _)| name == "x-amz-security-token")
                .map(|(_, value)| value)
        }),
    };
    let (caller, ()) = auth::with_key(
        state,
        &presented.access_key,
        token.as_deref(),
        ("s3", ""),
        |e| sigv4_error(e, false),
        |secret| sigv2::verify(parts, &presented, secret, bucket_from_host).map_err(sigv2_error),
    )?;
    let in_query = !has_authorization(parts);
    Ok(Authenticated {
        caller: Some(caller),
        payload: Payload::Unsigned,
        signed: Some(Signed {
            v4: false,
            in_query,
        }),
    })
}

fn sigv2_error(e: SigV2Error) -> S3Error {
    match e {
        SigV2Error::Malformed(m) => S3Error::new(Code::AccessDenied, m),
        SigV2Error::SignatureMismatch => Code::SignatureDoesNotMatch.into(),
        SigV2Error::Skewed => Code::RequestTimeTooSkewed.into(),
        SigV2Error::Expired => S3Error::new(Code::AccessDenied, "Request has expired"),
    }
}
