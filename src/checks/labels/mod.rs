//! Label checks: what the user holds versus what the page asks for.
//!
//! A first-time user arrives with a card, a letter or an e-mail, and knows each thing by the
//! name printed there (the scenario's `holds`). These checks compare those names with the
//! fields the journey met, as recorded in the trace:
//! - [`LabelMissing`]: a field has no name a person can read or a screen reader can say;
//! - [`LabelMismatch`]: a field is named for something the user does not hold, or its label
//!   and its own type, `autocomplete` and pattern disagree;
//! - [`LabelInconsistent`]: one credential is asked for under different names;
//! - [`UnknownInfo`]: a required field asks for something the user cannot have.
//!
//! Like every check they are pure functions of the traces; they never touch a browser. The
//! small helpers below (one finding per id, page phrases, "was the journey stuck here") are
//! shared with the instruction and support-only checks.

use std::collections::HashMap;

use crate::finding::Finding;
use crate::normalize::{normalize, strip_required_marker};
use crate::trace::{Field, Filled, JourneyStatus, PageState, StepTrace, Trace, url_path};

mod inconsistent;
mod mismatch;
mod missing;
#[cfg(test)]
mod stories;
mod unknown;

pub use inconsistent::LabelInconsistent;
pub use mismatch::LabelMismatch;
pub use missing::LabelMissing;
pub use unknown::UnknownInfo;

/// The findings of one check, one per id. The same problem met again (another journey,
/// another step) adds its occurrence to the first finding instead of repeating it, so the
/// ranking still sees every journey that reaches it.
#[derive(Default)]
pub(in crate::checks) struct Findings {
    list: Vec<Finding>,
    by_id: HashMap<String, usize>,
}

impl Findings {
    pub fn push(&mut self, f: Finding) {
        let Some(have) = self.by_id.get(&f.id).and_then(|&i| self.list.get_mut(i)) else {
            self.by_id.insert(f.id.clone(), self.list.len());
            self.list.push(f);
            return;
        };
        have.absorb(f);
    }

    pub fn into_vec(self) -> Vec<Finding> {
        self.list
    }
}

/// The journey got stuck on this page, at or after `step`: it is blocked, and the page it
/// was blocked on has the same path (a refused form usually re-renders the page it was on).
pub(in crate::checks) fn blocked_on_page(trace: &Trace, step: usize, url: &str) -> bool {
    if trace.status != JourneyStatus::Blocked {
        return false;
    }
    let Some(at) = trace.blocked_at_step.filter(|&b| b >= step) else {
        return false;
    };
    trace
        .page_at(at)
        .or_else(|| trace.page_before(at))
        .is_some_and(|p| p.path() == url_path(url))
}

/// How a person would refer to a page: "the login page", "the \"Lost your card?\" page".
pub(in crate::checks) fn page_phrase(url: &str, title: &str) -> String {
    const KINDS: [(&[&str], &str); 4] = [
        (&["login", "signin", "logon"], "the login page"),
        (
            &["register", "signup", "join", "createaccount", "enrol"],
            "the registration page",
        ),
        (
            &["forgot", "reset", "recover", "unlock"],
            "the password-reset page",
        ),
        (&["home", "index"], "the home page"),
    ];
    let path = url_path(url);
    let path = path.split('?').next().unwrap_or_default();
    let last = normalize(
        path.trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default(),
    );
    if !last.is_empty()
        && let Some((_, phrase)) = KINDS
            .iter()
            .find(|(keys, _)| keys.iter().any(|k| last.contains(k)))
    {
        return (*phrase).to_string();
    }
    // Titles often end in the site's name ("Lost your card? — Northwind"); the first part
    // is the page's own.
    let cut = [" — ", " – ", " | ", " - ", " · ", " :: "]
        .iter()
        .filter_map(|sep| title.find(sep))
        .min()
        .unwrap_or(title.len());
    let own = title.get(..cut).unwrap_or(title).trim();
    if own.is_empty() {
        format!("the page {path}")
    } else {
        format!("the \"{own}\" page")
    }
}

/// [`page_phrase`] for a recorded page.
pub(in crate::checks) fn page_of(page: &PageState) -> String {
    page_phrase(&page.url, &page.title)
}

/// The text with its first letter in capitals, to start a sentence.
pub(in crate::checks) fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A label as a person would say what the page asks for: without its required marker or
/// leading instructions ("Please enter your card number *" → "card number").
pub(in crate::checks) fn spoken(label: &str) -> String {
    const LEADING: [&str; 10] = [
        "please", "enter", "type", "provide", "input", "your", "the", "a", "an", "choose",
    ];
    let stripped = strip_required_marker(label);
    let mut rest: &str = stripped.trim();
    while let Some((first, tail)) = rest.split_once(char::is_whitespace) {
        if !LEADING.contains(&first.to_lowercase().as_str()) {
            break;
        }
        rest = tail.trim_start();
    }
    rest.trim_end_matches(':').trim().to_string()
}

/// The label with its indefinite article: "a Password", "an Email", "an SMS code".
pub(in crate::checks) fn with_article(label: &str) -> String {
    let first = label.split_whitespace().next().unwrap_or_default();
    let acronym = first.len() > 1 && first.chars().all(|c| c.is_ascii_uppercase());
    let lower = first.to_lowercase();
    let an = if acronym {
        lower.starts_with(['a', 'e', 'f', 'h', 'i', 'l', 'm', 'n', 'o', 'r', 's', 'x'])
    } else {
        lower.starts_with(['a', 'e', 'i', 'o'])
            || (lower.starts_with("un") && !lower.starts_with("uni"))
    };
    format!("{} {label}", if an { "an" } else { "a" })
}

/// "A", "A and B", "A, B and C".
pub(in crate::checks) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// What the user holds, as a phrase: "Owner Name, Leader PIN and Email", or "nothing".
pub(in crate::checks) fn held(trace: &Trace) -> String {
    let names: Vec<String> = trace.holds.iter().map(|h| h.name.clone()).collect();
    if names.is_empty() {
        "nothing".to_string()
    } else {
        and_list(&names)
    }
}

/// The field a `fill`/`choose` entry went into, on the page the step acted on.
pub(in crate::checks) fn filled_field<'t>(
    trace: &'t Trace,
    step: &StepTrace,
    field: Option<usize>,
) -> Option<&'t Field> {
    let page = trace.page_before(step.index)?;
    page.fields.get(field?)
}

/// A `fill`/`choose` entry as a finding points at it.
pub(in crate::checks) struct Entry {
    /// The field's description (`input labelled "Password"`).
    pub element: String,
    /// The field's HTML, for evidence.
    pub html: String,
    /// How a person names the page it was on ("the login page").
    pub on: String,
}

/// The [`Entry`] of a filled field; `label` names it when the field was not recorded.
pub(in crate::checks) fn entry(t: &Trace, step: &StepTrace, filled: &Filled, label: &str) -> Entry {
    let field = filled_field(t, step, filled.field);
    Entry {
        element: field
            .map(Field::describe)
            .unwrap_or_else(|| format!("field labelled \"{label}\"")),
        html: field.map(|f| f.html.clone()).unwrap_or_default(),
        on: t
            .page_before(step.index)
            .map_or_else(|| page_phrase(&filled.url, ""), page_of),
    }
}

/// A field a person sees and can type into or choose from (not hidden, not a button).
pub(in crate::checks) fn is_user_field(f: &Field) -> bool {
    f.visible
        && !matches!(
            f.input_type.as_str(),
            "hidden" | "submit" | "button" | "reset" | "image"
        )
}

/// Text shortened for an element name or a message, on a character boundary.
pub(in crate::checks) fn clip(text: &str, max: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max {
        return text;
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
pub(in crate::checks) mod testkit {
    //! Hand-built traces for the label, instruction and support-only tests.

    use crate::checks::{Audit, Check};
    use crate::config::Config;
    use crate::finding::Finding;
    use crate::probe::Probes;
    use crate::trace::{
        Control, Field, Filled, FoundBy, HoldInfo, JourneyStatus, Link, NameSource, Outcome,
        PageState, StepKind, StepTrace, Trace,
    };

    pub const BASE: &str = "http://127.0.0.1:9";

    pub fn page(path: &str, title: &str, text: &str) -> PageState {
        PageState {
            url: format!("{BASE}{path}"),
            status: Some(200),
            title: title.into(),
            text: text.into(),
            ..PageState::default()
        }
    }

    /// A text input named by a `<label>`.
    pub fn field(name: &str) -> Field {
        Field {
            name: name.into(),
            name_source: NameSource::Label,
            label_text: name.into(),
            role: "textbox".into(),
            tag: "input".into(),
            input_type: "text".into(),
            html: format!("<input type=\"text\" aria-label=\"{name}\">"),
            form: Some(0),
            visible: true,
            ..Field::default()
        }
    }

    pub fn required(mut f: Field) -> Field {
        f.required = true;
        f
    }

    pub fn button(name: &str) -> Control {
        Control {
            name: name.into(),
            role: "button".into(),
            button_type: "submit".into(),
            form: Some(0),
            visible: true,
            ..Control::default()
        }
    }

    pub fn link(text: &str, href: &str, region: &str) -> Link {
        Link {
            text: text.into(),
            href: format!("{BASE}{href}"),
            region: region.into(),
            tag: "a".into(),
            visible: true,
            ..Link::default()
        }
    }

    pub fn open(index: usize, page: PageState) -> StepTrace {
        StepTrace {
            index,
            line: index + 4,
            action: format!("open {}", crate::trace::url_path(&page.url)),
            kind: StepKind::Open,
            page: Some(page),
            ..StepTrace::default()
        }
    }

    /// A fill step: (field index on the page before, label asked, holds, unknown).
    pub fn fill(index: usize, page: &PageState, entries: &[(usize, &[&str], bool)]) -> StepTrace {
        let filled = entries
            .iter()
            .map(|&(i, holds, unknown)| {
                let name = page
                    .fields
                    .get(i)
                    .map(|f| f.name.clone())
                    .unwrap_or_default();
                Filled {
                    asked: name.clone(),
                    field: Some(i),
                    name,
                    found_by: FoundBy::AccessibleName,
                    holds: holds.iter().map(|h| h.to_string()).collect(),
                    unknown,
                    secret: false,
                    url: page.url.clone(),
                }
            })
            .collect();
        StepTrace {
            index,
            line: index + 4,
            action: "fill".into(),
            kind: StepKind::Fill,
            filled,
            page: Some(page.clone()),
            ..StepTrace::default()
        }
    }

    pub fn click(index: usize, name: &str, after: PageState) -> StepTrace {
        StepTrace {
            index,
            line: index + 4,
            action: format!("click {name:?}"),
            kind: StepKind::Click,
            clicked: Some(crate::trace::Clicked {
                name: name.into(),
                role: "button".into(),
                ..Default::default()
            }),
            page: Some(after),
            ..StepTrace::default()
        }
    }

    /// An `expect` that failed: the journey is blocked here, on the page it was on.
    pub fn failed_expect(index: usize, text: &str, on: PageState) -> StepTrace {
        StepTrace {
            index,
            line: index + 4,
            action: format!("expect text {text:?}"),
            kind: StepKind::Expect,
            outcome: Outcome::Failed {
                kind: crate::trace::FailureKind::ExpectNotSeen,
                reason: format!("{text:?} is not on the page"),
            },
            page: Some(on),
            ..StepTrace::default()
        }
    }

    pub fn trace(name: &str, holds: &[&str], steps: Vec<StepTrace>) -> Trace {
        let blocked_at_step = steps.iter().find(|s| !s.outcome.is_done()).map(|s| s.index);
        Trace {
            scenario: name.into(),
            file: format!("scenarios/{name}.yaml"),
            start_url: format!("{BASE}/"),
            monthly_users: 100.0,
            holds: holds
                .iter()
                .map(|h| HoldInfo {
                    name: h.to_string(),
                    secret: false,
                })
                .collect(),
            status: if blocked_at_step.is_some() {
                JourneyStatus::Blocked
            } else {
                JourneyStatus::Completed
            },
            blocked_at_step,
            steps,
            ..Trace::default()
        }
    }

    pub fn run_with(check: &dyn Check, traces: &[Trace], config: &Config) -> Vec<Finding> {
        let probes = Probes::default();
        check.run(&Audit {
            traces,
            config,
            probes: &probes,
        })
    }

    pub fn run(check: &dyn Check, traces: &[Trace]) -> Vec<Finding> {
        run_with(check, traces, &Config::default())
    }
}

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use super::*;
    use crate::finding::Kind;

    #[test]
    fn page_phrases_read_like_a_person_would_say_them() {
        assert_eq!(
            page_phrase("http://x/confer/login", "Log in"),
            "the login page"
        );
        assert_eq!(
            page_phrase("http://x/accounts/signup/", ""),
            "the registration page"
        );
        assert_eq!(
            page_phrase("http://x/card/lost", "Lost your card? — Northwind"),
            "the \"Lost your card?\" page"
        );
        assert_eq!(page_phrase("http://x/a/b?c=1", ""), "the page /a/b");
        assert_eq!(capitalised("the login page"), "The login page");
    }

    #[test]
    fn labels_are_spoken_with_their_article() {
        assert_eq!(spoken("Please enter your card number *"), "card number");
        assert_eq!(spoken("Choose a User Name"), "User Name");
        assert_eq!(spoken("Password:"), "Password");
        assert_eq!(spoken("Your"), "Your");
        assert_eq!(with_article("Password"), "a Password");
        assert_eq!(with_article("Email"), "an Email");
        assert_eq!(with_article("Owner Name"), "an Owner Name");
        assert_eq!(with_article("User Name"), "a User Name");
        assert_eq!(with_article("PIN"), "a PIN");
        assert_eq!(with_article("SMS code"), "an SMS code");
        assert_eq!(with_article("Unlock code"), "an Unlock code");
    }

    #[test]
    fn lists_and_clips() {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(and_list(&v(&["A"])), "A");
        assert_eq!(and_list(&v(&["A", "B", "C"])), "A, B and C");
        assert_eq!(clip("one  two\nthree", 40), "one two three");
        assert_eq!(clip("abcdefghij", 5), "abcd…");
    }

    #[test]
    fn findings_merge_by_id_and_keep_every_journey() {
        let login = page("/login", "Log in", "");
        let a = trace("a", &[], vec![open(1, login.clone())]);
        let b = trace("b", &[], vec![open(1, login.clone())]);
        let mut fs = Findings::default();
        fs.push(Finding::new(Kind::LabelMissing, &login.url, "x", "m").at(&a, Some(1)));
        fs.push(
            Finding::new(Kind::LabelMissing, &login.url, "x", "m")
                .blocking()
                .at(&b, Some(1)),
        );
        fs.push(Finding::new(Kind::LabelMissing, &login.url, "x", "m").at(&b, Some(1)));
        let v = fs.into_vec();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].occurrences.len(), 2);
        assert!(v[0].blocking);
        assert_eq!(v[0].severity, crate::finding::Severity::Blocker);
    }

    #[test]
    fn blocked_on_page_needs_the_same_path_at_or_after_the_step() {
        let login = page("/login", "Log in", "");
        let home = page("/home", "Home", "");
        let stuck = trace(
            "t",
            &[],
            vec![
                open(1, login.clone()),
                click(2, "Log in", login.clone()),
                failed_expect(3, "Welcome", login.clone()),
            ],
        );
        assert!(blocked_on_page(&stuck, 2, &login.url));
        assert!(!blocked_on_page(&stuck, 4, &login.url));
        assert!(!blocked_on_page(&stuck, 2, &home.url));
        let done = trace("t", &[], vec![open(1, login.clone())]);
        assert!(!blocked_on_page(&done, 1, &login.url));
    }
}
