//! PutBucketVersioning and GetBucketVersioning: a bucket's versioning status, `Enabled` or
//! `Suspended`; a bucket never versioned reports none. What the status does to writes and
//! deletes is `objects::versions`. MFA delete is not built: asking for it is `NotImplemented`.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketVersioning.html>

use http::Response;
use serde::{Deserialize, Serialize};

use super::bucket_access::body;
use super::error::{Code, S3Error};
use super::xml::{document, read, RequestDocument, Xmlns};
use super::{finish, Ctx, Reply, Req};
use crate::objects::VersioningStatus;

/// `<VersioningConfiguration>`, as sent and as answered.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename = "VersioningConfiguration")]
struct VersioningConfiguration {
    #[serde(rename = "@xmlns", default, skip_deserializing)]
    xmlns: Xmlns,
    #[serde(rename = "Status", skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(rename = "MfaDelete", skip_serializing_if = "Option::is_none")]
    mfa_delete: Option<String>,
}

impl RequestDocument for VersioningConfiguration {
    const ROOT: &'static str = "VersioningConfiguration";
}

fn mfa_not_implemented() -> S3Error {
    S3Error::new(
        Code::NotImplemented,
        "MFA delete is not implemented by this server",
    )
}

pub async fn put_bucket_versioning(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    req.found.existing()?;
    if req.parts.headers.contains_key("x-amz-mfa") {
        return Err(mfa_not_implemented());
    }
    let name = req.bucket.to_owned();
    let doc: VersioningConfiguration = read(&body(req).await?)?;
    match doc.mfa_delete.as_deref().map(str::trim) {
        None | Some("Disabled") => {}
        Some("Enabled") => return Err(mfa_not_implemented()),
        Some(_) => return Err(Code::MalformedXML.into()),
    }
    let status = match doc.status.as_deref().map(str::trim) {
        // Nothing asked: nothing changes.
        None => return finish(Response::builder(), crate::http::empty()),
        Some(status) => VersioningStatus::parse(status).ok_or(Code::MalformedXML)?,
    };
    // Suspended on a bucket with Object Lock is refused in the commit (InvalidBucketState).
    ctx.index().put_versioning(name, status).await?;
    finish(Response::builder(), crate::http::empty())
}

/// The bucket's status; an empty configuration for a bucket never versioned, as S3 answers.
#[expect(
    clippy::unused_async,
    reason = "handlers share the async signature the operation table dispatches to; the status is read from memory"
)]
pub async fn get_bucket_versioning(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let bucket = req.found.existing()?;
    document(&VersioningConfiguration {
        status: bucket
            .configs
            .versioning
            .as_ref()
            .map(|v| v.status.as_str().to_owned()),
        ..VersioningConfiguration::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::xml::{assert_documented, to_xml};

    /// AWS's examples: the request that enables versioning, and GetBucketVersioning's
    /// answers for a bucket with a status and for one never versioned.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketVersioning.html#API_PutBucketVersioning_Examples>
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketVersioning.html#API_GetBucketVersioning_Examples>
    #[test]
    fn versioning_documents_read_and_answer_as_documented() {
        let doc: VersioningConfiguration = read(
            br#"<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
                  <Status>Enabled</Status>
                </VersioningConfiguration>"#,
        )
        .unwrap();
        assert_eq!(doc.status.as_deref(), Some("Enabled"));
        assert_eq!(doc.mfa_delete, None);
        let answer = VersioningConfiguration {
            status: Some("Enabled".into()),
            ..VersioningConfiguration::default()
        };
        assert_documented(
            &to_xml(None, &answer).unwrap(),
            r#"<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
                 <Status>Enabled</Status>
               </VersioningConfiguration>"#,
        );
        assert_documented(
            &to_xml(None, &VersioningConfiguration::default()).unwrap(),
            r#"<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>"#,
        );
    }
}
