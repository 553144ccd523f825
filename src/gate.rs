//! Gates: whether a run's findings should fail the build.
//!
//! Decided here and only here, from the report; the binary turns the result into an exit
//! code. Warnings (what could not be verified) never fail a gate.

use std::collections::HashSet;

use crate::config::FailOn;
use crate::finding::Severity;
use crate::report::Report;

#[derive(Debug, Clone, Default)]
pub struct Gate {
    pub fail_on: FailOn,
    pub max_calls: Option<f64>,
    /// Finding ids already known; only new ones count.
    pub baseline: Option<HashSet<String>>,
}

/// What the gate decided about one report.
#[derive(Debug, Clone, PartialEq)]
pub struct GateResult {
    pub failed: bool,
    /// Why it failed, one line each.
    pub reasons: Vec<String>,
}

impl Gate {
    /// Whether this row alone fails the gate's `fail_on` (not `max_calls`, which is about
    /// the whole run): counted, not excused by the baseline, and of the kind it fails on.
    pub fn fails_on(&self, f: &crate::finding::Finding) -> bool {
        if f.severity == Severity::Warning || self.baseline.as_ref().is_some_and(|b| known(b, f)) {
            return false;
        }
        match self.fail_on {
            FailOn::Blocker => f.blocking,
            FailOn::Any => true,
            FailOn::None => false,
        }
    }

    pub fn evaluate(&self, report: &Report) -> GateResult {
        let counted: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.severity != Severity::Warning)
            .filter(|f| self.baseline.as_ref().is_none_or(|b| !known(b, f)))
            .collect();
        let mut reasons = Vec::new();
        let new = if self.baseline.is_some() { "new " } else { "" };
        match self.fail_on {
            FailOn::Blocker => {
                let n = counted.iter().filter(|f| f.blocking).count();
                if n > 0 {
                    reasons.push(format!(
                        "{n} {new}finding(s) block a journey (--fail-on blocker)"
                    ));
                }
            }
            FailOn::Any => {
                if !counted.is_empty() {
                    reasons.push(format!("{} {new}finding(s) (--fail-on any)", counted.len()));
                }
            }
            FailOn::None => {}
        }
        if let Some(max) = self.max_calls {
            let calls: f64 = counted.iter().map(|f| f.est_calls_per_month).sum();
            if calls > max {
                reasons.push(format!(
                    "{new}findings cause about {calls:.1} calls/month, over --max-calls {max}"
                ));
            }
        }
        GateResult {
            failed: !reasons.is_empty(),
            reasons,
        }
    }
}

/// A row the baseline knows: by its own id, or by the id of any finding it explains — a
/// baseline written before the findings were grouped into root causes listed the symptom
/// on its own, and it is the same problem.
fn known(baseline: &HashSet<String>, f: &crate::finding::Finding) -> bool {
    baseline.contains(&f.id) || f.symptoms.iter().any(|s| known(baseline, s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Finding, Kind};

    fn report(findings: Vec<Finding>) -> Report {
        Report::new(&[], &[], findings, "USD")
    }

    fn f(kind: Kind, calls: f64) -> Finding {
        let mut f = Finding::new(kind, "http://h/p", kind.as_str(), "m");
        f.est_calls_per_month = calls;
        f
    }

    #[test]
    fn blocker_gate_fails_only_on_blockers() {
        let gate = Gate::default();
        assert!(
            !gate
                .evaluate(&report(vec![f(Kind::LabelMissing, 5.0)]))
                .failed
        );
        assert!(
            gate.evaluate(&report(vec![f(Kind::JourneyBlocked, 5.0).blocking()]))
                .failed
        );
    }

    #[test]
    fn any_and_none_and_max_calls() {
        let any = Gate {
            fail_on: FailOn::Any,
            ..Gate::default()
        };
        assert!(
            any.evaluate(&report(vec![f(Kind::LabelMissing, 5.0)]))
                .failed
        );
        assert!(
            !any.evaluate(&report(vec![f(Kind::DeadLink, 5.0).warning()]))
                .failed
        );
        let calls = Gate {
            fail_on: FailOn::None,
            max_calls: Some(10.0),
            ..Gate::default()
        };
        assert!(
            !calls
                .evaluate(&report(vec![f(Kind::LabelMissing, 9.0)]))
                .failed
        );
        let v = calls.evaluate(&report(vec![
            f(Kind::LabelMissing, 9.0),
            f(Kind::DeadLink, 2.0),
        ]));
        assert!(v.failed && v.reasons[0].contains("11.0"), "{v:?}");
    }

    #[test]
    fn a_baseline_excuses_known_findings() {
        let known = f(Kind::JourneyBlocked, 5.0).blocking();
        let gate = Gate {
            baseline: Some([known.id.clone()].into()),
            ..Gate::default()
        };
        assert!(!gate.evaluate(&report(vec![known])).failed);
    }

    #[test]
    fn a_baseline_listing_a_symptom_excuses_its_root_cause() {
        let symptom = f(Kind::JourneyBlocked, 5.0).blocking();
        let mut root = f(Kind::DeadLink, 9.0).blocking();
        root.symptoms = vec![symptom.clone()];
        let gate = Gate {
            baseline: Some([symptom.id.clone()].into()),
            ..Gate::default()
        };
        assert!(!gate.evaluate(&report(vec![root.clone()])).failed);
        let other = Gate {
            baseline: Some(["F0000000".to_string()].into()),
            ..Gate::default()
        };
        assert!(other.evaluate(&report(vec![root])).failed);
    }
}
