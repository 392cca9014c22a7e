//! The words of the job queue: what kind a job is and where it stands.

use std::fmt;

/// What a job does; each kind has one handler, registered by the feature
/// that owns it (the queue engine knows none of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JobKind(pub &'static str);

impl JobKind {
    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Where a job stands, one word in the code, the `jobs.status` column, the
/// metrics and the docs:
///
/// ```text
/// available ──claim──▶ running ──▶ completed | discarded | cancelled
///     ▲                  │
///     └── snoozed ───────┤  (no attempt spent; `run_at_ms` later)
/// retryable ◀── failed ──┘  (an attempt spent; backoff)
/// ```
///
/// `available` and `retryable` jobs are claimed once their `run_at_ms` has
/// come; a `running` job whose lease ran out is claimed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Waiting for its time (now, or later when snoozed or scheduled).
    Available,
    /// Claimed by a worker that holds its lease.
    Running,
    /// Failed an attempt; waiting out its backoff before the next one.
    Retryable,
    /// Its work is done.
    Completed,
    /// Given up: out of attempts, or its handler discarded it.
    Discarded,
    /// Stopped before it finished (its run was cancelled or stopped).
    Cancelled,
}

impl JobStatus {
    pub const ALL: [JobStatus; 6] = [
        JobStatus::Available,
        JobStatus::Running,
        JobStatus::Retryable,
        JobStatus::Completed,
        JobStatus::Discarded,
        JobStatus::Cancelled,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            JobStatus::Available => "available",
            JobStatus::Running => "running",
            JobStatus::Retryable => "retryable",
            JobStatus::Completed => "completed",
            JobStatus::Discarded => "discarded",
            JobStatus::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
