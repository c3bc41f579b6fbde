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
use base64::Engine;
use bytes::Bytes;
use http::{request, Method, Response, StatusCode};
use md5::{Digest, Md5};
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
    let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(body.as_bytes()));
    let uri = format!("{}?delete", bucket_uri(bucket));
    let reply = ctx
        .client
        .s3(
            Method::POST,
            &uri,
            &[("content-md5", &md5), ("content-type", "application/xml")],
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
