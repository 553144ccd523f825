//! Links on signed-in pages are judged with what the journey knew (issue 18): a section of
//! the page itself against the page as the journey recorded it, and a link of the own site
//! with the journey's own cookies, never as a stranger the site sends to its sign-in page.
//! Through the real binary, in real Chromium, against the bundled portal's members' area.

mod common;

use std::path::{Path, PathBuf};

use common::{findings, nocall, portal};
use nocall_portal::{Portal, SHELF_VALUE};

/// A journey that signs in to the library, opens the members' area and, when `leave`,
/// signs out at the end (which ends the session its cookies hold).
fn scenario(dir: &Path, name: &str, leave: bool) -> PathBuf {
    let sign_out = if leave {
        "  - click: Sign out\n  - expect: Riverside Library\n"
    } else {
        ""
    };
    let text = format!(
        "name: {name}\n\
         start: http://127.0.0.1:8080/\n\
         monthly_users: 300\n\
         holds:\n  Library card number: \"21234000123456\"\n  PIN: \"1357\"\n\
         steps:\n\
         \x20 - open: /clean/login\n\
         \x20 - fill:\n      Library card number: \"{{Library card number}}\"\n      PIN: \"{{PIN}}\"\n\
         \x20 - click: Sign in\n\
         \x20 - expect: Welcome back\n\
         \x20 - open: /clean/loans\n\
         \x20 - expect: On loan\n\
         {sign_out}"
    );
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, text).expect("scenario written");
    path
}

/// Runs one scenario; (report, stdout and stderr, output folder).
fn run(portal: &Portal, scenario: &Path) -> (serde_json::Value, String, tempfile::TempDir) {
    let out = tempfile::tempdir().expect("temp dir");
    let output = nocall()
        .arg("run")
        .arg(scenario)
        .args(["--base-url", &portal.base_url(), "--format", "json"])
        .args(["--fail-on", "none", "--out"])
        .arg(out.path())
        .output()
        .expect("nocall runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
    (report, format!("{stdout}\n{stderr}"), out)
}

/// Every file under `dir`, as bytes (screenshots included).
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("folder readable").flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push((path.clone(), std::fs::read(&path).expect("file readable")));
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn journey_ok(report: &serde_json::Value) {
    let status = &report["scenarios"][0]["status"];
    assert_eq!(status, "completed", "{report:#}");
}

#[test]
fn signed_in_links_are_checked_with_the_session_and_its_cookies_are_written_nowhere() {
    let portal = portal();
    let dir = tempfile::tempdir().expect("temp dir");
    let (report, said, out) = run(&portal, &scenario(dir.path(), "members-stay", false));
    journey_ok(&report);
    // "Skip to main content" (#main, which the sign-in page lacks) and "Renewal dates"
    // (a page only the session and the members' cookie open, with #due): both work for the
    // signed-in member, so neither is a finding of any kind.
    let dead = findings(&report, "dead-link");
    assert!(dead.is_empty(), "{dead:#?}");
    // The cookie the members' area set is in no file the run wrote, nor in what it said.
    let files = files_under(out.path());
    assert!(
        files.iter().any(|(p, _)| p.ends_with("report.json")),
        "{files:?}"
    );
    for (path, bytes) in &files {
        assert!(
            !contains(bytes, SHELF_VALUE),
            "{} holds the cookie's value",
            path.display()
        );
    }
    assert!(!said.contains(SHELF_VALUE), "{said}");
}

#[test]
fn a_session_the_journey_ended_makes_its_links_warnings_never_dead() {
    let portal = portal();
    let dir = tempfile::tempdir().expect("temp dir");
    let (report, _, _out) = run(&portal, &scenario(dir.path(), "members-leave", true));
    journey_ok(&report);
    let dead = findings(&report, "dead-link");
    // The journey signed out: its cookies no longer open the members' area, and the site
    // sends its links ("Renewal dates", "Your account") to its sign-in page. A person
    // signed in reaches them: warnings at no calls, never dead links.
    assert!(
        dead.iter().any(|f| f["element"]
            .as_str()
            .unwrap_or_default()
            .contains("/clean/renewals#due")),
        "{dead:#?}"
    );
    for f in &dead {
        assert_eq!(f["severity"], "warning", "{f:#}");
        assert_eq!(f["est_calls_per_month"], 0.0, "{f:#}");
        let message = f["message"].as_str().unwrap_or_default();
        assert!(message.contains("needs the signed-in session"), "{message}");
    }
    // The skip link, and the page's link to itself, are judged on the page as the journey
    // saw it, whatever the site says now.
    for own in ["#main", "→ /clean/loans"] {
        assert!(
            dead.iter()
                .all(|f| !f["element"].as_str().unwrap_or_default().ends_with(own)),
            "{own}: {dead:#?}"
        );
    }
}
