//! `label-inconsistent`: one credential asked for under different names.
//!
//! Collected over every journey of a run, per site (origin plus first folder, so the demo
//! portal's sites under `/confer/` and `/card/` are told apart): each value typed from a
//! hold, and each field the markup marks as the account's user name (`autocomplete=username`
//! or a `name` such as `username`). Uses are linked when they carry the same hold or the same
//! label; a linked group whose labels do not agree ("Choose a User Name" at registration,
//! "Owner Name" at login), or whose one label receives holds it does not name ("PIN" given
//! the Leader PIN in one journey and the Web PIN in another), is one finding per credential
//! listing every label and page.

use std::collections::BTreeSet;

use super::{and_list, is_confirmation, without_new};
use crate::checks::common::{Findings, capitalised, page_phrase};
use crate::checks::{Audit, Check};
use crate::finding::{Finding, Kind, Occurrence};
use crate::normalize::{contains_words, names_agree, normalize, same_label, words};
use crate::trace::{Trace, url_path};

pub(crate) struct LabelInconsistent;

impl Check for LabelInconsistent {
    fn name(&self) -> &'static str {
        "label-inconsistent"
    }

    fn run(&self, audit: &Audit<'_>) -> Vec<Finding> {
        let synonyms = &audit.config.synonyms;
        let uses = collect(audit.traces, synonyms);
        let mut out = Findings::default();
        for group in linked(&uses, synonyms) {
            if let Some(f) = report(&group, synonyms) {
                out.push(f);
            }
        }
        out.into_vec()
    }
}

/// One time a credential met a field.
#[derive(Debug, Clone)]
struct Use<'t> {
    /// The hold typed in, or `None` for a field the markup marks as the user name.
    hold: Option<String>,
    /// The name compared with others: the page's label without a leading "new".
    label: String,
    /// The label as the page shows it, quoted in messages.
    shown: String,
    url: String,
    site: String,
    trace: &'t Trace,
    step: usize,
}

fn collect<'t>(traces: &'t [Trace], synonyms: &[Vec<String>]) -> Vec<Use<'t>> {
    let mut uses = Vec::new();
    for t in traces {
        for step in &t.steps {
            for filled in &step.filled {
                // One hold, typed as is: "{First} {Last}" says nothing about either name.
                let [hold] = filled.holds.as_slice() else {
                    continue;
                };
                // A confirmation repeats the field before it; it is no second name.
                if filled.unknown || filled.name.trim().is_empty() || is_confirmation(&filled.name)
                {
                    continue;
                }
                uses.push(Use {
                    hold: Some(hold.clone()),
                    label: without_new(&filled.name).to_string(),
                    shown: filled.name.trim().to_string(),
                    url: filled.url.clone(),
                    site: site(&filled.url),
                    trace: t,
                    step: step.index,
                });
            }
        }
    }
    let mut seen = BTreeSet::new();
    for t in traces {
        for step in &t.steps {
            let Some(page) = &step.page else { continue };
            for f in page.fields.iter().filter(|f| f.visible && f.is_text_like()) {
                let key = normalize(&f.html_name);
                let marked = f.autocomplete.split_whitespace().any(|a| a == "username")
                    || matches!(
                        key.as_str(),
                        "username" | "userid" | "user" | "login" | "loginname" | "loginid"
                    );
                // An e-mail used as the user name is named for what the user holds.
                if !marked
                    || f.name.trim().is_empty()
                    || is_confirmation(&f.name)
                    || names_agree(&f.name, "Email", synonyms)
                {
                    continue;
                }
                if seen.insert((page.path(), normalize(&f.name))) {
                    uses.push(Use {
                        hold: None,
                        label: without_new(&f.name).to_string(),
                        shown: f.name.trim().to_string(),
                        url: page.url.clone(),
                        site: site(&page.url),
                        trace: t,
                        step: step.index,
                    });
                }
            }
        }
    }
    uses
}

/// Origin plus first folder: `http://h:1/confer/login` → `http://h:1/confer`.
fn site(url: &str) -> String {
    let Ok(u) = url::Url::parse(url) else {
        return url.to_string();
    };
    let segments: Vec<&str> = u.path_segments().map(|s| s.collect()).unwrap_or_default();
    let first = match segments.as_slice() {
        [first, _, ..] => first,
        _ => "",
    };
    format!("{}/{first}", u.origin().ascii_serialization())
}

/// Groups of uses on one site linked by a shared hold or a shared label.
fn linked<'a, 't>(uses: &'a [Use<'t>], synonyms: &[Vec<String>]) -> Vec<Vec<&'a Use<'t>>> {
    let mut group: Vec<usize> = (0..uses.len()).collect();
    fn root(group: &mut [usize], mut i: usize) -> usize {
        while let Some(&p) = group.get(i) {
            if p == i {
                break;
            }
            i = p;
        }
        i
    }
    for (i, a) in uses.iter().enumerate() {
        for (j, b) in uses.iter().enumerate().skip(i + 1) {
            let same_hold = match (&a.hold, &b.hold) {
                (Some(x), Some(y)) => same_label(x, y, synonyms),
                (None, None) => true,
                _ => false,
            };
            if a.site == b.site && (same_hold || same_label(&a.label, &b.label, synonyms)) {
                let (ra, rb) = (root(&mut group, i), root(&mut group, j));
                if let Some(slot) = group.get_mut(ra.max(rb)) {
                    *slot = ra.min(rb);
                }
            }
        }
    }
    let mut out: Vec<(usize, Vec<&Use<'t>>)> = Vec::new();
    for (i, u) in uses.iter().enumerate() {
        let r = root(&mut group, i);
        match out.iter_mut().find(|(k, _)| *k == r) {
            Some((_, members)) => members.push(u),
            None => out.push((r, vec![u])),
        }
    }
    out.into_iter().map(|(_, members)| members).collect()
}

/// Labels that agree, each with the uses that showed it.
fn clusters<'a, 't>(group: &[&'a Use<'t>], synonyms: &[Vec<String>]) -> Vec<Vec<&'a Use<'t>>> {
    let mut out: Vec<Vec<&Use<'t>>> = Vec::new();
    for u in group {
        let home = out
            .iter_mut()
            .find(|c| c.iter().any(|o| names_agree(&o.label, &u.label, synonyms)));
        match home {
            Some(c) => c.push(u),
            None => out.push(vec![u]),
        }
    }
    out
}

fn report(group: &[&Use<'_>], synonyms: &[Vec<String>]) -> Option<Finding> {
    let first = group.first()?;
    let mut holds: Vec<&str> = Vec::new();
    for h in group.iter().filter_map(|u| u.hold.as_deref()) {
        if !holds.iter().any(|k| same_label(k, h, synonyms)) {
            holds.push(h);
        }
    }
    let labels = clusters(group, synonyms);
    // One label given holds it does not spell out: which of them does it want?
    let ambiguous = holds.len() > 1
        && labels.len() == 1
        && holds.iter().any(|h| {
            !group
                .iter()
                .any(|u| contains_words(&words(&u.label), &words(h)))
        });
    if labels.len() < 2 && !ambiguous {
        return None;
    }
    let mut sorted = holds.clone();
    sorted.sort_unstable();
    let element = if sorted.is_empty() {
        "credential \"user name\"".to_string()
    } else {
        format!("credential \"{}\"", sorted.join("\" / \""))
    };
    let quoted = |h: &&str| format!("their {h}");
    let message = if labels.len() >= 2 {
        let subject = match holds.as_slice() {
            [] => "The account's user name".to_string(),
            [one] => format!("The user's {one}"),
            many => format!(
                "What the user holds as {}",
                and_list(&many.iter().map(|h| h.to_string()).collect::<Vec<_>>())
            ),
        };
        let entries: Vec<String> = labels.iter().map(|c| entry(c, holds.len() > 1)).collect();
        format!(
            "{subject} is asked for under {} different names: {}. A first-time user cannot \
             tell that these are the same thing.",
            labels.len(),
            and_list(&entries)
        )
    } else {
        let label = &first.shown;
        let given: Vec<String> = holds.iter().map(quoted).collect();
        format!(
            "The field \"{label}\" on {} is given {} in different journeys ({}): its name does \
             not tell the user which of the things they hold it wants.",
            page_phrase(&first.url, &title(first)),
            and_list(&given),
            journeys(group)
        )
    };
    let mut f = Finding::new(
        Kind::LabelInconsistent,
        &first.url,
        element,
        capitalised(&message),
    )
    .on_path(group.iter().any(|u| u.hold.is_some()))
    .at(first.trace, Some(first.step))
    .excerpt(
        group
            .iter()
            .map(|u| format!("{}: \"{}\"", url_path(&u.url), u.shown))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
            .join("\n"),
    );
    for u in group {
        let known = f
            .occurrences
            .iter()
            .any(|o| o.scenario == u.trace.scenario && o.file == u.trace.file);
        if !known {
            f.occurrences.push(Occurrence {
                scenario: u.trace.scenario.clone(),
                file: u.trace.file.clone(),
                step: Some(u.step),
                line: u
                    .trace
                    .steps
                    .iter()
                    .find(|s| s.index == u.step)
                    .map(|s| s.line),
                reach: 0.0,
            });
        }
    }
    Some(f)
}

/// `"Owner Name" on the login page (/confer/login)`, once per page, with the holds typed in.
fn entry(cluster: &[&Use<'_>], name_holds: bool) -> String {
    if cluster.is_empty() {
        return String::new();
    }
    // Each page's own label is quoted: labels that agree may still be worded differently
    // ("Email address" here, "Email or Member ID" there).
    let mut shown: Vec<(String, Vec<String>)> = Vec::new();
    for u in cluster {
        let p = format!(
            "{} ({})",
            page_phrase(&u.url, &title(u)),
            url_path(&u.url).split('?').next().unwrap_or_default()
        );
        match shown.iter_mut().find(|(l, _)| *l == u.shown) {
            Some((_, pages)) if pages.contains(&p) => {}
            Some((_, pages)) => pages.push(p),
            None => shown.push((u.shown.clone(), vec![p])),
        }
    }
    let mut text = and_list(
        &shown
            .iter()
            .map(|(label, pages)| format!("\"{label}\" on {}", and_list(pages)))
            .collect::<Vec<_>>(),
    );
    if name_holds {
        let mut typed: Vec<String> = Vec::new();
        for h in cluster.iter().filter_map(|u| u.hold.as_ref()) {
            if !typed.contains(h) {
                typed.push(h.clone());
            }
        }
        if !typed.is_empty() {
            text.push_str(&format!(", typed as their {}", and_list(&typed)));
        }
    }
    text
}

fn title(u: &Use<'_>) -> String {
    u.trace
        .steps
        .iter()
        .filter_map(|s| s.page.as_ref())
        .find(|p| p.url == u.url)
        .map(|p| p.title.clone())
        .unwrap_or_default()
}

fn journeys(group: &[&Use<'_>]) -> String {
    let mut names: Vec<String> = Vec::new();
    for u in group {
        let n = format!("\"{}\"", u.trace.scenario);
        if !names.contains(&n) {
            names.push(n);
        }
    }
    and_list(&names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::*;
    use crate::trace::{Field, PageState};

    fn login() -> PageState {
        let mut p = page("/confer/login", "Log in — BridgeLine", "");
        p.fields = vec![field("Owner Name"), field("Password")];
        p
    }

    fn register() -> PageState {
        let mut p = page("/confer/register", "Register — BridgeLine", "");
        p.fields = vec![
            field("Owner Number"),
            field("Choose a User Name"),
            field("Email"),
        ];
        p
    }

    fn journey(name: &str, p: &PageState, entries: &[(usize, &[&str], bool)]) -> Trace {
        trace(
            name,
            &["Owner Name", "Email", "Leader PIN"],
            vec![open(1, p.clone()), fill(2, p, entries)],
        )
    }

    #[test]
    fn one_hold_under_two_labels_is_one_finding_listing_both() {
        let a = journey(
            "confer-first-login",
            &login(),
            &[(0, &["Owner Name"], false)],
        );
        let b = journey(
            "confer-register",
            &register(),
            &[(1, &["Owner Name"], false), (2, &["Email"], false)],
        );
        let found = run(&LabelInconsistent, &[a, b]);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.kind, Kind::LabelInconsistent);
        assert_eq!(f.element, "credential \"Owner Name\"");
        assert_eq!(
            f.message,
            "The user's Owner Name is asked for under 2 different names: \"Owner Name\" on the \
             login page (/confer/login) and \"Choose a User Name\" on the registration page \
             (/confer/register). A first-time user cannot tell that these are the same thing."
        );
        assert_eq!(f.occurrences.len(), 2);
        assert!(f.on_path && !f.blocking);
    }

    #[test]
    fn confirmations_and_a_reset_pages_new_password_are_not_other_names() {
        let mut signup = page("/wiki/signup", "Create account", "");
        signup.fields = vec![field("Password"), field("Confirm password")];
        let a = trace(
            "signup",
            &["Password"],
            vec![
                open(1, signup.clone()),
                fill(
                    2,
                    &signup,
                    &[(0, &["Password"], false), (1, &["Password"], false)],
                ),
            ],
        );
        let mut reset = page("/wiki/reset", "Reset password", "");
        reset.fields = vec![field("New password"), field("once again")];
        let b = trace(
            "reset",
            &["Password"],
            vec![
                open(1, reset.clone()),
                fill(
                    2,
                    &reset,
                    &[(0, &["Password"], false), (1, &["Password"], false)],
                ),
            ],
        );
        assert!(run(&LabelInconsistent, &[a, b]).is_empty());
    }

    #[test]
    fn each_page_is_quoted_with_its_own_label() {
        let mut a_page = page("/m/login", "Sign in", "");
        a_page.fields = vec![field("Email or Member ID")];
        let mut b_page = page("/m/register", "Join", "");
        b_page.fields = vec![field("Email address"), field("Member name")];
        let mut c_page = page("/m/forgot", "Forgot", "");
        c_page.fields = vec![field("Member name")];
        let a = trace(
            "a",
            &["Email"],
            vec![
                open(1, a_page.clone()),
                fill(2, &a_page, &[(0, &["Email"], false)]),
            ],
        );
        let b = trace(
            "b",
            &["Email"],
            vec![
                open(1, b_page.clone()),
                fill(2, &b_page, &[(0, &["Email"], false)]),
            ],
        );
        let c = trace(
            "c",
            &["Email"],
            vec![
                open(1, c_page.clone()),
                fill(2, &c_page, &[(0, &["Email"], false)]),
            ],
        );
        let found = run(&LabelInconsistent, &[a, b, c]);
        assert_eq!(found.len(), 1, "{found:#?}");
        let m = &found[0].message;
        assert!(
            m.contains("\"Email or Member ID\" on the login page"),
            "{m}"
        );
        assert!(
            m.contains("\"Email address\" on the registration page"),
            "{m}"
        );
    }

    #[test]
    fn agreeing_labels_do_not_fire() {
        let mut forgot = page("/confer/forgot", "Forgot", "");
        forgot.fields = vec![field("User Name or Email")];
        let a = journey("forgot", &forgot, &[(0, &["Email"], false)]);
        let mut reg = register();
        reg.fields[2] = field("E-mail address");
        let b = journey("register", &reg, &[(2, &["E-mail"], false)]);
        assert!(run(&LabelInconsistent, &[a, b]).is_empty());
    }

    #[test]
    fn different_sites_are_not_compared() {
        let a = journey("confer", &login(), &[(0, &["Owner Name"], false)]);
        let mut other = page("/card/lost", "Lost", "");
        other.fields = vec![field("Full name")];
        let b = journey("card", &other, &[(0, &["Owner Name"], false)]);
        assert!(run(&LabelInconsistent, &[a, b]).is_empty());
    }

    #[test]
    fn one_label_given_two_holds_it_does_not_name_is_reported() {
        let mut p = page("/confer/conference", "Join a call", "");
        p.fields = vec![field("PIN")];
        let a = journey("leader", &p, &[(0, &["Leader PIN"], false)]);
        let b = trace(
            "guest",
            &["Guest PIN"],
            vec![
                open(1, p.clone()),
                fill(2, &p, &[(0, &["Guest PIN"], false)]),
            ],
        );
        let found = run(&LabelInconsistent, &[a, b]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(
            found[0].element,
            "credential \"Guest PIN\" / \"Leader PIN\""
        );
        assert!(found[0].message.starts_with("The field \"PIN\" on the \"Join a call\" page is given their Leader PIN and their Guest PIN"), "{}", found[0].message);

        // "User Name or Email" names both things it takes.
        let mut forgot = page("/confer/forgot", "Forgot", "");
        forgot.fields = vec![field("User Name or Email")];
        let a = trace(
            "x",
            &["Email"],
            vec![
                open(1, forgot.clone()),
                fill(2, &forgot, &[(0, &["Email"], false)]),
            ],
        );
        let b = trace(
            "y",
            &["User Name"],
            vec![
                open(1, forgot.clone()),
                fill(2, &forgot, &[(0, &["User Name"], false)]),
            ],
        );
        assert!(run(&LabelInconsistent, &[a, b]).is_empty());
    }

    #[test]
    fn user_name_fields_marked_in_markup_must_agree_across_pages() {
        let marked = |name: &str| Field {
            autocomplete: "username".into(),
            ..field(name)
        };
        let mut l = login();
        l.fields[0] = marked("Owner Name");
        let mut r = register();
        r.fields[1] = marked("Choose a User Name");
        let a = trace("login", &[], vec![open(1, l)]);
        let b = trace("register", &[], vec![open(1, r)]);
        let found = run(&LabelInconsistent, &[a, b]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].element, "credential \"user name\"");
        assert!(!found[0].on_path);

        // Django-like: "Username" on both pages; an e-mail login is exempt.
        let mut l = login();
        l.fields[0] = marked("Username");
        let mut r = register();
        r.fields[1] = marked("Username");
        let mut e = page("/confer/other", "Other", "");
        e.fields = vec![marked("Email")];
        let t = trace("x", &[], vec![open(1, l), open(2, r), open(3, e)]);
        assert!(run(&LabelInconsistent, &[t]).is_empty());
    }

    #[test]
    fn sites_are_origin_and_first_folder() {
        assert_eq!(site("http://h:1/confer/login"), "http://h:1/confer");
        assert_eq!(site("http://h:1/confer/"), "http://h:1/confer");
        assert_eq!(site("http://h:1/login"), "http://h:1/");
        assert_eq!(site("not a url"), "not a url");
    }
}
