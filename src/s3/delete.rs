//! DeleteObjects: up to 1000 keys in one request, `Quiet`, a `Deleted` or `Error` entry per
//! key. Each key needs `s3:DeleteObject` on its own; a denied key is an `AccessDenied` entry
//! and does not stop the others. The body's Content-MD5 or checksum, which S3 requires, is verified.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html>

use http::request;

use super::actions::object_arn;
use super::body::{read_small, BodyReader};
use super::error::{Code, S3Error};
use super::object::{check_whole_body, expected, Expected, MAX_KEY_BYTES};
use super::xml::{parse, xml_response, S3_XMLNS};
use super::{Ctx, Reply};
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

pub async fn delete_objects(
    ctx: &Ctx<'_>,
    bucket: &str,
    parts: &request::Parts,
    mut reader: BodyReader,
) -> Reply {
    let want = expected(&parts.headers)?;
    ctx.index().bucket(bucket.to_owned()).await?;
    let body = read_small(&mut reader, 2 * 1024 * 1024).await?;
    verify(&body, &want, reader.trailers())?;
    let doc = parse(&body)?;
    if doc.name != "Delete" {
        return Err(Code::MalformedXML.into());
    }
    let quiet = doc
        .child_text("Quiet")
        .is_some_and(|q| q.trim().eq_ignore_ascii_case("true"));
    let keys: Vec<String> = doc
        .children_named("Object")
        .map(|o| {
            o.child_text("Key")
                .map(str::to_owned)
                .ok_or_else(|| S3Error::from(Code::MalformedXML))
        })
        .collect::<Result<_, _>>()?;
    if keys.is_empty() || keys.len() > MAX_KEYS {
        return Err(Code::MalformedXML.into());
    }
    let (too_long, keys): (Vec<String>, Vec<String>) =
        keys.into_iter().partition(|k| k.len() > MAX_KEY_BYTES);
    // Each key is authorized on its own: the denied ones are reported, the others deleted.
    let (deletable, denied): (Vec<String>, Vec<String>) = keys
        .into_iter()
        .partition(|k| ctx.access.allows("s3:DeleteObject", &object_arn(bucket, k)));
    let (_, blobs) = ctx
        .index()
        .delete_objects(bucket.to_owned(), deletable.clone())
        .await?;
    ctx.blobs().remove(blobs).await;
    let mut w = XmlWriter::new();
    w.raw(&format!("<DeleteResult xmlns=\"{S3_XMLNS}\">"));
    if !quiet {
        // Deleting a key that does not exist succeeds, as in S3.
        for key in &deletable {
            w.open("Deleted").elem("Key", key).close("Deleted");
        }
    }
    for key in &too_long {
        w.open("Error")
            .elem("Key", key)
            .elem("Code", "KeyTooLongError")
            .elem("Message", "Your key is too long")
            .close("Error");
    }
    for key in &denied {
        w.open("Error")
            .elem("Key", key)
            .elem("Code", "AccessDenied")
            .elem("Message", "Access Denied")
            .close("Error");
    }
    w.close("DeleteResult");
    xml_response(w)
}
