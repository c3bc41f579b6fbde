//! The bench's S3 client: SigV4 signing with the server's own canonicalization
//! (`auth::sigv4`), over hyper's pooled keep-alive HTTP/1.1 client, so a request costs the
//! client one SHA-256 of its canonical request and one HMAC, and no new connection.
//!
//! Boundary: speaks HTTP or HTTPS (rustls on ring, HTTP/1.1; the system's roots or
//! `--ca-file`'s) to any S3 endpoint with path-style addressing. It does not retry: a failed
//! request is an error the report counts.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use http::header::{HeaderValue, AUTHORIZATION, HOST};
use http::request::Parts;
use http::{Method, Request, Response};
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use zeroize::Zeroizing;

use super::payload::Body;
use crate::auth::sigv4::{self, Credential, Location, Presented};
use crate::crypto::Secret;
use crate::timefmt;

/// The most of an error response's body read to find its `<Code>`.
const ERROR_BODY_LIMIT: usize = 64 << 10;

/// Why an operation failed. Each is counted per operation and shown in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpError {
    /// A non-2xx answer, with S3's error code when the body had one.
    Status { status: u16, code: String },
    /// The request did not complete: refused connection, reset, timeout.
    Transport(String),
    /// The server answered 2xx with something other than what was written or expected.
    Verify(String),
}

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpError::Status { status, code } if code.is_empty() => write!(f, "HTTP {status}"),
            OpError::Status { status, code } => write!(f, "HTTP {status} {code}"),
            OpError::Transport(message) => write!(f, "transport: {message}"),
            OpError::Verify(message) => write!(f, "verification: {message}"),
        }
    }
}

/// Where the server is: `http://host:port` or `https://host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `host:port`, as the Host header and the signature carry it.
    pub authority: String,
    /// Over TLS.
    pub https: bool,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Endpoint, String> {
        let (rest, https) = match url.split_once("://") {
            Some(("http", rest)) => (rest, false),
            Some(("https", rest)) => (rest, true),
            Some((scheme, _)) => return Err(format!("{url}: unknown scheme {scheme}")),
            None => (url, false),
        };
        let authority = rest.trim_end_matches('/');
        let valid = !authority.is_empty()
            && !authority.contains(['/', '?', '#', '@'])
            && authority.parse::<http::uri::Authority>().is_ok();
        if !valid {
            return Err(format!(
                "{url}: the endpoint must be http(s)://host[:port], without a path (path-style)"
            ));
        }
        Ok(Endpoint {
            authority: authority.to_owned(),
            https,
        })
    }

    fn scheme(&self) -> &'static str {
        if self.https {
            "https"
        } else {
            "http"
        }
    }
}

/// The certificates an https endpoint is trusted by: `ca_file`'s (PEM) when given, else
/// the system's.
fn tls_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    if let Some(path) = ca_file {
        let shown = path.display();
        let pem = std::fs::read(path).map_err(|e| format!("--ca-file {shown}: {e}"))?;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| format!("--ca-file {shown}: {e}"))?;
            roots
                .add(cert)
                .map_err(|e| format!("--ca-file {shown}: {e}"))?;
        }
        if roots.is_empty() {
            return Err(format!("--ca-file {shown}: no PEM certificate in it"));
        }
    } else {
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
    }
    Ok(client_config(roots))
}

fn client_config(roots: rustls::RootCertStore) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring offers TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// Signs requests for the `s3` service, caching the day's signing key.
pub struct Signer {
    access_key: String,
    secret: Secret,
    region: String,
    /// The scope date and the signing key derived for it: four HMACs once a day instead of
    /// per request.
    day_key: Mutex<Option<(String, Zeroizing<[u8; 32]>)>>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("access_key", &self.access_key)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// `Err` when the access key or region cannot travel in a header.
    pub fn new(access_key: &str, secret: Secret, region: &str) -> Result<Signer, String> {
        let printable = |s: &str| s.bytes().all(|b| b.is_ascii_graphic() && b != b'/');
        if access_key.is_empty() || !printable(access_key) || !printable(region) {
            return Err("the access key and region must be printable ASCII without '/'".into());
        }
        Ok(Signer {
            access_key: access_key.to_owned(),
            secret,
            region: region.to_owned(),
            day_key: Mutex::new(None),
        })
    }

    fn key_for(&self, date: &str) -> Zeroizing<[u8; 32]> {
        let mut slot = self.day_key.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((day, key)) = &*slot {
            if day == date {
                return key.clone();
            }
        }
        let key = Zeroizing::new(sigv4::signing_key(
            self.secret.expose(),
            date,
            &self.region,
            "s3",
        ));
        *slot = Some((date.to_owned(), key.clone()));
        key
    }

    /// Adds `x-amz-date`, `x-amz-content-sha256` and `Authorization` to a request whose other
    /// headers (Host included) are final; every header it carries is signed.
    pub fn sign(&self, parts: &mut Parts, payload_hash: &str, now: SystemTime) {
        let amz_date = timefmt::format_amz_date(now);
        let date = amz_date[..8].to_owned();
        let ascii = |value: &str| HeaderValue::from_str(value);
        if let Ok(value) = ascii(&amz_date) {
            parts.headers.insert("x-amz-date", value);
        }
        if let Ok(value) = ascii(payload_hash) {
            parts.headers.insert("x-amz-content-sha256", value);
        }
        let mut names: Vec<&str> = parts.headers.keys().map(|name| name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let signed_headers = names.join(";");
        let presented = Presented {
            credential: Credential::new(&self.access_key, &date, &self.region, "s3"),
            signed_headers,
            signature: [0; 32],
            request_time: now,
            amz_date,
            location: Location::Header,
        };
        let canonical = sigv4::canonical_request(parts, &presented, payload_hash);
        let key = self.key_for(presented.credential.date());
        let signature = sigv4::signature(&key, &presented, &canonical);
        let c = &presented.credential;
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={}/{}/{}/s3/aws4_request, SignedHeaders={}, Signature={}",
            c.access_key(),
            c.date(),
            c.region(),
            presented.signed_headers,
            hex::encode(signature)
        );
        // Checked printable in `new`: the value is always a valid header.
        if let Ok(value) = ascii(&authorization) {
            parts.headers.insert(AUTHORIZATION, value);
        }
    }
}

/// One endpoint's client: a connection pool and a signer.
pub struct Client {
    http: hyper_util::client::legacy::Client<HttpsConnector<HttpConnector>, Body>,
    endpoint: Endpoint,
    host: HeaderValue,
    signer: Signer,
    /// The longest wait for a response head, or for the next piece of a response body.
    timeout: Duration,
}

impl Client {
    /// Keeps up to `connections` idle connections, one per worker. An https endpoint is
    /// trusted by `ca_file`'s certificates, else the system's.
    pub fn new(
        endpoint: Endpoint,
        signer: Signer,
        connections: usize,
        timeout: Duration,
        ca_file: Option<&Path>,
    ) -> Result<Client, String> {
        let host = HeaderValue::from_str(&endpoint.authority).map_err(|e| e.to_string())?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(10)));
        connector.enforce_http(false);
        let tls = if endpoint.https {
            tls_config(ca_file)?
        } else {
            // Never used: every URL says http.
            client_config(rustls::RootCertStore::empty())
        };
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        let http = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(connections)
            .build(connector);
        Ok(Client {
            http,
            endpoint,
            host,
            signer,
            timeout,
        })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Signs and sends a request; the response is whatever the server answered, any status.
    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &[(&str, String)],
        body: Body,
        payload_hash: &str,
    ) -> Result<Response<Incoming>, OpError> {
        let uri = format!(
            "{}://{}{path_and_query}",
            self.endpoint.scheme(),
            self.endpoint.authority
        );
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(HOST, self.host.clone());
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        let request = request
            .body(body)
            .map_err(|e| OpError::Transport(format!("cannot build the request: {e}")))?;
        let (mut parts, body) = request.into_parts();
        self.signer
            .sign(&mut parts, payload_hash, SystemTime::now());
        let response = self.http.request(Request::from_parts(parts, body));
        match tokio::time::timeout(self.timeout, response).await {
            Ok(response) => response.map_err(|e| OpError::Transport(chain(&e))),
            Err(_) => Err(OpError::Transport(format!(
                "no response for {:.0} s",
                self.timeout.as_secs_f64()
            ))),
        }
    }
}

impl Client {
    /// `send` for a request without a body.
    pub async fn send_empty(
        &self,
        method: Method,
        path_and_query: &str,
    ) -> Result<Response<Incoming>, OpError> {
        let empty = super::payload::EMPTY_SHA256;
        self.send(method, path_and_query, &[], Body::empty(), empty)
            .await
    }
}

/// An error and its causes, `: `-separated (hyper's own message is only "client error").
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

impl Client {
    /// The next frame of a response body; waiting longer than the timeout for it is an error.
    async fn next_frame(&self, body: &mut Incoming) -> Result<Option<Frame<Bytes>>, OpError> {
        match tokio::time::timeout(self.timeout, body.frame()).await {
            Err(_) => Err(OpError::Transport(format!(
                "no response data for {:.0} s",
                self.timeout.as_secs_f64()
            ))),
            Ok(None) => Ok(None),
            Ok(Some(frame)) => frame.map(Some).map_err(|e| OpError::Transport(chain(&e))),
        }
    }

    /// The response if it is a 2xx; otherwise the error, with the `<Code>` of its body.
    pub async fn success(
        &self,
        response: Response<Incoming>,
    ) -> Result<Response<Incoming>, OpError> {
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let mut text = Vec::new();
        while let Ok(Some(frame)) = self.next_frame(&mut body).await {
            if let Ok(data) = frame.into_data() {
                text.extend_from_slice(&data[..data.len().min(ERROR_BODY_LIMIT - text.len())]);
                if text.len() >= ERROR_BODY_LIMIT {
                    break;
                }
            }
        }
        let code = xml_texts(&text, &["Code"])
            .into_iter()
            .next()
            .map(|(_, code)| code)
            .unwrap_or_default();
        Err(OpError::Status { status, code })
    }

    /// A 2xx response's whole body (small XML documents only).
    pub async fn body_of(&self, response: Response<Incoming>) -> Result<Bytes, OpError> {
        let mut out = BytesMut::new();
        self.drain(response, |data| out.extend_from_slice(data))
            .await?;
        Ok(out.freeze())
    }

    /// Reads a 2xx response's body to its end, handing each data frame to `each`.
    pub async fn drain(
        &self,
        response: Response<Incoming>,
        mut each: impl FnMut(&[u8]),
    ) -> Result<(), OpError> {
        let mut body = self.success(response).await?.into_body();
        while let Some(frame) = self.next_frame(&mut body).await? {
            if let Ok(data) = frame.into_data() {
                each(&data);
            }
        }
        Ok(())
    }
}

/// The text of every element named in `names`, in document order, as (name index, text).
/// Enough for the flat answers the bench reads (UploadId, Key, IsTruncated, Code); a body
/// that is not XML yields what was read before the fault.
pub fn xml_texts(body: &[u8], names: &[&str]) -> Vec<(usize, String)> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut found = Vec::new();
    let mut current: Option<(usize, String)> = None;
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                let name = e.local_name();
                current = names
                    .iter()
                    .position(|n| n.as_bytes() == name.as_ref())
                    .map(|i| (i, String::new()));
            }
            Ok(Event::Text(t)) => {
                if let (Some((_, text)), Ok(decoded)) = (&mut current, t.decode()) {
                    text.push_str(&decoded);
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if let Some((_, text)) = &mut current {
                    text.push(entity(&r).unwrap_or('\u{FFFD}'));
                }
            }
            Ok(Event::End(_)) => found.extend(current.take()),
            Ok(Event::Eof) | Err(_) => return found,
            _ => {}
        }
        buf.clear();
    }
}

fn entity(r: &quick_xml::events::BytesRef<'_>) -> Option<char> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Some(c);
    }
    match r.decode().ok()?.as_ref() {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    }
}

/// The value of a response header as text, if present and ASCII.
pub fn header<'a>(response: &'a Response<Incoming>, name: &str) -> Option<&'a str> {
    response.headers().get(name)?.to_str().ok()
}

#[cfg(test)]
mod tests;
