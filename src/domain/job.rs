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

/// Where a job stands: `queued → running → done | dead | cancelled`, and back
/// to `queued` when it is retried later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Dead,
    Cancelled,
}

impl JobStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Dead => "dead",
            JobStatus::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
