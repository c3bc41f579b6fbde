//! IAM's errors: each `Code` is an AWS error code with its status, its `Type` (Sender: the
//! caller's mistake; Receiver: ours) and its default message where AWS has one, rendered as
//! the Query API's `<ErrorResponse>`. Adding a code is one row of `codes!`. Lower-layer
//! failures become `InternalFailure` (or `ServiceUnavailable` when the database is busy),
//! carrying their cause as `source` for the one log line the request skeleton (`api::serve`) writes; the cause is
//! never shown to the client.
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html>

use std::borrow::Cow;
use std::error::Error;
use std::fmt;

use http::{header, HeaderValue, Response, StatusCode};

use crate::db::DbError;
use crate::http::{full, request_id, Body};
use crate::iam_store::StoreError;
use crate::xml::escape;

pub const XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// Who is at fault, as `<Type>` tells the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Sender,
    Receiver,
}

impl Fault {
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Sender => "Sender",
            Fault::Receiver => "Receiver",
        }
    }
}

macro_rules! codes {
    ($($code:ident => $status:ident, $fault:ident $(, $message:literal)?;)*) => {
        /// An IAM error code, named exactly as AWS names it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code { $($code),* }

        impl Code {
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$code => stringify!($code)),* }
            }

            pub fn status(self) -> StatusCode {
                match self { $(Code::$code => StatusCode::$status),* }
            }

            pub fn fault(self) -> Fault {
                match self { $(Code::$code => Fault::$fault),* }
            }

            /// The message AWS sends when it has nothing to add; `None` for the codes whose
            /// message always says what was wrong (made with `IamError::new`).
            pub fn default_message(self) -> Option<&'static str> {
                match self { $(Code::$code => codes!(@message $($message)?)),* }
            }

            #[cfg(test)]
            const ALL: &[Code] = &[$(Code::$code),*];
        }
    };
    (@message) => { None };
    (@message $message:literal) => { Some($message) };
}

codes! {
    AccessDenied => FORBIDDEN, Sender;
    DeleteConflict => CONFLICT, Sender;
    EntityAlreadyExists => CONFLICT, Sender;
    ExpiredToken => FORBIDDEN, Sender, "The security token included in the request is expired";
    // STS: an OIDC token past its expiry (AssumeRoleWithWebIdentity).
    ExpiredTokenException => BAD_REQUEST, Sender;
    // STS: the identity provider's keys could not be fetched.
    IDPCommunicationError => BAD_REQUEST, Sender;
    IDPRejectedClaim => FORBIDDEN, Sender;
    IncompleteSignature => BAD_REQUEST, Sender;
    InternalFailure => INTERNAL_SERVER_ERROR, Receiver, "The request processing has failed because of an unknown error";
    InvalidAction => BAD_REQUEST, Sender;
    InvalidIdentityToken => BAD_REQUEST, Sender;
    InvalidParameterValue => BAD_REQUEST, Sender;
    InvalidClientTokenId => FORBIDDEN, Sender, "The security token included in the request is invalid.";
    InvalidInput => BAD_REQUEST, Sender;
    LimitExceeded => CONFLICT, Sender;
    MalformedPolicyDocument => BAD_REQUEST, Sender;
    MissingAction => BAD_REQUEST, Sender, "The request is missing an action or a required parameter.";
    MissingAuthenticationToken => FORBIDDEN, Sender, "Request is missing Authentication Token";
    NoSuchEntity => NOT_FOUND, Sender;
    NotImplemented => NOT_IMPLEMENTED, Receiver, "The requested operation is not implemented";
    // STS: the session policies and tags, packed, are over AWS's limit.
    PackedPolicyTooLarge => BAD_REQUEST, Sender;
    RequestEntityTooLarge => PAYLOAD_TOO_LARGE, Sender;
    RequestExpired => BAD_REQUEST, Sender;
    // Not in IAM's list of common errors (IAM has no code for a stalled body): S3's code,
    // which AWS SDKs classify as transient and retry.
    RequestTimeout => BAD_REQUEST, Sender, "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.";
    ServiceUnavailable => SERVICE_UNAVAILABLE, Receiver, "The service is busy; please retry";
    SignatureDoesNotMatch => FORBIDDEN, Sender, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
    ValidationError => BAD_REQUEST, Sender;
}

/// What a lower layer failed with, kept for the log.
type Cause = Box<dyn Error + Send + Sync + 'static>;

/// An IAM error: its code, the message shown to the client, and the cause underneath, if any.
#[derive(Debug)]
pub struct IamError {
    pub code: Code,
    pub message: Cow<'static, str>,
    source: Option<Cause>,
}

impl fmt::Display for IamError {
    /// The message, as the client reads it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for IamError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

impl From<Code> for IamError {
    /// The code with its default message (its name, for a code that has none).
    fn from(code: Code) -> IamError {
        IamError::new(code, code.default_message().unwrap_or(code.as_str()))
    }
}

impl IamError {
    pub fn new(code: Code, message: impl Into<Cow<'static, str>>) -> IamError {
        IamError {
            code,
            message: message.into(),
            source: None,
        }
    }

    /// An unexpected failure: `InternalFailure`, with `cause` for the log.
    pub fn internal(cause: impl Into<Cause>) -> IamError {
        IamError::from(Code::InternalFailure).caused_by(cause)
    }

    /// The same error, remembering what caused it (logged, never shown).
    #[must_use]
    pub fn caused_by(mut self, cause: impl Into<Cause>) -> IamError {
        self.source = Some(cause.into());
        self
    }

    pub fn code(&self) -> &'static str {
        self.code.as_str()
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// `Sender` when the request itself is at fault, `Receiver` when the service is.
    pub fn fault(&self) -> &'static str {
        self.code.fault().as_str()
    }

    /// Whether the service failed (`InternalFailure`, `ServiceUnavailable`), as opposed to
    /// refusing a request it understood or could not serve (`NotImplemented` is a 501 about
    /// the request, not a failure). Decides the log level, by kind rather than by status.
    pub fn is_internal(&self) -> bool {
        matches!(self.code, Code::InternalFailure | Code::ServiceUnavailable)
    }

    /// The chain of causes underneath, `: `-separated, for the log; `None` without one.
    pub fn cause(&self) -> Option<String> {
        crate::api::cause_chain(self)
    }

    /// A `ValidationError` in AWS's wording for a parameter that breaks a constraint.
    pub fn invalid(value: &str, field: &str, constraint: &str) -> IamError {
        IamError::new(
            Code::ValidationError,
            format!(
                "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
            ),
        )
    }

    /// A `ValidationError` for a required parameter that is absent.
    pub fn missing(field: &str) -> IamError {
        IamError::new(
            Code::ValidationError,
            format!(
                "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
            ),
        )
    }

    pub fn render(&self, request_id: &str) -> Response<Body> {
        self.render_in(XMLNS, request_id)
    }

    /// The `<ErrorResponse>` in the namespace of `xmlns`'s service (IAM's or STS's).
    pub fn render_in(&self, xmlns: &str, request_id: &str) -> Response<Body> {
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse xmlns=\"{xmlns}\"><Error><Type>{}</Type>\
             <Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            self.fault(),
            self.code(),
            escape(&self.message),
            request_id
        );
        let mut response = Response::new(full(xml));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
        if let Ok(id) = HeaderValue::from_str(request_id) {
            headers.insert(request_id::IAM_HEADER, id);
        }
        response
    }
}

impl From<DbError> for IamError {
    fn from(e: DbError) -> IamError {
        match e {
            e if e.is_unavailable() => IamError::from(Code::ServiceUnavailable).caused_by(e),
            e => IamError::internal(e),
        }
    }
}

impl From<StoreError> for IamError {
    fn from(e: StoreError) -> IamError {
        let code = match e {
            StoreError::NoSuchEntity(_) => Code::NoSuchEntity,
            StoreError::AlreadyExists(_) => Code::EntityAlreadyExists,
            StoreError::DeleteConflict(_) => Code::DeleteConflict,
            StoreError::LimitExceeded(_) => Code::LimitExceeded,
            StoreError::InvalidInput(_) => Code::InvalidInput,
            StoreError::MalformedPolicy(_) => Code::MalformedPolicyDocument,
            StoreError::Db(e) => return IamError::from(e),
        };
        IamError::new(code, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only the service's own failures are internal; every refusal, whatever its status, is
    /// the request's (a client's mistake must not page anyone).
    #[test]
    fn only_service_failures_are_internal() {
        let refusals = [
            IamError::from(Code::NotImplemented),
            IamError::new(Code::RequestEntityTooLarge, "x"),
            IamError::new(Code::AccessDenied, "x"),
            IamError::new(Code::ValidationError, "x"),
            IamError::new(Code::InvalidInput, "x"),
            IamError::new(Code::NoSuchEntity, "x"),
            IamError::from(Code::MissingAction),
        ];
        for e in &refusals {
            assert!(!e.is_internal(), "{e:?}");
        }
        assert!(IamError::from(Code::NotImplemented)
            .status()
            .is_server_error());
        assert!(IamError::from(Code::InternalFailure).is_internal());
        assert!(IamError::from(Code::ServiceUnavailable).is_internal());
    }

    /// The type follows the status (5xx: ours), as AWS's documentation lists them; a code's
    /// string is its name.
    #[test]
    fn every_code_has_its_type_and_name() {
        for &code in Code::ALL {
            let fault = match code.status().is_server_error() {
                true => Fault::Receiver,
                false => Fault::Sender,
            };
            assert_eq!(code.fault(), fault, "{code:?}");
            assert_eq!(format!("{code:?}"), code.as_str());
        }
    }

    /// An internal failure keeps its cause chain for the log, and shows none of it.
    #[test]
    fn internal_failures_keep_their_cause() {
        let sqlite = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR),
            Some("disk I/O error on iam.db".into()),
        );
        let e = IamError::from(StoreError::Db(DbError::from(sqlite)));
        assert_eq!(e.code, Code::InternalFailure);
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(e.source().is_some());
        assert!(e.cause().unwrap().contains("disk I/O error on iam.db"));
        assert_eq!(
            e.to_string(),
            "The request processing has failed because of an unknown error"
        );
        let busy = IamError::from(DbError::Busy {
            db: "iam",
            waited_ms: 5,
        });
        assert_eq!(busy.code, Code::ServiceUnavailable);
        assert!(busy.cause().unwrap().contains("database iam is busy"));
        // A refusal the store words stays as worded, with no cause.
        let refusal = IamError::from(StoreError::NoSuchEntity(
            "The user with name x cannot be found.".into(),
        ));
        assert_eq!(refusal.code, Code::NoSuchEntity);
        assert_eq!(refusal.message, "The user with name x cannot be found.");
        assert!(refusal.cause().is_none());
    }
}
