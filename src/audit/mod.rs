//! The audit trail (`docs/operations.md`, "Audit log"): one JSON line per S3, IAM and STS
//! request on a listener with `backend.<listener>.audit` on: when, which request, who (the
//! principal's ARN and access key id, never a secret), from where, what (bucket and key, or
//! the resource an IAM or STS action was authorized on), the decision and what made it, the
//! status and error code, bytes in and out, and how long it took.
//!
//! The request skeleton (`api::serve`) opens a `Facts` slot for each audited request (a
//! task-local, so that authorization can say what decided without every API passing it
//! along), and the record is sent when the response body has been sent or dropped. Records go
//! through one bounded queue to one sink (`sink`): a file with size-based rotation, standard
//! output, or an HTTP webhook. A request never waits on the trail: a full queue drops the
//! record and counts it.

mod sink;
mod webhook;

use std::cell::RefCell;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use serde::Serialize;

use crate::config::Config;
use crate::http::Body;
use crate::state::Listener;

pub use sink::SinkError;

tokio::task_local! {
    /// The facts of the audited request this task is serving.
    static FACTS: RefCell<Facts>;
}

/// What a request's steps learn that its record needs, gathered as they run.
#[derive(Debug, Default)]
pub struct Facts {
    pub principal: Option<String>,
    pub access_key_id: Option<String>,
    pub bucket: Option<String>,
    pub key: Option<String>,
    decided: Option<Decided>,
}

/// One authorization decision: the action, the resource, allowed or not, and what made it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decided {
    action: String,
    resource: String,
    allowed: bool,
    by: String,
}

impl Facts {
    /// Keeps the decision that tells what happened: a later decision on the same action and
    /// resource replaces an earlier one (an ACL grant after a policy's implicit deny); a
    /// denial replaces an allow of another action (the request failed on it); otherwise the
    /// first decision stands (a copy's destination before its source).
    fn decide(&mut self, decided: Decided) {
        let replace = match &self.decided {
            None => true,
            Some(old) if old.action == decided.action && old.resource == decided.resource => true,
            Some(old) => old.allowed && !decided.allowed,
        };
        if replace {
            self.decided = Some(decided);
        }
    }
}

/// Whether the current task serves an audited request: callers use it to skip work whose
/// only use is the record.
pub fn active() -> bool {
    FACTS.try_with(|_| ()).is_ok()
}

/// Records an authorization decision for the audited request this task serves, if any;
/// `by` (what decided) is built only then.
pub fn decided(action: &str, resource: &str, allowed: bool, by: impl FnOnce() -> String) {
    let _ = FACTS.try_with(|facts| {
        facts.borrow_mut().decide(Decided {
            action: action.to_owned(),
            resource: resource.to_owned(),
            allowed,
            by: by(),
        });
    });
}

/// Updates the facts of the audited request this task serves, if any.
pub fn with_facts(f: impl FnOnce(&mut Facts)) {
    let _ = FACTS.try_with(|facts| f(&mut facts.borrow_mut()));
}

/// Runs `future` with a fresh facts slot, and returns the facts it gathered beside its
/// output.
pub async fn gather<F: std::future::Future>(future: F) -> (F::Output, Facts) {
    FACTS
        .scope(RefCell::new(Facts::default()), async move {
            let out = future.await;
            let facts = FACTS.with(|f| std::mem::take(&mut *f.borrow_mut()));
            (out, facts)
        })
        .await
}

/// One line of the trail.
#[derive(Debug, Serialize)]
pub struct Record {
    /// RFC 3339, UTC, milliseconds (formatted by the sink's thread, off the request's path).
    #[serde(serialize_with = "rfc3339_millis")]
    pub time: SystemTime,
    pub request_id: String,
    pub listener: &'static str,
    pub operation: &'static str,
    pub principal: Option<String>,
    pub access_key_id: Option<String>,
    pub source_ip: IpAddr,
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// The action authorized and the resource it was authorized on (for IAM and STS, the
    /// target: a user's, group's, role's or policy's ARN).
    pub action: Option<String>,
    pub resource: Option<String>,
    /// `allow`, `deny`, or none when the request ended before authorization (a malformed or
    /// unauthenticated request).
    pub decision: Option<&'static str>,
    /// What decided: `root`, a policy and statement, `bucket policy statement …`, `bucket
    /// ACL`, `no statement allows`, ….
    pub decided_by: Option<String>,
    pub status: u16,
    pub error_code: Option<String>,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// From the request's head to the end (or abandonment) of its response body.
    pub duration_ms: f64,
}

fn rfc3339_millis<S: serde::Serializer>(time: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::timefmt::iso8601_millis(*time))
}

/// A request's record, completed when its response body ends.
pub struct Pending {
    pub record: Record,
    pub started: Instant,
    pub received: Arc<AtomicU64>,
}

impl Pending {
    /// The record of a request answered `status` (with `error_code`), from its facts.
    #[expect(
        clippy::too_many_arguments,
        reason = "the pieces of one record, each from another step of the skeleton"
    )]
    pub fn new(
        facts: Facts,
        request_id: &str,
        listener: Listener,
        operation: &'static str,
        source_ip: IpAddr,
        status: u16,
        error_code: Option<String>,
        (started, received): (Instant, Arc<AtomicU64>),
    ) -> Pending {
        let Facts {
            principal,
            access_key_id,
            bucket,
            key,
            decided,
        } = facts;
        let (action, resource, decision, decided_by) = match decided {
            Some(d) => (
                Some(d.action),
                Some(d.resource),
                Some(if d.allowed { "allow" } else { "deny" }),
                Some(d.by),
            ),
            None => (None, None, None, None),
        };
        Pending {
            record: Record {
                time: SystemTime::now(),
                request_id: request_id.to_owned(),
                listener: listener.name(),
                operation,
                principal,
                access_key_id,
                source_ip,
                bucket,
                key,
                action,
                resource,
                decision,
                decided_by,
                status,
                error_code,
                bytes_in: 0,
                bytes_out: 0,
                duration_ms: 0.0,
            },
            started,
            received,
        }
    }
}

/// The trail: which listeners are audited, and the queue to the sink.
pub struct AuditLog {
    listeners: [bool; 3],
    queue: sink::Queue,
    pub counters: Arc<Counters>,
}

/// What `/metrics` shows of the trail.
#[derive(Debug, Default)]
pub struct Counters {
    /// Records written by the sink (a file or standard output), or accepted by the webhook.
    pub written: AtomicU64,
    /// Records dropped: the queue was full, or the sink failed to take them.
    pub dropped: AtomicU64,
}

impl AuditLog {
    /// The trail `config` asks for, its sink started; `None` when no listener is audited.
    pub fn start(config: &Config) -> Result<Option<Arc<AuditLog>>, SinkError> {
        let backend = &config.backend;
        let listeners = [false, backend.iam.audit, backend.s3.audit];
        if !listeners.iter().any(|l| *l) {
            return Ok(None);
        }
        let counters = Arc::new(Counters::default());
        let queue = sink::start(&backend.audit, Arc::clone(&counters))?;
        Ok(Some(Arc::new(AuditLog {
            listeners,
            queue,
            counters,
        })))
    }

    pub fn audits(&self, listener: Listener) -> bool {
        self.listeners[listener as usize]
    }

    /// Queues a finished record; a full queue drops it (counted): requests never wait.
    fn send(&self, record: Record) {
        if !self.queue.offer(record) {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Waits (at most `limit`) for the sink to write what is queued: at shutdown.
    pub fn flush(&self, limit: std::time::Duration) {
        self.queue.flush(limit);
    }

    /// The trail's lines of `/metrics`.
    pub fn render_metrics(&self, text: &mut String) {
        use std::fmt::Write as _;
        let _ = writeln!(
            text,
            "# HELP labstore_audit_records_total Audit records written by the sink.\n\
             # TYPE labstore_audit_records_total counter\n\
             labstore_audit_records_total {}\n\
             # HELP labstore_audit_dropped_total Audit records dropped: the queue was full or the sink failed.\n\
             # TYPE labstore_audit_dropped_total counter\n\
             labstore_audit_dropped_total {}",
            self.counters.written.load(Ordering::Relaxed),
            self.counters.dropped.load(Ordering::Relaxed),
        );
    }
}

/// A response body that sends its request's record when it ends or is dropped.
pub struct Audited {
    inner: Body,
    sent: u64,
    pending: Option<Box<Pending>>,
    log: Arc<AuditLog>,
}

impl Audited {
    pub fn wrap(inner: Body, pending: Pending, log: Arc<AuditLog>) -> Body {
        use http_body_util::BodyExt;
        Audited {
            inner,
            sent: 0,
            pending: Some(Box::new(pending)),
            log,
        }
        .boxed()
    }

    fn finish(&mut self) {
        if let Some(pending) = self.pending.take() {
            let Pending {
                mut record,
                started,
                received,
            } = *pending;
            record.bytes_out = self.sent;
            record.bytes_in = received.load(Ordering::Relaxed);
            // To the microsecond: `1.843`, not the float's every digit.
            record.duration_ms = (started.elapsed().as_secs_f64() * 1e6).round() / 1e3;
            self.log.send(record);
        }
    }
}

impl HttpBody for Audited {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.sent += data.len() as u64;
                }
                if self.inner.is_end_stream() {
                    self.finish();
                }
            }
            Poll::Ready(_) => self.finish(),
            Poll::Pending => {}
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

impl Drop for Audited {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests;
