//! Ranking: how many support calls each finding will cause a month, and what they cost.
//!
//! calls = reach (users a month who meet the problem) × chance that one of them calls.
//! The default chances live in one table here ([`DEFAULT_CHANCES`]), documented with their
//! reasoning in `docs/model.md`; `nocall.yaml`'s `model` overrides any of them. The same
//! problem met in several journeys is merged into one finding whose reach is their sum.
//! Pure arithmetic: no I/O.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::finding::{Finding, Kind, Occurrence, Severity, Situation, merge_by_id};
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
    // Only ever a warning (what nocall did not read), which counts nothing.
    (Kind::LimitReached, 0.0, 0.0, 0.0),
];

/// The uncertainty band around every estimate: low = calls × LOW, high = calls × HIGH.
pub(crate) const UNCERTAINTY_LOW: f64 = 0.5;
pub(crate) const UNCERTAINTY_HIGH: f64 = 1.6;

/// The chances, band and price a run was ranked with, resolved from `nocall.yaml` and the
/// defaults. The JSON report carries it, so `nocall merge` ranks shards exactly as the run
/// would have ranked them together, without the config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub chances: Vec<ModelChance>,
    pub uncertainty_low: f64,
    pub uncertainty_high: f64,
    pub cost_per_call: f64,
    pub currency: String,
    /// `nocall.yaml`'s label synonyms: the checks that compare journeys with each other
    /// read them, and `nocall merge` runs those checks again over every shard's traces.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<Vec<String>>,
}

/// One kind's chance in one situation, and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelChance {
    pub kind: Kind,
    pub situation: Situation,
    pub chance: f64,
    pub source: String,
}

impl Model {
    /// Every kind in every situation, as `config` sets it.
    pub fn of(config: &Config) -> Model {
        let situations = [Situation::Blocking, Situation::OnPath, Situation::Present];
        let chances = Kind::ALL
            .into_iter()
            .flat_map(|kind| situations.map(|situation| (kind, situation)))
            .map(|(kind, situation)| {
                let (chance, source) = configured_chance(kind, situation, config);
                ModelChance {
                    kind,
                    situation,
                    chance,
                    source,
                }
            })
            .collect();
        let model = |key: &str, default: f64| config.model.get(key).copied().unwrap_or(default);
        Model {
            chances,
            uncertainty_low: model("uncertainty.low", UNCERTAINTY_LOW),
            uncertainty_high: model("uncertainty.high", UNCERTAINTY_HIGH),
            cost_per_call: config.cost_per_call,
            currency: config.currency.clone(),
            synonyms: config.synonyms.clone(),
        }
    }

    /// The chance used for a finding and where it came from.
    pub(crate) fn chance(&self, f: &Finding) -> (f64, String) {
        if f.severity == Severity::Warning {
            return (0.0, "unverified: not counted".to_string());
        }
        let situation = f.situation();
        self.chances
            .iter()
            .find(|c| c.kind == f.kind && c.situation == situation)
            .map(|c| (c.chance, c.source.clone()))
            .unwrap_or_else(|| {
                (
                    default_chance(f.kind, situation),
                    format!("default for {} ({})", f.kind, situation.as_str()),
                )
            })
    }
}

/// The default table's chance of `kind` in `situation`.
fn default_chance(kind: Kind, situation: Situation) -> f64 {
    let (_, blocking, on_path, present) = default_row(kind);
    match situation {
        Situation::Blocking => blocking,
        Situation::OnPath => on_path,
        Situation::Present => present,
    }
}

fn default_row(kind: Kind) -> (Kind, f64, f64, f64) {
    DEFAULT_CHANCES
        .iter()
        .copied()
        .find(|(k, ..)| *k == kind)
        .unwrap_or((kind, 0.1, 0.1, 0.05))
}

/// The chance of `kind` in `situation` and where it came from (`nocall.yaml` or the
/// default table).
fn configured_chance(kind: Kind, situation: Situation, config: &Config) -> (f64, String) {
    let name = situation.as_str();
    for key in [format!("chance.{kind}.{name}"), format!("chance.{kind}")] {
        if let Some(v) = config.model.get(&key) {
            let file = config
                .file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "nocall.yaml".into());
            return (*v, format!("{key} in {file}"));
        }
    }
    (
        default_chance(kind, situation),
        format!("default for {kind} ({name}), docs/model.md"),
    )
}

/// A journey as the funnel sees it: its name and its users a month.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Journey {
    pub(crate) scenario: String,
    pub(crate) monthly_users: f64,
}

/// Prices every finding, merges the same problem across journeys, folds the findings one
/// fix removes into one row (root causes), and sorts by what fixing each saves.
///
/// Reach follows the funnel of each journey: a user who calls support about one problem
/// does not go on to meet the next, so the users reaching a problem are the journey's
/// `monthly_users` (or the step's own `reach` share of them) times the share that did not
/// call at any earlier problem. Within a step, specific findings come before the generic
/// `journey-blocked`, so one stuck user is one call, not two.
pub(crate) fn rank(findings: Vec<Finding>, traces: &[Trace], config: &Config) -> Vec<Finding> {
    let journeys: Vec<Journey> = traces
        .iter()
        .map(|t| Journey {
            scenario: t.scenario.clone(),
            monthly_users: t.monthly_users,
        })
        .collect();
    rank_met(met_in(findings, traces), &journeys, &Model::of(config))
}

/// Findings as checks report them, each told how its journeys met it: the situation the
/// check gave it and the share of users the step's `reach` sets.
pub(crate) fn met_in(findings: Vec<Finding>, traces: &[Trace]) -> Vec<Finding> {
    findings
        .into_iter()
        .map(|mut f| {
            f.stamp_met();
            for (m, o) in f.met.iter_mut().zip(&f.occurrences) {
                m.share = step_share(traces, o);
            }
            f
        })
        .collect()
}

/// The step's `reach` share of its journey's users (1 when the scenario gives none).
fn step_share(traces: &[Trace], o: &Occurrence) -> f64 {
    traces
        .iter()
        .find(|t| t.scenario == o.scenario && t.file == o.file)
        .or_else(|| traces.iter().find(|t| t.scenario == o.scenario))
        .and_then(|t| t.steps.iter().find(|s| Some(s.index) == o.step))
        .and_then(|s| s.reach)
        .unwrap_or(1.0)
        .clamp(0.0, 1.0)
}

/// Ranks findings that already say how each journey met them ([`Finding::met`]): what a
/// run does after its checks, and what `nocall merge` does with the findings of every
/// shard, so both give the same rows, ids and figures.
///
/// `journeys` are in the suite's order: the same problem reported by several shards is
/// folded in that order (so equals are told by the first journey, as in one run), and each
/// finding lists its journeys in that order.
pub(crate) fn rank_met(
    findings: Vec<Finding>,
    journeys: &[Journey],
    model: &Model,
) -> Vec<Finding> {
    let position = |scenario: &str| {
        journeys
            .iter()
            .position(|j| j.scenario == scenario)
            .unwrap_or(usize::MAX)
    };
    let mut findings: Vec<Finding> = findings
        .into_iter()
        .map(|mut f| {
            // A row's flags include its symptoms'; its own come back from its journeys.
            f.stamp_met();
            f.flags_from_met();
            f
        })
        .collect();
    findings.sort_by_key(|f| position(&f.scenario));
    let mut flat = merge_by_id(findings, Finding::absorb);
    for f in &mut flat {
        f.flags_from_met();
        // What only a row says is worked out anew below.
        f.symptoms.clear();
        f.symptom_of = None;
        f.est_calls_saved_if_fixed = 0.0;
        f.estimate.total_calls = 0.0;
        f.estimate.total_calls_without = 0.0;
        let mut pairs: Vec<(Occurrence, crate::finding::Met)> =
            f.occurrences.drain(..).zip(f.met.drain(..)).collect();
        pairs.sort_by_key(|(o, _)| position(&o.scenario));
        (f.occurrences, f.met) = pairs.into_iter().unzip();
    }
    let chances: Vec<(f64, String)> = flat.iter().map(|f| model.chance(f)).collect();
    let calls = funnel_calls(&flat, journeys, &chances, &[]);
    for (i, f) in flat.iter_mut().enumerate() {
        let (c, source) = chances.get(i).cloned().unwrap_or_default();
        let reaches = calls.reach.get(i).cloned().unwrap_or_default();
        for (o, r) in f.occurrences.iter_mut().zip(reaches) {
            o.reach = r;
        }
        price(f, c, source, model);
    }
    let total = round2(flat.iter().map(|f| f.est_calls_per_month).sum());
    let groups = root_causes(&flat);
    let withouts: Vec<f64> = groups
        .iter()
        .map(|(_, members)| total_without(&flat, journeys, &chances, members))
        .collect();
    let mut rows = Vec::new();
    let mut slots: Vec<Option<Finding>> = flat.into_iter().map(Some).collect();
    for ((lead, members), without) in groups.into_iter().zip(withouts) {
        let Some(mut row) = slots.get_mut(lead).and_then(Option::take) else {
            continue;
        };
        let mut symptoms: Vec<Finding> = members
            .iter()
            .filter(|&&m| m != lead)
            .filter_map(|&m| slots.get_mut(m).and_then(Option::take))
            .collect();
        sort_by_calls(&mut symptoms);
        for s in &mut symptoms {
            s.symptom_of = Some(row.id.clone());
        }
        let own = row.est_calls_per_month;
        let calls = round2(own + symptoms.iter().map(|s| s.est_calls_per_month).sum::<f64>());
        row.blocking |= symptoms.iter().any(|s| s.blocking);
        row.on_path |= symptoms.iter().any(|s| s.on_path);
        row.severity = symptoms
            .iter()
            .map(|s| s.severity)
            .fold(row.severity, Ord::min);
        row.est_calls_per_month = calls;
        row.est_cost_per_month = round2(calls * model.cost_per_call);
        row.estimate.own_calls = own;
        row.estimate.calls_low = round2(calls * model.uncertainty_low);
        row.estimate.calls_high = round2(calls * model.uncertainty_high);
        row.estimate.total_calls = total;
        row.estimate.total_calls_without = without;
        row.est_calls_saved_if_fixed = round2(total - without).max(0.0);
        row.symptoms = symptoms;
        rows.push(row);
    }
    sort_rows(&mut rows);
    rows
}

/// Rows by what fixing each saves, then by calls, then the more serious, then by id so
/// that equal rows always list the same way.
pub(crate) fn sort_rows(rows: &mut [Finding]) {
    rows.sort_by(|a, b| {
        b.est_calls_saved_if_fixed
            .total_cmp(&a.est_calls_saved_if_fixed)
            .then(b.est_calls_per_month.total_cmp(&a.est_calls_per_month))
            .then(a.severity.cmp(&b.severity))
            .then(a.id.cmp(&b.id))
    });
}

/// The ranking's order of findings side by side (symptoms under a row): most calls first,
/// then the more serious, then by id.
pub(crate) fn sort_by_calls(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.est_calls_per_month
            .total_cmp(&a.est_calls_per_month)
            .then(a.severity.cmp(&b.severity))
            .then(a.id.cmp(&b.id))
    });
}

/// Every finding of ranked rows side by side again, each with only its own figures: what
/// `nocall merge` ranks anew.
pub(crate) fn unfold(rows: Vec<Finding>) -> Vec<Finding> {
    let mut out = Vec::new();
    for mut row in rows {
        let symptoms = std::mem::take(&mut row.symptoms);
        out.push(row);
        out.extend(symptoms.into_iter().flat_map(|s| unfold(vec![s])));
    }
    out
}

/// What the funnel gives: each occurrence's reach, by finding and occurrence.
struct Funnel {
    reach: Vec<Vec<f64>>,
}

/// Walks every journey's problems in order and sets each occurrence's reach. Findings whose
/// index is in `removed` are as if fixed: nobody meets them, and nobody stops at them.
fn funnel_calls(
    findings: &[Finding],
    journeys: &[Journey],
    chances: &[(f64, String)],
    removed: &[usize],
) -> Funnel {
    let mut reach: Vec<Vec<f64>> = findings
        .iter()
        .map(|f| vec![0.0; f.occurrences.len()])
        .collect();
    for j in journeys {
        let users = j.monthly_users.max(0.0);
        // (step, generic last, id, finding index, occurrence index)
        let mut met: Vec<(usize, bool, &str, usize, usize)> = Vec::new();
        for (fi, f) in findings.iter().enumerate() {
            if removed.contains(&fi) {
                continue;
            }
            for (oi, o) in f.occurrences.iter().enumerate() {
                if o.scenario == j.scenario {
                    met.push((
                        o.step.unwrap_or(usize::MAX),
                        f.kind == Kind::JourneyBlocked,
                        f.id.as_str(),
                        fi,
                        oi,
                    ));
                }
            }
        }
        met.sort();
        let mut still_trying = 1.0;
        for (_, _, _, fi, oi) in met {
            let share = findings
                .get(fi)
                .and_then(|f| f.met.get(oi))
                .map_or(1.0, |m| m.share)
                .clamp(0.0, 1.0);
            if let Some(r) = reach.get_mut(fi).and_then(|r| r.get_mut(oi)) {
                *r = round2(users * share * still_trying);
            }
            still_trying *= 1.0 - chances.get(fi).map_or(0.0, |c| c.0).clamp(0.0, 1.0);
        }
    }
    Funnel { reach }
}

/// The run's calls a month with the findings at `removed` fixed, priced as [`price`] does.
fn total_without(
    flat: &[Finding],
    journeys: &[Journey],
    chances: &[(f64, String)],
    removed: &[usize],
) -> f64 {
    let funnel = funnel_calls(flat, journeys, chances, removed);
    let calls = funnel.reach.iter().enumerate().map(|(i, r)| {
        if removed.contains(&i) {
            return 0.0;
        }
        let reach = round2(r.iter().sum());
        round2(reach * chances.get(i).map_or(0.0, |c| c.0))
    });
    round2(calls.sum())
}

/// How specific a kind is as the cause of what a user meets: a finding is only ever told as
/// a symptom of a more specific one. The generic block is least specific; a message's dead
/// link or missing message is what a dead page or a failed recovery shows; anything a check
/// names on the page itself (a field, a label, an instruction) is most specific.
fn specificity(kind: Kind) -> u8 {
    match kind {
        Kind::JourneyBlocked => 0,
        Kind::DeadEmailLink | Kind::EmailMissing => 1,
        Kind::DeadLink | Kind::RecoveryDeadEnd => 2,
        _ => 3,
    }
}

/// The page a finding is about when it is about a page that fails: a dead link's target,
/// the page a message's link opens, the page a journey was stuck on. Without the fragment:
/// a link to a missing section of a page is about that page.
fn target(f: &Finding) -> Option<String> {
    let raw = match f.kind {
        Kind::DeadLink => f
            .element
            .rsplit_once(" → ")
            .map(|(_, t)| t.trim().to_string())?,
        Kind::DeadEmailLink | Kind::JourneyBlocked => crate::report::page_path(&f.url),
        _ => return None,
    };
    let path = raw.split('#').next().unwrap_or_default();
    let path = crate::report::page_path(path);
    (!path.is_empty()).then_some(path)
}

/// How well one finding explains another: how they are tied (same target 3, same step 2,
/// an earlier block 1), how close the steps are, how specific the explaining finding is,
/// and its id reversed (so equals always pick the same one).
type Explanation<'a> = (u8, i64, u8, std::cmp::Reverse<&'a str>);

/// Groups findings that one fix removes: each group's lead (its index) and every member,
/// the lead first. The rule (`docs/model.md`, "Root causes"): a finding is a symptom of a
/// more specific one when they are about the same failing page (same target), when it
/// blocks a journey at a step where the other is met, or, for the generic block, when the
/// other blocked the same journey at an earlier step (the latest such). Unverified findings
/// (warnings) are neither. A symptom of a symptom belongs to the same lead.
fn root_causes(flat: &[Finding]) -> Vec<(usize, Vec<usize>)> {
    let targets: Vec<Option<String>> = flat.iter().map(target).collect();
    let counted = |f: &Finding| f.severity != Severity::Warning;
    // (scenario, step, situation) of every journey meeting each finding.
    let meetings = |f: &Finding| -> Vec<(String, usize, Situation)> {
        f.occurrences
            .iter()
            .zip(&f.met)
            .filter_map(|(o, m)| Some((o.scenario.clone(), o.step?, m.situation)))
            .collect()
    };
    let all: Vec<Vec<(String, usize, Situation)>> = flat.iter().map(meetings).collect();
    let mut parent: Vec<Option<usize>> = vec![None; flat.len()];
    for (i, f) in flat.iter().enumerate() {
        if !counted(f) {
            continue;
        }
        let mut best: Option<(Explanation<'_>, usize)> = None;
        for (j, g) in flat.iter().enumerate() {
            if i == j || !counted(g) || specificity(g.kind) <= specificity(f.kind) {
                continue;
            }
            let mut tie: Option<(u8, i64)> = None;
            if targets[i].is_some() && targets[i] == targets[j] {
                tie = Some((3, 0));
            }
            for (scenario, step, situation) in &all[i] {
                if *situation != Situation::Blocking {
                    continue;
                }
                for (s2, step2, sit2) in &all[j] {
                    if s2 != scenario {
                        continue;
                    }
                    // Only a finding that itself stops the journey explains a block.
                    if *sit2 != Situation::Blocking {
                        continue;
                    }
                    let candidate = if step2 == step {
                        Some((2, 0))
                    } else if f.kind == Kind::JourneyBlocked && step2 < step {
                        Some((1, *step2 as i64 - *step as i64))
                    } else {
                        None
                    };
                    tie = tie.max(candidate);
                }
            }
            if let Some((strength, closeness)) = tie {
                let key = (
                    strength,
                    closeness,
                    specificity(g.kind),
                    std::cmp::Reverse(g.id.as_str()),
                );
                if best.as_ref().is_none_or(|(k, _)| key > *k) {
                    best = Some((key, j));
                }
            }
        }
        parent[i] = best.map(|(_, j)| j);
    }
    let root = |mut i: usize| {
        // Specificity rises along every step, so the walk ends within four steps.
        while let Some(p) = parent.get(i).copied().flatten() {
            i = p;
        }
        i
    };
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    for i in 0..flat.len() {
        let r = root(i);
        match groups.iter_mut().find(|(lead, _)| *lead == r) {
            Some((_, members)) => members.push(i),
            None => groups.push((r, vec![i])),
        }
    }
    for (lead, members) in &mut groups {
        members.retain(|m| m != lead);
        members.insert(0, *lead);
    }
    groups
}

fn price(f: &mut Finding, chance: f64, source: String, model: &Model) {
    let reach: f64 = round2(f.occurrences.iter().map(|o| o.reach).sum());
    let calls = round2(reach * chance);
    f.est_calls_per_month = calls;
    f.est_cost_per_month = round2(calls * model.cost_per_call);
    f.estimate.reach = reach;
    f.estimate.chance = chance;
    f.estimate.chance_source = source;
    f.estimate.calls_low = round2(calls * model.uncertainty_low);
    f.estimate.calls_high = round2(calls * model.uncertainty_high);
    f.estimate.cost_per_call = model.cost_per_call;
    f.estimate.currency = model.currency.clone();
    f.estimate.own_calls = calls;
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
        let blocked = &mismatch.symptoms[0];
        assert_eq!(blocked.kind, Kind::JourneyBlocked);
        assert_eq!(mismatch.estimate.reach, 100.0);
        assert_eq!(
            blocked.estimate.reach, 55.0,
            "the 45 who called about the label are gone"
        );
        assert_eq!(mismatch.estimate.own_calls, 45.0);
        assert_eq!(mismatch.est_calls_per_month, 45.0 + 27.5);
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

            /// Rows add up to the run's total (no stuck user counted twice), and fixing a row
            /// never saves more than its calls: the users it let through may call later on.
            #[test]
            fn rows_add_up_and_a_saving_is_at_most_the_row(
                found in proptest::collection::vec((0usize..14, 1usize..6, 0usize..2, any::<bool>()), 1..14),
                users in 1.0..5_000.0f64,
            ) {
                let fs: Vec<Finding> = found
                    .iter()
                    .enumerate()
                    .map(|(i, &(k, step, journey, blocking))| {
                        let f = at_step(Kind::ALL[k], ["a", "b"][journey], step, &i.to_string());
                        if blocking { f.blocking() } else { f }
                    })
                    .collect();
                let all: f64 = rank(fs.clone(), &[trace("a", users), trace("b", users / 2.0)], &Config::default())
                    .iter()
                    .map(|f| f.est_calls_per_month)
                    .sum();
                let out = rank(fs, &[trace("a", users), trace("b", users / 2.0)], &Config::default());
                let rows: f64 = out.iter().map(|f| f.est_calls_per_month).sum();
                let flat: f64 = out
                    .iter()
                    .map(|f| f.estimate.own_calls + f.symptoms.iter().map(|s| s.est_calls_per_month).sum::<f64>())
                    .sum();
                prop_assert!((rows - flat).abs() < 0.01 * out.len() as f64 + 0.01);
                prop_assert!((rows - all).abs() < 1e-9);
                for f in &out {
                    prop_assert!((f.estimate.total_calls - f.estimate.total_calls_without - f.est_calls_saved_if_fixed).abs() < 0.011);
                    prop_assert!(f.est_calls_saved_if_fixed <= f.est_calls_per_month + 0.01 * (1 + f.symptoms.len()) as f64, "{f:#?}");
                }
            }
        }
    }

    fn met_at(kind: Kind, step: usize, url: &str, element: &str) -> Finding {
        let mut f = Finding::new(kind, url, element, "m");
        f.occurrences = vec![Occurrence {
            scenario: "j".into(),
            step: Some(step),
            ..Occurrence::default()
        }];
        f.scenario = "j".into();
        f.step = Some(step);
        f
    }

    fn rows(findings: Vec<Finding>) -> Vec<(Kind, Vec<Kind>)> {
        let mut out: Vec<(Kind, Vec<Kind>)> =
            rank(findings, &[trace("j", 1000.0)], &Config::default())
                .into_iter()
                .map(|f| {
                    let mut s: Vec<Kind> = f.symptoms.iter().map(|s| s.kind).collect();
                    s.sort();
                    (f.kind, s)
                })
                .collect();
        out.sort();
        out
    }

    #[test]
    fn a_missing_field_explains_the_block_two_steps_later_but_not_the_other_field() {
        let out = rows(vec![
            met_at(Kind::UnknownInfo, 3, "http://h/lost", "card number").blocking(),
            met_at(Kind::UnknownInfo, 3, "http://h/lost", "credit limit").blocking(),
            met_at(Kind::LabelMissing, 3, "http://h/lost", "postcode"),
            met_at(Kind::JourneyBlocked, 5, "http://h/lost", "expect").blocking(),
        ]);
        let with_block = out
            .iter()
            .filter(|(_, s)| s == &[Kind::JourneyBlocked])
            .count();
        assert_eq!(out.len(), 3, "{out:?}");
        assert_eq!(with_block, 1, "{out:?}");
    }

    #[test]
    fn a_dead_reset_link_is_one_recovery_row_and_a_phone_beside_it_is_its_own() {
        let out = rows(vec![
            met_at(Kind::RecoveryDeadEnd, 4, "http://h/forgot", "reset").blocking(),
            met_at(Kind::DeadEmailLink, 4, "http://h/reset/tok", "link in mail").blocking(),
            met_at(Kind::JourneyBlocked, 4, "http://h/reset/tok", "email").blocking(),
            met_at(Kind::PhoneUnreachable, 4, "http://h/forgot", "+1 415"),
        ]);
        assert_eq!(
            out,
            [
                (
                    Kind::RecoveryDeadEnd,
                    vec![Kind::JourneyBlocked, Kind::DeadEmailLink]
                ),
                (Kind::PhoneUnreachable, vec![]),
            ]
        );
    }

    #[test]
    fn a_dead_link_and_the_mail_link_to_the_same_page_are_one_row() {
        let mut page = met_at(
            Kind::DeadLink,
            1,
            "http://h/notice",
            "link \"Update\" → /update",
        );
        page.occurrences[0].scenario = "k".into();
        let out = rank(
            vec![
                page.blocking(),
                met_at(Kind::DeadEmailLink, 5, "http://h/update", "link in mail").blocking(),
            ],
            &[trace("j", 100.0), trace("k", 100.0)],
            &Config::default(),
        );
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(out[0].kind, Kind::DeadLink);
        assert_eq!(
            out[0].symptoms[0].symptom_of.as_deref(),
            Some(out[0].id.as_str())
        );
        // The ids stay the findings' own: a baseline of either still knows the row.
        assert_eq!(
            out[0].symptoms[0].id,
            met_at(Kind::DeadEmailLink, 5, "http://h/update", "link in mail").id
        );
    }
}
