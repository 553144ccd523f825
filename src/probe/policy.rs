//! The probing policy: which URLs nocall may request after the journeys, decided before
//! any request is made.
//!
//! nocall runs with real accounts, so a request is an act: a link that cancels an address,
//! signs out or deletes something does so whether a person or the prober opens it (many
//! servers route HEAD to the same handler as GET). This module decides, from the URL alone
//! and the project's `probe: {never, allow}` patterns, whether a link is opened, withheld
//! (a warning at 0 calls, never a request) or skipped. It makes no request and reads
//! nothing but its arguments.

use regex::Regex;
use url::Url;

pub use super::status::Withheld;

/// Where a URL to decide on was met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// A link, button or form target on a page a journey saw, or one the crawl found.
    PageLink,
    /// A link of a message an `email` step followed a link of.
    MailOfFollowed,
    /// A link of a message no journey followed a link of.
    MailOfOther,
    /// Where a redirect points.
    RedirectHop,
}

/// What to do with one URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    Open,
    /// Never requested; said as a warning.
    Withhold(Withheld),
    /// Never requested, and nothing said (the project asked for it).
    Skip(&'static str),
}

/// `nocall.yaml`'s `probe: {never: [...], allow: [...]}`, compiled.
#[derive(Debug, Clone, Default)]
pub struct ProbeRules {
    never: Vec<Glob>,
    allow: Vec<Glob>,
}

impl PartialEq for ProbeRules {
    fn eq(&self, other: &Self) -> bool {
        self.never == other.never && self.allow == other.allow
    }
}

/// A URL pattern: `*` matches anything; matched against `host[:port]/path[?query]`, or
/// against `/path[?query]` alone when it starts with `/`.
#[derive(Debug, Clone)]
struct Glob {
    source: String,
    re: Regex,
}

impl PartialEq for Glob {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Glob {
    fn new(pattern: &str) -> Option<Glob> {
        let pattern = pattern.trim();
        if pattern.is_empty() {
            return None;
        }
        let body: Vec<String> = pattern.split('*').map(regex::escape).collect();
        let re = Regex::new(&format!("(?i)^{}$", body.join(".*"))).ok()?;
        Some(Glob {
            source: pattern.to_string(),
            re,
        })
    }

    fn matches(&self, url: &Url) -> bool {
        let path_query = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        if self.source.starts_with('/') {
            return self.re.is_match(&path_query);
        }
        let host = url.host_str().unwrap_or_default();
        let hostport = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        self.re.is_match(&format!("{hostport}{path_query}"))
            || self.re.is_match(&format!("{host}{path_query}"))
    }
}

impl ProbeRules {
    /// Compiles the patterns; returns the first one that is not a pattern, if any.
    pub(crate) fn new(never: &[String], allow: &[String]) -> Result<ProbeRules, String> {
        let compile = |list: &[String]| -> Result<Vec<Glob>, String> {
            list.iter()
                .map(|p| Glob::new(p).ok_or_else(|| p.clone()))
                .collect()
        };
        Ok(ProbeRules {
            never: compile(never)?,
            allow: compile(allow)?,
        })
    }
}

/// Action words that withhold a link wherever they appear in its address.
const ACTS: [&str; 15] = [
    "invalidat",
    "cancel",
    "unsubscrib",
    "optout",
    "delet",
    "remov",
    "logout",
    "signout",
    "approv",
    "reject",
    "deactivat",
    "revok",
    "destroy",
    "declin",
    "logoff",
];
/// Action words of signing out (also in [`ACTS`]).
const SIGN_OUT: [&str; 3] = ["logout", "signout", "logoff"];
/// Action words that withhold a link only when it also carries a value (a query value or a
/// random path segment): a bare `/password/reset` is a form or an article, not an act.
const ACTS_WITH_VALUE: [&str; 6] = ["confirm", "verif", "activat", "reset", "accept", "unlock"];
/// Query keys whose value is a one-time credential.
const ONE_TIME_KEYS: [&str; 14] = [
    "token",
    "t",
    "code",
    "key",
    "otp",
    "sig",
    "signature",
    "hash",
    "nonce",
    "ticket",
    "auth",
    "oobcode",
    "state",
    "secret",
];

/// What to do with `url`, met at `source`. Only http(s) URLs reach this; other schemes
/// are decided by the caller.
pub(crate) fn decide(url: &Url, source: Source, rules: &ProbeRules) -> Decision {
    // Traces are masked before probing: a URL that carried a secret now carries the mask,
    // and is never asked for (the browser loaded it already; asking again would send the
    // mask, or worse).
    if decoded(url.as_str()).contains(crate::secrets::MASK) {
        return Decision::Skip("its address carried a secret");
    }
    if rules.never.iter().any(|g| g.matches(url)) {
        return Decision::Skip("probe.never matches it");
    }
    if rules.allow.iter().any(|g| g.matches(url)) {
        return Decision::Open;
    }
    if source == Source::MailOfOther {
        return Decision::Withhold(Withheld::OtherMessage);
    }
    let segments: Vec<String> = url
        .path_segments()
        .into_iter()
        .flatten()
        .map(decoded)
        .collect();
    // Where the user goes afterwards (`returnto=Special:ConfirmEmail`, `next=/reset`) and
    // what a list is filtered by (`tagfilter=mw-removed-redirect`) say nothing of what
    // opening this address does: their values are left out of the judgement.
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .map(|(k, v)| {
            if elsewhere_key(&k) {
                (k, String::new())
            } else {
                (k, v)
            }
        })
        .collect();
    let has_value =
        pairs.iter().any(|(_, v)| !v.is_empty()) || segments.iter().any(|s| looks_random(s));
    let mut parts: Vec<&str> = segments.iter().map(String::as_str).collect();
    for (k, v) in &pairs {
        parts.push(k);
        parts.push(v);
    }
    let words = words_of(&parts);
    // Signing out: never requested, and not said either when on a page. Every signed-in
    // page has such a link; a warning on each would bury the ones that matter, and it leads
    // nowhere a first-time user needs to go. In an e-mail it is said like any other.
    let page = matches!(source, Source::PageLink | Source::RedirectHop);
    if page
        && words
            .iter()
            .any(|w| SIGN_OUT.iter().any(|s| stem_match(w, s)))
    {
        return Decision::Skip("signing out is never requested");
    }
    for word in &words {
        if ACTS.iter().any(|s| stem_match(word, s)) {
            return Decision::Withhold(Withheld::Acts { word: word.clone() });
        }
    }
    if has_value {
        for word in &words {
            if ACTS_WITH_VALUE.iter().any(|s| stem_match(word, s)) {
                return Decision::Withhold(Withheld::Acts { word: word.clone() });
            }
        }
    }
    for (k, v) in &pairs {
        if !v.is_empty() && ONE_TIME_KEYS.contains(&k.to_ascii_lowercase().as_str()) {
            return Decision::Withhold(Withheld::OneTime {
                part: format!("`{k}`"),
            });
        }
    }
    if segments.iter().any(|s| looks_random(s)) || pairs.iter().any(|(_, v)| looks_random(v)) {
        return Decision::Withhold(Withheld::OneTime {
            part: "a random part".to_string(),
        });
    }
    Decision::Open
}

/// A query key whose value names another page or a filter, not an act of this one.
fn elsewhere_key(key: &str) -> bool {
    const KEYS: [&str; 24] = [
        "returnto",
        "returntoquery",
        "return",
        "returnurl",
        "next",
        "redirect",
        "redirectto",
        "redirecturi",
        "redirecturl",
        "camefrom",
        "continue",
        "destination",
        "dest",
        "goto",
        "back",
        "backurl",
        "referer",
        "referrer",
        "successurl",
        "from",
        "q",
        "query",
        "search",
        "sort",
    ];
    let k: String = key
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .flat_map(|c| c.to_lowercase())
        .collect();
    KEYS.contains(&k.as_str()) || k.contains("filter") || k.ends_with("tag") || k.ends_with("tags")
}

fn decoded(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// A word matches a stem when it starts with it and is at most 6 characters longer
/// (`invalidate`, `invalidation`, `deleted`; not `removable`).
fn stem_match(word: &str, stem: &str) -> bool {
    // "removable", "cancellable": a quality, not an act.
    word.starts_with(stem) && word.len() <= stem.len() + 6 && !word.ends_with("able")
}

/// Lowercase words of every part, split at non-alphanumerics and camelCase
/// (`Special:InvalidateEmail` → special, invalidate, email), with neighbouring pairs joined
/// too (`log-out` → logout).
fn words_of(parts: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for part in parts {
        let mut words: Vec<String> = Vec::new();
        let mut cur = String::new();
        let mut prev_lower = false;
        for c in part.chars() {
            if !c.is_alphanumeric() {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
                prev_lower = false;
                continue;
            }
            if c.is_uppercase() && prev_lower && !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
            cur.extend(c.to_lowercase());
        }
        if !cur.is_empty() {
            words.push(cur);
        }
        let joined: Vec<String> = words
            .windows(2)
            .map(|w| format!("{}{}", w[0], w[1]))
            .collect();
        out.extend(words);
        out.extend(joined);
    }
    out
}

/// A value that looks generated rather than written: a UUID, 32 or more token characters,
/// or 16 or more mixing letters and digits with high entropy.
pub(crate) fn looks_random(raw: &str) -> bool {
    let s = raw.trim();
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._~+/=-".contains(c))
    {
        return false;
    }
    if is_uuid(s) {
        return true;
    }
    let letters = s.chars().any(|c| c.is_ascii_alphabetic());
    let digits = s.chars().any(|c| c.is_ascii_digit());
    if s.len() >= 32 && (digits || !s.contains('-')) {
        return true;
    }
    if s.len() < 16 || !letters || !digits {
        return false;
    }
    let switches = s
        .as_bytes()
        .windows(2)
        .filter(|w| w[0].is_ascii_digit() != w[1].is_ascii_digit())
        .count();
    switches >= 2 && entropy(s) >= 3.0
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Shannon entropy in bits per character.
fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(raw: &str) -> Decision {
        decide(
            &Url::parse(raw).unwrap(),
            Source::PageLink,
            &ProbeRules::default(),
        )
    }

    fn withheld(raw: &str) -> bool {
        matches!(d(raw), Decision::Withhold(_) | Decision::Skip(_))
    }

    #[test]
    fn action_links_are_withheld() {
        for raw in [
            "http://wiki.test/wiki/Special:InvalidateEmail/0123456789abcdef0123456789abcdef",
            "http://x.test/logout",
            "http://x.test/log-out",
            "http://x.test/users/sign_out",
            "http://x.test/account/delete?id=5",
            "http://x.test/newsletter/unsubscribe",
            "http://x.test/confirm/0123456789abcdef0123456789abcdef",
            "http://x.test/verify?code=1234",
            "http://x.test/p?token=abc",
            "http://x.test/d/550e8400-e29b-41d4-a716-446655440000",
        ] {
            assert!(withheld(raw), "{raw} was opened");
        }
        let Decision::Withhold(Withheld::Acts { word }) =
            d("http://wiki.test/wiki/Special:InvalidateEmail/abc")
        else {
            panic!()
        };
        assert_eq!(word, "invalidate");
    }

    #[test]
    fn where_the_user_goes_next_and_list_filters_are_not_acts() {
        for raw in [
            "https://wiki.test/index.php?title=Special:UserLogin&returnto=Special:ConfirmEmail/4f9a0c2b7d1e8f3a6b5c9d0e1f2a3b4c",
            "https://wiki.test/index.php?title=Special:CreateAccount&returnto=Special:PasswordReset",
            "https://wiki.test/index.php?title=Special:RecentChanges&tagfilter=mw-removed-redirect",
            "https://shop.test/login?next=/account/delete",
        ] {
            assert!(!withheld(raw), "{raw}");
        }
        // The address's own act still counts.
        assert!(withheld(
            "https://wiki.test/index.php?title=Special:InvalidateEmail&returnto=Main_Page"
        ));
        assert!(withheld("https://shop.test/account/delete?next=/"));
    }

    #[test]
    fn plain_pages_and_articles_are_opened() {
        for raw in [
            "http://x.test/",
            "http://x.test/help/articles/reset-password",
            "http://x.test/password/reset",
            "http://x.test/help/how-do-i-reset-my-password",
            "http://x.test/help/removable-media-guide-for-everyone",
            "http://x.test/search?q=card",
            "http://x.test/help#refunds",
            "http://x.test/confer/login",
        ] {
            assert_eq!(d(raw), Decision::Open, "{raw}");
        }
    }

    #[test]
    fn rules_adjust_and_other_messages_are_withheld() {
        let rules = ProbeRules::new(&["*/private/*".into()], &["*/logout".into()]).unwrap();
        let u = |s: &str| Url::parse(s).unwrap();
        assert_eq!(
            decide(&u("http://x.test/logout"), Source::PageLink, &rules),
            Decision::Open
        );
        assert!(matches!(
            decide(&u("http://x.test/private/a"), Source::PageLink, &rules),
            Decision::Skip(_)
        ));
        assert_eq!(
            decide(&u("http://x.test/help"), Source::MailOfOther, &rules),
            Decision::Withhold(Withheld::OtherMessage)
        );
        let by_path = ProbeRules::new(&[], &["/account/*".into()]).unwrap();
        assert_eq!(
            decide(
                &u("http://x.test:8080/account/delete"),
                Source::PageLink,
                &by_path
            ),
            Decision::Open
        );
        assert!(ProbeRules::new(&[" ".into()], &[]).is_err());
    }

    #[test]
    fn random_values() {
        assert!(looks_random("0123456789abcdef0123456789abcdef"));
        assert!(looks_random("aZ3kP9qL2mX7vB1n"));
        assert!(!looks_random("aaaaaaaaaaaaaaa1"));
        assert!(!looks_random("how-do-i-reset-my-password"));
        assert!(!looks_random("card"));
    }
}
