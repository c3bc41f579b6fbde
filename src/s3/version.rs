//! `versionId`, on a server whose buckets are never versioned (yet): every object has exactly
//! one version, S3's `null` version. A request that names a version must never act on
//! another one: `versionId=null` addresses the object, any other id names a version that
//! does not exist and changes nothing.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/AddingObjectstoVersionSuspendedBuckets.html>

use super::error::{Code, S3Error, S3Result};
use super::query::Query;

/// The id of the only version an object of an unversioned bucket has.
pub const NULL: &str = "null";

/// Which version a request names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Version {
    /// No `versionId`: the current version.
    Current,
    /// `versionId=null`: the same object, named explicitly.
    Null,
    /// Any other id: a version that does not exist here.
    Missing(String),
}

impl Version {
    /// The version named by `versionId` (from the query, a DeleteObjects entry or a copy
    /// source). An empty id is malformed, as S3 says.
    pub fn named(id: Option<&str>) -> S3Result<Version> {
        match id {
            None => Ok(Version::Current),
            Some("") => Err(S3Error::new(
                Code::InvalidArgument,
                "Version id cannot be the empty string",
            )),
            Some(NULL) => Ok(Version::Null),
            Some(other) => Ok(Version::Missing(other.to_owned())),
        }
    }

    pub fn of(query: &Query) -> S3Result<Version> {
        Version::named(query.get("versionId"))
    }

    /// Whether the request named a version, so that it needs the `…Version` permission.
    pub fn is_named(&self) -> bool {
        !matches!(self, Version::Current)
    }

    /// `Ok` for the versions that exist (the current one, `null`); S3's `NoSuchVersion` for
    /// any other.
    pub fn existing(&self) -> S3Result<()> {
        match self {
            Version::Missing(_) => Err(no_such_version()),
            _ => Ok(()),
        }
    }

    /// The `x-amz-version-id` a response carries: the id the request named, if any.
    pub fn header(&self) -> Option<&str> {
        match self {
            Version::Current => None,
            Version::Null => Some(NULL),
            Version::Missing(id) => Some(id),
        }
    }
}

pub fn no_such_version() -> S3Error {
    Code::NoSuchVersion.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_versions() {
        assert_eq!(Version::named(None).unwrap(), Version::Current);
        assert_eq!(Version::named(Some("null")).unwrap(), Version::Null);
        let other = Version::named(Some("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY")).unwrap();
        assert_eq!(other.existing().unwrap_err().code, Code::NoSuchVersion);
        assert_eq!(other.header(), Some("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"));
        assert_eq!(
            Version::named(Some("")).unwrap_err().code,
            Code::InvalidArgument
        );
        assert!(Version::Null.existing().is_ok() && Version::Null.is_named());
        assert!(!Version::Current.is_named());
    }
}
