//! The whole run, stage by stage: load → run journeys (or crawl a site) → probe → audit →
//! rank → report.
//!
//! The binary calls these; tests call them too. A journey run ([`run`]) and a crawl run
//! ([`crawl_run`]) end in the same [`RunResult`]. Everything written to disk goes through
//! the secrets mask first. Nothing here reads the command line or picks an exit code.

use crate::eprintln;
use std::path::{Path, PathBuf};

use url::Url;

use crate::baseline::{self, BaselineError};
use crate::checks::{self, Audit};
use crate::config::{Config, FailOn, Gates};
use crate::diagnostic::Diagnostic;
use crate::finding::Finding;
use crate::gate::Gate;
use crate::mail::Mailboxes;
use crate::phones;
use crate::probe::crawl::{self, CrawlError, CrawlOptions};
use crate::probe::status::Probes;
use crate::probe::{self, ProbeOptions};
use crate::rank;
use crate::report::json::{self, Json};
use crate::report::spec::ReportFile;
use crate::report::{Format, Report};
use crate::runner::{self, BrowserError, BrowserSource, Observer, RunOptions};
use crate::scenario::{self, Env, Scenario};
use crate::secrets::Secrets;
use crate::trace::Trace;

/// Lets the first Ctrl-C end the run gently: running journeys finish their step and what
/// finished is written. The second one leaves at once.
pub fn stop_on_ctrl_c() {
    let _ = ctrlc::set_handler(|| {
        if runner::interrupted() {
            std::process::exit(130);
        }
        eprintln!(
            "\nnocall: interrupted; finishing the current steps and writing what ran (Ctrl-C again to quit now)"
        );
        runner::interrupt();
    });
}

/// Scenarios and settings, validated, before any browser starts.
pub struct Loaded {
    pub scenarios: Vec<Scenario>,
    pub secrets: Secrets,
    pub config: Config,
    /// `--allow-private`: the prober may request private and loopback addresses too (set
    /// by [`prepare`]).
    pub allow_private: bool,
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
            allow_private: false,
        }),
        (s, c) => {
            let mut errors = c.err().unwrap_or_default();
            errors.extend(s.err().unwrap_or_default());
            Err(errors)
        }
    }
}

impl Loaded {
    /// Keeps only shard `I/N` (`--shard`, 1-based): every N-th scenario from the I-th.
    pub(crate) fn keep_shard(&mut self, spec: &str) -> Result<(), String> {
        let (i, n) = parse_shard(spec)?;
        self.scenarios = std::mem::take(&mut self.scenarios)
            .into_iter()
            .enumerate()
            .filter(|(k, _)| k % n == i - 1)
            .map(|(_, s)| s)
            .collect();
        Ok(())
    }
}

/// `I/N` → (I, N), 1-based.
fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--shard wants I/N with 1 ≤ I ≤ N, such as 1/3; got {s:?}");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let i: usize = i.trim().parse().map_err(|_| bad())?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    if i == 0 || n == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

/// What `nocall run` (and `demo`) asks for besides the scenarios: the command line's
/// settings, before any is checked.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    /// `--shard I/N`.
    pub shard: Option<String>,
    /// `--report FORMAT=PATH`, each as given.
    pub reports: Vec<String>,
    /// The gate; each unset one falls back to `nocall.yaml`'s `gates:`.
    pub fail_on: Option<FailOn>,
    pub max_calls: Option<f64>,
    pub baseline: Option<PathBuf>,
    /// A running browser's DevTools address, else the executable to start.
    pub browser_url: Option<String>,
    pub browser: Option<PathBuf>,
    pub headful: bool,
    /// Journeys at once (default: one per CPU core).
    pub jobs: Option<usize>,
    pub out_dir: PathBuf,
    pub base_url: Option<Url>,
    pub prefetch_check: bool,
    pub offline: bool,
    /// `--allow-private`: the prober may request private and loopback addresses too.
    pub allow_private: bool,
}

/// A run ready to start: its settings checked, its browser found, its mailboxes open.
pub struct Prepared {
    pub options: RunOptions,
    pub gate: Gate,
    pub reports: Vec<ReportFile>,
    pub mailboxes: Mailboxes,
}

/// Why a command stopped before doing its work, said for the user.
#[derive(Debug, Clone, PartialEq)]
pub enum Stopped {
    /// Problems in the files given (scenarios, settings, a recording), each pointing into
    /// its file.
    Invalid(Vec<Diagnostic>),
    /// Something asked for is wrong: a shard, a report spec, the baseline, a file to read.
    BadInput(String),
    /// No browser, or mail cannot be received.
    CouldNotRun(String),
}

/// Checks a run's settings and gets what it needs ready, in the order the user reads the
/// problems: the shard (applied to `loaded`), the report files, the gate, the browser, the
/// mailboxes.
pub fn prepare(loaded: &mut Loaded, request: &RunRequest) -> Result<Prepared, Stopped> {
    use Stopped::{BadInput, CouldNotRun};
    if let Some(shard) = &request.shard {
        loaded.keep_shard(shard).map_err(BadInput)?;
    }
    let reports =
        crate::report::spec::parse_all(&request.reports, &request.out_dir).map_err(BadInput)?;
    crate::files::prepare(&request.out_dir).map_err(|e| BadInput(e.to_string()))?;
    loaded.allow_private = request.allow_private;
    let gate = gate(request, &loaded.config.gates).map_err(|e| BadInput(baseline_help(&e)))?;
    let browser = match &request.browser_url {
        Some(url) => BrowserSource::Connect(url.clone()),
        None => {
            let chrome = std::env::var("CHROME").ok();
            let path = runner::browser::find(request.browser.as_deref(), chrome.as_deref())
                .map_err(|e| CouldNotRun(e.to_string()))?;
            BrowserSource::Launch {
                path,
                headful: request.headful,
            }
        }
    };
    let options = RunOptions {
        browser,
        jobs: request
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        out_dir: request.out_dir.clone(),
        base_url: request.base_url.clone(),
        prefetch_check: request.prefetch_check,
        offline: request.offline,
        allow_private: request.allow_private,
        allowed_hosts: loaded.config.allowed_hosts.clone(),
        limits: loaded.config.limits,
    };
    let mailboxes = Mailboxes::with_limits(crate::mail::MailLimits::of(&loaded.config.limits));
    mailboxes
        .open_all(&loaded.scenarios)
        .map_err(|e| CouldNotRun(format!("cannot receive mail for {e}")))?;
    // JUnit's failures follow the gate the run's exit code follows.
    let reports = reports
        .into_iter()
        .map(|mut f| {
            if f.format.name() == "junit" {
                f.format = Box::new(crate::report::junit::Junit { gate: gate.clone() });
            }
            f
        })
        .collect();
    // Last, so a run refused above leaves the previous run's results where they were.
    crate::files::clear_previous(&request.out_dir).map_err(|e| CouldNotRun(e.to_string()))?;
    Ok(Prepared {
        options,
        gate,
        reports,
        mailboxes,
    })
}

/// A baseline error as said to the user; a missing file says how to make one (the first
/// CI run with `--baseline` meets this before the file is committed).
fn baseline_help(e: &BaselineError) -> String {
    match e {
        BaselineError::Read { path, source } if source.kind() == std::io::ErrorKind::NotFound => {
            format!(
                "{e}. Create it once on the main branch: run nocall without --baseline (it writes \
                 nocall-out/report.json), then `nocall baseline write {p} --report \
                 nocall-out/report.json`, and commit {p}",
                p = path.display()
            )
        }
        _ => e.to_string(),
    }
}

/// The gate of a run: each setting asked for, else its `gates:` default from `nocall.yaml`;
/// the baseline file read.
fn gate(request: &RunRequest, defaults: &Gates) -> Result<Gate, BaselineError> {
    let baseline = match request.baseline.as_deref().or(defaults.baseline.as_deref()) {
        Some(f) => Some(baseline::read(f)?),
        None => None,
    };
    Ok(Gate {
        fail_on: request.fail_on.or(defaults.fail_on).unwrap_or_default(),
        max_calls: request.max_calls.or(defaults.max_calls),
        baseline,
    })
}

/// What a run produced.
pub struct RunResult {
    pub report: Report,
    pub traces: Vec<Trace>,
    /// What the network answered, as the checks read it.
    pub probes: Probes,
}

/// Runs every journey, probes, audits and ranks, writes traces and `report.json` under the
/// output folder. Fails only when no browser could be started.
pub fn run(
    loaded: &Loaded,
    options: &RunOptions,
    mail: &Mailboxes,
    observer: &dyn Observer,
) -> Result<RunResult, BrowserError> {
    let phase = runner::profile::Phases::start();
    // The phone checks' metadata takes ~60 ms to load on first use; it loads while the
    // browser starts instead of after the journeys.
    std::thread::spawn(phones::warm_up);
    let (traces, mut closing) =
        runner::run_all_then_close(&loaded.scenarios, &loaded.secrets, options, mail, observer)?;
    phase.done("journeys");
    let trace_files = write_traces(&traces, &options.out_dir, &loaded.secrets);
    phase.done("traces written");
    let mut probe_options = ProbeOptions::for_config(&loaded.config, options.offline);
    probe_options.links.allow_private = loaded.allow_private;
    // Script-drawn pages are rendered in the journeys' browser, not a second one.
    probe::render::lend(closing.lend());
    let mut probes = probe::probe_all(&traces, &loaded.config, &probe_options);
    probe::render::reclaim();
    // What the mail sources dropped or refused for the run's limits is said in the report.
    probes.cut.extend(
        mail.cut()
            .into_iter()
            .map(|(kind, message)| probe::status::Cut {
                of: probe::status::CutOf::Mail,
                what: format!("{kind} messages past the run's limits"),
                message,
            }),
    );
    phase.done("links and phones probed");
    let findings = audit(&traces, &loaded.config, &probes, &loaded.secrets);
    let mut report = Report::new(&traces, &trace_files, findings, &loaded.config.currency);
    report.browser = traces.iter().find_map(|t| t.browser.clone());
    for sc in &mut report.scenarios {
        let Some(scenario) = loaded
            .scenarios
            .iter()
            .find(|s| s.name == sc.name && s.file.display().to_string() == sc.file)
        else {
            continue;
        };
        let planned: Vec<(usize, String)> = scenario
            .steps
            .iter()
            .map(|s| {
                let action = loaded.secrets.mask(&s.action.describe()).into_owned();
                (s.at.line, action)
            })
            .collect();
        sc.add_not_run(&planned);
    }
    report.model = Some(crate::report::Model::of(&loaded.config));
    if let Err(e) = crate::files::write_inside(
        &options.out_dir,
        "report.json",
        Json.render(&report).as_bytes(),
    ) {
        eprintln!("nocall: {e}");
    }
    phase.done("checked, ranked, report.json written");
    drop(closing);
    phase.done("browser closed");
    Ok(RunResult {
        report,
        traces,
        probes,
    })
}

/// What `nocall links` asks for: a site to crawl, how far, and how hard to knock.
#[derive(Debug, Clone)]
pub struct CrawlRequest {
    /// Where the crawl starts; only pages of its origin are crawled.
    pub start: Url,
    pub depth: usize,
    pub max_pages: usize,
    /// First-time users a month who browse the site (the ranking's reach).
    pub monthly_users: f64,
    /// Requests at once in all, and to one host; the probe's defaults when unset.
    pub concurrency: Option<usize>,
    pub per_host: Option<usize>,
    /// Check only the site's own links.
    pub offline: bool,
    /// `--allow-private`: the prober may request private and loopback addresses too.
    pub allow_private: bool,
    /// Where `report.json` goes.
    pub out_dir: PathBuf,
    /// `--render`: when a page of the site is rendered in Chromium before it is read.
    pub render: crawl::Render,
}

/// The settings of a crawl: `file`, else `nocall.yaml` in the current folder, else the
/// defaults.
pub fn crawl_config(file: Option<&Path>, env: Env<'_>) -> Result<Config, Vec<Diagnostic>> {
    let here = PathBuf::from("nocall.yaml");
    let file = file
        .map(Path::to_path_buf)
        .or_else(|| here.exists().then_some(here));
    match &file {
        Some(f) => Config::load(f, env),
        None => Ok(Config::default()),
    }
}

/// What a crawl covered, for its closing line: "12 pages crawled (3 rendered in Chromium),
/// 140 links checked".
pub fn crawl_summary(result: &RunResult) -> String {
    let pages: usize = result.traces.iter().map(|t| t.steps.len()).sum();
    let rendered = crate::probe::crawl::rendered_pages(&result.traces);
    format!(
        "{pages} pages crawled ({rendered} rendered in Chromium), {} links checked",
        result.probes.links.len()
    )
}

/// Crawls a site as one journey of plain HTTP page loads, then probes, audits and ranks as
/// a journey run does, and writes `report.json` (without traces: a crawl writes none).
/// `progress` is told (pages recorded, pages waiting) as pages come in.
pub fn crawl_run(
    request: &CrawlRequest,
    config: &Config,
    progress: &dyn Fn(usize, usize),
) -> Result<RunResult, CrawlError> {
    let mut link = ProbeOptions::for_config(config, request.offline).links;
    link.allow_private = request.allow_private;
    if let Some(n) = request.concurrency {
        link.concurrency = n.max(1);
    }
    if let Some(n) = request.per_host {
        link.per_host = n.max(1);
    }
    link.render = request.render;
    let options = CrawlOptions {
        depth: request.depth,
        max_pages: request.max_pages,
        monthly_users: request.monthly_users,
        link,
    };
    let crawled = crawl::crawl(&request.start, &options, progress)?;
    let traces = crawled.traces;
    let cut = crawled.cut;
    let probe_options = ProbeOptions {
        links: options.link,
        crawled: Some(crawled.session),
    };
    let mut probes = probe::probe_all(&traces, config, &probe_options);
    probes.cut.extend(cut);
    let findings = audit(&traces, config, &probes, &Secrets::new());
    let mut report = Report::new(&traces, &[], findings, &config.currency);
    report.scenarios.iter_mut().for_each(|s| s.trace = None);
    report.model = Some(crate::report::Model::of(config));
    if let Err(e) = crate::files::write_inside(
        &request.out_dir,
        "report.json",
        Json.render(&report).as_bytes(),
    ) {
        eprintln!("nocall: {e}");
    }
    Ok(RunResult {
        report,
        traces,
        probes,
    })
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
    rank::rank(findings, traces, config)
        .into_iter()
        .map(|f| masked(f, secrets))
        .collect()
}

/// The finding with its secrets masked; one that cannot be masked keeps only its id, kind
/// and figures (so gates still count it) and says why its words are gone.
fn masked(f: Finding, secrets: &Secrets) -> Finding {
    if secrets.is_empty() {
        return f;
    }
    let kept = Finding {
        severity: f.severity,
        blocking: f.blocking,
        on_path: f.on_path,
        step: f.step,
        est_calls_per_month: f.est_calls_per_month,
        est_cost_per_month: f.est_cost_per_month,
        id: f.id.clone(),
        ..Finding::new(f.kind, "", "", "")
    };
    secrets.mask_serialized(f).unwrap_or_else(|e| Finding {
        message: format!("this finding's details were left out: {e}"),
        ..kept
    })
}

fn write_traces(traces: &[Trace], out: &Path, secrets: &Secrets) -> Vec<Option<String>> {
    traces
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let rel = format!("traces/{}.json", runner::journey_dir(i, &t.scenario));
            let text = match secrets.masked_json_text(t) {
                Ok(text) => text,
                Err(e) => {
                    eprintln!("nocall: the trace {rel} was not written: {e}");
                    return None;
                }
            };
            if let Err(e) = crate::files::write_inside(out, &rel, text.as_bytes()) {
                eprintln!("nocall: the trace {rel} was not written: {e}");
                return None;
            }
            Some(rel)
        })
        .collect()
}

/// Writes the report in every file asked for (`--report`), stopping at the first that fails.
pub fn write_reports(report: &Report, files: &[ReportFile]) -> Result<(), String> {
    for f in files {
        write_file(&f.path, &f.format.render(report)).map_err(|e| {
            let (name, path) = (f.format.name(), f.path.display());
            format!("cannot write the {name} report to {path}: {e}")
        })?;
    }
    Ok(())
}

/// The JSON reports of sharded runs, read and merged into one.
///
/// Each report's traces are read from its folder: when every journey's can be, the checks
/// that compare journeys run again over all of them, so the merge is the whole run's.
pub fn merge_reports(paths: &[PathBuf]) -> Result<Report, String> {
    let reports = paths
        .iter()
        .map(|p| read_report(p))
        .collect::<Result<Vec<_>, _>>()?;
    let traces: Option<Vec<Trace>> = paths
        .iter()
        .zip(&reports)
        .flat_map(|(p, r)| {
            let dir = p.parent().unwrap_or(Path::new("."));
            r.scenarios
                .iter()
                .map(move |sc| crate::report::read_trace(dir, sc))
        })
        .collect();
    if traces.is_none() {
        eprintln!(
            "nocall: not every journey's trace could be read beside its report; findings that \
             compare journeys (label-inconsistent, instruction-mismatch) are the shards' own"
        );
    }
    crate::report::merge::merge(reports, traces).ok_or_else(|| "no reports to merge".to_string())
}

/// A JSON report written by an earlier run, read back.
pub fn read_report(path: &Path) -> Result<Report, String> {
    let text = crate::limits::read_text(path).map_err(|e| {
        format!(
            "cannot read {}: {e}\nhelp: run `nocall run` first, or give --report FILE",
            path.display()
        )
    })?;
    json::parse(&text).map_err(|e| format!("{} is not a nocall JSON report: {e}", path.display()))
}

/// A DevTools Recorder export, as a nocall scenario.
pub struct Converted {
    pub yaml: String,
    /// What the scenario may not do as the recording did.
    pub warnings: Vec<Diagnostic>,
    /// What was left as a comment for the user to finish.
    pub notes: Vec<String>,
}

/// `nocall convert`: reads a recording, with the `.nocall.yaml` beside it, and writes it
/// as a scenario.
pub fn convert(recording: &Path, env: Env<'_>) -> Result<Converted, Stopped> {
    use crate::scenario::recorder;
    let source = crate::limits::read_text(recording)
        .map_err(|e| Stopped::BadInput(format!("cannot read {}: {e}", recording.display())))?;
    let rec = recorder::load_file(&source, recording, env).map_err(Stopped::Invalid)?;
    let name = recording
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (yaml, notes) = recorder::to_yaml(&rec, &name);
    Ok(Converted {
        yaml,
        warnings: rec.scenario.warnings,
        notes,
    })
}

/// Adds `text` at the end of a file, creating it if need be (GitHub's job summary).
pub fn append_file(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
}

/// Writes a file the user named, creating its folder; a symlink at `path` is replaced, not
/// written through.
pub fn write_file(path: &Path, text: &str) -> std::io::Result<()> {
    crate::files::replace(path, text.as_bytes()).map_err(std::io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards() {
        assert_eq!(parse_shard("2/3"), Ok((2, 3)));
        assert!(parse_shard("0/3").is_err());
        assert!(parse_shard("4/3").is_err());
        assert!(parse_shard("x").is_err());
    }
}
