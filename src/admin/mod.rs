//! The admin listener: `GET /health` (the process is alive) and `GET /ready` (all listeners
//! bound and the database writer answering; what a load balancer or orchestrator polls;
//! `degraded`, still 200, while the data volume is below its free-space floor) and
//! `GET /metrics` (request, per-operation, connection, scrub and storage metrics in
//! Prometheus text format).

use http::{header, Method, Request, Response, StatusCode};
use serde_json::json;

use crate::http::{full, Body, ConnectionStats};
use crate::state::{Listener, State};

pub async fn handle<B>(state: State, req: Request<B>) -> Response<Body> {
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
        _ => reply(
            StatusCode::NOT_FOUND,
            &json!({ "error": "NotFound", "message": "the admin port serves /health, /ready and /metrics" }),
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

/// Prometheus text exposition of the request and connection counters.
fn metrics(state: &State) -> Response<Body> {
    let mut text = String::from(
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
    let mut response = Response::new(full(text));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
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
