//! Static website hosting: the `website` kind of bucket configuration (`bucket_config`). The
//! stored document is the validated configuration as JSON; GetBucketWebsite writes S3's XML
//! from it and the website endpoint (`s3::website`) serves by it.

use serde::{Deserialize, Serialize};

use super::bucket_config::ConfigDocument;

/// A bucket's website configuration, as PutBucketWebsite validated it: either
/// `redirect_all`, or an index document with an optional error document and routing rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebsiteConfig {
    /// `RedirectAllRequestsTo`: every request is redirected to this host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_all: Option<RedirectAll>,
    /// `IndexDocument/Suffix`: appended to a request for a "directory" (`…/` or the root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_suffix: Option<String>,
    /// `ErrorDocument/Key`: the object served (with the error's status) for a 403 or 404.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_key: Option<String>,
    /// `RoutingRules`, in order: the first that matches applies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RoutingRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedirectAll {
    pub host: String,
    /// `http` or `https`; `None`: the request's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

/// One routing rule: when its condition holds (no condition: always), redirect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingRule {
    /// `Condition` is present (then at least one of the two below is set).
    #[serde(default)]
    pub has_condition: bool,
    /// `KeyPrefixEquals`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_prefix: Option<String>,
    /// `HttpErrorCodeReturnedEquals`: the rule applies only after this error (4xx or 5xx).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<u16>,
    pub redirect: Redirect,
}

/// Where a routing rule sends the request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redirect {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_key_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_key: Option<String>,
    /// `HttpRedirectCode`; `None`: 301.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
}

/// The stored document and its parsed form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketWebsite {
    text: String,
    /// `None` only for a stored document that no longer parses (damage): the bucket then
    /// serves no website, as if it had none.
    pub config: Option<WebsiteConfig>,
}

impl BucketWebsite {
    /// A configuration the caller has validated.
    pub fn new(config: WebsiteConfig) -> BucketWebsite {
        BucketWebsite {
            text: serde_json::to_string(&config).unwrap_or_else(|_| "{}".into()),
            config: Some(config),
        }
    }
}

impl ConfigDocument for BucketWebsite {
    /// A stored document that no longer parses is logged and read as no website: serving
    /// nothing is the failure that exposes nothing.
    fn load(bucket: &str, text: String) -> BucketWebsite {
        match serde_json::from_str::<WebsiteConfig>(&text) {
            Ok(config) => BucketWebsite {
                text,
                config: Some(config),
            },
            Err(e) => {
                tracing::error!(
                    bucket,
                    error = %e,
                    "the stored website configuration does not parse; the bucket serves no website"
                );
                BucketWebsite { text, config: None }
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
    fn a_website_configuration_round_trips_through_its_stored_document() {
        let config = WebsiteConfig {
            redirect_all: None,
            index_suffix: Some("index.html".into()),
            error_key: Some("err.html".into()),
            rules: vec![RoutingRule {
                has_condition: true,
                key_prefix: Some("docs/".into()),
                error_code: Some(404),
                redirect: Redirect {
                    replace_key_prefix: Some("documents/".into()),
                    code: Some(302),
                    ..Redirect::default()
                },
            }],
        };
        let stored = BucketWebsite::new(config.clone());
        let loaded = BucketWebsite::load("b", stored.document().to_owned());
        assert_eq!(loaded, stored);
        assert_eq!(loaded.config, Some(config));
        assert_eq!(BucketWebsite::load("b", "not json".into()).config, None);
    }
}
