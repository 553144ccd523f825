//! Fuzzing the scenario and `nocall.yaml` parsers: no input panics, and every refusal points
//! at a position inside the input. 10 000+ generated inputs per run, from three generators:
//! random bytes, YAML-shaped token soup, and mutations of valid files.

use std::path::Path;

use nocall::config::Config;
use nocall::scenario::load_str;
use proptest::prelude::*;
use proptest::test_runner::{Config as Runner, TestRunner};

const SCENARIO: &str = include_str!("../tests/fuzz_seed/scenario.yaml");
const CONFIG: &str = include_str!("../tests/fuzz_seed/nocall.yaml");

fn env(name: &str) -> Option<String> {
    (name == "PORTAL_PIN").then(|| "7391".to_string())
}

fn check(source: &str) -> Result<(), TestCaseError> {
    // YAML also breaks lines at a lone \r.
    let lines = source.matches(['\n', '\r']).count() + 2;
    for (what, result) in [
        (
            "scenario",
            load_str(source, Path::new("f.yaml"), &env).err(),
        ),
        (
            "config",
            Config::load_str(source, Path::new("nocall.yaml"), &env).err(),
        ),
    ] {
        for d in result.unwrap_or_default() {
            prop_assert!(
                d.line <= lines,
                "{what}: line {} beyond the input: {d}",
                d.line
            );
            prop_assert!(!d.message.is_empty(), "{what}: empty message");
            // Rendering a diagnostic must not panic either.
            let _ = d.to_string();
        }
    }
    Ok(())
}

fn tokens() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "name",
        "start",
        "steps",
        "holds",
        "fill",
        "click",
        "open",
        "expect",
        "email",
        "wait",
        "choose",
        "monthly_users",
        "mail",
        "smtp",
        "maildir",
        "tags",
        "step_timeout",
        "reach",
        "text",
        "url",
        "absent",
        "to",
        "subject",
        "follow",
        "within",
        "cost_per_call",
        "synonyms",
        "phones",
        "model",
        "gates",
        ":",
        ": ",
        "- ",
        "\n",
        "\n  ",
        "\n    ",
        "{",
        "}",
        "{{",
        "}}",
        "{env:",
        "{unknown}",
        "{Owner Name}",
        "\"",
        "'",
        "[",
        "]",
        ",",
        "#",
        "&a",
        "*a",
        "!!str",
        "|",
        ">",
        "---",
        "...",
        "\t",
        "10s",
        "-1",
        "1e999",
        "0.5",
        "http://h/",
        "é",
        "\u{0}",
        "~",
        "null",
        "true",
        "%",
    ]);
    prop::collection::vec(token, 0..60).prop_map(|t| t.concat())
}

fn mutation(seed: &'static str) -> impl Strategy<Value = String> {
    (0..seed.len(), 0..4u8, any::<u8>(), 1..40usize).prop_map(move |(at, op, byte, len)| {
        let mut bytes = seed.as_bytes().to_vec();
        let at = at.min(bytes.len());
        match op {
            0 => bytes.truncate(at),
            1 => bytes.insert(at, byte),
            2 => {
                let end = (at + len).min(bytes.len());
                bytes.drain(at..end);
            }
            _ => {
                let end = (at + len).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn run(strategy: impl Strategy<Value = String>, cases: u32) {
    let mut runner = TestRunner::new(Runner {
        cases,
        failure_persistence: None,
        ..Runner::default()
    });
    if let Err(e) = runner.run(&strategy, |s| check(&s)) {
        panic!("{e}");
    }
}

#[test]
fn random_text_never_panics() {
    run(".{0,400}", 3_000);
}

#[test]
fn yaml_shaped_token_soup_never_panics() {
    run(tokens(), 4_000);
}

#[test]
fn mutated_valid_files_never_panic() {
    run(mutation(SCENARIO), 3_000);
    run(mutation(CONFIG), 1_000);
}

#[test]
fn the_seeds_are_valid() {
    assert!(load_str(SCENARIO, Path::new("s.yaml"), &env).is_ok());
    assert!(Config::load_str(CONFIG, Path::new("nocall.yaml"), &env).is_ok());
}
