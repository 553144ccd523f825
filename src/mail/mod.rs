//! Mail capture: the messages a portal sends during a journey, as the user would get them.
//!
//! Three sources, one trait: an SMTP sink nocall runs itself ([`MailSink`], for a portal that
//! can be pointed at an SMTP server), a maildir folder a local mailer writes to
//! ([`MaildirSource`]) and an IMAP mailbox staging's mail system delivers to
//! ([`ImapSource`]). Both keep every message, answer "has a message to this address
//! arrived since then?" ([`MailSource::wait_for`]), and hand back [`Mail`] values ready
//! for the trace. This module never opens a link in a message: a reset link is often good
//! for one click only, and that click belongs to the journey.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::normalize::normalize;
use crate::secrets::Secrets;
use crate::trace::{Mail, MailLink};

mod imap;
mod keep;
mod maildir;
pub(crate) mod onetime;
mod parse;
mod smtp;

pub use imap::ImapSource;
pub use keep::MailLimits;
pub use maildir::MaildirSource;
pub use parse::parse;
pub use smtp::MailSink;

/// Where the messages of a run come from.
pub trait MailSource: Send + Sync {
    /// Waits until a message to `to` (any recipient, compared case-insensitively; and whose
    /// subject contains `subject`, case-insensitively, when given) that arrived at or after
    /// `since` is there, for at most `within`. When several are there, the newest wins: it is
    /// the one a user would open. The returned message's `received_ms` counts from `since`.
    ///
    /// A message is handed out at most once for the same `since` (one journey's start) and
    /// recipient: a
    /// second `email` step of a journey never takes the message an earlier one took, so a
    /// portal that sends one message where the journey needs two is caught.
    fn wait_for(
        &self,
        to: &str,
        subject: Option<&str>,
        since: Instant,
        within: Duration,
    ) -> Option<Mail> {
        self.wait_for_after(to, subject, since, since, within)
    }

    /// [`Self::wait_for`] for one journey (`journey`, its start: what keys the messages
    /// handed out), taking only a message that arrived at or after `after` (a later moment
    /// of the journey, such as the start of the step meant to make the portal send it).
    /// `received_ms` counts from `journey`.
    fn wait_for_after(
        &self,
        to: &str,
        subject: Option<&str>,
        journey: Instant,
        after: Instant,
        within: Duration,
    ) -> Option<Mail>;

    /// Every message so far, oldest first; `received_ms` counts from when the source opened.
    fn messages(&self) -> Vec<Mail>;

    /// The messages that arrived at or after `since`, oldest first, `received_ms` counting
    /// from `since`: what a journey that waited in vain can be shown did arrive.
    fn arrived_since(&self, since: Instant) -> Vec<Mail> {
        let _ = since;
        Vec::new()
    }

    /// Where it listens or reads, for messages: `SMTP 127.0.0.1:2525`, `maildir ./mail`.
    fn describe(&self) -> String;

    /// What could not be read cleanly (a message with no headers, a broken encoding, a
    /// session cut off), one sentence each. Never fatal: a portal's broken mail is evidence.
    fn problems(&self) -> Vec<String>;

    /// What this source dropped or refused for its [`MailLimits`], in one sentence naming
    /// the source; `None` when nothing was.
    fn cut(&self) -> Option<String> {
        None
    }

    /// The address an SMTP sink listens on (so a portal can be pointed at it).
    fn smtp_addr(&self) -> Option<std::net::SocketAddr> {
        None
    }
}

/// The reason an `email` step fails with when nothing arrived in time. Traces written
/// before failures had kinds are told apart by how it starts (see [`crate::trace`]).
pub fn missing_reason(
    to: &str,
    subject: Option<&str>,
    within: Duration,
    source: &dyn MailSource,
) -> String {
    let about = match subject {
        Some(s) => format!(" with \"{s}\" in the subject"),
        None => String::new(),
    };
    let cut = source
        .cut()
        .map(|c| format!("; it may be among what was not kept: {c}"))
        .unwrap_or_default();
    format!(
        "no message to {to}{about} arrived within {} (reading {}){cut}",
        human_duration(within),
        source.describe()
    )
}

/// What a miss adds to its reason: the messages that did arrive in the journey's window
/// (to, subject, when, link texts; the newest few) and the recipient nearest the one
/// waited for — the mail that went to `sam.taylor@students.uni.test` instead. Empty when
/// nothing arrived. Masking is the caller's (the step's reason is masked as a whole).
pub fn arrived_instead(to: &str, arrived: &[Mail]) -> String {
    const SHOWN: usize = 5;
    if arrived.is_empty() {
        return "; no other message arrived either".to_string();
    }
    let listed: Vec<String> = arrived
        .iter()
        .rev()
        .take(SHOWN)
        .map(|m| {
            let links: Vec<String> = m
                .links
                .iter()
                .filter(|l| !l.text.trim().is_empty())
                .take(3)
                .map(|l| format!("\"{}\"", clip(l.text.trim(), 60)))
                .collect();
            let links = if links.is_empty() {
                "no links".to_string()
            } else {
                format!("links {}", links.join(", "))
            };
            format!(
                "to {} \"{}\" at {} ({links})",
                if m.to.is_empty() {
                    "(no recipient)".to_string()
                } else {
                    m.to.join(", ")
                },
                clip(m.subject.trim(), 80),
                human_duration(Duration::from_millis(m.received_ms)),
            )
        })
        .collect();
    let more = match arrived.len().saturating_sub(SHOWN) {
        0 => String::new(),
        n => format!("; and {n} older"),
    };
    let want = parse::bare_address(to).to_lowercase();
    let nearest = arrived
        .iter()
        .flat_map(|m| &m.to)
        .map(|a| (strsim::jaro_winkler(&want, &a.to_lowercase()), a))
        .max_by(|x, y| x.0.total_cmp(&y.0))
        .map(|(_, a)| format!(". The nearest recipient is {a}"))
        .unwrap_or_default();
    format!(
        "; what arrived meanwhile, newest first: {}{more}{nearest}",
        listed.join("; ")
    )
}

/// `text` cut to `max` characters, with `…` where it was cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn human_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// Does this message answer a wait for `to` and `subject`?
pub fn matches(mail: &Mail, to: &str, subject: Option<&str>) -> bool {
    let to = parse::bare_address(to);
    mail.to.iter().any(|a| a.eq_ignore_ascii_case(&to))
        && subject.is_none_or(|s| mail.subject.to_lowercase().contains(&s.to_lowercase()))
}

/// Why a message's link may not be opened by a journey, if it may not: nocall opens only
/// http and https links, so a `file:` or `chrome:` link in a message never reads the
/// machine nocall runs on.
pub(crate) fn unopenable(href: &str) -> Option<String> {
    let scheme = url::Url::parse(href)
        .map(|u| u.scheme().to_string())
        .unwrap_or_else(|_| {
            href.split_once(':')
                .map(|(s, _)| s.trim().to_ascii_lowercase())
                .unwrap_or_default()
        });
    if matches!(scheme.as_str(), "http" | "https") {
        return None;
    }
    let what = if scheme.is_empty() {
        "not a web address".to_string()
    } else {
        format!("a {scheme}: address")
    };
    Some(format!(
        "the link in the message is {what}; nocall opens only http and https links"
    ))
}

/// The link an `email` step opens: the first whose text contains `follow` (compared as a
/// person reads it: case, spacing and punctuation aside), else the first whose address
/// contains it; without `follow`, the first web link (a `mailto:` is not where a journey
/// goes on).
pub fn pick_link<'m>(mail: &'m Mail, follow: Option<&str>) -> Option<&'m MailLink> {
    let web = |l: &&MailLink| {
        let h = l.href.to_ascii_lowercase();
        h.starts_with("http://") || h.starts_with("https://")
    };
    match follow {
        None => mail.links.iter().find(web),
        Some(f) => {
            let want = normalize(f);
            let lower = f.to_lowercase();
            mail.links
                .iter()
                .find(|l| !want.is_empty() && normalize(&l.text).contains(&want))
                .or_else(|| {
                    mail.links
                        .iter()
                        .find(|l| l.href.to_lowercase().contains(&lower))
                })
        }
    }
}

/// The message with every secret value masked, for the trace.
pub fn masked(mail: &Mail, secrets: &Secrets) -> Mail {
    let secrets = &onetime::with_mailed(mail, secrets);
    let m = |s: &str| secrets.mask(s).into_owned();
    Mail {
        from: m(&mail.from),
        to: mail.to.iter().map(|a| m(a)).collect(),
        subject: m(&mail.subject),
        text: m(&mail.text),
        links: mail
            .links
            .iter()
            .map(|l| MailLink {
                text: m(&l.text),
                href: m(&l.href),
            })
            .collect(),
        received_ms: mail.received_ms,
    }
}

/// The mail sources of a run, opened once each and shared by every journey that names them
/// (several journeys may run at once against the same SMTP address).
#[derive(Default)]
pub struct Mailboxes {
    open: Mutex<Vec<(crate::scenario::MailSource, Arc<dyn MailSource>)>>,
    limits: MailLimits,
}

impl Mailboxes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sources that each keep at most what `limits` allows.
    pub fn with_limits(limits: MailLimits) -> Self {
        Mailboxes {
            limits,
            ..Self::default()
        }
    }

    /// What the sources opened so far dropped or refused: the kind of source (`SMTP`,
    /// `maildir`, `IMAP`) and one sentence, for each that cut anything.
    pub fn cut(&self) -> Vec<(String, String)> {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.iter()
            .filter_map(|(_, s)| {
                let kind = s.describe().split(' ').next().unwrap_or("mail").to_string();
                s.cut().map(|c| (kind, c))
            })
            .collect()
    }

    /// The source a scenario's `mail` key names, opening it on first use. The error names
    /// the address or folder and what went wrong (port in use, folder missing).
    pub fn get(
        &self,
        source: &crate::scenario::MailSource,
    ) -> std::io::Result<Arc<dyn MailSource>> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, s)) = open.iter().find(|(k, _)| k == source) {
            return Ok(Arc::clone(s));
        }
        let opened: Arc<dyn MailSource> = match source {
            crate::scenario::MailSource::Smtp(addr) => {
                Arc::new(MailSink::start_with(addr, self.limits)?)
            }
            crate::scenario::MailSource::Maildir(path) => {
                Arc::new(MaildirSource::open_with(path, self.limits)?)
            }
            crate::scenario::MailSource::Imap(account) => {
                Arc::new(ImapSource::open_with(account, self.limits)?)
            }
        };
        open.push((source.clone(), Arc::clone(&opened)));
        Ok(opened)
    }

    /// Opens every source the scenarios name, before any journey starts, so a port in use
    /// or a missing folder stops the run with the address named.
    pub(crate) fn open_all(&self, scenarios: &[crate::scenario::Scenario]) -> Result<(), String> {
        for s in scenarios {
            if let Some(source) = &s.mail {
                self.get(source)
                    .map_err(|e| format!("{}: {e}", s.file.display()))?;
            }
        }
        Ok(())
    }

    /// The addresses of the SMTP sinks opened so far.
    pub fn smtp_addrs(&self) -> Vec<std::net::SocketAddr> {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.iter().filter_map(|(_, s)| s.smtp_addr()).collect()
    }
}

/// When a wait of `within` from now ends; a wait too long to represent is cut to a year.
fn deadline(within: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(within)
        .or_else(|| now.checked_add(Duration::from_secs(365 * 24 * 3600)))
        .unwrap_or(now)
}

/// Milliseconds from `from` to `to`, 0 when `to` is earlier.
fn millis_between(from: Instant, to: Instant) -> u64 {
    u64::try_from(to.saturating_duration_since(from).as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(to: &[&str], subject: &str, links: &[(&str, &str)]) -> Mail {
        Mail {
            to: to.iter().map(|s| s.to_string()).collect(),
            subject: subject.into(),
            links: links
                .iter()
                .map(|(t, h)| MailLink {
                    text: t.to_string(),
                    href: h.to_string(),
                })
                .collect(),
            ..Mail::default()
        }
    }

    #[test]
    fn matching_ignores_case_and_angle_brackets() {
        let m = mail(
            &["Pat@Example.test", "other@example.test"],
            "Reset your password",
            &[],
        );
        assert!(matches(&m, "pat@example.test", None));
        assert!(matches(&m, "<PAT@example.test>", Some("reset")));
        assert!(!matches(&m, "pat@example.test", Some("Welcome")));
        assert!(!matches(&m, "pa@example.test", None));
    }

    #[test]
    fn picks_links_by_text_then_address_and_skips_mailto_by_default() {
        let m = mail(
            &["p@x.test"],
            "s",
            &[
                ("write to us", "mailto:help@x.test"),
                ("Choose a new password", "https://x.test/reset?t=1"),
                ("https://x.test/unlock/2", "https://x.test/unlock/2"),
            ],
        );
        assert_eq!(
            pick_link(&m, None).map(|l| l.href.as_str()),
            Some("https://x.test/reset?t=1")
        );
        assert_eq!(
            pick_link(&m, Some("new PASSWORD")).map(|l| l.href.as_str()),
            Some("https://x.test/reset?t=1")
        );
        assert_eq!(
            pick_link(&m, Some("/unlock/")).map(|l| l.href.as_str()),
            Some("https://x.test/unlock/2")
        );
        assert!(pick_link(&m, Some("Verify")).is_none());
    }

    #[test]
    fn masking_covers_every_text() {
        let mut secrets = Secrets::new();
        secrets.add("s3cret");
        let m = mail(
            &["p@x.test"],
            "Your PIN s3cret",
            &[("s3cret", "https://x.test/?pin=s3cret")],
        );
        let out = masked(
            &Mail {
                text: "PIN: s3cret".into(),
                ..m
            },
            &secrets,
        );
        let json = serde_json::to_string(&out).unwrap_or_default();
        assert!(!json.contains("s3cret"), "{json}");
        assert!(json.contains(crate::secrets::MASK));
    }
}
