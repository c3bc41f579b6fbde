//! Static website hosting: Put/Get/DeleteBucketWebsite (the `website` kind of bucket
//! configuration, `objects::bucket_website`), and the website endpoint that serves a bucket
//! by it (`endpoint`).
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketWebsite.html>
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/WebsiteHosting.html>

mod endpoint;

use http::Response;
use serde::{Deserialize, Serialize};

pub(crate) use endpoint::{website_bucket, WebsiteApi};

use super::body::read_small;
use super::error::{Code, S3Error, S3Result};
use super::object::{check_whole_body, expected};
use super::xml::{document, read, RequestDocument, Xmlns};
use super::{finish, Ctx, Reply, Req};
use crate::objects::{
    BucketConfig, BucketWebsite, ConfigKind, Redirect, RedirectAll, RoutingRule, WebsiteConfig,
};

/// The most bytes read from a `<WebsiteConfiguration>`: room for S3's 50 routing rules with
/// long keys.
const MAX_BODY: usize = 64 * 1024;
/// S3's limit on routing rules.
const MAX_RULES: usize = 50;

/// `<WebsiteConfiguration>`, as sent and as answered, in S3's element order.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename = "WebsiteConfiguration")]
struct WebsiteConfiguration {
    #[serde(rename = "@xmlns", default, skip_deserializing)]
    xmlns: Xmlns,
    #[serde(
        rename = "RedirectAllRequestsTo",
        skip_serializing_if = "Option::is_none"
    )]
    redirect_all: Option<RedirectAllRequestsTo>,
    #[serde(rename = "IndexDocument", skip_serializing_if = "Option::is_none")]
    index: Option<IndexDocument>,
    #[serde(rename = "ErrorDocument", skip_serializing_if = "Option::is_none")]
    error: Option<ErrorDocument>,
    #[serde(rename = "RoutingRules", skip_serializing_if = "Option::is_none")]
    rules: Option<RoutingRules>,
}

impl RequestDocument for WebsiteConfiguration {
    const ROOT: &'static str = "WebsiteConfiguration";
}

#[derive(Debug, Deserialize, Serialize)]
struct RedirectAllRequestsTo {
    #[serde(rename = "HostName")]
    host: String,
    #[serde(rename = "Protocol", skip_serializing_if = "Option::is_none")]
    protocol: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
struct IndexDocument {
    #[serde(rename = "Suffix", default)]
    suffix: String,
}

#[derive(Debug, Deserialize, Serialize)]
struct ErrorDocument {
    #[serde(rename = "Key", default)]
    key: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct RoutingRules {
    #[serde(rename = "RoutingRule", default)]
    rules: Vec<RoutingRuleXml>,
}

#[derive(Debug, Deserialize, Serialize)]
struct RoutingRuleXml {
    #[serde(rename = "Condition", skip_serializing_if = "Option::is_none")]
    condition: Option<Condition>,
    #[serde(rename = "Redirect")]
    redirect: RedirectXml,
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct Condition {
    #[serde(
        rename = "HttpErrorCodeReturnedEquals",
        skip_serializing_if = "Option::is_none"
    )]
    error_code: Option<String>,
    #[serde(rename = "KeyPrefixEquals", skip_serializing_if = "Option::is_none")]
    key_prefix: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct RedirectXml {
    #[serde(rename = "HostName", skip_serializing_if = "Option::is_none")]
    host: Option<String>,
    #[serde(rename = "HttpRedirectCode", skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    #[serde(rename = "Protocol", skip_serializing_if = "Option::is_none")]
    protocol: Option<String>,
    #[serde(
        rename = "ReplaceKeyPrefixWith",
        skip_serializing_if = "Option::is_none"
    )]
    replace_key_prefix: Option<String>,
    #[serde(rename = "ReplaceKeyWith", skip_serializing_if = "Option::is_none")]
    replace_key: Option<String>,
}

fn invalid(message: impl Into<std::borrow::Cow<'static, str>>) -> S3Error {
    S3Error::new(Code::InvalidArgument, message)
}

/// `Protocol`: `http` or `https`.
fn protocol(value: Option<&str>) -> S3Result<Option<String>> {
    match value.map(str::trim) {
        None => Ok(None),
        Some(p @ ("http" | "https")) => Ok(Some(p.to_owned())),
        Some(_) => Err(invalid(
            "Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically.",
        )),
    }
}

/// `HostName`: a host (and port) that can stand in a `Location` URL, nothing more.
fn host_name(value: &str) -> S3Result<String> {
    let host = value.trim();
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._:[]".contains(c);
    if host.is_empty() || !host.chars().all(allowed) {
        return Err(invalid(format!("The HostName ({host}) is not valid.")));
    }
    Ok(host.to_owned())
}

/// Checks a client's document as S3 does and builds the configuration kept.
fn validate(doc: WebsiteConfiguration) -> S3Result<WebsiteConfig> {
    if let Some(all) = doc.redirect_all {
        if doc.index.is_some() || doc.error.is_some() || doc.rules.is_some() {
            return Err(invalid(
                "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.",
            ));
        }
        return Ok(WebsiteConfig {
            redirect_all: Some(RedirectAll {
                host: host_name(&all.host)?,
                protocol: protocol(all.protocol.as_deref())?,
            }),
            ..WebsiteConfig::default()
        });
    }
    let Some(index) = doc.index else {
        return Err(invalid(
            "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
        ));
    };
    if index.suffix.is_empty() || index.suffix.contains('/') {
        return Err(invalid("The IndexDocument Suffix is not well formed"));
    }
    let error_key = match doc.error {
        None => None,
        Some(e) if e.key.is_empty() => {
            return Err(invalid("The ErrorDocument Key is not well formed"))
        }
        Some(e) => Some(e.key),
    };
    let rules = doc.rules.map(|r| r.rules).unwrap_or_default();
    if rules.len() > MAX_RULES {
        return Err(invalid(format!(
            "The number of routing rules must not exceed {MAX_RULES}"
        )));
    }
    Ok(WebsiteConfig {
        redirect_all: None,
        index_suffix: Some(index.suffix),
        error_key,
        rules: rules.into_iter().map(rule).collect::<S3Result<_>>()?,
    })
}

fn rule(rule: RoutingRuleXml) -> S3Result<RoutingRule> {
    let has_condition = rule.condition.is_some();
    let condition = rule.condition.unwrap_or_default();
    if has_condition && condition.error_code.is_none() && condition.key_prefix.is_none() {
        return Err(invalid(
            "Condition cannot be empty. To redirect all requests without a condition, the condition element shouldn't be present.",
        ));
    }
    let error_code = match condition.error_code.as_deref().map(str::trim) {
        None => None,
        Some(code) => match code.parse::<u16>() {
            Ok(n @ 400..=599) => Some(n),
            _ => {
                return Err(invalid(format!(
                "The provided HTTP error code ({code}) is not valid. Valid codes are 4XX or 5XX."
            )))
            }
        },
    };
    let r = rule.redirect;
    if r.host.is_none()
        && r.code.is_none()
        && r.protocol.is_none()
        && r.replace_key_prefix.is_none()
        && r.replace_key.is_none()
    {
        return Err(invalid(
            "Redirect must contain at least one of following: HostName, HttpRedirectCode, Protocol, ReplaceKeyPrefixWith, ReplaceKeyWith.",
        ));
    }
    if r.replace_key_prefix.is_some() && r.replace_key.is_some() {
        return Err(invalid(
            "You can only define ReplaceKeyPrefix or ReplaceKey but not both.",
        ));
    }
    let code = match r.code.as_deref().map(str::trim) {
        None => None,
        // Every 3XX but 300 that means a redirect with a Location.
        Some(code) => match code.parse::<u16>() {
            Ok(n @ (301..=305 | 307 | 308)) => Some(n),
            _ => {
                return Err(invalid(format!(
                    "The provided HTTP redirect code ({code}) is not valid. Valid codes are 3XX except 300."
                )))
            }
        },
    };
    Ok(RoutingRule {
        has_condition,
        key_prefix: condition.key_prefix,
        error_code,
        redirect: Redirect {
            host: r.host.as_deref().map(host_name).transpose()?,
            protocol: protocol(r.protocol.as_deref())?,
            replace_key_prefix: r.replace_key_prefix,
            replace_key: r.replace_key,
            code,
        },
    })
}

/// The stored configuration as S3's document.
fn to_document(config: &WebsiteConfig) -> WebsiteConfiguration {
    let rules = (!config.rules.is_empty()).then(|| RoutingRules {
        rules: config
            .rules
            .iter()
            .map(|r| RoutingRuleXml {
                condition: r.has_condition.then(|| Condition {
                    error_code: r.error_code.map(|c| c.to_string()),
                    key_prefix: r.key_prefix.clone(),
                }),
                redirect: RedirectXml {
                    host: r.redirect.host.clone(),
                    code: r.redirect.code.map(|c| c.to_string()),
                    protocol: r.redirect.protocol.clone(),
                    replace_key_prefix: r.redirect.replace_key_prefix.clone(),
                    replace_key: r.redirect.replace_key.clone(),
                },
            })
            .collect(),
    });
    WebsiteConfiguration {
        xmlns: Xmlns::default(),
        redirect_all: config.redirect_all.as_ref().map(|a| RedirectAllRequestsTo {
            host: a.host.clone(),
            protocol: a.protocol.clone(),
        }),
        index: config
            .index_suffix
            .as_ref()
            .map(|s| IndexDocument { suffix: s.clone() }),
        error: config
            .error_key
            .as_ref()
            .map(|k| ErrorDocument { key: k.clone() }),
        rules,
    }
}

/// PutBucketWebsite: replaces the bucket's website configuration. 200, as S3 answers.
pub async fn put_bucket_website(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    req.found.existing()?;
    let (bucket, parts, mut reader) = (req.bucket, req.parts, req.body);
    let want = expected(&parts.headers)?;
    let body = read_small(&mut reader, MAX_BODY).await?;
    check_whole_body(&body, &want, reader.trailers())?;
    let config = validate(read::<WebsiteConfiguration>(&body)?)?;
    let config = BucketConfig::Website(BucketWebsite::new(config).into());
    ctx.index()
        .put_bucket_config(bucket.to_owned(), config)
        .await?;
    finish(Response::builder(), crate::http::empty())
}

/// GetBucketWebsite: the configuration, or `NoSuchWebsiteConfiguration`.
#[expect(
    clippy::unused_async,
    reason = "handlers share the async signature the operation table dispatches to; the configuration is read from memory"
)]
pub async fn get_bucket_website(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let bucket = req.found.existing()?;
    let website = bucket.configs.website.as_ref();
    let config = website.and_then(|w| w.config.as_ref());
    let config = config.ok_or(S3Error::from(Code::NoSuchWebsiteConfiguration))?;
    document(&to_document(config))
}

/// DeleteBucketWebsite: 204, also when the bucket had no configuration.
pub async fn delete_bucket_website(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    super::bucket_access::delete_config(ctx, &req, ConfigKind::Website).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::xml::{assert_documented, to_xml};

    /// AWS's examples: PutBucketWebsite's request (index and error documents), read and
    /// answered back by GetBucketWebsite as documented.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketWebsite.html#API_PutBucketWebsite_Examples>
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketWebsite.html#API_GetBucketWebsite_Examples>
    #[test]
    fn website_documents_read_and_answer_as_documented() {
        let documented = r#"<WebsiteConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <IndexDocument>
                <Suffix>index.html</Suffix>
              </IndexDocument>
              <ErrorDocument>
                <Key>404.html</Key>
              </ErrorDocument>
            </WebsiteConfiguration>"#;
        let config = validate(read(documented.as_bytes()).unwrap()).unwrap();
        assert_eq!(config.index_suffix.as_deref(), Some("index.html"));
        assert_eq!(config.error_key.as_deref(), Some("404.html"));
        assert_documented(&to_xml(None, &to_document(&config)).unwrap(), documented);
    }

    /// The user guide's routing rule examples (a prefix rule and an error-code rule), and an
    /// empty `ReplaceKeyWith` (redirect to the root), kept as sent.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/how-to-page-redirect.html>
    #[test]
    fn routing_rules_round_trip() {
        let documented = r#"<WebsiteConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <IndexDocument><Suffix>index.html</Suffix></IndexDocument>
              <RoutingRules>
                <RoutingRule>
                  <Condition><KeyPrefixEquals>docs/</KeyPrefixEquals></Condition>
                  <Redirect><ReplaceKeyPrefixWith>documents/</ReplaceKeyPrefixWith></Redirect>
                </RoutingRule>
                <RoutingRule>
                  <Condition><HttpErrorCodeReturnedEquals>404</HttpErrorCodeReturnedEquals></Condition>
                  <Redirect><HostName>ec2-11-22-333-44.compute-1.amazonaws.com</HostName><ReplaceKeyPrefixWith>report-404/</ReplaceKeyPrefixWith></Redirect>
                </RoutingRule>
                <RoutingRule>
                  <Redirect><HttpRedirectCode>302</HttpRedirectCode><ReplaceKeyWith></ReplaceKeyWith></Redirect>
                </RoutingRule>
              </RoutingRules>
            </WebsiteConfiguration>"#;
        let config = validate(read(documented.as_bytes()).unwrap()).unwrap();
        assert_eq!(config.rules.len(), 3);
        assert_eq!(config.rules[1].error_code, Some(404));
        assert_eq!(config.rules[2].redirect.replace_key.as_deref(), Some(""));
        assert!(!config.rules[2].has_condition);
        assert_documented(&to_xml(None, &to_document(&config)).unwrap(), documented);
    }
}
