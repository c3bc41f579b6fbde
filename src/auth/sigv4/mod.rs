//! AWS Signature Version 4: what a request presents (an `Authorization` header or a presigned
//! query), the canonical request rebuilt from it, the signature check and the time check.
//!
//! Pure: no I/O and no clock reads (`now` is a parameter), so every rule is unit-tested,
//! including against the worked examples in the AWS documentation. The rules followed:
//! - <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>
//! - <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html>
//! - <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>
//!
//! Boundary: the caller chooses the payload hash (it owns the body), looks the secret up by
//! `Presented::credential.access_key`, and maps `SigV4Error` to its protocol's error codes.
//!
//! Invariant: nothing here keeps a secret. The only key material kept is derived signing keys
//! in `SigningKeyCache`, wiped when dropped; `Presented` holds only what the client sent.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use http::header::{HeaderValue, AUTHORIZATION, DATE, HOST};
use http::request::Parts;
use percent_encoding::{percent_decode_str, percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::crypto::Secret;
use crate::timefmt;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const SCOPE_TERMINATOR: &str = "aws4_request";
const X_AMZ_DATE: &str = "x-amz-date";
/// How far a header-signed request's time may be from ours, and how far in the future a
/// presigned URL may start (AWS: `RequestTimeTooSkewed` beyond 15 minutes).
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);
/// Seven days: the longest `X-Amz-Expires` AWS accepts.
const MAX_EXPIRES_SECS: u64 = 604_800;
/// Past this many derived keys the cache starts over: it bounds memory whatever access keys,
/// dates and regions clients make up, and a refill costs four HMACs per entry.
const CACHE_CAPACITY: usize = 4096;

/// AWS's `UriEncode`: every byte but the RFC 3986 unreserved characters `A-Za-z0-9-._~` is
/// percent-encoded with uppercase hex.
pub const URI_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The credential scope: AKID/DATE/REGION/SERVICE/aws4_request. Region may be empty
/// ("AKID/20150830//iam/aws4_request") and must be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub access_key: String,
    /// `YYYYMMDD`, checked to be the date of the request time.
    pub date: String,
    pub region: String,
    /// `s3` selects S3's single path encoding; anything else gets the general rules.
    pub service: String,
}

/// Where the signature travelled, which decides the time rules and the canonical query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Header,
    /// A presigned URL, valid for `expires_secs` (1..=604800) from its `X-Amz-Date`.
    Query {
        expires_secs: u64,
    },
}

/// What a request presents: parsed from the Authorization header (AWS4-HMAC-SHA256
/// Credential=..., SignedHeaders=..., Signature=...) or from the presigned query (X-Amz-Algorithm,
/// X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature).
#[derive(Debug, Clone)]
pub struct Presented {
    pub credential: Credential,
    /// Lowercase, in the order given. The spec wants them sorted; unsorted lists are used as
    /// given, since the client signed that order.
    pub signed_headers: Vec<String>,
    pub signature: [u8; 32],
    /// `X-Amz-Date` (header, or query parameter when presigned); for header auth without
    /// `X-Amz-Date`, the `Date` header.
    pub request_time: SystemTime,
    /// The timestamp exactly as it goes into the string to sign.
    pub amz_date: String,
    pub location: Location,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// Authorization header present but not AWS4-HMAC-SHA256 (e.g. SigV2 "AWS AKID:sig"):
    /// callers may try SigV2 later.
    #[error("the request is not signed with AWS4-HMAC-SHA256")]
    UnsupportedAlgorithm,
    /// The header or query is not a well-formed SigV4 authentication. The message names what
    /// is wrong; it never holds a secret (nothing here has one).
    #[error("malformed SigV4 authentication: {0}")]
    Malformed(String),
    #[error("the request signature does not match the one calculated")]
    SignatureMismatch,
    /// Header auth: the request time is more than 15 minutes from now.
    #[error("the request time is more than 15 minutes from the server time")]
    Skewed,
    /// Presigned: now is past request time + expires.
    #[error("the presigned request has expired")]
    Expired,
    /// Presigned: the request time is more than 15 minutes in the future.
    #[error("the presigned request is not valid yet")]
    NotYetValid,
}

fn malformed(message: impl Into<String>) -> SigV4Error {
    SigV4Error::Malformed(message.into())
}

/// Parses the request's authentication. `Ok(None)` when the request carries no Authorization
/// header and no X-Amz-Algorithm/X-Amz-Credential/X-Amz-Signature query parameters
/// (anonymous); `Err(UnsupportedAlgorithm)` for other Authorization schemes.
pub fn presented(parts: &Parts) -> Result<Option<Presented>, SigV4Error> {
    let query = parts.uri.query().unwrap_or("");
    let presigned = raw_pairs(query).any(|(name, _)| {
        let name = percent_decode_str(name).decode_utf8_lossy();
        matches!(
            &*name,
            "X-Amz-Algorithm" | "X-Amz-Credential" | "X-Amz-Signature"
        )
    });
    let mut authorization = parts.headers.get_all(AUTHORIZATION).iter();
    match (authorization.next(), authorization.next(), presigned) {
        (None, _, false) => Ok(None),
        (None, _, true) => from_query(parts, query).map(Some),
        (Some(_), Some(_), _) => Err(malformed("more than one Authorization header")),
        // S3 refuses this too ("Only one auth mechanism allowed"): which one would we check?
        (Some(_), None, true) => Err(malformed(
            "both an Authorization header and X-Amz-* query authentication",
        )),
        (Some(value), None, false) => from_header(parts, value).map(Some),
    }
}

/// `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`; clients differ on the
/// space after each comma, so both forms are read.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html>
fn from_header(parts: &Parts, value: &HeaderValue) -> Result<Presented, SigV4Error> {
    let value = value
        .to_str()
        .map_err(|_| malformed("Authorization is not ASCII"))?;
    let (scheme, fields) = value.split_once(' ').unwrap_or((value, ""));
    if scheme != ALGORITHM {
        return Err(SigV4Error::UnsupportedAlgorithm);
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for field in fields.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let (name, value) = field
            .split_once('=')
            .ok_or_else(|| malformed(format!("`{field}` in Authorization is not name=value")))?;
        let slot = match name {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            // Ignored, not refused: a newer client may send fields this version does not know.
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(malformed(format!("{name} appears twice in Authorization")));
        }
    }
    let missing = |name: &str| malformed(format!("Authorization has no {name}"));
    let credential = parse_credential(credential.ok_or_else(|| missing("Credential"))?)?;
    let signed_headers =
        parse_signed_headers(signed_headers.ok_or_else(|| missing("SignedHeaders"))?)?;
    let signature = parse_signature(signature.ok_or_else(|| missing("Signature"))?)?;
    let (request_time, amz_date) = header_time(parts)?;
    let presented = Presented {
        credential,
        signed_headers,
        signature,
        request_time,
        amz_date,
        location: Location::Header,
    };
    check_consistent(parts, presented)
}

/// The request time of a header-signed request: `X-Amz-Date`, or failing that `Date`, either
/// in the `X-Amz-Date` shape (used as is) or as an HTTP date (its instant goes into the string
/// to sign in the `X-Amz-Date` shape). `X-Amz-Date` wins when both are present.
/// <https://docs.aws.amazon.com/STS/latest/APIReference/CommonParameters.html>
fn header_time(parts: &Parts) -> Result<(SystemTime, String), SigV4Error> {
    if let Some(value) = parts.headers.get(X_AMZ_DATE) {
        let raw = value.to_str().unwrap_or("");
        let time = timefmt::parse_amz_date(raw)
            .ok_or_else(|| malformed("X-Amz-Date is not of the form 20150830T123600Z"))?;
        return Ok((time, raw.to_owned()));
    }
    let value = parts
        .headers
        .get(DATE)
        .ok_or_else(|| malformed("neither X-Amz-Date nor Date is present"))?;
    let raw = value.to_str().unwrap_or("");
    if let Some(time) = timefmt::parse_amz_date(raw) {
        return Ok((time, raw.to_owned()));
    }
    let time = timefmt::parse_http_date(raw)
        .ok_or_else(|| malformed("Date is neither an HTTP date nor 20150830T123600Z"))?;
    Ok((time, timefmt::format_amz_date(time)))
}

/// The presigned form: every `X-Amz-*` parameter once, percent-decoded.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>
fn from_query(parts: &Parts, query: &str) -> Result<Presented, SigV4Error> {
    let required = |name: &str| {
        query_param(query, name)?.ok_or_else(|| malformed(format!("the query has no {name}")))
    };
    if required("X-Amz-Algorithm")? != ALGORITHM {
        return Err(SigV4Error::UnsupportedAlgorithm);
    }
    let credential = parse_credential(&required("X-Amz-Credential")?)?;
    let signed_headers = parse_signed_headers(&required("X-Amz-SignedHeaders")?)?;
    let signature = parse_signature(&required("X-Amz-Signature")?)?;
    let amz_date = required("X-Amz-Date")?;
    let request_time = timefmt::parse_amz_date(&amz_date)
        .ok_or_else(|| malformed("X-Amz-Date is not of the form 20150830T123600Z"))?;
    let expires_secs = required("X-Amz-Expires")?
        .parse::<u64>()
        .ok()
        .filter(|secs| (1..=MAX_EXPIRES_SECS).contains(secs))
        .ok_or_else(|| malformed("X-Amz-Expires must be a number of seconds from 1 to 604800"))?;
    let presented = Presented {
        credential,
        signed_headers,
        signature,
        request_time,
        amz_date,
        location: Location::Query { expires_secs },
    };
    check_consistent(parts, presented)
}

/// The decoded value of the query parameter `name`; `Malformed` if it appears twice (which
/// one was meant?) or does not decode to UTF-8.
fn query_param(query: &str, name: &str) -> Result<Option<String>, SigV4Error> {
    let mut found = None;
    for (raw_name, raw_value) in raw_pairs(query) {
        if percent_decode_str(raw_name).decode_utf8_lossy() != name {
            continue;
        }
        let value = percent_decode_str(raw_value)
            .decode_utf8()
            .map_err(|_| malformed(format!("{name} is not UTF-8")))?;
        if found.replace(value.into_owned()).is_some() {
            return Err(malformed(format!("{name} appears more than once")));
        }
    }
    Ok(found)
}

/// `AKID/20150830/us-east-1/iam/aws4_request`: exactly five parts, the last `aws4_request`.
/// The region may be empty; the date is checked against the request time later.
fn parse_credential(raw: &str) -> Result<Credential, SigV4Error> {
    let parts: Vec<&str> = raw.split('/').collect();
    let [access_key, date, region, service, SCOPE_TERMINATOR] = parts[..] else {
        return Err(malformed(
            "Credential must be ACCESS_KEY/YYYYMMDD/REGION/SERVICE/aws4_request",
        ));
    };
    if access_key.is_empty() || service.is_empty() {
        return Err(malformed("Credential has an empty access key or service"));
    }
    Ok(Credential {
        access_key: access_key.to_owned(),
        date: date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
    })
}

fn parse_signed_headers(raw: &str) -> Result<Vec<String>, SigV4Error> {
    let names: Vec<String> = raw.split(';').map(str::to_ascii_lowercase).collect();
    if names.iter().any(String::is_empty) {
        return Err(malformed("SignedHeaders has an empty name"));
    }
    Ok(names)
}

/// 64 hex digits. Either case is read: the bytes are what get compared.
fn parse_signature(raw: &str) -> Result<[u8; 32], SigV4Error> {
    let mut signature = [0u8; 32];
    if raw.len() != 64 || hex::decode_to_slice(raw, &mut signature).is_err() {
        return Err(malformed("Signature must be 64 hexadecimal digits"));
    }
    Ok(signature)
}

/// The checks that need both the request and what it presents: the scope date is the request
/// date, `host` is signed (otherwise a signature could be replayed against another host), and
/// every signed header is there to be canonicalized.
fn check_consistent(parts: &Parts, p: Presented) -> Result<Presented, SigV4Error> {
    if p.amz_date.get(..8) != Some(p.credential.date.as_str()) {
        return Err(malformed(format!(
            "the credential date {} is not the date of the request time {}",
            p.credential.date, p.amz_date
        )));
    }
    if !p.signed_headers.iter().any(|name| name == "host") {
        return Err(malformed("host must be one of the signed headers"));
    }
    if let Some(absent) = p
        .signed_headers
        .iter()
        .find(|name| !has_header(parts, name))
    {
        return Err(malformed(format!(
            "signed header {absent} is not in the request"
        )));
    }
    Ok(p)
}

fn has_header(parts: &Parts, name: &str) -> bool {
    parts.headers.contains_key(name) || (name == "host" && parts.uri.authority().is_some())
}

/// Checks the request time against `now`: header auth within ±15 min (`Skewed`); presigned:
/// not before request_time - 15 min (`NotYetValid`), not after request_time + expires
/// (`Expired`). Both bounds are inclusive.
pub fn check_time(p: &Presented, now: SystemTime) -> Result<(), SigV4Error> {
    match p.location {
        Location::Header => {
            let skew = now
                .duration_since(p.request_time)
                .unwrap_or_else(|ahead| ahead.duration());
            if skew > MAX_SKEW {
                return Err(SigV4Error::Skewed);
            }
        }
        Location::Query { expires_secs } => {
            if p.request_time
                .duration_since(now)
                .is_ok_and(|ahead| ahead > MAX_SKEW)
            {
                return Err(SigV4Error::NotYetValid);
            }
            // `None` would mean an expiry beyond what SystemTime holds: not expired.
            let expiry = p
                .request_time
                .checked_add(Duration::from_secs(expires_secs));
            if expiry.is_some_and(|expiry| now > expiry) {
                return Err(SigV4Error::Expired);
            }
        }
    }
    Ok(())
}

/// The canonical request. `payload_hash` is the hex SHA-256 of the body, or the literal the
/// client put in x-amz-content-sha256 (e.g. UNSIGNED-PAYLOAD, STREAMING-...), chosen by the
/// caller. S3-ness (`p.credential.service == "s3"`) selects S3's single URI encoding of the
/// path; other services encode it twice. For presigned requests X-Amz-Signature is left out.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#create-canonical-request>
pub fn canonical_request(parts: &Parts, p: &Presented, payload_hash: &str) -> String {
    let uri = canonical_uri(parts.uri.path(), p.credential.service == "s3");
    canonical_request_for(parts, p, payload_hash, &uri)
}

/// The canonical request with `uri` as its canonical URI.
fn canonical_request_for(parts: &Parts, p: &Presented, payload_hash: &str, uri: &str) -> String {
    let presigned = matches!(p.location, Location::Query { .. });
    let mut out = String::with_capacity(512);
    out.push_str(parts.method.as_str());
    out.push('\n');
    out.push_str(uri);
    out.push('\n');
    out.push_str(&canonical_query(parts.uri.query().unwrap_or(""), presigned));
    out.push('\n');
    for name in &p.signed_headers {
        out.push_str(name);
        out.push(':');
        out.push_str(&canonical_header_value(parts, name));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&p.signed_headers.join(";"));
    out.push('\n');
    out.push_str(payload_hash);
    out
}

/// The path, one segment at a time: percent-decoded, then `UriEncode`d, so that however the
/// client escaped it on the wire it comes out as the SDKs encode it. Working per segment keeps
/// an escaped `%2F` inside a segment as `%2F` rather than turning it into a separator.
///
/// S3 takes the result as is and must not be normalized: keys may hold `//`, `.` and `..`.
/// Other services remove `.`, `..` and empty segments (RFC 3986) and encode the result again,
/// since the SDKs encode the already-encoded path a second time.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#create-canonical-request>
fn canonical_uri(path: &str, s3: bool) -> String {
    let segments: Vec<&str> = if s3 {
        path.split('/').collect()
    } else {
        normalized_segments(path)
    };
    let mut out = String::with_capacity(path.len() + 16);
    for (i, segment) in segments.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        let once = reencode(segment);
        if s3 {
            out.push_str(&once);
        } else {
            out.extend(percent_encode(once.as_bytes(), URI_ENCODE));
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// The segments of an absolute path after RFC 3986 dot-segment removal, with empty segments
/// dropped, starting with the empty segment before the leading `/`. A trailing `/` is kept.
fn normalized_segments(path: &str) -> Vec<&str> {
    let mut kept = vec![""];
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if kept.len() > 1 {
                    kept.pop();
                }
            }
            name => kept.push(name),
        }
    }
    let ends_as_directory = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    if kept.len() > 1 && ends_as_directory {
        kept.push("");
    }
    kept
}

/// Every `name=value` pair, decoded and re-encoded with `UriEncode` (so `/` becomes `%2F`
/// and `+` stays a plus, `%2B`: AWS clients send spaces as `%20`), sorted by name then value,
/// joined with `&`.
fn canonical_query(query: &str, presigned: bool) -> String {
    let mut pairs: Vec<(String, String)> = raw_pairs(query)
        .map(|(name, value)| (reencode(name), reencode(value)))
        .filter(|(name, _)| !(presigned && name == "X-Amz-Signature"))
        .collect();
    pairs.sort_unstable();
    let mut out = String::with_capacity(query.len() + 16);
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// The raw query's pairs, still escaped, split at the first `=` (none: an empty value).
/// Empty pieces, as in `a=1&&b=2`, are skipped.
fn raw_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| piece.split_once('=').unwrap_or((piece, "")))
}

fn reencode(escaped: &str) -> String {
    let bytes: Vec<u8> = percent_decode_str(escaped).collect();
    percent_encode(&bytes, URI_ENCODE).to_string()
}

/// Every value of the header, each trimmed with inner runs of spaces collapsed, joined by
/// `,`. `host` falls back on the URI's authority (HTTP/2, or an absolute-form request line).
/// A value that is not UTF-8 is read lossily and so will not verify; no client signs one.
fn canonical_header_value(parts: &Parts, name: &str) -> String {
    let mut values: Vec<String> = parts
        .headers
        .get_all(name)
        .iter()
        .map(|value| collapse_spaces(&String::from_utf8_lossy(value.as_bytes())))
        .collect();
    if values.is_empty() && name == HOST.as_str() {
        if let Some(authority) = parts.uri.authority() {
            values.push(authority.as_str().to_owned());
        }
    }
    values.join(",")
}

fn collapse_spaces(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for word in value.split([' ', '\t']).filter(|word| !word.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// `AWS4-HMAC-SHA256\n{amz_date}\n{date}/{region}/{service}/aws4_request\n{hex(sha256(cr))}`.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#create-string-to-sign>
pub fn string_to_sign(p: &Presented, canonical_request: &str) -> String {
    let c = &p.credential;
    format!(
        "{ALGORITHM}\n{}\n{}/{}/{}/{SCOPE_TERMINATOR}\n{}",
        p.amz_date,
        c.date,
        c.region,
        c.service,
        sha256_hex(canonical_request.as_bytes())
    )
}

/// The signing key: HMACs chained over the scope, keyed first with `"AWS4" + secret`. The
/// intermediate keys are wiped; the caller owns the result.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#derive-signing-key>
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let mut seed = Zeroizing::new(Vec::with_capacity(4 + secret.len()));
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret.as_bytes());
    let date_key = Zeroizing::new(hmac_sha256(&seed, date.as_bytes()));
    let region_key = Zeroizing::new(hmac_sha256(&*date_key, region.as_bytes()));
    let service_key = Zeroizing::new(hmac_sha256(&*region_key, service.as_bytes()));
    hmac_sha256(&*service_key, SCOPE_TERMINATOR.as_bytes())
}

/// The signature of a canonical request: HMAC-SHA256 of its string to sign under the signing
/// key. The one computation a signer and the verifier share (`bench::client` signs with it).
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#calculate-signature>
pub fn signature(key: &[u8; 32], p: &Presented, canonical_request: &str) -> [u8; 32] {
    hmac_sha256(key, string_to_sign(p, canonical_request).as_bytes())
}

pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length (longer ones are hashed first), so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(data);
    let mut out = [0u8; 32];
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

/// Hex SHA-256 of bytes (used by callers for payload hashes).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What a derived key is valid for.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Scope {
    access_key: String,
    date: String,
    region: String,
    service: String,
}

type KeyMap = HashMap<Scope, Zeroizing<[u8; 32]>>;

/// Derived signing keys, cached by (access key id, date, region, service) because deriving
/// costs four HMACs per request. Bounded: past 4096 entries it is cleared. Thread-safe: a std
/// `Mutex` held only for a lookup or an insert, never while deriving. Keys are wiped when
/// dropped or cleared.
///
/// Invariant: an access key id names one secret for its whole life (AWS never changes a key's
/// secret), so the secret is not part of the cache key. A deleted key must be `forget`-ten.
pub struct SigningKeyCache {
    keys: Mutex<KeyMap>,
}

impl SigningKeyCache {
    pub fn new() -> Self {
        SigningKeyCache {
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Drops every key derived for `access_key` (call it when the access key is deleted).
    pub fn forget(&self, access_key: &str) {
        self.lock()
            .retain(|scope, _| scope.access_key != access_key);
    }

    fn signing_key(&self, credential: &Credential, secret: &Secret) -> Zeroizing<[u8; 32]> {
        let scope = Scope {
            access_key: credential.access_key.clone(),
            date: credential.date.clone(),
            region: credential.region.clone(),
            service: credential.service.clone(),
        };
        if let Some(key) = self.lock().get(&scope) {
            return key.clone();
        }
        let key = Zeroizing::new(signing_key(
            secret.expose(),
            &scope.date,
            &scope.region,
            &scope.service,
        ));
        let mut keys = self.lock();
        if keys.len() >= CACHE_CAPACITY {
            keys.clear();
        }
        keys.insert(scope, key.clone());
        key
    }

    /// A panic elsewhere while holding the lock cannot leave the map half-updated in a way
    /// that matters (each entry is whole), so a poisoned lock is used as is.
    fn lock(&self) -> MutexGuard<'_, KeyMap> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for SigningKeyCache {
    fn default() -> Self {
        SigningKeyCache::new()
    }
}

impl fmt::Debug for SigningKeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyCache")
            .field("entries", &self.lock().len())
            .finish()
    }
}

/// Full verification: recomputes the signature with the cached signing key and compares it in
/// constant time. Does not check the time: the caller calls `check_time` too, so that it can
/// map each failure to its protocol's error.
pub fn verify(
    parts: &Parts,
    p: &Presented,
    payload_hash: &str,
    secret: &Secret,
    cache: &SigningKeyCache,
) -> Result<(), SigV4Error> {
    let key = cache.signing_key(&p.credential, secret);
    let matches = |canonical: &str| {
        let expected = signature(&key, p, canonical);
        bool::from(expected[..].ct_eq(&p.signature[..]))
    };
    if matches(&canonical_request(parts, p, payload_hash)) {
        return Ok(());
    }
    // An S3 client that escapes more than it must (`%2E` for `.`) signs the path exactly as it
    // sent it. Both spellings name the same decoded key, so either signature is honoured.
    let raw = parts.uri.path();
    let raw = if raw.is_empty() { "/" } else { raw };
    if p.credential.service == "s3"
        && raw != canonical_uri(raw, true)
        && matches(&canonical_request_for(parts, p, payload_hash, raw))
    {
        return Ok(());
    }
    Err(SigV4Error::SignatureMismatch)
}

#[cfg(test)]
mod tests;
