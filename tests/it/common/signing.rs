//! Raw SigV4-signed requests for the cases no SDK will send (stale dates, wrong secrets,
//! presigned IAM calls). Signed with the `aws-sigv4` crate, independently of the server's own
//! verifier, so a canonicalization mistake on either side shows up as a failure.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest,
    SignatureLocation, SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4::SigningParams;

use super::{try_read_response, Response};

/// How to sign.
pub struct Signer<'a> {
    pub access_key: &'a str,
    pub secret: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub time: SystemTime,
    /// Presign (signature in the query) valid for this long, instead of a header.
    pub presign: Option<Duration>,
    /// The payload hash to declare and sign instead of the body's SHA-256 (S3 modes such as
    /// `UNSIGNED-PAYLOAD` or `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`).
    pub payload: Option<&'a str>,
}

impl<'a> Signer<'a> {
    pub fn new(access_key: &'a str, secret: &'a str) -> Signer<'a> {
        Signer {
            access_key,
            secret,
            service: "iam",
            region: "us-east-1",
            time: SystemTime::now(),
            presign: None,
            payload: None,
        }
    }

    /// Signs for S3: single URI encoding and an `x-amz-content-sha256` header.
    pub fn s3(access_key: &'a str, secret: &'a str) -> Signer<'a> {
        Signer {
            service: "s3",
            ..Signer::new(access_key, secret)
        }
    }

    /// The signed request as (path and query, headers).
    pub fn sign(
        &self,
        addr: SocketAddr,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: impl AsRef<[u8]>,
    ) -> (String, Vec<(String, String)>) {
        let body = body.as_ref();
        let host = addr.to_string();
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("http://{host}{path_and_query}"));
        // A Host given by the caller (virtual-hosted style) replaces the address.
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
            request = request.header("host", &host);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut request = request.body(()).unwrap();
        let mut settings = SigningSettings::default();
        if self.service == "s3" {
            settings.percent_encoding_mode = PercentEncodingMode::Single;
            // S3 keys may hold `.` and `..` segments; S3 clients sign the path as sent.
            settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
            if self.presign.is_none() {
                settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
            }
        }
        if let Some(expires) = self.presign {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(expires);
        }
        let identity = aws_credential_types::Credentials::new(
            self.access_key,
            self.secret,
            None,
            None,
            "tests",
        )
        .into();
        let params = SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name(self.service)
            .time(self.time)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let pairs: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
            .collect();
        let signable = SignableRequest::new(
            method,
            request.uri().to_string(),
            pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            match self.payload {
                Some(hash) => SignableBody::Precomputed(hash.to_owned()),
                None => SignableBody::Bytes(body),
            },
        )
        .unwrap();
        let (instructions, _signature) = sign(signable, &params).unwrap().into_parts();
        instructions.apply_to_request_http1x(&mut request);
        let path = request
            .uri()
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_else(|| "/".into());
        let headers = request
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
            .collect();
        (path, headers)
    }
}

/// Sends a request with exactly these headers (plus Content-Length and Connection: close).
pub fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: impl AsRef<[u8]>,
) -> Response {
    try_send(addr, method, path, headers, body).expect("the server answered")
}

/// `send`, returning connection failures instead of panicking (the server may be gone).
pub fn try_send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: impl AsRef<[u8]>,
) -> std::io::Result<Response> {
    let body = body.as_ref();
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    try_read_response(&mut stream)
}

pub const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// Signs and sends an IAM Query API call with a form body.
pub fn iam_call(addr: SocketAddr, signer: &Signer<'_>, body: &str) -> Response {
    let (path, headers) = signer.sign(addr, "POST", "/", &[("content-type", FORM)], body);
    send(addr, "POST", &path, &headers, body)
}

/// Signs (as the S3 service, with the body's SHA-256 in `x-amz-content-sha256`) and sends an
/// S3 request: for what the SDK will not send, such as a wrong Content-MD5.
pub fn s3_call(
    addr: SocketAddr,
    signer: &Signer<'_>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Response {
    // The S3 signer adds x-amz-content-sha256 (the body's hash) itself.
    let signer = Signer {
        service: "s3",
        ..*signer
    };
    let (path, headers) = signer.sign(addr, method, path, headers, body);
    send(addr, method, &path, &headers, body)
}

/// Sends a request's head (these headers exactly, its Content-Length among them, plus
/// `Connection: close`) and `body_start`, then waits at most `wait` for the answer without
/// sending the rest: for requests the server must refuse from their headers alone. An error
/// when no complete answer came in time (the server waited for the body).
pub fn send_head(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body_start: &[u8],
    wait: Duration,
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(wait))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body_start)?;
    try_read_response(&mut stream)
}
