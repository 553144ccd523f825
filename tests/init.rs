//! `nocall init` through the binary, against the example portal in real Chromium: each
//! draft is run as it was written, and a failed `init` writes nothing.

mod common;

use std::path::{Path, PathBuf};

use common::{findings, nocall, portal, run_json};

/// The BridgeLine welcome card as Pat holds it (seed-style: the names the card prints).
const CARD: &str = "BridgeLine welcome card\n\nDear Pat Doe,\n\n\
                    Owner Name:      Pat Doe\nOwner Number:    5550100\n\
                    Conference Code: 884422\nLeader PIN:      7391\n\n\
                    Dial in and enter your conference code.\n";

/// Northwind's welcome letter: a table and a sentence.
const NORTHWIND: &str = "Welcome to Northwind.\n\n| Full name | Pat Doe |\n\
                         | Date of birth | 14/07/1986 |\n\n\
                         We will write to you at home: your postcode is LS1 4AP.\n\
                         Email: pat@example.test\n";

/// Runs `nocall init URL [--letter]` writing to a file in `dir`; returns (exit code, the
/// draft's path, stderr).
fn init(dir: &Path, url: &str, letter: Option<&str>) -> (i32, PathBuf, String) {
    let out = dir.join("draft.yaml");
    let mut cmd = nocall();
    cmd.arg("init")
        .arg(url)
        .arg("--out")
        .arg(&out)
        .current_dir(dir);
    if let Some(text) = letter {
        let file = dir.join("letter.txt");
        std::fs::write(&file, text).unwrap();
        cmd.arg("--letter").arg(&file);
    }
    let output = cmd.output().expect("nocall runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().unwrap_or(-1), out, stderr)
}

/// Drafts for `path` and runs the draft unedited; returns the draft and the run's report.
fn draft_and_run(path: &str, letter: Option<&str>) -> (String, serde_json::Value) {
    let portal = portal();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}{path}", portal.base_url());
    let (code, draft, stderr) = init(dir.path(), &url, letter);
    assert_eq!(code, 0, "{stderr}");
    let yaml = std::fs::read_to_string(&draft).expect("the draft is written");
    let (code, report, _out) = run_json(&portal, &[draft], &[]);
    assert!(
        code == 0 || code == 1,
        "the draft must run as written: {code}\n{yaml}"
    );
    let journey = &report["scenarios"][0];
    assert_eq!(journey["status"], "completed", "{yaml}\n{journey:#}");
    (yaml, report)
}

#[test]
fn the_conference_site_with_the_card_finds_the_password_trap() {
    let (yaml, report) = draft_and_run("/confer/", Some(CARD));
    // The letter's own names, and a field it does not give left unknown.
    assert!(yaml.contains("Leader PIN: \"7391\""), "{yaml}");
    assert!(yaml.contains("Owner Name: \"{Owner Name}\""), "{yaml}");
    assert!(yaml.contains("Web PIN: \"{unknown}\""), "{yaml}");
    assert!(yaml.contains("The letter gives no Web PIN"), "{yaml}");
    assert!(yaml.contains("- click: Create account"), "{yaml}");
    let mismatch = findings(&report, "label-mismatch");
    assert!(
        mismatch.iter().any(|f| {
            let m = f["message"].as_str().unwrap_or_default();
            m.contains("Password") && m.contains("Leader PIN")
        }),
        "{report:#}"
    );
    assert!(!findings(&report, "unknown-info").is_empty());
}

#[test]
fn the_conference_site_without_a_letter_names_holds_after_the_labels() {
    let (yaml, report) = draft_and_run("/confer/", None);
    assert!(yaml.contains("Password: \"{Password}\""), "{yaml}");
    assert!(yaml.contains("Rename"), "{yaml}");
    assert!(!yaml.contains("{unknown}"), "{yaml}");
    // Holds named after the labels agree with them: no mismatch to report.
    assert!(findings(&report, "label-mismatch").iter().all(|f| {
        !f["message"]
            .as_str()
            .unwrap_or_default()
            .contains("they try their")
    }));
}

#[test]
fn the_card_site_with_and_without_a_letter() {
    let (yaml, report) = draft_and_run("/card/", Some(NORTHWIND));
    assert!(yaml.contains("Full name: \"{Full name}\""), "{yaml}");
    assert!(yaml.contains("postcode: LS1 4AP"), "{yaml}");
    assert!(yaml.contains("Card number: \"{unknown}\""), "{yaml}");
    assert!(yaml.contains("- click: Set up online access"), "{yaml}");
    let unknown = findings(&report, "unknown-info");
    assert!(
        unknown.iter().any(|f| f["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Card number")),
        "{report:#}"
    );

    let (yaml, _) = draft_and_run("/card/", None);
    assert!(yaml.contains("Card number: \"{Card number}\""), "{yaml}");
}

#[test]
fn a_page_without_forms_is_bad_input_and_writes_nothing() {
    let portal = portal();
    let dir = tempfile::tempdir().unwrap();
    let (code, draft, stderr) = init(dir.path(), &format!("{}/", portal.base_url()), None);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no form to fill"), "{stderr}");
    assert!(!draft.exists());
}

#[test]
fn a_url_that_does_not_answer_could_not_run_and_writes_nothing() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let (code, draft, stderr) = init(dir.path(), &format!("http://127.0.0.1:{port}/"), None);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(!draft.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn an_unreadable_letter_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let output = nocall()
        .args(["init", "http://127.0.0.1:1/", "--letter"])
        .arg(dir.path().join("missing.txt"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read the letter"));
}
