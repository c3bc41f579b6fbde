//! Shared helpers and the decoder's general behaviour; `signed` and `unsigned` hold the
//! per-mode tables.

use std::time::SystemTime;

mod signed;
mod unsigned;

use super::*;
use crate::auth::sigv4::{signing_key, Credential, Location};

/// The credentials, time and scope of the AWS chunked-upload examples.
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const AMZ_DATE: &str = "20130524T000000Z";
const SCOPE: &str = "20130524/us-east-1/s3/aws4_request";
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html>: PUT
/// examplebucket/chunkObject.txt, 65 KiB of 'a' in chunks of 64 KiB, 1 KiB and 0.
const STREAMING_SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
const STREAMING_CHUNKS: [&str; 3] = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
];
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html>: the same
/// object with an `x-amz-checksum-crc32c` trailer (the AWS SDK for Rust tests the same values).
const TRAILER_SEED: &str = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";
const TRAILER_CHUNKS: [&str; 3] = [
    "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
    "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
    "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
];
const TRAILER_EXAMPLE_TAIL: &str = "x-amz-checksum-crc32c:sOO8/Q==\r\n\
    x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n";
const OBJECT_LEN: usize = 65 * 1024;
/// Whole-body feeds and the splits a network produces, down to one byte at a time.
const FEEDS: [usize; 7] = [1, 2, 7, 100, 4096, 65_600, usize::MAX];

fn key() -> [u8; 32] {
    signing_key(SECRET, "20130524", "us-east-1", "s3")
}

fn signing(seed: &str) -> ChunkSigning {
    ChunkSigning {
        key: key(),
        amz_date: AMZ_DATE.to_owned(),
        scope: SCOPE.to_owned(),
        seed_signature: hex::decode(seed).unwrap().try_into().unwrap(),
    }
}

/// The examples' wire form: 64 KiB and 1 KiB of 'a', the empty chunk, then `tail`.
fn example_body(signatures: [&str; 3], tail: &str) -> Vec<u8> {
    let mut body = format!("10000;chunk-signature={}\r\n", signatures[0]).into_bytes();
    body.extend(vec![b'a'; 64 * 1024]);
    body.extend(format!("\r\n400;chunk-signature={}\r\n", signatures[1]).bytes());
    body.extend(vec![b'a'; 1024]);
    body.extend(format!("\r\n0;chunk-signature={}\r\n", signatures[2]).bytes());
    body.extend(tail.bytes());
    body
}

/// What a body loop saw: the data handed out (even before an error) and how it ended.
#[derive(Debug)]
struct Outcome {
    data: Vec<u8>,
    result: Result<Vec<(String, String)>, ChunkedError>,
}

impl Outcome {
    fn ok(self) -> (Vec<u8>, Vec<(String, String)>) {
        match self.result {
            Ok(trailers) => (self.data, trailers),
            Err(error) => panic!("expected success, got {error:?}"),
        }
    }
}

/// Feeds `body` `feed` bytes at a time and drains the events after each feed, then finishes,
/// as the server's body loop does. Checks on the way that `End` comes once and last, and that
/// what the decoder leaves in the buffer stays bounded.
fn run(mut decoder: Decoder, body: &[u8], feed: usize) -> Outcome {
    let mut input = BytesMut::new();
    let mut data = Vec::new();
    let mut end = None;
    for piece in body.chunks(feed) {
        input.extend_from_slice(piece);
        loop {
            match decoder.decode(&mut input) {
                Ok(Some(event)) => record(event, &mut data, &mut end),
                Ok(None) => break,
                Err(error) => {
                    return Outcome {
                        data,
                        result: Err(error),
                    }
                }
            }
        }
        assert!(
            input.len() < MAX_TRAILER_BLOCK,
            "{} bytes left over",
            input.len()
        );
    }
    let result = decoder.finish().map(|last| {
        if let Some(event) = last {
            record(event, &mut data, &mut end);
        }
        end.take().expect("finish returned Ok, so End was seen")
    });
    Outcome { data, result }
}

fn record(event: Event, data: &mut Vec<u8>, end: &mut Option<Vec<(String, String)>>) {
    match event {
        Event::Data(bytes) => {
            assert!(end.is_none(), "Data after End");
            assert!(!bytes.is_empty(), "empty Data event");
            data.extend_from_slice(&bytes);
        }
        Event::End { trailers } => assert!(end.replace(trailers).is_none(), "End twice"),
    }
}

/// Runs every feed size and checks they agree; returns the whole-body outcome.
fn run_all(new: impl Fn() -> Decoder, body: &[u8]) -> Outcome {
    let whole = run(new(), body, usize::MAX);
    for feed in FEEDS {
        let split = run(new(), body, feed);
        assert_eq!(split.result, whole.result, "feeding {feed} bytes at a time");
        if whole.result.is_ok() {
            assert_eq!(split.data, whole.data, "feeding {feed} bytes at a time");
        }
    }
    whole
}

fn crc_base64(crc: u32) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(crc.to_be_bytes())
}

fn unsigned_decoder() -> Decoder {
    Decoder::new(Mode::UnsignedWithTrailer, None, None)
}

#[test]
fn an_error_sticks() {
    let mut decoder = unsigned_decoder();
    let mut input = BytesMut::from(&b"zz\r\n5\r\nhello\r\n0\r\n\r\n"[..]);
    let error = decoder.decode(&mut input).unwrap_err();
    let mut fresh = BytesMut::from(&b"0\r\n\r\n"[..]);
    assert_eq!(decoder.decode(&mut fresh), Err(error.clone()));
    assert_eq!(decoder.finish(), Err(error));
}

#[test]
fn end_and_finish_after_it() {
    let mut decoder = unsigned_decoder();
    let mut input =
        BytesMut::from(&b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"[..]);
    assert!(matches!(
        decoder.decode(&mut input),
        Ok(Some(Event::Data(_)))
    ));
    let end = decoder.decode(&mut input).unwrap();
    assert!(matches!(end, Some(Event::End { ref trailers }) if trailers.len() == 1));
    assert_eq!(decoder.decode(&mut input), Ok(None));
    assert_eq!(decoder.finish(), Ok(None));
    assert_eq!(decoder.finish(), Ok(None));
}

#[test]
fn data_is_passed_through_without_copying() {
    let mut input = BytesMut::from(&b"5\r\nhello\r\n0\r\n\r\n"[..]);
    let range = input.as_ptr() as usize..input.as_ptr() as usize + input.len();
    let mut decoder = unsigned_decoder();
    let Ok(Some(Event::Data(data))) = decoder.decode(&mut input) else {
        panic!("expected data first");
    };
    assert_eq!(&data[..], b"hello");
    assert!(range.contains(&(data.as_ptr() as usize)), "data was copied");
}

#[test]
fn modes_from_content_sha256() {
    let cases = [
        (
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            Some(Mode::SignedChunks),
        ),
        (
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
            Some(Mode::SignedChunksWithTrailer),
        ),
        (
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            Some(Mode::UnsignedWithTrailer),
        ),
        ("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", None),
        ("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER", None),
        ("UNSIGNED-PAYLOAD", None),
        ("streaming-aws4-hmac-sha256-payload", None),
        (EMPTY_SHA256, None),
    ];
    for (value, mode) in cases {
        assert_eq!(Mode::from_content_sha256(value), mode, "{value}");
    }
    assert!(Mode::SignedChunks.is_signed() && !Mode::SignedChunks.has_trailer());
    assert!(
        Mode::SignedChunksWithTrailer.is_signed() && Mode::SignedChunksWithTrailer.has_trailer()
    );
    assert!(!Mode::UnsignedWithTrailer.is_signed() && Mode::UnsignedWithTrailer.has_trailer());
}

#[test]
fn chunk_signing_from_a_presented_request_hides_its_key() {
    let presented = Presented {
        credential: Credential::new("AKIAIOSFODNN7EXAMPLE", "20130524", "us-east-1", "s3"),
        signed_headers: "host".to_owned(),
        signature: signing(STREAMING_SEED).seed_signature,
        request_time: SystemTime::UNIX_EPOCH,
        amz_date: AMZ_DATE.to_owned(),
        location: Location::Header,
    };
    let from_request = ChunkSigning::new(key(), &presented);
    assert_eq!(from_request.scope, SCOPE);
    assert_eq!(from_request.amz_date, AMZ_DATE);
    // The same decoder input verifies with it.
    let body = example_body(STREAMING_CHUNKS, "\r\n");
    let decoder = Decoder::new(Mode::SignedChunks, Some(from_request), None);
    assert!(run(decoder, &body, usize::MAX).result.is_ok());

    let debug = format!("{:?}", signing(STREAMING_SEED));
    assert!(
        debug.contains("<redacted>") && debug.contains(STREAMING_SEED),
        "{debug}"
    );
    assert!(!debug.contains(&hex::encode(key())), "{debug}");
}
