//! AWS Signature Version 2, S3's older scheme: what a request presents (an `Authorization:
//! AWS AccessKeyId:Signature` header or an `AWSAccessKeyId`/`Expires`/`Signature` presigned
//! query), the string to sign rebuilt from it, the signature check and the time check.
//!
//! Still spoken by the aws CLI v1 (`aws s3 presign` signs this way by default), s3cmd and old
//! SDKs. Only S3 ever used it. The rules followed:
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/RESTAuthentication.html>, including its
//! "Query string request authentication alternative" section. Where the page is silent or
//! contradicts itself, what the clients sign decides (each case is explained where handled):
//! - with `x-amz-date`, the Date line is empty and `x-amz-date` is signed as an amz header, as
//!   the page's text says and the JavaScript SDK v2 and boto do; its "Delete" example differs;
//! - sub-resource values are signed percent-decoded, like the response overrides (botocore,
//!   the Java SDK v1 and boto do this; only the JavaScript SDK v2 signs them raw);
//! - a presigned URL's `x-amz-*`, `content-type` and `content-md5` query parameters stand for
//!   the headers of those names, because botocore moves them there when it presigns.
//!
//! Pure: no I/O and no clock reads (`now` is a parameter).
//!
//! Boundary: the caller tries SigV4 first, looks the secret up by `PresentedV2::access_key`,
//! says whether the bucket came from the Host header, and maps `SigV2Error` to S3's codes.
//!
//! Invariant: nothing here keeps a secret; `PresentedV2` holds only what the client sent.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use http::header::{HeaderValue, DATE};
use http::request::Parts;
use percent_encoding::percent_decode_str;
use sha1::Sha1;
use subtle::ConstantTimeEq;

use crate::crypto::Secret;
use crate::timefmt;

/// The scheme and its separator: `AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=`.
/// SigV4's `AWS4-HMAC-SHA256 ...` does not start with it (a `4`, not a space, follows `AWS`).
const SCHEME_PREFIX: &[u8] = b"AWS ";
const X_AMZ_PREFIX: &str = "x-amz-";
const X_AMZ_DATE: &str = "x-amz-date";
const CONTENT_MD5: &str = "content-md5";
const CONTENT_TYPE: &str = "content-type";
/// The presigned form's parameters. They authenticate; they are never signed themselves.
const ACCESS_KEY_PARAM: &str = "AWSAccessKeyId";
const SIGNATURE_PARAM: &str = "Signature";
const EXPIRES_PARAM: &str = "Expires";
/// HMAC-SHA1 output.
const SIGNATURE_LEN: usize = 20;
/// Header auth: how far the request time may be from ours (AWS: `RequestTimeTooSkewed`).
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// The query parameters that belong to the CanonicalizedResource. The page lists acl,
/// lifecycle, location, logging, notification, partNumber, policy, requestPayment, uploadId,
/// uploads, versionId, versioning, versions, website, delete and the response overrides; the
/// rest (accelerate, analytics, cors, inventory, metrics, object-lock, replication, restore,
/// select, select-type, tagging, torrent) are S3 sub-resources botocore signs too, so leaving
/// them out would turn a request for an unsupported feature into SignatureDoesNotMatch.
/// botocore's Google-only `defaultObjectAcl` and `storageClass` are left out: not S3.
const SUB_RESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "delete",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "replication",
    "requestPayment",
    "restore",
    "select",
    "select-type",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
];

/// Where the signature travelled, which decides the time rule and the Date line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `Authorization: AWS AccessKeyId:Signature`; the time is `x-amz-date` or `Date`.
    Header,
    /// A presigned URL, good until `expires` (the `Expires` parameter, Unix seconds).
    Query { expires: SystemTime },
}

/// What a request presents.
#[derive(Debug, Clone)]
pub struct PresentedV2 {
    /// Looked up by the caller to find the secret.
    pub access_key: String,
    /// The decoded base64 signature: 20 bytes of HMAC-SHA1.
    pub signature: Vec<u8>,
    pub location: Location,
    /// Header auth: `x-amz-date` if present (it wins), else `Date`; `None` if neither is
    /// there, which `check_time` refuses. Always `None` for presigned URLs: `Expires` alone
    /// bounds them, and the page says their Date is not signed.
    pub request_time: Option<SystemTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV2Error {
    /// The header or query is not a well-formed SigV2 authentication. The message names what
    /// is wrong; it never holds a secret (nothing here has one).
    #[error("malformed SigV2 authentication: {0}")]
    Malformed(String),
    #[error("the request signature does not match the one calculated")]
    SignatureMismatch,
    /// Header auth: the request time is more than 15 minutes from now.
    #[error("the request time is more than 15 minutes from the server time")]
    Skewed,
    /// Presigned: now is past `Expires`.
    #[error("the presigned request has expired")]
    Expired,
}

fn malformed(message: impl Into<String>) -> SigV2Error {
    SigV2Error::Malformed(message.into())
}

/// Parses the request's SigV2 authentication. `Ok(None)` when there is none: no
/// `Authorization: AWS ...` header and none of `AWSAccessKeyId`, `Signature`, `Expires` in the
/// query, or an Authorization header of another scheme (SigV4's, tried first by the caller,
/// owns that request whatever its query holds).
pub fn presented(parts: &Parts) -> Result<Option<PresentedV2>, SigV2Error> {
    let query = parts.uri.query().unwrap_or("");
    let presigned = raw_pairs(query).any(|(name, _)| {
        let name = decode(name);
        [ACCESS_KEY_PARAM, SIGNATURE_PARAM, EXPIRES_PARAM].contains(&&*name)
    });
    let values: Vec<&HeaderValue> = super::sigv4::authorization_headers(parts).collect();
    let v2_header = values
        .iter()
        .find(|value| value.as_bytes().starts_with(SCHEME_PREFIX));
    match (values.len(), v2_header, presigned) {
        (0, _, false) => Ok(None),
        (0, _, true) => from_query(query).map(Some),
        (_, None, _) => Ok(None),
        (1, Some(value), false) => from_header(parts, value).map(Some),
        // S3 refuses this too ("Only one auth mechanism allowed"): which one would we check?
        (1, Some(_), true) => Err(malformed(
            "both an Authorization header and AWSAccessKeyId/Signature/Expires in the query",
        )),
        (_, Some(_), _) => Err(malformed("more than one Authorization header")),
    }
}

/// `AWS AccessKeyId:Signature`. Space around the colon is tolerated: the page itself prints
/// the signature on the line after it.
fn from_header(parts: &Parts, value: &HeaderValue) -> Result<PresentedV2, SigV2Error> {
    let credentials = std::str::from_utf8(&value.as_bytes()[SCHEME_PREFIX.len()..])
        .map_err(|_| malformed("Authorization is not UTF-8"))?;
    let (access_key, signature) = credentials
        .split_once(':')
        .ok_or_else(|| malformed("Authorization must be `AWS AccessKeyId:Signature`"))?;
    let access_key = access_key.trim();
    if access_key.is_empty() || access_key.contains(char::is_whitespace) {
        return Err(malformed(
            "Authorization has an empty or spaced access key id",
        ));
    }
    Ok(PresentedV2 {
        access_key: access_key.to_owned(),
        signature: parse_signature(signature.trim())?,
        location: Location::Header,
        request_time: header_time(parts)?,
    })
}

/// The request time: `x-amz-date` if present, else `Date`, either as an HTTP date. `None` if
/// neither is present; `Malformed` if the one that counts does not parse (falling back on
/// `Date` would check a time other than the one signed).
fn header_time(parts: &Parts) -> Result<Option<SystemTime>, SigV2Error> {
    let (name, value) = match (parts.headers.get(X_AMZ_DATE), parts.headers.get(DATE)) {
        (Some(value), _) => (X_AMZ_DATE, value),
        (None, Some(value)) => ("Date", value),
        (None, None) => return Ok(None),
    };
    let raw = value.to_str().unwrap_or("").trim();
    parse_date(raw)
        .map(Some)
        .ok_or_else(|| malformed(format!("{name} is not an HTTP date: `{raw}`")))
}

/// An HTTP date (any form RFC 7231 accepts), or an RFC 1123 date with a numeric zone in place
/// of `GMT`: `Tue, 27 Mar 2007 19:36:42 +0000`, as every example on the AWS page is written
/// and as s3cmd sends its `x-amz-date`.
fn parse_date(raw: &str) -> Option<SystemTime> {
    if let Some(time) = timefmt::parse_http_date(raw) {
        return Some(time);
    }
    let (local, zone) = raw.rsplit_once(' ')?;
    let offset = zone_offset_seconds(zone)?;
    let clock = timefmt::parse_http_date(&format!("{local} GMT"))?;
    Some(timefmt::from_unix_seconds(
        timefmt::unix_seconds(clock) - offset,
    ))
}

/// `+hhmm` or `-hhmm` (RFC 5322 section 3.3): seconds east of UTC.
fn zone_offset_seconds(zone: &str) -> Option<i64> {
    let b = zone.as_bytes();
    if b.len() != 5 || !b[1..].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let two = |i: usize| i64::from(b[i] - b'0') * 10 + i64::from(b[i + 1] - b'0');
    let (hours, minutes) = (two(1), two(3));
    if minutes > 59 {
        return None;
    }
    Some(sign * (hours * 3600 + minutes * 60))
}

/// The presigned form: each of the three parameters exactly once, percent-decoded.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/RESTAuthentication.html#RESTAuthenticationQueryStringAuth>
fn from_query(query: &str) -> Result<PresentedV2, SigV2Error> {
    let required = |name: &str| {
        query_param(query, name)?.ok_or_else(|| malformed(format!("the query has no {name}")))
    };
    let access_key = required(ACCESS_KEY_PARAM)?;
    if access_key.is_empty() {
        return Err(malformed("AWSAccessKeyId is empty"));
    }
    let signature = parse_signature(&required(SIGNATURE_PARAM)?)?;
    let raw_expires = required(EXPIRES_PARAM)?;
    // Canonical decimal only, so that the string to sign can print `expires` back exactly as
    // the client sent it: "+5" or "0012" would otherwise be signed under another spelling.
    let seconds = raw_expires
        .parse::<u64>()
        .ok()
        .and_then(|seconds| i64::try_from(seconds).ok())
        .filter(|seconds| seconds.to_string() == raw_expires)
        .ok_or_else(|| malformed("Expires must be a whole number of seconds since the epoch"))?;
    Ok(PresentedV2 {
        access_key,
        signature,
        location: Location::Query {
            expires: timefmt::from_unix_seconds(seconds),
        },
        request_time: None,
    })
}

/// The decoded value of the query parameter `name`; `Malformed` if it appears twice (which
/// one was meant?) or does not decode to UTF-8.
fn query_param(query: &str, name: &str) -> Result<Option<String>, SigV2Error> {
    let mut found = None;
    for (raw_name, raw_value) in raw_pairs(query) {
        if decode(raw_name) != name {
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

/// Standard base64 of exactly 20 bytes.
fn parse_signature(raw: &str) -> Result<Vec<u8>, SigV2Error> {
    BASE64
        .decode(raw)
        .ok()
        .filter(|bytes| bytes.len() == SIGNATURE_LEN)
        .ok_or_else(|| malformed("Signature must be the base64 of 20 bytes"))
}

/// Header auth: the request time within 15 minutes of `now` either way (`Skewed`; no time at
/// all is `Malformed`). Presigned: `now` no later than `Expires` (`Expired`). Bounds are
/// inclusive. SigV2 sets no longest validity for a presigned URL, so neither does this.
pub fn check_time(p: &PresentedV2, now: SystemTime) -> Result<(), SigV2Error> {
    match p.location {
        Location::Header => {
            let request_time = p
                .request_time
                .ok_or_else(|| malformed("the request has neither an x-amz-date nor a Date"))?;
            let skew = now
                .duration_since(request_time)
                .unwrap_or_else(|ahead| ahead.duration());
            if skew > MAX_SKEW {
                return Err(SigV2Error::Skewed);
            }
        }
        Location::Query { expires } => {
            if now > expires {
                return Err(SigV2Error::Expired);
            }
        }
    }
    Ok(())
}

/// `Method\nContent-MD5\nContent-Type\nDate\nCanonicalizedAmzHeaders CanonicalizedResource`,
/// where Date is `Expires` for a presigned URL and empty when `x-amz-date` is present.
/// `bucket_from_host` is the bucket of a virtual-hosted-style request (including a CNAME like
/// `static.example.com`), which the resource starts with; `None` for path-style requests and
/// requests that address no bucket.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/RESTAuthentication.html#ConstructingTheAuthenticationHeader>
pub fn string_to_sign(parts: &Parts, p: &PresentedV2, bucket_from_host: Option<&str>) -> String {
    let presigned = matches!(p.location, Location::Query { .. });
    let mut out = String::with_capacity(256);
    out.push_str(parts.method.as_str());
    out.push('\n');
    out.push_str(&positional(parts, CONTENT_MD5, presigned));
    out.push('\n');
    out.push_str(&positional(parts, CONTENT_TYPE, presigned));
    out.push('\n');
    out.push_str(&date_line(parts, &p.location));
    out.push('\n');
    out.push_str(&canonical_amz_headers(parts, presigned));
    out.push_str(&canonical_resource(parts, bucket_from_host));
    out
}

/// Content-MD5 or Content-Type, trimmed; empty if absent. A presigned URL may carry it as a
/// query parameter instead (botocore's presigner moves it there), used when the header is
/// absent; both are checked by the signature, so neither can be swapped.
fn positional(parts: &Parts, name: &str, presigned: bool) -> String {
    let from_headers = header_values(parts, name);
    if !from_headers.is_empty() || !presigned {
        return from_headers.join(",");
    }
    let query = parts.uri.query().unwrap_or("");
    raw_pairs(query)
        .find(|(raw_name, _)| decode(raw_name).eq_ignore_ascii_case(name))
        .map(|(_, raw_value)| decode(raw_value).trim().to_owned())
        .unwrap_or_default()
}

/// Presigned: the `Expires` seconds. Header auth: empty if `x-amz-date` is present (it is
/// signed among the amz headers instead: the page's rule, and what the SDKs do, although the
/// page's own Delete example puts its value here), else the `Date` header as sent.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/RESTAuthentication.html#RESTAuthenticationTimeStamp>
fn date_line(parts: &Parts, location: &Location) -> String {
    match location {
        Location::Query { expires } => timefmt::unix_seconds(*expires).to_string(),
        Location::Header if parts.headers.contains_key(X_AMZ_DATE) => String::new(),
        Location::Header => header_values(parts, DATE.as_str()).join(","),
    }
}

/// Every `x-amz-*` header, `name:value\n`, names lowercase and sorted, the values of a
/// repeated name trimmed and joined with `,`. Inner runs of spaces are kept: the page only
/// asks to unfold folded lines (hyper refuses obs-fold and a `HeaderValue` cannot hold a line
/// break, so none arrive), and botocore and the JavaScript SDK sign values as they are.
/// A presigned URL's `x-amz-*` query parameters count as headers (botocore moves
/// `x-amz-security-token` and the like there when it presigns).
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/RESTAuthentication.html#RESTAuthenticationConstructingCanonicalizedAmzHeaders>
fn canonical_amz_headers(parts: &Parts, presigned: bool) -> String {
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &parts.headers {
        if name.as_str().starts_with(X_AMZ_PREFIX) {
            headers
                .entry(name.as_str().to_owned())
                .or_default()
                .push(header_text(value).trim().to_owned());
        }
    }
    if presigned {
        for (raw_name, raw_value) in raw_pairs(parts.uri.query().unwrap_or("")) {
            let name = decode(raw_name).to_ascii_lowercase();
            if name.starts_with(X_AMZ_PREFIX) {
                let value = decode(raw_value).trim().to_owned();
                headers.entry(name).or_default().push(value);
            }
        }
    }
    let mut out = String::new();
    for (name, values) in &headers {
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out
}

/// `/bucket` for virtual-hosted style, then the path exactly as sent (still percent-encoded,
/// case of the escapes kept), then the sub-resources in the query, sorted by name (stable,
/// so a repeated name keeps its order), `?name=value&...`.
///
/// Values are percent-decoded. The page says so for the response overrides; for the other
/// sub-resources it shows no escaped value, and botocore (the aws CLI), boto, the Java SDK v1
/// and MinIO decode them too; only the JavaScript SDK v2 signs them raw. They differ only for
/// a value with an escape in it, which the ids LabStore issues do not need.
/// An empty value is signed as the bare name (`uploads=` as `uploads`), as MinIO does, so
/// clients that write `uploads=` (Go's url.Values) and `uploads` (botocore) both verify.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/RESTAuthentication.html#ConstructingTheCanonicalizedResourceElement>
fn canonical_resource(parts: &Parts, bucket_from_host: Option<&str>) -> String {
    let mut out = String::with_capacity(128);
    if let Some(bucket) = bucket_from_host {
        out.push('/');
        out.push_str(bucket);
    }
    out.push_str(parts.uri.path());
    let mut signed: Vec<(Cow<'_, str>, Cow<'_, str>)> = raw_pairs(parts.uri.query().unwrap_or(""))
        .map(|(name, value)| (decode(name), value))
        .filter(|(name, _)| SUB_RESOURCES.contains(&&**name))
        .map(|(name, value)| (name, decode(value)))
        .collect();
    signed.sort_by(|a, b| a.0.cmp(&b.0));
    for (i, (name, value)) in signed.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(name);
        if !value.is_empty() {
            out.push('=');
            out.push_str(value);
        }
    }
    out
}

/// Recomputes `HMAC-SHA1(secret, string_to_sign)` and compares it with the presented signature
/// in constant time. Does not check the time: the caller calls `check_time` too, so that it
/// can map each failure to its own error code.
pub fn verify(
    parts: &Parts,
    p: &PresentedV2,
    secret: &Secret,
    bucket_from_host: Option<&str>,
) -> Result<(), SigV2Error> {
    let to_sign = string_to_sign(parts, p, bucket_from_host);
    let expected = hmac_sha1(secret.expose().as_bytes(), to_sign.as_bytes());
    if bool::from(expected[..].ct_eq(&p.signature[..])) {
        Ok(())
    } else {
        Err(SigV2Error::SignatureMismatch)
    }
}

/// Verifies a SigV2 browser form upload's `signature`: the base64 HMAC-SHA1 of the base64
/// policy, exactly as sent; compared in constant time.
pub fn verify_form(
    policy_base64: &str,
    presented: &str,
    secret: &Secret,
) -> Result<(), SigV2Error> {
    let presented = parse_signature(presented)?;
    let expected = hmac_sha1(secret.expose().as_bytes(), policy_base64.as_bytes());
    match bool::from(expected[..].ct_eq(&presented[..])) {
        true => Ok(()),
        false => Err(SigV2Error::SignatureMismatch),
    }
}

fn hmac_sha1(key: &[u8], data: &[u8]) -> [u8; SIGNATURE_LEN] {
    // HMAC takes keys of any length (longer ones are hashed first), so this cannot fail.
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Every value of the header, trimmed, in the order received.
fn header_values(parts: &Parts, name: &str) -> Vec<String> {
    parts
        .headers
        .get_all(name)
        .iter()
        .map(|value| header_text(value).trim().to_owned())
        .collect()
}

/// A header value as text. Bytes that are not UTF-8 are replaced, so such a value cannot
/// verify (clients sign UTF-8); they are not refused here, since the request may not need them.
fn header_text(value: &HeaderValue) -> Cow<'_, str> {
    String::from_utf8_lossy(value.as_bytes())
}

/// The raw query's pairs, still escaped, split at the first `=` (none: an empty value).
/// Empty pieces, as in `a=1&&b=2`, are skipped.
fn raw_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| piece.split_once('=').unwrap_or((piece, "")))
}

/// Percent-decoding only: `+` stays a plus, as in botocore's `unquote` (base64 signatures
/// hold pluses, and clients escape spaces as `%20`). Bytes that are not UTF-8 are replaced.
fn decode(escaped: &str) -> Cow<'_, str> {
    percent_decode_str(escaped).decode_utf8_lossy()
}

#[cfg(test)]
mod tests;
