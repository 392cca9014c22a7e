//! Demo data: legacy tenants and findings at any scale (`demo seed`), and the
//! sample tenants and operator of `serve --demo`.

use crate::accounts::{self, NewPlatformUser, Password};
use crate::app::App;
use crate::domain::{CapabilitySet, Email};
use crate::error::{Error, Result};
use crate::storage::seed;

pub use crate::storage::seed::SeedReport;

/// Sample data `serve --demo` adds when the workspace has none.
const SAMPLE_TENANTS: i64 = 8;
const SAMPLE_FINDINGS_PER_TENANT: i64 = 250;
const SAMPLE_BAD_TENANTS: i64 = 1;
/// The operator `serve --demo` signs in as.
pub const OPERATOR_EMAIL: &str = "operator@demo.tenantatlas.test";

/// How much demo data to make, checked before anything is opened.
#[derive(Debug, Clone, Copy)]
pub struct DemoSize {
    tenants: i64,
    findings_per_tenant: i64,
    bad_tenants: i64,
}

impl DemoSize {
    /// `bad_tenants` of the `tenants` get one finding in an unknown legacy state.
    pub fn new(tenants: i64, findings_per_tenant: i64, bad_tenants: i64) -> Result<DemoSize> {
        if !(0..=100_000).contains(&tenants)
            || !(0..=10_000_000).contains(&findings_per_tenant)
            || bad_tenants < 0
        {
            return Err(Error::BadInput(
                "--tenants must be 0..=100000, --findings-per-tenant 0..=10000000, --bad-tenants at least 0"
                    .into(),
            ));
        }
        if bad_tenants > tenants {
            return Err(Error::BadInput(
                "--bad-tenants cannot exceed --tenants".into(),
            ));
        }
        Ok(DemoSize {
            tenants,
            findings_per_tenant,
            bad_tenants,
        })
    }
}

/// Adds demo tenants (`demo-00001`, … after those that exist) with legacy
/// findings to the default workspace.
pub async fn seed(app: &App, size: DemoSize) -> Result<SeedReport> {
    let ws = app.runbooks().workspace().await?;
    Ok(seed::seed(
        &app.db,
        ws.id,
        size.tenants,
        size.findings_per_tenant,
        size.bad_tenants,
        app.clock.now(),
    )
    .await?)
}

/// The sample tenants of `serve --demo`, unless demo tenants exist already.
pub async fn seed_sample(app: &App) -> Result<Option<SeedReport>> {
    let ws = app.runbooks().workspace().await?;
    if seed::demo_tenants(&app.db, ws.id).await? > 0 {
        return Ok(None);
    }
    let size = DemoSize::new(
        SAMPLE_TENANTS,
        SAMPLE_FINDINGS_PER_TENANT,
        SAMPLE_BAD_TENANTS,
    )?;
    seed(app, size).await.map(Some)
}

/// How to sign in as the demo operator.
#[derive(Debug, Clone)]
pub struct DemoOperator {
    pub email: &'static str,
    /// The generated password, shown once; `None` when it was given.
    pub generated_password: Option<String>,
}

/// Creates (or resets) the demo operator with every capability, with the
/// given password or a generated one.
pub async fn operator(app: &App, password: Option<&str>) -> Result<DemoOperator> {
    let (password, generated_password) = match password.filter(|p| !p.is_empty()) {
        Some(p) => (
            Password::parse(p)
                .map_err(|e| Error::BadInput(format!("TENANTATLAS_DEMO_PASSWORD: {e}")))?,
            None,
        ),
        None => {
            let p = Password::generate();
            let shown = p.expose().to_owned();
            (p, Some(shown))
        }
    };
    let email = Email::parse(OPERATOR_EMAIL).map_err(Error::BadInput)?;
    accounts::upsert_platform_user(
        &app.db,
        &app.clock,
        NewPlatformUser {
            email,
            name: "Demo Operator".into(),
            password,
            capabilities: CapabilitySet::all(),
        },
    )
    .await
    .map_err(|e| {
        Error::Internal(anyhow::anyhow!(
            "creating the demo operator failed: {}",
            e.detail()
        ))
    })?;
    Ok(DemoOperator {
        email: OPERATOR_EMAIL,
        generated_password,
    })
}
