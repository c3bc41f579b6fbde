//! DeleteObjects: up to 1000 keys in one request, `Quiet`, a `Deleted` or `Error` entry per
//! key. Each key needs `s3:DeleteObject` (`s3:DeleteObjectVersion` when it names a version) on
//! its own; a denied key is an `AccessDenied` entry and does not stop the others. A
//! `VersionId` other than `null` names a version that does not exist: `NoSuchVersion`,
//! nothing deleted. The body's Content-MD5 or checksum, which S3 requires, is verified.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html>

use serde::{Deserialize, Serialize};

use super::actions::{delete_action, object_arn};
use super::body::read_small;
use super::error::{Code, S3Error};
use super::object::{check_whole_body, expected, Expected, MAX_KEY_BYTES};
use super::version::{Version, NULL};
use super::xml::{document, read, RequestDocument, Xmlns};
use super::{Ctx, Reply, Req};

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
    deletable: Vec<Entry>,
    errors: Vec<(Entry, &'static str, &'static str)>,
}

impl Outcome {
    /// Each entry is checked on its own: a key too long, a version that does not exist (only
    /// the `null` version does) or a denied key is an `Error` entry and does not stop the
    /// others. An entry naming a version needs `s3:DeleteObjectVersion`.
    fn sort(&mut self, ctx: &Ctx<'_>, bucket: &str, entry: Entry) {
        let version = match entry.version.as_deref() {
            None => Version::Current,
            Some(NULL) => Version::Null,
            Some(_) => Version::Missing(String::new()),
        };
        let refusal = if entry.key.len() > MAX_KEY_BYTES {
            Some(("KeyTooLongError", "Your key is too long"))
        } else if version.existing().is_err() {
            Some(("NoSuchVersion", "The specified version does not exist."))
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
            None => self.deletable.push(entry),
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
    let keys: Vec<String> = outcome.deletable.iter().map(|e| e.key.clone()).collect();
    let (_, blobs) = ctx.index().delete_objects(bucket.to_owned(), keys).await?;
    ctx.blobs().remove(blobs).await;
    let deleted = match quiet {
        true => Vec::new(),
        // Deleting a key that does not exist succeeds, as in S3.
        false => outcome.deletable.iter().map(Deleted::of).collect(),
    };
    let errors = outcome
        .errors
        .iter()
        .map(|(entry, code, message)| DeleteError {
            key: &entry.key,
            version_id: entry.version.as_deref(),
            code,
            message,
        })
        .collect();
    document(&DeleteResult {
        xmlns: Xmlns::default(),
        deleted,
        errors,
    })
}

impl<'a> Deleted<'a> {
    fn of(entry: &'a Entry) -> Deleted<'a> {
        Deleted {
            key: &entry.key,
            version_id: entry.version.as_deref(),
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
