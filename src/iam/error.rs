//! IAM's error type: each variant is an AWS error code, rendered as the Query API's
//! `<ErrorResponse>` with `Type` Sender (the caller's mistake) or Receiver (ours).
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html>

use http::{header, HeaderValue, Response, StatusCode};

use crate::db::DbError;
use crate::http::{full, request_id, Body};
use crate::iam_store::StoreError;
use crate::xml::escape;

pub const XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

#[derive(Debug, thiserror::Error)]
pub enum IamError {
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    IncompleteSignature(String),
    #[error("The security token included in the request is invalid.")]
    InvalidClientTokenId,
    #[error("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")]
    SignatureDoesNotMatch,
    #[error("Request is missing Authentication Token")]
    MissingAuthenticationToken,
    #[error("{0}")]
    RequestExpired(String),
    #[error("Could not find operation {0} for version 2010-05-08")]
    InvalidAction(String),
    #[error("The request is missing an action or a required parameter.")]
    MissingAction,
    #[error("{0}")]
    ValidationError(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    MalformedPolicyDocument(String),
    #[error("{0}")]
    EntityAlreadyExists(String),
    #[error("{0}")]
    NoSuchEntity(String),
    #[error("{0}")]
    DeleteConflict(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("The request body is larger than {0} bytes.")]
    RequestEntityTooLarge(usize),
    /// The client stopped sending its body. Not in IAM's list of common errors (IAM has no
    /// code for it); S3's code, which AWS SDKs classify as transient and retry.
    #[error("Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.")]
    RequestTimeout,
    #[error("The requested operation is not implemented")]
    NotImplemented,
    #[error("The service is busy; please retry")]
    ServiceUnavailable,
    #[error("The request processing has failed because of an unknown error")]
    InternalFailure,
}

impl IamError {
    pub fn code(&self) -> &'static str {
        use IamError::*;
        match self {
            AccessDenied(_) => "AccessDenied",
            IncompleteSignature(_) => "IncompleteSignature",
            InvalidClientTokenId => "InvalidClientTokenId",
            SignatureDoesNotMatch => "SignatureDoesNotMatch",
            MissingAuthenticationToken => "MissingAuthenticationToken",
            RequestExpired(_) => "RequestExpired",
            InvalidAction(_) => "InvalidAction",
            MissingAction => "MissingAction",
            ValidationError(_) => "ValidationError",
            InvalidInput(_) => "InvalidInput",
            MalformedPolicyDocument(_) => "MalformedPolicyDocument",
            EntityAlreadyExists(_) => "EntityAlreadyExists",
            NoSuchEntity(_) => "NoSuchEntity",
            DeleteConflict(_) => "DeleteConflict",
            LimitExceeded(_) => "LimitExceeded",
            RequestEntityTooLarge(_) => "RequestEntityTooLarge",
            RequestTimeout => "RequestTimeout",
            NotImplemented => "NotImplemented",
            ServiceUnavailable => "ServiceUnavailable",
            InternalFailure => "InternalFailure",
        }
    }

    pub fn status(&self) -> StatusCode {
        use IamError::*;
        match self {
            AccessDenied(_)
            | InvalidClientTokenId
            | SignatureDoesNotMatch
            | MissingAuthenticationToken => StatusCode::FORBIDDEN,
            IncompleteSignature(_)
            | RequestExpired(_)
            | InvalidAction(_)
            | MissingAction
            | ValidationError(_)
            | InvalidInput(_)
            | MalformedPolicyDocument(_)
            | RequestTimeout => StatusCode::BAD_REQUEST,
            NoSuchEntity(_) => StatusCode::NOT_FOUND,
            EntityAlreadyExists(_) | DeleteConflict(_) | LimitExceeded(_) => StatusCode::CONFLICT,
            RequestEntityTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            NotImplemented => StatusCode::NOT_IMPLEMENTED,
            ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            InternalFailure => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Whether the service failed (`InternalFailure`, `ServiceUnavailable`), as opposed to
    /// refusing a request it understood or could not serve (`NotImplemented` is a 501 about
    /// the request, not a failure). Decides the log level, by kind rather than by status.
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            IamError::InternalFailure | IamError::ServiceUnavailable
        )
    }

    /// `Sender` when the request itself is at fault, `Receiver` when the service is.
    pub fn fault(&self) -> &'static str {
        if self.status().is_server_error() {
            "Receiver"
        } else {
            "Sender"
        }
    }

    /// A `ValidationError` in AWS's wording for a parameter that breaks a constraint.
    pub fn invalid(value: &str, field: &str, constraint: &str) -> IamError {
        IamError::ValidationError(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
        ))
    }

    /// A `ValidationError` for a required parameter that is absent.
    pub fn missing(field: &str) -> IamError {
        IamError::ValidationError(format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
        ))
    }

    pub fn render(&self, request_id: &str) -> Response<Body> {
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>{}</Type>\
             <Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            self.fault(),
            self.code(),
            escape(&self.to_string()),
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
            DbError::Busy { .. } => IamError::ServiceUnavailable,
            e => {
                tracing::error!(error = %e, "database error");
                IamError::InternalFailure
            }
        }
    }
}

impl From<StoreError> for IamError {
    fn from(e: StoreError) -> IamError {
        match e {
            StoreError::NoSuchEntity(m) => IamError::NoSuchEntity(m),
            StoreError::AlreadyExists(m) => IamError::EntityAlreadyExists(m),
            StoreError::DeleteConflict(m) => IamError::DeleteConflict(m),
            StoreError::LimitExceeded(m) => IamError::LimitExceeded(m),
            StoreError::InvalidInput(m) => IamError::InvalidInput(m),
            StoreError::MalformedPolicy(m) => IamError::MalformedPolicyDocument(m),
            StoreError::Db(e) => IamError::from(e),
        }
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
            IamError::NotImplemented,
            IamError::RequestEntityTooLarge(1),
            IamError::AccessDenied("x".into()),
            IamError::ValidationError("x".into()),
            IamError::InvalidInput("x".into()),
            IamError::NoSuchEntity("x".into()),
            IamError::MissingAction,
        ];
        for e in &refusals {
            assert!(!e.is_internal(), "{e:?}");
        }
        assert!(IamError::NotImplemented.status().is_server_error());
        assert!(IamError::InternalFailure.is_internal());
        assert!(IamError::ServiceUnavailable.is_internal());
    }
}
