//! `support-only-path`: the only way forward the page offers is to contact support.
//!
//! Decided from the page's controls and its text together, never from a phrase alone: the
//! page has no field to fill (a search box does not count), no button that does anything
//! but close, print or go back, no link onward (only header, navigation and footer links,
//! or links back, home, to help or to contact) — and its text sends the user to support
//! ("Please call 1-800-555-0199 to receive your Web PIN", "Web PINs are issued by Technical
//! Support", "contact the help desk to unlock your account"). A fallback ("If you have any
//! questions, call us"), a page that reports success ("Check your e-mail") and a page the
//! user opened to contact support (a "Contact us" link) are not dead ends.

use std::sync::LazyLock;

use regex::Regex;

use super::common::{Findings, blocked_on_page, capitalised, clip, is_user_field, page_of};
use super::{Audit, Check};
use crate::finding::{Finding, Kind};
use crate::normalize::{normalize, words};
use crate::trace::{Field, PageState, StepKind};

pub(super) struct SupportOnlyPath;

impl Check for SupportOnlyPath {
    fn name(&self) -> &'static str {
        "support-only-path"
    }

    fn run(&self, audit: &Audit<'_>) -> Vec<Finding> {
        let mut out = Findings::default();
        for t in audit.traces {
            for step in &t.steps {
                let Some(page) = &step.page else { continue };
                let arrived_by = match step.kind {
                    StepKind::Click => step.clicked.as_ref().map(|c| c.name.as_str()),
                    _ => None,
                };
                let Some(dead_end) = dead_end(page, arrived_by) else {
                    continue;
                };
                let said = dead_end.directives.join(" ");
                let only = if dead_end.chrome.is_empty() {
                    "no link at all".to_string()
                } else {
                    let shown: Vec<String> = dead_end
                        .chrome
                        .iter()
                        .take(6)
                        .map(|l| format!("\"{}\"", clip(l, 40)))
                        .collect();
                    format!("only {}", shown.join(", "))
                };
                let how = if step.kind == StepKind::Click {
                    format!("After {}, {}", step.action, page_of(page))
                } else {
                    capitalised(&page_of(page))
                };
                let message = format!(
                    "{how} offers no way forward except contacting support: \"{}\" There is no \
                     form to fill and no link onward ({only}).",
                    clip(&said, 240)
                );
                let first = dead_end.directives.first().map_or("", String::as_str);
                let mut f = Finding::new(
                    Kind::SupportOnlyPath,
                    &page.url,
                    format!("text \"{}\"", clip(first, 80)),
                    message,
                )
                .on_path(true)
                .excerpt(clip(&said, 600));
                if blocked_on_page(t, step.index, &page.url) {
                    f = f.blocking();
                }
                out.push(f.at(t, Some(step.index)));
            }
        }
        out.into_vec()
    }
}

/// Why a page is a dead end: what it tells the user to do, and the links it does have.
#[derive(Debug)]
struct DeadEnd {
    directives: Vec<String>,
    chrome: Vec<String>,
}

static CONTACT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(call|phone|ring|telephone|dial|contact|e-?mail us|write to|speak (to|with)|visit (a|your|the|one of our) (branch|office|store))\b")
        .expect("a valid static pattern")
});
static ACTOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(support|help ?desk|service ?desk|customer (service|care)|administrator|it (desk|department|team)|call cent(re|er)|technician|agent|representative|branch)\b")
        .expect("a valid static pattern")
});
static GIVES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(give|gives|issue|issues|issued|provide|provides|provided|assign|assigns|send you|reset|unlock|activate|only)\b")
        .expect("a valid static pattern")
});
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\+?\d[\d ().-]{5,}\d").expect("a valid static pattern"));
static FALLBACK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\W*(if|should|in case|for (help|assistance|support|questions|more)|questions|need help|having (trouble|problems)|problems|trouble|still need|can.t find)\b|\bif you (have|need|require|experience|are having|cannot|can.t)\b|\b(any|further) questions\b")
        .expect("a valid static pattern")
});
static SUCCESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(check your (e-?mail|inbox)|we('ve| have) sent|has been sent|thank you|success(fully)?|you('re| are) (now )?(signed|logged) in|account (has been )?created)\b")
        .expect("a valid static pattern")
});

/// Words of links and buttons that go back, home or to help: no way forward for the task.
const CHROME: [&str; 22] = [
    "back",
    "home",
    "help",
    "contact",
    "support",
    "faq",
    "faqs",
    "privacy",
    "terms",
    "accessibility",
    "cookies",
    "cookie",
    "logout",
    "signout",
    "sitemap",
    "return",
    "menu",
    "close",
    "print",
    "cancel",
    "dismiss",
    "search",
];

fn is_chrome(name: &str) -> bool {
    let ws = words(name);
    ws.is_empty()
        || ws.iter().any(|w| CHROME.contains(&w.as_str()))
        || matches!(
            normalize(name).as_str(),
            "logout" | "signout" | "startagain" | "goback"
        )
}

fn is_search(f: &Field) -> bool {
    f.input_type == "search"
        || f.role == "searchbox"
        || normalize(&f.name).contains("search")
        || matches!(f.html_name.as_str(), "q" | "query" | "s" | "search")
}

/// The page is a support-only dead end; `arrived_by` is the control the user clicked to get
/// there, when they did.
fn dead_end(page: &PageState, arrived_by: Option<&str>) -> Option<DeadEnd> {
    // The user went looking for support: a contact page is where they meant to be.
    if arrived_by.is_some_and(is_chrome) {
        return None;
    }
    let path = page.path();
    let last = path
        .split('?')
        .next()
        .unwrap_or_default()
        .trim_end_matches('/');
    let last = normalize(last.rsplit('/').next().unwrap_or_default());
    if matches!(
        last.as_str(),
        "contact" | "contactus" | "support" | "help" | "helpdesk" | "faq"
    ) {
        return None;
    }
    if SUCCESS.is_match(&page.text) {
        return None;
    }
    if page
        .fields
        .iter()
        .any(|f| is_user_field(f) && !is_search(f))
    {
        return None;
    }
    if page
        .buttons
        .iter()
        .any(|b| b.visible && !is_chrome(&b.name))
    {
        return None;
    }
    let here = page.url.split('#').next().unwrap_or_default();
    let mut chrome = Vec::new();
    for l in page.links.iter().filter(|l| l.visible) {
        let web = l.href.starts_with("http://") || l.href.starts_with("https://");
        let elsewhere = l.href.split('#').next().unwrap_or_default() != here;
        let in_chrome = matches!(l.region.as_str(), "header" | "nav" | "footer");
        if web && elsewhere && !in_chrome && !is_chrome(&l.text) {
            return None;
        }
        if !l.text.trim().is_empty() && !chrome.contains(&l.text) {
            chrome.push(l.text.trim().to_string());
        }
    }
    let dials = page.links.iter().any(|l| l.href.starts_with("tel:"));
    let mut directives: Vec<String> = Vec::new();
    for line in page.text.lines() {
        let mut after_fallback_question = false;
        for s in sentences(line) {
            // "Questions? Call the IT desk …": the call is the answer to the fallback.
            let fallback = FALLBACK.is_match(s) || after_fallback_question;
            after_fallback_question = FALLBACK.is_match(s) && s.ends_with('?');
            let contact = CONTACT.is_match(s);
            let actor = ACTOR.is_match(s);
            let phone = PHONE.is_match(s);
            let sends = (contact && (actor || phone || dials)) || (actor && GIVES.is_match(s));
            if sends && !fallback {
                directives.push(s.to_string());
            }
        }
    }
    if directives.is_empty() {
        return None;
    }
    Some(DeadEnd { directives, chrome })
}

/// The sentences of one line of text: split after `.`, `!` or `?` followed by a space.
fn sentences(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    for (k, &(i, c)) in chars.iter().enumerate() {
        let next_is_space = chars.get(k + 1).is_some_and(|&(_, n)| n.is_whitespace());
        if matches!(c, '.' | '!' | '?') && next_is_space {
            let end = i + c.len_utf8();
            out.extend(line.get(start..end).map(str::trim));
            start = end;
        }
    }
    out.extend(line.get(start..).map(str::trim));
    out.retain(|s| !s.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::*;

    const WEB_PIN: &str = "BridgeLine Conferencing\nHome\nLog in\nRegister\nWeb PIN required\nWeb PINs are issued by Technical Support. Please call 1-800-555-0199 to receive your Web PIN.\n© BridgeLine";

    fn chrome_links() -> Vec<crate::trace::Link> {
        vec![
            link("Home", "/confer/", "nav"),
            link("Log in", "/confer/login", "nav"),
            link("Register", "/confer/register", "header"),
            link("1-800-555-0199", "", "main"),
        ]
        .into_iter()
        .map(|mut l| {
            if l.text.starts_with('1') {
                l.href = "tel:+18005550199".into();
            }
            l
        })
        .collect()
    }

    fn register_journey(after: crate::trace::PageState) -> crate::trace::Trace {
        let mut form = page("/confer/register", "Register — BridgeLine", "Register");
        form.fields = vec![field("Owner Number"), required(field("Web PIN"))];
        form.buttons = vec![button("Register")];
        trace(
            "confer-register",
            &["Owner Number"],
            vec![
                open(1, form.clone()),
                fill(2, &form, &[(0, &["Owner Number"], false), (1, &[], true)]),
                click(3, "Register", after.clone()),
                failed_expect(4, "Welcome", after),
            ],
        )
    }

    #[test]
    fn a_page_that_only_says_call_support_is_a_blocking_dead_end() {
        let mut p = page("/confer/register", "Web PIN required — BridgeLine", WEB_PIN);
        p.links = chrome_links();
        let found = run(&SupportOnlyPath, &[register_journey(p)]);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.kind, Kind::SupportOnlyPath);
        assert!(f.blocking);
        assert_eq!(f.step, Some(3));
        assert_eq!(
            f.element,
            "text \"Web PINs are issued by Technical Support.\""
        );
        assert!(f.message.starts_with("After click \"Register\", the registration page offers no way forward except contacting support: \"Web PINs are issued by Technical Support. Please call 1-800-555-0199 to receive your Web PIN.\""), "{}", f.message);
        assert!(f.message.contains("\"Home\""));
    }

    #[test]
    fn a_form_a_button_or_an_onward_link_is_a_way_forward() {
        let mut with_form = page("/confer/register", "x", WEB_PIN);
        with_form.fields = vec![field("Web PIN")];
        let mut with_button = page("/confer/register", "x", WEB_PIN);
        with_button.buttons = vec![button("Request a PIN by e-mail")];
        let mut with_link = page("/confer/register", "x", WEB_PIN);
        with_link.links = vec![link("Get your Web PIN online", "/confer/pin", "main")];
        for p in [with_form, with_button, with_link] {
            assert!(run(&SupportOnlyPath, &[register_journey(p)]).is_empty());
        }
        // A search box in the header is no way forward.
        let mut with_search = page("/confer/register", "x", WEB_PIN);
        let mut search = field("Search");
        search.input_type = "search".into();
        with_search.fields = vec![search];
        with_search.buttons = vec![button("Search")];
        assert_eq!(
            run(&SupportOnlyPath, &[register_journey(with_search)]).len(),
            1
        );
    }

    #[test]
    fn fallbacks_success_pages_and_contact_pages_are_not_dead_ends() {
        let texts = [
            "Check your e-mail\nWe have sent a reset link. If it does not arrive, contact support.",
            "Your request is in.\nIf you have any questions, call us on 0800 123 4567.",
            "Questions? Call the IT desk on (415) 555-2671",
            "Our opening hours are 9 to 5.",
        ];
        for text in texts {
            let p = page("/mail/done", "Done", text);
            assert!(
                run(&SupportOnlyPath, &[register_journey(p)]).is_empty(),
                "{text}"
            );
        }
        // Opened on purpose: the user clicked "Contact us".
        let contact = page(
            "/help/reach-us",
            "Contact",
            "Call support on 0800 123 4567.",
        );
        let t = trace(
            "help",
            &[],
            vec![
                open(1, page("/help/", "Help", "")),
                click(2, "Contact us", contact.clone()),
            ],
        );
        assert!(run(&SupportOnlyPath, &[t]).is_empty());
        let t = trace(
            "help",
            &[],
            vec![open(
                1,
                page("/help/contact", "Contact", "Call support on 0800 123 4567."),
            )],
        );
        assert!(run(&SupportOnlyPath, &[t]).is_empty());
    }

    #[test]
    fn a_locked_account_page_that_sends_the_user_to_the_help_desk_is_a_dead_end() {
        let mut p = page(
            "/portal/locked",
            "Account locked",
            "Your account is locked.\nContact the help desk to unlock it.",
        );
        p.links = vec![link("Back to login", "/portal/login", "main")];
        let t = trace("unlock", &[], vec![open(1, p)]);
        let found = run(&SupportOnlyPath, &[t]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(!found[0].blocking);
    }

    #[test]
    fn sentences_split_on_end_marks() {
        assert_eq!(
            sentences("One. Two! Three? v1.2 four"),
            ["One.", "Two!", "Three?", "v1.2 four"]
        );
        assert!(sentences("  ").is_empty());
    }
}
