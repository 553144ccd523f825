//! One journey: perform each step in the browser, then record what the user saw.
//!
//! A step waits for its control or text the way a person does: it looks again each time
//! the page changes, until the control is there and actionable (visible, enabled, still,
//! and the one a click at its middle lands on) or the text shows, or the page has settled
//! without it, or the step's time runs out. A step the portal stops (a control that stays
//! covered or disabled, an `expect` the settled page does not meet, an HTTP error) ends the
//! journey as blocked, with the reason in the user's terms. A step nocall could not do (the
//! browser died, the page was still loading at the timeout, a field the scenario names is
//! not on the page at all) ends it as an error. Either way the steps done so far are kept.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use super::browser::CALL_TIMEOUT;
use super::cdp::CdpError;
use super::inpage::{self, Facts, Probe, Seen};
use super::locate::{self, Miss, Target, Want};
use super::page::{Page, Settle, WaitError};
use super::scheduled;
use super::snapshot::{self, Snapshot};
use super::{RunOptions, human_duration, journey_dir};
use crate::mail::{self, MailSource};
use crate::scenario::recorder::{self, Selector};
use crate::scenario::{Action, EmailStep, Expectation, Scenario, Step, Value as StepValue};
use crate::secrets::Secrets;
use crate::trace::{
    Clicked, FailureKind, Filled, FoundBy, HoldInfo, JourneyStatus, Outcome, StepTrace, Trace,
    status_text,
};

/// The longest the recording of a blocked step may take (and never more than the step's
/// timeout): a renderer stuck in endless dialogs answers nothing, and must cost the journey
/// seconds, not the browser-call timeout.
const RECORD_WITHIN: Duration = Duration::from_secs(5);

/// Main-frame loads in one step that make a page still loading at the step's end a page
/// that keeps reloading: a step's own navigation and a redirect or two stay well below.
const RELOADS: usize = 5;

/// The trace of a journey that could not start at all.
pub(super) fn not_started(scenario: &Scenario, reason: &str) -> Trace {
    let mut t = empty_trace(scenario);
    t.status = JourneyStatus::Error;
    t.reason = Some(reason.to_string());
    t
}

fn empty_trace(s: &Scenario) -> Trace {
    Trace {
        scenario: s.name.clone(),
        file: s.file.display().to_string(),
        start_url: s.start.to_string(),
        monthly_users: s.monthly_users,
        tags: s.tags.clone(),
        holds: s
            .holds
            .iter()
            .map(|h| HoldInfo {
                name: h.name.clone(),
                secret: h.value.secret,
            })
            .collect(),
        ..Trace::default()
    }
}

/// Why a step failed. Its kind also says whether it is the portal's doing (blocked) or
/// ours (error).
struct StepError {
    kind: FailureKind,
    reason: String,
}

impl StepError {
    fn new(kind: FailureKind, reason: impl Into<String>) -> Self {
        StepError {
            kind,
            reason: reason.into(),
        }
    }

    fn status(&self) -> JourneyStatus {
        self.kind.journey_status()
    }
}

impl From<CdpError> for StepError {
    fn from(e: CdpError) -> Self {
        match e {
            CdpError::Closed => StepError::new(
                FailureKind::BrowserGone,
                "the browser crashed or was closed",
            ),
            CdpError::Timeout { after, .. } => StepError::new(
                FailureKind::Unresponsive,
                format!(
                    "the page stopped responding (nothing for {})",
                    human_duration(after)
                ),
            ),
            other => StepError::new(FailureKind::BrowserError, other.to_string()),
        }
    }
}

impl From<Miss> for StepError {
    fn from(m: Miss) -> Self {
        let kind = if m.hidden {
            FailureKind::NotVisible
        } else {
            FailureKind::ScenarioMismatch
        };
        StepError::new(kind, m.reason)
    }
}

impl From<WaitError> for StepError {
    fn from(e: WaitError) -> Self {
        match e {
            WaitError::Timeout(_) => StepError::new(
                FailureKind::StillLoading,
                "the page did not finish loading in time",
            ),
            WaitError::Crashed => StepError::new(
                FailureKind::RendererCrashed,
                "the page crashed the browser's renderer",
            ),
            WaitError::Cdp(c) => c.into(),
        }
    }
}

struct Journey<'a> {
    page: Page,
    scenario: &'a Scenario,
    options: &'a RunOptions,
    start: url::Url,
    last: Option<Snapshot>,
    /// Counts records, so a step can tell whether the page it acted on is the one the
    /// previous step recorded (`step_generation`).
    generation: u64,
    step_generation: u64,
    /// The session of the frame the step is acting in (`None`: the tab's own document).
    acting_in: Option<String>,
    /// The page last recorded runs nocall's init script, so its change signal can be
    /// trusted to tell whether it changed.
    watched: bool,
    last_form: Option<usize>,
    shots_rel: String,
    loaded_once: bool,
    /// The browser's own load time of the page last recorded, ms.
    last_load: u64,
    /// The screenshot of the page last recorded.
    last_shot: Option<String>,
    inbox: Option<Arc<dyn MailSource>>,
    began: Instant,
    /// The run's secrets, and the one-time ones the journey's mails gave
    /// ([`mail::onetime`]): everything the trace must mask.
    secrets: Secrets,
    /// Messages the journey received, masked, for the trace.
    mails: Vec<crate::trace::Mail>,
}

/// Runs one journey to its end in `page`, a fresh tab of its own, and returns its trace,
/// with secrets masked.
pub(super) fn run(
    page: Result<Page, CdpError>,
    number: usize,
    scenario: &Scenario,
    secrets: &Secrets,
    options: &RunOptions,
    inbox: Option<Arc<dyn MailSource>>,
    on_step: &dyn Fn(&StepTrace),
) -> Trace {
    let began = Instant::now();
    let mut trace = empty_trace(scenario);
    let page = match page {
        Ok(p) => p,
        Err(e) => {
            let mut t = not_started(scenario, &format!("cannot open a browser tab: {e}"));
            t.duration_ms = began.elapsed().as_millis() as u64;
            return t;
        }
    };
    trace.browser = page.browser_version();
    let start = rebase(&scenario.start, options.base_url.as_ref());
    trace.start_url = start.to_string();
    let mut page = page;
    if !options.allow_private {
        let own: Vec<String> = start.host_str().map(str::to_string).into_iter().collect();
        let fence = super::fence::Fence::new(&own, options.allowed_hosts.as_deref());
        if let Err(e) = page.fence(fence) {
            // Unfenced, the journey could reach what it must not: it does not run.
            let mut t = not_started(scenario, &format!("cannot guard the browser tab: {e}"));
            page.close();
            t.duration_ms = began.elapsed().as_millis() as u64;
            return t;
        }
    }
    // Notes the navigations each document schedules, for `expect` (a tab without it
    // only fails a little sooner on a page that moves itself on).
    let _ = page.call(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({"source": scheduled::INIT_JS, "runImmediately": true}),
    );
    let name = journey_dir(number, &scenario.name);
    let mut j = Journey {
        page,
        scenario,
        options,
        start,
        last: None,
        generation: 0,
        step_generation: 0,
        acting_in: None,
        watched: false,
        last_form: None,
        shots_rel: format!("screenshots/{name}"),
        loaded_once: false,
        last_load: 0,
        last_shot: None,
        inbox,
        began,
        secrets: secrets.clone(),
        mails: Vec::new(),
    };
    for (n, step) in scenario.steps.iter().enumerate() {
        let index = n + 1;
        if super::interrupted() {
            trace.status = JourneyStatus::Error;
            trace.reason = Some(format!("interrupted before step {index}"));
            break;
        }
        let t0 = Instant::now();
        let mut st = StepTrace {
            index,
            line: step.at.line,
            action: j.secrets.mask(&step.action.describe()).into_owned(),
            kind: step.action.kind(),
            reach: step.reach,
            ..StepTrace::default()
        };
        st.timings.started_ms = t0.duration_since(began).as_millis() as u64;
        let waited_before = j.page.waited();
        j.page.mark();
        let mut result = j.perform(step, &mut st).map_err(|e| j.reloading(e));
        st.timings.action_ms = t0.elapsed().as_millis() as u64;
        let broken = result
            .as_ref()
            .is_err_and(|e| e.status() == JourneyStatus::Error);
        // An `expect` or `wait` that saw no navigation and no change to the page shows the
        // user what the last step showed: that record (and screenshot) stands.
        let unchanged = !broken
            && matches!(step.action, Action::Expect(_) | Action::Wait(_))
            && !j.page.navigated()
            && j.unchanged();
        if unchanged && let Some(last) = &j.last {
            st.page = Some(last.page.clone());
            st.recording = last.recording();
            st.screenshot = j.last_shot.clone();
        } else if !broken {
            let t1 = Instant::now();
            // A page left stuck gets a short recording; a healthy one the time any call has.
            // A load that never finished is stopped first, so what is recorded is what the
            // user was left looking at, not a wait on the hung load.
            let within = if result
                .as_ref()
                .is_err_and(|e| e.status() == JourneyStatus::Blocked)
            {
                if j.page.is_loading() {
                    j.page.stop_loading();
                }
                RECORD_WITHIN.min(j.timeout())
            } else {
                CALL_TIMEOUT
            };
            // A settled page's only: a stuck one is left to its short recording.
            let cookies = result
                .is_ok()
                .then(|| super::ask_cookies(&j.page))
                .flatten();
            match j.record(index, within) {
                Ok((snap, shot)) => {
                    j.step_generation = j.generation;
                    if let Some(c) = super::cookies_of(&j.page, cookies, &snap.page.url) {
                        trace.cookies.note(index, &snap.page.url, c);
                    }
                    st.page = Some(snap.page.clone());
                    st.recording = snap.recording();
                    st.screenshot = shot.clone();
                    j.last = Some(snap);
                    j.last_shot = shot;
                }
                Err(e) => {
                    // Never locate the next step's controls in the page before this one.
                    j.last = None;
                    if matches!(e, CdpError::Closed) && result.is_ok() {
                        st.outcome = Outcome::Failed {
                            kind: FailureKind::BrowserGone,
                            reason: "the browser crashed or was closed".into(),
                        };
                        trace.status = JourneyStatus::Error;
                        trace.blocked_at_step = Some(index);
                        trace.reason =
                            Some(format!("step {index}: the browser crashed or was closed"));
                        on_step(&st);
                        trace.steps.push(st);
                        break;
                    }
                    // Issue 23: a step whose page could not be recorded says so. A document
                    // that went away under the read (the browser's own error) is a page on
                    // the move, which the next step waits for; otherwise, or at the last
                    // step, the journey would be judged on a page nobody read.
                    let why = format!("the page could not be recorded: {e}");
                    st.recording = Some(crate::trace::Recording::failed(why.clone()));
                    let moving =
                        matches!(e, CdpError::Remote { .. }) && index < scenario.steps.len();
                    if result.is_ok() && !moving {
                        result = Err(StepError::new(FailureKind::NotRecorded, why));
                    }
                }
            }
            st.timings.record_ms = t1.elapsed().as_millis() as u64;
            if j.page.navigated() {
                st.timings.page_ms = j.last_load;
            }
        }
        let waited = j.page.waited().saturating_sub(waited_before);
        st.timings.own_us = t0.elapsed().saturating_sub(waited).as_micros() as u64;
        if let Err(failure) = result {
            let reason = j.secrets.mask(&failure.reason).into_owned();
            st.outcome = Outcome::Failed {
                kind: failure.kind,
                reason: reason.clone(),
            };
            trace.status = failure.status();
            trace.blocked_at_step = Some(index);
            trace.reason = Some(format!("step {index} ({}): {reason}", st.action));
            on_step(&st);
            trace.steps.push(st);
            break;
        }
        on_step(&st);
        trace.steps.push(st);
    }
    trace.mails = std::mem::take(&mut j.mails);
    j.page.close();
    trace.duration_ms = began.elapsed().as_millis() as u64;
    // Masking goes through JSON, which never holds the cookies: they are carried round it.
    let cookies = std::mem::take(&mut trace.cookies);
    let mut trace = mask(trace, scenario, &j.secrets);
    trace.cookies = cookies;
    trace
}

/// Masks every secret anywhere in the trace (a page may echo what the user typed). A
/// trace that cannot be masked is replaced by an empty one saying so, never kept as it is.
fn mask(trace: Trace, scenario: &Scenario, secrets: &Secrets) -> Trace {
    secrets.mask_serialized(trace).unwrap_or_else(|e| {
        let empty = empty_trace(scenario);
        let m = |s: &str| secrets.mask(s).into_owned();
        Trace {
            scenario: m(&empty.scenario),
            file: m(&empty.file),
            start_url: m(&empty.start_url),
            status: JourneyStatus::Error,
            reason: Some(format!("the journey's record was left out: {e}")),
            ..empty
        }
    })
}

/// `start` with its origin replaced by `base`'s (`--base-url`).
pub(super) fn rebase(start: &url::Url, base: Option<&url::Url>) -> url::Url {
    let Some(base) = base else {
        return start.clone();
    };
    let mut u = start.clone();
    let _ = u.set_scheme(base.scheme());
    let _ = u.set_host(base.host_str());
    let _ = u.set_port(
        base.port_or_known_default()
            .filter(|p| Some(*p) != default_port(base.scheme())),
    );
    let prefix = base.path().trim_end_matches('/');
    if !prefix.is_empty() {
        u.set_path(&format!("{prefix}{}", start.path()));
    }
    u
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

impl Journey<'_> {
    fn timeout(&self) -> Duration {
        self.scenario.step_timeout
    }

    fn deadline(&self) -> Instant {
        Instant::now() + self.timeout()
    }

    /// Whether the page has not changed since it was last recorded, as its change signal
    /// tells (no round trip).
    fn unchanged(&mut self) -> bool {
        self.watched && !self.page.dirty()
    }

    fn settle_window(&self) -> Duration {
        self.scenario.settle
    }

    fn perform(&mut self, step: &Step, st: &mut StepTrace) -> Result<(), StepError> {
        self.acting_in = None;
        let selectors = &step.selectors;
        match &step.action {
            Action::Open(target) => self.open(target),
            Action::Fill(items) => self.fill(items, st, Want::Text, selectors),
            Action::Choose(items) => self.fill(items, st, Want::Choice, selectors),
            Action::Click(name) => self.click(name, st, selectors),
            Action::Expect(e) => self.expect_or_selector(e, selectors),
            Action::WaitUntil(script) => self.wait_until(script),
            Action::Press(key) => self.press_key(key),
            Action::Email(m) => self.email(m, st),
            Action::Wait(d) => {
                self.page.pass_time(*d)?;
                self.page.settle(self.deadline(), false)?;
                Ok(())
            }
        }
    }

    fn resolve(&self, target: &str) -> Result<String, StepError> {
        let original_origin = self.scenario.start.origin();
        match url::Url::parse(target) {
            Ok(u) if u.origin() == original_origin => {
                Ok(rebase(&u, self.options.base_url.as_ref()).to_string())
            }
            Ok(u) => Ok(u.to_string()),
            Err(_) => self.start.join(target).map(|u| u.to_string()).map_err(|e| {
                StepError::new(
                    FailureKind::BadAddress,
                    format!("cannot make a URL of {target:?}: {e}"),
                )
            }),
        }
    }

    fn open(&mut self, target: &str) -> Result<(), StepError> {
        let url = self.resolve(target)?;
        match self.page.navigate(&url, self.timeout()) {
            Ok(()) => {}
            Err(WaitError::Timeout(_)) | Err(WaitError::Cdp(CdpError::Timeout { .. })) => {
                return Err(StepError::new(
                    FailureKind::StillLoading,
                    format!(
                        "{url} did not finish loading within {}; {}",
                        human_duration(self.timeout()),
                        self.page.loading_why()
                    ),
                ));
            }
            Err(e) => return Err(e.into()),
        }
        if let Some(refused) = self.refused() {
            return Err(refused);
        }
        if let Some(err) = self.page.load_error.clone() {
            let reason = format!("{url} could not be loaded ({err})");
            // The first page of a journey not answering at all is the portal being down (or
            // the wrong address), not a trap a user meets.
            let unreachable = [
                "ERR_CONNECTION_REFUSED",
                "ERR_NAME_NOT_RESOLVED",
                "ERR_NAME_RESOLUTION_FAILED",
                "ERR_ADDRESS_UNREACHABLE",
                "ERR_ADDRESS_INVALID",
                "ERR_CONNECTION_TIMED_OUT",
                "ERR_INTERNET_DISCONNECTED",
            ]
            .iter()
            .any(|e| err.contains(e));
            return Err(if self.loaded_once || !unreachable {
                StepError::new(FailureKind::LoadFailed, reason)
            } else {
                StepError::new(
                    FailureKind::PortalUnreachable,
                    format!("the portal could not be reached: {reason}"),
                )
            });
        }
        self.loaded_once = true;
        self.check_status()
    }

    /// Waits for the portal's message, then opens its link in this same context — the only
    /// time a one-time link is opened, unless `--prefetch-check` asks for a scanner's view.
    fn email(&mut self, m: &EmailStep, st: &mut StepTrace) -> Result<(), StepError> {
        let Some(inbox) = self.inbox.clone() else {
            return Err(StepError::new(
                FailureKind::NoInbox,
                "the scenario has no `mail:` (smtp, maildir or imap) to receive the message in",
            ));
        };
        /// What on the page says something went wrong: alerts, the usual error classes
        /// (Django's `errorlist` among them), and fields marked invalid with their messages.
        const PAGE_ERRORS_JS: &str = r#"(() => {
  const shown = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; };
  const out = [];
  const add = t => { t = (t || '').replace(/\s+/g, ' ').trim().slice(0, 160); if (t && !out.includes(t)) out.push(t); };
  for (const e of document.querySelectorAll('[role=alert],[aria-live=assertive],.error,.errors,.errorlist,.alert-danger,.invalid-feedback,.field-error')) if (shown(e)) add(e.innerText);
  for (const f of document.querySelectorAll('[aria-invalid=true]')) {
    let said = false;
    for (const a of ['aria-describedby', 'aria-errormessage'])
      for (const id of (f.getAttribute(a) || '').split(/\s+/).filter(Boolean)) { const m = document.getElementById(id); if (m && shown(m) && m.innerText.trim()) { add(m.innerText); said = true; } }
    if (!said) add('the field "' + ((f.labels && f.labels[0] && f.labels[0].innerText) || f.getAttribute('aria-label') || f.name || f.id) + '" is marked invalid');
  }
  return out.slice(0, 3);
})()"#;
        /// How long a message may still come after the page said something went wrong
        /// (a portal that mails anyway does so at once).
        const AFTER_AN_ERROR: Duration = Duration::from_secs(2);
        // The page the step before left: when it shows an error, the mail is not coming,
        // and waiting the whole `within` would only delay the report.
        let errors: Vec<String> = self
            .page
            .call(
                "Runtime.evaluate",
                json!({"expression": PAGE_ERRORS_JS, "returnByValue": true}),
            )
            .ok()
            .and_then(|v| v.pointer("/result/value").cloned())
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        let within = if errors.is_empty() {
            m.within
        } else {
            m.within.min(AFTER_AN_ERROR)
        };
        let t0 = Instant::now();
        let message = inbox.wait_for(&m.to, m.subject.as_deref(), self.began, within);
        self.page.waited_for(t0.elapsed());
        let Some(message) = message else {
            let mut reason =
                mail::missing_reason(&m.to, m.subject.as_deref(), within, inbox.as_ref());
            if within < m.within {
                reason.push_str(&format!(
                    "; nocall stopped waiting early (not the full {}) because the page shows an error: {}",
                    human_duration(m.within),
                    errors
                        .iter()
                        .map(|e| format!("\"{e}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            reason.push_str(&mail::arrived_instead(
                &m.to,
                &inbox.arrived_since(self.began),
            ));
            return Err(StepError::new(FailureKind::MailNeverCame, reason));
        };
        st.mail = Some(self.mails.len());
        // A temporary password or code in the mail is masked wherever the journey shows it.
        for value in mail::onetime::find(&message) {
            self.secrets.add(&value);
        }
        self.mails.push(mail::masked(&message, &self.secrets));
        let Some(link) = mail::pick_link(&message, m.follow.as_deref()).cloned() else {
            let which = m
                .follow
                .as_deref()
                .map(|f| format!(" whose text contains \"{f}\""))
                .unwrap_or_default();
            return Err(StepError::new(
                FailureKind::MailWithoutLink,
                format!("the message \"{}\" has no link{which}", message.subject),
            ));
        };
        st.followed = Some(link.href.clone());
        st.clicked = Some(Clicked {
            name: link.text.clone(),
            role: "email-link".into(),
            href: Some(link.href.clone()),
            ambiguity: None,
        });
        // Never hand a `file:` or `chrome:` link to the browser (issue 17).
        if let Some(why) = mail::unopenable(&link.href) {
            return Err(StepError::new(FailureKind::LoadFailed, why));
        }
        if self.options.prefetch_check {
            let t0 = Instant::now();
            st.prefetched = crate::probe::prefetch::open_as_scanner(&link.href, self.timeout());
            self.page.waited_for(t0.elapsed());
        }
        match self.page.navigate(&link.href, self.timeout()) {
            Ok(()) => {}
            Err(WaitError::Timeout(_)) | Err(WaitError::Cdp(CdpError::Timeout { .. })) => {
                return Err(StepError::new(
                    FailureKind::StillLoading,
                    format!(
                        "the link in the message did not finish loading within {}; {}",
                        human_duration(self.timeout()),
                        self.page.loading_why()
                    ),
                ));
            }
            Err(e) => return Err(e.into()),
        }
        if let Some(refused) = self.refused() {
            return Err(refused);
        }
        if let Some(err) = self.page.load_error.clone() {
            return Err(StepError::new(
                FailureKind::LoadFailed,
                format!("the link in the message could not be loaded ({err})"),
            ));
        }
        self.check_status()
    }

    /// A page still loading at the step's end that loaded again and again meanwhile (a
    /// meta refresh or a script sending it to itself) is the portal's: the user is stuck
    /// on a page that keeps reloading.
    fn reloading(&self, e: StepError) -> StepError {
        let loads = self.page.loads();
        if e.kind != FailureKind::StillLoading || loads < RELOADS {
            return e;
        }
        StepError::new(
            FailureKind::LoadTimeout,
            format!(
                "the page keeps reloading ({loads} loads in {})",
                human_duration(self.timeout())
            ),
        )
    }

    /// The navigation failed because it led to an address nocall does not open (see
    /// [`super::fence`]): the journey stops there, as nocall's refusal, not the portal's
    /// fault.
    fn refused(&self) -> Option<StepError> {
        let err = self.page.load_error.as_deref()?;
        if !err.contains("ERR_BLOCKED_BY_CLIENT") {
            return None;
        }
        let (url, why) = self.page.blocked.last()?;
        Some(StepError::new(
            FailureKind::PrivateAddress,
            format!(
                "not opened: private address — {url} ({why}); nocall opens private and metadata addresses only for the journey's own host, `allowed_hosts`, or with --allow-private"
            ),
        ))
    }

    fn check_status(&self) -> Result<(), StepError> {
        match &self.page.document {
            Some((status, url)) if *status >= 400 => Err(StepError::new(
                FailureKind::PageStatus,
                format!("{url} answered {}", status_text(*status)),
            )),
            _ => Ok(()),
        }
    }

    /// The page as it is now: the last record while the page has not changed since (its
    /// change signal says so, at no cost), else read again, without a screenshot.
    fn model(&mut self) -> Result<Snapshot, StepError> {
        if self.unchanged()
            && let Some(s) = &self.last
        {
            return Ok(s.clone());
        }
        let (s, _) = self.record(0, CALL_TIMEOUT)?;
        self.last = Some(s.clone());
        Ok(s)
    }

    /// The page's own view of whether it is still working (see [`Facts`]); re-arms its
    /// change signal.
    fn facts(&self) -> Result<Facts, StepError> {
        match self.page.call(
            "Runtime.evaluate",
            json!({"expression": inpage::FACTS_JS, "returnByValue": true}),
        ) {
            Ok(v) => Ok(v
                .pointer("/result/value")
                .cloned()
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_else(Facts::quiet_page)),
            // The document went away under the call: a navigation, so not quiet.
            Err(CdpError::Remote { .. }) => Ok(Facts::default()),
            Err(e) => Err(e.into()),
        }
    }

    /// Asks the element what stands between it and the step (see [`inpage::PROBE_JS`]).
    fn probe(&self, backend: i64, need: Need) -> Result<Probe, StepError> {
        let gone = || Probe {
            state: "detached".into(),
            ..Probe::default()
        };
        let object = match self.page.call_in(
            self.acting_in.as_deref(),
            "DOM.resolveNode",
            json!({"backendNodeId": backend}),
            CALL_TIMEOUT,
        ) {
            Ok(v) => match v.pointer("/object/objectId").and_then(Value::as_str) {
                Some(o) => o.to_string(),
                None => return Ok(gone()),
            },
            Err(CdpError::Remote { .. }) => return Ok(gone()),
            Err(e) => return Err(e.into()),
        };
        match self.page.call_in(
            self.acting_in.as_deref(),
            "Runtime.callFunctionOn",
            json!({"objectId": object, "functionDeclaration": inpage::PROBE_JS,
                   "arguments": [{"value": need.as_str()}],
                   "returnByValue": true, "awaitPromise": true}),
            CALL_TIMEOUT,
        ) {
            Ok(v) => Ok(v
                .pointer("/result/value")
                .cloned()
                .and_then(|v| serde_json::from_value::<Probe>(v).ok())
                .filter(|p| !p.state.is_empty())
                // A probe that threw (a page that broke a built-in): act as before probes.
                .unwrap_or_else(|| Probe {
                    state: "unknown".into(),
                    ..Probe::default()
                })),
            Err(CdpError::Remote { .. }) => Ok(gone()),
            Err(e) => Err(e.into()),
        }
    }

    /// Waits until `find` locates the step's element on the page as it is now and the
    /// element is as the step `need`s it; each change to the page is a new look. Gives up
    /// when the page has settled without it (the page's doing when the element is there
    /// but covered, disabled or hidden; the scenario's when it is not there at all) or when
    /// the step's time runs out (nocall's, when the page was still loading).
    fn ready<T>(
        &mut self,
        need: Need,
        asked: &str,
        mut find: impl FnMut(&mut Self, &Snapshot) -> Result<Result<(T, Node), Miss>, StepError>,
    ) -> Result<Ready<T>, StepError> {
        let t0 = Instant::now();
        let deadline = t0 + self.timeout();
        let mut looks = 0u32;
        let mut replaced = 0u32;
        loop {
            looks += 1;
            let snap = self.model()?;
            let generation = self.generation;
            let waited = (looks > 1).then(|| {
                format!(
                    "\"{asked}\" was ready after {} ms",
                    t0.elapsed().as_millis()
                )
            });
            let (stuck, facts) = match find(self, &snap)? {
                Ok((found, (backend, session))) => {
                    self.acting_in = session;
                    let probe = if need == Need::Present {
                        Probe {
                            state: "ready".into(),
                            ..Probe::default()
                        }
                    } else {
                        self.probe(backend, need)?
                    };
                    match probe.state.as_str() {
                        "ready" | "unknown" => {
                            let mut point = (probe.state == "ready").then_some((probe.x, probe.y));
                            if let (Some((x, y)), Some(session)) = (point, self.acting_in.clone())
                                && need != Need::Present
                            {
                                // In a frame of its own: where that frame sits on the page,
                                // and whether something on the page covers it there.
                                let (ox, oy) = self.frame_offset(&session)?;
                                let (x, y) = (x + ox, y + oy);
                                if let Some(cover) = self.covers_frame(x, y)? {
                                    let stuck = Probe {
                                        state: "covered".into(),
                                        cover,
                                        ..Probe::default()
                                    };
                                    let facts = self.facts()?;
                                    match self.page.settle_state(&facts, self.settle_window()) {
                                        Settle::Waiting { until, .. }
                                            if Instant::now() < deadline =>
                                        {
                                            self.page.wait_signal(until.min(deadline))?;
                                            continue;
                                        }
                                        _ => return Err(stuck_error(&stuck, asked)),
                                    }
                                }
                                point = Some((x, y));
                            }
                            return Ok(Ready {
                                snap,
                                generation,
                                found,
                                backend,
                                point,
                                waited,
                            });
                        }
                        "detached" | "moving" => {
                            if probe.state == "detached" {
                                replaced += 1;
                                self.page.mark_dirty();
                            }
                            if Instant::now() < deadline {
                                continue;
                            }
                            return Err(if replaced > 0 {
                                StepError::new(
                                    FailureKind::Detached,
                                    format!(
                                        "\"{asked}\" kept being replaced while nocall tried to use it ({replaced} times in {})",
                                        human_duration(self.timeout())
                                    ),
                                )
                            } else {
                                StepError::new(
                                    FailureKind::StillLoading,
                                    format!(
                                        "\"{asked}\" was still moving after {}",
                                        human_duration(self.timeout())
                                    ),
                                )
                            });
                        }
                        _ => {
                            let facts = probe.facts.clone();
                            (stuck_error(&probe, asked), facts)
                        }
                    }
                }
                Err(miss) => (miss.into(), None),
            };
            let facts = match facts {
                Some(f) => f,
                None => self.facts()?,
            };
            match self.page.settle_state(&facts, self.settle_window()) {
                Settle::Settled => return Err(stuck),
                Settle::Waiting { until, loading } => {
                    if Instant::now() >= deadline {
                        return Err(match loading {
                            Some(why) => StepError::new(
                                FailureKind::StillLoading,
                                format!(
                                    "{why} after {}, while looking for \"{asked}\"",
                                    human_duration(self.timeout())
                                ),
                            ),
                            None => stuck,
                        });
                    }
                    self.page.wait_signal(until.min(deadline))?;
                }
            }
        }
    }

    /// Where the frame behind `session` sits in the tab's viewport: the origin of its
    /// `<iframe>`'s content box.
    fn frame_offset(&self, session: &str) -> Result<(f64, f64), StepError> {
        let Some(child) = self.page.children.iter().find(|c| c.session == session) else {
            return Ok((0.0, 0.0));
        };
        let owner = self
            .page
            .call("DOM.getFrameOwner", json!({"frameId": child.frame_id}))?;
        let backend = owner.get("backendNodeId").cloned().unwrap_or(Value::Null);
        let model = self
            .page
            .call("DOM.getBoxModel", json!({"backendNodeId": backend}))?;
        let x = model.pointer("/model/content/0").and_then(Value::as_f64);
        let y = model.pointer("/model/content/1").and_then(Value::as_f64);
        Ok((x.unwrap_or(0.0), y.unwrap_or(0.0)))
    }

    /// What on the tab's own page covers a frame at `(x, y)`, if anything does.
    fn covers_frame(&self, x: f64, y: f64) -> Result<Option<String>, StepError> {
        let v = self.page.call(
            "Runtime.evaluate",
            json!({"expression": format!("({})({x}, {y})", inpage::COVERS_FRAME_JS), "returnByValue": true}),
        )?;
        Ok(v.pointer("/result/value")
            .and_then(Value::as_str)
            .map(str::to_string))
    }

    /// Notes on the step the page it acted on, when that is not the page the previous
    /// step recorded, and how long it waited.
    fn note_ready<T>(&self, st: &mut StepTrace, r: &Ready<T>) {
        if r.generation != self.step_generation && st.acted_on.is_none() {
            st.acted_on = Some(r.snap.page.clone());
        }
        if st.waited.is_none() {
            st.waited = r.waited.clone();
        }
    }

    fn fill(
        &mut self,
        items: &[(String, StepValue)],
        st: &mut StepTrace,
        want: Want,
        selectors: &[String],
    ) -> Result<(), StepError> {
        // `filled[].field` indexes the first page the step acted on.
        let mut first: Option<Snapshot> = None;
        for (label, value) in items {
            let need = match (value.unknown, want) {
                (true, _) => Need::Present,
                (false, Want::Text) => Need::Fill,
                (false, Want::Choice) => Need::Choose,
            };
            let found = self.ready(need, label, |j, snap| {
                Ok(j.find_field(snap, label, want, selectors)?.map(|(i, by)| {
                    let node = snap.field_nodes.get(i).copied().unwrap_or(0);
                    (
                        (i, by),
                        (node, snap.field_sessions.get(i).cloned().flatten()),
                    )
                }))
            });
            let ready = match found {
                Ok(r) => r,
                // Nothing to type and nothing asked: the user is not stuck on it.
                Err(e)
                    if value.unknown
                        && matches!(
                            e.kind,
                            FailureKind::ScenarioMismatch | FailureKind::NotVisible
                        ) =>
                {
                    let url = first
                        .as_ref()
                        .or(self.last.as_ref())
                        .map(|s| s.page.url.clone())
                        .unwrap_or_default();
                    st.filled.push(filled_record(
                        label,
                        value,
                        None,
                        "",
                        FoundBy::AccessibleName,
                        &url,
                    ));
                    continue;
                }
                Err(e) => return Err(e),
            };
            self.note_ready(st, &ready);
            let (index, found_by) = ready.found;
            let Some(field) = ready.snap.page.fields.get(index).cloned() else {
                continue;
            };
            let base = first.get_or_insert_with(|| ready.snap.clone());
            let at = base.field_nodes.iter().position(|n| *n == ready.backend);
            st.filled.push(filled_record(
                label,
                value,
                at,
                &field.name,
                found_by,
                &base.page.url,
            ));
            if value.unknown {
                continue;
            }
            // A recording says `change` for selects too: pick the option it names.
            let want = if !selectors.is_empty() && locate::is_choice(&field) {
                Want::Choice
            } else {
                want
            };
            match want {
                Want::Text => {
                    self.type_into(ready.backend, ready.point, label, &value.text, value.secret)?
                }
                Want::Choice => {
                    self.choose(&ready.snap, index, ready.backend, label, &value.text)?
                }
            }
            self.last_form = field.form.or(self.last_form);
        }
        self.page.settle(self.deadline(), false)?;
        Ok(())
    }

    /// The field for `label`: by name as a user would, then, for a recording, by the
    /// recording's selectors. `Ok(Err(reason))` when it is not on the page.
    fn find_field(
        &self,
        snap: &Snapshot,
        label: &str,
        want: Want,
        selectors: &[String],
    ) -> Result<Result<(usize, FoundBy), Miss>, StepError> {
        let by_name = !recorder::label_is_selector(label, selectors);
        let mut found = if by_name {
            locate::field(&snap.page, label, want)
        } else {
            Err(Miss {
                reason: format!("no field matches the recording's selectors for \"{label}\""),
                hidden: false,
                candidate: None,
            })
        };
        if found.is_err() && !selectors.is_empty() {
            if by_name
                && want == Want::Text
                && let Ok(f) = locate::field(&snap.page, label, Want::Choice)
            {
                return Ok(Ok(f));
            }
            if let Some(backend) = self.find_by_selectors(selectors)?
                && let Some(i) = snap.field_nodes.iter().position(|n| *n == backend)
            {
                found = Ok((i, FoundBy::Selector));
            }
        }
        Ok(found)
    }

    /// The element the first matching selector of a recording names (the control around
    /// it, when it names a part of one), as a backend node id. `aria/` selectors are left
    /// to the by-name lookup, which reads the same accessible names.
    fn find_by_selectors(&self, selectors: &[String]) -> Result<Option<i64>, StepError> {
        for text in selectors {
            let (kind, query) = match Selector::parse(text) {
                Selector::Css(q) => ("css", q),
                Selector::XPath(q) => ("xpath", q),
                Selector::Pierce(q) => ("pierce", q),
                Selector::Text(q) => ("text", q),
                Selector::Aria { .. } => continue,
            };
            let v = self.page.call(
                "Runtime.evaluate",
                json!({"expression": format!("({FIND_JS})({}, {})", json!(kind), json!(query))}),
            )?;
            let Some(object) = v.pointer("/result/objectId").and_then(Value::as_str) else {
                continue;
            };
            let node = self
                .page
                .call("DOM.describeNode", json!({"objectId": object}));
            let _ = self
                .page
                .call("Runtime.releaseObject", json!({"objectId": object}));
            if let Some(backend) = node
                .ok()
                .and_then(|n| n.pointer("/node/backendNodeId").and_then(Value::as_i64))
            {
                return Ok(Some(backend));
            }
        }
        Ok(None)
    }

    /// An `expect`; for a recording's `waitForElement`, met also when one of its selectors
    /// appears before the page settles without it.
    fn expect_or_selector(
        &mut self,
        e: &Expectation,
        selectors: &[String],
    ) -> Result<(), StepError> {
        let by_text = e.text.is_some() || e.url.is_some() || e.absent.is_some();
        let first = if by_text { self.expect(e) } else { Ok(()) };
        // `aria/` names and the `text/` just checked add nothing to what `expect` saw.
        let searchable = selectors.iter().any(|s| match Selector::parse(s) {
            Selector::Aria { .. } => false,
            Selector::Text(t) => e.text.as_deref() != Some(t.as_str()),
            _ => true,
        });
        if (first.is_ok() && by_text) || !searchable {
            return first;
        }
        let deadline = self.deadline();
        loop {
            if self.page.is_loading() {
                self.page.settle(deadline, false)?;
            }
            if self.find_by_selectors(selectors)?.is_some() {
                return Ok(());
            }
            let facts = self.facts()?;
            let settled = match self.page.settle_state(&facts, self.settle_window()) {
                Settle::Settled => true,
                Settle::Waiting { until, .. } if Instant::now() < deadline => {
                    self.page.wait_signal(until.min(deadline))?;
                    false
                }
                Settle::Waiting { .. } => true,
            };
            if settled {
                return first.and(Err(StepError::new(
                    FailureKind::ExpectNotSeen,
                    format!(
                        "the recorded element ({}) is not on the page",
                        selectors.join(" or ")
                    ),
                )));
            }
        }
    }

    /// A recording's `waitForExpression`: its page script must come true in time.
    fn wait_until(&mut self, script: &str) -> Result<(), StepError> {
        let ms = self.timeout().as_millis();
        let js = format!(
            "(async () => {{ const end = Date.now() + {ms};
               while (Date.now() < end) {{
                 try {{ if (await (async () => ({script}))()) return true; }} catch (e) {{}}
                 await new Promise(r => setTimeout(r, 100));
               }}
               return false; }})()"
        );
        let v = self.page.call_within(
            "Runtime.evaluate",
            json!({"expression": js, "awaitPromise": true, "returnByValue": true}),
            self.timeout() + Duration::from_secs(2),
        )?;
        if v.pointer("/result/value").and_then(Value::as_bool) == Some(true) {
            Ok(())
        } else {
            Err(StepError::new(
                FailureKind::ExpectNotSeen,
                format!(
                    "the page never met the recording's condition `{script}` within {}",
                    human_duration(self.timeout())
                ),
            ))
        }
    }

    fn object(&self, backend: i64) -> Result<String, StepError> {
        let v = self.page.call_in(
            self.acting_in.as_deref(),
            "DOM.resolveNode",
            json!({"backendNodeId": backend}),
            CALL_TIMEOUT,
        )?;
        v.pointer("/object/objectId")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| {
                StepError::new(
                    FailureKind::ElementGone,
                    "the field left the page before it could be used",
                )
            })
    }

    fn call_on(&self, object: &str, function: &str, args: Value) -> Result<Value, StepError> {
        let v = self.page.call_in(
            self.acting_in.as_deref(),
            "Runtime.callFunctionOn",
            json!({"objectId": object, "functionDeclaration": function, "arguments": args,
                   "returnByValue": true, "awaitPromise": true}),
            CALL_TIMEOUT,
        )?;
        Ok(v.pointer("/result/value").cloned().unwrap_or(Value::Null))
    }

    /// Types into a field the way a person does: a click at its visible middle puts the
    /// cursor in it (never a script's `focus()`, which reaches fields under an overlay),
    /// then the text goes in as typed text.
    fn type_into(
        &mut self,
        backend: i64,
        point: Option<(f64, f64)>,
        label: &str,
        text: &str,
        secret: bool,
    ) -> Result<(), StepError> {
        let object = self.object(backend)?;
        match point {
            Some(p) => {
                self.click_at(p)?;
                let went = self.call_on(
                    &object,
                    "function() { const n = window.__nocall; const a = n ? n.deepActive() : document.activeElement;
                       if (a === this || this.contains(a) || (this.shadowRoot && this.shadowRoot.contains(a))) return null;
                       if (!a || a === document.body) return 'nowhere';
                       return (a.getAttribute('aria-label') || a.innerText || a.value || a.localName || '').replace(/\\s+/g, ' ').trim().slice(0, 60); }",
                    json!([]),
                )?;
                if let Some(other) = went.as_str() {
                    return Err(StepError::new(
                        FailureKind::Covered,
                        format!(
                            "clicking \"{label}\" did not put the cursor in it (it went to {})",
                            if other == "nowhere" {
                                "nothing".to_string()
                            } else {
                                format!("'{other}'")
                            }
                        ),
                    ));
                }
            }
            // The probe could not run: focus it by script as before probes.
            None => {
                self.call_on(
                    &object,
                    "function() { this.scrollIntoView({block: 'center'}); this.focus(); }",
                    json!([]),
                )?;
            }
        }
        // A secret typed into a plain text box is drawn as dots, so screenshots never show it.
        self.call_on(
            &object,
            "function(secret) { if (this.select) this.select(); this.value = '';
               if (secret && this.type !== 'password') this.style.webkitTextSecurity = 'disc'; }",
            json!([{"value": secret}]),
        )?;
        if !text.is_empty() {
            self.page.call("Input.insertText", json!({"text": text}))?;
        }
        self.call_on(
            &object,
            "function() { this.dispatchEvent(new Event('change', {bubbles: true})); }",
            json!([]),
        )?;
        Ok(())
    }

    fn choose(
        &mut self,
        snap: &Snapshot,
        index: usize,
        backend: i64,
        label: &str,
        option: &str,
    ) -> Result<(), StepError> {
        let Some(field) = snap.page.fields.get(index) else {
            return Ok(());
        };
        if field.tag == "select" || field.role == "combobox" || field.role == "listbox" {
            let object = self.object(backend)?;
            let answer = self.call_on(
                &object,
                "function(wanted) {
                   const norm = s => (s || '').toLowerCase().replace(/[^\\p{L}\\p{N}]/gu, '');
                   const opts = [...(this.options || [])];
                   const o = opts.find(o => norm(o.text) === norm(wanted) || norm(o.value) === norm(wanted));
                   if (!o) return opts.map(o => o.text.trim());
                   this.value = o.value;
                   this.dispatchEvent(new Event('input', {bubbles: true}));
                   this.dispatchEvent(new Event('change', {bubbles: true}));
                   return null; }",
                json!([{"value": option}]),
            )?;
            if let Some(offered) = answer.as_array() {
                let list: Vec<String> = offered
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|s| format!("\"{s}\""))
                    .collect();
                return Err(StepError::new(
                    FailureKind::OptionMissing,
                    format!(
                        "\"{label}\" has no option \"{option}\"; it offers {}",
                        list.join(", ")
                    ),
                ));
            }
            return Ok(());
        }
        if field.input_type == "radio" {
            let Some(radio) = locate::radio_in_group(&snap.page, index, option) else {
                return Err(StepError::new(
                    FailureKind::OptionMissing,
                    format!("\"{label}\" has no choice \"{option}\""),
                ));
            };
            let node = snap.field_nodes.get(radio).copied().unwrap_or(0);
            let session = snap.field_sessions.get(radio).cloned().flatten();
            return self.click_ready((node, session), option);
        }
        // A checkbox: "yes"/"no" and the like.
        let want_checked = !matches!(
            crate::normalize::normalize(option).as_str(),
            "no" | "false" | "off" | "unchecked" | "0"
        );
        let object = self.object(backend)?;
        let checked = self.call_on(&object, "function() { return !!this.checked; }", json!([]))?;
        if checked.as_bool() != Some(want_checked) {
            let session = snap.field_sessions.get(index).cloned().flatten();
            self.click_ready((backend, session), label)?;
        }
        Ok(())
    }

    /// Waits for one known element to be clickable, then clicks it.
    fn click_ready(&mut self, node: Node, asked: &str) -> Result<(), StepError> {
        let backend = node.0;
        let deadline = self.deadline();
        let mut missed = Vec::new();
        loop {
            let r = self.ready(Need::Click, asked, |_, _| Ok(Ok(((), node.clone()))))?;
            match self.press(backend, r.point)? {
                Pressed::Hit => return Ok(()),
                Pressed::Elsewhere(by) => self.missed(asked, by, &mut missed, deadline)?,
            }
        }
    }

    /// Clicks the element at `point` as [`Journey::click_node`] does, and tells whether the
    /// press reached it: the page is listened to as the press fires (see
    /// [`inpage::ARM_JS`]), so a layout shift between the probe and the press is seen, and
    /// the press that went elsewhere is stopped before the page sees it.
    fn press(&mut self, backend: i64, point: Option<(f64, f64)>) -> Result<Pressed, StepError> {
        let Some(p) = point else {
            self.click_node(backend, None)?;
            return Ok(Pressed::Hit);
        };
        // The element went away since the probe: look again.
        let Ok(object) = self.object(backend) else {
            return Ok(Pressed::Elsewhere(
                "nothing (the element left the page)".into(),
            ));
        };
        let armed = self.call_on(&object, inpage::ARM_JS, json!([]))?;
        self.click_at(p)?;
        if armed.as_bool() != Some(true) {
            return Ok(Pressed::Hit);
        }
        // A document gone under the call was left by the click: it reached something.
        let verdict = self
            .call_on(&object, inpage::VERDICT_JS, json!([]))
            .unwrap_or(Value::Null);
        match verdict.get("state").and_then(Value::as_str) {
            Some("intercepted") => {
                let by = verdict
                    .get("by")
                    .and_then(Value::as_str)
                    .unwrap_or("nothing");
                Ok(Pressed::Elsewhere(format!("'{by}'")))
            }
            Some("replaced") => Ok(Pressed::Elsewhere(
                "nothing (the page replaced it during the press)".into(),
            )),
            _ => Ok(Pressed::Hit),
        }
    }

    /// A press that went elsewhere: looked for again while the step's time allows, else
    /// the step blocks naming what received it.
    fn missed(
        &mut self,
        asked: &str,
        by: String,
        missed: &mut Vec<String>,
        deadline: Instant,
    ) -> Result<(), StepError> {
        if !missed.contains(&by) {
            missed.push(by);
        }
        self.page.mark_dirty();
        if Instant::now() < deadline {
            return Ok(());
        }
        Err(StepError::new(
            FailureKind::Covered,
            format!(
                "clicking \"{asked}\" landed on {} instead, each time for {} (the page moved it just before the press)",
                missed.join(", then "),
                human_duration(self.timeout())
            ),
        ))
    }

    /// A real mouse press and release at `(x, y)` of the viewport, as a person clicks.
    fn click_at(&self, (x, y): (f64, f64)) -> Result<(), StepError> {
        for (kind, buttons) in [("mouseMoved", 0), ("mousePressed", 1), ("mouseReleased", 0)] {
            self.page.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "buttons": buttons, "clickCount": 1}),
            )?;
        }
        Ok(())
    }

    /// A real mouse click at `point` (from the probe), else in the middle of the element.
    fn click_node(&mut self, backend: i64, point: Option<(f64, f64)>) -> Result<(), StepError> {
        if let Some(p) = point {
            return self.click_at(p);
        }
        let _ = self.page.call(
            "DOM.scrollIntoViewIfNeeded",
            json!({"backendNodeId": backend}),
        );
        let quads = self
            .page
            .call("DOM.getContentQuads", json!({"backendNodeId": backend}));
        let point = quads.ok().and_then(|q| {
            let quad = q
                .pointer("/quads/0")?
                .as_array()?
                .iter()
                .filter_map(Value::as_f64)
                .collect::<Vec<_>>();
            if quad.len() != 8 {
                return None;
            }
            let x = (quad[0] + quad[2] + quad[4] + quad[6]) / 4.0;
            let y = (quad[1] + quad[3] + quad[5] + quad[7]) / 4.0;
            Some((x, y))
        });
        match point {
            Some(p) => self.click_at(p)?,
            None => {
                // Custom-styled radios and the like hide the real input; click it the way
                // its label would.
                let object = self.object(backend)?;
                self.call_on(&object, "function() { this.click(); }", json!([]))?;
            }
        }
        Ok(())
    }

    fn click(
        &mut self,
        name: &str,
        st: &mut StepTrace,
        selectors: &[String],
    ) -> Result<(), StepError> {
        let by_name = !recorder::label_is_selector(name, selectors);
        let last_form = self.last_form;
        let mut find = |j: &mut Self, snap: &Snapshot| {
            let found = if by_name {
                locate::control(&snap.page, name, last_form)
            } else {
                Err(Miss {
                    reason: format!(
                        "nothing on the page matches the recording's selectors for \"{name}\""
                    ),
                    hidden: false,
                    candidate: None,
                })
            };
            match found {
                Ok((target, ambiguity)) => Ok(Ok(clicked_by_target(snap, target, ambiguity))),
                // Left out of the accessibility tree (behind a modal, say): the page tells
                // why, and the probe waits for it or blocks naming what is in the way.
                Err(Miss {
                    candidate: Some(target),
                    ..
                }) => Ok(Ok(clicked_by_target(snap, target, None))),
                Err(miss) if !selectors.is_empty() => match j.find_by_selectors(selectors)? {
                    Some(backend) => {
                        let (backend, clicked) = clicked_by_node(snap, backend, name);
                        Ok(Ok((clicked, (backend, None))))
                    }
                    None => Ok(Err(miss)),
                },
                Err(miss) => Ok(Err(miss)),
            }
        };
        let deadline = self.deadline();
        let mut missed = Vec::new();
        loop {
            let ready = self.ready(Need::Click, name, &mut find)?;
            self.note_ready(st, &ready);
            st.clicked = Some(ready.found);
            match self.press(ready.backend, ready.point)? {
                Pressed::Hit => break,
                Pressed::Elsewhere(by) => self.missed(name, by, &mut missed, deadline)?,
            }
        }
        self.after_input(&format!("clicking \"{name}\""))
    }

    /// Presses a key where the cursor is, as real key events: Enter in a field submits its
    /// form the way the browser does for a person (implicit submission).
    fn press_key(&mut self, name: &str) -> Result<(), StepError> {
        let Some(key) = crate::scenario::keys::parse(name) else {
            return Err(StepError::new(
                FailureKind::ScenarioMismatch,
                format!("`{name}` is not a key nocall can press"),
            ));
        };
        // A chord: the modifiers go down first and come up last, each with the bits of
        // those held with it, as a keyboard sends them.
        let mods: Vec<_> = crate::scenario::keys::MODIFIER_KEYS
            .iter()
            .filter(|(.., bit)| key.modifiers & bit != 0)
            .collect();
        let modifier = |kind: &str, (key, code, vk): (&str, &str, u32), held: u32| {
            self.page.call(
                "Input.dispatchKeyEvent",
                json!({"type": kind, "key": key, "code": code,
                       "windowsVirtualKeyCode": vk, "nativeVirtualKeyCode": vk,
                       "modifiers": held}),
            )
        };
        let mut held = 0;
        for (mkey, code, vk, bit) in &mods {
            held |= bit;
            modifier("rawKeyDown", (mkey, code, *vk), held)?;
        }
        let mut down = json!({
            "type": if key.text.is_empty() { "rawKeyDown" } else { "keyDown" },
            "key": key.key,
            "code": key.code,
            "windowsVirtualKeyCode": key.vk,
            "nativeVirtualKeyCode": key.vk,
            "modifiers": key.modifiers,
        });
        if !key.text.is_empty() {
            down["text"] = json!(key.text);
            down["unmodifiedText"] = json!(key.text);
        }
        self.page.call("Input.dispatchKeyEvent", down)?;
        self.page.call(
            "Input.dispatchKeyEvent",
            json!({"type": "keyUp", "key": key.key, "code": key.code,
                   "windowsVirtualKeyCode": key.vk, "nativeVirtualKeyCode": key.vk,
                   "modifiers": key.modifiers}),
        )?;
        for (mkey, code, vk, bit) in mods.iter().rev() {
            held &= !bit;
            modifier("keyUp", (mkey, code, *vk), held)?;
        }
        // A key that moved the user on nowhere (Tab between fields) leaves the form they
        // are filling the one whose submit button a later click prefers.
        let form = self.last_form;
        self.after_input(&format!("pressing {name}"))?;
        if !self.page.navigated() {
            self.last_form = form;
        }
        Ok(())
    }

    /// Waits for what a click or key press set off, and checks where it led.
    fn after_input(&mut self, what: &str) -> Result<(), StepError> {
        match self.page.settle_after_input(self.deadline()) {
            Ok(()) => {}
            Err(WaitError::Timeout(_)) => {
                return Err(StepError::new(
                    FailureKind::StillLoading,
                    format!(
                        "the page did not finish loading within {} after {what}; {}",
                        human_duration(self.timeout()),
                        self.page.loading_why()
                    ),
                ));
            }
            Err(e) => return Err(e.into()),
        }
        self.last_form = None;
        if self.page.navigated() {
            if let Some(refused) = self.refused() {
                return Err(refused);
            }
            if let Some(err) = self.page.load_error.clone() {
                return Err(StepError::new(
                    FailureKind::LoadFailed,
                    format!("the next page could not be loaded ({err})"),
                ));
            }
            self.check_status()?;
        }
        Ok(())
    }

    /// Waits until the page shows (or no longer shows) the text and has the address, or
    /// has settled without, or the step's time runs out.
    fn expect(&mut self, e: &Expectation) -> Result<(), StepError> {
        let deadline = self.deadline();
        loop {
            let js = format!(
                "({})({}, {}, {})",
                inpage::EXPECT_JS,
                json!(e.text),
                json!(e.absent),
                !self.page.children.is_empty()
            );
            let seen = match self.page.call(
                "Runtime.evaluate",
                json!({"expression": js, "returnByValue": true}),
            ) {
                Ok(v) => v
                    .pointer("/result/value")
                    .cloned()
                    .and_then(|v| serde_json::from_value::<Seen>(v).ok())
                    .unwrap_or_default(),
                // The document went away under the call: a navigation is under way.
                Err(CdpError::Remote { .. }) => Seen {
                    facts: Some(Facts::default()),
                    ..Seen::default()
                },
                Err(err) => return Err(err.into()),
            };
            let mut seen = seen;
            if !seen.met && !self.page.children.is_empty() {
                self.frames_seen(e, &mut seen);
            }
            let url = match &e.url {
                Some(_) if seen.met => Some(self.page.url()?),
                _ => None,
            };
            let url_ok = match (&e.url, &url) {
                (Some(part), Some(u)) => u.contains(part.as_str()),
                _ => true,
            };
            if seen.met && url_ok {
                return Ok(());
            }
            let unmet = || {
                if !seen.met {
                    let what = match (&e.text, &e.absent) {
                        (Some(t), _) if !seen.text_seen => format!("expected to see \"{t}\""),
                        (_, Some(a)) => format!("expected \"{a}\" to be gone"),
                        _ => "the expected text is not there".to_string(),
                    };
                    StepError::new(
                        FailureKind::ExpectNotSeen,
                        format!("{what}; the page shows: \"{}\"", seen.shown),
                    )
                } else {
                    StepError::new(
                        FailureKind::ExpectNotSeen,
                        format!(
                            "expected the address to contain \"{}\"; it is {}",
                            e.url.as_deref().unwrap_or_default(),
                            url.as_deref().unwrap_or_default()
                        ),
                    )
                }
            };
            let facts = seen.facts.clone().unwrap_or_else(Facts::quiet_page);
            match self.page.settle_state(&facts, self.settle_window()) {
                // A settled page may still have moved itself on a moment later (a
                // confirmation page's timer or refresh): wait for that, on its events.
                Settle::Settled => match self.scheduled_navigation() {
                    Some(due) if Instant::now() + due < deadline => {
                        self.page.wait_signal(Instant::now() + due)?;
                    }
                    _ => return Err(unmet()),
                },
                Settle::Waiting { until, loading } => {
                    if Instant::now() >= deadline {
                        return Err(match loading {
                            Some(why) => StepError::new(
                                FailureKind::StillLoading,
                                format!("{why} after {}", human_duration(self.timeout())),
                            ),
                            None => unmet(),
                        });
                    }
                    self.page.wait_signal(until.min(deadline))?;
                }
            }
        }
    }

    /// How soon a navigation the page has scheduled is due, and a little after
    /// ([`scheduled`]); `None` when none is, or the page cannot tell.
    fn scheduled_navigation(&self) -> Option<Duration> {
        let v = self
            .page
            .call(
                "Runtime.evaluate",
                json!({"expression": scheduled::next_js(), "returnByValue": true}),
            )
            .ok()?;
        scheduled::due_in(v.pointer("/result/value").and_then(Value::as_f64))
    }

    /// Judges an `expect` over the page and its out-of-process frames together: the
    /// frames' text joins the page's, in frame order.
    fn frames_seen(&self, e: &Expectation, seen: &mut Seen) {
        let mut all = seen.all.clone();
        for child in &self.page.children {
            let v = self.page.call_in(
                Some(&child.session),
                "Runtime.evaluate",
                json!({"expression": inpage::TEXT_JS, "returnByValue": true}),
                CALL_TIMEOUT,
            );
            if let Some(t) = v.ok().and_then(|v| {
                v.pointer("/result/value")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            }) {
                all.push(' ');
                all.push_str(&inpage::norm(&t));
            }
        }
        let has = |s: &str| all.contains(&inpage::norm(s));
        seen.text_seen = e.text.as_deref().is_none_or(has);
        seen.met = seen.text_seen && !e.absent.as_deref().is_some_and(has);
    }

    /// Records the page and takes the step's screenshot.
    fn record(
        &mut self,
        index: usize,
        within: Duration,
    ) -> Result<(Snapshot, Option<String>), CdpError> {
        self.page.drain();
        // The browser paints the screenshot while the renderer answers the reads below
        // (none of them changes what is on screen): ~30 ms a step off the critical path.
        let shot = (index > 0)
            .then(|| {
                self.page.send(
                    "Page.captureScreenshot",
                    json!({"format": "png", "optimizeForSpeed": true}),
                )
            })
            .and_then(Result::ok);
        let deadline = Instant::now() + within;
        let left = || {
            deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1))
        };
        // Looking arms the page's change signal (in PAGE_INFO_JS), before the trees are
        // read: a change from here on marks the page dirty, so it is read again.
        self.page.clean();
        self.generation += 1;
        let limits = &self.options.limits;
        let read = self.page.read_document(None, &left, limits)?;
        self.watched = read.info.watched;
        self.last_load = read.info.load_ms.max(0.0) as u64;
        let status = self.page.document.as_ref().map(|(s, _)| *s);
        let mut snap = snapshot::build(&read.doc, &read.ax, read.info, status);
        snap.cuts = read.cuts;
        // Frames in processes of their own: read the same three ways, through their
        // sessions. A frame going away meanwhile is left out, not a failed record.
        for child in self.page.children.clone() {
            let Ok(read) = self.page.read_document(Some(&child.session), &left, limits) else {
                continue;
            };
            let mut frame = snapshot::build(&read.doc, &read.ax, read.info, None);
            frame.cuts = read.cuts;
            let top = snap.page.url.clone();
            snap.add_frame(frame, &child.session, &top);
        }
        snap.cap(limits);
        // A page showing a secret is photographed again with the secret covered, or not at
        // all (issue 17); the image taken meanwhile is dropped unread.
        let reply = match shot {
            Some(_) if super::cover::shows_secret(&snap.page, &self.secrets) => {
                drop(shot);
                self.covered_screenshot(&left)
            }
            Some(pending) => self.page.reply(pending, left()).ok(),
            None => None,
        };
        let shot = reply.and_then(|v| self.save_screenshot(index, &v));
        Ok((snap, shot))
    }

    /// A screenshot with every element that shows a secret covered (see [`super::cover`]),
    /// in the tab and in each frame of a process of its own; `None` when anything fails
    /// or a secret still shows once covered.
    fn covered_screenshot(&self, left: &dyn Fn() -> Duration) -> Option<Value> {
        let mut sessions: Vec<Option<String>> = vec![None];
        sessions.extend(self.page.children.iter().map(|c| Some(c.session.clone())));
        let mut covered = Vec::new();
        let mut clean = true;
        for session in &sessions {
            let s = session.as_deref();
            covered.push(session.clone());
            if !self.cover_in(s, left) {
                clean = false;
                break;
            }
        }
        let reply = if clean {
            self.page
                .call_in(
                    None,
                    "Page.captureScreenshot",
                    json!({"format": "png", "optimizeForSpeed": true}),
                    left(),
                )
                .ok()
        } else {
            None
        };
        for session in &covered {
            let _ = self.page.call_in(
                session.as_deref(),
                "Runtime.evaluate",
                json!({"expression": super::cover::UNCOVER_JS, "returnByValue": true}),
                left(),
            );
        }
        reply
    }

    /// Covers what shows a secret in one document; true when nothing shows one after.
    fn cover_in(&self, session: Option<&str>, left: &dyn Fn() -> Duration) -> bool {
        let eval = |expression: String| {
            self.page
                .call_in(
                    session,
                    "Runtime.evaluate",
                    json!({"expression": expression, "returnByValue": true}),
                    left(),
                )
                .ok()
                .and_then(|v| v.pointer("/result/value").cloned())
        };
        let Some(Value::Array(texts)) = eval(super::cover::LIST_JS.to_string()) else {
            return false;
        };
        let picked: Vec<usize> = texts
            .iter()
            .enumerate()
            .filter(|(_, t)| {
                t.as_str()
                    .is_some_and(|t| super::cover::holds_secret(t, &self.secrets))
            })
            .map(|(i, _)| i)
            .collect();
        let after = eval(format!("({})({})", super::cover::COVER_JS, json!(picked)));
        matches!(after, Some(Value::String(t)) if !super::cover::holds_secret(&t, &self.secrets))
    }

    /// Writes a `Page.captureScreenshot` answer as the step's screenshot, through
    /// [`crate::files`] (checked names, never through a symlink), and returns its path
    /// relative to the output folder.
    fn save_screenshot(&self, index: usize, reply: &Value) -> Option<String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(reply.get("data")?.as_str()?)
            .ok()?;
        let rel = format!("{}/step-{index:02}.png", self.shots_rel);
        crate::files::write_inside(&self.options.out_dir, &rel, &bytes).ok()?;
        Some(rel)
    }
}

/// Finds the element a recording's selector names: `kind` is css, xpath, pierce (CSS into
/// open shadow roots) or text. Returns the control around it when it names a part of one
/// (the `<span>` in a button), or null.
const FIND_JS: &str = r#"(kind, q) => {
  let n = null;
  try {
    if (kind === 'css') n = document.querySelector(q);
    else if (kind === 'xpath') n = document.evaluate(q, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
    else if (kind === 'pierce') {
      const walk = r => { const f = r.querySelector(q); if (f) return f;
        for (const e of r.querySelectorAll('*')) if (e.shadowRoot) { const g = walk(e.shadowRoot); if (g) return g; }
        return null; };
      n = walk(document);
    } else if (kind === 'text') {
      const all = [...document.querySelectorAll('body *')].filter(e => (e.innerText || '').includes(q));
      n = all.length ? all[all.length - 1] : null;
    }
  } catch (e) { return null; }
  if (n && n.nodeType !== 1) n = n.parentElement;
  if (!n) return null;
  return n.closest('a[href],button,input,select,textarea,[role=button],[role=link],[role=checkbox],[role=radio],[role=combobox],[role=textbox]') || n;
}"#;

/// What a click found by selector pressed, named as the page names it.
fn clicked_by_node(snap: &Snapshot, backend: i64, asked: &str) -> (i64, Clicked) {
    let at = |nodes: &[i64]| nodes.iter().position(|n| *n == backend);
    let (name, role, href) =
        if let Some(b) = at(&snap.button_nodes).and_then(|i| snap.page.buttons.get(i)) {
            (b.name.clone(), "button".to_string(), None)
        } else if let Some(l) = at(&snap.link_nodes).and_then(|i| snap.page.links.get(i)) {
            (l.text.clone(), "link".to_string(), Some(l.href.clone()))
        } else if let Some(f) = at(&snap.field_nodes).and_then(|i| snap.page.fields.get(i)) {
            let role = if f.role.is_empty() {
                f.tag.clone()
            } else {
                f.role.clone()
            };
            (f.name.clone(), role, None)
        } else {
            (asked.to_string(), "element".to_string(), None)
        };
    (
        backend,
        Clicked {
            name,
            role,
            href,
            ambiguity: None,
        },
    )
}

/// What a step needs of the element it acts on, before it acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Only that it is on the page (a `{unknown}` value: nothing is typed).
    Present,
    Click,
    Fill,
    Choose,
}

impl Need {
    fn as_str(self) -> &'static str {
        match self {
            Need::Present => "present",
            Need::Click => "click",
            Need::Fill => "fill",
            Need::Choose => "choose",
        }
    }
}

/// An element found and ready for its step.
struct Ready<T> {
    /// The page it was found on, and that page's record number.
    snap: Snapshot,
    generation: u64,
    found: T,
    backend: i64,
    /// Where a click lands on it, in viewport coordinates; `None` when the probe could not
    /// run and the step acts as it did before probes.
    point: Option<(f64, f64)>,
    /// How long it took to become ready, when it was not at the first look.
    waited: Option<String>,
}

/// Why a control found on a settled page cannot be used, as the user would say it.
fn stuck_error(p: &Probe, asked: &str) -> StepError {
    match p.state.as_str() {
        "covered" => StepError::new(
            FailureKind::Covered,
            format!("\"{asked}\" is covered by '{}'", p.cover),
        ),
        "inert" if p.cover.is_empty() => StepError::new(
            FailureKind::Covered,
            format!("\"{asked}\" is covered by a dialog that stays open"),
        ),
        "inert" => StepError::new(
            FailureKind::Covered,
            format!("\"{asked}\" is covered by the dialog '{}'", p.cover),
        ),
        "disabled" if p.messages.is_empty() => {
            StepError::new(FailureKind::Disabled, format!("\"{asked}\" stays disabled"))
        }
        "disabled" => StepError::new(
            FailureKind::Disabled,
            format!(
                "\"{asked}\" stays disabled; the page says: {}",
                p.messages
                    .iter()
                    .map(|m| format!("\"{m}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        "readonly" => StepError::new(FailureKind::Disabled, format!("\"{asked}\" is read-only")),
        _ => StepError::new(
            FailureKind::NotVisible,
            format!("\"{asked}\" is on the page but not visible"),
        ),
    }
}

/// Where a click's press went.
enum Pressed {
    Hit,
    /// Somewhere else: what received it, quoted as the page names it.
    Elsewhere(String),
}

/// An element to act on: its backend node id and the session of the frame it lives in.
type Node = (i64, Option<String>);

/// What a click on a located control pressed, and its node.
fn clicked_by_target(
    snap: &Snapshot,
    target: Target,
    ambiguity: Option<String>,
) -> (Clicked, Node) {
    match target {
        Target::Button(i) => {
            let b = snap.page.buttons.get(i);
            (
                Clicked {
                    name: b.map(|b| b.name.clone()).unwrap_or_default(),
                    role: "button".into(),
                    href: None,
                    ambiguity,
                },
                (
                    snap.button_nodes.get(i).copied().unwrap_or(0),
                    snap.button_sessions.get(i).cloned().flatten(),
                ),
            )
        }
        Target::Link(i) => {
            let l = snap.page.links.get(i);
            (
                Clicked {
                    name: l.map(|l| l.text.clone()).unwrap_or_default(),
                    role: "link".into(),
                    href: l.map(|l| l.href.clone()),
                    ambiguity,
                },
                (
                    snap.link_nodes.get(i).copied().unwrap_or(0),
                    snap.link_sessions.get(i).cloned().flatten(),
                ),
            )
        }
    }
}

fn filled_record(
    asked: &str,
    value: &StepValue,
    field: Option<usize>,
    name: &str,
    found_by: FoundBy,
    url: &str,
) -> Filled {
    Filled {
        asked: asked.to_string(),
        field,
        name: name.to_string(),
        found_by,
        holds: value.holds.clone(),
        unknown: value.unknown,
        secret: value.secret,
        url: url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_replaces_the_origin_only() {
        let start = url::Url::parse("http://127.0.0.1:8080/confer/").unwrap();
        let base = url::Url::parse("http://127.0.0.1:4321").unwrap();
        assert_eq!(
            rebase(&start, Some(&base)).as_str(),
            "http://127.0.0.1:4321/confer/"
        );
        let base = url::Url::parse("https://staging.example/portal/").unwrap();
        assert_eq!(
            rebase(&start, Some(&base)).as_str(),
            "https://staging.example/portal/confer/"
        );
        assert_eq!(rebase(&start, None), start);
    }
}
