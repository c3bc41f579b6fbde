//! SSE-S3 and SSE-C: object bytes encrypted at rest (`docs/encryption.md`). Pure: no I/O but
//! the reads of the `Read + Seek` a caller hands in.
//!
//! An encrypted object version (or multipart upload) has a random encryption id and a data
//! key: for SSE-S3 a random one, sealed by the master key into its `Record` (the `sse` column
//! of its row); for SSE-C one derived from the customer's key and the encryption id, which is
//! never stored: the record keeps only a salted HMAC that recognises the customer's key.
//! Each stored segment is `salt ‖ chunk 0 ‖ … ‖ chunk n-1`, each chunk AES-256-GCM over at
//! most `CHUNK` plaintext bytes with a nonce `salt ‖ u32be(index)` and associated data binding
//! the encryption id, the part, the index and whether it is the last chunk: chunks cannot be
//! altered, reordered, swapped between objects or parts, truncated or extended undetected.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;

use aes_gcm::aead::{KeyInit, OsRng};
use aes_gcm::Aes256Gcm;
use bytes::{Bytes, BytesMut};
use hmac::{Hmac, Mac};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{CryptoError, MasterKey};

/// Plaintext bytes per chunk (`docs/encryption.md` says why 64 KiB).
pub const CHUNK: usize = 64 * 1024;
/// The GCM tag after each chunk's ciphertext.
pub const TAG: usize = 16;
/// The random bytes at the start of every stored segment: the nonces' first 8 bytes.
pub const SALT: usize = 8;
const ID: usize = 16;
const FORMAT: u8 = 1;
const KIND_S3: u8 = 1;
const KIND_C: u8 = 2;
/// A stored chunk's size when full.
const STORED_CHUNK: usize = CHUNK + TAG;

/// How many chunks hold `size` plaintext bytes: at least one (an empty segment is one empty,
/// authenticated, last chunk).
pub fn chunk_count(size: u64) -> u64 {
    size.div_ceil(CHUNK as u64).max(1)
}

/// The stored length of a segment of `size` plaintext bytes.
pub fn stored_len(size: u64) -> u64 {
    SALT as u64 + size + TAG as u64 * chunk_count(size)
}

/// An object version's (or upload's) data key, open, with its encryption id. Chunks are
/// AES-256-GCM by `ring` (the same algorithm, bytes and tags as `aes-gcm`'s, which seals the
/// data key itself; a unit test holds the two to each other), for its speed.
pub struct DataKey {
    cipher: LessSafeKey,
    id: [u8; ID],
    /// SSE-C: the key that stands the ETags of the object (and its parts) in for the MD5 of
    /// their plaintext, which would let anyone who reads the index confirm a guess of it.
    etag_key: Option<Zeroizing<[u8; 32]>>,
}

impl DataKey {
    fn new(bytes: &[u8], id: [u8; ID]) -> Result<DataKey, CryptoError> {
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| CryptoError::Unseal)?;
        Ok(DataKey {
            cipher: LessSafeKey::new(key),
            id,
            etag_key: None,
        })
    }

    /// The ETag stored and shown for plaintext whose MD5 is `md5_hex`: the MD5 itself for
    /// SSE-S3 (as S3 shows), for SSE-C 16 bytes of an HMAC of it under a key derived from the
    /// customer's (S3's SSE-C ETags are not the MD5 of the data either).
    pub fn etag(&self, md5_hex: String) -> String {
        match &self.etag_key {
            None => md5_hex,
            Some(key) => {
                let mut mac = <HmacSha256 as Mac>::new_from_slice(key.as_slice())
                    .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
                mac.update(md5_hex.as_bytes());
                hex::encode(&mac.finalize().into_bytes()[..16])
            }
        }
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

/// The encryption record stored with a row (`objects.sse`, `uploads.sse`): format, kind, the
/// encryption id and, for SSE-S3, the sealed data key; for SSE-C, the salted HMAC of the
/// customer's key.
#[derive(Clone, PartialEq, Eq)]
pub struct Record {
    id: [u8; ID],
    kind: Kind,
}

#[derive(Clone, PartialEq, Eq)]
enum Kind {
    /// SSE-S3: the data key sealed by the master key.
    Sealed(Vec<u8>),
    /// SSE-C: HMAC-SHA256 under the customer's key of the row's identity and the random
    /// encryption id (the salt); the key itself is never stored.
    Customer([u8; 32]),
}

impl std::fmt::Debug for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.kind {
            Kind::Sealed(_) => "Record(SSE-S3)",
            Kind::Customer(_) => "Record(SSE-C)",
        })
    }
}

type HmacSha256 = Hmac<Sha256>;

/// A customer's key (SSE-C): 256 bits, held only for the request that brought it.
#[derive(Clone)]
pub struct CustomerKey(Zeroizing<[u8; 32]>);

impl CustomerKey {
    pub fn new(bytes: [u8; 32]) -> CustomerKey {
        CustomerKey(Zeroizing::new(bytes))
    }

    /// The MD5 of the key, which a request sends beside it (a check of its transport only).
    pub fn md5(&self) -> [u8; 16] {
        use md5::Digest as _;
        md5::Md5::digest(self.0.as_slice()).into()
    }

    fn mac(&self, label: &[u8]) -> HmacSha256 {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(self.0.as_slice())
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(label);
        mac
    }

    /// What the record keeps to recognise this key on the row of `bucket`/`key` with
    /// encryption id `id`.
    fn check(&self, bucket: &str, key: &str, id: &[u8; ID]) -> HmacSha256 {
        let mut mac = self.mac(b"labstore/sse-c/v1/check\0");
        mac.update(&seal_aad(bucket, key, id));
        mac
    }

    /// The data key of the row with encryption id `id`: unique per object version and
    /// upload, so that nonces never repeat under one key however many objects a customer's
    /// key encrypts.
    fn data_key(&self, id: [u8; ID]) -> Result<DataKey, CryptoError> {
        let mut mac = self.mac(b"labstore/sse-c/v1/data\0");
        mac.update(&id);
        let bytes = Zeroizing::new(<[u8; 32]>::from(mac.finalize().into_bytes()));
        let mut key = DataKey::new(bytes.as_slice(), id)?;
        let mut mac = self.mac(b"labstore/sse-c/v1/etag\0");
        mac.update(&id);
        key.etag_key = Some(Zeroizing::new(<[u8; 32]>::from(
            mac.finalize().into_bytes(),
        )));
        Ok(key)
    }
}

impl std::fmt::Debug for CustomerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CustomerKey(..)")
    }
}

/// The associated data a data key is sealed with: the row's bucket, key and encryption id.
fn seal_aad(bucket: &str, key: &str, id: &[u8; ID]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(32 + bucket.len() + key.len());
    aad.extend_from_slice(b"labstore/sse-s3/v1\0");
    aad.extend_from_slice(bucket.as_bytes());
    aad.push(0);
    aad.extend_from_slice(key.as_bytes());
    aad.push(0);
    aad.extend_from_slice(id);
    aad
}

impl Record {
    /// A fresh data key for an object version (or upload) of `bucket`/`key`, and its record.
    pub fn generate(master: &MasterKey, bucket: &str, key: &str) -> (Record, Arc<DataKey>) {
        let bytes = Zeroizing::new(<[u8; 32]>::from(Aes256Gcm::generate_key(OsRng)));
        let id: [u8; ID] = rand::random();
        let sealed = master.seal(bytes.as_slice(), &seal_aad(bucket, key, &id));
        let key = DataKey::new(bytes.as_slice(), id)
            .unwrap_or_else(|_| unreachable!("32 bytes are an AES-256 key"));
        let kind = Kind::Sealed(sealed);
        (Record { id, kind }, Arc::new(key))
    }

    /// SSE-C: a fresh encryption id for an object version (or upload) of `bucket`/`key`
    /// under the customer's key, its record and its data key.
    pub fn generate_customer(
        customer: &CustomerKey,
        bucket: &str,
        key: &str,
    ) -> (Record, Arc<DataKey>) {
        let id: [u8; ID] = rand::random();
        let check = customer
            .check(bucket, key, &id)
            .finalize()
            .into_bytes()
            .into();
        let data_key = customer
            .data_key(id)
            .unwrap_or_else(|_| unreachable!("32 bytes are an AES-256 key"));
        let kind = Kind::Customer(check);
        (Record { id, kind }, Arc::new(data_key))
    }

    /// Whether the row is SSE-C: its bytes open only with the customer's key.
    pub fn is_customer(&self) -> bool {
        matches!(self.kind, Kind::Customer(_))
    }

    /// Opens an SSE-S3 data key; fails when the record was moved to another row or
    /// altered, or the master key is another, or the record is SSE-C's.
    pub fn open(
        &self,
        master: &MasterKey,
        bucket: &str,
        key: &str,
    ) -> Result<Arc<DataKey>, CryptoError> {
        let Kind::Sealed(sealed) = &self.kind else {
            return Err(CryptoError::Unseal);
        };
        let bytes = master.open(sealed, &seal_aad(bucket, key, &self.id))?;
        if bytes.len() != 32 {
            return Err(CryptoError::Unseal);
        }
        Ok(Arc::new(DataKey::new(&bytes, self.id)?))
    }

    /// SSE-C: the data key, when `customer` is the key the row was written with (compared
    /// in constant time); `None` for another key or an SSE-S3 record.
    pub fn open_customer(
        &self,
        customer: &CustomerKey,
        bucket: &str,
        key: &str,
    ) -> Option<Arc<DataKey>> {
        let Kind::Customer(check) = &self.kind else {
            return None;
        };
        customer
            .check(bucket, key, &self.id)
            .verify_slice(check)
            .ok()?;
        customer.data_key(self.id).ok().map(Arc::new)
    }

    /// The record with its data key re-sealed from master key `from` to `to` (key rotation);
    /// `None` when it already opens with `to`, or is SSE-C's (no master key is involved).
    pub fn resealed(
        &self,
        (from, to): (&MasterKey, &MasterKey),
        bucket: &str,
        key: &str,
    ) -> Result<Option<Record>, CryptoError> {
        let Kind::Sealed(sealed) = &self.kind else {
            return Ok(None);
        };
        let aad = seal_aad(bucket, key, &self.id);
        if to.open(sealed, &aad).is_ok() {
            return Ok(None);
        }
        let bytes = from.open(sealed, &aad)?;
        Ok(Some(Record {
            id: self.id,
            kind: Kind::Sealed(to.seal(&bytes, &aad)),
        }))
    }

    /// The column's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let (kind, rest): (u8, &[u8]) = match &self.kind {
            Kind::Sealed(sealed) => (KIND_S3, sealed),
            Kind::Customer(check) => (KIND_C, check),
        };
        let mut out = Vec::with_capacity(2 + ID + rest.len());
        out.extend_from_slice(&[FORMAT, kind]);
        out.extend_from_slice(&self.id);
        out.extend_from_slice(rest);
        out
    }

    /// A stored column; `None` for a format or kind this binary does not know, or damage.
    pub fn from_bytes(bytes: &[u8]) -> Option<Record> {
        let (head, rest) = bytes.split_at_checked(2)?;
        let (id, rest) = rest.split_at_checked(ID)?;
        let id = id.try_into().ok()?;
        let kind = match head {
            [FORMAT, KIND_S3] => Kind::Sealed(rest.to_vec()),
            [FORMAT, KIND_C] => Kind::Customer(rest.try_into().ok()?),
            _ => return None,
        };
        Some(Record { id, kind })
    }
}

/// A chunk's nonce: unique per data key, as the salt is random per segment and the index
/// distinct within it.
fn nonce(salt: [u8; SALT], index: u32) -> Nonce {
    let mut n = [0u8; 12];
    n[..SALT].copy_from_slice(&salt);
    n[SALT..].copy_from_slice(&index.to_be_bytes());
    Nonce::assume_unique_for_key(n)
}

fn chunk_aad(id: &[u8; ID], part: u32, index: u32, last: bool) -> [u8; 29] {
    let mut aad = [0u8; 29];
    aad[..4].copy_from_slice(b"LSE1");
    aad[4..20].copy_from_slice(id);
    aad[20..24].copy_from_slice(&part.to_be_bytes());
    aad[24..28].copy_from_slice(&index.to_be_bytes());
    aad[28] = u8::from(last);
    aad
}

/// The error every authentication failure reads as.
pub fn tampered(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("encrypted object bytes failed authentication: {what}"),
    )
}

/// Encrypts one segment's plaintext as it arrives: `push` the bytes in order, then `finish`.
/// Holds back at most one chunk (the last one is sealed as last only when the body ends).
pub struct Sealer {
    key: Arc<DataKey>,
    part: u32,
    salt: [u8; SALT],
    index: u32,
    pending: Vec<u8>,
    started: bool,
}

impl Sealer {
    /// A segment of part `part` (0 for a simple object).
    pub fn new(key: &Arc<DataKey>, part: u32) -> Sealer {
        Sealer {
            key: Arc::clone(key),
            part,
            salt: rand::random(),
            index: 0,
            pending: Vec::new(),
            started: false,
        }
    }

    fn start(&mut self, out: &mut Vec<u8>) {
        if !self.started {
            out.extend_from_slice(&self.salt);
            self.started = true;
        }
    }

    fn seal(&mut self, plaintext: &[u8], last: bool, out: &mut Vec<u8>) {
        let at = out.len();
        out.extend_from_slice(plaintext);
        let aad = chunk_aad(&self.key.id, self.part, self.index, last);
        // Fails only for inputs over GCM's limit, far above a chunk.
        let tag = self
            .key
            .cipher
            .seal_in_place_separate_tag(
                nonce(self.salt, self.index),
                Aad::from(aad),
                &mut out[at..],
            )
            .unwrap_or_else(|_| unreachable!("a chunk is under GCM's limit"));
        out.extend_from_slice(tag.as_ref());
        self.index += 1;
    }

    /// Appends to `out` the stored bytes of every chunk `data` completes, keeping back the
    /// last (possibly full) one.
    pub fn push(&mut self, mut data: &[u8], out: &mut Vec<u8>) {
        self.start(out);
        out.reserve(data.len() + data.len() / CHUNK * TAG + TAG);
        if !self.pending.is_empty() {
            let fill = (CHUNK - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..fill]);
            data = &data[fill..];
            if data.is_empty() {
                return;
            }
            let pending = std::mem::take(&mut self.pending);
            self.seal(&pending, false, out);
            self.pending = pending;
            self.pending.clear();
        }
        // Whole chunks straight from `data`, while more bytes follow them.
        while data.len() > CHUNK {
            let (chunk, rest) = data.split_at(CHUNK);
            self.seal(chunk, false, out);
            data = rest;
        }
        self.pending.extend_from_slice(data);
    }

    /// Seals what is held back as the last chunk.
    pub fn finish(mut self, out: &mut Vec<u8>) {
        self.start(out);
        let pending = std::mem::take(&mut self.pending);
        self.seal(&pending, true, out);
    }

    /// A whole segment at once (inline objects, tests).
    pub fn seal_all(key: &Arc<DataKey>, part: u32, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(SALT + data.len() + (data.len() / CHUNK + 1) * TAG);
        let mut sealer = Sealer::new(key, part);
        sealer.push(data, &mut out);
        sealer.finish(&mut out);
        out
    }
}

/// Reads `take` plaintext bytes from offset `from` of one encrypted segment of `size`
/// plaintext bytes (part `part`) in `stored`, reading only the salt and the chunks the range
/// touches, and hands them to `emit` in pieces of about `buffer` bytes; `emit` answers
/// whether to go on. An altered, moved, truncated or extended segment is an `InvalidData`
/// error; nothing unauthenticated is ever emitted.
#[expect(
    clippy::too_many_arguments,
    reason = "the segment (reader, key, part, size), the range and how to hand it on: a struct would only name them again"
)]
pub fn read_range<R: Read + Seek>(
    stored: &mut R,
    key: &DataKey,
    part: u32,
    size: u64,
    from: u64,
    take: u64,
    buffer: usize,
    mut emit: impl FnMut(Bytes) -> bool,
) -> io::Result<()> {
    let len = stored.seek(SeekFrom::End(0))?;
    if len != stored_len(size) {
        return Err(tampered(
            "the stored length does not match the object's size",
        ));
    }
    if take == 0 {
        return Ok(());
    }
    let end = from + take; // exclusive
    if end > size {
        return Err(io::Error::other("a read beyond the end of a segment"));
    }
    let mut salt = [0u8; SALT];
    stored.seek(SeekFrom::Start(0))?;
    stored.read_exact(&mut salt)?;
    let chunks = chunk_count(size);
    let first = from / CHUNK as u64;
    let last = (end - 1) / CHUNK as u64;
    stored.seek(SeekFrom::Start(SALT as u64 + first * STORED_CHUNK as u64))?;
    let per_read = (buffer / STORED_CHUNK).max(1) as u64;
    let mut index = first;
    while index <= last {
        let batch = per_read.min(last - index + 1);
        // Plaintext lengths of the chunks in this batch.
        let plain =
            |i: u64| usize::try_from((size - i * CHUNK as u64).min(CHUNK as u64)).unwrap_or(CHUNK);
        let stored_bytes: usize = (index..index + batch).map(|i| plain(i) + TAG).sum();
        let mut buf = BytesMut::zeroed(stored_bytes);
        stored.read_exact(&mut buf)?;
        let (mut read_at, mut write_at) = (0usize, 0usize);
        for i in index..index + batch {
            let n = plain(i);
            let i32_ = u32::try_from(i).map_err(|_| tampered("too many chunks"))?;
            let aad = chunk_aad(&key.id, part, i32_, i + 1 == chunks);
            key.cipher
                .open_in_place(
                    nonce(salt, i32_),
                    Aad::from(aad),
                    &mut buf[read_at..read_at + n + TAG],
                )
                .map_err(|_| tampered("a chunk does not open"))?;
            buf.copy_within(read_at..read_at + n, write_at);
            read_at += n + TAG;
            write_at += n;
        }
        buf.truncate(write_at);
        // The part of this batch's plaintext inside the range.
        let batch_start = index * CHUNK as u64;
        // Both within this batch's plaintext, at most `buffer` bytes.
        let lo = usize::try_from(from.saturating_sub(batch_start)).unwrap_or(0);
        let hi = usize::try_from(end - batch_start).map_or(write_at, |hi| hi.min(write_at));
        let piece = buf.freeze().slice(lo..hi);
        if !emit(piece) {
            return Ok(());
        }
        index += batch;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
