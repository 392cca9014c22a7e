//! The one registry of platform capabilities. Code names them by these
//! constants; the strings appear nowhere else.

use std::collections::BTreeSet;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Capability(&'static str);

impl Capability {
    /// See runbooks and run preflight.
    pub const RUNBOOKS_VIEW: Capability = Capability("platform.runbooks.view");
    /// Start, cancel and retry runs.
    pub const RUNBOOKS_RUN: Capability = Capability("platform.runbooks.run");
    /// See operation runs.
    pub const OPERATIONS_VIEW: Capability = Capability("platform.operations.view");
    /// Manage alert destinations and rules.
    pub const ALERTS_MANAGE: Capability = Capability("platform.alerts.manage");

    pub const ALL: [Capability; 4] = [
        Capability::RUNBOOKS_VIEW,
        Capability::RUNBOOKS_RUN,
        Capability::OPERATIONS_VIEW,
        Capability::ALERTS_MANAGE,
    ];

    pub fn as_str(&self) -> &'static str {
        self.0
    }

    pub fn parse(s: &str) -> Result<Capability, String> {
        let s = s.trim();
        Capability::ALL
            .into_iter()
            .find(|c| c.0 == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Capability::ALL.iter().map(|c| c.0).collect();
                format!("unknown capability {s:?} (known: {})", known.join(", "))
            })
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapabilitySet(BTreeSet<Capability>);

impl CapabilitySet {
    pub fn all() -> Self {
        CapabilitySet(Capability::ALL.into_iter().collect())
    }

    pub fn of(caps: &[Capability]) -> Self {
        CapabilitySet(caps.iter().copied().collect())
    }

    /// `Forbidden` unless the set holds `c`: every service asks this way.
    pub fn require(&self, c: Capability) -> crate::error::Result<()> {
        if self.has(c) {
            Ok(())
        } else {
            Err(crate::error::Error::Forbidden(format!("requires {c}")))
        }
    }

    pub fn has(&self, c: Capability) -> bool {
        self.0.contains(&c)
    }

    /// Stored form: comma-separated names. Unknown names (from an older or
    /// newer release) are ignored rather than granted.
    pub fn from_stored(s: &str) -> Self {
        CapabilitySet(
            s.split(',')
                .filter_map(|c| Capability::parse(c).ok())
                .collect(),
        )
    }

    pub fn to_stored(&self) -> String {
        self.0
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn iter(&self) -> impl Iterator<Item = Capability> + '_ {
        self.0.iter().copied()
    }
}
