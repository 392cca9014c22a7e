//! `platform-user create` and `user create`: accounts for the two web planes.
//! Everything is checked before anything is written; bad input exits 2.

use std::io::Read;
use std::process::ExitCode;

use super::args::{PlatformUserArgs, PlatformUserCommand, UserArgs, UserCommand};
use super::config::{Config, actor};
use crate::accounts::{self, NewCustomerUser, NewPlatformUser, Password};
use crate::app::App;
use crate::domain::{Capability, CapabilitySet, Email};
use crate::doors::shell::{self, Failure};

fn read_password(password_stdin: bool) -> Result<Password, Failure> {
    if !password_stdin {
        return Err(Failure::bad_input(
            "give the password on standard input with --password-stdin",
        ));
    }
    let mut raw = String::new();
    std::io::stdin()
        .take(Password::MAX_LEN as u64 * 4 + 2)
        .read_to_string(&mut raw)
        .map_err(|_| Failure::bad_input("the password on standard input is not valid UTF-8"))?;
    let line = raw
        .strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(&raw);
    Password::parse(line).map_err(Failure::bad_input)
}

/// Checks the operator's email, name and capabilities (no database needed).
fn check_platform_user(a: &PlatformUserArgs) -> Result<(Email, String, CapabilitySet), Failure> {
    let email = Email::parse(&a.email).map_err(Failure::bad_input)?;
    let name = accounts::parse_name(&a.name).map_err(Failure::bad_input)?;
    let caps = if a.all_capabilities {
        CapabilitySet::all()
    } else {
        let parsed: Vec<Capability> = a
            .capabilities
            .iter()
            .map(|c| Capability::parse(c))
            .collect::<Result<_, _>>()
            .map_err(Failure::bad_input)?;
        if parsed.is_empty() {
            return Err(Failure::bad_input(
                "grant at least one --capability C, or --all-capabilities",
            ));
        }
        CapabilitySet::of(&parsed)
    };
    Ok((email, name, caps))
}

fn check_user(a: &UserArgs) -> Result<(Email, String, String), Failure> {
    let email = Email::parse(&a.email).map_err(Failure::bad_input)?;
    let name = accounts::parse_name(&a.name).map_err(Failure::bad_input)?;
    let workspace = accounts::parse_workspace_slug(&a.workspace).map_err(Failure::bad_input)?;
    Ok((email, name, workspace))
}

/// `platform-user create`: everything, the password included, is read and
/// checked before the database is opened.
pub async fn platform_user(
    config: &Config,
    command: PlatformUserCommand,
    json: bool,
) -> Result<ExitCode, Failure> {
    let checked = precheck_platform_user(&command)?;
    config
        .with_app(async |app| create(app, checked, json).await)
        .await
}

/// `user create`, checked like `platform-user create`.
pub async fn user(config: &Config, command: UserCommand, json: bool) -> Result<ExitCode, Failure> {
    let checked = precheck_user(&command)?;
    config
        .with_app(async |app| create(app, checked, json).await)
        .await
}

/// Everything a create command needs, checked before the database is opened.
enum Checked {
    PlatformUser(NewPlatformUser),
    User(NewCustomerUser),
}

fn precheck_platform_user(c: &PlatformUserCommand) -> Result<Checked, Failure> {
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

fn precheck_user(c: &UserCommand) -> Result<Checked, Failure> {
    let UserCommand::Create(a) = c;
    let (email, name, workspace_slug) = check_user(a)?;
    let password = read_password(a.password_stdin)?;
    Ok(Checked::User(NewCustomerUser {
        email,
        name,
        password,
        workspace_slug,
    }))
}

async fn create(app: &App, checked: Checked, json: bool) -> Result<ExitCode, Failure> {
    match checked {
        Checked::PlatformUser(new) => {
            let email = new.email.to_string();
            let caps = new.capabilities.to_stored();
            let id = app.accounts().create_platform_user(&actor(), new).await?;
            shell::line(
                json,
                &serde_json::json!({"id": id, "email": email, "capabilities": caps.split(',').collect::<Vec<_>>()}),
                &format!("platform user {email} created (id {id}) with {caps}"),
            );
        }
        Checked::User(new) => {
            let email = new.email.to_string();
            let workspace = new.workspace_slug.clone();
            let id = app.accounts().create_customer_user(&actor(), new).await?;
            shell::line(
                json,
                &serde_json::json!({"id": id, "email": email, "workspace": workspace}),
                &format!("user {email} created (id {id}) in workspace {workspace}"),
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
