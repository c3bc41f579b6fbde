use std::time::Duration;

use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4::SigningParams;

use super::*;
use crate::auth::signing_keys::SigningKeyCache;
use crate::auth::sigv4::{check_time, presented, verify, SigV4Error};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn signer(secret: &str, region: &str) -> Signer {
    Signer::new("AKIAIOSFODNN7EXAMPLE", Secret::new(secret.into()), region).expect("valid")
}

fn unsigned(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(()).expect("a valid request").into_parts().0
}

fn at(amz_date: &str) -> SystemTime {
    timefmt::parse_amz_date(amz_date).expect("a valid date")
}

fn signature_of(parts: &Parts) -> String {
    let authorization = parts.headers[AUTHORIZATION].to_str().expect("ASCII");
    let (_, signature) = authorization.split_once("Signature=").expect("a signature");
    signature.to_owned()
}

/// What the bench sends must pass the server's verifier: same canonicalization, same
/// signing key, and the time and scope the verifier checks.
#[test]
fn signed_requests_verify_with_the_servers_verifier() {
    let now = SystemTime::now();
    let signer = signer(SECRET, "us-east-1");
    let cache = SigningKeyCache::new();
    let cases = [
        (
            "GET",
            "/bucket/dir/obj-0000000001",
            vec![],
            "UNSIGNED-PAYLOAD",
        ),
        (
            "PUT",
            "/bucket/key?partNumber=3&uploadId=a%2Fb%3Dc",
            vec![
                ("content-length", "5"),
                ("content-md5", "XUFAKrxLKna5cZ2REBfFkg=="),
            ],
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        ),
        (
            "GET",
            "/bucket?list-type=2&prefix=run%2F&max-keys=1000&continuation-token=x%2By%3D",
            vec![],
            EMPTY_SHA256,
        ),
        (
            "PUT",
            "/bucket/key",
            vec![
                ("content-encoding", "aws-chunked"),
                ("x-amz-decoded-content-length", "5"),
                ("x-amz-trailer", "x-amz-checksum-crc32"),
            ],
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        ),
    ];
    for (method, uri, headers, payload) in cases {
        let mut all = vec![("host", "127.0.0.1:6789")];
        all.extend(headers);
        let mut parts = unsigned(method, uri, &all);
        signer.sign(&mut parts, payload, now);
        let p = presented(&parts).expect("well formed").expect("signed");
        assert_eq!(check_time(&p, now), Ok(()));
        let secret = Secret::new(SECRET.into());
        assert_eq!(
            verify(
                &parts,
                &p,
                payload,
                &cache.signing_key(&p.credential, &secret)
            ),
            Ok(()),
            "{uri}"
        );
        let wrong = Secret::new("not-the-secret".into());
        let wrong_key = SigningKeyCache::new().signing_key(&p.credential, &wrong);
        let refused = verify(&parts, &p, payload, &wrong_key);
        assert_eq!(refused, Err(SigV4Error::SignatureMismatch));
        let other = if payload == EMPTY_SHA256 {
            "UNSIGNED-PAYLOAD"
        } else {
            EMPTY_SHA256
        };
        let other_hash = verify(
            &parts,
            &p,
            other,
            &cache.signing_key(&p.credential, &secret),
        );
        assert_eq!(other_hash, Err(SigV4Error::SignatureMismatch));
    }
}

/// "Example: GET Object" of
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html>, signed by
/// the bench's signer: the signature AWS worked out.
#[test]
fn the_aws_get_object_example() {
    let mut parts = unsigned(
        "GET",
        "/test.txt",
        &[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("range", "bytes=0-9"),
        ],
    );
    signer(SECRET, "us-east-1").sign(&mut parts, EMPTY_SHA256, at("20130524T000000Z"));
    assert_eq!(
        parts.headers[AUTHORIZATION],
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
         SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
         Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    );
    assert_eq!(parts.headers["x-amz-date"], "20130524T000000Z");
    assert_eq!(parts.headers["x-amz-content-sha256"], EMPTY_SHA256);
}

/// The same requests signed by the `aws-sigv4` crate, an implementation independent of
/// ours, give the same signatures.
#[test]
fn agrees_with_the_aws_sigv4_crate() {
    let time = at("20240229T235959Z");
    let cases = [
        ("GET", "/bucket/obj-0000000042", vec![], EMPTY_SHA256),
        (
            "POST",
            "/bucket?delete",
            vec![
                ("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg=="),
                ("content-type", "application/xml"),
            ],
            EMPTY_SHA256,
        ),
        (
            "PUT",
            "/bucket/run/obj?partNumber=2&uploadId=u%2B1",
            vec![("content-length", "0")],
            "UNSIGNED-PAYLOAD",
        ),
    ];
    for (method, path, headers, payload) in cases {
        let mut all = vec![("host", "localhost:9000")];
        all.extend(headers);
        let uri = format!("http://localhost:9000{path}");
        let mut ours = unsigned(method, &uri, &all);
        signer(SECRET, "eu-west-3").sign(&mut ours, payload, time);

        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let identity =
            aws_credential_types::Credentials::new("AKIAIOSFODNN7EXAMPLE", SECRET, None, None, "t")
                .into();
        let params = SigningParams::builder()
            .identity(&identity)
            .region("eu-west-3")
            .name("s3")
            .time(time)
            .settings(settings)
            .build()
            .expect("valid params")
            .into();
        let signable = SignableRequest::new(
            method,
            uri.clone(),
            all.iter().copied(),
            SignableBody::Precomputed(payload.to_owned()),
        )
        .expect("signable");
        let (_, signature) = sign(signable, &params).expect("signed").into_parts();
        assert_eq!(signature_of(&ours), signature, "{method} {path}");
    }
}

/// The key is derived once per day and re-derived when the date changes.
#[test]
fn the_signing_key_follows_the_date() {
    let signer = signer(SECRET, "us-east-1");
    let cache = SigningKeyCache::new();
    let secret = Secret::new(SECRET.into());
    let first = SystemTime::now();
    for now in [first, first + Duration::from_secs(86_400), first] {
        let mut parts = unsigned("HEAD", "/b/k", &[("host", "h:1")]);
        signer.sign(&mut parts, "UNSIGNED-PAYLOAD", now);
        let p = presented(&parts).expect("well formed").expect("signed");
        assert_eq!(p.credential.date(), timefmt::format_scope_date(now));
        assert_eq!(
            verify(
                &parts,
                &p,
                "UNSIGNED-PAYLOAD",
                &cache.signing_key(&p.credential, &secret)
            ),
            Ok(())
        );
    }
}

#[test]
fn endpoints() {
    let ok = |url: &str, authority: &str| {
        assert_eq!(
            Endpoint::parse(url),
            Ok(Endpoint {
                authority: authority.to_owned(),
                https: url.starts_with("https://"),
            }),
            "{url}"
        );
    };
    ok("http://127.0.0.1:9000", "127.0.0.1:9000");
    ok("http://localhost:6789/", "localhost:6789");
    ok("127.0.0.1:9000", "127.0.0.1:9000");
    ok("http://[::1]:9000", "[::1]:9000");
    ok("https://s3.example.com", "s3.example.com");
    ok("https://127.0.0.1:9443/", "127.0.0.1:9443");
    for url in [
        "https://",
        "https://h/bucket",
        "ftp://x",
        "http://h:1/bucket",
        "http://",
        "",
    ] {
        assert!(Endpoint::parse(url).is_err(), "{url} was accepted");
    }
}

#[test]
fn signer_refuses_what_cannot_be_a_header() {
    let secret = || Secret::new("s".into());
    assert!(Signer::new("", secret(), "us-east-1").is_err());
    assert!(Signer::new("key with space", secret(), "us-east-1").is_err());
    assert!(Signer::new("key", secret(), "us/east").is_err());
    assert!(
        Signer::new("key", secret(), "").is_ok(),
        "an empty region is a valid scope"
    );
}

#[test]
fn xml_answers() {
    let list = br#"<?xml version="1.0"?><ListBucketResult><IsTruncated>true</IsTruncated>
        <Contents><Key>a&amp;b</Key></Contents><Contents><Key>c</Key></Contents>
        <NextContinuationToken>t&#43;1</NextContinuationToken></ListBucketResult>"#;
    let texts = xml_texts(list, &["Key", "IsTruncated", "NextContinuationToken"]);
    let expected = [(1, "true"), (0, "a&b"), (0, "c"), (2, "t+1")];
    let expected: Vec<(usize, String)> = expected
        .iter()
        .map(|(i, t)| (*i, (*t).to_owned()))
        .collect();
    assert_eq!(texts, expected);
    assert_eq!(xml_texts(b"not xml at all", &["Code"]), vec![]);
    let error = b"<Error><Code>SignatureDoesNotMatch</Code><Message>m</Message></Error>";
    assert_eq!(
        xml_texts(error, &["Code"]),
        vec![(0, "SignatureDoesNotMatch".to_owned())]
    );
}

#[test]
fn errors_read_as_the_report_shows_them() {
    let status = |code: &str| OpError::Status {
        status: 403,
        code: code.to_owned(),
    };
    assert_eq!(status("AccessDenied").to_string(), "HTTP 403 AccessDenied");
    assert_eq!(status("").to_string(), "HTTP 403");
    assert_eq!(
        OpError::Verify("body differs".into()).to_string(),
        "verification: body differs"
    );
}
