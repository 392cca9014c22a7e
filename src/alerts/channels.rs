//! Sending one message: Teams (an Adaptive Card posted to the webhook) or
//! email over SMTP (plain text and HTML). Errors come back as text for the
//! delivery's `last_error`; a webhook URL never appears in them.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::alerts::AlertSettings;
use crate::alerts::message::AlertMessage;
use crate::alerts::values::{Channel, mask_url};

/// Characters of a refusing receiver's answer kept in the delivery's error.
const ERROR_BODY_CHARS: usize = 120;
/// Bytes of that answer read at most.
const ERROR_BODY_BYTES: usize = 4 * 1024;

/// What sending needs: one HTTP client (a connection pool for every
/// webhook) and the alert settings (SMTP, sender, time-out).
#[derive(Clone)]
pub struct Sender {
    pub http: reqwest::Client,
    pub alerts: Arc<AlertSettings>,
}

pub async fn send(app: &Sender, channel: &Channel, message: &AlertMessage) -> Result<(), String> {
    match channel {
        Channel::Teams { url } => teams(app, url, message).await,
        Channel::Email { to } => email(app, to, message).await,
    }
}

/// The Teams message: an Adaptive Card in `attachments`.
pub fn adaptive_card(m: &AlertMessage) -> serde_json::Value {
    let mut body = vec![
        serde_json::json!({"type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": true, "text": m.title}),
        serde_json::json!({"type": "TextBlock", "wrap": true, "text": m.summary}),
    ];
    let mut facts: Vec<serde_json::Value> = m
        .fact_list()
        .iter()
        .map(|(k, v)| serde_json::json!({"title": k, "value": v}))
        .collect();
    facts.extend(
        m.counts
            .iter()
            .map(|(k, v)| serde_json::json!({"title": k, "value": v.to_string()})),
    );
    body.push(serde_json::json!({"type": "FactSet", "facts": facts}));
    if !m.failures.is_empty() {
        body.push(
            serde_json::json!({"type": "TextBlock", "weight": "Bolder", "text": "First failures"}),
        );
        body.extend(
            m.failures
                .iter()
                .map(|f| serde_json::json!({"type": "TextBlock", "wrap": true, "text": f})),
        );
    }
    let actions: Vec<serde_json::Value> = m
        .link_list()
        .iter()
        .map(|(title, url)| serde_json::json!({"type": "Action.OpenUrl", "title": title, "url": url}))
        .collect();
    serde_json::json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
                "actions": actions,
            },
        }],
    })
}

async fn teams(app: &Sender, url: &str, m: &AlertMessage) -> Result<(), String> {
    app.alerts.webhook_policy.check(url).await?;
    let response = app
        .http
        .post(url)
        .timeout(Duration::from_millis(app.alerts.timeout_ms))
        .json(&adaptive_card(m))
        .send()
        .await
        .map_err(|e| {
            let what = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "could not connect"
            } else {
                "request failed"
            };
            format!("Teams webhook {}: {what}", mask_url(url))
        })?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    // The start of what it said, on one line: enough to tell a throttle
    // from a removed webhook, never a page of HTML.
    let body = answer_start(response).await;
    let body: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let short: String = body.chars().take(ERROR_BODY_CHARS).collect();
    let more = if body.chars().count() > ERROR_BODY_CHARS {
        "…"
    } else {
        ""
    };
    Err(format!(
        "Teams webhook {} answered HTTP {}{}",
        mask_url(url),
        status.as_u16(),
        match short.is_empty() {
            true => String::new(),
            false => format!(": {short}{more}"),
        }
    ))
}

/// The first bytes of a refusing receiver's answer: read a chunk at a time
/// and no further than a few kilobytes, so a receiver that answers with a
/// huge (or endless) body costs a delivery nothing more.
async fn answer_start(mut response: reqwest::Response) -> String {
    let mut read = Vec::new();
    while read.len() < ERROR_BODY_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => read.extend_from_slice(&chunk),
            _ => break,
        }
    }
    read.truncate(ERROR_BODY_BYTES);
    String::from_utf8_lossy(&read).into_owned()
}

fn plain_text(m: &AlertMessage) -> String {
    let mut s = format!("{}\n\n{}\n\n", m.title, m.summary);
    for (k, v) in m.fact_list() {
        s.push_str(&format!("{k}: {v}\n"));
    }
    for (k, v) in &m.counts {
        s.push_str(&format!("{k}: {v}\n"));
    }
    if !m.failures.is_empty() {
        s.push_str("\nFirst failures:\n");
        for f in &m.failures {
            s.push_str(&format!("- {f}\n"));
        }
    }
    s.push('\n');
    for (title, url) in m.link_list() {
        s.push_str(&format!("{title}: {url}\n"));
    }
    s
}

fn html(m: &AlertMessage) -> String {
    let e = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut rows = String::new();
    for (k, v) in m.fact_list() {
        rows.push_str(&format!(
            "<tr><th align=\"left\">{}</th><td>{}</td></tr>",
            e(&k),
            e(&v)
        ));
    }
    for (k, v) in &m.counts {
        rows.push_str(&format!(
            "<tr><th align=\"left\">{}</th><td>{v}</td></tr>",
            e(k)
        ));
    }
    let links: Vec<String> = m
        .link_list()
        .iter()
        .map(|(title, url)| format!("<a href=\"{}\">{}</a>", e(url), e(title)))
        .collect();
    let links = links.join(" · ");
    let failures: String = m
        .failures
        .iter()
        .map(|f| format!("<li>{}</li>", e(f)))
        .collect();
    format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\"><h2>{}</h2><p>{}</p>\
         <table>{rows}</table>{}<p>{links}</p></body></html>",
        e(&m.title),
        e(&m.summary),
        if failures.is_empty() {
            String::new()
        } else {
            format!("<h3>First failures</h3><ul>{failures}</ul>")
        },
    )
}

async fn email(app: &Sender, to: &[String], m: &AlertMessage) -> Result<(), String> {
    let smtp_url = app
        .alerts
        .smtp_url
        .as_deref()
        .ok_or("SMTP_URL is not set: email alerts cannot be sent")?;
    let from: Mailbox = app
        .alerts
        .mail_from
        .parse()
        .map_err(|e| format!("TENANTATLAS_MAIL_FROM is invalid: {e}"))?;
    let mut builder = Message::builder().from(from).subject(m.title.clone());
    for addr in to {
        builder = builder.to(addr
            .parse()
            .map_err(|e| format!("bad recipient {addr:?}: {e}"))?);
    }
    let message = builder
        .multipart(MultiPart::alternative_plain_html(plain_text(m), html(m)))
        .map_err(|e| format!("cannot build the email: {e}"))?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
        .map_err(|_| "SMTP_URL is not a valid smtp:// or smtps:// URL".to_string())?
        .timeout(Some(Duration::from_millis(app.alerts.timeout_ms)))
        .build();
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| format!("SMTP delivery failed: {e}"))
}
