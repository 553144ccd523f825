//! Probes: what the checks need from the network, fetched once per run.
//!
//! Probes run after the journeys (so a one-time link is never opened before the journey
//! opens it) and hand their answers to the checks as plain data.

/// Everything probed during a run.
#[derive(Debug, Clone, Default)]
pub struct Probes {
    /// Phone directory rows and lookup answers, by E.164 ([`crate::phones::lookup_all`]).
    pub phones: crate::phones::PhoneProbes,
}
