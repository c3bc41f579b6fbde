//! The audit trail (`docs/operations.md`, "Audit log"): one JSON line per S3, IAM and STS
//! request on an audited listener, with the principal and key id (never a secret), the
//! target, the decision and what made it, status, error code, bytes and duration; the file,
//! standard output and webhook sinks; off by default.

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use common::{error_code_status, TestServer, ROOT_SECRET};

/// A server auditing both listeners into `dir/audit/audit.log`.
fn start(dir: &Path, extra: &[(&str, &str)]) -> TestServer {
    let path = dir.join("audit/audit.log").display().to_string();
    let mut env = vec![
        ("LABSTORE_BACKEND_S3_AUDIT", "true"),
        ("LABSTORE_BACKEND_IAM_AUDIT", "true"),
        ("LABSTORE_BACKEND_AUDIT_FILE_PATH", path.as_str()),
    ];
    env.extend_from_slice(extra);
    TestServer::start_with(dir, &env).unwrap_or_else(|e| panic!("the server did not start: {e}"))
}

/// The records written so far, waiting (a little) until `want` of them match `filter`.
fn records(
    dir: &Path,
    want: usize,
    filter: impl Fn(&serde_json::Value) -> bool,
) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(dir.join("audit/audit.log")).unwrap_or_default();
        let found: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .filter(|v| filter(v))
            .collect();
        if found.len() >= want || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn one(dir: &Path, filter: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let mut found = records(dir, 1, filter);
    assert_eq!(found.len(), 1, "{found:#?}");
    found.remove(0)
}

#[test]
fn every_request_has_one_record_saying_who_what_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let s3 = server.root_s3();
    let body = vec![7u8; 1000];
    let user = server.block_on(async {
        s3.create_bucket().bucket("audited").send().await.unwrap();
        s3.put_object()
            .bucket("audited")
            .key("dir/k")
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap();
        let user = server
            .with_user(
                r#"{"Version": "2012-10-17", "Statement": [
                    {"Sid": "Reads", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::audited/*"},
                    {"Sid": "NoSecrets", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::audited/secret"}]}"#,
            )
            .await;
        let got = user.s3.get_object().bucket("audited").key("dir/k").send().await.unwrap();
        assert_eq!(got.body.collect().await.unwrap().to_vec(), body);
        let refused = user.s3.put_object().bucket("audited").key("x").body(ByteStream::from_static(b"x")).send().await;
        assert_eq!(error_code_status(refused).1, 403);
        let denied = user.s3.get_object().bucket("audited").key("secret").send().await;
        assert_eq!(error_code_status(denied).1, 403);
        user
    });
    let root_arn = "arn:aws:iam::000000000000:root";
    let put = one(dir.path(), |r| {
        r["operation"] == "PutObject" && r["key"] == "dir/k"
    });
    assert_eq!(put["listener"], "s3");
    assert_eq!(put["principal"], root_arn);
    assert_eq!(put["access_key_id"], "admin");
    assert_eq!(put["bucket"], "audited");
    assert_eq!(put["decision"], "allow");
    assert_eq!(put["decided_by"], "root");
    assert_eq!(put["status"], 200);
    assert_eq!(put["bytes_in"], 1000);
    assert_eq!(put["source_ip"], "127.0.0.1");
    assert!(put["request_id"].as_str().unwrap().len() >= 16);
    assert!(put["duration_ms"].as_f64().unwrap() >= 0.0);
    let get = one(dir.path(), |r| {
        r["operation"] == "GetObject" && r["key"] == "dir/k"
    });
    assert_eq!(
        get["principal"],
        format!("arn:aws:iam::000000000000:user/{}", user.name)
    );
    assert_eq!(get["access_key_id"], user.access_key.as_str());
    assert_eq!(get["action"], "s3:GetObject");
    assert_eq!(get["resource"], "arn:aws:s3:::audited/dir/k");
    assert_eq!(
        get["decided_by"],
        r#"user inline policy fixture statement 0 (Sid "Reads")"#
    );
    assert_eq!(get["bytes_out"], 1000);
    let refused = one(dir.path(), |r| {
        r["operation"] == "PutObject" && r["key"] == "x"
    });
    assert_eq!(refused["decision"], "deny");
    assert_eq!(refused["decided_by"], "no statement allows");
    assert_eq!(refused["status"], 403);
    assert_eq!(refused["error_code"], "AccessDenied");
    let denied = one(dir.path(), |r| r["key"] == "secret");
    assert_eq!(denied["decision"], "deny");
    assert_eq!(
        denied["decided_by"],
        r#"user inline policy fixture statement 1 (Sid "NoSecrets")"#
    );
    // IAM: the target is the resource the action was authorized on.
    let create = one(dir.path(), |r| r["operation"] == "CreateUser");
    assert_eq!(create["listener"], "iam");
    assert_eq!(
        create["resource"],
        format!("arn:aws:iam::000000000000:user/{}", user.name)
    );
    assert_eq!(create["decided_by"], "root");
    // No secret anywhere in the trail: not the root's, not the user's.
    let text = std::fs::read_to_string(dir.path().join("audit/audit.log")).unwrap();
    assert!(!text.contains(ROOT_SECRET));
    assert!(!text.contains(&user.secret));
    assert!(!text.contains("Signature"));
}

#[test]
fn refusals_before_authorization_and_anonymous_requests_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let s3 = server.root_s3();
    server.block_on(async {
        s3.create_bucket().bucket("open").send().await.unwrap();
    });
    // Anonymous: no signature.
    let anonymous = common::get(server.s3, "/open/k");
    assert_eq!(anonymous.status, 403);
    // A wrong secret: refused by authentication, before any decision.
    let wrong = common::s3_client_as(&server, "admin", "not-the-secret-at-all");
    server.block_on(async {
        let refused = wrong.list_buckets().send().await;
        assert_eq!(error_code_status(refused).0, "SignatureDoesNotMatch");
    });
    let anon = one(dir.path(), |r| {
        r["operation"] == "GetObject" && r["bucket"] == "open"
    });
    assert_eq!(anon["principal"], "anonymous");
    assert_eq!(anon["decision"], "deny");
    assert_eq!(anon["error_code"], "AccessDenied");
    let signature = one(dir.path(), |r| r["error_code"] == "SignatureDoesNotMatch");
    assert!(signature["principal"].is_null());
    assert!(signature["decision"].is_null());
    assert_eq!(signature["status"], 403);
    assert!(!std::fs::read_to_string(dir.path().join("audit/audit.log"))
        .unwrap()
        .contains("not-the-secret-at-all"));
}

#[test]
fn sts_requests_name_the_role_and_its_trust_policy() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let iam = server.root_iam();
    let role_arn = server.block_on(async {
        iam.create_role()
            .role_name("audited-role")
            .assume_role_policy_document(
                r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "sts:AssumeRole"}]}"#,
            )
            .send()
            .await
            .unwrap()
            .role()
            .unwrap()
            .arn()
            .to_owned()
    });
    let sts = crate::sts::sts_client(server.iam, "admin", ROOT_SECRET, None);
    let session = server.block_on(async {
        sts.assume_role()
            .role_arn(&role_arn)
            .role_session_name("audit-session")
            .send()
            .await
            .unwrap()
            .credentials()
            .unwrap()
            .clone()
    });
    let as_role = crate::sts::sts_client(
        server.iam,
        session.access_key_id(),
        session.secret_access_key(),
        Some(session.session_token()),
    );
    server.block_on(async { as_role.get_caller_identity().send().await.unwrap() });
    let assume = one(dir.path(), |r| r["operation"] == "AssumeRole");
    assert_eq!(assume["resource"], role_arn.as_str());
    assert_eq!(assume["decision"], "allow");
    assert_eq!(assume["decided_by"], "the role's trust policy");
    let who = one(dir.path(), |r| r["operation"] == "GetCallerIdentity");
    assert_eq!(
        who["principal"],
        "arn:aws:sts::000000000000:assumed-role/audited-role/audit-session"
    );
    assert_eq!(who["access_key_id"], session.access_key_id());
    let text = std::fs::read_to_string(dir.path().join("audit/audit.log")).unwrap();
    assert!(!text.contains(session.secret_access_key()));
    assert!(!text.contains(session.session_token()));
}

#[test]
fn the_trail_is_off_by_default_and_per_listener() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit/audit.log").display().to_string();
    let server = TestServer::start_with(
        dir.path(),
        &[
            ("LABSTORE_BACKEND_IAM_AUDIT", "true"),
            ("LABSTORE_BACKEND_AUDIT_FILE_PATH", path.as_str()),
        ],
    )
    .unwrap();
    let s3 = server.root_s3();
    let iam = server.root_iam();
    server.block_on(async {
        s3.create_bucket().bucket("quiet").send().await.unwrap();
        iam.create_user().user_name("loud").send().await.unwrap();
    });
    records(dir.path(), 1, |r| r["operation"] == "CreateUser");
    let all = records(dir.path(), 0, |_| true);
    assert!(all.iter().all(|r| r["listener"] == "iam"), "{all:#?}");
    drop(server);
    // Nothing audited: no file at all.
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), &[]).unwrap();
    let s3 = server.root_s3();
    server.block_on(async { s3.create_bucket().bucket("quiet").send().await.unwrap() });
    assert!(!dir.path().join("audit").exists());
    assert!(!common::get(server.admin, "/metrics")
        .body
        .contains("labstore_audit_"));
}

#[test]
fn the_stdout_sink_writes_json_lines_beside_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let server = common::Server::start_with(
        dir.path(),
        &[
            ("LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY", ROOT_SECRET),
            ("LABSTORE_BACKEND_S3_AUDIT", "true"),
            ("LABSTORE_BACKEND_AUDIT_SINK", "stdout"),
        ],
    )
    .unwrap();
    let s3 = common::s3_client(&server);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        s3.create_bucket()
            .bucket("stdout-bucket")
            .send()
            .await
            .unwrap();
    });
    let (stdout, _) = server.stop();
    let record = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|r| r["operation"] == "CreateBucket")
        .unwrap_or_else(|| panic!("no record on standard output: {stdout}"));
    assert_eq!(record["bucket"], "stdout-bucket");
    assert_eq!(record["status"], 200);
}

/// A webhook endpoint: collects the bodies POSTed to it, answering `status`.
fn webhook(
    status: u16,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::Mutex<String>>,
) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let got = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = std::sync::Arc::clone(&got);
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let sink = std::sync::Arc::clone(&sink);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    loop {
                        let mut header = String::new();
                        reader.read_line(&mut header).unwrap();
                        if header == "\r\n" {
                            break;
                        }
                        if let Some((name, value)) = header.split_once(':') {
                            if name.eq_ignore_ascii_case("content-length") {
                                length = value.trim().parse().unwrap();
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    sink.lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&body));
                    let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n");
                    stream.write_all(answer.as_bytes()).unwrap();
                }
            });
        }
    });
    (addr, got)
}

#[test]
fn the_webhook_sink_posts_batches_and_counts_what_it_could_not_deliver() {
    let (addr, got) = webhook(200);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}/audit");
    let server = start(
        dir.path(),
        &[
            ("LABSTORE_BACKEND_AUDIT_SINK", "webhook"),
            ("LABSTORE_BACKEND_AUDIT_WEBHOOK_URL", &url),
        ],
    );
    let s3 = server.root_s3();
    server.block_on(async { s3.create_bucket().bucket("hooked").send().await.unwrap() });
    let deadline = Instant::now() + Duration::from_secs(10);
    while !got.lock().unwrap().contains("\"CreateBucket\"") {
        assert!(
            Instant::now() < deadline,
            "nothing posted: {}",
            got.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let posted = got.lock().unwrap().clone();
    assert!(posted
        .lines()
        .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    drop(server);
    // An endpoint that refuses: requests are served all the same, the records are counted
    // as dropped.
    let (addr, _) = webhook(500);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}/audit");
    let server = start(
        dir.path(),
        &[
            ("LABSTORE_BACKEND_AUDIT_SINK", "webhook"),
            ("LABSTORE_BACKEND_AUDIT_WEBHOOK_URL", &url),
        ],
    );
    let s3 = server.root_s3();
    server.block_on(async {
        for i in 0..5 {
            s3.create_bucket()
                .bucket(format!("refused-{i}"))
                .send()
                .await
                .unwrap();
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = common::get(server.admin, "/metrics").body;
        let dropped = metrics
            .lines()
            .find_map(|l| l.strip_prefix("labstore_audit_dropped_total "))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
        if dropped >= 5 {
            break;
        }
        assert!(Instant::now() < deadline, "{metrics}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The webhook sink needs a URL.
    let dir = tempfile::tempdir().unwrap();
    let refused = TestServer::start_with(
        dir.path(),
        &[
            ("LABSTORE_BACKEND_S3_AUDIT", "true"),
            ("LABSTORE_BACKEND_AUDIT_SINK", "webhook"),
        ],
    )
    .err()
    .unwrap();
    assert!(refused.contains("backend.audit.webhook.url"), "{refused}");
}

/// What the console does is an S3 or IAM request like any other: audited when that API's
/// listener is, its record saying `admin` (the console's listener) and who was signed in.
#[test]
fn the_consoles_requests_are_audited_as_their_apis() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let mut browser = crate::console::Browser::new(&server);
    assert_eq!(browser.sign_in("admin", ROOT_SECRET).status, 303);
    let csrf = browser.csrf();
    browser.post(
        "/buckets",
        &[("_csrf", &csrf), ("bucket", "from-the-console")],
    );
    let made = one(dir.path(), |r| {
        r["operation"] == "CreateBucket" && r["bucket"] == "from-the-console"
    });
    assert_eq!(made["listener"], "admin");
    assert_eq!(made["principal"], "arn:aws:iam::000000000000:root");
    assert_eq!(made["decision"], "allow");
    assert_eq!(made["status"], 200);
    // An IAM page's reads too.
    browser.get("/iam/users");
    let listed = one(dir.path(), |r| r["operation"] == "ListUsers");
    assert_eq!(listed["listener"], "admin");
}
