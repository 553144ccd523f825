//! `label-missing`: a field has no name a person can read or a screen reader can say.
//!
//! Reported for every visible field on every page the journey saw: no accessible name at
//! all; a name that is only the placeholder (gone once the user types); a `<label>` that
//! points at nothing (so its field goes unnamed); two fields of one form with the same name;
//! and a name that does not contain the label a person sees (the axe-core
//! `label-content-name-mismatch` idea: a voice-control user says what they read). A field the
//! journey itself could find only by placeholder or `name` attribute is on its path.

use std::collections::{HashMap, HashSet};

use super::says_nothing_alone;
use crate::checks::common::{Findings, clip, is_user_field, page_of};
use crate::checks::{Audit, Check};
use crate::finding::{Finding, Kind};
use crate::normalize::{contains_words, normalize, same_label, words};
use crate::trace::{Field, FoundBy, NameSource, OrphanLabel, PageState, Trace};

pub(crate) struct LabelMissing;

impl Check for LabelMissing {
    fn name(&self) -> &'static str {
        "label-missing"
    }

    fn run(&self, audit: &Audit<'_>) -> Vec<Finding> {
        let mut out = Findings::default();
        for t in audit.traces {
            // The journey's own fields first, so their findings carry the on-path message.
            found_without_label(t, &mut out);
            let typed: HashSet<(String, String)> = t
                .steps
                .iter()
                .flat_map(|s| s.filled.iter())
                .map(|f| (crate::trace::url_path(&f.url), normalize(&f.name)))
                .collect();
            for step in &t.steps {
                let Some(page) = &step.page else { continue };
                // A field the journey typed into is on its path, however nocall found it.
                let on_path: HashSet<String> = page
                    .fields
                    .iter()
                    .filter(|f| typed.contains(&(page.path(), normalize(&f.name))))
                    .map(Field::describe)
                    .collect();
                for f in page_findings(page, &audit.config.synonyms) {
                    let mine = on_path.contains(&f.element);
                    out.push(f.on_path(mine).at(t, Some(step.index)));
                }
            }
        }
        out.into_vec()
    }
}

/// Fields the scenario asked for by label that nocall could find only another way.
fn found_without_label(t: &Trace, out: &mut Findings) {
    for step in &t.steps {
        for filled in &step.filled {
            let how = match filled.found_by {
                FoundBy::Placeholder => "its placeholder, which disappears once they type",
                FoundBy::NameAttribute => "its hidden `name` attribute",
                // A person reads the text beside it; `page_findings` says it is untied.
                FoundBy::AccessibleName | FoundBy::Selector | FoundBy::Beside => continue,
            };
            let field = super::filled_field(t, step, filled.field);
            // The scenario named it another way, but a person reads the words beside it
            // (a table row's header cell): only the tie is missing, which `page_findings`
            // reports with those words.
            if field.is_some_and(|f| !f.beside.trim().is_empty()) {
                continue;
            }
            let element = field
                .map(Field::describe)
                .unwrap_or_else(|| format!("field \"{}\" with no label", filled.asked));
            let f = Finding::new(
                Kind::LabelMissing,
                &filled.url,
                element,
                format!(
                    "The field for \"{}\" has no label a person can read; it was found only by {how}.",
                    filled.asked
                ),
            )
            .on_path(true)
            .at(t, Some(step.index))
            .excerpt(field.map(|f| f.html.clone()).unwrap_or_default());
            out.push(f);
        }
    }
}

/// Everything wrong with the names of one page's fields (unattributed: no journey yet).
fn page_findings(page: &PageState, synonyms: &[Vec<String>]) -> Vec<Finding> {
    let on = page_of(page);
    let fields: Vec<&Field> = page.fields.iter().filter(|f| is_user_field(f)).collect();
    let mut out = Vec::new();
    let mut explained: HashSet<usize> = HashSet::new();

    for field in &fields {
        let orphan = page
            .orphan_labels
            .iter()
            .enumerate()
            .find(|(_, o)| orphan_belongs_to(o, field));
        let why = match (field.name_source, field.name.trim().is_empty()) {
            (NameSource::None, _) | (_, true) => "has no accessible name at all".to_string(),
            (NameSource::Placeholder, _) => format!(
                "is named only by its placeholder \"{}\", which disappears once the user types",
                field.placeholder
            ),
            (_, false) if says_nothing_alone(&field.name) => format!(
                "is labelled only \"{}\": its name does not say what to type (it repeats the \
                 field before it, but a screen-reader user hears only \"{}\")",
                field.name.trim(),
                field.name.trim()
            ),
            _ => {
                if let Some(message) = name_hides_label(field, &on) {
                    out.push(
                        Finding::new(Kind::LabelMissing, &page.url, field.describe(), message)
                            .excerpt(field.html.clone()),
                    );
                }
                continue;
            }
        };
        // The words beside it are what a sighted person reads as its label; what is
        // missing is only the tie, which screen readers and voice control need. A warning:
        // no first-time user calls because of it, some cannot use the form.
        if field.name_source == NameSource::None && !field.beside.trim().is_empty() {
            out.push(
                Finding::new(
                    Kind::LabelMissing,
                    &page.url,
                    field.describe(),
                    format!(
                        "A field on {on} shows \"{}\" beside it, but no label ties that text to \
                         the field: screen readers announce it without a name and voice control \
                         cannot reach it by that name.",
                        field.beside.trim()
                    ),
                )
                .warning()
                .excerpt(field.html.clone()),
            );
            continue;
        }
        let mut message = format!("A field on {on} {why}.");
        if let Some((i, o)) = orphan {
            explained.insert(i);
            message.push_str(&format!(
                " The label \"{}\" beside it is tied to no field (for=\"{}\" matches no id), so \
                 screen readers do not say it and clicking it does nothing.",
                o.text, o.for_id
            ));
        }
        out.push(
            Finding::new(Kind::LabelMissing, &page.url, field.describe(), message)
                .excerpt(field.html.clone()),
        );
    }

    for (i, o) in page.orphan_labels.iter().enumerate() {
        let names_a_field = fields
            .iter()
            .any(|f| same_label(&o.text, &f.name, synonyms));
        if explained.contains(&i) || names_a_field || o.text.trim().is_empty() {
            continue;
        }
        let points = if o.for_id.is_empty() {
            "is tied to no field".to_string()
        } else {
            format!("points at no field (for=\"{}\" matches no id)", o.for_id)
        };
        out.push(
            Finding::new(
                Kind::LabelMissing,
                &page.url,
                format!("label \"{}\"", clip(&o.text, 60)),
                format!(
                    "The label \"{}\" on {on} {points}: screen readers do not read it with any \
                     field, and clicking it does nothing.",
                    o.text
                ),
            )
            .excerpt(format!("<label for=\"{}\">{}</label>", o.for_id, o.text)),
        );
    }

    out.extend(duplicate_names(page, &fields, &on));
    out
}

/// The orphan label was meant for this field: its `for` is the field's id or name give or
/// take punctuation, or its text is what the field's placeholder or `name` says.
fn orphan_belongs_to(o: &OrphanLabel, f: &Field) -> bool {
    let target = normalize(&o.for_id);
    let by_id = !target.is_empty()
        && [&f.id, &f.html_name]
            .iter()
            .any(|s| !s.is_empty() && normalize(s) == target);
    let text = normalize(&o.text);
    let by_text = !text.is_empty()
        && [&f.placeholder, &f.html_name]
            .iter()
            .any(|s| !s.is_empty() && normalize(s) == text);
    let unnamed = matches!(f.name_source, NameSource::None | NameSource::Placeholder)
        || f.name.trim().is_empty();
    unnamed && (by_id || by_text)
}

/// The visible label and the accessible name say different things (an `aria-label` that
/// overrides the `<label>`). Either containing the other is fine: a label wrapping a
/// `<select>` reads its options too, and "Search" named "Search the catalogue" is fine.
fn name_hides_label(field: &Field, on: &str) -> Option<String> {
    if field.label_text.trim().is_empty() || field.name_source == NameSource::Label {
        return None;
    }
    let (shown, said) = (words(&field.label_text), words(&field.name));
    if shown.is_empty() || contains_words(&said, &shown) || contains_words(&shown, &said) {
        return None;
    }
    Some(format!(
        "A field on {on} shows the label \"{}\" but is announced as \"{}\": a screen-reader \
         or voice-control user cannot find it by the name they see.",
        field.label_text.trim(),
        field.name
    ))
}

/// Two fields of one form that share a name: the user cannot tell them apart by ear.
/// Radio buttons and checkboxes are left out: "Yes" and "No" repeat in every questionnaire.
fn duplicate_names(page: &PageState, fields: &[&Field], on: &str) -> Vec<Finding> {
    let mut groups: HashMap<(Option<usize>, String), Vec<&Field>> = HashMap::new();
    let mut order = Vec::new();
    for f in fields {
        if matches!(f.input_type.as_str(), "radio" | "checkbox")
            || matches!(f.role.as_str(), "radio" | "checkbox")
        {
            continue;
        }
        let k = normalize(&f.name);
        if k.is_empty() {
            continue;
        }
        let key = (f.form, k);
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().push(f);
    }
    order
        .into_iter()
        .filter_map(|key| {
            let same = groups.get(&key).filter(|g| g.len() > 1)?;
            let first = same.first()?;
            let excerpt = same
                .iter()
                .map(|f| f.html.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            Some(
                Finding::new(
                    Kind::LabelMissing,
                    &page.url,
                    format!("{} fields labelled \"{}\"", same.len(), first.name),
                    format!(
                        "{} fields on {on} are all called \"{}\": the user cannot tell which is \
                         which, and a screen reader announces them the same.",
                        same.len(),
                        first.name
                    ),
                )
                .excerpt(excerpt),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::*;

    fn findings_for(fields: Vec<Field>, orphans: Vec<OrphanLabel>) -> Vec<Finding> {
        let mut p = page("/register", "Register", "");
        p.fields = fields;
        p.orphan_labels = orphans;
        let t = trace("s", &[], vec![open(1, p.clone()), open(2, p)]);
        run(&LabelMissing, &[t])
    }

    fn placeholder_only(placeholder: &str) -> Field {
        Field {
            name: placeholder.into(),
            name_source: NameSource::Placeholder,
            placeholder: placeholder.into(),
            label_text: String::new(),
            ..field("")
        }
    }

    fn nameless(html_name: &str) -> Field {
        Field {
            name: String::new(),
            name_source: NameSource::None,
            label_text: String::new(),
            html_name: html_name.into(),
            ..field("")
        }
    }

    #[test]
    fn placeholder_only_and_nameless_fields_are_reported_once_per_page() {
        let found = findings_for(
            vec![
                placeholder_only("Email"),
                nameless("x"),
                field("Owner Name"),
            ],
            vec![],
        );
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found.iter().all(|f| f.kind == Kind::LabelMissing));
        assert!(found[0].message.contains("placeholder \"Email\""));
        assert_eq!(found[0].element, "input labelled \"Email\"");
        assert!(found[1].message.contains("no accessible name"));
        assert_eq!(found[1].element, "input named \"x\" with no label");
        assert_eq!(found[0].occurrences.len(), 1);
        assert_eq!(found[0].step, Some(1));
    }

    #[test]
    fn a_confirmation_named_only_once_again_says_nothing_alone() {
        let found = findings_for(vec![field("New password"), field("once again")], vec![]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].message.contains("labelled only \"once again\""),
            "{}",
            found[0].message
        );
        assert!(
            findings_for(vec![field("Password"), field("Confirm password")], vec![]).is_empty()
        );
    }

    #[test]
    fn labelled_fields_raise_nothing() {
        let mut search = field("Search");
        search.form = Some(1);
        let found = findings_for(
            vec![
                field("Email"),
                field("Password"),
                field("Confirm password"),
                search,
            ],
            vec![],
        );
        assert!(found.is_empty(), "{found:#?}");
    }

    #[test]
    fn an_orphan_label_is_explained_with_the_field_it_was_meant_for() {
        let mut postcode = placeholder_only("Postcode");
        postcode.id = "postcode".into();
        let found = findings_for(
            vec![postcode],
            vec![OrphanLabel {
                text: "Postcode".into(),
                for_id: "post-code".into(),
                ..OrphanLabel::default()
            }],
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].message.contains("for=\"post-code\" matches no id"));
    }

    #[test]
    fn an_orphan_label_without_its_field_is_its_own_finding_unless_something_has_its_name() {
        let orphan = |text: &str| OrphanLabel {
            text: text.into(),
            for_id: "gone".into(),
            ..OrphanLabel::default()
        };
        let found = findings_for(vec![field("Email")], vec![orphan("Member number")]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].element, "label \"Member number\"");
        // A label whose field is named the same way some other route is harmless.
        assert!(findings_for(vec![field("Email")], vec![orphan("E-mail")]).is_empty());
    }

    #[test]
    fn two_fields_of_one_form_with_one_name_are_reported_but_not_across_forms_or_radios() {
        let found = findings_for(vec![field("Email"), field("E-mail")], vec![]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].element, "2 fields labelled \"Email\"");

        let mut other_form = field("Email");
        other_form.form = Some(1);
        assert!(findings_for(vec![field("Email"), other_form], vec![]).is_empty());

        let radio = |n: &str| Field {
            input_type: "radio".into(),
            role: "radio".into(),
            ..field(n)
        };
        assert!(findings_for(vec![radio("Yes"), radio("Yes")], vec![]).is_empty());
    }

    #[test]
    fn a_name_that_hides_the_visible_label_is_reported() {
        let mut f = field("Username");
        f.name_source = NameSource::AriaLabel;
        f.label_text = "Email *".into();
        let found = findings_for(vec![f], vec![]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].message.contains("shows the label \"Email *\""));
        assert!(found[0].url.ends_with("/register"));

        // Containment either way is fine: a longer spoken name, or a label that wraps options.
        let mut longer = field("Search the catalogue");
        longer.name_source = NameSource::AriaLabel;
        longer.label_text = "Search".into();
        let mut wrapping = field("Country");
        wrapping.name_source = NameSource::Other;
        wrapping.label_text = "Country France Spain".into();
        assert!(findings_for(vec![longer, wrapping], vec![]).is_empty());
    }

    #[test]
    fn a_field_found_only_by_placeholder_is_on_the_journeys_path() {
        let mut p = page("/card/lost", "Lost your card?", "");
        p.fields = vec![placeholder_only("Postcode")];
        let mut fill_step = fill(2, &p, &[(0, &["Postcode"], false)]);
        if let Some(f) = fill_step.filled.first_mut() {
            f.found_by = FoundBy::Placeholder;
        }
        let t = trace("card", &["Postcode"], vec![open(1, p.clone()), fill_step]);
        let found = run(&LabelMissing, &[t]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].on_path);
        assert!(found[0].message.contains("found only by its placeholder"));
        assert_eq!(found[0].step, Some(2));

        // Found by its accessible name (which Chromium took from the placeholder): the
        // page-level finding is on the path all the same.
        let mut p2 = p.clone();
        p2.url = format!("{BASE}/card/lost2");
        let t = trace(
            "card",
            &["Postcode"],
            vec![
                open(1, p2.clone()),
                fill(2, &p2, &[(0, &["Postcode"], false)]),
            ],
        );
        let found = run(&LabelMissing, &[t]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].on_path);
        assert!(found[0].message.contains("named only by its placeholder"));
        assert_eq!(found[0].step, Some(1));
    }

    #[test]
    fn a_field_named_by_its_name_attribute_with_words_beside_it_is_only_untied() {
        // Roundup's reset form: `<th>Username:</th><td><input name=username>`, and a
        // scenario that names the field "username".
        let mut p = page("/tracker/reset", "Password reset request", "");
        p.fields = vec![Field {
            beside: "Username:".into(),
            ..nameless("username")
        }];
        let mut fill_step = fill(2, &p, &[(0, &["username"], false)]);
        if let Some(f) = fill_step.filled.first_mut() {
            f.found_by = FoundBy::NameAttribute;
        }
        let t = trace("reset", &["username"], vec![open(1, p.clone()), fill_step]);
        let found = run(&LabelMissing, &[t]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].message.contains("shows \"Username:\" beside it"),
            "{found:#?}"
        );
        assert!(!found[0].message.contains("hidden `name`"), "{found:#?}");
    }
}
