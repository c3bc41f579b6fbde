//! Server-side encryption on the S3 API (`docs/encryption.md`): SSE-S3
//! (`x-amz-server-side-encryption: AES256`) and SSE-C (`x-amz-server-side-encryption-customer-*`,
//! and their `x-amz-copy-source-` forms) on writes and reads, the headers on answers, the
//! bucket's default encryption (Put/Get/DeleteBucketEncryption, the `encryption`
//! configuration kind), and the refusal of what is not implemented (SSE-KMS, DSSE-KMS:
//! `NotImplemented`, never accepted and ignored).
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
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::crypto::sse::{CustomerKey, DataKey, Record};
use crate::objects::{BucketConfig, BucketEncryption, BucketState, ConfigKind};

pub const HEADER: &str = "x-amz-server-side-encryption";
pub const AES256: &str = "AES256";
/// SSE-C's headers on a write or read (and, behind `x-amz-copy-source-`, a copy's source).
pub const CUSTOMER_ALGORITHM: &str = "x-amz-server-side-encryption-customer-algorithm";
pub const CUSTOMER_KEY: &str = "x-amz-server-side-encryption-customer-key";
pub const CUSTOMER_KEY_MD5: &str = "x-amz-server-side-encryption-customer-key-md5";
/// What the copy-source forms of SSE-C's headers start with.
pub const COPY_SOURCE: &str = "x-amz-copy-source-";

/// SSE-KMS's headers: refused, as SSE-KMS is.
const KMS_HEADERS: [&str; 3] = [
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-context",
    "x-amz-server-side-encryption-bucket-key-enabled",
];

fn kms_not_implemented() -> S3Error {
    S3Error::new(
        Code::NotImplemented,
        "Server-side encryption with AWS KMS keys (aws:kms, aws:kms:dsse) is not implemented; \
         use AES256 (SSE-S3) or a customer-provided key (SSE-C).",
    )
}

/// Refuses the headers of SSE-KMS, which LabStore does not implement: a client that sent
/// them expects an encryption it would not get.
pub fn refuse_unimplemented(headers: &HeaderMap) -> S3Result<()> {
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

/// A customer's key (SSE-C) as a request brought it: the key, and its MD5 as sent (base64),
/// which answers about the object repeat.
pub struct Customer {
    key: CustomerKey,
    md5: String,
}

impl std::fmt::Debug for Customer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Customer(..)")
    }
}

/// Whether a customer key may come over this request's transport.
#[derive(Debug, Clone, Copy)]
pub struct Transport {
    /// The client spoke TLS (to an HTTPS listener, or to a trusted proxy that says so).
    pub secure: bool,
    /// `backend.s3.sse_c.allow_plain_http`.
    pub allow_plain_http: bool,
}

impl Transport {
    pub fn of(ctx: &Ctx<'_>) -> Transport {
        Transport {
            secure: ctx.access.secure(),
            allow_plain_http: ctx.state.config.backend.s3.sse_c.allow_plain_http,
        }
    }
}

fn customer_argument(header: &str, message: &'static str) -> S3Error {
    S3Error::new(Code::InvalidArgument, message).with("ArgumentName", header.to_owned())
}

/// Reads the SSE-C headers named with `prefix` (`""`, or `COPY_SOURCE` for a copy's
/// source): `None` when none of the three is there. Checked as S3 checks them: the transport,
/// then the algorithm, the key and its MD5 (which only proves the key arrived intact).
pub fn customer(
    headers: &HeaderMap,
    prefix: &str,
    transport: Transport,
) -> S3Result<Option<Customer>> {
    // `x-amz-server-side-encryption-customer-key`, or
    // `x-amz-copy-source-server-side-encryption-customer-key`.
    let names = [CUSTOMER_ALGORITHM, CUSTOMER_KEY, CUSTOMER_KEY_MD5].map(|h| {
        format!(
            "{}{}",
            if prefix.is_empty() { "x-amz-" } else { prefix },
            &h[6..]
        )
    });
    let [algorithm, key, md5] = [0, 1, 2].map(|i| headers.get(names[i].as_str()));
    if algorithm.is_none() && key.is_none() && md5.is_none() {
        return Ok(None);
    }
    if !transport.secure && !transport.allow_plain_http {
        return Err(S3Error::new(
            Code::InvalidRequest,
            "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.",
        ));
    }
    let Some(algorithm) = algorithm else {
        return Err(customer_argument(
            &names[0],
            "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.",
        ));
    };
    if algorithm.as_bytes() != AES256.as_bytes() {
        return Err(S3Error::from(Code::InvalidEncryptionAlgorithmError)
            .with("ArgumentName", names[0].clone())
            .with(
                "ArgumentValue",
                String::from_utf8_lossy(algorithm.as_bytes()).into_owned(),
            ));
    }
    let Some(key) = key else {
        return Err(customer_argument(
            &names[1],
            "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.",
        ));
    };
    let key: [u8; 32] = STANDARD
        .decode(key.as_bytes())
        .ok()
        .and_then(|k| <[u8; 32]>::try_from(k.as_slice()).ok())
        .ok_or_else(|| {
            customer_argument(
                &names[1],
                "The secret key was invalid for the specified algorithm.",
            )
        })?;
    let key = CustomerKey::new(key);
    let Some(md5) = md5.and_then(|v| v.to_str().ok()) else {
        return Err(customer_argument(
            &names[2],
            "Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.",
        ));
    };
    let given = STANDARD.decode(md5.trim()).ok();
    if given.as_deref() != Some(key.md5().as_slice()) {
        return Err(customer_argument(
            &names[2],
            "The calculated MD5 hash of the key did not match the hash that was provided.",
        ));
    }
    Ok(Some(Customer {
        key,
        md5: md5.trim().to_owned(),
    }))
}

/// The encryption a write asks for.
#[derive(Debug)]
pub enum Encryption {
    None,
    /// SSE-S3: its header, or the bucket's default.
    S3,
    /// SSE-C: the request's key.
    Customer(Customer),
}

/// The encryption a write (or an answer about an object) shows: which headers it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    None,
    S3,
    /// SSE-C, with the key's MD5 as the request sent it.
    Customer(String),
}

impl Encryption {
    pub fn applied(&self) -> Applied {
        match self {
            Encryption::None => Applied::None,
            Encryption::S3 => Applied::S3,
            Encryption::Customer(c) => Applied::Customer(c.md5.clone()),
        }
    }

    /// A fresh encryption id and data key for a version (or upload) of `bucket`/`key`, and
    /// the record its row keeps; `None` for plaintext.
    pub fn generate(
        &self,
        ctx: &Ctx<'_>,
        bucket: &str,
        key: &str,
    ) -> Option<(Record, Arc<DataKey>)> {
        match self {
            Encryption::None => None,
            Encryption::S3 => Some(Record::generate(ctx.state.iam.master_key(), bucket, key)),
            Encryption::Customer(c) => Some(Record::generate_customer(&c.key, bucket, key)),
        }
    }
}

/// What a write to `bucket` is encrypted with: SSE-C's headers, `x-amz-server-side-encryption`,
/// else the bucket's default encryption (a customer's key overrides the default, as on S3).
/// Checked before the body is read.
pub fn for_write(ctx: &Ctx<'_>, bucket: &BucketState, headers: &HeaderMap) -> S3Result<Encryption> {
    write_encryption(bucket, headers, Transport::of(ctx))
}

fn write_encryption(
    bucket: &BucketState,
    headers: &HeaderMap,
    transport: Transport,
) -> S3Result<Encryption> {
    refuse_unimplemented(headers)?;
    let customer = customer(headers, "", transport)?;
    match (headers.get(HEADER), customer) {
        (Some(_), Some(_)) => Err(S3Error::new(
            Code::InvalidArgument,
            "Server Side Encryption with Customer provided key is incompatible with the encryption method specified",
        )
        .with("ArgumentName", HEADER)),
        (None, Some(customer)) => Ok(Encryption::Customer(customer)),
        (Some(value), None) => check_algorithm(value.as_bytes()).map(|()| Encryption::S3),
        (None, None) => Ok(match bucket.configs.encryption.is_some() {
            true => Encryption::S3,
            false => Encryption::None,
        }),
    }
}

/// A read (GetObject, HeadObject, GetObjectAttributes): S3 answers `400` to
/// `x-amz-server-side-encryption` on one ("should not be sent for GetObject requests"); SSE-C's
/// headers bring the key an SSE-C object is read with.
pub fn for_read(ctx: &Ctx<'_>, headers: &HeaderMap) -> S3Result<Option<Customer>> {
    if headers.contains_key(HEADER) {
        return Err(S3Error::new(
            Code::InvalidArgument,
            "x-amz-server-side-encryption header is not supported for this operation.",
        )
        .with("ArgumentName", HEADER));
    }
    customer(headers, "", Transport::of(ctx))
}

/// What a stored object (or upload) is encrypted with, as its answers show it; `customer`:
/// the key the request brought, already checked against it.
pub fn applied(record: Option<&Record>, customer: Option<&Customer>) -> Applied {
    match (record, customer) {
        (None, _) => Applied::None,
        (Some(r), Some(c)) if r.is_customer() => Applied::Customer(c.md5.clone()),
        (Some(r), None) if r.is_customer() => Applied::Customer(String::new()),
        (Some(_), _) => Applied::S3,
    }
}

/// What a read of a stored row refuses: an SSE-C object without its key or with another,
/// and a customer key for an object that has none.
#[derive(Debug, Clone, Copy)]
pub enum Reading {
    /// GetObject, HeadObject, GetObjectAttributes, a copy's source.
    Object,
    /// An UploadPart (or UploadPartCopy) of an upload: its key must come with every part.
    Part,
    /// CompleteMultipartUpload: the key may come (and must then be the upload's), or not.
    Completion,
}

/// Opens the data key of a stored row (`None`: plaintext) for a request that brought
/// `customer`. SSE-S3: through the master key (a record that does not open is an error,
/// logged). SSE-C: the request's key, when it is the row's; without one, or with another,
/// S3's refusals, before any byte is read.
pub fn open(
    ctx: &Ctx<'_>,
    record: Option<&Record>,
    customer: Option<&Customer>,
    reading: Reading,
    (bucket, key): (&str, &str),
) -> S3Result<Option<Arc<DataKey>>> {
    let is_customer = record.is_some_and(Record::is_customer);
    let Some(record) = record.filter(|_| is_customer || customer.is_none()) else {
        return match customer {
            None => Ok(None),
            Some(_) => Err(S3Error::new(
                Code::InvalidRequest,
                match reading {
                    Reading::Object => "The encryption parameters are not applicable to this object.",
                    Reading::Part | Reading::Completion => {
                        "The multipart upload initiate did not request encryption with a customer-provided key; its parts cannot bring one."
                    }
                },
            )),
        };
    };
    if !is_customer {
        return match record.open(ctx.state.iam.master_key(), bucket, key) {
            Ok(key) => Ok(Some(key)),
            Err(e) => {
                tracing::error!(bucket, key, error = %e, "an object's data key does not open");
                Err(S3Error::internal("opening an object's data key", e))
            }
        };
    }
    let Some(customer) = customer else {
        return match reading {
            Reading::Object => Err(S3Error::new(
                Code::InvalidRequest,
                "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.",
            )),
            Reading::Part => Err(S3Error::new(
                Code::InvalidRequest,
                "The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.",
            )),
            // Completing reads no byte: the parts were encrypted as they came.
            Reading::Completion => Ok(None),
        };
    };
    match record.open_customer(&customer.key, bucket, key) {
        Some(key) => Ok(Some(key)),
        None => {
            tracing::info!(
                bucket,
                key,
                "a customer-provided key does not match the object's"
            );
            Err(S3Error::new(
                Code::AccessDenied,
                "The customer-provided encryption key does not match the key the object was stored with.",
            ))
        }
    }
}

/// The encryption headers of an answer about an object (or a write) encrypted as `applied`
/// says: `x-amz-server-side-encryption: AES256` for SSE-S3; for SSE-C, the customer
/// algorithm and the key's MD5 (when the request brought the key).
pub fn header_out(
    mut builder: http::response::Builder,
    applied: &Applied,
) -> http::response::Builder {
    match applied {
        Applied::None => builder,
        Applied::S3 => builder.header(HEADER, AES256),
        Applied::Customer(md5) => {
            builder = builder.header(CUSTOMER_ALGORITHM, AES256);
            if !md5.is_empty() {
                builder = builder.header("x-amz-server-side-encryption-customer-key-MD5", md5);
            }
            builder
        }
    }
}

/// `header_out` on a response built already.
pub fn headers_into(response: &mut Response<crate::http::Body>, applied: &Applied) {
    let mut builder = Response::builder();
    builder = header_out(builder, applied);
    if let Some(headers) = builder.headers_ref() {
        for (name, value) in headers {
            response.headers_mut().insert(name, value.clone());
        }
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

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.insert(
                http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    const TLS: Transport = Transport {
        secure: true,
        allow_plain_http: false,
    };

    fn bucket() -> BucketState {
        BucketState {
            name: "b".into(),
            created_at: 0,
            region: String::new(),
            owner: None,
            configs: crate::objects::BucketConfigs::default(),
        }
    }

    /// A header's name, or its copy-source form (`x-amz-copy-source-server-side-…`).
    fn name(prefix: &str, header: &str) -> String {
        match prefix {
            "" => header.to_owned(),
            _ => header.replacen("x-amz-", prefix, 1),
        }
    }

    /// A customer key and its headers, as the SDKs send them.
    fn customer_headers(prefix: &str, key: [u8; 32]) -> Vec<(String, String)> {
        use md5::Digest as _;
        vec![
            (name(prefix, CUSTOMER_ALGORITHM), AES256.to_owned()),
            (name(prefix, CUSTOMER_KEY), STANDARD.encode(key)),
            (
                name(prefix, CUSTOMER_KEY_MD5),
                STANDARD.encode(md5::Md5::digest(key)),
            ),
        ]
    }

    fn owned(pairs: &[(String, String)]) -> HeaderMap {
        let refs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        headers(&refs)
    }

    #[test]
    fn the_write_header_takes_aes256_only() {
        let bucket = bucket();
        let code = |pairs| {
            write_encryption(&bucket, &headers(pairs), TLS)
                .unwrap_err()
                .code
        };
        let encryption = |pairs| write_encryption(&bucket, &headers(pairs), TLS).unwrap();
        assert!(matches!(encryption(&[(HEADER, "AES256")]), Encryption::S3));
        assert!(matches!(encryption(&[]), Encryption::None));
        assert_eq!(code(&[(HEADER, "aws:kms")]), Code::NotImplemented);
        assert_eq!(code(&[(HEADER, "aws:kms:dsse")]), Code::NotImplemented);
        assert_eq!(code(&[(HEADER, "aes256")]), Code::InvalidArgument);
        assert_eq!(
            code(&[
                (HEADER, "AES256"),
                ("x-amz-server-side-encryption-bucket-key-enabled", "true")
            ]),
            Code::NotImplemented
        );
    }

    #[test]
    fn customer_keys_are_checked_as_s3_checks_them() {
        let bucket = bucket();
        let good = customer_headers("", [7; 32]);
        let Encryption::Customer(c) = write_encryption(&bucket, &owned(&good), TLS).unwrap() else {
            panic!("SSE-C expected");
        };
        assert_eq!(c.md5, good[2].1);
        // A customer key overrides the bucket's default; with the SSE-S3 header it conflicts.
        let mut both = good.clone();
        both.push((HEADER.into(), AES256.into()));
        let err = write_encryption(&bucket, &owned(&both), TLS).unwrap_err();
        assert_eq!(err.code, Code::InvalidArgument);
        // Each header's fault, with its name.
        let without = |i: usize| {
            let mut h = good.clone();
            h.remove(i);
            customer(&owned(&h), "", TLS).unwrap_err()
        };
        for i in 0..3 {
            let e = without(i);
            assert_eq!(e.code, Code::InvalidArgument, "{i}");
        }
        let with = |i: usize, value: &str| {
            let mut h = good.clone();
            h[i].1 = value.to_owned();
            customer(&owned(&h), "", TLS).unwrap_err().code
        };
        assert_eq!(with(0, "AES128"), Code::InvalidEncryptionAlgorithmError);
        assert_eq!(with(1, &STANDARD.encode([7u8; 16])), Code::InvalidArgument);
        assert_eq!(with(1, "not base64!"), Code::InvalidArgument);
        assert_eq!(with(2, &STANDARD.encode([0u8; 16])), Code::InvalidArgument);
        // Over plain HTTP: refused, unless configured.
        let plain = Transport {
            secure: false,
            allow_plain_http: false,
        };
        let e = customer(&owned(&good), "", plain).unwrap_err();
        assert_eq!(e.code, Code::InvalidRequest);
        assert!(e.message.contains("secure connection"), "{}", e.message);
        let allowed = Transport {
            secure: false,
            allow_plain_http: true,
        };
        assert!(customer(&owned(&good), "", allowed).unwrap().is_some());
        // The copy-source forms are read only under their prefix.
        let source = customer_headers(COPY_SOURCE, [8; 32]);
        assert!(customer(&owned(&source), "", TLS).unwrap().is_none());
        assert!(customer(&owned(&source), COPY_SOURCE, TLS)
            .unwrap()
            .is_some());
        assert!(customer(&owned(&good), COPY_SOURCE, TLS).unwrap().is_none());
        // Debug shows no key.
        assert_eq!(format!("{c:?}"), "Customer(..)");
    }

    #[test]
    fn answers_show_the_encryption_they_were_stored_with() {
        let show = |applied: &Applied| {
            let b = header_out(Response::builder(), applied);
            let h = b.headers_ref().unwrap().clone();
            let mut names: Vec<String> = h.keys().map(ToString::to_string).collect();
            names.sort();
            names
        };
        assert!(show(&Applied::None).is_empty());
        assert_eq!(show(&Applied::S3), [HEADER]);
        assert_eq!(
            show(&Applied::Customer("bWQ1".into())),
            [CUSTOMER_ALGORITHM, CUSTOMER_KEY_MD5]
        );
        assert_eq!(
            show(&Applied::Customer(String::new())),
            [CUSTOMER_ALGORITHM]
        );
    }
}
