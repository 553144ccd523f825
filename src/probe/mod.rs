//! Probes: what the checks need from the network, fetched once per run.
//!
//! Probes run after the journeys (so a one-time link is never opened before the journey
//! opens it) and hand their answers to the checks as plain data.

pub mod links;

/// Everything probed during a run.
#[derive(Debug, Clone, Default)]
pub struct Probes {
    /// The status of every link and form target on the pages the journeys saw, by URL.
    pub links: links::LinkResults,
}
