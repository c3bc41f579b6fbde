//! The console's objects pages over raw HTTP: the prefix browser and its paging, hostile keys
//! rendered only escaped, deleting what is selected (refused for a read-only user), downloads,
//! object details, streamed multipart uploads and share links. Driven in Chromium by
//! `tests/e2e/checks_console_objects.py`.

use aws_sdk_s3::primitives::ByteStream;

use crate::common::{TestServer, ROOT_SECRET};
use crate::console::{form, Browser};

const HOSTILE: [&str; 3] = [
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "a\u{202e}b.txt",
];

fn put(server: &TestServer, bucket: &str, key: &str, body: &[u8]) {
    let s3 = server.root_s3();
    let body = body.to_vec();
    server.block_on(async {
        s3.put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .unwrap()
    });
}

fn bucket(server: &TestServer, name: &str) {
    let s3 = server.root_s3();
    server.block_on(async { s3.create_bucket().bucket(name).send().await.unwrap() });
}

fn keys(server: &TestServer, bucket: &str) -> Vec<String> {
    let s3 = server.root_s3();
    server.block_on(async {
        let out = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
        out.contents()
            .iter()
            .map(|o| o.key().unwrap().to_owned())
            .collect()
    })
}

fn enc(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The `after=` token of the page's "Next page" link.
fn next_token(body: &str) -> Option<String> {
    let at = body.find("rel=\"next\"")?;
    let rest = &body[at..];
    let start = rest.find("after=")? + 6;
    let end = rest[start..].find('"')? + start;
    let raw = rest[start..end].replace("&amp;", "&");
    Some(
        form_urlencoded::parse(format!("t={raw}").as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned(),
    )
}

#[test]
fn the_browser_shows_folders_and_pages_through_a_large_prefix() {
    let server = TestServer::start();
    bucket(&server, "pics");
    for i in 0..450 {
        put(&server, "pics", &format!("many/{i:04}.txt"), b"x");
    }
    put(&server, "pics", "top.txt", b"top");
    put(&server, "pics", "deep/inner/file.txt", b"in");
    let mut browser = Browser::new(&server);
    browser.sign_in("admin", ROOT_SECRET);

    let root = browser.get("/objects?bucket=pics");
    assert_eq!(root.status, 200, "{}", root.body);
    assert!(root.body.contains("prefix=many%2F"), "a folder link");
    assert!(root.body.contains("prefix=deep%2F"));
    assert!(root.body.contains(">top.txt<"));
    assert!(next_token(&root.body).is_none(), "one page");

    let inner = browser.get("/objects?bucket=pics&prefix=deep%2Finner%2F");
    assert!(inner.body.contains(">file.txt<"), "{}", inner.body);
    assert!(inner.body.contains("prefix=deep%2F\""), "the breadcrumb");

    let mut seen = 0;
    let mut path = "/objects?bucket=pics&prefix=many%2F".to_owned();
    let mut pages = 0;
    loop {
        let page = browser.get(&path);
        assert_eq!(page.status, 200);
        seen += page.body.matches("class=\"key\"").count();
        pages += 1;
        match next_token(&page.body) {
            Some(token) => {
                assert!(page.body.contains(">Next page<"));
                path = format!("/objects?bucket=pics&prefix=many%2F&after={}", enc(&token));
            }
            None => break,
        }
    }
    assert_eq!((seen, pages), (450, 3), "200 a page, every key once");
}

/// The page with askama's numeric entities written as the named ones.
fn unentity(body: &str) -> String {
    body.replace("&#60;", "&lt;")
        .replace("&#62;", "&gt;")
        .replace("&#34;", "&quot;")
        .replace("&#39;", "&#x27;")
}

/// No key became markup.
fn assert_no_markup(body: &str) {
    assert!(!body.contains("<script>alert"), "{body}");
    assert!(!body.contains("<img"), "{body}");
    let text = unentity(body);
    assert_eq!(
        text.matches("onerror=").count(),
        text.matches("&lt;img src=x onerror=alert(1)&gt;").count(),
        "every onerror is inside escaped text: {body}"
    );
}

#[test]
fn hostile_keys_are_shown_only_as_escaped_text() {
    let server = TestServer::start();
    bucket(&server, "hostile");
    let long = "k".repeat(1024);
    let mut all: Vec<String> = HOSTILE.iter().map(|k| k.to_string()).collect();
    all.push(long.clone());
    for key in &all {
        put(&server, "hostile", key, b"bad");
    }
    let mut browser = Browser::new(&server);
    browser.sign_in("admin", ROOT_SECRET);
    let page = browser.get("/objects?bucket=hostile");
    assert_eq!(page.status, 200, "{}", page.body);
    let text = unentity(&page.body);
    // `<script>alert(1)</` is a folder (the key holds a `/`), `script>` inside it.
    assert!(text.contains("&lt;script&gt;alert(1)&lt;/"), "{text}");
    assert!(text.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert!(text.contains("a\u{202e}b.txt"), "inside <bdi>, as text");
    assert!(text.contains(&long));
    assert_no_markup(&page.body);
    let inside = browser.get(&format!(
        "/objects?bucket=hostile&prefix={}",
        enc("<script>alert(1)</")
    ));
    assert!(
        unentity(&inside.body).contains("&gt;script&gt;")
            || unentity(&inside.body).contains(">script&gt;<"),
        "{}",
        inside.body
    );
    assert_no_markup(&inside.body);
}

#[test]
fn selected_objects_are_deleted_and_a_reader_can_neither_see_nor_forge_it() {
    let server = TestServer::start();
    bucket(&server, "sel");
    for key in ["a.txt", "b.txt", "c.txt", HOSTILE[0]] {
        put(&server, "sel", key, b"1");
    }
    let mut browser = Browser::new(&server);
    browser.sign_in("admin", ROOT_SECRET);
    let page = browser.get("/objects?bucket=sel");
    assert!(page.body.contains("Delete selected"));
    let csrf = browser.csrf();
    let done = browser.post(
        "/objects/delete",
        &[
            ("_csrf", &csrf),
            ("bucket", "sel"),
            ("prefix", ""),
            ("key", "a.txt"),
            ("key", HOSTILE[0]),
        ],
    );
    assert_eq!(done.status, 303);
    assert_eq!(keys(&server, "sel"), ["b.txt", "c.txt"]);
    assert!(browser
        .get("/objects?bucket=sel")
        .body
        .contains("Deleted 2 object(s)."));

    let reader = server.block_on(server.with_user(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}"#,
    ));
    let mut reading = Browser::new(&server);
    reading.sign_in(&reader.access_key, &reader.secret);
    let page = reading.get("/objects?bucket=sel");
    assert!(page.body.contains(">b.txt<"), "it may list");
    assert!(!page.body.contains("Delete selected"));
    assert!(!page.body.contains("type=\"file\""), "no upload offered");
    let csrf = reading.csrf();
    let body = form(&[("_csrf", &csrf), ("bucket", "sel"), ("key", "b.txt")]);
    assert_eq!(
        reading.send("POST", "/objects/delete", &[], &body).status,
        303
    );
    let flash = reading.get("/objects?bucket=sel").body;
    assert!(flash.contains("AccessDenied"), "{flash}");
    assert_eq!(keys(&server, "sel"), ["b.txt", "c.txt"], "intact");
}

#[test]
fn a_download_is_the_objects_bytes_as_an_attachment_and_details_show_its_headers() {
    let server = TestServer::start();
    bucket(&server, "dlb");
    let body: String = (0u32..100_000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let key = "docs/naïve report.txt";
    let s3 = server.root_s3();
    server.block_on(async {
        s3.put_object()
            .bucket("dlb")
            .key(key)
            .content_type("text/plain")
            .metadata("owner", "<b>eve</b>")
            .tagging("team=red%2Fblue")
            .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Sha256)
            .body(ByteStream::from(body.clone().into_bytes()))
            .send()
            .await
            .unwrap()
    });
    let mut browser = Browser::new(&server);
    browser.sign_in("admin", ROOT_SECRET);
    let got = browser.get(&format!("/download?bucket=dlb&key={}", enc(key)));
    assert_eq!(got.status, 200);
    assert_eq!(got.body, body, "bytes identical");
    assert_eq!(
        got.header("content-disposition"),
        Some("attachment; filename=\"na_ve report.txt\"; filename*=UTF-8''na%C3%AFve%20report.txt")
    );
    assert!(got.header("content-security-policy").is_some());
    let missing = browser.get("/download?bucket=dlb&key=nothing");
    assert_eq!(missing.status, 404);
    assert!(missing.header("content-disposition").is_none());

    let page = browser.get(&format!("/object?bucket=dlb&key={}", enc(key)));
    assert_eq!(page.status, 200, "{}", page.body);
    let text = unentity(&page.body);
    for shown in [
        "text/plain",
        "100000",
        "owner",
        "&lt;b&gt;eve&lt;/b&gt;",
        "team",
        "red/blue",
        "Download",
        "Save tags",
        // The stored checksum, as HeadObject gives it with x-amz-checksum-mode.
        "x-amz-checksum-sha256",
    ] {
        assert!(text.contains(shown), "{shown}: {text}");
    }
    assert_no_markup(&page.body);

    let csrf = browser.csrf();
    let saved = browser.post(
        "/object/tags",
        &[
            ("_csrf", &csrf),
            ("bucket", "dlb"),
            ("key", key),
            ("tags", "a=1\nb=two words"),
        ],
    );
    assert_eq!(saved.status, 303);
    let tags = server.block_on(async {
        s3.get_object_tagging()
            .bucket("dlb")
            .key(key)
            .send()
            .await
            .unwrap()
    });
    let mut pairs: Vec<(String, String)> = tags
        .tag_set()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    pairs.sort();
    assert_eq!(
        pairs,
        [("a".into(), "1".into()), ("b".into(), "two words".into())]
    );
}

#[test]
fn versions_are_listed_restored_and_deleted() {
    use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
    let server = TestServer::start();
    bucket(&server, "ver");
    let s3 = server.root_s3();
    server.block_on(async {
        s3.put_bucket_versioning()
            .bucket("ver")
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .unwrap()
    });
    put(&server, "ver", "v.txt", b"first");
    put(&server, "ver", "v.txt", b"second");
    put(&server, "ver", "v.txt.other", b"not this key");
    let versions = server.block_on(async {
        s3.list_object_versions()
            .bucket("ver")
            .prefix("v.txt")
            .send()
            .await
            .unwrap()
    });
    let first = versions
        .versions()
        .iter()
        .find(|v| v.key() == Some("v.txt") && v.is_latest() == Some(false))
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned();
    let mut browser = Browser::new(&server);
    browser.sign_in("admin", ROOT_SECRET);
    let page = browser.get("/object?bucket=ver&key=v.txt");
    assert_eq!(
        page.body.matches("Delete version</button>").count(),
        2,
        "{}",
        page.body
    );
    assert_eq!(page.body.matches("Restore this version").count(), 1);
    let csrf = browser.csrf();
    let restored = browser.post(
        "/object/restore",
        &[
            ("_csrf", &csrf),
            ("bucket", "ver"),
            ("key", "v.txt"),
            ("version", &first),
        ],
    );
    assert_eq!(restored.status, 303);
    let now = browser.get("/download?bucket=ver&key=v.txt");
    assert_eq!(now.body, "first");
    let deleted = browser.post(
        "/object/delete-version",
        &[
            ("_csrf", &csrf),
            ("bucket", "ver"),
            ("key", "v.txt"),
            ("version", &first),
        ],
    );
    assert_eq!(deleted.status, 303);
    let gone = browser.get(&format!(
        "/download?bucket=ver&key=v.txt&versionId={}",
        enc(&first)
    ));
    assert_eq!(gone.status, 404);
    let page = browser.get("/object?bucket=ver&key=v.txt");
    assert!(page.body.contains("deleted."), "{}", page.body);
    assert_eq!(page.body.matches("Delete version</button>").count(), 2);
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[test]
fn a_multipart_upload_streams_its_parts_and_a_reader_is_refused() {
    let server = TestServer::start();
    bucket(&server, "upb");
    let mut browser = Browser::new(&server);
    browser.sign_in("admin", ROOT_SECRET);
    assert!(browser
        .get("/objects?bucket=upb")
        .body
        .contains("type=\"file\""));
    let csrf = browser.csrf();
    let key = "big/<file>.bin";
    let created = browser.post(
        "/upload/create",
        &[
            ("_csrf", &csrf),
            ("bucket", "upb"),
            ("key", key),
            ("type", "application/x-test"),
        ],
    );
    assert_eq!(created.status, 200, "{}", created.body);
    let id = json(&created.body)["uploadId"].as_str().unwrap().to_owned();
    let parts: Vec<String> = vec![
        (0u32..5 << 20)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect(),
        "z".repeat(1000),
    ];
    let mut etags = Vec::new();
    for (n, part) in parts.iter().enumerate() {
        let path = format!(
            "/upload/part?bucket=upb&key={}&uploadId={}&partNumber={}",
            enc(key),
            enc(&id),
            n + 1
        );
        let without = browser.send("PUT", &path, &[], "x");
        assert_eq!(without.status, 403, "a part needs the CSRF header");
        let put = browser.send("PUT", &path, &[("x-csrf-token", &csrf)], part);
        assert_eq!(put.status, 200, "{}", put.body);
        etags.push(json(&put.body)["etag"].as_str().unwrap().to_owned());
    }
    let mut fields = vec![
        ("_csrf", csrf.as_str()),
        ("bucket", "upb"),
        ("key", key),
        ("uploadId", id.as_str()),
    ];
    for etag in &etags {
        fields.push(("etag", etag));
    }
    let done = browser.post("/upload/complete", &fields);
    assert_eq!(done.status, 200, "{}", done.body);
    let got = browser.get(&format!("/download?bucket=upb&key={}", enc(key)));
    assert_eq!(got.body, parts.concat(), "bytes identical");
    assert_eq!(got.header("content-type"), Some("application/x-test"));

    let small = browser.send(
        "PUT",
        "/upload/object?bucket=upb&key=small.txt",
        &[("x-csrf-token", &csrf), ("content-type", "text/plain")],
        "hello",
    );
    assert_eq!(small.status, 200, "{}", small.body);
    assert_eq!(
        browser.get("/download?bucket=upb&key=small.txt").body,
        "hello"
    );

    // A reader: offered no upload, and one sent by hand is refused by the API.
    let reader = server.block_on(server.with_user(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}"#,
    ));
    let mut reading = Browser::new(&server);
    reading.sign_in(&reader.access_key, &reader.secret);
    assert!(!reading
        .get("/objects?bucket=upb")
        .body
        .contains("type=\"file\""));
    let csrf = reading.csrf();
    let created = reading.post(
        "/upload/create",
        &[("_csrf", &csrf), ("bucket", "upb"), ("key", "forged")],
    );
    assert_eq!(created.status, 403);
    assert_eq!(json(&created.body)["code"], "AccessDenied");
    let path = format!(
        "/upload/part?bucket=upb&key={}&uploadId={}&partNumber=3",
        enc(key),
        enc(&id)
    );
    let forged = reading.send("PUT", &path, &[("x-csrf-token", &csrf)], "evil");
    assert_eq!(json(&forged.body)["code"], "AccessDenied");
    let forged = reading.send(
        "PUT",
        "/upload/object?bucket=upb&key=small.txt",
        &[("x-csrf-token", &csrf)],
        "evil",
    );
    assert_eq!(json(&forged.body)["code"], "AccessDenied");
    assert_eq!(
        browser.get("/download?bucket=upb&key=small.txt").body,
        "hello",
        "intact"
    );
}

/// The share page's link, unescaped.
fn share_url(body: &str) -> String {
    let at = body.find("id=\"share-url\"").unwrap();
    let rest = &body[at..];
    let start = rest.find("value=\"").unwrap() + 7;
    let end = rest[start..].find('"').unwrap() + start;
    rest[start..end].replace("&amp;", "&").replace("&#38;", "&")
}

/// A GET of `url` with no credentials at all.
fn fetch(url: &str) -> crate::common::Response {
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_at(rest.find('/').unwrap());
    let addr: std::net::SocketAddr = authority.parse().unwrap();
    crate::common::get(addr, path)
}

#[test]
fn a_share_link_works_without_credentials_and_expires() {
    let server = TestServer::start();
    bucket(&server, "shared");
    let key = "folder/a b+c.txt";
    put(&server, "shared", key, b"shared bytes");
    let mut browser = Browser::new(&server);
    browser.sign_in("admin", ROOT_SECRET);
    let page = browser.get(&format!("/object?bucket=shared&key={}", enc(key)));
    assert!(page.body.contains("Create share link"));
    let csrf = browser.csrf();
    let shared = browser.post(
        "/share",
        &[
            ("_csrf", &csrf),
            ("bucket", "shared"),
            ("key", key),
            ("expires", "3600"),
        ],
    );
    assert_eq!(shared.status, 200, "{}", shared.body);
    let url = share_url(&shared.body);
    assert!(url.contains("X-Amz-Signature="), "{url}");
    assert!(
        url.starts_with(&format!("http://127.0.0.1:{}/", server.s3.port())),
        "{url}"
    );
    let got = fetch(&url);
    assert_eq!((got.status, got.body.as_str()), (200, "shared bytes"));

    let short = browser.post(
        "/share",
        &[
            ("_csrf", &csrf),
            ("bucket", "shared"),
            ("key", key),
            ("expires", "1"),
        ],
    );
    let url = share_url(&short.body);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(fetch(&url).status, 403, "expired");

    // A user who may not read it is not offered a link, and is refused one.
    let lister = server.block_on(server.with_user(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:List*"],"Resource":"*"}]}"#,
    ));
    let mut listing = Browser::new(&server);
    listing.sign_in(&lister.access_key, &lister.secret);
    let page = listing.get(&format!("/object?bucket=shared&key={}", enc(key)));
    assert!(!page.body.contains("Create share link"));
    let csrf = listing.csrf();
    let refused = listing.post(
        "/share",
        &[
            ("_csrf", &csrf),
            ("bucket", "shared"),
            ("key", key),
            ("expires", "3600"),
        ],
    );
    assert_eq!(refused.status, 303);
}
