//! ListObjects (v1: `marker`) and ListObjectsV2 (opaque `continuation-token`, `start-after`,
//! `fetch-owner`), with prefix, any delimiter, `max-keys` capped by
//! `backend.s3.paging.max_keys`, and `encoding-type=url`.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html>

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::error::{Code, S3Error, S3Result};
use super::query::Query;
use super::xml::{owner_id, timestamp, xml_body, xml_response, S3_XMLNS};
use super::{Ctx, Reply, Req};
use crate::objects::{Cursor, ListQuery, Listing};
use crate::xml::XmlWriter;

/// `encoding-type=url` escapes keys as S3 does: everything but unreserved characters and `/`.
const KEY_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

struct Params<'q> {
    prefix: String,
    delimiter: Option<String>,
    max_keys: usize,
    url_encode: bool,
    query: &'q Query,
}

impl Params<'_> {
    fn parse(query: &Query, cap: usize) -> S3Result<Params<'_>> {
        let get = |name: &str| query.get(name).map(str::to_owned);
        let max_keys = match get("max-keys") {
            None => cap,
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .map(|n| (n as usize).min(cap))
                .ok_or_else(|| {
                    S3Error::new(
                        Code::InvalidArgument,
                        "Provided max-keys not an integer or within integer range",
                    )
                })?,
        };
        let url_encode = match get("encoding-type").as_deref() {
            None => false,
            Some("url") => true,
            Some(_) => {
                return Err(S3Error::new(
                    Code::InvalidArgument,
                    "Invalid Encoding Method specified in Request",
                ))
            }
        };
        Ok(Params {
            prefix: get("prefix").unwrap_or_default(),
            delimiter: get("delimiter").filter(|d| !d.is_empty()),
            max_keys,
            url_encode,
            query,
        })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.query.get(name)
    }

    fn text(&self, value: &str) -> String {
        if self.url_encode {
            utf8_percent_encode(value, KEY_ESCAPES).to_string()
        } else {
            value.to_owned()
        }
    }
}

/// Continuation tokens are opaque to clients: the cursor, base64url-encoded.
fn encode_token(cursor: &Cursor) -> String {
    let text = match cursor {
        Cursor::After(k) => format!("A{k}"),
        Cursor::From(k) => format!("F{k}"),
        Cursor::Start => "S".to_owned(),
    };
    URL_SAFE_NO_PAD.encode(text)
}

fn decode_token(token: &str) -> S3Result<Cursor> {
    let invalid = || {
        S3Error::new(
            Code::InvalidArgument,
            "The continuation token provided is incorrect",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    match text.split_at_checked(1) {
        Some(("A", k)) => Ok(Cursor::After(k.to_owned())),
        Some(("F", k)) => Ok(Cursor::From(k.to_owned())),
        Some(("S", "")) => Ok(Cursor::Start),
        _ => Err(invalid()),
    }
}

async fn run(ctx: &Ctx<'_>, bucket: &str, p: &Params<'_>, cursor: Cursor) -> S3Result<Listing> {
    let query = ListQuery {
        prefix: p.prefix.clone(),
        delimiter: p.delimiter.clone(),
        cursor,
        max: p.max_keys,
    };
    Ok(ctx.index().list_objects(bucket.to_owned(), query).await?)
}

fn write_entries(
    w: &mut XmlWriter,
    p: &Params<'_>,
    listing: &Listing,
    owner: Option<&(String, String)>,
) {
    for o in &listing.objects {
        w.open("Contents")
            .elem("Key", &p.text(&o.key))
            .elem("LastModified", &timestamp(o.last_modified))
            .elem("ETag", &format!("\"{}\"", o.etag))
            .elem("Size", &o.size.to_string());
        if let Some((id, name)) = owner {
            w.open("Owner")
                .elem("ID", id)
                .elem("DisplayName", name)
                .close("Owner");
        }
        w.elem("StorageClass", "STANDARD").close("Contents");
    }
    for prefix in &listing.prefixes {
        w.open("CommonPrefixes")
            .elem("Prefix", &p.text(prefix))
            .close("CommonPrefixes");
    }
}

/// What a ListObjectsV2 request asked besides the listing itself.
struct V2Request<'a> {
    token: Option<&'a str>,
    start_after: Option<&'a str>,
    owner: Option<(String, String)>,
}

/// A ListObjectsV2 page's `ListBucketResult`.
fn v2_result(bucket: &str, p: &Params<'_>, r: &V2Request<'_>, listing: &Listing) -> XmlWriter {
    let mut w = XmlWriter::new();
    w.raw(&format!("<ListBucketResult xmlns=\"{S3_XMLNS}\">"));
    w.elem("Name", bucket).elem("Prefix", &p.text(&p.prefix));
    if let Some(d) = &p.delimiter {
        w.elem("Delimiter", &p.text(d));
    }
    w.elem("MaxKeys", &p.max_keys.to_string())
        .elem(
            "KeyCount",
            &(listing.objects.len() + listing.prefixes.len()).to_string(),
        )
        .elem(
            "IsTruncated",
            if listing.truncated { "true" } else { "false" },
        );
    if let Some(t) = r.token {
        w.elem("ContinuationToken", t);
    }
    if listing.truncated {
        if let Some(next) = listing.next_cursor() {
            w.elem("NextContinuationToken", &encode_token(&next));
        }
    }
    if let Some(s) = r.start_after.filter(|s| !s.is_empty()) {
        w.elem("StartAfter", &p.text(s));
    }
    if p.url_encode {
        w.elem("EncodingType", "url");
    }
    write_entries(&mut w, p, listing, r.owner.as_ref());
    w.close("ListBucketResult");
    w
}

/// The body of a ListObjectsV2 page of `listing` for a request with no parameter but
/// `delimiter`: what `benches/listing.rs` measures of the rendering.
#[doc(hidden)]
pub fn list_objects_v2_body(bucket: &str, delimiter: Option<&str>, listing: &Listing) -> String {
    let query = Query::default();
    let p = Params {
        prefix: String::new(),
        delimiter: delimiter.map(str::to_owned),
        max_keys: 1000,
        url_encode: false,
        query: &query,
    };
    let r = V2Request {
        token: None,
        start_after: None,
        owner: None,
    };
    xml_body(v2_result(bucket, &p, &r, listing))
}

pub async fn list_objects_v2(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let (bucket, query) = (req.bucket, req.query);
    let p = Params::parse(query, ctx.state.config.backend.s3.paging.max_keys as usize)?;
    let token = p.get("continuation-token");
    let start_after = p.get("start-after");
    let cursor = match (token, start_after) {
        (Some(t), _) => decode_token(t)?,
        (None, Some(s)) if !s.is_empty() => Cursor::After(s.to_owned()),
        _ => Cursor::Start,
    };
    let listing = run(ctx, bucket, &p, cursor).await?;
    let r = V2Request {
        token,
        start_after,
        owner: (p.get("fetch-owner") == Some("true")).then(|| owner_id(ctx.account())),
    };
    xml_response(v2_result(bucket, &p, &r, &listing))
}

/// A ListObjects (v1) page's `ListBucketResult`; v1 always shows owners.
fn v1_result(
    bucket: &str,
    p: &Params<'_>,
    marker: &str,
    owner: &(String, String),
    listing: &Listing,
) -> XmlWriter {
    let mut w = XmlWriter::new();
    w.raw(&format!("<ListBucketResult xmlns=\"{S3_XMLNS}\">"));
    w.elem("Name", bucket)
        .elem("Prefix", &p.text(&p.prefix))
        .elem("Marker", &p.text(marker));
    if listing.truncated && p.delimiter.is_some() {
        if let Some((last, _)) = &listing.last {
            w.elem("NextMarker", &p.text(last));
        }
    }
    w.elem("MaxKeys", &p.max_keys.to_string());
    if let Some(d) = &p.delimiter {
        w.elem("Delimiter", &p.text(d));
    }
    w.elem(
        "IsTruncated",
        if listing.truncated { "true" } else { "false" },
    );
    if p.url_encode {
        w.elem("EncodingType", "url");
    }
    write_entries(&mut w, p, listing, Some(owner));
    w.close("ListBucketResult");
    w
}

pub async fn list_objects(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let (bucket, query) = (req.bucket, req.query);
    let p = Params::parse(query, ctx.state.config.backend.s3.paging.max_keys as usize)?;
    let marker = p.get("marker").unwrap_or_default();
    // Listing resumes after the marker, a key or (as NextMarker may be) a common prefix: the
    // index skips common prefixes at or before it.
    let cursor = match marker {
        "" => Cursor::Start,
        m => Cursor::After(m.to_owned()),
    };
    let listing = run(ctx, bucket, &p, cursor).await?;
    let owner = owner_id(ctx.account());
    xml_response(v1_result(bucket, &p, marker, &owner, &listing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        for cursor in [
            Cursor::After("a/b \u{e9}".into()),
            Cursor::From("x0".into()),
            Cursor::Start,
        ] {
            assert_eq!(decode_token(&encode_token(&cursor)).unwrap(), cursor);
        }
        for bad in ["!!", "", "Wg"] {
            assert_eq!(
                decode_token(bad).unwrap_err().code,
                Code::InvalidArgument,
                "{bad}"
            );
        }
    }
}
