//! The link prober: is every link, button target and form target a journey passed
//! reachable, over real HTTP?
//!
//! It only ever sends GET and HEAD (a form is never submitted to probe it), asks each URL
//! once per run whatever number of pages link to it, keeps to a concurrency limit overall
//! and per host, and says "unverified" rather than "dead" when a site turns checkers away
//! (403, 429, 999 from another host). What it finds is plain data ([`LinkResults`], in
//! [`super::status`]) that the `dead-link` check reads; it draws no conclusions about users
//! itself.
//!
//! Links of the journeys' pages are judged as the journey met them ([`Known`]): a link to
//! the page itself against the page as recorded, and a link of a signed-in page with the
//! journey's cookies, sent to their own origin only and never written anywhere.
//!
//! The HTTP side lives in `engine`; the HTML it needs (a page's ids and anchor names, for
//! `#fragment` targets) in `html`.

pub(crate) mod engine;
pub(crate) mod html;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use url::Url;

use super::Session;
use super::notfound::{self, Look};
use super::policy::{self, Decision, ProbeRules, Source};
use super::render::{RENDER_TABS, Renderer};
use super::status::{Cause, LinkResults, LinkStatus, LinkVerdict, Withheld};
use crate::trace::{Trace, status_text};
use engine::{Engine, Fetched};

/// How links are probed.
///
/// The defaults are polite on purpose: at most 6 requests at once to any one host (what a
/// single browser opens), 32 in all, 2 retries that honour `Retry-After` (waiting at most
/// 10 s), a 10 s timeout per request, and a user agent that says what is knocking.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkOptions {
    /// Never contact a host other than the journeys' own.
    pub offline: bool,
    /// When set, only these hosts (and their subdomains) are contacted besides the
    /// journeys' own (`nocall.yaml`'s `allowed_hosts`).
    pub allowed_hosts: Option<Vec<String>>,
    /// For one request, from sending it to the end of its body.
    pub timeout: Duration,
    /// Requests in flight at once, over all hosts.
    pub concurrency: usize,
    /// Requests in flight at once to any one host.
    pub per_host: usize,
    /// Further tries after a 429, a 503 or a dropped connection.
    pub retries: u32,
    pub user_agent: String,
    /// Least time between the starts of two requests to the same host; zero for none.
    pub interval: Duration,
    /// Longest wait before a retry, whatever `Retry-After` asks for.
    pub max_retry_wait: Duration,
    /// `nocall.yaml`'s `probe: {never, allow}`: which links may be opened at all.
    pub rules: ProbeRules,
    /// Also request loopback, private and link-local addresses (`--allow-private`); by
    /// default only the journeys' own hosts and `allowed_hosts` may be on them.
    pub allow_private: bool,
    /// When a page of the own site is rendered in Chromium before it is judged.
    pub render: Render,
}

/// When a page of the own site is rendered in Chromium before it is read and judged
/// (other sites are always asked over plain HTTP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Render {
    /// When its plain HTML has scripts and little a person could follow or read.
    #[default]
    Auto,
    /// Every HTML page of the own site.
    Always,
    /// Never: plain HTTP only.
    Never,
}

impl Default for LinkOptions {
    fn default() -> Self {
        LinkOptions {
            offline: false,
            allowed_hosts: None,
            timeout: Duration::from_secs(10),
            concurrency: 32,
            per_host: 6,
            retries: 2,
            user_agent: format!("nocall/{} (link check)", env!("CARGO_PKG_VERSION")),
            interval: Duration::ZERO,
            max_retry_wait: Duration::from_secs(10),
            rules: ProbeRules::default(),
            allow_private: false,
            render: Render::default(),
        }
    }
}

impl LinkOptions {
    /// The defaults, restricted to a project's `allowed_hosts`.
    pub(crate) fn for_config(config: &crate::config::Config) -> Self {
        LinkOptions {
            allowed_hosts: config.allowed_hosts.clone(),
            rules: config.probe.clone(),
            ..LinkOptions::default()
        }
    }
}

/// Where a target was found, which decides whether and how it may be probed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    /// The page it was on. Targets on another host than every such page are external.
    pub page: String,
    pub via: Via,
}

/// What points at the target.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Via {
    /// A link, or a button that navigates: probed with HEAD, then GET.
    Link,
    /// A form's action (or a submit button's `formaction`): probed with GET only when the
    /// form itself sends with GET to its own site, never submitted otherwise.
    Form { method: String },
    /// A link in a captured message: asked with HEAD only, never GET, since a mail link may
    /// act on the account. `followed` when a journey followed another link of the same
    /// message; the links of other messages are never requested.
    Mail { followed: bool },
}

/// Every link, form target and navigating button target on every page of the traces,
/// with where each was found; each (URL, kind of origin) once.
pub fn targets_of(traces: &[Trace]) -> Vec<(String, Origin)> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let pages = traces
        .iter()
        .flat_map(|t| t.steps.iter())
        .filter_map(|s| s.page.as_ref());
    for page in pages {
        let mut push = |url: &str, via: Via| {
            if seen.insert((url.to_string(), via.clone())) {
                out.push((
                    url.to_string(),
                    Origin {
                        page: page.url.clone(),
                        via,
                    },
                ));
            }
        };
        for link in &page.links {
            push(&link.href, Via::Link);
        }
        for form in &page.forms {
            push(
                &form.action,
                Via::Form {
                    method: form.method.clone(),
                },
            );
        }
        for button in &page.buttons {
            let Some(target) = &button.target else {
                continue;
            };
            // A submit button's `formaction` is sent the way its form sends; any other
            // target is a plain navigation.
            let form = button.form.and_then(|i| page.forms.get(i));
            match form {
                Some(f) if button.button_type == "submit" => {
                    push(
                        target,
                        Via::Form {
                            method: f.method.clone(),
                        },
                    );
                }
                _ => push(target, Via::Link),
            }
        }
    }
    out
}

/// Every target URL of every page of the traces, each once, in the order first met.
#[cfg(test)]
pub(crate) fn urls_of(traces: &[Trace]) -> Vec<String> {
    let mut seen = HashSet::new();
    targets_of(traces)
        .into_iter()
        .filter_map(|(url, _)| seen.insert(url.clone()).then_some(url))
        .collect()
}

/// Probes every target, each URL once. Builds its own tokio runtime; call it from plain
/// (not async) code.
pub fn probe_urls(urls: &[(String, Origin)], opts: &LinkOptions) -> LinkResults {
    probe_known(urls, opts, &Known::default())
}

/// Probes the targets of the journeys' pages as the journeys met them ([`Known`]): a
/// section of the page itself is looked up in the page as recorded, and the links of a
/// page seen signed in are asked with the journey's cookies.
pub(crate) fn probe_journeys(
    traces: &[Trace],
    urls: &[(String, Origin)],
    opts: &LinkOptions,
) -> LinkResults {
    probe_known(urls, opts, &Known::of(traces))
}

fn probe_known(urls: &[(String, Origin)], opts: &LinkOptions, known: &Known) -> LinkResults {
    let own = own_hosts(urls.iter().map(|(_, o)| o.page.as_str()));
    let engine = match Engine::new(opts.clone(), own) {
        Ok(e) => Arc::new(e),
        Err(e) => return not_probed(urls, &format!("the HTTP client could not start: {e}")),
    };
    match runtime() {
        Ok(rt) => rt.block_on(probe_with(engine, urls, known)),
        Err(e) => not_probed(urls, &format!("the prober could not start: {e}")),
    }
}

/// Probes every target with a crawl's client, whose cache already answers for the pages
/// the crawl fetched.
pub fn probe_urls_with(session: &Session, urls: &[(String, Origin)]) -> LinkResults {
    let engine = session.engine.clone();
    session
        .runtime
        .block_on(probe_with(engine, urls, &Known::default()))
}

/// What the journeys knew of the pages they recorded, so their links are judged as a
/// person met them: the ids each page had, and the session of the pages seen signed in.
///
/// A page is *signed in* when the browser, recording it, held a cookie for it whose name
/// the journey's first page of that site was not shown with (a session cookie set by
/// signing in, registering or following a mailed link). Its links to its own origin are
/// asked with the cookies of the journey's last signed-in page of that origin (the session
/// the journey ended with, should it have signed out and in again).
#[derive(Default)]
pub(crate) struct Known {
    /// Ids and anchor names of every page recorded without an error status, by URL
    /// without fragment.
    anchors: HashMap<String, HashSet<String>>,
    /// Targets (as written on the page) on a signed-in page of their own origin: the jar
    /// to ask them with and the page they were on.
    signed: HashMap<String, (usize, String)>,
    jars: Vec<Arc<Jar>>,
}

impl Known {
    pub(crate) fn of(traces: &[Trace]) -> Known {
        let mut known = Known::default();
        for page in traces
            .iter()
            .flat_map(|t| &t.steps)
            .filter_map(|s| s.page.as_ref())
            .filter(|p| p.status.is_none_or(|s| s < 400))
        {
            if let Ok(mut url) = Url::parse(&page.url) {
                url.set_fragment(None);
                known
                    .anchors
                    .entry(url.to_string())
                    .or_default()
                    .extend(page.anchors.iter().cloned());
            }
        }
        for t in traces {
            known.add_sessions(t);
        }
        known
    }

    fn add_sessions(&mut self, t: &Trace) {
        let pages = &t.cookies.pages;
        let mut first: HashMap<url::Origin, HashSet<&str>> = HashMap::new();
        let mut signed_steps: HashSet<usize> = HashSet::new();
        let mut last: BTreeMap<String, (url::Origin, &[crate::trace::Cookie])> = BTreeMap::new();
        for p in pages {
            let Ok(url) = Url::parse(&p.url) else {
                continue;
            };
            let origin = url.origin();
            let names: HashSet<&str> = p.cookies.iter().map(|c| c.name.as_str()).collect();
            match first.get(&origin) {
                None => {
                    first.insert(origin, names);
                }
                Some(had) if !names.is_subset(had) => {
                    signed_steps.insert(p.step);
                    last.insert(origin.ascii_serialization(), (origin, &p.cookies));
                }
                Some(_) => {}
            }
        }
        let mut jar_of: HashMap<url::Origin, usize> = HashMap::new();
        for (origin, cookies) in last.into_values() {
            jar_of.insert(origin.clone(), self.jars.len());
            self.jars.push(Arc::new(Jar {
                origin,
                cookies: cookies.to_vec(),
            }));
        }
        for step in &t.steps {
            let Some(page) = &step.page else { continue };
            // The cookies this page was recorded with: the last read at or before its step
            // (an `expect` that changed nothing keeps the page before it).
            let Some(read) = pages.iter().rev().find(|p| p.step <= step.index) else {
                continue;
            };
            if read.url != page.url || !signed_steps.contains(&read.step) {
                continue;
            }
            let Ok(origin) = Url::parse(&page.url).map(|u| u.origin()) else {
                continue;
            };
            let Some(&jar) = jar_of.get(&origin) else {
                continue;
            };
            for href in page_targets(page) {
                if Url::parse(href).is_ok_and(|u| u.origin() == origin) {
                    self.signed
                        .entry(href.to_string())
                        .or_insert_with(|| (jar, page.url.clone()));
                }
            }
        }
    }
}

/// Every URL a page leads to: its links, form targets and navigating buttons' targets.
fn page_targets(page: &crate::trace::PageState) -> impl Iterator<Item = &str> {
    let links = page.links.iter().map(|l| l.href.as_str());
    let forms = page.forms.iter().map(|f| f.action.as_str());
    let buttons = page.buttons.iter().filter_map(|b| b.target.as_deref());
    links.chain(forms).chain(buttons)
}

/// A signed-in journey's cookies for one origin. In memory only: nothing prints it (it has
/// no `Debug`) and the prober sends it to its own origin alone ([`Jar::header_for`]).
pub(crate) struct Jar {
    origin: url::Origin,
    cookies: Vec<crate::trace::Cookie>,
}

impl Jar {
    /// The `Cookie` header the journey's browser would send to `url`: none for any other
    /// origin than the jar's, nor when no cookie's path covers it.
    pub(crate) fn header_for(&self, url: &Url) -> Option<String> {
        if url.origin() != self.origin {
            return None;
        }
        let sent: Vec<String> = self
            .cookies
            .iter()
            .filter(|c| path_matches(&c.path, url.path()))
            // A header can hold only visible ASCII; a browser never stores anything else.
            .filter(|c| {
                (c.name.chars().chain(c.value.chars())).all(|ch| ch.is_ascii_graphic() && ch != ';')
            })
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        (!sent.is_empty()).then(|| sent.join("; "))
    }
}

/// A cookie's `Path` covers the request's path (RFC 6265, 5.1.4).
fn path_matches(cookie: &str, path: &str) -> bool {
    if cookie.is_empty() || cookie == path {
        return true;
    }
    path.strip_prefix(cookie)
        .is_some_and(|rest| cookie.ends_with('/') || rest.starts_with('/'))
}

/// A runtime sized for I/O on a small machine.
pub(crate) fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

fn not_probed(urls: &[(String, Origin)], why: &str) -> LinkResults {
    urls.iter()
        .map(|(u, _)| {
            (
                u.clone(),
                LinkStatus::new(LinkVerdict::Unverified, Cause::NotChecked, why),
            )
        })
        .collect()
}

/// The hosts of the pages the targets were found on: the journeys' own site(s).
pub(crate) fn own_hosts<'a>(pages: impl Iterator<Item = &'a str>) -> HashSet<String> {
    pages
        .filter_map(|p| Url::parse(p).ok())
        .filter_map(|u| u.host_str().map(str::to_ascii_lowercase))
        .collect()
}

/// What to do with one target before any request.
enum Plan {
    Done(LinkStatus),
    Fetch {
        base: Url,
        fragment: Option<String>,
        external: bool,
        /// Met only as a form's target: asked with GET alone.
        get_only: bool,
        /// Met in a message: asked with HEAD alone.
        head_only: bool,
        /// A link on the own site: its page is read, to judge what it shows.
        judge: bool,
        /// Met on a page seen signed in: asked with that journey's cookies ([`Known`]'s
        /// jar of this index).
        session: Option<usize>,
    },
}

/// A path no site has: what it shows is the site's own "not found" page, fetched once per
/// site to compare pages with.
pub(crate) const MISSING_PATH: &str = "/nocall-surely-missing-page-6e1f2b";

/// The surely-missing address on `url`'s site.
pub(crate) fn missing_on(url: &Url) -> Option<Url> {
    url.join(MISSING_PATH).ok()
}

/// Probes every target with an engine whose cache may already hold some answers (the
/// crawler's pages).
async fn probe_with(engine: Arc<Engine>, urls: &[(String, Origin)], known: &Known) -> LinkResults {
    let mut origins: BTreeMap<&str, Vec<&Origin>> = BTreeMap::new();
    for (url, origin) in urls {
        origins.entry(url.as_str()).or_default().push(origin);
    }
    let plans: Vec<(&str, Plan)> = origins
        .iter()
        .map(|(url, o)| (*url, plan(url, o, &engine, known)))
        .collect();
    // One engine per signed-in jar (index + 1; 0 is the engine without cookies).
    let mut engines: Vec<Option<Arc<Engine>>> = vec![Some(engine.clone())];
    for jar in &known.jars {
        engines.push(engine.signed_in(jar.clone()).ok().map(Arc::new));
    }
    let key = |session: Option<usize>, url: &Url| (session.map_or(0, |j| j + 1), url.to_string());
    // A base URL is fetched with its body when any target needs a fragment looked up, or
    // when a form may only be probed with GET.
    // (URL, body wanted, HEAD only, judged), by (engine, URL).
    let mut wanted: BTreeMap<(usize, String), (Url, bool, bool, bool)> = BTreeMap::new();
    for (_, p) in &plans {
        if let Plan::Fetch {
            base,
            fragment,
            get_only,
            head_only,
            judge,
            session,
            ..
        } = p
        {
            let entry = wanted
                .entry(key(*session, base))
                .or_insert_with(|| (base.clone(), false, false, false));
            entry.1 |= !*head_only && (fragment.is_some() || *get_only);
            entry.2 |= *head_only;
            entry.3 |= *judge;
            // The site's own not-found page, once per site whose pages are judged.
            if let Some(missing) = missing_on(base).filter(|_| *judge) {
                wanted
                    .entry(key(*session, &missing))
                    .or_insert_with(|| (missing, true, false, false));
            }
        }
    }
    let mut tasks = JoinSet::new();
    for (key, (base, body, head_only, judge)) in wanted {
        let Some(engine) = engines.get(key.0).cloned().flatten() else {
            continue;
        };
        let ask = if head_only {
            engine::Ask::HeadOnly
        } else if body {
            engine::Ask::Body
        } else if judge {
            engine::Ask::Judge
        } else {
            engine::Ask::Status
        };
        tasks.spawn(async move { (key, engine.check(&base, ask).await) });
    }
    let mut fetched: BTreeMap<(usize, String), Arc<Fetched>> = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        if let Ok((key, f)) = done {
            fetched.insert(key, f);
        }
    }
    // Pages of the own site drawn by script are judged as Chromium draws them (not those
    // asked with a session: the renderer's tabs do not hold it).
    let judged: Vec<&Url> = plans
        .iter()
        .filter_map(|(_, p)| match p {
            Plan::Fetch {
                base,
                judge: true,
                session: None,
                ..
            } => Some(base),
            _ => None,
        })
        .collect();
    for (url, look) in render_drawn(&engine, &judged, &fetched).await {
        if let Some(f) = fetched.get_mut(&(0, url)) {
            let mut with = (**f).clone();
            with.look = Some(look);
            *f = Arc::new(with);
        }
    }
    let external: Vec<(String, String)> = plans
        .iter()
        .filter_map(|(url, p)| match p {
            Plan::Fetch {
                base,
                external: true,
                ..
            } => Some((
                url.to_string(),
                base.host_str().unwrap_or_default().to_ascii_lowercase(),
            )),
            _ => None,
        })
        .collect();
    let mut results: LinkResults = plans
        .into_iter()
        .map(|(url, p)| {
            let status = match p {
                Plan::Done(s) => s,
                Plan::Fetch {
                    base,
                    fragment,
                    external,
                    judge,
                    session,
                    ..
                } => match fetched.get(&key(session, &base)) {
                    Some(f) => {
                        let site = missing_on(&base)
                            .filter(|_| judge)
                            .and_then(|m| fetched.get(&key(session, &m)))
                            .and_then(|m| m.look.as_ref());
                        let judged = judge.then_some(Judge {
                            site,
                            path: base.path(),
                        });
                        let status = link_status(f, fragment.as_deref(), external, judged);
                        let page = known.signed.get(url).map(|(_, page)| page.as_str());
                        match page.filter(|_| session.is_some()) {
                            Some(page) => needs_session(f, &base, page).unwrap_or(status),
                            None => status,
                        }
                    }
                    None => LinkStatus::new(
                        LinkVerdict::Unverified,
                        Cause::NotChecked,
                        "the probe of this link stopped unexpectedly",
                    ),
                },
            };
            (url.to_string(), status)
        })
        .collect();
    // A page nobody wrote yet, linked only from the form that writes it (a wiki's
    // "Cancel" on "Creating Talk:Main Page"): the user lands where they expect.
    for (url, from) in &origins {
        let base = Url::parse(url).ok().map(|mut u| {
            u.set_fragment(None);
            u.to_string()
        });
        let unwritten = base
            .and_then(|b| fetched.iter().find(|((_, u), _)| *u == b).map(|(_, f)| f))
            .and_then(|f| f.look.as_ref())
            .is_some_and(|l| l.says_not_written().is_some());
        if unwritten && from.iter().all(|o| notfound::edits_page(&o.page, url)) {
            results.insert(
                url.to_string(),
                LinkStatus::new(
                    LinkVerdict::Ok,
                    Cause::Fine,
                    "a page not written yet, linked from the form that writes it",
                ),
            );
        }
    }
    let unverified = out_of_reach(&mut results, &external, world_resolves);
    if unverified > 0 {
        eprintln!(
            "nocall: other sites could not be reached from this machine: {unverified} links not \
             verified; `--offline` skips them"
        );
    }
    results
}

/// Whether this machine can resolve names on the Internet at all: one lookup of
/// `example.com`, a name reserved (RFC 2606) to always exist. Asked only when a run's one
/// other site failed and nothing else tells whether the machine is cut off.
fn world_resolves() -> bool {
    use std::net::ToSocketAddrs;
    ("example.com", 443)
        .to_socket_addrs()
        .is_ok_and(|mut a| a.next().is_some())
}

/// When no other site answered at all and at least two failed to resolve or connect, the
/// machine is what is cut off (a sandbox, a CI runner without egress), not the sites: their
/// links become unverified. With only one other site, and it failing, `world_resolves`
/// tells which it is. A site failing while others answer stays dead. Returns how many links
/// were changed.
fn out_of_reach(
    results: &mut LinkResults,
    external: &[(String, String)],
    world_resolves: impl Fn() -> bool,
) -> usize {
    let mut failed: HashSet<&str> = HashSet::new();
    let mut unnamed = false;
    for (url, host) in external {
        let Some(s) = results.get(url) else { continue };
        if s.ok || s.status.is_some() {
            return 0;
        }
        if s.verdict == LinkVerdict::Dead && matches!(s.cause, Cause::Unreachable | Cause::Timeout)
        {
            failed.insert(host);
            unnamed |= s.detail.contains("host not found");
        }
    }
    // One site alone says nothing of the machine unless its name did not resolve and no
    // name does (a refused port is that site's own problem).
    let alone_and_cut_off = failed.len() == 1 && unnamed && !world_resolves();
    if failed.len() < 2 && !alone_and_cut_off {
        return 0;
    }
    let mut changed = 0;
    for (url, _) in external {
        let Some(s) = results.get_mut(url) else {
            continue;
        };
        if s.verdict == LinkVerdict::Dead && matches!(s.cause, Cause::Unreachable | Cause::Timeout)
        {
            *s = LinkStatus::new(
                LinkVerdict::Unverified,
                Cause::OutOfReach,
                format!(
                    "other sites could not be reached from this machine ({})",
                    s.detail
                ),
            );
            changed += 1;
        }
    }
    changed
}

/// The looks of the judged pages that need a browser to be seen ([`Render`]), rendered in
/// a small pool of Chromium tabs started only when some page needs it.
async fn render_drawn(
    engine: &Engine,
    judged: &[&Url],
    fetched: &BTreeMap<(usize, String), Arc<Fetched>>,
) -> Vec<(String, Look)> {
    let mode = engine.opts.render;
    let mut wanted: Vec<Url> = Vec::new();
    for base in judged {
        let Some(f) = fetched.get(&(0, base.to_string())) else {
            continue;
        };
        let Some(look) = &f.look else { continue };
        let page = matches!(f.result, Ok(200..=299)) && f.unfollowed.is_none() && !look.rendered;
        let needed = match mode {
            Render::Never => false,
            Render::Always => true,
            Render::Auto => look.drawn_by_script(),
        };
        if page && needed && !wanted.contains(base) {
            wanted.push((*base).clone());
        }
    }
    if wanted.is_empty() {
        return Vec::new();
    }
    let fence = engine.fence();
    let started = tokio::task::spawn_blocking(move || Renderer::start(RENDER_TABS, fence)).await;
    let renderer = match started {
        Ok(Ok(r)) => Arc::new(r),
        Ok(Err(e)) => {
            eprintln!("nocall: pages drawn by script were judged as plain HTML: {e}");
            return Vec::new();
        }
        Err(e) => {
            eprintln!("nocall: pages drawn by script were judged as plain HTML: {e}");
            return Vec::new();
        }
    };
    let mut tasks = JoinSet::new();
    for url in wanted {
        let renderer = renderer.clone();
        let status = fetched
            .get(&(0, url.to_string()))
            .and_then(|f| f.result.as_ref().ok().copied());
        tasks.spawn(async move {
            // A page whose script sent the tab elsewhere (a sign-in page, another site)
            // says nothing of this link's own page: it is judged as fetched.
            let rendered = renderer
                .render(&url)
                .await
                .ok()
                .filter(|r| Url::parse(&r.page.url).is_ok_and(|u| u.origin() == url.origin()))
                .map(|r| {
                    let mut look = r.look;
                    look.status = status;
                    look
                });
            (url.to_string(), rendered)
        });
    }
    let mut out = Vec::new();
    while let Some(done) = tasks.join_next().await {
        if let Ok((key, Some(look))) = done {
            out.push((key, look));
        }
    }
    out
}

fn plan(raw: &str, origins: &[&Origin], engine: &Engine, known: &Known) -> Plan {
    let skip = |why: &str| {
        Plan::Done(LinkStatus::new(
            LinkVerdict::Skipped,
            Cause::NotChecked,
            why,
        ))
    };
    let scheme = raw
        .split_once(':')
        .map(|(s, _)| s.trim().to_ascii_lowercase());
    match scheme.as_deref() {
        Some("mailto") => return Plan::Done(mailto(raw)),
        Some("tel" | "sms" | "callto") => return skip("phone numbers have their own checks"),
        Some("javascript") => return skip("script links are not followed"),
        Some("data" | "blob" | "about") => return skip("not a web address"),
        _ => {}
    }
    if let Some(status) = bad_scheme(raw) {
        return Plan::Done(status);
    }
    let Ok(mut url) = Url::parse(raw) else {
        return Plan::Done(LinkStatus::new(
            LinkVerdict::Dead,
            Cause::Address,
            "not a valid web address",
        ));
    };
    if !matches!(url.scheme(), "http" | "https") {
        return skip(&format!("{}: links are not checked", url.scheme()));
    }
    // The policy first: a withheld link gets no request at all, not even HEAD.
    for o in origins {
        let source = match o.via {
            Via::Link | Via::Form { .. } => Source::PageLink,
            Via::Mail { followed: true } => Source::MailOfFollowed,
            Via::Mail { followed: false } => Source::MailOfOther,
        };
        match policy::decide(&url, source, &engine.opts.rules) {
            Decision::Open => {}
            Decision::Skip(why) => return skip(why),
            // The page itself (a "Skip to content" link on a page opened with a token):
            // the journey opened it already, and asking again could use the token up.
            Decision::Withhold(_) if origins.iter().any(|o| same_page(&o.page, &url)) => {
                return skip("the journey opened this page itself");
            }
            Decision::Withhold(w) => {
                let detail = w.said();
                return Plan::Done(LinkStatus::new(
                    LinkVerdict::Unverified,
                    Cause::Withheld(w),
                    detail,
                ));
            }
        }
    }
    let head_only = origins.iter().any(|o| matches!(o.via, Via::Mail { .. }));
    let fragment = url.fragment().and_then(checkable_fragment);
    url.set_fragment(None);
    // The page the link is on, or a section of it: the page as the journey recorded it
    // answers (a request now could be sent elsewhere, say to the sign-in page). A section
    // the record lacks is asked for as any other link, in case the record missed it.
    let on_own_page = origins
        .iter()
        .any(|o| !matches!(o.via, Via::Mail { .. }) && same_page(&o.page, &url));
    if on_own_page && let Some(anchors) = known.anchors.get(url.as_str()) {
        match &fragment {
            None => {
                return Plan::Done(LinkStatus::new(
                    LinkVerdict::Ok,
                    Cause::Fine,
                    "the journey was shown this page",
                ));
            }
            Some(frag) if anchors.contains(frag) => {
                return Plan::Done(LinkStatus::new(
                    LinkVerdict::Ok,
                    Cause::Fine,
                    format!("#{frag} is on the page as the journey saw it"),
                ));
            }
            Some(_) => {}
        }
    }
    let external = !engine.is_own(&url);
    // A link anywhere makes it a link; a target met only as a form's action is probed
    // only when some form sends there with GET from the same site.
    let as_link = origins
        .iter()
        .any(|o| matches!(o.via, Via::Link | Via::Mail { .. }));
    if !as_link {
        let get_from_same_site = origins.iter().any(|o| {
            matches!(&o.via, Via::Form { method } if method.eq_ignore_ascii_case("get"))
                && Url::parse(&o.page).is_ok_and(|p| p.origin() == url.origin())
        });
        if !get_from_same_site {
            return skip("forms are never submitted to check them");
        }
    }
    if let Some(why) = engine.out_of_reach(&url) {
        return skip(&why);
    }
    if let Some(host) = engine.exempt.refuses_literal(&url) {
        let w = Withheld::PrivateAddress { host };
        let detail = w.said();
        return Plan::Done(LinkStatus::new(
            LinkVerdict::Unverified,
            Cause::Withheld(w),
            detail,
        ));
    }
    Plan::Fetch {
        judge: !external && as_link && !head_only,
        session: known.signed.get(raw).map(|(jar, _)| *jar),
        base: url,
        fragment,
        external,
        get_only: !as_link,
        head_only,
    }
}

/// A link of a signed-in page that the site refused (401, 403) or sent to its sign-in page
/// though asked with the journey's cookies: its session has ended (the journey signed
/// out) or is not held in cookies. A person signed in may well reach it; nocall cannot
/// tell, so it is never a dead link.
fn needs_session(f: &Fetched, asked: &Url, page: &str) -> Option<LinkStatus> {
    let code = *f.result.as_ref().ok()?;
    let signs_in = |raw: &str| Url::parse(raw).is_ok_and(|u| sign_in_address(&u));
    // A page that is the sign-in page itself (or a link to it) says nothing of the session.
    if sign_in_address(asked) || signs_in(page) {
        return None;
    }
    let sent_to = f
        .unfollowed
        .as_deref()
        .or(f.redirected.then_some(f.final_url.as_str()))
        .filter(|to| signs_in(to));
    let why = match (code, sent_to) {
        (401 | 403, _) => format!("the site answered {}", status_text(code)),
        (_, Some(to)) => {
            let shown = Url::parse(to)
                .map(|u| u[url::Position::BeforePath..].to_string())
                .unwrap_or_else(|_| to.to_string());
            format!("the site sent it to the sign-in page ({shown})")
        }
        _ => return None,
    };
    let mut s = LinkStatus::new(
        LinkVerdict::Unverified,
        Cause::NeedsSession,
        format!("needs the signed-in session: {why} even with the journey's cookies"),
    );
    s.status = Some(code);
    if f.redirected {
        s.final_url = Some(f.final_url.clone());
    }
    Some(s)
}

/// An address that names signing in (`/login`, `/users/sign_in`, `Special:UserLogin`,
/// `wp-login.php`, `/accounts/login/?next=…`), in its path or query.
fn sign_in_address(url: &Url) -> bool {
    let path = percent_encoding::percent_decode_str(url.path()).decode_utf8_lossy();
    let query = url.query().unwrap_or_default();
    let query = percent_encoding::percent_decode_str(query).decode_utf8_lossy();
    let words: Vec<String> = format!("{path} {query}")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let joined = words.windows(2).map(|w| format!("{}{}", w[0], w[1]));
    words.iter().cloned().chain(joined).any(|w| {
        ["login", "signin", "logon"]
            .iter()
            .any(|s| w == *s || (w.ends_with(s) && w.len() <= s.len() + 4) || w.starts_with(s))
    })
}

/// `page` is `url` (fragments aside).
fn same_page(page: &str, url: &Url) -> bool {
    let Ok(mut p) = Url::parse(page) else {
        return false;
    };
    let mut u = url.clone();
    p.set_fragment(None);
    u.set_fragment(None);
    p == u
}

/// A scheme nothing should open from a web page or an e-mail (`file:`, `chrome:`,
/// `view-source:`, `ftp:` …): a finding about the portal, never a request.
pub(crate) fn bad_scheme(raw: &str) -> Option<LinkStatus> {
    let (scheme, _) = raw.split_once(':')?;
    let scheme = scheme.trim().to_ascii_lowercase();
    let data = [
        "http",
        "https",
        "mailto",
        "tel",
        "sms",
        "callto",
        "javascript",
        "data",
        "blob",
        "about",
    ];
    let is_scheme = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !is_scheme || data.contains(&scheme.as_str()) {
        return None;
    }
    Some(LinkStatus::new(
        LinkVerdict::Dead,
        Cause::Scheme(scheme.clone()),
        format!("a {scheme}: address: a browser will not open it from a web page"),
    ))
}

/// The fragment to look for on the target page, decoded; none for fragments every page
/// has (`#`, `#top`), text fragments (`#:~:text=`) and client-side routes (`#/…`, `#!…`).
fn checkable_fragment(f: &str) -> Option<String> {
    if f.is_empty()
        || f.eq_ignore_ascii_case("top")
        || f.starts_with(":~:")
        || f.starts_with('/')
        || f.starts_with('!')
    {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(f).decode_utf8_lossy();
    Some(decoded.into_owned())
}

/// A `mailto:` link holds addresses a mail program can use (an empty one lets the user
/// type the address, which is allowed).
fn mailto(raw: &str) -> LinkStatus {
    let rest = raw.split_once(':').map(|(_, r)| r).unwrap_or_default();
    let to = rest.split('?').next().unwrap_or_default();
    let to = percent_encoding::percent_decode_str(to).decode_utf8_lossy();
    let bad: Vec<&str> = to
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty() && !email_address::EmailAddress::is_valid(a))
        .collect();
    if bad.is_empty() {
        LinkStatus::new(
            LinkVerdict::Ok,
            Cause::Fine,
            "e-mail address is well formed",
        )
    } else {
        LinkStatus::new(
            LinkVerdict::Dead,
            Cause::Address,
            format!("\"{}\" is not a valid e-mail address", bad.join(", ")),
        )
    }
}

/// What a page of the own site is judged against: its site's own not-found page, and the
/// page's path (left out when comparing, since not-found pages echo it).
#[derive(Clone, Copy)]
pub(crate) struct Judge<'a> {
    pub site: Option<&'a Look>,
    pub path: &'a str,
}

/// The verdict on a page of the own site from what it shows, when that overrides its
/// status: a 2xx page that shows "not found" is dead; a 404/410 page that shows the site's
/// working page (unlike its not-found page) is a warning.
pub(crate) fn judge_look(code: u16, look: &Look, judge: Judge<'_>) -> Option<LinkStatus> {
    let paths = [judge.path, MISSING_PATH];
    let like_site = judge
        .site
        .is_some_and(|site| look.same_as_not_found(site, paths));
    if (200..300).contains(&code) {
        let shown = look.says_not_found().or_else(|| {
            like_site.then(|| {
                let site = judge
                    .site
                    .map(|s| s.says_not_found().unwrap_or(s.title.clone()));
                site.unwrap_or_default()
            })
        })?;
        let shown = if shown.is_empty() {
            "the site's not-found page".to_string()
        } else {
            format!("'{shown}'")
        };
        return Some(LinkStatus::new(
            LinkVerdict::Dead,
            Cause::NotFoundPage(shown.clone()),
            format!("shows {shown} (answered {code})"),
        ));
    }
    // A deliberate 404 on a working page (a wiki's empty special page): only when the
    // site's own not-found page is known and looks otherwise.
    let site = judge.site?;
    if matches!(code, 404 | 410) && !like_site && site != look && look.is_working_page() {
        return Some(LinkStatus::new(
            LinkVerdict::Unverified,
            Cause::WorkingPage,
            format!("answered {} but shows a working page", status_text(code)),
        ));
    }
    None
}

/// The status of one target from what its base URL answered.
fn link_status(
    f: &Fetched,
    fragment: Option<&str>,
    external: bool,
    judge: Option<Judge<'_>>,
) -> LinkStatus {
    let mut s = match &f.result {
        // A HEAD-only link (from an e-mail) that HEAD could not confirm: GET could act on
        // the account, so it stays unverified.
        Ok(code) if f.unconfirmed => LinkStatus::new(
            LinkVerdict::Unverified,
            Cause::Status,
            format!(
                "{}; not confirmed with GET: a link in an e-mail may act on the account",
                status_text(*code)
            ),
        ),
        Err(engine::Failure::PrivateAddress(host)) => {
            let w = Withheld::PrivateAddress { host: host.clone() };
            let detail = w.said();
            LinkStatus::new(LinkVerdict::Unverified, Cause::Withheld(w), detail)
        }
        Err(failure) if f.unconfirmed => LinkStatus::new(
            LinkVerdict::Unverified,
            failure.cause(),
            format!(
                "{failure}; not confirmed with GET: a link in an e-mail may act on the account"
            ),
        ),
        Err(failure) if failure.unverifiable() => LinkStatus::new(
            LinkVerdict::Unverified,
            failure.cause(),
            failure.to_string(),
        ),
        Err(failure) => LinkStatus::new(LinkVerdict::Dead, failure.cause(), failure.to_string()),
        Ok(code) => match (judge, &f.look) {
            (Some(j), Some(look)) if f.unfollowed.is_none() => judge_look(*code, look, j)
                .unwrap_or_else(|| status_for_code(*code, f, fragment, external)),
            _ => status_for_code(*code, f, fragment, external),
        },
    };
    if f.result.is_ok() {
        s.status = f.result.as_ref().ok().copied();
    }
    if f.redirected {
        s.final_url = Some(f.final_url.clone());
    }
    s
}

fn status_for_code(code: u16, f: &Fetched, fragment: Option<&str>, external: bool) -> LinkStatus {
    let text = status_text(code);
    let turned_away = |why: &str| {
        LinkStatus::new(
            LinkVerdict::Unverified,
            Cause::Status,
            format!("{text}: {why}"),
        )
    };
    match code {
        401 => turned_away("the page asks to sign in"),
        429 => turned_away("the site limits how often it may be asked"),
        403 | 999 if external => turned_away("the site turns automated checkers away"),
        400.. => LinkStatus::new(LinkVerdict::Dead, Cause::Status, text),
        _ => {
            if let Some(to) = &f.unfollowed {
                return LinkStatus::new(
                    LinkVerdict::Ok,
                    Cause::Fine,
                    format!("redirects to {to} (not followed)"),
                );
            }
            let (Some(frag), Some(anchors)) = (fragment, &f.anchors) else {
                return LinkStatus::new(LinkVerdict::Ok, Cause::Fine, text);
            };
            if anchors.contains(frag) {
                return LinkStatus::new(LinkVerdict::Ok, Cause::Fine, text);
            }
            if f.truncated {
                let cap = html::MAX_BODY / (1024 * 1024);
                LinkStatus::new(
                    LinkVerdict::Unverified,
                    Cause::Fragment(frag.to_string()),
                    format!("#{frag} not in the first {cap} MiB of the page"),
                )
            } else if external {
                // Other sites often add their ids with script, which a plain fetch does not run.
                LinkStatus::new(
                    LinkVerdict::Unverified,
                    Cause::Fragment(frag.to_string()),
                    format!("#{frag} not in the page's HTML (it may be added by script)"),
                )
            } else {
                LinkStatus::new(
                    LinkVerdict::Dead,
                    Cause::Fragment(frag.to_string()),
                    format!("#{frag} missing on target"),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Control, Form, Link, PageState, StepTrace};

    fn engine() -> Engine {
        Engine::new(
            LinkOptions::default(),
            own_hosts(["http://portal.test/"].into_iter()),
        )
        .expect("client builds")
    }

    fn link_origin() -> Origin {
        Origin {
            page: "http://portal.test/help".into(),
            via: Via::Link,
        }
    }

    fn planned(raw: &str, origins: &[&Origin]) -> Plan {
        plan(raw, origins, &engine(), &Known::default())
    }

    #[test]
    fn non_web_schemes_are_skipped_and_mailto_is_checked_for_syntax() {
        let o = link_origin();
        for raw in ["tel:+18005550184", "javascript:void(0)", "data:,"] {
            let Plan::Done(s) = planned(raw, &[&o]) else {
                panic!("{raw} was fetched")
            };
            assert_eq!(s.verdict, LinkVerdict::Skipped, "{raw}");
        }
        let Plan::Done(good) = planned("mailto:help@portal.test?subject=Card", &[&o]) else {
            panic!()
        };
        assert_eq!(good.verdict, LinkVerdict::Ok);
        let Plan::Done(empty) = planned("mailto:?subject=Hi", &[&o]) else {
            panic!()
        };
        assert_eq!(empty.verdict, LinkVerdict::Ok);
        let Plan::Done(bad) = planned("mailto:help@@portal", &[&o]) else {
            panic!()
        };
        assert_eq!(bad.verdict, LinkVerdict::Dead);
        assert_eq!(bad.cause, Cause::Address);
        assert!(bad.detail.contains("help@@portal"), "{}", bad.detail);
    }

    #[test]
    fn post_forms_and_cross_site_get_forms_are_never_probed() {
        let post = Origin {
            page: "http://portal.test/login".into(),
            via: Via::Form {
                method: "post".into(),
            },
        };
        let Plan::Done(s) = planned("http://portal.test/session", &[&post]) else {
            panic!()
        };
        assert_eq!(s.verdict, LinkVerdict::Skipped);
        let get = Origin {
            page: "http://portal.test/".into(),
            via: Via::Form {
                method: "get".into(),
            },
        };
        assert!(matches!(
            planned("http://portal.test/search", &[&get]),
            Plan::Fetch { .. }
        ));
        let Plan::Done(s) = planned("http://other.test/search", &[&get]) else {
            panic!()
        };
        assert_eq!(s.verdict, LinkVerdict::Skipped);
        // The same URL linked somewhere is probed as a link.
        let o = link_origin();
        assert!(matches!(
            planned("http://portal.test/session", &[&post, &o]),
            Plan::Fetch { .. }
        ));
    }

    #[test]
    fn fragments_are_decoded_and_universal_ones_ignored() {
        let o = link_origin();
        let Plan::Fetch {
            base,
            fragment,
            external,
            ..
        } = planned("http://portal.test/a#caf%C3%A9", &[&o])
        else {
            panic!()
        };
        assert_eq!(base.as_str(), "http://portal.test/a");
        assert_eq!(fragment.as_deref(), Some("café"));
        assert!(!external);
        for raw in [
            "http://portal.test/a#",
            "http://portal.test/a#top",
            "http://portal.test/a#/route",
            "http://portal.test/a#:~:text=x",
        ] {
            let Plan::Fetch { fragment, .. } = planned(raw, &[&o]) else {
                panic!()
            };
            assert_eq!(fragment, None, "{raw}");
        }
    }

    #[test]
    fn offline_and_allowed_hosts_keep_other_sites_out_of_reach() {
        let own = own_hosts(["http://portal.test/"].into_iter());
        let o = link_origin();
        let offline = Engine::new(
            LinkOptions {
                offline: true,
                ..LinkOptions::default()
            },
            own.clone(),
        )
        .expect("client");
        let Plan::Done(s) = plan(
            "https://elsewhere.test/x",
            &[&o],
            &offline,
            &Known::default(),
        ) else {
            panic!()
        };
        assert_eq!(s.verdict, LinkVerdict::Skipped);
        assert!(matches!(
            plan("http://portal.test/x", &[&o], &offline, &Known::default()),
            Plan::Fetch { .. }
        ));
        let allowed = LinkOptions {
            allowed_hosts: Some(vec!["example.org".into()]),
            ..LinkOptions::default()
        };
        let allowed = Engine::new(allowed, own).expect("client");
        assert!(matches!(
            plan(
                "https://docs.example.org/x",
                &[&o],
                &allowed,
                &Known::default()
            ),
            Plan::Fetch { external: true, .. }
        ));
        let Plan::Done(s) = plan("https://example.net/x", &[&o], &allowed, &Known::default())
        else {
            panic!()
        };
        assert_eq!(s.verdict, LinkVerdict::Skipped);
        assert!(s.detail.contains("allowed_hosts"), "{}", s.detail);
    }

    fn fetched(code: u16, anchors: Option<&[&str]>) -> Fetched {
        Fetched {
            result: Ok(code),
            final_url: "http://portal.test/a".into(),
            redirected: false,
            unfollowed: None,
            anchors: anchors.map(|a| a.iter().map(|s| s.to_string()).collect()),
            truncated: false,
            unconfirmed: false,
            look: None,
        }
    }

    #[test]
    fn statuses_become_verdicts_and_bot_blocking_elsewhere_is_unverified() {
        let dead = link_status(&fetched(404, None), None, false, None);
        assert_eq!(
            (dead.verdict, dead.detail.as_str(), dead.status),
            (LinkVerdict::Dead, "404 Not Found", Some(404))
        );
        assert_eq!(
            link_status(&fetched(410, None), None, false, None).detail,
            "410 Gone"
        );
        assert_eq!(
            link_status(&fetched(403, None), None, false, None).verdict,
            LinkVerdict::Dead
        );
        for code in [403, 429, 999] {
            let s = link_status(&fetched(code, None), None, true, None);
            assert_eq!(s.verdict, LinkVerdict::Unverified, "{code}");
            assert!(!s.ok);
        }
        assert!(link_status(&fetched(200, None), None, false, None).ok);
    }

    #[test]
    fn a_missing_fragment_is_dead_on_the_own_site_and_unverified_elsewhere() {
        let f = fetched(200, Some(&["charges"]));
        assert!(link_status(&f, Some("charges"), false, None).ok);
        let missing = link_status(&f, Some("refunds"), false, None);
        assert_eq!(missing.verdict, LinkVerdict::Dead);
        assert_eq!(missing.detail, "#refunds missing on target");
        assert_eq!(missing.cause, Cause::Fragment("refunds".into()));
        assert_eq!(
            link_status(&f, Some("refunds"), true, None).verdict,
            LinkVerdict::Unverified
        );
        let mut big = f.clone();
        big.truncated = true;
        assert_eq!(
            link_status(&big, Some("refunds"), false, None).verdict,
            LinkVerdict::Unverified
        );
    }

    #[test]
    fn other_sites_are_out_of_reach_only_when_none_answers() {
        let dead = |detail: &str| LinkStatus::new(LinkVerdict::Dead, Cause::Unreachable, detail);
        let external = vec![
            ("http://a.test/".to_string(), "a.test".to_string()),
            ("http://b.test/x".to_string(), "b.test".to_string()),
        ];
        let mut results: LinkResults = [
            ("http://a.test/".to_string(), dead("host not found")),
            ("http://b.test/x".to_string(), dead("connection refused")),
        ]
        .into();
        assert_eq!(out_of_reach(&mut results, &external, || true), 2);
        let a = &results["http://a.test/"];
        assert_eq!(
            (a.verdict, &a.cause),
            (LinkVerdict::Unverified, &Cause::OutOfReach)
        );
        assert!(a.detail.contains("(host not found)"), "{}", a.detail);
        // One site answering: the machine reaches the world, and the others are dead.
        let mut answered: LinkResults = [
            ("http://a.test/".to_string(), dead("host not found")),
            ("http://b.test/x".to_string(), {
                let mut s = LinkStatus::new(LinkVerdict::Dead, Cause::Status, "404 Not Found");
                s.status = Some(404);
                s
            }),
        ]
        .into();
        assert_eq!(out_of_reach(&mut answered, &external, || false), 0);
        assert_eq!(answered["http://a.test/"].verdict, LinkVerdict::Dead);
        // A single other site failing is that site's problem when the world resolves, and
        // unverified when nothing does (a machine without DNS).
        let mut one: LinkResults = [("http://a.test/".to_string(), dead("host not found"))].into();
        assert_eq!(out_of_reach(&mut one, &external[..1], || true), 0);
        assert_eq!(one["http://a.test/"].verdict, LinkVerdict::Dead);
        assert_eq!(out_of_reach(&mut one, &external[..1], || false), 1);
        assert_eq!(one["http://a.test/"].verdict, LinkVerdict::Unverified);
        // A refused port is the site's own problem, whatever the machine resolves.
        let mut refused: LinkResults =
            [("http://a.test/".to_string(), dead("connection refused"))].into();
        assert_eq!(out_of_reach(&mut refused, &external[..1], || false), 0);
    }

    fn cookie(name: &str, value: &str, path: &str) -> crate::trace::Cookie {
        crate::trace::Cookie {
            name: name.into(),
            value: value.into(),
            path: path.into(),
        }
    }

    fn page_at(url: &str, links: &[&str], anchors: &[&str]) -> StepTrace {
        StepTrace {
            page: Some(PageState {
                url: url.into(),
                links: links
                    .iter()
                    .map(|h| Link {
                        href: h.to_string(),
                        ..Link::default()
                    })
                    .collect(),
                anchors: anchors.iter().map(|a| a.to_string()).collect(),
                ..PageState::default()
            }),
            ..StepTrace::default()
        }
    }

    /// Sign in at step 2, then two pages; the journey's first page had a consent cookie.
    fn signed_in_journey() -> Trace {
        let mut steps = vec![
            page_at(
                "http://portal.test/login",
                &["http://portal.test/help"],
                &[],
            ),
            page_at(
                "http://portal.test/account",
                &[
                    "http://portal.test/account#main",
                    "http://portal.test/orders",
                    "http://other.test/x",
                ],
                &["main"],
            ),
            page_at("http://portal.test/orders", &["http://portal.test/"], &[]),
        ];
        for (i, s) in steps.iter_mut().enumerate() {
            s.index = i + 1;
        }
        let mut t = Trace {
            steps,
            ..Trace::default()
        };
        let consent = cookie("consent", "yes", "/");
        t.cookies
            .note(1, "http://portal.test/login", vec![consent.clone()]);
        t.cookies.note(
            2,
            "http://portal.test/account",
            vec![consent.clone(), cookie("sid", "old", "/")],
        );
        t.cookies.note(
            3,
            "http://portal.test/orders",
            vec![consent, cookie("sid", "s3cr3t", "/")],
        );
        t
    }

    #[test]
    fn pages_with_a_cookie_the_first_page_lacked_are_signed_in() {
        let known = Known::of(&[signed_in_journey()]);
        // The sign-in page's links are not; the account's and the orders' of the own
        // origin are, with the session the journey last had; another site's never.
        assert!(!known.signed.contains_key("http://portal.test/help"));
        assert!(!known.signed.contains_key("http://other.test/x"));
        let (jar, page) = &known.signed["http://portal.test/orders"];
        assert_eq!(page, "http://portal.test/account");
        assert!(known.signed.contains_key("http://portal.test/"));
        assert_eq!(known.jars.len(), 1);
        let header = known.jars[*jar].header_for(&Url::parse("http://portal.test/orders").unwrap());
        assert_eq!(header.as_deref(), Some("consent=yes; sid=s3cr3t"));
        assert_eq!(
            known.anchors["http://portal.test/account"],
            HashSet::from(["main".to_string()])
        );
        // No cookie changed: nothing is signed in.
        let mut plain = signed_in_journey();
        plain.cookies = crate::trace::Cookies::default();
        assert!(Known::of(&[plain]).signed.is_empty());
    }

    #[test]
    fn cookies_go_to_their_own_origin_and_paths_only_and_debug_hides_them() {
        let jar = Jar {
            origin: Url::parse("http://portal.test/").unwrap().origin(),
            cookies: vec![cookie("sid", "v1", "/"), cookie("area", "v2", "/members")],
        };
        let header = |u: &str| jar.header_for(&Url::parse(u).unwrap());
        assert_eq!(header("http://portal.test/a").as_deref(), Some("sid=v1"));
        assert_eq!(
            header("http://portal.test/members/x").as_deref(),
            Some("sid=v1; area=v2")
        );
        assert_eq!(
            header("http://portal.test/membersonly").as_deref(),
            Some("sid=v1")
        );
        for elsewhere in [
            "https://portal.test/a",
            "http://portal.test:8080/a",
            "http://sub.portal.test/a",
            "http://other.test/a",
        ] {
            assert_eq!(header(elsewhere), None, "{elsewhere}");
        }
        let t = signed_in_journey();
        let shown = format!("{:?}", t.cookies);
        assert!(
            shown.contains("sid") && !shown.contains("s3cr3t"),
            "{shown}"
        );
    }

    #[test]
    fn a_section_of_the_page_itself_is_looked_up_in_the_record() {
        let known = Known::of(&[signed_in_journey()]);
        let on_account = Origin {
            page: "http://portal.test/account".into(),
            via: Via::Link,
        };
        let Plan::Done(s) = plan(
            "http://portal.test/account#main",
            &[&on_account],
            &engine(),
            &known,
        ) else {
            panic!("fetched")
        };
        assert_eq!(s.verdict, LinkVerdict::Ok, "{s:?}");
        // The page itself, without a section: shown to the journey.
        assert!(matches!(
            plan(
                "http://portal.test/account",
                &[&on_account],
                &engine(),
                &known
            ),
            Plan::Done(_)
        ));
        // A section the record lacks is asked for; another page of the own site with the
        // journey's session.
        assert!(matches!(
            plan(
                "http://portal.test/account#gone",
                &[&on_account],
                &engine(),
                &known
            ),
            Plan::Fetch { .. }
        ));
        assert!(matches!(
            plan(
                "http://portal.test/orders",
                &[&on_account],
                &engine(),
                &known
            ),
            Plan::Fetch {
                session: Some(0),
                ..
            }
        ));
    }

    #[test]
    fn refusals_and_the_sign_in_page_need_the_session() {
        let asked = Url::parse("http://portal.test/orders").unwrap();
        let page = "http://portal.test/account";
        for code in [401, 403] {
            let s = needs_session(&fetched(code, None), &asked, page).expect("warned");
            assert_eq!(
                (s.verdict, &s.cause),
                (LinkVerdict::Unverified, &Cause::NeedsSession)
            );
        }
        let mut sent = fetched(200, None);
        sent.redirected = true;
        sent.final_url = "http://portal.test/users/sign_in?next=%2Forders".into();
        let s = needs_session(&sent, &asked, page).expect("warned");
        assert!(s.detail.contains("/users/sign_in"), "{}", s.detail);
        // A page that answers, or a redirect elsewhere, is judged as usual; so is a link
        // to the sign-in page, or any link on it.
        assert_eq!(needs_session(&fetched(200, None), &asked, page), None);
        assert_eq!(needs_session(&fetched(404, None), &asked, page), None);
        let mut moved = sent.clone();
        moved.final_url = "http://portal.test/orders/".into();
        assert_eq!(needs_session(&moved, &asked, page), None);
        let login = Url::parse("http://portal.test/login?next=/orders").unwrap();
        assert_eq!(needs_session(&sent, &login, page), None);
        assert_eq!(
            needs_session(&sent, &asked, "http://portal.test/login"),
            None
        );
    }

    #[test]
    fn sign_in_addresses_are_told_by_their_words() {
        for yes in [
            "http://w.test/index.php?title=Special:UserLogin&returnto=Main_Page",
            "http://w.test/wp-login.php",
            "http://w.test/accounts/login/?next=/",
            "http://w.test/users/sign_in",
            "http://w.test/log-in",
            "http://w.test/signin",
        ] {
            assert!(sign_in_address(&Url::parse(yes).unwrap()), "{yes}");
        }
        for no in [
            "http://w.test/catalogue",
            "http://w.test/blog/index",
            "http://w.test/orders",
            "http://w.test/signature",
        ] {
            assert!(!sign_in_address(&Url::parse(no).unwrap()), "{no}");
        }
    }

    #[test]
    fn targets_cover_links_forms_and_navigating_buttons() {
        let page = PageState {
            url: "http://portal.test/".into(),
            links: vec![Link {
                text: "Help".into(),
                href: "http://portal.test/help".into(),
                ..Link::default()
            }],
            forms: vec![Form {
                action: "http://portal.test/session".into(),
                method: "post".into(),
                id: String::new(),
            }],
            buttons: vec![
                Control {
                    name: "Save".into(),
                    button_type: "submit".into(),
                    form: Some(0),
                    target: Some("http://portal.test/save".into()),
                    ..Control::default()
                },
                Control {
                    name: "Home".into(),
                    target: Some("http://portal.test/home".into()),
                    ..Control::default()
                },
            ],
            ..PageState::default()
        };
        let step = StepTrace {
            index: 1,
            page: Some(page),
            ..StepTrace::default()
        };
        let traces = [Trace {
            steps: vec![step.clone(), step],
            ..Trace::default()
        }];
        let targets = targets_of(&traces);
        assert_eq!(targets.len(), 4, "{targets:#?}");
        assert_eq!(
            targets[1].1.via,
            Via::Form {
                method: "post".into()
            }
        );
        assert_eq!(
            targets[2].1.via,
            Via::Form {
                method: "post".into()
            }
        );
        assert_eq!(targets[3].1.via, Via::Link);
        assert_eq!(urls_of(&traces).len(), 4);
    }
}
