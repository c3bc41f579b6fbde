//! Object and bucket tags: Put/Get/DeleteObjectTagging, Put/Get/DeleteBucketTagging, the
//! `x-amz-tagging` header of the object writes, and S3's rules for a tag set.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html>
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectTagging.html>
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketTagging.html>
//!
//! A whole tag set is checked before anything is stored. PutObjectTagging's body is read and
//! checked by authorization (`access::Access::complete`), because its tags are the request's
//! `s3:RequestObjectTag/<key>` condition keys; the handler gets the checked set in `Req::tags`.

use http::{HeaderMap, Response, StatusCode};
use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};

use super::body::{read_small, BodyReader};
use super::delete::verify;
use super::error::{Code, S3Error, S3Result};
use super::object::expected;
use super::version::{shown, with_version};
use super::xml::{document, read, RequestDocument, Xmlns};
use super::{finish, Ctx, Reply, Req};
use crate::objects::{BucketConfig, BucketTagging, ConfigKind, Tags};

/// S3's limit on an object's tags.
pub const MAX_OBJECT_TAGS: usize = 10;
/// S3's limit on a bucket's tags.
pub const MAX_BUCKET_TAGS: usize = 50;
/// A key: 1 to 128 Unicode characters.
const MAX_KEY_CHARS: usize = 128;
/// A value: 0 to 256 Unicode characters.
const MAX_VALUE_CHARS: usize = 256;
/// The most bytes read from a tagging body: 50 tags at their longest, every character a
/// 4-byte one or an entity, fit with room to spare; a bound on what a client can make the
/// server hold.
const MAX_TAGGING_BODY: usize = 256 * 1024;

/// What a tag set belongs to: the limits and the wording differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tagged {
    Object,
    Bucket,
}

/// S3 names the refused key in `<TagKey>` (when there is one to name: not for an empty key).
fn invalid_key(key: &str) -> S3Error {
    let e = S3Error::new(Code::InvalidTag, "The TagKey you have provided is invalid");
    match key.is_empty() {
        true => e,
        false => e.with("TagKey", key),
    }
}

/// S3 names the tag in `<TagKey>` and `<TagValue>`.
fn invalid_value(key: &str, value: &str) -> S3Error {
    S3Error::new(
        Code::InvalidTag,
        "The TagValue you have provided is invalid",
    )
    .with("TagKey", key)
    .with("TagValue", value)
}

/// The characters S3 allows in a key or value: Unicode letters, numbers and space separators,
/// and `_ . : / = + - @` (its pattern is `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`). `\p{Z}` is the
/// whitespace that is not a control character: a tab or a line feed is refused.
fn allowed(c: char) -> bool {
    c.is_alphanumeric()
        || (c.is_whitespace() && !c.is_control())
        || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
}

/// Checks a whole tag set as S3 does, tag by tag in order (key, value, the reserved `aws:`
/// prefix, a repeated key), then the count.
pub fn validate(tags: &Tags, owner: Tagged) -> S3Result<()> {
    for (i, (key, value)) in tags.iter().enumerate() {
        let key_chars = key.chars().count();
        if !(1..=MAX_KEY_CHARS).contains(&key_chars) || !key.chars().all(allowed) {
            return Err(invalid_key(key));
        }
        if value.chars().count() > MAX_VALUE_CHARS || !value.chars().all(allowed) {
            return Err(invalid_value(key, value));
        }
        if key
            .as_bytes()
            .get(..4)
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(b"aws:"))
        {
            return Err(S3Error::new(
                Code::InvalidTag,
                match owner {
                    Tagged::Object => "Your TagKey cannot be prefixed with aws:",
                    Tagged::Bucket => "System tags cannot be added/updated by requester",
                },
            ));
        }
        if tags[..i].iter().any(|(earlier, _)| earlier == key) {
            return Err(S3Error::new(
                Code::InvalidTag,
                "Cannot provide multiple Tags with the same key",
            )
            .with("TagKey", key.as_str()));
        }
    }
    match owner {
        Tagged::Object if tags.len() > MAX_OBJECT_TAGS => Err(S3Error::new(
            Code::BadRequest,
            "Object tags cannot be greater than 10",
        )),
        Tagged::Bucket if tags.len() > MAX_BUCKET_TAGS => Err(S3Error::new(
            Code::BadRequest,
            "Bucket tag count cannot be greater than 50",
        )),
        _ => Ok(()),
    }
}

fn malformed_header() -> S3Error {
    S3Error::new(
        Code::InvalidArgument,
        "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
    )
}

/// One URL-query-encoded component: `+` is a space, `%XX` a byte, the result UTF-8.
fn decode_component(raw: &str) -> S3Result<String> {
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| malformed_header())
}

/// `x-amz-tagging: k1=v1&k2=v2` (URL-query-encoded), checked as an object's tag set; `None`
/// without the header. A pair without `=` is a key with an empty value and empty pairs
/// (`a=1&&b=2`) are skipped, as S3 reads the header; an empty key, bytes that are not UTF-8
/// or a repeated key are `InvalidArgument`.
pub fn header_tags(headers: &HeaderMap) -> S3Result<Option<Tags>> {
    let Some(value) = headers.get("x-amz-tagging") else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| malformed_header())?;
    let mut tags: Tags = Vec::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = (decode_component(key)?, decode_component(value)?);
        if key.is_empty() || tags.iter().any(|(k, _)| *k == key) {
            return Err(malformed_header());
        }
        tags.push((key, value));
    }
    validate(&tags, Tagged::Object)?;
    Ok(Some(tags))
}

/// The tag set of a `<Tagging>` body: read (bounded), its Content-MD5 or checksum (which S3
/// requires) verified, parsed, and checked for `owner`.
pub async fn read_tagging(
    reader: &mut BodyReader,
    headers: &HeaderMap,
    owner: Tagged,
) -> S3Result<Tags> {
    let want = expected(headers)?;
    let body = read_small(reader, MAX_TAGGING_BODY).await?;
    verify(&body, &want, reader.trailers())?;
    let doc: Tagging = read(&body)?;
    let tags: Tags = doc
        .tag_set
        .tags
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect();
    validate(&tags, owner)?;
    Ok(tags)
}

/// The tag set of a browser form upload's `tagging` field: a `<Tagging>` document, checked
/// as an object's tags.
pub fn form_tags(document: &[u8]) -> S3Result<Tags> {
    let doc: Tagging = read(document)?;
    let tags: Tags = doc
        .tag_set
        .tags
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect();
    validate(&tags, Tagged::Object)?;
    Ok(tags)
}

/// `<Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging>`: the request document of
/// PutObjectTagging and PutBucketTagging, and the answer of the Get operations. `TagSet`, and
/// each tag's `Key` and `Value`, are required: without them the body is `MalformedXML`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename = "Tagging")]
pub struct Tagging {
    #[serde(rename = "@xmlns", skip_deserializing, default)]
    xmlns: Xmlns,
    #[serde(rename = "TagSet")]
    tag_set: TagSet,
}

#[derive(Debug, Serialize, Deserialize)]
struct TagSet {
    #[serde(rename = "Tag", default)]
    tags: Vec<Tag>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Tag {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "Value")]
    value: String,
}

impl RequestDocument for Tagging {
    const ROOT: &'static str = "Tagging";
    /// 50 tags of three elements, with room for elements S3 would ignore.
    const MAX_ELEMENTS: usize = 1_000;
}

impl Tagging {
    fn of(tags: &Tags) -> Tagging {
        Tagging {
            xmlns: Xmlns::default(),
            tag_set: TagSet {
                tags: tags
                    .iter()
                    .map(|(key, value)| Tag {
                        key: key.clone(),
                        value: value.clone(),
                    })
                    .collect(),
            },
        }
    }
}

/// `x-amz-tagging-count` for GET and HEAD: the number of tags, when the object has any.
pub fn count_header(tags: &Tags) -> Option<usize> {
    (!tags.is_empty()).then_some(tags.len())
}

fn status_only(status: StatusCode) -> Reply {
    finish(Response::builder().status(status), crate::http::empty())
}

/// GetObjectTagging: the object's tags, or an empty `<TagSet/>` when it has none.
pub async fn get_object_tagging(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    req.found.existing()?;
    let object = ctx
        .index()
        .get_object(
            req.bucket.to_owned(),
            req.key.to_owned(),
            req.version.clone(),
        )
        .await?;
    let mut response = document(&Tagging::of(&object.tags))?;
    let id = shown(&req, object.version_id()).and_then(|id| http::HeaderValue::from_str(&id).ok());
    if let Some(id) = id {
        response.headers_mut().insert("x-amz-version-id", id);
    }
    Ok(response)
}

/// PutObjectTagging: replaces the object's tags with the body's, which authorization read and
/// checked (they are condition keys).
pub async fn put_object_tagging(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let Some(tags) = req.tags.clone() else {
        return Err(S3Error::internal(
            "PutObjectTagging",
            "the tag set was not read before authorization",
        ));
    };
    req.found.existing()?;
    let id = ctx
        .index()
        .set_object_tags(
            req.bucket.to_owned(),
            req.key.to_owned(),
            req.version.clone(),
            tags,
        )
        .await?;
    finish(
        with_version(Response::builder(), shown(&req, id).as_deref()),
        crate::http::empty(),
    )
}

/// DeleteObjectTagging: removes the object's tags; 204, also when it had none.
pub async fn delete_object_tagging(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    req.found.existing()?;
    let id = ctx
        .index()
        .set_object_tags(
            req.bucket.to_owned(),
            req.key.to_owned(),
            req.version.clone(),
            Vec::new(),
        )
        .await?;
    finish(
        with_version(
            Response::builder().status(StatusCode::NO_CONTENT),
            shown(&req, id).as_deref(),
        ),
        crate::http::empty(),
    )
}

/// PutBucketTagging: replaces the bucket's tag set; an empty `<TagSet/>` removes it.
pub async fn put_bucket_tagging(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let (bucket, parts, mut reader) = (req.bucket, req.parts, req.body);
    req.found.existing()?;
    let tags = read_tagging(&mut reader, &parts.headers, Tagged::Bucket).await?;
    match tags.is_empty() {
        true => {
            ctx.index()
                .delete_bucket_config(bucket.to_owned(), ConfigKind::Tagging)
                .await?;
        }
        false => {
            let config = BucketConfig::Tagging(BucketTagging::new(tags).into());
            ctx.index()
                .put_bucket_config(bucket.to_owned(), config)
                .await?;
        }
    }
    status_only(StatusCode::NO_CONTENT)
}

/// GetBucketTagging: the bucket's tag set, or `NoSuchTagSet` when it has none.
#[expect(
    clippy::unused_async,
    reason = "handlers share the async signature the operation table dispatches to; bucket tags are read from memory"
)]
pub async fn get_bucket_tagging(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let tagging = req.found.existing()?.configs.tagging.clone();
    let tagging = tagging.ok_or(S3Error::from(Code::NoSuchTagSet))?;
    document(&Tagging::of(&tagging.tags))
}

/// DeleteBucketTagging: 204, also when the bucket had no tags.
pub async fn delete_bucket_tagging(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    super::bucket_access::delete_config(ctx, &req, ConfigKind::Tagging).await
}

#[cfg(test)]
mod tests;
