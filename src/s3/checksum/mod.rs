//! Checksums S3 computes and verifies: the MD5 behind every ETag and the additional checksums
//! (`x-amz-checksum-*`: CRC32, CRC32C, SHA1, SHA256, CRC64NVME), for single requests and as
//! the composite values of multipart uploads.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>
//!
//! Pure: bytes in, digests out. The write path feeds each body once through `BodyDigests`,
//! whatever it has to compute, so nothing reads a body twice or holds it whole.
//!
//! On the wire every checksum is the raw digest (CRCs big-endian) in standard base64 with
//! padding, e.g. CRC32("hello") = 0x3610a686 = `NhCmhg==`.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// An additional checksum algorithm, as named in `x-amz-checksum-algorithm`,
/// `x-amz-sdk-checksum-algorithm` and the `x-amz-checksum-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Crc32,
    Crc32c,
    Sha1,
    Sha256,
    Crc64Nvme,
}

impl Algorithm {
    pub const ALL: [Algorithm; 5] = [
        Algorithm::Crc32,
        Algorithm::Crc32c,
        Algorithm::Sha1,
        Algorithm::Sha256,
        Algorithm::Crc64Nvme,
    ];

    /// The header (and trailer) carrying this checksum, lowercase as HTTP/2 and `http` use it.
    pub fn header(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "x-amz-checksum-crc32",
            Algorithm::Crc32c => "x-amz-checksum-crc32c",
            Algorithm::Sha1 => "x-amz-checksum-sha1",
            Algorithm::Sha256 => "x-amz-checksum-sha256",
            Algorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
        }
    }

    /// The name as S3 spells it in `x-amz-checksum-algorithm` and in XML (`ChecksumAlgorithm`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "CRC32",
            Algorithm::Crc32c => "CRC32C",
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Crc64Nvme => "CRC64NVME",
        }
    }

    /// Case-insensitive: SDKs send `CRC32`, hand-written requests often `crc32`.
    pub fn from_name(s: &str) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s))
    }

    /// Case-insensitive, since header names are.
    pub fn from_header(h: &str) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.header().eq_ignore_ascii_case(h))
    }

    /// Length of the raw digest in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Algorithm::Crc32 | Algorithm::Crc32c => 4,
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Crc64Nvme => 8,
        }
    }
}

/// Incremental hasher for one algorithm.
#[derive(Clone)]
pub struct Hasher(State);

#[derive(Clone)]
enum State {
    Crc32(crc32fast::Hasher),
    /// The crc32c crate is function-based: the running value is the state.
    Crc32c(u32),
    Sha1(Sha1),
    Sha256(Sha256),
    Crc64Nvme(crc64fast_nvme::Digest),
}

impl Hasher {
    pub fn new(algorithm: Algorithm) -> Hasher {
        Hasher(match algorithm {
            Algorithm::Crc32 => State::Crc32(crc32fast::Hasher::new()),
            Algorithm::Crc32c => State::Crc32c(0),
            Algorithm::Sha1 => State::Sha1(Sha1::new()),
            Algorithm::Sha256 => State::Sha256(Sha256::new()),
            Algorithm::Crc64Nvme => State::Crc64Nvme(crc64fast_nvme::Digest::new()),
        })
    }

    pub fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            State::Crc32(h) => h.update(data),
            State::Crc32c(crc) => *crc = crc32c::crc32c_append(*crc, data),
            State::Sha1(h) => h.update(data),
            State::Sha256(h) => h.update(data),
            State::Crc64Nvme(h) => h.write(data),
        }
    }

    /// The raw digest: `Algorithm::digest_len` bytes, CRCs big-endian as S3 encodes them.
    pub fn finish(self) -> Vec<u8> {
        match self.0 {
            State::Crc32(h) => h.finalize().to_be_bytes().to_vec(),
            State::Crc32c(crc) => crc.to_be_bytes().to_vec(),
            State::Sha1(h) => h.finalize().to_vec(),
            State::Sha256(h) => h.finalize().to_vec(),
            State::Crc64Nvme(h) => h.sum64().to_be_bytes().to_vec(),
        }
    }

    /// The digest as it travels in `x-amz-checksum-*`.
    pub fn finish_base64(self) -> String {
        BASE64.encode(self.finish())
    }
}

/// Everything the write path computes in one pass over a body: MD5 always (for the ETag and
/// `Content-MD5`), plus each requested checksum.
pub struct BodyDigests {
    md5: Md5,
    /// One per distinct requested algorithm, in the order first requested.
    checksums: Vec<(Algorithm, Hasher)>,
}

impl BodyDigests {
    /// Repeated algorithms are computed once.
    pub fn new(algorithms: &[Algorithm]) -> BodyDigests {
        let mut checksums: Vec<(Algorithm, Hasher)> = Vec::with_capacity(algorithms.len());
        for &a in algorithms {
            if !checksums.iter().any(|(seen, _)| *seen == a) {
                checksums.push((a, Hasher::new(a)));
            }
        }
        BodyDigests {
            md5: Md5::new(),
            checksums,
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        self.md5.update(data);
        for (_, hasher) in &mut self.checksums {
            hasher.update(data);
        }
    }

    pub fn finish(self) -> Digests {
        Digests {
            md5: self.md5.finalize().into(),
            checksums: self
                .checksums
                .into_iter()
                .map(|(a, hasher)| (a, hasher.finish_base64()))
                .collect(),
        }
    }
}

/// The digests of one body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    pub md5: [u8; 16],
    /// Base64, in the order the algorithms were first requested.
    pub checksums: Vec<(Algorithm, String)>,
}

impl Digests {
    /// The ETag of a single-request upload: lowercase hex MD5, without the quotes the
    /// `ETag` header and XML add.
    pub fn etag(&self) -> String {
        hex::encode(self.md5)
    }

    /// Base64 value of `a`, if it was requested.
    pub fn checksum(&self, a: Algorithm) -> Option<&str> {
        self.checksums
            .iter()
            .find(|(have, _)| *have == a)
            .map(|(_, value)| value.as_str())
    }
}

/// A client-supplied `x-amz-checksum-*` value as raw bytes: `None` unless it is canonical
/// standard base64 of exactly `a.digest_len()` bytes (S3 answers `InvalidRequest`).
/// Because only canonical base64 is accepted, a value that parses compares equal as a string
/// to ours exactly when the digests are equal.
pub fn parse_checksum(a: Algorithm, value: &str) -> Option<Vec<u8>> {
    BASE64
        .decode(value)
        .ok()
        .filter(|raw| raw.len() == a.digest_len())
}

/// The ETag of a completed multipart upload: hex MD5 of the concatenated binary part MD5s,
/// then `-<number of parts>`.
pub fn multipart_etag(part_md5s: &[[u8; 16]]) -> String {
    let mut md5 = Md5::new();
    for part in part_md5s {
        md5.update(part);
    }
    format!("{}-{}", hex::encode(md5.finalize()), part_md5s.len())
}

/// S3's `COMPOSITE` checksum of a multipart upload: the checksum of the concatenated raw part
/// checksums, base64, then `-<number of parts>`. `None` if a part value is not a valid
/// checksum of `a` (see `parse_checksum`).
///
/// Mechanical only: which algorithms allow `COMPOSITE` (S3 refuses it for CRC64NVME, which is
/// `FULL_OBJECT` only) is the multipart handler's rule.
pub fn composite_checksum(a: Algorithm, part_checksums_base64: &[&str]) -> Option<String> {
    let mut hasher = Hasher::new(a);
    for part in part_checksums_base64 {
        hasher.update(&parse_checksum(a, part)?);
    }
    Some(format!(
        "{}-{}",
        hasher.finish_base64(),
        part_checksums_base64.len()
    ))
}

/// `Content-MD5`: base64 of the 16 MD5 bytes. `None` if malformed (S3: `InvalidDigest`);
/// a well-formed value that does not match the body is `BadDigest`, the caller's check.
pub fn parse_content_md5(v: &str) -> Option<[u8; 16]> {
    BASE64.decode(v.trim()).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests;
