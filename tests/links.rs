//! The link prober and the crawler against real local servers: every way a link dies, and
//! the manners the prober must keep (one request per URL, HEAD before GET, Retry-After,
//! never POST).

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use nocall::probe::crawl::{CrawlError, CrawlOptions, crawl};
use nocall::probe::links::{LinkOptions, Origin, Via, probe_urls};
use nocall::probe::status::{Cause, LinkResults, LinkStatus, LinkVerdict};
use nocall::probe::{ProbeOptions, probe_all};
use url::Url;

/// Requests seen, as "METHOD /path".
type Hits = Arc<Mutex<Vec<String>>>;

fn hits_of(hits: &Hits, what: &str) -> usize {
    hits.lock()
        .map(|h| h.iter().filter(|x| x.as_str() == what).count())
        .unwrap_or(0)
}

/// Serves `router` on 127.0.0.1 from a thread of its own; the test's probes run their own
/// runtime, so the server cannot share one with them.
fn serve(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    common::serve(listener, router);
    addr
}

fn html(body: impl Into<String>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

fn status(code: u16) -> Response {
    (
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        "no",
    )
        .into_response()
}

fn redirect(to: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to.to_string())], "").into_response()
}

/// The test site: one route a behaviour.
async fn site(State(hits): State<Hits>, method: Method, uri: Uri, _headers: HeaderMap) -> Response {
    let path = uri.path().to_string();
    let seen = {
        let mut h = hits.lock().unwrap_or_else(|p| p.into_inner());
        h.push(format!("{method} {path}"));
        h.iter()
            .filter(|x| x.ends_with(&format!(" {path}")))
            .count()
    };
    match path.as_str() {
        "/ok" | "/counted" | "/form-target" => html("<h1>fine</h1>"),
        "/404" => status(404),
        "/410" => status(410),
        "/500" => status(500),
        "/403" => status(403),
        "/999" => status(999),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            html("late")
        }
        "/chain/1" => redirect("/chain/2"),
        "/chain/2" => redirect("/chain/3"),
        "/chain/3" => (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, "/ok")],
            "",
        )
            .into_response(),
        "/chain/dead" => redirect("/404"),
        "/loop-a" => redirect("/loop-b"),
        "/loop-b" => redirect("/loop-a"),
        "/head-405" if method == Method::HEAD => status(405),
        "/head-405" => html("<p>GET works</p>"),
        "/busy" if seen == 1 => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "1")],
            "slow down",
        )
            .into_response(),
        "/busy" => html("ok now"),
        "/always-busy" => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "0")],
            "no",
        )
            .into_response(),
        "/unavailable" if seen == 1 => status(503),
        "/unavailable" => html("back"),
        "/sections" => html(r#"<h2 id="charges">Charges</h2><a name="dates"></a>"#),
        "/huge" => {
            // 20 MiB of page with the only id at its very end.
            let mut body = "<p>filler</p>\n".repeat(20 * 1024 * 1024 / 14);
            body.push_str(r#"<h2 id="end">End</h2>"#);
            ([(header::CONTENT_TYPE, "text/html")], Body::from(body)).into_response()
        }
        _ => status(404),
    }
}

struct Site {
    addr: SocketAddr,
    hits: Hits,
}

impl Site {
    fn start() -> Site {
        let hits: Hits = Arc::default();
        let router = Router::new().fallback(site).with_state(hits.clone());
        Site {
            addr: serve(router),
            hits,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The same server under another host name: an external site.
    fn external(&self, path: &str) -> String {
        format!("http://localhost:{}{path}", self.addr.port())
    }

    fn hits(&self, what: &str) -> usize {
        hits_of(&self.hits, what)
    }
}

/// Short waits; `localhost` stands in for another site here, so private addresses are
/// allowed (tests/safety.rs checks that they are not by default).
fn fast() -> LinkOptions {
    LinkOptions {
        timeout: Duration::from_millis(700),
        max_retry_wait: Duration::from_secs(2),
        allow_private: true,
        ..LinkOptions::default()
    }
}

fn links_on(site: &Site, urls: &[String]) -> Vec<(String, Origin)> {
    let origin = Origin {
        page: site.url("/"),
        via: Via::Link,
    };
    urls.iter().map(|u| (u.clone(), origin.clone())).collect()
}

fn probe(site: &Site, paths: &[&str], opts: &LinkOptions) -> LinkResults {
    let urls: Vec<String> = paths.iter().map(|p| site.url(p)).collect();
    probe_urls(&links_on(site, &urls), opts)
}

fn get<'a>(results: &'a LinkResults, url: &str) -> &'a LinkStatus {
    results
        .get(url)
        .unwrap_or_else(|| panic!("{url} was not probed: {results:#?}"))
}

#[test]
fn http_errors_are_dead_with_their_status() {
    let site = Site::start();
    let r = probe(&site, &["/ok", "/404", "/410", "/500"], &fast());
    assert!(get(&r, &site.url("/ok")).ok);
    for (path, detail) in [
        ("/404", "404 Not Found"),
        ("/410", "410 Gone"),
        ("/500", "500 Internal Server Error"),
    ] {
        let s = get(&r, &site.url(path));
        assert_eq!(
            (s.verdict, s.detail.as_str()),
            (LinkVerdict::Dead, detail),
            "{path}"
        );
        assert_eq!(s.cause, Cause::Status);
    }
    // A 404 on HEAD is confirmed with GET; 410 is taken at its word.
    assert_eq!(site.hits("GET /404"), 1);
    assert_eq!(site.hits("GET /410"), 0);
}

#[test]
fn a_page_that_never_answers_times_out() {
    let site = Site::start();
    let started = Instant::now();
    let r = probe(&site, &["/slow"], &fast());
    let s = get(&r, &site.url("/slow"));
    assert_eq!(
        (s.verdict, s.detail.as_str()),
        (LinkVerdict::Dead, "timed out after 700ms")
    );
    assert_eq!(s.cause, Cause::Timeout);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn redirect_chains_are_followed_and_loops_caught() {
    let site = Site::start();
    let r = probe(&site, &["/chain/1", "/chain/dead", "/loop-a"], &fast());
    let chain = get(&r, &site.url("/chain/1"));
    assert!(chain.ok, "{chain:?}");
    assert_eq!(chain.final_url.as_deref(), Some(site.url("/ok").as_str()));
    let dead = get(&r, &site.url("/chain/dead"));
    assert_eq!((dead.verdict, dead.status), (LinkVerdict::Dead, Some(404)));
    assert_eq!(dead.final_url.as_deref(), Some(site.url("/404").as_str()));
    let looped = get(&r, &site.url("/loop-a"));
    assert_eq!(
        (looped.verdict, looped.detail.as_str()),
        (LinkVerdict::Dead, "redirect loop")
    );
    assert_eq!(looped.cause, Cause::Redirects);
}

#[test]
fn head_refused_with_405_falls_back_to_get() {
    let site = Site::start();
    let r = probe(&site, &["/head-405"], &fast());
    assert!(get(&r, &site.url("/head-405")).ok);
    assert_eq!(
        (site.hits("HEAD /head-405"), site.hits("GET /head-405")),
        (1, 1)
    );
}

#[test]
fn too_many_requests_waits_as_told_then_succeeds() {
    let site = Site::start();
    let started = Instant::now();
    let r = probe(&site, &["/busy", "/unavailable"], &fast());
    assert!(get(&r, &site.url("/busy")).ok);
    assert!(get(&r, &site.url("/unavailable")).ok);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was not honoured"
    );
    assert_eq!(site.hits("HEAD /busy"), 2);
}

#[test]
fn a_site_that_keeps_limiting_is_unverified_after_bounded_retries() {
    let site = Site::start();
    let r = probe(
        &site,
        &["/always-busy"],
        &LinkOptions {
            retries: 3,
            ..fast()
        },
    );
    let s = get(&r, &site.url("/always-busy"));
    assert_eq!(s.verdict, LinkVerdict::Unverified);
    assert!(
        s.detail.starts_with("429 Too Many Requests"),
        "{}",
        s.detail
    );
    assert_eq!(site.hits("HEAD /always-busy"), 4);
}

#[test]
fn a_huge_page_is_read_only_up_to_the_cap() {
    let site = Site::start();
    let started = Instant::now();
    let r = probe(&site, &["/huge", "/huge#end"], &fast());
    assert!(get(&r, &site.url("/huge")).ok);
    let end = get(&r, &site.url("/huge#end"));
    assert_eq!(end.verdict, LinkVerdict::Unverified, "{end:?}");
    assert!(end.detail.contains("first 2 MiB"), "{}", end.detail);
    assert!(started.elapsed() < Duration::from_secs(10));
    // Both targets shared one fetch of the page.
    assert_eq!(site.hits("GET /huge"), 1);
    assert_eq!(site.hits("HEAD /huge"), 0);
}

#[test]
fn fragments_are_looked_up_on_the_target_page() {
    let site = Site::start();
    let r = probe(
        &site,
        &["/sections#charges", "/sections#dates", "/sections#refunds"],
        &fast(),
    );
    assert!(get(&r, &site.url("/sections#charges")).ok);
    assert!(get(&r, &site.url("/sections#dates")).ok);
    let missing = get(&r, &site.url("/sections#refunds"));
    assert_eq!(
        (missing.verdict, missing.detail.as_str()),
        (LinkVerdict::Dead, "#refunds missing on target")
    );
    assert_eq!(site.hits("GET /sections"), 1);
}

#[test]
fn bot_blocking_elsewhere_is_unverified_but_on_the_own_site_it_is_dead() {
    let site = Site::start();
    let urls = [
        site.external("/403"),
        site.external("/999"),
        site.external("/404"),
        site.url("/403"),
    ];
    let r = probe_urls(&links_on(&site, &urls), &fast());
    assert_eq!(get(&r, &urls[0]).verdict, LinkVerdict::Unverified);
    assert_eq!(get(&r, &urls[1]).verdict, LinkVerdict::Unverified);
    assert_eq!(get(&r, &urls[2]).verdict, LinkVerdict::Dead);
    assert_eq!(get(&r, &urls[3]).verdict, LinkVerdict::Dead);
}

#[test]
fn offline_and_allowed_hosts_leave_other_sites_alone() {
    let site = Site::start();
    let urls = [site.external("/ok"), site.url("/ok")];
    let r = probe_urls(
        &links_on(&site, &urls),
        &LinkOptions {
            offline: true,
            ..fast()
        },
    );
    assert_eq!(get(&r, &urls[0]).verdict, LinkVerdict::Skipped);
    assert!(get(&r, &urls[1]).ok);
    let only_example = LinkOptions {
        allowed_hosts: Some(vec!["example.org".into()]),
        ..fast()
    };
    let r = probe_urls(&links_on(&site, &urls), &only_example);
    assert_eq!(get(&r, &urls[0]).verdict, LinkVerdict::Skipped);
    let with_localhost = LinkOptions {
        allowed_hosts: Some(vec!["localhost".into()]),
        ..fast()
    };
    assert!(
        get(
            &probe_urls(&links_on(&site, &urls), &with_localhost),
            &urls[0]
        )
        .ok
    );
    assert_eq!(site.hits("HEAD /ok"), 4);
}

#[test]
fn each_url_is_asked_once_however_often_it_is_linked() {
    let site = Site::start();
    let mut targets = Vec::new();
    for page in ["/", "/a", "/b", "/c"] {
        for url in [
            site.url("/counted"),
            site.url("/counted#x"),
            site.url("/counted#"),
        ] {
            targets.push((
                url,
                Origin {
                    page: site.url(page),
                    via: Via::Link,
                },
            ));
        }
    }
    let r = probe_urls(&targets, &fast());
    assert_eq!(r.len(), 3);
    assert!(get(&r, &site.url("/counted")).ok);
    assert_eq!(get(&r, &site.url("/counted#x")).verdict, LinkVerdict::Dead);
    assert_eq!(site.hits("GET /counted") + site.hits("HEAD /counted"), 1);
}

#[test]
fn forms_are_only_ever_probed_with_get_and_never_posted() {
    let site = Site::start();
    let post = Origin {
        page: site.url("/login"),
        via: Via::Form {
            method: "post".into(),
        },
    };
    let get_form = Origin {
        page: site.url("/search"),
        via: Via::Form {
            method: "get".into(),
        },
    };
    let r = probe_urls(
        &[
            (site.url("/form-target"), post.clone()),
            (site.url("/ok"), get_form),
        ],
        &fast(),
    );
    assert_eq!(
        get(&r, &site.url("/form-target")).verdict,
        LinkVerdict::Skipped
    );
    assert!(get(&r, &site.url("/ok")).ok);
    let hits = site.hits.lock().map(|h| h.clone()).unwrap_or_default();
    assert!(hits.iter().all(|h| h.starts_with("GET ")), "{hits:?}");
    assert!(
        !hits.iter().any(|h| h.ends_with("/form-target")),
        "{hits:?}"
    );
}

/// A raw server that resets the first `resets` connections (RST, not FIN) and answers the
/// rest with 200; returns its address and the number of connections it took.
fn resetting_server(resets: usize) -> (SocketAddr, Arc<Mutex<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let count = Arc::new(Mutex::new(0usize));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let n = {
                let mut c = seen.lock().unwrap_or_else(|p| p.into_inner());
                *c += 1;
                *c
            };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            if n <= resets {
                let sock = socket2::SockRef::from(&stream);
                let _ = sock.set_linger(Some(Duration::ZERO));
                drop(stream);
            } else {
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                );
            }
        }
    });
    (addr, count)
}

#[test]
fn connection_resets_are_retried_and_reported_when_they_persist() {
    let (addr, count) = resetting_server(1);
    let url = format!("http://{addr}/x");
    let origin = Origin {
        page: format!("http://{addr}/"),
        via: Via::Link,
    };
    let r = probe_urls(&[(url.clone(), origin.clone())], &fast());
    assert!(get(&r, &url).ok, "{r:#?}");
    // HEAD reset, HEAD again, then the page read (GET) for what it shows; and the site's
    // own not-found page, once.
    assert_eq!(*count.lock().unwrap_or_else(|p| p.into_inner()), 4);

    let (addr, _) = resetting_server(usize::MAX);
    let url = format!("http://{addr}/x");
    let origin = Origin {
        page: format!("http://{addr}/"),
        via: Via::Link,
    };
    let r = probe_urls(
        &[(url.clone(), origin)],
        &LinkOptions {
            retries: 1,
            ..fast()
        },
    );
    let s = get(&r, &url);
    assert_eq!(
        (s.verdict, s.detail.as_str()),
        (LinkVerdict::Dead, "connection reset"),
        "{s:?}"
    );
}

/// A small site for the crawler: pages link on, one link is nofollow, one page is deep.
async fn small_site(State(hits): State<Hits>, method: Method, uri: Uri) -> Response {
    let path = uri.path().to_string();
    if let Ok(mut h) = hits.lock() {
        h.push(format!("{method} {path}"));
    }
    let page = |title: &str, body: &str| {
        html(format!(
            "<html><head><title>{title}</title></head><body>{body}</body></html>"
        ))
    };
    match path.as_str() {
        "/" => page(
            "Home",
            r#"<nav><a href="/a">A</a> <a href="/b" rel="nofollow">B</a></nav>
               <main><a href="/missing">Lost</a> <a href="/a#intro">Intro</a> <a href="/b#nowhere">Nowhere</a>
               <a href="http://localhost:1/elsewhere">Elsewhere</a> <a href="/file.pdf">PDF</a></main>"#,
        ),
        "/a" => page(
            "A",
            r#"<p id="intro">Hi</p><a href="/deep">Deeper</a><a href="/">Home</a>"#,
        ),
        "/b" => page("B", r#"<a href="/a">A</a>"#),
        "/deep" => page("Deep", r#"<a href="/deeper">Deeper still</a>"#),
        "/file.pdf" => ([(header::CONTENT_TYPE, "application/pdf")], "%PDF").into_response(),
        _ => status(404),
    }
}

fn small(hits: &Hits) -> Url {
    let router = Router::new().fallback(small_site).with_state(hits.clone());
    let addr = serve(router);
    Url::parse(&format!("http://{addr}/")).expect("url")
}

#[test]
fn the_crawl_records_each_page_of_the_site_once_within_its_depth() {
    let hits: Hits = Arc::default();
    let start = small(&hits);
    let opts = CrawlOptions {
        depth: 1,
        ..CrawlOptions::default()
    };
    let calls = Mutex::new(Vec::new());
    let traces = crawl(&start, &opts, &|pages, queued| {
        if let Ok(mut c) = calls.lock() {
            c.push((pages, queued));
        }
    })
    .expect("crawls")
    .traces;
    assert_eq!(traces.len(), 1);
    let t = &traces[0];
    assert!(t.scenario.starts_with("crawl 127.0.0.1"), "{}", t.scenario);
    let urls: Vec<String> = t
        .steps
        .iter()
        .filter_map(|s| s.page.as_ref())
        .map(|p| p.url.clone())
        .collect();
    // Depth 1: the start page and what it links to (nofollow included); not /deep.
    assert_eq!(
        urls,
        [
            start.to_string(),
            start.join("/a").map(|u| u.to_string()).unwrap_or_default(),
            start.join("/b").map(|u| u.to_string()).unwrap_or_default()
        ]
    );
    let a = t
        .steps
        .get(1)
        .and_then(|s| s.page.as_ref())
        .expect("page a");
    assert_eq!(a.title, "A");
    assert!(a.anchors.contains(&"intro".to_string()));
    assert_eq!(hits_of(&hits, "GET /deep"), 0);
    assert_eq!(hits_of(&hits, "GET /a"), 1);
    let calls = calls.into_inner().unwrap_or_default();
    assert_eq!(calls.last().map(|c| c.0), Some(3), "{calls:?}");
}

#[test]
fn the_probe_after_a_crawl_asks_each_url_once_and_finds_the_dead_ones() {
    let hits: Hits = Arc::default();
    let start = small(&hits);
    let opts = CrawlOptions {
        depth: 5,
        link: fast(),
        ..CrawlOptions::default()
    };
    let crawled = crawl(&start, &opts, &|_, _| {}).expect("crawls");
    let traces = crawled.traces;
    let config = nocall::config::Config::default();
    let options = ProbeOptions {
        links: opts.link.clone(),
        crawled: Some(crawled.session),
    };
    let probes = probe_all(&traces, &config, &options);
    let results = &probes.links;
    let pages = traces[0].steps.len();
    assert_eq!(pages, 4, "home, a, b, deep");
    let at = |p: &str| start.join(p).map(|u| u.to_string()).unwrap_or_default();
    assert_eq!(get(results, &at("/missing")).detail, "404 Not Found");
    assert_eq!(get(results, &at("/deeper")).verdict, LinkVerdict::Dead);
    assert!(get(results, &at("/a#intro")).ok);
    assert_eq!(
        get(results, &at("/b#nowhere")).detail,
        "#nowhere missing on target"
    );
    assert!(get(results, &at("/file.pdf")).ok);
    assert_eq!(
        get(results, "http://localhost:1/elsewhere").verdict,
        LinkVerdict::Dead
    );
    let all = hits.lock().map(|h| h.clone()).unwrap_or_default();
    let mut per_path: HashMap<String, usize> = HashMap::new();
    for h in &all {
        let path = h
            .split_once(' ')
            .map(|(_, p)| p.to_string())
            .unwrap_or_default();
        *per_path.entry(path).or_default() += 1;
    }
    // Every URL was asked once: what the crawl fetched answered the probe too.
    assert!(per_path.values().all(|n| *n == 1), "{all:?}");

    let checks = nocall::pipeline::audit(&traces, &config, &probes, &nocall::Secrets::default());
    let dead: Vec<&str> = checks
        .iter()
        .filter(|f| f.kind == nocall::finding::Kind::DeadLink)
        .map(|f| f.element.as_str())
        .collect();
    assert!(dead.contains(&"link \"Lost\" → /missing"), "{dead:?}");
    assert!(dead.contains(&"link \"Nowhere\" → /b#nowhere"), "{dead:?}");
    assert!(
        !dead
            .iter()
            .any(|d| d.contains("Intro") || d.contains("PDF")),
        "{dead:?}"
    );
}

#[test]
fn a_start_page_that_does_not_load_is_an_error() {
    let hits: Hits = Arc::default();
    let start = small(&hits).join("/nothing-here").expect("url");
    let err = crawl(&start, &CrawlOptions::default(), &|_, _| {}).err();
    assert!(
        matches!(&err, Some(CrawlError::Start { detail, .. }) if detail == "404 Not Found"),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Dead is what the user sees: soft 404s, and a 404 that shows a working page.

/// A help centre whose broken routes answer 200 and say "not found" in words.
async fn help_centre(uri: Uri) -> Response {
    let page = |code: u16, title: &str, body: &str| {
        (
            StatusCode::from_u16(code).unwrap_or(StatusCode::OK),
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            format!(
                "<!doctype html><html lang=en><head><title>{title}</title></head><body>\
                 <nav><a href=\"/help/\">Help</a></nav><main>{body}</main></body></html>"
            ),
        )
            .into_response()
    };
    let path = uri.path().to_string();
    match path.as_str() {
        "/help/" => page(
            200,
            "Help centre",
            r#"<h1>How can we help?</h1><ul>
               <li><a href="/help/moving-house">Moving house</a></li>
               <li><a href="/de/hilfe/umzug">Umzug melden</a></li>
               <li><a href="/help/old-article">Old article</a></li>
               <li><a href="/help/troubleshooting">Troubleshooting</a></li>
               <li><a href="/help/what-links-here">What links here</a></li>
               <li><a href="/app/">The app</a></li></ul>"#,
        ),
        "/help/moving-house" => page(
            200,
            "Help centre",
            "<h1>Page not found</h1><p>Try the search instead.</p>",
        ),
        "/de/hilfe/umzug" => page(
            200,
            "Hilfe",
            "<h1>Seite nicht gefunden</h1><p>Zurück zur Hilfe.</p>",
        ),
        "/help/troubleshooting" => page(
            200,
            "Troubleshooting",
            "<h1>Troubleshooting sign-in</h1><p>If the page says that your account was not \
             found, check the e-mail address you typed: it must be the one you registered \
             with. Addresses are not case sensitive, but a missing letter or an old address \
             will not match. Still stuck? Ask us to look it up for you.</p>",
        ),
        // A wiki's special page: deliberately 404, yet a working form and an empty result.
        "/help/what-links-here" => page(
            404,
            "What links here — Help centre",
            "<h1>What links here</h1><form action=\"/help/what-links-here\"><label>Page \
             <input name=target></label><button>Go</button></form><p>No pages link to Main \
             Page.</p>",
        ),
        // A page drawn by script: its shell says nothing until the script runs.
        "/app/" => html(
            "<!doctype html><html lang=en><title>App</title><body><div id=app></div><script>\
             document.getElementById('app').innerHTML = '<h1>Your account</h1>\
             <a href=\"/app/moving\">Moving house</a>';</script></body></html>",
        ),
        "/app/moving" => html(
            "<!doctype html><html lang=en><title>App</title><body><div id=app></div><script>\
             document.getElementById('app').innerHTML = '<h1>Page not found</h1>\
             <p>Back to <a href=\"/app/\">your account</a>.</p>';</script></body></html>",
        ),
        _ => page(
            404,
            "Page not found",
            &format!("<h1>Page not found</h1><p>There is no page at {path}.</p>"),
        ),
    }
}

fn help_centre_site() -> SocketAddr {
    serve(Router::new().fallback(help_centre))
}

/// `nocall links` on the help centre, as JSON.
fn links_report(start: &str, extra: &[&str]) -> serde_json::Value {
    let out = tempfile::tempdir().expect("temp");
    let output = common::nocall()
        .args(["links", start, "--offline", "--format", "json", "--out"])
        .arg(out.path())
        .args(extra)
        .output()
        .expect("runs");
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&output.stderr));
    })
}

/// (element, severity, message) of each `dead-link` finding.
fn dead_links(report: &serde_json::Value) -> Vec<(String, String, String)> {
    common::findings(report, "dead-link")
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (s("element"), s("severity"), s("message"))
        })
        .collect()
}

#[test]
fn a_page_that_answers_200_but_shows_not_found_is_a_dead_link() {
    let addr = help_centre_site();
    let report = links_report(&format!("http://{addr}/help/"), &[]);
    let dead = dead_links(&report);
    let about = |part: &str| {
        dead.iter()
            .find(|(e, _, _)| e.contains(part))
            .unwrap_or_else(|| panic!("no finding for {part}: {dead:#?}"))
    };
    let moving = about("Moving house");
    assert_eq!(moving.1, "problem", "{moving:?}");
    assert!(
        moving.2.contains("shows 'Page not found' (answered 200)"),
        "{moving:?}"
    );
    let umzug = about("Umzug melden");
    assert!(
        umzug
            .2
            .contains("shows 'Seite nicht gefunden' (answered 200)"),
        "{umzug:?}"
    );
    // A correct 404 stays what it was.
    let old = about("Old article");
    assert!(old.2.contains("(404 Not Found)"), "{old:?}");
    // A page that merely mentions "not found" is a page.
    assert!(
        !dead.iter().any(|(e, _, _)| e.contains("Troubleshooting")),
        "{dead:#?}"
    );
    // A 404 that shows the site's working page is a warning, not a dead link.
    let special = about("What links here");
    assert_eq!(special.1, "warning", "{special:?}");
    assert!(
        special
            .2
            .contains("answered 404 Not Found but shows a working page"),
        "{special:?}"
    );
}

#[test]
fn a_journey_that_clicks_a_link_to_a_drawn_not_found_page_gets_the_dead_link() {
    let addr = help_centre_site();
    let dir = tempfile::tempdir().expect("temp");
    let file = dir.path().join("moving.yaml");
    std::fs::write(
        &file,
        format!(
            "name: Tell us you are moving\nstart: http://{addr}/\nsteps:\n  - open: /app/\n\
             \x20 - click: Moving house\n  - expect: Your new address\n"
        ),
    )
    .expect("scenario");
    let out = tempfile::tempdir().expect("temp");
    let output = common::nocall()
        .arg("run")
        .arg(&file)
        .args(["--offline", "--format", "json", "--out"])
        .arg(out.path())
        .output()
        .expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&output.stderr));
    });
    let dead = dead_links(&report);
    let moving = dead
        .iter()
        .find(|(e, _, _)| e.contains("Moving house"))
        .unwrap_or_else(|| panic!("no dead link: {report:#}"));
    assert!(
        moving.2.contains("shows 'Page not found'")
            && moving.2.contains("a user who does is stuck"),
        "{moving:?}"
    );
    let f = common::findings(&report, "dead-link")
        .into_iter()
        .find(|f| f["element"].as_str().is_some_and(|e| e.contains("Moving")))
        .expect("the finding");
    assert_eq!(f["on_path"], true, "{f:#}");
}

#[test]
fn a_dead_route_of_a_site_drawn_by_script_is_found_only_by_rendering_it() {
    let addr = help_centre_site();
    let start = format!("http://{addr}/app/");
    let out = tempfile::tempdir().expect("temp");
    let rendered = common::nocall()
        .args(["links", &start, "--offline", "--format", "json", "--out"])
        .arg(out.path())
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&rendered.stderr);
    assert!(stderr.contains("(2 rendered in Chromium)"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&rendered.stdout).expect("json");
    let dead = dead_links(&report);
    assert!(
        dead.iter().any(|(e, _, m)| e.contains("Moving house")
            && m.contains("shows 'Page not found' (answered 200)")),
        "{dead:#?}"
    );
    // As plain HTTP the app is an empty shell with nothing to follow.
    let plain = links_report(&start, &["--render", "never"]);
    assert!(dead_links(&plain).is_empty(), "{:#?}", dead_links(&plain));
}

#[test]
fn the_help_centre_journey_of_the_demo_finds_the_single_page_sites_soft_404() {
    let portal = common::portal();
    let (_, report, _out) = common::run_json(
        &portal,
        &[common::scenario("help-reset-password.yaml")],
        &["--offline"],
    );
    let dead = dead_links(&report);
    let moving = dead
        .iter()
        .find(|(e, _, _)| e.contains("/spa/help/moving-house"))
        .unwrap_or_else(|| panic!("no soft 404 found: {dead:#?}"));
    assert_eq!(moving.1, "problem", "{moving:?}");
    assert!(
        moving.2.contains("shows 'Page not found' (answered 200)"),
        "{moving:?}"
    );
}

/// A tree of pages answering after a random delay, each linking to its two children and
/// to a page that is gone.
async fn slow_tree(uri: Uri) -> Response {
    let path = uri.path().to_string();
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() % 40)
        .unwrap_or(0);
    tokio::time::sleep(Duration::from_millis(u64::from(jitter))).await;
    let Some(n) = path.strip_prefix("/p/").and_then(|n| n.parse::<u64>().ok()) else {
        return status(404);
    };
    html(format!(
        "<title>Page {n}</title><h1>Page {n}</h1><a href=\"/gone/{n}\">Gone {n}</a> \
         <a href=\"/p/{}\">Left</a> <a href=\"/p/{}\">Right</a>",
        2 * n,
        2 * n + 1
    ))
}

#[test]
fn two_crawls_under_a_page_cap_give_the_same_findings() {
    let addr = serve(Router::new().fallback(slow_tree));
    let start = format!("http://{addr}/p/1");
    let ids = || {
        let report = links_report(&start, &["--max-pages", "9", "--depth", "6"]);
        let mut ids = common::finding_ids(&report);
        ids.sort();
        ids
    };
    let first = ids();
    assert_eq!(first.len(), 9, "one gone page per page crawled: {first:?}");
    for _ in 0..3 {
        assert_eq!(ids(), first);
    }
}

#[test]
fn when_no_other_site_can_be_reached_their_links_are_warnings_with_one_summary_line() {
    async fn page() -> Response {
        html(
            "<title>Wiki</title><h1>Main Page</h1><p>Welcome to the wiki: read the \
             <a href=\"/help/intro\">introduction</a>.</p><footer>\
             <a href=\"http://licence.nocall-test.invalid/by-sa\">Licence</a> \
             <a href=\"http://php.nocall-test.invalid/\">Powered by PHP</a> \
             <a href=\"https://project.nocall-test.invalid/docs\">Project home</a></footer>",
        )
    }
    let addr = serve(
        Router::new()
            .route("/", axum::routing::get(page))
            .route("/help/intro", axum::routing::get(page)),
    );
    let output = links_json(addr);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "warnings only: {stderr}");
    assert_eq!(
        stderr
            .matches("other sites could not be reached from this machine: 3 links not verified; `--offline` skips them")
            .count(),
        1,
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let dead = dead_links(&report);
    assert_eq!(dead.len(), 3, "{dead:#?}");
    for (element, severity, message) in &dead {
        assert_eq!(severity, "warning", "{element}");
        assert!(
            message.contains("could not be reached from this machine"),
            "{message}"
        );
    }
    for f in common::findings(&report, "dead-link") {
        assert_eq!(f["est_calls_per_month"], 0.0, "{f:#}");
    }
}

#[test]
fn one_other_site_whose_name_does_not_resolve_is_dead_only_when_the_world_resolves() {
    async fn page() -> Response {
        html(
            "<title>Tracker</title><h1>Issues</h1><p>Read the \
             <a href=\"http://docs.nocall-test.invalid/\">Tracker docs</a>.</p>",
        )
    }
    let addr = serve(Router::new().route("/", axum::routing::get(page)));
    let output = links_json(addr);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let dead = dead_links(&report);
    assert_eq!(dead.len(), 1, "{dead:#?}");
    // The machine resolves names (a developer's laptop): the docs site is dead. It does not
    // (a sandbox, a CI runner without egress): the link is unverified, at no cost.
    use std::net::ToSocketAddrs;
    let world = ("example.com", 443)
        .to_socket_addrs()
        .is_ok_and(|mut a| a.next().is_some());
    let expected = if world { "problem" } else { "warning" };
    assert_eq!(dead[0].1, expected, "{dead:#?}");
}

/// `nocall links` over the site at `addr`, JSON on stdout, into a throw-away folder.
fn links_json(addr: std::net::SocketAddr) -> std::process::Output {
    let out = tempfile::tempdir().expect("temp");
    common::nocall()
        .args([
            "links",
            &format!("http://{addr}/"),
            "--format",
            "json",
            "--out",
        ])
        .arg(out.path())
        .output()
        .expect("runs")
}
