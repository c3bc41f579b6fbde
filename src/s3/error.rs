//! S3's error type: each variant is an AWS error code, rendered as S3's XML `<Error>`.
//! Lower-layer failures become `InternalError` unless a handler chooses a specific code.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>

use http::{header, HeaderValue, Response, StatusCode};

use crate::db::DbError;
use crate::http::{full, request_id, Body};
use crate::xml::escape;

#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("A header or operation you provided implies functionality that is not implemented")]
    NotImplemented,
    #[error("Please reduce your request rate.")]
    SlowDown,
    #[error("We encountered an internal error. Please try again.")]
    InternalError,
}

impl S3Error {
    pub fn code(&self) -> &'static str {
        match self {
            S3Error::NotImplemented => "NotImplemented",
            S3Error::SlowDown => "SlowDown",
            S3Error::InternalError => "InternalError",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            S3Error::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            S3Error::SlowDown => StatusCode::SERVICE_UNAVAILABLE,
            S3Error::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The XML error response for a request on `resource` (the request path).
    pub fn render(&self, resource: &str, request_id: &str) -> Response<Body> {
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>\
             <Resource>{}</Resource><RequestId>{}</RequestId></Error>",
            self.code(),
            escape(&self.to_string()),
            escape(resource),
            request_id
        );
        let mut response = Response::new(full(xml));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        );
        if let Ok(id) = HeaderValue::from_str(request_id) {
            headers.insert(request_id::S3_HEADER, id);
        }
        response
    }
}

impl From<DbError> for S3Error {
    fn from(e: DbError) -> S3Error {
        match e {
            DbError::Busy { .. } => S3Error::SlowDown,
            e => {
                tracing::error!(error = %e, "database error");
                S3Error::InternalError
            }
        }
    }
}
