//! The server driven in-process (shutdown passed in as a trigger, as `main` does with
//! signals): writes queued before shutdown are committed, and `/ready` reports what is not.

use std::time::Duration;

use labstore::app;
use labstore::config::Config;
use labstore::state::Listener;

fn config(dir: &std::path::Path) -> Config {
    let mut config = Config::default();
    config.backend.storage.data_dir = dir.join("data");
    config.backend.storage.keys_dir = dir.join("keys");
    for server in [
        &mut config.backend.admin.server,
        &mut config.backend.iam.server,
        &mut config.backend.s3.server,
    ] {
        server.host = "127.0.0.1".into();
        server.port = 0;
    }
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_queued_before_shutdown_are_committed() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.backend.iam.db.write_chan_cap = 256;
    let running = app::start(cfg).await.unwrap();
    let db = running.state().iam.db().clone();
    // Hold the writer busy so that the writes below are still queued when shutdown begins.
    let (release, held) = std::sync::mpsc::channel::<()>();
    let blocker = tokio::spawn({
        let db = db.clone();
        async move {
            db.write(move |_| {
                held.recv().ok();
                Ok::<_, labstore::db::DbError>(())
            })
            .await
        }
    });
    let mut writes = Vec::new();
    for i in 0..100 {
        let db = db.clone();
        writes.push(tokio::spawn(async move {
            db.write(move |conn| {
                conn.execute(
                    "INSERT INTO meta (name, value) VALUES (?1, x'00')",
                    [format!("queued-{i}")],
                )?;
                Ok::<_, labstore::db::DbError>(())
            })
            .await
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopping = tokio::spawn(running.stop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !stopping.is_finished(),
        "shutdown did not wait for the writer"
    );
    release.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(20), stopping)
        .await
        .unwrap()
        .unwrap();
    blocker.await.unwrap().unwrap();
    for w in writes {
        w.await.unwrap().expect("a queued write was not committed");
    }
    let conn = rusqlite::Connection::open(dir.path().join("data/metadata/iam.db")).unwrap();
    let stored: i64 = conn
        .query_row(
            "SELECT count(*) FROM meta WHERE name LIKE 'queued-%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 100);
    // After shutdown the queue is closed: a late write is refused, not lost silently.
    let late = db.write(|_| Ok::<_, labstore::db::DbError>(())).await;
    assert!(matches!(late, Err(labstore::db::DbError::Closed(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_is_503_naming_what_is_not_ready() {
    let dir = tempfile::tempdir().unwrap();
    let running = app::start(config(dir.path())).await.unwrap();
    let admin = running.addr(Listener::Admin);
    let get = |path: &'static str| async move {
        tokio::task::spawn_blocking(move || ready_status(admin, path))
            .await
            .unwrap()
    };
    assert_eq!(get("/ready").await.0, 200);
    // The writer stops answering: readiness must say so while health stays green.
    running.state().iam.db().close().await;
    let (status, body) = get("/ready").await;
    assert_eq!(status, 503);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["status"], "not ready");
    assert_eq!(
        body["not_ready"],
        serde_json::json!(["iam database writer"])
    );
    assert_eq!(get("/health").await.0, 200);
    tokio::time::timeout(Duration::from_secs(20), running.stop())
        .await
        .unwrap();
}

fn ready_status(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text[9..12].parse().unwrap();
    (status, text.split_once("\r\n\r\n").unwrap().1.to_owned())
}
