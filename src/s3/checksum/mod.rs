//! Checksums S3 computes and verifies: the MD5 behind every ETag and the additional checksums
//! (`x-amz-checksum-*`: CRC32, CRC32C, SHA1, SHA256, CRC64NVME), for single requests and, for
//! multipart uploads, of both checksum types: `COMPOSITE` (the checksum of the part checksums)
//! and `FULL_OBJECT` (the CRC of the whole object, combined from the parts' CRCs).
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

mod stored;
pub use stored::{object_checksum, part_checksum, StoredChecksum};

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

    /// The name in lowercase, as S3 words it in its error messages ("the crc32 you specified").
    pub fn lowercase(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "crc32",
            Algorithm::Crc32c => "crc32c",
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
            Algorithm::Crc64Nvme => "crc64nvme",
        }
    }

    /// Whether a multipart upload of this algorithm may have checksums of type `kind`: the
    /// CRCs combine into a full-object checksum, the SHAs do not; CRC64NVME is full-object
    /// only.
    pub fn supports(self, kind: ChecksumType) -> bool {
        match kind {
            ChecksumType::Composite => self != Algorithm::Crc64Nvme,
            ChecksumType::FullObject => crc_params(self).is_some(),
        }
    }

    /// The type of a multipart upload that names only this algorithm, as S3 defaults it.
    pub fn default_multipart_type(self) -> ChecksumType {
        match self {
            Algorithm::Crc64Nvme => ChecksumType::FullObject,
            _ => ChecksumType::Composite,
        }
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

/// How an object's checksum was computed (`x-amz-checksum-type`, `<ChecksumType>`): from the
/// whole object's bytes, or (multipart uploads only) as the checksum of the part checksums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumType {
    Composite,
    FullObject,
}

impl ChecksumType {
    /// As S3 spells it in headers, XML and the object index.
    pub fn name(self) -> &'static str {
        match self {
            ChecksumType::Composite => "COMPOSITE",
            ChecksumType::FullObject => "FULL_OBJECT",
        }
    }

    /// Exactly as S3 spells it: S3 refuses other spellings.
    pub fn from_name(s: &str) -> Option<ChecksumType> {
        [ChecksumType::Composite, ChecksumType::FullObject]
            .into_iter()
            .find(|t| t.name() == s)
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

/// S3's `FULL_OBJECT` checksum of a multipart upload: the CRC of the whole object, computed
/// from each part's CRC (base64) and length without reading a byte, by `crc_combine`. `None`
/// if `a` is not a CRC or a part value is not a valid checksum of `a`.
pub fn full_object_checksum(a: Algorithm, parts: &[(&str, u64)]) -> Option<String> {
    let combiner = Combiner::new(crc_params(a)?);
    let mut whole: Option<u64> = None;
    // Parts are mostly of one size: its shift is computed once.
    let mut shift: Option<(u64, u64)> = None;
    for &(value, len) in parts {
        let raw = parse_checksum(a, value)?;
        let mut be = [0u8; 8];
        be[8 - raw.len()..].copy_from_slice(&raw);
        let crc = u64::from_be_bytes(be);
        whole = Some(match whole {
            None => crc,
            Some(before) => {
                let by = match shift {
                    Some((n, by)) if n == len => by,
                    _ => combiner.shift_of(len),
                };
                shift = Some((len, by));
                combiner.multiply(by, before) ^ crc
            }
        });
    }
    let whole = whole?.to_be_bytes();
    Some(BASE64.encode(&whole[8 - a.digest_len()..]))
}

/// The CRC of `A ‖ B` from `crc(A)`, `crc(B)` and `B`'s length in bytes, for a CRC algorithm
/// (CRC32, CRC32C, CRC64NVME); `None` for the SHAs, which do not combine. The CRC values are
/// the finished ones S3 sends, as integers.
pub fn crc_combine(a: Algorithm, crc_a: u64, crc_b: u64, len_b: u64) -> Option<u64> {
    Some(Combiner::new(crc_params(a)?).combine(crc_a, crc_b, len_b))
}

/// A reflected CRC with initial value and final XOR all ones (all three of S3's CRCs are):
/// its width in bits and its polynomial, bit-reversed.
#[derive(Debug, Clone, Copy)]
struct CrcParams {
    width: u32,
    reflected_poly: u64,
}

fn crc_params(a: Algorithm) -> Option<CrcParams> {
    let (width, reflected_poly) = match a {
        Algorithm::Crc32 => (32, 0xEDB8_8320),
        Algorithm::Crc32c => (32, 0x82F6_3B78),
        Algorithm::Crc64Nvme => (64, 0x9A6C_9329_AC4B_C9B5),
        Algorithm::Sha1 | Algorithm::Sha256 => return None,
    };
    Some(CrcParams {
        width,
        reflected_poly,
    })
}

/// CRC combination in GF(2)\[x\] modulo the CRC's polynomial, in the reflected representation
/// (the coefficient of x⁰ in the top bit of the width). Appending `n` bytes to a message
/// multiplies its CRC register by x^(8n); with an initial value equal to the final XOR the
/// two cancel, so `crc(A‖B) = crc(A)·x^(8·len B) ⊕ crc(B)`. x^(8n) is built from the table of
/// x^(2^k) by the binary digits of 8n: O(log n) multiplications of `width` steps each.
struct Combiner {
    params: CrcParams,
    /// x^(2^k) mod P for k = 0..64.
    powers: [u64; 64],
}

impl Combiner {
    fn new(params: CrcParams) -> Combiner {
        let mut combiner = Combiner {
            params,
            powers: [0; 64],
        };
        // x¹: the bit just below x⁰.
        combiner.powers[0] = combiner.one() >> 1;
        for k in 1..64 {
            let previous = combiner.powers[k - 1];
            combiner.powers[k] = combiner.multiply(previous, previous);
        }
        combiner
    }

    /// x⁰, the polynomial 1.
    fn one(&self) -> u64 {
        1 << (self.params.width - 1)
    }

    /// a·b mod P.
    fn multiply(&self, a: u64, mut b: u64) -> u64 {
        let mut product = 0;
        let mut bit = self.one();
        while bit != 0 {
            if a & bit != 0 {
                product ^= b;
            }
            bit >>= 1;
            // b·x: a shift towards the high powers, reduced by P.
            b = if b & 1 == 1 {
                (b >> 1) ^ self.params.reflected_poly
            } else {
                b >> 1
            };
        }
        product
    }

    /// x^(8·len) mod P.
    fn shift_of(&self, len: u64) -> u64 {
        let mut power = self.one();
        // 8·len = len·2³: start three squarings up the table.
        let mut k = 3;
        let mut n = len;
        while n != 0 && k < 64 {
            if n & 1 == 1 {
                power = self.multiply(self.powers[k], power);
            }
            n >>= 1;
            k += 1;
        }
        power
    }

    fn combine(&self, crc_a: u64, crc_b: u64, len_b: u64) -> u64 {
        self.multiply(self.shift_of(len_b), crc_a) ^ crc_b
    }
}

/// `Content-MD5`: base64 of the 16 MD5 bytes. `None` if malformed (S3: `InvalidDigest`);
/// a well-formed value that does not match the body is `BadDigest`, the caller's check.
pub fn parse_content_md5(v: &str) -> Option<[u8; 16]> {
    BASE64.decode(v.trim()).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests;
