//! Object contents and request bodies: what each object holds, derived from the seed without
//! keeping any object in memory; upload bodies in the three payload modes; and the check of a
//! downloaded body against what was written.
//!
//! Contents: one random base buffer of `block + 64 KiB` bytes (at most 1 MiB + 64 KiB),
//! filled from the seed. Object `i` is a run of blocks; block `j` is the base buffer's window
//! starting at an offset mixed from (seed, i, j). So every object is different (two distinct
//! single-block objects coincide with probability 1/65536), any object can be rebuilt from its
//! index, and a body streams as `Bytes` slices of the one shared buffer: a 64 MiB PUT allocates
//! nothing per request but its small framing.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use bytes::Bytes;
use hyper::body::{Frame, SizeHint};
use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};

/// The largest slice of the base buffer one block takes.
const BLOCK: u64 = 1 << 20;
/// How far a block's window may start into the base buffer: 65536 different offsets.
const WINDOW: u64 = 64 << 10;
/// Data per aws-chunked chunk, as the AWS SDKs send.
const CHUNK: u64 = 64 << 10;
const CRC32_TRAILER: &str = "x-amz-checksum-crc32";
/// The hex SHA-256 of no bytes: the payload hash of a request without a body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// An offset into the base buffer as an index. Never fails: the buffer, and so every offset
/// into it, is at most `BLOCK + WINDOW` (1 MiB + 64 KiB).
fn base_index(offset: u64) -> usize {
    usize::try_from(offset).expect("the base buffer is at most 1 MiB + 64 KiB")
}

/// What every object of one run holds: `size` bytes, object by object different.
#[derive(Debug)]
pub struct Contents {
    base: Bytes,
    size: u64,
    block: u64,
    seed: u64,
}

impl Contents {
    pub fn new(seed: u64, size: u64) -> Contents {
        let block = size.clamp(1, BLOCK);
        let mut base = vec![0u8; base_index(block + WINDOW)];
        SmallRng::seed_from_u64(seed).fill_bytes(&mut base);
        Contents {
            base: Bytes::from(base),
            size,
            block,
            seed,
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Where block `block` of object `index` starts in the base buffer.
    fn offset(&self, index: u64, block: u64) -> u64 {
        let mixed = splitmix64(splitmix64(self.seed ^ index) ^ block.wrapping_mul(0x9E37));
        mixed % (WINDOW + 1)
    }

    /// Object `index`'s bytes from `pos` on, up to `max` bytes and at most to the end of the
    /// block `pos` is in, as a range of the base buffer.
    fn range_at(&self, index: u64, pos: u64, max: u64) -> std::ops::Range<usize> {
        let (block, within) = (pos / self.block, pos % self.block);
        let len = max.min(self.block - within).min(self.size - pos);
        let start = self.offset(index, block) + within;
        base_index(start)..base_index(start + len)
    }

    /// A reader of object `index`'s bytes `start..end` (a part of a multipart upload, or all).
    pub fn reader(self: &Arc<Self>, index: u64, start: u64, end: u64) -> ObjectReader {
        ObjectReader {
            contents: Arc::clone(self),
            index,
            pos: start,
            end: end.min(self.size),
        }
    }

    /// Hex SHA-256 of object `index`'s bytes `start..end`: the `signed` payload mode's hash.
    pub fn sha256_hex(self: &Arc<Self>, index: u64, start: u64, end: u64) -> String {
        let mut hasher = Sha256::new();
        let mut reader = self.reader(index, start, end);
        while let Some(data) = reader.next(BLOCK) {
            hasher.update(&data);
        }
        hex::encode(hasher.finalize())
    }
}

/// The SplitMix64 finalizer: a cheap, well-spread mix of 64 bits.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Streams a byte range of one object as slices of the shared base buffer.
#[derive(Debug)]
pub struct ObjectReader {
    contents: Arc<Contents>,
    index: u64,
    pos: u64,
    end: u64,
}

impl ObjectReader {
    fn remaining(&self) -> u64 {
        self.end - self.pos
    }

    /// The next slice, at most `max` bytes; `None` at the end.
    fn next(&mut self, max: u64) -> Option<Bytes> {
        if self.pos >= self.end {
            return None;
        }
        let range = self
            .contents
            .range_at(self.index, self.pos, max.min(self.remaining()));
        self.pos += range.len() as u64;
        Some(self.contents.base.slice(range))
    }

    /// How long the next slice would be, without taking it.
    fn next_len(&self, pos: u64, max: u64) -> u64 {
        let block_left = self.contents.block - pos % self.contents.block;
        max.min(block_left).min(self.end - pos)
    }
}

/// Checks a downloaded body against what object `index` holds, as its frames arrive.
#[derive(Debug)]
pub struct Verifier {
    contents: Arc<Contents>,
    index: u64,
    pos: u64,
    /// Where the first differing byte was, once one was seen.
    differs_at: Option<u64>,
}

impl Verifier {
    pub fn new(contents: &Arc<Contents>, index: u64) -> Verifier {
        Verifier {
            contents: Arc::clone(contents),
            index,
            pos: 0,
            differs_at: None,
        }
    }

    pub fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() && self.differs_at.is_none() {
            if self.pos >= self.contents.size {
                self.pos += data.len() as u64;
                return;
            }
            let range = self
                .contents
                .range_at(self.index, self.pos, data.len() as u64);
            let expected = &self.contents.base[range];
            let (got, rest) = data.split_at(expected.len());
            if got != expected {
                let first = got.iter().zip(expected).position(|(a, b)| a != b);
                self.differs_at = Some(self.pos + first.unwrap_or(0) as u64);
            }
            self.pos += got.len() as u64;
            data = rest;
        }
    }

    /// `Err` with what was wrong: a differing byte, or a body of the wrong length.
    pub fn finish(self) -> Result<(), String> {
        if let Some(at) = self.differs_at {
            return Err(format!("body differs from what was written at byte {at}"));
        }
        if self.pos != self.contents.size {
            return Err(format!(
                "body has {} bytes, {} were written",
                self.pos, self.contents.size
            ));
        }
        Ok(())
    }
}

/// How an upload's body is presented to the server (`--payload`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PayloadMode {
    /// `x-amz-content-sha256: UNSIGNED-PAYLOAD`: no hash on either side of the signature.
    Unsigned,
    /// The body's hex SHA-256 in `x-amz-content-sha256`, computed on the client first.
    Signed,
    /// aws-chunked `STREAMING-UNSIGNED-PAYLOAD-TRAILER` with an `x-amz-checksum-crc32`
    /// trailer, as the AWS SDKs upload by default.
    Streaming,
}

impl PayloadMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PayloadMode::Unsigned => "unsigned",
            PayloadMode::Signed => "signed",
            PayloadMode::Streaming => "streaming",
        }
    }
}

/// An upload, ready to sign: its body, the value for `x-amz-content-sha256`, and the headers
/// the payload mode needs (`Content-Length` always).
pub struct Upload {
    pub body: Body,
    pub payload_hash: String,
    pub headers: Vec<(&'static str, String)>,
}

/// The upload of object `index`'s bytes `start..end` in `mode`.
pub fn upload(
    contents: &Arc<Contents>,
    index: u64,
    (start, end): (u64, u64),
    mode: PayloadMode,
) -> Upload {
    let reader = contents.reader(index, start, end);
    let length = reader.remaining();
    match mode {
        PayloadMode::Unsigned | PayloadMode::Signed => Upload {
            payload_hash: match mode {
                PayloadMode::Signed => contents.sha256_hex(index, start, end),
                _ => "UNSIGNED-PAYLOAD".to_owned(),
            },
            headers: vec![("content-length", length.to_string())],
            body: Body(Inner::Object(reader)),
        },
        PayloadMode::Streaming => {
            let chunked = Chunked::new(reader);
            Upload {
                payload_hash: "STREAMING-UNSIGNED-PAYLOAD-TRAILER".to_owned(),
                headers: vec![
                    ("content-length", chunked.encoded_len.to_string()),
                    ("content-encoding", "aws-chunked".to_owned()),
                    ("x-amz-decoded-content-length", length.to_string()),
                    ("x-amz-trailer", CRC32_TRAILER.to_owned()),
                ],
                body: Body(Inner::Chunked(Box::new(chunked))),
            }
        }
    }
}

/// A request body: empty, a small whole document, an object range, or an object range framed
/// as aws-chunked. Never pending: every frame is ready when asked for.
#[derive(Debug)]
pub struct Body(Inner);

#[derive(Debug)]
enum Inner {
    Full(Option<Bytes>),
    Object(ObjectReader),
    Chunked(Box<Chunked>),
}

impl Body {
    pub fn empty() -> Body {
        Body(Inner::Full(None))
    }

    pub fn full(bytes: impl Into<Bytes>) -> Body {
        let bytes = bytes.into();
        Body(Inner::Full((!bytes.is_empty()).then_some(bytes)))
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let next = match &mut self.0 {
            Inner::Full(bytes) => bytes.take(),
            Inner::Object(reader) => reader.next(BLOCK),
            Inner::Chunked(chunked) => chunked.next(),
        };
        Poll::Ready(next.map(|data| Ok(Frame::data(data))))
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            Inner::Full(bytes) => bytes.is_none(),
            Inner::Object(reader) => reader.remaining() == 0,
            Inner::Chunked(chunked) => chunked.state == ChunkState::Done,
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(match &self.0 {
            Inner::Full(bytes) => bytes.as_ref().map_or(0, |b| b.len() as u64),
            Inner::Object(reader) => reader.remaining(),
            Inner::Chunked(chunked) => chunked.encoded_len - chunked.sent,
        })
    }
}

/// `STREAMING-UNSIGNED-PAYLOAD-TRAILER` framing: `<hex size>\r\n<data>\r\n` per chunk, then
/// `0\r\n`, the CRC32 trailer line, and a blank line. The CRC is computed as the data leaves,
/// as an SDK does. <https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>
#[derive(Debug)]
struct Chunked {
    reader: ObjectReader,
    crc: crc32fast::Hasher,
    state: ChunkState,
    encoded_len: u64,
    sent: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ChunkState {
    /// The next frame is a chunk's size line.
    Header,
    /// The size line went out; the data follows.
    Data(u64),
    /// The data went out; its CRLF follows.
    End,
    Done,
}

impl Chunked {
    fn new(reader: ObjectReader) -> Chunked {
        let mut encoded_len = 0;
        let mut pos = reader.pos;
        while pos < reader.end {
            let len = reader.next_len(pos, CHUNK);
            encoded_len += format!("{len:x}").len() as u64 + 2 + len + 2;
            pos += len;
        }
        // `0\r\n`, `x-amz-checksum-crc32:` + 8 base64 digits + `\r\n`, `\r\n`.
        encoded_len += 3 + CRC32_TRAILER.len() as u64 + 1 + 8 + 2 + 2;
        Chunked {
            reader,
            crc: crc32fast::Hasher::new(),
            state: ChunkState::Header,
            encoded_len,
            sent: 0,
        }
    }

    fn next(&mut self) -> Option<Bytes> {
        let frame = match self.state {
            ChunkState::Done => return None,
            ChunkState::Header if self.reader.remaining() > 0 => {
                let len = self.reader.next_len(self.reader.pos, CHUNK);
                self.state = ChunkState::Data(len);
                Bytes::from(format!("{len:x}\r\n"))
            }
            ChunkState::Header => {
                let crc = std::mem::take(&mut self.crc).finalize();
                self.state = ChunkState::Done;
                let trailer = BASE64.encode(crc.to_be_bytes());
                Bytes::from(format!("0\r\n{CRC32_TRAILER}:{trailer}\r\n\r\n"))
            }
            ChunkState::Data(len) => {
                let data = self.reader.next(len)?;
                self.crc.update(&data);
                self.state = ChunkState::End;
                data
            }
            ChunkState::End => {
                self.state = ChunkState::Header;
                Bytes::from_static(b"\r\n")
            }
        };
        self.sent += frame.len() as u64;
        Some(frame)
    }
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use http_body_util::BodyExt;

    use super::*;
    use crate::auth::chunked::{Decoder, Event, Mode};

    fn to_usize(n: u64) -> usize {
        usize::try_from(n).unwrap()
    }

    async fn collect(body: Body) -> Bytes {
        body.collect().await.expect("infallible").to_bytes()
    }

    fn whole(contents: &Arc<Contents>, index: u64) -> Vec<u8> {
        let mut reader = contents.reader(index, 0, contents.size());
        let mut out = Vec::new();
        while let Some(data) = reader.next(u64::MAX) {
            out.extend_from_slice(&data);
        }
        out
    }

    #[test]
    fn contents_repeat_with_the_seed_and_differ_by_object() {
        let size = 3 * BLOCK + 1234;
        let a = Arc::new(Contents::new(7, size));
        let again = Arc::new(Contents::new(7, size));
        let other_seed = Arc::new(Contents::new(8, size));
        assert_eq!(whole(&a, 5).len() as u64, size);
        assert_eq!(whole(&a, 5), whole(&again, 5));
        assert_ne!(whole(&a, 5), whole(&a, 6));
        assert_ne!(whole(&a, 5), whole(&other_seed, 5));
        let small = Arc::new(Contents::new(7, 4096));
        assert_ne!(whole(&small, 1), whole(&small, 2));
        assert_eq!(whole(&Arc::new(Contents::new(1, 0)), 3), b"");
    }

    #[test]
    fn the_verifier_accepts_the_object_in_any_framing_and_nothing_else() {
        let contents = Arc::new(Contents::new(1, 2 * BLOCK + 77));
        let body = whole(&contents, 9);
        for frame in [1, 1000, 65536, to_usize(BLOCK) + 3] {
            let mut verifier = Verifier::new(&contents, 9);
            body.chunks(frame).for_each(|c| verifier.feed(c));
            assert_eq!(verifier.finish(), Ok(()), "frames of {frame}");
        }
        let mut wrong_object = Verifier::new(&contents, 10);
        wrong_object.feed(&body);
        assert!(wrong_object.finish().is_err());
        let mut flipped = body.clone();
        flipped[to_usize(BLOCK) + 5] ^= 1;
        let mut verifier = Verifier::new(&contents, 9);
        verifier.feed(&flipped);
        let message = verifier.finish().unwrap_err();
        assert!(
            message.contains(&format!("byte {}", BLOCK + 5)),
            "{message}"
        );
        let mut short = Verifier::new(&contents, 9);
        short.feed(&body[..100]);
        assert!(short.finish().unwrap_err().contains("100 bytes"));
        let mut long = Verifier::new(&contents, 9);
        long.feed(&body);
        long.feed(b"extra");
        assert!(long.finish().is_err());
    }

    #[tokio::test]
    async fn plain_uploads_send_the_range_and_announce_its_length() {
        let contents = Arc::new(Contents::new(3, 3 * BLOCK));
        let all = whole(&contents, 4);
        let part = (BLOCK / 2, 2 * BLOCK + 10);
        let up = upload(&contents, 4, part, PayloadMode::Signed);
        let expected = &all[to_usize(part.0)..to_usize(part.1)];
        assert_eq!(up.payload_hash, hex::encode(Sha256::digest(expected)));
        let length = expected.len().to_string();
        assert_eq!(up.headers, vec![("content-length", length)]);
        let hint = hyper::body::Body::size_hint(&up.body);
        assert_eq!(hint.exact(), Some(expected.len() as u64));
        assert_eq!(collect(up.body).await, expected);
        let unsigned = upload(&contents, 4, (0, 3 * BLOCK), PayloadMode::Unsigned);
        assert_eq!(unsigned.payload_hash, "UNSIGNED-PAYLOAD");
        assert_eq!(collect(unsigned.body).await, all);
    }

    /// The framing is checked with the server's own decoder: what it accepts is what counts.
    #[tokio::test]
    async fn streaming_uploads_decode_with_the_servers_decoder() {
        for size in [0, 1, CHUNK, 3 * CHUNK + 5, BLOCK + 17] {
            let contents = Arc::new(Contents::new(5, size));
            let up = upload(&contents, 2, (0, size), PayloadMode::Streaming);
            assert_eq!(up.payload_hash, "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
            let header = |name| {
                up.headers
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.clone())
            };
            let announced: u64 = header("content-length").unwrap().parse().unwrap();
            let decoded = header("x-amz-decoded-content-length").unwrap();
            assert_eq!(decoded, size.to_string());
            let wire = collect(up.body).await;
            assert_eq!(wire.len() as u64, announced, "size {size}");
            let mut decoder = Decoder::new(Mode::UnsignedWithTrailer, None, Some(size));
            let mut buffer = BytesMut::from(&wire[..]);
            let (mut body, mut trailers) = (Vec::new(), None);
            while let Some(event) = decoder.decode(&mut buffer).expect("well framed") {
                match event {
                    Event::Data(data) => body.extend_from_slice(&data),
                    Event::End { trailers: t } => trailers = Some(t),
                }
            }
            assert_eq!(body, whole(&contents, 2), "size {size}");
            let crc = BASE64.encode(crc32fast::hash(&body).to_be_bytes());
            let want = vec![(CRC32_TRAILER.to_owned(), crc)];
            assert_eq!(trailers, Some(want), "size {size}");
        }
    }
}
