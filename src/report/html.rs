//! The HTML report: one self-contained file a person opens in a browser, online or not.
//!
//! Summary, ranked findings with their evidence and estimate, and each journey's step trail
//! with its page titles and screenshots, read from the traces and images in the run's
//! output folder (screenshots inlined as `data:` URIs). No external CSS, JS or fonts.
//! Everything that came from a page or a scenario is escaped by
//! `maud`'s templates, page URLs are shown as text and never linked, and a Content Security
//! Policy forbids every script, so nothing a portal served can run in the reader's browser.

use std::path::PathBuf;

use base64::Engine as _;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{
    Format, Report, ScenarioResult, StepResult, in_out_dir, page_path, read_trace, symptom_line,
};
use crate::explain::explain;
use crate::finding::{Finding, Severity};

/// Scripts, frames, fonts and remote images are all refused; only the inlined styles and
/// the `data:` screenshots may load.
const CSP: &str = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

const CSS: &str = r#"
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:1.5rem;color:#1d2330;background:#fff}
h1{margin:.2rem 0}h2{margin-top:2.2rem;border-bottom:1px solid #d9dde5;padding-bottom:.3rem}
.meta{color:#5b6475;font-size:.9rem}
.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.card{border:1px solid #d9dde5;border-radius:8px;padding:.6rem 1rem;min-width:9rem}
.card b{display:block;font-size:1.5rem}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{border-bottom:1px solid #e4e7ee;padding:.35rem .5rem;text-align:left;vertical-align:top}
td.n{text-align:right;white-space:nowrap}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem}
pre{background:#f5f6f9;border:1px solid #e4e7ee;border-radius:6px;padding:.6rem;overflow:auto;white-space:pre-wrap;word-break:break-word}
.sev{border-radius:4px;padding:0 .35rem;font-size:.8rem;white-space:nowrap}
.blocker{background:#fde2e1;color:#8a1c17}.problem{background:#fff1d6;color:#7a4b00}.warning{background:#e8ecf3;color:#3d4757}
.finding,.journey{border:1px solid #d9dde5;border-radius:8px;padding:.2rem 1rem 1rem;margin:1rem 0}
ol.steps{padding-left:1.4rem}ol.steps>li{margin:.8rem 0}
.failed{color:#8a1c17;font-weight:600}
img.shot{display:block;max-width:min(100%,760px);border:1px solid #d9dde5;border-radius:4px;margin-top:.4rem}
"#;

pub struct Html {
    /// The run's output folder: screenshot paths in the report are relative to it.
    pub out_dir: PathBuf,
}

impl Format for Html {
    fn name(&self) -> &'static str {
        "html"
    }

    fn render(&self, report: &Report) -> String {
        let s = &report.summary;
        let page = html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta http-equiv="Content-Security-Policy" content=(CSP);
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { "nocall report" }
                    style { (PreEscaped(CSS)) }
                }
                body {
                    h1 { "nocall report" }
                    p.meta {
                        "nocall " (report.tool_version)
                        @if let Some(browser) = &report.browser { " · " (browser) }
                    }
                    div.cards {
                        div.card { b { (s.scenarios) } "journeys: " (s.completed) " completed, " (s.blocked) " blocked"
                            @if s.errors > 0 { ", " (s.errors) " could not run" } }
                        div.card { b { (s.findings) } "findings" }
                        div.card { b { (format!("{:.1}", s.est_calls_per_month)) } "support calls a month" }
                        div.card { b { (format!("{:.2}", s.est_cost_per_month)) } (s.currency) " a month" }
                    }
                    h2 { "Findings, most costly first" }
                    (ranked(report))
                    @for (i, f) in report.findings.iter().enumerate() { (finding(report, i, f)) }
                    h2 { "Journeys" }
                    @for (i, sc) in report.scenarios.iter().enumerate() { (self.journey(report, i, sc)) }
                    p.meta { "nocall explain ID shows how an estimate was made; nocall evidence ID writes a bundle for a ticket." }
                }
            }
        };
        let mut text = page.into_string();
        text.push('\n');
        text
    }
}

impl Html {
    fn journey(&self, report: &Report, j: usize, sc: &ScenarioResult) -> Markup {
        html! {
            section.journey id=(journey_anchor(j)) {
                h3 { (sc.name) }
                p.meta { code { (sc.file) } " · " (sc.outcome()) " · " (sc.monthly_users) " users a month · " (sc.duration_ms) " ms" }
                @if let Some(reason) = &sc.reason { p.failed { (reason) } }
                @let journey: Vec<&Finding> = report.findings_at(&sc.name, None).collect();
                @if !journey.is_empty() { p { "Met by the journey as a whole: " (links(&journey)) } }
                @let trace = read_trace(&self.out_dir, sc);
                ol.steps {
                    @for step in &sc.steps {
                        @let title = trace.as_ref().and_then(|t| t.page_at(step.index)).map(|p| p.title.as_str());
                        (self.step(report, j, sc, step, title))
                    }
                }
            }
        }
    }

    fn step(
        &self,
        report: &Report,
        j: usize,
        sc: &ScenarioResult,
        step: &StepResult,
        title: Option<&str>,
    ) -> Markup {
        let findings: Vec<&Finding> = report.findings_at(&sc.name, Some(step.index)).collect();
        let shot = step
            .screenshot
            .as_deref()
            .map(|rel| (rel, self.data_uri(rel)));
        html! {
            li id=(step_anchor(j, step.index)) value=(step.index) {
                code { (step.action) }
                @if step.line > 0 { span.meta { " · line " (step.line) } }
                @if step.result == "failed" {
                    " " span.failed { "failed" @if let Some(r) = &step.reason { ": " (r) } }
                }
                @if step.result == "skipped" {
                    " " span.meta { "not run: the journey stopped before it" }
                }
                @if let Some(url) = &step.url {
                    div.meta {
                        @if let Some(title) = title.filter(|t| !t.is_empty()) { "“" (title) "” · " }
                        code { (url) }
                        @if let Some(status) = step.status { " · HTTP " (status) }
                    }
                }
                @if !findings.is_empty() { div { "Findings here: " (links(&findings)) } }
                @match shot {
                    Some((_, Some(uri))) => img.shot src=(uri) alt={ "Screenshot after step " (step.index) ": " (step.action) } loading="lazy";,
                    Some((rel, None)) => div.meta { "screenshot " code { (rel) } " not found in " code { (self.out_dir.display()) } },
                    None => {},
                }
            }
        }
    }

    /// The screenshot at `rel` (under the output folder) as a `data:` URI; only images.
    fn data_uri(&self, rel: &str) -> Option<String> {
        let path = in_out_dir(&self.out_dir, rel)?;
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        let mime = match ext.as_str() {
            "png" => "image/png",
            "jpg" | "jpeg" => "image/jpeg",
            "webp" => "image/webp",
            _ => return None,
        };
        let bytes = std::fs::read(path).ok()?;
        Some(format!(
            "data:{mime};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        ))
    }
}

fn ranked(report: &Report) -> Markup {
    if report.findings.is_empty() {
        return html! { p { "No findings: a first-time user gets through every journey without calling." } };
    }
    html! {
        table {
            thead { tr { th { "#" } th { "calls/mo" } th { "saved if fixed" } th { "cost/mo" } th { "kind" } th { "page" } th { "what the user meets" } th { "id" } } }
            tbody {
                @for (i, f) in report.findings.iter().enumerate() {
                    tr {
                        td.n { (i + 1) }
                        td.n { (format!("{:.1}", f.est_calls_per_month)) }
                        td.n { (format!("{:.1}", f.est_calls_saved_if_fixed)) }
                        td.n { (format!("{:.2}", f.est_cost_per_month)) }
                        td { (f.kind.as_str()) " " (severity(f.severity)) }
                        td { code { (page_path(&f.url)) } }
                        td {
                            (f.message)
                            @if !f.symptoms.is_empty() {
                                br; "The same fix removes:"
                                @for s in &f.symptoms { br; "· " a href={ "#" (s.id) } { (symptom_line(s)) } }
                            }
                        }
                        td { a href={ "#" (f.id) } { code { (f.id) } } }
                    }
                }
            }
        }
    }
}

fn finding(report: &Report, rank: usize, f: &Finding) -> Markup {
    html! {
        section.finding id=(f.id) {
            h3 { (rank + 1) ". " (f.kind.as_str()) " " (severity(f.severity)) " " code { (f.id) } }
            p { strong { (f.message) } }
            p.meta { (f.kind.summary()) "." }
            table {
                tr { th { "page" } td { code { (f.url) } } }
                tr { th { "element" } td { (f.element) } }
                tr { th { "met in" } td {
                    @for o in &f.occurrences {
                        div {
                            @match (journey_index(report, &o.scenario), o.step) {
                                (Some(j), Some(step)) => a href={ "#" (step_anchor(j, step)) } { (o.scenario) ", step " (step) },
                                (Some(j), None) => a href={ "#" (journey_anchor(j)) } { (o.scenario) },
                                _ => (o.scenario),
                            }
                            @if let Some(line) = o.line { " (" code { (o.file) ":" (line) } ")" }
                            " · " (format!("{:.1}", o.reach)) " users a month"
                        }
                    }
                } }
                tr { th { "estimate" } td { (format!("{:.1}", f.est_calls_per_month)) " calls, "
                    (format!("{:.2}", f.est_cost_per_month)) " " (f.estimate.currency) " a month" } }
            }
            @if !f.evidence.html_excerpt.is_empty() {
                h4 { "What the page holds" }
                pre { code { (f.evidence.html_excerpt) } }
            }
            details {
                summary { "How the estimate was made" }
                pre { (explain(f)) }
            }
            @for s in &f.symptoms {
                section.symptom id=(s.id) {
                    h4 { "Symptom: " (s.kind.as_str()) " " (severity(s.severity)) " " code { (s.id) } }
                    p { (s.message) }
                    p.meta { "Met in " (symptom_line(s)) " · " (format!("{:.1}", s.est_calls_per_month)) " calls a month, counted in this row." }
                }
            }
        }
    }
}

fn severity(s: Severity) -> Markup {
    let label = match s {
        Severity::Blocker => "blocks the journey",
        Severity::Problem => "problem",
        Severity::Warning => "not verified",
    };
    html! { span class={ "sev " (s.as_str()) } { (label) } }
}

fn links(findings: &[&Finding]) -> Markup {
    html! {
        @for (i, f) in findings.iter().enumerate() {
            @if i > 0 { ", " }
            a href={ "#" (f.id) } { (f.kind.as_str()) " " code { (f.id) } }
        }
    }
}

fn journey_index(report: &Report, name: &str) -> Option<usize> {
    report.scenarios.iter().position(|s| s.name == name)
}

fn journey_anchor(j: usize) -> String {
    format!("j{}", j + 1)
}

fn step_anchor(j: usize, step: usize) -> String {
    format!("j{}-s{step}", j + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Kind;
    use crate::trace::{StepTrace, Trace};

    #[test]
    fn page_content_is_escaped_and_scripts_are_forbidden() {
        let f = Finding::new(
            Kind::LabelMissing,
            "http://h/login?<b>",
            "input \"q\"",
            "placeholder <script>alert(1)</script>",
        )
        .excerpt("<input placeholder=\"<script>alert(1)</script>\">");
        let t = Trace {
            scenario: "<i>login</i>".into(),
            ..Trace::default()
        };
        let text = Html {
            out_dir: PathBuf::from("/nonexistent"),
        }
        .render(&Report::new(&[t], &[None], vec![f], "USD"));
        assert!(!text.contains("<script>"), "{text}");
        assert!(
            text.contains("placeholder &lt;script&gt;alert(1)&lt;/script&gt;"),
            "{text}"
        );
        assert!(text.contains("&lt;i&gt;login&lt;/i&gt;"), "{text}");
        assert!(
            text.contains("script-src") || text.contains("default-src 'none'"),
            "{text}"
        );
    }

    #[test]
    fn screenshots_are_inlined_and_nothing_outside_the_folder_is_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("shots")).unwrap();
        std::fs::write(dir.path().join("shots/step-01.png"), b"\x89PNG").unwrap();
        let html = Html {
            out_dir: dir.path().to_path_buf(),
        };
        assert_eq!(
            html.data_uri("shots/step-01.png").as_deref(),
            Some("data:image/png;base64,iVBORw==")
        );
        assert_eq!(html.data_uri("../shots/step-01.png"), None);
        assert_eq!(html.data_uri("/etc/passwd.png"), None);
        assert_eq!(html.data_uri("report.json"), None);
        let step = StepTrace {
            index: 1,
            screenshot: Some("shots/step-01.png".into()),
            ..StepTrace::default()
        };
        let t = Trace {
            scenario: "s".into(),
            steps: vec![step],
            ..Trace::default()
        };
        let text = html.render(&Report::new(&[t], &[None], vec![], "USD"));
        assert!(
            text.contains("src=\"data:image/png;base64,iVBORw==\""),
            "{text}"
        );
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "no network: {text}"
        );
    }
}
