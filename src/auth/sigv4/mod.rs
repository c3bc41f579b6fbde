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
//! `Presented::credential.access_key()`, and maps `SigV4Error` to its protocol's error codes.
//!
//! Invariant: nothing here keeps a secret or any state. `verify` takes the derived signing
//! key; the cache of derived keys is `auth::signing_keys`. `Presented` holds only what the
//! client sent.

mod canonical;
mod presign;
pub use presign::PresignGet;

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use http::header::{HeaderName, HeaderValue, AUTHORIZATION, DATE};
use http::request::Parts;
use percent_encoding::percent_decode_str;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::timefmt;

#[cfg(test)]
use canonical::{canonical_header_value, canonical_query, push_collapsed, reencode};
pub use canonical::{canonical_request, URI_ENCODE};
use canonical::{canonical_request_with, canonical_uri, raw_pairs};

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const SCOPE_TERMINATOR: &str = "aws4_request";
const X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");
/// How far a header-signed request's time may be from ours, and how far in the future a
/// presigned URL may start (AWS: `RequestTimeTooSkewed` beyond 15 minutes).
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);
/// Seven days: the longest `X-Amz-Expires` AWS accepts.
const MAX_EXPIRES_SECS: u64 = 604_800;

/// Marks an upper-case hex digit in `HEX_VALUE`.
const UPPER: u8 = 0x10;

/// The value of each hex digit (upper case marked with `UPPER`); 0xFF for every other byte. A
/// table, because every request's signature is 64 of them.
const HEX_VALUE: [u8; 256] = {
    let mut table = [0xFF; 256];
    let mut c = 0u8;
    loop {
        table[c as usize] = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => (c - b'A' + 10) | UPPER,
            _ => 0xFF,
        };
        if c == u8::MAX {
            break table;
        }
        c += 1;
    }
};

/// The credential scope: AKID/DATE/REGION/SERVICE/aws4_request. Region may be empty
/// ("AKID/20150830//iam/aws4_request") and must be accepted.
///
/// Kept as one string with its field boundaries rather than four strings: every request
/// parses one, and it keys the signing-key cache (`auth::signing_keys`), so that is one allocation and one string to
/// hash instead of four.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Credential {
    /// The four fields, each followed by `/` but the last.
    fields: String,
    /// Where the date, region and service start in `fields`.
    starts: [usize; 3],
}

impl Credential {
    pub fn new(access_key: &str, date: &str, region: &str, service: &str) -> Credential {
        let mut fields = String::with_capacity(access_key.len() + date.len() + region.len() + 16);
        let mut starts = [0; 3];
        fields.push_str(access_key);
        for (start, field) in starts.iter_mut().zip([date, region, service]) {
            fields.push('/');
            *start = fields.len();
            fields.push_str(field);
        }
        Credential { fields, starts }
    }

    pub fn access_key(&self) -> &str {
        &self.fields[..self.starts[0] - 1]
    }

    /// `YYYYMMDD`, checked to be the date of the request time.
    pub fn date(&self) -> &str {
        &self.fields[self.starts[0]..self.starts[1] - 1]
    }

    pub fn region(&self) -> &str {
        &self.fields[self.starts[1]..self.starts[2] - 1]
    }

    /// `s3` selects S3's single path encoding; anything else gets the general rules.
    pub fn service(&self) -> &str {
        &self.fields[self.starts[2]..]
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("access_key", &self.access_key())
            .field("date", &self.date())
            .field("region", &self.region())
            .field("service", &self.service())
            .finish()
    }
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
    /// Lowercase names joined by `;`, in the order given (`signed_header_names` splits them).
    /// The spec wants them sorted; unsorted lists are used as given, since the client signed
    /// that order. One string, as it goes into the canonical request: one allocation a request.
    pub signed_headers: String,
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

impl Presented {
    /// The signed header names, lowercase, in the order signed; none is empty.
    pub fn signed_header_names(&self) -> impl Iterator<Item = &str> {
        self.signed_headers.split(';')
    }
}

/// `x-amz-*` headers a client may send without signing them. The AWS SDKs leave the first
/// two out of presigned URLs; neither changes what a request does to stored data (one
/// describes the client, the other asks for a checksum header in the response).
/// `x-amz-content-sha256` is bound whether it is listed or not: on S3 its value is the last
/// line of the canonical request, so changing it breaks the signature, and IAM and STS hash
/// the body themselves and never read it. Some signers (httpie's AWS plugin among them) send
/// it without listing it.
const MAY_BE_UNSIGNED: &[&str] = &[
    "x-amz-user-agent",
    "x-amz-checksum-mode",
    "x-amz-content-sha256",
];

/// The `x-amz-*` headers present but not signed, sorted. S3 refuses a request that has any:
/// an unsigned `x-amz-copy-source` added to a presigned PUT would otherwise turn it into a
/// copy of an object its holder was never given.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>
pub fn unsigned_amz_headers(parts: &Parts, presented: &Presented) -> Vec<String> {
    let mut unsigned: Vec<String> = parts
        .headers
        .keys()
        .map(|name| name.as_str())
        .filter(|name| name.starts_with("x-amz-") && !MAY_BE_UNSIGNED.contains(name))
        .filter(|name| {
            !presented
                .signed_header_names()
                .any(|signed| signed == *name)
        })
        .map(str::to_owned)
        .collect();
    unsigned.sort();
    unsigned.dedup();
    unsigned
}

fn malformed(message: impl Into<String>) -> SigV4Error {
    SigV4Error::Malformed(message.into())
}

/// Parses the request's authentication. `Ok(None)` when the request carries no Authorization
/// header and no X-Amz-Algorithm/X-Amz-Credential/X-Amz-Signature query parameters
/// (anonymous); `Err(UnsupportedAlgorithm)` for other Authorization schemes.
pub fn presented(parts: &Parts) -> Result<Option<Presented>, SigV4Error> {
    let params = amz_query_params(parts.uri.query().unwrap_or(""));
    let presigned = params.iter().any(|(name, _)| {
        matches!(
            &**name,
            "X-Amz-Algorithm" | "X-Amz-Credential" | "X-Amz-Signature"
        )
    });
    let mut authorization = authorization_headers(parts);
    match (authorization.next(), authorization.next(), presigned) {
        (None, _, false) => Ok(None),
        (None, _, true) => from_query(parts, &params).map(Some),
        (Some(_), Some(_), _) => Err(malformed("more than one Authorization header")),
        // S3 refuses this too ("Only one auth mechanism allowed"): which one would we check?
        (Some(_), None, true) => Err(malformed(
            "both an Authorization header and X-Amz-* query authentication",
        )),
        (Some(value), None, false) => from_header(parts, value).map(Some),
    }
}

/// The request's Authorization headers, less empty ones: an empty (or blank) Authorization
/// presents no credentials, so the request is anonymous, as S3 reads it; a request that
/// needs credentials is then refused `AccessDenied` by authorization, not a 400.
pub fn authorization_headers(parts: &Parts) -> impl Iterator<Item = &HeaderValue> {
    parts
        .headers
        .get_all(AUTHORIZATION)
        .iter()
        .filter(|v| !v.as_bytes().iter().all(u8::is_ascii_whitespace))
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

/// `X-Amz-Expires`: whole seconds, 1 to 604800 (a week), refused with S3's messages. S3
/// documents no message for 0, which would be a URL expired when it is made; it is refused
/// with the message for negative values.
fn expires(raw: &str) -> Result<u64, SigV4Error> {
    let seconds = raw
        .parse::<i64>()
        .map_err(|_| malformed("X-Amz-Expires should be a number"))?;
    if seconds <= 0 {
        return Err(malformed("X-Amz-Expires must be non-negative"));
    }
    u64::try_from(seconds)
        .ok()
        .filter(|secs| *secs <= MAX_EXPIRES_SECS)
        .ok_or_else(|| {
            malformed(
                "X-Amz-Expires must be less than a week (in seconds); that is, the given \
                 X-Amz-Expires must be less than 604800 seconds",
            )
        })
}

/// The presigned form: every `X-Amz-*` parameter once, percent-decoded.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>
fn from_query(parts: &Parts, params: &[QueryParam<'_>]) -> Result<Presented, SigV4Error> {
    let required = |name: &str| {
        query_param(params, name)?.ok_or_else(|| malformed(format!("the query has no {name}")))
    };
    if required("X-Amz-Algorithm")? != ALGORITHM {
        return Err(SigV4Error::UnsupportedAlgorithm);
    }
    let credential = parse_credential(&required("X-Amz-Credential")?)?;
    let signed_headers = parse_signed_headers(&required("X-Amz-SignedHeaders")?)?;
    let signature = parse_signature(&required("X-Amz-Signature")?)?;
    let amz_date = required("X-Amz-Date")?.into_owned();
    let request_time = timefmt::parse_amz_date(&amz_date)
        .ok_or_else(|| malformed("X-Amz-Date is not of the form 20150830T123600Z"))?;
    let expires_secs = expires(&required("X-Amz-Expires")?)?;
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

/// A query name (or value) percent-decoded, lossily: a name that is not UTF-8 matches none we
/// look for.
fn decode_lossy(escaped: &str) -> Cow<'_, str> {
    if escaped.contains('%') {
        percent_decode_str(escaped).decode_utf8_lossy()
    } else {
        Cow::Borrowed(escaped)
    }
}

/// A query parameter: its name decoded, its value still escaped.
type QueryParam<'q> = (Cow<'q, str>, &'q str);

/// The query's `X-Amz-*` parameters, the only ones authentication reads, names decoded once.
/// Allocates nothing for a query without any.
fn amz_query_params(query: &str) -> Vec<QueryParam<'_>> {
    raw_pairs(query)
        .map(|(name, value)| (decode_lossy(name), value))
        .filter(|(name, _)| name.starts_with("X-Amz-"))
        .collect()
}

/// The percent-decoded value of the first query parameter named `name` (names compared
/// decoded, lossily), decoding no other value: a presigned request's session token without
/// a pass over every parameter. `+` stays a plus, as the signature's canonical query reads it.
pub fn query_value<'q>(query: &'q str, name: &str) -> Option<Cow<'q, str>> {
    raw_pairs(query)
        .find(|(raw_name, _)| decode_lossy(raw_name) == name)
        .map(|(_, raw_value)| decode_lossy(raw_value))
}

/// The decoded value of the query parameter `name` among `params` (names decoded, values
/// raw); `Malformed` if it appears twice (which one was meant?) or does not decode to UTF-8.
fn query_param<'a>(
    params: &[QueryParam<'a>],
    name: &str,
) -> Result<Option<Cow<'a, str>>, SigV4Error> {
    let mut found = None;
    for &(ref decoded_name, raw_value) in params {
        if decoded_name != name {
            continue;
        }
        let value = if raw_value.contains('%') {
            percent_decode_str(raw_value)
                .decode_utf8()
                .map_err(|_| malformed(format!("{name} is not UTF-8")))?
        } else {
            Cow::Borrowed(raw_value)
        };
        if found.replace(value).is_some() {
            return Err(malformed(format!("{name} appears more than once")));
        }
    }
    Ok(found)
}

/// `AKID/20150830/us-east-1/iam/aws4_request`: exactly five parts, the last `aws4_request`.
/// The region may be empty; the date is checked against the request time later.
fn parse_credential(raw: &str) -> Result<Credential, SigV4Error> {
    let mut fields = raw.split('/');
    let mut field = || fields.next();
    let (Some(access_key), Some(date), Some(region), Some(service), Some(SCOPE_TERMINATOR), None) =
        (field(), field(), field(), field(), field(), field())
    else {
        return Err(malformed(
            "Credential must be ACCESS_KEY/YYYYMMDD/REGION/SERVICE/aws4_request",
        ));
    };
    if access_key.is_empty() || service.is_empty() {
        return Err(malformed("Credential has an empty access key or service"));
    }
    Ok(Credential::new(access_key, date, region, service))
}

fn parse_signed_headers(raw: &str) -> Result<String, SigV4Error> {
    if raw.split(';').any(str::is_empty) {
        return Err(malformed("SignedHeaders has an empty name"));
    }
    Ok(raw.to_ascii_lowercase())
}

/// 64 hex digits. Either case is read: the bytes are what get compared.
/// The 64 hex digits of a signature. Signers write lower case (`HexEncode` in the SigV4
/// spec); the same digits in upper case are not the signature that was calculated, and
/// accepting them would let a changed URL pass as the signed one.
fn parse_signature(raw: &str) -> Result<[u8; 32], SigV4Error> {
    let invalid = || malformed("Signature must be 64 hexadecimal digits");
    let digits: &[u8; 64] = raw.as_bytes().try_into().map_err(|_| invalid())?;
    let mut signature = [0u8; 32];
    let mut upper = false;
    for (byte, pair) in signature.iter_mut().zip(digits.chunks_exact(2)) {
        let (high, low) = (
            HEX_VALUE[usize::from(pair[0])],
            HEX_VALUE[usize::from(pair[1])],
        );
        if high == 0xFF || low == 0xFF {
            return Err(invalid());
        }
        upper |= (high | low) & UPPER != 0;
        *byte = (high & 0xF) << 4 | (low & 0xF);
    }
    match upper {
        true => Err(SigV4Error::SignatureMismatch),
        false => Ok(signature),
    }
}

/// The checks that need both the request and what it presents: the scope date is the request
/// date, `host` is signed (otherwise a signature could be replayed against another host), and
/// every signed header is there to be canonicalized.
fn check_consistent(parts: &Parts, p: Presented) -> Result<Presented, SigV4Error> {
    if p.amz_date.get(..8) != Some(p.credential.date()) {
        return Err(malformed(format!(
            "the credential date {} is not the date of the request time {}",
            p.credential.date(),
            p.amz_date
        )));
    }
    if !p.signed_header_names().any(|name| name == "host") {
        return Err(malformed("host must be one of the signed headers"));
    }
    if let Some(absent) = p
        .signed_header_names()
        .find(|name| !has_header(parts, name))
    {
        return Err(malformed(format!(
            "signed header {absent} is not in the request"
        )));
    }
    Ok(p)
}

fn has_header(parts: &Parts, name: &str) -> bool {
    header_name(parts, name).is_some() || (name == "host" && parts.uri.authority().is_some())
}

/// The request's header called `name` (lowercase, as signed header names are), found by
/// comparing names: for the handful of headers a request carries that costs less than a
/// lookup by `&str`, which validates `name` and hashes it byte by byte through a table.
fn header_name<'a>(parts: &'a Parts, name: &str) -> Option<&'a HeaderName> {
    parts.headers.keys().find(|key| key.as_str() == name)
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

/// `AWS4-HMAC-SHA256\n{amz_date}\n{date}/{region}/{service}/aws4_request\n{hex(sha256(cr))}`.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#create-string-to-sign>
pub fn string_to_sign(p: &Presented, canonical_request: &str) -> String {
    let mut hash = [0u8; 64];
    string_to_sign_pieces(p, sha256_hex_into(canonical_request.as_bytes(), &mut hash)).concat()
}

/// The string to sign, in pieces, so that verification can feed them to the HMAC without
/// joining them first.
fn string_to_sign_pieces<'a>(p: &'a Presented, canonical_sha256: &'a str) -> [&'a str; 13] {
    let c = &p.credential;
    [
        ALGORITHM,
        "\n",
        &p.amz_date,
        "\n",
        c.date(),
        "/",
        c.region(),
        "/",
        c.service(),
        "/",
        SCOPE_TERMINATOR,
        "\n",
        canonical_sha256,
    ]
}

/// Hex SHA-256 of `bytes`, written into `buffer`.
fn sha256_hex_into<'a>(bytes: &[u8], buffer: &'a mut [u8; 64]) -> &'a str {
    // 64 hex digits always fit, and hex digits are ASCII.
    hex::encode_to_slice(Sha256::digest(bytes), buffer).expect("64 bytes hold a SHA-256 in hex");
    std::str::from_utf8(buffer).expect("hex is ASCII")
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

/// Full verification: recomputes the signature with `key`, the signing key derived for
/// `p.credential`'s scope from the access key's secret (`signing_key`, or the cache in
/// `auth::signing_keys`), and compares it in constant time. Does not check the time: the
/// caller calls `check_time` too, so that it can map each failure to its protocol's error.
pub fn verify(
    parts: &Parts,
    p: &Presented,
    payload_hash: &str,
    key: &[u8; 32],
) -> Result<(), SigV4Error> {
    let matches = |canonical: &str| {
        let expected = signature(key, p, canonical);
        bool::from(expected.ct_eq(&p.signature))
    };
    if matches(&canonical_request(parts, p, payload_hash)) {
        return Ok(());
    }
    // An S3 client that escapes more than it must (`%2E` for `.`) signs the path exactly as it
    // sent it. Both spellings name the same decoded key, so either signature is honoured.
    let raw = parts.uri.path();
    let raw = if raw.is_empty() { "/" } else { raw };
    if p.credential.service() == "s3"
        && raw != canonical_uri(raw, true)
        && matches(&canonical_request_with(parts, p, payload_hash, |out| {
            out.push_str(raw)
        }))
    {
        return Ok(());
    }
    Err(SigV4Error::SignatureMismatch)
}

/// A browser form upload's credential (`x-amz-credential`), read as the Authorization
/// header's `Credential=` is.
pub fn form_credential(raw: &str) -> Result<Credential, SigV4Error> {
    parse_credential(raw)
}

/// Verifies a browser form upload's `x-amz-signature`: the hex HMAC-SHA256 of the base64
/// policy, exactly as sent, with the signing key of the credential's scope; compared in
/// constant time.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-post-example.html>
pub fn verify_form(policy_base64: &str, presented: &str, key: &[u8; 32]) -> Result<(), SigV4Error> {
    let presented = parse_signature(presented)?;
    let expected = hmac_sha256(key, policy_base64.as_bytes());
    match bool::from(expected.ct_eq(&presented)) {
        true => Ok(()),
        false => Err(SigV4Error::SignatureMismatch),
    }
}

#[cfg(test)]
mod tests;
