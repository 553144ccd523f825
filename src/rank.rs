//! Ranking: how many support calls each finding will cause a month, and what they cost.
//!
//! calls = reach (users a month who meet the problem) × chance that one of them calls.
//! The default chances live in one table here ([`DEFAULT_CHANCES`]), documented with their
//! reasoning in `docs/model.md`; `nocall.yaml`'s `model` overrides any of them. The same
//! problem met in several journeys is merged into one finding whose reach is their sum.
//! Pure arithmetic: no I/O.

use crate::config::Config;
use crate::finding::{Finding, Kind, Severity, merge_by_id};
use crate::trace::Trace;

/// Chance that a user who meets a problem calls support: (kind, when it blocks, when it is
/// on the user's path without blocking, when it is merely present on a page).
pub(crate) const DEFAULT_CHANCES: &[(Kind, f64, f64, f64)] = &[
    (Kind::SupportOnlyPath, 0.90, 0.90, 0.30),
    (Kind::RecoveryDeadEnd, 0.70, 0.70, 0.70),
    (Kind::UnknownInfo, 0.60, 0.35, 0.10),
    (Kind::EmailMissing, 0.60, 0.60, 0.60),
    (Kind::JourneyBlocked, 0.50, 0.50, 0.50),
    (Kind::LabelMismatch, 0.45, 0.15, 0.05),
    (Kind::DeadEmailLink, 0.50, 0.50, 0.05),
    (Kind::DeadLink, 0.35, 0.35, 0.03),
    (Kind::PhoneUnreachable, 0.30, 0.30, 0.10),
    (Kind::InstructionMismatch, 0.25, 0.25, 0.10),
    (Kind::LabelInconsistent, 0.20, 0.20, 0.10),
    (Kind::PhoneInvalid, 0.10, 0.10, 0.05),
    (Kind::PhoneMismatch, 0.10, 0.10, 0.05),
    (Kind::LabelMissing, 0.08, 0.08, 0.02),
];

/// The uncertainty band around every estimate: low = calls × LOW, high = calls × HIGH.
pub(crate) const UNCERTAINTY_LOW: f64 = 0.5;
pub(crate) const UNCERTAINTY_HIGH: f64 = 1.6;

/// Where a finding sits for the model.
fn situation(f: &Finding) -> &'static str {
    if f.blocking {
        "blocking"
    } else if f.on_path {
        "on-path"
    } else {
        "present"
    }
}

/// The chance used for a finding and where it came from (`nocall.yaml` or the default table).
pub(crate) fn chance(f: &Finding, config: &Config) -> (f64, String) {
    if f.severity == Severity::Warning {
        return (0.0, "unverified: not counted".to_string());
    }
    let situation = situation(f);
    for key in [
        format!("chance.{}.{situation}", f.kind),
        format!("chance.{}", f.kind),
    ] {
        if let Some(v) = config.model.get(&key) {
            let file = config
                .file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "nocall.yaml".into());
            return (*v, format!("{key} in {file}"));
        }
    }
    let (_, blocking, on_path, present) = DEFAULT_CHANCES
        .iter()
        .copied()
        .find(|(k, ..)| *k == f.kind)
        .unwrap_or((f.kind, 0.1, 0.1, 0.05));
    let v = match situation {
        "blocking" => blocking,
        "on-path" => on_path,
        _ => present,
    };
    (
        v,
        format!("default for {} ({situation}), docs/model.md", f.kind),
    )
}

/// Prices every finding, merges the same problem across journeys, and sorts by calls.
///
/// Reach follows the funnel of each journey: a user who calls support about one problem
/// does not go on to meet the next, so the users reaching a problem are the journey's
/// `monthly_users` (or the step's own `reach` share of them) times the share that did not
/// call at any earlier problem. Within a step, specific findings come before the generic
/// `journey-blocked`, so one stuck user is one call, not two.
pub(crate) fn rank(findings: Vec<Finding>, traces: &[Trace], config: &Config) -> Vec<Finding> {
    let mut out = merge_by_id(findings, Finding::absorb);
    let chances: Vec<(f64, String)> = out.iter().map(|f| chance(f, config)).collect();
    for t in traces {
        funnel(t, &mut out, &chances);
    }
    for (f, (c, source)) in out.iter_mut().zip(chances) {
        price(f, c, source, config);
    }
    sort_by_calls(&mut out);
    out
}

/// The ranking's order: most calls first, then the more serious, then by id so that equal
/// findings always list the same way.
pub(crate) fn sort_by_calls(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.est_calls_per_month
            .total_cmp(&a.est_calls_per_month)
            .then(a.severity.cmp(&b.severity))
            .then(a.id.cmp(&b.id))
    });
}

/// Sets the reach of every occurrence in journey `t`, walking its problems in order.
fn funnel(t: &Trace, findings: &mut [Finding], chances: &[(f64, String)]) {
    let users = t.monthly_users.max(0.0);
    // (step, generic last, finding index, occurrence index)
    let mut met: Vec<(usize, bool, usize, usize)> = Vec::new();
    for (fi, f) in findings.iter().enumerate() {
        for (oi, o) in f.occurrences.iter().enumerate() {
            if o.scenario == t.scenario {
                met.push((
                    o.step.unwrap_or(usize::MAX),
                    f.kind == Kind::JourneyBlocked,
                    fi,
                    oi,
                ));
            }
        }
    }
    met.sort();
    let mut still_trying = 1.0;
    for (step, _, fi, oi) in met {
        let share = t
            .steps
            .iter()
            .find(|s| s.index == step)
            .and_then(|s| s.reach)
            .unwrap_or(1.0)
            .clamp(0.0, 1.0);
        if let Some(o) = findings.get_mut(fi).and_then(|f| f.occurrences.get_mut(oi)) {
            o.reach = round2(users * share * still_trying);
        }
        still_trying *= 1.0 - chances.get(fi).map_or(0.0, |c| c.0).clamp(0.0, 1.0);
    }
}

fn price(f: &mut Finding, chance: f64, source: String, config: &Config) {
    let reach: f64 = round2(f.occurrences.iter().map(|o| o.reach).sum());
    let calls = round2(reach * chance);
    let low = config
        .model
        .get("uncertainty.low")
        .copied()
        .unwrap_or(UNCERTAINTY_LOW);
    let high = config
        .model
        .get("uncertainty.high")
        .copied()
        .unwrap_or(UNCERTAINTY_HIGH);
    f.est_calls_per_month = calls;
    f.est_cost_per_month = round2(calls * config.cost_per_call);
    f.estimate.reach = reach;
    f.estimate.chance = chance;
    f.estimate.chance_source = source;
    f.estimate.calls_low = round2(calls * low);
    f.estimate.calls_high = round2(calls * high);
    f.estimate.cost_per_call = config.cost_per_call;
    f.estimate.currency = config.currency.clone();
}

/// Rounded to cents: every figure nocall shows has two decimals at most.
pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0 + 0.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Occurrence;

    fn trace(name: &str, users: f64) -> Trace {
        Trace {
            scenario: name.into(),
            monthly_users: users,
            ..Trace::default()
        }
    }

    fn finding(kind: Kind, scenario: &str) -> Finding {
        let mut f = Finding::new(kind, "http://h/login", "input labelled \"Password\"", "m");
        f.occurrences = vec![Occurrence {
            scenario: scenario.into(),
            ..Occurrence::default()
        }];
        f.scenario = scenario.into();
        f
    }

    #[test]
    fn calls_are_reach_times_chance_and_cost_follows() {
        let traces = [trace("login", 400.0)];
        let out = rank(
            vec![finding(Kind::LabelMismatch, "login").blocking()],
            &traces,
            &Config::default(),
        );
        assert_eq!(out[0].est_calls_per_month, 180.0);
        assert_eq!(out[0].est_cost_per_month, 180.0 * 22.0);
        assert_eq!(out[0].estimate.calls_low, 90.0);
        assert!(out[0].estimate.chance_source.contains("default"));
    }

    #[test]
    fn the_same_problem_in_two_journeys_is_one_finding_with_summed_reach() {
        let traces = [trace("a", 100.0), trace("b", 300.0)];
        let out = rank(
            vec![
                finding(Kind::LabelMissing, "a"),
                finding(Kind::LabelMissing, "b"),
                finding(Kind::LabelMissing, "b"),
            ],
            &traces,
            &Config::default(),
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].estimate.reach, 400.0);
        assert_eq!(out[0].est_calls_per_month, 8.0);
    }

    #[test]
    fn config_overrides_win_and_are_named_and_warnings_count_nothing() {
        let mut config = Config::default();
        config.model.insert("chance.label-missing".into(), 0.5);
        let traces = [trace("a", 100.0)];
        let out = rank(vec![finding(Kind::LabelMissing, "a")], &traces, &config);
        assert_eq!(out[0].est_calls_per_month, 50.0);
        assert!(
            out[0]
                .estimate
                .chance_source
                .contains("chance.label-missing")
        );
        let out = rank(
            vec![finding(Kind::DeadLink, "a").warning()],
            &traces,
            &config,
        );
        assert_eq!(out[0].est_calls_per_month, 0.0);
    }

    #[test]
    fn sorted_by_calls() {
        let traces = [trace("a", 100.0)];
        let mut low = finding(Kind::LabelMissing, "a");
        low.id = "Flow".into();
        let out = rank(
            vec![low, finding(Kind::SupportOnlyPath, "a").blocking()],
            &traces,
            &Config::default(),
        );
        assert_eq!(out[0].kind, Kind::SupportOnlyPath);
    }

    #[test]
    fn every_kind_has_a_default() {
        for k in Kind::ALL {
            assert!(DEFAULT_CHANCES.iter().any(|(d, ..)| *d == k), "{k}");
        }
    }

    fn at_step(kind: Kind, scenario: &str, step: usize, element: &str) -> Finding {
        let mut f = Finding::new(kind, "http://h/p", element, "m");
        f.occurrences = vec![Occurrence {
            scenario: scenario.into(),
            step: Some(step),
            ..Occurrence::default()
        }];
        f
    }

    #[test]
    fn users_who_called_at_one_trap_do_not_meet_the_next() {
        let traces = [trace("login", 100.0)];
        let first = at_step(Kind::LabelMismatch, "login", 2, "a").blocking();
        let generic = at_step(Kind::JourneyBlocked, "login", 2, "b").blocking();
        let out = rank(vec![generic, first], &traces, &Config::default());
        let mismatch = out.iter().find(|f| f.kind == Kind::LabelMismatch).unwrap();
        let blocked = out.iter().find(|f| f.kind == Kind::JourneyBlocked).unwrap();
        assert_eq!(mismatch.estimate.reach, 100.0);
        assert_eq!(
            blocked.estimate.reach, 55.0,
            "the 45 who called about the label are gone"
        );
        let total: f64 = out.iter().map(|f| f.est_calls_per_month).sum();
        assert!(total <= 100.0);
    }

    #[test]
    fn a_step_reach_share_scales_its_users() {
        let mut t = trace("login", 200.0);
        t.steps = vec![crate::trace::StepTrace {
            index: 3,
            reach: Some(0.25),
            ..Default::default()
        }];
        let out = rank(
            vec![at_step(Kind::LabelMissing, "login", 3, "a")],
            &[t],
            &Config::default(),
        );
        assert_eq!(out[0].estimate.reach, 50.0);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn kind() -> impl Strategy<Value = Kind> {
            (0..Kind::ALL.len()).prop_map(|i| Kind::ALL[i])
        }

        proptest! {
            #[test]
            fn more_users_never_mean_fewer_calls(k in kind(), users in 0.0..10_000.0f64, extra in 0.0..10_000.0f64, blocking: bool) {
                let make = |u: f64| {
                    let f = at_step(k, "j", 1, "e");
                    let f = if blocking { f.blocking() } else { f };
                    rank(vec![f], &[trace("j", u)], &Config::default())[0].est_calls_per_month
                };
                prop_assert!(make(users + extra) >= make(users));
            }

            #[test]
            fn blocking_never_ranks_below_the_same_finding_not_blocking(k in kind(), users in 1.0..10_000.0f64) {
                let traces = [trace("j", users)];
                let plain = rank(vec![at_step(k, "j", 1, "e")], &traces, &Config::default())[0].est_calls_per_month;
                let blocking = rank(vec![at_step(k, "j", 1, "e").blocking()], &traces, &Config::default())[0].est_calls_per_month;
                prop_assert!(blocking >= plain);
            }

            #[test]
            fn merging_journeys_sums_reach(a in 0.0..5_000.0f64, b in 0.0..5_000.0f64, k in kind()) {
                let traces = [trace("a", a), trace("b", b)];
                let out = rank(vec![at_step(k, "a", 1, "e"), at_step(k, "b", 4, "e")], &traces, &Config::default());
                prop_assert_eq!(out.len(), 1);
                prop_assert!((out[0].estimate.reach - (a + b)).abs() < 0.02);
            }

            #[test]
            fn calls_never_exceed_users(n in 1usize..12, users in 0.0..10_000.0f64) {
                let fs: Vec<Finding> = (0..n).map(|i| at_step(Kind::ALL[i % 14], "j", i / 3 + 1, &i.to_string()).blocking()).collect();
                let out = rank(fs, &[trace("j", users)], &Config::default());
                let total: f64 = out.iter().map(|f| f.est_calls_per_month).sum();
                prop_assert!(total <= users + 0.05 * n as f64);
            }
        }
    }
}
