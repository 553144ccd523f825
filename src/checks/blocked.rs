//! `journey-blocked`: the journey could not go on.

use super::{Audit, Check};
use crate::finding::{Finding, Kind};
use crate::trace::{JourneyStatus, Outcome};

pub(super) struct JourneyBlocked;

impl Check for JourneyBlocked {
    fn name(&self) -> &'static str {
        "journey-blocked"
    }

    fn run(&self, audit: &Audit<'_>) -> Vec<Finding> {
        audit
            .traces
            .iter()
            .filter(|t| t.status == JourneyStatus::Blocked)
            .filter_map(|t| {
                let step = t.steps.iter().find(|s| !s.outcome.is_done())?;
                let Outcome::Failed { reason, .. } = &step.outcome else {
                    return None;
                };
                let page = step.page.as_ref().or_else(|| t.page_before(step.index));
                let url = page
                    .map(|p| p.url.clone())
                    .unwrap_or_else(|| t.start_url.clone());
                let title = page.map(|p| p.title.as_str()).unwrap_or_default();
                let on = if title.is_empty() {
                    String::new()
                } else {
                    format!(" on \"{title}\"")
                };
                let end = if reason.ends_with(['.', '!', '?', '"']) {
                    ""
                } else {
                    "."
                };
                let message = format!(
                    "The journey stops at step {} ({}){on}: {reason}{end}",
                    step.index, step.action
                );
                Some(
                    Finding::new(Kind::JourneyBlocked, &url, step.action.clone(), message)
                        .blocking()
                        .at(t, Some(step.index))
                        .excerpt(reason.clone()),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::probe::status::Probes;
    use crate::trace::{PageState, StepTrace, Trace};

    fn trace(status: JourneyStatus, outcome: Outcome) -> Trace {
        Trace {
            scenario: "login".into(),
            file: "scenarios/login.yaml".into(),
            start_url: "http://127.0.0.1:1/".into(),
            status,
            steps: vec![
                StepTrace {
                    index: 1,
                    line: 5,
                    action: "open /login".into(),
                    page: Some(PageState {
                        url: "http://127.0.0.1:1/login".into(),
                        title: "Sign in".into(),
                        ..PageState::default()
                    }),
                    ..StepTrace::default()
                },
                StepTrace {
                    index: 2,
                    line: 6,
                    action: "expect text \"Welcome\"".into(),
                    outcome,
                    ..StepTrace::default()
                },
            ],
            ..Trace::default()
        }
    }

    #[test]
    fn reports_the_failed_step_on_the_page_it_acted_on() {
        let t = [trace(
            JourneyStatus::Blocked,
            Outcome::Failed {
                kind: crate::trace::FailureKind::ExpectNotSeen,
                reason: "\"Welcome\" is not on the page".into(),
            },
        )];
        let config = Config::default();
        let probes = Probes::default();
        let found = JourneyBlocked.run(&Audit {
            traces: &t,
            config: &config,
            probes: &probes,
        });
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.kind, Kind::JourneyBlocked);
        assert!(f.blocking);
        assert_eq!(f.step, Some(2));
        assert_eq!(f.url, "http://127.0.0.1:1/login");
        assert_eq!(f.occurrences[0].line, Some(6));
        assert!(
            f.message.contains("\"Welcome\" is not on the page"),
            "{}",
            f.message
        );
    }

    #[test]
    fn completed_journeys_raise_nothing() {
        let t = [trace(JourneyStatus::Completed, Outcome::Done)];
        let config = Config::default();
        let probes = Probes::default();
        assert!(
            JourneyBlocked
                .run(&Audit {
                    traces: &t,
                    config: &config,
                    probes: &probes
                })
                .is_empty()
        );
    }
}
