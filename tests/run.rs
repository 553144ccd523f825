//! The real binary, against the example portal served on 127.0.0.1, in real headless Chromium.

mod common;

use std::path::Path;

use common::*;
use nocall::trace::{FoundBy, JourneyStatus, NameSource};

#[test]
fn the_conference_login_is_recorded_as_the_user_saw_it() {
    let portal = portal();
    let (code, report, out) = run_json(&portal, &[scenario("confer-first-login.yaml")], &[]);
    assert_eq!(code, 1, "a blocked journey fails the default gate");
    let t = trace(out.path(), &report, "confer-first-login");
    assert_eq!(t.status, JourneyStatus::Blocked);
    assert_eq!(t.blocked_at_step, Some(4));

    let login = t.steps[0]
        .page
        .as_ref()
        .expect("the login page was recorded");
    assert_eq!(login.status, Some(200));
    assert!(login.url.ends_with("/confer/login"), "{}", login.url);
    let owner = login
        .fields
        .iter()
        .find(|f| f.name == "Owner Name")
        .expect("Owner Name field");
    assert_eq!(owner.name_source, NameSource::Label);
    let password = login
        .fields
        .iter()
        .find(|f| f.name == "Password")
        .expect("Password field");
    assert_eq!(password.input_type, "password");
    assert_eq!(password.autocomplete, "current-password");
    assert!(
        login
            .links
            .iter()
            .any(|l| l.text == "Reset your access" && l.href.ends_with("/confer/forgot"))
    );

    let fill = &t.steps[1];
    assert_eq!(fill.filled.len(), 2);
    assert_eq!(fill.filled[1].asked, "Password");
    assert_eq!(fill.filled[1].found_by, FoundBy::AccessibleName);
    assert_eq!(fill.filled[1].holds, vec!["Leader PIN".to_string()]);

    let click = t.steps[2].clicked.as_ref().expect("the click is recorded");
    assert_eq!(
        click.role, "button",
        "the form's submit button, not the header link"
    );
    assert!(
        click
            .ambiguity
            .as_deref()
            .is_some_and(|a| a.contains("link in nav")),
        "{click:?}"
    );

    for s in &t.steps {
        let shot = s.screenshot.as_ref().expect("every step has a screenshot");
        let bytes = std::fs::read(out.path().join(shot)).expect("the screenshot exists");
        assert!(bytes.starts_with(b"\x89PNG"), "{shot} is a PNG");
        // nocall's own time is what is left of the step once the browser's part is out.
        let step_us = (s.timings.action_ms + s.timings.record_ms + 1) * 1000;
        assert!(s.timings.own_us <= step_us, "{:?}", s.timings);
    }
    // The failed expectation waited for the page to settle (its events, not a fixed
    // grace), and the waiting was the page's, not nocall's.
    let expect = &t.steps[3].timings;
    assert!(
        expect.action_ms < 1_000 && expect.own_us < 100_000,
        "{expect:?}"
    );
    assert!(t.steps.iter().any(|s| s.timings.own_us > 0));

    let mismatch = findings(&report, "label-mismatch");
    assert!(
        mismatch.iter().any(|f| f["element"]
            .as_str()
            .is_some_and(|e| e.contains("Password"))
            && f["message"]
                .as_str()
                .is_some_and(|m| m.contains("Leader PIN"))),
        "{report:#}"
    );
    let blocked = findings(&report, "journey-blocked");
    assert_eq!(blocked.len(), 1);
    assert_eq!(blocked[0]["blocking"], true);
    assert!(blocked[0]["est_calls_per_month"].as_f64().unwrap_or(0.0) > 0.0);
}

#[test]
fn the_lost_card_check_asks_for_what_a_first_timer_cannot_have() {
    let portal = portal();
    let (code, report, out) = run_json(&portal, &[scenario("card-lost-card.yaml")], &[]);
    assert_eq!(code, 1);
    let t = trace(out.path(), &report, "card-lost-card");
    assert_eq!(t.status, JourneyStatus::Blocked);
    let postcode = t
        .steps
        .iter()
        .flat_map(|s| &s.filled)
        .find(|f| f.asked == "Postcode")
        .expect("filled");
    assert_eq!(postcode.found_by, FoundBy::Placeholder);
    let unknown: Vec<String> = findings(&report, "unknown-info")
        .iter()
        .filter_map(|f| f["element"].as_str().map(str::to_string))
        .collect();
    assert!(
        unknown.iter().any(|e| e.contains("Card number")),
        "{unknown:?}"
    );
    assert!(
        unknown.iter().any(|e| e.contains("Credit limit")),
        "{unknown:?}"
    );
    assert!(
        !findings(&report, "label-missing").is_empty(),
        "the placeholder-only Postcode"
    );
}

#[test]
fn the_clean_portal_gets_a_first_timer_through_with_no_finding() {
    let portal = portal();
    let (code, report, _out) = run_json(
        &portal,
        &[scenario("clean-library-login.yaml")],
        &["--fail-on", "any"],
    );
    assert_eq!(report["scenarios"][0]["status"], "completed", "{report:#}");
    assert_eq!(
        report["findings"].as_array().map(Vec::len),
        Some(0),
        "{report:#}"
    );
    assert_eq!(code, 0);
}

#[test]
fn a_dead_link_on_the_path_blocks_with_its_status() {
    let portal = portal();
    let (_, report, _out) = run_json(&portal, &[scenario("mail-update-details.yaml")], &[]);
    let s = scenario_result(&report, "mail-update-details");
    assert_eq!(s["status"], "blocked");
    assert!(
        s["reason"].as_str().is_some_and(|r| r.contains("404")),
        "{s:#}"
    );
}

#[test]
fn explain_shows_the_arithmetic_of_a_finding() {
    let portal = portal();
    let (_, report, out) = run_json(&portal, &[scenario("confer-first-login.yaml")], &[]);
    let id = report["findings"][0]["id"]
        .as_str()
        .expect("a finding")
        .to_string();
    let output = nocall()
        .args(["explain", &id, "--report"])
        .arg(out.path().join("report.json"))
        .output()
        .expect("runs");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains(&id) && text.contains("users ×") && text.contains("USD"),
        "{text}"
    );
}

#[test]
fn a_bad_scenario_is_refused_before_any_browser_starts() {
    let dir = tempfile::tempdir().expect("temp");
    let file = dir.path().join("bad.yaml");
    std::fs::write(
        &file,
        "name: x\nstart: http://127.0.0.1:1/\nsteps:\n  - open: /\n  - clik: Log in\n",
    )
    .expect("write");
    let output = nocall()
        .args(["run", "--browser", "/nonexistent/chrome"])
        .arg(&file)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("bad.yaml:5:5: unknown step `clik`"), "{err}");
    assert!(err.contains("did you mean `click`?"), "{err}");
}

#[test]
fn no_browser_is_exit_3_with_a_way_out() {
    let output = nocall()
        .args(["run", "--browser", "/nonexistent/chrome"])
        .arg(scenario("clean-library-login.yaml"))
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(3));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("no Chromium found") && err.contains("apt-get install"),
        "{err}"
    );
}

#[test]
fn an_unreachable_portal_is_exit_3_with_the_reason() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let out = tempfile::tempdir().expect("temp");
    let output = nocall()
        .arg("run")
        .arg(scenario("clean-library-login.yaml"))
        .args(["--base-url", &format!("http://127.0.0.1:{port}"), "--out"])
        .arg(out.path())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(3));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("could not be reached") && text.contains("ERR_CONNECTION_REFUSED"),
        "{text}"
    );
    assert!(
        out.path().join("report.json").exists(),
        "partial results are written"
    );
}

#[test]
fn secrets_from_the_environment_appear_nowhere() {
    let portal = portal();
    let dir = tempfile::tempdir().expect("temp");
    let file = dir.path().join("secret.yaml");
    std::fs::write(
        &file,
        "name: Secret login\nstart: http://127.0.0.1:8080/\nholds:\n  Owner Name: Pat Doe\n  Leader PIN: \"{env:NOCALL_TEST_PIN}\"\n\
         steps:\n  - open: /confer/login\n  - fill:\n      Owner Name: \"{Owner Name}\"\n      Password: \"{Leader PIN}\"\n\
         \x20 - click: Log in\n  - expect: \"{Leader PIN} accepted\"\n",
    )
    .expect("write");
    let secret = "SeCrEt-73915";
    let out = tempfile::tempdir().expect("temp");
    let mut cmd = nocall();
    cmd.env("NOCALL_TEST_PIN", secret)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", out.path().join("summary.md"))
        .arg("run")
        .arg(&file)
        .args(["--base-url", &portal.base_url(), "--out"])
        .arg(out.path());
    for (format, name) in [
        ("json", "copy.json"),
        ("junit", "r.xml"),
        ("sarif", "r.sarif"),
        ("html", "r.html"),
        ("markdown", "r.md"),
    ] {
        cmd.arg("--report")
            .arg(format!("{format}={}", out.path().join(name).display()));
    }
    let output = cmd.output().expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stdout.contains("BLOCKED Secret login"),
        "{stdout}\n{stderr}"
    );
    assert!(
        !stdout.contains(secret) && !stderr.contains(secret),
        "{stdout}\n{stderr}"
    );
    assert!(stdout.contains("::error"), "GitHub annotations: {stdout}");
    assert!(out.path().join("r.html").exists() && out.path().join("summary.md").exists());
    // The evidence bundle of every finding, too.
    let text = std::fs::read_to_string(out.path().join("report.json")).expect("report");
    let report: serde_json::Value = serde_json::from_str(&text).expect("json");
    let ids = finding_ids(&report);
    assert!(!ids.is_empty());
    for id in &ids {
        let bundle = nocall()
            .args(["evidence", id, "--report"])
            .arg(out.path().join("report.json"))
            .arg("--out")
            .arg(out.path().join("evidence"))
            .output()
            .expect("evidence runs");
        assert!(
            bundle.status.success(),
            "{}",
            String::from_utf8_lossy(&bundle.stderr)
        );
    }
    assert!(
        out.path()
            .join("evidence")
            .join(&ids[0])
            .join("README.md")
            .exists()
    );
    assert_no_secret(out.path(), secret);
}

fn assert_no_secret(dir: &Path, secret: &str) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            assert_no_secret(&path, secret);
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            assert!(
                !text.contains(secret),
                "{} holds the secret",
                path.display()
            );
        }
    }
}

#[test]
fn ctrl_c_writes_what_finished_and_exits() {
    let portal = portal();
    let dir = tempfile::tempdir().expect("temp");
    let file = dir.path().join("slow.yaml");
    std::fs::write(
        &file,
        "name: Slow\nstart: http://127.0.0.1:8080/\nsteps:\n  - open: /clean/\n  - wait: 20s\n  - expect: never\n",
    )
    .expect("write");
    let out = tempfile::tempdir().expect("temp");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("nocall"))
        .arg("run")
        .arg(&file)
        .args([
            "--base-url",
            &portal.base_url(),
            "--format",
            "json",
            "--out",
        ])
        .arg(out.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    // Interrupt once the journey is under way (its first screenshot is on disk).
    let shot = out.path().join("screenshots/01-slow/step-01.png");
    let started = std::time::Instant::now();
    while !shot.exists() && started.elapsed() < std::time::Duration::from_secs(20) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let output = child.wait_with_output().expect("ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("interrupted"), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("the report is printed");
    assert_eq!(report["scenarios"][0]["status"], "error", "{report:#}");
    assert!(out.path().join("report.json").exists());
}

#[test]
fn links_crawls_a_site_without_a_scenario() {
    let portal = portal();
    let out = tempfile::tempdir().expect("temp");
    let output = nocall()
        .args([
            "links",
            &format!("{}/help/", portal.base_url()),
            "--offline",
            "--format",
            "json",
            "--out",
        ])
        .arg(out.path())
        .output()
        .expect("runs");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let dead: Vec<String> = findings(&report, "dead-link")
        .iter()
        .map(|f| format!("{} {}", f["element"], f["message"]))
        .collect();
    assert!(
        dead.iter()
            .any(|d| d.contains("Privacy") && d.contains("404")),
        "{dead:#?}"
    );
    assert!(dead.iter().any(|d| d.contains("#refunds")), "{dead:#?}");
    assert!(
        !dead.iter().any(|d| d.contains("reset-password")),
        "a live link: {dead:#?}"
    );
    assert!(!findings(&report, "phone-mismatch").is_empty());
    assert!(!findings(&report, "phone-invalid").is_empty());
}

#[test]
fn a_baseline_excuses_known_findings_and_shards_merge() {
    let portal = portal();
    let (code, _report, out) = run_json(&portal, &[scenario("confer-first-login.yaml")], &[]);
    assert_eq!(code, 1);
    let baseline = out.path().join("baseline.json");
    let wrote = nocall()
        .args(["baseline", "write"])
        .arg(&baseline)
        .arg("--report")
        .arg(out.path().join("report.json"))
        .output()
        .expect("runs");
    assert!(wrote.status.success());
    let base = baseline.display().to_string();
    let (code, _, _) = run_json(
        &portal,
        &[scenario("confer-first-login.yaml")],
        &["--baseline", &base],
    );
    assert_eq!(code, 0, "nothing new since the baseline");

    let (_, _, other) = run_json(&portal, &[scenario("card-lost-card.yaml")], &[]);
    let merged = nocall()
        .arg("merge")
        .arg(out.path().join("report.json"))
        .arg(other.path().join("report.json"))
        .output()
        .expect("runs");
    assert!(merged.status.success());
    let report: serde_json::Value = serde_json::from_slice(&merged.stdout).expect("json");
    assert_eq!(report["summary"]["scenarios"], 2);
    let rows: f64 = report["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["est_calls_per_month"].as_f64())
                .sum()
        })
        .unwrap_or(0.0);
    let total = report["summary"]["est_calls_per_month"]
        .as_f64()
        .unwrap_or(-1.0);
    assert!(
        (rows - total).abs() < 0.05,
        "the total is the sum of the rows: {rows} vs {total}"
    );
}

#[test]
fn shards_merged_equal_the_whole_run() {
    let portal = portal();
    let files = [
        scenario("card-lost-card.yaml"),
        scenario("confer-first-login.yaml"),
    ];
    let (_, whole, _w) = run_json(&portal, &files, &[]);
    let (_, _, one) = run_json(&portal, &files, &["--shard", "1/2"]);
    let (_, _, two) = run_json(&portal, &files, &["--shard", "2/2"]);
    let merged = nocall()
        .arg("merge")
        .arg(one.path().join("report.json"))
        .arg(two.path().join("report.json"))
        .output()
        .expect("runs");
    let merged: serde_json::Value = serde_json::from_slice(&merged.stdout).expect("json");
    let rows = |r: &serde_json::Value| {
        let mut v: Vec<(String, i64)> = r["findings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| {
                        let calls = f["est_calls_per_month"].as_f64().unwrap_or(0.0);
                        (
                            f["id"].as_str().unwrap_or_default().to_string(),
                            (calls * 10.0).round() as i64,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    assert!(!rows(&whole).is_empty());
    assert_eq!(rows(&merged), rows(&whole));
    assert_eq!(merged["summary"]["scenarios"], 2);
}

#[test]
fn a_browser_that_is_already_running_is_driven_by_its_devtools_address() {
    use std::io::BufRead;
    let portal = portal();
    let chromium = nocall::runner::browser::find(None, std::env::var("CHROME").ok().as_deref())
        .expect("chromium");
    let profile = tempfile::tempdir().expect("temp");
    let mut browser = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let stderr = browser.stderr.take().expect("stderr");
    let ws = std::io::BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.find("ws://").map(|at| l[at..].trim().to_string()))
        .expect("DevTools address");
    let (code, report, _out) = run_json(
        &portal,
        &[scenario("clean-library-login.yaml")],
        &["--browser-url", &ws],
    );
    let _ = browser.kill();
    let _ = browser.wait();
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["scenarios"][0]["status"], "completed");
}

#[test]
fn the_demo_ranks_every_story_and_the_mail_round_trips_work() {
    let out = tempfile::tempdir().expect("temp");
    let output = nocall()
        .args(["demo", "--format", "json", "--out"])
        .arg(out.path())
        .output()
        .expect("runs");
    assert_eq!(
        output.status.code(),
        Some(1),
        "blocked journeys fail the default gate"
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let status = |part: &str| {
        scenario_result(&report, part)["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(status("confer-first-login"), "blocked");
    assert_eq!(status("card-lost-card"), "blocked");
    assert_eq!(status("clean-library-login"), "completed");
    assert_eq!(
        status("clean-reset-pin"),
        "completed",
        "the reset completes through the mail round trip"
    );
    assert_eq!(status("mail-notice-email"), "blocked");
    assert_eq!(status("card-verification-code"), "blocked");
    let clean: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|f| f["url"].as_str().is_some_and(|u| u.contains("/clean/")))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        clean.is_empty(),
        "the clean portal raises nothing: {clean:#?}"
    );
    for kind in [
        "recovery-dead-end",
        "dead-email-link",
        "email-missing",
        "phone-unreachable",
        "dead-link",
    ] {
        assert!(!findings(&report, kind).is_empty(), "no {kind} in the demo");
    }
    // The help article's "go to the sign-in page and choose Forgot password" is about a
    // page no journey saw: said as unverified, never priced or gated on.
    let about_elsewhere: Vec<&serde_json::Value> = findings(&report, "instruction-mismatch")
        .into_iter()
        .filter(|f| f["url"].as_str().is_some_and(|u| u.contains("/help/")))
        .collect();
    assert_eq!(about_elsewhere.len(), 1, "{about_elsewhere:#?}");
    assert_eq!(about_elsewhere[0]["severity"], "warning");
    assert_eq!(about_elsewhere[0]["est_calls_per_month"], 0.0);
    let t = trace(out.path(), &report, "clean-reset-pin");
    assert_eq!(t.mails.len(), 1, "the reset mail is in the trace");
    assert!(
        t.mails[0]
            .links
            .iter()
            .any(|l| l.text.contains("Choose a new PIN"))
    );
}

#[test]
fn a_mail_port_in_use_is_refused_naming_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let dir = tempfile::tempdir().expect("temp");
    let file = dir.path().join("mail.yaml");
    std::fs::write(
        &file,
        format!("name: Mail\nstart: http://127.0.0.1:1/\nmail:\n  smtp: \"{addr}\"\nsteps:\n  - open: /\n"),
    )
    .expect("write");
    let output = nocall().arg("run").arg(&file).output().expect("runs");
    assert_eq!(output.status.code(), Some(3));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains(&addr.to_string()), "{err}");
}

#[test]
fn prefetch_check_plays_the_mail_scanner_without_blaming_it_for_dead_links() {
    let out = tempfile::tempdir().expect("temp");
    let output = nocall()
        .args(["demo", "--prefetch-check", "--format", "json", "--out"])
        .arg(out.path())
        .output()
        .expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    // The library's reset link survives a scanner's GET, so the journey still completes.
    assert_eq!(
        scenario_result(&report, "clean-reset-pin")["status"],
        "completed"
    );
    let t = trace(out.path(), &report, "clean-reset-pin");
    assert!(
        t.steps.iter().any(|s| s.prefetched),
        "the followed link was prefetched"
    );
    // The notice's link is dead for everyone: not the scanner's doing.
    for f in findings(&report, "dead-email-link") {
        let m = f["message"].as_str().unwrap_or_default();
        assert!(!m.contains("scanner"), "{m}");
    }
}
