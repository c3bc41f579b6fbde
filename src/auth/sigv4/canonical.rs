//! The canonical request of SigV4: the request rebuilt in the one spelling client and server
//! both sign, whatever escaping and spacing travelled on the wire.
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#create-canonical-request>
//!
//! Every signed request is canonicalized, so this is the hot path of verification
//! (`benches/sigv4.rs`): pieces are written into one buffer, and what needs no re-encoding
//! is borrowed rather than copied.

use std::borrow::Cow;

use http::header::{HeaderValue, HOST};
use http::request::Parts;
use percent_encoding::{percent_decode_str, percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::{Location, Presented};

/// AWS's `UriEncode`: every byte but the RFC 3986 unreserved characters `A-Za-z0-9-._~` is
/// percent-encoded with uppercase hex.
pub const URI_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The bytes `UriEncode` leaves as they are (the complement of `URI_ENCODE`), as a table: it is
/// consulted for every byte of the path and the query of every request.
const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0u8;
    loop {
        table[c as usize] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~');
        if c == u8::MAX {
            break table;
        }
        c += 1;
    }
};

/// The canonical request. `payload_hash` is the hex SHA-256 of the body, or the literal the
/// client put in x-amz-content-sha256 (e.g. UNSIGNED-PAYLOAD, STREAMING-...), chosen by the
/// caller. S3-ness (`p.credential.service() == "s3"`) selects S3's single URI encoding of the
/// path; other services encode it twice. For presigned requests X-Amz-Signature is left out.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#create-canonical-request>
///
/// Built in one buffer: this runs on every signed request, and each piece borrowed from the
/// request rather than copied keeps verification within its budget (`benches/sigv4.rs`).
pub fn canonical_request(parts: &Parts, p: &Presented, payload_hash: &str) -> String {
    canonical_request_with(parts, p, payload_hash, |out| {
        push_canonical_uri(out, parts.uri.path(), p.credential.service() == "s3");
    })
}

/// The canonical request with the canonical URI `push_uri` writes.
pub(super) fn canonical_request_with(
    parts: &Parts,
    p: &Presented,
    payload_hash: &str,
    push_uri: impl FnOnce(&mut String),
) -> String {
    let presigned = matches!(p.location, Location::Query { .. });
    let query = parts.uri.query().unwrap_or("");
    let mut out = String::with_capacity(256 + 2 * (parts.uri.path().len() + query.len()));
    out.push_str(parts.method.as_str());
    out.push('\n');
    push_uri(&mut out);
    out.push('\n');
    push_canonical_query(&mut out, query, presigned);
    out.push('\n');
    for name in p.signed_header_names() {
        out.push_str(name);
        out.push(':');
        push_canonical_header_value(&mut out, parts, name);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&p.signed_headers);
    out.push('\n');
    out.push_str(payload_hash);
    out
}

/// The canonical URI of `path` (see `push_canonical_uri`).
pub(super) fn canonical_uri(path: &str, s3: bool) -> String {
    let mut out = String::with_capacity(path.len() + 16);
    push_canonical_uri(&mut out, path, s3);
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
fn push_canonical_uri(out: &mut String, path: &str, s3: bool) {
    let start = out.len();
    if s3
        && path
            .bytes()
            .all(|b| b == b'/' || UNRESERVED[usize::from(b)])
    {
        // Nothing to decode or encode in any segment: the path is its own canonical form.
        out.push_str(path);
    } else if s3 {
        for (i, segment) in path.split('/').enumerate() {
            if i > 0 {
                out.push('/');
            }
            out.push_str(&reencode(segment));
        }
    } else {
        for (i, segment) in normalized_segments(path).into_iter().enumerate() {
            if i > 0 {
                out.push('/');
            }
            out.extend(percent_encode(reencode(segment).as_bytes(), URI_ENCODE));
        }
    }
    if out.len() == start {
        out.push('/');
    }
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

/// The canonical query of `query` (see `push_canonical_query`).
#[cfg(test)]
pub(super) fn canonical_query(query: &str, presigned: bool) -> String {
    let mut out = String::new();
    push_canonical_query(&mut out, query, presigned);
    out
}

/// Every `name=value` pair, decoded and re-encoded with `UriEncode` (so `/` becomes `%2F`
/// and `+` stays a plus, `%2B`: AWS clients send spaces as `%20`), sorted by name then value,
/// joined with `&`.
fn push_canonical_query(out: &mut String, query: &str, presigned: bool) {
    if query.is_empty() {
        return;
    }
    // Room for the pairs of nearly any request (a presigned URL has seven); more just grow it.
    let mut pairs = Vec::with_capacity(16);
    pairs.extend(raw_pairs(query).filter_map(|(name, value)| {
        let name = reencode(name);
        let own_signature = presigned && name == "X-Amz-Signature";
        (!own_signature).then(|| (name, reencode(value)))
    }));
    pairs.sort_unstable();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
}

/// The raw query's pairs, still escaped, split at the first `=` (none: an empty value).
/// Empty pieces, as in `a=1&&b=2`, are skipped.
pub(super) fn raw_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| piece.split_once('=').unwrap_or((piece, "")))
}

/// `escaped` percent-decoded, then `UriEncode`d. Borrowed when that would change nothing, as
/// for nearly everything clients send.
pub(super) fn reencode(escaped: &str) -> Cow<'_, str> {
    if is_uri_encoded(escaped) {
        return Cow::Borrowed(escaped);
    }
    let bytes: Vec<u8> = percent_decode_str(escaped).collect();
    Cow::Owned(percent_encode(&bytes, URI_ENCODE).to_string())
}

/// Whether `s` is already exactly what `UriEncode` makes of its decoded bytes: unreserved
/// characters, and `%` escapes in uppercase hex of bytes that are not unreserved.
fn is_uri_encoded(s: &str) -> bool {
    let unreserved = |b: u8| UNRESERVED[usize::from(b)];
    let upper_hex = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    };
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if unreserved(b) {
            continue;
        }
        let escaped = match (
            b,
            bytes.next().and_then(upper_hex),
            bytes.next().and_then(upper_hex),
        ) {
            (b'%', Some(high), Some(low)) => high << 4 | low,
            _ => return false,
        };
        if unreserved(escaped) {
            return false;
        }
    }
    true
}

/// The canonical value of header `name` (see `push_canonical_header_value`).
#[cfg(test)]
pub(super) fn canonical_header_value(parts: &Parts, name: &str) -> String {
    let mut out = String::new();
    push_canonical_header_value(&mut out, parts, name);
    out
}

/// Every value of the header, each trimmed with inner runs of spaces collapsed, joined by
/// `,`. `host` falls back on the URI's authority (HTTP/2, or an absolute-form request line).
/// A value that is not UTF-8 is read lossily and so will not verify; no client signs one.
fn push_canonical_header_value(out: &mut String, parts: &Parts, name: &str) {
    // Found by comparing names (see `header_name`). A header sent once is taken as found; only
    // one sent more than once is looked up, since `get_all` promises the order of its values.
    // When no header is sent twice (as many values as names) the first match is the only one.
    let single_valued = parts.headers.len() == parts.headers.keys_len();
    let mut found = parts.headers.iter().filter(|(key, _)| key.as_str() == name);
    let first = found.next();
    let second = if single_valued { None } else { found.next() };
    match (first, second) {
        (None, _) => {
            if name == HOST.as_str() {
                if let Some(authority) = parts.uri.authority() {
                    out.push_str(authority.as_str());
                }
            }
        }
        (Some((_, value)), None) => push_canonical_value(out, value),
        (Some((key, _)), Some(_)) => {
            for (i, value) in parts.headers.get_all(key).iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_canonical_value(out, value);
            }
        }
    }
}

fn push_canonical_value(out: &mut String, value: &HeaderValue) {
    match std::str::from_utf8(value.as_bytes()) {
        Ok(value) => push_collapsed(out, value),
        Err(_) => push_collapsed(out, &String::from_utf8_lossy(value.as_bytes())),
    }
}

/// `value` trimmed, with each inner run of spaces and tabs replaced by one space. Spaces and
/// tabs are ASCII, so the words between them are whole UTF-8 sequences.
pub(super) fn push_collapsed(out: &mut String, value: &str) {
    if is_collapsed(value) {
        out.push_str(value);
        return;
    }
    let mut word_start = None;
    let mut first = true;
    for (i, byte) in value.bytes().enumerate() {
        match (byte, word_start) {
            (b' ' | b'\t', Some(start)) => {
                if !first {
                    out.push(' ');
                }
                out.push_str(&value[start..i]);
                (word_start, first) = (None, false);
            }
            (b' ' | b'\t', None) | (_, Some(_)) => {}
            (_, None) => word_start = Some(i),
        }
    }
    if let Some(start) = word_start {
        if !first {
            out.push(' ');
        }
        out.push_str(&value[start..]);
    }
}

/// Whether `value` has nothing to collapse: no tab, no leading, trailing or repeated space.
/// Nearly every value qualifies; `memchr2` skips from space to space, so a long one (a session
/// token) costs a vector scan rather than a branch per byte.
fn is_collapsed(value: &str) -> bool {
    let bytes = value.as_bytes();
    if bytes.first() == Some(&b' ') || bytes.last() == Some(&b' ') {
        return false;
    }
    let mut from = 0;
    while let Some(found) = memchr::memchr2(b' ', b'\t', &bytes[from..]) {
        let at = from + found;
        if bytes[at] == b'\t' || bytes.get(at + 1) == Some(&b' ') {
            return false;
        }
        from = at + 1;
    }
    true
}
