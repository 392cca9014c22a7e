//! `alerts destination|rule|deliveries`: where alerts of failed runs go.

use std::process::ExitCode;

use super::args::{AlertsCommand, DeliveriesCommand, DestinationCommand, RuleCommand};
use super::config::{Config, actor};
use crate::alerts::{Channel, RuleRequest};
use crate::app::App;
use crate::doors::shell::out;
use crate::doors::shell::{self, Failure};

pub async fn run(config: &Config, command: AlertsCommand, json: bool) -> Result<ExitCode, Failure> {
    config
        .with_app(async |app| act(app, command, json).await)
        .await
}

async fn act(app: &App, command: AlertsCommand, json: bool) -> Result<ExitCode, Failure> {
    let service = app.alert_service();
    let actor = actor();
    match command {
        AlertsCommand::Destination(DestinationCommand::Add {
            kind,
            name,
            url,
            to,
        }) => {
            let channel = Channel::from_parts(Some(&kind), url.as_deref(), &to)
                .map_err(Failure::bad_input)?;
            let d = service.add_destination(&actor, &name, channel).await?;
            shell::line(
                json,
                &d,
                &format!(
                    "destination {} added: {} {} {}",
                    d.id, d.kind, d.name, d.target
                ),
            );
        }
        AlertsCommand::Destination(DestinationCommand::List) => {
            let list = service.destinations(&actor).await?;
            if json {
                shell::json(&list);
            }
            for d in list.iter().filter(|_| !json) {
                out!("{:>4}  {:<6} {:<24} {}", d.id, d.kind, d.name, d.target);
            }
        }
        AlertsCommand::Destination(DestinationCommand::Remove { id }) => {
            service.remove_destination(&actor, id).await?;
            shell::line(
                json,
                &serde_json::json!({"removed": id}),
                &format!("destination {id} removed"),
            );
        }
        AlertsCommand::Destination(DestinationCommand::Test { id }) => {
            let d = service.test_destination(&actor, id).await?;
            let text = match &d.last_error {
                Some(e) => format!("test message to destination {id} failed: {e}"),
                None => format!("test message sent to destination {id}"),
            };
            shell::line(json, &d, &text);
            if d.status != "sent" {
                return Ok(ExitCode::from(1));
            }
        }
        AlertsCommand::Rule(RuleCommand::Add {
            name,
            event,
            destinations,
            min_severity,
            cooldown_seconds,
            quiet_hours,
            timezone,
        }) => {
            let request = RuleRequest {
                name,
                event,
                destination_ids: destinations,
                min_severity,
                cooldown_seconds,
                quiet_hours,
                timezone,
            };
            let r = service.add_rule(&actor, request).await?;
            shell::line(
                json,
                &r,
                &format!(
                    "rule {} added: {} → destinations {:?}",
                    r.id, r.event, r.destination_ids
                ),
            );
        }
        AlertsCommand::Rule(RuleCommand::List) => {
            let list = service.rules(&actor).await?;
            if json {
                shell::json(&list);
            }
            for r in list.iter().filter(|_| !json) {
                out!(
                    "{:>4}  {:<24} {:<22} ≥{:<8} cooldown {}s quiet {} {} → {:?}",
                    r.id,
                    r.name,
                    r.event,
                    r.min_severity,
                    r.cooldown_seconds,
                    r.quiet_hours.as_deref().unwrap_or("-"),
                    r.timezone.as_deref().unwrap_or(""),
                    r.destination_ids
                );
            }
        }
        AlertsCommand::Rule(RuleCommand::Remove { id }) => {
            service.remove_rule(&actor, id).await?;
            shell::line(
                json,
                &serde_json::json!({"removed": id}),
                &format!("rule {id} removed"),
            );
        }
        AlertsCommand::Deliveries(DeliveriesCommand::List { limit }) => {
            let list = service.deliveries(&actor, limit).await?;
            if json {
                shell::json(&list);
            }
            for d in list.iter().filter(|_| !json) {
                out!(
                    "{:>5}  {:<22} {:<10} rule {:<4} dest {:<4} attempts {} {}",
                    d.id,
                    d.event,
                    d.status,
                    d.rule_id
                        .map(|i| i.to_string())
                        .unwrap_or_else(|| "-".into()),
                    d.destination_id
                        .map(|i| i.to_string())
                        .unwrap_or_else(|| "-".into()),
                    d.attempts,
                    d.last_error.as_deref().unwrap_or("")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
