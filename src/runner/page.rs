//! One tab in one incognito context: commands, and waits driven by the browser's own events.
//!
//! Nothing here sleeps or polls. A wait reads the session's event stream (frame loading,
//! network requests, lifecycle, and the page's own "I changed" signal from
//! [`inpage::INIT_JS`]) until what it waits for holds or the deadline passes, so a fast
//! page costs what the browser takes and a hung one costs exactly the step timeout. The
//! only clocks are deadlines computed from what the page said: the step's timeout, the end
//! of the settle window, the next short timer due, a request's age cap.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::browser::{Browser, CALL_TIMEOUT};
use super::cdp::{CdpError, Event, Pending};
use super::fence::Fence;
use super::inpage::{self, Facts};
use super::snapshot::{self, PageInfo};
use crate::config::Limits;
use crate::trace::Cut;

/// A request in flight longer than this no longer holds the page up: long polls and
/// streaming requests would otherwise keep it loading for ever.
pub(super) const REQUEST_CAP: Duration = Duration::from_secs(2);

/// A frame of the tab that runs in a process of its own (a cross-site iframe), attached
/// over a flattened session of its own.
#[derive(Debug, Clone)]
pub(super) struct Child {
    pub session: String,
    /// The frame's id, which is also its target's id.
    pub frame_id: String,
    pub url: String,
}

/// A request the page has in flight.
#[derive(Debug, Clone)]
pub(super) struct Request {
    since: Instant,
    url: String,
}

/// Where a page stands, for a step whose control or text is not there (yet).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Settle {
    /// Nothing is loading, nothing changed for the settle window and nothing is due soon:
    /// what is missing now will not come.
    Settled,
    /// The page may still bring it; look again at `until` at the latest (or on the next
    /// event). `loading` says why, when the page is visibly still working, for a step
    /// that runs out of time (otherwise the page is only not quiet yet).
    Waiting {
        until: Instant,
        loading: Option<String>,
    },
}

/// Whether a page has settled, from the tab's network and load state and the page's own
/// `facts`. Pure, so it is tested without a browser.
pub(super) fn settle_state(
    loading: bool,
    inflight: &HashMap<String, Request>,
    last_activity: Instant,
    facts: &Facts,
    window: Duration,
    now: Instant,
) -> Settle {
    let far = now + Duration::from_secs(3600);
    if loading {
        return Settle::Waiting {
            until: far,
            loading: Some("the page was still loading".into()),
        };
    }
    let young: Vec<&Request> = inflight
        .values()
        .filter(|r| now.saturating_duration_since(r.since) < REQUEST_CAP)
        .collect();
    if let Some(oldest) = young.iter().map(|r| r.since).min() {
        let mut urls: Vec<String> = young.iter().map(|r| short_url(&r.url)).collect();
        urls.sort();
        urls.dedup();
        urls.truncate(3);
        let n = young.len();
        return Settle::Waiting {
            until: oldest + REQUEST_CAP,
            loading: Some(format!(
                "the page was still loading ({n} request{} in flight: {})",
                if n == 1 { "" } else { "s" },
                urls.join(", ")
            )),
        };
    }
    if !facts.busy.is_empty() {
        return Settle::Waiting {
            until: far,
            loading: Some(format!("the page still showed \"{}\"", facts.busy)),
        };
    }
    let ms = |f: f64| Duration::from_micros((f.max(0.0) * 1000.0).min(3.6e12) as u64);
    let mut until = None::<Instant>;
    if facts.soon >= 0.0 {
        until = Some(now + ms(facts.soon) + Duration::from_millis(1));
    }
    let quiet = ms(facts.quiet);
    if quiet < window {
        let end = now + (window - quiet);
        until = Some(until.map_or(end, |u| u.min(end)));
    }
    let net_quiet = last_activity + window;
    if net_quiet > now {
        until = Some(until.map_or(net_quiet, |u| u.min(net_quiet)));
    }
    match until {
        Some(until) => Settle::Waiting {
            until,
            loading: None,
        },
        None => Settle::Settled,
    }
}

/// A request's key in the in-flight map: request ids are unique per session only.
fn request_key(top: bool, session: &str, p: &Value) -> String {
    let id = p
        .get("requestId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if top {
        id.to_string()
    } else {
        format!("{session}/{id}")
    }
}

/// `/api/view?path=/x` for `http://host/api/view?path=/x`: enough to tell requests apart.
fn short_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => {
            let mut s = u.path().to_string();
            if let Some(q) = u.query() {
                s.push('?');
                s.push_str(q);
            }
            s.chars().take(60).collect()
        }
        Err(_) => url.chars().take(60).collect(),
    }
}

pub(super) struct Page {
    browser: Browser,
    context_id: String,
    pub session: String,
    events: Receiver<Event>,
    main_frame: String,
    /// Requests in flight (not counting long-lived ones such as websockets / event streams).
    inflight: HashMap<String, Request>,
    /// When the browser last reported network, lifecycle or document activity.
    last_activity: Instant,
    /// The document changed (the page's signal, or a `pushState`) since [`Page::clean`].
    dirty: bool,
    /// Out-of-process frames, in the order they attached.
    pub children: Vec<Child>,
    /// Requests for the main frame's documents (loadingFailed names only the request).
    documents: HashSet<String>,
    loading: bool,
    /// Main-frame loads that ended since the counter was last reset.
    stopped: usize,
    started: usize,
    /// The last main-document response: (status, url).
    pub document: Option<(u16, String)>,
    /// Text of dialogs the page opened (answered by the connection).
    pub dialogs: Vec<String>,
    /// The page crashed (renderer gone).
    pub crashed: bool,
    /// Why the last navigation failed (`net::ERR_CONNECTION_REFUSED`).
    pub load_error: Option<String>,
    /// What the tab may not request (`None`: `--allow-private`).
    fence: Option<Arc<Fence>>,
    /// Requests the fence stopped since [`Page::mark`]: (URL, why).
    pub blocked: Vec<(String, String)>,
    /// Answers the page's own requests (fetch, XHR) got since the tab opened.
    answered: usize,
    /// Time spent waiting for the browser (replies and events) since the tab opened; what
    /// is left of a step's time is nocall's own.
    waited: Cell<Duration>,
}

/// One document as [`Page::read_document`] read it.
pub(super) struct DocumentRead {
    pub info: PageInfo,
    /// `DOM.getDocument`'s root, or the walk's tree in its shape.
    pub doc: Value,
    /// Accessibility nodes (`Accessibility.getFullAXTree`'s, or the walked elements').
    pub ax: Value,
    /// The limits the read reached.
    pub cuts: Vec<Cut>,
}

/// Why a wait ended without the page settling.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum WaitError {
    /// The page was still loading at the deadline.
    Timeout(Duration),
    Cdp(CdpError),
    Crashed,
}

impl From<CdpError> for WaitError {
    fn from(e: CdpError) -> Self {
        WaitError::Cdp(e)
    }
}

impl Page {
    pub(super) fn open(browser: &Browser) -> Result<Page, CdpError> {
        let (context_id, _target, session) = browser.new_context()?;
        // A download link must not write outside the run's folder (Chromium would use
        // ~/Downloads): the context refuses downloads; the page stays as it was.
        browser.conn.call_raw(
            None,
            "Browser.setDownloadBehavior",
            json!({"behavior": "deny", "browserContextId": context_id}),
            CALL_TIMEOUT,
        )?;
        let events = browser.conn.subscribe(&session);
        let mut page = Page {
            browser: browser.clone(),
            context_id,
            session,
            events,
            main_frame: String::new(),
            inflight: HashMap::new(),
            last_activity: Instant::now(),
            dirty: true,
            children: Vec::new(),
            documents: HashSet::new(),
            loading: false,
            stopped: 0,
            started: 0,
            document: None,
            dialogs: Vec::new(),
            crashed: false,
            load_error: None,
            fence: None,
            blocked: Vec::new(),
            answered: 0,
            waited: Cell::new(Duration::ZERO),
        };
        for method in [
            "Page.enable",
            "Network.enable",
            "DOM.enable",
            "Accessibility.enable",
        ] {
            page.call(method, json!({}))?;
        }
        page.call("Page.setLifecycleEventsEnabled", json!({"enabled": true}))?;
        // The page's change signal: a binding its init script calls once per look, on the
        // same event stream as the network and lifecycle events.
        page.call("Runtime.enable", json!({}))?;
        page.call("Runtime.addBinding", json!({"name": inpage::SIGNAL}))?;
        page.call(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": inpage::init_js(), "runImmediately": true}),
        )?;
        // Cross-site frames run in processes of their own: attach to each as it comes,
        // paused until the connection's reader has fenced it and let it run (see
        // `cdp::read_loop`), so its first requests are fenced too; nothing here has to pump
        // events for it to start.
        page.call(
            "Target.setAutoAttach",
            json!({"autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true}),
        )?;
        let tree = page.call("Page.getFrameTree", json!({}))?;
        page.main_frame = tree
            .pointer("/frameTree/frame/id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        Ok(page)
    }

    /// The product and version of the browser the tab lives in.
    pub(super) fn browser_version(&self) -> Option<String> {
        self.browser.version.clone()
    }

    /// Whether this tab lives in `browser` and that browser is still running.
    pub(super) fn belongs_to(&self, browser: &Browser) -> bool {
        self.browser.is_alive() && self.browser.same_as(browser)
    }

    pub(super) fn call(&self, method: &str, params: Value) -> Result<Value, CdpError> {
        self.call_within(method, params, CALL_TIMEOUT)
    }

    /// A command to one of the tab's frames (`None`: the tab itself).
    pub(super) fn call_in(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, CdpError> {
        let t0 = Instant::now();
        let reply = self.browser.conn.call_raw(
            Some(session.unwrap_or(&self.session)),
            method,
            params,
            timeout,
        );
        self.waited_for(t0.elapsed());
        reply
    }

    /// Sets up a frame's session as the tab's own: its requests, its change signal, its
    /// own frames.
    fn adopt(&self, child: &str) {
        let conn = &self.browser.conn;
        let c = Some(child);
        for method in [
            "Page.enable",
            "Network.enable",
            "DOM.enable",
            "Accessibility.enable",
            "Runtime.enable",
        ] {
            conn.fire(c, method, json!({}));
        }
        conn.fire(c, "Runtime.addBinding", json!({"name": inpage::SIGNAL}));
        conn.fire(
            c,
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": inpage::init_js(), "runImmediately": true}),
        );
        conn.fire(
            c,
            "Target.setAutoAttach",
            json!({"autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true}),
        );
    }

    /// Sends a command and returns at once; see [`Pending`].
    pub(super) fn send(&self, method: &str, params: Value) -> Result<Pending, CdpError> {
        self.browser
            .conn
            .send_raw(Some(&self.session), method, params)
    }

    pub(super) fn call_within(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, CdpError> {
        self.call_in(None, method, params, timeout)
    }

    /// Waits for the reply to a command [`Page::send`] sent.
    pub(super) fn reply(&self, pending: Pending, timeout: Duration) -> Result<Value, CdpError> {
        let t0 = Instant::now();
        let reply = pending.wait(timeout);
        self.waited_for(t0.elapsed());
        reply
    }

    /// Counts time spent waiting on something other than nocall (the browser, a mail
    /// server, the portal).
    pub(super) fn waited_for(&self, d: Duration) {
        self.waited.set(self.waited.get() + d);
    }

    /// Time spent waiting since the tab opened.
    pub(super) fn waited(&self) -> Duration {
        self.waited.get()
    }

    /// Applies every event already received, without waiting.
    pub(super) fn drain(&mut self) {
        while let Ok(e) = self.events.try_recv() {
            self.apply(e);
        }
    }

    /// Starts counting loads from now.
    pub(super) fn mark(&mut self) {
        self.drain();
        self.started = 0;
        self.stopped = 0;
        self.load_error = None;
        self.blocked.clear();
    }

    /// Keeps the tab and its frames off the addresses `fence` refuses, from now on: only
    /// requests its patterns match are paused and judged (see [`super::fence`]).
    pub(super) fn fence(&mut self, fence: Fence) -> Result<(), CdpError> {
        let fence = Arc::new(fence);
        let conn = &self.browser.conn;
        conn.fence(&self.session, fence.clone());
        for c in &self.children {
            conn.fence(&c.session, fence.clone());
            conn.fire(Some(&c.session), "Fetch.enable", fence.enable_params());
        }
        self.call("Fetch.enable", fence.enable_params())?;
        self.fence = Some(fence);
        Ok(())
    }

    /// Whether the main frame is loading a page now.
    pub(super) fn is_loading(&self) -> bool {
        self.loading
    }

    /// Stops whatever the tab is loading (as the user's Stop button would).
    pub(super) fn stop_loading(&mut self) {
        let _ = self.call_within("Page.stopLoading", json!({}), Duration::from_secs(2));
        self.drain();
    }

    /// Main-frame loads started since [`Page::mark`].
    pub(super) fn loads(&self) -> usize {
        self.started
    }

    /// Whether a main-frame navigation started since [`Page::mark`].
    pub(super) fn navigated(&self) -> bool {
        self.started > 0 || self.stopped > 0
    }

    /// Navigates and waits for the page to settle.
    pub(super) fn navigate(&mut self, url: &str, timeout: Duration) -> Result<(), WaitError> {
        self.mark();
        let deadline = Instant::now() + timeout;
        let reply = match self.call_within("Page.navigate", json!({"url": url}), timeout) {
            Ok(r) => r,
            Err(e) => {
                if matches!(e, CdpError::Timeout { .. }) {
                    // No answer from the server yet: the navigation is still under way.
                    self.loading = true;
                }
                return Err(e.into());
            }
        };
        if let Some(err) = reply
            .get("errorText")
            .and_then(Value::as_str)
            .filter(|e| !e.is_empty())
        {
            self.load_error = Some(err.to_string());
        }
        self.settle(deadline, true)
    }

    /// Waits until the navigation the last action started (if any) has loaded and no
    /// request younger than [`REQUEST_CAP`] is in flight. With `expect_navigation`, waits for
    /// a load to end even if none has been seen to start yet. No quiet window here: that is
    /// paid only by a step whose control or text is missing ([`Page::settle_state`]).
    pub(super) fn settle(
        &mut self,
        deadline: Instant,
        expect_navigation: bool,
    ) -> Result<(), WaitError> {
        self.drain();
        // A load under way (or asked for) must end: frameStoppedLoading follows the load event.
        while (expect_navigation || self.started > 0 || self.loading) && self.stopped == 0 {
            self.next_event(deadline)?;
            if self.crashed {
                return Err(WaitError::Crashed);
            }
        }
        loop {
            let now = Instant::now();
            let Some(oldest) = self
                .inflight
                .values()
                .map(|r| r.since)
                .filter(|since| now.saturating_duration_since(*since) < REQUEST_CAP)
                .min()
            else {
                break;
            };
            if now >= deadline {
                return Err(WaitError::Timeout(deadline.saturating_duration_since(now)));
            }
            match self.next_event((oldest + REQUEST_CAP).min(deadline)) {
                Ok(()) | Err(WaitError::Timeout(_)) => {}
                Err(e) => return Err(e),
            }
            // A request started a new navigation (a script redirect): wait for that too.
            if self.loading && self.started > self.stopped {
                self.stopped = 0;
                return self.settle(deadline, true);
            }
        }
        if self.crashed {
            return Err(WaitError::Crashed);
        }
        Ok(())
    }

    /// Whether the page has settled, given the page's own `facts` (see [`settle_state`]).
    pub(super) fn settle_state(&mut self, facts: &Facts, window: Duration) -> Settle {
        self.drain();
        settle_state(
            self.loading,
            &self.inflight,
            self.last_activity,
            facts,
            window,
            Instant::now(),
        )
    }

    /// Why the page counts as still loading, for a step that ran out of time on it.
    pub(super) fn loading_why(&mut self) -> String {
        match self.settle_state(&Facts::quiet_page(), Duration::ZERO) {
            Settle::Waiting {
                loading: Some(why), ..
            } => why,
            _ => "the page was still loading".to_string(),
        }
    }

    /// Waits for the next event that may change what the page shows (its change signal, a
    /// request starting or ending, a load, a navigation), or until `until`. Applies every
    /// event queued behind it.
    pub(super) fn wait_signal(&mut self, until: Instant) -> Result<(), WaitError> {
        loop {
            let t0 = Instant::now();
            let left = until.saturating_duration_since(t0);
            let got = self.events.recv_timeout(left);
            self.waited_for(t0.elapsed());
            match got {
                Ok(e) => {
                    if self.apply(e) {
                        break;
                    }
                }
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(WaitError::Cdp(CdpError::Closed));
                }
            }
        }
        self.drain();
        if self.crashed {
            return Err(WaitError::Crashed);
        }
        Ok(())
    }

    /// Whether the document changed since [`Page::clean`] (as far as events received tell).
    pub(super) fn dirty(&mut self) -> bool {
        self.drain();
        self.dirty
    }

    /// Forgets past changes: the caller is about to look at the page (and re-arm its signal).
    pub(super) fn clean(&mut self) {
        self.drain();
        self.dirty = false;
    }

    /// Marks the page as changed, so the next look reads it again.
    pub(super) fn mark_dirty(&mut self) {
        self.dirty = true;
    }

    /// After a click or key press: lets the page's handlers run, then waits for whatever
    /// navigation they started.
    pub(super) fn settle_after_input(&mut self, deadline: Instant) -> Result<(), WaitError> {
        self.dirty = true;
        // One task: click handlers ran while the input was dispatched, and a form submission
        // or `location` change they made is queued before it, so by its end the browser has
        // been told of the navigation (and of any request a handler started, which `settle`
        // waits for). Animation frames would cost ~16 ms each and tell nothing more.
        self.one_task(deadline);
        let mut seen = self.answered;
        self.settle(deadline, false)?;
        // An answer to a request the handlers made may move the page on in its own handler
        // (`fetch(…).then(() => location = …)`), which runs after the answer arrived: one
        // more task for it, then wait for what it started — while answers keep coming.
        for _ in 0..3 {
            if self.answered == seen || self.stopped > 0 {
                break;
            }
            seen = self.answered;
            self.one_task(deadline);
            self.settle(deadline, self.started > self.stopped)?;
        }
        Ok(())
    }

    /// Lets the page run one task (its pending callbacks) and takes in what it set off.
    fn one_task(&mut self, deadline: Instant) {
        let _ = self.call_within(
            "Runtime.evaluate",
            json!({
                "expression": "new Promise(r => setTimeout(r, 0))",
                "awaitPromise": true,
            }),
            deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1)),
        );
        self.drain();
    }

    /// Lets `time` pass as a scenario's `wait:` asks, following the page's events all the
    /// while: a browser that dies or a tab that crashes ends the wait at once, and so does
    /// Ctrl-C (looked at every 100 ms, since it sends no event).
    pub(super) fn pass_time(&mut self, time: Duration) -> Result<(), WaitError> {
        let until = Instant::now() + time;
        while !super::interrupted() && Instant::now() < until {
            let slice = (Instant::now() + Duration::from_millis(100)).min(until);
            match self.next_event(slice) {
                Ok(()) | Err(WaitError::Timeout(_)) => {}
                Err(e) => return Err(e),
            }
            if self.crashed {
                return Err(WaitError::Crashed);
            }
        }
        Ok(())
    }

    fn next_event(&mut self, deadline: Instant) -> Result<(), WaitError> {
        let t0 = Instant::now();
        let left = deadline.saturating_duration_since(t0);
        let got = self.events.recv_timeout(left);
        self.waited_for(t0.elapsed());
        match got {
            Ok(e) => {
                self.apply(e);
                Ok(())
            }
            Err(RecvTimeoutError::Timeout) => Err(WaitError::Timeout(left)),
            Err(RecvTimeoutError::Disconnected) => Err(WaitError::Cdp(CdpError::Closed)),
        }
    }

    /// Applies one event; true when it may change what the page shows.
    fn apply(&mut self, e: Event) -> bool {
        let p = &e.params;
        // Only the tab's own session tells about its main frame (a frame in another process
        // reports a root frame of its own).
        let top = e.session == self.session;
        let frame = || {
            if top {
                p.get("frameId").and_then(Value::as_str).unwrap_or_default()
            } else {
                ""
            }
        };
        let relevant = matches!(
            e.method.as_str(),
            "Runtime.bindingCalled"
                | "Page.navigatedWithinDocument"
                | "Page.frameStartedLoading"
                | "Page.frameStoppedLoading"
                | "Page.frameNavigated"
                | "Network.requestWillBeSent"
                | "Network.loadingFinished"
                | "Network.loadingFailed"
                | "Network.responseReceived"
                | "Page.javascriptDialogOpening"
                | "Inspector.targetCrashed"
        );
        if relevant {
            self.last_activity = Instant::now();
        }
        match e.method.as_str() {
            "Target.attachedToTarget" => {
                let child = p
                    .get("sessionId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let info = &p["targetInfo"];
                if info.get("type").and_then(Value::as_str) == Some("iframe") {
                    self.adopt(child);
                    self.children.push(Child {
                        session: child.to_string(),
                        frame_id: info
                            .get("targetId")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        url: info
                            .get("url")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                    });
                    self.dirty = true;
                    return true;
                }
                // Workers and the like are not what the user sees, but stay attached: the
                // fence on their session is what keeps their requests off private addresses.
            }
            "Target.detachedFromTarget" => {
                let child = p
                    .get("sessionId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                self.children.retain(|c| c.session != child);
                let prefix = format!("{child}/");
                self.inflight.retain(|id, _| !id.starts_with(&prefix));
                self.dirty = true;
                return true;
            }
            "Page.frameNavigated" if !top => {
                let f = &p["frame"];
                if f.get("parentId").is_none()
                    && let Some(child) = self.children.iter_mut().find(|c| c.session == e.session)
                {
                    child.url = f
                        .get("url")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                }
                self.dirty = true;
            }
            "Runtime.bindingCalled"
                if p.get("name").and_then(Value::as_str) == Some(inpage::SIGNAL) =>
            {
                self.dirty = true;
            }
            "Page.navigatedWithinDocument" => self.dirty = true,
            "Page.frameStartedLoading" if frame() == self.main_frame => {
                self.loading = true;
                self.started += 1;
            }
            "Page.frameStoppedLoading" if frame() == self.main_frame => {
                self.loading = false;
                self.stopped += 1;
            }
            "Page.frameNavigated" => {
                self.dirty = true;
                let f = &p["frame"];
                if f.get("parentId").is_none()
                    && let Some(id) = f.get("id").and_then(Value::as_str)
                {
                    self.main_frame = id.to_string();
                }
            }
            "Network.requestWillBeSent" => {
                let kind = p.get("type").and_then(Value::as_str).unwrap_or_default();
                let id = request_key(top, &e.session, p);
                let id = id.as_str();
                // A frame's own document is its load, not a request of the page: a
                // cross-site frame's ends in a session attached after it began, where its
                // end may never be seen.
                let frame_document = kind == "Document" && (!top || frame() != self.main_frame);
                if !frame_document
                    && !matches!(
                        kind,
                        "WebSocket" | "EventSource" | "Ping" | "Media" | "Prefetch"
                    )
                {
                    let url = p
                        .pointer("/request/url")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    self.inflight.insert(
                        id.to_string(),
                        Request {
                            since: Instant::now(),
                            url: url.to_string(),
                        },
                    );
                }
                if kind == "Document" && frame() == self.main_frame {
                    self.documents.insert(id.to_string());
                }
            }
            "Network.loadingFinished" | "Network.loadingFailed" => {
                let id = request_key(top, &e.session, p);
                let id = id.as_str();
                self.inflight.remove(id);
                // A cross-site frame's document is requested by the page's session and
                // finished in the frame's own.
                if let Some(bare) = p.get("requestId").and_then(Value::as_str) {
                    self.inflight.remove(bare);
                }
                let document = self.documents.remove(id);
                if e.method == "Network.loadingFailed" && document {
                    let text = p
                        .get("errorText")
                        .and_then(Value::as_str)
                        .unwrap_or("failed");
                    if !text.contains("ERR_ABORTED") {
                        self.load_error = Some(text.to_string());
                    }
                }
            }
            // A `fetch` whose body the page never reads has no loadingFinished until it is
            // collected: once answered, an API call no longer holds the page up (what it
            // changes in the document is waited for as a change).
            "Network.responseReceived"
                if matches!(p.get("type").and_then(Value::as_str), Some("Fetch" | "XHR")) =>
            {
                self.inflight.remove(&request_key(top, &e.session, p));
                self.answered += 1;
            }
            "Network.responseReceived"
                if p.get("type").and_then(Value::as_str) == Some("Document")
                    && frame() == self.main_frame =>
            {
                let status = p.pointer("/response/status").and_then(Value::as_f64);
                let url = p.pointer("/response/url").and_then(Value::as_str);
                if let (Some(status), Some(url)) = (status, url) {
                    self.document = Some((status as u16, url.to_string()));
                }
            }
            "Page.javascriptDialogOpening" => {
                let message = p.get("message").and_then(Value::as_str).unwrap_or_default();
                if self.dialogs.len() < 50 {
                    self.dialogs.push(message.to_string());
                }
            }
            "Inspector.targetCrashed" => self.crashed = true,
            // The connection already answered it; what was stopped is kept for the step.
            "Fetch.requestPaused" => {
                let url = p
                    .pointer("/request/url")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if let Some(why) = self.fence.as_ref().and_then(|f| f.blocks(url))
                    && self.blocked.len() < 50
                {
                    self.blocked.push((url.to_string(), why));
                }
            }
            _ => {}
        }
        relevant
    }

    /// The page's URL as the browser has it now.
    pub(super) fn url(&self) -> Result<String, CdpError> {
        let v = self.call(
            "Runtime.evaluate",
            json!({"expression": "location.href", "returnByValue": true}),
        )?;
        Ok(v.pointer("/result/value")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string())
    }

    /// What one document shows (the tab's, or a frame's in a process of its own behind
    /// `session`): the page facts, the DOM tree through shadow roots and the frames of its
    /// own process, and the accessibility trees of that document and of each such frame.
    /// A document past the `limits` ([`snapshot::Gauge::too_big`]) is walked in the page up
    /// to them instead, so its whole tree is never built nor sent (issue 23).
    pub(super) fn read_document(
        &self,
        session: Option<&str>,
        left: &dyn Fn() -> Duration,
        limits: &Limits,
    ) -> Result<DocumentRead, CdpError> {
        let read = |method: &str, params: Value| self.call_in(session, method, params, left());
        let info = read(
            "Runtime.evaluate",
            json!({"expression": snapshot::page_info_js(limits.text_chars), "returnByValue": true}),
        )?;
        let info: PageInfo = info
            .pointer("/result/value")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        let mut cuts: Vec<Cut> = snapshot::text_cut(&info.gauge, limits)
            .into_iter()
            .collect();
        if info.gauge.too_big(limits) {
            let (doc, ax, walked) = self.walk_document(session, left, limits, &info)?;
            cuts.extend(walked);
            return Ok(DocumentRead {
                info,
                doc,
                ax,
                cuts,
            });
        }
        let mut doc = read("DOM.getDocument", json!({"depth": -1, "pierce": true}))?;
        let doc = doc.get_mut("root").map(Value::take).unwrap_or(Value::Null);
        let mut ax = read("Accessibility.getFullAXTree", json!({}))?;
        let mut nodes = match ax.get_mut("nodes").map(Value::take) {
            Some(Value::Array(n)) => n,
            _ => Vec::new(),
        };
        // A frame that went away meanwhile is only left out.
        for frame in snapshot::inner_frames(&doc) {
            if let Ok(mut more) = read("Accessibility.getFullAXTree", json!({"frameId": frame}))
                && let Some(Value::Array(more)) = more.get_mut("nodes").map(Value::take)
            {
                nodes.extend(more);
            }
        }
        Ok(DocumentRead {
            info,
            doc,
            ax: Value::Array(nodes),
            cuts,
        })
    }

    /// Reads a document too big to read whole through [`snapshot::walk_js`]: the walked
    /// tree, the accessibility node of each element the runner may act on (asked one by
    /// one, all sent before any answer is awaited), and the limits reached.
    fn walk_document(
        &self,
        session: Option<&str>,
        left: &dyn Fn() -> Duration,
        limits: &Limits,
        info: &PageInfo,
    ) -> Result<(Value, Value, Vec<Cut>), CdpError> {
        const GROUP: &str = "nocall-walk";
        let on = Some(session.unwrap_or(&self.session));
        let read = |method: &str, params: Value| self.call_in(session, method, params, left());
        let walked = read(
            "Runtime.evaluate",
            json!({"expression": snapshot::walk_js(limits), "returnByValue": false, "objectGroup": GROUP}),
        )
        .and_then(|reply| {
            let bad = |detail: &str| CdpError::Decode {
                method: "Runtime.evaluate".into(),
                detail: detail.into(),
            };
            if reply.get("exceptionDetails").is_some() {
                return Err(bad("the page walk threw"));
            }
            let id = reply
                .pointer("/result/objectId")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("no walk"))?;
            let own = |id: &str| {
                read(
                    "Runtime.getProperties",
                    json!({"objectId": id, "ownProperties": true}),
                )
                .map(|v| match v.get("result") {
                    Some(Value::Array(props)) => props.clone(),
                    _ => Vec::new(),
                })
            };
            let halves = own(id)?;
            let half = |name: &str| {
                halves
                    .iter()
                    .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
                    .and_then(|p| p.get("value"))
            };
            let tree = read(
                "Runtime.callFunctionOn",
                json!({"objectId": id, "functionDeclaration": "function () { return this[0]; }",
                       "returnByValue": true}),
            )?;
            let walked: snapshot::Walked = tree
                .pointer("/result/value")
                .cloned()
                .ok_or_else(|| bad("no tree"))
                .and_then(|v| serde_json::from_value(v).map_err(|e| bad(&e.to_string())))?;
            let picks_id = half("1")
                .and_then(|v| v.get("objectId"))
                .and_then(Value::as_str)
                .ok_or_else(|| bad("no elements"))?;
            let mut picks: Vec<(usize, String)> = own(picks_id)?
                .iter()
                .filter_map(|p| {
                    let k = p.get("name")?.as_str()?.parse::<usize>().ok()?;
                    let id = p.pointer("/value/objectId")?.as_str()?;
                    Some((k, id.to_string()))
                })
                .collect();
            picks.sort();
            Ok((walked, picks))
        });
        let (mut walked, picks) = match walked {
            Ok(w) => w,
            Err(e) => {
                self.release(on, GROUP);
                return Err(e);
            }
        };
        // Each element's backend id, then its accessibility node: every request is sent
        // before any answer is awaited, so a thousand elements cost one round trip each way.
        let conn = &self.browser.conn;
        let described: Vec<_> = picks
            .iter()
            .map(|(_, id)| conn.send_raw(on, "DOM.describeNode", json!({"objectId": id})))
            .collect();
        let ids: Vec<i64> = described
            .into_iter()
            .map(|p| {
                p.and_then(|p| self.reply(p, left()))
                    .ok()
                    .and_then(|v| v.pointer("/node/backendNodeId").and_then(Value::as_i64))
                    .unwrap_or(0)
            })
            .collect();
        self.release(on, GROUP);
        let asked: Vec<_> = ids
            .iter()
            .filter(|&&id| id > 0)
            .map(|&id| {
                (
                    id,
                    conn.send_raw(
                        on,
                        "Accessibility.getPartialAXTree",
                        json!({"backendNodeId": id, "fetchRelatives": false}),
                    ),
                )
            })
            .collect();
        let mut nodes = Vec::new();
        for (id, pending) in asked {
            let Ok(mut v) = pending.and_then(|p| self.reply(p, left())) else {
                continue;
            };
            if let Some(Value::Array(list)) = v.get_mut("nodes").map(Value::take) {
                nodes.extend(
                    list.into_iter()
                        .filter(|n| n.get("backendDOMNodeId").and_then(Value::as_i64) == Some(id)),
                );
            }
        }
        snapshot::place_ids(&mut walked.root, &ids);
        let cuts = walked.cuts(&info.gauge, limits);
        Ok((walked.root.take(), Value::Array(nodes), cuts))
    }

    /// Lets the page collect what a walk held on to.
    fn release(&self, session: Option<&str>, group: &str) {
        self.browser.conn.fire(
            session,
            "Runtime.releaseObjectGroup",
            json!({"objectGroup": group}),
        );
    }

    pub(super) fn close(self) {
        for c in &self.children {
            self.browser.conn.unsubscribe(&c.session);
        }
        self.browser.conn.unsubscribe(&self.session);
        self.browser.dispose_context(&self.context_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_millis(300);

    fn facts(quiet: f64, soon: f64, busy: &str) -> Facts {
        Facts {
            quiet,
            soon,
            busy: busy.into(),
        }
    }

    #[test]
    fn a_quiet_page_with_nothing_due_has_settled() {
        let now = Instant::now();
        let long_ago = now - Duration::from_secs(5);
        let none = HashMap::new();
        assert_eq!(
            settle_state(false, &none, long_ago, &facts(900.0, -1.0, ""), WINDOW, now),
            Settle::Settled
        );
    }

    #[test]
    fn a_page_changed_lately_is_looked_at_again_when_the_window_ends() {
        let now = Instant::now();
        let none = HashMap::new();
        let state = settle_state(
            false,
            &none,
            now - Duration::from_secs(5),
            &facts(100.0, -1.0, ""),
            WINDOW,
            now,
        );
        assert_eq!(
            state,
            Settle::Waiting {
                until: now + Duration::from_millis(200),
                loading: None
            }
        );
        // A timer due sooner wakes the wait sooner; network activity later holds it longer.
        let Settle::Waiting { until, .. } = settle_state(
            false,
            &none,
            now - Duration::from_secs(5),
            &facts(900.0, 40.0, ""),
            WINDOW,
            now,
        ) else {
            panic!("a timer due is not settled");
        };
        assert!(until <= now + Duration::from_millis(41));
        let Settle::Waiting { until, loading } = settle_state(
            false,
            &none,
            now - Duration::from_millis(50),
            &facts(900.0, -1.0, ""),
            WINDOW,
            now,
        ) else {
            panic!("recent network activity is not settled");
        };
        assert_eq!(until, now + Duration::from_millis(250));
        assert!(loading.is_none());
    }

    #[test]
    fn requests_hold_the_page_until_they_age_past_the_cap() {
        let now = Instant::now();
        let mut inflight = HashMap::new();
        inflight.insert(
            "1".to_string(),
            Request {
                since: now - Duration::from_millis(500),
                url: "http://127.0.0.1:9/spa/api/view?path=/account".into(),
            },
        );
        let Settle::Waiting { until, loading } = settle_state(
            false,
            &inflight,
            now - Duration::from_secs(1),
            &facts(900.0, -1.0, ""),
            WINDOW,
            now,
        ) else {
            panic!("a request in flight is not settled");
        };
        assert_eq!(until, now + Duration::from_millis(1500));
        let why = loading.unwrap();
        assert!(
            why.contains("1 request in flight: /spa/api/view?path=/account"),
            "{why}"
        );
        // A long poll older than the cap no longer counts.
        let later = now + Duration::from_secs(2);
        assert_eq!(
            settle_state(
                false,
                &inflight,
                now,
                &facts(900.0, -1.0, ""),
                WINDOW,
                later
            ),
            Settle::Settled
        );
    }

    #[test]
    fn a_busy_indicator_or_a_load_is_loading() {
        let now = Instant::now();
        let none = HashMap::new();
        let old = now - Duration::from_secs(5);
        let Settle::Waiting { loading, .. } = settle_state(
            false,
            &none,
            old,
            &facts(900.0, -1.0, "Loading…"),
            WINDOW,
            now,
        ) else {
            panic!("busy is not settled");
        };
        assert!(loading.unwrap().contains("Loading…"));
        assert!(matches!(
            settle_state(true, &none, old, &facts(900.0, -1.0, ""), WINDOW, now),
            Settle::Waiting {
                loading: Some(_),
                ..
            }
        ));
    }
}
