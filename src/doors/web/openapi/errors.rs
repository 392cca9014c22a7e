//! The errors the API answers, as the OpenAPI description names them: one
//! body (`{"error": …}`) and the statuses of reads and of state changes,
//! each status with what it means for that kind of operation.

use std::collections::BTreeMap;

use utoipa::openapi::{ContentBuilder, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, PartialSchema, ToSchema};

/// The body of every error the API answers.
#[derive(ToSchema)]
pub struct ApiError {
    /// What went wrong, for a person to read.
    pub error: String,
}

/// What any operation may answer besides its success.
pub struct ReadErrors;

/// What a state change may answer besides its success.
pub struct WriteErrors;

impl IntoResponses for ReadErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        described(&[400, 422, 401, 403, 404, 500], false)
    }
}

impl IntoResponses for WriteErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        described(&[400, 401, 403, 404, 409, 413, 415, 422, 500], true)
    }
}

/// What a status means for a read, or for a state change (`write`).
fn meaning(status: u16, write: bool) -> &'static str {
    match (status, write) {
        (400, false) => "The request could not be read (a path or query that is not UTF-8).",
        (400, true) => "The request could not be read (malformed JSON, a path that is not\nUTF-8).",
        (401, _) => "No operator session.",
        (403, false) => "The operator does not hold the capability the operation needs.",
        (403, true) => {
            "The operator does not hold the capability the operation needs, or\nthe request came from another origin."
        }
        (404, _) => "No such runbook or run.",
        (409, _) => "The run is in no state for this (already completed, say).",
        (413, _) => "The body is too large.",
        (415, _) => "The body is not `application/json`.",
        (422, false) => {
            "Bad input: an unknown scope, tenant or filter, or a value with\ncontrol characters."
        }
        (422, true) => {
            "Bad input: fields the operation does not take, an unknown scope or\ntenant, a missing reason, a value with control characters."
        }
        _ => "Something failed on the server; the detail is in its log.",
    }
}

/// Each status with its meaning and the error body.
fn described(statuses: &[u16], write: bool) -> BTreeMap<String, RefOr<Response>> {
    let answer = |status: u16| {
        let body = ContentBuilder::new()
            .schema(Some(ApiError::schema()))
            .build();
        let response = ResponseBuilder::new().description(meaning(status, write));
        (
            status.to_string(),
            response.content("application/json", body).build().into(),
        )
    };
    statuses.iter().map(|s| answer(*s)).collect()
}
