//! The background scrub (`backend.s3.scrub.*`): a pass at most every `interval_seconds`
//! (between the end of one and the start of the next), reading at `bytes_per_second`, its
//! position saved in the index after every page so that a restart resumes the pass.

use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{Mode, Options, Scrub, ScrubError};
use crate::objects::now_ms;
use crate::objects::scrub::ScrubProgress;
use crate::state::State;

/// How long a failed step waits before it is tried again (at most the interval).
const RETRY: Duration = Duration::from_secs(60);

/// Runs until `shutdown`; returns at once when the background scrub is off.
pub async fn run(state: State, shutdown: CancellationToken) {
    let settings = state.config.backend.s3.scrub.clone();
    if !settings.enabled {
        return;
    }
    let interval_ms =
        i64::try_from(settings.interval_seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
    let stats = &state.metrics.scrub;
    // One node at a time scrubs (`crate::cluster::Lease`); the others ask again each retry.
    let lease = std::sync::Arc::new(crate::cluster::Lease::new(&state.config, "scrub"));
    loop {
        let ours = std::sync::Arc::clone(&lease);
        if !crate::metrics::blocking::spawn(move || ours.held())
            .await
            .unwrap_or(false)
        {
            tokio::select! {
                () = tokio::time::sleep(RETRY) => continue,
                () = shutdown.cancelled() => return,
            }
        }
        let outcome = step(&state, interval_ms, &shutdown).await;
        stats.running.store(0, Ordering::Relaxed);
        match outcome {
            Ok(()) if shutdown.is_cancelled() => return,
            Ok(()) => {}
            Err(e) => {
                stats.failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, "scrub step failed; trying again later");
                let retry = RETRY.min(Duration::from_secs(settings.interval_seconds.max(1)));
                tokio::select! {
                    () = tokio::time::sleep(retry) => {}
                    () = shutdown.cancelled() => return,
                }
            }
        }
    }
}

/// Waits for the next pass if none is under way, then runs (or resumes) it to its end or
/// until shutdown.
async fn step(
    state: &State,
    interval_ms: i64,
    shutdown: &CancellationToken,
) -> Result<(), ScrubError> {
    let index = &state.objects;
    let settings = &state.config.backend.s3.scrub;
    let mut progress = index.scrub_progress().await?.unwrap_or_default();
    if progress.pass_started.is_none() {
        let due = progress
            .last_finished
            .map_or(0, |t| t.saturating_add(interval_ms));
        let wait = u64::try_from(due - now_ms()).unwrap_or(0);
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(wait)) => {}
            () = shutdown.cancelled() => return Ok(()),
        }
        progress = ScrubProgress {
            phase: "objects".into(),
            pass_started: Some(now_ms()),
            last_finished: progress.last_finished,
            ..ScrubProgress::default()
        };
        index.save_scrub_progress(progress.clone()).await?;
        tracing::info!("scrub: pass started");
    }
    let stats = &state.metrics.scrub;
    stats.running.store(1, Ordering::Relaxed);
    let options = Options {
        mode: Mode::Scrub,
        rate: Some(settings.bytes_per_second),
        grace: Duration::from_secs(settings.orphan_grace_seconds),
        buffer: state.config.backend.s3.io.buffer_size as usize,
    };
    let mut scrub = Scrub::new(
        index,
        &state.blobs,
        Some(state.iam.master_key()),
        options,
        stats,
        shutdown.clone(),
    );
    let last = index.last_object_id().await?;
    if progress.phase == "objects" {
        while let Some(after) = scrub.objects_after(progress.after_object, last).await? {
            progress.after_object = after;
            index.save_scrub_progress(progress.clone()).await?;
        }
        if shutdown.is_cancelled() {
            return Ok(());
        }
        progress.phase = "parts".into();
        index.save_scrub_progress(progress.clone()).await?;
    }
    if progress.phase == "parts" {
        let mut after = (progress.after_upload.clone(), progress.after_part);
        while let Some(next) = scrub.parts_after(after).await? {
            (progress.after_upload, progress.after_part) = next.clone();
            index.save_scrub_progress(progress.clone()).await?;
            after = next;
        }
        if shutdown.is_cancelled() {
            return Ok(());
        }
        progress.phase = "orphans".into();
        index.save_scrub_progress(progress.clone()).await?;
    }
    while let Some(dir) = scrub.orphans_after(&progress.after_dir).await? {
        progress.after_dir = dir;
        index.save_scrub_progress(progress.clone()).await?;
    }
    if shutdown.is_cancelled() {
        return Ok(());
    }
    let report = scrub.finish();
    let finished = now_ms();
    index
        .save_scrub_progress(ScrubProgress {
            phase: "objects".into(),
            last_finished: Some(finished),
            ..ScrubProgress::default()
        })
        .await?;
    stats.passes.fetch_add(1, Ordering::Relaxed);
    stats.last_pass_end.store(
        u64::try_from(finished / 1000).unwrap_or(0),
        Ordering::Relaxed,
    );
    stats
        .last_pass_damaged
        .store(report.corrupt + report.missing, Ordering::Relaxed);
    tracing::info!(
        objects = report.objects_scanned,
        parts = report.parts_scanned,
        bytes = report.bytes_scanned,
        corrupt = report.corrupt,
        missing = report.missing,
        orphans_removed = report.orphans,
        "scrub: pass complete"
    );
    Ok(())
}
