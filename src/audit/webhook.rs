//! The webhook sink: each batch of records is one `POST` of JSON lines
//! (`application/x-ndjson`) to `backend.audit.webhook.url`, over HTTP or HTTPS (the system's
//! CA roots), within `timeout_ms`. A batch the endpoint does not take (an error, a non-2xx
//! answer, the time-out) is dropped and counted: the trail never holds requests back.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::sink::{SinkError, Writer};
use crate::config::AuditWebhook;

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

pub struct Webhook {
    url: http::Uri,
    timeout: Duration,
    /// Made on the sink's own thread at its first batch: a runtime of its own, and the client.
    client: Option<(tokio::runtime::Runtime, HttpsClient)>,
}

impl Webhook {
    pub fn new(config: &AuditWebhook) -> Result<Webhook, SinkError> {
        let url: http::Uri = config
            .url
            .as_deref()
            .unwrap_or_default()
            .parse()
            .map_err(|e| SinkError::Webhook(format!("not a URL: {e}")))?;
        if !matches!(url.scheme_str(), Some("http" | "https")) || url.host().is_none() {
            return Err(SinkError::Webhook(
                "an http:// or https:// URL with a host is required".into(),
            ));
        }
        Ok(Webhook {
            url,
            timeout: Duration::from_millis(config.timeout_ms),
            client: None,
        })
    }

    fn client(&mut self) -> std::io::Result<&(tokio::runtime::Runtime, HttpsClient)> {
        if self.client.is_none() {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let mut roots = rustls::RootCertStore::empty();
            let (_added, _ignored) =
                roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?
            .with_root_certificates(roots)
            .with_no_client_auth();
            let mut http = HttpConnector::new();
            http.enforce_http(false);
            http.set_connect_timeout(Some(self.timeout));
            let https = hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(tls)
                .https_or_http()
                .enable_http1()
                .wrap_connector(http);
            let client = Client::builder(TokioExecutor::new()).build(https);
            self.client = Some((runtime, client));
        }
        Ok(self
            .client
            .as_ref()
            .unwrap_or_else(|| unreachable!("set above")))
    }
}

impl Writer for Webhook {
    fn write_batch(&mut self, lines: &[Vec<u8>]) -> std::io::Result<()> {
        let body = Bytes::from(lines.concat());
        let (url, timeout) = (self.url.clone(), self.timeout);
        let (runtime, client) = self.client()?;
        let request = http::Request::post(url)
            .header(http::header::CONTENT_TYPE, "application/x-ndjson")
            .body(Full::new(body))
            .map_err(std::io::Error::other)?;
        runtime.block_on(async {
            let response = tokio::time::timeout(timeout, client.request(request))
                .await
                .map_err(|_| {
                    std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the webhook did not answer in time",
                    )
                })?
                .map_err(std::io::Error::other)?;
            match response.status().is_success() {
                true => Ok(()),
                false => Err(std::io::Error::other(format!(
                    "the webhook answered {}",
                    response.status()
                ))),
            }
        })
    }
}
