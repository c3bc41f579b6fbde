//! XML helpers shared by the S3 and IAM renderers.

use std::borrow::Cow;

/// Escapes text for an XML element body or attribute.
pub fn escape(text: &str) -> Cow<'_, str> {
    quick_xml::escape::escape(text)
}
