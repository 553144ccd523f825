//! The JSON report: the stable schema of PRODUCT.md, for CI, `explain`, `evidence`, `merge`.

use super::{Format, Report};

pub struct Json;

impl Format for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn render(&self, report: &Report) -> String {
        // Serialising plain data cannot fail; an empty object would still be valid JSON.
        let mut s = serde_json::to_string_pretty(report).unwrap_or_else(|_| "{}".into());
        s.push('\n');
        s
    }
}

/// Reads a report written by [`Json`].
pub fn parse(text: &str) -> Result<Report, serde_json::Error> {
    serde_json::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Finding, Kind};
    use crate::trace::Trace;

    #[test]
    fn round_trips_and_keeps_the_stable_field_names() {
        let mut f = Finding::new(Kind::DeadLink, "http://h/help", "link \"FAQ\"", "dead");
        f.est_calls_per_month = 12.5;
        let report = Report::new(&[Trace::default()], &[None], vec![f], "USD");
        let text = Json.render(&report);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        for key in ["schema", "tool_version", "summary", "scenarios", "findings"] {
            assert!(v.get(key).is_some(), "{key}");
        }
        for key in [
            "id",
            "kind",
            "blocking",
            "scenario",
            "url",
            "element",
            "message",
            "est_calls_per_month",
            "est_cost_per_month",
            "evidence",
        ] {
            assert!(v["findings"][0].get(key).is_some(), "{key}");
        }
        assert_eq!(v["schema"], "nocall-report/1");
        assert_eq!(v["findings"][0]["kind"], "dead-link");
        assert_eq!(parse(&text).unwrap(), report);
    }
}
