//! Upload-path throughput per core: aws-chunked decoding (`auth::chunked::Decoder`) and the
//! digests the write path computes over every body (`s3::checksum`).
//!
//! Decoding: an 8 MiB body in 64 KiB chunks, fed to the decoder in 64 KiB frames the way
//! `s3::body::BodyReader` feeds it (each frame appended to one buffer, events drained), in two
//! modes: `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` (a signature per chunk, each one verified:
//! SHA-256 of the chunk, then an HMAC) and `STREAMING-UNSIGNED-PAYLOAD-TRAILER` (framing only,
//! with a CRC32 trailer). The bodies are built in the setup with the sigv4 module's own HMAC
//! and hash helpers; each is checked to decode in full before it is measured.
//!
//! Digests: 1 MiB buffers through `BodyDigests` (MD5, which every PUT computes for its ETag,
//! alone and with one additional checksum) and through `Hasher` for each `x-amz-checksum-*`
//! algorithm alone.
//!
//! Run with `cargo bench --bench chunked`.

use std::hint::black_box;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use labstore::auth::chunked::{ChunkSigning, ChunkedError, Decoder, Event, Mode};
use labstore::auth::sigv4::{hmac_sha256, sha256_hex, signing_key};
use labstore::s3::checksum::{Algorithm, BodyDigests, Hasher};

const BODY: usize = 8 << 20;
const CHUNK: usize = 64 << 10;
const FRAME: usize = 64 << 10;
const DIGEST_BUFFER: usize = 1 << 20;
const AMZ_DATE: &str = "20250301T120000Z";
const SCOPE: &str = "20250301/us-east-1/s3/aws4_request";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// The request's own signature, which the first chunk's chains from.
const SEED_SIGNATURE: [u8; 32] = [0x5a; 32];

/// Random bytes, so that no digest meets a degenerate input (none is data-dependent in cost).
fn payload(len: usize) -> Vec<u8> {
    let mut bytes = vec![0; len];
    rand::fill(&mut bytes[..]);
    bytes
}

fn key() -> [u8; 32] {
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    signing_key(secret, "20250301", "us-east-1", "s3")
}

fn chunk_signing() -> ChunkSigning {
    ChunkSigning {
        key: key(),
        amz_date: AMZ_DATE.to_owned(),
        scope: SCOPE.to_owned(),
        seed_signature: SEED_SIGNATURE,
    }
}

/// `<hex size>;chunk-signature=<sig>\r\n<data>\r\n` per chunk, each signature chained from
/// the previous one, ending with the signed empty chunk.
fn signed_body(data: &[u8]) -> Bytes {
    let key = key();
    let mut previous = SEED_SIGNATURE;
    let mut body = Vec::with_capacity(data.len() + data.len() / CHUNK * 96 + 96);
    for chunk in data.chunks(CHUNK).chain([&[][..]]) {
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{AMZ_DATE}\n{SCOPE}\n{}\n{EMPTY_SHA256}\n{}",
            hex::encode(previous),
            sha256_hex(chunk)
        );
        previous = hmac_sha256(&key, string_to_sign.as_bytes());
        let header = format!(
            "{:x};chunk-signature={}\r\n",
            chunk.len(),
            hex::encode(previous)
        );
        body.extend_from_slice(header.as_bytes());
        body.extend_from_slice(chunk);
        body.extend_from_slice(b"\r\n");
    }
    Bytes::from(body)
}

/// `<hex size>\r\n<data>\r\n` per chunk, `0\r\n`, a CRC32 trailer and the closing blank line.
fn unsigned_body_with_trailer(data: &[u8]) -> Bytes {
    let mut body = Vec::with_capacity(data.len() + data.len() / CHUNK * 16 + 64);
    for chunk in data.chunks(CHUNK) {
        body.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        body.extend_from_slice(chunk);
        body.extend_from_slice(b"\r\n");
    }
    let mut crc = Hasher::new(Algorithm::Crc32);
    crc.update(data);
    let trailer = format!("0\r\nx-amz-checksum-crc32:{}\r\n\r\n", crc.finish_base64());
    body.extend_from_slice(trailer.as_bytes());
    Bytes::from(body)
}

/// Decodes `body` arriving in `FRAME`-sized frames; returns the data length and the trailers.
fn decode(
    mode: Mode,
    signing: Option<ChunkSigning>,
    body: &Bytes,
) -> Result<(usize, Vec<(String, String)>), ChunkedError> {
    let mut decoder = Decoder::new(mode, signing, Some(BODY as u64));
    let mut buffer = BytesMut::new();
    let (mut received, mut trailers) = (0, None);
    let mut on_event = |event| match event {
        Event::Data(data) => received += black_box(data).len(),
        Event::End { trailers: t } => trailers = Some(t),
    };
    for frame in body.chunks(FRAME) {
        buffer.extend_from_slice(frame);
        while let Some(event) = decoder.decode(&mut buffer)? {
            on_event(event);
        }
    }
    if let Some(event) = decoder.finish()? {
        on_event(event);
    }
    Ok((received, trailers.unwrap_or_default()))
}

fn decoding(c: &mut Criterion) {
    let data = payload(BODY);
    let signed = signed_body(&data);
    let unsigned = unsigned_body_with_trailer(&data);
    let mut group = c.benchmark_group("aws_chunked_decode_8mib");
    group.throughput(Throughput::Bytes(BODY as u64));
    // Milliseconds an iteration: equal samples fit the measurement time, growing ones do not.
    group.sampling_mode(SamplingMode::Flat);

    // A benchmark of the wrong answer measures nothing.
    let decoded = decode(Mode::SignedChunks, Some(chunk_signing()), &signed);
    assert_eq!(decoded, Ok((BODY, Vec::new())), "signed chunks");
    group.bench_function("signed_64kib_chunks", |b| {
        b.iter(|| {
            decode(
                Mode::SignedChunks,
                Some(chunk_signing()),
                black_box(&signed),
            )
        })
    });

    let (length, trailers) =
        decode(Mode::UnsignedWithTrailer, None, &unsigned).expect("the unsigned body decodes");
    assert_eq!(length, BODY);
    assert_eq!(trailers.len(), 1, "the CRC32 trailer");
    group.bench_function("unsigned_with_trailer_64kib_chunks", |b| {
        b.iter(|| decode(Mode::UnsignedWithTrailer, None, black_box(&unsigned)))
    });
    group.finish();
}

fn digests(c: &mut Criterion) {
    let buffer = payload(DIGEST_BUFFER);
    let mut group = c.benchmark_group("digest_1mib");
    group.throughput(Throughput::Bytes(DIGEST_BUFFER as u64));
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function("body_digests_md5", |b| {
        b.iter(|| {
            let mut digests = BodyDigests::new(&[]);
            digests.update(black_box(&buffer));
            digests.finish()
        })
    });
    group.bench_function("body_digests_md5_crc64nvme", |b| {
        b.iter(|| {
            let mut digests = BodyDigests::new(&[Algorithm::Crc64Nvme]);
            digests.update(black_box(&buffer));
            digests.finish()
        })
    });
    for algorithm in Algorithm::ALL {
        let name = algorithm.name().to_ascii_lowercase();
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut hasher = Hasher::new(algorithm);
                hasher.update(black_box(&buffer));
                hasher.finish()
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = decoding, digests
}
criterion_main!(benches);
