//! One run against one endpoint: the bucket, the prepared objects, the measurement (workers,
//! progress line, server usage), and the cleanup of everything the run created.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::task::JoinSet;

use super::client::{Client, OpError};
use super::ops;
use super::procfs;
use super::stats::{Figures, Recorder};
use super::units::to_f64;
use super::workload::{self, Plan, Shared};

/// Keys per DeleteObjects request when cleaning up: S3's maximum.
const CLEANUP_BATCH: usize = 1000;

/// An endpoint to measure.
pub struct Target {
    pub client: Arc<Client>,
    pub region: String,
    /// The server's process id, to read its CPU time and peak memory (`--pid`).
    pub pid: Option<u32>,
}

/// What one run measured, as the report and `--json` give it.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub endpoint: String,
    pub bucket: String,
    /// One entry per operation the workload ran.
    pub results: Vec<Figures>,
    /// With `--pid`: what the measured window cost the server.
    pub server: Option<ServerUsage>,
    /// What the measured window cost this process, the client (Linux only).
    pub client: Option<ClientUsage>,
    /// What went wrong outside the measured operations (cleanup); each counts as an error.
    pub problems: Vec<String>,
    /// Every failed operation and problem of the run.
    pub errors: u64,
}

/// The server's cost over the measured window (warmup excluded).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ServerUsage {
    /// User + system CPU seconds the server used.
    pub cpu_seconds: f64,
    /// `cpu_seconds` per 1000 measured operations (all kinds together).
    pub cpu_seconds_per_1000_ops: f64,
    /// The server's peak resident memory since it started (`VmHWM`), in bytes.
    pub peak_rss_bytes: u64,
}

/// The bench's own cost over the measured window: how much the load generator itself takes
/// from a machine it shares with the server.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ClientUsage {
    pub cpu_seconds: f64,
    pub cpu_seconds_per_1000_ops: f64,
}

/// How a run is named and kept.
pub struct RunOptions<'a> {
    /// `--bucket`; otherwise a new bucket named `labstore-bench-<seed>-<random>`.
    pub bucket: Option<&'a str>,
    pub keep: bool,
    /// Shown before the progress line, e.g. `[A 1/4] `.
    pub label: String,
    /// Set on Ctrl-C: the run stops starting operations, reports and cleans up.
    pub interrupted: Arc<AtomicBool>,
}

/// Runs the plan once. `Err` when the run could not be set up (bucket or preparation); the
/// objects it had created by then are cleaned up first.
pub async fn run(
    target: &Target,
    plan: &Plan,
    options: &RunOptions<'_>,
) -> Result<RunReport, String> {
    let client = &target.client;
    let run_id = format!("{:08x}", rand::random::<u32>());
    let bucket = match options.bucket {
        Some(bucket) => bucket.to_owned(),
        None => format!("labstore-bench-{}-{run_id}", plan.seed),
    };
    let created = ops::create_bucket(client, &bucket, &target.region)
        .await
        .map_err(|e| format!("CreateBucket {bucket}: {e}"))?;
    let prefix = format!("labstore-bench-{run_id}/");
    let measured = measure(target, plan, (&bucket, &prefix), options).await;
    let problems = match options.keep {
        true => Vec::new(),
        false => cleanup(client, &bucket, &prefix, created).await,
    };
    let measured = measured.map_err(|e| {
        let mut all = vec![e];
        all.extend(problems.iter().cloned());
        all.join("; ")
    })?;
    let results = measured.figures;
    let errors = results.iter().map(|f| f.errors).sum::<u64>() + problems.len() as u64;
    Ok(RunReport {
        endpoint: client.endpoint().authority.clone(),
        bucket,
        results,
        server: measured.server,
        client: measured.client,
        problems,
        errors,
    })
}

struct Measured {
    figures: Vec<Figures>,
    server: Option<ServerUsage>,
    client: Option<ClientUsage>,
}

async fn measure(
    target: &Target,
    plan: &Plan,
    (bucket, prefix): (&str, &str),
    options: &RunOptions<'_>,
) -> Result<Measured, String> {
    let shared = Arc::new(Shared::new(
        Arc::clone(&target.client),
        plan.clone(),
        (bucket.to_owned(), prefix.to_owned()),
        Arc::clone(&options.interrupted),
        Instant::now(),
    ));
    if plan.workload.prepares() {
        prepare(&shared).await?;
    }
    // The preparing tasks are done and gone; the clock starts now the objects are there.
    let mut shared = Arc::into_inner(shared).ok_or("the prepared state is still shared")?;
    shared.measure_start = Instant::now() + plan.warmup;
    let shared = Arc::new(shared);
    let at_start = tokio::spawn(cpu_at(target.pid, shared.measure_start));
    let progress = std::io::stderr()
        .is_terminal()
        .then(|| tokio::spawn(show_progress(Arc::clone(&shared), options.label.clone())));
    let mut workers = JoinSet::new();
    for id in 0..plan.concurrency {
        workers.spawn(workload::worker(Arc::clone(&shared), id));
    }
    let mut merged = workload::Recorders::new();
    while let Some(joined) = workers.join_next().await {
        let recorders = joined.map_err(|e| format!("a worker failed: {e}"))?;
        for (kind, recorder) in recorders {
            merged.entry(kind).or_default().merge(recorder);
        }
    }
    if let Some(progress) = progress {
        progress.abort();
        eprint!("\r\x1b[K");
    }
    let end = merged.values().filter_map(Recorder::last_end).max();
    let seconds = end.map_or(0.0, |end| {
        end.saturating_duration_since(shared.measure_start)
            .as_secs_f64()
    });
    let ops: u64 = merged.values().map(Recorder::ops).sum();
    let (client_at_start, server_at_start) = at_start.await.unwrap_or_default();
    let (client_now, server_now) = cpu_at(target.pid, Instant::now()).await;
    let per_1000_ops = |cpu_seconds: f64| match ops {
        0 => 0.0,
        ops => cpu_seconds * 1000.0 / to_f64(ops),
    };
    let client = client_now
        .zip(client_at_start)
        .map(|(now, start)| ClientUsage {
            cpu_seconds: now - start,
            cpu_seconds_per_1000_ops: per_1000_ops(now - start),
        });
    let server = server_now.zip(server_at_start).and_then(|(now, start)| {
        Some(ServerUsage {
            cpu_seconds: now - start,
            cpu_seconds_per_1000_ops: per_1000_ops(now - start),
            peak_rss_bytes: procfs::peak_rss_bytes(target.pid?).ok()?,
        })
    });
    let figures = merged
        .into_iter()
        .map(|(kind, recorder)| recorder.figures(kind, seconds))
        .collect();
    Ok(Measured {
        figures,
        server,
        client,
    })
}

/// Uploads objects `0..objects` with the run's concurrency. The first failure stops it.
async fn prepare(shared: &Arc<Shared>) -> Result<(), String> {
    let next = Arc::new(AtomicU64::new(0));
    let objects = shared.plan.objects;
    let mut uploads = JoinSet::new();
    for _ in 0..shared.plan.concurrency {
        let next = Arc::clone(&next);
        let shared = Arc::clone(shared);
        uploads.spawn(async move {
            loop {
                let index = next.fetch_add(1, Relaxed);
                if index >= objects || shared.interrupted.load(Relaxed) {
                    return Ok(());
                }
                shared.put(index).await.map_err(|e| (index, e))?;
            }
        });
    }
    while let Some(joined) = uploads.join_next().await {
        let result: Result<(), (u64, OpError)> =
            joined.map_err(|e| format!("a preparing task failed: {e}"))?;
        if let Err((index, e)) = result {
            return Err(format!(
                "preparing object {index} of {objects}: PutObject: {e}"
            ));
        }
    }
    if shared.interrupted.load(Relaxed) {
        return Err("interrupted while preparing the objects".into());
    }
    Ok(())
}

/// This process's and the server's CPU seconds at `at` (at once if that has passed).
async fn cpu_at(server: Option<u32>, at: Instant) -> (Option<f64>, Option<f64>) {
    tokio::time::sleep_until(at.into()).await;
    let client = procfs::cpu_seconds(std::process::id()).ok();
    (client, server.and_then(|pid| procfs::cpu_seconds(pid).ok()))
}

/// A `\r`-updated line on the terminal: elapsed time, operations, their rate, errors.
async fn show_progress(shared: Arc<Shared>, label: String) {
    let begun = Instant::now();
    let (mut last_ops, mut last_at) = (0, begun);
    let workload = shared.plan.workload.as_str();
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = Instant::now();
        let ops = shared.progress.ops.load(Relaxed);
        let errors = shared.progress.errors.load(Relaxed);
        let rate = to_f64(ops - last_ops) / (now - last_at).as_secs_f64();
        (last_ops, last_at) = (ops, now);
        let phase = if now < shared.measure_start {
            " (warmup)"
        } else {
            ""
        };
        let elapsed = (now - begun).as_secs_f64();
        eprint!(
            "\r\x1b[K{label}{workload}{phase}: {elapsed:.1} s, {ops} ops, {rate:.0} ops/s, \
             {errors} errors"
        );
        let _ = std::io::stderr().flush();
    }
}

/// Deletes every key under the run's prefix, then the bucket if the run created it. Returns
/// what could not be done.
async fn cleanup(client: &Client, bucket: &str, prefix: &str, created: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let mut token = None;
    loop {
        let page = ops::list_objects_v2(client, bucket, prefix, 1000, token.as_deref()).await;
        let page = match page {
            Ok(page) => page,
            Err(e) => {
                problems.push(format!("cleanup: ListObjectsV2 {bucket}/{prefix}: {e}"));
                return problems;
            }
        };
        for batch in page.keys.chunks(CLEANUP_BATCH) {
            if let Err(e) = ops::delete_objects(client, bucket, batch).await {
                problems.push(format!("cleanup: DeleteObjects in {bucket}: {e}"));
                return problems;
            }
        }
        token = page.next;
        if token.is_none() {
            break;
        }
    }
    if created {
        if let Err(e) = ops::delete_bucket(client, bucket).await {
            problems.push(format!("cleanup: DeleteBucket {bucket}: {e}"));
        }
    }
    problems
}
