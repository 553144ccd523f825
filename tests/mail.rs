//! Mail capture against real SMTP: the sink listens on a free local port and each test
//! talks the protocol to it over a socket, as a portal's mailer would; the maildir source
//! reads files written into a temporary folder.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use nocall::mail::{MailSink, MailSource, Mailboxes, MaildirSource, missing_reason, pick_link};

/// A minimal SMTP client: one dialogue per call, every reply checked.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect to the sink");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        stream.set_nodelay(true).expect("nodelay");
        let writer = stream.try_clone().expect("clone");
        let mut c = Client {
            reader: BufReader::new(stream),
            writer,
        };
        c.expect(220);
        c.command("EHLO portal.test", 250);
        c
    }

    /// Reads one reply (all its lines) and returns its code.
    fn reply(&mut self) -> u16 {
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).expect("read reply");
            assert!(line.len() >= 3, "short reply {line:?}");
            if line.as_bytes().get(3) != Some(&b'-') {
                return line[..3].parse().expect("reply code");
            }
        }
    }

    fn expect(&mut self, code: u16) {
        assert_eq!(self.reply(), code);
    }

    fn command(&mut self, line: &str, code: u16) {
        write!(self.writer, "{line}\r\n").expect("write");
        self.expect(code);
    }

    /// Sends one message; returns the code the server gave at the end of DATA.
    fn send(&mut self, from: &str, to: &[&str], message: &str) -> u16 {
        self.command(&format!("MAIL FROM:<{from}>"), 250);
        for t in to {
            self.command(&format!("RCPT TO:<{t}>"), 250);
        }
        self.command("DATA", 354);
        for line in message.split("\r\n") {
            let stuffed = if line.starts_with('.') {
                format!(".{line}")
            } else {
                line.to_string()
            };
            write!(self.writer, "{stuffed}\r\n").expect("write");
        }
        write!(self.writer, ".\r\n").expect("write");
        self.reply()
    }

    fn quit(mut self) {
        self.command("QUIT", 221);
    }
}

fn send(addr: SocketAddr, to: &[&str], message: &str) {
    let mut c = Client::connect(addr);
    assert_eq!(c.send("no-reply@portal.test", to, message), 250);
    c.quit();
}

fn simple(to: &str, subject: &str, body: &str) -> String {
    format!(
        "From: Portal <no-reply@portal.test>\r\nTo: {to}\r\nSubject: {subject}\r\n\r\n{body}\r\n"
    )
}

const RESET_MAIL: &str = concat!(
    "From: Example Portal <no-reply@portal.test>\r\n",
    "To: Pat Doe <pat@example.test>\r\n",
    "Subject: Reset your password\r\n",
    "MIME-Version: 1.0\r\n",
    "Content-Type: multipart/alternative; boundary=\"xyz\"\r\n",
    "\r\n",
    "--xyz\r\n",
    "Content-Type: text/plain; charset=utf-8\r\n",
    "Content-Transfer-Encoding: quoted-printable\r\n",
    "\r\n",
    "Choose a new password here:\r\n",
    "http://127.0.0.1:9/reset?token=3Dt0k3n\r\n",
    ".A line that starts with a dot.\r\n",
    "--xyz\r\n",
    "Content-Type: text/html; charset=utf-8\r\n",
    "Content-Transfer-Encoding: quoted-printable\r\n",
    "\r\n",
    "<p><a href=3D\"http://127.0.0.1:9/reset?token=3Dt0k3n\">Choose a new passwo=\r\n",
    "rd</a> &middot; <a href=3D\"mailto:help@portal.test\">Help</a></p>\r\n",
    "--xyz--\r\n",
);

#[test]
fn a_waiting_journey_wakes_when_the_portal_sends() {
    let sink = MailSink::start("127.0.0.1:0").expect("start");
    let addr = sink.addr();
    assert_ne!(addr.port(), 0);
    let since = Instant::now();
    let waiter = {
        let sink = sink.clone();
        thread::spawn(move || {
            let t = Instant::now();
            let m = sink.wait_for(
                "PAT@example.test",
                Some("reset"),
                since,
                Duration::from_secs(10),
            );
            (m, t.elapsed())
        })
    };
    thread::sleep(Duration::from_millis(200));
    send(addr, &["pat@example.test"], RESET_MAIL);
    let (mail, waited) = waiter.join().expect("waiter");
    let mail = mail.expect("the message arrived");
    // Woken by the delivery, not by the 10 s limit.
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");
    assert_eq!(mail.subject, "Reset your password");
    assert_eq!(mail.from, "Example Portal <no-reply@portal.test>");
    assert!(
        mail.text.contains("\n.A line that starts with a dot."),
        "{}",
        mail.text
    );
    assert_eq!(mail.links[0].text, "Choose a new password");
    assert_eq!(mail.links[0].href, "http://127.0.0.1:9/reset?token=t0k3n");
    assert_eq!(
        pick_link(&mail, Some("new password")).map(|l| l.href.as_str()),
        Some("http://127.0.0.1:9/reset?token=t0k3n")
    );
    assert!(
        mail.received_ms >= 150,
        "counted from `since`: {}",
        mail.received_ms
    );
    assert_eq!(sink.messages().len(), 1);
    assert!(sink.problems().is_empty(), "{:?}", sink.problems());
}

#[test]
fn messages_are_kept_per_recipient() {
    let sink = MailSink::start("127.0.0.1:0").expect("start");
    let since = Instant::now();
    // One message to two people, one of them only on the envelope (Bcc).
    send(
        sink.addr(),
        &["ann@example.test", "bob@example.test"],
        &simple("ann@example.test", "Welcome", "Hello"),
    );
    // A message for someone else entirely, on the same connection as another one.
    let mut c = Client::connect(sink.addr());
    assert_eq!(
        c.send(
            "no-reply@portal.test",
            &["cy@example.test"],
            &simple("cy@example.test", "Your code", "1234")
        ),
        250
    );
    assert_eq!(
        c.send(
            "no-reply@portal.test",
            &["ann@example.test"],
            &simple("ann@example.test", "Reminder", "Hi")
        ),
        250
    );
    c.quit();

    let short = Duration::from_millis(100);
    let bob = sink
        .wait_for("bob@example.test", None, since, short)
        .expect("bob's copy");
    assert_eq!(bob.subject, "Welcome");
    let cy = sink
        .wait_for("cy@example.test", None, since, short)
        .expect("cy's");
    assert_eq!(cy.subject, "Your code");
    // The newest message to Ann is the one a user would open.
    assert_eq!(
        sink.wait_for("ann@example.test", None, since, short)
            .map(|m| m.subject),
        Some("Reminder".into())
    );
    assert_eq!(
        sink.wait_for("ann@example.test", Some("welcome"), since, short)
            .map(|m| m.subject),
        Some("Welcome".into())
    );
    assert!(
        sink.wait_for("dee@example.test", None, since, short)
            .is_none()
    );
    assert!(
        sink.wait_for("cy@example.test", Some("Welcome"), since, short)
            .is_none()
    );
    assert_eq!(sink.messages().len(), 3);
}

#[test]
fn a_message_is_handed_out_once_per_journey() {
    let sink = MailSink::start("127.0.0.1:0").expect("start");
    let since = Instant::now();
    send(
        sink.addr(),
        &["pat@example.test"],
        &simple("pat@example.test", "Reset", "one message"),
    );
    let short = Duration::from_millis(200);
    assert!(
        sink.wait_for("pat@example.test", None, since, Duration::from_secs(5))
            .is_some()
    );
    // The same journey's second step does not take it again; another journey may.
    assert!(
        sink.wait_for("pat@example.test", None, since, short)
            .is_none()
    );
    let other = since - Duration::from_millis(1);
    assert!(
        sink.wait_for("pat@example.test", None, other, short)
            .is_some()
    );
}

#[test]
fn only_messages_since_the_given_instant_count() {
    let sink = MailSink::start("127.0.0.1:0").expect("start");
    send(
        sink.addr(),
        &["pat@example.test"],
        &simple("pat@example.test", "Old", "from an earlier journey"),
    );
    thread::sleep(Duration::from_millis(20));
    let since = Instant::now();
    assert!(
        sink.wait_for("pat@example.test", None, since, Duration::from_millis(100))
            .is_none()
    );
    send(
        sink.addr(),
        &["pat@example.test"],
        &simple("pat@example.test", "New", "this journey's"),
    );
    let m = sink
        .wait_for("pat@example.test", None, since, Duration::from_secs(5))
        .expect("new");
    assert_eq!(m.subject, "New");
}

#[test]
fn a_wait_with_nothing_to_come_ends_on_time() {
    let sink = MailSink::start("127.0.0.1:0").expect("start");
    let t = Instant::now();
    assert!(
        sink.wait_for("pat@example.test", None, t, Duration::from_millis(300))
            .is_none()
    );
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
    let reason = missing_reason(
        "pat@example.test",
        Some("Reset"),
        Duration::from_secs(30),
        &sink,
    );
    assert!(
        reason.starts_with("no message to pat@example.test with \"Reset\" in the subject"),
        "{reason}"
    );
    assert!(reason.contains(&sink.addr().to_string()), "{reason}");
}

#[test]
fn a_slow_sender_is_waited_for() {
    let sink = MailSink::start("127.0.0.1:0").expect("start");
    let addr = sink.addr();
    let since = Instant::now();
    let sender = thread::spawn(move || {
        let stream = TcpStream::connect(addr).expect("connect");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut writer = stream;
        let mut line = String::new();
        for cmd in [
            "HELO slow.test",
            "MAIL FROM:<a@slow.test>",
            "RCPT TO:<pat@example.test>",
            "DATA",
            "Subject: Slowly",
            "To: pat@example.test",
            "",
            "line one",
            "line two",
            ".",
            "QUIT",
        ] {
            // Between every line the portal's mailer dawdles.
            thread::sleep(Duration::from_millis(60));
            write!(writer, "{cmd}\r\n").expect("write");
            if matches!(cmd, "HELO slow.test" | "DATA" | "." | "QUIT")
                || cmd.starts_with("MAIL")
                || cmd.starts_with("RCPT")
            {
                line.clear();
                reader.read_line(&mut line).expect("reply");
            }
        }
    });
    let m = sink
        .wait_for("pat@example.test", None, since, Duration::from_secs(10))
        .expect("slow message");
    assert_eq!(m.subject, "Slowly");
    assert_eq!(m.text, "line one\nline two");
    sender.join().expect("sender");
}

#[test]
fn a_malformed_message_is_kept_and_reported_and_the_sink_goes_on() {
    let sink = MailSink::start("127.0.0.1:0").expect("start");
    let since = Instant::now();
    let mut c = Client::connect(sink.addr());
    // No header block at all, and a bare LF line ending from a sloppy mailer.
    assert_eq!(
        c.send(
            "x@portal.test",
            &["pat@example.test"],
            "\r\nthis is not an e-mail message at all"
        ),
        250
    );
    // Commands the protocol does not know are answered, not fatal.
    write!(c.writer, "BOGUS\r\n").expect("write");
    assert!(c.reply() >= 500);
    assert_eq!(
        c.send(
            "x@portal.test",
            &["pat@example.test"],
            &simple("pat@example.test", "Fine", "ok")
        ),
        250
    );
    c.quit();
    let mut raw = TcpStream::connect(sink.addr()).expect("connect");
    write!(raw, "HELO x\nMAIL FROM:<x@portal.test>\nRCPT TO:<lf@example.test>\nDATA\nSubject: LF only\n\nbody\n.\nQUIT\n").expect("write");
    let lf = sink
        .wait_for("lf@example.test", None, since, Duration::from_secs(5))
        .expect("bare-LF mailer's message");
    assert_eq!(lf.subject, "LF only");

    let all = sink.messages();
    assert_eq!(all.len(), 3);
    assert!(
        all[0].text.contains("this is not an e-mail message"),
        "{:?}",
        all[0]
    );
    assert_eq!(
        all[0].to,
        vec!["pat@example.test".to_string()],
        "the envelope still says who it was for"
    );
    let problems = sink.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("pat@example.test"), "{problems:?}");
}

#[test]
fn a_port_in_use_is_an_error_naming_the_address() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let err = MailSink::start(&addr).err().expect("the port is taken");
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    assert!(err.to_string().contains(&addr), "{err}");
    let err = MailSink::start("not-an-address")
        .err()
        .expect("bad address");
    assert!(err.to_string().contains("not-an-address"), "{err}");
}

#[test]
fn dropping_the_last_clone_frees_the_port() {
    let sink = MailSink::start("127.0.0.1:0").expect("start");
    let addr = sink.addr();
    let clone = sink.clone();
    drop(sink);
    // A clone keeps it serving.
    send(
        addr,
        &["pat@example.test"],
        &simple("pat@example.test", "Still here", "yes"),
    );
    assert_eq!(clone.messages().len(), 1);
    drop(clone);
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        if TcpListener::bind(addr).is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{addr} still taken after the sink was dropped"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn mailboxes_share_one_sink_per_address() {
    let boxes = Mailboxes::new();
    let free = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .to_string();
    let source = nocall::scenario::MailSource::Smtp(free.clone());
    let a = boxes.get(&source).expect("open");
    let b = boxes.get(&source).expect("again");
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(a.describe(), format!("SMTP {free}"));
}

fn maildir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir(dir.path().join(sub)).expect("mkdir");
    }
    dir
}

fn write_message(dir: &Path, sub: &str, name: &str, message: &str, modified: Option<SystemTime>) {
    let path = dir.join(sub).join(name);
    std::fs::write(&path, message).expect("write");
    if let Some(t) = modified {
        std::fs::File::options()
            .write(true)
            .open(&path)
            .expect("open")
            .set_modified(t)
            .expect("mtime");
    }
}

#[test]
fn a_maildir_is_read_from_new_and_cur_but_not_tmp() {
    let dir = maildir();
    let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
    write_message(
        dir.path(),
        "cur",
        "1.host:2,S",
        &simple("pat@example.test", "Read already", "old"),
        Some(an_hour_ago),
    );
    write_message(dir.path(), "new", "2.host", RESET_MAIL, None);
    write_message(
        dir.path(),
        "tmp",
        "3.host",
        &simple("pat@example.test", "Half written", "…"),
        None,
    );
    write_message(
        dir.path(),
        "new",
        ".hidden",
        &simple("pat@example.test", "Not mail", "…"),
        None,
    );
    let source = MaildirSource::open(dir.path()).expect("open");
    let subjects: Vec<String> = source.messages().into_iter().map(|m| m.subject).collect();
    assert_eq!(subjects, ["Read already", "Reset your password"]);

    let since = Instant::now() - Duration::from_secs(60);
    let m = source
        .wait_for("pat@example.test", None, since, Duration::from_millis(50))
        .expect("the recent one");
    assert_eq!(m.subject, "Reset your password");
    assert_eq!(m.links[0].href, "http://127.0.0.1:9/reset?token=t0k3n");
    // The hour-old message is older than `since`.
    assert!(
        source
            .wait_for(
                "pat@example.test",
                Some("Read already"),
                since,
                Duration::from_millis(50)
            )
            .is_none()
    );
    assert!(
        source
            .describe()
            .contains(&dir.path().display().to_string())
    );
    assert!(source.problems().is_empty(), "{:?}", source.problems());
    // A file that is no e-mail is kept as text and reported, not fatal.
    write_message(dir.path(), "new", "4.host", "\r\nnot a message", None);
    assert_eq!(source.messages().len(), 3);
    let problems = source.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("4.host"), "{problems:?}");
}

#[test]
fn a_maildir_wait_sees_a_message_delivered_later() {
    let dir = maildir();
    let source = MaildirSource::open(dir.path()).expect("open");
    let since = Instant::now();
    let root = dir.path().to_path_buf();
    let mailer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(250));
        // As a mailer does: written in tmp/, then moved into new/ whole.
        write_message(
            &root,
            "tmp",
            "9.host",
            &simple(
                "Pat@Example.test",
                "Unlock your account",
                "Unlock: http://x.test/unlock",
            ),
            None,
        );
        std::fs::rename(root.join("tmp/9.host"), root.join("new/9.host")).expect("rename");
    });
    let t = Instant::now();
    let m = source
        .wait_for(
            "pat@example.test",
            Some("unlock"),
            since,
            Duration::from_secs(5),
        )
        .expect("delivered");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert_eq!(m.links[0].text, "Unlock");
    mailer.join().expect("mailer");
    // Moving it on to cur/ does not make it two messages.
    std::fs::rename(
        dir.path().join("new/9.host"),
        dir.path().join("cur/9.host:2,S"),
    )
    .expect("rename");
    assert_eq!(source.messages().len(), 1);
}

// ---- `email` step diagnostics, through the binary against the example portal ----

mod common;

/// Runs the forgot-password journey of the example portal with `login`, waiting for mail to
/// `to` on an SMTP sink the portal sends to; returns (journey status, step reason, seconds).
fn reset_journey(login: &str, to: &str, within: &str) -> (String, String, f64) {
    let portal = common::portal();
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    portal.set_smtp_relay(Some(SocketAddr::from(([127, 0, 0, 1], port))));
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("reset.yaml");
    std::fs::write(
        &file,
        format!(
            "name: Reset\nstart: {base}/\nmail:\n  smtp: 127.0.0.1:{port}\nsteps:\n  - open: /confer/forgot\n\
             \x20 - fill:\n      User Name or Email: {login}\n  - click: Send reset link\n\
             \x20 - email: {{to: {to}, within: {within}}}\n",
            base = portal.base_url()
        ),
    )
    .expect("scenario");
    let started = Instant::now();
    let output = common::nocall()
        .args(["run", "--format", "json", "--out"])
        .arg(dir.path().join("out"))
        .arg(&file)
        .output()
        .expect("nocall runs");
    let took = started.elapsed().as_secs_f64();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    let scenario = &report["scenarios"][0];
    (
        scenario["status"].as_str().unwrap_or_default().to_string(),
        scenario["reason"].as_str().unwrap_or_default().to_string(),
        took,
    )
}

#[test]
fn a_miss_lists_what_arrived_and_the_nearest_recipient() {
    // The portal mails the account's own address; the journey waits for another.
    let (status, reason, _) = reset_journey("pdoe-web", "pat@example.test", "3s");
    assert_eq!(status, "blocked", "{reason}");
    assert!(
        reason.contains("no message to pat@example.test arrived within 3s"),
        "{reason}"
    );
    assert!(
        reason.contains("to pat.registered@example.test \"Reset your BridgeLine password\" at "),
        "{reason}"
    );
    assert!(reason.contains("links \""), "{reason}");
    assert!(
        reason.contains("The nearest recipient is pat.registered@example.test"),
        "{reason}"
    );
    assert!(!reason.contains("stopped waiting early"), "{reason}");
}

#[test]
fn the_wait_ends_early_when_the_page_shows_an_error() {
    // "We could not find that account." (role=alert): no mail is coming.
    let (status, reason, took) = reset_journey("pat@example.test", "pat@example.test", "45s");
    assert_eq!(status, "blocked", "{reason}");
    assert!(
        reason.contains("stopped waiting early (not the full 45s) because the page shows an error: \"We could not find that account.\""),
        "{reason}"
    );
    assert!(reason.contains("no other message arrived"), "{reason}");
    assert!(took < 30.0, "waited {took:.1}s");
}

#[test]
fn a_message_that_arrived_before_the_step_meant_to_send_it_is_not_taken() {
    let sink = MailSink::start("127.0.0.1:0").expect("sink");
    let journey = Instant::now();
    let mut c = Client::connect(sink.addr());
    let old = "From: p@portal.test\r\nTo: pat@example.test\r\nSubject: Reset\r\n\r\nold https://x.test/old\r\n";
    assert_eq!(c.send("p@portal.test", &["pat@example.test"], old), 250);
    // The step that asks for the message starts after the first one arrived.
    let step = Instant::now();
    let none = sink.wait_for_after(
        "pat@example.test",
        None,
        journey,
        step,
        Duration::from_millis(300),
    );
    assert!(
        none.is_none(),
        "took a message sent before the step: {none:?}"
    );
    let new = "From: p@portal.test\r\nTo: pat@example.test\r\nSubject: Reset\r\n\r\nnew https://x.test/new\r\n";
    assert_eq!(c.send("p@portal.test", &["pat@example.test"], new), 250);
    let got = sink
        .wait_for_after(
            "pat@example.test",
            None,
            journey,
            step,
            Duration::from_secs(5),
        )
        .expect("the new message");
    assert!(got.text.contains("x.test/new"), "{got:?}");
    // Without the later boundary, the journey-wide wait still sees the old one.
    let old_one = sink
        .wait_for("pat@example.test", None, journey, Duration::from_secs(1))
        .expect("the old message");
    assert!(old_one.text.contains("x.test/old"), "{old_one:?}");
    c.quit();
}
