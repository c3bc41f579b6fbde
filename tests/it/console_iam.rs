//! The console's IAM pages and policy simulator over raw HTTP, as a browser sends them: a user
//! created with a read-only inline policy and an access key whose secret is shown once; the
//! user signed in with it sees the lists and documents and no change forms, and its forged
//! posts are refused by the API; a malformed document answers with its line and column; hostile
//! tags and policy text render escaped. The same in Chromium: `tests/e2e/checks_console_iam.py`.

use crate::common::{TestServer, ROOT_SECRET};
use crate::console::Browser;

const READ_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Sid":"ReadIam","Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"},
  {"Sid":"ReadS3","Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"arn:aws:s3:::<script>alert(1)</script>*"}
]}"#;

fn root(server: &TestServer) -> (Browser, String) {
    let mut browser = Browser::new(server);
    assert_eq!(browser.sign_in("admin", ROOT_SECRET).status, 303);
    let csrf = browser.csrf();
    (browser, csrf)
}

/// The text between `start` and the next `end` in `body`.
fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let at = body
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {body}"))
        + start.len();
    let len = body[at..].find(end).unwrap();
    &body[at..at + len]
}

/// A user `reader` with the read-only inline policy and an access key: (id, secret).
fn reader(browser: &mut Browser, csrf: &str) -> (String, String) {
    let created = browser.post(
        "/iam/do",
        &[
            ("_csrf", csrf),
            ("action", "CreateUser"),
            ("UserName", "reader"),
        ],
    );
    assert_eq!(created.status, 303, "{}", created.body);
    assert_eq!(created.header("location"), Some("/iam/user?name=reader"));
    let put = browser.post(
        "/iam/document",
        &[
            ("_csrf", csrf),
            ("action", "PutUserPolicy"),
            ("UserName", "reader"),
            ("PolicyName", "read-only"),
            ("back", "/iam/user?name=reader"),
            ("document", READ_ONLY),
        ],
    );
    assert_eq!(put.status, 303, "{}", put.body);
    let answer = browser.post("/iam/user/keys", &[("_csrf", csrf), ("UserName", "reader")]);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.contains("only time the secret is shown"));
    let id = between(&answer.body, "id=\"new-key-id\">", "<").to_owned();
    let secret = between(&answer.body, "id=\"new-key-secret\">", "<").to_owned();
    assert_eq!(secret.len(), 40, "{secret}");
    (id, secret)
}

#[test]
fn a_users_secret_is_shown_once_and_its_read_only_console_offers_and_accepts_no_change() {
    let server = TestServer::start();
    let (mut root, csrf) = root(&server);
    let (id, secret) = reader(&mut root, &csrf);

    let page = root.get("/iam/user?name=reader");
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&id), "the key is listed");
    assert!(
        !page.body.contains(&secret),
        "the secret is never shown again"
    );
    assert!(page.body.contains("read-only"));
    assert!(
        page.body
            .contains("arn:aws:s3:::&lt;script&gt;alert(1)&lt;/script&gt;*")
            || page
                .body
                .contains("arn:aws:s3:::&#60;script&#62;alert(1)&#60;/script&#62;*"),
        "the policy text is escaped"
    );
    assert!(!page.body.contains("<script>alert(1)"));
    assert!(
        page.body.contains("action=\"/iam/do\""),
        "root is offered changes"
    );

    let mut reader = Browser::new(&server);
    assert_eq!(reader.sign_in(&id, &secret).status, 303);
    let users = reader.get("/iam/users");
    assert_eq!(users.status, 200);
    assert!(
        users.body.contains("/iam/user?name=reader"),
        "{}",
        users.body
    );
    let own = reader.get("/iam/user?name=reader");
    assert_eq!(own.status, 200, "{}", own.body);
    assert!(own.body.contains("ReadIam"), "the document is shown");
    for form in ["/iam/do", "/iam/document", "/iam/user/keys"] {
        assert!(
            !users.body.contains(&format!("action=\"{form}\"")),
            "{form}"
        );
        assert!(!own.body.contains(&format!("action=\"{form}\"")), "{form}");
    }

    // Posted by hand, with the session's own token: the API refuses.
    let token = reader.csrf();
    let forged = reader.post(
        "/iam/do",
        &[
            ("_csrf", &token),
            ("action", "CreateUser"),
            ("UserName", "forged"),
        ],
    );
    assert_eq!(forged.status, 303);
    let after = reader.get("/iam/users");
    assert!(after.body.contains("AccessDenied"), "{}", after.body);
    let forged = reader.post(
        "/iam/do",
        &[
            ("_csrf", &token),
            ("action", "DeleteUser"),
            ("UserName", "reader"),
            ("back", "/iam/user?name=reader"),
        ],
    );
    assert_eq!(forged.status, 303);
    let after = reader.get("/iam/user?name=reader");
    assert!(after.body.contains("AccessDenied"), "{}", after.body);
    let forged = reader.post(
        "/iam/user/keys",
        &[("_csrf", &token), ("UserName", "reader")],
    );
    assert_eq!(forged.status, 303, "no secret page for a refused key");

    let users = root.get("/iam/users");
    assert!(users.body.contains("/iam/user?name=reader"));
    assert!(!users.body.contains("forged"), "the user set is unchanged");
}

#[test]
fn a_malformed_document_answers_with_its_line_and_column_and_keeps_the_text() {
    let server = TestServer::start();
    let (mut root, csrf) = root(&server);
    root.post(
        "/iam/do",
        &[
            ("_csrf", &csrf),
            ("action", "CreateUser"),
            ("UserName", "writer"),
        ],
    );
    let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [ <b>oops</b> ]\n}";
    let refused = root.post(
        "/iam/document",
        &[
            ("_csrf", &csrf),
            ("action", "PutUserPolicy"),
            ("UserName", "writer"),
            ("PolicyName", "broken"),
            ("back", "/iam/user?name=writer"),
            ("document", text),
        ],
    );
    assert_eq!(refused.status, 400);
    assert!(
        refused.body.contains("MalformedPolicyDocument"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("line 3, column 18"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("&lt;b&gt;oops&lt;/b&gt;")
            || refused.body.contains("&#60;b&#62;oops")
    );
    assert!(!refused.body.contains("<b>oops"));
    assert!(refused
        .body
        .contains("name=\"PolicyName\" value=\"broken\""));

    // JSON that parses but is no policy: the API's message, no position.
    let refused = root.post(
        "/iam/document",
        &[
            ("_csrf", &csrf),
            ("action", "PutUserPolicy"),
            ("UserName", "writer"),
            ("PolicyName", "broken"),
            ("document", "{\"Version\":\"2012-10-17\"}"),
        ],
    );
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("MalformedPolicyDocument"));
    assert!(!refused.body.contains("doc-position"));
}

#[test]
fn hostile_names_and_tags_render_as_text() {
    let server = TestServer::start();
    let (mut root, csrf) = root(&server);
    root.post(
        "/iam/do",
        &[
            ("_csrf", &csrf),
            ("action", "CreateUser"),
            ("UserName", "tagged"),
        ],
    );
    let hostile = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "abc\u{202e}fdp.exe",
    ];
    for (i, value) in hostile.iter().enumerate() {
        let key = format!("k{i}");
        root.post(
            "/iam/do",
            &[
                ("_csrf", &csrf),
                ("action", "TagUser"),
                ("UserName", "tagged"),
                ("Tags.member.1.Key", &key),
                ("Tags.member.1.Value", value),
                ("back", "/iam/user?name=tagged"),
            ],
        );
        let page = root.get("/iam/user?name=tagged");
        assert!(!page.body.contains("<script>alert"), "{}", page.body);
        assert!(!page.body.contains("<img src=x"), "{}", page.body);
    }
    let long = "n".repeat(1024);
    for name in [
        long.as_str(),
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
    ] {
        root.post(
            "/iam/do",
            &[
                ("_csrf", &csrf),
                ("action", "CreateUser"),
                ("UserName", name),
            ],
        );
        let page = root.get("/iam/users");
        assert!(!page.body.contains("<script>alert"));
        assert!(!page.body.contains("<img src=x"));
        let page = root.get(&format!(
            "/iam/user?name={}",
            crate::console::form(&[("x", name)]).trim_start_matches("x=")
        ));
        assert!(!page.body.contains("<script>alert"));
        assert!(!page.body.contains("<img src=x"));
    }
}

#[test]
fn groups_policies_with_versions_roles_and_oidc_pages_work_through_the_api() {
    let server = TestServer::start();
    let (mut root, csrf) = root(&server);
    let made = root.post(
        "/iam/do",
        &[
            ("_csrf", &csrf),
            ("action", "CreateGroup"),
            ("GroupName", "readers"),
        ],
    );
    assert_eq!(made.header("location"), Some("/iam/group?name=readers"));
    let page = root.get("/iam/group?name=readers");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Group readers"));

    let made = root.post(
        "/iam/document",
        &[
            ("_csrf", &csrf),
            ("action", "CreatePolicy"),
            ("PolicyName", "get-only"),
            ("document", READ_ONLY),
        ],
    );
    assert_eq!(made.status, 303, "{}", made.body);
    let at = made.header("location").unwrap().to_owned();
    assert!(at.starts_with("/iam/policy?arn="), "{at}");
    let version = root.post(
        "/iam/document",
        &[
            ("_csrf", &csrf),
            ("action", "CreatePolicyVersion"),
            ("PolicyArn", "arn:aws:iam::000000000000:policy/get-only"),
            ("SetAsDefault", "true"),
            ("back", &at),
            ("document", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#),
        ],
    );
    assert_eq!(version.status, 303, "{}", version.body);
    let page = root.get(&at);
    assert!(
        page.body.contains(">v2<") && page.body.contains(">v1<"),
        "{}",
        page.body
    );
    assert!(page.body.contains("s3:GetObject"));

    let made = root.post(
        "/iam/document",
        &[
            ("_csrf", &csrf),
            ("action", "CreateRole"),
            ("RoleName", "deployer"),
            ("document", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}"#),
        ],
    );
    assert_eq!(
        made.header("location"),
        Some("/iam/role?name=deployer"),
        "{}",
        made.body
    );
    let page = root.get("/iam/role?name=deployer");
    assert!(page.body.contains("sts:AssumeRole"), "{}", page.body);
    assert_eq!(root.get("/iam/roles").status, 200);
    let oidc = root.get("/iam/oidc");
    assert_eq!(oidc.status, 200);
    assert!(oidc.body.contains("New provider"));
}

#[test]
fn the_simulator_shows_each_decision_with_the_deciding_statement_marked() {
    let server = TestServer::start();
    let (mut root, csrf) = root(&server);
    root.post(
        "/iam/do",
        &[
            ("_csrf", &csrf),
            ("action", "CreateUser"),
            ("UserName", "sim"),
        ],
    );
    let document = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Sid\": \"Reads\",\n      \"Effect\": \"Allow\",\n      \"Action\": \"s3:GetObject\",\n      \"Resource\": \"*\"\n    },\n    {\n      \"Sid\": \"NoDeletes\",\n      \"Effect\": \"Deny\",\n      \"Action\": \"s3:DeleteObject\",\n      \"Resource\": \"*\"\n    }\n  ]\n}";
    let put = root.post(
        "/iam/document",
        &[
            ("_csrf", &csrf),
            ("action", "PutUserPolicy"),
            ("UserName", "sim"),
            ("PolicyName", "reads"),
            ("document", document),
        ],
    );
    assert_eq!(put.status, 303, "{}", put.body);
    let page = root.get("/simulator");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("arn:aws:iam::000000000000:user/sim"));
    let answer = root.post(
        "/simulator",
        &[
            ("_csrf", &csrf),
            ("source", "arn:aws:iam::000000000000:user/sim"),
            ("actions", "s3:GetObject, s3:DeleteObject\ns3:PutObject"),
            ("resources", "arn:aws:s3:::b/k"),
        ],
    );
    assert_eq!(answer.status, 200);
    let body = &answer.body;
    assert!(body.contains(">allowed<"), "{body}");
    assert!(body.contains(">explicitDeny<"), "{body}");
    assert!(body.contains(">implicitDeny<"), "{body}");
    assert!(body.contains("reads, lines 4–9"), "{body}");
    assert!(body.contains("reads, lines 10–15"), "{body}");
    assert!(
        body.contains("<mark>      &quot;Sid&quot;: &quot;Reads&quot;,</mark>")
            || body.contains("<mark>      &#34;Sid&#34;: &#34;Reads&#34;,</mark>"),
        "{body}"
    );
    assert!(
        !body.contains("<mark>  &quot;Version"),
        "only statements are marked"
    );

    // Pasted documents: SimulateCustomPolicy, the pasted text escaped.
    let answer = root.post(
        "/simulator",
        &[
            ("_csrf", &csrf),
            ("custom", "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::<script>x</script>\"}]}"),
            ("actions", "s3:GetObject"),
            ("resources", "arn:aws:s3:::other"),
        ],
    );
    assert!(answer.body.contains(">implicitDeny<"), "{}", answer.body);
    assert!(answer.body.contains("PolicyInputList.1"));
    assert!(!answer.body.contains("<script>x"));
}
