//! The scenario and `nocall.yaml` loaders over a corpus of malformed files
//! (`tests/malformed/`): each must be refused with the exact `line:column` and a message
//! a user can act on. Library API only: no binary, no browser. Also: no input panics.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use nocall::config::Config;
use nocall::diagnostic::Diagnostic;
use nocall::scenario::load_str;

const CORPUS: &str = "tests/malformed";

fn env(name: &str) -> Option<String> {
    (name == "PORTAL_PIN").then(|| "7391".to_string())
}

/// Files named `config-*.yaml` are `nocall.yaml` files; the rest are scenarios.
fn diagnostics(path: &Path) -> Vec<Diagnostic> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.starts_with("config-") {
        Config::load(path, &env).err().unwrap_or_default()
    } else {
        let source = std::fs::read_to_string(path).unwrap();
        load_str(&source, path, &env).err().unwrap_or_default()
    }
}

/// File → every problem it must produce, in order: `line:column` and a phrase of the
/// message or help.
const EXPECTED: &[(&str, &[(&str, &str)])] = &[
    ("unknown-top-key.yaml", &[("3:1", "did you mean `steps`?")]),
    ("unknown-step.yaml", &[("9:5", "did you mean `click`?")]),
    (
        "step-with-two-keys.yaml",
        &[("9:5", "put `- ` before `click`")],
    ),
    (
        "fill-fields-not-indented.yaml",
        &[("9:5", "indent the fields of `fill:`")],
    ),
    ("missing-steps.yaml", &[("1:1", "missing `steps`")]),
    ("missing-name.yaml", &[("1:1", "missing `name`")]),
    (
        "start-without-scheme.yaml",
        &[("2:8", "e.g. `http://127.0.0.1:8080/login`")],
    ),
    ("start-ftp.yaml", &[("2:8", "must be an http or https URL")]),
    (
        "monthly-users-negative.yaml",
        &[("3:16", "0 or more), found -40")],
    ),
    (
        "monthly-users-per-month.yaml",
        &[("3:16", "write a plain number, e.g. `400`")],
    ),
    (
        "holds-as-list.yaml",
        &[(
            "4:3",
            "expected a map of hold names to values, found a list",
        )],
    ),
    (
        "hold-not-scalar.yaml",
        &[("4:15", "a value for the hold `Owner Name`, found a list")],
    ),
    (
        "fill-not-a-map.yaml",
        &[("8:11", "a map of field labels to values for `fill`")],
    ),
    (
        "fill-unquoted-braces.yaml",
        &[("9:17", "put it in quotes: \"{Leader PIN}\"")],
    ),
    (
        "expect-unknown-subkey.yaml",
        &[("9:14", "did you mean `text`?")],
    ),
    ("expect-list.yaml", &[("8:13", "found a list")]),
    ("email-missing-to.yaml", &[("8:5", "`email` needs `to`")]),
    (
        "email-bad-within.yaml",
        &[("10:15", "`500ms`, `2s`, `1.5s` or `1m`")],
    ),
    ("wait-without-unit.yaml", &[("8:11", "add a unit: `2s`")]),
    (
        "tags-not-a-list.yaml",
        &[("3:7", "write a list, e.g. `[smoke]`")],
    ),
    ("mail-smtp-and-maildir.yaml", &[("5:3", "not both")]),
    (
        "mail-smtp-without-port.yaml",
        &[("4:9", "`smtp` needs `host:port`")],
    ),
    (
        "step-timeout-bad.yaml",
        &[("3:15", "expected `step_timeout`, found `fast`")],
    ),
    ("yaml-colon-in-value.yaml", &[("8:18", "must be quoted")]),
    ("yaml-tab.yaml", &[("2:7", "use spaces")]),
    ("empty.yaml", &[("0:0", "the scenario file is empty")]),
    (
        "top-level-list.yaml",
        &[("1:1", "expected a map of scenario keys")],
    ),
    (
        "duplicate-key.yaml",
        &[("10:7", "duplicate key `Owner Name`")],
    ),
    (
        "undefined-hold.yaml",
        &[("9:18", "did you mean `{Leader PIN}`?")],
    ),
    (
        "unset-env.yaml",
        &[("4:11", "environment variable `PORTAL_TOKEN` is not set")],
    ),
    ("unclosed-brace.yaml", &[("9:20", "unclosed `{`")]),
    (
        "unknown-in-click.yaml",
        &[("8:13", "`{unknown}` is not allowed here")],
    ),
    (
        "hold-defined-below.yaml",
        &[("4:20", "move `Owner Name` up")],
    ),
    ("steps-empty.yaml", &[("3:1", "`steps` is empty")]),
    (
        "step-is-plain-text.yaml",
        &[("8:5", "write the step as `click: …`")],
    ),
    (
        "open-not-http.yaml",
        &[("8:11", "`open` needs a path or an http(s) URL")],
    ),
    (
        "many-problems.yaml",
        &[
            ("1:7", "found empty text"),
            ("3:16", "found `many`"),
            ("8:5", "did you mean `fill`?"),
            ("12:7", "did you mean `absent`?"),
            ("13:11", "found `soon`"),
        ],
    ),
    (
        "config-unknown-key.yaml",
        &[("2:1", "did you mean `currency`?")],
    ),
    ("config-cost-zero.yaml", &[("1:16", "a number above 0")]),
    (
        "config-model-unknown-kind.yaml",
        &[("3:10", "did you mean `dead-link`?")],
    ),
    (
        "config-model-out-of-range.yaml",
        &[("2:17", "a number from 0 to 1), found 20")],
    ),
    (
        "config-fail-on.yaml",
        &[("2:12", "did you mean `blocker`?")],
    ),
    ("config-region.yaml", &[("2:11", "two-letter region")]),
    (
        "config-lookup-url.yaml",
        &[("3:10", "must contain `{number}`")],
    ),
    (
        "config-synonyms-flat.yaml",
        &[("1:11", "`synonyms: [[Username, Login]]`")],
    ),
    ("config-directory-missing.yaml", &[("3:14", "no such file")]),
    ("config-yaml-tab-indent.yaml", &[("3:1", "use spaces")]),
];

#[test]
fn every_malformed_file_is_refused_at_the_right_place() {
    let mut failures = Vec::new();
    for (name, expected) in EXPECTED {
        let path = Path::new(CORPUS).join(name);
        let got = diagnostics(&path);
        let rendered: Vec<String> = got.iter().map(ToString::to_string).collect();
        if got.len() != expected.len() {
            failures.push(format!(
                "{name}: expected {} problems, got:\n{}",
                expected.len(),
                rendered.join("\n")
            ));
            continue;
        }
        for ((at, phrase), (d, text)) in expected.iter().zip(got.iter().zip(&rendered)) {
            let location = format!("{}:{at}", path.display());
            if d.location() != location || !text.contains(phrase) {
                failures.push(format!(
                    "{name}: expected {location} with {phrase:?}, got:\n{text}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn the_table_covers_the_whole_corpus() {
    let mut on_disk: Vec<String> = std::fs::read_dir(CORPUS)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut in_table: Vec<String> = EXPECTED.iter().map(|(n, _)| n.to_string()).collect();
    in_table.sort();
    assert_eq!(on_disk, in_table);
    let configs = in_table.iter().filter(|n| n.starts_with("config-")).count();
    assert!(configs >= 5 && in_table.len() - configs >= 20);
}

#[test]
fn diagnostics_carry_the_source_line_and_help() {
    let d = diagnostics(&Path::new(CORPUS).join("unknown-step.yaml")).remove(0);
    assert_eq!(d.source_line.as_deref(), Some("  - clik: Log in"));
    assert_eq!(d.width, 4);
    assert_eq!(d.help.as_deref(), Some("did you mean `click`?"));
}

#[test]
fn discover_then_load_files_reports_problems_of_every_file() {
    let files = nocall::scenario::discover(&[PathBuf::from(CORPUS)]).unwrap();
    assert!(files.iter().any(|f| f.ends_with("unknown-step.yaml")));
    let scenario_files: Vec<PathBuf> = files
        .into_iter()
        .filter(|f| {
            !f.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("config-")
        })
        .collect();
    let errors = nocall::scenario::load_files(&scenario_files, &env).unwrap_err();
    for file in &scenario_files {
        assert!(
            errors.iter().any(|d| &d.file == file),
            "no problem reported for {}",
            file.display()
        );
    }
}

const VALID_SCENARIO: &str = r#"name: First-time login with the conference card
start: http://127.0.0.1:8080/      # base URL
monthly_users: 400
tags: [login, smoke]
step_timeout: 5s
mail: {smtp: 127.0.0.1:2525}
holds:
  Owner Name: Pat Doe
  Owner Number: 5550100
  Leader PIN: "{env:PORTAL_PIN}"
  Email: pat@example.test
steps:
  - open: /login
  - fill:
      Owner Name: "{Owner Name}"    # what the user types
      Password: "{Leader PIN}"
      Web PIN: "{unknown}"
  - choose:
      Plan: "{{Basic}}"
  - click: Log in
  - expect: {text: Welcome, url: /home, absent: Error}
  - email: {to: "{Email}", follow: Confirm, within: 1m}
  - wait: 500ms
"#;

const VALID_CONFIG: &str = r#"cost_per_call: 15
currency: EUR
synonyms:
  - [Username, User name]
phones:
  region: US
  lookup: {url: "https://lookup.example/{number}"}
model:
  chance.label-mismatch.blocking: 0.5
  uncertainty.high: 2
allowed_hosts: [example.com]
gates: {fail_on: any, max_calls: 25, baseline: base.json}
"#;

#[test]
fn the_valid_examples_load() {
    let (scenario, secrets) = load_str(VALID_SCENARIO, Path::new("s.yaml"), &env).unwrap();
    assert_eq!(scenario.steps.len(), 7);
    assert_eq!(scenario.holds[1].value.text, "5550100");
    assert!(scenario.holds[2].value.secret);
    assert!(!secrets.mask("PIN 7391").contains("7391"));
    let config = Config::load_str(VALID_CONFIG, Path::new("nocall.yaml"), &env).unwrap();
    assert_eq!(config.currency, "EUR");
}

/// Every diagnostic points inside the text it came from.
fn check_no_panic(input: &str, what: &str, load: &dyn Fn(&str) -> Result<(), Vec<Diagnostic>>) {
    let result = catch_unwind(AssertUnwindSafe(|| load(input)));
    let Ok(result) = result else {
        panic!("{what} panicked on:\n{input:?}");
    };
    let lines = input.lines().count().max(1);
    for d in result.err().unwrap_or_default() {
        assert!(
            d.line <= lines + 1,
            "{what}: line {} beyond the input:\n{input:?}\n{d}",
            d.line
        );
        assert!(
            d.line == 0 || d.column >= 1,
            "{what}: column 0 on line {}:\n{input:?}",
            d.line
        );
    }
}

fn truncations_and_mutations(
    valid: &str,
    what: &str,
    load: &dyn Fn(&str) -> Result<(), Vec<Diagnostic>>,
) {
    for (i, _) in valid.char_indices() {
        check_no_panic(&valid[..i], what, load);
    }
    let bytes = valid.as_bytes();
    let swaps = b":{}[]-\t\"'&*!%#|>? \n,";
    for i in 0..bytes.len() {
        for &b in swaps {
            let mut mutated = bytes.to_vec();
            mutated[i] = b;
            if let Ok(text) = String::from_utf8(mutated) {
                check_no_panic(&text, what, load);
            }
            let mut inserted = bytes.to_vec();
            inserted.insert(i, b);
            if let Ok(text) = String::from_utf8(inserted) {
                check_no_panic(&text, what, load);
            }
        }
    }
}

#[test]
fn no_input_panics() {
    let scenario = |s: &str| load_str(s, Path::new("s.yaml"), &env).map(|_| ());
    truncations_and_mutations(VALID_SCENARIO, "scenario loader", &scenario);
    let config = |s: &str| Config::load_str(s, Path::new("nocall.yaml"), &env).map(|_| ());
    truncations_and_mutations(VALID_CONFIG, "config loader", &config);
    for odd in [
        "\u{feff}name: x",
        "\0",
        "*a",
        "&a [*a]",
        "? [a]\n: b",
        "!!int x: 1",
        "{",
        "---\n---",
        "\u{2028}",
    ] {
        check_no_panic(odd, "scenario loader", &scenario);
    }
}
