//! Configuration, in two stages: every source is read and checked key by key against the
//! table in `keys` (naming the source of any bad value), then figment merges the layers,
//! later ones winning: built-in defaults < YAML file < `LABSTORE_*` environment variables <
//! command-line flags. The merged result is checked once more for rules between keys.

pub mod keys;
mod model;

use std::path::{Path, PathBuf};

use figment::providers::{Format, Serialized, Yaml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};

pub use model::*;

/// The file read when no `--config` is given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "labstore.yml";
/// The environment variable naming the configuration file (same as `--config`).
pub const CONFIG_ENV: &str = "LABSTORE_CONFIG";

/// A configuration problem: which key, from which source, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {problem} (from {origin})")]
pub struct ConfigError {
    pub key: String,
    pub origin: String,
    pub problem: String,
}

impl ConfigError {
    fn new(key: impl Into<String>, source: impl Into<String>, problem: impl Into<String>) -> Self {
        ConfigError {
            key: key.into(),
            origin: source.into(),
            problem: problem.into(),
        }
    }
}

/// Everything configuration is read from, gathered by the caller so that loading is a pure
/// function of its inputs (and tests need not touch the process environment).
#[derive(Debug, Default)]
pub struct Sources {
    /// `--config` / `LABSTORE_CONFIG`: must exist when given.
    pub config_file: Option<PathBuf>,
    /// Directory where `labstore.yml` is looked for when no file is named.
    pub cwd: PathBuf,
    /// Environment variables (all of them; those without the prefix are ignored).
    pub env: Vec<(String, String)>,
    /// Command-line overrides: key path and the text given.
    pub flags: Vec<(&'static str, String)>,
}

impl Sources {
    /// Reads the process environment. A `LABSTORE_*` variable that is not valid UTF-8 is an
    /// error rather than silently skipped.
    pub fn process_env() -> Result<Vec<(String, String)>, ConfigError> {
        let mut env = Vec::new();
        for (name, value) in std::env::vars_os() {
            let Some(name) = name.to_str().map(str::to_owned) else {
                continue;
            };
            match value.into_string() {
                Ok(value) => env.push((name, value)),
                Err(_) if name.starts_with("LABSTORE_") => {
                    return Err(ConfigError::new(
                        &name,
                        format!("environment variable {name}"),
                        "is not valid UTF-8",
                    ));
                }
                Err(_) => {}
            }
        }
        Ok(env)
    }
}

/// Reads, merges and checks the configuration.
pub fn load(sources: &Sources) -> Result<Config, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    let file = match &sources.config_file {
        Some(path) if !path.is_file() => {
            return Err(ConfigError::new(
                "--config",
                path.display().to_string(),
                "no such file",
            ));
        }
        Some(path) => Some(path.clone()),
        None => Some(sources.cwd.join(DEFAULT_CONFIG_FILE)).filter(|p| p.is_file()),
    };
    if let Some(path) = file {
        figment = figment.merge(yaml_layer(&path)?);
    }
    let mut env: Vec<_> = sources
        .env
        .iter()
        .filter(|(n, _)| n.starts_with("LABSTORE_") && n != CONFIG_ENV)
        .collect();
    env.sort();
    for (name, text) in env {
        let source = format!("environment variable {name}");
        let key = keys::find_env(name)
            .ok_or_else(|| ConfigError::new(name, &source, "no such configuration key"))?;
        figment = figment.merge(Layer::single(key, text, source)?);
    }
    for (path, text) in &sources.flags {
        let key = keys::find(path)
            .ok_or_else(|| ConfigError::new(*path, "command line", "no such configuration key"))?;
        let source = format!("command-line flag --{}", key.flag_name());
        figment = figment.merge(Layer::single(key, text, source)?);
    }
    let config: Config = figment.extract().map_err(|e| from_figment(&figment, &e))?;
    check_relations(&config, &figment)?;
    Ok(config)
}

/// Rules between keys, checked on the merged result.
fn check_relations(config: &Config, figment: &Figment) -> Result<(), ConfigError> {
    let databases = [
        ("backend.iam.db.max_idle_conns", &config.backend.iam.db),
        ("backend.s3.db.max_idle_conns", &config.backend.s3.db),
    ];
    for (key, db) in databases {
        if db.max_idle_conns > db.max_open_conns {
            return Err(ConfigError::new(
                key,
                source_of(figment, key),
                format!(
                    "{} is more than max_open_conns ({})",
                    db.max_idle_conns, db.max_open_conns
                ),
            ));
        }
    }
    // A listener's certificate needs its key and the other way round: half of a pair would
    // otherwise leave the listener on plain HTTP while the operator believes it encrypted.
    let listeners = [
        ("admin", &config.backend.admin.server.tls),
        ("iam", &config.backend.iam.server.tls),
        ("s3", &config.backend.s3.server.tls),
    ];
    for (name, tls) in listeners {
        let (given, missing) = match (&tls.cert_file, &tls.key_file) {
            (Some(_), None) => ("cert_file", "key_file"),
            (None, Some(_)) => ("key_file", "cert_file"),
            _ => continue,
        };
        let key = format!("backend.{name}.server.tls.{missing}");
        let given = format!("backend.{name}.server.tls.{given}");
        return Err(ConfigError::new(
            &key,
            source_of(figment, &given),
            format!("is missing: {given} is set, and a listener needs both files for HTTPS"),
        ));
    }
    if config.backend.tls.self_signed && config.backend.tls.names().is_empty() {
        let key = "backend.tls.names";
        return Err(ConfigError::new(
            key,
            source_of(figment, key),
            "names no host or address for the self-signed certificate",
        ));
    }
    // The webhook sink needs somewhere to post: without it the trail would be lost quietly.
    let audit = &config.backend.audit;
    let audited = config.backend.iam.audit || config.backend.s3.audit;
    if audited && audit.sink == model::AuditSink::Webhook {
        let url = audit.webhook.url.as_deref().unwrap_or_default();
        let valid = url.parse::<http::Uri>().ok().is_some_and(|u| {
            matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some()
        });
        if !valid {
            let key = "backend.audit.webhook.url";
            return Err(ConfigError::new(
                key,
                source_of(figment, key),
                "must be an http:// or https:// URL with a host when backend.audit.sink is webhook",
            ));
        }
    }
    let metadata = &config.backend.metadata;
    if metadata.engine == model::MetadataEngine::Postgres && metadata.postgres.url.is_none() {
        let key = "backend.metadata.postgres.url";
        return Err(ConfigError::new(
            key,
            source_of(figment, key),
            "must be set when backend.metadata.engine is postgres",
        ));
    }
    let schema = &metadata.postgres.schema;
    let plain = schema.len() <= 40
        && schema.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !plain {
        let key = "backend.metadata.postgres.schema";
        return Err(ConfigError::new(
            key,
            source_of(figment, key),
            "must be a plain identifier: lower-case letters, digits and _, not starting with a digit, at most 40 characters",
        ));
    }
    // One Host must never name both a REST bucket and a website (`s3::website`).
    let s3 = &config.backend.s3;
    let domain = |d: &Option<String>| {
        d.as_deref()
            .map(|d| d.trim_matches('.').to_ascii_lowercase())
            .filter(|d| !d.is_empty())
    };
    if let (Some(rest), Some(website)) = (domain(&s3.base_domain), domain(&s3.website.base_domain))
    {
        if rest == website {
            let key = "backend.s3.website.base_domain";
            return Err(ConfigError::new(
                key,
                source_of(figment, key),
                "is the same domain as backend.s3.base_domain",
            ));
        }
    }
    Ok(())
}

fn source_of(figment: &Figment, key: &str) -> String {
    figment
        .find_metadata(key)
        .map(describe_metadata)
        .unwrap_or_else(|| "defaults".into())
}

fn describe_metadata(meta: &Metadata) -> String {
    match &meta.source {
        Some(figment::Source::File(path)) => format!("{} {}", meta.name, path.display()),
        _ => meta.name.to_string(),
    }
}

fn from_figment(figment: &Figment, error: &figment::Error) -> ConfigError {
    let key = error.path.join(".");
    let source = error
        .metadata
        .as_ref()
        .map(describe_metadata)
        .unwrap_or_else(|| source_of(figment, &key));
    ConfigError::new(key, source, error.kind.to_string())
}

/// One source's values, already checked key by key, as a figment provider.
struct Layer {
    meta: Metadata,
    dict: Dict,
}

impl Layer {
    fn single(key: &keys::Key, text: &str, source: String) -> Result<Layer, ConfigError> {
        let mut dict = Dict::new();
        match key.normalize(&Value::from(text)) {
            Ok(Some(value)) => insert_path(&mut dict, key.path, value),
            Ok(None) => {}
            Err(problem) => return Err(ConfigError::new(key.path, source, problem)),
        }
        Ok(Layer {
            meta: Metadata::named(source),
            dict,
        })
    }
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        self.meta.clone()
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Map::from([(Profile::Default, self.dict.clone())]))
    }
}

/// Reads a YAML file and checks every key in it.
fn yaml_layer(path: &Path) -> Result<Layer, ConfigError> {
    let source = format!("config file {}", path.display());
    let data = Yaml::file_exact(path)
        .data()
        .map_err(|e| ConfigError::new("(file)", &source, e.kind.to_string()))?;
    let mut dict = Dict::new();
    if let Some(top) = data.get(&Profile::Default) {
        flatten_checked(top, "", &source, &mut dict)?;
    }
    Ok(Layer {
        meta: Metadata::named("config file").source(figment::Source::File(path.to_path_buf())),
        dict,
    })
}

fn flatten_checked(
    section: &Dict,
    prefix: &str,
    source: &str,
    out: &mut Dict,
) -> Result<(), ConfigError> {
    for (name, value) in section {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        if let Some(key) = keys::find(&path) {
            match key.normalize(value) {
                Ok(Some(v)) => insert_path(out, key.path, v),
                Ok(None) => {}
                Err(problem) => return Err(ConfigError::new(path, source, problem)),
            }
        } else if keys::is_section(&path) {
            match value {
                Value::Dict(_, inner) => flatten_checked(inner, &path, source, out)?,
                Value::Empty(..) => {}
                _ => return Err(ConfigError::new(path, source, "expected a mapping of keys")),
            }
        } else {
            return Err(ConfigError::new(path, source, "unknown key"));
        }
    }
    Ok(())
}

fn insert_path(dict: &mut Dict, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            dict.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let entry = dict
                .entry(head.to_owned())
                .or_insert_with(|| Value::from(Dict::new()));
            if let Value::Dict(_, inner) = entry {
                insert_path(inner, rest, value);
            }
        }
    }
}

/// The effective configuration as YAML, secrets masked, for `labstore config show`.
pub fn show(config: &Config) -> String {
    // `Secret` serializes masked, so the plain serializer cannot leak it.
    serde_yaml::to_string(config)
        .unwrap_or_else(|e| format!("# cannot render configuration: {e}\n"))
}

#[cfg(test)]
mod tests;
