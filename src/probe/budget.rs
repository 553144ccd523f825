//! How many link targets one run probes: the first `limits.targets_per_run` distinct web
//! addresses in the order the journeys met them (journeys in scenario order, steps in
//! order, links in document order), so a page with 50 000 links costs bounded memory and
//! time, and which links were checked never depends on timing (a baseline does not flap).
//!
//! It only chooses; it never requests anything. What it leaves out is said once, as a
//! [`Cut`], never as one line per link.

use std::collections::HashSet;

use super::links::{Origin, Via};
use super::status::{Cut, CutOf};

/// The targets to probe, in their order, and what was left out. Targets that are not web
/// addresses (`mailto:`, `tel:`, `javascript:`) cost no request and are always kept, as are
/// further targets of an address already kept (another `#fragment`, another page linking
/// to it).
/// The links of captured messages come first: a journey met only a handful, and whether
/// the link a portal mailed works matters more than the 5 001st link of a page.
pub(crate) fn within(
    mut targets: Vec<(String, Origin)>,
    limit: usize,
) -> (Vec<(String, Origin)>, Option<Cut>) {
    // Stable: the order within each group stays the order met.
    targets.sort_by_key(|(_, o)| !matches!(o.via, Via::Mail { .. }));
    let mut kept_addresses: HashSet<String> = HashSet::new();
    let mut left_addresses: HashSet<String> = HashSet::new();
    let mut kept = Vec::with_capacity(targets.len().min(limit.saturating_mul(2)));
    for (url, origin) in targets {
        let Some(address) = web_address(&url) else {
            kept.push((url, origin));
            continue;
        };
        if kept_addresses.contains(address) {
            kept.push((url, origin));
        } else if kept_addresses.len() < limit && !left_addresses.contains(address) {
            kept_addresses.insert(address.to_string());
            kept.push((url, origin));
        } else {
            left_addresses.insert(address.to_string());
        }
    }
    let cut = (!left_addresses.is_empty()).then(|| Cut {
        of: CutOf::Links,
        what: "link targets past limits.targets_per_run".to_string(),
        message: format!(
            "the pages link to {} web addresses; nocall checked the first {} the journeys met \
             and left {} unverified (`limits.targets_per_run` in nocall.yaml raises the limit)",
            kept_addresses.len() + left_addresses.len(),
            kept_addresses.len(),
            left_addresses.len()
        ),
    });
    (kept, cut)
}

/// The address a target asks for (its `#fragment` aside), when it is a web address.
fn web_address(url: &str) -> Option<&str> {
    let scheme = url.split_once(':')?.0.trim();
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return None;
    }
    Some(url.split('#').next().unwrap_or(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> (String, Origin) {
        (
            url.to_string(),
            Origin {
                page: "http://site.test/".into(),
                via: Via::Link,
            },
        )
    }

    #[test]
    fn the_first_addresses_met_are_kept_and_the_rest_counted_once() {
        let targets = vec![
            target("http://site.test/a"),
            target("tel:+14155552671"),
            target("http://site.test/b#top"),
            target("http://site.test/a#more"),
            target("http://site.test/c"),
            target("mailto:help@site.test"),
            target("http://site.test/d"),
            target("http://site.test/c#x"),
            target("http://site.test/b"),
        ];
        let (kept, cut) = within(targets, 2);
        let urls: Vec<&str> = kept.iter().map(|(u, _)| u.as_str()).collect();
        assert_eq!(
            urls,
            [
                "http://site.test/a",
                "tel:+14155552671",
                "http://site.test/b#top",
                "http://site.test/a#more",
                "mailto:help@site.test",
                "http://site.test/b",
            ]
        );
        let cut = cut.expect("two addresses were left out");
        assert_eq!(cut.of, CutOf::Links);
        assert!(
            cut.message.contains("4 web addresses")
                && cut.message.contains("first 2")
                && cut.message.contains("left 2 unverified")
                && cut.message.contains("limits.targets_per_run"),
            "{}",
            cut.message
        );
    }

    #[test]
    fn the_links_of_messages_are_kept_first() {
        let mail = (
            "http://site.test/welcome".to_string(),
            Origin {
                page: String::new(),
                via: Via::Mail { followed: false },
            },
        );
        let targets = vec![target("http://site.test/a"), mail.clone()];
        let (kept, cut) = within(targets, 1);
        assert_eq!(kept, vec![mail]);
        assert!(cut.is_some());
    }

    #[test]
    fn under_the_limit_nothing_is_cut_and_the_order_stays() {
        let targets = vec![target("http://site.test/b"), target("http://site.test/a")];
        let (kept, cut) = within(targets.clone(), 2);
        assert_eq!(kept, targets);
        assert!(cut.is_none());
    }
}
