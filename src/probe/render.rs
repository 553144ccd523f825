//! Rendering same-site pages in Chromium for the crawl, so that pages which draw their
//! content by script are judged as a person sees them, not as their empty shell.
//!
//! A small pool of tabs (one browser, one context a tab, each tab reused page after page)
//! takes pages from a queue; at most as many pages as tabs render at once. A page counts as
//! rendered once its load has fired and no request has been in flight for a short quiet
//! window, all driven by the browser's events (no sleeps), within a deadline. It reads the
//! page's title, language, visible text (`innerText`), links and ids with one script
//! evaluation. It uses the runner's browser and DevTools connection as they are and must
//! not drive a journey, type, click or submit anything: it only opens addresses the crawl
//! was already going to fetch with GET.

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use super::notfound::Look;
use crate::runner::browser::{Browser, BrowserSource, CALL_TIMEOUT};
use crate::runner::fence::Fence;
use crate::trace::{Link, PageState};

/// Tabs rendering at once (a small pool: each tab costs a renderer process).
pub(crate) const RENDER_TABS: usize = 3;

/// How long one page may take to render before what it shows by then is read.
const DEADLINE: Duration = Duration::from_secs(10);
/// No request in flight for this long after the load: the page has drawn itself.
const QUIET: Duration = Duration::from_millis(150);
/// A request in flight longer than this is a poll or a stream the page keeps open, not
/// part of drawing it (as the runner judges a step settled).
const REQUEST_CAP: Duration = Duration::from_secs(2);
/// Most of a page's text and links read.
const MAX_TEXT: usize = 200_000;
const MAX_LINKS: usize = 5_000;

/// A browser already running that the next renderer may use instead of starting one: the
/// journeys' own, lent by the pipeline while the prober runs.
static LENT: Mutex<Option<Browser>> = Mutex::new(None);

/// Lends `browser` to the next [`Renderer::start`].
pub(crate) fn lend(browser: Option<Browser>) {
    *LENT.lock().unwrap_or_else(|p| p.into_inner()) = browser;
}

/// Drops a lent browser no renderer took, so it ends now and never outlives the run.
pub(crate) fn reclaim() {
    drop(LENT.lock().unwrap_or_else(|p| p.into_inner()).take());
}

/// A rendered page: what the crawl records, and what the prober judges it by.
pub(crate) struct Rendered {
    pub page: PageState,
    pub look: Look,
}

type Job = (Url, tokio::sync::oneshot::Sender<Result<Rendered, String>>);

/// A browser and its tabs, taking pages from one queue.
pub(crate) struct Renderer {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    tabs: Vec<std::thread::JoinHandle<()>>,
    // Held so the browser lives as long as the renderer; its last clone ends the process.
    _browser: Browser,
}

impl Renderer {
    /// Starts Chromium (found as the runner finds it: `$CHROME`, then the usual places)
    /// with `tabs` tabs. Blocking: call it off the async workers.
    pub(crate) fn start(tabs: usize, fence: Option<Fence>) -> Result<Renderer, String> {
        let fence = fence.map(Arc::new);
        let lent = LENT
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .filter(Browser::is_alive);
        let browser = match lent {
            Some(b) => b,
            None => {
                let chrome = std::env::var("CHROME").ok();
                let path = crate::runner::browser::find(None, chrome.as_deref())
                    .map_err(|e| e.to_string())?;
                Browser::start(&BrowserSource::Launch {
                    path,
                    headful: false,
                })
                .map_err(|e| e.to_string())?
            }
        };
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let mut handles = Vec::new();
        for n in 0..tabs.max(1) {
            let browser = browser.clone();
            let rx = rx.clone();
            let fence = fence.clone();
            let handle = std::thread::Builder::new()
                .name(format!("nocall-render-{n}"))
                .spawn(move || tab_loop(&browser, &rx, fence))
                .map_err(|e| e.to_string())?;
            handles.push(handle);
        }
        Ok(Renderer {
            jobs: Mutex::new(Some(tx)),
            tabs: handles,
            _browser: browser,
        })
    }

    /// The page at `url` as the browser draws it.
    pub(crate) async fn render(&self, url: &Url) -> Result<Rendered, String> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        {
            let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
            let Some(jobs) = jobs.as_ref() else {
                return Err("the renderer has stopped".into());
            };
            jobs.send((url.clone(), tx))
                .map_err(|_| "the renderer has stopped".to_string())?;
        }
        rx.await
            .unwrap_or_else(|_| Err("the renderer's tab stopped".into()))
    }
}

impl Drop for Renderer {
    /// Closing the queue ends every tab's loop; once the tabs have let go of the browser,
    /// the last handle (this one's) ends its process, so no Chromium outlives the run.
    fn drop(&mut self) {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner()).take();
        for tab in self.tabs.drain(..) {
            let _ = tab.join();
        }
    }
}

/// One tab: opened once, then reused for every page it takes from the queue.
fn tab_loop(browser: &Browser, jobs: &Mutex<mpsc::Receiver<Job>>, fence: Option<Arc<Fence>>) {
    let opened = browser.new_context();
    let tab = opened.and_then(|(_context, _target, session)| {
        for method in ["Page.enable", "Network.enable", "Runtime.enable"] {
            browser
                .conn
                .call_raw(Some(&session), method, json!({}), CALL_TIMEOUT)?;
        }
        // The page's own scripts, images and frames may name private or metadata
        // addresses: the tab is kept off them as a journey's is.
        if let Some(fence) = fence {
            let params = fence.enable_params();
            browser.conn.fence(&session, fence);
            browser
                .conn
                .call_raw(Some(&session), "Fetch.enable", params, CALL_TIMEOUT)?;
        }
        Ok(session)
    });
    let session = match tab {
        Ok(t) => t,
        Err(e) => {
            // Every page this tab would have taken is answered with why.
            let why = format!("no tab could be opened: {e}");
            while let Some((_, reply)) = next_job(jobs) {
                let _ = reply.send(Err(why.clone()));
            }
            return;
        }
    };
    let events = browser.conn.subscribe(&session);
    while let Some((url, reply)) = next_job(jobs) {
        // Events of the page before are of no use now.
        while events.try_recv().is_ok() {}
        let result = (|| {
            let started = Instant::now();
            let nav = browser.conn.call_raw(
                Some(&session),
                "Page.navigate",
                json!({"url": url.as_str()}),
                DEADLINE,
            );
            let nav = nav.map_err(|e| e.to_string())?;
            if let Some(err) = nav.get("errorText").and_then(Value::as_str)
                && !err.is_empty()
            {
                return Err(format!("the page did not load: {err}"));
            }
            let deadline = started + DEADLINE;
            let mut loaded = false;
            let mut status = None;
            // Requests in flight, by when they started; one older than REQUEST_CAP is a
            // poll or a stream, not the page drawing itself.
            let mut inflight: HashMap<String, Instant> = HashMap::new();
            loop {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                let young = inflight
                    .values()
                    .filter(|&&t| now.duration_since(t) < REQUEST_CAP)
                    .min()
                    .copied();
                let idle = loaded && young.is_none();
                let wait = match young {
                    _ if idle => QUIET,
                    Some(t) if loaded => (t + REQUEST_CAP).saturating_duration_since(now),
                    _ => deadline - now,
                };
                let Ok(ev) = events.recv_timeout(wait.min(deadline - now)) else {
                    if idle {
                        break;
                    }
                    continue;
                };
                let p = &ev.params;
                let id = || {
                    p.get("requestId")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                match ev.method.as_str() {
                    "Page.loadEventFired" => loaded = true,
                    "Network.requestWillBeSent" => {
                        let kind = p.get("type").and_then(Value::as_str).unwrap_or_default();
                        // Streams that never end are not the page loading.
                        if !matches!(kind, "WebSocket" | "EventSource") {
                            inflight.insert(id(), Instant::now());
                        }
                    }
                    "Network.loadingFinished" | "Network.loadingFailed" => {
                        inflight.remove(&id());
                    }
                    "Network.responseReceived"
                        if p.get("type").and_then(Value::as_str) == Some("Document")
                            && status.is_none() =>
                    {
                        status = p
                            .pointer("/response/status")
                            .and_then(Value::as_u64)
                            .and_then(|s| u16::try_from(s).ok());
                    }
                    _ => {}
                }
            }
            let read = browser
                .conn
                .call_raw(
                    Some(&session),
                    "Runtime.evaluate",
                    json!({"expression": read_js(), "returnByValue": true}),
                    CALL_TIMEOUT,
                )
                .map_err(|e| e.to_string())?;
            let value = read
                .pointer("/result/value")
                .cloned()
                .ok_or_else(|| "the page could not be read".to_string())?;
            let read: Read = serde_json::from_value(value)
                .map_err(|e| format!("the page could not be read: {e}"))?;
            Ok(read.into_rendered(status))
        })();
        let _ = reply.send(result);
    }
    // The browser ends with the renderer (and its contexts with it).
    browser.conn.unsubscribe(&session);
}

fn next_job(jobs: &Mutex<mpsc::Receiver<Job>>) -> Option<Job> {
    jobs.lock().unwrap_or_else(|p| p.into_inner()).recv().ok()
}

/// What the page script reads, in one round trip.
const READ_JS: &str = r#"(() => {
  const clip = (s, n) => (s || '').slice(0, n);
  const squash = s => (s || '').replace(/\s+/g, ' ').trim();
  const region = el => {
    for (let a = el.parentElement; a; a = a.parentElement) {
      const role = a.getAttribute('role');
      const byRole = {banner: 'header', navigation: 'nav', main: 'main', contentinfo: 'footer', complementary: 'aside'}[role];
      if (byRole) return byRole;
      const tag = a.tagName.toLowerCase();
      if (['header', 'nav', 'main', 'footer', 'aside'].includes(tag)) return tag;
    }
    return '';
  };
  const links = Array.from(document.querySelectorAll('a[href], area[href]')).slice(0, LIMIT_LINKS).map(a => ({
    text: squash(a.getAttribute('aria-label') || a.innerText || a.textContent || a.getAttribute('alt') || a.title),
    href: a.href,
    rel: a.getAttribute('rel') || '',
    tag: a.tagName.toLowerCase(),
    region: region(a),
    visible: !!(a.offsetWidth || a.offsetHeight || a.getClientRects().length),
  }));
  const anchors = Array.from(document.querySelectorAll('[id], a[name]'))
    .map(e => e.id || e.getAttribute('name')).filter(Boolean);
  const h = document.querySelector('h1') || document.querySelector('h2');
  return {
    url: location.href,
    title: squash(document.title),
    lang: document.documentElement.getAttribute('lang') || '',
    text: clip(document.body ? document.body.innerText : '', LIMIT_TEXT),
    heading: h ? squash(h.innerText) : '',
    has_form: !!document.querySelector('form, input:not([type=hidden]), textarea, select'),
    links,
    anchors,
  };
})()"#;

#[derive(Deserialize)]
struct Read {
    url: String,
    title: String,
    lang: String,
    text: String,
    heading: String,
    has_form: bool,
    links: Vec<ReadLink>,
    anchors: Vec<String>,
}

#[derive(Deserialize)]
struct ReadLink {
    text: String,
    href: String,
    rel: String,
    tag: String,
    region: String,
    visible: bool,
}

impl Read {
    fn into_rendered(self, status: Option<u16>) -> Rendered {
        let mut anchors = self.anchors;
        anchors.sort();
        anchors.dedup();
        let look = Look {
            status,
            title: self.title.clone(),
            heading: self.heading,
            text: self.text.clone(),
            has_form: self.has_form,
            rendered: true,
            ..Look::default()
        };
        let page = PageState {
            url: self.url,
            status,
            title: self.title,
            lang: self.lang,
            text: self.text,
            links: self
                .links
                .into_iter()
                .map(|l| Link {
                    text: l.text,
                    href: l.href,
                    rel: l.rel,
                    region: l.region,
                    tag: l.tag,
                    visible: l.visible,
                    ..Link::default()
                })
                .collect(),
            anchors,
            ..PageState::default()
        };
        Rendered { page, look }
    }
}

/// The script with its limits filled in.
fn read_js() -> String {
    READ_JS
        .replace("LIMIT_LINKS", &MAX_LINKS.to_string())
        .replace("LIMIT_TEXT", &MAX_TEXT.to_string())
}
