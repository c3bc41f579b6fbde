//! aws-chunked request bodies (`Content-Encoding: aws-chunked`): the chunk framing, the
//! chained chunk signatures and the trailers, decoded as the body streams in.
//!
//! `x-amz-content-sha256` selects the mode:
//! - `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: `<hex size>;chunk-signature=<sig>\r\n<data>\r\n`,
//!   ending with an empty chunk. Each signature chains from the previous one, the first from
//!   the request's (seed) signature.
//!   <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html>
//! - `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: the same chunks; after the empty one,
//!   trailer lines `name:value\r\n` and `x-amz-trailer-signature:<sig>\r\n`, signed over the
//!   canonical trailers and chained from the empty chunk's signature.
//!   <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html>
//! - `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: `<hex size>\r\n<data>\r\n`, then `0\r\n`, trailer
//!   lines and a blank line; no signatures (the request itself is still SigV4-signed).
//!   <https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>
//!
//! Sans-IO and bounded: the decoder reads from the caller's buffer and keeps no copy of it.
//! Chunk data leaves as slices of that buffer; what stays in it between calls is at most one
//! incomplete line (4 KiB for a chunk-size line, 16 KiB for the whole trailer block).
//!
//! Tolerated, because real clients differ: chunk extensions other than `chunk-signature`;
//! upper- or lowercase hex sizes; spaces around sizes and extensions; a signed body whose
//! closing CRLF (after the empty chunk, or after the trailer signature) is missing; a trailer
//! block that ends at the end of the body instead of a blank line.
//!
//! Refused, because a checksum read from them must be the only one: a trailer name sent twice,
//! and anything after the end but the optional closing CRLF.
//!
//! Boundary: the caller picks the mode, derives the signing key (`sigv4::signing_key`), reads
//! the body to its very end (so that bytes after the final chunk are seen and refused), checks
//! that the trailers are exactly those announced in `x-amz-trailer` and verifies their
//! checksums (`s3::checksum`), and maps `ChunkedError` to S3's codes.
//!
//! Invariant: `Data` is handed out before its chunk's signature can be checked (the signature
//! covers the whole chunk, which is not held in memory). Nothing decoded is trustworthy until
//! `finish` has returned `Ok`; on any error the caller discards everything it received.

use std::fmt;
use std::fmt::Write as _;

use bytes::{Buf, Bytes, BytesMut};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use super::sigv4::{hmac_sha256, sha256_hex, Presented};

/// The largest chunk accepted. SDKs send 64 KiB to 8 MiB; the cap only stops a size line from
/// announcing gigabytes that would never be checked against their signature in time.
pub const MAX_CHUNK: u64 = 64 << 20;
/// A chunk-size line: 16 hex digits, a 64-digit signature and room for other extensions.
const MAX_CHUNK_LINE: usize = 4 << 10;
/// All trailer lines together, CRLFs included.
pub const MAX_TRAILER_BLOCK: usize = 16 << 10;
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const CHUNK_ALGORITHM: &str = "AWS4-HMAC-SHA256-PAYLOAD";
const TRAILER_ALGORITHM: &str = "AWS4-HMAC-SHA256-TRAILER";
const TRAILER_SIGNATURE: &str = "x-amz-trailer-signature";
/// Optional whitespace around sizes, extensions and trailer values (RFC 9110 OWS).
const OWS: [char; 2] = [' ', '\t'];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    SignedChunks,
    SignedChunksWithTrailer,
    UnsignedWithTrailer,
}

impl Mode {
    /// The mode a `x-amz-content-sha256` value selects; `None` for anything else, including
    /// the SigV4a (`STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD*`) modes, which are not supported.
    pub fn from_content_sha256(v: &str) -> Option<Mode> {
        match v {
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" => Some(Mode::SignedChunks),
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" => Some(Mode::SignedChunksWithTrailer),
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER" => Some(Mode::UnsignedWithTrailer),
            _ => None,
        }
    }

    pub fn is_signed(self) -> bool {
        matches!(self, Mode::SignedChunks | Mode::SignedChunksWithTrailer)
    }

    pub fn has_trailer(self) -> bool {
        matches!(
            self,
            Mode::SignedChunksWithTrailer | Mode::UnsignedWithTrailer
        )
    }
}

/// What is needed to verify chunk signatures: the derived signing key and the request's
/// scope, date and seed signature. The key is redacted in `Debug` and wiped on drop.
pub struct ChunkSigning {
    pub key: [u8; 32],
    /// The request time exactly as it went into the seed's string to sign.
    pub amz_date: String,
    /// `date/region/service/aws4_request`.
    pub scope: String,
    /// The request's own signature, which the first chunk's signature chains from.
    pub seed_signature: [u8; 32],
}

impl ChunkSigning {
    /// From a verified request and the signing key its signature was checked with.
    pub fn new(key: [u8; 32], presented: &Presented) -> ChunkSigning {
        let c = &presented.credential;
        ChunkSigning {
            key,
            amz_date: presented.amz_date.clone(),
            scope: format!("{}/{}/{}/aws4_request", c.date(), c.region(), c.service()),
            seed_signature: presented.signature,
        }
    }
}

impl fmt::Debug for ChunkSigning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkSigning")
            .field("key", &"<redacted>")
            .field("amz_date", &self.amz_date)
            .field("scope", &self.scope)
            .field("seed_signature", &hex::encode(self.seed_signature))
            .finish()
    }
}

impl Drop for ChunkSigning {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ChunkedError {
    /// The framing is broken; the message says where, without echoing the client's bytes.
    #[error("malformed aws-chunked body: {0}")]
    Malformed(String),
    /// What follows the final chunk is broken: a trailer line that is not `name:value`, a
    /// trailer sent twice, signed trailers without their signature, or bytes after the end.
    #[error("malformed aws-chunked trailer: {0}")]
    MalformedTrailer(String),
    /// A chunk or trailer signature is not the one calculated (or trailers came unsigned).
    #[error("an aws-chunked chunk or trailer signature does not match")]
    SignatureMismatch,
    /// The chunks add up to a length other than `x-amz-decoded-content-length`. Detected as
    /// soon as a chunk-size line overshoots it, so `got` may count a chunk not yet received.
    #[error("the aws-chunked body decodes to {got} bytes, not the {expected} announced")]
    LengthMismatch { expected: u64, got: u64 },
    /// The trailer block is over 16 KiB.
    #[error("the aws-chunked trailers are larger than allowed")]
    TooLarge,
    /// The body ended before the final chunk (or before the trailer block was complete).
    #[error("the aws-chunked body ended early")]
    Truncated,
}

fn malformed(message: &str) -> ChunkedError {
    ChunkedError::Malformed(message.to_owned())
}

fn malformed_trailer(message: &str) -> ChunkedError {
    ChunkedError::MalformedTrailer(message.to_owned())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Decoded body bytes, a slice of the caller's input (not yet signature-checked).
    Data(Bytes),
    /// The body is complete; trailers as (lowercase name, trimmed value), in the order sent,
    /// each name once.
    /// In the signed mode they are verified and `x-amz-trailer-signature` is not among them.
    End { trailers: Vec<(String, String)> },
}

/// Decodes one aws-chunked body. Feed it with `decode` until it returns `Ok(None)`, append
/// more input, repeat; when the body ends, call `finish`. The body loop of a handler:
///
/// ```
/// use bytes::BytesMut;
/// use labstore::auth::chunked::{Decoder, Event, Mode};
///
/// let mut decoder = Decoder::new(Mode::UnsignedWithTrailer, None, Some(5));
/// let (mut buffer, mut body, mut trailers) = (BytesMut::new(), Vec::new(), None);
/// let mut on_event = |event| match event {
///     Event::Data(data) => body.extend_from_slice(&data), // stream it to a temp file
///     Event::End { trailers: t } => trailers = Some(t),
/// };
/// for frame in [&b"5\r\nhel"[..], b"lo\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n"] {
///     buffer.extend_from_slice(frame);
///     while let Some(event) = decoder.decode(&mut buffer)? {
///         on_event(event);
///     }
/// }
/// // The body ended. This trailer block has no closing blank line: `finish` ends it.
/// if let Some(event) = decoder.finish()? {
///     on_event(event);
/// }
/// assert_eq!(body, b"hello");
/// let crc = ("x-amz-checksum-crc32".to_owned(), "NhCmhg==".to_owned());
/// assert_eq!(trailers, Some(vec![crc]));
/// # Ok::<(), labstore::auth::chunked::ChunkedError>(())
/// ```
pub struct Decoder {
    mode: Mode,
    /// `Some` in the signed modes (see `new`).
    signing: Option<ChunkSigning>,
    /// What the next chunk or trailer signature chains from: the seed, then each verified
    /// chunk's signature.
    previous: [u8; 32],
    /// `x-amz-decoded-content-length`, when the client sent one.
    decoded_length: Option<u64>,
    /// Sum of the chunk sizes announced so far.
    decoded: u64,
    state: State,
    /// Trailers read so far, returned with `End`.
    trailers: Vec<(String, String)>,
    /// Bytes of trailer lines read so far, CRLFs included, against `MAX_TRAILER_BLOCK`.
    trailer_bytes: usize,
    /// Bytes left in the caller's buffer when `decode` last returned: a body may only end
    /// inside the trailer block at a line boundary.
    unconsumed: usize,
    /// The first error, returned again by every later call: after it nothing is trusted.
    failed: Option<ChunkedError>,
}

enum State {
    /// Expecting a chunk-size line.
    ChunkHeader,
    /// Passing `remaining` bytes of a chunk through; `check` in the signed modes.
    ChunkData {
        remaining: u64,
        check: Option<ChunkCheck>,
    },
    /// Expecting the CRLF after a chunk's data.
    ChunkEnd,
    /// After the empty chunk in a trailer mode: trailer lines until a blank line, the
    /// trailer signature or the end of the body.
    Trailers,
    /// `End` was returned. `optional_crlf`: the body's closing CRLF may still follow.
    Ended { optional_crlf: bool },
}

/// A signed chunk being received: its announced signature and the hash of its data so far.
struct ChunkCheck {
    declared: [u8; 32],
    sha256: Sha256,
}

impl Decoder {
    /// `decoded_length`: `x-amz-decoded-content-length`, enforced as chunks arrive and at
    /// `End`. The signed modes need `signing`; without it (a caller bug) every chunk is
    /// refused as `SignatureMismatch`, and debug builds panic.
    pub fn new(mode: Mode, signing: Option<ChunkSigning>, decoded_length: Option<u64>) -> Decoder {
        debug_assert!(
            !mode.is_signed() || signing.is_some(),
            "the signed aws-chunked modes need a ChunkSigning"
        );
        let previous = signing.as_ref().map_or([0; 32], |s| s.seed_signature);
        Decoder {
            mode,
            signing,
            previous,
            decoded_length,
            decoded: 0,
            state: State::ChunkHeader,
            trailers: Vec::new(),
            trailer_bytes: 0,
            unconsumed: 0,
            failed: None,
        }
    }

    /// Consumes as much of `input` as it can and returns the next event, or `Ok(None)` when it
    /// needs more input (whatever is left in `input` is an incomplete line; keep it and append
    /// to it). Call again after every event: signatures are checked between events.
    pub fn decode(&mut self, input: &mut BytesMut) -> Result<Option<Event>, ChunkedError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = self.step(input);
        self.unconsumed = input.len();
        if let Err(error) = &result {
            self.failed = Some(error.clone());
        }
        result
    }

    /// Called once the underlying body has ended, after `decode` returned `Ok(None)`.
    /// `Ok(Some(End))` when the body stopped right after a complete trailer block that lacked
    /// its closing blank line (the only way to end that `decode` cannot see); `Ok(None)` when
    /// `End` was already returned; `Err(Truncated)` when the body is incomplete.
    ///
    /// Deliberately not `&self -> Result<(), _>`: that shape could not deliver the trailers of
    /// a block that ends at the end of the body.
    pub fn finish(&mut self) -> Result<Option<Event>, ChunkedError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = match self.state {
            State::Ended { .. } => Ok(None),
            // Unsigned trailers end where the body does; signed ones need their signature
            // line, unless there are none to sign.
            State::Trailers
                if self.unconsumed == 0 && (!self.mode.is_signed() || self.trailers.is_empty()) =>
            {
                self.end(false).map(Some)
            }
            _ => Err(ChunkedError::Truncated),
        };
        if let Err(error) = &result {
            self.failed = Some(error.clone());
        }
        result
    }

    fn step(&mut self, input: &mut BytesMut) -> Result<Option<Event>, ChunkedError> {
        loop {
            let step = match &mut self.state {
                State::ChunkHeader => self.chunk_header(input)?,
                State::ChunkData { remaining: 0, .. } => self.chunk_done()?,
                State::ChunkData { remaining, check } => pass_data(input, remaining, check),
                State::ChunkEnd => self.chunk_end(input)?,
                State::Trailers => self.trailer(input)?,
                State::Ended { optional_crlf } => after_end(input, optional_crlf)?,
            };
            match step {
                Step::Continue => {}
                Step::NeedInput => return Ok(None),
                Step::Emit(event) => return Ok(Some(event)),
            }
        }
    }

    fn chunk_header(&mut self, input: &mut BytesMut) -> Result<Step, ChunkedError> {
        let too_long = || malformed("chunk-size line longer than 4 KiB");
        let Some(line) = take_line(input, MAX_CHUNK_LINE, too_long)? else {
            return Ok(Step::NeedInput);
        };
        Ok(self.start_chunk(&line)?.map_or(Step::Continue, Step::Emit))
    }

    /// All of a chunk's data has been handed out: now its signature can be checked.
    fn chunk_done(&mut self) -> Result<Step, ChunkedError> {
        let done = std::mem::replace(&mut self.state, State::ChunkEnd);
        if let State::ChunkData {
            check: Some(check), ..
        } = done
        {
            self.verify_chunk(check.declared, &check.sha256.finalize())?;
        }
        Ok(Step::Continue)
    }

    fn chunk_end(&mut self, input: &mut BytesMut) -> Result<Step, ChunkedError> {
        match input.get(..2) {
            Some(b"\r\n") => input.advance(2),
            None if input.first().is_none_or(|&b| b == b'\r') => return Ok(Step::NeedInput),
            _ => {
                let message = "chunk data is not followed by CRLF (longer than its size?)";
                return Err(malformed(message));
            }
        }
        self.state = State::ChunkHeader;
        Ok(Step::Continue)
    }

    fn trailer(&mut self, input: &mut BytesMut) -> Result<Step, ChunkedError> {
        let budget = MAX_TRAILER_BLOCK - self.trailer_bytes;
        let Some(line) = take_line(input, budget, || ChunkedError::TooLarge)? else {
            return Ok(Step::NeedInput);
        };
        self.trailer_bytes += line.len() + 2;
        Ok(self.trailer_line(&line)?.map_or(Step::Continue, Step::Emit))
    }

    /// A chunk-size line: checks it and sets up the chunk. The empty chunk ends the data:
    /// `End` right away without trailers, else the trailer block.
    fn start_chunk(&mut self, line: &[u8]) -> Result<Option<Event>, ChunkedError> {
        let (size, signature) = parse_chunk_line(line)?;
        if size > MAX_CHUNK {
            return Err(malformed("chunk size over 64 MiB"));
        }
        let signature = match (self.mode.is_signed(), signature) {
            (true, None) => return Err(malformed("chunk without chunk-signature")),
            (true, signature) => signature,
            // Unsigned: a stray signature is not ours to check.
            (false, _) => None,
        };
        let total = self.decoded.saturating_add(size);
        if let Some(expected) = self.decoded_length.filter(|&expected| total > expected) {
            return Err(ChunkedError::LengthMismatch {
                expected,
                got: total,
            });
        }
        self.decoded = total;
        if size > 0 {
            let check = signature.map(|declared| ChunkCheck {
                declared,
                sha256: Sha256::new(),
            });
            self.state = State::ChunkData {
                remaining: size,
                check,
            };
            return Ok(None);
        }
        if let Some(declared) = signature {
            self.verify_chunk(declared, &Sha256::digest([]))?;
        }
        if self.mode.has_trailer() {
            self.state = State::Trailers;
            return Ok(None);
        }
        self.end(true).map(Some)
    }

    /// One trailer line: a blank line ends the block; in the signed mode the signature line
    /// does, and is checked first.
    fn trailer_line(&mut self, line: &[u8]) -> Result<Option<Event>, ChunkedError> {
        if line.is_empty() {
            // The AWS SDK for Rust sends no trailer signature when it has no trailers.
            if self.mode.is_signed() && !self.trailers.is_empty() {
                let message = "signed trailers without x-amz-trailer-signature";
                return Err(malformed_trailer(message));
            }
            return self.end(false).map(Some);
        }
        let (name, value) = parse_trailer(line)?;
        if self.mode.is_signed() && name == TRAILER_SIGNATURE {
            let signature = parse_signature(&value).map_err(|_| {
                malformed_trailer("x-amz-trailer-signature is not 64 hexadecimal digits")
            })?;
            self.verify_trailers(signature)?;
            return self.end(true).map(Some);
        }
        // Whichever copy a reader picked, the other would go unchecked: a checksum sent twice
        // (a good one, then a bad one) must not pass.
        if self.trailers.iter().any(|(seen, _)| *seen == name) {
            return Err(malformed_trailer("a trailer is sent more than once"));
        }
        self.trailers.push((name, value));
        Ok(None)
    }

    fn end(&mut self, optional_crlf: bool) -> Result<Event, ChunkedError> {
        if let Some(expected) = self.decoded_length.filter(|&e| e != self.decoded) {
            return Err(ChunkedError::LengthMismatch {
                expected,
                got: self.decoded,
            });
        }
        self.state = State::Ended { optional_crlf };
        Ok(Event::End {
            trailers: std::mem::take(&mut self.trailers),
        })
    }

    /// `AWS4-HMAC-SHA256-PAYLOAD`, date, scope, previous signature, hash of the empty string
    /// (the chunk has no headers), hash of the chunk data.
    fn verify_chunk(&mut self, declared: [u8; 32], data_sha256: &[u8]) -> Result<(), ChunkedError> {
        let previous = hex::encode(self.previous);
        let data_sha256 = hex::encode(data_sha256);
        self.verify(declared, |date, scope| {
            format!("{CHUNK_ALGORITHM}\n{date}\n{scope}\n{previous}\n{EMPTY_SHA256}\n{data_sha256}")
        })
    }

    /// `AWS4-HMAC-SHA256-TRAILER`, date, scope, previous (the empty chunk's) signature, hash
    /// of the canonical trailers: `name:value\n` each, sorted by name, as the AWS SDKs sign.
    fn verify_trailers(&mut self, declared: [u8; 32]) -> Result<(), ChunkedError> {
        let mut sorted: Vec<&(String, String)> = self.trailers.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let mut canonical = String::new();
        for (name, value) in sorted {
            let _ = writeln!(canonical, "{name}:{value}");
        }
        let previous = hex::encode(self.previous);
        let trailers_sha256 = sha256_hex(canonical.as_bytes());
        self.verify(declared, |date, scope| {
            format!("{TRAILER_ALGORITHM}\n{date}\n{scope}\n{previous}\n{trailers_sha256}")
        })
    }

    /// Signs the string `string_to_sign(amz_date, scope)` builds and compares in constant
    /// time; on a match the declared signature becomes the one the next chains from.
    fn verify(
        &mut self,
        declared: [u8; 32],
        string_to_sign: impl FnOnce(&str, &str) -> String,
    ) -> Result<(), ChunkedError> {
        let signing = self
            .signing
            .as_ref()
            .ok_or(ChunkedError::SignatureMismatch)?;
        let expected = hmac_sha256(
            &signing.key,
            string_to_sign(&signing.amz_date, &signing.scope).as_bytes(),
        );
        if !bool::from(expected.ct_eq(&declared)) {
            return Err(ChunkedError::SignatureMismatch);
        }
        self.previous = declared;
        Ok(())
    }
}

/// What one step of the state machine did.
enum Step {
    /// Moved on; there may be more to do with the input at hand.
    Continue,
    NeedInput,
    Emit(Event),
}

/// Hands out as much of the current chunk as `input` holds, as a slice of it.
fn pass_data(input: &mut BytesMut, remaining: &mut u64, check: &mut Option<ChunkCheck>) -> Step {
    if input.is_empty() {
        return Step::NeedInput;
    }
    let n = usize::try_from(*remaining).map_or(input.len(), |r| r.min(input.len()));
    let data = input.split_to(n).freeze();
    *remaining -= n as u64;
    if let Some(check) = check {
        check.sha256.update(&data);
    }
    Step::Emit(Event::Data(data))
}

/// After `End`: the optional closing CRLF, then nothing.
fn after_end(input: &mut BytesMut, optional_crlf: &mut bool) -> Result<Step, ChunkedError> {
    match input.get(..2) {
        _ if input.is_empty() => Ok(Step::NeedInput),
        Some(b"\r\n") if *optional_crlf => {
            input.advance(2);
            *optional_crlf = false;
            Ok(Step::Continue)
        }
        None if *optional_crlf && input[0] == b'\r' => Ok(Step::NeedInput),
        _ => Err(malformed_trailer("data after the end of the body")),
    }
}

/// Takes one CRLF-terminated line (at most `limit` bytes with its CRLF) off the front of
/// `input` and returns it without the CRLF; `Ok(None)` while it is incomplete.
fn take_line(
    input: &mut BytesMut,
    limit: usize,
    too_long: impl FnOnce() -> ChunkedError,
) -> Result<Option<BytesMut>, ChunkedError> {
    let window = &input[..input.len().min(limit)];
    let Some(lf) = window.iter().position(|&b| b == b'\n') else {
        return if input.len() >= limit {
            Err(too_long())
        } else {
            Ok(None)
        };
    };
    if lf == 0 || input[lf - 1] != b'\r' {
        return Err(malformed("line not terminated by CRLF"));
    }
    let mut line = input.split_to(lf + 1);
    line.truncate(lf - 1);
    Ok(Some(line))
}

/// `<hex size>[;name[=value]]...`: the size and the `chunk-signature` extension, if any.
fn parse_chunk_line(line: &[u8]) -> Result<(u64, Option<[u8; 32]>), ChunkedError> {
    let line = std::str::from_utf8(line).map_err(|_| malformed("chunk-size line is not text"))?;
    let mut parts = line.split(';');
    let size = parts.next().unwrap_or_default().trim_matches(OWS);
    // Checked by hand: from_str_radix would also take a leading '+'.
    if size.is_empty() || size.len() > 16 || !size.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(malformed("chunk size is not a hexadecimal number"));
    }
    let size = u64::from_str_radix(size, 16)
        .map_err(|_| malformed("chunk size is not a hexadecimal number"))?;
    let mut signature = None;
    for extension in parts {
        let (name, value) = extension.split_once('=').unwrap_or((extension, ""));
        if !name
            .trim_matches(OWS)
            .eq_ignore_ascii_case("chunk-signature")
        {
            continue;
        }
        if signature
            .replace(parse_signature(value.trim_matches(OWS))?)
            .is_some()
        {
            return Err(malformed("more than one chunk-signature"));
        }
    }
    Ok((size, signature))
}

fn parse_signature(hex_signature: &str) -> Result<[u8; 32], ChunkedError> {
    let mut signature = [0u8; 32];
    hex::decode_to_slice(hex_signature, &mut signature)
        .map_err(|_| malformed("signature is not 64 hexadecimal digits"))?;
    Ok(signature)
}

/// `name:value` with a token name (lowercased) and a value without control characters
/// (trimmed).
fn parse_trailer(line: &[u8]) -> Result<(String, String), ChunkedError> {
    let line = std::str::from_utf8(line).map_err(|_| malformed_trailer("trailer is not text"))?;
    let (name, value) = line
        .split_once(':')
        .ok_or_else(|| malformed_trailer("trailer line is not name:value"))?;
    if name.is_empty() || !name.bytes().all(is_token) {
        return Err(malformed_trailer("trailer name is not a header name"));
    }
    let value = value.trim_matches(OWS);
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(malformed_trailer("trailer value has control characters"));
    }
    Ok((name.to_ascii_lowercase(), value.to_owned()))
}

/// RFC 9110 `tchar`.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests;
