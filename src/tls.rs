//! TLS on the listeners: each listener's certificate and key (PEM files, or the development
//! mode's self-signed pair in `keys_dir`), the rustls server configuration (TLS 1.2 and 1.3,
//! ALPN `http/1.1`, ring), and the reload on SIGHUP: every handshake asks a `Resolver` for
//! the current certificate, and a reload swaps it whole, so connections already open keep
//! the session they have and new handshakes see the new certificate. A reload that fails
//! (unreadable file, bad PEM, key not matching the certificate) keeps the old one.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;

use crate::config::{Config, ServerTls};
use crate::state::Listener;

/// The development mode's certificate and key, in `keys_dir`.
pub const SELF_SIGNED_CERT: &str = "tls-self-signed.crt";
pub const SELF_SIGNED_KEY: &str = "tls-self-signed.key";

/// A certificate or key that cannot be used, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {problem}")]
    Invalid { path: String, problem: String },
    #[error("cannot write the self-signed certificate {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot generate the self-signed certificate: {0}")]
    Generate(String),
}

/// The certificate a listener serves now; swapped whole by a reload.
#[derive(Debug)]
pub struct Resolver {
    current: RwLock<Arc<CertifiedKey>>,
}

impl Resolver {
    fn new(key: Arc<CertifiedKey>) -> Self {
        Resolver {
            current: RwLock::new(key),
        }
    }

    fn swap(&self, key: Arc<CertifiedKey>) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = key;
    }
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(
            &self.current.read().unwrap_or_else(PoisonError::into_inner),
        ))
    }
}

/// One listener's TLS: its files, the resolver its handshakes read, and the acceptor.
#[derive(Clone)]
pub struct ListenerTls {
    pub listener: Listener,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    resolver: Arc<Resolver>,
    pub acceptor: tokio_rustls::TlsAcceptor,
}

impl ListenerTls {
    fn open(listener: Listener, cert_file: PathBuf, key_file: PathBuf) -> Result<Self, TlsError> {
        let resolver = Arc::new(Resolver::new(load(&cert_file, &key_file)?));
        let acceptor =
            tokio_rustls::TlsAcceptor::from(server_config(Arc::clone(&resolver) as Arc<_>));
        Ok(ListenerTls {
            listener,
            cert_file,
            key_file,
            resolver,
            acceptor,
        })
    }

    /// Reads the files again and, if they make a certificate, serves it from the next
    /// handshake on.
    pub fn reload(&self) -> Result<(), TlsError> {
        self.resolver.swap(load(&self.cert_file, &self.key_file)?);
        Ok(())
    }
}

/// Every listener's TLS, in `Listener::ALL` order (`None`: plain HTTP).
#[derive(Clone, Default)]
pub struct Certificates {
    listeners: [Option<ListenerTls>; 3],
    /// The development mode's certificate, when it is in use.
    pub self_signed: Option<PathBuf>,
}

impl Certificates {
    /// Each listener's certificate from the configuration: its own files, else the
    /// development mode's certificate (generated into `keys_dir` on first use) when enabled.
    pub fn open(config: &Config) -> Result<Certificates, TlsError> {
        let mut certificates = Certificates::default();
        let dev = &config.backend.tls;
        for listener in Listener::ALL {
            let own = match listener {
                Listener::Admin => &config.backend.admin.server.tls,
                Listener::Iam => &config.backend.iam.server.tls,
                Listener::S3 => &config.backend.s3.server.tls,
            };
            let files = match own {
                ServerTls {
                    cert_file: Some(cert),
                    key_file: Some(key),
                } => Some((cert.clone(), key.clone())),
                _ if dev.self_signed => {
                    let (cert, key) = self_signed(&config.backend.storage.keys_dir, &dev.names())?;
                    // Absolute, for the path printed for clients to trust.
                    let cert = fs::canonicalize(&cert).unwrap_or(cert);
                    certificates.self_signed = Some(cert.clone());
                    Some((cert, key))
                }
                // The configuration refuses half a pair.
                _ => None,
            };
            if let Some((cert, key)) = files {
                certificates.listeners[listener as usize] =
                    Some(ListenerTls::open(listener, cert, key)?);
            }
        }
        Ok(certificates)
    }

    /// `listener`'s TLS, if it serves HTTPS.
    pub fn get(&self, listener: Listener) -> Option<&ListenerTls> {
        self.listeners[listener as usize].as_ref()
    }

    /// Reloads every listener's certificate; one that fails keeps its old certificate and is
    /// logged at error level. Returns how many failed.
    pub fn reload(&self) -> usize {
        let mut failed = 0;
        for tls in self.listeners.iter().flatten() {
            match tls.reload() {
                Ok(()) => tracing::info!(
                    listener = tls.listener.name(),
                    cert_file = %tls.cert_file.display(),
                    "TLS certificate reloaded"
                ),
                Err(e) => {
                    failed += 1;
                    tracing::error!(
                        listener = tls.listener.name(),
                        error = %e,
                        "TLS certificate reload failed; the certificate in use is kept"
                    );
                }
            }
        }
        failed
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The server configuration of one listener: TLS 1.2 and 1.3, ALPN `http/1.1` (the
/// listeners speak HTTP/1.1 only), no client certificates, the certificate from `resolver`.
pub fn server_config(resolver: Arc<dyn ResolvesServerCert>) -> Arc<ServerConfig> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("ring offers TLS 1.2 and 1.3")
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// Reads a certificate chain and its private key, and checks that they belong together.
pub fn load(cert_file: &Path, key_file: &Path) -> Result<Arc<CertifiedKey>, TlsError> {
    let invalid = |path: &Path, problem: String| TlsError::Invalid {
        path: path.display().to_string(),
        problem,
    };
    let cert_pem = read(cert_file)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(cert_file, format!("not a PEM certificate file: {e}")))?;
    if chain.is_empty() {
        return Err(invalid(
            cert_file,
            "holds no PEM CERTIFICATE block".to_owned(),
        ));
    }
    let key_pem = read(key_file)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| invalid(key_file, format!("no PEM private key found: {e}")))?;
    let signing = provider()
        .key_provider
        .load_private_key(key)
        .map_err(|e| invalid(key_file, format!("unusable private key: {e}")))?;
    let certified = CertifiedKey::new(chain, signing);
    certified.keys_match().map_err(|e| {
        invalid(
            key_file,
            format!(
                "does not match the certificate in {}: {e}",
                cert_file.display()
            ),
        )
    })?;
    Ok(Arc::new(certified))
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    fs::read(path).map_err(|source| TlsError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// The development mode's certificate and key in `keys_dir`: reused when both exist, else
/// generated for `names` (self-signed, no CA; DNS names and IP addresses as given) and
/// written, the key 0600. Returns their paths.
pub fn self_signed(keys_dir: &Path, names: &[String]) -> Result<(PathBuf, PathBuf), TlsError> {
    let cert = keys_dir.join(SELF_SIGNED_CERT);
    let key = keys_dir.join(SELF_SIGNED_KEY);
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    let generated = rcgen::generate_simple_self_signed(names.to_vec())
        .map_err(|e| TlsError::Generate(e.to_string()))?;
    // The key first: a certificate on disk always has its key beside it.
    write_new(
        &key,
        generated.signing_key.serialize_pem().as_bytes(),
        0o600,
    )?;
    // A certificate is public: clients are handed it to trust.
    write_new(&cert, generated.cert.pem().as_bytes(), 0o644)?;
    Ok((cert, key))
}

/// Writes `path` whole (through a temporary file and a rename, so a crash never leaves half
/// a PEM file behind) with permissions `mode`.
fn write_new(path: &Path, contents: &[u8], mode: u32) -> Result<(), TlsError> {
    let error = |source| TlsError::Write {
        path: path.display().to_string(),
        source,
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let _ = fs::remove_file(&tmp);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .map_err(error)?;
    file.write_all(contents).map_err(error)?;
    file.sync_all().map_err(error)?;
    drop(file);
    fs::rename(&tmp, path).map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["localhost", "127.0.0.1", "::1"]
            .map(str::to_owned)
            .to_vec()
    }

    #[test]
    fn self_signed_is_generated_once_with_a_private_key() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = self_signed(dir.path(), &names()).unwrap();
        let first = fs::read(&cert).unwrap();
        let mode = fs::metadata(&key).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
        load(&cert, &key).unwrap();
        let (again, _) = self_signed(dir.path(), &names()).unwrap();
        assert_eq!(fs::read(again).unwrap(), first, "reused, not regenerated");
    }

    #[test]
    fn a_key_of_another_certificate_is_refused_naming_the_key_file() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let (cert, _) = self_signed(a.path(), &names()).unwrap();
        let (_, other_key) = self_signed(b.path(), &names()).unwrap();
        let e = load(&cert, &other_key).unwrap_err().to_string();
        assert!(e.contains(&other_key.display().to_string()), "{e}");
        assert!(e.contains("does not match"), "{e}");
    }

    #[test]
    fn unreadable_and_non_pem_files_are_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = self_signed(dir.path(), &names()).unwrap();
        let missing = dir.path().join("missing.pem");
        let e = load(&missing, &key).unwrap_err().to_string();
        assert!(e.contains("missing.pem"), "{e}");
        let junk = dir.path().join("junk.pem");
        fs::write(&junk, "not a certificate").unwrap();
        let e = load(&junk, &key).unwrap_err().to_string();
        assert!(e.contains("junk.pem") && e.contains("CERTIFICATE"), "{e}");
        let e = load(&cert, &junk).unwrap_err().to_string();
        assert!(e.contains("junk.pem") && e.contains("private key"), "{e}");
    }
}
