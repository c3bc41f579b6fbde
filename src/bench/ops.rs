//! The S3 operations the bench sends, one function each, named after the AWS operation. Each
//! returns what the workload needs to record and nothing else; any non-2xx answer is an
//! `OpError`.

use std::sync::Arc;
use std::time::Instant;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use http::Method;
use md5::{Digest, Md5};
use percent_encoding::{utf8_percent_encode, AsciiSet};

use super::client::{header, xml_texts, Client, OpError};
use super::payload::{self, Body, Contents, PayloadMode, Verifier};
use super::stats::Done;
use crate::auth::sigv4::URI_ENCODE;
use crate::xml::XmlWriter;

/// A key in a path: AWS's `UriEncode`, but `/` stays a separator.
const KEY_PATH: &AsciiSet = &URI_ENCODE.remove(b'/');

fn object_path(bucket: &str, key: &str) -> String {
    format!("/{bucket}/{}", utf8_percent_encode(key, KEY_PATH))
}

fn encode(value: &str) -> String {
    utf8_percent_encode(value, URI_ENCODE).to_string()
}

/// An object: where it lives and which contents it holds.
#[derive(Debug, Clone, Copy)]
pub struct Object<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub index: u64,
}

/// CreateBucket. `Ok(true)` when this call created it, `Ok(false)` when it was already ours.
/// Outside us-east-1 the region goes in a LocationConstraint, as AWS requires. A HeadBucket
/// comes first: in us-east-1 S3 answers a CreateBucket of a bucket one owns with 200, which
/// would pass an existing bucket off as created (and the cleanup would delete it).
pub async fn create_bucket(client: &Client, bucket: &str, region: &str) -> Result<bool, OpError> {
    let head = client
        .send_empty(Method::HEAD, &format!("/{bucket}"))
        .await?;
    // Anything but a 2xx goes on to CreateBucket, whose answer carries the error's code.
    if head.status().is_success() {
        client.drain(head, |_| {}).await?;
        return Ok(false);
    }
    let body = match region {
        "" | "us-east-1" => String::new(),
        region => {
            let mut xml = XmlWriter::new();
            xml.raw(
                r#"<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#,
            )
            .elem("LocationConstraint", region)
            .close("CreateBucketConfiguration");
            xml.finish()
        }
    };
    let hash = crate::auth::sigv4::sha256_hex(body.as_bytes());
    let headers = [("content-length", body.len().to_string())];
    let path = format!("/{bucket}");
    let response = client
        .send(Method::PUT, &path, &headers, Body::full(body), &hash)
        .await?;
    match client.success(response).await {
        Ok(_) => Ok(true),
        Err(OpError::Status { code, .. }) if code == "BucketAlreadyOwnedByYou" => Ok(false),
        Err(e) => Err(e),
    }
}

pub async fn delete_bucket(client: &Client, bucket: &str) -> Result<(), OpError> {
    let path = format!("/{bucket}");
    let response = client.send_empty(Method::DELETE, &path).await?;
    client.drain(response, |_| {}).await
}

/// PutObject of the whole object.
pub async fn put_object(
    client: &Client,
    contents: &Arc<Contents>,
    object: Object<'_>,
    mode: PayloadMode,
) -> Result<Done, OpError> {
    let size = contents.size();
    let upload = payload::upload(contents, object.index, (0, size), mode);
    let path = object_path(object.bucket, object.key);
    let response = client
        .send(
            Method::PUT,
            &path,
            &upload.headers,
            upload.body,
            &upload.payload_hash,
        )
        .await?;
    client.drain(response, |_| {}).await?;
    Ok(Done {
        bytes: size,
        objects: 1,
        ttfb: None,
    })
}

/// GetObject. The time to first byte is until the response head arrived. With `verify`, the
/// body is compared byte for byte with what was written; its length always is.
pub async fn get_object(
    client: &Client,
    contents: &Arc<Contents>,
    object: Object<'_>,
    verify: bool,
    started: Instant,
) -> Result<Done, OpError> {
    let path = object_path(object.bucket, object.key);
    let response = client.send_empty(Method::GET, &path).await?;
    let ttfb = started.elapsed();
    let mut received = 0u64;
    let mut verifier = verify.then(|| Verifier::new(contents, object.index));
    client
        .drain(response, |data| {
            received += data.len() as u64;
            if let Some(verifier) = &mut verifier {
                verifier.feed(data);
            }
        })
        .await?;
    if let Some(verifier) = verifier {
        verifier.finish().map_err(OpError::Verify)?;
    } else if received != contents.size() {
        return Err(OpError::Verify(format!(
            "body has {received} bytes, {} were written",
            contents.size()
        )));
    }
    Ok(Done {
        bytes: received,
        objects: 1,
        ttfb: Some(ttfb),
    })
}

/// HeadObject; the Content-Length must be the size written.
pub async fn head_object(
    client: &Client,
    contents: &Contents,
    object: Object<'_>,
) -> Result<Done, OpError> {
    let path = object_path(object.bucket, object.key);
    let response = client.send_empty(Method::HEAD, &path).await?;
    let response = client.success(response).await?;
    let length = header(&response, "content-length").and_then(|v| v.parse::<u64>().ok());
    if length != Some(contents.size()) {
        return Err(OpError::Verify(format!(
            "Content-Length is {length:?}, {} were written",
            contents.size()
        )));
    }
    Ok(Done {
        objects: 1,
        ..Done::default()
    })
}

pub async fn delete_object(client: &Client, object: Object<'_>) -> Result<Done, OpError> {
    let path = object_path(object.bucket, object.key);
    let response = client.send_empty(Method::DELETE, &path).await?;
    client.drain(response, |_| {}).await?;
    Ok(Done {
        objects: 1,
        ..Done::default()
    })
}

/// One ListObjectsV2 page.
#[derive(Debug, Default)]
pub struct Page {
    pub keys: Vec<String>,
    /// `Some` when the listing goes on.
    pub next: Option<String>,
}

/// ListObjectsV2: one page of `prefix`, from `token` on.
pub async fn list_objects_v2(
    client: &Client,
    bucket: &str,
    prefix: &str,
    max_keys: u32,
    token: Option<&str>,
) -> Result<Page, OpError> {
    let mut path = format!(
        "/{bucket}?list-type=2&max-keys={max_keys}&prefix={}",
        encode(prefix)
    );
    if let Some(token) = token {
        path.push_str("&continuation-token=");
        path.push_str(&encode(token));
    }
    let response = client.send_empty(Method::GET, &path).await?;
    let body = client.body_of(response).await?;
    let mut page = Page::default();
    let mut truncated = false;
    for (which, text) in xml_texts(&body, &["Key", "IsTruncated", "NextContinuationToken"]) {
        match which {
            0 => page.keys.push(text),
            1 => truncated = text == "true",
            _ => page.next = Some(text),
        }
    }
    match (truncated, &page.next) {
        (true, None) => Err(OpError::Verify(
            "a truncated ListObjectsV2 page has no NextContinuationToken".into(),
        )),
        (false, _) => Ok(Page { next: None, ..page }),
        (true, Some(_)) => Ok(page),
    }
}

/// DeleteObjects (quiet) with the Content-MD5 S3 requires; a key the server could not delete
/// fails the whole batch, named by its code.
pub async fn delete_objects(
    client: &Client,
    bucket: &str,
    keys: &[String],
) -> Result<Done, OpError> {
    let mut xml = XmlWriter::new();
    xml.open("Delete").elem("Quiet", "true");
    for key in keys {
        xml.open("Object").elem("Key", key).close("Object");
    }
    xml.close("Delete");
    let body = xml.finish();
    let md5 = BASE64.encode(Md5::digest(body.as_bytes()));
    let hash = crate::auth::sigv4::sha256_hex(body.as_bytes());
    let headers = [
        ("content-length", body.len().to_string()),
        ("content-md5", md5),
        ("content-type", "application/xml".to_owned()),
    ];
    let path = format!("/{bucket}?delete");
    let response = client
        .send(Method::POST, &path, &headers, Body::full(body), &hash)
        .await?;
    let answer = client.body_of(response).await?;
    if let Some((_, code)) = xml_texts(&answer, &["Code"]).into_iter().next() {
        let code = format!("{code} in the DeleteObjects result");
        return Err(OpError::Status { status: 200, code });
    }
    Ok(Done {
        objects: keys.len() as u64,
        ..Done::default()
    })
}

/// A whole multipart upload: CreateMultipartUpload, UploadPart for each `part_size` slice in
/// turn, CompleteMultipartUpload. A failure aborts the upload (best effort) and is returned.
pub async fn multipart_upload(
    client: &Client,
    contents: &Arc<Contents>,
    object: Object<'_>,
    part_size: u64,
    mode: PayloadMode,
) -> Result<Done, OpError> {
    let path = object_path(object.bucket, object.key);
    let upload_id = create_multipart_upload(client, &path).await?;
    let id = encode(&upload_id);
    let result = upload_parts(
        client,
        contents,
        object.index,
        (&path, &id),
        part_size,
        mode,
    )
    .await;
    let completed = match result {
        Ok(etags) => complete_multipart_upload(client, &path, &id, &etags).await,
        Err(e) => Err(e),
    };
    if let Err(e) = completed {
        let abort = format!("{path}?uploadId={id}");
        let _ = client.send_empty(Method::DELETE, &abort).await;
        return Err(e);
    }
    Ok(Done {
        bytes: contents.size(),
        objects: 1,
        ttfb: None,
    })
}

async fn create_multipart_upload(client: &Client, path: &str) -> Result<String, OpError> {
    let response = client
        .send_empty(Method::POST, &format!("{path}?uploads"))
        .await?;
    let body = client.body_of(response).await?;
    xml_texts(&body, &["UploadId"])
        .into_iter()
        .next()
        .map(|(_, id)| id)
        .ok_or_else(|| OpError::Verify("CreateMultipartUpload answered no UploadId".into()))
}

/// UploadPart for each part; their ETags, in part order.
async fn upload_parts(
    client: &Client,
    contents: &Arc<Contents>,
    index: u64,
    (path, upload_id): (&str, &str),
    part_size: u64,
    mode: PayloadMode,
) -> Result<Vec<String>, OpError> {
    let size = contents.size();
    let parts = size.div_ceil(part_size).max(1);
    // A capacity hint, none where the count does not fit a usize.
    let mut etags = Vec::with_capacity(usize::try_from(parts).unwrap_or(0));
    for part in 0..parts {
        let range = (part * part_size, ((part + 1) * part_size).min(size));
        let upload = payload::upload(contents, index, range, mode);
        let uri = format!("{path}?partNumber={}&uploadId={upload_id}", part + 1);
        let response = client
            .send(
                Method::PUT,
                &uri,
                &upload.headers,
                upload.body,
                &upload.payload_hash,
            )
            .await?;
        let response = client.success(response).await?;
        let etag = header(&response, "etag")
            .ok_or_else(|| OpError::Verify("UploadPart answered no ETag".into()))?
            .to_owned();
        client.drain(response, |_| {}).await?;
        etags.push(etag);
    }
    Ok(etags)
}

async fn complete_multipart_upload(
    client: &Client,
    path: &str,
    upload_id: &str,
    etags: &[String],
) -> Result<(), OpError> {
    let mut xml = XmlWriter::new();
    xml.open("CompleteMultipartUpload");
    for (number, etag) in etags.iter().enumerate() {
        xml.open("Part")
            .elem("PartNumber", &(number + 1).to_string())
            .elem("ETag", etag)
            .close("Part");
    }
    xml.close("CompleteMultipartUpload");
    let body = xml.finish();
    let hash = crate::auth::sigv4::sha256_hex(body.as_bytes());
    let headers = [
        ("content-length", body.len().to_string()),
        ("content-type", "application/xml".to_owned()),
    ];
    let uri = format!("{path}?uploadId={upload_id}");
    let response = client
        .send(Method::POST, &uri, &headers, Body::full(body), &hash)
        .await?;
    // S3 may answer 200 with an <Error> body when the completion fails late.
    let answer = client.body_of(response).await?;
    match xml_texts(&answer, &["Code"]).into_iter().next() {
        Some((_, code)) => Err(OpError::Status {
            status: 200,
            code: format!("{code} in the CompleteMultipartUpload result"),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_query_values_are_uri_encoded() {
        assert_eq!(object_path("b", "run/obj 1+2"), "/b/run/obj%201%2B2");
        assert_eq!(encode("a/b=c+d~e"), "a%2Fb%3Dc%2Bd~e");
    }
}
