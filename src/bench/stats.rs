//! What a run measured: every successful operation's latency (and time to first byte) kept as
//! whole microseconds, byte and object counts, and every error by kind; merged across workers
//! and turned into the figures the report prints.
//!
//! Percentiles are exact (nearest rank over the sorted samples), not approximated: a `u32` per
//! sample is 4 MB per million operations, which a bounded run affords. A sample saturates at
//! about 71 minutes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::client::OpError;
use super::units::{round_to_u64, to_f64};

/// Distinct error kinds kept per operation; further kinds are counted under "other errors".
const ERROR_KINDS: usize = 16;

/// The operations a run records, each with its own figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Get,
    Head,
    Put,
    Delete,
    List,
    Multipart,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Put => "put",
            Kind::Get => "get",
            Kind::Head => "head",
            Kind::List => "list",
            Kind::Delete => "delete",
            Kind::Multipart => "multipart",
        }
    }
}

/// One operation kind's samples, as one worker (or, merged, the run) recorded them.
#[derive(Debug, Default, Clone)]
pub struct Recorder {
    latency_us: Vec<u32>,
    ttfb_us: Vec<u32>,
    /// Object bytes moved by the measured operations.
    bytes: u64,
    /// Objects (or keys) each operation touched: 1, or a listing page's keys, or a batch.
    objects: u64,
    /// Every failed operation, warmup included: an error is never left out.
    errors: u64,
    error_kinds: BTreeMap<String, u64>,
    /// When the last measured operation ended: where the measured window closes.
    last_end: Option<Instant>,
}

/// What one successful operation did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Done {
    pub bytes: u64,
    pub objects: u64,
    pub ttfb: Option<Duration>,
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

impl Recorder {
    pub fn success(&mut self, latency: Duration, done: Done, end: Instant) {
        self.latency_us.push(micros(latency));
        if let Some(ttfb) = done.ttfb {
            self.ttfb_us.push(micros(ttfb));
        }
        self.bytes += done.bytes;
        self.objects += done.objects;
        self.last_end = self.last_end.max(Some(end));
    }

    pub fn error(&mut self, error: &OpError) {
        self.errors += 1;
        let kind = error.to_string();
        if self.error_kinds.len() < ERROR_KINDS || self.error_kinds.contains_key(&kind) {
            *self.error_kinds.entry(kind).or_default() += 1;
        } else {
            *self.error_kinds.entry("other errors".into()).or_default() += 1;
        }
    }

    pub fn merge(&mut self, other: Recorder) {
        self.latency_us.extend(other.latency_us);
        self.ttfb_us.extend(other.ttfb_us);
        self.bytes += other.bytes;
        self.objects += other.objects;
        self.errors += other.errors;
        for (kind, count) in other.error_kinds {
            *self.error_kinds.entry(kind).or_default() += count;
        }
        self.last_end = self.last_end.max(other.last_end);
    }

    pub fn ops(&self) -> u64 {
        self.latency_us.len() as u64
    }

    pub fn last_end(&self) -> Option<Instant> {
        self.last_end
    }

    /// The figures over a measured window of `seconds`.
    pub fn figures(mut self, kind: Kind, seconds: f64) -> Figures {
        let per_sec = |n: f64| if seconds > 0.0 { n / seconds } else { 0.0 };
        let ttfb = (!self.ttfb_us.is_empty()).then(|| Latency::of(&mut self.ttfb_us));
        Figures {
            op: kind,
            ops: self.ops(),
            seconds,
            ops_per_sec: per_sec(to_f64(self.ops())),
            mib_per_sec: per_sec(to_f64(self.bytes) / (1024.0 * 1024.0)),
            objects_per_sec: per_sec(to_f64(self.objects)),
            bytes: self.bytes,
            objects: self.objects,
            latency_ms: Latency::of(&mut self.latency_us),
            ttfb_ms: ttfb,
            errors: self.errors,
            error_kinds: self.error_kinds,
        }
    }
}

/// One operation's figures. Serialized into `--json` as they are named here.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub op: Kind,
    /// Successful operations that started inside the measured window.
    pub ops: u64,
    /// The measured window: from the end of the warmup to the end of the last operation.
    pub seconds: f64,
    pub ops_per_sec: f64,
    /// Object bytes per second (MiB = 2^20 bytes).
    pub mib_per_sec: f64,
    /// Objects per second: keys listed for `list`, keys deleted for a `delete` batch.
    pub objects_per_sec: f64,
    pub bytes: u64,
    pub objects: u64,
    pub latency_ms: Latency,
    /// Time to first byte (`get`): until the response's status line and headers arrived.
    pub ttfb_ms: Option<Latency>,
    /// Failed operations, warmup included.
    pub errors: u64,
    /// Each kind of failure (`HTTP 503 SlowDown`, `transport: ...`, `verification: ...`) and
    /// how often it happened.
    pub error_kinds: BTreeMap<String, u64>,
}

/// Latency percentiles in milliseconds, exact (nearest rank); all 0 when nothing succeeded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Latency {
    /// Sorts the samples (microseconds) in place.
    pub fn of(samples: &mut [u32]) -> Latency {
        samples.sort_unstable();
        let ms = |us: u32| f64::from(us) / 1000.0;
        let sum: u64 = samples.iter().map(|&us| u64::from(us)).sum();
        Latency {
            mean: if samples.is_empty() {
                0.0
            } else {
                to_f64(sum) / to_f64(samples.len() as u64) / 1000.0
            },
            p50: ms(percentile(samples, 50.0)),
            p90: ms(percentile(samples, 90.0)),
            p99: ms(percentile(samples, 99.0)),
            p999: ms(percentile(samples, 99.9)),
            max: ms(samples.last().copied().unwrap_or(0)),
        }
    }
}

/// The nearest-rank percentile of sorted samples: the smallest sample such that at least `p`
/// percent of the samples are at or below it. 0 for no samples.
pub fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    // In integers (p in thousandths of a percent): 99.9% of 1000 samples is rank 999, where
    // floating point would make it 999.0000000000001 and round up. A NaN `p` counts as 0.
    let thousandths = round_to_u64(p.clamp(0.0, 100.0) * 1000.0).unwrap_or(0);
    // At most `sorted.len()`: thousandths is at most 100,000.
    let rank = (thousandths * sorted.len() as u64).div_ceil(100_000);
    let rank = usize::try_from(rank).unwrap_or(sorted.len());
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median of some figures (the mean of the middle two for an even count); 0 for none.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => sorted[n / 2 - 1].midpoint(sorted[n / 2]),
    }
}

/// Asserts that a computed figure is `expected`, give or take floating-point rounding.
#[cfg(test)]
#[track_caller]
pub(super) fn assert_close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= 1e-9 * expected.abs().max(1.0),
        "{actual} is not {expected}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let hundred: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&hundred, 50.0), 50);
        assert_eq!(percentile(&hundred, 90.0), 90);
        assert_eq!(percentile(&hundred, 99.0), 99);
        assert_eq!(percentile(&hundred, 99.9), 100);
        assert_eq!(percentile(&hundred, 100.0), 100);
        assert_eq!(percentile(&hundred, 0.0), 1);
        let thousand: Vec<u32> = (1..=1000).collect();
        assert_eq!(percentile(&thousand, 99.9), 999);
        assert_eq!(percentile(&[7], 50.0), 7);
        assert_eq!(percentile(&[7], 99.9), 7);
        assert_eq!(percentile(&[1, 2], 50.0), 1);
        assert_eq!(percentile(&[], 50.0), 0);
    }

    #[test]
    fn latency_sorts_and_converts_to_milliseconds() {
        let mut samples = vec![3000, 1000, 2000, 10_000];
        let latency = Latency::of(&mut samples);
        assert_eq!(samples, vec![1000, 2000, 3000, 10_000]);
        assert_close(latency.p50, 2.0);
        assert_close(latency.p90, 10.0);
        assert_close(latency.max, 10.0);
        assert_close(latency.mean, 4.0);
        assert_eq!(Latency::of(&mut []), Latency::default());
    }

    #[test]
    fn recorders_merge_and_count_errors_by_kind() {
        let now = Instant::now();
        let mut a = Recorder::default();
        let done = Done {
            bytes: 1 << 20,
            objects: 1,
            ttfb: Some(Duration::from_millis(1)),
        };
        a.success(Duration::from_millis(4), done, now);
        a.error(&OpError::Transport("reset".into()));
        let mut b = Recorder::default();
        b.success(Duration::from_millis(2), done, now + Duration::from_secs(1));
        b.error(&OpError::Transport("reset".into()));
        for i in 0..20 {
            b.error(&OpError::Verify(format!("kind {i}")));
        }
        a.merge(b);
        assert_eq!(a.ops(), 2);
        assert_eq!(a.errors, 22);
        assert_eq!(a.last_end(), Some(now + Duration::from_secs(1)));
        let figures = a.figures(Kind::Get, 2.0);
        assert_close(figures.ops_per_sec, 1.0);
        assert_close(figures.mib_per_sec, 1.0);
        assert_close(figures.latency_ms.p50, 2.0);
        assert_close(figures.ttfb_ms.unwrap().max, 1.0);
        assert_eq!(figures.error_kinds["transport: reset"], 2);
        assert_eq!(figures.error_kinds.len(), 16 + 1);
        assert_eq!(figures.error_kinds["other errors"], 5);
        assert_eq!(figures.error_kinds.values().sum::<u64>(), 22);
    }

    #[test]
    fn medians() {
        assert_close(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_close(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_close(median(&[]), 0.0);
    }
}
