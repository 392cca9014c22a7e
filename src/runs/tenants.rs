//! A run's tenants as the doors read them: one page with the box score,
//! every row of a query (exports), and the tenants in given states (what a
//! retry takes). The run's workspace bounds which tenants show.

use super::OperationRunService;
use crate::domain::run_tenants::{BoxScore, TenantPage, TenantQuery, TenantRow, TenantState};
use crate::domain::{Actor, Capability};
use crate::error::{Error, Result};
use crate::storage::runs::controls::{self as rc, TenantsIn};
use crate::storage::runs::tenants as run_tenants;

impl OperationRunService {
    /// One page of a run's tenants with its box score.
    pub async fn run_tenants(
        &self,
        actor: &Actor,
        run_id: i64,
        query: &TenantQuery,
    ) -> Result<TenantPage> {
        actor.require(Capability::OPERATIONS_VIEW)?;
        self.tenant_page(run_id, query).await
    }

    /// Every tenant of a run matching the query (filter, search, order), for
    /// an export.
    pub async fn run_tenants_all(
        &self,
        actor: &Actor,
        run_id: i64,
        query: &TenantQuery,
    ) -> Result<Vec<TenantRow>> {
        actor.require(Capability::OPERATIONS_VIEW)?;
        self.tenant_rows(run_id, query).await
    }

    /// The run's tenants in any of `states`, in tenant order.
    pub async fn tenants_in_states(&self, run_id: i64, states: &[TenantState]) -> Result<Vec<i64>> {
        Ok(run_tenants::tenants_in_states(&self.db, run_id, states).await?)
    }

    /// One page of the run's tenants and its box score, waiting on one read
    /// rather than the workspace's lookup and then the page.
    async fn tenant_page(&self, run_id: i64, query: &TenantQuery) -> Result<TenantPage> {
        self.in_runs_workspace(run_id, |within| self.tenant_page_in(run_id, within, query))
            .await
    }

    /// `read` in the run's own workspace, beside the lookup of that
    /// workspace; again over all tenants for a run without one. NotFound
    /// without such a run.
    async fn in_runs_workspace<T, F, Fut>(&self, run_id: i64, read: F) -> Result<T>
    where
        F: Fn(TenantsIn) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let (found, workspace_id) =
            tokio::try_join!(read(TenantsIn::RunsOwn), self.workspace_of(run_id))?;
        match workspace_id {
            Some(_) => Ok(found),
            None => read(TenantsIn::Any).await,
        }
    }

    /// [`Self::tenant_page`] within `within`. Without a search, how many
    /// match is read off the box score rather than counted again.
    async fn tenant_page_in(
        &self,
        run_id: i64,
        within: TenantsIn,
        query: &TenantQuery,
    ) -> Result<TenantPage> {
        let matching = async {
            match &query.search {
                Some(_) => rc::count_matching(&self.db, run_id, within, query)
                    .await
                    .map(Some),
                None => Ok(None),
            }
        };
        let (rows, counts, counted) = tokio::try_join!(
            rc::tenant_page(&self.db, run_id, within, query, false),
            rc::box_score(&self.db, run_id),
            matching,
        )?;
        let box_score = BoxScore::from_counts(&counts);
        let matching = match (counted, query.state) {
            (Some(n), _) => n,
            (None, Some(state)) => box_score.get(state),
            (None, None) => box_score.total,
        };
        Ok(TenantPage {
            run_id,
            rows,
            matching,
            page: query.page,
            per_page: query.per_page,
            box_score,
        })
    }

    /// Every tenant matching the query, in its order (exports).
    async fn tenant_rows(&self, run_id: i64, query: &TenantQuery) -> Result<Vec<TenantRow>> {
        self.in_runs_workspace(run_id, |within| async move {
            Ok(rc::tenant_page(&self.db, run_id, within, query, true).await?)
        })
        .await
    }

    /// The run's workspace; NotFound without such a run.
    async fn workspace_of(&self, run_id: i64) -> Result<Option<i64>> {
        rc::run_workspace(&self.db, run_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("run {run_id} does not exist")))
    }
}
