//! `nocall explain`: the arithmetic behind one finding's estimate, in words a support lead
//! can quote.

use crate::finding::Finding;

pub fn explain(f: &Finding) -> String {
    let e = &f.estimate;
    let mut out = format!("{} · {} · {}\n{}\n\n", f.id, f.kind, f.element, f.message);
    if let Some(root) = &f.symptom_of {
        out.push_str(&format!(
            "A symptom of {root}: the fix for {root} removes it too, so its calls are counted in \
             that row (`nocall explain {root}`).\n\n"
        ));
    }
    out.push_str("Who meets it each month (reach):\n");
    for o in &f.occurrences {
        let at = match (o.step, o.line) {
            (Some(s), Some(l)) => format!(" at step {s} ({}:{l})", o.file),
            (Some(s), None) => format!(" at step {s}"),
            _ => String::new(),
        };
        out.push_str(&format!(
            "  {:>8.1} users  journey \"{}\"{at}\n",
            o.reach, o.scenario
        ));
    }
    out.push_str(&format!("  {:>8.1} users  in all\n\n", e.reach));
    let situation = match f.situation_own() {
        crate::finding::Situation::Blocking => "it blocks the journey",
        crate::finding::Situation::OnPath => "it is on the user's path",
        crate::finding::Situation::Present => "it is on a page the user visits",
    };
    out.push_str(&format!(
        "Chance that one of them calls support: {:.0}% ({situation}; {})\n\n",
        e.chance * 100.0,
        e.chance_source
    ));
    let own = f.own_calls();
    if f.symptoms.is_empty() {
        out.push_str(&format!(
            "Calls a month: {:.1} users × {:.2} = {:.1} (likely between {:.1} and {:.1})\n",
            e.reach, e.chance, own, e.calls_low, e.calls_high
        ));
    } else {
        out.push_str(&format!(
            "Calls a month about it: {:.1} users × {:.2} = {:.1}\n\n",
            e.reach, e.chance, own
        ));
        out.push_str("Symptoms (the same fix removes them; each one's share of the calls):\n");
        for s in &f.symptoms {
            out.push_str(&format!(
                "  {:>8.2} calls  {} {} · {}\n",
                s.est_calls_per_month,
                s.id,
                s.kind,
                crate::report::journeys_and_steps(s)
            ));
        }
        out.push_str(&format!(
            "\nCalls a month for the row: {:.2} + {:.2} from its symptoms = {:.2} (likely between \
             {:.1} and {:.1})\n",
            own,
            crate::rank::round2(f.symptoms.iter().map(|s| s.est_calls_per_month).sum()),
            f.est_calls_per_month,
            e.calls_low,
            e.calls_high
        ));
    }
    out.push_str(&format!(
        "Cost a month:  {:.1} calls × {:.2} {} a call = {:.2} {}\n",
        f.est_calls_per_month, e.cost_per_call, e.currency, f.est_cost_per_month, e.currency
    ));
    if f.symptom_of.is_none() && e.total_calls > 0.0 {
        out.push_str(&format!(
            "\nSaved if fixed: the run's {:.2} calls a month − {:.2} without it = {:.2} calls a \
             month ({:.2} {}).\nUsers who got past it may meet the next problem on their journey, \
             so the saving can be less than the row's calls.\n",
            e.total_calls,
            e.total_calls_without,
            f.est_calls_saved_if_fixed,
            f.est_calls_saved_if_fixed * e.cost_per_call,
            e.currency
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Estimate, Kind, Occurrence};

    #[test]
    fn shows_each_factor_and_the_result() {
        let mut f = Finding::new(
            Kind::LabelMismatch,
            "http://h/login",
            "input labelled \"Password\"",
            "m",
        )
        .blocking();
        f.occurrences = vec![Occurrence {
            scenario: "login".into(),
            file: "s/login.yaml".into(),
            step: Some(2),
            line: Some(14),
            reach: 400.0,
        }];
        f.estimate = Estimate {
            reach: 400.0,
            chance: 0.45,
            chance_source: "default".into(),
            calls_low: 90.0,
            calls_high: 288.0,
            cost_per_call: 22.0,
            currency: "USD".into(),
            ..Estimate::default()
        };
        f.est_calls_per_month = 180.0;
        f.est_cost_per_month = 3960.0;
        let text = explain(&f);
        assert!(
            text.contains("400.0 users  journey \"login\" at step 2 (s/login.yaml:14)"),
            "{text}"
        );
        assert!(
            text.contains("45%") && text.contains("it blocks the journey"),
            "{text}"
        );
        assert!(text.contains("400.0 users × 0.45 = 180.0"), "{text}");
        assert!(text.contains("= 3960.00 USD"), "{text}");
    }
}
