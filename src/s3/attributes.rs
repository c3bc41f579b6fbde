//! GetObjectAttributes (`GET /bucket/key?attributes`): the attributes named in
//! `x-amz-object-attributes` (ETag, Checksum, ObjectParts, StorageClass, ObjectSize) in one
//! document, with `Last-Modified` as a header. No body is read.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html>
//!
//! An object's parts are its segments, in order: for a multipart object, one per part it was
//! completed from, under the number it was uploaded as (1, 3 and 7 for an upload completed
//! from parts 1, 3 and 7, as `partNumber` reads find them), with its size and, when the upload
//! had a checksum algorithm, its checksum. `x-amz-part-number-marker` is a part number.

use serde::Serialize;

use super::checksum::{object_checksum, Algorithm};
use super::error::{Code, S3Error, S3Result};
use super::read::lookup;
use super::xml::{document, Checksum, Xmlns};
use super::{Ctx, Reply, Req};
use crate::objects::ObjectMeta;
use crate::timefmt::format_http_date;

/// What `x-amz-object-attributes` asked for.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "five independent yes/no answers, one per attribute S3 defines"
)]
struct Wanted {
    etag: bool,
    checksum: bool,
    parts: bool,
    storage_class: bool,
    size: bool,
}

/// Reads `x-amz-object-attributes`: one or more comma-separated names (the header may also be
/// repeated). Missing or empty is S3's `InvalidRequest`; a name S3 does not know its
/// `InvalidArgument`.
fn wanted(headers: &http::HeaderMap) -> S3Result<Wanted> {
    let mut wanted = Wanted::default();
    let mut any = false;
    for value in headers.get_all("x-amz-object-attributes") {
        let text = value.to_str().map_err(|_| invalid_attribute())?;
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            any = true;
            let slot = match name {
                "ETag" => &mut wanted.etag,
                "Checksum" => &mut wanted.checksum,
                "ObjectParts" => &mut wanted.parts,
                "StorageClass" => &mut wanted.storage_class,
                "ObjectSize" => &mut wanted.size,
                _ => return Err(invalid_attribute()),
            };
            *slot = true;
        }
    }
    match any {
        true => Ok(wanted),
        false => Err(S3Error::new(
            Code::InvalidRequest,
            "The x-amz-object-attributes header specifying the attributes to be retrieved is \
             either missing or empty",
        )),
    }
}

fn invalid_attribute() -> S3Error {
    S3Error::new(Code::InvalidArgument, "Invalid attribute name specified.")
}

/// A numeric header S3 reads leniently: a value that is not a number is ignored (S3 answers
/// as if it were absent).
fn number_header(headers: &http::HeaderMap, name: &str) -> Option<usize> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// The most parts a page holds, S3's default and limit.
const MAX_PARTS: usize = 1000;

/// `<GetObjectAttributesResponse>`.
#[derive(Debug, Serialize)]
#[serde(rename = "GetObjectAttributesResponse")]
struct GetObjectAttributesResponse<'a> {
    #[serde(rename = "@xmlns")]
    xmlns: Xmlns,
    /// Without quotes, as S3 shows it here.
    #[serde(rename = "ETag", skip_serializing_if = "Option::is_none")]
    etag: Option<&'a str>,
    #[serde(rename = "Checksum", skip_serializing_if = "Option::is_none")]
    checksum: Option<ObjectChecksum<'a>>,
    #[serde(rename = "ObjectParts", skip_serializing_if = "Option::is_none")]
    object_parts: Option<ObjectParts<'a>>,
    #[serde(rename = "StorageClass", skip_serializing_if = "Option::is_none")]
    storage_class: Option<&'a str>,
    #[serde(rename = "ObjectSize", skip_serializing_if = "Option::is_none")]
    object_size: Option<u64>,
}

/// The object's checksum and whether it is of the whole object or of its parts.
#[derive(Debug, Serialize)]
struct ObjectChecksum<'a> {
    #[serde(rename = "$value")]
    value: Checksum<'a>,
    #[serde(rename = "ChecksumType")]
    checksum_type: &'static str,
}

#[derive(Debug, Serialize)]
struct ObjectParts<'a> {
    #[serde(rename = "IsTruncated")]
    is_truncated: bool,
    #[serde(rename = "MaxParts")]
    max_parts: usize,
    #[serde(
        rename = "NextPartNumberMarker",
        skip_serializing_if = "Option::is_none"
    )]
    next_part_number_marker: Option<usize>,
    #[serde(rename = "PartNumberMarker")]
    part_number_marker: usize,
    #[serde(rename = "Part")]
    parts: Vec<ObjectPart<'a>>,
    #[serde(rename = "PartsCount")]
    parts_count: usize,
}

#[derive(Debug, Serialize)]
struct ObjectPart<'a> {
    #[serde(rename = "$value", skip_serializing_if = "Option::is_none")]
    checksum: Option<Checksum<'a>>,
    #[serde(rename = "PartNumber")]
    part_number: usize,
    #[serde(rename = "Size")]
    size: u64,
}

/// The object's parts, from `x-amz-part-number-marker` on, at most `x-amz-max-parts` of them;
/// `None` for an object that was not uploaded in parts, as S3 answers. Parts are listed only
/// with their checksums (an upload with a checksum algorithm); without, only the count, as
/// S3 does for general purpose buckets.
fn object_parts<'a>(
    meta: &'a ObjectMeta,
    algorithm: Option<Algorithm>,
    headers: &http::HeaderMap,
) -> Option<ObjectParts<'a>> {
    meta.parts?;
    let max_parts = number_header(headers, "x-amz-max-parts")
        .unwrap_or(MAX_PARTS)
        .min(MAX_PARTS);
    let marker = number_header(headers, "x-amz-part-number-marker").unwrap_or(0);
    let count = meta.segments.len();
    // The marker is a part number, not a position: parts after it, by the numbers they were
    // uploaded as.
    let listed: Vec<(usize, &crate::objects::Segment)> = match algorithm {
        Some(_) => meta
            .segments
            .iter()
            .enumerate()
            .map(|(i, s)| (usize::try_from(s.number(i)).unwrap_or(usize::MAX), s))
            .filter(|(number, _)| *number > marker)
            .collect(),
        None => Vec::new(),
    };
    let is_truncated = listed.len() > max_parts;
    let page: Vec<ObjectPart<'a>> = listed
        .into_iter()
        .take(max_parts)
        .map(|(number, segment)| ObjectPart {
            checksum: algorithm
                .zip(segment.checksum.as_deref())
                .map(|(algorithm, value)| Checksum { algorithm, value }),
            part_number: number,
            size: segment.size,
        })
        .collect();
    Some(ObjectParts {
        is_truncated,
        max_parts,
        next_part_number_marker: page.last().map(|p| p.part_number),
        part_number_marker: marker,
        parts: page,
        parts_count: count,
    })
}

pub async fn get_object_attributes(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let wanted = wanted(&req.parts.headers)?;
    let customer = super::sse::for_read(ctx, &req.parts.headers)?;
    let meta = lookup(ctx, req.bucket, req.key, req.version).await?;
    // An SSE-C object's attributes are read with its key, as its bytes are.
    let reading = super::sse::Reading::Object;
    let target = (req.bucket, req.key);
    super::sse::open(ctx, meta.sse.as_ref(), customer.as_ref(), reading, target)?;
    let algorithm = meta
        .checksum_algorithm
        .as_deref()
        .and_then(Algorithm::from_name);
    // The value without a composite checksum's `-<parts>`: the part count is ObjectParts'.
    let checksum = object_checksum(&meta)
        .filter(|_| wanted.checksum)
        .map(|stored| ObjectChecksum {
            value: Checksum {
                algorithm: stored.algorithm,
                value: stored.bare_value(),
            },
            checksum_type: stored.kind.name(),
        });
    let doc = GetObjectAttributesResponse {
        xmlns: Xmlns::default(),
        etag: wanted.etag.then_some(meta.etag.as_str()),
        checksum,
        object_parts: wanted
            .parts
            .then(|| object_parts(&meta, algorithm, &req.parts.headers))
            .flatten(),
        storage_class: wanted.storage_class.then(|| meta.headers.storage_class()),
        object_size: wanted.size.then_some(meta.size),
    };
    let mut response = document(&doc)?;
    let modified = format_http_date(crate::timefmt::from_unix_seconds(meta.last_modified / 1000));
    if let Ok(value) = http::HeaderValue::from_str(&modified) {
        response.headers_mut().insert("last-modified", value);
    }
    let id = super::version::shown(&req, meta.version_id());
    if let Some(value) = id.and_then(|id| http::HeaderValue::from_str(&id).ok()) {
        response.headers_mut().insert("x-amz-version-id", value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::xml::{assert_documented, to_xml};

    /// The response syntax of AWS's page (which gives no example), filled in for a
    /// single-part object with a SHA-1 checksum.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html#API_GetObjectAttributes_ResponseSyntax>
    #[test]
    fn get_object_attributes_answers_as_documented() {
        let doc = GetObjectAttributesResponse {
            xmlns: Xmlns::default(),
            etag: Some("60e0bf9f5cd6fce1a1bd0c8c8a4e8d2f"),
            checksum: Some(ObjectChecksum {
                value: Checksum {
                    algorithm: Algorithm::Sha1,
                    value: "Y2hlY2tzdW0=",
                },
                checksum_type: "FULL_OBJECT",
            }),
            object_parts: None,
            storage_class: Some("STANDARD"),
            object_size: Some(16_384),
        };
        assert_documented(
            &to_xml(None, &doc).unwrap(),
            r#"<?xml version="1.0" encoding="UTF-8"?>
            <GetObjectAttributesResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <ETag>60e0bf9f5cd6fce1a1bd0c8c8a4e8d2f</ETag>
              <Checksum>
                <ChecksumSHA1>Y2hlY2tzdW0=</ChecksumSHA1>
                <ChecksumType>FULL_OBJECT</ChecksumType>
              </Checksum>
              <StorageClass>STANDARD</StorageClass>
              <ObjectSize>16384</ObjectSize>
            </GetObjectAttributesResponse>"#,
        );
    }

    #[test]
    fn the_attributes_header_is_read_as_s3_reads_it() {
        let headers = |values: &[&str]| {
            let mut map = http::HeaderMap::new();
            for v in values {
                map.append("x-amz-object-attributes", v.parse().unwrap());
            }
            map
        };
        let got = wanted(&headers(&["ETag,ObjectSize", "StorageClass"])).unwrap();
        assert_eq!(
            got,
            Wanted {
                etag: true,
                size: true,
                storage_class: true,
                ..Wanted::default()
            }
        );
        assert_eq!(
            wanted(&headers(&[])).unwrap_err().code,
            Code::InvalidRequest
        );
        assert_eq!(
            wanted(&headers(&[" , "])).unwrap_err().code,
            Code::InvalidRequest
        );
        assert_eq!(
            wanted(&headers(&["ETag,ETags"])).unwrap_err().code,
            Code::InvalidArgument
        );
        assert_eq!(
            wanted(&headers(&["etag"])).unwrap_err().code,
            Code::InvalidArgument
        );
    }
}
