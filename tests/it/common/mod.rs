//! Test harness. `TestServer` (in `in_process.rs`) runs the server in this process; `Server`
//! runs the real `labstore` binary in a temp dir on free ports, reads its JSON logs to learn
//! the bound addresses and waits for `/ready`, for the tests whose subject is the process
//! (signals, exit status, standard output, log lines). Both are reached the same way: plain
//! HTTP/1.1 (`request`), signed raw requests (`signing`), the AWS SDKs (`s3_client`, …).
#![allow(dead_code)]

pub mod in_process;
pub mod oidc;
pub mod postgres;
pub mod signing;

pub use in_process::TestServer;
use labstore::state::Listener;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_labstore");
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Every listener on 127.0.0.1, port 0: what both harnesses start with.
pub const LOOPBACK_PORT_0: [(&str, &str); 6] = [
    ("LABSTORE_BACKEND_ADMIN_SERVER_HOST", "127.0.0.1"),
    ("LABSTORE_BACKEND_IAM_SERVER_HOST", "127.0.0.1"),
    ("LABSTORE_BACKEND_S3_SERVER_HOST", "127.0.0.1"),
    ("LABSTORE_BACKEND_ADMIN_SERVER_PORT", "0"),
    ("LABSTORE_BACKEND_IAM_SERVER_PORT", "0"),
    ("LABSTORE_BACKEND_S3_SERVER_PORT", "0"),
];

/// Where a server listens: the spawned `Server` and the in-process `TestServer` alike.
pub trait Endpoints {
    fn addr(&self, listener: Listener) -> SocketAddr;
}

/// A `labstore` command running in `dir`, with logs as JSON and every listener on 127.0.0.1
/// port 0 unless `args` say otherwise.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_remove("RUST_LOG")
        .env("LABSTORE_LOG_FORMAT", "json")
        .envs(LOOPBACK_PORT_0)
        .envs(postgres::engine_for(dir))
        .args(args);
    cmd
}

pub struct Server {
    child: Child,
    pub dir: PathBuf,
    pub admin: SocketAddr,
    pub iam: SocketAddr,
    pub s3: SocketAddr,
    logs: Arc<Mutex<Vec<serde_json::Value>>>,
    stdout: Arc<Mutex<String>>,
}

/// How a start that was expected to fail ended.
#[derive(Debug)]
pub struct Refused {
    pub status: ExitStatus,
    pub stderr: String,
}

impl Server {
    /// Starts `labstore serve` in `dir` and waits until it is ready.
    pub fn start(dir: &Path) -> Server {
        Server::start_with(dir, &[]).unwrap_or_else(|r| panic!("labstore did not start: {r:?}"))
    }

    pub fn start_with(dir: &Path, env: &[(&str, &str)]) -> Result<Server, Refused> {
        let mut cmd = command(dir, &["serve"]);
        cmd.envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn labstore");
        let (lines, stdout, logs) = collect_output(&mut child);
        let mut addrs: [Option<SocketAddr>; 3] = [None; 3];
        let mut admin_https = false;
        let deadline = Instant::now() + START_TIMEOUT;
        while addrs.iter().any(Option::is_none) {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) if line["message"] == "listening" => {
                    let addr: SocketAddr = line["addr"].as_str().unwrap().parse().unwrap();
                    let slot = ["admin", "iam", "s3"]
                        .iter()
                        .position(|l| line["listener"] == *l)
                        .unwrap();
                    addrs[slot] = Some(addr);
                    admin_https |= slot == 0 && line["scheme"] == "https";
                }
                Ok(_) => {}
                Err(_) => {
                    let status =
                        wait_for_exit(&mut child, Duration::from_secs(10)).unwrap_or_else(|| {
                            let _ = child.kill();
                            child.wait().unwrap()
                        });
                    let stderr = logs
                        .lock()
                        .unwrap()
                        .iter()
                        .map(|l| l.to_string() + "\n")
                        .collect();
                    return Err(Refused { status, stderr });
                }
            }
        }
        let server = Server {
            child,
            dir: dir.to_path_buf(),
            admin: addrs[0].unwrap(),
            iam: addrs[1].unwrap(),
            s3: addrs[2].unwrap(),
            logs,
            stdout,
        };
        // Over HTTPS the probe would need the test's CA; the listeners are up already.
        if !admin_https {
            server.wait_ready();
        }
        Ok(server)
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if get(self.admin, "/ready").status == 200 {
                return;
            }
            assert!(Instant::now() < deadline, "never became ready");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).expect("a process id is a positive pid_t")
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
        assert_eq!(unsafe { libc::kill(self.pid(), sig) }, 0);
    }

    /// Sends SIGTERM and waits (at most `limit`) for the exit.
    pub fn terminate(mut self, limit: Duration) -> (ExitStatus, Duration) {
        let begun = Instant::now();
        self.signal(libc::SIGTERM);
        let status = wait_for_exit(&mut self.child, limit)
            .expect("labstore did not exit in time after SIGTERM");
        (status, begun.elapsed())
    }

    /// Stops the server and returns its standard output and log messages.
    pub fn stop(self) -> (String, Vec<serde_json::Value>) {
        let stdout = Arc::clone(&self.stdout);
        let logs = Arc::clone(&self.logs);
        let (status, _) = self.terminate(Duration::from_secs(30));
        assert!(status.success(), "exit status {status}");
        // The reader threads finish once the pipes close.
        std::thread::sleep(Duration::from_millis(50));
        let out = stdout.lock().unwrap().clone();
        let logs = logs.lock().unwrap().clone();
        (out, logs)
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    pub fn logs(&self) -> Vec<serde_json::Value> {
        self.logs.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Endpoints for Server {
    fn addr(&self, listener: Listener) -> SocketAddr {
        match listener {
            Listener::Admin => self.admin,
            Listener::Iam => self.iam,
            Listener::S3 => self.s3,
        }
    }
}

type Output = (
    Receiver<serde_json::Value>,
    Arc<Mutex<String>>,
    Arc<Mutex<Vec<serde_json::Value>>>,
);

fn collect_output(child: &mut Child) -> Output {
    let (tx, rx) = mpsc::channel();
    let logs = Arc::new(Mutex::new(Vec::new()));
    let stderr = child.stderr.take().unwrap();
    let sink = Arc::clone(&logs);
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let value = serde_json::from_str(&line).unwrap_or(serde_json::Value::String(line));
            sink.lock().unwrap().push(value.clone());
            let _ = tx.send(value);
        }
    });
    let out = Arc::new(Mutex::new(String::new()));
    let mut stdout = child.stdout.take().unwrap();
    let sink = Arc::clone(&out);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = stdout.read(&mut buf) {
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    (rx, out, logs)
}

pub fn wait_for_exit(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A response read off the wire.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub fn get(addr: SocketAddr, path: &str) -> Response {
    request(addr, "GET", path, "")
}

/// Sends one HTTP/1.1 request with `Connection: close` and reads the whole response.
pub fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    read_response(&mut stream)
}

pub fn read_response(stream: &mut TcpStream) -> Response {
    try_read_response(stream).expect("a complete response")
}

/// Reads a whole response; an error when the connection breaks or the head is incomplete.
pub fn try_read_response(stream: &mut TcpStream) -> std::io::Result<Response> {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let incomplete =
        || std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "incomplete response");
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(incomplete)?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(incomplete)?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok(Response {
        status,
        headers,
        body: body.to_owned(),
    })
}

/// The message of every log line, in order.
pub fn messages(logs: &[serde_json::Value]) -> Vec<String> {
    logs.iter()
        .filter_map(|l| l["message"].as_str().map(str::to_owned))
        .collect()
}

/// The root secret tests configure, so they can sign as the root.
pub const ROOT_SECRET: &str = "labstore-test-root-secret";

/// Starts a server in this process, in `dir`, whose root secret is `ROOT_SECRET`.
pub fn start_with_root(dir: &Path) -> TestServer {
    TestServer::start_with(dir, &[]).unwrap_or_else(|e| panic!("labstore did not start: {e}"))
}

/// `start_with_root` with the root's S3 client and `bucket` created.
pub async fn start_with_bucket(dir: &Path, bucket: &str) -> (TestServer, aws_sdk_s3::Client) {
    let server = start_with_root(dir);
    let s3 = s3_client(&server);
    s3.create_bucket().bucket(bucket).send().await.unwrap();
    (server, s3)
}

/// The blob files of a server started in `dir` (`data/objects/<xx>/<id>`), temporary files
/// aside.
pub fn blob_files(dir: &Path) -> usize {
    let Ok(shards) = std::fs::read_dir(dir.join("data/objects")) else {
        return 0;
    };
    shards
        .flatten()
        .filter(|shard| shard.file_name() != "tmp" && shard.path().is_dir())
        .map(|shard| std::fs::read_dir(shard.path()).unwrap().count())
        .sum()
}

/// Deterministic bytes that differ from offset to offset (and from seed to seed).
pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[0]
        })
        .collect()
}

/// Starts the real binary in `dir`, with the root secret `ROOT_SECRET`: for tests that read
/// its logs or standard output, signal it or kill it.
pub fn spawn_with_root(dir: &Path) -> Server {
    Server::start_with(
        dir,
        &[("LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY", ROOT_SECRET)],
    )
    .unwrap_or_else(|r| panic!("labstore did not start: {r:?}"))
}

/// An `aws-sdk-iam` client with default settings, signing as `access_key`/`secret`.
pub fn iam_client(endpoint: SocketAddr, access_key: &str, secret: &str) -> aws_sdk_iam::Client {
    use aws_sdk_iam::config::{BehaviorVersion, Credentials, Region};
    let credentials = Credentials::new(access_key, secret, None, None, "labstore-tests");
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("http://{endpoint}"))
        .credentials_provider(credentials)
        .build();
    aws_sdk_iam::Client::from_conf(config)
}

/// An IAM client signing as the root.
pub fn root_iam(server: &impl Endpoints) -> aws_sdk_iam::Client {
    iam_client(server.addr(Listener::Iam), "admin", ROOT_SECRET)
}

/// An `aws-sdk-s3` client with default settings (so it sends CRC32 checksums, in aws-chunked
/// trailers where it streams), path-style, signing as the root.
pub fn s3_client(server: &impl Endpoints) -> aws_sdk_s3::Client {
    s3_client_as(server, "admin", ROOT_SECRET)
}

/// `s3_client`, signing as `access_key`/`secret`.
pub fn s3_client_as(server: &impl Endpoints, access_key: &str, secret: &str) -> aws_sdk_s3::Client {
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
    let credentials = Credentials::new(access_key, secret, None, None, "labstore-tests");
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("http://{}", server.addr(Listener::S3)))
        .force_path_style(true)
        .credentials_provider(credentials)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// Creates IAM user `name` with one access key, returning (access key id, secret).
pub async fn user_with_key(iam: &aws_sdk_iam::Client, name: &str) -> (String, String) {
    iam.create_user().user_name(name).send().await.unwrap();
    let out = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap();
    let key = out.access_key().unwrap();
    (
        key.access_key_id().to_owned(),
        key.secret_access_key().to_owned(),
    )
}

/// The AWS error code of a failed SDK call.
pub fn error_code<E, R>(
    result: Result<impl std::fmt::Debug, aws_sdk_iam::error::SdkError<E, R>>,
) -> String
where
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e
            .as_service_error()
            .and_then(|s| s.code())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("not a service error: {e:?}")),
    }
}

/// The AWS error code and HTTP status of a failed SDK call.
pub fn error_code_status<E>(
    result: Result<
        impl std::fmt::Debug,
        aws_sdk_iam::error::SdkError<E, aws_sdk_iam::config::http::HttpResponse>,
    >,
) -> (String, u16)
where
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::fmt::Debug,
{
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(aws_sdk_iam::error::SdkError::ServiceError(e)) => {
            let code = e.err().code().unwrap_or_default().to_owned();
            (code, e.raw().status().as_u16())
        }
        Err(e) => panic!("not a service error: {e:?}"),
    }
}

/// A policy document as the IAM API returns it (percent-encoded JSON), decoded and parsed.
pub fn decode_document(encoded: &str) -> serde_json::Value {
    let text = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .expect("a UTF-8 document");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Turns off the four Block Public Access settings a new bucket starts with, as
/// `aws s3api put-public-access-block --public-access-block-configuration
/// BlockPublicAcls=false,IgnorePublicAcls=false,BlockPublicPolicy=false,RestrictPublicBuckets=false`
/// does: what a bucket needs before a public policy can be put or reach anyone.
pub async fn allow_public_access(s3: &aws_sdk_s3::Client, bucket: &str) {
    let off = aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
        .block_public_acls(false)
        .ignore_public_acls(false)
        .block_public_policy(false)
        .restrict_public_buckets(false)
        .build();
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(off)
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutPublicAccessBlock {bucket}: {e:?}"));
}

/// An identity policy allowing `action` on everything.
pub fn allow(action: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"*"}}]}}"#
    )
}

/// One page of a listing: its items, `IsTruncated`, and `Marker`.
pub type Listed = (Vec<String>, bool, Option<String>);

/// Walks a listing page by page, passing each page's marker to the next request, and returns
/// the pages. Checks the paging contract on the way: a truncated page carries a marker, and
/// the walk ends (within `limit` pages) on a page that is not truncated.
pub async fn all_pages<F, Fut>(limit: usize, mut fetch: F) -> Vec<Vec<String>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Listed>,
{
    let mut pages = Vec::new();
    let mut marker = None;
    loop {
        assert!(pages.len() < limit, "more than {limit} pages: {pages:?}");
        let (items, truncated, next) = fetch(marker.take()).await;
        pages.push(items);
        if !truncated {
            return pages;
        }
        marker = Some(next.expect("a truncated page carries a Marker"));
    }
}

/// The raw bodies of the responses an SDK client received, in order: for checking what the
/// server sent beyond what the SDK's types expose (e.g. that no secret leaks into a listing).
#[derive(Debug, Clone, Default)]
pub struct Bodies(Arc<Mutex<Vec<String>>>);

impl Bodies {
    pub fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl aws_sdk_iam::config::Intercept for Bodies {
    fn name(&self) -> &'static str {
        "Bodies"
    }

    fn read_after_deserialization(
        &self,
        context: &aws_sdk_iam::config::interceptors::AfterDeserializationInterceptorContextRef<'_>,
        _: &aws_sdk_iam::config::RuntimeComponents,
        _: &mut aws_sdk_iam::config::ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let body = context.response().body().bytes().unwrap_or_default();
        self.0
            .lock()
            .unwrap()
            .push(String::from_utf8_lossy(body).into_owned());
        Ok(())
    }
}

/// An IAM client signing as the root that also records every response body.
pub fn recording_root_iam(server: &impl Endpoints) -> (aws_sdk_iam::Client, Bodies) {
    let bodies = Bodies::default();
    let config = root_iam(server)
        .config()
        .to_builder()
        .interceptor(bodies.clone())
        .build();
    (aws_sdk_iam::Client::from_conf(config), bodies)
}

/// A policy document with exactly `size` characters that are not whitespace, laid out with
/// plenty of whitespace (which the quota does not count).
pub fn document_of_size(size: usize) -> String {
    let layout = |pad: &str| {
        let value = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                           "Resource": format!("arn:aws:s3:::{pad}")}]
        });
        serde_json::to_string_pretty(&value).unwrap()
    };
    let count = |s: &str| s.chars().filter(|c| !c.is_whitespace()).count();
    let pad = "a".repeat(size - count(&layout("")));
    let document = layout(&pad);
    assert_eq!(count(&document), size);
    assert!(document.len() > size + 40, "whitespace is part of the test");
    document
}
