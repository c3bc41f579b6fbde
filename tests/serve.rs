//! `labstore serve` on empty directories: the three listeners, readiness, request ids, the
//! protocol-shaped errors, and SIGTERM handling.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use common::{get, messages, request, Server};

#[test]
fn all_three_ports_answer_on_empty_dirs() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());

    let health = get(server.admin, "/health");
    assert_eq!(health.status, 200);
    let ready = get(server.admin, "/ready");
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.body, r#"{"status":"ready"}"#);
    assert_eq!(get(server.admin, "/nowhere").status, 404);

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
    for (listener, class) in [("s3", 4), ("iam", 4), ("admin", 4)] {
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
