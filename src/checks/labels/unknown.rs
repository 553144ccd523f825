//! `unknown-info`: a required field asks for something a first-time user cannot have.
//!
//! Two sources of evidence:
//! - the scenario says so: `fill: {Web PIN: "{unknown}"}`;
//! - a field the form needs (HTML `required` / `aria-required`, or named in the message the
//!   page showed when the form was refused without it) that the journey left empty and that
//!   no hold of the user's matches.
//!
//! Only the forms the journey used count: a required field in a form the user never touches
//! (a newsletter box in the footer) asks nothing of them. Checkboxes, radios and selects are
//! left out: the user can always tick or pick something.

use std::collections::HashSet;

use super::{filled_field, held, spoken, with_article};
use crate::checks::common::{Findings, blocked_on_page, capitalised, clip, is_user_field, page_of};
use crate::checks::{Audit, Check};
use crate::finding::{Finding, Kind};
use crate::normalize::{contains_words, names_agree, normalize, words};
use crate::trace::{Field, PageState, StepKind, Trace};

pub(crate) struct UnknownInfo;

impl Check for UnknownInfo {
    fn name(&self) -> &'static str {
        "unknown-info"
    }

    fn run(&self, audit: &Audit<'_>) -> Vec<Finding> {
        let mut out = Findings::default();
        for t in audit.traces {
            marked_unknown(t, &mut out);
            left_empty(t, &audit.config.synonyms, &mut out);
        }
        out.into_vec()
    }
}

/// Fields the scenario filled with `{unknown}`.
fn marked_unknown(t: &Trace, out: &mut Findings) {
    for step in &t.steps {
        for filled in step.filled.iter().filter(|f| f.unknown) {
            let label = if filled.name.trim().is_empty() {
                filled.asked.as_str()
            } else {
                filled.name.as_str()
            };
            let at = super::entry(t, step, filled, label);
            let message = format!(
                "{} asks for {}. The user holds nothing of the kind (they hold {}); they have \
                 nothing to type.",
                capitalised(&at.on),
                with_article(&spoken(label)),
                held(t)
            );
            let mut f = Finding::new(Kind::UnknownInfo, &filled.url, at.element, message)
                .on_path(true)
                .excerpt(at.html);
            if blocked_on_page(t, step.index, &filled.url) {
                f = f.blocking();
            }
            out.push(f.at(t, Some(step.index)));
        }
    }
}

/// Required fields of the forms the journey filled, left empty, matching no hold.
fn left_empty(t: &Trace, synonyms: &[Vec<String>], out: &mut Findings) {
    for step in t.steps.iter().filter(|s| !s.filled.is_empty()) {
        let Some(page) = t.page_before(step.index) else {
            continue;
        };
        let typed: Vec<&Field> = step
            .filled
            .iter()
            .filter_map(|f| filled_field(t, step, f.field))
            .collect();
        let forms: HashSet<Option<usize>> = typed.iter().map(|f| f.form).collect();
        let filled_here = filled_names_on(t, page);
        let refusals = refusals(t, page);
        for field in page.fields.iter().filter(|f| {
            is_user_field(f) && f.is_text_like() && forms.contains(&f.form) && !f.name.is_empty()
        }) {
            let refusal = refusals
                .iter()
                .find(|line| contains_words(&words(line), &words(&field.name)));
            if !field.required && refusal.is_none() {
                continue;
            }
            let key = normalize(&field.name);
            let user_has = t
                .holds
                .iter()
                .any(|h| names_agree(&field.name, &h.name, synonyms));
            // "Confirm password" repeats a field the journey filled; it is not new information.
            let repeats = typed
                .iter()
                .any(|f| names_agree(&field.name, &f.name, synonyms));
            if filled_here.contains(&key) || user_has || repeats {
                continue;
            }
            let why = match refusal {
                Some(line) => format!(
                    " When the form is sent without it, the page says \"{}\".",
                    clip(line, 160)
                ),
                None => String::new(),
            };
            let message = format!(
                "{} requires {}. The user holds nothing of the kind (they hold {}).{why}",
                capitalised(&page_of(page)),
                with_article(&spoken(&field.name)),
                held(t)
            );
            let mut f = Finding::new(Kind::UnknownInfo, &page.url, field.describe(), message)
                .on_path(true)
                .excerpt(field.html.clone());
            if blocked_on_page(t, step.index, &page.url) {
                f = f.blocking();
            }
            out.push(f.at(t, Some(step.index)));
        }
    }
}

/// Normalised names of every field the journey filled on a page with this path.
fn filled_names_on(t: &Trace, page: &PageState) -> HashSet<String> {
    t.steps
        .iter()
        .flat_map(|s| s.filled.iter())
        .filter(|f| crate::trace::url_path(&f.url) == page.path())
        .flat_map(|f| [normalize(&f.name), normalize(&f.asked)])
        .filter(|k| !k.is_empty())
        .collect()
}

/// Lines of text that appeared on this page after the journey submitted it and stayed on it:
/// the page's complaint ("Please enter your card number and credit limit to continue.").
fn refusals(t: &Trace, page: &PageState) -> Vec<String> {
    let before: HashSet<&str> = page.text.lines().map(str::trim).collect();
    let mut out = Vec::new();
    for step in t.steps.iter().filter(|s| s.kind == StepKind::Click) {
        let Some(after) = &step.page else { continue };
        let from = t.page_before(step.index);
        if after.path() != page.path() || from.is_none_or(|p| p.path() != page.path()) {
            continue;
        }
        for line in after.text.lines().map(str::trim) {
            if !line.is_empty() && !before.contains(line) && !out.iter().any(|l| l == line) {
                out.push(line.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::*;

    fn lost_card_page(text: &str) -> PageState {
        let mut p = page(
            "/card/lost",
            "Lost your card? — Northwind Card Services",
            text,
        );
        p.fields = vec![
            field("Full name"),
            field("Date of birth"),
            required(field("Card number")),
            field("Credit limit"),
            field("Nickname"),
        ];
        let mut search = required(field("Search"));
        search.form = Some(1);
        p.fields.push(search);
        p
    }

    #[test]
    fn fields_marked_unknown_are_reported_and_block_where_the_journey_stopped() {
        let p = lost_card_page("Lost your card?");
        let t = trace(
            "card-lost-card",
            &["Full name", "Date of birth"],
            vec![
                open(1, p.clone()),
                fill(
                    2,
                    &p,
                    &[
                        (0, &["Full name"], false),
                        (1, &["Date of birth"], false),
                        (2, &[], true),
                    ],
                ),
                click(3, "Continue", p.clone()),
                failed_expect(4, "We have blocked your card", p),
            ],
        );
        let found = run(&UnknownInfo, &[t]);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.element, "input labelled \"Card number\"");
        assert_eq!(
            f.message,
            "The \"Lost your card?\" page asks for a Card number. The user holds nothing of the \
             kind (they hold Full name and Date of birth); they have nothing to type."
        );
        assert!(f.blocking);
    }

    #[test]
    fn a_required_or_refused_field_left_empty_is_unknown_info() {
        let p = lost_card_page("Lost your card?");
        let refused = lost_card_page(
            "Lost your card?\nPlease enter your card number and credit limit to continue.",
        );
        let t = trace(
            "card",
            &["Full name", "Date of birth"],
            vec![
                open(1, p.clone()),
                fill(
                    2,
                    &p,
                    &[(0, &["Full name"], false), (1, &["Date of birth"], false)],
                ),
                click(3, "Continue", refused.clone()),
                failed_expect(4, "We have blocked your card", refused),
            ],
        );
        let found = run(&UnknownInfo, &[t]);
        let elements: Vec<&str> = found.iter().map(|f| f.element.as_str()).collect();
        // Not the optional "Nickname", not the search box of another form.
        assert_eq!(
            elements,
            [
                "input labelled \"Card number\"",
                "input labelled \"Credit limit\""
            ],
            "{found:#?}"
        );
        assert!(
            found[1]
                .message
                .contains("the page says \"Please enter your card number")
        );
        assert!(found.iter().all(|f| f.blocking));
    }

    #[test]
    fn optional_skipped_fields_held_fields_and_repeats_do_not_fire() {
        let mut p = page("/register", "Register", "");
        p.fields = vec![
            required(field("Email")),
            required(field("Choose a password")),
            required(field("Confirm password")),
            field("Phone (optional)"),
            required(field("E-mail address")),
        ];
        let t = trace(
            "r",
            &["E-mail"],
            vec![
                open(1, p.clone()),
                fill(2, &p, &[(0, &["E-mail"], false), (1, &[], false)]),
                click(3, "Register", page("/welcome", "Welcome", "Welcome")),
            ],
        );
        let found = run(&UnknownInfo, &[t]);
        assert!(found.is_empty(), "{found:#?}");
    }
}
