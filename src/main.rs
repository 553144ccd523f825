//! The `nocall` binary: parses the command line, calls the library, prints, exits.

mod cli;
mod progress;

use std::collections::HashSet;
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command, CommonArgs, Ending, OutputFormat};
use nocall::diagnostic::Diagnostic;
use nocall::gate::Gate;
use nocall::pipeline::{self, Stopped};
use nocall::report::spec::{self, ReportFile};
use nocall::report::{self, Format, Report};
use nocall::runner;
use nocall::scenario::process_env;
use nocall::{eprint, eprintln, print, println}; // via nocall::terminal: cleaned, pipe-safe

/// How a command ended; `Err` when it stopped early, having said why.
type Done = Result<Ending, Ending>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    pipeline::stop_on_ctrl_c();
    let done = match cli.command {
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
        Command::Init(args) => init(&args),
        Command::Check(args) => check(&args.paths, args.config.as_deref()),
        Command::Completions(args) => Ok(cli::completions(args.shell)),
        Command::Manpage(args) => cli::manpage(args.command.as_deref()).map_err(bad_input),
    };
    // For benchmarks: this process's own peak memory and CPU time, Chromium's apart.
    for line in runner::own_usage() {
        eprintln!("nocall: {line}");
    }
    ExitCode::from(cli::exit_code(done.unwrap_or_else(|e| e)))
}

/// For `map_err`: says what is wrong with what was asked (exit 2).
fn bad_input(e: impl Display) -> Ending {
    eprintln!("error: {e}");
    Ending::BadInput
}

/// For `map_err`: says why nocall could not do it (exit 3).
fn could_not_run(e: impl Display) -> Ending {
    eprintln!("error: {e}");
    Ending::CouldNotRun
}

/// For `map_err`: says why the command stopped before its work.
fn stopped(e: Stopped) -> Ending {
    match e {
        Stopped::Invalid(errors) => diagnosed(errors),
        Stopped::BadInput(e) => bad_input(e),
        Stopped::CouldNotRun(e) => could_not_run(e),
    }
}

/// For `map_err`: says every problem found in the input files; nothing runs.
fn diagnosed(errors: Vec<Diagnostic>) -> Ending {
    for e in &errors {
        eprintln!("error: {e}\n");
    }
    let files = errors.iter().map(|e| &e.file).collect::<HashSet<_>>().len();
    let problems = errors.len();
    eprintln!("nocall: {problems} problem(s) in {files} file(s); nothing was run");
    Ending::BadInput
}

fn run(
    paths: &[PathBuf],
    args: &CommonArgs,
    base_url: Option<url::Url>,
    portal: Option<&nocall_portal::Portal>,
) -> Done {
    let mut loaded =
        pipeline::load(paths, args.config.as_deref(), &process_env).map_err(diagnosed)?;
    for w in loaded.scenarios.iter().flat_map(|s| &s.warnings) {
        eprintln!("warning: {w}\n");
    }
    if let Some(token) = nocall::scenario::unique_used() {
        // no secret: find the run's names later
        eprintln!("nocall: {{unique}} is {token} in this run");
    }
    let ready = pipeline::prepare(&mut loaded, &args.run_request(base_url)).map_err(stopped)?;
    let mailboxes = &ready.mailboxes;
    // The demo's portal sends its mail to nocall's own listener.
    if let (Some(portal), Some(addr)) = (portal, mailboxes.smtp_addrs().first()) {
        portal.set_smtp_relay(Some(*addr));
    }
    let bars = progress::Bars::new(&loaded.scenarios);
    let result = pipeline::run(&loaded, &ready.options, mailboxes, &bars);
    bars.clear();
    let result = result.map_err(could_not_run)?;
    let report = &result.report;
    emit(report, args.format, &ready.reports)?;
    if std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true") {
        github_output(report);
    }
    eprintln!(
        "nocall: traces and screenshots in {}",
        ready.options.out_dir.display()
    );
    if runner::nothing_ran(&result.traces) {
        eprintln!("nocall: no journey could run; see the reasons above");
        return Err(Ending::CouldNotRun);
    }
    Ok(apply_gate(&ready.gate, report))
}

/// The report on standard output, then in every file asked for.
fn emit(report: &Report, stdout: OutputFormat, files: &[ReportFile]) -> Result<(), Ending> {
    match stdout {
        OutputFormat::Table => print!("{}", report::table::Table.render(report)),
        OutputFormat::Json => print!("{}", report::json::Json.render(report)),
    }
    pipeline::write_reports(report, files).map_err(could_not_run)
}

fn demo(args: &CommonArgs) -> Done {
    let portal = nocall_portal::Portal::start(Default::default())
        .map_err(|e| could_not_run(format!("cannot start the example portal: {e}")))?;
    let dir = write_demo_scenarios()
        .map_err(|e| could_not_run(format!("cannot write the demo scenarios: {e}")))?;
    eprintln!("nocall: example portal at {}", portal.base_url());
    let base = url::Url::parse(&portal.base_url()).ok();
    run(&[dir.path().to_path_buf()], args, base, Some(&portal))
}

/// `nocall convert`: a recording as YAML, on standard output or in `out`.
fn convert(recording: &Path, out: Option<&Path>) -> Done {
    let converted = pipeline::convert(recording, &process_env).map_err(stopped)?;
    for w in &converted.warnings {
        eprintln!("warning: {w}\n");
    }
    for n in &converted.notes {
        eprintln!("nocall: left as a comment for you to finish: {n}");
    }
    deliver(&converted.yaml, out)
}

/// `nocall init`: the draft, on standard output or in `out`; nothing is written on failure.
fn init(args: &cli::InitArgs) -> Done {
    let draft = nocall::init::draft(&args.request(), &process_env).map_err(stopped)?;
    for n in &draft.notes {
        eprintln!("nocall: {n}");
    }
    deliver(&draft.yaml, args.out.as_deref())
}

/// A command's one output, on standard output or in the file asked for.
fn deliver(text: &str, out: Option<&Path>) -> Done {
    match out {
        Some(path) => {
            let failed = |e| could_not_run(format!("cannot write {}: {e}", path.display()));
            pipeline::write_file(path, text).map_err(failed)?;
            eprintln!("nocall: wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(Ending::Passed)
}

/// `nocall check`: the run's loader alone; its problems said as `run` says them.
fn check(paths: &[PathBuf], config: Option<&Path>) -> Done {
    let checked = nocall::validate::check(paths, config, &process_env).map_err(diagnosed)?;
    for w in &checked.warnings {
        eprintln!("warning: {w}\n");
    }
    eprintln!("nocall: {checked}");
    Ok(Ending::Passed)
}

fn serve_portal(port: u16) -> Done {
    let options = nocall_portal::PortalOptions {
        port,
        ..Default::default()
    };
    let why = format!("cannot serve the example portal on port {port}");
    let p =
        nocall_portal::Portal::start(options).map_err(|e| could_not_run(format!("{why}: {e}")))?;
    println!("example portal at {} (Ctrl-C to stop)", p.base_url());
    loop {
        std::thread::park();
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

fn explain(id: &str, path: &Path) -> Done {
    let report = pipeline::read_report(path).map_err(bad_input)?;
    let f = report
        .finding(id)
        .ok_or_else(|| format!("no finding {id} in {}", path.display()))
        .map_err(bad_input)?;
    print!("{}", nocall::explain::explain(f));
    Ok(Ending::Passed)
}

/// Under GitHub Actions: annotations for the costliest findings, and the ranked table in
/// the job summary.
fn github_output(report: &Report) {
    print!("{}", report::github::annotations(report));
    if let Ok(path) = std::env::var("GITHUB_STEP_SUMMARY") {
        let summary = report::github::step_summary(report);
        if let Err(e) = pipeline::append_file(Path::new(&path), &summary) {
            eprintln!("nocall: cannot write the job summary to {path}: {e}");
        }
    }
}

fn evidence(id: &str, report_path: &Path, dest: &Path) -> Done {
    let report = pipeline::read_report(report_path).map_err(bad_input)?;
    let run_dir = report_path.parent().unwrap_or(Path::new("."));
    let dir = nocall::evidence::write_bundle(&report, id, run_dir, dest).map_err(bad_input)?;
    let shown = dir.display();
    println!("{shown}");
    eprintln!("nocall: evidence for {id} written to {shown}; attach the folder to the ticket");
    Ok(Ending::Passed)
}

fn merge(paths: &[PathBuf], out: Option<&Path>, table: bool) -> Done {
    let merged = pipeline::merge_reports(paths).map_err(bad_input)?;
    let json = report::json::Json.render(&merged);
    deliver(&json, out)?;
    if table {
        eprint!("{}", report::table::Table.render(&merged));
    }
    Ok(Ending::Passed)
}

fn baseline_write(file: &Path, report_path: &Path) -> Done {
    let report = pipeline::read_report(report_path).map_err(bad_input)?;
    nocall::baseline::write(&report, file).map_err(could_not_run)?;
    let (n, f) = (report.findings.len(), file.display());
    eprintln!(
        "nocall: {n} finding(s) recorded in {f}; runs with --baseline {f} fail only on new ones"
    );
    Ok(Ending::Passed)
}

/// `nocall links`: a crawl run, reported as a journey run is.
fn links(args: &cli::LinksArgs) -> Done {
    let config = pipeline::crawl_config(args.config.as_deref(), &process_env).map_err(diagnosed)?;
    let reports = spec::parse_all(&args.reports, &args.out).map_err(bad_input)?;
    nocall::files::prepare(&args.out).map_err(bad_input)?;
    let bar = progress::crawl_bar();
    let crawled = pipeline::crawl_run(&args.crawl_request(), &config, &|pages, queued| {
        bar.set_length((pages + queued) as u64);
        bar.set_position(pages as u64);
    });
    bar.finish_and_clear();
    let result = crawled.map_err(could_not_run)?;
    emit(&result.report, args.format, &reports)?;
    eprintln!("nocall: {}", pipeline::crawl_summary(&result));
    let gate = Gate {
        fail_on: args.fail_on,
        ..Gate::default()
    };
    Ok(apply_gate(&gate, &result.report))
}

/// The gate's result on a report, each reason it failed said on stderr.
fn apply_gate(gate: &Gate, report: &Report) -> Ending {
    let result = gate.evaluate(report);
    for r in &result.reasons {
        eprintln!("nocall: gate failed: {r}");
    }
    if result.failed {
        Ending::GateFailed
    } else {
        Ending::Passed
    }
}
