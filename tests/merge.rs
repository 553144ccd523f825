//! Sharded runs merged are the whole run, and one fix is one row: through the real binary,
//! real Chromium and the example portal served on 127.0.0.1.

mod common;

use std::path::{Path, PathBuf};

use common::{nocall, portal, run_json, scenarios};
use serde_json::Value;

/// What may differ between two runs of the same suite and is not the ranking's: where the
/// run's own SMTP sink listened, screenshot and trace paths (numbered within a shard),
/// timings and the browser's version.
fn comparable(mut report: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for key in [
                    "screenshot",
                    "trace",
                    "duration_ms",
                    "browser",
                    "tool_version",
                ] {
                    map.remove(key);
                }
                map.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            Value::String(s) => *s = smtp_port_out(s),
            _ => {}
        }
    }
    walk(&mut report);
    report
}

/// `(reading SMTP 127.0.0.1:41234)` without the port each run's mail sink picked.
fn smtp_port_out(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("SMTP 127.0.0.1:") {
        let (before, after) = rest.split_at(at + "SMTP 127.0.0.1:".len());
        out.push_str(before);
        rest = after.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

fn ids(report: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for f in report["findings"].as_array().into_iter().flatten() {
        out.push(f["id"].as_str().unwrap_or_default().to_string());
        for s in f["symptoms"].as_array().into_iter().flatten() {
            out.push(s["id"].as_str().unwrap_or_default().to_string());
        }
    }
    out
}

fn explain(id: &str, report: &Path) -> String {
    let out = nocall()
        .args(["explain", id, "--report"])
        .arg(report)
        .output()
        .expect("nocall explain runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    smtp_port_out(&String::from_utf8_lossy(&out.stdout))
}

fn merge(reports: &[PathBuf], into: &Path) -> Value {
    let out = nocall()
        .arg("merge")
        .args(reports)
        .arg("--out")
        .arg(into)
        .output()
        .expect("nocall merge runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(into).expect("merged report")).expect("JSON")
}

#[test]
fn the_bundled_suite_whole_and_merged_from_two_or_three_shards_is_the_same_report() {
    let portal = portal();
    let (_, whole, whole_dir) = run_json(&portal, &[scenarios()], &[]);
    let whole_path = whole_dir.path().join("report.json");
    let whole_ids = ids(&whole);
    assert!(
        whole_ids.len() > 10,
        "the suite finds its traps: {whole_ids:?}"
    );
    let merged_dir = tempfile::tempdir().expect("temp dir");
    for n in [2, 3] {
        let shards: Vec<tempfile::TempDir> = (1..=n)
            .map(|i| run_json(&portal, &[scenarios()], &["--shard", &format!("{i}/{n}")]).2)
            .collect();
        let paths: Vec<PathBuf> = shards
            .iter()
            .map(|d| d.path().join("report.json"))
            .collect();
        let into = merged_dir.path().join(format!("merged-{n}.json"));
        let merged = merge(&paths, &into);
        assert_eq!(
            ids(&merged),
            whole_ids,
            "{n} shards: the same rows and symptoms, in order"
        );
        assert_eq!(
            comparable(merged["summary"].clone()),
            comparable(whole["summary"].clone()),
            "{n} shards"
        );
        assert_eq!(
            comparable(merged["findings"].clone()),
            comparable(whole["findings"].clone()),
            "{n} shards: every figure of every finding"
        );
        for id in &whole_ids {
            assert_eq!(
                explain(id, &into),
                explain(id, &whole_path),
                "{n} shards, {id}"
            );
        }
    }
}

#[test]
fn the_demo_tells_the_dead_details_page_as_one_row_with_its_symptoms() {
    let out_dir = tempfile::tempdir().expect("temp dir");
    let out = nocall()
        .args(["demo", "--format", "json", "--out"])
        .arg(out_dir.path())
        .output()
        .expect("nocall demo runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let rows = report["findings"].as_array().expect("findings");
    // Every finding about the dead page is under one row, led by the dead link.
    let about_details: Vec<&Value> = rows
        .iter()
        .filter(|f| {
            let own = f["url"]
                .as_str()
                .unwrap_or_default()
                .ends_with("/mail/update-details")
                || f["element"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("/mail/update-details");
            let under = f["symptoms"].as_array().into_iter().flatten().any(|s| {
                s["url"]
                    .as_str()
                    .unwrap_or_default()
                    .ends_with("/mail/update-details")
            });
            own || under
        })
        .collect();
    assert_eq!(about_details.len(), 1, "one row: {about_details:#?}");
    let row = about_details[0];
    assert_eq!(row["kind"], "dead-link");
    let mut kinds: Vec<&str> = row["symptoms"]
        .as_array()
        .expect("symptoms")
        .iter()
        .filter_map(|s| s["kind"].as_str())
        .collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        ["dead-email-link", "journey-blocked", "journey-blocked"]
    );
    for s in row["symptoms"].as_array().into_iter().flatten() {
        assert!(s["occurrences"][0]["step"].as_u64().is_some(), "{s}");
        assert_eq!(s["symptom_of"], row["id"]);
    }
    // Rows add up to the summary: no stuck user counts twice.
    let sum: f64 = rows
        .iter()
        .filter_map(|f| f["est_calls_per_month"].as_f64())
        .sum();
    let total = report["summary"]["est_calls_per_month"]
        .as_f64()
        .expect("total");
    assert!((sum - total).abs() < 0.05, "rows {sum} vs summary {total}");
    // Ranked by the saving, and the saving is no more than the row's calls.
    let savings: Vec<f64> = rows
        .iter()
        .filter_map(|f| f["est_calls_saved_if_fixed"].as_f64())
        .collect();
    assert!(savings.windows(2).all(|w| w[0] >= w[1]), "{savings:?}");
    let saved = row["est_calls_saved_if_fixed"].as_f64().expect("saving");
    assert!(saved > 0.0 && saved <= row["est_calls_per_month"].as_f64().unwrap_or_default());
    // `explain` shows the arithmetic of the saving.
    let id = row["id"].as_str().expect("id");
    let text = explain(id, &out_dir.path().join("report.json"));
    assert!(
        text.contains("Symptoms (the same fix removes them"),
        "{text}"
    );
    assert!(
        text.contains(&format!("= {saved:.2} calls a month")),
        "the saving's arithmetic: {text}"
    );
    assert!(
        text.contains(&format!("the run's {total:.2} calls a month − ")),
        "{text}"
    );
    // And a symptom's `explain` sends the reader to its root cause.
    let symptom = row["symptoms"][0]["id"].as_str().expect("symptom id");
    assert!(
        explain(symptom, &out_dir.path().join("report.json"))
            .contains(&format!("A symptom of {id}"))
    );
}
