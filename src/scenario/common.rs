//! The parts of a scenario that a YAML scenario file and a recording's sidecar both read:
//! `holds` and durations.
//!
//! Here so that the two readers ([`super::load`] and [`super::recorder`]) share them
//! without either importing the other's internals. Like them, it only validates and
//! reports problems at their position; no I/O.

use std::time::Duration;

use super::values::{Env, Resolver, ValueError};
use super::yaml::{self, Node, Problems};

const DURATION_EXAMPLES: &str = "write a number and a unit: `500ms`, `2s`, `1.5s` or `1m`";

/// `holds`: a map of name → value, resolved top to bottom.
pub(super) fn holds<'e>(node: &Node<'_>, env: Env<'e>, p: &mut Problems<'_>) -> Resolver<'e> {
    let help = Some("write each hold as `Name: value` on its own line under `holds:`".to_string());
    let entries = yaml::entries(node, "a map of hold names to values", help, p).unwrap_or_default();
    let names = entries.iter().map(|(k, _, _)| k.clone()).collect();
    let mut resolver = Resolver::new(env, names);
    for (name, key, value) in entries {
        if name.trim().is_empty() {
            p.at(key, "a hold needs a name", None);
            continue;
        }
        let Some(text) = value_text(value, &format!("a value for the hold `{name}`"), p) else {
            // Make later uses of it quiet: the problem is reported here.
            let _ = resolver.define_hold(&name, "");
            continue;
        };
        if let Err(errors) = resolver.define_hold(&name, &text) {
            report(value, errors, p);
        }
    }
    resolver
}

/// The text of a value (a scalar; numbers as written), or a problem.
pub(super) fn value_text(node: &Node<'_>, what: &str, p: &mut Problems<'_>) -> Option<String> {
    if yaml::is_null(node) {
        p.at(
            node,
            format!("expected {what}, found nothing"),
            Some("write the value after the `:`; use \"{unknown}\" in `fill` for a field the user has nothing for".to_string()),
        );
        return None;
    }
    yaml::text(node, what, p)
}

pub(super) fn report(node: &Node<'_>, errors: Vec<ValueError>, p: &mut Problems<'_>) {
    for e in errors {
        p.inside(node, e.at, e.width, e.message, e.help);
    }
}

/// A duration such as `2s`, `500ms`, `1m`, `1.5s`. Zero is allowed only where `zero_ok`.
pub(super) fn duration(
    node: &Node<'_>,
    what: &str,
    zero_ok: bool,
    p: &mut Problems<'_>,
) -> Option<Duration> {
    let Some(text) = yaml::scalar(node) else {
        p.at(
            node,
            format!("expected {what}, found {}", yaml::found(node)),
            Some(DURATION_EXAMPLES.to_string()),
        );
        return None;
    };
    match parse_duration(&text) {
        Some(d) if zero_ok || !d.is_zero() => Some(d),
        Some(_) => {
            p.at(
                node,
                format!("expected {what} above zero, found `{text}`"),
                Some(DURATION_EXAMPLES.to_string()),
            );
            None
        }
        None => {
            let trimmed = text.trim();
            let help = if trimmed.parse::<f64>().is_ok() {
                format!("add a unit: `{trimmed}s` for seconds, `{trimmed}ms` for milliseconds")
            } else {
                DURATION_EXAMPLES.to_string()
            };
            p.at(node, format!("expected {what}, found `{text}`"), Some(help));
            None
        }
    }
}

/// `2s`, `500ms`, `1m`, `1.5s`, `2 s`; `None` for anything else.
fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return None;
    }
    let n: f64 = number.parse().ok()?;
    let seconds = match unit.trim_start() {
        "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m"), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration(" 2 s "), Some(Duration::from_secs(2)));
        for bad in [
            "2",
            "s",
            "2h",
            ".5s",
            "1..5s",
            "-1s",
            "",
            "1e3s",
            "99999999999999999999999m",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
