//! `/system/alerts`: alert destinations, rules and recent deliveries. Each
//! handler parses the form, calls the alert service with the operator as
//! actor, and presents: success redirects back with a message, bad input
//! re-renders the page with what was typed and what is wrong.

mod forms;
mod views;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use self::forms::{DestinationForm, RuleForm};
use self::views::{
    AlertConfirmPage, AlertForms, AlertsPage, DeliveryView, destination_name, status_class,
};
use crate::doors::web::kit::{
    Chrome, Operator, SignedForm, TimeTag, TokenOnly, WebError, WebState, page, page_with, path_id,
};
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
    let deliveries = service
        .deliveries(&actor, RECENT_DELIVERIES)
        .await?
        .iter()
        .map(|d| DeliveryView {
            id: d.id,
            event: d.event.clone(),
            destination: d
                .destination_id
                .map(|id| destination_name(&destinations, id))
                .unwrap_or_else(|| "deleted".into()),
            status: d.status.clone(),
            status_class: status_class(&d.status),
            attempts: d.attempts,
            last_error: d.last_error.clone().unwrap_or_default(),
            created_at: TimeTag::at(&d.created_at),
            sent_at: TimeTag::opt(&d.sent_at),
        })
        .collect();
    let messages = if flash.error {
        (String::new(), flash.message)
    } else {
        (flash.message, String::new())
    };
    page_with(
        status,
        &AlertsPage::new(
            Chrome::operator(state, op, session, "alerts").await?,
            messages,
            &destinations,
            &rules,
            deliveries,
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

pub async fn index(
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

pub async fn add_destination(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    SignedForm(form): SignedForm<DestinationForm>,
) -> Result<Response, WebError> {
    let result = match form.channel() {
        Ok(channel) => {
            state
                .app
                .alert_service()
                .add_destination(&op.actor(), form.name(), channel)
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
        Err(e) => rerender(&state, &op, &session, e, form.typed()).await,
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
        .destination(&op.actor(), id)
        .await?;
    page(&AlertConfirmPage {
        chrome: Chrome::operator(&state, &op, &session, "alerts").await?,
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
    let r = state.app.alert_service().rule(&op.actor(), id).await?;
    page(&AlertConfirmPage {
        chrome: Chrome::operator(&state, &op, &session, "alerts").await?,
        heading: "Delete this rule?",
        subject: format!("{} ({}, {} and above)", r.name, r.event, r.min_severity),
        explanation: "Events no longer match it; past deliveries stay recorded.",
        action: format!("/system/alerts/rules/{id}/delete"),
        button: "Delete rule",
    })
}
