//! Builds the shared state, binds the admin, IAM and S3 listeners, and owns the shutdown
//! order: stop accepting -> drain connections (with a deadline) -> close the database writer
//! queue -> join the writer thread.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, Server};
use crate::iam_store::{IamStore, OpenError, RootCredentials};
use crate::objects::ObjectIndex;
use crate::state::{Inner, Listener, Metrics, Readiness, State};
use crate::storage::BlobStore;
use crate::{admin, http, iam, s3};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Store(#[from] OpenError),
    #[error("cannot open the object index: {0}")]
    Objects(#[from] crate::db::DbError),
    #[error("cannot open the object storage under {path}: {source}")]
    Storage {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Oidc(#[from] crate::oidc::KeySourceError),
    #[error(transparent)]
    Lock(#[from] crate::lockfile::LockError),
    #[error("TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
    #[error("cannot listen for the other nodes' changes: {0}")]
    Cluster(crate::db::sql::Error),
    #[error("audit log: {0}")]
    Audit(#[from] crate::audit::SinkError),
    #[error("cannot bind the {listener} listener on {host}:{port}: {source}")]
    Bind {
        listener: &'static str,
        host: String,
        port: u16,
        source: std::io::Error,
    },
}

/// A started server: its bound addresses and the handles needed to stop it.
pub struct Running {
    /// Released when the server has stopped.
    _lock: crate::lockfile::DataDirLock,
    state: State,
    shutdown: CancellationToken,
    servers: Vec<JoinHandle<()>>,
    addrs: [SocketAddr; 3],
}

/// Runs the server until `shutdown` completes, then stops it in order; reloads the
/// listeners' certificates each time `reloads` yields (SIGHUP).
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()>,
    mut reloads: crate::signal::Reloads,
) -> Result<(), StartupError> {
    let running = start(config).await?;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            () = reloads.next() => {
                tracing::info!("SIGHUP: reloading the TLS certificates");
                running.reload_tls();
            }
        }
    }
    running.stop().await;
    Ok(())
}

/// Opens the stores, binds the three listeners and starts serving.
pub async fn start(config: Config) -> Result<Running, StartupError> {
    let storage = &config.backend.storage;
    // One process at a time owns the data directory (`labstore keys rotate` takes it too).
    // On PostgreSQL several nodes share the data directory: they share the lock too, which
    // still keeps every offline command out.
    let lock = match config.backend.metadata.engine {
        crate::config::MetadataEngine::Sqlite => {
            crate::lockfile::DataDirLock::acquire(&storage.data_dir)?
        }
        crate::config::MetadataEngine::Postgres => {
            crate::lockfile::DataDirLock::acquire_shared(&storage.data_dir)?
        }
    };
    let mut iam_db = config.backend.iam.db.to_db_config();
    // This process among the nodes sharing the metadata (`crate::cluster`).
    let node = crate::cluster::new_node_name();
    iam_db.postgres = config.backend.metadata.postgres_target("iam", &node);
    let iam = IamStore::open(
        &storage.data_dir,
        &storage.keys_dir,
        &iam_db,
        &config.backend.iam.account_id,
    )
    .await?;
    let (root, generated) = iam
        .root_credentials(&config.backend.admin.auth, &config.backend.iam.account_id)
        .await?;
    if generated {
        announce_generated_root(&root);
    }
    let (objects, blobs) = open_object_storage(&config, &node).await?;
    let oidc = crate::oidc::OidcVerifier::new(&config.backend.iam.oidc)?;
    let tls = crate::tls::Certificates::open(&config)?;
    if let Some(cert) = &tls.self_signed {
        announce_self_signed(cert);
    }
    let audit = crate::audit::AuditLog::start(&config)?;
    let mut limits = connection_limits(&config).into_iter();
    let readiness = Readiness::default();
    let mut bound = Vec::with_capacity(3);
    for listener in Listener::ALL {
        let socket = bind(listener, server_config(&config, listener)).await?;
        let port = socket.local_addr().map_or(0, |a| a.port());
        readiness.mark_bound(listener, port);
        bound.push((listener, socket));
    }
    let grace = Duration::from_millis(config.backend.shutdown_timeout_ms);
    let trusted_proxies = config.backend.trusted_proxies();
    let console = crate::console::Sessions::configured(&config);
    // Several nodes: listen for the others' changes before serving (`crate::cluster`).
    let cluster = match config.backend.metadata.engine {
        crate::config::MetadataEngine::Sqlite => None,
        crate::config::MetadataEngine::Postgres => {
            let url = config
                .backend
                .metadata
                .postgres
                .url
                .as_ref()
                .map(|u| u.expose().to_owned())
                .unwrap_or_default();
            let watch = crate::cluster::start(
                &url,
                &config.backend.metadata.channel(),
                &node,
                iam.clone(),
                objects.clone(),
                tokio::runtime::Handle::current(),
            )
            .map_err(StartupError::Cluster)?;
            Some(watch)
        }
    };
    let state = State::new(Inner {
        cluster,
        history: crate::console::history::History::default(),
        console,
        trusted_proxies,
        config,
        iam,
        oidc,
        objects,
        blobs,
        root,
        readiness,
        metrics: Metrics::default(),
        tls,
        audit,
    });
    let shutdown = CancellationToken::new();
    let mut addrs = [SocketAddr::from(([0, 0, 0, 0], 0)); 3];
    let mut servers = Vec::with_capacity(3);
    for (listener, socket) in bound {
        let addr = socket
            .local_addr()
            .map_err(|source| bind_error(&state.config, listener, source))?;
        addrs[listener as usize] = addr;
        let limits = limits.next().expect("one per listener");
        let tls = state.tls.get(listener).map(|t| t.acceptor.clone());
        tracing::info!(
            listener = listener.name(),
            %addr,
            scheme = if tls.is_some() { "https" } else { "http" },
            max_connections = limits.max_connections,
            max_connections_per_client = limits.max_connections_per_client,
            "listening"
        );
        let settings = http::Listening {
            name: listener.name(),
            limits,
            stats: Arc::clone(state.metrics.connections(listener)),
            grace,
            tls,
        };
        servers.push(tokio::spawn(serve(
            listener,
            socket,
            state.clone(),
            settings,
            shutdown.clone(),
        )));
    }
    servers.push(tokio::spawn(crate::lifecycle::run(
        state.clone(),
        shutdown.clone(),
    )));
    servers.push(tokio::spawn(crate::scrub::run(
        state.clone(),
        shutdown.clone(),
    )));
    if state.console.is_some() {
        servers.push(tokio::spawn(crate::console::history::run(
            state.clone(),
            shutdown.clone(),
        )));
    }
    servers.push(tokio::spawn(flush_last_used(
        state.clone(),
        shutdown.clone(),
    )));
    Ok(Running {
        _lock: lock,
        state,
        shutdown,
        servers,
        addrs,
    })
}

/// How often access-key last-used times are written: often enough to be useful, rarely
/// enough that signing a request never waits on the database.
const LAST_USED_FLUSH: Duration = Duration::from_secs(5);

/// Writes the access-key last-used records gathered on the request path, periodically and
/// once more at shutdown (before the writer closes).
async fn flush_last_used(state: State, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(LAST_USED_FLUSH);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stopping = tokio::select! {
            _ = tick.tick() => false,
            () = shutdown.cancelled() => true,
        };
        if let Err(e) = state.iam.flush_last_used().await {
            tracing::warn!(error = %e, "writing access key last-used times failed");
        }
        if stopping {
            return;
        }
    }
}

impl Running {
    /// Reads every listener's certificate files again (SIGHUP); see `tls::Certificates`.
    pub fn reload_tls(&self) -> usize {
        self.state.tls.reload()
    }

    pub fn addr(&self, listener: Listener) -> SocketAddr {
        self.addrs[listener as usize]
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Stops accepting, drains in-flight requests within the configured deadline, then
    /// closes the database writer: every queued write is committed or answered with an error.
    pub async fn stop(self) {
        tracing::info!("shutdown: stopping the listeners");
        self.state.readiness.mark_shutting_down();
        self.shutdown.cancel();
        // The listeners drain; the last-used flusher writes its final batch.
        for server in self.servers {
            if server.await.is_err() {
                tracing::error!("a background task ended abnormally");
            }
        }
        if let Some(watch) = &self.state.cluster {
            watch.stop();
        }
        tracing::info!("shutdown: listeners stopped; closing the iam database writer");
        self.state.iam.db().close().await;
        tracing::info!("shutdown: closing the object index writer");
        self.state.objects.db().close().await;
        if let Some(audit) = &self.state.audit {
            tracing::info!("shutdown: writing the audit records still queued");
            let audit = Arc::clone(audit);
            let limit = Duration::from_millis(self.state.config.backend.shutdown_timeout_ms);
            let _ = tokio::task::spawn_blocking(move || audit.flush(limit)).await;
        }
        tracing::info!("shutdown: database writer joined; exiting");
    }
}

async fn serve(
    listener: Listener,
    socket: TcpListener,
    state: State,
    settings: http::Listening,
    shutdown: CancellationToken,
) {
    // Boxed: hyper keeps and moves the response future, and an unboxed one carries the state
    // of every API's request skeleton.
    let handler = move |req, peer| {
        let state = state.clone();
        Box::pin(async move {
            let response = match listener {
                Listener::Admin => admin::handle(state.clone(), req, peer).await,
                // STS shares the IAM port: requests signed for `sts`, and unsigned ones
                // (AssumeRoleWithWebIdentity is unsigned; STS refuses any other action unsigned).
                Listener::Iam if signed_for(&req, "sts") || !is_signed(&req) => {
                    iam::sts::handle(state.clone(), listener, req, peer).await
                }
                Listener::Iam => iam::handle(state.clone(), listener, req, peer).await,
                // Some tools send IAM and STS calls to the S3 endpoint; the credential scope
                // says so.
                Listener::S3 if signed_for(&req, "iam") => {
                    iam::handle(state.clone(), listener, req, peer).await
                }
                Listener::S3 if signed_for(&req, "sts") => {
                    iam::sts::handle(state.clone(), listener, req, peer).await
                }
                Listener::S3 => s3::handle(state.clone(), req, peer).await,
            };
            state.metrics.record(listener, response.status().as_u16());
            response
        })
    };
    http::serve(socket, handler, settings, shutdown).await
}

/// Descriptors kept aside from connections: standard streams, listeners, epoll, log
/// output, and slack for whatever else the process opens.
const RESERVED_DESCRIPTORS: u64 = 64;

/// Descriptors one SQLite connection holds: the database, its WAL and its shared memory.
const DESCRIPTORS_PER_DB_CONNECTION: u64 = 3;

/// Each listener's limits from the configuration, in `Listener::ALL` order, with the caps
/// scaled down if the descriptor limit (raised to the hard limit first) cannot cover them.
fn connection_limits(config: &Config) -> Vec<http::Limits> {
    use http::descriptors::{fit, raise_nofile_limit, Claim};
    let claims: Vec<Claim> = Listener::ALL
        .into_iter()
        .map(|listener| Claim {
            connections: server_config(config, listener).max_connections as usize,
            // An S3 connection may also hold an object file (an upload's, a download's).
            per_connection: if listener == Listener::S3 { 2 } else { 1 },
        })
        .collect();
    let mut caps: Vec<usize> = claims.iter().map(|c| c.connections).collect();
    match raise_nofile_limit() {
        Ok(nofile) => {
            let databases = [&config.backend.iam.db, &config.backend.s3.db];
            let reserve = RESERVED_DESCRIPTORS
                + databases
                    .iter()
                    .map(|db| (u64::from(db.max_open_conns) + 1) * DESCRIPTORS_PER_DB_CONNECTION)
                    .sum::<u64>();
            if let Some(scaled) = fit(&claims, reserve, nofile) {
                tracing::warn!(
                    nofile, configured = ?caps, scaled = ?scaled,
                    "the descriptor limit (RLIMIT_NOFILE) cannot cover the listeners' \
                     max_connections (admin, iam, s3); scaled down. Raise the hard limit \
                     (systemd LimitNOFILE=, docker --ulimit nofile=) to serve more"
                );
                caps = scaled;
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot read or raise RLIMIT_NOFILE"),
    }
    let backend = &config.backend;
    Listener::ALL
        .into_iter()
        .zip(caps)
        .map(|(listener, max_connections)| {
            let per_client = server_config(config, listener).max_connections_per_client;
            http::Limits {
                max_connections,
                max_connections_per_client: (per_client as usize).min(max_connections),
                exempt: backend.trusted_proxies(),
                header_read_timeout: Duration::from_millis(backend.header_read_timeout_ms),
                body_read_timeout: Duration::from_millis(backend.body_read_timeout_ms),
            }
        })
        .collect()
}

/// Opens the object index and the blob directory, then removes blobs that no object or part
/// refers to (left by a crash between a blob's rename and its index commit). This runs
/// before any listener is bound, so no upload can be in flight.
async fn open_object_storage(
    config: &Config,
    node: &str,
) -> Result<(ObjectIndex, BlobStore), StartupError> {
    let s3 = &config.backend.s3;
    let data_dir = &config.backend.storage.data_dir;
    let mut db = s3.db.to_db_config();
    db.durable = s3.io.fsync;
    db.postgres = config.backend.metadata.postgres_target("objects", node);
    // Several nodes share the data directory: another node's upload may be in flight, so
    // neither its temporary files nor a blob the index does not know yet may be removed here
    // (the scrub removes orphans past their grace instead).
    let shared = db.postgres.is_some();
    let objects = ObjectIndex::open(data_dir, &db)?;
    let storage_error = |source| StartupError::Storage {
        path: data_dir.join("objects").display().to_string(),
        source,
    };
    let blobs = BlobStore::open_shared(data_dir, s3.io.fsync, s3.io.buffer_size as usize, shared)
        .map_err(storage_error)?;
    blobs.space().set_floor(s3.min_free_bytes);
    // A backup still copying keeps every unreferenced blob: some may be in its snapshot.
    let held = objects.db().write(crate::backup::holds::at_startup).await?;
    if held {
        tracing::info!(
            "a backup is running: the sweep of unreferenced blobs waits for the next start"
        );
    } else if shared {
        tracing::debug!("shared data directory: no startup sweep of unreferenced blobs");
    } else {
        blobs
            .sweep(|ids| objects.referenced_blobs(ids))
            .map_err(storage_error)?;
    }
    blobs.defer_removals_to(objects.db().clone());
    Ok((objects, blobs))
}

/// Whether a request's SigV4 credential scope names `service` (header or presigned).
fn signed_for<B>(req: &hyper::Request<B>, service: &str) -> bool {
    let scope = format!("/{service}/aws4_request");
    let in_header = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256") && v.contains(&scope));
    let in_query = req.uri().query().is_some_and(|q| {
        q.contains("X-Amz-Credential=")
            && (q.contains(&format!("%2F{service}%2Faws4_request")) || q.contains(&scope))
    });
    in_header || in_query
}

/// Whether a request carries any signature (an Authorization header or a presigned query).
fn is_signed<B>(req: &hyper::Request<B>) -> bool {
    req.headers().contains_key(hyper::header::AUTHORIZATION)
        || req
            .uri()
            .query()
            .is_some_and(|q| q.contains("X-Amz-Credential=") || q.contains("Signature="))
}

fn server_config(config: &Config, listener: Listener) -> &Server {
    match listener {
        Listener::Admin => &config.backend.admin.server,
        Listener::Iam => &config.backend.iam.server,
        Listener::S3 => &config.backend.s3.server,
    }
}

async fn bind(listener: Listener, server: &Server) -> Result<TcpListener, StartupError> {
    TcpListener::bind((server.host.as_str(), server.port))
        .await
        .map_err(|source| StartupError::Bind {
            listener: listener.name(),
            host: server.host.clone(),
            port: server.port,
            source,
        })
}

fn bind_error(config: &Config, listener: Listener, source: std::io::Error) -> StartupError {
    let server = server_config(config, listener);
    StartupError::Bind {
        listener: listener.name(),
        host: server.host.clone(),
        port: server.port,
        source,
    }
}

/// Tells where the development mode's certificate is, for clients to trust: in the log and
/// on standard output.
fn announce_self_signed(cert: &std::path::Path) {
    tracing::info!(
        cert_file = %cert.display(),
        "TLS development mode: listeners without a certificate of their own serve a \
         self-signed one; clients must trust this file (aws --ca-bundle)"
    );
    println!(
        "\nLabStore serves HTTPS with a self-signed certificate (development only).\n\
         Trust it in clients: aws --ca-bundle {0}, boto3 verify=\"{0}\", rclone --ca-cert {0}\n",
        cert.display()
    );
}

/// Shows a freshly generated root secret, once, on standard output (never in the logs).
fn announce_generated_root(root: &RootCredentials) {
    println!(
        "\nLabStore generated the root credentials on this first start; they are shown only once.\n\
         \n    access key: {}\n    secret key: {}\n\n\
         Keep the secret somewhere safe: it is stored sealed and will not be printed again.\n\
         To choose your own, set backend.admin.auth.secret_key (LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY\n\
         or --admin-auth-secret-key, at least 8 characters).\n",
        root.access_key,
        root.secret.expose()
    );
}
