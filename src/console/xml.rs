//! The bits of S3's XML the console reads and writes in more than one page: an element's
//! text, a tag set.

use serde::Deserialize;

/// The text of the first `<name>…</name>` in an API answer, unescaped.
pub fn element(xml: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(xml).ok()?;
    let open = format!("<{name}>");
    let start = text.find(&open)? + open.len();
    let end = text[start..].find(&format!("</{name}>"))? + start;
    let raw = &text[start..end];
    Some(quick_xml::escape::unescape(raw).map_or_else(|_| raw.to_owned(), |t| t.into_owned()))
}

/// One tag of a bucket or an object.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Tagging {
    #[serde(default)]
    tag_set: TagSet,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct TagSet {
    #[serde(default)]
    tag: Vec<Tag>,
}

/// The tags of a GetBucketTagging or GetObjectTagging answer (none when it does not parse).
pub fn tags(xml: &[u8]) -> Vec<Tag> {
    quick_xml::de::from_reader::<_, Tagging>(xml)
        .unwrap_or_default()
        .tag_set
        .tag
}

/// A `<Tagging>` body of `tags` (key, value), escaped.
pub fn tagging<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut xml = String::from("<Tagging><TagSet>");
    for (key, value) in tags {
        xml.push_str(&format!(
            "<Tag><Key>{}</Key><Value>{}</Value></Tag>",
            quick_xml::escape::escape(key),
            quick_xml::escape::escape(value)
        ));
    }
    xml.push_str("</TagSet></Tagging>");
    xml
}

#[cfg(test)]
mod tests {
    #[test]
    fn tag_sets_read_and_write_escaped() {
        let xml = super::tagging([("a&b", "<v>")]);
        assert_eq!(
            xml,
            "<Tagging><TagSet><Tag><Key>a&amp;b</Key><Value>&lt;v&gt;</Value></Tag></TagSet></Tagging>"
        );
        let tags = super::tags(xml.as_bytes());
        assert_eq!(
            (tags[0].key.as_str(), tags[0].value.as_str()),
            ("a&b", "<v>")
        );
        assert_eq!(
            super::element(xml.as_bytes(), "Key").as_deref(),
            Some("a&b")
        );
        assert!(super::tags(b"not xml").is_empty());
    }
}
