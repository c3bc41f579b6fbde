//! Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
//! AbortMultipartUpload, ListParts and ListMultipartUploads.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html>

use std::borrow::Cow;

use http::{request, Response, StatusCode};

use super::body::{announced_trailer, multiple_checksums, read_small};
use super::checksum::{
    composite_checksum, full_object_checksum, multipart_etag, object_checksum, parse_content_md5,
    Algorithm, ChecksumType,
};
use super::error::{Code, S3Error, S3Result};
use super::fields::{MaxParts, MaxUploads, PartNumber, UploadId};
use super::object::{
    check_key, check_whole_body, expected, object_headers, write_body, write_condition, Encrypt,
    Expected,
};
use super::xml::{document, read, timestamp, Checksum, CommonPrefix, Owner, Xmlns};
use super::{finish, Ctx, Reply, Req};
use crate::objects::multipart::{Completion, UploadListing, UploadQuery};
use crate::objects::{now_ms, Part, Upload};

mod documents;
use documents::{
    CompleteMultipartUpload, CompleteMultipartUploadResult, InitiateMultipartUploadResult,
    ListMultipartUploadsResult, ListPartsResult, ListedPart, ListedUpload,
};

fn checksum_algorithm(parts: &request::Parts) -> S3Result<Option<Algorithm>> {
    match parts.headers.get("x-amz-checksum-algorithm") {
        None => Ok(None),
        Some(name) => name
            .to_str()
            .ok()
            .and_then(Algorithm::from_name)
            .map(Some)
            .ok_or_else(|| {
                S3Error::new(
                    Code::InvalidRequest,
                    "Checksum algorithm provided is unsupported. Please try again with any of \
                     the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
                )
            }),
    }
}

/// `x-amz-checksum-type` on CreateMultipartUpload and CompleteMultipartUpload.
fn checksum_type_header(parts: &request::Parts) -> S3Result<Option<ChecksumType>> {
    match parts.headers.get("x-amz-checksum-type") {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| ChecksumType::from_name(v.trim()))
            .map(Some)
            .ok_or_else(|| {
                S3Error::new(
                    Code::InvalidRequest,
                    "Value for x-amz-checksum-type header is invalid.",
                )
            }),
    }
}

/// The checksum algorithm and type CreateMultipartUpload asks for, with S3's default type
/// (`FULL_OBJECT` for CRC64NVME, `COMPOSITE` for the others) and its refusals of the
/// combinations it does not support.
fn requested_checksum(parts: &request::Parts) -> S3Result<Option<(Algorithm, ChecksumType)>> {
    let algorithm = checksum_algorithm(parts)?;
    let kind = checksum_type_header(parts)?;
    let Some(algorithm) = algorithm else {
        return match kind {
            None => Ok(None),
            Some(_) => Err(S3Error::new(
                Code::InvalidRequest,
                "The x-amz-checksum-type header can only be used with the \
                 x-amz-checksum-algorithm header.",
            )),
        };
    };
    let kind = kind.unwrap_or_else(|| algorithm.default_multipart_type());
    if !algorithm.supports(kind) {
        return Err(S3Error::new(
            Code::InvalidRequest,
            format!(
                "The {} checksum type cannot be used with the {} checksum algorithm.",
                kind.name(),
                algorithm.lowercase()
            ),
        ));
    }
    Ok(Some((algorithm, kind)))
}

/// The checksum algorithm and type an upload was created with.
fn upload_checksum(upload: &Upload) -> Option<(Algorithm, ChecksumType)> {
    let algorithm = upload
        .checksum_algorithm
        .as_deref()
        .and_then(Algorithm::from_name)?;
    let kind = upload
        .checksum_type
        .as_deref()
        .and_then(ChecksumType::from_name)
        .unwrap_or_else(|| algorithm.default_multipart_type());
    Some((algorithm, kind))
}

pub async fn create_multipart_upload(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let (bucket, key, parts) = (req.bucket, req.key, req.parts);
    check_key(key)?;
    let headers = object_headers(&parts.headers)?;
    // Kept with the upload; the object gets them at CompleteMultipartUpload.
    let tags = super::tagging::header_tags(&parts.headers)?.unwrap_or_default();
    let checksum = requested_checksum(parts)?;
    // Kept with the upload, and given to the object it completes.
    let acl = super::acl::for_object_write(ctx, req.found.existing()?, &parts.headers)?;
    // Kept with the upload; the object gets it (or the bucket's default) at completion.
    let lock = super::object_lock::from_headers(req.found.existing()?, &parts.headers)?;
    // The upload's data key, for its parts and the object (the header, or the bucket's
    // default encryption).
    let encryption = super::sse::for_write(ctx, req.found.existing()?, &parts.headers)?;
    let sse = encryption
        .generate(ctx, bucket, key)
        .map(|(record, _)| record);
    let upload = ctx
        .index()
        .create_upload(
            bucket.to_owned(),
            key.to_owned(),
            headers,
            checksum.map(|(a, t)| (a.name().to_owned(), t.name().to_owned())),
            tags,
            acl,
            lock,
            sse,
        )
        .await?;
    let mut response = document(&InitiateMultipartUploadResult {
        xmlns: Xmlns::default(),
        bucket,
        key,
        upload_id: &upload.id,
    })?;
    if let Some((a, t)) = checksum {
        let headers = response.headers_mut();
        headers.insert(
            "x-amz-checksum-algorithm",
            http::HeaderValue::from_static(a.name()),
        );
        headers.insert(
            "x-amz-checksum-type",
            http::HeaderValue::from_static(t.name()),
        );
    }
    super::sse::headers_into(&mut response, &encryption.applied());
    Ok(response)
}

/// S3's refusal of a part whose checksum is not of its upload's algorithm (`None`: the part
/// came without one).
fn algorithm_mismatch(expected: Algorithm, actual: Option<Algorithm>) -> S3Error {
    S3Error::new(
        Code::InvalidRequest,
        format!(
            "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
            expected.lowercase(),
            actual.map_or("null", Algorithm::lowercase)
        ),
    )
}

pub async fn upload_part(
    ctx: &Ctx<'_>,
    req: Req<'_>,
    upload: UploadId,
    number: PartNumber,
) -> Reply {
    let (bucket, key, parts, reader) = (req.bucket, req.key, req.parts, req.body);
    let (PartNumber(number), UploadId(id)) = (number, upload);
    let upload = ctx
        .index()
        .upload(bucket.to_owned(), key.to_owned(), id.clone())
        .await?;
    let mut want = expected(&parts.headers)?;
    // A part of an upload with a checksum algorithm has a checksum of that algorithm: one of
    // another is refused before the body is read. Without one, a full-object upload's part
    // CRC is computed here (it is what the object's checksum combines); a composite upload's
    // part must bring its own, as S3 requires.
    if let Some((algorithm, kind)) = upload_checksum(&upload) {
        match &want.checksum {
            Some((given, _)) if *given != algorithm => {
                return Err(algorithm_mismatch(algorithm, Some(*given)));
            }
            Some(_) => {}
            None if kind == ChecksumType::Composite => {
                return Err(algorithm_mismatch(algorithm, None));
            }
            None => want.checksum = Some((algorithm, None)),
        }
    }
    super::sse::refuse_unimplemented(&parts.headers)?;
    let customer = super::sse::customer(&parts.headers, "", super::sse::Transport::of(ctx))?;
    let reading = super::sse::Reading::Part;
    let target = (bucket, key);
    let encrypt = super::sse::open(ctx, upload.sse.as_ref(), customer.as_ref(), reading, target)?
        .map(|key| Encrypt { key, part: number });
    let written = write_body(ctx, reader, &want, encrypt.as_ref()).await?;
    let checksum = want
        .checksum
        .as_ref()
        .and_then(|(a, _)| written.digests.checksum(*a).map(|v| (*a, v.to_owned())));
    let part = Part {
        number,
        blob: written.stored.blob().cloned(),
        size: written.size,
        etag: Encrypt::etag(encrypt.as_ref(), written.digests.etag()),
        checksum: checksum.as_ref().map(|(_, v)| v.clone()),
        last_modified: now_ms(),
    };
    let etag = part.etag.clone();
    match ctx
        .index()
        .put_part(
            bucket.to_owned(),
            key.to_owned(),
            id,
            part,
            written.stored.clone(),
        )
        .await
    {
        Ok(replaced) => ctx.blobs().remove(replaced.into_iter().collect()).await,
        Err(e) => {
            ctx.blobs().remove(written.blobs()).await;
            return Err(e.into());
        }
    }
    let mut builder = Response::builder().header("etag", format!("\"{etag}\""));
    if let Some((a, v)) = checksum {
        builder = builder.header(a.header(), v);
    }
    let applied = super::sse::applied(upload.sse.as_ref(), customer.as_ref());
    builder = super::sse::header_out(builder, &applied);
    finish(builder, crate::http::empty())
}

/// A part a CompleteMultipartUpload body lists: its number, ETag and the checksums it names.
struct Chosen {
    number: u32,
    etag: String,
    checksums: Vec<(Algorithm, String)>,
}

/// The parts of a CompleteMultipartUpload body.
fn chosen_parts(body: &[u8]) -> S3Result<Vec<Chosen>> {
    let doc: CompleteMultipartUpload = read(body)?;
    let chosen: Vec<Chosen> = doc
        .parts
        .into_iter()
        .map(|p| {
            let number = p
                .part_number
                .trim()
                .parse()
                .map_err(|_| Code::MalformedXML)?;
            Ok(Chosen {
                number,
                etag: p.etag.trim().to_owned(),
                checksums: p.checksums(),
            })
        })
        .collect::<S3Result<_>>()?;
    // The schema requires at least one Part; S3 answers an empty list as malformed.
    if chosen.is_empty() {
        return Err(Code::MalformedXML.into());
    }
    Ok(chosen)
}

/// What a CompleteMultipartUpload request's headers assert about the object: its checksum
/// type, its checksum (`x-amz-checksum-*`, which here describe the object, not the body) and
/// its size (`x-amz-mp-object-size`).
struct Asserted {
    kind: Option<ChecksumType>,
    checksum: Option<(Algorithm, String)>,
    size: Option<u64>,
}

fn asserted(parts: &request::Parts) -> S3Result<Asserted> {
    let kind = checksum_type_header(parts)?;
    let mut given = Algorithm::ALL.into_iter().filter_map(|a| {
        let value = parts.headers.get(a.header())?;
        Some((
            a,
            String::from_utf8_lossy(value.as_bytes()).trim().to_owned(),
        ))
    });
    let checksum = given.next();
    if given.next().is_some() {
        return Err(multiple_checksums());
    }
    let size = match parts.headers.get("x-amz-mp-object-size") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| {
                    S3Error::new(
                        Code::InvalidRequest,
                        "Value for x-amz-mp-object-size header is invalid.",
                    )
                })?,
        ),
    };
    Ok(Asserted {
        kind,
        checksum,
        size,
    })
}

/// S3's InvalidPart, for part `number`.
fn invalid_part(number: u32) -> S3Error {
    S3Error::new(
        Code::InvalidPart,
        format!(
            "One or more of the specified parts could not be found. The part may not have been \
             uploaded, or the specified entity tag may not match the part's entity tag. (part \
             {number})"
        ),
    )
}

/// The checksums the body names for each chosen part, against the stored parts: one of the
/// upload's algorithm must equal the stored part's (`InvalidPart` otherwise), one of another
/// algorithm cannot be checked (`BadDigest`, as S3), and a composite upload needs each part's
/// (`InvalidRequest`). An upload without a checksum algorithm takes none.
fn check_part_checksums(
    scheme: Option<(Algorithm, ChecksumType)>,
    chosen: &[Chosen],
    parts: &[Part],
) -> S3Result<()> {
    for (listed, part) in chosen.iter().zip(parts) {
        let Some((algorithm, kind)) = scheme else {
            if !listed.checksums.is_empty() {
                return Err(invalid_part(listed.number));
            }
            continue;
        };
        if let Some((other, _)) = listed.checksums.iter().find(|(a, _)| *a != algorithm) {
            return Err(S3Error::new(
                Code::BadDigest,
                format!(
                    "The {} you specified for part {} did not match what we received.",
                    other.lowercase(),
                    listed.number
                ),
            ));
        }
        match listed.checksums.first() {
            Some((_, value)) if part.checksum.as_deref() != Some(value.as_str()) => {
                return Err(invalid_part(listed.number));
            }
            Some(_) => {}
            None if kind == ChecksumType::Composite => {
                return Err(S3Error::new(
                    Code::InvalidRequest,
                    format!(
                        "The upload was created using a {} checksum. The complete request must \
                         include the checksum for each part. It was missing for part {} in the \
                         request.",
                        algorithm.lowercase(),
                        listed.number
                    ),
                ));
            }
            None => {}
        }
    }
    Ok(())
}

/// The object's checksum from the stored parts' checksums (and, for a full-object checksum,
/// their sizes).
fn object_checksum_of(
    algorithm: Algorithm,
    kind: ChecksumType,
    parts: &[Part],
) -> S3Result<String> {
    let missing = || {
        S3Error::internal(
            "completing a multipart upload",
            "a part of an upload with a checksum algorithm has no valid checksum",
        )
    };
    let values: Vec<&str> = parts
        .iter()
        .map(|p| p.checksum.as_deref())
        .collect::<Option<_>>()
        .ok_or_else(missing)?;
    match kind {
        ChecksumType::Composite => composite_checksum(algorithm, &values),
        ChecksumType::FullObject => {
            let sized: Vec<(&str, u64)> = values
                .iter()
                .copied()
                .zip(parts.iter().map(|p| p.size))
                .collect();
            full_object_checksum(algorithm, &sized)
        }
    }
    .ok_or_else(missing)
}

/// The object checksum the request asserts, against the computed one. S3 requires
/// `x-amz-checksum-type: FULL_OBJECT` beside a full-object value; a composite value may be
/// given with or without its `-<parts>`. An upload created without a checksum algorithm
/// keeps no part checksums to compute an object checksum from: S3 completes it and ignores
/// the value (a `x-amz-checksum-type` beside it has already been refused, as S3 refuses it),
/// and so does LabStore; the object has no checksum.
fn check_asserted_checksum(
    asserted: &Asserted,
    scheme: Option<(Algorithm, ChecksumType)>,
    computed: Option<&str>,
) -> S3Result<()> {
    let Some((given_algorithm, given)) = &asserted.checksum else {
        return Ok(());
    };
    let (Some((algorithm, kind)), Some(computed)) = (scheme, computed) else {
        return Ok(());
    };
    let matches = match kind {
        ChecksumType::FullObject => asserted.kind.is_some() && given == computed,
        ChecksumType::Composite => {
            given == computed
                || computed
                    .rsplit_once('-')
                    .is_some_and(|(bare, _)| given == bare)
        }
    };
    if *given_algorithm != algorithm || !matches {
        return Err(S3Error::new(
            Code::BadDigest,
            format!(
                "The {} you specified did not match the calculated checksum.",
                algorithm.lowercase()
            ),
        ));
    }
    Ok(())
}

pub async fn complete_multipart_upload(ctx: &Ctx<'_>, req: Req<'_>, upload: UploadId) -> Reply {
    let (bucket, key, parts, mut reader) = (req.bucket, req.key, req.parts, req.body);
    let UploadId(id) = upload;
    let condition = write_condition(&parts.headers)?;
    let asserted = asserted(parts)?;
    // An SSE-C upload's key may come with the completion (it is not needed: the parts are
    // encrypted already); when it does, it must be the upload's.
    let customer = super::sse::customer(&parts.headers, "", super::sse::Transport::of(ctx))?;
    if customer.is_some() {
        let upload = ctx
            .index()
            .upload(bucket.to_owned(), key.to_owned(), id.clone())
            .await?;
        let reading = super::sse::Reading::Completion;
        let target = (bucket, key);
        super::sse::open(ctx, upload.sse.as_ref(), customer.as_ref(), reading, target)?;
    }
    // Content-MD5 and a trailing checksum describe the body, the part list.
    let body_digest = Expected {
        md5: match parts.headers.get("content-md5") {
            None => None,
            Some(v) => Some(
                v.to_str()
                    .ok()
                    .and_then(parse_content_md5)
                    .ok_or(S3Error::from(Code::InvalidDigest))?,
            ),
        },
        checksum: announced_trailer(&parts.headers)?.map(|a| (a, None)),
        in_trailer: true,
    };
    let body = read_small(&mut reader, 4 * 1024 * 1024).await?;
    check_whole_body(&body, &body_digest, reader.trailers())?;
    let chosen = chosen_parts(&body)?;
    let list: Vec<(u32, String)> = chosen.iter().map(|c| (c.number, c.etag.clone())).collect();
    let finish_upload = move |upload: &Upload, parts: &[Part]| -> S3Result<Completion> {
        let scheme = upload_checksum(upload);
        if let Some(kind) = asserted.kind {
            if Some(kind) != scheme.map(|(_, k)| k) {
                return Err(S3Error::new(
                    Code::InvalidRequest,
                    format!(
                        "The upload was created using the {} checksum mode. The complete \
                         request must use the same checksum mode.",
                        scheme.map_or("null", |(_, k)| k.name())
                    ),
                ));
            }
        }
        check_part_checksums(scheme, &chosen, parts)?;
        let size: u64 = parts.iter().map(|p| p.size).sum();
        if let Some(want) = asserted.size.filter(|want| *want != size) {
            return Err(S3Error::new(
                Code::InvalidRequest,
                format!(
                    "The provided 'x-amz-mp-object-size' header value {want} does not match what \
                     was computed: {size}"
                ),
            ));
        }
        let checksum = scheme
            .map(|(algorithm, kind)| object_checksum_of(algorithm, kind, parts))
            .transpose()?;
        check_asserted_checksum(&asserted, scheme, checksum.as_deref())?;
        let md5s: Vec<[u8; 16]> = parts
            .iter()
            .map(|p| {
                hex::decode(&p.etag)
                    .ok()
                    .and_then(|b| <[u8; 16]>::try_from(b).ok())
            })
            .collect::<Option<_>>()
            .ok_or_else(|| S3Error::new(Code::InvalidPart, "A part's ETag is not an MD5"))?;
        Ok(Completion {
            etag: multipart_etag(&md5s),
            checksum,
            checksum_type: scheme.map(|(_, k)| k.name().to_owned()),
        })
    };
    let (object, unused, version_id) = ctx
        .index()
        .complete_upload(
            bucket.to_owned(),
            key.to_owned(),
            id,
            list,
            condition,
            finish_upload,
        )
        .await?;
    ctx.blobs().remove(unused).await;
    let location = format!("/{bucket}/{key}");
    let etag = format!("\"{}\"", object.etag);
    let stored = object_checksum(&object);
    let mut response = document(&CompleteMultipartUploadResult {
        xmlns: Xmlns::default(),
        location: &location,
        bucket,
        key,
        etag: &etag,
        checksum_type: stored.map(|c| c.kind.name()),
        checksum: stored.map(|c| Checksum {
            algorithm: c.algorithm,
            value: c.value,
        }),
    })?;
    if let Some(id) = version_id.and_then(|v| http::HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert("x-amz-version-id", id);
    }
    super::sse::headers_into(
        &mut response,
        &super::sse::applied(object.sse.as_ref(), customer.as_ref()),
    );
    Ok(response)
}

pub async fn abort_multipart_upload(ctx: &Ctx<'_>, req: Req<'_>, upload: UploadId) -> Reply {
    let (bucket, key) = (req.bucket, req.key);
    let UploadId(id) = upload;
    let blobs = ctx
        .index()
        .abort_upload(bucket.to_owned(), key.to_owned(), id)
        .await?;
    ctx.blobs().remove(blobs).await;
    finish(
        Response::builder().status(StatusCode::NO_CONTENT),
        crate::http::empty(),
    )
}

pub async fn list_parts(ctx: &Ctx<'_>, req: Req<'_>, upload: UploadId, max: MaxParts) -> Reply {
    let (bucket, key) = (req.bucket, req.key);
    let (UploadId(id), MaxParts(max)) = (upload, max);
    let after: u32 = ctx
        .query
        .get("part-number-marker")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let (upload, list, truncated) = ctx
        .index()
        .list_parts(bucket.to_owned(), key.to_owned(), id, after, max)
        .await?;
    let algorithm = upload
        .checksum_algorithm
        .as_deref()
        .and_then(Algorithm::from_name);
    let owner = Owner::of(ctx.account());
    document(&ListPartsResult {
        xmlns: Xmlns::default(),
        bucket,
        key,
        upload_id: &upload.id,
        initiator: &owner,
        owner: &owner,
        storage_class: upload.headers.storage_class(),
        part_number_marker: after,
        next_part_number_marker: list.last().map(|p| p.number),
        max_parts: max,
        is_truncated: truncated,
        checksum_algorithm: upload.checksum_algorithm.as_deref(),
        checksum_type: upload_checksum(&upload).map(|(_, k)| k.name()),
        parts: list.iter().map(|p| ListedPart::new(p, algorithm)).collect(),
    })
}

pub async fn list_multipart_uploads(ctx: &Ctx<'_>, req: Req<'_>, max: MaxUploads) -> Reply {
    let (bucket, MaxUploads(max)) = (req.bucket, max);
    super::list::url_encoding(ctx.query)?;
    let get = |name: &str| ctx.query.get(name).map(str::to_owned);
    let query = UploadQuery {
        prefix: get("prefix").unwrap_or_default(),
        delimiter: get("delimiter").filter(|d| !d.is_empty()),
        key_marker: get("key-marker").filter(|k| !k.is_empty()),
        upload_id_marker: get("upload-id-marker").filter(|k| !k.is_empty()),
        max,
    };
    let listing = ctx
        .index()
        .list_uploads(bucket.to_owned(), query.clone())
        .await?;
    render_uploads(ctx, bucket, &query, &listing)
}

fn render_uploads(ctx: &Ctx<'_>, bucket: &str, q: &UploadQuery, listing: &UploadListing) -> Reply {
    // `encoding-type=url` encodes the keys, markers, prefixes and delimiter, as S3 does.
    let url = super::list::url_encoding(ctx.query)?;
    let text = |v: &'_ str| -> String {
        match url {
            true => super::list::url_encoded(v).into_owned(),
            false => v.to_owned(),
        }
    };
    let owner = Owner::of(ctx.account());
    let next = listing.next.as_ref().filter(|_| listing.truncated);
    let keys: Vec<String> = listing.uploads.iter().map(|u| text(&u.key)).collect();
    let key_marker = text(q.key_marker.as_deref().unwrap_or_default());
    let next_key_marker = next.map(|(key, _)| text(key));
    let prefix = text(&q.prefix);
    let delimiter = q.delimiter.as_deref().map(text);
    let uploads = listing
        .uploads
        .iter()
        .zip(&keys)
        .map(|(u, key)| ListedUpload {
            key,
            upload_id: &u.id,
            initiator: &owner,
            owner: &owner,
            storage_class: u.headers.storage_class(),
            initiated: timestamp(u.initiated),
            checksum_algorithm: u.checksum_algorithm.as_deref(),
            checksum_type: upload_checksum(u).map(|(_, k)| k.name()),
        })
        .collect();
    document(&ListMultipartUploadsResult {
        xmlns: Xmlns::default(),
        bucket,
        key_marker: &key_marker,
        upload_id_marker: q.upload_id_marker.as_deref().unwrap_or_default(),
        next_key_marker: next_key_marker.as_deref(),
        next_upload_id_marker: next.and_then(|(_, id)| id.as_deref()),
        prefix: &prefix,
        delimiter: delimiter.as_deref(),
        max_uploads: q.max,
        is_truncated: listing.truncated,
        uploads,
        common_prefixes: listing
            .prefixes
            .iter()
            .map(|p| CommonPrefix {
                prefix: Cow::Owned(text(p)),
            })
            .collect(),
        encoding_type: url.then_some("url"),
    })
}
