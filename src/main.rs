//! The `nocall` binary: parses the command line, calls the library, prints, exits.

mod cli;
mod progress;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command, CommonArgs, Ending, OutputFormat};
use nocall::diagnostic::Diagnostic;
use nocall::gate::Gate;
use nocall::pipeline::{self, Loaded};
use nocall::report::{self, Format, Report};
use nocall::runner::{self, BrowserSource, RunOptions};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The first Ctrl-C lets running journeys finish their step and writes what finished;
    // the second one leaves at once.
    let _ = ctrlc::set_handler(|| {
        if runner::interrupted() {
            std::process::exit(130);
        }
        eprintln!(
            "\nnocall: interrupted; finishing the current steps and writing what ran (Ctrl-C again to quit now)"
        );
        runner::interrupt();
    });
    let ending = match cli.command {
        Command::Run(args) => run(&args.paths, &args.common, None, None),
        Command::Demo(args) => demo(&args.common),
        Command::Links(args) => links(&args),
        Command::Explain(args) => explain(&args.id, &args.report),
        Command::Evidence(args) => evidence(&args.id, &args.report, &args.out),
        Command::Merge(args) => merge(&args.reports, args.out.as_deref(), args.table),
        Command::Baseline(cli::BaselineCommand::Write { file, report }) => {
            baseline_write(&file, &report)
        }
        Command::Portal(args) => serve_portal(args.port),
        Command::Convert(args) => convert(&args.recording, args.out.as_deref()),
    };
    // For benchmarks: this process's own peak memory, Chromium's processes apart.
    if std::env::var_os("NOCALL_PEAK_RSS").is_some() {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:")) {
            eprintln!(
                "nocall: peak RSS {}",
                line.trim_start_matches("VmHWM:").trim()
            );
        }
        // CPU time of nocall's own threads, live and ended (Chromium is not a waited-for
        // child yet, so it is not counted): utime + stime of /proc/self/stat, in ticks of
        // 10 ms (USER_HZ is 100 on Linux).
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        let after_name = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        let ticks: u64 = after_name
            .split_whitespace()
            .skip(11)
            .take(2)
            .filter_map(|n| n.parse::<u64>().ok())
            .sum();
        eprintln!("nocall: own CPU {} ms", ticks * 10);
    }
    ExitCode::from(cli::exit_code(ending))
}

fn print_diagnostics(errors: &[Diagnostic]) {
    for e in errors {
        eprintln!("error: {e}\n");
    }
    let files: HashSet<_> = errors.iter().map(|e| &e.file).collect();
    eprintln!(
        "nocall: {} problem(s) in {} file(s); nothing was run",
        errors.len(),
        files.len()
    );
}

fn run(
    paths: &[PathBuf],
    args: &CommonArgs,
    base_url: Option<url::Url>,
    portal: Option<&nocall_portal::Portal>,
) -> Ending {
    let env = nocall::scenario::process_env;
    let mut loaded = match pipeline::load(paths, args.config.as_deref(), &env) {
        Ok(l) => l,
        Err(errors) => {
            print_diagnostics(&errors);
            return Ending::BadInput;
        }
    };
    for w in loaded.scenarios.iter().flat_map(|s| &s.warnings) {
        eprintln!("warning: {w}\n");
    }
    if let Some(shard) = &args.shard {
        match cli::parse_shard(shard) {
            Ok((i, n)) => {
                loaded.scenarios = std::mem::take(&mut loaded.scenarios)
                    .into_iter()
                    .enumerate()
                    .filter(|(k, _)| k % n == i - 1)
                    .map(|(_, s)| s)
                    .collect();
            }
            Err(e) => {
                eprintln!("error: {e}");
                return Ending::BadInput;
            }
        }
    }
    let reports = match parse_report_specs(&args.reports, &args.out) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Ending::BadInput;
        }
    };
    let gate = match gate(args, &loaded) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return Ending::BadInput;
        }
    };
    let browser = match &args.browser_url {
        Some(url) => BrowserSource::Connect(url.clone()),
        None => {
            let chrome = std::env::var("CHROME").ok();
            match runner::browser::find(args.browser.as_deref(), chrome.as_deref()) {
                Ok(path) => BrowserSource::Launch {
                    path,
                    headful: args.headful,
                },
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ending::CouldNotRun;
                }
            }
        }
    };
    let options = RunOptions {
        browser,
        jobs: args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        out_dir: args.out.clone(),
        base_url: base_url.or_else(|| args.base_url.clone()),
        prefetch_check: args.prefetch_check,
        offline: args.offline,
    };
    let mailboxes = nocall::mail::Mailboxes::new();
    if let Err(e) = mailboxes.open_all(&loaded.scenarios) {
        eprintln!("error: cannot receive mail for {e}");
        return Ending::CouldNotRun;
    }
    // The demo's portal sends its mail to nocall's own listener.
    if let (Some(portal), Some(addr)) = (portal, mailboxes.smtp_addrs().first()) {
        portal.set_smtp_relay(Some(*addr));
    }
    let bars = progress::Bars::new(&loaded.scenarios);
    let outcome = match pipeline::run(&loaded, &options, &mailboxes, &bars) {
        Ok(o) => o,
        Err(e) => {
            bars.clear();
            eprintln!("error: {e}");
            return Ending::CouldNotRun;
        }
    };
    bars.clear();
    let report = &outcome.report;
    if let Err(e) = emit(report, args.format, &reports) {
        return e;
    }
    if std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true") {
        github_output(report);
    }
    eprintln!(
        "nocall: traces and screenshots in {}",
        options.out_dir.display()
    );
    if runner::nothing_ran(&outcome.traces) {
        eprintln!("nocall: no journey could run; see the reasons above");
        return Ending::CouldNotRun;
    }
    judge(&gate, report)
}

type ReportFile = (Box<dyn Format>, PathBuf);

/// The report on standard output, then in every file asked for.
fn emit(report: &Report, stdout: OutputFormat, files: &[ReportFile]) -> Result<(), Ending> {
    match stdout {
        OutputFormat::Table => print!("{}", report::table::Table.render(report)),
        OutputFormat::Json => print!("{}", report::json::Json.render(report)),
    }
    for (format, path) in files {
        if let Err(e) = pipeline::write_file(path, &format.render(report)) {
            eprintln!(
                "error: cannot write the {} report to {}: {e}",
                format.name(),
                path.display()
            );
            return Err(Ending::CouldNotRun);
        }
    }
    Ok(())
}

fn parse_report_specs(specs: &[String], out_dir: &Path) -> Result<Vec<ReportFile>, String> {
    specs
        .iter()
        .map(|s| parse_report_spec(s, out_dir))
        .collect()
}

fn parse_report_spec(spec: &str, out_dir: &Path) -> Result<ReportFile, String> {
    let (name, path) = spec.split_once('=').ok_or_else(|| {
        format!("--report wants FORMAT=PATH (such as json=out/nocall.json); got {spec:?}")
    })?;
    let format = report::format_in(name, out_dir)
        .filter(|_| report::FILE_FORMATS.contains(&name))
        .ok_or_else(|| {
            format!(
                "unknown report format {name:?}; the formats are {}",
                report::FILE_FORMATS.join(", ")
            )
        })?;
    if path.is_empty() {
        return Err(format!("--report {name}= needs a path"));
    }
    Ok((format, PathBuf::from(path)))
}

fn gate(args: &CommonArgs, loaded: &Loaded) -> Result<Gate, String> {
    let defaults = &loaded.config.gates;
    let baseline_file = args.baseline.clone().or_else(|| defaults.baseline.clone());
    let baseline = match baseline_file {
        Some(f) => Some(read_baseline(&f)?),
        None => None,
    };
    Ok(Gate {
        fail_on: args.fail_on.or(defaults.fail_on).unwrap_or_default(),
        max_calls: args.max_calls.or(defaults.max_calls),
        baseline,
    })
}

fn read_baseline(path: &Path) -> Result<HashSet<String>, String> {
    nocall::baseline::read(path).map_err(|e| e.to_string())
}

fn demo(args: &CommonArgs) -> Ending {
    let portal = match nocall_portal::Portal::start(Default::default()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot start the example portal: {e}");
            return Ending::CouldNotRun;
        }
    };
    let dir = match write_demo_scenarios() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot write the demo scenarios: {e}");
            return Ending::CouldNotRun;
        }
    };
    eprintln!("nocall: example portal at {}", portal.base_url());
    let base = url::Url::parse(&portal.base_url()).ok();
    let ending = run(&[dir.path().to_path_buf()], args, base, Some(&portal));
    drop(portal);
    ending
}

/// `nocall convert`: a recording as YAML, on standard output or in `out`.
fn convert(recording: &Path, out: Option<&Path>) -> Ending {
    use nocall::scenario::recorder;
    let source = match std::fs::read_to_string(recording) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", recording.display());
            return Ending::BadInput;
        }
    };
    let rec = match recorder::load_file(&source, recording, &nocall::scenario::process_env) {
        Ok(r) => r,
        Err(errors) => {
            print_diagnostics(&errors);
            return Ending::BadInput;
        }
    };
    for w in &rec.scenario.warnings {
        eprintln!("warning: {w}\n");
    }
    let name = recording
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (yaml, notes) = recorder::to_yaml(&rec, &name);
    for n in &notes {
        eprintln!("nocall: left as a comment for you to finish: {n}");
    }
    match out {
        Some(path) => {
            if let Err(e) = pipeline::write_file(path, &yaml) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return Ending::CouldNotRun;
            }
            eprintln!("nocall: wrote {}", path.display());
        }
        None => print!("{yaml}"),
    }
    Ending::Passed
}

fn serve_portal(port: u16) -> Ending {
    use nocall_portal::{Portal, PortalOptions};
    match Portal::start(PortalOptions {
        port,
        ..PortalOptions::default()
    }) {
        Ok(p) => {
            println!("example portal at {} (Ctrl-C to stop)", p.base_url());
            loop {
                std::thread::park();
            }
        }
        Err(e) => {
            eprintln!("error: cannot serve the example portal on port {port}: {e}");
            Ending::CouldNotRun
        }
    }
}

fn write_demo_scenarios() -> std::io::Result<tempfile::TempDir> {
    use nocall_portal::{CONFIG, PHONE_DIRECTORY, SCENARIOS};
    let dir = tempfile::Builder::new().prefix("nocall-demo-").tempdir()?;
    for (name, text) in SCENARIOS.iter().chain([&CONFIG, &PHONE_DIRECTORY]) {
        std::fs::write(dir.path().join(name), text)?;
    }
    Ok(dir)
}

fn explain(id: &str, path: &Path) -> Ending {
    let report = match read_report(path) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let Some(f) = report.finding(id) else {
        eprintln!("error: no finding {id} in {}", path.display());
        return Ending::BadInput;
    };
    print!("{}", nocall::explain::explain(f));
    Ending::Passed
}

/// Under GitHub Actions: annotations for the costliest findings, and the ranked table in
/// the job summary.
fn github_output(report: &Report) {
    print!("{}", report::github::annotations(report));
    if let Ok(path) = std::env::var("GITHUB_STEP_SUMMARY") {
        use std::io::Write;
        let summary = report::github::step_summary(report);
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(summary.as_bytes()));
        if let Err(e) = written {
            eprintln!("nocall: cannot write the job summary to {path}: {e}");
        }
    }
}

fn read_report(path: &Path) -> Result<Report, Ending> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        eprintln!(
            "error: cannot read {}: {e}\nhelp: run `nocall run` first, or give --report FILE",
            path.display()
        );
        Ending::BadInput
    })?;
    report::json::parse(&text).map_err(|e| {
        eprintln!("error: {} is not a nocall JSON report: {e}", path.display());
        Ending::BadInput
    })
}

fn evidence(id: &str, report_path: &Path, dest: &Path) -> Ending {
    let report = match read_report(report_path) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let run_dir = report_path.parent().unwrap_or(Path::new("."));
    match nocall::evidence::write_bundle(&report, id, run_dir, dest) {
        Ok(dir) => {
            println!("{}", dir.display());
            eprintln!(
                "nocall: evidence for {id} written to {}; attach the folder to the ticket",
                dir.display()
            );
            Ending::Passed
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ending::BadInput
        }
    }
}

fn merge(paths: &[PathBuf], out: Option<&Path>, table: bool) -> Ending {
    let mut reports = Vec::new();
    for p in paths {
        match read_report(p) {
            Ok(r) => reports.push(r),
            Err(e) => return e,
        }
    }
    let Some(merged) = report::merge::merge(reports) else {
        eprintln!("error: no reports to merge");
        return Ending::BadInput;
    };
    let json = report::json::Json.render(&merged);
    match out {
        Some(path) => {
            if let Err(e) = pipeline::write_file(path, &json) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return Ending::CouldNotRun;
            }
        }
        None => print!("{json}"),
    }
    if table {
        eprint!("{}", report::table::Table.render(&merged));
    }
    Ending::Passed
}

fn baseline_write(file: &Path, report_path: &Path) -> Ending {
    let report = match read_report(report_path) {
        Ok(r) => r,
        Err(e) => return e,
    };
    match nocall::baseline::write(&report, file) {
        Ok(()) => {
            eprintln!(
                "nocall: {} finding(s) recorded in {}; runs with --baseline {} fail only on new ones",
                report.findings.len(),
                file.display(),
                file.display()
            );
            Ending::Passed
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ending::CouldNotRun
        }
    }
}

fn links(args: &cli::LinksArgs) -> Ending {
    use nocall::crawl::{self, CrawlOptions};
    let env = nocall::scenario::process_env;
    let config_file = args.config.clone().or_else(|| {
        let here = PathBuf::from("nocall.yaml");
        here.exists().then_some(here)
    });
    let config = match &config_file {
        Some(f) => match nocall::config::Config::load(f, &env) {
            Ok(c) => c,
            Err(errors) => {
                print_diagnostics(&errors);
                return Ending::BadInput;
            }
        },
        None => nocall::config::Config::default(),
    };
    let reports = match parse_report_specs(&args.reports, &args.out) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Ending::BadInput;
        }
    };
    let mut link = nocall::probe::links::LinkOptions::for_config(&config);
    link.offline |= args.offline;
    if let Some(n) = args.concurrency {
        link.concurrency = n.max(1);
    }
    if let Some(n) = args.per_host {
        link.per_host = n.max(1);
    }
    let options = CrawlOptions {
        depth: args.depth,
        max_pages: args.max_pages,
        monthly_users: args.monthly_users,
        link,
    };
    let bar = progress::crawl_bar();
    let crawled = crawl::crawl_and_probe(&args.url, &options, &|pages, queued| {
        bar.set_length((pages + queued) as u64);
        bar.set_position(pages as u64);
    });
    bar.finish_and_clear();
    let (traces, link_results) = match crawled {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return Ending::CouldNotRun;
        }
    };
    let numbers = nocall::phones::numbers_of(&traces, &config);
    let probes = nocall::probe::Probes {
        links: link_results,
        phones: nocall::phones::lookup_all(&numbers, &config.phones, &env),
        ..Default::default()
    };
    let secrets = nocall::secrets::Secrets::new();
    let findings = pipeline::audit(&traces, &config, &probes, &secrets);
    let mut report = Report::new(&traces, &[], findings, &config.currency);
    report.scenarios.iter_mut().for_each(|s| s.trace = None);
    let _ = pipeline::write_file(
        &args.out.join("report.json"),
        &report::json::Json.render(&report),
    );
    if let Err(e) = emit(&report, args.format, &reports) {
        return e;
    }
    let pages: usize = traces.iter().map(|t| t.steps.len()).sum();
    eprintln!(
        "nocall: {pages} pages crawled, {} links checked",
        probes.links.len()
    );
    let gate = Gate {
        fail_on: args.fail_on,
        ..Gate::default()
    };
    judge(&gate, &report)
}

/// The gate's verdict on a report, each reason it failed said on stderr.
fn judge(gate: &Gate, report: &Report) -> Ending {
    let verdict = gate.evaluate(report);
    for r in &verdict.reasons {
        eprintln!("nocall: gate failed: {r}");
    }
    if verdict.failed {
        Ending::GateFailed
    } else {
        Ending::Passed
    }
}
