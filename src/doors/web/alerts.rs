//! `/system/alerts`: alert destinations, rules and recent deliveries. Each
//! handler parses the form, calls the alert service with the operator as
//! actor, and presents: success redirects back with a message, bad input
//! re-renders the page with what was typed and what is wrong.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::WebState;
use super::error::WebError;
use super::forms::{SignedForm, opt, path_id};
use super::routes::Operator;
use super::system::{TokenOnly, chrome};
use super::views::{self, AlertForms, AlertsPage};
use crate::alerts::{Channel, RuleRequest};
use crate::error::Error;

const PAGE: &str = "/system/alerts";
const FLASH_KEY: &str = "alerts_flash";
const RECENT_DELIVERIES: i64 = 50;

/// A one-time message shown after a redirect.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Flash {
    error: bool,
    message: String,
}

async fn flash(session: &Session, error: bool, message: String) -> Result<Response, WebError> {
    session.insert(FLASH_KEY, Flash { error, message }).await?;
    Ok(Redirect::to(PAGE).into_response())
}

/// The page, with an optional message and the forms' typed values.
async fn render(
    state: &WebState,
    op: &Operator,
    session: &Session,
    status: StatusCode,
    flash: Flash,
    forms: AlertForms,
) -> Result<Response, WebError> {
    let service = state.app.alert_service();
    let actor = op.actor();
    let destinations = service.destinations(&actor).await?;
    let rules = service.rules(&actor).await?;
    let deliveries = service.deliveries(&actor, RECENT_DELIVERIES).await?;
    let (flash, error) = if flash.error {
        (String::new(), flash.message)
    } else {
        (flash.message, String::new())
    };
    views::page_with(
        status,
        &AlertsPage::new(
            chrome(state, op, session, "alerts").await?,
            flash,
            error,
            &destinations,
            &rules,
            &deliveries,
            forms,
        ),
    )
}

/// Shows the page again with the service's answer: 422 for bad input, 404
/// for something that does not exist; anything else is an error page.
async fn rerender(
    state: &WebState,
    op: &Operator,
    session: &Session,
    e: Error,
    forms: AlertForms,
) -> Result<Response, WebError> {
    if !matches!(e, Error::BadInput(_) | Error::NotFound(_)) {
        return Err(e.into());
    }
    let e = WebError::from(e);
    let flash = Flash {
        error: true,
        message: e.message,
    };
    render(state, op, session, e.status, flash, forms).await
}

pub async fn page(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
) -> Result<Response, WebError> {
    let flash = session
        .remove::<Flash>(FLASH_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    render(
        &state,
        &op,
        &session,
        StatusCode::OK,
        flash,
        AlertForms::default(),
    )
    .await
}

/// An id from the path: anything but a positive number does not exist.
#[derive(Deserialize)]
pub struct DestinationForm {
    kind: Option<String>,
    name: Option<String>,
    url: Option<String>,
    recipients: Option<String>,
}

/// Recipients separated by commas, semicolons or white space.
fn recipients(raw: &str) -> Vec<String> {
    raw.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn channel_of(form: &DestinationForm) -> Result<Channel, Error> {
    let to = recipients(form.recipients.as_deref().unwrap_or(""));
    Channel::from_parts(opt(&form.kind), opt(&form.url), &to).map_err(Error::BadInput)
}

pub async fn add_destination(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    SignedForm(form): SignedForm<DestinationForm>,
) -> Result<Response, WebError> {
    let name = form.name.as_deref().unwrap_or("");
    let result = match channel_of(&form) {
        Ok(channel) => {
            state
                .app
                .alert_service()
                .add_destination(&op.actor(), name, channel)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(d) => {
            flash(
                &session,
                false,
                format!("Destination {:?} ({}) added.", d.name, d.kind),
            )
            .await
        }
        Err(e) => {
            // The webhook URL is a secret: it is never sent back, not even to fix it.
            let forms = AlertForms {
                destination_kind: opt(&form.kind).unwrap_or("teams").to_owned(),
                destination_name: name.trim().to_owned(),
                recipients: form.recipients.as_deref().unwrap_or("").trim().to_owned(),
                ..AlertForms::default()
            };
            rerender(&state, &op, &session, e, forms).await
        }
    }
}

pub async fn remove_destination(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    let removed = async {
        let id = path_id(&id, "alert destination")?;
        state
            .app
            .alert_service()
            .remove_destination(&op.actor(), id)
            .await
            .map(|()| id)
    }
    .await;
    after_remove(&state, &op, &session, removed, "Destination").await
}

/// Flash on success, the page with the error otherwise.
async fn after_remove(
    state: &WebState,
    op: &Operator,
    session: &Session,
    removed: Result<i64, Error>,
    noun: &str,
) -> Result<Response, WebError> {
    match removed {
        Ok(id) => flash(session, false, format!("{noun} {id} deleted.")).await,
        Err(e) => rerender(state, op, session, e, AlertForms::default()).await,
    }
}

pub async fn test_destination(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    let result = match path_id(&id, "alert destination") {
        Ok(id) => {
            state
                .app
                .alert_service()
                .test_destination(&op.actor(), id)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(d) if d.status == "sent" => {
            flash(
                &session,
                false,
                format!("Test message sent (delivery {}).", d.id),
            )
            .await
        }
        Ok(d) => {
            flash(
                &session,
                true,
                format!(
                    "The test message could not be sent (delivery {}): {}",
                    d.id,
                    d.last_error.as_deref().unwrap_or("unknown error")
                ),
            )
            .await
        }
        Err(e) => rerender(&state, &op, &session, e, AlertForms::default()).await,
    }
}

/// The rule form: repeated `destination` checkboxes, so read as pairs.
struct RuleForm {
    name: String,
    event: String,
    min_severity: String,
    cooldown: String,
    quiet_hours: String,
    timezone: String,
    destinations: Vec<String>,
}

impl RuleForm {
    fn of(pairs: Vec<(String, String)>) -> RuleForm {
        let mut f = RuleForm {
            name: String::new(),
            event: String::new(),
            min_severity: String::new(),
            cooldown: String::new(),
            quiet_hours: String::new(),
            timezone: String::new(),
            destinations: Vec::new(),
        };
        for (k, v) in pairs {
            let v = v.trim().to_owned();
            match k.as_str() {
                "name" => f.name = v,
                "event" => f.event = v,
                "min_severity" => f.min_severity = v,
                "cooldown_seconds" => f.cooldown = v,
                "quiet_hours" => f.quiet_hours = v,
                "timezone" => f.timezone = v,
                "destination" => f.destinations.push(v),
                _ => {}
            }
        }
        f
    }

    fn request(&self) -> Result<RuleRequest, Error> {
        let cooldown_seconds = match self.cooldown.as_str() {
            "" => None,
            s => Some(s.parse::<i64>().map_err(|_| {
                Error::BadInput(format!(
                    "the cooldown {s:?} must be a whole number of seconds (0 or more)"
                ))
            })?),
        };
        let destination_ids = self
            .destinations
            .iter()
            .map(|d| {
                d.parse::<i64>()
                    .map_err(|_| Error::BadInput(format!("alert destination {d:?} does not exist")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        // No window means no quiet hours; the time zone only matters with one.
        let (quiet_hours, timezone) = match (self.quiet_hours.as_str(), self.timezone.as_str()) {
            ("", _) => (None, None),
            (_, "") => {
                return Err(Error::BadInput(
                    "quiet hours need a time zone (an IANA name such as Europe/Berlin)".into(),
                ));
            }
            (w, tz) => (Some(w.to_owned()), Some(tz.to_owned())),
        };
        Ok(RuleRequest {
            name: self.name.clone(),
            event: self.event.clone(),
            destination_ids,
            min_severity: Some(self.min_severity.clone()).filter(|s| !s.is_empty()),
            cooldown_seconds,
            quiet_hours,
            timezone,
        })
    }

    fn typed(self) -> AlertForms {
        AlertForms {
            rule_name: self.name,
            rule_event: self.event,
            rule_severity: self.min_severity,
            rule_cooldown: self.cooldown,
            rule_quiet_hours: self.quiet_hours,
            rule_timezone: self.timezone,
            rule_destinations: self.destinations,
            ..AlertForms::default()
        }
    }
}

pub async fn add_rule(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    SignedForm(pairs): SignedForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = RuleForm::of(pairs);
    let result = match form.request() {
        Ok(req) => state.app.alert_service().add_rule(&op.actor(), req).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(rule) => flash(&session, false, format!("Rule {:?} added.", rule.name)).await,
        Err(e) => rerender(&state, &op, &session, e, form.typed()).await,
    }
}

pub async fn remove_rule(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    let removed = async {
        let id = path_id(&id, "alert rule")?;
        state
            .app
            .alert_service()
            .remove_rule(&op.actor(), id)
            .await
            .map(|()| id)
    }
    .await;
    after_remove(&state, &op, &session, removed, "Rule").await
}

/// The confirmation step before a delete (works without JavaScript).
pub async fn confirm_remove_destination(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = path_id(&id, "alert destination")?;
    let d = state
        .app
        .alert_service()
        .destinations(&op.actor())
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or_else(|| Error::NotFound(format!("alert destination {id} does not exist")))?;
    views::page(&views::AlertConfirmPage {
        chrome: chrome(&state, &op, &session, "alerts").await?,
        heading: "Delete this destination?",
        subject: format!("{} ({}, {})", d.name, d.kind, d.target),
        explanation: "Rules stop sending to it; a rule left without destinations sends nothing. Past deliveries stay recorded.",
        action: format!("/system/alerts/destinations/{id}/delete"),
        button: "Delete destination",
    })
}

pub async fn confirm_remove_rule(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = path_id(&id, "alert rule")?;
    let r = state
        .app
        .alert_service()
        .rules(&op.actor())
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| Error::NotFound(format!("alert rule {id} does not exist")))?;
    views::page(&views::AlertConfirmPage {
        chrome: chrome(&state, &op, &session, "alerts").await?,
        heading: "Delete this rule?",
        subject: format!("{} ({}, {} and above)", r.name, r.event, r.min_severity),
        explanation: "Events no longer match it; past deliveries stay recorded.",
        action: format!("/system/alerts/rules/{id}/delete"),
        button: "Delete rule",
    })
}
