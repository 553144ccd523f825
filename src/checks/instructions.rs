//! `instruction-mismatch`: the page tells the user to use a control that is not there.
//!
//! Reads each visible page's text for instructions that name a control — "click on forgot
//! password", "press Unlock Account", `select "English"`, "choose the Renew button" — and
//! looks for a button, link, field or option of that name on the same page, allowing small
//! differences ([`near_match`]). Generic pointers ("click here", "click the link below",
//! "click on the button"), keys ("press Enter") and ordinary prose ("choose a strong
//! password") are not instructions about a named control and are left alone. A line that is
//! itself a control's text (a link "Select plan") is not an instruction either.
//!
//! An instruction that says it is about another page ("Go to the sign-in page and choose
//! Forgot password", typical of help articles) is looked for on every page the journeys
//! saw; when none has the control, that is said as unverified (a warning, no calls), since
//! the page it is about may not be one the journeys visited.

use std::sync::LazyLock;

use regex::Regex;

use super::common::{Findings, blocked_on_page, capitalised, clip, page_of};
use super::{Audit, Check};
use crate::finding::{Finding, Kind};
use crate::normalize::{near_match, normalize};
use crate::trace::PageState;

pub(super) struct InstructionMismatch;

impl Check for InstructionMismatch {
    fn name(&self) -> &'static str {
        "instruction-mismatch"
    }

    fn run(&self, audit: &Audit<'_>) -> Vec<Finding> {
        let synonyms = &audit.config.synonyms;
        let seen_anywhere: Vec<String> = audit
            .traces
            .iter()
            .flat_map(|t| t.steps.iter().filter_map(|s| s.page.as_ref()))
            .flat_map(control_names)
            .collect();
        let mut out = Findings::default();
        for t in audit.traces {
            for step in &t.steps {
                let Some(page) = &step.page else { continue };
                let names = control_names(page);
                for ins in instructions(&page.text) {
                    if names.iter().any(|n| near_match(&ins.target, n, synonyms))
                        || ins.line_is_control(&names, synonyms)
                    {
                        continue;
                    }
                    if let Some(other) = &ins.elsewhere {
                        if seen_anywhere
                            .iter()
                            .any(|n| near_match(&ins.target, n, synonyms))
                        {
                            continue;
                        }
                        let message = format!(
                            "{} tells the user to \"{}\" on {other}, but no page the journeys saw \
                             has anything called \"{}\". Whether {other} does is unverified: \
                             add a journey through it to know.",
                            capitalised(&page_of(page)),
                            ins.phrase,
                            ins.target
                        );
                        out.push(
                            Finding::new(
                                Kind::InstructionMismatch,
                                &page.url,
                                format!("instruction \"{}\"", clip(&ins.phrase, 80)),
                                message,
                            )
                            .warning()
                            .excerpt(clip(&ins.line, 300))
                            .at(t, Some(step.index)),
                        );
                        continue;
                    }
                    let shown: Vec<String> = offered(page)
                        .iter()
                        .take(6)
                        .map(|n| format!("\"{}\"", clip(n, 40)))
                        .collect();
                    let has = if shown.is_empty() {
                        "it has no buttons, links or fields at all".to_string()
                    } else {
                        format!("it offers {}", shown.join(", "))
                    };
                    let message = format!(
                        "{} tells the user to \"{}\", but nothing on the page is called \"{}\" \
                         ({has}).",
                        capitalised(&page_of(page)),
                        ins.phrase,
                        ins.target
                    );
                    let stuck_here = blocked_on_page(t, step.index, &page.url);
                    let f = Finding::new(
                        Kind::InstructionMismatch,
                        &page.url,
                        format!("instruction \"{}\"", clip(&ins.phrase, 80)),
                        message,
                    )
                    .on_path(stuck_here)
                    .excerpt(clip(&ins.line, 300))
                    .at(t, Some(step.index));
                    out.push(f);
                }
            }
        }
        out.into_vec()
    }
}

/// Every name a reader could be pointed at on the page.
fn control_names(page: &PageState) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    names.extend(
        page.buttons
            .iter()
            .filter(|b| b.visible)
            .map(|b| b.name.clone()),
    );
    names.extend(
        page.links
            .iter()
            .filter(|l| l.visible)
            .map(|l| l.text.clone()),
    );
    for f in page.fields.iter().filter(|f| f.visible) {
        names.push(f.name.clone());
        names.push(f.label_text.clone());
        names.extend(f.options.iter().cloned());
    }
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| !n.trim().is_empty() && seen.insert(normalize(n)));
    names
}

/// The buttons and links a reader would look through, those of the page's main part first.
fn offered(page: &PageState) -> Vec<String> {
    let main = |region: &str| matches!(region, "main" | "");
    let mut out: Vec<String> = Vec::new();
    let buttons = page.buttons.iter().filter(|b| b.visible).map(|b| &b.name);
    let links = |in_main: bool| {
        page.links
            .iter()
            .filter(move |l| l.visible && main(&l.region) == in_main && !l.href.starts_with("tel:"))
            .map(|l| &l.text)
    };
    for name in buttons.chain(links(true)).chain(links(false)) {
        if !name.trim().is_empty() && !out.contains(name) {
            out.push(name.clone());
        }
    }
    out
}

/// An instruction naming a control.
#[derive(Debug, Clone, PartialEq)]
struct Instruction {
    /// The words as the page has them: `click on forgot password`.
    phrase: String,
    /// The control's name: `forgot password`.
    target: String,
    /// The line it came from.
    line: String,
    /// The line from the verb on.
    from_verb: String,
    /// The other page the line says it is about ("on the sign-in page"), when it says so.
    elsewhere: Option<String>,
}

impl Instruction {
    /// The whole line is a control's own text ("Select plan", "Press releases").
    fn line_is_control(&self, names: &[String], synonyms: &[Vec<String>]) -> bool {
        let line = normalize(&self.line);
        // Links set inline share a line ("Press Careers Contact"): the verb that starts a
        // control's own text ("Press") is that control, not an instruction.
        let from_verb = normalize(&self.from_verb);
        names.iter().any(|n| {
            let name = normalize(n);
            name == line
                || crate::normalize::same_label(n, &self.line, synonyms)
                || (!name.is_empty() && from_verb.starts_with(&name))
        })
    }
}

static VERB: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(click(?:\s+on)?|tap(?:\s+on)?|press|hit|select|choose|use|follow)\s+")
        .expect("a valid static pattern")
});

/// Words sending the reader to another page: "go to the sign-in page", "on the Account
/// screen", "open your Profile page". "This page" is the page itself; what sits between
/// the determiner and "page" is checked by [`names_a_page`].
static ELSEWHERE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:on|to|from|open|visit)\s+((?:the|your)\s+((?:[\w'’-]+\s+){1,3}?)(?:page|screen))\b",
    )
    .expect("a valid static pattern")
});

/// The words before "page" name one ("sign-in", "My Account"), not a place on this one
/// ("the box on this page").
fn names_a_page(words: &str) -> bool {
    const NOT_A_NAME: [&str; 12] = [
        "this", "that", "these", "on", "in", "of", "at", "the", "a", "an", "same", "current",
    ];
    words
        .split_whitespace()
        .all(|w| !NOT_A_NAME.contains(&w.to_lowercase().as_str()))
}

/// The other page the sentence holding an instruction sends the reader to, if it does.
fn other_page(line: &str, verb_at: usize, verb_end: usize) -> Option<String> {
    let ends = |c: char| matches!(c, '.' | '!' | '?' | ';');
    let start = line
        .get(..verb_at)
        .and_then(|b| b.rfind(ends))
        .map_or(0, |i| i + 1);
    let end = line
        .get(verb_end..)
        .and_then(|a| a.find(ends))
        .map_or(line.len(), |i| verb_end + i);
    let sentence = line.get(start..end)?;
    ELSEWHERE
        .captures_iter(sentence)
        .find(|c| c.get(2).is_some_and(|w| names_a_page(w.as_str())))
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_string())
}

/// Where an unquoted name stops: punctuation, or a word that starts the next clause.
static STOP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)[.,;:!?()\[\]]|\s(?:to|and|then|so|if|when|which|that|from|for|with|or|below|above|again|now|(?:in|on|at|under|next to)\s+(?:the|your|this|a|an|our|each|any|my)\b)(?:\s|$)",
    )
    .expect("a valid static pattern")
});

/// The nouns that say "a control" without naming one.
const CONTROL_NOUNS: [&str; 11] = [
    "button", "buttons", "link", "links", "tab", "icon", "menu", "option", "checkbox", "box", "key",
];
const ARTICLES: [&str; 8] = ["the", "a", "an", "this", "that", "our", "your", "on"];
const GENERIC: [&str; 8] = [
    "here", "it", "this", "them", "below", "above", "there", "that",
];
const KEYS: [&str; 16] = [
    "enter",
    "return",
    "tab",
    "esc",
    "escape",
    "space",
    "spacebar",
    "shift",
    "ctrl",
    "control",
    "alt",
    "delete",
    "backspace",
    "f5",
    "any",
    "ok",
];

/// The instructions naming a control in a page's visible text.
fn instructions(text: &str) -> Vec<Instruction> {
    let mut out: Vec<Instruction> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        for m in VERB.captures_iter(line) {
            let (Some(whole), Some(verb)) = (m.get(0), m.get(1)) else {
                continue;
            };
            let verb_word = normalize(verb.as_str().split_whitespace().next().unwrap_or_default());
            let rest = line.get(whole.end()..).unwrap_or_default();
            let Some((target, consumed, quoted, noun)) = target_of(rest) else {
                continue;
            };
            // "Open your browser's menu and choose Settings": the whole sentence is about
            // the browser.
            let before = line.get(..whole.start()).unwrap_or_default();
            let sentence = before.rsplit(['.', '!', '?']).next().unwrap_or_default();
            if browser_control(&target)
                || browser_control(rest)
                || sentence.to_lowercase().contains("browser")
            {
                continue;
            }
            // "select", "choose", "use" and "follow" take ordinary objects too ("choose a
            // strong password"): only a quoted, capitalised or control-noun name counts.
            let strong = matches!(verb_word.as_str(), "click" | "tap" | "press" | "hit");
            let capitalised = target.chars().next().is_some_and(char::is_uppercase);
            let weak_ok =
                quoted || noun || (capitalised && !matches!(verb_word.as_str(), "use" | "follow"));
            if !(strong || weak_ok) {
                continue;
            }
            if verb_word == "press" || verb_word == "hit" {
                let first = normalize(target.split_whitespace().next().unwrap_or_default());
                if !quoted && KEYS.contains(&first.as_str()) {
                    continue;
                }
            }
            let end = whole.end() + consumed;
            let phrase = line
                .get(whole.start()..end)
                .unwrap_or_default()
                .trim()
                .trim_end_matches(['.', ',', ';', ':', '!', '?'])
                .to_string();
            let ins = Instruction {
                phrase,
                target,
                line: line.to_string(),
                from_verb: line.get(whole.start()..).unwrap_or_default().to_string(),
                elsewhere: other_page(line, whole.start(), end),
            };
            if !out
                .iter()
                .any(|o| normalize(&o.target) == normalize(&ins.target))
            {
                out.push(ins);
            }
        }
    }
    out
}

/// Whether the words name the browser's own controls ("your browser's back button",
/// "Refresh", "the address bar", "close this tab"): a person finds those in the browser,
/// never on the page, so they are no instruction about the page.
fn browser_control(words: &str) -> bool {
    const ALONE: [&str; 9] = [
        "back",
        "forward",
        "refresh",
        "reload",
        "backarrow",
        "backbutton",
        "refreshbutton",
        "reloadbutton",
        "forwardbutton",
    ];
    const PARTS: [&str; 8] = [
        "addressbar",
        "urlbar",
        "locationbar",
        "bookmark",
        "closethistab",
        "closethetab",
        "closethewindow",
        "closethiswindow",
    ];
    let head: String = words
        .split(['.', ',', ';', ':', '!', '?', '(', ')'])
        .next()
        .unwrap_or_default()
        .to_string();
    let plain = normalize(&head);
    let lowered = head.to_lowercase();
    let mentions_browser = lowered
        .split_whitespace()
        .take(4)
        .any(|w| w.starts_with("browser"));
    let bare: String = lowered
        .split_whitespace()
        .filter(|w| !ARTICLES.contains(w))
        .map(normalize)
        .collect();
    mentions_browser
        || ALONE.contains(&bare.as_str())
        || PARTS
            .iter()
            .any(|p| plain.starts_with(p) || bare.starts_with(p))
}

/// The control name after the verb: `(name, bytes of rest used, quoted, control noun seen)`.
/// `None` when the words name no control ("here", "the link below", "Enter").
fn target_of(rest: &str) -> Option<(String, usize, bool, bool)> {
    let lead = skip_articles(rest);
    let body = rest.get(lead..)?;
    let open = body.chars().next()?;
    if let Some(close) = closing_quote(open) {
        let inner = body.get(open.len_utf8()..)?;
        let (raw, after) = inner.split_once(close)?;
        let name = raw.trim();
        let next = after.split_whitespace().next().unwrap_or_default();
        let noun = CONTROL_NOUNS.contains(&normalize(next).as_str());
        let used = lead + open.len_utf8() + raw.len() + close.len_utf8();
        return (!name.is_empty()).then(|| (name.to_string(), used, true, noun));
    }
    let end = STOP.find(body).map_or(body.len(), |m| m.start());
    let chunk = body.get(..end)?;
    let mut words: Vec<&str> = chunk.split_whitespace().collect();
    let mut noun = false;
    // "the Renew button": the noun says it is a control, the words before it name it.
    if let Some(i) = words
        .iter()
        .position(|w| CONTROL_NOUNS.contains(&normalize(w).as_str()))
    {
        noun = true;
        words.truncate(i);
    }
    while words
        .first()
        .is_some_and(|w| ARTICLES.contains(&normalize(w).as_str()))
    {
        words.remove(0);
    }
    let target = words.join(" ");
    let generic = words
        .iter()
        .all(|w| GENERIC.contains(&normalize(w).as_str()));
    if target.is_empty() || generic || words.len() > 6 {
        return None;
    }
    Some((target, lead + end, false, noun))
}

/// Bytes of leading articles ("the ", "a ") before a quoted name.
fn skip_articles(rest: &str) -> usize {
    let mut at = 0;
    loop {
        let tail = rest.get(at..).unwrap_or_default();
        let word = tail.split_whitespace().next().unwrap_or_default();
        if word.is_empty() || !ARTICLES.contains(&word.to_lowercase().as_str()) {
            return at;
        }
        let Some(pos) = tail.find(word) else {
            return at;
        };
        at += pos + word.len();
        at += tail
            .get(pos + word.len()..)
            .map_or(0, |t| t.len() - t.trim_start().len());
    }
}

fn closing_quote(open: char) -> Option<char> {
    match open {
        '"' => Some('"'),
        '\'' => Some('\''),
        '“' => Some('”'),
        '‘' => Some('’'),
        '«' => Some('»'),
        '„' => Some('“'),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::*;
    use crate::config::Config;

    fn targets(text: &str) -> Vec<String> {
        instructions(text).into_iter().map(|i| i.target).collect()
    }

    #[test]
    fn names_are_read_from_the_usual_phrasings() {
        assert_eq!(
            targets("If you are visiting for the first time, click on forgot password."),
            ["forgot password"]
        );
        assert_eq!(
            targets("Then press Unlock Account to continue"),
            ["Unlock Account"]
        );
        assert_eq!(
            targets("Select “English (UK)” from the list."),
            ["English (UK)"]
        );
        assert_eq!(targets("Choose the Renew button."), ["Renew"]);
        assert_eq!(targets("Tap 'Sign in' and wait"), ["Sign in"]);
        assert_eq!(targets("Click Log in in the top right"), ["Log in"]);
        assert_eq!(targets("Use the Reset link"), ["Reset"]);
    }

    #[test]
    fn the_browsers_own_controls_are_not_page_controls() {
        for line in [
            "Click your browser's back button to return to the form.",
            "Press the Back button and try again.",
            "Click Refresh if the page does not load.",
            "Press Reload.",
            "Click the address bar and type the address.",
            "Click on the bookmark icon to save this page.",
            "Click Close this tab when you are done.",
            "Tap your web browser's menu and choose Settings.",
        ] {
            assert!(
                instructions(line).is_empty(),
                "{line}: {:?}",
                instructions(line)
                    .iter()
                    .map(|i| &i.target)
                    .collect::<Vec<_>>()
            );
        }
        // A page's own control of a similar name is still an instruction.
        let kept = instructions("Click \"Back to sign in\" to try again.");
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].target, "Back to sign in");
    }

    #[test]
    fn generic_pointers_keys_and_prose_are_not_instructions() {
        for text in [
            "Click here to continue.",
            "click the link below",
            "Click on the button.",
            "Please click the link in the email we sent you.",
            "Press Enter to search",
            "choose a strong password of at least 8 characters",
            "select your country",
            "Use your Leader PIN",
            "Follow the link in your e-mail",
            "We selected you for a survey",
        ] {
            assert!(targets(text).is_empty(), "{text}: {:?}", targets(text));
        }
    }

    fn login_page(text: &str, links: &[&str]) -> crate::trace::PageState {
        let mut p = page("/confer/login", "Log in — BridgeLine", text);
        p.fields = vec![field("Owner Name"), field("Password")];
        p.buttons = vec![button("Log in")];
        p.links = links.iter().map(|l| link(l, "/x", "main")).collect();
        p
    }

    #[test]
    fn forgot_password_instruction_without_such_a_link_is_reported() {
        let text = "Log in\nOwner Name\nPassword\nIf you are visiting for the first time, click on forgot password.\nReset your access";
        let p = login_page(text, &["Reset your access"]);
        let t = trace("login", &[], vec![open(1, p.clone()), open(2, p)]);
        let found = run(&InstructionMismatch, &[t]);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.kind, Kind::InstructionMismatch);
        assert_eq!(f.element, "instruction \"click on forgot password\"");
        assert!(f.message.starts_with("The login page tells the user to \"click on forgot password\", but nothing on the page is called \"forgot password\""), "{}", f.message);
        assert!(
            f.message
                .contains("(it offers \"Log in\", \"Reset your access\")"),
            "{}",
            f.message
        );
        assert!(f.evidence.html_excerpt.contains("first time"));
        assert_eq!(f.step, Some(1));
    }

    #[test]
    fn instructions_that_match_a_control_do_not_fire() {
        let text = "Press Careers Contact\nClick & Collect\nClick Sign in or Log in.\nForgot your password? Click on Forgot password.\nPress “Log in”.\nSelect Owner Name.\nSign in\nSelect plan";
        let mut p = login_page(
            text,
            &["Sign in", "Forgotten your password?", "Select plan"],
        );
        p.links.push(link("Log in", "/confer/login", "header"));
        for l in ["Press", "Careers", "Contact", "Click & Collect"] {
            p.links.push(link(l, "/x", "footer"));
        }
        let t = trace("login", &[], vec![open(1, p)]);
        let found = run(&InstructionMismatch, &[t]);
        assert!(found.is_empty(), "{found:#?}");
    }

    #[test]
    fn an_instruction_about_another_page_is_looked_for_on_every_page_seen() {
        let text = "How do I reset my password?\nGo to the sign-in page and choose Forgot password under the password box.";
        let article = || {
            let mut p = page("/help/articles/reset", "How do I reset my password?", text);
            p.links = vec![link("All articles", "/help/", "main")];
            p
        };
        // The journeys saw the sign-in page, and it has the link: nothing to say.
        let login = login_page("Log in", &["Forgot password"]);
        let t = trace("help", &[], vec![open(1, article()), open(2, login)]);
        assert!(run(&InstructionMismatch, &[t]).is_empty());
        // They did not: it may be right or wrong, and the report says it could not tell.
        let t = trace("help", &[], vec![open(1, article())]);
        let found = run(&InstructionMismatch, &[t]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, crate::finding::Severity::Warning);
        assert!(!found[0].blocking);
        assert!(
            found[0]
                .message
                .contains("\"choose Forgot password\" on the sign-in page")
                && found[0].message.contains("unverified"),
            "{}",
            found[0].message
        );
        // Without a word of another page in its own sentence it is about this one.
        for text in [
            "If you are visiting for the first time, click on forgot password.",
            "Welcome to the Customer Portal. Click Continue to sign in.",
            "Enter the code in the box on this page and press Verify",
            "Click Next. You will be taken to the confirmation page.",
            "Click Renew on our website",
        ] {
            let found = instructions(text);
            assert!(
                found.iter().all(|i| i.elsewhere.is_none()),
                "{text}: {found:?}"
            );
        }
        for (text, other) in [
            (
                "On the My Account page, click Change password.",
                "the My Account page",
            ),
            (
                "Open your Profile screen and tap Edit",
                "your Profile screen",
            ),
        ] {
            assert_eq!(
                instructions(text)[0].elsewhere.as_deref(),
                Some(other),
                "{text}"
            );
        }
    }

    #[test]
    fn sign_in_versus_log_in_follows_the_configured_synonyms() {
        let p = login_page("Click Sign in to start.", &[]);
        let t = trace("login", &[], vec![open(1, p)]);
        assert_eq!(run(&InstructionMismatch, std::slice::from_ref(&t)).len(), 1);
        let config = Config {
            synonyms: vec![vec!["Sign in".into(), "Log in".into()]],
            ..Config::default()
        };
        assert!(run_with(&InstructionMismatch, &[t], &config).is_empty());
    }
}
