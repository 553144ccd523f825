//! The JUnit XML report, for the test views of GitHub Actions, GitLab and Jenkins.
//!
//! A test suite per journey, a test case per step. A step fails when the journey was
//! blocked there or when a finding that counts was met there; the failure carries those
//! findings (kind, message, estimated calls, id). What could not be verified is not a
//! failure: it goes to the step's `system-out`. A journey that could not run is an error.
//! Written with `quick-junit`, which also escapes everything a page said.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report as Xml, TestCase, TestCaseStatus, TestSuite};

use super::{Format, Report, ScenarioResult, StepResult, page_path};
use crate::finding::{Finding, Severity};
use crate::gate::Gate;
use crate::trace::JourneyStatus;

/// The JUnit format; `gate` decides which findings fail a test case, as it decides the
/// run's exit code.
#[derive(Default)]
pub struct Junit {
    pub gate: Gate,
}

impl Format for Junit {
    fn name(&self) -> &'static str {
        "junit"
    }

    fn render(&self, report: &Report) -> String {
        let mut xml = Xml::new("nocall");
        xml.set_time(Duration::from_millis(
            report.scenarios.iter().map(|s| s.duration_ms).sum(),
        ));
        for sc in &report.scenarios {
            xml.add_test_suite(suite(report, sc, &self.gate));
        }
        // Serialising in memory fails only on a bug in the writer; an empty run still parses.
        xml.to_string().unwrap_or_else(|_| {
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"nocall\"/>\n".into()
        })
    }
}

fn suite(report: &Report, sc: &ScenarioResult, gate: &Gate) -> TestSuite {
    let mut suite = TestSuite::new(sc.name.as_str());
    suite.set_time(Duration::from_millis(sc.duration_ms));
    suite.add_property(Property::new("file", sc.file.as_str()));
    suite.add_property(Property::new("status", sc.status.as_str()));
    suite.add_property(Property::new("monthly_users", sc.monthly_users.to_string()));
    for step in &sc.steps {
        let findings: Vec<&Finding> = report.findings_at(&sc.name, Some(step.index)).collect();
        suite.add_test_case(case(report, sc, step, &findings, gate));
    }
    // What the journey met as a whole (no step), and a journey that could not run at all.
    let journey: Vec<&Finding> = report.findings_at(&sc.name, None).collect();
    if !journey.is_empty() || (sc.status == JourneyStatus::Error && sc.steps.is_empty()) {
        let step = StepResult {
            action: "journey".into(),
            result: if sc.status == JourneyStatus::Error {
                "error"
            } else {
                "done"
            }
            .into(),
            reason: sc.reason.clone(),
            ..StepResult::default()
        };
        suite.add_test_case(case(report, sc, &step, &journey, gate));
    }
    suite
}

fn case(
    report: &Report,
    sc: &ScenarioResult,
    step: &StepResult,
    findings: &[&Finding],
    gate: &Gate,
) -> TestCase {
    // A symptom fails where its root cause's row would fail the gate.
    let fails = |f: &Finding| {
        let row = f
            .symptom_of
            .as_deref()
            .and_then(|id| report.row_of(id))
            .unwrap_or(f);
        gate.fails_on(row)
    };
    let (counted, passed): (Vec<&Finding>, Vec<&Finding>) = findings.iter().partition(|f| fails(f));
    let (unverified, passed): (Vec<&Finding>, Vec<&Finding>) = passed
        .into_iter()
        .partition(|f| f.severity == Severity::Warning);
    // A blocked step fails when the gate fails on what blocked it (or nothing explains it).
    let failed = step.result == "failed"
        && (!counted.is_empty() || findings.iter().all(|f| f.severity == Severity::Warning));
    let status = if step.result == "skipped" {
        let mut s = TestCaseStatus::skipped();
        s.set_message(match sc.blocked_at_step {
            Some(n) => format!("not run: the journey was blocked at step {n}"),
            None => "not run: the journey stopped before it".to_string(),
        });
        s
    } else if step.result == "error" {
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
        s.set_message(
            step.reason
                .as_deref()
                .unwrap_or("the journey could not run"),
        );
        s
    } else if failed || !counted.is_empty() {
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
        let mut what = Vec::new();
        if failed {
            what.push(format!(
                "blocked: {}",
                step.reason
                    .as_deref()
                    .unwrap_or("the step could not be done")
            ));
        }
        if !counted.is_empty() {
            // A row's calls include its symptoms': count each stuck user once.
            let calls: f64 = counted.iter().map(|f| f.own_calls()).sum();
            what.push(format!(
                "{} finding(s), about {calls:.1} calls/month",
                counted.len()
            ));
        }
        s.set_message(what.join("; "));
        let mut kinds: Vec<&str> = counted.iter().map(|f| f.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        s.set_type(if kinds.is_empty() {
            "journey-blocked".to_string()
        } else {
            kinds.join(" ")
        });
        s.set_description(describe(&counted));
        s
    } else {
        TestCaseStatus::success()
    };
    let name = if step.index == 0 {
        step.action.clone()
    } else {
        format!("step {}: {}", step.index, step.action)
    };
    let mut case = TestCase::new(name, status);
    case.set_classname(sc.name.as_str());
    case.set_time(Duration::from_millis(step.duration_ms));
    if step.line > 0 {
        case.add_property(Property::new("line", step.line.to_string()));
    }
    if let Some(url) = &step.url {
        case.add_property(Property::new("url", url.as_str()));
    }
    let mut out = Vec::new();
    if !passed.is_empty() {
        out.push(format!(
            "Met here, not failing the gate:\n{}",
            describe(&passed)
        ));
    }
    if !unverified.is_empty() {
        out.push(format!("Could not be verified:\n{}", describe(&unverified)));
    }
    if !out.is_empty() {
        case.set_system_out(out.join("\n"));
    }
    case
}

/// The findings, one paragraph each, for a person reading the CI's test view.
fn describe(findings: &[&Finding]) -> String {
    findings
        .iter()
        .map(|f| {
            let root = match &f.symptom_of {
                Some(r) => format!(" · a symptom of {r}, which the same fix removes"),
                None if !f.symptoms.is_empty() => format!(
                    " · root cause of {} more · saved if fixed: about {:.1} calls/month",
                    f.symptoms.len(),
                    f.est_calls_saved_if_fixed
                ),
                None => String::new(),
            };
            format!(
                "[{}] {} · about {:.1} calls/month · {}{root}\n  {}\n  page: {} · {}\n",
                f.id,
                f.kind,
                f.est_calls_per_month,
                f.severity.as_str(),
                f.message,
                page_path(&f.url),
                f.element
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Kind, Occurrence};
    use crate::trace::{Outcome, StepTrace, Trace};

    fn trace() -> Trace {
        let step = |index, outcome| StepTrace {
            index,
            line: index + 10,
            action: format!("do {index}"),
            outcome,
            ..StepTrace::default()
        };
        Trace {
            scenario: "login".into(),
            file: "s/login.yaml".into(),
            status: JourneyStatus::Blocked,
            blocked_at_step: Some(3),
            steps: vec![
                step(1, Outcome::Done),
                step(2, Outcome::Done),
                step(
                    3,
                    Outcome::Failed {
                        kind: crate::trace::FailureKind::ExpectNotSeen,
                        reason: "no \"Welcome\"".into(),
                    },
                ),
            ],
            ..Trace::default()
        }
    }

    fn at(mut f: Finding, step: usize, calls: f64) -> Finding {
        f.scenario = "login".into();
        f.step = Some(step);
        f.occurrences = vec![Occurrence {
            scenario: "login".into(),
            file: "s/login.yaml".into(),
            step: Some(step),
            line: None,
            reach: 1.0,
        }];
        f.est_calls_per_month = calls;
        f
    }

    #[test]
    fn steps_after_the_block_are_skipped_and_the_blocked_step_follows_the_gate() {
        let blocked = at(
            Finding::new(Kind::JourneyBlocked, "http://h/login", "expect", "stuck").blocking(),
            3,
            5.0,
        );
        let mut report = Report::new(&[trace()], &[None], vec![blocked.clone()], "USD");
        report.scenarios[0].add_not_run(&[
            (11, "do 1".into()),
            (12, "do 2".into()),
            (13, "do 3".into()),
            (14, "expect \"Welcome\"".into()),
        ]);
        let xml = Junit::default().render(&report);
        let parsed = Xml::deserialize_from_str(&xml).unwrap();
        assert_eq!(parsed.tests, 4, "{xml}");
        let cases = &parsed.test_suites[0].test_cases;
        assert!(
            matches!(cases[3].status, TestCaseStatus::Skipped { .. }),
            "{xml}"
        );
        assert!(
            xml.contains("not run: the journey was blocked at step 3"),
            "{xml}"
        );
        assert_eq!(parsed.failures, 1);
        // A baseline that knows the block: the gate passes, and so does the step.
        let known = Junit {
            gate: Gate {
                baseline: Some([blocked.id.clone()].into()),
                ..Gate::default()
            },
        };
        let parsed = Xml::deserialize_from_str(&known.render(&report)).unwrap();
        assert_eq!(parsed.failures, 0);
    }

    #[test]
    fn a_case_per_step_failing_where_findings_or_the_block_are() {
        let findings = vec![
            at(
                Finding::new(
                    Kind::LabelMismatch,
                    "http://h/login",
                    "input",
                    "Password <asked>",
                ),
                2,
                7.5,
            ),
            at(
                Finding::new(Kind::DeadLink, "http://h/login", "link", "403").warning(),
                1,
                0.1,
            ),
        ];
        let report = Report::new(&[trace()], &[None], findings, "USD");
        // Under the default gate (blockers) the label mismatch, which does not block, is
        // told in the step's output and fails nothing; the blocked step still fails.
        let xml = Junit::default().render(&report);
        let parsed = Xml::deserialize_from_str(&xml).unwrap();
        assert_eq!(parsed.failures, 1, "{xml}");
        assert!(xml.contains("Met here, not failing the gate"), "{xml}");
        let any = Junit {
            gate: Gate {
                fail_on: crate::config::FailOn::Any,
                ..Gate::default()
            },
        };
        let xml = any.render(&report);
        let parsed = Xml::deserialize_from_str(&xml).unwrap();
        assert_eq!(parsed.tests, 3);
        assert_eq!(parsed.failures, 2);
        let cases = &parsed.test_suites[0].test_cases;
        assert!(matches!(cases[0].status, TestCaseStatus::Success { .. }));
        assert!(
            cases[0]
                .system_out
                .as_ref()
                .unwrap()
                .as_str()
                .contains("403")
        );
        let TestCaseStatus::NonSuccess {
            message,
            ty,
            description,
            ..
        } = &cases[1].status
        else {
            panic!("{xml}")
        };
        assert_eq!(ty.as_ref().unwrap().as_str(), "label-mismatch");
        assert!(
            message
                .as_ref()
                .unwrap()
                .as_str()
                .contains("about 7.5 calls/month")
        );
        assert!(
            description
                .as_ref()
                .unwrap()
                .as_str()
                .contains("Password <asked>")
        );
        assert!(xml.contains("Password &lt;asked&gt;"), "{xml}");
        let TestCaseStatus::NonSuccess { message, .. } = &cases[2].status else {
            panic!("{xml}")
        };
        assert!(
            message
                .as_ref()
                .unwrap()
                .as_str()
                .contains("blocked: no \"Welcome\"")
        );
    }

    #[test]
    fn a_journey_that_could_not_run_is_an_error() {
        let t = Trace {
            scenario: "x".into(),
            status: JourneyStatus::Error,
            reason: Some("portal unreachable".into()),
            ..Trace::default()
        };
        let xml = Junit::default().render(&Report::new(&[t], &[None], vec![], "USD"));
        let parsed = Xml::deserialize_from_str(&xml).unwrap();
        assert_eq!((parsed.tests, parsed.errors), (1, 1), "{xml}");
    }
}
