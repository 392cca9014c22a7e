//! How the runs' pages and API paths name a run.

/// The run a control acts on, as the API's paths name it.
#[derive(utoipa::IntoParams)]
#[into_params(names("id"), parameter_in = Path)]
pub struct RunPath(
    /// The run's id
    #[allow(dead_code)]
    i64,
);

/// View run of run `id`.
pub fn run_page(id: i64) -> String {
    format!("/system/runs/{id}")
}
