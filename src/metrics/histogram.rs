//! A Prometheus histogram of fixed bucket bounds kept in relaxed atomics: observing is a
//! search of a short array and three adds; cumulative counts are computed when rendered.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// One histogram. Its sum is kept as an integer of `1 / scale` units (microseconds for
/// durations, whole units for counts), so that adding is one atomic add.
pub struct Histogram {
    bounds: &'static [f64],
    /// Per bucket (not cumulative); the last slot is `+Inf`.
    counts: Box<[AtomicU64]>,
    sum: AtomicU64,
    scale: f64,
}

/// Bounds for durations in seconds: 50 µs to 10 s.
pub const SECONDS: &[f64] = &[
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0,
];

/// Bounds for counts of things (tasks in a group commit).
pub const COUNTS: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
];

impl Histogram {
    /// A histogram of durations, observed with `observe_duration`, rendered in seconds.
    pub fn seconds(bounds: &'static [f64]) -> Histogram {
        Histogram::new(bounds, 1e6)
    }

    /// A histogram of counts, observed with `observe_count`.
    pub fn counts(bounds: &'static [f64]) -> Histogram {
        Histogram::new(bounds, 1.0)
    }

    fn new(bounds: &'static [f64], scale: f64) -> Histogram {
        Histogram {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0),
            scale,
        }
    }

    pub fn observe_duration(&self, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.observe(elapsed.as_secs_f64(), micros);
    }

    pub fn observe_count(&self, n: u64) {
        #[expect(clippy::cast_precision_loss, reason = "bucket choice only")]
        let value = n as f64;
        self.observe(value, n);
    }

    fn observe(&self, value: f64, scaled: u64) {
        let slot = self
            .bounds
            .iter()
            .position(|le| value <= *le)
            .unwrap_or(self.bounds.len());
        self.counts[slot].fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(scaled, Ordering::Relaxed);
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// The `_bucket`, `_sum` and `_count` lines of `name` with `labels` (`a="b",c="d"`).
    pub fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (i, count) in self.counts.iter().enumerate() {
            cumulative += count.load(Ordering::Relaxed);
            let _ = match self.bounds.get(i) {
                Some(le) => writeln!(
                    out,
                    "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {cumulative}"
                ),
                None => writeln!(
                    out,
                    "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {cumulative}"
                ),
            };
        }
        #[expect(
            clippy::cast_precision_loss,
            reason = "f64 holds every sum below 2^53 units exactly"
        )]
        let sum = self.sum.load(Ordering::Relaxed) as f64 / self.scale;
        let _ = if labels.is_empty() {
            writeln!(out, "{name}_sum {sum}\n{name}_count {cumulative}")
        } else {
            writeln!(
                out,
                "{name}_sum{{{labels}}} {sum}\n{name}_count{{{labels}}} {cumulative}"
            )
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_the_sum_is_in_base_units() {
        let h = Histogram::seconds(SECONDS);
        h.observe_duration(Duration::from_micros(40));
        h.observe_duration(Duration::from_millis(3));
        h.observe_duration(Duration::from_secs(60));
        let mut out = String::new();
        h.render(&mut out, "x_seconds", "db=\"objects\"");
        assert!(
            out.contains("x_seconds_bucket{db=\"objects\",le=\"0.00005\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("x_seconds_bucket{db=\"objects\",le=\"0.005\"} 2\n"),
            "{out}"
        );
        assert!(
            out.contains("x_seconds_bucket{db=\"objects\",le=\"10\"} 2\n"),
            "{out}"
        );
        assert!(
            out.contains("x_seconds_bucket{db=\"objects\",le=\"+Inf\"} 3\n"),
            "{out}"
        );
        assert!(
            out.contains("x_seconds_sum{db=\"objects\"} 60.00304\n"),
            "{out}"
        );
        assert!(out.contains("x_seconds_count{db=\"objects\"} 3\n"), "{out}");
        let counts = Histogram::counts(COUNTS);
        counts.observe_count(3);
        counts.observe_count(3);
        let mut out = String::new();
        counts.render(&mut out, "n", "db=\"iam\"");
        assert!(out.contains("n_bucket{db=\"iam\",le=\"2\"} 0\n"), "{out}");
        assert!(out.contains("n_bucket{db=\"iam\",le=\"4\"} 2\n"), "{out}");
        assert!(out.contains("n_sum{db=\"iam\"} 6\n"), "{out}");
        assert_eq!(counts.count(), 2);
        let mut out = String::new();
        counts.render(&mut out, "n", "");
        assert!(
            out.contains("n_bucket{le=\"4\"} 2\nn_bucket{le=\"8\"} 2\n"),
            "{out}"
        );
        assert!(out.contains("n_sum 6\nn_count 2\n"), "{out}");
    }
}
