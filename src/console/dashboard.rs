//! The dashboard: the last hour's request rate, errors, latency and throughput (sampled by
//! `history`, drawn by `svg`), storage per bucket the principal may list, and recent
//! authorization denials. Request figures are what `/metrics` serves to anyone who can reach
//! the admin port, so any signed-in principal sees them; the denials name principals and are
//! shown only to one allowed `cloudtrail:LookupEvents` (the audit trail is this server's
//! CloudTrail), the account root included.

use askama::Template;
use http::{Response, StatusCode};

use super::session::Flash;
use super::{svg, Ctx, Layout};
use crate::http::Body;

pub struct DenialRow {
    pub at: String,
    pub listener: &'static str,
    pub operation: &'static str,
    pub principal: String,
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct DashboardPage {
    principal: Option<String>,
    csrf: String,
    flash: Option<Flash>,
    section: &'static str,
    /// Charts, made here from numbers only.
    requests_chart: String,
    latency_chart: String,
    throughput_chart: String,
    storage_chart: Option<String>,
    summary: String,
    denials: Option<Vec<DenialRow>>,
}

pub async fn show(ctx: &Ctx) -> Response<Body> {
    let Layout {
        principal,
        csrf,
        flash,
        section,
    } = ctx.layout("dashboard");
    let state = &ctx.client.state;
    let points = state.history.points_until(
        std::time::SystemTime::now(),
        state.metrics.requests.totals(),
    );
    let series = |f: fn(&super::history::Point) -> f64| points.iter().map(f).collect::<Vec<f64>>();
    let requests_chart = svg::lines(
        "requests",
        "Requests and errors per second, last hour",
        "/s",
        &[
            ("requests", "#1f5fbf", series(|p| p.requests_per_second)),
            ("errors", "#b3261e", series(|p| p.errors_per_second)),
        ],
    );
    let latency_chart = svg::lines(
        "latency",
        "Latency p50 and p99 in milliseconds, last hour",
        "ms",
        &[
            ("p50", "#1f5fbf", series(|p| p.p50_ms)),
            ("p99", "#e37400", series(|p| p.p99_ms)),
        ],
    );
    let throughput_chart = svg::lines(
        "throughput",
        "Bytes received and sent per second, last hour",
        "B/s",
        &[
            ("received", "#1e7b34", series(|p| p.received_per_second)),
            ("sent", "#1f5fbf", series(|p| p.sent_per_second)),
        ],
    );
    let summary = match points.last() {
        Some(p) => format!(
            "In the last interval: {:.1} requests/s, {:.1} errors/s, p50 {} ms, p99 {} ms, {} received/s, {} sent/s.",
            p.requests_per_second,
            p.errors_per_second,
            p.p50_ms,
            p.p99_ms,
            super::size(whole(p.received_per_second)),
            super::size(whole(p.sent_per_second)),
        ),
        None => "No interval sampled yet: figures appear 10 seconds after the server starts.".to_owned(),
    };
    // Storage of the buckets this principal may list, largest first.
    let storage_chart = match ctx.client.s3_get("/").await.ok() {
        Ok(reply) => {
            let names = super::buckets::names(&reply.body);
            let stats = state.objects.storage_stats();
            let mut rows: Vec<(String, u64)> = names
                .into_iter()
                .map(|name| {
                    let bytes = stats.usage(&name).map_or(0, |u| u.bytes);
                    (name, bytes)
                })
                .collect();
            rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            rows.truncate(20);
            Some(svg::bars("storage", "Storage per bucket", &rows))
        }
        Err(_) => None,
    };
    let denials = match ctx.client.allows_action("cloudtrail:LookupEvents", "*") {
        true => Some(
            state
                .metrics
                .access
                .recent_denials()
                .into_iter()
                .map(|d| DenialRow {
                    at: crate::timefmt::iso8601_millis(d.at),
                    listener: d.listener,
                    operation: d.operation,
                    principal: d.principal,
                })
                .collect(),
        ),
        false => None,
    };
    super::page::render(
        StatusCode::OK,
        &DashboardPage {
            principal,
            csrf,
            flash,
            section,
            requests_chart,
            latency_chart,
            throughput_chart,
            storage_chart,
            summary,
            denials,
        },
    )
}

/// A rate in whole units for `size` (rates are never negative; a fraction of a byte is
/// nothing to show).
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a non-negative rate, rounded down for display"
)]
fn whole(rate: f64) -> u64 {
    rate.max(0.0) as u64
}
