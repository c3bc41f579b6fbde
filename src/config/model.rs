//! The validated configuration, with the built-in defaults. Field names are the YAML keys.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cidr::{parse_cidr, Cidr};
use crate::crypto::Secret;
use crate::db::DbConfig;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub backend: Backend,
    pub log: Log,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Backend {
    pub storage: Storage,
    /// Grace period for in-flight requests on shutdown.
    pub shutdown_timeout_ms: u64,
    /// Longest wait for a request's headers, and so for the next request on an idle
    /// kept-alive connection (slow-loris guard).
    pub header_read_timeout_ms: u64,
    /// Longest a request body may go without a byte while it is being read.
    pub body_read_timeout_ms: u64,
    /// Comma-separated addresses or CIDR blocks of reverse proxies whose forwarding headers
    /// are believed; validated on load (see [`Backend::trusted_proxies`]).
    pub trusted_proxies: Option<String>,
    /// TLS for every listener without its own certificate: the development mode.
    pub tls: DevTls,
    pub admin: Admin,
    pub iam: Iam,
    pub s3: S3,
    /// The audit trail's sink (which listeners are audited: `backend.<listener>.audit`).
    pub audit: Audit,
    /// Where the object index and the IAM store live (`docs/scale-out.md`).
    pub metadata: MetadataSection,
}

impl Default for Backend {
    fn default() -> Self {
        Backend {
            storage: Storage::default(),
            shutdown_timeout_ms: 10_000,
            header_read_timeout_ms: 30_000,
            // As long as the header wait: a client that paused that long between two body
            // bytes is gone, and S3 clients retry RequestTimeout.
            body_read_timeout_ms: 30_000,
            trusted_proxies: None,
            tls: DevTls::default(),
            admin: Admin::default(),
            iam: Iam::default(),
            s3: S3::default(),
            audit: Audit::default(),
            metadata: MetadataSection::default(),
        }
    }
}

/// `backend.metadata`: the metadata engine.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetadataSection {
    pub engine: MetadataEngine,
    pub postgres: Postgres,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetadataEngine {
    /// Two SQLite files under `data_dir/metadata`: one node.
    #[default]
    Sqlite,
    /// A PostgreSQL database shared by every node.
    Postgres,
}

/// `backend.metadata.postgres`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Postgres {
    /// `postgres://user:password@host:port/database?...` (or key=value form). May carry a
    /// password: masked by `config show`.
    pub url: Option<Secret>,
    /// Prefix of the two schemas: `<schema>_iam` and `<schema>_objects`.
    pub schema: String,
    /// Read connections per database and node.
    pub pool_size: u32,
    /// Writer connections per database and node.
    pub writers: u32,
    pub statement_timeout_ms: u64,
}

impl Default for Postgres {
    fn default() -> Self {
        Postgres {
            url: None,
            schema: "labstore".into(),
            pool_size: 16,
            writers: 8,
            statement_timeout_ms: 5_000,
        }
    }
}

impl MetadataSection {
    /// The channel on which the nodes sharing these schemas announce their changes.
    pub fn channel(&self) -> String {
        format!("{}_changes", self.postgres.schema)
    }

    /// Where database `name` ("iam", "objects") lives on PostgreSQL, for node `node`; `None` on
    /// SQLite.
    pub fn postgres_target(&self, name: &str, node: &str) -> Option<crate::db::PgTarget> {
        if self.engine != MetadataEngine::Postgres {
            return None;
        }
        let pg = &self.postgres;
        Some(crate::db::PgTarget {
            url: pg
                .url
                .as_ref()
                .map(|u| u.expose().to_owned())
                .unwrap_or_default(),
            schema: format!("{}_{name}", pg.schema),
            pool_size: pg.pool_size,
            writers: pg.writers as usize,
            statement_timeout: Duration::from_millis(pg.statement_timeout_ms),
            channel: self.channel(),
            node: node.to_owned(),
        })
    }
}

/// Where audit records go (`crate::audit`, `docs/operations.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Audit {
    pub sink: AuditSink,
    /// Records waiting for the sink; beyond it they are dropped (and counted).
    pub queue: u64,
    pub file: AuditFile,
    pub webhook: AuditWebhook,
}

impl Default for Audit {
    fn default() -> Self {
        Audit {
            sink: AuditSink::File,
            queue: 16_384,
            file: AuditFile {
                path: "./audit/audit.log".into(),
                max_bytes: 100 * 1024 * 1024,
                keep: 10,
            },
            webhook: AuditWebhook {
                url: None,
                timeout_ms: 5_000,
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditSink {
    File,
    Stdout,
    Webhook,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditFile {
    pub path: PathBuf,
    /// The file is rotated before it would grow past this.
    pub max_bytes: u64,
    /// Rotated files kept (`audit.log.1` … `audit.log.<keep>`).
    pub keep: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditWebhook {
    /// `http://` or `https://` (the system's CA roots); required with the webhook sink.
    pub url: Option<String>,
    /// Longest a POST of a batch may take before the batch is dropped.
    pub timeout_ms: u64,
}

impl Backend {
    /// The trusted proxies as ranges. The text was checked on load, so nothing is dropped
    /// here but blanks.
    pub fn trusted_proxies(&self) -> Vec<Cidr> {
        let text = self.trusted_proxies.as_deref().unwrap_or_default();
        text.split(',')
            .filter_map(|c| parse_cidr(c.trim()))
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Storage {
    pub data_dir: PathBuf,
    pub keys_dir: PathBuf,
}

impl Default for Storage {
    fn default() -> Self {
        Storage {
            data_dir: "./data".into(),
            keys_dir: "./keys".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    pub host: String,
    pub port: u16,
    /// Connections served at once; at the cap, accepting pauses until one ends.
    pub max_connections: u32,
    /// Connections one client address may hold at once (trusted proxies exempt).
    pub max_connections_per_client: u32,
    /// HTTPS on this listener (`crate::tls`); plain HTTP when neither file is set.
    #[serde(default)]
    pub tls: ServerTls,
}

/// A listener's certificate: both files, or neither (a configuration rule).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerTls {
    /// PEM certificate, then any intermediates (the chain a client is sent).
    pub cert_file: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of the certificate.
    pub key_file: Option<PathBuf>,
}

/// The development mode: one self-signed certificate, generated on first start into
/// `keys_dir`, for every listener without a certificate of its own.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DevTls {
    pub self_signed: bool,
    /// Comma-separated DNS names and IP addresses the certificate is for.
    pub names: String,
}

impl Default for DevTls {
    fn default() -> Self {
        DevTls {
            self_signed: false,
            names: "localhost,127.0.0.1,::1".into(),
        }
    }
}

impl DevTls {
    /// The names, trimmed, blanks dropped.
    pub fn names(&self) -> Vec<String> {
        self.names
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

impl Server {
    /// A listener on all interfaces; one client may hold a quarter of its slots, so at
    /// least four clients are always served.
    fn on(port: u16, max_connections: u32) -> Server {
        Server {
            host: "0.0.0.0".into(),
            port,
            max_connections,
            max_connections_per_client: max_connections / 4,
            tls: ServerTls::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Admin {
    pub server: Server,
    pub auth: AdminAuth,
    pub console: Console,
}

impl Default for Admin {
    fn default() -> Self {
        Admin {
            // Probes and a metrics scraper need few connections.
            server: Server::on(6787, 64),
            auth: AdminAuth::default(),
            console: Console::default(),
        }
    }
}

/// The web console on the admin listener (`docs/console.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Console {
    pub enabled: bool,
    /// A session unused this long is signed out.
    pub idle_timeout_seconds: u64,
    /// A session ends this long after sign-in, however it is used.
    pub max_session_seconds: u64,
    /// Sign-in attempts one client address may make per minute.
    pub sign_ins_per_minute: u32,
    /// Public base URL of the S3 listener, for share links (presigned URLs name a host);
    /// unset: the console request's host name with the S3 listener's port and scheme.
    pub s3_url: Option<String>,
}

impl Default for Console {
    fn default() -> Self {
        Console {
            enabled: true,
            idle_timeout_seconds: 1800,
            max_session_seconds: 43_200,
            sign_ins_per_minute: 10,
            s3_url: None,
        }
    }
}

/// The account root's credentials.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminAuth {
    pub access_key: String,
    /// `None`: generated on first start and kept sealed in the database.
    pub secret_key: Option<Secret>,
}

impl Default for AdminAuth {
    fn default() -> Self {
        AdminAuth {
            access_key: "admin".into(),
            secret_key: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Iam {
    pub server: Server,
    pub account_id: String,
    pub db: DbSettings,
    /// Where the keys of OpenID Connect issuers come from (`crate::oidc`).
    pub oidc: Oidc,
    pub sts: Sts,
    /// One audit record per request on this listener (`crate::audit`).
    pub audit: bool,
}

/// STS sessions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Sts {
    /// The shortest session, in seconds: 900 as on AWS; shorter only to test expiry.
    pub min_duration_seconds: u32,
}

impl Default for Sts {
    fn default() -> Self {
        Sts {
            min_duration_seconds: 900,
        }
    }
}

impl Default for Iam {
    fn default() -> Self {
        Iam {
            server: Server::on(6788, 256),
            account_id: "000000000000".into(),
            db: DbSettings::default(),
            sts: Sts::default(),
            oidc: Oidc::default(),
            audit: false,
        }
    }
}

/// How web identity tokens' signing keys are found (`docs/iam.md`, OpenID Connect).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Oidc {
    /// A PEM bundle of CA certificates trusted for issuers, besides the system's.
    pub ca_file: Option<PathBuf>,
    /// A directory of JWKS files, one per issuer (`<provider URL without https://,
    /// percent-encoded>.json`), used instead of fetching that issuer's keys.
    pub jwks_dir: Option<PathBuf>,
    /// How long fetched keys are used before they are fetched again.
    pub cache_ttl_ms: u64,
    /// The least time between two fetches of one issuer's keys (a token naming an unknown
    /// key fetches again only past it).
    pub refresh_interval_ms: u64,
}

impl Default for Oidc {
    fn default() -> Self {
        Oidc {
            ca_file: None,
            jwks_dir: None,
            cache_ttl_ms: 3_600_000,
            refresh_interval_ms: 60_000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DbSettings {
    pub max_open_conns: u32,
    pub max_idle_conns: u32,
    pub write_chan_cap: u32,
    pub timeout_ms: u64,
    pub read_cache_size_kib: u32,
    pub writer_cache_size_kib: u32,
}

impl Default for DbSettings {
    fn default() -> Self {
        DbSettings {
            max_open_conns: 3,
            max_idle_conns: 3,
            write_chan_cap: 32,
            timeout_ms: 5000,
            read_cache_size_kib: 65536,
            writer_cache_size_kib: 16384,
        }
    }
}

impl DbSettings {
    pub fn to_db_config(&self) -> DbConfig {
        DbConfig {
            max_open_conns: self.max_open_conns,
            max_idle_conns: self.max_idle_conns,
            write_chan_cap: self.write_chan_cap as usize,
            timeout: Duration::from_millis(self.timeout_ms),
            read_cache_size_kib: self.read_cache_size_kib,
            writer_cache_size_kib: self.writer_cache_size_kib,
            durable: false,
            postgres: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3 {
    pub server: Server,
    pub region: String,
    /// Virtual-hosted-style addressing (`bucket.<base_domain>`) when set.
    pub base_domain: Option<String>,
    /// Static website hosting (`docs/s3.md`).
    pub website: Website,
    pub paging: Paging,
    /// What a bucket starts with.
    pub new_buckets: NewBuckets,
    /// Server-side encryption with customer-provided keys (`docs/encryption.md`).
    pub sse_c: SseC,
    pub io: Io,
    /// Objects and parts of at most this many bytes are stored in the object index with their
    /// row (`docs/inline.md`); 0 stores every object in a blob file.
    pub inline_max: u32,
    pub lifecycle: Lifecycle,
    /// The background scrub (`crate::scrub`).
    pub scrub: Scrub,
    /// Writes are refused (503 SlowDown) while the data volume has fewer free bytes than
    /// this; 0 turns the floor off (`docs/operations.md`, "Disk full").
    pub min_free_bytes: u64,
    pub db: DbSettings,
    /// One audit record per request on this listener (`crate::audit`).
    pub audit: bool,
}

/// The default `backend.s3.min_free_bytes`: 1 GiB.
pub const MIN_FREE_BYTES: u64 = 1 << 30;

/// The default `backend.s3.inline_max`, chosen by measurement (`docs/inline.md`).
pub const INLINE_MAX: u32 = 65_536;

impl Default for S3 {
    fn default() -> Self {
        S3 {
            // `labstore bench` runs 64 workers from one address; a quarter of 1024 leaves it room.
            server: Server::on(6789, 1024),
            region: "us-east-1".into(),
            base_domain: None,
            website: Website { base_domain: None },
            paging: Paging { max_keys: 1000 },
            new_buckets: NewBuckets {
                block_public_access: true,
                default_encryption: true,
            },
            sse_c: SseC {
                allow_plain_http: false,
            },
            io: Io {
                buffer_size: 262_144,
                fsync: true,
            },
            inline_max: INLINE_MAX,
            lifecycle: Lifecycle {
                day_seconds: 86_400,
                interval_ms: 60_000,
                keys_per_tick: 1000,
            },
            scrub: Scrub {
                enabled: false,
                bytes_per_second: 16 << 20,
                interval_seconds: 7 * 86_400,
                orphan_grace_seconds: 3600,
            },
            min_free_bytes: MIN_FREE_BYTES,
            // The object index takes bursts of small PUTs: a deeper queue lets group commit
            // gather them into fewer transactions.
            db: DbSettings {
                max_open_conns: 4,
                max_idle_conns: 4,
                write_chan_cap: 256,
                ..DbSettings::default()
            },
            audit: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    pub max_keys: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewBuckets {
    /// A new bucket gets a Block Public Access configuration with every setting on.
    pub block_public_access: bool,
    /// A new bucket gets a default encryption of SSE-S3 (`docs/encryption.md`).
    pub default_encryption: bool,
}

/// SSE-C (`docs/encryption.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SseC {
    /// Accept customer keys over plain HTTP (S3 refuses them: the key would travel in
    /// clear). For a development setup without TLS, or behind a proxy that ends TLS without
    /// saying so in a trusted `X-Forwarded-Proto`.
    pub allow_plain_http: bool,
}

/// The lifecycle worker (`crate::lifecycle`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lifecycle {
    /// The length of a lifecycle "day": 86400 as on S3; shorter only to test rules.
    pub day_seconds: u32,
    /// How often the worker takes its next step in each bucket with rules.
    pub interval_ms: u64,
    /// Keys (with all their versions) examined per bucket per step.
    pub keys_per_tick: u32,
}

/// The background scrub (`crate::scrub`, `docs/operations.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scrub {
    /// Run scrub passes in the server.
    pub enabled: bool,
    /// Stored bytes the background scrub reads per second.
    pub bytes_per_second: u64,
    /// Seconds from the end of one pass to the start of the next.
    pub interval_seconds: u64,
    /// A blob file no row refers to is removed once it is this many seconds old (an upload
    /// in flight renames its blob into place just before its commit).
    pub orphan_grace_seconds: u64,
}

/// The website endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Website {
    /// A request whose Host is `bucket.<base_domain>` (any port) is a website request for
    /// that bucket; unset: no website endpoint.
    pub base_domain: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Io {
    pub buffer_size: u32,
    /// fsync object data (and its directory) before a write is acknowledged.
    pub fsync: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Log {
    pub level: String,
    pub format: LogFormat,
}

impl Default for Log {
    fn default() -> Self {
        Log {
            level: "info".into(),
            format: LogFormat::Pretty,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}
