//! AWS Signature Version 4 verification (placeholder until the verifier lands).

/// Derived signing keys by access key (placeholder).
#[derive(Debug, Default)]
pub struct SigningKeyCache;

impl SigningKeyCache {
    pub fn new() -> Self {
        SigningKeyCache
    }

    pub fn forget(&self, _access_key: &str) {}
}
