//! PostObject: browser form uploads. A `multipart/form-data` POST to the bucket carries the
//! object's key, headers and credentials as form fields before the `file` field, whose bytes
//! are the object. The fields are read (bounded), the policy's signature verified (SigV4
//! `x-amz-signature` or SigV2 `signature`), its conditions checked, and the upload authorized
//! as its signer for `s3:PutObject`, as PutObject is; then the file part is streamed through
//! the shared write path, never held whole in memory. Fields after the file are ignored, as
//! S3 ignores them.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html>
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-UsingHTTPPOST.html>

mod form;
mod policy;

use std::time::SystemTime;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;

use super::access::FormSignature;
use super::body::MAX_PUT;
use super::error::{Code, S3Error, S3Result};
use super::object::{self, Source};
use super::xml::document;
use super::{finish, Ctx, Reply, Req};
use crate::auth::{self, sigv2, sigv4, AuthError, Caller};
use crate::timefmt;
use form::{Form, PartHead};

/// S3's bound on the form fields before the file: 20 KB of names and values.
const MAX_FIELDS: usize = 20 * 1024;
/// The most bytes before the file part (fields with their part headers and delimiters).
const MAX_PRE_DATA: usize = 64 * 1024;
/// The most bytes read after the file part (fields S3 ignores, the closing delimiter).
const MAX_EPILOGUE: usize = 64 * 1024;

/// The fields that control the upload rather than stand for a header of the object.
const CONTROL_FIELDS: &[&str] = &[
    "key",
    "bucket",
    "policy",
    "signature",
    "awsaccesskeyid",
    "x-amz-signature",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-security-token",
    "success_action_status",
    "success_action_redirect",
    "redirect",
    "tagging",
    "acl",
];

/// The fields that are stored as the object's headers, under their own names.
const HEADER_FIELDS: &[&str] = &[
    "content-type",
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
    "content-md5",
    "x-amz-storage-class",
    "x-amz-checksum-algorithm",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-customer-algorithm",
    "x-amz-server-side-encryption-customer-key",
    "x-amz-server-side-encryption-customer-key-md5",
    "x-amz-object-lock-mode",
    "x-amz-object-lock-retain-until-date",
    "x-amz-object-lock-legal-hold",
];

/// The form's fields before the file, names as sent.
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn missing_field(name: &str) -> S3Error {
    S3Error::new(
        Code::InvalidArgument,
        format!(
            "Bucket POST must contain a field named '{name}'.  If it is specified, please check the order of the fields."
        ),
    )
    .with("ArgumentName", name)
}

pub async fn post_object(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let bucket = req.bucket;
    req.found.existing()?;
    let content_type = req
        .parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(boundary) = form::boundary(content_type) else {
        return Err(S3Error::new(
            Code::PreconditionFailed,
            "At least one of the pre-conditions you specified did not hold",
        )
        .with(
            "Condition",
            "Bucket POST must be of the enclosure-type multipart/form-data",
        ));
    };
    let mut body = req.body;
    let limit = MAX_PUT + (MAX_PRE_DATA + MAX_EPILOGUE) as u64;
    body.set_limit(limit, Code::EntityTooLarge.into());
    let mut form = Form::new(body, &boundary);
    let (fields, file) = read_fields(&mut form).await?;

    let key_field = fields.get("key").ok_or_else(|| missing_field("key"))?;
    let filename = file.filename.clone().unwrap_or_default();
    let key = key_field.replace("${filename}", &filename);
    if key.is_empty() {
        return Err(S3Error::new(
            Code::InvalidArgument,
            "User key must have a length greater than 0.",
        )
        .with("ArgumentName", "key"));
    }
    object::check_key(&key)?;

    let (caller, signature, range) = authenticate(ctx, &fields, bucket)?;
    let headers = object_headers(&fields)?;
    let tags = match fields.get("tagging") {
        Some(doc) => super::tagging::form_tags(doc.as_bytes())?,
        None => Vec::new(),
    };
    let access =
        ctx.access
            .for_form(caller.as_ref(), signature, (bucket, &key), &headers, &tags)?;
    let ctx = Ctx {
        state: ctx.state,
        access: &access,
        query: ctx.query,
    };
    let prepared = object::prepare(&ctx, &req.found, &headers, tags)?;
    let inline_max = ctx.inline_max();
    let source = FileSource::new(&mut form, range, inline_max).await?;
    let put = object::write_object(&ctx, bucket, &key, prepared, source).await?;
    let drained = form.drain(MAX_EPILOGUE).await.unwrap_or(false);

    let location = location(req.parts, ctx.access.secure(), bucket, &key);
    let mut builder = put.response(Response::builder());
    if !drained {
        builder = builder.header(http::header::CONNECTION, "close");
    }
    let redirect = fields
        .get("success_action_redirect")
        .or_else(|| fields.get("redirect"))
        .filter(|url| url.starts_with("http://") || url.starts_with("https://"));
    if let Some(url) = redirect {
        let separator = if url.contains('?') { '&' } else { '?' };
        let target = format!(
            "{url}{separator}bucket={}&key={}&etag={}",
            encode(bucket),
            encode(&key),
            encode(&format!("\"{}\"", put.etag))
        );
        return finish(
            builder
                .status(StatusCode::SEE_OTHER)
                .header(http::header::LOCATION, target),
            crate::http::empty(),
        );
    }
    let builder = builder.header(http::header::LOCATION, &location);
    match fields.get("success_action_status") {
        Some("200") => finish(builder.status(StatusCode::OK), crate::http::empty()),
        Some("201") => {
            let doc = document(&PostResponse {
                location,
                bucket: bucket.to_owned(),
                key: key.clone(),
                etag: format!("\"{}\"", put.etag),
            })?;
            let (parts, body) = doc.into_parts();
            let mut response = builder.status(StatusCode::CREATED);
            for (name, value) in &parts.headers {
                response = response.header(name, value);
            }
            finish(response, body)
        }
        // S3 answers 204 for any other value, and without one.
        _ => finish(builder.status(StatusCode::NO_CONTENT), crate::http::empty()),
    }
}

/// Reads the fields up to the `file` part: S3 requires the file last (the fields after it
/// are ignored) and at most 20 KB of fields before it.
async fn read_fields(form: &mut Form) -> S3Result<(Fields, PartHead)> {
    let mut pre_data = MAX_PRE_DATA;
    let mut budget = MAX_FIELDS;
    form.start(&mut pre_data).await?;
    let mut fields: Vec<(String, String)> = Vec::new();
    loop {
        let Some(head) = form.next_part(&mut pre_data).await? else {
            return Err(Code::IncorrectNumberOfFilesInPostRequest.into());
        };
        if head.name.eq_ignore_ascii_case("file") {
            return Ok((Fields(fields), head));
        }
        let value = form.value(budget.saturating_sub(head.name.len())).await?;
        let used = head.name.len() + value.len();
        budget = budget
            .checked_sub(used)
            .ok_or(S3Error::from(Code::MaxPostPreDataLengthExceededError))?;
        pre_data = pre_data.saturating_sub(value.len());
        let value = String::from_utf8(value.to_vec()).map_err(|_| form::malformed())?;
        if fields
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(&head.name))
        {
            return Err(S3Error::new(
                Code::InvalidArgument,
                format!("The form field {} is given more than once.", head.name),
            ));
        }
        fields.push((head.name, value));
    }
}

/// The form's signer (`None`: anonymous), how it signed, and the file sizes its policy
/// allows (least, most).
type Signer = (Option<Caller>, Option<FormSignature>, (u64, u64));

/// The form's signer, how it signed, and the file sizes its policy allows. A form without a
/// policy is anonymous (only a bucket policy can allow it); a form with one must be signed.
fn authenticate(ctx: &Ctx<'_>, fields: &Fields, bucket: &str) -> S3Result<Signer> {
    let Some(policy_text) = fields.get("policy") else {
        let signed = [
            "x-amz-signature",
            "signature",
            "awsaccesskeyid",
            "x-amz-credential",
        ]
        .into_iter()
        .find(|f| fields.get(f).is_some());
        if signed.is_some() {
            return Err(missing_field("policy"));
        }
        return Ok((None, None, (0, u64::MAX)));
    };
    let (caller, signature) = if fields.get("x-amz-signature").is_some()
        || fields.get("x-amz-algorithm").is_some()
        || fields.get("x-amz-credential").is_some()
    {
        (verify_v4(ctx, fields, policy_text)?, FormSignature::V4)
    } else {
        (verify_v2(ctx, fields, policy_text)?, FormSignature::V2)
    };
    let policy = policy::parse(policy_text)?;
    let now = timefmt::unix_seconds(SystemTime::now()) * 1000;
    policy.check(now, &fields.0, bucket)?;
    Ok((Some(caller), Some(signature), policy.length_range()))
}

fn verify_v4(ctx: &Ctx<'_>, fields: &Fields, policy: &str) -> S3Result<Caller> {
    let algorithm = fields
        .get("x-amz-algorithm")
        .ok_or_else(|| missing_field("x-amz-algorithm"))?;
    if algorithm != "AWS4-HMAC-SHA256" {
        return Err(S3Error::new(
            Code::InvalidArgument,
            "Unsupported value for x-amz-algorithm: only AWS4-HMAC-SHA256 is supported.",
        )
        .with("ArgumentName", "x-amz-algorithm"));
    }
    let credential = fields
        .get("x-amz-credential")
        .ok_or_else(|| missing_field("x-amz-credential"))?;
    let date = fields
        .get("x-amz-date")
        .ok_or_else(|| missing_field("x-amz-date"))?;
    let signature = fields
        .get("x-amz-signature")
        .ok_or_else(|| missing_field("x-amz-signature"))?;
    let credential = sigv4::form_credential(credential).map_err(|_| {
        S3Error::new(
            Code::InvalidArgument,
            "Invalid credential in x-amz-credential.",
        )
        .with("ArgumentName", "x-amz-credential")
    })?;
    if timefmt::parse_amz_date(date).is_none() || !date.starts_with(credential.date()) {
        return Err(S3Error::new(
            Code::InvalidArgument,
            "x-amz-date must be an ISO 8601 basic time (YYYYMMDD'T'HHMMSS'Z') on the credential's date.",
        )
        .with("ArgumentName", "x-amz-date"));
    }
    let token = fields.get("x-amz-security-token");
    auth::authenticate_form(ctx.state, &credential, token, policy, signature).map_err(|e| match e {
        AuthError::UnknownKey => Code::InvalidAccessKeyId.into(),
        AuthError::InvalidToken => Code::InvalidToken.into(),
        AuthError::ExpiredToken => Code::ExpiredToken.into(),
        AuthError::Malformed(m) => {
            S3Error::new(Code::InvalidArgument, m).with("ArgumentName", "x-amz-signature")
        }
        _ => Code::SignatureDoesNotMatch.into(),
    })
}

fn verify_v2(ctx: &Ctx<'_>, fields: &Fields, policy: &str) -> S3Result<Caller> {
    let access_key = fields
        .get("awsaccesskeyid")
        .ok_or_else(|| missing_field("AWSAccessKeyId"))?;
    let signature = fields
        .get("signature")
        .ok_or_else(|| missing_field("Signature"))?;
    let (caller, ()) = auth::with_key(
        ctx.state,
        access_key,
        fields.get("x-amz-security-token"),
        ("s3", ""),
        |e| match e {
            AuthError::InvalidToken => S3Error::from(Code::InvalidToken),
            AuthError::ExpiredToken => S3Error::from(Code::ExpiredToken),
            _ => S3Error::from(Code::InvalidAccessKeyId),
        },
        |secret| {
            sigv2::verify_form(policy, signature, secret)
                .map_err(|_| S3Error::from(Code::SignatureDoesNotMatch))
        },
    )?;
    Ok(caller)
}

/// The form's fields as the request headers a PutObject would carry: the content headers,
/// `x-amz-meta-*`, `x-amz-checksum-*`, the storage class and Object Lock fields under their
/// own names, `acl` as `x-amz-acl`. Any other `x-amz-*` field is refused: nothing is
/// accepted and ignored.
fn object_headers(fields: &Fields) -> S3Result<HeaderMap> {
    let mut headers = HeaderMap::new();
    for (name, value) in &fields.0 {
        let lower = name.to_ascii_lowercase();
        let target = if lower == "acl" {
            "x-amz-acl".to_owned()
        } else if CONTROL_FIELDS.contains(&lower.as_str()) || lower.starts_with("x-ignore-") {
            continue;
        } else if HEADER_FIELDS.contains(&lower.as_str())
            || lower.starts_with("x-amz-meta-")
            || lower.starts_with("x-amz-checksum-")
        {
            lower
        } else if lower.starts_with("x-amz-") {
            return Err(S3Error::new(
                Code::NotImplemented,
                format!("The form field {name} is not supported by this server."),
            ));
        } else {
            // S3 ignores the form's other fields, once the policy names them.
            continue;
        };
        let invalid = || {
            S3Error::new(
                Code::InvalidArgument,
                format!("The value of the form field {name} is not a valid header value."),
            )
        };
        let header = HeaderName::from_bytes(target.as_bytes()).map_err(|_| invalid())?;
        let value = HeaderValue::from_str(value).map_err(|_| invalid())?;
        headers.insert(header, value);
    }
    Ok(headers)
}

/// The file part as a write's source: counted against the policy's `content-length-range`
/// and S3's 5 GiB, and, when it ends within the inline size, announced with its length so
/// that it is stored inline with its row. At most `inline_max` bytes are read ahead.
struct FileSource<'f> {
    form: &'f mut Form,
    ahead: std::collections::VecDeque<Bytes>,
    announced: Option<u64>,
    size: u64,
    min: u64,
    max: u64,
}

impl<'f> FileSource<'f> {
    async fn new(form: &'f mut Form, (min, max): (u64, u64), inline_max: u64) -> S3Result<Self> {
        let mut source = FileSource {
            form,
            ahead: std::collections::VecDeque::new(),
            announced: None,
            size: 0,
            min,
            max: max.min(MAX_PUT),
        };
        let mut read = 0u64;
        loop {
            match source.form.file_chunk().await? {
                Some(chunk) => {
                    read += chunk.len() as u64;
                    source.ahead.push_back(chunk);
                    if read > inline_max {
                        break;
                    }
                }
                None => {
                    source.announced = Some(read);
                    source.ahead.push_back(Bytes::new());
                    break;
                }
            }
        }
        Ok(source)
    }

    async fn read(&mut self) -> S3Result<Option<Bytes>> {
        let chunk = match self.ahead.pop_front() {
            // The marker of a part read to its end while reading ahead.
            Some(chunk) if chunk.is_empty() && self.ahead.is_empty() => None,
            Some(chunk) => Some(chunk),
            None if self.announced.is_some() => None,
            None => self.form.file_chunk().await?,
        };
        match chunk {
            Some(chunk) => {
                self.size += chunk.len() as u64;
                if self.size > self.max {
                    return Err(too_large(self.max));
                }
                Ok(Some(chunk))
            }
            None if self.size < self.min => Err(S3Error::new(
                Code::EntityTooSmall,
                "Your proposed upload is smaller than the minimum allowed size",
            )
            .with("ProposedSize", self.size.to_string())
            .with("MinSizeAllowed", self.min.to_string())),
            None => {
                // Read to its end: later calls answer the end again.
                self.announced = Some(self.size);
                Ok(None)
            }
        }
    }
}

fn too_large(max: u64) -> S3Error {
    S3Error::new(
        Code::EntityTooLarge,
        "Your proposed upload exceeds the maximum allowed size",
    )
    .with("MaxSizeAllowed", max.to_string())
}

impl Source for FileSource<'_> {
    fn next(&mut self) -> impl std::future::Future<Output = S3Result<Option<Bytes>>> + Send {
        self.read()
    }

    fn announced_len(&self) -> Option<u64> {
        self.announced
    }

    fn trailers(&self) -> &[(String, String)] {
        &[]
    }
}

/// The characters a query value or a key's path segments keep unescaped.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn encode(value: &str) -> String {
    utf8_percent_encode(value, UNRESERVED).to_string()
}

/// The new object's URL, as S3 puts it in `Location`: the request's host, path-style unless
/// the bucket came from the host.
fn location(parts: &http::request::Parts, secure: bool, bucket: &str, key: &str) -> String {
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if secure { "https" } else { "http" };
    let key: Vec<String> = key.split('/').map(encode).collect();
    let key = key.join("/");
    match parts.uri.path().trim_start_matches('/').is_empty() {
        true => format!("{scheme}://{host}/{key}"),
        false => format!("{scheme}://{host}/{}/{key}", encode(bucket)),
    }
}

/// The answer to `success_action_status=201`.
#[derive(Debug, Serialize)]
#[serde(rename = "PostResponse")]
struct PostResponse {
    #[serde(rename = "Location")]
    location: String,
    #[serde(rename = "Bucket")]
    bucket: String,
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "ETag")]
    etag: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::xml::{assert_documented, to_xml};

    #[test]
    fn post_response_is_the_documented_document() {
        let doc = PostResponse {
            location: "https://bucketName.s3.amazonaws.com/key".into(),
            bucket: "bucketName".into(),
            key: "key".into(),
            etag: "\"etag\"".into(),
        };
        assert_documented(
            &to_xml(None, &doc).unwrap(),
            r#"<?xml version="1.0" encoding="UTF-8"?>
            <PostResponse>
              <Location>https://bucketName.s3.amazonaws.com/key</Location>
              <Bucket>bucketName</Bucket>
              <Key>key</Key>
              <ETag>"etag"</ETag>
            </PostResponse>"#,
        );
    }

    #[test]
    fn fields_become_headers_or_are_refused() {
        let fields = Fields(vec![
            ("Content-Type".into(), "text/plain".into()),
            ("acl".into(), "public-read".into()),
            ("x-amz-meta-who".into(), "me".into()),
            ("key".into(), "k".into()),
            ("submit".into(), "Upload".into()),
        ]);
        let headers = object_headers(&fields).unwrap();
        assert_eq!(headers["content-type"], "text/plain");
        assert_eq!(headers["x-amz-acl"], "public-read");
        assert_eq!(headers["x-amz-meta-who"], "me");
        assert_eq!(headers.len(), 3);
        let refused = Fields(vec![(
            "x-amz-server-side-encryption-aws-kms-key-id".into(),
            "k".into(),
        )]);
        assert_eq!(
            object_headers(&refused).unwrap_err().code,
            Code::NotImplemented
        );
    }
}
