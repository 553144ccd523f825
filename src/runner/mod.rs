//! The runner: drives Chromium through each journey and records what the user saw.
//!
//! It owns every byte of browser I/O and nothing else: it does not judge what it sees (that
//! is [`crate::checks`]) and it does not print (that is the binary, through [`Observer`]).
//! A journey that cannot go on ends with a reason in its trace; a browser that dies is
//! restarted for the journeys after it; no journey can take the others down.

pub mod browser;
mod cdp;
mod cover;
pub(crate) mod fence;
mod inpage;
mod journey;
mod locate;
mod page;
mod pool;
pub(crate) mod profile;
mod scheduled;
mod snapshot;

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use browser::Browser;
pub use browser::{BrowserError, BrowserSource};
use page::Page;
pub use profile::own_usage;

use crate::mail::Mailboxes;
use crate::scenario::Scenario;
use crate::secrets::Secrets;
use crate::trace::{JourneyStatus, StepTrace, Trace};

/// How journeys are run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub browser: BrowserSource,
    /// Journeys run at once, each in its own incognito context of one browser.
    pub jobs: usize,
    /// Where screenshots go (`<out>/screenshots/<journey>/step-NN.png`).
    pub out_dir: PathBuf,
    /// Replaces the origin of every scenario's `start`.
    pub base_url: Option<url::Url>,
    /// Open a mailed link once with a plain GET before the journey follows it, as a mail
    /// scanner would (`--prefetch-check`).
    pub prefetch_check: bool,
    /// Probe only the portal's own links, not other hosts.
    pub offline: bool,
    /// `--allow-private`: journeys' tabs may request private and metadata addresses too.
    pub allow_private: bool,
    /// `nocall.yaml`'s `allowed_hosts`: reachable by the tabs even on private addresses.
    pub allowed_hosts: Option<Vec<String>>,
    /// `nocall.yaml`'s `limits`: how much one page record keeps.
    pub limits: crate::config::Limits,
}

/// Told what happens while journeys run; the binary draws progress bars from it.
pub trait Observer: Sync {
    fn journey_started(&self, _journey: usize, _scenario: &Scenario) {}
    fn step_finished(&self, _journey: usize, _step: &StepTrace) {}
    fn journey_finished(&self, _journey: usize, _trace: &Trace) {}
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Asks running journeys to stop after their current step and no new journey to start
/// (Ctrl-C). What finished is still reported.
pub(crate) fn interrupt() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

pub(crate) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Runs every scenario and returns one trace per scenario, in scenario order.
///
/// Fails only when no browser can be started at all; anything else ends the journey it
/// hit, with the reason in its trace.
pub fn run_all(
    scenarios: &[Scenario],
    secrets: &Secrets,
    options: &RunOptions,
    mail: &Mailboxes,
    observer: &dyn Observer,
) -> Result<Vec<Trace>, BrowserError> {
    run_all_then_close(scenarios, secrets, options, mail, observer).map(|(traces, _)| traces)
}

/// The browser being shut down (its process ended and reaped, its profile deleted, ~40 ms)
/// while the caller goes on; dropping this waits for that to finish, so nothing outlives
/// the run.
pub(crate) struct Closing {
    handle: Option<std::thread::JoinHandle<()>>,
    /// The browser nocall started, kept for one more use when the caller takes it
    /// ([`Closing::lend`]): the prober renders script-drawn pages in it instead of starting
    /// a second Chromium (~1 s).
    lent: Option<Browser>,
}

impl Closing {
    /// The journeys' browser, still running, for the prober's renderer; it ends when the
    /// last handle to it is dropped.
    pub(crate) fn lend(&mut self) -> Option<Browser> {
        self.lent.take()
    }
}

impl Drop for Closing {
    fn drop(&mut self) {
        drop(self.lent.take());
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// [`run_all`], returning as soon as the last journey ends: the browser shuts down while
/// the caller checks the traces.
pub(crate) fn run_all_then_close(
    scenarios: &[Scenario],
    secrets: &Secrets,
    options: &RunOptions,
    mail: &Mailboxes,
    observer: &dyn Observer,
) -> Result<(Vec<Trace>, Closing), BrowserError> {
    let phase = profile::Phases::start();
    // A pool hands each journey a session of its own; a browser nocall starts is shared.
    let (pool, first) = match &options.browser {
        BrowserSource::Connect(url) => (Some(pool::Pool::check(url)?), None),
        BrowserSource::Launch { .. } => (None, Some(Browser::start(&options.browser)?)),
    };
    phase.done("browser started");
    let browser = Mutex::new(first);
    let refused: Mutex<Option<BrowserError>> = Mutex::new(None);
    let next = AtomicUsize::new(0);
    let spares = Spares::default();
    let results: Mutex<Vec<Option<Trace>>> = Mutex::new(vec![None; scenarios.len()]);
    let jobs = options.jobs.clamp(1, scenarios.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(scenario) = scenarios.get(i) else {
                        break;
                    };
                    if interrupted() {
                        lock(&results)[i] = Some(journey::not_started(
                            scenario,
                            "interrupted before it started",
                        ));
                        continue;
                    }
                    observer.journey_started(i, scenario);
                    let run = |page| {
                        let inbox = scenario.mail.as_ref().and_then(|m| mail.get(m).ok());
                        journey::run(page, i, scenario, secrets, options, inbox, &|s| {
                            observer.step_finished(i, s)
                        })
                    };
                    let trace = if let Some(pool) = &pool {
                        pooled(pool, scenario, &refused, run)
                    } else {
                        match connection(&browser, &options.browser) {
                            Ok(b) => {
                                let page = spares.take(&b).map_or_else(|| Page::open(&b), Ok);
                                // The next journey's tab opens while this one runs.
                                let waiting =
                                    scenarios.len().saturating_sub(next.load(Ordering::SeqCst));
                                if spares.wanted(waiting) {
                                    let b = b.clone();
                                    let spares = &spares;
                                    scope.spawn(move || spares.open(&b));
                                }
                                run(page)
                            }
                            Err(e) => journey::not_started(scenario, &e.to_string()),
                        }
                    };
                    observer.journey_finished(i, &trace);
                    lock(&results)[i] = Some(trace);
                }
            });
        }
    });
    spares.close();
    phase.done("every journey ended");
    if let Some(e) = refused.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    let last = browser.into_inner().unwrap_or_else(|e| e.into_inner());
    let lent = last.as_ref().filter(|b| b.is_alive()).cloned();
    let closing = Closing {
        handle: std::thread::Builder::new()
            .name("browser-close".into())
            .spawn(move || drop(last))
            .ok(),
        lent,
    };
    let traces = results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .zip(scenarios)
        .map(|(t, s)| t.unwrap_or_else(|| journey::not_started(s, "the journey did not run")))
        .collect();
    Ok((traces, closing))
}

/// Tabs opened ahead of the journeys that will use them: a fresh context and tab cost
/// ~80 ms of browser work (a renderer process starting), which the journey running at the
/// time hides.
#[derive(Default)]
struct Spares {
    ready: Mutex<Vec<Page>>,
    /// Ready plus being opened.
    coming: AtomicUsize,
}

impl Spares {
    /// A tab ready in this browser, if there is one; tabs of a browser that died are closed.
    fn take(&self, browser: &Browser) -> Option<Page> {
        let mut ready = lock(&self.ready);
        while let Some(page) = ready.pop() {
            self.coming.fetch_sub(1, Ordering::SeqCst);
            if page.belongs_to(browser) {
                return Some(page);
            }
            page.close();
        }
        None
    }

    /// Whether another tab should be opened for the `waiting` journeys not yet started
    /// (and counts it as coming when so).
    fn wanted(&self, waiting: usize) -> bool {
        self.coming
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |c| {
                (c < waiting).then_some(c + 1)
            })
            .is_ok()
    }

    fn open(&self, browser: &Browser) {
        match Page::open(browser) {
            Ok(page) => lock(&self.ready).push(page),
            // The journey that wanted it opens its own and reports what goes wrong.
            Err(_) => {
                self.coming.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    fn close(&self) {
        for page in lock(&self.ready).drain(..) {
            page.close();
        }
    }
}

/// One journey in a pool session of its own, closed when the journey ends. Once the pool
/// has refused nocall, no journey asks it again: the run stops (exit 3).
fn pooled(
    pool: &pool::Pool,
    scenario: &Scenario,
    refused: &Mutex<Option<BrowserError>>,
    run: impl FnOnce(Result<Page, cdp::CdpError>) -> Trace,
) -> Trace {
    if let Some(e) = lock(refused).as_ref() {
        return journey::not_started(scenario, &e.to_string());
    }
    match pool.session(scenario.step_timeout * 3) {
        Ok(browser) => {
            let trace = run(Page::open(&browser));
            browser.close();
            trace
        }
        Err(e) => {
            if matches!(e, BrowserError::Refused { .. }) {
                lock(refused).get_or_insert_with(|| e.clone());
            }
            journey::not_started(scenario, &e.to_string())
        }
    }
}

/// The running browser, restarted when the last one died.
fn connection(
    slot: &Mutex<Option<Browser>>,
    source: &BrowserSource,
) -> Result<Browser, BrowserError> {
    let mut guard = lock(slot);
    if let Some(b) = guard.as_ref().filter(|b| b.is_alive()) {
        return Ok(b.clone());
    }
    let fresh = Browser::start(source)?;
    *guard = Some(fresh.clone());
    Ok(fresh)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Asks the tab for the cookies of the page it shows, just before the page is recorded:
/// the browser looks them up while nocall reads the page, so the step waits for no extra
/// round trip. [`cookies_of`] reads the answer.
fn ask_cookies(page: &Page) -> Option<cdp::Pending> {
    page.send("Network.getCookies", serde_json::json!({})).ok()
}

/// The cookies the tab held for the page recorded at `url` (its site's, not its frames'),
/// so that the prober checks the links of a signed-in page with the session the journey
/// had (see `probe::links::Known`). The values go into [`crate::trace::Cookies`] and
/// nowhere else. `None` for a page not on the web (`about:blank`) or when the call failed.
fn cookies_of(
    page: &Page,
    asked: Option<cdp::Pending>,
    url: &str,
) -> Option<Vec<crate::trace::Cookie>> {
    let host = url::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))?
        .host_str()?
        .to_ascii_lowercase();
    // Answered while the page was read; a browser this slow to answer is left alone.
    let reply = page.reply(asked?, Duration::from_secs(1)).ok()?;
    let text = |c: &serde_json::Value, key: &str| {
        c.get(key)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    // Without `urls`, the page's frames' cookies come too: only the page's site's are kept.
    let for_host = |c: &serde_json::Value| {
        let domain = text(c, "domain").to_ascii_lowercase();
        let domain = domain.trim_start_matches('.');
        host == domain || host.ends_with(&format!(".{domain}"))
    };
    let cookies = reply.get("cookies")?.as_array()?;
    Some(
        cookies
            .iter()
            .filter(|c| for_host(c))
            .map(|c| crate::trace::Cookie {
                name: text(c, "name"),
                value: text(c, "value"),
                path: text(c, "path"),
            })
            .filter(|c| !c.name.is_empty())
            .collect(),
    )
}

/// True when no journey ran far enough to say anything about the portal.
pub fn nothing_ran(traces: &[Trace]) -> bool {
    !traces.is_empty() && traces.iter().all(|t| t.status == JourneyStatus::Error)
}

/// "250ms", "10s", "1m 30s".
pub(crate) fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if !ms.is_multiple_of(1000) && ms < 10_000 {
        format!("{:.1}s", d.as_secs_f64())
    } else if d.as_secs() < 60 {
        format!("{}s", d.as_secs())
    } else if d.as_secs().is_multiple_of(60) {
        format!("{}m", d.as_secs() / 60)
    } else {
        format!("{}m {}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// The folder / file stem of journey `index` (0-based): `01-first-time-login`.
pub(crate) fn journey_dir(index: usize, name: &str) -> String {
    format!("{:02}-{}", index + 1, slug(name))
}

/// A file-system-safe name for a journey's screenshots and trace.
pub(crate) fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        "journey".to_string()
    } else {
        trimmed.chars().take(60).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(human_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(human_duration(Duration::from_secs(10)), "10s");
        assert_eq!(human_duration(Duration::from_secs(90)), "1m 30s");
        assert_eq!(human_duration(Duration::from_secs(120)), "2m");
    }

    #[test]
    fn spare_tabs_are_opened_only_for_journeys_still_to_come() {
        let spares = Spares::default();
        assert!(!spares.wanted(0), "no journey waits");
        assert!(spares.wanted(2));
        assert!(spares.wanted(2));
        assert!(!spares.wanted(2), "two are coming for two journeys");
        assert!(!spares.wanted(1));
        assert_eq!(spares.coming.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn slugs_are_safe_file_names() {
        assert_eq!(
            slug("First-time login: the CONFERENCE card!"),
            "first-time-login-the-conference-card"
        );
        assert_eq!(slug("../../etc"), "etc");
        assert_eq!(slug("日本"), "journey");
    }
}
