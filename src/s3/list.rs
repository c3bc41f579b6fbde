//! ListObjects (v1: `marker`), ListObjectsV2 (opaque `continuation-token`, `start-after`,
//! `fetch-owner`) and ListObjectVersions (`key-marker`, `version-id-marker`), with prefix, any
//! delimiter, `max-keys` capped by `backend.s3.paging.max_keys`, and `encoding-type=url`.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html>
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html>
//!
//! Their answers are written by hand (`XmlWriter`), not serialized from serde types as S3's
//! other documents are: on `benches/listing.rs`'s 1000-entry pages quick-xml's serializer took
//! 11 % longer (`docs/benchmarks.md`, "XML rendering").

use std::borrow::Cow;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::error::{Code, S3Error, S3Result};
use super::fields::MaxKeys;
use super::query::Query;
use super::version::{invalid_version, is_version_id, Version, NULL};
use super::xml::{timestamp, xml_body, xml_response, Owner, S3_XMLNS};
use super::{Ctx, Reply, Req};
use crate::objects::{Cursor, ListQuery, Listing, VersionListing, VersionQuery};
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

/// `encoding-type`: absent, or `url` (`true`); anything else is refused, as S3 refuses it.
pub(super) fn url_encoding(query: &Query) -> S3Result<bool> {
    match query.get("encoding-type") {
        None => Ok(false),
        Some("url") => Ok(true),
        Some(_) => Err(S3Error::new(
            Code::InvalidArgument,
            "Invalid Encoding Method specified in Request",
        )),
    }
}

/// A key, prefix, marker or delimiter as a listing shows it under `encoding-type=url`.
pub(super) fn url_encoded(value: &str) -> Cow<'_, str> {
    Cow::from(utf8_percent_encode(value, KEY_ESCAPES))
}

impl Params<'_> {
    fn parse(query: &Query, max_keys: usize) -> S3Result<Params<'_>> {
        let get = |name: &str| query.get(name).map(str::to_owned);
        let url_encode = url_encoding(query)?;
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

    /// A key or prefix as the response shows it: URL-encoded when the request asked.
    fn text<'v>(&self, value: &'v str) -> Cow<'v, str> {
        if self.url_encode {
            url_encoded(value)
        } else {
            Cow::Borrowed(value)
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

/// A listing's objects and common prefixes, as both versions show them.
fn write_entries(w: &mut XmlWriter, p: &Params<'_>, listing: &Listing, owner: Option<&Owner>) {
    for o in &listing.objects {
        w.open("Contents")
            .elem("Key", &p.text(&o.key))
            .elem("LastModified", &timestamp(o.last_modified))
            .elem("ETag", &format!("\"{}\"", o.etag));
        if let Some((algorithm, kind)) = &o.checksum {
            w.elem("ChecksumAlgorithm", algorithm)
                .elem("ChecksumType", kind);
        }
        w.elem("Size", &o.size.to_string());
        if let Some(owner) = owner {
            w.open("Owner")
                .elem("ID", &owner.id)
                .elem("DisplayName", &owner.display_name)
                .close("Owner");
        }
        w.elem(
            "StorageClass",
            o.storage_class.as_deref().unwrap_or("STANDARD"),
        )
        .close("Contents");
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
    owner: Option<Owner>,
}

/// A ListObjectsV2 page's `<ListBucketResult>`.
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
        .elem("IsTruncated", bool_text(listing.truncated));
    if let Some(t) = r.token {
        w.elem("ContinuationToken", t);
    }
    if let Some(next) = listing.next_cursor().filter(|_| listing.truncated) {
        w.elem("NextContinuationToken", &encode_token(&next));
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

fn bool_text(value: bool) -> &'static str {
    if value {
        "true"
    } else {
        "false"
    }
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

pub async fn list_objects_v2(ctx: &Ctx<'_>, req: Req<'_>, max_keys: MaxKeys) -> Reply {
    let (bucket, query, MaxKeys(max_keys)) = (req.bucket, req.query, max_keys);
    let p = Params::parse(query, max_keys)?;
    // An empty token is no token, as S3 reads it: the listing starts at the beginning (or at
    // `start-after`), and the response echoes no ContinuationToken.
    let token = p.get("continuation-token").filter(|t| !t.is_empty());
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
        owner: (p.get("fetch-owner") == Some("true")).then(|| Owner::of(ctx.account())),
    };
    xml_response(v2_result(bucket, &p, &r, &listing))
}

/// A ListObjects (v1) page's `<ListBucketResult>`; v1 always shows owners.
fn v1_result(
    bucket: &str,
    p: &Params<'_>,
    marker: &str,
    owner: &Owner,
    listing: &Listing,
) -> XmlWriter {
    let mut w = XmlWriter::new();
    w.raw(&format!("<ListBucketResult xmlns=\"{S3_XMLNS}\">"));
    w.elem("Name", bucket)
        .elem("Prefix", &p.text(&p.prefix))
        .elem("Marker", &p.text(marker));
    if let Some((last, _)) = listing.last.as_ref().filter(|_| listing.truncated) {
        if p.delimiter.is_some() {
            w.elem("NextMarker", &p.text(last));
        }
    }
    w.elem("MaxKeys", &p.max_keys.to_string());
    if let Some(d) = &p.delimiter {
        w.elem("Delimiter", &p.text(d));
    }
    w.elem("IsTruncated", bool_text(listing.truncated));
    if p.url_encode {
        w.elem("EncodingType", "url");
    }
    write_entries(&mut w, p, listing, Some(owner));
    w.close("ListBucketResult");
    w
}

pub async fn list_objects(ctx: &Ctx<'_>, req: Req<'_>, max_keys: MaxKeys) -> Reply {
    let (bucket, query, MaxKeys(max_keys)) = (req.bucket, req.query, max_keys);
    let p = Params::parse(query, max_keys)?;
    let marker = p.get("marker").unwrap_or_default();
    // Listing resumes after the marker, a key or (as NextMarker may be) a common prefix: the
    // index skips common prefixes at or before it.
    let cursor = match marker {
        "" => Cursor::Start,
        m => Cursor::After(m.to_owned()),
    };
    let listing = run(ctx, bucket, &p, cursor).await?;
    let owner = Owner::of(ctx.account());
    xml_response(v1_result(bucket, &p, marker, &owner, &listing))
}

/// The markers of a ListObjectVersions request, checked as S3 checks them: a
/// `version-id-marker` needs a `key-marker`, and is `null` or a version id of this server's
/// form. An empty marker is no marker.
fn version_markers(query: &Query) -> S3Result<(Option<String>, Version)> {
    let key_marker = query.get("key-marker").filter(|k| !k.is_empty());
    let version_marker = query.get("version-id-marker").filter(|v| !v.is_empty());
    let refuse = |e: S3Error, value: &str| {
        e.with("ArgumentName", "version-id-marker")
            .with("ArgumentValue", value)
    };
    let version = match (key_marker, version_marker) {
        (_, None) => Version::Current,
        (None, Some(v)) => {
            return Err(refuse(
                S3Error::new(
                    Code::InvalidArgument,
                    "A version-id marker cannot be specified without a key marker.",
                ),
                v,
            ))
        }
        (Some(_), Some(NULL)) => Version::Null,
        (Some(_), Some(v)) if is_version_id(v) => Version::Id(v.to_owned()),
        (Some(_), Some(v)) => return Err(refuse(invalid_version(), v)),
    };
    Ok((key_marker.map(str::to_owned), version))
}

/// A ListObjectVersions page's `<ListVersionsResult>`: versions and delete markers
/// interleaved in list order, then the common prefixes.
fn versions_result(
    bucket: &str,
    p: &Params<'_>,
    markers: (&str, &str),
    owner: &Owner,
    listing: &VersionListing,
) -> XmlWriter {
    let (key_marker, version_marker) = markers;
    let mut w = XmlWriter::new();
    w.raw(&format!("<ListVersionsResult xmlns=\"{S3_XMLNS}\">"));
    w.elem("Name", bucket)
        .elem("Prefix", &p.text(&p.prefix))
        .elem("KeyMarker", &p.text(key_marker))
        .elem("VersionIdMarker", version_marker);
    if let Some((key, version)) = listing.last.as_ref().filter(|_| listing.truncated) {
        w.elem("NextKeyMarker", &p.text(key))
            .elem_opt("NextVersionIdMarker", version.as_deref());
    }
    w.elem("MaxKeys", &p.max_keys.to_string());
    if let Some(d) = &p.delimiter {
        w.elem("Delimiter", &p.text(d));
    }
    w.elem("IsTruncated", bool_text(listing.truncated));
    if p.url_encode {
        w.elem("EncodingType", "url");
    }
    for v in &listing.entries {
        let element = if v.delete_marker {
            "DeleteMarker"
        } else {
            "Version"
        };
        w.open(element)
            .elem("Key", &p.text(&v.key))
            .elem("VersionId", &v.version_id)
            .elem("IsLatest", bool_text(v.is_latest))
            .elem("LastModified", &timestamp(v.last_modified));
        if !v.delete_marker {
            w.elem("ETag", &format!("\"{}\"", v.etag));
            if let Some((algorithm, kind)) = &v.checksum {
                w.elem("ChecksumAlgorithm", algorithm)
                    .elem("ChecksumType", kind);
            }
            w.elem("Size", &v.size.to_string());
        }
        w.open("Owner")
            .elem("ID", &owner.id)
            .elem("DisplayName", &owner.display_name)
            .close("Owner");
        if !v.delete_marker {
            w.elem(
                "StorageClass",
                v.storage_class.as_deref().unwrap_or("STANDARD"),
            );
        }
        w.close(element);
    }
    for prefix in &listing.prefixes {
        w.open("CommonPrefixes")
            .elem("Prefix", &p.text(prefix))
            .close("CommonPrefixes");
    }
    w.close("ListVersionsResult");
    w
}

pub async fn list_object_versions(ctx: &Ctx<'_>, req: Req<'_>, max_keys: MaxKeys) -> Reply {
    let (bucket, query, MaxKeys(max_keys)) = (req.bucket, req.query, max_keys);
    let p = Params::parse(query, max_keys)?;
    let (key_marker, version_marker) = version_markers(query)?;
    let q = VersionQuery {
        prefix: p.prefix.clone(),
        delimiter: p.delimiter.clone(),
        key_marker,
        version_id_marker: version_marker,
        max: p.max_keys,
    };
    let listing = ctx.index().list_versions(bucket.to_owned(), q).await?;
    let owner = Owner::of(ctx.account());
    let markers = (
        p.get("key-marker").unwrap_or_default(),
        p.get("version-id-marker").unwrap_or_default(),
    );
    xml_response(versions_result(bucket, &p, markers, &owner, &listing))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::{ObjectSummary, VersionEntry};
    use crate::s3::xml::{assert_documented, assert_documented_any_order};

    fn object(key: &str, last_modified: i64, etag: &str, size: u64) -> ObjectSummary {
        ObjectSummary {
            key: key.to_owned(),
            size,
            etag: etag.to_owned(),
            last_modified,
            checksum: None,
            storage_class: None,
        }
    }

    fn listing(objects: Vec<ObjectSummary>, prefixes: &[&str], truncated: bool) -> Listing {
        let last = match prefixes.last() {
            Some(p) => Some((p.to_string(), true)),
            None => objects.last().map(|o| (o.key.clone(), false)),
        };
        Listing {
            objects,
            prefixes: prefixes.iter().map(|p| p.to_string()).collect(),
            truncated,
            last,
        }
    }

    const NO_OPTIONS: V2Request<'static> = V2Request {
        token: None,
        start_after: None,
        owner: None,
    };

    fn v2(bucket: &str, query: &str, r: &V2Request<'_>, listing: &Listing) -> String {
        let query = Query::parse(Some(query));
        // `max-keys` as the `MaxKeys` field reads it, under the default cap.
        let max_keys = query.get("max-keys").map_or(1000, |v| v.parse().unwrap());
        let p = Params::parse(&query, max_keys).unwrap();
        xml_body(v2_result(bucket, &p, r, listing))
    }

    /// AWS's examples of ListObjectsV2 answers: listing keys (one of the bucket's 205 is
    /// shown, so KeyCount is set by hand); with `max-keys`, `prefix` and `start-after`; with a
    /// delimiter. They put KeyCount (and StartAfter) before MaxKeys; LabStore has always
    /// written MaxKeys first (`listings_write_every_element_in_order`).
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html#API_ListObjectsV2_Examples>
    #[test]
    fn list_objects_v2_answers_as_documented() {
        let page = listing(
            vec![object(
                "my-image.jpg",
                1_255_369_830_000,
                "fba9dede5f27731c9771645a39863328",
                434_234,
            )],
            &[],
            false,
        );
        let ours = v2("bucket", "", &NO_OPTIONS, &page)
            .replace("<KeyCount>1</KeyCount>", "<KeyCount>205</KeyCount>");
        assert_documented_any_order(
            &ours,
            r#"<?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
                <Name>bucket</Name>
                <Prefix/>
                <KeyCount>205</KeyCount>
                <MaxKeys>1000</MaxKeys>
                <IsTruncated>false</IsTruncated>
                <Contents>
                    <Key>my-image.jpg</Key>
                    <LastModified>2009-10-12T17:50:30.000Z</LastModified>
                    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>
                    <Size>434234</Size>
                    <StorageClass>STANDARD</StorageClass>
                </Contents>
            </ListBucketResult>"#,
        );

        let page = listing(
            vec![ObjectSummary {
                storage_class: Some("REDUCED_REDUNDANCY".into()),
                ..object(
                    "ExampleObject.txt",
                    1_379_441_273_000,
                    "599bab3ed2c697f1d26842727561fd94",
                    857,
                )
            }],
            &[],
            false,
        );
        let r = V2Request {
            start_after: Some("ExampleGuide.pdf"),
            ..NO_OPTIONS
        };
        let ours = v2("quotes", "prefix=E&max-keys=3", &r, &page);
        assert_documented_any_order(
            &ours,
            r#"<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Name>quotes</Name>
              <Prefix>E</Prefix>
              <StartAfter>ExampleGuide.pdf</StartAfter>
              <KeyCount>1</KeyCount>
              <MaxKeys>3</MaxKeys>
              <IsTruncated>false</IsTruncated>
              <Contents>
                <Key>ExampleObject.txt</Key>
                <LastModified>2013-09-17T18:07:53.000Z</LastModified>
                <ETag>"599bab3ed2c697f1d26842727561fd94"</ETag>
                <Size>857</Size>
                <StorageClass>REDUCED_REDUNDANCY</StorageClass>
              </Contents>
            </ListBucketResult>"#,
        );

        let page = listing(
            vec![object(
                "sample.jpg",
                1_298_685_380_000,
                "bf1d737a4d46a19f3bced6905cc8b902",
                142_863,
            )],
            &["photos/"],
            false,
        );
        assert_documented_any_order(
            &v2("example-bucket", "delimiter=/", &NO_OPTIONS, &page),
            r#"<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Name>example-bucket</Name>
              <Prefix></Prefix>
              <KeyCount>2</KeyCount>
              <MaxKeys>1000</MaxKeys>
              <Delimiter>/</Delimiter>
              <IsTruncated>false</IsTruncated>
              <Contents>
                <Key>sample.jpg</Key>
                <LastModified>2011-02-26T01:56:20.000Z</LastModified>
                <ETag>"bf1d737a4d46a19f3bced6905cc8b902"</ETag>
                <Size>142863</Size>
                <StorageClass>STANDARD</StorageClass>
              </Contents>
              <CommonPrefixes>
                <Prefix>photos/</Prefix>
              </CommonPrefixes>
            </ListBucketResult>"#,
        );
    }

    /// AWS's example of a ListObjects (v1) answer with a delimiter.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjects.html#API_ListObjects_Examples>
    #[test]
    fn list_objects_answers_as_documented() {
        let query = Query::parse(Some("delimiter=/"));
        let p = Params::parse(&query, 1000).unwrap();
        let owner = Owner {
            id: "canonical-user-id".into(),
            display_name: "display-name".into(),
        };
        let page = listing(
            vec![object(
                "sample.jpg",
                1_298_685_380_000,
                "bf1d737a4d46a19f3bced6905cc8b902",
                142_863,
            )],
            &["photos/"],
            false,
        );
        let ours = xml_body(v1_result("example-bucket", &p, "", &owner, &page));
        assert_documented(
            &ours,
            r#"<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Name>example-bucket</Name>
              <Prefix></Prefix>
              <Marker></Marker>
              <MaxKeys>1000</MaxKeys>
              <Delimiter>/</Delimiter>
              <IsTruncated>false</IsTruncated>
              <Contents>
                <Key>sample.jpg</Key>
                <LastModified>2011-02-26T01:56:20.000Z</LastModified>
                <ETag>&quot;bf1d737a4d46a19f3bced6905cc8b902&quot;</ETag>
                <Size>142863</Size>
                <Owner>
                  <ID>canonical-user-id</ID>
                  <DisplayName>display-name</DisplayName>
                </Owner>
                <StorageClass>STANDARD</StorageClass>
              </Contents>
              <CommonPrefixes>
                <Prefix>photos/</Prefix>
              </CommonPrefixes>
            </ListBucketResult>"#,
        );
    }

    /// Every optional element, in the order LabStore has always written them, keys and
    /// prefixes URL-encoded.
    #[test]
    fn listings_write_every_element_in_order() {
        let page = listing(vec![object("a b/1", 0, "e", 1)], &["a b/c/"], true);
        let owner = Owner::of("123456789012");
        let contents = format!(
            "<Contents><Key>a%20b/1</Key><LastModified>1970-01-01T00:00:00.000Z</LastModified>\
             <ETag>&quot;e&quot;</ETag><Size>1</Size><Owner><ID>{}</ID><DisplayName>root\
             </DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents>\
             <CommonPrefixes><Prefix>a%20b/c/</Prefix></CommonPrefixes>",
            owner.id
        );
        let r = V2Request {
            token: Some("QWJj"),
            start_after: Some("a b/0"),
            owner: Some(owner.clone()),
        };
        let next = encode_token(&page.next_cursor().unwrap());
        assert_eq!(
            v2("bkt", "prefix=a b&delimiter=/&encoding-type=url", &r, &page),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"{S3_XMLNS}\">\
                 <Name>bkt</Name><Prefix>a%20b</Prefix><Delimiter>/</Delimiter>\
                 <MaxKeys>1000</MaxKeys><KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>\
                 <ContinuationToken>QWJj</ContinuationToken>\
                 <NextContinuationToken>{next}</NextContinuationToken>\
                 <StartAfter>a%20b/0</StartAfter><EncodingType>url</EncodingType>\
                 {contents}</ListBucketResult>"
            )
        );
        let query = Query::parse(Some("prefix=a b&delimiter=/&encoding-type=url"));
        let p = Params::parse(&query, 1000).unwrap();
        assert_eq!(
            xml_body(v1_result("bkt", &p, "a b/0", &owner, &page)),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"{S3_XMLNS}\">\
                 <Name>bkt</Name><Prefix>a%20b</Prefix><Marker>a%20b/0</Marker>\
                 <NextMarker>a%20b/c/</NextMarker><MaxKeys>1000</MaxKeys>\
                 <Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>\
                 <EncodingType>url</EncodingType>{contents}</ListBucketResult>"
            )
        );
    }

    /// An object with a checksum lists its algorithm and type after its ETag, as S3 lists
    /// them; one without lists neither.
    #[test]
    fn listed_objects_show_their_checksum_algorithm_and_type() {
        let mut with = object("a", 0, "e", 1);
        with.checksum = Some(("CRC64NVME".into(), "FULL_OBJECT".into()));
        let page = listing(vec![with, object("b", 0, "f", 2)], &[], false);
        let ours = v2("bkt", "", &NO_OPTIONS, &page);
        assert!(
            ours.contains(
                "<Key>a</Key><LastModified>1970-01-01T00:00:00.000Z</LastModified>\
                 <ETag>&quot;e&quot;</ETag><ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm>\
                 <ChecksumType>FULL_OBJECT</ChecksumType><Size>1</Size>"
            ),
            "{ours}"
        );
        assert!(
            ours.contains("<ETag>&quot;f&quot;</ETag><Size>2</Size>"),
            "{ours}"
        );
    }

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

    fn version(key: &str, id: &str, latest: bool, marker: bool) -> VersionEntry {
        VersionEntry {
            key: key.to_owned(),
            version_id: id.to_owned(),
            is_latest: latest,
            delete_marker: marker,
            size: 434_234,
            etag: "fba9dede5f27731c9771645a39863328".to_owned(),
            last_modified: 1_255_369_830_000,
            checksum: None,
            storage_class: None,
        }
    }

    fn versions(query: &str, listing: &VersionListing) -> String {
        let query = Query::parse(Some(query));
        let max_keys = query.get("max-keys").map_or(1000, |v| v.parse().unwrap());
        let p = Params::parse(&query, max_keys).unwrap();
        let markers = (
            query.get("key-marker").unwrap_or_default(),
            query.get("version-id-marker").unwrap_or_default(),
        );
        let owner = Owner {
            id: "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a".into(),
            display_name: "mtd@amazon.com".into(),
        };
        xml_body(versions_result("bucket", &p, markers, &owner, listing))
    }

    /// The shape of AWS's example ListObjectVersions answer (a version, then a delete marker,
    /// of keys under the prefix `my`), with version ids of this server's form.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html#API_ListObjectVersions_Examples>
    #[test]
    fn list_object_versions_answers_in_s3s_shape() {
        let listing = VersionListing {
            entries: vec![
                version(
                    "my-image.jpg",
                    "7ffa0b1c2d3e4f50a1b2c3d4e5f60718",
                    true,
                    false,
                ),
                VersionEntry {
                    last_modified: 1_258_047_830_000,
                    ..version("my-second-image.jpg", "null", true, true)
                },
            ],
            ..VersionListing::default()
        };
        let owner =
            "<Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>\
                     <DisplayName>mtd@amazon.com</DisplayName></Owner>";
        assert_documented_any_order(
            &versions("prefix=my&max-keys=5", &listing),
            &format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
                <ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
                    <Name>bucket</Name>
                    <Prefix>my</Prefix>
                    <KeyMarker/>
                    <VersionIdMarker/>
                    <MaxKeys>5</MaxKeys>
                    <IsTruncated>false</IsTruncated>
                    <Version>
                        <Key>my-image.jpg</Key>
                        <VersionId>7ffa0b1c2d3e4f50a1b2c3d4e5f60718</VersionId>
                        <IsLatest>true</IsLatest>
                        <LastModified>2009-10-12T17:50:30.000Z</LastModified>
                        <ETag>"fba9dede5f27731c9771645a39863328"</ETag>
                        <Size>434234</Size>
                        <StorageClass>STANDARD</StorageClass>
                        {owner}
                    </Version>
                    <DeleteMarker>
                        {owner}
                        <Key>my-second-image.jpg</Key>
                        <VersionId>null</VersionId>
                        <IsLatest>true</IsLatest>
                        <LastModified>2009-11-12T17:43:50.000Z</LastModified>
                    </DeleteMarker>
                </ListVersionsResult>"#
            ),
        );
    }

    /// Every optional element, in the order written: the Next markers of a truncated page
    /// (a version's; a common prefix's has no NextVersionIdMarker), versions and markers
    /// interleaved as listed, checksums after the ETag, keys, prefixes and markers
    /// URL-encoded (version ids need no encoding).
    #[test]
    fn version_listings_write_every_element_in_order() {
        let mut with = version("a b/1", "7ffa0b1c2d3e4f50a1b2c3d4e5f60718", false, false);
        with.checksum = Some(("CRC32".into(), "FULL_OBJECT".into()));
        with.storage_class = Some("STANDARD_IA".into());
        let marker = version("a b/1", "null", false, true);
        let mut listing = VersionListing {
            entries: vec![marker, with],
            prefixes: vec!["a b/c/".into()],
            truncated: true,
            last: Some(("a b/c/".into(), None)),
        };
        let owner =
            "<Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>\
                     <DisplayName>mtd@amazon.com</DisplayName></Owner>";
        let body = |listing: &VersionListing| {
            versions(
                "versions&prefix=a b&delimiter=/&encoding-type=url&key-marker=a b/0&version-id-marker=null&max-keys=3",
                listing,
            )
        };
        let entries = format!(
            "<DeleteMarker><Key>a%20b/1</Key><VersionId>null</VersionId><IsLatest>false</IsLatest>\
             <LastModified>2009-10-12T17:50:30.000Z</LastModified>{owner}</DeleteMarker>\
             <Version><Key>a%20b/1</Key><VersionId>7ffa0b1c2d3e4f50a1b2c3d4e5f60718</VersionId>\
             <IsLatest>false</IsLatest><LastModified>2009-10-12T17:50:30.000Z</LastModified>\
             <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>\
             <ChecksumAlgorithm>CRC32</ChecksumAlgorithm><ChecksumType>FULL_OBJECT</ChecksumType>\
             <Size>434234</Size>{owner}<StorageClass>STANDARD_IA</StorageClass></Version>\
             <CommonPrefixes><Prefix>a%20b/c/</Prefix></CommonPrefixes>"
        );
        let head = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListVersionsResult xmlns=\"{S3_XMLNS}\">\
             <Name>bucket</Name><Prefix>a%20b</Prefix><KeyMarker>a%20b/0</KeyMarker>\
             <VersionIdMarker>null</VersionIdMarker>"
        );
        let tail = "<MaxKeys>3</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>\
                    <EncodingType>url</EncodingType>";
        assert_eq!(
            body(&listing),
            format!(
                "{head}<NextKeyMarker>a%20b/c/</NextKeyMarker>{tail}{entries}</ListVersionsResult>"
            )
        );
        listing.last = Some((
            "a b/1".into(),
            Some("7ffa0b1c2d3e4f50a1b2c3d4e5f60718".into()),
        ));
        assert_eq!(
            body(&listing),
            format!(
                "{head}<NextKeyMarker>a%20b/1</NextKeyMarker>\
                 <NextVersionIdMarker>7ffa0b1c2d3e4f50a1b2c3d4e5f60718</NextVersionIdMarker>\
                 {tail}{entries}</ListVersionsResult>"
            )
        );
        // Not truncated: no Next markers.
        listing.truncated = false;
        assert!(!body(&listing).contains("<Next"));
    }

    #[test]
    fn version_markers_are_checked_as_s3_checks_them() {
        let markers = |q: &str| version_markers(&Query::parse(Some(q)));
        let id = "7ffa0b1c2d3e4f50a1b2c3d4e5f60718";
        assert_eq!(markers("versions").unwrap(), (None, Version::Current));
        assert_eq!(
            markers("key-marker=k").unwrap(),
            (Some("k".into()), Version::Current)
        );
        assert_eq!(
            markers("key-marker=k&version-id-marker=null").unwrap(),
            (Some("k".into()), Version::Null)
        );
        assert_eq!(
            markers(&format!("key-marker=k&version-id-marker={id}")).unwrap(),
            (Some("k".into()), Version::Id(id.into()))
        );
        // Empty markers are no markers.
        assert_eq!(
            markers("key-marker=&version-id-marker=").unwrap(),
            (None, Version::Current)
        );
        let e = markers(&format!("version-id-marker={id}")).unwrap_err();
        assert_eq!(e.code, Code::InvalidArgument);
        assert_eq!(
            e.message,
            "A version-id marker cannot be specified without a key marker."
        );
        for bad in [
            "NULL",
            "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
            &id.to_uppercase(),
        ] {
            let e = markers(&format!("key-marker=k&version-id-marker={bad}")).unwrap_err();
            assert_eq!(e.code, Code::InvalidArgument, "{bad}");
            assert_eq!(e.message, "Invalid version id specified", "{bad}");
        }
    }
}
