//! The request body every handler receives: hyper's `Incoming` with an idle timeout. A frame
//! read fails with [`BodyError::Timeout`] once the client has sent nothing for the timeout
//! while a handler waits for more, so a client that announces a large `Content-Length` and
//! then stalls cannot hold its connection (and a descriptor) for ever. It lives here, in the
//! serve loop's module, so that S3, IAM and admin get it without each remembering to.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use tokio::time::{Instant, Sleep};

use super::limits::ConnectionStats;

/// Why a request body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// No bytes arrived for the idle timeout while a handler waited for them.
    #[error("no request body bytes arrived for {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The connection broke or the body was malformed (hyper's error).
    #[error(transparent)]
    Read(#[from] hyper::Error),
}

impl BodyError {
    /// Whether this is the idle timeout, also through the boxed error `Limited` returns.
    pub fn is_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
        matches!(e.downcast_ref::<BodyError>(), Some(BodyError::Timeout(_)))
    }
}

/// A request body whose reads time out when the client goes quiet.
pub struct RequestBody {
    inner: Source,
    idle: Duration,
    /// Armed when a read finds no bytes; rearmed (not reallocated) after progress.
    deadline: Option<Pin<Box<Sleep>>>,
    /// A frame arrived since the deadline was last set: the idle time starts again.
    progressed: bool,
    /// Set on a timeout; the connection's service reads it to close the connection, since
    /// the unread rest of the body must not be taken for the next request.
    timed_out: Arc<AtomicBool>,
    stats: Arc<ConnectionStats>,
    /// Data bytes read so far, for the request metrics.
    received: Arc<AtomicU64>,
}

/// Where a request body's bytes come from.
enum Source {
    /// A client's request, read from its connection.
    Wire(Incoming),
    /// Bytes the server made itself (the console's requests to the APIs): sent once.
    Given(Option<Bytes>),
}

impl RequestBody {
    /// A body of `bytes`, for a request the server makes to one of its own APIs in-process
    /// (the console's). It never waits, so it never times out.
    pub fn from_bytes(bytes: Bytes) -> RequestBody {
        RequestBody {
            inner: Source::Given(Some(bytes).filter(|b| !b.is_empty())),
            idle: Duration::from_secs(3600),
            deadline: None,
            progressed: false,
            timed_out: Arc::default(),
            stats: Arc::default(),
            received: Arc::default(),
        }
    }

    pub(super) fn new(
        inner: Incoming,
        idle: Duration,
        timed_out: Arc<AtomicBool>,
        stats: Arc<ConnectionStats>,
    ) -> RequestBody {
        RequestBody {
            inner: Source::Wire(inner),
            idle,
            deadline: None,
            progressed: false,
            timed_out,
            stats,
            received: Arc::default(),
        }
    }

    /// A handle on the count of data bytes read from this body, valid after it is moved.
    pub fn received(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.received)
    }

    /// Polls the idle deadline, arming it (or moving it forward after progress) first.
    /// The clock runs only while a handler waits for bytes: time a handler spends elsewhere
    /// (writing to disk, waiting for the database) is never held against the client.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let until = Instant::now() + self.idle;
        let deadline = self
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(until)));
        if std::mem::take(&mut self.progressed) {
            deadline.as_mut().reset(until);
        }
        deadline.as_mut().poll(cx)
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        let incoming = match &mut this.inner {
            Source::Wire(incoming) => incoming,
            Source::Given(bytes) => {
                let frame = bytes.take().map(|data| {
                    this.received
                        .fetch_add(data.len() as u64, Ordering::Relaxed);
                    Ok(Frame::data(data))
                });
                return Poll::Ready(frame);
            }
        };
        if let Poll::Ready(frame) = Pin::new(incoming).poll_frame(cx) {
            this.progressed = true;
            if let Some(data) = frame.as_ref().and_then(|f| f.as_ref().ok()?.data_ref()) {
                this.received
                    .fetch_add(data.len() as u64, Ordering::Relaxed);
            }
            return Poll::Ready(frame.map(|f| f.map_err(BodyError::Read)));
        }
        ready!(this.poll_idle(cx));
        if !this.timed_out.swap(true, Ordering::Relaxed) {
            this.stats.body_timed_out();
        }
        Poll::Ready(Some(Err(BodyError::Timeout(this.idle))))
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Source::Wire(incoming) => incoming.is_end_stream(),
            Source::Given(bytes) => bytes.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Source::Wire(incoming) => incoming.size_hint(),
            Source::Given(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
        }
    }
}
