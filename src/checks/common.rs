//! Helpers every check uses: one finding per id, how a person names a page, whether the
//! journey was stuck there, and text cut to fit a message.
//!
//! Pure functions of recorded traces, like the checks themselves; nothing here decides
//! whether something is a problem.

use crate::finding::{Finding, merge_by_id};
use crate::normalize::normalize;
use crate::trace::{Field, JourneyStatus, PageState, Trace, url_path};

/// The findings of one check, one per id. The same problem met again (another journey,
/// another step) adds its occurrence to the first finding instead of repeating it, so the
/// ranking still sees every journey that reaches it.
#[derive(Default)]
pub(in crate::checks) struct Findings {
    list: Vec<Finding>,
}

impl Findings {
    pub(super) fn push(&mut self, f: Finding) {
        self.list.push(f);
    }

    pub(super) fn into_vec(self) -> Vec<Finding> {
        merge_by_id(self.list, Finding::absorb)
    }
}

/// The journey got stuck on this page, at or after `step`: it is blocked, and the page it
/// was blocked on has the same path (a refused form usually re-renders the page it was on).
pub(in crate::checks) fn blocked_on_page(trace: &Trace, step: usize, url: &str) -> bool {
    if trace.status != JourneyStatus::Blocked {
        return false;
    }
    let Some(at) = trace.blocked_at_step.filter(|&b| b >= step) else {
        return false;
    };
    trace
        .page_at(at)
        .or_else(|| trace.page_before(at))
        .is_some_and(|p| p.path() == url_path(url))
}

/// How a person would refer to a page: "the login page", "the \"Lost your card?\" page".
/// Only the site's root (or its bare index page) is "the home page": `/index.php?title=…`
/// is whatever its title says.
pub(in crate::checks) fn page_phrase(url: &str, title: &str) -> String {
    const KINDS: [(&[&str], &str); 3] = [
        (&["login", "signin", "logon"], "the login page"),
        (
            &["register", "signup", "join", "createaccount", "enrol"],
            "the registration page",
        ),
        (
            &["forgot", "reset", "recover", "unlock"],
            "the password-reset page",
        ),
    ];
    let full = url_path(url);
    let (path, query) = full.split_once('?').unwrap_or((full.as_str(), ""));
    let last = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    // The page's own name: its last path segment, and the query keys that name pages (a
    // wiki's `title=Special:UserLogin`, a router's `page=register`) — not `next=/login`,
    // which names where the user goes after.
    let mut names = vec![normalize(last)];
    names.extend(
        url::form_urlencoded::parse(query.as_bytes())
            .filter(|(k, _)| ["title", "page", "action", "view", "route"].contains(&k.as_ref()))
            .map(|(_, v)| normalize(&v)),
    );
    if let Some((_, phrase)) = KINDS.iter().find(|(keys, _)| {
        names
            .iter()
            .any(|n| !n.is_empty() && keys.iter().any(|k| n.contains(k)))
    }) {
        return (*phrase).to_string();
    }
    let stem = last.split('.').next().unwrap_or_default();
    let root = last.is_empty() || ["index", "home", "default", "start"].contains(&stem);
    if root && query.is_empty() && !path.trim_start_matches('/').contains('/') {
        return "the home page".to_string();
    }
    // Titles often end in the site's name ("Lost your card? — Northwind"); the first part
    // is the page's own.
    let cut = [" — ", " – ", " | ", " - ", " · ", " :: "]
        .iter()
        .filter_map(|sep| title.find(sep))
        .min()
        .unwrap_or(title.len());
    let own = title.get(..cut).unwrap_or(title).trim();
    if own.is_empty() {
        format!("the page {path}")
    } else {
        format!("the \"{own}\" page")
    }
}

/// [`page_phrase`] for a recorded page.
pub(in crate::checks) fn page_of(page: &PageState) -> String {
    page_phrase(&page.url, &page.title)
}

/// The text with its first letter in capitals, to start a sentence.
pub(in crate::checks) fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A field a person sees and can type into or choose from (not hidden, not a button).
pub(crate) fn is_user_field(f: &Field) -> bool {
    f.visible
        && !matches!(
            f.input_type.as_str(),
            "hidden" | "submit" | "button" | "reset" | "image"
        )
}

/// Text shortened for an element name or a message, on a character boundary.
pub(in crate::checks) fn clip(text: &str, max: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max {
        return text;
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::*;
    use crate::finding::Kind;

    #[test]
    fn page_phrases_read_like_a_person_would_say_them() {
        assert_eq!(
            page_phrase("http://x/confer/login", "Log in"),
            "the login page"
        );
        assert_eq!(
            page_phrase("http://x/accounts/signup/", ""),
            "the registration page"
        );
        assert_eq!(
            page_phrase("http://x/card/lost", "Lost your card? — Northwind"),
            "the \"Lost your card?\" page"
        );
        assert_eq!(page_phrase("http://x/a/b?c=1", ""), "the page /a/b");
        // Only the root is the home page; a wiki's pages all live under /index.php.
        assert_eq!(page_phrase("http://x/", "Welcome — Acme"), "the home page");
        assert_eq!(
            page_phrase("http://x/index.php", "Main Page"),
            "the home page"
        );
        assert_eq!(
            page_phrase(
                "http://x/index.php?title=Special:WhatLinksHere",
                "What links here - Wiki"
            ),
            "the \"What links here\" page"
        );
        assert_eq!(
            page_phrase(
                "http://x/index.php?title=Special:UserLogin&returnto=Main",
                "Log in"
            ),
            "the login page"
        );
        assert_eq!(
            page_phrase(
                "http://x/w/index.php?title=Special:CreateAccount",
                "Create account"
            ),
            "the registration page"
        );
        assert_eq!(
            page_phrase("http://x/docs/home", "Docs home"),
            "the \"Docs home\" page"
        );
        assert_eq!(
            page_phrase("http://x/profile?next=/login", "Your profile"),
            "the \"Your profile\" page"
        );
        assert_eq!(capitalised("the login page"), "The login page");
    }

    #[test]
    fn clips_keep_whole_characters() {
        assert_eq!(clip("one  two\nthree", 40), "one two three");
        assert_eq!(clip("abcdefghij", 5), "abcd…");
    }

    #[test]
    fn findings_merge_by_id_and_keep_every_journey() {
        let login = page("/login", "Log in", "");
        let a = trace("a", &[], vec![open(1, login.clone())]);
        let b = trace("b", &[], vec![open(1, login.clone())]);
        let mut fs = Findings::default();
        fs.push(Finding::new(Kind::LabelMissing, &login.url, "x", "m").at(&a, Some(1)));
        fs.push(
            Finding::new(Kind::LabelMissing, &login.url, "x", "m")
                .blocking()
                .at(&b, Some(1)),
        );
        fs.push(Finding::new(Kind::LabelMissing, &login.url, "x", "m").at(&b, Some(1)));
        let v = fs.into_vec();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].occurrences.len(), 2);
        assert!(v[0].blocking);
        assert_eq!(v[0].severity, crate::finding::Severity::Blocker);
    }

    #[test]
    fn blocked_on_page_needs_the_same_path_at_or_after_the_step() {
        let login = page("/login", "Log in", "");
        let home = page("/home", "Home", "");
        let stuck = trace(
            "t",
            &[],
            vec![
                open(1, login.clone()),
                click(2, "Log in", login.clone()),
                failed_expect(3, "Welcome", login.clone()),
            ],
        );
        assert!(blocked_on_page(&stuck, 2, &login.url));
        assert!(!blocked_on_page(&stuck, 4, &login.url));
        assert!(!blocked_on_page(&stuck, 2, &home.url));
        let done = trace("t", &[], vec![open(1, login.clone())]);
        assert!(!blocked_on_page(&done, 1, &login.url));
    }
}
