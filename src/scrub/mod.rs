//! Scrub: every stored byte read back and compared with what the index says it is
//! (`docs/operations.md`, "Scrub"). A pass has three phases, each resumable from a cursor:
//!
//! 1. **objects**: every version's segments, by row id. A blob file's length is checked
//!    against the index, then its bytes are read and their MD5 compared with the segment's
//!    (a part's ETag, or a simple object's), an encrypted segment's GCM tags verified chunk by
//!    chunk with its data key (so the master key is needed); inline bytes too.
//! 2. **parts**: the parts of multipart uploads in progress, the same way.
//! 3. **orphans**: blob files no segment or part refers to, one fan-out directory at a time
//!    (both tables looked up in one snapshot), removed once older than the grace period (a
//!    blob is renamed into place just before the commit that publishes it, so a young one
//!    may be an upload in flight).
//!
//! A segment found corrupt or missing is logged at ERROR (bucket, key, version, blob id),
//! counted, and marked `damaged` in the index: GetObject and the copies then refuse the
//! version (500 InternalError), never serving wrong bytes; a later pass that finds the bytes
//! whole again clears the mark. `labstore scrub` runs a pass offline (`offline`); the server
//! runs passes in the background when `backend.s3.scrub.enabled` (`background`).
//! `labstore admin verify` checks lengths and orphans only, changing nothing.

mod background;
mod check;
pub mod offline;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use tokio_util::sync::CancellationToken;

pub use background::run;
use check::{Expect, Outcome, Source, Throttle};

use crate::crypto::MasterKey;
use crate::objects::scrub::{ScrubObject, ScrubPart, ScrubSegment};
use crate::objects::{IndexError, ObjectIndex, Stored};
use crate::storage::BlobStore;

/// Versions (or parts) read per page: bounds the inline bytes held at once.
const PAGE: usize = 32;
/// Findings a report lists; more are counted only.
const MAX_FINDINGS: usize = 10_000;

/// What scrubs have done since the server started (`/metrics`). Relaxed atomics.
#[derive(Debug, Default)]
pub struct ScrubStats {
    running: AtomicU64,
    objects: AtomicU64,
    bytes: AtomicU64,
    corrupt: AtomicU64,
    missing: AtomicU64,
    orphans_removed: AtomicU64,
    passes: AtomicU64,
    failures: AtomicU64,
    /// Millionths of the pass done.
    progress: AtomicU64,
    last_pass_end: AtomicU64,
    last_pass_damaged: AtomicU64,
}

impl ScrubStats {
    /// Prometheus text.
    pub fn render(&self, text: &mut String) {
        let get = |n: &AtomicU64| n.load(Ordering::Relaxed);
        #[expect(
            clippy::cast_precision_loss,
            reason = "millionths, at most 1e6: exact in an f64"
        )]
        let progress = get(&self.progress) as f64 / 1e6;
        text.push_str(&format!(
            "# HELP labstore_scrub_running Whether a scrub pass is under way.\n\
             # TYPE labstore_scrub_running gauge\n\
             labstore_scrub_running {}\n\
             # HELP labstore_scrub_objects_scanned_total Object versions and upload parts the scrub checked.\n\
             # TYPE labstore_scrub_objects_scanned_total counter\n\
             labstore_scrub_objects_scanned_total {}\n\
             # HELP labstore_scrub_bytes_scanned_total Stored bytes the scrub read and verified.\n\
             # TYPE labstore_scrub_bytes_scanned_total counter\n\
             labstore_scrub_bytes_scanned_total {}\n\
             # HELP labstore_scrub_corrupt_total Segments the scrub found corrupt (counted each pass that finds them).\n\
             # TYPE labstore_scrub_corrupt_total counter\n\
             labstore_scrub_corrupt_total {}\n\
             # HELP labstore_scrub_missing_total Segments whose blob file the scrub found missing (counted each pass that finds them).\n\
             # TYPE labstore_scrub_missing_total counter\n\
             labstore_scrub_missing_total {}\n\
             # HELP labstore_scrub_orphans_removed_total Blob files no object or part referred to, removed by the scrub.\n\
             # TYPE labstore_scrub_orphans_removed_total counter\n\
             labstore_scrub_orphans_removed_total {}\n\
             # HELP labstore_scrub_passes_total Scrub passes completed.\n\
             # TYPE labstore_scrub_passes_total counter\n\
             labstore_scrub_passes_total {}\n\
             # HELP labstore_scrub_failures_total Scrub steps that failed (retried later).\n\
             # TYPE labstore_scrub_failures_total counter\n\
             labstore_scrub_failures_total {}\n\
             # HELP labstore_scrub_pass_progress_ratio How far the current (or last) pass has gone, 0 to 1.\n\
             # TYPE labstore_scrub_pass_progress_ratio gauge\n\
             labstore_scrub_pass_progress_ratio {progress}\n\
             # HELP labstore_scrub_last_pass_end_timestamp_seconds When the last complete pass ended (0: none yet).\n\
             # TYPE labstore_scrub_last_pass_end_timestamp_seconds gauge\n\
             labstore_scrub_last_pass_end_timestamp_seconds {}\n\
             # HELP labstore_scrub_last_pass_damaged Segments found corrupt or missing by the last complete pass.\n\
             # TYPE labstore_scrub_last_pass_damaged gauge\n\
             labstore_scrub_last_pass_damaged {}\n",
            get(&self.running),
            get(&self.objects),
            get(&self.bytes),
            get(&self.corrupt),
            get(&self.missing),
            get(&self.orphans_removed),
            get(&self.passes),
            get(&self.failures),
            get(&self.last_pass_end),
            get(&self.last_pass_damaged),
        ));
    }

    fn set_progress(&self, done: i64, of: i64) {
        let ratio = match of {
            0 => 1_000_000,
            of => u64::try_from(i128::from(done.clamp(0, of)) * 1_000_000 / i128::from(of))
                .unwrap_or(0),
        };
        self.progress.store(ratio, Ordering::Relaxed);
    }
}

/// What a pass does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Read every byte, mark damage, remove orphans past the grace period.
    Scrub,
    /// Lengths and orphans only; changes nothing (`labstore admin verify`).
    Verify,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub mode: Mode,
    /// Bytes read per second; `None`: unthrottled.
    pub rate: Option<u64>,
    /// How old an unreferenced blob must be before a scrub removes it.
    pub grace: Duration,
    /// Bytes per read.
    pub buffer: usize,
}

/// One thing found wrong.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// `corrupt`, `missing` or `orphan`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part_number: Option<u32>,
    /// The blob file's id (`objects/<first two digits>/<id>`); none for inline bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    pub detail: String,
}

/// What a pass found: what `labstore scrub --report` writes as JSON.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub mode: Option<Mode>,
    /// RFC 3339, UTC.
    pub started: String,
    pub finished: String,
    /// False when the pass was stopped before its end.
    pub complete: bool,
    /// Object versions checked (delete markers have no bytes).
    pub objects_scanned: u64,
    /// Parts of uploads in progress checked.
    pub parts_scanned: u64,
    pub segments_scanned: u64,
    /// Stored bytes read and verified.
    pub bytes_scanned: u64,
    pub corrupt: u64,
    pub missing: u64,
    /// Segments marked damaged by this pass (found damaged and not marked before).
    pub marked_damaged: u64,
    /// Segments marked by an earlier pass and found whole again: the mark was cleared.
    pub repaired: u64,
    /// Encrypted segments whose contents could not be verified (no master key): their
    /// length only was checked.
    pub length_only: u64,
    /// Orphaned blob files: removed (scrub) or found (verify).
    pub orphans: u64,
    /// Orphans younger than the grace period, left for a later pass.
    pub orphans_too_recent: u64,
    /// Orphans a running backup's snapshot may refer to: their removal is left to the end of
    /// the backup (`backup::holds`).
    pub orphans_held: u64,
    pub findings: Vec<Finding>,
    /// Findings counted above but not listed (beyond the report's limit).
    pub findings_left_out: u64,
}

impl Report {
    /// Whether anything is wrong with what the index refers to (orphans are not).
    pub fn damaged(&self) -> bool {
        self.corrupt + self.missing > 0
    }

    fn push(&mut self, finding: Finding) {
        if self.findings.len() < MAX_FINDINGS {
            self.findings.push(finding);
        } else {
            self.findings_left_out += 1;
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScrubError {
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("reading object storage: {0}")]
    Io(#[from] std::io::Error),
}

/// One pass (or part of one) over a store.
pub struct Scrub<'a> {
    index: &'a ObjectIndex,
    blobs: &'a BlobStore,
    master: Option<&'a MasterKey>,
    options: Options,
    stats: &'a ScrubStats,
    stop: CancellationToken,
    throttle: Throttle,
    pub report: Report,
}

/// Which row a segment belongs to, for logs, findings and marks.
enum Owner<'o> {
    Object(&'o ScrubObject),
    Part(&'o ScrubPart),
}

impl Owner<'_> {
    fn finding(&self, kind: &'static str, segment: &ScrubSegment, detail: String) -> Finding {
        let blob = segment.stored.blob().map(|b| b.as_str().to_owned());
        match self {
            Owner::Object(o) => Finding {
                kind,
                bucket: Some(o.bucket.clone()),
                key: Some(o.key.clone()),
                version_id: Some(o.version_id.clone()),
                upload_id: None,
                part_number: (o.segments.len() > 1 || segment.sse_part > 0)
                    .then_some(segment.sse_part.max(segment.idx + 1)),
                blob,
                detail,
            },
            Owner::Part(p) => Finding {
                kind,
                bucket: Some(p.bucket.clone()),
                key: Some(p.key.clone()),
                version_id: None,
                upload_id: Some(p.upload_id.clone()),
                part_number: Some(p.number),
                blob,
                detail,
            },
        }
    }
}

impl<'a> Scrub<'a> {
    pub fn new(
        index: &'a ObjectIndex,
        blobs: &'a BlobStore,
        master: Option<&'a MasterKey>,
        options: Options,
        stats: &'a ScrubStats,
        stop: CancellationToken,
    ) -> Scrub<'a> {
        let report = Report {
            mode: Some(options.mode),
            started: now_text(),
            ..Report::default()
        };
        Scrub {
            index,
            blobs,
            master,
            throttle: Throttle::new(options.rate),
            options,
            stats,
            stop,
            report,
        }
    }

    /// A whole pass, from the start.
    pub async fn pass(&mut self) -> Result<(), ScrubError> {
        let last = self.index.last_object_id().await?;
        let mut after = 0;
        while let Some(next) = self.objects_after(after, last).await? {
            after = next;
        }
        let mut after = (String::new(), 0);
        while let Some(next) = self.parts_after(after).await? {
            after = next;
        }
        let mut after = String::new();
        while let Some(next) = self.orphans_after(&after).await? {
            after = next;
        }
        self.report.complete = !self.stop.is_cancelled();
        Ok(())
    }

    fn stopped(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// Checks the page of versions after row `after`; the new cursor, or `None` at the end
    /// (or when stopped: the page is then not finished, and is checked again on resuming).
    pub async fn objects_after(
        &mut self,
        after: i64,
        last: i64,
    ) -> Result<Option<i64>, ScrubError> {
        let contents = self.options.mode == Mode::Scrub;
        let page = self.index.scrub_objects(after, PAGE, contents).await?;
        let Some(end) = page.last().map(|o| o.id) else {
            self.stats.set_progress(1, 1);
            return Ok(None);
        };
        for object in &page {
            let key = match (&object.sse, self.master) {
                (Some(record), Some(master)) => Some(
                    record
                        .open(master, &object.bucket, &object.key)
                        .map_err(|_| "its data key does not open with the master key".to_owned()),
                ),
                _ => None,
            };
            for segment in &object.segments {
                let key = match &key {
                    None => None,
                    Some(Ok(key)) => Some(Ok((Arc::clone(key), segment.sse_part))),
                    Some(Err(e)) => Some(Err(e.clone())),
                };
                let sealed = object.sse.is_some();
                self.segment(&Owner::Object(object), segment, key, sealed)
                    .await?;
                if self.stopped() {
                    return Ok(None);
                }
            }
            self.report.objects_scanned += 1;
            self.stats.objects.fetch_add(1, Ordering::Relaxed);
        }
        self.stats.set_progress(end, last);
        Ok(Some(end))
    }

    /// Checks the page of upload parts after `after`; the new cursor, or `None`.
    pub async fn parts_after(
        &mut self,
        after: (String, u32),
    ) -> Result<Option<(String, u32)>, ScrubError> {
        let contents = self.options.mode == Mode::Scrub;
        let page = self.index.scrub_parts(after, PAGE, contents).await?;
        let Some(end) = page.last().map(|p| (p.upload_id.clone(), p.number)) else {
            return Ok(None);
        };
        for part in &page {
            let key = match (&part.sse, self.master) {
                (Some(record), Some(master)) => Some(
                    record
                        .open(master, &part.bucket, &part.key)
                        .map(|key| (key, part.number))
                        .map_err(|_| "its data key does not open with the master key".to_owned()),
                ),
                _ => None,
            };
            self.segment(&Owner::Part(part), &part.segment, key, part.sse.is_some())
                .await?;
            if self.stopped() {
                return Ok(None);
            }
            self.report.parts_scanned += 1;
            self.stats.objects.fetch_add(1, Ordering::Relaxed);
        }
        Ok(Some(end))
    }

    /// Checks one segment, records what it found and marks (or clears) damage.
    async fn segment(
        &mut self,
        owner: &Owner<'_>,
        segment: &ScrubSegment,
        key: Option<Result<(Arc<crate::crypto::sse::DataKey>, u32), String>>,
        sealed: bool,
    ) -> Result<(), ScrubError> {
        let outcome = match key {
            Some(Err(why)) => Outcome::Corrupt(why),
            key => {
                let key = key.and_then(Result::ok);
                let expect = Expect {
                    size: segment.size,
                    md5: segment.md5.clone(),
                    sealed_without_key: sealed && key.is_none(),
                    key,
                };
                let source = match &segment.stored {
                    Stored::Blob(id) => Source::File(self.blobs.path(id)),
                    Stored::Inline(data) => Source::Inline(data.clone()),
                    Stored::Unread => Source::Unread,
                };
                self.check(source, expect).await?
            }
        };
        self.report.segments_scanned += 1;
        let damage = match outcome {
            Outcome::Stopped => return Ok(()),
            Outcome::Whole(bytes) => {
                self.report.bytes_scanned += bytes;
                self.stats.bytes.fetch_add(bytes, Ordering::Relaxed);
                if segment.damaged
                    && self.options.mode == Mode::Scrub
                    && self.mark(owner, segment, false).await?
                {
                    self.report.repaired += 1;
                    tracing::info!(blob = ?segment.stored.blob().map(|b| b.as_str()), "scrub: a segment marked damaged is whole again; mark cleared");
                }
                return Ok(());
            }
            Outcome::LengthOnly => {
                if sealed && self.options.mode == Mode::Scrub {
                    self.report.length_only += 1;
                }
                return Ok(());
            }
            Outcome::Missing => ("missing", "its blob file is missing".to_owned()),
            Outcome::Corrupt(why) => ("corrupt", why),
        };
        let (kind, detail) = damage;
        // Marked first, which also tells whether the version (or part) is still there: one
        // overwritten or deleted since the page was read has had its blob removed, and is
        // no finding.
        if self.options.mode == Mode::Scrub {
            if !self.mark(owner, segment, true).await? {
                return Ok(());
            }
            if !segment.damaged {
                self.report.marked_damaged += 1;
            }
        }
        let finding = owner.finding(kind, segment, detail);
        tracing::error!(
            bucket = finding.bucket.as_deref().unwrap_or_default(),
            key = finding.key.as_deref().unwrap_or_default(),
            version_id = finding.version_id.as_deref(),
            upload_id = finding.upload_id.as_deref(),
            part_number = finding.part_number,
            blob = finding.blob.as_deref(),
            problem = %finding.detail,
            "scrub: stored object data is {kind}"
        );
        if kind == "missing" {
            self.report.missing += 1;
            self.stats.missing.fetch_add(1, Ordering::Relaxed);
        } else {
            self.report.corrupt += 1;
            self.stats.corrupt.fetch_add(1, Ordering::Relaxed);
        }
        self.report.push(finding);
        Ok(())
    }

    async fn mark(
        &self,
        owner: &Owner<'_>,
        segment: &ScrubSegment,
        damaged: bool,
    ) -> Result<bool, ScrubError> {
        Ok(match owner {
            Owner::Object(o) => self.index.mark_segment(o, segment.idx, damaged).await?,
            Owner::Part(p) => self.index.mark_part(p, damaged).await?,
        })
    }

    async fn check(&mut self, source: Source, expect: Expect) -> Result<Outcome, ScrubError> {
        let mut throttle = std::mem::replace(&mut self.throttle, Throttle::new(None));
        let stop = self.stop.clone();
        let contents = self.options.mode == Mode::Scrub;
        let buffer = self.options.buffer;
        let (outcome, throttle) = tokio::task::spawn_blocking(move || {
            let outcome = check::check(&source, &expect, contents, buffer, &mut throttle, &stop);
            (outcome, throttle)
        })
        .await
        .map_err(std::io::Error::other)?;
        self.throttle = throttle;
        Ok(outcome?)
    }

    /// Looks for orphans in the first fan-out directory after `after` (by name); the
    /// directory done, or `None` when there is none left.
    pub async fn orphans_after(&mut self, after: &str) -> Result<Option<String>, ScrubError> {
        let blobs = self.blobs.clone();
        let after = after.to_owned();
        let listed = tokio::task::spawn_blocking(move || {
            let dirs = blobs.fan_out_dirs()?;
            match dirs.into_iter().find(|d| *d > after) {
                None => Ok(None),
                Some(dir) => blobs.blobs_in(&dir).map(|files| Some((dir, files))),
            }
        })
        .await
        .map_err(std::io::Error::other)??;
        let Some((dir, files)) = listed else {
            return Ok(None);
        };
        let ids = files.iter().map(|f| f.id.clone()).collect();
        let known: HashSet<_> = self.index.referenced_in_snapshot(ids).await?;
        let now = SystemTime::now();
        for file in files.into_iter().filter(|f| !known.contains(&f.id)) {
            let age = now.duration_since(file.modified).unwrap_or_default();
            let detail = match self.options.mode {
                Mode::Verify => format!("{} bytes, referred to by no object or part", file.len),
                Mode::Scrub if age < self.options.grace => {
                    self.report.orphans_too_recent += 1;
                    continue;
                }
                Mode::Scrub => {
                    // A running backup's snapshot may still refer to it: the hold defers the
                    // removal to the backup's end (`backup::holds`), as for any other removal.
                    let held =
                        crate::backup::holds::removable(self.index.db(), vec![file.id.clone()])
                            .await
                            .map_err(IndexError::from)?
                            .is_empty();
                    if held {
                        self.report.orphans_held += 1;
                        continue;
                    }
                    let path = self.blobs.path(&file.id);
                    match tokio::task::spawn_blocking(move || std::fs::remove_file(path))
                        .await
                        .map_err(std::io::Error::other)?
                    {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                        Err(e) => return Err(e.into()),
                    }
                    self.stats.orphans_removed.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        blob = file.id.as_str(),
                        bytes = file.len,
                        "scrub: removed a blob file no object or part referred to"
                    );
                    format!(
                        "{} bytes, referred to by no object or part; removed",
                        file.len
                    )
                }
            };
            self.report.orphans += 1;
            self.report.push(Finding {
                kind: "orphan",
                bucket: None,
                key: None,
                version_id: None,
                upload_id: None,
                part_number: None,
                blob: Some(file.id.as_str().to_owned()),
                detail,
            });
        }
        Ok(Some(dir))
    }

    /// Closes the report.
    pub fn finish(mut self) -> Report {
        self.report.finished = now_text();
        self.report
    }
}

fn now_text() -> String {
    crate::timefmt::format_iso8601(SystemTime::now())
}
