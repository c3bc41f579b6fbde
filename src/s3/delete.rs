//! DeleteObjects: up to 1000 keys in one request, `Quiet`, a `Deleted` or `Error` entry per
//! key. Each key needs `s3:DeleteObject` (`s3:DeleteObjectVersion` when it names a version) on
//! its own; a denied key is an `AccessDenied` entry and does not stop the others. An entry
//! with a `VersionId` deletes that version (a malformed id is `NoSuchVersion`, a version under
//! Object Lock `AccessDenied`); one without adds a delete marker on a versioned bucket, and
//! says so (`DeleteMarker`, `DeleteMarkerVersionId`). The body's Content-MD5 or checksum,
//! which S3 requires, is verified.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html>

use serde::{Deserialize, Serialize};

use super::actions::{delete_action, object_arn};
use super::body::read_small;
use super::error::{Code, S3Error};
use super::object::{check_whole_body, expected, Expected, MAX_KEY_BYTES};
use super::version::{self, Version};
use super::xml::{document, read, RequestDocument, Xmlns};
use super::{Ctx, Reply, Req};
use crate::objects::IndexError;

const MAX_KEYS: usize = 1000;

/// S3 requires DeleteObjects (and the tagging puts) to carry Content-MD5 or a checksum, and checks it.
pub(super) fn verify(
    body: &[u8],
    want: &Expected,
    trailers: &[(String, String)],
) -> Result<(), S3Error> {
    let checksum_given =
        want.in_trailer || want.checksum.as_ref().is_some_and(|(_, v)| v.is_some());
    if want.md5.is_none() && !checksum_given {
        return Err(S3Error::new(
            Code::InvalidRequest,
            "Missing required header for this request: Content-MD5",
        ));
    }
    check_whole_body(body, want, trailers)
}

/// DeleteObjects' request document.
#[derive(Debug, Deserialize)]
struct Delete {
    #[serde(rename = "Object", default)]
    objects: Vec<Entry>,
    /// Quiet mode when `true`, in any case and with any whitespace around it; any other
    /// value is verbose.
    #[serde(rename = "Quiet")]
    quiet: Option<String>,
}

impl RequestDocument for Delete {
    const ROOT: &'static str = "Delete";
}

/// One `<Object>` of the request: a key (kept exactly, whitespace included) and, optionally,
/// the version to delete.
#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "VersionId")]
    version: Option<String>,
}

/// `<DeleteResult>`: a `Deleted` entry per key deleted (none in quiet mode), an `Error` entry
/// per key refused.
#[derive(Debug, Serialize)]
#[serde(rename = "DeleteResult")]
struct DeleteResult<'a> {
    #[serde(rename = "@xmlns")]
    xmlns: Xmlns,
    #[serde(rename = "Deleted")]
    deleted: Vec<Deleted<'a>>,
    #[serde(rename = "Error")]
    errors: Vec<DeleteError<'a>>,
}

#[derive(Debug, Serialize)]
struct Deleted<'a> {
    #[serde(rename = "Key")]
    key: &'a str,
    #[serde(rename = "VersionId", skip_serializing_if = "Option::is_none")]
    version_id: Option<&'a str>,
    #[serde(rename = "DeleteMarker", skip_serializing_if = "Option::is_none")]
    delete_marker: Option<bool>,
    #[serde(
        rename = "DeleteMarkerVersionId",
        skip_serializing_if = "Option::is_none"
    )]
    delete_marker_version_id: Option<String>,
}

#[derive(Debug, Serialize)]
struct DeleteError<'a> {
    #[serde(rename = "Key")]
    key: &'a str,
    #[serde(rename = "VersionId", skip_serializing_if = "Option::is_none")]
    version_id: Option<&'a str>,
    #[serde(rename = "Code")]
    code: &'static str,
    #[serde(rename = "Message")]
    message: &'static str,
}

/// The entries that will be deleted, and those answered with an error.
#[derive(Default)]
struct Outcome {
    deletable: Vec<(Entry, Version)>,
    errors: Vec<(Entry, &'static str, &'static str)>,
}

impl Outcome {
    /// Each entry is checked on its own: a key too long, a malformed version id or a denied
    /// key is an `Error` entry and does not stop the others. An entry naming a version needs
    /// `s3:DeleteObjectVersion`.
    fn sort(&mut self, ctx: &Ctx<'_>, bucket: &str, entry: Entry) {
        let Ok(version) = version::named(entry.version.as_deref()) else {
            let refusal = ("NoSuchVersion", "The specified version does not exist.");
            self.errors.push((entry, refusal.0, refusal.1));
            return;
        };
        let refusal = if entry.key.len() > MAX_KEY_BYTES {
            Some(("KeyTooLongError", "Your key is too long"))
        } else if !ctx.access.allows(
            delete_action(version.is_named()),
            &object_arn(bucket, &entry.key),
        ) {
            Some(("AccessDenied", "Access Denied"))
        } else {
            None
        };
        match refusal {
            Some((code, message)) => self.errors.push((entry, code, message)),
            None => self.deletable.push((entry, version)),
        }
    }
}

pub async fn delete_objects(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let (bucket, parts, mut reader) = (req.bucket, req.parts, req.body);
    let want = expected(&parts.headers)?;
    req.found.existing()?;
    let body = read_small(&mut reader, 2 * 1024 * 1024).await?;
    verify(&body, &want, reader.trailers())?;
    let doc: Delete = read(&body)?;
    let quiet = doc
        .quiet
        .is_some_and(|q| q.trim().eq_ignore_ascii_case("true"));
    if doc.objects.is_empty() || doc.objects.len() > MAX_KEYS {
        return Err(Code::MalformedXML.into());
    }
    let mut outcome = Outcome::default();
    for entry in doc.objects {
        outcome.sort(ctx, bucket, entry);
    }
    let entries: Vec<_> = outcome
        .deletable
        .iter()
        .map(|(e, v)| (e.key.clone(), v.clone()))
        .collect();
    // One bypass decision for the request: the header is the request's, the permission is
    // checked per key below.
    let results = ctx
        .index()
        .delete_objects(bucket.to_owned(), entries, false)
        .await?;
    let mut deleted = Vec::new();
    let mut errors: Vec<DeleteError<'_>> = outcome
        .errors
        .iter()
        .map(|(entry, code, message)| DeleteError {
            key: &entry.key,
            version_id: entry.version.as_deref(),
            code,
            message,
        })
        .collect();
    let mut locked = Vec::new();
    for ((entry, version), result) in outcome.deletable.iter().zip(results) {
        match result {
            Ok(done) => {
                ctx.blobs().remove(done.blobs).await;
                // Deleting a key that does not exist succeeds, as in S3.
                if !quiet {
                    deleted.push(Deleted::of(
                        entry,
                        version,
                        done.delete_marker,
                        done.version_id,
                    ));
                }
            }
            Err(IndexError::ObjectLocked) => locked.push((entry, version)),
            Err(e) => return Err(e.into()),
        }
    }
    // Versions under GOVERNANCE retention whose caller asked for, and may, bypass it.
    let bypassing: Vec<_> = locked
        .iter()
        .filter(|(entry, _)| version::bypass_governance(ctx, &parts.headers, bucket, &entry.key))
        .map(|(entry, version)| (entry.key.clone(), (*version).clone()))
        .collect();
    let mut retried = if bypassing.is_empty() {
        Vec::new()
    } else {
        ctx.index()
            .delete_objects(bucket.to_owned(), bypassing.clone(), true)
            .await?
    }
    .into_iter();
    for (entry, version) in locked {
        let bypassed = bypassing
            .iter()
            .any(|(k, v)| *k == entry.key && v == version);
        match bypassed.then(|| retried.next()).flatten() {
            Some(Ok(done)) => {
                ctx.blobs().remove(done.blobs).await;
                if !quiet {
                    deleted.push(Deleted::of(
                        entry,
                        version,
                        done.delete_marker,
                        done.version_id,
                    ));
                }
            }
            Some(Err(IndexError::ObjectLocked)) | None => errors.push(DeleteError {
                key: &entry.key,
                version_id: entry.version.as_deref(),
                code: "AccessDenied",
                message: "Access Denied because object protected by object lock.",
            }),
            Some(Err(e)) => return Err(e.into()),
        }
    }
    document(&DeleteResult {
        xmlns: Xmlns::default(),
        deleted,
        errors,
    })
}

impl<'a> Deleted<'a> {
    /// The entry S3 gives: the version named, and whether a delete marker was added (its id)
    /// or the version removed was one.
    fn of(
        entry: &'a Entry,
        version: &Version,
        delete_marker: bool,
        version_id: Option<String>,
    ) -> Deleted<'a> {
        let named = version.is_named();
        Deleted {
            key: &entry.key,
            version_id: entry.version.as_deref().filter(|_| named),
            delete_marker: delete_marker.then_some(true),
            delete_marker_version_id: version_id.filter(|_| delete_marker),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::error::Code;
    use crate::s3::xml::{assert_documented, to_xml, S3_XMLNS};

    fn keys(body: &str) -> Result<Vec<(String, Option<String>)>, Code> {
        let doc: Delete = read(body.as_bytes()).map_err(|e| e.code)?;
        Ok(doc
            .objects
            .into_iter()
            .map(|o| (o.key, o.version))
            .collect())
    }

    /// AWS's two DeleteObjects examples: a mixed result (one key deleted, one denied), and a
    /// versioned key.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html#API_DeleteObjects_Examples>
    #[test]
    fn delete_objects_reads_and_answers_as_documented() {
        let request = r"<Delete>
              <Object>
                <Key>sample1.txt</Key>
              </Object>
              <Object>
                <Key>sample2.txt</Key>
              </Object>
            </Delete>";
        let objects = keys(request).unwrap();
        assert_eq!(
            objects,
            [("sample1.txt".into(), None), ("sample2.txt".into(), None)]
        );
        let doc = DeleteResult {
            xmlns: Xmlns::default(),
            deleted: vec![Deleted {
                key: "sample1.txt",
                version_id: None,
                delete_marker: None,
                delete_marker_version_id: None,
            }],
            errors: vec![DeleteError {
                key: "sample2.txt",
                version_id: None,
                code: "AccessDenied",
                message: "Access Denied",
            }],
        };
        assert_documented(
            &to_xml(None, &doc).unwrap(),
            r#"<?xml version="1.0" encoding="UTF-8"?>
            <DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Deleted>
                <Key>sample1.txt</Key>
              </Deleted>
              <Error>
                <Key>sample2.txt</Key>
                <Code>AccessDenied</Code>
                <Message>Access Denied</Message>
              </Error>
            </DeleteResult>"#,
        );

        let request = r"<Delete>
              <Object>
                <Key>SampleDocument.txt</Key>
                <VersionId>OYcLXagmS.WaD..oyH4KRguB95_YhLs7</VersionId>
              </Object>
            </Delete>";
        let objects = keys(request).unwrap();
        let version = "OYcLXagmS.WaD..oyH4KRguB95_YhLs7";
        assert_eq!(
            objects,
            [("SampleDocument.txt".into(), Some(version.into()))]
        );
        let doc = DeleteResult {
            xmlns: Xmlns::default(),
            deleted: vec![Deleted {
                key: "SampleDocument.txt",
                version_id: Some(version),
                delete_marker: None,
                delete_marker_version_id: None,
            }],
            errors: Vec::new(),
        };
        assert_documented(
            &to_xml(None, &doc).unwrap(),
            r#"<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Deleted>
                <Key>SampleDocument.txt</Key>
                <VersionId>OYcLXagmS.WaD..oyH4KRguB95_YhLs7</VersionId>
              </Deleted>
            </DeleteResult>"#,
        );
        // Quiet, nothing refused: an empty result.
        let quiet = DeleteResult {
            deleted: Vec::new(),
            ..doc
        };
        assert_eq!(
            to_xml(None, &quiet).unwrap(),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                 <DeleteResult xmlns=\"{S3_XMLNS}\"></DeleteResult>"
            )
        );
    }

    /// Keys are kept exactly; `Quiet` and unknown elements may come anywhere; a key is
    /// required, once.
    #[test]
    fn delete_requests_keep_keys_and_refuse_malformed_ones() {
        let body = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
            <Object><Key> a&amp;b </Key><VersionId/></Object><Quiet> TRUE </Quiet>\
            <Object><ETag>\"x\"</ETag><Key>c&#13;&#10;d</Key></Object></Delete>";
        let doc: Delete = read(body.as_bytes()).unwrap();
        assert_eq!(doc.quiet.as_deref(), Some(" TRUE "));
        let objects: Vec<_> = doc
            .objects
            .into_iter()
            .map(|o| (o.key, o.version))
            .collect();
        assert_eq!(
            objects,
            [
                (" a&b ".into(), Some(String::new())),
                ("c\r\nd".into(), None)
            ]
        );
        for bad in [
            "<Delete><Object><VersionId>v</VersionId></Object></Delete>",
            "<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>",
            "<Delete><Object><Key>a</Key></Object>",
            "<Objects><Object><Key>a</Key></Object></Objects>",
        ] {
            assert_eq!(keys(bad).unwrap_err(), Code::MalformedXML, "{bad}");
        }
    }
}
