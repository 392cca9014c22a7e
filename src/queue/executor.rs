//! The executor: what happens to the jobs of one claim, from the claim's
//! transaction to their recorded outcomes (the life told in `queue`'s
//! module docs). It is generic over the kind's [`JobHandler`]; [`Kind`]
//! erases the type so a worker holds every kind in one map.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use async_trait::async_trait;

use super::heartbeat::Heartbeat;
use super::{
    Admit, Job, JobArgs, JobHandler, Lease, Outcome, QueueSettings, REASON_ATTEMPTS_EXHAUSTED,
    Reason, Recorded, backoff_ms,
};
use crate::clock::SharedClock;
use crate::domain::{JobKind, JobStatus};
use crate::error::{Error, Result};
use crate::storage::queue::{self as q, ClaimedJob, Leave};
use crate::storage::{Db, Tx};

/// What every claim needs: the database, the clock and the tunables.
#[derive(Clone)]
pub(crate) struct Engine {
    pub db: Db,
    pub clock: SharedClock,
    pub settings: Arc<QueueSettings>,
}

/// A registered kind, its handler's types erased.
#[async_trait]
pub(crate) trait Execute: Send + Sync {
    fn kind(&self) -> JobKind;
    fn batch_limit(&self) -> usize;
    /// Runs the claimed `rows` (all of this kind) to their recorded
    /// outcomes; `tx` holds their claim.
    async fn execute(
        &self,
        engine: &Engine,
        owner: String,
        rows: Vec<ClaimedJob>,
        tx: Tx,
    ) -> Result<Vec<(i64, Recorded)>>;
}

/// A job and how it went.
type Ended<H> = (
    Job<<H as JobHandler>::Args>,
    Outcome<<H as JobHandler>::Output>,
);

/// A handler, registered under its arguments' kind.
pub(crate) struct Kind<H>(pub H);

#[async_trait]
impl<H: JobHandler> Execute for Kind<H> {
    fn kind(&self) -> JobKind {
        H::Args::KIND
    }

    fn batch_limit(&self) -> usize {
        self.0.batch_limit().max(1)
    }

    async fn execute(
        &self,
        engine: &Engine,
        owner: String,
        rows: Vec<ClaimedJob>,
        tx: Tx,
    ) -> Result<Vec<(i64, Recorded)>> {
        execute(&self.0, engine, owner, rows, tx).await
    }
}

/// Ends a claimed job no handler can take (its kind unknown, its arguments
/// unreadable), in the claim's transaction.
pub(crate) async fn discard_row(
    engine: &Engine,
    tx: &mut Tx,
    row: &ClaimedJob,
    owner: &str,
    why: Reason,
) -> Result<Recorded> {
    let leave = Leave::End {
        status: JobStatus::Discarded,
        error: Some(why.message.clone()),
        reason: Some(why.code),
    };
    let now = engine.clock.now_ms();
    Ok(if q::leave(tx, row.id, owner, &leave, now).await? {
        Recorded::Discarded(why.message)
    } else {
        Recorded::LeaseLost
    })
}

async fn execute<H: JobHandler>(
    h: &H,
    engine: &Engine,
    owner: String,
    rows: Vec<ClaimedJob>,
    mut tx: Tx,
) -> Result<Vec<(i64, Recorded)>> {
    let lease = Arc::new(Lease {
        owner,
        db: engine.db.clone(),
        clock: engine.clock.clone(),
        lease_ms: engine.settings.job_lease_ms,
        stop: Arc::new(AtomicBool::new(false)),
    });
    let mut report = Vec::with_capacity(rows.len());
    let mut jobs = Vec::with_capacity(rows.len());
    let mut exhausted = Vec::new();
    for row in rows {
        let args = match serde_json::from_str::<H::Args>(&row.payload) {
            Ok(args) => args,
            Err(e) => {
                let why = Reason::new("job.bad_arguments", format!("unreadable arguments: {e}"));
                let recorded = discard_row(engine, &mut tx, &row, &lease.owner, why).await?;
                report.push((row.id, recorded));
                continue;
            }
        };
        let job = Job {
            id: row.id,
            args,
            attempt: row.attempts,
            max_attempts: row.max_attempts,
            last_error: row.last_error,
            lease: lease.clone(),
        };
        // Its worker died during its last allowed attempt: the lease ran out
        // again, so this claim must not run it once more.
        if job.attempt > job.max_attempts {
            exhausted.push(job);
        } else {
            jobs.push(job);
        }
    }

    // The claim's transaction: a job admission turns away is snoozed or
    // cancelled in it (no hook: nothing of its feature changes); an answer
    // that needs the kind's hooks (done, a discard, a retry that may be the
    // last) is recorded with the work's, after the claim commits, so every
    // hook runs where the one lock order holds (docs/architecture.md).
    let mut later: Vec<Ended<H>> = Vec::new();
    for job in exhausted {
        let message = job
            .last_error
            .clone()
            .unwrap_or_else(|| "the worker stopped during every attempt".into());
        let why = Reason::new(REASON_ATTEMPTS_EXHAUSTED, message);
        later.push((job, Outcome::Discard(why)));
    }
    let admits = if jobs.is_empty() {
        Vec::new()
    } else {
        h.admit(&mut tx, &jobs).await?
    };
    if admits.len() != jobs.len() {
        return Err(Error::Internal(anyhow::anyhow!(
            "{}: admit answered for {} of {} jobs",
            H::Args::KIND,
            admits.len(),
            jobs.len()
        )));
    }
    let mut started = Vec::with_capacity(jobs.len());
    let mut turned_away: Vec<Ended<H>> = Vec::new();
    for (job, admit) in jobs.into_iter().zip(admits) {
        match admit {
            Admit::Start(admitted) => started.push((job, admitted)),
            Admit::End(outcome @ (Outcome::Snooze { .. } | Outcome::Cancel(_))) => {
                turned_away.push((job, outcome))
            }
            Admit::End(outcome) => later.push((job, outcome)),
        }
    }
    let refs: Vec<&Ended<H>> = turned_away.iter().collect();
    let early = record(h, engine, &mut tx, &refs, false).await?;
    tx.commit().await?;
    settle(h, &refs, &early, &mut report).await?;
    if started.is_empty() && later.is_empty() {
        return Ok(report);
    }

    // The work, under one heartbeat for the claim's jobs still running.
    let heartbeat = Heartbeat::start(
        engine.db.clone(),
        engine.clock.clone(),
        lease.owner.clone(),
        started.len() + later.len(),
        engine.settings.job_lease_ms,
        lease.stop.clone(),
        h.lease_hook(),
    );
    let refs: Vec<(&Job<H::Args>, &H::Admitted)> = started.iter().map(|(j, a)| (j, a)).collect();
    let outcomes = if refs.is_empty() {
        Vec::new()
    } else {
        h.work_many(&refs).await
    };
    drop(heartbeat);
    if outcomes.len() != started.len() {
        return Err(Error::Internal(anyhow::anyhow!(
            "{}: work answered for {} of {} jobs",
            H::Args::KIND,
            outcomes.len(),
            started.len()
        )));
    }
    let mut ended: Vec<Ended<H>> = started
        .into_iter()
        .map(|(job, _)| job)
        .zip(outcomes)
        .collect();
    ended.extend(later);

    // One transaction records every outcome but the discards and lets go of
    // what the jobs held; each discard has a transaction of its own, so the
    // kind's `discarded` hook takes its feature's rows after the job's, as
    // every other path does.
    let now = engine.clock.now_ms();
    let (discards, rest): (Vec<&Ended<H>>, Vec<&Ended<H>>) = ended
        .iter()
        .partition(|(job, outcome)| leave_for(&engine.settings, job, outcome, now).1.is_some());
    let mut recorded: HashMap<i64, Recorded> = HashMap::new();
    if !rest.is_empty() {
        let mut tx = engine.db.begin_relaxed().await?;
        let done = record(h, engine, &mut tx, &rest, true).await?;
        tx.commit().await?;
        recorded.extend(rest.iter().map(|(job, _)| job.id).zip(done));
    }
    for one in discards {
        let mut tx = engine.db.begin_relaxed().await?;
        let done = record(h, engine, &mut tx, &[one], true).await?;
        tx.commit().await?;
        recorded.extend(std::iter::once(one.0.id).zip(done));
    }
    let refs: Vec<&Ended<H>> = ended.iter().collect();
    let recorded: Vec<Recorded> = refs
        .iter()
        .map(|(job, _)| recorded.remove(&job.id).unwrap_or(Recorded::LeaseLost))
        .collect();
    settle(h, &refs, &recorded, &mut report).await?;
    Ok(report)
}

/// How an outcome leaves `running`, and the reason handed to the kind's
/// `discarded` hook when it ends so.
fn leave_for<A, O>(
    settings: &QueueSettings,
    job: &Job<A>,
    outcome: &Outcome<O>,
    now_ms: i64,
) -> (Leave, Option<Reason>) {
    let end = |status, why: Option<&Reason>, error: Option<String>| Leave::End {
        status,
        error,
        reason: why.map(|r| r.code.clone()),
    };
    match outcome {
        Outcome::Done(_) => (end(JobStatus::Completed, None, None), None),
        Outcome::Retry { error, after_ms } if job.attempt < job.max_attempts => {
            let delay = after_ms.unwrap_or_else(|| backoff_ms(settings, job.attempt));
            let leave = Leave::Wait {
                status: JobStatus::Retryable,
                run_at_ms: now_ms + delay.max(0),
                error: Some(error.clone()),
                reason: None,
            };
            (leave, None)
        }
        Outcome::Retry { error, .. } => {
            let why = Reason::new(REASON_ATTEMPTS_EXHAUSTED, error.clone());
            (
                end(JobStatus::Discarded, Some(&why), Some(error.clone())),
                Some(why),
            )
        }
        Outcome::Snooze { until_ms, reason } => {
            let leave = Leave::Wait {
                status: JobStatus::Available,
                run_at_ms: *until_ms,
                error: None,
                reason: Some(reason.clone()),
            };
            (leave, None)
        }
        Outcome::Discard(why) => (
            end(JobStatus::Discarded, Some(why), Some(why.message.clone())),
            Some(why.clone()),
        ),
        Outcome::Cancel(reason) => (
            Leave::End {
                status: JobStatus::Cancelled,
                error: None,
                reason: Some(reason.clone()),
            },
            None,
        ),
    }
}

/// Moves each job out of `running` by its outcome where this owner still
/// holds it, and calls the kind's `completed` and `discarded` hooks for the
/// jobs moved so. Completed jobs go in one statement.
///
/// Rows are taken in the one lock order (docs/architecture.md): the jobs
/// first, then what the jobs held (`release`, when `worked`), then what the
/// hooks touch (a run's tenants, then the run).
async fn record<H: JobHandler>(
    h: &H,
    engine: &Engine,
    tx: &mut Tx,
    ended: &[&Ended<H>],
    worked: bool,
) -> Result<Vec<Recorded>> {
    let now = engine.clock.now_ms();
    let mut recorded = vec![Recorded::LeaseLost; ended.len()];
    let done_ids: Vec<i64> = ended
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Done(_)))
        .map(|(job, _)| job.id)
        .collect();
    let completed: HashSet<i64> = match ended.first() {
        Some((first, _)) if !done_ids.is_empty() => {
            q::complete_many(tx, &done_ids, first.owner(), now)
                .await?
                .into_iter()
                .collect()
        }
        _ => HashSet::new(),
    };
    let mut done = Vec::with_capacity(completed.len());
    let mut discarded = Vec::new();
    for (i, (job, outcome)) in ended.iter().enumerate() {
        if let Outcome::Done(output) = outcome {
            if completed.contains(&job.id) {
                recorded[i] = Recorded::Completed;
                done.push((job, output));
            }
            continue;
        }
        let (leave, why) = leave_for(&engine.settings, job, outcome, now);
        if !q::leave(tx, job.id, job.owner(), &leave, now).await? {
            continue;
        }
        recorded[i] = match (&leave, outcome) {
            (
                Leave::Wait {
                    status: JobStatus::Available,
                    ..
                },
                _,
            ) => Recorded::Snoozed,
            (Leave::Wait { error, .. }, _) => {
                Recorded::Retryable(error.clone().unwrap_or_default())
            }
            (_, Outcome::Cancel(_)) => Recorded::Cancelled,
            (Leave::End { error, .. }, _) => Recorded::Discarded(error.clone().unwrap_or_default()),
        };
        if let Some(why) = why {
            discarded.push((job, why));
        }
    }
    if worked {
        let jobs: Vec<&Job<H::Args>> = ended.iter().map(|(job, _)| job).collect();
        h.release(tx, &jobs).await?;
    }
    for (job, why) in discarded {
        h.discarded(tx, job, &why).await?;
    }
    if !done.is_empty() {
        h.completed(tx, &done).await?;
    }
    Ok(recorded)
}

/// After the commit: the kind's `settled` hook, metrics and the report.
async fn settle<H: JobHandler>(
    h: &H,
    ended: &[&Ended<H>],
    recorded: &[Recorded],
    report: &mut Vec<(i64, Recorded)>,
) -> Result<()> {
    let kind = H::Args::KIND.as_str();
    for ((job, outcome), recorded) in ended.iter().zip(recorded) {
        let output = match outcome {
            Outcome::Done(output) => Some(output),
            _ => None,
        };
        if let Recorded::Retryable(error) | Recorded::Discarded(error) = recorded {
            tracing::warn!(job = job.id, kind, attempt = job.attempt, %error, "job failed");
            metrics::counter!("tenantatlas_jobs_failed_total", "kind" => kind).increment(1);
        }
        metrics::counter!("tenantatlas_jobs_recorded_total", "kind" => kind, "status" => recorded.status())
            .increment(1);
        h.settled(job, recorded, output).await?;
        report.push((job.id, recorded.clone()));
    }
    Ok(())
}

impl Recorded {
    /// The job's status after this record (`running` when the lease had
    /// passed on: another worker holds it).
    pub fn status(&self) -> &'static str {
        match self {
            Recorded::Completed => JobStatus::Completed.as_str(),
            Recorded::Snoozed => JobStatus::Available.as_str(),
            Recorded::Retryable(_) => JobStatus::Retryable.as_str(),
            Recorded::Discarded(_) => JobStatus::Discarded.as_str(),
            Recorded::Cancelled => JobStatus::Cancelled.as_str(),
            Recorded::LeaseLost => JobStatus::Running.as_str(),
        }
    }
}
