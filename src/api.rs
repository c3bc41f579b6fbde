//! One request skeleton for every API the listeners serve (S3 and IAM; STS later):
//! request id → parse → authenticate → authorize → dispatch → render → decorate. An API supplies the
//! steps (`Api`) and its error type (`ApiError`); `serve` runs them in that order, once, for
//! all of them, so that no API can skip a step, and does what every request needs around
//! them:
//!
//! - a tracing span per request carrying its request id, listener and operation, so every
//!   line the request logs (a 5xx's cause included) can be joined;
//! - one log line per failed request: ERROR with the cause for the server's own failures,
//!   WARN for shed load, INFO for a client's mistake;
//! - the request id header on every response, and `Connection: close` when a refusal may
//!   leave a body unread;
//! - the per-operation metrics (`metrics::RequestMetrics`);
//! - on an audited listener, the request's audit record (`audit`), sent when its response
//!   body ends.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use http::{header, request, HeaderValue, Request, Response};
use tracing::Instrument;

use crate::auth::Caller;
use crate::http::{Body, RequestBody};
use crate::metrics::Counted;
use crate::state::{Listener, State};

/// How the server sees a failed request, for its log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// The server's own failure: logged at ERROR with its cause.
    Server,
    /// Load shed (SlowDown, ServiceUnavailable): WARN.
    Shed,
    /// The client's request was refused (any 4xx, NotImplemented): INFO.
    Client,
}

/// An API's error: its code and message for the log, who is at fault, its cause, and its
/// rendering.
pub(crate) trait ApiError: std::error::Error {
    fn code(&self) -> &str;
    fn fault(&self) -> Fault;
    /// The response for this error to `parts`.
    fn render(&self, parts: &request::Parts, request_id: &str) -> Response<Body>;
    /// Whether the connection must close after this answer: a refusal may leave the body
    /// unread, and its bytes must not be taken for the next request.
    fn closes_connection(&self, parts: &request::Parts) -> bool;
}

/// The steps of one API. Each returns its API's error, which ends the request.
pub(crate) trait Api {
    /// The header that carries the request id (`x-amz-request-id`, `x-amzn-RequestId`).
    const REQUEST_ID_HEADER: &'static str;
    /// The listener whose API this is (the console's in-process requests arrive on the admin
    /// listener and are audited as this one's).
    const LISTENER: Listener;
    /// What `parse` makes of the request: what it addresses, its parsed query or form.
    type Parsed: Send;
    /// Who sent it, as `authenticate` proved.
    type Caller: Send + Sync;
    /// What `authorize` granted, for the checks a handler makes itself.
    type Granted<'a>: Send
    where
        Self: 'a;
    type Error: ApiError + Send + From<crate::db::DbError>;

    fn request_id() -> String;

    async fn parse(
        state: &State,
        parts: &request::Parts,
        body: RequestBody,
    ) -> Result<Self::Parsed, Self::Error>;

    /// The operation's AWS name, if `parse` found one.
    fn operation(parsed: &Self::Parsed) -> Option<&'static str>;

    /// The bucket and key a request addresses, for its audit record.
    fn audit_target(_parsed: &Self::Parsed) -> (Option<&str>, Option<&str>) {
        (None, None)
    }

    /// The authenticated identity behind a caller (`None`: anonymous), for the audit record.
    fn audit_caller(_caller: &Self::Caller) -> Option<&crate::auth::Caller> {
        None
    }

    fn authenticate(
        state: &State,
        parts: &request::Parts,
        parsed: &mut Self::Parsed,
    ) -> Result<Self::Caller, Self::Error>;

    fn authorize<'a>(
        state: &'a State,
        parts: &request::Parts,
        parsed: &Self::Parsed,
        caller: &'a Self::Caller,
        peer: SocketAddr,
    ) -> Result<Self::Granted<'a>, Self::Error>;

    /// Adds what every response of a request needs from its API, errors included (S3's
    /// CORS headers), once the response is made. `parsed` is `None` when parsing refused the
    /// request. It runs on every request: it must cost nothing for those it leaves alone.
    fn decorate(
        _state: &State,
        _parts: &request::Parts,
        _parsed: Option<&Self::Parsed>,
        _response: &mut Response<Body>,
    ) {
    }

    /// Runs the operation and renders its response.
    async fn dispatch<'a>(
        state: &'a State,
        parts: &request::Parts,
        parsed: &mut Self::Parsed,
        granted: Self::Granted<'a>,
        request_id: &str,
    ) -> Result<Response<Body>, Self::Error>;
}

/// The operation name for requests that fail before their operation is known.
const UNKNOWN: &str = "Unknown";

/// Serves one request of API `A` arriving on `listener`.
pub(crate) async fn serve<A: Api>(
    state: State,
    listener: Listener,
    req: Request<RequestBody>,
    peer: SocketAddr,
) -> Response<Body> {
    let started = Instant::now();
    let id = A::request_id();
    let (parts, body) = req.into_parts();
    let received = body.received();
    // The span is made once the request is parsed, with every field it carries: a field
    // recorded into a span later makes the JSON log layer decode and re-encode the span's
    // fields, which cost more than the rest of a HEAD request. Parsing logs nothing itself;
    // its refusal is logged inside the span.
    let parsed = A::parse(&state, &parts, body).await;
    let op = parsed
        .as_ref()
        .ok()
        .and_then(A::operation)
        .unwrap_or(UNKNOWN);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        listener = listener.name(),
        operation = op
    );
    // The console's requests (the admin listener serves no API of its own) are audited when
    // their API's listener is; their records say `admin`.
    let audit = state
        .audit
        .as_ref()
        .filter(|log| {
            log.audits(listener) || (listener == Listener::Admin && log.audits(A::LISTENER))
        })
        .map(Arc::clone);
    async move {
        let run = async {
            match parsed {
                Ok(mut parsed) => {
                    if audit.is_some() {
                        let (bucket, key) = A::audit_target(&parsed);
                        crate::audit::with_facts(|f| {
                            f.bucket = bucket.filter(|b| !b.is_empty()).map(str::to_owned);
                            f.key = key.filter(|k| !k.is_empty()).map(str::to_owned);
                        });
                    }
                    let result =
                        steps::<A>(&state, &parts, &mut parsed, (listener, op, peer), &id).await;
                    (Some(parsed), result)
                }
                Err(e) => (None, Err(e)),
            }
        };
        let ((parsed, result), facts) = match &audit {
            // Boxed: the task-local scope around the steps would otherwise double the size of
            // every request's future (clippy's large_futures).
            Some(_) => Box::pin(crate::audit::gather(run)).await,
            None => (run.await, crate::audit::Facts::default()),
        };
        let error_code = match (&audit, &result) {
            (Some(_), Err(e)) => Some(e.code().to_owned()),
            _ => None,
        };
        let mut response = match result {
            Ok(response) => {
                tracing::debug!(status = response.status().as_u16(), "request served");
                response
            }
            Err(e) => refusal::<A>(&e, &parts, &id),
        };
        A::decorate(&state, &parts, parsed.as_ref(), &mut response);
        if let Ok(v) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(A::REQUEST_ID_HEADER, v);
        }
        let stats = state.metrics.requests.op(listener.name(), op);
        stats.record(response.status().as_u16(), started.elapsed());
        stats.add_received(received.load(Ordering::Relaxed));
        let response = response.map(|body| Counted::wrap(body, stats));
        match audit {
            None => response,
            Some(log) => {
                let origin = crate::authz::context::origin(
                    peer,
                    &parts.headers,
                    &state.trusted_proxies,
                    crate::http::over_tls(&parts.extensions),
                );
                let pending = crate::audit::Pending::new(
                    facts,
                    &id,
                    listener,
                    op,
                    origin.source_ip,
                    response.status().as_u16(),
                    error_code,
                    (started, received),
                );
                response.map(|body| crate::audit::Audited::wrap(body, pending, log))
            }
        }
    }
    .instrument(span)
    .await
}

/// The steps after parsing, in order.
async fn steps<A: Api>(
    state: &State,
    parts: &request::Parts,
    parsed: &mut A::Parsed,
    (listener, op, peer): (Listener, &'static str, SocketAddr),
    request_id: &str,
) -> Result<Response<Body>, A::Error> {
    let access = &state.metrics.access;
    // On PostgreSQL: never authenticate or authorize from views that may miss another node's
    // change for longer than the bound.
    if !state.views_fresh() && !state.wait_views_fresh().await {
        return Err(A::Error::from(crate::db::DbError::Stale));
    }
    let caller = A::authenticate(state, parts, parsed).inspect_err(|e| {
        if e.fault() == Fault::Client {
            access.authentication_failed(listener, e.code());
        }
    })?;
    crate::audit::with_facts(|f| match A::audit_caller(&caller) {
        Some(caller) => {
            f.principal = Some(caller.arn().to_owned());
            f.access_key_id = Some(caller.access_key().to_owned());
        }
        None => f.principal = Some("anonymous".to_owned()),
    });
    let denied = |e: &A::Error| {
        if e.code() == "AccessDenied" {
            access.denied(listener, op, A::audit_caller(&caller).map(Caller::arn));
        }
    };
    let granted = A::authorize(state, parts, parsed, &caller, peer).inspect_err(denied)?;
    // A permission left to the handler (an object's ACL, condition keys read from the
    // index) is refused there, AccessDenied as authorization's own refusals are.
    A::dispatch(state, parts, parsed, granted, request_id)
        .await
        .inspect_err(denied)
}

/// Whether `req` gets through parsing, authentication and authorization; nothing is run. What
/// the console asks before it offers a change (the change itself is a real request, refused
/// there whatever the page offered).
pub(crate) async fn authorizes<A: Api>(
    state: &State,
    req: Request<RequestBody>,
    peer: SocketAddr,
) -> bool {
    let (parts, body) = req.into_parts();
    let Ok(mut parsed) = A::parse(state, &parts, body).await else {
        return false;
    };
    let Ok(caller) = A::authenticate(state, &parts, &mut parsed) else {
        return false;
    };
    let allowed = A::authorize(state, &parts, &parsed, &caller, peer).is_ok();
    allowed
}

/// The causes under `e`, outermost first and `: `-separated; `None` without one.
pub(crate) fn cause_chain(e: &dyn std::error::Error) -> Option<String> {
    let mut cause = e.source()?;
    let mut text = cause.to_string();
    while let Some(next) = cause.source() {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next;
    }
    Some(text)
}

/// Logs a failed request once, and renders its error.
fn refusal<A: Api>(e: &A::Error, parts: &request::Parts, request_id: &str) -> Response<Body> {
    let (method, path) = (&parts.method, parts.uri.path());
    let cause = cause_chain(e);
    match e.fault() {
        Fault::Server => {
            tracing::error!(%method, path, code = e.code(), cause, "request failed");
        }
        Fault::Shed => tracing::warn!(%method, path, code = e.code(), cause, "request shed"),
        Fault::Client => {
            tracing::info!(%method, path, code = e.code(), message = %e, cause, "request refused");
        }
    }
    let mut response = e.render(parts, request_id);
    if e.closes_connection(parts) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
