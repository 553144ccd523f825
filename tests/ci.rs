//! What a CI job meets, through the binary: the first run with `--baseline` before the file
//! exists, and an output folder that still holds the last run's results.

mod common;

use common::{nocall, portal, scenario};

#[test]
fn a_missing_baseline_says_how_to_create_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = nocall()
        .arg("run")
        .arg(scenario("clean-library-login.yaml"))
        .args(["--baseline", "no-such-baseline.json", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(
        said.contains("cannot read the baseline no-such-baseline.json"),
        "{said}"
    );
    assert!(
        said.contains(
            "`nocall baseline write no-such-baseline.json --report nocall-out/report.json`"
        ),
        "{said}"
    );
    assert!(said.contains("commit no-such-baseline.json"), "{said}");
}

#[test]
fn a_run_removes_what_the_last_run_wrote_and_nothing_else() {
    let portal = portal();
    let out = tempfile::tempdir().unwrap();
    let o = out.path();
    // The last run's results, under names a run writes, and the user's own files.
    for (rel, text) in [
        ("traces/07-an-old-journey.json", "{}"),
        ("screenshots/07-an-old-journey/step-01.png", "png"),
        ("report.json", "{}"),
        ("notes.txt", "mine"),
        ("traces/keep-me.json", "mine"),
    ] {
        let path = o.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let output = nocall()
        .arg("run")
        .arg(scenario("clean-library-login.yaml"))
        .args(["--base-url", &portal.base_url(), "--out"])
        .arg(o)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.code().is_some_and(|c| c <= 1), "{said}");
    assert!(!o.join("traces/07-an-old-journey.json").exists());
    assert!(!o.join("screenshots/07-an-old-journey").exists());
    assert!(o.join("notes.txt").exists() && o.join("traces/keep-me.json").exists());
    // This run's own results are there.
    let names: Vec<String> = std::fs::read_dir(o.join("traces"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n.starts_with("01-")), "{names:?}");
    let report = std::fs::read_to_string(o.join("report.json")).unwrap();
    assert!(report.contains("\"schema\""), "{report}");
}
