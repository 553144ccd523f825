//! The whole run, stage by stage: load → run journeys → audit → rank → report.
//!
//! The binary calls these; tests call them too. Everything written to disk goes through the
//! secrets mask first.

use std::path::{Path, PathBuf};

use crate::checks::{self, Audit};
use crate::config::Config;
use crate::diagnostic::Diagnostic;
use crate::finding::Finding;
use crate::mail::Mailboxes;
use crate::phones;
use crate::probe::{MailLinkStatus, Probes, links};
use crate::rank;
use crate::report::{Format, Report, json::Json};
use crate::runner::{self, BrowserError, Observer, RunOptions};
use crate::scenario::{self, Env, Scenario};
use crate::secrets::Secrets;
use crate::trace::{Outcome as StepOutcome, Trace};

/// Scenarios and settings, validated, before any browser starts.
pub struct Loaded {
    pub scenarios: Vec<Scenario>,
    pub secrets: Secrets,
    pub config: Config,
}

/// Loads the scenarios under `paths` and the `nocall.yaml` that goes with them (`config`
/// when given). Every problem in every file is returned together.
pub fn load(
    paths: &[PathBuf],
    config: Option<&Path>,
    env: Env<'_>,
) -> Result<Loaded, Vec<Diagnostic>> {
    let files = scenario::discover(paths).map_err(|d| vec![d])?;
    if files.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(vec![
            Diagnostic::new(
                shown.join(", "),
                0,
                0,
                "no scenario files (*.yaml, *.yml, Recorder *.json) found here",
            )
            .help("give a scenario file or a folder that holds some; `nocall demo` shows examples"),
        ]);
    }
    let config_file = config
        .map(Path::to_path_buf)
        .or_else(|| Config::discover(paths));
    let config = match &config_file {
        Some(f) => Config::load(f, env),
        None => Ok(Config::default()),
    };
    let scenarios = scenario::load_files(&files, env);
    match (scenarios, config) {
        (Ok((scenarios, secrets)), Ok(config)) => Ok(Loaded {
            scenarios,
            secrets,
            config,
        }),
        (s, c) => {
            let mut errors = c.err().unwrap_or_default();
            errors.extend(s.err().unwrap_or_default());
            Err(errors)
        }
    }
}

/// What a run produced.
pub struct Outcome {
    pub report: Report,
    pub traces: Vec<Trace>,
}

/// Runs every journey, audits and ranks, writes traces and `report.json` under the output
/// folder. Fails only when no browser could be started.
pub fn run(
    loaded: &Loaded,
    options: &RunOptions,
    mail: &Mailboxes,
    observer: &dyn Observer,
) -> Result<Outcome, BrowserError> {
    let phase = runner::profile::Phases::start();
    // The phone checks' metadata takes ~60 ms to load on first use; it loads while the
    // browser starts instead of after the journeys.
    std::thread::spawn(phones::warm_up);
    let (traces, closing) =
        runner::run_all_then_close(&loaded.scenarios, &loaded.secrets, options, mail, observer)?;
    phase.done("journeys");
    let trace_files = write_traces(&traces, &options.out_dir, &loaded.secrets);
    phase.done("traces written");
    let probes = probe(&traces, &loaded.config, options.offline);
    phase.done("links and phones probed");
    let findings = audit(&traces, &loaded.config, &probes, &loaded.secrets);
    let mut report = Report::new(&traces, &trace_files, findings, &loaded.config.currency);
    report.browser = traces.iter().find_map(|t| t.browser.clone());
    let _ = write_file(&options.out_dir.join("report.json"), &Json.render(&report));
    phase.done("checked, ranked, report.json written");
    drop(closing);
    phase.done("browser closed");
    Ok(Outcome { report, traces })
}

/// What the checks need from the network, asked after every journey has run (so a
/// one-time link is never opened before its journey opens it).
pub fn probe(traces: &[Trace], config: &Config, offline: bool) -> Probes {
    let numbers = phones::numbers_of(traces, config);
    let mut link_options = links::LinkOptions::for_config(config);
    link_options.offline |= offline;
    let mut targets = links::targets_of(traces);
    // Every link of every captured message, except the one its journey followed (checked by
    // following it, and perhaps one-time).
    let followed: std::collections::HashSet<&str> = traces
        .iter()
        .flat_map(|t| t.steps.iter().filter_map(|s| s.followed.as_deref()))
        .collect();
    let mailed: Vec<String> = traces
        .iter()
        .flat_map(|t| {
            t.mails
                .iter()
                .flat_map(|m| m.links.iter().map(|l| l.href.clone()))
        })
        .filter(|h| !followed.contains(h.as_str()))
        .collect();
    for href in &mailed {
        targets.push((
            href.clone(),
            links::Origin {
                page: String::new(),
                via: links::Via::Link,
            },
        ));
    }
    let mut probes = Probes {
        links: links::probe_urls(&targets, &link_options),
        phones: phones::lookup_all(&numbers, &config.phones, &scenario::process_env),
        ..Probes::default()
    };
    for href in mailed {
        let Some(status) = probes.links.get(&href) else {
            continue;
        };
        if status.verdict == links::Verdict::Skipped {
            continue;
        }
        let unverified = status.verdict == links::Verdict::Unverified;
        let entry = MailLinkStatus {
            ok: status.ok,
            detail: status.detail.clone(),
            scanner_broke_it: false,
            unverified,
        };
        probes.mail_links.insert(href, entry);
    }
    // The link a journey followed from a message was checked by following it.
    for t in traces {
        for s in &t.steps {
            let Some(href) = &s.followed else { continue };
            let (ok, detail) = match &s.outcome {
                StepOutcome::Done => (true, String::new()),
                StepOutcome::Failed { reason, .. } => (false, reason.clone()),
            };
            probes.mail_links.insert(
                href.clone(),
                MailLinkStatus {
                    ok,
                    detail,
                    scanner_broke_it: s.prefetched && !ok,
                    unverified: false,
                },
            );
        }
    }
    probes
}

/// Checks and ranking over recorded traces: no browser, no network.
pub fn audit(
    traces: &[Trace],
    config: &Config,
    probes: &Probes,
    secrets: &Secrets,
) -> Vec<Finding> {
    let findings = checks::audit(&Audit {
        traces,
        config,
        probes,
    });
    let findings = rank::rank(findings, traces, config);
    if secrets.is_empty() {
        return findings;
    }
    findings
        .into_iter()
        .map(|f| {
            let Ok(mut v) = serde_json::to_value(&f) else {
                return f;
            };
            secrets.mask_json(&mut v);
            serde_json::from_value(v).unwrap_or(f)
        })
        .collect()
}

fn write_traces(traces: &[Trace], out: &Path, secrets: &Secrets) -> Vec<Option<String>> {
    traces
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let rel = format!("traces/{}.json", runner::journey_dir(i, &t.scenario));
            let mut v = serde_json::to_value(t).ok()?;
            secrets.mask_json(&mut v);
            let text = serde_json::to_string_pretty(&v).ok()?;
            write_file(&out.join(&rel), &text).ok()?;
            Some(rel)
        })
        .collect()
}

/// Writes a file, creating its folder.
pub fn write_file(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)
}
