//! Editing, pausing and resuming destinations and rules, and retrying a
//! failed delivery: each a capability-checked service action with its
//! audit entry; the edit forms keep what was typed beside its error.

use axum::http::StatusCode;
use axum::response::Response;

use super::views::{DestinationEditPage, FormError, RuleEditPage};
use super::{after, back};
use crate::alerts::{DestinationDraft, DestinationView, RuleChoices, RuleDraft};
use crate::domain::Invalid;
use crate::doors::web::kit::{
    Ctx, DeliveryId, DestinationId, RuleId, SignedForm, TokenOnly, WebError, page_with,
};

/// 422 with a mistake to show, 200 without.
fn status_of(error: &Option<Invalid>) -> StatusCode {
    match error {
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    }
}

async fn destination_page(
    cx: &Ctx,
    saved: DestinationView,
    fields: DestinationDraft,
    error: Option<Invalid>,
) -> Result<Response, WebError> {
    page_with(
        status_of(&error),
        &DestinationEditPage {
            chrome: cx.chrome("alerts").await?,
            id: saved.id,
            error: error.map(FormError::at("destination")),
            saved,
            fields,
        },
    )
}

pub async fn edit_destination_page(
    cx: Ctx,
    DestinationId(id): DestinationId,
) -> Result<Response, WebError> {
    let (service, actor) = (cx.state.app.alert_service(), cx.actor());
    let saved = service.destination(&actor, id).await?;
    let fields = DestinationDraft::of_saved(&saved);
    destination_page(&cx, saved, fields, None).await
}

pub async fn edit_destination(
    cx: Ctx,
    DestinationId(id): DestinationId,
    SignedForm(form): SignedForm<DestinationDraft>,
) -> Result<Response, WebError> {
    let (service, actor) = (cx.state.app.alert_service(), cx.actor());
    match service.update_destination(&actor, id, &form).await? {
        Ok(d) => back(&cx, d.told("saved")).await,
        Err(i) => {
            let saved = service.destination(&actor, id).await?;
            destination_page(&cx, saved, form, Some(i)).await
        }
    }
}

async fn rule_page(
    cx: &Ctx,
    id: i64,
    rule: RuleDraft,
    error: Option<Invalid>,
) -> Result<Response, WebError> {
    let (service, actor) = (cx.state.app.alert_service(), cx.actor());
    let saved = service.rule(&actor, id).await?;
    let destinations = service.destinations(&actor).await?;
    page_with(
        status_of(&error),
        &RuleEditPage {
            chrome: cx.chrome("alerts").await?,
            id,
            enabled: saved.enabled,
            destinations,
            rule,
            choices: RuleChoices::default(),
            error: error.map(FormError::at("rule")),
            rule_action: format!("/system/alerts/rules/{id}/edit"),
            rule_button: "Save rule",
        },
    )
}

pub async fn edit_rule_page(cx: Ctx, RuleId(id): RuleId) -> Result<Response, WebError> {
    let saved = cx.state.app.alert_service().rule(&cx.actor(), id).await?;
    rule_page(&cx, id, RuleDraft::of_rule(&saved), None).await
}

pub async fn edit_rule(
    cx: Ctx,
    RuleId(id): RuleId,
    SignedForm(pairs): SignedForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let fields = RuleDraft::of(pairs);
    let service = cx.state.app.alert_service();
    match service.update_rule(&cx.actor(), id, &fields).await? {
        Ok(rule) => back(&cx, rule.told("saved")).await,
        Err(i) => rule_page(&cx, id, fields, Some(i)).await,
    }
}

/// Enables (`ON`) or disables a destination.
pub async fn set_destination<const ON: bool>(
    cx: Ctx,
    DestinationId(id): DestinationId,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    let service = cx.state.app.alert_service();
    let set = service.set_destination_enabled(&cx.actor(), id, ON).await;
    after(&cx, set.map(|d| d.switched(ON))).await
}

/// Enables (`ON`) or disables a rule.
pub async fn set_rule<const ON: bool>(
    cx: Ctx,
    RuleId(id): RuleId,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    let service = cx.state.app.alert_service();
    let set = service.set_rule_enabled(&cx.actor(), id, ON).await;
    after(&cx, set.map(|r| r.switched(ON))).await
}

pub async fn retry_delivery(
    cx: Ctx,
    DeliveryId(id): DeliveryId,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    let (service, actor) = (cx.state.app.alert_service(), cx.actor());
    let done = service
        .retry_delivery(&actor, id)
        .await
        .map(|d| format!("Delivery {} queued again: a worker sends it shortly.", d.id));
    after(&cx, done).await
}
