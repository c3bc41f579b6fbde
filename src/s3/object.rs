//! PutObject and DeleteObject, and what the other write paths share: the stored headers,
//! streaming a body into a blob while digesting it, and the integrity checks S3 makes.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html>

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, Response};

use super::body::{announced_trailer, multiple_checksums, BodyReader};
use super::checksum::{
    parse_checksum, parse_content_md5, Algorithm, BodyDigests, ChecksumType, Digests,
};
use super::error::{Code, S3Error, S3Result};
use super::version::with_version;
use super::{finish, Ctx, Reply, Req};
use crate::crypto::sse::{DataKey, Record, Sealer};
use crate::objects::{now_ms, ObjectHeaders, ObjectMeta, Segment, Stored, WriteCondition};
use crate::storage::{BlobId, BlobWriter};

/// S3's limit on a key: 1024 bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 1024;
/// S3's limit on user metadata: 2 KB of names and values.
const MAX_META_BYTES: usize = 2048;

pub fn check_key(key: &str) -> S3Result<()> {
    if key.len() > MAX_KEY_BYTES {
        return Err(Code::KeyTooLongError.into());
    }
    Ok(())
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The storage classes a general purpose bucket takes. They have no physical effect here
/// (every object is on the same disks, readable at once): the class is stored and reported
/// as sent. `OUTPOSTS`, `SNOW`, `EXPRESS_ONEZONE`, `FSX_OPENZFS` and `FSX_ONTAP` belong to
/// other kinds of bucket (S3 on Outposts, Snowball, directory buckets, FSx access points) and
/// are refused, as a general purpose bucket refuses them.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html#AmazonS3-PutObject-request-header-StorageClass>
pub const STORAGE_CLASSES: &[&str] = &[
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
];

/// `x-amz-storage-class` on a write: `None` when absent or `STANDARD` (S3 reports nothing
/// for it on GET/HEAD), else the class as sent; `InvalidStorageClass` for any other value.
pub fn storage_class(headers: &HeaderMap) -> S3Result<Option<String>> {
    let Some(value) = headers.get("x-amz-storage-class") else {
        return Ok(None);
    };
    match value.to_str().ok() {
        Some("STANDARD") => Ok(None),
        Some(class) if STORAGE_CLASSES.contains(&class) => Ok(Some(class.to_owned())),
        _ => Err(Code::InvalidStorageClass.into()),
    }
}

/// A metadata value as it will be stored: one that could not be sent back in a header (a
/// control character such as CR, LF or NUL, raw or from an encoded-word) is refused now,
/// rather than stored and answered with a 500 on every later GET.
fn meta_value(name: &str, value: &HeaderValue) -> S3Result<String> {
    // Non-ASCII values arrive as raw bytes (kept as UTF-8 where valid, else lossily) or as
    // RFC 2047 encoded-words, which S3 decodes before storing.
    let raw = String::from_utf8_lossy(value.as_bytes());
    let value = super::rfc2047::decode(&raw).into_owned();
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(S3Error::new(
            Code::InvalidArgument,
            format!("The value of x-amz-meta-{name} holds a control character."),
        ));
    }
    Ok(value)
}

/// S3's limit on `x-amz-website-redirect-location`.
const MAX_REDIRECT_BYTES: usize = 2048;

/// `x-amz-website-redirect-location` on a write: a path on the same website (`/…`) or an
/// absolute `http://` or `https://` URL, at most 2 KB, as S3 requires.
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/how-to-page-redirect.html>
pub fn website_redirect(headers: &HeaderMap) -> S3Result<Option<String>> {
    let Some(value) = headers.get("x-amz-website-redirect-location") else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| S3Error::from(Code::InvalidRedirectLocation))?;
    if value.len() > MAX_REDIRECT_BYTES {
        return Err(S3Error::new(
            Code::InvalidRedirectLocation,
            "The length of website redirect location cannot exceed 2,048 characters.",
        ));
    }
    let lower = value.to_ascii_lowercase();
    if !(value.starts_with('/') || lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(Code::InvalidRedirectLocation.into());
    }
    Ok(Some(value.to_owned()))
}

/// The content headers and `x-amz-meta-*` a request carries, as stored with the object.
pub fn object_headers(headers: &HeaderMap) -> S3Result<ObjectHeaders> {
    let storage_class = storage_class(headers)?;
    let website_redirect = website_redirect(headers)?;
    let mut meta = Vec::new();
    let mut size = 0;
    for (name, value) in headers {
        let Some(short) = name.as_str().strip_prefix("x-amz-meta-") else {
            continue;
        };
        let value = meta_value(short, value)?;
        size += short.len() + value.len();
        meta.push((short.to_owned(), value));
    }
    if size > MAX_META_BYTES {
        return Err(Code::MetadataTooLarge.into());
    }
    Ok(ObjectHeaders {
        content_type: header(headers, "content-type"),
        content_encoding: header(headers, "content-encoding")
            .map(|v| strip_aws_chunked(&v))
            .filter(|v| !v.is_empty()),
        content_disposition: header(headers, "content-disposition"),
        content_language: header(headers, "content-language"),
        cache_control: header(headers, "cache-control"),
        expires: header(headers, "expires"),
        meta,
        storage_class,
        website_redirect,
    })
}

/// `aws-chunked` is a transfer detail of the upload, not an encoding of the object: it is
/// taken out, and the rest kept exactly as sent (`deflate, gzip` keeps its space), as S3
/// returns it.
fn strip_aws_chunked(v: &str) -> String {
    let chunked = |e: &str| e.trim().eq_ignore_ascii_case("aws-chunked");
    if !v.split(',').any(chunked) {
        return v.to_owned();
    }
    let kept: Vec<&str> = v.split(',').filter(|e| !chunked(e)).collect();
    kept.join(",").trim().to_owned()
}

/// What the client asked us to check the body against.
#[derive(Debug, Default)]
pub struct Expected {
    pub md5: Option<[u8; 16]>,
    /// A checksum given in a header (`x-amz-checksum-*`), or announced for the trailer, or
    /// only named (`x-amz-sdk-checksum-algorithm`: computed and stored, nothing to compare).
    pub checksum: Option<(Algorithm, Option<String>)>,
    /// The checksum's value comes in the aws-chunked trailer (`x-amz-trailer`).
    pub in_trailer: bool,
}

pub fn expected(headers: &HeaderMap) -> S3Result<Expected> {
    let md5 = match headers.get("content-md5") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(parse_content_md5)
                .ok_or(S3Error::from(Code::InvalidDigest))?,
        ),
    };
    // Every checksum given is one to verify: S3 takes one, so more are refused rather than
    // one of them being checked. A value that is not text still counts as given.
    let trailer = announced_trailer(headers)?;
    let mut given = Algorithm::ALL.into_iter().filter_map(|a| {
        let value = headers.get(a.header())?;
        Some((
            a,
            Some(String::from_utf8_lossy(value.as_bytes()).into_owned()),
        ))
    });
    let header_checksum = given.next();
    if given.next().is_some() || (header_checksum.is_some() && trailer.is_some()) {
        return Err(multiple_checksums());
    }
    let (checksum, in_trailer) = match (header_checksum, trailer) {
        (Some(given), _) => (Some(given), false),
        (None, Some(algorithm)) => (Some((algorithm, None)), true),
        (None, None) => (named_algorithm(headers).map(|a| (a, None)), false),
    };
    Ok(Expected {
        md5,
        checksum,
        in_trailer,
    })
}

/// The algorithm a client names without giving a value: computed and stored.
fn named_algorithm(headers: &HeaderMap) -> Option<Algorithm> {
    let named = |name| header(headers, name).and_then(|a| Algorithm::from_name(&a));
    named("x-amz-sdk-checksum-algorithm").or_else(|| named("x-amz-checksum-algorithm"))
}

/// Checks a body's digests against Content-MD5 and the checksum, given in a header or in the
/// aws-chunked trailer.
pub fn check_digests(
    digests: &Digests,
    expected: &Expected,
    trailers: &[(String, String)],
) -> S3Result<()> {
    if expected.md5.is_some_and(|md5| md5 != digests.md5) {
        return Err(S3Error::new(
            Code::BadDigest,
            "The Content-MD5 you specified did not match what we received.",
        ));
    }
    let Some((algorithm, given)) = &expected.checksum else {
        return Ok(());
    };
    let given = match given {
        Some(given) => Some(given.as_str()),
        // The body reader lets through only the announced trailer; its absence here would be
        // a checksum silently unchecked, so it is refused again.
        None if expected.in_trailer => Some(
            trailers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(algorithm.header()))
                .map(|(_, v)| v.as_str())
                .ok_or(S3Error::from(Code::MalformedTrailerError))?,
        ),
        None => None,
    };
    let Some(given) = given.map(str::trim) else {
        return Ok(());
    };
    if parse_checksum(*algorithm, given).is_none() {
        let place = match expected.in_trailer {
            true => "trailing header",
            false => "header",
        };
        return Err(S3Error::new(
            Code::InvalidRequest,
            format!("Value for {} {place} is invalid.", algorithm.header()),
        ));
    }
    if digests.checksum(*algorithm) != Some(given) {
        return Err(S3Error::new(
            Code::BadDigest,
            format!(
                "The {} you specified did not match the calculated checksum.",
                algorithm.header()
            ),
        ));
    }
    Ok(())
}

/// Digests a small body read whole (a policy, a DeleteObjects document) and checks it as
/// `check_digests` does.
pub fn check_whole_body(
    body: &[u8],
    expected: &Expected,
    trailers: &[(String, String)],
) -> S3Result<()> {
    let algorithms: Vec<Algorithm> = expected.checksum.iter().map(|(a, _)| *a).collect();
    let mut digests = BodyDigests::new(&algorithms);
    digests.update(body);
    check_digests(&digests.finish(), expected, trailers)
}

/// Where a written object's bytes come from: a request body, or a form's file part.
pub trait Source {
    /// The next run of bytes, or `None` once all were read and verified.
    fn next(&mut self) -> impl std::future::Future<Output = S3Result<Option<Bytes>>> + Send;
    /// How many bytes the source says it holds, when it says.
    fn announced_len(&self) -> Option<u64>;
    /// Trailing checksums, known at the end.
    fn trailers(&self) -> &[(String, String)];
}

impl Source for BodyReader {
    fn next(&mut self) -> impl std::future::Future<Output = S3Result<Option<Bytes>>> + Send {
        BodyReader::next(self)
    }

    fn announced_len(&self) -> Option<u64> {
        BodyReader::announced_len(self)
    }

    fn trailers(&self) -> &[(String, String)] {
        BodyReader::trailers(self)
    }
}

/// A body stored (in a committed blob, or in memory to be stored inline with its row), with
/// its digests.
pub struct Written {
    pub stored: Stored,
    pub size: u64,
    pub digests: Digests,
}

impl Written {
    /// Its blob, to remove when the write it was for fails.
    pub fn blobs(&self) -> Vec<BlobId> {
        self.stored.blob().cloned().into_iter().collect()
    }
}

/// How a write's bytes are encrypted (`docs/encryption.md`): the data key of the version (or
/// upload), and the part its chunks are bound to (0 for a whole object).
#[derive(Clone)]
pub struct Encrypt {
    pub key: std::sync::Arc<DataKey>,
    pub part: u32,
}

impl Encrypt {
    /// The ETag stored for plaintext whose MD5 is `md5_hex`, encrypted as `encrypt` says
    /// (SSE-C shows no MD5 of the plaintext: `DataKey::etag`).
    pub fn etag(encrypt: Option<&Encrypt>, md5_hex: String) -> String {
        match encrypt {
            Some(e) => e.key.etag(md5_hex),
            None => md5_hex,
        }
    }
}

/// Streams `reader` into a new blob, digesting it, and checks Content-MD5 and the checksum
/// (from a header or the trailer). The blob is committed only when every check passed; on
/// any failure nothing is left behind. A body that announces at most `inline_max` bytes is
/// read into memory instead, to be stored inline with its row (`docs/inline.md`).
///
/// Each full buffer is digested (MD5, checksums) and written on a blocking thread while the
/// next one is read from the network (and, for signed payloads, hashed by the reader): one
/// upload keeps two cores busy, and at most two buffers of it are in memory.
///
/// With `encrypt`, the digests are of the plaintext and what is stored (inline or in the
/// blob) is its encrypted segment, sealed chunk by chunk in the same blocking step.
pub async fn write_body<S: Source + Send>(
    ctx: &Ctx<'_>,
    mut reader: S,
    expected: &Expected,
    encrypt: Option<&Encrypt>,
) -> S3Result<Written> {
    let algorithms: Vec<Algorithm> = expected.checksum.iter().map(|(a, _)| *a).collect();
    if let Some(len) = reader.announced_len().filter(|n| *n <= ctx.inline_max()) {
        // The reader holds the body to the length it announced: memory stays bounded.
        let mut all = BytesMut::with_capacity(usize::try_from(len).unwrap_or(0));
        while let Some(data) = reader.next().await? {
            all.extend_from_slice(&data);
        }
        let mut digests = BodyDigests::new(&algorithms);
        digests.update(&all);
        let digests = digests.finish();
        check_digests(&digests, expected, reader.trailers())?;
        let size = all.len() as u64;
        let stored = match encrypt {
            Some(e) => Bytes::from(Sealer::seal_all(&e.key, e.part, &all)),
            None => all.freeze(),
        };
        return Ok(Written {
            size,
            stored: Stored::Inline(stored),
            digests,
        });
    }
    let buffer = ctx.blobs().buffer_size();
    let mut sink = Sink::Idle(Box::new((
        ctx.blobs().writer(),
        BodyDigests::new(&algorithms),
        encrypt.map(|e| Sealer::new(&e.key, e.part)),
    )));
    let mut batch = BytesMut::new();
    let mut size = 0u64;
    while let Some(data) = reader.next().await? {
        size += data.len() as u64;
        batch.extend_from_slice(&data);
        if batch.len() >= buffer {
            sink = sink.send(batch.split().freeze()).await?;
        }
    }
    let (mut writer, mut digests, sealer) = sink.settle().await?;
    // The tail, which is all of a small body, is digested here and written by the commit's
    // single blocking trip.
    digests.update(&batch);
    match sealer {
        Some(mut sealer) => {
            let mut out = Vec::new();
            sealer.push(&batch, &mut out);
            sealer.finish(&mut out);
            writer.write(&out).await?;
        }
        None => writer.write(&batch).await?,
    }
    let digests = digests.finish();
    check_digests(&digests, expected, reader.trailers())?;
    let (blob, _stored_len) = writer.commit().await?;
    Ok(Written {
        stored: Stored::Blob(blob),
        size,
        digests,
    })
}

/// The blocking half of `write_body`: idle, or digesting and writing one batch.
type SinkState = (BlobWriter, BodyDigests, Option<Sealer>);

enum Sink {
    Idle(Box<SinkState>),
    Busy(tokio::task::JoinHandle<std::io::Result<SinkState>>),
}

impl Sink {
    /// Waits for the batch in flight, then hands `batch` to a blocking thread. A sink dropped
    /// while busy (the upload failed) lets its thread finish; the writer then removes its
    /// temporary file.
    async fn send(self, batch: Bytes) -> std::io::Result<Sink> {
        let (mut writer, mut digests, mut sealer) = self.settle().await?;
        Ok(Sink::Busy(crate::metrics::blocking::spawn(move || {
            digests.update(&batch);
            match &mut sealer {
                Some(sealer) => {
                    let mut out = Vec::new();
                    sealer.push(&batch, &mut out);
                    writer.write_blocking(&out)?;
                }
                None => writer.write_blocking(&batch)?,
            }
            Ok((writer, digests, sealer))
        })))
    }

    async fn settle(self) -> std::io::Result<SinkState> {
        match self {
            Sink::Idle(idle) => Ok(*idle),
            Sink::Busy(job) => job.await.map_err(std::io::Error::other)?,
        }
    }
}

/// `If-None-Match: *` or `If-Match: <etag>` on a write.
pub fn write_condition(headers: &HeaderMap) -> S3Result<WriteCondition> {
    if let Some(v) = header(headers, "if-none-match") {
        if v.trim() == "*" {
            return Ok(WriteCondition::IfAbsent);
        }
        return Err(S3Error::new(
            Code::NotImplemented,
            "If-None-Match on a write only supports *.",
        ));
    }
    Ok(match header(headers, "if-match") {
        Some(v) => WriteCondition::IfEtag(v.trim().trim_matches('"').to_owned()),
        None => WriteCondition::Always,
    })
}

pub async fn put_object(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let (bucket, key, parts, reader) = (req.bucket, req.key, req.parts, req.body);
    check_key(key)?;
    // An overwrite replaces the tags too: the new object has the header's, or none.
    let tags = super::tagging::header_tags(&parts.headers)?.unwrap_or_default();
    // Refuse before reading the body: with Expect: 100-continue the client never sends it.
    let prepared = prepare(ctx, &req.found, &parts.headers, tags)?;
    let put = write_object(ctx, bucket, key, prepared, reader).await?;
    finish(put.response(Response::builder()), crate::http::empty())
}

/// What a whole-object write (PutObject, a browser form upload) takes from its headers,
/// checked before its body is read.
pub struct Prepared {
    headers: ObjectHeaders,
    tags: crate::objects::Tags,
    expected: Expected,
    condition: WriteCondition,
    acl: Option<crate::objects::Acl>,
    lock: crate::objects::LockState,
    /// SSE-S3 (asked for, or the bucket's default), SSE-C, or none.
    encryption: super::sse::Encryption,
}

/// Reads and checks a whole-object write's headers (`headers`: the request's, or a form's
/// fields as headers) against the bucket.
pub fn prepare(
    ctx: &Ctx<'_>,
    found: &super::Found,
    headers: &HeaderMap,
    tags: crate::objects::Tags,
) -> S3Result<Prepared> {
    let object_headers = object_headers(headers)?;
    let expected = expected(headers)?;
    let condition = write_condition(headers)?;
    let state = found.existing()?;
    let acl = super::acl::for_object_write(ctx, state, headers)?;
    let lock = super::object_lock::from_headers(state, headers)?;
    super::object_lock::require_integrity(state, headers, &expected)?;
    let encryption = super::sse::for_write(ctx, state, headers)?;
    Ok(Prepared {
        headers: object_headers,
        tags,
        expected,
        condition,
        acl,
        lock,
        encryption,
    })
}

/// A whole object written: what its response says.
pub struct Put {
    pub etag: String,
    pub version_id: Option<String>,
    pub checksum: Option<(Algorithm, Option<String>)>,
    /// `x-amz-expiration`, when a lifecycle rule will expire the object.
    pub expiration: Option<String>,
    /// How it is stored encrypted.
    pub encryption: super::sse::Applied,
}

impl Put {
    /// PutObject's response headers: ETag, the version id, the checksum, the expiry.
    pub fn response(&self, builder: http::response::Builder) -> http::response::Builder {
        let mut response = with_version(
            builder.header("etag", format!("\"{}\"", self.etag)),
            self.version_id.as_deref(),
        );
        if let Some((algorithm, Some(value))) = &self.checksum {
            response = response
                .header(algorithm.header(), value)
                .header("x-amz-checksum-type", ChecksumType::FullObject.name());
        }
        if let Some(expiration) = &self.expiration {
            response = response.header("x-amz-expiration", expiration);
        }
        super::sse::header_out(response, &self.encryption)
    }
}

/// Streams `reader` to storage and publishes the object as `prepared` says.
pub async fn write_object<S: Source + Send>(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    prepared: Prepared,
    reader: S,
) -> S3Result<Put> {
    let Prepared {
        headers,
        tags,
        expected,
        condition,
        acl,
        lock,
        encryption,
    } = prepared;
    let (sse, encrypt): (Option<Record>, _) = match encryption.generate(ctx, bucket, key) {
        Some((record, key)) => (Some(record), Some(Encrypt { key, part: 0 })),
        None => (None, None),
    };
    let written = write_body(ctx, reader, &expected, encrypt.as_ref()).await?;
    let checksum = expected
        .checksum
        .as_ref()
        .map(|(a, _)| (*a, written.digests.checksum(*a).map(str::to_owned)));
    let object = ObjectMeta {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        size: written.size,
        etag: Encrypt::etag(encrypt.as_ref(), written.digests.etag()),
        last_modified: now_ms(),
        headers,
        checksum_algorithm: checksum.as_ref().map(|(a, _)| a.name().to_owned()),
        checksum: checksum.as_ref().and_then(|(_, v)| v.clone()),
        checksum_type: checksum
            .as_ref()
            .map(|_| ChecksumType::FullObject.name().to_owned()),
        parts: None,
        segments: vec![Segment {
            stored: written.stored.clone(),
            size: written.size,
            etag: None,
            checksum: None,
            part_number: None,
        }],
        tags,
        acl,
        version: String::new(),
        null_version: false,
        lock,
        sse,
    };
    let etag = object.etag.clone();
    let expiration = ctx.index().bucket_state(bucket).and_then(|state| {
        super::lifecycle::expiration_header(
            ctx,
            &state,
            key,
            object.size,
            &object.tags,
            object.last_modified,
        )
    });
    let published = match ctx.index().put_object(object, condition).await {
        Ok(published) => published,
        Err(e) => {
            ctx.blobs().remove(written.blobs()).await;
            return Err(e.into());
        }
    };
    ctx.blobs().remove(published.replaced).await;
    Ok(Put {
        etag,
        version_id: published.version_id,
        checksum,
        expiration,
        encryption: encryption.applied(),
    })
}

pub async fn delete_object(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let (bucket, key) = (req.bucket, req.key);
    let bypass = super::version::bypass_governance(ctx, &req.parts.headers, bucket, key);
    let deleted = ctx
        .index()
        .delete_object(
            bucket.to_owned(),
            key.to_owned(),
            req.version.clone(),
            bypass,
        )
        .await?;
    ctx.blobs().remove(deleted.blobs).await;
    // 204 whether or not the key existed, as S3.
    let mut response = Response::builder().status(http::StatusCode::NO_CONTENT);
    if deleted.delete_marker {
        response = response.header("x-amz-delete-marker", "true");
    }
    finish(
        with_version(response, deleted.version_id.as_deref()),
        crate::http::empty(),
    )
}

#[cfg(test)]
mod tests {
    use super::strip_aws_chunked;

    #[test]
    fn content_encoding_is_kept_as_sent_less_aws_chunked() {
        for (sent, stored) in [
            ("gzip", "gzip"),
            ("deflate, gzip", "deflate, gzip"),
            ("deflate,gzip", "deflate,gzip"),
            ("aws-chunked", ""),
            ("aws-chunked,gzip", "gzip"),
            ("aws-chunked, gzip", "gzip"),
            ("gzip, aws-chunked", "gzip"),
            ("deflate, AWS-CHUNKED, gzip", "deflate, gzip"),
        ] {
            assert_eq!(strip_aws_chunked(sent), stored, "{sent}");
        }
    }
}
