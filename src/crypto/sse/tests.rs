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

#[test]
fn a_one_mib_range_of_a_large_segment_reads_at_most_one_mib_and_two_chunks() {
    let (_dir, master) = master();
    let (_, key) = Record::generate(&master, "b", "k");
    let size = 16 << 20;
    let stored = Sealer::seal_all(&key, 0, &pattern(size));
    let mut file = Counting {
        inner: Cursor::new(stored),
        read: 0,
    };
    let from = (7 << 20) + 12_345;
    read_range(
        &mut file,
        &key,
        0,
        size as u64,
        from,
        1 << 20,
        1 << 20,
        |_| true,
    )
    .unwrap();
    assert!(file.read <= (1 << 20) + 2 * (CHUNK + TAG) as u64 + 17 * TAG as u64 + SALT as u64);
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
