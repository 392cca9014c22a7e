//! The errors the API answers, as the OpenAPI description names them: one
//! body (`{"error": …}`) and the statuses of reads and of state changes.

use utoipa::{IntoResponses, ToSchema};

/// The body of every error the API answers.
#[derive(ToSchema)]
pub struct ApiError {
    /// What went wrong, for a person to read.
    pub error: String,
}

/// What any operation may answer besides its success.
#[derive(IntoResponses)]
pub enum ReadErrors {
    /// The request could not be read (a path or query that is not UTF-8).
    #[response(status = 400)]
    BadRequest(#[to_schema] ApiError),
    /// Bad input: an unknown scope, tenant or filter, or a value with
    /// control characters.
    #[response(status = 422)]
    Unprocessable(#[to_schema] ApiError),
    /// No operator session.
    #[response(status = 401)]
    Unauthorized(#[to_schema] ApiError),
    /// The operator does not hold the capability the operation needs.
    #[response(status = 403)]
    Forbidden(#[to_schema] ApiError),
    /// No such runbook or run.
    #[response(status = 404)]
    NotFound(#[to_schema] ApiError),
    /// Something failed on the server; the detail is in its log.
    #[response(status = 500)]
    Internal(#[to_schema] ApiError),
}

/// What a state change may answer besides its success.
#[derive(IntoResponses)]
pub enum WriteErrors {
    /// The request could not be read (malformed JSON, a path that is not
    /// UTF-8).
    #[response(status = 400)]
    BadRequest(#[to_schema] ApiError),
    /// No operator session.
    #[response(status = 401)]
    Unauthorized(#[to_schema] ApiError),
    /// The operator does not hold the capability the operation needs, or
    /// the request came from another origin.
    #[response(status = 403)]
    Forbidden(#[to_schema] ApiError),
    /// No such runbook or run.
    #[response(status = 404)]
    NotFound(#[to_schema] ApiError),
    /// The run is in no state for this (already completed, say).
    #[response(status = 409)]
    Conflict(#[to_schema] ApiError),
    /// The body is too large.
    #[response(status = 413)]
    TooLarge(#[to_schema] ApiError),
    /// The body is not `application/json`.
    #[response(status = 415)]
    UnsupportedMediaType(#[to_schema] ApiError),
    /// Bad input: fields the operation does not take, an unknown scope or
    /// tenant, a missing reason, a value with control characters.
    #[response(status = 422)]
    Unprocessable(#[to_schema] ApiError),
    /// Something failed on the server; the detail is in its log.
    #[response(status = 500)]
    Internal(#[to_schema] ApiError),
}
