//! S3 Object Lock: a bucket's Object Lock configuration (Put/GetObjectLockConfiguration, and
//! CreateBucket's `x-amz-bucket-object-lock-enabled`), each version's retention and legal hold
//! (Put/GetObjectRetention, Put/GetObjectLegalHold, and the `x-amz-object-lock-*` headers of
//! the writes and reads), and their condition keys. Enforcement is in `objects::versions` (a
//! locked version is never removed; retention changes only as S3 allows).
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html>

use bytes::Bytes;
use http::{HeaderMap, Response};
use serde::{Deserialize, Serialize};

use super::actions::{bucket_arn, object_arn};
use super::bucket_access::body;
use super::error::{Code, S3Error, S3Result};
use super::object::Expected;
use super::version::{bypass_governance, shown, with_version};
use super::xml::{document, read, timestamp, RequestDocument, Xmlns};
use super::{finish, Ctx, Reply, Req};
use crate::objects::{
    now_ms, BucketState, DefaultRetention, LockState, ObjectLockConfig, RetentionMode,
    RetentionPeriod,
};
use crate::policy::eval::Context;
use crate::timefmt::parse_iso8601_ms;

/// Whether the bucket has Object Lock enabled (created with
/// `x-amz-bucket-object-lock-enabled: true`, or configured since): its versioning cannot be
/// suspended.
pub fn lock_enabled(bucket: &BucketState) -> bool {
    bucket.configs.object_lock.is_some()
}

/// The bucket's default retention, if it has one.
fn default_retention(bucket: &BucketState) -> Option<DefaultRetention> {
    bucket
        .configs
        .object_lock
        .as_ref()
        .and_then(|c| c.default_retention)
}

fn missing_configuration() -> S3Error {
    S3Error::new(
        Code::InvalidRequest,
        "Bucket is missing Object Lock Configuration",
    )
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).map(|v| v.to_str().unwrap_or("\u{0}"))
}

const MODE: &str = "x-amz-object-lock-mode";
const UNTIL: &str = "x-amz-object-lock-retain-until-date";
const HOLD: &str = "x-amz-object-lock-legal-hold";

fn unknown_mode() -> S3Error {
    S3Error::new(Code::InvalidArgument, "Unknown wormMode directive.")
}

fn parse_mode(text: &str) -> S3Result<RetentionMode> {
    RetentionMode::parse(text.trim()).ok_or_else(unknown_mode)
}

fn parse_until(text: &str) -> S3Result<i64> {
    parse_iso8601_ms(text.trim()).ok_or_else(|| {
        S3Error::new(
            Code::InvalidArgument,
            "The retain until date must be provided in ISO 8601 format",
        )
    })
}

fn in_the_past() -> S3Error {
    S3Error::new(
        Code::InvalidArgument,
        "The retain until date must be in the future!",
    )
}

fn parse_hold(text: &str) -> S3Result<bool> {
    match text.trim() {
        "ON" => Ok(true),
        "OFF" => Ok(false),
        _ => Err(S3Error::new(
            Code::InvalidArgument,
            "Legal Hold must be either of 'ON' or 'OFF'",
        )),
    }
}

/// The lock a write (PutObject, CopyObject, CreateMultipartUpload) asks for in its
/// `x-amz-object-lock-*` headers, checked as S3 checks them: on a bucket without Object Lock
/// any of them is `InvalidRequest`; a mode needs a date and a date a mode; the date must be
/// in the future. A version that names no retention gets the bucket's default when it is
/// published (`objects::versions::publish`).
pub fn from_headers(bucket: &BucketState, headers: &HeaderMap) -> S3Result<LockState> {
    let (mode, until, hold) = (
        header(headers, MODE),
        header(headers, UNTIL),
        header(headers, HOLD),
    );
    if mode.is_none() && until.is_none() && hold.is_none() {
        return Ok(LockState::default());
    }
    if !lock_enabled(bucket) {
        return Err(missing_configuration());
    }
    let retention = match (mode, until) {
        (None, None) => None,
        (Some(mode), Some(until)) => {
            let mode = parse_mode(mode)?;
            let until = parse_until(until)?;
            if until <= now_ms() {
                return Err(in_the_past());
            }
            Some((mode, until))
        }
        _ => return Err(S3Error::new(
            Code::InvalidArgument,
            "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
        )),
    };
    let legal_hold = hold.map(parse_hold).transpose()?;
    Ok(LockState {
        retention,
        legal_hold,
    })
}

/// S3's rule for PutObject with Object Lock parameters (lock headers, or a bucket default
/// retention that the new version will get): the body must come with Content-MD5 or a
/// checksum, else `InvalidRequest`.
pub fn require_integrity(
    bucket: &BucketState,
    headers: &HeaderMap,
    expected: &Expected,
) -> S3Result<()> {
    let asks = [MODE, UNTIL, HOLD].iter().any(|h| headers.contains_key(*h))
        || default_retention(bucket).is_some();
    if asks && expected.md5.is_none() && expected.checksum.is_none() {
        return Err(S3Error::new(
            Code::InvalidRequest,
            "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters",
        ));
    }
    Ok(())
}

/// The `x-amz-object-lock-*` headers of a GET or HEAD: the retention to a caller who may
/// read it (`s3:GetObjectRetention`), the legal hold to one who may read that
/// (`s3:GetObjectLegalHold`), as S3 shows them. A legal hold is shown once set, on or off.
pub fn headers_out(
    ctx: &Ctx<'_>,
    mut builder: http::response::Builder,
    bucket: &str,
    key: &str,
    lock: &LockState,
) -> http::response::Builder {
    if lock.retention.is_none() && lock.legal_hold.is_none() {
        return builder;
    }
    let arn = object_arn(bucket, key);
    if let Some((mode, until)) = lock.retention {
        if ctx.access.allows("s3:GetObjectRetention", &arn) {
            builder = builder
                .header(MODE, mode.as_str())
                .header(UNTIL, timestamp(until));
        }
    }
    if let Some(on) = lock.legal_hold {
        if ctx.access.allows("s3:GetObjectLegalHold", &arn) {
            builder = builder.header(HOLD, if on { "ON" } else { "OFF" });
        }
    }
    builder
}

/// Whole days from `now` to `until`, rounded up (a retention of any part of a day counts the
/// day), and never negative.
fn remaining_days(until: i64, now: i64) -> i64 {
    let day = 86_400_000;
    (until - now).max(0).div_euclid(day) + i64::from((until - now).max(0).rem_euclid(day) > 0)
}

/// The Object Lock condition keys a request sets: `s3:object-lock-mode`,
/// `s3:object-lock-retain-until-date` (as sent) and `s3:object-lock-remaining-retention-days`
/// from a retention, `s3:object-lock-legal-hold` from a legal hold. Values that do not parse
/// set nothing: the request fails anyway.
pub(super) fn set_condition_keys(
    context: &mut Context,
    mode: Option<&str>,
    until: Option<&str>,
    hold: Option<&str>,
    now: i64,
) {
    if let Some(mode) = mode
        .map(str::trim)
        .filter(|m| RetentionMode::parse(m).is_some())
    {
        context.set("s3:object-lock-mode", [mode]);
    }
    if let Some((text, ms)) = until.and_then(|u| Some((u.trim(), parse_iso8601_ms(u.trim())?))) {
        context.set("s3:object-lock-retain-until-date", [text]);
        context.set(
            "s3:object-lock-remaining-retention-days",
            [remaining_days(ms, now).to_string()],
        );
    }
    if let Some(hold) = hold.map(str::trim).filter(|h| matches!(*h, "ON" | "OFF")) {
        context.set("s3:object-lock-legal-hold", [hold]);
    }
}

/// The keys of a write's `x-amz-object-lock-*` headers (PutObject, CopyObject,
/// CreateMultipartUpload: the `s3:PutObject` action, which AWS lists them for).
pub(super) fn header_condition_keys(context: &mut Context, headers: &HeaderMap, now: i64) {
    let get = |name| headers.get(name).and_then(|v| v.to_str().ok());
    set_condition_keys(context, get(MODE), get(UNTIL), get(HOLD), now);
}

/// The keys of a PutObjectRetention or PutObjectLegalHold body (`keyword` names which),
/// read by authorization before the handler runs. A body that does not parse is the error.
pub(super) fn body_condition_keys(
    context: &mut Context,
    keyword: LockBody,
    body: &[u8],
    now: i64,
) -> S3Result<()> {
    match keyword {
        LockBody::Retention => {
            let doc: Retention = read(body)?;
            set_condition_keys(
                context,
                doc.mode.as_deref(),
                doc.retain_until_date.as_deref(),
                None,
                now,
            );
        }
        LockBody::LegalHold => {
            let doc: LegalHold = read(body)?;
            set_condition_keys(context, None, None, doc.status.as_deref(), now);
        }
    }
    Ok(())
}

/// Which Object Lock body a request carries, for its condition keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LockBody {
    Retention,
    LegalHold,
}

/// CreateBucket with `x-amz-bucket-object-lock-enabled`: `true` enables Object Lock (and
/// versioning) on the new bucket, which needs `s3:PutBucketObjectLockConfiguration` and
/// `s3:PutBucketVersioning` besides `s3:CreateBucket`, as AWS asks; `false` or absent, not.
pub fn requested_on_create(ctx: &Ctx<'_>, bucket: &str, headers: &HeaderMap) -> S3Result<bool> {
    let Some(value) = header(headers, "x-amz-bucket-object-lock-enabled") else {
        return Ok(false);
    };
    let enabled = match value.trim() {
        v if v.eq_ignore_ascii_case("true") => true,
        v if v.eq_ignore_ascii_case("false") => false,
        _ => {
            return Err(S3Error::new(
                Code::InvalidArgument,
                "x-amz-bucket-object-lock-enabled must be true or false",
            ))
        }
    };
    if enabled {
        let arn = bucket_arn(bucket);
        for action in [
            "s3:PutBucketObjectLockConfiguration",
            "s3:PutBucketVersioning",
        ] {
            if !ctx.access.allows(action, &arn) {
                return Err(super::access::denied());
            }
        }
    }
    Ok(enabled)
}

/// `<ObjectLockConfiguration>`, as sent and as answered.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename = "ObjectLockConfiguration")]
struct ObjectLockConfiguration {
    #[serde(rename = "@xmlns", default, skip_deserializing)]
    xmlns: Xmlns,
    #[serde(rename = "ObjectLockEnabled", skip_serializing_if = "Option::is_none")]
    object_lock_enabled: Option<String>,
    #[serde(rename = "Rule", skip_serializing_if = "Option::is_none")]
    rule: Option<Rule>,
}

impl RequestDocument for ObjectLockConfiguration {
    const ROOT: &'static str = "ObjectLockConfiguration";
    const MAX_ELEMENTS: usize = 64;
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct Rule {
    #[serde(rename = "DefaultRetention", skip_serializing_if = "Option::is_none")]
    default_retention: Option<DefaultRetentionDoc>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct DefaultRetentionDoc {
    #[serde(rename = "Mode", skip_serializing_if = "Option::is_none")]
    mode: Option<String>,
    #[serde(rename = "Days", skip_serializing_if = "Option::is_none")]
    days: Option<String>,
    #[serde(rename = "Years", skip_serializing_if = "Option::is_none")]
    years: Option<String>,
}

/// The most a default retention may be: 100 years, in either unit.
const MAX_YEARS: i64 = 100;

impl ObjectLockConfiguration {
    /// The configuration asked for, checked as S3 checks it.
    fn config(self) -> S3Result<ObjectLockConfig> {
        if self.object_lock_enabled.as_deref().map(str::trim) != Some("Enabled") {
            return Err(Code::MalformedXML.into());
        }
        let Some(rule) = self.rule else {
            return Ok(ObjectLockConfig::new(None));
        };
        let d = rule.default_retention.ok_or(Code::MalformedXML)?;
        let mode = RetentionMode::parse(d.mode.as_deref().map(str::trim).unwrap_or_default())
            .ok_or(Code::MalformedXML)?;
        let number = |text: &str| -> S3Result<i64> {
            text.trim()
                .parse::<i64>()
                .map_err(|_| S3Error::from(Code::MalformedXML))
        };
        let (n, years) = match (d.days.as_deref(), d.years.as_deref()) {
            (Some(days), None) => (number(days)?, false),
            (None, Some(years)) => (number(years)?, true),
            _ => return Err(Code::MalformedXML.into()),
        };
        if n <= 0 {
            return Err(S3Error::new(
                Code::InvalidArgument,
                "Default retention period must be a positive integer value.",
            ));
        }
        let limit = if years { MAX_YEARS } else { MAX_YEARS * 365 };
        let n = u32::try_from(n)
            .ok()
            .filter(|_| n <= limit)
            .ok_or_else(|| {
                S3Error::new(
                    Code::InvalidArgument,
                    "Default retention period is too large.",
                )
            })?;
        let period = if years {
            RetentionPeriod::Years(n)
        } else {
            RetentionPeriod::Days(n)
        };
        Ok(ObjectLockConfig::new(Some(DefaultRetention {
            mode,
            period,
        })))
    }

    fn answer(config: &ObjectLockConfig) -> ObjectLockConfiguration {
        ObjectLockConfiguration {
            xmlns: Xmlns::default(),
            object_lock_enabled: Some("Enabled".into()),
            rule: config.default_retention.map(|d| Rule {
                default_retention: Some(DefaultRetentionDoc {
                    mode: Some(d.mode.as_str().into()),
                    days: match d.period {
                        RetentionPeriod::Days(n) => Some(n.to_string()),
                        RetentionPeriod::Years(_) => None,
                    },
                    years: match d.period {
                        RetentionPeriod::Years(n) => Some(n.to_string()),
                        RetentionPeriod::Days(_) => None,
                    },
                }),
            }),
        }
    }
}

/// PutObjectLockConfiguration: enables Object Lock (needs versioning Enabled, checked in
/// the commit: `InvalidBucketState`) and sets or clears the default retention. Object Lock
/// is never disabled.
pub async fn put_object_lock_configuration(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    req.found.existing()?;
    let name = req.bucket.to_owned();
    let doc: ObjectLockConfiguration = read(&body(req).await?)?;
    let config = doc.config()?;
    ctx.index().put_object_lock_config(name, config).await?;
    finish(Response::builder(), crate::http::empty())
}

/// GetObjectLockConfiguration: the configuration, or `ObjectLockConfigurationNotFoundError`
/// on a bucket without Object Lock.
#[expect(
    clippy::unused_async,
    reason = "handlers share the async signature the operation table dispatches to; the configuration is read from memory"
)]
pub async fn get_object_lock_configuration(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let bucket = req.found.existing()?;
    let config = bucket
        .configs
        .object_lock
        .as_ref()
        .ok_or(Code::ObjectLockConfigurationNotFoundError)?;
    document(&ObjectLockConfiguration::answer(config))
}

/// `<Retention>`, as sent and as answered.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename = "Retention")]
struct Retention {
    #[serde(rename = "@xmlns", default, skip_deserializing)]
    xmlns: Xmlns,
    #[serde(rename = "Mode", skip_serializing_if = "Option::is_none")]
    mode: Option<String>,
    #[serde(rename = "RetainUntilDate", skip_serializing_if = "Option::is_none")]
    retain_until_date: Option<String>,
}

impl RequestDocument for Retention {
    const ROOT: &'static str = "Retention";
    const MAX_ELEMENTS: usize = 16;
}

/// `<LegalHold>`, as sent and as answered.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename = "LegalHold")]
struct LegalHold {
    #[serde(rename = "@xmlns", default, skip_deserializing)]
    xmlns: Xmlns,
    #[serde(rename = "Status", skip_serializing_if = "Option::is_none")]
    status: Option<String>,
}

impl RequestDocument for LegalHold {
    const ROOT: &'static str = "LegalHold";
    const MAX_ELEMENTS: usize = 16;
}

/// The body authorization read (and checked) for its condition keys.
fn lock_body(req: &mut Req<'_>) -> S3Result<Bytes> {
    req.lock_body.take().ok_or_else(|| {
        S3Error::internal(
            "reading an Object Lock body",
            "authorization did not read the body",
        )
    })
}

/// The bucket has Object Lock, else S3's `InvalidRequest`.
fn require_lock(req: &Req<'_>) -> S3Result<()> {
    if !lock_enabled(req.found.existing()?) {
        return Err(missing_configuration());
    }
    Ok(())
}

fn version_reply(req: &Req<'_>, id: String) -> Reply {
    finish(
        with_version(Response::builder(), shown(req, id).as_deref()),
        crate::http::empty(),
    )
}

/// PutObjectRetention: sets, extends, shortens or (an empty `<Retention/>`) removes one
/// version's retention, as `objects::versions::retention_change_allowed` allows; a refusal
/// is 403 AccessDenied. A new date must be in the future.
pub async fn put_object_retention(ctx: &Ctx<'_>, mut req: Req<'_>) -> Reply {
    require_lock(&req)?;
    let doc: Retention = read(&lock_body(&mut req)?)?;
    let retention = match (doc.mode.as_deref(), doc.retain_until_date.as_deref()) {
        (None, None) => None,
        (Some(mode), Some(until)) => {
            let mode = parse_mode(mode)?;
            let until = parse_until(until)?;
            if until <= now_ms() {
                return Err(in_the_past());
            }
            Some((mode, until))
        }
        _ => return Err(Code::MalformedXML.into()),
    };
    let bypass = bypass_governance(ctx, &req.parts.headers, req.bucket, req.key);
    let id = ctx
        .index()
        .set_retention(
            req.bucket.to_owned(),
            req.key.to_owned(),
            req.version.clone(),
            retention,
            bypass,
        )
        .await?;
    version_reply(&req, id)
}

/// GetObjectRetention: the version's retention; `NoSuchObjectLockConfiguration` when it has
/// none (or it has ended).
pub async fn get_object_retention(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    require_lock(&req)?;
    let (lock, _) = ctx
        .index()
        .object_lock(
            req.bucket.to_owned(),
            req.key.to_owned(),
            req.version.clone(),
        )
        .await?;
    let (mode, until) = lock
        .active_retention(now_ms())
        .ok_or(Code::NoSuchObjectLockConfiguration)?;
    document(&Retention {
        xmlns: Xmlns::default(),
        mode: Some(mode.as_str().into()),
        retain_until_date: Some(timestamp(until)),
    })
}

/// PutObjectLegalHold: `ON` or `OFF` on one version, for anyone allowed to put it.
pub async fn put_object_legal_hold(ctx: &Ctx<'_>, mut req: Req<'_>) -> Reply {
    require_lock(&req)?;
    let doc: LegalHold = read(&lock_body(&mut req)?)?;
    let hold = parse_hold(doc.status.as_deref().ok_or(Code::MalformedXML)?)?;
    let id = ctx
        .index()
        .set_legal_hold(
            req.bucket.to_owned(),
            req.key.to_owned(),
            req.version.clone(),
            hold,
        )
        .await?;
    version_reply(&req, id)
}

/// GetObjectLegalHold: the version's legal hold, `ON` or `OFF`; S3's
/// `NoSuchObjectLockConfiguration` for a version whose hold was never set.
pub async fn get_object_legal_hold(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    require_lock(&req)?;
    let (lock, _) = ctx
        .index()
        .object_lock(
            req.bucket.to_owned(),
            req.key.to_owned(),
            req.version.clone(),
        )
        .await?;
    let on = lock.legal_hold.ok_or_else(|| {
        S3Error::new(
            Code::NoSuchObjectLockConfiguration,
            "The specified object does not have a ObjectLock configuration",
        )
    })?;
    document(&LegalHold {
        xmlns: Xmlns::default(),
        status: Some(if on { "ON" } else { "OFF" }.into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::xml::{assert_documented, to_xml};

    /// AWS's examples of the three documents.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectLockConfiguration.html>
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectRetention.html>
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectLegalHold.html>
    #[test]
    fn documents_read_and_answer_as_documented() {
        let doc: ObjectLockConfiguration = read(
            br#"<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
                  <ObjectLockEnabled>Enabled</ObjectLockEnabled>
                  <Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>30</Days></DefaultRetention></Rule>
                </ObjectLockConfiguration>"#,
        )
        .unwrap();
        let config = doc.config().unwrap();
        assert_eq!(
            config.default_retention,
            Some(DefaultRetention {
                mode: RetentionMode::Governance,
                period: RetentionPeriod::Days(30)
            })
        );
        assert_documented(
            &to_xml(None, &ObjectLockConfiguration::answer(&config)).unwrap(),
            r#"<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
                 <ObjectLockEnabled>Enabled</ObjectLockEnabled>
                 <Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>30</Days></DefaultRetention></Rule>
               </ObjectLockConfiguration>"#,
        );
        assert_documented(
            &to_xml(
                None,
                &Retention {
                    xmlns: Xmlns::default(),
                    mode: Some("COMPLIANCE".into()),
                    retain_until_date: Some(timestamp(1_893_456_000_000)),
                },
            )
            .unwrap(),
            r#"<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
                 <Mode>COMPLIANCE</Mode>
                 <RetainUntilDate>2030-01-01T00:00:00.000Z</RetainUntilDate>
               </Retention>"#,
        );
        assert_documented(
            &to_xml(
                None,
                &LegalHold {
                    xmlns: Xmlns::default(),
                    status: Some("ON".into()),
                },
            )
            .unwrap(),
            r#"<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>ON</Status></LegalHold>"#,
        );
    }

    #[test]
    fn configurations_are_checked_as_s3_checks_them() {
        let config = |xml: &str| {
            read::<ObjectLockConfiguration>(xml.as_bytes())
                .and_then(ObjectLockConfiguration::config)
        };
        let code = |xml: &str| config(xml).unwrap_err().code;
        let wrap = |inner: &str| {
            format!("<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>{inner}</ObjectLockConfiguration>")
        };
        assert_eq!(config(&wrap("")).unwrap().default_retention, None);
        assert_eq!(code("<ObjectLockConfiguration/>"), Code::MalformedXML);
        assert_eq!(code(&wrap("<Rule/>")), Code::MalformedXML);
        for bad in [
            "<Mode>GOVERNANCE</Mode>",
            "<Days>1</Days>",
            "<Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years>",
            "<Mode>LEGAL</Mode><Days>1</Days>",
            "<Mode>GOVERNANCE</Mode><Days>x</Days>",
        ] {
            let xml = wrap(&format!(
                "<Rule><DefaultRetention>{bad}</DefaultRetention></Rule>"
            ));
            assert_eq!(code(&xml), Code::MalformedXML, "{bad}");
        }
        for bad in [
            "<Days>0</Days>",
            "<Years>-1</Years>",
            "<Years>101</Years>",
            "<Days>36501</Days>",
        ] {
            let xml = wrap(&format!(
                "<Rule><DefaultRetention><Mode>COMPLIANCE</Mode>{bad}</DefaultRetention></Rule>"
            ));
            assert_eq!(code(&xml), Code::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn remaining_days_round_up() {
        let day = 86_400_000;
        assert_eq!(remaining_days(0, 0), 0);
        assert_eq!(remaining_days(1, 0), 1);
        assert_eq!(remaining_days(day, 0), 1);
        assert_eq!(remaining_days(day + 1, 0), 2);
        assert_eq!(remaining_days(0, day), 0);
    }
}
