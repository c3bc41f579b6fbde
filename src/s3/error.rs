//! S3's errors: each `Code` is an AWS error code with its status, rendered as S3's XML
//! `<Error>`; HEAD responses carry the status and headers only. Lower-layer failures become
//! `InternalError` unless a handler chooses a specific code.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Arc;

use http::{header, HeaderValue, Method, Response, StatusCode};

use crate::db::DbError;
use crate::http::{empty, full, request_id, Body};
use crate::objects::IndexError;
use crate::xml::escape;

macro_rules! codes {
    ($($code:ident => $status:expr, $message:expr;)*) => {
        /// An S3 error code, named exactly as AWS names it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code { $($code),* }

        impl Code {
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$code => stringify!($code)),* }
            }

            pub fn status(self) -> StatusCode {
                match self { $(Code::$code => $status),* }
            }

            fn default_message(self) -> &'static str {
                match self { $(Code::$code => $message),* }
            }
        }
    };
}

codes! {
    AccessControlListNotSupported => StatusCode::BAD_REQUEST, "The bucket does not allow ACLs";
    AccessDenied => StatusCode::FORBIDDEN, "Access Denied";
    // A CORS preflight refused (S3's code; its error table does not list it).
    AccessForbidden => StatusCode::FORBIDDEN, "CORSResponse: This CORS request is not allowed.";
    AuthorizationHeaderMalformed => StatusCode::BAD_REQUEST, "The authorization header is malformed.";
    AuthorizationQueryParametersError => StatusCode::BAD_REQUEST, "The query-string authentication parameters are malformed.";
    BadRequest => StatusCode::BAD_REQUEST, "Bad Request";
    BadDigest => StatusCode::BAD_REQUEST, "The Content-MD5 or checksum you specified did not match what we received.";
    BucketAlreadyExists => StatusCode::CONFLICT, "The requested bucket name is not available.";
    BucketAlreadyOwnedByYou => StatusCode::CONFLICT, "Your previous request to create the named bucket succeeded and you already own it.";
    BucketNotEmpty => StatusCode::CONFLICT, "The bucket you tried to delete is not empty";
    ExpiredToken => StatusCode::BAD_REQUEST, "The provided token has expired.";
    EntityTooLarge => StatusCode::BAD_REQUEST, "Your proposed upload exceeds the maximum allowed size";
    EntityTooSmall => StatusCode::BAD_REQUEST, "Your proposed upload is smaller than the minimum allowed object size.";
    IncompleteBody => StatusCode::BAD_REQUEST, "You did not provide the number of bytes specified by the Content-Length HTTP header.";
    InternalError => StatusCode::INTERNAL_SERVER_ERROR, "We encountered an internal error. Please try again.";
    InvalidAccessKeyId => StatusCode::FORBIDDEN, "The AWS Access Key Id you provided does not exist in our records.";
    InvalidArgument => StatusCode::BAD_REQUEST, "Invalid Argument";
    InvalidBucketAclWithObjectOwnership => StatusCode::BAD_REQUEST, "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting";
    InvalidBucketName => StatusCode::BAD_REQUEST, "The specified bucket is not valid.";
    InvalidBucketState => StatusCode::CONFLICT, "The request is not valid with the current state of the bucket.";
    InvalidDigest => StatusCode::BAD_REQUEST, "The Content-MD5 you specified is not valid.";
    InvalidEncryptionAlgorithmError => StatusCode::BAD_REQUEST, "The encryption request you specified is not valid. The valid value is AES256.";
    InvalidLocationConstraint => StatusCode::BAD_REQUEST, "The specified location-constraint is not valid";
    InvalidPart => StatusCode::BAD_REQUEST, "One or more of the specified parts could not be found.";
    InvalidPolicyDocument => StatusCode::BAD_REQUEST, "The content of the form does not meet the conditions specified in the policy document.";
    IncorrectNumberOfFilesInPostRequest => StatusCode::BAD_REQUEST, "POST requires exactly one file upload per request.";
    InvalidPartNumber => StatusCode::RANGE_NOT_SATISFIABLE, "The requested partnumber is not satisfiable";
    InvalidPartOrder => StatusCode::BAD_REQUEST, "The list of parts was not in ascending order. Parts must be ordered by part number.";
    InvalidRange => StatusCode::RANGE_NOT_SATISFIABLE, "The requested range is not satisfiable";
    InvalidRedirectLocation => StatusCode::BAD_REQUEST, "The website redirect location must have a prefix of 'http://' or 'https://' or '/'.";
    InvalidRequest => StatusCode::BAD_REQUEST, "Invalid Request";
    InvalidTag => StatusCode::BAD_REQUEST, "The tag provided was not a valid tag.";
    InvalidStorageClass => StatusCode::BAD_REQUEST, "The storage class you specified is not valid";
    InvalidToken => StatusCode::BAD_REQUEST, "The provided token is malformed or otherwise invalid.";
    KeyTooLongError => StatusCode::BAD_REQUEST, "Your key is too long";
    MalformedACLError => StatusCode::BAD_REQUEST, "The XML you provided was not well-formed or did not validate against our published schema";
    MalformedPOSTRequest => StatusCode::BAD_REQUEST, "The body of your POST request is not well-formed multipart/form-data.";
    MaxPostPreDataLengthExceededError => StatusCode::BAD_REQUEST, "Your POST request fields preceding the upload file were too large.";
    MalformedPolicy => StatusCode::BAD_REQUEST, "Policies must be valid JSON and the first byte must be '{'";
    MalformedTrailerError => StatusCode::BAD_REQUEST, "The request contained trailing data that was not well-formed or did not conform to our published schema.";
    MalformedXML => StatusCode::BAD_REQUEST, "The XML you provided was not well-formed or did not validate against our published schema";
    MetadataTooLarge => StatusCode::BAD_REQUEST, "Your metadata headers exceed the maximum allowed metadata size";
    MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED, "The specified method is not allowed against this resource.";
    MissingContentLength => StatusCode::LENGTH_REQUIRED, "You must provide the Content-Length HTTP header.";
    MissingSecurityHeader => StatusCode::BAD_REQUEST, "Your request was missing a required header";
    NoSuchBucket => StatusCode::NOT_FOUND, "The specified bucket does not exist";
    NoSuchBucketPolicy => StatusCode::NOT_FOUND, "The bucket policy does not exist";
    NoSuchCORSConfiguration => StatusCode::NOT_FOUND, "The CORS configuration does not exist";
    NoSuchConfiguration => StatusCode::NOT_FOUND, "The specified configuration does not exist.";
    NoSuchKey => StatusCode::NOT_FOUND, "The specified key does not exist.";
    NoSuchObjectLockConfiguration => StatusCode::NOT_FOUND, "The specified object does not have a ObjectLock configuration";
    NoSuchLifecycleConfiguration => StatusCode::NOT_FOUND, "The lifecycle configuration does not exist";
    NoSuchVersion => StatusCode::NOT_FOUND, "The specified version does not exist.";
    NoSuchTagSet => StatusCode::NOT_FOUND, "The TagSet does not exist";
    NoSuchPublicAccessBlockConfiguration => StatusCode::NOT_FOUND, "The public access block configuration was not found";
    NoSuchUpload => StatusCode::NOT_FOUND, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.";
    NoSuchWebsiteConfiguration => StatusCode::NOT_FOUND, "The specified bucket does not have a website configuration";
    NotImplemented => StatusCode::NOT_IMPLEMENTED, "A header or operation you provided implies functionality that is not implemented";
    NotModified => StatusCode::NOT_MODIFIED, "Not Modified";
    OwnershipControlsNotFoundError => StatusCode::NOT_FOUND, "The bucket ownership controls were not found";
    ObjectLockConfigurationNotFoundError => StatusCode::NOT_FOUND, "Object Lock configuration does not exist for this bucket";
    PolicyTooLarge => StatusCode::BAD_REQUEST, "Policy exceeds the maximum allowed document size.";
    PreconditionFailed => StatusCode::PRECONDITION_FAILED, "At least one of the pre-conditions you specified did not hold";
    ReplicationConfigurationNotFoundError => StatusCode::NOT_FOUND, "The replication configuration was not found";
    RequestTimeout => StatusCode::BAD_REQUEST, "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.";
    RequestTimeTooSkewed => StatusCode::FORBIDDEN, "The difference between the request time and the current time is too large.";
    SignatureDoesNotMatch => StatusCode::FORBIDDEN, "The request signature we calculated does not match the signature you provided. Check your key and signing method.";
    ServerSideEncryptionConfigurationNotFoundError => StatusCode::NOT_FOUND, "The server side encryption configuration was not found";
    SlowDown => StatusCode::SERVICE_UNAVAILABLE, "Please reduce your request rate.";
    UnexpectedContent => StatusCode::BAD_REQUEST, "This request does not support content";
    UnresolvableGrantByEmailAddress => StatusCode::BAD_REQUEST, "The email address you provided does not match any account on record.";
    XAmzContentSHA256Mismatch => StatusCode::BAD_REQUEST, "The provided 'x-amz-content-sha256' header does not match what was computed.";
}

/// An S3 error: its code and the message shown to the client, the elements S3 adds after
/// the message for some codes (`<TagKey>` of `InvalidTag`, `<ActualPartCount>` of
/// `InvalidPartNumber`…), and for the server's own failures the cause, which is logged
/// (once, by the request skeleton) and never shown.
#[derive(Debug, Clone)]
pub struct S3Error {
    pub code: Code,
    pub message: Cow<'static, str>,
    /// Extra elements of the `<Error>` body, in order: (element name, text).
    pub details: Vec<(&'static str, String)>,
    cause: Option<Arc<Cause>>,
    /// Headers the error response carries besides its own (`x-amz-delete-marker` on a 404
    /// for a deleted key).
    headers: Vec<(&'static str, String)>,
}

/// What went wrong inside the server: what it was doing, and the lower layer's error.
#[derive(Debug)]
pub struct Cause(String);

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Cause {}

pub type S3Result<T> = Result<T, S3Error>;

impl std::fmt::Display for S3Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for S3Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|c| c as &(dyn std::error::Error + 'static))
    }
}

impl From<Code> for S3Error {
    fn from(code: Code) -> S3Error {
        S3Error {
            code,
            message: Cow::Borrowed(code.default_message()),
            details: Vec::new(),
            cause: None,
            headers: Vec::new(),
        }
    }
}

impl S3Error {
    pub fn new(code: Code, message: impl Into<Cow<'static, str>>) -> S3Error {
        S3Error {
            code,
            message: message.into(),
            details: Vec::new(),
            cause: None,
            headers: Vec::new(),
        }
    }

    /// The error with one more element in its body, after the message and those added
    /// before (`name` is an element name S3 uses for this code; `value` is escaped).
    #[must_use]
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> S3Error {
        self.details.push((name, value.into()));
        self
    }

    pub fn code(&self) -> &'static str {
        self.code.as_str()
    }

    /// The error with one more response header.
    #[must_use]
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> S3Error {
        self.headers.push((name, value.into()));
        self
    }

    /// The error's extra response headers.
    pub fn headers(&self) -> &[(&'static str, String)] {
        &self.headers
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// An unexpected failure: shown as InternalError, its cause kept for the log.
    pub fn internal(context: &str, cause: impl std::fmt::Display) -> S3Error {
        S3Error {
            cause: Some(Arc::new(Cause(format!("{context}: {cause}")))),
            ..S3Error::from(Code::InternalError)
        }
    }

    /// The response for a request on `resource`; `method` decides whether a body is allowed.
    pub fn render(&self, method: &Method, resource: &str, request_id: &str) -> Response<Body> {
        let no_body = *method == Method::HEAD || self.code == Code::NotModified;
        let body = if no_body {
            empty()
        } else {
            let mut details = String::new();
            for (name, value) in &self.details {
                let _ = write!(details, "<{name}>{}</{name}>", escape(value));
            }
            full(format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>\
                 {details}<Resource>{}</Resource><RequestId>{}</RequestId></Error>",
                self.code(),
                escape(&self.message),
                escape(resource),
                request_id
            ))
        };
        let mut response = Response::new(body);
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        if !no_body {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/xml"),
            );
        }
        if let Ok(id) = HeaderValue::from_str(request_id) {
            headers.insert(request_id::S3_HEADER, id);
        }
        for (name, value) in &self.headers {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(*name, value);
            }
        }
        response
    }
}

impl From<DbError> for S3Error {
    fn from(e: DbError) -> S3Error {
        match e {
            e if e.is_unavailable() => S3Error::from(Code::SlowDown),
            e if e.is_storage_full() => storage_full(e),
            e => S3Error::internal("database error", e),
        }
    }
}

impl From<IndexError> for S3Error {
    fn from(e: IndexError) -> S3Error {
        match e {
            IndexError::NoSuchBucket => Code::NoSuchBucket.into(),
            IndexError::BucketExists => Code::BucketAlreadyOwnedByYou.into(),
            IndexError::BucketNotEmpty => Code::BucketNotEmpty.into(),
            IndexError::NoSuchKey => Code::NoSuchKey.into(),
            IndexError::NoSuchVersion => Code::NoSuchVersion.into(),
            // The key's newest version is a delete marker: 404, saying so. A marker named by
            // its id: 405, as S3 answers a GET or HEAD of one.
            IndexError::DeleteMarker { version_id, named } => {
                let code = if named {
                    Code::MethodNotAllowed
                } else {
                    Code::NoSuchKey
                };
                S3Error::from(code)
                    .with_header("x-amz-delete-marker", "true")
                    .with_header("x-amz-version-id", version_id)
            }
            IndexError::ObjectLocked => S3Error::new(
                Code::AccessDenied,
                "Access Denied because object protected by object lock.",
            ),
            IndexError::VersioningNotEnabled => S3Error::new(
                Code::InvalidBucketState,
                "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
            ),
            IndexError::ObjectLockPresent => S3Error::new(
                Code::InvalidBucketState,
                "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.",
            ),
            IndexError::NoSuchUpload => Code::NoSuchUpload.into(),
            IndexError::PreconditionFailed => Code::PreconditionFailed.into(),
            IndexError::InvalidPart(m) => S3Error::new(Code::InvalidPart, m),
            IndexError::InvalidPartOrder => Code::InvalidPartOrder.into(),
            IndexError::EntityTooSmall => Code::EntityTooSmall.into(),
            IndexError::EntityTooLarge => Code::EntityTooLarge.into(),
            // The server lost the bytes: its fault, a 500 as S3 answers its own failures;
            // said plainly, since a retry will not help until the object is restored.
            IndexError::Damaged => S3Error {
                cause: Some(Arc::new(Cause(
                    "a scrub found the version's stored bytes corrupt or missing".into(),
                ))),
                ..S3Error::new(
                    Code::InternalError,
                    "We encountered an internal error: the object's stored data is damaged and is not served. Restore the object from a copy.",
                )
            },
            IndexError::Db(e) => e.into(),
        }
    }
}

impl From<std::io::Error> for S3Error {
    fn from(e: std::io::Error) -> S3Error {
        if crate::storage::is_storage_full(&e) {
            return storage_full(e);
        }
        S3Error::internal("object storage I/O failed", e)
    }
}

/// What a write refused for space says: the cause, and that it clears (503: SDKs retry).
const STORAGE_LOW: &str = "Please reduce your request rate. The server is short of storage space: writes are refused until space is freed; reads and deletes still work.";

/// A write refused below `backend.s3.min_free_bytes`: 503 SlowDown naming the cause.
pub fn storage_low(low: crate::storage::Low) -> S3Error {
    S3Error {
        cause: Some(Arc::new(Cause(format!(
            "the data volume has {} bytes free, below backend.s3.min_free_bytes ({})",
            low.free, low.floor
        )))),
        ..S3Error::new(Code::SlowDown, STORAGE_LOW)
    }
}

/// A write that met a full volume (ENOSPC, SQLITE_FULL) and left nothing behind: 503
/// SlowDown naming the cause, never a 500.
fn storage_full(cause: impl std::fmt::Display) -> S3Error {
    S3Error {
        cause: Some(Arc::new(Cause(format!("the data volume is full: {cause}")))),
        ..S3Error::new(Code::SlowDown, STORAGE_LOW)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Extra elements follow the message, escaped, in the order they were added; HEAD still
    /// gets no body.
    async fn body_text(response: Response<Body>) -> String {
        use http_body_util::BodyExt;
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn extra_elements_follow_the_message() {
        let e = S3Error::new(
            Code::InvalidTag,
            "The TagValue you have provided is invalid",
        )
        .with("TagKey", "key")
        .with("TagValue", "inv&alid");
        let response = e.render(&Method::PUT, "/b?tagging", "0123456789ABCDEF");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body = body_text(response).await;
        assert!(
            body.contains(
                "<Code>InvalidTag</Code><Message>The TagValue you have provided is invalid\
                 </Message><TagKey>key</TagKey><TagValue>inv&amp;alid</TagValue>\
                 <Resource>/b?tagging</Resource>"
            ),
            "{body}"
        );
        let head = e.render(&Method::HEAD, "/b", "0123456789ABCDEF");
        assert_eq!(body_text(head).await, "");
    }

    /// A full volume, met by a blob write (ENOSPC) or by SQLite (SQLITE_FULL), is a 503
    /// SlowDown naming the cause, not a 500; other I/O failures stay internal errors. Damage
    /// a scrub found is a 500 that says so.
    #[test]
    fn a_full_volume_is_503_and_damage_is_500() {
        let enospc = S3Error::from(std::io::Error::from_raw_os_error(libc::ENOSPC));
        assert_eq!(
            (enospc.code, enospc.status().as_u16()),
            (Code::SlowDown, 503)
        );
        assert!(enospc.message.contains("short of storage space"));
        let full = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        );
        let sqlite = S3Error::from(DbError::from(full));
        assert_eq!(sqlite.code, Code::SlowDown);
        let eio = S3Error::from(std::io::Error::from_raw_os_error(libc::EIO));
        assert_eq!(eio.code, Code::InternalError);
        let damaged = S3Error::from(IndexError::Damaged);
        assert_eq!(
            (damaged.code, damaged.status().as_u16()),
            (Code::InternalError, 500)
        );
        assert!(damaged.message.contains("damaged"));
    }
}
