//! The IAM listener. Until the IAM API lands, every request is answered with IAM's
//! `NotImplemented` error, in the Query API's XML shape and with its request id header.

pub mod error;

use http::{Request, Response};

use crate::http::{request_id, Body};
use crate::state::State;
use error::IamError;

pub async fn handle<B>(_state: State, req: Request<B>) -> Response<Body> {
    let id = request_id::iam();
    let error = IamError::NotImplemented;
    tracing::info!(request_id = %id, method = %req.method(), code = error.code(), "iam request refused");
    error.render(&id)
}
