//! Chrome DevTools Recorder exports, run by the real binary against the example portal in
//! real headless Chromium, and converted to YAML that runs the same.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::*;
use nocall::trace::{FoundBy, JourneyStatus};

fn recordings() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/recordings")
}

fn recording() -> PathBuf {
    recordings().join("confer-login.json")
}

/// The finding kinds of a report, and the ids (kind + page + element) of its findings.
fn kinds_and_ids(report: &serde_json::Value) -> (BTreeSet<String>, BTreeSet<String>) {
    let findings: Vec<serde_json::Value> =
        common::all_findings(report).into_iter().cloned().collect();
    let kinds = findings
        .iter()
        .filter_map(|f| f["kind"].as_str().map(str::to_string))
        .collect();
    let ids = findings
        .iter()
        .filter_map(|f| f["id"].as_str().map(str::to_string))
        .collect();
    (kinds, ids)
}

#[test]
fn a_recording_finds_what_the_yaml_journey_finds() {
    let portal = portal();
    let (yaml_code, yaml_report, _) =
        run_json(&portal, &[scenario("confer-first-login.yaml")], &[]);
    let (code, report, out) = run_json(&portal, &[recording()], &[]);
    assert_eq!(code, yaml_code);
    let (kinds, ids) = kinds_and_ids(&report);
    let (yaml_kinds, yaml_ids) = kinds_and_ids(&yaml_report);
    assert_eq!(kinds, yaml_kinds, "{report:#}");
    assert_eq!(ids, yaml_ids, "the same problems on the same pages");
    assert!(kinds.contains("label-mismatch") && kinds.contains("journey-blocked"));

    let t = trace(out.path(), &report, "confer-login.json");
    assert_eq!(t.status, JourneyStatus::Blocked);
    assert_eq!(t.monthly_users, 400.0, "from the sidecar");
    let filled: Vec<_> = t.steps.iter().flat_map(|s| &s.filled).collect();
    let names: Vec<&str> = filled.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["Owner Name", "Password"]);
    assert_eq!(filled[1].holds, vec!["Leader PIN".to_string()]);
    let click = t
        .steps
        .iter()
        .find_map(|s| s.clicked.as_ref())
        .expect("the click is recorded");
    assert_eq!(click.role, "button");
    assert!(
        t.reason.as_deref().is_some_and(|r| r.contains("Welcome")),
        "{:?}",
        t.reason
    );
}

#[test]
fn css_and_xpath_selectors_find_fields_that_have_no_aria_selector() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = std::fs::read_to_string(recording()).expect("fixture");
    // Only CSS and XPath left for the two fields.
    let stripped = source
        .replace("[\"aria/Owner Name\"],", "")
        .replace(",\n        [\"aria/Password\"]", "");
    assert!(!stripped.contains("aria/Owner Name") && !stripped.contains("aria/Password"));
    let file = dir.path().join("css-login.json");
    std::fs::write(&file, stripped).expect("write");
    std::fs::copy(
        recordings().join("confer-login.nocall.yaml"),
        dir.path().join("css-login.nocall.yaml"),
    )
    .expect("copy sidecar");

    let portal = portal();
    let (_, report, out) = run_json(&portal, &[file], &[]);
    let t = trace(out.path(), &report, "css-login.json");
    let filled: Vec<_> = t.steps.iter().flat_map(|s| &s.filled).collect();
    assert_eq!(filled.len(), 2, "{t:#?}");
    for (f, name) in filled.iter().zip(["Owner Name", "Password"]) {
        assert_eq!(f.found_by, FoundBy::Selector);
        assert_eq!(f.name, name, "the accessible name of what was filled");
    }
    assert!(
        findings(&report, "label-mismatch")
            .iter()
            .any(|f| f["message"]
                .as_str()
                .is_some_and(|m| m.contains("Leader PIN"))),
        "{report:#}"
    );
}

#[test]
fn the_converted_yaml_runs_the_same() {
    let dir = tempfile::tempdir().expect("temp dir");
    let yaml = dir.path().join("confer-login.yaml");
    let out = nocall()
        .args(["convert"])
        .arg(recording())
        .arg("--out")
        .arg(&yaml)
        .output()
        .expect("convert runs");
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(&yaml).expect("written");
    // The recorded Tab is pressed, as a real key, between the two fields: no key dropped.
    assert!(
        text.contains(
            "  - fill:\n      Owner Name: \"{Owner Name}\"\n  - press: Tab\n  - fill:\n      Password: \"{Leader PIN}\"\n"
        ),
        "{text}"
    );
    assert!(text.contains("  - click: Log in\n"), "{text}");
    assert!(
        !text.contains("#owner-name") && !text.contains("xpath"),
        "accessible names, not selectors: {text}"
    );

    let portal = portal();
    let (code, report, _) = run_json(&portal, &[recording()], &[]);
    let (yaml_code, yaml_report, _) = run_json(&portal, &[yaml], &[]);
    assert_eq!(yaml_code, code);
    assert_eq!(kinds_and_ids(&yaml_report), kinds_and_ids(&report));
}

#[test]
fn an_unknown_step_that_acts_is_refused_with_its_position() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = std::fs::read_to_string(recording()).expect("fixture");
    let with_drag = source.replacen(
        "    {\n      \"type\": \"keyDown\"",
        "    {\"type\": \"dragAndDrop\", \"selectors\": [[\"#owner-name\"]]},\n    {\n      \"type\": \"keyDown\"",
        1,
    );
    let file = dir.path().join("drag.json");
    std::fs::write(&file, &with_drag).expect("write");
    let line = with_drag
        .lines()
        .position(|l| l.contains("dragAndDrop"))
        .expect("inserted")
        + 1;
    let out = nocall().arg("run").arg(&file).output().expect("runs");
    assert_eq!(out.status.code(), Some(2), "bad input, before any browser");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "drag.json:{line}:5: unknown step type `dragAndDrop`"
        )),
        "{stderr}"
    );
}

/// `waitForElement` with CSS and XPath selectors waits, in the page, for an element a
/// script adds after a while — and only for as long as it takes.
#[test]
fn a_recorded_wait_for_an_element_lasts_until_it_appears() {
    let portal = portal();
    let (code, report, out) = run_json(
        &portal,
        &[recordings().join("scripted-reveal.json")],
        &["--offline"],
    );
    assert_eq!(code, 0, "{report:#}");
    let t = trace(out.path(), &report, "scripted-reveal.json");
    assert_eq!(t.status, JourneyStatus::Completed, "{:?}", t.reason);
    let wait = t.steps.last().expect("the wait step");
    let page = wait.page.as_ref().expect("recorded");
    assert!(page.text.contains("Here after a while"), "{:?}", page.text);
    // The script adds it 700 ms after the click; the step's timeout is 10 s.
    assert!(wait.timings.action_ms >= 500, "{:?}", wait.timings);
    assert!(wait.timings.action_ms < 5_000, "{:?}", wait.timings);
}

#[test]
fn folders_pick_up_recordings_but_not_other_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(recording(), dir.path().join("login.json")).expect("copy");
    std::fs::copy(
        recordings().join("confer-login.nocall.yaml"),
        dir.path().join("login.nocall.yaml"),
    )
    .expect("copy");
    std::fs::write(dir.path().join("package.json"), "{\"name\": \"x\"}").expect("write");
    std::fs::write(dir.path().join("report.json"), "{\"steps\": 3}").expect("write");
    let files = nocall::scenario::discover(&[dir.path().to_path_buf()]).expect("discovers");
    assert_eq!(files, vec![dir.path().join("login.json")]);
    let (scenarios, _) =
        nocall::scenario::load_files(&files, &|_| None).expect("the recording loads");
    assert_eq!(scenarios[0].monthly_users, 400.0);
    assert_eq!(scenarios[0].holds.len(), 2);
}

/// A message box that sends on Control+Enter (as chat and comment boxes do) and says which
/// keys it saw go down; Enter alone adds a new line.
const CHORD_PAGE: &str = r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Message</title>
<link rel="icon" href="data:,"></head><body><main><h1>Write to us</h1>
<label for="m">Message</label><textarea id="m"></textarea>
<p id="out" role="status"></p><p id="keys"></p>
</main><script>
  const seen = [];
  document.getElementById('m').addEventListener('keydown', (e) => {
    seen.push(e.key + (e.ctrlKey ? '(ctrl)' : ''));
    document.getElementById('keys').textContent = 'Keys: ' + seen.join(' ');
    if (e.key === 'Enter' && e.ctrlKey) {
      e.preventDefault();
      document.getElementById('out').textContent = 'Message sent';
    }
  });
</script></body></html>"#;

/// A Recorder export of typing a message and sending it with Control+Enter: the held
/// Control becomes one chord, `press: Control+Enter`, dispatched as a keyboard does
/// (Control down, Enter down with Control set, both up), and the page sends the message.
/// The sidecar's `settle` is the journey's settle window, and `convert` keeps both.
#[test]
fn a_held_modifier_is_pressed_as_a_chord_and_the_sidecar_may_set_settle() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    serve(
        listener,
        axum::Router::new().fallback(|| async { axum::response::Html(CHORD_PAGE) }),
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("send.json");
    let recording = format!(
        r##"{{"title": "Send a message", "steps": [
  {{"type": "navigate", "url": "http://{addr}/message"}},
  {{"type": "change", "value": "Hello", "selectors": [["aria/Message"], ["#m"]], "target": "main"}},
  {{"type": "keyDown", "key": "Control", "target": "main"}},
  {{"type": "keyDown", "key": "Enter", "target": "main"}},
  {{"type": "keyUp", "key": "Enter", "target": "main"}},
  {{"type": "keyUp", "key": "Control", "target": "main"}},
  {{"type": "waitForElement", "selectors": [["text/Message sent"]], "target": "main"}}
]}}"##
    );
    std::fs::write(&file, recording).expect("write");
    std::fs::write(dir.path().join("send.nocall.yaml"), "settle: 120ms\n").expect("write");

    let (scenarios, _) = nocall::scenario::load_files(std::slice::from_ref(&file), &|_| None)
        .expect("the recording loads");
    let s = &scenarios[0];
    assert_eq!(
        s.settle,
        std::time::Duration::from_millis(120),
        "from the sidecar"
    );
    assert!(s.warnings.is_empty(), "no key skipped: {:?}", s.warnings);

    let yaml = dir.path().join("send.yaml");
    let out = nocall()
        .arg("convert")
        .arg(&file)
        .arg("--out")
        .arg(&yaml)
        .output()
        .expect("convert runs");
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(&yaml).expect("written");
    assert!(text.contains("  - press: \"Control+Enter\"\n"), "{text}");
    assert!(text.contains("settle: 120ms\n"), "{text}");

    let out_dir = tempfile::tempdir().expect("temp dir");
    let run = nocall()
        .arg("run")
        .arg(&file)
        .args(["--offline", "--format", "json", "--out"])
        .arg(out_dir.path())
        .output()
        .expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&run.stderr)));
    let t = trace(out_dir.path(), &report, "send.json");
    assert_eq!(t.status, JourneyStatus::Completed, "{:?}", t.reason);
    let page = t
        .steps
        .last()
        .and_then(|s| s.page.as_ref())
        .expect("recorded");
    assert!(page.text.contains("Message sent"), "{:?}", page.text);
    assert!(
        page.text.contains("Keys: Control(ctrl) Enter(ctrl)"),
        "the chord goes down as a keyboard sends it: {:?}",
        page.text
    );

    // Too short a window is refused at load, pointing into the sidecar.
    std::fs::write(dir.path().join("send.nocall.yaml"), "settle: 10ms\n").expect("write");
    let errors = nocall::scenario::load_files(&[file], &|_| None).expect_err("refused");
    let said = format!("{errors:?}");
    assert!(
        said.contains("send.nocall.yaml") && said.contains("50ms"),
        "{said}"
    );
}
