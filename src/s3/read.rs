//! GetObject and HeadObject: conditional requests with S3's precedence, byte ranges,
//! `partNumber`, `response-*` overrides and checksum mode, streamed from the blobs (or answered
//! from memory for bytes stored inline).
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html>

use std::io::{Read, Seek, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Response, StatusCode};
use http_body_util::BodyExt;
use tokio::sync::mpsc;

use super::checksum::{object_checksum, part_checksum, StoredChecksum};
use super::error::{Code, S3Error, S3Result};
use super::version::{with_version, Version};
use super::{finish, Ctx, Reply, Req};
use crate::objects::{IndexError, ObjectMeta, Stored};
use crate::timefmt::{format_http_date, parse_http_date};

/// A byte range of the object: `start..=end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

/// Parses `Range: bytes=a-b | a- | -n` against an object of `size` bytes. `Ok(None)`: serve
/// the whole object (no header, or one S3 ignores). `Err`: unsatisfiable (416).
pub fn parse_range(value: Option<&str>, size: u64) -> S3Result<Option<ByteRange>> {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.parse::<u64>().ok(), b.parse::<u64>().ok()) {
        (Some(start), Some(end)) if start <= end => (start, end.min(size.saturating_sub(1))),
        (Some(_), Some(_)) => return Ok(None),
        (Some(start), None) if b.is_empty() => (start, size.saturating_sub(1)),
        (None, Some(n)) if a.is_empty() => {
            if n == 0 {
                return Err(Code::InvalidRange.into());
            }
            (size.saturating_sub(n), size.saturating_sub(1))
        }
        _ => return Ok(None),
    };
    if range.0 >= size {
        return Err(Code::InvalidRange.into());
    }
    Ok(Some(ByteRange {
        start: range.0,
        end: range.1,
    }))
}

/// Evaluates If-Match / If-None-Match / If-(Un)Modified-Since with S3's precedence: a true
/// If-Match overrides a false If-Unmodified-Since, and a false If-None-Match overrides a true
/// If-Modified-Since.
pub fn check_conditions(
    headers: &HeaderMap,
    etag: &str,
    last_modified_ms: i64,
    prefix: &str,
) -> S3Result<()> {
    let get = |name: &str| {
        headers
            .get(format!("{prefix}{name}"))
            .and_then(|v| v.to_str().ok())
    };
    let matches = |list: &str| {
        list.split(',')
            .map(|t| t.trim().trim_start_matches("W/").trim_matches('"'))
            .any(|t| t == "*" || t == etag)
    };
    let modified = last_modified_ms / 1000;
    let since = |name: &str| {
        get(name)
            .and_then(parse_http_date)
            .map(crate::timefmt::unix_seconds)
    };
    let if_match = get("if-match").map(matches);
    let if_none_match = get("if-none-match").map(matches);
    if if_match == Some(false) {
        return Err(Code::PreconditionFailed.into());
    }
    if if_match.is_none() && since("if-unmodified-since").is_some_and(|t| modified > t) {
        return Err(Code::PreconditionFailed.into());
    }
    let not_modified = if prefix.is_empty() {
        Code::NotModified
    } else {
        Code::PreconditionFailed
    };
    if if_none_match == Some(true) {
        return Err(not_modified.into());
    }
    if if_none_match.is_none() && since("if-modified-since").is_some_and(|t| modified <= t) {
        return Err(not_modified.into());
    }
    Ok(())
}

/// An object's metadata, once its ACL has granted whatever authorization left to it (see
/// `Access::check_object_acl`): every handler that reads an object reads it here. Inline
/// bytes stay in the index (`Stored::Unread`); `open_object` reads them.
pub async fn lookup(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    version: &Version,
) -> S3Result<ObjectMeta> {
    lookup_with(ctx, bucket, key, version, false).await
}

async fn lookup_with(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    version: &Version,
    bytes: bool,
) -> S3Result<ObjectMeta> {
    let (bucket_name, key_name, version) = (bucket.to_owned(), key.to_owned(), version.clone());
    let found = match bytes {
        true => {
            ctx.index()
                .get_object_bytes(bucket_name, key_name, version)
                .await
        }
        false => ctx.index().get_object(bucket_name, key_name, version).await,
    };
    let meta = found.map_err(|e| match e {
        IndexError::NoSuchKey => S3Error::new(Code::NoSuchKey, "The specified key does not exist."),
        e => e.into(),
    })?;
    ctx.access
        .check_object_acl(bucket, key, meta.acl.as_ref())?;
    Ok(meta)
}

/// The `x-amz-version-id` a response about `meta` carries: its version id on a bucket that
/// has versioning (Enabled or Suspended), or when the request named a version; none on a
/// bucket never versioned, as S3 answers.
pub fn shown_version(req: &Req<'_>, meta: &ObjectMeta) -> Option<String> {
    super::version::shown(req, meta.version_id())
}

/// One segment's bytes, ready to read: its open blob file, or its inline bytes; for an
/// encrypted object, either of those with the data key, the part its chunks are bound to and
/// its plaintext size (`docs/encryption.md`).
pub enum Opened {
    File(std::fs::File),
    Inline(Bytes),
    Sealed {
        stored: Box<Opened>,
        key: std::sync::Arc<crate::crypto::sse::DataKey>,
        part: u32,
        size: u64,
    },
}

/// Looks an object up and opens its blobs, retrying when a concurrent overwrite removes a
/// blob between the lookup and the open. Open files stay readable after an unlink. An object
/// stored inline needs no file, and no trip to the blocking pool.
pub async fn open_object(
    ctx: &Ctx<'_>,
    (bucket, key): (&str, &str),
    version: &Version,
    customer: Option<&super::sse::Customer>,
) -> S3Result<(ObjectMeta, Vec<Opened>)> {
    for _ in 0..3 {
        let meta = lookup_with(ctx, bucket, key, version, true).await?;
        let data_key = super::sse::open(
            ctx,
            meta.sse.as_ref(),
            customer,
            super::sse::Reading::Object,
            (bucket, key),
        )?;
        let ids: Vec<_> = meta
            .segments
            .iter()
            .filter_map(|s| s.stored.blob().cloned())
            .collect();
        let files = match ids.is_empty() {
            true => Ok(Vec::new()),
            false => ctx.blobs().open_blobs(&ids).await,
        };
        match files {
            Ok(files) => {
                let mut files = files.into_iter();
                let opened = meta
                    .segments
                    .iter()
                    .map(|s| {
                        let stored = match &s.stored {
                            Stored::Inline(data) => Some(Opened::Inline(data.clone())),
                            Stored::Blob(_) => files.next().map(Opened::File),
                            Stored::Unread => None,
                        }?;
                        Some(match &data_key {
                            None => stored,
                            Some(key) => Opened::Sealed {
                                stored: Box::new(stored),
                                key: key.clone(),
                                part: s.part_number.unwrap_or(0),
                                size: s.size,
                            },
                        })
                    })
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        S3Error::internal("reading an object", "a blob was not opened")
                    })?;
                return Ok((meta, opened));
            }
            // Replaced between the lookup and the open: look again.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(S3Error::internal(
        "reading an object",
        "its blobs kept vanishing under concurrent overwrites",
    ))
}

/// The `partNumber` part of an object, as a byte range and the part count. A multipart
/// object's parts are found by the numbers they were uploaded as (an object completed from
/// parts 1, 3 and 7 has a part 7 and no part 2); a simple object is one part, number 1. A
/// number the object has no part for is `416 InvalidPartNumber`, naming the number asked
/// for and the count, as S3 answers a number beyond the count.
fn part_range(meta: &ObjectMeta, number: &str) -> S3Result<(ByteRange, u32)> {
    let n: u32 = number
        .parse()
        .ok()
        .filter(|n| (1..=10_000).contains(n))
        .ok_or_else(|| {
            S3Error::new(
                Code::InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive",
            )
        })?;
    let count = meta.parts.unwrap_or(1);
    let found = match meta.parts {
        Some(_) => meta
            .segments
            .iter()
            .enumerate()
            .position(|(idx, s)| s.number(idx) == n),
        None => (n == 1 && meta.segments.len() == 1).then_some(0),
    };
    let Some(idx) = found else {
        return Err(S3Error::from(Code::InvalidPartNumber)
            .with("PartNumberRequested", n.to_string())
            .with("ActualPartCount", count.to_string()));
    };
    let start: u64 = meta.segments[..idx].iter().map(|s| s.size).sum();
    let size = meta.segments[idx].size;
    if size == 0 {
        return Err(Code::InvalidRange.into());
    }
    Ok((
        ByteRange {
            start,
            end: start + size - 1,
        },
        count,
    ))
}

pub async fn get_object(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    read_object(ctx, &req, false).await
}

pub async fn head_object(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    read_object(ctx, &req, true).await
}

async fn read_object(ctx: &Ctx<'_>, req: &Req<'_>, head: bool) -> Reply {
    let (bucket, key, parts, version) = (req.bucket, req.key, req.parts, req.version);
    let customer = super::sse::for_read(ctx, &parts.headers)?;
    // HEAD needs only the metadata (and an SSE-C object's key checked); GET opens the blobs
    // at once, so that an overwrite after the lookup cannot take them away (an unlinked file
    // stays readable).
    let (meta, files) = match head {
        true => {
            let meta = lookup(ctx, bucket, key, version).await?;
            let reading = super::sse::Reading::Object;
            super::sse::open(
                ctx,
                meta.sse.as_ref(),
                customer.as_ref(),
                reading,
                (bucket, key),
            )?;
            (meta, Vec::new())
        }
        false => open_object(ctx, (bucket, key), version, customer.as_ref()).await?,
    };
    let version_id = shown_version(req, &meta);
    let etag = format!("\"{}\"", meta.etag);
    let last_modified =
        format_http_date(crate::timefmt::from_unix_seconds(meta.last_modified / 1000));
    match check_conditions(&parts.headers, &meta.etag, meta.last_modified, "") {
        // A 304 names the version the client already has, as S3 answers it (RFC 9110 15.4.5).
        Err(e) if e.code == Code::NotModified => {
            return finish(
                with_version(
                    Response::builder()
                        .status(StatusCode::NOT_MODIFIED)
                        .header("etag", etag)
                        .header("last-modified", last_modified),
                    version_id.as_deref(),
                ),
                crate::http::empty(),
            )
        }
        other => other?,
    }
    let param = |name: &str| ctx.query.get(name);
    let (range, parts_count) = match param("partNumber") {
        Some(_) if parts.headers.contains_key("range") => {
            return Err(S3Error::new(
                Code::InvalidRequest,
                "Cannot specify both Range header and partNumber query parameter",
            ))
        }
        Some(n) => {
            let (range, count) = part_range(&meta, n)?;
            (Some(range), meta.parts.map(|_| count))
        }
        None => {
            let header = parts.headers.get("range").and_then(|v| v.to_str().ok());
            (parse_range(header, meta.size)?, None)
        }
    };
    let mut builder = with_version(
        Response::builder()
            .header("etag", etag)
            .header("last-modified", last_modified)
            .header("accept-ranges", "bytes"),
        version_id.as_deref(),
    );
    builder = object_headers_out(builder, &meta, param)?;
    let applied = super::sse::applied(meta.sse.as_ref(), customer.as_ref());
    builder = super::sse::header_out(builder, &applied);
    builder = super::object_lock::headers_out(ctx, builder, bucket, key, &meta.lock);
    if let Some(count) = super::tagging::count_header(&meta.tags) {
        builder = builder.header("x-amz-tagging-count", count);
    }
    if matches!(version, Version::Current) {
        let bucket_state = req.found.existing()?;
        let expiry = super::lifecycle::expiration_header(
            ctx,
            bucket_state,
            key,
            meta.size,
            &meta.tags,
            meta.last_modified,
        );
        if let Some(expiry) = expiry {
            builder = builder.header("x-amz-expiration", expiry);
        }
    }
    if let Some(count) = parts_count.or(meta.parts.filter(|_| param("partNumber").is_some())) {
        builder = builder.header("x-amz-mp-parts-count", count);
    }
    let checksum_mode = parts
        .headers
        .get("x-amz-checksum-mode")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("enabled"));
    if checksum_mode {
        let part = param("partNumber").and_then(|n| n.parse().ok());
        if let Some(c) = checksum_of_read(&meta, part, range) {
            builder = builder
                .header(c.algorithm.header(), c.value)
                .header("x-amz-checksum-type", c.kind.name());
        }
    }
    let (start, len) = match range {
        Some(r) => {
            builder = builder.status(StatusCode::PARTIAL_CONTENT).header(
                "content-range",
                format!("bytes {}-{}/{}", r.start, r.end, meta.size),
            );
            (r.start, r.end - r.start + 1)
        }
        None => (0, meta.size),
    };
    builder = builder.header("content-length", len);
    if head {
        return finish(builder, crate::http::empty());
    }
    if let Some(whole) = inline_range(&files, &meta, start, len) {
        // Stored inline: the bytes came with the row.
        return finish(builder, crate::http::full(whole));
    }
    let buffer = ctx.blobs().buffer_size();
    if len <= SMALL_READ.min(buffer as u64) {
        // One trip to the blocking pool and a whole body: a small object does not need the
        // streaming machinery, and this is the path that decides small-GET throughput.
        let mut rx = read_segments(files, &meta, start, len, buffer);
        // `len` is at most the buffer size here.
        let mut whole = BytesMut::with_capacity(usize::try_from(len).unwrap_or(buffer));
        while let Some(read) = rx.recv().await {
            whole.extend_from_slice(&read?);
        }
        return finish(builder, crate::http::full(whole.freeze()));
    }
    let body = stream(files, &meta, start, len, buffer);
    finish(builder, body)
}

/// The checksum a read reports with checksum mode, as S3 does: the object's for the whole
/// object (no range, or one covering every byte); for a `partNumber` read of a composite
/// multipart object, the part's own; nothing for any other range, whose bytes no stored
/// checksum covers.
fn checksum_of_read(
    meta: &ObjectMeta,
    part: Option<usize>,
    range: Option<ByteRange>,
) -> Option<StoredChecksum<'_>> {
    if let Some(part) = part.and_then(|n| part_checksum(meta, n)) {
        return Some(part);
    }
    match range {
        Some(r) if r.start != 0 || r.end + 1 != meta.size => None,
        _ => object_checksum(meta),
    }
}

/// The stored headers, with `response-*` query overrides applied.
fn object_headers_out<'a>(
    mut b: http::response::Builder,
    meta: &ObjectMeta,
    param: impl Fn(&str) -> Option<&'a str>,
) -> S3Result<http::response::Builder> {
    let h = &meta.headers;
    let pairs = [
        (
            "content-type",
            "response-content-type",
            h.content_type.as_deref().or(Some("binary/octet-stream")),
        ),
        (
            "content-encoding",
            "response-content-encoding",
            h.content_encoding.as_deref(),
        ),
        (
            "content-disposition",
            "response-content-disposition",
            h.content_disposition.as_deref(),
        ),
        (
            "content-language",
            "response-content-language",
            h.content_language.as_deref(),
        ),
        (
            "cache-control",
            "response-cache-control",
            h.cache_control.as_deref(),
        ),
        ("expires", "response-expires", h.expires.as_deref()),
    ];
    for (name, override_param, stored) in pairs {
        if let Some(value) = param(override_param) {
            // A query value is the client's text: one that cannot be a header is its mistake.
            let value = http::HeaderValue::from_str(value).map_err(|_| {
                S3Error::new(
                    Code::InvalidArgument,
                    format!("{override_param} is not a valid header value"),
                )
            })?;
            b = b.header(name, value);
        } else if let Some(value) = stored {
            b = b.header(name, value);
        }
    }
    // Absent for STANDARD, as S3 answers.
    if let Some(class) = &h.storage_class {
        b = b.header("x-amz-storage-class", class.as_str());
    }
    if let Some(location) = &h.website_redirect {
        b = b.header("x-amz-website-redirect-location", location.as_str());
    }
    for (name, value) in &h.meta {
        // S3 returns a non-ASCII value RFC 2047-encoded, so headers stay ASCII.
        let value = super::rfc2047::encode(value);
        b = b.header(format!("x-amz-meta-{name}"), value.as_bytes());
    }
    Ok(b)
}

/// Largest read answered as one whole body rather than a stream.
const SMALL_READ: u64 = 128 * 1024;

/// The `len` bytes from `start` when every segment they touch is stored inline (one slice of
/// a segment's bytes needs no copy); `None` when a blob holds any of them.
pub fn inline_range(opened: &[Opened], meta: &ObjectMeta, start: u64, len: u64) -> Option<Bytes> {
    let mut pieces = Vec::new();
    for (source, from, take) in plan(opened.iter(), meta, start, len) {
        let data = match source {
            Opened::Inline(data) => data,
            // An encrypted inline segment is decrypted here too, without a trip to the
            // blocking pool (a few chunks at most). Damage falls back to the streaming path,
            // which refuses it and logs it.
            Opened::Sealed {
                stored,
                key,
                part,
                size,
            } => {
                let Opened::Inline(data) = &**stored else {
                    return None;
                };
                let mut out = Vec::with_capacity(usize::try_from(take).ok()?);
                crate::crypto::sse::read_range(
                    &mut std::io::Cursor::new(data.clone()),
                    key,
                    *part,
                    *size,
                    from,
                    take,
                    64 * 1024,
                    |piece| {
                        out.extend_from_slice(&piece);
                        true
                    },
                )
                .ok()?;
                pieces.push(Bytes::from(out));
                continue;
            }
            Opened::File(_) => return None,
        };
        let from = usize::try_from(from).ok()?;
        let to = from.checked_add(usize::try_from(take).ok()?)?;
        pieces.push(data.get(from..to).map(|_| data.slice(from..to))?);
    }
    match pieces.len() {
        0 => Some(Bytes::new()),
        1 => pieces.pop(),
        _ => Some(pieces.concat().into()),
    }
}

/// Which part of which segment a read of `len` bytes from `start` covers, in order:
/// (segment, offset in it, length).
fn plan<T>(
    segments: impl Iterator<Item = T>,
    meta: &ObjectMeta,
    start: u64,
    len: u64,
) -> Vec<(T, u64, u64)> {
    let mut plan = Vec::new();
    let (mut skip, mut left) = (start, len);
    for (source, segment) in segments.zip(&meta.segments) {
        if skip >= segment.size {
            skip -= segment.size;
            continue;
        }
        if left == 0 {
            break;
        }
        let take = (segment.size - skip).min(left);
        plan.push((source, skip, take));
        left -= take;
        skip = 0;
    }
    plan
}

/// A response body fed by `read_segments` through a channel of two frames: memory per
/// download stays bounded whatever the object's size.
fn stream(
    files: Vec<Opened>,
    meta: &ObjectMeta,
    start: u64,
    len: u64,
    buffer: usize,
) -> crate::http::Body {
    ChannelBody {
        rx: read_segments(files, meta, start, len, buffer),
    }
    .boxed()
}

/// Reads `len` bytes from `start` of an object whose segments are open, `buffer` bytes at a
/// time, on a blocking thread; the receiver yields them in order.
pub fn read_segments(
    files: Vec<Opened>,
    meta: &ObjectMeta,
    start: u64,
    len: u64,
    buffer: usize,
) -> mpsc::Receiver<std::io::Result<Bytes>> {
    let plan = plan(files.into_iter(), meta, start, len);
    let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(2);
    let (bucket, key, version_id) = (meta.bucket.clone(), meta.key.clone(), meta.version_id());
    crate::metrics::blocking::spawn(move || {
        for (source, from, take) in plan {
            let mut file = match source {
                Opened::Sealed {
                    stored,
                    key: data_key,
                    part,
                    size,
                } => {
                    let mut gone = false;
                    let emit = |piece: Bytes| {
                        gone = tx.blocking_send(Ok(piece)).is_err();
                        !gone
                    };
                    let read = match *stored {
                        Opened::File(mut file) => crate::crypto::sse::read_range(
                            &mut file, &data_key, part, size, from, take, buffer, emit,
                        ),
                        Opened::Inline(data) => crate::crypto::sse::read_range(
                            &mut std::io::Cursor::new(data),
                            &data_key,
                            part,
                            size,
                            from,
                            take,
                            buffer,
                            emit,
                        ),
                        Opened::Sealed { .. } => {
                            Err(std::io::Error::other("a segment sealed twice"))
                        }
                    };
                    if let Err(e) = read {
                        // Never altered bytes: the body fails (after the status: the
                        // connection is aborted, not ended cleanly).
                        tracing::error!(
                            bucket, key, version_id, part, error = %e,
                            "an encrypted object's stored bytes failed authentication or could not be read"
                        );
                        let _ = tx.blocking_send(Err(e));
                        return;
                    }
                    if gone {
                        return; // the client went away
                    }
                    continue;
                }
                Opened::File(file) => file,
                Opened::Inline(data) => {
                    let piece = usize::try_from(from)
                        .ok()
                        .zip(usize::try_from(from + take).ok())
                        .and_then(|(from, to)| data.get(from..to).map(|_| data.slice(from..to)));
                    let piece = piece.ok_or_else(|| {
                        std::io::Error::other("an inline segment is shorter than its size")
                    });
                    let failed = piece.is_err();
                    if tx.blocking_send(piece).is_err() || failed {
                        return;
                    }
                    continue;
                }
            };
            if let Err(e) = file.seek(SeekFrom::Start(from)) {
                let _ = tx.blocking_send(Err(e));
                return;
            }
            let mut remaining = take;
            while remaining > 0 {
                let n = usize::try_from(remaining).map_or(buffer, |r| r.min(buffer));
                let mut buf = BytesMut::zeroed(n);
                if let Err(e) = file.read_exact(&mut buf) {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
                remaining -= n as u64;
                if tx.blocking_send(Ok(buf.freeze())).is_err() {
                    return; // the client went away
                }
            }
        }
    });
    rx
}

struct ChannelBody {
    rx: mpsc::Receiver<std::io::Result<Bytes>>,
}

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        self.rx
            .poll_recv(cx)
            .map(|next| next.map(|r| r.map(hyper::body::Frame::data)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_as_s3_reads_them() {
        let r = |v: &str, size| parse_range(Some(v), size).map(|r| r.map(|r| (r.start, r.end)));
        assert_eq!(r("bytes=0-9", 100).unwrap(), Some((0, 9)));
        assert_eq!(r("bytes=90-200", 100).unwrap(), Some((90, 99)));
        assert_eq!(r("bytes=10-", 100).unwrap(), Some((10, 99)));
        assert_eq!(r("bytes=-10", 100).unwrap(), Some((90, 99)));
        assert_eq!(r("bytes=-500", 100).unwrap(), Some((0, 99)));
        assert_eq!(r("bytes=100-", 100).unwrap_err().code, Code::InvalidRange);
        assert_eq!(r("bytes=0-0", 0).unwrap_err().code, Code::InvalidRange);
        assert_eq!(r("bytes=5-1", 100).unwrap(), None);
        assert_eq!(r("bytes=0-1,3-4", 100).unwrap(), None);
        assert_eq!(r("items=0-1", 100).unwrap(), None);
    }

    #[test]
    fn parts_are_found_by_the_numbers_they_were_uploaded_as() {
        let segment = |size, part_number| crate::objects::Segment {
            stored: crate::objects::Stored::Blob(
                crate::storage::BlobId::parse(&"0".repeat(32)).unwrap(),
            ),
            size,
            etag: None,
            checksum: None,
            part_number,
        };
        let object = |parts, sizes: &[(u64, Option<u32>)]| ObjectMeta {
            bucket: "b".into(),
            key: "k".into(),
            size: sizes.iter().map(|(s, _)| s).sum(),
            etag: "e".into(),
            last_modified: 0,
            headers: Default::default(),
            checksum_algorithm: None,
            checksum: None,
            checksum_type: None,
            parts,
            segments: sizes.iter().map(|(s, n)| segment(*s, *n)).collect(),
            tags: Vec::new(),
            acl: None,
            version: String::new(),
            null_version: true,
            lock: crate::objects::LockState::default(),
            sse: None,
        };
        let r = |meta: &ObjectMeta, n: &str| {
            part_range(meta, n).map(|(r, count)| (r.start, r.end, count))
        };
        let refused = |meta: &ObjectMeta, n: &str| {
            let e = part_range(meta, n).unwrap_err();
            (e.code, e.details)
        };
        // Stored before numbers were kept: positions.
        let positional = object(Some(2), &[(10, None), (4, None)]);
        assert_eq!(r(&positional, "1").unwrap(), (0, 9, 2));
        assert_eq!(r(&positional, "2").unwrap(), (10, 13, 2));
        assert_eq!(
            refused(&positional, "3"),
            (
                Code::InvalidPartNumber,
                vec![
                    ("PartNumberRequested", "3".to_owned()),
                    ("ActualPartCount", "2".to_owned())
                ]
            )
        );
        // Completed from parts 1, 3 and 7.
        let sparse = object(Some(3), &[(10, Some(1)), (4, Some(3)), (2, Some(7))]);
        assert_eq!(r(&sparse, "1").unwrap(), (0, 9, 3));
        assert_eq!(r(&sparse, "3").unwrap(), (10, 13, 3));
        assert_eq!(r(&sparse, "7").unwrap(), (14, 15, 3));
        for missing in ["2", "4", "8"] {
            assert_eq!(
                refused(&sparse, missing),
                (
                    Code::InvalidPartNumber,
                    vec![
                        ("PartNumberRequested", missing.to_owned()),
                        ("ActualPartCount", "3".to_owned())
                    ]
                )
            );
        }
        let simple = object(None, &[(5, None)]);
        assert_eq!(r(&simple, "1").unwrap(), (0, 4, 1));
        assert_eq!(refused(&simple, "2").0, Code::InvalidPartNumber);
        for bad in ["0", "10001", "x"] {
            assert_eq!(r(&simple, bad).unwrap_err().code, Code::InvalidArgument);
        }
    }

    #[test]
    fn conditions_follow_s3_precedence() {
        let at = 1_700_000_000_000i64;
        let date = |secs: i64| format_http_date(crate::timefmt::from_unix_seconds(secs));
        let check = |pairs: &[(&'static str, String)]| {
            let mut h = HeaderMap::new();
            for (n, v) in pairs {
                h.insert(*n, v.parse().unwrap());
            }
            check_conditions(&h, "abc", at, "").err().map(|e| e.code)
        };
        let before = date(at / 1000 - 60);
        let after = date(at / 1000 + 60);
        assert_eq!(check(&[("if-match", "\"abc\"".into())]), None);
        assert_eq!(
            check(&[("if-match", "\"xyz\"".into())]),
            Some(Code::PreconditionFailed)
        );
        assert_eq!(
            check(&[("if-none-match", "\"abc\"".into())]),
            Some(Code::NotModified)
        );
        assert_eq!(
            check(&[("if-modified-since", after.clone())]),
            Some(Code::NotModified)
        );
        assert_eq!(check(&[("if-modified-since", before.clone())]), None);
        assert_eq!(
            check(&[("if-unmodified-since", before.clone())]),
            Some(Code::PreconditionFailed)
        );
        // If-Match true wins over If-Unmodified-Since false.
        assert_eq!(
            check(&[
                ("if-match", "\"abc\"".into()),
                ("if-unmodified-since", before.clone())
            ]),
            None
        );
        // If-None-Match false wins over If-Modified-Since true... and the request proceeds.
        assert_eq!(
            check(&[
                ("if-none-match", "\"xyz\"".into()),
                ("if-modified-since", after)
            ]),
            None
        );
    }
}
