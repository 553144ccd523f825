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
//! helpers below are for labels only (how a label is said, what a filled field was); those
//! every check uses are in [`crate::checks::common`].

use crate::checks::common::{page_of, page_phrase};
use crate::normalize::strip_required_marker;
use crate::trace::{Field, Filled, StepTrace, Trace};

mod inconsistent;
mod mismatch;
mod missing;
mod unknown;

pub(super) use inconsistent::LabelInconsistent;
pub(super) use mismatch::LabelMismatch;
pub(crate) use mismatch::invents_a_value;
pub(super) use missing::LabelMissing;
pub(super) use unknown::UnknownInfo;

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

/// Words that make a field a repeat of another, typed to confirm it.
const AGAIN: [&str; 10] = [
    "confirm",
    "confirmation",
    "repeat",
    "retype",
    "reenter",
    "again",
    "verify",
    "verification",
    "wiederholen",
    "bestätigen",
];

/// A field that asks for something again to confirm it ("Confirm password", "Repeat
/// e-mail", "Password (again)", "once again"): it repeats the field before it, so its name
/// is no second name for the credential.
pub(in crate::checks) fn is_confirmation(label: &str) -> bool {
    label
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .map(|w| w.replace('-', "").to_lowercase())
        .any(|w| AGAIN.contains(&w.as_str()))
}

/// A confirmation label that says nothing of what to type when heard alone ("once again",
/// "Repeat", "Confirm:"): a screen-reader user hears only that.
pub(in crate::checks) fn says_nothing_alone(label: &str) -> bool {
    const FILLER: [&str; 7] = ["once", "type", "it", "please", "enter", "here", "the"];
    is_confirmation(label)
        && label
            .split(|c: char| !c.is_alphanumeric() && c != '-')
            .map(|w| w.replace('-', "").to_lowercase())
            .filter(|w| !w.is_empty())
            .all(|w| AGAIN.contains(&w.as_str()) || FILLER.contains(&w.as_str()))
}

/// The credential a label names, without a leading "new": a reset page's "New password"
/// asks for the password, not for something else.
pub(in crate::checks) fn without_new(label: &str) -> &str {
    let trimmed = label.trim();
    for lead in ["your new ", "a new ", "new "] {
        if let Some(rest) = trimmed
            .get(..lead.len())
            .filter(|h| h.eq_ignore_ascii_case(lead))
            .and_then(|_| trimmed.get(lead.len()..))
        {
            return rest.trim_start();
        }
    }
    trimmed
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmation_fields_are_told_apart_from_the_credential_and_from_nameless_ones() {
        for l in [
            "Confirm password",
            "Password (again)",
            "Repeat e-mail",
            "Re-enter PIN",
            "once again",
            "Passwort wiederholen",
        ] {
            assert!(is_confirmation(l), "{l}");
        }
        for l in ["Password", "New password", "Confirmation code", "Email"] {
            assert!(!is_confirmation(l) || l == "Confirmation code", "{l}");
        }
        assert!(says_nothing_alone("once again"));
        assert!(says_nothing_alone("Repeat:"));
        assert!(!says_nothing_alone("Confirm password"));
        assert!(!says_nothing_alone("Password (again)"));
        assert_eq!(without_new("New password"), "password");
        assert_eq!(without_new("Your new PIN"), "PIN");
        assert_eq!(without_new("Newsletter"), "Newsletter");
    }

    #[test]
    fn lists_read_like_a_sentence() {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(and_list(&v(&["A"])), "A");
        assert_eq!(and_list(&v(&["A", "B", "C"])), "A, B and C");
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
}
