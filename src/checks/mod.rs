//! Checks: pure functions from recorded traces (and probe results) to findings.
//!
//! A check never touches the browser or the network; what it needs from the network was
//! probed beforehand and arrives in [`Audit::probes`]. Adding a check is one module and one
//! line in [`all`]; helpers every check uses are in `common`, hand-built traces for their
//! tests in `testkit`, and `stories` runs every check over the example portal's stories.

use crate::config::Config;
use crate::finding::Finding;
use crate::probe::status::Probes;
use crate::trace::Trace;

mod blocked;
mod common;
mod instructions;
mod labels;
mod limits;
mod links;
mod phones;
mod recovery;
#[cfg(test)]
mod stories;
mod support_only;
#[cfg(test)]
mod testkit;

/// Which fields a user fills, and where they make a value up, as the checks tell them;
/// `nocall init` drafts by the same rules.
pub(crate) use common::is_user_field;
pub(crate) use labels::invents_a_value;

/// Everything a check may look at.
pub struct Audit<'a> {
    pub traces: &'a [Trace],
    pub config: &'a Config,
    pub probes: &'a Probes,
}

/// One family of checks.
pub trait Check: Send + Sync {
    /// Short name, for debugging and `--help`.
    fn name(&self) -> &'static str;
    fn run(&self, audit: &Audit<'_>) -> Vec<Finding>;
}

/// Every check, in the order their findings are listed before ranking.
pub fn all() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(blocked::JourneyBlocked),
        Box::new(labels::LabelMissing),
        Box::new(labels::LabelMismatch),
        Box::new(labels::LabelInconsistent),
        Box::new(labels::UnknownInfo),
        Box::new(instructions::InstructionMismatch),
        Box::new(support_only::SupportOnlyPath),
        Box::new(phones::Phones),
        Box::new(recovery::Recovery),
        Box::new(links::DeadLinks),
        Box::new(limits::Limits),
    ]
}

/// Runs every check. Findings are unpriced; `rank` prices and merges them.
pub fn audit(audit: &Audit<'_>) -> Vec<Finding> {
    all().iter().flat_map(|c| c.run(audit)).collect()
}
