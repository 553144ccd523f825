//! Findings: one problem a first-time user meets, with its evidence and its price.
//!
//! Checks create findings without a price; `rank` fills in the estimate and merges
//! the same problem met in several journeys into one. The id is derived from what the
//! problem is (kind, page path, element), never from when or where it was seen, so it is
//! stable across runs and ports.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The finding kinds of the product contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    LabelMismatch,
    LabelInconsistent,
    LabelMissing,
    UnknownInfo,
    InstructionMismatch,
    SupportOnlyPath,
    JourneyBlocked,
    RecoveryDeadEnd,
    DeadLink,
    EmailMissing,
    DeadEmailLink,
    PhoneInvalid,
    PhoneMismatch,
    PhoneUnreachable,
    /// nocall stopped reading a page at one of its limits (issue 23): a warning, never
    /// priced, never a gate.
    LimitReached,
}

impl Kind {
    pub const ALL: [Kind; 15] = [
        Kind::LabelMismatch,
        Kind::LabelInconsistent,
        Kind::LabelMissing,
        Kind::UnknownInfo,
        Kind::InstructionMismatch,
        Kind::SupportOnlyPath,
        Kind::JourneyBlocked,
        Kind::RecoveryDeadEnd,
        Kind::DeadLink,
        Kind::EmailMissing,
        Kind::DeadEmailLink,
        Kind::PhoneInvalid,
        Kind::PhoneMismatch,
        Kind::PhoneUnreachable,
        Kind::LimitReached,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::LabelMismatch => "label-mismatch",
            Kind::LabelInconsistent => "label-inconsistent",
            Kind::LabelMissing => "label-missing",
            Kind::UnknownInfo => "unknown-info",
            Kind::InstructionMismatch => "instruction-mismatch",
            Kind::SupportOnlyPath => "support-only-path",
            Kind::JourneyBlocked => "journey-blocked",
            Kind::RecoveryDeadEnd => "recovery-dead-end",
            Kind::DeadLink => "dead-link",
            Kind::EmailMissing => "email-missing",
            Kind::DeadEmailLink => "dead-email-link",
            Kind::PhoneInvalid => "phone-invalid",
            Kind::PhoneMismatch => "phone-mismatch",
            Kind::PhoneUnreachable => "phone-unreachable",
            Kind::LimitReached => "limit-reached",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What the user meets, in one line (the contract's table).
    pub fn summary(self) -> &'static str {
        match self {
            Kind::LabelMismatch => "a field is labelled with a name the user does not hold",
            Kind::LabelInconsistent => {
                "the same credential is asked for under different labels on different pages"
            }
            Kind::LabelMissing => "a field has no accessible name a person can read",
            Kind::UnknownInfo => "a required field asks for something the user does not hold",
            Kind::InstructionMismatch => {
                "the page tells the user to use a control that is not there, or is named otherwise"
            }
            Kind::SupportOnlyPath => "the only way forward the page offers is to contact support",
            Kind::JourneyBlocked => "the journey cannot go on",
            Kind::RecoveryDeadEnd => "a recovery journey cannot complete for this user",
            Kind::DeadLink => "a link or form target on a visited page fails",
            Kind::EmailMissing => "a message the journey waits for never arrives",
            Kind::DeadEmailLink => "a link in a message the portal sent fails",
            Kind::PhoneInvalid => "a phone number shown is not a valid number for its region",
            Kind::PhoneMismatch => "a tel: link dials a different number from the one displayed",
            Kind::PhoneUnreachable => "a phone number shown is listed as disconnected or not live",
            Kind::LimitReached => {
                "a page past one of nocall's limits, read only up to it: what lies beyond was not checked"
            }
        }
    }

    /// What a first-time user should meet instead: the "expected" of a bug report, and the
    /// fix a rule's help text suggests.
    pub fn expected(self) -> &'static str {
        match self {
            Kind::LabelMismatch => {
                "each field is labelled with the name the user was given the value under (the name on their card, letter or e-mail)"
            }
            Kind::LabelInconsistent => {
                "the same credential is asked for under the same label on every page"
            }
            Kind::LabelMissing => {
                "every field has a visible label tied to it (`<label for>` or `aria-labelledby`), not only a placeholder"
            }
            Kind::UnknownInfo => {
                "a required field asks only for what a first-time user holds, or says where to find it and offers a way round it"
            }
            Kind::InstructionMismatch => {
                "the page's instructions name the controls as the page shows them"
            }
            Kind::SupportOnlyPath => {
                "the page offers a self-service way forward besides contacting support"
            }
            Kind::JourneyBlocked => "the user can complete the step and go on with the journey",
            Kind::RecoveryDeadEnd => {
                "a user who forgot or lost a credential can recover it on their own with what they hold"
            }
            Kind::DeadLink => {
                "every link and form target on the page answers with the page it promises"
            }
            Kind::EmailMissing => "the message the page promises arrives within the expected time",
            Kind::DeadEmailLink => "the links in the portal's messages open the page they promise",
            Kind::PhoneInvalid => {
                "every phone number shown is a valid, diallable number for its region"
            }
            Kind::PhoneMismatch => "a `tel:` link dials the number the page displays",
            Kind::PhoneUnreachable => {
                "every phone number shown is a live line that support answers"
            }
            Kind::LimitReached => {
                "a page shows what a person can take in; raise the limit in `nocall.yaml`'s `limits:` to read it all"
            }
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad it is for the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The journey cannot go on.
    Blocker,
    /// The user meets it and may call, but can go on.
    Problem,
    /// Could not be verified (bot-blocked link, number no directory covers); no gate fails on it.
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Blocker => "blocker",
            Severity::Problem => "problem",
            Severity::Warning => "warning",
        }
    }
}

/// What backs a finding up.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Screenshot of the step, relative to the run's output folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screenshot: Option<String>,
    /// The element's HTML, or the page's own words.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub html_excerpt: String,
}

/// Where one journey met the problem, and how many of its users got that far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Occurrence {
    pub scenario: String,
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    /// Line of that step in the scenario file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// Users of this journey who reach the problem each month.
    pub reach: f64,
}

/// Where a finding sits for the model in one journey: it stops the journey, the journey
/// needs it, or it is merely on a page the journey passed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Situation {
    #[default]
    Present,
    OnPath,
    Blocking,
}

impl Situation {
    pub fn as_str(self) -> &'static str {
        match self {
            Situation::Blocking => "blocking",
            Situation::OnPath => "on-path",
            Situation::Present => "present",
        }
    }
}

/// How one journey met a finding, as the ranking needs it: kept per journey (beside
/// [`Occurrence`]) so that shards merged later rank exactly as one run would.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Met {
    pub scenario: String,
    pub file: String,
    pub situation: Situation,
    pub severity: Severity,
    /// The step's `reach` share of the journey's users (1 when the scenario gives none).
    pub share: f64,
}

/// The arithmetic behind a finding's figure, kept so `nocall explain` can show it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Sum of the occurrences' reach.
    pub reach: f64,
    /// Chance that a user who meets the problem calls support.
    pub chance: f64,
    /// Where the chance came from: the model table row, or the `nocall.yaml` override.
    pub chance_source: String,
    /// Low and high ends of the estimate from the model's uncertainty.
    pub calls_low: f64,
    pub calls_high: f64,
    pub cost_per_call: f64,
    pub currency: String,
    /// The calls a month the row adds up to, the finding's own and its symptoms'; equal to
    /// `reach × chance` when it has no symptoms.
    #[serde(default)]
    pub own_calls: f64,
    /// The run's calls with this root cause and its symptoms, and without them: what fixing
    /// it saves is the difference (users who got past it may meet the next problem).
    #[serde(default)]
    pub total_calls: f64,
    #[serde(default)]
    pub total_calls_without: f64,
}

/// One problem a first-time user meets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub id: String,
    pub kind: Kind,
    pub severity: Severity,
    /// The journey could not go on past it.
    pub blocking: bool,
    /// The journey needs it (clicked, typed into, the only way onward), as opposed to merely
    /// present on a page it passed through.
    pub on_path: bool,
    /// The first journey that met it.
    pub scenario: String,
    /// 1-based step of that journey.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    pub url: String,
    pub element: String,
    /// What the user meets, in their words.
    pub message: String,
    #[serde(default)]
    pub est_calls_per_month: f64,
    #[serde(default)]
    pub est_cost_per_month: f64,
    #[serde(default)]
    pub evidence: Evidence,
    /// Every journey that met it.
    #[serde(default)]
    pub occurrences: Vec<Occurrence>,
    #[serde(default)]
    pub estimate: Estimate,
    /// Calls a month that fixing it (and so its symptoms) saves: the run's total minus the
    /// total without them. Rows are ranked by it.
    #[serde(default)]
    pub est_calls_saved_if_fixed: f64,
    /// Findings this one explains, which the same fix removes (docs/model.md, "Root
    /// causes"); each with its own journeys, steps and share of the calls.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub symptoms: Vec<Finding>,
    /// On a symptom: the id of the root cause it is listed under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symptom_of: Option<String>,
    /// How each journey met it (the ranking's input, see [`Met`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub met: Vec<Met>,
}

impl Finding {
    /// The calls the row counts as its own, so that summing rows counts each stuck user
    /// once. Reports of older versions carry no own figure: a row without symptoms is then
    /// its whole estimate.
    pub fn own_calls(&self) -> f64 {
        if self.symptoms.is_empty() && self.estimate.own_calls == 0.0 {
            self.est_calls_per_month
        } else {
            self.estimate.own_calls
        }
    }

    /// A finding as a check reports it: unpriced, its id derived from kind, page and element.
    pub fn new(
        kind: Kind,
        url: &str,
        element: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let element = element.into();
        Finding {
            id: stable_id(kind, url, &element),
            kind,
            severity: Severity::Problem,
            blocking: false,
            on_path: false,
            scenario: String::new(),
            step: None,
            url: url.to_string(),
            element,
            message: message.into(),
            est_calls_per_month: 0.0,
            est_cost_per_month: 0.0,
            evidence: Evidence::default(),
            occurrences: Vec::new(),
            estimate: Estimate::default(),
            est_calls_saved_if_fixed: 0.0,
            symptoms: Vec::new(),
            symptom_of: None,
            met: Vec::new(),
        }
    }

    /// Marks it as stopping the journey.
    pub fn blocking(mut self) -> Self {
        self.blocking = true;
        self.on_path = true;
        self.severity = Severity::Blocker;
        self
    }

    pub fn on_path(mut self, on_path: bool) -> Self {
        self.on_path = on_path;
        self
    }

    /// Marks it as unverified: shown, never gating.
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self.blocking = false;
        self
    }

    /// Records where in which journey it was met.
    pub fn at(mut self, trace: &crate::trace::Trace, step: Option<usize>) -> Self {
        self.scenario = trace.scenario.clone();
        self.step = step;
        let line = step.and_then(|i| trace.steps.iter().find(|s| s.index == i).map(|s| s.line));
        self.occurrences = vec![Occurrence {
            scenario: trace.scenario.clone(),
            file: trace.file.clone(),
            step,
            line,
            reach: 0.0,
        }];
        if self.evidence.screenshot.is_none() {
            self.evidence.screenshot = step
                .and_then(|i| trace.steps.iter().find(|s| s.index == i))
                .and_then(|s| s.screenshot.clone());
        }
        self
    }

    pub fn excerpt(mut self, html: impl Into<String>) -> Self {
        self.evidence.html_excerpt = html.into();
        self
    }

    /// Where in a repository file the finding was met: the scenario file and the line of the
    /// step, from the first journey that met it. `None` when no scenario file is known (a
    /// `nocall links` crawl).
    pub fn location(&self) -> Option<(&str, Option<usize>)> {
        let first = self
            .occurrences
            .iter()
            .find(|o| o.scenario == self.scenario && o.step == self.step && !o.file.is_empty());
        first
            .or_else(|| self.occurrences.iter().find(|o| !o.file.is_empty()))
            .map(|o| (o.file.as_str(), o.line))
    }

    /// Folds another report of the same problem (same id) into this one. Every journey that
    /// met it is kept once, at its most serious occurrence, and the finding is told the way
    /// its most serious occurrence tells it: a dead link shown in a footer at step 1 and
    /// clicked, blocking, at step 5 is the blocking click at step 5. Among equals the first
    /// report tells it (checks report journeys in the suite's order; `nocall merge` folds
    /// shards in that order too).
    pub(crate) fn absorb(&mut self, mut other: Finding) {
        self.stamp_met();
        other.stamp_met();
        let weight = |f: &Finding| (f.blocking, f.on_path, std::cmp::Reverse(f.severity));
        let stronger = weight(&other) > weight(self);
        for (o, m) in other.occurrences.iter().zip(&other.met) {
            let at = self
                .occurrences
                .iter()
                .position(|e| e.scenario == o.scenario && e.file == o.file);
            match at {
                Some(i) => {
                    let mine = self.met.get(i).map(met_weight);
                    let theirs = met_weight(m);
                    let better = mine.is_none_or(|w| theirs > w);
                    if better {
                        if let Some(e) = self.occurrences.get_mut(i) {
                            *e = o.clone();
                        }
                        if let Some(e) = self.met.get_mut(i) {
                            *e = m.clone();
                        }
                    }
                }
                None => {
                    self.occurrences.push(o.clone());
                    self.met.push(m.clone());
                }
            }
        }
        self.blocking |= other.blocking;
        self.on_path |= other.on_path;
        self.severity = self.severity.min(other.severity);
        if stronger {
            self.scenario = other.scenario;
            self.step = other.step;
            self.url = other.url;
            self.element = other.element;
            self.message = other.message;
            self.evidence = other.evidence;
        }
    }

    /// The finding's own situation in the model (not its symptoms').
    pub fn situation(&self) -> Situation {
        if self.blocking {
            Situation::Blocking
        } else if self.on_path {
            Situation::OnPath
        } else {
            Situation::Present
        }
    }

    /// The situation its own chance was taken for: the strongest of its journeys' (a row's
    /// flags also carry its symptoms').
    pub fn situation_own(&self) -> Situation {
        self.met
            .iter()
            .map(|m| m.situation)
            .max()
            .unwrap_or_else(|| self.situation())
    }

    /// Gives every occurrence its [`Met`] (one each, in the same order), from the finding's
    /// own flags where a check set none. Idempotent.
    pub(crate) fn stamp_met(&mut self) {
        if self.met.len() == self.occurrences.len()
            && self
                .met
                .iter()
                .zip(&self.occurrences)
                .all(|(m, o)| m.scenario == o.scenario && m.file == o.file)
        {
            return;
        }
        let old = std::mem::take(&mut self.met);
        let (situation, severity) = (self.situation(), self.severity);
        self.met = self
            .occurrences
            .iter()
            .map(|o| {
                old.iter()
                    .find(|m| m.scenario == o.scenario && m.file == o.file)
                    .cloned()
                    .unwrap_or(Met {
                        scenario: o.scenario.clone(),
                        file: o.file.clone(),
                        situation,
                        severity,
                        share: 1.0,
                    })
            })
            .collect();
    }

    /// Sets the finding's flags from how its journeys met it (the strongest of them), as
    /// one run sets them, so a finding merged from shards is told the same.
    pub(crate) fn flags_from_met(&mut self) {
        let Some(top) = self.met.iter().map(|m| m.situation).max() else {
            return;
        };
        self.blocking = top == Situation::Blocking;
        self.on_path = top >= Situation::OnPath;
        if let Some(s) = self.met.iter().map(|m| m.severity).min() {
            self.severity = s;
        }
    }

    /// Makes it one problem wherever it is shown: the id is `what` (a link's target, a
    /// phone number), not the page, so the same dead footer link or disconnected number on
    /// five pages is one row with every journey that met it.
    pub(crate) fn everywhere(mut self, what: &str) -> Self {
        self.id = stable_id(self.kind, "", what);
        self
    }

    /// Gives the id another component, for kinds where page and element are not enough.
    pub(crate) fn id_extra(mut self, extra: &str) -> Self {
        self.id = stable_id(
            self.kind,
            &self.url,
            &format!("{}\u{1f}{extra}", self.element),
        );
        self
    }
}

/// How serious one journey's meeting is, as [`Finding::absorb`] weighs whole findings.
fn met_weight(m: &Met) -> (Situation, std::cmp::Reverse<Severity>) {
    (m.situation, std::cmp::Reverse(m.severity))
}

/// The same problem reported more than once (same id) as one finding, in the order each
/// was first reported: `fold` folds every later report into the first.
pub(crate) fn merge_by_id(
    findings: impl IntoIterator<Item = Finding>,
    fold: impl Fn(&mut Finding, Finding),
) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for f in findings {
        match at.get(&f.id).and_then(|&i| out.get_mut(i)) {
            Some(first) => fold(first, f),
            None => {
                at.insert(f.id.clone(), out.len());
                out.push(f);
            }
        }
    }
    out
}

/// `id` has the shape [`stable_id`] gives: `F` and 7 lowercase hex digits.
pub(crate) fn is_stable_id(id: &str) -> bool {
    id.len() == 8
        && id.starts_with('F')
        && id[1..].chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
}

/// `F` and seven hex digits of a hash over kind, page path and element. The host and port
/// are left out, so a portal served on another port (or at staging) keeps its ids.
pub(crate) fn stable_id(kind: Kind, url: &str, element: &str) -> String {
    let mut h = Sha256::new();
    h.update(kind.as_str().as_bytes());
    h.update([0x1f]);
    // The path only: a GET form puts what the user typed in the query. Generated values
    // (nonces, session ids, tokens) are left out of both, or every run would get new ids.
    let path = url::Url::parse(url)
        .map(|u| u.path().to_string())
        .unwrap_or_else(|_| url.to_string());
    h.update(crate::volatile::steady(&path).as_bytes());
    h.update([0x1f]);
    h.update(crate::volatile::steady(element).as_bytes());
    let digest = h.finalize();
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("F{}", &hex[..7])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_problem_is_told_by_its_most_serious_occurrence() {
        let trace = |name: &str| crate::trace::Trace {
            scenario: name.into(),
            file: format!("scenarios/{name}.yaml"),
            ..crate::trace::Trace::default()
        };
        let journey = trace("help");
        let seen = Finding::new(Kind::DeadLink, "http://h/help/", "link", "in the footer")
            .everywhere("h/help/privacy")
            .at(&journey, Some(1));
        let clicked = Finding::new(Kind::DeadLink, "http://h/help/a", "link", "clicked, stuck")
            .everywhere("h/help/privacy")
            .blocking()
            .at(&journey, Some(5));
        let elsewhere = Finding::new(Kind::DeadLink, "http://h/", "link", "in the footer")
            .everywhere("h/help/privacy")
            .at(&trace("home"), Some(2));
        let mut f = seen.clone();
        f.absorb(clicked);
        f.absorb(elsewhere);
        assert!(f.blocking && f.on_path);
        assert_eq!(f.severity, Severity::Blocker);
        assert_eq!((f.step, f.message.as_str()), (Some(5), "clicked, stuck"));
        let steps: Vec<(&str, Option<usize>)> = f
            .occurrences
            .iter()
            .map(|o| (o.scenario.as_str(), o.step))
            .collect();
        assert_eq!(steps, [("help", Some(5)), ("home", Some(2))]);
        // A weaker report adds its journey and changes nothing else.
        let mut g = f.clone();
        g.absorb(seen);
        assert_eq!(g, f);
    }

    #[test]
    fn ids_ignore_host_and_port_but_not_path_or_element() {
        let a = stable_id(
            Kind::DeadLink,
            "http://127.0.0.1:4000/help?x=1",
            "link \"FAQ\"",
        );
        let b = stable_id(
            Kind::DeadLink,
            "http://staging.example/help?x=1",
            "link \"FAQ\"",
        );
        let c = stable_id(
            Kind::DeadLink,
            "http://127.0.0.1:4000/help/",
            "link \"FAQ\"",
        );
        let d = stable_id(
            Kind::LabelMissing,
            "http://127.0.0.1:4000/help?x=1",
            "link \"FAQ\"",
        );
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert_eq!(a.len(), 8);
        assert!(a.starts_with('F'));
    }

    #[test]
    fn kind_names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
    }
}
