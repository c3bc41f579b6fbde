//! Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
//! GetBucketLocation, GetBucketVersioning, and the ACL answers LabStore gives (the owner has
//! FULL_CONTROL; nothing else is ever granted).
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>

use http::{HeaderValue, Response, StatusCode};

use super::body::read_small;
use super::error::{Code, S3Error, S3Result};
use super::xml::{document, owner, unconfigured, xml_response, Xmlns, S3_XMLNS};
use super::{finish, Ctx, Reply, Req};
use crate::xml::XmlWriter;

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

pub async fn list_buckets(ctx: &Ctx<'_>, _req: Req<'_>) -> Reply {
    let buckets = ctx.index().list_buckets();
    let mut w = XmlWriter::new();
    w.raw(&format!("<ListAllMyBucketsResult xmlns=\"{S3_XMLNS}\">"));
    owner(&mut w, ctx.account());
    w.open("Buckets");
    for b in &buckets {
        w.open("Bucket")
            .elem("Name", &b.name)
            .elem("CreationDate", &super::xml::timestamp(b.created_at))
            .close("Bucket");
    }
    w.close("Buckets").close("ListAllMyBucketsResult");
    xml_response(w)
}

/// CreateBucket; a `CreateBucketConfiguration` body may name any LocationConstraint.
pub async fn create_bucket(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let (bucket, mut reader) = (req.bucket, req.body);
    check_bucket_name(bucket)?;
    let body = read_small(&mut reader, 64 * 1024).await?;
    let region = match super::xml::parse_location_constraint(&body)? {
        Some(region) if !region.is_empty() => check_location_constraint(region)?,
        _ => ctx.state.config.backend.s3.region.clone(),
    };
    let owner = ctx.account().to_owned();
    ctx.index()
        .create_bucket(bucket.to_owned(), region, owner)
        .await?;
    finish(
        Response::builder().header("location", format!("/{bucket}")),
        crate::http::empty(),
    )
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
    ctx.index().delete_bucket(bucket.to_owned()).await?;
    finish(
        Response::builder().status(StatusCode::NO_CONTENT),
        crate::http::empty(),
    )
}

/// GetBucketLocation: empty for us-east-1, as S3 answers.
pub async fn get_bucket_location(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let b = req.found.existing()?;
    let region = match b.region.as_str() {
        "us-east-1" => "",
        region => region,
    };
    let mut w = XmlWriter::new();
    w.raw(&format!(
        "<LocationConstraint xmlns=\"{S3_XMLNS}\">{}</LocationConstraint>",
        crate::xml::escape(region)
    ));
    xml_response(w)
}

/// Versioning is never enabled: an empty configuration, as S3 shows for a new bucket.
pub async fn get_bucket_versioning(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    req.found.existing()?;
    let mut w = XmlWriter::new();
    w.raw(&format!("<VersioningConfiguration xmlns=\"{S3_XMLNS}\"/>"));
    xml_response(w)
}

pub async fn get_bucket_acl(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    req.found.existing()?;
    acl(ctx)
}

pub async fn get_object_acl(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    ctx.index()
        .get_object(req.bucket.to_owned(), req.key.to_owned())
        .await?;
    acl(ctx)
}

/// The owner's FULL_CONTROL grant, the only ACL LabStore has.
fn acl(ctx: &Ctx<'_>) -> Reply {
    let mut w = XmlWriter::new();
    w.raw(&format!("<AccessControlPolicy xmlns=\"{S3_XMLNS}\">"));
    owner(&mut w, ctx.account());
    w.open("AccessControlList").open("Grant");
    w.raw("<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\">");
    let (id, name) = super::xml::owner_id(ctx.account());
    w.elem("ID", &id)
        .elem("DisplayName", &name)
        .close("Grantee");
    w.elem("Permission", "FULL_CONTROL")
        .close("Grant")
        .close("AccessControlList")
        .close("AccessControlPolicy");
    xml_response(w)
}

/// PutBucketAcl / PutObjectAcl: only `private` (the one ACL LabStore has) is accepted, so
/// that nobody believes an object was made public when it was not.
pub async fn put_acl(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let parts = req.parts;
    match parts.headers.get("x-amz-acl").and_then(|v| v.to_str().ok()) {
        Some("private") => finish(Response::builder(), crate::http::empty()),
        _ => Err(S3Error::new(
            Code::NotImplemented,
            "Only the canned ACL 'private' is supported; use bucket policies.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
#[derive(Debug, Default, serde::Serialize)]
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
