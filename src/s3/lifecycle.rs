//! Put/Get/DeleteBucketLifecycleConfiguration: S3's lifecycle grammar, checked as S3 checks
//! it, stored as the `lifecycle` kind (`objects::lifecycle`), which the lifecycle worker
//! (`crate::lifecycle`) applies; and `x-amz-expiration`, the expiry S3 announces on PUT, GET
//! and HEAD of an object a rule will expire.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html>

use http::Response;
use serde::{Deserialize, Serialize};

use super::bucket_access::body;
use super::error::{Code, S3Error, S3Result};
use super::xml::{document, read, timestamp, RequestDocument, Xmlns};
use super::{finish, Ctx, Reply, Req};
use crate::objects::lifecycle::{
    after_days, Expiration, FilterShape, NoncurrentExpiration, Rule, RuleFilter,
};
use crate::objects::{BucketConfig, BucketState, ConfigKind, LifecycleConfig, Tags};

/// S3's most rules per configuration.
const MAX_RULES: usize = 1000;

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename = "LifecycleConfiguration")]
struct LifecycleConfiguration {
    #[serde(rename = "@xmlns", default, skip_deserializing)]
    xmlns: Xmlns,
    #[serde(rename = "Rule", default)]
    rules: Vec<RuleDoc>,
}

impl RequestDocument for LifecycleConfiguration {
    const ROOT: &'static str = "LifecycleConfiguration";
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct RuleDoc {
    #[serde(rename = "Expiration", skip_serializing_if = "Option::is_none")]
    expiration: Option<ExpirationDoc>,
    #[serde(rename = "ID", skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(rename = "Prefix", skip_serializing_if = "Option::is_none")]
    prefix: Option<String>,
    #[serde(rename = "Filter", skip_serializing_if = "Option::is_none")]
    filter: Option<FilterDoc>,
    #[serde(rename = "Status", default)]
    status: String,
    #[serde(rename = "Transition", default, skip_serializing)]
    transition: Vec<Ignored>,
    #[serde(rename = "NoncurrentVersionTransition", default, skip_serializing)]
    noncurrent_transition: Vec<Ignored>,
    #[serde(
        rename = "NoncurrentVersionExpiration",
        skip_serializing_if = "Option::is_none"
    )]
    noncurrent: Option<NoncurrentDoc>,
    #[serde(
        rename = "AbortIncompleteMultipartUpload",
        skip_serializing_if = "Option::is_none"
    )]
    abort: Option<AbortDoc>,
}

/// An element read only to refuse it.
#[derive(Debug, Default, Deserialize)]
struct Ignored {}

#[derive(Debug, Default, Deserialize, Serialize)]
struct FilterDoc {
    #[serde(rename = "Prefix", skip_serializing_if = "Option::is_none")]
    prefix: Option<String>,
    #[serde(rename = "Tag", default, skip_serializing_if = "Vec::is_empty")]
    tags: Vec<TagDoc>,
    #[serde(
        rename = "ObjectSizeGreaterThan",
        skip_serializing_if = "Option::is_none"
    )]
    greater: Option<String>,
    #[serde(rename = "ObjectSizeLessThan", skip_serializing_if = "Option::is_none")]
    less: Option<String>,
    #[serde(rename = "And", skip_serializing_if = "Option::is_none")]
    and: Option<Box<FilterDoc>>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct TagDoc {
    #[serde(rename = "Key", default)]
    key: String,
    #[serde(rename = "Value", default)]
    value: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct ExpirationDoc {
    #[serde(rename = "Date", skip_serializing_if = "Option::is_none")]
    date: Option<String>,
    #[serde(rename = "Days", skip_serializing_if = "Option::is_none")]
    days: Option<String>,
    #[serde(
        rename = "ExpiredObjectDeleteMarker",
        skip_serializing_if = "Option::is_none"
    )]
    marker: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct NoncurrentDoc {
    #[serde(rename = "NoncurrentDays", skip_serializing_if = "Option::is_none")]
    days: Option<String>,
    #[serde(
        rename = "NewerNoncurrentVersions",
        skip_serializing_if = "Option::is_none"
    )]
    newer: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct AbortDoc {
    #[serde(
        rename = "DaysAfterInitiation",
        skip_serializing_if = "Option::is_none"
    )]
    days: Option<String>,
}

fn invalid(message: &'static str) -> S3Error {
    S3Error::new(Code::InvalidArgument, message)
}

/// A positive whole number of days, or `message`.
fn positive(text: &str, message: &'static str) -> S3Result<u32> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| invalid(message))
}

fn size(text: &str) -> S3Result<u64> {
    text.trim()
        .parse::<u64>()
        .map_err(|_| S3Error::from(Code::MalformedXML))
}

impl FilterDoc {
    /// The filter's conditions; outside `<And>` at most one may be given.
    fn filter(self) -> S3Result<RuleFilter> {
        let given = usize::from(self.prefix.is_some())
            + self.tags.len()
            + usize::from(self.greater.is_some())
            + usize::from(self.less.is_some())
            + usize::from(self.and.is_some());
        if given > 1 {
            return Err(Code::MalformedXML.into());
        }
        if let Some(and) = self.and {
            if and.and.is_some() {
                return Err(Code::MalformedXML.into());
            }
            let mut filter = and.conditions()?;
            filter.shape = FilterShape::And;
            return Ok(filter);
        }
        let shape = if self.prefix.is_some() {
            FilterShape::Prefix
        } else if !self.tags.is_empty() {
            FilterShape::Tag
        } else if self.greater.is_some() {
            FilterShape::GreaterThan
        } else if self.less.is_some() {
            FilterShape::LessThan
        } else {
            FilterShape::Empty
        };
        let mut filter = self.conditions()?;
        filter.shape = shape;
        Ok(filter)
    }

    fn conditions(self) -> S3Result<RuleFilter> {
        let mut tags: Tags = Vec::new();
        for t in self.tags {
            if tags.iter().any(|(k, _)| *k == t.key) {
                return Err(S3Error::new(
                    Code::InvalidArgument,
                    "Duplicate Tag Keys are not allowed.",
                ));
            }
            tags.push((t.key, t.value));
        }
        let filter = RuleFilter {
            prefix: self.prefix.unwrap_or_default(),
            tags,
            size_greater_than: self.greater.as_deref().map(size).transpose()?,
            size_less_than: self.less.as_deref().map(size).transpose()?,
            shape: FilterShape::And,
        };
        if let (Some(gt), Some(lt)) = (filter.size_greater_than, filter.size_less_than) {
            if gt >= lt {
                return Err(invalid(
                    "ObjectSizeGreaterThan must be less than ObjectSizeLessThan",
                ));
            }
        }
        Ok(filter)
    }

    fn answer(filter: &RuleFilter) -> FilterDoc {
        let tags = || {
            filter
                .tags
                .iter()
                .map(|(key, value)| TagDoc {
                    key: key.clone(),
                    value: value.clone(),
                })
                .collect()
        };
        let mut doc = FilterDoc::default();
        match filter.shape {
            FilterShape::Legacy | FilterShape::Empty => {}
            FilterShape::Prefix => doc.prefix = Some(filter.prefix.clone()),
            FilterShape::Tag => doc.tags = tags(),
            FilterShape::GreaterThan => {
                doc.greater = filter.size_greater_than.map(|n| n.to_string());
            }
            FilterShape::LessThan => doc.less = filter.size_less_than.map(|n| n.to_string()),
            FilterShape::And => {
                doc.and = Some(Box::new(FilterDoc {
                    prefix: Some(filter.prefix.clone()).filter(|p| !p.is_empty()),
                    tags: tags(),
                    greater: filter.size_greater_than.map(|n| n.to_string()),
                    less: filter.size_less_than.map(|n| n.to_string()),
                    and: None,
                }));
            }
        }
        doc
    }
}

impl RuleDoc {
    /// The rule asked for, checked as S3 checks it.
    fn rule(self) -> S3Result<Rule> {
        let id = self.id.unwrap_or_default();
        if id.len() > 255 {
            return Err(invalid("ID length should not exceed allowed limit of 255"));
        }
        let enabled = match self.status.trim() {
            "Enabled" => true,
            "Disabled" => false,
            _ => return Err(Code::MalformedXML.into()),
        };
        if !self.transition.is_empty() || !self.noncurrent_transition.is_empty() {
            return Err(S3Error::new(
                Code::InvalidStorageClass,
                "This server stores every object in the STANDARD storage class: lifecycle transitions are not supported.",
            ));
        }
        let filter = match (self.filter, self.prefix) {
            (Some(f), None) => f.filter()?,
            (None, Some(prefix)) => RuleFilter {
                prefix,
                shape: FilterShape::Legacy,
                ..RuleFilter::default()
            },
            _ => return Err(Code::MalformedXML.into()),
        };
        let expiration = self.expiration.map(|e| e.expiration()).transpose()?;
        if expiration
            .as_ref()
            .is_some_and(|e| e.expired_object_delete_marker)
            && !filter.tags.is_empty()
        {
            return Err(invalid(
                "ExpiredObjectDeleteMarker cannot be specified with object tags",
            ));
        }
        let noncurrent = self
            .noncurrent
            .map(|n| {
                let days = positive(
                    n.days.as_deref().ok_or(Code::MalformedXML)?,
                    "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
                )?;
                let newer = n
                    .newer
                    .as_deref()
                    .map(|t| {
                        t.trim()
                            .parse::<u32>()
                            .ok()
                            .filter(|n| (1..=100).contains(n))
                            .ok_or_else(|| {
                                invalid("NewerNoncurrentVersions must be between 1 and 100")
                            })
                    })
                    .transpose()?;
                Ok::<_, S3Error>(NoncurrentExpiration { days, newer })
            })
            .transpose()?;
        let abort_after_days = self
            .abort
            .map(|a| {
                positive(
                    a.days.as_deref().ok_or(Code::MalformedXML)?,
                    "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer",
                )
            })
            .transpose()?;
        if abort_after_days.is_some() && !filter.tags.is_empty() {
            return Err(invalid(
                "AbortIncompleteMultipartUpload cannot be specified with Tags.",
            ));
        }
        if expiration.is_none() && noncurrent.is_none() && abort_after_days.is_none() {
            return Err(invalid(
                "At least one action needs to be specified in a rule",
            ));
        }
        Ok(Rule {
            id,
            enabled,
            filter,
            expiration,
            noncurrent,
            abort_after_days,
        })
    }

    fn answer(rule: &Rule) -> RuleDoc {
        RuleDoc {
            expiration: rule.expiration.as_ref().map(|e| ExpirationDoc {
                date: e.date.map(timestamp),
                days: e.days.map(|d| d.to_string()),
                marker: e.expired_object_delete_marker.then(|| "true".into()),
            }),
            id: Some(rule.id.clone()).filter(|id| !id.is_empty()),
            prefix: (rule.filter.shape == FilterShape::Legacy).then(|| rule.filter.prefix.clone()),
            filter: (rule.filter.shape != FilterShape::Legacy)
                .then(|| FilterDoc::answer(&rule.filter)),
            status: if rule.enabled { "Enabled" } else { "Disabled" }.into(),
            transition: Vec::new(),
            noncurrent_transition: Vec::new(),
            noncurrent: rule.noncurrent.as_ref().map(|n| NoncurrentDoc {
                days: Some(n.days.to_string()),
                newer: n.newer.map(|n| n.to_string()),
            }),
            abort: rule.abort_after_days.map(|d| AbortDoc {
                days: Some(d.to_string()),
            }),
        }
    }
}

impl ExpirationDoc {
    fn expiration(self) -> S3Result<Expiration> {
        let given = usize::from(self.date.is_some())
            + usize::from(self.days.is_some())
            + usize::from(self.marker.is_some());
        if given != 1 {
            return Err(Code::MalformedXML.into());
        }
        let mut e = Expiration::default();
        if let Some(days) = self.days {
            e.days = Some(positive(
                &days,
                "'Days' for Expiration action must be a positive integer",
            )?);
        }
        if let Some(date) = self.date {
            let ms = crate::timefmt::parse_iso8601_ms(date.trim())
                .ok_or_else(|| invalid("Invalid date or time value"))?;
            if ms.rem_euclid(86_400_000) != 0 {
                return Err(invalid("'Date' must be at midnight GMT"));
            }
            e.date = Some(ms);
        }
        if let Some(marker) = self.marker {
            match marker.trim() {
                "true" => e.expired_object_delete_marker = true,
                "false" => return Err(invalid(
                    "ExpiredObjectDeleteMarker must be true when it is the only expiration setting",
                )),
                _ => return Err(Code::MalformedXML.into()),
            }
        }
        Ok(e)
    }
}

impl LifecycleConfiguration {
    fn config(self) -> S3Result<LifecycleConfig> {
        if self.rules.is_empty() || self.rules.len() > MAX_RULES {
            return Err(Code::MalformedXML.into());
        }
        let mut rules: Vec<Rule> = Vec::with_capacity(self.rules.len());
        for doc in self.rules {
            let mut rule = doc.rule()?;
            if rule.id.is_empty() {
                // S3 names a rule given without an ID.
                rule.id = format!("{:032x}", rand::random::<u128>());
            }
            if rules.iter().any(|r| r.id == rule.id) {
                return Err(invalid(
                    "Rule ID must be unique. Found same ID for more than one rule",
                ));
            }
            rules.push(rule);
        }
        Ok(LifecycleConfig::new(rules))
    }
}

/// PutBucketLifecycleConfiguration (and the older PutBucketLifecycle, the same request).
pub async fn put_bucket_lifecycle_configuration(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    req.found.existing()?;
    let name = req.bucket.to_owned();
    let doc: LifecycleConfiguration = read(&body(req).await?)?;
    let config = doc.config()?;
    ctx.index()
        .put_bucket_config(name, BucketConfig::Lifecycle(config.into()))
        .await?;
    finish(Response::builder(), crate::http::empty())
}

/// GetBucketLifecycleConfiguration: the rules, or `NoSuchLifecycleConfiguration`.
#[expect(
    clippy::unused_async,
    reason = "handlers share the async signature the operation table dispatches to; the configuration is read from memory"
)]
pub async fn get_bucket_lifecycle_configuration(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let bucket = req.found.existing()?;
    let config = bucket
        .configs
        .lifecycle
        .as_ref()
        .ok_or(Code::NoSuchLifecycleConfiguration)?;
    document(&LifecycleConfiguration {
        xmlns: Xmlns::default(),
        rules: config.rules.iter().map(RuleDoc::answer).collect(),
    })
}

/// DeleteBucketLifecycle: 204, rules or not.
pub async fn delete_bucket_lifecycle(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    super::bucket_access::delete_config(ctx, &req, ConfigKind::Lifecycle).await
}

/// `x-amz-expiration` for the current version of `key` (`size` bytes, `tags`, written at
/// `written`): the earliest expiry an enabled rule with an Expiration by days or date gives it,
/// and that rule's id, as S3 words it. `None` without such a rule (and at once, with no
/// lifecycle configuration: this is on the GET and HEAD path).
pub fn expiration_header(
    ctx: &Ctx<'_>,
    bucket: &BucketState,
    key: &str,
    size: u64,
    tags: &Tags,
    written: i64,
) -> Option<String> {
    let config = bucket.configs.lifecycle.as_ref()?;
    let day_ms = i64::from(ctx.state.config.backend.s3.lifecycle.day_seconds) * 1000;
    let (at, id) = config
        .rules
        .iter()
        .filter(|r| r.enabled && r.filter.matches(key, size, tags))
        .filter_map(|r| {
            let e = r.expiration.as_ref()?;
            let at = match (e.days, e.date) {
                (Some(days), _) => after_days(written, days, day_ms),
                (None, Some(date)) => date,
                (None, None) => return None,
            };
            Some((at, &r.id))
        })
        .min_by_key(|(at, _)| *at)?;
    let date =
        crate::timefmt::format_http_date(crate::timefmt::from_unix_seconds(at.div_euclid(1000)));
    Some(format!(
        "expiry-date=\"{date}\", rule-id=\"{}\"",
        id.replace('"', "%22")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the PutBucketLifecycleConfiguration reference, as a client sends it.
    const EXAMPLE: &str = r#"<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Rule>
    <ID>id1</ID>
    <Filter><And><Prefix>documents/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter>
    <Status>Enabled</Status>
    <Expiration><Days>365</Days></Expiration>
  </Rule>
  <Rule>
    <ID>id2</ID>
    <Filter><Prefix>logs/</Prefix></Filter>
    <Status>Enabled</Status>
    <Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration>
    <NoncurrentVersionExpiration><NoncurrentDays>30</NoncurrentDays><NewerNoncurrentVersions>3</NewerNoncurrentVersions></NoncurrentVersionExpiration>
    <AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload>
  </Rule>
  <Rule>
    <ID>id3</ID>
    <Prefix>tmp/</Prefix>
    <Status>Disabled</Status>
    <Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>
  </Rule>
</LifecycleConfiguration>"#;

    fn parse(xml: &str) -> S3Result<LifecycleConfig> {
        read::<LifecycleConfiguration>(xml.as_bytes())?.config()
    }

    fn error(xml: &str) -> (Code, String) {
        let e = parse(xml).unwrap_err();
        (e.code, e.message.to_string())
    }

    fn one_rule(inner: &str) -> String {
        format!("<LifecycleConfiguration><Rule><ID>r</ID><Status>Enabled</Status>{inner}</Rule></LifecycleConfiguration>")
    }

    #[test]
    fn the_documented_example_is_read_and_answered_in_the_same_shape() {
        let config = parse(EXAMPLE).unwrap();
        assert_eq!(config.rules.len(), 3);
        let r = &config.rules[0];
        assert_eq!(
            (r.filter.prefix.as_str(), r.filter.tags.len()),
            ("documents/", 1)
        );
        assert_eq!(r.expiration.as_ref().unwrap().days, Some(365));
        let r = &config.rules[1];
        assert_eq!(r.noncurrent.as_ref().unwrap().newer, Some(3));
        assert_eq!(r.abort_after_days, Some(7));
        assert!(!config.rules[2].enabled);
        // What GET answers reads back as the same rules.
        let answered = LifecycleConfiguration {
            xmlns: Xmlns::default(),
            rules: config.rules.iter().map(RuleDoc::answer).collect(),
        };
        let text = quick_xml::se::to_string(&answered).unwrap();
        assert_eq!(parse(&text).unwrap().rules, config.rules, "{text}");
        assert!(text.contains("<Prefix>tmp/</Prefix>"), "{text}");
        assert!(
            text.contains("<Date>2030-01-01T00:00:00.000Z</Date>"),
            "{text}"
        );
    }

    #[test]
    fn rules_are_checked_as_s3_checks_them() {
        let cases = [
            ("<Filter/>", Code::InvalidArgument),
            ("<Filter/><Expiration><Days>0</Days></Expiration>", Code::InvalidArgument),
            ("<Filter/><Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>", Code::MalformedXML),
            ("<Filter/><Expiration><Date>2030-01-01T10:00:00Z</Date></Expiration>", Code::InvalidArgument),
            ("<Expiration><Days>1</Days></Expiration>", Code::MalformedXML),
            ("<Filter/><Prefix>a</Prefix><Expiration><Days>1</Days></Expiration>", Code::MalformedXML),
            ("<Filter><Prefix>a</Prefix><ObjectSizeLessThan>5</ObjectSizeLessThan></Filter><Expiration><Days>1</Days></Expiration>", Code::MalformedXML),
            ("<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>", Code::InvalidArgument),
            ("<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>", Code::InvalidArgument),
            ("<Filter/><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>101</NewerNoncurrentVersions></NoncurrentVersionExpiration>", Code::InvalidArgument),
            ("<Filter/><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>", Code::InvalidStorageClass),
            ("<Filter><And><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>5</ObjectSizeLessThan></And></Filter><Expiration><Days>1</Days></Expiration>", Code::InvalidArgument),
        ];
        for (inner, code) in cases {
            assert_eq!(error(&one_rule(inner)).0, code, "{inner}");
        }
        let status = "<LifecycleConfiguration><Rule><Filter/><Status>On</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>";
        assert_eq!(error(status).0, Code::MalformedXML);
        let twice = "<LifecycleConfiguration><Rule><ID>a</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule><Rule><ID>a</ID><Filter/><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule></LifecycleConfiguration>";
        assert_eq!(error(twice).0, Code::InvalidArgument);
        assert_eq!(error("<LifecycleConfiguration/>").0, Code::MalformedXML);
    }
}
