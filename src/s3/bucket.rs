//! Bucket operations: ListBuckets, CreateBucket (with the Object Ownership, Block Public
//! Access and ACL a new bucket starts with), HeadBucket, DeleteBucket, GetBucketLocation,
//! GetBucketVersioning.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>
#![expect(
    clippy::unused_async,
    reason = "handlers share the async signature the operation table dispatches to; the bucket reads answered from memory have nothing to await"
)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::{HeaderValue, Response, StatusCode};
use serde::{Deserialize, Serialize};

use super::acl;
use super::body::read_small;
use super::bucket_access::ownership_header;
use super::error::{Code, S3Error, S3Result};
use super::fields::MaxBuckets;
use super::xml::{document, read, timestamp, unconfigured, Owner, RequestDocument, Xmlns};
use super::{finish, Ctx, Reply, Req};
use crate::objects::{
    BucketAcl, BucketConfig, BucketConfigs, BucketState, IndexError, ObjectLockConfig, Ownership,
    OwnershipControls, PublicAccessBlock, PublicAccessSettings, Versioning, VersioningStatus,
};

/// S3's rules for new bucket names.
pub fn check_bucket_name(name: &str) -> S3Result<()> {
    let invalid = |why: &str| {
        Err(S3Error::new(
            Code::InvalidBucketName,
            format!("The specified bucket is not valid: {why}."),
        ))
    };
    if !(3..=63).contains(&name.len()) {
        return invalid("names are 3 to 63 characters long");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return invalid("names use lowercase letters, digits, dots and hyphens only");
    }
    let edge = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !edge(name.as_bytes()[0]) || !edge(name.as_bytes()[name.len() - 1]) {
        return invalid("names begin and end with a letter or digit");
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return invalid("dots may not be adjacent to dots or hyphens");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return invalid("names may not look like IP addresses");
    }
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if name.starts_with(prefix) {
            return invalid("that prefix is reserved");
        }
    }
    for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        if name.ends_with(suffix) {
            return invalid("that suffix is reserved");
        }
    }
    Ok(())
}

/// `<ListAllMyBucketsResult>`: a page of the account's buckets.
#[derive(Debug, Serialize)]
#[serde(rename = "ListAllMyBucketsResult")]
struct ListAllMyBucketsResult {
    #[serde(rename = "@xmlns")]
    xmlns: Xmlns,
    #[serde(rename = "Owner")]
    owner: Owner,
    #[serde(rename = "Buckets")]
    buckets: Buckets,
    /// Where the next page starts, when there is one.
    #[serde(rename = "ContinuationToken", skip_serializing_if = "Option::is_none")]
    continuation_token: Option<String>,
    /// The `prefix` the request named.
    #[serde(rename = "Prefix", skip_serializing_if = "Option::is_none")]
    prefix: Option<String>,
}

#[derive(Debug, Serialize)]
struct Buckets {
    #[serde(rename = "Bucket")]
    bucket: Vec<Bucket>,
}

#[derive(Debug, Serialize)]
struct Bucket {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "CreationDate")]
    creation_date: String,
    #[serde(rename = "BucketRegion")]
    bucket_region: String,
}

/// ListBuckets' continuation tokens are opaque to clients: the last name listed,
/// base64url-encoded. A page resumes after it, whether or not it still exists.
fn bucket_token(name: &str) -> String {
    URL_SAFE_NO_PAD.encode(name)
}

fn bucket_after_token(token: &str) -> S3Result<String> {
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            S3Error::new(
                Code::InvalidArgument,
                "The continuation token provided is incorrect",
            )
        })
}

/// The largest page S3 gives when the request pages (names `prefix`, `bucket-region` or a
/// token) without `max-buckets`.
const BUCKET_PAGE: usize = 10_000;

/// ListBuckets, in name order, from memory: `prefix` and `bucket-region` filter, `max-buckets`
/// and `continuation-token` page. A request that names none of them gets every bucket, as
/// S3 answers an unpaginated ListBuckets.
pub async fn list_buckets(ctx: &Ctx<'_>, req: Req<'_>, max: MaxBuckets) -> Reply {
    let query = req.query;
    let prefix = query.get("prefix");
    let region = query.get("bucket-region").filter(|r| !r.is_empty());
    let token = query.get("continuation-token").filter(|t| !t.is_empty());
    let after = token.map(bucket_after_token).transpose()?;
    let paged = max.0.is_some() || prefix.is_some() || region.is_some() || token.is_some();
    let limit = match (max.0, paged) {
        (Some(n), _) => n,
        (None, true) => BUCKET_PAGE,
        (None, false) => usize::MAX,
    };
    let mut matching = ctx.index().list_buckets().into_iter().filter(|b| {
        after.as_ref().is_none_or(|a| b.name > *a)
            && prefix.is_none_or(|p| b.name.starts_with(p))
            && region.is_none_or(|r| b.region == r)
    });
    let page: Vec<_> = matching.by_ref().take(limit).collect();
    let more = matching.next().is_some();
    let continuation_token = page
        .last()
        .filter(|_| more)
        .map(|last| bucket_token(&last.name));
    let bucket = page
        .iter()
        .map(|b| Bucket {
            name: b.name.clone(),
            creation_date: timestamp(b.created_at),
            bucket_region: b.region.clone(),
        })
        .collect();
    document(&ListAllMyBucketsResult {
        xmlns: Xmlns::default(),
        owner: Owner::of(ctx.account()),
        buckets: Buckets { bucket },
        continuation_token,
        prefix: prefix.map(str::to_owned),
    })
}

/// CreateBucket; a `CreateBucketConfiguration` body may name any LocationConstraint. The
/// bucket starts with its Object Ownership (`x-amz-object-ownership`, else
/// `BucketOwnerEnforced`), Block Public Access with every setting on (unless
/// `backend.s3.new_buckets.block_public_access` is off) and the ACL its headers give, all in
/// the commit that creates it.
pub async fn create_bucket(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let (bucket, parts, mut reader) = (req.bucket, req.parts, req.body);
    check_bucket_name(bucket)?;
    let mut configs = initial_configs(ctx, &parts.headers)?;
    if super::object_lock::requested_on_create(ctx, bucket, &parts.headers)? {
        // Object Lock needs versioning Enabled: both start with the bucket, in its commit.
        configs.push(BucketConfig::Versioning(
            Versioning::new(VersioningStatus::Enabled).into(),
        ));
        configs.push(BucketConfig::ObjectLock(ObjectLockConfig::new(None).into()));
    }
    let body = read_small(&mut reader, 64 * 1024).await?;
    let region = match location_constraint(&body)? {
        Some(region) if !region.is_empty() => check_location_constraint(region)?,
        _ => ctx.state.config.backend.s3.region.clone(),
    };
    let owner = ctx.account().to_owned();
    match ctx
        .index()
        .create_bucket_with(bucket.to_owned(), region, owner, configs)
        .await
    {
        // S3's us-east-1 answers 200 to a CreateBucket of a bucket the caller already owns
        // (every bucket here is the one account's); other regions BucketAlreadyOwnedByYou.
        // Nothing changes either way.
        Err(IndexError::BucketExists) if ctx.state.config.backend.s3.region == "us-east-1" => {}
        other => other?,
    }
    finish(
        Response::builder().header("location", format!("/{bucket}")),
        crate::http::empty(),
    )
}

/// What a new bucket starts with, from CreateBucket's headers. An ACL that a bucket with ACLs
/// disabled would refuse is `InvalidBucketAclWithObjectOwnership` (S3's answer to such a
/// CreateBucket); a public one under the new bucket's BlockPublicAcls, `AccessDenied`.
fn initial_configs(ctx: &Ctx<'_>, headers: &http::HeaderMap) -> S3Result<Vec<BucketConfig>> {
    let ownership = ownership_header(headers)?.unwrap_or(Ownership::BucketOwnerEnforced);
    let owner = acl::owner_id(ctx);
    let requested = acl::from_headers(headers, &owner)?;
    let block = ctx.state.config.backend.s3.new_buckets.block_public_access;
    let settings = match block {
        true => PublicAccessSettings::ALL_BLOCKED,
        false => PublicAccessSettings::default(),
    };
    // The bucket as it will be, to check the ACL against.
    let mut configs = vec![BucketConfig::Ownership(
        OwnershipControls::new(ownership).into(),
    )];
    if block {
        configs.push(BucketConfig::PublicAccessBlock(
            PublicAccessBlock::new(settings).into(),
        ));
    }
    if ctx.state.config.backend.s3.new_buckets.default_encryption {
        configs.push(BucketConfig::Encryption(
            crate::objects::BucketEncryption::sse_s3(None).into(),
        ));
    }
    if let Some(requested) = requested {
        let mut state = BucketState {
            name: String::new(),
            created_at: 0,
            region: String::new(),
            owner: None,
            configs: BucketConfigs::default(),
        };
        state.configs.ownership = Some(OwnershipControls::new(ownership).into());
        state.configs.public_access_block = Some(PublicAccessBlock::new(settings).into());
        match acl::check_settable(&state, &requested, &owner) {
            Err(e) if e.code == Code::AccessControlListNotSupported => {
                return Err(Code::InvalidBucketAclWithObjectOwnership.into())
            }
            other => other?,
        }
        if let Some(acl) = requested
            .stored(&owner)
            .filter(|_| ownership.acls_enabled())
        {
            configs.push(BucketConfig::Acl(BucketAcl::new(acl).into()));
        }
    }
    Ok(configs)
}

/// CreateBucket's request document; S3 reads nothing else of it yet (`Location` and
/// `Bucket` are for directory buckets, `Tags` for bucket tags).
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html>
#[derive(Debug, Deserialize)]
struct CreateBucketConfiguration {
    #[serde(rename = "LocationConstraint")]
    location_constraint: Option<String>,
}

impl RequestDocument for CreateBucketConfiguration {
    const ROOT: &'static str = "CreateBucketConfiguration";
}

/// The LocationConstraint of a CreateBucket body, if it has one: the body is optional.
fn location_constraint(body: &[u8]) -> S3Result<Option<String>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let config: CreateBucketConfiguration = read(body)?;
    Ok(config.location_constraint.map(|c| c.trim().to_owned()))
}

/// A LocationConstraint is a region name (`us-east-1`, `eu-west-3`, the legacy `EU`): any
/// such name is kept, since tools address several regions, but nothing that could not be
/// sent back in HeadBucket's `x-amz-bucket-region` header.
fn check_location_constraint(region: String) -> S3Result<String> {
    let shaped = region.len() <= 64
        && region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    match shaped {
        true => Ok(region),
        false => Err(Code::InvalidLocationConstraint.into()),
    }
}

pub async fn head_bucket(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let bucket = req.bucket;
    let b = req.found.existing()?;
    let mut response = Response::builder();
    // A region stored before names were checked may not be a valid header: the bucket
    // still answers, without it.
    match HeaderValue::from_str(&b.region) {
        Ok(region) => response = response.header("x-amz-bucket-region", region),
        Err(_) => tracing::warn!(
            bucket,
            "the bucket's stored region is not a valid header value"
        ),
    }
    finish(response, crate::http::empty())
}

pub async fn delete_bucket(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let bucket = req.bucket;
    // Uploads in progress are aborted with the bucket; their parts' files go after the commit.
    let blobs = ctx.index().delete_bucket(bucket.to_owned()).await?;
    ctx.blobs().remove(blobs).await;
    finish(
        Response::builder().status(StatusCode::NO_CONTENT),
        crate::http::empty(),
    )
}

/// `<LocationConstraint>`: the bucket's region.
#[derive(Debug, Serialize)]
#[serde(rename = "LocationConstraint")]
struct LocationConstraint<'a> {
    #[serde(rename = "@xmlns")]
    xmlns: Xmlns,
    #[serde(rename = "$text")]
    region: &'a str,
}

/// GetBucketLocation: empty for us-east-1, as S3 answers.
pub async fn get_bucket_location(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let b = req.found.existing()?;
    let region = match b.region.as_str() {
        "us-east-1" => "",
        region => region,
    };
    document(&LocationConstraint {
        xmlns: Xmlns::default(),
        region,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::xml::{assert_documented, to_xml, S3_XMLNS};

    const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

    /// AWS's example of ListBuckets (the REST API's "GET Service"; its namespace lacks the
    /// final `/` S3 sends), with the fields of the current page: each bucket's
    /// `BucketRegion`, and a paginated answer's `ContinuationToken` and `Prefix`.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html>
    #[test]
    fn list_buckets_answers_as_documented() {
        let bucket = |name: &str, created: i64| Bucket {
            name: name.to_owned(),
            creation_date: timestamp(created),
            bucket_region: "us-east-1".to_owned(),
        };
        let doc = ListAllMyBucketsResult {
            xmlns: Xmlns::default(),
            owner: Owner {
                id: "bcaf1ffd86f461ca5fb16fd081034f".into(),
                display_name: "webfile".into(),
            },
            buckets: Buckets {
                bucket: vec![
                    bucket("quotes", 1_138_985_109_000),
                    bucket("samples", 1_138_984_918_000),
                ],
            },
            continuation_token: Some(bucket_token("samples")),
            prefix: Some("s".into()),
        };
        assert_documented(
            &to_xml(None, &doc).unwrap(),
            &format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
            <ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01">
              <Owner>
                <ID>bcaf1ffd86f461ca5fb16fd081034f</ID>
                <DisplayName>webfile</DisplayName>
              </Owner>
              <Buckets>
                <Bucket>
                  <Name>quotes</Name>
                  <CreationDate>2006-02-03T16:45:09.000Z</CreationDate>
                  <BucketRegion>us-east-1</BucketRegion>
                </Bucket>
                <Bucket>
                  <Name>samples</Name>
                  <CreationDate>2006-02-03T16:41:58.000Z</CreationDate>
                  <BucketRegion>us-east-1</BucketRegion>
                </Bucket>
              </Buckets>
              <ContinuationToken>{}</ContinuationToken>
              <Prefix>s</Prefix>
            </ListAllMyBucketsResult>"#,
                bucket_token("samples")
            ),
        );
        assert_eq!(
            bucket_after_token(&bucket_token("samples")).unwrap(),
            "samples"
        );
        assert_eq!(
            bucket_after_token("not base64!").unwrap_err().code,
            Code::InvalidArgument
        );
        let none = ListAllMyBucketsResult {
            buckets: Buckets { bucket: Vec::new() },
            continuation_token: None,
            prefix: None,
            ..doc
        };
        assert_eq!(
            to_xml(None, &none).unwrap(),
            format!(
                "{DECLARATION}<ListAllMyBucketsResult xmlns=\"{S3_XMLNS}\"><Owner>\
                 <ID>bcaf1ffd86f461ca5fb16fd081034f</ID><DisplayName>webfile</DisplayName>\
                 </Owner><Buckets></Buckets></ListAllMyBucketsResult>"
            )
        );
    }

    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html>; for
    /// us-east-1 the element is empty.
    #[test]
    fn bucket_locations_answer_as_documented() {
        let doc = |region| LocationConstraint {
            xmlns: Xmlns::default(),
            region,
        };
        assert_documented(
            &to_xml(None, &doc("Europe")).unwrap(),
            r#"<?xml version="1.0" encoding="UTF-8"?>
            <LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">Europe</LocationConstraint>"#,
        );
        assert_eq!(
            to_xml(None, &doc("")).unwrap(),
            format!("{DECLARATION}<LocationConstraint xmlns=\"{S3_XMLNS}\"></LocationConstraint>")
        );
    }

    /// CreateBucket's documented body, and the elements of the request syntax LabStore does
    /// not read.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html>
    #[test]
    fn create_bucket_configurations_are_read_as_documented() {
        let documented =
            br#"<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <LocationConstraint>Europe</LocationConstraint>
            </CreateBucketConfiguration>"#;
        assert_eq!(
            location_constraint(documented).unwrap().as_deref(),
            Some("Europe")
        );
        let full = b"<CreateBucketConfiguration><LocationConstraint> eu-west-1 \
            </LocationConstraint><Location><Name>usw2-az1</Name><Type>AvailabilityZone</Type>\
            </Location><Bucket><DataRedundancy>SingleAvailabilityZone</DataRedundancy>\
            <Type>Directory</Type></Bucket><Tags><Tag><Key>k</Key><Value>v</Value></Tag></Tags>\
            </CreateBucketConfiguration>";
        assert_eq!(
            location_constraint(full).unwrap().as_deref(),
            Some("eu-west-1")
        );
        for none in [&b""[..], b" \r\n", b"<CreateBucketConfiguration/>"] {
            assert_eq!(location_constraint(none).unwrap(), None);
        }
        let empty = b"<CreateBucketConfiguration><LocationConstraint/></CreateBucketConfiguration>";
        assert_eq!(location_constraint(empty).unwrap().as_deref(), Some(""));
        for bad in [
            &b"<Configuration><LocationConstraint>EU</LocationConstraint></Configuration>"[..],
            b"<CreateBucketConfiguration><LocationConstraint>EU</LocationConstraint>",
            b"<CreateBucketConfiguration><LocationConstraint>EU</LocationConstraint>\
              <LocationConstraint>US</LocationConstraint></CreateBucketConfiguration>",
        ] {
            assert_eq!(
                location_constraint(bad).unwrap_err().code,
                Code::MalformedXML
            );
        }
    }

    #[test]
    fn location_constraints_are_region_names() {
        for ok in ["us-east-1", "EU", "eu-west-3", "garage"] {
            assert!(check_location_constraint(ok.into()).is_ok(), "{ok}");
        }
        for bad in ["us\r\neast-1", "a b", "x\0", &"a".repeat(65), "ü"] {
            assert_eq!(
                check_location_constraint(bad.into()).unwrap_err().code,
                Code::InvalidLocationConstraint,
                "{bad}"
            );
        }
    }

    #[test]
    fn bucket_names_follow_s3_rules() {
        for ok in ["abc", "my-bucket.2024", "a1b", &"a".repeat(63)] {
            assert!(check_bucket_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "My-Bucket",
            "-abc",
            "abc-",
            "a..b",
            "a.-b",
            "192.168.1.1",
            "xn--abc",
            "abc-s3alias",
            "a_b",
        ] {
            assert_eq!(
                check_bucket_name(bad).unwrap_err().code,
                Code::InvalidBucketName,
                "{bad}"
            );
        }
    }
}

/// `<RequestPaymentConfiguration>`: who pays for requests; always the bucket owner here.
#[derive(Debug, Default, Serialize)]
#[serde(rename = "RequestPaymentConfiguration")]
struct RequestPaymentConfiguration {
    #[serde(rename = "@xmlns")]
    xmlns: Xmlns,
    #[serde(rename = "Payer")]
    payer: &'static str,
}

/// GetBucketRequestPayment: the bucket owner pays, as on every bucket that never enabled
/// Requester Pays.
pub async fn get_bucket_request_payment(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    req.found.existing()?;
    document(&RequestPaymentConfiguration {
        payer: "BucketOwner",
        ..RequestPaymentConfiguration::default()
    })
}

/// GetBucketAccelerateConfiguration: no `Status`, as for a bucket that never set one.
pub async fn get_bucket_accelerate_configuration(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    req.found.existing()?;
    unconfigured("AccelerateConfiguration")
}

/// GetBucketLogging: an empty `BucketLoggingStatus`, logging disabled.
pub async fn get_bucket_logging(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    req.found.existing()?;
    unconfigured("BucketLoggingStatus")
}

/// GetBucketNotificationConfiguration: an empty `NotificationConfiguration`, no
/// notifications.
pub async fn get_bucket_notification_configuration(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    req.found.existing()?;
    unconfigured("NotificationConfiguration")
}
