//! The web console's foundations, over raw HTTP as a browser sends it: sign-in with the
//! root's or a user's key (wrong ones refused and rate-limited), the session cookie's flags,
//! the security headers on every page, CSRF and cross-site refusals, sign-out and a key
//! deactivated mid-session, and the rule that everything is authorized as the signed-in
//! principal: a read-only user is offered no deletion, and one posted by hand is refused by
//! the API. The pages themselves are driven in Chromium by `tests/e2e/checks_console.py`.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::common::{self, TestServer, ROOT_SECRET};

/// A browser of one: its cookie, and requests as a browser sends them (same-origin). Shared
/// by the console's other test modules.
pub(crate) struct Browser {
    pub(crate) admin: SocketAddr,
    pub(crate) cookie: Option<String>,
}

impl Browser {
    pub(crate) fn new(server: &TestServer) -> Browser {
        Browser {
            admin: server.admin,
            cookie: None,
        }
    }

    pub(crate) fn send(
        &mut self,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: &str,
    ) -> common::Response {
        let mut stream = TcpStream::connect(self.admin).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.admin,
            body.len()
        );
        if method == "POST" {
            head.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        }
        if let Some(cookie) = &self.cookie {
            head.push_str(&format!("Cookie: {cookie}\r\n"));
        }
        for (name, value) in extra {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body.as_bytes()).unwrap();
        let response = common::read_response(&mut stream);
        if let Some(set) = response.header("set-cookie") {
            let pair = set.split(';').next().unwrap().to_owned();
            self.cookie = (!pair.ends_with('=')).then_some(pair);
        }
        response
    }

    pub(crate) fn get(&mut self, path: &str) -> common::Response {
        self.send("GET", path, &[], "")
    }

    pub(crate) fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> common::Response {
        let body = form(fields);
        self.send("POST", path, &[], &body)
    }

    pub(crate) fn sign_in(&mut self, access_key: &str, secret: &str) -> common::Response {
        self.post(
            "/signin",
            &[("access_key", access_key), ("secret_key", secret)],
        )
    }

    /// The CSRF token the pages carry.
    pub(crate) fn csrf(&mut self) -> String {
        let page = self.get("/buckets");
        let at = page
            .body
            .find("name=\"_csrf\" value=\"")
            .expect("a CSRF field")
            + 20;
        page.body[at..at + 64].to_owned()
    }
}

pub(crate) fn form(fields: &[(&str, &str)]) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (name, value) in fields {
        form.append_pair(name, value);
    }
    form.finish()
}

fn bucket_exists(server: &TestServer, bucket: &str) -> bool {
    let s3 = server.root_s3();
    server.block_on(async { s3.head_bucket().bucket(bucket).send().await.is_ok() })
}

#[test]
fn sign_in_sets_a_strict_cookie_and_every_page_carries_the_security_headers() {
    let server = TestServer::start();
    let mut browser = Browser::new(&server);
    let first = browser.get("/");
    assert_eq!(first.status, 303);
    assert_eq!(first.header("location"), Some("/signin"));
    let page = browser.get("/signin");
    assert_eq!(page.status, 200);
    for (name, value) in [
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
    ] {
        assert_eq!(page.header(name), Some(value), "{name}");
    }
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(!page.body.contains("<script>"), "no inline script");

    let refused = browser.sign_in("admin", "not-the-secret");
    assert_eq!(refused.status, 401);
    assert!(refused.body.contains("not right"));
    assert!(browser.cookie.is_none());
    assert_eq!(browser.get("/buckets").status, 303, "still signed out");

    let signed = browser.sign_in("admin", ROOT_SECRET);
    assert_eq!(signed.status, 303, "{}", signed.body);
    let set = signed.header("set-cookie").unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(flag), "{set}");
    }
    assert!(
        !set.contains("Secure"),
        "plain HTTP: a Secure cookie would never come back"
    );
    assert!(!set.contains(ROOT_SECRET));
    let buckets = browser.get("/buckets");
    assert_eq!(buckets.status, 200);
    assert!(
        buckets.body.contains("arn:aws:iam::"),
        "who is signed in is shown"
    );
    assert!(
        !buckets.body.contains(ROOT_SECRET),
        "the secret never reaches a page"
    );
    assert!(buckets.header("content-security-policy").is_some());
    assert_eq!(buckets.header("cache-control"), Some("no-store"));
    assert!(browser
        .get("/static/console.js")
        .body
        .contains("use strict"));

    // Sign-out ends the session on the server: the old cookie no longer works.
    let cookie = browser.cookie.clone();
    let csrf = browser.csrf();
    let out = browser.post("/signout", &[("_csrf", &csrf)]);
    assert_eq!(out.status, 303);
    browser.cookie = cookie;
    assert_eq!(browser.get("/buckets").status, 303);
}

#[test]
fn changes_need_the_sessions_csrf_token_and_the_consoles_origin() {
    let server = TestServer::start();
    let mut browser = Browser::new(&server);
    browser.sign_in("admin", ROOT_SECRET);
    let csrf = browser.csrf();

    let created = browser.post(
        "/buckets",
        &[("_csrf", &csrf), ("bucket", "made-in-console")],
    );
    assert_eq!(created.status, 303);
    assert!(bucket_exists(&server, "made-in-console"));
    let listed = browser.get("/buckets");
    assert!(
        listed.body.contains("Bucket made-in-console created."),
        "{}",
        listed.body
    );
    assert!(listed.body.contains("made-in-console"));

    // No token, a wrong one, or the right one from another site: refused, nothing changed.
    let body = form(&[("bucket", "made-in-console")]);
    assert_eq!(
        browser.send("POST", "/buckets/delete", &[], &body).status,
        403
    );
    let wrong = form(&[("_csrf", &"0".repeat(64)), ("bucket", "made-in-console")]);
    assert_eq!(
        browser.send("POST", "/buckets/delete", &[], &wrong).status,
        403
    );
    let right = form(&[("_csrf", &csrf), ("bucket", "made-in-console")]);
    let cross = browser.send(
        "POST",
        "/buckets/delete",
        &[("Origin", "http://evil.example")],
        &right,
    );
    assert_eq!(cross.status, 403);
    let cross_site = browser.send(
        "POST",
        "/buckets/delete",
        &[("Sec-Fetch-Site", "cross-site")],
        &right,
    );
    assert_eq!(cross_site.status, 403);
    assert!(bucket_exists(&server, "made-in-console"));

    let origin = format!("http://{}", server.admin);
    let deleted = browser.send("POST", "/buckets/delete", &[("Origin", &origin)], &right);
    assert_eq!(deleted.status, 303);
    assert!(!bucket_exists(&server, "made-in-console"));
    // A refusal of the API is the page's message, not an error page.
    browser.post("/buckets", &[("_csrf", &csrf), ("bucket", "Not_A_Bucket")]);
    assert!(browser.get("/buckets").body.contains("InvalidBucketName"));
}

#[test]
fn a_read_only_user_is_offered_no_change_and_a_forged_one_is_refused_by_the_api() {
    let server = TestServer::start();
    let s3 = server.root_s3();
    server.block_on(async { s3.create_bucket().bucket("kept").send().await.unwrap() });
    let reader = server.block_on(server.with_user(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}"#,
    ));
    let mut browser = Browser::new(&server);
    assert_eq!(
        browser.sign_in(&reader.access_key, &reader.secret).status,
        303
    );
    let page = browser.get("/buckets");
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&format!("user/{}", reader.name)));
    assert!(page.body.contains("kept"), "it may list");
    assert!(
        !page.body.contains("/buckets/delete"),
        "no deletion offered"
    );
    assert!(!page.body.contains("Create bucket"), "no creation offered");

    let csrf = browser.csrf();
    let forged = browser.post("/buckets/delete", &[("_csrf", &csrf), ("bucket", "kept")]);
    assert_eq!(forged.status, 303);
    assert!(bucket_exists(&server, "kept"), "the API refused it");
    assert!(browser.get("/buckets").body.contains("AccessDenied"));
    browser.post("/buckets", &[("_csrf", &csrf), ("bucket", "not-allowed")]);
    assert!(!bucket_exists(&server, "not-allowed"));

    // The key deactivated: the session ends with it.
    let iam = server.root_iam();
    server.block_on(async {
        iam.update_access_key()
            .user_name(&reader.name)
            .access_key_id(&reader.access_key)
            .status(aws_sdk_iam::types::StatusType::Inactive)
            .send()
            .await
            .unwrap()
    });
    assert_eq!(browser.get("/buckets").status, 303);
    assert_eq!(
        browser.sign_in(&reader.access_key, &reader.secret).status,
        401
    );
}

#[test]
fn sign_in_attempts_are_rate_limited_and_the_console_can_be_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(
        dir.path(),
        &[("LABSTORE_BACKEND_ADMIN_CONSOLE_SIGN_INS_PER_MINUTE", "3")],
    )
    .unwrap();
    let mut browser = Browser::new(&server);
    for _ in 0..3 {
        assert_eq!(browser.sign_in("admin", "wrong-secret").status, 401);
    }
    let limited = browser.sign_in("admin", ROOT_SECRET);
    assert_eq!(
        limited.status, 429,
        "even the right secret waits out the minute"
    );
    assert!(browser.cookie.is_none());
    drop(server);

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(
        dir.path(),
        &[("LABSTORE_BACKEND_ADMIN_CONSOLE_ENABLED", "false")],
    )
    .unwrap();
    let off = common::get(server.admin, "/");
    assert_eq!(off.status, 404);
    assert_eq!(common::get(server.admin, "/signin").status, 404);
    assert_eq!(common::get(server.admin, "/health").status, 200);
}

/// Temporary credentials sign in with their session token (kept by the server, never sent
/// back); the token is required with them, and a wrong one is refused.
#[test]
fn temporary_credentials_sign_in_with_their_session_token() {
    let server = TestServer::start();
    let reader = server.block_on(server.with_user(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:List*","sts:GetSessionToken"],"Resource":"*"}]}"#,
    ));
    let sts = crate::sts::sts_client(server.iam, &reader.access_key, &reader.secret, None);
    let session = server.block_on(async { sts.get_session_token().send().await.unwrap() });
    let c = session.credentials().unwrap();
    let (key, secret, token) = (c.access_key_id(), c.secret_access_key(), c.session_token());

    let mut browser = Browser::new(&server);
    let without = browser.sign_in(key, secret);
    assert_eq!(without.status, 401, "a temporary key needs its token");
    let wrong = browser.post(
        "/signin",
        &[
            ("access_key", key),
            ("secret_key", secret),
            ("session_token", "not-the-token"),
        ],
    );
    assert_eq!(wrong.status, 401);
    let signed = browser.post(
        "/signin",
        &[
            ("access_key", key),
            ("secret_key", secret),
            ("session_token", token),
        ],
    );
    assert_eq!(signed.status, 303, "{}", signed.body);
    let page = browser.get("/buckets");
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&format!("user/{}", reader.name)),
        "{}",
        page.body
    );
    assert!(!page.body.contains(token) && !page.body.contains(secret));
}
