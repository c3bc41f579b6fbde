//! `--compare`: the same plan against two endpoints, interleaved A B B A per round so that
//! drift (page cache, thermal, neighbours) weighs on both alike; each figure's median per
//! endpoint and the ratio B/A.

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use serde::Serialize;

use super::report::{align, ms, rate, PlanSummary, SCHEMA};
use super::run::{run, RunOptions, RunReport, Target};
use super::stats::{median, Figures, Latency};
use super::units::{format_bytes, to_f64};
use super::workload::Plan;

/// Both sides' runs and the medians, as `--json` records them (see `report`).
#[derive(Debug, Serialize)]
pub struct Comparison {
    pub schema: &'static str,
    pub mode: &'static str,
    pub plan: PlanSummary,
    pub rounds: u32,
    pub a: Side,
    pub b: Side,
    pub medians: Vec<Median>,
    pub errors: u64,
}

#[derive(Debug, Serialize)]
pub struct Side {
    pub endpoint: String,
    pub runs: Vec<RunReport>,
}

/// One figure of one operation on both sides.
#[derive(Debug, Clone, Serialize)]
pub struct Median {
    /// The operation, or `server` for `--pid` figures.
    pub op: String,
    pub figure: &'static str,
    pub a: f64,
    pub b: f64,
    /// b / a; `None` when a is 0.
    pub ratio: Option<f64>,
}

type Pick = fn(&Figures) -> Option<f64>;

/// The per-operation figures compared by their median.
const FIGURES: [(&str, Pick); 10] = [
    ("ops/s", |f| Some(f.ops_per_sec)),
    ("MiB/s", |f| Some(f.mib_per_sec)),
    ("obj/s", |f| Some(f.objects_per_sec)),
    ("p50 ms", |f| Some(f.latency_ms.p50)),
    ("p90 ms", |f| Some(f.latency_ms.p90)),
    ("p99 ms", |f| Some(f.latency_ms.p99)),
    ("p99.9 ms", |f| Some(f.latency_ms.p999)),
    ("max ms", |f| Some(f.latency_ms.max)),
    ("ttfb p50 ms", |f| {
        f.ttfb_ms.as_ref().map(|t: &Latency| t.p50)
    }),
    ("ttfb p99 ms", |f| {
        f.ttfb_ms.as_ref().map(|t: &Latency| t.p99)
    }),
];

/// Runs the plan `rounds` times in the order A B B A. Stops at the first run that cannot be
/// set up.
pub async fn compare(
    targets: [&Target; 2],
    plan: &Plan,
    options: &RunOptions<'_>,
    rounds: u32,
) -> Result<Comparison, String> {
    let mut runs: [Vec<RunReport>; 2] = [Vec::new(), Vec::new()];
    let total = rounds * 4;
    for (n, side) in (0..rounds).flat_map(|_| [0, 1, 1, 0]).enumerate() {
        let name = ["A", "B"][side];
        let label = format!("[{name} {}/{total}] ", n + 1);
        if options.interrupted.load(Relaxed) {
            return Err(format!("interrupted before run {}", n + 1));
        }
        let options = RunOptions {
            label: label.clone(),
            interrupted: Arc::clone(&options.interrupted),
            ..*options
        };
        let report = run(targets[side], plan, &options)
            .await
            .map_err(|e| format!("{label}{e}"))?;
        println!("{label}{}", summary(&report));
        runs[side].push(report);
    }
    let [a, b] = runs;
    let medians = medians(&a, &b);
    let errors = a.iter().chain(&b).map(|r| r.errors).sum();
    let endpoint = |i: usize| targets[i].client.endpoint().authority.clone();
    Ok(Comparison {
        schema: SCHEMA,
        mode: "compare",
        plan: PlanSummary::of(plan),
        rounds,
        a: Side {
            endpoint: endpoint(0),
            runs: a,
        },
        b: Side {
            endpoint: endpoint(1),
            runs: b,
        },
        medians,
        errors,
    })
}

/// One line per run: each operation's rate, median latency and errors.
fn summary(report: &RunReport) -> String {
    let mut line = String::new();
    for f in &report.results {
        write!(
            line,
            "{} {} ops/s, p50 {} ms, {} errors; ",
            f.op.as_str(),
            rate(f.ops_per_sec),
            ms(f.latency_ms.p50),
            f.errors
        )
        .ok();
    }
    line.trim_end_matches("; ").to_owned()
}

fn medians(a: &[RunReport], b: &[RunReport]) -> Vec<Median> {
    let mut ops: Vec<_> = a
        .iter()
        .chain(b)
        .flat_map(|r| r.results.iter().map(|f| f.op))
        .collect();
    ops.sort_unstable();
    ops.dedup();
    let row = |op: &str, figure, a: f64, b: f64| Median {
        op: op.to_owned(),
        figure,
        a,
        b,
        ratio: (a != 0.0).then(|| b / a),
    };
    let mut out = Vec::new();
    for op in ops {
        let figures = |runs: &[RunReport]| -> Vec<Figures> {
            let of_op = |r: &RunReport| r.results.iter().find(|f| f.op == op).cloned();
            runs.iter().filter_map(of_op).collect()
        };
        let (fa, fb) = (figures(a), figures(b));
        for (name, pick) in FIGURES {
            let values = |fs: &[Figures]| fs.iter().filter_map(pick).collect::<Vec<f64>>();
            let (va, vb) = (values(&fa), values(&fb));
            if va.is_empty() && vb.is_empty() {
                continue;
            }
            out.push(row(op.as_str(), name, median(&va), median(&vb)));
        }
        let errors = |fs: &[Figures]| fs.iter().map(|f| to_f64(f.errors)).sum::<f64>();
        out.push(row(op.as_str(), "errors", errors(&fa), errors(&fb)));
    }
    let servers = |runs: &[RunReport]| runs.iter().filter_map(|r| r.server).collect::<Vec<_>>();
    let (sa, sb) = (servers(a), servers(b));
    if !sa.is_empty() || !sb.is_empty() {
        let cpu = |s: &[super::run::ServerUsage]| {
            median(
                &s.iter()
                    .map(|u| u.cpu_seconds_per_1000_ops)
                    .collect::<Vec<_>>(),
            )
        };
        let rss = |s: &[super::run::ServerUsage]| {
            s.iter()
                .map(|u| to_f64(u.peak_rss_bytes))
                .fold(0.0, f64::max)
        };
        out.push(row("server", "cpu s/1000 ops", cpu(&sa), cpu(&sb)));
        out.push(row("server", "peak_rss_bytes", rss(&sa), rss(&sb)));
    }
    let client = |runs: &[RunReport]| {
        let per_1000: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.client.map(|c| c.cpu_seconds_per_1000_ops))
            .collect();
        (!per_1000.is_empty()).then(|| median(&per_1000))
    };
    if let (Some(ca), Some(cb)) = (client(a), client(b)) {
        out.push(row("client", "cpu s/1000 ops", ca, cb));
    }
    out
}

/// The comparison table: per operation and figure, A's and B's median and B/A.
pub fn table(comparison: &Comparison) -> String {
    let mut rows = vec![vec![
        "op".to_owned(),
        "figure".to_owned(),
        format!("A {}", comparison.a.endpoint),
        format!("B {}", comparison.b.endpoint),
        "B/A".to_owned(),
    ]];
    for m in &comparison.medians {
        let value = |v: f64| match m.figure {
            "errors" => format!("{v}"),
            "peak_rss_bytes" => format_bytes(v),
            f if f.ends_with("ms") => ms(v),
            "cpu s/1000 ops" => format!("{v:.4}"),
            _ => rate(v),
        };
        let figure = match m.figure {
            "peak_rss_bytes" => "peak RSS",
            "errors" => "errors (total)",
            f => f,
        };
        rows.push(vec![
            m.op.clone(),
            figure.to_owned(),
            value(m.a),
            value(m.b),
            m.ratio.map_or("-".to_owned(), |r| format!("{r:.3}")),
        ]);
    }
    let mut out = format!(
        "medians over {} runs per endpoint (order A B B A per round)\n",
        comparison.rounds * 2
    );
    out.push_str(&align(&rows, 2));
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::bench::stats::{assert_close, Kind};

    fn report(ops_per_sec: f64, errors: u64) -> RunReport {
        let latency = Latency {
            p50: ops_per_sec / 100.0,
            ..Latency::default()
        };
        RunReport {
            endpoint: "e".into(),
            bucket: "b".into(),
            results: vec![Figures {
                op: Kind::Get,
                ops: 1,
                seconds: 1.0,
                ops_per_sec,
                mib_per_sec: 0.0,
                objects_per_sec: ops_per_sec,
                bytes: 0,
                objects: 1,
                latency_ms: latency,
                ttfb_ms: Some(latency),
                errors,
                error_kinds: BTreeMap::new(),
            }],
            server: None,
            client: None,
            problems: vec![],
            errors,
        }
    }

    #[test]
    fn medians_per_side_and_ratios() {
        let a = [report(100.0, 0), report(300.0, 1), report(200.0, 0)];
        let b = [report(400.0, 0), report(500.0, 2)];
        let medians = medians(&a, &b);
        let find = |figure: &str| medians.iter().find(|m| m.figure == figure).unwrap();
        let ops = find("ops/s");
        assert_close(ops.a, 200.0);
        assert_close(ops.b, 450.0);
        assert_close(ops.ratio.unwrap(), 2.25);
        assert_close(find("ttfb p50 ms").b, 4.5);
        let errors = find("errors");
        assert_close(errors.a, 1.0);
        assert_close(errors.b, 2.0);
        assert_eq!(find("MiB/s").ratio, None, "no ratio over 0");
        assert!(medians.iter().all(|m| m.op == "get"));
    }
}
