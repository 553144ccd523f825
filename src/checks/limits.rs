//! `limit-reached`: a run reached one of nocall's limits (issue 23) — a step's page recorded
//! only up to one, link targets left unprobed, messages a mail source dropped or refused —
//! so what lies beyond it was not checked. Always a warning: it counts no calls and fails
//! no gate, since it says what nocall did not read, not what the user met. It must never
//! claim anything about the portal beyond the counts it was given (the trace's, and the
//! cuts in [`crate::probe::status::Probes::cut`]).

use std::collections::BTreeSet;

use super::{Audit, Check};
use crate::finding::{Finding, Kind};
use crate::trace::{Cut, RecordResult, thousands, url_path};

pub(super) struct LimitReached;

impl Check for LimitReached {
    fn name(&self) -> &'static str {
        "limit-reached"
    }

    fn run(&self, audit: &Audit<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for trace in audit.traces {
            // One warning a page and limit in a journey: the step that first met it.
            let mut told = BTreeSet::new();
            for step in &trace.steps {
                let Some(rec) = step.recording.as_ref() else {
                    continue;
                };
                if rec.result != RecordResult::Cut {
                    continue;
                }
                let url = step
                    .page
                    .as_ref()
                    .map(|p| p.url.as_str())
                    .unwrap_or_default();
                for cut in &rec.cuts {
                    if !told.insert((url.to_string(), cut.limit)) {
                        continue;
                    }
                    let element = format!("the page's {}", cut.limit.what());
                    out.push(
                        Finding::new(
                            Kind::LimitReached,
                            url,
                            element,
                            warning(step.index, url, cut),
                        )
                        .warning()
                        .at(trace, Some(step.index))
                        .excerpt(rec.reason.clone()),
                    );
                }
            }
        }
        // What the run cut outside the pages: filed on the first journey, if any.
        let page = audit
            .traces
            .first()
            .map(|t| t.start_url.as_str())
            .unwrap_or_default();
        for cut in &audit.probes.cut {
            let mut f = Finding::new(
                Kind::LimitReached,
                page,
                cut.what.as_str(),
                cut.message.clone(),
            )
            .warning();
            if let Some(t) = audit.traces.first() {
                f = f.at(t, None);
            }
            out.push(f);
        }
        out
    }
}

/// "The page at step 3 (/dom) has 200 006 elements, more than the 20 000 nocall reads of a
/// page: it read the first 20 000 and checked nothing beyond them. `limits: {dom_nodes: …}`
/// in nocall.yaml raises the limit."
pub(crate) fn warning(step: usize, url: &str, cut: &Cut) -> String {
    let what = cut.limit.what();
    let at = if url.is_empty() {
        String::new()
    } else {
        format!(" ({})", url_path(url))
    };
    let has = if cut.seen > cut.kept {
        format!("{} {what}", thousands(cut.seen))
    } else {
        format!("more {what}")
    };
    let raise = match cut.limit.key() {
        Some(key) => format!(" `limits: {{{key}: …}}` in nocall.yaml raises the limit."),
        None => String::new(),
    };
    format!(
        "The page at step {step}{at} has {has}, more than the {} nocall reads of a page: it \
         read the first {} and checked nothing beyond them.{raise}",
        thousands(cut.kept),
        thousands(cut.kept)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{open, page, trace};
    use crate::config::Config;
    use crate::finding::Severity;
    use crate::probe::status::{CutOf, Probes};
    use crate::trace::{RecordLimit, Recording};

    #[test]
    fn each_run_cut_is_one_unpriced_warning() {
        let probes = Probes {
            cut: vec![
                crate::probe::status::Cut {
                    of: CutOf::Links,
                    what: "link targets".into(),
                    message: "left 3 unverified".into(),
                },
                crate::probe::status::Cut {
                    of: CutOf::Links,
                    what: "links of a page".into(),
                    message: "left 5 unread".into(),
                },
                crate::probe::status::Cut {
                    of: CutOf::Mail,
                    what: "SMTP messages".into(),
                    message: "dropped 2 messages".into(),
                },
            ],
            ..Probes::default()
        };
        let found = LimitReached.run(&Audit {
            traces: &[],
            config: &Config::default(),
            probes: &probes,
        });
        assert_eq!(found.len(), 3);
        assert!(found.iter().all(|f| f.severity == Severity::Warning));
        assert!(found.iter().all(|f| f.kind == Kind::LimitReached));
        assert_ne!(found[0].id, found[1].id, "two cuts are two warnings");
        assert_eq!(found[2].message, "dropped 2 messages");
    }

    #[test]
    fn a_cut_record_is_one_warning_a_limit_that_counts_nothing() {
        let cuts = [
            Cut {
                limit: RecordLimit::DomNodes,
                kept: 20_000,
                seen: 200_006,
            },
            Cut {
                limit: RecordLimit::LinksPerPage,
                kept: 2_000,
                seen: 50_000,
            },
        ];
        let mut first = open(1, page("/dom", "Nodes", "cell"));
        first.recording = Recording::cut(&cuts);
        // The same page again on the next step is not told twice.
        let mut again = open(2, page("/dom", "Nodes", "cell"));
        again.recording = Recording::cut(&cuts[..1]);
        let mut failed = open(3, page("/other", "Other", ""));
        failed.recording = Some(Recording::failed("the browser did not answer"));
        let traces = [trace("big", &[], vec![first, again, failed])];
        let found = LimitReached.run(&Audit {
            traces: &traces,
            config: &Config::default(),
            probes: &Probes::default(),
        });
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found.iter().all(|f| f.severity == Severity::Warning));
        assert!(found.iter().all(|f| f.kind == Kind::LimitReached));
        assert_eq!(
            found[0].message,
            "The page at step 1 (/dom) has 200 000 elements, more than the 20 000 nocall reads \
             of a page: it read the first 20 000 and checked nothing beyond them. \
             `limits: {dom_nodes: …}` in nocall.yaml raises the limit."
                .replace("200 000 elements", "200 006 elements")
        );
        assert!(
            found[1].message.contains("50 000 links"),
            "{}",
            found[1].message
        );
    }
}
