//! `demo seed`: legacy demo data at any scale.

use std::process::ExitCode;

use super::args::DemoCommand;
use super::config::Config;
use crate::console::DemoSize;
use crate::domain::DEFAULT_WORKSPACE_SLUG;
use crate::doors::shell::{self, Failure};

pub async fn run(config: &Config, command: DemoCommand, json: bool) -> Result<ExitCode, Failure> {
    let DemoCommand::Seed {
        tenants,
        findings_per_tenant,
        bad_tenants,
    } = command;
    let size = DemoSize::new(tenants, findings_per_tenant, bad_tenants)?;
    config
        .with_app(async |app| {
            let report = app.demo().seed_tenants(size).await?;
            shell::line(
                json,
                &report,
                &format!(
                    "seeded {} tenants, {} findings, {} observations ({} bad tenants) in workspace {DEFAULT_WORKSPACE_SLUG}",
                    report.tenants, report.findings, report.observations, report.bad_tenants
                ),
            );
            Ok(ExitCode::SUCCESS)
        })
        .await
}
