//! `{unique}`: a registration journey run twice against the example portal, whose sign-up
//! refuses a user name or e-mail already registered (as real ones do).

mod common;

use std::path::Path;

use common::{nocall, portal};

const JOURNEY: &str = r#"
name: Register a fresh web account
start: http://127.0.0.1:8080/
steps:
  - open: /confer/register
  - fill:
      Owner Number: "5550100"
      Web PIN: "4321"
      Choose a User Name: "LOGIN"
      Email: "EMAIL"
      Choose a password: Harbour-Lights-26
  - click: Create account
  - expect: Your web account is ready
"#;

/// Runs the journey file once; returns (exit code, the journey's status, stderr, trace text).
fn run_once(portal: &nocall_portal::Portal, file: &Path) -> (i32, String, String, String) {
    let out = tempfile::tempdir().expect("temp dir");
    let output = nocall()
        .args([
            "run",
            "--format",
            "json",
            "--base-url",
            &portal.base_url(),
            "--out",
        ])
        .arg(out.path())
        .arg(file)
        .output()
        .expect("nocall runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
    let status = report["scenarios"][0]["status"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let trace = report["scenarios"][0]["trace"]
        .as_str()
        .and_then(|rel| std::fs::read_to_string(out.path().join(rel)).ok())
        .unwrap_or_default();
    (
        output.status.code().unwrap_or(-1),
        status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
        trace,
    )
}

fn journey(dir: &Path, login: &str, email: &str) -> std::path::PathBuf {
    let file = dir.join("register.yaml");
    std::fs::write(
        &file,
        JOURNEY.replace("LOGIN", login).replace("EMAIL", email),
    )
    .expect("write scenario");
    file
}

#[test]
fn two_runs_of_one_registration_both_complete_with_unique() {
    let portal = portal();
    let dir = tempfile::tempdir().expect("temp dir");

    // Without `{unique}` the second run meets "already registered": the portal really
    // refuses a duplicate, so the test below means something.
    let fixed = journey(dir.path(), "samfixed", "sam.fixed@example.test");
    let (_, first, _, _) = run_once(&portal, &fixed);
    assert_eq!(first, "completed");
    let (_, second, _, trace) = run_once(&portal, &fixed);
    assert_eq!(second, "blocked");
    assert!(trace.contains("already registered"), "{trace}");

    let fresh = journey(dir.path(), "sam{unique}", "qa+{unique}@example.test");
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let (code, status, stderr, trace) = run_once(&portal, &fresh);
        assert_eq!(
            (code, status.as_str()),
            (0, "completed"),
            "{stderr}\n{trace}"
        );
        let token = stderr
            .lines()
            .find_map(|l| l.strip_prefix("nocall: {unique} is "))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_else(|| panic!("the token is shown: {stderr}"))
            .to_string();
        // Shown in the trace as typed (it is no secret), the same in both fields.
        assert!(trace.contains(&format!("sam{token}")), "{trace}");
        assert!(
            trace.contains(&format!("qa+{token}@example.test")),
            "{trace}"
        );
        tokens.push(token);
    }
    assert_ne!(tokens[0], tokens[1]);
}
