//! The Markdown summary: what a person pastes into a pull request or a ticket.
//!
//! Totals, the top findings as a ranked table, and one line per journey. Everything that
//! came from a web page is escaped so that it shows as text: Markdown renderers (GitHub's
//! among them) would otherwise turn a page's `<img>` or `|` into markup.

use super::{Format, Report, page_path};
use crate::trace::JourneyStatus;

/// How many findings the summary lists; the rest are counted.
pub(crate) const TOP: usize = 20;

pub struct Markdown;

impl Format for Markdown {
    fn name(&self) -> &'static str {
        "markdown"
    }

    fn render(&self, report: &Report) -> String {
        let mut out = String::from("# nocall report\n\n");
        out.push_str(&totals(report));
        out.push_str("\n\n## Top findings\n\n");
        out.push_str(&findings_table(report, TOP));
        out.push_str("\n## Journeys\n\n");
        out.push_str(&journeys_table(report));
        out.push_str(&format!(
            "\n<sub>nocall {} · `nocall explain ID` shows how an estimate was made · \
             `nocall evidence ID` writes a bundle for a ticket</sub>\n",
            escape(&report.tool_version)
        ));
        out
    }
}

/// One line of totals: journeys, findings, calls and cost a month.
pub(crate) fn totals(report: &Report) -> String {
    let s = &report.summary;
    let mut journeys = format!(
        "**{} journeys**: {} completed, {} blocked",
        s.scenarios, s.completed, s.blocked
    );
    if s.errors > 0 {
        journeys.push_str(&format!(", {} could not run", s.errors));
    }
    format!(
        "{journeys} · **{} findings** · about **{:.1} calls/month** · **{:.2} {}/month**",
        s.findings,
        s.est_calls_per_month,
        s.est_cost_per_month,
        escape(&s.currency)
    )
}

/// The ranked table of the `limit` most costly findings, with a line counting the rest.
pub(crate) fn findings_table(report: &Report, limit: usize) -> String {
    if report.findings.is_empty() {
        return "No findings: a first-time user gets through every journey without calling.\n"
            .into();
    }
    let mut out = String::from(
        "| # | calls/mo | saved if fixed | kind | page | what the user meets | id |\n\
         |---:|---:|---:|---|---|---|---|\n",
    );
    for (i, f) in report.findings.iter().take(limit).enumerate() {
        let kind = match f.severity {
            crate::finding::Severity::Blocker => format!("{} ⛔", f.kind),
            crate::finding::Severity::Warning => format!("{} (unverified)", f.kind),
            crate::finding::Severity::Problem => f.kind.to_string(),
        };
        let step = f.step.map(|n| format!(", step {n}")).unwrap_or_default();
        let mut meets = escape(&f.message);
        if !f.symptoms.is_empty() {
            meets.push_str("<br>The same fix removes:");
            for s in &f.symptoms {
                meets.push_str(&format!("<br>· {}", escape(&super::symptom_line(s))));
            }
        }
        out.push_str(&format!(
            "| {} | {:.1} | {:.1} | {kind} | {}<br>{}{step} | {meets} | `{}` |\n",
            i + 1,
            f.est_calls_per_month,
            f.est_calls_saved_if_fixed,
            escape(&page_path(&f.url)),
            escape(&f.scenario),
            code(&f.id),
        ));
    }
    let rest = report.findings.len().saturating_sub(limit);
    if rest > 0 {
        out.push_str(&format!("\n…and {rest} more in the full report.\n"));
    }
    out
}

fn journeys_table(report: &Report) -> String {
    if report.scenarios.is_empty() {
        return "No journeys ran.\n".into();
    }
    let mut out =
        String::from("| journey | file | result | steps | findings |\n|---|---|---|---:|---:|\n");
    for sc in &report.scenarios {
        let mark = match sc.status {
            JourneyStatus::Completed => "✅",
            JourneyStatus::Blocked => "⛔",
            JourneyStatus::Error => "⚠️",
        };
        let result = format!("{mark} {}", sc.outcome());
        let result = match &sc.reason {
            Some(r) => format!("{result}: {}", escape(r)),
            None => result,
        };
        let done = sc.steps.iter().filter(|s| s.result == "done").count();
        let findings = report
            .all_findings()
            .map(|(f, _)| f)
            .filter(|f| {
                f.occurrences.iter().any(|o| o.scenario == sc.name) || f.scenario == sc.name
            })
            .count();
        out.push_str(&format!(
            "| {} | `{}` | {result} | {done}/{} | {findings} |\n",
            escape(&sc.name),
            code(&sc.file),
            sc.steps.len(),
        ));
    }
    out
}

/// Text from a page or a scenario, made safe for a Markdown table cell: HTML is shown as
/// text, Markdown punctuation is backslash-escaped, and line breaks become spaces.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => {}
            '\n' => out.push(' '),
            // Enough to stop emphasis, code, links and cell splits; `(` or `!` alone do nothing.
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Text for inside a `code span`: backticks would end it, pipes would split the table cell.
pub(crate) fn code(text: &str) -> String {
    text.replace('`', "'")
        .replace('|', "¦")
        .replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Finding, Kind};
    use crate::trace::Trace;

    #[test]
    fn page_text_cannot_become_markup_or_break_the_table() {
        assert_eq!(
            escape("<img src=x> a|b *c*\nd"),
            "&lt;img src=x&gt; a\\|b \\*c\\* d"
        );
        assert_eq!(code("a`b|c"), "a'b¦c");
    }

    #[test]
    fn lists_the_top_findings_and_counts_the_rest() {
        let findings: Vec<Finding> = (0..3)
            .map(|i| {
                let mut f = Finding::new(
                    Kind::DeadLink,
                    &format!("http://h/p{i}?secret=1"),
                    "link",
                    "dead",
                );
                f.est_calls_per_month = 10.0 - f64::from(i);
                f
            })
            .collect();
        let report = Report::new(&[Trace::default()], &[None], findings, "USD");
        let table = findings_table(&report, 2);
        assert_eq!(
            table.lines().filter(|l| l.starts_with("| ")).count(),
            3,
            "{table}"
        );
        assert!(
            table.contains("| 1 | 10.0 | 0.0 | dead-link | /p0"),
            "{table}"
        );
        assert!(!table.contains("secret"), "the query stays out: {table}");
        assert!(table.contains("…and 1 more"), "{table}");
    }

    #[test]
    fn says_so_when_there_is_nothing() {
        let text = Markdown.render(&Report::new(&[], &[], vec![], "USD"));
        assert!(
            text.contains("No findings") && text.contains("No journeys ran"),
            "{text}"
        );
    }
}
