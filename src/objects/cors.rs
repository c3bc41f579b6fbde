//! A bucket's CORS rules: the `cors` kind of bucket configuration (`bucket_config`). The stored
//! document is the rules as JSON, in the order the client gave them (S3 uses the first rule
//! that matches): GetBucketCors writes S3's XML from them, so the client's own XML need not be
//! kept. What a rule allows is decided by `s3::cors`.

use serde::{Deserialize, Serialize};

use super::bucket_config::ConfigDocument;

/// One `<CORSRule>`, as PutBucketCors validated it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorsRule {
    pub id: Option<String>,
    /// At least one; each with at most one `*`.
    pub allowed_origins: Vec<String>,
    /// At least one, each of GET, PUT, POST, DELETE, HEAD.
    pub allowed_methods: Vec<String>,
    /// Each with at most one `*`.
    pub allowed_headers: Vec<String>,
    /// Without `*`.
    pub expose_headers: Vec<String>,
    pub max_age_seconds: Option<i32>,
}

/// A bucket's CORS configuration: one to 100 rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsConfig {
    text: String,
    pub rules: Vec<CorsRule>,
}

impl CorsConfig {
    /// Rules the caller has validated (S3's limits).
    pub fn new(rules: Vec<CorsRule>) -> CorsConfig {
        CorsConfig {
            text: serde_json::to_string(&rules).unwrap_or_else(|_| "[]".into()),
            rules,
        }
    }
}

impl ConfigDocument for CorsConfig {
    /// A stored document that no longer parses (damage) is logged and read as no rules:
    /// a rule only lets browsers read what the caller could read anyway, so losing the rules
    /// refuses cross-origin reads and grants nothing.
    fn load(bucket: &str, text: String) -> CorsConfig {
        match serde_json::from_str::<Vec<CorsRule>>(&text) {
            Ok(rules) => CorsConfig { text, rules },
            Err(e) => {
                tracing::error!(
                    bucket,
                    error = %e,
                    "the stored CORS configuration does not parse; the bucket reads as allowing no cross-origin request"
                );
                CorsConfig {
                    text,
                    rules: Vec::new(),
                }
            }
        }
    }

    fn document(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_round_trip_through_their_stored_document() {
        let rules = vec![CorsRule {
            id: Some("r1".into()),
            allowed_origins: vec!["http://*.example.com".into()],
            allowed_methods: vec!["GET".into(), "PUT".into()],
            allowed_headers: vec!["x-amz-*".into()],
            expose_headers: vec!["ETag".into()],
            max_age_seconds: Some(3000),
        }];
        let config = CorsConfig::new(rules.clone());
        let loaded = CorsConfig::load("b", config.document().to_owned());
        assert_eq!(loaded.rules, rules);
        assert!(CorsConfig::load("b", "not json".into()).rules.is_empty());
    }
}
