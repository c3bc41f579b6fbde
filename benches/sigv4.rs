//! SigV4 verification cost per request, on the server's own path: `sigv4::presented` (parse the
//! Authorization header or the presigned query), `sigv4::check_time`, and `sigv4::verify`
//! (canonical request, string to sign, one HMAC with the cached signing key, constant-time
//! compare), exactly as `auth::authenticate` calls them.
//!
//! The requests are a typical S3 GetObject as an SDK sends it (a handful of headers, signed in
//! the Authorization header) and the same object fetched through a presigned URL. They are
//! signed in the setup with the `aws-sigv4` crate, independently of the verifier, and each is
//! checked to verify before it is measured: a benchmark of the wrong answer measures nothing.
//!
//! Run with `cargo bench --bench sigv4`. Target: under 2 µs per verification.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest,
    SignatureLocation, SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4::SigningParams;
use criterion::{criterion_group, criterion_main, Criterion};
use http::request::Parts;
use labstore::auth::signing_keys::SigningKeyCache;
use labstore::auth::sigv4::{self, SigV4Error};
use labstore::crypto::Secret;

const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// SHA-256 of the empty body, which SDKs declare for a GET.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const HOST: &str = "s3.lab.example:6789";
const URI: &str = "/media/photos/2024/03/IMG_0042.jpg";

/// 2025-03-01T12:00:00Z: the signing time, and the server's clock during the benchmark.
fn signing_time() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_740_830_400)
}

/// A GetObject as the AWS SDK for Rust sends it, before signing.
fn sdk_get_object() -> http::Request<()> {
    http::Request::builder()
        .method("GET")
        .uri(format!("http://{HOST}{URI}"))
        .header("host", HOST)
        .header("x-amz-content-sha256", EMPTY_SHA256)
        .header(
            "amz-sdk-invocation-id",
            "6c1d8a3e-2b7f-4a8e-9d0c-5f3b1e7a9c24",
        )
        .header("amz-sdk-request", "attempt=1; max=3")
        .header(
            "x-amz-user-agent",
            "aws-sdk-rust/1.3.9 api/s3/1.82.0 os/linux",
        )
        .header("user-agent", "aws-sdk-rust/1.3.9 os/linux lang/rust/1.85.0")
        .body(())
        .expect("a valid request")
}

/// The same object fetched through a presigned URL: only `host` is signed; what the fetching
/// client adds (here curl's headers, after signing) is not.
fn presigned_get_object() -> Parts {
    let request = http::Request::builder()
        .method("GET")
        .uri(format!("http://{HOST}{URI}"))
        .header("host", HOST)
        .body(())
        .expect("a valid request");
    let mut parts = signed(request, Some(Duration::from_secs(3600)));
    for (name, value) in [("user-agent", "curl/8.5.0"), ("accept", "*/*")] {
        parts
            .headers
            .insert(name, http::HeaderValue::from_static(value));
    }
    parts
}

/// Signs `request` as an S3 client does (single path encoding, no path normalization), in the
/// Authorization header or, with `presign`, in the query, and returns its parts.
fn signed(mut request: http::Request<()>, presign: Option<Duration>) -> Parts {
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let body = match presign {
        Some(expires) => {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(expires);
            SignableBody::UnsignedPayload
        }
        None => {
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
            SignableBody::Precomputed(EMPTY_SHA256.to_owned())
        }
    };
    let identity =
        aws_credential_types::Credentials::new(ACCESS_KEY, SECRET, None, None, "bench").into();
    let params = SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(signing_time())
        .settings(settings)
        .build()
        .expect("complete signing parameters")
        .into();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = value.to_str().expect("ASCII header values");
            (name.as_str().to_owned(), value.to_owned())
        })
        .collect();
    let signable = SignableRequest::new(
        request.method().as_str(),
        request.uri().to_string(),
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        body,
    )
    .expect("a signable request");
    let (instructions, _) = sign(signable, &params)
        .expect("signing succeeds")
        .into_parts();
    instructions.apply_to_request_http1x(&mut request);
    // The server sees an origin-form request line; the host comes from the Host header.
    let path_and_query = request.uri().path_and_query().expect("a path").clone();
    *request.uri_mut() = http::Uri::from(path_and_query);
    request.into_parts().0
}

/// What `auth::authenticate` does for a SigV4 request once the payload hash is chosen.
fn authenticate(
    parts: &Parts,
    payload_hash: &str,
    secret: &Secret,
    cache: &SigningKeyCache,
) -> Result<(), SigV4Error> {
    let presented = sigv4::presented(parts)?.ok_or(SigV4Error::SignatureMismatch)?;
    sigv4::check_time(&presented, signing_time())?;
    let key = cache.signing_key(&presented.credential, secret);
    sigv4::verify(parts, &presented, payload_hash, &key)
}

/// The two requests, signed, with the payload hash S3 verifies each with.
fn cases() -> [(&'static str, Parts, &'static str); 2] {
    [
        (
            "header_get_object",
            signed(sdk_get_object(), None),
            EMPTY_SHA256,
        ),
        (
            "presigned_get_object",
            presigned_get_object(),
            "UNSIGNED-PAYLOAD",
        ),
    ]
}

fn verification(c: &mut Criterion) {
    let secret = Secret::new(SECRET.to_owned());
    let cache = SigningKeyCache::new();
    let mut group = c.benchmark_group("sigv4_verify");
    for (name, parts, payload_hash) in &cases() {
        // Also fills the signing-key cache, as the first request of the day does.
        assert_eq!(
            authenticate(parts, payload_hash, &secret, &cache),
            Ok(()),
            "{name}"
        );
        group.bench_function(*name, |b| {
            b.iter(|| authenticate(black_box(parts), payload_hash, &secret, &cache))
        });
    }
    group.finish();
}

/// Each request's verification in its steps, to see what limits it: parsing what it presents,
/// `verify` alone (signing-key lookup, canonical request, string to sign, HMAC), and the
/// cryptographic floor under `verify` (hashing a canonical request already built, and the HMAC
/// of the string to sign).
fn steps(c: &mut Criterion) {
    let secret = Secret::new(SECRET.to_owned());
    let cache = SigningKeyCache::new();
    let key = sigv4::signing_key(SECRET, "20250301", "us-east-1", "s3");
    for (name, parts, payload_hash) in cases() {
        let presented = sigv4::presented(&parts)
            .expect("well-formed")
            .expect("signed");
        let verify = || {
            let key = cache.signing_key(&presented.credential, &secret);
            sigv4::verify(black_box(&parts), &presented, payload_hash, &key)
        };
        assert_eq!(verify(), Ok(()), "{name}");
        let canonical = sigv4::canonical_request(&parts, &presented, payload_hash);
        let floor = || {
            let to_sign = sigv4::string_to_sign(&presented, black_box(&canonical));
            sigv4::hmac_sha256(&key, to_sign.as_bytes())
        };
        assert_eq!(floor(), presented.signature, "{name}");
        let mut group = c.benchmark_group(format!("sigv4_{name}_steps"));
        group.bench_function("presented", |b| {
            b.iter(|| sigv4::presented(black_box(&parts)))
        });
        group.bench_function("verify", |b| b.iter(verify));
        group.bench_function("hash_and_hmac_floor", |b| b.iter(floor));
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = verification, steps
}
criterion_main!(benches);
