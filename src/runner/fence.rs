//! Keeps a journey's tab off cloud-metadata and private addresses (issue 17): a portal
//! page, a redirect or an embedded frame pointing at `169.254.169.254` or another loopback
//! or private address must not make Chromium request it from a CI runner.
//!
//! Chromium is asked (`Fetch.enable`) to pause only requests whose URL could name such an
//! address — URL patterns for the private IP prefixes and the metadata names — so the
//! portal's own requests cost nothing extra. A paused request is judged here by the
//! prober's own rules ([`crate::probe::guard`]: which addresses are off limits, which hosts
//! are exempt) and failed or let go by the connection at once (see `cdp.rs`). Only IP
//! literals, `localhost` names and the metadata names are judged: a name is never resolved
//! here. Frames and workers in processes of their own start paused and are fenced before
//! they run. The scenario's
//! own start host and `allowed_hosts` stay reachable; `--allow-private` turns it all off.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::probe::guard::{Exempt, forbidden};

/// Names that reach a cloud's metadata service without an address in them.
const METADATA_NAMES: [&str; 2] = ["metadata.google.internal", "metadata.goog"];

/// What a journey's tab may not request, and the patterns that pause what might be it.
#[derive(Debug)]
pub(crate) struct Fence {
    exempt: Exempt,
    patterns: Vec<String>,
    /// `localhost` and its subdomains are off limits: Chromium maps them to loopback
    /// without asking DNS, so they are judged by name. A journey that starts on a loopback
    /// host may reach them (a local portal's own frames often use either spelling).
    loopback_names: bool,
}

impl Fence {
    /// The fence of a journey whose own hosts are `own` (its start host) plus
    /// `allowed_hosts`.
    pub(crate) fn new(own: &[String], allowed: Option<&[String]>) -> Fence {
        let own_set: HashSet<String> = own.iter().map(|h| h.to_ascii_lowercase()).collect();
        let exempt = Exempt::new(&own_set, allowed, false);
        let mut literal: Vec<String> = own_set.iter().cloned().collect();
        literal.extend(
            allowed
                .unwrap_or_default()
                .iter()
                .map(|a| a.trim().to_ascii_lowercase()),
        );
        let loopback_names = !literal.iter().any(|h| is_loopback(h));
        literal.retain(|h| h.parse::<std::net::Ipv4Addr>().is_ok());
        Fence {
            exempt,
            patterns: patterns(&literal, loopback_names),
            loopback_names,
        }
    }

    /// Why `url` may not be requested (`"169.254.169.254 is a link-local address"`), if so.
    pub(crate) fn blocks(&self, url: &str) -> Option<String> {
        let u = url::Url::parse(url).ok()?;
        let host = u.host_str()?.to_ascii_lowercase();
        let name = host.trim_end_matches('.');
        if METADATA_NAMES.contains(&name) {
            return Some(format!("{name} is a cloud metadata address"));
        }
        if is_loopback_name(name) {
            return (self.loopback_names && !self.exempt.covers(name))
                .then(|| format!("{name} is a loopback address"));
        }
        let ip = match u.host()? {
            url::Host::Ipv4(v4) => std::net::IpAddr::V4(v4),
            url::Host::Ipv6(v6) => std::net::IpAddr::V6(v6),
            url::Host::Domain(_) => return None,
        };
        let kind = forbidden(ip)?;
        if self.exempt.covers(&host) {
            return None;
        }
        Some(format!("{host} is a {kind} address"))
    }

    /// `Fetch.enable`'s parameters: pause, at the request stage, only what the patterns
    /// match.
    pub(crate) fn enable_params(&self) -> Value {
        let patterns: Vec<Value> = self
            .patterns
            .iter()
            .map(|p| json!({"urlPattern": p, "requestStage": "Request"}))
            .collect();
        json!({"patterns": patterns})
    }
}

/// `localhost` or a name under it.
fn is_loopback_name(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    host == "localhost" || host.ends_with(".localhost")
}

/// A host (name or literal) that is this machine.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    is_loopback_name(bare)
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The IPv4 prefixes (as written in a URL) that hold off-limits addresses.
fn v4_prefixes() -> Vec<String> {
    let mut out: Vec<String> = [
        "127.", "10.", "192.168.", "169.254.", "0.", "198.18.", "198.19.",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    out.extend((16..32).map(|b| format!("172.{b}.")));
    out.extend((64..128).map(|b| format!("100.{b}.")));
    out
}

/// URL patterns (`*` any run, `?` one character) that match every URL whose host is an
/// off-limits literal, a metadata name or (with `loopback_names`) a `localhost` name — and,
/// so that an exempt host's requests are never paused, none whose host is one of `exempt`
/// (dotted IPv4 literals): a prefix that holds an exempt address is spelled out around it,
/// one character at a time.
fn patterns(exempt: &[String], loopback_names: bool) -> Vec<String> {
    let mut hosts = Vec::new();
    for prefix in v4_prefixes() {
        let inside: Vec<&String> = exempt.iter().filter(|e| e.starts_with(&prefix)).collect();
        if inside.is_empty() {
            hosts.push(prefix);
        } else {
            around(&prefix, &inside, &mut hosts);
        }
    }
    for v6 in [
        "[::1]",
        "[fc",
        "[fd",
        "[fe8",
        "[fe9",
        "[fea",
        "[feb",
        "[::ffff:",
        "[64:ff9b::",
        "[::]",
    ] {
        hosts.push(v6.to_string());
    }
    let loopback: &[&str] = if loopback_names {
        &["localhost", "*.localhost"]
    } else {
        &[]
    };
    for name in METADATA_NAMES.iter().chain(loopback) {
        hosts.push(format!("{name}/"));
        hosts.push(format!("{name}:"));
        hosts.push(format!("{name}./"));
    }
    hosts.into_iter().map(|h| format!("*://{h}*")).collect()
}

/// Host prefixes that, together, match every host starting with `prefix` except the
/// `exempt` ones: each character that may come next is a prefix of its own, and one that
/// leads to an exempt host is spelled out further. Where an exempt host ends, only longer
/// hosts (127.0.0.10 beside 127.0.0.1) are matched, never the host followed by `:` or `/`.
fn around(prefix: &str, exempt: &[&String], out: &mut Vec<String>) {
    const NEXT: [char; 11] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '.'];
    for c in NEXT {
        let longer = format!("{prefix}{c}");
        let inside: Vec<&String> = exempt
            .iter()
            .copied()
            .filter(|e| e.starts_with(&longer))
            .collect();
        if inside.is_empty() {
            out.push(longer);
        } else {
            around(&longer, &inside, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether a URL pattern matches, as Chromium reads one (`*` any run, `?` one char).
    fn matches(pattern: &str, url: &str) -> bool {
        fn go(p: &[char], u: &[char]) -> bool {
            match p.split_first() {
                None => u.is_empty(),
                Some(('*', rest)) => (0..=u.len()).any(|i| go(rest, &u[i..])),
                Some(('?', rest)) => !u.is_empty() && go(rest, &u[1..]),
                Some((c, rest)) => u.first() == Some(c) && go(rest, &u[1..]),
            }
        }
        let p: Vec<char> = pattern.chars().collect();
        let u: Vec<char> = url.chars().collect();
        go(&p, &u)
    }

    fn paused(f: &Fence, url: &str) -> bool {
        f.patterns.iter().any(|p| matches(p, url))
    }

    #[test]
    fn metadata_and_private_literals_are_paused_and_blocked() {
        let f = Fence::new(&["127.0.0.1".into()], None);
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://127.0.0.2:8080/inner",
            "http://10.1.2.3/",
            "http://172.20.0.1/",
            "http://192.168.1.1/admin",
            "http://[fd00:ec2::254]/",
            "http://[::1]:9/",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://127.0.0.10/",
            "http://127.0.0.100:80/",
        ] {
            assert!(paused(&f, url), "{url} is paused");
            assert!(f.blocks(url).is_some(), "{url} is blocked");
        }
        assert!(
            f.blocks("http://169.254.169.254/")
                .unwrap()
                .contains("link-local"),
            "{:?}",
            f.blocks("http://169.254.169.254/")
        );
    }

    #[test]
    fn the_journeys_own_host_and_public_sites_are_never_paused() {
        let f = Fence::new(&["127.0.0.1".into()], Some(&["10.0.0.5".into()]));
        for url in [
            "http://127.0.0.1:8080/spa/api/view?path=/x",
            "http://127.0.0.1/",
            "http://10.0.0.5:3000/",
            "https://example.org/",
            "http://localhost:9/spa-frame/direct-debit",
            "http://10.example.org/",
        ] {
            assert!(f.blocks(url).is_none(), "{url} is not blocked");
        }
        for url in [
            "http://127.0.0.1:8080/spa/api/view?path=/x",
            "http://10.0.0.5:3000/",
            "https://example.org/",
        ] {
            assert!(!paused(&f, url), "{url} costs nothing");
        }
        assert!(paused(&f, "http://10.0.0.50/"));
        assert!(paused(&f, "http://10.0.0.6/"));
    }

    #[test]
    fn localhost_is_fenced_unless_the_journey_itself_is_on_loopback() {
        let public = Fence::new(&["portal.example.org".into()], None);
        for url in [
            "http://localhost:8080/admin",
            "http://localhost/",
            "http://api.localhost:3000/x",
            "http://localhost./",
        ] {
            assert!(paused(&public, url), "{url} is paused");
            let why = public.blocks(url).unwrap_or_default();
            assert!(why.contains("loopback"), "{url}: {why:?}");
        }
        assert!(public.blocks("http://localhostel.example/").is_none());
        assert!(!paused(&public, "https://portal.example.org/"));
        // Allowed by name.
        let allowed = Fence::new(&["portal.example.org".into()], Some(&["localhost".into()]));
        assert!(allowed.blocks("http://localhost:8080/").is_none());
        // A journey on loopback reaches its own machine by either spelling.
        for own in ["127.0.0.1", "localhost", "[::1]"] {
            let local = Fence::new(&[own.into()], None);
            assert!(local.blocks("http://localhost:9/frame").is_none(), "{own}");
            assert!(!paused(&local, "http://localhost:9/frame"), "{own}");
        }
    }
}
