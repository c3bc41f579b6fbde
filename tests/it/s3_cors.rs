//! CORS through `aws-sdk-s3` at default settings: Put/Get/DeleteBucketCors and S3's
//! validation of the rules; the preflight (`OPTIONS`, unsigned, as a browser sends it) and the
//! CORS headers of actual requests that carry `Origin` (signed or anonymous raw requests:
//! the SDK sends no `Origin`), on successes and errors alike. Raw signed requests otherwise
//! only for bodies no SDK sends (no Content-MD5 nor checksum).

use crate::common;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CorsConfiguration, CorsRule};
use aws_sdk_s3::Client;
use common::signing::{s3_call, send, Signer};
use common::{error_code_status, Response, TestServer, ROOT_SECRET};

const B: &str = "browsed";

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn rule(origins: &[&str], methods: &[&str]) -> aws_sdk_s3::types::builders::CorsRuleBuilder {
    CorsRule::builder()
        .set_allowed_origins(Some(strings(origins)))
        .set_allowed_methods(Some(strings(methods)))
}

fn config(rules: Vec<CorsRule>) -> CorsConfiguration {
    CorsConfiguration::builder()
        .set_cors_rules(Some(rules))
        .build()
        .unwrap()
}

async fn put(s3: &Client, rules: Vec<CorsRule>) -> Result<(), (String, u16, String)> {
    s3.put_bucket_cors()
        .bucket(B)
        .cors_configuration(config(rules))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            let status = e.raw_response().map_or(0, |r| r.status().as_u16());
            let code = e.code().unwrap_or_default().to_owned();
            let message = e.message().unwrap_or_default().to_owned();
            (code, status, message)
        })
}

/// The rules a browser-facing bucket gets in these tests: a specific origin allowed to read
/// and write with `x-amz-*` headers, exposing ETag; any origin allowed to GET.
fn browser_rules() -> Vec<CorsRule> {
    vec![
        rule(&["http://app.example.com"], &["GET", "PUT", "HEAD"])
            .id("app")
            .allowed_headers("x-amz-*")
            .allowed_headers("Content-Type")
            .expose_headers("ETag")
            .expose_headers("x-amz-version-id")
            .max_age_seconds(600)
            .build()
            .unwrap(),
        rule(&["http://*.other.org"], &["DELETE"]).build().unwrap(),
        rule(&["*"], &["GET"]).build().unwrap(),
    ]
}

async fn setup() -> (TestServer, Client) {
    let server = TestServer::start();
    let s3 = server.with_bucket(B).await;
    s3.put_object()
        .bucket(B)
        .key("k")
        .body(ByteStream::from_static(b"data"))
        .send()
        .await
        .unwrap();
    (server, s3)
}

/// An unsigned request, as a browser sends a preflight (or an anonymous request).
fn browser(server: &TestServer, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut all = vec![("Host".to_owned(), server.s3.to_string())];
    all.extend(
        headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
    );
    send(server.s3, method, path, &all, "")
}

/// A request signed by the root, with extra headers (`Origin`).
fn signed(server: &TestServer, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let signer = Signer::s3("admin", ROOT_SECRET);
    s3_call(server.s3, &signer, method, path, headers, "")
}

/// The `<Code>` of an error body.
fn code(r: &Response) -> &str {
    element(r, "Code")
}

fn element<'a>(r: &'a Response, name: &str) -> &'a str {
    let open = format!("<{name}>");
    let start = r.body.find(&open).map(|i| i + open.len());
    start
        .and_then(|s| {
            r.body[s..]
                .find(&format!("</{name}>"))
                .map(|e| &r.body[s..s + e])
        })
        .unwrap_or_default()
}

const CORS_HEADERS: [&str; 7] = [
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
    "access-control-max-age",
    "vary",
];

fn no_cors_headers(r: &Response) {
    for name in CORS_HEADERS {
        assert_eq!(r.header(name), None, "{name} in {r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_are_put_read_back_and_deleted() {
    let (_server, s3) = setup().await;
    let r = s3.get_bucket_cors().bucket(B).send().await;
    assert_eq!(
        error_code_status(r),
        ("NoSuchCORSConfiguration".to_owned(), 404)
    );
    put(&s3, browser_rules()).await.unwrap();
    let got = s3.get_bucket_cors().bucket(B).send().await.unwrap();
    let rules = got.cors_rules();
    assert_eq!(rules.len(), 3);
    assert_eq!(rules[0].id(), Some("app"));
    assert_eq!(rules[0].allowed_origins(), ["http://app.example.com"]);
    assert_eq!(rules[0].allowed_methods(), ["GET", "PUT", "HEAD"]);
    assert_eq!(rules[0].allowed_headers(), ["x-amz-*", "Content-Type"]);
    assert_eq!(rules[0].expose_headers(), ["ETag", "x-amz-version-id"]);
    assert_eq!(rules[0].max_age_seconds(), Some(600));
    assert_eq!(rules[1].allowed_origins(), ["http://*.other.org"]);
    assert_eq!(rules[2].id(), None);
    assert_eq!(rules[2].max_age_seconds(), None);
    assert!(rules[2].allowed_headers().is_empty());
    // A second put replaces the rules.
    put(&s3, vec![rule(&["http://x"], &["POST"]).build().unwrap()])
        .await
        .unwrap();
    let got = s3.get_bucket_cors().bucket(B).send().await.unwrap();
    assert_eq!(got.cors_rules().len(), 1);
    assert_eq!(got.cors_rules()[0].allowed_methods(), ["POST"]);
    s3.delete_bucket_cors().bucket(B).send().await.unwrap();
    let r = s3.get_bucket_cors().bucket(B).send().await;
    assert_eq!(
        error_code_status(r),
        ("NoSuchCORSConfiguration".to_owned(), 404)
    );
    // Deleting rules that are not there succeeds, as in S3.
    s3.delete_bucket_cors().bucket(B).send().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (server, s3) = common::start_with_bucket(dir.path(), B).await;
        put(&s3, browser_rules()).await.unwrap();
        server.stop();
    }
    let server = common::start_with_root(dir.path());
    let s3 = common::s3_client(&server);
    let got = s3.get_bucket_cors().bucket(B).send().await.unwrap();
    assert_eq!(got.cors_rules().len(), 3);
    let r = browser(
        &server,
        "OPTIONS",
        &format!("/{B}/k"),
        &[
            ("Origin", "http://app.example.com"),
            ("Access-Control-Request-Method", "PUT"),
        ],
    );
    assert_eq!(r.status, 200, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_rules_are_refused_as_s3_refuses_them() {
    let (_server, s3) = setup().await;
    let invalid = |message: &str| ("InvalidRequest".to_owned(), 400, message.to_owned());
    let cases: Vec<(Vec<CorsRule>, (String, u16, String))> = vec![
        (
            vec![rule(&["*"], &["PATCH"]).build().unwrap()],
            invalid("Found unsupported HTTP method in CORS config. Unsupported method is PATCH"),
        ),
        (
            vec![rule(&["http://*.*.example.com"], &["GET"]).build().unwrap()],
            invalid("AllowedOrigin \"http://*.*.example.com\" can not have more than one wildcard."),
        ),
        (
            vec![rule(&["*"], &["GET"]).allowed_headers("x-*-*").build().unwrap()],
            invalid("AllowedHeader \"x-*-*\" can not have more than one wildcard."),
        ),
        (
            vec![rule(&["*"], &["GET"]).expose_headers("*").build().unwrap()],
            invalid("ExposeHeader \"*\" contains wildcard. We currently do not support wildcard for ExposeHeader."),
        ),
        (
            vec![rule(&["*"], &["GET"]).id("i".repeat(256)).build().unwrap()],
            invalid(&format!(
                "The ID value can be up to 255 characters long. Invalid ID is \"{}\"",
                "i".repeat(256)
            )),
        ),
        (
            (0..101).map(|_| rule(&["*"], &["GET"]).build().unwrap()).collect(),
            invalid("The number of CORS rules should not exceed allowed limit of 100 rules."),
        ),
    ];
    for (rules, expected) in cases {
        assert_eq!(put(&s3, rules).await.unwrap_err(), expected);
    }
    let malformed = |r: Result<(), (String, u16, String)>| {
        let (code, status, _) = r.unwrap_err();
        assert_eq!((code.as_str(), status), ("MalformedXML", 400));
    };
    // No rule, a rule without an origin or without a method, a negative age.
    malformed(put(&s3, Vec::new()).await);
    malformed(put(&s3, vec![rule(&[], &["GET"]).build().unwrap()]).await);
    malformed(put(&s3, vec![rule(&["*"], &[]).build().unwrap()]).await);
    malformed(
        put(
            &s3,
            vec![rule(&["*"], &["GET"]).max_age_seconds(-1).build().unwrap()],
        )
        .await,
    );
    // 100 rules are accepted; nothing refused was stored.
    let r = s3.get_bucket_cors().bucket(B).send().await;
    assert_eq!(error_code_status(r).0, "NoSuchCORSConfiguration");
    put(
        &s3,
        (0..100)
            .map(|_| rule(&["*"], &["GET"]).build().unwrap())
            .collect(),
    )
    .await
    .unwrap();
    let r = s3
        .put_bucket_cors()
        .bucket("missing")
        .cors_configuration(config(browser_rules()))
        .send()
        .await;
    assert_eq!(error_code_status(r), ("NoSuchBucket".to_owned(), 404));
}

/// S3 requires Content-MD5 (or a checksum) on PutBucketCors, and checks it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_needs_and_checks_its_digest() {
    let (server, s3) = setup().await;
    let body = "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>\
                <AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>";
    let signer = Signer::s3("admin", ROOT_SECRET);
    let r = s3_call(server.s3, &signer, "PUT", &format!("/{B}?cors"), &[], body);
    assert_eq!((r.status, code(&r)), (400, "InvalidRequest"), "{r:?}");
    assert_eq!(
        element(&r, "Message"),
        "Missing required header for this request: Content-MD5"
    );
    let wrong = [("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg==")];
    let r = s3_call(
        server.s3,
        &signer,
        "PUT",
        &format!("/{B}?cors"),
        &wrong,
        body,
    );
    assert_eq!((r.status, code(&r)), (400, "BadDigest"), "{r:?}");
    let r = s3.get_bucket_cors().bucket(B).send().await;
    assert_eq!(error_code_status(r).0, "NoSuchCORSConfiguration");
    // Not well-formed.
    let md5 = {
        use base64::Engine;
        use md5::{Digest, Md5};
        base64::engine::general_purpose::STANDARD.encode(Md5::digest(b"<CORSConfiguration>"))
    };
    let r = s3_call(
        server.s3,
        &signer,
        "PUT",
        &format!("/{B}?cors"),
        &[("content-md5", &md5)],
        "<CORSConfiguration>",
    );
    assert_eq!((r.status, code(&r)), (400, "MalformedXML"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_matching_preflight_is_allowed() {
    let (server, s3) = setup().await;
    put(&s3, browser_rules()).await.unwrap();
    // On an object, with requested headers (any case, any spacing), without credentials.
    let r = browser(
        &server,
        "OPTIONS",
        &format!("/{B}/k"),
        &[
            ("Origin", "http://app.example.com"),
            ("Access-Control-Request-Method", "PUT"),
            (
                "Access-Control-Request-Headers",
                "X-Amz-Date,content-type, x-amz-content-sha256",
            ),
        ],
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body, "");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://app.example.com")
    );
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("GET, PUT, HEAD")
    );
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("x-amz-date, content-type, x-amz-content-sha256")
    );
    assert_eq!(
        r.header("access-control-expose-headers"),
        Some("ETag, x-amz-version-id")
    );
    assert_eq!(r.header("access-control-max-age"), Some("600"));
    assert_eq!(
        r.header("vary"),
        Some("Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
    );
    // On the bucket, and for a key that does not exist: a preflight does not look it up.
    for path in [
        format!("/{B}"),
        format!("/{B}/"),
        format!("/{B}/no/such/key"),
    ] {
        let r = browser(
            &server,
            "OPTIONS",
            &path,
            &[
                ("Origin", "http://app.example.com"),
                ("Access-Control-Request-Method", "GET"),
            ],
        );
        assert_eq!(r.status, 200, "{path}: {r:?}");
        assert_eq!(r.header("access-control-allow-headers"), None);
    }
    // A wildcard origin pattern echoes the origin; the `*` rule answers `*`, no credentials.
    let r = browser(
        &server,
        "OPTIONS",
        &format!("/{B}/k"),
        &[
            ("Origin", "http://a.b.other.org"),
            ("Access-Control-Request-Method", "DELETE"),
        ],
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://a.b.other.org")
    );
    let r = browser(
        &server,
        "OPTIONS",
        &format!("/{B}/k"),
        &[
            ("Origin", "http://anyone.net"),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(r.header("access-control-allow-credentials"), None);
    assert_eq!(r.header("access-control-allow-methods"), Some("GET"));
    assert_eq!(r.header("access-control-max-age"), None);
    // The preflight of a multipart upload carries its query; credentials are not checked,
    // even when some are (wrongly) sent.
    let r = browser(
        &server,
        "OPTIONS",
        &format!("/{B}/k?uploads"),
        &[
            ("Origin", "http://app.example.com"),
            ("Access-Control-Request-Method", "PUT"),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=nobody/20200101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00"),
        ],
    );
    assert_eq!(r.status, 200, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preflight_no_rule_matches_is_forbidden() {
    let (server, s3) = setup().await;
    put(&s3, browser_rules()).await.unwrap();
    let cases = [
        // An origin no rule names (scheme, port, trailing slash, case all count).
        ("http://evil.example.com", "PUT", None, "OBJECT"),
        ("https://app.example.com", "PUT", None, "OBJECT"),
        ("http://app.example.com:80", "PUT", None, "OBJECT"),
        ("http://app.example.com/", "PUT", None, "OBJECT"),
        ("http://APP.example.com", "PUT", None, "OBJECT"),
        // A method the origin's rules do not allow.
        ("http://app.example.com", "DELETE", None, "OBJECT"),
        ("http://a.other.org", "GET", Some("x-amz-date"), "OBJECT"),
        // A header no AllowedHeader matches; a rule without AllowedHeader allows none.
        (
            "http://app.example.com",
            "PUT",
            Some("x-amz-date, authorization"),
            "OBJECT",
        ),
        ("http://anyone.net", "GET", Some("x-amz-date"), "OBJECT"),
        ("http://anyone.net", "PUT", None, "BUCKET"),
    ];
    for (origin, method, headers, resource) in cases {
        let path = match resource {
            "BUCKET" => format!("/{B}"),
            _ => format!("/{B}/k"),
        };
        let mut sent = vec![
            ("Origin", origin),
            ("Access-Control-Request-Method", method),
        ];
        if let Some(h) = headers {
            sent.push(("Access-Control-Request-Headers", h));
        }
        let r = browser(&server, "OPTIONS", &path, &sent);
        let case = format!("{origin} {method} {headers:?}");
        assert_eq!(
            (r.status, code(&r)),
            (403, "AccessForbidden"),
            "{case}: {r:?}"
        );
        assert!(
            element(&r, "Message").starts_with("CORSResponse: This CORS request is not allowed."),
            "{case}: {r:?}"
        );
        assert_eq!(element(&r, "Method"), method, "{case}");
        assert_eq!(element(&r, "ResourceType"), resource, "{case}");
        no_cors_headers(&r);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preflight_needs_its_headers_a_bucket_and_rules() {
    let (server, s3) = setup().await;
    let path = format!("/{B}/k");
    let r = browser(&server, "OPTIONS", &path, &[]);
    assert_eq!((r.status, code(&r)), (400, "BadRequest"), "{r:?}");
    assert_eq!(
        element(&r, "Message"),
        "Insufficient information. Origin request header needed."
    );
    // No rules: 403, naming the method asked for (OPTIONS when none was) and the bucket.
    let origin = ("Origin", "http://app.example.com");
    let r = browser(
        &server,
        "OPTIONS",
        &path,
        &[origin, ("Access-Control-Request-Method", "PUT")],
    );
    assert_eq!((r.status, code(&r)), (403, "AccessForbidden"), "{r:?}");
    assert_eq!(
        element(&r, "Message"),
        "CORSResponse: CORS is not enabled for this bucket."
    );
    assert_eq!(element(&r, "Method"), "PUT");
    assert_eq!(element(&r, "ResourceType"), "BUCKET");
    let r = browser(&server, "OPTIONS", &path, &[origin]);
    assert_eq!((r.status, code(&r)), (403, "AccessForbidden"), "{r:?}");
    assert_eq!(element(&r, "Method"), "OPTIONS");
    // A bucket that does not exist.
    let r = browser(
        &server,
        "OPTIONS",
        "/missing/k",
        &[origin, ("Access-Control-Request-Method", "GET")],
    );
    assert_eq!((r.status, code(&r)), (403, "AccessForbidden"), "{r:?}");
    assert_eq!(element(&r, "Message"), "CORSResponse: Bucket not found");
    // With rules, no Access-Control-Request-Method is a 400.
    put(&s3, browser_rules()).await.unwrap();
    let r = browser(&server, "OPTIONS", &path, &[origin]);
    assert_eq!((r.status, code(&r)), (400, "BadRequest"), "{r:?}");
    assert_eq!(
        element(&r, "Message"),
        "Invalid Access-Control-Request-Method: null"
    );
    no_cors_headers(&r);
    // Nothing was read or changed: the object is still there.
    s3.head_object().bucket(B).key("k").send().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actual_requests_carry_the_headers_of_the_rule_they_match() {
    let (server, s3) = setup().await;
    let origin = ("Origin", "http://app.example.com");
    // Without rules, Origin changes nothing.
    let r = signed(&server, "GET", &format!("/{B}/k"), &[origin]);
    assert_eq!(r.status, 200, "{r:?}");
    no_cors_headers(&r);
    put(&s3, browser_rules()).await.unwrap();
    let r = signed(&server, "GET", &format!("/{B}/k"), &[origin]);
    assert_eq!((r.status, r.body.as_str()), (200, "data"), "{r:?}");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://app.example.com")
    );
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("GET, PUT, HEAD")
    );
    assert_eq!(
        r.header("access-control-expose-headers"),
        Some("ETag, x-amz-version-id")
    );
    assert_eq!(r.header("access-control-max-age"), Some("600"));
    assert_eq!(
        r.header("vary"),
        Some("Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
    );
    assert_eq!(r.header("access-control-allow-headers"), None);
    // Without Origin: nothing.
    let r = signed(&server, "GET", &format!("/{B}/k"), &[]);
    assert_eq!(r.status, 200);
    no_cors_headers(&r);
    // A bucket operation, a PUT: the same rule.
    let r = signed(&server, "GET", &format!("/{B}?list-type=2"), &[origin]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://app.example.com")
    );
    let r = signed(&server, "PUT", &format!("/{B}/put-by-browser"), &[origin]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://app.example.com")
    );
    // Another origin falls to the `*` rule for GET: `*`, no credentials.
    let r = signed(
        &server,
        "GET",
        &format!("/{B}/k"),
        &[("Origin", "http://anyone.net")],
    );
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(r.header("access-control-allow-credentials"), None);
    // A method no rule of the origin allows: served, without CORS headers.
    let r = signed(
        &server,
        "DELETE",
        &format!("/{B}/put-by-browser"),
        &[("Origin", "http://anyone.net")],
    );
    assert_eq!(r.status, 204, "{r:?}");
    no_cors_headers(&r);
    // Access-Control-Request-Method, when sent, decides the method.
    let r = signed(
        &server,
        "GET",
        &format!("/{B}/k"),
        &[
            ("Origin", "http://anyone.net"),
            ("Access-Control-Request-Method", "PUT"),
        ],
    );
    assert_eq!(r.status, 200);
    no_cors_headers(&r);
}

/// A browser must be able to read an error: refusals carry the CORS headers too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_the_cors_headers() {
    let (server, s3) = setup().await;
    put(&s3, browser_rules()).await.unwrap();
    let origin = ("Origin", "http://app.example.com");
    // 404 from the handler.
    let r = signed(&server, "GET", &format!("/{B}/no-such-key"), &[origin]);
    assert_eq!((r.status, code(&r)), (404, "NoSuchKey"), "{r:?}");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://app.example.com")
    );
    assert_eq!(
        r.header("access-control-expose-headers"),
        Some("ETag, x-amz-version-id")
    );
    // 403 from authorization (anonymous), and from authentication (a bad signature).
    let r = browser(&server, "GET", &format!("/{B}/k"), &[origin]);
    assert_eq!((r.status, code(&r)), (403, "AccessDenied"), "{r:?}");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://app.example.com")
    );
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    let signer = Signer::s3("admin", "not-the-secret");
    let r = s3_call(server.s3, &signer, "GET", &format!("/{B}/k"), &[origin], "");
    assert_eq!(
        (r.status, code(&r)),
        (403, "SignatureDoesNotMatch"),
        "{r:?}"
    );
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://app.example.com")
    );
    // HEAD's error (no body) too.
    let r = signed(&server, "HEAD", &format!("/{B}/no-such-key"), &[origin]);
    assert_eq!(r.status, 404, "{r:?}");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://app.example.com")
    );
    // An origin no rule allows gets the error alone.
    let r = browser(
        &server,
        "GET",
        &format!("/{B}/k"),
        &[
            ("Origin", "http://anyone.net"),
            ("Access-Control-Request-Method", "PUT"),
        ],
    );
    assert_eq!(r.status, 403);
    no_cors_headers(&r);
}

/// PutBucketCors and DeleteBucketCors ask for `s3:PutBucketCORS`, GetBucketCors for
/// `s3:GetBucketCORS`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operations_ask_for_their_actions() {
    let (server, _s3) = setup().await;
    let reader = server.with_user(&common::allow("s3:GetBucketCORS")).await;
    let r = reader
        .s3
        .put_bucket_cors()
        .bucket(B)
        .cors_configuration(config(browser_rules()))
        .send()
        .await;
    assert_eq!(error_code_status(r), ("AccessDenied".to_owned(), 403));
    let r = reader.s3.delete_bucket_cors().bucket(B).send().await;
    assert_eq!(error_code_status(r), ("AccessDenied".to_owned(), 403));
    let writer = server.with_user(&common::allow("s3:PutBucketCORS")).await;
    put(&writer.s3, browser_rules()).await.unwrap();
    let r = writer.s3.get_bucket_cors().bucket(B).send().await;
    assert_eq!(error_code_status(r), ("AccessDenied".to_owned(), 403));
    assert_eq!(
        reader
            .s3
            .get_bucket_cors()
            .bucket(B)
            .send()
            .await
            .unwrap()
            .cors_rules()
            .len(),
        3
    );
    writer
        .s3
        .delete_bucket_cors()
        .bucket(B)
        .send()
        .await
        .unwrap();
}
