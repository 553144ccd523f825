//! The single-page example site (Harbour Energy, `/spa/` on the example portal), run by the
//! real binary in real headless Chromium: what a person meets on a client-rendered portal —
//! views drawn after an API call, a cookie banner that comes late, a sign-in form inside a
//! shadow root, a modal, buttons disabled until a form validates, a form in a frame from
//! another site — must be waited for and seen, never priced as the portal's fault when
//! nocall could not act.
//!
//! Traces are read as JSON rather than as `nocall::trace::Trace`, so these tests name the
//! trace fields this behaviour adds (`waited`, a field's `host` and `frame`, a page's
//! `frames`) without depending on how the library spells them in Rust.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use nocall_portal::Portal;
use serde_json::Value;

fn spa(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios-spa")
        .join(name)
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/spa")
        .join(name)
}

fn recording(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/recordings")
        .join(name)
}

/// What the site's API received so far (`/spa/api/received`), one line per post.
fn received(portal: &Portal) -> Vec<String> {
    let mut stream = TcpStream::connect(portal.addr()).expect("the portal answers");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let request = format!(
        "GET /spa/api/received HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        portal.addr()
    );
    stream.write_all(request.as_bytes()).expect("sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {answer}"))
}

/// A journey's trace, as written.
fn trace_json(out: &Path, report: &Value, part: &str) -> Value {
    let rel = scenario_result(report, part)["trace"]
        .as_str()
        .expect("trace path");
    let text = std::fs::read_to_string(out.join(rel)).expect("trace file");
    serde_json::from_str(&text).expect("trace is JSON")
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

/// Every field of every page the journey recorded.
fn fields(trace: &Value) -> Vec<&Value> {
    trace["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["page"]["fields"].as_array())
        .flatten()
        .collect()
}

/// A recorded field named `name` (its accessible name or, failing one, its placeholder).
fn field<'a>(trace: &'a Value, name: &str) -> &'a Value {
    fields(trace)
        .into_iter()
        .find(|f| text(f, "name") == name || text(f, "placeholder") == name)
        .unwrap_or_else(|| panic!("no field {name:?} recorded in {trace:#}"))
}

/// The 1-based step's trace.
fn step(trace: &Value, index: usize) -> &Value {
    trace["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["index"] == index))
        .unwrap_or_else(|| panic!("no step {index} in {trace:#}"))
}

/// A journey's status and reason, from the report.
fn ended(report: &Value, part: &str) -> (String, String) {
    let s = scenario_result(report, part);
    (text(s, "status").to_string(), text(s, "reason").to_string())
}

/// Runs one journey that must complete; returns its report and output folder.
fn run_completed(portal: &Portal, path: PathBuf, part: &str) -> (Value, tempfile::TempDir) {
    let (_, report, out) = run_json(portal, &[path], &[]);
    let (status, reason) = ended(&report, part);
    assert_eq!(status, "completed", "{part}: {reason}");
    (report, out)
}

/// The site's API received a post whose line starts with `prefix`.
fn assert_received(portal: &Portal, prefix: &str) {
    let got = received(portal);
    assert!(
        got.iter().any(|l| l.starts_with(prefix)),
        "{prefix}: {got:?}"
    );
}

/// The clean journey completes with no finding at all, so `--fail-on any` passes: the
/// late banner is waited for, the shadow-root fields and the cross-site frame's fields are
/// found and recorded where they live.
#[test]
fn the_clean_single_page_journey_has_no_finding() {
    let portal = portal();
    let (code, report, out) =
        run_json(&portal, &[spa("clean-account.yaml")], &["--fail-on", "any"]);
    let (status, reason) = ended(&report, "clean-account");
    assert_eq!(status, "completed", "{reason}");
    assert_eq!(report["findings"], serde_json::json!([]), "{report:#}");
    assert_eq!(report["summary"]["findings"], 0);
    assert_eq!(code, 0, "--fail-on any passes: {report:#}");

    let t = trace_json(out.path(), &report, "clean-account");
    let accept = step(&t, 2);
    assert!(
        text(accept, "waited").contains("Accept"),
        "the Accept step says it waited: {accept:#}"
    );
    for name in ["Account ID", "PIN"] {
        assert_eq!(text(field(&t, name), "host"), "hb-sign-in", "{name}");
    }
    for name in ["Account holder", "Sort code", "Account number"] {
        let f = field(&t, name);
        assert!(
            text(f, "frame").starts_with("http://localhost:"),
            "{name}: {f:#}"
        );
        assert!(
            text(f, "frame").contains("/spa-frame/direct-debit"),
            "{f:#}"
        );
    }
    // The moving-home form is in a frame of the site's own origin, in the page's process.
    for name in ["New address", "Postcode", "Moving date"] {
        let f = field(&t, name);
        assert!(
            text(f, "frame").contains("/spa/moving-form"),
            "{name}: {f:#}"
        );
        assert!(
            text(f, "frame").starts_with(&portal.base_url()),
            "{name}: {f:#}"
        );
    }
    let frames: Vec<&Value> = t["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["page"]["frames"].as_array())
        .flatten()
        .collect();
    assert!(
        frames
            .iter()
            .any(|f| f["out_of_process"] == true && f["cross_origin"] == true),
        "the Direct Debit frame runs in a process of its own: {frames:#?}"
    );
    assert!(
        frames.iter().any(|f| f["out_of_process"] != true
            && f["cross_origin"] != true
            && text(f, "url").contains("/spa/moving-form")),
        "the moving-home frame is the page's own: {frames:#?}"
    );

    let got = received(&portal);
    assert!(
        got.contains(&"session account=20455810".to_string()),
        "{got:?}"
    );
    assert!(
        got.contains(&"meter reading=04512 signed_in=true".to_string()),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|l| l == "direct-debit holder=Sam Mercer sort_code=204581"),
        "{got:?}"
    );
    assert!(
        got.contains(&"moving postcode=HT1 4QS".to_string()),
        "{got:?}"
    );
}

/// The banner comes ~750 ms after load, by a fetch or by a plain timer; "Accept" is waited
/// for either way, and the journey goes on past it.
#[test]
fn a_banner_that_comes_late_is_waited_for() {
    let portal = portal();
    let (_, report, out) = run_json(
        &portal,
        &[
            fixture("late-banner.yaml"),
            fixture("late-banner-timer.yaml"),
        ],
        &[],
    );
    for part in ["late-banner.yaml", "late-banner-timer.yaml"] {
        let (status, reason) = ended(&report, part);
        assert_eq!(status, "completed", "{part}: {reason}");
        let t = trace_json(out.path(), &report, part);
        assert!(
            text(step(&t, 2), "waited").contains("Accept"),
            "{part}: {:#}",
            step(&t, 2)
        );
    }
    assert!(
        findings(&report, "journey-blocked").is_empty(),
        "{report:#}"
    );
}

/// A button under something that stays (a chat panel, the banner's backdrop, a modal
/// dialog) is not clicked "through" it: the journey blocks, saying what covers it.
#[test]
fn a_covered_button_blocks_naming_what_covers_it() {
    let portal = portal();
    let (_, report, _out) = run_json(
        &portal,
        &[
            spa("contact.yaml"),
            fixture("banner-not-accepted.yaml"),
            fixture("modal-not-closed.yaml"),
        ],
        &[],
    );
    for (part, step_index, cover) in [
        ("contact.yaml", 5, "Chat with us"),
        ("banner-not-accepted.yaml", 3, "We use cookies"),
        ("modal-not-closed.yaml", 7, "What's new"),
    ] {
        let s = scenario_result(&report, part);
        assert_eq!(s["status"], "blocked", "{part}: {s:#}");
        assert_eq!(s["blocked_at_step"], step_index, "{part}: {s:#}");
        let reason = text(s, "reason");
        // Behind a modal the link is inert rather than under another element; either way
        // the reason names the dialog.
        if part != "modal-not-closed.yaml" {
            assert!(reason.contains("covered"), "{part}: {reason}");
        }
        assert!(reason.contains(cover), "{part}: {reason}");
    }
    let blocked = findings(&report, "journey-blocked");
    assert!(
        blocked
            .iter()
            .any(|f| text(f, "element").contains("Send message")),
        "{report:#}"
    );
    let got = received(&portal);
    assert!(
        !got.iter().any(|l| l.starts_with("contact ")),
        "the covered button sent nothing: {got:?}"
    );
}

/// A field under the banner's backdrop is not typed into by script: a person could not
/// click into it, so the fill blocks and the server never sees a reading.
#[test]
fn fill_types_only_where_a_person_can_click() {
    let portal = portal();
    let (_, report, out) = run_json(&portal, &[fixture("fill-under-banner.yaml")], &[]);
    let s = scenario_result(&report, "fill-under-banner");
    assert_eq!(s["status"], "blocked", "{s:#}");
    assert_eq!(s["blocked_at_step"], 3, "the fill itself blocks: {s:#}");
    let reason = text(s, "reason");
    assert!(
        reason.contains("covered") && reason.contains("We use cookies"),
        "{reason}"
    );
    let t = trace_json(out.path(), &report, "fill-under-banner");
    assert_eq!(step(&t, 3)["outcome"]["result"], "failed");
    let got = received(&portal);
    assert!(
        !got.iter().any(|l| l.starts_with("meter ")),
        "no reading reached the server: {got:?}"
    );
}

/// "Submit reading" is disabled until the debounced validation passes, 250 ms after the
/// last keystroke: the click waits for it, and the reading is sent.
#[test]
fn a_disabled_button_is_waited_for_until_valid() {
    let portal = portal();
    run_completed(&portal, fixture("meter.yaml"), "meter.yaml");
    assert_received(&portal, "meter reading=04512");
}

/// "Create account" stays disabled without a customer reference the user does not have:
/// the click is not recorded as done; the journey blocks on it, quoting the page's message.
#[test]
fn a_button_that_stays_disabled_blocks_with_the_page_message() {
    let portal = portal();
    let (code, report, out) = run_json(&portal, &[spa("register.yaml")], &[]);
    assert_eq!(code, 1, "a blocked journey fails the default gate");
    let s = scenario_result(&report, "register");
    assert_eq!(s["status"], "blocked", "{s:#}");
    assert_eq!(
        s["blocked_at_step"], 5,
        "the click on the disabled button: {s:#}"
    );
    let reason = text(s, "reason");
    assert!(reason.contains("Create account"), "{reason}");
    assert!(reason.contains("stays disabled"), "{reason}");
    assert!(
        reason.contains("Enter the 10-digit customer reference"),
        "{reason}"
    );
    let t = trace_json(out.path(), &report, "register");
    assert_eq!(step(&t, 5)["outcome"]["result"], "failed");
    assert_eq!(findings(&report, "journey-blocked").len(), 1, "{report:#}");
    assert!(
        findings(&report, "unknown-info")
            .iter()
            .any(|f| text(f, "element").contains("Customer reference")),
        "{report:#}"
    );
    let got = received(&portal);
    assert!(!got.iter().any(|l| l.starts_with("register ")), "{got:?}");
}

/// An expect waits across "Loading…" for text the API brings, and fails fast once the page
/// has settled without it (no flat grace, no step timeout).
#[test]
fn expect_waits_for_the_api_and_fails_fast_on_a_settled_page() {
    let portal = portal();
    let (_, report, out) = run_json(
        &portal,
        &[fixture("expect-api.yaml"), fixture("expect-never.yaml")],
        &[],
    );
    let (status, reason) = ended(&report, "expect-api");
    assert_eq!(status, "completed", "{reason}");

    let s = scenario_result(&report, "expect-never");
    assert_eq!(s["status"], "blocked", "{s:#}");
    assert_eq!(s["blocked_at_step"], 4, "{s:#}");
    assert!(text(s, "reason").contains("expected to see"), "{s:#}");
    let t = trace_json(out.path(), &report, "expect-never");
    let failing = step(&t, 4);
    let ms = failing["timings"]["action_ms"].as_u64().expect("action_ms");
    assert!(ms < 1_500, "the failing expect took {ms} ms");
    // The one before it passed on the same settled page.
    assert_eq!(step(&t, 3)["outcome"]["result"], "done");
}

/// A failing `expect` quotes what the page draws: the meter form's alert, hidden once the
/// reading is valid, is not "what the page shows".
#[test]
fn a_failing_expect_never_quotes_a_hidden_alert() {
    let portal = portal();
    let (_, report, _out) = run_json(&portal, &[fixture("expect-hidden-alert.yaml")], &[]);
    let (status, reason) = ended(&report, "expect-hidden-alert");
    assert_eq!(status, "blocked", "{reason}");
    assert!(reason.contains("the page shows"), "{reason}");
    assert!(!reason.contains("Enter the 5 digits"), "{reason}");
}

/// The partner page's sign-in component has a `<label for>` that names nothing inside its
/// shadow root: `label-missing`, found inside the root as it would be in the light DOM.
#[test]
fn a_label_inside_a_shadow_root_that_names_nothing_is_label_missing() {
    let portal = portal();
    let (report, out) = run_completed(&portal, spa("partner-sign-in.yaml"), "partner-sign-in");
    let missing = findings(&report, "label-missing");
    assert!(
        missing.iter().any(|f| {
            let said = format!("{} {}", text(f, "element"), text(f, "message"));
            said.contains("Account ID")
        }),
        "{report:#}"
    );
    let t = trace_json(out.path(), &report, "partner-sign-in");
    assert_eq!(text(field(&t, "Account ID"), "host"), "hb-sign-in");
}

/// The legacy Direct Debit form, in a frame from another site (an out-of-process frame),
/// names "Sort code" by its placeholder only: `label-missing`, on the frame's field.
#[test]
fn a_check_inside_a_cross_origin_frame_is_found() {
    let portal = portal();
    let (report, out) = run_completed(
        &portal,
        spa("direct-debit-legacy.yaml"),
        "direct-debit-legacy",
    );
    let missing = findings(&report, "label-missing");
    assert!(
        missing.iter().any(|f| {
            let said = format!("{} {}", text(f, "element"), text(f, "message"));
            said.contains("Sort code")
        }),
        "{report:#}"
    );
    let t = trace_json(out.path(), &report, "direct-debit-legacy");
    let sort_code = field(&t, "Sort code");
    assert!(
        text(sort_code, "frame").starts_with(&portal.frame_origin()),
        "{sort_code:#}"
    );
    assert!(
        text(sort_code, "frame").contains("v=legacy"),
        "{sort_code:#}"
    );
}

/// The older moving-home form, in a frame of the site's own origin (the page's own
/// process, read through the page's document), names "Postcode" by its placeholder only:
/// `label-missing`, on the frame's field; the form is filled and sent from inside the frame.
#[test]
fn a_check_inside_a_same_origin_frame_is_found_and_its_form_is_sent() {
    let portal = portal();
    let (report, out) = run_completed(
        &portal,
        spa("moving-home-legacy.yaml"),
        "moving-home-legacy",
    );
    let missing = findings(&report, "label-missing");
    assert!(
        missing.iter().any(|f| {
            let said = format!("{} {}", text(f, "element"), text(f, "message"));
            said.contains("Postcode")
        }),
        "{report:#}"
    );
    let t = trace_json(out.path(), &report, "moving-home-legacy");
    let postcode = field(&t, "Postcode");
    assert!(
        text(postcode, "frame").starts_with(&portal.base_url()),
        "{postcode:#}"
    );
    assert!(
        text(postcode, "frame").contains("/spa/moving-form?v=legacy"),
        "{postcode:#}"
    );
    assert_received(&portal, "moving postcode=HT1 4QS");
}

/// A label misspelt in the scenario ("Acount ID") is the scenario's fault, not the
/// portal's: the journey is an error that says what the page offers, with no price.
#[test]
fn a_scenario_that_no_longer_matches_the_page_is_an_error_not_a_blocker() {
    let portal = portal();
    let (_, report, _out) = run_json(&portal, &[fixture("typo.yaml")], &[]);
    let (status, reason) = ended(&report, "typo");
    assert_eq!(status, "error", "{reason}");
    assert!(reason.contains("the scenario names"), "{reason}");
    assert!(reason.contains("Acount ID"), "{reason}");
    assert!(
        reason.contains("Account ID"),
        "says what the page offers: {reason}"
    );
    assert!(
        findings(&report, "journey-blocked").is_empty(),
        "{report:#}"
    );
    assert_eq!(
        report["summary"]["est_calls_per_month"].as_f64(),
        Some(0.0),
        "{report:#}"
    );
}

/// A view whose API never answers leaves the page "Loading…": at the step timeout that is
/// an error (nocall could not act on a page still loading), never a priced blocker.
#[test]
fn a_page_still_loading_at_the_timeout_is_an_error() {
    let portal = portal();
    let (_, report, _out) = run_json(&portal, &[fixture("never-answers.yaml")], &[]);
    let s = scenario_result(&report, "never-answers");
    assert_eq!(s["status"], "error", "{s:#}");
    assert!(text(s, "reason").contains("still loading"), "{s:#}");
    assert!(
        findings(&report, "journey-blocked").is_empty(),
        "{report:#}"
    );
    let ms = s["duration_ms"].as_u64().expect("duration_ms");
    assert!(ms < 8_000, "bounded by the 2 s step timeout: {ms} ms");
}

/// A button the app replaces every 50 ms for a second is found again and clicked.
#[test]
fn an_element_replaced_while_clicked_is_found_again() {
    let portal = portal();
    run_completed(&portal, fixture("rerender.yaml"), "rerender");
    assert_received(&portal, "meter reading=04512");
}

/// A Recorder export that types into the library's sign-in form and presses Enter signs in,
/// as the real key does: the form's implicit submission.
#[test]
fn a_recording_that_submits_with_enter_signs_in() {
    let portal = portal();
    let (report, out) = run_completed(
        &portal,
        recording("clean-login-enter.json"),
        "clean-login-enter",
    );
    let t = trace_json(out.path(), &report, "clean-login-enter");
    assert!(
        t["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["kind"] == "press"),
        "the Enter is a step of its own: {t:#}"
    );
    let last = t["steps"].as_array().and_then(|s| s.last()).expect("steps");
    assert!(
        text(&last["page"], "text").contains("Welcome back"),
        "{last:#}"
    );
}

/// The same with the single-page site's shadow-root form: Enter in the PIN field submits
/// it, and the API receives the sign-in.
#[test]
fn a_recording_that_submits_a_shadow_root_form_with_enter_signs_in() {
    let portal = portal();
    let (_, report, _out) = run_json(&portal, &[recording("spa-enter.json")], &[]);
    let (status, reason) = ended(&report, "spa-enter");
    assert_eq!(status, "completed", "{reason}");
    let got = received(&portal);
    assert!(
        got.contains(&"session account=20455810".to_string()),
        "{got:?}"
    );
}

/// The single-page journeys stay out of `nocall demo` (and so out of the demo's timings).
#[test]
fn the_single_page_journeys_are_not_in_the_demo() {
    for (name, text) in nocall_portal::SCENARIOS {
        assert!(!text.contains("/spa/"), "{name}");
    }
    let files = nocall::scenario::discover(&[spa("")]).expect("discovers");
    let names: Vec<String> = files
        .iter()
        .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    assert_eq!(
        names,
        [
            "clean-account.yaml",
            "contact.yaml",
            "direct-debit-legacy.yaml",
            "moving-home-legacy.yaml",
            "partner-sign-in.yaml",
            "register.yaml"
        ]
    );
    let (scenarios, _) =
        nocall::scenario::load_files(&files, &|_| None).expect("the scenarios load");
    assert!(scenarios.iter().all(|s| s.tags.iter().any(|t| t == "spa")));
    // The test-only journeys load too: a test that fails for a typo in its own fixture
    // would say nothing about nocall.
    let fixtures = nocall::scenario::discover(&[fixture("")]).expect("discovers");
    assert_eq!(fixtures.len(), 15, "{fixtures:?}");
    nocall::scenario::load_files(&fixtures, &|_| None).expect("the fixtures load");
}

/// A settings page whose "Save settings" button is pushed down by an offer that appears
/// when the pointer reaches the button (`?shifts=N`: the first N times), so a press sent
/// where the probe saw the button lands on "Special offer" instead. The offer's own click
/// handler writes "Offer opened". Scroll anchoring is off, so the shift shows even once the
/// button has been scrolled to.
const SHIFTING_PAGE: &str = r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Settings</title>
<link rel="icon" href="data:,"><style>body { overflow-anchor: none; }</style></head><body><main>
<h1>Settings</h1>
<div id="slot"></div>
<button id="save" type="button">Save settings</button>
<p id="out" role="status"></p><p id="log"></p>
</main><script>
  let shifts = Number(new URLSearchParams(location.search).get('shifts') || '0');
  const save = document.getElementById('save');
  save.addEventListener('mousemove', () => {
    if (shifts <= 0) return;
    shifts -= 1;
    const offer = document.createElement('button');
    offer.type = 'button';
    offer.textContent = 'Special offer';
    offer.style.cssText = 'display:block;height:60px;width:300px';
    offer.addEventListener('click', () => { document.getElementById('log').textContent += 'Offer opened. '; });
    document.getElementById('slot').prepend(offer);
  });
  save.addEventListener('click', () => { document.getElementById('out').textContent = 'Settings saved'; });
</script></body></html>"#;

/// Serves [`SHIFTING_PAGE`] at every address; returns its base URL.
fn shifting_site() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = axum::Router::new().fallback(|| async { axum::response::Html(SHIFTING_PAGE) });
    serve(listener, router);
    format!("http://{addr}")
}

fn shifting_journey(dir: &Path, base: &str, shifts: &str) -> PathBuf {
    let path = dir.join(format!("shift-{shifts}.yaml"));
    let text = format!(
        "name: Save settings ({shifts})\nstart: {base}/settings\nstep_timeout: 2s\nsteps:\n  \
         - open: /settings?shifts={shifts}\n  - click: Save settings\n  - expect: Settings saved\n"
    );
    std::fs::write(&path, text).expect("write scenario");
    path
}

/// The click is verified when it fires, not only hit-tested before: a layout shift between
/// the probe and the press sends the press to "Special offer", which is stopped before the
/// page sees it and tried again on the button where it now is; a shift on every try blocks
/// the step naming what received the press, and the offer is never opened.
#[test]
fn a_click_that_a_layout_shift_sends_elsewhere_is_stopped_and_tried_again() {
    let base = shifting_site();
    let dir = tempfile::tempdir().expect("temp");
    let once = shifting_journey(dir.path(), &base, "1");
    let always = shifting_journey(dir.path(), &base, "1000");
    let out = tempfile::tempdir().expect("temp");
    let output = nocall()
        .arg("run")
        .arg(&once)
        .arg(&always)
        .args(["--format", "json", "--out"])
        .arg(out.path())
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));

    let (status, reason) = ended(&report, "shift-1.yaml");
    assert_eq!(status, "completed", "{reason}");
    let t = trace_json(out.path(), &report, "shift-1.yaml");
    let shown = text(&step(&t, 3)["page"], "text");
    assert!(shown.contains("Settings saved"), "{shown}");
    assert!(
        !shown.contains("Offer opened"),
        "the stopped press opened nothing: {shown}"
    );

    let (status, reason) = ended(&report, "shift-1000.yaml");
    assert_eq!(status, "blocked", "{reason}");
    assert!(
        reason.contains("landed on 'Special offer' instead"),
        "{reason}"
    );
    let t = trace_json(out.path(), &report, "shift-1000.yaml");
    let shown = text(&step(&t, 2)["page"], "text");
    assert!(!shown.contains("Offer opened"), "{shown}");
    assert!(!shown.contains("Settings saved"), "{shown}");
}

/// A confirmation page that opens the next page by itself a moment later (Roundup's
/// "You are now registered, welcome!" and a 1 s timer given as a string of code; a
/// `<meta>` refresh after 2 s): `expect` and `absent` wait for it as a person does. A
/// navigation due after the step's time is not waited for: that `expect` fails as soon as
/// the page has settled.
#[test]
fn expect_waits_for_a_navigation_the_page_has_scheduled() {
    let portal = portal();
    let (_, report, out) = run_json(
        &portal,
        &[
            fixture("welcome-timer.yaml"),
            fixture("welcome-refresh.yaml"),
            fixture("welcome-late.yaml"),
        ],
        &[],
    );
    for part in ["welcome-timer", "welcome-refresh"] {
        let (status, reason) = ended(&report, part);
        assert_eq!(status, "completed", "{part}: {reason}");
    }
    let t = trace_json(out.path(), &report, "welcome-timer");
    let waited = step(&t, 3)["timings"]["action_ms"]
        .as_u64()
        .expect("action_ms");
    eprintln!("expect across a 1 s timer: {waited} ms");

    let s = scenario_result(&report, "welcome-late");
    assert_eq!(s["status"], "blocked", "{s:#}");
    assert_eq!(s["blocked_at_step"], 3, "{s:#}");
    assert!(text(s, "reason").contains("expected to see"), "{s:#}");
    let t = trace_json(out.path(), &report, "welcome-late");
    let ms = step(&t, 3)["timings"]["action_ms"]
        .as_u64()
        .expect("action_ms");
    eprintln!("failing expect, navigation due in 10 min: {ms} ms");
    // Not the step's whole time (10 s by default): the late timer was not waited for.
    assert!(ms < 5_000, "the failing expect took {ms} ms");
}
