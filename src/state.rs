//! The state every listener shares: one cheap, cloneable handle built once by `app`.

use crate::metrics::RequestMetrics;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::cidr::Cidr;
use crate::config::Config;
use crate::http::ConnectionStats;
use crate::iam_store::{IamStore, RootCredentials};

#[derive(Clone)]
pub struct State(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    /// IAM users, keys, policies and the sealed secrets.
    pub iam: IamStore,
    /// The object index: buckets, objects, uploads.
    pub objects: crate::objects::ObjectIndex,
    /// Object bytes on disk.
    pub blobs: crate::storage::BlobStore,
    /// The account root; bypasses identity policies.
    pub root: RootCredentials,
    /// Verifies web identity tokens for IAM OIDC providers (STS AssumeRoleWithWebIdentity).
    pub oidc: crate::oidc::OidcVerifier,
    /// Parsed `backend.trusted_proxies`: whose forwarding headers policies may believe.
    pub trusted_proxies: Vec<Cidr>,
    pub readiness: Readiness,
    pub metrics: Metrics,
    /// The listeners' certificates, reloaded on SIGHUP (`crate::tls`).
    pub tls: crate::tls::Certificates,
    /// The audit trail, when a listener is audited (`crate::audit`).
    pub audit: Option<Arc<crate::audit::AuditLog>>,
    /// The web console's sessions; `None` when the console is off (`crate::console`).
    pub console: Option<crate::console::Sessions>,
    /// The dashboard's last hour of request totals (`crate::console::history`).
    pub history: crate::console::history::History,
    /// With the metadata on PostgreSQL: the watch that keeps this node's views fresh and says
    /// whether they are (`crate::cluster`).
    pub cluster: Option<Arc<crate::cluster::Watch>>,
}

impl Inner {
    /// Whether this node may serve from its views: always on SQLite; on PostgreSQL while the
    /// cluster watch confirms them within `cluster::STALENESS_BOUND`.
    pub fn views_fresh(&self) -> bool {
        self.cluster.as_ref().is_none_or(|w| w.fresh())
    }

    /// Waits, at most one staleness bound, for the watch to confirm the views again (a
    /// heartbeat late on a loaded machine); whether it did. A request is held, not refused,
    /// through such a hiccup, and never served from unconfirmed views.
    pub async fn wait_views_fresh(&self) -> bool {
        let deadline = tokio::time::Instant::now() + crate::cluster::STALENESS_BOUND;
        loop {
            if self.views_fresh() {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
}

impl State {
    pub fn new(inner: Inner) -> State {
        State(Arc::new(inner))
    }
}

impl std::ops::Deref for State {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The three listeners, by name, for logs and readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    Admin,
    Iam,
    S3,
}

impl Listener {
    pub const ALL: [Listener; 3] = [Listener::Admin, Listener::Iam, Listener::S3];

    pub fn name(self) -> &'static str {
        match self {
            Listener::Admin => "admin",
            Listener::Iam => "iam",
            Listener::S3 => "s3",
        }
    }
}

/// What `/ready` reports: which listeners are bound, and whether shutdown has begun.
#[derive(Debug, Default)]
pub struct Readiness {
    bound: [AtomicBool; 3],
    /// The port each listener is bound to (port 0 in the configuration picks one): the
    /// console's share links name the S3 listener's.
    ports: [std::sync::atomic::AtomicU16; 3],
    shutting_down: AtomicBool,
}

impl Readiness {
    pub fn mark_bound(&self, listener: Listener, port: u16) {
        self.ports[listener as usize].store(port, Ordering::Release);
        self.bound[listener as usize].store(true, Ordering::Release);
    }

    /// The port `listener` is bound to (0 before it is).
    pub fn port(&self, listener: Listener) -> u16 {
        self.ports[listener as usize].load(Ordering::Acquire)
    }

    pub fn is_bound(&self, listener: Listener) -> bool {
        self.bound[listener as usize].load(Ordering::Acquire)
    }

    pub fn mark_shutting_down(&self) {
        self.shutting_down.store(true, Ordering::Release);
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }
}

/// Counters for `/metrics`: responses per listener and status class (1xx..5xx), each
/// listener's connection counters (kept by its serve loop), and the S3 and IAM requests per
/// operation (kept by the request skeleton). Relaxed atomics: counts are independent and
/// read only for reporting.
#[derive(Default)]
pub struct Metrics {
    responses: [[AtomicU64; 5]; 3],
    connections: [Arc<ConnectionStats>; 3],
    pub requests: RequestMetrics,
    /// What the lifecycle worker did.
    pub lifecycle: crate::lifecycle::LifecycleStats,
    /// Authentication failures and authorization denials.
    pub access: crate::metrics::AccessMetrics,
    /// What the background scrub did.
    pub scrub: crate::scrub::ScrubStats,
}

impl Metrics {
    pub fn record(&self, listener: Listener, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.responses[listener as usize][class].fetch_add(1, Ordering::Relaxed);
    }

    /// `listener`'s open connections, waits at its cap, refusals and body timeouts.
    pub fn connections(&self, listener: Listener) -> &Arc<ConnectionStats> {
        &self.connections[listener as usize]
    }

    /// Responses so far from `listener` with a status in `class` (1 for 1xx … 5 for 5xx).
    pub fn responses(&self, listener: Listener, class: usize) -> u64 {
        self.responses[listener as usize][class - 1].load(Ordering::Relaxed)
    }
}
