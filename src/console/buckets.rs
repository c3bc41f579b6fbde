//! The bucket list (with each bucket's object count and size from the storage statistics),
//! and creating and deleting buckets.

use askama::Template;
use bytes::Bytes;
use http::{Method, Response, StatusCode};
use serde::Deserialize;

use super::page::{self, Form};
use super::{Ctx, Layout};
use crate::http::Body;

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct ListAllMyBucketsResult {
    #[serde(default)]
    buckets: BucketsElement,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct BucketsElement {
    #[serde(default)]
    bucket: Vec<BucketElement>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BucketElement {
    name: String,
    #[serde(default)]
    creation_date: String,
}

/// The bucket names of a ListBuckets answer.
pub fn names(body: &[u8]) -> Vec<String> {
    quick_xml::de::from_reader::<_, ListAllMyBucketsResult>(body)
        .map(|list| list.buckets.bucket.into_iter().map(|b| b.name).collect())
        .unwrap_or_default()
}

pub struct Row {
    pub name: String,
    pub objects: u64,
    pub size: String,
    pub created: String,
    /// Whether the principal may delete it (the button is offered only then).
    pub can_delete: bool,
}

#[derive(Template)]
#[template(path = "console/buckets.html")]
struct BucketsPage {
    principal: Option<String>,
    csrf: String,
    flash: Option<super::session::Flash>,
    section: &'static str,
    buckets: Vec<Row>,
    error: Option<String>,
    can_create: bool,
}

pub async fn list(ctx: &Ctx) -> Response<Body> {
    let Layout {
        principal,
        csrf,
        flash,
        section,
    } = ctx.layout("buckets");
    let (buckets, error) = match ctx.client.s3_get("/").await.ok() {
        Ok(reply) => match quick_xml::de::from_reader::<_, ListAllMyBucketsResult>(&reply.body[..])
        {
            Ok(list) => (rows(ctx, list).await, None),
            Err(e) => {
                tracing::error!(error = %e, "console: the bucket list could not be read");
                (
                    Vec::new(),
                    Some("The bucket list could not be read.".to_owned()),
                )
            }
        },
        Err(refusal) => (Vec::new(), Some(format!("Listing buckets: {refusal}"))),
    };
    // Offered when the principal may create some bucket: a name no policy is likely to single
    // out stands for the one they will type (the request itself is authorized as usual).
    let can_create = ctx.client.s3_allows(Method::PUT, "/new-bucket-name").await;
    page::render(
        StatusCode::OK,
        &BucketsPage {
            principal,
            csrf,
            flash,
            section,
            buckets,
            error,
            can_create,
        },
    )
}

async fn rows(ctx: &Ctx, list: ListAllMyBucketsResult) -> Vec<Row> {
    let stats = ctx.client.state.objects.storage_stats();
    let mut rows = Vec::with_capacity(list.buckets.bucket.len());
    for b in list.buckets.bucket {
        let usage = stats.usage(&b.name).unwrap_or_default();
        let can_delete = ctx
            .client
            .s3_allows(Method::DELETE, &format!("/{}", page::encode(&b.name)))
            .await;
        rows.push(Row {
            objects: usage.objects,
            size: super::size(usage.bytes),
            created: b.creation_date.get(..10).unwrap_or_default().to_owned(),
            name: b.name,
            can_delete,
        });
    }
    rows
}

/// CreateBucket, as the signed-in principal.
pub async fn create(ctx: &Ctx, form: &Form) -> Response<Body> {
    let name = form.get("bucket").trim();
    let uri = format!("/{}", page::encode(name));
    let reply = ctx.client.s3(Method::PUT, &uri, &[], Bytes::new()).await;
    ctx.report(
        &reply,
        format!("Bucket {name} created."),
        &format!("Bucket {name} was not created"),
    );
    page::see_other("/buckets")
}

/// DeleteBucket, as the signed-in principal.
pub async fn delete(ctx: &Ctx, form: &Form) -> Response<Body> {
    let name = form.get("bucket");
    let uri = format!("/{}", page::encode(name));
    let reply = ctx.client.s3(Method::DELETE, &uri, &[], Bytes::new()).await;
    ctx.report(
        &reply,
        format!("Bucket {name} deleted."),
        &format!("Bucket {name} was not deleted"),
    );
    page::see_other("/buckets")
}
