//! Per-operation request metrics, recorded by the request skeleton (`api`) for every S3 and
//! IAM request and rendered by the admin listener in Prometheus text format: requests by
//! listener, operation and status code; a latency histogram per operation; bytes received
//! and sent.
//!
//! The hot path takes one read lock to find the operation's counters (created on first use)
//! and then only relaxed atomic adds: no allocation, no lock held while counting.

pub mod blocking;
pub mod histogram;
pub mod process;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};

use crate::http::Body;

/// Upper bounds of the latency histogram's buckets, in seconds (`+Inf` follows).
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Status codes are counted in one slot each from 100 to 599.
const STATUSES: usize = 500;

/// The counters of one operation on one listener.
pub struct OpStats {
    statuses: Box<[AtomicU64; STATUSES]>,
    /// Cumulative counts per bucket are computed at render time; each slot counts the
    /// requests that fell in that bucket only (the last slot is `+Inf`).
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    sum_micros: AtomicU64,
    count: AtomicU64,
    received: AtomicU64,
    sent: AtomicU64,
}

impl OpStats {
    fn new() -> OpStats {
        OpStats {
            statuses: Box::new(std::array::from_fn(|_| AtomicU64::new(0))),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_micros: AtomicU64::new(0),
            count: AtomicU64::new(0),
            received: AtomicU64::new(0),
            sent: AtomicU64::new(0),
        }
    }

    /// One answered request: its status and the time from its head to its response's head.
    pub fn record(&self, status: u16, latency: Duration) {
        let slot = usize::from(status.clamp(100, 599) - 100);
        self.statuses[slot].fetch_add(1, Ordering::Relaxed);
        let seconds = latency.as_secs_f64();
        let bucket = LATENCY_BUCKETS
            .iter()
            .position(|le| seconds <= *le)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add_received(&self, bytes: u64) {
        self.received.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Responses so far with this status.
    pub fn status_count(&self, status: u16) -> u64 {
        let slot = usize::from(status.clamp(100, 599) - 100);
        self.statuses[slot].load(Ordering::Relaxed)
    }

    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
}

/// `RequestMetrics::totals`: counters since start, summed over operations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub requests: u64,
    pub client_errors: u64,
    pub server_errors: u64,
    pub received: u64,
    pub sent: u64,
    /// Requests per latency bucket (`LATENCY_BUCKETS`, then `+Inf`), not cumulative.
    pub latency: [u64; LATENCY_BUCKETS.len() + 1],
}

/// Every operation's counters, by listener and operation name.
#[derive(Default)]
pub struct RequestMetrics {
    ops: RwLock<HashMap<(&'static str, &'static str), Arc<OpStats>>>,
}

impl RequestMetrics {
    /// The counters of `operation` on `listener`, created on first use.
    pub fn op(&self, listener: &'static str, operation: &'static str) -> Arc<OpStats> {
        let key = (listener, operation);
        if let Some(stats) = self.read().get(&key) {
            return Arc::clone(stats);
        }
        let mut ops = self.ops.write().unwrap_or_else(|e| e.into_inner());
        Arc::clone(ops.entry(key).or_insert_with(|| Arc::new(OpStats::new())))
    }

    fn read(
        &self,
    ) -> std::sync::RwLockReadGuard<'_, HashMap<(&'static str, &'static str), Arc<OpStats>>> {
        // Counters stay valid whatever a panicking writer left half done: nothing is lost
        // but an increment.
        self.ops.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Every operation of the S3 and IAM listeners summed (the console's dashboard samples
    /// it): requests, 4xx and 5xx answers, body bytes, and the latency buckets.
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for ((listener, _), op) in self.read().iter() {
            if *listener == "admin" {
                continue;
            }
            t.requests += op.count.load(Ordering::Relaxed);
            for (slot, n) in op.statuses.iter().enumerate() {
                match slot + 100 {
                    400..=499 => t.client_errors += n.load(Ordering::Relaxed),
                    500..=599 => t.server_errors += n.load(Ordering::Relaxed),
                    _ => {}
                }
            }
            t.received += op.received();
            t.sent += op.sent();
            for (total, n) in t.latency.iter_mut().zip(&op.buckets) {
                *total += n.load(Ordering::Relaxed);
            }
        }
        t
    }

    /// The Prometheus text of every family, operations in name order.
    pub fn render(&self, out: &mut String) {
        let mut ops: Vec<((&str, &str), Arc<OpStats>)> = self
            .read()
            .iter()
            .map(|(k, v)| (*k, Arc::clone(v)))
            .collect();
        ops.sort_by(|a, b| a.0.cmp(&b.0));
        out.push_str(
            "# HELP labstore_requests_total Requests answered, by listener, operation and status code.\n\
             # TYPE labstore_requests_total counter\n",
        );
        for ((listener, op), stats) in &ops {
            for (slot, count) in stats.statuses.iter().enumerate() {
                let count = count.load(Ordering::Relaxed);
                if count > 0 {
                    let code = slot + 100;
                    let _ = writeln!(
                        out,
                        "labstore_requests_total{{listener=\"{listener}\",operation=\"{op}\",code=\"{code}\"}} {count}"
                    );
                }
            }
        }
        out.push_str(
            "# HELP labstore_request_duration_seconds Time from a request's head to its response's head, by listener and operation.\n\
             # TYPE labstore_request_duration_seconds histogram\n",
        );
        for ((listener, op), stats) in &ops {
            let labels = format!("listener=\"{listener}\",operation=\"{op}\"");
            let mut cumulative = 0;
            for (i, bucket) in stats.buckets.iter().enumerate() {
                cumulative += bucket.load(Ordering::Relaxed);
                let le = LATENCY_BUCKETS
                    .get(i)
                    .map_or_else(|| "+Inf".to_owned(), |le| le.to_string());
                let _ = writeln!(
                    out,
                    "labstore_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}"
                );
            }
            #[expect(
                clippy::cast_precision_loss,
                reason = "f64 holds every sum below 2^53 microseconds (285 years) exactly"
            )]
            let sum = stats.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let count = stats.count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "labstore_request_duration_seconds_sum{{{labels}}} {sum}\n\
                 labstore_request_duration_seconds_count{{{labels}}} {count}"
            );
        }
        for (metric, help, read) in [
            (
                "labstore_request_body_bytes_total",
                "Request body bytes received, by listener and operation.",
                OpStats::received as fn(&OpStats) -> u64,
            ),
            (
                "labstore_response_body_bytes_total",
                "Response body bytes sent, by listener and operation.",
                OpStats::sent,
            ),
        ] {
            let _ = writeln!(out, "# HELP {metric} {help}\n# TYPE {metric} counter");
            for ((listener, op), stats) in &ops {
                let _ = writeln!(
                    out,
                    "{metric}{{listener=\"{listener}\",operation=\"{op}\"}} {}",
                    read(stats)
                );
            }
        }
    }
}

/// Refused requests, for an operator watching for attacks and misconfigured clients:
/// authentication failures by listener and error code (a bounded set: the codes of the APIs'
/// tables), and authorization denials by listener and operation (a fixed set: the operation
/// tables). Not the hot path: a mutex per listener.
#[derive(Default)]
pub struct AccessMetrics {
    failures: [Mutex<BTreeMap<String, u64>>; 3],
    denials: [Mutex<BTreeMap<&'static str, u64>>; 3],
    /// The last `RECENT_DENIALS` denials, newest last (the console's dashboard shows them).
    recent: Mutex<std::collections::VecDeque<Denial>>,
}

/// One authorization denial, as the dashboard lists it.
#[derive(Debug, Clone)]
pub struct Denial {
    pub at: std::time::SystemTime,
    pub listener: &'static str,
    pub operation: &'static str,
    /// The caller's ARN; `anonymous` for an unsigned request.
    pub principal: String,
}

const RECENT_DENIALS: usize = 50;

impl AccessMetrics {
    /// A request whose credentials or signature were refused, with its error code.
    pub fn authentication_failed(&self, listener: crate::state::Listener, code: &str) {
        let mut map = self.failures[listener as usize]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match map.get_mut(code) {
            Some(n) => *n += 1,
            None => {
                map.insert(code.to_owned(), 1);
            }
        }
    }

    /// An authenticated (or anonymous) request that the policies did not allow.
    pub fn denied(
        &self,
        listener: crate::state::Listener,
        operation: &'static str,
        principal: Option<&str>,
    ) {
        let mut map = self.denials[listener as usize]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *map.entry(operation).or_insert(0) += 1;
        drop(map);
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() == RECENT_DENIALS {
            recent.pop_front();
        }
        recent.push_back(Denial {
            at: std::time::SystemTime::now(),
            listener: listener.name(),
            operation,
            principal: principal.unwrap_or("anonymous").to_owned(),
        });
    }

    /// The recent denials, newest first.
    pub fn recent_denials(&self) -> Vec<Denial> {
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.iter().rev().cloned().collect()
    }

    pub fn render(&self, out: &mut String) {
        use crate::state::Listener;
        out.push_str(
            "# HELP labstore_auth_failures_total Requests refused by authentication (bad signature, unknown or inactive key, expired token...), by listener and error code.\n\
             # TYPE labstore_auth_failures_total counter\n",
        );
        for listener in Listener::ALL {
            let map = self.failures[listener as usize]
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            for (code, n) in map.iter() {
                let _ = writeln!(
                    out,
                    "labstore_auth_failures_total{{listener=\"{}\",code=\"{}\"}} {n}",
                    listener.name(),
                    escape_label(code)
                );
            }
        }
        out.push_str(
            "# HELP labstore_authz_denials_total Requests refused AccessDenied by authorization (policies, bucket policy, ACLs), by listener and operation.\n\
             # TYPE labstore_authz_denials_total counter\n",
        );
        for listener in Listener::ALL {
            let map = self.denials[listener as usize]
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            for (op, n) in map.iter() {
                let _ = writeln!(
                    out,
                    "labstore_authz_denials_total{{listener=\"{}\",operation=\"{op}\"}} {n}",
                    listener.name()
                );
            }
        }
    }
}

/// A label value as the exposition format writes it: `\`, `"` and newlines escaped.
pub fn escape_label(value: &str) -> std::borrow::Cow<'_, str> {
    if value.contains(['\\', '"', '\n']) {
        std::borrow::Cow::Owned(
            value
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n"),
        )
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

/// `labstore_build_info`: the version, as a gauge of 1.
pub fn render_build_info(out: &mut String) {
    let _ = writeln!(
        out,
        "# HELP labstore_build_info The running binary's version.\n\
         # TYPE labstore_build_info gauge\n\
         labstore_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
}

/// A response body that counts the bytes it yields into its operation's `sent` counter.
pub struct Counted {
    inner: Body,
    stats: Arc<OpStats>,
}

impl Counted {
    pub fn wrap(inner: Body, stats: Arc<OpStats>) -> Body {
        use http_body_util::BodyExt;
        Counted { inner, stats }.boxed()
    }
}

impl HttpBody for Counted {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                self.stats
                    .sent
                    .fetch_add(data.len() as u64, Ordering::Relaxed);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[test]
    fn counts_render_as_prometheus_families() {
        let metrics = RequestMetrics::default();
        let get = metrics.op("s3", "GetObject");
        get.record(200, Duration::from_micros(300));
        get.record(200, Duration::from_millis(3));
        get.record(404, Duration::from_secs(20));
        get.add_received(7);
        let mut text = String::new();
        metrics.render(&mut text);
        for line in [
            "labstore_requests_total{listener=\"s3\",operation=\"GetObject\",code=\"200\"} 2",
            "labstore_requests_total{listener=\"s3\",operation=\"GetObject\",code=\"404\"} 1",
            "labstore_request_duration_seconds_bucket{listener=\"s3\",operation=\"GetObject\",le=\"0.0005\"} 1",
            "labstore_request_duration_seconds_bucket{listener=\"s3\",operation=\"GetObject\",le=\"0.005\"} 2",
            "labstore_request_duration_seconds_bucket{listener=\"s3\",operation=\"GetObject\",le=\"10\"} 2",
            "labstore_request_duration_seconds_bucket{listener=\"s3\",operation=\"GetObject\",le=\"+Inf\"} 3",
            "labstore_request_duration_seconds_count{listener=\"s3\",operation=\"GetObject\"} 3",
            "labstore_request_body_bytes_total{listener=\"s3\",operation=\"GetObject\"} 7",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        assert!(Arc::ptr_eq(&get, &metrics.op("s3", "GetObject")));
    }

    #[tokio::test]
    async fn a_counted_body_adds_what_it_yields() {
        let metrics = RequestMetrics::default();
        let stats = metrics.op("iam", "ListUsers");
        let body = Counted::wrap(crate::http::full("twelve bytes"), Arc::clone(&stats));
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!((bytes.len(), stats.sent()), (12, 12));
    }
}
