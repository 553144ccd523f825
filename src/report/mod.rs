//! Reports: one [`Report`] value, shown in several formats, one module each.
//!
//! The report is built once from the ranked findings and the traces; every format reads the
//! same value and none of them computes anything of its own. Secrets are masked before a
//! report is built, so formats need not think about them.

pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub(crate) mod merge;
pub mod sarif;
pub mod spec;
pub mod table;

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::finding::Finding;
use crate::rank::round2;
pub use crate::rank::{Model, ModelChance};
use crate::trace::{JourneyStatus, Outcome, Trace};

pub const SCHEMA: &str = "nocall-report/1";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub schema: String,
    pub tool_version: String,
    /// The browser that ran the journeys (`Browser.getVersion`'s product), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    pub summary: Summary,
    pub scenarios: Vec<ScenarioResult>,
    /// One row a root cause, ranked by what fixing it saves; the findings it explains are
    /// its `symptoms`.
    pub findings: Vec<Finding>,
    /// The chances and price the findings were ranked with, so `nocall merge` can rank
    /// shards together as one run (absent in reports of older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<Model>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub scenarios: usize,
    pub completed: usize,
    pub blocked: usize,
    #[serde(default)]
    pub errors: usize,
    pub findings: usize,
    pub est_calls_per_month: f64,
    pub est_cost_per_month: f64,
    pub currency: String,
}

impl Summary {
    /// How the journeys ended and what the findings add up to.
    pub fn of(scenarios: &[ScenarioResult], findings: &[Finding], currency: &str) -> Summary {
        let count = |s: JourneyStatus| scenarios.iter().filter(|r| r.status == s).count();
        Summary {
            scenarios: scenarios.len(),
            completed: count(JourneyStatus::Completed),
            blocked: count(JourneyStatus::Blocked),
            errors: count(JourneyStatus::Error),
            findings: findings.len(),
            est_calls_per_month: round2(findings.iter().map(|f| f.est_calls_per_month).sum()),
            est_cost_per_month: round2(findings.iter().map(|f| f.est_cost_per_month).sum()),
            currency: currency.to_string(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ScenarioResult {
    pub name: String,
    pub file: String,
    pub status: JourneyStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_at_step: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub monthly_users: f64,
    pub duration_ms: u64,
    /// The journey's full trace, relative to the output folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    pub steps: Vec<StepResult>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct StepResult {
    pub index: usize,
    pub line: usize,
    pub action: String,
    /// `done`, `failed`, or `skipped` for a step the journey never reached.
    pub result: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screenshot: Option<String>,
    pub duration_ms: u64,
}

impl Report {
    /// `trace_files[i]` is where trace `i` was saved, if it was.
    pub fn new(
        traces: &[Trace],
        trace_files: &[Option<String>],
        findings: Vec<Finding>,
        currency: &str,
    ) -> Report {
        let scenarios = traces
            .iter()
            .enumerate()
            .map(|(i, t)| ScenarioResult {
                name: t.scenario.clone(),
                file: t.file.clone(),
                status: t.status,
                blocked_at_step: t.blocked_at_step,
                reason: t.reason.clone(),
                monthly_users: t.monthly_users,
                duration_ms: t.duration_ms,
                trace: trace_files.get(i).cloned().flatten(),
                steps: t
                    .steps
                    .iter()
                    .map(|s| StepResult {
                        index: s.index,
                        line: s.line,
                        action: s.action.clone(),
                        result: if s.outcome.is_done() {
                            "done"
                        } else {
                            "failed"
                        }
                        .into(),
                        reason: match &s.outcome {
                            Outcome::Failed { reason, .. } => Some(reason.clone()),
                            Outcome::Done => None,
                        },
                        url: s.page.as_ref().map(|p| p.url.clone()),
                        status: s.page.as_ref().and_then(|p| p.status),
                        screenshot: s.screenshot.clone(),
                        duration_ms: s.timings.action_ms + s.timings.record_ms,
                    })
                    .collect(),
            })
            .collect();
        Report::of(scenarios, findings, currency)
    }

    /// The report of journeys already summed up (merged shards), its summary counted anew.
    pub fn of(scenarios: Vec<ScenarioResult>, findings: Vec<Finding>, currency: &str) -> Report {
        Report {
            schema: SCHEMA.to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            browser: None,
            summary: Summary::of(&scenarios, &findings, currency),
            scenarios,
            findings,
            model: None,
        }
    }

    /// The row or symptom with this id.
    pub fn finding(&self, id: &str) -> Option<&Finding> {
        self.all_findings()
            .find(|(f, _)| f.id.eq_ignore_ascii_case(id))
            .map(|(f, _)| f)
    }

    /// The row whose root cause or symptom has this id.
    pub fn row_of(&self, id: &str) -> Option<&Finding> {
        self.all_findings()
            .find(|(f, _)| f.id.eq_ignore_ascii_case(id))
            .map(|(_, row)| row)
    }

    /// Every finding, rows and their symptoms, each with the row it belongs to.
    pub fn all_findings(&self) -> impl Iterator<Item = (&Finding, &Finding)> + '_ {
        self.findings.iter().flat_map(|row| {
            std::iter::once((row, row)).chain(row.symptoms.iter().map(move |s| (s, row)))
        })
    }

    /// The findings journey `scenario` met at `step` (`None`: met by the journey as a whole),
    /// in the report's (ranked) order, each row followed by its symptoms. A finding met in
    /// several journeys is listed under each.
    pub(crate) fn findings_at<'a>(
        &'a self,
        scenario: &'a str,
        step: Option<usize>,
    ) -> impl Iterator<Item = &'a Finding> + 'a {
        self.all_findings().map(|(f, _)| f).filter(move |f| {
            f.occurrences
                .iter()
                .any(|o| o.scenario == scenario && o.step == step)
                || (f.occurrences.is_empty() && f.scenario == scenario && f.step == step)
        })
    }
}

impl ScenarioResult {
    /// Lists the steps the journey never reached (after the step it was blocked at) as
    /// `skipped`, from the scenario's own steps: `(line, action)` in order, the action
    /// already masked. Reports show them as not run rather than leaving them out.
    pub(crate) fn add_not_run(&mut self, planned: &[(usize, String)]) {
        if self.status == JourneyStatus::Completed {
            return;
        }
        let reached = self.steps.iter().map(|s| s.index).max().unwrap_or(0);
        for (i, (line, action)) in planned.iter().enumerate() {
            let index = i + 1;
            if index > reached {
                self.steps.push(StepResult {
                    index,
                    line: *line,
                    action: action.clone(),
                    result: "skipped".into(),
                    ..StepResult::default()
                });
            }
        }
    }

    /// How the journey ended, in a few words: `completed`, `blocked at step 4`, ….
    pub fn outcome(&self) -> String {
        match (self.status, self.blocked_at_step) {
            (JourneyStatus::Completed, _) => "completed".into(),
            (JourneyStatus::Blocked, Some(n)) => format!("blocked at step {n}"),
            (JourneyStatus::Blocked, None) => "blocked".into(),
            (JourneyStatus::Error, _) => "could not run".into(),
        }
    }
}

/// One output format.
pub trait Format {
    /// The format's name in `--report NAME=PATH`.
    fn name(&self) -> &'static str;
    fn render(&self, report: &Report) -> String;
}

/// The format called `name`, if there is one. `out_dir` is the run's output folder, where
/// the HTML report finds the screenshots it inlines.
pub fn format_in(name: &str, out_dir: &Path) -> Option<Box<dyn Format>> {
    match name {
        "json" => Some(Box::new(json::Json)),
        "table" => Some(Box::new(table::Table)),
        "junit" => Some(Box::new(junit::Junit::default())),
        "sarif" => Some(Box::new(sarif::Sarif)),
        "html" => Some(Box::new(html::Html {
            out_dir: out_dir.to_path_buf(),
        })),
        "markdown" => Some(Box::new(markdown::Markdown)),
        _ => None,
    }
}

/// Names accepted by [`format_in`] for files.
pub const FILE_FORMATS: &[&str] = &["json", "junit", "sarif", "html", "markdown"];

/// `rel` (a path the report gives, relative to the run's output folder) under `out_dir`, if
/// it stays inside it: a report edited by hand cannot pull any other file into a report or
/// a bundle. No part of it below `out_dir` may be a symlink: a link planted in the folder
/// could point anywhere on the machine.
pub(crate) fn in_out_dir(out_dir: &Path, rel: &str) -> Option<PathBuf> {
    let path = Path::new(rel);
    if !path.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    let mut at = out_dir.to_path_buf();
    for c in path.components() {
        at.push(c);
        if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
            return None;
        }
    }
    Some(at)
}

/// The trace a journey's result points at, read from the run's output folder.
pub(crate) fn read_trace(out_dir: &Path, sc: &ScenarioResult) -> Option<Trace> {
    let text = std::fs::read_to_string(in_out_dir(out_dir, sc.trace.as_deref()?)?).ok()?;
    serde_json::from_str(&text).ok()
}

/// Where a finding was met, in a few words: `"Update my details" step 2, "Notice" step 5`.
pub(crate) fn journeys_and_steps(f: &Finding) -> String {
    f.occurrences
        .iter()
        .map(|o| match o.step {
            Some(n) => format!("\"{}\" step {n}", o.scenario),
            None => format!("\"{}\"", o.scenario),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A symptom in a few words: `journey-blocked in "Update my details" step 2 (F3df802d)`.
pub(crate) fn symptom_line(s: &Finding) -> String {
    match journeys_and_steps(s) {
        at if at.is_empty() => format!("{} ({})", s.kind, s.id),
        at => format!("{} in {at} ({})", s.kind, s.id),
    }
}

/// A row's symptoms and saving in one sentence, for the formats that tell a row in a line:
/// `The same fix removes A; B. Saved if fixed: about 12.5 calls a month.` Empty without
/// symptoms.
pub(crate) fn also_fixes(f: &Finding) -> String {
    if f.symptoms.is_empty() {
        return String::new();
    }
    let list: Vec<String> = f.symptoms.iter().map(symptom_line).collect();
    format!(
        "The same fix removes {}. Saved if fixed: about {:.1} calls a month.",
        list.join("; "),
        f.est_calls_saved_if_fixed
    )
}

/// The page's path: what the user typed into a GET form (the query) stays out of reports.
pub(crate) fn page_path(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.path().to_string())
        .unwrap_or_else(|_| url.to_string())
}
