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
//! The HTTP side lives in `engine`; the HTML it needs (a page's ids and anchor names, for
//! `#fragment` targets) in `html`.

pub(crate) mod engine;
pub(crate) mod html;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use url::Url;

use super::Session;
use super::notfound::Look;
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
    let own = own_hosts(urls.iter().map(|(_, o)| o.page.as_str()));
    let engine = match Engine::new(opts.clone(), own) {
        Ok(e) => Arc::new(e),
        Err(e) => return not_probed(urls, &format!("the HTTP client could not start: {e}")),
    };
    match runtime() {
        Ok(rt) => rt.block_on(probe_with(engine, urls)),
        Err(e) => not_probed(urls, &format!("the prober could not start: {e}")),
    }
}

/// Probes every target with a crawl's client, whose cache already answers for the pages
/// the crawl fetched.
pub fn probe_urls_with(session: &Session, urls: &[(String, Origin)]) -> LinkResults {
    let engine = session.engine.clone();
    session.runtime.block_on(probe_with(engine, urls))
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
async fn probe_with(engine: Arc<Engine>, urls: &[(String, Origin)]) -> LinkResults {
    let mut origins: BTreeMap<&str, Vec<&Origin>> = BTreeMap::new();
    for (url, origin) in urls {
        origins.entry(url.as_str()).or_default().push(origin);
    }
    let plans: Vec<(&str, Plan)> = origins
        .iter()
        .map(|(url, o)| (*url, plan(url, o, &engine)))
        .collect();
    // A base URL is fetched with its body when any target needs a fragment looked up, or
    // when a form may only be probed with GET.
    // (URL, body wanted, HEAD only, judged).
    let mut wanted: BTreeMap<String, (Url, bool, bool, bool)> = BTreeMap::new();
    for (_, p) in &plans {
        if let Plan::Fetch {
            base,
            fragment,
            get_only,
            head_only,
            judge,
            ..
        } = p
        {
            let entry = wanted
                .entry(base.as_str().to_string())
                .or_insert_with(|| (base.clone(), false, false, false));
            entry.1 |= !*head_only && (fragment.is_some() || *get_only);
            entry.2 |= *head_only;
            entry.3 |= *judge;
            // The site's own not-found page, once per site whose pages are judged.
            if let Some(missing) = missing_on(base).filter(|_| *judge) {
                wanted
                    .entry(missing.as_str().to_string())
                    .or_insert_with(|| (missing, true, false, false));
            }
        }
    }
    let mut tasks = JoinSet::new();
    for (key, (base, body, head_only, judge)) in wanted {
        let engine = engine.clone();
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
    let mut fetched: BTreeMap<String, Arc<Fetched>> = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        if let Ok((key, f)) = done {
            fetched.insert(key, f);
        }
    }
    // Pages of the own site drawn by script are judged as Chromium draws them.
    let judged: Vec<&Url> = plans
        .iter()
        .filter_map(|(_, p)| match p {
            Plan::Fetch {
                base, judge: true, ..
            } => Some(base),
            _ => None,
        })
        .collect();
    for (key, look) in render_drawn(&engine, &judged, &fetched).await {
        if let Some(f) = fetched.get_mut(&key) {
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
                    ..
                } => match fetched.get(base.as_str()) {
                    Some(f) => {
                        let site = missing_on(&base)
                            .filter(|_| judge)
                            .and_then(|m| fetched.get(m.as_str()))
                            .and_then(|m| m.look.as_ref());
                        let judged = judge.then_some(Judge {
                            site,
                            path: base.path(),
                        });
                        link_status(f, fragment.as_deref(), external, judged)
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
    fetched: &BTreeMap<String, Arc<Fetched>>,
) -> Vec<(String, Look)> {
    let mode = engine.opts.render;
    let mut wanted: Vec<Url> = Vec::new();
    for base in judged {
        let Some(f) = fetched.get(base.as_str()) else {
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
            .get(url.as_str())
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

fn plan(raw: &str, origins: &[&Origin], engine: &Engine) -> Plan {
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
        base: url,
        fragment,
        external,
        get_only: !as_link,
        head_only,
    }
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
        plan(raw, origins, &engine())
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
        let Plan::Done(s) = plan("https://elsewhere.test/x", &[&o], &offline) else {
            panic!()
        };
        assert_eq!(s.verdict, LinkVerdict::Skipped);
        assert!(matches!(
            plan("http://portal.test/x", &[&o], &offline),
            Plan::Fetch { .. }
        ));
        let allowed = LinkOptions {
            allowed_hosts: Some(vec!["example.org".into()]),
            ..LinkOptions::default()
        };
        let allowed = Engine::new(allowed, own).expect("client");
        assert!(matches!(
            plan("https://docs.example.org/x", &[&o], &allowed),
            Plan::Fetch { external: true, .. }
        ));
        let Plan::Done(s) = plan("https://example.net/x", &[&o], &allowed) else {
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
