use super::*;

/// 65 KiB of 'a': the object of the AWS chunked-upload examples, whose trailer page gives its
/// CRC32C as `sOO8/Q==`.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html>
fn aws_example_object() -> Vec<u8> {
    vec![b'a'; 65 * 1024]
}

/// Known values. Each was computed with a second, unrelated implementation (Python's hashlib
/// and zlib, and bitwise CRCs written from the polynomial), and cross-checked against a
/// published value where one exists: CRC32/CRC32C/CRC64NVME("123456789") are the catalogue
/// check values, `NhCmhg==` is the CRC32 of "hello" in the AWS SDKs' examples.
#[test]
fn known_vectors() {
    let object = aws_example_object();
    let cases: &[(&[u8], Algorithm, &str)] = &[
        (b"", Algorithm::Crc32, "AAAAAA=="),
        (b"", Algorithm::Crc32c, "AAAAAA=="),
        (b"", Algorithm::Crc64Nvme, "AAAAAAAAAAA="),
        (b"", Algorithm::Sha1, "2jmj7l5rSw0yVb/vlWAYkK/YBwk="),
        (
            b"",
            Algorithm::Sha256,
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        ),
        (b"hello world", Algorithm::Crc32, "DUoRhQ=="),
        (b"hello world", Algorithm::Crc32c, "yZRlqg=="),
        (b"hello world", Algorithm::Crc64Nvme, "jSnVw/bqjr4="),
        (
            b"hello world",
            Algorithm::Sha1,
            "Kq5sNclPz7QV2+lfQIuc6R7oRu0=",
        ),
        (
            b"hello world",
            Algorithm::Sha256,
            "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=",
        ),
        (b"123456789", Algorithm::Crc32, "y/Q5Jg=="),
        (b"123456789", Algorithm::Crc32c, "4waSgw=="),
        (b"123456789", Algorithm::Crc64Nvme, "rosUhgp5mIg="),
        (b"hello", Algorithm::Crc32, "NhCmhg=="),
        (&object, Algorithm::Crc32c, "sOO8/Q=="),
        (
            &object,
            Algorithm::Sha256,
            "zWnTiHxq+SZLEA17dgIzEzXZqn4718MM3G1vS/uzyIg=",
        ),
    ];
    for &(input, algorithm, expected) in cases {
        let mut hasher = Hasher::new(algorithm);
        hasher.update(input);
        let got = hasher.finish_base64();
        assert_eq!(got, expected, "{algorithm:?} of {} bytes", input.len());
    }
}

/// The catalogue check values as integers: pins the byte order (big-endian) independently of
/// the base64 table above.
#[test]
fn crc_check_values_are_big_endian() {
    let cases: &[(Algorithm, &[u8], Vec<u8>)] = &[
        (
            Algorithm::Crc32,
            b"123456789",
            0xcbf4_3926u32.to_be_bytes().to_vec(),
        ),
        (
            Algorithm::Crc32c,
            b"123456789",
            0xe306_9283u32.to_be_bytes().to_vec(),
        ),
        (
            Algorithm::Crc64Nvme,
            b"123456789",
            0xae8b_1486_0a79_9888u64.to_be_bytes().to_vec(),
        ),
        // The crc64fast-nvme documentation's own example.
        (
            Algorithm::Crc64Nvme,
            b"hello world!",
            0xd916_0d1f_a8e4_18e3u64.to_be_bytes().to_vec(),
        ),
    ];
    for (algorithm, input, expected) in cases {
        let mut hasher = Hasher::new(*algorithm);
        hasher.update(input);
        assert_eq!(&hasher.finish(), expected, "{algorithm:?}");
    }
}

/// A bit-at-a-time reflected CRC straight from the polynomial: a second method, sharing no
/// code with the table/SIMD crates, for the three CRCs (init and final xor all ones).
fn bitwise_crc(reflected_poly: u64, width: u32, data: &[u8]) -> u64 {
    let mask = if width == 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    };
    let mut crc = mask;
    for &byte in data {
        crc ^= u64::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ reflected_poly
            } else {
                crc >> 1
            };
        }
    }
    crc ^ mask
}

#[test]
fn crcs_agree_with_a_bitwise_implementation() {
    let inputs: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"a".to_vec(),
        b"The quick brown fox jumps over the lazy dog".to_vec(),
        (0..=255u8).cycle().take(10_007).collect(),
    ];
    let crcs = [
        (Algorithm::Crc32, 0xedb8_8320, 32),
        (Algorithm::Crc32c, 0x82f6_3b78, 32),
        (Algorithm::Crc64Nvme, 0x9a6c_9329_ac4b_c9b5, 64),
    ];
    for input in &inputs {
        for (algorithm, poly, width) in crcs {
            let mut hasher = Hasher::new(algorithm);
            hasher.update(input);
            let expected = bitwise_crc(poly, width, input);
            let expected = if width == 32 {
                u32::try_from(expected)
                    .expect("a 32-bit CRC")
                    .to_be_bytes()
                    .to_vec()
            } else {
                expected.to_be_bytes().to_vec()
            };
            assert_eq!(
                hasher.finish(),
                expected,
                "{algorithm:?}, {} bytes",
                input.len()
            );
        }
    }
}

#[test]
fn updates_in_pieces_equal_one_update() {
    let input: Vec<u8> = (0..=255u8).cycle().take(3_001).collect();
    for algorithm in Algorithm::ALL {
        let mut whole = Hasher::new(algorithm);
        whole.update(&input);
        let whole = whole.finish();
        for piece in [1, 3, 64, 1000] {
            let mut pieces = Hasher::new(algorithm);
            for chunk in input.chunks(piece) {
                pieces.update(chunk);
            }
            assert_eq!(
                pieces.finish(),
                whole,
                "{algorithm:?} in {piece}-byte pieces"
            );
        }
        assert_eq!(whole.len(), algorithm.digest_len(), "{algorithm:?}");
    }
}

#[test]
fn body_digests_in_one_pass_equal_separate_hashers() {
    let input = aws_example_object();
    let requested = [
        Algorithm::Sha256,
        Algorithm::Crc32,
        Algorithm::Sha256,
        Algorithm::Crc64Nvme,
    ];
    let mut body = BodyDigests::new(&requested);
    for chunk in input.chunks(4099) {
        body.update(chunk);
    }
    let digests = body.finish();

    assert_eq!(digests.md5, <[u8; 16]>::from(Md5::digest(&input)));
    assert_eq!(digests.etag(), "da0d2e17cd5a8f14633c6b4aebad7e02");
    let order: Vec<Algorithm> = digests.checksums.iter().map(|(a, _)| *a).collect();
    assert_eq!(
        order,
        [Algorithm::Sha256, Algorithm::Crc32, Algorithm::Crc64Nvme],
        "deduplicated, first-requested order"
    );
    for algorithm in Algorithm::ALL {
        let separate = requested.contains(&algorithm).then(|| {
            let mut hasher = Hasher::new(algorithm);
            hasher.update(&input);
            hasher.finish_base64()
        });
        assert_eq!(
            digests.checksum(algorithm),
            separate.as_deref(),
            "{algorithm:?}"
        );
    }
}

#[test]
fn etag_is_lowercase_hex_md5() {
    let mut body = BodyDigests::new(&[]);
    body.update(b"hello ");
    body.update(b"world");
    let digests = body.finish();
    assert_eq!(digests.etag(), "5eb63bbbe01eeed093cb22bb8f5acdc3");
    assert!(digests.checksums.is_empty());
    assert_eq!(digests.checksum(Algorithm::Crc32), None);
    let empty = BodyDigests::new(&[]).finish();
    assert_eq!(empty.etag(), "d41d8cd98f00b204e9800998ecf8427e");
}

#[test]
fn names_and_headers() {
    let table = [
        (Algorithm::Crc32, "CRC32", "x-amz-checksum-crc32"),
        (Algorithm::Crc32c, "CRC32C", "x-amz-checksum-crc32c"),
        (Algorithm::Sha1, "SHA1", "x-amz-checksum-sha1"),
        (Algorithm::Sha256, "SHA256", "x-amz-checksum-sha256"),
        (
            Algorithm::Crc64Nvme,
            "CRC64NVME",
            "x-amz-checksum-crc64nvme",
        ),
    ];
    assert_eq!(table.map(|(a, _, _)| a), Algorithm::ALL);
    for (algorithm, name, header) in table {
        assert_eq!(algorithm.name(), name);
        assert_eq!(algorithm.header(), header);
        assert_eq!(Algorithm::from_name(name), Some(algorithm));
        assert_eq!(Algorithm::from_name(&name.to_lowercase()), Some(algorithm));
        assert_eq!(Algorithm::from_header(header), Some(algorithm));
        assert_eq!(
            Algorithm::from_header(&header.to_uppercase()),
            Some(algorithm)
        );
    }
    for unknown in ["", "MD5", "CRC", "SHA-256", "crc32 ", "x-amz-checksum-md5"] {
        assert_eq!(Algorithm::from_name(unknown), None, "{unknown:?}");
        assert_eq!(Algorithm::from_header(unknown), None, "{unknown:?}");
    }
    assert_eq!(Algorithm::from_header("x-amz-checksum-algorithm"), None);
}

/// Expected values computed independently (Python: md5 of the concatenated binary digests).
#[test]
fn multipart_etag_of_binary_part_md5s() {
    let parts: Vec<[u8; 16]> = [b"part one".as_slice(), b"part two"]
        .iter()
        .map(|p| Md5::digest(p).into())
        .collect();
    assert_eq!(multipart_etag(&parts), "0732917abc3288784e318ac0aab1757a-2");
    // One part: the MD5 of the part's MD5, not the part's MD5 itself.
    let one = [<[u8; 16]>::from(Md5::digest(b"hello world"))];
    let expected = format!("{}-1", hex::encode(Md5::digest(one[0])));
    assert_eq!(multipart_etag(&one), expected);
    assert_ne!(multipart_etag(&one), "5eb63bbbe01eeed093cb22bb8f5acdc3-1");
}

/// Parts "hello" and " world"; expected values computed independently (Python).
#[test]
fn composite_checksums() {
    let cases = [
        (Algorithm::Crc32, ["NhCmhg==", "SjtCyw=="], "otMqCw==-2"),
        (Algorithm::Crc32c, ["mnG7TA==", "pgadfA=="], "6AGPLw==-2"),
        (
            Algorithm::Sha256,
            [
                "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=",
                "BF8T3YZLr6rQ3Zd6yXHeVJsJDLKDbwYdB3mybdm7j0s=",
            ],
            "wpQQjqgKlhF49FQdoVTheIiiSjfvtKR+G5kBEF28Vf0=-2",
        ),
    ];
    for (algorithm, parts, expected) in cases {
        assert_eq!(
            composite_checksum(algorithm, &parts).as_deref(),
            Some(expected),
            "{algorithm:?}"
        );
    }
}

#[test]
fn composite_checksum_refuses_invalid_parts() {
    let refused: &[(Algorithm, &[&str])] = &[
        (Algorithm::Crc32, &["NhCmhg==", "not base64!"]),
        (Algorithm::Crc32, &["NhCmhg"]),
        // Valid base64, wrong length for the algorithm (a SHA1 value as a CRC32).
        (Algorithm::Crc32, &["2jmj7l5rSw0yVb/vlWAYkK/YBwk="]),
        (Algorithm::Sha256, &["NhCmhg=="]),
    ];
    for (algorithm, parts) in refused {
        assert_eq!(composite_checksum(*algorithm, parts), None, "{parts:?}");
    }
}

#[test]
fn parse_checksum_accepts_only_canonical_values_of_the_right_length() {
    assert_eq!(
        parse_checksum(Algorithm::Crc32, "NhCmhg=="),
        Some(vec![0x36, 0x10, 0xa6, 0x86])
    );
    for bad in [
        "",
        "NhCmhg",
        "NhCmhh==",
        "NhCmhg==NhCmhg==",
        "AAAAAAAAAAA=",
        "NhC mhg==",
    ] {
        assert_eq!(parse_checksum(Algorithm::Crc32, bad), None, "{bad:?}");
    }
}

#[test]
fn content_md5() {
    assert_eq!(
        parse_content_md5("XrY7u+Ae7tCTyyK7j1rNww==").map(hex::encode),
        Some("5eb63bbbe01eeed093cb22bb8f5acdc3".to_owned())
    );
    assert_eq!(
        parse_content_md5("1B2M2Y8AsgTpgAmY7PhCfg=="),
        Some(<[u8; 16]>::from(Md5::digest(b"")))
    );
    let malformed = [
        "",
        "5eb63bbbe01eeed093cb22bb8f5acdc3",
        "XrY7u+Ae7tCTyyK7j1rN",
        "XrY7u+Ae7tCTyyK7j1rNww",
        "XrY7u+Ae7tCTyyK7j1rNwx==",
        "2jmj7l5rSw0yVb/vlWAYkK/YBwk=",
        "XrY7u+Ae7tCTyyK7j1rNww==XrY7",
    ];
    for value in malformed {
        assert_eq!(parse_content_md5(value), None, "{value:?}");
    }
}

/// The CRC of `data` under `a`, as an integer.
fn crc_of(a: Algorithm, data: &[u8]) -> u64 {
    let mut hasher = Hasher::new(a);
    hasher.update(data);
    let raw = hasher.finish();
    let mut be = [0u8; 8];
    be[8 - raw.len()..].copy_from_slice(&raw);
    u64::from_be_bytes(be)
}

/// Bytes that are not all alike, so a wrong shift cannot pass by symmetry.
fn varied(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect()
}

/// For each CRC, combining the CRCs of two pieces equals the CRC of their concatenation, at
/// split points from empty to everything (lengths crossing every byte and bit boundary of the
/// shift table's first entries), and for a 5 MiB second piece.
#[test]
fn crc_combine_equals_the_crc_of_the_concatenation() {
    let data = varied(70_000, 1);
    for a in [Algorithm::Crc32, Algorithm::Crc32c, Algorithm::Crc64Nvme] {
        let whole = crc_of(a, &data);
        for split in [0, 1, 2, 3, 7, 8, 9, 255, 256, 4096, 65_535, 69_999, 70_000] {
            let (head, tail) = data.split_at(split);
            let combined = crc_combine(a, crc_of(a, head), crc_of(a, tail), tail.len() as u64);
            assert_eq!(combined, Some(whole), "{a:?} split at {split}");
        }
        let big = varied(5 * 1024 * 1024 + 3, 2);
        let joined: Vec<u8> = data.iter().chain(&big).copied().collect();
        let combined = crc_combine(a, crc_of(a, &data), crc_of(a, &big), big.len() as u64);
        assert_eq!(combined, Some(crc_of(a, &joined)), "{a:?} with 5 MiB");
    }
    for a in [Algorithm::Sha1, Algorithm::Sha256] {
        assert_eq!(crc_combine(a, 1, 2, 3), None, "{a:?} does not combine");
    }
}

/// A whole object's CRC from its parts' CRCs and lengths, as S3's FULL_OBJECT multipart
/// checksum: equal to hashing the object, for one part, many parts, and empty parts.
#[test]
fn full_object_checksums_combine_the_parts() {
    // Repeated sizes reuse one shift; each change of size computes its own.
    let sizes = [
        5 * 1024 * 1024,
        5 * 1024 * 1024,
        1,
        0,
        0,
        123_457,
        5 * 1024 * 1024 + 11,
        9,
    ];
    let parts: Vec<Vec<u8>> = (0u64..)
        .zip(sizes)
        .map(|(seed, len)| varied(len, seed + 10))
        .collect();
    let object: Vec<u8> = parts.concat();
    for a in [Algorithm::Crc32, Algorithm::Crc32c, Algorithm::Crc64Nvme] {
        let values: Vec<(String, u64)> = parts
            .iter()
            .map(|p| {
                let mut h = Hasher::new(a);
                h.update(p);
                (h.finish_base64(), p.len() as u64)
            })
            .collect();
        let listed: Vec<(&str, u64)> = values.iter().map(|(v, n)| (v.as_str(), *n)).collect();
        let mut whole = Hasher::new(a);
        whole.update(&object);
        let want = whole.finish_base64();
        assert_eq!(
            full_object_checksum(a, &listed),
            Some(want.clone()),
            "{a:?}"
        );
        assert_eq!(
            full_object_checksum(a, &listed[..1]),
            Some(values[0].0.clone()),
            "{a:?}: one part is its own checksum"
        );
        // A value that is not a checksum of `a` (wrong length, not base64) combines to nothing.
        let mut bad = listed.clone();
        bad[1].0 = "AAAA";
        assert_eq!(full_object_checksum(a, &bad), None, "{a:?}");
        assert_eq!(full_object_checksum(a, &[]), None, "{a:?}: no parts");
    }
    // CRC32 of "hello world" from "hello " and "world".
    let (hello, world) = (b"hello ".as_slice(), b"world".as_slice());
    let value = |d: &[u8]| {
        let mut h = Hasher::new(Algorithm::Crc32);
        h.update(d);
        h.finish_base64()
    };
    let (a, b) = (value(hello), value(world));
    assert_eq!(
        full_object_checksum(Algorithm::Crc32, &[(&a, 6), (&b, 5)]).as_deref(),
        Some("DUoRhQ==")
    );
    assert_eq!(full_object_checksum(Algorithm::Sha256, &[(&a, 6)]), None);
}

#[test]
fn checksum_types_and_which_algorithms_allow_them() {
    use ChecksumType::{Composite, FullObject};
    assert_eq!(ChecksumType::from_name("COMPOSITE"), Some(Composite));
    assert_eq!(ChecksumType::from_name("FULL_OBJECT"), Some(FullObject));
    assert_eq!(ChecksumType::from_name("full_object"), None);
    assert_eq!(ChecksumType::from_name(""), None);
    let table = [
        (Algorithm::Crc32, true, true, Composite),
        (Algorithm::Crc32c, true, true, Composite),
        (Algorithm::Sha1, true, false, Composite),
        (Algorithm::Sha256, true, false, Composite),
        (Algorithm::Crc64Nvme, false, true, FullObject),
    ];
    for (a, composite, full, default) in table {
        assert_eq!(a.supports(Composite), composite, "{a:?}");
        assert_eq!(a.supports(FullObject), full, "{a:?}");
        assert_eq!(a.default_multipart_type(), default, "{a:?}");
        assert_eq!(a.lowercase(), a.name().to_lowercase());
    }
}
