//! The console's bucket settings page, driven as a browser posts its forms: versioning,
//! default encryption, Block Public Access, tags, and the document editors (a bucket policy's
//! JSON error shown at its line and column, a refusal of the API placed where the document
//! holds what it names, a policy holding markup rendered escaped, lifecycle rules saved and
//! deleted). A read-only user sees the settings and no form, and a forged change is refused.

use crate::common::{TestServer, ROOT_SECRET};
use crate::console::Browser;

const BUCKET: &str = "configured";

fn page(browser: &mut Browser) -> String {
    let page = browser.get(&format!("/bucket?bucket={BUCKET}"));
    assert_eq!(page.status, 200, "{}", page.body);
    page.body
}

fn setting(browser: &mut Browser, csrf: &str, fields: &[(&str, &str)]) {
    let mut all = vec![("_csrf", csrf), ("bucket", BUCKET)];
    all.extend_from_slice(fields);
    let answer = browser.post("/bucket/setting", &all);
    assert_eq!(answer.status, 303, "{}", answer.body);
}

#[test]
fn settings_are_read_and_changed_through_the_api() {
    let server = TestServer::start();
    let s3 = server.root_s3();
    server.block_on(async { s3.create_bucket().bucket(BUCKET).send().await.unwrap() });
    let mut browser = Browser::new(&server);
    browser.sign_in("admin", ROOT_SECRET);
    let csrf = browser.csrf();
    let body = page(&mut browser);
    assert!(body.contains("Never enabled"), "versioning as S3 says it");

    setting(
        &mut browser,
        &csrf,
        &[("setting", "versioning"), ("status", "Enabled")],
    );
    setting(
        &mut browser,
        &csrf,
        &[("setting", "encryption"), ("algorithm", "AES256")],
    );
    setting(
        &mut browser,
        &csrf,
        &[("setting", "public-access"), ("BlockPublicPolicy", "on")],
    );
    // Tag values allow letters, digits, spaces and + - = . _ : / @ only (S3's rule).
    let value = "a+b=c @ d/e";
    setting(
        &mut browser,
        &csrf,
        &[
            ("setting", "tags"),
            ("tag_key", "team"),
            ("tag_value", value),
            ("tag_key", ""),
            ("tag_value", ""),
        ],
    );
    server.block_on(async {
        let v = s3
            .get_bucket_versioning()
            .bucket(BUCKET)
            .send()
            .await
            .unwrap();
        assert_eq!(v.status().map(|s| s.as_str()), Some("Enabled"));
        let sse = s3
            .get_bucket_encryption()
            .bucket(BUCKET)
            .send()
            .await
            .unwrap();
        let rule = &sse.server_side_encryption_configuration().unwrap().rules()[0];
        let default = rule.apply_server_side_encryption_by_default().unwrap();
        assert_eq!(default.sse_algorithm().as_str(), "AES256");
        let pab = s3
            .get_public_access_block()
            .bucket(BUCKET)
            .send()
            .await
            .unwrap();
        let c = pab.public_access_block_configuration().unwrap();
        assert_eq!(
            (
                c.block_public_acls(),
                c.block_public_policy(),
                c.restrict_public_buckets()
            ),
            (Some(false), Some(true), Some(false))
        );
        let tags = s3.get_bucket_tagging().bucket(BUCKET).send().await.unwrap();
        assert_eq!(tags.tag_set().len(), 1);
        assert_eq!(tags.tag_set()[0].value(), value);
    });
    let body = page(&mut browser);
    assert!(body.contains("Tags updated."), "the last change's message");
    assert!(body.contains("<strong>Enabled</strong>"));
    assert!(
        body.contains("value=\"a+b=c @ d/e\""),
        "the tag in its field"
    );
}

#[test]
fn documents_are_edited_with_errors_placed_at_their_line_and_column() {
    let server = TestServer::start();
    let s3 = server.root_s3();
    server.block_on(async { s3.create_bucket().bucket(BUCKET).send().await.unwrap() });
    let mut browser = Browser::new(&server);
    browser.sign_in("admin", ROOT_SECRET);
    let csrf = browser.csrf();
    let save = |browser: &mut Browser, kind: &str, text: &str| {
        browser.post(
            "/bucket/document",
            &[
                ("_csrf", &csrf),
                ("bucket", BUCKET),
                ("kind", kind),
                ("action", "save"),
                ("text", text),
            ],
        )
    };

    let broken = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [,]\n}\n";
    let refused = save(&mut browser, "policy", broken);
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("Line 3, column 17"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("data-error-line=\"3\""));
    assert!(
        refused.body.contains("&#34;Statement&#34;: [,]"),
        "the posted text is kept"
    );

    let misspelt = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Efect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::configured/*\"}\n  ]\n}\n";
    let refused = save(&mut browser, "policy", misspelt);
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("MalformedPolicy"), "{}", refused.body);
    assert!(
        refused.body.contains("Line 4"),
        "placed where Efect is: {}",
        refused.body
    );

    // A condition value may hold anything: here, markup that would close the editor.
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Reads","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::000000000000:root"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{BUCKET}/*","Condition":{{"StringEquals":{{"s3:prefix":"</textarea><script>alert(1)</script>"}}}}}}]}}"#
    );
    assert_eq!(save(&mut browser, "policy", &policy).status, 303);
    let lifecycle = "<LifecycleConfiguration><Rule><ID>tmp</ID><Filter><Prefix>tmp/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>7</Days></Expiration></Rule></LifecycleConfiguration>";
    assert_eq!(save(&mut browser, "lifecycle", lifecycle).status, 303);
    server.block_on(async {
        let stored = s3.get_bucket_policy().bucket(BUCKET).send().await.unwrap();
        assert!(stored.policy().unwrap().contains("\"Reads\""));
        let rules = s3
            .get_bucket_lifecycle_configuration()
            .bucket(BUCKET)
            .send()
            .await
            .unwrap();
        assert_eq!(rules.rules()[0].id(), Some("tmp"));
    });
    let body = page(&mut browser);
    assert!(body.contains("Lifecycle rules saved."));
    assert!(
        body.contains("&#34;Sid&#34;: &#34;Reads&#34;"),
        "the policy, indented, escaped"
    );
    let at = body.find("doc-lifecycle").unwrap();
    assert!(
        body.contains("  &#60;Rule&#62;"),
        "the rules, indented: {}",
        &body[at..at + 600]
    );
    assert!(
        !body.contains("</textarea><script>"),
        "a document is never markup"
    );
    assert!(body.contains("&#60;/textarea&#62;&#60;script&#62;alert(1)&#60;/script&#62;"));

    let deleted = browser.post(
        "/bucket/document",
        &[
            ("_csrf", &csrf),
            ("bucket", BUCKET),
            ("kind", "lifecycle"),
            ("action", "delete"),
        ],
    );
    assert_eq!(deleted.status, 303);
    server.block_on(async {
        assert!(s3
            .get_bucket_lifecycle_configuration()
            .bucket(BUCKET)
            .send()
            .await
            .is_err());
    });
}

#[test]
fn a_read_only_user_sees_settings_without_forms_and_a_forged_change_is_refused() {
    let server = TestServer::start();
    let s3 = server.root_s3();
    server.block_on(async { s3.create_bucket().bucket(BUCKET).send().await.unwrap() });
    let reader = server.block_on(server.with_user(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}"#,
    ));
    let mut browser = Browser::new(&server);
    browser.sign_in(&reader.access_key, &reader.secret);
    let body = page(&mut browser);
    assert!(body.contains("Never enabled"), "it may read");
    assert!(
        !body.contains("/bucket/setting\" class=\"row\""),
        "no setting form"
    );
    assert!(!body.contains("Save bucket policy"));
    assert!(body.contains("readonly"), "documents shown read-only");
    let csrf = browser.csrf();
    setting(
        &mut browser,
        &csrf,
        &[("setting", "versioning"), ("status", "Enabled")],
    );
    assert!(page(&mut browser).contains("AccessDenied"));
    server.block_on(async {
        let v = s3
            .get_bucket_versioning()
            .bucket(BUCKET)
            .send()
            .await
            .unwrap();
        assert!(v.status().is_none(), "unchanged");
    });
}
