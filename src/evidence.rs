//! `nocall evidence ID`: a folder a support lead attaches to a ticket as it is.
//!
//! `dest/<id>/` holds a Markdown bug report (`README.md`: what the user meets, steps to
//! reproduce from the journey's step trail, expected and actual, the estimate with its
//! arithmetic, the environment), the screenshots of the step where the user met the problem
//! and of the steps either side, the page's HTML excerpt as plain text (`excerpt.txt`, never
//! rendered), and a copy of the journey's trace. Everything comes from the last run's report
//! and output folder, which are masked already; this module adds no value of its own that
//! could hold a secret, and only reads files inside the output folder.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::explain::explain;
use crate::finding::{Finding, Severity};
use crate::report::markdown::{code, escape};
use crate::report::{Report, ScenarioResult, StepResult, in_out_dir, page_path, read_trace};
use crate::trace::Trace;

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("no finding {id} in the report{}", did_you_mean(.closest.as_deref()))]
    UnknownId { id: String, closest: Option<String> },
    #[error(
        "the report's finding id \"{0}\" is not a nocall id (F and 7 hex digits); was the report edited?"
    )]
    BadId(String),
    #[error("cannot write the evidence bundle: {0}")]
    Files(#[from] crate::files::FilesError),
    #[error("cannot write the evidence bundle to {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn did_you_mean(closest: Option<&str>) -> String {
    match closest {
        Some(id) => format!("; did you mean {id}? (`nocall run` lists the ids)"),
        None => "; the ids are in the last column of `nocall run`'s table".into(),
    }
}

/// Writes the bundle for finding `id` (any case) of `report` into `dest/<id>/` and returns
/// that folder. `out_dir_of_run` is where the run wrote its screenshots and traces; what is
/// missing there is left out of the bundle and said so in its README.
pub fn write_bundle(
    report: &Report,
    id: &str,
    out_dir_of_run: &Path,
    dest: &Path,
) -> Result<PathBuf, EvidenceError> {
    let f = report.finding(id).ok_or_else(|| EvidenceError::UnknownId {
        id: id.to_string(),
        closest: closest_id(report, id),
    })?;
    // The finding's own id, not what was typed: it names a folder, so it must be nocall's
    // own shape, whatever an edited report says.
    if !crate::finding::is_stable_id(&f.id) {
        return Err(EvidenceError::BadId(f.id.clone()));
    }
    crate::files::prepare(dest)?;
    let dir = dest.join(&f.id);
    let journey = report.scenarios.iter().find(|s| s.name == f.scenario);

    // (file in the run's output folder, name in the bundle, what it shows)
    let mut wanted: Vec<(&str, String, String)> = steps_around(journey, f.step)
        .into_iter()
        .filter_map(|(step, role)| {
            let rel = step.screenshot.as_deref()?;
            let name = format!("step-{:02}.{}", step.index, extension(rel));
            let note = format!(
                "the page after step {} (`{}`), {role}",
                step.index,
                code(&step.action)
            );
            Some((rel, name, note))
        })
        .collect();
    if f.step.is_none()
        && let Some(rel) = &f.evidence.screenshot
    {
        wanted.push((
            rel,
            format!("screenshot.{}", extension(rel)),
            "the page where the user meets it".into(),
        ));
    }
    if let Some(rel) = journey.and_then(|j| j.trace.as_deref()) {
        let note = "the journey's full trace: what the user saw at every step (secrets masked)";
        wanted.push((rel, "trace.json".into(), note.into()));
    }
    let mut files = Vec::new();
    for (rel, name, note) in wanted {
        copy_in(out_dir_of_run, rel, (dest, &f.id), &mut files, name, note)?;
    }
    if !f.evidence.html_excerpt.is_empty() {
        crate::files::write_inside(
            dest,
            &format!("{}/excerpt.txt", f.id),
            format!("{}\n", f.evidence.html_excerpt).as_bytes(),
        )?;
        files.push(Attached::Here(
            "excerpt.txt".into(),
            "the page's HTML around the element, as text".into(),
        ));
    }
    let trace = journey.and_then(|j| read_trace(out_dir_of_run, j));
    let date = httpdate::fmt_http_date(SystemTime::now());
    let text = readme(report, f, journey, trace.as_ref(), &files, &date);
    crate::files::write_inside(dest, &format!("{}/README.md", f.id), text.as_bytes())?;
    Ok(dir)
}

/// A file the bundle meant to hold: copied in, or missing from the run's output folder.
#[derive(Debug, Clone, PartialEq)]
enum Attached {
    Here(String, String),
    Missing(String, String),
}

/// Copies `rel` (inside `out_dir`) to `to`. A source that is missing, or that points
/// outside the output folder, is recorded as missing rather than failing the bundle.
/// A symlink in the run's folder is not read: it could point anywhere.
fn copy_in(
    out_dir: &Path,
    rel: &str,
    (dest, id): (&Path, &str),
    files: &mut Vec<Attached>,
    name: String,
    note: String,
) -> Result<(), EvidenceError> {
    let bytes = in_out_dir(out_dir, rel)
        .filter(|from| std::fs::symlink_metadata(from).is_ok_and(|m| m.is_file()))
        .and_then(|from| read_at_most(&from, ATTACHED_BYTES));
    match bytes {
        Some(bytes) => {
            crate::files::write_inside(dest, &format!("{id}/{name}"), &bytes)?;
            files.push(Attached::Here(name, note));
        }
        None => files.push(Attached::Missing(rel.to_string(), note)),
    }
    Ok(())
}

/// The most bytes copied from one attached file: a screenshot is a few hundred KiB; a file
/// planted in the output folder larger than this is left out (listed as missing).
const ATTACHED_BYTES: u64 = 64 << 20;

fn read_at_most(path: &Path, limit: u64) -> Option<Vec<u8>> {
    crate::limits::read_bytes(path, limit).ok().flatten()
}

fn extension(rel: &str) -> String {
    Path::new(rel)
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or("png")
        .to_ascii_lowercase()
}

/// The step where the user met the problem and the ones either side, with their role.
fn steps_around(
    journey: Option<&ScenarioResult>,
    step: Option<usize>,
) -> Vec<(&StepResult, &'static str)> {
    let (Some(journey), Some(at)) = (journey, step) else {
        return Vec::new();
    };
    journey
        .steps
        .iter()
        .filter_map(|s| match s.index {
            i if i + 1 == at => Some((s, "the step before")),
            i if i == at => Some((s, "where the user meets it")),
            i if i == at + 1 => Some((s, "the step after")),
            _ => None,
        })
        .collect()
}

fn closest_id<'a>(report: &'a Report, id: &str) -> Option<String> {
    report
        .all_findings()
        .map(|(f, _)| {
            (
                strsim::levenshtein(&f.id.to_ascii_lowercase(), &id.to_ascii_lowercase()),
                &f.id,
            )
        })
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, id): (usize, &'a String)| id.clone())
}

/// The bug report. `date` is when the bundle was written.
fn readme(
    report: &Report,
    f: &Finding,
    journey: Option<&ScenarioResult>,
    trace: Option<&Trace>,
    files: &[Attached],
    date: &str,
) -> String {
    let mut out = String::new();
    let path = page_path(&f.url);
    let _ = writeln!(out, "# {}: {} on {}\n", f.id, f.kind, escape(&path));
    let _ = writeln!(out, "**What the user meets:** {}\n", escape(&f.message));
    let severity = match f.severity {
        Severity::Blocker => "blocker: the journey cannot go on past it",
        Severity::Problem => "problem: the user meets it and may call, but can go on",
        Severity::Warning => "not verified: nocall could not check it, so check it by hand",
    };
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(out, "| Kind | `{}`: {} |", f.kind, escape(f.kind.summary()));
    let _ = writeln!(out, "| Page | `{}` |", code(&f.url));
    let _ = writeln!(out, "| Element | {} |", escape(&f.element));
    let _ = writeln!(out, "| Severity | {severity} |");
    if let Some((file, line)) = f.location() {
        let at = line.map(|l| format!(":{l}")).unwrap_or_default();
        let step = f.step.map(|s| format!(", step {s}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "| Journey | {}{step} (`{}{at}`) |",
            escape(&f.scenario),
            code(file)
        );
    }

    out.push_str("\n## Steps to reproduce\n\n");
    if let Some(t) = trace.filter(|t| !t.holds.is_empty()) {
        let holds: Vec<String> = t
            .holds
            .iter()
            .map(|h| {
                if h.secret {
                    format!("{} (a secret, not shown)", escape(&h.name))
                } else {
                    escape(&h.name)
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "As a first-time user who holds only: {}.\n",
            holds.join(", ")
        );
    }
    match journey {
        Some(j) => {
            let last = f.step.unwrap_or(usize::MAX);
            for s in j.steps.iter().filter(|s| s.index <= last) {
                let _ = write!(out, "{}. `{}`", s.index, code(&s.action));
                if let Some(url) = &s.url {
                    let _ = write!(out, " → `{}`", code(url));
                }
                if s.result == "failed" {
                    let _ = write!(
                        out,
                        " — **fails**: {}",
                        escape(s.reason.as_deref().unwrap_or(""))
                    );
                }
                if Some(s.index) == f.step {
                    out.push_str(" ← **the user meets the problem here**");
                }
                out.push('\n');
            }
            let _ = writeln!(
                out,
                "\nThe journey is `{}`; `{}` walks it again.",
                code(&j.file),
                code(&format!("nocall run {}", shell_word(&j.file)))
            );
        }
        None => {
            let _ = writeln!(out, "Open `{}` as a first-time user.", code(&f.url));
        }
    }

    let _ = writeln!(out, "\n## Expected\n\n{}.\n", capitalise(f.kind.expected()));
    out.push_str("## Actual\n\n");
    let _ = writeln!(out, "{}", capitalise(&escape(&f.message)));
    let failed = journey.zip(f.step).and_then(|(j, n)| {
        j.steps
            .iter()
            .find(|s| s.index == n && s.result == "failed")
    });
    if let Some(s) = failed {
        let _ = writeln!(
            out,
            "\nStep {} (`{}`) fails: {}",
            s.index,
            code(&s.action),
            escape(s.reason.as_deref().unwrap_or("it could not be done"))
        );
    }

    out.push_str("\n## Estimated impact\n\n");
    let e = &f.estimate;
    let _ = writeln!(
        out,
        "About **{:.1} support calls a month** (likely between {:.1} and {:.1}), costing about **{:.2} {} a month**.\n",
        f.est_calls_per_month,
        e.calls_low,
        e.calls_high,
        f.est_cost_per_month,
        escape(&e.currency)
    );
    if !f.symptoms.is_empty() {
        let _ = writeln!(
            out,
            "Fixing it also removes what it causes elsewhere (saved if fixed: about **{:.1} calls a month**):\n",
            f.est_calls_saved_if_fixed
        );
        for s in &f.symptoms {
            let _ = writeln!(
                out,
                "- {} ({:.1} calls a month): {}",
                escape(&crate::report::symptom_line(s)),
                s.est_calls_per_month,
                escape(&s.message)
            );
        }
        out.push('\n');
    }
    if let Some(root) = &f.symptom_of {
        let _ = writeln!(
            out,
            "A symptom of `{}`: the fix for that finding removes this one too.\n",
            code(root)
        );
    }
    out.push_str(&fenced("text", &explain(f)));

    out.push_str("\n## Evidence in this folder\n\n");
    for a in files {
        match a {
            Attached::Here(name, note) => {
                let _ = writeln!(out, "- `{}`: {note}", code(name));
            }
            Attached::Missing(rel, note) => {
                let _ = writeln!(
                    out,
                    "- not included, `{}` was not in the run's output folder: {note}",
                    code(rel)
                );
            }
        }
    }
    if !f.evidence.html_excerpt.is_empty() {
        out.push_str("\nThe page's HTML around the element:\n\n");
        out.push_str(&fenced("html", &f.evidence.html_excerpt));
    }

    out.push_str("\n## Environment\n\n");
    let _ = writeln!(out, "- nocall {}", escape(&report.tool_version));
    let _ = writeln!(
        out,
        "- Browser: {}",
        report
            .browser
            .as_deref()
            .map(escape)
            .unwrap_or_else(|| "not recorded".into())
    );
    if let Ok(u) = url::Url::parse(&f.url) {
        let _ = writeln!(
            out,
            "- Portal: `{}`",
            code(&u.origin().ascii_serialization())
        );
    }
    let others: Vec<String> = f
        .occurrences
        .iter()
        .filter(|o| o.scenario != f.scenario)
        .map(|o| escape(&o.scenario))
        .collect();
    if !others.is_empty() {
        let _ = writeln!(out, "- Also met in: {}", others.join(", "));
    }
    let _ = writeln!(out, "- Bundle written: {date}");
    out
}

/// `text` in a fenced code block whose fence no run of backticks inside can close.
fn fenced(lang: &str, text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}{lang}\n{}\n{fence}\n", text.trim_end())
}

/// A path as one shell word, for a command the reader copies.
fn shell_word(path: &str) -> String {
    if path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c))
    {
        path.to_string()
    } else {
        format!("'{}'", path.replace('\'', "'\\''"))
    }
}

fn capitalise(text: &str) -> String {
    let mut c = text.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Kind, Occurrence};
    use crate::trace::{JourneyStatus, Outcome, StepTrace};

    #[test]
    fn an_attached_file_is_read_up_to_its_limit_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shot.png");
        std::fs::write(&path, [7u8; 10]).unwrap();
        assert_eq!(read_at_most(&path, 10).map(|b| b.len()), Some(10));
        assert_eq!(read_at_most(&path, 9), None);
        assert_eq!(read_at_most(&dir.path().join("gone.png"), 10), None);
    }

    fn run() -> (tempfile::TempDir, Report) {
        let out = tempfile::tempdir().unwrap();
        let steps: Vec<StepTrace> = (1..=4)
            .map(|i| StepTrace {
                index: i,
                line: 10 + i,
                action: format!("step `{i}`"),
                screenshot: Some(format!("shots/step-{i:02}.png")),
                outcome: if i == 4 {
                    Outcome::Failed {
                        kind: crate::trace::FailureKind::ExpectNotSeen,
                        reason: "gone".into(),
                    }
                } else {
                    Outcome::Done
                },
                ..StepTrace::default()
            })
            .collect();
        std::fs::create_dir_all(out.path().join("shots")).unwrap();
        for i in 1..=3 {
            std::fs::write(out.path().join(format!("shots/step-{i:02}.png")), [i as u8]).unwrap();
        }
        let t = Trace {
            scenario: "login".into(),
            file: "s/login.yaml".into(),
            status: JourneyStatus::Blocked,
            steps,
            ..Trace::default()
        };
        std::fs::write(
            out.path().join("trace.json"),
            serde_json::to_string(&t).unwrap(),
        )
        .unwrap();
        let mut f = Finding::new(
            Kind::LabelMismatch,
            "http://h:1/login?x",
            "input",
            "```Password``` asked",
        )
        .excerpt("<input>");
        f.scenario = "login".into();
        f.step = Some(3);
        f.occurrences = vec![Occurrence {
            scenario: "login".into(),
            file: "s/login.yaml".into(),
            step: Some(3),
            line: Some(13),
            reach: 1.0,
        }];
        let report = Report::new(&[t], &[Some("trace.json".into())], vec![f], "USD");
        (out, report)
    }

    #[test]
    fn writes_the_report_the_screenshots_around_the_step_the_excerpt_and_the_trace() {
        let (out, report) = run();
        let dest = tempfile::tempdir().unwrap();
        let id = report.findings[0].id.clone();
        let dir = write_bundle(&report, &id.to_ascii_lowercase(), out.path(), dest.path()).unwrap();
        assert_eq!(dir, dest.path().join(&id));
        for name in [
            "README.md",
            "step-02.png",
            "step-03.png",
            "excerpt.txt",
            "trace.json",
        ] {
            assert!(dir.join(name).is_file(), "{name}");
        }
        assert!(!dir.join("step-01.png").exists() && !dir.join("step-04.png").exists());
        assert_eq!(std::fs::read(dir.join("step-03.png")).unwrap(), [3]);
        let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
        assert!(
            readme.contains("3. `step '3'` ← **the user meets the problem here**"),
            "{readme}"
        );
        assert!(
            !readme.contains("4. "),
            "steps stop at the finding: {readme}"
        );
        assert!(
            readme.contains("`shots/step-04.png` was not in the run's output folder"),
            "{readme}"
        );
        assert!(
            readme.contains("## Expected")
                && readme.contains("## Actual")
                && readme.contains("## Environment"),
            "{readme}"
        );
        assert!(readme.contains("- Portal: `http://h:1`"), "{readme}");
        assert!(
            readme.contains("````text\n"),
            "the fence outlasts the message's backticks: {readme}"
        );
    }

    #[test]
    fn an_unknown_id_suggests_the_closest() {
        let (out, report) = run();
        let mut typo = report.findings[0].id.clone();
        typo.pop();
        typo.push('x');
        let err = write_bundle(&report, &typo, out.path(), out.path()).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("did you mean {}", report.findings[0].id)),
            "{err}"
        );
    }

    #[test]
    fn fences_and_shell_words() {
        assert_eq!(fenced("text", "a ``` b"), "````text\na ``` b\n````\n");
        assert_eq!(shell_word("s/it's.yaml"), "'s/it'\\''s.yaml'");
        assert_eq!(shell_word("s/login.yaml"), "s/login.yaml");
    }
}
