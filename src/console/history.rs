//! The dashboard's last hour: the request totals (`metrics::RequestMetrics::totals`) sampled
//! every `INTERVAL` into a ring of `SAMPLES`, in memory; rates and latency percentiles are
//! the differences between neighbouring samples. Starts empty at each start.

#![expect(
    clippy::cast_precision_loss,
    reason = "rates and ranks for a chart: a few significant digits are all it draws"
)]

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::metrics::{Totals, LATENCY_BUCKETS};
use crate::state::State;

pub const INTERVAL: Duration = Duration::from_secs(10);
/// An hour of samples (and the one before its first interval).
const SAMPLES: usize = 361;

#[derive(Default)]
pub struct History {
    samples: Mutex<VecDeque<(SystemTime, Totals)>>,
}

/// One interval between two samples, as the charts plot it.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The interval's end.
    pub at: SystemTime,
    pub requests_per_second: f64,
    pub errors_per_second: f64,
    /// Latency percentiles of the interval's requests (the upper bound of the bucket the
    /// percentile falls in), in milliseconds; 0 without requests.
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub received_per_second: f64,
    pub sent_per_second: f64,
}

impl History {
    /// Takes a sample of `totals` now.
    pub fn record(&self, at: SystemTime, totals: Totals) {
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        if samples.len() == SAMPLES {
            samples.pop_front();
        }
        samples.push_back((at, totals));
    }

    /// The intervals between the samples, oldest first.
    pub fn points(&self) -> Vec<Point> {
        let samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        intervals(&samples)
    }

    /// `points`, and the interval from the last sample to `now` (with `current` totals) when
    /// at least a second has passed since: the dashboard is current without waiting for the
    /// next sample.
    pub fn points_until(&self, now: SystemTime, current: Totals) -> Vec<Point> {
        let mut samples = self
            .samples
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let recent = samples.back().is_some_and(|(at, _)| {
            now.duration_since(*at)
                .map_or(true, |d| d < Duration::from_secs(1))
        });
        if !recent {
            samples.push_back((now, current));
        }
        intervals(&samples)
    }
}

fn intervals(samples: &VecDeque<(SystemTime, Totals)>) -> Vec<Point> {
    samples
        .iter()
        .zip(samples.iter().skip(1))
        .map(|((t0, a), (t1, b))| {
            let seconds = t1
                .duration_since(*t0)
                .unwrap_or(INTERVAL)
                .as_secs_f64()
                .max(0.001);
            let per_second = |x: u64, y: u64| y.saturating_sub(x) as f64 / seconds;
            let buckets: Vec<u64> = a
                .latency
                .iter()
                .zip(&b.latency)
                .map(|(x, y)| y.saturating_sub(*x))
                .collect();
            Point {
                at: *t1,
                requests_per_second: per_second(a.requests, b.requests),
                errors_per_second: per_second(
                    a.client_errors + a.server_errors,
                    b.client_errors + b.server_errors,
                ),
                p50_ms: percentile(&buckets, 0.50),
                p99_ms: percentile(&buckets, 0.99),
                received_per_second: per_second(a.received, b.received),
                sent_per_second: per_second(a.sent, b.sent),
            }
        })
        .collect()
}

/// The upper bound (ms) of the bucket holding quantile `q` of `counts`; the last finite bound
/// for the `+Inf` bucket.
fn percentile(counts: &[u64], q: f64) -> f64 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return 0.0;
    }
    let rank = (q * total as f64).ceil().max(1.0);
    let mut seen = 0u64;
    for (i, n) in counts.iter().enumerate() {
        seen += n;
        if seen as f64 >= rank {
            let bound = LATENCY_BUCKETS
                .get(i)
                .or(LATENCY_BUCKETS.last())
                .copied()
                .unwrap_or(0.0);
            return bound * 1000.0;
        }
    }
    0.0
}

/// Samples the request totals every `INTERVAL` until shutdown (only while the console is on).
pub async fn run(state: State, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = shutdown.cancelled() => return,
        }
        state
            .history
            .record(SystemTime::now(), state.metrics.requests.totals());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_percentiles_come_from_neighbouring_samples() {
        let history = History::default();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        history.record(t0, Totals::default());
        let mut b = Totals {
            requests: 100,
            client_errors: 10,
            server_errors: 5,
            received: 1000,
            sent: 5000,
            ..Totals::default()
        };
        // 90 requests within 1 ms, 10 within 250 ms.
        b.latency[1] = 90;
        b.latency[8] = 10;
        history.record(t0 + Duration::from_secs(10), b);
        let points = history.points();
        assert_eq!(points.len(), 1);
        let p = &points[0];
        assert!((p.requests_per_second - 10.0).abs() < 1e-9);
        assert!((p.errors_per_second - 1.5).abs() < 1e-9);
        assert!((p.p50_ms - 1.0).abs() < 1e-9);
        assert!((p.p99_ms - 250.0).abs() < 1e-9);
        assert!((p.sent_per_second - 500.0).abs() < 1e-9);
        for n in 0..SAMPLES + 5 {
            history.record(t0 + Duration::from_secs(20 + n as u64), Totals::default());
        }
        assert_eq!(history.points().len(), SAMPLES - 1, "an hour kept, no more");
    }

    #[test]
    fn the_dashboard_sees_up_to_now_without_waiting_for_a_sample() {
        let history = History::default();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        history.record(t0, Totals::default());
        let now = Totals {
            requests: 50,
            ..Totals::default()
        };
        let points = history.points_until(t0 + Duration::from_secs(5), now.clone());
        assert_eq!(points.len(), 1);
        assert!((points[0].requests_per_second - 10.0).abs() < 1e-9);
        assert!(history
            .points_until(t0 + Duration::from_millis(500), now)
            .is_empty());
        assert!(history.points().is_empty(), "nothing recorded by looking");
    }
}
