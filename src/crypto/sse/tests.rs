use std::io::{Cursor, Read, Seek, SeekFrom};

use super::*;

fn master() -> (tempfile::TempDir, MasterKey) {
    let dir = tempfile::tempdir().unwrap();
    let key = MasterKey::create(dir.path()).unwrap();
    (dir, key)
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| u8::try_from(i * 7 % 251).unwrap())
        .collect()
}

/// Reads like a file, counting the bytes taken from it.
struct Counting {
    inner: Cursor<Vec<u8>>,
    read: u64,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

impl Seek for Counting {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

fn read_all(
    stored: &[u8],
    key: &DataKey,
    part: u32,
    size: u64,
    from: u64,
    take: u64,
) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    read_range(
        &mut Cursor::new(stored),
        key,
        part,
        size,
        from,
        take,
        256 * 1024,
        |b| {
            out.extend_from_slice(&b);
            true
        },
    )?;
    Ok(out)
}

#[test]
fn a_segment_round_trips_at_every_size_and_split() {
    let (_dir, master) = master();
    let (_, key) = Record::generate(&master, "b", "k");
    for size in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17] {
        let data = pattern(size);
        // Pushed in uneven pieces: the same stored bytes' shape as pushed whole.
        let mut sealer = Sealer::new(&key, 3);
        let mut stored = Vec::new();
        for piece in data.chunks(10_000) {
            sealer.push(piece, &mut stored);
        }
        sealer.finish(&mut stored);
        assert_eq!(stored.len() as u64, stored_len(size as u64), "{size}");
        assert_eq!(
            read_all(&stored, &key, 3, size as u64, 0, size as u64).unwrap(),
            data
        );
        let whole = Sealer::seal_all(&key, 3, &data);
        assert_eq!(whole.len(), stored.len());
        // No plaintext run in the stored bytes.
        if size >= 64 {
            assert!(!stored.windows(64).any(|w| w == &data[..64]));
        }
    }
}

#[test]
fn ranges_decrypt_only_the_chunks_they_touch() {
    let (_dir, master) = master();
    let (_, key) = Record::generate(&master, "b", "k");
    let size = 40 * CHUNK + 5;
    let data = pattern(size);
    let stored = Sealer::seal_all(&key, 0, &data);
    for (from, take) in [
        (0, 1),
        (CHUNK - 1, 2),
        (5 * CHUNK + 3, 16 * CHUNK),
        (size - 1, 1),
        (0, size),
    ] {
        let mut file = Counting {
            inner: Cursor::new(stored.clone()),
            read: 0,
        };
        let mut out = Vec::new();
        read_range(
            &mut file,
            &key,
            0,
            size as u64,
            from as u64,
            take as u64,
            1 << 20,
            |b| {
                out.extend_from_slice(&b);
                true
            },
        )
        .unwrap();
        assert_eq!(out, &data[from..from + take], "{from}+{take}");
        // The bytes asked for, at most one more chunk at each end, their tags and the salt.
        let bound = take + 2 * CHUNK + (take / CHUNK + 3) * TAG + SALT;
        assert!(
            file.read <= bound as u64,
            "{from}+{take}: read {} > {bound}",
            file.read
        );
    }
}

/// A 1 GiB encrypted segment that exists only as it is read: each chunk is sealed when a read
/// reaches it (the same format `Sealer` writes, with a fixed salt), so that a test can count
/// the bytes a range takes from a segment of the size without writing one.
struct Virtual {
    key: Arc<DataKey>,
    size: u64,
    salt: [u8; SALT],
    pos: u64,
    read: u64,
    /// The last chunk sealed: its index and stored bytes.
    cached: Option<(u64, Vec<u8>)>,
}

impl Virtual {
    fn chunk(&mut self, index: u64) -> &[u8] {
        if self.cached.as_ref().is_none_or(|(i, _)| *i != index) {
            let start = index * CHUNK as u64;
            let len = usize::try_from((self.size - start).min(CHUNK as u64)).unwrap();
            let mut bytes: Vec<u8> = (0..len)
                .map(|i| u8::try_from((start + i as u64) % 251).unwrap())
                .collect();
            let i = u32::try_from(index).unwrap();
            let last = index + 1 == chunk_count(self.size);
            let aad = chunk_aad(&self.key.id, 0, i, last);
            let tag = self
                .key
                .cipher
                .seal_in_place_separate_tag(nonce(self.salt, i), Aad::from(aad), &mut bytes)
                .unwrap();
            bytes.extend_from_slice(tag.as_ref());
            self.cached = Some((index, bytes));
        }
        &self.cached.as_ref().unwrap().1
    }
}

impl Read for Virtual {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let total = stored_len(self.size);
        if self.pos >= total || buf.is_empty() {
            return Ok(0);
        }
        let n = if self.pos < SALT as u64 {
            let at = usize::try_from(self.pos).unwrap();
            let n = (SALT - at).min(buf.len());
            buf[..n].copy_from_slice(&self.salt[at..at + n]);
            n
        } else {
            let offset = self.pos - SALT as u64;
            let index = offset / STORED_CHUNK as u64;
            let within = usize::try_from(offset % STORED_CHUNK as u64).unwrap();
            let chunk = self.chunk(index);
            let n = (chunk.len() - within).min(buf.len());
            buf[..n].copy_from_slice(&chunk[within..within + n]);
            n
        };
        self.pos += n as u64;
        self.read += n as u64;
        Ok(n)
    }
}

impl Seek for Virtual {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.pos = match pos {
            SeekFrom::Start(at) => at,
            SeekFrom::End(back) => stored_len(self.size).saturating_add_signed(back),
            SeekFrom::Current(by) => self.pos.saturating_add_signed(by),
        };
        Ok(self.pos)
    }
}

#[test]
fn a_one_mib_range_of_a_one_gib_object_reads_at_most_one_mib_and_two_chunks() {
    let (_dir, master) = master();
    let (_, key) = Record::generate(&master, "b", "k");
    let size: u64 = 1 << 30;
    let mut file = Virtual {
        key: Arc::clone(&key),
        size,
        salt: [7; SALT],
        pos: 0,
        read: 0,
        cached: None,
    };
    let from: u64 = (700 << 20) + 12_345;
    let mut got = Vec::new();
    read_range(&mut file, &key, 0, size, from, 1 << 20, 1 << 20, |b| {
        got.extend_from_slice(&b);
        true
    })
    .unwrap();
    // The plaintext is the range asked for...
    assert_eq!(got.len(), 1 << 20);
    assert!(got
        .iter()
        .enumerate()
        .all(|(i, b)| u64::from(*b) == (from + i as u64) % 251));
    // ...and what was read of the stored segment is the salt, then the range's chunks with
    // their tags: at most 1 MiB and two chunks (17 chunks of 64 KiB cover 1 MiB at any offset).
    let bound = (1 << 20) + 2 * (CHUNK + TAG) as u64 + 17 * TAG as u64 + SALT as u64;
    assert!(file.read <= bound, "{} > {bound}", file.read);
    // The whole segment was not: the reader stands for a 1 GiB object.
    assert!(stored_len(size) > 1 << 30);
}

#[test]
fn customer_keys_open_only_their_own_rows() {
    let customer = CustomerKey::new([5; 32]);
    let other = CustomerKey::new([6; 32]);
    let (record, key) = Record::generate_customer(&customer, "b", "k");
    assert!(record.is_customer());
    let data = pattern(CHUNK * 2 + 3);
    let stored = Sealer::seal_all(&key, 0, &data);
    // Stored and read back, the record recognises the key and derives the same data key.
    let record = Record::from_bytes(&record.to_bytes()).unwrap();
    let opened = record.open_customer(&customer, "b", "k").unwrap();
    let size = data.len() as u64;
    assert_eq!(read_all(&stored, &opened, 0, size, 0, size).unwrap(), data);
    // Another key, another row: not recognised.
    assert!(record.open_customer(&other, "b", "k").is_none());
    assert!(record.open_customer(&customer, "b", "k2").is_none());
    // Two objects under one customer key have different data keys: a segment of one does
    // not open with the other's.
    let (_, second) = Record::generate_customer(&customer, "b", "k");
    fails(read_all(&stored, &second, 0, size, 0, size));
    // The record holds neither the key nor the data key: 2 + 16 + 32 bytes, none of them the
    // key's.
    let bytes = record.to_bytes();
    assert_eq!(bytes.len(), 2 + ID + 32);
    assert!(!bytes.windows(8).any(|w| w == [5; 8]));
    // No master key is involved: the SSE-S3 paths refuse it, rotation leaves it alone.
    let (_dir, master) = master();
    assert!(record.open(&master, "b", "k").is_err());
    let (_dir2, next) = self::master();
    assert!(record
        .resealed((&master, &next), "b", "k")
        .unwrap()
        .is_none());
    // An SSE-S3 record is not opened by a customer's key.
    let (s3_record, _) = Record::generate(&master, "b", "k");
    assert!(s3_record.open_customer(&customer, "b", "k").is_none());
    assert_eq!(
        format!("{record:?} {customer:?}"),
        "Record(SSE-C) CustomerKey(..)"
    );
}

#[test]
fn customer_etags_are_not_the_md5_of_the_plaintext() {
    let customer = CustomerKey::new([5; 32]);
    let (record, key) = Record::generate_customer(&customer, "b", "k");
    let md5 = "9b2cf535f27731c974343645a3985328".to_owned();
    let etag = key.etag(md5.clone());
    assert_eq!(etag.len(), 32);
    assert_ne!(etag, md5);
    // The same for the same object and plaintext, whoever opens it...
    let again = record.open_customer(&customer, "b", "k").unwrap();
    assert_eq!(again.etag(md5.clone()), etag);
    // ...and another object's differs; SSE-S3 keeps the MD5, as S3 shows it.
    let (_, other) = Record::generate_customer(&customer, "b", "k");
    assert_ne!(other.etag(md5.clone()), etag);
    let (_dir, master) = master();
    let (_, s3) = Record::generate(&master, "b", "k");
    assert_eq!(s3.etag(md5.clone()), md5);
}

fn fails(result: io::Result<Vec<u8>>) {
    let e = result.expect_err("tampering must be detected");
    assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}");
}

#[test]
fn a_flipped_byte_anywhere_is_detected_and_other_chunks_still_read() {
    let (_dir, master) = master();
    let (_, key) = Record::generate(&master, "b", "k");
    let size = 3 * CHUNK;
    let data = pattern(size);
    let stored = Sealer::seal_all(&key, 0, &data);
    for at in [
        0,
        SALT,
        SALT + 100,
        SALT + CHUNK + TAG - 1,
        stored.len() - 1,
    ] {
        let mut bad = stored.clone();
        bad[at] ^= 1;
        fails(read_all(&bad, &key, 0, size as u64, 0, size as u64));
    }
    // A flip in chunk 1 leaves chunk 2 readable.
    let mut bad = stored.clone();
    bad[SALT + STORED_CHUNK + 10] ^= 0x80;
    assert_eq!(
        read_all(&bad, &key, 0, size as u64, 2 * CHUNK as u64, CHUNK as u64).unwrap(),
        &data[2 * CHUNK..]
    );
}

#[test]
fn reordered_truncated_and_extended_segments_are_detected() {
    let (_dir, master) = master();
    let (_, key) = Record::generate(&master, "b", "k");
    let size = 3 * CHUNK;
    let stored = Sealer::seal_all(&key, 0, &pattern(size));
    let chunk = |i: usize| &stored[SALT + i * STORED_CHUNK..SALT + (i + 1) * STORED_CHUNK];
    // Chunks 0 and 1 swapped.
    let mut swapped = stored[..SALT].to_vec();
    for i in [1, 0, 2] {
        swapped.extend_from_slice(chunk(i));
    }
    fails(read_all(&swapped, &key, 0, size as u64, 0, size as u64));
    // Truncated to two chunks, read as a two-chunk object: chunk 1 was not sealed as last.
    let truncated = &stored[..SALT + 2 * STORED_CHUNK];
    fails(read_all(
        truncated,
        &key,
        0,
        2 * CHUNK as u64,
        0,
        2 * CHUNK as u64,
    ));
    // Truncated, read with the row's size: the length no longer matches.
    fails(read_all(truncated, &key, 0, size as u64, 0, CHUNK as u64));
    // Extended by a byte, or by a copy of the last chunk.
    let mut longer = stored.clone();
    longer.push(0);
    fails(read_all(&longer, &key, 0, size as u64, 0, CHUNK as u64));
    let mut extended = stored.clone();
    extended.extend_from_slice(chunk(2));
    fails(read_all(
        &extended,
        &key,
        0,
        4 * CHUNK as u64,
        0,
        4 * CHUNK as u64,
    ));
}

#[test]
fn segments_do_not_open_under_another_object_or_part() {
    let (_dir, master) = master();
    let (record_a, a) = Record::generate(&master, "b", "k");
    let (_, b) = Record::generate(&master, "b", "k");
    let data = pattern(1000);
    let stored = Sealer::seal_all(&a, 1, &data);
    // Another object's key.
    fails(read_all(&stored, &b, 1, 1000, 0, 1000));
    // Another part of the same object.
    fails(read_all(&stored, &a, 2, 1000, 0, 1000));
    assert_eq!(read_all(&stored, &a, 1, 1000, 0, 1000).unwrap(), data);
    // The record opens only for its own row.
    let stored_record = Record::from_bytes(&record_a.to_bytes()).unwrap();
    assert!(stored_record.open(&master, "b", "k").is_ok());
    assert!(stored_record.open(&master, "b", "k2").is_err());
    assert!(stored_record.open(&master, "b2", "k").is_err());
    let mut moved = record_a.to_bytes();
    moved[5] ^= 1; // another encryption id
    assert!(Record::from_bytes(&moved)
        .unwrap()
        .open(&master, "b", "k")
        .is_err());
    assert!(Record::from_bytes(&[2, 1]).is_none());
    assert!(Record::from_bytes(&[1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_none());
}

#[test]
fn chunks_are_standard_aes_256_gcm() {
    // The chunk cipher (ring) against the crate that seals data keys (aes-gcm): the same key,
    // nonce and associated data open the same bytes, so the format is AES-256-GCM whichever
    // library reads it.
    use aes_gcm::aead::{Aead, Payload};
    let key_bytes = [9u8; 32];
    let id = [3u8; ID];
    let key = Arc::new(DataKey::new(&key_bytes, id).unwrap());
    let data = pattern(CHUNK + 10);
    let stored = Sealer::seal_all(&key, 5, &data);
    let salt: [u8; SALT] = stored[..SALT].try_into().unwrap();
    let other = Aes256Gcm::new(&key_bytes.into());
    let mut opened = Vec::new();
    for (i, chunk) in stored[SALT..].chunks(STORED_CHUNK).enumerate() {
        let index = u32::try_from(i).unwrap();
        let mut n = [0u8; 12];
        n[..SALT].copy_from_slice(&salt);
        n[SALT..].copy_from_slice(&index.to_be_bytes());
        let aad = chunk_aad(&id, 5, index, i == 1);
        let plain = other
            .decrypt(
                (&n).into(),
                Payload {
                    msg: chunk,
                    aad: &aad,
                },
            )
            .unwrap();
        opened.extend_from_slice(&plain);
    }
    assert_eq!(opened, data);
}
