//! Merging JSON reports from sharded runs (`--shard I/N`) into one.
//!
//! Journeys are concatenated; the same finding (same stable id) met in several shards
//! becomes one, its occurrences, reach, calls and cost summed — the ranking's own rule for a
//! problem met in several journeys.

use super::Report;
use crate::checks::{Audit, all as all_checks};
use crate::config::Config;
use crate::finding::{Finding, Kind};
use crate::probe::status::Probes;
use crate::rank::{Journey, Model, met_in, rank_met, unfold};
use crate::trace::Trace;

/// The checks that compare journeys with each other: a shard sees only its own journeys,
/// so what they find is found again over every shard's traces. Neither asks the network.
const ACROSS_JOURNEYS: [(&str, Kind); 2] = [
    ("label-inconsistent", Kind::LabelInconsistent),
    ("instruction-mismatch", Kind::InstructionMismatch),
];

/// Merges reports; `None` when there are none.
///
/// Every finding goes back to how each journey met it (its own and its symptoms'
/// [`crate::finding::Met`]) and is ranked again over every shard's journeys with the model the
/// shards were ranked with, so the merged ids, rows, figures and `explain` text are the
/// ones a single run of the whole suite gives. A report of an older version, which does not
/// say how its journeys met each finding, is ranked with the default model from what it
/// does say.
///
/// `traces` are every journey's traces, when all could be read back: the checks that
/// compare journeys then run again over all of them ([`ACROSS_JOURNEYS`]); without them
/// those findings are the shards' own, and may miss what only two shards together show.
pub(crate) fn merge(reports: Vec<Report>, traces: Option<Vec<Trace>>) -> Option<Report> {
    let first = reports.first()?;
    let (browser, currency) = (first.browser.clone(), first.summary.currency.clone());
    let model = reports
        .iter()
        .find_map(|r| r.model.clone())
        .unwrap_or_else(|| Model::of(&Config::default()));
    let mut scenarios = Vec::new();
    let mut findings = Vec::new();
    for r in reports {
        scenarios.extend(r.scenarios);
        findings.extend(unfold(r.findings));
    }
    // The suite's order: scenario files are loaded sorted by path, and `--shard` deals them
    // out in turn, so sorting by path puts the journeys back as one run lists them.
    scenarios.sort_by(|a, b| std::path::Path::new(&a.file).cmp(std::path::Path::new(&b.file)));
    if let Some(mut traces) = traces {
        traces.sort_by(|a, b| std::path::Path::new(&a.file).cmp(std::path::Path::new(&b.file)));
        findings = across_journeys(findings, &traces, &model);
    }
    let journeys: Vec<Journey> = scenarios
        .iter()
        .map(|s| Journey {
            scenario: s.name.clone(),
            monthly_users: s.monthly_users,
        })
        .collect();
    let findings = rank_met(findings, &journeys, &model);
    let mut merged = Report::of(scenarios, findings, &currency);
    merged.browser = browser;
    merged.model = Some(model);
    Some(merged)
}

/// The shards' findings with those of the checks that compare journeys found again over
/// every journey's traces.
fn across_journeys(findings: Vec<Finding>, traces: &[Trace], model: &Model) -> Vec<Finding> {
    let config = Config {
        synonyms: model.synonyms.clone(),
        ..Config::default()
    };
    let probes = Probes::default();
    let audit = Audit {
        traces,
        config: &config,
        probes: &probes,
    };
    let again: Vec<Finding> = all_checks()
        .iter()
        .filter(|c| ACROSS_JOURNEYS.iter().any(|(name, _)| c.name() == *name))
        .flat_map(|c| c.run(&audit))
        .collect();
    let mut out: Vec<Finding> = findings
        .into_iter()
        .filter(|f| !ACROSS_JOURNEYS.iter().any(|(_, kind)| f.kind == *kind))
        .collect();
    out.extend(met_in(again, traces));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Finding, Kind};
    use crate::report::Format;
    use crate::report::json::{Json, parse};
    use crate::trace::{JourneyStatus, StepTrace, Trace};
    use proptest::prelude::*;

    fn journey(k: usize, users: f64, reach: Option<f64>) -> Trace {
        Trace {
            scenario: format!("journey {k}"),
            file: format!("scenarios/{k:02}.yaml"),
            monthly_users: users,
            status: JourneyStatus::Blocked,
            steps: (1..=6)
                .map(|i| StepTrace {
                    index: i,
                    line: 10 + i,
                    reach: if i == 4 { reach } else { None },
                    ..StepTrace::default()
                })
                .collect(),
            ..Trace::default()
        }
    }

    /// One check's report of a problem in one journey. Few pages and elements, so the same
    /// problem turns up in several journeys, in several situations.
    fn found(t: &Trace, kind: usize, page: usize, step: usize, how: usize) -> Finding {
        const KINDS: [Kind; 6] = [
            Kind::JourneyBlocked,
            Kind::DeadLink,
            Kind::DeadEmailLink,
            Kind::UnknownInfo,
            Kind::LabelMissing,
            Kind::RecoveryDeadEnd,
        ];
        let kind = KINDS[kind % KINDS.len()];
        let url = format!("http://h/p{}", page % 3);
        let element = match kind {
            Kind::DeadLink => format!("link \"L\" → /p{}", (page + 1) % 3),
            _ => format!("element {}", page % 2),
        };
        let f = Finding::new(
            kind,
            &url,
            element,
            format!("told in {} at {step}", t.scenario),
        );
        let f = match how % 4 {
            0 => f.blocking(),
            1 => f.on_path(true),
            2 => f.warning(),
            _ => f,
        };
        f.at(t, Some(step))
    }

    fn report(traces: &[Trace], raw: &[(usize, Finding)], model: &Model) -> Report {
        let mine: Vec<Finding> = raw
            .iter()
            .filter(|(k, _)| traces.iter().any(|t| t.scenario == format!("journey {k}")))
            .map(|(_, f)| f.clone())
            .collect();
        let config = Config::default();
        let ranked = crate::rank::rank(mine, traces, &config);
        let mut r = Report::new(traces, &vec![None; traces.len()], ranked, "USD");
        r.model = Some(model.clone());
        // Through the JSON, as shards reach `nocall merge`.
        parse(&Json.render(&r)).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Any split of a suite into shards merges into exactly the report of the whole run:
        /// the same rows and symptoms, ids, figures and `explain` text.
        #[test]
        fn merged_shards_are_the_whole_run(
            users in proptest::collection::vec((0.0..2_000.0f64, proptest::option::of(0.0..1.0f64)), 2..7),
            raw in proptest::collection::vec((0usize..7, 0usize..6, 0usize..3, 1usize..7, 0usize..4), 0..25),
            split in proptest::collection::vec(0usize..3, 7),
        ) {
            let traces: Vec<Trace> = users.iter().enumerate().map(|(k, (u, r))| journey(k, *u, *r)).collect();
            let raw: Vec<(usize, Finding)> = {
                // Checks report journey by journey, in the suite's order.
                let mut v: Vec<(usize, Finding)> = raw
                    .iter()
                    .filter(|(k, ..)| *k < traces.len())
                    .map(|&(k, kind, page, step, how)| (k, found(&traces[k], kind, page, step, how)))
                    .collect();
                v.sort_by_key(|(k, _)| *k);
                v
            };
            let model = Model::of(&Config::default());
            let whole = report(&traces, &raw, &model);
            let shards: Vec<Report> = (0..3)
                .map(|s| {
                    let mine: Vec<Trace> = traces
                        .iter()
                        .enumerate()
                        .filter(|(k, _)| split[*k] == s)
                        .map(|(_, t)| t.clone())
                        .collect();
                    report(&mine, &raw, &model)
                })
                .collect();
            let merged = merge(shards, None).unwrap();
            prop_assert_eq!(&merged.summary, &whole.summary);
            prop_assert_eq!(&merged.findings, &whole.findings);
            for f in &whole.findings {
                prop_assert_eq!(crate::explain::explain(f), crate::explain::explain(merged.finding(&f.id).unwrap()));
            }
            let rows: f64 = merged.findings.iter().map(|f| f.est_calls_per_month).sum();
            prop_assert!((rows - merged.summary.est_calls_per_month).abs() < 0.011);
        }
    }

    #[test]
    fn no_reports_no_merge() {
        assert!(merge(vec![], None).is_none());
    }
}
