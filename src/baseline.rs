//! Baselines: the findings already known, so a gate fails only on new ones.
//!
//! `nocall baseline write` records the current findings as a small JSON file (id, kind and
//! message each, so a reviewer can read what is being accepted). Reading gives the set of
//! ids the gate skips, and accepts three shapes: that file, a full JSON report (the last
//! run's `report.json` works as a baseline as it is), or a text file of ids, one a line
//! (`#` starts a comment). Ids are matched as nocall writes them (`F` + lowercase hex), so a
//! hand-typed `f1A2b3C` still counts.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::finding::Kind;
use crate::report::{Report, SCHEMA as REPORT_SCHEMA};

pub const SCHEMA: &str = "nocall-baseline/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub schema: String,
    pub tool_version: String,
    pub findings: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub kind: Kind,
    pub message: String,
    /// On a symptom: the root cause it was listed under. Symptoms are recorded too, so a
    /// baseline keeps excusing a problem whether a later run tells it as a root cause or a
    /// symptom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symptom_of: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read the baseline {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the baseline {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the baseline {} is not a nocall baseline or JSON report: {reason}; write one with `nocall baseline write`", .path.display())]
    Invalid { path: PathBuf, reason: String },
}

impl Baseline {
    /// Every finding of `report`.
    pub fn from_report(report: &Report) -> Baseline {
        Baseline {
            schema: SCHEMA.to_string(),
            tool_version: report.tool_version.clone(),
            findings: report
                .all_findings()
                .map(|(f, _)| Entry {
                    id: f.id.clone(),
                    kind: f.kind,
                    message: f.message.clone(),
                    symptom_of: f.symptom_of.clone(),
                })
                .collect(),
        }
    }

    pub fn to_json(&self) -> String {
        // Serialising plain data cannot fail; an empty baseline would excuse nothing.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into());
        text.push('\n');
        text
    }
}

/// `nocall baseline write`: records the findings of `report` at `path`, creating its folder.
/// The path is the user's to choose (it may be outside any output folder), but a symlink
/// at it is replaced, never written through, and the file is written whole
/// ([`crate::files::replace`]).
pub fn write(report: &Report, path: &Path) -> Result<(), BaselineError> {
    crate::files::replace(path, Baseline::from_report(report).to_json().as_bytes()).map_err(|e| {
        BaselineError::Write {
            path: path.to_path_buf(),
            source: match e {
                crate::files::FilesError::Io { source, .. } => source,
                other => std::io::Error::other(other.to_string()),
            },
        }
    })
}

/// The finding ids recorded in the baseline at `path` (any of the three shapes).
pub fn read(path: &Path) -> Result<HashSet<String>, BaselineError> {
    let text = crate::limits::read_text(path).map_err(|e| BaselineError::Read {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    parse(&text).map_err(|reason| BaselineError::Invalid {
        path: path.to_path_buf(),
        reason,
    })
}

/// The ids in a baseline's text; the error says what is wrong with it.
pub fn parse(text: &str) -> Result<HashSet<String>, String> {
    if !text.trim_start().starts_with('{') {
        return Ok(text
            .lines()
            .map(|l| l.split('#').next().unwrap_or_default().trim())
            .filter(|l| !l.is_empty())
            .map(canonical)
            .collect());
    }
    // Both the baseline and the report keep their findings' ids at `findings[].id`.
    #[derive(Deserialize)]
    struct Ids {
        schema: String,
        findings: Vec<Id>,
    }
    #[derive(Deserialize)]
    struct Id {
        id: String,
        // A report's root causes list the findings they explain; those are known too.
        #[serde(default)]
        symptoms: Vec<Id>,
    }
    fn all(ids: Vec<Id>, out: &mut HashSet<String>) {
        for i in ids {
            out.insert(canonical(&i.id));
            all(i.symptoms, out);
        }
    }
    let ids: Ids = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if ids.schema != SCHEMA && ids.schema != REPORT_SCHEMA {
        return Err(format!(
            "its schema is {:?}, not {SCHEMA:?} or {REPORT_SCHEMA:?}",
            ids.schema
        ));
    }
    let mut out = HashSet::new();
    all(ids.findings, &mut out);
    Ok(out)
}

/// `f1A2B3C4` → `F1a2b3c4`, the way [`crate::finding::stable_id`] writes ids.
fn canonical(id: &str) -> String {
    let id = id.trim();
    let mut chars = id.chars();
    match chars.next() {
        Some(first) => {
            first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Finding;
    use crate::gate::Gate;
    use crate::report::Format;
    use crate::report::json::Json;

    fn report() -> Report {
        let a = Finding::new(Kind::DeadLink, "http://h/a", "link", "dead").blocking();
        let b = Finding::new(Kind::LabelMissing, "http://h/b", "input", "no label");
        Report::new(&[], &[], vec![a, b], "USD")
    }

    #[test]
    fn a_written_baseline_reads_back_and_excuses_its_findings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ci/baseline.json");
        let r = report();
        write(&r, &path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["schema"], SCHEMA);
        assert_eq!(v["findings"][0]["kind"], "dead-link");
        assert_eq!(v["findings"][0]["message"], "dead");
        let ids = read(&path).unwrap();
        assert_eq!(ids, r.findings.iter().map(|f| f.id.clone()).collect());
        assert!(
            !Gate {
                baseline: Some(ids),
                ..Gate::default()
            }
            .evaluate(&r)
            .failed
        );
    }

    #[test]
    fn a_full_report_and_an_id_list_are_baselines_too() {
        let r = report();
        let ids: HashSet<String> = r.findings.iter().map(|f| f.id.clone()).collect();
        assert_eq!(parse(&Json.render(&r)).unwrap(), ids);
        let list = format!(
            "# accepted\n{}\n\n  {}  # label\n",
            r.findings[0].id.to_ascii_lowercase(),
            r.findings[1].id
        );
        assert_eq!(parse(&list).unwrap(), ids);
    }

    #[test]
    fn symptoms_are_recorded_and_a_symlink_at_the_path_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = report();
        let symptom = Finding::new(Kind::JourneyBlocked, "http://h/a", "click", "stuck");
        let symptom_id = symptom.id.clone();
        r.findings[0].symptoms = vec![symptom];
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let path = dir.path().join("baseline.json");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        write(&r, &path).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        let ids = read(&path).unwrap();
        assert!(ids.contains(&symptom_id) && ids.contains(&r.findings[0].id));
        // A full report read as a baseline knows its symptoms too.
        assert!(parse(&Json.render(&r)).unwrap().contains(&symptom_id));
    }

    #[test]
    fn other_json_is_refused_with_a_reason() {
        assert!(
            parse(r#"{"schema": "other/1", "findings": []}"#)
                .unwrap_err()
                .contains("other/1")
        );
        assert!(parse("{not json").is_err());
        let dir = tempfile::tempdir().unwrap();
        let err = read(&dir.path().join("missing.json")).unwrap_err();
        assert!(
            err.to_string().contains("cannot read the baseline"),
            "{err}"
        );
    }
}
