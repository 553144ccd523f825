//! Progress bars on standard error, one per journey; hidden when stderr is not a terminal.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use nocall::runner::Observer;
use nocall::scenario::Scenario;
use nocall::trace::{StepTrace, Trace};

pub struct Bars {
    multi: MultiProgress,
    bars: Vec<ProgressBar>,
}

impl Bars {
    pub fn new(scenarios: &[Scenario]) -> Bars {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{prefix:<36!} {bar:20} {pos}/{len} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        let bars = scenarios
            .iter()
            .map(|s| {
                let b = multi.add(ProgressBar::new(s.steps.len() as u64));
                b.set_style(style.clone());
                b.set_prefix(nocall::terminal::clean(&s.name).into_owned());
                b.set_message("waiting");
                b
            })
            .collect();
        Bars { multi, bars }
    }

    pub fn clear(&self) {
        let _ = self.multi.clear();
    }
}

impl Observer for Bars {
    fn journey_started(&self, journey: usize, _scenario: &Scenario) {
        if let Some(b) = self.bars.get(journey) {
            b.set_message("starting");
        }
    }

    fn step_finished(&self, journey: usize, step: &StepTrace) {
        if let Some(b) = self.bars.get(journey) {
            b.set_position(step.index as u64);
            b.set_message(nocall::terminal::clean(&step.action).into_owned());
        }
    }

    fn journey_finished(&self, journey: usize, trace: &Trace) {
        if let Some(b) = self.bars.get(journey) {
            b.finish_with_message(trace.status.as_str());
        }
    }
}

/// One bar for a crawl: pages visited of pages known.
pub fn crawl_bar() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(1), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("crawling {bar:30} {pos}/{len} pages")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}
