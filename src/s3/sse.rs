//! Server-side encryption on the S3 API (`docs/encryption.md`): SSE-S3
//! (`x-amz-server-side-encryption: AES256`) on writes, the header on answers, the bucket's
//! default encryption (Put/Get/DeleteBucketEncryption, the `encryption` configuration kind),
//! and the refusals of what is not implemented (SSE-KMS, DSSE-KMS, SSE-C: `NotImplemented`,
//! never accepted and ignored).
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingServerSideEncryption.html>
#![expect(
    clippy::unused_async,
    reason = "handlers share the async signature the operation table dispatches to; a configuration read is answered from memory"
)]

use std::sync::Arc;

use http::{HeaderMap, Response, StatusCode};
use serde::{Deserialize, Serialize};

use super::body::read_small;
use super::delete::verify;
use super::error::{Code, S3Error, S3Result};
use super::object::expected;
use super::xml::{document, read, RequestDocument, Xmlns};
use super::{finish, Ctx, Reply, Req};
use crate::crypto::sse::{DataKey, Record};
use crate::objects::{BucketConfig, BucketEncryption, BucketState, ConfigKind};

pub const HEADER: &str = "x-amz-server-side-encryption";
pub const AES256: &str = "AES256";

/// SSE-KMS's headers: refused, as SSE-KMS is.
const KMS_HEADERS: [&str; 3] = [
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-context",
    "x-amz-server-side-encryption-bucket-key-enabled",
];
/// SSE-C's headers (on a write or read, and on a copy's source).
const SSE_C_HEADERS: [&str; 6] = [
    "x-amz-server-side-encryption-customer-algorithm",
    "x-amz-server-side-encryption-customer-key",
    "x-amz-server-side-encryption-customer-key-md5",
    "x-amz-copy-source-server-side-encryption-customer-algorithm",
    "x-amz-copy-source-server-side-encryption-customer-key",
    "x-amz-copy-source-server-side-encryption-customer-key-md5",
];

fn kms_not_implemented() -> S3Error {
    S3Error::new(
        Code::NotImplemented,
        "Server-side encryption with AWS KMS keys (aws:kms, aws:kms:dsse) is not implemented; \
         use AES256 (SSE-S3).",
    )
}

/// Refuses the headers of SSE-C and SSE-KMS, which LabStore does not implement: a client
/// that sent them expects an encryption it would not get.
pub fn refuse_unimplemented(headers: &HeaderMap) -> S3Result<()> {
    if SSE_C_HEADERS.iter().any(|h| headers.contains_key(*h)) {
        return Err(S3Error::new(
            Code::NotImplemented,
            "Server-side encryption with customer-provided keys (SSE-C) is not implemented.",
        ));
    }
    if KMS_HEADERS.iter().any(|h| headers.contains_key(*h)) {
        return Err(kms_not_implemented());
    }
    Ok(())
}

/// `x-amz-server-side-encryption` on a write: `AES256` is SSE-S3; `aws:kms` and
/// `aws:kms:dsse` are not implemented; anything else is S3's `InvalidArgument`.
fn check_algorithm(value: &[u8]) -> S3Result<()> {
    match value {
        b"AES256" => Ok(()),
        b"aws:kms" | b"aws:kms:dsse" => Err(kms_not_implemented()),
        other => Err(S3Error::new(
            Code::InvalidArgument,
            "The encryption method specified is not supported",
        )
        .with("ArgumentName", HEADER)
        .with("ArgumentValue", String::from_utf8_lossy(other).into_owned())),
    }
}

/// Whether a write to `bucket` is encrypted: its `x-amz-server-side-encryption`, else the
/// bucket's default encryption. Checked before the body is read.
pub fn for_write(bucket: &BucketState, headers: &HeaderMap) -> S3Result<bool> {
    refuse_unimplemented(headers)?;
    match headers.get(HEADER) {
        Some(value) => check_algorithm(value.as_bytes()).map(|()| true),
        None => Ok(bucket.configs.encryption.is_some()),
    }
}

/// A read (GetObject, HeadObject) names no encryption: S3 answers `400` to
/// `x-amz-server-side-encryption` on one ("should not be sent for GetObject requests"), and
/// SSE-C's headers are not implemented.
pub fn refuse_on_read(headers: &HeaderMap) -> S3Result<()> {
    if SSE_C_HEADERS[..3].iter().any(|h| headers.contains_key(*h)) {
        return Err(S3Error::new(
            Code::NotImplemented,
            "Server-side encryption with customer-provided keys (SSE-C) is not implemented.",
        ));
    }
    if headers.contains_key(HEADER) {
        return Err(S3Error::new(
            Code::InvalidArgument,
            "x-amz-server-side-encryption header is not supported for this operation.",
        )
        .with("ArgumentName", HEADER));
    }
    Ok(())
}

/// A fresh data key for a version (or upload) of `bucket`/`key`, and its record.
pub fn generate(ctx: &Ctx<'_>, bucket: &str, key: &str) -> (Record, Arc<DataKey>) {
    Record::generate(ctx.state.iam.master_key(), bucket, key)
}

/// Opens the data key of an encrypted row (`None`: plaintext). A record that does not open
/// (moved between rows, altered, or another master key) is an error, logged.
pub fn open(
    ctx: &Ctx<'_>,
    record: Option<&Record>,
    bucket: &str,
    key: &str,
) -> S3Result<Option<Arc<DataKey>>> {
    let Some(record) = record else {
        return Ok(None);
    };
    match record.open(ctx.state.iam.master_key(), bucket, key) {
        Ok(key) => Ok(Some(key)),
        Err(e) => {
            tracing::error!(bucket, key, error = %e, "an object's data key does not open");
            Err(S3Error::internal("opening an object's data key", e))
        }
    }
}

/// The `x-amz-server-side-encryption` of an answer about an encrypted object.
pub fn header_out(builder: http::response::Builder, encrypted: bool) -> http::response::Builder {
    match encrypted {
        true => builder.header(HEADER, AES256),
        false => builder,
    }
}

/// `<ServerSideEncryptionConfiguration>`: PutBucketEncryption's body and
/// GetBucketEncryption's answer.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketEncryption.html>
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename = "ServerSideEncryptionConfiguration")]
struct ServerSideEncryptionConfiguration {
    #[serde(rename = "@xmlns", skip_deserializing, default)]
    xmlns: Xmlns,
    #[serde(rename = "Rule", default)]
    rules: Vec<Rule>,
}

impl RequestDocument for ServerSideEncryptionConfiguration {
    const ROOT: &'static str = "ServerSideEncryptionConfiguration";
    const MAX_ELEMENTS: usize = 100;
}

#[derive(Debug, Serialize, Deserialize)]
struct Rule {
    #[serde(
        rename = "ApplyServerSideEncryptionByDefault",
        skip_serializing_if = "Option::is_none"
    )]
    default: Option<ByDefault>,
    #[serde(rename = "BucketKeyEnabled", skip_serializing_if = "Option::is_none")]
    bucket_key_enabled: Option<bool>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ByDefault {
    #[serde(rename = "SSEAlgorithm")]
    algorithm: String,
    #[serde(rename = "KMSMasterKeyID", skip_serializing_if = "Option::is_none")]
    kms_key: Option<String>,
}

/// The default encryption a PutBucketEncryption body asks for: one rule, SSE-S3.
fn config_of(doc: ServerSideEncryptionConfiguration) -> S3Result<BucketEncryption> {
    let mut rules = doc.rules.into_iter();
    let (Some(rule), None) = (rules.next(), rules.next()) else {
        return Err(Code::MalformedXML.into());
    };
    let Some(default) = rule.default else {
        return Err(Code::MalformedXML.into());
    };
    match default.algorithm.trim() {
        "AES256" => {}
        "aws:kms" | "aws:kms:dsse" => return Err(kms_not_implemented()),
        _ => return Err(Code::MalformedXML.into()),
    }
    if default.kms_key.is_some() {
        return Err(S3Error::new(
            Code::InvalidArgument,
            "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse",
        )
        .with("ArgumentName", "ApplyServerSideEncryptionByDefault"));
    }
    Ok(BucketEncryption::sse_s3(rule.bucket_key_enabled))
}

/// PutBucketEncryption: the bucket's default encryption (SSE-S3 only).
pub async fn put_bucket_encryption(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    req.found.existing()?;
    let name = req.bucket.to_owned();
    let (parts, mut reader) = (req.parts, req.body);
    let want = expected(&parts.headers)?;
    let body = read_small(&mut reader, 64 * 1024).await?;
    verify(&body, &want, reader.trailers())?;
    let config = config_of(read(&body)?)?;
    ctx.index()
        .put_bucket_config(name, BucketConfig::Encryption(config.into()))
        .await?;
    finish(Response::builder(), crate::http::empty())
}

/// GetBucketEncryption: the default encryption, or
/// `ServerSideEncryptionConfigurationNotFoundError`.
pub async fn get_bucket_encryption(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let bucket = req.found.existing()?;
    let Some(config) = bucket.configs.encryption.as_ref() else {
        return Err(
            S3Error::from(Code::ServerSideEncryptionConfigurationNotFoundError)
                .with("BucketName", req.bucket),
        );
    };
    document(&ServerSideEncryptionConfiguration {
        xmlns: Xmlns::default(),
        rules: vec![Rule {
            default: Some(ByDefault {
                algorithm: config.algorithm().to_owned(),
                kms_key: None,
            }),
            bucket_key_enabled: config.bucket_key_enabled,
        }],
    })
}

/// DeleteBucketEncryption: 204. With `backend.s3.new_buckets.default_encryption` on, S3's
/// behaviour: the default encryption is reset to SSE-S3; off, the bucket has none after it.
pub async fn delete_bucket_encryption(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    req.found.existing()?;
    let bucket = req.bucket.to_owned();
    if ctx.state.config.backend.s3.new_buckets.default_encryption {
        let config = BucketConfig::Encryption(BucketEncryption::sse_s3(None).into());
        ctx.index().put_bucket_config(bucket, config).await?;
    } else {
        ctx.index()
            .delete_bucket_config(bucket, ConfigKind::Encryption)
            .await?;
    }
    finish(
        Response::builder().status(StatusCode::NO_CONTENT),
        crate::http::empty(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::xml::{assert_documented, to_xml};

    #[test]
    fn the_configuration_is_the_documented_document() {
        let doc = ServerSideEncryptionConfiguration {
            xmlns: Xmlns::default(),
            rules: vec![Rule {
                default: Some(ByDefault {
                    algorithm: "AES256".into(),
                    kms_key: None,
                }),
                bucket_key_enabled: Some(true),
            }],
        };
        assert_documented(
            &to_xml(None, &doc).unwrap(),
            r#"<?xml version="1.0" encoding="UTF-8"?>
            <ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
               <Rule>
                  <ApplyServerSideEncryptionByDefault>
                     <SSEAlgorithm>AES256</SSEAlgorithm>
                  </ApplyServerSideEncryptionByDefault>
                  <BucketKeyEnabled>true</BucketKeyEnabled>
               </Rule>
            </ServerSideEncryptionConfiguration>"#,
        );
    }

    #[test]
    fn only_one_sse_s3_rule_is_taken() {
        let parse = |body: &str| read(body.as_bytes()).and_then(config_of);
        let ok = parse(
            "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>\
             <SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault>\
             <BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>",
        )
        .unwrap();
        assert_eq!(ok.bucket_key_enabled, Some(false));
        let code = |body: &str| parse(body).unwrap_err().code;
        let rule = |inner: &str| {
            format!("<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>{inner}</ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>")
        };
        assert_eq!(
            code(&rule("<SSEAlgorithm>aws:kms</SSEAlgorithm>")),
            Code::NotImplemented
        );
        assert_eq!(
            code(&rule("<SSEAlgorithm>DES</SSEAlgorithm>")),
            Code::MalformedXML
        );
        assert_eq!(
            code(&rule(
                "<SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID>"
            )),
            Code::InvalidArgument
        );
        assert_eq!(
            code("<ServerSideEncryptionConfiguration/>"),
            Code::MalformedXML
        );
        assert_eq!(
            code("<ServerSideEncryptionConfiguration><Rule><BucketKeyEnabled>true</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>"),
            Code::MalformedXML
        );
    }

    #[test]
    fn the_write_header_takes_aes256_only() {
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut h = HeaderMap::new();
            for (n, v) in pairs {
                h.insert(*n, v.parse().unwrap());
            }
            h
        };
        let bucket = BucketState {
            name: "b".into(),
            created_at: 0,
            region: String::new(),
            owner: None,
            configs: crate::objects::BucketConfigs::default(),
        };
        let code = |pairs| for_write(&bucket, &headers(pairs)).unwrap_err().code;
        assert!(for_write(&bucket, &headers(&[(HEADER, "AES256")])).unwrap());
        assert!(!for_write(&bucket, &headers(&[])).unwrap());
        assert_eq!(code(&[(HEADER, "aws:kms")]), Code::NotImplemented);
        assert_eq!(code(&[(HEADER, "aws:kms:dsse")]), Code::NotImplemented);
        assert_eq!(code(&[(HEADER, "aes256")]), Code::InvalidArgument);
        assert_eq!(
            code(&[("x-amz-server-side-encryption-customer-algorithm", "AES256")]),
            Code::NotImplemented
        );
        assert_eq!(
            code(&[
                (HEADER, "AES256"),
                ("x-amz-server-side-encryption-bucket-key-enabled", "true")
            ]),
            Code::NotImplemented
        );
    }
}
