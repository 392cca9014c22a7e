//! `platform-user create` and `user create`: accounts for the two web planes.
//! Everything is checked before anything is written; bad input exits 2.

use std::io::Read;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::{Failure, bad_input, present};
use crate::accounts::{self, NewCustomerUser, NewPlatformUser, Password};
use crate::app::App;
use crate::domain::{Capability, CapabilitySet, Email};

#[derive(Subcommand, Debug)]
pub(crate) enum PlatformUserCommand {
    /// Create a platform operator for the /system console.
    Create(PlatformUserArgs),
}

#[derive(Args, Debug)]
pub(crate) struct PlatformUserArgs {
    #[arg(long)]
    email: String,
    #[arg(long)]
    name: String,
    /// Read the password from standard input (required; at least 12 characters).
    #[arg(long)]
    password_stdin: bool,
    /// A capability to grant (repeatable): platform.runbooks.view, platform.runbooks.run,
    /// platform.operations.view, platform.alerts.manage.
    #[arg(long = "capability", value_name = "C", num_args = 1..)]
    capabilities: Vec<String>,
    /// Grant every capability.
    #[arg(long, conflicts_with = "capabilities")]
    all_capabilities: bool,
}

#[derive(Subcommand, Debug)]
pub(crate) enum UserCommand {
    /// Create a customer user of a workspace for the /admin plane.
    Create(UserArgs),
}

#[derive(Args, Debug)]
pub(crate) struct UserArgs {
    #[arg(long)]
    email: String,
    #[arg(long)]
    name: String,
    /// The workspace's slug, e.g. default.
    #[arg(long)]
    workspace: String,
    /// Read the password from standard input (required; at least 12 characters).
    #[arg(long)]
    password_stdin: bool,
}

fn read_password(password_stdin: bool) -> Result<Password, Failure> {
    if !password_stdin {
        return Err(bad_input(
            "give the password on standard input with --password-stdin",
        ));
    }
    let mut raw = String::new();
    std::io::stdin()
        .take(Password::MAX_LEN as u64 * 4 + 2)
        .read_to_string(&mut raw)
        .map_err(|_| bad_input("the password on standard input is not valid UTF-8"))?;
    let line = raw
        .strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(&raw);
    Password::parse(line).map_err(bad_input)
}

/// Checks the operator's email, name and capabilities (no database needed).
pub(crate) fn check_platform_user(
    a: &PlatformUserArgs,
) -> Result<(Email, String, CapabilitySet), Failure> {
    let email = Email::parse(&a.email).map_err(bad_input)?;
    let name = accounts::parse_name(&a.name).map_err(bad_input)?;
    let caps = if a.all_capabilities {
        CapabilitySet::all()
    } else {
        let parsed: Vec<Capability> = a
            .capabilities
            .iter()
            .map(|c| Capability::parse(c))
            .collect::<Result<_, _>>()
            .map_err(bad_input)?;
        if parsed.is_empty() {
            return Err(bad_input(
                "grant at least one --capability C, or --all-capabilities",
            ));
        }
        CapabilitySet::of(&parsed)
    };
    Ok((email, name, caps))
}

pub(crate) fn check_user(a: &UserArgs) -> Result<(Email, String), Failure> {
    let email = Email::parse(&a.email).map_err(bad_input)?;
    let name = accounts::parse_name(&a.name).map_err(bad_input)?;
    if a.workspace.trim().is_empty() {
        return Err(bad_input("--workspace must name a workspace slug"));
    }
    Ok((email, name))
}

/// Everything a create command needs, checked before the database is opened.
pub(crate) enum Checked {
    PlatformUser(NewPlatformUser),
    User(NewCustomerUser),
}

pub(crate) fn precheck_platform_user(c: &PlatformUserCommand) -> Result<Checked, Failure> {
    let PlatformUserCommand::Create(a) = c;
    let (email, name, capabilities) = check_platform_user(a)?;
    let password = read_password(a.password_stdin)?;
    Ok(Checked::PlatformUser(NewPlatformUser {
        email,
        name,
        password,
        capabilities,
    }))
}

pub(crate) fn precheck_user(c: &UserCommand) -> Result<Checked, Failure> {
    let UserCommand::Create(a) = c;
    let (email, name) = check_user(a)?;
    let password = read_password(a.password_stdin)?;
    Ok(Checked::User(NewCustomerUser {
        email,
        name,
        password,
        workspace_slug: a.workspace.trim().to_owned(),
    }))
}

pub(crate) async fn create(app: &App, checked: Checked, json: bool) -> Result<ExitCode, Failure> {
    match checked {
        Checked::PlatformUser(new) => {
            let email = new.email.to_string();
            let caps = new.capabilities.to_stored();
            let id = accounts::create_platform_user(&app.db, &app.clock, new).await?;
            present::line(
                json,
                &serde_json::json!({"id": id, "email": email, "capabilities": caps.split(',').collect::<Vec<_>>()}),
                &format!("platform user {email} created (id {id}) with {caps}"),
            );
        }
        Checked::User(new) => {
            let email = new.email.to_string();
            let workspace = new.workspace_slug.clone();
            let id = accounts::create_customer_user(&app.db, &app.clock, new).await?;
            present::line(
                json,
                &serde_json::json!({"id": id, "email": email, "workspace": workspace}),
                &format!("user {email} created (id {id}) in workspace {workspace}"),
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
