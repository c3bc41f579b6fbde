//! Objects: the prefix ("folder") browser over ListObjectsV2 (one page of at most 200 keys per
//! view, never a count, so it stays fast on any bucket), deleting what is selected
//! (DeleteObjects), downloads streamed from GetObject, object details (HeadObject, tags,
//! versions), uploads (PutObject, or multipart driven by `static/console.js`, each part's body
//! streamed from the browser into UploadPart) and share links (a presigned GET).
//!
//! Invariant: every key, metadata value and tag is rendered by an escaping template; every
//! change is an S3 request made as the signed-in principal, offered only when `s3_allows` says
//! the principal may make it.

use askama::Template;
use bytes::Bytes;
use http::{request, Method, Response, StatusCode};
use percent_encoding::utf8_percent_encode;
use serde::Deserialize;

use super::page::{self, Form};
use super::{Ctx, Layout};
use crate::auth::sigv4::URI_ENCODE;
use crate::http::Body;

/// Keys per page: one ListObjectsV2 request per view.
const PAGE_KEYS: usize = 200;

/// `/bucket/key` for an in-process S3 request: every byte of the key but the unreserved ones
/// percent-encoded (the router decodes the whole path, so `/` may travel as `%2F`).
pub fn object_uri(bucket: &str, key: &str) -> String {
    format!(
        "/{}/{}",
        utf8_percent_encode(bucket, URI_ENCODE),
        utf8_percent_encode(key, URI_ENCODE)
    )
}

fn bucket_uri(bucket: &str) -> String {
    format!("/{}", utf8_percent_encode(bucket, URI_ENCODE))
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct ListBucketResult {
    #[serde(default)]
    contents: Vec<Contents>,
    #[serde(default)]
    common_prefixes: Vec<CommonPrefix>,
    #[serde(default)]
    next_continuation_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Contents {
    key: String,
    #[serde(default)]
    last_modified: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    storage_class: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CommonPrefix {
    prefix: String,
}

/// One object in the listing.
pub struct Row {
    pub key: String,
    /// The part after the prefix, as shown.
    pub name: String,
    pub size: String,
    pub modified: String,
    pub class: String,
}

/// One folder (common prefix) in the listing.
pub struct Folder {
    pub prefix: String,
    pub name: String,
}

/// One step of the breadcrumb.
pub struct Crumb {
    pub prefix: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "console/objects.html")]
struct ObjectsPage {
    principal: Option<String>,
    csrf: String,
    flash: Option<super::session::Flash>,
    section: &'static str,
    bucket: String,
    prefix: String,
    crumbs: Vec<Crumb>,
    folders: Vec<Folder>,
    rows: Vec<Row>,
    next: Option<String>,
    paged: bool,
    error: Option<String>,
    can_delete: bool,
    can_upload: bool,
}

/// The breadcrumb of `prefix`: each `a/`, `a/b/`… with its last segment.
fn crumbs(prefix: &str) -> Vec<Crumb> {
    let mut out = Vec::new();
    let mut end = 0;
    for segment in prefix.split_inclusive('/') {
        end += segment.len();
        out.push(Crumb {
            prefix: prefix[..end].to_owned(),
            name: segment.to_owned(),
        });
    }
    out
}

/// `GET /objects?bucket=B&prefix=P&after=TOKEN`: one page of the folder.
pub async fn list(ctx: &Ctx, parts: &request::Parts) -> Response<Body> {
    let query = page::query(parts);
    let bucket = query.get("bucket").cloned().unwrap_or_default();
    let prefix = query.get("prefix").cloned().unwrap_or_default();
    let after = query.get("after").cloned().unwrap_or_default();
    if bucket.is_empty() {
        return page::see_other("/buckets");
    }
    let mut uri = format!(
        "{}?list-type=2&delimiter=%2F&max-keys={PAGE_KEYS}&prefix={}",
        bucket_uri(&bucket),
        utf8_percent_encode(&prefix, URI_ENCODE)
    );
    if !after.is_empty() {
        uri.push_str("&continuation-token=");
        uri.extend(utf8_percent_encode(&after, URI_ENCODE));
    }
    let (listing, error) = match ctx.client.s3_get(&uri).await.ok() {
        Ok(reply) => match quick_xml::de::from_reader::<_, ListBucketResult>(&reply.body[..]) {
            Ok(list) => (list, None),
            Err(e) => {
                tracing::error!(error = %e, "console: a listing could not be read");
                (
                    ListBucketResult::default(),
                    Some("The listing could not be read.".to_owned()),
                )
            }
        },
        Err(refusal) => (
            ListBucketResult::default(),
            Some(format!("Listing {bucket}: {refusal}")),
        ),
    };
    let strip = |s: &str| s.strip_prefix(prefix.as_str()).unwrap_or(s).to_owned();
    let folders = listing
        .common_prefixes
        .into_iter()
        .map(|p| Folder {
            name: strip(&p.prefix),
            prefix: p.prefix,
        })
        .collect();
    let rows = listing
        .contents
        .into_iter()
        .map(|c| Row {
            name: strip(&c.key),
            key: c.key,
            size: super::size(c.size),
            modified: c.last_modified.replace('T', " ").chars().take(19).collect(),
            class: c.storage_class,
        })
        .collect();
    // A key no policy is likely to single out stands for the ones the principal will pick.
    let any = object_uri(&bucket, &format!("{prefix}console-any-key"));
    let can_delete = ctx.client.s3_allows(Method::DELETE, &any).await;
    let can_upload = ctx.client.s3_allows(Method::PUT, &any).await;
    let Layout {
        principal,
        csrf,
        flash,
        section,
    } = ctx.layout("buckets");
    page::render(
        StatusCode::OK,
        &ObjectsPage {
            principal,
            csrf,
            flash,
            section,
            crumbs: crumbs(&prefix),
            bucket,
            prefix,
            folders,
            rows,
            next: listing.next_continuation_token.filter(|t| !t.is_empty()),
            paged: !after.is_empty(),
            error,
            can_delete,
            can_upload,
        },
    )
}

/// Where the browser goes back to: the folder it came from.
fn folder_location(bucket: &str, prefix: &str) -> String {
    format!(
        "/objects?bucket={}&prefix={}",
        page::encode(bucket),
        page::encode(prefix)
    )
}

/// The XML text of `text`.
fn xml_text(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// `POST /objects/delete` (bucket, prefix, key…): DeleteObjects as the signed-in principal.
pub async fn delete(ctx: &Ctx, form: &Form) -> Response<Body> {
    let bucket = form.get("bucket");
    let prefix = form.get("prefix");
    let keys = form.all("key");
    let back = folder_location(bucket, prefix);
    if keys.is_empty() {
        ctx.session.set_flash(false, "Nothing was selected.");
        return page::see_other(&back);
    }
    let mut body = String::from("<Delete><Quiet>false</Quiet>");
    for key in keys.iter().take(1000) {
        body.push_str("<Object><Key>");
        body.push_str(&xml_text(key));
        body.push_str("</Key></Object>");
    }
    body.push_str("</Delete>");
    let uri = format!("{}?delete", bucket_uri(bucket));
    let reply = ctx
        .client
        .s3(
            Method::POST,
            &uri,
            &[("content-type", "application/xml")],
            Bytes::from(body),
        )
        .await;
    match reply.ok() {
        Ok(reply) => {
            let answer: DeleteResult =
                quick_xml::de::from_reader(&reply.body[..]).unwrap_or_default();
            match answer.error.first() {
                None => ctx
                    .session
                    .set_flash(true, format!("Deleted {} object(s).", answer.deleted.len())),
                Some(first) => ctx.session.set_flash(
                    false,
                    format!(
                        "Deleted {}; {} not deleted ({}: {}: {}).",
                        answer.deleted.len(),
                        answer.error.len(),
                        first.key,
                        first.code,
                        first.message
                    ),
                ),
            }
        }
        Err(refusal) => ctx
            .session
            .set_flash(false, format!("Nothing was deleted: {refusal}")),
    }
    page::see_other(&back)
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct DeleteResult {
    #[serde(default)]
    deleted: Vec<Deleted>,
    #[serde(default)]
    error: Vec<DeleteError>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Deleted {
    #[serde(default)]
    #[allow(dead_code)]
    key: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteError {
    #[serde(default)]
    key: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// RFC 5987's `filename*=UTF-8''…`, with a plain ASCII `filename=` for old clients.
fn attachment(key: &str) -> String {
    let name = key
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("download");
    let ascii: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '_',
        })
        .collect();
    format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        utf8_percent_encode(name, URI_ENCODE)
    )
}

/// `GET /download?bucket&key[&versionId]`: GetObject streamed through, as an attachment.
pub async fn download(ctx: &Ctx, parts: &request::Parts) -> Response<Body> {
    let query = page::query(parts);
    let bucket = query.get("bucket").map_or("", String::as_str);
    let key = query.get("key").map_or("", String::as_str);
    let mut uri = object_uri(bucket, key);
    if let Some(version) = query.get("versionId").filter(|v| !v.is_empty()) {
        uri.push_str("?versionId=");
        uri.extend(utf8_percent_encode(version, URI_ENCODE));
    }
    let mut request = http::Request::new(crate::http::RequestBody::from_bytes(Bytes::new()));
    *request.uri_mut() = match uri.parse() {
        Ok(uri) => uri,
        Err(_) => return page::plain(StatusCode::BAD_REQUEST, "That is not an object."),
    };
    let mut response = ctx.client.s3_response(request).await;
    if response.status().is_success() {
        if let Ok(value) = http::HeaderValue::from_str(&attachment(key)) {
            response
                .headers_mut()
                .insert(http::header::CONTENT_DISPOSITION, value);
        }
    }
    response
}

pub use super::xml::Tag;

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct ListVersionsResult {
    #[serde(default)]
    version: Vec<VersionEntry>,
    #[serde(default)]
    delete_marker: Vec<VersionEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VersionEntry {
    key: String,
    #[serde(default)]
    version_id: String,
    #[serde(default)]
    is_latest: bool,
    #[serde(default)]
    last_modified: String,
    #[serde(default)]
    size: u64,
}

/// One version of the object.
pub struct Version {
    pub id: String,
    pub latest: bool,
    pub marker: bool,
    pub modified: String,
    pub size: String,
}

#[derive(Template)]
#[template(path = "console/object.html")]
struct ObjectPage {
    principal: Option<String>,
    csrf: String,
    flash: Option<super::session::Flash>,
    section: &'static str,
    bucket: String,
    key: String,
    error: Option<String>,
    headers: Vec<(String, String)>,
    metadata: Vec<(String, String)>,
    tags: Vec<Tag>,
    versions: Vec<Version>,
    offer: Offers,
}

/// What the details page offers: each only when the principal may do it. Independent yes/no
/// answers of the evaluator, so bools are what they are.
#[allow(clippy::struct_excessive_bools)]
pub struct Offers {
    pub get: bool,
    pub tag: bool,
    pub restore: bool,
    pub delete_version: bool,
}

/// The HeadObject headers the details page shows, in this order.
const SHOWN: [&str; 11] = [
    "content-type",
    "content-length",
    "etag",
    "last-modified",
    "cache-control",
    "content-encoding",
    "content-disposition",
    "x-amz-storage-class",
    "x-amz-version-id",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
];

/// `GET /object?bucket&key`: HeadObject, tags and versions.
pub async fn details(ctx: &Ctx, parts: &request::Parts) -> Response<Body> {
    let query = page::query(parts);
    let bucket = query.get("bucket").cloned().unwrap_or_default();
    let key = query.get("key").cloned().unwrap_or_default();
    let uri = object_uri(&bucket, &key);
    let head = ctx
        .client
        .s3(
            Method::HEAD,
            &uri,
            &[("x-amz-checksum-mode", "ENABLED")],
            Bytes::new(),
        )
        .await;
    let mut error = None;
    let (mut headers, mut metadata) = (Vec::new(), Vec::new());
    if head.status.is_success() {
        for name in SHOWN {
            if let Some(value) = head.header(name) {
                headers.push((name.to_owned(), value.to_owned()));
            }
        }
        for (name, value) in &head.headers {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            if name.as_str().starts_with("x-amz-checksum-") {
                headers.push((name.as_str().to_owned(), value));
            } else if let Some(meta) = name.as_str().strip_prefix("x-amz-meta-") {
                metadata.push((meta.to_owned(), value));
            }
        }
    } else {
        error = Some(format!("The object could not be read ({}).", head.status));
    }
    let tags = match ctx.client.s3_get(&format!("{uri}?tagging")).await.ok() {
        Ok(reply) => super::xml::tags(&reply.body),
        Err(_) => Vec::new(),
    };
    let versions_uri = format!(
        "{}?versions&prefix={}&max-keys=100",
        bucket_uri(&bucket),
        utf8_percent_encode(&key, URI_ENCODE)
    );
    let versions = match ctx.client.s3_get(&versions_uri).await.ok() {
        Ok(reply) => {
            let list: ListVersionsResult =
                quick_xml::de::from_reader(&reply.body[..]).unwrap_or_default();
            let mut out: Vec<(bool, VersionEntry)> = list
                .version
                .into_iter()
                .map(|v| (false, v))
                .chain(list.delete_marker.into_iter().map(|v| (true, v)))
                .filter(|(_, v)| v.key == key)
                .collect();
            out.sort_by(|a, b| b.1.last_modified.cmp(&a.1.last_modified));
            out.into_iter()
                .map(|(marker, v)| Version {
                    id: v.version_id,
                    latest: v.is_latest,
                    marker,
                    modified: v.last_modified.replace('T', " ").chars().take(19).collect(),
                    size: super::size(v.size),
                })
                .collect()
        }
        Err(_) => Vec::new(),
    };
    let can_get = ctx.client.s3_allows(Method::GET, &uri).await;
    let can_tag = ctx
        .client
        .s3_allows(Method::PUT, &format!("{uri}?tagging"))
        .await;
    let can_restore = ctx.client.s3_allows(Method::PUT, &uri).await;
    let can_delete_version = ctx
        .client
        .s3_allows(Method::DELETE, &format!("{uri}?versionId=null"))
        .await;
    let Layout {
        principal,
        csrf,
        flash,
        section,
    } = ctx.layout("buckets");
    page::render(
        StatusCode::OK,
        &ObjectPage {
            principal,
            csrf,
            flash,
            section,
            bucket,
            key,
            error,
            headers,
            metadata,
            tags,
            versions,
            offer: Offers {
                get: can_get,
                tag: can_tag,
                restore: can_restore,
                delete_version: can_delete_version,
            },
        },
    )
}

fn object_location(bucket: &str, key: &str) -> String {
    format!(
        "/object?bucket={}&key={}",
        page::encode(bucket),
        page::encode(key)
    )
}

/// `POST /object/restore` (bucket, key, version): CopyObject from that version onto the key.
pub async fn restore(ctx: &Ctx, form: &Form) -> Response<Body> {
    let (bucket, key, version) = (form.get("bucket"), form.get("key"), form.get("version"));
    let source = format!(
        "{}?versionId={}",
        object_uri(bucket, key),
        utf8_percent_encode(version, URI_ENCODE)
    );
    let reply = ctx
        .client
        .s3(
            Method::PUT,
            &object_uri(bucket, key),
            &[("x-amz-copy-source", &source)],
            Bytes::new(),
        )
        .await;
    ctx.report(
        &reply,
        format!("Version {version} restored as the latest."),
        "Not restored",
    );
    page::see_other(&object_location(bucket, key))
}

/// `POST /object/delete-version` (bucket, key, version): DeleteObject of that version.
pub async fn delete_version(ctx: &Ctx, form: &Form) -> Response<Body> {
    let (bucket, key, version) = (form.get("bucket"), form.get("key"), form.get("version"));
    let uri = format!(
        "{}?versionId={}",
        object_uri(bucket, key),
        utf8_percent_encode(version, URI_ENCODE)
    );
    let reply = ctx.client.s3(Method::DELETE, &uri, &[], Bytes::new()).await;
    ctx.report(&reply, format!("Version {version} deleted."), "Not deleted");
    page::see_other(&object_location(bucket, key))
}

/// `POST /object/tags` (bucket, key, tags as `key=value` lines): PutObjectTagging.
pub async fn put_tags(ctx: &Ctx, form: &Form) -> Response<Body> {
    let (bucket, key) = (form.get("bucket"), form.get("key"));
    let body = super::xml::tagging(
        form.get("tags")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let (name, value) = line.split_once('=').unwrap_or((line, ""));
                (name.trim(), value.trim())
            }),
    );
    let reply = ctx
        .client
        .s3(
            Method::PUT,
            &format!("{}?tagging", object_uri(bucket, key)),
            &[],
            Bytes::from(body),
        )
        .await;
    ctx.report(&reply, "Tags saved.", "Tags not saved");
    page::see_other(&object_location(bucket, key))
}

/// A JSON answer for `console.js`.
fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut response = Response::new(crate::http::full(value.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// The API's refusal as JSON, with its status.
fn refused(status: StatusCode, refusal: &super::Refusal) -> Response<Body> {
    json(
        status,
        &serde_json::json!({ "code": refusal.code, "message": refusal.message }),
    )
}

/// `POST /upload/create` (bucket, key, type): CreateMultipartUpload; answers `{uploadId}`.
pub async fn upload_create(ctx: &Ctx, form: &Form) -> Response<Body> {
    let (bucket, key) = (form.get("bucket"), form.get("key"));
    let content_type = Some(form.get("type"))
        .filter(|t| !t.is_empty())
        .unwrap_or("application/octet-stream");
    let reply = ctx
        .client
        .s3(
            Method::POST,
            &format!("{}?uploads", object_uri(bucket, key)),
            &[("content-type", content_type)],
            Bytes::new(),
        )
        .await;
    let status = reply.status;
    match reply.ok() {
        Ok(reply) => {
            let created: InitiateMultipartUploadResult =
                quick_xml::de::from_reader(&reply.body[..]).unwrap_or_default();
            json(
                StatusCode::OK,
                &serde_json::json!({ "uploadId": created.upload_id }),
            )
        }
        Err(refusal) => refused(status, &refusal),
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct InitiateMultipartUploadResult {
    #[serde(default)]
    upload_id: String,
}

/// `PUT /upload/part?bucket&key&uploadId&partNumber` (UploadPart) and
/// `PUT /upload/object?bucket&key` (PutObject): the browser's body is handed to the API as it
/// arrives, never gathered here. Answers `{etag}`.
pub async fn upload_put(
    ctx: &Ctx,
    path: &str,
    parts: http::request::Parts,
    body: crate::http::RequestBody,
) -> Response<Body> {
    let query = page::query(&parts);
    let get = |name: &str| query.get(name).map_or("", String::as_str);
    let mut uri = object_uri(get("bucket"), get("key"));
    if path == "/upload/part" {
        uri.push_str(&format!(
            "?partNumber={}&uploadId={}",
            utf8_percent_encode(get("partNumber"), URI_ENCODE),
            utf8_percent_encode(get("uploadId"), URI_ENCODE)
        ));
    }
    let mut request = http::Request::new(body);
    *request.method_mut() = Method::PUT;
    *request.uri_mut() = match uri.parse() {
        Ok(uri) => uri,
        Err(_) => return page::plain(StatusCode::BAD_REQUEST, "That is not an object."),
    };
    // Only what describes the body travels on: its length and (for a whole object) its type.
    for name in [http::header::CONTENT_LENGTH, http::header::CONTENT_TYPE] {
        if name == http::header::CONTENT_TYPE && path == "/upload/part" {
            continue;
        }
        if let Some(value) = parts.headers.get(&name) {
            request.headers_mut().insert(name, value.clone());
        }
    }
    let response = ctx.client.s3_response(request).await;
    let status = response.status();
    let etag = response
        .headers()
        .get(http::header::ETAG)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let reply = super::call::collect(response).await;
    match reply.ok() {
        Ok(_) => json(StatusCode::OK, &serde_json::json!({ "etag": etag })),
        Err(refusal) => refused(status, &refusal),
    }
}

/// `POST /upload/complete` (bucket, key, uploadId, etag… in part order).
pub async fn upload_complete(ctx: &Ctx, form: &Form) -> Response<Body> {
    let (bucket, key, id) = (form.get("bucket"), form.get("key"), form.get("uploadId"));
    let mut body = String::from("<CompleteMultipartUpload>");
    for (n, etag) in form.all("etag").iter().enumerate() {
        body.push_str(&format!(
            "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>",
            n + 1,
            xml_text(etag)
        ));
    }
    body.push_str("</CompleteMultipartUpload>");
    let uri = format!(
        "{}?uploadId={}",
        object_uri(bucket, key),
        utf8_percent_encode(id, URI_ENCODE)
    );
    let reply = ctx
        .client
        .s3(Method::POST, &uri, &[], Bytes::from(body))
        .await;
    let status = reply.status;
    match reply.ok() {
        Ok(_) => json(StatusCode::OK, &serde_json::json!({ "done": true })),
        Err(refusal) => refused(status, &refusal),
    }
}

/// `POST /upload/abort` (bucket, key, uploadId): AbortMultipartUpload.
pub async fn upload_abort(ctx: &Ctx, form: &Form) -> Response<Body> {
    let (bucket, key, id) = (form.get("bucket"), form.get("key"), form.get("uploadId"));
    let uri = format!(
        "{}?uploadId={}",
        object_uri(bucket, key),
        utf8_percent_encode(id, URI_ENCODE)
    );
    let reply = ctx.client.s3(Method::DELETE, &uri, &[], Bytes::new()).await;
    let status = reply.status;
    match reply.ok() {
        Ok(_) => json(StatusCode::OK, &serde_json::json!({ "aborted": true })),
        Err(refusal) => refused(status, &refusal),
    }
}

#[derive(Template)]
#[template(path = "console/share.html")]
struct SharePage {
    principal: Option<String>,
    csrf: String,
    flash: Option<super::session::Flash>,
    section: &'static str,
    bucket: String,
    key: String,
    url: String,
    expires: String,
}

/// The base URL share links point at: `backend.admin.console.s3_url`, else the console's own
/// host name with the S3 listener's scheme and port.
fn s3_base(ctx: &Ctx, parts: &request::Parts) -> String {
    let state = &ctx.client.state;
    if let Some(url) = state.config.backend.admin.console.s3_url.as_deref() {
        if !url.trim().is_empty() {
            return url.trim().trim_end_matches('/').to_owned();
        }
    }
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    // `[::1]:6787` → `[::1]`; `example.com:6787` → `example.com`.
    let name = match host.rfind(']') {
        Some(end) => &host[..=end],
        None => host.split(':').next().unwrap_or(host),
    };
    let scheme = match state.tls.get(crate::state::Listener::S3) {
        Some(_) => "https",
        None => "http",
    };
    let port = state.readiness.port(crate::state::Listener::S3);
    format!("{scheme}://{name}:{port}")
}

/// `POST /share` (bucket, key, expires): a presigned GET signed with the principal's own key.
pub async fn share(ctx: &Ctx, parts: &request::Parts, form: &Form) -> Response<Body> {
    let (bucket, key) = (form.get("bucket"), form.get("key"));
    let expires: u64 = form
        .get("expires")
        .parse()
        .unwrap_or(3600)
        .clamp(1, 604_800);
    let path = object_uri(bucket, key);
    if !ctx.client.s3_allows(Method::GET, &path).await {
        ctx.session.set_flash(
            false,
            "AccessDenied: you may not read that object, so you may not share it.",
        );
        return page::see_other(&object_location(bucket, key));
    }
    let state = &ctx.client.state;
    let delegated = &ctx.client.delegated;
    let base = s3_base(ctx, parts);
    let region = state.config.backend.s3.region.clone();
    let token = delegated.token.as_ref().map(|t| t.expose().to_owned());
    let presign = crate::auth::sigv4::PresignGet {
        base: &base,
        path: &path,
        access_key: &delegated.access_key,
        token: token.as_deref(),
        region: &region,
        expires_secs: expires,
        now: std::time::SystemTime::now(),
    };
    let signed = crate::auth::with_key(
        state,
        &delegated.access_key,
        token.as_deref(),
        ("s3", &region),
        |e| e,
        |secret| Ok(presign.url(secret.expose())),
    );
    let Ok((_, Some(url))) = signed else {
        ctx.session
            .set_flash(false, "The share link could not be signed: sign in again.");
        return page::see_other(&object_location(bucket, key));
    };
    let expires = match expires {
        604_800 => "7 days".to_owned(),
        86_400 => "1 day".to_owned(),
        3600 => "1 hour".to_owned(),
        n => format!("{n} seconds"),
    };
    let Layout {
        principal,
        csrf,
        flash,
        section,
    } = ctx.layout("buckets");
    page::render(
        StatusCode::OK,
        &SharePage {
            principal,
            csrf,
            flash,
            section,
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            url,
            expires,
        },
    )
}
