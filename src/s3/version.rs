//! `versionId`, as requests name versions: absent (the current version), `null`, or a version
//! id of the form this server makes (`objects::versions`). Any other id is refused before
//! anything runs, as S3 refuses an id it never issued: `400 InvalidArgument`.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/versioning-workflows.html>

use http::{HeaderMap, HeaderValue};

use super::actions::object_arn;
use super::{Ctx, Req};

use super::error::{Code, S3Error, S3Result};
use super::query::Query;
pub use crate::objects::versions::{is_version_id, NULL};
pub use crate::objects::VersionRef as Version;

/// The version named by `versionId` (from the query, a DeleteObjects entry or a copy source).
pub fn named(id: Option<&str>) -> S3Result<Version> {
    match id {
        None => Ok(Version::Current),
        Some("") => Err(S3Error::new(
            Code::InvalidArgument,
            "Version id cannot be the empty string",
        )),
        Some(NULL) => Ok(Version::Null),
        Some(id) if is_version_id(id) => Ok(Version::Id(id.to_owned())),
        Some(_) => Err(invalid_version()),
    }
}

pub fn of(query: &Query) -> S3Result<Version> {
    named(query.get("versionId"))
}

/// Whether a request asks to bypass GOVERNANCE retention (`x-amz-bypass-governance-retention:
/// true`) and its caller may (`s3:BypassGovernanceRetention` on the object).
pub fn bypass_governance(ctx: &Ctx<'_>, headers: &HeaderMap, bucket: &str, key: &str) -> bool {
    let asked = headers
        .get("x-amz-bypass-governance-retention")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    asked
        && ctx
            .access
            .allows("s3:BypassGovernanceRetention", &object_arn(bucket, key))
}

/// The `x-amz-version-id` of a response about version `id`: shown on a bucket that has
/// versioning (Enabled or Suspended), or when the request named a version; not on a bucket
/// never versioned, as S3 answers.
pub fn shown(req: &Req<'_>, id: String) -> Option<String> {
    let versioned = req
        .found
        .existing()
        .is_ok_and(|b| b.configs.versioning.is_some());
    (versioned || req.version.is_named()).then_some(id)
}

pub fn invalid_version() -> S3Error {
    S3Error::new(Code::InvalidArgument, "Invalid version id specified")
}

/// Sets `x-amz-version-id` (when `id` is some) on a response builder.
pub fn with_version(builder: http::response::Builder, id: Option<&str>) -> http::response::Builder {
    match id.and_then(|id| HeaderValue::from_str(id).ok()) {
        Some(value) => builder.header("x-amz-version-id", value),
        None => builder,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_versions() {
        assert_eq!(named(None).unwrap(), Version::Current);
        assert_eq!(named(Some("null")).unwrap(), Version::Null);
        let id = "7ffa0b1c2d3e4f50a1b2c3d4e5f60718";
        assert_eq!(named(Some(id)).unwrap(), Version::Id(id.into()));
        for other in [
            "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
            "NULL",
            "7FFA0B1C2D3E4F50A1B2C3D4E5F60718",
        ] {
            let e = named(Some(other)).unwrap_err();
            assert_eq!(e.code, Code::InvalidArgument, "{other}");
        }
        assert_eq!(named(Some("")).unwrap_err().code, Code::InvalidArgument);
        assert!(Version::Null.is_named());
        assert!(!Version::Current.is_named());
    }
}
