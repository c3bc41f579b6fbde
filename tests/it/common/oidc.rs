//! A test OpenID Connect issuer: an RSA and an EC key made at start, its own CA, and an HTTPS
//! server on 127.0.0.1 (port 0) serving the discovery document and the JWKS; it signs tokens
//! with chosen claims. The server under test trusts it through `backend.iam.oidc.ca_file`
//! (`TestIssuer::server`); `jwks_file` writes its keys for the JWKS-file route instead.
//!
//! ```ignore
//! let issuer = TestIssuer::start();
//! let server = issuer.server(dir, &[]);
//! // CreateOpenIDConnectProvider with Url = issuer.url (client id "app"), then:
//! let token = issuer.token(Alg::Rs256, &issuer.claims("alice", "app"));
//! ```

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use tokio::sync::oneshot;

/// The kids of the issuer's two keys.
pub const RSA_KID: &str = "rsa-1";
pub const EC_KID: &str = "ec-1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Rs256,
    Es256,
}

/// What the HTTPS server reads: which keys it publishes, and what it has served.
struct Served {
    jwks: Value,
    published: Mutex<Vec<String>>,
    url: String,
    discovery_hits: AtomicUsize,
    jwks_hits: AtomicUsize,
}

impl Served {
    /// The JWKS with the published keys only.
    fn jwks(&self) -> Value {
        let published = self.published.lock().unwrap();
        let keys: Vec<Value> = self.jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| published.iter().any(|kid| k["kid"] == kid.as_str()))
            .cloned()
            .collect();
        json!({ "keys": keys })
    }
}

pub struct TestIssuer {
    /// `https://127.0.0.1:<port>`: the provider's Url, and its tokens' `iss`.
    pub url: String,
    /// The CA that signed the server's certificate, PEM.
    pub ca_pem: String,
    /// The SHA-1 of the CA certificate (which the server presents last in its chain), hex:
    /// the thumbprint that makes a server without the CA trust this issuer.
    pub ca_thumbprint: String,
    /// A temp dir holding `ca.pem` (and what `jwks_file` writes).
    pub dir: tempfile::TempDir,
    rsa: EncodingKey,
    ec: EncodingKey,
    served: Arc<Served>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestIssuer {
    /// Makes the keys and the CA, and starts serving. Both keys are published.
    pub fn start() -> TestIssuer {
        let (rsa, rsa_jwk) = rsa_key();
        let ec_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let point = ec_pair.public_key_raw();
        let ec_jwk = json!({"kty": "EC", "kid": EC_KID, "use": "sig", "alg": "ES256", "crv": "P-256",
                            "x": b64(&point[1..33]), "y": b64(&point[33..65])});
        let ec = EncodingKey::from_ec_der(&ec_pair.serialize_der());
        let (ca_pem, ca_thumbprint, tls) = tls_config();

        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let url = format!("https://{}", std_listener.local_addr().unwrap());
        let served = Arc::new(Served {
            jwks: json!({ "keys": [rsa_jwk, ec_jwk] }),
            published: Mutex::new(vec![RSA_KID.into(), EC_KID.into()]),
            url: url.clone(),
            discovery_hits: AtomicUsize::new(0),
            jwks_hits: AtomicUsize::new(0),
        });
        let (stop, stopped) = oneshot::channel();
        let serving = Arc::clone(&served);
        let thread = std::thread::Builder::new()
            .name("test-issuer".into())
            .spawn(move || serve(std_listener, tls, serving, stopped))
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), &ca_pem).unwrap();
        TestIssuer {
            url,
            ca_pem,
            ca_thumbprint,
            dir,
            rsa,
            ec,
            served,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The provider's URL without `https://`, as in its ARN.
    pub fn host(&self) -> &str {
        self.url.trim_start_matches("https://")
    }

    /// The provider's ARN in the test account.
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::000000000000:oidc-provider/{}", self.host())
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A server in `dir` that trusts this issuer's CA (`backend.iam.oidc.ca_file`), with
    /// the `LABSTORE_*` pairs `extra` besides.
    pub fn server(&self, dir: &Path, extra: &[(&str, &str)]) -> super::TestServer {
        let ca = self.ca_file().display().to_string();
        let mut env = vec![("LABSTORE_BACKEND_IAM_OIDC_CA_FILE", ca.as_str())];
        env.extend_from_slice(extra);
        super::TestServer::start_with(dir, &env)
            .unwrap_or_else(|e| panic!("labstore did not start: {e}"))
    }

    /// Publishes only the keys `kids` from now on.
    pub fn publish(&self, kids: &[&str]) {
        *self.served.published.lock().unwrap() = kids.iter().map(|k| (*k).to_owned()).collect();
    }

    /// How many times the discovery document and the JWKS were served.
    pub fn hits(&self) -> (usize, usize) {
        (
            self.served.discovery_hits.load(Ordering::SeqCst),
            self.served.jwks_hits.load(Ordering::SeqCst),
        )
    }

    /// Writes both keys as a JWKS file named for this issuer in `dir`, as
    /// `backend.iam.oidc.jwks_dir` expects (`<URL without https://, percent-encoded>.json`).
    pub fn jwks_file(&self, dir: &Path) -> PathBuf {
        let name = labstore::oidc::keys::jwks_file_name(self.host());
        let path = dir.join(name);
        std::fs::write(&path, self.served.jwks.to_string()).unwrap();
        path
    }

    /// Claims for `sub` and `aud`, issued now, valid ten minutes.
    pub fn claims(&self, sub: &str, aud: &str) -> Value {
        let now = now();
        json!({"iss": self.url, "sub": sub, "aud": aud, "iat": now, "exp": now + 600})
    }

    /// A token over `claims`, signed with the key of `alg` and naming its kid.
    pub fn token(&self, alg: Alg, claims: &Value) -> String {
        let kid = match alg {
            Alg::Rs256 => RSA_KID,
            Alg::Es256 => EC_KID,
        };
        self.token_with_kid(alg, Some(kid), claims)
    }

    /// A token over `claims` signed with the key of `alg`, naming `kid` (or none).
    pub fn token_with_kid(&self, alg: Alg, kid: Option<&str>, claims: &Value) -> String {
        let (algorithm, key) = match alg {
            Alg::Rs256 => (Algorithm::RS256, &self.rsa),
            Alg::Es256 => (Algorithm::ES256, &self.ec),
        };
        let mut header = Header::new(algorithm);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, key).unwrap()
    }
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

pub fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    i64::try_from(secs).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn rsa_key() -> (EncodingKey, Value) {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let jwk = json!({"kty": "RSA", "kid": RSA_KID, "use": "sig", "alg": "RS256",
                     "n": b64(&key.n().to_bytes_be()), "e": b64(&key.e().to_bytes_be())});
    (
        EncodingKey::from_rsa_der(key.to_pkcs1_der().unwrap().as_bytes()),
        jwk,
    )
}

/// A CA (PEM, and its SHA-1 in hex) and a server configuration whose certificate it signed,
/// for 127.0.0.1; the server presents the chain leaf, CA.
fn tls_config() -> (String, String, Arc<rustls::ServerConfig>) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    use sha1::Digest;
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "LabStore test issuer CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let ca = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone(), ca_cert.der().clone()], key)
        .unwrap();
    let thumbprint = hex::encode(sha1::Sha1::digest(ca_cert.der()));
    (ca_cert.pem(), thumbprint, Arc::new(config))
}

fn serve(
    listener: std::net::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    served: Arc<Served>,
    stopped: oneshot::Receiver<()>,
) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        let accept = async {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                let served = Arc::clone(&served);
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = service_fn(move |req| {
                        let served = Arc::clone(&served);
                        async move { Ok::<_, Infallible>(answer(&served, &req)) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        };
        tokio::select! {
            () = accept => {}
            _ = stopped => {}
        }
    });
}

fn answer(served: &Served, req: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let body = match req.uri().path() {
        "/.well-known/openid-configuration" => {
            served.discovery_hits.fetch_add(1, Ordering::SeqCst);
            json!({"issuer": served.url, "jwks_uri": format!("{}/jwks", served.url)})
        }
        "/jwks" => {
            served.jwks_hits.fetch_add(1, Ordering::SeqCst);
            served.jwks()
        }
        _ => {
            return Response::builder()
                .status(404)
                .body(Full::new(Bytes::new()))
                .unwrap()
        }
    };
    Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}
