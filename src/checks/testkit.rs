//! Hand-built traces for the checks' tests: pages, fields, steps and journeys in a few
//! words each. Test-only: nothing here is compiled into nocall.

use crate::checks::{Audit, Check};
use crate::config::Config;
use crate::finding::Finding;
use crate::probe::status::Probes;
use crate::trace::{
    Control, Field, Filled, FoundBy, HoldInfo, JourneyStatus, Link, NameSource, Outcome, PageState,
    StepKind, StepTrace, Trace,
};

pub(super) const BASE: &str = "http://127.0.0.1:9";

pub(super) fn page(path: &str, title: &str, text: &str) -> PageState {
    PageState {
        url: format!("{BASE}{path}"),
        status: Some(200),
        title: title.into(),
        text: text.into(),
        ..PageState::default()
    }
}

/// A text input named by a `<label>`.
pub(super) fn field(name: &str) -> Field {
    Field {
        name: name.into(),
        name_source: NameSource::Label,
        label_text: name.into(),
        role: "textbox".into(),
        tag: "input".into(),
        input_type: "text".into(),
        html: format!("<input type=\"text\" aria-label=\"{name}\">"),
        form: Some(0),
        visible: true,
        ..Field::default()
    }
}

pub(super) fn required(mut f: Field) -> Field {
    f.required = true;
    f
}

pub(super) fn button(name: &str) -> Control {
    Control {
        name: name.into(),
        role: "button".into(),
        button_type: "submit".into(),
        form: Some(0),
        visible: true,
        ..Control::default()
    }
}

pub(super) fn link(text: &str, href: &str, region: &str) -> Link {
    Link {
        text: text.into(),
        href: format!("{BASE}{href}"),
        region: region.into(),
        tag: "a".into(),
        visible: true,
        ..Link::default()
    }
}

pub(super) fn open(index: usize, page: PageState) -> StepTrace {
    StepTrace {
        index,
        line: index + 4,
        action: format!("open {}", crate::trace::url_path(&page.url)),
        kind: StepKind::Open,
        page: Some(page),
        ..StepTrace::default()
    }
}

/// A fill step: (field index on the page before, label asked, holds, unknown).
pub(super) fn fill(
    index: usize,
    page: &PageState,
    entries: &[(usize, &[&str], bool)],
) -> StepTrace {
    let filled = entries
        .iter()
        .map(|&(i, holds, unknown)| {
            let name = page
                .fields
                .get(i)
                .map(|f| f.name.clone())
                .unwrap_or_default();
            Filled {
                asked: name.clone(),
                field: Some(i),
                name,
                found_by: FoundBy::AccessibleName,
                holds: holds.iter().map(|h| h.to_string()).collect(),
                unknown,
                secret: false,
                url: page.url.clone(),
            }
        })
        .collect();
    StepTrace {
        index,
        line: index + 4,
        action: "fill".into(),
        kind: StepKind::Fill,
        filled,
        page: Some(page.clone()),
        ..StepTrace::default()
    }
}

pub(super) fn click(index: usize, name: &str, after: PageState) -> StepTrace {
    StepTrace {
        index,
        line: index + 4,
        action: format!("click {name:?}"),
        kind: StepKind::Click,
        clicked: Some(crate::trace::Clicked {
            name: name.into(),
            role: "button".into(),
            ..Default::default()
        }),
        page: Some(after),
        ..StepTrace::default()
    }
}

/// An `expect` that failed: the journey is blocked here, on the page it was on.
pub(super) fn failed_expect(index: usize, text: &str, on: PageState) -> StepTrace {
    StepTrace {
        index,
        line: index + 4,
        action: format!("expect text {text:?}"),
        kind: StepKind::Expect,
        outcome: Outcome::Failed {
            kind: crate::trace::FailureKind::ExpectNotSeen,
            reason: format!("{text:?} is not on the page"),
        },
        page: Some(on),
        ..StepTrace::default()
    }
}

pub(super) fn trace(name: &str, holds: &[&str], steps: Vec<StepTrace>) -> Trace {
    let blocked_at_step = steps.iter().find(|s| !s.outcome.is_done()).map(|s| s.index);
    Trace {
        scenario: name.into(),
        file: format!("scenarios/{name}.yaml"),
        start_url: format!("{BASE}/"),
        monthly_users: 100.0,
        holds: holds
            .iter()
            .map(|h| HoldInfo {
                name: h.to_string(),
                secret: false,
            })
            .collect(),
        status: if blocked_at_step.is_some() {
            JourneyStatus::Blocked
        } else {
            JourneyStatus::Completed
        },
        blocked_at_step,
        steps,
        ..Trace::default()
    }
}

pub(super) fn run_with(check: &dyn Check, traces: &[Trace], config: &Config) -> Vec<Finding> {
    let probes = Probes::default();
    check.run(&Audit {
        traces,
        config,
        probes: &probes,
    })
}

pub(super) fn run(check: &dyn Check, traces: &[Trace]) -> Vec<Finding> {
    run_with(check, traces, &Config::default())
}
