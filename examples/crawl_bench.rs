//! Crawls a site and probes every link found, for `bench/links/run.sh`: prints pages, links,
//! time and links per second, and writes each target's verdict to a file so another
//! checker's verdicts can be compared with them.
//!
//! `crawl_bench URL [--per-host N] [--concurrency N] [--interval-ms N] [--depth N]
//! [--max-pages N] [--verdicts FILE]`

use std::process::ExitCode;
use std::time::{Duration, Instant};

use nocall::probe::crawl::{CrawlOptions, crawl};
use nocall::probe::links::{probe_urls_with, targets_of};
use nocall::probe::status::LinkVerdict;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crawl_bench: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let start = args.next().ok_or("give the start URL")?;
    let start = url::Url::parse(&start).map_err(|e| format!("{start}: {e}"))?;
    let mut opts = CrawlOptions {
        depth: 100,
        max_pages: 100_000,
        ..CrawlOptions::default()
    };
    let mut verdicts = None;
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|e| format!("{flag} {value}: {e}"))
        };
        match flag.as_str() {
            "--per-host" => opts.link.per_host = number()? as usize,
            "--concurrency" => opts.link.concurrency = number()? as usize,
            "--interval-ms" => opts.link.interval = Duration::from_millis(number()?),
            "--depth" => opts.depth = number()? as usize,
            "--max-pages" => opts.max_pages = number()? as usize,
            "--verdicts" => verdicts = Some(value),
            other => return Err(format!("unknown option {other}")),
        }
    }
    let started = Instant::now();
    let crawled = crawl(&start, &opts, &|_, _| {}).map_err(|e| e.to_string())?;
    let traces = crawled.traces;
    let results = probe_urls_with(&crawled.session, &targets_of(&traces));
    let secs = started.elapsed().as_secs_f64();
    let pages: Vec<_> = traces
        .iter()
        .flat_map(|t| &t.steps)
        .filter_map(|s| s.page.as_ref())
        .collect();
    let links: usize = pages.iter().map(|p| p.links.len()).sum();
    let count = |v: LinkVerdict| results.values().filter(|s| s.verdict == v).count();
    println!(
        "nocall: {} pages, {links} links ({} unique targets) in {secs:.2} s = {:.0} links/s; ok {}, dead {}, unverified {}, skipped {}",
        pages.len(),
        results.len(),
        links as f64 / secs.max(1e-9),
        count(LinkVerdict::Ok),
        count(LinkVerdict::Dead),
        count(LinkVerdict::Unverified),
        count(LinkVerdict::Skipped),
    );
    if let Some(path) = verdicts {
        let text: String = results
            .iter()
            .map(|(url, s)| format!("{url}\t{:?}\t{}\n", s.verdict, s.detail))
            .collect();
        std::fs::write(&path, text).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}
