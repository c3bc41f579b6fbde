//! S3 Object Ownership (Put/Get/DeleteBucketOwnershipControls) and Block Public Access
//! (Put/Get/DeletePublicAccessBlock): two bucket configuration kinds, and what CreateBucket
//! gives a new bucket. What they mean for ACLs and policies is enforced by `acl`,
//! `bucket_policy` and `access`.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketOwnershipControls.html>
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutPublicAccessBlock.html>
#![expect(
    clippy::unused_async,
    reason = "handlers share the async signature the operation table dispatches to; a configuration read is answered from memory"
)]

use http::{HeaderMap, Response, StatusCode};
use serde::{Deserialize, Serialize};

use super::acl;
use super::body::read_small;
use super::error::{Code, S3Error, S3Result};
use super::object::{check_whole_body, expected};
use super::xml::{document, read, RequestDocument, Xmlns};
use super::{finish, Ctx, Reply, Req};
use crate::objects::{
    BucketConfig, ConfigKind, Ownership, OwnershipControls, PublicAccessBlock, PublicAccessSettings,
};

/// The most bytes read from either configuration's body: both are a few elements.
const MAX_BODY: usize = 16 * 1024;

/// `<OwnershipControls>`: one rule naming the Object Ownership.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename = "OwnershipControls")]
struct OwnershipControlsDoc {
    #[serde(rename = "@xmlns", skip_deserializing, default)]
    xmlns: Xmlns,
    #[serde(rename = "Rule")]
    rules: Vec<Rule>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Rule {
    #[serde(rename = "ObjectOwnership")]
    object_ownership: String,
}

impl RequestDocument for OwnershipControlsDoc {
    const ROOT: &'static str = "OwnershipControls";
    const MAX_ELEMENTS: usize = 100;
}

/// `<PublicAccessBlockConfiguration>`: the four settings; one left out is false.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename = "PublicAccessBlockConfiguration")]
struct PublicAccessBlockDoc {
    #[serde(rename = "@xmlns", skip_deserializing, default)]
    xmlns: Xmlns,
    #[serde(rename = "BlockPublicAcls")]
    block_public_acls: Option<String>,
    #[serde(rename = "IgnorePublicAcls")]
    ignore_public_acls: Option<String>,
    #[serde(rename = "BlockPublicPolicy")]
    block_public_policy: Option<String>,
    #[serde(rename = "RestrictPublicBuckets")]
    restrict_public_buckets: Option<String>,
}

impl RequestDocument for PublicAccessBlockDoc {
    const ROOT: &'static str = "PublicAccessBlockConfiguration";
    const MAX_ELEMENTS: usize = 100;
}

impl PublicAccessBlockDoc {
    fn of(settings: PublicAccessSettings) -> PublicAccessBlockDoc {
        let text = |b: bool| Some(b.to_string());
        PublicAccessBlockDoc {
            xmlns: Xmlns::default(),
            block_public_acls: text(settings.block_public_acls),
            ignore_public_acls: text(settings.ignore_public_acls),
            block_public_policy: text(settings.block_public_policy),
            restrict_public_buckets: text(settings.restrict_public_buckets),
        }
    }

    /// The settings; a value other than `true` or `false` (any case) is `MalformedXML`.
    fn settings(&self) -> S3Result<PublicAccessSettings> {
        let flag = |value: &Option<String>| match value.as_deref().map(str::trim) {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(_) => Err(S3Error::from(Code::MalformedXML)),
        };
        Ok(PublicAccessSettings {
            block_public_acls: flag(&self.block_public_acls)?,
            ignore_public_acls: flag(&self.ignore_public_acls)?,
            block_public_policy: flag(&self.block_public_policy)?,
            restrict_public_buckets: flag(&self.restrict_public_buckets)?,
        })
    }
}

/// A configuration body, read whole and checked against `Content-MD5` and
/// `x-amz-checksum-*` when given.
pub(super) async fn body(req: Req<'_>) -> S3Result<Vec<u8>> {
    let (parts, mut reader) = (req.parts, req.body);
    let want = expected(&parts.headers)?;
    let body = read_small(&mut reader, MAX_BODY).await?;
    check_whole_body(&body, &want, reader.trailers())?;
    Ok(body.to_vec())
}

/// The Delete… of a bucket configuration of `kind`: the bucket must exist; 204 whether or not
/// it had one, as S3 answers.
pub(super) async fn delete_config(ctx: &Ctx<'_>, req: &Req<'_>, kind: ConfigKind) -> Reply {
    req.found.existing()?;
    ctx.index()
        .delete_bucket_config(req.bucket.to_owned(), kind)
        .await?;
    no_content()
}

fn no_content() -> Reply {
    finish(
        Response::builder().status(StatusCode::NO_CONTENT),
        crate::http::empty(),
    )
}

/// The Object Ownership of a `x-amz-object-ownership` header (CreateBucket).
pub fn ownership_header(headers: &HeaderMap) -> S3Result<Option<Ownership>> {
    let Some(value) = headers.get("x-amz-object-ownership") else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .map(str::trim)
        .and_then(Ownership::from_name)
        .map(Some)
        .ok_or_else(|| {
            S3Error::new(
                Code::InvalidArgument,
                "Invalid x-amz-object-ownership header",
            )
        })
}

pub async fn put_bucket_ownership_controls(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let bucket = req.found.existing()?.clone();
    let name = req.bucket.to_owned();
    let doc: OwnershipControlsDoc = read(&body(req).await?)?;
    let [rule] = doc.rules.as_slice() else {
        return Err(Code::MalformedXML.into());
    };
    let ownership = Ownership::from_name(rule.object_ownership.trim()).ok_or(Code::MalformedXML)?;
    // Disabling ACLs needs a bucket ACL that grants nothing beyond the owner: S3 refuses to
    // drop grants silently.
    let owner = acl::owner_id(ctx);
    let bucket_acl = bucket.configs.acl.as_ref().map(|a| &a.acl);
    if !ownership.acls_enabled() && bucket_acl.is_some_and(|a| !a.owner_only(&owner)) {
        return Err(Code::InvalidBucketAclWithObjectOwnership.into());
    }
    let config = BucketConfig::Ownership(OwnershipControls::new(ownership).into());
    ctx.index().put_bucket_config(name, config).await?;
    finish(Response::builder(), crate::http::empty())
}

pub async fn get_bucket_ownership_controls(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let bucket = req.found.existing()?;
    let controls = bucket
        .configs
        .ownership
        .as_ref()
        .ok_or(Code::OwnershipControlsNotFoundError)?;
    document(&OwnershipControlsDoc {
        xmlns: Xmlns::default(),
        rules: vec![Rule {
            object_ownership: controls.ownership.name().to_owned(),
        }],
    })
}

/// The bucket then behaves as `ObjectWriter` (ACLs apply), as in S3.
pub async fn delete_bucket_ownership_controls(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    delete_config(ctx, &req, ConfigKind::Ownership).await
}

pub async fn put_public_access_block(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    req.found.existing()?;
    let name = req.bucket.to_owned();
    let doc: PublicAccessBlockDoc = read(&body(req).await?)?;
    let config = BucketConfig::PublicAccessBlock(PublicAccessBlock::new(doc.settings()?).into());
    ctx.index().put_bucket_config(name, config).await?;
    finish(Response::builder(), crate::http::empty())
}

pub async fn get_public_access_block(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let bucket = req.found.existing()?;
    let block = bucket
        .configs
        .public_access_block
        .as_ref()
        .ok_or(Code::NoSuchPublicAccessBlockConfiguration)?;
    document(&PublicAccessBlockDoc::of(block.settings))
}

/// The bucket then blocks nothing.
pub async fn delete_public_access_block(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    delete_config(ctx, &req, ConfigKind::PublicAccessBlock).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::xml::{assert_documented, to_xml};

    /// AWS's GetBucketOwnershipControls response syntax, and its PutBucketOwnershipControls
    /// body read back.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketOwnershipControls.html>
    #[test]
    fn ownership_controls_answer_and_read_as_documented() {
        let doc = OwnershipControlsDoc {
            xmlns: Xmlns::default(),
            rules: vec![Rule {
                object_ownership: "BucketOwnerEnforced".into(),
            }],
        };
        let ours = to_xml(None, &doc).unwrap();
        assert_documented(
            &ours,
            r#"<?xml version="1.0" encoding="UTF-8"?>
            <OwnershipControls xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
               <Rule>
                  <ObjectOwnership>BucketOwnerEnforced</ObjectOwnership>
               </Rule>
            </OwnershipControls>"#,
        );
        let read_back: OwnershipControlsDoc = read(ours.as_bytes()).unwrap();
        assert_eq!(read_back.rules[0].object_ownership, "BucketOwnerEnforced");
    }

    /// AWS's GetPublicAccessBlock response example, and the Put body with a setting left out.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetPublicAccessBlock.html>
    #[test]
    fn public_access_blocks_answer_and_read_as_documented() {
        let doc = PublicAccessBlockDoc::of(PublicAccessSettings {
            block_public_acls: true,
            ignore_public_acls: true,
            block_public_policy: false,
            restrict_public_buckets: false,
        });
        assert_documented(
            &to_xml(None, &doc).unwrap(),
            r#"<?xml version="1.0" encoding="UTF-8"?>
            <PublicAccessBlockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
               <BlockPublicAcls>true</BlockPublicAcls>
               <IgnorePublicAcls>true</IgnorePublicAcls>
               <BlockPublicPolicy>false</BlockPublicPolicy>
               <RestrictPublicBuckets>false</RestrictPublicBuckets>
            </PublicAccessBlockConfiguration>"#,
        );
        let body = b"<PublicAccessBlockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
            <BlockPublicAcls>TRUE</BlockPublicAcls><RestrictPublicBuckets>true</RestrictPublicBuckets>\
            </PublicAccessBlockConfiguration>";
        let doc: PublicAccessBlockDoc = read(body).unwrap();
        assert_eq!(
            doc.settings().unwrap(),
            PublicAccessSettings {
                block_public_acls: true,
                restrict_public_buckets: true,
                ..PublicAccessSettings::default()
            }
        );
        let bad: PublicAccessBlockDoc = read(
            b"<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls>\
              </PublicAccessBlockConfiguration>",
        )
        .unwrap();
        assert_eq!(bad.settings().unwrap_err().code, Code::MalformedXML);
    }

    #[test]
    fn the_ownership_header_names_an_ownership() {
        let mut headers = HeaderMap::new();
        assert_eq!(ownership_header(&headers).unwrap(), None);
        headers.insert("x-amz-object-ownership", "ObjectWriter".parse().unwrap());
        assert_eq!(
            ownership_header(&headers).unwrap(),
            Some(Ownership::ObjectWriter)
        );
        headers.insert("x-amz-object-ownership", "Everyone".parse().unwrap());
        assert_eq!(
            ownership_header(&headers).unwrap_err().code,
            Code::InvalidArgument
        );
    }
}
