//! An IMAP mailbox as the mail source, against a real Dovecot (Debian's `dovecot-imapd`).
//!
//! Each test starts its own Dovecot on loopback: its own config file in a temp dir, two
//! free ports (IMAP, and IMAPS with a certificate `openssl` makes at test time), a
//! passwd-file with one throw-away user, and maildir storage in the temp dir. No system
//! service is touched. The example portal's mail reaches it as it would on a staging
//! machine: the portal sends over SMTP to a mail relay (here a few lines of SMTP in the
//! test), which hands each message to Dovecot's delivery agent, `dovecot-lda` — the way
//! Postfix's `mailbox_command` delivers into Dovecot. So what nocall reads arrived by
//! delivery, with the flags, UIDs and IDLE notifications a real delivery brings, not by an
//! IMAP APPEND only a test would do.
//!
//! Run as root (as CI is): Dovecot's login processes refuse to run as root and its mail
//! processes refuse UID 0, so the login and internal services keep their defaults (the
//! `dovenull` and `dovecot` users the package creates) and the mailbox belongs to the
//! `dovecot` user (a system UID, so `first_valid_uid = 1`), which then owns the mail folder. As another user, every service runs as
//! that user (`default_login_user`, `default_internal_user`) and so does the mailbox.
//!
//! Without Dovecot installed the tests say so and pass, unless `NOCALL_REQUIRE_DOVECOT=1`
//! (CI sets it, after installing the package), where its absence fails them.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{nocall, portal};

const USER: &str = "qa@example.test";
const PASSWORD: &str = "Dovecot-test-pw-81";
const DOVECOT: &str = "/usr/sbin/dovecot";
const LDA: &str = "/usr/lib/dovecot/dovecot-lda";

/// A Dovecot of the test's own, stopped when dropped.
struct Dovecot {
    dir: tempfile::TempDir,
    child: Child,
    imap: u16,
    imaps: u16,
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // Our own child, by its id: the master stops its services when it ends.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn user_name() -> String {
    let out = Command::new("id").arg("-un").output().expect("id runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Starts Dovecot, or `None` when it is not installed (and not required).
fn dovecot() -> Option<Dovecot> {
    dovecot_with("")
}

/// [`dovecot`], with `extra` lines of configuration.
fn dovecot_with(extra: &str) -> Option<Dovecot> {
    if !Path::new(DOVECOT).exists() || !Path::new(LDA).exists() {
        assert!(
            std::env::var("NOCALL_REQUIRE_DOVECOT").as_deref() != Ok("1"),
            "Dovecot is required here: apt-get install dovecot-imapd"
        );
        eprintln!("skipped: Dovecot is not installed (apt-get install dovecot-imapd)");
        return None;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    for sub in ["run", "state", "mail"] {
        std::fs::create_dir(d.join(sub)).expect("folder");
    }
    let openssl = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(d.join("key.pem"))
        .arg("-out")
        .arg(d.join("cert.pem"))
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(openssl.success(), "openssl made no certificate");
    std::fs::write(d.join("passwd"), format!("{USER}:{{PLAIN}}{PASSWORD}\n")).expect("passwd");

    let root = user_name() == "root";
    let (services, mail_user) = if root {
        // The package's own users; the mail folder must be theirs to write.
        let chown = Command::new("chown")
            .args(["-R", "dovecot:dovecot"])
            .arg(d.join("mail"))
            .status()
            .expect("chown runs");
        assert!(chown.success());
        // Every folder above it must let the `dovecot` user through.
        let chmod = Command::new("chmod")
            .arg("755")
            .arg(d)
            .status()
            .expect("chmod runs");
        assert!(chmod.success());
        (String::new(), "dovecot".to_string())
    } else {
        let me = user_name();
        (
            format!("default_login_user = {me}\ndefault_internal_user = {me}\n"),
            me,
        )
    };
    let (imap, imaps) = (free_port(), free_port());
    let p = |s: &str| d.join(s).display().to_string();
    let config = format!(
        "base_dir = {run}\nstate_dir = {state}\nlog_path = {log}\nprotocols = imap\n\
         listen = 127.0.0.1\n{services}ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}\n\
         disable_plaintext_auth = no\nauth_mechanisms = plain login\nfirst_valid_uid = 1\n\
         passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {passwd}\n}}\n\
         userdb {{\n  driver = static\n  args = uid={mail_user} gid={mail_user} home={mail}/%u mail=maildir:{mail}/%u/Maildir\n}}\n\
         service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {imap}\n  }}\n\
         \x20 inet_listener imaps {{\n    address = 127.0.0.1\n    port = {imaps}\n    ssl = yes\n  }}\n  chroot =\n}}\n\
         service anvil {{\n  chroot =\n}}\n{extra}",
        run = p("run"),
        state = p("state"),
        log = p("dovecot.log"),
        cert = p("cert.pem"),
        key = p("key.pem"),
        passwd = p("passwd"),
        mail = p("mail"),
    );
    std::fs::write(d.join("dovecot.conf"), config).expect("config");
    let child = Command::new(DOVECOT)
        .arg("-F")
        .arg("-c")
        .arg(d.join("dovecot.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dovecot starts");
    let dovecot = Dovecot {
        dir,
        child,
        imap,
        imaps,
    };
    // Ready when it greets on both ports.
    let until = Instant::now() + Duration::from_secs(20);
    for port in [imap, imaps] {
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < until,
                "Dovecot did not listen: {}",
                std::fs::read_to_string(dovecot.dir.path().join("dovecot.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Some(dovecot)
}

impl Dovecot {
    fn config(&self) -> PathBuf {
        self.dir.path().join("dovecot.conf")
    }

    /// Delivers one message as the mail system would (`dovecot-lda`).
    fn deliver(&self, message: &[u8]) {
        deliver(&self.config(), message);
    }

    /// The flags of every message in the inbox, read over plain IMAP.
    fn flags(&self) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", self.imap)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut r = BufReader::new(s.try_clone().expect("clone"));
        let mut all = String::new();
        let mut line = String::new();
        r.read_line(&mut line).expect("greeting");
        for (tag, cmd) in [
            ("a", format!("LOGIN {USER} {PASSWORD}")),
            ("b", "SELECT INBOX".into()),
            ("c", "FETCH 1:* (UID FLAGS)".into()),
            ("d", "LOGOUT".into()),
        ] {
            write!(s, "{tag} {cmd}\r\n").expect("write");
            loop {
                line.clear();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                all.push_str(&line);
                if line.starts_with(&format!("{tag} ")) {
                    break;
                }
            }
        }
        all
    }
}

fn deliver(config: &Path, message: &[u8]) {
    let mut lda = Command::new(LDA)
        .arg("-c")
        .arg(config)
        .args(["-d", USER, "-f", "no-reply@portal.test"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dovecot-lda runs");
    lda.stdin
        .take()
        .expect("stdin")
        .write_all(message)
        .expect("message written");
    let done = lda.wait_with_output().expect("lda ends");
    let log = config.with_file_name("dovecot.log");
    assert!(
        done.status.success(),
        "dovecot-lda refused the message: {}\n{}",
        String::from_utf8_lossy(&done.stderr),
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// The staging mail relay: takes the portal's SMTP and delivers every message, whatever its
/// recipient, into the one test mailbox (a catch-all, as test mail systems are set up).
fn relay(config: PathBuf) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let config = config.clone();
            std::thread::spawn(move || {
                let _ = smtp_session(stream, &config);
            });
        }
    });
    addr
}

fn smtp_session(stream: TcpStream, config: &Path) -> std::io::Result<()> {
    let mut w = stream.try_clone()?;
    let mut r = BufReader::new(stream);
    w.write_all(b"220 relay.test ESMTP\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => w.write_all(b"250-relay.test\r\n250 8BITMIME\r\n")?,
            "DATA" => {
                w.write_all(b"354 go on\r\n")?;
                let mut message = Vec::new();
                loop {
                    let mut l = Vec::new();
                    if r.read_until(b'\n', &mut l)? == 0 {
                        return Ok(());
                    }
                    if l == b".\r\n" || l == b".\n" {
                        break;
                    }
                    let l = if l.starts_with(b"..") {
                        &l[1..]
                    } else {
                        &l[..]
                    };
                    message.extend_from_slice(l);
                }
                deliver(config, &message);
                w.write_all(b"250 delivered\r\n")?;
            }
            "QUIT" => {
                w.write_all(b"221 bye\r\n")?;
                return Ok(());
            }
            _ => w.write_all(b"250 ok\r\n")?,
        }
    }
}

/// The forgot-password journey of the example portal, ending on the mailed link.
fn journey(dir: &Path, base: &str, mail: &str, login: &str, within: &str) -> PathBuf {
    let file = dir.join("reset.yaml");
    let text = format!(
        "name: Reset through the mailed link\nstart: {base}/\n{mail}\
         steps:\n  - open: /confer/forgot\n  - fill:\n      User Name or Email: {login}\n\
         \x20 - click: Send reset link\n\
         \x20 - email: {{to: pat.registered@example.test, subject: Reset, within: {within}}}\n\
         \x20 - expect: Choose a new password\n"
    );
    std::fs::write(&file, text).expect("scenario");
    file
}

fn mail_key(url: &str, extra: &str) -> String {
    format!(
        "mail:\n  imap: {url}\n  user: {USER}\n  password: \"{{env:QA_MAIL_PASSWORD}}\"\n{extra}"
    )
}

/// Runs one scenario; returns (exit code, report or Null, stderr, the journey's trace text).
fn run(file: &Path) -> (i32, serde_json::Value, String, String) {
    let out = tempfile::tempdir().expect("out");
    let output = nocall()
        .env("QA_MAIL_PASSWORD", PASSWORD)
        .args(["run", "--format", "json", "--out"])
        .arg(out.path())
        .arg(file)
        .output()
        .expect("nocall runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_default();
    let trace = report["scenarios"][0]["trace"]
        .as_str()
        .and_then(|rel| std::fs::read_to_string(out.path().join(rel)).ok())
        .unwrap_or_default();
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD) && !trace.contains(PASSWORD));
    (output.status.code().unwrap_or(-1), report, stderr, trace)
}

#[test]
fn an_email_step_is_served_over_imap_and_imaps_and_the_message_is_marked_seen() {
    let Some(dovecot) = dovecot() else { return };
    let portal = portal();
    portal.set_smtp_relay(Some(relay(dovecot.config())));
    let dir = tempfile::tempdir().expect("dir");
    // A reset message already in the mailbox before the run is never taken: its link is
    // not the portal's, and it would open a page that does not exist.
    dovecot.deliver(
        b"From: no-reply@portal.test\r\nTo: pat.registered@example.test\r\nSubject: Reset (old)\r\n\r\nOld link: http://127.0.0.1:1/old-reset\r\n",
    );
    for mail in [
        mail_key(&format!("imap://127.0.0.1:{}/INBOX", dovecot.imap), ""),
        mail_key(
            &format!("imaps://127.0.0.1:{}/INBOX", dovecot.imaps),
            "  tls_insecure: true\n",
        ),
    ] {
        let file = journey(dir.path(), &portal.base_url(), &mail, "pdoe-web", "20s");
        let (code, report, stderr, trace) = run(&file);
        assert_eq!(
            (code, report["scenarios"][0]["status"].as_str()),
            (0, Some("completed")),
            "{mail}\n{stderr}\n{trace}"
        );
        assert!(trace.contains("/confer/reset?token="), "{trace}");
        assert!(!trace.contains("old-reset"), "{trace}");
    }
    // Both messages the journeys used are \Seen; the old one is not.
    let flags = dovecot.flags();
    let lines: Vec<&str> = flags.lines().filter(|l| l.contains("FETCH (")).collect();
    assert_eq!(lines.len(), 3, "{flags}");
    assert!(!lines[0].contains("\\Seen"), "{flags}");
    assert!(
        lines[1].contains("\\Seen") && lines[2].contains("\\Seen"),
        "{flags}"
    );
}

#[test]
fn a_server_without_idle_is_read_again_until_the_message_comes() {
    // The capabilities Dovecot announces after login, IDLE left out.
    let Some(dovecot) =
        dovecot_with("imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+\n")
    else {
        return;
    };
    let caps = dovecot.flags();
    assert!(
        caps.contains("CAPABILITY") && !caps.contains("IDLE"),
        "{caps}"
    );
    let portal = portal();
    portal.set_smtp_relay(Some(relay(dovecot.config())));
    let dir = tempfile::tempdir().expect("dir");
    let mail = mail_key(&format!("imap://127.0.0.1:{}/INBOX", dovecot.imap), "");
    let file = journey(dir.path(), &portal.base_url(), &mail, "pdoe-web", "20s");
    let (code, report, stderr, trace) = run(&file);
    assert_eq!(
        (code, report["scenarios"][0]["status"].as_str()),
        (0, Some("completed")),
        "{stderr}\n{trace}"
    );
}

#[test]
fn imaps_with_a_self_signed_certificate_is_refused_without_tls_insecure() {
    let Some(dovecot) = dovecot() else { return };
    let dir = tempfile::tempdir().expect("dir");
    let mail = mail_key(&format!("imaps://127.0.0.1:{}/INBOX", dovecot.imaps), "");
    let file = journey(dir.path(), "http://127.0.0.1:1", &mail, "pdoe-web", "5s");
    let (code, _, stderr, _) = run(&file);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("certificate is not trusted"), "{stderr}");
    assert!(stderr.contains("tls_insecure: true"), "{stderr}");
    assert!(
        stderr.contains(&format!("imaps://127.0.0.1:{}/INBOX", dovecot.imaps)),
        "{stderr}"
    );

    // A wrong password is refused at the start too, naming the user only.
    let wrong = tempfile::tempdir().expect("dir");
    let mail = mail_key(&format!("imap://127.0.0.1:{}/INBOX", dovecot.imap), "");
    let file = journey(wrong.path(), "http://127.0.0.1:1", &mail, "pdoe-web", "5s");
    let output = nocall()
        .env("QA_MAIL_PASSWORD", "not-the-password-77")
        .args(["run", "--out"])
        .arg(wrong.path().join("out"))
        .arg(&file)
        .output()
        .expect("nocall runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("refused the login of qa@example.test"),
        "{stderr}"
    );
    assert!(!stderr.contains("not-the-password-77"), "{stderr}");
}

#[test]
fn an_oversized_message_is_never_fetched_and_the_oldest_are_dropped_past_the_limits() {
    use nocall::mail::{ImapSource, MailLimits, MailSource};
    let Some(dovecot) = dovecot() else { return };
    let account = nocall::scenario::ImapAccount {
        url: url::Url::parse(&format!("imap://127.0.0.1:{}/INBOX", dovecot.imap)).expect("url"),
        user: USER.into(),
        password: PASSWORD.into(),
        tls_insecure: false,
    };
    let source = ImapSource::open_with(
        &account,
        MailLimits {
            messages: 2,
            bytes: 1 << 20,
        },
    )
    .expect("the mailbox opens");
    let journey = Instant::now();
    let big = format!("{}\r\n", "x".repeat(998)).repeat(2 * 1024);
    dovecot.deliver(
        format!("From: p@portal.test\r\nTo: other@example.test\r\nSubject: Huge\r\n\r\n{big}")
            .as_bytes(),
    );
    for i in 0..3 {
        dovecot.deliver(
            format!(
                "From: p@portal.test\r\nTo: other@example.test\r\nSubject: Bulk {i}\r\n\r\nbulk\r\n"
            )
            .as_bytes(),
        );
    }
    dovecot.deliver(
        b"From: p@portal.test\r\nTo: pat@example.test\r\nSubject: Welcome\r\n\r\nhttp://127.0.0.1:1/welcome\r\n",
    );
    let got = source.wait_for("pat@example.test", None, journey, Duration::from_secs(20));
    assert!(got.is_some_and(|m| m.subject == "Welcome"));
    let subjects: Vec<String> = source.messages().into_iter().map(|m| m.subject).collect();
    assert_eq!(subjects, ["Bulk 2", "Welcome"]);
    let cut = source.cut().unwrap_or_default();
    assert!(
        cut.contains("dropped the 2 oldest messages")
            && cut.contains("refused 1 message larger than 1 MiB"),
        "{cut}"
    );
}
