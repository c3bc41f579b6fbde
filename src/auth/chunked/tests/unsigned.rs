//! `STREAMING-UNSIGNED-PAYLOAD-TRAILER`, and the framing errors every mode shares.

use std::fmt::Write as _;

use super::*;

/// (lowercase name, value) pairs from `name:value` strings.
fn pairs(trailers: &[&str]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for trailer in trailers {
        let (name, value) = trailer.split_once(':').unwrap();
        out.push((name.to_owned(), value.to_owned()));
    }
    out
}

/// A body, the data it decodes to and its trailers as `name:value`.
type UnsignedCase<'a> = (&'a str, &'a str, &'a [&'a str]);

/// As the AWS SDKs send it (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`), and the variations other
/// clients produce.
#[test]
fn unsigned_trailer_bodies() {
    assert_eq!(crc_base64(crc32fast::hash(b"hello")), "NhCmhg==");
    let crc: &[&str] = &["x-amz-checksum-crc32:NhCmhg=="];
    let cases: &[UnsignedCase] = &[
        (
            "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n",
            "hello",
            crc,
        ),
        (
            "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n",
            "hello",
            crc,
        ),
        (
            "2\r\nhe\r\n3\r\nllo\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n",
            "hello",
            crc,
        ),
        (
            "5;ext=1;flag\r\nhello\r\n0;x=y\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n",
            "hello",
            crc,
        ),
        (
            "5 \r\nhello\r\n0\r\nX-Amz-Checksum-Crc32:  NhCmhg==\t\r\n\r\n",
            "hello",
            crc,
        ),
        ("A\r\nhellohello\r\n00\r\n\r\n", "hellohello", &[]),
        ("a\r\nhellohello\r\n0\r\n\r\n", "hellohello", &[]),
        ("0000a\r\nhellohello\r\n0\r\n", "hellohello", &[]),
        ("0\r\n\r\n", "", &[]),
        ("0\r\n", "", &[]),
        (
            "5\r\nhello\r\n0\r\nx-amz-meta-a:b:c\r\nX:1\r\n\r\n",
            "hello",
            &["x-amz-meta-a:b:c", "x:1"],
        ),
    ];
    for &(body, data, trailers) in cases {
        let (got, got_trailers) = run_all(unsigned_decoder, body.as_bytes()).ok();
        assert_eq!(got, data.as_bytes(), "{body:?}");
        assert_eq!(got_trailers, pairs(trailers), "{body:?}");
    }
}

fn unsigned_outcome(body: &str, decoded_length: Option<u64>) -> Result<(), ChunkedError> {
    let new = || Decoder::new(Mode::UnsignedWithTrailer, None, decoded_length);
    run_all(new, body.as_bytes()).result.map(|_| ())
}

#[test]
fn malformed_bodies() {
    const NOT_HEX: &str = "chunk size is not a hexadecimal number";
    const NO_CRLF: &str = "chunk data is not followed by CRLF (longer than its size?)";
    let long_line = format!("5;{}\r\nhello\r\n0\r\n\r\n", "x".repeat(5000));
    let cases = [
        ("zz\r\nhello\r\n0\r\n\r\n", NOT_HEX),
        ("+5\r\nhello\r\n0\r\n\r\n", NOT_HEX),
        ("-1\r\n", NOT_HEX),
        ("\r\nhello\r\n", NOT_HEX),
        (";x=y\r\nhello\r\n", NOT_HEX),
        ("5 5\r\nhello\r\n", NOT_HEX),
        ("11111111111111111\r\n", NOT_HEX),
        ("4000001\r\n", "chunk size over 64 MiB"),
        ("5\r\nhello world\r\n0\r\n\r\n", NO_CRLF),
        ("5\r\nhelloXY0\r\n\r\n", NO_CRLF),
        ("5\r\nhello\n0\r\n\r\n", NO_CRLF),
        ("5\nhello\r\n0\r\n\r\n", "line not terminated by CRLF"),
        (&long_line, "chunk-size line longer than 4 KiB"),
    ];
    for (body, message) in cases {
        let shown = &body[..body.len().min(60)];
        assert_eq!(
            unsigned_outcome(body, None),
            Err(malformed(message)),
            "{shown:?}"
        );
    }
}

/// Everything after the final chunk: the trailer block and what may follow it.
#[test]
fn malformed_trailers() {
    const AFTER_END: &str = "data after the end of the body";
    const TWICE: &str = "a trailer is sent more than once";
    let cases = [
        (
            "5\r\nhello\r\n0\r\nx-amz-checksum-crc32\r\n\r\n",
            "trailer line is not name:value",
        ),
        (
            "5\r\nhello\r\n0\r\n:NhCmhg==\r\n\r\n",
            "trailer name is not a header name",
        ),
        (
            "5\r\nhello\r\n0\r\nx amz:1\r\n\r\n",
            "trailer name is not a header name",
        ),
        (
            "5\r\nhello\r\n0\r\nx:a\u{1}b\r\n\r\n",
            "trailer value has control characters",
        ),
        ("5\r\nhello\r\n0\r\n\r\njunk", AFTER_END),
        ("5\r\nhello\r\n0\r\n\r\n\r\n", AFTER_END),
        ("0\r\n\r\n0\r\n\r\n", AFTER_END),
        // A good checksum, then a bad one: neither copy may win.
        (
            "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n",
            TWICE,
        ),
        // Names are compared as header names: regardless of case.
        (
            "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\nX-Amz-Checksum-CRC32:NhCmhg==\r\n",
            TWICE,
        ),
    ];
    for (body, message) in cases {
        let shown = &body[..body.len().min(60)];
        assert_eq!(
            unsigned_outcome(body, None),
            Err(malformed_trailer(message)),
            "{shown:?}"
        );
    }
}

#[test]
fn truncated_bodies() {
    let cases = [
        "",
        "5\r\nhel",
        "5\r\nhello",
        "5\r\nhello\r",
        "5\r\nhello\r\n",
        "5\r\nhello\r\n0",
        "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhC",
        "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r",
    ];
    for body in cases {
        assert_eq!(
            unsigned_outcome(body, None),
            Err(ChunkedError::Truncated),
            "{body:?}"
        );
    }
}

#[test]
fn decoded_length_is_enforced() {
    let cases = [
        // Refused at the chunk-size line, before any of the chunk is handed out.
        ("5\r\nhello\r\n0\r\n\r\n", 4, 5),
        ("3\r\nhel\r\n3\r\nlo!\r\n0\r\n\r\n", 5, 6),
        // Refused at the end.
        ("5\r\nhello\r\n0\r\n\r\n", 6, 5),
        ("5\r\nhello\r\n0\r\n", 6, 5),
    ];
    for (body, expected, got) in cases {
        let mismatch = ChunkedError::LengthMismatch { expected, got };
        assert_eq!(
            unsigned_outcome(body, Some(expected)),
            Err(mismatch),
            "{body:?}"
        );
    }
    assert_eq!(unsigned_outcome("5\r\nhello\r\n0\r\n\r\n", Some(5)), Ok(()));
    let early = run(
        unsigned_with_length(5),
        b"3\r\nhel\r\n3\r\nlo!\r\n",
        usize::MAX,
    );
    assert_eq!(
        early.data, b"hel",
        "nothing of the overshooting chunk comes out"
    );
}

fn unsigned_with_length(decoded_length: u64) -> Decoder {
    Decoder::new(Mode::UnsignedWithTrailer, None, Some(decoded_length))
}

#[test]
fn trailer_block_is_bounded() {
    // Lines of 1015 bytes, each under its own name (a name may come only once).
    let lines = |n: u8| -> String {
        let mut lines = String::new();
        for c in b'a'..b'a' + n {
            let _ = write!(
                lines,
                "x-amz-meta-{}:{}\r\n",
                char::from(c),
                "v".repeat(1000)
            );
        }
        lines
    };
    let many_lines = format!("0\r\n{}\r\n", lines(17));
    let endless_line = format!("0\r\nx-amz-meta-a:{}", "v".repeat(MAX_TRAILER_BLOCK));
    for body in [many_lines, endless_line] {
        assert_eq!(unsigned_outcome(&body, None), Err(ChunkedError::TooLarge));
    }
    let just_fits = format!("0\r\n{}\r\n", lines(16));
    assert_eq!(unsigned_outcome(&just_fits, None), Ok(()));
}
