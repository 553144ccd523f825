//! `NOCALL_PROFILE=1`: where a run's time goes, on stderr. Every DevTools call's round trip
//! and the run's phases, for benchmarks and for a slow portal's bug report; off, it costs
//! one flag read.

use std::sync::OnceLock;
use std::time::Instant;

pub fn on() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("NOCALL_PROFILE").is_some_and(|v| v == "1"))
}

/// Marks the end of each phase of a run, timed from when it was started.
pub struct Phases(Instant);

impl Phases {
    pub fn start() -> Phases {
        Phases(Instant::now())
    }

    pub fn done(&self, what: &str) {
        if on() {
            eprintln!(
                "phase {:>7.1} ms {what}",
                self.0.elapsed().as_secs_f64() * 1000.0
            );
        }
    }
}
