//! The ranked table a person reads in the terminal.

use comfy_table::{ContentArrangement, Table as Grid, presets::UTF8_FULL_CONDENSED};

use super::{Format, Report};
use crate::trace::JourneyStatus;

pub struct Table;

impl Format for Table {
    fn name(&self) -> &'static str {
        "table"
    }

    fn render(&self, report: &Report) -> String {
        let mut out = String::new();
        let s = &report.summary;
        out.push_str(&format!(
            "{} journeys: {} completed, {} blocked{}\n",
            s.scenarios,
            s.completed,
            s.blocked,
            if s.errors > 0 {
                format!(", {} could not run", s.errors)
            } else {
                String::new()
            }
        ));
        for sc in &report.scenarios {
            let mark = match sc.status {
                JourneyStatus::Completed => "ok     ",
                JourneyStatus::Blocked => "BLOCKED",
                JourneyStatus::Error => "ERROR  ",
            };
            out.push_str(&format!("  {mark} {}", sc.name));
            if let Some(r) = &sc.reason {
                out.push_str(&format!("\n          {r}"));
            }
            out.push('\n');
        }
        out.push('\n');
        if report.findings.is_empty() {
            out.push_str(
                "No findings: a first-time user gets through every journey without calling.\n",
            );
            return out;
        }
        let mut grid = Grid::new();
        grid.load_style(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(terminal_width())
            .set_header(vec![
                "#",
                "calls/mo",
                "saved if fixed",
                "kind",
                "where",
                "what the user meets",
                "id",
            ]);
        for (i, f) in report.findings.iter().enumerate() {
            let step = f.step.map(|n| format!(" step {n}")).unwrap_or_default();
            let journeys = if f.occurrences.len() > 1 {
                format!(" (+{} more)", f.occurrences.len() - 1)
            } else {
                String::new()
            };
            let mut meets = f.message.clone();
            if !f.symptoms.is_empty() {
                meets.push_str("\nThe same fix removes:");
                for s in &f.symptoms {
                    meets.push_str(&format!("\n· {}", super::symptom_line(s)));
                }
            }
            grid.add_row(vec![
                (i + 1).to_string(),
                format!("{:.1}", f.est_calls_per_month),
                format!("{:.1}", f.est_calls_saved_if_fixed),
                format!("{}{}", f.kind, if f.blocking { " ⛔" } else { "" }),
                format!("{}\n{}{step}{journeys}", page_path(&f.url), f.scenario),
                meets,
                f.id.clone(),
            ]);
        }
        out.push_str(&grid.to_string());
        out.push_str(&format!(
            "\n{} findings{} · about {:.0} calls/month · {:.0} {}/month\n",
            s.findings,
            match report
                .findings
                .iter()
                .map(|f| f.symptoms.len())
                .sum::<usize>()
            {
                0 => String::new(),
                n => format!(" (and {n} symptom(s) listed under them)"),
            },
            s.est_calls_per_month,
            s.est_cost_per_month,
            s.currency
        ));
        out.push_str("`nocall explain ID` shows how an estimate was made; `nocall evidence ID` writes a ticket bundle.\n");
        out
    }
}

/// The page's path: what the user typed into a GET form stays out of the table.
fn page_path(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.path().to_string())
        .unwrap_or_else(|_| url.to_string())
}

fn terminal_width() -> u16 {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(120)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Finding, Kind};
    use crate::trace::Trace;

    #[test]
    fn lists_findings_by_rank_with_their_ids() {
        let mut a = Finding::new(
            Kind::LabelMismatch,
            "http://h/confer/login",
            "input",
            "Password asked",
        );
        a.est_calls_per_month = 180.0;
        let t = Trace {
            scenario: "login".into(),
            status: JourneyStatus::Blocked,
            reason: Some("step 3: no".into()),
            ..Trace::default()
        };
        let text = Table.render(&Report::new(&[t], &[None], vec![a.clone()], "USD"));
        assert!(
            text.contains("1 journeys: 0 completed, 1 blocked"),
            "{text}"
        );
        assert!(text.contains("BLOCKED login"), "{text}");
        assert!(
            text.contains("180.0") && text.contains("/confer/login") && text.contains(&a.id),
            "{text}"
        );
    }

    #[test]
    fn says_so_when_there_is_nothing() {
        let text = Table.render(&Report::new(&[Trace::default()], &[None], vec![], "USD"));
        assert!(text.contains("No findings"), "{text}");
    }
}
