//! Merging JSON reports from sharded runs (`--shard I/N`) into one.
//!
//! Journeys are concatenated; the same finding (same stable id) met in several shards
//! becomes one, its occurrences, reach, calls and cost summed — the ranking's own rule for a
//! problem met in several journeys.

use std::collections::BTreeMap;

use super::Report;
use crate::finding::Finding;

/// Merges reports; `None` when there are none.
pub fn merge(reports: Vec<Report>) -> Option<Report> {
    let mut iter = reports.into_iter();
    let mut out = iter.next()?;
    let mut by_id: BTreeMap<String, usize> = out
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| (f.id.clone(), i))
        .collect();
    for r in iter {
        out.scenarios.extend(r.scenarios);
        for f in r.findings {
            match by_id.get(&f.id) {
                Some(&i) => {
                    if let Some(existing) = out.findings.get_mut(i) {
                        absorb(existing, f);
                    }
                }
                None => {
                    by_id.insert(f.id.clone(), out.findings.len());
                    out.findings.push(f);
                }
            }
        }
    }
    out.findings.sort_by(|a, b| {
        b.est_calls_per_month
            .total_cmp(&a.est_calls_per_month)
            .then(a.severity.cmp(&b.severity))
            .then(a.id.cmp(&b.id))
    });
    let traces: Vec<crate::trace::Trace> = Vec::new();
    let mut fresh = Report::new(
        &traces,
        &[],
        std::mem::take(&mut out.findings),
        &out.summary.currency,
    );
    fresh.scenarios = std::mem::take(&mut out.scenarios);
    let count =
        |s: crate::trace::JourneyStatus| fresh.scenarios.iter().filter(|x| x.status == s).count();
    fresh.summary.scenarios = fresh.scenarios.len();
    fresh.summary.completed = count(crate::trace::JourneyStatus::Completed);
    fresh.summary.blocked = count(crate::trace::JourneyStatus::Blocked);
    fresh.summary.errors = count(crate::trace::JourneyStatus::Error);
    fresh.browser = out.browser;
    Some(fresh)
}

fn absorb(into: &mut Finding, other: Finding) {
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
