//! Which of the user's holds a field of the page takes, as the user would pick it.
//!
//! Names are compared exactly as the label checks compare them ([`names_agree`],
//! [`same_label`], with `nocall.yaml`'s synonyms), so a draft fills a field with a hold only
//! where `label-mismatch` would let it pass, with one exception a first-time user makes
//! every day: a field that asks for a plain "Password" or "PIN" gets the secret the letter
//! does give ("Leader PIN"), marked as a guess, because that is what the user types and
//! what the checks are there to catch. Pure: labels in, a choice out; no page, no browser.

use crate::checks::invents_a_value;
use crate::normalize::{names_agree, same_label, words};
use crate::trace::Field;

/// What a draft types into a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Choice {
    /// The hold of this name: its name agrees with the field's label.
    Hold(String),
    /// The hold of this name, though the label names something else: the user's guess at a
    /// secret ("Password" → their "Leader PIN").
    Guess(String),
    /// A new value the user makes up ("Choose a password").
    Invent,
    /// Nothing the user holds fits.
    Unknown,
}

/// Words that name a secret the user keeps.
const SECRET_WORDS: [&str; 4] = ["password", "pin", "passcode", "passphrase"];

/// The hold that best fits the field labelled `label`, among `holds` (names, in the
/// letter's order; the first wins a tie).
pub(crate) fn best_hold(
    label: &str,
    field: Option<&Field>,
    holds: &[String],
    synonyms: &[Vec<String>],
) -> Choice {
    if invents_a_value(label, field) {
        return Choice::Invent;
    }
    let best = holds
        .iter()
        .filter(|h| names_agree(label, h, synonyms))
        .map(|h| (closeness(label, h, synonyms), h))
        .fold(None::<(i64, &String)>, |best, (score, h)| match best {
            Some((s, _)) if s >= score => best,
            _ => Some((score, h)),
        });
    if let Some((_, h)) = best {
        return Choice::Hold(h.clone());
    }
    if asks_for_a_secret(label, field)
        && let Some(h) = holds.iter().find(|h| is_secret_name(h))
    {
        return Choice::Guess(h.clone());
    }
    Choice::Unknown
}

/// How near two agreeing names are: the same name first, then the most words shared and
/// the fewest added.
fn closeness(label: &str, hold: &str, synonyms: &[Vec<String>]) -> i64 {
    if same_label(label, hold, synonyms) {
        return i64::MAX;
    }
    let (a, b) = (words(label), words(hold));
    let shared = a.iter().filter(|w| b.contains(w)).count();
    let added = a.len() + b.len() - 2 * shared;
    (shared as i64) * 10 - added as i64
}

/// The field asks for the user's secret by a generic name ("Password", "PIN", "Current
/// password"), not a named one the letter would print ("Web PIN").
fn asks_for_a_secret(label: &str, field: Option<&Field>) -> bool {
    let w: Vec<String> = words(label)
        .into_iter()
        .filter(|w| !matches!(w.as_str(), "current" | "existing" | "code"))
        .collect();
    match w.as_slice() {
        [one] => SECRET_WORDS.contains(&one.as_str()),
        [] => field.is_some_and(|f| f.input_type == "password"),
        _ => false,
    }
}

fn is_secret_name(name: &str) -> bool {
    words(name)
        .iter()
        .any(|w| SECRET_WORDS.contains(&w.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    const CARD: &[&str] = &[
        "Owner Name",
        "Owner Number",
        "Conference Code",
        "Leader PIN",
    ];

    fn pick(label: &str, names: &[&str]) -> Choice {
        best_hold(label, None, &holds(names), &[])
    }

    #[test]
    fn a_field_takes_the_hold_of_its_name() {
        assert_eq!(pick("Owner Name", CARD), Choice::Hold("Owner Name".into()));
        assert_eq!(
            pick("Owner Number *", CARD),
            Choice::Hold("Owner Number".into())
        );
        assert_eq!(
            pick("Email address", &["Email", "Owner Name"]),
            Choice::Hold("Email".into())
        );
        // The closest of several that agree: the same name over one with added words.
        assert_eq!(
            pick("PIN", &["Leader PIN", "PIN"]),
            Choice::Hold("PIN".into())
        );
        assert_eq!(
            pick("Postcode", &["Full name", "ZIP code"]),
            Choice::Hold("ZIP code".into())
        );
    }

    #[test]
    fn configured_synonyms_count() {
        let synonyms = vec![vec!["Card number".to_string(), "Member ID".to_string()]];
        let names = holds(&["Card number"]);
        assert_eq!(best_hold("Member ID", None, &names, &[]), Choice::Unknown);
        assert_eq!(
            best_hold("Member ID", None, &names, &synonyms),
            Choice::Hold("Card number".into())
        );
    }

    #[test]
    fn a_plain_password_is_guessed_with_the_letters_secret() {
        assert_eq!(pick("Password", CARD), Choice::Guess("Leader PIN".into()));
        assert_eq!(pick("PIN code", CARD), Choice::Guess("Leader PIN".into()));
        // A named secret the letter does not print is unknown, not guessed.
        assert_eq!(pick("Web PIN", CARD), Choice::Unknown);
        assert_eq!(pick("Password", &["Owner Name"]), Choice::Unknown);
    }

    #[test]
    fn new_values_are_made_up_and_the_rest_is_unknown() {
        assert_eq!(pick("Choose a password", CARD), Choice::Invent);
        assert_eq!(pick("Choose a User Name", CARD), Choice::Invent);
        let new_password = Field {
            input_type: "password".into(),
            autocomplete: "new-password".into(),
            ..Field::default()
        };
        assert_eq!(
            best_hold("Password", Some(&new_password), &holds(CARD), &[]),
            Choice::Invent
        );
        assert_eq!(pick("Card number", CARD), Choice::Unknown);
        assert_eq!(pick("Credit limit", &[]), Choice::Unknown);
    }
}
