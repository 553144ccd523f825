//! The command line: clap definitions, the library requests they make, and exit codes;
//! nothing else.
//!
//! Every subcommand is one struct whose doc comments are its `--help`. The exit code is
//! decided in [`exit_code`] and nowhere else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use nocall::config::FailOn;
use nocall::pipeline::{CrawlRequest, RunRequest};

/// nocall walks a web portal as a first-time user does, in a real browser, with only what
/// that user holds, and reports each trap with its evidence and its price in support calls.
#[derive(Debug, Parser)]
#[command(name = "nocall", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios, print the ranked table, write reports.
    Run(RunArgs),
    /// Start the bundled example portal on a free local port and run the bundled scenarios
    /// against it.
    Demo(DemoArgs),
    /// Crawl one site (same origin, bounded depth) without a scenario and check its links and
    /// phone numbers.
    Links(LinksArgs),
    /// Show how one finding's estimate was computed, from the last run's report.
    Explain(ExplainArgs),
    /// Write the evidence bundle for one finding: a Markdown bug report, the screenshots of
    /// the steps around it, the HTML excerpt and the trace, ready to attach to a ticket.
    Evidence(EvidenceArgs),
    /// Merge JSON reports from sharded runs (`--shard I/N`) into one.
    Merge(MergeArgs),
    /// Record or inspect the baseline of known findings that `--baseline` excuses.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Serve the bundled example portal until interrupted, to try scenarios against it by hand.
    Portal(PortalArgs),
    /// Write a Chrome DevTools Recorder export (JSON) as a nocall YAML scenario, with fields
    /// and buttons named by their accessible names instead of CSS selectors. Holds,
    /// `monthly_users` and tags come from `<recording>.nocall.yaml` beside it.
    Convert(ConvertArgs),
    /// Draft a first scenario: open URL in Chromium, follow its sign-in, registration and
    /// "forgot" links one click deep, and fill every form found with what the user's letter
    /// gives, under the letter's own names.
    Init(InitArgs),
    /// Check scenarios, recordings and nocall.yaml as `run` loads them, without a browser
    /// (for pre-commit hooks and a fast first CI step). Exit 0 when all are valid, 2 if not.
    Check(CheckArgs),
    /// Print a shell completion script: `nocall completions bash > ~/.local/share/bash-completion/completions/nocall`.
    Completions(CompletionsArgs),
    /// Print a man page (roff), from the same definitions as `--help`: `nocall manpage >
    /// nocall.1`, or one command's: `nocall manpage run > nocall-run.1`.
    Manpage(ManpageArgs),
}

#[derive(Debug, Args)]
pub struct ManpageArgs {
    /// The command whose page to print (nocall(1) when omitted).
    pub command: Option<String>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The portal's home or sign-in page.
    pub url: url::Url,
    /// The text of the welcome letter, card or e-mail the user holds (`Customer Number:
    /// 12345678`, "your PIN is 4412", a two-column table).
    #[arg(long, value_name = "FILE")]
    pub letter: Option<PathBuf>,
    /// Where the draft goes (standard output when omitted). Nothing is written on failure.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The settings file whose `synonyms` match labels to holds [default: nocall.yaml here].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The Chromium to start (else $CHROME, else chromium, chromium-browser, google-chrome on PATH).
    #[arg(long, value_name = "PATH")]
    pub browser: Option<PathBuf>,
}

impl InitArgs {
    pub fn request(&self) -> nocall::init::InitRequest {
        nocall::init::InitRequest {
            url: self.url.clone(),
            letter: self.letter.clone(),
            config: self.config.clone(),
            browser: self.browser.clone(),
            browser_url: None,
            headful: false,
        }
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Scenario files or folders, and `nocall.yaml` files, as `run` takes them.
    #[arg(default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
    /// The settings file [default: nocall.yaml beside the scenarios, else in this folder].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    pub shell: clap_complete::Shell,
}

/// `nocall completions SHELL`: the script on standard output.
pub fn completions(shell: clap_complete::Shell) -> Ending {
    use clap::CommandFactory;
    clap_complete::generate(shell, &mut Cli::command(), "nocall", &mut std::io::stdout());
    Ending::Passed
}

/// `nocall manpage [COMMAND]`: nocall(1), or nocall-COMMAND(1), in roff on standard output.
pub fn manpage(command: Option<&str>) -> Result<Ending, String> {
    use clap::CommandFactory;
    let cli = Cli::command();
    let page = match command {
        None => cli,
        Some(name) => {
            let names: Vec<String> = cli
                .get_subcommands()
                .map(|c| c.get_name().to_string())
                .collect();
            let sub = cli.find_subcommand(name).ok_or_else(|| {
                format!(
                    "no command `{name}`; the commands are: {}",
                    names.join(", ")
                )
            })?;
            sub.clone()
                .display_name(format!("nocall-{name}"))
                .bin_name(format!("nocall {name}"))
        }
    };
    clap_mangen::Man::new(page)
        .render(&mut std::io::stdout())
        .map_err(|e| format!("cannot write the man page: {e}"))?;
    Ok(Ending::Passed)
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The recording exported from DevTools' Recorder panel (Export → JSON).
    pub recording: PathBuf,
    /// Where the scenario goes (standard output when omitted).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LinksArgs {
    /// Where the crawl starts; only pages of its origin are crawled.
    pub url: url::Url,
    /// How many links deep to follow from the start page (0: the start page alone).
    #[arg(long, default_value_t = 3)]
    pub depth: usize,
    /// Pages to visit at most.
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub max_pages: usize,
    /// First-time users a month who browse the site (the ranking's reach).
    #[arg(long, value_name = "N", default_value_t = 100.0)]
    pub monthly_users: f64,
    /// Requests at once, in all and to one host.
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    #[arg(long, value_name = "N")]
    pub per_host: Option<usize>,
    /// Check only the site's own links, not other hosts.
    #[arg(long)]
    pub offline: bool,
    /// For labs: also request private, loopback and link-local addresses.
    #[arg(long)]
    pub allow_private: bool,
    /// What to print on standard output.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Also write a report: FORMAT=PATH, repeatable.
    #[arg(long = "report", value_name = "FORMAT=PATH")]
    pub reports: Vec<String>,
    /// Which findings fail the run (exit 1).
    #[arg(long, value_enum, value_name = "WHAT", default_value = "any")]
    pub fail_on: FailOn,
    /// The settings file (phones, allowed hosts, model, cost).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where traces and report.json go.
    #[arg(long, value_name = "DIR", default_value = "nocall-out")]
    pub out: PathBuf,
    /// When a page of the site is rendered in Chromium before it is read: `auto` when its
    /// plain HTML has scripts and little to follow or read (a page drawn by script),
    /// `always`, or `never` (plain HTTP only). Other sites are always asked over plain HTTP.
    #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
    pub render: RenderWhen,
}

/// `nocall links --render`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RenderWhen {
    Auto,
    Always,
    Never,
}

impl LinksArgs {
    pub fn crawl_request(&self) -> CrawlRequest {
        CrawlRequest {
            start: self.url.clone(),
            depth: self.depth,
            max_pages: self.max_pages,
            monthly_users: self.monthly_users,
            concurrency: self.concurrency,
            per_host: self.per_host,
            offline: self.offline,
            allow_private: self.allow_private,
            out_dir: self.out.clone(),
            render: match self.render {
                RenderWhen::Auto => nocall::probe::crawl::Render::Auto,
                RenderWhen::Always => nocall::probe::crawl::Render::Always,
                RenderWhen::Never => nocall::probe::crawl::Render::Never,
            },
        }
    }
}

#[derive(Debug, Args)]
pub struct EvidenceArgs {
    /// The finding's id, as the table shows it.
    pub id: String,
    /// Where the bundle folder is created.
    #[arg(long, value_name = "DIR", default_value = "nocall-evidence")]
    pub out: PathBuf,
    /// The run's JSON report; its folder holds the screenshots and traces.
    #[arg(long, value_name = "FILE", default_value = "nocall-out/report.json")]
    pub report: PathBuf,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The JSON reports to merge.
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    /// Where the merged report goes (standard output when omitted).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also print the ranked table of the merged report on standard error.
    #[arg(long)]
    pub table: bool,
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Record the findings of a run as the baseline: later runs with `--baseline FILE` fail
    /// only on findings that are not in it.
    Write {
        /// The baseline file to write.
        #[arg(default_value = "nocall-baseline.json")]
        file: PathBuf,
        /// The run's JSON report.
        #[arg(long, value_name = "FILE", default_value = "nocall-out/report.json")]
        report: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct PortalArgs {
    /// The port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario files or folders (every *.yaml / *.yml under a folder, in name order, and
    /// Chrome DevTools Recorder exports, *.json).
    #[arg(default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Options shared by `run` and `demo`.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Replace the origin of every scenario's `start` (e.g. a staging server).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<url::Url>,
    /// Also write a report: FORMAT=PATH, repeatable. Formats: json, junit, sarif, html, markdown.
    #[arg(long = "report", value_name = "FORMAT=PATH")]
    pub reports: Vec<String>,
    /// What to print on standard output.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Journeys run at once (default: one per CPU core).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Run only shard I of N (1-based), for splitting a suite over CI machines.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Which findings fail the run (exit 1) [default: blocker, or `gates.fail_on` in nocall.yaml].
    #[arg(long, value_enum, value_name = "WHAT")]
    pub fail_on: Option<FailOn>,
    /// Fail the run when the findings add up to more than N calls a month.
    #[arg(long, value_name = "N")]
    pub max_calls: Option<f64>,
    /// A previous JSON report (or a file of finding ids, one per line): only findings not in
    /// it count for the gates.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// The Chromium to start (else $CHROME, else chromium, chromium-browser, google-chrome on PATH).
    #[arg(long, value_name = "PATH")]
    pub browser: Option<PathBuf>,
    /// Use a running browser or browser pool by its DevTools address (ws://… or http://host:port,
    /// its query — a pool's token — kept); each journey gets a session of its own.
    #[arg(long, value_name = "URL", conflicts_with = "browser")]
    pub browser_url: Option<String>,
    /// Open each link a journey follows from an e-mail once with a plain GET first, as mail
    /// scanners (Outlook Safe Links and the like) do, to find one-time links they would break.
    #[arg(long)]
    pub prefetch_check: bool,
    /// Check only the portal's own links, not other hosts.
    #[arg(long)]
    pub offline: bool,
    /// For labs: also request private, loopback and link-local addresses after the
    /// journeys (by default only the journeys' own hosts and `allowed_hosts` may be on them).
    #[arg(long)]
    pub allow_private: bool,
    /// Show the browser window instead of running headless.
    #[arg(long)]
    pub headful: bool,
    /// The settings file [default: nocall.yaml beside the scenarios, else in this folder].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where traces, screenshots and report.json go.
    #[arg(long, value_name = "DIR", default_value = "nocall-out")]
    pub out: PathBuf,
}

impl CommonArgs {
    /// What the run asks the library for; `base_url` (the demo portal's) wins over
    /// `--base-url`.
    pub fn run_request(&self, base_url: Option<url::Url>) -> RunRequest {
        RunRequest {
            shard: self.shard.clone(),
            reports: self.reports.clone(),
            fail_on: self.fail_on,
            max_calls: self.max_calls,
            baseline: self.baseline.clone(),
            browser_url: self.browser_url.clone(),
            browser: self.browser.clone(),
            headful: self.headful,
            jobs: self.jobs,
            out_dir: self.out.clone(),
            base_url: base_url.or_else(|| self.base_url.clone()),
            prefetch_check: self.prefetch_check,
            offline: self.offline,
            allow_private: self.allow_private,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// The ranked table, for people.
    Table,
    /// The JSON report, for `jq` and scripts.
    Json,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The finding's id, as the table shows it (e.g. F1a2b3c).
    pub id: String,
    /// The report to read.
    #[arg(long, value_name = "FILE", default_value = "nocall-out/report.json")]
    pub report: PathBuf,
}

/// How a command ended, before it becomes an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Ran; no gate failed.
    Passed,
    /// Ran; a gate failed.
    GateFailed,
    /// Bad input: usage, scenario, config.
    BadInput,
    /// Could not run: no browser, portal unreachable, browser gone for good.
    CouldNotRun,
}

/// The exit codes of PRODUCT.md.
pub fn exit_code(ending: Ending) -> u8 {
    match ending {
        Ending::Passed => 0,
        Ending::GateFailed => 1,
        Ending::BadInput => 2,
        Ending::CouldNotRun => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interface_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn exit_codes_are_the_contracts() {
        assert_eq!(
            [
                Ending::Passed,
                Ending::GateFailed,
                Ending::BadInput,
                Ending::CouldNotRun
            ]
            .map(exit_code),
            [0, 1, 2, 3]
        );
    }
}
