//! Bucket policies: PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy and
//! GetBucketPolicyStatus. The document is stored exactly as sent and served back byte for
//! byte; the object index keeps the compiled copy that authorization reads.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html>
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicyStatus.html>
#![expect(
    clippy::unused_async,
    reason = "handlers share the async signature the operation table dispatches to; a policy read is answered from memory"
)]

use http::{header, Response, StatusCode};
use serde::Serialize;

use super::body::read_whole;
use super::error::{Code, S3Error, S3Result};
use super::object::{check_whole_body, expected};
use super::xml::{document, Xmlns};
use super::{finish, Ctx, Found, Reply, Req};
use crate::objects::{BucketConfig, BucketPolicy, ConfigKind};
use crate::policy::document::{
    self, non_whitespace_len, ActionSpec, PolicyDocument, PolicyKind, ResourceSpec,
};

/// AWS's limit on a bucket policy, 20 KB. AWS measures the document after normalizing it, so
/// whitespace is not counted here (as IAM counts its own quotas).
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/add-bucket-policy.html>
const MAX_POLICY_CHARS: usize = 20 * 1024;
/// The most bytes read from a PutBucketPolicy body, whitespace included: generous room for an
/// indented 20 KB document, and a bound on what a client can make the server hold.
const MAX_POLICY_BODY: usize = 64 * 1024;

const INVALID_RESOURCE: &str = "Policy has invalid resource";
const INVALID_ACTION: &str = "Policy has invalid action";

pub async fn put_bucket_policy(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let (bucket, parts, mut reader) = (req.bucket, req.parts, req.body);
    let want = expected(&parts.headers)?;
    req.found.existing()?;
    let body = read_whole(&mut reader, MAX_POLICY_BODY, || Code::PolicyTooLarge.into()).await?;
    check_whole_body(&body, &want, reader.trailers())?;
    let (text, document) = validate(bucket, &body)?;
    let policy = BucketPolicy::new(text, &document);
    let blocked = req
        .found
        .existing()
        .is_ok_and(|b| super::acl::public_access(b).block_public_policy);
    if policy.public && blocked {
        return Err(S3Error::new(
            Code::AccessDenied,
            "Public policies are blocked by the BlockPublicPolicy block public access setting.",
        ));
    }
    let policy = BucketConfig::Policy(policy.into());
    ctx.index()
        .put_bucket_config(bucket.to_owned(), policy)
        .await?;
    no_content()
}

pub async fn get_bucket_policy(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let policy = existing_policy(&req.found)?;
    finish(
        Response::builder().header(header::CONTENT_TYPE, "application/json"),
        crate::http::full(policy.text.clone()),
    )
}

/// Succeeds when the bucket has no policy, as S3 does.
pub async fn delete_bucket_policy(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let bucket = req.bucket;
    ctx.index()
        .delete_bucket_config(bucket.to_owned(), ConfigKind::Policy)
        .await?;
    no_content()
}

pub async fn get_bucket_policy_status(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let policy = existing_policy(&req.found)?;
    // Decided when the policy was stored or loaded. A stored document that no longer parses
    // is enforced as deny-all (see `objects`), which is not public.
    document(&PolicyStatus {
        xmlns: Xmlns::default(),
        is_public: policy.public,
    })
}

/// `<PolicyStatus>`: whether the bucket's policy makes it public.
#[derive(Debug, Serialize)]
#[serde(rename = "PolicyStatus")]
struct PolicyStatus {
    #[serde(rename = "@xmlns")]
    xmlns: Xmlns,
    #[serde(rename = "IsPublic")]
    is_public: bool,
}

/// The bucket's policy: `NoSuchBucket`, or `NoSuchBucketPolicy` when it has none.
fn existing_policy(found: &Found) -> S3Result<std::sync::Arc<BucketPolicy>> {
    let policy = found.existing()?.configs.policy.clone();
    policy.ok_or_else(|| Code::NoSuchBucketPolicy.into())
}

fn no_content() -> Reply {
    finish(
        Response::builder().status(StatusCode::NO_CONTENT),
        crate::http::empty(),
    )
}

/// The checks S3 makes on a bucket policy, worded as S3 words them where known: JSON whose
/// first byte is `{`; at most 20 KB; the policy grammar with a principal in every statement;
/// only S3 actions; only resources in this bucket.
fn validate(bucket: &str, body: &[u8]) -> S3Result<(String, PolicyDocument)> {
    let text = std::str::from_utf8(body)
        .ok()
        .filter(|text| text.trim_start().starts_with('{'))
        .filter(|text| serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok())
        .ok_or(S3Error::from(Code::MalformedPolicy))?;
    if non_whitespace_len(text) > MAX_POLICY_CHARS {
        return Err(Code::PolicyTooLarge.into());
    }
    let document = document::parse(text, PolicyKind::Resource)
        .map_err(|e| S3Error::new(Code::MalformedPolicy, e.0))?;
    for statement in &document.statements {
        let (ActionSpec::Action(actions) | ActionSpec::NotAction(actions)) = &statement.actions;
        if !actions.iter().all(|a| is_s3_action(a)) {
            return Err(S3Error::new(Code::MalformedPolicy, INVALID_ACTION));
        }
        let resources = match &statement.resources {
            Some(ResourceSpec::Resource(r) | ResourceSpec::NotResource(r)) => r.as_slice(),
            None => &[],
        };
        if !resources.iter().all(|r| is_in_bucket(bucket, r)) {
            return Err(S3Error::new(Code::MalformedPolicy, INVALID_RESOURCE));
        }
    }
    Ok((text.to_owned(), document))
}

/// `*` or `s3:<pattern>`: a bucket policy grants S3 permissions only. Names are not checked
/// against S3's list, so a new action needs no change here.
fn is_s3_action(action: &str) -> bool {
    action == "*"
        || action
            .split_once(':')
            .is_some_and(|(vendor, _)| vendor.eq_ignore_ascii_case("s3"))
}

/// `arn:aws:s3:::bucket` or `arn:aws:s3:::bucket/<anything>`: a policy speaks only about its
/// own bucket and the objects in it (wildcards are fine after the `/`).
fn is_in_bucket(bucket: &str, resource: &str) -> bool {
    resource
        .strip_prefix("arn:aws:s3:::")
        .and_then(|rest| rest.strip_prefix(bucket))
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::xml::{assert_documented, to_xml, S3_XMLNS};

    /// AWS's example of GetBucketPolicyStatus' answer writes the boolean `TRUE`; S3 and the
    /// SDKs use XML Schema's `true`.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicyStatus.html#API_GetBucketPolicyStatus_Examples>
    #[test]
    fn policy_status_answers_as_documented() {
        let status = |is_public| PolicyStatus {
            xmlns: Xmlns::default(),
            is_public,
        };
        let documented = "<PolicyStatus>\n   <IsPublic>TRUE</IsPublic>\n</PolicyStatus>";
        assert_documented(
            &to_xml(None, &status(true)).unwrap(),
            &documented.replace("TRUE", "true"),
        );
        assert_eq!(
            to_xml(None, &status(false)).unwrap(),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                 <PolicyStatus xmlns=\"{S3_XMLNS}\"><IsPublic>false</IsPublic></PolicyStatus>"
            )
        );
    }

    fn refusal(body: &str) -> (Code, String) {
        let e = validate("b", body.as_bytes()).expect_err(body);
        (e.code, e.message.into_owned())
    }

    fn statement(fields: &str) -> String {
        format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",{fields}}}]}}"#)
    }

    #[test]
    fn accepted_documents_are_kept_as_sent() {
        for resource in [
            r#""arn:aws:s3:::b""#,
            r#""arn:aws:s3:::b/*""#,
            r#"["arn:aws:s3:::b/home/${aws:username}/*", "arn:aws:s3:::b/a?c"]"#,
        ] {
            let body = format!(
                "  {}\n",
                statement(&format!(
                    r#""Principal":"*","Action":["s3:GetObject","S3:List*","*"],"Resource":{resource}"#
                ))
            );
            let (text, document) = validate("b", body.as_bytes()).expect(&body);
            assert_eq!(text, body);
            assert_eq!(document.statements.len(), 1);
        }
    }

    #[test]
    fn refusals_name_what_is_wrong() {
        let not_json = S3Error::from(Code::MalformedPolicy).message.into_owned();
        for body in ["", "[]", "nope", "{\"Statement\":", "\u{feff}{}"] {
            assert_eq!(
                refusal(body),
                (Code::MalformedPolicy, not_json.clone()),
                "{body:?}"
            );
        }
        assert!(validate("b", b"{\"a\":\"\xff\"}").is_err());
        let rows = [
            (
                statement(r#""Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*""#),
                "Missing required field Principal",
            ),
            (
                statement(
                    r#""Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*""#,
                ),
                INVALID_RESOURCE,
            ),
            (
                statement(
                    r#""Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bb""#,
                ),
                INVALID_RESOURCE,
            ),
            (
                statement(
                    r#""Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b*""#,
                ),
                INVALID_RESOURCE,
            ),
            (
                statement(r#""Principal":"*","Action":"s3:GetObject","NotResource":"*""#),
                INVALID_RESOURCE,
            ),
            (
                statement(
                    r#""Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:iam::111122223333:user/b""#,
                ),
                INVALID_RESOURCE,
            ),
            (
                statement(
                    r#""Principal":"*","Action":"iam:CreateUser","Resource":"arn:aws:s3:::b""#,
                ),
                INVALID_ACTION,
            ),
            (
                statement(r#""Principal":"*","NotAction":"ec2:*","Resource":"arn:aws:s3:::b""#),
                INVALID_ACTION,
            ),
        ];
        for (body, message) in rows {
            assert_eq!(
                refusal(&body),
                (Code::MalformedPolicy, message.to_owned()),
                "{body}"
            );
        }
    }

    #[test]
    fn the_size_limit_does_not_count_whitespace() {
        let padded = |sid: usize, indent: usize| {
            format!(
                r#"{{"Statement":[{{"Sid":"{}",{}"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}]}}"#,
                "s".repeat(sid),
                " ".repeat(indent)
            )
        };
        let base = non_whitespace_len(&padded(0, 0));
        let fits = padded(MAX_POLICY_CHARS - base, 30_000);
        assert!(validate("b", fits.as_bytes()).is_ok());
        let over = padded(MAX_POLICY_CHARS - base + 1, 0);
        assert_eq!(refusal(&over).0, Code::PolicyTooLarge);
    }
}
