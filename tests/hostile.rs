//! Hostile input costs bounded memory and prints nothing it should not: endless and binary
//! input files, huge lines, pages carrying terminal escape sequences, closed pipes. Each case
//! through the real binary.

mod common;

use std::net::TcpListener;
use std::process::Stdio;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use common::{nocall, portal, scenario};

fn run_with_config(config: &std::path::Path) -> std::process::Output {
    let out = tempfile::tempdir().unwrap();
    nocall()
        .arg("run")
        .arg(scenario("clean-library-login.yaml"))
        .arg("--config")
        .arg(config)
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap()
}

#[test]
fn an_endless_settings_file_is_refused_with_its_limit() {
    let out = run_with_config(std::path::Path::new("/dev/zero"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("/dev/zero") && err.contains("larger than 16 MiB"),
        "{err}"
    );
    assert!(err.contains("NOCALL_MAX_INPUT_BYTES"), "{err}");
}

#[test]
fn a_bad_phone_directory_stops_the_run_at_load_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("nocall.yaml");
    std::fs::write(&config, "phones:\n  directory: phones.csv\n").unwrap();
    let csv = dir.path().join("phones.csv");

    std::fs::write(
        &csv,
        "number,status\n+14155552671,disconnected\n+14155552672,dead\n",
    )
    .unwrap();
    let out = run_with_config(&config);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("phones.csv:3:"), "{err}");
    assert!(out.stdout.is_empty(), "nothing was run");

    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&csv, noise).unwrap();
    let out = run_with_config(&config);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("phones.csv") && err.contains("not text"),
        "{err}"
    );
}

#[test]
fn a_huge_single_line_scenario_is_refused_with_a_short_excerpt() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge.yaml");
    let line = format!(
        "name: x\nstart: http://127.0.0.1:1/\nsteps: [{{open: /, clack: {}}}]\n",
        "y".repeat(2_000_000)
    );
    std::fs::write(&file, line).unwrap();
    let out = nocall().arg("check").arg(&file).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}", &err[..err.len().min(500)]);
    assert!(
        err.contains("huge.yaml:3:"),
        "{}",
        &err[..err.len().min(500)]
    );
    assert!(
        err.len() < 4_000,
        "the error quotes a window, not the line: {} bytes",
        err.len()
    );
}

#[test]
fn escape_sequences_from_a_page_never_reach_the_terminal() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let page = "<!doctype html><title>Hi</title><main><h1>Account</h1>\
                <p>Hello\u{1b}]0;pwned\u{7} there\u{1b}[2J, \u{1b}]8;;http://evil.test\u{1b}\\click\u{1b}]8;;\u{1b}\\ me</p></main>";
    let router = Router::new().fallback(move || async move {
        ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
    });
    common::serve(listener, router);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.yaml");
    std::fs::write(
        &file,
        format!("name: Escapes\nstart: {base}/\nsteps:\n  - open: /\n  - expect: Welcome back\n"),
    )
    .unwrap();
    let out = nocall()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("Hello there"),
        "the page's words are shown: {stdout}"
    );
    for text in [&stdout, &stderr] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
    }
}

#[test]
fn a_closed_standard_output_or_error_never_panics() {
    let site = portal();
    for close_stderr in [false, true] {
        let out = tempfile::tempdir().unwrap();
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("nocall"));
        cmd.arg("run")
            .arg(scenario("clean-library-login.yaml"))
            .args(["--base-url", &site.base_url(), "--out"])
            .arg(out.path())
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        // The reader goes away before nocall writes a byte, as `| head -0` does.
        drop(child.stdout.take());
        let stderr = if close_stderr {
            drop(child.stderr.take());
            String::new()
        } else {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut text).unwrap();
            text
        };
        let status = child.wait().unwrap();
        assert_ne!(status.code(), Some(101), "panicked: {stderr}");
        assert_eq!(status.code(), Some(0), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn an_oversized_mail_is_refused_and_the_smtp_dialogue_goes_on() {
    use std::io::{BufRead, BufReader, Write};
    let sink = nocall::mail::MailSink::start("127.0.0.1:0").expect("the sink starts");
    let stream = std::net::TcpStream::connect(sink.addr()).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    // One reply, multi-line replies read to their last line; its code.
    let reply = |reader: &mut BufReader<std::net::TcpStream>| -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("the sink answers");
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return all;
            }
        }
    };
    assert!(reply(&mut reader).starts_with("220"));
    for (command, code) in [
        ("EHLO portal.test\r\n", "250"),
        ("MAIL FROM:<portal@portal.test>\r\n", "250"),
        ("RCPT TO:<pat@example.test>\r\n", "250"),
        ("DATA\r\n", "354"),
    ] {
        writer.write_all(command.as_bytes()).unwrap();
        let got = reply(&mut reader);
        assert!(got.starts_with(code), "{command}: {got}");
    }
    let line = format!("{}\r\n", "x".repeat(998));
    let chunk = line.repeat(1024);
    for _ in 0..27 {
        writer.write_all(chunk.as_bytes()).unwrap();
    }
    writer.write_all(b".\r\n").unwrap();
    let refused = reply(&mut reader);
    assert!(refused.starts_with("552"), "{refused}");
    for (command, code) in [
        ("RSET\r\n", "250"),
        ("MAIL FROM:<portal@portal.test>\r\n", "250"),
        ("QUIT\r\n", "221"),
    ] {
        writer.write_all(command.as_bytes()).unwrap();
        let got = reply(&mut reader);
        assert!(
            got.starts_with(code),
            "after a refused message, {command}: {got}"
        );
    }
}

/// A page past every record limit nocall.yaml sets: 60 links, 12 fields, 30 phone numbers
/// and 1 500 more elements of text.
fn crowded_page() -> String {
    let mut body = String::from("<h1>Welcome</h1><nav>");
    for i in 0..60 {
        body.push_str(&format!("<a href=\"/p/{i}\">Link {i}</a> "));
    }
    body.push_str("</nav><form>");
    for i in 0..12 {
        body.push_str(&format!(
            "<label for=\"f{i}\">Field {i}</label><input id=\"f{i}\" name=\"f{i}\">"
        ));
    }
    body.push_str("</form>");
    for i in 0..30 {
        body.push_str(&format!("<p>Branch {i}: (212) 736-{:04}</p>", 1000 + i));
    }
    for _ in 0..1500 {
        body.push_str("<div>cell</div>");
    }
    format!("<!doctype html><html lang=en><title>Crowded</title><main>{body}</main></html>")
}

#[test]
fn a_page_past_the_record_limits_is_read_up_to_them_and_each_limit_is_a_warning() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let page = crowded_page();
    let router = Router::new().fallback(move || {
        let page = page.clone();
        async move { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response() }
    });
    common::serve(listener, router);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("nocall.yaml"),
        "limits:\n  dom_nodes: 400\n  text_chars: 3000\n  links_per_page: 25\n  \
         controls_per_page: 5\n  phones_per_page: 10\n",
    )
    .unwrap();
    let file = dir.path().join("crowded.yaml");
    std::fs::write(
        &file,
        format!("name: Crowded\nstart: {base}/\nsteps:\n  - open: /\n  - expect: Welcome\n"),
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    // `--fail-on any`: the warnings are all there is, and they never fail a gate.
    let out = nocall()
        .arg("run")
        .arg(&file)
        .args(["--offline", "--fail-on", "any", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["summary"]["completed"], 1, "{report:#}");
    let findings = report["findings"].as_array().unwrap();
    for f in findings {
        assert_eq!(f["kind"], "limit-reached", "{f:#}");
        assert_eq!(f["severity"], "warning", "{f:#}");
        assert_eq!(f["est_calls_per_month"], 0.0, "{f:#}");
    }
    let messages: Vec<&str> = findings
        .iter()
        .filter_map(|f| f["message"].as_str())
        .collect();
    for key in [
        "dom_nodes",
        "text_chars",
        "links_per_page",
        "controls_per_page",
        "phones_per_page",
    ] {
        assert!(
            messages
                .iter()
                .any(|m| m.contains(&format!("limits: {{{key}: …}}"))
                    && m.starts_with("The page at step 1")),
            "no warning for {key}: {messages:#?}"
        );
    }
    assert!(
        messages
            .iter()
            .any(|m| m.contains("60 links, more than the 25 nocall reads")),
        "{messages:#?}"
    );
    let trace: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out_dir.join("traces/01-crowded.json")).unwrap(),
    )
    .unwrap();
    let step = &trace["steps"][0];
    assert_eq!(
        step["recording"]["result"], "cut",
        "{:#}",
        step["recording"]
    );
    let page = &step["page"];
    assert_eq!(page["links"].as_array().unwrap().len(), 25);
    let controls = page["fields"].as_array().map_or(0, Vec::len)
        + page["buttons"].as_array().map_or(0, Vec::len);
    assert_eq!(controls, 5);
    assert!(
        page["fields"][0]["visible"].as_bool().unwrap(),
        "a walked field is named and seen by the browser: {:#}",
        page["fields"][0]
    );
    assert_eq!(page["fields"][0]["name"], "Field 0");
    assert!(page["text"].as_str().unwrap().chars().count() <= 3000);
    // The expect step saw the same page, and says the same.
    assert_eq!(trace["steps"][1]["recording"]["result"], "cut");
}

#[test]
fn a_limit_that_is_not_one_is_refused_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("nocall.yaml");
    std::fs::write(&config, "limits:\n  dom_node: 5\n  links_per_page: 0\n").unwrap();
    let out = run_with_config(&config);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("nocall.yaml:2:") && err.contains("dom_nodes"),
        "{err}"
    );
    assert!(err.contains("nocall.yaml:3:"), "{err}");
}

#[test]
fn a_page_that_cannot_be_recorded_ends_its_journey_as_error_and_the_others_run() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // The page breaks what nocall's walk needs (past `dom_nodes`, the page is walked).
    let cells = "<div>cell</div>".repeat(30);
    let hostile = format!(
        "<!doctype html><title>Broken</title><script>Element.prototype.getAttribute = () => {{ throw new Error('no'); }};</script>\
         <main><h1>Welcome</h1>{cells}</main>"
    );
    let plain = "<!doctype html><title>Plain</title><main><h1>Welcome</h1></main>";
    let router = Router::new()
        .route(
            "/broken",
            axum::routing::get(move || {
                let page = hostile.clone();
                async move { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page) }
            }),
        )
        .fallback(move || async move {
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], plain).into_response()
        });
    common::serve(listener, router);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("nocall.yaml"), "limits:\n  dom_nodes: 10\n").unwrap();
    for (name, path) in [("broken", "/broken"), ("plain", "/")] {
        std::fs::write(
            dir.path().join(format!("{name}.yaml")),
            format!(
                "name: {name}\nstart: {base}/\nsteps:\n  - open: {path}\n  - expect: Welcome\n"
            ),
        )
        .unwrap();
    }
    let out_dir = dir.path().join("out");
    let out = nocall()
        .arg("run")
        .arg(dir.path().join("broken.yaml"))
        .arg(dir.path().join("plain.yaml"))
        .args(["--offline", "--fail-on", "none", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("report.json")).unwrap())
            .unwrap();
    let broken = common::scenario_result(&report, "broken");
    assert_eq!(broken["status"], "error", "{broken:#}");
    assert!(
        broken["reason"]
            .as_str()
            .unwrap()
            .contains("step 1 (open /broken): the page could not be recorded"),
        "{broken:#}"
    );
    assert_eq!(
        common::scenario_result(&report, "plain")["status"],
        "completed"
    );
    assert_eq!(
        report["summary"]["est_calls_per_month"], 0.0,
        "never priced"
    );
    let trace: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out_dir.join("traces/01-broken.json")).unwrap(),
    )
    .unwrap();
    let step = &trace["steps"][0];
    assert_eq!(step["recording"]["result"], "failed", "{step:#}");
    assert_eq!(step["outcome"]["kind"], "not-recorded", "{step:#}");
    assert!(stdout.contains("could not be recorded"), "{stdout}");
}
