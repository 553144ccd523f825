//! Merging JSON reports from sharded runs (`--shard I/N`) into one.
//!
//! Journeys are concatenated; the same finding (same stable id) met in several shards
//! becomes one, its occurrences, reach, calls and cost summed — the ranking's own rule for a
//! problem met in several journeys.

use super::Report;
use crate::finding::{Finding, merge_by_id};
use crate::rank::sort_by_calls;

/// Merges reports; `None` when there are none.
pub(crate) fn merge(reports: Vec<Report>) -> Option<Report> {
    let first = reports.first()?;
    let (browser, currency) = (first.browser.clone(), first.summary.currency.clone());
    let mut scenarios = Vec::new();
    let mut findings = Vec::new();
    for r in reports {
        scenarios.extend(r.scenarios);
        findings.extend(r.findings);
    }
    let mut findings = merge_by_id(findings, add_shard);
    sort_by_calls(&mut findings);
    let mut merged = Report::of(scenarios, findings, &currency);
    merged.browser = browser;
    Some(merged)
}

/// Folds another shard's finding of the same problem into this one: its journeys are other
/// journeys, so their reach, calls and cost add up.
fn add_shard(into: &mut Finding, other: Finding) {
    into.blocking |= other.blocking;
    into.on_path |= other.on_path;
    into.severity = into.severity.min(other.severity);
    into.occurrences.extend(other.occurrences);
    into.estimate.reach += other.estimate.reach;
    into.estimate.calls_low += other.estimate.calls_low;
    into.estimate.calls_high += other.estimate.calls_high;
    into.est_calls_per_month += other.est_calls_per_month;
    into.est_cost_per_month += other.est_cost_per_month;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Finding, Kind, Occurrence};
    use crate::trace::{JourneyStatus, Trace};

    fn report(scenario: &str, calls: f64) -> Report {
        let mut f = Finding::new(Kind::DeadLink, "http://h/help", "link \"FAQ\"", "dead");
        f.est_calls_per_month = calls;
        f.est_cost_per_month = calls * 22.0;
        f.estimate.reach = calls * 10.0;
        f.occurrences = vec![Occurrence {
            scenario: scenario.into(),
            ..Occurrence::default()
        }];
        let t = Trace {
            scenario: scenario.into(),
            status: JourneyStatus::Blocked,
            ..Trace::default()
        };
        Report::new(&[t], &[None], vec![f], "USD")
    }

    #[test]
    fn shards_become_one_report_with_one_finding_per_problem() {
        let merged = merge(vec![report("a", 3.0), report("b", 5.0)]).unwrap();
        assert_eq!(merged.summary.scenarios, 2);
        assert_eq!(merged.summary.blocked, 2);
        assert_eq!(merged.findings.len(), 1);
        assert_eq!(merged.findings[0].est_calls_per_month, 8.0);
        assert_eq!(merged.findings[0].occurrences.len(), 2);
        assert_eq!(merged.summary.est_calls_per_month, 8.0);
        assert_eq!(merged.summary.est_cost_per_month, 176.0);
        assert!(merge(vec![]).is_none());
    }
}
