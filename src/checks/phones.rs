//! `phone-invalid`, `phone-mismatch`, `phone-unreachable`: the phone numbers a journey
//! showed, on its pages and in the mail the portal sent.
//!
//! A number is one problem wherever a journey shows it (on a page or in a message): it is
//! reported once, where it was first shown, named by its E.164 form. Invalid and
//! fiction numbers are `phone-invalid` unless support's directory or the lookup says the
//! line is live (test portals use fiction numbers on purpose); a `tel:` link that dials
//! another number than it shows, or nothing at all, is `phone-mismatch` (one finding for
//! the link, whatever else is wrong with its numbers); a line the directory lists as
//! disconnected or the lookup says is not live, and a page promising "24/7" for a line the
//! directory gives hours to, are `phone-unreachable`. A number that neither the directory
//! nor a lookup covers is unverified: never reported as dead. When the same support line
//! (the same words before the number) is shown with different numbers on different pages,
//! the findings say so. Pure: what the network said arrives in [`Probes::phones`].

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::common::{Findings, blocked_on_page, clip};
use super::{Audit, Check};
use crate::finding::{Finding, Kind};
use crate::phones::find::{fiction_range, own_part};
use crate::phones::{FoundPhone, Place, locate, places};
use crate::probe::status::{PhoneProbes, Reachability};
use crate::trace::{Cut, thousands, url_path};

pub(super) struct Phones;

impl Check for Phones {
    fn name(&self) -> &'static str {
        "phones"
    }

    fn run(&self, audit: &Audit<'_>) -> Vec<Finding> {
        let places = places(audit.traces, audit.config);
        let lines = SupportLines::of(&places);
        let probes = &audit.probes.phones;
        let mut out = Findings::default();
        for place in &places {
            check_place(place, probes, &lines, &mut out);
        }
        out.into_vec()
    }
}

/// One number shown at a place, wherever it came from.
struct Shown<'p> {
    found: &'p FoundPhone,
    /// Where it sits in the place's text, when it is there.
    at: Option<Range<usize>>,
    /// The `tel:` link it came from, for the excerpt.
    link: Option<(&'p str, &'p str)>,
}

fn check_place(place: &Place<'_>, probes: &PhoneProbes, lines: &SupportLines, out: &mut Findings) {
    if let Some(cut) = &place.cut {
        out.push(cut_warning(place, cut));
    }
    let on_path = place
        .step
        .is_some_and(|s| place.subject.is_none() && blocked_on_page(place.trace, s, &place.url));
    let finish = |f: Finding| f.on_path(on_path).at(place.trace, place.step);

    // Links first: a link that dials another number is one problem, whatever else is
    // wrong with the two numbers, and is reported as that one problem.
    let mut in_mismatch: BTreeSet<&str> = BTreeSet::new();
    for tel in &place.tels {
        let excerpt = format!("<a href=\"{}\">{}</a>", tel.href, tel.text);
        let element = format!("tel: link \"{}\"{}", clip(tel.text, 60), in_message(place));
        match (&tel.dials, &tel.shown) {
            (Err(why), _) => {
                let message = format!(
                    "The link \"{}\"{} cannot be dialled: `{}` — {why}. A user who taps it \
                     gets an error instead of a call.",
                    clip(tel.text, 60),
                    in_message(place),
                    clip(tel.href, 80)
                );
                out.push(finish(
                    Finding::new(Kind::PhoneMismatch, &place.url, element, message)
                        .everywhere(&format!("tel {}", tel.href))
                        .excerpt(excerpt),
                ));
            }
            (Ok(dials), Some(shown)) if dials.e164 != shown.e164 => {
                in_mismatch.insert(&shown.e164);
                in_mismatch.insert(&dials.e164);
                let mut message = format!(
                    "The link{} shows {} but dials {}: a user who taps it calls another number \
                     than the one they read.",
                    in_message(place),
                    written(shown),
                    written(dials)
                );
                for n in [shown, dials] {
                    if let Some(range) = fiction_range(&n.e164) {
                        message.push_str(&format!(" {} is in {range}.", n.e164));
                    } else if let Some(problem) = n.problem.as_deref().filter(|_| !n.valid) {
                        message.push_str(&format!(" {} is not a valid number: {problem}.", n.e164));
                    }
                }
                let covered = [&shown.e164, &dials.e164]
                    .iter()
                    .any(|n| probes.reachability(n) != Reachability::Unverified);
                if !covered {
                    message.push_str(
                        " Neither number is in the phone directory or a lookup, so whether \
                         either is answered is unverified.",
                    );
                }
                out.push(finish(
                    Finding::new(Kind::PhoneMismatch, &place.url, element, message)
                        .everywhere(&format!("{} dials {}", shown.e164, dials.e164))
                        .excerpt(excerpt),
                ));
            }
            _ => {}
        }
    }

    // Every number once, from the text first (it has a place in it), then the links.
    let mut shown: BTreeMap<&str, Shown<'_>> = BTreeMap::new();
    for f in &place.numbers {
        shown.entry(&f.e164).or_insert(Shown {
            found: f,
            at: Some(f.span.clone()),
            link: None,
        });
    }
    for tel in &place.tels {
        if let Ok(d) = &tel.dials {
            shown.entry(&d.e164).or_insert(Shown {
                found: d,
                at: locate(place.text, tel.text),
                link: Some((tel.href, tel.text)),
            });
        }
    }

    for (e164, s) in &shown {
        let f = s.found;
        let element = format!("phone number {e164}{}", in_message(place));
        let excerpt = match (s.link, &s.at) {
            (_, Some(at)) => line_around(place.text, at.clone()),
            (Some((href, text)), None) => format!("<a href=\"{href}\">{text}</a>"),
            (None, None) => f.raw.clone(),
        };
        let written = written(f);
        let elsewhere =
            s.at.as_ref()
                .map(|at| lines.elsewhere(place, at.clone(), e164))
                .unwrap_or_default();
        let known = probes.reachability(e164);
        match &known {
            Reachability::Dead { by } => {
                let message = format!(
                    "{}{written} is {by}: a user who calls it gets no answer.{elsewhere}",
                    shows(place)
                );
                out.push(finish(
                    Finding::new(Kind::PhoneUnreachable, &place.url, element.clone(), message)
                        .everywhere(e164)
                        .excerpt(excerpt.clone()),
                ));
            }
            Reachability::Live {
                hours: Some(hours),
                by,
            } => {
                let promise =
                    s.at.as_ref()
                        .and_then(|at| promise_around(place, at.clone()));
                if let Some(promise) = promise.filter(|_| !ALWAYS.is_match(hours)) {
                    let message = format!(
                        "{}{written} with the promise \"{promise}\", but {by} gives its hours \
                         as \"{hours}\": a user who calls outside them gets no answer.{elsewhere}",
                        shows(place)
                    );
                    out.push(finish(
                        Finding::new(Kind::PhoneUnreachable, &place.url, element.clone(), message)
                            .everywhere(&format!("{e164} hours"))
                            .excerpt(excerpt.clone()),
                    ));
                }
            }
            Reachability::Live { hours: None, .. } | Reachability::Unverified => {}
        }
        // Support's word that a line is live or dead settles it; a mismatched link is
        // already one finding.
        if known != Reachability::Unverified || in_mismatch.contains(*e164) {
            continue;
        }
        let problem = if let Some(range) = fiction_range(e164) {
            Some(format!(
                "{}{written}, a number in {range}: no one answers it. Unless the phone \
                 directory lists it as live, it cannot be the support line it is shown as.",
                shows(place)
            ))
        } else if !f.valid {
            Some(format!(
                "{}{}, which cannot be dialled: {}.",
                shows(place),
                f.raw,
                f.problem.as_deref().unwrap_or("not a valid number")
            ))
        } else {
            None
        };
        if let Some(message) = problem {
            out.push(finish(
                Finding::new(
                    Kind::PhoneInvalid,
                    &place.url,
                    element,
                    format!("{message}{elsewhere}"),
                )
                .everywhere(e164)
                .excerpt(excerpt),
            ));
        }
    }
}

/// `(415) 555-2671 (+14155552671)`, or the E.164 form alone when that is how it is written.
fn written(f: &FoundPhone) -> String {
    if f.raw == f.e164 {
        f.raw.clone()
    } else {
        format!("{} ({})", f.raw, f.e164)
    }
}

/// "The page shows " / "The message \"Subject\" shows ".
fn shows(place: &Place<'_>) -> String {
    match place.subject {
        Some(subject) => format!("The message \"{}\" shows ", clip(subject, 60)),
        None => "The page shows ".to_string(),
    }
}

/// "" for a page; " in the message \"Subject\"" for a message.
fn in_message(place: &Place<'_>) -> String {
    place
        .subject
        .map(|s| format!(" in the message \"{}\"", clip(s, 60)))
        .unwrap_or_default()
}

/// The line of text a number sits on, trimmed for an excerpt.
fn line_around(text: &str, at: Range<usize>) -> String {
    let start = text
        .get(..at.start)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |b| b + 1);
    let end = text
        .get(at.end..)
        .and_then(|t| t.find('\n'))
        .map_or(text.len(), |b| at.end + b);
    clip(text.get(start..end).unwrap_or_default(), 300)
}

/// Words that promise a line is always staffed.
static ALWAYS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b24\s*/\s*7\b|\b24\s*[x×]\s*7\b|\b24\s*(?:hours|hrs|h)\b(?:\s*a\s*day)?|\b(?:a)?round[- ]the[- ]clock\b|\bday\s+(?:and|or)\s+night\b|\bnight\s+and\s+day\b|\bany\s?time\b|\balways\s+(?:open|available|there)\b",
    )
    .unwrap_or_else(|e| unreachable!("fixed pattern: {e}"))
});

/// The promise of round-the-clock service made for a number: in its own element, list
/// item, table row or sentence ([`own_part`]), never in a neighbouring entry's.
fn promise_around(place: &Place<'_>, at: Range<usize>) -> Option<String> {
    let others: Vec<Range<usize>> = place.numbers.iter().map(|f| f.span.clone()).collect();
    let own = own_part(place.text, at, &others);
    ALWAYS
        .find(place.text.get(own)?)
        .map(|m| m.as_str().to_string())
}

/// Which numbers each support line (named by the words before its number) is shown with,
/// and where.
struct SupportLines {
    by_label: BTreeMap<String, BTreeMap<String, (String, String)>>,
}

impl SupportLines {
    fn of(places: &[Place<'_>]) -> Self {
        let mut by_label: BTreeMap<String, BTreeMap<String, (String, String)>> = BTreeMap::new();
        for place in places {
            for f in &place.numbers {
                if let Some(label) = line_label(place.text, f.span.clone()) {
                    by_label
                        .entry(label)
                        .or_default()
                        .entry(f.e164.clone())
                        .or_insert_with(|| (f.raw.clone(), where_shown(place)));
                }
            }
        }
        SupportLines { by_label }
    }

    /// " Elsewhere the same line (\"IT desk\") is shown as …", or "".
    fn elsewhere(&self, place: &Place<'_>, at: Range<usize>, e164: &str) -> String {
        let Some(label) = line_label(place.text, at) else {
            return String::new();
        };
        let Some(numbers) = self.by_label.get(&label) else {
            return String::new();
        };
        let others: Vec<String> = numbers
            .iter()
            .filter(|(n, _)| n.as_str() != e164)
            .take(3)
            .map(|(n, (raw, at))| format!("{raw} ({n}) on {at}"))
            .collect();
        if others.is_empty() {
            return String::new();
        }
        format!(
            " Elsewhere the same line (\"{label}\") is shown as {}.",
            others.join(", and as ")
        )
    }
}

/// `limit-reached`: the place showed more numbers than `limits.phones_per_page`; only the
/// first were read (a warning: it counts nothing).
fn cut_warning(place: &Place<'_>, cut: &Cut) -> Finding {
    let message = match (place.subject, place.step) {
        (None, Some(step)) => crate::checks::limits::warning(step, &place.url, cut),
        _ => format!(
            "{} shows {} phone numbers, more than the {} nocall reads of a page or message: it \
             read the first {} and checked nothing beyond them. `limits: {{phones_per_page: …}}` \
             in nocall.yaml raises the limit.",
            where_shown(place),
            thousands(cut.seen),
            thousands(cut.kept),
            thousands(cut.kept)
        ),
    };
    Finding::new(
        Kind::LimitReached,
        &place.url,
        format!("the phone numbers{}", in_message(place)),
        message,
    )
    .warning()
    .at(place.trace, place.step)
}

fn where_shown(place: &Place<'_>) -> String {
    match place.subject {
        Some(subject) => format!("the message \"{}\"", clip(subject, 60)),
        None => url_path(&place.url),
    }
}

/// Bytes before a number read for its line's name: far more than the 60 characters a
/// name is clipped to.
const LABEL_WINDOW: usize = 240;

/// Words that say nothing about which line a number is.
const FILLER: [&str; 28] = [
    "call",
    "calls",
    "us",
    "on",
    "at",
    "or",
    "and",
    "please",
    "phone",
    "tel",
    "telephone",
    "dial",
    "ring",
    "the",
    "our",
    "your",
    "a",
    "number",
    "is",
    "to",
    "via",
    "free",
    "contact",
    "questions",
    "any",
    "for",
    "by",
    "toll",
];

/// The words before a number on its line, in its clause ("Lost or stolen card, day and
/// night:" → "lost stolen card day night"), as the name of the line it is; `None` when only
/// filler is left ("Call us:").
fn line_label(text: &str, at: Range<usize>) -> Option<String> {
    let before = text.get(..at.start)?;
    // Only the words just before the number name its line: looking no further back than
    // this keeps a page of thousands of numbers on one line linear (issue 23).
    let from = before.ceil_char_boundary(before.len().saturating_sub(LABEL_WINDOW));
    let window = &before[from..];
    let mut line = window.rsplit('\n').next().unwrap_or_default();
    // The window began inside this line: its first word may be cut.
    if from > 0 && line.len() == window.len() {
        line = line
            .split_once(char::is_whitespace)
            .map_or("", |(_, rest)| rest);
    }
    let clause = line.rsplit(['·', '|', '•', ';']).next().unwrap_or_default();
    let words: Vec<String> = clause
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !FILLER.contains(&w.as_str()) && !w.chars().all(|c| c.is_ascii_digit()))
        .collect();
    let label = words.join(" ");
    (!label.is_empty()).then(|| clip(&label, 60))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{click, failed_expect, open, page, trace};
    use crate::config::Config;
    use crate::phones::Directory;
    use crate::probe::status::{LineStatus, LookupAnswer, Probes};
    use crate::trace::{Link, Mail, MailLink, PageState, Trace};

    fn tel(text: &str, href: &str) -> Link {
        Link {
            text: text.into(),
            href: href.into(),
            region: "footer".into(),
            tag: "a".into(),
            visible: true,
            ..Link::default()
        }
    }

    fn with_links(mut p: PageState, links: Vec<Link>) -> PageState {
        p.links = links;
        p.lang = "en".into();
        p
    }

    fn directory(csv: &str) -> PhoneProbes {
        PhoneProbes {
            directory: Some(
                Directory::parse(csv, std::path::Path::new("support-phones.csv"), None).unwrap(),
            ),
            ..PhoneProbes::default()
        }
    }

    fn run(traces: &[Trace], phones: PhoneProbes) -> Vec<Finding> {
        let probes = Probes {
            phones,
            ..Probes::default()
        };
        Phones.run(&Audit {
            traces,
            config: &Config::default(),
            probes: &probes,
        })
    }

    fn kinds(findings: &[Finding]) -> Vec<(Kind, String)> {
        findings
            .iter()
            .map(|f| (f.kind, f.element.clone()))
            .collect()
    }

    /// The help centre's footer: a number too short to dial, and a link that shows one
    /// number and dials another.
    fn help_centre() -> Trace {
        let footer = "How can we help?\nCall us: 0800 123 · Lost or stolen card, day and night: (800) 555-0148";
        trace(
            "help",
            &[],
            vec![open(
                1,
                with_links(
                    page("/help/", "How can we help?", footer),
                    vec![
                        tel("0800 123", "tel:0800123"),
                        tel("(800) 555-0148", "tel:+18005550184"),
                    ],
                ),
            )],
        )
    }

    #[test]
    fn a_mistyped_number_is_invalid_and_a_link_dialling_another_is_a_mismatch() {
        let found = run(&[help_centre()], PhoneProbes::default());
        assert_eq!(
            kinds(&found),
            [
                (
                    Kind::PhoneMismatch,
                    "tel: link \"(800) 555-0148\"".to_string()
                ),
                (Kind::PhoneInvalid, "phone number +10800123".to_string()),
            ],
            "{found:#?}"
        );
        let mismatch = &found[0];
        assert!(
            mismatch
                .message
                .contains("shows (800) 555-0148 (+18005550148)")
        );
        assert!(
            mismatch.message.contains("but dials +18005550184:"),
            "{}",
            mismatch.message
        );
        assert!(
            mismatch.message.contains("unverified"),
            "{}",
            mismatch.message
        );
        assert_eq!(
            mismatch.evidence.html_excerpt,
            "<a href=\"tel:+18005550184\">(800) 555-0148</a>"
        );
        let invalid = &found[1];
        assert!(
            invalid
                .message
                .contains("0800 123, which cannot be dialled: too short")
        );
        assert_eq!(invalid.step, Some(1));
        assert!(!invalid.on_path);
    }

    #[test]
    fn an_undiallable_tel_uri_is_a_mismatch() {
        let t = trace(
            "x",
            &[],
            vec![open(
                1,
                with_links(
                    page("/contact", "Contact", "Call 1-800-FLOWERS"),
                    vec![tel("1-800-FLOWERS", "tel:1-800-FLOWERS")],
                ),
            )],
        );
        let found = run(&[t], PhoneProbes::default());
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].kind, Kind::PhoneMismatch);
        assert!(found[0].message.contains("cannot be dialled"));
        assert!(found[0].message.contains("`F`"));
    }

    #[test]
    fn a_disconnected_line_is_unreachable_on_the_page_and_in_the_mail() {
        let notice = "Questions? Call the IT desk on (415) 555-2671.";
        let mut t = trace(
            "mail",
            &[],
            vec![open(
                1,
                with_links(
                    page("/mail/notice", "Notice", notice),
                    vec![tel("(415) 555-2671", "tel:+14155552671")],
                ),
            )],
        );
        t.mails = vec![Mail {
            to: vec!["pat@example.test".into()],
            subject: "Action required".into(),
            text: notice.into(),
            links: vec![MailLink {
                text: "(415) 555-2671".into(),
                href: "tel:+14155552671".into(),
            }],
            ..Mail::default()
        }];
        let probes = directory("number,status,hours\n+14155552671,disconnected,\n");
        let found = run(std::slice::from_ref(&t), probes.clone());
        // One line, one problem: reported where the journey first showed it.
        assert_eq!(
            kinds(&found),
            [(
                Kind::PhoneUnreachable,
                "phone number +14155552671".to_string()
            )],
            "{found:#?}"
        );
        assert!(found[0].message.contains(
            "(415) 555-2671 (+14155552671) is listed as disconnected in the phone directory (support-phones.csv, line 2)"
        ));
        assert_eq!(found[0].evidence.html_excerpt, notice);
        // Shown only in the message, it is reported from the message.
        t.steps.clear();
        let found = run(&[t], probes);
        assert_eq!(
            kinds(&found),
            [(
                Kind::PhoneUnreachable,
                "phone number +14155552671 in the message \"Action required\"".to_string()
            )],
            "{found:#?}"
        );
        assert_eq!(found[0].url, "mailto:pat@example.test");
    }

    #[test]
    fn a_lookup_that_says_not_live_is_unreachable_and_live_ones_are_trusted() {
        let t = trace(
            "x",
            &[],
            vec![open(
                1,
                page(
                    "/contact",
                    "Contact",
                    "Call (212) 736-5000 or 1-800-555-0199.",
                ),
            )],
        );
        let mut probes = PhoneProbes::default();
        probes.lookups.insert(
            "+12127365000".into(),
            LookupAnswer::new(LineStatus::NotLive, "inactive"),
        );
        probes.lookups.insert(
            "+18005550199".into(),
            LookupAnswer::new(LineStatus::Live, "active"),
        );
        let found = run(&[t], probes);
        assert_eq!(
            kinds(&found),
            [(
                Kind::PhoneUnreachable,
                "phone number +12127365000".to_string()
            )]
        );
        assert!(found[0].message.contains("lookup provider (\"inactive\")"));
    }

    #[test]
    fn clean_numbers_and_unverified_ones_raise_nothing() {
        let text = "Riverside Library, 120 Water Street. Questions? Call (802) 443-7165, \
                    Monday to Saturday, 9 am to 6 pm.\nHours and locations\nMain library, 120 \
                    Water Street Monday to Saturday, 9 am to 6 pm\n© 2026 Riverside Library";
        let t = trace(
            "clean",
            &[],
            vec![open(
                1,
                with_links(
                    page("/clean/", "Library", text),
                    vec![tel("(802) 443-7165", "tel:+18024437165")],
                ),
            )],
        );
        assert!(run(std::slice::from_ref(&t), PhoneProbes::default()).is_empty());
        let probes = directory("number,status,hours\n+18024437165,live,Mon-Sat 9-18\n");
        assert!(run(&[t], probes).is_empty());
    }

    #[test]
    fn fiction_numbers_are_invalid_unless_the_directory_lists_them_live() {
        let t = trace(
            "confer",
            &[],
            vec![open(
                1,
                with_links(
                    page(
                        "/confer/support",
                        "Support",
                        "Call 1-800-555-0199, Monday to Friday, 8 am to 8 pm Eastern.",
                    ),
                    vec![tel("1-800-555-0199", "tel:+18005550199")],
                ),
            )],
        );
        let found = run(std::slice::from_ref(&t), PhoneProbes::default());
        assert_eq!(
            kinds(&found),
            [(Kind::PhoneInvalid, "phone number +18005550199".to_string())]
        );
        assert!(
            found[0]
                .message
                .contains("555 range kept for films and fiction")
        );
        let probes = directory("+18005550199,live,Mon-Fri 08:00-20:00 ET\n");
        assert!(run(&[t], probes).is_empty());
    }

    #[test]
    fn a_24_7_promise_the_directory_contradicts_is_unreachable() {
        let t = trace(
            "x",
            &[],
            vec![open(
                1,
                page(
                    "/help/contact",
                    "Contact us",
                    "By phone\nLost or stolen card, 24/7: (212) 736-5000.",
                ),
            )],
        );
        let probes = directory("+12127365000,live,Mon-Fri 9:00-17:00\n");
        let found = run(std::slice::from_ref(&t), probes);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].kind, Kind::PhoneUnreachable);
        assert!(found[0].message.contains("promise \"24/7\""));
        assert!(found[0].message.contains("\"Mon-Fri 9:00-17:00\""));
        // The directory agreeing, or saying nothing of hours, is no finding.
        assert!(
            run(
                std::slice::from_ref(&t),
                directory("+12127365000,live,24/7\n")
            )
            .is_empty()
        );
        assert!(run(&[t], directory("+12127365000,live,\n")).is_empty());
    }

    #[test]
    fn a_promise_on_the_next_entry_is_not_this_numbers() {
        let t = trace(
            "x",
            &[],
            vec![open(
                1,
                page(
                    "/help/phones",
                    "Phone lines",
                    "Billing (415) 809-2200, Mon–Fri 8–6\nEmergencies, 24 hours: (415) 809-2300",
                ),
            )],
        );
        let probes = directory("+14158092200,live,Mon-Fri 8-6\n+14158092300,live,Mon-Fri 9-5\n");
        let found = run(&[t], probes);
        let elements: Vec<&str> = found.iter().map(|f| f.element.as_str()).collect();
        assert_eq!(elements, ["phone number +14158092300"], "{found:#?}");
        assert!(found[0].message.contains("promise \"24 hours\""));
    }

    #[test]
    fn the_same_line_with_different_numbers_is_noted() {
        let t = trace(
            "x",
            &[],
            vec![
                open(1, page("/", "Home", "Billing helpline: 0800 123")),
                open(2, page("/help", "Help", "Billing helpline: (212) 736-5000")),
            ],
        );
        let found = run(&[t], PhoneProbes::default());
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].message.contains(
                "Elsewhere the same line (\"billing helpline\") is shown as (212) 736-5000 (+12127365000) on /help."
            ),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn each_number_once_per_page_and_journeys_merge() {
        let p = || {
            with_links(
                page("/help/", "Help", "Call us: 0800 123\nOr call 0800 123"),
                vec![tel("0800 123", "tel:0800123")],
            )
        };
        let a = trace("a", &[], vec![open(1, p()), open(2, p())]);
        let b = trace("b", &[], vec![open(1, p())]);
        let found = run(&[a, b], PhoneProbes::default());
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].occurrences.len(), 2);
    }

    #[test]
    fn a_number_on_the_page_a_journey_stopped_at_is_on_its_path() {
        let stuck = with_links(
            page(
                "/confer/register",
                "Register",
                "Web PINs are issued by Technical Support. Please call 1-800-555-0199.",
            ),
            vec![tel("1-800-555-0199", "tel:+18005550199")],
        );
        let t = trace(
            "register",
            &[],
            vec![
                click(1, "Register", stuck.clone()),
                failed_expect(2, "Welcome", stuck),
            ],
        );
        let found = run(&[t], PhoneProbes::default());
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].on_path);
    }

    #[test]
    fn labels_name_the_line_not_the_filler() {
        let text = "Call us: 0800 123 · Lost or stolen card, day and night: (800) 555-0148";
        let at = text.find("(800)").unwrap();
        assert_eq!(
            line_label(text, at..at + 14).as_deref(),
            Some("lost stolen card day night")
        );
        let at = text.find("0800").unwrap();
        assert_eq!(line_label(text, at..at + 8), None);
    }

    #[test]
    fn a_line_is_named_by_the_words_just_before_its_number_however_long_the_line() {
        // Ten thousand numbers on one line: each is named from a short window before it,
        // not from the start of the line (which made the check quadratic).
        let mut text = String::from("Call us ");
        for i in 0..10_000 {
            text.push_str(&format!("(415) 555-{i:04} "));
        }
        text.push_str("Billing désk (212) 736-1000");
        let at = text.find("(212)").unwrap();
        assert_eq!(
            line_label(&text, at..at + 14).as_deref(),
            Some("billing désk")
        );
        // A window starting inside a multi-byte character or a word does not split it.
        let long = format!("{}é support line (212) 736-1000", "ab".repeat(150));
        let at = long.find("(212)").unwrap();
        let label = line_label(&long, at..at + 14).unwrap();
        assert!(label.ends_with("support line"), "{label}");
        assert!(!label.starts_with('b'), "a cut word is dropped: {label}");
    }
}
