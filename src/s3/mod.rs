//! The S3 listener. Until the S3 API lands, every request is answered with S3's
//! `NotImplemented` error, in S3's XML shape and with its request id header.

pub mod checksum;
pub mod error;

use http::{Request, Response};

use crate::http::{request_id, Body};
use crate::state::State;
use error::S3Error;

pub async fn handle<B>(_state: State, req: Request<B>) -> Response<Body> {
    let id = request_id::s3();
    let error = S3Error::NotImplemented;
    tracing::info!(request_id = %id, method = %req.method(), path = req.uri().path(), code = error.code(), "s3 request refused");
    error.render(req.uri().path(), &id)
}
