//! The SARIF 2.1.0 report, for GitHub code scanning and other static-analysis views.
//!
//! One rule per finding kind, with its help text. Code scanning rejects results located at
//! a URL, so each result sits at the only repository file a finding has: the scenario file,
//! at the line of the step where the user met it. The page URL goes in the message and the
//! properties, and the finding's stable id is its `partialFingerprints`, so code scanning
//! tracks one alert per problem across runs. Built as plain JSON (`serde_json`): the format
//! is small and a typed model would add a large dependency for no checking we need.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Map, Value, json};

use super::{Format, Report};
use crate::finding::{Finding, Kind, Severity};

pub(crate) const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The key of the stable id in `partialFingerprints`.
pub(crate) const FINGERPRINT: &str = "nocallFindingId/v1";

pub struct Sarif;

impl Format for Sarif {
    fn name(&self) -> &'static str {
        "sarif"
    }

    fn render(&self, report: &Report) -> String {
        let mut driver = json!({
            "name": "nocall",
            "fullName": format!("nocall {}", report.tool_version),
            "version": report.tool_version,
            "rules": Kind::ALL.iter().map(|k| rule(*k)).collect::<Vec<_>>(),
        });
        if let Some(home) = home_page() {
            driver["informationUri"] = json!(home);
        }
        // No `automationDetails`: GitHub then derives the category from the workflow and
        // matrix, so shards uploaded from a matrix do not replace each other's results.
        let sarif = json!({
            "$schema": SARIF_SCHEMA,
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": driver },
                "results": report.findings.iter().map(result).collect::<Vec<_>>(),
                "columnKind": "unicodeCodePoints",
            }],
        });
        // Serialising a `Value` cannot fail; an empty object would still be valid JSON.
        let mut text = serde_json::to_string_pretty(&sarif).unwrap_or_else(|_| "{}".into());
        text.push('\n');
        text
    }
}

/// The project's home page, when the package names one (`repository` in Cargo.toml).
fn home_page() -> Option<&'static str> {
    Some(env!("CARGO_PKG_REPOSITORY")).filter(|r| !r.is_empty())
}

fn rule(kind: Kind) -> Value {
    let summary = sentence(kind.summary());
    let expected = sentence(kind.expected());
    // Kinds that stop a journey whenever they occur; the others depend on where they sit.
    let level = if matches!(kind, Kind::JourneyBlocked | Kind::RecoveryDeadEnd) {
        "error"
    } else {
        "warning"
    };
    let mut rule = json!({
        "id": kind.as_str(),
        "name": camel(kind.as_str()),
        "shortDescription": { "text": summary },
        "fullDescription": { "text": sentence(&format!("a first-time user meets this: {}", kind.summary())) },
        "help": {
            "text": format!("{summary} Expected: {expected} Run `nocall explain ID` for the estimate behind a result and `nocall evidence ID` for a bundle to attach to a ticket."),
            "markdown": format!("**{summary}**\n\nExpected: {expected}\n\n`nocall explain ID` shows the estimate behind a result; `nocall evidence ID` writes a bundle (report, screenshots, trace) to attach to a ticket."),
        },
        "defaultConfiguration": { "level": level },
        "properties": { "tags": ["usability", "support-calls"] },
    });
    if let Some(home) = home_page() {
        rule["helpUri"] = json!(format!("{home}/blob/main/docs/model.md"));
    }
    rule
}

fn result(f: &Finding) -> Value {
    let level = match f.severity {
        Severity::Blocker => "error",
        Severity::Problem | Severity::Warning => "warning",
    };
    let unverified = if f.severity == Severity::Warning {
        " Could not be verified."
    } else {
        ""
    };
    let mut properties = json!({
        "id": f.id,
        "url": f.url,
        "element": f.element,
        "severity": f.severity.as_str(),
        "blocking": f.blocking,
        "scenario": f.scenario,
        "estCallsPerMonth": f.est_calls_per_month,
        "estCostPerMonth": f.est_cost_per_month,
        "currency": f.estimate.currency,
    });
    if let Some(step) = f.step {
        properties["step"] = json!(step);
    }
    let mut also = String::new();
    if !f.symptoms.is_empty() {
        properties["estCallsSavedIfFixed"] = json!(f.est_calls_saved_if_fixed);
        properties["symptoms"] = json!(f.symptoms.iter().map(|s| &s.id).collect::<Vec<_>>());
        also = format!(" {}", super::also_fixes(f));
    }
    let mut result = json!({
        "ruleId": f.kind.as_str(),
        "ruleIndex": Kind::ALL.iter().position(|k| *k == f.kind).unwrap_or_default(),
        "level": level,
        "message": { "text": format!(
            "{}{unverified} Page: {} ({}). About {:.1} support calls a month. Finding {}.{also}",
            sentence(&f.message), f.url, f.element, f.est_calls_per_month, f.id
        ) },
        "partialFingerprints": { FINGERPRINT: f.id },
        "properties": properties,
    });
    let primary = f.location();
    if let Some((file, line)) = primary {
        let step = match f.step {
            Some(n) => format!("step {n} of the journey \"{}\"", f.scenario),
            None => format!("the journey \"{}\"", f.scenario),
        };
        result["locations"] = json!([location(file, line, &step, None)]);
    }
    // The other journeys that met the same problem, then where its symptoms showed.
    let symptoms = f.symptoms.iter().flat_map(|s| {
        s.occurrences
            .iter()
            .map(move |o| (o, format!("symptom {} ({}) at ", s.kind, s.id)))
    });
    let related: Vec<Value> = f
        .occurrences
        .iter()
        .map(|o| (o, "also met at ".to_string()))
        .filter(|(o, _)| !o.file.is_empty() && Some((o.file.as_str(), o.line)) != primary)
        .chain(symptoms.filter(|(o, _)| !o.file.is_empty()))
        .enumerate()
        .map(|(i, (o, what))| {
            let step = o.step.map(|n| format!("step {n} of ")).unwrap_or_default();
            location(
                &o.file,
                o.line,
                &format!("{what}{step}the journey \"{}\"", o.scenario),
                Some(i + 1),
            )
        })
        .collect();
    if !related.is_empty() {
        result["relatedLocations"] = Value::Array(related);
    }
    result
}

fn location(file: &str, line: Option<usize>, message: &str, id: Option<usize>) -> Value {
    let mut physical = Map::new();
    let (uri, relative) = file_uri(file);
    let mut artifact = json!({ "uri": uri });
    if relative {
        artifact["uriBaseId"] = json!("%SRCROOT%");
    }
    physical.insert("artifactLocation".into(), artifact);
    if let Some(line) = line.filter(|l| *l > 0) {
        physical.insert("region".into(), json!({ "startLine": line }));
    }
    let mut location = json!({ "physicalLocation": physical, "message": { "text": message } });
    if let Some(id) = id {
        location["id"] = json!(id);
    }
    location
}

/// Characters a URI path must not hold as they are (RFC 3986), plus `%` itself.
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The scenario file as a URI, and whether it is relative (to the repository root). A
/// relative path stays as given, with `/` separators; an absolute one becomes a `file:` URI.
fn file_uri(file: &str) -> (String, bool) {
    let slashed = file.replace('\\', "/");
    let drive = slashed.as_bytes().get(1) == Some(&b':')
        && slashed
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_alphabetic);
    if slashed.starts_with('/') {
        (
            format!("file://{}", utf8_percent_encode(&slashed, PATH)),
            false,
        )
    } else if drive {
        (
            format!("file:///{}", utf8_percent_encode(&slashed, PATH)),
            false,
        )
    } else {
        let relative = slashed.trim_start_matches("./");
        (utf8_percent_encode(relative, PATH).to_string(), true)
    }
}

/// `label-mismatch` → `LabelMismatch`.
fn camel(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Text as a sentence: capitalised, ending with a full stop.
fn sentence(text: &str) -> String {
    let text = text.trim();
    let mut c = text.chars();
    let mut out = c
        .next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default();
    // `… help."` ends a sentence too: look past closing quotes and brackets.
    if !out
        .trim_end_matches(['"', '\'', '”', '’', ')'])
        .ends_with(['.', '!', '?'])
    {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Occurrence;

    fn occurrence(scenario: &str, file: &str, step: usize, line: usize) -> Occurrence {
        Occurrence {
            scenario: scenario.into(),
            file: file.into(),
            step: Some(step),
            line: Some(line),
            reach: 1.0,
        }
    }

    #[test]
    fn results_sit_at_the_scenario_file_and_step_line_never_at_the_url() {
        let mut f =
            Finding::new(Kind::LabelMissing, "http://h/login", "input", "no label").blocking();
        f.scenario = "login".into();
        f.step = Some(2);
        f.occurrences = vec![
            occurrence("login", "./scenarios/log in.yaml", 2, 14),
            occurrence("other", "scenarios/other.yaml", 1, 9),
        ];
        let text = Sarif.render(&Report::new(&[], &[], vec![f.clone()], "USD"));
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["version"], "2.1.0");
        let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), Kind::ALL.len());
        let r = &v["runs"][0]["results"][0];
        assert_eq!(r["ruleId"], "label-missing");
        assert_eq!(
            rules[r["ruleIndex"].as_u64().unwrap() as usize]["id"],
            "label-missing"
        );
        assert_eq!(r["level"], "error");
        let at = &r["locations"][0]["physicalLocation"];
        assert_eq!(at["artifactLocation"]["uri"], "scenarios/log%20in.yaml");
        assert_eq!(at["region"]["startLine"], 14);
        assert_eq!(
            r["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "scenarios/other.yaml"
        );
        assert_eq!(r["partialFingerprints"][FINGERPRINT], f.id.as_str());
        assert_eq!(r["properties"]["url"], "http://h/login");
        assert!(
            r["message"]["text"]
                .as_str()
                .unwrap()
                .contains("Page: http://h/login")
        );
        assert!(!text.contains("\"uri\": \"http"), "{text}");
    }

    #[test]
    fn problems_and_unverified_findings_are_warnings() {
        let p = Finding::new(Kind::DeadLink, "http://h/", "a", "m");
        let w = Finding::new(Kind::DeadLink, "http://h/", "b", "m").warning();
        let v: Value =
            serde_json::from_str(&Sarif.render(&Report::new(&[], &[], vec![p, w], "USD"))).unwrap();
        assert_eq!(v["runs"][0]["results"][0]["level"], "warning");
        assert_eq!(v["runs"][0]["results"][1]["level"], "warning");
        assert!(
            v["runs"][0]["results"][1]["message"]["text"]
                .as_str()
                .unwrap()
                .contains("Could not be verified")
        );
        assert!(v["runs"][0]["results"][0].get("locations").is_none());
    }

    #[test]
    fn uris_and_names() {
        assert_eq!(file_uri("a\\b c.yaml"), ("a/b%20c.yaml".into(), true));
        assert_eq!(
            file_uri("/tmp/s#1.yaml"),
            ("file:///tmp/s%231.yaml".into(), false)
        );
        assert_eq!(file_uri("C:\\s.yaml"), ("file:///C:/s.yaml".into(), false));
        assert_eq!(camel("dead-email-link"), "DeadEmailLink");
        assert_eq!(sentence("a thing"), "A thing.");
        assert_eq!(sentence("it says \"Call us.\""), "It says \"Call us.\"");
    }
}
