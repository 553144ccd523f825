//! Writing the draft: the forms found, as a scenario file a person reads and finishes.
//!
//! One journey: for each form, the steps that reach it from the first page, a `fill` of its
//! fields and the click that sends it. Every choice the draft makes for the user is said in
//! a comment beside it (a guessed secret, a value made up, a field the letter does not give),
//! so the file explains itself. Values are written as the scenario language reads them
//! (`{Hold}`, `{unknown}`, braces doubled), and quoted with the recorder's own quoting, so
//! the draft loads as it is. Text only: no I/O.

use std::path::PathBuf;

use url::Url;

use super::letter::LetterHold;
use super::matcher::{Choice, best_hold};
use super::{Entry, FoundForm};
use crate::config::Config;
use crate::normalize::{normalize, strip_required_marker};
use crate::scenario::recorder::quote;
use crate::trace::{Field, url_path};

/// A draft and what to tell the user about it.
pub(crate) struct Written {
    pub(crate) yaml: String,
    pub(crate) notes: Vec<String>,
}

/// The value a hold gets when no letter was given: obviously not the user's, and typed as
/// it is so the draft runs.
const PLACEHOLDER: &str = "TODO";

/// The draft for `forms`, found from `url` (whose page is titled `title`).
pub(crate) fn write(
    url: &Url,
    title: &str,
    forms: &[FoundForm],
    letter: Option<&(PathBuf, Vec<LetterHold>)>,
    config: &Config,
) -> Written {
    let synonyms = &config.synonyms;
    let mut notes = Vec::new();
    // Without a letter the holds are named after the labels, as they are met.
    let mut holds: Vec<(String, String)> = match letter {
        Some((_, h)) => h
            .iter()
            .map(|h| (h.name.clone(), h.value.clone()))
            .collect(),
        None => Vec::new(),
    };
    let mut steps = String::new();
    let mut unknown = Vec::new();
    for form in forms {
        let path = url_path(url.as_str());
        let at = url_path(&form.url);
        match (&form.via, form.purpose) {
            (Some(link), purpose) => {
                steps.push_str(&format!(
                    "  # {}: \"{link}\" on the first page leads to {at}.\n",
                    purpose.describe()
                ));
                steps.push_str(&format!("  - open: {}\n", quote(&path)));
                steps.push_str(&format!("  - click: {}\n", quote(link)));
            }
            (None, _) => {
                steps.push_str(&format!("  # {} ({at}).\n", Entry::OnPage.describe()));
                steps.push_str(&format!("  - open: {}\n", quote(&at)));
            }
        }
        let mut fill = String::new();
        let mut keys: Vec<String> = Vec::new();
        let mut choices: Vec<String> = Vec::new();
        for field in &form.fields {
            let Some(label) = label_of(field) else {
                fill.push_str(&format!(
                    "      # {}: no label and no name, so no step can name it.\n",
                    field.describe()
                ));
                continue;
            };
            if !field.is_text_like() {
                let asked = if field.group.trim().is_empty() {
                    label
                } else {
                    field.group.trim().to_string()
                };
                if !choices.contains(&asked) {
                    choices.push(asked);
                }
                continue;
            }
            if keys.iter().any(|k| normalize(k) == normalize(&label)) {
                fill.push_str(&format!(
                    "      # A second field labelled \"{label}\": a step can name only the first.\n"
                ));
                continue;
            }
            keys.push(label.clone());
            let key = quote(&label);
            let names: Vec<String> = holds.iter().map(|(n, _)| n.clone()).collect();
            let choice = match letter {
                Some(_) => best_hold(&label, Some(field), &names, synonyms),
                None => match best_hold(&label, Some(field), &[], synonyms) {
                    Choice::Invent => Choice::Invent,
                    _ => Choice::Hold(hold_named_after(&label, &mut holds)),
                },
            };
            match choice {
                Choice::Hold(h) => {
                    fill.push_str(&format!("      {key}: {}\n", quote(&reference(&h))));
                }
                Choice::Guess(h) => {
                    fill.push_str(&format!(
                        "      # The letter gives no {label}; a first-time user tries their {h}.\n"
                    ));
                    fill.push_str(&format!("      {key}: {}\n", quote(&reference(&h))));
                }
                Choice::Invent => {
                    fill.push_str("      # A new value the user makes up.\n");
                    fill.push_str(&format!("      {key}: {}\n", quote(made_up(field))));
                }
                Choice::Unknown => {
                    fill.push_str(&format!(
                        "      # The letter gives no {label}: the user has nothing to type.\n"
                    ));
                    fill.push_str(&format!("      {key}: \"{{unknown}}\"\n"));
                    unknown.push(label.clone());
                }
            }
        }
        if keys.is_empty() {
            steps.push_str(&fill.replace("      #", "  #"));
        } else {
            steps.push_str("  - fill:\n");
            steps.push_str(&fill);
        }
        for asked in &choices {
            steps.push_str(&format!(
                "  # \"{asked}\" is a choice: add `- choose: {{{}: …}}` with the option the user picks.\n",
                quote(asked)
            ));
        }
        match &form.submit {
            Some(button) => steps.push_str(&format!("  - click: {}\n", quote(button))),
            None => steps.push_str("  # No button sends this form: say how the user sends it.\n"),
        }
        steps.push_str("  # Add `- expect: …` with what the user should see now.\n");
        notes.push(format!(
            "{} at {at}: {} field(s)",
            form.via
                .as_ref()
                .map_or(Entry::OnPage.describe(), |_| form.purpose.describe()),
            keys.len()
        ));
    }
    if letter.is_some() && !unknown.is_empty() {
        notes.push(format!(
            "the letter gives no {}: left as {{unknown}}",
            unknown.join(", ")
        ));
    }

    let mut yaml = String::new();
    let source = match letter {
        Some((path, _)) => format!(
            " and the letter {}",
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ),
        None => String::new(),
    };
    yaml.push_str(&format!(
        "# Drafted by `nocall init` from {url}{source}.\n\
         # Read each step, add what the user should see after each click (`- expect: …`), and\n\
         # set monthly_users to the first-time users a month who take this journey.\n"
    ));
    let name =
        site_name(title).unwrap_or_else(|| url.host_str().unwrap_or("the portal").to_string());
    yaml.push_str(&format!(
        "name: {}\n",
        quote(&format!("First visit to {name}"))
    ));
    yaml.push_str(&format!("start: {}\n", quote(url.as_str())));
    yaml.push_str("monthly_users: 100\n");
    if !holds.is_empty() {
        yaml.push_str("holds:\n");
        match letter {
            Some(_) => yaml.push_str(
                "  # What the user holds, under the letter's own names, typed as printed. For a\n  \
                 # real account, keep a secret out of the file: `Leader PIN: \"{env:LEADER_PIN}\"`.\n",
            ),
            None => yaml.push_str(
                "  # No letter was given, so these holds are named after the page's labels. Rename\n  \
                 # each to the name printed on the user's letter, card or e-mail, and give its value\n  \
                 # (`nocall init URL --letter FILE` does both): a label that differs from the\n  \
                 # letter is what nocall is here to find.\n",
            ),
        }
        for (name, value) in &holds {
            yaml.push_str(&format!("  {}: {}\n", quote(name), quote(&literal(value))));
        }
    }
    yaml.push_str("steps:\n");
    yaml.push_str(&steps);
    Written { yaml, notes }
}

/// The page's title for the journey's name, said once: "Home | Acme | Acme" → "Home | Acme".
fn site_name(title: &str) -> Option<String> {
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut parts: Vec<&str> = Vec::new();
    for part in title.split(" | ").map(str::trim).filter(|p| !p.is_empty()) {
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    (!parts.is_empty()).then(|| parts.join(" | "))
}

/// How a step names a field: its accessible name, else its `name` attribute.
fn label_of(field: &Field) -> Option<String> {
    [&field.name, &field.html_name]
        .into_iter()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .find(|s| !s.is_empty())
}

/// The hold named after `label` (added when new): its words without the required marker,
/// and without braces, which a reference cannot hold.
fn hold_named_after(label: &str, holds: &mut Vec<(String, String)>) -> String {
    let name: String = strip_required_marker(label)
        .trim_end_matches([':', '?'])
        .chars()
        .filter(|c| !matches!(c, '{' | '}'))
        .collect::<String>()
        .trim()
        .to_string();
    let name = if name.is_empty() {
        "Field".to_string()
    } else {
        name
    };
    match holds.iter().find(|(n, _)| normalize(n) == normalize(&name)) {
        Some((n, _)) => n.clone(),
        None => {
            holds.push((name.clone(), PLACEHOLDER.to_string()));
            name
        }
    }
}

/// `{Name}`, the value that types a hold.
fn reference(hold: &str) -> String {
    format!("{{{hold}}}")
}

/// Text typed as it is: braces doubled, so the scenario does not read them as references.
fn literal(text: &str) -> String {
    text.replace('{', "{{").replace('}', "}}")
}

/// A value the user would make up for a new account.
fn made_up(field: &Field) -> &'static str {
    match field.input_type.as_str() {
        "password" => "Harbour-Lights-26",
        "email" => "first.timer@example.test",
        _ => "first-timer",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_str;

    fn field(name: &str, ty: &str) -> Field {
        Field {
            name: name.into(),
            role: "textbox".into(),
            tag: "input".into(),
            input_type: ty.into(),
            visible: true,
            ..Field::default()
        }
    }

    fn login() -> FoundForm {
        FoundForm {
            via: Some("Log in".into()),
            purpose: Entry::SignIn,
            url: "http://127.0.0.1:1/confer/login".into(),
            fields: vec![
                field("Owner Name", "text"),
                field("Password", "password"),
                field("Web PIN", "password"),
                field("Choose a password", "password"),
            ],
            submit: Some("Log in".into()),
        }
    }

    fn url() -> Url {
        Url::parse("http://127.0.0.1:1/confer/").unwrap()
    }

    fn loads(yaml: &str) -> crate::scenario::Scenario {
        load_str(yaml, "draft.yaml".as_ref(), &|_| None)
            .unwrap_or_else(|e| panic!("{yaml}\n{e:#?}"))
            .0
    }

    #[test]
    fn with_a_letter_fields_take_the_letters_holds() {
        let letter = (
            PathBuf::from("card.txt"),
            vec![
                LetterHold {
                    name: "Owner Name".into(),
                    value: "Pat {Doe}".into(),
                },
                LetterHold {
                    name: "Leader PIN".into(),
                    value: "7391".into(),
                },
            ],
        );
        let w = write(
            &url(),
            "Log in",
            &[login()],
            Some(&letter),
            &Config::default(),
        );
        assert!(
            w.yaml.contains("Owner Name: \"{Owner Name}\""),
            "{}",
            w.yaml
        );
        assert!(w.yaml.contains("tries their Leader PIN"), "{}", w.yaml);
        assert!(w.yaml.contains("Web PIN: \"{unknown}\""), "{}", w.yaml);
        let s = loads(&w.yaml);
        assert_eq!(s.holds[0].value.text, "Pat {Doe}");
        assert_eq!(s.steps.len(), 4);
        assert_eq!(s.name, "First visit to Log in");
    }

    #[test]
    fn without_a_letter_holds_are_named_after_the_labels() {
        let w = write(&url(), "", &[login()], None, &Config::default());
        let s = loads(&w.yaml);
        let names: Vec<&str> = s.holds.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["Owner Name", "Password", "Web PIN"]);
        assert!(w.yaml.contains("Rename"), "{}", w.yaml);
        assert!(!w.yaml.contains("{unknown}"));
    }
}
