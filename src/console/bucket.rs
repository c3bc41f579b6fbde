//! A bucket's settings page: versioning, Object Lock defaults, default encryption, ownership,
//! Block Public Access, tags, and the documents (bucket policy, lifecycle rules, CORS,
//! website) in editors. Each is read with its S3 GET and changed with its S3 PUT or DELETE as
//! the signed-in principal; each form is offered only when that principal may send it.

use askama::Template;
use bytes::Bytes;
use http::{Method, Response, StatusCode};
use quick_xml::escape::escape;

use super::editor::{self, Located};
use super::page::{self, Form};
use super::session::Flash;
use super::xml::{element, Tag};
use super::{Ctx, Layout};
use crate::http::Body;

/// The documents edited as text: their subresource and language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Policy,
    Lifecycle,
    Cors,
    Website,
}

impl DocKind {
    const ALL: [DocKind; 4] = [
        DocKind::Policy,
        DocKind::Lifecycle,
        DocKind::Cors,
        DocKind::Website,
    ];

    fn parse(name: &str) -> Option<DocKind> {
        DocKind::ALL.into_iter().find(|k| k.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            DocKind::Policy => "policy",
            DocKind::Lifecycle => "lifecycle",
            DocKind::Cors => "cors",
            DocKind::Website => "website",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            DocKind::Policy => "Bucket policy",
            DocKind::Lifecycle => "Lifecycle rules",
            DocKind::Cors => "CORS rules",
            DocKind::Website => "Static website",
        }
    }

    pub fn language(self) -> &'static str {
        match self {
            DocKind::Policy => "JSON",
            _ => "XML",
        }
    }

    /// The error S3 answers when the bucket has none.
    fn absent_code(self) -> &'static str {
        match self {
            DocKind::Policy => "NoSuchBucketPolicy",
            DocKind::Lifecycle => "NoSuchLifecycleConfiguration",
            DocKind::Cors => "NoSuchCORSConfiguration",
            DocKind::Website => "NoSuchWebsiteConfiguration",
        }
    }

    fn example(self) -> &'static str {
        match self {
            DocKind::Policy => "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n  ]\n}\n",
            DocKind::Lifecycle => "<LifecycleConfiguration>\n  <Rule>\n    <ID>expire-tmp</ID>\n    <Filter><Prefix>tmp/</Prefix></Filter>\n    <Status>Enabled</Status>\n    <Expiration><Days>7</Days></Expiration>\n  </Rule>\n</LifecycleConfiguration>\n",
            DocKind::Cors => "<CORSConfiguration>\n  <CORSRule>\n    <AllowedOrigin>https://example.com</AllowedOrigin>\n    <AllowedMethod>GET</AllowedMethod>\n  </CORSRule>\n</CORSConfiguration>\n",
            DocKind::Website => "<WebsiteConfiguration>\n  <IndexDocument><Suffix>index.html</Suffix></IndexDocument>\n</WebsiteConfiguration>\n",
        }
    }
}

/// One document section of the page.
#[expect(
    clippy::struct_excessive_bools,
    reason = "what the template shows: one flag per thing the principal may do"
)]
pub struct Doc {
    pub kind: DocKind,
    /// The stored document (pretty-printed), or the text a refused save posted.
    pub text: String,
    pub exists: bool,
    pub readable: bool,
    pub can_put: bool,
    pub can_delete: bool,
    /// Why the last save was refused, with where in the text.
    pub error: Option<Located>,
}

#[derive(Template)]
#[template(path = "console/bucket.html")]
#[expect(
    clippy::struct_excessive_bools,
    reason = "what the template shows: one flag per setting the principal may change"
)]
struct BucketPage {
    principal: Option<String>,
    csrf: String,
    flash: Option<Flash>,
    section: &'static str,
    bucket: String,
    versioning: Option<String>,
    can_versioning: bool,
    lock: Option<LockView>,
    can_lock: bool,
    encryption: Option<String>,
    can_encryption: bool,
    ownership: Option<String>,
    can_ownership: bool,
    public_access: Option<[bool; 4]>,
    can_public_access: bool,
    tags: Option<Vec<Tag>>,
    can_tags: bool,
    docs: Vec<Doc>,
}

/// Object Lock as the page shows it.
pub struct LockView {
    pub enabled: bool,
    pub mode: String,
    pub days: String,
    pub years: String,
}

const PUBLIC_ACCESS: [(&str, &str); 4] = [
    ("BlockPublicAcls", "Block public ACLs"),
    ("IgnorePublicAcls", "Ignore public ACLs"),
    ("BlockPublicPolicy", "Block public bucket policies"),
    ("RestrictPublicBuckets", "Restrict public buckets"),
];

/// The page's URI of bucket `b`.
fn here(bucket: &str) -> String {
    format!("/bucket?bucket={}", page::encode(bucket))
}

fn sub(bucket: &str, subresource: &str) -> String {
    format!("/{}?{subresource}", page::encode(bucket))
}

pub async fn show(
    ctx: &Ctx,
    bucket: &str,
    failed: Option<(DocKind, String, Located)>,
) -> Response<Body> {
    let c = &ctx.client;
    let Layout {
        principal,
        csrf,
        flash,
        section,
    } = ctx.layout("buckets");
    let get = |subresource: &'static str| async move { c.s3_get(&sub(bucket, subresource)).await };
    let put = |subresource: &'static str| async move {
        c.s3_allows(Method::PUT, &sub(bucket, subresource)).await
    };

    let versioning = get("versioning")
        .await
        .ok()
        .ok()
        .map(|r| element(&r.body, "Status").unwrap_or_else(|| "Never enabled".to_owned()));
    let lock = match get("object-lock").await.ok() {
        Ok(r) => Some(LockView {
            enabled: element(&r.body, "ObjectLockEnabled").as_deref() == Some("Enabled"),
            mode: element(&r.body, "Mode").unwrap_or_default(),
            days: element(&r.body, "Days").unwrap_or_default(),
            years: element(&r.body, "Years").unwrap_or_default(),
        }),
        Err(refusal) if refusal.code == "ObjectLockConfigurationNotFoundError" => Some(LockView {
            enabled: false,
            mode: String::new(),
            days: String::new(),
            years: String::new(),
        }),
        Err(_) => None,
    };
    let encryption = match get("encryption").await.ok() {
        Ok(r) => Some(element(&r.body, "SSEAlgorithm").unwrap_or_default()),
        Err(refusal) if refusal.code == "ServerSideEncryptionConfigurationNotFoundError" => {
            Some(String::new())
        }
        Err(_) => None,
    };
    let ownership = match get("ownershipControls").await.ok() {
        Ok(r) => element(&r.body, "ObjectOwnership"),
        Err(refusal) if refusal.code == "OwnershipControlsNotFoundError" => Some(String::new()),
        Err(_) => None,
    };
    let public_access = match get("publicAccessBlock").await.ok() {
        Ok(r) => {
            Some(PUBLIC_ACCESS.map(|(name, _)| element(&r.body, name).as_deref() == Some("true")))
        }
        Err(refusal) if refusal.code == "NoSuchPublicAccessBlockConfiguration" => Some([false; 4]),
        Err(_) => None,
    };
    let tags = match get("tagging").await.ok() {
        Ok(r) => Some(super::xml::tags(&r.body)),
        Err(refusal) if refusal.code == "NoSuchTagSet" => Some(Vec::new()),
        Err(_) => None,
    };
    let mut docs = Vec::with_capacity(DocKind::ALL.len());
    for kind in DocKind::ALL {
        let reply = c.s3_get(&sub(bucket, kind.name())).await;
        let (text, exists, readable) = match reply.ok() {
            Ok(r) => {
                let text = String::from_utf8_lossy(&r.body).into_owned();
                let pretty = match kind {
                    DocKind::Policy => editor::pretty_json(&text),
                    _ => editor::pretty_xml(&text),
                };
                (pretty, true, true)
            }
            Err(refusal) if refusal.code == kind.absent_code() => {
                (kind.example().to_owned(), false, true)
            }
            Err(_) => (String::new(), false, false),
        };
        let (text, error) = match &failed {
            Some((k, posted, located)) if *k == kind => (posted.clone(), Some(located.clone())),
            _ => (text, None),
        };
        docs.push(Doc {
            kind,
            text,
            exists,
            readable,
            can_put: c.s3_allows(Method::PUT, &sub(bucket, kind.name())).await,
            can_delete: c.s3_allows(Method::DELETE, &sub(bucket, kind.name())).await,
            error,
        });
    }
    let template = BucketPage {
        principal,
        csrf,
        flash,
        section,
        bucket: bucket.to_owned(),
        versioning,
        can_versioning: put("versioning").await,
        lock,
        can_lock: put("object-lock").await,
        encryption,
        can_encryption: put("encryption").await,
        ownership,
        can_ownership: put("ownershipControls").await,
        public_access,
        can_public_access: put("publicAccessBlock").await,
        tags,
        can_tags: put("tagging").await,
        docs,
    };
    let status = match failed {
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    };
    page::render(status, &template)
}

/// The page, or a refusal when the bucket cannot be read at all.
pub async fn page(ctx: &Ctx, bucket: &str) -> Response<Body> {
    if bucket.is_empty() {
        return page::see_other("/buckets");
    }
    show(ctx, bucket, None).await
}

/// Says what a change did (the flash) and goes back to the page.
fn done(ctx: &Ctx, bucket: &str, what: &str, reply: &super::Reply) -> Response<Body> {
    ctx.report(
        reply,
        format!("{what} updated."),
        &format!("{what} was not changed"),
    );
    page::see_other(&here(bucket))
}

/// POST /bucket/setting: one of the simple settings, from its form.
pub async fn setting(ctx: &Ctx, form: &Form) -> Response<Body> {
    let bucket = form.get("bucket");
    let c = &ctx.client;
    let put = |subresource: &'static str, xml: String| async move {
        c.s3(
            Method::PUT,
            &sub(bucket, subresource),
            &[],
            Bytes::from(xml),
        )
        .await
    };
    match form.get("setting") {
        "versioning" => {
            let status = match form.get("status") {
                "Enabled" => "Enabled",
                _ => "Suspended",
            };
            let reply = put(
                "versioning",
                format!(
                    "<VersioningConfiguration><Status>{status}</Status></VersioningConfiguration>"
                ),
            )
            .await;
            done(ctx, bucket, "Versioning", &reply)
        }
        "object-lock" => {
            let mode = form.get("mode");
            let period = match (form.get("days").trim(), form.get("years").trim()) {
                (days, _) if !days.is_empty() => format!("<Days>{}</Days>", escape(days)),
                (_, years) if !years.is_empty() => format!("<Years>{}</Years>", escape(years)),
                _ => String::new(),
            };
            let rule = match mode {
                "GOVERNANCE" | "COMPLIANCE" => format!(
                    "<Rule><DefaultRetention><Mode>{mode}</Mode>{period}</DefaultRetention></Rule>"
                ),
                _ => String::new(),
            };
            let reply = put(
                "object-lock",
                format!("<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>{rule}</ObjectLockConfiguration>"),
            )
            .await;
            done(ctx, bucket, "Object Lock", &reply)
        }
        "encryption" => {
            let reply = match form.get("algorithm") {
                "AES256" => {
                    put(
                        "encryption",
                        "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>".to_owned(),
                    )
                    .await
                }
                _ => c.s3(Method::DELETE, &sub(bucket, "encryption"), &[], Bytes::new()).await,
            };
            done(ctx, bucket, "Default encryption", &reply)
        }
        "ownership" => {
            let ownership = match form.get("ownership") {
                o @ ("BucketOwnerEnforced" | "BucketOwnerPreferred" | "ObjectWriter") => o,
                _ => "BucketOwnerEnforced",
            };
            let reply = put(
                "ownershipControls",
                format!("<OwnershipControls><Rule><ObjectOwnership>{ownership}</ObjectOwnership></Rule></OwnershipControls>"),
            )
            .await;
            done(ctx, bucket, "Object ownership", &reply)
        }
        "public-access" => {
            let mut xml = String::from("<PublicAccessBlockConfiguration>");
            for (name, _) in PUBLIC_ACCESS {
                let on = !form.get(name).is_empty();
                xml.push_str(&format!("<{name}>{on}</{name}>"));
            }
            xml.push_str("</PublicAccessBlockConfiguration>");
            let reply = put("publicAccessBlock", xml).await;
            done(ctx, bucket, "Block Public Access", &reply)
        }
        "tags" => {
            let keys = form.all("tag_key");
            let values = form.all("tag_value");
            let pairs: Vec<(&str, &str)> = keys
                .iter()
                .zip(values)
                .filter(|(key, _)| !key.trim().is_empty())
                .map(|(key, value)| (key.trim(), value.as_str()))
                .collect();
            let any = !pairs.is_empty();
            let xml = super::xml::tagging(pairs);
            let reply = match any {
                true => put("tagging", xml).await,
                false => {
                    c.s3(Method::DELETE, &sub(bucket, "tagging"), &[], Bytes::new())
                        .await
                }
            };
            done(ctx, bucket, "Tags", &reply)
        }
        _ => page::plain(StatusCode::BAD_REQUEST, "No such setting."),
    }
}

/// POST /bucket/document: saves or deletes a document; a refused save shows the page again
/// with the posted text and where the error is.
pub async fn document(ctx: &Ctx, form: &Form) -> Response<Body> {
    let bucket = form.get("bucket");
    let Some(kind) = DocKind::parse(form.get("kind")) else {
        return page::plain(StatusCode::BAD_REQUEST, "No such document.");
    };
    let uri = sub(bucket, kind.name());
    if form.get("action") == "delete" {
        let reply = ctx.client.s3(Method::DELETE, &uri, &[], Bytes::new()).await;
        return done(ctx, bucket, kind.title(), &reply);
    }
    let text = form.get("text").to_owned();
    // A JSON syntax error is found here, with its place; anything else is the API's to judge.
    if kind == DocKind::Policy {
        if let Err(located) = editor::check_json(&text) {
            return show(ctx, bucket, Some((kind, text, located))).await;
        }
    }
    let reply = ctx
        .client
        .s3(Method::PUT, &uri, &[], Bytes::from(text.clone()))
        .await;
    match reply.refusal() {
        None => {
            ctx.session
                .set_flash(true, format!("{} saved.", kind.title()));
            page::see_other(&here(bucket))
        }
        Some(refusal) => {
            let located = editor::locate(&text, &refusal.to_string());
            show(ctx, bucket, Some((kind, text, located))).await
        }
    }
}
