//! CopyObject and UploadPartCopy: `x-amz-copy-source` (URL-encoded; a `versionId` other than
//! `null` names a version that does not exist), the
//! `x-amz-copy-source-if-*` conditions, `x-amz-metadata-directive` COPY/REPLACE, and
//! `x-amz-copy-source-range` for parts. Bytes are copied into a new blob (or inline into the
//! copy's row when it is small), so source and copy never share storage.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html>

use bytes::BytesMut;
use http::HeaderMap;
use percent_encoding::percent_decode_str;
use serde::Serialize;

use super::checksum::{Algorithm, BodyDigests, ChecksumType};
use super::error::{Code, S3Error, S3Result};
use super::fields::{PartNumber, UploadId};
use super::object::{check_key, object_headers, storage_class, website_redirect, Encrypt, Written};
use super::query::Query;
use super::read::{check_conditions, inline_range, open_object, read_segments, Opened};
use super::version::Version;
use super::xml::{document_named, timestamp, Checksum, Xmlns};
use super::{Ctx, Reply, Req};
use crate::crypto::sse::Sealer;
use crate::objects::{now_ms, ObjectHeaders, ObjectMeta, Segment, Stored, WriteCondition};

/// What an `x-amz-copy-source` header names: `[/]bucket/key[?versionId=id]`, the key
/// URL-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySource {
    pub bucket: String,
    pub key: String,
    pub version: Version,
}

pub fn copy_source(headers: &HeaderMap) -> S3Result<CopySource> {
    let raw = headers
        .get("x-amz-copy-source")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (path, query) = raw
        .split_once('?')
        .map_or((raw, None), |(p, q)| (p, Some(q)));
    let decoded = percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| invalid_source())?;
    let (bucket, key) = decoded
        .trim_start_matches('/')
        .split_once('/')
        .ok_or_else(invalid_source)?;
    if bucket.is_empty() || key.is_empty() {
        return Err(invalid_source());
    }
    Ok(CopySource {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        version: super::version::of(&Query::parse(query))?,
    })
}

fn invalid_source() -> S3Error {
    S3Error::new(
        Code::InvalidArgument,
        "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
    )
}

/// Copies `len` bytes from `start` of an open source into a new committed blob, or, when
/// they fit `inline_max`, into memory to be stored inline with the copy's row (whichever way
/// the source is stored). An encrypted source is decrypted as it is read; with `encrypt`, the
/// copy is stored encrypted under its own key.
async fn copy_bytes(
    ctx: &Ctx<'_>,
    files: Vec<Opened>,
    source: &ObjectMeta,
    start: u64,
    len: u64,
    algorithms: &[Algorithm],
    encrypt: Option<&Encrypt>,
) -> S3Result<Written> {
    let mut digests = BodyDigests::new(algorithms);
    if len <= ctx.inline_max() {
        let data = match inline_range(&files, source, start, len) {
            Some(data) => data,
            None => {
                let mut rx = read_segments(files, source, start, len, ctx.blobs().buffer_size());
                let mut all = BytesMut::new();
                while let Some(chunk) = rx.recv().await {
                    all.extend_from_slice(&chunk?);
                }
                all.freeze()
            }
        };
        if data.len() as u64 != len {
            return Err(short_source());
        }
        digests.update(&data);
        let data = match encrypt {
            Some(e) => Sealer::seal_all(&e.key, e.part, &data).into(),
            None => data,
        };
        return Ok(Written {
            stored: Stored::Inline(data),
            size: len,
            digests: digests.finish(),
        });
    }
    let mut rx = read_segments(files, source, start, len, ctx.blobs().buffer_size());
    let mut writer = ctx.blobs().writer();
    let mut sealer = encrypt.map(|e| Sealer::new(&e.key, e.part));
    let mut size = 0u64;
    let mut out = Vec::new();
    while let Some(chunk) = rx.recv().await {
        let chunk = chunk?;
        size += chunk.len() as u64;
        digests.update(&chunk);
        match &mut sealer {
            Some(sealer) => {
                out.clear();
                sealer.push(&chunk, &mut out);
                writer.write(&out).await?;
            }
            None => writer.write(&chunk).await?,
        }
    }
    if size != len {
        return Err(short_source());
    }
    if let Some(sealer) = sealer {
        out.clear();
        sealer.finish(&mut out);
        writer.write(&out).await?;
    }
    let (blob, _stored_len) = writer.commit().await?;
    Ok(Written {
        stored: Stored::Blob(blob),
        size,
        digests: digests.finish(),
    })
}

fn short_source() -> S3Error {
    S3Error::internal(
        "copying an object",
        "the source was shorter than its index entry",
    )
}

/// CopyObject's `<CopyObjectResult>` and UploadPartCopy's `<CopyPartResult>`: the copy's ETag
/// and time, and its checksum when it has one.
#[derive(Debug, Serialize)]
struct CopyResult<'a> {
    #[serde(rename = "@xmlns")]
    xmlns: Xmlns,
    #[serde(rename = "ETag")]
    etag: String,
    #[serde(rename = "LastModified")]
    last_modified: String,
    #[serde(rename = "$value", skip_serializing_if = "Option::is_none")]
    checksum: Option<Checksum<'a>>,
    /// CopyObject's only (a copy's checksum is of its whole bytes); UploadPartCopy's answer
    /// has no type.
    #[serde(rename = "ChecksumType", skip_serializing_if = "Option::is_none")]
    checksum_type: Option<&'static str>,
}

fn write_result(
    root: &str,
    etag: &str,
    last_modified: i64,
    checksum: Option<(Algorithm, &str)>,
) -> Reply {
    let whole_object = root == "CopyObjectResult";
    document_named(
        root,
        &CopyResult {
            xmlns: Xmlns::default(),
            etag: format!("\"{etag}\""),
            last_modified: timestamp(last_modified),
            checksum_type: checksum
                .filter(|_| whole_object)
                .map(|_| ChecksumType::FullObject.name()),
            checksum: checksum.map(|(algorithm, value)| Checksum { algorithm, value }),
        },
    )
}

pub async fn copy_object(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let (bucket, key, parts) = (req.bucket, req.key, req.parts);
    check_key(key)?;
    let CopySource {
        bucket: src_bucket,
        key: src_key,
        version,
    } = copy_source(&parts.headers)?;
    let replace = match parts
        .headers
        .get("x-amz-metadata-directive")
        .and_then(|v| v.to_str().ok())
    {
        None | Some("COPY") => false,
        Some("REPLACE") => true,
        Some(_) => {
            return Err(S3Error::new(
                Code::InvalidArgument,
                "Unknown metadata directive.",
            ))
        }
    };
    let new_tags = tagging_directive(&parts.headers)?;
    // Checked before any byte is copied: a refused header leaves nothing behind.
    // The copy takes the class the request names (STANDARD when none), never the source's,
    // as S3 does; naming one makes a copy onto itself a change.
    let class = storage_class(&parts.headers)?;
    // Nor the source's website redirect: S3 copies none, the copy has the one it names.
    let redirect = website_redirect(&parts.headers)?;
    let new_headers = match replace {
        true => Some(object_headers(&parts.headers)?),
        false => None,
    };
    // A named algorithm S3 does not know is refused, not replaced by the source's.
    let requested = match parts.headers.get("x-amz-checksum-algorithm") {
        None => None,
        Some(name) => Some(
            name.to_str()
                .ok()
                .and_then(Algorithm::from_name)
                .ok_or_else(|| {
                    S3Error::new(
                        Code::InvalidRequest,
                        "Checksum algorithm provided is unsupported. Please try again with any \
                         of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
                    )
                })?,
        ),
    };
    // The copy is encrypted as its request (or the destination bucket's default) says, never
    // as the source was.
    let encryption = super::sse::for_write(ctx, req.found.existing()?, &parts.headers)?;
    // The source's key, when it is SSE-C.
    let transport = super::sse::Transport::of(ctx);
    let source_key = super::sse::customer(&parts.headers, super::sse::COPY_SOURCE, transport)?;
    let changes_class = parts.headers.contains_key("x-amz-storage-class")
        || redirect.is_some()
        || parts.headers.contains_key(super::sse::HEADER)
        || matches!(encryption, super::sse::Encryption::Customer(_));
    // A copy of a named version onto its key restores it: that is a change.
    if src_bucket == bucket && src_key == key && !replace && !changes_class && !version.is_named() {
        return Err(S3Error::new(
            Code::InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the \
             object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }
    // The copy gets the ACL its request gives, not the source's (as in S3).
    let acl = super::acl::for_object_write(ctx, req.found.existing()?, &parts.headers)?;
    // The copy gets the lock its request gives (or the bucket's default), never the source's.
    let lock = super::object_lock::from_headers(req.found.existing()?, &parts.headers)?;
    let (source, files) =
        open_source(ctx, (&src_bucket, &src_key), &version, source_key.as_ref()).await?;
    check_conditions(
        &parts.headers,
        &source.etag,
        source.last_modified,
        "x-amz-copy-source-",
    )?;
    let algorithm = requested.or_else(|| {
        source
            .checksum_algorithm
            .as_deref()
            .and_then(Algorithm::from_name)
    });
    let (sse, encrypt) = match encryption.generate(ctx, bucket, key) {
        Some((record, key)) => (Some(record), Some(Encrypt { key, part: 0 })),
        None => (None, None),
    };
    let copied = copy_bytes(
        ctx,
        files,
        &source,
        0,
        source.size,
        &algorithm.into_iter().collect::<Vec<_>>(),
        encrypt.as_ref(),
    )
    .await?;
    let (size, digests) = (copied.size, &copied.digests);
    let headers = ObjectHeaders {
        storage_class: class,
        website_redirect: redirect,
        ..new_headers.unwrap_or_else(|| source.headers.clone())
    };
    let tags = new_tags.unwrap_or_else(|| source.tags.clone());
    let checksum = algorithm.and_then(|a| digests.checksum(a).map(|v| (a, v.to_owned())));
    let object = ObjectMeta {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        size,
        etag: Encrypt::etag(encrypt.as_ref(), digests.etag()),
        last_modified: now_ms(),
        headers,
        checksum_algorithm: checksum.as_ref().map(|(a, _)| a.name().to_owned()),
        checksum: checksum.as_ref().map(|(_, v)| v.clone()),
        checksum_type: checksum
            .as_ref()
            .map(|_| ChecksumType::FullObject.name().to_owned()),
        parts: None,
        segments: vec![Segment {
            stored: copied.stored.clone(),
            size,
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
    let (etag, at) = (object.etag.clone(), object.last_modified);
    let published = match ctx.index().put_object(object, WriteCondition::Always).await {
        Ok(published) => published,
        Err(e) => {
            ctx.blobs().remove(copied.blobs()).await;
            return Err(e.into());
        }
    };
    ctx.blobs().remove(published.replaced).await;
    let mut response = write_result(
        "CopyObjectResult",
        &etag,
        at,
        checksum.as_ref().map(|(a, v)| (*a, v.as_str())),
    )?;
    let headers = [
        ("x-amz-version-id", published.version_id),
        (
            "x-amz-copy-source-version-id",
            source_version_id(ctx, &src_bucket, &version, &source),
        ),
    ];
    for (name, value) in headers {
        if let Some(value) = value.and_then(|v| http::HeaderValue::from_str(&v).ok()) {
            response.headers_mut().insert(name, value);
        }
    }
    super::sse::headers_into(&mut response, &encryption.applied());
    Ok(response)
}

/// Opens a copy's source version. A delete marker is no source: the current version of a key
/// whose newest row is one is `NoSuchKey`; one named by its id is S3's `InvalidRequest`.
async fn open_source(
    ctx: &Ctx<'_>,
    source: (&str, &str),
    version: &Version,
    customer: Option<&super::sse::Customer>,
) -> S3Result<(ObjectMeta, Vec<Opened>)> {
    open_object(ctx, source, version, customer).await.map_err(|e| {
        if e.code == Code::MethodNotAllowed {
            S3Error::new(
                Code::InvalidRequest,
                "The source of a copy request may not specifically refer to a delete marker by version id.",
            )
        } else {
            e
        }
    })
}

/// `x-amz-copy-source-version-id`: the source's version id, when its bucket has versioning or
/// the request named it.
fn source_version_id(
    ctx: &Ctx<'_>,
    bucket: &str,
    version: &Version,
    source: &ObjectMeta,
) -> Option<String> {
    let versioned = ctx
        .index()
        .bucket_state(bucket)
        .is_some_and(|b| b.configs.versioning.is_some());
    (versioned || version.is_named()).then(|| source.version_id())
}

/// `x-amz-tagging-directive`: `COPY` (the default) keeps the source's tags, `None` here;
/// `REPLACE` gives the copy the tags of `x-amz-tagging` (none without it). `x-amz-tagging`
/// with `COPY` is refused: S3 ignores it, and a client that sent it expects its tags.
fn tagging_directive(headers: &HeaderMap) -> S3Result<Option<crate::objects::Tags>> {
    let replace = match headers
        .get("x-amz-tagging-directive")
        .map(|v| v.to_str().map(str::trim))
    {
        None | Some(Ok("COPY")) => false,
        Some(Ok("REPLACE")) => true,
        Some(_) => {
            return Err(S3Error::new(
                Code::InvalidArgument,
                "Unknown tagging directive.",
            ))
        }
    };
    let tags = super::tagging::header_tags(headers)?;
    match (replace, tags) {
        (true, tags) => Ok(Some(tags.unwrap_or_default())),
        (false, None) => Ok(None),
        (false, Some(_)) => Err(S3Error::new(
            Code::InvalidArgument,
            "x-amz-tagging is used only with x-amz-tagging-directive: REPLACE; with COPY the copy keeps the source's tags.",
        )),
    }
}

/// `x-amz-copy-source-range: bytes=a-b` within an object of `size` bytes.
fn source_range(headers: &HeaderMap, size: u64) -> S3Result<(u64, u64)> {
    let Some(value) = headers
        .get("x-amz-copy-source-range")
        .and_then(|v| v.to_str().ok())
    else {
        return Ok((0, size));
    };
    let bad = || {
        S3Error::new(Code::InvalidArgument, "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
    };
    let (a, b) = value
        .trim()
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .ok_or_else(bad)?;
    let (start, end): (u64, u64) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
    if start > end || end >= size {
        return Err(S3Error::new(
            Code::InvalidRange,
            "The requested range is not satisfiable",
        ));
    }
    Ok((start, end - start + 1))
}

/// UploadPartCopy: the part's bytes come from (a range of) an existing object.
pub async fn upload_part_copy(
    ctx: &Ctx<'_>,
    req: Req<'_>,
    upload: UploadId,
    number: PartNumber,
) -> Reply {
    let (bucket, key, parts) = (req.bucket, req.key, req.parts);
    let (PartNumber(number), UploadId(upload_id)) = (number, upload);
    let CopySource {
        bucket: src_bucket,
        key: src_key,
        version,
    } = copy_source(&parts.headers)?;
    super::sse::refuse_unimplemented(&parts.headers)?;
    let transport = super::sse::Transport::of(ctx);
    let customer = super::sse::customer(&parts.headers, "", transport)?;
    let source_key = super::sse::customer(&parts.headers, super::sse::COPY_SOURCE, transport)?;
    let upload = ctx
        .index()
        .upload(bucket.to_owned(), key.to_owned(), upload_id.clone())
        .await?;
    let reading = super::sse::Reading::Part;
    let target = (bucket, key);
    let encrypt = super::sse::open(ctx, upload.sse.as_ref(), customer.as_ref(), reading, target)?
        .map(|key| Encrypt { key, part: number });
    let (source, files) =
        open_source(ctx, (&src_bucket, &src_key), &version, source_key.as_ref()).await?;
    let source_version = source_version_id(ctx, &src_bucket, &version, &source);
    check_conditions(
        &parts.headers,
        &source.etag,
        source.last_modified,
        "x-amz-copy-source-",
    )?;
    let (start, len) = source_range(&parts.headers, source.size)?;
    let algorithm = upload
        .checksum_algorithm
        .as_deref()
        .and_then(Algorithm::from_name);
    let copied = copy_bytes(
        ctx,
        files,
        &source,
        start,
        len,
        &algorithm.into_iter().collect::<Vec<_>>(),
        encrypt.as_ref(),
    )
    .await?;
    let (size, digests) = (copied.size, &copied.digests);
    let checksum = algorithm.and_then(|a| digests.checksum(a).map(|v| (a, v.to_owned())));
    let part = crate::objects::Part {
        number,
        blob: copied.stored.blob().cloned(),
        size,
        etag: Encrypt::etag(encrypt.as_ref(), digests.etag()),
        checksum: checksum.as_ref().map(|(_, v)| v.clone()),
        last_modified: now_ms(),
    };
    let etag = part.etag.clone();
    match ctx
        .index()
        .put_part(
            bucket.to_owned(),
            key.to_owned(),
            upload_id,
            part,
            copied.stored.clone(),
        )
        .await
    {
        Ok(replaced) => ctx.blobs().remove(replaced.into_iter().collect()).await,
        Err(e) => {
            ctx.blobs().remove(copied.blobs()).await;
            return Err(e.into());
        }
    }
    let mut response = write_result(
        "CopyPartResult",
        &etag,
        now_ms(),
        checksum.as_ref().map(|(a, v)| (*a, v.as_str())),
    )?;
    if let Some(value) = source_version.and_then(|v| http::HeaderValue::from_str(&v).ok()) {
        response
            .headers_mut()
            .insert("x-amz-copy-source-version-id", value);
    }
    let applied = super::sse::applied(upload.sse.as_ref(), customer.as_ref());
    super::sse::headers_into(&mut response, &applied);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::xml::{assert_documented_any_order, to_xml, S3_XMLNS};

    /// AWS's examples of CopyObject's and UploadPartCopy's answers. They give LastModified
    /// before ETag, without milliseconds; LabStore has always written ETag first.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html#API_CopyObject_Examples>
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html#API_UploadPartCopy_Examples>
    #[test]
    fn copy_results_answer_as_documented() {
        let doc = CopyResult {
            xmlns: Xmlns::default(),
            etag: "\"9b2cf535f27731c974343645a3985328\"".into(),
            last_modified: "2009-10-28T22:32:00".into(),
            checksum: None,
            checksum_type: None,
        };
        for root in ["CopyObjectResult", "CopyPartResult"] {
            let ours = to_xml(Some(root), &doc).unwrap();
            assert_documented_any_order(
                &ours,
                &format!(
                    r#"<{root}>
                       <LastModified>2009-10-28T22:32:00</LastModified>
                       <ETag>"9b2cf535f27731c974343645a3985328"</ETag>
                    </{root}>"#
                ),
            );
        }
        let doc = CopyResult {
            last_modified: timestamp(1_256_769_120_000),
            checksum: Some(Checksum {
                algorithm: Algorithm::Crc32,
                value: "NhCmhg==",
            }),
            checksum_type: Some("FULL_OBJECT"),
            ..doc
        };
        assert_eq!(
            to_xml(Some("CopyObjectResult"), &doc).unwrap(),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                 <CopyObjectResult xmlns=\"{S3_XMLNS}\">\
                 <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag>\
                 <LastModified>2009-10-28T22:32:00.000Z</LastModified>\
                 <ChecksumCRC32>NhCmhg==</ChecksumCRC32><ChecksumType>FULL_OBJECT</ChecksumType>\
                 </CopyObjectResult>"
            )
        );
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(n, v)| (n.parse().unwrap(), v.parse().unwrap()))
            .collect()
    }

    #[test]
    fn copy_sources_and_ranges() {
        let h = |v: &str| headers(&[("x-amz-copy-source", v)]);
        let source = |v: &str| {
            let s = copy_source(&h(v)).unwrap();
            (s.bucket, s.key, s.version)
        };
        assert_eq!(
            source("/b/a%20key"),
            ("b".into(), "a key".into(), Version::Current)
        );
        let id = "7ffa0b1c2d3e4f50a1b2c3d4e5f60718";
        assert_eq!(
            source(&format!("b/dir/k?versionId={id}")),
            ("b".into(), "dir/k".into(), Version::Id(id.into()))
        );
        // An id this server never made is refused, not looked for.
        assert!(copy_source(&h("b/dir/k?versionId=3")).is_err());
        assert_eq!(source("b/k?versionId=null").2, Version::Null);
        assert!(copy_source(&h("b/k?versionId=")).is_err());
        assert!(copy_source(&h("/onlybucket")).is_err());
        let r = |v: &str| source_range(&headers(&[("x-amz-copy-source-range", v)]), 100);
        assert_eq!(r("bytes=0-9").unwrap(), (0, 10));
        assert_eq!(r("bytes=10-99").unwrap(), (10, 90));
        assert_eq!(r("bytes=10-100").unwrap_err().code, Code::InvalidRange);
        assert_eq!(r("bytes=x-1").unwrap_err().code, Code::InvalidArgument);
    }
}
