//! The lifecycle worker: applies every bucket's lifecycle rules (`objects::lifecycle`) in the
//! background. Each step, per bucket with rules, examines the next `keys_per_tick` keys with
//! all their versions (one read), applies what the rules ask one small write each (the write
//! checks the version is still as planned, and never removes a version Object Lock protects),
//! aborts stale multipart uploads, and records where it stopped in the index, so a restart
//! resumes the pass. What it did is counted in `/metrics` and logged.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::objects::lifecycle::{plan, Action};
use crate::objects::{now_ms, IndexResult, LifecycleConfig};
use crate::state::State;

/// What the worker has done since the server started.
#[derive(Debug, Default)]
pub struct LifecycleStats {
    expired_current: AtomicU64,
    expired_noncurrent: AtomicU64,
    removed_markers: AtomicU64,
    aborted_uploads: AtomicU64,
    kept_locked: AtomicU64,
    keys_examined: AtomicU64,
    passes: AtomicU64,
    failures: AtomicU64,
}

impl LifecycleStats {
    fn action(&self, action: &Action) -> &AtomicU64 {
        match action {
            Action::ExpireCurrent { .. } => &self.expired_current,
            Action::RemoveNoncurrent { .. } => &self.expired_noncurrent,
            Action::RemoveMarker { .. } => &self.removed_markers,
        }
    }

    /// Prometheus text.
    pub fn render(&self, text: &mut String) {
        let get = |n: &AtomicU64| n.load(Ordering::Relaxed);
        text.push_str(&format!(
            "# HELP labstore_lifecycle_actions_total What lifecycle rules did, by action.\n\
             # TYPE labstore_lifecycle_actions_total counter\n\
             labstore_lifecycle_actions_total{{action=\"expire_current\"}} {}\n\
             labstore_lifecycle_actions_total{{action=\"expire_noncurrent\"}} {}\n\
             labstore_lifecycle_actions_total{{action=\"remove_delete_marker\"}} {}\n\
             labstore_lifecycle_actions_total{{action=\"abort_upload\"}} {}\n\
             # HELP labstore_lifecycle_locked_total Versions a rule would have removed that Object Lock kept.\n\
             # TYPE labstore_lifecycle_locked_total counter\n\
             labstore_lifecycle_locked_total {}\n\
             # HELP labstore_lifecycle_keys_examined_total Keys the lifecycle worker examined.\n\
             # TYPE labstore_lifecycle_keys_examined_total counter\n\
             labstore_lifecycle_keys_examined_total {}\n\
             # HELP labstore_lifecycle_passes_total Passes completed over a bucket's keys.\n\
             # TYPE labstore_lifecycle_passes_total counter\n\
             labstore_lifecycle_passes_total {}\n\
             # HELP labstore_lifecycle_failures_total Lifecycle steps that failed (retried at the next step).\n\
             # TYPE labstore_lifecycle_failures_total counter\n\
             labstore_lifecycle_failures_total {}\n",
            get(&self.expired_current),
            get(&self.expired_noncurrent),
            get(&self.removed_markers),
            get(&self.aborted_uploads),
            get(&self.kept_locked),
            get(&self.keys_examined),
            get(&self.passes),
            get(&self.failures),
        ));
    }
}

/// Runs until `shutdown`: a step in every bucket with rules each `interval_ms`.
pub async fn run(state: State, shutdown: CancellationToken) {
    let settings = state.config.backend.s3.lifecycle.clone();
    let mut tick = tokio::time::interval(Duration::from_millis(settings.interval_ms));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // One node at a time applies the rules (`crate::cluster::Lease`).
    let lease = std::sync::Arc::new(crate::cluster::Lease::new(&state.config, "lifecycle"));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = shutdown.cancelled() => return,
        }
        let ours = std::sync::Arc::clone(&lease);
        if !crate::metrics::blocking::spawn(move || ours.held())
            .await
            .unwrap_or(false)
        {
            continue;
        }
        for bucket in state.objects.list_buckets() {
            let Some(config) = bucket.configs.lifecycle.clone() else {
                continue;
            };
            if let Err(e) = step(&state, &bucket.name, &config, &shutdown).await {
                state
                    .metrics
                    .lifecycle
                    .failures
                    .fetch_add(1, Ordering::Relaxed);
                tracing::warn!(bucket = %bucket.name, error = %e, "lifecycle step failed");
            }
            if shutdown.is_cancelled() {
                return;
            }
        }
    }
}

/// One step in `bucket`. Stopping midway leaves the cursor where the step began: the next
/// step plans the same keys again, and every action is checked against the index when it is
/// applied, so nothing is done twice.
async fn step(
    state: &State,
    bucket: &str,
    config: &LifecycleConfig,
    shutdown: &CancellationToken,
) -> IndexResult<()> {
    let settings = &state.config.backend.s3.lifecycle;
    let day_ms = i64::from(settings.day_seconds) * 1000;
    let limit = settings.keys_per_tick as usize;
    let stats = &state.metrics.lifecycle;
    let now = now_ms();
    let index = &state.objects;
    let after = index.lifecycle_cursor(bucket.to_owned()).await?;
    let keys = index
        .lifecycle_page(bucket.to_owned(), after.clone(), limit)
        .await?;
    stats
        .keys_examined
        .fetch_add(keys.len() as u64, Ordering::Relaxed);
    for key in &keys {
        if shutdown.is_cancelled() {
            return Ok(());
        }
        for action in plan(&config.rules, key, now, day_ms) {
            let applied = index
                .lifecycle_apply(bucket.to_owned(), action.clone())
                .await?;
            state.blobs.remove(applied.blobs).await;
            if applied.done {
                stats.action(&action).fetch_add(1, Ordering::Relaxed);
                tracing::info!(bucket, key = %key.key, action = action.name(), "lifecycle rule applied");
            } else if applied.locked {
                stats.kept_locked.fetch_add(1, Ordering::Relaxed);
                tracing::info!(bucket, key = %key.key, action = action.name(), "lifecycle rule kept back by Object Lock");
            }
        }
    }
    let next = match keys.last() {
        Some(last) if keys.len() >= limit => last.key.clone(),
        _ => {
            stats.passes.fetch_add(1, Ordering::Relaxed);
            String::new()
        }
    };
    if next != after {
        index.set_lifecycle_cursor(bucket.to_owned(), next).await?;
    }
    for rule in config.rules.iter().filter(|r| r.enabled) {
        let Some(days) = rule.abort_after_days else {
            continue;
        };
        let before = now.saturating_sub(i64::from(days).saturating_mul(day_ms));
        let stale = index
            .stale_uploads(bucket.to_owned(), rule.filter.prefix.clone(), before)
            .await?;
        for (key, id) in stale {
            match index
                .abort_upload(bucket.to_owned(), key.clone(), id.clone())
                .await
            {
                Ok(blobs) => {
                    state.blobs.remove(blobs).await;
                    stats.aborted_uploads.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        bucket,
                        key,
                        upload_id = id,
                        "lifecycle rule aborted an incomplete upload"
                    );
                }
                // Completed or aborted since it was listed.
                Err(crate::objects::IndexError::NoSuchUpload) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}
