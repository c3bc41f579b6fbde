//! Where an issuer's signing keys come from, and which key verifies a token.
//!
//! A provider with a file in `backend.iam.oidc.jwks_dir` is read from it, for every token, and
//! never fetched. Any other issuer's keys are fetched over HTTPS (discovery document, then
//! its `jwks_uri`), with bounded time-outs and sizes, and cached per provider URL for
//! `cache_ttl_ms`; a token naming a key the cache lacks fetches again, but one issuer is
//! fetched at most once per `refresh_interval_ms` (failures included), and concurrent misses
//! share one fetch. Keys past their TTL are not used, even when a new fetch fails.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::tls::Trust;
use super::WebIdentityError;
use crate::config::Oidc as OidcConfig;
use crate::iam_store::oidc::OidcProvider;
use bytes::Bytes;
use http::{header, Request, StatusCode};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::Algorithm;

/// Longest a TCP connection to an issuer may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest one document (discovery or JWKS) may take, connection to last byte.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Issuers cached at most (an account has at most 100 providers at a time).
const MAX_SLOTS: usize = 1024;
/// Largest discovery document or JWKS read (from an issuer or a file).
pub const MAX_DOCUMENT: usize = 256 * 1024;

/// Why the verifier could not be built.
#[derive(Debug, thiserror::Error)]
pub enum KeySourceError {
    #[error("cannot read backend.iam.oidc.ca_file {path}: {reason}")]
    CaFile { path: PathBuf, reason: String },
    #[error("cannot set up TLS for OpenID Connect issuers: {0}")]
    Tls(String),
    #[error("backend.iam.oidc.jwks_dir {0} is not a directory")]
    JwksDir(PathBuf),
}

/// An issuer's keys: those of its JWKS that parse (a key of a type this server does not
/// know is left out, not an error).
#[derive(Debug, Default)]
pub struct KeySet {
    pub keys: Vec<Jwk>,
}

impl KeySet {
    /// Parses a JWKS document (`{"keys": [...]}`).
    pub fn parse(bytes: &[u8]) -> Result<KeySet, String> {
        let doc: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| format!("the JWKS is not JSON: {e}"))?;
        let keys = doc
            .get("keys")
            .and_then(|k| k.as_array())
            .ok_or("the JWKS has no keys array")?;
        let keys = keys
            .iter()
            .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
            .collect();
        Ok(KeySet { keys })
    }

    fn has(&self, kid: &str) -> bool {
        self.keys
            .iter()
            .any(|k| k.common.key_id.as_deref() == Some(kid))
    }

    /// The key that verifies a token signed with `alg` (RS256 or ES256) naming `kid`: the
    /// key with that id, or, without one, the only key fit for `alg`. The key must be of
    /// `alg`'s type (RSA; EC on P-256), for signatures (`use`), and of `alg` if it says.
    pub fn select(&self, kid: Option<&str>, alg: Algorithm) -> Option<&Jwk> {
        let fits = |k: &&Jwk| {
            let kind = match (&k.algorithm, alg) {
                (AlgorithmParameters::RSA(_), Algorithm::RS256) => true,
                (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => {
                    ec.curve == EllipticCurve::P256
                }
                _ => false,
            };
            let usage = matches!(
                k.common.public_key_use,
                None | Some(PublicKeyUse::Signature)
            );
            let key_alg = match k.common.key_algorithm {
                None => true,
                Some(KeyAlgorithm::RS256) => alg == Algorithm::RS256,
                Some(KeyAlgorithm::ES256) => alg == Algorithm::ES256,
                Some(_) => false,
            };
            kind && usage && key_alg
        };
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| k.common.key_id.as_deref() == Some(kid))
                .filter(fits),
            None => {
                let mut fit = self.keys.iter().filter(fits);
                match (fit.next(), fit.next()) {
                    (Some(only), None) => Some(only),
                    _ => None,
                }
            }
        }
    }
}

/// The file of `jwks_dir` for a provider URL (without scheme): the URL percent-encoded but
/// for letters, digits, `.` and `-`, plus `.json` (`idp.example.com/t` ->
/// `idp.example.com%2Ft.json`), so that no two URLs share a file and none names a path.
pub fn jwks_file_name(url: &str) -> String {
    let mut name = String::with_capacity(url.len() + 5);
    for b in url.bytes() {
        if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
            name.push(char::from(b));
        } else {
            name.push_str(&format!("%{b:02X}"));
        }
    }
    name.push_str(".json");
    name
}

/// One issuer's cache entry.
#[derive(Default)]
struct Slot {
    keys: Option<Arc<KeySet>>,
    fetched_at: Option<Instant>,
    attempted_at: Option<Instant>,
}

type HttpsClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// The issuers' keys: files, fetches and the cache.
pub struct KeySource {
    trust: Trust,
    /// The client of providers without thumbprints (CA trust only).
    client: HttpsClient,
    jwks_dir: Option<PathBuf>,
    ttl: Duration,
    refresh_interval: Duration,
    /// Per provider URL; one lock per issuer, so that concurrent misses share a fetch. One
    /// entry per provider URL a token was verified for (providers are at most 100).
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Slot>>>>,
    fetches: std::sync::atomic::AtomicU64,
}

fn communication(reason: impl std::fmt::Display) -> WebIdentityError {
    WebIdentityError::IdpCommunication(reason.to_string())
}

impl KeySource {
    pub fn new(config: &OidcConfig) -> Result<KeySource, KeySourceError> {
        if let Some(dir) = &config.jwks_dir {
            // A mistyped directory would silently send every issuer to the network.
            if !dir.is_dir() {
                return Err(KeySourceError::JwksDir(dir.clone()));
            }
        }
        let trust = Trust::new(config.ca_file.as_deref())?;
        let client = https_client(trust.config(&[])?);
        Ok(KeySource {
            trust,
            client,
            jwks_dir: config.jwks_dir.clone(),
            ttl: Duration::from_millis(config.cache_ttl_ms),
            refresh_interval: Duration::from_millis(config.refresh_interval_ms),
            slots: Mutex::default(),
            fetches: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// How many times an issuer's keys were fetched over the network since start.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The keys of `provider`'s issuer, for a token naming `kid`.
    pub async fn keys(
        &self,
        provider: &OidcProvider,
        kid: Option<&str>,
    ) -> Result<Arc<KeySet>, WebIdentityError> {
        let url = provider.url.as_str();
        if let Some(dir) = &self.jwks_dir {
            if let Some(keys) = read_jwks_file(&dir.join(jwks_file_name(url))).await? {
                return Ok(Arc::new(keys));
            }
        }
        let slot = {
            let mut slots = self
                .slots
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if slots.len() >= MAX_SLOTS && !slots.contains_key(url) {
                // Providers come and go: past the bound, the cache starts over.
                slots.clear();
            }
            Arc::clone(slots.entry(url.to_owned()).or_default())
        };
        let mut slot = slot.lock().await;
        let now = Instant::now();
        let fresh = slot
            .fetched_at
            .is_some_and(|at| now.duration_since(at) < self.ttl);
        let current = slot.keys.clone().filter(|_| fresh);
        let missing = match (&current, kid) {
            (None, _) => true,
            (Some(keys), Some(kid)) => !keys.has(kid),
            (Some(_), None) => false,
        };
        let may_fetch = slot
            .attempted_at
            .is_none_or(|at| now.duration_since(at) >= self.refresh_interval);
        if !missing || !may_fetch {
            return current.ok_or_else(|| {
                communication("the issuer's keys could not be fetched recently; not retried yet")
            });
        }
        slot.attempted_at = Some(now);
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match self.fetch(provider).await {
            Ok(keys) => {
                let keys = Arc::new(keys);
                slot.keys = Some(Arc::clone(&keys));
                slot.fetched_at = Some(Instant::now());
                Ok(keys)
            }
            Err(e) => {
                tracing::warn!(issuer = url, error = %e, "cannot fetch an OpenID Connect issuer's keys");
                // Still-fresh keys serve tokens that name them.
                current.ok_or_else(|| communication(e))
            }
        }
    }

    /// The discovery document, then the JWKS it names; with the provider's thumbprints as
    /// extra anchors, if it has any (`tls`).
    async fn fetch(&self, provider: &OidcProvider) -> Result<KeySet, String> {
        let pinned;
        let client = match provider.thumbprints.is_empty() {
            true => &self.client,
            false => {
                let config = self
                    .trust
                    .config(&provider.thumbprints)
                    .map_err(|e| e.to_string())?;
                pinned = https_client(config);
                &pinned
            }
        };
        let url = &provider.url;
        let discovery = get(
            client,
            &format!("https://{url}/.well-known/openid-configuration"),
        )
        .await?;
        let doc: serde_json::Value = serde_json::from_slice(&discovery)
            .map_err(|e| format!("the discovery document is not JSON: {e}"))?;
        let jwks_uri = doc
            .get("jwks_uri")
            .and_then(|u| u.as_str())
            .ok_or("the discovery document has no jwks_uri")?;
        if !jwks_uri.starts_with("https://") {
            return Err("the jwks_uri is not an https URL".into());
        }
        KeySet::parse(&get(client, jwks_uri).await?)
    }
}

/// An HTTPS-only HTTP/1.1 client with `tls`, connecting within `CONNECT_TIMEOUT`.
fn https_client(tls: rustls::ClientConfig) -> HttpsClient {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new()).build(https)
}

/// One GET over HTTPS: 200 only, at most `MAX_DOCUMENT` bytes, within `FETCH_TIMEOUT`.
async fn get(client: &HttpsClient, uri: &str) -> Result<Bytes, String> {
    let request = Request::get(uri)
        .header(header::ACCEPT, "application/json")
        .header(
            header::USER_AGENT,
            concat!("labstore/", env!("CARGO_PKG_VERSION")),
        )
        .body(Empty::new())
        .map_err(|e| format!("bad URL {uri}: {e}"))?;
    let work = async {
        let response = client.request(request).await.map_err(|e| {
            let causes = crate::api::cause_chain(&e)
                .map(|c| format!(": {c}"))
                .unwrap_or_default();
            format!("GET {uri}: {e}{causes}")
        })?;
        if response.status() != StatusCode::OK {
            return Err(format!("GET {uri}: status {}", response.status()));
        }
        let body = Limited::new(response.into_body(), MAX_DOCUMENT)
            .collect()
            .await
            .map_err(|e| format!("GET {uri}: {e}"))?;
        Ok(body.to_bytes())
    };
    tokio::time::timeout(FETCH_TIMEOUT, work)
        .await
        .map_err(|_| format!("GET {uri}: no answer within {FETCH_TIMEOUT:?}"))?
}

/// A provider's JWKS file; `None` when there is none. Read on the blocking pool.
async fn read_jwks_file(path: &Path) -> Result<Option<KeySet>, WebIdentityError> {
    let owned = path.to_owned();
    let read = crate::metrics::blocking::spawn(move || -> std::io::Result<Option<Vec<u8>>> {
        use std::io::Read;
        let file = match std::fs::File::open(&owned) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut bytes = Vec::new();
        let limit = u64::try_from(MAX_DOCUMENT).expect("fits") + 1;
        file.take(limit).read_to_end(&mut bytes)?;
        Ok(Some(bytes))
    })
    .await
    .map_err(|e| communication(format!("{}: {e}", path.display())))?;
    let bytes = match read {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(None),
        Err(e) => return Err(communication(format!("{}: {e}", path.display()))),
    };
    if bytes.len() > MAX_DOCUMENT {
        return Err(communication(format!("{} is too large", path.display())));
    }
    KeySet::parse(&bytes)
        .map(Some)
        .map_err(|e| communication(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_injective_and_flat() {
        assert_eq!(jwks_file_name("idp.example.com"), "idp.example.com.json");
        assert_eq!(
            jwks_file_name("idp.example.com/t_1"),
            "idp.example.com%2Ft%5F1.json"
        );
        assert_eq!(jwks_file_name("127.0.0.1:8443"), "127.0.0.1%3A8443.json");
        assert_ne!(jwks_file_name("a/b"), jwks_file_name("a_b"));
        assert!(!jwks_file_name("../../etc/passwd").contains('/'));
    }

    #[test]
    fn selecting_a_key() {
        let set = KeySet::parse(
            br#"{"keys": [
                {"kty": "RSA", "kid": "r1", "use": "sig", "alg": "RS256", "n": "AQAB", "e": "AQAB"},
                {"kty": "EC", "kid": "e1", "crv": "P-256", "x": "AA", "y": "AA"},
                {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
                {"kty": "weird", "kid": "w"}
            ]}"#,
        )
        .unwrap();
        assert_eq!(set.keys.len(), 3, "the unknown key type is left out");
        let kid = |k: Option<&Jwk>| k.and_then(|k| k.common.key_id.clone());
        assert_eq!(
            kid(set.select(Some("r1"), Algorithm::RS256)).as_deref(),
            Some("r1")
        );
        assert_eq!(
            kid(set.select(Some("e1"), Algorithm::ES256)).as_deref(),
            Some("e1")
        );
        // A key of another type than the token's alg, or for encryption, does not verify.
        assert_eq!(kid(set.select(Some("r1"), Algorithm::ES256)), None);
        assert_eq!(kid(set.select(Some("enc"), Algorithm::RS256)), None);
        assert_eq!(kid(set.select(Some("nope"), Algorithm::RS256)), None);
        // Without a kid: the only key fit for the alg.
        assert_eq!(
            kid(set.select(None, Algorithm::RS256)).as_deref(),
            Some("r1")
        );
        assert_eq!(
            kid(set.select(None, Algorithm::ES256)).as_deref(),
            Some("e1")
        );
        let two = KeySet::parse(
            br#"{"keys": [{"kty": "RSA", "kid": "a", "n": "AQAB", "e": "AQAB"},
                          {"kty": "RSA", "kid": "b", "n": "AQAB", "e": "AQAB"}]}"#,
        )
        .unwrap();
        assert!(two.select(None, Algorithm::RS256).is_none());
        assert!(KeySet::parse(b"{}").is_err());
        assert!(KeySet::parse(b"[").is_err());
    }
}
