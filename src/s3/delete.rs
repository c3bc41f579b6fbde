//! DeleteObjects: up to 1000 keys in one request, `Quiet`, a `Deleted` or `Error` entry per
//! key. Each key needs `s3:DeleteObject` (`s3:DeleteObjectVersion` when it names a version) on
//! its own; a denied key is an `AccessDenied` entry and does not stop the others. A
//! `VersionId` other than `null` names a version that does not exist: `NoSuchVersion`,
//! nothing deleted. The body's Content-MD5 or checksum, which S3 requires, is verified.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html>

use super::actions::{delete_action, object_arn};
use super::body::read_small;
use super::error::{Code, S3Error};
use super::object::{check_whole_body, expected, Expected, MAX_KEY_BYTES};
use super::version::{Version, NULL};
use super::xml::{parse, xml_response, S3_XMLNS};
use super::{Ctx, Reply, Req};
use crate::xml::XmlWriter;

const MAX_KEYS: usize = 1000;

/// S3 requires DeleteObjects to carry Content-MD5 or a checksum, and checks it.
fn verify(body: &[u8], want: &Expected, trailers: &[(String, String)]) -> Result<(), S3Error> {
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

/// One `<Object>` of the request: a key and, optionally, the version to delete.
struct Entry {
    key: String,
    version: Option<String>,
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
    let doc = parse(&body)?;
    if doc.name != "Delete" {
        return Err(Code::MalformedXML.into());
    }
    let quiet = doc
        .child_text("Quiet")
        .is_some_and(|q| q.trim().eq_ignore_ascii_case("true"));
    let entries: Vec<Entry> = doc
        .children_named("Object")
        .map(|o| {
            let key = o.child_text("Key").ok_or(Code::MalformedXML)?;
            Ok(Entry {
                key: key.to_owned(),
                version: o.child_text("VersionId").map(str::to_owned),
            })
        })
        .collect::<Result<_, S3Error>>()?;
    if entries.is_empty() || entries.len() > MAX_KEYS {
        return Err(Code::MalformedXML.into());
    }
    let mut outcome = Outcome::default();
    for entry in entries {
        outcome.sort(ctx, bucket, entry);
    }
    let keys: Vec<String> = outcome.deletable.iter().map(|e| e.key.clone()).collect();
    let (_, blobs) = ctx.index().delete_objects(bucket.to_owned(), keys).await?;
    ctx.blobs().remove(blobs).await;
    let mut w = XmlWriter::new();
    w.raw(&format!("<DeleteResult xmlns=\"{S3_XMLNS}\">"));
    if !quiet {
        // Deleting a key that does not exist succeeds, as in S3.
        for entry in &outcome.deletable {
            w.open("Deleted").elem("Key", &entry.key);
            if let Some(version) = &entry.version {
                w.elem("VersionId", version);
            }
            w.close("Deleted");
        }
    }
    for (entry, code, message) in &outcome.errors {
        w.open("Error").elem("Key", &entry.key);
        if let Some(version) = &entry.version {
            w.elem("VersionId", version);
        }
        w.elem("Code", code).elem("Message", message).close("Error");
    }
    w.close("DeleteResult");
    xml_response(w)
}
