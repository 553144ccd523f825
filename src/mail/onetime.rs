//! One-time secrets a mail hands the user: a temporary password ("Temporary password:
//! Xy7…", "Your password is now: …"), a verification or one-time code ("Your
//! verification code is 493021"), in English, German, French, Spanish and Dutch.
//!
//! A trace is evidence that gets attached to tickets, so what a mail gives the user to sign
//! in with is masked there like a scenario's `{env:…}` secret: in the mail's text and
//! links, and on every page of the journey that echoes it. This module only finds the
//! values, from the mail's own wording (a label, then the value on the same line or the
//! next); it sends nothing, changes no mail, and errs towards masking: a word taken for a
//! code costs a masked word in a trace, a code taken for a word leaks it.

use std::sync::LazyLock;

use regex::Regex;

use super::Mail;
use crate::secrets::Secrets;

/// A label that announces a one-time secret, then what may sit between it and the value
/// ("is", "is now", ":", a line break).
static LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        (?:
          (?:temporary|temp|new|one[-\s]?time|initial|generated)\s+(?:password|passcode|pass\s*code|pin|code)
          | your\s+(?:new\s+)?password
          | one[-\s]?time\s+(?:password|passcode|code|pin)
          | (?:verification|security|confirmation|authentication|login|log[-\s]?in|sign[-\s]?in|access|activation)\s+(?:code|pin|token)
          | your\s+(?:code|pin|otp|passcode)
          | \botp\b | \bpasscode
          | (?:tempor[äa]res|neues|einmal-?)\s*(?:passwort|kennwort)
          | (?:best[äa]tigungs|sicherheits|verifizierungs|einmal)code
          | (?:mot\s+de\s+passe|code)\s+(?:temporaire|provisoire|de\s+v[ée]rification|de\s+confirmation|de\s+s[ée]curit[ée]|à\s+usage\s+unique)
          | nouveau\s+mot\s+de\s+passe
          | contrase[ñn]a\s+(?:temporal|provisional|nueva)
          | c[óo]digo\s+(?:de\s+verificaci[óo]n|de\s+confirmaci[óo]n|de\s+seguridad|temporal)
          | (?:tijdelijk|nieuw|eenmalig)\s+wachtwoord
          | (?:verificatie|bevestigings|beveiligings)code
        )
        s?
        [^\S\n]*
        (?:\((?:[^)\n]{0,40})\))?
        [^\S\n]*
        (?:(?:is|ist|est|es|lautet|wordt)(?:[^\S\n]+(?:now|nun|jetzt|maintenant|ahora|nu))?[^\S\n]*)?
        [:=\-–]?
        \s*
        [\x22'‘“«]?
        (?P<value>[^\s\x22'’”»<>()\[\]]{4,64})
        ",
    )
    .unwrap_or_else(|e| unreachable!("fixed pattern: {e}"))
});

/// Words that follow such a label in a sentence about it ("This temporary password will
/// expire…"), never a value.
const NOT_A_VALUE: &[&str] = &[
    "will",
    "expire",
    "expires",
    "below",
    "above",
    "here",
    "this",
    "that",
    "with",
    "from",
    "your",
    "have",
    "been",
    "sent",
    "must",
    "should",
    "only",
    "once",
    "valid",
    "again",
    "when",
    "which",
    "please",
    "enter",
    "type",
    "use",
    "used",
    "field",
    "page",
    "link",
    "code",
    "wird",
    "wurde",
    "nicht",
    "bitte",
    "ihre",
    "dein",
    "deine",
    "sera",
    "votre",
    "cette",
    "será",
    "para",
    "este",
    "esta",
    "wordt",
    "deze",
    "niet",
    "voor",
    "following",
    "requested",
    "reset",
    "change",
    "changed",
    "password",
    "passwort",
    "wachtwoord",
    "contraseña",
    "expired",
];

/// The one-time secrets in a mail's subject and text, each as written.
pub(crate) fn find(mail: &Mail) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for text in [mail.subject.as_str(), mail.text.as_str()] {
        for c in LABEL.captures_iter(text) {
            let Some(v) = c.name("value") else { continue };
            let value = v
                .as_str()
                .trim_end_matches(['.', ',', ';', ':', '!', '?'])
                .to_string();
            if is_value(&value) && !out.contains(&value) {
                out.push(value);
            }
        }
    }
    out
}

/// The run's secrets and the mail's one-time ones together.
pub(crate) fn with_mailed(mail: &Mail, secrets: &Secrets) -> Secrets {
    let mut all = secrets.clone();
    for v in find(mail) {
        all.add(&v);
    }
    all
}

/// A value rather than the next word of a sentence: not a common word, and at least four
/// characters (a URL is a link, not a code).
fn is_value(v: &str) -> bool {
    let lower = v.to_lowercase();
    v.chars().count() >= 4
        && !lower.starts_with("http")
        && !NOT_A_VALUE.contains(&lower.as_str())
        && v.chars().any(char::is_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(subject: &str, text: &str) -> Mail {
        Mail {
            subject: subject.into(),
            text: text.into(),
            ..Mail::default()
        }
    }

    #[test]
    fn temporary_passwords_and_codes_are_found_as_real_mails_write_them() {
        for (text, want) in [
            // MediaWiki's reset mail: the label, the value on the next line.
            (
                "Someone requested a reset of your password for Team Wiki.\n\nUsername:\nSam Roe\n\nTemporary password:\nq8wz3kxm2b\n\nThis temporary password will expire in 7 days.",
                vec!["q8wz3kxm2b"],
            ),
            // Roundup's: "Your password is now: …".
            (
                "Your password is now: Xy7pQ2mK\n\nPlease log in.",
                vec!["Xy7pQ2mK"],
            ),
            ("Your verification code is 493021.", vec!["493021"]),
            ("Your one-time code: 771-204", vec!["771-204"]),
            (
                "Use this one-time password (valid 10 minutes): Kd93-ab",
                vec!["Kd93-ab"],
            ),
            ("Temporäres Passwort: \nhX4kP9qz", vec!["hX4kP9qz"]),
            ("Ihr Bestätigungscode lautet 582913", vec!["582913"]),
            ("Mot de passe temporaire : \nvB7nQ2rt", vec!["vB7nQ2rt"]),
            ("Votre code de vérification est 118822", vec!["118822"]),
            ("Contraseña temporal: \nzT5mW8ka", vec!["zT5mW8ka"]),
            ("Tijdelijk wachtwoord: \nrP3sV9ye", vec!["rP3sV9ye"]),
            ("Uw verificatiecode is 665544", vec!["665544"]),
        ] {
            assert_eq!(find(&mail("", text)), want, "{text}");
        }
        assert_eq!(find(&mail("Your login code: 204913", "")), vec!["204913"]);
    }

    #[test]
    fn sentences_about_passwords_hold_no_value() {
        for text in [
            "This temporary password will expire in 7 days.",
            "These temporary passwords will expire in one day.",
            "To reset your password, visit the following address:\nhttp://wiki.test/reset",
            "Enter the verification code below.",
            "Your password has been changed.",
            "Choose a new PIN for your library account.",
        ] {
            assert_eq!(find(&mail("", text)), Vec::<String>::new(), "{text}");
        }
    }

    #[test]
    fn a_mails_one_time_values_are_masked_with_the_runs_secrets() {
        let mut run = Secrets::new();
        run.add("hunter2-long");
        let m = Mail {
            subject: "Account details".into(),
            text: "Temporary password:\nq8wz3kxm2b\nand hunter2-long".into(),
            links: vec![super::super::MailLink {
                text: "Log in".into(),
                href: "http://wiki.test/login?pw=q8wz3kxm2b".into(),
            }],
            ..Mail::default()
        };
        let out = super::super::masked(&m, &run);
        let json = serde_json::to_string(&out).expect("json");
        assert!(!json.contains("q8wz3kxm2b"), "{json}");
        assert!(!json.contains("hunter2-long"), "{json}");
        assert!(json.contains(crate::secrets::MASK), "{json}");
    }
}
