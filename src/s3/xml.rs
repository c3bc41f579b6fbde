//! S3's XML documents as serde types. A response is a `Serialize` type written by quick-xml's
//! serializer (`document`): the XML declaration, S3's namespace on the root (`Xmlns`), text
//! escaped as S3 escapes it. A request document (CreateBucketConfiguration, Delete,
//! CompleteMultipartUpload) is a `Deserialize` type read by quick-xml's deserializer (`read`)
//! once a pre-scan has bounded its depth and size. Namespaces are ignored on input, as S3
//! does, and elements a type does not name are skipped, as LabStore always has (SDKs send
//! some it does not read, such as each part's checksum in CompleteMultipartUpload). The
//! types live beside their handlers; each is tested against AWS's documented example.
//! Two kinds of document are not typed: the listings (ListObjects, ListObjectsV2), written
//! by hand for speed and sent with `xml_response`, and error bodies (`S3Error::render`), flat
//! and a format string.

use std::borrow::Cow;
use std::fmt::Write;

use http::{header, Response};
use quick_xml::events::Event;
use quick_xml::se::{QuoteLevel, Serializer};
use quick_xml::Reader;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::checksum::Algorithm;
use super::error::{Code, S3Error, S3Result};
use super::{finish, Reply};
use crate::xml::XmlWriter;

pub const S3_XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// A 200 response carrying a typed document: `T` names its root element
/// (`#[serde(rename = "…")]`) and carries S3's namespace in an `@xmlns` field.
pub fn document<T: Serialize>(doc: &T) -> Reply {
    respond(to_xml(None, doc))
}

/// `document` under another root element than `T`'s own name: CopyObject and UploadPartCopy
/// answer the same fields as `CopyObjectResult` and `CopyPartResult`.
pub fn document_named<T: Serialize>(root: &str, doc: &T) -> Reply {
    respond(to_xml(Some(root), doc))
}

/// An empty configuration document named `root`: what S3 answers for a bucket that never
/// set that configuration (`<BucketLoggingStatus xmlns="…"/>`).
pub fn unconfigured(root: &str) -> Reply {
    #[derive(Serialize)]
    struct Empty {
        #[serde(rename = "@xmlns")]
        xmlns: Xmlns,
    }
    let empty = Empty {
        xmlns: Xmlns::default(),
    };
    respond(serialize(Some(root), false, &empty))
}

/// A typed document as a response body: the XML declaration, then the document. Empty
/// elements are written `<Prefix></Prefix>`, and all five predefined entities are escaped
/// (`&quot;` around every ETag), as S3 writes them.
pub fn to_xml<T: Serialize>(root: Option<&str>, doc: &T) -> Result<String, quick_xml::SeError> {
    serialize(root, true, doc)
}

fn serialize<T: Serialize>(
    root: Option<&str>,
    expand_empty: bool,
    doc: &T,
) -> Result<String, quick_xml::SeError> {
    let mut text = String::from(DECLARATION);
    let mut serializer = Serializer::with_root(&mut text, root)?;
    serializer.set_quote_level(QuoteLevel::Full);
    serializer.expand_empty_elements(expand_empty);
    doc.serialize(serializer)?;
    Ok(match control_references(&text[DECLARATION.len()..]) {
        Cow::Borrowed(_) => text,
        Cow::Owned(document) => format!("{DECLARATION}{document}"),
    })
}

/// A 200 response carrying a document written by hand: ListObjects and ListObjectsV2, which
/// a benchmark keeps off the serializer (see `s3::list`).
pub fn xml_response(w: XmlWriter) -> Reply {
    respond(Ok(xml_body(w)))
}

/// A hand-written document as a response body, as `to_xml` makes it of a typed one.
pub fn xml_body(w: XmlWriter) -> String {
    let document = w.finish();
    match control_references(&document) {
        Cow::Borrowed(_) => format!("{DECLARATION}{document}"),
        Cow::Owned(escaped) => format!("{DECLARATION}{escaped}"),
    }
}

fn respond(body: Result<String, quick_xml::SeError>) -> Reply {
    let body = body.map_err(|e| S3Error::internal("serializing a response document", e))?;
    finish(
        Response::builder().header(header::CONTENT_TYPE, "application/xml"),
        crate::http::full(body),
    )
}

/// Writes CR, LF and the other C0 controls of a document's text as character references, as
/// S3 does for keys: an XML parser turns a raw CR (or CRLF) into LF, and refuses raw controls,
/// so a listing would otherwise change such keys or fail whole. Tab stays as it is.
/// Only text holds these characters here: tags and attributes are ours, on one line.
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html#object-key-xml-related-constraints>
fn control_references(document: &str) -> Cow<'_, str> {
    let escaped = |c: char| c < ' ' && c != '\t';
    // A C0 control is one byte in UTF-8 and never part of a longer sequence: the common case,
    // none at all, is found without decoding.
    if !document.bytes().any(|b| escaped(char::from(b))) {
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

/// S3's namespace, as the `xmlns` attribute of a typed document's root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Xmlns(&'static str);

impl Default for Xmlns {
    fn default() -> Xmlns {
        Xmlns(S3_XMLNS)
    }
}

/// `<Owner>` (and `<Initiator>`): a canonical user id and a display name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Owner {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "DisplayName")]
    pub display_name: String,
}

impl Owner {
    /// The account's canonical user id (64 hex digits, derived from the account id) and
    /// display name.
    pub fn of(account: &str) -> Owner {
        Owner {
            id: hex::encode(Sha256::digest(format!("labstore:{account}").as_bytes())),
            display_name: "root".to_owned(),
        }
    }
}

/// `<CommonPrefixes>` of a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommonPrefix<'a> {
    #[serde(rename = "Prefix")]
    pub prefix: Cow<'a, str>,
}

/// An additional checksum, written as the element named after its algorithm
/// (`<ChecksumCRC32>…</ChecksumCRC32>`) from a field renamed `$value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum<'a> {
    pub algorithm: Algorithm,
    pub value: &'a str,
}

impl Serialize for Checksum<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let element = match self.algorithm {
            Algorithm::Crc32 => "ChecksumCRC32",
            Algorithm::Crc32c => "ChecksumCRC32C",
            Algorithm::Sha1 => "ChecksumSHA1",
            Algorithm::Sha256 => "ChecksumSHA256",
            Algorithm::Crc64Nvme => "ChecksumCRC64NVME",
        };
        // quick-xml writes a newtype variant as an element named after the variant.
        serializer.serialize_newtype_variant("Checksum", 0, element, self.value)
    }
}

/// `2009-10-12T17:50:30.000Z` from Unix milliseconds, as S3 lists times.
pub fn timestamp(ms: i64) -> String {
    let seconds = crate::timefmt::from_unix_seconds(ms.div_euclid(1000));
    let mut text = crate::timefmt::format_iso8601(seconds);
    if text.ends_with('Z') {
        text.pop();
    }
    let _ = write!(text, ".{:03}Z", ms.rem_euclid(1000));
    text
}

/// A request document: the type, its root element and how large it may be.
pub trait RequestDocument: DeserializeOwned {
    /// The root element's local name.
    const ROOT: &'static str;
    /// The most elements the body may hold, unknown ones included: with the body size limit
    /// its caller applies, what bounds the work of reading it.
    const MAX_ELEMENTS: usize = 20_000;
}

/// The deepest nesting a request document may have. S3's are three deep; the rest is room
/// for elements LabStore skips, and a bound on what the deserializer walks.
const MAX_DEPTH: usize = 32;

/// Reads a request document. Not UTF-8, not well-formed, not rooted at `T::ROOT`, deeper than
/// `MAX_DEPTH` or larger than `T::MAX_ELEMENTS`, or not of `T`'s shape (a required element
/// missing, a single one repeated, a value that does not parse): `MalformedXML`.
pub fn read<T: RequestDocument>(body: &[u8]) -> S3Result<T> {
    let malformed = || S3Error::from(Code::MalformedXML);
    let text = std::str::from_utf8(body).map_err(|_| malformed())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    prescan(text, T::ROOT, T::MAX_ELEMENTS)?;
    quick_xml::de::from_str(text).map_err(|_| malformed())
}

/// Checks, in one pass and without building anything, what the deserializer does not: one
/// root element named `root`, nothing but whitespace, comments and declarations around it,
/// and the depth and element bounds.
fn prescan(text: &str, root: &str, max_elements: usize) -> S3Result<()> {
    let malformed = || S3Error::from(Code::MalformedXML);
    let mut reader = Reader::from_str(text);
    let (mut depth, mut elements, mut roots) = (0, 0, 0);
    loop {
        let empty = match reader.read_event().map_err(|_| malformed())? {
            Event::Start(e) | Event::Empty(e)
                if depth == 0 && e.local_name().as_ref() != root.as_bytes() =>
            {
                return Err(malformed())
            }
            Event::Start(_) => false,
            Event::Empty(_) => true,
            Event::End(_) => {
                depth -= 1;
                continue;
            }
            Event::Text(t) if depth == 0 && !t.iter().all(u8::is_ascii_whitespace) => {
                return Err(malformed())
            }
            Event::CData(_) | Event::GeneralRef(_) if depth == 0 => return Err(malformed()),
            Event::Eof if depth == 0 && roots == 1 => return Ok(()),
            Event::Eof => return Err(malformed()),
            _ => continue,
        };
        if depth == 0 {
            roots += 1;
        }
        elements += 1;
        if !empty {
            depth += 1;
        }
        if roots > 1 || elements > max_elements || depth > MAX_DEPTH {
            return Err(malformed());
        }
    }
}

/// Compares a document with AWS's documented example of it, as clients read documents:
/// whitespace between elements, the form of empty elements, escapes and namespace
/// declarations aside.
#[cfg(test)]
pub fn assert_documented(ours: &str, documented: &str) {
    assert_eq!(
        documented::tree(ours, false),
        documented::tree(documented, false),
        "ours:\n{ours}\ndocumented:\n{documented}"
    );
}

/// `assert_documented` for the documents whose examples order their elements otherwise than
/// LabStore does: each element's children are compared in name order, repeated ones
/// (`Contents`, `Part`…) keeping theirs. S3's documentation does not fix the order of
/// different elements (its response syntax lists them alphabetically, its examples in several
/// orders) and the SDKs read them by name; the order LabStore writes, which this does not
/// check, is held by those documents' exact-bytes tests.
#[cfg(test)]
pub fn assert_documented_any_order(ours: &str, documented: &str) {
    assert_eq!(
        documented::tree(ours, true),
        documented::tree(documented, true),
        "ours:\n{ours}\ndocumented:\n{documented}"
    );
}

#[cfg(test)]
mod documented {
    use quick_xml::events::{BytesStart, Event};
    use quick_xml::Reader;

    #[derive(Debug, Default, PartialEq)]
    pub struct Element {
        name: String,
        attributes: Vec<(String, String)>,
        text: String,
        children: Vec<Element>,
    }

    pub fn tree(xml: &str, any_order: bool) -> Element {
        let mut reader = Reader::from_str(xml);
        let mut stack = vec![Element::default()];
        loop {
            let top = stack.len() - 1;
            match reader.read_event().expect("a well-formed document") {
                Event::Start(e) => stack.push(element(&e)),
                Event::Empty(e) => stack[top].children.push(element(&e)),
                Event::End(_) => {
                    let done = finish(stack.pop().expect("an open element"), any_order);
                    stack.last_mut().expect("a parent").children.push(done);
                }
                Event::Text(t) => stack[top].text.push_str(&t.decode().expect("UTF-8")),
                Event::CData(t) => stack[top].text.push_str(&String::from_utf8_lossy(&t)),
                Event::GeneralRef(r) => match r.resolve_char_ref().expect("a reference") {
                    Some(c) => stack[top].text.push(c),
                    None => {
                        let name = r.decode().expect("UTF-8");
                        let entity = quick_xml::escape::resolve_predefined_entity(&name);
                        stack[top]
                            .text
                            .push_str(entity.expect("a predefined entity"));
                    }
                },
                Event::Eof => break,
                _ => {}
            }
        }
        let mut document = stack.pop().expect("the document");
        assert_eq!(document.children.len(), 1, "one root element");
        document.children.remove(0)
    }

    fn element(start: &BytesStart<'_>) -> Element {
        let mut attributes: Vec<(String, String)> = start
            .attributes()
            .map(|a| a.expect("an attribute"))
            .map(|a| {
                let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                (key, a.unescape_value().expect("a value").into_owned())
            })
            .filter(|(key, _)| key != "xmlns" && !key.starts_with("xmlns:"))
            .collect();
        attributes.sort();
        Element {
            name: String::from_utf8_lossy(start.name().as_ref()).into_owned(),
            attributes,
            ..Element::default()
        }
    }

    fn finish(mut element: Element, any_order: bool) -> Element {
        element.text = element.text.trim().to_owned();
        if any_order {
            element.children.sort_by(|a, b| a.name.cmp(&b.name));
        }
        element
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use serde::Deserialize;

    async fn text(reply: Reply) -> String {
        let body = reply.unwrap().into_body().collect().await.unwrap();
        String::from_utf8(body.to_bytes().to_vec()).unwrap()
    }

    /// Typed documents serialize as AWS's examples show them.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLogging.html>
    #[tokio::test]
    async fn documents_have_the_declaration_and_the_namespace() {
        assert_eq!(
            text(unconfigured("BucketLoggingStatus")).await,
            format!("{DECLARATION}<BucketLoggingStatus xmlns=\"{S3_XMLNS}\"/>")
        );
        #[derive(Serialize)]
        #[serde(rename = "Named")]
        struct Doc {
            #[serde(rename = "@xmlns")]
            xmlns: Xmlns,
            #[serde(rename = "Empty")]
            empty: &'static str,
        }
        let doc = Doc {
            xmlns: Xmlns::default(),
            empty: "",
        };
        let expected = format!("<Named xmlns=\"{S3_XMLNS}\"><Empty></Empty></Named>");
        assert_eq!(
            text(document(&doc)).await,
            format!("{DECLARATION}{expected}")
        );
        // <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketVersioning.html>: a
        // bucket whose versioning was never set.
        assert_documented(
            &text(unconfigured("VersioningConfiguration")).await,
            r#"<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>"#,
        );
        let renamed = expected.replace("Named", "Other");
        assert_eq!(
            text(document_named("Other", &doc)).await,
            format!("{DECLARATION}{renamed}")
        );
    }

    #[test]
    fn text_is_escaped_as_s3_escapes_it() {
        #[derive(Serialize)]
        struct Key {
            #[serde(rename = "$text")]
            text: &'static str,
        }
        let doc = Key {
            text: "a\rb\r\nc\nd\te\u{1}f<&>\"'",
        };
        assert_eq!(
            to_xml(Some("Key"), &doc).unwrap(),
            format!(
                "{DECLARATION}<Key>a&#13;b&#13;&#10;c&#10;d\te&#1;f&lt;&amp;&gt;&quot;&apos;</Key>"
            )
        );
        assert!(matches!(
            control_references("<a>plain</a>"),
            Cow::Borrowed(_)
        ));
        // The listings' hand-written documents get the same treatment.
        let mut w = XmlWriter::new();
        w.elem("Key", doc.text);
        assert_eq!(xml_body(w), to_xml(Some("Key"), &doc).unwrap());
    }

    #[test]
    fn checksums_are_named_after_their_algorithm() {
        #[derive(Serialize)]
        struct Part<'a> {
            #[serde(rename = "$value")]
            checksum: Checksum<'a>,
        }
        for (algorithm, element) in [
            (Algorithm::Crc32, "ChecksumCRC32"),
            (Algorithm::Crc32c, "ChecksumCRC32C"),
            (Algorithm::Sha1, "ChecksumSHA1"),
            (Algorithm::Sha256, "ChecksumSHA256"),
            (Algorithm::Crc64Nvme, "ChecksumCRC64NVME"),
        ] {
            let part = Part {
                checksum: Checksum {
                    algorithm,
                    value: "AAAA",
                },
            };
            assert_eq!(
                to_xml(Some("Part"), &part).unwrap(),
                format!("{DECLARATION}<Part><{element}>AAAA</{element}></Part>")
            );
        }
    }

    #[derive(Debug, Deserialize)]
    struct Probe {
        #[serde(rename = "Item", default)]
        items: Vec<String>,
    }

    impl RequestDocument for Probe {
        const ROOT: &'static str = "Probe";
        const MAX_ELEMENTS: usize = 40;
    }

    fn items(body: &str) -> S3Result<Vec<String>> {
        read::<Probe>(body.as_bytes()).map(|p| p.items)
    }

    #[test]
    fn request_documents_are_read_with_namespaces_and_unknown_elements_ignored() {
        let body = "\u{feff}<?xml version=\"1.0\"?>\n<!-- a comment -->\n\
            <s3:Probe xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
            <s3:Item> a&amp;b </s3:Item><Other><Deeper/></Other><s3:Item><![CDATA[<c>]]>\
            </s3:Item><s3:Item>a&#13;&#10;b&#1;</s3:Item></s3:Probe>\n";
        assert_eq!(items(body).unwrap(), [" a&b ", "<c>", "a\r\nb\u{1}"]);
        assert_eq!(items("<Probe/>").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn bad_request_documents_are_malformed() {
        let deep = format!("<Probe>{}{}</Probe>", "<a>".repeat(32), "</a>".repeat(32));
        let many = format!("<Probe>{}</Probe>", "<a/>".repeat(40));
        for bad in [
            "",
            "  ",
            "<Probe>",
            "<Probe></Other>",
            "not xml at all <",
            "<Probe/><Probe/>",
            "<Probe/>trailing",
            "leading<Probe/>",
            "<Other/>",
            "<Probe><Item>&custom;</Item></Probe>",
            "<Probe><Item>a<b/>c</Item></Probe>",
            &deep,
            &many,
        ] {
            assert_eq!(items(bad).unwrap_err().code, Code::MalformedXML, "{bad:?}");
        }
        assert_eq!(
            read::<Probe>(b"<Probe><Item>\xff</Item></Probe>")
                .unwrap_err()
                .code,
            Code::MalformedXML
        );
        // Within the bounds: 31 levels under the root, 40 elements in all.
        let deep = format!("<Probe>{}{}</Probe>", "<a>".repeat(31), "</a>".repeat(31));
        let many = format!("<Probe>{}</Probe>", "<a/>".repeat(39));
        assert!(items(&deep).is_ok() && items(&many).is_ok());
    }

    #[test]
    fn documented_comparison_ignores_layout_only() {
        let ours =
            "<?xml version=\"1.0\"?><A xmlns=\"x\"><B></B><C>&quot;1&quot;</C><D>1</D><D>2</D></A>";
        assert_documented(
            ours,
            "<A>\n  <B/>\n  <C>\"1\"</C>\n  <D>1</D>\n  <D>2</D>\n</A>",
        );
        let reordered = "<A><C>\"1\"</C><B/><D>1</D><D>2</D></A>";
        assert_documented_any_order(ours, reordered);
        let fails = |documented: &'static str, any_order: bool| {
            std::panic::catch_unwind(|| match any_order {
                false => assert_documented(ours, documented),
                true => assert_documented_any_order(ours, documented),
            })
            .is_err()
        };
        assert!(fails(reordered, false));
        for different in [
            "<A><B/><C>\"1\"</C><D>2</D><D>1</D></A>",
            "<A><B/><C>\"2\"</C><D>1</D><D>2</D></A>",
            "<A><C>\"1\"</C><D>1</D><D>2</D></A>",
            "<A><B x=\"1\"/><C>\"1\"</C><D>1</D><D>2</D></A>",
        ] {
            assert!(
                fails(different, false) && fails(different, true),
                "{different}"
            );
        }
    }

    #[test]
    fn timestamps_have_milliseconds() {
        assert_eq!(timestamp(1_255_369_830_123), "2009-10-12T17:50:30.123Z");
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000Z");
    }
}
