//! S3's XML: the response envelope, owner blocks and timestamps, and a small tree reader for
//! the request documents clients send (CreateBucketConfiguration, Delete,
//! CompleteMultipartUpload). Namespaces are ignored on input, as S3 does.

use std::borrow::Cow;
use std::fmt::Write;

use http::{header, Response};
use quick_xml::events::Event;
use quick_xml::Reader;
use sha2::{Digest, Sha256};

use super::error::{Code, S3Error, S3Result};
use super::{finish, Reply};
use crate::xml::XmlWriter;

pub const S3_XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// A 200 response carrying `w`'s document.
pub fn xml_response(w: XmlWriter) -> Reply {
    finish(
        Response::builder().header(header::CONTENT_TYPE, "application/xml"),
        crate::http::full(xml_body(w)),
    )
}

/// `w`'s document as a response body: the XML declaration, then the document.
pub fn xml_body(w: XmlWriter) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
        control_references(&w.finish())
    )
}

/// Writes CR, LF and the other C0 controls of a document's text as character references, as
/// S3 does for keys: an XML parser turns a raw CR (or CRLF) into LF, and refuses raw controls,
/// so a listing would otherwise change such keys or fail whole. Tab stays as it is.
/// Only text holds these characters here: tags and attributes are ours, on one line.
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html#object-key-xml-related-constraints>
fn control_references(document: &str) -> Cow<'_, str> {
    let escaped = |c: char| c < ' ' && c != '\t';
    if !document.contains(escaped) {
        return Cow::Borrowed(document);
    }
    let mut out = String::with_capacity(document.len() + 16);
    for c in document.chars() {
        if escaped(c) {
            let _ = write!(out, "&#{};", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The account's canonical user id (64 hex digits, derived from the account id) and display
/// name.
pub fn owner_id(account: &str) -> (String, String) {
    (
        hex::encode(Sha256::digest(format!("labstore:{account}").as_bytes())),
        "root".to_owned(),
    )
}

/// A 200 response carrying a typed document: `T` names its root element
/// (`#[serde(rename = "…")]`) and carries S3's namespace in an `@xmlns` field.
pub fn document<T: serde::Serialize>(doc: &T) -> Reply {
    let text = quick_xml::se::to_string(doc)
        .map_err(|e| S3Error::internal("serializing a response document", e))?;
    xml_text(&text)
}

/// An empty configuration document named `root`: what S3 answers for a bucket that never
/// set that configuration (`<BucketLoggingStatus xmlns="…"/>`).
pub fn unconfigured(root: &str) -> Reply {
    #[derive(serde::Serialize)]
    struct Empty {
        #[serde(rename = "@xmlns")]
        xmlns: Xmlns,
    }
    let empty = Empty {
        xmlns: Xmlns::default(),
    };
    let text = quick_xml::se::to_string_with_root(root, &empty)
        .map_err(|e| S3Error::internal("serializing a response document", e))?;
    xml_text(&text)
}

/// A 200 response carrying a serialized document.
fn xml_text(text: &str) -> Reply {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
        control_references(text)
    );
    finish(
        Response::builder().header(header::CONTENT_TYPE, "application/xml"),
        crate::http::full(body),
    )
}

/// S3's namespace, as the `xmlns` attribute of a typed document's root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Xmlns(&'static str);

impl Default for Xmlns {
    fn default() -> Xmlns {
        Xmlns(S3_XMLNS)
    }
}

pub fn owner(w: &mut XmlWriter, account: &str) {
    let (id, name) = owner_id(account);
    w.open("Owner")
        .elem("ID", &id)
        .elem("DisplayName", &name)
        .close("Owner");
}

/// `2009-10-12T17:50:30.000Z` from Unix milliseconds, as S3 lists times.
pub fn timestamp(ms: i64) -> String {
    let secs =
        crate::timefmt::format_iso8601(crate::timefmt::from_unix_seconds(ms.div_euclid(1000)));
    format!("{}.{:03}Z", secs.trim_end_matches('Z'), ms.rem_euclid(1000))
}

/// An element of a request document: its local name, text and children.
#[derive(Debug, Default)]
pub struct Node {
    pub name: String,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

/// Most elements a request document may have (DeleteObjects: 1000 objects of a few each).
const MAX_NODES: usize = 20_000;

/// Parses a request document into a tree; anything not well-formed is `MalformedXML`.
pub fn parse(body: &[u8]) -> S3Result<Node> {
    let malformed = || S3Error::from(Code::MalformedXML);
    let mut reader = Reader::from_reader(body);
    let mut stack: Vec<Node> = vec![Node::default()];
    let mut count = 0;
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).map_err(|_| malformed())? {
            Event::Start(e) => {
                count += 1;
                if count > MAX_NODES {
                    return Err(malformed());
                }
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                stack.push(Node {
                    name,
                    ..Node::default()
                });
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                stack.last_mut().ok_or_else(malformed)?.children.push(Node {
                    name,
                    ..Node::default()
                });
            }
            Event::End(_) => {
                let node = stack.pop().ok_or_else(malformed)?;
                stack.last_mut().ok_or_else(malformed)?.children.push(node);
            }
            Event::Text(t) => {
                let text = t.decode().map_err(|_| malformed())?;
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&text);
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().map_err(|_| malformed())? {
                    Some(c) => c,
                    None => match r.decode().map_err(|_| malformed())?.as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        _ => return Err(malformed()),
                    },
                };
                if let Some(node) = stack.last_mut() {
                    node.text.push(resolved);
                }
            }
            Event::CData(t) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    let mut root = stack
        .pop()
        .filter(|_| stack.is_empty())
        .ok_or_else(malformed)?;
    if root.children.len() != 1 {
        return Err(malformed());
    }
    Ok(root.children.remove(0))
}

/// The LocationConstraint of a CreateBucket body, if it has one.
pub fn parse_location_constraint(body: &[u8]) -> S3Result<Option<String>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let doc = parse(body)?;
    if doc.name != "CreateBucketConfiguration" {
        return Err(Code::MalformedXML.into());
    }
    Ok(doc
        .child_text("LocationConstraint")
        .map(|t| t.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn text(reply: Reply) -> String {
        let body = reply.unwrap().into_body().collect().await.unwrap();
        String::from_utf8(body.to_bytes().to_vec()).unwrap()
    }

    /// Typed documents serialize as AWS's examples show them.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketRequestPayment.html>
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLogging.html>
    #[tokio::test]
    async fn typed_documents_match_the_documented_bodies() {
        let declaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
        assert_eq!(
            text(unconfigured("BucketLoggingStatus")).await,
            format!("{declaration}<BucketLoggingStatus xmlns=\"{S3_XMLNS}\"/>")
        );
        #[derive(serde::Serialize)]
        #[serde(rename = "RequestPaymentConfiguration")]
        struct Payment {
            #[serde(rename = "@xmlns")]
            xmlns: Xmlns,
            #[serde(rename = "Payer")]
            payer: &'static str,
        }
        let doc = Payment {
            xmlns: Xmlns::default(),
            payer: "BucketOwner",
        };
        assert_eq!(
            text(document(&doc)).await,
            format!("{declaration}<RequestPaymentConfiguration xmlns=\"{S3_XMLNS}\"><Payer>BucketOwner</Payer></RequestPaymentConfiguration>")
        );
        // Control characters in text become character references, as in every listing.
        #[derive(serde::Serialize)]
        struct Key {
            #[serde(rename = "$text")]
            text: &'static str,
        }
        let doc = Key { text: "a\rb" };
        assert!(text(document(&doc)).await.contains("a&#13;b"));
    }

    #[test]
    fn request_documents_parse_and_bad_ones_are_refused() {
        let doc = parse(br#"<?xml version="1.0"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object><Object><Key>c</Key><VersionId/></Object></Delete>"#).unwrap();
        assert_eq!(doc.name, "Delete");
        assert_eq!(doc.child_text("Quiet"), Some("true"));
        let keys: Vec<_> = doc
            .children_named("Object")
            .filter_map(|o| o.child_text("Key"))
            .collect();
        assert_eq!(keys, ["a&b", "c"]);
        for bad in [
            &b"<Delete>"[..],
            b"<a></b>",
            b"not xml at all <",
            b"<a/><b/>",
        ] {
            assert_eq!(
                parse(bad).unwrap_err().code,
                Code::MalformedXML,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(parse_location_constraint(b"").unwrap(), None);
        let body = b"<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>";
        assert_eq!(
            parse_location_constraint(body).unwrap().as_deref(),
            Some("eu-west-1")
        );
    }

    #[test]
    fn controls_in_text_become_character_references() {
        let mut w = XmlWriter::new();
        w.elem("Key", "a\rb\r\nc\nd\te\u{1}f<&");
        assert_eq!(
            control_references(&w.finish()),
            "<Key>a&#13;b&#13;&#10;c&#10;d\te&#1;f&lt;&amp;</Key>"
        );
        assert!(matches!(
            control_references("<a>plain</a>"),
            Cow::Borrowed(_)
        ));
        // What the references stand for comes back when the document is read.
        let doc = parse(b"<Delete><Key>a&#13;&#10;b&#1;</Key></Delete>").unwrap();
        assert_eq!(doc.child_text("Key"), Some("a\r\nb\u{1}"));
    }

    #[test]
    fn timestamps_have_milliseconds() {
        assert_eq!(timestamp(1_255_369_830_123), "2009-10-12T17:50:30.123Z");
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000Z");
    }
}
