//! A `multipart/form-data` body (RFC 7578), read as a stream: the fields before the file
//! part, each bounded, then the file part's bytes as they arrive, never the whole body in
//! memory. Written here rather than taken from a crate: the reader sits on `BodyReader` (the
//! body's size limit and idle timeout) and needs only the subset browsers and SDKs send:
//! `Content-Disposition: form-data; name="…"[; filename="…"]` and an optional
//! `Content-Type` per part.

use bytes::{Buf, Bytes, BytesMut};
use memchr::memmem;

use super::super::body::BodyReader;
use super::super::error::{Code, S3Error, S3Result};

/// The most bytes of a part's header block.
const MAX_PART_HEADERS: usize = 8 * 1024;

/// One part's head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartHead {
    pub name: String,
    /// The `filename` parameter: present on a file part (possibly empty).
    pub filename: Option<String>,
    pub content_type: Option<String>,
}

/// The reader: where it is in the body, and what it has read ahead.
pub struct Form {
    reader: BodyReader,
    buf: BytesMut,
    /// `\r\n--boundary`: what ends every part.
    delimiter: Vec<u8>,
    finder: memmem::Finder<'static>,
    eof: bool,
    /// The body's closing delimiter was read.
    closed: bool,
}

pub fn malformed() -> S3Error {
    Code::MalformedPOSTRequest.into()
}

/// The boundary a `Content-Type: multipart/form-data; boundary=…` names.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let kind = params.next()?.trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params
        .find_map(|p| {
            let (name, value) = p.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("boundary")
                .then(|| value.trim().trim_matches('"').to_owned())
        })
        .filter(|b| !b.is_empty() && b.len() <= 70)
}

impl Form {
    pub fn new(reader: BodyReader, boundary: &str) -> Form {
        let delimiter = format!("\r\n--{boundary}").into_bytes();
        let finder = memmem::Finder::new(&delimiter).into_owned();
        // The first delimiter has no CRLF before it: one is put in front of the body.
        let mut buf = BytesMut::with_capacity(16 * 1024);
        buf.extend_from_slice(b"\r\n");
        Form {
            reader,
            buf,
            delimiter,
            finder,
            eof: false,
            closed: false,
        }
    }

    /// Reads more of the body; `false` at its end.
    async fn fill(&mut self) -> S3Result<bool> {
        if self.eof {
            return Ok(false);
        }
        match self.reader.next().await? {
            Some(data) => {
                self.buf.extend_from_slice(&data);
                Ok(true)
            }
            None => {
                self.eof = true;
                Ok(false)
            }
        }
    }

    /// Skips the preamble to the first delimiter.
    pub async fn start(&mut self, budget: &mut usize) -> S3Result<()> {
        loop {
            if let Some(at) = self.finder.find(&self.buf) {
                self.buf.advance(at + self.delimiter.len());
                return Ok(());
            }
            let keep = self.delimiter.len() - 1;
            if self.buf.len() > keep {
                let drop = self.buf.len() - keep;
                *budget = budget.checked_sub(drop).ok_or_else(too_long)?;
                self.buf.advance(drop);
            }
            if !self.fill().await? {
                return Err(malformed());
            }
        }
    }

    /// After a delimiter: the next part's head, or `None` at the closing delimiter. Its
    /// bytes count against `budget`.
    pub async fn next_part(&mut self, budget: &mut usize) -> S3Result<Option<PartHead>> {
        if self.closed {
            return Ok(None);
        }
        while self.buf.len() < 2 {
            if !self.fill().await? {
                return Err(malformed());
            }
        }
        if self.buf.starts_with(b"--") {
            self.closed = true;
            return Ok(None);
        }
        // Transport padding (spaces, tabs) may follow a delimiter before its CRLF.
        let end = loop {
            if let Some(at) = memmem::find(&self.buf, b"\r\n\r\n") {
                break at;
            }
            if self.buf.len() > MAX_PART_HEADERS {
                return Err(malformed());
            }
            if !self.fill().await? {
                return Err(malformed());
            }
        };
        *budget = budget.checked_sub(end + 4).ok_or_else(too_long)?;
        let block = self.buf.split_to(end + 4);
        let text = std::str::from_utf8(&block).map_err(|_| malformed())?;
        let mut lines = text.split("\r\n");
        let first = lines.next().unwrap_or_default();
        if !first.trim_matches([' ', '\t']).is_empty() {
            return Err(malformed());
        }
        let mut head: Option<PartHead> = None;
        let mut content_type = None;
        for line in lines.filter(|l| !l.is_empty()) {
            let (name, value) = line.split_once(':').ok_or_else(malformed)?;
            let name = name.trim();
            if name.eq_ignore_ascii_case("content-disposition") {
                head = Some(disposition(value)?);
            } else if name.eq_ignore_ascii_case("content-type") {
                content_type = Some(value.trim().to_owned());
            }
        }
        let mut head = head.ok_or_else(malformed)?;
        head.content_type = content_type;
        Ok(Some(head))
    }

    /// The rest of the current part, at most `max` bytes (else `MaxPostPreDataLengthExceededError`).
    pub async fn value(&mut self, max: usize) -> S3Result<Bytes> {
        loop {
            if let Some(at) = self.finder.find(&self.buf) {
                if at > max {
                    return Err(too_long());
                }
                let value = self.buf.split_to(at).freeze();
                self.buf.advance(self.delimiter.len());
                return Ok(value);
            }
            if self.buf.len() > max + self.delimiter.len() {
                return Err(too_long());
            }
            if !self.fill().await? {
                return Err(malformed());
            }
        }
    }

    /// The next run of the current part's bytes (the file), or `None` once its delimiter was
    /// read. Holds at most what one read of the body added, plus the delimiter's length.
    pub async fn file_chunk(&mut self) -> S3Result<Option<Bytes>> {
        loop {
            if let Some(at) = self.finder.find(&self.buf) {
                if at == 0 {
                    self.buf.advance(self.delimiter.len());
                    return Ok(None);
                }
                return Ok(Some(self.buf.split_to(at).freeze()));
            }
            let keep = self.delimiter.len() - 1;
            if self.buf.len() > keep {
                let take = self.buf.len() - keep;
                return Ok(Some(self.buf.split_to(take).freeze()));
            }
            if !self.fill().await? {
                return Err(malformed());
            }
        }
    }

    /// Reads what follows the file, at most `max` bytes (fields S3 ignores, the closing
    /// delimiter), so that the whole body has been read when the answer is sent. A longer
    /// tail is left unread: the connection is closed after the response.
    pub async fn drain(&mut self, max: usize) -> S3Result<bool> {
        let mut read = self.buf.len();
        self.buf.clear();
        while read <= max {
            match self.reader.next().await? {
                Some(data) => read += data.len(),
                None => return Ok(true),
            }
        }
        Ok(false)
    }
}

fn too_long() -> S3Error {
    Code::MaxPostPreDataLengthExceededError.into()
}

/// `form-data; name="key"; filename="a.txt"`.
fn disposition(value: &str) -> S3Result<PartHead> {
    let value = value.trim();
    let (kind, mut rest) = value.split_once(';').unwrap_or((value, ""));
    if !kind.trim().eq_ignore_ascii_case("form-data") {
        return Err(malformed());
    }
    let mut name = None;
    let mut filename = None;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        if rest.is_empty() {
            break;
        }
        let (param, after) = rest.split_once('=').ok_or_else(malformed)?;
        let param = param.trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (parsed, remaining) = match after.strip_prefix('"') {
            Some(quoted) => {
                let mut out = String::new();
                let mut chars = quoted.char_indices();
                let end = loop {
                    match chars.next() {
                        Some((_, '\\')) => match chars.next() {
                            Some((_, c)) => out.push(c),
                            None => return Err(malformed()),
                        },
                        Some((i, '"')) => break i,
                        Some((_, c)) => out.push(c),
                        None => return Err(malformed()),
                    }
                };
                (out, &quoted[end + 1..])
            }
            None => {
                let end = after.find(';').unwrap_or(after.len());
                (after[..end].trim().to_owned(), &after[end..])
            }
        };
        match param.as_str() {
            "name" => name = Some(parsed),
            "filename" => filename = Some(parsed),
            _ => {}
        }
        rest = remaining;
    }
    Ok(PartHead {
        name: name.ok_or_else(malformed)?,
        filename,
        content_type: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_of_content_types() {
        assert_eq!(
            boundary("multipart/form-data; boundary=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(
            boundary("Multipart/Form-Data;boundary=\"a b\"").as_deref(),
            Some("a b")
        );
        assert_eq!(boundary("multipart/mixed; boundary=abc"), None);
        assert_eq!(boundary("multipart/form-data"), None);
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
    }

    #[test]
    fn dispositions() {
        let head = disposition(" form-data; name=\"key\"").unwrap();
        assert_eq!(head.name, "key");
        assert_eq!(head.filename, None);
        let head = disposition("form-data; name=\"file\"; filename=\"a \\\"b\\\".txt\"").unwrap();
        assert_eq!(head.name, "file");
        assert_eq!(head.filename.as_deref(), Some("a \"b\".txt"));
        let head = disposition("form-data; name=file; filename=").unwrap();
        assert_eq!(head.filename.as_deref(), Some(""));
        assert!(disposition("attachment; name=\"x\"").is_err());
        assert!(disposition("form-data; filename=\"x\"").is_err());
        assert!(disposition("form-data; name=\"x").is_err());
    }
}
