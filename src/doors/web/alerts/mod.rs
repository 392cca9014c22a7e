//! `/system/alerts`: alert destinations, rules and deliveries. Each
//! handler parses the form, calls the alert service with the operator as
//! actor, and presents: success redirects back with a message, a mistake in
//! a form re-renders the page with what was typed and the error beside its
//! field. Editing, pausing and retrying are in [`edit`].

mod edit;
mod views;

use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

pub use self::edit::{
    edit_destination, edit_destination_page, edit_rule, edit_rule_page, retry_delivery,
    set_destination, set_rule,
};
use self::views::{AlertForms, AlertsPage, FormError};
use crate::alerts::{DestinationDraft, RuleDraft};
use crate::doors::web::kit::{
    Confirm, Ctx, DestinationId, Flash, Pager, Query, RuleId, SignedForm, Text, TokenOnly,
    WebError, page, page_with,
};
use crate::error::Error;

const PAGE: &str = "/system/alerts";
const DELIVERIES_PER_PAGE: i64 = 25;

/// Back to the page, with a message.
async fn back(cx: &Ctx, message: String) -> Result<Response, WebError> {
    Flash::info(message).redirect(&cx.session, PAGE).await
}

/// The page, with an optional message, the forms' typed values and a page
/// of deliveries.
async fn render(
    cx: &Ctx,
    status: StatusCode,
    flash: Option<Flash>,
    forms: AlertForms,
    delivery_page: i64,
) -> Result<Response, WebError> {
    let (service, actor) = (cx.state.app.alert_service(), cx.actor());
    let overview = service.overview(&actor, delivery_page, DELIVERIES_PER_PAGE);
    let overview = overview.await?;
    let (spot, noun) = (overview.deliveries.spot, ("delivery", "deliveries"));
    page_with(
        status,
        &AlertsPage {
            chrome: cx.chrome("alerts").await?,
            flash,
            overview,
            pager: Pager::spot(PAGE, &(), spot, noun).labelled("Delivery pages"),
            choices: Default::default(),
            rule: forms.rule.clone(),
            rule_action: "/system/alerts/rules".into(),
            rule_button: "Add rule",
            smtp_warning: service.email_warning().unwrap_or_default(),
            forms,
        },
    )
}

/// Shows the page again after a refused action: 404 for something that
/// does not exist, 409 for the wrong state; anything else is an error page.
async fn rerender(cx: &Ctx, e: Error) -> Result<Response, WebError> {
    let e = WebError::from(e);
    if !matches!(e.status.as_u16(), 404 | 409 | 422) {
        return Err(e);
    }
    let flash = Some(Flash::error(e.message));
    render(cx, e.status, flash, AlertForms::default(), 1).await
}

/// Back with a message on success, the page with the error otherwise.
async fn after(cx: &Ctx, done: Result<String, Error>) -> Result<Response, WebError> {
    match done {
        Ok(message) => back(cx, message).await,
        Err(e) => rerender(cx, e).await,
    }
}

/// The page with a form's mistake beside its field (422).
async fn invalid_page(cx: &Ctx, forms: AlertForms) -> Result<Response, WebError> {
    render(cx, StatusCode::UNPROCESSABLE_ENTITY, None, forms, 1).await
}

#[derive(Deserialize)]
pub struct AlertsQuery {
    page: Text,
    /// Open the page of deliveries that shows this one.
    delivery: Text,
}

pub async fn index(cx: Ctx, Query(q): Query<AlertsQuery>) -> Result<Response, WebError> {
    let flash = Flash::take(&cx.session).await;
    let page = match q.delivery.get().and_then(|d| d.parse::<i64>().ok()) {
        Some(id) => {
            let (service, actor) = (cx.state.app.alert_service(), cx.actor());
            let page = service.page_of_delivery(&actor, id, DELIVERIES_PER_PAGE);
            page.await?
        }
        None => q.page.page()?,
    };
    render(&cx, StatusCode::OK, flash, AlertForms::default(), page).await
}

pub async fn add_destination(
    cx: Ctx,
    SignedForm(form): SignedForm<DestinationDraft>,
) -> Result<Response, WebError> {
    let service = cx.state.app.alert_service();
    match service.create_destination(&cx.actor(), &form).await? {
        Ok(d) => back(&cx, d.added()).await,
        Err(invalid) => {
            let (kind, teams, email) = match form.kind.as_str() {
                "email" => ("email", DestinationDraft::default(), form),
                _ => ("teams", form, DestinationDraft::default()),
            };
            let error = Some(FormError::at(kind)(invalid));
            let forms = AlertForms {
                teams,
                email,
                error,
                ..AlertForms::default()
            };
            invalid_page(&cx, forms).await
        }
    }
}

pub async fn test_destination(
    cx: Ctx,
    DestinationId(id): DestinationId,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    let service = cx.state.app.alert_service();
    let tested = service.test_destination(&cx.actor(), id).await;
    match tested.map(|d| d.test_told()) {
        Ok(Ok(sent)) => back(&cx, sent).await,
        Ok(Err(failed)) => Flash::error(failed).redirect(&cx.session, PAGE).await,
        Err(e) => rerender(&cx, e).await,
    }
}

pub async fn remove_destination(
    cx: Ctx,
    DestinationId(id): DestinationId,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    let service = cx.state.app.alert_service();
    let removed = service.remove_destination(&cx.actor(), id).await;
    after(&cx, removed.map(|()| format!("Destination {id} deleted."))).await
}

pub async fn add_rule(
    cx: Ctx,
    SignedForm(pairs): SignedForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let fields = RuleDraft::of(pairs);
    let service = cx.state.app.alert_service();
    match service.create_rule(&cx.actor(), &fields).await? {
        Ok(rule) => back(&cx, rule.told("added")).await,
        Err(invalid) => {
            let error = Some(FormError::at("rule")(invalid));
            let forms = AlertForms {
                rule: fields,
                error,
                ..AlertForms::default()
            };
            invalid_page(&cx, forms).await
        }
    }
}

pub async fn remove_rule(
    cx: Ctx,
    RuleId(id): RuleId,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    let (service, actor) = (cx.state.app.alert_service(), cx.actor());
    let removed = service.remove_rule(&actor, id).await;
    after(&cx, removed.map(|()| format!("Rule {id} deleted."))).await
}

/// The confirmation step before a delete (works without JavaScript).
async fn confirm_delete(
    cx: &Ctx,
    (heading, subject): (&str, String),
    explanation: &str,
    action: String,
    button: &str,
) -> Result<Response, WebError> {
    page(&Confirm {
        chrome: cx.chrome("alerts").await?,
        crumbs: vec![(PAGE.into(), "Alerts".into())],
        heading: heading.into(),
        subject,
        explanation: explanation.into(),
        details: String::new(),
        action,
        button: button.into(),
        danger: true,
        with_reason: false,
        keep: "Keep it",
    })
}

pub async fn confirm_remove_destination(
    cx: Ctx,
    DestinationId(id): DestinationId,
) -> Result<Response, WebError> {
    let (service, actor) = (cx.state.app.alert_service(), cx.actor());
    let d = service.destination(&actor, id).await?;
    confirm_delete(
        &cx,
        ("Delete this destination?", d.summary()),
        "Rules stop sending to it; a rule left without destinations sends nothing. Past deliveries stay recorded. To pause it instead, disable it.",
        format!("/system/alerts/destinations/{id}/delete"),
        "Delete destination",
    )
    .await
}

pub async fn confirm_remove_rule(cx: Ctx, RuleId(id): RuleId) -> Result<Response, WebError> {
    let r = cx.state.app.alert_service().rule(&cx.actor(), id).await?;
    confirm_delete(
        &cx,
        ("Delete this rule?", r.summary()),
        "Events no longer match it; past deliveries stay recorded. To pause it instead, disable it.",
        format!("/system/alerts/rules/{id}/delete"),
        "Delete rule",
    )
    .await
}
