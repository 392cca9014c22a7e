//! `/system/alerts`: alert destinations, rules and deliveries. Each
//! handler parses the form, calls the alert service with the operator as
//! actor, and presents: success redirects back with a message, a mistake in
//! a form re-renders the page with what was typed and the error beside its
//! field. Editing, pausing and retrying are in [`edit`].

mod edit;
mod forms;
mod views;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

pub use self::edit::{
    disable_destination, disable_rule, edit_destination, edit_destination_page, edit_rule,
    edit_rule_page, enable_destination, enable_rule, retry_delivery,
};
use self::forms::{DestinationForm, RuleFields};
use self::views::{
    AlertConfirmPage, AlertForms, AlertsPage, DeliveryRowView, DestinationRowView, FormError,
    RuleChoices,
};
use crate::doors::web::kit::{
    Chrome, NumberedPager, Operator, Query, SignedForm, TokenOnly, WebError, WebState, page,
    page_number, page_with, path_id,
};
use crate::error::Error;

const PAGE: &str = "/system/alerts";
const FLASH_KEY: &str = "alerts_flash";
const DELIVERIES_PER_PAGE: i64 = 25;

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

/// The page, with an optional message, the forms' typed values and a page
/// of deliveries.
async fn render(
    state: &WebState,
    op: &Operator,
    session: &Session,
    status: StatusCode,
    flash: Flash,
    forms: AlertForms,
    delivery_page: i64,
) -> Result<Response, WebError> {
    let service = state.app.alert_service();
    let actor = op.actor();
    let destinations = service.destinations(&actor).await?;
    let rules = service.rules(&actor).await?;
    let deliveries = service
        .delivery_page(&actor, delivery_page, DELIVERIES_PER_PAGE)
        .await?;
    let rows = deliveries
        .items
        .iter()
        .map(|d| DeliveryRowView::of(d, &destinations, &rules))
        .collect();
    let (flash, error) = if flash.error {
        (String::new(), flash.message)
    } else {
        (flash.message, String::new())
    };
    let smtp_warning = service.email_warning().unwrap_or_default();
    page_with(
        status,
        &AlertsPage {
            chrome: Chrome::operator(state, op, session, "alerts").await?,
            flash,
            error,
            destinations: DestinationRowView::all(&destinations, &forms.rule.destinations),
            rules: AlertsPage::rules_of(&rules, &destinations),
            deliveries: rows,
            pager: NumberedPager::new(
                PAGE,
                &[],
                "page",
                deliveries.spot,
                ("delivery", "deliveries"),
            ),
            pager_label: "Delivery pages",
            choices: RuleChoices::default(),
            rule: forms.rule.clone(),
            rule_action: "/system/alerts/rules".into(),
            rule_button: "Add rule",
            smtp_warning,
            forms,
        },
    )
}

/// Shows the page again after a refused action: 404 for something that
/// does not exist, 409 for the wrong state; anything else is an error page.
async fn rerender(
    state: &WebState,
    op: &Operator,
    session: &Session,
    e: Error,
) -> Result<Response, WebError> {
    if !matches!(
        e,
        Error::BadInput(_) | Error::NotFound(_) | Error::Conflict(_)
    ) {
        return Err(e.into());
    }
    let e = WebError::from(e);
    let flash = Flash {
        error: true,
        message: e.message,
    };
    render(
        state,
        op,
        session,
        e.status,
        flash,
        AlertForms::default(),
        1,
    )
    .await
}

/// The page with a form's mistake beside its field (422).
async fn invalid(
    state: &WebState,
    op: &Operator,
    session: &Session,
    forms: AlertForms,
) -> Result<Response, WebError> {
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    render(state, op, session, status, Flash::default(), forms, 1).await
}

#[derive(Deserialize)]
pub struct AlertsQuery {
    page: Option<String>,
    /// Open the page of deliveries that shows this one.
    delivery: Option<String>,
}

pub async fn index(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Query(q): Query<AlertsQuery>,
) -> Result<Response, WebError> {
    let flash = session
        .remove::<Flash>(FLASH_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let page = match q.delivery.as_deref().and_then(|d| d.parse::<i64>().ok()) {
        Some(id) => {
            state
                .app
                .alert_service()
                .page_of_delivery(&op.actor(), id, DELIVERIES_PER_PAGE)
                .await?
        }
        None => page_number(&q.page),
    };
    let forms = AlertForms::default();
    render(&state, &op, &session, StatusCode::OK, flash, forms, page).await
}

pub async fn add_destination(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    SignedForm(form): SignedForm<DestinationForm>,
) -> Result<Response, WebError> {
    let service = state.app.alert_service();
    match service
        .create_destination(&op.actor(), &form.request())
        .await?
    {
        Ok(d) => {
            let mut message = format!("Destination {:?} ({}) added.", d.name, d.kind);
            if let Some(w) = &d.warning {
                message.push_str(&format!(" Note: {w}."));
            }
            flash(&session, false, message).await
        }
        Err(invalid_field) => {
            let typed = form.typed();
            let which = if typed.kind == "email" {
                "email"
            } else {
                "teams"
            };
            let mut forms = AlertForms {
                error: Some(FormError {
                    form: which,
                    invalid: invalid_field,
                }),
                ..AlertForms::default()
            };
            if which == "email" {
                forms.email = typed;
            } else {
                forms.teams = typed;
            }
            invalid(&state, &op, &session, forms).await
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
    after(
        &state,
        &op,
        &session,
        removed.map(|id| format!("Destination {id} deleted.")),
    )
    .await
}

/// Flash on success, the page with the error otherwise.
async fn after(
    state: &WebState,
    op: &Operator,
    session: &Session,
    done: Result<String, Error>,
) -> Result<Response, WebError> {
    match done {
        Ok(message) => flash(session, false, message).await,
        Err(e) => rerender(state, op, session, e).await,
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
        Err(e) => rerender(&state, &op, &session, e).await,
    }
}

pub async fn add_rule(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    SignedForm(pairs): SignedForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let fields = RuleFields::of(pairs);
    let created = match fields.request() {
        Ok(req) => {
            state
                .app
                .alert_service()
                .create_rule(&op.actor(), req)
                .await?
        }
        Err(i) => Err(i),
    };
    match created {
        Ok(rule) => flash(&session, false, format!("Rule {:?} added.", rule.name)).await,
        Err(i) => {
            let forms = AlertForms {
                rule: fields,
                error: Some(FormError {
                    form: "rule",
                    invalid: i,
                }),
                ..AlertForms::default()
            };
            invalid(&state, &op, &session, forms).await
        }
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
    after(
        &state,
        &op,
        &session,
        removed.map(|id| format!("Rule {id} deleted.")),
    )
    .await
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
        explanation: "Rules stop sending to it; a rule left without destinations sends nothing. Past deliveries stay recorded. To pause it instead, disable it.",
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
        explanation: "Events no longer match it; past deliveries stay recorded. To pause it instead, disable it.",
        action: format!("/system/alerts/rules/{id}/delete"),
        button: "Delete rule",
    })
}
