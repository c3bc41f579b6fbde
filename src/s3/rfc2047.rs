//! RFC 2047 encoded-words for `x-amz-meta-*` values. S3 decodes a value given as encoded-words
//! before storing it, and returns a value that is not US-ASCII as an encoded-word, so that
//! response headers stay ASCII ("mail-safe") whatever the metadata holds.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html#UserMetadata>
//!
//! Pure: strings in, strings out.

use std::borrow::Cow;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

/// The value as it goes into a response header: printable ASCII as is, anything else as one
/// UTF-8 `B` encoded-word. Control characters are refused when metadata is written; one
/// stored before that rule still reads back, encoded, rather than failing the response.
pub fn encode(value: &str) -> Cow<'_, str> {
    if value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
    {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(format!("=?UTF-8?B?{}?=", BASE64.encode(value)))
    }
}

/// The value a request header means: a header made only of UTF-8 (or US-ASCII) encoded-words,
/// separated by linear whitespace, is their decoded text; anything else is taken literally.
pub fn decode(value: &str) -> Cow<'_, str> {
    let mut out = Vec::new();
    for word in value.split_ascii_whitespace() {
        match decode_word(word) {
            Some(bytes) => out.extend(bytes),
            None => return Cow::Borrowed(value),
        }
    }
    if out.is_empty() {
        return Cow::Borrowed(value);
    }
    match String::from_utf8(out) {
        Ok(text) => Cow::Owned(text),
        Err(_) => Cow::Borrowed(value),
    }
}

/// `=?charset?encoding?text?=` in UTF-8 or US-ASCII, `B` or `Q`.
fn decode_word(word: &str) -> Option<Vec<u8>> {
    let inner = word.strip_prefix("=?")?.strip_suffix("?=")?;
    let mut fields = inner.splitn(3, '?');
    let (charset, encoding, text) = (fields.next()?, fields.next()?, fields.next()?);
    // RFC 2231 lets a language follow the charset: `UTF-8*en`.
    let charset = charset.split('*').next()?;
    if !charset.eq_ignore_ascii_case("utf-8") && !charset.eq_ignore_ascii_case("us-ascii") {
        return None;
    }
    match encoding {
        "B" | "b" => BASE64.decode(text).ok(),
        "Q" | "q" => decode_q(text),
        _ => None,
    }
}

/// The `Q` encoding: `_` is a space, `=XX` a byte in hex, other printable ASCII itself.
fn decode_q(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b if b.is_ascii_graphic() => out.push(b),
            _ => return None,
        }
        i += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encoded forms computed independently (Python's `email.header`).
    #[test]
    fn encoded_words_both_ways() {
        let cases = [
            ("café", "=?UTF-8?B?Y2Fmw6k=?="),
            ("日本", "=?UTF-8?B?5pel5pys?="),
            ("emoji 😀", "=?UTF-8?B?ZW1vamkg8J+YgA==?="),
            ("a\rb", "=?UTF-8?B?YQ1i?="),
        ];
        for (text, encoded) in cases {
            assert_eq!(encode(text), encoded);
            assert_eq!(decode(encoded), text);
        }
        for ascii in ["", "plain", "a=b?c", "=?not an encoded word"] {
            assert_eq!(encode(ascii), ascii);
            assert_eq!(decode(ascii), ascii);
        }
    }

    #[test]
    fn decoding_q_words_and_sequences() {
        assert_eq!(decode("=?utf-8?q?caf=C3=A9_au_lait?="), "café au lait");
        assert_eq!(decode("=?UTF-8?B?Y2Fm?= =?UTF-8?Q?=C3=A9?="), "café");
        assert_eq!(decode("=?UTF-8*fr?Q?caf=C3=A9?="), "café");
        // Not entirely encoded-words, another charset, or broken: taken literally.
        for literal in [
            "x =?UTF-8?B?Y2Fm?=",
            "=?ISO-8859-1?Q?caf=E9?=",
            "=?UTF-8?B?not base64!?=",
            "=?UTF-8?Q?=ZZ?=",
            "=?UTF-8?X?abc?=",
            "=?UTF-8?B?/w==?=",
        ] {
            assert_eq!(decode(literal), literal);
        }
    }
}
