//! Finding the field or control a step names, the way a first-time user would.
//!
//! Pure functions over a recorded [`PageState`]: fields by the accessible name Chromium
//! computed, then by placeholder, then by `name`; controls by accessible name, preferring
//! what a person would press when names repeat. A miss explains itself and lists what the
//! page does offer.

use crate::normalize::normalize;
use crate::trace::{Field, FoundBy, PageState};

/// What a step wants to put into a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Want {
    /// Typing: text boxes, text areas, number and e-mail inputs.
    Text,
    /// Picking: selects, radios, checkboxes.
    Choice,
}

/// Why a step's field or control was not found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Miss {
    pub reason: String,
    /// It is on the page, but a person cannot see it: the page's doing. Otherwise the
    /// scenario names something the page does not have.
    pub hidden: bool,
    /// The control by that name the accessibility tree leaves out (behind a modal dialog,
    /// `aria-hidden`), for the runner to ask the page why.
    pub candidate: Option<Target>,
}

impl Miss {
    fn absent(reason: String) -> Self {
        Miss {
            reason,
            hidden: false,
            candidate: None,
        }
    }
}

/// A control to click.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    Button(usize),
    Link(usize),
}

/// The same label, ignoring case, spacing, punctuation and a trailing "required" marker.
fn key(label: &str) -> String {
    let n = normalize(label);
    match n.strip_suffix("required") {
        Some(rest) if !rest.is_empty() => rest.to_string(),
        _ => n,
    }
}

/// Whether a field is picked from (select, radio, checkbox) rather than typed into.
pub(super) fn is_choice(f: &Field) -> bool {
    picked(f) && !(f.role == "combobox" && f.tag == "input")
}

/// Selects, radios, checkboxes and the widgets that act as them (an editable combo box too).
fn picked(f: &Field) -> bool {
    matches!(f.tag.as_str(), "select")
        || matches!(f.input_type.as_str(), "radio" | "checkbox")
        || matches!(
            f.role.as_str(),
            "combobox" | "listbox" | "radio" | "checkbox" | "switch"
        )
}

fn wanted(f: &Field, want: Want) -> bool {
    f.visible && kind_wanted(f, want)
}

fn kind_wanted(f: &Field, want: Want) -> bool {
    let choice = picked(f);
    match want {
        Want::Text => f.is_text_like() && !choice || (f.role == "combobox" && f.tag == "input"),
        Want::Choice => choice,
    }
}

/// Finds the field labelled `asked`. Radio buttons are matched by their group's question.
pub(super) fn field(page: &PageState, asked: &str, want: Want) -> Result<(usize, FoundBy), Miss> {
    let k = key(asked);
    let candidates: Vec<(usize, &Field)> = page
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| wanted(f, want))
        .collect();
    let hidden = page.fields.iter().any(|f| {
        !f.visible
            && kind_wanted(f, want)
            && !k.is_empty()
            && [
                &f.name,
                &f.label_text,
                &f.group,
                &f.beside,
                &f.placeholder,
                &f.html_name,
            ]
            .iter()
            .any(|n| key(n) == k)
    });
    let by =
        |pred: &dyn Fn(&Field) -> bool| candidates.iter().find(|(_, f)| pred(f)).map(|(i, _)| *i);
    if let Some(i) = by(&|f| !k.is_empty() && key(&f.name) == k) {
        // Chromium falls back to the placeholder for a name; the user still sees no label.
        let placeholder_only = candidates
            .iter()
            .any(|(j, f)| *j == i && f.name_source == crate::trace::NameSource::Placeholder);
        let by = if placeholder_only {
            FoundBy::Placeholder
        } else {
            FoundBy::AccessibleName
        };
        return Ok((i, by));
    }
    if let Some(i) = by(&|f| !k.is_empty() && (key(&f.label_text) == k || key(&f.group) == k)) {
        return Ok((i, FoundBy::AccessibleName));
    }
    // The words a person reads beside a field no label is tied to (`<th>Login Name</th>`)
    // come before any markup-only match: that is how the user finds it.
    if let Some(i) = by(&|f| !k.is_empty() && key(&f.beside) == k) {
        return Ok((i, FoundBy::Beside));
    }
    // "Email" for "Email address": only when exactly one field reads that way.
    let starts: Vec<usize> = candidates
        .iter()
        .filter(|(_, f)| k.len() >= 3 && key(&f.name).starts_with(&k))
        .map(|(i, _)| *i)
        .collect();
    if let [only] = starts.as_slice() {
        return Ok((*only, FoundBy::AccessibleName));
    }
    if let Some(i) = by(&|f| !f.placeholder.is_empty() && key(&f.placeholder) == k) {
        return Ok((i, FoundBy::Placeholder));
    }
    if let Some(i) =
        by(&|f| !f.html_name.is_empty() && (key(&f.html_name) == k || f.html_name == asked))
    {
        return Ok((i, FoundBy::NameAttribute));
    }
    let offered: Vec<String> = candidates
        .iter()
        .map(|(_, f)| {
            if f.name.is_empty() {
                f.describe()
            } else {
                format!("\"{}\"", f.name)
            }
        })
        .collect();
    let what = match want {
        Want::Text => "field",
        Want::Choice => "choice",
    };
    if hidden {
        return Err(Miss {
            reason: format!("the {what} \"{asked}\" is on the page but not visible"),
            hidden: true,
            candidate: None,
        });
    }
    Err(Miss::absent(if offered.is_empty() {
        format!(
            "the scenario names the {what} \"{asked}\"; the page has no visible {what}s to {}",
            match want {
                Want::Text => "fill",
                Want::Choice => "choose",
            }
        )
    } else {
        format!(
            "the scenario names the {what} \"{asked}\"; the page offers {}",
            offered.join(", ")
        )
    }))
}

/// Finds the option of a radio group or select: the radio (in the group of `field`) or the
/// select option whose text is `option`.
pub(super) fn radio_in_group(page: &PageState, group_of: usize, option: &str) -> Option<usize> {
    let group = page.fields.get(group_of)?;
    let k = key(option);
    page.fields.iter().enumerate().find_map(|(i, f)| {
        let same_group = f.input_type == "radio"
            && ((!group.html_name.is_empty() && f.html_name == group.html_name)
                || (!group.group.is_empty() && f.group == group.group));
        (same_group && key(&f.name) == k).then_some(i)
    })
}

/// Finds the button or link named `asked`. Among equal names: the submit control of the
/// form the journey just filled, then buttons over links, then the first visible in
/// document order. The second value describes the ambiguity, when there was one.
pub(super) fn control(
    page: &PageState,
    asked: &str,
    last_form: Option<usize>,
) -> Result<(Target, Option<String>), Miss> {
    let k = key(asked);
    let mut exact: Vec<(Target, bool)> = Vec::new();
    for (i, b) in page.buttons.iter().enumerate() {
        if key(&b.name) == k && !k.is_empty() {
            exact.push((Target::Button(i), b.visible));
        }
    }
    for (i, l) in page.links.iter().enumerate() {
        if key(&l.text) == k && !k.is_empty() {
            exact.push((Target::Link(i), l.visible));
        }
    }
    if exact.is_empty() {
        // "Continue" for "Continue to payment": only when one control reads that way.
        let mut starts = Vec::new();
        for (i, b) in page.buttons.iter().enumerate().filter(|(_, b)| b.visible) {
            if k.len() >= 3 && key(&b.name).starts_with(&k) {
                starts.push(Target::Button(i));
            }
        }
        for (i, l) in page.links.iter().enumerate().filter(|(_, l)| l.visible) {
            if k.len() >= 3 && key(&l.text).starts_with(&k) {
                starts.push(Target::Link(i));
            }
        }
        if let [only] = starts.as_slice() {
            return Ok((*only, None));
        }
        return Err(Miss::absent(missing_control(page, asked)));
    }
    let visible: Vec<Target> = exact.iter().filter(|(_, v)| *v).map(|(t, _)| *t).collect();
    if visible.is_empty() {
        return Err(Miss {
            reason: format!("\"{asked}\" is on the page but not visible"),
            hidden: true,
            candidate: exact.first().map(|(t, _)| *t),
        });
    }
    let submit_of_form = visible.iter().copied().find(|t| match t {
        Target::Button(i) => page.buttons.get(*i).is_some_and(|b| {
            last_form.is_some()
                && b.form == last_form
                && matches!(b.button_type.as_str(), "submit" | "image")
        }),
        Target::Link(_) => false,
    });
    let chosen = submit_of_form
        .or_else(|| {
            visible
                .iter()
                .copied()
                .find(|t| matches!(t, Target::Button(_)))
        })
        .or_else(|| visible.first().copied());
    let Some(chosen) = chosen else {
        return Err(Miss::absent(missing_control(page, asked)));
    };
    let ambiguity = (exact.len() > 1).then(|| {
        let listed: Vec<String> = exact.iter().map(|(t, _)| describe(page, *t)).collect();
        let why = if Some(chosen) == submit_of_form {
            "the submit button of the form just filled"
        } else if matches!(chosen, Target::Button(_)) {
            "the first button"
        } else {
            "the first visible link"
        };
        format!(
            "{} controls are named \"{asked}\" ({}); clicked {why}",
            exact.len(),
            listed.join(", ")
        )
    });
    Ok((chosen, ambiguity))
}

/// "button in form 1", "link in header".
pub(super) fn describe(page: &PageState, t: Target) -> String {
    match t {
        Target::Button(i) => match page.buttons.get(i).and_then(|b| b.form) {
            Some(f) => format!("button in form {}", f + 1),
            None => "button".to_string(),
        },
        Target::Link(i) => match page.links.get(i).map(|l| l.region.as_str()) {
            Some(r) if !r.is_empty() => format!("link in {r}"),
            _ => "link".to_string(),
        },
    }
}

fn missing_control(page: &PageState, asked: &str) -> String {
    let names: Vec<&str> = page
        .buttons
        .iter()
        .filter(|b| b.visible)
        .map(|b| b.name.as_str())
        .chain(
            page.links
                .iter()
                .filter(|l| l.visible)
                .map(|l| l.text.as_str()),
        )
        .filter(|n| !n.is_empty())
        .collect();
    let close = names
        .iter()
        .map(|n| {
            (
                strsim::normalized_damerau_levenshtein(&key(n), &key(asked)),
                *n,
            )
        })
        .filter(|(s, _)| *s >= 0.6)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match close {
        Some((_, n)) => format!(
            "the scenario names the button or link \"{asked}\"; the page has none by that name (the closest is \"{n}\")"
        ),
        None if names.is_empty() => {
            format!(
                "the scenario names the button or link \"{asked}\"; the page has no buttons or links"
            )
        }
        None => {
            let shown: Vec<String> = names.iter().take(8).map(|n| format!("\"{n}\"")).collect();
            format!(
                "the scenario names the button or link \"{asked}\"; the page offers {}",
                shown.join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Control, Link, NameSource};

    fn field(name: &str, placeholder: &str, html_name: &str) -> Field {
        Field {
            name: name.into(),
            name_source: if name.is_empty() {
                NameSource::None
            } else {
                NameSource::Label
            },
            role: "textbox".into(),
            tag: "input".into(),
            input_type: "text".into(),
            placeholder: placeholder.into(),
            html_name: html_name.into(),
            visible: true,
            ..Field::default()
        }
    }

    fn page() -> PageState {
        PageState {
            fields: vec![
                field("Owner Name *", "", "owner"),
                field("E-mail address", "", "mail"),
                field("", "Postcode", "pc"),
                Field {
                    name: "Town".into(),
                    name_source: NameSource::Placeholder,
                    ..field("", "Town", "t")
                },
                field("", "", "dob"),
            ],
            buttons: vec![Control {
                name: "Log in".into(),
                role: "button".into(),
                button_type: "submit".into(),
                form: Some(0),
                visible: true,
                ..Control::default()
            }],
            links: vec![
                Link {
                    text: "Log in".into(),
                    href: "/login".into(),
                    region: "header".into(),
                    visible: true,
                    ..Link::default()
                },
                Link {
                    text: "Reset your access".into(),
                    href: "/forgot".into(),
                    visible: true,
                    ..Link::default()
                },
            ],
            ..PageState::default()
        }
    }

    #[test]
    fn fields_are_found_by_name_then_placeholder_then_name_attribute() {
        let p = page();
        assert_eq!(
            super::field(&p, "owner name", Want::Text),
            Ok((0, FoundBy::AccessibleName))
        );
        assert_eq!(
            super::field(&p, "Email", Want::Text),
            Ok((1, FoundBy::AccessibleName))
        );
        assert_eq!(
            super::field(&p, "Postcode", Want::Text),
            Ok((2, FoundBy::Placeholder))
        );
        assert_eq!(
            super::field(&p, "Town", Want::Text),
            Ok((3, FoundBy::Placeholder))
        );
        assert_eq!(
            super::field(&p, "dob", Want::Text),
            Ok((4, FoundBy::NameAttribute))
        );
        let err = super::field(&p, "Password", Want::Text).unwrap_err();
        assert!(!err.hidden);
        let err = err.reason;
        assert!(
            err.contains("the scenario names the field \"Password\""),
            "{err}"
        );
        assert!(err.contains("\"Owner Name *\""), "{err}");
        assert!(super::field(&p, "Owner Name", Want::Choice).is_err());
    }

    #[test]
    fn repeated_names_prefer_the_submit_of_the_filled_form_and_say_so() {
        let p = page();
        let (t, amb) = control(&p, "Log in", Some(0)).unwrap();
        assert_eq!(t, Target::Button(0));
        let amb = amb.unwrap();
        assert!(
            amb.contains("2 controls") && amb.contains("link in header"),
            "{amb}"
        );
        assert_eq!(
            control(&p, "reset your access", None).unwrap(),
            (Target::Link(1), None)
        );
    }

    #[test]
    fn a_missing_control_names_the_closest() {
        let err = control(&page(), "Reset my access", None)
            .unwrap_err()
            .reason;
        assert!(err.contains("closest is \"Reset your access\""), "{err}");
        let err = control(&page(), "Forgot password", None)
            .unwrap_err()
            .reason;
        assert!(err.contains("the page offers"), "{err}");
    }

    #[test]
    fn a_hidden_field_or_control_is_told_from_an_absent_one() {
        let mut p = page();
        p.fields[1].visible = false;
        p.links[1].visible = false;
        let miss = super::field(&p, "E-mail address", Want::Text).unwrap_err();
        assert!(
            miss.hidden && miss.reason.contains("not visible"),
            "{miss:?}"
        );
        let miss = control(&p, "Reset your access", None).unwrap_err();
        assert!(miss.hidden, "{miss:?}");
        assert!(
            !super::field(&p, "Account Number", Want::Text)
                .unwrap_err()
                .hidden
        );
    }
}
