//! Label checks: what the user holds versus what the page asks for.
//!
//! `label-missing` so far: a field with no accessible name, or one found only by its
//! placeholder or `name` attribute.

use std::collections::HashSet;

use super::{Audit, Check};
use crate::finding::{Finding, Kind};
use crate::trace::{FoundBy, NameSource};

pub struct Labels;

impl Check for Labels {
    fn name(&self) -> &'static str {
        "labels"
    }

    fn run(&self, audit: &Audit<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for t in audit.traces {
            for step in &t.steps {
                // Fields the journey itself had to find without a label are on its path.
                for filled in &step.filled {
                    if matches!(filled.found_by, FoundBy::Placeholder | FoundBy::NameAttribute) {
                        let page = t.page_before(step.index);
                        let field = page.and_then(|p| filled.field.and_then(|i| p.fields.get(i)));
                        let element = field.map(|f| f.describe()).unwrap_or_else(|| {
                            format!("field \"{}\" with no label", filled.asked)
                        });
                        let how = match filled.found_by {
                            FoundBy::Placeholder => "its placeholder, which disappears once they type",
                            _ => "its hidden `name` attribute",
                        };
                        let f = Finding::new(
                            Kind::LabelMissing,
                            &filled.url,
                            element,
                            format!(
                                "The field for \"{}\" has no label a person can read; it was found only by {how}.",
                                filled.asked
                            ),
                        )
                        .on_path(true)
                        .at(t, Some(step.index))
                        .excerpt(field.map(|f| f.html.clone()).unwrap_or_default());
                        if seen.insert(f.id.clone()) {
                            out.push(f);
                        }
                    }
                }
                let Some(page) = &step.page else { continue };
                for field in page.fields.iter().filter(|f| f.visible) {
                    let why = match field.name_source {
                        NameSource::None => "has no accessible name at all",
                        NameSource::Placeholder => {
                            "is named only by its placeholder, which disappears once the user types"
                        }
                        _ => continue,
                    };
                    let f = Finding::new(
                        Kind::LabelMissing,
                        &page.url,
                        field.describe(),
                        format!("A field on \"{}\" {why}.", page.title),
                    )
                    .at(t, Some(step.index))
                    .excerpt(field.html.clone());
                    if seen.insert(f.id.clone()) {
                        out.push(f);
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::probe::Probes;
    use crate::trace::{Field, PageState, StepTrace, Trace};

    fn field(name: &str, source: NameSource, placeholder: &str) -> Field {
        Field {
            name: name.into(),
            name_source: source,
            role: "textbox".into(),
            tag: "input".into(),
            input_type: "text".into(),
            placeholder: placeholder.into(),
            visible: true,
            ..Field::default()
        }
    }

    fn audit(fields: Vec<Field>) -> Vec<Finding> {
        let page = PageState {
            url: "http://127.0.0.1:9/register".into(),
            title: "Register".into(),
            fields,
            ..PageState::default()
        };
        let t = [Trace {
            scenario: "s".into(),
            steps: vec![
                StepTrace { index: 1, page: Some(page.clone()), ..StepTrace::default() },
                StepTrace { index: 2, page: Some(page), ..StepTrace::default() },
            ],
            ..Trace::default()
        }];
        let config = Config::default();
        let probes = Probes::default();
        Labels.run(&Audit { traces: &t, config: &config, probes: &probes })
    }

    #[test]
    fn placeholder_only_and_nameless_fields_are_reported_once_per_page() {
        let found = audit(vec![
            field("Email", NameSource::Placeholder, "Email"),
            field("", NameSource::None, ""),
            field("Owner Name", NameSource::Label, ""),
        ]);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found.iter().all(|f| f.kind == Kind::LabelMissing));
        assert!(found[0].message.contains("placeholder"));
        assert!(found[1].message.contains("no accessible name"));
    }

    #[test]
    fn labelled_fields_raise_nothing() {
        assert!(audit(vec![field("Email", NameSource::Label, "you@example.com")]).is_empty());
    }
}
