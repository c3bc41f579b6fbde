//! One scrape of `/metrics` (`admin::render`: every family, as the admin listener answers it)
//! on a server holding 10,000 buckets, each with its six storage series: what a Prometheus
//! scrape costs the server. The buckets are made by one bulk insert through the object index's
//! writer (the storage table's triggers give each its row, and the writer's hook brings them
//! into memory as after any commit), then given usage; the rendered text is checked (every
//! bucket's series, one bucket's values) before it is measured.
//!
//! Run with `cargo bench --bench metrics`.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use labstore::config::{self, Sources};
use labstore::db::DbError;
use tokio::runtime::Runtime;

const BUCKETS: usize = 10_000;

fn start(runtime: &Runtime, dir: &Path) -> labstore::app::Running {
    let env = [
        ("LABSTORE_BACKEND_ADMIN_SERVER_HOST", "127.0.0.1"),
        ("LABSTORE_BACKEND_IAM_SERVER_HOST", "127.0.0.1"),
        ("LABSTORE_BACKEND_S3_SERVER_HOST", "127.0.0.1"),
        ("LABSTORE_BACKEND_ADMIN_SERVER_PORT", "0"),
        ("LABSTORE_BACKEND_IAM_SERVER_PORT", "0"),
        ("LABSTORE_BACKEND_S3_SERVER_PORT", "0"),
        (
            "LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY",
            "bench-secret-bench-secret-bench-secret",
        ),
    ];
    let sources = Sources {
        cwd: dir.to_path_buf(),
        env: env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..Sources::default()
    };
    let mut config = config::load(&sources).expect("a configuration");
    let storage = &mut config.backend.storage;
    for path in [&mut storage.data_dir, &mut storage.keys_dir] {
        if path.is_relative() {
            *path = dir.join(&*path);
        }
    }
    runtime
        .block_on(labstore::app::start(config))
        .unwrap_or_else(|e| panic!("the server did not start: {e}"))
}

fn bench(c: &mut Criterion) {
    let runtime = Runtime::new().expect("a tokio runtime");
    let dir = tempfile::tempdir().expect("a temp dir");
    let running = start(&runtime, dir.path());
    let state = running.state().clone();
    runtime
        .block_on(state.objects.db().write(|conn| {
            let mut insert = conn.prepare(
                "INSERT INTO buckets (name, created_at, region, owner) VALUES (?1, 0, 'us-east-1', NULL)",
            )?;
            for n in 0..BUCKETS {
                insert.execute([format!("bucket-{n:05}")])?;
            }
            // Realistic magnitudes: thousands of objects, gigabytes.
            conn.execute_batch(
                "UPDATE bucket_stats SET objects = 1000 + rowid * 7, bytes = 123456789 * rowid,
                        noncurrent = rowid % 50, noncurrent_bytes = 98765 * rowid,
                        delete_markers = rowid % 3, uploads = rowid % 5",
            )?;
            Ok::<_, DbError>(())
        }))
        .expect("the buckets");
    let text = labstore::admin::render(&state).text();
    let series = text
        .lines()
        .filter(|l| l.starts_with("labstore_bucket_objects{"))
        .count();
    assert_eq!(series, BUCKETS, "every bucket has its series");
    let usage = state
        .objects
        .storage_stats()
        .usage("bucket-00041")
        .expect("a bucket's usage");
    let line = format!(
        "labstore_bucket_bytes{{bucket=\"bucket-00041\"}} {}",
        usage.bytes
    );
    assert!(usage.bytes > 0 && text.lines().any(|l| l == line), "{line}");
    eprintln!(
        "metrics: {} bytes of text for {BUCKETS} buckets",
        text.len()
    );

    c.bench_function("metrics_render_10000_buckets", |b| {
        b.iter(|| black_box(labstore::admin::render(black_box(&state))));
    });
    runtime.block_on(running.stop());
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = bench
}
criterion_main!(benches);
