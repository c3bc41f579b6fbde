//! IAM's error type: each variant is an AWS error code, rendered as the Query API's
//! `<ErrorResponse>` with `Type` Sender (the caller's mistake) or Receiver (ours).
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html>

use http::{header, HeaderValue, Response, StatusCode};

use crate::db::DbError;
use crate::http::{full, request_id, Body};
use crate::xml::escape;

pub const XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

#[derive(Debug, thiserror::Error)]
pub enum IamError {
    #[error("The requested operation is not implemented")]
    NotImplemented,
    #[error("The service is busy; please retry")]
    ServiceUnavailable,
    #[error("The request processing has failed because of an unknown error")]
    InternalFailure,
}

impl IamError {
    pub fn code(&self) -> &'static str {
        match self {
            IamError::NotImplemented => "NotImplemented",
            IamError::ServiceUnavailable => "ServiceUnavailable",
            IamError::InternalFailure => "InternalFailure",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            IamError::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            IamError::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            IamError::InternalFailure => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// `Sender` when the request itself is at fault, `Receiver` when the service is.
    pub fn fault(&self) -> &'static str {
        match self {
            IamError::NotImplemented | IamError::ServiceUnavailable | IamError::InternalFailure => {
                "Receiver"
            }
        }
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
