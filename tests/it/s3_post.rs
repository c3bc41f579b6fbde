//! PostObject, browser form uploads: `multipart/form-data` POSTs to the bucket built by a
//! small helper (no SDK sends them), signed with SigV4 (`x-amz-signature`) and SigV2
//! (`signature`) over the policy; every condition kind passing and failing; the expired
//! policy; the answers (`success_action_status`, `success_action_redirect`); `${filename}`;
//! tagging and checksum fields; authorization as the signer (and anonymously, by bucket
//! policy); and a file that is streamed (refused by its size while it is still being sent).
//! Objects are read back with the SDK.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::common;
use common::{Response, TestServer, ROOT_SECRET};
use labstore::timefmt;

const B: &str = "forms";
const BOUNDARY: &str = "----labstoreFormBoundary7MA4YWxkTrZu0gW";

/// A form: its fields in order, then the file part, then fields after it.
struct Form {
    fields: Vec<(String, String)>,
    filename: String,
    file: Vec<u8>,
    after: Vec<(String, String)>,
}

impl Form {
    fn new(fields: &[(&str, &str)], file: &[u8]) -> Form {
        Form {
            fields: fields
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            filename: "hello.txt".into(),
            file: file.to_vec(),
            after: Vec::new(),
        }
    }

    /// The body before the file's bytes, and after them.
    fn framing(&self) -> (Vec<u8>, Vec<u8>) {
        let mut head = Vec::new();
        for (name, value) in &self.fields {
            head.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        head.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                self.filename
            )
            .as_bytes(),
        );
        let mut tail = Vec::new();
        for (name, value) in &self.after {
            tail.extend_from_slice(
                format!(
                    "\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}"
                )
                .as_bytes(),
            );
        }
        tail.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        (head, tail)
    }

    fn body(&self) -> Vec<u8> {
        let (mut body, tail) = self.framing();
        body.extend_from_slice(&self.file);
        body.extend_from_slice(&tail);
        body
    }
}

fn head(addr: SocketAddr, path: &str, content_type: &str, length: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
    )
}

/// Sends `body` as a form POST to `path` and reads the answer.
fn send(addr: SocketAddr, path: &str, content_type: &str, body: &[u8]) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream
        .write_all(head(addr, path, content_type, body.len()).as_bytes())
        .unwrap();
    // The server may answer (and close) before the whole body is sent: a refusal.
    let _ = stream.write_all(body);
    common::read_response(&mut stream)
}

fn post(server: &TestServer, form: &Form) -> Response {
    send(
        server.s3,
        &format!("/{B}"),
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        &form.body(),
    )
}

fn code(response: &Response) -> String {
    let body = &response.body;
    body.split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map_or_else(String::new, |(code, _)| code.to_owned())
}

fn message(response: &Response) -> String {
    let body = &response.body;
    body.split_once("<Message>")
        .and_then(|(_, rest)| rest.split_once("</Message>"))
        .map_or_else(String::new, |(m, _)| m.replace("&quot;", "\""))
}

fn expiration(offset: i64) -> String {
    let now = timefmt::unix_seconds(SystemTime::now());
    timefmt::format_iso8601(timefmt::from_unix_seconds(now + offset))
}

fn hmac256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The fields of a SigV4-signed form for `access_key`/`secret`, with a policy of
/// `conditions` (JSON list items) expiring `expires_in` seconds from now. The policy names
/// the signature fields, as SDKs do.
fn signed_v4(
    access_key: &str,
    secret: &str,
    conditions: &[&str],
    expires_in: i64,
) -> Vec<(String, String)> {
    let now = SystemTime::now();
    let amz_date = timefmt::format_amz_date(now);
    let date = &amz_date[..8];
    let credential = format!("{access_key}/{date}/us-east-1/s3/aws4_request");
    let mut all: Vec<String> = conditions.iter().map(|c| (*c).to_owned()).collect();
    all.push(r#"{"x-amz-algorithm": "AWS4-HMAC-SHA256"}"#.to_owned());
    all.push(format!(r#"{{"x-amz-credential": "{credential}"}}"#));
    all.push(format!(r#"{{"x-amz-date": "{amz_date}"}}"#));
    let policy = format!(
        r#"{{"expiration": "{}", "conditions": [{}]}}"#,
        expiration(expires_in),
        all.join(", ")
    );
    let policy = BASE64.encode(policy);
    let mut key = hmac256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    for part in ["us-east-1", "s3", "aws4_request"] {
        key = hmac256(&key, part.as_bytes());
    }
    let signature = hex::encode(hmac256(&key, policy.as_bytes()));
    vec![
        ("x-amz-algorithm".into(), "AWS4-HMAC-SHA256".into()),
        ("x-amz-credential".into(), credential),
        ("x-amz-date".into(), amz_date),
        ("policy".into(), policy),
        ("x-amz-signature".into(), signature),
    ]
}

/// The fields of a SigV2-signed form.
fn signed_v2(access_key: &str, secret: &str, conditions: &[&str]) -> Vec<(String, String)> {
    let policy = format!(
        r#"{{"expiration": "{}", "conditions": [{}]}}"#,
        expiration(3600),
        conditions.join(", ")
    );
    let policy = BASE64.encode(policy);
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(policy.as_bytes());
    let signature = BASE64.encode(mac.finalize().into_bytes());
    vec![
        ("AWSAccessKeyId".into(), access_key.into()),
        ("policy".into(), policy),
        ("signature".into(), signature),
    ]
}

/// A root-signed form: `fields` first, then the signature fields.
fn root_form(fields: &[(&str, &str)], conditions: &[&str], file: &[u8]) -> Form {
    let mut form = Form::new(fields, file);
    form.fields
        .extend(signed_v4("admin", ROOT_SECRET, conditions, 3600));
    form
}

async fn setup(dir: &std::path::Path) -> (TestServer, aws_sdk_s3::Client) {
    common::start_with_bucket(dir, B).await
}

async fn read(
    s3: &aws_sdk_s3::Client,
    key: &str,
) -> (Vec<u8>, aws_sdk_s3::operation::get_object::GetObjectOutput) {
    let mut got = s3.get_object().bucket(B).key(key).send().await.unwrap();
    let body = std::mem::take(&mut got.body)
        .collect()
        .await
        .unwrap()
        .to_vec();
    (body, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v4_signed_form_stores_the_file_with_its_fields_as_headers() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let form = root_form(
        &[
            ("key", "uploads/${filename}"),
            ("Content-Type", "text/plain"),
            ("x-amz-meta-who", "browser"),
            ("Cache-Control", "max-age=60"),
        ],
        &[
            r#"{"bucket": "forms"}"#,
            r#"["starts-with", "$key", "uploads/"]"#,
            r#"["eq", "$Content-Type", "text/plain"]"#,
            r#"["starts-with", "$x-amz-meta-who", ""]"#,
            r#"{"cache-control": "max-age=60"}"#,
        ],
        b"hello from a form",
    );
    let response = post(&server, &form);
    assert_eq!(response.status, 204, "{}", response.body);
    let etag = response.header("etag").unwrap().to_owned();
    assert_eq!(
        etag,
        format!("\"{:x}\"", md5::Md5::digest(b"hello from a form"))
    );
    assert_eq!(
        response.header("location"),
        Some(format!("http://{}/{B}/uploads/hello.txt", server.s3).as_str())
    );
    let (body, got) = read(&s3, "uploads/hello.txt").await;
    assert_eq!(body, b"hello from a form");
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(got.cache_control(), Some("max-age=60"));
    assert_eq!(
        got.metadata().unwrap().get("who").map(String::as_str),
        Some("browser")
    );
    assert_eq!(got.e_tag(), Some(etag.as_str()));
}

use md5::Digest as _;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v2_signed_form_is_accepted_and_a_wrong_signature_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let conditions = [r#"{"bucket": "forms"}"#, r#"{"key": "v2.txt"}"#];
    let mut form = Form::new(&[("key", "v2.txt")], b"v2 bytes");
    form.fields
        .extend(signed_v2("admin", ROOT_SECRET, &conditions));
    let response = post(&server, &form);
    assert_eq!(response.status, 204, "{}", response.body);
    assert_eq!(read(&s3, "v2.txt").await.0, b"v2 bytes");

    let mut forged = Form::new(&[("key", "v2.txt")], b"forged");
    forged
        .fields
        .extend(signed_v2("admin", "not-the-secret", &conditions));
    let response = post(&server, &forged);
    assert_eq!(
        (response.status, code(&response).as_str()),
        (403, "SignatureDoesNotMatch")
    );
    let mut unknown = Form::new(&[("key", "v2.txt")], b"forged");
    unknown
        .fields
        .extend(signed_v2("nobody", ROOT_SECRET, &conditions));
    let response = post(&server, &unknown);
    assert_eq!(
        (response.status, code(&response).as_str()),
        (403, "InvalidAccessKeyId")
    );
    // A V4 form signed with another secret.
    let mut form = Form::new(&[("key", "v4.txt")], b"x");
    form.fields
        .extend(signed_v4("admin", "wrong", &[r#"{"key": "v4.txt"}"#], 3600));
    let response = post(&server, &form);
    assert_eq!(
        (response.status, code(&response).as_str()),
        (403, "SignatureDoesNotMatch")
    );
    assert_eq!(read(&s3, "v2.txt").await.0, b"v2 bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_follows_success_action_status_and_redirect() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _s3) = setup(dir.path()).await;
    let form = |status: &str| {
        root_form(
            &[("key", "a b.txt"), ("success_action_status", status)],
            &[
                r#"{"key": "a b.txt"}"#,
                &format!(r#"{{"success_action_status": "{status}"}}"#),
            ],
            b"bytes",
        )
    };
    let response = post(&server, &form("201"));
    assert_eq!(response.status, 201, "{}", response.body);
    let etag = response.header("etag").unwrap().to_owned();
    assert!(
        response.body.contains("<PostResponse>"),
        "{}",
        response.body
    );
    assert!(response.body.contains(&format!("<Bucket>{B}</Bucket>")));
    assert!(response.body.contains("<Key>a b.txt</Key>"));
    assert!(response
        .body
        .contains(&format!("<ETag>{}</ETag>", etag.replace('"', "&quot;"))));
    assert!(response.body.contains(&format!(
        "<Location>http://{}/{B}/a%20b.txt</Location>",
        server.s3
    )));
    let response = post(&server, &form("200"));
    assert_eq!((response.status, response.body.as_str()), (200, ""));
    // Any other value is the default, 204.
    let response = post(&server, &form("404"));
    assert_eq!(response.status, 204);

    let redirect = root_form(
        &[
            ("key", "r.txt"),
            ("success_action_redirect", "https://app.example/done?x=1"),
        ],
        &[
            r#"{"key": "r.txt"}"#,
            r#"["starts-with", "$success_action_redirect", "https://app.example/"]"#,
        ],
        b"r",
    );
    let response = post(&server, &redirect);
    assert_eq!(response.status, 303, "{}", response.body);
    let location = response.header("location").unwrap();
    assert_eq!(
        location,
        format!(
            "https://app.example/done?x=1&bucket={B}&key=r.txt&etag=%22{:x}%22",
            md5::Md5::digest(b"r")
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_condition_kind_passes_and_fails_as_s3_words_it() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let refused = |form: &Form| {
        let response = post(&server, form);
        (response.status, code(&response), message(&response))
    };
    // eq, in both spellings.
    let form = root_form(&[("key", "k1")], &[r#"["eq", "$key", "other"]"#], b"x");
    assert_eq!(
        refused(&form),
        (
            403,
            "AccessDenied".into(),
            r#"Invalid according to Policy: Policy Condition failed: ["eq", "$key", "other"]"#
                .into()
        )
    );
    let form = root_form(
        &[("key", "k1")],
        &[r#"{"bucket": "elsewhere"}"#, r#"{"key": "k1"}"#],
        b"x",
    );
    assert_eq!(
        refused(&form).2,
        r#"Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "elsewhere"]"#
    );
    // starts-with, and the empty prefix that allows anything.
    let form = root_form(
        &[("key", "k1")],
        &[r#"["starts-with", "$key", "user/"]"#],
        b"x",
    );
    assert_eq!(
        refused(&form).2,
        r#"Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "user/"]"#
    );
    let form = root_form(&[("key", "k1")], &[r#"["starts-with", "$key", ""]"#], b"x");
    assert_eq!(post(&server, &form).status, 204);
    // Every field must be named by a condition.
    let form = root_form(
        &[("key", "k2"), ("x-amz-meta-extra", "1")],
        &[r#"["starts-with", "$key", ""]"#],
        b"x",
    );
    assert_eq!(
        refused(&form),
        (
            403,
            "AccessDenied".into(),
            "Invalid according to Policy: Extra input fields: x-amz-meta-extra".into()
        )
    );
    // ... but x-ignore-* fields need none.
    let form = root_form(
        &[("key", "k3"), ("x-ignore-me", "1")],
        &[r#"["starts-with", "$key", ""]"#],
        b"x",
    );
    assert_eq!(post(&server, &form).status, 204);
    // content-length-range.
    let range = [
        r#"["starts-with", "$key", ""]"#,
        r#"["content-length-range", 3, 5]"#,
    ];
    assert_eq!(
        post(&server, &root_form(&[("key", "k4")], &range, b"abcd")).status,
        204
    );
    let (status, code, _) = refused(&root_form(&[("key", "k5")], &range, b"ab"));
    assert_eq!((status, code.as_str()), (400, "EntityTooSmall"));
    let (status, code, _) = refused(&root_form(&[("key", "k5")], &range, b"abcdef"));
    assert_eq!((status, code.as_str()), (400, "EntityTooLarge"));
    assert!(s3.head_object().bucket(B).key("k5").send().await.is_err());
    // An expired policy.
    let mut form = Form::new(&[("key", "k6")], b"x");
    form.fields
        .extend(signed_v4("admin", ROOT_SECRET, &[r#"{"key": "k6"}"#], -60));
    assert_eq!(
        refused(&form),
        (
            403,
            "AccessDenied".into(),
            "Invalid according to Policy: Policy expired.".into()
        )
    );
    // A policy that is not a policy.
    let mut form = Form::new(&[("key", "k7")], b"x");
    let mut fields = signed_v4("admin", ROOT_SECRET, &[], 3600);
    fields[3].1 = BASE64.encode("{\"conditions\": []}");
    form.fields.extend(fields);
    // Its signature no longer matches either; the signature is checked first.
    assert_eq!(refused(&form).1, "SignatureDoesNotMatch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_forms_get_s3s_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _s3) = setup(dir.path()).await;
    let path = format!("/{B}");
    let multipart = format!("multipart/form-data; boundary={BOUNDARY}");
    // Not a form.
    let response = send(server.s3, &path, "text/plain", b"hello");
    assert_eq!(
        (response.status, code(&response).as_str()),
        (412, "PreconditionFailed")
    );
    // No key.
    let form = root_form(&[], &[], b"x");
    let response = post(&server, &form);
    assert_eq!(
        (response.status, code(&response).as_str()),
        (400, "InvalidArgument")
    );
    assert!(
        message(&response).contains("&apos;key&apos;"),
        "{}",
        response.body
    );
    // No file.
    let body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--{BOUNDARY}--\r\n"
    );
    let response = send(server.s3, &path, &multipart, body.as_bytes());
    assert_eq!(code(&response), "IncorrectNumberOfFilesInPostRequest");
    // Not multipart at all inside.
    let response = send(server.s3, &path, &multipart, b"garbage without boundary");
    assert_eq!(
        (response.status, code(&response).as_str()),
        (400, "MalformedPOSTRequest")
    );
    // A file part that never ends.
    let (head, _) = root_form(&[("key", "k")], &[r#"{"key": "k"}"#], b"").framing();
    let mut body = head;
    body.extend_from_slice(b"no closing boundary");
    let response = send(server.s3, &path, &multipart, &body);
    assert_eq!(code(&response), "MalformedPOSTRequest");
    // Fields over 20 KB.
    let big = "v".repeat(21 * 1024);
    let form = root_form(&[("key", "k"), ("x-ignore-big", &big)], &[], b"x");
    let response = post(&server, &form);
    assert_eq!(code(&response), "MaxPostPreDataLengthExceededError");
    // A policy signed correctly that is not JSON.
    let mut form = Form::new(&[("key", "k")], b"x");
    let policy = BASE64.encode("not json");
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(ROOT_SECRET.as_bytes()).unwrap();
    mac.update(policy.as_bytes());
    form.fields.extend([
        ("AWSAccessKeyId".to_owned(), "admin".to_owned()),
        ("policy".to_owned(), policy),
        (
            "signature".to_owned(),
            BASE64.encode(mac.finalize().into_bytes()),
        ),
    ]);
    let response = post(&server, &form);
    assert_eq!(
        (response.status, code(&response).as_str()),
        (400, "InvalidPolicyDocument")
    );
    // An x-amz-* field this server does not implement is refused, not ignored.
    let form = root_form(
        &[
            ("key", "k"),
            ("x-amz-server-side-encryption", "aws:kms"),
            ("x-amz-server-side-encryption-aws-kms-key-id", "some-key"),
        ],
        &[
            r#"{"key": "k"}"#,
            r#"{"x-amz-server-side-encryption": "aws:kms"}"#,
            r#"{"x-amz-server-side-encryption-aws-kms-key-id": "some-key"}"#,
        ],
        b"x",
    );
    assert_eq!(code(&post(&server, &form)), "NotImplemented");
    // SSE-S3 from the form field: stored encrypted, answered with the header.
    let form = root_form(
        &[("key", "enc"), ("x-amz-server-side-encryption", "AES256")],
        &[
            r#"{"key": "enc"}"#,
            r#"{"x-amz-server-side-encryption": "AES256"}"#,
        ],
        b"form bytes",
    );
    let response = post(&server, &form);
    assert_eq!(response.status, 204, "{}", response.body);
    assert!(response
        .headers
        .iter()
        .any(|(n, v)| n == "x-amz-server-side-encryption" && v == "AES256"));
    // DeleteObjects is still DeleteObjects.
    let response = send(server.s3, &format!("{path}?delete"), &multipart, b"x");
    assert_ne!(code(&response), "PreconditionFailed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signer_is_authorized_as_for_put_object() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let user = server
        .with_user(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::{B}/user/*"}}]}}"#
        ))
        .await;
    let form = |key: &str| {
        let mut form = Form::new(&[("key", key)], b"mine");
        form.fields.extend(signed_v4(
            &user.access_key,
            &user.secret,
            &[r#"["starts-with", "$key", ""]"#],
            3600,
        ));
        form
    };
    assert_eq!(post(&server, &form("user/a")).status, 204);
    let response = post(&server, &form("other/a"));
    assert_eq!(
        (response.status, code(&response).as_str()),
        (403, "AccessDenied")
    );
    // A public ACL needs s3:PutObjectAcl too.
    let mut with_acl = Form::new(&[("key", "user/b"), ("acl", "public-read")], b"x");
    with_acl.fields.extend(signed_v4(
        &user.access_key,
        &user.secret,
        &[
            r#"["starts-with", "$key", ""]"#,
            r#"{"acl": "public-read"}"#,
        ],
        3600,
    ));
    assert_eq!(code(&post(&server, &with_acl)), "AccessDenied");
    assert_eq!(read(&s3, "user/a").await.0, b"mine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_anonymous_form_needs_a_bucket_policy_that_allows_it() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let form = Form::new(
        &[("key", "drop/${filename}"), ("Content-Type", "text/plain")],
        b"anon",
    );
    let response = post(&server, &form);
    assert_eq!(
        (response.status, code(&response).as_str()),
        (403, "AccessDenied")
    );
    // Credentials without a policy are not anonymity.
    let half = Form::new(&[("key", "k"), ("AWSAccessKeyId", "admin")], b"x");
    assert_eq!(code(&post(&server, &half)), "InvalidArgument");
    common::allow_public_access(&s3, B).await;
    s3.put_bucket_policy()
        .bucket(B)
        .policy(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::{B}/drop/*"}}]}}"#
        ))
        .send()
        .await
        .unwrap();
    let response = post(&server, &form);
    assert_eq!(response.status, 204, "{}", response.body);
    assert_eq!(read(&s3, "drop/hello.txt").await.0, b"anon");
    let elsewhere = Form::new(&[("key", "top.txt")], b"anon");
    assert_eq!(code(&post(&server, &elsewhere)), "AccessDenied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tagging_and_checksum_fields_are_stored_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let tagging =
        "<Tagging><TagSet><Tag><Key>team</Key><Value>web</Value></Tag></TagSet></Tagging>";
    let sha = BASE64.encode(Sha256::digest(b"checked"));
    let form = root_form(
        &[
            ("key", "t"),
            ("tagging", tagging),
            ("x-amz-checksum-sha256", &sha),
        ],
        &[
            r#"{"key": "t"}"#,
            &format!(r#"{{"tagging": "{tagging}"}}"#),
            r#"["starts-with", "$x-amz-checksum-sha256", ""]"#,
        ],
        b"checked",
    );
    let response = post(&server, &form);
    assert_eq!(response.status, 204, "{}", response.body);
    assert_eq!(response.header("x-amz-checksum-sha256"), Some(sha.as_str()));
    let tags = s3
        .get_object_tagging()
        .bucket(B)
        .key("t")
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tag_set()[0].key(), "team");
    let wrong = BASE64.encode(Sha256::digest(b"other"));
    let form = root_form(
        &[("key", "t2"), ("x-amz-checksum-sha256", &wrong)],
        &[
            r#"{"key": "t2"}"#,
            r#"["starts-with", "$x-amz-checksum-sha256", ""]"#,
        ],
        b"checked",
    );
    assert_eq!(code(&post(&server, &form)), "BadDigest");
    assert!(s3.head_object().bucket(B).key("t2").send().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_is_streamed_to_a_blob_and_refused_while_still_arriving() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    // Several MiB, with the boundary's first bytes inside it to cross read boundaries.
    let mut file = common::pattern(6 * 1024 * 1024 + 17, 7);
    for at in (0..file.len()).step_by(100_003) {
        let end = (at + 10).min(file.len());
        file[at..end].copy_from_slice(&b"\r\n--------"[..end - at]);
    }
    let form = root_form(&[("key", "big")], &[r#"{"key": "big"}"#], &file);
    let response = post(&server, &form);
    assert_eq!(response.status, 204, "{}", response.body);
    let (body, got) = read(&s3, "big").await;
    assert_eq!(body.len(), file.len());
    assert!(body == file);
    assert_eq!(got.content_length(), i64::try_from(file.len()).ok());

    // A form announcing 1 GiB, of which only the first MiB is sent: the server refuses it by
    // its content-length-range while the rest has not been sent, so it cannot be holding
    // the whole file before writing it.
    let small = root_form(
        &[("key", "huge")],
        &[
            r#"{"key": "huge"}"#,
            r#"["content-length-range", 0, 524288]"#,
        ],
        b"",
    );
    let (head_part, tail) = small.framing();
    let total = head_part.len() + (1 << 30) + tail.len();
    let mut stream = TcpStream::connect(server.s3).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let multipart = format!("multipart/form-data; boundary={BOUNDARY}");
    stream
        .write_all(head(server.s3, &format!("/{B}"), &multipart, total).as_bytes())
        .unwrap();
    stream.write_all(&head_part).unwrap();
    stream.write_all(&vec![b'x'; 1 << 20]).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("<Code>EntityTooLarge</Code>"), "{answer}");
    assert!(s3.head_object().bucket(B).key("huge").send().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_after_the_file_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let (server, s3) = setup(dir.path()).await;
    let mut form = root_form(&[("key", "after")], &[r#"{"key": "after"}"#], b"body");
    form.after.push(("x-amz-meta-late".into(), "1".into()));
    form.after.push(("key".into(), "elsewhere".into()));
    let response = post(&server, &form);
    assert_eq!(response.status, 204, "{}", response.body);
    let (body, got) = read(&s3, "after").await;
    assert_eq!(body, b"body");
    assert!(got.metadata().is_none_or(|m| m.is_empty()));
    assert!(s3
        .head_object()
        .bucket(B)
        .key("elsewhere")
        .send()
        .await
        .is_err());
    // An empty file part is an empty object.
    let form = root_form(&[("key", "empty")], &[r#"{"key": "empty"}"#], b"");
    assert_eq!(post(&server, &form).status, 204);
    assert_eq!(read(&s3, "empty").await.0, b"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_upload_carries_the_post_condition_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _s3) = setup(dir.path()).await;
    // PutObject only by a browser form, and only with the bucket-owner-full-control ACL.
    let user = server
        .with_user(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::{B}/*",
              "Condition":{{"StringEquals":{{"s3:authType":"POST","s3:x-amz-acl":"bucket-owner-full-control"}}}}}}]}}"#
        ))
        .await;
    let form = |acl: &str| {
        let mut form = Form::new(&[("key", "k"), ("acl", acl)], b"x");
        form.fields.extend(signed_v4(
            &user.access_key,
            &user.secret,
            &[r#"{"key": "k"}"#, r#"["starts-with", "$acl", ""]"#],
            3600,
        ));
        form
    };
    let response = post(&server, &form("bucket-owner-full-control"));
    assert_eq!(response.status, 204, "{}", response.body);
    assert_eq!(code(&post(&server, &form("private"))), "AccessDenied");
    let put = user
        .s3
        .put_object()
        .bucket(B)
        .key("k")
        .acl(aws_sdk_s3::types::ObjectCannedAcl::BucketOwnerFullControl)
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"x"))
        .send()
        .await;
    assert_eq!(common::error_code_status(put).0, "AccessDenied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_c_fields_encrypt_under_the_customers_key() {
    let raw = [42u8; 32];
    let (key, md5) = (BASE64.encode(raw), BASE64.encode(md5::Md5::digest(raw)));
    let fields = [
        ("key", "secret-form"),
        ("x-amz-server-side-encryption-customer-algorithm", "AES256"),
        ("x-amz-server-side-encryption-customer-key", key.as_str()),
        (
            "x-amz-server-side-encryption-customer-key-MD5",
            md5.as_str(),
        ),
    ];
    let conditions = [
        r#"{"key": "secret-form"}"#.to_owned(),
        r#"{"x-amz-server-side-encryption-customer-algorithm": "AES256"}"#.to_owned(),
        format!(r#"{{"x-amz-server-side-encryption-customer-key": "{key}"}}"#),
        format!(r#"{{"x-amz-server-side-encryption-customer-key-MD5": "{md5}"}}"#),
    ];
    let conditions: Vec<&str> = conditions.iter().map(String::as_str).collect();
    // Over plain HTTP, refused as S3 refuses it.
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = setup(dir.path()).await;
    let response = post(&server, &root_form(&fields, &conditions, b"form secret"));
    assert_eq!(
        (response.status, code(&response).as_str()),
        (400, "InvalidRequest")
    );
    drop(server);
    // Allowed: stored under the key, read back with it only.
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(
        dir.path(),
        &[("LABSTORE_BACKEND_S3_SSE_C_ALLOW_PLAIN_HTTP", "true")],
    )
    .unwrap();
    let s3 = server.root_s3();
    s3.create_bucket().bucket(B).send().await.unwrap();
    let response = post(&server, &root_form(&fields, &conditions, b"form secret"));
    assert_eq!(response.status, 204, "{}", response.body);
    assert!(response
        .headers
        .iter()
        .any(|(n, v)| n == "x-amz-server-side-encryption-customer-algorithm" && v == "AES256"));
    let got = s3
        .get_object()
        .bucket(B)
        .key("secret-form")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .send()
        .await
        .unwrap();
    assert_eq!(got.body.collect().await.unwrap().to_vec(), b"form secret");
    let bare = s3.get_object().bucket(B).key("secret-form").send().await;
    assert_eq!(common::error_code_status(bare).1, 400);
}
