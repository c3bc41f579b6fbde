//! The admin listener: `GET /health` (the process is alive) and `GET /ready` (all listeners
//! bound and the database writer answering; what a load balancer or orchestrator polls;
//! `degraded`, still 200, while the data volume is below its free-space floor) and
//! `GET /metrics` (request, per-operation, connection, scrub and storage metrics in
//! Prometheus text format).

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use serde_json::json;

use crate::http::{full, Body, ConnectionStats};
use crate::state::{Listener, State};

pub async fn handle(
    state: State,
    req: Request<crate::http::RequestBody>,
    peer: std::net::SocketAddr,
) -> Response<Body> {
    match (req.method(), req.uri().path()) {
        (&Method::GET | &Method::HEAD, "/health") => {
            reply(StatusCode::OK, &json!({ "status": "ok" }))
        }
        (&Method::GET | &Method::HEAD, "/ready") => ready(&state).await,
        (&Method::GET | &Method::HEAD, "/metrics") => metrics(&state),
        (_, "/health" | "/ready" | "/metrics") => reply(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({ "error": "MethodNotAllowed", "message": "use GET" }),
        ),
        _ if state.console.is_some() => crate::console::handle(state, req, peer).await,
        _ => reply(
            StatusCode::NOT_FOUND,
            &json!({ "error": "NotFound", "message": "the admin port serves /health, /ready and /metrics (the console is off: backend.admin.console.enabled)" }),
        ),
    }
}

async fn ready(state: &State) -> Response<Body> {
    let mut not_ready: Vec<String> = Listener::ALL
        .into_iter()
        .filter(|l| !state.readiness.is_bound(*l))
        .map(|l| format!("{} listener", l.name()))
        .collect();
    if state.readiness.is_shutting_down() {
        not_ready.push("shutting down".into());
    }
    for (name, db) in [
        ("iam database writer", state.iam.db()),
        ("object index writer", state.objects.db()),
    ] {
        if let Err(e) = db.ping().await {
            tracing::warn!(error = %e, "readiness: the {name} did not answer");
            not_ready.push(name.into());
        }
    }
    if !state.views_fresh() {
        not_ready.push(format!(
            "views not confirmed fresh within {} ms (the cluster notification connection)",
            crate::cluster::STALENESS_BOUND.as_millis()
        ));
    }
    // Short of space the server still serves reads and deletes (which free space): ready,
    // with what is degraded said, so that a balancer keeps sending it the deletes.
    let space = state.blobs.space();
    if not_ready.is_empty() && space.is_low() {
        reply(
            StatusCode::OK,
            &json!({
                "status": "degraded",
                "degraded": ["storage below backend.s3.min_free_bytes: writes refused"],
                "free_bytes": space.free(),
                "min_free_bytes": space.floor(),
            }),
        )
    } else if not_ready.is_empty() {
        reply(StatusCode::OK, &json!({ "status": "ready" }))
    } else {
        reply(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({ "status": "not ready", "not_ready": not_ready }),
        )
    }
}

/// Prometheus text exposition of every family.
fn metrics(state: &State) -> Response<Body> {
    let exposition = render(state);
    let mut response = Response::new(exposition.into_body());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}

/// The `/metrics` text, in chunks: each family once, with its HELP and TYPE lines. Storage per
/// bucket is shared text kept between scrapes (`objects::StorageStats`), not copied.
pub struct Exposition {
    chunks: Vec<Bytes>,
}

impl Exposition {
    /// The whole text (for tests and benchmarks; the listener sends the chunks).
    pub fn text(&self) -> String {
        self.chunks
            .iter()
            .map(|c| String::from_utf8_lossy(c))
            .collect()
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.chunks.iter().map(Bytes::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn into_body(self) -> Body {
        use http_body_util::BodyExt;
        let length = self.len() as u64;
        Chunks {
            chunks: self.chunks.into(),
            remaining: length,
        }
        .boxed()
    }
}

/// A response body of the exposition's chunks, each sent as it is (no copy), with its exact
/// length known (so it is sent with `Content-Length`).
struct Chunks {
    chunks: std::collections::VecDeque<Bytes>,
    remaining: u64,
}

impl hyper::body::Body for Chunks {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, std::io::Error>>> {
        let next = self.chunks.pop_front().map(|chunk| {
            self.remaining -= chunk.len() as u64;
            Ok(hyper::body::Frame::data(chunk))
        });
        std::task::Poll::Ready(next)
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.remaining)
    }
}

/// Every family, as `/metrics` answers it.
pub fn render(state: &State) -> Exposition {
    let mut text = String::with_capacity(64 * 1024);
    text.push_str(
        "# HELP labstore_responses_total Responses sent, by listener and status class.\n\
         # TYPE labstore_responses_total counter\n",
    );
    for listener in Listener::ALL {
        for class in 1..=5 {
            let count = state.metrics.responses(listener, class);
            let name = listener.name();
            text.push_str(&format!(
                "labstore_responses_total{{listener=\"{name}\",class=\"{class}xx\"}} {count}\n"
            ));
        }
    }
    connection_metrics(state, &mut text);
    point_read_metrics(state, &mut text);
    state.metrics.lifecycle.render(&mut text);
    state.metrics.scrub.render(&mut text);
    storage_metrics(state, &mut text);
    state.metrics.requests.render(&mut text);
    state.metrics.access.render(&mut text);
    db_metrics(state, &mut text);
    crate::metrics::blocking::render(&mut text);
    if let Some(audit) = &state.audit {
        audit.render_metrics(&mut text);
    }
    if let Some(watch) = &state.cluster {
        watch.render(&mut text);
    }
    let mut chunks = vec![Bytes::from(text)];
    state.objects.storage_stats().render(&mut chunks);
    let mut text = String::with_capacity(2048);
    crate::metrics::process::render(&mut text);
    crate::metrics::render_build_info(&mut text);
    chunks.push(Bytes::from(text));
    Exposition { chunks }
}

/// Each database's writer and read pool (see `db`).
fn db_metrics(state: &State, text: &mut String) {
    use std::fmt::Write as _;
    use std::sync::atomic::Ordering;
    let dbs = [("iam", state.iam.db()), ("objects", state.objects.db())];
    text.push_str(
        "# HELP labstore_db_writer_queue_depth Writes queued for the database's writer thread, not yet in a group commit.\n\
         # TYPE labstore_db_writer_queue_depth gauge\n",
    );
    for (name, db) in dbs {
        let _ = writeln!(
            text,
            "labstore_db_writer_queue_depth{{db=\"{name}\"}} {}",
            db.queue_depth()
        );
    }
    text.push_str(
        "# HELP labstore_db_writer_batch_tasks Writes committed together in one group transaction.\n\
         # TYPE labstore_db_writer_batch_tasks histogram\n",
    );
    for (name, db) in dbs {
        db.stats().batch_tasks.render(
            text,
            "labstore_db_writer_batch_tasks",
            &format!("db=\"{name}\""),
        );
    }
    text.push_str(
        "# HELP labstore_db_commit_duration_seconds Time of one group transaction, BEGIN to COMMIT returned (durable with fsync on).\n\
         # TYPE labstore_db_commit_duration_seconds histogram\n",
    );
    for (name, db) in dbs {
        db.stats().commit_seconds.render(
            text,
            "labstore_db_commit_duration_seconds",
            &format!("db=\"{name}\""),
        );
    }
    text.push_str(
        "# HELP labstore_db_read_pool_wait_seconds Time a read waited for a pooled read-only connection.\n\
         # TYPE labstore_db_read_pool_wait_seconds histogram\n",
    );
    for (name, db) in dbs {
        db.stats().read_pool_wait_seconds.render(
            text,
            "labstore_db_read_pool_wait_seconds",
            &format!("db=\"{name}\""),
        );
    }
    text.push_str(
        "# HELP labstore_db_read_connections Read-only connections open, by state.\n\
         # TYPE labstore_db_read_connections gauge\n",
    );
    for (name, db) in dbs {
        let (open, idle) = db.read_connections();
        let _ = writeln!(
            text,
            "labstore_db_read_connections{{db=\"{name}\",state=\"idle\"}} {idle}\n\
             labstore_db_read_connections{{db=\"{name}\",state=\"in_use\"}} {}",
            open.saturating_sub(idle)
        );
    }
    text.push_str(
        "# HELP labstore_db_busy_total Calls refused Busy (answered 503): no writer queue slot, or no read connection, within the database's timeout.\n\
         # TYPE labstore_db_busy_total counter\n",
    );
    for (name, db) in dbs {
        let stats = db.stats();
        let _ = writeln!(
            text,
            "labstore_db_busy_total{{db=\"{name}\",queue=\"writer\"}} {}\n\
             labstore_db_busy_total{{db=\"{name}\",queue=\"read_pool\"}} {}",
            stats.busy_writer_queue.load(Ordering::Relaxed),
            stats.busy_read_pool.load(Ordering::Relaxed)
        );
    }
}

/// Each listener's connection counters (see `http::limits`), one metric family at a time.
fn connection_metrics(state: &State, text: &mut String) {
    type Read = fn(&ConnectionStats) -> u64;
    let families: [(&str, &str, &str, Read); 4] = [
        (
            "labstore_connections_open",
            "gauge",
            "Connections being served, by listener.",
            ConnectionStats::open,
        ),
        (
            "labstore_connection_cap_waits_total",
            "counter",
            "Times a listener was at max_connections and paused accepting.",
            ConnectionStats::waits,
        ),
        (
            "labstore_connections_refused_total",
            "counter",
            "Connections closed on arrival: their client address held max_connections_per_client.",
            ConnectionStats::refused,
        ),
        (
            "labstore_body_read_timeouts_total",
            "counter",
            "Requests failed because the client sent no body bytes for body_read_timeout_ms.",
            ConnectionStats::body_timeouts,
        ),
    ];
    for (metric, kind, help, read) in families {
        text.push_str(&format!("# HELP {metric} {help}\n# TYPE {metric} {kind}\n"));
        for listener in Listener::ALL {
            let value = read(state.metrics.connections(listener));
            let name = listener.name();
            text.push_str(&format!("{metric}{{listener=\"{name}\"}} {value}\n"));
        }
    }
}

/// Where the object index's point reads (GET and HEAD lookups) ran, and how often a slow
/// one sent them to the blocking pool (see `db::point`).
fn point_read_metrics(state: &State, text: &mut String) {
    let stats = state.objects.db().point_read_stats();
    text.push_str(&format!(
        "# HELP labstore_point_reads_total Object lookups of GET and HEAD, by where they ran.\n\
         # TYPE labstore_point_reads_total counter\n\
         labstore_point_reads_total{{db=\"objects\",path=\"in_place\"}} {}\n\
         labstore_point_reads_total{{db=\"objects\",path=\"pool\"}} {}\n\
         # HELP labstore_point_read_breaker_trips_total Times a slow or busy lookup sent point reads to the blocking pool for the cool-down.\n\
         # TYPE labstore_point_read_breaker_trips_total counter\n\
         labstore_point_read_breaker_trips_total{{db=\"objects\"}} {}\n",
        stats.in_place, stats.pooled, stats.trips
    ));
}

/// The data volume's free space against the floor (`storage::FreeSpace`).
fn storage_metrics(state: &State, text: &mut String) {
    let space = state.blobs.space();
    text.push_str(&format!(
        "# HELP labstore_storage_free_bytes Bytes available on the data volume at the last reading.\n\
         # TYPE labstore_storage_free_bytes gauge\n\
         labstore_storage_free_bytes {}\n\
         # HELP labstore_storage_min_free_bytes The free-space floor below which writes are refused (0: off).\n\
         # TYPE labstore_storage_min_free_bytes gauge\n\
         labstore_storage_min_free_bytes {}\n\
         # HELP labstore_storage_low Whether the data volume is below the floor (writes refused).\n\
         # TYPE labstore_storage_low gauge\n\
         labstore_storage_low {}\n\
         # HELP labstore_storage_writes_refused_total Writes refused because the data volume was below the floor.\n\
         # TYPE labstore_storage_writes_refused_total counter\n\
         labstore_storage_writes_refused_total {}\n",
        space.free(),
        space.floor(),
        u8::from(space.is_low()),
        space.refused(),
    ));
}

fn reply(status: StatusCode, body: &serde_json::Value) -> Response<Body> {
    let mut response = Response::new(full(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}
