//! `labstore serve` on empty directories: the three listeners, readiness, request ids, the
//! protocol-shaped errors, and SIGTERM handling, through the real binary; and, in process, the
//! listeners' timeouts and connection caps.

use crate::common;

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{get, messages, request, Server, TestServer};

#[test]
fn all_three_ports_answer_on_empty_dirs() {
    if crate::common::postgres::sqlite_only("checks the SQLite files are made") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());

    let health = get(server.admin, "/health");
    assert_eq!(health.status, 200);
    let ready = get(server.admin, "/ready");
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.body, r#"{"status":"ready"}"#);
    // Anything else on the admin port is the console, which asks for a sign-in first.
    let console = get(server.admin, "/nowhere");
    assert_eq!(console.status, 303);
    assert_eq!(console.header("location"), Some("/signin"));

    // An unsigned S3 request is refused in S3's shape.
    let s3 = get(server.s3, "/some-bucket/some/key");
    assert_eq!(s3.status, 403);
    assert!(
        s3.body.contains("<Error><Code>AccessDenied</Code>"),
        "{}",
        s3.body
    );
    assert!(
        s3.body
            .contains("<Resource>/some-bucket/some/key</Resource>"),
        "{}",
        s3.body
    );
    let id = s3.header("x-amz-request-id").expect("x-amz-request-id");
    assert_eq!(id.len(), 16);
    assert!(s3.body.contains(&format!("<RequestId>{id}</RequestId>")));

    // An unsigned IAM call is refused in IAM's shape.
    let iam = request(
        server.iam,
        "POST",
        "/",
        "Action=ListUsers&Version=2010-05-08",
    );
    assert_eq!(iam.status, 403);
    assert!(iam
        .body
        .contains("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"));
    assert!(
        iam.body.contains("<Code>MissingAuthenticationToken</Code>"),
        "{}",
        iam.body
    );
    let id = iam.header("x-amzn-RequestId").expect("x-amzn-RequestId");
    assert_eq!(id.len(), 36);
    assert!(iam.body.contains(&format!("<RequestId>{id}</RequestId>")));

    let metrics = get(server.admin, "/metrics");
    assert_eq!(metrics.status, 200);
    for (listener, class) in [("s3", 4), ("iam", 4), ("admin", 3)] {
        let line =
            format!("labstore_responses_total{{listener=\"{listener}\",class=\"{class}xx\"}} 1\n");
        assert!(
            metrics.body.contains(&line),
            "{line} not in {}",
            metrics.body
        );
    }

    assert!(dir.path().join("data/metadata/iam.db").is_file());
    server.stop();
}

#[test]
fn sigterm_exits_zero_and_logs_each_shutdown_step() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    // An idle keep-alive connection must not hold shutdown up.
    let mut idle = TcpStream::connect(server.s3).unwrap();
    idle.write_all(b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let (stdout, logs) = server.stop();
    let said = messages(&logs);
    let order = [
        "shutdown requested",
        "shutdown: stopping the listeners",
        "stopped accepting connections; draining",
        "all connections drained",
        "shutdown: listeners stopped; closing the iam database writer",
        "shutdown: database writer joined; exiting",
    ];
    let mut at = 0;
    for step in order {
        let found = said[at..].iter().position(|m| m == step);
        at += found.unwrap_or_else(|| panic!("{step:?} not logged in order: {said:#?}"));
    }
    assert!(stdout.contains("secret key:"));
}

#[test]
fn an_in_flight_request_finishes_during_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let mut conn = TcpStream::connect(server.admin).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // Half a request: the server has begun reading it when the signal arrives.
    conn.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    server.signal(libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(300));
    conn.write_all(b"\r\n").unwrap();
    let response = common::read_response(&mut conn);
    assert_eq!(response.status, 200);
    let (status, _) = server.terminate(Duration::from_secs(15));
    assert!(status.success(), "{status}");
}

#[test]
fn a_stuck_client_cannot_hold_shutdown_past_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        dir.path(),
        &[("LABSTORE_BACKEND_SHUTDOWN_TIMEOUT_MS", "1000")],
    )
    .unwrap();
    let mut conn = TcpStream::connect(server.s3).unwrap();
    // Headers begun but never finished: the connection counts as in flight.
    conn.write_all(b"PUT /b/k HTTP/1.1\r\nHost: x\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let (status, took) = server.terminate(Duration::from_secs(15));
    assert!(status.success(), "{status}");
    assert!(
        took >= Duration::from_millis(900),
        "did not wait for the in-flight request: {took:?}"
    );
    assert!(took < Duration::from_secs(8), "took {took:?}");
}

#[test]
fn a_port_in_use_stops_startup_naming_the_listener() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let refused = Server::start_with(dir.path(), &[("LABSTORE_BACKEND_S3_SERVER_PORT", &port)])
        .err()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        refused.stderr.contains("cannot bind the s3 listener"),
        "{}",
        refused.stderr
    );
}

/// Sends `head` (which announces a 100000-byte body) and 7 bytes of that body, then stalls;
/// returns the answer (read until the server closes) and how long it took.
fn stall_mid_body(addr: SocketAddr, head: &str) -> (common::Response, Duration) {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let begun = Instant::now();
    conn.write_all(head.as_bytes()).unwrap();
    conn.write_all(b"Action=").unwrap();
    let response = common::try_read_response(&mut conn)
        .unwrap_or_else(|e| panic!("no answer to a stalled body within 20 s: {e}"));
    (response, begun.elapsed())
}

/// The value of the metric line starting `series ` in `/metrics`.
fn metric(server: &TestServer, series: &str) -> u64 {
    metric_at(server.admin, series)
}

/// The value of the metric line starting `series ` in the `/metrics` of the admin listener
/// at `admin`.
fn metric_at(admin: SocketAddr, series: &str) -> u64 {
    let text = get(admin, "/metrics").body;
    let prefix = format!("{series} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("{series} not in {text}"))
        .parse()
        .unwrap()
}

/// Waits (at most 10 s) until `series` reads `value`.
fn wait_for_metric(server: &TestServer, series: &str, value: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while metric(server, series) != value {
        assert!(Instant::now() < deadline, "{series} never reached {value}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_stalled_request_body_is_answered_request_timeout_and_the_connection_closed() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(
        dir.path(),
        &[
            (
                "LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY",
                common::ROOT_SECRET,
            ),
            ("LABSTORE_BACKEND_BODY_READ_TIMEOUT_MS", "1000"),
        ],
    )
    .unwrap();
    let root = common::signing::Signer::s3("admin", common::ROOT_SECRET);
    let created = common::signing::s3_call(server.s3, &root, "PUT", "/stalled", &[], "");
    assert_eq!(created.status, 200, "{}", created.body);
    let form = "Content-Type: application/x-www-form-urlencoded";
    let big = "Content-Length: 100000";

    // A body that keeps coming is not idle, however long it takes in all: five pieces,
    // 250 ms apart, well within the timeout each, longer than it together.
    let body = "Action=ListUsers&Version=2010-05-08";
    let mut slow = TcpStream::connect(server.iam).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\n{form}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    slow.write_all(head.as_bytes()).unwrap();
    for piece in body.as_bytes().chunks(body.len().div_ceil(5)) {
        std::thread::sleep(Duration::from_millis(250));
        slow.write_all(piece).unwrap();
    }
    let mut answer = [0u8; 12];
    slow.read_exact(&mut answer).unwrap();
    assert_eq!(
        &answer, b"HTTP/1.1 403",
        "a slow but steady body is read whole"
    );
    drop(slow);

    // Anonymous IAM call: the body must be read before the signature can be checked.
    let (iam, took) = stall_mid_body(
        server.iam,
        &format!("POST / HTTP/1.1\r\nHost: x\r\n{form}\r\n{big}\r\n\r\n"),
    );
    assert_eq!(iam.status, 400, "{}", iam.body);
    assert!(
        iam.body.contains("<Code>RequestTimeout</Code>"),
        "{}",
        iam.body
    );
    assert!(iam.body.contains("<Type>Sender</Type>"), "{}", iam.body);
    assert_eq!(iam.header("connection"), Some("close"));
    assert!(took < Duration::from_secs(10), "took {took:?}");

    // Anonymous DeleteObjects (the keys must be read before they can be authorized) and a
    // signed PutObject with an unsigned payload: both read a body that never comes.
    let unsigned = common::signing::Signer {
        payload: Some("UNSIGNED-PAYLOAD"),
        ..common::signing::Signer::s3("admin", common::ROOT_SECRET)
    };
    let (path, headers) = unsigned.sign(server.s3, "PUT", "/stalled/key", &[], "");
    let mut signed = String::new();
    for (name, value) in &headers {
        let _ = write!(signed, "{name}: {value}\r\n");
    }
    let heads = [
        format!("POST /stalled?delete HTTP/1.1\r\nHost: x\r\n{big}\r\n\r\n"),
        format!("PUT {path} HTTP/1.1\r\n{signed}{big}\r\n\r\n"),
    ];
    for head in heads {
        let (s3, took) = stall_mid_body(server.s3, &head);
        assert_eq!(s3.status, 400, "{head}: {}", s3.body);
        assert!(
            s3.body.contains("<Code>RequestTimeout</Code>"),
            "{head}: {}",
            s3.body
        );
        assert_eq!(s3.header("connection"), Some("close"));
        assert!(took < Duration::from_secs(10), "took {took:?}");
    }
    assert_eq!(
        metric(
            &server,
            r#"labstore_body_read_timeouts_total{listener="iam"}"#
        ),
        1
    );
    assert_eq!(
        metric(
            &server,
            r#"labstore_body_read_timeouts_total{listener="s3"}"#
        ),
        2
    );
    // The stalled connections gave their slots back.
    wait_for_metric(&server, r#"labstore_connections_open{listener="s3"}"#, 0);
    wait_for_metric(&server, r#"labstore_connections_open{listener="iam"}"#, 0);
    server.stop();
}

#[test]
fn an_idle_kept_alive_connection_is_closed_after_the_header_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(
        dir.path(),
        &[("LABSTORE_BACKEND_HEADER_READ_TIMEOUT_MS", "500")],
    )
    .unwrap();
    let mut conn = TcpStream::connect(server.s3).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // One request without `Connection: close`, then nothing.
    conn.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let begun = Instant::now();
    let response = common::try_read_response(&mut conn)
        .unwrap_or_else(|e| panic!("the idle connection was not closed within 20 s: {e}"));
    assert_eq!(response.status, 403, "{}", response.body);
    assert!(begun.elapsed() < Duration::from_secs(10));
    wait_for_metric(&server, r#"labstore_connections_open{listener="s3"}"#, 0);
    server.stop();
}

/// A blocking connection to `addr` from the loopback address `from` (127.0.0.2 is another
/// client on the same machine).
fn connect_from(from: &str, addr: SocketAddr) -> TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
        socket.connect(addr).await.unwrap()
    });
    let stream = stream.into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
}

#[test]
fn one_client_cannot_take_every_connection_and_a_full_listener_waits() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(
        dir.path(),
        &[
            ("LABSTORE_BACKEND_S3_SERVER_MAX_CONNECTIONS", "4"),
            ("LABSTORE_BACKEND_S3_SERVER_MAX_CONNECTIONS_PER_CLIENT", "2"),
        ],
    )
    .unwrap();
    let open = r#"labstore_connections_open{listener="s3"}"#;
    // Client A holds its two connections, saying nothing.
    let mut a: Vec<TcpStream> = (0..2)
        .map(|_| connect_from("127.0.0.1", server.s3))
        .collect();
    wait_for_metric(&server, open, 2);

    // A third from A is closed on arrival with a 503; the server keeps serving others.
    let mut third = connect_from("127.0.0.1", server.s3);
    let refused = common::try_read_response(&mut third).expect("a 503 before the close");
    assert_eq!(refused.status, 503);
    assert_eq!(
        metric(
            &server,
            r#"labstore_connections_refused_total{listener="s3"}"#
        ),
        1
    );
    let mut b = connect_from("127.0.0.2", server.s3);
    b.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut answer = [0u8; 12];
    b.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 403", "another client is served");

    // B and a second B connection fill the listener (4): C waits in the backlog, unanswered,
    // until one of A's connections ends.
    let _b2 = connect_from("127.0.0.2", server.s3);
    wait_for_metric(&server, open, 4);
    let mut c = connect_from("127.0.0.3", server.s3);
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    c.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut byte = [0u8; 1];
    let waited = c.read(&mut byte);
    assert!(
        matches!(&waited, Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)),
        "a full listener answered: {waited:?}"
    );
    assert!(
        metric(
            &server,
            r#"labstore_connection_cap_waits_total{listener="s3"}"#
        ) >= 1
    );
    drop(a.pop());
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let served = common::try_read_response(&mut c).expect("served once a slot freed");
    assert_eq!(served.status, 403, "{}", served.body);
    server.stop();
}

/// The request skeleton counts every S3 and IAM request by operation and status, times it,
/// counts its body bytes both ways, and every line a request logs carries its request id,
/// listener and operation.
#[test]
fn requests_are_counted_per_operation_and_their_log_lines_carry_the_request_id() {
    use common::signing::{iam_call, s3_call, Signer};
    let dir = tempfile::tempdir().unwrap();
    let server = common::spawn_with_root(dir.path());
    let root = Signer::s3("admin", common::ROOT_SECRET);
    let call = |method, path, body| s3_call(server.s3, &root, method, path, &[], body);
    assert_eq!(call("PUT", "/metered", "").status, 200);
    assert_eq!(call("PUT", "/metered/k", "five!").status, 200);
    let got = call("GET", "/metered/k", "");
    assert_eq!((got.status, got.body.as_str()), (200, "five!"));
    let missing = call("GET", "/metered/nothing", "");
    assert_eq!(missing.status, 404);
    let iam = Signer::new("admin", common::ROOT_SECRET);
    let users = iam_call(server.iam, &iam, "Action=ListUsers&Version=2010-05-08");
    assert_eq!(users.status, 200);

    let s3 = |op: &str| format!("listener=\"s3\",operation=\"{op}\"");
    for (series, value) in [
        (
            format!(
                "labstore_requests_total{{{},code=\"200\"}}",
                s3("CreateBucket")
            ),
            1,
        ),
        (
            format!(
                "labstore_requests_total{{{},code=\"200\"}}",
                s3("PutObject")
            ),
            1,
        ),
        (
            format!(
                "labstore_requests_total{{{},code=\"200\"}}",
                s3("GetObject")
            ),
            1,
        ),
        (
            format!(
                "labstore_requests_total{{{},code=\"404\"}}",
                s3("GetObject")
            ),
            1,
        ),
        (
            format!(
                "labstore_request_duration_seconds_count{{{}}}",
                s3("GetObject")
            ),
            2,
        ),
        (
            format!("labstore_request_body_bytes_total{{{}}}", s3("PutObject")),
            5,
        ),
        (
            "labstore_requests_total{listener=\"iam\",operation=\"ListUsers\",code=\"200\"}"
                .to_owned(),
            1,
        ),
    ] {
        assert_eq!(metric_at(server.admin, &series), value, "{series}");
    }
    let sent = metric_at(
        server.admin,
        &format!("labstore_response_body_bytes_total{{{}}}", s3("GetObject")),
    );
    assert_eq!(sent, 5 + missing.body.len() as u64);

    // The refusal's log line names the request id the client was given.
    let id = missing.header("x-amz-request-id").unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    let line = loop {
        let found = server
            .logs()
            .into_iter()
            .find(|l| l["span"]["request_id"] == id.as_str());
        match found {
            Some(line) => break line,
            None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            None => panic!("no log line carries request id {id}"),
        }
    };
    assert_eq!(line["span"]["listener"], "s3", "{line}");
    assert_eq!(line["span"]["operation"], "GetObject", "{line}");
    assert_eq!(line["code"], "NoSuchKey", "{line}");
    assert_eq!(line["level"], "INFO", "{line}");
}
