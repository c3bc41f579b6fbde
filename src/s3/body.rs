//! Reading an upload's body as object bytes, checking its integrity on the way: aws-chunked
//! decoding (each chunk's signature verified in the signed modes), the whole-body SHA-256 the
//! client signed, the trailers announced in `x-amz-trailer`, and the operation's size limit.
//! Memory holds one frame at a time.
//!
//! Every operation that reads a body reads it here, so the checks hold for all of them alike:
//! - Declared sizes (Content-Length, `x-amz-decoded-content-length`) over the limit are refused
//!   before a byte is read; the bytes that do arrive are counted against it too.
//! - An aws-chunked body is read to its very end, so that nothing may follow the final chunk.
//! - The trailers are exactly the one `x-amz-trailer` announced: a checksum that is announced
//!   but missing, sent under another name, sent twice or not announced is refused.
//!
//! Nothing read is trustworthy until `next` has returned `Ok(None)`; callers commit nothing
//! before that.

use bytes::{Bytes, BytesMut};
use http::{header, HeaderMap};
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};

use super::auth::Payload;
use super::checksum::Algorithm;
use super::error::{Code, S3Error, S3Result};
use crate::auth::chunked::{ChunkedError, Decoder, Event, Mode};
use crate::http::{BodyError, RequestBody};

/// S3's largest single PUT and largest part: 5 GiB.
pub const MAX_PUT: u64 = 5 * 1024 * 1024 * 1024;

/// What aws-chunked framing may add on the wire to a body at its limit, besides 1/16 of it:
/// room for the trailer block and the framing of a small body. SDKs send chunks of 8 KiB or
/// more (S3 refuses smaller ones but the last) with about 90 bytes of framing each, so 1/16
/// is several times what they need, and it bounds what a client can make the server read.
const FRAMING_ALLOWANCE: u64 = 64 * 1024;

/// The most bytes an aws-chunked body of at most `limit` decoded bytes may take on the wire.
fn wire_limit(limit: u64) -> u64 {
    limit
        .saturating_add(limit / 16)
        .saturating_add(FRAMING_ALLOWANCE)
}

pub struct BodyReader {
    /// `None`: a request made inside the server (the website endpoint's object reads), with
    /// no body.
    body: Option<RequestBody>,
    /// The aws-chunked mode, when the body is aws-chunked.
    mode: Option<Mode>,
    decoder: Option<Decoder>,
    buf: BytesMut,
    sha256: Option<(Sha256, String)>,
    /// The checksum trailer `x-amz-trailer` announced, or why that header is refused. Checked
    /// when reading starts (operations without a body never look), and against the trailers
    /// at the end.
    announced: S3Result<Option<Algorithm>>,
    trailers: Vec<(String, String)>,
    /// Content-Length: the bytes on the wire.
    content_length: Option<u64>,
    /// `x-amz-decoded-content-length`, aws-chunked only: the object bytes.
    decoded_length: Option<u64>,
    /// Object bytes handed out so far.
    received: u64,
    /// Bytes of an aws-chunked body received so far, framing included.
    wire: u64,
    /// The most object bytes the operation takes, and how it refuses more.
    limit: u64,
    too_large: S3Error,
    started: bool,
    finished: bool,
    /// The first error, returned again by every later call.
    failed: Option<S3Error>,
}

impl BodyReader {
    /// A reader of at most `limit` object bytes (refused as `EntityTooLarge`; see
    /// `set_limit`). `headers` are the request's: its declared sizes and `x-amz-trailer`.
    pub fn new(body: RequestBody, payload: Payload, headers: &HeaderMap, limit: u64) -> BodyReader {
        let (mode, decoder, sha256, decoded_length) = match payload {
            Payload::Unsigned => (None, None, None, None),
            Payload::Sha256(hex) => (None, None, Some((Sha256::new(), hex)), None),
            Payload::Chunked {
                mode,
                signing,
                decoded_length,
            } => (
                Some(mode),
                Some(Decoder::new(mode, signing, decoded_length)),
                None,
                decoded_length,
            ),
        };
        let content_length = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        BodyReader {
            body: Some(body),
            mode,
            decoder,
            buf: BytesMut::new(),
            sha256,
            announced: announced_trailer(headers),
            trailers: Vec::new(),
            content_length,
            decoded_length,
            received: 0,
            wire: 0,
            limit,
            too_large: Code::EntityTooLarge.into(),
            started: false,
            finished: false,
            failed: None,
        }
    }

    /// The reader of a request made inside the server: no body, nothing to verify.
    pub fn empty() -> BodyReader {
        BodyReader {
            body: None,
            mode: None,
            decoder: None,
            buf: BytesMut::new(),
            sha256: None,
            announced: Ok(None),
            trailers: Vec::new(),
            content_length: Some(0),
            decoded_length: None,
            received: 0,
            wire: 0,
            limit: 0,
            too_large: Code::EntityTooLarge.into(),
            started: false,
            finished: false,
            failed: None,
        }
    }

    /// The operation's own limit and refusal (a policy, an XML document), set before the
    /// first `next`.
    pub fn set_limit(&mut self, limit: u64, too_large: S3Error) {
        debug_assert!(!self.started, "the limit is set before reading");
        self.limit = limit;
        self.too_large = too_large;
    }

    /// How many object bytes the request says it carries (Content-Length, or an aws-chunked
    /// body's `x-amz-decoded-content-length`); `None` when it does not say. The body is held
    /// to it: more or fewer bytes fail the read.
    pub fn announced_len(&self) -> Option<u64> {
        match self.mode {
            None => self.content_length,
            Some(_) => self.decoded_length,
        }
    }

    /// Trailing headers of an aws-chunked body (checksums), known once `next` returned `None`:
    /// exactly the one announced in `x-amz-trailer`, or none.
    pub fn trailers(&self) -> &[(String, String)] {
        &self.trailers
    }

    /// The next run of object bytes, or `None` when the body is complete and verified. After
    /// an error, the same error again.
    pub async fn next(&mut self) -> S3Result<Option<Bytes>> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = self.read().await;
        if let Err(error) = &result {
            self.failed = Some(error.clone());
        }
        result
    }

    async fn read(&mut self) -> S3Result<Option<Bytes>> {
        if !self.started {
            self.started = true;
            self.check_headers()?;
        }
        loop {
            if self.finished {
                return Ok(None);
            }
            if let Some(decoder) = &mut self.decoder {
                match decoder.decode(&mut self.buf).map_err(chunked_error)? {
                    Some(Event::Data(data)) => return self.count(data).map(Some),
                    // Not done yet: the rest of the body must be empty (or the closing CRLF),
                    // which the decoder checks as it arrives.
                    Some(Event::End { trailers }) => {
                        self.trailers = trailers;
                        continue;
                    }
                    None => {}
                }
            }
            let Some(data) = self.frame().await? else {
                self.end()?;
                return Ok(None);
            };
            if self.decoder.is_some() {
                self.wire += data.len() as u64;
                if self.wire > wire_limit(self.limit) {
                    return Err(self.too_large.clone());
                }
                self.buf.extend_from_slice(&data);
            } else if !data.is_empty() {
                if let Some((hasher, _)) = &mut self.sha256 {
                    hasher.update(&data);
                }
                return self.count(data).map(Some);
            }
        }
    }

    /// The next data frame of the underlying body; `None` at its end.
    async fn frame(&mut self) -> S3Result<Option<Bytes>> {
        loop {
            let Some(body) = &mut self.body else {
                return Ok(None);
            };
            match body.frame().await {
                None => return Ok(None),
                // The client went quiet mid-body; S3 answers this, and SDKs retry it.
                Some(Err(BodyError::Timeout(_))) => return Err(Code::RequestTimeout.into()),
                Some(Err(e)) => {
                    tracing::info!(error = %e, "reading an upload body failed");
                    return Err(Code::IncompleteBody.into());
                }
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        return Ok(Some(data));
                    }
                }
            }
        }
    }

    /// What the headers say, checked before a byte is read.
    fn check_headers(&self) -> S3Result<()> {
        let announced = self.announced.clone()?;
        if announced.is_some() && !self.mode.is_some_and(Mode::has_trailer) {
            return Err(S3Error::new(
                Code::InvalidRequest,
                "x-amz-trailer requires x-amz-content-sha256 to be \
                 STREAMING-UNSIGNED-PAYLOAD-TRAILER or STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER.",
            ));
        }
        self.check_declared()
    }

    /// Sizes declared over the limit are refused at once: the client would otherwise send
    /// (and the server read) up to the limit before hearing so.
    fn check_declared(&self) -> S3Result<()> {
        let over = |declared: Option<u64>, limit: u64| declared.is_some_and(|d| d > limit);
        if self.mode.is_none() {
            if over(self.content_length, self.limit) {
                return Err(self.too_large.clone());
            }
            return Ok(());
        }
        if over(self.decoded_length, self.limit)
            || over(self.content_length, wire_limit(self.limit))
        {
            return Err(self.too_large.clone());
        }
        if let (Some(decoded), Some(wire)) = (self.decoded_length, self.content_length) {
            if decoded > wire {
                return Err(S3Error::new(
                    Code::IncompleteBody,
                    format!(
                        "x-amz-decoded-content-length ({decoded}) is more than the \
                         Content-Length ({wire}) can carry."
                    ),
                ));
            }
        }
        Ok(())
    }

    fn count(&mut self, data: Bytes) -> S3Result<Bytes> {
        self.received += data.len() as u64;
        if self.received > self.limit {
            return Err(self.too_large.clone());
        }
        Ok(data)
    }

    /// The underlying body ended: check what can only be checked at the end.
    fn end(&mut self) -> S3Result<()> {
        if let Some(decoder) = &mut self.decoder {
            // An unsigned trailer block may end with the body instead of a blank line.
            if let Some(Event::End { trailers }) = decoder.finish().map_err(chunked_error)? {
                self.trailers = trailers;
            }
            self.check_trailers()?;
        }
        if let Some((hasher, expected)) = self.sha256.take() {
            if hex::encode(hasher.finalize()) != *expected {
                return Err(Code::XAmzContentSHA256Mismatch.into());
            }
        }
        self.finished = true;
        Ok(())
    }

    /// The trailers must be exactly the announced one: an announced checksum that is missing
    /// (or sent under another name) would go unchecked, and one not announced was not asked
    /// for. The decoder has already refused a name sent twice.
    fn check_trailers(&self) -> S3Result<()> {
        let announced = self.announced.as_ref().ok().copied().flatten();
        let sent: Vec<&str> = self.trailers.iter().map(|(n, _)| n.as_str()).collect();
        let expected: Vec<&str> = announced.map(Algorithm::header).into_iter().collect();
        if sent != expected {
            tracing::info!(
                ?sent,
                ?expected,
                "aws-chunked trailers differ from x-amz-trailer"
            );
            return Err(Code::MalformedTrailerError.into());
        }
        Ok(())
    }
}

/// The checksum trailer `x-amz-trailer` announces, if any: the header name of one checksum
/// algorithm, as S3 takes. Anything else there is refused, never ignored: an ignored
/// announcement would let its trailer go unchecked.
pub fn announced_trailer(headers: &HeaderMap) -> S3Result<Option<Algorithm>> {
    let mut announced = None;
    for value in headers.get_all("x-amz-trailer") {
        for name in value.to_str().unwrap_or("\0").split(',') {
            let algorithm = Algorithm::from_header(name.trim()).ok_or_else(|| {
                S3Error::new(
                    Code::InvalidRequest,
                    "The value specified in the x-amz-trailer header is not supported",
                )
            })?;
            if announced.replace(algorithm).is_some() {
                return Err(multiple_checksums());
            }
        }
    }
    Ok(announced)
}

/// S3 takes one checksum per request, in a header or in the trailer.
pub fn multiple_checksums() -> S3Error {
    S3Error::new(
        Code::InvalidRequest,
        "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
    )
}

fn chunked_error(e: ChunkedError) -> S3Error {
    match e {
        ChunkedError::SignatureMismatch => Code::SignatureDoesNotMatch.into(),
        ChunkedError::Truncated => Code::IncompleteBody.into(),
        ChunkedError::LengthMismatch { expected, got } => S3Error::new(
            Code::IncompleteBody,
            format!(
                "The decoded body has {got} bytes; x-amz-decoded-content-length says {expected}."
            ),
        ),
        ChunkedError::TooLarge => Code::EntityTooLarge.into(),
        ChunkedError::Malformed(m) => S3Error::new(
            Code::InvalidRequest,
            format!("Malformed aws-chunked body: {m}"),
        ),
        // S3 words every trailer error alike; the log says which.
        ChunkedError::MalformedTrailer(m) => {
            tracing::info!(problem = %m, "malformed aws-chunked trailer");
            Code::MalformedTrailerError.into()
        }
    }
}

/// Reads a small request body (XML documents) whole, up to `limit` bytes.
pub async fn read_small(reader: &mut BodyReader, limit: usize) -> S3Result<Bytes> {
    read_whole(reader, limit, || {
        S3Error::new(Code::MalformedXML, "The request body is too large.")
    })
    .await
}

/// Reads a small request body whole; one declared over `limit` bytes is refused with
/// `too_large` before it is read, one that turns out larger as soon as the excess arrives.
pub async fn read_whole(
    reader: &mut BodyReader,
    limit: usize,
    too_large: impl FnOnce() -> S3Error,
) -> S3Result<Bytes> {
    reader.set_limit(limit as u64, too_large());
    let mut all = BytesMut::new();
    while let Some(data) = reader.next().await? {
        all.extend_from_slice(&data);
    }
    Ok(all.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::chunked::MAX_TRAILER_BLOCK;

    fn announced(values: &[&str]) -> Result<Option<Algorithm>, String> {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-amz-trailer", v.parse().unwrap());
        }
        announced_trailer(&headers).map_err(|e| e.message.into_owned())
    }

    #[test]
    fn x_amz_trailer_names_one_checksum_or_is_refused() {
        assert_eq!(announced(&[]), Ok(None));
        assert_eq!(
            announced(&["x-amz-checksum-crc32"]),
            Ok(Some(Algorithm::Crc32))
        );
        assert_eq!(
            announced(&[" X-Amz-Checksum-SHA256 "]),
            Ok(Some(Algorithm::Sha256))
        );
        let unsupported = "The value specified in the x-amz-trailer header is not supported";
        for value in [
            "",
            "x-amz-meta-a",
            "x-amz-checksum-md5",
            "x-amz-checksum-crc32,",
        ] {
            assert_eq!(announced(&[value]), Err(unsupported.into()), "{value:?}");
        }
        let single = multiple_checksums().message.into_owned();
        let twice = ["x-amz-checksum-crc32, x-amz-checksum-crc32"];
        assert_eq!(announced(&twice), Err(single.clone()));
        let two_lines = ["x-amz-checksum-crc32", "x-amz-checksum-sha1"];
        assert_eq!(announced(&two_lines), Err(single));
    }

    #[test]
    fn the_wire_allowance_is_bounded_and_covers_real_chunking() {
        // 8 KiB chunks (the smallest S3 takes) with a signed chunk's framing, at the limit.
        let framing = |limit: u64| limit.div_ceil(8192) * 90 + MAX_TRAILER_BLOCK as u64;
        for limit in [0, 100, 64 * 1024, 2 << 20, MAX_PUT] {
            assert!(limit + framing(limit) <= wire_limit(limit), "{limit}");
        }
        assert!(wire_limit(MAX_PUT) < MAX_PUT + MAX_PUT / 8);
        assert_eq!(wire_limit(u64::MAX), u64::MAX);
    }
}
