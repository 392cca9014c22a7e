//! The job engine of the durable queue. It knows jobs, leases and kinds, and
//! no runbook, run, tenant or alert: each feature registers a
//! [`JobHandler`] for its kind of job ([`JobArgs::KIND`]).
//!
//! # One job's life
//!
//! 1. **Enqueue** ([`enqueue`]): a row `available` at `run_at_ms`, its typed
//!    arguments serialized, inside the caller's transaction.
//! 2. **Claim** ([`Worker::run_once`], or several of a batching kind,
//!    [`JobHandler::batch_limit`]): `running`, one attempt more, leased to
//!    one owner. In the same transaction the executor ends what cannot run
//!    (unknown kind, unreadable arguments, attempts spent by dead workers)
//!    and asks the handler to [`admit`](JobHandler::admit) the rest: start,
//!    or end now (snooze, cancel, discard, done).
//! 3. **Work** ([`JobHandler::work`]): the claim is committed; a heartbeat
//!    renews the leases (and what the kind holds, [`LeaseHook`]) while the
//!    handler works and says how it went: an [`Outcome`].
//! 4. **Record** (`executor.rs`): one transaction moves every job out of
//!    `running` by its outcome (completed; retryable after backoff, or
//!    discarded once attempts run out; available again when snoozed, the
//!    attempt given back; discarded; cancelled) where its owner still holds
//!    it, and calls the kind's hooks in it: [`release`](JobHandler::release)
//!    for every job that worked, [`completed`](JobHandler::completed) and
//!    [`discarded`](JobHandler::discarded) for the jobs recorded so. After
//!    the commit, [`settled`](JobHandler::settled) for each.
//!
//! A handler never changes its job's row, and no job stays `running` after
//! its handler returned: either its outcome is recorded, or the lease had
//! passed on and the new owner records it. A worker that dies leaves its
//! job `running` until the lease runs out; it is then claimed again.

mod executor;
mod heartbeat;
mod loops;
mod wake;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::clock::SharedClock;
use crate::domain::JobKind;
use crate::error::Result;
use crate::storage::queue::{self as q, NewJob};
use crate::storage::{Db, Exec, Tx};

use executor::Engine;
pub use heartbeat::LeaseHook;
pub use loops::{BatchSize, Handlers, MAX_BATCH, Step, Worker};

/// The reason code of a job discarded because its attempts ran out.
pub const REASON_ATTEMPTS_EXHAUSTED: &str = "job.attempts_exhausted";

/// Tunables of the engine.
#[derive(Debug, Clone)]
pub struct QueueSettings {
    /// A job's lease, renewed by its heartbeat every third of it.
    pub job_lease_ms: i64,
    /// Attempts of a job before it is discarded.
    pub max_attempts: i64,
    /// First retry delay; doubles per attempt up to `backoff_max_ms`.
    pub backoff_base_ms: i64,
    pub backoff_max_ms: i64,
    /// How often an idle worker looks for work.
    pub poll_interval_ms: u64,
}

/// Exponential backoff before attempt `attempt + 1`: base · 2^(attempt-1),
/// capped.
pub fn backoff_ms(settings: &QueueSettings, attempt: i64) -> i64 {
    let exp = (attempt - 1).clamp(0, 20) as u32;
    settings
        .backoff_base_ms
        .saturating_mul(1i64 << exp)
        .min(settings.backoff_max_ms)
}

/// A kind's arguments: serialized into the job's row when it is enqueued,
/// read back (serde) when it is claimed.
pub trait JobArgs: Serialize + DeserializeOwned + Send + Sync + 'static {
    const KIND: JobKind;
}

/// Where a job is enqueued: when it may run, the run and tenant it belongs
/// to (kept in columns so a run's jobs can be found), and its attempts.
#[derive(Debug, Clone, Copy)]
pub struct Enqueue {
    pub run_at_ms: i64,
    pub run_id: Option<i64>,
    pub tenant_id: Option<i64>,
    pub max_attempts: i64,
}

/// Enqueues a job of `A`'s kind inside the caller's transaction.
pub async fn enqueue<A: JobArgs>(tx: &mut impl Exec, args: &A, at: Enqueue) -> Result<i64> {
    let payload = serde_json::to_string(args).map_err(anyhow::Error::from)?;
    let job = NewJob {
        kind: A::KIND,
        payload: &payload,
        run_id: at.run_id,
        tenant_id: at.tenant_id,
        run_at_ms: at.run_at_ms,
        max_attempts: at.max_attempts,
    };
    Ok(q::enqueue(tx, job).await?)
}

/// Why a job is discarded: a reason code the owning feature understands
/// (`job.attempts_exhausted`, `tenant.missing`, …) and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub code: String,
    pub message: String,
}

impl Reason {
    pub fn new(code: &str, message: impl Into<String>) -> Reason {
        Reason {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// How a job went, as its handler says: the executor records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<O> {
    /// The work is done; `O` goes to [`JobHandler::completed`].
    Done(O),
    /// This attempt failed: again after `after_ms` (default: the backoff)
    /// while attempts remain, else discarded (`job.attempts_exhausted`).
    Retry {
        error: String,
        after_ms: Option<i64>,
    },
    /// Not now: again at `until_ms`, without spending an attempt.
    Snooze { until_ms: i64, reason: String },
    /// Never: discarded, and [`JobHandler::discarded`] records why.
    Discard(Reason),
    /// No longer wanted (its run stopped).
    Cancel(String),
}

impl<O> Outcome<O> {
    pub fn retry(error: impl Into<String>) -> Outcome<O> {
        Outcome::Retry {
            error: error.into(),
            after_ms: None,
        }
    }
}

/// What the claim's transaction decided for a job
/// ([`JobHandler::admit`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admit<S, O> {
    /// The job's work starts once the claim commits, with what admitting it
    /// learned (`S`, the kind's [`JobHandler::Admitted`]).
    Start(S),
    /// The job ends now, with this outcome, recorded in the claim's
    /// transaction.
    End(Outcome<O>),
}

/// What the executor recorded for a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    Completed,
    /// Back to `available` later, its attempt given back.
    Snoozed,
    /// Back to `retryable` after its backoff, with the attempt's error.
    Retryable(String),
    /// Given up, with the message of its reason.
    Discarded(String),
    Cancelled,
    /// The lease had passed to another worker: nothing recorded.
    LeaseLost,
}

/// A claimed job as its handler sees it: its typed arguments, its attempt,
/// and the lease it works under.
pub struct Job<A> {
    pub id: i64,
    pub args: A,
    /// This attempt, counting it (1 for the first).
    pub attempt: i64,
    pub max_attempts: i64,
    /// The error of the attempt before, if any.
    pub last_error: Option<String>,
    lease: Arc<Lease>,
}

/// The lease every job of one claim works under.
pub(crate) struct Lease {
    pub owner: String,
    pub db: Db,
    pub clock: SharedClock,
    pub lease_ms: i64,
    /// Raised by the heartbeat when a lease was lost: the work must stop.
    pub stop: Arc<AtomicBool>,
}

impl<A> Job<A> {
    /// The claim's lease owner (unique per claim).
    pub fn owner(&self) -> &str {
        &self.lease.owner
    }

    pub fn db(&self) -> &Db {
        &self.lease.db
    }

    pub fn clock(&self) -> &SharedClock {
        &self.lease.clock
    }

    pub fn lease_ms(&self) -> i64 {
        self.lease.lease_ms
    }

    /// Raised once a lease of this claim was lost: stop working.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.lease.stop.clone()
    }

    pub fn should_stop(&self) -> bool {
        self.lease.stop.load(Ordering::Relaxed)
    }

    /// `Outcome::Snooze` until `delay_ms` from now.
    pub fn snooze<O>(&self, delay_ms: i64, reason: &str) -> Outcome<O> {
        Outcome::Snooze {
            until_ms: self.lease.clock.now_ms() + delay_ms,
            reason: reason.into(),
        }
    }
}

/// The body of one kind of job. Only [`work`](JobHandler::work) is
/// required; the hooks let a kind join the executor's transactions.
#[async_trait]
pub trait JobHandler: Send + Sync + 'static {
    type Args: JobArgs;
    /// What admitting a job learned that its work needs (its run's
    /// runbook, say); `()` for most kinds.
    type Admitted: Default + Send + Sync + 'static;
    /// What a finished job hands to [`JobHandler::completed`].
    type Output: Send + Sync + 'static;

    /// How many jobs of this kind one claim may take together (quick jobs:
    /// their work runs one after another under one lease owner, and each
    /// step's records are one transaction). 1: one at a time.
    fn batch_limit(&self) -> usize {
        1
    }

    /// Renews what the kind holds besides the jobs' leases, with them.
    fn lease_hook(&self) -> Option<Arc<dyn LeaseHook>> {
        None
    }

    /// In the claim's transaction: whether each job starts, or ends now.
    async fn admit(
        &self,
        _tx: &mut Tx,
        jobs: &[Job<Self::Args>],
    ) -> Result<Vec<Admit<Self::Admitted, Self::Output>>> {
        Ok(jobs
            .iter()
            .map(|_| Admit::Start(Default::default()))
            .collect())
    }

    /// The job's work, after the claim committed.
    async fn work(&self, job: &Job<Self::Args>, admitted: &Self::Admitted)
    -> Outcome<Self::Output>;

    /// The work of several admitted jobs of one claim, in order; a kind may
    /// answer for several at once. By default each works in turn.
    async fn work_many(
        &self,
        jobs: &[(&Job<Self::Args>, &Self::Admitted)],
    ) -> Vec<Outcome<Self::Output>> {
        let mut outcomes = Vec::with_capacity(jobs.len());
        for (job, admitted) in jobs {
            outcomes.push(self.work(job, admitted).await);
        }
        outcomes
    }

    /// In the recording transaction, for the jobs that worked (whatever
    /// their outcome): let go of what admitting them took.
    async fn release(&self, _tx: &mut Tx, _jobs: &[&Job<Self::Args>]) -> Result<()> {
        Ok(())
    }

    /// In the transaction that completed them, for the jobs still held.
    async fn completed(
        &self,
        _tx: &mut Tx,
        _done: &[(&Job<Self::Args>, &Self::Output)],
    ) -> Result<()> {
        Ok(())
    }

    /// In the transaction that discarded it, for a job still held: its
    /// feature records the final failure.
    async fn discarded(&self, _tx: &mut Tx, _job: &Job<Self::Args>, _why: &Reason) -> Result<()> {
        Ok(())
    }

    /// After the recording committed, for each job recorded.
    async fn settled(
        &self,
        _job: &Job<Self::Args>,
        _recorded: &Recorded,
        _output: Option<&Self::Output>,
    ) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> QueueSettings {
        QueueSettings {
            job_lease_ms: 30_000,
            max_attempts: 5,
            backoff_base_ms: 2_000,
            backoff_max_ms: 300_000,
            poll_interval_ms: 50,
        }
    }

    #[test]
    fn backoff_doubles_from_the_base_per_attempt() {
        let s = settings();
        assert_eq!(backoff_ms(&s, 1), 2_000);
        assert_eq!(backoff_ms(&s, 2), 4_000);
        assert_eq!(backoff_ms(&s, 3), 8_000);
        assert_eq!(backoff_ms(&s, 7), 128_000);
    }

    #[test]
    fn backoff_is_capped_and_never_overflows() {
        let s = settings();
        assert_eq!(backoff_ms(&s, 8), 256_000);
        assert_eq!(backoff_ms(&s, 9), 300_000);
        assert_eq!(backoff_ms(&s, 1_000), 300_000);
        let huge = QueueSettings {
            backoff_base_ms: i64::MAX / 2,
            backoff_max_ms: i64::MAX,
            ..s
        };
        assert_eq!(backoff_ms(&huge, 40), i64::MAX);
    }

    #[test]
    fn backoff_of_a_first_or_odd_attempt_is_the_base() {
        let s = settings();
        assert_eq!(backoff_ms(&s, 0), 2_000);
        assert_eq!(backoff_ms(&s, -3), 2_000);
    }
}
