//! Shared by the integration tests: the example portal served for real on 127.0.0.1, and
//! the real `nocall` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use nocall_portal::{Portal, PortalOptions};

pub fn portal() -> Portal {
    Portal::start(PortalOptions::default()).expect("the example portal starts")
}

pub fn nocall() -> Command {
    let mut cmd = Command::cargo_bin("nocall").expect("the binary is built");
    cmd.env_remove("GITHUB_ACTIONS")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "200");
    cmd
}

pub fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

pub fn scenario(name: &str) -> PathBuf {
    scenarios().join(name)
}

/// Runs scenarios against `portal` with JSON on stdout; returns (exit code, report, out dir).
pub fn run_json(
    portal: &Portal,
    paths: &[PathBuf],
    extra: &[&str],
) -> (i32, serde_json::Value, tempfile::TempDir) {
    let out = tempfile::tempdir().expect("temp dir");
    let mut cmd = nocall();
    cmd.arg("run")
        .args(paths)
        .args([
            "--base-url",
            &portal.base_url(),
            "--format",
            "json",
            "--out",
        ])
        .arg(out.path())
        .args(extra);
    let output = cmd.output().expect("nocall runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), report, out)
}

/// Every finding of a JSON report: each row (root cause), then the symptoms listed under it.
pub fn all_findings(report: &serde_json::Value) -> Vec<&serde_json::Value> {
    let mut out = Vec::new();
    for f in report["findings"].as_array().into_iter().flatten() {
        out.push(f);
        out.extend(f["symptoms"].as_array().into_iter().flatten());
    }
    out
}

/// Every finding's id in a JSON report, rows and their symptoms, in report order.
pub fn finding_ids(report: &serde_json::Value) -> Vec<String> {
    all_findings(report)
        .into_iter()
        .filter_map(|f| f["id"].as_str().map(str::to_string))
        .collect()
}

/// The findings of `kind`, whether a row or a symptom listed under one.
pub fn findings<'a>(report: &'a serde_json::Value, kind: &str) -> Vec<&'a serde_json::Value> {
    all_findings(report)
        .into_iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

pub fn scenario_result<'a>(
    report: &'a serde_json::Value,
    name_part: &str,
) -> &'a serde_json::Value {
    report["scenarios"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|s| s["file"].as_str().is_some_and(|f| f.contains(name_part)))
        })
        .unwrap_or_else(|| panic!("no scenario {name_part} in {report:#}"))
}

pub fn trace(out: &Path, report: &serde_json::Value, name_part: &str) -> nocall::trace::Trace {
    let s = scenario_result(report, name_part);
    let rel = s["trace"].as_str().expect("trace path");
    let text = std::fs::read_to_string(out.join(rel)).expect("trace file");
    serde_json::from_str(&text).expect("trace parses")
}

/// Serves `router` on a listener already bound (so its address can go into the router's
/// state first), from a thread of its own: the code under test may run its own runtime.
pub fn serve(listener: std::net::TcpListener, router: axum::Router) {
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let _ = axum::serve(listener, router).await;
        });
    });
}
