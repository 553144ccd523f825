//! `--browser-url` against real browser pools: browserless from npm on the system Chromium,
//! and a plain Chromium started with `--remote-debugging-port`. Each journey must get a
//! session of its own, a full pool is waited for, a refused token stops the run without
//! printing it, and `http://` addresses are resolved through `/json/version`.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{finding_ids, nocall, portal, run_json, scenario};

const TOKEN: &str = "pool-token-5f3e9a";

/// browserless's package folder: `$BROWSERLESS`, else where `.ci/run` installs it. CI sets
/// `NOCALL_REQUIRE_BROWSERLESS`, so there these tests never skip.
fn browserless_package() -> Option<PathBuf> {
    let found = std::env::var_os("BROWSERLESS")
        .map(PathBuf::from)
        .or_else(|| {
            Some(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join(".ci/tools/node_modules/@browserless.io/browserless"),
            )
        })
        .filter(|p| p.join("package.json").is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("NOCALL_REQUIRE_BROWSERLESS").is_none(),
            "browserless is required here but not installed (see .ci/run)"
        );
        eprintln!("browserless not installed (npm install @browserless.io/browserless); skipped");
    }
    found
}

/// A browserless server on a free port; stopped when dropped. Its log is kept to count the
/// sessions it started.
struct Pool {
    child: Child,
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl Pool {
    fn start(package: &Path, concurrent: u32, queued: u32, session_ms: u32) -> Pool {
        let port = free_port();
        let mut child = Command::new("node")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pool/browserless.mjs"))
            .env("BROWSERLESS", package)
            .env("CHROME", chromium())
            .env("PORT", port.to_string())
            .env("HOST", "127.0.0.1")
            .env("TOKEN", TOKEN)
            .env("CONCURRENT", concurrent.to_string())
            .env("QUEUED", queued.to_string())
            .env("TIMEOUT", session_ms.to_string())
            .env("DEBUG", "browserless*")
            // browserless logs (through `debug`) on stderr.
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("node starts browserless");
        let stdout = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (ready, listening) = mpsc::channel();
        let kept = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("HTTP Server is listening") {
                    let _ = ready.send(());
                }
                kept.lock().unwrap().push(line);
            }
        });
        listening
            .recv_timeout(Duration::from_secs(60))
            .expect("browserless listens within a minute");
        Pool { child, port, log }
    }

    fn ws_url(&self, token: &str) -> String {
        // The closed-network flags go in browserless's `launch` parameter.
        let launch = r#"{"args":["--disable-background-networking","--disable-component-update","--disable-sync","--no-first-run"]}"#;
        let mut url = url::Url::parse(&format!("ws://127.0.0.1:{}/chromium", self.port)).unwrap();
        url.query_pairs_mut()
            .append_pair("token", token)
            .append_pair("launch", launch);
        url.to_string()
    }

    /// How many browser sessions the pool started.
    fn sessions(&self) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            // A websocket session, not the browser browserless starts to answer /json/version.
            .filter(|l| {
                l.contains("WebSocketRoute") && l.contains("Starting new ChromiumCDP instance")
            })
            .count()
    }
}

impl Drop for Pool {
    /// SIGTERM first: browserless then closes the browsers it started (killed outright it
    /// would leave them running); SIGKILL only if it has not gone within 10 s.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn chromium() -> PathBuf {
    which::which("chromium").expect("chromium is installed (apt-get install -y chromium)")
}

fn statuses(report: &serde_json::Value) -> Vec<String> {
    report["scenarios"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| s["status"].as_str().unwrap_or("?").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn each_journey_gets_a_pool_session_of_its_own_and_finds_what_a_local_run_finds() {
    let Some(package) = browserless_package() else {
        return;
    };
    // Three slots, and a session limit far shorter than the whole run: one session for the
    // run would be cut; one per journey is not.
    let pool = Pool::start(&package, 3, 10, 10_000);
    let site = portal();
    let suite = [common::scenarios()];
    let (_, local, _) = run_json(&site, &suite, &["--jobs", "3", "--fail-on", "none"]);
    let (code, pooled, _) = run_json(
        &site,
        &suite,
        &[
            "--jobs",
            "3",
            "--fail-on",
            "none",
            "--browser-url",
            &pool.ws_url(TOKEN),
        ],
    );
    assert_eq!(code, 0, "{pooled:#}");
    let journeys = statuses(&pooled);
    assert!(journeys.len() >= 5, "{journeys:?}");
    assert!(
        !journeys.iter().any(|s| s == "error"),
        "no journey ends in error through the pool: {journeys:?}"
    );
    assert_eq!(journeys, statuses(&local));
    assert_eq!(
        sorted(finding_ids(&pooled)),
        sorted(finding_ids(&local)),
        "the pool finds what a local browser finds"
    );
    assert_eq!(
        pool.sessions(),
        journeys.len(),
        "one pool session per journey"
    );
}

#[test]
fn a_full_pool_is_waited_for_and_a_pool_that_stays_full_ends_the_journey_as_error() {
    let Some(package) = browserless_package() else {
        return;
    };
    // One slot, no queue: a second session is answered 429.
    let pool = Pool::start(&package, 1, 0, 60_000);
    let site = portal();
    let hold = |for_how_long: Duration| {
        let url = pool.ws_url(TOKEN);
        let (held, holding) = mpsc::channel();
        let handle = std::thread::spawn(move || {
            let (mut ws, _) = tungstenite::connect(url.as_str()).expect("the first session");
            let _ = held.send(());
            std::thread::sleep(for_how_long);
            let _ = ws.close(None);
            let _ = ws.flush();
        });
        holding.recv().expect("held");
        handle
    };

    // The slot frees after 2 s: the journey waits for it and runs.
    let holder = hold(Duration::from_secs(2));
    let (code, report, _) = run_json(
        &site,
        &[scenario("clean-library-login.yaml")],
        &["--browser-url", &pool.ws_url(TOKEN)],
    );
    holder.join().unwrap();
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(statuses(&report), ["completed"]);
    let rejected = pool
        .log
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("Queue is full, sending 429"));
    assert!(rejected, "the pool was full when nocall first asked");

    // The slot never frees within the journey's wait: an error naming the pool's answer,
    // never a finding about the portal.
    let holder = hold(Duration::from_secs(40));
    let dir = tempfile::tempdir().unwrap();
    let quick = dir.path().join("quick.yaml");
    let text = std::fs::read_to_string(scenario("clean-library-login.yaml")).unwrap();
    std::fs::write(&quick, format!("{text}\nstep_timeout: 2s\n")).unwrap();
    let (code, report, _) = run_json(&site, &[quick], &["--browser-url", &pool.ws_url(TOKEN)]);
    holder.join().unwrap();
    assert_eq!(code, 3, "no journey could run: {report:#}");
    assert_eq!(statuses(&report), ["error"]);
    let text = report.to_string();
    assert!(text.contains("429"), "the pool's answer is named: {text}");
    assert!(finding_ids(&report).is_empty(), "{text}");
    assert!(!text.contains(TOKEN), "{text}");
}

#[test]
fn a_pool_that_refuses_the_token_stops_the_run_without_printing_it() {
    let Some(package) = browserless_package() else {
        return;
    };
    let pool = Pool::start(&package, 2, 2, 30_000);
    let site = portal();
    let wrong = "wrong-token-0c41d2";
    for url in [
        pool.ws_url(wrong),
        format!("http://127.0.0.1:{}/?token={wrong}", pool.port),
    ] {
        let out = nocall()
            .arg("run")
            .arg(scenario("clean-library-login.yaml"))
            .args(["--base-url", &site.base_url(), "--browser-url", &url])
            .arg("--out")
            .arg(tempfile::tempdir().unwrap().path())
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(3), "{all}");
        assert!(all.contains("refused"), "{all}");
        assert!(!all.contains(wrong), "the token is masked: {all}");
    }
    assert_eq!(
        pool.sessions(),
        0,
        "no session was opened with a wrong token"
    );
}

#[test]
fn an_http_address_is_resolved_through_json_version_for_browserless_and_plain_chromium() {
    let site = portal();
    // A plain Chromium, as `--remote-debugging-port` starts it.
    let profile = tempfile::tempdir().unwrap();
    let mut chrome = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = chrome.stderr.take().unwrap();
    let ws = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.split_once("ws://").map(|(_, rest)| rest.to_string()))
        .expect("Chromium prints its DevTools address");
    let hostport = ws.split('/').next().unwrap().to_string();
    let (code, report, _) = run_json(
        &site,
        &[scenario("clean-library-login.yaml")],
        &["--browser-url", &format!("http://{hostport}")],
    );
    let _ = chrome.kill();
    let _ = chrome.wait();
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(statuses(&report), ["completed"]);

    let Some(package) = browserless_package() else {
        return;
    };
    let pool = Pool::start(&package, 2, 2, 30_000);
    let (code, report, _) = run_json(
        &site,
        &[scenario("clean-library-login.yaml")],
        &[
            "--browser-url",
            &format!("http://127.0.0.1:{}/?token={TOKEN}", pool.port),
        ],
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(statuses(&report), ["completed"]);
    assert_eq!(pool.sessions(), 1);
}
