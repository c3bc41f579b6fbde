//! XML helpers shared by the S3 and IAM renderers: escaping and a small append-only writer
//! (responses are flat and known in advance, so a string builder beats a DOM).

use std::borrow::Cow;
use std::fmt::Write;

/// Escapes text for an XML element body or attribute.
pub fn escape(text: &str) -> Cow<'_, str> {
    quick_xml::escape::escape(text)
}

/// Builds an XML document by appending elements in order.
#[derive(Debug, Default)]
pub struct XmlWriter {
    out: String,
}

impl XmlWriter {
    pub fn new() -> XmlWriter {
        XmlWriter::default()
    }

    pub fn open(&mut self, tag: &str) -> &mut Self {
        let _ = write!(self.out, "<{tag}>");
        self
    }

    pub fn close(&mut self, tag: &str) -> &mut Self {
        let _ = write!(self.out, "</{tag}>");
        self
    }

    /// `<tag>text</tag>`, with `text` escaped.
    pub fn elem(&mut self, tag: &str, text: &str) -> &mut Self {
        let _ = write!(self.out, "<{tag}>{}</{tag}>", escape(text));
        self
    }

    /// `elem` when there is a value, nothing otherwise.
    pub fn elem_opt(&mut self, tag: &str, text: Option<&str>) -> &mut Self {
        if let Some(text) = text {
            self.elem(tag, text);
        }
        self
    }

    /// Appends already-built XML.
    pub fn raw(&mut self, xml: &str) -> &mut Self {
        self.out.push_str(xml);
        self
    }

    pub fn finish(self) -> String {
        self.out
    }

    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_are_escaped() {
        let mut w = XmlWriter::new();
        w.open("User")
            .elem("UserName", "a<b&c")
            .elem_opt("Path", None)
            .close("User");
        assert_eq!(w.finish(), "<User><UserName>a&lt;b&amp;c</UserName></User>");
    }
}
