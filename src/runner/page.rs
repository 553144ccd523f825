//! One tab in one incognito context: commands, and waits driven by the browser's own events.
//!
//! Nothing here sleeps or polls. A wait reads the session's event stream (frame loading,
//! network requests, lifecycle) until the page has settled or the deadline passes, so a
//! fast page costs what the browser takes and a hung one costs exactly the step timeout.

use std::cell::Cell;
use std::collections::HashSet;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::browser::{Browser, CALL_TIMEOUT};
use super::cdp::{CdpError, Event, Pending};

/// How long to let requests a page started after its load event finish (XHR, late images)
/// before calling it settled anyway; polling widgets would otherwise never settle.
const QUIET_CAP: Duration = Duration::from_millis(500);

pub(super) struct Page {
    browser: Browser,
    context_id: String,
    pub session: String,
    events: Receiver<Event>,
    main_frame: String,
    /// Requests in flight (not counting long-lived ones such as websockets / event streams).
    inflight: HashSet<String>,
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
    /// Time spent waiting for the browser (replies and events) since the tab opened; what
    /// is left of a step's time is nocall's own.
    waited: Cell<Duration>,
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
        let events = browser.conn.subscribe(&session);
        let mut page = Page {
            browser: browser.clone(),
            context_id,
            session,
            events,
            main_frame: String::new(),
            inflight: HashSet::new(),
            documents: HashSet::new(),
            loading: false,
            stopped: 0,
            started: 0,
            document: None,
            dialogs: Vec::new(),
            crashed: false,
            load_error: None,
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
        let t0 = Instant::now();
        let reply = self
            .browser
            .conn
            .call_raw(Some(&self.session), method, params, timeout);
        self.waited_for(t0.elapsed());
        reply
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

    /// Waits until the navigation the last action started (if any) has loaded and the
    /// network is quiet. With `expect_navigation`, waits for a load to end even if none has
    /// been seen to start yet.
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
        let quiet_until = (Instant::now() + QUIET_CAP).min(deadline);
        while !self.inflight.is_empty() && Instant::now() < quiet_until {
            match self.next_event(quiet_until) {
                Ok(()) => {}
                Err(WaitError::Timeout(_)) => break,
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

    /// After a click or key press: lets the page's handlers run, then waits for whatever
    /// navigation they started.
    pub(super) fn settle_after_input(&mut self, deadline: Instant) -> Result<(), WaitError> {
        // One task: click handlers ran while the input was dispatched, and a form submission
        // or `location` change they made is queued before it, so by its end the browser has
        // been told of the navigation (and of any request a handler started, which `settle`
        // waits for). Animation frames would cost ~16 ms each and tell nothing more.
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
        self.settle(deadline, false)
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

    fn apply(&mut self, e: Event) {
        let p = &e.params;
        let frame = || p.get("frameId").and_then(Value::as_str).unwrap_or_default();
        match e.method.as_str() {
            "Page.frameStartedLoading" if frame() == self.main_frame => {
                self.loading = true;
                self.started += 1;
            }
            "Page.frameStoppedLoading" if frame() == self.main_frame => {
                self.loading = false;
                self.stopped += 1;
            }
            "Page.frameNavigated" => {
                let f = &p["frame"];
                if f.get("parentId").is_none()
                    && let Some(id) = f.get("id").and_then(Value::as_str)
                {
                    self.main_frame = id.to_string();
                }
            }
            "Network.requestWillBeSent" => {
                let kind = p.get("type").and_then(Value::as_str).unwrap_or_default();
                let id = p
                    .get("requestId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if !matches!(kind, "WebSocket" | "EventSource" | "Ping") {
                    self.inflight.insert(id.to_string());
                }
                if kind == "Document" && frame() == self.main_frame {
                    self.documents.insert(id.to_string());
                }
            }
            "Network.loadingFinished" | "Network.loadingFailed" => {
                let id = p
                    .get("requestId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                self.inflight.remove(id);
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
            _ => {}
        }
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

    pub(super) fn close(self) {
        self.browser.conn.unsubscribe(&self.session);
        self.browser.dispose_context(&self.context_id);
    }
}
