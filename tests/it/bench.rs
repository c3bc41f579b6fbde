//! `labstore bench` against the server: every workload runs clean and leaves nothing
//! behind, `--compare` prints ratios, and failures (a wrong secret, denied operations) are
//! reported and make the exit status non-zero.

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

use aws_sdk_s3::primitives::ByteStream;
use common::{root_iam, s3_client, s3_client_as, start_with_root, TestServer, BIN, ROOT_SECRET};
use serde_json::Value;

/// `labstore bench <args>` against the server's S3 port as the root unless `args` say
/// otherwise, small and short, with the AWS environment of whoever runs the tests removed.
fn bench(server: &TestServer, args: &[&str]) -> Output {
    let endpoint = format!("http://{}", server.s3);
    let mut all = vec!["bench", "--endpoint", &endpoint];
    let defaults = [
        ("--access-key", "admin"),
        ("--secret-key", ROOT_SECRET),
        ("--concurrency", "3"),
        ("--size", "4KiB"),
    ];
    for (flag, value) in defaults {
        if !args.contains(&flag) {
            all.extend([flag, value]);
        }
    }
    all.extend(args);
    let mut command = Command::new(BIN);
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
    ] {
        command.env_remove(name);
    }
    command.args(&all).output().expect("run labstore bench")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("the --json file");
    serde_json::from_str(&text).expect("JSON")
}

/// The run's result for `op`.
fn result<'a>(report: &'a Value, op: &str) -> &'a Value {
    report["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["op"] == op)
        .unwrap_or_else(|| panic!("no {op} in {report}"))
}

async fn bucket_names(server: &TestServer) -> Vec<String> {
    let listed = s3_client(server).list_buckets().send().await.unwrap();
    listed
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn every_workload_runs_clean_and_removes_what_it_created() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let cases: [(&str, &[&str]); 8] = [
        ("put", &["--ops", "20"]),
        ("put", &["--ops", "10", "--payload", "signed"]),
        (
            "get",
            &["--ops", "20", "--objects", "8", "--verify-every", "1"],
        ),
        ("head", &["--duration", "300ms", "--objects", "8"]),
        (
            "list",
            &[
                "--ops",
                "12",
                "--objects",
                "12",
                "--max-keys",
                "5",
                "--concurrency",
                "1",
            ],
        ),
        (
            "delete",
            &["--ops", "20", "--objects", "12", "--batch", "2"],
        ),
        (
            "multipart",
            &["--ops", "2", "--size", "6MiB", "--payload", "streaming"],
        ),
        (
            "mixed",
            &["--ops", "100", "--objects", "12", "--warmup", "200ms"],
        ),
    ];
    for (workload, args) in cases {
        let json = dir.path().join(format!("{workload}.json"));
        let mut all = vec![workload, "--json", json.to_str().unwrap()];
        all.extend(args);
        let out = bench(&server, &all);
        let stdout = text(&out.stdout);
        assert!(
            out.status.success(),
            "{workload} {args:?}: {}\n{stdout}\n{}",
            out.status,
            text(&out.stderr)
        );
        assert!(
            stdout.contains("ops/s") && stdout.contains("p99.9 ms"),
            "{stdout}"
        );
        let report = read_json(&json);
        assert_eq!(report["schema"], "labstore-bench/1");
        assert_eq!(report["plan"]["workload"], workload);
        assert_eq!(report["errors"], 0, "{report}");
        for r in report["results"].as_array().unwrap() {
            assert!(r["ops"].as_u64().unwrap() > 0, "{r}");
            assert!(r["ops_per_sec"].as_f64().unwrap() > 0.0, "{r}");
            assert_eq!(r["errors"], 0, "{r}");
            let latency = &r["latency_ms"];
            assert!(latency["p50"].as_f64() <= latency["p99"].as_f64(), "{r}");
            assert!(latency["p99"].as_f64() <= latency["max"].as_f64(), "{r}");
        }
        let bucket = report["bucket"].as_str().unwrap();
        assert!(bucket.starts_with("labstore-bench-1-"), "{bucket}");
        assert!(!bucket_names(&server).await.contains(&bucket.to_owned()));
        check_workload(workload, &report);
    }
    assert_eq!(bucket_names(&server).await, Vec::<String>::new());
}

/// What is particular to each workload's figures.
fn check_workload(workload: &str, report: &Value) {
    match workload {
        "get" => {
            let get = result(report, "get");
            assert_eq!(get["ops"], 20);
            assert_eq!(get["bytes"], 20 * 4096);
            assert!(get["ttfb_ms"]["p50"].as_f64().unwrap() > 0.0, "{get}");
        }
        "list" => {
            // One worker, 12 keys in pages of 5: four walks of 5, 5 and 2.
            let list = result(report, "list");
            assert_eq!(list["ops"], 12);
            assert_eq!(list["objects"], 4 * 12, "{list}");
        }
        "delete" => {
            let delete = result(report, "delete");
            assert_eq!(delete["objects"], 12, "every prepared object, once");
            assert_eq!(delete["ops"], 6, "batches of 2 from 3 workers' 4 objects");
        }
        "multipart" => assert_eq!(result(report, "multipart")["bytes"], 2 * 6 * 1024 * 1024),
        "mixed" => {
            let results = report["results"].as_array().unwrap();
            let total: u64 = results.iter().map(|r| r["ops"].as_u64().unwrap()).sum();
            assert_eq!(total, 100, "--ops counts every kind");
            for op in ["get", "head", "put", "delete"] {
                result(report, op);
            }
            assert!(result(report, "get")["ttfb_ms"].is_object());
        }
        _ => assert!(report["results"][0]["ttfb_ms"].is_null()),
    }
}

/// In a bucket it did not create, the bench removes its own objects and nothing else; with
/// `--keep` it leaves them.
#[tokio::test]
async fn a_given_bucket_keeps_what_was_there() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let s3 = s3_client(&server);
    s3.create_bucket().bucket("mine").send().await.unwrap();
    let body = ByteStream::from_static(b"precious");
    let put = s3.put_object().bucket("mine").key("keep-me").body(body);
    put.send().await.unwrap();
    let keys = || async {
        let listed = s3.list_objects_v2().bucket("mine").send().await.unwrap();
        let keys = listed.contents().iter().filter_map(|o| o.key());
        keys.map(str::to_owned).collect::<Vec<_>>()
    };

    let out = bench(
        &server,
        &["get", "--bucket", "mine", "--ops", "5", "--objects", "4"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(keys().await, ["keep-me"]);

    let out = bench(
        &server,
        &["put", "--bucket", "mine", "--ops", "3", "--keep"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(keys().await.len(), 1 + 3);
    assert_eq!(bucket_names(&server).await, ["mine"]);
}

#[tokio::test]
async fn compare_against_the_same_server_twice_prints_ratios() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let json = dir.path().join("compare.json");
    let endpoint = format!("http://{}", server.s3);
    let pid = server.pid().to_string();
    let out = bench(
        &server,
        &[
            "get",
            "--ops",
            "10",
            "--objects",
            "4",
            "--compare",
            "--endpoint-b",
            &endpoint,
            "--rounds",
            "1",
            "--pid",
            &pid,
            "--pid-b",
            &pid,
            "--json",
            json.to_str().unwrap(),
        ],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    for label in ["[A 1/4]", "[B 2/4]", "[B 3/4]", "[A 4/4]", "B/A"] {
        assert!(stdout.contains(label), "{label} in {stdout}");
    }
    let ops_line = stdout
        .lines()
        .find(|l| l.starts_with("get") && l.contains("ops/s"))
        .unwrap_or_else(|| panic!("no get ops/s line in {stdout}"));
    let ratio: f64 = ops_line.split_whitespace().last().unwrap().parse().unwrap();
    assert!(ratio > 0.0, "{ops_line}");

    let report = read_json(&json);
    assert_eq!(report["mode"], "compare");
    assert_eq!(report["errors"], 0);
    assert_eq!(report["a"]["runs"].as_array().unwrap().len(), 2);
    assert_eq!(report["b"]["runs"].as_array().unwrap().len(), 2);
    let medians = report["medians"].as_array().unwrap();
    let median = |op: &str, figure: &str| {
        medians
            .iter()
            .find(|m| m["op"] == op && m["figure"] == figure)
            .unwrap_or_else(|| panic!("no {op} {figure} in {medians:?}"))
    };
    assert!(median("get", "ops/s")["ratio"].as_f64().unwrap() > 0.0);
    assert!(median("server", "peak_rss_bytes")["a"].as_f64().unwrap() > 1e6);
    // Reported for both servers; it may read 0 on a busy machine, since /proc counts CPU
    // time in 10 ms ticks and these runs are short.
    let cpu = median("server", "cpu s/1000 ops")["b"].as_f64().unwrap();
    assert!(cpu.is_finite() && cpu >= 0.0, "{cpu}");
    assert_eq!(bucket_names(&server).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_wrong_secret_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let json = dir.path().join("wrong.json");
    let args = [
        "put",
        "--ops",
        "5",
        "--secret-key",
        "not-the-secret",
        "--json",
        json.to_str().unwrap(),
    ];
    let out = bench(&server, &args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("HTTP 403 SignatureDoesNotMatch"),
        "{stderr}"
    );
    assert!(!json.exists(), "nothing was measured");
}

/// Operations that fail after a clean setup are counted per operation, by kind, and fail
/// the run: here a user whose policy denies GetObject (and so HeadObject).
#[tokio::test]
async fn denied_operations_are_counted_and_fail_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let (key, secret) = common::user_with_key(&iam, "bencher").await;
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"s3:*","Resource":"*"},
        {"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}"#;
    let put = iam.put_user_policy().user_name("bencher").policy_name("p");
    put.policy_document(policy).send().await.unwrap();
    let json = dir.path().join("denied.json");
    let out = bench(
        &server,
        &[
            "mixed",
            "--access-key",
            &key,
            "--secret-key",
            &secret,
            "--ops",
            "40",
            "--objects",
            "6",
            "--json",
            json.to_str().unwrap(),
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("get errors: "), "{stdout}");
    assert!(stdout.contains("HTTP 403 AccessDenied"), "{stdout}");
    let report = read_json(&json);
    let get = result(&report, "get");
    assert_eq!(get["ops"], 0);
    let errors = get["errors"].as_u64().unwrap();
    assert!(errors > 0, "{get}");
    assert_eq!(get["error_kinds"]["HTTP 403 AccessDenied"], errors);
    // HeadObject is authorized as s3:GetObject too; a HEAD answer has no body to name a code.
    let head = result(&report, "head");
    let head_errors = head["errors"].as_u64().unwrap();
    assert_eq!(head["error_kinds"]["HTTP 403"], head_errors);
    assert_eq!(result(&report, "put")["errors"], 0);
    assert_eq!(report["errors"], errors + head_errors);
    // The user's own objects and bucket are gone all the same.
    let user = s3_client_as(&server, &key, &secret);
    let listed = user.list_buckets().send().await.unwrap();
    assert!(listed.buckets().is_empty(), "{listed:?}");
}
