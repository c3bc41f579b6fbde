//! Plumbing shared by the three listeners: the accept/serve loop with graceful draining,
//! HTTPS (a TLS handshake bounded in time before HTTP), connection caps and timeouts
//! (`limits`, `descriptors`), the request body with its idle
//! timeout (`body`), request ids, and response body helpers. Knows nothing of S3, IAM or
//! admin semantics.

mod body;
pub mod descriptors;
mod limits;
pub mod request_id;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

pub use body::{BodyError, RequestBody};
use limits::Clients;
pub use limits::{ConnectionStats, Limits};

/// Every response body: boxed so that handlers can stream (objects) or send a buffer (XML).
pub type Body = BoxBody<Bytes, std::io::Error>;

/// A body holding `bytes`.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// An empty body.
pub fn empty() -> Body {
    full(Bytes::new())
}

/// One listener's serve loop settings.
pub struct Listening {
    /// The listener's name, for logs.
    pub name: &'static str,
    pub limits: Limits,
    /// The listener's counters, shared with `/metrics`.
    pub stats: Arc<ConnectionStats>,
    /// How long in-flight requests may take to finish on shutdown.
    pub grace: Duration,
    /// HTTPS only, with this acceptor (`crate::tls`); `None`: plain HTTP.
    pub tls: Option<TlsAcceptor>,
}

/// In a request's extensions when it arrived over TLS on the listener itself
/// (`aws:SecureTransport`).
#[derive(Debug, Clone, Copy)]
pub struct OverTls;

/// Whether the request whose extensions these are arrived over TLS.
pub fn over_tls(extensions: &http::Extensions) -> bool {
    extensions.get::<OverTls>().is_some()
}

/// The first byte of every TLS connection: a handshake record.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// Accepts connections on `listener` and serves each with `handler` until `shutdown` fires;
/// then stops accepting and waits up to `grace` for in-flight requests to finish. At most
/// `max_connections` are served at once (see `limits` for what happens at the caps).
pub async fn serve<H, F>(
    listener: TcpListener,
    handler: H,
    settings: Listening,
    shutdown: CancellationToken,
) where
    H: Fn(Request<RequestBody>, SocketAddr) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    let Listening {
        name,
        limits,
        stats,
        grace,
        tls,
    } = settings;
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let clients = Arc::new(Clients::default());
    loop {
        let Some(slot) = next_slot(&slots, &stats, &shutdown).await else {
            break;
        };
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Usually EMFILE: back off instead of spinning on the error.
                    tracing::warn!(listener = name, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let client = if limits.exempt.iter().any(|c| c.contains(peer.ip())) {
            None
        } else {
            match clients.admit(peer.ip(), limits.max_connections_per_client) {
                Some(guard) => Some(guard),
                None => {
                    refuse(name, stream, peer, &stats);
                    continue;
                }
            }
        };
        // Without TCP_NODELAY small responses wait ~40 ms on Nagle + delayed ACK.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(listener = name, error = %e, "set TCP_NODELAY failed");
        }
        let connection = Connection {
            name,
            peer,
            idle: limits.body_read_timeout,
            stats: Arc::clone(&stats),
            http: http.clone(),
            watcher: graceful.watcher(),
        };
        let handler = handler.clone();
        let held = (slot, client, stats.opened());
        match &tls {
            None => {
                tokio::spawn(async move {
                    connection.serve(stream, handler, false).await;
                    // The slot, the client's place and the open count are given back here.
                    drop(held);
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let (deadline, shutdown) = (limits.header_read_timeout, shutdown.clone());
                tokio::spawn(async move {
                    let handshake = tokio::select! {
                        () = shutdown.cancelled() => None,
                        done = tokio::time::timeout(deadline, handshake(name, stream, peer, &acceptor)) => {
                            done.unwrap_or_else(|_| {
                                tracing::debug!(listener = name, %peer, "TLS handshake timed out");
                                None
                            })
                        }
                    };
                    if let Some(stream) = handshake {
                        connection.serve(stream, handler, true).await;
                    }
                    drop(held);
                });
            }
        }
    }
    drop(listener);
    tracing::info!(listener = name, "stopped accepting connections; draining");
    match tokio::time::timeout(grace, graceful.shutdown()).await {
        Ok(()) => tracing::info!(listener = name, "all connections drained"),
        Err(_) => tracing::warn!(
            listener = name,
            grace_ms = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX),
            "shutdown deadline passed; closing remaining connections"
        ),
    }
}

/// What serving one accepted connection needs.
struct Connection {
    name: &'static str,
    peer: SocketAddr,
    /// The request body's idle timeout.
    idle: Duration,
    stats: Arc<ConnectionStats>,
    http: hyper::server::conn::http1::Builder,
    /// Tells the connection to finish its request and close on shutdown.
    watcher: Watcher,
}

impl Connection {
    /// Serves HTTP/1.1 on `io` until the client or the shutdown closes it; every request
    /// gets `OverTls` in its extensions when `secure`.
    async fn serve<I, H, F>(self, io: I, handler: H, secure: bool)
    where
        I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
        H: Fn(Request<RequestBody>, SocketAddr) -> F + Clone + Send + Sync + 'static,
        F: Future<Output = Response<Body>> + Send + 'static,
    {
        let Connection {
            name,
            peer,
            idle,
            stats,
            http,
            watcher,
        } = self;
        // One flag per connection: after a timeout the connection closes, so no later
        // request on it can find the flag already set.
        let timed_out = Arc::new(AtomicBool::new(false));
        let service = service_fn(move |req: Request<Incoming>| {
            let flag = Arc::clone(&timed_out);
            let mut req =
                req.map(|body| RequestBody::new(body, idle, Arc::clone(&flag), Arc::clone(&stats)));
            if secure {
                req.extensions_mut().insert(OverTls);
            }
            let response = handler(req, peer);
            async move { Ok::<_, Infallible>(close_if_timed_out(response.await, &flag)) }
        });
        let connection = watcher.watch(http.serve_connection(TokioIo::new(io), service));
        if let Err(e) = connection.await {
            tracing::debug!(listener = name, %peer, error = %e, "connection ended with an error");
        }
    }
}

/// The TLS handshake of a new connection. A client that speaks plain HTTP to the HTTPS port
/// is told so in plain HTTP (a 400, as it can read nothing else) and closed; a failed
/// handshake is the client's problem and logged at debug level only.
async fn handshake(
    name: &'static str,
    stream: TcpStream,
    peer: SocketAddr,
    acceptor: &TlsAcceptor,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    let mut first = [0u8; 1];
    match stream.peek(&mut first).await {
        Ok(1..) if first[0] != TLS_HANDSHAKE_RECORD => {
            tracing::debug!(listener = name, %peer, "plain HTTP on an HTTPS listener; refused");
            const PLAIN: &[u8] = b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\
                Content-Type: text/plain\r\nContent-Length: 39\r\n\r\n\
                This port speaks HTTPS; use https://.\r\n";
            let mut stream = stream;
            let _ = stream.write_all(PLAIN).await;
            let _ = stream.shutdown().await;
            // Reading what the client sent before closing: closing over unread bytes
            // resets the connection, and the client could lose the answer.
            let mut sink = [0u8; 4096];
            let drain = async { while matches!(stream.read(&mut sink).await, Ok(1..)) {} };
            let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
            return None;
        }
        Ok(1..) => {}
        Ok(_) | Err(_) => return None,
    }
    match acceptor.accept(stream).await {
        Ok(tls) => Some(tls),
        Err(e) => {
            tracing::debug!(listener = name, %peer, error = %e, "TLS handshake failed");
            None
        }
    }
}

/// A free connection slot, waiting for one when the listener is full; `None` on shutdown.
async fn next_slot(
    slots: &Arc<Semaphore>,
    stats: &ConnectionStats,
    shutdown: &CancellationToken,
) -> Option<OwnedSemaphorePermit> {
    if let Ok(slot) = Arc::clone(slots).try_acquire_owned() {
        return Some(slot);
    }
    stats.waited();
    tokio::select! {
        () = shutdown.cancelled() => None,
        // The semaphore is never closed.
        slot = Arc::clone(slots).acquire_owned() => slot.ok(),
    }
}

/// Closes a connection from a client over its cap, telling it why when the socket has room:
/// a 503 is what an SDK retries with backoff.
fn refuse(name: &'static str, stream: TcpStream, peer: SocketAddr, stats: &ConnectionStats) {
    stats.refused_one();
    tracing::debug!(listener = name, %peer, "connection refused: the client holds its cap");
    const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\
        Content-Length: 0\r\nRetry-After: 1\r\n\r\n";
    // Never waits: a client that does not read loses the courtesy, not a slot.
    let _ = stream.try_write(BUSY);
    // Dropping the stream is what closes the connection.
    drop(stream);
}

/// After a body timed out, the unread rest of it must not be taken for another request:
/// the response closes the connection, whatever the handler answered.
fn close_if_timed_out(mut response: Response<Body>, timed_out: &AtomicBool) -> Response<Body> {
    if timed_out.load(Ordering::Relaxed) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
