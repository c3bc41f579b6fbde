//! What a person reads (the tables on standard output) and what a machine reads (`--json`).
//!
//! The `--json` file of a single run:
//!
//! ```text
//! {
//!   "schema": "labstore-bench/1",
//!   "mode": "run",
//!   "plan": {                        // what was asked for
//!     "workload": "get",             // put | get | head | list | delete | multipart | mixed
//!     "size": 4096,                  // object size, bytes
//!     "part_size": 5242880,          // multipart part size, bytes
//!     "payload": "unsigned",         // unsigned | signed | streaming
//!     "concurrency": 8,
//!     "duration_secs": 10.0,         // null with --ops
//!     "ops": null,                   // --ops N, or null with --duration
//!     "warmup_secs": 2.0,
//!     "objects": 1000,               // prepared objects (get, head, list, delete, mixed)
//!     "batch": 100,                  // keys per DeleteObjects (delete)
//!     "max_keys": 1000,              // keys per ListObjectsV2 page (list)
//!     "seed": 1,
//!     "verify_every": 10             // every Nth GET's body is compared byte for byte
//!   },
//!   "endpoint": "127.0.0.1:6789",
//!   "bucket": "labstore-bench-1-0badcafe",
//!   "results": [{                    // one per operation the workload ran
//!     "op": "get",
//!     "ops": 12345,                  // successful operations in the measured window
//!     "seconds": 10.002,             // the measured window
//!     "ops_per_sec": 1234.3, "mib_per_sec": 4.82, "objects_per_sec": 1234.3,
//!     "bytes": 50565120, "objects": 12345,
//!     "latency_ms": {"mean": 0.9, "p50": 0.8, "p90": 1.2, "p99": 2.3, "p999": 5.6, "max": 9.1},
//!     "ttfb_ms": {...} or null,      // same fields; get only
//!     "errors": 0,                   // failed operations, warmup included
//!     "error_kinds": {"HTTP 503 SlowDown": 3}
//!   }],
//!   "server": {"cpu_seconds": 4.2, "cpu_seconds_per_1000_ops": 0.34, "peak_rss_bytes": 52428800}
//!             or null,               // with --pid only
//!   "client": {"cpu_seconds": 1.1, "cpu_seconds_per_1000_ops": 0.09} or null,  // this process
//!   "problems": [],                  // cleanup failures, each also counted in "errors"
//!   "errors": 0                      // the run's total; non-zero means exit status 1
//! }
//! ```
//!
//! With `--compare`, `"mode": "compare"`, the same `"plan"`, `"rounds"`, `"a"` and `"b"`
//! (each `{"endpoint", "runs": [<the run object above without schema, mode and plan>...]}`
//! in the order they ran), `"medians"`: `[{"op", "figure", "a", "b", "ratio"}]` (ratio =
//! b / a, null when a is 0; `errors` is summed, `peak_rss_bytes` is the largest, every other
//! figure the median over the endpoint's runs), and `"errors"`, the total of both.
//! Latencies are exact percentiles (nearest rank), in milliseconds.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::run::RunReport;
use super::units::format_size;
use super::workload::{Plan, Stop};

pub const SCHEMA: &str = "labstore-bench/1";

/// The plan as `--json` records it.
#[derive(Debug, Serialize)]
pub struct PlanSummary {
    workload: super::workload::Workload,
    size: u64,
    part_size: u64,
    payload: super::payload::PayloadMode,
    concurrency: usize,
    duration_secs: Option<f64>,
    ops: Option<u64>,
    warmup_secs: f64,
    objects: u64,
    batch: usize,
    max_keys: u32,
    seed: u64,
    verify_every: u64,
}

impl PlanSummary {
    pub fn of(plan: &Plan) -> PlanSummary {
        let (duration_secs, ops) = match plan.stop {
            Stop::After(d) => (Some(d.as_secs_f64()), None),
            Stop::Ops(n) => (None, Some(n)),
        };
        PlanSummary {
            workload: plan.workload,
            size: plan.size,
            part_size: plan.part_size,
            payload: plan.payload,
            concurrency: plan.concurrency,
            duration_secs,
            ops,
            warmup_secs: plan.warmup.as_secs_f64(),
            objects: plan.objects,
            batch: plan.batch,
            max_keys: plan.max_keys,
            seed: plan.seed,
            verify_every: plan.verify_every,
        }
    }
}

#[derive(Serialize)]
struct RunDocument<'a> {
    schema: &'static str,
    mode: &'static str,
    plan: PlanSummary,
    #[serde(flatten)]
    run: &'a RunReport,
}

/// Writes `--json` for a single run.
pub fn write_run_json(path: &Path, plan: &Plan, run: &RunReport) -> Result<(), String> {
    let document = RunDocument {
        schema: SCHEMA,
        mode: "run",
        plan: PlanSummary::of(plan),
        run,
    };
    write_json(path, &document)
}

pub fn write_json(path: &Path, value: &impl Serialize) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
}

/// One line saying what was measured.
pub fn describe(plan: &Plan) -> String {
    let mut line = format!(
        "{}: {} objects, {} workers, ",
        plan.workload.as_str(),
        format_size(plan.size),
        plan.concurrency
    );
    match plan.stop {
        Stop::After(d) => write!(line, "{:.1} s", d.as_secs_f64()),
        Stop::Ops(n) => write!(line, "{n} operations"),
    }
    .ok();
    if !plan.warmup.is_zero() {
        write!(line, " after {:.1} s of warmup", plan.warmup.as_secs_f64()).ok();
    }
    write!(line, ", payload {}", plan.payload.as_str()).ok();
    if plan.workload.prepares() {
        write!(line, ", {} prepared objects", plan.objects).ok();
    }
    write!(line, ", seed {}", plan.seed).ok();
    line
}

const HEADINGS: [&str; 12] = [
    "op", "ops/s", "MiB/s", "obj/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms",
    "ttfb p50", "ttfb p99", "errors",
];

/// The table of one run, then its error kinds, server usage and problems.
pub fn run_table(run: &RunReport) -> String {
    let mut rows = vec![HEADINGS.map(str::to_owned).to_vec()];
    for f in &run.results {
        let l = &f.latency_ms;
        let ttfb = |pick: fn(&super::stats::Latency) -> f64| {
            f.ttfb_ms.as_ref().map_or("-".to_owned(), |t| ms(pick(t)))
        };
        rows.push(vec![
            f.op.as_str().to_owned(),
            rate(f.ops_per_sec),
            rate(f.mib_per_sec),
            rate(f.objects_per_sec),
            ms(l.p50),
            ms(l.p90),
            ms(l.p99),
            ms(l.p999),
            ms(l.max),
            ttfb(|t| t.p50),
            ttfb(|t| t.p99),
            f.errors.to_string(),
        ]);
    }
    let mut out = align(&rows, 1);
    if run.results.len() > 1 {
        let total: f64 = run.results.iter().map(|f| f.ops_per_sec).sum();
        writeln!(out, "all operations: {} ops/s", rate(total)).ok();
    }
    for f in &run.results {
        for (kind, count) in &f.error_kinds {
            writeln!(out, "{} errors: {count} × {kind}", f.op.as_str()).ok();
        }
    }
    if let Some(server) = &run.server {
        writeln!(
            out,
            "server: {:.2} CPU s ({:.3} s per 1000 ops), peak RSS {}",
            server.cpu_seconds,
            server.cpu_seconds_per_1000_ops,
            format_size(server.peak_rss_bytes)
        )
        .ok();
    }
    if let Some(client) = &run.client {
        writeln!(
            out,
            "client (this process): {:.2} CPU s ({:.3} s per 1000 ops)",
            client.cpu_seconds, client.cpu_seconds_per_1000_ops
        )
        .ok();
    }
    for problem in &run.problems {
        writeln!(out, "{problem}").ok();
    }
    out
}

pub fn rate(value: f64) -> String {
    format!("{value:.1}")
}

pub fn ms(value: f64) -> String {
    format!("{value:.3}")
}

/// Rows as columns, two spaces apart: the first `left` columns left-aligned, the others
/// right-aligned.
pub fn align(rows: &[Vec<String>], left: usize) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        for (c, cell) in row.iter().enumerate() {
            let gap = if c == 0 { "" } else { "  " };
            if c < left {
                write!(out, "{gap}{cell:<w$}", w = widths[c]).ok();
            } else {
                write!(out, "{gap}{cell:>w$}", w = widths[c]).ok();
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let rows = vec![
            vec!["op".to_owned(), "ops/s".to_owned()],
            vec!["multipart".to_owned(), "1.5".to_owned()],
        ];
        assert_eq!(align(&rows, 1), "op         ops/s\nmultipart    1.5\n");
        assert_eq!(align(&rows, 2), "op         ops/s\nmultipart  1.5  \n");
    }
}
