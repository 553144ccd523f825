//! Reading the user's letter: the welcome letter, card or e-mail text, as the holds it gives.
//!
//! Three shapes are read, as letters print them: `Label: value` lines ("Customer Number:
//! 12345678"), sentences ("your PIN is 4412"), and two-column tables (cells apart by a tab,
//! two or more spaces, or `|`). Each hold keeps the letter's own name, since that is the
//! name the user knows it by. Values are taken as printed: they are what the scenario
//! types. Nothing here decides which field a hold goes into (see [`super::matcher`]), and
//! nothing here may panic on any text.

use regex::Regex;
use std::sync::LazyLock;

use crate::normalize::normalize;

/// One thing the letter gives the user, under the letter's name for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LetterHold {
    pub(crate) name: String,
    pub(crate) value: String,
}

/// "your PIN is 4412", "Your customer number is 12345678.", "your postcode is LS1 4AP": the
/// value is one word, with the words after it that have a digit (a postcode, a card number
/// printed in groups).
static SENTENCE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"(?i)\byour\s+([a-z][a-z0-9 '\-/]{0,40}?)\s+(?:is|will be|reads)\s*:?\s+("[^"]+"|'[^']+'|\S+(?:\s+\S*\d\S*)*)"#)
        .ok()
});

/// The holds the letter gives, in the letter's order; one per name (the first).
pub(crate) fn parse(text: &str) -> Vec<LetterHold> {
    let mut out: Vec<LetterHold> = Vec::new();
    let mut add = |name: &str, value: &str| {
        let name = clean_name(name);
        let value = clean_value(value);
        if name.is_empty() || !is_printed_value(&value) {
            return;
        }
        if out.iter().all(|h| normalize(&h.name) != normalize(&name)) {
            out.push(LetterHold { name, value });
        }
    };
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let next = lines.get(i + 1).copied().unwrap_or_default();
        // A Markdown table's header row names the columns, not a hold.
        if is_separator_row(line) || is_separator_row(next) {
            continue;
        }
        if let Some((name, value)) = table_row(line) {
            add(name, value);
            continue;
        }
        let mut found = false;
        for (name, value) in colon_pairs(line) {
            add(name, value);
            found = true;
        }
        if found {
            continue;
        }
        if let Some(re) = SENTENCE.as_ref() {
            for c in re.captures_iter(line) {
                let (Some(name), Some(value)) = (c.get(1), c.get(2)) else {
                    continue;
                };
                let value = value.as_str();
                let quoted = value.starts_with(['"', '\'']);
                // "your conference is ready" is no hold: a printed value has a digit or an @.
                if quoted || value.chars().any(|c| c.is_ascii_digit() || c == '@') {
                    add(name.as_str(), value);
                }
            }
        }
    }
    out
}

/// `Label: value`, possibly several on one line when a table's columns are apart by wide
/// gaps ("Owner Name: Pat Doe     Leader PIN: 7391").
fn colon_pairs(line: &str) -> Vec<(&str, &str)> {
    cells(line)
        .into_iter()
        .filter_map(|cell| {
            let (name, value) = cell.split_once(':')?;
            // "https://…" and "10:30" are not labels.
            if value.starts_with("//") || !is_label(name) {
                return None;
            }
            Some((name, value))
        })
        .collect()
}

/// A row of a two-column table: exactly two cells, the first a label.
fn table_row(line: &str) -> Option<(&str, &str)> {
    match cells(line).as_slice() {
        // "Leader PIN:  7391": a label cell may end with its colon.
        [name, value] if is_label(name.strip_suffix(':').unwrap_or(name)) => Some((name, value)),
        _ => None,
    }
}

/// The cells of a line: apart by `|`, a tab, or two or more spaces.
fn cells(line: &str) -> Vec<&str> {
    let line = line.trim().trim_matches('|');
    let mut out = Vec::new();
    for part in line.split(['|', '\t']) {
        let mut rest = part;
        while let Some(gap) = rest.find("  ") {
            out.push(&rest[..gap]);
            rest = rest[gap..].trim_start();
        }
        out.push(rest);
    }
    out.into_iter()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

/// `|---|:---:|`: a Markdown table's rule under its header.
fn is_separator_row(line: &str) -> bool {
    let t = line.trim();
    t.contains('-') && t.chars().all(|c| matches!(c, '|' | '-' | ':' | ' ' | '+'))
}

/// What a letter prints as a label: one to six words, starting with a letter, not ending in
/// a digit ("Call us 9" of "9:00" is no label), no sentence punctuation.
fn is_label(name: &str) -> bool {
    let name = name.trim();
    let words = name.split_whitespace().count();
    (1..=6).contains(&words)
        && name.chars().next().is_some_and(char::is_alphabetic)
        && !name.ends_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || " -'/#().&".contains(c))
}

/// The label as the user would say it: without a leading "your", bullets or a trailing
/// colon.
fn clean_name(name: &str) -> String {
    let name = name
        .trim()
        .trim_start_matches(['-', '*', '•', ' '])
        .trim_end_matches([':', ' ']);
    let name = match name.get(..5) {
        Some(first) if first.eq_ignore_ascii_case("your ") => name.get(5..).unwrap_or(name),
        _ => name,
    };
    name.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What a letter prints as a value: a number, an address, a name ("Pat Doe", "active"); not
/// a phrase ("BridgeLine: your welcome card").
fn is_printed_value(value: &str) -> bool {
    let phrase = value.starts_with(char::is_lowercase) && value.split_whitespace().count() > 1;
    !value.is_empty() && (value.contains(|c: char| c.is_ascii_digit() || c == '@') || !phrase)
}

/// The value as printed: without quotes around it or the full stop of its sentence.
fn clean_value(value: &str) -> String {
    let v = value.trim();
    let v = v.strip_suffix(['.', ',', ';']).unwrap_or(v).trim();
    let unquoted = [('"', '"'), ('\'', '\''), ('“', '”')]
        .iter()
        .find_map(|(a, b)| v.strip_prefix(*a).and_then(|s| s.strip_suffix(*b)));
    unquoted.unwrap_or(v).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text).into_iter().map(|h| (h.name, h.value)).collect()
    }

    fn p(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn reads_label_lines() {
        assert_eq!(
            pairs("Dear Pat,\n\nCustomer Number: 12345678\nYour Email: pat@example.test\n"),
            p(&[
                ("Customer Number", "12345678"),
                ("Email", "pat@example.test")
            ])
        );
    }

    #[test]
    fn reads_sentences() {
        assert_eq!(
            pairs("Welcome! For security, your PIN is 4412 and your postcode is LS1 4AP."),
            p(&[("PIN", "4412"), ("postcode", "LS1 4AP")])
        );
        assert_eq!(
            pairs("Your customer number is 12345678 and your user name is \"pdoe\"."),
            p(&[("customer number", "12345678"), ("user name", "pdoe")])
        );
    }

    #[test]
    fn a_sentence_without_a_printed_value_is_no_hold() {
        assert!(pairs("Your conference is ready. Your account will be open soon.").is_empty());
    }

    #[test]
    fn reads_two_column_tables() {
        let card = "BridgeLine welcome card\n\nOwner Name\tPat Doe\nOwner Number    5550100\n\
                    | Conference Code | 884422 |\nLeader PIN:  7391\n";
        assert_eq!(
            pairs(card),
            p(&[
                ("Owner Name", "Pat Doe"),
                ("Owner Number", "5550100"),
                ("Conference Code", "884422"),
                ("Leader PIN", "7391"),
            ])
        );
        let markdown = "| What | Value |\n|---|---|\n| Card number | 4111 1111 |\n";
        assert_eq!(pairs(markdown), p(&[("Card number", "4111 1111")]));
        assert_eq!(
            pairs("Owner Name: Pat Doe      Leader PIN: 7391"),
            p(&[("Owner Name", "Pat Doe"), ("Leader PIN", "7391")])
        );
    }

    #[test]
    fn leaves_out_what_is_no_hold() {
        assert!(pairs("Visit https://example.test/start today").is_empty());
        assert!(pairs("Open from 9:00 to 17:00").is_empty());
        assert!(pairs("We are glad you joined us.\n\nKind regards").is_empty());
        assert!(pairs("BridgeLine Conferencing: your welcome card").is_empty());
        // The first of two holds of one name wins.
        assert_eq!(pairs("PIN: 1111\nYour PIN: 2222"), p(&[("PIN", "1111")]));
    }

    #[test]
    fn no_text_panics() {
        for text in [
            "",
            ":",
            "|",
            "||",
            "your",
            "your x is",
            "  :  ",
            "ä: ö",
            "—:\u{0}",
            "Your é is 1",
        ] {
            let _ = parse(text);
        }
    }
}
