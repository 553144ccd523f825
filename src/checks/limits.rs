//! What a run left out because it reached one of its `limits` (link targets not probed,
//! messages a mail source dropped or refused): one warning each, so a cut is never silent.
//!
//! Pure: the cuts arrive in [`crate::probe::status::Probes::cut`]. A warning is never
//! priced and never fails a gate: it is about what nocall did not look at, not about the
//! portal.

use super::{Audit, Check};
use crate::finding::{Finding, Kind};
use crate::probe::status::CutOf;

pub(super) struct Limits;

impl Check for Limits {
    fn name(&self) -> &'static str {
        "limits"
    }

    fn run(&self, audit: &Audit<'_>) -> Vec<Finding> {
        audit
            .probes
            .cut
            .iter()
            .map(|cut| {
                // Filed with the family whose findings the cut may hide.
                let kind = match cut.of {
                    CutOf::Links => Kind::DeadLink,
                    CutOf::Mail => Kind::EmailMissing,
                };
                let element = cut.what.as_str();
                let page = audit
                    .traces
                    .first()
                    .map(|t| t.start_url.as_str())
                    .unwrap_or_default();
                let mut f = Finding::new(kind, page, element, cut.message.clone()).warning();
                if let Some(t) = audit.traces.first() {
                    f = f.at(t, None);
                }
                f
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::finding::Severity;
    use crate::probe::status::{Cut, Probes};

    #[test]
    fn each_cut_is_one_unpriced_warning() {
        let probes = Probes {
            cut: vec![
                Cut {
                    of: CutOf::Links,
                    what: "link targets".into(),
                    message: "left 3 unverified".into(),
                },
                Cut {
                    of: CutOf::Links,
                    what: "links of a page".into(),
                    message: "left 5 unread".into(),
                },
                Cut {
                    of: CutOf::Mail,
                    what: "SMTP messages".into(),
                    message: "dropped 2 messages".into(),
                },
            ],
            ..Probes::default()
        };
        let config = Config::default();
        let found = Limits.run(&Audit {
            traces: &[],
            config: &config,
            probes: &probes,
        });
        assert_eq!(found.len(), 3);
        assert!(found.iter().all(|f| f.severity == Severity::Warning));
        assert_eq!(found[0].kind, Kind::DeadLink);
        assert_ne!(found[0].id, found[1].id, "two cuts are two warnings");
        assert_eq!(found[2].kind, Kind::EmailMissing);
        assert_eq!(found[2].message, "dropped 2 messages");
    }
}
