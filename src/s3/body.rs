//! Reading an upload's body as object bytes, checking its integrity on the way: aws-chunked
//! decoding (each chunk's signature verified in the signed modes), the whole-body SHA-256 the
//! client signed, and S3's size limits. Memory holds one frame at a time.

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};

use super::auth::Payload;
use super::error::{Code, S3Error, S3Result};
use crate::auth::chunked::{ChunkedError, Decoder, Event};
use crate::http::{BodyError, RequestBody};

/// S3's largest single PUT and largest part: 5 GiB.
pub const MAX_PUT: u64 = 5 * 1024 * 1024 * 1024;

pub struct BodyReader {
    body: RequestBody,
    decoder: Option<Decoder>,
    buf: BytesMut,
    sha256: Option<(Sha256, String)>,
    trailers: Vec<(String, String)>,
    received: u64,
    limit: u64,
    finished: bool,
}

impl BodyReader {
    pub fn new(body: RequestBody, payload: Payload, limit: u64) -> BodyReader {
        let (decoder, sha256) = match payload {
            Payload::Unsigned => (None, None),
            Payload::Sha256(hex) => (None, Some((Sha256::new(), hex))),
            Payload::Chunked {
                mode,
                signing,
                decoded_length,
            } => (Some(Decoder::new(mode, signing, decoded_length)), None),
        };
        BodyReader {
            body,
            decoder,
            buf: BytesMut::new(),
            sha256,
            trailers: Vec::new(),
            received: 0,
            limit,
            finished: false,
        }
    }

    /// Trailing headers of an aws-chunked body (checksums), known once `next` returned `None`.
    pub fn trailers(&self) -> &[(String, String)] {
        &self.trailers
    }

    /// The next run of object bytes, or `None` when the body is complete and verified.
    pub async fn next(&mut self) -> S3Result<Option<Bytes>> {
        loop {
            if let Some(decoder) = &mut self.decoder {
                match decoder.decode(&mut self.buf).map_err(chunked_error)? {
                    Some(Event::Data(data)) => return self.count(data).map(Some),
                    Some(Event::End { trailers }) => {
                        self.trailers = trailers;
                        self.finished = true;
                        return Ok(None);
                    }
                    None => {}
                }
            }
            if self.finished {
                return Ok(None);
            }
            match self.body.frame().await {
                None => return self.end(),
                // The client went quiet mid-body; S3 answers this, and SDKs retry it.
                Some(Err(BodyError::Timeout(_))) => return Err(Code::RequestTimeout.into()),
                Some(Err(e)) => {
                    tracing::info!(error = %e, "reading an upload body failed");
                    return Err(Code::IncompleteBody.into());
                }
                Some(Ok(frame)) => {
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    if self.decoder.is_some() {
                        self.buf.extend_from_slice(&data);
                    } else if !data.is_empty() {
                        if let Some((hasher, _)) = &mut self.sha256 {
                            hasher.update(&data);
                        }
                        return self.count(data).map(Some);
                    }
                }
            }
        }
    }

    fn count(&mut self, data: Bytes) -> S3Result<Bytes> {
        self.received += data.len() as u64;
        if self.received > self.limit {
            return Err(Code::EntityTooLarge.into());
        }
        Ok(data)
    }

    /// The underlying body ended: check what can only be checked at the end.
    fn end(&mut self) -> S3Result<Option<Bytes>> {
        self.finished = true;
        if let Some(decoder) = &mut self.decoder {
            // An unsigned trailer block may end with the body instead of a blank line.
            if let Some(Event::End { trailers }) = decoder.finish().map_err(chunked_error)? {
                self.trailers = trailers;
            }
        }
        if let Some((hasher, expected)) = self.sha256.take() {
            if hex::encode(hasher.finalize()) != *expected {
                return Err(Code::XAmzContentSHA256Mismatch.into());
            }
        }
        Ok(None)
    }
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
    }
}

/// Reads a small request body (XML documents) whole, up to `limit` bytes.
pub async fn read_small(reader: &mut BodyReader, limit: usize) -> S3Result<Bytes> {
    read_whole(reader, limit, || {
        S3Error::new(Code::MalformedXML, "The request body is too large.")
    })
    .await
}

/// Reads a small request body whole; one over `limit` bytes is refused with `too_large()`
/// as soon as the excess arrives.
pub async fn read_whole(
    reader: &mut BodyReader,
    limit: usize,
    too_large: impl Fn() -> S3Error,
) -> S3Result<Bytes> {
    let mut all = BytesMut::new();
    while let Some(data) = reader.next().await? {
        if all.len() + data.len() > limit {
            return Err(too_large());
        }
        all.extend_from_slice(&data);
    }
    Ok(all.freeze())
}
