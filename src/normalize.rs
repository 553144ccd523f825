//! Label normalisation: when do two names mean the same thing to a person?
//!
//! Shared by the label checks and the runner's field locator, so that "the field the
//! scenario asked for" and "the field the page shows" are compared the same way everywhere.
//! Three strengths, weakest last:
//! - [`normalize`] / [`same_label`]: equal after dropping case, white space, punctuation and
//!   hyphenation ("E-mail" = "Email", "User name" = "Username"), or listed together in the
//!   project's `synonyms`. Strict enough for the locator.
//! - [`names_agree`]: one name is the other with words added around it ("Email address" for
//!   "E-mail", "Choose a password" for "Password"), or they are common synonyms ("ZIP code" for
//!   "Postcode"). What the label checks use to decide a user would recognise a field.
//! - [`near_match`]: also tolerates small spelling differences ("Forgotten password" for
//!   "Forgot password"), for control names quoted in a page's instructions.
//!
//! Nothing here knows about pages or traces; it is plain text in, answers out.

/// A label reduced to its lowercase letters and digits: `"E-mail *"` → `"email"`.
pub(crate) fn normalize(label: &str) -> String {
    label
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The label without a trailing required/optional marker: `"Email *"`, `"Email (required)"`,
/// `"Phone (optional)"` → `"Email"`, `"Phone"`. Markers are stripped repeatedly, so
/// `"Email * (required)"` works too; a label that is only a marker is kept as it is.
pub(crate) fn strip_required_marker(label: &str) -> String {
    const MARKERS: [&str; 8] = [
        "*",
        "(*)",
        "(required)",
        "(optional)",
        "[required]",
        "[optional]",
        "required",
        "optional",
    ];
    let mut s = label.trim();
    loop {
        let before = s;
        s = s.trim_end_matches([':', ' ', '\u{a0}', '-', '–']).trim();
        for m in MARKERS {
            // Only a whole trailing word counts: "Unrequired" keeps its letters.
            let Some(cut) = s.len().checked_sub(m.len()).filter(|&c| c > 0) else {
                continue;
            };
            let (Some(rest), Some(tail)) = (s.get(..cut), s.get(cut..)) else {
                continue;
            };
            let boundary = !m.starts_with(char::is_alphanumeric)
                || rest.ends_with(|c: char| !c.is_alphanumeric());
            if tail.eq_ignore_ascii_case(m) && boundary {
                s = rest.trim();
                break;
            }
        }
        if s == before {
            break;
        }
    }
    let s = s.trim_start_matches(['*', ' ']).trim();
    if s.is_empty() {
        label.trim().to_string()
    } else {
        s.to_string()
    }
}

/// The two labels are the same name: equal after [`normalize`] (and after dropping a
/// required marker), or members of one group of `synonyms`.
pub(crate) fn same_label(a: &str, b: &str, synonyms: &[Vec<String>]) -> bool {
    let (na, nb) = (key(a), key(b));
    if na.is_empty() || nb.is_empty() {
        return false;
    }
    if na == nb {
        return true;
    }
    synonyms.iter().any(|group| {
        let keys: Vec<String> = group.iter().map(|s| key(s)).collect();
        keys.contains(&na) && keys.contains(&nb)
    })
}

fn key(label: &str) -> String {
    normalize(&strip_required_marker(label))
}

/// Words that dress a label up without changing what it asks for ("Enter your e-mail").
const FILLER: [&str; 14] = [
    "a", "an", "the", "your", "my", "our", "enter", "please", "choose", "pick", "type", "provide",
    "input", "here",
];

/// Names that ordinary portals use interchangeably; a user holding one recognises the others.
/// Deliberately short: nothing here may hide a real trap (no "PIN" = "Password").
const COMMON_SYNONYMS: &[&[&str]] = &[
    &[
        "email",
        "e-mail",
        "email address",
        "e-mail address",
        "mail address",
    ],
    &[
        "username",
        "user name",
        "user id",
        "login",
        "login name",
        "login id",
    ],
    &[
        "phone",
        "telephone",
        "phone number",
        "telephone number",
        "mobile",
        "mobile number",
        "mobile phone",
    ],
    &["postcode", "post code", "zip", "zip code", "postal code"],
    &[
        "date of birth",
        "birth date",
        "birthdate",
        "birthday",
        "dob",
    ],
    &["first name", "given name", "forename"],
    &["last name", "surname", "family name"],
];

/// The significant words of a label, lowercased, hyphens joined ("E-mail" → `email`),
/// required markers and filler words dropped.
pub(crate) fn words(label: &str) -> Vec<String> {
    let all = raw_words(&strip_required_marker(label));
    let kept: Vec<String> = all
        .iter()
        .filter(|w| !FILLER.contains(&w.as_str()))
        .cloned()
        .collect();
    // A label made only of filler ("Your") keeps its words rather than vanish.
    if kept.is_empty() { all } else { kept }
}

fn raw_words(label: &str) -> Vec<String> {
    label
        .chars()
        .filter(|c| !matches!(c, '-' | '\u{2010}' | '\u{2011}' | '\'' | '\u{2019}'))
        .collect::<String>()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// `needle` occurs in `hay` starting and ending on word boundaries, comparing the words
/// run together so "User name" and "Username" line up.
pub(crate) fn contains_words(hay: &[String], needle: &[String]) -> bool {
    let target: String = needle.concat();
    if target.is_empty() {
        return false;
    }
    (0..hay.len()).any(|start| {
        let mut run = String::new();
        for w in hay.iter().skip(start) {
            run.push_str(w);
            if run.len() >= target.len() {
                return run == target;
            }
        }
        false
    })
}

/// Every way of writing `label` the user would accept: itself, plus its synonym group(s).
fn spellings(label: &str, synonyms: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut out = vec![words(label)];
    let k = key(label);
    let groups = synonyms
        .iter()
        .map(|g| g.iter().map(String::as_str).collect::<Vec<_>>())
        .chain(COMMON_SYNONYMS.iter().map(|g| g.to_vec()));
    for group in groups {
        if group.iter().any(|s| key(s) == k) {
            out.extend(group.iter().map(|s| words(s)));
        }
    }
    out
}

/// A person would take the two names for the same thing: [`same_label`], or one contains the
/// other word for word once filler is dropped ("Email address" / "E-mail", "Choose a password"
/// / "Password", "PIN" / "Leader PIN"), or they are common or configured synonyms.
pub(crate) fn names_agree(a: &str, b: &str, synonyms: &[Vec<String>]) -> bool {
    if same_label(a, b, synonyms) {
        return true;
    }
    let (sa, sb) = (spellings(a, synonyms), spellings(b, synonyms));
    sa.iter().any(|x| {
        sb.iter()
            .any(|y| contains_words(x, y) || contains_words(y, x))
    })
}

/// `wanted` (a name the page's text mentions) is close enough to `actual` (a control's name)
/// that a reader would find it: [`same_label`], `actual` contains `wanted` word for word
/// ("Continue" → "Continue to payment"), or the two are spelled almost alike
/// ("Forgot password" → "Forgotten your password?"). Not the other way round: "forgot
/// password" is not found by a field named "Password".
pub(crate) fn near_match(wanted: &str, actual: &str, synonyms: &[Vec<String>]) -> bool {
    if same_label(wanted, actual, synonyms) {
        return true;
    }
    let (w, a) = (words(wanted), words(actual));
    if w.is_empty() || a.is_empty() {
        return false;
    }
    if contains_words(&a, &w) {
        return true;
    }
    let (nw, na) = (w.concat(), a.concat());
    // Very short names ("OK", "Go") must match exactly: one letter is a different word.
    if nw.chars().count() < 4 || na.chars().count() < 4 {
        return false;
    }
    strsim::normalized_levenshtein(&nw, &na) >= 0.8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syn(groups: &[&[&str]]) -> Vec<Vec<String>> {
        groups
            .iter()
            .map(|g| g.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    #[test]
    fn normalize_drops_case_space_punctuation_and_hyphens() {
        assert_eq!(normalize("E-mail"), normalize("Email"));
        assert_eq!(normalize("User name"), normalize("Username"));
        assert_eq!(normalize("  Owner  Name: "), "ownername");
        assert_eq!(normalize("Prénom"), "prénom");
        assert_eq!(normalize("***"), "");
    }

    #[test]
    fn required_and_optional_markers_are_stripped() {
        assert_eq!(strip_required_marker("Email *"), "Email");
        assert_eq!(strip_required_marker("Email*"), "Email");
        assert_eq!(strip_required_marker("Email (required)"), "Email");
        assert_eq!(strip_required_marker("Phone (optional):"), "Phone");
        assert_eq!(strip_required_marker("* Email"), "Email");
        assert_eq!(strip_required_marker("Email * (Required)"), "Email");
        assert_eq!(strip_required_marker("Email - required"), "Email");
        // Words that merely end like a marker stay whole; a bare marker is kept.
        assert_eq!(strip_required_marker("Unrequired"), "Unrequired");
        assert_eq!(strip_required_marker("*"), "*");
        assert_eq!(strip_required_marker("Prénom *"), "Prénom");
    }

    #[test]
    fn same_label_uses_normalisation_and_configured_synonyms_only() {
        let s = syn(&[&["User Name", "Username", "Login name"]]);
        assert!(same_label("E-mail", "email *", &[]));
        assert!(same_label("User name", "Login Name", &s));
        assert!(!same_label("User name", "Login Name", &[]));
        assert!(!same_label("Password", "Leader PIN", &s));
        assert!(!same_label("", "", &[]));
        // Common synonyms are for names_agree, not for the strict locator test.
        assert!(!same_label("Postcode", "ZIP code", &[]));
    }

    #[test]
    fn names_agree_accepts_added_words_and_common_synonyms() {
        assert!(names_agree("Email address", "E-mail", &[]));
        assert!(names_agree("Choose a password", "Password", &[]));
        assert!(names_agree("Enter your e-mail", "Your email address", &[]));
        assert!(names_agree("User Name or Email", "Email", &[]));
        assert!(names_agree("Your ZIP code", "Postcode", &[]));
        assert!(names_agree("Username", "User name", &[]));
        assert!(names_agree("PIN", "Leader PIN", &[]));
    }

    #[test]
    fn names_agree_refuses_different_things() {
        assert!(!names_agree("Password", "Leader PIN", &[]));
        assert!(!names_agree("Web PIN", "Leader PIN", &[]));
        assert!(!names_agree("Choose a User Name", "Owner Name", &[]));
        assert!(!names_agree("Card number", "Owner Number", &[]));
        // Word boundaries: "pin" is not inside "opinion".
        assert!(!names_agree("Your opinion", "PIN", &[]));
    }

    #[test]
    fn near_match_tolerates_spelling_but_not_a_shorter_control() {
        assert!(near_match("forgot password", "Forgot password?", &[]));
        assert!(near_match(
            "Forgot password",
            "Forgotten your password?",
            &[]
        ));
        assert!(near_match("Continue", "Continue to payment", &[]));
        assert!(near_match("Log in", "Login", &[]));
        assert!(!near_match("forgot password", "Password", &[]));
        assert!(!near_match("forgot password", "Reset your access", &[]));
        assert!(!near_match("Sign in", "Log in", &[]));
        assert!(near_match(
            "Sign in",
            "Log in",
            &syn(&[&["Sign in", "Log in"]])
        ));
        assert!(!near_match("Go", "No", &[]));
    }

    #[test]
    fn contains_words_respects_boundaries() {
        let w = |s: &str| raw_words(s);
        assert!(contains_words(&w("User name"), &w("Username")));
        assert!(contains_words(&w("Username"), &w("User name")));
        assert!(!contains_words(&w("Usernames"), &w("Username")));
        assert!(!contains_words(&w("x"), &[]));
    }
}
