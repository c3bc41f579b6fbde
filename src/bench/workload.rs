//! The workloads: what each worker does in a loop until the run stops, and which of its
//! operations count.
//!
//! An operation counts when it starts after the warmup; errors count whenever they happen.
//! Workers never share an object they change: `delete` and `mixed` give each worker its own
//! slice of the prepared objects (object `i` belongs to worker `i % concurrency`), so no GET
//! races a DELETE of the same key and every 404 is the server's.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::client::{Client, OpError};
use super::ops::{self, Object};
use super::payload::{Contents, PayloadMode};
use super::stats::{Done, Kind, Recorder};

/// Which operations a run measures (`labstore bench <WORKLOAD>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Workload {
    /// PutObject of new objects
    Put,
    /// GetObject of the prepared objects, with time to first byte
    Get,
    /// HeadObject of the prepared objects
    Head,
    /// ListObjectsV2 pages over the prepared objects
    List,
    /// DeleteObjects of the prepared objects, in batches
    Delete,
    /// Whole multipart uploads: create, parts in turn, complete
    Multipart,
    /// warp's mix over the prepared objects: 45% GET, 30% HEAD, 15% PUT, 10% DELETE
    Mixed,
}

impl Workload {
    pub fn as_str(self) -> &'static str {
        match self {
            Workload::Put => "put",
            Workload::Get => "get",
            Workload::Head => "head",
            Workload::List => "list",
            Workload::Delete => "delete",
            Workload::Multipart => "multipart",
            Workload::Mixed => "mixed",
        }
    }

    /// Whether objects are uploaded before the measurement.
    pub fn prepares(self) -> bool {
        !matches!(self, Workload::Put | Workload::Multipart)
    }
}

/// When the measurement ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// This long after the warmup.
    After(Duration),
    /// After this many operations have started after the warmup.
    Ops(u64),
}

/// Everything that decides what a run sends.
#[derive(Debug, Clone)]
pub struct Plan {
    pub workload: Workload,
    pub size: u64,
    pub part_size: u64,
    pub payload: PayloadMode,
    pub concurrency: usize,
    pub stop: Stop,
    pub warmup: Duration,
    pub objects: u64,
    pub batch: usize,
    pub max_keys: u32,
    pub seed: u64,
    /// Every this many GETs a worker compares the body with what was written (its first
    /// `VERIFY_FIRST` GETs always).
    pub verify_every: u64,
}

/// The GETs each worker always verifies before sampling.
const VERIFY_FIRST: u64 = 4;

/// warp's mix, by percentile of a roll in 0..100: 45 GET, 30 HEAD, 15 PUT, 10 DELETE.
pub fn mixed_kind(roll: u32) -> Kind {
    match roll {
        0..45 => Kind::Get,
        45..75 => Kind::Head,
        75..90 => Kind::Put,
        _ => Kind::Delete,
    }
}

/// Counters the progress line reads while workers run.
#[derive(Debug, Default)]
pub struct Progress {
    pub ops: AtomicU64,
    pub errors: AtomicU64,
}

/// What every worker of one run shares.
pub struct Shared {
    pub client: Arc<Client>,
    pub plan: Plan,
    pub contents: Arc<Contents>,
    pub bucket: String,
    /// Every key of the run starts with it: `labstore-bench-<run id>/`.
    pub prefix: String,
    /// The index the next new object gets (prepared objects are `0..objects`).
    pub next_index: AtomicU64,
    /// Measured operations started so far, for `Stop::Ops`.
    tickets: AtomicU64,
    /// Set on Ctrl-C: no operation starts after it (the run still reports and cleans up).
    pub interrupted: Arc<AtomicBool>,
    pub measure_start: Instant,
    pub progress: Progress,
}

impl Shared {
    pub fn new(
        client: Arc<Client>,
        plan: Plan,
        (bucket, prefix): (String, String),
        interrupted: Arc<AtomicBool>,
        measure_start: Instant,
    ) -> Shared {
        let first_new = if plan.workload.prepares() {
            plan.objects
        } else {
            0
        };
        Shared {
            contents: Arc::new(Contents::new(plan.seed, plan.size)),
            client,
            plan,
            bucket,
            prefix,
            next_index: AtomicU64::new(first_new),
            tickets: AtomicU64::new(0),
            interrupted,
            measure_start,
            progress: Progress::default(),
        }
    }

    pub fn key(&self, index: u64) -> String {
        format!("{}obj-{index:010}", self.prefix)
    }

    fn object<'a>(&'a self, key: &'a str, index: u64) -> Object<'a> {
        Object {
            bucket: &self.bucket,
            key,
            index,
        }
    }

    /// Whether an operation may start at `now`.
    fn may_start(&self, now: Instant) -> bool {
        if self.interrupted.load(Relaxed) {
            return false;
        }
        if now < self.measure_start {
            return true;
        }
        match self.plan.stop {
            Stop::After(duration) => now < self.measure_start + duration,
            Stop::Ops(n) => self.tickets.fetch_add(1, Relaxed) < n,
        }
    }

    /// PutObject of object `index` (preparation, `put` and `mixed`).
    pub async fn put(&self, index: u64) -> Result<Done, OpError> {
        let key = self.key(index);
        let object = self.object(&key, index);
        ops::put_object(&self.client, &self.contents, object, self.plan.payload).await
    }
}

/// A worker's recorders, one per operation kind it ran.
pub type Recorders = BTreeMap<Kind, Recorder>;

/// Runs one worker until the run stops (or, for `delete`, its objects are gone).
pub async fn worker(shared: Arc<Shared>, id: usize) -> Recorders {
    let mut worker = Worker::new(&shared, id);
    let mut recorders = Recorders::new();
    loop {
        let start = Instant::now();
        if !shared.may_start(start) {
            break;
        }
        let Some((kind, result)) = worker.step(start).await else {
            break;
        };
        let end = Instant::now();
        let recorder = recorders.entry(kind).or_default();
        match result {
            Ok(done) => {
                if start >= shared.measure_start {
                    recorder.success(end - start, done, end);
                }
                shared.progress.ops.fetch_add(1, Relaxed);
            }
            Err(e) => {
                recorder.error(&e);
                shared.progress.errors.fetch_add(1, Relaxed);
            }
        }
    }
    recorders
}

/// One worker's own state.
struct Worker<'a> {
    shared: &'a Shared,
    rng: SmallRng,
    /// `delete` and `mixed`: the objects this worker owns and that exist.
    owned: Vec<u64>,
    /// `list`: where the walk is, and the keys seen in it so far.
    token: Option<String>,
    listed: u64,
    /// GETs so far, for the verification sample.
    gets: u64,
}

type Step = Option<(Kind, Result<Done, OpError>)>;

impl<'a> Worker<'a> {
    fn new(shared: &'a Shared, id: usize) -> Worker<'a> {
        let plan = &shared.plan;
        let owned = match plan.workload {
            Workload::Delete | Workload::Mixed => (id as u64..plan.objects)
                .step_by(plan.concurrency)
                .collect(),
            _ => Vec::new(),
        };
        let seed = plan.seed ^ (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Worker {
            shared,
            rng: SmallRng::seed_from_u64(seed),
            owned,
            token: None,
            listed: 0,
            gets: 0,
        }
    }

    async fn step(&mut self, start: Instant) -> Step {
        let shared = self.shared;
        let result = match shared.plan.workload {
            Workload::Put => {
                let index = shared.next_index.fetch_add(1, Relaxed);
                (Kind::Put, shared.put(index).await)
            }
            Workload::Multipart => (Kind::Multipart, self.multipart().await),
            Workload::Get => {
                let index = self.rng.random_range(0..shared.plan.objects);
                (Kind::Get, self.get(index, start).await)
            }
            Workload::Head => {
                let index = self.rng.random_range(0..shared.plan.objects);
                (Kind::Head, self.head(index).await)
            }
            Workload::List => (Kind::List, self.list().await),
            Workload::Delete => (Kind::Delete, self.delete_batch().await?),
            Workload::Mixed => self.mixed(start).await,
        };
        Some(result)
    }

    async fn get(&mut self, index: u64, start: Instant) -> Result<Done, OpError> {
        let shared = self.shared;
        let verify = self.gets < VERIFY_FIRST || self.gets % shared.plan.verify_every == 0;
        self.gets += 1;
        let key = shared.key(index);
        let object = shared.object(&key, index);
        ops::get_object(&shared.client, &shared.contents, object, verify, start).await
    }

    async fn head(&self, index: u64) -> Result<Done, OpError> {
        let key = self.shared.key(index);
        let object = self.shared.object(&key, index);
        ops::head_object(&self.shared.client, &self.shared.contents, object).await
    }

    async fn multipart(&self) -> Result<Done, OpError> {
        let shared = self.shared;
        let index = shared.next_index.fetch_add(1, Relaxed);
        let key = shared.key(index);
        let object = shared.object(&key, index);
        let (part_size, payload) = (shared.plan.part_size, shared.plan.payload);
        ops::multipart_upload(&shared.client, &shared.contents, object, part_size, payload).await
    }

    /// One page; at the end of a walk, the keys seen must be the prepared objects.
    async fn list(&mut self) -> Result<Done, OpError> {
        let shared = self.shared;
        let page = ops::list_objects_v2(
            &shared.client,
            &shared.bucket,
            &shared.prefix,
            shared.plan.max_keys,
            self.token.as_deref(),
        )
        .await;
        let page = match page {
            Ok(page) => page,
            Err(e) => {
                (self.token, self.listed) = (None, 0);
                return Err(e);
            }
        };
        let keys = page.keys.len() as u64;
        self.listed += keys;
        self.token = page.next;
        if self.token.is_none() {
            let listed = std::mem::take(&mut self.listed);
            if listed != shared.plan.objects {
                let prepared = shared.plan.objects;
                let message =
                    format!("a listing walk found {listed} keys, {prepared} were written");
                return Err(OpError::Verify(message));
            }
        }
        Ok(Done {
            objects: keys,
            ..Done::default()
        })
    }

    /// `None` once this worker's objects are all gone.
    async fn delete_batch(&mut self) -> Option<Result<Done, OpError>> {
        if self.owned.is_empty() {
            return None;
        }
        let take = self.owned.len().min(self.shared.plan.batch);
        let batch: Vec<String> = self
            .owned
            .drain(..take)
            .map(|index| self.shared.key(index))
            .collect();
        Some(ops::delete_objects(&self.shared.client, &self.shared.bucket, &batch).await)
    }

    /// One operation of the mix, on this worker's objects. With none left (only possible
    /// when a worker starts with none), the operation is a PUT.
    async fn mixed(&mut self, start: Instant) -> (Kind, Result<Done, OpError>) {
        let shared = self.shared;
        let kind = match mixed_kind(self.rng.random_range(0..100)) {
            _ if self.owned.is_empty() => Kind::Put,
            kind => kind,
        };
        let pick = self.rng.random_range(0..self.owned.len().max(1));
        let result = match kind {
            Kind::Get => self.get(self.owned[pick], start).await,
            Kind::Head => self.head(self.owned[pick]).await,
            Kind::Delete => {
                let index = self.owned.swap_remove(pick);
                let key = shared.key(index);
                ops::delete_object(&shared.client, shared.object(&key, index)).await
            }
            _ => {
                let index = shared.next_index.fetch_add(1, Relaxed);
                let result = shared.put(index).await;
                if result.is_ok() {
                    self.owned.push(index);
                }
                result
            }
        };
        (kind, result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names shown in reports are the ones the command line and `--json` use.
    #[test]
    fn names_agree_with_the_command_line_and_json() {
        use clap::ValueEnum;
        for workload in Workload::value_variants() {
            let flag = workload.to_possible_value().unwrap();
            assert_eq!(flag.get_name(), workload.as_str());
            assert_eq!(serde_json::json!(workload), workload.as_str());
        }
        for payload in PayloadMode::value_variants() {
            let flag = payload.to_possible_value().unwrap();
            assert_eq!(flag.get_name(), payload.as_str());
            assert_eq!(serde_json::json!(payload), payload.as_str());
        }
    }

    #[test]
    fn the_mix_is_warps() {
        let mut counts = BTreeMap::new();
        for roll in 0..100 {
            *counts.entry(mixed_kind(roll)).or_insert(0) += 1;
        }
        let expected = [
            (Kind::Get, 45),
            (Kind::Head, 30),
            (Kind::Put, 15),
            (Kind::Delete, 10),
        ];
        assert_eq!(counts, BTreeMap::from(expected));
    }

    /// The mix as a worker draws it: a seeded run of rolls lands within 1% of each share.
    #[test]
    fn drawn_rolls_follow_the_mix() {
        let mut rng = SmallRng::seed_from_u64(1);
        let draws = 100_000;
        let mut counts = BTreeMap::new();
        for _ in 0..draws {
            *counts
                .entry(mixed_kind(rng.random_range(0..100)))
                .or_insert(0u32) += 1;
        }
        for (kind, share) in [
            (Kind::Get, 0.45),
            (Kind::Head, 0.30),
            (Kind::Put, 0.15),
            (Kind::Delete, 0.10),
        ] {
            let got = f64::from(counts[&kind]) / f64::from(draws);
            assert!((got - share).abs() < 0.01, "{kind:?}: {got}");
        }
    }
}
