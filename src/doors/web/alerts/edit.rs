//! Editing, pausing and resuming destinations and rules, and retrying a
//! failed delivery: each a capability-checked service action with its
//! audit entry; the edit forms keep what was typed beside its error.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use tower_sessions::Session;

use super::forms::{DestinationFields, DestinationForm, RuleFields};
use super::views::{DestinationEditPage, DestinationRowView, FormError, RuleChoices, RuleEditPage};
use super::{after, flash};
use crate::alerts::DestinationView;
use crate::domain::Invalid;
use crate::doors::web::kit::{
    Chrome, Operator, SignedForm, TokenOnly, WebError, WebState, page_with, path_id,
};

async fn destination_page(
    state: &WebState,
    op: &Operator,
    session: &Session,
    saved: DestinationView,
    fields: DestinationFields,
    error: Option<Invalid>,
) -> Result<Response, WebError> {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let smtp_warning = if saved.kind == "email" {
        saved.warning.clone().unwrap_or_default()
    } else {
        String::new()
    };
    page_with(
        status,
        &DestinationEditPage {
            chrome: Chrome::operator(state, op, session, "alerts").await?,
            id: saved.id,
            error: error.map(|invalid| FormError {
                form: "destination",
                invalid,
            }),
            saved,
            fields,
            smtp_warning,
        },
    )
}

pub async fn edit_destination_page(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = path_id(&id, "alert destination")?;
    let saved = state
        .app
        .alert_service()
        .destination(&op.actor(), id)
        .await?;
    let fields = DestinationFields {
        kind: saved.kind.clone(),
        name: saved.name.clone(),
        // The webhook URL is a secret: never sent back, only replaced.
        url: String::new(),
        recipients: if saved.kind == "email" {
            saved.target.clone()
        } else {
            String::new()
        },
    };
    destination_page(&state, &op, &session, saved, fields, None).await
}

pub async fn edit_destination(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
    SignedForm(form): SignedForm<DestinationForm>,
) -> Result<Response, WebError> {
    let id = path_id(&id, "alert destination")?;
    let service = state.app.alert_service();
    let actor = op.actor();
    match service
        .update_destination(&actor, id, &form.request())
        .await?
    {
        Ok(d) => flash(&session, false, format!("Destination {:?} saved.", d.name)).await,
        Err(i) => {
            let saved = service.destination(&actor, id).await?;
            destination_page(&state, &op, &session, saved, form.typed(), Some(i)).await
        }
    }
}

async fn rule_page(
    state: &WebState,
    op: &Operator,
    session: &Session,
    id: i64,
    rule: RuleFields,
    error: Option<Invalid>,
) -> Result<Response, WebError> {
    let service = state.app.alert_service();
    let actor = op.actor();
    let saved = service.rule(&actor, id).await?;
    let destinations = service.destinations(&actor).await?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    page_with(
        status,
        &RuleEditPage {
            chrome: Chrome::operator(state, op, session, "alerts").await?,
            id,
            enabled: saved.enabled,
            destinations: DestinationRowView::all(&destinations, &rule.destinations),
            rule,
            choices: RuleChoices::default(),
            error: error.map(|invalid| FormError {
                form: "rule",
                invalid,
            }),
            rule_action: format!("/system/alerts/rules/{id}/edit"),
            rule_button: "Save rule",
        },
    )
}

pub async fn edit_rule_page(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = path_id(&id, "alert rule")?;
    let saved = state.app.alert_service().rule(&op.actor(), id).await?;
    rule_page(&state, &op, &session, id, RuleFields::of_rule(&saved), None).await
}

pub async fn edit_rule(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
    SignedForm(pairs): SignedForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let id = path_id(&id, "alert rule")?;
    let fields = RuleFields::of(pairs);
    let saved = match fields.request() {
        Ok(req) => {
            state
                .app
                .alert_service()
                .update_rule(&op.actor(), id, req)
                .await?
        }
        Err(i) => Err(i),
    };
    match saved {
        Ok(rule) => flash(&session, false, format!("Rule {:?} saved.", rule.name)).await,
        Err(i) => rule_page(&state, &op, &session, id, fields, Some(i)).await,
    }
}

async fn set_destination(
    state: &WebState,
    op: &Operator,
    session: &Session,
    id: &str,
    enabled: bool,
) -> Result<Response, WebError> {
    let done = async {
        let id = path_id(id, "alert destination")?;
        let service = state.app.alert_service();
        let d = service
            .set_destination_enabled(&op.actor(), id, enabled)
            .await?;
        Ok(if enabled {
            format!("Destination {:?} enabled.", d.name)
        } else {
            format!(
                "Destination {:?} disabled: it is sent nothing until enabled.",
                d.name
            )
        })
    }
    .await;
    after(state, op, session, done).await
}

pub async fn enable_destination(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    set_destination(&state, &op, &session, &id, true).await
}

pub async fn disable_destination(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    set_destination(&state, &op, &session, &id, false).await
}

async fn set_rule(
    state: &WebState,
    op: &Operator,
    session: &Session,
    id: &str,
    enabled: bool,
) -> Result<Response, WebError> {
    let done = async {
        let id = path_id(id, "alert rule")?;
        let r = state
            .app
            .alert_service()
            .set_rule_enabled(&op.actor(), id, enabled)
            .await?;
        Ok(if enabled {
            format!("Rule {:?} enabled.", r.name)
        } else {
            format!(
                "Rule {:?} disabled: it matches no event until enabled.",
                r.name
            )
        })
    }
    .await;
    after(state, op, session, done).await
}

pub async fn enable_rule(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    set_rule(&state, &op, &session, &id, true).await
}

pub async fn disable_rule(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    set_rule(&state, &op, &session, &id, false).await
}

pub async fn retry_delivery(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    let done = async {
        let id = path_id(&id, "alert delivery")?;
        let d = state
            .app
            .alert_service()
            .retry_delivery(&op.actor(), id)
            .await?;
        Ok(format!(
            "Delivery {} queued again: a worker sends it shortly.",
            d.id
        ))
    }
    .await;
    after(&state, &op, &session, done).await
}
