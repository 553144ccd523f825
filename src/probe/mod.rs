//! Probes: what the checks need from the network, fetched once per run.
//!
//! Probes run after the journeys (so a one-time link is never opened before the journey
//! opens it) and hand their answers to the checks as plain data.

pub mod links;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Everything probed during a run.
#[derive(Debug, Clone, Default)]
pub struct Probes {
    /// The status of every link and form target on the pages the journeys saw, by URL.
    pub links: links::LinkResults,
    /// Phone directory rows and lookup answers, by E.164 ([`crate::phones::lookup_all`]).
    pub phones: crate::phones::PhoneProbes,
    /// The links found in captured messages, by URL (`href` exactly as in the message).
    pub mail_links: BTreeMap<String, MailLinkStatus>,
}

/// How one link from a message answered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MailLinkStatus {
    pub ok: bool,
    /// What the user meets, short: `404 Not Found`, `no answer within 10s`, `the link has expired`.
    pub detail: String,
    /// The link worked for the journey but failed after a plain GET had opened it first, as
    /// a mail scanner (Outlook Safe Links and the like) does before the user clicks
    /// (`--prefetch-check`).
    #[serde(default)]
    pub scanner_broke_it: bool,
    /// The answer could not be trusted (403/429 from bot blocking): said as unverified.
    #[serde(default)]
    pub unverified: bool,
}
