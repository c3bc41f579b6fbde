//! Whose HTTPS an issuer fetch trusts: the system's CA roots plus `backend.iam.oidc.ca_file`;
//! and, for a provider with thumbprints, as AWS does for an issuer whose certificate no
//! trusted CA signed, a certificate the server presents whose SHA-1 is one of them, taken as
//! the trust anchor. The chain is still verified up to that anchor (signatures, validity, the
//! host name): a thumbprint names a certificate, and certificates are public, so merely
//! seeing one in the handshake proves nothing.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha1::{Digest, Sha1};

use super::keys::KeySourceError;

/// The trust every fetch starts from.
pub struct Trust {
    provider: Arc<CryptoProvider>,
    roots: Arc<RootCertStore>,
    ca: Arc<WebPkiServerVerifier>,
}

impl Trust {
    pub fn new(ca_file: Option<&std::path::Path>) -> Result<Trust, KeySourceError> {
        let mut roots = RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        for e in &native.errors {
            tracing::warn!(error = %e, "some system CA certificates could not be read");
        }
        let (_added, _ignored) = roots.add_parsable_certificates(native.certs);
        if let Some(path) = ca_file {
            let ca_error = |reason: String| KeySourceError::CaFile {
                path: path.to_owned(),
                reason,
            };
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| ca_error(e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ca_error(e.to_string()))?;
            if certs.is_empty() {
                return Err(ca_error("it holds no certificate".into()));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| ca_error(e.to_string()))?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = Arc::new(roots);
        let ca =
            WebPkiServerVerifier::builder_with_provider(Arc::clone(&roots), Arc::clone(&provider))
                .build()
                .map_err(|e| KeySourceError::Tls(e.to_string()))?;
        Ok(Trust {
            provider,
            roots,
            ca,
        })
    }

    /// The client configuration for a provider with `thumbprints` (hex SHA-1s; none: CAs
    /// only).
    pub fn config(&self, thumbprints: &[String]) -> Result<rustls::ClientConfig, KeySourceError> {
        let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| KeySourceError::Tls(e.to_string()))?;
        let pins: Vec<[u8; 20]> = thumbprints
            .iter()
            .filter_map(|t| hex::decode(t).ok()?.try_into().ok())
            .collect();
        if pins.is_empty() {
            return Ok(builder
                .with_root_certificates(Arc::clone(&self.roots))
                .with_no_client_auth());
        }
        let pinned = Pinned {
            ca: Arc::clone(&self.ca),
            provider: Arc::clone(&self.provider),
            pins,
        };
        Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(pinned))
            .with_no_client_auth())
    }
}

/// CA trust first; then the presented certificates a thumbprint names, as anchors.
#[derive(Debug)]
struct Pinned {
    ca: Arc<WebPkiServerVerifier>,
    provider: Arc<CryptoProvider>,
    pins: Vec<[u8; 20]>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let by_ca =
            self.ca
                .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        let Err(refused) = by_ca else {
            return by_ca;
        };
        let mut anchors = RootCertStore::empty();
        for cert in std::iter::once(end_entity).chain(intermediates) {
            let digest: [u8; 20] = Sha1::digest(cert.as_ref()).into();
            if self.pins.contains(&digest) {
                // A certificate that cannot be an anchor is left out.
                let _ = anchors.add(cert.clone().into_owned());
            }
        }
        if anchors.is_empty() {
            return Err(refused);
        }
        WebPkiServerVerifier::builder_with_provider(Arc::new(anchors), Arc::clone(&self.provider))
            .build()
            .map_err(|e| rustls::Error::General(e.to_string()))?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.ca.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.ca.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.ca.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};

    /// A CA: its certificate and what signs with it.
    fn ca(name: &str) -> (CertificateDer<'static>, Issuer<'static, KeyPair>) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        let cert = params.self_signed(&key).unwrap();
        (cert.der().clone(), Issuer::new(params, key))
    }

    fn leaf(host: &str, by: &Issuer<'static, KeyPair>) -> CertificateDer<'static> {
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(vec![host.to_owned()]).unwrap();
        params.signed_by(&key, by).unwrap().der().clone()
    }

    fn pinned(pins: &[&CertificateDer<'_>]) -> Pinned {
        let trust = Trust::new(None).unwrap();
        Pinned {
            ca: trust.ca,
            provider: trust.provider,
            pins: pins
                .iter()
                .map(|c| Sha1::digest(c.as_ref()).into())
                .collect(),
        }
    }

    fn verdict(v: &Pinned, chain: &[CertificateDer<'_>], host: &str) -> bool {
        let name = ServerName::try_from(host.to_owned()).unwrap();
        v.verify_server_cert(&chain[0], &chain[1..], &name, &[], UnixTime::now())
            .is_ok()
    }

    /// A pinned certificate is an anchor the chain must reach: seeing it is not enough.
    #[test]
    fn a_thumbprint_anchors_a_verified_chain() {
        let (ca_a, issuer_a) = ca("A");
        let (ca_b, issuer_b) = ca("B");
        let good = [leaf("idp.example.com", &issuer_a), ca_a.clone()];
        let v = pinned(&[&ca_a]);
        assert!(verdict(&v, &good, "idp.example.com"));
        // The pinned CA's certificate presented beside a leaf it did not sign.
        let forged = [leaf("idp.example.com", &issuer_b), ca_a.clone()];
        assert!(!verdict(&v, &forged, "idp.example.com"));
        // Another host's certificate.
        assert!(!verdict(&v, &good, "other.example.com"));
        // No pin among the presented certificates: the system's CAs decide (and refuse).
        assert!(!verdict(&pinned(&[&ca_b]), &good, "idp.example.com"));
    }
}
