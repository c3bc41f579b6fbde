//! The signed modes: the AWS examples, an independent client, tampering.

use std::fmt::Write as _;

use super::*;

#[test]
fn aws_streaming_example_decodes_in_any_split() {
    for decoded_length in [None, Some(OBJECT_LEN as u64)] {
        // The closing CRLF after the empty chunk is optional.
        for tail in ["\r\n", ""] {
            let body = example_body(STREAMING_CHUNKS, tail);
            let new = || {
                Decoder::new(
                    Mode::SignedChunks,
                    Some(signing(STREAMING_SEED)),
                    decoded_length,
                )
            };
            let (data, trailers) = run_all(new, &body).ok();
            assert_eq!(data, vec![b'a'; OBJECT_LEN], "tail {tail:?}");
            assert!(trailers.is_empty());
        }
    }
}

#[test]
fn aws_trailer_example_decodes_in_any_split() {
    for tail in ["\r\n", ""] {
        let body = example_body(TRAILER_CHUNKS, &format!("{TRAILER_EXAMPLE_TAIL}{tail}"));
        let new = || {
            Decoder::new(
                Mode::SignedChunksWithTrailer,
                Some(signing(TRAILER_SEED)),
                Some(OBJECT_LEN as u64),
            )
        };
        let (data, trailers) = run_all(new, &body).ok();
        assert_eq!(data, vec![b'a'; OBJECT_LEN]);
        let expected = vec![("x-amz-checksum-crc32c".to_owned(), "sOO8/Q==".to_owned())];
        assert_eq!(trailers, expected);
        // The trailer is the CRC32C of what came out.
        assert_eq!(crc_base64(crc32c::crc32c(&data)), "sOO8/Q==");
    }
}

/// Where the line after the first line starting with `prefix` begins.
fn line_after(body: &[u8], prefix: &str) -> usize {
    let start = body
        .windows(prefix.len())
        .position(|w| w == prefix.as_bytes())
        .expect("prefix in body");
    start + body[start..].iter().position(|&b| b == b'\n').unwrap() + 1
}

/// Changes the byte at `at` into another one of its kind, so that a signature stays hex.
fn flip(body: &[u8], at: usize) -> Vec<u8> {
    let mut body = body.to_vec();
    body[at] = if body[at] == b'0' { b'1' } else { b'0' };
    body
}

#[test]
fn tampering_with_the_streaming_example_is_refused() {
    let good = example_body(STREAMING_CHUNKS, "\r\n");
    let first = line_after(&good, "10000;");
    let second = line_after(&good, "400;");
    let last_header = second + 1024 + 2;
    assert_eq!(&good[last_header..last_header + 2], b"0;");
    let (s, first_chunk) = (STREAMING_SEED, 64 * 1024);
    // (what, seed, body, the most data that may come out before the refusal)
    let cases = [
        (
            "a byte of the middle chunk",
            s,
            flip(&good, second + 500),
            OBJECT_LEN,
        ),
        (
            "a byte of the first chunk",
            s,
            flip(&good, first + 7),
            first_chunk,
        ),
        ("the wrong seed", TRAILER_SEED, good.clone(), first_chunk),
        (
            "the final chunk's signature",
            s,
            flip(&good, last_header + 20),
            OBJECT_LEN,
        ),
        (
            "the first chunk's signature",
            s,
            flip(&good, 30),
            first_chunk,
        ),
    ];
    for (what, seed, body, at_most) in cases {
        let new = || Decoder::new(Mode::SignedChunks, Some(signing(seed)), None);
        let outcome = run_all(new, &body);
        let result = outcome.result;
        assert_eq!(result, Err(ChunkedError::SignatureMismatch), "{what}");
        assert!(
            outcome.data.len() <= at_most,
            "{what}: {} bytes out",
            outcome.data.len()
        );
    }
}

/// A client for the signed modes, written from the sigv4-streaming pages and sharing no code
/// with the decoder beyond `hmac_sha256`.
struct Client {
    previous: String,
}

impl Client {
    const SEED: &'static str = "3b5c7e2a1f0d9c8b7a69584736251403f2e1d0c9b8a7968574635241302f1e0d";

    fn new() -> Client {
        Client {
            previous: Client::SEED.to_owned(),
        }
    }

    fn sign(&mut self, lines: [&str; 5]) -> String {
        let signature = hmac_sha256(&key(), lines.join("\n").as_bytes());
        self.previous = hex::encode(signature);
        self.previous.clone()
    }

    /// A whole data chunk, or the header line alone for the empty chunk.
    fn chunk(&mut self, data: &[u8]) -> Vec<u8> {
        let hashes = format!("{}\n{}", sha256_hex(b""), sha256_hex(data));
        let previous = self.previous.clone();
        let signature = self.sign([
            "AWS4-HMAC-SHA256-PAYLOAD",
            AMZ_DATE,
            SCOPE,
            &previous,
            &hashes,
        ]);
        let mut out = format!("{:x};chunk-signature={signature}\r\n", data.len()).into_bytes();
        if !data.is_empty() {
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    /// The trailer signature over `signed`, sorted, `name:value\n` each.
    fn trailer_signature(&mut self, signed: &[(&str, &str)]) -> String {
        let mut sorted = signed.to_vec();
        sorted.sort_unstable();
        let mut canonical = String::new();
        for (name, value) in sorted {
            let _ = writeln!(canonical, "{name}:{value}");
        }
        let previous = self.previous.clone();
        let hash = sha256_hex(canonical.as_bytes());
        self.sign([
            "AWS4-HMAC-SHA256-TRAILER",
            AMZ_DATE,
            SCOPE,
            &previous,
            &hash,
        ])
    }
}

/// "hello world" in two signed chunks, the empty chunk, then `tail(client)`'s trailer block.
fn trailer_body(tail: &dyn Fn(&mut Client) -> String) -> Vec<u8> {
    let mut client = Client::new();
    let mut body = client.chunk(b"hello ");
    body.extend(client.chunk(b"world"));
    body.extend(client.chunk(b""));
    body.extend(tail(&mut client).bytes());
    body
}

fn trailer_decoder() -> Decoder {
    Decoder::new(
        Mode::SignedChunksWithTrailer,
        Some(signing(Client::SEED)),
        Some(11),
    )
}

/// Writes the trailer block of a "hello world" body, signing with the client as it likes.
type Tail<'a> = Box<dyn Fn(&mut Client) -> String + 'a>;
/// What the case is, the trailer block, the trailers expected.
type Accepted<'a> = (&'a str, Tail<'a>, Vec<(&'a str, &'a str)>);

const CRC_HELLO_WORLD: (&str, &str) = ("x-amz-checksum-crc32", "DUoRhQ==");

fn signature_line(client: &mut Client, signed: &[(&str, &str)]) -> String {
    format!(
        "x-amz-trailer-signature:{}\r\n",
        client.trailer_signature(signed)
    )
}

#[test]
fn signed_trailers_are_verified() {
    assert_eq!(
        crc_base64(crc32fast::hash(b"hello world")),
        CRC_HELLO_WORLD.1
    );
    let crc = [CRC_HELLO_WORLD];
    let crc_line = "x-amz-checksum-crc32:DUoRhQ==\r\n";
    let ok: Vec<Accepted> = vec![
        (
            "one trailer",
            Box::new(|c| format!("{crc_line}{}\r\n", signature_line(c, &crc))),
            vec![CRC_HELLO_WORLD],
        ),
        (
            "no closing CRLF",
            Box::new(|c| format!("{crc_line}{}", signature_line(c, &crc))),
            vec![CRC_HELLO_WORLD],
        ),
        (
            "names in any case, values trimmed",
            Box::new(|c| {
                let signature = c.trailer_signature(&crc);
                format!("X-Amz-Checksum-CRC32: DUoRhQ== \r\nX-Amz-Trailer-Signature:{signature}\r\n\r\n")
            }),
            vec![CRC_HELLO_WORLD],
        ),
        (
            "two trailers, signed sorted, sent unsorted",
            Box::new(|c| {
                let line = signature_line(c, &[("x-amz-meta-z", "1"), CRC_HELLO_WORLD]);
                format!("x-amz-meta-z:1\r\n{crc_line}{line}\r\n")
            }),
            vec![("x-amz-meta-z", "1"), CRC_HELLO_WORLD],
        ),
        // The AWS SDK for Rust, when it has no trailers to send.
        ("no trailers", Box::new(|_| "\r\n".to_owned()), vec![]),
        (
            "no trailers, no blank line",
            Box::new(|_| String::new()),
            vec![],
        ),
    ];
    for (what, tail, expected) in ok {
        let (data, trailers) = run_all(trailer_decoder, &trailer_body(&tail)).ok();
        assert_eq!(data, b"hello world", "{what}");
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(trailers, expected, "{what}");
    }
}

#[test]
fn tampered_or_unsigned_trailers_are_refused() {
    let crc = [CRC_HELLO_WORLD];
    let crc_line = "x-amz-checksum-crc32:DUoRhQ==\r\n";
    let refused: Vec<(&str, Tail, ChunkedError)> = vec![
        (
            "another value than signed",
            Box::new(|c| {
                format!(
                    "x-amz-checksum-crc32:NhCmhg==\r\n{}\r\n",
                    signature_line(c, &crc)
                )
            }),
            ChunkedError::SignatureMismatch,
        ),
        (
            "a tampered signature",
            Box::new(|c| {
                let mut line = signature_line(c, &crc).into_bytes();
                let last_digit = line.len() - 3;
                line[last_digit] = if line[last_digit] == b'0' { b'1' } else { b'0' };
                format!("{crc_line}{}\r\n", String::from_utf8(line).unwrap())
            }),
            ChunkedError::SignatureMismatch,
        ),
        (
            "a trailer added before the signature",
            Box::new(|c| {
                format!(
                    "{crc_line}x-amz-meta-x:1\r\n{}\r\n",
                    signature_line(c, &crc)
                )
            }),
            ChunkedError::SignatureMismatch,
        ),
        (
            "a trailer after the signature",
            Box::new(|c| {
                format!(
                    "{crc_line}{}x-amz-meta-x:1\r\n\r\n",
                    signature_line(c, &crc)
                )
            }),
            malformed_trailer("data after the end of the body"),
        ),
        (
            "no signature, blank line",
            Box::new(|_| format!("{crc_line}\r\n")),
            malformed_trailer("signed trailers without x-amz-trailer-signature"),
        ),
        (
            "no signature, end of body",
            Box::new(|_| crc_line.to_owned()),
            ChunkedError::Truncated,
        ),
        (
            "a signature that is not hex",
            Box::new(|_| format!("{crc_line}x-amz-trailer-signature:xyz\r\n\r\n")),
            malformed_trailer("x-amz-trailer-signature is not 64 hexadecimal digits"),
        ),
        (
            "the checksum twice, both signed",
            Box::new(|c| {
                let bad = ("x-amz-checksum-crc32", "NhCmhg==");
                let line = signature_line(c, &[CRC_HELLO_WORLD, bad]);
                format!("{crc_line}x-amz-checksum-crc32:NhCmhg==\r\n{line}\r\n")
            }),
            malformed_trailer("a trailer is sent more than once"),
        ),
    ];
    for (what, tail, expected) in refused {
        let outcome = run_all(trailer_decoder, &trailer_body(&tail));
        assert_eq!(outcome.result, Err(expected), "{what}");
    }
}

#[test]
fn malformed_signed_chunks() {
    let sig = "a".repeat(64);
    let cases = [
        (
            "5\r\nhello\r\n0\r\n\r\n".to_owned(),
            "chunk without chunk-signature",
        ),
        (
            "5;chunk-signature=xyz\r\nhello\r\n".to_owned(),
            "signature is not 64 hexadecimal digits",
        ),
        (
            format!("5;chunk-signature={}\r\nhello\r\n", &sig[1..]),
            "signature is not 64 hexadecimal digits",
        ),
        (
            format!("5;chunk-signature={sig};chunk-signature={sig}\r\nhello\r\n"),
            "more than one chunk-signature",
        ),
    ];
    for (body, message) in cases {
        let new = || Decoder::new(Mode::SignedChunks, Some(signing(STREAMING_SEED)), None);
        let outcome = run_all(new, body.as_bytes());
        assert_eq!(outcome.result, Err(malformed(message)), "{body:?}");
    }
}
