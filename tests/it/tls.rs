//! HTTPS on the listeners: the AWS SDKs over TLS trusting a test CA, `aws:SecureTransport`,
//! certificate reload (new handshakes see the new certificate, open connections keep
//! working, a failed reload keeps the old one), plain HTTP on an HTTPS port, stalled
//! handshakes, startup errors, and the self-signed development mode.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

use crate::common::{Server, TestServer, ROOT_SECRET};

/// A CA and a certificate it signed for 127.0.0.1 and localhost, as PEM files in `dir`
/// (`<name>.crt` holding the leaf then the CA, `<name>.key`). Returns the CA's PEM.
pub(crate) fn issue(dir: &Path, name: &str) -> String {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, format!("LabStore test CA {name}"));
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let ca = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    // Written through a rename, as an operator's deployment tool would replace them.
    replace(
        &dir.join(format!("{name}.crt")),
        &(leaf.pem() + &ca_cert.pem()),
    );
    replace(&dir.join(format!("{name}.key")), &leaf_key.serialize_pem());
    ca_cert.pem()
}

fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(tmp, path).unwrap();
}

fn path(dir: &Path, file: &str) -> String {
    dir.join(file).display().to_string()
}

/// The environment serving S3 and IAM with `<name>.crt` / `<name>.key` from `dir`.
pub(crate) fn tls_env(dir: &Path, name: &str) -> Vec<(&'static str, String)> {
    let (cert, key) = (
        path(dir, &format!("{name}.crt")),
        path(dir, &format!("{name}.key")),
    );
    vec![
        ("LABSTORE_BACKEND_S3_SERVER_TLS_CERT_FILE", cert.clone()),
        ("LABSTORE_BACKEND_S3_SERVER_TLS_KEY_FILE", key.clone()),
        ("LABSTORE_BACKEND_IAM_SERVER_TLS_CERT_FILE", cert),
        ("LABSTORE_BACKEND_IAM_SERVER_TLS_KEY_FILE", key),
    ]
}

pub(crate) fn start(dir: &Path, env: &[(&'static str, String)]) -> Result<TestServer, String> {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    TestServer::start_with(dir, &env)
}

/// The SDKs' HTTPS client trusting only `ca_pem`.
fn https_client(ca_pem: &str) -> aws_sdk_s3::config::SharedHttpClient {
    let trust = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(ca_pem.as_bytes().to_vec());
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::rustls(CryptoMode::AwsLc))
        .tls_context(
            TlsContext::builder()
                .with_trust_store(trust)
                .build()
                .unwrap(),
        )
        .build_https()
}

pub(crate) fn s3_https(
    addr: SocketAddr,
    ca_pem: &str,
    key: &str,
    secret: &str,
) -> aws_sdk_s3::Client {
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("https://{addr}"))
        .force_path_style(true)
        .http_client(https_client(ca_pem))
        .credentials_provider(Credentials::new(key, secret, None, None, "tls-tests"))
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

fn iam_https(addr: SocketAddr, ca_pem: &str) -> aws_sdk_iam::Client {
    use aws_sdk_iam::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("https://{addr}"))
        .http_client(https_client(ca_pem))
        .credentials_provider(Credentials::new("admin", ROOT_SECRET, None, None, "tls"))
        .build();
    aws_sdk_iam::Client::from_conf(config)
}

/// A blocking TLS connection trusting only `ca_pem`.
type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

fn connect(addr: SocketAddr, ca_pem: &str) -> std::io::Result<Tls> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let tcp = TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    // Completes the handshake (or fails it) now.
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(tls)
}

/// Sends an unsigned `GET /` on a kept-alive connection and returns the status line.
fn status_line(tls: &mut Tls) -> String {
    tls.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    // Reads the head and the whole body (Content-Length) so the next request starts clean.
    loop {
        let n = tls.read(&mut buf).unwrap();
        assert!(n > 0, "connection closed");
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if seen.len() >= end + 4 + length {
                return text.lines().next().unwrap().to_owned();
            }
        }
    }
}

#[test]
fn the_sdks_work_over_https() {
    let dir = tempfile::tempdir().unwrap();
    let ca = issue(dir.path(), "server");
    let server = start(dir.path(), &tls_env(dir.path(), "server")).unwrap();
    let s3 = s3_https(server.s3, &ca, "admin", ROOT_SECRET);
    let iam = iam_https(server.iam, &ca);
    server.block_on(async {
        s3.create_bucket().bucket("secure").send().await.unwrap();
        s3.put_object()
            .bucket("secure")
            .key("k")
            .body(b"over tls".to_vec().into())
            .send()
            .await
            .unwrap();
        let got = s3
            .get_object()
            .bucket("secure")
            .key("k")
            .send()
            .await
            .unwrap();
        assert_eq!(got.body.collect().await.unwrap().to_vec(), b"over tls");
        let listed = s3.list_objects_v2().bucket("secure").send().await.unwrap();
        assert_eq!(listed.contents().len(), 1);
        iam.create_user()
            .user_name("tls-user")
            .send()
            .await
            .unwrap();
        let users = iam.list_users().send().await.unwrap();
        assert_eq!(users.users()[0].user_name(), "tls-user");
    });
    // Plain HTTP stays plain on the admin listener, which has no certificate.
    assert_eq!(crate::common::get(server.admin, "/health").status, 200);
}

#[test]
fn secure_transport_is_true_over_tls_only() {
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*",
        "Action":"s3:*","Resource":["arn:aws:s3:::sec-bucket","arn:aws:s3:::sec-bucket/*"],
        "Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;
    let allow_all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    // Over HTTPS: the deny does not apply.
    let dir = tempfile::tempdir().unwrap();
    let ca = issue(dir.path(), "server");
    let server = start(dir.path(), &tls_env(dir.path(), "server")).unwrap();
    let root = s3_https(server.s3, &ca, "admin", ROOT_SECRET);
    server.block_on(async {
        root.create_bucket()
            .bucket("sec-bucket")
            .send()
            .await
            .unwrap();
        root.put_bucket_policy()
            .bucket("sec-bucket")
            .policy(policy)
            .send()
            .await
            .unwrap();
    });
    // The user's keys come from IAM, which is HTTPS too here.
    let iam = iam_https(server.iam, &ca);
    let (key, secret) = server.block_on(async {
        let keys = crate::common::user_with_key(&iam, "u").await;
        iam.put_user_policy()
            .user_name("u")
            .policy_name("all")
            .policy_document(allow_all)
            .send()
            .await
            .unwrap();
        keys
    });
    let user = s3_https(server.s3, &ca, &key, &secret);
    server.block_on(async {
        user.put_object()
            .bucket("sec-bucket")
            .key("k")
            .body(b"x".to_vec().into())
            .send()
            .await
            .expect("PutObject over TLS is not denied");
    });
    drop(server);
    // Over plain HTTP the same policy denies the same user.
    let plain = TestServer::start();
    let root = plain.root_s3();
    let user = plain.block_on(async {
        root.create_bucket()
            .bucket("sec-bucket")
            .send()
            .await
            .unwrap();
        root.put_bucket_policy()
            .bucket("sec-bucket")
            .policy(policy)
            .send()
            .await
            .unwrap();
        plain.with_user(allow_all).await
    });
    let denied = plain.block_on(async {
        user.s3
            .put_object()
            .bucket("sec-bucket")
            .key("k")
            .body(b"x".to_vec().into())
            .send()
            .await
    });
    assert_eq!(crate::common::error_code(denied), "AccessDenied");
}

#[test]
fn a_reload_serves_new_handshakes_the_new_certificate_and_keeps_open_connections() {
    let dir = tempfile::tempdir().unwrap();
    let old_ca = issue(dir.path(), "server");
    let server = start(dir.path(), &tls_env(dir.path(), "server")).unwrap();
    let mut open = connect(server.s3, &old_ca).unwrap();
    assert!(status_line(&mut open).contains("403"));

    let new_ca = issue(dir.path(), "server");
    assert_eq!(server.state().tls.reload(), 0);
    // New handshakes see the new certificate: the old CA no longer verifies it.
    let refused = connect(server.s3, &old_ca).expect_err("old CA refused");
    assert!(refused.to_string().contains("certificate"), "{refused}");
    let mut fresh = connect(server.s3, &new_ca).unwrap();
    assert!(status_line(&mut fresh).contains("403"));
    // The connection opened before the reload keeps working.
    assert!(status_line(&mut open).contains("403"));
    let s3 = s3_https(server.s3, &new_ca, "admin", ROOT_SECRET);
    server.block_on(async { s3.list_buckets().send().await.unwrap() });

    // A failed reload (a key that is not PEM) keeps the certificate in use.
    std::fs::write(dir.path().join("server.key"), "garbage").unwrap();
    assert_eq!(server.state().tls.reload(), 2, "the S3 and IAM listeners");
    connect(server.s3, &new_ca).expect("the certificate in use is kept");
    connect(server.iam, &new_ca).expect("the certificate in use is kept");
}

#[test]
fn plain_http_on_an_https_port_is_answered_400_and_closed() {
    let dir = tempfile::tempdir().unwrap();
    let ca = issue(dir.path(), "server");
    let server = start(dir.path(), &tls_env(dir.path(), "server")).unwrap();
    let mut plain = TcpStream::connect(server.s3).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    plain.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("HTTPS"), "{answer}");
    // The listener keeps serving TLS.
    connect(server.s3, &ca).unwrap();
}

#[test]
fn a_stalled_handshake_times_out_and_gives_its_slot_back() {
    let dir = tempfile::tempdir().unwrap();
    let ca = issue(dir.path(), "server");
    let mut env = tls_env(dir.path(), "server");
    env.push(("LABSTORE_BACKEND_HEADER_READ_TIMEOUT_MS", "300".into()));
    env.push(("LABSTORE_BACKEND_S3_SERVER_MAX_CONNECTIONS", "1".into()));
    env.push((
        "LABSTORE_BACKEND_S3_SERVER_MAX_CONNECTIONS_PER_CLIENT",
        "1".into(),
    ));
    let server = start(dir.path(), &env).unwrap();
    // Connects and says nothing: holds the only slot until the time-out.
    let mut stalled = TcpStream::connect(server.s3).unwrap();
    stalled
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let begun = Instant::now();
    let mut buf = [0u8; 16];
    assert_eq!(stalled.read(&mut buf).unwrap(), 0, "closed by the server");
    assert!(begun.elapsed() < Duration::from_secs(5));
    // A half-sent ClientHello is the same.
    let mut half = TcpStream::connect(server.s3).unwrap();
    half.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    half.write_all(&[0x16, 0x03, 0x01, 0x01, 0x00]).unwrap();
    assert!(matches!(half.read(&mut buf), Ok(0) | Err(_)), "closed");
    drop((stalled, half));
    // The slot is free again.
    let mut tls = connect(server.s3, &ca).unwrap();
    assert!(status_line(&mut tls).contains("403"));
}

#[test]
fn unusable_certificates_stop_startup_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    issue(dir.path(), "a");
    issue(dir.path(), "b");
    let mut env = tls_env(dir.path(), "a");
    env[0].1 = path(dir.path(), "missing.crt");
    let e = start(dir.path(), &env).err().unwrap();
    assert!(e.contains("missing.crt"), "{e}");

    let mut env = tls_env(dir.path(), "a");
    env[1].1 = path(dir.path(), "b.key");
    let e = start(dir.path(), &env).err().unwrap();
    assert!(e.contains("b.key") && e.contains("does not match"), "{e}");

    let env = [(
        "LABSTORE_BACKEND_S3_SERVER_TLS_CERT_FILE",
        path(dir.path(), "a.crt"),
    )];
    let e = start(dir.path(), &env).err().unwrap();
    assert!(e.contains("backend.s3.server.tls.key_file"), "{e}");
}

fn self_signed_cert(dir: &Path) -> PathBuf {
    dir.join("keys").join(labstore::tls::SELF_SIGNED_CERT)
}

#[test]
fn development_mode_serves_every_listener_with_one_reused_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("LABSTORE_BACKEND_TLS_SELF_SIGNED", "true".to_owned())];
    let server = start(dir.path(), &env).unwrap();
    let cert = std::fs::read_to_string(self_signed_cert(dir.path())).unwrap();
    let s3 = s3_https(server.s3, &cert, "admin", ROOT_SECRET);
    let iam = iam_https(server.iam, &cert);
    server.block_on(async {
        s3.list_buckets().send().await.unwrap();
        iam.list_users().send().await.unwrap();
    });
    let mut admin = connect(server.admin, &cert).unwrap();
    admin
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut head = [0u8; 12];
    admin.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    drop(server);
    // A later start reuses it.
    let server = start(dir.path(), &env).unwrap();
    assert_eq!(
        std::fs::read_to_string(self_signed_cert(dir.path())).unwrap(),
        cert
    );
    connect(server.s3, &cert).unwrap();
    // A listener with its own certificate keeps it.
    drop(server);
    let ca = issue(dir.path(), "own");
    let mut env = env.to_vec();
    env.push((
        "LABSTORE_BACKEND_S3_SERVER_TLS_CERT_FILE",
        path(dir.path(), "own.crt"),
    ));
    env.push((
        "LABSTORE_BACKEND_S3_SERVER_TLS_KEY_FILE",
        path(dir.path(), "own.key"),
    ));
    let server = start(dir.path(), &env).unwrap();
    connect(server.s3, &ca).unwrap();
    connect(server.iam, &cert).unwrap();
}

#[test]
fn the_binary_prints_the_development_certificate_and_reloads_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let server =
        Server::start_with(dir.path(), &[("LABSTORE_BACKEND_TLS_SELF_SIGNED", "true")]).unwrap();
    let cert = self_signed_cert(dir.path()).canonicalize().unwrap();
    // Standard output is collected by a reader thread: give it a moment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !server.stdout().contains("--ca-bundle") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let printed = server.stdout();
    let logged = server.logs();
    assert!(printed.contains("--ca-bundle"), "{printed}");
    assert!(printed.contains(&cert.display().to_string()), "{printed}");
    assert!(
        logged.iter().any(|l| l["cert_file"]
            .as_str()
            .is_some_and(|c| c.ends_with(labstore::tls::SELF_SIGNED_CERT))),
        "{logged:?}"
    );
    server.signal(libc::SIGHUP);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !crate::common::messages(&server.logs())
        .iter()
        .any(|m| m == "TLS certificate reloaded")
    {
        assert!(Instant::now() < deadline, "no reload logged after SIGHUP");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Still serving, and SIGHUP did not end the process.
    let pem = std::fs::read_to_string(&cert).unwrap();
    connect(server.s3, &pem).unwrap();
    let (out, _) = server.stop();
    assert!(out.contains("--ca-bundle"));
}

/// `labstore bench` against an https endpoint, with `extra` arguments.
fn bench_https(server: &TestServer, extra: &[&str]) -> std::process::Output {
    let endpoint = format!("https://{}", server.s3);
    let mut command = std::process::Command::new(crate::common::BIN);
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ENDPOINT_URL",
    ] {
        command.env_remove(name);
    }
    command
        .args(["bench", "get", "--endpoint", &endpoint])
        .args(["--access-key", "admin", "--secret-key", ROOT_SECRET])
        .args(["--concurrency", "2", "--size", "4KiB", "--objects", "4"])
        .args(["--ops", "20"])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn bench_measures_an_https_endpoint_trusting_its_ca_file() {
    let dir = tempfile::tempdir().unwrap();
    let ca = issue(dir.path(), "server");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca).unwrap();
    let server = start(dir.path(), &tls_env(dir.path(), "server")).unwrap();
    let out = bench_https(&server, &["--ca-file", ca_file.to_str().unwrap()]);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    // Without it, the system's roots do not know the test CA: every request fails.
    let out = bench_https(&server, &[]);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("certificate"), "{text}");
}

#[test]
fn website_redirects_without_a_protocol_keep_https() {
    let dir = tempfile::tempdir().unwrap();
    let ca = issue(dir.path(), "server");
    let mut env = tls_env(dir.path(), "server");
    env.push((
        "LABSTORE_BACKEND_S3_WEBSITE_BASE_DOMAIN",
        "website.lab".into(),
    ));
    let server = start(dir.path(), &env).unwrap();
    let s3 = s3_https(server.s3, &ca, "admin", ROOT_SECRET);
    server.block_on(async {
        use aws_sdk_s3::types::{RedirectAllRequestsTo, WebsiteConfiguration};
        s3.create_bucket().bucket("site").send().await.unwrap();
        let all = RedirectAllRequestsTo::builder()
            .host_name("example.com")
            .build()
            .unwrap();
        s3.put_bucket_website()
            .bucket("site")
            .website_configuration(
                WebsiteConfiguration::builder()
                    .redirect_all_requests_to(all)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    });
    let mut tls = connect(server.s3, &ca).unwrap();
    tls.write_all(b"GET /page HTTP/1.1\r\nHost: site.website.lab\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    let _ = tls.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 301"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("location: https://example.com/page"),
        "{answer}"
    );
}

/// The console over HTTPS: its session cookie is `Secure`, so a browser never sends it over
/// plain HTTP.
#[test]
fn the_consoles_session_cookie_is_secure_over_https() {
    let dir = tempfile::tempdir().unwrap();
    let ca = issue(dir.path(), "admin");
    let cert = path(dir.path(), "admin.crt");
    let key = path(dir.path(), "admin.key");
    let server = start(
        dir.path(),
        &[
            ("LABSTORE_BACKEND_ADMIN_SERVER_TLS_CERT_FILE", cert),
            ("LABSTORE_BACKEND_ADMIN_SERVER_TLS_KEY_FILE", key),
        ],
    )
    .unwrap();
    let mut tls = connect(server.admin, &ca).unwrap();
    let body = format!("access_key=admin&secret_key={ROOT_SECRET}");
    let request = format!(
        "POST /signin HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    // The server closes after the answer; a TLS close without close_notify is fine here.
    let _ = tls.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 303"), "{answer}");
    let cookie = answer
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie: {answer}"));
    for flag in ["HttpOnly", "SameSite=Strict", "Secure"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
}
