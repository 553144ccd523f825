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
    assert_eq!(*count.lock().unwrap_or_else(|p| p.into_inner()), 2);

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
