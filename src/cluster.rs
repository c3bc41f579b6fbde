//! Several nodes, one truth (metadata on PostgreSQL, `docs/scale-out.md`). Each node keeps
//! views in memory that its own commits update: the IAM authentication view and role paths,
//! the bucket map, storage per bucket. Another node's commit changes the database under them;
//! this module tells every node so and bounds how stale a view may be when it serves.
//!
//! - A commit that changes a view announces it on the schemas' channel (`notify`, a
//!   `NOTIFY` inside the same transaction: PostgreSQL delivers it if and only if the
//!   transaction commits, after it commits).
//! - Each node's `Watch` thread listens on the channel on a connection of its own. Every
//!   `HEARTBEAT` it makes a round trip; the notifications of every commit made before the
//!   round trip began have arrived when it returns (PostgreSQL sends a notification to an idle
//!   listener at the commit, and to a busy one before its next answer). It applies what they
//!   say (the view rebuilt, the buckets read again), then records the round trip's start as
//!   the instant its views are known to include.
//! - A request is served only while that instant is within `STALENESS_BOUND` of now
//!   (`Watch::fresh`); past it (the notification connection lost, the database gone) the node
//!   answers 503 (`SlowDown`, `ServiceUnavailable`), which clients retry, and `/ready` says
//!   so. After a reconnection everything is read again before the node serves.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use postgres::fallible_iterator::FallibleIterator;

use crate::db::sql::{Connection, Error, Result};
use crate::iam_store::IamStore;
use crate::objects::ObjectIndex;

/// How stale a node's views may be when it serves a request: an IAM change acknowledged on
/// one node is enforced on every node within this (the measured figures are in
/// `docs/scale-out.md`).
pub const STALENESS_BOUND: Duration = Duration::from_millis(100);
/// How often the watch makes its round trip when no notification wakes it earlier.
pub const HEARTBEAT: Duration = Duration::from_millis(20);
/// How often storage per bucket is read again (other nodes' object writes change it; no
/// notification is sent per object write).
const STATS_EVERY: Duration = Duration::from_secs(1);
/// Wait between attempts to reconnect (longer than the bound: a lost connection is a
/// visible outage of this node, answered 503, never a window of stale answers).
const RECONNECT: Duration = Duration::from_millis(300);

/// What a commit changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Users, groups, roles, policies, keys, providers: the IAM view and role paths.
    Iam,
    /// Buckets and their configuration documents.
    Buckets,
}

impl Change {
    fn word(self) -> &'static str {
        match self {
            Change::Iam => "iam",
            Change::Buckets => "buckets",
        }
    }
}

/// A fresh name for this process among the nodes (random, so that two servers in one process,
/// as the tests run them, are two nodes).
pub fn new_node_name() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// In a write's transaction: announces `change` to the other nodes when the connection is
/// PostgreSQL's (SQLite has one node; nothing to do).
pub fn notify(conn: &Connection, change: Change) -> Result<()> {
    let Some((channel, node)) = conn.as_postgres().and_then(|pg| pg.announce()) else {
        return Ok(());
    };
    // Both are plain identifiers and hex (the configuration checks the schema prefix).
    conn.execute_batch(&format!("NOTIFY \"{channel}\", '{} {node}'", change.word()))
}

/// One node's watch over the channel: the instant its views are known fresh as of.
pub struct Watch {
    started: Instant,
    /// Milliseconds from `started` to the start of the last round trip whose notifications
    /// were applied; 0 until the first.
    fresh_as_of_ms: AtomicU64,
    stop: AtomicBool,
    /// This node's name (its watch connection's `application_name` ends with it).
    node: String,
    /// Applied notifications from other nodes, by kind (for tests and metrics).
    pub applied_iam: AtomicU64,
    pub applied_buckets: AtomicU64,
    /// Reconnections of the notification connection.
    pub reconnects: AtomicU64,
}

impl Watch {
    /// Whether the node's views are fresh enough to serve from.
    pub fn fresh(&self) -> bool {
        self.staleness().is_some_and(|s| s <= STALENESS_BOUND)
    }

    /// How long ago the views were last known fresh; `None` before they ever were.
    pub fn staleness(&self) -> Option<Duration> {
        let as_of = self.fresh_as_of_ms.load(Ordering::Acquire);
        if as_of == 0 {
            return None;
        }
        let now = self.started.elapsed();
        Some(now.saturating_sub(Duration::from_millis(as_of)))
    }

    fn confirm(&self, at: Instant) {
        let ms = u64::try_from(at.duration_since(self.started).as_millis()).unwrap_or(u64::MAX);
        self.fresh_as_of_ms.store(ms.max(1), Ordering::Release);
    }

    /// The `labstore_cluster_*` families (this node's own).
    pub fn render(&self, text: &mut String) {
        let staleness = self.staleness().map_or(-1.0, |s| s.as_secs_f64());
        text.push_str(&format!(
            "# HELP labstore_cluster_staleness_seconds How long ago this node's views were last confirmed fresh (-1: never); past 0.1 it refuses requests.\n\
             # TYPE labstore_cluster_staleness_seconds gauge\n\
             labstore_cluster_staleness_seconds {staleness}\n\
             # HELP labstore_cluster_rebuilds_total Views read again because another node changed them, by view.\n\
             # TYPE labstore_cluster_rebuilds_total counter\n\
             labstore_cluster_rebuilds_total{{view=\"iam\"}} {}\n\
             labstore_cluster_rebuilds_total{{view=\"buckets\"}} {}\n\
             # HELP labstore_cluster_reconnects_total Reconnections of the notification connection.\n\
             # TYPE labstore_cluster_reconnects_total counter\n\
             labstore_cluster_reconnects_total {}\n",
            self.applied_iam.load(Ordering::Relaxed),
            self.applied_buckets.load(Ordering::Relaxed),
            self.reconnects.load(Ordering::Relaxed),
        ));
    }

    /// This node's name among the nodes.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Ends the watch thread (at shutdown).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Starts the watch of a node whose metadata is on PostgreSQL at `url`, announcing on
/// `channel` as `node`. Its first pass (connect, listen, read everything) is done before it
/// returns, so a node serves only once it has listened.
pub fn start(
    url: &str,
    channel: &str,
    node: &str,
    iam: IamStore,
    objects: ObjectIndex,
    runtime: tokio::runtime::Handle,
) -> std::result::Result<Arc<Watch>, Error> {
    let watch = Arc::new(Watch {
        started: Instant::now(),
        fresh_as_of_ms: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        node: node.to_owned(),
        applied_iam: AtomicU64::new(0),
        applied_buckets: AtomicU64::new(0),
        reconnects: AtomicU64::new(0),
    });
    let task = Task {
        url: url.to_owned(),
        channel: channel.to_owned(),
        node: node.to_owned(),
        iam,
        objects,
        runtime,
        watch: Arc::clone(&watch),
    };
    // The first connection is made here, on a thread of its own (the client blocks on a
    // runtime of its own), so that a node that cannot listen does not start.
    let (first, answer) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("cluster-watch".into())
        .spawn(move || task.run(&first))
        .map_err(|e| Error::Invalid(format!("starting the cluster watch: {e}")))?;
    match answer.recv() {
        Ok(Ok(())) => Ok(watch),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(Error::Invalid(
            "the cluster watch ended before it started".into(),
        )),
    }
}

struct Task {
    url: String,
    channel: String,
    node: String,
    iam: IamStore,
    objects: ObjectIndex,
    runtime: tokio::runtime::Handle,
    watch: Arc<Watch>,
}

impl Task {
    fn run(self, first: &std::sync::mpsc::Sender<Result<()>>) {
        let mut first = Some(first);
        while !self.watch.stop.load(Ordering::Relaxed) {
            let ended = self.listen(&mut first);
            if let Some(first) = first.take() {
                // The first connection failed: the node does not start.
                let _ = first.send(ended);
                return;
            }
            if self.watch.stop.load(Ordering::Relaxed) {
                return;
            }
            if let Err(e) = ended {
                tracing::warn!(error = %e, "lost the cluster notification connection; serving stops after the staleness bound until it is back");
            }
            self.watch.reconnects.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(RECONNECT);
        }
    }

    /// One connection's life: LISTEN, read everything, then heartbeats until an error.
    fn listen(&self, first: &mut Option<&std::sync::mpsc::Sender<Result<()>>>) -> Result<()> {
        use std::str::FromStr;
        let mut config = postgres::Config::from_str(&self.url)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        config.application_name(&format!("labstore-watch-{}", self.node));
        let mut client = config.connect(postgres::NoTls)?;
        client.batch_execute(&format!("LISTEN \"{}\"", self.channel))?;
        // Whatever changed while this node was not listening: read it all.
        let began = Instant::now();
        self.apply(true, true)?;
        self.reload_stats();
        self.watch.confirm(began);
        if let Some(first) = first.take() {
            let _ = first.send(Ok(()));
        }
        let mut stats_at = Instant::now();
        while !self.watch.stop.load(Ordering::Relaxed) {
            let round = Instant::now();
            client.simple_query("SELECT 1")?;
            let (mut iam, mut buckets) = (false, false);
            {
                let mut arrived = client.notifications();
                let mut arrived = arrived.iter();
                while let Some(n) = arrived.next()? {
                    self.note(n.payload(), &mut iam, &mut buckets);
                }
            }
            self.apply(iam, buckets)?;
            self.watch.confirm(round);
            if stats_at.elapsed() >= STATS_EVERY {
                self.reload_stats();
                stats_at = Instant::now();
            }
            // Until the next heartbeat, or a notification: applied at once (the next round
            // trip then confirms it with whatever else arrived).
            let woken = client.notifications().timeout_iter(HEARTBEAT).next()?;
            if let Some(n) = woken {
                let (mut iam, mut buckets) = (false, false);
                self.note(n.payload(), &mut iam, &mut buckets);
                self.apply(iam, buckets)?;
            }
        }
        Ok(())
    }

    /// Which views a notification asks to read again; a node's own are already applied.
    fn note(&self, payload: &str, iam: &mut bool, buckets: &mut bool) {
        let mut words = payload.split(' ');
        let (kind, node) = (words.next(), words.next());
        if node == Some(self.node.as_str()) {
            return;
        }
        match kind {
            Some("iam") => *iam = true,
            Some("buckets") => *buckets = true,
            _ => tracing::warn!(payload, "an unknown cluster notification; ignored"),
        }
    }

    fn apply(&self, iam: bool, buckets: bool) -> Result<()> {
        let failed = |what: &str, e: String| Error::Invalid(format!("reading {what} again: {e}"));
        if iam {
            self.runtime
                .block_on(self.iam.follow_other_node())
                .map_err(|e| failed("the IAM view", e.to_string()))?;
            self.watch.applied_iam.fetch_add(1, Ordering::Relaxed);
        }
        if buckets {
            self.runtime
                .block_on(self.objects.reload_buckets())
                .map_err(|e| failed("the buckets", e.to_string()))?;
            self.watch.applied_buckets.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    fn reload_stats(&self) {
        if let Err(e) = self.runtime.block_on(self.objects.reload_storage_stats()) {
            tracing::warn!(error = %e, "reading storage per bucket again failed");
        }
    }
}

/// One background worker's turn among the nodes (lifecycle, scrub): a session-level advisory
/// lock held on a connection of its own. The node holding it runs the worker; when that node
/// dies its session ends, the lock is released, and the next node to ask takes it. On SQLite
/// (one node) it is always held.
pub struct Lease {
    target: Option<(String, i64)>,
    name: &'static str,
    held: std::sync::Mutex<Option<crate::db::sql::postgres::PgConn>>,
}

impl Lease {
    /// The lease of worker `name` among the nodes sharing this configuration's metadata.
    pub fn new(config: &crate::config::Config, name: &'static str) -> Lease {
        let metadata = &config.backend.metadata;
        let target = match metadata.engine {
            crate::config::MetadataEngine::Sqlite => None,
            crate::config::MetadataEngine::Postgres => {
                let url = metadata
                    .postgres
                    .url
                    .as_ref()
                    .map(|u| u.expose().to_owned())
                    .unwrap_or_default();
                Some((url, lock_id(&metadata.channel(), name)))
            }
        };
        Lease {
            target,
            name,
            held: std::sync::Mutex::new(None),
        }
    }

    /// Whether this node runs the worker now: it holds the lock, or has just taken it.
    /// Blocks (a round trip, or a connection): call it off the runtime's threads.
    pub fn held(&self) -> bool {
        let Some((url, id)) = &self.target else {
            return true;
        };
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(conn) = held.as_ref() {
            if conn.batch("SELECT 1").is_ok() {
                return true;
            }
            tracing::warn!(
                worker = self.name,
                "lost the connection holding this worker's lease"
            );
            *held = None;
        }
        match take(url, *id) {
            Ok(Some(conn)) => {
                tracing::info!(worker = self.name, "this node now runs the worker");
                *held = Some(conn);
                true
            }
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(worker = self.name, error = %e, "could not ask for this worker's lease");
                false
            }
        }
    }
}

fn take(url: &str, id: i64) -> Result<Option<crate::db::sql::postgres::PgConn>> {
    use std::str::FromStr;
    let mut config = postgres::Config::from_str(url)?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(5));
    }
    config.application_name("labstore-lease");
    let conn = crate::db::sql::postgres::PgConn::new(config.connect(postgres::NoTls)?);
    let got: bool = conn
        .client()
        .query_one("SELECT pg_try_advisory_lock($1)", &[&id])?
        .get(0);
    Ok(got.then_some(conn))
}

/// The advisory lock id of worker `name` among the nodes announcing on `channel`.
fn lock_id(channel: &str, name: &str) -> i64 {
    advisory_id(&[b"labstore lease", channel.as_bytes(), name.as_bytes()])
}

/// A PostgreSQL advisory lock id for what `parts` name: 64 bits of a SHA-256 of them, each
/// ended by a zero byte (a collision only makes two holders take turns).
pub fn advisory_id(parts: &[&[u8]]) -> i64 {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    for part in parts {
        hash.update(part);
        hash.update([0]);
    }
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}
