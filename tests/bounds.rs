//! A run's own limits (`limits:` in nocall.yaml) through the real binary and real servers
//! on 127.0.0.1: the link prober checks the first targets met and says how many it left;
//! the mail sources keep so many messages and bytes, refuse oversized ones unread, and say
//! what they dropped; a body that never ends or a huge header costs bounded memory and is
//! not called a dead link.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use common::nocall;
use nocall::mail::{MailLimits, MailSource, MaildirSource};

/// Runs `nocall` with `args` in `dir`; returns the JSON report and standard error.
fn run(dir: &Path, args: &[&str]) -> (serde_json::Value, String) {
    let output = nocall()
        .current_dir(dir)
        .args(args)
        .args(["--format", "json", "--fail-on", "none", "--out"])
        .arg(dir.join("out"))
        .output()
        .expect("nocall runs");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}): {stderr}"));
    (report, stderr)
}

/// The report's warnings of `kind`, by message.
fn warnings(report: &serde_json::Value, kind: &str) -> Vec<String> {
    common::all_findings(report)
        .into_iter()
        .filter(|f| f["kind"] == kind && f["severity"] == "warning")
        .map(|f| f["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// `nocall links` on `base`'s start page alone, with `dir`'s nocall.yaml: its warnings
/// about links, and standard error.
fn crawl_warnings(dir: &Path, base: &str) -> (Vec<String>, String) {
    let start = format!("{base}/");
    let args = ["links", &start, "--depth", "0", "--config", "nocall.yaml"];
    let (report, stderr) = run(dir, &args);
    (warnings(&report, "limit-reached"), stderr)
}

/// A site whose start page links to `/x/0` … `/x/{n-1}`; what of `/x/` was asked is noted.
fn link_site(n: usize) -> (String, Arc<Mutex<BTreeSet<String>>>) {
    let asked = Arc::new(Mutex::new(BTreeSet::new()));
    let links: String = (0..n)
        .map(|i| format!("<a href=\"/x/{i}\">Link {i}</a> "))
        .collect();
    let start = format!("<!doctype html><title>Links</title><main><h1>Welcome</h1>{links}</main>");
    let noted = Arc::clone(&asked);
    let router = Router::new()
        .route("/", get(move || async move { Html(start) }))
        .route(
            "/x/{i}",
            get(move |UrlPath(i): UrlPath<String>| async move {
                noted.lock().unwrap().insert(i.clone());
                Html(format!(
                    "<!doctype html><title>Page {i}</title><main><h1>Page {i}</h1></main>"
                ))
            }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    common::serve(listener, router);
    (base, asked)
}

#[test]
fn the_link_prober_checks_the_first_targets_met_and_says_how_many_it_left() {
    let (base, asked) = link_site(30);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("nocall.yaml"),
        "limits:\n  targets_per_run: 10\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("links.yaml"),
        format!("name: Links\nstart: {base}/\nsteps:\n  - open: /\n  - expect: Welcome\n"),
    )
    .unwrap();
    let (report, stderr) = run(dir.path(), &["run", "links.yaml"]);
    assert_eq!(report["scenarios"][0]["status"], "completed", "{stderr}");
    let cut = warnings(&report, "limit-reached");
    assert_eq!(cut.len(), 1, "{cut:?}");
    assert!(
        cut[0].contains("30 web addresses")
            && cut[0].contains("first 10")
            && cut[0].contains("left 20 unverified")
            && cut[0].contains("limits.targets_per_run"),
        "{cut:?}"
    );
    assert_eq!(report["summary"]["est_calls_per_month"], 0.0);
    // The first ten in document order, whatever the timing.
    let asked: Vec<String> = asked.lock().unwrap().iter().cloned().collect();
    let first: BTreeSet<String> = (0..10).map(|i| i.to_string()).collect();
    assert_eq!(asked, first.into_iter().collect::<Vec<_>>());

    // `nocall links` keeps to the same limit.
    let (cut, stderr) = crawl_warnings(dir.path(), &base);
    assert!(
        cut.len() == 1 && cut[0].contains("left 20 unverified"),
        "{cut:?}\n{stderr}"
    );
}

/// Sends one message over SMTP on an open connection; the code at the end of DATA.
fn send(reader: &mut BufReader<TcpStream>, writer: &mut TcpStream, to: &str, body: &str) -> String {
    let mut reply = || {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return all;
            }
            all.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return all;
            }
        }
    };
    for command in [
        "MAIL FROM:<portal@portal.test>".to_string(),
        format!("RCPT TO:<{to}>"),
        "DATA".to_string(),
    ] {
        writer
            .write_all(format!("{command}\r\n").as_bytes())
            .unwrap();
        let got = reply();
        assert!(
            got.starts_with('2') || got.starts_with('3'),
            "{command}: {got}"
        );
    }
    let message =
        format!("From: portal@portal.test\r\nTo: {to}\r\nSubject: For {to}\r\n\r\n{body}\r\n.\r\n");
    writer.write_all(message.as_bytes()).unwrap();
    reply()
}

/// Connects to the SMTP listener nocall opens for the run, waiting for it to listen.
fn connect(addr: SocketAddr) -> (BufReader<TcpStream>, TcpStream) {
    let stream = (0..300)
        .find_map(|_| {
            TcpStream::connect(addr).ok().or_else(|| {
                std::thread::sleep(Duration::from_millis(50));
                None
            })
        })
        .expect("nocall's SMTP listener opens");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    writer.write_all(b"HELO portal.test\r\n").unwrap();
    line.clear();
    reader.read_line(&mut line).unwrap();
    (reader, writer)
}

#[test]
fn the_smtp_listener_keeps_its_limits_and_the_report_says_what_it_dropped() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let smtp = SocketAddr::from(([127, 0, 0, 1], port));
    let base = Arc::new(Mutex::new(String::new()));
    let link_base = Arc::clone(&base);
    // Opening the start page is the portal's cue to mail: after the journey started.
    let router = Router::new()
        .route(
            "/",
            get(move || async move {
                let base = link_base.lock().unwrap().clone();
                std::thread::spawn(move || {
                    let (mut r, mut w) = connect(smtp);
                    for i in 0..6 {
                        let code = send(&mut r, &mut w, "other@example.test", &format!("bulk {i}"));
                        assert!(code.starts_with("250"), "{code}");
                    }
                    let big = format!("{}\r\n", "x".repeat(998)).repeat(2 * 1024);
                    let code = send(&mut r, &mut w, "other@example.test", &big);
                    assert!(code.starts_with("552"), "{code}");
                    w.write_all(b"RSET\r\n").unwrap();
                    let mut line = String::new();
                    r.read_line(&mut line).unwrap();
                    assert!(line.starts_with("250"), "{line}");
                    let code = send(
                        &mut r,
                        &mut w,
                        "pat@example.test",
                        &format!("Start here: {base}/welcome"),
                    );
                    assert!(code.starts_with("250"), "{code}");
                });
                Html("<!doctype html><title>Sign up</title><main><h1>Check your mail</h1></main>")
            }),
        )
        .route(
            "/welcome",
            get(|| async {
                Html("<!doctype html><title>Welcome</title><main><h1>Hello Pat</h1></main>")
            }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let site = format!("http://{}", listener.local_addr().unwrap());
    *base.lock().unwrap() = site.clone();
    common::serve(listener, router);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("nocall.yaml"),
        "limits: {mails_per_run: 3, mail_mib_per_run: 1}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("mail.yaml"),
        format!(
            "name: Mail\nstart: {site}/\nmail: {{smtp: \"127.0.0.1:{port}\"}}\nsteps:\n  - open: /\n\
             \x20 - email: {{to: pat@example.test, within: 60s}}\n  - expect: Hello Pat\n"
        ),
    )
    .unwrap();
    let (report, stderr) = run(dir.path(), &["run", "mail.yaml"]);
    assert_eq!(
        report["scenarios"][0]["status"], "completed",
        "{}\n{stderr}",
        report["scenarios"][0]
    );
    let cut = warnings(&report, "limit-reached");
    assert_eq!(cut.len(), 1, "{cut:?}");
    assert!(
        cut[0].contains(&format!("SMTP 127.0.0.1:{port}"))
            && cut[0].contains("dropped the 4 oldest messages")
            && cut[0].contains("at most 3 messages and 1 MiB")
            && cut[0].contains("refused 1 message larger than 1 MiB"),
        "{cut:?}"
    );
    assert_eq!(report["summary"]["est_calls_per_month"], 0.0);
}

fn write_message(dir: &Path, name: &str, body: &str, modified: SystemTime) {
    let path = dir.join("new").join(name);
    std::fs::write(
        &path,
        format!("From: p@portal.test\r\nTo: pat@example.test\r\nSubject: {name}\r\n\r\n{body}\r\n"),
    )
    .unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_modified(modified))
        .unwrap();
}

#[test]
fn a_maildir_reads_only_the_newest_messages_that_fit_and_never_an_oversized_one() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
    }
    let source = MaildirSource::open_with(
        dir.path(),
        MailLimits {
            messages: 2,
            bytes: 1 << 20,
        },
    )
    .unwrap();
    let later = SystemTime::now() + Duration::from_secs(5);
    for (i, name) in ["first", "second", "third", "fourth"].iter().enumerate() {
        write_message(
            dir.path(),
            name,
            "hello",
            later + Duration::from_secs(i as u64),
        );
    }
    let big = "y".repeat(2 << 20);
    write_message(dir.path(), "huge", &big, later + Duration::from_secs(9));
    let subjects: Vec<String> = source.messages().into_iter().map(|m| m.subject).collect();
    assert_eq!(subjects, ["third", "fourth"]);
    let cut = source.cut().unwrap_or_default();
    assert!(
        cut.contains("dropped the 2 oldest messages")
            && cut.contains("refused 1 message larger than 1 MiB"),
        "{cut}"
    );
}

/// A start page linking to a body that never ends, an answer with a 1 MiB header and one
/// with 500 headers.
fn hostile_answers() -> String {
    let endless = || async {
        let chunk = axum::body::Bytes::from(format!("<p>{}</p>\n", "more ".repeat(2000)));
        let head = futures_util::stream::once(async {
            Ok::<_, std::io::Error>(axum::body::Bytes::from_static(
                b"<!doctype html><title>Endless</title><main><h1>Endless</h1>",
            ))
        });
        let body = futures_util::StreamExt::chain(
            head,
            futures_util::stream::repeat_with(move || Ok(chunk.clone())),
        );
        (
            [(header::CONTENT_TYPE, "text/html")],
            axum::body::Body::from_stream(body),
        )
            .into_response()
    };
    let router = Router::new()
        .route(
            "/",
            get(|| async {
                Html(
                    "<!doctype html><title>Hostile</title><main><h1>Welcome</h1>\
                     <a href=\"/endless#part\">Part</a> <a href=\"/endless\">All</a> \
                     <a href=\"/bighead\">Headers</a> <a href=\"/many\">Many</a></main>",
                )
            }),
        )
        .route("/endless", get(endless))
        .route(
            "/many",
            get(|| async {
                let mut headers = axum::http::HeaderMap::new();
                for i in 0..500 {
                    if let Ok(name) = header::HeaderName::from_bytes(format!("x-h{i}").as_bytes()) {
                        headers.insert(name, header::HeaderValue::from_static("v"));
                    }
                }
                (
                    headers,
                    Html("<!doctype html><title>Many</title><main><h1>Many</h1></main>"),
                )
            }),
        )
        .route(
            "/bighead",
            get(|| async {
                (
                    [("x-padding", "z".repeat(1 << 20))],
                    Html("<!doctype html><title>Head</title><main><h1>Head</h1></main>"),
                )
            }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    common::serve(listener, router);
    base
}

#[test]
fn a_body_that_never_ends_or_huge_headers_cost_bounded_memory_and_are_not_dead_links() {
    let base = hostile_answers();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("h.yaml"),
        format!("name: Hostile\nstart: {base}/\nsteps:\n  - open: /\n  - expect: Welcome\n"),
    )
    .unwrap();
    let output = nocall()
        .current_dir(dir.path())
        .env("NOCALL_PEAK_RSS", "1")
        .args([
            "run",
            "h.yaml",
            "--format",
            "json",
            "--fail-on",
            "none",
            "--out",
        ])
        .arg(dir.path().join("out"))
        .timeout(Duration::from_secs(120))
        .output()
        .expect("nocall runs");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}): {stderr}"));
    let dead: Vec<String> = common::all_findings(&report)
        .into_iter()
        .filter(|f| f["kind"] == "dead-link" && f["severity"] != "warning")
        .map(|f| format!("{} {}", f["element"], f["message"]))
        .collect();
    assert!(
        dead.is_empty(),
        "a body cut at the limit, or headers too large to read, are not dead links: {dead:?}"
    );
    let unread = warnings(&report, "dead-link");
    assert!(
        unread
            .iter()
            .filter(|w| w.contains("headers are larger than nocall reads"))
            .count()
            == 2,
        "{unread:?}"
    );
    let kb: u64 = stderr
        .split("peak RSS ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS: {stderr}"));
    assert!(kb < 400 * 1024, "nocall's own peak: {kb} kB");
}

#[test]
fn a_crawled_page_with_thousands_of_links_is_read_up_to_its_limit_and_says_so() {
    let (base, asked) = link_site(1_100);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("nocall.yaml"),
        "limits: {targets_per_run: 10}\n",
    )
    .unwrap();
    let (cut, stderr) = crawl_warnings(dir.path(), &base);
    assert_eq!(cut.len(), 2, "{cut:?}\n{stderr}");
    assert!(
        cut.iter().any(|w| w.contains("1 page has more than 1000 links")
            && w.contains("left 100 unread")),
        "{cut:?}"
    );
    assert!(
        cut.iter()
            .any(|w| w.contains("1000 web addresses") && w.contains("left 990 unverified")),
        "{cut:?}"
    );
    assert_eq!(asked.lock().unwrap().len(), 10);
}
