//! Several nodes on one PostgreSQL database and one data directory (`docs/scale-out.md`): a
//! write on one node reads back on another, an IAM change on one is enforced on the others
//! within the staleness bound, concurrent writes of one key leave one winner and no stray blob,
//! a node killed with SIGKILL during uploads loses nothing acknowledged while the others serve
//! on, and a lifecycle rule is applied by one node. Runs under `just test-postgres` (with
//! `TEST_POSTGRES_URL`); on SQLite there is one node and these tests return at once.

use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use labstore::cluster::STALENESS_BOUND;

use crate::common::{self, postgres, TestServer};

/// Allowance for scheduling on a loaded test machine, on top of the bound, in the assertions
/// that time how soon another node enforces a change (the measured figures are in
/// `docs/scale-out.md`).
const SCHEDULING: Duration = Duration::from_millis(150);

fn node(dir: &Path, env: &[(&str, &str)]) -> TestServer {
    let env: Vec<(&str, &str)> = [(
        "LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY",
        common::ROOT_SECRET,
    )]
    .into_iter()
    .chain(env.iter().copied())
    .collect();
    TestServer::start_with(dir, &env).unwrap_or_else(|e| panic!("a node did not start: {e}"))
}

/// Polls `done` until it holds or `limit` passes; how long it took, or `None`.
async fn within<F, Fut>(limit: Duration, mut done: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let began = Instant::now();
    loop {
        if done().await {
            return Some(began.elapsed());
        }
        if began.elapsed() > limit {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[test]
fn a_write_on_one_node_reads_back_on_another() {
    if !postgres::enabled() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (node(dir.path(), &[]), node(dir.path(), &[]));
    let (s3a, s3b) = (a.root_s3(), b.root_s3());
    a.block_on(async {
        s3a.create_bucket().bucket("shared").send().await.unwrap();
        let big = common::pattern(3 << 20, 7);
        for (key, body) in [("small", b"tiny".to_vec()), ("big", big)] {
            s3a.put_object()
                .bucket("shared")
                .key(key)
                .body(ByteStream::from(body.clone()))
                .send()
                .await
                .unwrap();
            // The object row is read from the database on every GET: seen at once.
            let got = s3b
                .get_object()
                .bucket("shared")
                .key(key)
                .send()
                .await
                .unwrap_or_else(|e| panic!("GET {key} on the other node: {e:?}"));
            assert_eq!(got.body.collect().await.unwrap().to_vec(), body, "{key}");
        }
        // A bucket made on B is known to A within the bound (A's bucket map follows).
        s3b.create_bucket().bucket("from-b").send().await.unwrap();
        let took = within(STALENESS_BOUND + SCHEDULING, || async {
            s3a.head_bucket().bucket("from-b").send().await.is_ok()
        })
        .await;
        assert!(took.is_some(), "the bucket made on B never reached A");
        let listed = s3a.list_objects_v2().bucket("shared").send().await.unwrap();
        assert_eq!(listed.key_count(), Some(2));
    });
}

#[test]
fn an_iam_change_on_one_node_is_enforced_on_another_within_the_bound() {
    if !postgres::enabled() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        node(dir.path(), &[]),
        node(dir.path(), &[]),
        node(dir.path(), &[]),
    );
    a.block_on(async {
        a.with_bucket("guarded").await;
        a.root_s3()
            .put_object()
            .bucket("guarded")
            .key("k")
            .body(ByteStream::from_static(b"v"))
            .send()
            .await
            .unwrap();
        let user = a.with_user(&common::allow("s3:GetObject")).await;
        let on_b = common::s3_client_as(&b, &user.access_key, &user.secret);
        let on_c = common::s3_client_as(&c, &user.access_key, &user.secret);
        // Whether the key reads the object on both B and C; whether both refuse it.
        let get = || async {
            let b = on_b
                .get_object()
                .bucket("guarded")
                .key("k")
                .send()
                .await
                .is_ok();
            let c = on_c
                .get_object()
                .bucket("guarded")
                .key("k")
                .send()
                .await
                .is_ok();
            b && c
        };
        let refused = || async {
            let b = on_b
                .get_object()
                .bucket("guarded")
                .key("k")
                .send()
                .await
                .is_err();
            let c = on_c
                .get_object()
                .bucket("guarded")
                .key("k")
                .send()
                .await
                .is_err();
            b && c
        };
        // A user and key made on A sign requests on B and C within the bound.
        let granted = within(STALENESS_BOUND + SCHEDULING, get).await;
        assert!(granted.is_some(), "B or C never accepted the key made on A");
        // A deleted key is refused on B within the bound of the deletion's acknowledgement.
        a.root_iam()
            .delete_access_key()
            .user_name(&user.name)
            .access_key_id(&user.access_key)
            .send()
            .await
            .unwrap();
        let revoked = within(STALENESS_BOUND + SCHEDULING, refused).await;
        let took = revoked.expect("B or C kept accepting a key deleted on A");
        eprintln!("key deletion on A enforced on B and C after {took:?}");
        let watch = b.state().cluster.as_ref().expect("B watches the cluster");
        assert!(watch.applied_iam.load(std::sync::atomic::Ordering::Relaxed) >= 2);
        let metrics = common::get(b.admin, "/metrics").body;
        assert!(
            metrics.contains("labstore_cluster_rebuilds_total{view=\"iam\"}"),
            "{metrics}"
        );
        assert!(metrics.contains("labstore_cluster_staleness_seconds 0."));
    });
}

#[test]
fn a_node_that_loses_its_notifications_stops_serving_until_they_are_back() {
    if !postgres::enabled() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let a = node(dir.path(), &[]);
    let watch = a.state().cluster.clone().expect("a cluster watch");
    assert!(watch.fresh());
    // Kill the watch's connection from the database side: the node must refuse (503, which
    // clients retry) rather than serve from views that may be stale, until it is back.
    let url = postgres::url().unwrap();
    let mut admin = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    // This node's only: the other tests' nodes share the cluster.
    let name = format!("labstore-watch-{}", watch.node());
    let killed = std::thread::spawn(move || {
        admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                &[&name],
            )
            .unwrap()
    });
    assert!(killed.join().unwrap() >= 1);
    let refused = a.block_on(within(Duration::from_secs(2), || async {
        !watch.fresh() && common::get(a.admin, "/ready").status == 503
    }));
    assert!(refused.is_some(), "the node kept claiming fresh views");
    let status = common::get(a.s3, "/").status;
    assert_eq!(status, 503, "a request while stale is refused, not served");
    let back = a.block_on(within(Duration::from_secs(5), || async { watch.fresh() }));
    assert!(back.is_some(), "the watch never reconnected");
    assert!(watch.reconnects.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    a.block_on(async {
        a.root_s3().list_buckets().send().await.unwrap();
    });
}

#[test]
fn concurrent_writes_of_one_key_leave_one_winner_and_no_stray_blob() {
    if !postgres::enabled() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (node(dir.path(), &[]), node(dir.path(), &[]));
    let (s3a, s3b) = (a.root_s3(), b.root_s3());
    const ROUNDS: u32 = 12;
    a.block_on(async {
        s3a.create_bucket().bucket("race").send().await.unwrap();
        let write = |s3: aws_sdk_s3::Client, seed: u32| async move {
            for round in 0..ROUNDS {
                s3.put_object()
                    .bucket("race")
                    .key("same")
                    .body(ByteStream::from(common::pattern(
                        256 << 10,
                        seed * 100 + round,
                    )))
                    .send()
                    .await
                    .unwrap();
            }
        };
        let (one, two) = tokio::join!(
            tokio::spawn(write(s3a.clone(), 1)),
            tokio::spawn(write(s3b.clone(), 2))
        );
        one.unwrap();
        two.unwrap();
        let got = s3a
            .get_object()
            .bucket("race")
            .key("same")
            .send()
            .await
            .unwrap();
        let body = got.body.collect().await.unwrap().to_vec();
        let candidates: Vec<Vec<u8>> = [1, 2]
            .iter()
            .flat_map(|seed| (0..ROUNDS).map(move |r| common::pattern(256 << 10, seed * 100 + r)))
            .collect();
        assert!(candidates.contains(&body), "the object is one write, whole");
        let versions = s3a
            .list_object_versions()
            .bucket("race")
            .send()
            .await
            .unwrap();
        assert_eq!(versions.versions().len(), 1, "one winner");
    });
    // Every replaced blob is removed once its replacement commits; the last one stays.
    let settled = a.block_on(within(Duration::from_secs(5), || async {
        common::blob_files(dir.path()) == 1
    }));
    assert!(
        settled.is_some(),
        "{} blob files for one object",
        common::blob_files(dir.path())
    );
}

#[test]
fn a_node_killed_during_uploads_loses_nothing_acknowledged_and_the_others_serve_on() {
    if !postgres::enabled() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let b = node(dir.path(), &[]);
    let a = common::spawn_with_root(dir.path());
    let (s3a, s3b) = (common::s3_client(&a), b.root_s3());
    b.block_on(async {
        s3b.create_bucket().bucket("crash").send().await.unwrap();
    });
    // Uploads through A until it is killed; each acknowledged key is remembered.
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let uploader = {
        let acked = std::sync::Arc::clone(&acked);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                for n in 0..10_000u32 {
                    let key = format!("k{n:05}");
                    let body = common::pattern(if n % 2 == 0 { 100 } else { 200 << 10 }, n);
                    let sent = s3a
                        .put_object()
                        .bucket("crash")
                        .key(&key)
                        .body(ByteStream::from(body))
                        .send()
                        .await;
                    match sent {
                        Ok(_) => acked.lock().unwrap().push((key, n)),
                        Err(_) => return,
                    }
                }
            })
        })
    };
    // Killed mid-stream, once some uploads are acknowledged.
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked.lock().unwrap().len() < 8 {
        assert!(Instant::now() < deadline, "no upload was acknowledged");
        std::thread::sleep(Duration::from_millis(5));
    }
    a.signal(libc::SIGKILL);
    // B serves throughout: a write and a read right after the kill.
    b.block_on(async {
        s3b.put_object()
            .bucket("crash")
            .key("after-the-kill")
            .body(ByteStream::from_static(b"still here"))
            .send()
            .await
            .unwrap();
    });
    uploader.join().unwrap();
    b.block_on(async {
        let acked = acked.lock().unwrap().clone();
        assert!(
            acked.len() > 4,
            "the kill came too early to test anything ({})",
            acked.len()
        );
        for (key, n) in &acked {
            let body = common::pattern(if n % 2 == 0 { 100 } else { 200 << 10 }, *n);
            let got = s3b
                .get_object()
                .bucket("crash")
                .key(key)
                .send()
                .await
                .unwrap_or_else(|e| panic!("acknowledged {key} lost: {e:?}"));
            assert_eq!(
                got.body.collect().await.unwrap().to_vec(),
                body,
                "{key} torn"
            );
        }
        // Nothing torn is listed: every listed object reads back whole.
        let listed = s3b.list_objects_v2().bucket("crash").send().await.unwrap();
        for object in listed.contents() {
            let got = s3b
                .get_object()
                .bucket("crash")
                .key(object.key().unwrap())
                .send()
                .await
                .unwrap();
            let len = got.body.collect().await.unwrap().to_vec().len();
            assert_eq!(i64::try_from(len).ok(), object.size());
        }
    });
    drop(a);
}

fn lifecycle_passes(server: &TestServer) -> u64 {
    let text = common::get(server.admin, "/metrics").body;
    text.lines()
        .find_map(|l| l.strip_prefix("labstore_lifecycle_passes_total "))
        .map_or(0, |v| v.trim().parse().unwrap())
}

#[test]
fn a_lifecycle_rule_is_applied_by_one_node() {
    if !postgres::enabled() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fast = [
        ("LABSTORE_BACKEND_S3_LIFECYCLE_DAY_SECONDS", "1"),
        ("LABSTORE_BACKEND_S3_LIFECYCLE_INTERVAL_MS", "50"),
    ];
    let (a, b) = (node(dir.path(), &fast), node(dir.path(), &fast));
    let s3 = a.root_s3();
    a.block_on(async {
        s3.create_bucket().bucket("aging").send().await.unwrap();
        s3.put_bucket_versioning()
            .bucket("aging")
            .versioning_configuration(
                aws_sdk_s3::types::VersioningConfiguration::builder()
                    .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        for n in 0..5 {
            s3.put_object()
                .bucket("aging")
                .key(format!("o{n}"))
                .body(ByteStream::from_static(b"x"))
                .send()
                .await
                .unwrap();
        }
        let rule = aws_sdk_s3::types::LifecycleRule::builder()
            .id("expire")
            .status(aws_sdk_s3::types::ExpirationStatus::Enabled)
            .filter(
                aws_sdk_s3::types::LifecycleRuleFilter::builder()
                    .prefix("")
                    .build(),
            )
            .expiration(
                aws_sdk_s3::types::LifecycleExpiration::builder()
                    .days(1)
                    .build(),
            )
            .build()
            .unwrap();
        s3.put_bucket_lifecycle_configuration()
            .bucket("aging")
            .lifecycle_configuration(
                aws_sdk_s3::types::BucketLifecycleConfiguration::builder()
                    .rules(rule)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        // Each object expires once: one delete marker each, however many nodes run.
        let done = within(Duration::from_secs(15), || async {
            let v = s3
                .list_object_versions()
                .bucket("aging")
                .send()
                .await
                .unwrap();
            v.delete_markers().len() >= 5
        })
        .await;
        assert!(done.is_some(), "the rule was never applied");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let v = s3
            .list_object_versions()
            .bucket("aging")
            .send()
            .await
            .unwrap();
        assert_eq!(v.delete_markers().len(), 5, "an object expired twice");
        assert_eq!(v.versions().len(), 5);
    });
    let passes = (lifecycle_passes(&a), lifecycle_passes(&b));
    assert!(
        (passes.0 > 0) != (passes.1 > 0),
        "exactly one node runs the lifecycle: passes {passes:?}"
    );
}

#[test]
fn a_sqlite_store_migrates_to_postgres_and_serves_the_same_data() {
    if !postgres::enabled() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sqlite = [("LABSTORE_BACKEND_METADATA_ENGINE", "sqlite")];
    let before = node(dir.path(), &sqlite);
    let big = common::pattern(2 << 20, 3);
    let user = before.block_on(async {
        let s3 = before.with_bucket("moved").await;
        for (key, body) in [("small", b"tiny".to_vec()), ("dir/big", big.clone())] {
            s3.put_object()
                .bucket("moved")
                .key(key)
                .body(ByteStream::from(body))
                .send()
                .await
                .unwrap();
        }
        // More rows than the copy's page (1,000), so that it pages.
        let mut workers = tokio::task::JoinSet::new();
        for worker in 0..16u32 {
            let s3 = s3.clone();
            workers.spawn(async move {
                let mut n = worker;
                while n < 1_050 {
                    s3.put_object()
                        .bucket("moved")
                        .key(format!("many/{n:04}"))
                        .body(ByteStream::from(n.to_string().into_bytes()))
                        .send()
                        .await
                        .unwrap();
                    n += 16;
                }
            });
        }
        while let Some(done) = workers.join_next().await {
            done.unwrap();
        }
        before.with_user(&common::allow("s3:GetObject")).await
    });
    before.stop();
    let out = common::command(
        dir.path(),
        &["migrate", "--from", "sqlite", "--to", "postgres"],
    )
    .env(
        "LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY",
        common::ROOT_SECRET,
    )
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("objects: ") && stdout.contains("iam: "),
        "{stdout}"
    );
    // A second run finds the schemas full and changes nothing.
    let again = common::command(
        dir.path(),
        &["migrate", "--from", "sqlite", "--to", "postgres"],
    )
    .output()
    .unwrap();
    assert!(!again.status.success());
    let after = node(dir.path(), &[]);
    after.block_on(async {
        let as_user = common::s3_client_as(&after, &user.access_key, &user.secret);
        for (key, body) in [("small", b"tiny".to_vec()), ("dir/big", big.clone())] {
            let got = as_user
                .get_object()
                .bucket("moved")
                .key(key)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{key} after the migration: {e:?}"));
            assert_eq!(got.body.collect().await.unwrap().to_vec(), body, "{key}");
        }
        // Storage per bucket is counted by PostgreSQL's triggers as the rows arrive.
        after
            .root_s3()
            .put_object()
            .bucket("moved")
            .key("new")
            .body(ByteStream::from_static(b"n"))
            .send()
            .await
            .unwrap();
        let listed = after
            .root_s3()
            .list_objects_v2()
            .bucket("moved")
            .prefix("many/")
            .start_after("many/0999")
            .send()
            .await
            .unwrap();
        assert_eq!(listed.key_count(), Some(50));
        let last = as_user
            .get_object()
            .bucket("moved")
            .key("many/1049")
            .send()
            .await
            .unwrap();
        assert_eq!(last.body.collect().await.unwrap().to_vec(), b"1049");
    });
    let usage = after
        .state()
        .objects
        .storage_stats()
        .usage("moved")
        .unwrap();
    assert_eq!(usage.objects, 3 + 1_050);
}
