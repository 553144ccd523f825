//! Faults, injected for real against the example portal's `/fault/` pages and a browser
//! killed mid-run: each ends only the journey it hit, with a named reason; the others run
//! and report.

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn journey(dir: &Path, file: &str, name: &str, steps: &str) -> PathBuf {
    let path = dir.join(file);
    let text =
        format!("name: {name}\nstart: http://127.0.0.1:8080/\nstep_timeout: 3s\nsteps:\n{steps}");
    std::fs::write(&path, text).expect("write scenario");
    path
}

/// The example library's sign-in, which completes.
const CLEAN_LOGIN: &str = "  - open: /clean/login\n  - fill:\n      Library card number: \"21234000123456\"\n      PIN: \"1357\"\n  - click: Sign in\n  - expect: Welcome back\n";

/// A wrapper around Chromium that writes the browser's process id to a file (rewritten at
/// every start), so a test can kill it: `(wrapper, pid file)`.
fn pid_telling_browser(dir: &Path) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;

    let pid_file = dir.join("chromium.pid");
    let wrapper = dir.join("chromium-wrapper");
    let chromium = nocall::runner::browser::find(None, std::env::var("CHROME").ok().as_deref())
        .expect("chromium");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho $$ > '{}'\nexec '{}' \"$@\"\n",
            pid_file.display(),
            chromium.display()
        ),
    )
    .expect("write wrapper");
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (wrapper, pid_file)
}

#[test]
fn every_fault_ends_only_its_own_journey() {
    let portal = portal();
    let dir = tempfile::tempdir().expect("temp");
    let d = dir.path();
    let files = vec![
        journey(d, "a-500.yaml", "Server error", "  - open: /fault/500\n"),
        journey(d, "b-hang.yaml", "Never answers", "  - open: /fault/hang\n"),
        journey(
            d,
            "c-reset.yaml",
            "Connection reset",
            "  - open: /fault/reset\n",
        ),
        journey(d, "d-loop.yaml", "Redirect loop", "  - open: /fault/loop\n"),
        journey(
            d,
            "e-dialogs.yaml",
            "Endless dialogs",
            "  - open: /fault/dialogs\n  - expect: never there\n",
        ),
        journey(
            d,
            "f-never-loads.yaml",
            "Never finishes loading",
            "  - open: /fault/never-loads\n",
        ),
        journey(
            d,
            "g-slow.yaml",
            "Slow but fine",
            "  - open: /fault/slow?ms=1200\n",
        ),
        journey(d, "h-clean.yaml", "Clean login", CLEAN_LOGIN),
    ];
    let (code, report, _out) = run_json(&portal, &files, &["--jobs", "2"]);
    assert_eq!(code, 1, "journeys ran and some were blocked: {report:#}");
    let status = |part: &str| {
        scenario_result(&report, part)["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let reason = |part: &str| {
        scenario_result(&report, part)["reason"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(status("a-500"), "blocked");
    assert!(reason("a-500").contains("500"), "{}", reason("a-500"));
    // A page still loading when the step's time runs out is nocall unable to tell what
    // the user would see: an error, never a priced blocker.
    assert_eq!(status("b-hang"), "error");
    assert!(
        reason("b-hang").contains("did not finish loading"),
        "{}",
        reason("b-hang")
    );
    assert_eq!(status("c-reset"), "blocked");
    assert!(reason("c-reset").contains("ERR_"), "{}", reason("c-reset"));
    assert_eq!(status("d-loop"), "blocked", "{}", reason("d-loop"));
    assert!(
        reason("d-loop").contains("ERR_TOO_MANY_REDIRECTS"),
        "{}",
        reason("d-loop")
    );
    assert_ne!(status("e-dialogs"), "completed");
    // A stuck page costs its step timeout (3 s here) and a recording bounded by it, never
    // the 15 s a single browser call may take.
    for part in ["b-hang", "c-reset", "e-dialogs", "f-never-loads"] {
        let ms = scenario_result(&report, part)["duration_ms"]
            .as_u64()
            .expect("duration_ms");
        assert!(ms < 8_000, "{part} took {ms} ms");
    }
    assert_eq!(status("f-never-loads"), "error");
    assert_eq!(status("g-slow"), "completed", "{}", reason("g-slow"));
    assert_eq!(status("h-clean"), "completed", "{}", reason("h-clean"));
}

/// A click whose page script, not its markup, moves the user on: the click step itself
/// must record where the user ended up, not the page they left.
#[test]
fn a_click_waits_for_navigations_started_by_script() {
    let portal = portal();
    let dir = tempfile::tempdir().expect("temp");
    let d = dir.path();
    let clicks = [
        ("a-now.yaml", "Go now"),
        ("b-fetch.yaml", "Go after asking the server"),
        ("c-submit.yaml", "Send by script"),
        // 127.0.0.1 → localhost: another site, so another renderer process takes over.
        ("e-away.yaml", "Send to another site"),
    ];
    let mut files: Vec<PathBuf> = clicks
        .iter()
        .map(|(file, button)| {
            journey(
                d,
                file,
                button,
                &format!("  - open: /fault/scripted\n  - click: {button}\n"),
            )
        })
        .collect();
    files.push(journey(
        d,
        "d-here.yaml",
        "Show here",
        "  - open: /fault/scripted\n  - click: Show here\n",
    ));
    files.push(journey(
        d,
        "f-frame.yaml",
        "Show on the next frame",
        "  - open: /fault/scripted\n  - click: Show on the next frame\n",
    ));
    let (code, report, out) = run_json(&portal, &files, &["--jobs", "2", "--offline"]);
    assert_eq!(code, 0, "{report:#}");
    for (file, _) in clicks {
        let part = file.trim_end_matches(".yaml");
        let t = trace(out.path(), &report, part);
        let page = t.steps[1]
            .page
            .as_ref()
            .expect("the click step is recorded");
        assert!(
            page.url.contains("/fault/slow") && page.text.contains("This answer took 0 ms."),
            "{part}: the click step recorded {} showing {:?}",
            page.url,
            page.text
        );
    }
    let away = trace(out.path(), &report, "e-away");
    let page = away.steps[1].page.as_ref().expect("recorded");
    assert!(page.url.contains("//localhost:"), "{}", page.url);
    let here = trace(out.path(), &report, "d-here");
    let page = here.steps[1].page.as_ref().expect("recorded");
    assert!(page.url.ends_with("/fault/scripted"), "{}", page.url);
    assert!(page.text.contains("Shown at once"), "{:?}", page.text);
    let frame = trace(out.path(), &report, "f-frame");
    let page = frame.steps[1].page.as_ref().expect("recorded");
    assert!(
        page.text.contains("Shown on the next frame"),
        "{:?}",
        page.text
    );
}

/// The same through the command line: the browser (started through a wrapper that tells
/// the test its process id) is killed while the first journey waits; that journey ends as
/// an error naming the browser, and the binary starts another browser for the rest.
#[test]
fn the_binary_restarts_a_browser_killed_mid_run() {
    let portal = portal();
    let dir = tempfile::tempdir().expect("temp");
    let (wrapper, pid_file) = pid_telling_browser(dir.path());
    let files = vec![
        journey(
            dir.path(),
            "a.yaml",
            "Waits while the browser dies",
            "  - open: /clean/login\n  - wait: 10s\n  - expect: Sign in\n",
        ),
        journey(dir.path(), "b.yaml", "After the restart", CLEAN_LOGIN),
    ];
    let out = tempfile::tempdir().expect("temp");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("nocall"))
        .arg("run")
        .args(&files)
        .args(["--jobs", "1", "--offline", "--format", "json", "--base-url"])
        .arg(portal.base_url())
        .arg("--browser")
        .arg(&wrapper)
        .arg("--out")
        .arg(out.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    // Kill the browser once the first journey is under way (its first screenshot is on disk).
    let shot = out
        .path()
        .join("screenshots/01-waits-while-the-browser-dies/step-01.png");
    let started = std::time::Instant::now();
    while !shot.exists() && started.elapsed() < std::time::Duration::from_secs(20) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let pid = std::fs::read_to_string(&pid_file).expect("the wrapper wrote the browser's pid");
    let _ = std::process::Command::new("kill")
        .args(["-9", pid.trim()])
        .status();
    let output = child.wait_with_output().expect("ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(3), "something ran: {stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("the report is printed ({e}): {stderr}"));
    let first = scenario_result(&report, "a.yaml");
    assert_eq!(first["status"], "error", "{report:#}");
    assert!(
        first["reason"]
            .as_str()
            .is_some_and(|r| r.contains("browser")),
        "{first:#}"
    );
    assert_eq!(
        scenario_result(&report, "b.yaml")["status"],
        "completed",
        "{report:#}"
    );
    assert!(out.path().join("report.json").exists());
}

struct KillAfterFirstStep {
    pid_file: PathBuf,
}

impl nocall::runner::Observer for KillAfterFirstStep {
    fn step_finished(&self, journey: usize, step: &nocall::trace::StepTrace) {
        if journey == 0 && step.index == 1 {
            let pid = std::fs::read_to_string(&self.pid_file).unwrap_or_default();
            let _ = std::process::Command::new("kill")
                .args(["-9", pid.trim()])
                .status();
        }
    }
}

#[test]
fn a_killed_browser_ends_one_journey_and_is_restarted_for_the_rest() {
    let portal = portal();
    let dir = tempfile::tempdir().expect("temp");
    let (wrapper, pid_file) = pid_telling_browser(dir.path());
    let files: Vec<PathBuf> = ["a", "b", "c"]
        .iter()
        .map(|n| {
            journey(
                dir.path(),
                &format!("{n}.yaml"),
                &format!("Journey {n}"),
                CLEAN_LOGIN,
            )
        })
        .collect();
    let env = |_: &str| None;
    let (scenarios, secrets) = nocall::scenario::load_files(&files, &env).expect("scenarios load");
    let options = nocall::runner::RunOptions {
        browser: nocall::runner::BrowserSource::Launch {
            path: wrapper,
            headful: false,
        },
        jobs: 1,
        out_dir: dir.path().join("out"),
        base_url: url::Url::parse(&portal.base_url()).ok(),
        prefetch_check: false,
        offline: true,
        allow_private: false,
        allowed_hosts: None,
        limits: nocall::config::Limits::default(),
    };
    let observer = KillAfterFirstStep { pid_file };
    let mail = nocall::mail::Mailboxes::new();
    let traces =
        nocall::runner::run_all(&scenarios, &secrets, &options, &mail, &observer).expect("runs");
    assert_eq!(
        traces[0].status,
        nocall::trace::JourneyStatus::Error,
        "{:?}",
        traces[0].reason
    );
    assert!(
        traces[0]
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("browser")),
        "{:?}",
        traces[0].reason
    );
    assert_eq!(
        traces[1].status,
        nocall::trace::JourneyStatus::Completed,
        "{:?}",
        traces[1].reason
    );
    assert_eq!(
        traces[2].status,
        nocall::trace::JourneyStatus::Completed,
        "{:?}",
        traces[2].reason
    );
}

/// A page that reloads itself for ever (a meta refresh of 0 s) and a page with a download
/// link, served by the test itself.
fn reload_and_download_site() -> String {
    use axum::http::header;
    use axum::response::IntoResponse;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = axum::Router::new()
        .route(
            "/again",
            axum::routing::get(|| async {
                axum::response::Html(
                    r#"<!doctype html><html lang="en"><head><meta http-equiv="refresh" content="0"><title>Again</title></head><body><h1>One moment</h1></body></html>"#,
                )
            }),
        )
        .route(
            "/statement",
            axum::routing::get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "application/octet-stream"),
                        (
                            header::CONTENT_DISPOSITION,
                            "attachment; filename=\"statement.txt\"",
                        ),
                    ],
                    "your statement\n",
                )
                    .into_response()
            }),
        )
        .fallback(|| async {
            axum::response::Html(
                r#"<!doctype html><html lang="en"><head><title>Home</title></head><body><main><h1>Home</h1><p><a href="/statement">Download your statement</a></p></main></body></html>"#,
            )
        });
    serve(listener, router);
    format!("http://{addr}")
}

/// A page that keeps reloading blocks the journey with that reason (the portal's fault, as
/// a user stuck on it would say), never "no journey could run" (exit 3); a download link
/// writes nothing outside the output folder (Chromium's `~/Downloads` stays absent): the
/// browser refuses the download and the page stays as it was.
#[test]
fn a_page_that_keeps_reloading_blocks_and_downloads_stay_out_of_home() {
    let base = reload_and_download_site();
    let dir = tempfile::tempdir().expect("temp");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let d = dir.path();
    let write = |file: &str, steps: &str| {
        let path = d.join(file);
        std::fs::write(
            &path,
            format!("name: {file}\nstart: {base}/\nstep_timeout: 3s\nsteps:\n{steps}"),
        )
        .expect("scenario");
        path
    };
    let again = write("again.yaml", "  - open: /again\n  - expect: Welcome\n");
    let download = write(
        "download.yaml",
        "  - open: /\n  - click: Download your statement\n  - expect: Home\n",
    );
    let out = d.join("out");
    let output = nocall()
        .env("HOME", &home)
        .env("XDG_DOWNLOAD_DIR", home.join("Downloads"))
        .arg("run")
        .arg(&again)
        .arg(&download)
        .args(["--offline", "--format", "json", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    assert_eq!(output.status.code(), Some(1), "{report:#}");
    let s = scenario_result(&report, "again.yaml");
    assert_eq!(s["status"], "blocked", "{s:#}");
    let reason = s["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("the page keeps reloading"), "{reason}");
    let s = scenario_result(&report, "download.yaml");
    assert_eq!(s["status"], "completed", "{s:#}");
    assert!(!home.join("Downloads").exists(), "~/Downloads was made");
    let mut stack = vec![home.clone(), out.clone()];
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).into_iter().flatten().flatten() {
            let path = e.path();
            assert!(
                !path.to_string_lossy().contains("statement"),
                "downloaded: {}",
                path.display()
            );
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
}
