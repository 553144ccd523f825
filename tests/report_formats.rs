//! Every report format over one hand-built run (`tests/fixtures/report/`: a report, two
//! traces, four tiny screenshots), pinned with snapshots, and checked the way their readers
//! check them: JUnit parsed back, SARIF through Microsoft's validator when it is installed,
//! HTML opened in real headless Chromium.

use std::path::{Path, PathBuf};
use std::process::Command;

use nocall::baseline;
use nocall::evidence::write_bundle;
use nocall::report::{
    self, Format, Report, github, html::Html, json, junit::Junit, markdown::Markdown, sarif::Sarif,
};

fn out_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report")
}

fn fixture() -> Report {
    let text = std::fs::read_to_string(out_dir().join("report.json")).expect("the fixture report");
    json::parse(&text).expect("the fixture is a nocall report")
}

/// The finding whose message holds `<script>alert(1)</script>`.
const SCRIPTED: &str = "F639b5dd";

#[test]
fn every_file_format_is_registered() {
    for name in report::FILE_FORMATS {
        let format = report::format_in(name, &out_dir()).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(format.name(), *name);
        assert!(!format.render(&fixture()).is_empty(), "{name}");
    }
}

#[test]
fn markdown() {
    let text = Markdown.render(&fixture());
    assert!(
        text.contains("&lt;script&gt;alert\\(1\\)&lt;/script&gt;")
            || text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{text}"
    );
    assert!(!text.contains("<script>"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn table() {
    // The table fits `COLUMNS` (120 when unset); a test cannot safely set it for itself.
    if std::env::var("COLUMNS").is_ok_and(|c| c != "120") {
        eprintln!("COLUMNS is set; the table snapshot is pinned at 120 columns; skipped");
        return;
    }
    insta::assert_snapshot!(report::table::Table.render(&fixture()));
}

#[test]
fn junit_is_the_xml_ci_systems_read() {
    let text = Junit::default().render(&fixture());
    let parsed = quick_junit::Report::deserialize_from_str(&text).expect("JUnit XML");
    assert_eq!(parsed.test_suites.len(), 2);
    assert_eq!(
        parsed.tests, 8,
        "a test case per step, the one after the block skipped"
    );
    assert_eq!(parsed.skipped, 1, "{text}");
    // Failures follow the gate (blockers by default): login step 2 (label-mismatch) and
    // step 4 (blocked, its symptom). The label-missing and unknown-info rows do not block:
    // they are told in their steps' output. The unverified dead link fails nothing.
    assert_eq!(parsed.failures, 2, "{text}");
    assert!(text.contains("Met here, not failing the gate"), "{text}");
    let any = Junit {
        gate: nocall::gate::Gate {
            fail_on: nocall::config::FailOn::Any,
            ..Default::default()
        },
    };
    let every = quick_junit::Report::deserialize_from_str(&any.render(&fixture())).expect("XML");
    assert_eq!(
        every.failures, 5,
        "--fail-on any: every counted finding fails its step"
    );
    let login = &parsed.test_suites[0];
    assert_eq!(
        login.name.as_str(),
        "First-time login with the conference card"
    );
    let step3 = &login.test_cases[2];
    assert!(
        matches!(step3.status, quick_junit::TestCaseStatus::Success { .. }),
        "{text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn sarif_locates_results_in_the_repository() {
    let text = Sarif.render(&fixture());
    let v: serde_json::Value = serde_json::from_str(&text).expect("SARIF is JSON");
    for r in v["runs"][0]["results"].as_array().expect("results") {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .expect("a location");
        assert!(uri.starts_with("scenarios/"), "{uri}");
        assert!(
            r["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .is_some()
        );
    }
    insta::assert_json_snapshot!(v, { ".runs[].tool.driver.version" => "[version]" });
    validate_sarif(&text);
}

/// Runs Microsoft's SARIF validator (`npm install @microsoft/sarif-multitool`) when it is
/// on PATH or named by `SARIF_MULTITOOL`; CI installs it, a laptop may not have it.
fn validate_sarif(text: &str) {
    let tool = std::env::var_os("SARIF_MULTITOOL")
        .map(PathBuf::from)
        .or_else(|| which::which("sarif-multitool").ok());
    let Some(tool) = tool else {
        // CI installs the validator and sets this, so there it is never skipped.
        assert!(
            std::env::var_os("NOCALL_REQUIRE_SARIF_VALIDATOR").is_none(),
            "the SARIF validator is required here but not installed"
        );
        eprintln!("SARIF validator not installed (set SARIF_MULTITOOL); skipped");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("nocall.sarif");
    let output = dir.path().join("validation.sarif");
    std::fs::write(&input, text).expect("write");
    let run = Command::new(&tool)
        .arg("validate")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .output()
        .expect("the validator runs");
    let log = std::fs::read_to_string(&output).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&log).unwrap_or_default();
    let errors: Vec<&serde_json::Value> = v["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["results"].as_array().into_iter().flatten())
        .filter(|r| r["level"] == "error")
        .collect();
    assert!(
        run.status.success() && errors.is_empty(),
        "SARIF validation failed: {errors:#?}\n{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn html_is_self_contained_and_escaped() {
    let text = Html { out_dir: out_dir() }.render(&fixture());
    assert!(
        !text.to_ascii_lowercase().contains("<script"),
        "no script element at all"
    );
    assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        text.contains("Login failed &lt;script&gt;document.body"),
        "page titles are shown, escaped"
    );
    assert_eq!(
        text.matches("src=\"data:image/png;base64,").count(),
        4,
        "the four screenshots, inlined"
    );
    assert!(
        !text.contains("src=\"http") && !text.contains("href=\"http"),
        "nothing loads from a network"
    );
    assert!(text.contains(&format!("id=\"{SCRIPTED}\"")));
    insta::assert_snapshot!(text);
}

/// The report opened in real headless Chromium: it renders, and a page title holding a
/// `<script>` does not run. A control page with the same script unescaped shows the check
/// would catch it.
#[test]
fn html_renders_in_chromium_and_page_scripts_do_not_run() {
    let Ok(browser) = nocall::runner::browser::find(None, std::env::var("CHROME").ok().as_deref())
    else {
        eprintln!("no Chromium found; skipped");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join("nocall.html");
    std::fs::write(&page, Html { out_dir: out_dir() }.render(&fixture())).expect("write");
    let control = dir.path().join("control.html");
    std::fs::write(&control, "<!DOCTYPE html><title>t</title><body><script>document.body.setAttribute('data-pwned','1')</script>")
        .expect("write");
    let chromium = |args: &[&str], file: &Path| {
        let profile = tempfile::tempdir().expect("profile");
        let out = Command::new(&browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(args)
            .arg(format!("file://{}", file.display()))
            .output()
            .expect("Chromium runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(
        chromium(&["--dump-dom"], &control).contains("data-pwned=\"1\""),
        "the control's script runs"
    );
    let dom = chromium(&["--dump-dom"], &page);
    assert!(dom.contains("nocall report"), "{dom}");
    assert!(
        !dom.contains("data-pwned=\"1\""),
        "a page's script ran in the report"
    );
    let shot = dir.path().join("report.png");
    chromium(
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2400",
        ],
        &page,
    );
    let png = std::fs::read(&shot).expect("Chromium wrote a screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a rendered page, {} bytes",
        png.len()
    );
}

#[test]
fn github_annotations_and_step_summary() {
    let report = fixture();
    let text = github::annotations(&report);
    // One annotation a row: the blocked step is a symptom of the label mismatch before it.
    assert_eq!(text.lines().count(), 4);
    assert!(
        text.contains("The same fix removes journey-blocked"),
        "{text}"
    );
    assert!(
        text.lines()
            .all(|l| l.starts_with("::error file=scenarios/")
                || l.starts_with("::warning file=scenarios/")),
        "{text}"
    );
    assert!(
        text.contains("file=scenarios/forgot pin.yaml,line=9"),
        "{text}"
    );
    assert!(text.contains("100%25 sure"), "{text}");
    insta::assert_snapshot!("github_annotations", text);
    insta::assert_snapshot!("github_step_summary", github::step_summary(&report));
}

#[test]
fn evidence_bundle() {
    let report = fixture();
    let dest = tempfile::tempdir().expect("temp dir");
    // The label mismatch at step 2 of the login journey: steps 1, 2 and 3 around it.
    let dir = write_bundle(&report, "f8299B01", &out_dir(), dest.path()).expect("bundle");
    assert_eq!(dir, dest.path().join("F8299b01"));
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("bundle folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "README.md",
            "excerpt.txt",
            "step-01.png",
            "step-02.png",
            "step-03.png",
            "trace.json"
        ]
    );
    assert_eq!(
        std::fs::read(dir.join("step-02.png")).expect("copied"),
        std::fs::read(out_dir().join("screenshots/01-first-time-login/step-02.png"))
            .expect("fixture")
    );
    let trace: nocall::trace::Trace =
        serde_json::from_str(&std::fs::read_to_string(dir.join("trace.json")).expect("trace"))
            .expect("a trace");
    assert_eq!(trace.scenario, "First-time login with the conference card");
    let readme = std::fs::read_to_string(dir.join("README.md")).expect("README");
    let (body, date) = readme.rsplit_once("- Bundle written: ").expect("a date");
    assert!(date.trim_end().ends_with("GMT"), "{date}");
    insta::assert_snapshot!(
        "evidence_readme",
        format!("{body}- Bundle written: [date]\n")
    );
}

#[test]
fn the_report_is_a_baseline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("baseline.json");
    baseline::write(&fixture(), &path).expect("write");
    let ids = baseline::read(&path).expect("read");
    assert_eq!(
        ids,
        baseline::read(&out_dir().join("report.json")).expect("the report reads as a baseline")
    );
    assert_eq!(ids.len(), 5);
    assert!(ids.contains(SCRIPTED));
}
