//! What a handler takes from a request besides its state: the operator's
//! request in one piece ([`Ctx`]), the ids in its path, and its input — a
//! signed form on a page route, a JSON body on an API route — so one handler
//! serves a control in both formats.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower_sessions::Session;

use super::error::{Format, WebError};
use super::flash::Flash;
use super::forms::SignedForm;
use super::guard::RouteInfo;
use super::identity::Operator;
use super::page::Chrome;
use super::state::WebState;
use crate::domain::Actor;
use crate::error::Error;

/// A signed-in operator's request: the state, who asks, their session and
/// the format the route answers in.
pub struct Ctx {
    pub state: WebState,
    pub op: Operator,
    pub session: Session,
    pub format: Format,
}

fn format_of(parts: &Parts) -> Format {
    parts
        .extensions
        .get::<RouteInfo>()
        .map_or(Format::Html, |r| r.format)
}

impl FromRequestParts<WebState> for Ctx {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, WebError> {
        let op = Operator::from_request_parts(parts, state).await?;
        let session = parts.extensions.get::<Session>().cloned();
        Ok(Ctx {
            state: state.clone(),
            op,
            session: session.ok_or_else(WebError::internal)?,
            format: format_of(parts),
        })
    }
}

impl Ctx {
    pub fn actor(&self) -> Actor {
        self.op.actor()
    }

    /// The chrome of a page of `section`.
    pub async fn chrome(&self, section: &'static str) -> Result<Chrome, WebError> {
        Chrome::operator(&self.state, &self.op.identity, &self.session, section).await
    }

    /// A runbook's title (its key when it has none).
    pub fn title_of(&self, key: &str) -> String {
        let runbooks = self.state.app.runbooks();
        runbooks.title_of(key).unwrap_or(key).to_owned()
    }

    /// A control's answer: on the API `value` as JSON with `status`; on a
    /// page, back to `to`, with `message` shown there once.
    pub async fn done<T: Serialize>(
        &self,
        (status, value): (StatusCode, &T),
        to: &str,
        message: Option<String>,
    ) -> Result<Response, WebError> {
        match (self.format, message) {
            (Format::Json, _) => Ok((status, Json(value)).into_response()),
            (Format::Html, Some(m)) => Flash::info(m).redirect(&self.session, to).await,
            (Format::Html, None) => Ok(Redirect::to(to).into_response()),
        }
    }
}

/// The path's one parameter as text, or a 400 (a segment that is not UTF-8).
async fn segment<S: Send + Sync>(parts: &mut Parts, state: &S) -> Result<String, WebError> {
    Path::<String>::from_request_parts(parts, state)
        .await
        .map(|Path(v)| v)
        .map_err(|e| WebError::bad_request(e.body_text()))
}

/// A runbook's key from the path.
pub struct Key(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Key {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, WebError> {
        segment(parts, state).await.map(Key)
    }
}

/// An id from the path: anything but a positive number names a `what`
/// that does not exist (404, as an unknown id does), never a parse error.
async fn path_id<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    what: &str,
) -> Result<i64, WebError> {
    let raw = segment(parts, state).await?;
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| Error::NotFound(format!("{what} {raw:?} does not exist")).into())
}

macro_rules! ids {
    ($($name:ident = $what:literal;)*) => {$(
        #[doc = concat!("The id of a ", $what, " from the path.")]
        #[derive(Debug, Clone, Copy)]
        pub struct $name(pub i64);

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = WebError;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, WebError> {
                path_id(parts, state, $what).await.map($name)
            }
        }
    )*};
}

ids! {
    RunId = "run";
    DestinationId = "alert destination";
    RuleId = "alert rule";
    DeliveryId = "alert delivery";
    NotificationId = "notification";
}

/// A JSON body, refused with the API's statuses (400 malformed, 413, 415,
/// 422 for a body that is not an object, of the wrong shape or with a field
/// the route does not know: an operator API refuses what it does not
/// understand).
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, WebError> {
        let value = match Json::<serde_json::Value>::from_request(req, state).await {
            Ok(Json(v)) => v,
            Err(e) => {
                let status = match e.status() {
                    s @ (StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE) => s,
                    _ => StatusCode::BAD_REQUEST,
                };
                return Err(WebError::new(status, e.body_text()));
            }
        };
        // Every body of the API is an object: an array, a string, a number
        // or null is not one with its fields missing (serde would read an
        // array as a struct's fields in order).
        let Some(fields) = value.as_object() else {
            return Err(WebError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the body must be a JSON object",
            ));
        };
        let names: Vec<String> = fields.keys().cloned().collect();
        let mut unknown = Vec::new();
        // A body taken whole as ignored (`TokenOnly`) is `{}`: each of its
        // fields is one the route does not know, as a named field the type
        // does not know is.
        let body = serde_ignored::deserialize(value, |path| match path {
            serde_ignored::Path::Root => unknown.extend(names.iter().cloned()),
            _ => unknown.push(path.to_string()),
        })
        .map_err(|e| {
            let message = format!("Failed to deserialize the JSON body into the target type: {e}");
            WebError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
        })?;
        if let Some(field) = unknown.first() {
            return Err(WebError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("unknown field `{field}`: this request takes no such field"),
            ));
        }
        Ok(JsonBody(body))
    }
}

/// A control's input in its route's format: a [`SignedForm`] on a page,
/// a [`JsonBody`] on the API.
pub struct Input<T>(pub T);

impl<T: DeserializeOwned> FromRequest<WebState> for Input<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &WebState) -> Result<Self, WebError> {
        let json = req
            .extensions()
            .get::<RouteInfo>()
            .is_some_and(|r| r.format == Format::Json);
        Ok(Input(match json {
            true => JsonBody::from_request(req, state).await?.0,
            false => SignedForm::from_request(req, state).await?.0,
        }))
    }
}

/// The route that answers (its plane, for the sign-in pages both planes share).
impl<S: Send + Sync> FromRequestParts<S> for RouteInfo {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, WebError> {
        let info = parts.extensions.get::<RouteInfo>().copied();
        info.ok_or_else(WebError::internal)
    }
}
