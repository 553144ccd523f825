//! GitHub Actions output: workflow-command annotations and the job's step summary.
//!
//! Under `GITHUB_ACTIONS=true` the binary prints [`annotations`] on standard output and
//! appends [`step_summary`] to `$GITHUB_STEP_SUMMARY`. GitHub shows at most 10 error and 10
//! warning annotations per step and drops the rest, so the most costly findings go first.
//! Annotations sit on the scenario file at the step's line, the only repository file a
//! finding has. Whatever a page said is escaped the way the Actions toolkit escapes it, so
//! no page can end a command early or start one of its own.

use std::collections::HashMap;

use super::{Report, markdown, page_path};
use crate::finding::{Finding, Severity};

/// GitHub's limit of annotations of one kind (error, warning) per step.
pub(crate) const PER_KIND: usize = 10;

/// `::error`/`::warning` workflow commands for the top findings, most costly first, at most
/// `PER_KIND` of each. Blockers are errors; problems and what could not be verified are
/// warnings.
pub fn annotations(report: &Report) -> String {
    // By what fixing each root cause saves, then by calls, as the report ranks them.
    let mut ranked: Vec<&Finding> = report.findings.iter().collect();
    ranked.sort_by(|a, b| {
        b.est_calls_saved_if_fixed
            .total_cmp(&a.est_calls_saved_if_fixed)
            .then(b.est_calls_per_month.total_cmp(&a.est_calls_per_month))
    });
    let mut shown: HashMap<&str, usize> = HashMap::new();
    let mut out = String::new();
    for f in ranked {
        let command = match f.severity {
            Severity::Blocker => "error",
            Severity::Problem | Severity::Warning => "warning",
        };
        let count = shown.entry(command).or_default();
        if *count == PER_KIND {
            continue;
        }
        *count += 1;
        let mut properties = Vec::new();
        if let Some((file, line)) = f.location() {
            properties.push(format!("file={}", escape_property(file)));
            if let Some(line) = line {
                properties.push(format!("line={line}"));
            }
        }
        let title = format!(
            "{}: about {:.1} calls/month ({})",
            f.kind, f.est_calls_per_month, f.id
        );
        properties.push(format!("title={}", escape_property(&title)));
        out.push_str(&format!(
            "::{command} {}::{}\n",
            properties.join(","),
            escape_data(&message(f))
        ));
    }
    out
}

/// The text of one annotation: what the user meets, where, and how to get the evidence.
fn message(f: &Finding) -> String {
    let mut text = f.message.clone();
    if f.severity == Severity::Warning {
        text.push_str(" (could not be verified)");
    }
    text.push_str(&format!("\nPage: {} · {}", page_path(&f.url), f.element));
    if !f.symptoms.is_empty() {
        text.push('\n');
        text.push_str(&super::also_fixes(f));
    }
    match f.step {
        Some(step) => text.push_str(&format!("\nJourney: {}, step {step}", f.scenario)),
        None => text.push_str(&format!("\nJourney: {}", f.scenario)),
    }
    text.push_str(&format!(
        "\nEvidence for a ticket: nocall evidence {}",
        f.id
    ));
    text
}

/// The Markdown for `$GITHUB_STEP_SUMMARY`: totals and the ranked table.
pub fn step_summary(report: &Report) -> String {
    format!(
        "## nocall\n\n{}\n\n{}",
        markdown::totals(report),
        markdown::findings_table(report, markdown::TOP)
    )
}

/// A command's message: `%`, CR and LF would end or corrupt the command.
pub(crate) fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A command property's value: as [`escape_data`], and `:` and `,` would end the property.
pub(crate) fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Kind, Occurrence};
    use crate::trace::Trace;

    fn finding(kind: Kind, element: &str, calls: f64) -> Finding {
        let mut f = Finding::new(kind, "http://h/login?pin=1", element, "m");
        f.scenario = "login".into();
        f.step = Some(2);
        f.occurrences = vec![Occurrence {
            scenario: "login".into(),
            file: "scenarios/log,in:1.yaml".into(),
            step: Some(2),
            line: Some(14),
            reach: 1.0,
        }];
        f.est_calls_per_month = calls;
        f
    }

    #[test]
    fn escapes_as_the_actions_toolkit_does() {
        assert_eq!(escape_data("100%\r\nok: a,b"), "100%25%0D%0Aok: a,b");
        assert_eq!(
            escape_property("100%\r\nok: a,b"),
            "100%25%0D%0Aok%3A a%2Cb"
        );
    }

    #[test]
    fn one_line_per_finding_on_the_scenario_file_and_step_line() {
        let mut f = finding(Kind::LabelMismatch, "input", 5.0).blocking();
        f.message = "line one\n::error::forged".into();
        let text = annotations(&Report::new(
            &[Trace::default()],
            &[None],
            vec![f.clone()],
            "USD",
        ));
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(
            text.starts_with(&format!(
                "::error file=scenarios/log%2Cin%3A1.yaml,line=14,title=label-mismatch%3A about 5.0 calls/month ({})::line one%0A::error::forged%0APage: /login",
                f.id
            )),
            "{text}"
        );
    }

    #[test]
    fn keeps_the_ten_most_costly_of_each_kind() {
        let mut findings: Vec<Finding> = (0..12)
            .map(|i| finding(Kind::DeadLink, &format!("link {i}"), f64::from(i)))
            .collect();
        findings.push(finding(Kind::JourneyBlocked, "x", 0.5).blocking());
        let text = annotations(&Report::new(&[], &[], findings, "USD"));
        let warnings: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("::warning "))
            .collect();
        assert_eq!(warnings.len(), PER_KIND);
        assert!(warnings[0].contains("about 11.0 calls"), "{text}");
        assert!(
            !text.contains("about 1.0 calls") && !text.contains("about 0.0 calls"),
            "{text}"
        );
        assert_eq!(
            text.lines().filter(|l| l.starts_with("::error ")).count(),
            1,
            "{text}"
        );
    }

    #[test]
    fn the_summary_is_the_ranked_table() {
        let text = step_summary(&Report::new(
            &[],
            &[],
            vec![finding(Kind::DeadLink, "a", 3.0)],
            "USD",
        ));
        assert!(text.starts_with("## nocall\n"), "{text}");
        assert!(
            text.contains("| 1 | 3.0 | 0.0 | dead-link | /login"),
            "{text}"
        );
    }
}
