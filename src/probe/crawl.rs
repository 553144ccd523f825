//! The scenario-free crawl behind `nocall links URL`: visit one site's pages as plain HTTP
//! (no browser), breadth first from a start page, within a depth and a page budget, and
//! record each page as a step of one [`Trace`] so the same checks run over it.
//!
//! It stays on the start page's origin (scheme, host and port), follows `rel=nofollow`
//! links too (users click those), reads only GET answers, and shares its HTTP cache with
//! the link prober: a page fetched while crawling is never asked again when its links are
//! checked. A page of the site whose plain HTML has scripts and little to follow or read is
//! rendered in Chromium (`render`, [`Render`]) and read as drawn; nothing is clicked, typed
//! or submitted there.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use scraper::{ElementRef, Html, Selector};
use tokio::task::JoinSet;
use url::Url;

use super::Session;
pub use super::links::Render;
use super::links::engine::{Engine, Fetched};
use super::links::html::{collapse, visible_text};
use super::links::{self, LinkOptions};
use super::notfound::Look;
use super::policy::{self, Decision, Source};
use super::render::{RENDER_TABS, Renderer};
use crate::trace::status_text;
use crate::trace::{Control, Form, JourneyStatus, Link, PageState, StepKind, StepTrace, Trace};

/// How far a crawl goes.
#[derive(Debug, Clone, PartialEq)]
pub struct CrawlOptions {
    /// Links followed from the start page: 0 visits the start page alone.
    pub depth: usize,
    /// Pages recorded at most.
    pub max_pages: usize,
    /// First-time users a month who browse the site (the ranking's reach).
    pub monthly_users: f64,
    /// How requests are made (and when a page is rendered in Chromium); also used to probe
    /// the links found.
    pub link: LinkOptions,
}

/// Links read from one page at most, as a journey's page record keeps (`links_per_page`'s
/// default): a portal's page has dozens to hundreds. A page of 50 000 costs no more than
/// this many, and the crawl's queue never holds more addresses than it has pages left to
/// visit.
const MAX_LINKS_PER_PAGE: usize = 1_000;

/// What a crawl step's action ends with when its page was rendered in Chromium.
const RENDERED: &str = " (rendered in Chromium)";

/// How many pages of a crawl's traces were rendered in Chromium.
pub fn rendered_pages(traces: &[Trace]) -> usize {
    traces
        .iter()
        .flat_map(|t| &t.steps)
        .filter(|s| s.action.ends_with(RENDERED))
        .count()
}

impl Default for CrawlOptions {
    fn default() -> Self {
        CrawlOptions {
            depth: 5,
            max_pages: 500,
            monthly_users: 100.0,
            link: LinkOptions::default(),
        }
    }
}

/// Why a crawl could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    #[error("`{0}` is not a web address nocall can crawl: give an http:// or https:// URL")]
    NotHttp(String),
    #[error(
        "the start page {url} could not be loaded: {detail}; check the address and that the site is up"
    )]
    Start { url: String, detail: String },
    #[error("the HTTP client could not start: {0}")]
    Client(String),
}

/// A finished crawl: its pages, and the client that fetched them.
pub struct Crawl {
    /// One trace, a step per page.
    pub traces: Vec<Trace>,
    /// For [`super::ProbeOptions::crawled`], so the probe asks no page again.
    pub session: Session,
    /// Pages whose links were read only up to [`MAX_LINKS_PER_PAGE`], said as a warning.
    pub cut: Vec<super::status::Cut>,
}

/// Crawls the site at `start`. `progress` is told (pages recorded, pages waiting) as pages
/// come in.
pub fn crawl(
    start: &Url,
    opts: &CrawlOptions,
    progress: &dyn Fn(usize, usize),
) -> Result<Crawl, CrawlError> {
    if !matches!(start.scheme(), "http" | "https") || start.host_str().is_none() {
        return Err(CrawlError::NotHttp(start.to_string()));
    }
    let own = links::own_hosts(std::iter::once(start.as_str()));
    let engine =
        Engine::new(opts.link.clone(), own).map_err(|e| CrawlError::Client(e.to_string()))?;
    let engine = Arc::new(engine);
    let runtime = links::runtime().map_err(|e| CrawlError::Client(e.to_string()))?;
    let pages = runtime.block_on(pages(&engine, start, opts, progress))?;
    let (cut_pages, links_left) = pages
        .iter()
        .filter(|(_, _, left)| *left > 0)
        .fold((0, 0), |(p, l), (_, _, left)| (p + 1, l + left));
    let cut = (cut_pages > 0)
        .then(|| super::status::Cut {
            of: super::status::CutOf::Links,
            what: format!("links past {MAX_LINKS_PER_PAGE} a page"),
            message: format!(
                "{cut_pages} {} more than {MAX_LINKS_PER_PAGE} links: the crawl read the first \
                 {MAX_LINKS_PER_PAGE} of each and left {links_left} unread",
                if cut_pages == 1 {
                    "page has"
                } else {
                    "pages have"
                }
            ),
        })
        .into_iter()
        .collect();
    let host = start.host_str().unwrap_or_default();
    let steps = pages
        .into_iter()
        .enumerate()
        .map(|(i, (page, rendered, _))| StepTrace {
            index: i + 1,
            action: format!("open {}{}", page.url, if rendered { RENDERED } else { "" }),
            kind: StepKind::Open,
            page: Some(page),
            ..StepTrace::default()
        })
        .collect();
    let trace = Trace {
        scenario: format!("crawl {host}"),
        file: String::new(),
        start_url: start.to_string(),
        monthly_users: opts.monthly_users,
        status: JourneyStatus::Completed,
        steps,
        ..Trace::default()
    };
    Ok(Crawl {
        traces: vec![trace],
        session: Session { engine, runtime },
        cut,
    })
}

/// One fetched URL: the page it holds (when it is an HTML page of the site) and the
/// links to follow from it.
struct Visit {
    order: usize,
    depth: usize,
    page: Option<PageState>,
    /// The page was rendered in Chromium.
    rendered: bool,
    failure: Option<String>,
    /// Links of the page past [`MAX_LINKS_PER_PAGE`], not read.
    links_left: usize,
}

/// The crawl's renderer, started when the first page needs it.
struct Renderers {
    mode: Render,
    tabs: usize,
    fence: std::sync::Mutex<Option<crate::runner::fence::Fence>>,
    started: tokio::sync::OnceCell<Option<Arc<Renderer>>>,
}

impl Renderers {
    async fn get(&self) -> Option<Arc<Renderer>> {
        let tabs = self.tabs;
        self.started
            .get_or_init(|| async move {
                let fence = self.fence.lock().ok().and_then(|mut f| f.take());
                let started =
                    tokio::task::spawn_blocking(move || Renderer::start(tabs, fence)).await;
                match started {
                    Ok(Ok(r)) => Some(Arc::new(r)),
                    Ok(Err(e)) => {
                        eprintln!("nocall: pages drawn by script are read as plain HTML: {e}");
                        None
                    }
                    Err(e) => {
                        eprintln!("nocall: pages drawn by script are read as plain HTML: {e}");
                        None
                    }
                }
            })
            .await
            .clone()
    }
}

async fn pages(
    engine: &Arc<Engine>,
    start: &Url,
    opts: &CrawlOptions,
    progress: &dyn Fn(usize, usize),
) -> Result<Vec<(PageState, bool, usize)>, CrawlError> {
    let renderers = Arc::new(Renderers {
        mode: opts.link.render,
        tabs: RENDER_TABS.min(opts.link.concurrency.max(1)),
        fence: std::sync::Mutex::new(engine.fence()),
        started: tokio::sync::OnceCell::new(),
    });
    let mut start = start.clone();
    start.set_fragment(None);
    let mut seen = HashSet::from([start.to_string()]);
    let mut recorded = HashSet::new();
    let mut queue = VecDeque::from([(start.clone(), 0usize)]);
    let mut pages: Vec<(PageState, bool, usize)> = Vec::new();
    let mut tasks = JoinSet::new();
    // Visits finish in any order but are taken in the order they were queued (breadth
    // first, each page's links in document order): which pages a crawl records, and so
    // its findings, do not depend on which answer came first.
    let mut orders: HashMap<tokio::task::Id, usize> = HashMap::new();
    let mut finished: BTreeMap<usize, Visit> = BTreeMap::new();
    let mut next_taken = 0;
    let mut order = 0;
    let limit = opts.link.concurrency.max(1);
    loop {
        while tasks.len() < limit && pages.len() + tasks.len() + finished.len() < opts.max_pages {
            let Some((url, depth)) = queue.pop_front() else {
                break;
            };
            let engine = engine.clone();
            let origin = start.origin();
            let renderers = renderers.clone();
            let handle = tasks
                .spawn(async move { visit(&engine, &renderers, url, depth, order, &origin).await });
            orders.insert(handle.id(), order);
            order += 1;
        }
        let Some(done) = tasks.join_next_with_id().await else {
            break;
        };
        let visit = match done {
            Ok((id, visit)) => {
                orders.remove(&id);
                visit
            }
            Err(e) => {
                let Some(order) = orders.remove(&e.id()) else {
                    continue;
                };
                Visit {
                    order,
                    depth: 0,
                    page: None,
                    rendered: false,
                    failure: Some("the visit stopped unexpectedly".to_string()),
                    links_left: 0,
                }
            }
        };
        finished.insert(visit.order, visit);
        while let Some(visit) = finished.remove(&next_taken) {
            next_taken += 1;
            if visit.order == 0 && visit.page.is_none() {
                return Err(CrawlError::Start {
                    url: start.to_string(),
                    detail: visit.failure.unwrap_or_default(),
                });
            }
            let Some(page) = visit.page else { continue };
            if pages.len() >= opts.max_pages || !recorded.insert(page.url.clone()) {
                continue;
            }
            if visit.depth < opts.depth {
                for link in &page.links {
                    let Ok(mut next) = Url::parse(&link.href) else {
                        continue;
                    };
                    next.set_fragment(None);
                    // Never follow an action or one-time link; the probe afterwards lists
                    // it as a warning without requesting it.
                    let safe = matches!(
                        policy::decide(&next, Source::PageLink, &engine.opts.rules),
                        Decision::Open
                    );
                    // Breadth first, the queue past the pages still to visit is never reached.
                    let room = queue.len() < opts.max_pages;
                    if room
                        && safe
                        && next.origin() == start.origin()
                        && seen.insert(next.to_string())
                    {
                        queue.push_back((next, visit.depth + 1));
                    }
                }
            }
            pages.push((page, visit.rendered, visit.links_left));
        }
        progress(pages.len(), queue.len() + tasks.len());
    }
    Ok(pages)
}

/// Fetches one URL with its body, records what it answered in the prober's cache, and
/// reads the page when it is an HTML page of the site.
async fn visit(
    engine: &Engine,
    renderers: &Renderers,
    url: Url,
    depth: usize,
    order: usize,
    origin: &url::Origin,
) -> Visit {
    let fetched = engine.fetch(&url, true).await;
    let mut visit = Visit {
        order,
        depth,
        page: None,
        rendered: false,
        failure: None,
        links_left: 0,
    };
    let mut cached = fetched.fetched.clone();
    let status = match &fetched.fetched.result {
        Ok(code) => *code,
        Err(failure) => {
            visit.failure = Some(failure.to_string());
            engine.remember(&url, cached);
            return visit;
        }
    };
    let final_url = Url::parse(&fetched.fetched.final_url).unwrap_or_else(|_| url.clone());
    match fetched.body {
        Some(body) if (200..300).contains(&status) && fetched.fetched.unfollowed.is_none() => {
            let (mut page, mut look, left) = read_page(&final_url, status, &body);
            visit.links_left = left;
            let wanted = match renderers.mode {
                Render::Never => false,
                Render::Always => true,
                Render::Auto => look.drawn_by_script(),
            };
            let renderer = if wanted && final_url.origin() == *origin {
                renderers.get().await
            } else {
                None
            };
            if let Some(renderer) = renderer
                && let Ok(r) = renderer.render(&final_url).await
                && Url::parse(&r.page.url).is_ok_and(|u| u.origin() == *origin)
            {
                let mut r = r;
                r.page.status = Some(status);
                r.look.status = Some(status);
                page = r.page;
                look = r.look;
                visit.rendered = true;
            }
            cached.anchors = Some(page.anchors.iter().cloned().collect());
            cached.look = Some(look);
            if final_url.origin() == *origin {
                visit.page = Some(page);
            } else {
                visit.failure = Some(format!("it leads to another site, {final_url}"));
            }
        }
        body if fetched.fetched.unfollowed.is_some() || !(200..300).contains(&status) => {
            // An error page is kept for what it shows (a working page answering 404).
            if let Some(body) = body.filter(|_| fetched.fetched.unfollowed.is_none()) {
                let (anchors, look) = links::html::read(&body, status);
                cached.anchors = Some(anchors);
                cached.look = Some(look);
            }
            visit.failure = Some(status_text(status));
        }
        _ => visit.failure = Some("it is not an HTML page".to_string()),
    }
    if fetched.fetched.redirected {
        let mut landed: Fetched = cached.clone();
        landed.redirected = false;
        engine.remember(&final_url, landed);
    }
    engine.remember(&url, cached);
    visit
}

/// What a person would find on the page, read from its HTML: the fields of [`PageState`]
/// the link, phone and text checks use (no form fields: their names need a browser's
/// accessibility tree).
#[cfg(test)]
fn page_state(url: &Url, status: u16, html: &str) -> PageState {
    read_page(url, status, html).0
}

/// The page as [`page_state`] reads it, what it shows for judging it, and how many links
/// past [`MAX_LINKS_PER_PAGE`] were left unread.
fn read_page(url: &Url, status: u16, html: &str) -> (PageState, Look, usize) {
    let doc = Html::parse_document(html);
    let base = select(&doc, "base[href]")
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| url.join(h.trim()).ok())
        .unwrap_or_else(|| url.clone());
    let resolve = |href: &str| {
        base.join(href.trim())
            .map(|u| u.to_string())
            .unwrap_or_else(|_| href.to_string())
    };
    let mut page = PageState {
        url: url.to_string(),
        status: Some(status),
        title: select(&doc, "title")
            .next()
            .map(|t| collapse(&t.text().collect::<String>()))
            .unwrap_or_default(),
        lang: select(&doc, "html")
            .next()
            .and_then(|h| h.value().attr("lang"))
            .unwrap_or_default()
            .to_string(),
        text: visible_text(&doc),
        ..PageState::default()
    };
    let forms: Vec<ElementRef<'_>> = select(&doc, "form").collect();
    for f in &forms {
        let action = f.value().attr("action").filter(|a| !a.trim().is_empty());
        page.forms.push(Form {
            action: action.map(resolve).unwrap_or_else(|| url.to_string()),
            method: f
                .value()
                .attr("method")
                .unwrap_or("get")
                .trim()
                .to_ascii_lowercase(),
            id: f.value().attr("id").unwrap_or_default().to_string(),
        });
    }
    let form_of = |e: &ElementRef<'_>| -> Option<usize> {
        if let Some(id) = e.value().attr("form") {
            return forms.iter().position(|f| f.value().attr("id") == Some(id));
        }
        let form = e
            .ancestors()
            .filter_map(ElementRef::wrap)
            .find(|a| a.value().name() == "form")?;
        forms.iter().position(|f| f.id() == form.id())
    };
    let mut links_left = 0;
    for a in select(&doc, "a[href], area[href]") {
        if page.links.len() >= MAX_LINKS_PER_PAGE {
            links_left += 1;
            continue;
        }
        let v = a.value();
        page.links.push(Link {
            text: name_of(&a),
            href: resolve(v.attr("href").unwrap_or_default()),
            rel: v.attr("rel").unwrap_or_default().to_string(),
            region: region(&a),
            tag: v.name().to_string(),
            visible: visible(&a),
            ..Link::default()
        });
    }
    for b in select(
        &doc,
        "button, input[type=submit], input[type=button], input[type=reset], input[type=image]",
    ) {
        let v = b.value();
        let button_type = v
            .attr("type")
            .map(str::to_ascii_lowercase)
            .unwrap_or_else(|| {
                if v.name() == "button" {
                    "submit".into()
                } else {
                    String::new()
                }
            });
        page.buttons.push(Control {
            name: name_of(&b),
            role: "button".into(),
            button_type,
            form: form_of(&b),
            target: v
                .attr("formaction")
                .filter(|t| !t.trim().is_empty())
                .map(resolve),
            visible: visible(&b),
            ..Control::default()
        });
    }
    page.anchors = links::html::anchors(&doc).into_iter().collect();
    page.anchors.sort();
    let look = Look::of_html(&doc, Some(status), links::html::look_text(&page.text));
    (page, look, links_left)
}

fn select<'a>(doc: &'a Html, css: &str) -> impl Iterator<Item = ElementRef<'a>> + 'a {
    let selector = Selector::parse(css).ok();
    selector
        .into_iter()
        .flat_map(move |s| doc.select(&s).collect::<Vec<_>>())
}

/// The name a person reads for a link or button: `aria-label`, its text, an image's
/// `alt`, its `value` or `title`.
fn name_of(e: &ElementRef<'_>) -> String {
    let v = e.value();
    if let Some(label) = v.attr("aria-label").map(collapse).filter(|l| !l.is_empty()) {
        return label;
    }
    let text = collapse(&e.text().collect::<String>());
    if !text.is_empty() {
        return text;
    }
    let alt = Selector::parse("img[alt]").ok().and_then(|s| {
        e.select(&s)
            .next()
            .and_then(|i| i.value().attr("alt").map(collapse))
    });
    alt.filter(|a| !a.is_empty())
        .or_else(|| {
            v.attr("alt")
                .or(v.attr("value"))
                .or(v.attr("title"))
                .map(collapse)
        })
        .unwrap_or_default()
}

fn visible(e: &ElementRef<'_>) -> bool {
    std::iter::once(**e)
        .chain(e.ancestors())
        .filter_map(ElementRef::wrap)
        .all(|a| {
            let v = a.value();
            let style = v
                .attr("style")
                .unwrap_or_default()
                .to_ascii_lowercase()
                .replace(' ', "");
            v.attr("hidden").is_none()
                && v.attr("aria-hidden") != Some("true")
                && !style.contains("display:none")
                && !style.contains("visibility:hidden")
                && !matches!(v.name(), "template" | "noscript")
        })
}

/// The landmark the element sits in, as the browser runner names it.
fn region(e: &ElementRef<'_>) -> String {
    for a in e.ancestors().filter_map(ElementRef::wrap) {
        let v = a.value();
        let by_role = match v.attr("role") {
            Some("banner") => Some("header"),
            Some("navigation") => Some("nav"),
            Some("main") => Some("main"),
            Some("contentinfo") => Some("footer"),
            Some("complementary") => Some("aside"),
            _ => None,
        };
        if let Some(r) = by_role {
            return r.to_string();
        }
        if matches!(v.name(), "header" | "nav" | "main" | "footer" | "aside") {
            return v.name().to_string();
        }
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r##"<!doctype html><html lang="en"><head><title> Help
        centre </title><base href="/help/"><style>.x{}</style></head><body>
        <header><a href="/">Home</a></header>
        <nav role="navigation"><a href="contact" rel="nofollow">Contact us</a></nav>
        <main><h1 id="top-articles">Articles</h1>
          <p>Call <a href="tel:+18005550184">(800) 555-0148</a>.</p>
          <a href="billing#refunds"><img alt="Refunds"></a>
          <div hidden><a href="secret">Hidden</a></div>
          <map><area href="/map" alt="Map"></map>
          <form id="s" action="search" method="GET"><input name="q"><button>Go</button></form>
          <button form="s" formaction="/find" type="submit">Find</button>
          <a name="legacy"></a>
          <script>var notText = 1;</script>
        </main>
        <footer><a href="https://other.example/privacy">Privacy</a></footer>
        </body></html>"##;

    #[test]
    fn a_page_reads_as_the_runner_records_it() {
        let url = Url::parse("http://h:8080/help/index").expect("url");
        let p = page_state(&url, 200, PAGE);
        assert_eq!(p.title, "Help centre");
        assert_eq!(p.lang, "en");
        assert!(p.text.contains("Call (800) 555-0148 ."), "{}", p.text);
        assert!(
            !p.text.contains("notText") && !p.text.contains("Hidden"),
            "{}",
            p.text
        );
        let links: Vec<(&str, &str, &str)> = p
            .links
            .iter()
            .map(|l| (l.text.as_str(), l.href.as_str(), l.region.as_str()))
            .collect();
        assert_eq!(
            links,
            [
                ("Home", "http://h:8080/", "header"),
                ("Contact us", "http://h:8080/help/contact", "nav"),
                ("(800) 555-0148", "tel:+18005550184", "main"),
                ("Refunds", "http://h:8080/help/billing#refunds", "main"),
                ("Hidden", "http://h:8080/help/secret", "main"),
                ("Map", "http://h:8080/map", "main"),
                ("Privacy", "https://other.example/privacy", "footer"),
            ]
        );
        assert_eq!(p.links[1].rel, "nofollow");
        assert!(!p.links[4].visible && p.links[3].visible);
        assert_eq!(p.links[5].tag, "area");
        assert_eq!(p.forms.len(), 1);
        assert_eq!(
            (p.forms[0].action.as_str(), p.forms[0].method.as_str()),
            ("http://h:8080/help/search", "get")
        );
        assert_eq!(p.buttons.len(), 2);
        assert_eq!(p.buttons[1].target.as_deref(), Some("http://h:8080/find"));
        assert_eq!(p.buttons[1].form, Some(0));
        assert_eq!(p.anchors, ["legacy", "s", "top-articles"]);
    }

    #[test]
    fn a_page_gives_its_first_links_up_to_the_limit_and_counts_the_rest() {
        let html: String = (0..MAX_LINKS_PER_PAGE + 7)
            .map(|i| format!("<a href=\"/p/{i}\">p{i}</a>"))
            .collect();
        let url = Url::parse("http://site.test/").unwrap();
        let (page, _, left) = read_page(&url, 200, &html);
        assert_eq!(page.links.len(), MAX_LINKS_PER_PAGE);
        assert_eq!(left, 7);
        assert_eq!(page.links[0].href, "http://site.test/p/0");
    }

    #[test]
    fn deeply_nested_pages_do_not_overflow_the_stack() {
        let html = format!(
            "<body>{}deep{}</body>",
            "<div>".repeat(50_000),
            "</div>".repeat(50_000)
        );
        let url = Url::parse("http://h/").expect("url");
        assert!(page_state(&url, 200, &html).text.contains("deep"));
    }

    #[test]
    fn only_web_addresses_are_crawled() {
        let url = Url::parse("mailto:a@b.test").expect("url");
        let err = crawl(&url, &CrawlOptions::default(), &|_, _| {}).err();
        assert!(matches!(err, Some(CrawlError::NotHttp(_))), "{err:?}");
    }
}
