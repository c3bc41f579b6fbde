//! Every configuration key LabStore knows, in one table. The table drives the names each key
//! has in the environment and on the command line, the per-key checks (type and range) and
//! the test that `labstore.example.yml` documents every key.
//!
//! Invariant: this table and the `Config` structs describe the same keys; a unit test
//! compares them.

use figment::value::Value;

use crate::cidr::parse_cidr;

/// What a key accepts. Values from the environment and the command line arrive as text and
/// are converted here; values from YAML arrive typed.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Non-empty text (a host name, an access key).
    Text,
    /// A filesystem path.
    Path,
    /// A whole number within `min..=max`.
    Int { min: i64, max: i64 },
    /// One of a fixed set of words.
    Choice(&'static [&'static str]),
    /// Exactly `n` ASCII digits.
    Digits(usize),
    /// A secret of at least `min_len` characters. Masked by `config show`; optional.
    Secret { min_len: usize },
    /// `true` or `false`.
    Bool,
    /// Text that may be left unset (empty).
    OptionalText,
    /// Comma-separated IP addresses or CIDR blocks (IPv4 or IPv6); may be left unset.
    Cidrs,
}

#[derive(Debug)]
pub struct Key {
    /// Dotted path, e.g. `backend.storage.data_dir`.
    pub path: &'static str,
    pub kind: Kind,
    pub help: &'static str,
}

const PORT: Kind = Kind::Int { min: 0, max: 65535 };
const CONNECTIONS: Kind = Kind::Int {
    min: 1,
    max: 1_000_000,
};

pub static KEYS: &[Key] = &[
    Key {
        path: "backend.storage.data_dir",
        kind: Kind::Path,
        help: "Directory for the databases (metadata/) and object data (objects/)",
    },
    Key {
        path: "backend.storage.keys_dir",
        kind: Kind::Path,
        help: "Directory holding master.key, the key that seals stored secrets",
    },
    Key {
        path: "backend.shutdown_timeout_ms",
        kind: Kind::Int {
            min: 0,
            max: 3_600_000,
        },
        help: "On SIGTERM/SIGINT, how long in-flight requests may take to finish",
    },
    Key {
        path: "backend.header_read_timeout_ms",
        kind: Kind::Int {
            min: 100,
            max: 3_600_000,
        },
        help: "Longest a client may take to send a request's headers; also how long an idle kept-alive connection is kept",
    },
    Key {
        path: "backend.body_read_timeout_ms",
        kind: Kind::Int {
            min: 100,
            max: 3_600_000,
        },
        help: "Longest a request body may go without a byte before the request fails (S3 RequestTimeout) and the connection is closed",
    },
    Key {
        path: "backend.trusted_proxies",
        kind: Kind::Cidrs,
        help: "Reverse proxies (comma-separated addresses or CIDR blocks) whose X-Forwarded-For and X-Forwarded-Proto are believed for aws:SourceIp and aws:SecureTransport",
    },
    Key {
        path: "backend.metadata.engine",
        kind: Kind::Choice(&["sqlite", "postgres"]),
        help: "Where the object index and IAM data live: sqlite (files under data_dir/metadata, one node) or postgres (a database several nodes share; docs/scale-out.md)",
    },
    Key {
        path: "backend.metadata.postgres.url",
        kind: Kind::Secret { min_len: 1 },
        help: "PostgreSQL connection URL (postgres://user:password@host:port/database), required when the engine is postgres; masked by config show",
    },
    Key {
        path: "backend.metadata.postgres.schema",
        kind: Kind::Text,
        help: "Prefix of the two PostgreSQL schemas LabStore keeps its tables in: <schema>_iam and <schema>_objects",
    },
    Key {
        path: "backend.metadata.postgres.pool_size",
        kind: Kind::Int { min: 1, max: 1000 },
        help: "Read connections per database on each node",
    },
    Key {
        path: "backend.metadata.postgres.writers",
        kind: Kind::Int { min: 1, max: 256 },
        help: "Writer connections per database on each node: writes run in parallel on them, each in its own transaction",
    },
    Key {
        path: "backend.metadata.postgres.statement_timeout_ms",
        kind: Kind::Int {
            min: 100,
            max: 3_600_000,
        },
        help: "PostgreSQL statement_timeout of every connection: a statement that runs longer fails",
    },
    Key {
        path: "backend.tls.self_signed",
        kind: Kind::Bool,
        help: "Development only: serve every listener without its own certificate with a self-signed one, generated into keys_dir on first start",
    },
    Key {
        path: "backend.tls.names",
        kind: Kind::Text,
        help: "Comma-separated DNS names and IP addresses of the self-signed certificate",
    },
    Key {
        path: "backend.admin.server.host",
        kind: Kind::Text,
        help: "Address the admin listener (health, readiness) binds",
    },
    Key {
        path: "backend.admin.server.port",
        kind: PORT,
        help: "Port of the admin listener (0 picks a free one)",
    },
    Key {
        path: "backend.admin.server.max_connections",
        kind: CONNECTIONS,
        help: "Connections the admin listener serves at once; at the cap it stops accepting until one ends",
    },
    Key {
        path: "backend.admin.server.max_connections_per_client",
        kind: CONNECTIONS,
        help: "Connections one client address may hold on the admin listener (trusted proxies exempt); more are closed on arrival",
    },
    Key {
        path: "backend.admin.server.tls.cert_file",
        kind: Kind::OptionalText,
        help: "PEM certificate (then its chain) of the admin listener; with key_file, the listener serves HTTPS only; reloaded on SIGHUP",
    },
    Key {
        path: "backend.admin.server.tls.key_file",
        kind: Kind::OptionalText,
        help: "PEM private key of the admin listener's certificate; reloaded on SIGHUP",
    },
    Key {
        path: "backend.admin.console.enabled",
        kind: Kind::Bool,
        help: "Serve the web console at / on the admin listener",
    },
    Key {
        path: "backend.admin.console.idle_timeout_seconds",
        kind: Kind::Int { min: 60, max: 604_800 },
        help: "A console session unused this long is signed out",
    },
    Key {
        path: "backend.admin.console.max_session_seconds",
        kind: Kind::Int { min: 300, max: 2_592_000 },
        help: "A console session ends this long after sign-in",
    },
    Key {
        path: "backend.admin.console.sign_ins_per_minute",
        kind: Kind::Int { min: 1, max: 10_000 },
        help: "Console sign-in attempts one client address may make per minute",
    },
    Key {
        path: "backend.admin.console.s3_url",
        kind: Kind::OptionalText,
        help: "Public base URL of the S3 listener for the console's share links (e.g. https://s3.example.com); unset: the console's host with the S3 listener's port and scheme",
    },
    Key {
        path: "backend.admin.auth.access_key",
        kind: Kind::Text,
        help: "Access key id of the root credentials",
    },
    Key {
        path: "backend.admin.auth.secret_key",
        kind: Kind::Secret { min_len: 8 },
        help: "Secret of the root credentials; generated on first start when unset",
    },
    Key {
        path: "backend.iam.server.host",
        kind: Kind::Text,
        help: "Address the IAM listener binds",
    },
    Key {
        path: "backend.iam.server.port",
        kind: PORT,
        help: "Port of the IAM listener (0 picks a free one)",
    },
    Key {
        path: "backend.iam.server.max_connections",
        kind: CONNECTIONS,
        help: "Connections the IAM listener serves at once; at the cap it stops accepting until one ends",
    },
    Key {
        path: "backend.iam.server.max_connections_per_client",
        kind: CONNECTIONS,
        help: "Connections one client address may hold on the IAM listener (trusted proxies exempt); more are closed on arrival",
    },
    Key {
        path: "backend.iam.server.tls.cert_file",
        kind: Kind::OptionalText,
        help: "PEM certificate (then its chain) of the IAM listener; with key_file, the listener serves HTTPS only; reloaded on SIGHUP",
    },
    Key {
        path: "backend.iam.server.tls.key_file",
        kind: Kind::OptionalText,
        help: "PEM private key of the IAM listener's certificate; reloaded on SIGHUP",
    },
    Key {
        path: "backend.iam.account_id",
        kind: Kind::Digits(12),
        help: "The 12-digit account id used in ARNs",
    },
    Key {
        path: "backend.iam.sts.min_duration_seconds",
        kind: Kind::Int { min: 1, max: 900 },
        help: "Shortest STS session in seconds: 900 as on AWS; shorter only to test expiry",
    },
    Key {
        path: "backend.iam.db.max_open_conns",
        kind: Kind::Int { min: 1, max: 1024 },
        help: "Most read connections open at once",
    },
    Key {
        path: "backend.iam.db.max_idle_conns",
        kind: Kind::Int { min: 0, max: 1024 },
        help: "Read connections kept open while idle",
    },
    Key {
        path: "backend.iam.db.write_chan_cap",
        kind: Kind::Int {
            min: 1,
            max: 1_000_000,
        },
        help: "Writes that may queue for the writer thread",
    },
    Key {
        path: "backend.iam.db.timeout_ms",
        kind: Kind::Int {
            min: 1,
            max: 600_000,
        },
        help: "Longest wait for a queue slot, a read connection or a lock",
    },
    Key {
        path: "backend.iam.db.read_cache_size_kib",
        kind: Kind::Int {
            min: 0,
            max: 16_777_216,
        },
        help: "SQLite page cache per read connection, KiB",
    },
    Key {
        path: "backend.iam.db.writer_cache_size_kib",
        kind: Kind::Int {
            min: 0,
            max: 16_777_216,
        },
        help: "SQLite page cache of the writer connection, KiB",
    },
    Key {
        path: "backend.iam.oidc.ca_file",
        kind: Kind::OptionalText,
        help: "PEM file of CA certificates trusted for OpenID Connect issuers' HTTPS, besides the system's; unset: the system's only",
    },
    Key {
        path: "backend.iam.oidc.jwks_dir",
        kind: Kind::OptionalText,
        help: "Directory of JWKS files, one per OpenID Connect provider (<URL without https://, percent-encoded>.json), used instead of fetching its keys; unset: keys are always fetched",
    },
    Key {
        path: "backend.iam.oidc.cache_ttl_ms",
        kind: Kind::Int {
            min: 1_000,
            max: 86_400_000,
        },
        help: "How long an OpenID Connect issuer's fetched keys are used before they are fetched again",
    },
    Key {
        path: "backend.iam.oidc.refresh_interval_ms",
        kind: Kind::Int {
            min: 0,
            max: 3_600_000,
        },
        help: "Least time between two fetches of one OpenID Connect issuer's keys (a token naming an unknown key fetches again only past it)",
    },
    Key {
        path: "backend.s3.server.host",
        kind: Kind::Text,
        help: "Address the S3 listener binds",
    },
    Key {
        path: "backend.s3.server.port",
        kind: PORT,
        help: "Port of the S3 listener (0 picks a free one)",
    },
    Key {
        path: "backend.s3.server.max_connections",
        kind: CONNECTIONS,
        help: "Connections the S3 listener serves at once; at the cap it stops accepting until one ends",
    },
    Key {
        path: "backend.s3.server.max_connections_per_client",
        kind: CONNECTIONS,
        help: "Connections one client address may hold on the S3 listener (trusted proxies exempt); more are closed on arrival",
    },
    Key {
        path: "backend.s3.server.tls.cert_file",
        kind: Kind::OptionalText,
        help: "PEM certificate (then its chain) of the S3 listener; with key_file, the listener serves HTTPS only; reloaded on SIGHUP",
    },
    Key {
        path: "backend.s3.server.tls.key_file",
        kind: Kind::OptionalText,
        help: "PEM private key of the S3 listener's certificate; reloaded on SIGHUP",
    },
    Key {
        path: "backend.s3.region",
        kind: Kind::Text,
        help: "Region the S3 API reports (GetBucketLocation, errors)",
    },
    Key {
        path: "backend.s3.base_domain",
        kind: Kind::OptionalText,
        help: "Base domain for virtual-hosted-style requests (bucket.<base_domain>); unset: path style only",
    },
    Key {
        path: "backend.s3.website.base_domain",
        kind: Kind::OptionalText,
        help: "Base domain of the static website endpoint on the S3 port (bucket.<base_domain> serves the bucket's website); unset: none",
    },
    Key {
        path: "backend.s3.paging.max_keys",
        kind: Kind::Int { min: 1, max: 1000 },
        help: "Largest page a listing returns",
    },
    Key {
        path: "backend.s3.new_buckets.block_public_access",
        kind: Kind::Bool,
        help: "Give every new bucket a Block Public Access configuration with all four settings on, as S3 does",
    },
    Key {
        path: "backend.s3.new_buckets.default_encryption",
        kind: Kind::Bool,
        help: "Give every new bucket a default encryption of SSE-S3 (AES256), as S3 does: objects written without x-amz-server-side-encryption are encrypted at rest",
    },
    Key {
        path: "backend.s3.sse_c.allow_plain_http",
        kind: Kind::Bool,
        help: "Accept SSE-C (customer-provided keys) over plain HTTP; S3 refuses it, as the key would cross the network in clear",
    },
    Key {
        path: "backend.s3.io.buffer_size",
        kind: Kind::Int {
            min: 4096,
            max: 67_108_864,
        },
        help: "Bytes read or written per I/O call on object data",
    },
    Key {
        path: "backend.s3.io.fsync",
        kind: Kind::Bool,
        help: "Flush object data to disk before acknowledging a write",
    },
    Key {
        path: "backend.s3.lifecycle.day_seconds",
        kind: Kind::Int { min: 1, max: 86_400 },
        help: "Length of a lifecycle day in seconds: 86400 as on S3; shorter only to test lifecycle rules",
    },
    Key {
        path: "backend.s3.lifecycle.interval_ms",
        kind: Kind::Int { min: 10, max: 86_400_000 },
        help: "How often the lifecycle worker takes its next step in each bucket with rules",
    },
    Key {
        path: "backend.s3.lifecycle.keys_per_tick",
        kind: Kind::Int { min: 1, max: 100_000 },
        help: "Keys (with their versions) the lifecycle worker examines per bucket per step",
    },
    Key {
        path: "backend.s3.scrub.enabled",
        kind: Kind::Bool,
        help: "Run scrub passes in the server: every stored byte read back and verified, damage marked, orphaned blob files removed",
    },
    Key {
        path: "backend.s3.scrub.bytes_per_second",
        kind: Kind::Int { min: 4096, max: 10_737_418_240 },
        help: "Stored bytes the background scrub reads per second",
    },
    Key {
        path: "backend.s3.scrub.interval_seconds",
        kind: Kind::Int { min: 1, max: 31_536_000 },
        help: "Seconds from the end of one background scrub pass to the start of the next",
    },
    Key {
        path: "backend.s3.scrub.orphan_grace_seconds",
        kind: Kind::Int { min: 60, max: 31_536_000 },
        help: "Age after which a scrub removes a blob file no object or part refers to",
    },
    Key {
        path: "backend.s3.min_free_bytes",
        kind: Kind::Int { min: 0, max: 1_125_899_906_842_624 },
        help: "Refuse writes (503 SlowDown) while the data volume has fewer free bytes than this (0: never)",
    },
    Key {
        path: "backend.s3.inline_max",
        kind: Kind::Int { min: 0, max: 1_048_576 },
        help: "Objects and parts of at most this many bytes are stored in the object index, not in files (0: never)",
    },
    Key { path: "backend.s3.db.max_open_conns", kind: Kind::Int { min: 1, max: 1024 }, help: "Object index: most read connections open at once" },
    Key { path: "backend.s3.db.max_idle_conns", kind: Kind::Int { min: 0, max: 1024 }, help: "Object index: read connections kept open while idle" },
    Key { path: "backend.s3.db.write_chan_cap", kind: Kind::Int { min: 1, max: 1_000_000 }, help: "Object index: writes that may queue for the writer thread" },
    Key { path: "backend.s3.db.timeout_ms", kind: Kind::Int { min: 1, max: 600_000 }, help: "Object index: longest wait for a queue slot, a read connection or a lock" },
    Key { path: "backend.s3.db.read_cache_size_kib", kind: Kind::Int { min: 0, max: 16_777_216 }, help: "Object index: SQLite page cache per read connection, KiB" },
    Key { path: "backend.s3.db.writer_cache_size_kib", kind: Kind::Int { min: 0, max: 16_777_216 }, help: "Object index: SQLite page cache of the writer connection, KiB" },
    Key {
        path: "log.level",
        kind: Kind::Choice(&["trace", "debug", "info", "warn", "error"]),
        help: "Least severe level logged (RUST_LOG, when set, overrides it)",
    },
    Key {
        path: "backend.iam.audit",
        kind: Kind::Bool,
        help: "Write one audit record per IAM and STS request on the IAM listener",
    },
    Key {
        path: "backend.s3.audit",
        kind: Kind::Bool,
        help: "Write one audit record per request on the S3 listener (S3, and IAM and STS signed for them)",
    },
    Key {
        path: "backend.audit.sink",
        kind: Kind::Choice(&["file", "stdout", "webhook"]),
        help: "Where audit records go: a rotated file, standard output, or an HTTP webhook",
    },
    Key {
        path: "backend.audit.queue",
        kind: Kind::Int { min: 1, max: 10_000_000 },
        help: "Audit records that may wait for the sink; more are dropped and counted, requests never wait",
    },
    Key {
        path: "backend.audit.file.path",
        kind: Kind::Path,
        help: "The audit log file (with the file sink)",
    },
    Key {
        path: "backend.audit.file.max_bytes",
        kind: Kind::Int { min: 4096, max: i64::MAX },
        help: "Size at which the audit log file is rotated",
    },
    Key {
        path: "backend.audit.file.keep",
        kind: Kind::Int { min: 1, max: 10_000 },
        help: "Rotated audit log files kept; older ones are removed",
    },
    Key {
        path: "backend.audit.webhook.url",
        kind: Kind::OptionalText,
        help: "The http:// or https:// URL audit records are POSTed to, in batches of JSON lines (with the webhook sink)",
    },
    Key {
        path: "backend.audit.webhook.timeout_ms",
        kind: Kind::Int { min: 1, max: 600_000 },
        help: "Longest a webhook POST may take; a batch not taken in time is dropped and counted",
    },
    Key {
        path: "log.format",
        kind: Kind::Choice(&["pretty", "json"]),
        help: "Log line format on standard error",
    },
];

impl Key {
    /// `LABSTORE_BACKEND_STORAGE_DATA_DIR` for `backend.storage.data_dir`.
    pub fn env_name(&self) -> String {
        format!(
            "LABSTORE_{}",
            self.path.replace('.', "_").to_ascii_uppercase()
        )
    }

    /// `storage-data-dir` for `backend.storage.data_dir`: the path without its section
    /// prefix, in kebab case.
    pub fn flag_name(&self) -> String {
        let path = self.path.strip_prefix("backend.").unwrap_or(self.path);
        path.replace(['.', '_'], "-")
    }

    pub fn is_secret(&self) -> bool {
        matches!(self.kind, Kind::Secret { .. })
    }

    /// Checks `value` against this key's kind and returns it in the type the configuration
    /// structs deserialize. `Ok(None)` means "not set" (an empty optional secret).
    pub fn normalize(&self, value: &Value) -> Result<Option<Value>, String> {
        match self.kind {
            Kind::Text | Kind::Path => match scalar_text(value) {
                Some(s) if !s.is_empty() => Ok(Some(Value::from(s))),
                Some(_) => Err("must not be empty".into()),
                None => Err(format!("expected text, found {}", describe(value))),
            },
            Kind::Int { min, max } => {
                // An unsigned number beyond i128 is refused as a string of as many digits is.
                let n = match value {
                    Value::Num(_, n) => n
                        .to_i128()
                        .or_else(|| n.to_u128().and_then(|u| i128::try_from(u).ok())),
                    Value::String(_, s) => s.trim().parse::<i128>().ok(),
                    _ => None,
                };
                let n =
                    n.ok_or_else(|| format!("expected a whole number, found {}", describe(value)))?;
                match i64::try_from(n) {
                    Ok(n) if (min..=max).contains(&n) => Ok(Some(Value::from(n))),
                    _ => Err(format!("{n} is out of range ({min} to {max})")),
                }
            }
            Kind::Choice(words) => {
                let s = scalar_text(value).ok_or_else(|| {
                    format!(
                        "expected one of {}, found {}",
                        words.join(", "),
                        describe(value)
                    )
                })?;
                let lower = s.to_ascii_lowercase();
                if words.contains(&lower.as_str()) {
                    Ok(Some(Value::from(lower)))
                } else {
                    Err(format!("{s:?} is not one of {}", words.join(", ")))
                }
            }
            Kind::Digits(n) => {
                let s = scalar_text(value)
                    .ok_or_else(|| format!("expected {n} digits, found {}", describe(value)))?;
                if s.len() == n && s.bytes().all(|b| b.is_ascii_digit()) {
                    Ok(Some(Value::from(s)))
                } else {
                    Err(format!(
                        "{s:?} is not exactly {n} digits (quote it in YAML to keep leading zeros)"
                    ))
                }
            }
            Kind::Bool => match value {
                Value::Bool(_, b) => Ok(Some(Value::from(*b))),
                Value::String(_, s) if s.eq_ignore_ascii_case("true") => {
                    Ok(Some(Value::from(true)))
                }
                Value::String(_, s) if s.eq_ignore_ascii_case("false") => {
                    Ok(Some(Value::from(false)))
                }
                _ => Err(format!("expected true or false, found {}", describe(value))),
            },
            Kind::OptionalText => match (value, scalar_text(value)) {
                (Value::Empty(..), _) => Ok(None),
                (_, Some(s)) if s.is_empty() => Ok(None),
                (_, Some(s)) => Ok(Some(Value::from(s))),
                (_, None) => Err(format!("expected text, found {}", describe(value))),
            },
            Kind::Cidrs => match (value, scalar_text(value)) {
                (Value::Empty(..), _) => Ok(None),
                (_, Some(s)) if s.trim().is_empty() => Ok(None),
                (_, Some(s)) => match s.split(',').find(|c| parse_cidr(c.trim()).is_none()) {
                    Some(bad) => Err(format!(
                        "{:?} is not an IP address or CIDR block",
                        bad.trim()
                    )),
                    None => Ok(Some(Value::from(s))),
                },
                (_, None) => Err(format!(
                    "expected comma-separated addresses, found {}",
                    describe(value)
                )),
            },
            Kind::Secret { min_len } => match (value, scalar_text(value)) {
                (Value::Empty(..), _) => Ok(None),
                (_, Some(s)) if s.chars().count() >= min_len => Ok(Some(Value::from(s))),
                // Never echo a secret, not even a rejected one.
                (_, Some(_)) => Err(format!("is shorter than {min_len} characters")),
                (_, None) => Err(format!("expected text, found {}", describe(value))),
            },
        }
    }
}

/// Text as the user wrote it. A YAML number where text is expected (an unquoted secret of
/// digits) is taken as its digits.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(_, s) => Some(s.clone()),
        Value::Char(_, c) => Some(c.to_string()),
        Value::Num(_, n) => n
            .to_i128()
            .map(|i| i.to_string())
            .or_else(|| n.to_u128().map(|u| u.to_string())),
        _ => None,
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::String(..) | Value::Char(..) => "text",
        Value::Bool(..) => "a boolean",
        Value::Num(..) => "a number",
        Value::Empty(..) => "nothing",
        Value::Dict(..) => "a mapping",
        Value::Array(..) => "a list",
    }
}

/// The key with this dotted path.
pub fn find(path: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.path == path)
}

/// Whether `path` names a section (a prefix of some key), e.g. `backend.iam`.
pub fn is_section(path: &str) -> bool {
    KEYS.iter().any(|k| {
        k.path.len() > path.len()
            && k.path.starts_with(path)
            && k.path.as_bytes()[path.len()] == b'.'
    })
}

/// The key an environment variable names, matched against the table rather than split on
/// `_`, since key names contain underscores themselves.
pub fn find_env(name: &str) -> Option<&'static Key> {
    KEYS.iter()
        .find(|k| k.env_name().eq_ignore_ascii_case(name))
}
