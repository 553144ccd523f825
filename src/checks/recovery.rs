//! Recovery and e-mail checks: `email-missing`, `recovery-dead-end`, `dead-email-link`.
//!
//! "Forgot password" is where a first-time user goes when the front door fails, so a broken
//! recovery flow all but guarantees a call. These checks read the trace (the journey's pages,
//! its `email` steps, the messages captured) and the status of the links found in those
//! messages, probed after the journeys by [`crate::probe`]. They never open a link
//! themselves: a reset link is often good for one click.

use std::collections::HashSet;

use super::{Audit, Check};
use crate::finding::{Finding, Kind};
use crate::probe::status::{MailLinkStatus, Probes};
use crate::trace::{
    FailureKind, JourneyStatus, Mail, MailLink, Outcome, PageState, StepKind, StepTrace, Trace,
};

pub(super) struct Recovery;

impl Check for Recovery {
    fn name(&self) -> &'static str {
        "recovery"
    }

    fn run(&self, audit: &Audit<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for t in audit.traces {
            out.extend(email_missing(t));
            out.extend(dead_end(t));
            out.extend(dead_email_links(t, audit.probes));
        }
        out
    }
}

/// `email-missing`: an `email` step waited and nothing came.
fn email_missing(t: &Trace) -> Vec<Finding> {
    t.steps
        .iter()
        .filter(|s| s.kind == StepKind::Email)
        .filter_map(|s| {
            let Outcome::Failed {
                kind: FailureKind::MailNeverCame,
                reason,
            } = &s.outcome
            else {
                return None;
            };
            let page = t.page_before(s.index);
            let url = page
                .map(|p| p.url.clone())
                .unwrap_or_else(|| t.start_url.clone());
            // What the portal told the user to expect, in its own words.
            let promise = page.and_then(|p| find_sentence(&p.text, PROMISE_PHRASES));
            let message = match &promise {
                Some(p) => format!("The page says \"{p}\", but no e-mail comes: {reason}."),
                None => format!("The e-mail the user waits for never comes: {reason}."),
            };
            Some(
                Finding::new(Kind::EmailMissing, &url, s.action.clone(), message)
                    .blocking()
                    .at(t, Some(s.index))
                    .excerpt(promise.unwrap_or_else(|| reason.clone())),
            )
        })
        .collect()
}

/// Sentences a page uses to say a message is on its way.
const PROMISE_PHRASES: &[&str] = &[
    "e-mail",
    "email",
    "inbox",
    "sent you",
    "we have sent",
    "we've sent",
    "check your",
];

/// `recovery-dead-end`: a recovery journey that could not complete.
fn dead_end(t: &Trace) -> Option<Finding> {
    if t.status != JourneyStatus::Blocked || !is_recovery(t) {
        return None;
    }
    let step = t
        .blocked_at_step
        .and_then(|i| t.steps.iter().find(|s| s.index == i))
        .or_else(|| t.steps.iter().find(|s| !s.outcome.is_done()))?;
    let reason = match &step.outcome {
        Outcome::Failed { reason, .. } => reason.clone(),
        Outcome::Done => t.reason.clone().unwrap_or_default(),
    };
    // The page the user is left on: the stuck step's own, else the last one before it.
    let (page_step, page) = t
        .steps
        .iter()
        .filter(|s| s.index <= step.index)
        .rev()
        .find_map(|s| s.page.as_ref().map(|p| (s.index, p)))?;

    let quote = find_sentence(&page.text, ERROR_PHRASES);
    let mut what = Vec::new();
    if let Some(q) = &quote {
        what.push(format!("the page says \"{q}\""));
    }
    if let Some(seen) = came_back(t, page_step, page) {
        what.push(format!(
            "it brings them back to {seen}, a page they had already seen, with nothing gained"
        ));
    }
    if support_only(page) {
        what.push("it ends on a page whose only way forward is to contact support".to_string());
    }
    if what.is_empty() {
        what.push(reason.clone());
    }
    let message = format!(
        "A user who cannot get in follows {} to recover their access, and cannot: {}.",
        recovery_entry(t),
        what.join("; ")
    );
    Some(
        Finding::new(
            Kind::RecoveryDeadEnd,
            &page.url,
            step.action.clone(),
            message,
        )
        .blocking()
        .at(t, Some(step.index))
        .excerpt(quote.unwrap_or(reason)),
    )
}

/// Tagged `recovery`, or it went through a control or page that says it is one.
fn is_recovery(t: &Trace) -> bool {
    t.tags
        .iter()
        .any(|tag| tag.eq_ignore_ascii_case("recovery"))
        || t.steps.iter().any(|s| {
            s.clicked.as_ref().is_some_and(|c| {
                says_recovery(&c.name) || c.href.as_deref().is_some_and(says_recovery)
            }) || s
                .page
                .as_ref()
                .is_some_and(|p| says_recovery(&p.url) || says_recovery(&p.title))
        })
}

/// How the message names where recovery started: the control clicked, else the page.
fn recovery_entry(t: &Trace) -> String {
    let clicked = t
        .steps
        .iter()
        .filter_map(|s| s.clicked.as_ref())
        .find(|c| says_recovery(&c.name) || c.href.as_deref().is_some_and(says_recovery));
    if let Some(c) = clicked {
        return format!("\"{}\"", c.name);
    }
    let page = t
        .steps
        .iter()
        .filter_map(|s| s.page.as_ref())
        .find(|p| says_recovery(&p.url) || says_recovery(&p.title));
    match page {
        Some(p) if !p.title.is_empty() => format!("\"{}\"", p.title),
        Some(p) => p.path(),
        None => "the recovery steps".to_string(),
    }
}

/// Words of recovery, as controls, titles and URLs spell them: "Forgot password?",
/// `/password-reset`, `ForgotPassword.aspx`, "Trouble signing in?", "Unlock account".
fn says_recovery(text: &str) -> bool {
    let lower = text.to_lowercase().replace(['’', '\''], "");
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    const STEMS: &[&str] = &["forgot", "reset", "unlock", "recover"];
    // Run-together words in URLs and file names: `passwordreset`, `accountrecovery`.
    const PREFIXES: &[&str] = &[
        "", "password", "pass", "pin", "account", "user", "login", "username",
    ];
    let stem_word = words.iter().any(|w| {
        PREFIXES
            .iter()
            .filter_map(|p| w.strip_prefix(p))
            .any(|rest| STEMS.iter().any(|s| rest.starts_with(s)))
    });
    let spaced = format!(" {} ", words.join(" "));
    const PHRASES: &[&str] = &[
        " trouble signing in ",
        " trouble logging in ",
        " trouble signing on ",
        " cant sign in ",
        " cannot sign in ",
        " cant log in ",
        " cannot log in ",
        " lost password ",
        " lost your password ",
    ];
    stem_word || PHRASES.iter().any(|p| spaced.contains(p))
}

/// What an error on a page says: "We could not find that account", "This link has expired".
const ERROR_PHRASES: &[&str] = &[
    "could not find",
    "couldn't find",
    "cannot find",
    "can't find",
    "not recognised",
    "not recognized",
    "does not exist",
    "doesn't exist",
    "no account",
    "not registered",
    "expired",
    "invalid",
    "no longer valid",
    "not valid",
    "not found",
    "incorrect",
    "unable to",
    "something went wrong",
];

/// The first sentence of `text` that contains one of `phrases` (case aside), trimmed.
fn find_sentence(text: &str, phrases: &[&str]) -> Option<String> {
    let text = text.replace('’', "'");
    sentences(&text)
        .find(|s| {
            let lower = s.to_lowercase();
            phrases.iter().any(|p| lower.contains(p))
        })
        .map(|s| clip(s, 240))
}

/// Lines, then sentences within a line (a full stop, `!` or `?` followed by a space).
fn sentences(text: &str) -> impl Iterator<Item = &str> {
    text.lines().flat_map(|line| {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = line.as_bytes();
        for (i, c) in line.char_indices() {
            if matches!(c, '.' | '!' | '?') && bytes.get(i + 1).is_some_and(|b| *b == b' ') {
                out.extend(line.get(start..=i));
                start = i + 1;
            }
        }
        out.extend(line.get(start..));
        out.into_iter().map(str::trim).filter(|s| !s.is_empty())
    })
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{}…", cut.trim_end())
}

/// The page the journey ends on, when it is one it had already left once: a loop.
fn came_back(t: &Trace, page_step: usize, page: &PageState) -> Option<String> {
    let path = page.path();
    let earlier: Vec<&StepTrace> = t.steps.iter().filter(|s| s.index < page_step).collect();
    let first_seen = earlier
        .iter()
        .position(|s| s.page.as_ref().is_some_and(|p| p.path() == path))?;
    // Only a return counts: the journey must have been somewhere else in between.
    let left = earlier
        .iter()
        .skip(first_seen + 1)
        .any(|s| s.page.as_ref().is_some_and(|p| p.path() != path));
    if !left {
        return None;
    }
    Some(if page.title.is_empty() {
        path
    } else {
        format!("\"{}\"", page.title)
    })
}

/// A page with nothing to fill in whose words send the user to support.
fn support_only(page: &PageState) -> bool {
    const SUPPORT: &[&str] = &[
        "contact support",
        "contact customer",
        "contact us",
        "call us",
        "call support",
        "call customer",
        "customer service",
        "help desk",
        "helpdesk",
    ];
    let lower = page.text.to_lowercase();
    !page.fields.iter().any(|f| f.visible && f.is_text_like())
        && SUPPORT.iter().any(|s| lower.contains(s))
}

/// `dead-email-link`: a link in a message the portal sent fails.
fn dead_email_links(t: &Trace, probes: &Probes) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, mail) in t.mails.iter().enumerate() {
        let step = t.steps.iter().find(|s| s.mail == Some(i));
        let followed = step.and_then(|s| followed_link(s, mail));
        let mut done = HashSet::new();
        for link in &mail.links {
            if !done.insert(link.href.as_str()) {
                continue;
            }
            let Some(status) = probes.mail_links.get(&link.href) else {
                continue;
            };
            if status.ok {
                continue;
            }
            let on_path = followed == Some(link.href.as_str());
            out.push(dead_link_finding(t, step, mail, link, status, on_path));
        }
    }
    out
}

/// The link an `email` step opened: as recorded, else the one the step's page came from.
fn followed_link<'m>(step: &StepTrace, mail: &'m Mail) -> Option<&'m str> {
    if let Some(f) = &step.followed {
        return mail
            .links
            .iter()
            .find(|l| &l.href == f)
            .map(|l| l.href.as_str());
    }
    let url = &step.page.as_ref()?.url;
    mail.links
        .iter()
        .find(|l| &l.href == url)
        .map(|l| l.href.as_str())
}

fn dead_link_finding(
    t: &Trace,
    step: Option<&StepTrace>,
    mail: &Mail,
    link: &MailLink,
    status: &MailLinkStatus,
    on_path: bool,
) -> Finding {
    let name = if link.text.is_empty() || link.text == link.href {
        format!("The link {}", link.href)
    } else {
        format!("The link \"{}\"", link.text)
    };
    let in_mail = if mail.subject.is_empty() {
        "in the portal's e-mail".to_string()
    } else {
        format!("in the e-mail \"{}\"", mail.subject)
    };
    let detail = if status.detail.is_empty() {
        "it fails"
    } else {
        status.detail.as_str()
    };
    let mut message = if let Some(w) = &status.withheld {
        format!("{name} {in_mail} was {}.", w.said())
    } else if status.scanner_broke_it {
        format!(
            "{name} {in_mail} works only once: a mail scanner (Outlook Safe Links and the like) that \
             opens links before the user does uses it up, and the user then meets: {detail}."
        )
    } else if status.unverified {
        format!("{name} {in_mail} could not be verified: {detail}.")
    } else {
        format!("{name} {in_mail} does not work: {detail}.")
    };
    if on_path {
        message.push_str(" The journey needs this link to go on.");
    }
    let element = format!("link \"{}\" in e-mail \"{}\"", link.text, mail.subject);
    let mut f = Finding::new(
        Kind::DeadEmailLink,
        &stable_link(&link.href),
        element,
        message,
    );
    // Shown as sent; the id above leaves out the one-time token, so it holds across runs.
    f.url = link.href.clone();
    let index = step.map(|s| s.index);
    let stuck_after = match (index, t.blocked_at_step) {
        (Some(i), Some(b)) => b >= i,
        _ => false,
    };
    f = if status.unverified || status.withheld.is_some() {
        f.warning().on_path(on_path)
    } else if on_path && t.status == JourneyStatus::Blocked && stuck_after {
        f.blocking()
    } else {
        f.on_path(on_path)
    };
    f.at(t, index).excerpt(mail_excerpt(mail, link))
}

/// The URL with path segments that look like one-time tokens replaced, and no query.
fn stable_link(href: &str) -> String {
    let Ok(mut u) = url::Url::parse(href) else {
        return href.to_string();
    };
    let path: Vec<String> = u
        .path()
        .split('/')
        .map(|seg| {
            if looks_like_token(seg) {
                "{token}".to_string()
            } else {
                seg.to_string()
            }
        })
        .collect();
    u.set_path(&path.join("/"));
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

fn looks_like_token(seg: &str) -> bool {
    let tokenish = seg
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '='));
    let digits = seg.chars().any(|c| c.is_ascii_digit());
    tokenish && ((seg.len() >= 16 && digits) || seg.len() >= 32)
}

/// The message's own words around the link: the line that holds it, else the subject.
fn mail_excerpt(mail: &Mail, link: &MailLink) -> String {
    let line = mail.text.lines().map(str::trim).find(|l| {
        !l.is_empty()
            && (l.contains(&link.href) || (!link.text.is_empty() && l.contains(&link.text)))
    });
    clip(line.unwrap_or(&mail.subject), 240)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::finding::Severity;
    use crate::trace::{Clicked, Field};

    fn run(traces: &[Trace], probes: &Probes) -> Vec<Finding> {
        let config = Config::default();
        Recovery.run(&Audit {
            traces,
            config: &config,
            probes,
        })
    }

    fn page(url: &str, title: &str, text: &str) -> Option<PageState> {
        Some(PageState {
            url: url.into(),
            title: title.into(),
            text: text.into(),
            ..PageState::default()
        })
    }

    fn step(index: usize, action: &str, page: Option<PageState>) -> StepTrace {
        StepTrace {
            index,
            line: index + 10,
            action: action.into(),
            page,
            ..StepTrace::default()
        }
    }

    fn failed(kind: FailureKind, reason: &str) -> Outcome {
        Outcome::Failed {
            kind,
            reason: reason.into(),
        }
    }

    /// The teleconference story: "Forgot password?" for a user the portal never registered.
    fn forgot_for_unknown_user(status: JourneyStatus) -> Trace {
        let mut click = step(
            2,
            "click \"Forgot password?\"",
            page(
                "http://127.0.0.1:9/account/help",
                "Account help",
                "Enter your owner number.",
            ),
        );
        click.kind = StepKind::Click;
        click.clicked = Some(Clicked {
            name: "Forgot password?".into(),
            role: "link".into(),
            ..Clicked::default()
        });
        let mut submit = step(
            3,
            "click \"Send\"",
            page(
                "http://127.0.0.1:9/account/help",
                "Account help",
                "Account help\nSorry. We could not find that account. Please check the number and try again.",
            ),
        );
        submit.kind = StepKind::Click;
        let mut expect = step(4, "expect text \"Check your e-mail\"", None);
        expect.kind = StepKind::Expect;
        if status == JourneyStatus::Blocked {
            expect.outcome = failed(
                FailureKind::ExpectNotSeen,
                "\"Check your e-mail\" is not on the page",
            );
        }
        Trace {
            scenario: "forgot password".into(),
            file: "scenarios/forgot.yaml".into(),
            start_url: "http://127.0.0.1:9/".into(),
            status,
            blocked_at_step: (status == JourneyStatus::Blocked).then_some(4),
            steps: vec![
                step(
                    1,
                    "open /login",
                    page(
                        "http://127.0.0.1:9/login",
                        "Sign in",
                        "Sign in\nForgot password?",
                    ),
                ),
                click,
                submit,
                expect,
            ],
            ..Trace::default()
        }
    }

    #[test]
    fn recovery_dead_end_quotes_the_page() {
        let found = run(
            &[forgot_for_unknown_user(JourneyStatus::Blocked)],
            &Probes::default(),
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.kind, Kind::RecoveryDeadEnd);
        assert!(f.blocking);
        assert_eq!(f.step, Some(4));
        assert_eq!(f.url, "http://127.0.0.1:9/account/help");
        assert!(f.message.contains("\"Forgot password?\""), "{}", f.message);
        assert!(
            f.message.contains("\"We could not find that account.\""),
            "{}",
            f.message
        );
        assert_eq!(f.evidence.html_excerpt, "We could not find that account.");
        assert_eq!(f.occurrences[0].line, Some(14));
    }

    #[test]
    fn completed_or_non_recovery_journeys_are_no_dead_end() {
        assert!(
            run(
                &[forgot_for_unknown_user(JourneyStatus::Completed)],
                &Probes::default()
            )
            .is_empty()
        );
        // Blocked, but a plain sign-in: journey-blocked's business, not recovery's.
        let mut t = forgot_for_unknown_user(JourneyStatus::Blocked);
        t.steps[1].clicked = Some(Clicked {
            name: "Next".into(),
            role: "button".into(),
            ..Clicked::default()
        });
        for s in &mut t.steps {
            if let Some(p) = &mut s.page {
                p.url = "http://127.0.0.1:9/login".into();
                p.title = "Sign in".into();
            }
        }
        assert!(run(&[t], &Probes::default()).is_empty());
        // A journey that could not run at all is nobody's dead end.
        let mut t = forgot_for_unknown_user(JourneyStatus::Blocked);
        t.status = JourneyStatus::Error;
        assert!(run(&[t], &Probes::default()).is_empty());
    }

    #[test]
    fn tagged_journeys_count_as_recovery_and_fall_back_to_the_reason() {
        let mut t = Trace {
            scenario: "unlock".into(),
            tags: vec!["Recovery".into()],
            status: JourneyStatus::Blocked,
            blocked_at_step: Some(2),
            steps: vec![
                step(
                    1,
                    "open /start",
                    page("http://x.test/start", "Welcome", "Hello"),
                ),
                step(2, "click \"Continue\"", None),
            ],
            ..Trace::default()
        };
        t.steps[1].outcome = failed(FailureKind::ControlMissing, "no control named \"Continue\"");
        let found = run(&[t], &Probes::default());
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("no control named \"Continue\""),
            "{}",
            found[0].message
        );
        assert!(
            found[0].message.contains("the recovery steps"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn loops_and_support_only_pages_are_said() {
        let mut t = Trace {
            scenario: "reset".into(),
            status: JourneyStatus::Blocked,
            blocked_at_step: Some(4),
            steps: vec![
                step(
                    1,
                    "open /login",
                    page("http://x.test/login", "Sign in", "Sign in"),
                ),
                step(
                    2,
                    "click \"Reset password\"",
                    page("http://x.test/password-reset", "Reset", "Your e-mail"),
                ),
                step(
                    3,
                    "click \"Send\"",
                    page(
                        "http://x.test/login",
                        "Sign in",
                        "To reset a password, contact support on 555-0100.",
                    ),
                ),
                step(4, "expect text \"Check your inbox\"", None),
            ],
            ..Trace::default()
        };
        t.steps[3].outcome = failed(
            FailureKind::ExpectNotSeen,
            "\"Check your inbox\" is not on the page",
        );
        let found = run(&[t.clone()], &Probes::default());
        assert_eq!(found.len(), 1);
        let m = &found[0].message;
        assert!(m.contains("\"Reset\""), "{m}");
        assert!(m.contains("back to \"Sign in\""), "{m}");
        assert!(m.contains("only way forward is to contact support"), "{m}");
        // With a field to fill, the page is not support-only.
        if let Some(p) = &mut t.steps[2].page {
            p.fields.push(Field {
                name: "Username".into(),
                role: "textbox".into(),
                tag: "input".into(),
                visible: true,
                ..Field::default()
            });
        }
        let found = run(&[t], &Probes::default());
        assert!(
            !found[0].message.contains("contact support"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn recovery_words() {
        for yes in [
            "Forgot password?",
            "Forgotten your PIN?",
            "http://x.test/account/password-reset",
            "http://x.test/ForgotPassword.aspx",
            "http://x.test/passwordreset",
            "Trouble signing in?",
            "Unlock account",
            "Account recovery",
            "Can’t sign in?",
        ] {
            assert!(says_recovery(yes), "{yes}");
        }
        for no in [
            "Sign in",
            "Presets",
            "http://x.test/settings/preset",
            "Resources",
            "Welcome back",
        ] {
            assert!(!says_recovery(no), "{no}");
        }
    }

    fn waited(outcome: Outcome) -> Trace {
        let mut email = step(3, "email to pat@example.test", None);
        email.kind = StepKind::Email;
        email.outcome = outcome;
        Trace {
            scenario: "reset by mail".into(),
            status: JourneyStatus::Blocked,
            blocked_at_step: Some(3),
            steps: vec![
                step(
                    1,
                    "open /forgot",
                    page("http://x.test/forgot", "Forgot password", "Forgot password"),
                ),
                step(
                    2,
                    "click \"Send link\"",
                    page(
                        "http://x.test/forgot/sent",
                        "Sent",
                        "Thanks! We have sent you an e-mail with a link. It is valid for 30 minutes.",
                    ),
                ),
                email,
            ],
            ..Trace::default()
        }
    }

    #[test]
    fn email_missing_quotes_the_promise() {
        let t = waited(failed(
            FailureKind::MailNeverCame,
            "no message to pat@example.test arrived within 30s (reading SMTP 127.0.0.1:2525)",
        ));
        let found: Vec<Finding> = run(&[t], &Probes::default())
            .into_iter()
            .filter(|f| f.kind == Kind::EmailMissing)
            .collect();
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert!(f.blocking);
        assert_eq!(f.step, Some(3));
        assert_eq!(f.url, "http://x.test/forgot/sent");
        assert_eq!(
            f.evidence.html_excerpt,
            "We have sent you an e-mail with a link."
        );
        assert!(
            f.message.contains("no message to pat@example.test"),
            "{}",
            f.message
        );
    }

    #[test]
    fn email_steps_failing_otherwise_are_not_email_missing() {
        let t = waited(failed(
            FailureKind::MailWithoutLink,
            "the message has no link containing \"Reset\"",
        ));
        assert!(
            run(&[t], &Probes::default())
                .iter()
                .all(|f| f.kind != Kind::EmailMissing)
        );
        let mut t = waited(Outcome::Done);
        t.status = JourneyStatus::Completed;
        t.blocked_at_step = None;
        assert!(
            run(&[t], &Probes::default())
                .iter()
                .all(|f| f.kind != Kind::EmailMissing)
        );
    }

    fn with_mail(followed: Option<&str>, blocked: bool) -> Trace {
        let mut t = waited(Outcome::Done);
        t.status = if blocked {
            JourneyStatus::Blocked
        } else {
            JourneyStatus::Completed
        };
        t.blocked_at_step = blocked.then_some(4);
        t.steps[2].mail = Some(0);
        t.steps[2].followed = followed.map(String::from);
        t.steps[2].page = page(
            "http://x.test/reset/9f8e7d6c5b4a39281706",
            "Oops",
            "This link has expired.",
        );
        t.mails = vec![Mail {
            subject: "Reset your password".into(),
            to: vec!["pat@example.test".into()],
            text: "Choose a new password: http://x.test/reset/9f8e7d6c5b4a39281706\nHelp: http://x.test/help".into(),
            links: vec![
                MailLink {
                    text: "Choose a new password".into(),
                    href: "http://x.test/reset/9f8e7d6c5b4a39281706".into(),
                },
                MailLink {
                    text: "Help".into(),
                    href: "http://x.test/help".into(),
                },
            ],
            ..Mail::default()
        }];
        t
    }

    fn status(ok: bool, detail: &str, scanner: bool) -> MailLinkStatus {
        MailLinkStatus {
            ok,
            detail: detail.into(),
            scanner_broke_it: scanner,
            ..MailLinkStatus::default()
        }
    }

    #[test]
    fn dead_email_links_follow_the_probes() {
        let mut probes = Probes::default();
        probes.mail_links.insert(
            "http://x.test/help".into(),
            status(false, "404 Not Found", false),
        );
        probes.mail_links.insert(
            "http://x.test/reset/9f8e7d6c5b4a39281706".into(),
            status(true, "200 OK", false),
        );
        let found: Vec<Finding> = run(
            &[with_mail(
                Some("http://x.test/reset/9f8e7d6c5b4a39281706"),
                false,
            )],
            &probes,
        )
        .into_iter()
        .filter(|f| f.kind == Kind::DeadEmailLink)
        .collect();
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.url, "http://x.test/help");
        assert!(!f.on_path);
        assert!(!f.blocking);
        assert_eq!(f.severity, Severity::Problem);
        assert_eq!(f.step, Some(3));
        assert!(f.message.contains("\"Help\""), "{}", f.message);
        assert!(
            f.message.contains("\"Reset your password\""),
            "{}",
            f.message
        );
        assert!(f.message.contains("404 Not Found"), "{}", f.message);
        assert_eq!(f.evidence.html_excerpt, "Help: http://x.test/help");
    }

    #[test]
    fn a_scanner_burnt_link_on_the_path_blocks_and_says_why() {
        let mut probes = Probes::default();
        probes.mail_links.insert(
            "http://x.test/reset/9f8e7d6c5b4a39281706".into(),
            status(false, "the page says \"This link has expired\"", true),
        );
        // Not recorded as followed: found by the page the step landed on.
        let found = run(&[with_mail(None, true)], &probes);
        let f = found
            .iter()
            .find(|f| f.kind == Kind::DeadEmailLink)
            .unwrap_or_else(|| panic!("no dead-email-link in {found:#?}"));
        assert!(f.on_path);
        assert!(f.blocking);
        assert!(
            f.message.contains("mail scanner (Outlook Safe Links"),
            "{}",
            f.message
        );
        assert!(
            f.message.contains("The journey needs this link"),
            "{}",
            f.message
        );
        // The id leaves out the token: another run's link gives the same id.
        let mut other = with_mail(Some("http://x.test/reset/0a1b2c3d4e5f60718293"), true);
        other.mails[0].links[0].href = "http://x.test/reset/0a1b2c3d4e5f60718293".into();
        let mut probes2 = Probes::default();
        probes2.mail_links.insert(
            "http://x.test/reset/0a1b2c3d4e5f60718293".into(),
            status(false, "gone", true),
        );
        let again = run(&[other], &probes2);
        let g = again
            .iter()
            .find(|f| f.kind == Kind::DeadEmailLink)
            .unwrap_or_else(|| panic!("no dead-email-link in {again:#?}"));
        assert_eq!(f.id, g.id);
    }

    #[test]
    fn unprobed_or_working_links_and_unverified_ones() {
        assert!(
            run(&[with_mail(None, false)], &Probes::default())
                .iter()
                .all(|f| f.kind != Kind::DeadEmailLink)
        );
        let mut probes = Probes::default();
        let mut s = status(false, "403 Forbidden (bot blocking)", false);
        s.unverified = true;
        probes.mail_links.insert("http://x.test/help".into(), s);
        let found = run(&[with_mail(None, false)], &probes);
        let f = found
            .iter()
            .find(|f| f.kind == Kind::DeadEmailLink)
            .unwrap_or_else(|| panic!("no finding in {found:#?}"));
        assert_eq!(f.severity, Severity::Warning);
        assert!(f.message.contains("could not be verified"), "{}", f.message);
    }

    #[test]
    fn sentences_split_on_stops_followed_by_a_space() {
        let s: Vec<&str> =
            sentences("Hi. We could not find that account! Call 555.0100 now?\nNext line")
                .collect();
        assert_eq!(
            s,
            [
                "Hi.",
                "We could not find that account!",
                "Call 555.0100 now?",
                "Next line"
            ]
        );
    }
}
