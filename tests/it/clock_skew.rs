//! Several machines, one clock: two apps on one database, one on a machine
//! whose clock is five minutes ahead. Both follow the database's clock (as
//! every process opened by the CLI does), so the one ahead takes no live job
//! and a job it leaves behind is reclaimed when its lease really ends.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use tenantatlas::app::{App, Settings};
use tenantatlas::clock::{self, SharedClock};
use tenantatlas::console::DemoSize;
use tenantatlas::domain::TenantExternalId;
use tenantatlas::queue::{Handlers, Job, JobHandler, Outcome, QueueSettings, Step, Worker};
use tenantatlas::runbooks::ScopeRequest;
use tenantatlas::runs::{RunStatus, TenantJobArgs};
use tokio::sync::mpsc;

use crate::support::runs::{BACKFILL, cli};
use crate::support::{Backend, TestDb, loopback_alerts, test_settings};

const AHEAD_MS: i64 = 5 * 60 * 1000;

/// A worker that dies holding its job: its work says which job it holds and
/// never returns, and its process is killed (the step is aborted).
struct DiesHoldingIt(mpsc::UnboundedSender<i64>);

#[async_trait]
impl JobHandler for DiesHoldingIt {
    type Args = TenantJobArgs;
    type Admitted = ();
    type Output = ();

    async fn work(&self, job: &Job<TenantJobArgs>, _: &()) -> Outcome<()> {
        let _ = self.0.send(job.id);
        std::future::pending().await
    }
}

/// A worker of `app` whose process dies inside every job it claims.
struct Dying {
    worker: Worker,
    held: mpsc::UnboundedReceiver<i64>,
}

fn dying_worker(app: &App) -> Dying {
    dying_worker_on(app, app.clock.clone(), app.settings.job_lease_ms)
}

/// [`dying_worker`] with leases of `lease_ms`.
fn dying_worker_leasing(app: &App, lease_ms: i64) -> Dying {
    dying_worker_on(app, app.clock.clone(), lease_ms)
}

/// [`dying_worker`] on the clock `clock`, with leases of `lease_ms`.
fn dying_worker_on(app: &App, clock: SharedClock, lease_ms: i64) -> Dying {
    let (tx, held) = mpsc::unbounded_channel();
    let settings = QueueSettings {
        job_lease_ms: lease_ms,
        ..app.settings.queue()
    };
    let worker = Worker::new(
        app.db.clone(),
        clock,
        settings,
        Handlers::default().with(DiesHoldingIt(tx)),
    );
    Dying { worker, held }
}

impl Dying {
    /// The job it claimed and died holding, or None when nothing was ready.
    async fn claims(mut self) -> Option<i64> {
        let worker = self.worker.clone();
        let mut step = tokio::spawn(async move { worker.run_once().await });
        tokio::select! {
            held = self.held.recv() => {
                step.abort();
                held
            }
            done = &mut step => match done.expect("worker step").expect("worker step") {
                Step::Idle => None,
                Step::Ran { job_id, recorded } => panic!("job {job_id} ended: {recorded:?}"),
            },
        }
    }
}

/// The service as a CLI process opens it, on the machine clock `local`.
async fn open(url: &str, settings: &Settings, local: SharedClock) -> App {
    let app = App::open_on(url, 4, settings.clone(), loopback_alerts(), local)
        .await
        .expect("open");
    app.migrate().await.expect("migrate");
    app.bootstrap().await.expect("bootstrap");
    app
}

/// A normal machine and one five minutes ahead, on one fresh database.
async fn two_machines(backend: Backend, lease_ms: i64) -> Option<(TestDb, App, App)> {
    let db = TestDb::new(backend).await?;
    let settings = Settings {
        job_lease_ms: lease_ms,
        ..test_settings()
    };
    let normal = open(&db.url, &settings, clock::system()).await;
    let ahead = open(&db.url, &settings, clock::skewed(clock::system(), AHEAD_MS)).await;
    let apart = (ahead.clock.now_ms() - normal.clock.now_ms()).abs();
    assert!(
        apart < 1_000,
        "both read the database's time ({apart} ms apart)"
    );
    Some((db, normal, ahead))
}

async fn close<const N: usize>(db: TestDb, apps: [App; N]) {
    for app in apps {
        app.close().await;
    }
    db.teardown().await;
}

/// One job: the lifecycle backfill of tenant `platform`.
async fn one_job(app: &App) {
    job_of(app, "platform").await;
}

/// One job, the lifecycle backfill of `tenant`; returns its run's id.
async fn job_of(app: &App, tenant: &str) -> i64 {
    let scope = ScopeRequest::Tenant(TenantExternalId::parse(tenant).expect("id"));
    app.runbooks()
        .start(&cli(), BACKFILL, &scope, None)
        .await
        .expect("start")
        .run
        .id
}

async fn claims(worker: &Worker) -> Option<i64> {
    match worker.run_once().await.expect("worker step") {
        Step::Idle => None,
        Step::Ran { job_id, .. } => Some(job_id),
    }
}

async fn no_live_job_is_taken(backend: Backend) {
    let Some((db, normal, ahead)) = two_machines(backend, 30_000).await else {
        return;
    };
    one_job(&normal).await;
    let held = dying_worker(&normal).claims().await.expect("a job to hold");

    // The lease has 30 s to go on the database's clock: the machine five
    // minutes ahead sees it live, again and again.
    for _ in 0..3 {
        assert_eq!(claims(&ahead.worker()).await, None, "a live job was taken");
    }

    // Without the database's clock, the same machine would take it at once.
    let skewed = clock::skewed(clock::system(), AHEAD_MS);
    let own_clock = dying_worker_on(&ahead, skewed, ahead.settings.job_lease_ms);
    assert_eq!(own_clock.claims().await, Some(held), "the skew is real");
    close(db, [normal, ahead]).await;
}

async fn a_dead_workers_job_is_reclaimed_on_time(backend: Backend) {
    let lease = Duration::from_millis(1_500);
    let Some((db, normal, ahead)) = two_machines(backend, lease.as_millis() as i64).await else {
        return;
    };
    one_job(&normal).await;
    // The machine ahead claims the job and dies with it: it stamped the
    // lease's end on the database's clock, not five minutes later.
    let died = Instant::now();
    let held = dying_worker(&ahead).claims().await.expect("a job to hold");
    let worker = normal.worker();
    let deadline = died + lease + Duration::from_secs(5);
    let taken = loop {
        let at = died.elapsed();
        if let Some(job) = claims(&worker).await {
            break (job, at);
        }
        assert!(Instant::now() < deadline, "the dead worker's job waits");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(taken.0, held);
    assert!(
        taken.1 + Duration::from_millis(100) >= lease,
        "reclaimed {:?} after the claim, before its {lease:?} lease ended",
        taken.1
    );
    close(db, [normal, ahead]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_ahead_takes_no_live_job_sqlite() {
    no_live_job_is_taken(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_ahead_takes_no_live_job_postgres() {
    no_live_job_is_taken(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_job_of_a_dead_worker_ahead_is_reclaimed_on_time_sqlite() {
    a_dead_workers_job_is_reclaimed_on_time(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_job_of_a_dead_worker_ahead_is_reclaimed_on_time_postgres() {
    a_dead_workers_job_is_reclaimed_on_time(Backend::Postgres).await;
}

/// The same through the real binary on PostgreSQL, where machines really are
/// several: a `worker` process whose clock is five minutes ahead
/// (`TENANTATLAS_CLOCK_SKEW_MS`) beside this process on the normal clock,
/// which holds one job under a live lease and leaves one whose lease ends in
/// three seconds. The worker ahead takes the second when its lease ends, not
/// before, and never the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_process_ahead_takes_only_the_dead_job_and_on_time() {
    let Some((db, normal, ahead)) = two_machines(Backend::Postgres, 30_000).await else {
        return;
    };
    ahead.close().await;
    let seeded = normal
        .demo()
        .seed_tenants(DemoSize::new(1, 0, 0).expect("size"))
        .await
        .expect("seed");
    assert_eq!(seeded.tenants, 1);
    let live_run = job_of(&normal, "platform").await;
    dying_worker(&normal).claims().await.expect("the live job");
    let dead_run = job_of(&normal, "demo-00001").await;
    let lease = Duration::from_secs(3);
    let died = Instant::now();
    dying_worker_leasing(&normal, lease.as_millis() as i64)
        .claims()
        .await
        .expect("the dead job");

    let dir = tempfile::tempdir().expect("dir");
    let mut worker = tokio::process::Command::new(env!("CARGO_BIN_EXE_tenantatlas"))
        .args(["worker", "--concurrency", "2"])
        .current_dir(dir.path())
        .env("DATABASE_URL", &db.url)
        .env("TENANTATLAS_CLOCK_SKEW_MS", AHEAD_MS.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn worker");

    let runs = normal.runs();
    let deadline = died + lease + Duration::from_secs(20);
    let reclaimed = loop {
        let live = runs.run(&cli(), live_run).await.expect("live run");
        assert_eq!(live.summary_counts.processed, 0, "a live job was taken");
        let dead = runs.run(&cli(), dead_run).await.expect("dead run");
        if dead.status == RunStatus::Completed {
            break died.elapsed();
        }
        assert!(Instant::now() < deadline, "the dead worker's job waits");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        reclaimed + Duration::from_millis(100) >= lease,
        "reclaimed {reclaimed:?} after the claim, before its {lease:?} lease ended"
    );
    let live = runs.run(&cli(), live_run).await.expect("live run");
    assert_eq!(live.summary_counts.processed, 0, "a live job was taken");
    assert!(live.is_active());
    let _ = worker.start_kill();
    let _ = worker.wait().await;
    close(db, [normal]).await;
}
