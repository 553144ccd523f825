//! nocall must never change the portal, read the machine or leak: each rule tried through
//! the real binary, in real Chromium, against a test site that counts every request it gets.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use common::{finding_ids, findings, nocall};

const CONFIRM: &str = "/confirm/0123456789abcdef0123456789abcdef";
const INVALIDATE: &str = "/wiki/Special:InvalidateEmail/fedcba9876543210fedcba9876543210";

/// The test site's state: every request seen ("METHOD /path?query"), and where its
/// mailer delivers.
struct Site {
    hits: Mutex<Vec<String>>,
    base: Mutex<String>,
    maildir: PathBuf,
    /// What the next message's extra link points at (for the scheme tests).
    extra_link: Mutex<Option<String>>,
    sent: AtomicUsize,
    /// The site on 127.0.0.2, for the address tests.
    private_base: Mutex<String>,
}

impl Site {
    fn hits(&self, needle: &str) -> usize {
        self.hits
            .lock()
            .map(|h| h.iter().filter(|x| x.contains(needle)).count())
            .unwrap_or(0)
    }

    fn all_hits(&self) -> Vec<String> {
        self.hits.lock().map(|h| h.clone()).unwrap_or_default()
    }
}

fn html(body: impl Into<String>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!(
            "<!doctype html><html lang=en><head><title>Wiki</title></head><body><main>{}</main></body></html>",
            body.into()
        ),
    )
        .into_response()
}

async fn handle(State(site): State<Arc<Site>>, method: Method, uri: Uri) -> Response {
    let path_query = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    if let Ok(mut h) = site.hits.lock() {
        h.push(format!("{method} {path_query}"));
    }
    let base = site.base.lock().map(|b| b.clone()).unwrap_or_default();
    match uri.path() {
        "/" => html(
            r#"<h1>Your account</h1>
            <p><a href="/send">Send confirmation</a></p>
            <nav><a href="/logout">Sign out</a> <a href="/account/delete?id=5">Delete account</a>
            <a href="/help">Help</a></nav>"#,
        ),
        "/send" => {
            let n = site.sent.fetch_add(1, Ordering::SeqCst);
            let extra = site
                .extra_link
                .lock()
                .ok()
                .and_then(|e| e.clone())
                .map(|href| format!(r#"<p><a href="{href}">Open your statement</a></p>"#))
                .unwrap_or_default();
            let message = format!(
                "From: Wiki <wiki@site.test>\r\nTo: pat@example.test\r\nSubject: Confirm your address\r\n\
                 MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
                 <p><a href=\"{base}{CONFIRM}\">Confirm your address</a></p>\
                 <p>Not you? <a href=\"{base}{INVALIDATE}\">cancel this address</a></p>\
                 <p><a href=\"{base}/mailhelp\">Help</a></p>{extra}\r\n"
            );
            let tmp = site.maildir.join("tmp").join(format!("{n}.eml"));
            let new = site.maildir.join("new").join(format!("{n}.eml"));
            let _ = std::fs::write(&tmp, message).and_then(|()| std::fs::rename(&tmp, &new));
            html("<h1>Check your e-mail</h1><p>We sent you a link.</p>")
        }
        CONFIRM => html("<h1>Address confirmed</h1>"),
        "/private" => {
            let other = site
                .private_base
                .lock()
                .map(|b| b.clone())
                .unwrap_or_default();
            let port = base.rsplit(':').next().unwrap_or_default().to_string();
            html(format!(
                r#"<h1>Links</h1><a href="/away">Away</a> <a href="{other}/direct">Direct</a>
                <a href="http://localhost:{port}/x">By name</a>"#
            ))
        }
        "/away" => (
            StatusCode::FOUND,
            [(
                header::LOCATION,
                format!(
                    "{}/inner",
                    site.private_base
                        .lock()
                        .map(|b| b.clone())
                        .unwrap_or_default()
                ),
            )],
            "",
        )
            .into_response(),
        "/x" | "/inner" | "/direct" => html("<h1>Private</h1>"),
        // A page that embeds the other loopback site and the cloud metadata address.
        "/embeds" => {
            let other = site
                .private_base
                .lock()
                .map(|b| b.clone())
                .unwrap_or_default();
            html(format!(
                r#"<h1>Embeds</h1><iframe title="Inner" src="{other}/framed"></iframe>
                <img alt="" src="{other}/pixel"><iframe title="Metadata" src="http://169.254.169.254/latest/meta-data/"></iframe>
                <p><a href="http://169.254.169.254/latest/meta-data/">Metadata</a></p>"#
            ))
        }
        // A frame from another site (its own process) whose first requests go to the other
        // loopback site: they must be fenced before the frame runs.
        "/embeds-cross" => {
            let port = base.rsplit(':').next().unwrap_or_default().to_string();
            html(format!(
                r#"<h1>Embeds</h1><iframe title="Cross" src="http://localhost:{port}/framed-leak"></iframe>"#
            ))
        }
        "/framed-leak" => {
            let other = site
                .private_base
                .lock()
                .map(|b| b.clone())
                .unwrap_or_default();
            html(format!(
                r#"<script>fetch("{other}/leak-fetch").catch(() => {{}});</script>
                <p>Framed</p><img alt="" src="{other}/leak-img">"#
            ))
        }
        INVALIDATE => (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
        "/help" | "/mailhelp" | "/logout" => html("<h1>Help</h1>"),
        "/form" => html(
            r#"<h1>Search</h1><form method="get" action="/search"><label>Token <input name="token" type="text"></label>
            <button type="submit">Go</button></form>"#,
        ),
        "/search" => {
            let token = uri
                .query()
                .and_then(|q| url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "token"))
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            let escaped = token
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('"', "&quot;");
            let encoded: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
            let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &token);
            let json = serde_json::to_string(&token)
                .unwrap_or_default()
                .replace('<', "\\u003c");
            // The echoes are drawn in pure red and the heading in pure blue, so a test can
            // tell from the screenshot's pixels what was covered.
            html(format!(
                r#"<style>body {{ font: bold 28px sans-serif; }} .echo {{ color: #ff0000; }} h1 {{ color: #0000ff; }}</style>
                <h1>Results</h1><p class="echo">You searched for {escaped}</p><pre class="echo">{escaped}</pre>
                <p class="echo" style="text-transform:uppercase">{escaped}</p>
                <p><a href="/next?token={encoded}">Next page</a></p>
                <p class="echo">Ref {b64}</p>
                <script type="application/json">{{"token":{json}}}</script>"#
            ))
        }
        _ => (StatusCode::NOT_FOUND, "no").into_response(),
    }
}

struct Running {
    site: Arc<Site>,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Running {
    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Serves the test site on 127.0.0.1 from a thread of its own, with a maildir beside it.
fn start() -> Running {
    start_on("127.0.0.1")
}

/// The same site on another loopback address (`None` when it does not bind).
fn start_on(ip: &str) -> Running {
    let dir = tempfile::tempdir().expect("tempdir");
    let maildir = dir.path().join("mail");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).expect("mkdir");
    }
    let listener = TcpListener::bind(format!("{ip}:0")).expect("bind");
    let addr = listener.local_addr().expect("addr");
    let site = Arc::new(Site {
        hits: Mutex::default(),
        base: Mutex::new(format!("http://{addr}")),
        maildir,
        extra_link: Mutex::default(),
        sent: AtomicUsize::new(0),
        private_base: Mutex::default(),
    });
    let router = Router::new().fallback(handle).with_state(site.clone());
    common::serve(listener, router);
    Running { site, addr, dir }
}

/// The journey: send the confirmation, take the mail, follow "Confirm your address";
/// `extra` steps after it.
fn scenario(r: &Running, extra: &str) -> PathBuf {
    let path = r.dir.path().join("confirm.yaml");
    let text = format!(
        "name: Confirm the address\nstart: {base}/\nmail:\n  maildir: {mail}\nholds:\n  Email: pat@example.test\n\
         steps:\n  - open: /\n  - click: Send confirmation\n  - expect: Check your e-mail\n\
         \x20 - email:\n      to: \"{{Email}}\"\n      subject: Confirm\n      follow: Confirm your address\n      within: 5s\n\
         {extra}",
        base = r.base(),
        mail = r.site.maildir.display(),
    );
    std::fs::write(&path, text).expect("scenario");
    path
}

fn config(r: &Running, text: &str) -> PathBuf {
    let path = r.dir.path().join("nocall.yaml");
    std::fs::write(&path, text).expect("config");
    path
}

/// Runs nocall; returns (exit code, stdout as JSON, stdout, stderr).
fn run(
    scenario: &Path,
    config: &Path,
    out: &Path,
    extra: &[&str],
) -> (i32, serde_json::Value, String, String) {
    let output = nocall()
        .arg("run")
        .arg(scenario)
        .arg("--config")
        .arg(config)
        .args(["--format", "json", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .expect("nocall runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let json = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
    (output.status.code().unwrap_or(-1), json, stdout, stderr)
}

#[test]
fn action_links_in_mail_and_on_pages_are_never_requested() {
    for offline in [false, true] {
        let r = start();
        let s = scenario(&r, "  - expect: Address confirmed\n");
        let c = config(&r, "cost_per_call: 22\n");
        let out = r.dir.path().join("out");
        let flags: &[&str] = if offline { &["--offline"] } else { &[] };
        let (code, report, stdout, stderr) = run(&s, &c, &out, flags);
        assert_eq!(code, 0, "offline={offline}\n{stdout}\n{stderr}");
        assert_eq!(
            r.site.hits("InvalidateEmail"),
            0,
            "{:#?}",
            r.site.all_hits()
        );
        assert_eq!(r.site.hits(CONFIRM), 1, "{:#?}", r.site.all_hits());
        assert_eq!(r.site.hits("/logout"), 0, "{:#?}", r.site.all_hits());
        assert_eq!(
            r.site.hits("/account/delete"),
            0,
            "{:#?}",
            r.site.all_hits()
        );
        // The followed message's plain link is asked about with HEAD alone.
        assert_eq!(r.site.hits("GET /mailhelp"), 0, "{:#?}", r.site.all_hits());
        assert_eq!(r.site.hits("HEAD /mailhelp"), 1, "{:#?}", r.site.all_hits());
        let mail = findings(&report, "dead-email-link");
        assert_eq!(mail.len(), 1, "{report:#}");
        assert_eq!(mail[0]["severity"], "warning");
        let text = mail[0]["message"].as_str().unwrap_or_default();
        assert!(
            text.contains("cancel this address")
                && text.contains("not opened: it would act on the account"),
            "{text}"
        );
        let dead = findings(&report, "dead-link");
        let words: Vec<&str> = dead.iter().filter_map(|f| f["message"].as_str()).collect();
        // Sign out is never requested and not said on a page; Delete account is said.
        assert_eq!(dead.len(), 1, "{words:#?}");
        assert!(dead.iter().all(|f| f["severity"] == "warning"));
        assert!(
            words.iter().any(|w| w.contains("Delete account")),
            "{words:#?}"
        );
    }
}

#[test]
fn probe_allow_and_never_adjust_the_policy_and_are_validated() {
    let r = start();
    let s = scenario(&r, "");
    let c = config(
        &r,
        "probe:\n  allow: [\"*/logout\"]\n  never: [\"/help\"]\n",
    );
    let (code, _, stdout, stderr) = run(&s, &c, &r.dir.path().join("out"), &[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(r.site.hits("/logout") >= 1, "{:#?}", r.site.all_hits());
    assert_eq!(r.site.hits(" /help"), 0, "{:#?}", r.site.all_hits());
    assert_eq!(r.site.hits("InvalidateEmail"), 0);

    let bad = config(&r, "probe:\n  nevr: []\n");
    let (code, _, _, stderr) = run(&s, &bad, &r.dir.path().join("out2"), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("did you mean `never`"), "{stderr}");
}

#[test]
fn the_crawl_never_follows_action_links() {
    let r = start();
    let out = r.dir.path().join("out");
    let output = nocall()
        .arg("links")
        .arg(format!("{}/", r.base()))
        .args(["--format", "json", "--out"])
        .arg(&out)
        .output()
        .expect("nocall runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(r.site.hits("/logout"), 0, "{:#?}", r.site.all_hits());
    assert_eq!(
        r.site.hits("/account/delete"),
        0,
        "{:#?}",
        r.site.all_hits()
    );
    assert!(r.site.hits("/help") >= 1, "{:#?}", r.site.all_hits());
    assert!(stdout.contains("not opened"), "{stdout}");
}

/// Every file under `dir`, as text (lossy), with its path.
fn files_under(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else if let Ok(bytes) = std::fs::read(&p) {
            out.push((p, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    out
}

fn report_flags(dir: &Path) -> Vec<String> {
    ["junit", "sarif", "html", "markdown", "json"]
        .iter()
        .flat_map(|f| {
            [
                "--report".to_string(),
                format!("{f}={}", dir.join(format!("r.{f}")).display()),
            ]
        })
        .collect()
}

#[test]
fn a_followed_file_link_is_never_opened_and_its_content_goes_nowhere() {
    for target in ["file", "chrome://version"] {
        let r = start();
        let marker = format!("NOCALL-LOCAL-FILE-{}", std::process::id());
        let file = r.dir.path().join("marker.txt");
        std::fs::write(&file, &marker).expect("marker");
        let href = if target == "file" {
            format!("file://{}", file.display())
        } else {
            target.to_string()
        };
        *r.site.extra_link.lock().expect("lock") = Some(href);
        let s = scenario(&r, "");
        let text = std::fs::read_to_string(&s).expect("scenario").replace(
            "follow: Confirm your address",
            "follow: Open your statement",
        );
        std::fs::write(&s, text).expect("scenario");
        let c = config(&r, "cost_per_call: 22\n");
        let out = r.dir.path().join("out");
        let reports = r.dir.path().join("reports");
        let flags = report_flags(&reports);
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let (code, report, stdout, stderr) = run(&s, &c, &out, &flags);
        assert_eq!(code, 1, "{stdout}\n{stderr}");
        let result = &report["scenarios"][0];
        assert_eq!(result["status"], "blocked", "{result:#}");
        let reason = result["reason"].as_str().unwrap_or_default().to_string();
        assert!(
            reason.contains("address; nocall opens only http and https"),
            "{result:#}"
        );
        let mail = findings(&report, "dead-email-link");
        assert!(mail.iter().any(|f| f["blocking"] == true), "{report:#}");
        for (path, text) in files_under(&out)
            .into_iter()
            .chain(files_under(&reports))
            .chain([("stdout".into(), stdout), ("stderr".into(), stderr)])
        {
            assert!(!text.contains(&marker), "{} holds the file", path.display());
            assert!(
                !text.contains("Google LLC"),
                "{} holds chrome://version",
                path.display()
            );
        }
    }
}

#[test]
fn a_file_link_beside_the_followed_one_is_a_dead_link_never_opened() {
    let r = start();
    *r.site.extra_link.lock().expect("lock") = Some("file:///etc/passwd".into());
    let s = scenario(&r, "  - expect: Address confirmed\n");
    let c = config(&r, "cost_per_call: 22\n");
    let (code, report, stdout, stderr) = run(&s, &c, &r.dir.path().join("out"), &[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let mail = findings(&report, "dead-email-link");
    assert!(
        mail.iter()
            .any(|f| f["url"] == "file:///etc/passwd" && f["severity"] != "warning"),
        "{report:#}"
    );
    assert!(!stdout.contains("root:x:0:0"), "{stdout}");
}

/// Every spelling of `secret` the GET-form test looks for, lowercased.
fn spellings(secret: &str) -> Vec<String> {
    use base64::Engine as _;
    let squeezed = secret.split_whitespace().collect::<Vec<_>>().join(" ");
    let pct: String = percent_encoding_all(secret);
    let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let html = secret.replace('&', "&amp;").replace('"', "&quot;");
    let html_num = secret.replace('&', "&#38;");
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json.trim_matches('"').to_string();
    let mut out = vec![
        secret.to_string(),
        squeezed,
        pct,
        form,
        html,
        html_num,
        json,
        base64::engine::general_purpose::STANDARD.encode(secret),
        base64::engine::general_purpose::URL_SAFE.encode(secret),
        // The run of letters every spelling keeps.
        "tr0ub4dor".to_string(),
    ];
    for s in &mut out {
        *s = s.to_lowercase();
    }
    out
}

fn percent_encoding_all(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02x}")
            }
        })
        .collect()
}

#[test]
fn a_secret_sent_by_a_get_form_is_in_no_output_in_any_spelling() {
    let r = start();
    let secret = "Tr0ub4dor&3  x/y\"\u{e9}";
    let path = r.dir.path().join("form.yaml");
    std::fs::write(
        &path,
        format!(
            "name: Search with a token\nstart: {}/\nholds:\n  Token: \"{{env:NOCALL_SAFETY_TOKEN}}\"\n\
             steps:\n  - open: /form\n  - fill:\n      Token: \"{{Token}}\"\n  - click: Go\n  - expect: Results\n  - expect: Order confirmed\n",
            r.base()
        ),
    )
    .expect("scenario");
    // The last expect fails on the page whose address carries the token, so there is a
    // finding for explain and evidence to show.
    let c = config(&r, "cost_per_call: 22\n");
    let out = r.dir.path().join("out");
    let reports = r.dir.path().join("reports");
    let flags = report_flags(&reports);
    let output = nocall()
        .env("NOCALL_SAFETY_TOKEN", secret)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", r.dir.path().join("summary.md"))
        .arg("run")
        .arg(&path)
        .arg("--config")
        .arg(&c)
        .arg("--out")
        .arg(&out)
        .args(&flags)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(
        r.site.hits("GET /search?token=") == 1,
        "{:#?}\n{stdout}\n{stderr}",
        r.site.all_hits()
    );
    assert_eq!(r.site.hits("/next"), 0, "{:#?}", r.site.all_hits());
    let mut texts: Vec<(PathBuf, String)> = files_under(&out);
    texts.extend(files_under(&reports));
    texts.push((
        r.dir.path().join("summary.md"),
        std::fs::read_to_string(r.dir.path().join("summary.md")).unwrap_or_default(),
    ));
    texts.push(("stdout".into(), stdout));
    texts.push(("stderr".into(), stderr));
    // explain and evidence for every finding.
    let report_path = out.join("report.json");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).expect("report.json"))
            .expect("a JSON report");
    let ids = finding_ids(&report);
    // Without a finding, explain and evidence would not be tried at all.
    assert!(!ids.is_empty(), "no findings to explain");
    for id in &ids {
        let explained = nocall()
            .args(["explain", id, "--report"])
            .arg(&report_path)
            .output()
            .expect("explain runs");
        texts.push((
            format!("explain {id}").into(),
            String::from_utf8_lossy(&explained.stdout).to_string(),
        ));
        nocall()
            .args(["evidence", id, "--report"])
            .arg(&report_path)
            .arg("--out")
            .arg(r.dir.path().join("evidence"))
            .output()
            .expect("evidence runs");
    }
    texts.extend(files_under(&r.dir.path().join("evidence")));
    let screens = texts
        .iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "png"))
        .count();
    assert!(screens > 0, "no screenshots at all");
    // The results page echoes the secret: its screenshot is taken with every echo
    // covered — none of the echoes' red shows, while the page's blue heading does.
    let steps = report["scenarios"][0]["steps"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let own_shots: Vec<&str> = steps
        .iter()
        .filter(|s| s["url"].as_str().is_some_and(|u| u.contains("/search")))
        .filter_map(|s| s["screenshot"].as_str())
        .collect();
    assert!(
        !own_shots.is_empty() && steps.len() == 5,
        "the results page has a screenshot: {steps:#?}"
    );
    for shot in &own_shots {
        let (blue, red) = blue_and_red_pixels(&out.join(shot));
        assert!(blue > 50, "{shot}: the page is drawn ({blue} blue pixels)");
        assert_eq!(red, 0, "{shot}: the echoed secret shows ({red} red pixels)");
    }
    let wanted = spellings(secret);
    for (path, text) in &texts {
        let lower = text.to_lowercase();
        for w in &wanted {
            if let Some(at) = lower.find(w.as_str()) {
                let from = lower.floor_char_boundary(at.saturating_sub(80));
                let to = lower.ceil_char_boundary((at + 80).min(lower.len()));
                panic!(
                    "{} holds the secret as {w:?}: …{}…",
                    path.display(),
                    &lower[from..to]
                );
            }
        }
    }
}

#[test]
fn files_stay_in_the_output_folder_and_never_go_through_symlinks() {
    let r = start();
    let out = r.dir.path().join("out");
    // `--out` naming a file is refused before any work.
    let file = r.dir.path().join("a-file");
    std::fs::write(&file, "mine").expect("file");
    for args in [
        vec!["links".to_string(), format!("{}/", r.base())],
        vec!["run".to_string(), scenario(&r, "").display().to_string()],
    ] {
        let output = nocall()
            .args(&args)
            .arg("--out")
            .arg(&file)
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("is a file, not a folder"), "{stderr}");
        assert_eq!(std::fs::read_to_string(&file).expect("file"), "mine");
    }
    // A symlink planted at report.json is replaced, its target untouched.
    std::fs::create_dir_all(&out).expect("out");
    let victim = r.dir.path().join("victim.txt");
    std::fs::write(&victim, "keep me").expect("victim");
    std::os::unix::fs::symlink(&victim, out.join("report.json")).expect("symlink");
    let output = nocall()
        .arg("links")
        .arg(format!("{}/", r.base()))
        .args(["--fail-on", "none", "--format", "json", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(std::fs::read_to_string(&victim).expect("victim"), "keep me");
    let meta = std::fs::symlink_metadata(out.join("report.json")).expect("report");
    assert!(meta.is_file(), "report.json is still a symlink");
    // A crafted finding id never names a folder.
    let path = out.join("report.json");
    let mut report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("report")).expect("json");
    assert!(report["findings"][0].is_object(), "{report:#}");
    report["findings"][0]["id"] = "../../../x".into();
    std::fs::write(&path, report.to_string()).expect("write");
    let bundle = r.dir.path().join("ev");
    let planted = r.dir.path().join("x");
    std::fs::create_dir_all(&planted).expect("planted");
    std::fs::write(planted.join("README.md"), "original").expect("readme");
    let output = nocall()
        .args(["evidence", "../../../x", "--report"])
        .arg(&path)
        .arg("--out")
        .arg(bundle.join("a").join("b"))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is not a nocall id"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(planted.join("README.md")).expect("readme"),
        "original"
    );
}

#[test]
fn private_addresses_are_not_requested_unless_allowed() {
    if TcpListener::bind("127.0.0.2:0").is_err() {
        eprintln!("skipped: 127.0.0.2 does not bind here");
        return;
    }
    let r = start();
    let private = start_on("127.0.0.2");
    *r.site.private_base.lock().expect("lock") = private.base();
    let links = |extra: &[&str], config: Option<&Path>| {
        let mut cmd = nocall();
        cmd.arg("links")
            .arg(format!("{}/private", r.base()))
            .args([
                "--depth",
                "0",
                "--fail-on",
                "none",
                "--format",
                "json",
                "--out",
            ])
            .arg(r.dir.path().join("out"))
            .args(extra);
        if let Some(c) = config {
            cmd.arg("--config").arg(c);
        }
        let output = cmd.output().expect("runs");
        String::from_utf8_lossy(&output.stdout).to_string()
    };
    let stdout = links(&[], None);
    assert_eq!(private.site.hits("/"), 0, "{:#?}", private.site.all_hits());
    assert_eq!(r.site.hits("/x"), 0, "{:#?}", r.site.all_hits());
    assert_eq!(r.site.hits("/away"), 1, "{:#?}", r.site.all_hits());
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_default();
    let warned: Vec<&str> = findings(&report, "dead-link")
        .iter()
        .filter(|f| f["severity"] == "warning")
        .filter_map(|f| f["message"].as_str())
        .filter(|m| m.contains("not checked") && m.contains("is a private address"))
        .collect();
    assert_eq!(warned.len(), 3, "{report:#}");

    let stdout = links(&["--allow-private"], None);
    assert!(private.site.hits("/inner") >= 1, "{stdout}");
    assert!(private.site.hits("/direct") >= 1, "{stdout}");
    assert!(r.site.hits("/x") >= 1, "{stdout}");

    let before = private.site.hits("/direct");
    let c = config(&r, "allowed_hosts: [127.0.0.2]\n");
    links(&[], Some(&c));
    assert!(private.site.hits("/direct") > before);
}

#[test]
fn two_email_steps_and_one_message_is_email_missing() {
    let r = start();
    let s = scenario(
        &r,
        "  - email:\n      to: \"{Email}\"\n      subject: Confirm\n      follow: Confirm your address\n      within: 2s\n",
    );
    let c = config(&r, "cost_per_call: 22\n");
    let (code, report, stdout, stderr) = run(&s, &c, &r.dir.path().join("out"), &[]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let result = &report["scenarios"][0];
    assert_eq!(result["status"], "blocked", "{result:#}");
    assert_eq!(result["blocked_at_step"], 5, "{result:#}");
    assert_eq!(findings(&report, "email-missing").len(), 1, "{report:#}");
    assert_eq!(r.site.hits(CONFIRM), 1, "{:#?}", r.site.all_hits());
}

/// During journeys, the browser itself is kept off private and metadata addresses: a
/// link and a redirect to the other loopback site end the journey as nocall's refusal
/// ("not opened: private address", an error, never priced), a frame and an image from it
/// are never requested, and a link to 169.254.169.254 is refused at once (not left to
/// time out). `--allow-private` lets them through.
#[test]
fn journeys_do_not_open_private_or_metadata_addresses() {
    if TcpListener::bind("127.0.0.2:0").is_err() {
        eprintln!("skipped: 127.0.0.2 does not bind here");
        return;
    }
    let r = start();
    let private = start_on("127.0.0.2");
    *r.site.private_base.lock().expect("lock") = private.base();
    let journey = |file: &str, steps: &str| {
        let path = r.dir.path().join(file);
        std::fs::write(
            &path,
            format!(
                "name: {file}\nstart: {}/\nstep_timeout: 5s\nsteps:\n{steps}",
                r.base()
            ),
        )
        .expect("scenario");
        path
    };
    let direct = journey("direct.yaml", "  - open: /private\n  - click: Direct\n");
    let away = journey("away.yaml", "  - open: /private\n  - click: Away\n");
    let embeds = journey("embeds.yaml", "  - open: /embeds\n  - expect: Embeds\n");
    let metadata = journey("metadata.yaml", "  - open: /embeds\n  - click: Metadata\n");
    let cross = journey(
        "cross.yaml",
        "  - open: /embeds-cross\n  - expect: Embeds\n",
    );
    let c = config(&r, "cost_per_call: 22\n");
    let out = r.dir.path().join("out");
    let output = nocall()
        .arg("run")
        .args([&direct, &away, &embeds, &metadata, &cross])
        .arg("--config")
        .arg(&c)
        .args([
            "--offline",
            "--fail-on",
            "blocker",
            "--format",
            "json",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let report: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&output.stderr)));
    assert_eq!(
        private.site.all_hits(),
        Vec::<String>::new(),
        "the other loopback site is never requested"
    );
    for (file, host) in [
        ("direct.yaml", "127.0.0.2"),
        ("away.yaml", "127.0.0.2"),
        ("metadata.yaml", "169.254.169.254"),
    ] {
        let s = common::scenario_result(&report, file);
        assert_eq!(s["status"], "error", "{file}: {s:#}");
        let reason = s["reason"].as_str().unwrap_or_default();
        assert!(
            reason.contains("not opened: private address") && reason.contains(host),
            "{file}: {reason}"
        );
    }
    for file in ["embeds.yaml", "cross.yaml"] {
        let s = common::scenario_result(&report, file);
        assert_eq!(s["status"], "completed", "{s:#}");
    }
    assert_eq!(
        findings(&report, "journey-blocked").len(),
        0,
        "nocall's refusal is not priced: {report:#}"
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "no journey blocked: {stdout}"
    );

    // `--allow-private` opens them.
    let output = nocall()
        .arg("run")
        .arg(&direct)
        .arg("--config")
        .arg(&c)
        .args(["--offline", "--allow-private", "--format", "json", "--out"])
        .arg(r.dir.path().join("out2"))
        .output()
        .expect("runs");
    assert!(output.status.code().is_some());
    assert_eq!(
        private.site.hits("GET /direct"),
        1,
        "{:#?}",
        private.site.all_hits()
    );
}

/// Screenshots go through the checked writer: a screenshots folder planted as a symlink
/// is refused, and nothing is written where it points.
#[test]
fn screenshots_are_never_written_through_a_symlink() {
    let r = start();
    let out = r.dir.path().join("out");
    let elsewhere = r.dir.path().join("elsewhere");
    std::fs::create_dir_all(&out).expect("out");
    std::fs::create_dir_all(&elsewhere).expect("elsewhere");
    std::os::unix::fs::symlink(&elsewhere, out.join("screenshots")).expect("symlink");
    let path = r.dir.path().join("help.yaml");
    std::fs::write(
        &path,
        format!(
            "name: Help\nstart: {}/\nsteps:\n  - open: /help\n",
            r.base()
        ),
    )
    .expect("scenario");
    let c = config(&r, "cost_per_call: 22\n");
    let (_, report, stdout, stderr) = run(&path, &c, &out, &["--offline"]);
    assert_eq!(
        report["scenarios"][0]["status"], "completed",
        "{stdout}\n{stderr}"
    );
    assert_eq!(
        files_under(&elsewhere).len(),
        0,
        "{:?}",
        files_under(&elsewhere)
    );
}

/// Counts the pure-blue and pure-red pixels of a PNG screenshot (8-bit RGB or RGBA, as
/// Chromium writes them), decoded here: chunks, zlib, and the five scanline filters.
fn blue_and_red_pixels(path: &Path) -> (usize, usize) {
    use std::io::Read as _;
    let png = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let (mut width, mut height, mut channels) = (0usize, 0usize, 0usize);
    let mut data = Vec::new();
    let mut at = 8;
    while at + 8 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        let kind = &png[at + 4..at + 8];
        let body = &png[at + 8..at + 8 + len];
        match kind {
            b"IHDR" => {
                width = u32::from_be_bytes(body[0..4].try_into().unwrap()) as usize;
                height = u32::from_be_bytes(body[4..8].try_into().unwrap()) as usize;
                assert_eq!(body[8], 8, "8-bit");
                channels = match body[9] {
                    2 => 3,
                    6 => 4,
                    other => panic!("colour type {other}"),
                };
            }
            b"IDAT" => data.extend_from_slice(body),
            _ => {}
        }
        at += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&data[..])
        .read_to_end(&mut raw)
        .expect("inflates");
    let stride = width * channels;
    let mut pixels = vec![0u8; stride * height];
    for y in 0..height {
        let filter = raw[y * (stride + 1)];
        let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
        for x in 0..stride {
            let a = if x >= channels {
                pixels[y * stride + x - channels]
            } else {
                0
            } as i32;
            let b = if y > 0 {
                pixels[(y - 1) * stride + x]
            } else {
                0
            } as i32;
            let c = if x >= channels && y > 0 {
                pixels[(y - 1) * stride + x - channels]
            } else {
                0
            } as i32;
            let predicted = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) / 2,
                4 => {
                    let p = a + b - c;
                    let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                other => panic!("filter {other}"),
            };
            pixels[y * stride + x] = (line[x] as i32 + predicted) as u8;
        }
    }
    let (mut blue, mut red) = (0, 0);
    for p in pixels.chunks(channels) {
        match (p[0], p[1], p[2]) {
            (0..=30, 0..=30, 225..=255) => blue += 1,
            (225..=255, 0..=30, 0..=30) => red += 1,
            _ => {}
        }
    }
    (blue, red)
}
