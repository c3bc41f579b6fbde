//! Static website hosting: Put/Get/DeleteBucketWebsite through `aws-sdk-s3`, their
//! validation, `x-amz-website-redirect-location`, and the website endpoint
//! (`backend.s3.website.base_domain`) read by a plain HTTP client with a Host header, as a
//! browser reads it.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    Condition, ErrorDocument, IndexDocument, Protocol, Redirect, RedirectAllRequestsTo,
    RoutingRule, WebsiteConfiguration,
};
use aws_sdk_s3::Client;

use crate::common::{
    self, error_code_status, read_response, s3_client, Response, TestServer, ROOT_SECRET,
};

const WEB: &str = "web.lab";
const REST: &str = "s3.lab";

/// A server with a website base domain (and a REST one, so that both are in play).
fn server(dir: &std::path::Path) -> TestServer {
    let env = [
        ("LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY", ROOT_SECRET),
        ("LABSTORE_BACKEND_S3_BASE_DOMAIN", REST),
        ("LABSTORE_BACKEND_S3_WEBSITE_BASE_DOMAIN", WEB),
    ];
    TestServer::start_with(dir, &env).unwrap()
}

/// One request to the S3 port with `host` as its Host and `headers` besides.
fn call(
    server: &TestServer,
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Response {
    let mut stream = TcpStream::connect(server.s3).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("Content-Length: 0\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    read_response(&mut stream)
}

/// A GET on the website of `bucket`, Host with a port as a browser sends it.
fn web(server: &TestServer, bucket: &str, path: &str) -> Response {
    let host = format!("{bucket}.{WEB}:{}", server.s3.port());
    call(server, "GET", &host, path, &[])
}

async fn put(s3: &Client, bucket: &str, key: &str, body: &str) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type("text/html")
        .body(ByteStream::from(body.as_bytes().to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutObject {key}: {e:?}"));
}

/// Makes every object of `bucket` readable by anyone, as a website needs.
async fn make_public(s3: &Client, bucket: &str) {
    common::allow_public_access(s3, bucket).await;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*",
            "Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
    );
    s3.put_bucket_policy()
        .bucket(bucket)
        .policy(policy)
        .send()
        .await
        .unwrap();
}

fn index_and_error(error: Option<&str>) -> WebsiteConfiguration {
    let mut config = WebsiteConfiguration::builder().index_document(
        IndexDocument::builder()
            .suffix("index.html")
            .build()
            .unwrap(),
    );
    if let Some(key) = error {
        config = config.error_document(ErrorDocument::builder().key(key).build().unwrap());
    }
    config.build()
}

async fn put_website(s3: &Client, bucket: &str, config: WebsiteConfiguration) {
    s3.put_bucket_website()
        .bucket(bucket)
        .website_configuration(config)
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutBucketWebsite: {e:?}"));
}

/// A site: index pages at the root and in `docs/`, an error page, a public policy.
async fn site(s3: &Client, bucket: &str) {
    s3.create_bucket().bucket(bucket).send().await.unwrap();
    put(s3, bucket, "index.html", "<h1>home</h1>").await;
    put(s3, bucket, "docs/index.html", "<h1>docs</h1>").await;
    put(s3, bucket, "page.html", "<p>page</p>").await;
    put(s3, bucket, "err.html", "<p>oops</p>").await;
    make_public(s3, bucket).await;
    put_website(s3, bucket, index_and_error(Some("err.html"))).await;
}

#[tokio::test]
async fn website_configuration_is_put_read_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path());
    let s3 = s3_client(&server);
    s3.create_bucket().bucket("cfg").send().await.unwrap();
    assert_eq!(
        error_code_status(s3.get_bucket_website().bucket("cfg").send().await),
        ("NoSuchWebsiteConfiguration".into(), 404)
    );
    let rule = RoutingRule::builder()
        .condition(Condition::builder().key_prefix_equals("old/").build())
        .redirect(
            Redirect::builder()
                .replace_key_prefix_with("new/")
                .http_redirect_code("302")
                .build(),
        )
        .build();
    let config = WebsiteConfiguration::builder()
        .index_document(
            IndexDocument::builder()
                .suffix("index.html")
                .build()
                .unwrap(),
        )
        .error_document(ErrorDocument::builder().key("404.html").build().unwrap())
        .routing_rules(rule)
        .build();
    put_website(&s3, "cfg", config).await;
    let got = s3.get_bucket_website().bucket("cfg").send().await.unwrap();
    assert_eq!(got.index_document().unwrap().suffix(), "index.html");
    assert_eq!(got.error_document().unwrap().key(), "404.html");
    let rules = got.routing_rules();
    assert_eq!(rules.len(), 1);
    assert_eq!(
        rules[0].condition().unwrap().key_prefix_equals(),
        Some("old/")
    );
    let redirect = rules[0].redirect().unwrap();
    assert_eq!(redirect.replace_key_prefix_with(), Some("new/"));
    assert_eq!(redirect.http_redirect_code(), Some("302"));
    assert!(got.redirect_all_requests_to().is_none());

    // Replaced whole by the next Put.
    let all = WebsiteConfiguration::builder()
        .redirect_all_requests_to(
            RedirectAllRequestsTo::builder()
                .host_name("example.com")
                .protocol(Protocol::Https)
                .build()
                .unwrap(),
        )
        .build();
    put_website(&s3, "cfg", all).await;
    let got = s3.get_bucket_website().bucket("cfg").send().await.unwrap();
    let to = got.redirect_all_requests_to().unwrap();
    assert_eq!(
        (to.host_name(), to.protocol()),
        ("example.com", Some(&Protocol::Https))
    );
    assert!(got.index_document().is_none());

    s3.delete_bucket_website()
        .bucket("cfg")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code_status(s3.get_bucket_website().bucket("cfg").send().await),
        ("NoSuchWebsiteConfiguration".into(), 404)
    );
    // Deleting none is no error, as in S3; a bucket that does not exist is.
    s3.delete_bucket_website()
        .bucket("cfg")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code_status(s3.delete_bucket_website().bucket("nope").send().await),
        ("NoSuchBucket".into(), 404)
    );
}

#[tokio::test]
async fn invalid_website_configurations_are_refused_as_s3_refuses_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path());
    let s3 = s3_client(&server);
    s3.create_bucket().bucket("bad").send().await.unwrap();
    let index = |suffix: &str| IndexDocument::builder().suffix(suffix).build().unwrap();
    let rule = |condition: Option<Condition>, redirect: Redirect| {
        RoutingRule::builder()
            .set_condition(condition)
            .redirect(redirect)
            .build()
    };
    let all = RedirectAllRequestsTo::builder()
        .host_name("example.com")
        .build()
        .unwrap();
    let cases = [
        ("no index", WebsiteConfiguration::builder().build()),
        (
            "index with a slash",
            WebsiteConfiguration::builder()
                .index_document(index("a/index.html"))
                .build(),
        ),
        (
            "empty index",
            WebsiteConfiguration::builder()
                .index_document(index(""))
                .build(),
        ),
        (
            "redirect-all with an index",
            WebsiteConfiguration::builder()
                .redirect_all_requests_to(all.clone())
                .index_document(index("index.html"))
                .build(),
        ),
        (
            "bad protocol",
            WebsiteConfiguration::builder()
                .redirect_all_requests_to(
                    RedirectAllRequestsTo::builder()
                        .host_name("example.com")
                        .protocol(Protocol::from("ftp"))
                        .build()
                        .unwrap(),
                )
                .build(),
        ),
        (
            "redirect code 300",
            WebsiteConfiguration::builder()
                .index_document(index("index.html"))
                .routing_rules(rule(
                    None,
                    Redirect::builder().http_redirect_code("300").build(),
                ))
                .build(),
        ),
        (
            "error code 200",
            WebsiteConfiguration::builder()
                .index_document(index("index.html"))
                .routing_rules(rule(
                    Some(
                        Condition::builder()
                            .http_error_code_returned_equals("200")
                            .build(),
                    ),
                    Redirect::builder().host_name("example.com").build(),
                ))
                .build(),
        ),
        (
            "both replacements",
            WebsiteConfiguration::builder()
                .index_document(index("index.html"))
                .routing_rules(rule(
                    None,
                    Redirect::builder()
                        .replace_key_with("a")
                        .replace_key_prefix_with("b")
                        .build(),
                ))
                .build(),
        ),
        (
            "empty condition",
            WebsiteConfiguration::builder()
                .index_document(index("index.html"))
                .routing_rules(rule(
                    Some(Condition::builder().build()),
                    Redirect::builder().host_name("example.com").build(),
                ))
                .build(),
        ),
        (
            "empty redirect",
            WebsiteConfiguration::builder()
                .index_document(index("index.html"))
                .routing_rules(rule(None, Redirect::builder().build()))
                .build(),
        ),
        (
            "bad host name",
            WebsiteConfiguration::builder()
                .index_document(index("index.html"))
                .routing_rules(rule(None, Redirect::builder().host_name("a/b\"c").build()))
                .build(),
        ),
    ];
    for (name, config) in cases {
        let r = s3
            .put_bucket_website()
            .bucket("bad")
            .website_configuration(config)
            .send()
            .await;
        assert_eq!(
            error_code_status(r),
            ("InvalidArgument".into(), 400),
            "{name}"
        );
    }
    // Nothing was stored by any of them.
    assert_eq!(
        error_code_status(s3.get_bucket_website().bucket("bad").send().await),
        ("NoSuchWebsiteConfiguration".into(), 404)
    );
}

#[tokio::test]
async fn the_website_serves_index_documents_pages_and_the_error_document() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path());
    let s3 = s3_client(&server);
    site(&s3, "site").await;

    let r = web(&server, "site", "/");
    assert_eq!((r.status, r.body.as_str()), (200, "<h1>home</h1>"));
    assert_eq!(r.header("content-type"), Some("text/html"));
    let r = web(&server, "site", "/docs/");
    assert_eq!((r.status, r.body.as_str()), (200, "<h1>docs</h1>"));
    let r = web(&server, "site", "/page.html");
    assert_eq!((r.status, r.body.as_str()), (200, "<p>page</p>"));
    // A directory named without its slash: 302 to it.
    let r = web(&server, "site", "/docs");
    assert_eq!(r.status, 302, "{}", r.body);
    assert_eq!(r.header("location"), Some("/docs/"));
    // A missing page: the error document, with the error's status (403: anonymous callers
    // may not list the bucket, so a missing key reads as AccessDenied, as in S3).
    let r = web(&server, "site", "/missing.html");
    assert_eq!((r.status, r.body.as_str()), (403, "<p>oops</p>"));
    // HEAD: the same status, no body.
    let host = format!("site.{WEB}:{}", server.s3.port());
    let r = call(&server, "HEAD", &host, "/page.html", &[]);
    assert_eq!((r.status, r.body.as_str()), (200, ""));

    // With s3:ListBucket public, a missing page is a 404 with the error document.
    s3.put_bucket_policy()
        .bucket("site")
        .policy(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",
                "Action":["s3:GetObject","s3:ListBucket"],
                "Resource":["arn:aws:s3:::site/*","arn:aws:s3:::site"]}]}"#,
        )
        .send()
        .await
        .unwrap();
    let r = web(&server, "site", "/missing.html");
    assert_eq!((r.status, r.body.as_str()), (404, "<p>oops</p>"));

    // Without an error document: S3's HTML error page.
    put_website(&s3, "site", index_and_error(None)).await;
    let r = web(&server, "site", "/missing.html");
    assert_eq!(r.status, 404);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.body.contains("<h1>404 Not Found</h1>"), "{}", r.body);
    assert!(r.body.contains("<li>Code: NoSuchKey</li>"), "{}", r.body);
    assert!(r.body.contains("<li>Key: missing.html</li>"), "{}", r.body);
    assert!(r.body.contains("<li>RequestId: "), "{}", r.body);
    // An error document that does not exist: the page says so too.
    put_website(&s3, "site", index_and_error(Some("gone.html"))).await;
    let r = web(&server, "site", "/missing.html");
    assert_eq!(r.status, 404);
    assert!(
        r.body
            .contains("An Error Occurred While Attempting to Retrieve a Custom Error Document"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn the_website_reads_only_what_anyone_may_read() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path());
    let s3 = s3_client(&server);
    s3.create_bucket().bucket("closed").send().await.unwrap();
    put(&s3, "closed", "index.html", "<h1>private</h1>").await;
    put_website(&s3, "closed", index_and_error(None)).await;
    // No public policy: 403, HTML.
    let r = web(&server, "closed", "/");
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("<li>Code: AccessDenied</li>"), "{}", r.body);
    // Credentials are ignored: the root's Authorization header opens nothing.
    let host = format!("closed.{WEB}");
    let r = call(
        &server,
        "GET",
        &host,
        "/",
        &[("authorization", "AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0")],
    );
    assert_eq!(r.status, 403, "{}", r.body);
    // A public policy on a bucket whose Block Public Access is on (as new buckets'): the
    // policy cannot be put, and a bucket restricting public buckets serves nothing.
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",
        "Action":"s3:GetObject","Resource":"arn:aws:s3:::closed/*"}]}"#;
    assert!(s3
        .put_bucket_policy()
        .bucket("closed")
        .policy(policy)
        .send()
        .await
        .is_err());
    common::allow_public_access(&s3, "closed").await;
    s3.put_bucket_policy()
        .bucket("closed")
        .policy(policy)
        .send()
        .await
        .unwrap();
    assert_eq!(web(&server, "closed", "/").status, 200);
    let restrict = aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
        .restrict_public_buckets(true)
        .build();
    s3.put_public_access_block()
        .bucket("closed")
        .public_access_block_configuration(restrict)
        .send()
        .await
        .unwrap();
    assert_eq!(web(&server, "closed", "/").status, 403);

    // A bucket without a website configuration, and one that does not exist.
    s3.create_bucket().bucket("plain").send().await.unwrap();
    let r = web(&server, "plain", "/");
    assert_eq!(r.status, 404);
    assert!(
        r.body.contains("<li>Code: NoSuchWebsiteConfiguration</li>"),
        "{}",
        r.body
    );
    assert!(r.body.contains("<li>BucketName: plain</li>"), "{}", r.body);
    let r = web(&server, "nothere", "/");
    assert_eq!(r.status, 404);
    assert!(r.body.contains("<li>Code: NoSuchBucket</li>"), "{}", r.body);
}

#[tokio::test]
async fn the_website_answers_only_get_and_head_and_never_a_rest_operation() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path());
    let s3 = s3_client(&server);
    site(&s3, "site").await;
    let host = format!("site.{WEB}:{}", server.s3.port());
    for method in ["PUT", "POST", "DELETE", "OPTIONS"] {
        let r = call(&server, method, &host, "/page.html", &[]);
        assert_eq!(r.status, 405, "{method}: {}", r.body);
        assert!(
            r.body.contains("<li>Code: MethodNotAllowed</li>"),
            "{}",
            r.body
        );
    }
    // The object is still there: nothing was deleted or written.
    assert_eq!(web(&server, "site", "/page.html").body, "<p>page</p>");
    // A sub-resource query is not a REST operation on the website: the page is served.
    let r = web(&server, "site", "/page.html?acl");
    assert_eq!((r.status, r.body.as_str()), (200, "<p>page</p>"));
    let r = web(&server, "site", "/?list-type=2");
    assert_eq!((r.status, r.body.as_str()), (200, "<h1>home</h1>"));
    // The REST endpoint under its own domain is unaffected, and the website domain is not
    // taken for a REST bucket `site.web` under the REST domain.
    let rest = format!("site.{REST}:{}", server.s3.port());
    let r = call(&server, "GET", &rest, "/page.html", &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, "<p>page</p>");
}

#[tokio::test]
async fn the_website_redirects_all_requests_by_rules_and_by_object() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path());
    let s3 = s3_client(&server);
    site(&s3, "site").await;
    // An object's own redirect, stored and returned by the REST API too.
    s3.put_object()
        .bucket("site")
        .key("moved.html")
        .website_redirect_location("/page.html")
        .body(ByteStream::from_static(b""))
        .send()
        .await
        .unwrap();
    let head = s3
        .head_object()
        .bucket("site")
        .key("moved.html")
        .send()
        .await
        .unwrap();
    assert_eq!(head.website_redirect_location(), Some("/page.html"));
    let r = web(&server, "site", "/moved.html");
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/page.html"));
    // A copy takes the redirect its request names, never the source's, as S3 does.
    let copy = |to: &'static str, location: Option<&'static str>| {
        s3.copy_object()
            .bucket("site")
            .key(to)
            .copy_source("site/moved.html")
            .set_website_redirect_location(location.map(str::to_owned))
            .send()
    };
    copy("plain-copy.html", None).await.unwrap();
    copy("moved-copy.html", Some("https://example.com/"))
        .await
        .unwrap();
    let head = |key: &'static str| s3.head_object().bucket("site").key(key).send();
    assert_eq!(
        head("plain-copy.html")
            .await
            .unwrap()
            .website_redirect_location(),
        None
    );
    assert_eq!(
        head("moved-copy.html")
            .await
            .unwrap()
            .website_redirect_location(),
        Some("https://example.com/")
    );
    // Naming a redirect makes a copy onto itself a change.
    copy("moved.html", Some("/docs/")).await.unwrap();
    assert_eq!(
        head("moved.html")
            .await
            .unwrap()
            .website_redirect_location(),
        Some("/docs/")
    );
    copy("moved.html", Some("/page.html")).await.unwrap();
    // A location S3 would refuse is refused, and nothing is stored.
    let bad = s3
        .put_object()
        .bucket("site")
        .key("bad.html")
        .website_redirect_location("page.html")
        .body(ByteStream::from_static(b""))
        .send()
        .await;
    assert_eq!(
        error_code_status(bad),
        ("InvalidRedirectLocation".into(), 400)
    );
    assert!(s3
        .head_object()
        .bucket("site")
        .key("bad.html")
        .send()
        .await
        .is_err());

    // Routing rules: a prefix rule before any read, an error-code rule after the error.
    let config = WebsiteConfiguration::builder()
        .index_document(
            IndexDocument::builder()
                .suffix("index.html")
                .build()
                .unwrap(),
        )
        .routing_rules(
            RoutingRule::builder()
                .condition(Condition::builder().key_prefix_equals("old/").build())
                .redirect(
                    Redirect::builder()
                        .replace_key_prefix_with("docs/")
                        .http_redirect_code("302")
                        .build(),
                )
                .build(),
        )
        .routing_rules(
            RoutingRule::builder()
                .condition(
                    Condition::builder()
                        .http_error_code_returned_equals("403")
                        .build(),
                )
                .redirect(
                    Redirect::builder()
                        .host_name("fallback.example.com")
                        .protocol(Protocol::Https)
                        .replace_key_with("sorry.html")
                        .build(),
                )
                .build(),
        )
        .build();
    put_website(&s3, "site", config).await;
    let r = web(&server, "site", "/old/a%20b.html");
    assert_eq!(r.status, 302, "{}", r.body);
    let host = format!("site.{WEB}:{}", server.s3.port());
    assert_eq!(
        r.header("location"),
        Some(format!("http://{host}/docs/a%20b.html").as_str())
    );
    let r = web(&server, "site", "/missing.html");
    assert_eq!(r.status, 301, "{}", r.body);
    assert_eq!(
        r.header("location"),
        Some("https://fallback.example.com/sorry.html")
    );
    // Pages that exist are unaffected.
    assert_eq!(web(&server, "site", "/page.html").status, 200);

    // Redirect all requests: the path is kept.
    let all = WebsiteConfiguration::builder()
        .redirect_all_requests_to(
            RedirectAllRequestsTo::builder()
                .host_name("www.example.com")
                .build()
                .unwrap(),
        )
        .build();
    put_website(&s3, "site", all).await;
    let r = web(&server, "site", "/docs/x.html");
    assert_eq!(r.status, 301);
    assert_eq!(
        r.header("location"),
        Some("http://www.example.com/docs/x.html")
    );
}

/// A page on another origin reads the site with `fetch`: every answer to a request whose
/// `Origin` a CORS rule allows carries the CORS headers, the error document's 404 and the
/// folder redirect too; another origin, or a bucket without rules, gets none.
#[tokio::test]
async fn the_website_answers_a_cross_origin_read_with_the_bucket_cors_headers() {
    use aws_sdk_s3::types::{CorsConfiguration, CorsRule};
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path());
    let s3 = s3_client(&server);
    site(&s3, "site").await;
    let app = "http://app.example.com";
    let host = format!("site.{WEB}:{}", server.s3.port());
    let get = |path: &str, origin: &str| call(&server, "GET", &host, path, &[("Origin", origin)]);

    // No rules yet: nothing a browser could read.
    let r = get("/page.html", app);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), None);

    let rule = CorsRule::builder()
        .allowed_origins(app)
        .allowed_methods("GET")
        .expose_headers("ETag")
        .build()
        .unwrap();
    s3.put_bucket_cors()
        .bucket("site")
        .cors_configuration(
            CorsConfiguration::builder()
                .cors_rules(rule)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    for (path, status) in [("/page.html", 200), ("/missing.html", 403), ("/docs", 302)] {
        let r = get(path, app);
        assert_eq!(r.status, status, "{path}: {}", r.body);
        assert_eq!(r.header("access-control-allow-origin"), Some(app), "{path}");
        assert_eq!(
            r.header("access-control-expose-headers"),
            Some("ETag"),
            "{path}"
        );
        assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
        assert!(r.header("vary").unwrap().contains("Origin"), "{path}");
    }
    let r = get("/page.html", "http://elsewhere.example.com");
    assert_eq!((r.status, r.body.as_str()), (200, "<p>page</p>"));
    assert_eq!(r.header("access-control-allow-origin"), None);
    // Without Origin, as before.
    let r = web(&server, "site", "/page.html");
    assert_eq!(r.header("access-control-allow-origin"), None);
}

/// Each website configuration operation is authorized as AWS names it:
/// `s3:GetBucketWebsite`, `s3:PutBucketWebsite` and `s3:DeleteBucketWebsite`.
#[test]
fn the_configuration_operations_need_their_own_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path());
    server.block_on(async {
        let s3 = server.root_s3();
        s3.create_bucket().bucket("perm").send().await.unwrap();
        let config = || {
            WebsiteConfiguration::builder()
                .index_document(IndexDocument::builder().suffix("index.html").build().unwrap())
                .build()
        };
        let allowed = |action: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"arn:aws:s3:::perm"}}]}}"#
            )
        };
        let putter = server.with_user(&allowed("s3:PutBucketWebsite")).await;
        putter
            .s3
            .put_bucket_website()
            .bucket("perm")
            .website_configuration(config())
            .send()
            .await
            .unwrap();
        let read = putter.s3.get_bucket_website().bucket("perm").send().await;
        assert_eq!(common::error_code(read), "AccessDenied");
        let delete = putter.s3.delete_bucket_website().bucket("perm").send().await;
        assert_eq!(common::error_code(delete), "AccessDenied");
        let reader = server.with_user(&allowed("s3:GetBucketWebsite")).await;
        let got = reader.s3.get_bucket_website().bucket("perm").send().await.unwrap();
        assert_eq!(got.index_document().unwrap().suffix(), "index.html");
        let put = reader
            .s3
            .put_bucket_website()
            .bucket("perm")
            .website_configuration(config())
            .send()
            .await;
        assert_eq!(common::error_code(put), "AccessDenied");
        let deleter = server.with_user(&allowed("s3:DeleteBucketWebsite")).await;
        deleter
            .s3
            .delete_bucket_website()
            .bucket("perm")
            .send()
            .await
            .unwrap();
        let gone = s3.get_bucket_website().bucket("perm").send().await;
        assert_eq!(common::error_code(gone), "NoSuchWebsiteConfiguration");
    });
    server.stop();
}
