use super::*;

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// The example secrets of the IAM and the S3 pages: they differ in one character.
const IAM_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const S3_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// The signature of the IAM ListUsers example.
const IAM_SIGNATURE: &str = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";

fn request(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
    let mut builder = http::Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder
        .body(())
        .expect("a valid test request")
        .into_parts()
        .0
}

fn at(amz_date: &str) -> SystemTime {
    timefmt::parse_amz_date(amz_date).expect("a valid test date")
}

fn present(parts: &Parts) -> Presented {
    presented(parts)
        .expect("well-formed authentication")
        .expect("a signed request")
}

/// The message of a `Malformed` outcome; any other outcome fails the test.
fn malformed_message(parts: &Parts) -> String {
    match presented(parts) {
        Err(SigV4Error::Malformed(message)) => message,
        other => panic!("expected Malformed, got {other:?}"),
    }
}

fn check(parts: &Parts, payload_hash: &str, secret: &str) -> Result<(), SigV4Error> {
    let p = present(parts);
    let c = &p.credential;
    let key = signing_key(secret, c.date(), c.region(), c.service());
    verify(parts, &p, payload_hash, &key)
}

/// Signs a header-authenticated request as a client would, with this module's own
/// canonicalization. For the tests that change one thing and expect the verdict to change;
/// the AWS examples below are what pin the canonicalization itself.
fn signed(
    secret: &str,
    (method, uri): (&str, &str),
    headers: &[(&str, &str)],
    credential: &str,
    signed_headers: &str,
) -> Parts {
    let placeholder = "0".repeat(64);
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={signed_headers}, \
         Signature={placeholder}"
    );
    let mut all = headers.to_vec();
    all.push(("authorization", &authorization));
    let mut parts = request(method, uri, &all);
    let p = present(&parts);
    let to_sign = string_to_sign(&p, &canonical_request(&parts, &p, EMPTY_SHA256));
    let c = &p.credential;
    let key = signing_key(secret, c.date(), c.region(), c.service());
    let signature = hex::encode(hmac_sha256(&key, to_sign.as_bytes()));
    let value = authorization.replace(&placeholder, &signature);
    parts
        .headers
        .insert(AUTHORIZATION, HeaderValue::from_str(&value).expect("ASCII"));
    parts
}

/// The IAM ListUsers request that the SigV4 pages of the AWS General Reference worked
/// through step by step (canonical request, string to sign, signing key, signature):
/// <https://docs.aws.amazon.com/general/latest/gr/sigv4-create-canonical-request.html> and
/// <https://docs.aws.amazon.com/general/latest/gr/sigv4-calculate-signature.html>, since
/// folded into <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>.
fn iam_list_users() -> Parts {
    request(
        "GET",
        "/?Action=ListUsers&Version=2010-05-08",
        &[
            ("host", "iam.amazonaws.com"),
            (
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
            ("x-amz-date", "20150830T123600Z"),
            (
                "authorization",
                "AWS4-HMAC-SHA256 \
                 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date, \
                 Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
            ),
        ],
    )
}

/// "Example: GET Object" of
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html>: the
/// first ten bytes of examplebucket/test.txt.
fn s3_get_object() -> Parts {
    request(
        "GET",
        "/test.txt",
        &[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("range", "bytes=0-9"),
            ("x-amz-content-sha256", EMPTY_SHA256),
            ("x-amz-date", "20130524T000000Z"),
            (
                "authorization",
                "AWS4-HMAC-SHA256 \
                 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,\
                 SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,\
                 Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
            ),
        ],
    )
}

/// The presigned GET of
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>, sent in
/// absolute form without a Host header so that `host` comes from the URI's authority.
fn s3_presigned_get() -> Parts {
    request(
        "GET",
        "https://examplebucket.s3.amazonaws.com/test.txt\
         ?X-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
         &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
         &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
        &[],
    )
}

#[test]
fn the_aws_documentation_examples_verify_step_by_step() {
    struct Example {
        parts: Parts,
        secret: &'static str,
        payload_hash: &'static str,
        canonical: &'static str,
        canonical_hash: &'static str,
        scope: &'static str,
    }
    let examples = [
        Example {
            parts: iam_list_users(),
            secret: IAM_SECRET,
            payload_hash: EMPTY_SHA256,
            canonical: "GET\n/\nAction=ListUsers&Version=2010-05-08\n\
                content-type:application/x-www-form-urlencoded; charset=utf-8\n\
                host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n\
                content-type;host;x-amz-date\n\
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            canonical_hash: "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
            scope: "20150830/us-east-1/iam/aws4_request",
        },
        Example {
            parts: s3_get_object(),
            secret: S3_SECRET,
            payload_hash: EMPTY_SHA256,
            canonical: "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\n\
                range:bytes=0-9\n\
                x-amz-content-sha256:\
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
                x-amz-date:20130524T000000Z\n\n\
                host;range;x-amz-content-sha256;x-amz-date\n\
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            canonical_hash: "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
            scope: "20130524/us-east-1/s3/aws4_request",
        },
        Example {
            parts: s3_presigned_get(),
            secret: S3_SECRET,
            payload_hash: "UNSIGNED-PAYLOAD",
            canonical: "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256\
                &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F\
                us-east-1%2Fs3%2Faws4_request\
                &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n\
                host:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD",
            canonical_hash: "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04",
            scope: "20130524/us-east-1/s3/aws4_request",
        },
    ];
    for e in examples {
        let p = present(&e.parts);
        let canonical = canonical_request(&e.parts, &p, e.payload_hash);
        assert_eq!(canonical, e.canonical);
        assert_eq!(sha256_hex(canonical.as_bytes()), e.canonical_hash);
        let expected_to_sign = format!(
            "AWS4-HMAC-SHA256\n{}\n{}\n{}",
            p.amz_date, e.scope, e.canonical_hash
        );
        assert_eq!(string_to_sign(&p, &canonical), expected_to_sign);
        assert_eq!(
            check(&e.parts, e.payload_hash, e.secret),
            Ok(()),
            "{}",
            e.scope
        );
        assert_eq!(check_time(&p, p.request_time), Ok(()));
    }
}

#[test]
fn the_documented_signing_key_is_derived() {
    // The signing key the General Reference example printed for its IAM request.
    assert_eq!(
        hex::encode(signing_key(IAM_SECRET, "20150830", "us-east-1", "iam")),
        "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
    );
}

#[test]
fn what_the_examples_present_is_parsed_field_by_field() {
    let p = present(&iam_list_users());
    assert_eq!(
        p.credential,
        Credential::new("AKIDEXAMPLE", "20150830", "us-east-1", "iam")
    );
    assert_eq!(p.signed_headers, "content-type;host;x-amz-date");
    let names: Vec<&str> = p.signed_header_names().collect();
    assert_eq!(names, ["content-type", "host", "x-amz-date"]);
    assert_eq!(hex::encode(p.signature), IAM_SIGNATURE);
    assert_eq!(p.request_time, timefmt::from_unix_seconds(1_440_938_160));
    assert_eq!(p.amz_date, "20150830T123600Z");
    assert_eq!(p.location, Location::Header);

    let p = present(&s3_presigned_get());
    assert_eq!(p.credential.access_key(), "AKIAIOSFODNN7EXAMPLE");
    assert_eq!(p.credential.service(), "s3");
    assert_eq!(
        p.location,
        Location::Query {
            expires_secs: 86_400
        }
    );
    assert_eq!(p.amz_date, "20130524T000000Z");
}

const AKID_SCOPE: &str = "AKID/20150830/us-east-1/iam/aws4_request";
const IAM_CALL: (&str, &str) = ("POST", "/?Action=ListUsers");

fn iam_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("host", "iam.example.test:6788"),
        ("content-type", "application/x-www-form-urlencoded"),
        ("x-amz-date", "20150830T123600Z"),
        ("user-agent", "aws-cli/2"),
    ]
}

fn iam_signed(secret: &str) -> Parts {
    signed(
        secret,
        IAM_CALL,
        &iam_headers(),
        AKID_SCOPE,
        "content-type;host;x-amz-date",
    )
}

#[test]
fn a_region_less_scope_is_accepted_and_signed_over() {
    let parts = signed(
        "secret",
        IAM_CALL,
        &iam_headers(),
        "AKID/20150830//iam/aws4_request",
        "host;x-amz-date",
    );
    let p = present(&parts);
    assert_eq!(p.credential.region(), "");
    let to_sign = string_to_sign(&p, &canonical_request(&parts, &p, EMPTY_SHA256));
    assert!(
        to_sign.contains("\n20150830//iam/aws4_request\n"),
        "{to_sign}"
    );
    assert_eq!(check(&parts, EMPTY_SHA256, "secret"), Ok(()));

    // The empty region is part of the key: a signature made for us-east-1 does not pass
    // under a scope that claims no region.
    let us_east = signed(
        "secret",
        IAM_CALL,
        &iam_headers(),
        AKID_SCOPE,
        "host;x-amz-date",
    );
    let value = us_east.headers[AUTHORIZATION]
        .to_str()
        .unwrap()
        .replace("/us-east-1/", "//");
    let mut moved = us_east;
    moved
        .headers
        .insert(AUTHORIZATION, HeaderValue::from_str(&value).unwrap());
    assert_eq!(
        check(&moved, EMPTY_SHA256, "secret"),
        Err(SigV4Error::SignatureMismatch)
    );
}

#[test]
fn any_change_to_what_was_signed_is_a_mismatch() {
    type Change = fn(&mut Parts);
    let changes: [(&str, Change); 6] = [
        ("signed header value", |p| {
            p.headers
                .insert("content-type", HeaderValue::from_static("text/plain"));
        }),
        ("another value of a signed header", |p| {
            p.headers
                .append("content-type", HeaderValue::from_static("text/plain"));
        }),
        ("method", |p| p.method = http::Method::PUT),
        ("path", |p| {
            p.uri = "/other?Action=ListUsers".parse().unwrap()
        }),
        ("query", |p| p.uri = "/?Action=DeleteUser".parse().unwrap()),
        ("host", |p| {
            p.headers
                .insert("host", HeaderValue::from_static("evil.test"));
        }),
    ];
    assert_eq!(check(&iam_signed("secret"), EMPTY_SHA256, "secret"), Ok(()));
    for (what, change) in changes {
        let mut parts = iam_signed("secret");
        change(&mut parts);
        let verdict = check(&parts, EMPTY_SHA256, "secret");
        assert_eq!(verdict, Err(SigV4Error::SignatureMismatch), "{what}");
    }
    let mismatch = Err(SigV4Error::SignatureMismatch);
    assert_eq!(
        check(&iam_signed("secret"), EMPTY_SHA256, "secreT"),
        mismatch
    );
    assert_eq!(
        check(&iam_signed("secret"), &sha256_hex(b"body"), "secret"),
        mismatch
    );

    // Headers outside SignedHeaders may change freely (proxies do).
    let mut parts = iam_signed("secret");
    parts
        .headers
        .insert("user-agent", HeaderValue::from_static("curl"));
    parts
        .headers
        .insert("x-forwarded-for", HeaderValue::from_static("10.0.0.1"));
    assert_eq!(check(&parts, EMPTY_SHA256, "secret"), Ok(()));
}

/// Signers write the signature in lower-case hex; the same digits in upper case are not what
/// was calculated (a URL whose signature was changed that way must not pass as signed).
#[test]
fn an_upper_case_signature_is_a_mismatch() {
    let lower = s3_presigned_get();
    assert!(presented(&lower).is_ok());
    let uri = lower
        .uri
        .to_string()
        .replace("X-Amz-Signature=aeeed9", "X-Amz-Signature=AEEED9");
    assert_eq!(
        presented(&request("GET", &uri, &[])).unwrap_err(),
        SigV4Error::SignatureMismatch
    );
    let header = authorization(&[
        "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request",
        "SignedHeaders=host",
        "Signature=Aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
    ]);
    let parts = request(
        "GET",
        "/test.txt",
        &[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("x-amz-date", "20130524T000000Z"),
            ("authorization", &header),
        ],
    );
    assert_eq!(
        presented(&parts).unwrap_err(),
        SigV4Error::SignatureMismatch
    );
}

/// An Authorization value from its comma-separated fields.
fn authorization(fields: &[&str]) -> String {
    format!("AWS4-HMAC-SHA256 {}", fields.join(", "))
}

#[test]
fn malformed_authentication_is_refused_with_a_reason() {
    let cred = "Credential=AKID/20150830/us-east-1/iam/aws4_request";
    let sh = "SignedHeaders=host;x-amz-date";
    let sig = &format!("Signature={IAM_SIGNATURE}");
    let scope = |scope: &str| format!("Credential={scope}");
    let cases: Vec<(String, &str)> = vec![
        (authorization(&[cred, sh]), "no Signature"),
        (authorization(&[sh, sig]), "no Credential"),
        (authorization(&[cred, sig]), "no SignedHeaders"),
        (authorization(&[]), "no Credential"),
        (authorization(&[cred, cred, sh, sig]), "twice"),
        (authorization(&[cred, "SignedHeaders", sig]), "name=value"),
        (
            authorization(&[&scope("AKID/20150830/us-east-1/iam"), sh, sig]),
            "aws4_request",
        ),
        (
            authorization(&[&scope("AKID/20150830/us-east-1/iam/aws4"), sh, sig]),
            "aws4_request",
        ),
        (
            authorization(&[&scope("A/B/20150830/us-east-1/iam/aws4_request"), sh, sig]),
            "aws4_request",
        ),
        (
            authorization(&[&scope("/20150830/us-east-1/iam/aws4_request"), sh, sig]),
            "empty access key",
        ),
        (
            authorization(&[&scope("AKID/20150830/us-east-1//aws4_request"), sh, sig]),
            "or service",
        ),
        (
            authorization(&[&scope("AKID/20150831/us-east-1/iam/aws4_request"), sh, sig]),
            "credential date",
        ),
        (
            authorization(&[&scope("AKID/2015083/us-east-1/iam/aws4_request"), sh, sig]),
            "credential date",
        ),
        (
            authorization(&[cred, sh, &sig[..sig.len() - 1]]),
            "64 hexadecimal",
        ),
        (
            authorization(&[cred, sh, &format!("{sig}0")]),
            "64 hexadecimal",
        ),
        (
            authorization(&[cred, sh, &sig.replace('d', "g")]),
            "64 hexadecimal",
        ),
        (
            authorization(&[cred, "SignedHeaders=x-amz-date", sig]),
            "host must be",
        ),
        (
            authorization(&[cred, "SignedHeaders=host;range;x-amz-date", sig]),
            "range is not in",
        ),
        (
            authorization(&[cred, "SignedHeaders=host;;x-amz-date", sig]),
            "empty name",
        ),
    ];
    for (authorization, reason) in cases {
        let parts = request(
            "GET",
            "/",
            &[
                ("host", "h"),
                ("x-amz-date", "20150830T123600Z"),
                ("authorization", &authorization),
            ],
        );
        let message = malformed_message(&parts);
        assert!(message.contains(reason), "{authorization}: {message}");
    }
}

#[test]
fn a_missing_or_bad_request_time_is_malformed() {
    let authorization = &authorization(&[
        "Credential=AKID/20150830/us-east-1/iam/aws4_request",
        "SignedHeaders=host",
        &format!("Signature={IAM_SIGNATURE}"),
    ]);
    let with = |headers: &[(&'static str, &'static str)]| {
        let mut all = headers.to_vec();
        all.extend([("host", "h"), ("authorization", authorization)]);
        request("GET", "/", &all)
    };
    let cases: [(&[(&str, &str)], &str); 3] = [
        (&[], "neither X-Amz-Date nor Date"),
        (
            &[("x-amz-date", "2015-08-30T12:36:00Z")],
            "X-Amz-Date is not",
        ),
        (&[("date", "Sun, 30 Aug 2015 12:36:00")], "Date is neither"),
    ];
    for (headers, reason) in cases {
        let message = malformed_message(&with(headers));
        assert!(message.contains(reason), "{headers:?}: {message}");
    }
    // X-Amz-Date wins, so a broken Date beside it does not matter.
    let both = with(&[("x-amz-date", "20150830T123600Z"), ("date", "nonsense")]);
    assert_eq!(present(&both).amz_date, "20150830T123600Z");
}

#[test]
fn the_date_header_stands_in_for_x_amz_date() {
    for date in ["Sun, 30 Aug 2015 12:36:00 GMT", "20150830T123600Z"] {
        let headers = [("host", "h"), ("date", date)];
        let parts = signed("secret", ("GET", "/"), &headers, AKID_SCOPE, "date;host");
        let p = present(&parts);
        assert_eq!(p.amz_date, "20150830T123600Z", "{date}");
        assert_eq!(p.request_time, at("20150830T123600Z"));
        assert_eq!(check(&parts, EMPTY_SHA256, "secret"), Ok(()));
    }
}

#[test]
fn malformed_presigned_queries_are_refused() {
    let base = [
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        (
            "X-Amz-Credential",
            "AKID%2F20130524%2Fus-east-1%2Fs3%2Faws4_request",
        ),
        ("X-Amz-Date", "20130524T000000Z"),
        ("X-Amz-Expires", "86400"),
        ("X-Amz-SignedHeaders", "host"),
        (
            "X-Amz-Signature",
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
        ),
    ];
    let query = |replace: &str, with: Option<&str>| {
        let mut pairs: Vec<String> = Vec::new();
        for (name, value) in base {
            match (name == replace, with) {
                (false, _) => pairs.push(format!("{name}={value}")),
                (true, Some(other)) => pairs.push(format!("{name}={other}")),
                (true, None) => {}
            }
        }
        format!("/k?{}", pairs.join("&"))
    };
    let cases = [
        (
            query("X-Amz-Expires", Some("604801")),
            "X-Amz-Expires must be less than a week (in seconds); that is, the given \
             X-Amz-Expires must be less than 604800 seconds",
        ),
        (
            query("X-Amz-Expires", Some("0")),
            "X-Amz-Expires must be non-negative",
        ),
        (
            query("X-Amz-Expires", Some("-1")),
            "X-Amz-Expires must be non-negative",
        ),
        (
            query("X-Amz-Expires", Some("1h")),
            "X-Amz-Expires should be a number",
        ),
        (query("X-Amz-Expires", None), "no X-Amz-Expires"),
        (query("X-Amz-Date", None), "no X-Amz-Date"),
        (query("X-Amz-Date", Some("20130524")), "X-Amz-Date is not"),
        (query("X-Amz-Algorithm", None), "no X-Amz-Algorithm"),
        (
            query("X-Amz-SignedHeaders", Some("x-amz-date")),
            "host must be",
        ),
        (
            query(
                "X-Amz-Credential",
                Some("AKID%2F20130525%2Fus-east-1%2Fs3%2Faws4_request"),
            ),
            "credential date",
        ),
        (query("X-Amz-Credential", Some("%FF")), "not UTF-8"),
        (
            format!("{}&X-Amz-Date=20130524T000000Z", query("", None)),
            "more than once",
        ),
    ];
    for (uri, reason) in cases {
        let message = malformed_message(&request("GET", &uri, &[("host", "h")]));
        assert!(message.contains(reason), "{uri}: {message}");
    }
    // The limit itself is allowed.
    let longest = query("X-Amz-Expires", Some("604800"));
    let p = present(&request("GET", &longest, &[("host", "h")]));
    assert_eq!(
        p.location,
        Location::Query {
            expires_secs: 604_800
        }
    );
}

#[test]
fn other_schemes_are_unsupported_and_two_at_once_malformed() {
    let scope = "Credential=AKID/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, \
        Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
    for authorization in [
        "AWS AKIA:abc=".to_owned(),
        "Bearer abc".to_owned(),
        "aws4-hmac-sha256 x".to_owned(),
        format!("AWS4-ECDSA-P256-SHA256 {scope}"),
    ] {
        let parts = request(
            "GET",
            "/",
            &[("host", "h"), ("authorization", &authorization)],
        );
        assert_eq!(
            presented(&parts).unwrap_err(),
            SigV4Error::UnsupportedAlgorithm,
            "{authorization}"
        );
    }
    let sigv4a_query = "/k?X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&X-Amz-Credential=x";
    let parts = request("GET", sigv4a_query, &[("host", "h")]);
    assert_eq!(
        presented(&parts).unwrap_err(),
        SigV4Error::UnsupportedAlgorithm
    );

    let both = request(
        "GET",
        "/k?X-Amz-Signature=00",
        &[("host", "h"), ("authorization", "AWS AKIA:abc=")],
    );
    assert!(malformed_message(&both).contains("both"));
    let twice = request(
        "GET",
        "/k",
        &[
            ("host", "h"),
            ("authorization", "AWS AKIA:abc="),
            ("authorization", "AWS AKIA:abc="),
        ],
    );
    assert!(malformed_message(&twice).contains("more than one"));
}

#[test]
fn requests_without_authentication_present_nothing() {
    for uri in [
        "/",
        "/bucket/key",
        "/bucket?list-type=2&prefix=a%2Fb",
        "/bucket?X-Amz-Date=20130524T000000Z&X-Amz-Expires=60",
        "/bucket?x-amz-algorithm=AWS4-HMAC-SHA256",
    ] {
        let parts = request("GET", uri, &[("host", "h"), ("date", "garbage")]);
        assert!(matches!(presented(&parts), Ok(None)), "{uri}");
    }
}

#[test]
fn check_time_allows_fifteen_minutes_of_skew_and_the_presigned_window() {
    let base = present(&iam_list_users());
    let t = base.request_time;
    let later = |secs: u64| t + Duration::from_secs(secs);
    let earlier = |secs: u64| t - Duration::from_secs(secs);
    let header = Location::Header;
    let presigned = Location::Query { expires_secs: 3600 };
    let cases = [
        (header, t, Ok(())),
        (header, later(900), Ok(())),
        (header, earlier(900), Ok(())),
        (header, later(901), Err(SigV4Error::Skewed)),
        (header, earlier(901), Err(SigV4Error::Skewed)),
        (presigned, t, Ok(())),
        (presigned, later(3600), Ok(())),
        (presigned, later(3601), Err(SigV4Error::Expired)),
        (presigned, earlier(900), Ok(())),
        (presigned, earlier(901), Err(SigV4Error::NotYetValid)),
    ];
    for (location, now, expected) in cases {
        let p = Presented {
            location,
            ..base.clone()
        };
        assert_eq!(check_time(&p, now), expected, "{location:?} at {now:?}");
    }
}

#[test]
fn s3_paths_are_encoded_once_and_other_paths_normalized_and_encoded_twice() {
    // (path on the wire, canonical for s3, canonical for iam)
    let cases = [
        ("", "/", "/"),
        ("/", "/", "/"),
        ("/test.txt", "/test.txt", "/test.txt"),
        ("/my%20photo.jpg", "/my%20photo.jpg", "/my%2520photo.jpg"),
        (
            "/caf%C3%A9/%e2%82%ac",
            "/caf%C3%A9/%E2%82%AC",
            "/caf%25C3%25A9/%25E2%2582%25AC",
        ),
        ("/a+b", "/a%2Bb", "/a%252Bb"),
        (
            "/a:b=c!d@e$f",
            "/a%3Ab%3Dc%21d%40e%24f",
            "/a%253Ab%253Dc%2521d%2540e%2524f",
        ),
        ("/%7euser/%41-_.~", "/~user/A-_.~", "/~user/A-_.~"),
        ("/a%2Fb/c", "/a%2Fb/c", "/a%252Fb/c"),
        ("/100%", "/100%25", "/100%2525"),
        ("/dir/", "/dir/", "/dir/"),
        ("/bucket//a/./b/../c", "/bucket//a/./b/../c", "/bucket/a/c"),
        ("/a/b/..", "/a/b/..", "/a/"),
        ("/..", "/..", "/"),
    ];
    for (wire, s3, iam) in cases {
        assert_eq!(canonical_uri(wire, true), s3, "s3 {wire}");
        assert_eq!(canonical_uri(wire, false), iam, "iam {wire}");
    }
    // And through canonical_request, where the service in the scope decides.
    for (service, expected) in [("s3", "/k%20%2B"), ("iam", "/k%2520%252B")] {
        let scope = format!("AKID/20150830/us-east-1/{service}/aws4_request");
        let parts = signed("s", ("GET", "/k%20+"), &iam_headers(), &scope, "host");
        let canonical = canonical_request(&parts, &present(&parts), EMPTY_SHA256);
        assert_eq!(canonical.lines().nth(1), Some(expected), "{service}");
    }
}

#[test]
fn the_query_is_decoded_reencoded_and_sorted() {
    let cases = [
        ("", ""),
        ("b=2&a=1", "a=1&b=2"),
        ("a=2&a=1&a=", "a=&a=1&a=2"),
        ("acl", "acl="),
        ("acl=", "acl="),
        ("versions&prefix=", "prefix=&versions="),
        ("prefix=a%2Fb&delimiter=/", "delimiter=%2F&prefix=a%2Fb"),
        ("q=a+b", "q=a%2Bb"),
        ("q=a%20b", "q=a%20b"),
        ("k=%7e%41%2d", "k=~A-"),
        ("x=1&&y=2&", "x=1&y=2"),
        ("a=b=c", "a=b%3Dc"),
        ("B=1&a=1&_=1", "B=1&_=1&a=1"),
        ("%C3%A9=%e2%82%ac", "%C3%A9=%E2%82%AC"),
        ("a=%zz", "a=%25zz"),
        ("X-Amz-Signature=abc&b=1", "X-Amz-Signature=abc&b=1"),
    ];
    for (raw, canonical) in cases {
        assert_eq!(canonical_query(raw, false), canonical, "{raw}");
    }
    // Only a presigned request leaves its own signature out.
    assert_eq!(canonical_query("X-Amz-Signature=abc&b=1", true), "b=1");
}

#[test]
fn reencoding_borrows_exactly_what_it_would_not_change() {
    use percent_encoding::percent_encode;

    let cases = [
        "",
        "abc",
        "A-_.~9",
        "a%2Fb",
        "a%2fb",
        "%41",
        "%7E",
        "~",
        "%",
        "%4",
        "%zz",
        "a%2",
        "a b",
        "a+b",
        "%25",
        "caf%C3%A9",
        "caf\u{e9}",
        "%E2%82%AC",
        "%e2%82%ac",
        "a/b",
    ];
    for raw in cases {
        let bytes: Vec<u8> = percent_decode_str(raw).collect();
        let expected = percent_encode(&bytes, URI_ENCODE).to_string();
        let reencoded = reencode(raw);
        assert_eq!(reencoded, expected, "{raw}");
        assert_eq!(
            matches!(reencoded, Cow::Borrowed(_)),
            expected == raw,
            "{raw}"
        );
    }
}

#[test]
fn collapsing_keeps_words_and_drops_runs_of_blanks() {
    let cases = [
        ("", ""),
        (" \t ", ""),
        ("a", "a"),
        ("\ta\t", "a"),
        ("a \t b", "a b"),
        (" caf\u{e9}  \u{20ac} x ", "caf\u{e9} \u{20ac} x"),
        ("a,b; c", "a,b; c"),
        ("a  b", "a b"),
        ("a b ", "a b"),
        ("a\tb", "a b"),
        ("a b c\t", "a b c"),
    ];
    for (value, collapsed) in cases {
        let mut out = String::from(">");
        push_collapsed(&mut out, value);
        assert_eq!(out, format!(">{collapsed}"), "{value:?}");
    }
    // Long values (a session token) past the vector scan's first blocks.
    let long = "LSS1.".to_owned() + &"AbCd-_09".repeat(100);
    for (value, collapsed) in [
        (long.clone(), long.clone()),
        (format!("{long} {long}"), format!("{long} {long}")),
        (format!("{long}  {long}"), format!("{long} {long}")),
        (format!("{long}\t{long}"), format!("{long} {long}")),
        (format!("{long} "), long.clone()),
    ] {
        let mut out = String::new();
        push_collapsed(&mut out, &value);
        assert_eq!(out, collapsed);
    }
}

#[test]
fn header_values_are_trimmed_collapsed_and_joined() {
    let parts = request(
        "GET",
        "/",
        &[
            ("host", "localhost:6789"),
            ("x-amz-meta-a", "  a   b \t c  "),
            ("x-amz-meta-b", "1"),
            ("x-amz-meta-b", " 2 "),
            ("x-amz-meta-c", ""),
        ],
    );
    let cases = [
        ("host", "localhost:6789"),
        ("x-amz-meta-a", "a b c"),
        ("x-amz-meta-b", "1,2"),
        ("x-amz-meta-c", ""),
    ];
    for (name, canonical) in cases {
        assert_eq!(canonical_header_value(&parts, name), canonical, "{name}");
    }
    // Without a Host header, the authority of an absolute URI is the host.
    let absolute = request("GET", "http://bucket.localhost:6789/k", &[]);
    assert_eq!(
        canonical_header_value(&absolute, "host"),
        "bucket.localhost:6789"
    );
}

#[test]
fn debug_output_shows_no_secret_and_no_key() {
    let parts = iam_signed(IAM_SECRET);
    let p = present(&parts);
    let derived = signing_key(IAM_SECRET, "20150830", "us-east-1", "iam");
    assert_eq!(verify(&parts, &p, EMPTY_SHA256, &derived), Ok(()));
    let key = hex::encode(derived);
    let printed = format!("{p:?} {:?}", SigV4Error::SignatureMismatch);
    assert!(printed.contains("AKID"), "{printed}");
    for hidden in [IAM_SECRET, "wJalrXUtnFEMI", &key, &key[..16]] {
        assert!(!printed.contains(hidden), "{printed}");
    }
}

#[test]
fn a_credential_gives_back_its_fields_even_empty_ones() {
    for (access_key, date, region, service) in [
        ("AKID", "20150830", "us-east-1", "iam"),
        ("AKID", "20150830", "", "s3"),
        ("A", "", "", "x"),
    ] {
        let c = Credential::new(access_key, date, region, service);
        assert_eq!(
            (c.access_key(), c.date(), c.region(), c.service()),
            (access_key, date, region, service)
        );
        let debug = format!("{c:?}");
        assert!(debug.contains(&format!("region: {region:?}")), "{debug}");
    }
    // Fields are told apart by position, not by the separator.
    assert_ne!(
        Credential::new("a/b", "c", "d", "e"),
        Credential::new("a", "b/c", "d", "e")
    );
}

#[test]
fn query_value_decodes_only_the_parameter_asked_for() {
    let query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fs3%2Faws4_request\
                 &X-Amz-Security%2DToken=LSS1.abc-_%2B%2Fd+e&X-Amz-Security-Token=second&x=%FF";
    // The first one, its name compared decoded, `%2B` a plus and `+` a plus as in the
    // canonical query (not a space as in a form).
    assert_eq!(
        query_value(query, "X-Amz-Security-Token").as_deref(),
        Some("LSS1.abc-_+/d+e")
    );
    assert_eq!(
        query_value(query, "X-Amz-Credential").as_deref(),
        Some("AKID/20150830/us-east-1/s3/aws4_request")
    );
    // Undecodable bytes decode lossily, as before.
    assert_eq!(query_value(query, "x").as_deref(), Some("\u{fffd}"));
    assert_eq!(query_value(query, "X-Amz-Signature"), None);
    assert_eq!(query_value("", "X-Amz-Security-Token"), None);
    // Unescaped: borrowed from the query.
    assert!(matches!(
        query_value("X-Amz-Security-Token=LSS1.abc", "X-Amz-Security-Token"),
        Some(Cow::Borrowed("LSS1.abc"))
    ));
}
