//! Precision on pages shaped like real applications' (a wiki's): what a person sees as
//! working must not become a finding, and the same problem keeps its id from run to run.
//! Each case goes through the real binary, in real Chromium, against a local site.

mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use common::{finding_ids, findings, nocall};

/// Hands out a new nonce on every page, as MediaWiki's and WordPress's do.
struct Site {
    served: AtomicU64,
    /// Where its mailer delivers (a maildir).
    maildir: PathBuf,
    base: String,
}

impl Site {
    /// Puts a message in the site's maildir as a mailer does: written aside, then moved in.
    fn deliver(&self, name: &str, message: &str) {
        let tmp = self.maildir.join("tmp").join(name);
        let _ = std::fs::write(&tmp, message)
            .and_then(|()| std::fs::rename(&tmp, self.maildir.join("new").join(name)));
    }

    fn nonce(&self) -> String {
        let n = self.served.fetch_add(1, Ordering::SeqCst) + 1;
        format!("{:010x}", n.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 24)
    }
}

fn page(title: &str, body: &str, nonce: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!(
            "<!doctype html><html lang=en><head><title>{title} - Team Wiki</title></head><body>\
             <nav><a href=\"/index.php?title=Main_Page\">Main Page</a> \
             <a href=\"/index.php?title=Main_Page&amp;printable=yes&amp;sid={nonce}\">Printable version</a> \
             <a href=\"/index.php?title=Special:UserLogin&amp;returnto=Special:PasswordReset\">Log in</a></nav>\
             <main><h1>{title}</h1>{body}</main></body></html>"
        ),
    )
        .into_response()
}

async fn handle(State(site): State<Arc<Site>>, method: Method, uri: Uri, body: String) -> Response {
    let title = uri
        .query()
        .and_then(|q| url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "title"))
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let printable = uri.query().is_some_and(|q| q.contains("printable=yes"));
    let nonce = site.nonce();
    // A blog's "lost password" mail, in plain text as WordPress writes it: the set-password
    // address alone on its line, the sign-in page's alone on the next.
    match uri.path() {
        // A tracker's registration: labels in header cells no `<label>` ties to the
        // fields, and a sign-in box in the sidebar whose fields' `name`s look alike.
        "/tracker/register" if method == Method::GET => {
            return page(
                "Registering with Tracker",
                r#"<aside><form method="post" action="/tracker/login">
                   <input name="__login_name" size="10"> <input type="password" name="__login_password" size="10">
                   <input type="submit" value="Log in"></form></aside>
                   <form method="post" action="/tracker/register"><table>
                   <tr><th>Login Name</th><td><input name="username"></td></tr>
                   <tr><th>Login Password</th><td><input type="password" name="password"></td></tr>
                   <tr><th>E-mail address</th><td><input name="address"></td></tr>
                   </table><input type="submit" value="Register"></form>"#,
                &nonce,
            );
        }
        "/tracker/register" => {
            let ok = body.contains("username=pat") && body.contains("address=pat%40example.test");
            return page(
                if ok {
                    "Registration in progress"
                } else {
                    "Try again"
                },
                if ok {
                    "<p>A confirmation e-mail is on its way.</p>"
                } else {
                    "<p>Missing details.</p>"
                },
                &nonce,
            );
        }
        "/wp-login.php"
            if uri
                .query()
                .is_some_and(|q| q.contains("action=lostpassword")) =>
        {
            let base = &site.base;
            let message = format!(
                "From: WordPress <wordpress@blog.test>\r\nTo: pat@example.test\r\nSubject: [Blog] Password Reset\r\n\
                 Content-Type: text/plain; charset=utf-8\r\n\r\n\
                 Someone has requested a password reset for the following account on Blog (<{base}/>).\r\n\r\n\
                 Username: pat\r\n\r\nTo reset your password, visit the following address:\r\n\r\n\
                 {base}/wp-login.php?action=rp&key=Xy7Qk2LmN4pR8sT1vW3z&login=pat\r\n\r\n\
                 {base}/wp-login.php\r\n"
            );
            site.deliver("1.eml", &message);
            return page(
                "Check your email",
                "<p>Check your email for the confirmation link.</p>",
                &nonce,
            );
        }
        // A tracker's second reset mail, as Roundup and MediaWiki write theirs: the new
        // password and a code in the text, and a page that shows the password again.
        "/tracker/lost" => {
            let base = &site.base;
            let message = format!(
                "From: Tracker <tracker@tracker.test>\r\nTo: pat@example.test\r\nSubject: Password reset\r\n\
                 Content-Type: text/plain; charset=utf-8\r\n\r\n\
                 Your password is now: Qm7vX2pL9k\r\n\r\nYour verification code is 493021.\r\n\r\n\
                 Temporary password:\r\nzr8kw4tq\r\n\r\n\
                 Log in here: {base}/tracker/welcome\r\n"
            );
            site.deliver("2.eml", &message);
            return page(
                "Password reset",
                "<p>Password reset and email sent to pat@example.test</p>",
                &nonce,
            );
        }
        "/tracker/welcome" => {
            return page(
                "Welcome back",
                "<p>Sign in with the password from the e-mail: Qm7vX2pL9k (code 493021).</p>",
                &nonce,
            );
        }
        "/wp-login.php" if uri.query().is_some_and(|q| q.contains("action=rp")) => {
            return page(
                "Set a new password",
                "<p>Enter your new password below.</p>",
                &nonce,
            );
        }
        "/wp-login.php" => {
            return page(
                "Log In",
                r#"<p><a href="/wp-login.php?action=lostpassword">Lost your password?</a></p>"#,
                &nonce,
            );
        }
        _ => {}
    }
    match (method, title.as_str()) {
        // The printable view is gone: a true dead link, with a nonce in its address.
        (_, "Main_Page") if printable => (StatusCode::GONE, "gone").into_response(),
        (_, "Main_Page") => page("Main Page", "<p>Welcome to the team wiki.</p>", &nonce),
        (_, "Special:UserLogin") => page("Log in", "<p>Log in to Team Wiki.</p>", &nonce),
        (Method::GET, "Special:CreateAccount") => page(
            "Create account",
            r#"<form method="post" action="/index.php?title=Special:CreateAccount">
               <label for="u">Username</label> <input id="u" name="wpName" autocomplete="username">
               <label for="p">Password</label> <input id="p" name="wpPassword" type="password">
               <label for="p2">Confirm password</label> <input id="p2" name="wpRetype" type="password">
               <button type="submit">Create your account</button></form>
               <p>Already have an account? Click your browser's back button and log in.</p>"#,
            &nonce,
        ),
        (Method::POST, "Special:CreateAccount") => page(
            "Welcome, Pat",
            "<p>Your account has been created.</p>",
            &nonce,
        ),
        (Method::GET, "Special:PasswordReset") => page(
            "Reset password",
            r#"<form method="post" action="/index.php?title=Special:PasswordReset">
               <label for="n">New password</label> <input id="n" name="wpNewPassword" type="password">
               <label for="r">once again</label> <input id="r" name="wpRetype" type="password">
               <button type="submit">Change password</button></form>
               <p>If this page does not load, press Reload.</p>"#,
            &nonce,
        ),
        (Method::POST, "Special:PasswordReset") => page(
            "Password changed",
            "<p>Your password has been changed.</p>",
            &nonce,
        ),
        _ => (StatusCode::NOT_FOUND, "no such page").into_response(),
    }
}

struct Running {
    base: String,
    dir: tempfile::TempDir,
}

fn start() -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let dir = tempfile::tempdir().expect("tempdir");
    let maildir = dir.path().join("mail");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).expect("mkdir");
    }
    let site = Arc::new(Site {
        served: AtomicU64::new(0),
        maildir,
        base: base.clone(),
    });
    common::serve(listener, Router::new().fallback(handle).with_state(site));
    Running { base, dir }
}

fn scenarios(r: &Running) -> Vec<PathBuf> {
    let write = |name: &str, text: String| {
        let path = r.dir.path().join(name);
        std::fs::write(&path, text).expect("scenario");
        path
    };
    vec![
        write(
            "signup.yaml",
            format!(
                "name: Create a wiki account\nstart: {base}/\nholds:\n  Username: Pat Example\n  Password: correct horse 42\n\
                 steps:\n  - open: /index.php?title=Special:CreateAccount\n  - fill:\n      Username: \"{{Username}}\"\n\
                 \x20     Password: \"{{Password}}\"\n      Confirm password: \"{{Password}}\"\n\
                 \x20 - click: Create your account\n  - expect: Your account has been created\n",
                base = r.base
            ),
        ),
        write(
            "reset.yaml",
            format!(
                "name: Choose a new password\nstart: {base}/\nholds:\n  Password: correct horse 42\n\
                 steps:\n  - open: /index.php?title=Special:PasswordReset\n  - fill:\n      New password: \"{{Password}}\"\n\
                 \x20     once again: \"{{Password}}\"\n  - click: Change password\n  - expect: Your password has been changed\n",
                base = r.base
            ),
        ),
    ]
}

fn run(r: &Running) -> serde_json::Value {
    let out = r.dir.path().join(format!("out-{}", rand_suffix()));
    run_files(&scenarios(r), &out)
}

/// Runs scenario files offline with JSON on stdout, writing under `out`; the report.
fn run_files(files: &[PathBuf], out: &std::path::Path) -> serde_json::Value {
    let output = nocall()
        .arg("run")
        .args(files)
        .args([
            "--format",
            "json",
            "--fail-on",
            "none",
            "--offline",
            "--out",
        ])
        .arg(out)
        .output()
        .expect("nocall runs");
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

#[test]
fn a_wiki_shaped_site_gives_only_true_findings_under_ids_that_do_not_change() {
    let site = start();
    let first = run(&site);
    let text = first.to_string();
    for s in first["scenarios"].as_array().expect("scenarios") {
        assert_eq!(s["status"], "completed", "{s:#}");
    }
    // "Click your browser's back button", "press Reload": the browser's controls.
    assert!(
        findings(&first, "instruction-mismatch").is_empty(),
        "{text}"
    );
    // "Confirm password", "New password" and "once again" are no second name for it.
    assert!(findings(&first, "label-inconsistent").is_empty(), "{text}");
    assert!(findings(&first, "label-mismatch").is_empty(), "{text}");
    // "once again" alone says nothing of what to type.
    let missing = findings(&first, "label-missing");
    assert_eq!(missing.len(), 1, "{text}");
    assert!(
        missing[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("\"once again\"") && m.contains("the password-reset page")),
        "{:#}",
        missing[0]
    );
    // "Log in" returning to the password-reset page does not act on the account.
    assert!(!text.contains("would act on the account"), "{text}");
    // The excerpt shows the label as the page ties it, `for` and all.
    assert_eq!(
        missing[0]["evidence"]["html_excerpt"],
        r#"<label for="r">once again</label> <input id="r" name="wpRetype" type="password">"#,
        "{:#}",
        missing[0]
    );
    // /index.php?title=… pages are named for what they are, never "the home page".
    assert!(!text.contains("the home page"), "{text}");
    // The printable view is really gone; its address carries a new nonce on every page.
    let dead = findings(&first, "dead-link");
    assert_eq!(dead.len(), 1, "{text}");

    let second = run(&site);
    let sorted = |r: &serde_json::Value| {
        let mut ids = finding_ids(r);
        ids.sort();
        ids
    };
    assert_eq!(sorted(&first), sorted(&second), "ids survive a new nonce");
}

#[test]
fn a_plain_text_mail_with_two_bare_addresses_opens_the_one_the_journey_follows() {
    let site = start();
    let path = site.dir.path().join("lost.yaml");
    std::fs::write(
        &path,
        format!(
            "name: Lost blog password\nstart: {base}/\nmail:\n  maildir: {mail}\nholds:\n  Email: pat@example.test\n\
             steps:\n  - open: /wp-login.php\n  - click: Lost your password?\n  - expect: Check your email\n\
             \x20 - email: {{to: \"{{Email}}\", subject: Password Reset, follow: action=rp, within: 5s}}\n\
             \x20 - expect: Enter your new password\n",
            base = site.base,
            mail = site.dir.path().join("mail").display()
        ),
    )
    .expect("scenario");
    let out = site.dir.path().join("out");
    let report = run_files(&[path], &out);
    assert_eq!(report["scenarios"][0]["status"], "completed", "{report:#}");
    let trace: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.join("traces/01-lost-blog-password.json")).expect("trace"),
    )
    .expect("trace json");
    let links = trace["mails"][0]["links"]
        .as_array()
        .expect("links")
        .clone();
    let texts: Vec<&str> = links.iter().filter_map(|l| l["text"].as_str()).collect();
    assert!(
        texts
            .iter()
            .all(|t| !t.contains('<') && !t.contains("http://") || t.starts_with("http://")),
        "a link's text is words, never brackets or another address: {texts:?}"
    );
    assert_eq!(
        texts.first(),
        Some(&"Someone has requested a password reset for the following account on Blog")
    );
}

#[test]
fn fields_named_by_the_text_beside_them_are_found_there_and_the_missing_tie_is_a_warning() {
    let site = start();
    let path = site.dir.path().join("register.yaml");
    std::fs::write(
        &path,
        format!(
            "name: Register with the tracker\nstart: {base}/\nholds:\n  Login Name: pat\n  Login Password: correct horse 42\n  E-mail address: pat@example.test\n\
             steps:\n  - open: /tracker/register\n  - fill:\n      Login Name: \"{{Login Name}}\"\n      Login Password: \"{{Login Password}}\"\n\
             \x20     E-mail address: \"{{E-mail address}}\"\n  - click: Register\n  - expect: A confirmation e-mail is on its way\n",
            base = site.base
        ),
    )
    .expect("scenario");
    let report = run_files(&[path], &site.dir.path().join("out"));
    let text = report.to_string();
    assert_eq!(
        report["scenarios"][0]["status"], "completed",
        "typed into the form a person reads: {text}"
    );
    let beside: Vec<&serde_json::Value> = findings(&report, "label-missing")
        .into_iter()
        .filter(|f| {
            f["message"]
                .as_str()
                .is_some_and(|m| m.contains("beside it"))
        })
        .collect();
    assert_eq!(beside.len(), 3, "{text}");
    for f in beside {
        // A person reads the words; only the tie for screen readers is missing.
        assert_eq!(f["severity"], "warning", "{f:#}");
        assert_eq!(f["est_calls_per_month"], 0.0, "{f:#}");
    }
}

#[test]
fn a_password_or_code_a_mail_hands_the_user_is_masked_in_every_output() {
    let site = start();
    let path = site.dir.path().join("lost-tracker.yaml");
    std::fs::write(
        &path,
        format!(
            "name: Tracker password by mail\nstart: {base}/\nmail:\n  maildir: {mail}\nholds:\n  Email: pat@example.test\n\
             steps:\n  - open: /tracker/lost\n  - expect: Password reset\n\
             \x20 - email: {{to: \"{{Email}}\", subject: Password reset, follow: Log in here, within: 5s}}\n\
             \x20 - expect: Sign in with the password\n",
            base = site.base,
            mail = site.dir.path().join("mail").display()
        ),
    )
    .expect("scenario");
    let out = site.dir.path().join("out");
    let report = run_files(&[path], &out);
    assert_eq!(report["scenarios"][0]["status"], "completed", "{report:#}");
    let trace = std::fs::read_to_string(out.join("traces/01-tracker-password-by-mail.json"))
        .expect("trace");
    assert!(trace.contains("Your password is now: ••••••"), "{trace}");
    let mut files = vec![out.clone()];
    let mut seen = 0;
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(
                std::fs::read_dir(&p)
                    .expect("dir")
                    .map(|e| e.expect("entry").path()),
            );
            continue;
        }
        let bytes = std::fs::read(&p).expect("file");
        let text = String::from_utf8_lossy(&bytes);
        seen += 1;
        for secret in ["Qm7vX2pL9k", "493021", "zr8kw4tq"] {
            assert!(!text.contains(secret), "{secret} in {}", p.display());
        }
    }
    assert!(seen >= 2, "the trace and the report were written");
    let stdout = report.to_string();
    for secret in ["Qm7vX2pL9k", "493021", "zr8kw4tq"] {
        assert!(!stdout.contains(secret), "{secret} in the report");
    }
}
