//! `nocall check` through the binary: the run's loader without a browser, with the run's
//! messages; and the shell completions and man pages that ship with the binary.

mod common;

use common::nocall;

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn check_refuses_the_malformed_corpus_with_the_same_messages_as_run() {
    let check = nocall()
        .args(["check", "tests/malformed"])
        .output()
        .unwrap();
    let run = nocall()
        .args(["run", "tests/malformed", "--out"])
        .arg(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(2));
    assert_eq!(run.status.code(), Some(2));
    let (said, ran) = (stderr(&check), stderr(&run));
    assert_eq!(said, ran);
    let errors: Vec<&str> = said.lines().filter(|l| l.starts_with("error: ")).collect();
    assert!(errors.len() >= 47, "{said}");
    // Every problem at its file:line:column.
    let located = regex::Regex::new(r"^error: tests/malformed/[a-z-]+\.yaml:\d+:\d+: ").unwrap();
    for e in &errors {
        assert!(located.is_match(e), "{e}");
    }
    assert!(check.stdout.is_empty());
}

#[test]
fn check_passes_the_bundled_scenarios() {
    let output = nocall().arg("check").output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("valid: 10 scenario(s), scenarios/nocall.yaml"));
    let output = nocall()
        .args([
            "check",
            "scenarios/nocall.yaml",
            "tests/fixtures/recordings",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("recorded"), "{}", stderr(&output));
}

#[test]
fn check_refuses_a_broken_settings_file_at_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nocall.yaml");
    std::fs::write(&file, "currency: USD\nsynonyms: [Username, Login]\n").unwrap();
    let output = nocall().arg("check").arg(&file).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(&format!("{}:2:", file.display())),
        "{}",
        stderr(&output)
    );
}

#[test]
fn completions_and_man_pages_come_from_the_same_definitions() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let output = nocall().args(["completions", shell]).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{shell}");
        let script = String::from_utf8_lossy(&output.stdout);
        assert!(
            script.contains("nocall") && script.contains("letter"),
            "{shell}"
        );
    }
    let page = nocall().arg("manpage").output().unwrap();
    let page = String::from_utf8_lossy(&page.stdout);
    assert!(
        page.contains(".TH nocall 1") && page.contains("init"),
        "{page}"
    );
    let init = nocall().args(["manpage", "init"]).output().unwrap();
    let init = String::from_utf8_lossy(&init.stdout);
    assert!(
        init.contains("nocall\\-init") && init.contains("\\-\\-letter"),
        "{init}"
    );
    let unknown = nocall().args(["manpage", "nope"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        nocall()
            .args(["completions", "tcsh"])
            .output()
            .unwrap()
            .status
            .code()
            == Some(2)
    );
}

#[test]
fn an_email_step_without_mail_is_refused_at_load_by_check_and_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("confirm.yaml");
    std::fs::write(
        &file,
        "name: Confirm\nstart: http://127.0.0.1:1/\nsteps:\n  - open: /\n  - click: Send\n  - email: {to: pat@example.test}\n",
    )
    .unwrap();
    let check = nocall().arg("check").arg(&file).output().unwrap();
    let run = nocall()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    for output in [&check, &run] {
        let said = stderr(output);
        // Exit 2 before any browser starts (the portal's address is closed: a run that
        // started would fail there, with 3).
        assert_eq!(output.status.code(), Some(2), "{said}");
        assert!(
            said.contains(&format!(
                "{}:6:5: an `email` step needs `mail:`",
                file.display()
            )),
            "{said}"
        );
        assert!(
            said.contains("help: add at the top of the file `mail: {smtp:"),
            "{said}"
        );
        assert!(said.contains("imap:"), "{said}");
    }
}
