//! `label-mismatch`: the page names something the user does not hold.
//!
//! Two ways to meet it:
//! - **Hold versus label.** A `fill` typed a value the user holds under one name ("Leader
//!   PIN") into a field named for another ("Password"). Names are compared with
//!   [`names_agree`]: case, punctuation, hyphenation, added words ("Email address" for
//!   "E-mail") and synonyms do not count. A literal value, or `{unknown}`, is no mismatch.
//! - **Label versus purpose.** A field's label says one thing and its own `type`,
//!   `autocomplete` token or `pattern` another ("Email" with `type=tel`; "PIN" with a pattern
//!   that wants letters). The user types what the label says; the page expects what the
//!   markup says. No accessibility engine checks this agreement.

use regex::RegexBuilder;

use super::{filled_field, is_confirmation};
use crate::checks::common::{Findings, blocked_on_page, capitalised, is_user_field, page_of};
use crate::checks::{Audit, Check};
use crate::finding::{Finding, Kind};
use crate::normalize::{names_agree, words};
use crate::trace::{Field, Filled, StepTrace, Trace, url_path};

pub(crate) struct LabelMismatch;

impl Check for LabelMismatch {
    fn name(&self) -> &'static str {
        "label-mismatch"
    }

    fn run(&self, audit: &Audit<'_>) -> Vec<Finding> {
        let synonyms = &audit.config.synonyms;
        let mut out = Findings::default();
        for t in audit.traces {
            for step in &t.steps {
                for filled in &step.filled {
                    if let Some(f) = hold_mismatch(t, step, filled, synonyms) {
                        out.push(f);
                    }
                }
            }
            for step in &t.steps {
                let Some(page) = &step.page else { continue };
                for field in page.fields.iter().filter(|f| is_user_field(f)) {
                    let Some(message) = purpose_mismatch(field) else {
                        continue;
                    };
                    let message = format!("{} {message}", capitalised(&page_of(page)));
                    let typed_at = t.steps.iter().find(|s| {
                        s.filled
                            .iter()
                            .any(|fl| fl.name == field.name && url_path(&fl.url) == page.path())
                    });
                    let mut f =
                        Finding::new(Kind::LabelMismatch, &page.url, field.describe(), message)
                            .id_extra("purpose")
                            .on_path(typed_at.is_some())
                            .excerpt(field.html.clone());
                    if typed_at.is_some_and(|s| blocked_on_page(t, s.index, &page.url)) {
                        f = f.blocking();
                    }
                    out.push(f.at(t, Some(typed_at.map_or(step.index, |s| s.index))));
                }
            }
        }
        out.into_vec()
    }
}

/// The value came from holds none of which the field's name agrees with.
fn hold_mismatch(
    t: &Trace,
    step: &StepTrace,
    filled: &Filled,
    synonyms: &[Vec<String>],
) -> Option<Finding> {
    let label = filled.name.trim();
    // A confirmation takes what the field before it took; one that says nothing alone
    // ("once again") is label-missing's to report.
    if filled.unknown || filled.holds.is_empty() || label.is_empty() || is_confirmation(label) {
        return None;
    }
    if filled.holds.iter().any(|h| names_agree(label, h, synonyms)) {
        return None;
    }
    // A value built from several holds ("{First} {Last}" into "Full name") is fine as long
    // as the label shares a word with one of them.
    let label_words = words(label);
    if filled.holds.len() > 1
        && filled
            .holds
            .iter()
            .any(|h| words(h).iter().any(|w| label_words.contains(w)))
    {
        return None;
    }
    // If the user does hold something of the field's name, the scenario chose to type
    // something else: that is its business, not the page's.
    if t.holds
        .iter()
        .any(|h| names_agree(label, &h.name, synonyms))
    {
        return None;
    }
    let field = filled_field(t, step, filled.field);
    if invents_a_value(label, field) {
        return None;
    }
    let at = super::entry(t, step, filled, label);
    let tried = super::and_list(&filled.holds);
    let asked = super::spoken(label);
    let message = format!(
        "{} asks for {}. The user holds no {asked}; they try their {tried}.",
        capitalised(&at.on),
        super::with_article(&asked)
    );
    let mut f = Finding::new(Kind::LabelMismatch, &filled.url, at.element, message)
        .on_path(true)
        .excerpt(at.html);
    if blocked_on_page(t, step.index, &filled.url) {
        f = f.blocking();
    }
    Some(f.at(t, Some(step.index)))
}

/// A field where the user makes a new value up ("Choose a User Name", "Create a password",
/// `autocomplete="new-password"`): whatever they type, they were not asked for something
/// they should already hold. Whether it later reappears under another name is
/// `label-inconsistent`'s business. `nocall init` asks the same question of the fields it
/// drafts.
pub(crate) fn invents_a_value(label: &str, field: Option<&Field>) -> bool {
    let first = label
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_lowercase();
    matches!(
        first.as_str(),
        "choose" | "create" | "pick" | "new" | "set" | "invent" | "make"
    ) || field.is_some_and(|f| {
        f.autocomplete
            .split_whitespace()
            .any(|a| a == "new-password")
    })
}

/// What a label says the field is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Email,
    Phone,
    Password,
    Pin,
    Date,
}

impl Purpose {
    /// The label's one clear purpose; none when it names several ("Email or phone") or none.
    fn of_label(label: &str) -> Option<Purpose> {
        let mut found: Vec<Purpose> = Vec::new();
        for w in words(label) {
            let p = match w.as_str() {
                "email" | "emailaddress" => Purpose::Email,
                "phone" | "telephone" | "mobile" | "tel" | "phonenumber" | "cellphone" => {
                    Purpose::Phone
                }
                "password" | "passphrase" => Purpose::Password,
                "pin" | "passcode" | "pincode" => Purpose::Pin,
                "date" | "birthday" | "dob" | "birthdate" => Purpose::Date,
                _ => continue,
            };
            if !found.contains(&p) {
                found.push(p);
            }
        }
        match found.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    fn typed(self) -> &'static str {
        match self {
            Purpose::Email => "an e-mail address",
            Purpose::Phone => "a phone number",
            Purpose::Password => "a password",
            Purpose::Pin => "their PIN, a number",
            Purpose::Date => "a date",
        }
    }
}

/// What the field's own markup says it is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sense {
    Email,
    Phone,
    Secret,
    Date,
    Username,
    DigitsOnly,
    Letters,
}

impl Sense {
    fn expects(self) -> &'static str {
        match self {
            Sense::Email => "an e-mail address",
            Sense::Phone => "a phone number",
            Sense::Secret => "a password",
            Sense::Date => "a date",
            Sense::Username => "a user name",
            Sense::DigitsOnly => "digits only",
            Sense::Letters => "letters as well as digits",
        }
    }
}

/// How a markup sense stands to a label's purpose.
#[derive(Debug, PartialEq, Eq)]
enum Stance {
    Disagrees,
    /// Fits the disagreement's story ("current-password" on a "PIN" that wants letters), but
    /// is not one by itself: many PIN fields are password fields.
    Supports,
    Fine,
}

fn stance(p: Purpose, s: Sense) -> Stance {
    use Sense as S;
    let disagrees = match p {
        Purpose::Email => matches!(s, S::Phone | S::Secret | S::Date | S::DigitsOnly),
        Purpose::Phone => matches!(s, S::Email | S::Secret | S::Date | S::Username),
        Purpose::Password => {
            matches!(
                s,
                S::Email | S::Phone | S::Date | S::Username | S::DigitsOnly
            )
        }
        Purpose::Pin => matches!(s, S::Email | S::Date | S::Username | S::Letters),
        Purpose::Date => matches!(s, S::Email | S::Phone | S::Secret | S::Username),
    };
    if disagrees {
        Stance::Disagrees
    } else if p == Purpose::Pin && s == S::Secret {
        Stance::Supports
    } else {
        Stance::Fine
    }
}

/// The senses of a field's markup, each with the markup that says so.
fn senses(f: &Field) -> Vec<(Sense, String)> {
    let mut out = Vec::new();
    let by_type = match f.input_type.as_str() {
        "email" => Some(Sense::Email),
        "tel" => Some(Sense::Phone),
        "password" => Some(Sense::Secret),
        "date" | "datetime-local" | "month" | "week" => Some(Sense::Date),
        "number" => Some(Sense::DigitsOnly),
        _ => None,
    };
    if let Some(s) = by_type {
        out.push((s, format!("type=\"{}\"", f.input_type)));
    }
    for token in f.autocomplete.split_whitespace() {
        let t = token.to_ascii_lowercase();
        let s = match t.as_str() {
            "email" => Sense::Email,
            "current-password" | "new-password" => Sense::Secret,
            "username" => Sense::Username,
            _ if t.starts_with("tel") => Sense::Phone,
            _ if t.starts_with("bday") => Sense::Date,
            _ => continue,
        };
        out.push((s, format!("autocomplete=\"{}\"", f.autocomplete)));
    }
    if let Some(s) = pattern_sense(&f.pattern) {
        out.push((s, format!("pattern=\"{}\"", f.pattern)));
    }
    out
}

/// What an HTML `pattern` accepts, found by trying it on sample inputs: only digits, or
/// explicitly letters too. `None` when it is absent, does not compile here, or is neither.
fn pattern_sense(pattern: &str) -> Option<Sense> {
    if pattern.trim().is_empty() {
        return None;
    }
    // HTML anchors the pattern at both ends.
    let re = RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(1 << 20)
        .build()
        .ok()?;
    let sample = |chars: &str, n: usize| chars.chars().cycle().take(n).collect::<String>();
    let lengths = 1..=24;
    let digits = lengths
        .clone()
        .any(|n| re.is_match(&sample("1357924680", n)));
    let letters = lengths.clone().any(|n| {
        ["abcdefghkm", "ABCDEFGHKM", "a1b2c3d4e5", "A1B2C3D4E5"]
            .iter()
            .any(|c| re.is_match(&sample(c, n)))
    });
    let explicit_letters = ["a-z", "A-Z", "\\w", "\\p{L", "[:alpha:]", "[:alnum:]"]
        .iter()
        .any(|c| pattern.contains(c));
    if digits && !letters {
        Some(Sense::DigitsOnly)
    } else if letters && explicit_letters {
        Some(Sense::Letters)
    } else {
        None
    }
}

/// The sentence (after the page phrase) saying how the label and the markup disagree.
fn purpose_mismatch(f: &Field) -> Option<String> {
    let label = if f.label_text.trim().is_empty() {
        &f.name
    } else {
        &f.label_text
    };
    let purpose = Purpose::of_label(label)?;
    let senses = senses(f);
    let against: Vec<&(Sense, String)> = senses
        .iter()
        .filter(|(s, _)| stance(purpose, *s) == Stance::Disagrees)
        .collect();
    let first = against.first()?;
    let evidence: Vec<String> = senses
        .iter()
        .filter(|(s, _)| stance(purpose, *s) != Stance::Fine)
        .map(|(_, e)| e.clone())
        .collect();
    Some(format!(
        "labels a field \"{}\", but the field is built for {} ({}). The user types {}; the \
         page expects something else.",
        label.trim(),
        first.0.expects(),
        evidence.join(", "),
        purpose.typed()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::*;
    use crate::config::Config;

    const CARD: &[&str] = &[
        "Owner Name",
        "Owner Number",
        "Conference Code",
        "Leader PIN",
        "Email",
    ];

    fn login_page() -> crate::trace::PageState {
        let mut p = page(
            "/confer/login",
            "Log in — BridgeLine",
            "Invalid owner name or password.",
        );
        let mut pw = field("Password");
        pw.input_type = "password".into();
        pw.autocomplete = "current-password".into();
        pw.html = "<input type=\"password\" id=\"pw\" autocomplete=\"current-password\">".into();
        p.fields = vec![field("Owner Name"), pw];
        p.buttons = vec![button("Log in")];
        p
    }

    fn login_trace(password_holds: &[&str]) -> Trace {
        let p = login_page();
        trace(
            "confer-first-login",
            CARD,
            vec![
                open(1, p.clone()),
                fill(
                    2,
                    &p,
                    &[(0, &["Owner Name"], false), (1, password_holds, false)],
                ),
                click(3, "Log in", p.clone()),
                failed_expect(4, "Welcome", p),
            ],
        )
    }

    #[test]
    fn leader_pin_typed_into_password_is_a_blocking_mismatch() {
        let found = run(&LabelMismatch, &[login_trace(&["Leader PIN"])]);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.kind, Kind::LabelMismatch);
        assert_eq!(
            f.message,
            "The login page asks for a Password. The user holds no Password; they try their Leader PIN."
        );
        assert_eq!(f.element, "input labelled \"Password\"");
        assert!(f.blocking && f.on_path);
        assert_eq!(f.step, Some(2));
        assert!(f.evidence.html_excerpt.contains("current-password"));
    }

    #[test]
    fn the_same_mismatch_in_two_journeys_is_one_finding_with_two_occurrences() {
        let mut other = login_trace(&["Leader PIN"]);
        other.scenario = "again".into();
        let found = run(&LabelMismatch, &[login_trace(&["Leader PIN"]), other]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].occurrences.len(), 2);
    }

    #[test]
    fn near_misses_do_not_fire() {
        // "Email address" for a hold "E-mail"; a literal value; {unknown}; a synonym.
        let mut p = page("/register", "Register", "");
        p.fields = vec![
            field("Email address"),
            field("Nickname"),
            field("Web PIN"),
            field("Login name"),
        ];
        let t = trace(
            "r",
            &["E-mail", "User Name"],
            vec![
                open(1, p.clone()),
                fill(
                    2,
                    &p,
                    &[
                        (0, &["E-mail"], false),
                        (1, &[], false),
                        (2, &[], true),
                        (3, &["User Name"], false),
                    ],
                ),
            ],
        );
        assert!(run(&LabelMismatch, std::slice::from_ref(&t)).is_empty());

        // Configured synonyms count too.
        let mut p = page("/login", "Log in", "");
        p.fields = vec![field("Member ID")];
        let t = trace(
            "l",
            &["Card number"],
            vec![
                open(1, p.clone()),
                fill(2, &p, &[(0, &["Card number"], false)]),
            ],
        );
        assert_eq!(run(&LabelMismatch, std::slice::from_ref(&t)).len(), 1);
        let config = Config {
            synonyms: vec![vec!["Card number".into(), "Member ID".into()]],
            ..Config::default()
        };
        assert!(run_with(&LabelMismatch, &[t], &config).is_empty());
    }

    #[test]
    fn composite_values_need_only_share_a_word() {
        let mut p = page("/register", "Register", "");
        p.fields = vec![field("Full name")];
        let t = trace(
            "r",
            &["First name", "Last name"],
            vec![
                open(1, p.clone()),
                fill(2, &p, &[(0, &["First name", "Last name"], false)]),
            ],
        );
        assert!(run(&LabelMismatch, &[t]).is_empty());
    }

    fn purpose_findings(f: Field) -> Vec<Finding> {
        let mut p = page("/register", "Register", "");
        p.fields = vec![f];
        run(&LabelMismatch, &[trace("r", &[], vec![open(1, p)])])
    }

    #[test]
    fn label_and_markup_that_disagree_are_a_mismatch() {
        let mut email = field("Email");
        email.input_type = "tel".into();
        let found = purpose_findings(email);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0]
                .message
                .contains("built for a phone number (type=\"tel\")"),
            "{}",
            found[0].message
        );
        assert!(!found[0].on_path);

        let mut pin = field("PIN");
        pin.input_type = "password".into();
        pin.autocomplete = "current-password".into();
        pin.pattern = "[A-Za-z0-9]{8,}".into();
        let found = purpose_findings(pin);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].message.contains("letters as well as digits"));
        assert!(
            found[0]
                .message
                .contains("autocomplete=\"current-password\"")
        );

        let mut password = field("Password");
        password.input_type = "password".into();
        password.pattern = "\\d{4}".into();
        assert_eq!(purpose_findings(password).len(), 1);
    }

    #[test]
    fn ordinary_markup_agrees_with_its_label() {
        let with = |name: &str, ty: &str, ac: &str, pattern: &str| Field {
            input_type: ty.into(),
            autocomplete: ac.into(),
            pattern: pattern.into(),
            ..field(name)
        };
        for f in [
            with("PIN", "password", "current-password", "[0-9]{4}"),
            with("Web PIN", "text", "", "\\d{4}"),
            with("Email", "email", "username", ""),
            with("Password", "password", "new-password", ".{8,}"),
            with("Mobile phone", "tel", "tel", "[0-9 +]+"),
            with("Date of birth", "date", "bday", ""),
            with("Email or phone", "text", "username", ""),
            with("Expiry date", "month", "cc-exp", ""),
            with("PIN", "text", "", "(unbalanced"),
        ] {
            let found = purpose_findings(f.clone());
            assert!(found.is_empty(), "{f:?}: {found:#?}");
        }
    }

    #[test]
    fn pattern_senses() {
        assert_eq!(pattern_sense("\\d{4}"), Some(Sense::DigitsOnly));
        assert_eq!(pattern_sense("[0-9]{4,6}"), Some(Sense::DigitsOnly));
        assert_eq!(pattern_sense("[A-Za-z0-9]{6}"), Some(Sense::Letters));
        assert_eq!(pattern_sense("\\w+"), Some(Sense::Letters));
        assert_eq!(pattern_sense(".{8,}"), None);
        assert_eq!(pattern_sense("\\d{3}-\\d{4}"), None);
        assert_eq!(pattern_sense(""), None);
    }
}
