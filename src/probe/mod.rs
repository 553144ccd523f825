//! Probes: every fact nocall asks the network for, and the only place that asks.
//!
//! The link prober ([`links`]), the crawl behind `nocall links` ([`crawl`]), the phone
//! directory and lookup provider ([`lookup`]) and the mail scanner's view of a one-time link
//! (`prefetch`) all live here; no other module makes an HTTP request. [`probe_all`] runs
//! after the journeys (so a one-time link is never opened before its journey opens it) and
//! hands its answers to the checks as plain data ([`status`]), the one part of this module
//! the checks may read. Nothing here decides what an answer costs users.

mod budget;
pub mod crawl;
pub(crate) mod devtools;
pub(crate) mod guard;
pub mod links;
pub mod lookup;
pub mod notfound;
pub mod policy;
pub(crate) mod prefetch;
pub(crate) mod render;
pub mod status;

use std::collections::HashSet;
use std::sync::Arc;

use crate::config::Config;
use crate::phones;
use crate::scenario;
use crate::trace::{Outcome as StepOutcome, Trace};
use links::engine::Engine;
use links::{LinkOptions, Origin, Via};
use status::{Cause, LinkVerdict, MailLinkStatus, Probes};

/// How a run's probes reach the network.
#[derive(Default)]
pub struct ProbeOptions {
    /// How links are asked about.
    pub links: LinkOptions,
    /// The crawl's client, still holding every page it fetched: its answers are reused and
    /// its own options (the crawl's) apply instead of `links`.
    pub crawled: Option<Session>,
}

impl ProbeOptions {
    /// The defaults, restricted to a project's `allowed_hosts`, and to the journeys' own
    /// hosts when `offline`.
    pub(crate) fn for_config(config: &Config, offline: bool) -> Self {
        let mut links = LinkOptions::for_config(config);
        links.offline |= offline;
        ProbeOptions {
            links,
            crawled: None,
        }
    }
}

/// An HTTP client with its limits, its cache of answers and the runtime its connections
/// live on, kept from a crawl for the probe that follows it.
pub struct Session {
    pub(crate) engine: Arc<Engine>,
    pub(crate) runtime: tokio::runtime::Runtime,
}

/// What the checks need from the network, asked once per run after every journey has run:
/// every link and form target the traces hold, the links of captured messages, and every
/// phone number shown.
pub fn probe_all(traces: &[Trace], config: &Config, options: &ProbeOptions) -> Probes {
    let numbers = phones::numbers_of(traces, config);
    let mut targets = links::targets_of(traces);
    // Every link of every captured message, except the one its journey followed (checked by
    // following it, and perhaps one-time). Only the followed message's other links may be
    // asked about (HEAD alone); other messages' links are never requested.
    let followed: HashSet<&str> = traces
        .iter()
        .flat_map(|t| t.steps.iter().filter_map(|s| s.followed.as_deref()))
        .collect();
    let mut mailed: Vec<String> = Vec::new();
    for t in traces {
        let opened: HashSet<usize> = t
            .steps
            .iter()
            .filter(|s| s.followed.is_some())
            .filter_map(|s| s.mail)
            .collect();
        for (i, m) in t.mails.iter().enumerate() {
            for l in &m.links {
                if followed.contains(l.href.as_str()) {
                    continue;
                }
                targets.push((
                    l.href.clone(),
                    Origin {
                        page: String::new(),
                        via: Via::Mail {
                            followed: opened.contains(&i),
                        },
                    },
                ));
                mailed.push(l.href.clone());
            }
        }
    }
    // The first targets met, up to the run's limit: which ones never depends on timing.
    let (targets, cut) = budget::within(targets, config.limits.targets_per_run);
    let link_results = match &options.crawled {
        Some(session) => links::probe_urls_with(session, &targets),
        None => links::probe_journeys(traces, &targets, &options.links),
    };
    let mut probes = Probes {
        links: link_results,
        phones: lookup::lookup_all(&numbers, &config.phones, &scenario::process_env),
        cut: cut.into_iter().collect(),
        ..Probes::default()
    };
    for href in mailed {
        let Some(status) = probes.links.get(&href) else {
            continue;
        };
        if status.verdict == LinkVerdict::Skipped {
            continue;
        }
        let withheld = match &status.cause {
            Cause::Withheld(w) => Some(w.clone()),
            _ => None,
        };
        let entry = MailLinkStatus {
            ok: status.ok,
            detail: status.detail.clone(),
            scanner_broke_it: false,
            unverified: status.verdict == LinkVerdict::Unverified,
            withheld,
        };
        probes.mail_links.insert(href, entry);
    }
    // The link a journey followed from a message was checked by following it.
    for t in traces {
        for s in &t.steps {
            let Some(href) = &s.followed else { continue };
            let (ok, detail) = match &s.outcome {
                StepOutcome::Done => (true, String::new()),
                StepOutcome::Failed { reason, .. } => (false, reason.clone()),
            };
            probes.mail_links.insert(
                href.clone(),
                MailLinkStatus {
                    ok,
                    detail,
                    scanner_broke_it: s.prefetched && !ok,
                    unverified: false,
                    withheld: None,
                },
            );
        }
    }
    probes
}
