//! `dead-link`: a link, button target or form target on a page a journey saw does not lead
//! where it says.
//!
//! Pure: it reads the traces and the prober's answers ([`crate::probe::status`]) and never
//! makes a request. One finding per page and target; a link the journey clicked, or the
//! only way onward from its page, is on the path; an answer that could not be verified (a
//! site turning checkers away) is a warning, never a failure.

use std::collections::{HashMap, HashSet};

use super::{Audit, Check};
use crate::finding::{Finding, Kind};
use crate::probe::status::{Cause, LinkStatus, LinkVerdict, Look};
use crate::trace::{Link, PageState, Trace};

pub(super) struct DeadLinks;

impl Check for DeadLinks {
    fn name(&self) -> &'static str {
        "dead-link"
    }

    fn run(&self, audit: &Audit<'_>) -> Vec<Finding> {
        let mut links = audit.probes.links.clone();
        // What a journey saw after clicking a link outweighs what a plain fetch read: an
        // app route that draws "Page not found" answered the prober 200 with its shell.
        links.extend(clicked_not_found(audit.traces));
        if links.is_empty() {
            return Vec::new();
        }
        let rendered = rendered_anchors(audit.traces);
        let mut out = Vec::new();
        for t in audit.traces {
            let mut seen = HashSet::new();
            for step in &t.steps {
                let Some(page) = &step.page else { continue };
                for target in targets(page) {
                    let Some(status) = links.get(&target.href) else {
                        continue;
                    };
                    if !matters(status, &target.href, &rendered) {
                        continue;
                    }
                    if !seen.insert((page.path(), target.href.clone())) {
                        continue;
                    }
                    out.push(finding(t, step.index, page, &target, status));
                }
            }
        }
        out
    }
}

/// The links journeys clicked whose page, as the browser drew it, says it is not there
/// though it loaded without an error status: dead, as the user sees it.
fn clicked_not_found(traces: &[Trace]) -> Vec<(String, LinkStatus)> {
    let mut out = Vec::new();
    for t in traces {
        let mut before: Option<&PageState> = None;
        for step in &t.steps {
            let clicked = step.clicked.as_ref().and_then(|c| c.href.as_deref());
            if let (Some(href), Some(page), Some(from)) = (clicked, &step.page, before)
                && without_fragment(&page.url) != without_fragment(&from.url)
                && page.status.is_none_or(|s| (200..300).contains(&s))
            {
                let look = Look {
                    status: page.status,
                    title: page.title.clone(),
                    text: page.text.clone(),
                    ..Look::default()
                };
                if let Some(shown) = look.says_not_found() {
                    let answered = page.status.map_or_else(
                        || "drawn by the page's script".to_string(),
                        |s| format!("answered {s}"),
                    );
                    let mut status = LinkStatus::new(
                        LinkVerdict::Dead,
                        Cause::NotFoundPage(shown.clone()),
                        format!("shows '{shown}' ({answered})"),
                    );
                    status.status = page.status;
                    out.push((href.to_string(), status));
                }
            }
            if step.page.is_some() {
                before = step.page.as_ref();
            }
        }
    }
    out
}

/// One thing on a page that leads somewhere.
struct Target {
    /// `link`, `button` or `form`.
    what: &'static str,
    text: String,
    href: String,
    region: String,
}

fn targets(page: &PageState) -> Vec<Target> {
    let links = page.links.iter().map(|l| Target {
        what: "link",
        text: l.text.clone(),
        href: l.href.clone(),
        region: l.region.clone(),
    });
    let buttons = page.buttons.iter().filter_map(|b| {
        Some(Target {
            what: "button",
            text: b.name.clone(),
            href: b.target.clone()?,
            region: String::new(),
        })
    });
    let forms = page.forms.iter().map(|f| Target {
        what: "form",
        text: f.id.clone(),
        href: f.action.clone(),
        region: String::new(),
    });
    links.chain(buttons).chain(forms).collect()
}

/// The ids of pages as the browser rendered them, by URL without fragment: better
/// evidence for `#fragment` targets than the static HTML the prober read, since scripts
/// may add ids.
fn rendered_anchors(traces: &[Trace]) -> HashMap<String, HashSet<&str>> {
    let mut out: HashMap<String, HashSet<&str>> = HashMap::new();
    for page in traces
        .iter()
        .flat_map(|t| &t.steps)
        .filter_map(|s| s.page.as_ref())
    {
        out.entry(without_fragment(&page.url))
            .or_default()
            .extend(page.anchors.iter().map(String::as_str));
    }
    out
}

fn without_fragment(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) => {
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => raw.split('#').next().unwrap_or(raw).to_string(),
    }
}

/// Whether a status is worth a finding: dead or unverified, unless the only complaint is
/// a missing section the rendered page does have.
fn matters(status: &LinkStatus, href: &str, rendered: &HashMap<String, HashSet<&str>>) -> bool {
    match status.verdict {
        LinkVerdict::Ok | LinkVerdict::Skipped => false,
        LinkVerdict::Unverified | LinkVerdict::Dead => match &status.cause {
            Cause::Fragment(id) => {
                let page = without_fragment(status.final_url.as_deref().unwrap_or(href));
                !rendered.get(&page).is_some_and(|a| a.contains(id.as_str()))
            }
            Cause::NotChecked => false,
            _ => true,
        },
    }
}

fn finding(
    t: &Trace,
    step: usize,
    page: &PageState,
    target: &Target,
    status: &LinkStatus,
) -> Finding {
    let shown = shown_target(&page.url, &target.href);
    let named = if target.text.is_empty() {
        String::new()
    } else {
        format!(" \"{}\"", target.text)
    };
    let element = format!("{}{named} → {shown}", target.what);
    let click = clicked_at(t, &target.href);
    let on_path = click.is_some() || only_way_onward(page, &target.href);
    let blocked_here =
        click.is_some_and(|at| t.blocked_at_step.is_some_and(|b| b == at || b == at + 1));
    let message = message(page, target, &named, status, click.is_some());
    let mut f = Finding::new(Kind::DeadLink, &page.url, element, message)
        .everywhere(&target_key(&target.href))
        .on_path(on_path)
        .at(t, Some(step))
        .excerpt(excerpt(target));
    if status.verdict == LinkVerdict::Unverified {
        f = f.warning();
    } else if blocked_here {
        f = f.blocking();
    }
    f
}

/// What makes two dead links one problem: the same target, its port left out (so ids
/// survive a portal served on another port).
fn target_key(href: &str) -> String {
    let Ok(h) = url::Url::parse(href) else {
        return href.to_string();
    };
    format!(
        "{}{}",
        h.host_str().unwrap_or_default(),
        &h[url::Position::BeforePath..]
    )
}

/// Where a target points, as short as is clear: the path on the page's own site, the
/// whole URL elsewhere.
fn shown_target(page: &str, href: &str) -> String {
    let (Ok(p), Ok(h)) = (url::Url::parse(page), url::Url::parse(href)) else {
        return href.to_string();
    };
    if p.origin() != h.origin() || !matches!(h.scheme(), "http" | "https") {
        return href.to_string();
    }
    h[url::Position::BeforePath..].to_string()
}

/// The step at which the journey clicked a control leading to this URL.
fn clicked_at(t: &Trace, href: &str) -> Option<usize> {
    t.steps
        .iter()
        .find(|s| s.clicked.as_ref().and_then(|c| c.href.as_deref()) == Some(href))
        .map(|s| s.index)
}

/// The page offers nothing to type into or press and one link in its content: that link is
/// how the user goes on.
fn only_way_onward(page: &PageState, href: &str) -> bool {
    if page.fields.iter().any(|f| f.visible) || page.buttons.iter().any(|b| b.visible) {
        return false;
    }
    let onward: Vec<&Link> = page
        .links
        .iter()
        .filter(|l| l.visible && matches!(l.region.as_str(), "" | "main"))
        .filter(|l| l.href.starts_with("http:") || l.href.starts_with("https:"))
        .filter(|l| without_fragment(&l.href) != without_fragment(&page.url))
        .collect();
    matches!(onward.as_slice(), [only] if only.href == href)
}

fn region_words(region: &str) -> &'static str {
    match region {
        "header" => " in the page header",
        "nav" => " in the navigation",
        "footer" => " in the footer",
        "aside" => " in the sidebar",
        _ => "",
    }
}

fn message(
    page: &PageState,
    target: &Target,
    named: &str,
    status: &LinkStatus,
    clicked: bool,
) -> String {
    let on = if page.title.is_empty() {
        String::new()
    } else {
        format!(" on \"{}\"", page.title)
    };
    let what = match target.what {
        "form" => format!("The form{on}"),
        "button" => format!("The{named} button{on}"),
        _ if target.href.starts_with("mailto:") => {
            format!("The{named} e-mail link{}{on}", region_words(&target.region))
        }
        _ => format!("The{named} link{}{on}", region_words(&target.region)),
    };
    let detail = &status.detail;
    let happens = match (&status.verdict, &status.cause) {
        (_, Cause::Withheld(w)) => {
            format!(
                "was {}. Open it by hand once if it must be checked",
                w.said()
            )
        }
        (_, Cause::Scheme(s)) => format!(
            "points at a {s}: address, which a browser will not open from a web page; \
             nocall did not open it"
        ),
        (_, Cause::OutOfReach) => {
            format!("was not verified: {detail}; `--offline` skips other sites")
        }
        (_, Cause::NotFoundPage(_)) => format!("leads to a page that is not there: it {detail}"),
        (_, Cause::WorkingPage) => format!(
            "{detail}: a person sees a working page, but browsers, search engines and \
             monitors are told it is missing; check that the 404 is meant"
        ),
        (LinkVerdict::Unverified, Cause::Fragment(_)) => format!(
            "opens a page whose section could not be confirmed ({detail}); open it by hand once"
        ),
        (LinkVerdict::Unverified, _) => {
            format!("could not be checked ({detail}); open it by hand once")
        }
        (_, Cause::Fragment(_)) => {
            format!("opens the page but not the section it points to ({detail})")
        }
        (_, Cause::Timeout) => format!("leads to a page that does not load ({detail})"),
        (_, Cause::Redirects) => {
            format!("never arrives: the site sends the browser round in circles ({detail})")
        }
        (_, Cause::Address) => format!("points at an address that cannot work ({detail})"),
        (_, Cause::Unreachable) => format!("leads to a site that cannot be reached ({detail})"),
        _ => match status.status {
            Some(404 | 410) => format!("leads to a page that is not there ({detail})"),
            Some(500..) => format!("leads to an error page ({detail})"),
            _ => format!("is refused by the site ({detail})"),
        },
    };
    let then = if clicked && status.verdict == LinkVerdict::Dead {
        " The journey follows it; a user who does is stuck."
    } else {
        ""
    };
    format!("{what} {happens}.{then}")
}

/// The element as it might stand in the page, for a ticket.
fn excerpt(target: &Target) -> String {
    match target.what {
        "form" => format!("<form action=\"{}\">", target.href),
        "button" => format!(
            "<button formaction=\"{}\">{}</button>",
            target.href, target.text
        ),
        _ => format!("<a href=\"{}\">{}</a>", target.href, target.text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::finding::Severity;
    use crate::probe::status::Probes;
    use crate::trace::{Clicked, Field, JourneyStatus, StepTrace};

    fn link(text: &str, href: &str, region: &str) -> Link {
        Link {
            text: text.into(),
            href: href.into(),
            region: region.into(),
            tag: "a".into(),
            visible: true,
            ..Link::default()
        }
    }

    fn status(verdict: LinkVerdict, cause: Cause, code: Option<u16>, detail: &str) -> LinkStatus {
        LinkStatus {
            ok: verdict == LinkVerdict::Ok,
            verdict,
            status: code,
            detail: detail.into(),
            final_url: None,
            cause,
        }
    }

    fn help_page() -> PageState {
        PageState {
            url: "http://h/help/".into(),
            title: "How can we help?".into(),
            links: vec![
                link(
                    "Reset your password",
                    "http://h/help/articles/reset-password",
                    "main",
                ),
                link(
                    "Two-step verification",
                    "http://h/help/articles/two-step",
                    "main",
                ),
                link(
                    "How refunds work",
                    "http://h/help/articles/billing#refunds",
                    "main",
                ),
                link("Privacy", "http://h/help/privacy", "footer"),
                link("Status", "https://status.example/", "footer"),
            ],
            fields: vec![Field {
                visible: true,
                ..Field::default()
            }],
            anchors: vec!["top".into()],
            ..PageState::default()
        }
    }

    fn probes() -> Probes {
        let mut p = Probes::default();
        let l = &mut p.links;
        l.insert(
            "http://h/help/articles/reset-password".into(),
            status(LinkVerdict::Ok, Cause::Fine, Some(200), "200 OK"),
        );
        l.insert(
            "http://h/help/articles/two-step".into(),
            status(LinkVerdict::Dead, Cause::Status, Some(404), "404 Not Found"),
        );
        l.insert(
            "http://h/help/articles/billing#refunds".into(),
            status(
                LinkVerdict::Dead,
                Cause::Fragment("refunds".into()),
                Some(200),
                "#refunds missing on target",
            ),
        );
        l.insert(
            "http://h/help/privacy".into(),
            status(LinkVerdict::Dead, Cause::Status, Some(404), "404 Not Found"),
        );
        l.insert(
            "https://status.example/".into(),
            status(
                LinkVerdict::Unverified,
                Cause::Status,
                Some(403),
                "403 Forbidden: the site turns automated checkers away",
            ),
        );
        p
    }

    fn journey(steps: Vec<StepTrace>) -> Trace {
        Trace {
            scenario: "help".into(),
            file: "scenarios/help.yaml".into(),
            monthly_users: 100.0,
            steps,
            ..Trace::default()
        }
    }

    fn run(traces: &[Trace], probes: &Probes) -> Vec<Finding> {
        let config = Config::default();
        DeadLinks.run(&Audit {
            traces,
            config: &config,
            probes,
        })
    }

    #[test]
    fn dead_links_are_found_once_per_page_with_status_text_and_region() {
        let page = help_page();
        let t = journey(vec![
            StepTrace {
                index: 1,
                page: Some(page.clone()),
                ..StepTrace::default()
            },
            StepTrace {
                index: 2,
                page: Some(page),
                ..StepTrace::default()
            },
        ]);
        let found = run(&[t], &probes());
        let elements: Vec<&str> = found.iter().map(|f| f.element.as_str()).collect();
        assert_eq!(
            elements,
            [
                "link \"Two-step verification\" → /help/articles/two-step",
                "link \"How refunds work\" → /help/articles/billing#refunds",
                "link \"Privacy\" → /help/privacy",
                "link \"Status\" → https://status.example/",
            ]
        );
        let privacy = &found[2];
        assert_eq!(privacy.kind, Kind::DeadLink);
        assert_eq!(privacy.step, Some(1));
        assert!(!privacy.on_path);
        assert_eq!(privacy.severity, Severity::Problem);
        assert_eq!(
            privacy.message,
            "The \"Privacy\" link in the footer on \"How can we help?\" leads to a page that is not there (404 Not Found)."
        );
        assert!(
            found[1]
                .message
                .contains("not the section it points to (#refunds missing on target)")
        );
        let status = &found[3];
        assert_eq!(status.severity, Severity::Warning);
        assert!(!status.blocking);
        assert!(
            status.message.contains("could not be checked"),
            "{}",
            status.message
        );
    }

    #[test]
    fn the_same_dead_target_on_two_pages_is_one_problem() {
        let mut article = help_page();
        article.url = "http://h/help/articles/reset-password".into();
        let t = journey(vec![
            StepTrace {
                index: 1,
                page: Some(help_page()),
                ..StepTrace::default()
            },
            StepTrace {
                index: 2,
                page: Some(article),
                ..StepTrace::default()
            },
        ]);
        let found = run(std::slice::from_ref(&t), &probes());
        let privacy: Vec<&Finding> = found
            .iter()
            .filter(|f| f.element.contains("Privacy"))
            .collect();
        assert_eq!(privacy.len(), 2, "found on each page: {found:#?}");
        assert_eq!(privacy[0].id, privacy[1].id);
        let ranked = crate::rank::rank(found.clone(), &[t], &Config::default());
        let rows = ranked
            .iter()
            .filter(|f| f.element.contains("Privacy"))
            .count();
        assert_eq!(rows, 1, "one row for one broken target");
        // Another target, or the same path on another site, is another problem.
        assert_ne!(
            target_key("http://h/help/privacy"),
            target_key("https://other.example/help/privacy")
        );
        assert_eq!(
            target_key("http://h:8080/help/privacy"),
            target_key("http://h:9090/help/privacy")
        );
    }

    #[test]
    fn a_clicked_dead_link_is_on_the_path_and_blocks_when_the_journey_stopped_there() {
        let page = help_page();
        let mut t = journey(vec![
            StepTrace {
                index: 1,
                page: Some(page),
                ..StepTrace::default()
            },
            StepTrace {
                index: 2,
                clicked: Some(Clicked {
                    name: "Two-step verification".into(),
                    role: "link".into(),
                    href: Some("http://h/help/articles/two-step".into()),
                    ambiguity: None,
                }),
                ..StepTrace::default()
            },
        ]);
        let found = run(std::slice::from_ref(&t), &probes());
        let two_step = found
            .iter()
            .find(|f| f.element.contains("Two-step"))
            .expect("found");
        assert!(two_step.on_path);
        assert!(!two_step.blocking);
        assert!(
            two_step
                .message
                .ends_with("The journey follows it; a user who does is stuck.")
        );
        t.status = JourneyStatus::Blocked;
        t.blocked_at_step = Some(3);
        let found = run(&[t], &probes());
        let two_step = found
            .iter()
            .find(|f| f.element.contains("Two-step"))
            .expect("found");
        assert!(two_step.blocking);
        assert_eq!(two_step.severity, Severity::Blocker);
    }

    #[test]
    fn a_clicked_link_whose_page_draws_not_found_is_dead_at_that_step() {
        let mut help = help_page();
        help.links
            .push(link("Moving house", "http://h/help/moving-house", "main"));
        let drawn = |text: &str| PageState {
            url: "http://h/help/moving-house".into(),
            status: Some(200),
            title: "Help".into(),
            text: text.into(),
            ..PageState::default()
        };
        let mut t = journey(vec![
            StepTrace {
                index: 1,
                page: Some(help),
                ..StepTrace::default()
            },
            StepTrace {
                index: 2,
                clicked: Some(Clicked {
                    name: "Moving house".into(),
                    role: "link".into(),
                    href: Some("http://h/help/moving-house".into()),
                    ambiguity: None,
                }),
                page: Some(drawn("Help centre\nPage not found\nBack to help")),
                ..StepTrace::default()
            },
        ]);
        t.status = JourneyStatus::Blocked;
        t.blocked_at_step = Some(3);
        // The prober read the app's shell and found it fine.
        let mut probes = probes();
        probes.links.insert(
            "http://h/help/moving-house".into(),
            status(LinkVerdict::Ok, Cause::Fine, Some(200), "200 OK"),
        );
        let found = run(std::slice::from_ref(&t), &probes);
        let moving = found
            .iter()
            .find(|f| f.element.contains("Moving house"))
            .expect("a dead-link finding for the clicked link");
        assert!(moving.on_path && moving.blocking, "{moving:#?}");
        assert_eq!(
            moving.message,
            "The \"Moving house\" link on \"How can we help?\" leads to a page that is not \
             there: it shows 'Page not found' (answered 200). The journey follows it; a user \
             who does is stuck."
        );
        // A page that only mentions "not found" in its text is a page.
        if let Some(p) = t.steps[1].page.as_mut() {
            *p = drawn(
                "Help centre\nMoving house\nTell us your new address before you move. If \
                 your postcode is not found, type the address by hand; we check it within a \
                 day and write to you at both addresses so nothing is lost on the way.",
            );
        }
        let found = run(&[t], &probes);
        assert!(!found.iter().any(|f| f.element.contains("Moving house")));
    }

    #[test]
    fn the_only_link_in_a_page_without_controls_is_the_way_onward() {
        let page = PageState {
            url: "http://h/registered".into(),
            title: "Check your mail".into(),
            links: vec![
                link("Privacy", "http://h/help/privacy", "footer"),
                link("Continue", "http://h/help/articles/two-step", "main"),
            ],
            ..PageState::default()
        };
        let found = run(
            &[journey(vec![StepTrace {
                index: 1,
                page: Some(page),
                ..StepTrace::default()
            }])],
            &probes(),
        );
        let onward = found
            .iter()
            .find(|f| f.element.contains("Continue"))
            .expect("found");
        assert!(onward.on_path);
        let footer = found
            .iter()
            .find(|f| f.element.contains("Privacy"))
            .expect("found");
        assert!(!footer.on_path);
    }

    #[test]
    fn a_section_the_rendered_page_has_is_not_reported() {
        let billing = PageState {
            url: "http://h/help/articles/billing".into(),
            anchors: vec!["refunds".into()],
            ..PageState::default()
        };
        let t = journey(vec![
            StepTrace {
                index: 1,
                page: Some(help_page()),
                ..StepTrace::default()
            },
            StepTrace {
                index: 2,
                page: Some(billing),
                ..StepTrace::default()
            },
        ]);
        let found = run(&[t], &probes());
        assert!(
            found.iter().all(|f| !f.element.contains("refunds")),
            "{found:#?}"
        );
        assert_eq!(found.len(), 3);
    }

    #[test]
    fn live_skipped_and_unprobed_links_raise_nothing() {
        let mut probes = Probes::default();
        probes.links.insert(
            "http://h/help/privacy".into(),
            status(LinkVerdict::Skipped, Cause::NotChecked, None, "offline"),
        );
        let t = journey(vec![StepTrace {
            index: 1,
            page: Some(help_page()),
            ..StepTrace::default()
        }]);
        assert!(run(&[t], &probes).is_empty());
    }

    #[test]
    fn forms_and_buttons_are_named_for_what_they_are() {
        let page = PageState {
            url: "http://h/search".into(),
            forms: vec![crate::trace::Form {
                action: "http://h/find".into(),
                method: "get".into(),
                id: String::new(),
            }],
            ..PageState::default()
        };
        let mut p = Probes::default();
        p.links.insert(
            "http://h/find".into(),
            status(
                LinkVerdict::Dead,
                Cause::Status,
                Some(500),
                "500 Internal Server Error",
            ),
        );
        let found = run(
            &[journey(vec![StepTrace {
                index: 1,
                page: Some(page),
                ..StepTrace::default()
            }])],
            &p,
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].element, "form → /find");
        assert!(
            found[0]
                .message
                .contains("leads to an error page (500 Internal Server Error)")
        );
    }
}
