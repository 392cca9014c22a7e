//! Demo data: legacy tenants and findings at any scale (`demo seed`), and
//! `serve --demo`'s sample tenants with an operator with every capability
//! to sign in as.

use crate::accounts::{self, NewPlatformUser, Password};
use crate::clock::SharedClock;
use crate::domain::{CapabilitySet, Email};
use crate::error::{Error, Result};
use crate::storage::{Db, directory, seed};

pub use crate::storage::seed::SeedReport;

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

/// Sample data `serve --demo` adds when the database has none.
const DEMO_TENANTS: i64 = 8;
const DEMO_FINDINGS_PER_TENANT: i64 = 250;
const DEMO_BAD_TENANTS: i64 = 1;
/// External ids of demo tenants start with this.
const DEMO_TENANT_PREFIX: &str = "demo-";
/// The operator `serve --demo` signs in as.
pub const DEMO_OPERATOR_EMAIL: &str = "operator@demo.tenantatlas.test";

/// The sample data added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoData {
    pub tenants: i64,
    pub findings: i64,
    /// Tenants with a finding in an unknown legacy state.
    pub bad_tenants: i64,
}

/// What seeding the demo did.
#[derive(Debug, Clone)]
pub struct DemoSeed {
    /// None when demo data existed already.
    pub added: Option<DemoData>,
    pub operator_email: String,
    /// The generated password, shown once; none when it was given.
    pub generated_password: Option<String>,
}

/// Adds the demo data (the CLI's `demo seed` and `serve --demo`).
#[derive(Clone)]
pub struct DemoService {
    db: Db,
    clock: SharedClock,
}

impl DemoService {
    pub fn new(db: Db, clock: SharedClock) -> DemoService {
        DemoService { db, clock }
    }
}

impl DemoService {
    /// Adds demo tenants (`demo-00001`, … after those that exist) with legacy
    /// findings to the default workspace.
    pub async fn seed_tenants(&self, size: DemoSize) -> Result<SeedReport> {
        let ws = directory::default_workspace(&self.db).await?;
        Ok(seed::seed(
            &self.db,
            ws.id,
            size.tenants,
            size.findings_per_tenant,
            size.bad_tenants,
            self.clock.now(),
        )
        .await?)
    }

    /// Seeds demo tenants (once) and creates or resets the demo operator,
    /// with `password` or a generated one.
    pub async fn seed_demo(&self, password: Option<&str>) -> Result<DemoSeed> {
        let password = match password.filter(|p| !p.is_empty()) {
            Some(p) => Some(
                Password::parse(p)
                    .map_err(|e| Error::BadInput(format!("TENANTATLAS_DEMO_PASSWORD: {e}")))?,
            ),
            None => None,
        };
        let ws = directory::default_workspace(&self.db).await?;
        let existing = directory::count_tenants_with_prefix(&self.db, DEMO_TENANT_PREFIX).await?;
        let added = if existing == 0 {
            let report = seed::seed(
                &self.db,
                ws.id,
                DEMO_TENANTS,
                DEMO_FINDINGS_PER_TENANT,
                DEMO_BAD_TENANTS,
                self.clock.now(),
            )
            .await?;
            Some(DemoData {
                tenants: report.tenants,
                findings: report.findings,
                bad_tenants: report.bad_tenants,
            })
        } else {
            None
        };
        let (password, generated_password) = match password {
            Some(p) => (p, None),
            None => {
                let p = Password::generate();
                let shown = p.expose().to_owned();
                (p, Some(shown))
            }
        };
        let email = Email::parse(DEMO_OPERATOR_EMAIL).map_err(Error::BadInput)?;
        accounts::upsert_platform_user(
            &self.db,
            &self.clock,
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
        Ok(DemoSeed {
            added,
            operator_email: DEMO_OPERATOR_EMAIL.to_owned(),
            generated_password,
        })
    }
}
