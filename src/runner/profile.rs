//! `NOCALL_PROFILE=1`: where a run's time goes, on stderr. Every DevTools call's round trip
//! and the run's phases, for benchmarks and for a slow portal's bug report; off, it costs
//! one flag read. `NOCALL_PEAK_RSS`: the process's own peak memory and CPU time.

use std::sync::OnceLock;
use std::time::Instant;

pub(crate) fn on() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("NOCALL_PROFILE").is_some_and(|v| v == "1"))
}

/// Marks the end of each phase of a run, timed from when it was started.
pub(crate) struct Phases(Instant);

impl Phases {
    pub(crate) fn start() -> Phases {
        Phases(Instant::now())
    }

    pub(crate) fn done(&self, what: &str) {
        if on() {
            eprintln!(
                "phase {:>7.1} ms {what}",
                self.0.elapsed().as_secs_f64() * 1000.0
            );
        }
    }
}

/// `NOCALL_PEAK_RSS`: this process's own peak memory and CPU time, Chromium's processes
/// apart, for benchmarks: "peak RSS 81234 kB", "own CPU 420 ms". Nothing when the
/// variable is unset.
pub fn own_usage() -> Vec<String> {
    if std::env::var_os("NOCALL_PEAK_RSS").is_none() {
        return Vec::new();
    }
    let mut lines = Vec::new();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:")) {
        lines.push(format!(
            "peak RSS {}",
            line.trim_start_matches("VmHWM:").trim()
        ));
    }
    // CPU time of nocall's own threads, live and ended (Chromium is not a waited-for child
    // yet, so it is not counted): utime + stime of /proc/self/stat, in ticks of 10 ms
    // (USER_HZ is 100 on Linux).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let ticks: u64 = after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|n| n.parse::<u64>().ok())
        .sum();
    lines.push(format!("own CPU {} ms", ticks * 10));
    lines
}
