//! Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
//! AbortMultipartUpload, ListParts and ListMultipartUploads.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html>

use std::borrow::Cow;

use http::{request, Response, StatusCode};

use super::body::read_small;
use super::checksum::{composite_checksum, multipart_etag, Algorithm};
use super::error::{Code, S3Error, S3Result};
use super::fields::{MaxParts, MaxUploads, PartNumber, UploadId};
use super::object::{check_key, expected, object_headers, write_body, write_condition};
use super::xml::{document, read, timestamp, Checksum, CommonPrefix, Owner, Xmlns};
use super::{finish, Ctx, Reply, Req};
use crate::objects::multipart::{UploadListing, UploadQuery};
use crate::objects::{now_ms, IndexError, Part};

mod documents;
use documents::{
    CompleteMultipartUpload, CompleteMultipartUploadResult, InitiateMultipartUploadResult,
    ListMultipartUploadsResult, ListPartsResult, ListedPart, ListedUpload,
};

fn checksum_algorithm(parts: &request::Parts) -> S3Result<Option<Algorithm>> {
    match parts
        .headers
        .get("x-amz-checksum-algorithm")
        .and_then(|v| v.to_str().ok())
    {
        None => Ok(None),
        Some(name) => Algorithm::from_name(name).map(Some).ok_or_else(|| {
            S3Error::new(
                Code::InvalidRequest,
                "Checksum algorithm provided is unsupported.",
            )
        }),
    }
}

pub async fn create_multipart_upload(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let (bucket, key, parts) = (req.bucket, req.key, req.parts);
    check_key(key)?;
    let headers = object_headers(&parts.headers)?;
    let algorithm = checksum_algorithm(parts)?;
    let upload = ctx
        .index()
        .create_upload(
            bucket.to_owned(),
            key.to_owned(),
            headers,
            algorithm.map(|a| a.name().to_owned()),
        )
        .await?;
    let mut response = document(&InitiateMultipartUploadResult {
        xmlns: Xmlns::default(),
        bucket,
        key,
        upload_id: &upload.id,
    })?;
    if let Some(a) = algorithm {
        response.headers_mut().insert(
            "x-amz-checksum-algorithm",
            http::HeaderValue::from_static(a.name()),
        );
    }
    Ok(response)
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
    if want.checksum.is_none() {
        // Parts of an upload with a checksum algorithm carry that checksum.
        want.checksum = upload
            .checksum_algorithm
            .as_deref()
            .and_then(Algorithm::from_name)
            .map(|a| (a, None));
    }
    let written = write_body(ctx, reader, &want).await?;
    let checksum = want
        .checksum
        .as_ref()
        .and_then(|(a, _)| written.digests.checksum(*a).map(|v| (*a, v.to_owned())));
    let part = Part {
        number,
        blob: written.blob.clone(),
        size: written.size,
        etag: written.digests.etag(),
        checksum: checksum.as_ref().map(|(_, v)| v.clone()),
        last_modified: now_ms(),
    };
    let etag = part.etag.clone();
    match ctx
        .index()
        .put_part(bucket.to_owned(), key.to_owned(), id, part)
        .await
    {
        Ok(replaced) => ctx.blobs().remove(replaced.into_iter().collect()).await,
        Err(e) => {
            ctx.blobs().remove(vec![written.blob]).await;
            return Err(e.into());
        }
    }
    let mut builder = Response::builder().header("etag", format!("\"{etag}\""));
    if let Some((a, v)) = checksum {
        builder = builder.header(a.header(), v);
    }
    finish(builder, crate::http::empty())
}

/// The (part number, ETag) list of a CompleteMultipartUpload body.
fn chosen_parts(body: &[u8]) -> S3Result<Vec<(u32, String)>> {
    let doc: CompleteMultipartUpload = read(body)?;
    let chosen: Vec<(u32, String)> = doc
        .parts
        .into_iter()
        .map(|p| {
            let number = p
                .part_number
                .trim()
                .parse()
                .map_err(|_| Code::MalformedXML)?;
            Ok((number, p.etag.trim().to_owned()))
        })
        .collect::<S3Result<_>>()?;
    // The schema requires at least one Part; S3 answers an empty list as malformed.
    if chosen.is_empty() {
        return Err(Code::MalformedXML.into());
    }
    Ok(chosen)
}

pub async fn complete_multipart_upload(ctx: &Ctx<'_>, req: Req<'_>, upload: UploadId) -> Reply {
    let (bucket, key, parts, mut reader) = (req.bucket, req.key, req.parts, req.body);
    let UploadId(id) = upload;
    let condition = write_condition(&parts.headers)?;
    let body = read_small(&mut reader, 4 * 1024 * 1024).await?;
    let chosen = chosen_parts(&body)?;
    let finish_upload = |upload: &crate::objects::Upload, parts: &[Part]| {
        let md5s: Vec<[u8; 16]> = parts
            .iter()
            .map(|p| {
                hex::decode(&p.etag)
                    .ok()
                    .and_then(|b| <[u8; 16]>::try_from(b).ok())
            })
            .collect::<Option<_>>()
            .ok_or_else(|| IndexError::InvalidPart("A part's ETag is not an MD5".into()))?;
        let checksum = upload
            .checksum_algorithm
            .as_deref()
            .and_then(Algorithm::from_name)
            .and_then(|a| {
                let values: Option<Vec<&str>> =
                    parts.iter().map(|p| p.checksum.as_deref()).collect();
                values.and_then(|v| composite_checksum(a, &v))
            });
        Ok(crate::objects::multipart::Completion {
            etag: multipart_etag(&md5s),
            checksum,
        })
    };
    let (object, unused) = ctx
        .index()
        .complete_upload(
            bucket.to_owned(),
            key.to_owned(),
            id,
            chosen,
            condition,
            finish_upload,
        )
        .await?;
    ctx.blobs().remove(unused).await;
    let location = format!("/{bucket}/{key}");
    let etag = format!("\"{}\"", object.etag);
    let checksum = object
        .checksum_algorithm
        .as_deref()
        .and_then(Algorithm::from_name)
        .zip(object.checksum.as_deref())
        .map(|(algorithm, value)| Checksum { algorithm, value });
    document(&CompleteMultipartUploadResult {
        xmlns: Xmlns::default(),
        location: &location,
        bucket,
        key,
        etag: &etag,
        checksum_type: checksum.as_ref().map(|_| "COMPOSITE"),
        checksum,
    })
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
