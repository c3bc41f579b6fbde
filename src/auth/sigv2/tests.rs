use super::*;

/// The example credentials of the AWS page.
const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// The IAM pages' example secret: one character away from `SECRET`.
const OTHER_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

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

fn present(parts: &Parts) -> PresentedV2 {
    presented(parts)
        .expect("well-formed authentication")
        .expect("a signed request")
}

/// The message of a `Malformed` outcome of `presented`; any other outcome fails the test.
fn malformed_message(parts: &Parts) -> String {
    match presented(parts) {
        Err(SigV2Error::Malformed(message)) => message,
        other => panic!("expected Malformed, got {other:?}"),
    }
}

fn check(parts: &Parts, bucket: Option<&str>, secret: &str) -> Result<(), SigV2Error> {
    verify(parts, &present(parts), &Secret::new(secret.into()), bucket)
}

fn date(raw: &str) -> SystemTime {
    parse_date(raw).expect("a valid test date")
}

fn authorization(signature: &str) -> String {
    format!("AWS {ACCESS_KEY}:{signature}")
}

/// One worked example: the request, the bucket the Host header names (virtual-hosted style),
/// the StringToSign and the Signature the page prints.
struct Example {
    name: &'static str,
    method: &'static str,
    uri: &'static str,
    headers: &'static [(&'static str, &'static str)],
    bucket: Option<&'static str>,
    string_to_sign: &'static str,
    signature: &'static str,
}

/// The examples of <https://docs.aws.amazon.com/AmazonS3/latest/API/RESTAuthentication.html#RESTAuthenticationExamples>
/// whose printed signature is the HMAC of their printed StringToSign. (Delete, Upload and the
/// query example do not hold together on the page and have tests of their own below.)
const PAGE_EXAMPLES: &[Example] = &[
    Example {
        name: "Object GET",
        method: "GET",
        uri: "/photos/puppy.jpg",
        headers: &[
            ("host", "awsexamplebucket1.us-west-1.s3.amazonaws.com"),
            ("date", "Tue, 27 Mar 2007 19:36:42 +0000"),
        ],
        bucket: Some("awsexamplebucket1"),
        string_to_sign: "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg",
        signature: "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=",
    },
    Example {
        name: "Object PUT",
        method: "PUT",
        uri: "/photos/puppy.jpg",
        headers: &[
            ("content-type", "image/jpeg"),
            ("content-length", "94328"),
            ("host", "awsexamplebucket1.s3.us-west-1.amazonaws.com"),
            ("date", "Tue, 27 Mar 2007 21:15:45 +0000"),
        ],
        bucket: Some("awsexamplebucket1"),
        string_to_sign:
            "PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/awsexamplebucket1/photos/puppy.jpg",
        signature: "iqRzw+ileNPu1fhspnRs8nOjjIA=",
    },
    Example {
        name: "List (query parameters that are not sub-resources are not signed)",
        method: "GET",
        uri: "/?prefix=photos&max-keys=50&marker=puppy",
        headers: &[
            ("user-agent", "Mozilla/5.0"),
            ("host", "awsexamplebucket1.s3.us-west-1.amazonaws.com"),
            ("date", "Tue, 27 Mar 2007 19:42:41 +0000"),
        ],
        bucket: Some("awsexamplebucket1"),
        string_to_sign: "GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/awsexamplebucket1/",
        signature: "m0WP8eCtspQl5Ahe6L1SozdX9YA=",
    },
    Example {
        name: "Fetch (a sub-resource without a value)",
        method: "GET",
        uri: "/?acl",
        headers: &[
            ("host", "awsexamplebucket1.s3.us-west-1.amazonaws.com"),
            ("date", "Tue, 27 Mar 2007 19:44:46 +0000"),
        ],
        bucket: Some("awsexamplebucket1"),
        string_to_sign: "GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/awsexamplebucket1/?acl",
        signature: "82ZHiFIjc+WbcwFKGUVEQspPn+0=",
    },
    Example {
        name: "List all my buckets",
        method: "GET",
        uri: "/",
        headers: &[
            ("host", "s3.us-west-1.amazonaws.com"),
            ("date", "Wed, 28 Mar 2007 01:29:59 +0000"),
        ],
        bucket: None,
        string_to_sign: "GET\n\n\nWed, 28 Mar 2007 01:29:59 +0000\n/",
        signature: "qGdzdERIC03wnaRNKh6OqZehG9s=",
    },
    Example {
        name: "Unicode keys (the path is signed as sent, escapes and their case included)",
        method: "GET",
        uri: "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
        headers: &[
            ("host", "s3.us-west-1.amazonaws.com"),
            ("date", "Wed, 28 Mar 2007 01:49:49 +0000"),
        ],
        bucket: None,
        string_to_sign: "GET\n\n\nWed, 28 Mar 2007 01:49:49 +0000\n/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
        signature: "DNEZGsoieTZ92F3bUfSPQcbGmlM=",
    },
];

fn example_request(example: &Example) -> Parts {
    let authorization = authorization(example.signature);
    let mut headers = example.headers.to_vec();
    headers.push(("authorization", &authorization));
    request(example.method, example.uri, &headers)
}

#[test]
fn page_examples_string_to_sign_and_signature() {
    for example in PAGE_EXAMPLES {
        let parts = example_request(example);
        let p = present(&parts);
        assert_eq!(p.access_key, ACCESS_KEY, "{}", example.name);
        assert_eq!(p.location, Location::Header, "{}", example.name);
        assert_eq!(
            string_to_sign(&parts, &p, example.bucket),
            example.string_to_sign,
            "{}",
            example.name
        );
        assert_eq!(
            check(&parts, example.bucket, SECRET),
            Ok(()),
            "{}",
            example.name
        );
    }
}

#[test]
fn page_examples_refuse_the_wrong_secret() {
    for example in PAGE_EXAMPLES {
        let parts = example_request(example);
        assert_eq!(
            check(&parts, example.bucket, OTHER_SECRET),
            Err(SigV2Error::SignatureMismatch),
            "{}",
            example.name
        );
    }
}

#[test]
fn page_example_without_the_bucket_or_on_another_path_does_not_verify() {
    let get = example_request(&PAGE_EXAMPLES[0]);
    // Path-style reading of a virtual-hosted request: "/photos/puppy.jpg" is not what was signed.
    assert_eq!(
        check(&get, None, SECRET),
        Err(SigV2Error::SignatureMismatch)
    );
    let mut moved = get.clone();
    moved.uri = "/photos/kitten.jpg".parse().expect("a valid URI");
    let signed = present(&get);
    let secret = Secret::new(SECRET.into());
    assert_eq!(
        verify(&moved, &signed, &secret, Some("awsexamplebucket1")),
        Err(SigV2Error::SignatureMismatch)
    );
}

/// The page's Delete example prints the `x-amz-date` value on the Date line and no amz header,
/// and its signature signs exactly that; but its own rule, the JavaScript SDK v2 ("The S3
/// signing mechanism requires us to pass an empty string for this Date header regardless")
/// and boto all leave the Date line empty and sign `x-amz-date` as an amz header. The rule
/// is followed, so the printed signature is refused.
#[test]
fn delete_with_x_amz_date_follows_the_rule_not_the_example() {
    let headers = |signature: &str| {
        let authorization = authorization(signature);
        request(
            "DELETE",
            "/awsexamplebucket1/photos/puppy.jpg",
            &[
                ("user-agent", "dotnet"),
                ("host", "s3.us-west-1.amazonaws.com"),
                ("date", "Tue, 27 Mar 2007 21:20:27 +0000"),
                ("x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000"),
                ("authorization", &authorization),
            ],
        )
    };
    // HMAC-SHA1 of the string below under SECRET, computed apart (Python's hmac module).
    let parts = headers("Ri1hpB1zpS9pGqR7y8kuNFCl4sE=");
    let p = present(&parts);
    assert_eq!(
        string_to_sign(&parts, &p, None),
        "DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/awsexamplebucket1/photos/puppy.jpg"
    );
    assert_eq!(check(&parts, None, SECRET), Ok(()));
    // x-amz-date, not Date, is the request time.
    assert_eq!(p.request_time, Some(date("Tue, 27 Mar 2007 21:20:26 GMT")));
    let page_signature = headers("XbyTlbQdu9Xw5o8P4iMwPktxQd8=");
    assert_eq!(
        check(&page_signature, None, SECRET),
        Err(SigV2Error::SignatureMismatch)
    );
}

/// The page's Upload example: a CNAME bucket, repeated and mixed-case amz headers, Content-MD5
/// and Content-Type on their lines, the other Content-* headers unsigned.
fn upload(domain: &str, signature: &str) -> Parts {
    let host = format!("static.{domain}:8080");
    let joe = format!("joe@{domain}");
    let jane = format!("jane@{domain}");
    let authorization = authorization(signature);
    request(
        "PUT",
        "/db-backup.dat.gz",
        &[
            ("user-agent", "curl/7.15.5"),
            ("host", &host),
            ("date", "Tue, 27 Mar 2007 21:06:08 +0000"),
            ("x-amz-acl", "public-read"),
            ("content-type", "application/x-download"),
            ("content-md5", "4gJE4saaMU4BqNR0kLY+lw=="),
            ("X-Amz-Meta-ReviewedBy", &joe),
            ("X-Amz-Meta-ReviewedBy", &jane),
            ("X-Amz-Meta-FileChecksum", "0x02661779"),
            ("X-Amz-Meta-ChecksumAlgorithm", "crc32"),
            ("content-disposition", "attachment; filename=database.dat"),
            ("content-encoding", "gzip"),
            ("content-length", "5913339"),
            ("authorization", &authorization),
        ],
    )
}

/// The page prints this example with example.com names but with the signature of its previous
/// revision, which used awsexamplebucket1.net ones (github.com/awsdocs/amazon-s3-developer-guide,
/// doc_source/RESTAuthentication.md): the StringToSign is checked with the names as printed
/// now, the printed signature with the names it was computed for.
#[test]
fn upload_with_many_amz_headers() {
    let parts = upload("example.com", "dKZcB+bz2EPXgSdXZp9ozGeOM4I=");
    let p = present(&parts);
    assert_eq!(
        string_to_sign(&parts, &p, Some("static.example.com")),
        "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n\
         x-amz-acl:public-read\n\
         x-amz-meta-checksumalgorithm:crc32\n\
         x-amz-meta-filechecksum:0x02661779\n\
         x-amz-meta-reviewedby:joe@example.com,jane@example.com\n\
         /static.example.com/db-backup.dat.gz"
    );
    let earlier = upload("awsexamplebucket1.net", "dKZcB+bz2EPXgSdXZp9ozGeOM4I=");
    assert_eq!(
        check(&earlier, Some("static.awsexamplebucket1.net"), SECRET),
        Ok(())
    );
}

/// The page's query string example. Its StringToSign names awsexamplebucket1, but its
/// signature was computed before the examples' bucket was renamed from johnsmith (the same
/// request under that name verifies): both are checked.
#[test]
fn query_string_example() {
    let parts = request(
        "GET",
        "/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&\
         Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620",
        &[("host", "awsexamplebucket1.s3.us-west-1.amazonaws.com")],
    );
    let p = present(&parts);
    assert_eq!(p.access_key, ACCESS_KEY);
    assert_eq!(
        p.location,
        Location::Query {
            expires: timefmt::from_unix_seconds(1_175_139_620)
        }
    );
    assert_eq!(p.request_time, None);
    assert_eq!(
        string_to_sign(&parts, &p, Some("awsexamplebucket1")),
        "GET\n\n\n1175139620\n/awsexamplebucket1/photos/puppy.jpg"
    );
    assert_eq!(check(&parts, Some("johnsmith"), SECRET), Ok(()));
    assert_eq!(
        check(&parts, Some("johnsmith"), OTHER_SECRET),
        Err(SigV2Error::SignatureMismatch)
    );
}

/// URLs printed by `aws s3 presign` (aws-cli 1.45.11, botocore 1.43.11) with the example
/// credentials: path-style against a custom endpoint (a key holding a literal `%20`, sent as
/// `%2520`), and virtual-hosted style (a key with a space and a plus).
#[test]
fn aws_cli_v1_presigned_urls() {
    let cases = [
        (
            "/examplebucket/photos/my%2520cat.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&\
             Signature=68YLP3l7i4RsIapw%2BeTXmjbHzjE%3D&Expires=1795349374",
            "127.0.0.1:9000",
            None,
        ),
        (
            "/photos/my%20cat%2Bdog.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&\
             Signature=bAQlSS8Om1sctDOGV86mes1%2BlN0%3D&Expires=1795349374",
            "examplebucket.s3.amazonaws.com",
            Some("examplebucket"),
        ),
    ];
    for (uri, host, bucket) in cases {
        let parts = request("GET", uri, &[("host", host)]);
        assert_eq!(check(&parts, bucket, SECRET), Ok(()), "{uri}");
        let p = present(&parts);
        let expires = timefmt::from_unix_seconds(1_795_349_374);
        assert_eq!(check_time(&p, expires - Duration::from_secs(600)), Ok(()));
        assert_eq!(check_time(&p, expires), Ok(()));
        assert_eq!(
            check_time(&p, expires + Duration::from_secs(1)),
            Err(SigV2Error::Expired)
        );
    }
}

/// Signed by botocore's `HmacV1Auth` (the aws CLI v1's SigV2 header signer) with its clock
/// fixed: sub-resources sorted and percent-decoded (`versionId` included), response overrides
/// decoded, a non-sub-resource (`prefix`) left out, amz headers lowercased, sorted, repeated
/// values joined, inner spaces kept.
#[test]
fn botocore_header_signature() {
    let parts = request(
        "GET",
        "/my%20photos/caf%C3%A9.jpg?versionId=3%2FL4kqtJlcpXroDTDmpUMLUo&prefix=ignored\
         &response-content-disposition=attachment%3B%20filename%3D%22caf%C3%A9.jpg%22\
         &response-content-type=image%2Fjpeg&acl",
        &[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("content-type", "image/jpeg"),
            ("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg=="),
            ("x-amz-meta-note", "two  spaces inside"),
            ("x-amz-meta-multi", "first"),
            ("x-amz-meta-multi", "second"),
            ("x-amz-acl", "private"),
            ("date", "Wed, 01 Mar 2023 12:00:00 GMT"),
            (
                "authorization",
                &authorization("HL2noC/onbSno6WHJXhqPdRL9rY="),
            ),
        ],
    );
    let p = present(&parts);
    assert_eq!(
        string_to_sign(&parts, &p, Some("examplebucket")),
        "GET\n1B2M2Y8AsgTpgAmY7PhCfg==\nimage/jpeg\nWed, 01 Mar 2023 12:00:00 GMT\n\
         x-amz-acl:private\nx-amz-meta-multi:first,second\nx-amz-meta-note:two  spaces inside\n\
         /examplebucket/my%20photos/caf%C3%A9.jpg?acl\
         &response-content-disposition=attachment; filename=\"café.jpg\"\
         &response-content-type=image/jpeg&versionId=3/L4kqtJlcpXroDTDmpUMLUo"
    );
    assert_eq!(check(&parts, Some("examplebucket"), SECRET), Ok(()));
}

/// Presigned by botocore's `HmacV1QueryAuth` with a session token: botocore signs the token as
/// an amz header and then moves it into the query, where it must be read back as one.
#[test]
fn botocore_presigned_with_a_session_token() {
    let parts = request(
        "GET",
        "/examplebucket/report.pdf?response-content-type=application%2Fpdf&uploadId=abc\
         &AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=vSD3XAeDMB%2F%2FLbof3xfGqFSLqQQ%3D\
         &x-amz-security-token=FQoGZXIvYXdzEXAMPLETOKEN%2F%2B%3D&Expires=1677672000",
        &[("host", "127.0.0.1:9000")],
    );
    let p = present(&parts);
    assert_eq!(
        string_to_sign(&parts, &p, None),
        "GET\n\n\n1677672000\nx-amz-security-token:FQoGZXIvYXdzEXAMPLETOKEN/+=\n\
         /examplebucket/report.pdf?response-content-type=application/pdf&uploadId=abc"
    );
    assert_eq!(check(&parts, None, SECRET), Ok(()));
}

#[test]
fn header_auth_ignores_amz_and_content_query_parameters() {
    let parts = request(
        "PUT",
        "/b/k?x-amz-acl=public-read&content-type=text%2Fplain",
        &[
            ("date", "Wed, 01 Mar 2023 12:00:00 GMT"),
            (
                "authorization",
                &authorization("qgk2+6Sv9/oM7G3qLEjTH1a1l1g="),
            ),
        ],
    );
    let p = present(&parts);
    assert_eq!(
        string_to_sign(&parts, &p, None),
        "PUT\n\n\nWed, 01 Mar 2023 12:00:00 GMT\n/b/k"
    );
}

#[test]
fn presigned_content_type_from_the_query_unless_sent_as_a_header() {
    let uri = "/b/k?AWSAccessKeyId=AK&Signature=qgk2%2B6Sv9%2FoM7G3qLEjTH1a1l1g%3D\
               &Expires=1677672000&content-type=text%2Fplain&Content-MD5=abc%3D%3D";
    let from_query = request("PUT", uri, &[]);
    let p = present(&from_query);
    assert_eq!(
        string_to_sign(&from_query, &p, None),
        "PUT\nabc==\ntext/plain\n1677672000\n/b/k"
    );
    let with_header = request("PUT", uri, &[("content-type", "image/png")]);
    assert_eq!(
        string_to_sign(&with_header, &p, None),
        "PUT\nabc==\nimage/png\n1677672000\n/b/k"
    );
}

#[test]
fn sub_resources_sorted_bare_names_and_empty_values() {
    let parts = request(
        "POST",
        "/b/k?uploads=&delete&tagging&versionId=&partNumber=2&uploadId=u.1-x\
         &AWSAccessKeyId=AK&Signature=qgk2%2B6Sv9%2FoM7G3qLEjTH1a1l1g%3D&Expires=1\
         &list-type=2&x-id=PutObject",
        &[],
    );
    let p = present(&parts);
    assert_eq!(
        string_to_sign(&parts, &p, None),
        "POST\n\n\n1\n/b/k?delete&partNumber=2&tagging&uploadId=u.1-x&uploads&versionId"
    );
}

#[test]
fn amz_header_values_are_trimmed_and_names_lowercased() {
    let mut parts = request(
        "GET",
        "/",
        &[
            ("date", "Wed, 01 Mar 2023 12:00:00 GMT"),
            (
                "authorization",
                &authorization("qgk2+6Sv9/oM7G3qLEjTH1a1l1g="),
            ),
        ],
    );
    parts.headers.append(
        "X-Amz-Meta-B",
        HeaderValue::from_static("\t spaced value  "),
    );
    parts
        .headers
        .append("x-amz-meta-a", HeaderValue::from_static(" 1 "));
    let p = present(&parts);
    assert_eq!(
        string_to_sign(&parts, &p, None),
        "GET\n\n\nWed, 01 Mar 2023 12:00:00 GMT\nx-amz-meta-a:1\nx-amz-meta-b:spaced value\n/"
    );
}

#[test]
fn dates_with_gmt_or_a_numeric_zone() {
    let gmt = date("Tue, 27 Mar 2007 19:36:42 GMT");
    assert_eq!(date("Tue, 27 Mar 2007 19:36:42 +0000"), gmt);
    assert_eq!(date("Tue, 27 Mar 2007 21:36:42 +0200"), gmt);
    assert_eq!(date("Tue, 27 Mar 2007 14:06:42 -0530"), gmt);
    assert_eq!(date("Tuesday, 27-Mar-07 19:36:42 GMT"), gmt);
    for bad in [
        "Tue, 27 Mar 2007 19:36:42 +000",
        "Tue, 27 Mar 2007 19:36:42 +0060",
        "Tue, 27 Mar 2007 19:36:42 UTC",
        "20070327T193642Z",
        "",
    ] {
        assert_eq!(parse_date(bad), None, "{bad}");
    }
}

#[test]
fn header_time_is_checked_within_fifteen_minutes() {
    let parts = example_request(&PAGE_EXAMPLES[0]);
    let p = present(&parts);
    let signed_at = date("Tue, 27 Mar 2007 19:36:42 GMT");
    assert_eq!(p.request_time, Some(signed_at));
    let minutes = |m: u64| Duration::from_secs(m * 60);
    assert_eq!(check_time(&p, signed_at), Ok(()));
    assert_eq!(check_time(&p, signed_at + minutes(15)), Ok(()));
    assert_eq!(check_time(&p, signed_at - minutes(15)), Ok(()));
    assert_eq!(
        check_time(&p, signed_at + minutes(16)),
        Err(SigV2Error::Skewed)
    );
    assert_eq!(
        check_time(&p, signed_at - minutes(16)),
        Err(SigV2Error::Skewed)
    );
}

#[test]
fn header_auth_without_a_date_fails_the_time_check() {
    let parts = request(
        "GET",
        "/",
        &[(
            "authorization",
            &authorization("qgk2+6Sv9/oM7G3qLEjTH1a1l1g="),
        )],
    );
    let p = present(&parts);
    assert_eq!(p.request_time, None);
    assert!(matches!(
        check_time(&p, SystemTime::UNIX_EPOCH),
        Err(SigV2Error::Malformed(_))
    ));
    // The Date line is then empty: the signature can still be computed, just not accepted.
    assert_eq!(string_to_sign(&parts, &p, None), "GET\n\n\n\n/");
}

#[test]
fn unparseable_dates_are_malformed() {
    let auth = authorization("qgk2+6Sv9/oM7G3qLEjTH1a1l1g=");
    let bad_date = request(
        "GET",
        "/",
        &[("date", "yesterday"), ("authorization", &auth)],
    );
    assert!(malformed_message(&bad_date).contains("Date"));
    // A bad x-amz-date is not rescued by a good Date: x-amz-date is the one signed.
    let bad_amz_date = request(
        "GET",
        "/",
        &[
            ("date", "Tue, 27 Mar 2007 19:36:42 GMT"),
            ("x-amz-date", "20070327T193642Z"),
            ("authorization", &auth),
        ],
    );
    assert!(malformed_message(&bad_amz_date).contains("x-amz-date"));
}

#[test]
fn malformed_authorization_headers() {
    let cases = [
        "AWS nocolon",
        "AWS :qgk2+6Sv9/oM7G3qLEjTH1a1l1g=",
        "AWS AK ID:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=",
        "AWS AKIAIOSFODNN7EXAMPLE:not*base64!",
        "AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g",
        "AWS AKIAIOSFODNN7EXAMPLE:AAAA",
        "AWS AKIAIOSFODNN7EXAMPLE:",
    ];
    for value in cases {
        let parts = request(
            "GET",
            "/",
            &[
                ("date", "Tue, 27 Mar 2007 19:36:42 GMT"),
                ("authorization", value),
            ],
        );
        malformed_message(&parts);
    }
}

#[test]
fn space_around_the_colon_is_tolerated() {
    let parts = request(
        "GET",
        "/photos/puppy.jpg",
        &[
            ("date", "Tue, 27 Mar 2007 19:36:42 +0000"),
            (
                "authorization",
                "AWS  AKIAIOSFODNN7EXAMPLE: qgk2+6Sv9/oM7G3qLEjTH1a1l1g=",
            ),
        ],
    );
    assert_eq!(present(&parts).access_key, ACCESS_KEY);
    assert_eq!(check(&parts, Some("awsexamplebucket1"), SECRET), Ok(()));
}

#[test]
fn malformed_presigned_queries() {
    let sig = "Signature=qgk2%2B6Sv9%2FoM7G3qLEjTH1a1l1g%3D";
    let cases = [
        "/k?AWSAccessKeyId=AK&Expires=1".to_owned(),
        format!("/k?{sig}&Expires=1"),
        format!("/k?AWSAccessKeyId=AK&{sig}"),
        format!("/k?AWSAccessKeyId=&{sig}&Expires=1"),
        format!("/k?AWSAccessKeyId=AK&{sig}&Expires=1&Expires=2"),
        format!("/k?AWSAccessKeyId=AK&{sig}&Expires=soon"),
        format!("/k?AWSAccessKeyId=AK&{sig}&Expires=%2B5"),
        format!("/k?AWSAccessKeyId=AK&{sig}&Expires=0012"),
        format!("/k?AWSAccessKeyId=AK&{sig}&Expires=-1"),
        format!("/k?AWSAccessKeyId=AK&{sig}&Expires=99999999999999999999"),
        "/k?AWSAccessKeyId=AK&Signature=AAAA&Expires=1".to_owned(),
        "/k?AWSAccessKeyId=AK&Signature=%FF&Expires=1".to_owned(),
    ];
    for uri in &cases {
        malformed_message(&request("GET", uri, &[]));
    }
}

#[test]
fn only_one_auth_mechanism() {
    let auth = authorization("qgk2+6Sv9/oM7G3qLEjTH1a1l1g=");
    let both = request(
        "GET",
        "/k?AWSAccessKeyId=AK&Signature=qgk2%2B6Sv9%2FoM7G3qLEjTH1a1l1g%3D&Expires=1",
        &[("authorization", &auth)],
    );
    assert!(malformed_message(&both).contains("both"));
    let twice = request(
        "GET",
        "/k",
        &[("authorization", &auth), ("authorization", &auth)],
    );
    assert!(malformed_message(&twice).contains("more than one"));
}

#[test]
fn requests_that_are_not_sigv2_are_none() {
    let sigv4 = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/\
                 aws4_request, SignedHeaders=host;x-amz-date, Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
    let cases = [
        request("GET", "/b/k", &[("date", "Tue, 27 Mar 2007 19:36:42 GMT")]),
        request("GET", "/b/k?acl&prefix=a", &[]),
        request("GET", "/b/k", &[("authorization", sigv4)]),
        // SigV4 owns a request whose Authorization is SigV4, whatever its query holds.
        request("GET", "/b/k?Expires=1", &[("authorization", sigv4)]),
        request("GET", "/b/k", &[("authorization", "Bearer abc")]),
        request("GET", "/b/k", &[("authorization", "AWS4-HMAC-SHA256")]),
        request(
            "GET",
            "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00&X-Amz-Expires=60",
            &[],
        ),
    ];
    for parts in &cases {
        assert!(
            matches!(presented(parts), Ok(None)),
            "{:?} {:?}",
            parts.uri,
            parts.headers
        );
    }
}
